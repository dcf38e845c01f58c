"""How many reviewers a platform chooses to employ (issue 16 item 3; docs/model.md S6a).

With ``platforms.staffing = "chosen"`` a platform sets its review staff once a week to
the head count ``S`` that minimises its expected cost over the coming week:

    C(S) = ω · S + ρ · W_{L,c}(P(S))                          currency per day
    P(S) = Σ_j w_j P( Poisson(μ_j(S)) > tolerance )          (platform_policy, S8, S10)
    μ_j(S) = κ̂ · n · Σ_k N_k [X_k(t; ℓ_kj) + m(S) · u_kj(t)] / Σ_k N_k p_k(t)
    m(S) = (1 − s(S)) + s(S) · min(1, W_q(S) / T)             strict liability
    m(S) = L(S) = P(W_notice(S) > d)                           notice liability, deadline d
    s(S) = min(1, max(0, (S · c · D − B) / (F · D)))           share of flags served in time
    F    = Σ_k N_k · v_k(t)                                     reviews asked for per day

``m(S)`` is what of a post waiting for its review an audit counts. Under strict liability
the share of an audit window ``T`` (``regulator.audit_window_days``) it stays up: unserved
reviews all of it, served ones their wait, the M/M/c mean wait ``W_q`` (Erlang C; the
backlog enters through ``s``: the capacity it takes) (ASSUMPTION: the audit reads a post
as up while it waits; S10). Under notice liability the audit counts a notified post kept
past its deadline ``d`` (``rules.takedown.notice_deadline_hours``, S10): notices are
served before flags and the backlog (S6), so ``L(S)`` is the notices' own chance of
waiting past ``d`` at the threshold's load, the rule the threshold choice weighs too
(:mod:`simulator.model.deadline_miss`, S8: Cobham's priority-class wait, the Erlang C
tail with one class); a shorter deadline asks for more staff. (Before 2026-12-03 it was
the Erlang C tail of every review first come first served, ``(1 − s) + s P(W_q > d)``,
which had notices wait behind flags as they never do: many times the staff they need.)
``ω`` is ``reviewer_cost_per_day``; ``c = 24 × 60 / review_minutes`` the reviews one
full-time reviewer serves a day; ``D`` = 7 days until the next choice; ``B`` the review
items waiting (the backlog); ``v_k(t)`` the share of kind ``k``'s posts that ask for a
review (held, flagged or noticed) and ``u_k(t)`` the share that a review would take down
after publication (flagged or noticed, and above the reviewer's bar). A review that is
not served in time leaves its post up, where an audit counts it (strict liability: all
of ``u_k``; notice liability: the noticed part). Everything else (``x_k``, ``p_k``,
``κ̂``, the readings ``j`` of the line with its score ``ℓ_kj`` above which a post counts,
``u_kj`` the part of ``u_k`` above it, the Poisson tail and
``ρ W``, the ladder ahead as a daily amount) is the expected penalty of
:mod:`simulator.model.platform_policy`, called, not copied.

``C`` is evaluated on a grid of head counts between the floor (the shipped
``reviewers_per_100k_users``: the staff a platform keeps whatever the weekly numbers say,
so the rates fitted to C2 stay where they were fitted) and twice the staff that serves
the week's flags and the backlog (doubled while the cheapest point is at the top); among
equal costs the smallest staff is chosen (an
idle reviewer costs ``w``). The head count can rise at most by ``max_staff_growth`` a
week (a share of the current staff; ASSUMPTION, informed by L13: Toutiao,
with about 4,000 reviewers, set out to hire 2,000 more, half again, the week after a
24-hour suspension), and fall at most as fast (``current / (1 + max_staff_growth)``:
reviewers are not laid off in a calm week and rehired the next), never below the floor.

Both terms are per day and the penalty reads only shares of the posts, so the chosen
staff per 100,000 users does not depend on how many users are simulated (``F`` and
``B`` scale with the users, and so does the staff that serves them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from simulator.model import deadline_miss
from simulator.model import platform_policy as policy_rules
from simulator.model.deadline_miss import notice_deadline
from simulator.model.platforms import STAFF_DECIMALS, review_servers, review_staff
from simulator.model.review_queue import erlang_c_mean_wait_hours

if TYPE_CHECKING:
    from simulator.model.platforms import PlatformState
    from simulator.model.scenario import Scenario

FloatArray = NDArray[np.float64]

#: Days between two staffing choices (the week the choice is made for).
STAFFING_PERIOD_DAYS = 7
#: Points of the head-count grid.
STAFF_GRID_POINTS = 201
#: How often the grid's top may double when the cheapest staff lies at its end.
MAX_GRID_DOUBLINGS = 8
#: The staffing modes (``platforms.staffing``).
FIXED, CHOSEN = "fixed", "chosen"
STAFFING_MODES = (FIXED, CHOSEN)


def review_shares(
    moderation: policy_rules.Moderation, threshold: float
) -> tuple[FloatArray, FloatArray]:
    """``(v_k, u_k)`` at ``threshold``: the share of each kind's posts that asks for a
    review (held before publication, or flagged or noticed after it) and the share a
    served review takes down after publication (what stays up if it is not served)."""
    held = moderation.hold(np.array([float(threshold)]))[0]
    flag = _flag_share(moderation, threshold)
    reviewed = 1.0 - (1.0 - flag) * (1.0 - moderation.notice)
    passes = ndtr(moderation.reviewer_mean - threshold)
    asks = held + (1.0 - held) * reviewed
    takes_down = (1.0 - held) * (1.0 - moderation.monitor) * reviewed * passes
    return np.asarray(asks, dtype=float), np.asarray(takes_down, dtype=float)


@dataclass(frozen=True)
class StaffingInputs:
    """What the week's staffing choice reads (:func:`staffing_cost`)."""

    policy: policy_rules.PlatformPolicy
    threshold: float
    backlog: float  # review items waiting (submitted and not started)
    reviews_per_reviewer_day: float  # c
    reviewer_cost_per_day: float  # ω
    ladder: policy_rules.Ladder  # the penalty ladder ahead, as the policy weighs it (S8)
    window_hours: float = 7.0 * 24.0  # what an audit reads: the posts of this window
    review_minutes: float = 1.0
    #: Notice liability's deadline (hours from the notice, S10); None: the window rule.
    notice_deadline_hours: float | None = None
    period_days: float = STAFFING_PERIOD_DAYS

    @property
    def flows(self) -> FloatArray:
        flows = self.policy.flows
        return np.zeros(len(self.policy.q)) if flows is None else np.asarray(flows, dtype=float)

    def reviews_per_day(self) -> float:
        """``F``: reviews the platform's flows ask for per day at its threshold."""
        asks, _ = review_shares(self.policy.moderation, self.threshold)
        return float(asks @ self.flows)

    def needed_staff(self) -> float:
        """Staff that serves the week's reviews and the backlog within the week."""
        work = self.reviews_per_day() * self.period_days + self.backlog
        return work / (self.reviews_per_reviewer_day * self.period_days)


