"""Per-group comparisons with replication intervals (docs/experiments.md "Groups";
``censim groups``): a scenario with user groups run on ``reps`` seeds, each group's
rates (deletion, withholding, detentions per 1,000 users) with t and bootstrap
intervals over the replications, and each group's difference from a reference group, paired within a
replication (both groups live in the same run, under the same platforms, thresholds
and news, so the difference is the groups' own, not the runs').
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.engine.simulation import Simulation
from simulator.errors import ScenarioError
from simulator.experiments.intervals import COUNT, SHARE, UNBOUNDED, interval_columns
from simulator.model.scenario import Scenario
from simulator.output.groups import GROUP_RATES
from simulator.streams import replication_seeds


@dataclass
class GroupComparison:
    """``table``: one row per group and rate, with the mean over replications and its
    intervals (``low`` / ``high``: t, clipped to what the rate can be; ``boot_low`` /
    ``boot_high``: percentile bootstrap), and the paired difference from ``against``
    with its (``minus_against_low`` ... ``minus_against_boot_high``);
    ``per_replication``: replication, group and each rate."""

    scenario: str
    against: str
    reps: int
    table: pd.DataFrame
    per_replication: pd.DataFrame


def group_rates(scenario: Scenario, seed: int) -> dict[str, dict[str, float]]:
    """One rules run's per-group rates (:data:`GROUP_RATES`); the counterfactual is not
    needed for them."""
    simulation = Simulation(scenario, seed)
    recorder = simulation.run()
    assert recorder.groups is not None
    summary = recorder.groups.summary()
    return {name: {rate: float(row[rate]) for rate in GROUP_RATES} for name, row in summary.items()}


def compare_groups(
    scenario: Scenario,
    *,
    reps: int = 5,
    seed: int | None = None,
    against: str | None = None,
    rates: Sequence[str] = GROUP_RATES,
    level: float = 0.95,
) -> GroupComparison:
    """Run ``scenario`` on ``reps`` seeds and compare its groups' ``rates``; ``against``:
    the reference group (default: the largest)."""
    if not scenario.groups:
        raise ScenarioError(
            scenario.name, [("groups", "none", "this scenario has no [[groups]] to compare")]
        )
    names = [g.name for g in scenario.groups]
    if against is None:
        against = max(scenario.groups, key=lambda g: g.share).name
    if against not in names:
        raise ScenarioError("--against", [("against", against, f"allowed: {', '.join(names)}")])
    unknown = [r for r in rates if r not in GROUP_RATES]
    if unknown:
        raise ScenarioError("--rates", [("rates", unknown, f"allowed: {', '.join(GROUP_RATES)}")])
    if reps < 1:
        raise ScenarioError("--reps", [("reps", reps, "at least 1")])
    seeds = replication_seeds(scenario.seed if seed is None else int(seed), reps)
    runs = [group_rates(scenario, s) for s in seeds]
    records = [
        {"replication": r, "group": name, **run[name]}
        for r, run in enumerate(runs)
        for name in names
    ]
    rows = []
    for name in names:
        for rate in rates:
            values = np.array([run[name][rate] for run in runs])
            base = np.array([run[against][rate] for run in runs])
            # A rate is a share (its difference within [-1, 1]); detentions per 1,000
            # users a count (its difference unbounded).
            share = rate != "detentions_per_1000_users"
            domain, difference = (SHARE, (-1.0, 1.0)) if share else (COUNT, UNBOUNDED)
            paired = interval_columns(values - base, difference, "", level)
            rows.append(
                {"group": name, "rate": rate}
                | interval_columns(values, domain, "", level)
                | {
                    ("minus_against" if key == "mean" else f"minus_against_{key}"): value
                    for key, value in paired.items()
                }
            )
    return GroupComparison(scenario.name, against, reps, pd.DataFrame(rows), pd.DataFrame(records))
