"""The multi-server queue the review and the police share, compiled: its state, its
two heaps and its arrival buffers (docs/model.md, 3.3 Submodels S6 and S12).

Both queues are ``c`` servers (reviewers, investigators) taking waiting items by
priority, then first come first served, non-preemptively: the statement is
:class:`simulator.model.review_queue.ReviewQueue` (tests/test_review_kernels.py and
tests/test_police.py hold the compiled days to it). Their state, in arrays the caller
keeps between days:

* the busy servers' finish times (hours): a binary min-heap in ``finish[:busy]``
  (heapq's layout; :func:`finish_push`, :func:`finish_pop`);
* the waiting line: one min-heap of ``(priority, seq)`` with :data:`LINE_ARITY` children
  a node in the ``line_*`` arrays
  (``seq`` counts entries into the line, so within a priority the first in is the first
  out; :func:`line_push`, :func:`line_pop`). The police use one priority level: a FIFO.

The event loops (:func:`simulator.kernels.review.review_day`,
:func:`simulator.kernels.police.investigate_until`) call these and decide each item
inline as it starts. The decision is not passed in as a function: numba calls a
function argument (or an overload taking the decision's arrays) without inlining it,
measured 6 to 10 times slower per item than the decision written in the loop.
Module-level heap functions taking their arrays are inlined and cost nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.numeric import merge_argsort

Array = NDArray[Any]


def new_line(capacity: int) -> tuple[Array, Array, Array, Array]:
    """A line's four arrays for ``capacity`` entries: priorities, sequence numbers, items
    (int64) and arrival hours (float64), in the order :func:`line_push` takes them."""
    return (
        np.empty(capacity, dtype=np.int64),
        np.empty(capacity, dtype=np.int64),
        np.empty(capacity, dtype=np.int64),
        np.empty(capacity, dtype=np.float64),
    )


@njit(cache=True, nogil=True)
def finish_push(finish: Array, size: int, value: float) -> None:
    """Push ``value`` onto the min-heap ``finish[:size]`` (heapq's layout; the caller
    counts the new size, ``size + 1``)."""
    k = size
    while k > 0:
        parent = (k - 1) >> 1
        if finish[parent] <= value:
            break
        finish[k] = finish[parent]
        k = parent
    finish[k] = value


@njit(cache=True, nogil=True)
def finish_pop(finish: Array, size: int) -> None:
    """Drop the smallest of the min-heap ``finish[:size]`` (``size`` > 0; the caller
    counts the new size, ``size - 1``)."""
    size -= 1
    last = finish[size]
    k = 0
    while True:
        child = 2 * k + 1
        if child >= size:
            break
        if child + 1 < size and finish[child + 1] < finish[child]:
            child += 1
        if last <= finish[child]:
            break
        finish[k] = finish[child]
        k = child
    finish[k] = last


@njit(cache=True, nogil=True, inline="always")
def before(p1: int, s1: int, p2: int, s2: int) -> bool:
    """Whether line entry (priority ``p1``, sequence ``s1``) goes before ``(p2, s2)``."""
    return p1 < p2 or (p1 == p2 and s1 < s2)


#: Children per node of the waiting line's heap. Four, not heapq's two: a heap of
#: millions of waiting items (an overloaded queue) is half as deep, and a node's four
#: children sit side by side in each array, so a pop waits on about half the cache
#: misses. The entries' keys ``(priority, seq)`` are unique, so any heap gives the same
#: pops in the same order.
LINE_ARITY = 4


@njit(cache=True, nogil=True)
def line_push(
    line_prio: Array,
    line_seq: Array,
    line_item: Array,
    line_arrival: Array,
    size: int,
    priority: int,
    seq: int,
    item: int,
    arrival: float,
) -> None:
    """Put an entry (``priority``, sequence ``seq``, ``item``, ``arrival`` hours) on the
    line's heap (:data:`LINE_ARITY` children a node) of ``size`` entries (the caller
    counts the new size)."""
    k = size
    while k > 0:
        parent = (k - 1) // LINE_ARITY
        if not before(priority, seq, line_prio[parent], line_seq[parent]):
            break
        line_prio[k], line_seq[k] = line_prio[parent], line_seq[parent]
        line_item[k], line_arrival[k] = line_item[parent], line_arrival[parent]
        k = parent
    line_prio[k], line_seq[k], line_item[k], line_arrival[k] = priority, seq, item, arrival


@njit(cache=True, nogil=True)
def line_pop(
    line_prio: Array, line_seq: Array, line_item: Array, line_arrival: Array, size: int
) -> tuple[int, float]:
    """Take the head of the line (lowest priority number, then first in) from its heap
    of ``size`` > 0 entries: (item, arrival hours). The caller counts the new size."""
    top_item, top_arrival = line_item[0], line_arrival[0]
    size -= 1
    p, s, it, a = line_prio[size], line_seq[size], line_item[size], line_arrival[size]
    k = 0
    while True:
        first = LINE_ARITY * k + 1
        if first >= size:
            break
        # The first among the node's children (keys are unique: no ties).
        child = first
        for c in range(first + 1, min(first + LINE_ARITY, size)):
            if before(line_prio[c], line_seq[c], line_prio[child], line_seq[child]):
                child = c
        if not before(line_prio[child], line_seq[child], p, s):
            break
        line_prio[k], line_seq[k] = line_prio[child], line_seq[child]
        line_item[k], line_arrival[k] = line_item[child], line_arrival[child]
        k = child
    line_prio[k], line_seq[k], line_item[k], line_arrival[k] = p, s, it, a
    return top_item, top_arrival


@njit(cache=True, nogil=True)
def append_pending(
    t: npt.NDArray[np.float64],
    p: npt.NDArray[np.int64],
    i: npt.NDArray[np.int64],
    now: float,
    buffer_t: npt.NDArray[np.float64],
    buffer_p: npt.NDArray[np.int64],
    buffer_i: npt.NDArray[np.int64],
    start: int,
) -> bool:
    """Copy arrivals into the buffers from ``start`` if every time is finite and at or
    after ``now`` (hours); False, copying nothing, otherwise."""
    for k in range(len(t)):
        if not (now <= t[k] < math.inf):
            return False
    for k in range(len(t)):
        buffer_t[start + k] = t[k]
        buffer_p[start + k] = p[k]
        buffer_i[start + k] = i[k]
    return True


@njit(cache=True, nogil=True)
def take_pending(
    buffer_t: npt.NDArray[np.float64],
    buffer_p: npt.NDArray[np.int64],
    buffer_i: npt.NDArray[np.int64],
    n: int,
    t_end: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Take out of the ``n`` buffered arrivals those before ``t_end`` (hours), sorted by
    time and, among equal times, in buffer (submission) order: what a stable sort of
    everything, cut at ``t_end``, gives. The rest move to the front in their order (a
    later call sorts them). Returns the taken times, priorities, items, and how many
    are left."""
    taken = 0
    for k in range(n):
        taken += buffer_t[k] < t_end
    at = np.empty(taken, dtype=np.float64)
    ap = np.empty(taken, dtype=np.int64)
    ai = np.empty(taken, dtype=np.int64)
    a, left = 0, 0
    for k in range(n):  # a stable partition; the kept part moves forward, never past k
        if buffer_t[k] < t_end:
            at[a], ap[a], ai[a] = buffer_t[k], buffer_p[k], buffer_i[k]
            a += 1
        else:
            buffer_t[left], buffer_p[left], buffer_i[left] = buffer_t[k], buffer_p[k], buffer_i[k]
            left += 1
    order = stable_order(at)
    if len(order) == taken:  # (empty: sorted already)
        at, ap, ai = at[order], ap[order], ai[order]
    return at, ap, ai, left


