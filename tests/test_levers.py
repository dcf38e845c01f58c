"""Issue 16's comparative statics, each on paired replications (common random numbers).

Every expectation of ``benchmarks/probe_levers.py`` (the lever, its range, the expected
direction) becomes one test: the paired difference's 95% interval across replications
must lie on the expected side of 0 (or, for a year of a liberal regime, the active share's
interval above the floor). Those that today's model fails are marked
``xfail(strict=True)`` with the issue's finding: once issue 16 is fixed they XPASS, the
run goes red and the marker must come off. Slow: ``pytest -m slow tests/test_levers.py``
(a few minutes: the probe's default size, so they see the baseline it prints).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
from typing import Any

import pandas as pd
import pytest

from benchmarks.probe_levers import (
    DEFAULT,
    Check,
    Lever,
    holds,
    interval,
    levers,
    paired_difference,
    removal_delay_mean,
    removal_delay_median,
    run_level,
    verdict,
)

#: The probe's default size and seeds, so the tests see exactly the baseline the probe
#: prints (about a minute of runs here; every level runs once, shared across tests).
SIZE = DEFAULT

LEVERS: dict[str, Lever] = {lever.name: lever for lever in levers()}

#: Expectations the model misses today (issue 16's table), by test id.
FAILING_TODAY: dict[str, str] = {
    "real_names: political_published_per_user real names, no refusals vs none": (
        "session 21 (the CSL's platforms experienced): -0.015 [-0.072, 0.042] a user at 16"
        " replications, where it was -0.30 [-0.43, -0.17] (session 15). Real names make"
        " users soften calls to act into criticism (+0.66 a user of 1.5 intended), which"
        " experienced platforms no longer block as criticism (blocked calls to act -0.65),"
        " so published calls to act fall (-0.18 a user of 0.29, its own check passes) and"
        " published criticism rises by about as much (+0.16): the political total is flat"
        " (6 replications, 20,000 users, 150 days; docs/validation.md defect 6)"
    ),
}
#: Levers that need more replications for a small true effect's interval to exclude 0.
#: CSL's collateral share is near its ceiling from vagueness 0.5 on (0.985 and 0.987 of
#: take-downs lawful at 0.5 and 1), so the step from 0.5 to 1 is small: in session 12
#: (measured with the detection learned jointly with the line, a version replaced the
#: same session; the 16-replication test passes on the final one) 8 replications
#: +0.0021 [-0.0001, 0.0043], 16 replications +0.0017 [0.0005, 0.0029]; the lawful
#: take-down rate, the issue's measure, rises +0.018 [0.011, 0.025] at 8.
#: Session 15 (money the represented platform's; the strict-liability waiting rule with
#: the queue's priorities and the backlog, docs/model.md S8): two effects kept their sign
#: but lost their 8-replication interval. Understaffed CSL (reviewers x0.6, hiring) is
#: bimodal: its line keeps up in some replications (median delay 0.2 h) and falls days
#: behind in others, so the median delay's step to x5 is -14.85 h [-32.29, 2.59] at 8
#: and -14.94 [-28.18, -1.70] at 16 (the mean delay's, -79.8 h [-90.3, -69.2], passes at
#: 8). Real names' political posts published: -0.19 [-0.40, 0.01] at 8, -0.30 [-0.43,
#: -0.17] at 16 (withholding, +0.19 [0.18, 0.21], passes at 8)
#: (``benchmarks/probe_levers.py --lever reviewers --lever real_names --reps 16``).
REPLICATIONS_FOR: dict[str, int] = {"vagueness_csl": 16, "reviewers": 16, "real_names": 16}


@functools.cache
def _measured(lever_name: str, label: str) -> dict[str, list[float | None]]:
    """Every metric of one level of a lever, per replication (cached across tests)."""
    lever = LEVERS[lever_name]
    level = next(level for level in lever.levels if level.label == label)
    metrics = tuple(dict.fromkeys(lever.metrics + tuple(c.metric for c in lever.checks)))
    size = dataclasses.replace(SIZE, reps=REPLICATIONS_FOR.get(lever_name, SIZE.reps))
    return run_level(level, size, metrics)


def _test_id(lever: Lever, check: Check) -> str:
    against = f"vs {check.reference}" if check.floor is None else f">= {check.floor:g}"
    return f"{lever.name}: {check.metric} {check.level} {against}"


def _cases() -> list[Any]:
    cases = []
    for lever in LEVERS.values():
        for check in lever.checks:
            name = _test_id(lever, check)
            marks = (
                [pytest.mark.xfail(strict=True, reason=f"issue 16: {FAILING_TODAY[name]}")]
                if name in FAILING_TODAY
                else []
            )
            cases.append(pytest.param(lever.name, check, id=name, marks=marks))
    return cases


def test_every_expected_failure_names_a_comparison() -> None:
    """A renamed lever or level must not leave a stale entry behind (fast: no runs)."""
    names = {_test_id(lever, check) for lever in LEVERS.values() for check in lever.checks}
    assert set(FAILING_TODAY) <= names, sorted(set(FAILING_TODAY) - names)


@pytest.mark.slow
@pytest.mark.parametrize(("lever_name", "check"), _cases())
def test_lever_moves_the_metric_the_expected_way(lever_name: str, check: Check) -> None:
    labels = {check.level} | ({check.reference} if check.floor is None else set())
    measured = {label: _measured(lever_name, label) for label in labels}
    if check.floor is None:
        difference = paired_difference(
            measured[check.level][check.metric], measured[check.reference][check.metric]
        )
        expected = "up" if check.direction > 0 else "down"
        shown = f"paired difference {difference.text()}, expected {expected}"
    else:
        shown = f"values {measured[check.level][check.metric]}, floor {check.floor}"
    assert holds(check, measured), f"{check.metric}: {check.level} vs {check.reference}: {shown}"


def test_verdict_reads_the_paired_interval() -> None:
    """The verdicts the probe prints and the tests assert, on numbers worked by hand (fast)."""
    up = Check("m", "b", "a", +1)
    # Differences 1, 2, 3: mean 2, t-interval 2 +- 4.303 * 1 / sqrt(3) = [-0.48, 4.48].
    assert verdict(up, {"a": {"m": [0, 0, 0]}, "b": {"m": [1, 2, 3]}}) == "no: 0 in CI"
    assert verdict(up, {"a": {"m": [0, 0, 0]}, "b": {"m": [10, 11, 12]}}) == "yes"
    assert verdict(up, {"a": {"m": [10, 11, 12]}, "b": {"m": [0, 0, 0]}}) == "no: opposite"
    down = Check("m", "b", "a", -1)
    assert verdict(down, {"a": {"m": [10, 11, 12]}, "b": {"m": [0, 0, 0]}}) == "yes"
    # Common random numbers: a constant shift is certain however noisy the levels are.
    assert verdict(up, {"a": {"m": [0, 50, 100]}, "b": {"m": [1, 51, 101]}}) == "yes"
    floor = Check("m", "b", "", floor=0.97)
    assert verdict(floor, {"b": {"m": [0.98, 0.99, 0.985]}}) == "yes"
    assert verdict(floor, {"b": {"m": [0.90, 0.91, 0.92]}}) == "no: opposite"
    assert verdict(floor, {"b": {"m": [0.96, 0.99, 0.98]}}) == "no: floor in CI"
    # No change at all (a lever that does nothing): not a pass, in either direction.
    assert verdict(up, {"a": {"m": [5, 6, 7]}, "b": {"m": [5, 6, 7]}}) == "no: 0 in CI"
    assert verdict(down, {"a": {"m": [5, 6, 7]}, "b": {"m": [5, 6, 7]}}) == "no: 0 in CI"
    assert verdict(up, {"a": {"m": [None, None]}, "b": {"m": [None, None]}}) == "n/a"
    assert paired_difference([1, 2, 3], [0, 0, 0]).text(3) == "2 [-0.484, 4.48]"


#: The delay metrics do not read the scenario.
NO_SCENARIO: Any = None


def _histogram(counts: dict[tuple[float, float], list[int]]) -> Any:
    """Something with the ``delays`` table of a run: (lower, upper) -> removals per kind."""
    rows = [
        {"kind": f"k{k}", "lower_hours": lower, "upper_hours": upper, "removed": n}
        for (lower, upper), per_kind in counts.items()
        for k, n in enumerate(per_kind)
    ]
    return types.SimpleNamespace(delays=pd.DataFrame(rows))


def test_removal_delay_metrics_read_the_histogram() -> None:
    """Median and mean hours to removal from a histogram worked by hand (fast)."""
    inf = float("inf")
    # 4 removals over two kinds: 1 in [0, 1), 2 in [1, 2), 1 in [2, 4), none later.
    results = _histogram({(0, 1): [1, 0], (1, 2): [1, 1], (2, 4): [0, 1], (4, inf): [0, 0]})
    # The 2nd of 4 removals: half-way through the removals of [1, 2), so 1.5 h.
    assert removal_delay_median(results, NO_SCENARIO) == pytest.approx(1.5)
    # Bin midpoints: (0.5 + 2 * 1.5 + 3) / 4.
    assert removal_delay_mean(results, NO_SCENARIO) == pytest.approx(1.625)
    # Most removals in the open last bin: its lower edge (a lower bound).
    late = _histogram({(0, 1): [1, 0], (1, 2): [0, 0], (2, inf): [2, 1]})
    assert removal_delay_median(late, NO_SCENARIO) == 2.0
    assert removal_delay_mean(late, NO_SCENARIO) == pytest.approx((0.5 + 3 * 2) / 4)
    assert math.isnan(removal_delay_median(_histogram({(0, 1): [0, 0]}), NO_SCENARIO))


def _lawful_chilling(label: str) -> list[float]:
    values = _measured("lawful_chilling_severity", label)["chilling"]
    return [float(v) for v in values if v is not None]


@pytest.mark.slow
def test_severity_chills_lawful_speech_with_diminishing_returns() -> None:
    """Detentions under a vague offence (model.md S11): each added day of detention
    chills lawful speech less than the one before (B1, Nagin 2013): per replication,
    the gain per day from 1 to 15 days exceeds the gain per day from 15 to 180 days."""
    one, fifteen, long = (_lawful_chilling(lab) for lab in ("1 d", "15 d", "180 d"))
    early = [(b - a) / 14.0 for a, b in zip(one, fifteen, strict=True)]
    late = [(c - b) / 165.0 for b, c in zip(fifteen, long, strict=True)]
    difference = paired_difference(early, late)
    assert difference.low > 0.0, f"gain per day, 1-15 d minus 15-180 d: {difference.text()}"


@pytest.mark.slow
def test_lawful_posts_are_detained_under_a_vague_offence() -> None:
    """In china_csl_2016 removed critical posts are reported and some of their authors
    detained (S11: the offence line ``o_k = q_k``); without the duty to report nobody
    is, and detention's length then chills nothing: the runs are the same."""
    shipped = _measured("lawful_chilling_severity", "15 d")["lawful_detentions_per_100k"]
    detained = interval(shipped)
    assert detained.low > 0.0, f"critics detained per 100,000 users: {detained.text()}"
    short = _measured("lawful_chilling_no_reports", "no reports, 1 d")
    long = _measured("lawful_chilling_no_reports", "no reports, 180 d")
    assert short["lawful_detentions_per_100k"] == [0.0] * SIZE.reps
    assert short["chilling"] == long["chilling"]
