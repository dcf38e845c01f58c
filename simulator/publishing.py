"""A day's posts on one channel, compiled: routing, withholding, the filter, flags,
notices and orders, with their random draws, in one call.

:func:`publish_channel` does for one channel what the engine did in numpy, batch by
batch (benign posts in aggregate, then each sensitive kind; within each, platform by
platform): it counts intended, withheld, excluded, offshore, blocked and surviving posts
into the day's cells, draws which published posts the filter holds or flags, users
notice or the regulator orders down, and returns the records of the touched posts and
what the review queues, the legal duties and the order book must receive. The draws
come from the run's ``numpy.random.Generator`` objects, passed in: numba draws exactly
numpy's numbers and advances the same state (tests/test_kernels.py), and the draws are
made in the order numpy made them (batch by batch; within a batch, all the holds, then
each flag row over all posts, then the order delays, the reviewer scores, the notice
delays and the flag delays), so outputs are the same to the byte
(tests/test_publishing.py runs the numpy statement of the same step beside it).

Why compiled: at 10,000 users a day's publishing was ~25 batches of ~40 small numpy
calls each, ~3 ms of interpreter overhead per simulated day (docs/performance.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.generator_handles import as_generator
from simulator.kernels import bucket_index, route_posts, search_bucketed
from simulator.kinds import Action, Outcome

Array = NDArray[Any]
HOURS = 24.0  # per day (simulator.regulators.HOURS_PER_DAY; not imported: no cycle)
WITHHELD = int(Outcome.WITHHELD)
EXCLUDED = int(Outcome.EXCLUDED)
BLOCKED = int(Outcome.BLOCKED)
SURVIVING = int(Outcome.SURVIVING)
ORDER, HOLD, NOTICE, FLAG = Action.ORDER, Action.HOLD, Action.NOTICE, Action.FLAG
ACTIONS = Action.COUNT
BENIGN = 0

#: Rows of ``post_float``: when posted, published (inf: held), order arrival (inf:
#: none), reviewer score; of ``post_int``: author, platform, kind, channel.
POST_FLOAT_ROWS = 4
POST_INT_ROWS = 4
#: What ``state`` counts: posts, submissions, duties, orders, order chunks, benign
#: author targets.
POSTS, SUBMISSIONS, DUTIES, ORDERS, CHUNKS, TARGETS = 0, 1, 2, 3, 4, 5


def new_buffers() -> tuple[Array, ...]:
    """Empty output buffers for :func:`publish_channel` (a day's, both channels'):
    ``post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int,
    target_value, target_int, state``."""
    return (
        np.empty((POST_FLOAT_ROWS, 256), dtype=np.float64),
        np.empty((POST_INT_ROWS, 256), dtype=np.int64),
        np.empty((1, 256), dtype=np.float64),
        np.empty((3, 256), dtype=np.int64),
        np.empty((1, 16), dtype=np.float64),
        np.empty((2, 16), dtype=np.int64),
        np.empty((3, 16), dtype=np.int64),
        np.empty((1, 256), dtype=np.float64),
        np.empty((2, 256), dtype=np.int64),
        np.zeros(6, dtype=np.int64),
    )


@njit(cache=True, nogil=True)
def _room(buffer: Array, needed: int) -> Array:
    """``buffer`` (rows x capacity) with room for ``needed`` columns: itself, or a copy
    twice as wide (amortised growth)."""
    capacity = buffer.shape[1]
    if needed <= capacity:
        return buffer
    grown = np.empty((buffer.shape[0], max(needed, 2 * capacity)), dtype=buffer.dtype)
    for row in range(buffer.shape[0]):  # loops, not a 2-D slice: much quicker to compile
        for column in range(capacity):
            grown[row, column] = buffer[row, column]
    return grown


# The Generator's methods behind one call each: numba then compiles each once, not
# once per place it is used (that took the first compile from ~6 s to ~20 s).
@njit(cache=True, nogil=True)
def _binomial(rng: Any, n: int, p: float) -> int:
    return rng.binomial(n, p)


@njit(cache=True, nogil=True)
def _exponential(rng: Any, scale: float) -> float:
    return rng.exponential(scale)


@njit(cache=True, nogil=True)
def _normal(rng: Any) -> float:
    return rng.standard_normal()


@njit(cache=True, nogil=True)
def publish_channel(
    channel: int,
    day_start: float,
    in_scope: bool,
    prohibited: Array,
    benign_split: Array,
    group_mass: Array,
    group_index: int,
    sensitive_authors: Array,
    sensitive_times: Array,
    sensitive_offsets: Array,
    sensitive_boldness: Array,
    route: Array,
    platform: Array,
    kind_weight: Array,
    risk: Array,
    traceable: Array,
    real_name_risk: float,
    hold: Array,
    touch: Array,
    any_touch: Array,
    conditional: Array,
    friction: float,
    monitoring_delay: float,
    notice_delay: float,
    flag_delay: Array,
    reviewer_mean: Array,
    notice_deadline: float,
    split_rng: Any,
    moderation_rng: Any,
    intended: Array,
    counts: Array,
    tallies: Array,
    prohibited_hours: Array,
    post_float: Array,
    post_int: Array,
    sub_time: Array,
    sub_int: Array,
    duty_deadline: Array,
    duty_int: Array,
    order_int: Array,
    target_value: Array,
    target_int: Array,
    state: Array,
) -> tuple[Array, Array, Array, Array, Array, Array, Array, Array, Array]:
    """One channel's posts of one day (see the module docstring).

    Inputs, for ``P`` platforms: ``benign_split`` the multinomial split of the benign
    posts over the ``3P + 1`` outcome groups (empty: no benign posts today);
    ``group_mass`` the summed benign weight of each outcome group's users (the benign
    authors of platform ``p`` are drawn from group ``P + p`` by weight: their targets
    are recorded, in ``target_value``/``target_int`` (platform, ``group_index``), and
    the records carry ``-(target number + 1)`` as author until :func:`_find_authors`);
    ``sensitive_authors``/``sensitive_times``/``sensitive_boldness`` the individually
    drawn posts of kinds 1..3, their times and their authors' boldness
    (``sensitive_offsets`` slices, one per kind); per platform and kind ``hold``
    (P x kinds), ``any_touch`` (P x kinds), and ``touch``/``conditional`` (P x 3 x kinds:
    flag, notice, order; unconditional, and given at least one from this row on);
    ``notice_deadline`` < 0 means none. Updated in place: ``intended`` and ``counts``
    (the day's cells: rows x channels x kinds [x outcomes]), ``tallies`` (held, flagged,
    notices x kinds), ``prohibited_hours`` (P x 25: published prohibited posts by hour
    of the day).

    Appends, after the ``state`` counts already there (see :func:`new_buffers`), the
    touched posts' records (``post_float``; ``post_int``: author, platform, kind,
    channel; their index in the buffer is their id less the store's next id), the queue
    submissions (``sub_time``; ``sub_int``: platform, action, item), notice duties
    (``duty_deadline``; ``duty_int``: platform, post index) and orders (``order_int``:
    chunk, post index, arrival day), each in the order the numpy step made them, and
    returns the buffers (new ones where one had to grow).
    """
    n_p = hold.shape[0]
    circumvention_row = n_p

    # Kind 0 (benign) is counted in aggregate and only the posts a rule touches are
    # drawn; kinds 1.. are drawn post by post and routed. Either way each platform's
    # batch then goes through the one call of _publish below (one call site: numba
    # compiles it once, not once per constant argument).
    reaching = np.empty(0, dtype=np.int64)
    reaching_times = np.empty(0, dtype=np.float64)
    offsets = np.zeros(n_p + 1, dtype=np.int64)
    withheld = np.zeros(n_p, dtype=np.int64)
    for kind in range(len(sensitive_offsets)):
        if kind == BENIGN:
            if len(benign_split) == 0:
                continue
            for p in range(n_p):
                intended[p, channel, kind] += (
                    benign_split[p] + benign_split[n_p + p] + benign_split[2 * n_p + p]
                )
            intended[circumvention_row, channel, kind] += benign_split[3 * n_p]
            for p in range(n_p):
                counts[p, channel, kind, EXCLUDED] += benign_split[p]
                counts[p, channel, kind, WITHHELD] += benign_split[2 * n_p + p]
            offshore = benign_split[3 * n_p]
        else:
            first, last = sensitive_offsets[kind - 1], sensitive_offsets[kind]
            if last == first:
                continue
            into, excluded, offshore, withheld, reaching, reaching_times, offsets = route_posts(
                sensitive_authors[first:last],
                sensitive_times[first:last],
                route,
                platform,
                n_p,
                kind_weight[kind],
                risk,
                traceable,
                real_name_risk,
                sensitive_boldness[first:last],
            )
            for p in range(n_p + 1):
                intended[p, channel, kind] += into[p]
            for p in range(n_p):
                counts[p, channel, kind, EXCLUDED] += excluded[p]
        # Posts through circumvention tools: friction loses some, the rest survive.
        if offshore:
            lost = _binomial(split_rng, offshore, friction)
            counts[circumvention_row, channel, kind, EXCLUDED] += lost
            counts[circumvention_row, channel, kind, SURVIVING] += offshore - lost
        if kind != BENIGN:
            for p in range(n_p):
                counts[p, channel, kind, WITHHELD] += withheld[p]
        for p in range(n_p):
            published = benign_split[n_p + p] if kind == BENIGN else offsets[p + 1] - offsets[p]
            if published == 0:
                continue
            if not in_scope:
                counts[p, channel, kind, SURVIVING] += published
                continue
            if kind == BENIGN:
                held = _binomial(moderation_rng, published, hold[p, kind])
                touched = _binomial(moderation_rng, published - held, any_touch[p, kind])
                counts[p, channel, kind, SURVIVING] += published - held - touched
                wanted = held + touched
                if wanted == 0:
                    continue
                # Authors among the group's users by benign weight (found after the
                # day's draws, which they do not change: _find_authors), then times.
                t = state[TARGETS]
                target_value = _room(target_value, t + wanted)
                target_int = _room(target_int, t + wanted)
                authors = np.empty(wanted, dtype=np.int64)
                for k in range(wanted):
                    target_value[0, t + k] = moderation_rng.random() * group_mass[n_p + p]
                    target_int[0, t + k] = p
                    target_int[1, t + k] = group_index
                    authors[k] = -(t + k + 1)
                state[TARGETS] = t + wanted
                times = np.empty(wanted, dtype=np.float64)
                for k in range(wanted):
                    times[k] = day_start + HOURS * moderation_rng.random()
                given = True  # held first, every other post flagged, noticed or ordered
            else:
                held = 0
                authors = reaching[offsets[p] : offsets[p + 1]]
                times = reaching_times[offsets[p] : offsets[p + 1]]
                given = False
            post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int = (
                _publish(
                    p, channel, kind, authors, times, held, given,
                    hold, touch, conditional, prohibited, monitoring_delay, notice_delay,
                    flag_delay, reviewer_mean, notice_deadline, day_start, moderation_rng,
                    counts, tallies, prohibited_hours, post_float, post_int, sub_time,
                    sub_int, duty_deadline, duty_int, order_int, state,
                )
            )  # fmt: skip
    return (
        post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int,
        target_value, target_int,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _publish(
    p: int,
    channel: int,
    kind: int,
    authors: Array,
    times: Array,
    held_count: int,
    touched_given: bool,
    hold: Array,
    touch: Array,
    conditional: Array,
    prohibited: Array,
    monitoring_delay: float,
    notice_delay: float,
    flag_delay: Array,
    reviewer_mean: Array,
    notice_deadline: float,
    day_start: float,
    rng: Any,
    counts: Array,
    tallies: Array,
    prohibited_hours: Array,
    post_float: Array,
    post_int: Array,
    sub_time: Array,
    sub_int: Array,
    duty_deadline: Array,
    duty_int: Array,
    order_int: Array,
    state: Array,
) -> tuple[Array, Array, Array, Array, Array, Array, Array]:
    """Posts of one kind that reach platform ``p``: hold, flag, notice and order them,
    count them, and append what follows to the buffers (``state``: how many of each are
    filled). ``touched_given`` (the benign path): the first ``held_count`` posts are
    held and every other one is known to be flagged, noticed or ordered, so which of
    the three is drawn given at least one; otherwise holds are drawn here. Returns the
    buffers (grown if needed)."""
    n = len(authors)
    is_held = np.empty(n, dtype=np.bool_)
    if touched_given:
        for k in range(n):
            is_held[k] = k < held_count
    else:
        for k in range(n):
            is_held[k] = rng.random() < hold[p, kind]
    # Flags row by row over all posts, as numpy drew them (held ones too: then dropped).
    flags = np.zeros((3, n), dtype=np.bool_)
    if touched_given:
        none_yet = np.ones(n, dtype=np.bool_)
        for row in range(3):
            for k in range(n):
                draw = rng.random()
                if none_yet[k]:
                    flags[row, k] = draw < conditional[p, row, kind]
                else:
                    flags[row, k] = draw < touch[p, row, kind]
                if flags[row, k]:
                    none_yet[k] = False
    else:
        for row in range(3):
            for k in range(n):
                flags[row, k] = rng.random() < touch[p, row, kind]
    touched = np.empty(n, dtype=np.bool_)
    m = 0
    for k in range(n):
        if is_held[k]:
            for row in range(3):
                flags[row, k] = False  # held posts are reviewed before publication instead
        touched[k] = is_held[k] or flags[0, k] or flags[1, k] or flags[2, k]
        m += touched[k]
    if prohibited[kind]:
        for k in range(n):
            if not is_held[k]:
                prohibited_hours[p, int(math.floor(times[k])) - int(day_start)] += 1
    if n - m:
        counts[p, channel, kind, SURVIVING] += n - m
    if m == 0:
        return post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int
    which = np.empty(m, dtype=np.int64)
    j = 0
    for k in range(n):
        if touched[k]:
            which[j] = k
            j += 1
    # Draws in numpy's order: order delays (all touched), scores, notice, flag delays.
    order_hours = np.empty(m, dtype=np.float64)
    for j in range(m):
        arrival = times[which[j]] + _exponential(rng, monitoring_delay)
        order_hours[j] = arrival if flags[2, which[j]] else np.inf
    score = np.empty(m, dtype=np.float64)
    for j in range(m):
        score[j] = reviewer_mean[p, kind] + _normal(rng)
    notice_hours = np.empty(m, dtype=np.float64)
    flag_hours = np.empty(m, dtype=np.float64)
    for j in range(m):
        if flags[1, which[j]]:
            notice_hours[j] = times[which[j]] + _exponential(rng, notice_delay)
    for j in range(m):
        flag_hours[j] = times[which[j]]
    if flag_delay[p] > 0:
        for j in range(m):
            if flags[0, which[j]]:
                flag_hours[j] = flag_hours[j] + _exponential(rng, flag_delay[p])

    # The records: ids follow on from the ones already made today.
    base = state[0]
    post_float = _room(post_float, base + m)
    post_int = _room(post_int, base + m)
    n_held = 0
    n_flagged = 0
    n_noticed = 0
    for j in range(m):
        k = which[j]
        post_float[0, base + j] = times[k]
        post_float[1, base + j] = np.inf if is_held[k] else times[k]
        post_float[2, base + j] = order_hours[j]
        post_float[3, base + j] = score[j]
        post_int[0, base + j] = authors[k]
        post_int[1, base + j] = p
        post_int[2, base + j] = kind
        post_int[3, base + j] = channel
        n_held += is_held[k]
        n_flagged += flags[0, k]
        n_noticed += flags[1, k]
    state[0] = base + m
    counts[p, channel, kind, BLOCKED] += n_held  # until approved
    counts[p, channel, kind, SURVIVING] += m - n_held
    tallies[0, kind] += n_held
    tallies[1, kind] += n_flagged
    tallies[2, kind] += n_noticed

    # Review items, in numpy's submission order: held, flagged, noticed, ordered.
    s = state[1]
    sub_time = _room(sub_time, s + 3 * m)
    sub_int = _room(sub_int, s + 3 * m)
    for action in (HOLD, FLAG, NOTICE, ORDER):
        for j in range(m):
            k = which[j]
            if action == HOLD:
                if not is_held[k]:
                    continue
                arrival = times[k]
            elif action == FLAG:
                if not flags[0, k]:
                    continue
                arrival = flag_hours[j]
            elif action == NOTICE:
                if not flags[1, k]:
                    continue
                arrival = notice_hours[j]
            else:
                if not flags[2, k]:
                    continue
                arrival = order_hours[j]
            sub_time[0, s] = arrival
            sub_int[0, s] = p
            sub_int[1, s] = action
            sub_int[2, s] = (base + j) * ACTIONS + action
            s += 1
    state[1] = s

    if notice_deadline >= 0 and prohibited[kind]:
        d = state[2]
        duty_deadline = _room(duty_deadline, d + n_noticed)
        duty_int = _room(duty_int, d + n_noticed)
        for j in range(m):
            if flags[1, which[j]]:
                duty_deadline[0, d] = notice_hours[j] + notice_deadline
                duty_int[0, d] = p
                duty_int[1, d] = base + j
                d += 1
        state[2] = d

    # Orders, bucketed by arrival day: one chunk per day, days ascending (as numpy's
    # np.unique of the days gave them; a scan of the few days, not a sort).
    n_orders = 0
    for j in range(m):
        n_orders += flags[2, which[j]]
    if n_orders:
        o = state[3]
        order_int = _room(order_int, o + n_orders)
        days = np.empty(n_orders, dtype=np.int64)
        i = 0
        for j in range(m):
            if flags[2, which[j]]:
                days[i] = int(math.floor(order_hours[j] / HOURS))
                i += 1
        # Loops, not days.min(), days.max() and (days == day).any(): the same days,
        # without compiling numpy's reductions and comparisons (~1 s of a first run).
        day = last_day = days[0]
        for i in range(1, n_orders):
            if days[i] < day:
                day = days[i]
            if days[i] > last_day:
                last_day = days[i]
        while day <= last_day:
            present = False
            for i in range(n_orders):
                if days[i] == day:
                    present = True
                    break
            if not present:
                day += 1
                continue
            i = 0
            for j in range(m):
                if flags[2, which[j]]:
                    if days[i] == day:
                        order_int[0, o] = state[4]
                        order_int[1, o] = base + j
                        order_int[2, o] = day
                        o += 1
                    i += 1
            state[4] += 1
            day += 1
        state[3] = o
    return post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int


@njit(cache=True, nogil=True)
def _find_authors(
    group: Array,
    weights: Array,
    n_platforms: int,
    targets: Array,
    target_platform: Array,
    mine: Array,
    found: Array,
    running: Array,
    block: int,
) -> None:
    """``found[i]`` for each target ``i`` with ``mine[i]``: the user of published group
    ``P + target_platform[i]`` whose running group weight first exceeds ``targets[i]``
    (the last user of the group if none does; -1 for an empty group). That is
    ``members[min(searchsorted(cumulative, t, "right"), len - 1)]`` of
    :func:`simulator.kernels.group_members` (the running weights by blocks).

    ``running`` is the table :func:`simulator.kernels.benign_groups` recorded with
    these groups and weights (P x (blocks + 1): group ``P + p``'s weight before each
    block of ``block`` users, then its total). The weights are not negative (Users
    clips them), so each row is non-decreasing: a search finds the block where the
    group's running weight first exceeds the target, and a scan of that block adds the
    block's own sum to its recorded start, as the definition does. Per target: a few
    probes and at most ``block`` users, not all users (at a
    million users ~0.3 us a target, against ~4 ms a day for the sweep; a rules run
    reaches ~10,000 targets a day, where the block reads are what is left)."""
    n = len(group)
    m = len(targets)
    n_blocks = running.shape[1] - 1
    # The targets below their group's total, platform by platform (``queue``), and
    # each one's block: the first whose end total exceeds it, i.e. searchsorted(
    # running[p, 1:], t, "right"), found as the sensitive authors are (bucketed, level
    # by level: a binary search target by target waited on a cache miss per probe).
    where = np.full(m, -1, dtype=np.int64)
    per_platform = np.zeros(n_platforms + 1, dtype=np.int64)
    for i in range(m):
        if not mine[i]:
            continue
        if targets[i] < running[target_platform[i], n_blocks]:
            per_platform[target_platform[i] + 1] += 1
            continue
        # At or beyond the group's total (rounding in random() * total), or an empty
        # group: its last user, found from the end (rare).
        g = n_platforms + target_platform[i]
        last = n - 1
        while last >= 0 and group[last] != g:
            last -= 1
        found[i] = last
    for p in range(n_platforms):
        per_platform[p + 1] += per_platform[p]
    queue = np.empty(per_platform[n_platforms], dtype=np.int64)
    values = np.empty(per_platform[n_platforms], dtype=np.float64)
    fill = per_platform[:n_platforms].copy()
    for i in range(m):
        if mine[i] and targets[i] < running[target_platform[i], n_blocks]:
            queue[fill[target_platform[i]]] = i
            values[fill[target_platform[i]]] = targets[i]
            fill[target_platform[i]] += 1
    for p in range(n_platforms):
        first, last = per_platform[p], per_platform[p + 1]
        if last > first:
            ends = running[p, 1:]  # non-decreasing, its last entry above these targets
            start = bucket_index(ends, max(1, n_blocks // 4))  # ~4 blocks a bucket
            blocks = search_bucketed(ends, start, values[first:last])
            for k in range(last - first):
                where[queue[first + k]] = blocks[k]
    count = np.zeros(n_blocks + 1, dtype=np.int64)
    for i in range(m):
        if where[i] >= 0:
            count[where[i] + 1] += 1
    # Then block by block, ascending (a counting sort): the blocks' users are read in
    # address order, and a block with several targets is read from memory once.
    for b in range(n_blocks):
        count[b + 1] += count[b]
    order = np.empty(count[n_blocks], dtype=np.int64)
    for i in range(m):
        if where[i] >= 0:
            order[count[where[i]]] = i
            count[where[i]] += 1
    for i in order:
        b, p, t = where[i], target_platform[i], targets[i]
        g = n_platforms + p
        prefix = running[p, b]
        inner = 0.0
        user, end = b * block, min(b * block + block, n)
        while user < end:  # ends inside: prefix + the block's sum is running[p, b + 1] > t
            # The block's own sum in user order from 0 (kernels.benign_groups' definition);
            # + 0.0 for other users leaves it as it is (a select, not a mispredicted branch).
            inner += weights[user] if group[user] == g else 0.0
            if prefix + inner > t:
                break
            user += 1
        if user == end:
            raise ValueError("running is not the table of these groups and weights")
        found[i] = user


@njit(cache=True, nogil=True)
def touch_tables(flag: Array, notice: Array, order: Array) -> tuple[Array, Array, Array]:
    """For each channel, platform and kind: P(flag, notice, order) of a published post
    that is not held (``touch``, channels x P x 3 x kinds), P(at least one)
    (``any_touch``) and P(each | none before it, at least one from it on)
    (``conditional``; the benign path draws which given at least one).

    ``flag`` is per platform and kind; ``notice`` and ``order`` per channel and kind.
    The products are numpy's ``prod`` over each (flag, notice, order) column, taken
    left to right, so the numbers are the ones numpy gave."""
    n_channels, n_kinds = notice.shape
    n_p = flag.shape[0]
    touch = np.empty((n_channels, n_p, 3, n_kinds))
    any_touch = np.empty((n_channels, n_p, n_kinds))
    conditional = np.empty((n_channels, n_p, 3, n_kinds))
    for c in range(n_channels):
        for p in range(n_p):
            for k in range(n_kinds):
                q = (flag[p, k], notice[c, k], order[c, k])
                touch[c, p, 0, k], touch[c, p, 1, k], touch[c, p, 2, k] = q
                spared = (1.0 - q[0], 1.0 - q[1], 1.0 - q[2])
                any_touch[c, p, k] = 1.0 - spared[0] * spared[1] * spared[2]
                later = (1.0 - spared[1] * spared[2], 1.0 - spared[2], 0.0)
                for row in range(3):
                    denominator = q[row] + (1.0 - q[row]) * later[row]
                    conditional[c, p, row, k] = q[row] / denominator if denominator > 0 else 0.0
    return touch, any_touch, conditional


@njit(cache=True, nogil=True)
def draw_speech(
    rng: Any, daily_rate: Array, day_start: float, sensitive_total: float
) -> tuple[Array, Array, Array, Array]:
    """A day's intended posts from the speech stream ``rng``: the counts per channel and
    kind (Poisson with means ``daily_rate``), then for each channel and sensitive kind
    the authors' targets (uniform over ``[0, sensitive_total)``, the users' summed
    sensitive weight) and the times (hours from ``day_start``), kind by kind.

    Returns ``counts`` (channels x kinds), ``targets``, ``times`` and ``offsets`` (the
    slice of channel ``c`` and kind ``k`` is ``offsets[c * 3 + k - 1]`` to the next).
    The draws and their order are those of ``rng.poisson(daily_rate)`` followed by
    ``rng.random(n) * total`` and ``start + 24 * rng.random(n)`` per pair."""
    n_channels, n_kinds = daily_rate.shape
    counts = np.empty((n_channels, n_kinds), dtype=np.int64)
    for c in range(n_channels):
        for k in range(n_kinds):
            counts[c, k] = rng.poisson(daily_rate[c, k])
    sensitive = n_kinds - 1
    offsets = np.zeros(n_channels * sensitive + 1, dtype=np.int64)
    for c in range(n_channels):
        for k in range(1, n_kinds):
            pair = c * sensitive + k - 1
            offsets[pair + 1] = offsets[pair] + counts[c, k]
    targets = np.empty(offsets[-1], dtype=np.float64)
    times = np.empty(offsets[-1], dtype=np.float64)
    for pair in range(n_channels * sensitive):
        for i in range(offsets[pair], offsets[pair + 1]):
            targets[i] = rng.random() * sensitive_total
        for i in range(offsets[pair], offsets[pair + 1]):
            times[i] = day_start + HOURS * rng.random()
    return counts, targets, times, offsets


@njit(cache=True, nogil=True)
def moderation_tables(
    exceed: Array, prepublication_filter: Array, notice: Array, order: Array
) -> tuple[Array, Array, Array, Array]:
    """Each platform's moderation probabilities from its filter's ``exceed[0]`` = P(the
    classifier score is above the hold line) and ``exceed[1]`` (above the flag line),
    platforms x kinds: P(held) (0 without a pre-publication filter), then
    :func:`touch_tables` of P(flagged | not held). The arithmetic of
    ``PlatformState.hold_probability`` and ``flag_probability_if_not_held`` (clip and
    where as numpy does them), so the same numbers."""
    n_p, n_kinds = exceed.shape[1], exceed.shape[2]
    hold = np.empty((n_p, n_kinds))
    flag = np.empty((n_p, n_kinds))
    for p in range(n_p):
        for k in range(n_kinds):
            held = exceed[0, p, k] if prepublication_filter[p] else 0.0
            value = (exceed[1, p, k] - held) / (1.0 - held) if held < 1.0 else 0.0
            value = value if value > 0.0 else 0.0  # np.clip: max then min, NaN-free here
            flag[p, k] = value if value < 1.0 else 1.0
            hold[p, k] = held
    touch, any_touch, conditional = touch_tables(flag, notice, order)
    return hold, touch, any_touch, conditional


@njit(cache=True, nogil=True)
def multinomial(rng: Any, n: int, pvals: Array) -> Array:
    """``rng.multinomial(n, pvals)``: numpy's algorithm (a binomial per category, of
    the rest, with the rest's probability), so the same numbers and stream state."""
    d = len(pvals)
    out = np.zeros(d, dtype=np.int64)
    remaining_p = 1.0
    left = n
    for j in range(d - 1):
        out[j] = _binomial(rng, left, pvals[j] / remaining_p)
        left -= out[j]
        if left <= 0:
            break
        remaining_p -= pvals[j]
    if left > 0:
        out[d - 1] = left
    return out


