"""Compiled random draws: a ``numpy.random.Generator``'s methods behind one call each,
and numpy's multinomial, so compiled code draws exactly numpy's numbers in numpy's order
(tests/test_kernels.py compares them)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]


# The Generator's methods behind one call each: numba then compiles each once, not
# once per place it is used (that took the first compile from ~6 s to ~20 s).
@njit(cache=True, nogil=True)
def binomial(rng: Any, n: int, p: float) -> int:
    return rng.binomial(n, p)


@njit(cache=True, nogil=True)
def exponential(rng: Any, scale: float) -> float:
    return rng.exponential(scale)


@njit(cache=True, nogil=True)
def normal(rng: Any) -> float:
    return rng.standard_normal()


@njit(cache=True, nogil=True)
def multinomial(rng: Any, n: int, pvals: Array) -> Array:
    """``rng.multinomial(n, pvals)``: numpy's algorithm (a binomial per category, of
    the rest, with the rest's probability), so the same numbers and stream state."""
    d = len(pvals)
    out = np.zeros(d, dtype=np.int64)
    remaining_p = 1.0
    left = n
    for j in range(d - 1):
        out[j] = binomial(rng, left, pvals[j] / remaining_p)
        left -= out[j]
        if left <= 0:
            break
        remaining_p -= pvals[j]
    if left > 0:
        out[d - 1] = left
    return out
