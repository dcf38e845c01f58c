"""Growing record buffers and merging batches of posts, compiled (used by
:mod:`simulator.kernels.channel`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]


@njit(cache=True, nogil=True)
def grow_columns(buffer: Array, needed: int) -> Array:
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


@njit(cache=True, nogil=True)
def merge_by_platform(
    authors: Array,
    times: Array,
    offsets: Array,
    more_authors: Array,
    more_times: Array,
    more_offsets: Array,
) -> tuple[Array, Array, Array]:
    """Two batches of posts grouped by platform (``offsets[p]:offsets[p + 1]``) as one,
    each platform's posts of the first batch before those of the second."""
    n_p = len(offsets) - 1
    merged_offsets = offsets + more_offsets
    out_authors = np.empty(merged_offsets[-1], dtype=np.int64)
    out_times = np.empty(merged_offsets[-1], dtype=np.float64)
    for p in range(n_p):
        at = merged_offsets[p]
        for i in range(offsets[p], offsets[p + 1]):
            out_authors[at] = authors[i]
            out_times[at] = times[i]
            at += 1
        for i in range(more_offsets[p], more_offsets[p + 1]):
            out_authors[at] = more_authors[i]
            out_times[at] = more_times[i]
            at += 1
    return out_authors, out_times, merged_offsets
