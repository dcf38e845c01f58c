"""The multi-server queue the review and the police share, compiled: its finish heap,
its waiting line and its arrival buffers (docs/model.md, 3.3 Submodels S6 and S12).

Both queues are ``c`` servers (reviewers, investigators) taking waiting items by
priority, then first come first served, non-preemptively: the statement is
:class:`simulator.model.review_queue.ReviewQueue` (tests/test_review_kernels.py and
tests/test_police.py hold the compiled days to it). Their state, in arrays the caller
keeps between days:

* the busy servers' finish times (hours): a binary min-heap in ``finish[:busy]``
  (heapq's layout; :func:`finish_push`, :func:`finish_pop`);
* the waiting line: a first-in-first-out ring per priority level in two arrays (items,
  arrival hours), the rings' places in a level table (:func:`line_push`,
  :func:`line_pop`; lower priority number first). The police use one priority level.

The event loops (:func:`simulator.kernels.review.review_day`,
:func:`simulator.kernels.police.investigate_until`) call these and decide each item
inline as it starts. The decision is not passed in as a function: numba calls a
function argument (or an overload taking the decision's arrays) without inlining it,
measured 6 to 10 times slower per item than the decision written in the loop.
Module-level functions taking their arrays are inlined and cost nothing.
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


#: Columns of a line's level table, a row per priority level in increasing priority
#: number: the priority; where the level's ring starts in the line's arrays and how many
#: entries it holds; the ring's first entry (an offset into it); entries waiting.
LEVEL_PRIORITY, LEVEL_START, LEVEL_ROOM, LEVEL_HEAD, LEVEL_COUNT = 0, 1, 2, 3, 4
LEVEL_COLUMNS = 5
#: A free row's priority: after every real one, so free rows stay at the table's end.
FREE_LEVEL = np.iinfo(np.int64).max
#: Rows of a new level table (the review uses five priorities, the police one); the
#: owner grows it when :func:`register_levels` finds it full.
LEVEL_ROWS = 8


def new_levels(rows: int = LEVEL_ROWS) -> Array:
    """An empty level table of ``rows`` free rows (int64, ``rows x LEVEL_COLUMNS``)."""
    levels = np.zeros((rows, LEVEL_COLUMNS), dtype=np.int64)
    levels[:, LEVEL_PRIORITY] = FREE_LEVEL
    return levels


def grown_levels(levels: Array) -> Array:
    """``levels`` with twice the rows (the used rows kept, in order)."""
    grown = new_levels(2 * len(levels))
    grown[: len(levels)] = levels
    return grown


def new_line(capacity: int, priority: int = 0) -> tuple[Array, Array, Array]:
    """A line of one priority level with room for ``capacity`` entries: items (int64),
    arrival hours (float64) and the level table, in the order :func:`line_push` takes
    them (the police's line)."""
    levels = new_levels(1)
    levels[0, LEVEL_PRIORITY] = priority
    levels[0, LEVEL_ROOM] = capacity
    return np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.float64), levels


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


# -- the waiting line: a first-in-first-out ring per priority level ---------------------
#
# Each level's entries (item, arrival hours) wait in a ring of its own, a segment of the
# line's two arrays (``start``, ``room`` in the level table), in order of entry from
# ``head``. A push writes after the level's last entry, a pop takes the first entry of
# the first level with entries: O(1), and in the order of the ``(priority, seq)`` heap
# this replaced (lowest priority number, then first in), which took ~20-90 ns a push
# and pop at a day's line lengths (docs/performance.md, "Session 23"). The owner gives
# every level room before a day (review_arrays.ArrayReviewQueue.reserve, the police's
# _make_room); the day's kernel checks it once, not per entry.


@njit(cache=True, nogil=True)
def register_levels(levels: Array, priorities: Array) -> bool:
    """Give every priority of ``priorities`` a row of ``levels`` (rows stay ordered by
    priority; a new level starts with an empty ring of no room). False if a new row
    would take the table's last free row: the caller grows it (:func:`grown_levels`)
    and calls again. The last row stays free, so a priority that was never registered
    is counted there by :func:`level_arrivals`, and :func:`line_has_room` refuses it."""
    rows = len(levels)
    mask = np.uint64(0)  # the registered priorities in 0..63, a bit each
    for r in range(rows):
        p = levels[r, LEVEL_PRIORITY]
        if 0 <= p < 64:
            mask |= np.uint64(1) << np.uint64(p)
    for k in range(len(priorities)):
        p = priorities[k]
        if 0 <= p < 64 and (mask >> np.uint64(p)) & np.uint64(1):
            continue
        r = 0
        while r < rows and levels[r, LEVEL_PRIORITY] < p:
            r += 1
        if r < rows and levels[r, LEVEL_PRIORITY] == p:
            continue
        if rows < 2 or levels[rows - 2, LEVEL_PRIORITY] != FREE_LEVEL:
            return False  # the new row would leave no free row
        for q in range(rows - 1, r, -1):  # rows from r one down
            for c in range(LEVEL_COLUMNS):
                levels[q, c] = levels[q - 1, c]
        for c in range(LEVEL_COLUMNS):
            levels[r, c] = 0
        levels[r, LEVEL_PRIORITY] = p
        if 0 <= p < 64:
            mask |= np.uint64(1) << np.uint64(p)
    return True


