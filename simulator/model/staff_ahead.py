"""The staff ahead: the day's threshold chosen with the staff it would need (issue 16 items
3 and 5; docs/model.md S8, "Strict liability: posts waiting for review").

A platform that hires weekly (:mod:`simulator.model.staffing`) chooses its threshold each
day knowing that a stricter threshold asks for more reviews, which it pays for either in
wages or in flagged posts left up while they wait (under strict liability an audit counts
them; under notice liability a notice past its deadline):

    t* = argmin_t  min_{S in 𝒮}  [ J(t; late(t, S)) + ω S ]

``J`` the policy's daily cost (:mod:`simulator.model.platform_policy`) with what the line
at ``S`` reviewers leaves undone in the audit's count
(:func:`simulator.model.deadline_miss.policy_late`), ``ω`` the wage of a reviewer-day
(the represented platform's, :mod:`simulator.model.slice_scale`), ``𝒮`` the head counts
it could settle on (:func:`staff_grid`: from the floor to twice what the strictest
threshold needs). The hiring speed (``max_staff_growth``, S6a) limits how
fast the weekly choice gets there, not which threshold is worth it (ASSUMPTION). Weighed
at today's staff alone, every threshold stricter than today's staff serves looks futile,
and a platform that could hire relaxes before its staffing can follow (session 13's
"myopic trap"); weighed at the staff one week can reach, the trap comes back where the
floor is a fraction of a reviewer. Fixed staff (or ``max_staff_growth = 0``) leaves
today's head count alone in ``𝒮``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from simulator.model import deadline_miss
from simulator.model import platform_policy as policy_rules

FloatArray = NDArray[np.float64]

#: Head counts the daily threshold choice weighs (:func:`staff_grid`).
THRESHOLD_STAFF_POINTS = 17


def week_bounds(current: float, floor: float, max_growth: float) -> tuple[float, float]:
    """The lowest and highest head count the week's staffing may choose (S6a): up by at
    most ``max_growth`` of the current staff, down no faster (``current / (1 + g)``:
    reviewers are not laid off in a calm week and rehired the next), never below ``floor``."""
    lowest = max(floor, current / (1.0 + max_growth))
    highest = max(current, floor) * (1.0 + max_growth)
    return lowest, highest


def needed_staff(
    reviews_per_day: FloatArray | float,
    backlog: float,
    reviews_per_reviewer_day: float,
    period_days: float = deadline_miss.STAFFING_PERIOD_DAYS,
) -> FloatArray:
    """Reviewers who serve a period's reviews and the backlog within the period:
    ``(F · D + B) / (c · D)`` (``F`` reviews asked a day, ``B`` items waiting, ``c``
    reviews a reviewer serves a day, ``D`` days)."""
    work = np.asarray(reviews_per_day, dtype=float) * period_days + backlog
    return np.asarray(work / (reviews_per_reviewer_day * period_days))


def staff_grid(
    policy: policy_rules.PlatformPolicy,
    current: float,
    floor: float,
    backlog: float,
    reviews_per_reviewer_day: float,
    chosen: bool,
    max_growth: float,
) -> FloatArray:
    """The head counts the threshold choice weighs: for a platform that hires
    (``chosen`` with ``max_growth > 0``) every staff it could settle on, from ``floor`` to
    twice what the strictest threshold of the grid needs (:func:`needed_staff`),
    :data:`THRESHOLD_STAFF_POINTS` spaced evenly in logarithm, with ``floor`` and
    ``current`` themselves; fixed staff, or no room to grow: today's alone. The hiring
    speed limits how fast the staff gets there (S6a), not which threshold is worth it."""
    if not chosen or max_growth <= 0.0:
        return np.array([current])
    flows = policy.flows if policy.flows is not None else np.zeros(len(policy.q))
    asked = deadline_miss.reviews_asked(
        policy.moderation, policy.thresholds, flows, deadline_miss.policy_asked_rows(policy)
    )
    top = max(
        current, floor, 2.0 * float(needed_staff(asked, backlog, reviews_per_reviewer_day).max())
    )
    low = max(floor, top * 1e-3)
    if top <= low:
        return np.array([current])
    grid = np.geomspace(low, top, THRESHOLD_STAFF_POINTS)
    return np.unique(np.concatenate([[floor, current], grid]))


def threshold_with_staff(
    policy: policy_rules.PlatformPolicy,
    ladder: policy_rules.Ladder,
    current: float,
    capacities: Sequence[deadline_miss.ReviewCapacity | deadline_miss.WaitingLine | None],
    wages: FloatArray,
) -> float:
    """The day's threshold, chosen with the staff it would need (docs/model.md S8):

        t* = argmin_t  min_S [ J(t; late(t, S)) + ω S ]

    over the head counts ``S`` of :func:`staff_grid` (``capacities``, the queue at each;
    ``wages`` ``ω S``, currency per day), ``J`` the policy's daily cost with what the
    line at ``S`` leaves unreviewed in the audit's count
    (:func:`simulator.model.deadline_miss.policy_late`): a stricter threshold asks for
    more reviews, and pays for them in wages or in posts left up. With one head count
    (fixed staff) the wage is the same for every threshold and is left out. Refined
    between grid points as :func:`~simulator.model.platform_policy.refined_threshold`."""
    thresholds = policy.thresholds
    if len(capacities) == 1 or all(capacity is None for capacity in capacities):
        late = deadline_miss.policy_late(policy, thresholds, capacities[0])
        return policy.target(current, ladder, late)
    lates = deadline_miss.policy_late_by_queue(policy, thresholds, capacities)
    if lates is None:
        return policy.target(current, ladder, None)
    costs = policy.grid_cost_by_queue(ladder, lates)
    # Wages above the lowest head count's: the same argmin, and costs on J's own scale (a
    # wage bill added whole would round away J's differences on flat stretches).
    extra = np.asarray(wages, dtype=float)
    extra = extra - extra.min()
    with np.errstate(invalid="ignore", over="ignore"):
        cost = (costs + extra[:, None]).min(axis=0)
    return policy_rules.refined_threshold(thresholds, cost, current)
