"""Compiled sanctions and population changes (docs/model.md S14): strikes that expire,
account closures and suspensions, users leaving or circumventing after a sanction,
closed and suspended accounts that return, base turnover of users, and why users
without a route have none.

Each kernel touches only the users it is given (sanctioned authors, returning accounts,
renewed slots, users whose state changed), so its cost is proportional to the day's
changes, never to the population; :func:`recount_exclusions` is the one pass over users,
run only when a bulk change (registration, a platform's service, migration) asks for it.
:mod:`simulator.model.sanctions` states the same rules in numpy, and
``tests/test_sanctions_statement.py`` holds the two equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kinds import ExclusionReason, UserState

Array = NDArray[Any]

ACTIVE = int(UserState.ACTIVE)
EXCLUDED = int(UserState.EXCLUDED)
LEFT = int(UserState.LEFT)
CIRCUMVENTING = int(UserState.CIRCUMVENTING)
DETAINED = int(UserState.DETAINED)

# Why a user has no route today (kinds.ExclusionReason, as plain ints for the kernels).
REASON_NONE = int(ExclusionReason.NONE)
REASON_CLOSED = int(ExclusionReason.CLOSED)
REASON_LEFT = int(ExclusionReason.LEFT)
REASON_REFUSED_REAL_NAME = int(ExclusionReason.REFUSED_REAL_NAME)
REASON_DETAINED = int(ExclusionReason.DETAINED)
REASON_SUSPENDED = int(ExclusionReason.SUSPENDED)
REASON_FRICTION = int(ExclusionReason.FRICTION)
REASON_ACCOUNT_SUSPENDED = int(ExclusionReason.ACCOUNT_SUSPENDED)
N_REASONS = len(ExclusionReason)

STRIKES_CAP = 32_000  # strikes are int16
#: ``return_day`` of a user with no pending return (int32).
NEVER = 2**31 - 1
#: ``last_strike_day`` of a user never sanctioned: far enough back that any sanction
#: finds the strikes expired, near enough that ``day - NO_STRIKE_DAY`` fits in int64.
NO_STRIKE_DAY = -(2**30)


@njit(cache=True, nogil=True)
def strikes_in_force(strikes: int, last_strike_day: int, day: int, clean_days: int) -> int:
    """The strikes that count on ``day``: 0 once the user has gone more than
    ``clean_days`` whole days since the last sanction (L6: Weibo restores the credit
    score after two clean months), else ``strikes``."""
    return 0 if day - last_strike_day > clean_days else strikes


@njit(cache=True, nogil=True)
def apply_strikes(
    struck: Array,
    day: int,
    strikes: Array,
    last_strike_day: Array,
    state: Array,
    platform: Array,
    close_limits: Array,
    suspend_limits: Array,
    clean_days: Array,
    excl_reason: Array,
) -> tuple[Array, Array, Array]:
    """Today's strike-giving take-downs (authors, with repeats) become one strike per
    author (L9: take-downs at once count as one strike), after expiring strikes older
    than the home platform's ``clean_days``. An ACTIVE user whose strikes reach the
    platform's close limit has the account closed (EXCLUDED, reason CLOSED); else, at
    or past its suspend limit, suspended (EXCLUDED, reason ACCOUNT_SUSPENDED). A limit
    of 0 never applies.

    Returns ``(closed, suspended, still)``: the users closed, suspended, and the struck
    users still active, each ascending (int64)."""
    order = np.sort(struck.astype(np.int64))
    m = len(order)
    closed = np.empty(m, dtype=np.int64)
    suspended = np.empty(m, dtype=np.int64)
    still = np.empty(m, dtype=np.int64)
    n_closed = 0
    n_suspended = 0
    n_still = 0
    j = 0
    while j < m:
        u = order[j]
        while j < m and order[j] == u:
            j += 1
        p = platform[u]
        current = strikes_in_force(int(strikes[u]), int(last_strike_day[u]), day, clean_days[p])
        strikes[u] = min(current + 1, STRIKES_CAP)
        last_strike_day[u] = day
        if state[u] == ACTIVE:
            count = np.int64(strikes[u])
            if 0 < close_limits[p] <= count:
                state[u] = EXCLUDED
                excl_reason[u] = REASON_CLOSED
                closed[n_closed] = u
                n_closed += 1
            elif 0 < suspend_limits[p] <= count:
                state[u] = EXCLUDED
                excl_reason[u] = REASON_ACCOUNT_SUSPENDED
                suspended[n_suspended] = u
                n_suspended += 1
            else:
                still[n_still] = u
                n_still += 1
    return closed[:n_closed], suspended[:n_suspended], still[:n_still]


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


@njit(cache=True, nogil=True)
def apply_returns(
    candidates: Array,
    day: int,
    state: Array,
    strikes: Array,
    last_strike_day: Array,
    return_day: Array,
    excl_reason: Array,
) -> tuple[Array, Array]:
    """Closed accounts due back today re-register: ACTIVE with no strikes (the same
    person: beliefs and traits kept); suspended accounts due back are ACTIVE again with
    the strikes they had (which keep expiring on their own clock). A candidate whose
    return was cancelled (renewed, or rescheduled) is skipped; one in detention today is
    put off to tomorrow.

    Returns ``(returned, deferred)``, ascending as given."""
    m = len(candidates)
    returned = np.empty(m, dtype=np.int64)
    deferred = np.empty(m, dtype=np.int64)
    n_returned = 0
    n_deferred = 0
    for j in range(m):
        u = candidates[j]
        reason = excl_reason[u]
        if return_day[u] != day or (reason != REASON_CLOSED and reason != REASON_ACCOUNT_SUSPENDED):
            continue
        if state[u] == DETAINED:
            return_day[u] = day + 1
            deferred[n_deferred] = u
            n_deferred += 1
        elif state[u] == EXCLUDED:
            state[u] = ACTIVE
            if reason == REASON_CLOSED:  # a new account; a suspended one keeps its record
                strikes[u] = 0
                last_strike_day[u] = NO_STRIKE_DAY
            return_day[u] = NEVER
            excl_reason[u] = REASON_NONE
            returned[n_returned] = u
            n_returned += 1
    return returned[:n_returned], deferred[:n_deferred]


@njit(cache=True, nogil=True)
def renew_slots(
    slots: Array,
    state: Array,
    strikes: Array,
    last_strike_day: Array,
    return_day: Array,
    excl_reason: Array,
    traceable: Array,
    platform: Array,
    refuse_draw: Array,
    enforce_draw: Array,
    circumvent_draw: Array,
    real_name_on: bool,
    refusal_probability: float,
    enforcement: Array,
    circumvent_probability: float,
) -> tuple[Array, int]:
    """Base turnover: the user in each slot leaves and a new one arrives (same rate,
    stance, boldness, home platform and friends: the slot's intended speech is
    unchanged). Slots in detention are skipped. The newcomer has no strikes and no
    pending return; under a real-name rule in force it registers like anyone on the
    rule's first day (refuses with ``refusal_probability``; a refuser the platform
    enforces against circumvents or is excluded), else it is anonymous.

    Returns ``(renewed, changed)``: the slots renewed (ascending as given) and how many
    of them changed state or traceability (the engine's route and count caches key on
    that)."""
    m = len(slots)
    renewed = np.empty(m, dtype=np.int64)
    n = 0
    changed = 0
    for j in range(m):
        u = slots[j]
        if state[u] == DETAINED:
            continue
        new_state = ACTIVE
        new_reason = REASON_NONE
        new_traceable = False
        if real_name_on:
            if refuse_draw[j] < refusal_probability:
                if enforce_draw[j] < enforcement[platform[u]]:
                    if circumvent_draw[j] < circumvent_probability:
                        new_state = CIRCUMVENTING
                    else:
                        new_state = EXCLUDED
                        new_reason = REASON_REFUSED_REAL_NAME
            else:
                new_traceable = True
        if state[u] != new_state or traceable[u] != new_traceable:
            changed += 1
        state[u] = new_state
        excl_reason[u] = new_reason
        traceable[u] = new_traceable
        strikes[u] = 0
        last_strike_day[u] = NO_STRIKE_DAY
        return_day[u] = NEVER
        renewed[n] = u
        n += 1
    return renewed[:n], changed


@njit(cache=True, nogil=True)
def exclusion_reason(state: int, serves: bool, reason: int) -> int:
    """Why a user in ``state`` (``reason``: its ``excl_reason``) whose home platform
    serves or not has no route (REASON_NONE if it has one): the routes' rule (S2)."""
    if state == ACTIVE:
        return REASON_NONE if serves else REASON_SUSPENDED
    if state == CIRCUMVENTING:
        return REASON_NONE
    if state == DETAINED:
        return REASON_DETAINED
    if state == LEFT:
        return REASON_LEFT
    return reason