@njit(cache=True, nogil=True)
def level_arrivals(levels: Array, priorities: Array) -> Array:
    """How many of ``priorities`` fall on each row of ``levels`` (int64 per row; a
    priority with no row is counted on the table's last row, free in a table
    :func:`register_levels` filled, so :func:`line_has_room` says no)."""
    rows = len(levels)
    count = np.zeros(rows, dtype=np.int64)
    small = np.full(64, rows - 1, dtype=np.int64)  # the row of each priority 0..63
    for r in range(rows):
        p = levels[r, LEVEL_PRIORITY]
        if 0 <= p < 64:
            small[p] = r
    for k in range(len(priorities)):
        p = priorities[k]
        if 0 <= p < 64:
            count[small[p]] += 1
        else:
            r = 0
            while r < rows - 1 and levels[r, LEVEL_PRIORITY] != p:
                r += 1
            count[r] += 1
    return count


@njit(cache=True, nogil=True)
def line_has_room(levels: Array, arrivals: Array, extra: Array) -> bool:
    """Whether every level's ring has room for its entries, its ``arrivals`` (per row,
    :func:`level_arrivals`) and ``extra`` (per row) more, and belongs to a priority."""
    for r in range(len(levels)):
        want = levels[r, LEVEL_COUNT] + arrivals[r] + extra[r]
        if want > levels[r, LEVEL_ROOM] or (want > 0 and levels[r, LEVEL_PRIORITY] == FREE_LEVEL):
            return False
    return True


@njit(cache=True, nogil=True, inline="always")
def _level_row(levels: Array, priority: int) -> int:
    """The row of ``priority`` in the level table (registered: :func:`register_levels`)."""
    r = 0
    last = len(levels) - 1
    while r < last and levels[r, LEVEL_PRIORITY] != priority:
        r += 1
    return r


@njit(cache=True, nogil=True)
def line_push(
    line_item: Array, line_arrival: Array, levels: Array, priority: int, item: int, arrival: float
) -> None:
    """Put ``item``, arrived at ``arrival`` hours, after the last entry of its level
    (its ring must have room)."""
    r = _level_row(levels, priority)
    room = levels[r, LEVEL_ROOM]
    at = levels[r, LEVEL_HEAD] + levels[r, LEVEL_COUNT]
    if at >= room:
        at -= room
    k = levels[r, LEVEL_START] + at
    line_item[k] = item
    line_arrival[k] = arrival
    levels[r, LEVEL_COUNT] += 1


@njit(cache=True, nogil=True)
def line_pop(line_item: Array, line_arrival: Array, levels: Array) -> tuple[int, float]:
    """Take the head of the line (lowest priority number, then first in; the line must
    not be empty): (item, arrival hours)."""
    r = 0
    while levels[r, LEVEL_COUNT] == 0:
        r += 1
    head = levels[r, LEVEL_HEAD]
    k = levels[r, LEVEL_START] + head
    head += 1
    if head == levels[r, LEVEL_ROOM]:
        head = 0
    levels[r, LEVEL_HEAD] = head
    levels[r, LEVEL_COUNT] -= 1
    return line_item[k], line_arrival[k]


@njit(cache=True, nogil=True, inline="always")
def line_ahead(line_item: Array, levels: Array, ahead: int) -> int:
    """The item ``ahead`` entries after the head of the line's first level with entries
    (-1 if that level holds no more than ``ahead``): what a pop some pops from now will
    likely take, for a cache hint. Changes nothing."""
    for r in range(len(levels)):
        count = levels[r, LEVEL_COUNT]
        if count == 0:
            continue
        if count <= ahead:
            return -1
        slot = levels[r, LEVEL_HEAD] + ahead
        if slot >= levels[r, LEVEL_ROOM]:
            slot -= levels[r, LEVEL_ROOM]
        return int(line_item[levels[r, LEVEL_START] + slot])
    return -1


