"""Compiled intended speech: a day's posts drawn from the speech stream, and their
authors (docs/model.md S3, "Intended speech").

:func:`draw_speech` draws the day's counts per channel and kind and each sensitive post's
author target and time; :func:`speak` finds the authors (by their summed sensitive
weights, :func:`simulator.kernels.numeric.search_bucketed`); :func:`draw_speech_day`
draws a day ahead on another thread; :func:`find_authors` finds benign authors by their
outcome group's running weights (:mod:`simulator.kernels.benign`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.choice import mood
from simulator.kernels.handles import as_generator
from simulator.kernels.numeric import bucket_index, search_bucketed

Array = NDArray[Any]

HOURS = 24.0  # per day (simulator.model.regulator.HOURS_PER_DAY; not imported: no cycle)


@njit(cache=True, nogil=True)
def draw_speech(
    rng: Any, daily_rate: Array, day_start: float, sensitive_totals: Array
) -> tuple[Array, Array, Array, Array, Array]:
    """A day's intended posts from the speech stream ``rng``: the counts per channel and
    kind (Poisson with means ``daily_rate``), then for each channel and sensitive kind
    the authors' targets (uniform over ``[0, sensitive_totals[k - 1])``, the users'
    summed weight for kind ``k``) and the times (hours from ``day_start``), kind by kind.

    Returns ``counts`` (channels x kinds), ``targets``, ``times``, ``offsets`` (the
    slice of channel ``c`` and kind ``k`` is ``offsets[c * 3 + k - 1]`` to the next) and
    ``noise``, each post's uniform for its author's choice (docs/model.md S3: drawn
    here, in both runs alike, so the counterfactual shares it). The draws and their
    order are those of ``rng.poisson(daily_rate)`` followed by ``rng.random(n) * total``,
    ``start + 24 * rng.random(n)`` and ``rng.random(n)`` per pair."""
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
    noise = np.empty(offsets[-1], dtype=np.float64)
    for pair in range(n_channels * sensitive):
        total = sensitive_totals[pair % sensitive]
        for i in range(offsets[pair], offsets[pair + 1]):
            targets[i] = rng.random() * total
        for i in range(offsets[pair], offsets[pair + 1]):
            times[i] = day_start + HOURS * rng.random()
        for i in range(offsets[pair], offsets[pair + 1]):
            noise[i] = rng.random()
    return counts, targets, times, offsets, noise


@njit(cache=True, nogil=True)
def speak(
    rng: Any,
    daily_rate: Array,
    day_start: float,
    sensitive_cumulative: Array,
    sensitive_start: Array,
    kind_row: Array,
    n_users: int,
    value: Array,
    noise_exponent: float,
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """:func:`draw_speech` and the sensitive posts' authors
    (:func:`simulator.kernels.numeric.search_bucketed` in the weight row of each post's
    kind, ``kind_row[k - 1]`` of ``sensitive_cumulative``, rows x users): the counts, the
    authors, the times and the offsets of a day's intended posts, each post's mood
    (:func:`simulator.kernels.choice.mood` of its uniform) and its author's ``value`` of
    speaking (fixed: when drawn ahead, one gather and the moods' arithmetic fewer while
    the day runs)."""
    sensitive = len(kind_row)
    totals = np.zeros(sensitive)
    if n_users:
        for k in range(sensitive):
            totals[k] = sensitive_cumulative[kind_row[k], n_users - 1]
    counts, targets, times, offsets, noise = draw_speech(rng, daily_rate, day_start, totals)
    authors = np.zeros(len(targets), dtype=np.int64)
    for pair in range(len(offsets) - 1):
        first, last = offsets[pair], offsets[pair + 1]
        if last > first:
            row = kind_row[pair % sensitive]
            authors[first:last] = search_bucketed(
                sensitive_cumulative[row], sensitive_start[row], targets[first:last]
            )
    author_value = np.empty(len(authors), dtype=value.dtype)
    for k in range(len(authors)):
        author_value[k] = value[authors[k]]
    for k in range(len(noise)):
        noise[k] = mood(noise[k], noise_exponent)
    return counts, authors, times, offsets, noise, author_value


@njit(cache=True, nogil=True)
def draw_speech_day(
    speech_handle: Array,
    daily_rate: Array,
    day_start: float,
    sensitive_cumulative: Array,
    sensitive_start: Array,
    kind_row: Array,
    n_users: int,
    value: Array,
    noise_exponent: float,
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """What :func:`publish_days` draws first each day, drawn ahead: a day's counts, sensitive
    authors, times and offsets, from the speech stream (a generator handle) and the
    users' fixed sensitive weights alone, so a second thread can draw day ``d + 1``
    while day ``d`` runs (the GIL released). Passed to :func:`publish_days` as its
    ``drawn_*`` arguments; the same draws in the same order as drawing in it."""
    return speak(
        as_generator(speech_handle), daily_rate, day_start, sensitive_cumulative,
        sensitive_start, kind_row, n_users, value, noise_exponent,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def find_authors(
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
    :func:`simulator.kernels.benign.group_members` (the running weights by blocks).

    ``running`` is the table :func:`simulator.kernels.benign.benign_groups` recorded with
    these groups and weights (P x (blocks + 1): group ``P + p``'s weight before each
    block of ``block`` users, then its total). The weights are not negative (Users
    clips them), so each row is non-decreasing: a search finds the block where the
    group's running weight first exceeds the target, and a scan of that block adds the
    block's own sum to its recorded start, as the definition does: once per block and
    platform with targets in it, each target then comparing the running sums made. Per
    target: a few probes and at most ``block`` comparisons, not all users (a rules run
    at a million users reaches ~500,000 targets a day, tens in each block)."""
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
    # The targets in that order with their block, platform and value side by side
    # (read in order below, not gathered target by target: tens of MB at a million users).
    total = count[n_blocks]
    order = np.empty(total, dtype=np.int64)
    order_block = np.empty(total, dtype=np.int64)
    order_platform = np.empty(total, dtype=np.int64)
    order_target = np.empty(total, dtype=np.float64)
    for i in range(m):
        b = where[i]
        if b >= 0:
            at = count[b]
            order[at], order_block[at] = i, b
            order_platform[at], order_target[at] = target_platform[i], targets[i]
            count[b] += 1
    # Each (block, platform)'s running weights are added once, into ``running_sums``:
    # the very numbers the scan of the definition reaches user by user (``prefix +
    # inner``, the block's own sum in user order from 0, kernels.benign.benign_groups'
    # definition), then each target of the block takes the first user whose number
    # exceeds it. Blocks come in ascending order, so a platform's block is added once
    # (at a million users a block has tens of targets: one addition pass, not one each).
    # The first user whose number exceeds t is how many numbers do not: found by a
    # binary search without branches where the numbers do not decrease (as they do not
    # with weights not negative), else by the scan itself.
    width = min(block, n)
    running_sums = np.empty((n_platforms, max(width, 1)), dtype=np.float64)
    summed = np.full(n_platforms, -1, dtype=np.int64)  # each platform's block in running_sums
    ordered = np.ones(n_platforms, dtype=np.bool_)  # whether its numbers do not decrease
    for j in range(total):
        b, p, t = order_block[j], order_platform[j], order_target[j]
        first, end = b * block, min(b * block + block, n)
        size = end - first
        if summed[p] != b:
            g = n_platforms + p
            prefix = running[p, b]
            inner = 0.0
            rising = True
            before = -np.inf
            for user in range(first, end):
                # + 0.0 for other users leaves it as it is (a select, not a mispredicted branch).
                inner += weights[user] if group[user] == g else 0.0
                number = prefix + inner
                rising &= number >= before
                before = number
                running_sums[p, user - first] = number
            summed[p], ordered[p] = b, rising
        k = 0
        if ordered[p]:
            step = 1
            while 2 * step <= size:
                step *= 2
            while step:
                k += step if k + step <= size and not running_sums[p, k + step - 1] > t else 0
                step >>= 1
        else:
            while k < size and not running_sums[p, k] > t:
                k += 1
        # Ends inside: the block's last number is running[p, b + 1] > t.
        if k == size:
            raise ValueError("running is not the table of these groups and weights")
        found[order[j]] = first + k
