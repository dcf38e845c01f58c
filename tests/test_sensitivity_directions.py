"""Issue 16's deterrence directions at both ends of every ASSUMPTION's range (docs/validation.md,
"Sensitivity of the conclusions to the assumptions"; open defect 9).

For each ASSUMPTION value of ``benchmarks/sensitivity_assumptions.py`` that matters in
``china_csl_2016`` (the users' costs, choice noise, priors, learning weights and decay, the
warning's cost, the platforms' discount rate), set to the low and to the high end of its
range: on paired replications (the same seeds at every level), detention severity up
(30 -> 60 days) raises political withholding (D1), and certainty raises it more than
severity at the same expected days (D2). Slow: a few minutes
(``pytest -m slow tests/test_sensitivity_directions.py``).
"""

from __future__ import annotations

import functools

import pytest

import simulator
from benchmarks.probe_levers import Size, holds, paired_difference, run_level
from benchmarks.sensitivity_assumptions import ASSUMPTIONS, CSL, direction_levels

#: Small enough for a slow test, large enough for the paired intervals to exclude 0.
#: Eight replications since session 7: with the news reporting cases (S16) one detention
#: among 3,000 users is 33 per 100,000, and a replication where one comes early chills far
#: more than the others (detention cost x4, 180 d vs 1 d: 0.83 against 0.37-0.56), so four
#: replications left D1 and D2 inside their intervals at four ends although every pair
#: of the eight has the expected sign.
SIZE = Size(users=3_000, days=60, reps=8, seed=160)
METRIC = "political_withholding"
#: Ends that need more replications for the interval to exclude 0, and how many. The news'
#: case weight x4: every user reads the same news, so one run's early cases move everyone;
#: since the platforms learn where the line is (session 11), certainty x4 minus severity x4
#: over the 8 replications was 0.074 [-0.022, 0.171] (two of eight below 0), over 16
#: 0.121 [0.051, 0.191].
#: The detention's day scale x4 (session 12, the platforms' detection learned from the
#: prohibited posts counted): certainty x4 minus severity x4 over 8 replications 0.023
#: [-0.003, 0.049]; over 16 0.027 [0.014, 0.041].
REPLICATIONS_AT: dict[tuple[str, float], int] = {
    ("news_case_weight", 4.0): 16,
    ("detention_scale_days", 4.0): 16,
}

#: Ends of a range where a direction is not seen, with the reason (strict: once it holds,
#: the marker must come off).
FAILING_TODAY: dict[str, str] = {}


@functools.cache
def _measured(assumption: str, factor: float) -> dict[str, dict[str, list[float | None]]]:
    """Political withholding at every direction level, with the assumption at ``factor``."""
    chosen = next(a for a in ASSUMPTIONS if a.name == assumption)
    changes = chosen.changes(simulator.load_scenario(CSL), factor)
    levels, _ = direction_levels(CSL)
    reps = REPLICATIONS_AT.get((assumption, factor), SIZE.reps)
    size = Size(users=SIZE.users, days=SIZE.days, reps=reps, seed=SIZE.seed)
    return {
        level.label: run_level(
            type(level)(level.label, CSL, {**changes, **level.changes}), size, (METRIC,)
        )
        for level in levels
    }


def _cases() -> list[object]:
    cases = []
    for assumption in ASSUMPTIONS:
        if CSL not in assumption.scenarios:
            continue
        for end, factor in (("low", assumption.low), ("high", assumption.high)):
            for direction in ("D1", "D2"):
                name = f"{assumption.name} {end} x{factor:g}: {direction}"
                marks = (
                    [pytest.mark.xfail(strict=True, reason=FAILING_TODAY[name])]
                    if name in FAILING_TODAY
                    else []
                )
                cases.append(pytest.param(assumption.name, factor, direction, id=name, marks=marks))
    return cases


def test_every_assumption_of_csl_has_both_ends_and_a_range() -> None:
    """Fast: the table's assumptions are real fields with a range around the shipped value."""
    scenario = simulator.load_scenario(CSL)
    for assumption in ASSUMPTIONS:
        assert assumption.low < 1.0 < assumption.high, assumption
        for field, value in assumption.changes(scenario, assumption.high).items():
            assert simulator.override(scenario, {field: value}) is not None, field
    assert set(FAILING_TODAY) <= {str(c.id) for c in _cases()}  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.parametrize(("assumption", "factor", "direction"), _cases())
def test_deterrence_directions_hold_at_both_ends(
    assumption: str, factor: float, direction: str
) -> None:
    measured = _measured(assumption, factor)
    _, (severity, certainty) = direction_levels(CSL)
    check = severity if direction == "D1" else certainty
    difference = paired_difference(measured[check.level][METRIC], measured[check.reference][METRIC])
    assert holds(check, measured), (
        f"{check.level} vs {check.reference}: paired difference {difference.text()}"
    )
