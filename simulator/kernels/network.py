"""Compiled social network building: the undirected graph's rows (CSR) from edge lists,
self-loops dropped, each row sorted (:class:`simulator.model.population.SocialNetwork`
builds large networks with these; tests/test_kernels_day.py compares them with numpy).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]


@njit(cache=True, nogil=True)
def count_loops_kept(a: Array, b: Array) -> int:
    """Edges that are not self-loops (``a != b``)."""
    kept = 0
    for k in range(len(a)):
        kept += a[k] != b[k]
    return kept


@njit(cache=True, nogil=True)
def network_offsets(a: Array, b: Array, indptr: Array) -> None:
    """Row offsets of the undirected graph with edges ``(a[k], b[k])``, self-loops
    dropped, into ``indptr`` (zeros on entry, ``users + 1`` long)."""
    n = len(indptr) - 1
    for k in range(len(a)):
        x = a[k]
        y = b[k]
        if x != y:
            indptr[x + 1] += 1
            indptr[y + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]


@njit(cache=True, nogil=True)
def network_rows(a: Array, b: Array, indptr: Array, rows: Array) -> None:
    """Each user's neighbours into their row of ``rows`` (rows as ``indptr`` says), in
    edge order: both ends of every edge that is not a self-loop."""
    fill = indptr[:-1].copy()
    for k in range(len(a)):
        x = a[k]
        y = b[k]
        if x != y:
            rows[fill[x]] = y
            fill[x] += 1
            rows[fill[y]] = x
            fill[y] += 1


@njit(cache=True, nogil=True)
def sort_rows(indptr: Array, rows: Array, indices: Array) -> None:
    """The rows of ``rows`` (an undirected graph's, any order within a row) into
    ``indices``, each row in ascending order: row ``t`` of ``rows`` lists the ``s``
    whose rows hold ``t``, so visiting ``t`` in ascending order and appending it to
    each such row sorts every row without a comparison (a counting sort's second
    pass). The same rows as sorting the packed ``source << 32 | target`` keys of both
    directions of every edge."""
    fill = indptr[:-1].copy()
    for t in range(len(indptr) - 1):
        for j in range(indptr[t], indptr[t + 1]):
            s = rows[j]
            indices[fill[s]] = t
            fill[s] += 1


@njit(cache=True, nogil=True)
def sorted_rows_blocked(
    a: Array, b: Array, indptr: Array, indices: Array, block: int, first: int = 0, step: int = 1
) -> None:
    """What :func:`network_rows` then :func:`sort_rows` give, without the temporary rows
    and with writes that stay in cache: for each ``block`` of sources, a scan of every
    edge writes the block's rows, which are then sorted in place (insertion sort; rows
    hold a few dozen neighbours, ``np.sort`` for longer ones). For large graphs, where
    the scattered writes of :func:`sort_rows` miss the cache every time.

    Only blocks ``first, first + step, ...``: blocks write disjoint rows, so threads
    (the GIL released) can share the work and write the same arrays."""
    n = len(indptr) - 1
    fill = indptr[:-1].copy()
    for lo in range(first * block, n, step * block):
        hi = min(lo + block, n)
        for k in range(len(a)):
            x = a[k]
            y = b[k]
            if x != y:
                if lo <= x and x < hi:
                    indices[fill[x]] = y
                    fill[x] += 1
                if lo <= y and y < hi:
                    indices[fill[y]] = x
                    fill[y] += 1
        for i in range(lo, hi):
            start = np.int64(indptr[i])
            stop = np.int64(indptr[i + 1])
            if stop - start > 32:
                indices[start:stop].sort()  # in place (a slice copy compiles slowly)
                continue
            for j in range(start + 1, stop):
                v = indices[j]
                p = j - 1
                while p >= start and indices[p] > v:
                    indices[p + 1] = indices[p]
                    p -= 1
                indices[p + 1] = v
