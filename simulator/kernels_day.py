"""Compiled steps of the day's end: sanctions, the perceived-risk signal, the network.

At 10,000 users a day's consequences were ~25 numpy calls of a few microseconds each
(``np.unique``, fancy indexing, masks, temporaries); at a million users the same calls
are passes over the population. Each kernel here does one step in one call, computing
exactly what the numpy code it replaced computed, in the same types and order
(``tests/test_kernels_day.py`` compares them with that code). Compiled on first use and
cached on disk (``cache=True``), like :mod:`simulator.kernels`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kinds import UserState

ACTIVE = int(UserState.ACTIVE)
EXCLUDED = int(UserState.EXCLUDED)
LEFT = int(UserState.LEFT)
CIRCUMVENTING = int(UserState.CIRCUMVENTING)
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
    order = np.sort(sanctioned)
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
def minus_signal(
    n: int,
    news: float,
    sanctioned: Array,
    own_weight: float,
    indptr: Array,
    indices: Array,
    removed: Array,
    removed_weight: float,
    detained: Array,
    detained_weight: float,
) -> Array:
    """``-signal`` (float32, ``n`` users) for the day's risk update: the news for
    everyone, plus ``own_weight`` per own sanction, plus ``removed_weight`` per
    neighbour's public removal and ``detained_weight`` per neighbour detained (an empty
    ``removed`` or ``detained`` skips its term).

    In numpy's types and order: the news rounded to float32; own sanctions added one at
    a time in float64 and rounded to float32 (``np.add.at`` with a Python float); each
    neighbour term a float32 count times the float32 weight, added in float32."""
    signal = np.full(n, np.float32(news), dtype=np.float32)
    for w in sanctioned:
        signal[w] = np.float32(np.float64(signal[w]) + own_weight)
    _add_neighbour_term(signal, indptr, indices, removed, removed_weight)
    _add_neighbour_term(signal, indptr, indices, detained, detained_weight)
    for i in range(n):
        signal[i] = -signal[i]
    return signal


@njit(cache=True, nogil=True)
def _add_neighbour_term(
    signal: Array, indptr: Array, indices: Array, users: Array, weight: float
) -> None:
    if len(users) == 0:
        return
    counts = np.zeros(len(signal), dtype=np.float32)
    for u in users:
        for j in range(indptr[u], indptr[u + 1]):
            counts[indices[j]] += np.float32(1.0)
    w = np.float32(weight)
    for i in range(len(signal)):
        signal[i] = signal[i] + w * counts[i]


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
def sorted_rows_blocked(a: Array, b: Array, indptr: Array, indices: Array, block: int) -> None:
    """What :func:`network_rows` then :func:`sort_rows` give, without the temporary rows
    and with writes that stay in cache: for each ``block`` of sources, a scan of every
    edge writes the block's rows, which are then sorted in place (insertion sort; rows
    hold a few dozen neighbours, ``np.sort`` for longer ones). For large graphs, where
    the scattered writes of :func:`sort_rows` miss the cache every time."""
    n = len(indptr) - 1
    fill = indptr[:-1].copy()
    for lo in range(0, n, block):
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
                indices[start:stop] = np.sort(indices[start:stop])
                continue
            for j in range(start + 1, stop):
                v = indices[j]
                p = j - 1
                while p >= start and indices[p] > v:
                    indices[p + 1] = indices[p]
                    p -= 1
                indices[p + 1] = v


DETAINED = int(UserState.DETAINED)


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
