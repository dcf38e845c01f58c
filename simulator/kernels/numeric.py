"""Compiled arithmetic the other kernels share, each exactly as numpy computes it.

Counting values, numpy's pairwise sum, a stable argsort, ``np.add.at`` on float32, and a
bucketed ``searchsorted``: written out so that a kernel using them gives the numbers the
numpy expression it replaced gave (tests/test_kernels.py compares them), and compiled
once here rather than once per caller. Compiled on first use and cached on disk
(``cache=True``) next to this file; ``NUMBA_DISABLE_JIT=1`` runs them as plain Python.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]


@njit(cache=True, nogil=True)
def count_values(values: Array, counts: Array) -> None:
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
def add_at(out: Array, where: Array, value: float) -> None:
    """``np.add.at(out, where, value)`` on a float32 array, in order. numpy adds a Python
    float in float64 and rounds each sum to float32; so does this."""
    for w in where:
        out[w] = np.float32(np.float64(out[w]) + value)


@njit(cache=True, nogil=True)
def add_neighbour_counts(indptr: Array, indices: Array, users: Array, out: Array) -> None:
    """For each of ``users`` (repeats count again), add 1 to ``out`` at each neighbour."""
    for u in users:
        for j in range(indptr[u], indptr[u + 1]):
            out[indices[j]] += np.float32(1.0)


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
def keep_rows(column: Array, ids: Array) -> None:
    """``column[:len(ids)] = column[ids]`` in place, for ``ids`` ascending and unique
    (each row moves forward or stays, so no row is overwritten before it is read):
    without numpy's temporary copy of the kept rows (the post store's compaction moves
    millions of records when a queue is overloaded)."""
    for j in range(len(ids)):
        column[j] = column[ids[j]]
