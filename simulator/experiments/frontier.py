"""The policy frontier: lawful speech lost against unlawful exposure prevented, over
take-down deadlines, review staff and fines (issue 18 item 2; docs/experiments.md,
"The policy frontier").

Each lever setting is one point of a sweep (:func:`simulator.experiments.sweep`: every
point run ``reps`` times on common random numbers, each run paired with its no-rules
counterfactual), so differences between settings are the settings', not luck's. The
three levers are set on the scenario as:

- ``deadline_hours``: ``rules.takedown.deadline_hours`` (orders) and, where the scenario
  has notice duties, ``rules.takedown.notice_deadline_hours`` (both the same);
- ``reviewers``: every platform's ``reviewers_per_100k_users`` (for ``chosen`` staffing,
  the floor the weekly choice starts from: docs/model.md S6a);
- ``fines``: a factor on every fine of the penalty ladder (``amount``; ``turnover_share``
  too, capped at 1).

A setting is on the frontier (``efficient``) if no other setting prevents at least as
much unlawful exposure while losing at most as much lawful speech, one of them strictly
(by the replication means).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import OutputError
from simulator.experiments.designs import SweepError, points_design
from simulator.experiments.intervals import COUNT, SHARE, interval_columns
from simulator.experiments.store import atomic_text, writing_outputs
from simulator.experiments.sweeps import SweepResults, resolve_scenario, sweep
from simulator.model.scenario import Scenario

#: The levers, in the table's order.
LEVERS = ("deadline_hours", "reviewers_per_100k_users", "fine_factor")
#: The frontier's axes: x (the cost) and y (the benefit), then what else the table shows.
FRONTIER_METRICS = (
    "lawful_speech_lost",
    "unlawful_exposure_prevented",
    "unlawful_exposure_prevented_by_removal",
    "lawful_exposure_lost",
    "removed_within_1h",
    "removed_within_24h",
    "fines_total",
)


@dataclass
class FrontierResults:
    """A finished frontier: ``table`` (one row per lever setting: the levers, per metric
    its mean and t-interval, ``efficient``) and the sweep it came from."""

    table: pd.DataFrame
    sweep: SweepResults
    scenario: str
    users: int
    days: int

    @classmethod
    def read(cls, out: str | Path) -> FrontierResults:
        """A finished frontier read back from its folder (the sweep's store)."""
        results = SweepResults.read(out)
        levers = results.manifest.get("frontier", {}).get("levers")
        if not isinstance(levers, list):
            raise OutputError(f"{out}: a sweep, but not one `censim frontier` wrote")
        name, users, days = results.scenario_size()
        return cls(
            table=frontier_table(results.long, levers),
            sweep=results,
            scenario=name,
            users=users,
            days=days,
        )


def lever_points(
    scenario: Scenario,
    deadline_hours: Sequence[float] | None = None,
    reviewers: Sequence[float] | None = None,
    fines: Sequence[float] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, float]]]:
    """The sweep's points (dotted scenario fields) and each point's lever values, for
    every combination of the levers given (a lever not given keeps the scenario's)."""
    takedown = scenario.rules.takedown
    if not takedown.enabled:
        raise SweepError(
            f"frontier: scenario {scenario.name} has no take-down duty "
            "(rules.takedown.enabled = false): nothing to trade off"
        )
    base_reviewers = [p.reviewers_per_100k_users for p in scenario.platforms]
    levels = {
        "deadline_hours": list(deadline_hours) if deadline_hours else [takedown.deadline_hours],
        "reviewers_per_100k_users": list(reviewers) if reviewers else [float("nan")],
        "fine_factor": list(fines) if fines else [1.0],
    }
    for name, given in levels.items():
        for value in given:
            if value != value and name == "reviewers_per_100k_users":
                continue  # the scenario's own (NaN: not set)
            if not np.isfinite(value) or value < 0:
                raise SweepError(f"frontier: {name} {value} is not allowed; give numbers >= 0")
    ladder = scenario.rules.penalties.ladder
    points: list[dict[str, Any]] = []
    values: list[dict[str, float]] = []
    for deadline, staff, factor in itertools.product(*levels.values()):
        point: dict[str, Any] = {"rules.takedown.deadline_hours": float(deadline)}
        if takedown.notice_deadline_hours is not None:
            point["rules.takedown.notice_deadline_hours"] = float(deadline)
        if staff == staff:
            for platform in scenario.platforms:
                point[f"platforms.{platform.name}.reviewers_per_100k_users"] = float(staff)
        if factor != 1.0:
            for i, step in enumerate(ladder):
                if step.action == "fine":
                    point[f"rules.penalties.ladder.{i}.amount"] = step.amount * factor
                    point[f"rules.penalties.ladder.{i}.turnover_share"] = min(
                        1.0, step.turnover_share * factor
                    )
        points.append(point)
        values.append(
            {
                "deadline_hours": float(deadline),
                "reviewers_per_100k_users": float(staff)
                if staff == staff
                else float(np.mean(base_reviewers)),
                "fine_factor": float(factor),
            }
        )
    return points, values


