"""When review items reach a platform's queue, compiled: keyword sweeps and attention.

Scalar functions, called post by post inside the publishing kernel; their readable
statement, with the equations and sources, is :mod:`simulator.model.arrivals`
(docs/model.md S5a). Times are hours since the start of the run.

* :func:`sweep_time`: the filter re-scans published posts every ``interval`` hours, so a
  post its keywords catch is flagged at the first sweep at or after publication;
* :func:`attention_time`: views of a post accrue as ``A (1 - exp(-t / tau))`` and each
  view notices it at rate ``rate``, so with ``E = -ln(1 - u)`` for a uniform ``u`` the
  post is noticed iff ``E < rate A``, at ``t_pub - tau ln(1 - E / (rate A))``;
* :func:`attention_time_given_noticed`: the same time for a post already known to be
  noticed (the benign posts, whose notices are drawn in aggregate).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

NEVER = math.inf
"""Arrival time of an item that never arrives (hours)."""

_LAST_BEFORE_ONE = 1.0 - 2.0**-53


@njit(cache=True, nogil=True)
def sweep_time(published_hours: float, interval_hours: float) -> float:
    """The first sweep at or after ``published_hours``: the smallest ``k * interval``
    (k = 0, 1, ..., computed as that product) not before it; ``interval`` 0: real time,
    ``t`` itself."""
    if interval_hours <= 0.0:
        return published_hours
    # ceil(t / interval), corrected by one step where the division rounded across a
    # grid point (k * interval is not exact, e.g. 3 * 0.1 > 0.3).
    k = math.ceil(published_hours / interval_hours)
    if k > 0 and (k - 1) * interval_hours >= published_hours:
        k -= 1
    elif k * interval_hours < published_hours:
        k += 1
    return k * interval_hours


@njit(cache=True, nogil=True)
def view_rate(probability: float) -> float:
    """Per-view noticing rate ``r = -ln(1 - p)`` that gives an author of audience 1
    probability ``p`` of being noticed (``p`` 1: infinite)."""
    if probability >= 1.0:
        return math.inf
    return -math.log1p(-probability)


@njit(cache=True, nogil=True)
def noticed(u: float, rate: float, audience: float) -> bool:
    """Whether a post with uniform ``u`` in [0, 1) is ever noticed: ``-ln(1 - u) <
    rate * audience``, i.e. ``u < 1 - exp(-rate * audience)``."""
    if audience <= 0.0 or rate <= 0.0:
        return False
    return -math.log1p(-u) < rate * audience


@njit(cache=True, nogil=True)
def attention_time(
    published_hours: float, u: float, rate: float, audience: float, tau_hours: float
) -> float:
    """When the post with uniform ``u`` is noticed (:data:`NEVER` if it is not):
    ``t_pub - tau ln(1 - E / (rate A))``, ``E = -ln(1 - u)``."""
    if not noticed(u, rate, audience):
        return NEVER
    used = -math.log1p(-u) / (rate * audience)  # share of the post's reach used up, in [0, 1)
    return published_hours - tau_hours * math.log1p(-used)


@njit(cache=True, nogil=True)
def attention_time_given_noticed(
    published_hours: float, u: float, probability: float, tau_hours: float
) -> float:
    """When a post of audience 1 known to be noticed (probability ``probability`` > 0)
    is noticed, from one uniform ``u``: ``E = -ln(1 - u p)`` is ``-ln(1 - U)`` given
    ``U < p``, and the time follows as in :func:`attention_time`."""
    rate = view_rate(probability)
    if rate == math.inf:
        return published_hours
    exposure = -math.log1p(-u * probability)
    # exposure < rate exactly; min() keeps a rounding tie from giving "never".
    used = min(exposure / rate, _LAST_BEFORE_ONE)
    return published_hours - tau_hours * math.log1p(-used)


@njit(cache=True, nogil=True)
def seen_by(hours: float, attention_hours: float) -> float:
    """``1 − e^{−t/τ}``: the share of its audience a post up ``t`` hours reaches
    (:func:`simulator.model.exposure.share_seen`; 0 for ``t ≤ 0``)."""
    return -math.expm1(-max(hours, 0.0) / attention_hours)


@njit(cache=True, nogil=True)
def held_delays(
    is_held: NDArray[Any],
    authors: NDArray[Any],
    uniforms: NDArray[Any],
    notice_rate: float,
    order_rate: float,
    audience: NDArray[Any],
    order_audience: NDArray[Any],
    weighted: bool,
    tau_hours: float,
) -> NDArray[np.float64]:
    """Rows (notice, order) x posts: a held post's delays after approval, ``F⁻¹(u)``
    from its own uniforms (``uniforms`` rows 1 and 2), inf where ``u ≥ F(∞)`` or the
    post is not held (issue 17, :func:`simulator.model.held_touches.held_delays`).
    ``weighted``: at the audiences users and monitors see, ``audience`` and
    ``order_audience`` per author (public posts of sensitive kinds); else at audience 1
    (benign posts, private messages)."""
    n = len(is_held)
    delay = np.full((2, n), math.inf)
    for k in range(n):
        if not is_held[k]:
            continue
        for row in range(2):
            rate = notice_rate if row == 0 else order_rate
            reach = 1.0
            if weighted:
                reach = audience[authors[k]] if row == 0 else order_audience[authors[k]]
            delay[row, k] = attention_time(0.0, uniforms[row + 1, k], rate, reach, tau_hours)
    return delay