def served_share(staff: FloatArray, inputs: StaffingInputs) -> FloatArray:
    """``s(S)``: the share of the week's reviews served within the week, per head count."""
    demand = inputs.reviews_per_day() * inputs.period_days
    capacity = np.asarray(staff, dtype=float) * inputs.reviews_per_reviewer_day * inputs.period_days
    if demand <= 0.0:
        return np.ones_like(capacity)
    return np.asarray(np.clip((capacity - inputs.backlog) / demand, 0.0, 1.0))


def missed_share(staff: FloatArray, inputs: StaffingInputs) -> FloatArray:
    """``m(S)``: what an audit counts of a post waiting for its review, averaged over the
    week's reviews. Unserved reviews (``1 − s``) count whole; served ones wait in an M/M/c
    queue (Erlang C, ``ceil(S)`` desks as platforms.review_servers; for ever at a load of 1
    or more) and count ``min(1, W_q / window)`` (the mean wait's share of the audit window:
    strict liability). The backlog takes capacity (:func:`served_share`). With a notice
    deadline ``d`` (notice liability: the audit counts a notified post kept past it, S10)
    it is the notices' own chance of waiting past ``d``; notices are served before flags
    and the backlog (S6), so this is
    :func:`simulator.model.deadline_miss.class_wait_beyond` at the threshold's load, the
    rule the threshold choice weighs (S8)."""
    staff = np.asarray(staff, dtype=float)
    if inputs.notice_deadline_hours is not None:
        return _late_notices(staff, inputs, inputs.notice_deadline_hours)
    served = served_share(staff, inputs)
    rate = inputs.reviews_per_day() / 24.0
    waited = np.ones_like(staff)
    for g, head in enumerate(staff):
        capacity_per_hour = head * inputs.reviews_per_reviewer_day / 24.0
        if head <= 0.0 or capacity_per_hour <= rate:
            continue
        desks, service_hours = review_servers(float(head), inputs.review_minutes)
        if rate <= 0.0:
            waited[g] = 0.0
        else:
            wait = erlang_c_mean_wait_hours(rate, service_hours, desks)
            waited[g] = min(1.0, wait / inputs.window_hours)
    return np.asarray((1.0 - served) + served * waited)


def _late_notices(staff: FloatArray, inputs: StaffingInputs, deadline: float) -> FloatArray:
    """``L(S)``: the chance a notice's review has not started by ``deadline`` with ``S``
    reviewers, at the load of the platform's threshold (:mod:`.deadline_miss`)."""
    at = np.array([inputs.threshold])
    rates = deadline_miss.queue_rates(inputs.policy.moderation, at, inputs.flows)
    late = np.empty(len(staff))
    for g, head in enumerate(staff):
        desks, hours = review_servers(float(head), inputs.review_minutes)
        capacity = deadline_miss.ReviewCapacity(desks, hours, deadline)
        late[g] = deadline_miss.class_wait_beyond(*rates, capacity)[0]
    return late


