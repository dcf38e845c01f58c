"""Removal timing emerges (issue 16 item 5; docs/model.md S5a, S6): flags arrive at the
filter's keyword sweeps, notices and orders as a post's reach builds, and waits come
from the review queue, so staff matters at shipped staffing; no scenario sets a delay
knob, and a file that does is refused with the field that replaces it."""

from __future__ import annotations

import math
import tomllib
import types
from collections.abc import Iterator
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.engine.simulation import Simulation
from simulator.errors import ScenarioError
from simulator.experiments.facts import (
    collective_to_critical_ratio,
    removal_delay_quantile,
    taken_down_share,
)
from simulator.experiments.tables import t_interval
from simulator.kinds import Action
from simulator.model.scenario import validate_scenario

ALL_KINDS = ("benign", "critical", "collective_action", "unlawful")

#: The knobs issue 16 deleted, where they lived, and the field the refusal must name.
DELAY_KNOBS = {
    ("platforms", "flag_mean_delay_hours"): "sweep_interval_hours",
    ("population", "notices", "mean_delay_hours"): "attention_hours",
    ("regulator", "monitoring_mean_delay_hours"): "attention_hours",
}


def _shipped_files() -> list[tuple[str, dict[str, Any]]]:
    folder = resources.files("simulator") / "scenarios"
    return [
        (entry.name, tomllib.loads(entry.read_text()))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]


def _paths(data: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path in a TOML document (list items share their list's path)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for item in data:
            yield from _paths(item, prefix)


def test_no_shipped_scenario_sets_a_delay_knob() -> None:
    files = _shipped_files()
    assert len(files) >= 6
    for name, data in files:
        found = set(_paths(data)) & set(DELAY_KNOBS)
        assert not found, (name, found)
        # Nor a time-to-review knob under another name: the only delays left in the
        # files are legal deadlines, appeals' filing delay and the two timing fields.
        for path in _paths(data):
            if "delay" in path[-1]:
                assert path == ("rules", "appeals", "mean_delay_hours"), (name, path)


@pytest.mark.parametrize("knob", sorted(DELAY_KNOBS))
def test_a_delay_knob_is_refused_naming_its_replacement(knob: tuple[str, ...]) -> None:
    data = simulator.load_scenario("china_weibo_2012").to_dict()
    where = data
    for part in knob[:-1]:
        where = where[part][0] if isinstance(where[part], list) else where[part]
    where[knob[-1]] = 1.5
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data, source="old.toml")
    message = str(caught.value)
    assert "old.toml" in message and knob[-1] in message
    assert DELAY_KNOBS[knob] in message and "removed" in message
    assert "unknown field" not in message


def test_flags_reach_the_queue_on_the_sweep_grid() -> None:
    """In the engine: every flag enters its platform's queue at the first sweep at or
    after the post's publication, and items of one sweep are queued oldest post first."""
    interval = 0.4  # not a divisor of 24: sweeps fall at different hours each day
    scenario = simulator.override(
        simulator.load_scenario("china_weibo_2012"),
        {
            "population.users": 2_000,
            "horizon_days": 3,
            "platforms.weibo.sweep_interval_hours": interval,
        },
        source="test",
    )
    simulation = Simulation(scenario, 3)
    submitted: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for platform in simulation.platforms:
        submit = platform.queue.submit

        def watch(times: Any, actions: Any, items: Any, submit: Any = submit) -> Any:
            submitted.append((np.array(times), np.array(actions), np.array(items)))
            return submit(times, actions, items)

        platform.queue.submit = watch  # type: ignore[method-assign]
    simulation.run()
    posted = simulation.posts.columns["time_hours"]
    flags = 0
    for times, actions, items in submitted:
        post_time = posted[items // Action.COUNT]
        flag = actions == Action.FLAG
        flags += int(flag.sum())
        steps = times[flag] / interval
        assert np.all(np.abs(steps - np.round(steps)) < 1e-9)
        assert np.all(times[flag] >= post_time[flag])
        assert np.all(times[flag] - post_time[flag] < interval)
        # Within one arrival instant, oldest post first.
        same = times[1:] == times[:-1]
        assert np.all(post_time[1:][same] >= post_time[:-1][same])
    assert flags > 100


def _paired_quantiles(
    name: str, fewer: dict[str, Any], more: dict[str, Any], base: dict[str, Any], reps: int
) -> dict[str, list[float]]:
    """Paired log ratios (fewer reviewers over more) of the median and 90th percentile
    of time to removal, over replications sharing seeds (logs: queue waits are skewed,
    a ratio varies far less across replications than a difference)."""
    scenario = simulator.override(simulator.load_scenario(name), base, source="test")
    diffs: dict[str, list[float]] = {"median": [], "p90": []}
    for seed in range(1, reps + 1):
        runs = [
            simulator.run(simulator.override(scenario, arm, source="test"), seed=seed)
            for arm in (fewer, more)
        ]
        for label, q in (("median", 0.5), ("p90", 0.9)):
            low, high = (removal_delay_quantile(r, q, ALL_KINDS) for r in runs)
            diffs[label].append(math.log(low / high))
    return diffs


def _assert_later(diffs: dict[str, list[float]]) -> None:
    """Later with fewer reviewers: the log ratio's 95% t-interval above 0, or, where the
    replications are bimodal (a queue that keeps up in some, falls behind in others: the
    t-interval then spans 0 by the spread alone), positive in every one of at least 5
    paired replications (a sign test, one-sided p = 2^-5 = 0.031)."""
    for label, values in diffs.items():
        mean, low, _, n = t_interval(values)
        every = n >= 5 and all(v > 0 for v in values)
        assert n >= 3 and (low > 0 or every), (label, mean, low, values)


@pytest.mark.slow
def test_fewer_reviewers_remove_later_weibo_2012() -> None:
    """china_weibo_2012 at its shipped staffing against twice as many reviewers. (Not
    against fewer: below the shipped count the queue is overloaded, and the removals that
    still happen within the run are the prompt ones, orders served first; the delays of
    removals alone then say little.)"""
    shipped = simulator.load_scenario("china_weibo_2012").platforms[0].reviewers_per_100k_users
    doubled = {"platforms.weibo.reviewers_per_100k_users": 2 * shipped}
    diffs = _paired_quantiles("china_weibo_2012", {}, doubled, {}, reps=5)
    _assert_later(diffs)


@pytest.mark.slow
def test_fewer_reviewers_remove_later_csl_2016() -> None:
    """china_csl_2016 at its shipped (load-matched) staffing against twice as many."""
    platforms = simulator.load_scenario("china_csl_2016").platforms
    doubled = {
        f"platforms.{p.name}.reviewers_per_100k_users": 2 * p.reviewers_per_100k_users
        for p in platforms
    }
    diffs = _paired_quantiles("china_csl_2016", {}, doubled, {"horizon_days": 60}, reps=6)
    _assert_later(diffs)


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("china_weibo_2012", {"population.users": 2_000, "horizon_days": 12}),
        ("china_csl_2016", {"population.users": 4_000, "horizon_days": 30}),
    ],
)
def test_c1_can_fail(name: str, size: dict[str, object]) -> None:
    """C1 (collective action taken down far more than criticism) holds as shipped, and
    fails where collective action is not prohibited and the line is sharp: the reviewers
    then see both lawful kinds as benign content (model.md S8), so calls to act are no
    longer taken down much at all. (The keyword filter still holds calls to act more
    often than criticism, C4, so in china_csl_2016 the ratio of the two tiny take-down
    shares stays about 3: there the check is on the shares themselves.)"""
    base = simulator.override(simulator.load_scenario(name), size, source="test")
    lawful = simulator.override(
        base,
        {"rules.takedown.prohibited": ["unlawful"], "rules.takedown.vagueness": 0.0},
        source="test",
    )
    shipped = simulator.run(base, seed=1)
    variant = simulator.run(lawful, seed=1)
    if name == "china_weibo_2012":  # CSL's shipped ratio: test_c1_holds_in_csl_as_shipped
        assert collective_to_critical_ratio(shipped) >= 3.0
    assert taken_down_share(shipped, "collective_action") > taken_down_share(shipped, "critical")
    collective = taken_down_share(variant, "collective_action")
    # The prohibition is what takes calls to act down: far fewer once they are lawful,
    # and not far more than criticism (within a percentage point).
    assert collective < 0.2 * taken_down_share(shipped, "collective_action")
    assert collective - taken_down_share(variant, "critical") < 0.01
    if name == "china_weibo_2012":
        assert not collective_to_critical_ratio(variant) >= 3.0  # NaN (0 / 0) or below 3


