"""The engine's speech step, compiled: a day's speech on both channels in one call
(:func:`publish_days`), drawing (:mod:`simulator.kernels.speech`), splitting the benign
posts over their outcome groups (:mod:`simulator.kernels.benign`) and publishing each
channel (:mod:`simulator.kernels.channel`), then grouping what the review queues, the
legal duties and the order book receive by platform.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.channel import (
    ACTIONS,
    POST_FLOAT_ROWS,
    POST_INT_ROWS,
    POSTS,
    TARGETS,
    publish_channel,
)
from simulator.kernels.choice import PAR_NOISE, Beliefs, SpeechInputs
from simulator.kernels.draws import multinomial
from simulator.kernels.handles import as_generator
from simulator.kernels.speech import HOURS, find_authors, speak

Array = NDArray[Any]


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
    drawn_noise: Array,
    drawn_value: Array,
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
    value: Array,
    speech: SpeechInputs,
    beliefs: Beliefs,
    hold: Array,
    touch: Array,
    any_touch: Array,
    conditional: Array,
    friction: float,
    attention_hours: float,
    audience: Array,
    sweep_interval: Array,
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
    (:func:`simulator.kernels.numeric.search_bucketed`; or, if ``drawn_offsets`` is not empty,
    the ``drawn_*`` arrays :func:`draw_speech_day` gave), then per channel the benign
    split over the outcome groups (``benign_pvals[c]``; :func:`multinomial` from the
    split stream, as numpy drew it) and :func:`publish_channel`; last the benign
    authors (:func:`find_authors`) from ``group`` and ``private_group``, each user's
    outcome group for the public and the private channel (the same array when the
    channels share their groups), ``group_mass`` (channels x groups: each group's
    summed ``benign_weight``) and ``running``/``private_running``, the table of each
    group array's running published-group weights per block of ``block`` users that
    :func:`simulator.kernels.benign.benign_groups` recorded with it. The rest as
    :func:`publish_channel`, per channel where it has a channel axis (``in_scope``,
    ``touch``...); ``value`` each user's value of speaking (gathered per post with the
    draw, as ``drawn_value`` is when drawn ahead), ``speech`` and ``beliefs`` what users
    decide by (:func:`simulator.kernels.choice.choose_posts`).

    Returns the records (``post_float``, ``post_int``; ids from ``first_id`` on), the
    review items grouped by platform (times, actions, items; platform ``p``'s at
    ``sub_offsets[p]:sub_offsets[p + 1]``, in the order made), the ids of prohibited
    records grouped by platform (ascending), the notice duties (deadline, platform,
    post id) and the orders (chunk, post id, arrival day), and ``state`` (how many).

    The three generators come as :func:`simulator.kernels.handles.handle` arrays (a
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
            speech_counts, authors, times, offsets, noise, author_value = (
                drawn_counts,
                drawn_authors,
                drawn_times,
                drawn_offsets,
                drawn_noise,
                drawn_value,
            )
        else:
            speech_counts, authors, times, offsets, noise, author_value = speak(
                speech_rng, daily_rate, day_start, sensitive_cumulative, sensitive_start, n_users,
                value, speech.par[PAR_NOISE],
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
                    noise[first:last], author_value[first:last], route, platform, speech,
                    beliefs, day, hold, touch[channel], any_touch[channel], conditional[channel],
                    friction, attention_hours, audience, sweep_interval, reviewer_mean,
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
                    find_authors(
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
