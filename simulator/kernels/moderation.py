"""Compiled moderation tables: each platform's chances that its filter holds a post and
that a published post is flagged, noticed or ordered down (docs/model.md S3, "Platform
moderation"), the arithmetic of :class:`simulator.model.platforms.PlatformState`'s
``hold_probability`` and ``flag_probability_if_not_held``."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]


@njit(cache=True, nogil=True)
def touch_tables(flag: Array, notice: Array, order: Array) -> tuple[Array, Array, Array]:
    """For each channel, platform and kind: P(flag, notice, order) of a published post
    that is not held (``touch``, channels x P x 3 x kinds), P(at least one)
    (``any_touch``) and P(each | none before it, at least one from it on)
    (``conditional``; the benign path draws which given at least one).

    ``flag`` is per platform and kind; ``notice`` and ``order`` per channel and kind.
    The products are numpy's ``prod`` over each (flag, notice, order) column, taken
    left to right, so the numbers are the ones numpy gave."""
    n_channels, n_kinds = notice.shape
    n_p = flag.shape[0]
    touch = np.empty((n_channels, n_p, 3, n_kinds))
    any_touch = np.empty((n_channels, n_p, n_kinds))
    conditional = np.empty((n_channels, n_p, 3, n_kinds))
    for c in range(n_channels):
        for p in range(n_p):
            for k in range(n_kinds):
                q = (flag[p, k], notice[c, k], order[c, k])
                touch[c, p, 0, k], touch[c, p, 1, k], touch[c, p, 2, k] = q
                spared = (1.0 - q[0], 1.0 - q[1], 1.0 - q[2])
                any_touch[c, p, k] = 1.0 - spared[0] * spared[1] * spared[2]
                later = (1.0 - spared[1] * spared[2], 1.0 - spared[2], 0.0)
                for row in range(3):
                    denominator = q[row] + (1.0 - q[row]) * later[row]
                    conditional[c, p, row, k] = q[row] / denominator if denominator > 0 else 0.0
    return touch, any_touch, conditional


@njit(cache=True, nogil=True)
def moderation_tables(
    exceed: Array, prepublication_filter: Array, notice: Array, order: Array
) -> tuple[Array, Array, Array, Array]:
    """Each platform's moderation probabilities from its filter's ``exceed[0]`` = P(the
    classifier score is above the hold line) and ``exceed[1]`` (above the flag line),
    platforms x kinds: P(held) (0 without a pre-publication filter), then
    :func:`touch_tables` of P(flagged | not held). The arithmetic of
    ``PlatformState.hold_probability`` and ``flag_probability_if_not_held`` (clip and
    where as numpy does them), so the same numbers."""
    n_p, n_kinds = exceed.shape[1], exceed.shape[2]
    hold = np.empty((n_p, n_kinds))
    flag = np.empty((n_p, n_kinds))
    for p in range(n_p):
        for k in range(n_kinds):
            held = exceed[0, p, k] if prepublication_filter[p] else 0.0
            value = (exceed[1, p, k] - held) / (1.0 - held) if held < 1.0 else 0.0
            value = value if value > 0.0 else 0.0  # np.clip: max then min, NaN-free here
            flag[p, k] = value if value < 1.0 else 1.0
            hold[p, k] = held
    touch, any_touch, conditional = touch_tables(flag, notice, order)
    return hold, touch, any_touch, conditional
