"""What a post waiting for its review adds to an audit's count, at the load a candidate
threshold creates in the platform's own review queue (issue 16 items 3/5, issue 18;
docs/model.md S8, "Deadlines and the queue"): under notice liability the chance that a
notified post misses its take-down deadline; under strict liability the share of the
audit window that a post a review would take down stays up, waiting.

Under notice liability an audit counts notified prohibited posts still up at their
deadline ``d`` (S10). A notified post the reviewer would take down is still up at ``d``
when its review has not started by then. The queue is non-preemptive with priorities
order < hold < notice < flag < appeal (S6), served by a staff ``S`` (today's, or each
head count the threshold choice weighs: :mod:`simulator.model.staff_ahead`) at
``cμ = S × 60 / review_minutes`` reviews an hour. A threshold ``t`` sets the load: per
hour, from the posts ``N_k`` reaching the platform a day (its own count, S8),

    λ_hi(t) = Σ_k N_k [h_k(t) + (1 − h_k(t)) o_k] / 24          orders and holds (served first)
    λ_n(t)  = Σ_k N_k (1 − h_k(t)) n_k / 24                       notices
    λ(t)    = λ_hi(t) + λ_n(t) + Σ_k N_k (1 − h_k(t)) f_k(t) / 24  every item (flags too)

(``h_k`` held, ``f_k`` flagged if not held, ``n_k`` noticed, ``o_k`` ordered: S4, S5, S8),
and, where the platform holds posts, each approved held post's order, notice and (``m =
held_review_margin > 0``) flag too, ``a_k = h_k P(z ≤ t + m)`` of them: it is touched as a
post published at its approval (issue 17; without a filter nothing is added, the floats
of before).
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

the notified posts a review would take down but does not start in time, above the line;
plus ``n_k`` times the approved held posts a review would take down,
``h_k (1 − o_k) P(max(t, ℓ) < z ≤ t + m)`` (only where ``m > 0``;
:meth:`~simulator.model.moderation_statement.Moderation.held_removable`).

Under strict liability an audit counts every prohibited post still up in its window
(S10), and a post a review would take down is up while it waits. The rule is the weekly
staffing choice's (S6a, :func:`waiting_share`): the queue serves holds and orders first
(``F_h(t)`` a day) and then the published posts flagged or noticed (``F_p(t)``, the ones
the audit counts); of the latter's reviews over the next ``D`` days the staff serves the
share ``s`` the backlog ``B`` and ``F_h`` leave; an unserved review leaves its post up the
whole window ``T``, a served one for its wait behind the backlog ``W_B``
(:func:`backlog_wait_hours`) and the class's mean wait ``W_p`` (Cobham's, above, the
class behind the holds and orders; with one service rate the order of notices and
flags within it does not change their mean, Kleinrock's conservation law):

    m(t) = (1 − s(t)) + s(t) · min(1, (W_B(t) + W_p(t)) / T)
    s(t) = clip(((24 cμ − F_h) D − B) / (F_p D), 0, 1)
    W_p(t) = C(c, a) / (cμ (1 − σ_h)(1 − σ)),  σ_h = F_h / (24 cμ),  σ = (F_h + F_p) / (24 cμ)
    Z_k(t; ℓ) = (1 − h_k)(1 − o_k) v_k P(z > max(t, ℓ)) · m(t)

(``v_k = 1 − (1 − f_k)(1 − n_k)`` the chance a published post asks for a review): the
posts a review would take down, above the line, still waiting; plus the approved held
posts a review would take down (flagged for certain, ``m > 0``), which ask for one
review more than their hold's (:func:`reviews_asked_rows`; issue 17). ASSUMPTION: the audit
reads a post as up while it waits (S10), and a wait's share of the window is its mean
over ``T``. A stricter threshold sends more flags and holds, so ``s`` falls and the wait
grows: strictness past what the staff can serve leaves more posts up, not fewer.
(Until session 15 ``m`` was the all-item mean, first come first served, and a served
post did not wait behind the backlog.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from simulator.kernels import deadline_miss as kernel
from simulator.model.platform_policy import NOTICE, STRICT, Moderation, PlatformPolicy

if TYPE_CHECKING:
    from simulator.model.scenario import Scenario

FloatArray = NDArray[np.float64]

HOURS_PER_DAY = 24.0
#: Days between two staffing choices (S6a): the horizon over which a backlog competes
#: with the reviews asked for, in the staffing choice and the strict-liability wait alike.
STAFFING_PERIOD_DAYS = 7


@dataclass(frozen=True)
class ReviewCapacity:
    """The queue a platform's threshold choice weighs: a staff (today's, or one the
    threshold choice weighs, :mod:`simulator.model.staff_ahead`) on ``desks``
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