def policy_frontier(
    scenario: Scenario | str | Path,
    *,
    deadline_hours: Sequence[float] | None = None,
    reviewers: Sequence[float] | None = None,
    fines: Sequence[float] | None = None,
    reps: int = 3,
    seed: int | None = None,
    users: int | None = None,
    days: int | None = None,
    workers: int | None = None,
    out: str | Path,
    force: bool = False,
    progress: bool = False,
    check_resources: bool = True,
) -> FrontierResults:
    """Sweep the levers' combinations on ``scenario`` (``users`` and ``days`` shrink it)
    and return the frontier table (also written to ``out/frontier.csv``)."""
    loaded = resolve_scenario(scenario)
    points, values = lever_points(loaded, deadline_hours, reviewers, fines)
    size = {}
    if users is not None:
        size["population.users"] = int(users)
    if days is not None:
        size["horizon_days"] = int(days)
    design = points_design([{**size, **point} for point in points], source="frontier")
    results = sweep(
        loaded, design, reps=reps, seed=seed, workers=workers, out=out, force=force,
        progress=progress, summary_metrics=FRONTIER_METRICS,
        extra_manifest={"frontier": {"levers": values}}, check_resources=check_resources,
    )  # fmt: skip
    table = frontier_table(results.long, values)
    with writing_outputs(results.out, ["frontier.csv"], results.manifest):
        # Whole or not at all, never through a symlink of that name (as the tables).
        atomic_text(Path(results.out) / "frontier.csv", table.to_csv(index=False))
    return FrontierResults(
        table=table,
        sweep=results,
        scenario=loaded.name,
        users=int(users if users is not None else loaded.population.users),
        days=int(days if days is not None else loaded.horizon_days),
    )


def frontier_table(long: pd.DataFrame, values: Sequence[dict[str, float]]) -> pd.DataFrame:
    """One row per lever setting (point): the levers, ``replications``, per metric of
    :data:`FRONTIER_METRICS` ``_mean``, ``_low``, ``_high`` (t-based 95% interval, clipped
    to [0, 1] for shares: a share cannot leave it), ``_boot_low``, ``_boot_high`` (the
    percentile bootstrap one; :func:`~simulator.experiments.intervals.interval_columns`),
    and ``efficient`` (on the frontier, by the means)."""
    rows = []
    for point, levers in enumerate(values):
        mine = long[long["point"] == point]
        row: dict[str, Any] = dict(levers)
        row["replications"] = int(mine["replication"].nunique())
        for metric in FRONTIER_METRICS:
            series = mine.loc[mine["metric"] == metric, "value"].to_numpy(dtype=float)
            domain = COUNT if metric == "fines_total" else SHARE
            row.update(interval_columns(series, domain, f"{metric}_"))
        rows.append(row)
    table = pd.DataFrame(rows)
    table["efficient"] = efficient(
        table["lawful_speech_lost_mean"].to_numpy(),
        table["unlawful_exposure_prevented_mean"].to_numpy(),
    )
    return table


def efficient(cost: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """Whether each setting is undominated: no other has ``cost`` at most and ``benefit``
    at least as large, one of them strictly."""
    cost, benefit = np.asarray(cost, dtype=float), np.asarray(benefit, dtype=float)
    no_worse = (cost[None, :] <= cost[:, None]) & (benefit[None, :] >= benefit[:, None])
    better = (cost[None, :] < cost[:, None]) | (benefit[None, :] > benefit[:, None])
    dominated = (no_worse & better).any(axis=1)
    result: np.ndarray = np.logical_not(dominated)
    return result
