"""The tables of a finished sweep: ``summary.csv`` (per point: mean, t-based and
bootstrap 95% intervals of the main metrics) and ``long.csv`` (one row per point x replication x
metric), assembled in (point, replication) order so the bytes never depend on which
worker finished first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simulator.experiments.designs import Design
from simulator.experiments.intervals import interval_columns, metric_domain
from simulator.experiments.intervals import t_interval as t_interval  # kept: teaching names it

SUMMARY_METRICS = (
    "speech_loss",
    "chilling_effect",
    "collateral_share",
    "over_removal_share",
    "removed_within_24h",
    "fines_total",
    "users_final.excluded",
    "users_final.detained_ever",
    "political_speech_lost",
    "lawful_takedown_rate",
    "unlawful_exposure_prevented",
    "lawful_exposure_lost",
)
#: Largest design accepted (points x replications), to catch a mistyped grid early.


def _cell(value: Any) -> Any:
    # Lists and tables (e.g. a list of prohibited kinds) go into one CSV cell as JSON.
    return json.dumps(value) if isinstance(value, list | dict) else value


def long_table(records: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> pd.DataFrame:
    """One row per point x replication x metric, sorted by point, replication, metric."""
    rows = []
    for record in sorted(records, key=lambda r: (r["point"], r["replication"])):
        base = {
            "point": record["point"],
            "replication": record["replication"],
            "seed": record["seed"],
        }
        for name in fields:
            base[name] = _cell(record["values"].get(name))
        for metric in sorted(record["metrics"]):
            value = record["metrics"][metric]
            rows.append({**base, "metric": metric, "value": np.nan if value is None else value})
    columns = ["point", "replication", "seed", *fields, "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def summary_table(
    long: pd.DataFrame, design: Design, metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per point: the fields' values, replications, and per metric (``SUMMARY_METRICS``
    where the model reports them, else all) ``_mean``, ``_low`` / ``_high`` (the t-based
    95% interval clipped to the metric's domain) and ``_boot_low`` / ``_boot_high`` (the
    percentile bootstrap one): :func:`~simulator.experiments.intervals.interval_columns`."""
    available = list(dict.fromkeys(long["metric"])) if len(long) else []
    if metrics is None:
        chosen = [m for m in SUMMARY_METRICS if m in available] or sorted(available)
    else:
        chosen = list(metrics)
    groups = {
        key: frame["value"].to_numpy(dtype=float)
        for key, frame in long.groupby(["point", "metric"], sort=False)
    }
    reps = long.groupby("point")["replication"].nunique().to_dict() if len(long) else {}
    empty = np.array([], dtype=float)
    rows = []
    for point, values in enumerate(design.points):
        row: dict[str, Any] = {"point": point}
        for name in design.fields:
            row[name] = _cell(values.get(name))
        row["reps"] = int(reps.get(point, 0))
        for metric in chosen:
            row.update(
                interval_columns(
                    groups.get((point, metric), empty), metric_domain(metric), f"{metric}_"
                )
            )
        rows.append(row)
    return pd.DataFrame(rows)