@njit(cache=True, nogil=True)
def _add_weights(
    mass: Array, p: int, r: int, sign: float, i: int, benign_weight: Array, cumulative: Array
) -> None:
    """Add ``sign`` times user ``i``'s posting weight to ``mass[p, r]``: benign in column
    0, then one column per row of the sensitive weights (rows x users, running)."""
    mass[p, r, 0] += sign * benign_weight[i]
    for row in range(cumulative.shape[0]):
        below = cumulative[row, i - 1] if i > 0 else 0.0
        mass[p, r, 1 + row] += sign * (cumulative[row, i] - below)


@njit(cache=True, nogil=True)
def recount_exclusions(
    state: Array,
    excl_reason: Array,
    platform: Array,
    serving: Array,
    benign_weight: Array,
    sensitive_cumulative: Array,
    reason_now: Array,
    counts: Array,
    mass: Array,
) -> None:
    """Every user's reason for having no route now into ``reason_now`` (int8), the users
    by reason into ``counts[N_REASONS]`` and their posting weight by home platform and
    reason into ``mass[P, N_REASONS, 1 + rows]``: benign (``benign_weight``) and each row
    of the sensitive weights (the steps of ``sensitive_cumulative``, rows x users:
    ``rate x stance_factor``, by kind where groups have their own mix). One pass over
    users."""
    counts[:] = 0
    mass[:] = 0.0
    for i in range(len(state)):
        p = platform[i]
        r = exclusion_reason(int(state[i]), serving[p], int(excl_reason[i]))
        reason_now[i] = r
        if r != REASON_NONE:
            counts[r] += 1
            _add_weights(mass, p, r, 1.0, i, benign_weight, sensitive_cumulative)


@njit(cache=True, nogil=True)
def update_exclusions(
    users: Array,
    state: Array,
    excl_reason: Array,
    platform: Array,
    serving: Array,
    benign_weight: Array,
    sensitive_cumulative: Array,
    reason_now: Array,
    counts: Array,
    mass: Array,
) -> None:
    """:func:`recount_exclusions` for ``users`` only (whose state or reason may have
    changed since; their home platform not): each one's old contribution out, its new
    one in. Cost proportional to ``users``."""
    for j in range(len(users)):
        i = users[j]
        p = platform[i]
        old = reason_now[i]
        new = exclusion_reason(int(state[i]), serving[p], int(excl_reason[i]))
        if new == old:
            continue
        if old != REASON_NONE:
            counts[old] -= 1
            _add_weights(mass, p, old, -1.0, i, benign_weight, sensitive_cumulative)
        if new != REASON_NONE:
            counts[new] += 1
            _add_weights(mass, p, new, 1.0, i, benign_weight, sensitive_cumulative)
        reason_now[i] = new
