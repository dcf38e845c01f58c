"""Compiled steps of the day's end: sanctions, the perceived-risk signal, the network.

At 10,000 users a day's consequences were ~25 numpy calls of a few microseconds each
(``np.unique``, fancy indexing, masks, temporaries); at a million users the same calls
are passes over the population. Each kernel here does one step in one call, computing
exactly what the numpy code it replaced computed, in the same types and order
(``tests/test_kernels_day.py`` compares them with that code). Compiled on first use and
cached on disk (``cache=True``), like :mod:`simulator.kernels`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels import merge_argsort
from simulator.kinds import UserState

ACTIVE = int(UserState.ACTIVE)
EXCLUDED = int(UserState.EXCLUDED)
LEFT = int(UserState.LEFT)
CIRCUMVENTING = int(UserState.CIRCUMVENTING)
DETAINED = int(UserState.DETAINED)
N_STATES = len(UserState)
#: Users per block of :func:`learn_day`'s pass (a multiple of 4; ~40 KB of its arrays).
LEARN_BLOCK = 4096
#: learn_day counts states in 12-bit fields of one int64: 5 states, < 4,096 users a time.
STATE_FIELD_BITS = 12
STATE_FIELD_USERS = (1 << STATE_FIELD_BITS) - 1
assert N_STATES * STATE_FIELD_BITS <= 63
STRIKES_CAP = 32_000  # strikes are int16
Array = NDArray[Any]


@njit(cache=True, nogil=True)
def apply_strikes(
    sanctioned: Array, strikes: Array, state: Array, platform: Array, limits: Array
) -> tuple[Array, Array]:
    """Add each sanction to its user's strikes (capped at 32,000) and close the accounts
    of active users whose strikes reach their platform's limit (state EXCLUDED).

    Returns ``(closed, still)``: the users closed and the sanctioned users still active
    afterwards, each in ascending order (int64). As ``np.unique(sanctioned,
    return_counts=True)`` followed by the masks it replaced."""
    order = sanctioned[merge_argsort(sanctioned)]
    m = len(order)
    who = np.empty(m, dtype=np.int64)
    times = np.empty(m, dtype=np.int64)
    k = -1
    for j in range(m):
        u = order[j]
        if k >= 0 and who[k] == u:
            times[k] += 1
        else:
            k += 1
            who[k] = u
            times[k] = 1
    k += 1
    closed = np.empty(k, dtype=np.int64)
    still = np.empty(k, dtype=np.int64)
    n_closed = 0
    n_still = 0
    for j in range(k):
        u = who[j]
        total = np.int64(strikes[u]) + times[j]
        strikes[u] = min(total, STRIKES_CAP)
        if state[u] == ACTIVE:
            if np.int64(strikes[u]) >= limits[platform[u]]:
                state[u] = EXCLUDED
                closed[n_closed] = u
                n_closed += 1
            else:
                still[n_still] = u
                n_still += 1
    return closed[:n_closed], still[:n_still]


@njit(cache=True, nogil=True)
def apply_exits(
    still: Array, draw: Array, leave_probability: float, leave_or_circumvent: float, state: Array
) -> int:
    """Sanctioned users who stay active leave (``draw < leave_probability``) or turn to
    circumvention (else ``draw < leave_or_circumvent``, the two probabilities' sum).
    Returns how many did (their state changed)."""
    changed = 0
    for j in range(len(still)):
        d = draw[j]
        if d < leave_probability:
            state[still[j]] = LEFT
            changed += 1
        elif d < leave_or_circumvent:
            state[still[j]] = CIRCUMVENTING
            changed += 1
    return changed


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
    caches are keyed on the old one) are ``rules.update_risk(risk, signal, decay)`` in
    float32 with the C library's ``expm1f`` (numpy's float32 ``expm1`` is the same
    function, except in builds with a SIMD routine of their own, such as AVX-512 ones:
    a few ULP apart, see docs/reliability.md "Across machines"), and 1 for detained users.
    The counts and mean risk are :func:`simulator.kernels.population_counts` of the new
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


@njit(cache=True, nogil=True)
def count_loops_kept(a: Array, b: Array) -> int:
    """Edges that are not self-loops (``a != b``)."""
    kept = 0
    for k in range(len(a)):
        kept += a[k] != b[k]
    return kept


@njit(cache=True, nogil=True)
def network_offsets(a: Array, b: Array, indptr: Array) -> None:
    """Row offsets of the undirected graph with edges ``(a[k], b[k])``, self-loops
    dropped, into ``indptr`` (zeros on entry, ``users + 1`` long)."""
    n = len(indptr) - 1
    for k in range(len(a)):
        x = a[k]
        y = b[k]
        if x != y:
            indptr[x + 1] += 1
            indptr[y + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]


@njit(cache=True, nogil=True)
def network_rows(a: Array, b: Array, indptr: Array, rows: Array) -> None:
    """Each user's neighbours into their row of ``rows`` (rows as ``indptr`` says), in
    edge order: both ends of every edge that is not a self-loop."""
    fill = indptr[:-1].copy()
    for k in range(len(a)):
        x = a[k]
        y = b[k]
        if x != y:
            rows[fill[x]] = y
            fill[x] += 1
            rows[fill[y]] = x
            fill[y] += 1


@njit(cache=True, nogil=True)
def sort_rows(indptr: Array, rows: Array, indices: Array) -> None:
    """The rows of ``rows`` (an undirected graph's, any order within a row) into
    ``indices``, each row in ascending order: row ``t`` of ``rows`` lists the ``s``
    whose rows hold ``t``, so visiting ``t`` in ascending order and appending it to
    each such row sorts every row without a comparison (a counting sort's second
    pass). The same rows as sorting the packed ``source << 32 | target`` keys of both
    directions of every edge."""
    fill = indptr[:-1].copy()
    for t in range(len(indptr) - 1):
        for j in range(indptr[t], indptr[t + 1]):
            s = rows[j]
            indices[fill[s]] = t
            fill[s] += 1


@njit(cache=True, nogil=True)
def sorted_rows_blocked(
    a: Array, b: Array, indptr: Array, indices: Array, block: int, first: int = 0, step: int = 1
) -> None:
    """What :func:`network_rows` then :func:`sort_rows` give, without the temporary rows
    and with writes that stay in cache: for each ``block`` of sources, a scan of every
    edge writes the block's rows, which are then sorted in place (insertion sort; rows
    hold a few dozen neighbours, ``np.sort`` for longer ones). For large graphs, where
    the scattered writes of :func:`sort_rows` miss the cache every time.

    Only blocks ``first, first + step, ...``: blocks write disjoint rows, so threads
    (the GIL released) can share the work and write the same arrays."""
    n = len(indptr) - 1
    fill = indptr[:-1].copy()
    for lo in range(first * block, n, step * block):
        hi = min(lo + block, n)
        for k in range(len(a)):
            x = a[k]
            y = b[k]
            if x != y:
                if lo <= x and x < hi:
                    indices[fill[x]] = y
                    fill[x] += 1
                if lo <= y and y < hi:
                    indices[fill[y]] = x
                    fill[y] += 1
        for i in range(lo, hi):
            start = np.int64(indptr[i])
            stop = np.int64(indptr[i + 1])
            if stop - start > 32:
                indices[start:stop].sort()  # in place (a slice copy compiles slowly)
                continue
            for j in range(start + 1, stop):
                v = indices[j]
                p = j - 1
                while p >= start and indices[p] > v:
                    indices[p + 1] = indices[p]
                    p -= 1
                indices[p + 1] = v


@njit(cache=True, nogil=True)
def investigate_until(
    arrival: Array,
    report: Array,
    t_end: float,
    investigators: int,
    finish: Array,
    line: Array,
    line_arrival: Array,
    counters: Array,
    service: Array,
    uniform: Array,
    report_user: Array,
    report_kind: Array,
    state: Array,
    traceable: Array,
    identify: float,
    detention_probability: Array,
) -> tuple[Array, Array, Array]:
    """The police's day: advance their first-come-first-served line of reports to
    ``t_end`` (hours) through the new ``arrival`` times (sorted, ties in filing order)
    of reports ``report``, investigating each as an investigator takes it up.

    What :class:`simulator.review_queue.ReviewQueue` with one priority level does with
    the police's ``investigate`` callback (tests/test_police.py compares the two): an
    arrival takes a free investigator at once, else it waits; an investigator who
    finishes before the next arrival (arrivals first at equal times) takes up the head
    of the line; each start, or drop, uses the next ``service`` time. (With one priority
    level, SimPy's replay of arrivals at one instant starts the same reports at the same
    time with the same draws as taking them one by one.) A report about a user already
    detained is dropped (the investigator stays free); otherwise the user is identified
    (traceable, or with probability ``identify``) and then detained with the kind's
    probability, each a draw from ``uniform``, in that order.

    State, updated in place: ``finish[:busy]`` (a min-heap of finish times), the line
    as a ring (``line``/``line_arrival``, capacity a power of two), and ``counters``
    ``[busy, line head, line length, next service, next uniform]``. The caller leaves
    room for every arrival in the line, and a service time and two uniforms for every
    arrival and waiting report. Returns the detentions decided: finish times (hours),
    users, kinds."""
    busy, head, length, j, u = counters[0], counters[1], counters[2], counters[3], counters[4]
    mask = len(line) - 1
    n = len(arrival)
    out_time = np.empty(n + length, dtype=np.float64)
    out_user = np.empty(n + length, dtype=np.int64)
    out_kind = np.empty(n + length, dtype=np.int64)
    detained = 0
    i = 0
    while True:
        ta = arrival[i] if i < n else np.inf
        if busy > 0 and finish[0] < ta:
            tf = finish[0]
            if tf >= t_end:
                break
            # Pop the earliest finish (heapq's layout).
            busy -= 1
            last = finish[busy]
            k = 0
            while True:
                child = 2 * k + 1
                if child >= busy:
                    break
                if child + 1 < busy and finish[child + 1] < finish[child]:
                    child += 1
                if last <= finish[child]:
                    break
                finish[k] = finish[child]
                k = child
            finish[k] = last
            start = tf
        elif i < n:
            start = ta
            if busy >= investigators:
                line[(head + length) & mask] = report[i]
                line_arrival[(head + length) & mask] = ta
                length += 1
                i += 1
                continue
            # A free investigator: the arrival is next to start (the line is empty).
            head = (head - 1) & mask
            line[head] = report[i]
            line_arrival[head] = ta
            length += 1
            i += 1
        else:
            break
        # A free investigator at ``start`` takes up reports from the head of the line
        # until one is investigated (a dropped one leaves the investigator free).
        while length > 0:
            item = line[head]
            head = (head + 1) & mask
            length -= 1
            done = start + service[j]
            j += 1
            user = report_user[item]
            if state[user] == DETAINED:
                continue  # already detained: nothing to investigate
            identified = traceable[user]
            if not identified:
                identified = uniform[u] < identify
                u += 1
            kind = report_kind[item]
            if identified:
                detain = uniform[u] < detention_probability[kind]
                u += 1
                if detain:
                    out_time[detained] = done
                    out_user[detained] = user
                    out_kind[detained] = kind
                    detained += 1
            # Push the finish onto the heap.
            k = busy
            while k > 0:
                parent = (k - 1) >> 1
                if finish[parent] <= done:
                    break
                finish[k] = finish[parent]
                k = parent
            finish[k] = done
            busy += 1
            break
    counters[0], counters[1], counters[2], counters[3], counters[4] = busy, head, length, j, u
    return out_time[:detained], out_user[:detained], out_kind[:detained]
