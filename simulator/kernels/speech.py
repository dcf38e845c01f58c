"""Compiled intended speech: a day's posts drawn from the speech stream, and their
authors (docs/model.md S3, "Intended speech").

:func:`draw_speech` draws the day's counts per channel and kind and each sensitive post's
author target and time; :func:`speak` finds the authors (by their summed sensitive
weights, :func:`simulator.kernels.numeric.search_bucketed`); :func:`draw_speech_day`
draws a day ahead on another thread; :func:`find_authors` finds benign authors by their
outcome group's running weights (:mod:`simulator.kernels.benign`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.choice import mood
from simulator.kernels.handles import as_generator
from simulator.kernels.numeric import bucket_index, search_bucketed

Array = NDArray[Any]
#: Blocks of one bucket's window whose running weights :func:`find_authors` keeps at once
#: (a window spans about six: ~4 blocks a bucket and one either side).
WINDOW_ROWS = 16

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
    clips them), so each row is non-decreasing (ValueError if not: a block whose weights
    add up to less than nothing): the target's block is the first whose
    end total exceeds it, and a scan of that block adds the block's own sum to its
    recorded start, as the definition does. Per target: a few comparisons and at most
    ``block`` additions, not all users (a rules run at a million users reaches ~250,000
    targets a day, tens in each block).

    How: the targets are put in order of their bucket (:func:`bucket_index`: about four
    blocks a bucket, the window of blocks a target in it can fall in), buckets
    ascending, the platforms' side by side (one counting sort); then bucket by bucket
    each target's block is found in the bucket's window, each block with targets has its
    running weights added once (``prefix + inner``, the block's own sum in user order from
    0, :func:`simulator.kernels.benign.benign_groups`' definition: the very numbers the
    definition's scan reaches) and each target takes the first user whose number exceeds
    it. Users are read in address order, a block once per platform (twice where it lies
    in two buckets' windows)."""
    n = len(group)
    m = len(targets)
    n_blocks = running.shape[1] - 1
    buckets = max(1, n_blocks // 4)  # ~4 blocks a bucket
    n_keys = buckets * n_platforms
    # Each platform's buckets: the first block whose end total exceeds each bucket's
    # lower edge (bucket_index over the blocks' end totals, running[p, 1:]).
    starts = np.zeros((n_platforms, buckets + 1), dtype=np.int64)
    scales = np.zeros(n_platforms)
    has_targets = np.zeros(n_platforms, dtype=np.bool_)
    for i in range(m):
        if mine[i]:
            has_targets[target_platform[i]] = True
    for p in range(n_platforms):
        total = running[p, n_blocks]
        if has_targets[p] and n_blocks > 0:
            for b in range(n_blocks):
                if running[p, b + 1] < running[p, b]:
                    raise ValueError("running: a group's running weights must not decrease")
            starts[p] = bucket_index(running[p, 1:], buckets)
            scales[p] = buckets / total if total > 0 else 0.0
    # Each target below its group's total gets its key (bucket x platforms + platform),
    # counted; at or beyond the total (rounding in random() * total), or an empty group:
    # the group's last user, found from the end (rare).
    key = np.empty(m, dtype=np.int64)
    key_start = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(m):
        key[i] = -1
        if not mine[i]:
            continue
        p = target_platform[i]
        t = targets[i]
        if t < running[p, n_blocks]:
            bucket = min(max(int(math.floor(t * scales[p])), 0), buckets - 1)
            key[i] = bucket * n_platforms + p
            key_start[key[i] + 1] += 1
            continue
        g = n_platforms + p
        last = n - 1
        while last >= 0 and group[last] != g:
            last -= 1
        found[i] = last
    for k in range(n_keys):
        key_start[k + 1] += key_start[k]
    # The targets in key order, index and value side by side (read in order below).
    total_keyed = key_start[n_keys]
    order = np.empty(total_keyed, dtype=np.int64)
    order_target = np.empty(total_keyed, dtype=np.float64)
    fill = key_start[:n_keys].copy()
    for i in range(m):
        k = key[i]
        if k >= 0:
            order[fill[k]], order_target[fill[k]] = i, targets[i]
            fill[k] += 1
    width = max(min(block, n), 1)
    # The running weights of the blocks of the window in hand, each added the first time
    # one of its targets needs it (row ``b - lo``; the last row, added for one target,
    # for a block WINDOW_ROWS or more past ``lo``: a wide window, where blocks without
    # members lie between, or the whole table, where a rounding edge widened a search).
    sums = np.empty((WINDOW_ROWS + 1, width), dtype=np.float64)
    summed_for = np.full(WINDOW_ROWS, -1, dtype=np.int64)  # the key each row holds
    rising = np.empty(WINDOW_ROWS + 1, dtype=np.bool_)
    for k in range(n_keys):
        first_j, last_j = key_start[k], key_start[k + 1]
        if first_j == last_j:
            continue
        bucket = k // n_platforms
        p = k - bucket * n_platforms
        g = n_platforms + p
        # The bucket's window of blocks: everything before ``lo`` ends at or below a
        # target in the bucket, everything from ``hi`` on above it (search_bucketed's).
        lo = max(starts[p, bucket] - 1, 0)
        hi = min(starts[p, bucket + 1] + 1, n_blocks)
        for j in range(first_j, last_j):
            t = order_target[j]
            # The first block whose end total exceeds t: in the window, how many of its
            # blocks end at or below t (the totals do not decrease; counted without
            # branches); where a rounding edge puts it outside, a search of the table.
            if (lo == 0 or running[p, lo] <= t) and (hi == n_blocks or running[p, hi + 1] > t):
                b = lo
                for x in range(lo, hi):
                    b += running[p, x + 1] <= t
            else:
                first, last = 0, n_blocks
                while first < last:
                    middle = (first + last) >> 1
                    if running[p, middle + 1] <= t:
                        first = middle + 1
                    else:
                        last = middle
                b = first
            row = b - lo
            if not (0 <= row < WINDOW_ROWS):
                row = WINDOW_ROWS  # added for this target alone
            first_user, end = b * block, min(b * block + block, n)
            size = end - first_user
            if row == WINDOW_ROWS or summed_for[row] != k:
                prefix = running[p, b]
                inner = 0.0
                up = True
                before = -np.inf
                for user in range(first_user, end):
                    # Other users add w * 0 = 0.0, which leaves the sum as it is (weights
                    # are finite): a multiplication, not the branch numba made of a
                    # select, which mispredicted on about every other user.
                    inner += weights[user] * (group[user] == g)
                    number = prefix + inner
                    up &= number >= before
                    before = number
                    sums[row, user - first_user] = number
                rising[row] = up
                if row < WINDOW_ROWS:
                    summed_for[row] = k
            # The first user whose number exceeds t is how many numbers do not where the
            # numbers do not decrease (as they do not with weights not negative): counted
            # (a vectorised pass over the block, no branch to mispredict); else the scan.
            u = 0
            if rising[row]:
                for x in range(size):
                    u += sums[row, x] <= t
            else:
                while u < size and not sums[row, u] > t:
                    u += 1
            # Ends inside: the block's last number is running[p, b + 1] > t.
            if u == size:
                raise ValueError("running is not the table of these groups and weights")
            found[order[j]] = first_user + u