def ring_ranges(levels: Array) -> list[list[tuple[int, int]]]:
    """The slots of each row's entries, in order of entry, as ranges ``[lo, hi)`` of the
    line's arrays (none, one, or two where the ring wraps; one list per row)."""
    ranges = []
    for start, room, head, count in levels[:, LEVEL_START:].tolist():
        first = min(count, room - head)
        row = [(start + head, start + head + first)] if first else []
        if count > first:
            row.append((start, start + count - first))
        ranges.append(row)
    return ranges


def relaid_line(
    line_item: Array, line_arrival: Array, levels: Array, room: npt.NDArray[np.int64]
) -> tuple[Array, Array, Array]:
    """The line laid out again with ``room[r]`` entries for row ``r`` (at least its
    entries): each level's entries copied, in order, to the start of its new ring (a
    slice at a time: no index array the size of the line)."""
    new = levels.copy()
    start = np.concatenate(([0], np.cumsum(room)[:-1])).astype(np.int64)
    items = np.empty(int(room.sum()), dtype=line_item.dtype)
    arrivals = np.empty(int(room.sum()), dtype=line_arrival.dtype)
    for r, spans in enumerate(ring_ranges(levels)):
        if levels[r, LEVEL_COUNT] > room[r]:
            raise ValueError("relaid_line: a ring smaller than its entries")
        to = int(start[r])
        for lo, hi in spans:
            items[to : to + hi - lo] = line_item[lo:hi]
            arrivals[to : to + hi - lo] = line_arrival[lo:hi]
            to += hi - lo
    new[:, LEVEL_START] = start
    new[:, LEVEL_ROOM] = room
    new[:, LEVEL_HEAD] = 0
    return items, arrivals, new


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


#: Items per bucket of :func:`stable_order`'s counting pass, on average. One bucket an
#: item (as until session 25) made the counts and the scatter walk arrays as long as the
#: input, fresh memory each call: at four items a bucket the same day's 214,000 arrivals
#: sort in 1.3 ms instead of 4.9 (docs/performance.md, "Session 25").
BUCKET_ITEMS = 4


@njit(cache=True, nogil=True)
def stable_order(t: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The permutation that sorts the finite times ``t`` stably (equal times in their
    order), or an empty array if they are sorted already: numpy's
    ``argsort(kind="stable")``.

    A counting sort into ``len(t) / BUCKET_ITEMS`` buckets of equal width (the bucket
    grows with the time, so the buckets come in order and each keeps the input order),
    then an insertion sort inside each bucket that moves an entry only past strictly
    later times: linear for a day's arrivals, which spread over the day. Falls back to a
    merge sort if the buckets turn out too crowded."""
    n = len(t)
    for k in range(1, n):
        if t[k] < t[k - 1]:
            break
    else:
        return np.empty(0, dtype=np.int64)
    lo, hi = t.min(), t.max()
    n_buckets = max(1, n // BUCKET_ITEMS)
    scale = n_buckets / (hi - lo)  # hi > lo: not sorted
    if not scale < 1e300:
        return merge_argsort(t)
    last = n_buckets - 1
    starts = np.zeros(n_buckets + 1, dtype=np.int64)
    for k in range(n):  # (the bucket is computed again below: cheaper than stored)
        starts[min(int((t[k] - lo) * scale), last) + 1] += 1
    for b in range(n_buckets):
        starts[b + 1] += starts[b]
    fill = starts[:n_buckets].copy()
    order = np.empty(n, dtype=np.int64)
    for k in range(n):
        b = min(int((t[k] - lo) * scale), last)
        order[fill[b]] = k
        fill[b] += 1
    moves = 0
    for b in range(n_buckets):
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


@njit(cache=True, nogil=True)
def submissions_in_order(
    times: Array, actions: Array, items: Array, posted_hours: Array, first_id: int, count: int
) -> tuple[Array, Array, Array]:
    """A platform's review items (``times``, ``actions``, ``items``: item ``post *
    count + action``, posts numbered from ``first_id``, posted at
    ``posted_hours[post - first_id]``) in :func:`arrival_order`: by arrival, those
    arriving together oldest first. One pass for numpy's gather of the posting times
    and three permuted copies."""
    n = len(times)
    posted = np.empty(n, dtype=np.float64)
    for k in range(n):
        posted[k] = posted_hours[items[k] // count - first_id]
    order = arrival_order(times, posted)
    t = np.empty(n, dtype=np.float64)
    a = np.empty(n, dtype=np.int64)
    i = np.empty(n, dtype=np.int64)
    for k in range(n):
        j = order[k]
        t[k], a[k], i[k] = times[j], actions[j], items[j]
    return t, a, i


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