# Passed from session 4's refit of C4 to session 7's, failed (strict xfail) to session 20;
# passes since the CSL's platforms start from the audits they lived through (session 21:
# 4.05 / 4.44 / 4.27 / 4.54 at seeds 1-4; 3.54 at the shipped size, docs/validation.md).
def test_c1_holds_in_csl_as_shipped() -> None:
    """C1 in china_csl_2016 as shipped: calls to act taken down at least 3 times as often
    as criticism."""
    base = simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {"population.users": 4_000, "horizon_days": 30},
        source="test",
    )
    assert collective_to_critical_ratio(simulator.run(base, seed=1)) >= 3.0


def test_removal_delay_quantile_reads_the_histogram() -> None:
    """Linear inside the bin that holds the quantile, summed over the kinds asked for."""
    rows = [
        {"kind": kind, "lower_hours": lo, "upper_hours": hi, "removed": n}
        for kind, counts in (("critical", (2, 2, 0)), ("unlawful", (0, 0, 40)))
        for (lo, hi), n in zip(((0.0, 1.0), (1.0, 3.0), (3.0, math.inf)), counts, strict=True)
    ]
    results = types.SimpleNamespace(delays=pd.DataFrame(rows))
    assert removal_delay_quantile(results, 0.5, ("critical",)) == pytest.approx(1.0)
    assert removal_delay_quantile(results, 0.75, ("critical",)) == pytest.approx(2.0)
    assert removal_delay_quantile(results, 0.25, ("critical",)) == pytest.approx(0.5)
    assert removal_delay_quantile(results, 0.5, ALL_KINDS) == 3.0  # the open last bin
    assert math.isnan(removal_delay_quantile(results, 0.5, ("benign",)))
