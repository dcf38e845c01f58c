"""The day-end kernels (simulator/kernels/) compute exactly what the numpy code
they replaced computed: that code is kept here as the reference and both run on random
populations (every user state, repeated sanctions, strikes near the cap, several
platforms with different limits). Equality is exact, dtype included, wherever the two
compute with the same operations; the risk update's ``expm1`` is the C library's in the
kernel and may be numpy's own SIMD routine in the numpy statement (AVX-512 builds): the
kernel equals the statement with the kernel's expm1 to the bit, and the statement with
numpy's expm1 within a stated number of ULP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from simulator.kernels.learning import learn_day, population_counts
from simulator.kernels.numeric import add_at
from simulator.kernels.sanctions import apply_exits, apply_strikes
from simulator.kinds import UserState
from simulator.model.population import SocialNetwork
from simulator.model.speech import update_risk
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
    who, times = np.unique(sanctioned, return_counts=True)
    strikes[who] = np.minimum(strikes[who].astype(np.int64) + times, 32_000)
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
    closed, still = apply_strikes(
        sanctioned, 1, pop["strikes"], last, pop["state"], pop["platform"], limits, never, reason
    )
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


def numpy_minus_signal(n, news, sanctioned, own, network, removed, w_removed, detained, w_detained):  # type: ignore[no-untyped-def]
    """The signal as Simulation._consequences built it (numpy and the older kernels),
    negated."""
    signal = np.full(n, news, dtype=np.float32)
    if len(sanctioned):
        add_at(signal, sanctioned, own)
    if len(removed):
        signal += w_removed * network.neighbour_counts(removed, n)
    if len(detained):
        signal += w_detained * network.neighbour_counts(detained, n)
    np.negative(signal, out=signal)
    return signal


def numpy_learn(risk, minus_signal, decay, state, expm1=np.expm1):  # type: ignore[no-untyped-def]
    """model.speech.update_risk of the signal in float32 with ``expm1`` (numpy's, as
    model.speech.update_risk calls it, by default), detained users certain, as
    Simulation._consequences applied it."""
    kept = risk * decay
    learned = kept + (1.0 - kept) * (-expm1(minus_signal))
    learned[state == UserState.DETAINED] = 1.0
    return learned


@njit
def expm1_as_learn_day(x):  # type: ignore[no-untyped-def]
    """``math.expm1`` of each float32 value in compiled code: the function learn_day
    calls (numba's float32 ``expm1``, the C library's ``expm1f``)."""
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = math.expm1(x[i])
    return out


#: How far numpy's float32 expm1 may be from the C library's expm1f, in ULP. They are
#: the same function where numpy calls the C library (builds and CPUs without its own
#: SIMD routine); numpy's AVX-512 routine (numpy 2.4 here, Intel's SVML) differs from
#: glibc 2.36's expm1f by at most 2 ULP over every float32 in [-104, 0) (checked
#: exhaustively; below -104 both are -1). 4 leaves room for other builds: a test that
#: fails here blames the libraries, not the kernel.
EXPM1_ULPS = 4
#: The risks' bound, propagated from EXPM1_ULPS: q = -expm1(-s) enters
#: r' = k + (1 - k) q (k = r d, all float32, q <= r' <= 1); q off by e ulp(q) moves the
#: product by at most (1 - k) e ulp(q) <= e 2**-23 r' < 2e ulp(r'), and each of the two
#: roundings after it by at most one ulp(r') more: 2e + 2.
RISK_ULPS = 2 * EXPM1_ULPS + 2


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("terms", ["all", "none", "removed", "detained", "heavy"])
@pytest.mark.parametrize("news", [1e-4 / 3, 7.0])
@pytest.mark.parametrize("n", [3_000, 9_003])
def test_learn_day_matches_numpy(seed: int, terms: str, news: float, n: int) -> None:
    """learn_day's risks are the numpy statement's (the signal as Simulation built it,
    expm1, the update) and its counts population_counts' of them, over several blocks
    of its pass and a last partial one; its scratch comes back all zero."""
    rng = np.random.default_rng(seed)
    network = SocialNetwork.random(n, 9.0, np.random.default_rng(50 + seed))
    many = terms == "heavy"  # most users touched
    sanctioned = rng.integers(0, n, n if many else 300).astype(np.int32)
    none = np.zeros(0, dtype=np.int64)
    k_removed = n if many else 500
    removed = (
        rng.integers(0, n, k_removed).astype(np.int16 if n < 2**15 else np.int32)
        if terms in ("all", "removed", "heavy")
        else none
    )
    detained = (
        rng.integers(0, n, 7).astype(np.int64) if terms != "removed" and terms != "none" else none
    )
    # Weights that are not float32 numbers, chosen so that rounding in the wrong type
    # (float64 products, say) changes hundreds of values.
    own, w_removed, w_detained = 0.1 * 1.3, 1 / 3, 0.29
    pop = population(seed, n)
    flags = [rng.random(n) < share for share in (0.6, 0.05, 0.02)]
    decay = 0.5 ** (1 / 30)
    minus_signal = numpy_minus_signal(
        n, news, sanctioned, own, network, removed, w_removed, detained, w_detained
    )
    assert minus_signal.dtype == np.float32

    def statement(expm1):  # type: ignore[no-untyped-def]
        return numpy_learn(pop["risk"], minus_signal, decay, pop["state"], expm1)

    # The statement with numpy's expm1 is model.speech.update_risk's formula, to the bit.
    np.testing.assert_array_equal(
        statement(np.expm1)[pop["state"] != UserState.DETAINED],
        update_risk(pop["risk"], -minus_signal, decay)[pop["state"] != UserState.DETAINED],
    )
    slot = np.zeros(n, dtype=np.int32)
    got, counts, mean_risk = learn_day(
        pop["risk"], pop["state"], decay, news, sanctioned, own, network.indptr, network.indices,
        removed, w_removed, detained, w_detained, slot, *flags,
    )  # fmt: skip
    assert got.dtype == np.float32 and got is not pop["risk"]
    # To the bit: the statement with the expm1 the kernel calls (the rest is float32
    # +, -, * in the statement's order: no other function, so no other rounding).
    np.testing.assert_array_equal(got, statement(expm1_as_learn_day))
    # model.speech.update_risk as written (numpy's expm1): within the two expm1s' difference.
    np.testing.assert_array_max_ulp(
        expm1_as_learn_day(minus_signal), np.expm1(minus_signal), maxulp=EXPM1_ULPS
    )
    np.testing.assert_array_max_ulp(got, statement(np.expm1), maxulp=RISK_ULPS)
    expected_counts, expected_mean = population_counts(pop["state"], got, *flags)
    assert counts.tolist() == expected_counts.tolist()
    assert mean_risk == expected_mean
    assert not slot.any()


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
