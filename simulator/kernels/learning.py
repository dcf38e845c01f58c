"""Compiled perceived-risk learning and the population's daily counts (docs/model.md S3).

:func:`learn_day` is the day's risk update (:func:`simulator.model.speech.update_risk` on
each user's signal: the news, own sanctions, neighbours' removals and detentions) and
:func:`population_counts` in one pass over the users. Exactly what the numpy code it
replaced computed, in the same types and order (tests/test_kernels_day.py compares them).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.numeric import count_values
from simulator.kinds import UserState

ACTIVE = int(UserState.ACTIVE)
DETAINED = int(UserState.DETAINED)
N_STATES = len(UserState)

#: Users per block of :func:`learn_day`'s pass (a multiple of 4; ~40 KB of its arrays).
LEARN_BLOCK = 4096


#: learn_day counts states in 12-bit fields of one int64: 5 states, < 4,096 users a time.
STATE_FIELD_BITS = 12


STATE_FIELD_USERS = (1 << STATE_FIELD_BITS) - 1


assert N_STATES * STATE_FIELD_BITS <= 63
Array = NDArray[Any]


@njit(cache=True, nogil=True)
def population_counts(
    state: Array, risk: Array, traceable: Array, ever_reported: Array, ever_detained: Array
) -> tuple[Array, float]:
    """Users per state, then traceable, ever reported and ever detained users; and the
    mean perceived risk of active users, summed in float64 (numpy summed the float32
    values pairwise in float32: the two agree to about 1e-7)."""
    # Branch-free: states and flags come in random order, so tests would mispredict.
    # Four partial risk sums let the additions overlap (their order is fixed: the
    # result does not depend on the machine).
    counts = np.zeros(N_STATES + 3, dtype=np.int64)
    n = len(state)
    count_values(state, counts[:N_STATES])
    n_traceable = 0
    n_reported = 0
    n_detained = 0
    for i in range(n):
        n_traceable += traceable[i]
        n_reported += ever_reported[i]
        n_detained += ever_detained[i]
    counts[N_STATES] = n_traceable
    counts[N_STATES + 1] = n_reported
    counts[N_STATES + 2] = n_detained
    r0 = r1 = r2 = r3 = 0.0
    stop = n - n % 4
    for i in range(0, stop, 4):
        r0 += risk[i] * (state[i] == ACTIVE)
        r1 += risk[i + 1] * (state[i + 1] == ACTIVE)
        r2 += risk[i + 2] * (state[i + 2] == ACTIVE)
        r3 += risk[i + 3] * (state[i + 3] == ACTIVE)
    for i in range(stop, n):
        r0 += risk[i] * (state[i] == ACTIVE)
    risk_sum = (r0 + r1) + (r2 + r3)
    active = counts[ACTIVE]
    mean_risk = risk_sum / active if active > 0 else 0.0
    return counts, mean_risk


@njit(cache=True, nogil=True)
def _count_true(flags: Array) -> int:
    """How many of ``flags`` (bool) are true (read as bytes: bools did not vectorise)."""
    c = 0
    for flag in flags.view(np.uint8):
        c += flag
    return c


@njit(cache=True, nogil=True)
def _degrees(indptr: Array, users: Array) -> int:
    """The summed degree of ``users`` (with repeats)."""
    total = 0
    for u in users:
        total += indptr[u + 1] - indptr[u]
    return total


@njit(cache=True, nogil=True)
def _count_neighbours(
    indptr: Array,
    indices: Array,
    users: Array,
    count: Array,
    slot: Array,
    user_of: Array,
    own: Array,
    touched: int,
) -> int:
    """Add 1 to ``count[slot[v]]`` per neighbour ``v`` of each of ``users``, giving
    untouched neighbours the next slot (their own signal starts at the news,
    ``own[0]``). Returns the number of touched users."""
    for u in users:
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            if slot[v] == 0:
                touched += 1
                slot[v] = touched
                user_of[touched - 1] = v
                own[touched] = own[0]
            count[slot[v]] += np.float32(1.0)
    return touched


@njit(cache=True, nogil=True)
def learn_day(
    risk: Array,
    state: Array,
    decay: float,
    news: float,
    sanctioned: Array,
    own_weight: float,
    indptr: Array,
    indices: Array,
    removed: Array,
    removed_weight: float,
    detained: Array,
    detained_weight: float,
    slot: Array,
    traceable: Array,
    ever_reported: Array,
    ever_detained: Array,
) -> tuple[Array, Array, float]:
    """The day's risk update and the population's counts, in one pass over the users.

    The signal (float32) is the ``news`` for everyone, plus ``own_weight`` per own
    sanction (added one at a time in float64 and rounded, as ``np.add.at`` did), plus
    ``removed_weight`` per neighbour's public removal and ``detained_weight`` per
    neighbour detained (float32 count times float32 weight, added in float32; an empty
    ``removed`` or ``detained`` adds no term). The new risks (float32, a new array:
    caches are keyed on the old one) are ``model.speech.update_risk(risk, signal, decay)`` in
    float32 with the C library's ``expm1f`` (numpy's float32 ``expm1`` is the same
    function, except in builds with a SIMD routine of their own, such as AVX-512 ones:
    a few ULP apart, see docs/reliability.md "Across machines"), and 1 for detained users.
    The counts and mean risk are :func:`simulator.kernels.learning.population_counts` of the new
    risks: the same sums in the same order. ``slot`` (int32, one per user, all 0) is
    scratch, left all 0.

    Most users saw only the news: ``expm1`` of it is computed once, and only the users a
    term touched (a sanction, a neighbour's removal or detention: ~2% a day at a million
    users) get their own. This replaced four passes (the signal, numpy's ``expm1``, the
    update, the counts): ~14 ms a day at a million users, ``expm1`` alone 7 ms; now ~3.
    """
    n = len(risk)
    base = np.float32(news)
    # Users with more than the news, in the order first touched, and their terms;
    # slot[v] is v's place among them plus one (0: untouched).
    bound = min(len(sanctioned) + _degrees(indptr, removed) + _degrees(indptr, detained), n)
    user_of = np.empty(bound, dtype=np.int64)
    own = np.empty(bound + 1, dtype=np.float32)
    own[0] = base
    removed_count = np.zeros(bound + 1, dtype=np.float32)
    detained_count = np.zeros(bound + 1, dtype=np.float32)
    # int64 from the start: a literal 0 would have numba compile _count_neighbours
    # twice (once for the literal its first typing round sees, once for int64).
    touched: Any = np.int64(0)
    for w in sanctioned:
        if slot[w] == 0:
            touched += 1
            slot[w] = touched
            user_of[touched - 1] = w
            own[touched] = base
        k = slot[w]
        own[k] = np.float32(np.float64(own[k]) + own_weight)  # np.add.at's rounding
    # (Two calls, not a loop over a tuple: the two arrays' types may differ.)
    touched = _count_neighbours(
        indptr, indices, removed, removed_count, slot, user_of, own, touched
    )
    touched = _count_neighbours(
        indptr, indices, detained, detained_count, slot, user_of, own, touched
    )
    w_removed = np.float32(removed_weight)
    w_detained = np.float32(detained_weight)
    # expm1(-signal) by slot; slot 0 is everyone else's (the news alone).
    e = np.empty(touched + 1, dtype=np.float32)
    e[0] = math.expm1(-base)
    for k in range(1, touched + 1):
        s = own[k]
        if len(removed):  # an absent term is not added (a count of 0 adds 0.0)
            s = s + w_removed * removed_count[k]
        if len(detained):
            s = s + w_detained * detained_count[k]
        e[k] = math.expm1(-s)

    # The touched users by block of the pass (a counting sort): each block is learned
    # for the news alone, vectorised, and then its touched users are corrected.
    n_blocks = (n + LEARN_BLOCK - 1) // LEARN_BLOCK
    block_start = np.zeros(n_blocks + 1, dtype=np.int64)
    for k in range(touched):
        block_start[user_of[k] // LEARN_BLOCK + 1] += 1
    for b in range(n_blocks):
        block_start[b + 1] += block_start[b]
    fill = block_start[:n_blocks].copy()
    in_block = np.empty(touched, dtype=np.int64)  # slot numbers, block by block
    for k in range(touched):
        b = user_of[k] // LEARN_BLOCK
        in_block[fill[b]] = k + 1
        fill[b] += 1
    for k in range(touched):
        slot[user_of[k]] = 0

    out = np.empty_like(risk)
    d = np.float32(decay)
    one = np.float32(1.0)
    news_e = e[0]
    by_state = np.zeros(N_STATES, dtype=np.int64)
    n_traceable = n_reported = n_detained = 0
    # population_counts' four partial sums: lane i % 4 up to ``stop``, then lane 0.
    active_risk = np.empty(LEARN_BLOCK, dtype=np.float64)
    r0 = r1 = r2 = r3 = 0.0
    stop = n - n % 4
    for b in range(n_blocks):
        # Loops over block slices from 0: with indices known non-negative numba skips
        # its wraparound checks and the loops vectorise (4x faster than range(first,
        # last) here).
        first = b * LEARN_BLOCK
        last = min(first + LEARN_BLOCK, n)
        block_state = state[first:last]
        block_risk = risk[first:last]
        block_out = out[first:last]
        for i in range(len(block_state)):
            kept = block_risk[i] * d
            learned = kept + (one - kept) * (-news_e)
            block_out[i] = one if block_state[i] == DETAINED else learned
        for t in range(block_start[b], block_start[b + 1]):
            k = in_block[t]
            u = user_of[k - 1]
            if state[u] != DETAINED:
                kept = risk[u] * d
                out[u] = kept + (one - kept) * (-e[k])
        for i in range(len(block_state)):
            active_risk[i] = block_out[i] * (block_state[i] == ACTIVE)
        for j in range(0, min(last, stop) - first, 4):
            r0 += active_risk[j]
            r1 += active_risk[j + 1]
            r2 += active_risk[j + 2]
            r3 += active_risk[j + 3]
        for j in range(max(first, stop) - first, last - first):
            r0 += active_risk[j]
        # Users per state: one pass adding 1 << (12 * state), a 12-bit field per state,
        # over halves of at most 4,095 users (a field's limit).
        for half in range(0, len(block_state), STATE_FIELD_USERS):
            packed = 0
            for state_i in block_state[half : half + STATE_FIELD_USERS]:
                packed += 1 << (STATE_FIELD_BITS * state_i)
            for k in range(N_STATES):
                by_state[k] += (packed >> (STATE_FIELD_BITS * k)) & STATE_FIELD_USERS
        n_traceable += _count_true(traceable[first:last])
        n_reported += _count_true(ever_reported[first:last])
        n_detained += _count_true(ever_detained[first:last])
    counts = np.zeros(N_STATES + 3, dtype=np.int64)
    for k in range(N_STATES):  # (a slice copy compiles its error message: seconds)
        counts[k] = by_state[k]
    counts[N_STATES] = n_traceable
    counts[N_STATES + 1] = n_reported
    counts[N_STATES + 2] = n_detained
    risk_sum = (r0 + r1) + (r2 + r3)
    active = counts[ACTIVE]
    return out, counts, risk_sum / active if active > 0 else 0.0