def erlang_c(servers: int | NDArray[np.int64], load: FloatArray) -> FloatArray:
    """``C(c, a)``: the chance an arrival finds all ``servers`` busy in an M/M/c queue at
    offered load ``a`` (Erlangs, array); 1 at ``a ≥ c`` (it always waits). ``servers``
    may be an array broadcasting with ``load`` (one queue per element): each element
    takes the recursion's steps up to its own ``c``, so its value is the one the scalar
    form gives it, bit for bit.

    Erlang B by its stable recursion, ``B_0 = 1``, ``B_k = a B_{k−1} / (k + a B_{k−1})``
    for ``k = 1 .. c`` (compiled: :func:`simulator.kernels.deadline_miss.erlang_b`),
    then ``C = B / (1 − ρ (1 − B))`` with ``ρ = a / c``."""
    a = np.asarray(load, dtype=float)
    desks = np.asarray(servers)
    shape = np.broadcast(a, desks).shape
    # Writable copies, one element each (broadcast views are read-only: another type,
    # another compiled kernel).
    b = kernel.erlang_b(
        np.array(np.broadcast_to(a, shape), dtype=np.float64).ravel(),
        np.array(np.broadcast_to(desks, shape), dtype=np.int64).ravel(),
    ).reshape(shape)
    rho = a / desks.astype(float)
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
    (flags too), from the posts a day reaching the platform (``flows``, per kind). An
    approved held post's order, notice and flag (``m > 0``) are items as a published
    post's (issue 17): ``h_k P(z ≤ t + m)`` times ``o_k``, ``n_k``, ``[m > 0]``."""
    n_k = np.asarray(flows, dtype=float)
    held = moderation.hold(thresholds)
    flagged = moderation.flag_share(thresholds)
    up = 1.0 - held
    first_rows = held + up * moderation.monitor[None, :]
    notice_rows = up * moderation.notice[None, :]
    flag_rows = up * flagged
    if moderation.prepublication_filter:  # without one: the floats of before issue 17
        # Approved held posts are touched as posts published then (issue 17): their
        # orders, notices and (m > 0) flags are items too.
        approved = moderation.approved(thresholds)
        first_rows = first_rows + approved * moderation.monitor[None, :]
        notice_rows = notice_rows + approved * moderation.notice[None, :]
        flag_rows = flag_rows + approved * moderation.held_flagged
    higher = first_rows @ n_k / HOURS_PER_DAY
    notices = notice_rows @ n_k / HOURS_PER_DAY
    total = higher + notices + flag_rows @ n_k / HOURS_PER_DAY
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
    ``L(t)`` they are :math:`Y_k(t; ℓ)`, what late reviews add to an audit's count. Plus
    the approved held posts noticed that a review would take down (issue 17; only where
    ``m > 0``): ``n_k`` times :meth:`~.moderation_statement.Moderation.held_removable`."""
    t = np.asarray(thresholds, dtype=float)[:, None, None]
    mu = moderation.reviewer_mean[None, None, :]
    line = np.asarray(lines, dtype=float)[None, :, :]
    held = moderation.hold(thresholds)[:, None, :]
    notice, monitor = moderation.notice[None, None, :], moderation.monitor[None, None, :]
    removable = (1.0 - held) * notice * (1.0 - monitor) * ndtr(mu - np.maximum(t, line))
    if not moderation.prepublication_filter:  # the floats of before issue 17
        return np.asarray(removable)
    return np.asarray(notice * moderation.held_removable(thresholds, lines) + removable)


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


@dataclass(frozen=True)
class WaitingLine:
    """The review queue as strict liability weighs it (S8): the staff as
    given on ``desks`` with ``review_hours`` of clock a review (S6), the items already
    waiting (``backlog``), the audit window ``window_hours`` (S10) and the days ``D`` over
    which the backlog competes with the reviews asked for (the staffing week, S6a)."""

    desks: int
    review_hours: float
    backlog: float
    window_hours: float
    period_days: float

    @property
    def reviews_per_day(self) -> float:
        """``24 cμ``: the reviews the staff serves a day at full load."""
        return HOURS_PER_DAY * self.desks / self.review_hours if self.desks > 0 else 0.0


def backlog_wait_hours(
    backlog: float | FloatArray,
    drain_per_day: FloatArray,
    published_per_day: FloatArray,
    served_days: FloatArray,
) -> FloatArray:
    """Mean wait (hours) behind the ``backlog`` of a published post served within the
    week, first come first served within its class: a post arriving ``x`` days in finds
    ``max(0, B − (R − F_p) x)`` items ahead, drained at ``R`` a day (``drain_per_day``,
    the capacity the reviews served first leave), averaged over the posts served, those
    arriving in ``[0, x*]`` (``served_days`` = ``s D``). A fluid approximation (the
    queue's own randomness is :func:`waiting_share`'s ``W_p``); 0 without a backlog.
    ``backlog`` may be an array broadcasting with the others (one per line)."""
    rate = np.asarray(drain_per_day, dtype=float)
    published = np.asarray(published_per_day, dtype=float)
    until = np.asarray(served_days, dtype=float)
    ahead = np.asarray(backlog, dtype=float)
    shape = np.broadcast(rate, published, until, ahead).shape
    if not np.any(ahead > 0.0):
        return np.zeros(shape)
    net = rate - published  # the backlog's net drain a day (negative: it grows)
    with np.errstate(invalid="ignore", divide="ignore"):
        clears = np.where(net > 0.0, ahead / net, np.inf)  # days until it is gone
        linear = (ahead - net * until / 2.0) / rate  # mean while it is never gone
        cleared = ahead * clears / (2.0 * rate * until)  # it goes before x*
        mean = np.where(clears >= until, linear, cleared)
        mean = np.where(until > 0.0, mean, ahead / rate)
    hours = np.where(rate > 0.0, mean, np.inf) * HOURS_PER_DAY
    return np.asarray(np.where(ahead > 0.0, hours, 0.0) * np.ones(shape))


def waiting_share(
    line: WaitingLine, published_per_day: FloatArray, first_per_day: FloatArray | float = 0.0
) -> FloatArray:
    """``m``: what an audit counts of a published post waiting for its review under
    strict liability, at ``published_per_day`` reviews a day of published posts
    (flagged or noticed, ``F_p``, array) behind ``first_per_day`` served before them
    (holds and orders, ``F_h``, S6): unserved reviews (``1 − s``) count whole, served
    ones ``min(1, (W_B + W_p) / T)``, ``W_B`` their wait behind the backlog
    (:func:`backlog_wait_hours`), ``W_p`` Cobham's mean wait of the published posts'
    class (for ever at a load of ``c`` or more). The capacity left after the backlog and
    the reviews served first serves the published posts. No staff: 1 (nothing is
    reviewed). With nothing served first and no backlog it is the M/M/c mean wait
    (Erlang C) of every item. :func:`waiting_share_by_line` for one line."""
    return waiting_share_by_line([line], published_per_day, first_per_day)[0]


def waiting_share_by_line(
    lines: Sequence[WaitingLine],
    published_per_day: FloatArray,
    first_per_day: FloatArray | float = 0.0,
) -> FloatArray:
    """:func:`waiting_share` for each of ``lines`` (the same reviews asked, other staff
    or backlog), shape ``(len(lines),) + published_per_day.shape``, in one pass: the
    head counts a platform weighs (S6a, S8) are a few numpy calls, not a few per line.
    Elementwise the same operations as one line at a time, so the same values."""
    published = np.asarray(published_per_day, dtype=float)
    first = np.broadcast_to(np.asarray(first_per_day, dtype=float), published.shape)
    axes = (slice(None),) + (None,) * published.ndim  # a line per row, the grid after

    def column(values: Sequence[float]) -> FloatArray:
        return np.asarray(values, dtype=float)[axes]

    desks: NDArray[np.int64] = np.asarray([line.desks for line in lines], dtype=np.int64)[axes]
    staffed = desks > 0
    review_hours = column([line.review_hours for line in lines])
    backlog = column([line.backlog for line in lines])
    window = column([line.window_hours for line in lines])
    period = column([line.period_days for line in lines])
    capacity = column([line.reviews_per_day for line in lines])
    # Lines without staff take a stand-in desk (their share is 1 below; no division by 0).
    desks_ = np.where(staffed, desks, 1)
    demand = published * period
    drain = capacity - first  # R: what the reviews served first leave, a day
    left = drain * period - backlog
    rate = desks_ / np.where(staffed, review_hours, 1.0)  # cμ, reviews an hour
    sigma_first = first / HOURS_PER_DAY / rate
    sigma_all = (first + published) / HOURS_PER_DAY / rate  # offered load / desks
    with np.errstate(invalid="ignore", divide="ignore"):
        served = np.where(demand > 0.0, np.clip(left / demand, 0.0, 1.0), 1.0)
        busy = erlang_c(desks_, sigma_all * desks_)
        mean_wait = busy / (rate * (1.0 - sigma_first) * (1.0 - sigma_all))  # hours
    behind = backlog_wait_hours(backlog, drain, published, served * period)
    waited = np.where(sigma_all < 1.0, np.minimum(1.0, (behind + mean_wait) / window), 1.0)
    share = (1.0 - served) + served * waited
    return np.asarray(np.where(staffed, share, 1.0))


def reviews_asked_rows(
    moderation: Moderation, thresholds: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The reviews a post of each kind asks for on the grid, (grid, kinds) each: served
    first (held, ``h_k``, or published and ordered, ``(1 − h_k) o_k``) and published,
    flagged or noticed and not ordered (``(1 − h_k)(1 − o_k) v_k``, with ``v_k = 1 −
    (1 − f_k(t))(1 − n_k)``); times the flows they are :func:`reviews_asked_by_class`.
    An approved held post (``a_k = h_k P(z ≤ t + m)``) asks for one review more than its
    hold's (issue 17): ``a_k o_k`` served first, ``a_k (1 − o_k)(1 − (1 − [m > 0])(1 −
    n_k))`` with the published posts'."""
    held = moderation.hold(thresholds)
    up = 1.0 - held
    monitor = moderation.monitor[None, :]
    asks = 1.0 - (1.0 - moderation.flag_share(thresholds)) * (1.0 - moderation.notice[None, :])
    first, published = held + up * monitor, up * (1.0 - monitor) * asks
    if not moderation.prepublication_filter:  # the floats of before issue 17
        return first, published
    # An approved held post asks for one more review (issue 17): its order's, served
    # first, else its flag's (m > 0) or notice's, as a published post's.
    approved = moderation.approved(thresholds)
    held_asks = 1.0 - (1.0 - moderation.held_flagged) * (1.0 - moderation.notice[None, :])
    return first + approved * monitor, published + approved * (1.0 - monitor) * held_asks