@njit(cache=True, nogil=True)
def stable_order(t: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The permutation that sorts the finite times ``t`` stably (equal times in their
    order), or an empty array if they are sorted already: numpy's
    ``argsort(kind="stable")``.

    A counting sort into ``len(t)`` buckets of equal width (the bucket grows with the
    time, so the buckets come in order and each keeps the input order), then an
    insertion sort inside each bucket that moves an entry only past strictly later
    times: linear for a day's arrivals, which spread over the day. Falls back to a merge
    sort if the buckets turn out too crowded."""
    n = len(t)
    for k in range(1, n):
        if t[k] < t[k - 1]:
            break
    else:
        return np.empty(0, dtype=np.int64)
    lo, hi = t.min(), t.max()
    scale = n / (hi - lo)  # hi > lo: not sorted
    if not scale < 1e300:
        return merge_argsort(t)
    bucket = np.empty(n, dtype=np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    for k in range(n):
        b = min(int((t[k] - lo) * scale), n - 1)
        bucket[k] = b
        starts[b + 1] += 1
    for b in range(n):
        starts[b + 1] += starts[b]
    fill = starts[:n].copy()
    order = np.empty(n, dtype=np.int64)
    for k in range(n):
        order[fill[bucket[k]]] = k
        fill[bucket[k]] += 1
    moves = 0
    for b in range(n):
        first = starts[b]
        for x in range(first + 1, starts[b + 1]):
            current = order[x]
            value = t[current]
            y = x - 1
            while y >= first and t[order[y]] > value:
                order[y + 1] = order[y]
                y -= 1
            moves += x - 1 - y
            order[y + 1] = current
        if moves > 32 * n:
            return merge_argsort(t)  # crowded buckets: n log n instead
    return order


@njit(cache=True, nogil=True)
def arrival_order(times: npt.NDArray[np.float64], posted: npt.NDArray[np.float64]) -> Array:
    """The permutation that sorts items by ``times``, then ``posted``, equal pairs in
    their order: numpy's ``lexsort((posted, times))`` for finite times (how a day's
    review items enter a queue: by arrival, those arriving together oldest first).

    :func:`stable_order` of the times (linear: equal times never move, so the keyword
    sweeps' crowds of items arriving at one instant cost nothing), then each run of
    equal times in :func:`stable_order` of its ``posted``. numpy's lexsort made two
    stable sorts of the whole day's items (~50 ms for 300,000 items here)."""
    n = len(times)
    order = stable_order(times)
    if len(order) != n:  # sorted already
        order = np.arange(n)
    ordered = np.empty(n, dtype=np.float64)
    for k in range(n):
        ordered[k] = times[order[k]]
    start = 0
    while start < n:
        end = start + 1
        while end < n and ordered[end] == ordered[start]:
            end += 1
        if end - start > 1:
            run = order[start:end].copy()
            keys = np.empty(end - start, dtype=np.float64)
            for k in range(end - start):
                keys[k] = posted[run[k]]
            within = stable_order(keys)
            if len(within) == end - start:  # (empty: sorted already)
                for k in range(end - start):
                    order[start + k] = run[within[k]]
        start = end
    return order


# -- arrivals created while a queue runs (issue 17: an approved held post's touches) --------
#
# A min-heap keyed by (arrival, created, seq) in five arrays: an item created at
# ``created`` hours (its HOLD review's finish) arriving at ``arrival``. Among arrivals at
# one instant SimPy takes them in the order their processes were made: everything
# submitted before the run first, then these by creation time, then creation order.


@njit(cache=True, nogil=True, inline="always")
def _follow_before(t1: float, c1: float, s1: int, t2: float, c2: float, s2: int) -> bool:
    return t1 < t2 or (t1 == t2 and (c1 < c2 or (c1 == c2 and s1 < s2)))


@njit(cache=True, nogil=True)
def follow_push(
    f_time: Array,
    f_created: Array,
    f_seq: Array,
    f_prio: Array,
    f_item: Array,
    size: int,
    arrival: float,
    created: float,
    seq: int,
    priority: int,
    item: int,
) -> None:
    """Put an item on the created arrivals' heap of ``size`` entries (the caller counts
    the new size)."""
    k = size
    while k > 0:
        parent = (k - 1) >> 1
        if not _follow_before(
            arrival, created, seq, f_time[parent], f_created[parent], f_seq[parent]
        ):
            break
        f_time[k], f_created[k], f_seq[k] = f_time[parent], f_created[parent], f_seq[parent]
        f_prio[k], f_item[k] = f_prio[parent], f_item[parent]
        k = parent
    f_time[k], f_created[k], f_seq[k], f_prio[k], f_item[k] = (
        arrival, created, seq, priority, item
    )  # fmt: skip


@njit(cache=True, nogil=True)
def follow_pop(
    f_time: Array, f_created: Array, f_seq: Array, f_prio: Array, f_item: Array, size: int
) -> tuple[int, int]:
    """Take the first of the created arrivals' heap of ``size`` > 0 entries: (priority,
    item); its time is ``f_time[0]`` before the call. The caller counts the new size."""
    top_prio, top_item = f_prio[0], f_item[0]
    size -= 1
    t, c, s = f_time[size], f_created[size], f_seq[size]
    p, it = f_prio[size], f_item[size]
    k = 0
    while True:
        child = 2 * k + 1
        if child >= size:
            break
        other = child + 1
        if other < size and _follow_before(
            f_time[other], f_created[other], f_seq[other],
            f_time[child], f_created[child], f_seq[child],
        ):  # fmt: skip
            child = other
        if not _follow_before(f_time[child], f_created[child], f_seq[child], t, c, s):
            break
        f_time[k], f_created[k], f_seq[k] = f_time[child], f_created[child], f_seq[child]
        f_prio[k], f_item[k] = f_prio[child], f_item[child]
        k = child
    f_time[k], f_created[k], f_seq[k], f_prio[k], f_item[k] = t, c, s, p, it
    return top_prio, top_item
