"""Compiled Erlang recursion of the waiting rule (docs/model.md S8):
:func:`simulator.model.deadline_miss.erlang_c` states it, in numpy, and
``tests/test_deadline_miss.py`` holds the two equal bit for bit.

The numpy form steps every element of the grid through the recursion up to the largest
line's staff (a few hundred ``np.where`` passes over lines x grid at a million users);
here each element takes its own ``c`` steps, the same operations in the same order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]


@njit(cache=True, nogil=True)
def erlang_b(load: Array, servers: Array) -> Array:
    """Erlang B, ``B(c, a)``, for each element (``load`` in Erlangs, float64, and
    ``servers``, int64, of one length) by the stable recursion ``B_0 = 1``,
    ``B_k = a B_{k-1} / (k + a B_{k-1})``, ``k = 1 .. c``.

    Elements with the same ``c`` side by side (a line's row of the grid) take each step
    together: the steps of one element depend on each other, those of different ones
    do not, so the inner loop runs several elements at once (the same operations on
    each element, in the same order)."""
    n = len(load)
    blocked = np.ones(n, dtype=np.float64)
    first = 0
    while first < n:
        end = first + 1
        while end < n and servers[end] == servers[first]:
            end += 1
        for k in range(1, servers[first] + 1):
            for i in range(first, end):
                b = blocked[i]
                blocked[i] = load[i] * b / (k + load[i] * b)
        first = end
    return blocked
