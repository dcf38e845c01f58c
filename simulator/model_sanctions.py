"""Sanctions and the population (docs/model.md S14): the rules, stated in numpy.

* **Strike decay** (L6: Weibo's credit score is restored after two clean months). On a
  day ``d`` with ``n`` sanctions of user ``i`` on home platform ``p``::

      strikes_i <- 0              if d - last_strike_day_i > clean_days_p
      strikes_i <- min(strikes_i + n, 32,000);   last_strike_day_i <- d
      closed if ACTIVE and strikes_i >= strikes_to_close_p

  (``clean_days`` whole days with no sanction in between wipe the record.)
* **Re-registration**: a closed account may come back on day
  ``d + max(1, ceil(E))``, ``E ~ Exp(mean = reregister_mean_days_p)`` (ASSUMPTION), unless
  its identity is **burned**: the user registered under the real name, the real-name
  rule is in force, and the platform checks the new registration's identity (probability
  ``real_name_enforcement_p``). Drawn at closure from the behaviour stream, in ascending
  user order: all delays, then all identity checks.
* **Base turnover** (ASSUMPTION ``turnover_per_year``): each day
  ``R ~ Binomial(n, turnover_per_year / 365)`` slots, uniformly without replacement, get a
  new user (see :func:`simulator.kernels.sanctions.renew_slots`). Drawn from the
  turnover stream in a fixed order whatever the rules (``R``, the slots, then three
  uniforms per slot), so the paired counterfactual renews the same slots and base churn
  nets out of every paired difference.

The engine's compiled passes are in :mod:`simulator.kernels.sanctions`; these functions
are the readable statements they are tested against (``tests/test_sanctions_statement.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kernels.sanctions import (
    NEVER,
    NO_STRIKE_DAY,
    REASON_CLOSED,
    REASON_DETAINED,
    REASON_LEFT,
    REASON_NONE,
    REASON_SUSPENDED,
    STRIKES_CAP,
)
from simulator.kinds import UserState

Array = NDArray[Any]
DAYS_PER_YEAR = 365.0


def strikes_in_force(strikes: Array, last_strike_day: Array, day: int, clean_days: Array) -> Array:
    """Strikes that count on ``day`` (int64): 0 where more than ``clean_days`` whole days
    have passed since the last sanction (``clean_days`` per user: its home platform's)."""
    expired = (day - last_strike_day.astype(np.int64)) > clean_days
    return np.where(expired, 0, strikes.astype(np.int64))


def add_strikes(
    sanctioned: Array,
    day: int,
    strikes: Array,
    last_strike_day: Array,
    state: Array,
    platform: Array,
    limits: Array,
    clean_days: Array,
    excl_reason: Array,
) -> tuple[Array, Array]:
    """Numpy statement of :func:`simulator.kernels.sanctions.apply_strikes` (in place;
    returns ``(closed, still)`` ascending)."""
    who, times = np.unique(np.asarray(sanctioned, dtype=np.int64), return_counts=True)
    current = strikes_in_force(strikes[who], last_strike_day[who], day, clean_days[platform[who]])
    strikes[who] = np.minimum(current + times, STRIKES_CAP)
    last_strike_day[who] = day
    active = state[who] == UserState.ACTIVE
    closing = active & (strikes[who].astype(np.int64) >= limits[platform[who]])
    closed = who[closing]
    state[closed] = UserState.EXCLUDED
    excl_reason[closed] = REASON_CLOSED
    return closed, who[active & ~closing]


def return_days(
    closed: Array,
    day: int,
    rng: np.random.Generator,
    mean_days: Array,
    traceable: Array,
    platform: Array,
    real_name_in_force: bool,
    enforcement: Array,
) -> Array:
    """The day each closed account (ascending) may re-register (int64; NEVER if its
    identity is burned or the delay passes int32). Draws ``len(closed)`` exponentials,
    then ``len(closed)`` uniforms, from ``rng`` (the behaviour stream)."""
    m = len(closed)
    delay = rng.exponential(1.0, m) * mean_days[platform[closed]]
    checked = rng.random(m) < enforcement[platform[closed]]
    burned = traceable[closed] & real_name_in_force & checked
    due = day + np.maximum(1.0, np.ceil(delay))  # float64: a huge mean cannot overflow
    return np.where(burned | (due >= NEVER), NEVER, due).astype(np.int64)


@dataclass(frozen=True)
class Renewals:
    """One day's turnover draws: the slots (ascending) and three uniforms per slot."""

    slots: Array
    refuse: Array
    enforce: Array
    circumvent: Array


def draw_renewals(rng: np.random.Generator, users: int, turnover_per_year: float) -> Renewals:
    """The day's renewal draws from the turnover stream, in a fixed order that does not
    depend on the rules: ``R ~ Binomial(users, turnover_per_year / 365)``, ``R`` slots
    uniformly without replacement, then ``R`` uniforms for each of refusing real names,
    the platform enforcing and circumventing."""
    rate = min(1.0, turnover_per_year / DAYS_PER_YEAR)
    count = int(rng.binomial(users, rate)) if users and rate > 0 else 0
    slots = np.sort(rng.choice(users, size=count, replace=False, shuffle=False)).astype(np.int64)
    draws = rng.random((3, count))
    return Renewals(slots, draws[0], draws[1], draws[2])


def exclusion_reasons(route: Array, state: Array, excl_reason: Array) -> Array:
    """Why each user has no route today (int8 reason codes; REASON_NONE if it has one)."""
    reason = np.full(len(route), REASON_SUSPENDED, dtype=np.int8)
    reason[state == UserState.EXCLUDED] = excl_reason[state == UserState.EXCLUDED]
    reason[state == UserState.LEFT] = REASON_LEFT
    reason[state == UserState.DETAINED] = REASON_DETAINED
    reason[np.asarray(route) >= 0] = REASON_NONE
    return reason


__all__ = [
    "NEVER",
    "NO_STRIKE_DAY",
    "REASON_NONE",
    "Renewals",
    "add_strikes",
    "draw_renewals",
    "exclusion_reasons",
    "return_days",
    "strikes_in_force",
]
