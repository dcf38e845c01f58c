"""The engine's speech step, compiled: a day's speech on both channels in one call
(:func:`publish_days`), drawing (:mod:`simulator.kernels.speech`), splitting the benign
posts over their outcome groups (:mod:`simulator.kernels.benign`) and publishing each
channel (:mod:`simulator.kernels.channel`), then grouping what the review queues, the
legal duties and the order book receive by platform.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.channel import (
    ACTIONS,
    DUTIES,
    ORDERS,
    POST_FLOAT_ROWS,
    POST_INT_ROWS,
    POSTS,
    SUBMISSIONS,
    TARGETS,
    BenignDay,
    Buffers,
    DayCounts,
    Generators,
    Moderation,
    Routes,
    SensitivePosts,
    publish_channel,
)
from simulator.kernels.choice import Beliefs, SpeechInputs
from simulator.kernels.draws import multinomial
from simulator.kernels.handles import as_generator
from simulator.kernels.speech import HOURS, find_authors, speak

Array = NDArray[Any]


class Handles(NamedTuple):
    """The run's generators as :func:`simulator.kernels.handles.handle` arrays (or the
    generators themselves where numba cannot take handles): the speech stream (the
    day's intended posts), the split stream and the moderation stream."""

    speech: Any
    split: Any
    moderation: Any


class SpeechSource(NamedTuple):
    """What a day's intended posts are drawn from: ``daily_rate`` (channels x kinds,
    posts a day), the users' summed sensitive weights ``sensitive_cumulative`` (rows x
    users) with the search's ``sensitive_start`` (rows x buckets + 1,
    :func:`simulator.kernels.numeric.search_bucketed`), each sensitive kind's row
    ``kind_row``,
    ``n_users``, each user's ``value`` of speaking and ``noise`` (the choice noise's
    exponent, :func:`simulator.kernels.choice.mood`)."""

    daily_rate: Array
    sensitive_cumulative: Array
    sensitive_start: Array
    kind_row: Array
    n_users: int
    value: Array
    noise: float


class Drawn(NamedTuple):
    """A day's intended speech drawn ahead (:func:`simulator.kernels.speech.draw_speech_day`:
    ``counts``, sensitive ``authors``, ``times``, ``offsets``, ``mood``, ``value``), or
    empty arrays for :func:`publish_days` to draw it itself."""

    counts: Array
    authors: Array
    times: Array
    offsets: Array
    mood: Array
    value: Array


class BenignGroups(NamedTuple):
    """The benign posts' outcome groups (:mod:`simulator.kernels.benign`): per channel
    the split's probabilities ``pvals`` and each group's summed weight ``mass``
    (channels x groups), each user's ``group`` for the public and ``private_group`` for
    the private channel (the same array when the channels share their groups), the
    users' benign ``weight``, each group array's running published-group weights per
    block (``running``, ``private_running``) and the block's size in users."""

    pvals: Array
    mass: Array
    group: Array
    private_group: Array
    weight: Array
    running: Array
    private_running: Array
    block: int


#: The buffers' capacities when nothing is known of the day (posts, submissions,
#: duties, orders, benign author targets).
BUFFER_CAPACITIES = (256, 256, 16, 16, 256)


def new_buffers(capacities: tuple[int, int, int, int, int] = BUFFER_CAPACITIES) -> Buffers:
    """Empty output buffers for :func:`publish_channel` (a day's, both channels'), with
    room for ``capacities`` posts, submissions, duties, orders and benign author targets
    (they grow, by doubling and copying, past these: :func:`buffer_capacities`)."""
    posts, submissions, duties, orders, targets = capacities
    return Buffers(
        np.empty((POST_FLOAT_ROWS, posts), dtype=np.float64),
        np.empty((POST_INT_ROWS, posts), dtype=np.int64),
        np.empty((1, submissions), dtype=np.float64),
        np.empty((3, submissions), dtype=np.int64),
        np.empty((1, duties), dtype=np.float64),
        np.empty((2, duties), dtype=np.int64),
        np.empty((3, orders), dtype=np.int64),
        np.empty((1, targets), dtype=np.float64),
        np.empty((2, targets), dtype=np.int64),
        np.zeros(6, dtype=np.int64),
    )


def buffer_capacities(state: Array, margin: float = 0.25) -> tuple[int, int, int, int, int]:
    """Capacities for the next day's :func:`new_buffers` from a day's ``state`` (what it
    filled): a ``margin`` more than each count, at least :data:`BUFFER_CAPACITIES`. At a
    million users a day fills hundreds of thousands of each, and buffers grown from 256 by
    doubling held up to twice that, three times while the last copy was made (the peak
    of the rules year's first month, docs/performance.md "Session 19"). The values
    written do not depend on a buffer's capacity, only the memory does."""
    filled = (state[POSTS], state[SUBMISSIONS], state[DUTIES], state[ORDERS], state[TARGETS])
    posts, submissions, duties, orders, targets = (
        max(int(count * (1 + margin)), least)
        for count, least in zip(filled, BUFFER_CAPACITIES, strict=True)
    )
    return posts, submissions, duties, orders, targets


@njit(cache=True, nogil=True)
def _no_outputs() -> tuple[Array, ...]:
    """What a day of :func:`publish_days` returns, empty (its types, for the loop's start)."""
    none = np.zeros(0, dtype=np.int64)
    return (
        np.zeros((POST_FLOAT_ROWS, 0)), np.zeros((POST_INT_ROWS, 0), dtype=np.int64),
        np.zeros(0), none, none, none, none, none, np.zeros(0), none, none, none, none,
        none, np.zeros((1, 0)), np.zeros((2, 0), dtype=np.int64), np.zeros(6, dtype=np.int64),
    )  # fmt: skip


@njit(cache=True, nogil=True)
def publish_days(
    first_day: int,
    n_days: int,
    handles: Handles,
    source: SpeechSource,
    drawn: Drawn,
    benign: BenignGroups,
    routes: Routes,
    speech: SpeechInputs,
    beliefs: Beliefs,
    moderation: Moderation,
    day_counts: DayCounts,
    buffers: Buffers,
    first_id: int,
) -> tuple[Array, ...]:
    """A day's speech, both channels, for days ``first_day .. first_day + n_days - 1``,
    into ``day_counts.intended[day]``, ``day_counts.counts[day]`` and
    ``day_counts.potential[day]`` (the whole run's arrays); returns the last day's
    outputs. The engine's one entry point: one day at a time while rules act, or every
    day at once in a world where nothing the day's speech depends on ever changes and no
    channel is moderated (no records, review items, duties, orders, tallies or hourly
    counts): the same draws, day after day. A world without rules spent most of its time
    calling. (The day is written inside the loop, not as a function of its own: numba
    compiles a jitted function called from another again inside it, which cost seconds
    of every machine's first run.)

    Each day: :func:`draw_speech` from ``source``, the sensitive authors
    (:func:`simulator.kernels.numeric.search_bucketed`; or, if ``drawn.offsets`` is not
    empty, what :func:`draw_speech_day` drew ahead), then per channel the benign split
    over the outcome groups (``benign.pvals[c]``; :func:`multinomial` from the split
    stream, as numpy drew it) and :func:`publish_channel`. The benign records' authors
    are left to :func:`resolve_authors` (their targets returned). ``routes``,
    ``speech``, ``beliefs`` (what users decide by:
    :func:`simulator.kernels.choice.choose_posts`) and ``moderation`` as
    :func:`publish_channel` takes them; ``buffers`` the empty buffers to start each day
    from (:func:`new_buffers`).

    Returns the records (``post_float``, ``post_int``; ids from ``first_id`` on), the
    review items grouped by platform (times, actions, items; platform ``p``'s at
    ``sub_offsets[p]:sub_offsets[p + 1]``, in the order made), the ids of prohibited
    records grouped by platform (ascending), the notice duties (deadline, platform,
    post id) and the orders (chunk, post id, arrival day), the benign authors' targets
    (``target_value``, ``target_int``: :func:`resolve_authors`), and ``state`` (how
    many).

    The three generators come as :func:`simulator.kernels.handles.handle` arrays (a
    ``Generator`` argument cost ~22 us a call to type and unbox)."""
    in_scope, prohibited = moderation.in_scope, moderation.prohibited
    intended, counts = day_counts.intended, day_counts.counts
    daily_rate, n_users = source.daily_rate, source.n_users
    drawn_offsets = drawn.offsets
    group, private_group = benign.group, benign.private_group
    hold = moderation.hold
    if n_days < 1 or (n_days > 1 and (in_scope.any() or len(drawn_offsets))):
        raise ValueError("one day, or several where no channel is moderated and none drawn")
    speech_rng = as_generator(handles.speech)
    split_rng = as_generator(handles.split)
    moderation_rng = as_generator(handles.moderation)
    generators = Generators(split_rng, moderation_rng)
    published = _no_outputs()
    for day in range(first_day, first_day + n_days):
        day_start = day * HOURS
        today = DayCounts(
            intended[day], counts[day], day_counts.tallies, day_counts.prohibited_hours,
            day_counts.potential[day],
        )
        # Each day starts from the buffers given (new ones are returned where one grew).
        day_buffers = buffers
        if len(drawn_offsets):  # drawn ahead (draw_speech_day, on another thread)
            speech_counts, authors, times, offsets, noise, author_value = (
                drawn.counts, drawn.authors, drawn.times, drawn_offsets, drawn.mood, drawn.value,
            )  # fmt: skip
        else:
            speech_counts, authors, times, offsets, noise, author_value = speak(
                speech_rng, daily_rate, day_start, source.sensitive_cumulative,
                source.sensitive_start, source.kind_row, n_users, source.value, source.noise,
            )  # fmt: skip
        per_channel = daily_rate.shape[1] - 1
        no_split = np.zeros(0, dtype=np.int64)
        for channel in range(daily_rate.shape[0]):
            benign_posts = speech_counts[channel, 0]
            split = no_split
            if benign_posts and n_users:
                split = multinomial(split_rng, benign_posts, benign.pvals[channel])
            first, last = offsets[channel * per_channel], offsets[(channel + 1) * per_channel]
            these = offsets[channel * per_channel : (channel + 1) * per_channel + 1] - first
            # Which group array the channel's benign authors come from: 0 public, 1 private.
            group_index = 1 if channel == 1 and private_group is not group else 0
            day_buffers = publish_channel(
                channel, day, day_start, BenignDay(split, benign.mass[channel], group_index),
                SensitivePosts(
                    authors[first:last], times[first:last], these, noise[first:last],
                    author_value[first:last],
                ),
                routes, speech, beliefs, moderation, generators, today, day_buffers,
            )  # fmt: skip
        n_p = hold.shape[0]
        state = day_buffers.state
        day_post_int, day_sub_int = day_buffers.post_int, day_buffers.sub_int
        # The benign records' authors are found by resolve_authors, after this call
        # (on the second thread at scale, while the day's review items are queued).
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
            times_by_platform[at] = day_buffers.sub_time[0, i]
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
        day_duty_int, day_order_int = day_buffers.duty_int, day_buffers.order_int
        duty_platform = day_duty_int[0, :n_duties].copy()
        duty_post = day_duty_int[1, :n_duties] + first_id
        order_chunk = day_order_int[0, :n_orders].copy()
        order_post = day_order_int[1, :n_orders] + first_id
        order_day = day_order_int[2, :n_orders].copy()
        published = (
            day_buffers.post_float, day_post_int, times_by_platform, actions_by_platform,
            items_by_platform, sub_offsets, prohibited_ids, prohibited_offsets,
            day_buffers.duty_deadline[0, :n_duties].copy(), duty_platform, duty_post, order_chunk,
            order_post, order_day, day_buffers.target_value, day_buffers.target_int, state,
        )  # fmt: skip
    return published


@njit(cache=True, nogil=True)
def resolve_authors(
    post_int: Array,
    n_posts: int,
    target_value: Array,
    target_int: Array,
    n_targets: int,
    benign: BenignGroups,
    n_platforms: int,
) -> None:
    """The authors of a day's benign records, which :func:`publish_days` leaves as
    ``-(target number + 1)`` in ``post_int[0]``: each target's user of its platform's
    published group by running weight (:func:`find_authors`; target ``t`` is
    ``target_value[0, t]``, on platform ``target_int[0, t]``, from group array
    ``target_int[1, t]``: 0 public, 1 private), written in place. What the records'
    authors are depends on nothing else the day draws or does (the targets were drawn
    with the day's moderation draws), so this may run while the day goes on."""
    if n_targets == 0:
        return
    found = np.empty(n_targets, dtype=np.int64)
    for index, which, table in (
        (0, benign.group, benign.running), (1, benign.private_group, benign.private_running)
    ):  # fmt: skip
        mine = target_int[1, :n_targets] == index
        if mine.any():
            find_authors(
                which, benign.weight, n_platforms, target_value[0, :n_targets],
                target_int[0, :n_targets], mine, found, table, benign.block,
            )  # fmt: skip
    for i in range(n_posts):
        if post_int[0, i] < 0:
            post_int[0, i] = found[-post_int[0, i] - 1]


def compiled_on_this_machine() -> bool:
    """Whether numba's on-disk cache already holds the day step (else the first run
    compiles it: a minute or two). Reads numba's cache index path (not public API: if
    that changes, says True rather than guess)."""
    from pathlib import Path

    cache: Any = getattr(publish_days, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    return index is None or Path(index).exists()  # None: a numba without this layout