def staffing_cost(staff: FloatArray, inputs: StaffingInputs) -> tuple[FloatArray, FloatArray]:
    """``(C(S), P(S))`` per head count in ``staff``: wages plus the expected penalty per
    day (:func:`~simulator.model.platform_policy.expected_daily_cost` with no goodwill
    term: staff does not change what the reviewers decide, only whether they get to it)."""
    policy = inputs.policy
    moderation = policy.moderation
    at = np.array([inputs.threshold])
    liability = policy.exposure.liability
    lines = policy.reading_lines()  # (readings, kinds): the believed line (S8)
    counted = moderation.counted(at, liability, lines)[0]
    published = moderation.published(at)
    _, takes_down = review_shares(moderation, inputs.threshold)
    if liability == policy_rules.NOTICE:
        # Only noticed posts count against the platform: the unserved noticed part.
        noticed = moderation.notice / np.maximum(
            1.0 - (1.0 - _flag_share(moderation, inputs.threshold)) * (1.0 - moderation.notice),
            1e-300,
        )
        takes_down = takes_down * np.clip(noticed, 0.0, 1.0)
    missed = missed_share(staff, inputs)  # (grid,)
    # A post a review would take down counts under a reading when its score is above
    # the reading's line too: the share of those above max(t, ℓ) among those above t.
    mu = moderation.reviewer_mean[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        beyond = ndtr(mu - np.maximum(inputs.threshold, lines)) / np.maximum(
            ndtr(mu - inputs.threshold), 1e-300
        )
    counted_grid = counted[None] + missed[:, None, None] * (takes_down[None, :] * beyond)[None]
    flows = inputs.flows
    violation = policy.exposure.violation(
        flows, counted_grid, np.repeat(published, len(missed), axis=0), policy.belief.detection,
        policy.reading_weights(),
    )  # fmt: skip
    penalty = policy_rules.expected_daily_cost(
        np.zeros((len(missed), len(policy.q))), violation, flows, policy.q, 0.0,
        policy.belief.audits_per_day, inputs.ladder,
    )  # fmt: skip
    wages = inputs.reviewer_cost_per_day * np.asarray(staff, dtype=float)
    return np.asarray(wages + penalty), violation


def _flag_share(moderation: policy_rules.Moderation, threshold: float) -> FloatArray:
    """P(the filter flags a published post | not held), per kind (as Moderation.removal)."""
    held = moderation.hold(np.array([threshold]))[0]
    above_flag = ndtr(moderation.classifier_mean - (threshold + moderation.flag_margin))
    with np.errstate(invalid="ignore", divide="ignore"):
        flag = np.where(held < 1.0, (above_flag - held) / (1.0 - held), 0.0)
    return np.asarray(np.clip(flag, 0.0, 1.0))


def chosen_staff(inputs: StaffingInputs, current: float, floor: float, max_growth: float) -> float:
    """The week's head count: the cheapest point of :func:`staffing_cost` on a grid from
    ``floor`` to ``max(floor, 2 × needed_staff)`` (ties: the smallest), then no more
    than ``current × (1 + max_growth)`` and no less than ``floor``."""
    top = max(floor, 2.0 * inputs.needed_staff(), 1e-9)
    for _ in range(MAX_GRID_DOUBLINGS):
        grid = np.linspace(floor, top, STAFF_GRID_POINTS)
        cost, _ = staffing_cost(grid, inputs)
        best = float(cost.min())
        pick = float(grid[np.flatnonzero(cost <= best + 1e-12 * max(1.0, abs(best)))[0]])
        if pick < top:
            break
        top *= 2.0  # the cheapest staff is at the grid's end: look further
    ceiling = max(current, floor) * (1.0 + max_growth)
    lowest = current / (1.0 + max_growth)  # staff leaves as slowly as it comes
    return max(floor, lowest, min(pick, ceiling))


def update_staff(platform: PlatformState, scenario: Scenario) -> None:
    """The week's staffing choice of ``platform`` (``staffing = "chosen"``, under a
    policy): :func:`chosen_staff` from its flows, threshold, queue and ladder; the queue
    gets the new head count (platforms.review_servers, never fewer desks)."""
    if platform.policy is None or platform.spec.staffing != CHOSEN:
        return
    spec = platform.spec
    inputs = StaffingInputs(
        policy=platform.policy,
        threshold=platform.threshold,
        backlog=float(platform.queue.waiting + platform.queue.pending),
        reviews_per_reviewer_day=24.0 * 60.0 / spec.review_minutes,
        reviewer_cost_per_day=spec.reviewer_cost_per_day,
        ladder=platform.ladder_ahead(scenario),
        window_hours=scenario.regulator.audit_window_days * 24.0,
        review_minutes=spec.review_minutes,
        notice_deadline_hours=notice_deadline(scenario),
    )
    floor = review_staff(scenario, spec)
    staff = round(
        chosen_staff(inputs, platform.staff, floor, spec.max_staff_growth), STAFF_DECIMALS
    )
    if staff == platform.staff or staff <= 0.0:
        return
    servers, _ = review_servers(staff, spec.review_minutes)
    servers = max(servers, platform.queue.servers)
    # More desks than reviewers: each at work staff/desks of the time (review_servers).
    platform.queue.set_capacity(servers, spec.review_minutes / 60.0 * servers / staff)
    platform.staff = staff
