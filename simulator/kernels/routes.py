"""Compiled routes and withholding: where each user's posts go today (docs/model.md S3).

:func:`fill_routes` gives each user's route (their platform if active and it serves, the
offshore row if circumventing, none otherwise); :func:`route_posts` sends one (channel,
kind)'s individually drawn posts along them, withholding those the author self-censors.
The withholding rule is :func:`simulator.model.speech.withholds` on
:func:`simulator.model.speech.effective_risk`; :func:`effective_risk` and :func:`withholds`
here are their compiled copies, in the float types numpy used (tests/test_kernels.py
compares the two).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.numeric import count_values
from simulator.kinds import UserState

ACTIVE = int(UserState.ACTIVE)
CIRCUMVENTING = int(UserState.CIRCUMVENTING)
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
    count_values(route, active_here)


@njit(cache=True, nogil=True)
def effective_risk(risk: float, traceable: bool, real_name_risk: float) -> float:
    """The risk a user weighs a post against, before the cap (float64): perceived
    ``risk`` plus ``real_name_risk`` if the user is ``traceable``. The compiled copy of
    :func:`simulator.model.speech.effective_risk` (which also caps and rounds; here
    :func:`withholds` does)."""
    return np.float64(risk) + (real_name_risk if traceable else 0.0)


@njit(cache=True, nogil=True)
def withholds(effective: float, weight: float, boldness: float) -> bool:
    """A user withholds a post of perceived ``weight``
    (:func:`simulator.model.speech.withholds`): the :func:`effective_risk` capped at 1
    and rounded to float32, times the weight, exceeds boldness, compared in float64, as
    numpy computed it."""
    return bool(np.float64(np.float32(min(1.0, effective))) * weight > boldness)


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
            author = authors[k]
            felt[k] = effective_risk(risk[author], traceable[author], real_name_risk)
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
        if weight > 0.0 and withholds(felt[k], weight, bold[k]):
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
