"""The compiled police (``kernels.police.investigate_until`` driven by ``Police``) do
exactly what the Python police did (tests/python_police.py: a ``ReviewQueue`` with an
``investigate`` callback): the same investigations, draws and detentions, in runs with
backlogs, drops (reports about users already detained), tied arrival times, and no
investigators at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import simulator
from simulator.engine.simulation import Simulation
from simulator.kinds import UserState
from tests.python_police import PythonPolice, PythonPoliceSimulation

WORLDS: dict[str, tuple[str, dict[str, Any]]] = {
    "classroom": (
        "classroom",
        {
            # One investigator for 60 days: detain more of those investigated, so the
            # world detains someone whatever its draws.
            "police.detention_probability.critical": 0.3,
            "police.detention_probability.collective_action": 0.5,
        },
    ),
    "csl_backlog": (
        "china_csl_2016",
        {
            "population.users": 6_000,
            "horizon_days": 40,
            "police.investigators_per_100k_users": 100_000 / 6_000,  # 1 investigator
            # Most reports are of criticism seen near the line (orders): detain more of
            # them, so a 40-day backlog still detains someone.
            "police.detention_probability.critical": 0.3,
            "police.detention_probability.collective_action": 0.5,
        },
    ),
    "csl_many": (
        "china_csl_2016",
        {
            "population.users": 6_000,
            "horizon_days": 30,
            "police.investigators_per_100k_users": 50 * 100_000 / 6_000,  # 50
        },
    ),
    "weibo": ("china_weibo_2012", {"population.users": 4_000, "horizon_days": 30}),
    "no_investigators": ("classroom", {"police.investigators_per_100k_users": 0}),
}


def _world(name: str) -> simulator.Scenario:
    base, changes = WORLDS[name]
    return simulator.override(simulator.load_scenario(base), changes, source="test")


@pytest.mark.parametrize("world", sorted(WORLDS))
def test_compiled_police_equal_python_police(world: str) -> None:
    scenario = _world(world)
    compiled, python = Simulation(scenario, 2), PythonPoliceSimulation(scenario, 2)
    days: list[tuple[Any, ...]] = []
    step = compiled._step_day

    def step_and_compare(day: int) -> None:
        step(day)
        days.append(
            (
                sorted(compiled.police.pending_detentions),
                compiled.minds.news.tolist(),
                compiled.police.busy,
                compiled.police.waiting,
                compiled.users.state.copy(),
            )
        )

    compiled._step_day = step_and_compare  # type: ignore[method-assign]
    expected: list[tuple[Any, ...]] = []
    python_step = python._step_day

    def python_step_and_look(day: int) -> None:
        python_step(day)
        queue = python.police.queue
        expected.append(
            (
                sorted(python.police.pending_detentions),
                python.minds.news.tolist(),
                queue.busy,
                queue.waiting,
                python.users.state.copy(),
            )
        )

    python._step_day = python_step_and_look  # type: ignore[method-assign]
    compiled.run()
    python.run()
    for day, (got, want) in enumerate(zip(days, expected, strict=True)):
        assert got[:4] == want[:4], (world, day)
        assert np.array_equal(got[4], want[4]), (world, day)
    assert compiled.recorder.events == python.recorder.events
    assert np.array_equal(compiled.recorder.counts, python.recorder.counts)
    assert _next_draw(compiled.police) == python.police.rng.random()
    reports = int(compiled.recorder.tallies["reports"].sum())
    detentions = int(compiled.recorder.tallies["detentions"].sum())
    if world == "weibo":  # reports and investigations, but its detentions are rare
        assert reports > 0
    elif world != "no_investigators":
        assert reports > 0 and detentions > 0, (reports, detentions)
    else:
        assert detentions == 0 and compiled.police.waiting == reports > 0


def _next_draw(police: Any) -> float:
    """The next investigation draw of the compiled police: the first one drawn ahead and
    not used, else the generator's next (the draws used are the generator's first)."""
    used = int(police._counters[4])
    if used < len(police._uniform):
        return float(police._uniform[used])
    return float(police.rng.random())


class _Users:
    def __init__(self, state: np.ndarray, traceable: np.ndarray) -> None:
        self.state, self.traceable = state, traceable


@pytest.mark.parametrize("lapse_days", [0.0, 1.5])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("investigators", [1.0, 3.0, 2.5])
def test_police_line_with_ties_and_drops(
    seed: int, investigators: float, lapse_days: float
) -> None:
    """Reports filed at few distinct times (many ties), a third about detained users
    (dropped), advanced over uneven days: the same detentions and draws as the Python
    police (2.5 investigators: three part-time servers); with ``report_lapse_days``
    1.5, reports waiting longer lapse (dropped too)."""
    from simulator.model.police import Police, police_staff

    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {
            # classroom's 2,000 users
            "police.investigators_per_100k_users": investigators * 100_000 / 2_000,
            "police.investigation_days": 0.3,
            "police.report_lapse_days": lapse_days,
        },
    )
    staff = police_staff(scenario)
    assert staff == investigators
    rng = np.random.default_rng(seed)
    n = 400
    state = np.where(rng.random(n) < 0.3, UserState.DETAINED, UserState.ACTIVE).astype(np.int8)
    users = _Users(state, rng.random(n) < 0.5)
    fast = Police(scenario.police, users, np.random.default_rng(seed + 10), staff)
    slow = PythonPolice(scenario.police, users, np.random.default_rng(seed + 10), staff)
    now = 0.0
    for _ in range(25):
        count = int(rng.integers(0, 30))
        times = now + np.round(rng.random(count) * 8.0)  # whole hours: ties
        who = rng.integers(0, n, count)
        kinds = rng.integers(0, 4, count)
        for police in (fast, slow):
            police.report(times, who, kinds)
        now += float(rng.choice([1.0, 5.0, 24.0]))
        fast.advance(now)
        slow.advance(now)
        assert fast.pending_detentions == slow.pending_detentions
        assert fast.pending_chances == slow.pending_chances
        assert np.array_equal(fast.take_expected(now - 12.0), slow.take_expected(now - 12.0))
        assert (fast.busy, fast.waiting) == (slow.queue.busy, slow.queue.waiting)
    assert len(fast.pending_detentions) > 0
    assert _next_draw(fast) == slow.rng.random()


def test_expected_detentions_are_the_mean_of_the_realized() -> None:
    """The news' expected detentions (docs/model.md S16) are the sum of each
    investigation's ``P(identified) x p_k``: over 40 seeds of one line the realized
    detentions of each kind match their sum within four standard deviations (a
    Poisson-binomial count's variance is at most its mean), and a traceable user's
    chance is the kind's detention probability alone."""
    from simulator.model.police import Police, detention_chance, police_staff

    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {
            "police.investigators_per_100k_users": 10 * 100_000 / 2_000,
            "police.investigation_days": 0.2,
            "police.identify_anonymous_probability": 0.4,
            "police.detention_probability.critical": 0.3,
            "police.detention_probability.collective_action": 0.6,
        },
    )
    spec = scenario.police
    realized = np.zeros(4)
    expected = np.zeros(4)
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = 300
        users = _Users(np.full(n, UserState.ACTIVE, dtype=np.int8), rng.random(n) < 0.5)
        police = Police(spec, users, np.random.default_rng(seed + 100), police_staff(scenario))
        count = 200
        police.report(np.sort(rng.random(count) * 48.0), rng.integers(0, n, count),
                      rng.integers(0, 4, count))  # fmt: skip
        police.advance(24.0 * 30)
        for _, _, kind in police.take_due(24.0 * 30):
            realized[kind] += 1
        expected += police.take_expected(24.0 * 30)
        assert not police.pending_chances
    for kind in (1, 2):  # critical, collective action: the kinds the police detain for
        assert expected[kind] > 100
        assert abs(realized[kind] - expected[kind]) < 4.0 * np.sqrt(expected[kind]), kind
    probability = spec.detention_probability.as_tuple()
    assert detention_chance(True, 0.4, probability[3]) == probability[3]
    assert detention_chance(False, 0.4, probability[3]) == 0.4 * probability[3]
