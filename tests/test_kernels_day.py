"""The day-end kernels (simulator/kernels/) compute exactly what the numpy code
they replaced computed: that code is kept here as the reference and both run on random
populations (every user state, repeated sanctions, strikes near the cap, several
platforms with different limits). Equality is exact, dtype included. (The learning of
beliefs is held to its statement in tests/test_users_statement.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.kernels.sanctions import apply_exits, apply_strikes
from simulator.kinds import UserState
from simulator.model.population import SocialNetwork
from tests.test_memory import _network_one_sort

SEEDS = [0, 1, 2, 3]


def population(seed: int, n: int = 3_000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "state": rng.choice(len(UserState), size=n, p=[0.7, 0.1, 0.05, 0.1, 0.05]).astype(np.int8),
        "platform": rng.integers(0, 3, n).astype(np.int16),
        # Mostly few strikes, some near the int16 cap of 32,000.
        "strikes": np.where(
            rng.random(n) < 0.05, rng.integers(31_990, 32_001, n), rng.integers(0, 4, n)
        ).astype(np.int16),
        "risk": rng.random(n).astype(np.float32),
    }


def numpy_sanctions(pop, sanctioned, limits, draw_of, p_leave, p_circumvent):  # type: ignore[no-untyped-def]
    """Simulation._consequences' sanction step as it was (numpy)."""
    strikes, state, platform = pop["strikes"], pop["state"], pop["platform"]
    who = np.unique(sanctioned)  # one strike a day however many take-downs (L9)
    strikes[who] = np.minimum(strikes[who].astype(np.int64) + 1, 32_000)
    active = state[who] == UserState.ACTIVE
    closed = who[active & (strikes[who] >= limits[platform[who]])]
    state[closed] = UserState.EXCLUDED
    still = who[state[who] == UserState.ACTIVE]
    draw = draw_of(len(still))
    leave = draw < p_leave
    circumvent = ~leave & (draw < p_leave + p_circumvent)
    state[still[leave]] = UserState.LEFT
    state[still[circumvent]] = UserState.CIRCUMVENTING
    return closed, still


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64])
def test_sanctions_match_numpy(seed: int, dtype: type) -> None:
    pop = population(seed)
    n = len(pop["state"])
    rng = np.random.default_rng(100 + seed)
    # Repeats: some users sanctioned several times in a day.
    sanctioned = np.concatenate([rng.integers(0, n, 400), rng.integers(0, 50, 200)]).astype(dtype)
    limits = np.array([3, 1, 32_000], dtype=np.int64)
    expected = {k: v.copy() for k, v in pop.items()}
    closed_np, still_np = numpy_sanctions(
        expected, sanctioned, limits, np.random.default_rng(seed).random, 0.3, 0.25
    )
    # Strikes that never expire (the last sanction "yesterday", a clean period longer
    # than any gap): the rule before issue 16, which this numpy code states.
    n = len(pop["state"])
    last = np.zeros(n, dtype=np.int32)
    reason = np.zeros(n, dtype=np.int8)
    never = np.full(3, 1_000_000, dtype=np.int64)
    no_suspension = np.zeros(3, dtype=np.int64)
    closed, suspended, still = apply_strikes(
        sanctioned, 1, pop["strikes"], last, pop["state"], pop["platform"], limits,
        no_suspension, never, reason,
    )  # fmt: skip
    assert len(suspended) == 0
    assert (reason[closed] == 1).all() and (np.delete(reason, closed) == 0).all()
    draw = np.random.default_rng(seed).random(len(still))
    exited = apply_exits(still, draw, 0.3, 0.3 + 0.25, pop["state"])
    # The count of state changes (the engine bumps its state version only then).
    assert exited == int((expected["state"][still_np] != UserState.ACTIVE).sum()) > 0
    assert len(closed_np) > 0 and len(still_np) > 0
    np.testing.assert_array_equal(closed, closed_np)
    np.testing.assert_array_equal(still, still_np)
    assert closed.dtype == still.dtype == np.int64
    for key in ("strikes", "state"):
        assert pop[key].dtype == expected[key].dtype
        np.testing.assert_array_equal(pop[key], expected[key])


def network_one_sort(users: int, mean_degree: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The network as it was first built: one global sort of the packed keys."""
    return _network_one_sort(users, mean_degree, np.random.default_rng(seed))


@pytest.mark.parametrize(("users", "degree"), [(2, 3.0), (9, 2.0), (3001, 10.0), (300, 80.0)])
@pytest.mark.parametrize("path", ["scatter", "blocked", "blocked_one_thread", "blocked_one_block"])
def test_both_network_builds_are_the_key_sort(
    users: int, degree: float, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small networks are sorted by two scatter passes, large ones block by block
    (blocks of 7 sources here, so that blocks end inside the graph, or one block), by
    two threads taking alternate blocks or by one."""
    import simulator.model.population as population_module

    if path != "scatter":
        monkeypatch.setattr(population_module, "_SMALL_NETWORK", 0)
        monkeypatch.setattr(
            population_module, "_NETWORK_BLOCK", 1 << 20 if path == "blocked_one_block" else 7
        )
        threads = 1 if "one_thread" in path else 2
        monkeypatch.setattr(population_module, "usable_cpus", lambda: threads)
    network = SocialNetwork.random(users, degree, np.random.default_rng(users))
    indptr, indices = network_one_sort(users, degree, users)
    np.testing.assert_array_equal(network.indptr.astype(np.int64), indptr)
    np.testing.assert_array_equal(network.indices, indices)
