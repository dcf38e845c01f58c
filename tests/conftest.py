"""Shared helpers: shipped scenarios at reduced size, run once per test process."""

from __future__ import annotations

import functools
import os
from typing import Any

import matplotlib
import pandas as pd

import simulator
from simulator.output.results import Results

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

OUTCOMES = ["withheld", "excluded", "blocked", "removed", "surviving", "softened"]


def reduced(name: str, users: int = 1500, days: int = 30, **changes: Any) -> simulator.Scenario:
    """A shipped scenario with fewer users and days (and any dotted overrides)."""
    scenario = simulator.load_scenario(name)
    return simulator.override(
        scenario,
        {"population.users": users, "horizon_days": days, **changes},
        source=f"reduced {name}",
    )


@functools.lru_cache(maxsize=32)
def run_reduced(name: str, users: int = 1500, days: int = 30, seed: int = 7) -> Results:
    """Cached reduced run (treat the result as read-only)."""
    return simulator.run(reduced(name, users, days), seed=seed)


def conservation_gap(daily: pd.DataFrame) -> int:
    """Largest |intended - sum of outcomes| over the rows of a daily table, a critical
    row's intended posts counted with the posts softened into it (the same day,
    platform and channel's softened calls to act and unlawful posts: docs/metrics.md)."""
    softened_in = daily.groupby(["day", "platform", "channel"], sort=False)["softened"].transform(
        "sum"
    )
    said = daily["intended"] + softened_in.where(daily["kind"] == "critical", 0)
    return int((said - daily[OUTCOMES].sum(axis=1)).abs().max())
