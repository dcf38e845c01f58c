"""Compiled benign outcome groups: which users' benign posts are excluded, published or
offshore today, and the groups' summed weights (docs/model.md S5). Benign posts carry no
risk and are never withheld (S3): the withheld groups stay empty.

Benign posts are drawn in aggregate: each user falls in one outcome group
(:func:`benign_groups`), the day's benign count is split over the groups by their weight
(:func:`benign_split`), and each published post's author is found by the running
weights (:func:`group_members`; :func:`simulator.kernels.speech.find_authors`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.numeric import numpy_sum

Array = NDArray[Any]

#: Users per block of the running group weights :func:`benign_groups` records: a
#: benign author is then found by a search over blocks and a scan of one block
#: (:func:`simulator.kernels.speech.find_authors`), not a sweep over every user.
GROUP_BLOCK = 64


def group_blocks(n_users: int, block: int = GROUP_BLOCK) -> int:
    """How many blocks of ``block`` users cover ``n_users`` (the last one may be short)."""
    return -(-n_users // block)


@njit(cache=True, nogil=True)
def benign_groups(
    route: Array,
    platform: Array,
    n_platforms: int,
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
    published on ``p``; ``2P + p`` withheld on ``p`` (empty); ``3P`` offshore.

    Sums by blocks of ``block`` users (:func:`group_blocks`): ``block_sums[b, g]`` is the
    weight of block ``b``'s users in group ``g``, added in user order from 0; a group's
    running weight before block ``b`` is the sum of the blocks before it, added in
    block order (into ``running[p, b]`` for published group ``P + p``, P x (blocks +
    1), the last column the total); ``mass`` is the totals. A user's running weight
    within a block is its block's running weight plus the block's own sum so far
    (:func:`simulator.kernels.speech.find_authors`, :func:`group_members`). Defined by
    blocks so that a day whose groups changed for a few users recomputes only their
    blocks: a block whose users' groups equal ``previous_group``'s keeps its row of
    ``previous_sums`` (the same bits; pass empty arrays to recompute every block)."""
    n = len(route)
    n_blocks = running.shape[1] - 1
    n_groups = 3 * n_platforms + 1
    if n_blocks != -(-n // block) or running.shape[0] != n_platforms:
        raise ValueError("running: P x (blocks of `block` users + 1)")
    if block_sums.shape[0] != n_blocks or block_sums.shape[1] != n_groups:
        raise ValueError("block_sums: blocks x groups")
    offshore = 3 * n_platforms
    # A loop without branches (it vectorises).
    for i in range(n):
        r = np.int64(route[i])
        home = np.int64(platform[i])
        group[i] = home if r < 0 else (offshore if r == n_platforms else r + n_platforms)
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