def reviews_asked_by_class(
    moderation: Moderation,
    thresholds: FloatArray,
    flows: FloatArray,
    rows: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """``(F_h(t), F_p(t))`` on the grid, reviews a day: those served first (held posts,
    and published posts a regulator orders: S6's priorities) and those of published
    posts flagged or noticed and not ordered, the posts a strict audit counts while they
    wait (``(1 − h_k)(1 − o_k) v_k``). Their sum is :func:`reviews_asked`. ``rows``: the
    grid's :func:`reviews_asked_rows`, if already made."""
    n_k = np.asarray(flows, dtype=float)
    first_rows, published_rows = (
        rows if rows is not None else reviews_asked_rows(moderation, thresholds)
    )
    return np.asarray(first_rows @ n_k), np.asarray(published_rows @ n_k)


def reviews_asked(
    moderation: Moderation,
    thresholds: FloatArray,
    flows: FloatArray,
    rows: tuple[FloatArray, FloatArray] | None = None,
) -> FloatArray:
    """``F(t)`` on the grid: reviews a day the posts reaching the platform (``flows``,
    per kind) ask for, held before publication or touched after it (flagged, noticed or
    ordered: S5's ``q_k``), ``F_h + F_p`` (:func:`reviews_asked_by_class`; ``rows`` as
    it takes them). One review per touched post: a later item about a post already down
    is dropped unreviewed (S7); the second review of a post a first one kept up is left
    out."""
    first, published = reviews_asked_by_class(moderation, thresholds, flows, rows)
    return np.asarray(first + published)


def waiting_removable(
    moderation: Moderation, thresholds: FloatArray, lines: FloatArray
) -> FloatArray:
    """``(1 − h_k)(1 − o_k) v_k P(z > max(t, ℓ))`` on the grid, shape (grid, readings,
    kinds): the published posts a review would take down, above a reading's line; times
    ``m(t)`` they are :math:`Z_k(t; ℓ)`, what waiting reviews add to a strict audit's count.
    Plus the approved held posts a review would take down (issue 17; only where ``m > 0``,
    flagged for certain): :meth:`~.moderation_statement.Moderation.held_removable`."""
    t = np.asarray(thresholds, dtype=float)[:, None, None]
    mu = moderation.reviewer_mean[None, None, :]
    line = np.asarray(lines, dtype=float)[None, :, :]
    held = moderation.hold(thresholds)[:, None, :]
    flag = moderation.flag_share(thresholds)[:, None, :]
    notice, monitor = moderation.notice[None, None, :], moderation.monitor[None, None, :]
    reviewed = 1.0 - (1.0 - flag) * (1.0 - notice)
    removable = (1.0 - held) * (1.0 - monitor) * reviewed * ndtr(mu - np.maximum(t, line))
    if not moderation.prepublication_filter:  # the floats of before issue 17
        return np.asarray(removable)
    # Approved held posts a review would take down exist only where m > 0, and then
    # their flag is certain: Moderation.held_removable as it stands.
    return np.asarray(moderation.held_removable(thresholds, lines) + removable)


def waiting_counted(
    moderation: Moderation,
    thresholds: FloatArray,
    lines: FloatArray,
    flows: FloatArray,
    line: WaitingLine,
) -> FloatArray:
    """``Z_k(t; ℓ) = waiting_removable × m(t)`` on the grid, shape (grid, readings, kinds):
    what reviews still waiting at the load each threshold creates add to a strict audit's
    count."""
    return waiting_counted_by_line(moderation, thresholds, lines, flows, [line])[0]


@dataclass(frozen=True)
class WaitingTables:
    """What strict liability's waiting rule reads of the grid that is fixed for a run
    (the moderation, the grid, the believed lines): :func:`reviews_asked_rows` and
    :func:`waiting_removable`. Made once a run for the policy's grid
    (``PlatformPolicy.grid_table``, :func:`policy_waiting_tables`)."""

    rows: tuple[FloatArray, FloatArray]
    removable: FloatArray

    @staticmethod
    def of(moderation: Moderation, thresholds: FloatArray, lines: FloatArray) -> WaitingTables:
        return WaitingTables(
            reviews_asked_rows(moderation, thresholds),
            waiting_removable(moderation, thresholds, lines),
        )


def waiting_counted_by_line(
    moderation: Moderation,
    thresholds: FloatArray,
    lines: FloatArray,
    flows: FloatArray,
    queues: Sequence[WaitingLine],
    tables: WaitingTables | None = None,
) -> FloatArray:
    """:func:`waiting_counted` for each of ``queues`` (the same flows and thresholds, other
    staff), shape (queues, grid, readings, kinds): the removable posts and the reviews
    asked are computed once, the waiting share per line. ``tables``: the grid's
    :class:`WaitingTables`, if already made (the same values)."""
    if tables is None:
        tables = WaitingTables.of(moderation, thresholds, lines)
    first, published = reviews_asked_by_class(moderation, thresholds, flows, tables.rows)
    shares = waiting_share_by_line(queues, published, first)  # (queues, grid)
    return np.asarray(tables.removable[None] * shares[:, :, None, None])


def policy_asked_rows(policy: PlatformPolicy) -> tuple[FloatArray, FloatArray]:
    """:func:`reviews_asked_rows` on the policy's grid, made once a run."""
    rows: tuple[FloatArray, FloatArray] = policy.grid_table(
        "asked_rows", lambda: reviews_asked_rows(policy.moderation, policy.thresholds)
    )
    return rows


def policy_waiting_tables(policy: PlatformPolicy, thresholds: FloatArray) -> WaitingTables:
    """:class:`WaitingTables` at ``thresholds``: the policy's own, made once a run, when
    they are its grid; else made now."""
    if thresholds is not policy.thresholds:
        return WaitingTables.of(policy.moderation, thresholds, policy.reading_lines())
    removable: FloatArray = policy.grid_table(
        "waiting_removable",
        lambda: waiting_removable(policy.moderation, policy.thresholds, policy.reading_lines()),
    )
    return WaitingTables(policy_asked_rows(policy), removable)


def policy_late(
    policy: PlatformPolicy,
    thresholds: FloatArray,
    queue: ReviewCapacity | WaitingLine | None,
) -> FloatArray | None:
    """What reviews the queue has not done add to an audit's count at ``thresholds`` (its
    counted flows, its readings of the line): :func:`late_counted` under notice liability
    with a deadline (:class:`ReviewCapacity`), :func:`waiting_counted` under strict
    liability (:class:`WaitingLine`); for ``PlatformPolicy.expect_at`` at today's staff,
    and for the threshold choice at each head count it weighs
    (:func:`simulator.model.staff_ahead.threshold_with_staff`, docs/model.md S8); None
    without a queue to weigh."""
    if queue is None:
        return None
    flows = policy.flows if policy.flows is not None else np.zeros(len(policy.q))
    lines = policy.reading_lines()
    liability = policy.exposure.liability
    if liability == NOTICE and isinstance(queue, ReviewCapacity):
        return late_counted(policy.moderation, thresholds, lines, flows, queue)
    if liability == STRICT and isinstance(queue, WaitingLine):
        tables = policy_waiting_tables(policy, thresholds)
        return waiting_counted_by_line(
            policy.moderation, thresholds, lines, flows, [queue], tables
        )[0]
    return None


def policy_late_by_queue(
    policy: PlatformPolicy,
    thresholds: FloatArray,
    queues: Sequence[ReviewCapacity | WaitingLine | None],
) -> FloatArray | None:
    """:func:`policy_late` for each of ``queues``, shape (queues, grid, readings, kinds);
    None where none adds anything. Strict liability's lines share their removable posts
    (:func:`waiting_counted_by_line`)."""
    if policy.exposure.liability == STRICT and all(isinstance(q, WaitingLine) for q in queues):
        flows = policy.flows if policy.flows is not None else np.zeros(len(policy.q))
        waiting = [q for q in queues if isinstance(q, WaitingLine)]
        return waiting_counted_by_line(
            policy.moderation, thresholds, policy.reading_lines(), flows, waiting,
            policy_waiting_tables(policy, thresholds),
        )  # fmt: skip
    lates = [policy_late(policy, thresholds, queue) for queue in queues]
    if all(late is None for late in lates):
        return None
    shape = next(late for late in lates if late is not None).shape
    return np.stack([np.zeros(shape) if late is None else late for late in lates])
