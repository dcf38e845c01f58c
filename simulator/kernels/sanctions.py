"""Compiled sanctions: strikes, account closures, users leaving or circumventing
(docs/model.md S3, "Sanctions").

A sanctioned user gets a strike; an active user whose strikes reach the platform's limit
is closed (EXCLUDED); a sanctioned user still active leaves with probability
``leave_probability`` or circumvents with probability ``circumvent_probability``.
As the numpy code they replaced (tests/test_kernels_day.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.numeric import merge_argsort
from simulator.kinds import UserState

ACTIVE = int(UserState.ACTIVE)
EXCLUDED = int(UserState.EXCLUDED)
LEFT = int(UserState.LEFT)
CIRCUMVENTING = int(UserState.CIRCUMVENTING)

STRIKES_CAP = 32_000  # strikes are int16


Array = NDArray[Any]


@njit(cache=True, nogil=True)
def apply_strikes(
    sanctioned: Array, strikes: Array, state: Array, platform: Array, limits: Array
) -> tuple[Array, Array]:
    """Add each sanction to its user's strikes (capped at 32,000) and close the accounts
    of active users whose strikes reach their platform's limit (state EXCLUDED).

    Returns ``(closed, still)``: the users closed and the sanctioned users still active
    afterwards, each in ascending order (int64). As ``np.unique(sanctioned,
    return_counts=True)`` followed by the masks it replaced."""
    order = sanctioned[merge_argsort(sanctioned)]
    m = len(order)
    who = np.empty(m, dtype=np.int64)
    times = np.empty(m, dtype=np.int64)
    k = -1
    for j in range(m):
        u = order[j]
        if k >= 0 and who[k] == u:
            times[k] += 1
        else:
            k += 1
            who[k] = u
            times[k] = 1
    k += 1
    closed = np.empty(k, dtype=np.int64)
    still = np.empty(k, dtype=np.int64)
    n_closed = 0
    n_still = 0
    for j in range(k):
        u = who[j]
        total = np.int64(strikes[u]) + times[j]
        strikes[u] = min(total, STRIKES_CAP)
        if state[u] == ACTIVE:
            if np.int64(strikes[u]) >= limits[platform[u]]:
                state[u] = EXCLUDED
                closed[n_closed] = u
                n_closed += 1
            else:
                still[n_still] = u
                n_still += 1
    return closed[:n_closed], still[:n_still]


@njit(cache=True, nogil=True)
def apply_exits(
    still: Array, draw: Array, leave_probability: float, leave_or_circumvent: float, state: Array
) -> int:
    """Sanctioned users who stay active leave (``draw < leave_probability``) or turn to
    circumvention (else ``draw < leave_or_circumvent``, the two probabilities' sum).
    Returns how many did (their state changed)."""
    changed = 0
    for j in range(len(still)):
        d = draw[j]
        if d < leave_probability:
            state[still[j]] = LEFT
            changed += 1
        elif d < leave_or_circumvent:
            state[still[j]] = CIRCUMVENTING
            changed += 1
    return changed
