"""The engine's daily review step, compiled: a platform's queue, decisions and counts.

:func:`review_day` advances an :class:`~simulator.model.review_arrays.ArrayReviewQueue` to the
end of a day event by event, exactly as :meth:`ReviewQueue.run_until
<simulator.model.review_queue.ReviewQueue.run_until>` does (SimPy's order: arrivals at an
instant before services ending then, priorities then first come first served, the
tied-instant replay of a drop handing its reviewer over), with the decisions of
:class:`simulator.engine.review.Decisions` taken inline as each item starts.
:func:`book_review` then does the day's bookkeeping of
``simulator.engine.review.ReviewDay.run_python`` (counts moved between outcomes, tallies,
the delay histogram, audited hours, who was sanctioned). Together they replace, per
platform and day, thousands of Python callbacks and some thirty numpy calls by two
compiled calls.

The Python forms stay as the documented reference (``ReviewQueue``, ``Decisions``,
``ReviewDay.run_python``); ``tests/test_review_kernels.py`` checks that these
kernels give exactly what they give, and whole runs byte-identical. Every comparison is
made in the types numpy would use: reviewer scores are float32, and numpy compares a
float32 score with a Python float threshold in float32 (NEP 50), so
:func:`comparable_threshold` rounds such a threshold to float32 first.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.arrivals import sweep_time
from simulator.kernels.prefetch import prefetch
from simulator.kernels.queue import (
    finish_pop,
    finish_push,
    follow_pop,
    follow_push,
    level_arrivals,
    line_ahead,
    line_has_room,
    line_pop,
    line_push,
)
from simulator.kinds import Action, Channel, Outcome

Array = NDArray[Any]

ORDER = int(Action.ORDER)


HOLD = int(Action.HOLD)


NOTICE = int(Action.NOTICE)


FLAG = int(Action.FLAG)


APPEAL = int(Action.APPEAL)

#: What an approval of a held post creates, in creation order (docs/model.md S5,
#: :func:`simulator.model.held_touches.touch_times`): at most one item of each.
TOUCHES = np.array([FLAG, NOTICE, ORDER], dtype=np.int64)


COUNT = int(Action.COUNT)
#: How many items ahead (arrivals, or entries of the line behind its head) the review
#: asks for the post columns a decision reads first (docs/performance.md, "Session 25").
PREFETCH_DISTANCE = 8


BLOCKED = int(Outcome.BLOCKED)


REMOVED = int(Outcome.REMOVED)


SURVIVING = int(Outcome.SURVIVING)


PUBLIC = int(Channel.PUBLIC)


#: Rows of the id lists :func:`review_day` returns (each in the order served).
REMOVED_ROW, APPROVED_ROW, REJECTED_ROW, REINSTATED_ROW = 0, 1, 2, 3


def comparable_threshold(threshold: float) -> float:
    """``threshold`` as a float64 that compares with a float32 score exactly as numpy
    compares the score with ``threshold``: a Python float is weak under NEP 50, so numpy
    rounds it to float32; a numpy float64 is compared in float64."""
    if type(threshold) is float:  # the usual case, quickly
        return float(np.float32(threshold))
    dtype = np.result_type(np.float32, threshold)
    return float(np.asarray(threshold, dtype=dtype))


# -- the day -------------------------------------------------------------------------------
#
# The decision is a closure inside review_day, not a function of its own: numba inlines
# closures with the arrays they capture as they are, whereas every call of a jitted
# function taking many arrays (a function argument, or an overload taking them in a
# named tuple) adds atomic reference count updates of each array, which made a call of
# the decision cost ~180 ns instead of ~20 ns. The queue's heaps are the shared ones of
# simulator.kernels.queue (one array or four each, inlined).


class FollowOns(NamedTuple):
    """What a platform's approvals of held posts create (issue 17; docs/model.md S5,
    :mod:`simulator.model.held_touches`): ``enabled`` (the platform has a pre-publication
    filter), ``flag`` (``held_review_margin > 0``: the next sweep flags the post),
    ``sweep_interval`` (hours); the post columns ``notice_delay`` and ``order_delay``
    (hours after approval; inf: none) and ``order_hours`` (written: when the order
    arrives); the queue's heap of created arrivals (``time``, ``created``, ``seq``,
    ``priority``, ``item``: :func:`simulator.kernels.queue.follow_push`; its size and
    next sequence number are ``counters[4]`` and ``counters[5]``); ``room``, the items
    the caller reserved for beyond the day's arrivals and the waiting line (the created
    arrivals carried in, and three for every HOLD item that may start); and ``holds``,
    the HOLD items that may start (among the day's arrivals and the waiting line: each
    creates at most one item on each level of :data:`TOUCHES`, :func:`created_line_room`)."""

    enabled: bool
    flag: bool
    sweep_interval: float
    notice_delay: Array
    order_delay: Array
    order_hours: Array
    time: Array
    created: Array
    seq: Array
    priority: Array
    item: Array
    room: int
    holds: int


@njit(cache=True, nogil=True)
def created_line_room(levels: Array, carried_priority: Array, holds: int) -> Array:
    """Room each row of the line's level table needs today for what approvals created or
    may create (int64 per row, :func:`simulator.kernels.queue.level_arrivals`): the
    created arrivals carried in, on their own levels (``carried_priority``), and on each
    level of :data:`TOUCHES` one for each of ``holds`` approvals."""
    return level_arrivals(levels, carried_priority) + holds * level_arrivals(levels, TOUCHES)


def no_follow_ons(order_hours: Array | None = None) -> FollowOns:
    """:class:`FollowOns` of a platform whose approvals create nothing."""
    none = np.zeros(0, dtype=np.float64)
    empty = np.zeros(0, dtype=np.int64)
    hours = none if order_hours is None else order_hours
    return FollowOns(False, False, 0.0, none, none, hours, none, none, empty, empty, empty, 0, 0)


@njit(cache=True, nogil=True, inline="always")
def _next_arrival(at: Array, i: int, n: int, f_time: Array, n_follow: int, t_end: float) -> float:
    """The time of the next arrival before ``t_end`` (inf: none): the day's ``at[i]``, or
    the first created arrival if strictly earlier (at one instant the day's go first)."""
    ts = at[i] if i < n else math.inf
    if n_follow > 0:
        tf = f_time[0]
        if tf < ts and tf < t_end:
            return tf
    return ts


@njit(cache=True, nogil=True)
def review_day(
    at: Array,
    ap: Array,
    ai: Array,
    t_end: float,
    servers: int,
    finish: Array,
    wait_item: Array,
    wait_arr: Array,
    wait_levels: Array,
    service: Array,
    counters: Array,
    threshold: float,
    held_threshold: float,
    score: Array,
    appeal_score: Array,
    removed_hours: Array,
    removed_by: Array,
    published_hours: Array,
    blocked_hours: Array,
    kind: Array,
    n_kinds: int,
    follow: FollowOns,
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Advance a queue's state to ``t_end`` (hours) through the arrivals ``at`` (hours,
    sorted by time then submission), ``ap`` (priorities) and ``ai`` (items:
    ``post * Action.COUNT + action``), deciding each item as it starts; with the
    arrivals an approval creates (``follow``, :class:`FollowOns`) merged in as SimPy
    orders them: by time; at one instant the day's arrivals first, then the created ones
    by creation time and order (those arriving at or after ``t_end`` stay on the heap).

    The queue's arrays (see :class:`~simulator.model.review_arrays.ArrayReviewQueue`, which
    :meth:`~simulator.model.review_arrays.ArrayReviewQueue.reserve` must have sized for the
    arrivals and ``follow.room``) and the post columns are updated in place.
    ``threshold`` and ``held_threshold`` as :func:`comparable_threshold` gives them.
    Returns the waits (start - arrival, hours) of the items started, in start order; the
    post ids removed (first removals), approved, rejected and reinstated (rows of an
    int64 array, in the order served); how many of each row; the reviews started per
    kind; the items created by approvals and their arrival hours, in creation order.
    """
    n = len(at)
    busy, n_wait, seq, j = counters[0], counters[1], counters[2], counters[3]
    c = servers
    room = follow.room
    f_time, f_created, f_seq = follow.time, follow.created, follow.seq
    f_prio, f_item = follow.priority, follow.item
    follow_enabled, follow_flag = follow.enabled, follow.flag
    sweep_interval = follow.sweep_interval
    notice_delay, order_delay, order_hours = (
        follow.notice_delay, follow.order_delay, follow.order_hours
    )  # fmt: skip
    # Room for everything that may happen (checked once: no bounds checks per item).
    # Every level's ring must hold its waiting items, its arrivals and what approvals
    # created or may create on it.
    extra = created_line_room(wait_levels, f_prio[: counters[4]], follow.holds)
    if not line_has_room(wait_levels, level_arrivals(wait_levels, ap), extra) or (
        c > 0 and len(service) - j < n_wait + n + room
    ):
        raise ValueError("review_day: ArrayReviewQueue.reserve(arrivals) was not called")
    if len(finish) <= c:
        raise ValueError("review_day: the finish heap needs servers + 1 entries")
    if follow_enabled and len(f_time) < counters[4] + room:
        raise ValueError("review_day: no room for the arrivals approvals create")
    cap = n + n_wait + room
    waits = np.empty(cap, dtype=np.float64)
    # Each item served names at most one post in one of the four rows: the ids go into
    # one array in the order served, tagged with their row (``post * 4 + row``), and
    # are sorted into the rows at the end. Four rows of ``cap`` each (every item that
    # could start: millions under an overloaded line) were most of a backlogged day's
    # peak memory (docs/performance.md, "Session 19").
    tagged = np.empty(cap, dtype=np.int64)
    n_tagged = np.zeros(1, dtype=np.int64)
    n_ids = np.zeros(4, dtype=np.int64)
    reviewed = np.zeros(n_kinds, dtype=np.int64)
    made_item = np.empty(room if follow_enabled else 0, dtype=np.int64)
    made_time = np.empty(room if follow_enabled else 0, dtype=np.float64)
    n_made = np.zeros(1, dtype=np.int64)

    def hint(item: int) -> None:
        """Ask for the post columns deciding ``item`` reads (no effect on any value)."""
        post = item // COUNT
        prefetch(removed_hours, post)
        prefetch(score, post)
        prefetch(kind, post)

    def serve(item: int, begin: float, done: float) -> bool:
        """``_ReviewDay.serve``: decide ``item`` starting at ``begin`` and ending at
        ``done`` (hours); False drops it (nothing to review)."""
        post = item // COUNT
        action = item - post * COUNT
        if action == HOLD:
            if score[post] > held_threshold:
                blocked_hours[post] = done
                tagged[n_tagged[0]] = post * 4 + REJECTED_ROW
                n_tagged[0] += 1
                n_ids[REJECTED_ROW] += 1
            else:
                published_hours[post] = done
                tagged[n_tagged[0]] = post * 4 + APPROVED_ROW
                n_tagged[0] += 1
                n_ids[APPROVED_ROW] += 1
                if follow_enabled:
                    # Published at done = t_a: the touches of a post published then
                    # (simulator.model.held_touches.touch_times), in TOUCHES' order.
                    for touch in TOUCHES:
                        if touch == FLAG:
                            if not follow_flag:
                                continue
                            arrival = sweep_time(done, sweep_interval)
                        elif touch == NOTICE:
                            arrival = done + notice_delay[post]
                        else:
                            arrival = done + order_delay[post]
                        if arrival == math.inf:
                            continue
                        if touch == ORDER:
                            order_hours[post] = arrival
                        size = counters[4]
                        follow_push(
                            f_time, f_created, f_seq, f_prio, f_item, size, arrival, done,
                            counters[5], touch, post * COUNT + touch,
                        )  # fmt: skip
                        counters[4] = size + 1
                        counters[5] += 1
                        made_item[n_made[0]] = post * COUNT + touch
                        made_time[n_made[0]] = arrival
                        n_made[0] += 1
            reviewed[kind[post]] += 1
            return True
        removed_at = removed_hours[post]
        if action == APPEAL:
            if removed_at == math.inf:
                return False  # already back up
            reviewed[kind[post]] += 1
            if appeal_score[post] <= threshold:
                # Reinstated: counts as surviving; its removal delay stays on record.
                removed_hours[post] = math.inf
                removed_by[post] = -1
                tagged[n_tagged[0]] = post * 4 + REINSTATED_ROW
                n_tagged[0] += 1
                n_ids[REINSTATED_ROW] += 1
            return True
        if removed_at <= begin:
            return False  # already down: nothing to review
        reviewed[kind[post]] += 1
        removes = action == ORDER or score[post] > threshold
        if removes and done < removed_at:
            if removed_at == math.inf:
                tagged[n_tagged[0]] = post * 4 + REMOVED_ROW
                n_tagged[0] += 1
                n_ids[REMOVED_ROW] += 1
            removed_hours[post] = done
            removed_by[post] = action
        return True

    started = 0
    i = 0
    ta = _next_arrival(at, i, n, f_time, counters[4], t_end)
    while True:
        if busy > 0 and finish[0] < ta:
            # A service ends (strictly before the next arrival: arrivals go first).
            tf = finish[0]
            if tf >= t_end:
                break
            finish_pop(finish, busy)
            busy -= 1
            while n_wait > 0:
                item, arr = line_pop(wait_item, wait_arr, wait_levels)
                n_wait -= 1
                later = line_ahead(wait_item, wait_levels, PREFETCH_DISTANCE)
                if later >= 0:
                    hint(later)
                fin = tf + service[j]
                j += 1
                if serve(item, tf, fin):
                    finish_push(finish, busy, fin)
                    busy += 1
                    waits[started] = tf - arr
                    started += 1
                    break
            # An approval may have created an arrival before the next one.
            ta = _next_arrival(at, i, n, f_time, counters[4], t_end)
            continue
        if ta == math.inf:
            break
        # An arrival at ta (< t_end: the arrivals were cut there): the day's, or, if
        # strictly earlier, the first created one.
        if i < n and (counters[4] == 0 or at[i] <= f_time[0]):
            prio, item = ap[i], ai[i]
            if i + PREFETCH_DISTANCE < n:
                hint(ai[i + PREFETCH_DISTANCE])
            i += 1
        else:
            prio, item = follow_pop(f_time, f_created, f_seq, f_prio, f_item, counters[4])
            counters[4] -= 1
        if busy < c:
            if _next_arrival(at, i, n, f_time, counters[4], t_end) == ta:
                # Others arrive at the same instant, and a drop could hand its reviewer
                # to one of them: replay the instant as SimPy (ReviewQueue._tied_instant):
                # every arrival requests (granted while a reviewer is free); then, in
                # order, the granted start (a drop releases, and a release grants the
                # head of the line).
                users = busy
                k = i
                while k < n and at[k] == ta:
                    k += 1
                size = 2 * (k - i + 1 + counters[4] + n_wait) + 2
                fifo_item = np.empty(size, dtype=np.int64)
                fifo_arr = np.empty(size, dtype=np.float64)
                fifo_grant = np.empty(size, dtype=np.bool_)  # False: a release
                head, tail = 0, 0
                while True:
                    line_push(wait_item, wait_arr, wait_levels, prio, item, ta)
                    n_wait += 1
                    seq += 1
                    if users < c:
                        got, arr = line_pop(wait_item, wait_arr, wait_levels)
                        n_wait -= 1
                        fifo_item[tail], fifo_arr[tail], fifo_grant[tail] = got, arr, True
                        tail += 1
                        users += 1
                    if _next_arrival(at, i, n, f_time, counters[4], t_end) != ta:
                        break
                    if i < n and (counters[4] == 0 or at[i] <= f_time[0]):
                        prio, item = ap[i], ai[i]
                        i += 1
                    else:
                        prio, item = follow_pop(
                            f_time, f_created, f_seq, f_prio, f_item, counters[4]
                        )
                        counters[4] -= 1
                while head < tail:
                    h = head
                    head += 1
                    if not fifo_grant[h]:
                        if users < c and n_wait > 0:
                            got, arr = line_pop(wait_item, wait_arr, wait_levels)
                            n_wait -= 1
                            fifo_item[tail], fifo_arr[tail], fifo_grant[tail] = got, arr, True
                            tail += 1
                            users += 1
                        continue
                    fin = ta + service[j]
                    j += 1
                    if serve(fifo_item[h], ta, fin):
                        finish_push(finish, busy, fin)
                        busy += 1
                        waits[started] = ta - fifo_arr[h]
                        started += 1
                    else:
                        users -= 1
                        fifo_grant[tail] = False
                        tail += 1
                ta = _next_arrival(at, i, n, f_time, counters[4], t_end)
                continue
            fin = ta + service[j]
            j += 1
            if serve(item, ta, fin):
                finish_push(finish, busy, fin)
                busy += 1
                waits[started] = 0.0
                started += 1
        else:
            line_push(wait_item, wait_arr, wait_levels, prio, item, ta)
            n_wait += 1
            seq += 1
        ta = _next_arrival(at, i, n, f_time, counters[4], t_end)
    counters[0], counters[1], counters[2], counters[3] = busy, n_wait, seq, j
    ids = np.empty((4, n_ids.max()), dtype=np.int64)
    filled = np.zeros(4, dtype=np.int64)
    for k in range(n_tagged[0]):
        row = tagged[k] & 3
        ids[row, filled[row]] = tagged[k] >> 2
        filled[row] += 1
    made = n_made[0]
    return waits[:started], ids, n_ids, reviewed, made_item[:made], made_time[:made]


@njit(cache=True, nogil=True)
def book_review(
    ids: Array,
    n_ids: Array,
    day: Array,
    platform: Array,
    channel: Array,
    kind: Array,
    author: Array,
    time_hours: Array,
    published_hours: Array,
    removed_hours: Array,
    removed_by: Array,
    prohibited: Array,
    counts: Array,
    delay_counts: Array,
    delay_edges: Array,
    reinstated_tally: Array,
    notices_removed_tally: Array,
    by_hour: Array,
) -> tuple[Array, Array, Array, Array]:
    """A platform's review day on the record (``Simulation._review_python``'s numpy
    part), from what :func:`review_day` returned: reinstated posts move from removed to
    surviving, approved ones from blocked to surviving (prohibited ones counted in
    ``by_hour`` at their publication hour), removed ones from surviving to removed (with
    their delay in ``delay_counts`` and notices acted on in ``notices_removed_tally``);
    all in place. Returns the authors sanctioned (rejected, then removed; ``author``'s
    type), the authors of public posts removed, the publication hours (float64) that
    fell beyond ``by_hour`` (the caller grows it and counts them), and the removals a
    platform may report to the police (prohibited kinds, not on an order; in order)."""
    n_removed, n_approved = n_ids[REMOVED_ROW], n_ids[APPROVED_ROW]
    n_rejected, n_reinstated = n_ids[REJECTED_ROW], n_ids[REINSTATED_ROW]
    for k in range(n_reinstated):
        p = ids[REINSTATED_ROW, k]
        counts[day[p], platform[p], channel[p], kind[p], REMOVED] -= 1
        counts[day[p], platform[p], channel[p], kind[p], SURVIVING] += 1
        reinstated_tally[kind[p]] += 1
    beyond = np.empty(n_approved, dtype=np.float64)
    n_beyond = 0
    for k in range(n_approved):
        p = ids[APPROVED_ROW, k]
        counts[day[p], platform[p], channel[p], kind[p], BLOCKED] -= 1
        counts[day[p], platform[p], channel[p], kind[p], SURVIVING] += 1
        if prohibited[kind[p]]:
            hour = math.floor(published_hours[p])
            if hour < len(by_hour):
                by_hour[int(hour)] += 1
            else:
                beyond[n_beyond] = hour
                n_beyond += 1
    sanctioned = np.empty(n_rejected + n_removed, dtype=author.dtype)
    for k in range(n_rejected):
        sanctioned[k] = author[ids[REJECTED_ROW, k]]
    public = np.empty(n_removed, dtype=author.dtype)
    n_public = 0
    reportable = np.empty(n_removed, dtype=np.int64)
    n_reportable = 0
    last_bin = len(delay_edges) - 2
    for k in range(n_removed):
        p = ids[REMOVED_ROW, k]
        counts[day[p], platform[p], channel[p], kind[p], SURVIVING] -= 1
        counts[day[p], platform[p], channel[p], kind[p], REMOVED] += 1
        # Recorder.add_delays: searchsorted(edges, delay, "right") - 1, clipped.
        delay = removed_hours[p] - time_hours[p]
        bin_ = np.searchsorted(delay_edges, delay, side="right") - 1
        bin_ = min(max(bin_, 0), last_bin)
        delay_counts[kind[p], bin_] += 1
        if removed_by[p] == NOTICE:
            notices_removed_tally[kind[p]] += 1
        sanctioned[n_rejected + k] = author[p]
        if channel[p] == PUBLIC:
            public[n_public] = author[p]
            n_public += 1
        if removed_by[p] != ORDER and prohibited[kind[p]]:
            reportable[n_reportable] = p
            n_reportable += 1
    return sanctioned, public[:n_public], beyond[:n_beyond], reportable[:n_reportable]
