"""Sanctions and turnover (docs/model.md S14) without a Simulation: the compiled passes
(simulator/kernels/sanctions.py) against their numpy statements
(simulator/model/sanctions.py), and the rules' promises on hand-built histories."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from simulator.kernels import sanctions as sk
from simulator.kinds import UserState
from simulator.model import sanctions as ms
from simulator.streams import Streams

SEEDS = [0, 1, 2]


def population(seed: int, n: int = 2_000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    last = rng.integers(-200, 100, n).astype(np.int32)
    last[rng.random(n) < 0.3] = sk.NO_STRIKE_DAY
    return {
        "state": rng.choice(len(UserState), size=n, p=[0.7, 0.1, 0.05, 0.1, 0.05]).astype(np.int8),
        "platform": rng.integers(0, 3, n).astype(np.int16),
        "strikes": np.where(
            rng.random(n) < 0.05, rng.integers(31_990, 32_001, n), rng.integers(0, 6, n)
        ).astype(np.int16),
        "last_strike_day": last,
        "excl_reason": np.zeros(n, dtype=np.int8),
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_strikes_kernel_equals_the_statement(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    a = population(seed)
    b = {k: v.copy() for k, v in a.items()}
    limits = np.array([3, 0, 6], dtype=np.int64)  # platform 1 never closes
    suspend = np.array([2, 2, 0], dtype=np.int64)  # platform 2 never suspends
    clean = np.array([30, 60, 90], dtype=np.int64)
    day = 100
    sanctioned = rng.integers(0, len(a["state"]), 1_500).astype(np.int64)
    closed_k, suspended_k, still_k = sk.apply_strikes(
        sanctioned, day, a["strikes"], a["last_strike_day"], a["state"], a["platform"],
        limits, suspend, clean, a["excl_reason"],
    )  # fmt: skip
    closed_s, suspended_s, still_s = ms.add_strikes(
        sanctioned, day, b["strikes"], b["last_strike_day"], b["state"], b["platform"],
        limits, suspend, clean, b["excl_reason"],
    )  # fmt: skip
    np.testing.assert_array_equal(closed_k, closed_s)
    np.testing.assert_array_equal(suspended_k, suspended_s)
    np.testing.assert_array_equal(still_k, still_s)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # The draw did exercise every branch: expired records, closures and suspensions.
    assert len(closed_k) > 10 and len(suspended_k) > 10 and len(still_k) > 100
    assert (a["platform"][closed_k] != 1).all() and (a["platform"][suspended_k] != 2).all()
    assert (a["excl_reason"][suspended_k] == sk.REASON_ACCOUNT_SUSPENDED).all()
    assert (a["strikes"][np.unique(sanctioned)] == 1).sum() > 50  # expired, then one strike


def test_many_take_downs_in_a_day_are_one_strike() -> None:
    # L9: take-downs at once count as one strike; a day with five is one strike.
    strikes = np.zeros(2, np.int16)
    last = np.full(2, sk.NO_STRIKE_DAY, np.int32)
    state = np.zeros(2, np.int8)
    struck = np.array([0, 0, 0, 0, 0, 1], np.int64)
    for day in (3, 4):
        sk.apply_strikes(
            struck, day, strikes, last, state, np.zeros(2, np.int16),
            np.array([5], np.int64), np.array([0], np.int64), np.array([60], np.int64),
            np.zeros(2, np.int8),
        )  # fmt: skip
    assert strikes.tolist() == [2, 2] and (state == UserState.ACTIVE).all()


def _history(interval: int, sanctions: int, clean_days: int, limit: int) -> tuple[int, int]:
    """One user sanctioned once every ``interval`` days: (sanctions until closure or
    ``sanctions`` if never closed, final strikes)."""
    strikes = np.zeros(1, np.int16)
    last = np.full(1, sk.NO_STRIKE_DAY, np.int32)
    state = np.zeros(1, np.int8)
    reason = np.zeros(1, np.int8)
    platform = np.zeros(1, np.int16)
    for j in range(sanctions):
        closed, _, _ = sk.apply_strikes(
            np.zeros(1, np.int64), 7 + j * interval, strikes, last, state, platform,
            np.array([limit], np.int64), np.array([0], np.int64),
            np.array([clean_days], np.int64), reason,
        )  # fmt: skip
        if len(closed):
            assert state[0] == UserState.EXCLUDED and reason[0] == sk.REASON_CLOSED
            return j + 1, int(strikes[0])
    return sanctions, int(strikes[0])


@pytest.mark.parametrize("clean_days", [1, 60, 90])
@pytest.mark.parametrize("limit", [2, 5, 16])
def test_sanctions_spaced_beyond_the_clean_period_never_close(clean_days: int, limit: int) -> None:
    # clean_days whole days without a sanction between two sanctions wipe the record.
    count, strikes = _history(clean_days + 1, 3 * limit, clean_days, limit)
    assert count == 3 * limit and strikes == 1


@pytest.mark.parametrize("clean_days", [2, 60, 90])
@pytest.mark.parametrize("limit", [2, 5, 16])
@pytest.mark.parametrize("gap", [2, 1, 0])  # interval = clean_days - gap (<= clean_days)
def test_sanctions_within_the_clean_period_close_after_k(
    clean_days: int, limit: int, gap: int
) -> None:
    interval = max(1, clean_days - gap)
    count, strikes = _history(interval, 3 * limit, clean_days, limit)
    assert count == limit and strikes == limit


def test_strikes_in_force_reads_decay_the_same_way() -> None:
    strikes = np.array([4, 4, 4, 4], np.int16)
    last = np.array([10, 10, 10, sk.NO_STRIKE_DAY], np.int32)
    clean = np.array([60, 60, 60, 60])
    days = [70, 71, 200, 0]
    expected = [4, 0, 0, 0]
    for i in range(4):
        assert sk.strikes_in_force(int(strikes[i]), int(last[i]), days[i], 60) == expected[i]
        assert (
            ms.strikes_in_force(strikes[i : i + 1], last[i : i + 1], days[i], clean[i])[0]
            == expected[i]
        )


def test_burned_identities_never_return_and_others_do() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    closed = np.arange(n, dtype=np.int64)
    traceable = np.arange(n) % 2 == 0
    platform = (np.arange(n) % 4 >= 2).astype(np.int16)  # platform 1 checks identities
    enforcement = np.array([0.0, 1.0])
    mean_days = np.array([14.0, 14.0])
    due = ms.return_days(closed, 50, rng, mean_days, traceable, platform, True, enforcement)
    burned = traceable & (platform == 1)
    assert (due[burned] == sk.NEVER).all()
    assert (due[~burned] >= 51).all() and (due[~burned] < sk.NEVER).all()
    # ceil of an exponential with mean 14 (>= 1): mean about 14.5.
    assert 14.0 < (due[~burned] - 50).mean() < 15.0
    # Without the rule in force no identity is burned, whatever the platform checks.
    due_off = ms.return_days(closed, 50, rng, mean_days, traceable, platform, False, enforcement)
    assert (due_off < sk.NEVER).all()
    # A delay past int32 means never, not an overflow.
    huge = ms.return_days(
        closed[:10], 50, rng, np.array([1e12, 1e12]), traceable, platform, False, enforcement
    )
    assert (huge == sk.NEVER).all()


def test_returns_restore_only_due_closed_accounts_and_wait_out_detention() -> None:
    n = 6
    state = np.array([1, 1, 4, 1, 0, 1], np.int8)  # EXCLUDED, EXCLUDED, DETAINED, ..., ACTIVE
    reason = np.array([1, 1, 1, 3, 0, 1], np.int8)  # closed, closed, closed, refused, -, closed
    return_day = np.array([9, 9, 9, 9, sk.NEVER, 10], np.int32)
    strikes = np.full(n, 5, np.int16)
    last = np.full(n, 3, np.int32)
    returned, deferred = sk.apply_returns(
        np.arange(n, dtype=np.int64), 9, state, strikes, last, return_day, reason
    )
    assert returned.tolist() == [0, 1] and deferred.tolist() == [2]
    assert state.tolist() == [0, 0, 4, 1, 0, 1]
    assert strikes.tolist() == [0, 0, 5, 5, 5, 5]
    assert reason.tolist() == [0, 0, 1, 3, 0, 1]
    assert return_day.tolist() == [sk.NEVER, sk.NEVER, 10, 9, sk.NEVER, 10]


def test_a_suspension_ends_on_its_day_and_keeps_the_strikes() -> None:
    # Suspended at the 3rd strike on day 10 for 4 days: posts again on day 15 with its 3
    # strikes, and the next strike while they are in force suspends it again (L9, L10).
    strikes = np.zeros(1, np.int16)
    last = np.full(1, sk.NO_STRIKE_DAY, np.int32)
    state = np.zeros(1, np.int8)
    reason = np.zeros(1, np.int8)
    return_day = np.full(1, sk.NEVER, np.int32)
    platform = np.zeros(1, np.int16)
    close, suspend, clean = (np.array([v], np.int64) for v in (10, 3, 60))
    one = np.zeros(1, np.int64)
    for day in (8, 9):
        sk.apply_strikes(one, day, strikes, last, state, platform, close, suspend, clean, reason)
    _, suspended, _ = sk.apply_strikes(
        one, 10, strikes, last, state, platform, close, suspend, clean, reason
    )
    assert suspended.tolist() == [0] and reason[0] == sk.REASON_ACCOUNT_SUSPENDED
    ladder = np.array([[4, 9]], np.int64)  # 4 days, then 9 days at every later one
    due = ms.suspension_ends(suspended, 10, suspend, ladder, strikes, platform)
    assert due.tolist() == [15]
    return_day[0] = due[0]
    for day in (14, 15):
        returned, _ = sk.apply_returns(
            np.zeros(1, np.int64), day, state, strikes, last, return_day, reason
        )
        assert len(returned) == (day == 15)
    assert state[0] == UserState.ACTIVE and strikes[0] == 3 and last[0] == 10
    _, again, _ = sk.apply_strikes(
        one, 20, strikes, last, state, platform, close, suspend, clean, reason
    )
    assert again.tolist() == [0] and strikes[0] == 4
    assert ms.suspension_ends(again, 20, suspend, ladder, strikes, platform).tolist() == [30]
    strikes[0] = 9
    assert ms.suspension_ends(again, 20, suspend, ladder, strikes, platform).tolist() == [30]
    # A closed account comes back as a new one: no strikes.
    state[0], reason[0], return_day[0] = UserState.EXCLUDED, sk.REASON_CLOSED, 30
    sk.apply_returns(np.zeros(1, np.int64), 30, state, strikes, last, return_day, reason)
    assert state[0] == UserState.ACTIVE and strikes[0] == 0


def test_renewals_reset_the_slot_and_register_newcomers() -> None:
    n = 40_000
    rng = np.random.default_rng(9)
    state = rng.choice(5, n).astype(np.int8)
    reason = np.where(state == 1, 1, 0).astype(np.int8)
    strikes = np.full(n, 3, np.int16)
    last = np.full(n, 8, np.int32)
    return_day = np.full(n, 30, np.int32)
    traceable = np.zeros(n, bool)
    platform = (np.arange(n) % 2).astype(np.int16)
    slots = np.arange(n, dtype=np.int64)
    draws = rng.random((3, n))
    detained = state == UserState.DETAINED
    renewed, changed = sk.renew_slots(
        slots, state, strikes, last, return_day, reason, traceable, platform,
        draws[0], draws[1], draws[2], True, 0.2, np.array([0.0, 1.0]), 0.25,
    )  # fmt: skip
    assert renewed.tolist() == np.flatnonzero(~detained).tolist()
    assert (state[detained] == UserState.DETAINED).all() and (strikes[detained] == 3).all()
    r = renewed
    assert (strikes[r] == 0).all() and (last[r] == sk.NO_STRIKE_DAY).all()
    assert (return_day[r] == sk.NEVER).all()
    refuses = draws[0][r] < 0.2
    np.testing.assert_array_equal(traceable[r], ~refuses)
    enforced = refuses & (platform[r] == 1)
    np.testing.assert_array_equal(state[r][~enforced], UserState.ACTIVE)
    circ = enforced & (draws[2][r] < 0.25)
    np.testing.assert_array_equal(state[r][circ], UserState.CIRCUMVENTING)
    np.testing.assert_array_equal(state[r][enforced & ~circ], UserState.EXCLUDED)
    np.testing.assert_array_equal(reason[r][enforced & ~circ], sk.REASON_REFUSED_REAL_NAME)
    assert (reason[r][~(enforced & ~circ)] == 0).all()
    assert changed > 0.7 * len(r)
    # Without the rule: everyone ACTIVE and anonymous; a renewal of an unchanged slot
    # reports no change (the engine then keeps its route caches).
    again, changed_again = sk.renew_slots(
        r, state, strikes, last, return_day, reason, traceable, platform,
        draws[0], draws[1], draws[2], False, 0.2, np.array([0.0, 1.0]), 0.25,
    )  # fmt: skip
    assert (state[again] == UserState.ACTIVE).all() and not traceable[again].any()
    _, none_changed = sk.renew_slots(
        r, state, strikes, last, return_day, reason, traceable, platform,
        draws[0], draws[1], draws[2], False, 0.2, np.array([0.0, 1.0]), 0.25,
    )  # fmt: skip
    assert changed_again > 0 and none_changed == 0


def test_renewal_draws_do_not_depend_on_anything_but_the_stream() -> None:
    a = ms.draw_renewals(np.random.default_rng(3), 100_000, 0.2)
    b = ms.draw_renewals(np.random.default_rng(3), 100_000, 0.2)
    for name in ("slots", "refuse", "enforce", "circumvent"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert len(np.unique(a.slots)) == len(a.slots) and (np.diff(a.slots) > 0).all()
    # Over a year the count is Binomial(n, 0.2/365) a day: about 54.8 a day.
    rng = np.random.default_rng(4)
    counts = [len(ms.draw_renewals(rng, 100_000, 0.2).slots) for _ in range(365)]
    assert 52.0 < np.mean(counts) < 57.5
    assert len(ms.draw_renewals(rng, 100_000, 0.0).slots) == 0


def _access(seed: int, n: int = 5_000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    state = rng.choice(5, n).astype(np.int8)
    return {
        "state": state,
        "excl_reason": np.where(state == 1, rng.choice([1, 3], n), 0).astype(np.int8),
        "platform": rng.integers(0, 2, n).astype(np.int16),
    }


def _recount(pop, serving, weight, cumulative):  # type: ignore[no-untyped-def]
    n = len(pop["state"])
    reason_now = np.zeros(n, np.int8)
    counts = np.zeros(sk.N_REASONS, np.int64)
    mass = np.zeros((2, sk.N_REASONS, 1 + cumulative.shape[0]))  # benign, each weight row
    sk.recount_exclusions(
        pop["state"], pop["excl_reason"], pop["platform"], serving, weight, cumulative,
        reason_now, counts, mass,
    )  # fmt: skip
    return reason_now, counts, mass


def test_exclusion_counts_equal_the_statement_and_add_up() -> None:
    rng = np.random.default_rng(11)
    pop = _access(11)
    n = len(pop["state"])
    serving = np.array([True, False])
    route = np.where(
        (pop["state"] == 0) & serving[pop["platform"]],
        pop["platform"],
        np.where(pop["state"] == 3, 2, -1),
    ).astype(np.int16)
    # Three sensitive weight rows (groups with their own mix of kinds, model.md S1).
    weight, sensitive = rng.random(n), rng.random((3, n))
    reason_now, counts, mass = _recount(pop, serving, weight, np.cumsum(sensitive, axis=1))
    stated = ms.exclusion_reasons(route, pop["state"], pop["excl_reason"])
    np.testing.assert_array_equal(reason_now, stated)
    np.testing.assert_array_equal(
        counts, np.bincount(stated, minlength=sk.N_REASONS) * (np.arange(sk.N_REASONS) > 0)
    )
    assert counts.sum() == (route < 0).sum()
    assert counts[sk.REASON_SUSPENDED] == ((pop["state"] == 0) & (pop["platform"] == 1)).sum()
    for p in range(2):
        for r in range(1, sk.N_REASONS):
            these = (stated == r) & (pop["platform"] == p)
            assert mass[p, r, 0] == pytest.approx(weight[these].sum())
            for row in range(3):
                assert mass[p, r, 1 + row] == pytest.approx(sensitive[row, these].sum())


def test_touched_users_update_the_counts_as_a_recount_would() -> None:
    rng = np.random.default_rng(12)
    pop = _access(12)
    n = len(pop["state"])
    serving = np.array([True, False])
    weight, cumulative = rng.random(n), np.cumsum(rng.random((1, n)), axis=1)
    reason_now, counts, mass = _recount(pop, serving, weight, cumulative)
    for _ in range(20):  # days of changes: some users change state or reason
        changed = rng.choice(n, 300, replace=False)
        new_state = rng.choice(5, 300)
        pop["state"][changed] = new_state
        pop["excl_reason"][changed] = np.where(new_state == 1, rng.choice([1, 3], 300), 0)
        sk.update_exclusions(
            changed, pop["state"], pop["excl_reason"], pop["platform"], serving, weight,
            cumulative, reason_now, counts, mass,
        )  # fmt: skip
    fresh_reason, fresh_counts, fresh_mass = _recount(pop, serving, weight, cumulative)
    np.testing.assert_array_equal(reason_now, fresh_reason)
    np.testing.assert_array_equal(counts, fresh_counts)
    np.testing.assert_allclose(mass, fresh_mass, atol=1e-9)
    assert counts[sk.REASON_CLOSED] > 0 and counts[sk.REASON_SUSPENDED] > 0


def test_the_turnover_stream_leaves_the_other_streams_as_they_were() -> None:
    """The ninth stream came last: the first eight are those of ``spawn(8)``, so adding
    turnover changed no earlier draw (and the tenth, access, came after it:
    tests/test_access.py; reporting and appeals after that: tests/test_attribution.py)."""
    streams = Streams.from_seed(77)
    old = [np.random.default_rng(c) for c in np.random.SeedSequence(77).spawn(8)]
    names = [f.name for f in fields(Streams)]
    assert names[8] == "turnover" and names[9:] == ["access", "reporting", "appeals"]
    for name, generator in zip(names[:8], old, strict=True):
        assert getattr(streams, name).random(4).tolist() == generator.random(4).tolist(), name
