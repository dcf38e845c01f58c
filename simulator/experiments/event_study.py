"""Event studies (issue 17 item 4): a scenario run with a timeline entry and without it,
on the same seeds, compared day by day around the entry's day (docs/experiments.md,
"Event studies").

Both runs of a replication use the same seed, so they share every random stream: the
days before the entry are identical (a timeline changes nothing before its day, which
``tests/test_timeline.py`` holds) and the difference after it is the entry's effect,
not noise. Replications use independent seeds (:func:`simulator.streams.replication_seeds`);
the intervals are the t and percentile bootstrap intervals of the paired differences
over them (:func:`~simulator.experiments.intervals.interval_columns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.engine.simulation import Simulation
from simulator.errors import ScenarioError
from simulator.experiments.intervals import COUNT, UNBOUNDED, interval_columns
from simulator.kinds import KIND_LABELS
from simulator.model.scenario import Scenario
from simulator.output.metrics import daily_table
from simulator.streams import replication_seeds

#: The outcome columns of daily.csv an event study can follow.
OUTCOMES = ("intended", "withheld", "softened", "excluded", "blocked", "removed", "surviving")

#: Political speech: the lawful sensitive kinds.
POLITICAL = ("critical", "collective_action")


@dataclass
class EventStudy:
    """An event study's table: one row per day, ``days_since`` the entry's day, with the
    mean outcome of the runs with the entry (``treated``) and without it (``control``)
    and their paired difference (``effect``), each with its replication interval."""

    scenario: str
    entry: str
    event_day: int
    outcome: str
    kinds: tuple[str, ...]
    reps: int
    table: pd.DataFrame
    per_replication: pd.DataFrame  # day, replication, treated, control
    users: int | None = None  # the scenario's population and horizon (figure titles)
    horizon_days: int | None = None


def without_entry(scenario: Scenario, entry: str) -> Scenario:
    """``scenario`` without the timeline entry named ``entry`` (the event's control)."""
    names = [e.name for e in scenario.timeline]
    if entry not in names:
        known = ", ".join(names) or "none"
        raise ScenarioError(
            scenario.name, [("timeline", entry, f"no such entry; the timeline has: {known}")]
        )
    kept = tuple(e for e in scenario.timeline if e.name != entry)
    return scenario.model_copy(update={"timeline": kept})


def daily_outcome(scenario: Scenario, seed: int, outcome: str, kinds: Sequence[str]) -> np.ndarray:
    """One run's daily total of ``outcome`` over the ``kinds`` (every platform and
    channel), the rules run only (the no-rules counterfactual is not needed here)."""
    simulation = Simulation(scenario, seed)
    recorder = simulation.run()
    names = [p.name for p in scenario.platforms] + ["circumvention"]
    daily = daily_table(recorder, scenario, names)
    chosen = daily[daily["kind"].isin(list(kinds))]
    totals = chosen.groupby("day")[outcome].sum()
    return totals.reindex(range(scenario.horizon_days), fill_value=0).to_numpy(dtype=float)


def event_study(
    scenario: Scenario,
    entry: str,
    *,
    reps: int = 8,
    seed: int | None = None,
    outcome: str = "withheld",
    kinds: Sequence[str] = POLITICAL,
    level: float = 0.95,
) -> EventStudy:
    """Run ``scenario`` with and without its timeline entry ``entry`` on ``reps`` paired
    seeds and tabulate ``outcome`` (a daily.csv column, summed over ``kinds``) by days
    since the entry's day."""
    if outcome not in OUTCOMES:
        raise ScenarioError("--outcome", [("outcome", outcome, f"allowed: {', '.join(OUTCOMES)}")])
    unknown = [k for k in kinds if k not in KIND_LABELS]
    if unknown or not kinds:
        raise ScenarioError(
            "--kinds", [("kinds", list(kinds), f"allowed: {', '.join(KIND_LABELS)}")]
        )
    if reps < 1:
        raise ScenarioError("--reps", [("reps", reps, "at least 1")])
    control_scenario = without_entry(scenario, entry)
    event_day = next(e.day for e in scenario.timeline if e.name == entry)
    seeds = replication_seeds(scenario.seed if seed is None else int(seed), reps)
    treated = np.array([daily_outcome(scenario, s, outcome, kinds) for s in seeds])
    control = np.array([daily_outcome(control_scenario, s, outcome, kinds) for s in seeds])
    rows = []
    for day in range(scenario.horizon_days):
        row: dict[str, float | int] = {"day": day, "days_since": day - event_day}
        for name, values in (
            ("treated", treated[:, day]),
            ("control", control[:, day]),
            ("effect", treated[:, day] - control[:, day]),
        ):
            # A day's count is never below 0 (the effect can be).
            domain = UNBOUNDED if name == "effect" else COUNT
            row |= interval_columns(values, domain, f"{name}_", level)
        rows.append(row)
    per_replication = pd.DataFrame(
        {
            "day": np.tile(np.arange(scenario.horizon_days), reps),
            "replication": np.repeat(np.arange(reps), scenario.horizon_days),
            "treated": treated.ravel(),
            "control": control.ravel(),
        }
    )
    return EventStudy(
        scenario.name, entry, event_day, outcome, tuple(kinds), reps, pd.DataFrame(rows),
        per_replication, scenario.population.users, scenario.horizon_days,
    )  # fmt: skip
