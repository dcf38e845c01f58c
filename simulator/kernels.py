"""Compiled passes over the population: each day's O(users) work in one loop each.

A million-user day touches every user several times (routes, benign outcome groups,
the risk update, the daily counts). As numpy expressions each of those is several
passes over the arrays with temporaries in between; compiled with numba they are one
pass each, reading each array once. Every kernel computes exactly what the numpy
expression it replaces computed, in the same floating-point types and order (the
comments say where that needs care), so outputs do not depend on which ran; where a
kernel does differ it says so.

Kernels are compiled on first use and cached on disk (``cache=True``) next to this file,
so only the first run on a machine pays the compile time (a few seconds).
``NUMBA_DISABLE_JIT=1`` runs them as plain Python (slow; for debugging).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kinds import UserState

ACTIVE = int(UserState.ACTIVE)
CIRCUMVENTING = int(UserState.CIRCUMVENTING)
DETAINED = int(UserState.DETAINED)
N_STATES = len(UserState)
NO_ROUTE = -1
Array = NDArray[Any]


@njit(cache=True, nogil=True)
def fill_routes(
    platform: Array,
    state: Array,
    serving: Array,
    circumvention_row: int,
    route: Array,
    active_here: Array,
) -> None:
    """Each user's route today into ``route`` (int64: platform index, the circumvention
    row, or NO_ROUTE) and the active users per serving platform into ``active_here``.

    An active user posts on their platform if it serves; a circumventing one on the
    offshore row; anyone else nowhere."""
    # Selects, not branches: states come in random order. Which platforms serve as
    # bits of one integer, not a lookup in ``serving``: the loop then vectorises
    # (3.7 ms to 1.2 ms at 1M users).
    if len(serving) > 62:
        for i in range(len(platform)):
            s = state[i]
            p = platform[i]
            posts_home = (s == ACTIVE) & serving[p]
            elsewhere = circumvention_row if s == CIRCUMVENTING else NO_ROUTE
            route[i] = p if posts_home else elsewhere
    else:
        bits = 0
        for p in range(len(serving)):
            if serving[p]:
                bits |= 1 << p
        for i in range(len(platform)):
            s = np.int64(state[i])
            p = np.int64(platform[i])
            posts_home = (s == ACTIVE) & (((bits >> p) & 1) == 1)
            elsewhere = circumvention_row if s == CIRCUMVENTING else NO_ROUTE
            route[i] = p if posts_home else elsewhere
    _count_values(route, active_here)


@njit(cache=True, nogil=True)
def _count_values(values: Array, counts: Array) -> None:
    """``counts[k]`` = how many ``values`` equal ``k``. One vectorisable pass per value
    while there are few (a scattered count stalls on repeated increments)."""
    n_values = len(counts)
    if n_values <= 8:
        for k in range(n_values):
            c = 0
            for i in range(len(values)):
                c += values[i] == k
            counts[k] = c
    else:
        counts[:] = 0
        for i in range(len(values)):
            v = values[i]
            if 0 <= v < n_values:
                counts[v] += 1


@njit(cache=True, nogil=True)
def _withholds(effective: float, weight: float, boldness: float) -> bool:
    """A user withholds a post of perceived ``weight`` (``rules.withholds``): the
    effective risk ``risk + real_name_risk * traceable`` (float64) capped at 1 and
    rounded to float32, times the weight, exceeds boldness, compared in float64, as
    numpy computed it."""
    return bool(np.float64(np.float32(min(1.0, effective))) * weight > boldness)


#: Users per block of the running group weights :func:`benign_groups` records: a
#: benign author is then found by a search over blocks and a scan of one block
#: (:func:`simulator.publishing._find_authors`), not a sweep over every user.
GROUP_BLOCK = 64


def group_blocks(n_users: int, block: int = GROUP_BLOCK) -> int:
    """How many blocks of ``block`` users cover ``n_users`` (the last one may be short)."""
    return -(-n_users // block)


@njit(cache=True, nogil=True)
def benign_groups(
    route: Array,
    platform: Array,
    n_platforms: int,
    weight: float,
    risk: Array,
    traceable: Array,
    real_name_risk: float,
    boldness: Array,
    benign_weight: Array,
    group: Array,
    mass: Array,
    block: int,
    running: Array,
    block_sums: Array,
    previous_group: Array,
    previous_sums: Array,
) -> None:
    """Each user's benign outcome group into ``group`` and the benign weight of each
    group into ``mass``. Groups: ``p`` excluded at home platform ``p``; ``P + p``
    published on ``p``; ``2P + p`` withheld on ``p``; ``3P`` offshore.

    Sums by blocks of ``block`` users (:func:`group_blocks`): ``block_sums[b, g]`` is the
    weight of block ``b``'s users in group ``g``, added in user order from 0; a group's
    running weight before block ``b`` is the sum of the blocks before it, added in
    block order (into ``running[p, b]`` for published group ``P + p``, P x (blocks +
    1), the last column the total); ``mass`` is the totals. A user's running weight
    within a block is its block's running weight plus the block's own sum so far
    (:func:`simulator.publishing._find_authors`, :func:`group_members`). Defined by
    blocks so that a day whose groups changed for a few users recomputes only their
    blocks: a block whose users' groups equal ``previous_group``'s keeps its row of
    ``previous_sums`` (the same bits; pass empty arrays to recompute every block).

    A user withholds when ``float32(min(1, risk + real_name_risk * traceable)) * weight
    > boldness``, evaluated in float64 as numpy evaluated ``rules.withholds`` on the
    float32 effective risk (docs/model.md S3)."""
    n = len(route)
    n_blocks = running.shape[1] - 1
    n_groups = 3 * n_platforms + 1
    if n_blocks != -(-n // block) or running.shape[0] != n_platforms:
        raise ValueError("running: P x (blocks of `block` users + 1)")
    if block_sums.shape[0] != n_blocks or block_sums.shape[1] != n_groups:
        raise ValueError("block_sums: blocks x groups")
    offshore = 3 * n_platforms
    if weight == 0.0:
        # Nobody withholds benign posts: a loop without branches (it vectorises).
        for i in range(n):
            r = np.int64(route[i])
            home = np.int64(platform[i])
            group[i] = home if r < 0 else (offshore if r == n_platforms else r + n_platforms)
    else:
        for i in range(n):
            r = route[i]
            if r == NO_ROUTE:
                g = platform[i]
            elif r == n_platforms:
                g = offshore
            else:
                g = r + n_platforms
                effective = np.float64(risk[i]) + real_name_risk * (1.0 if traceable[i] else 0.0)
                if _withholds(effective, weight, np.float64(boldness[i])):
                    g = r + 2 * n_platforms
            group[i] = g
    reuse = len(previous_group) == n and previous_sums.shape == block_sums.shape
    for b in range(n_blocks):
        # Unsigned: numba then indexes without a negative-index check on every access.
        first, last = np.uint64(b * block), np.uint64(min(b * block + block, n))
        same = reuse
        if reuse:
            for i in range(first, last):
                same &= group[i] == previous_group[i]
        row = block_sums[b]
        if same:
            # A loop, not ``row[:] = previous_sums[b]``: numba compiles a slice copy
            # with its shape-mismatch error message (~3 s of string formatting code
            # on the first run).
            for g in range(n_groups):
                row[g] = previous_sums[b, g]
        else:
            row[:] = 0.0
            for i in range(first, last):
                row[group[i]] += benign_weight[i]
    mass[:] = 0.0
    for b in range(n_blocks):
        for p in range(n_platforms):
            running[p, b] = mass[n_platforms + p]
        for g in range(n_groups):
            mass[g] += block_sums[b, g]
    for p in range(n_platforms):
        running[p, n_blocks] = mass[n_platforms + p]


@njit(cache=True, nogil=True)
def group_members(
    group: Array, wanted: int, weights: Array, block: int = GROUP_BLOCK
) -> tuple[Array, Array]:
    """The users in ``wanted`` (ascending) and each one's running group weight as
    :func:`benign_groups` defines it: the blocks before its block summed in block order
    (each block's own sum in user order from 0), plus its block's sum up to it."""
    n = len(group)
    count = 0
    for i in range(n):
        count += group[i] == wanted
    members = np.empty(count, dtype=np.int64)
    cumulative = np.empty(count, dtype=np.float64)
    k = 0
    prefix = 0.0
    for first in range(0, n, block):
        inner = 0.0
        for i in range(first, min(first + block, n)):
            if group[i] == wanted:
                inner += weights[i]
                members[k] = i
                cumulative[k] = prefix + inner
                k += 1
        prefix += inner
    return members, cumulative


@njit(cache=True, nogil=True)
def numpy_sum(values: Array) -> float:
    """``values.sum()`` of a float64 array as numpy computes it, to the bit: pairwise,
    with eight accumulators in blocks of up to 128 and a plain loop under 8 values."""
    n = len(values)
    if n < 8:
        total = 0.0
        for i in range(n):
            total += values[i]
        return total
    if n <= 128:
        r = values[:8].copy()
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += values[i + j]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            total += values[i]
            i += 1
        return total
    half = n // 2
    half -= half % 8
    return numpy_sum(values[:half]) + numpy_sum(values[half:])


@njit(cache=True, nogil=True)
def benign_split(
    shares: Array, private_shares: Array, mass: Array, private_mass: Array
) -> tuple[Array, Array]:
    """The multinomial's probabilities per channel (rows: public, private) over the
    benign outcome groups, ``clip(shares, 0) / max(shares.sum(), 1e-300)``, and the
    groups' summed weights stacked the same way; numpy's arithmetic (one call instead of
    ~12 numpy calls on 7-element arrays, ~60 us a day at 10,000 users)."""
    n = len(shares)
    pvals = np.empty((2, n))
    stacked = np.empty((2, n))
    for row, (these, weights) in enumerate(((shares, mass), (private_shares, private_mass))):
        total = max(numpy_sum(these), 1e-300)
        for g in range(n):
            share = these[g] if these[g] > 0.0 else 0.0
            pvals[row, g] = share / total
            stacked[row, g] = weights[g]
    return pvals, stacked


@njit(cache=True, nogil=True)
def group_shares(mass: Array) -> Array:
    """``mass / mass.sum()`` (zeros if the sum is not positive), numpy's arithmetic."""
    total = numpy_sum(mass)
    if total > 0:
        return mass / total
    return np.zeros_like(mass)


@njit(cache=True, nogil=True)
def population_counts(
    state: Array, risk: Array, traceable: Array, ever_reported: Array, ever_detained: Array
) -> tuple[Array, float]:
    """Users per state, then traceable, ever reported and ever detained users; and the
    mean perceived risk of active users, summed in float64 (numpy summed the float32
    values pairwise in float32: the two agree to about 1e-7)."""
    # Branch-free: states and flags come in random order, so tests would mispredict.
    # Four partial risk sums let the additions overlap (their order is fixed: the
    # result does not depend on the machine).
    counts = np.zeros(N_STATES + 3, dtype=np.int64)
    n = len(state)
    _count_values(state, counts[:N_STATES])
    n_traceable = 0
    n_reported = 0
    n_detained = 0
    for i in range(n):
        n_traceable += traceable[i]
        n_reported += ever_reported[i]
        n_detained += ever_detained[i]
    counts[N_STATES] = n_traceable
    counts[N_STATES + 1] = n_reported
    counts[N_STATES + 2] = n_detained
    r0 = r1 = r2 = r3 = 0.0
    stop = n - n % 4
    for i in range(0, stop, 4):
        r0 += risk[i] * (state[i] == ACTIVE)
        r1 += risk[i + 1] * (state[i + 1] == ACTIVE)
        r2 += risk[i + 2] * (state[i + 2] == ACTIVE)
        r3 += risk[i + 3] * (state[i + 3] == ACTIVE)
    for i in range(stop, n):
        r0 += risk[i] * (state[i] == ACTIVE)
    risk_sum = (r0 + r1) + (r2 + r3)
    active = counts[ACTIVE]
    mean_risk = risk_sum / active if active > 0 else 0.0
    return counts, mean_risk


@njit(cache=True, nogil=True)
def add_neighbour_counts(indptr: Array, indices: Array, users: Array, out: Array) -> None:
    """For each of ``users`` (repeats count again), add 1 to ``out`` at each neighbour."""
    for u in users:
        for j in range(indptr[u], indptr[u + 1]):
            out[indices[j]] += np.float32(1.0)


@njit(cache=True, nogil=True)
def add_at(out: Array, where: Array, value: float) -> None:
    """``np.add.at(out, where, value)`` on a float32 array, in order. numpy adds a Python
    float in float64 and rounds each sum to float32; so does this."""
    for w in where:
        out[w] = np.float32(np.float64(out[w]) + value)


@njit(cache=True, nogil=True)
def merge_argsort(keys: Array) -> Array:
    """The permutation that sorts ``keys`` stably (equal keys in their order): numpy's
    ``argsort(keys, kind="stable")`` for keys without NaN. A bottom-up merge sort
    written out: numba's own sorts take seconds each to compile on a first run."""
    n = len(keys)
    order = np.empty(n, dtype=np.int64)
    for k in range(n):
        order[k] = k
    scratch = np.empty(n, dtype=np.int64)
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j = lo, mid
            for k in range(lo, hi):
                # Strictly less: on a tie the left run's (earlier) entry comes first.
                if j < hi and (i >= mid or keys[order[j]] < keys[order[i]]):
                    scratch[k] = order[j]
                    j += 1
                else:
                    scratch[k] = order[i]
                    i += 1
        order, scratch = scratch, order
        width *= 2
    return order


@njit(cache=True, nogil=True)
def bucket_index(cumulative: Array, buckets: int) -> Array:
    """For a non-decreasing ``cumulative``: ``start[b]`` = the first index whose value
    exceeds ``b / buckets`` of the total (``buckets + 1`` entries), so a target's answer
    lies between the starts of its bucket and the next."""
    n = len(cumulative)
    start = np.empty(buckets + 1, dtype=np.int64)
    total = cumulative[n - 1]
    i = 0
    for b in range(buckets + 1):
        edge = total * (b / buckets)
        while i < n and cumulative[i] <= edge:
            i += 1
        start[b] = i
    return start


@njit(cache=True, nogil=True)
def search_bucketed(cumulative: Array, start: Array, targets: Array) -> Array:
    """``min(searchsorted(cumulative, t, "right"), n - 1)`` for each target, the binary
    search narrowed by :func:`bucket_index`. Exact: a window is checked and widened to
    the whole array if a rounding edge ever puts the answer outside it.

    Level by level over all targets, not target by target: each pass makes one probe
    per target, and the probes of a pass do not depend on each other, so their cache
    misses overlap (target by target, each waited for the one before)."""
    n = len(cumulative)
    m = len(targets)
    buckets = len(start) - 1
    total = cumulative[n - 1]
    scale = buckets / total if total > 0 else 0.0
    lo = np.empty(m, dtype=np.int64)
    hi = np.empty(m, dtype=np.int64)
    for k in range(m):
        lo[k] = min(max(int(math.floor(targets[k] * scale)), 0), buckets - 1)
    for k in range(m):
        b = lo[k]
        lo[k] = max(start[b] - 1, 0)
        hi[k] = min(start[b + 1] + 1, n)
    for k in range(m):
        # Valid window: everything before lo is <= t, everything from hi on is > t.
        first, last, t = lo[k], hi[k], targets[k]
        if not ((first == 0 or cumulative[first - 1] <= t) and (last == n or cumulative[last] > t)):
            lo[k] = 0
            hi[k] = n
    searching = m
    while searching:  # first index in [lo, hi) with cumulative > t
        searching = 0
        for k in range(m):
            first, last = lo[k], hi[k]
            if first < last:
                mid = (first + last) >> 1
                below = cumulative[mid] <= targets[k]
                lo[k] = mid + 1 if below else first
                hi[k] = last if below else mid
                searching += 1
    for k in range(m):
        lo[k] = min(lo[k], n - 1)
    return lo


@njit(cache=True, nogil=True)
def route_posts(
    authors: Array,
    times: Array,
    route: Array,
    platform: Array,
    n_platforms: int,
    weight: float,
    risk: Array,
    traceable: Array,
    real_name_risk: float,
    author_boldness: Array,
) -> tuple[Array, Array, int, Array, Array, Array, Array]:
    """Where one (channel, kind)'s individually drawn posts go, in one pass.

    Returns intended posts per platform row (the author's route, or their home platform
    when they have none), excluded per home platform, the number going offshore,
    withheld per platform, and the posts that reach a platform: authors and times
    grouped by platform (in drawing order within each) with ``offsets[p]:offsets[p+1]``
    the slice of platform ``p``. Withholding as in :func:`benign_groups`, with
    ``author_boldness`` each post's author's boldness (gathered with the authors).
    """
    n = len(authors)
    # Gather first, decide after: gathers whose misses overlap, then a loop over
    # contiguous values (counting while gathering made each miss wait for the last).
    their_route = np.empty(n, dtype=np.int64)
    for k in range(n):
        their_route[k] = route[authors[k]]
    felt = np.empty(n if weight > 0.0 else 0, dtype=np.float64)
    bold = np.empty(n if weight > 0.0 else 0, dtype=np.float64)
    if weight > 0.0:
        for k in range(n):
            felt[k] = np.float64(risk[authors[k]])
        for k in range(n):
            if traceable[authors[k]]:
                felt[k] += real_name_risk
        for k in range(n):
            bold[k] = np.float64(author_boldness[k])
    intended = np.zeros(n_platforms + 1, dtype=np.int64)
    excluded = np.zeros(n_platforms, dtype=np.int64)
    withheld = np.zeros(n_platforms, dtype=np.int64)
    offshore = 0
    # Destination of each post: its platform, or -1 (excluded, offshore or withheld).
    destination = np.empty(n, dtype=np.int64)
    reaching = np.zeros(n_platforms + 1, dtype=np.int64)
    for k in range(n):
        r = their_route[k]
        destination[k] = -1
        if r == NO_ROUTE:
            home = platform[authors[k]]
            intended[home] += 1
            excluded[home] += 1
            continue
        intended[r] += 1
        if r == n_platforms:
            offshore += 1
            continue
        if weight > 0.0 and _withholds(felt[k], weight, bold[k]):
            withheld[r] += 1
            continue
        destination[k] = r
        reaching[r + 1] += 1
    offsets = np.cumsum(reaching)
    fill = offsets[:-1].copy()
    out_authors = np.empty(offsets[-1], dtype=np.int64)
    out_times = np.empty(offsets[-1], dtype=np.float64)
    for k in range(n):
        d = destination[k]
        if d >= 0:
            out_authors[fill[d]] = authors[k]
            out_times[fill[d]] = times[k]
            fill[d] += 1
    return intended, excluded, offshore, withheld, out_authors, out_times, offsets
