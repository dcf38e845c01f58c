"""The reference model as shipped (``simulator.reference``): importable from the package,
stepped on a tiny world with a fixed seed, its numbers checked (the way Mesa tests the
examples it ships). Quick; the engine-against-reference comparison is
tests/test_reference_agreement.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

import simulator
from simulator.kernels import arrivals
from simulator.kinds import Outcome, UserState
from simulator.reference import ReferenceSimulation, run_reference
from tests.invariants import assert_conserved


def _tiny_world() -> simulator.Scenario:
    return simulator.override(
        simulator.load_scenario("classroom"),
        {"population.users": 150, "horizon_days": 6, "population.posts_per_day": 2.0},
    )


def test_a_reference_run_conserves_posts_and_repeats_itself() -> None:
    """Every intended post has exactly one outcome; the same seed gives the same counts,
    events and population; another seed gives other counts."""
    scenario = _tiny_world()
    first = ReferenceSimulation(scenario, seed=5)
    counts = first.run().counts.copy()
    recorder = first.recorder
    assert_conserved(recorder.intended, counts)
    assert (counts >= 0).all()
    intended = int(recorder.intended.sum())
    assert intended > 500  # 150 users, 2 posts a day, 6 days: about 1,800
    # The classroom's rules bite even in six days: posts are withheld and blocked.
    by_outcome = counts.sum(axis=tuple(range(counts.ndim - 1)))
    assert by_outcome[Outcome.WITHHELD] > 0 and by_outcome[Outcome.SURVIVING] > 0
    assert by_outcome.sum() - by_outcome[Outcome.SOFTENED] == intended

    again = ReferenceSimulation(scenario, seed=5)
    np.testing.assert_array_equal(again.run().counts, counts)
    assert [e.event for e in again.recorder.events] == [e.event for e in recorder.events]
    assert again.user_counts() == first.user_counts()
    assert sum(first.user_counts()[s.name.lower()] for s in UserState) == 150

    other = ReferenceSimulation(scenario, seed=6)
    assert not np.array_equal(other.run().counts, counts)


def test_run_reference_summary_is_paired_and_consistent() -> None:
    """``run_reference``'s summary: the funnel adds up, the ratios lie in [0, 1], speech
    is lost to the rules, and a second call gives the same numbers."""
    summary = run_reference(_tiny_world(), seed=3)
    outcomes = ("withheld", "excluded", "blocked", "removed", "surviving")
    # (a softened post is one intended post with two outcomes: softened, then its fate)
    assert sum(summary[name] for name in outcomes) == summary["intended"] > 0
    for ratio in ("speech_loss", "chilling_effect", "collateral_share"):
        assert 0.0 <= summary[ratio] <= 1.0, (ratio, summary[ratio])
    assert summary["speech_loss"] > 0.0
    again = run_reference(_tiny_world(), seed=3)
    assert _without_timing(summary) == _without_timing(again)


def _without_timing(summary: dict) -> str:
    """The summary without its wall-clock times, as text (NaN, for shares of no posts,
    compares equal to itself there)."""
    kept = {k: v for k, v in summary.items() if k not in {"wall_seconds", "wall_seconds_rules"}}
    return json.dumps(kept, sort_keys=True, default=str)


def test_reference_arrival_rules_equal_the_engines() -> None:
    """The reference writes the arrival rules out itself (docs/model.md S5a); on the same
    inputs they give the engine's compiled times: sweeps to the bit, attention to 1e-12."""
    scenario = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 300}, source="test"
    )
    sim = ReferenceSimulation(scenario, seed=3)
    rng = np.random.default_rng(5)
    tau = scenario.population.attention_hours
    for now in rng.uniform(0.0, 24.0 * 60, 2_000):
        for interval in (0.0, 0.25, 0.4, 5.0):
            assert sim.next_sweep(float(now), interval) == arrivals.sweep_time(float(now), interval)
        u, p, reach = rng.random(), rng.uniform(0.0, 0.9), rng.uniform(0.0, 3.0)
        expected = arrivals.attention_time(float(now), u, arrivals.view_rate(p), reach, tau) - now
        got = sim.attention_delay(u, p, reach)
        assert got == expected or abs(got - expected) <= 1e-12 * max(1.0, abs(expected))


def test_desks_added_to_a_reference_line_start_the_waiting_reviews_by_priority() -> None:
    """A hiring platform's new desks (docs/model.md S6a) start the reviews waiting at
    once, highest priority first: one desk and five waiting, raised to four desks, three
    start at that instant (one did, before: SimPy grants one request per call)."""
    import simpy

    from simulator.reference.world import ReviewLine

    env = simpy.Environment()
    line = ReviewLine(env, capacity=1)
    started: list[tuple[float, int]] = []

    def review(priority: int):  # type: ignore[no-untyped-def]
        with line.request(priority=priority) as request:
            yield request
            started.append((env.now, priority))
            yield env.timeout(100.0)

    for priority in (3, 0, 2, 1, 4, 5):
        env.process(review(priority))
    env.run(until=1.0)
    assert started == [(0.0, 3)] and len(line.queue) == 5
    line.add_desks(4)
    env.run(until=2.0)
    assert started == [(0.0, 3), (1.0, 0), (1.0, 1), (1.0, 2)] and len(line.queue) == 2
    with pytest.raises(ValueError, match="never removed"):
        line.add_desks(2)