@njit(cache=True, nogil=True)
def _speak(
    rng: Any,
    daily_rate: Array,
    day_start: float,
    sensitive_cumulative: Array,
    sensitive_start: Array,
    n_users: int,
    boldness: Array,
) -> tuple[Array, Array, Array, Array, Array]:
    """:func:`draw_speech` and the sensitive posts' authors
    (:func:`simulator.kernels.search_bucketed`): the counts, the authors, the times and
    the offsets of a day's intended posts, and the authors' ``boldness`` (fixed: when
    drawn ahead, one gather fewer from a large array while the day runs)."""
    counts, targets, times, offsets = draw_speech(
        rng, daily_rate, day_start, sensitive_cumulative[-1] if n_users else 0.0
    )
    if len(targets):
        authors = search_bucketed(sensitive_cumulative, sensitive_start, targets)
    else:
        authors = np.zeros(0, dtype=np.int64)
    author_boldness = np.empty(len(authors), dtype=boldness.dtype)
    for k in range(len(authors)):
        author_boldness[k] = boldness[authors[k]]
    return counts, authors, times, offsets, author_boldness


@njit(cache=True, nogil=True)
def draw_speech_day(
    speech_handle: Array,
    daily_rate: Array,
    day_start: float,
    sensitive_cumulative: Array,
    sensitive_start: Array,
    n_users: int,
    boldness: Array,
) -> tuple[Array, Array, Array, Array, Array]:
    """What :func:`publish_days` draws first each day, drawn ahead: a day's counts, sensitive
    authors, times and offsets, from the speech stream (a generator handle) and the
    users' fixed sensitive weights alone, so a second thread can draw day ``d + 1``
    while day ``d`` runs (the GIL released). Passed to :func:`publish_days` as its
    ``drawn_*`` arguments; the same draws in the same order as drawing in it."""
    return _speak(
        as_generator(speech_handle), daily_rate, day_start, sensitive_cumulative,
        sensitive_start, n_users, boldness,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _no_outputs() -> tuple[Array, ...]:
    """What a day of :func:`publish_days` returns, empty (its types, for the loop's start)."""
    none = np.zeros(0, dtype=np.int64)
    return (
        np.zeros((POST_FLOAT_ROWS, 0)), np.zeros((POST_INT_ROWS, 0), dtype=np.int64),
        np.zeros(0), none, none, none, none, none, np.zeros(0), none, none, none, none,
        none, np.zeros(6, dtype=np.int64),
    )  # fmt: skip


@njit(cache=True, nogil=True)
def publish_days(
    first_day: int,
    n_days: int,
    speech_handle: Array,
    daily_rate: Array,
    sensitive_cumulative: Array,
    sensitive_start: Array,
    n_users: int,
    drawn_counts: Array,
    drawn_authors: Array,
    drawn_times: Array,
    drawn_offsets: Array,
    drawn_boldness: Array,
    benign_pvals: Array,
    group_mass: Array,
    group: Array,
    private_group: Array,
    benign_weight: Array,
    running: Array,
    private_running: Array,
    block: int,
    in_scope: Array,
    prohibited: Array,
    route: Array,
    platform: Array,
    kind_weight: Array,
    risk: Array,
    traceable: Array,
    real_name_risk: float,
    boldness: Array,
    hold: Array,
    touch: Array,
    any_touch: Array,
    conditional: Array,
    friction: float,
    monitoring_delay: float,
    notice_delay: float,
    flag_delay: Array,
    reviewer_mean: Array,
    notice_deadline: float,
    split_handle: Array,
    moderation_handle: Array,
    intended: Array,
    counts: Array,
    tallies: Array,
    prohibited_hours: Array,
    post_float: Array,
    post_int: Array,
    sub_time: Array,
    sub_int: Array,
    duty_deadline: Array,
    duty_int: Array,
    order_int: Array,
    target_value: Array,
    target_int: Array,
    state: Array,
    first_id: int,
) -> tuple[Array, ...]:
    """A day's speech, both channels, for days ``first_day .. first_day + n_days - 1``,
    into ``intended[day]`` and ``counts[day]`` (the whole run's arrays); returns the last
    day's outputs. The engine's one entry point: one day at a time while rules act, or
    every day at once in a world where nothing the day's speech depends on ever changes
    and no channel is moderated (no records, review items, duties, orders, tallies or
    hourly counts): the same draws, day after day. A world without rules spent most of
    its time calling. (The day is written inside the loop, not as a function of its
    own: numba compiles a jitted function called from another again inside it, which
    cost seconds of every machine's first run.)

    Each day: :func:`draw_speech`, the sensitive authors
    (:func:`simulator.kernels.search_bucketed`; or, if ``drawn_offsets`` is not empty,
    the ``drawn_*`` arrays :func:`draw_speech_day` gave), then per channel the benign
    split over the outcome groups (``benign_pvals[c]``; :func:`multinomial` from the
    split stream, as numpy drew it) and :func:`publish_channel`; last the benign
    authors (:func:`_find_authors`) from ``group`` and ``private_group``, each user's
    outcome group for the public and the private channel (the same array when the
    channels share their groups), ``group_mass`` (channels x groups: each group's
    summed ``benign_weight``) and ``running``/``private_running``, the table of each
    group array's running published-group weights per block of ``block`` users that
    :func:`simulator.kernels.benign_groups` recorded with it. The rest as
    :func:`publish_channel`, per channel where it has a channel axis (``in_scope``,
    ``kind_weight``, ``touch``...).

    Returns the records (``post_float``, ``post_int``; ids from ``first_id`` on), the
    review items grouped by platform (times, actions, items; platform ``p``'s at
    ``sub_offsets[p]:sub_offsets[p + 1]``, in the order made), the ids of prohibited
    records grouped by platform (ascending), the notice duties (deadline, platform,
    post id) and the orders (chunk, post id, arrival day), and ``state`` (how many).

    The three generators come as :func:`simulator.generator_handles.handle` arrays (a
    ``Generator`` argument cost ~22 us a call to type and unbox)."""
    if n_days < 1 or (n_days > 1 and (in_scope.any() or len(drawn_offsets))):
        raise ValueError("one day, or several where no channel is moderated and none drawn")
    speech_rng = as_generator(speech_handle)
    split_rng = as_generator(split_handle)
    moderation_rng = as_generator(moderation_handle)
    published = _no_outputs()
    for day in range(first_day, first_day + n_days):
        day_start = day * HOURS
        day_intended = intended[day]
        day_counts = counts[day]
        # Each day starts from the buffers given (new ones are returned where one grew).
        day_post_float, day_post_int, day_sub_time, day_sub_int = (
            post_float, post_int, sub_time, sub_int
        )  # fmt: skip
        day_duty_deadline, day_duty_int, day_order_int = duty_deadline, duty_int, order_int
        day_target_value, day_target_int = target_value, target_int
        if len(drawn_offsets):  # drawn ahead (draw_speech_day, on another thread)
            speech_counts, authors, times, offsets, author_boldness = (
                drawn_counts,
                drawn_authors,
                drawn_times,
                drawn_offsets,
                drawn_boldness,
            )
        else:
            speech_counts, authors, times, offsets, author_boldness = _speak(
                speech_rng, daily_rate, day_start, sensitive_cumulative, sensitive_start, n_users,
                boldness,
            )  # fmt: skip
        per_channel = daily_rate.shape[1] - 1
        no_split = np.zeros(0, dtype=np.int64)
        for channel in range(daily_rate.shape[0]):
            benign = speech_counts[channel, 0]
            split = no_split
            if benign and n_users:
                split = multinomial(split_rng, benign, benign_pvals[channel])
            first, last = offsets[channel * per_channel], offsets[(channel + 1) * per_channel]
            these = offsets[channel * per_channel : (channel + 1) * per_channel + 1] - first
            # Which group array the channel's benign authors come from: 0 public, 1 private.
            group_index = 1 if channel == 1 and private_group is not group else 0
            (
                day_post_float, day_post_int, day_sub_time, day_sub_int, day_duty_deadline,
                day_duty_int, day_order_int, day_target_value, day_target_int,
            ) = (
                publish_channel(
                    channel, day_start, in_scope[channel], prohibited, split,
                    group_mass[channel], group_index, authors[first:last], times[first:last], these,
                    author_boldness[first:last], route, platform, kind_weight[channel], risk,
                    traceable, real_name_risk, hold, touch[channel], any_touch[channel],
                    conditional[channel],
                    friction, monitoring_delay, notice_delay, flag_delay, reviewer_mean,
                    notice_deadline, split_rng, moderation_rng, day_intended, day_counts, tallies,
                    prohibited_hours, day_post_float, day_post_int, day_sub_time, day_sub_int,
                    day_duty_deadline, day_duty_int, day_order_int, day_target_value,
                    day_target_int, state,
                )
            )  # fmt: skip
        n_p = hold.shape[0]
        n_targets = state[TARGETS]
        if n_targets:
            found = np.empty(n_targets, dtype=np.int64)
            for index, which, table in ((0, group, running), (1, private_group, private_running)):
                mine = day_target_int[1, :n_targets] == index
                if mine.any():
                    _find_authors(
                        which, benign_weight, n_p, day_target_value[0, :n_targets],
                        day_target_int[0, :n_targets], mine, found, table, block,
                    )  # fmt: skip
            for i in range(state[POSTS]):
                if day_post_int[0, i] < 0:
                    day_post_int[0, i] = found[-day_post_int[0, i] - 1]
        n_posts, n_subs, n_duties, n_orders = state[0], state[1], state[2], state[3]
        # Review items by platform, stably (a counting sort), with absolute item ids.
        sub_offsets = np.zeros(n_p + 1, dtype=np.int64)
        for i in range(n_subs):
            sub_offsets[day_sub_int[0, i] + 1] += 1
        for p in range(n_p):
            sub_offsets[p + 1] += sub_offsets[p]
        fill = sub_offsets[:n_p].copy()
        times_by_platform = np.empty(n_subs, dtype=np.float64)
        actions_by_platform = np.empty(n_subs, dtype=np.int64)
        items_by_platform = np.empty(n_subs, dtype=np.int64)
        for i in range(n_subs):
            at = fill[day_sub_int[0, i]]
            times_by_platform[at] = day_sub_time[0, i]
            actions_by_platform[at] = day_sub_int[1, i]
            items_by_platform[at] = day_sub_int[2, i] + first_id * ACTIONS
            fill[day_sub_int[0, i]] += 1
        # Prohibited records by platform, ascending.
        prohibited_offsets = np.zeros(n_p + 1, dtype=np.int64)
        for i in range(n_posts):
            if prohibited[day_post_int[2, i]]:
                prohibited_offsets[day_post_int[1, i] + 1] += 1
        for p in range(n_p):
            prohibited_offsets[p + 1] += prohibited_offsets[p]
        fill = prohibited_offsets[:n_p].copy()
        prohibited_ids = np.empty(prohibited_offsets[n_p], dtype=np.int64)
        for i in range(n_posts):
            if prohibited[day_post_int[2, i]]:
                prohibited_ids[fill[day_post_int[1, i]]] = first_id + i
                fill[day_post_int[1, i]] += 1
        duty_platform = day_duty_int[0, :n_duties].copy()
        duty_post = day_duty_int[1, :n_duties] + first_id
        order_chunk = day_order_int[0, :n_orders].copy()
        order_post = day_order_int[1, :n_orders] + first_id
        order_day = day_order_int[2, :n_orders].copy()
        published = (
            day_post_float, day_post_int, times_by_platform, actions_by_platform, items_by_platform,
            sub_offsets, prohibited_ids, prohibited_offsets, day_duty_deadline[0, :n_duties].copy(),
            duty_platform, duty_post, order_chunk, order_post, order_day, state,
        )  # fmt: skip
    return published


def compiled_on_this_machine() -> bool:
    """Whether numba's on-disk cache already holds the day step (else the first run
    compiles it: a minute or two). Reads numba's cache index path (not public API: if
    that changes, says True rather than guess)."""
    from pathlib import Path

    cache: Any = getattr(publish_days, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    return index is None or Path(index).exists()  # None: a numba without this layout
