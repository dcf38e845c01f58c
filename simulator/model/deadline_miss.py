"""The chance that a notified post misses its take-down deadline in the platform's own
review queue, at the load a candidate threshold creates (issue 16 item 3, issue 18;
docs/model.md S8, "Deadlines and the queue").

Under notice liability an audit counts notified prohibited posts still up at their
deadline ``d`` (S10). A notified post the reviewer would take down is still up at ``d``
when its review has not started by then. The queue is non-preemptive with priorities
order < hold < notice < flag < appeal (S6), served by the platform's staff ``S`` (as
given: fixed, or this week's choice, S6a) at ``cμ = S × 60 / review_minutes`` reviews an
hour. A threshold ``t`` sets the load: per hour, from the posts ``N_k`` reaching the
platform a day (its own count, S8),

    λ_hi(t) = Σ_k N_k [h_k(t) + (1 − h_k(t)) o_k] / 24          orders and holds (served first)
    λ_n(t)  = Σ_k N_k (1 − h_k(t)) n_k / 24                       notices
    λ(t)    = λ_hi(t) + λ_n(t) + Σ_k N_k (1 − h_k(t)) f_k(t) / 24  every item (flags too)

(``h_k`` held, ``f_k`` flagged if not held, ``n_k`` noticed, ``o_k`` ordered: S4, S5, S8).
The chance that a notice waits longer than ``d`` is

    L(t) = P(W_n > d) = C(c, λ(t)/μ) · exp(−d · cμ · (1 − σ_hi(t)) · (1 − σ_n(t)))
    σ_hi = λ_hi / (cμ),   σ_n = (λ_hi + λ_n) / (cμ);   L = 1 when σ_n ≥ 1

``C`` the Erlang C chance that an arrival finds every desk busy (``c = ⌈S⌉`` desks with
the mean review time of S6; ``C = 1`` at a total load of ``c`` or more). The mean of this
wait, ``C / (cμ (1 − σ_hi)(1 − σ_n))``, is Cobham's mean wait of a priority class in a
non-preemptive M/M/c queue with one service rate (Cobham 1954; Kleinrock 1976:
docs/references.md); its shape, exponential given a wait, is an ASSUMPTION (exact with one class:
then ``L`` is the Erlang C tail :func:`~simulator.model.review_queue.erlang_c_wait_beyond`,
and checked against a simulated two-class queue in ``tests/test_deadline_miss.py``).

A stricter threshold sends more flags to the queue, so a notice finds the desks busy
more often (``C`` rises with ``λ``) and, where holds come first, waits behind more of them
(``σ_hi``); flags never jump a notice. What the audit can hold against the platform under
reading ``j`` of the line is then, besides the notified posts it keeps (``X_k``, S8),

    Y_k(t; ℓ) = (1 − h_k) n_k (1 − o_k) P(z > max(t, ℓ)) · L(t)

the notified posts a review would take down but does not start in time, above the line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from simulator.model.platform_policy import NOTICE, Moderation, PlatformPolicy

if TYPE_CHECKING:
    from simulator.model.scenario import Scenario

FloatArray = NDArray[np.float64]

HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class ReviewCapacity:
    """The queue a platform's threshold choice weighs: its staff as given, on ``desks``
    with a mean clock time ``review_hours`` a review (``platforms.review_servers``, S6:
    ``⌈S⌉`` desks, ``review_minutes / 60 × ⌈S⌉ / S``), and the notice deadline an audit
    holds it to (hours)."""

    desks: int
    review_hours: float
    deadline_hours: float

    @property
    def reviews_per_hour(self) -> float:
        """``cμ``: the queue's capacity (reviews an hour at full load; ``S × 60 /
        review_minutes``)."""
        return self.desks / self.review_hours


def notice_deadline(scenario: Scenario) -> float | None:
    """The notice deadline an audit holds a platform to (hours), under notice liability
    with notice duties (S10); None otherwise."""
    takedown = scenario.rules.takedown
    if takedown.liability != NOTICE or takedown.notice_deadline_hours is None:
        return None
    return float(takedown.notice_deadline_hours)


def erlang_c(servers: int, load: FloatArray) -> FloatArray:
    """``C(c, a)``: the chance an arrival finds all ``servers`` busy in an M/M/c queue at
    offered load ``a`` (Erlangs, array); 1 at ``a ≥ c`` (it always waits)."""
    a = np.asarray(load, dtype=float)
    b = np.ones_like(a)  # Erlang B by its stable recursion
    for k in range(1, int(servers) + 1):
        b = a * b / (k + a * b)
    rho = a / float(servers)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = b / (1.0 - rho * (1.0 - b))
    return np.asarray(np.where(rho >= 1.0, 1.0, np.clip(c, 0.0, 1.0)))


def class_wait_beyond(
    higher: FloatArray,
    own: FloatArray,
    total: FloatArray,
    capacity: ReviewCapacity,
) -> FloatArray:
    """``P(W > d)`` of an item of one priority class in the non-preemptive queue (rates
    per hour: ``higher`` the classes served before it, ``own`` its class, ``total`` every
    item): ``C(c, λ/μ) · exp(−d cμ (1 − σ_hi)(1 − σ_own))``, 1 when ``σ_own ≥ 1`` (the
    module's docstring). No staff: 1 (nothing is reviewed)."""
    hi = np.asarray(higher, dtype=float)
    if capacity.desks <= 0:
        return np.ones_like(hi)
    servers, service_hours = capacity.desks, capacity.review_hours
    rate = capacity.reviews_per_hour
    sigma_hi = hi / rate
    sigma_own = (hi + np.asarray(own, dtype=float)) / rate
    busy = erlang_c(servers, np.asarray(total, dtype=float) * service_hours)
    drain = rate * np.clip(1.0 - sigma_hi, 0.0, None) * np.clip(1.0 - sigma_own, 0.0, None)
    late = busy * np.exp(-capacity.deadline_hours * drain)
    return np.asarray(np.where(sigma_own >= 1.0, 1.0, late))


def queue_rates(
    moderation: Moderation, thresholds: FloatArray, flows: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(λ_hi, λ_n, λ)`` per hour on the grid: orders and holds, notices, every item
    (flags too), from the posts a day reaching the platform (``flows``, per kind)."""
    n_k = np.asarray(flows, dtype=float)
    held = moderation.hold(thresholds)
    flagged = moderation.flag_share(thresholds)
    up = 1.0 - held
    higher = (held + up * moderation.monitor[None, :]) @ n_k / HOURS_PER_DAY
    notices = (up * moderation.notice[None, :]) @ n_k / HOURS_PER_DAY
    total = higher + notices + (up * flagged) @ n_k / HOURS_PER_DAY
    return np.asarray(higher), np.asarray(notices), np.asarray(total)


def late_notice_share(
    moderation: Moderation, thresholds: FloatArray, flows: FloatArray, capacity: ReviewCapacity
) -> FloatArray:
    """``L(t)`` on the grid: the chance a notice's review has not started by its deadline
    at the load threshold ``t`` creates (:func:`class_wait_beyond`)."""
    higher, notices, total = queue_rates(moderation, thresholds, flows)
    if not math.isfinite(capacity.deadline_hours):
        return np.zeros_like(total)
    return class_wait_beyond(higher, notices, total, capacity)


def late_removable(moderation: Moderation, thresholds: FloatArray, lines: FloatArray) -> FloatArray:
    """``(1 − h_k) n_k (1 − o_k) P(z > max(t, ℓ))`` on the grid, shape (grid, readings,
    kinds): the notified posts a review would take down, above a reading's line; times
    ``L(t)`` they are :math:`Y_k(t; ℓ)`, what late reviews add to an audit's count."""
    t = np.asarray(thresholds, dtype=float)[:, None, None]
    mu = moderation.reviewer_mean[None, None, :]
    line = np.asarray(lines, dtype=float)[None, :, :]
    held = moderation.hold(thresholds)[:, None, :]
    notice, monitor = moderation.notice[None, None, :], moderation.monitor[None, None, :]
    return np.asarray((1.0 - held) * notice * (1.0 - monitor) * ndtr(mu - np.maximum(t, line)))


def late_counted(
    moderation: Moderation,
    thresholds: FloatArray,
    lines: FloatArray,
    flows: FloatArray,
    capacity: ReviewCapacity,
) -> FloatArray:
    """``Y_k(t; ℓ) = late_removable × L(t)`` on the grid, shape (grid, readings, kinds):
    what notices late at the load each threshold creates add to an audit's count."""
    late = late_notice_share(moderation, thresholds, flows, capacity)
    removable = late_removable(moderation, thresholds, lines)
    return np.asarray(removable * late[:, None, None])


def policy_late(
    policy: PlatformPolicy, thresholds: FloatArray, capacity: ReviewCapacity | None
) -> FloatArray | None:
    """:func:`late_counted` for a platform's policy at ``thresholds`` (its counted flows,
    its readings of the line), for ``PlatformPolicy.target`` and ``expect_at``; None
    without a queue to weigh (``capacity`` None: no notice deadline) or under strict
    liability (the audit has no deadline to count)."""
    if capacity is None or policy.exposure.liability != NOTICE:
        return None
    flows = policy.flows if policy.flows is not None else np.zeros(len(policy.q))
    return late_counted(policy.moderation, thresholds, policy.reading_lines(), flows, capacity)
