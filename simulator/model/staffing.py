"""How many reviewers a platform chooses to employ (issue 16 item 3; docs/model.md S6a).

With ``platforms.staffing = "chosen"`` a platform sets its review staff once a week to
the head count ``S`` that minimises its expected cost over the coming week:

    C(S) = ω · S + ρ · W_{L,c}(P(S))                          currency per day
    P(S) = Σ_j w_j P( Poisson(μ_j(S)) > tolerance )          (platform_policy, S8, S10)
    μ_j(S) = κ̂ · n · Σ_k N_k [X_k(t; ℓ_kj) + m(S) · u_kj(t)] / Σ_k N_k p_k(t)
    m(S) = (1 − s(S)) + s(S) · min(1, (W_B + W_p(S)) / T)     strict liability
    m(S) = L(S) = P(W_notice(S) > d)                           notice liability, deadline d
    s(S) = min(1, max(0, ((S · c − F_h) · D − B) / (F_p · D)))   published posts served in time
    F    = F_h + F_p                                            reviews asked for per day

``m(S)`` is what of a post waiting for its review an audit counts. Under strict liability
the share of an audit window ``T`` (``regulator.audit_window_days``) it stays up: unserved
reviews all of it, served ones their wait, ``W_B`` behind the backlog and ``W_p`` the
published posts' mean wait behind
the holds and orders served first (``F_h``; ``F_p`` the published posts flagged or
noticed; Cobham's priority-class mean, :mod:`simulator.model.deadline_miss`; the backlog
and ``F_h`` enter through ``s``: the capacity they take) (ASSUMPTION: the audit reads a post
as up while it waits; S10). Under notice liability the audit counts a notified post kept
past its deadline ``d`` (``rules.takedown.notice_deadline_hours``, S10): notices are
served before flags and the backlog (S6), so ``L(S)`` is the notices' own chance of
waiting past ``d`` at the threshold's load, the rule the threshold choice weighs too
(:mod:`simulator.model.deadline_miss`, S8: Cobham's priority-class wait, the Erlang C
tail with one class); a shorter deadline asks for more staff. (Before 2026-12-03 it was
the Erlang C tail of every review first come first served, ``(1 − s) + s P(W_q > d)``,
which had notices wait behind flags as they never do: many times the staff they need.)
``ω`` is ``reviewer_cost_per_day`` × ``represented_users / users`` (the represented
platform's wage bill per reviewer of the slice, :mod:`simulator.model.slice_scale`);
``c = 24 × 60 / review_minutes`` the reviews one
full-time reviewer serves a day; ``D`` = 7 days until the next choice; ``B`` the review
items waiting (the backlog); ``v_k(t)`` the share of kind ``k``'s posts that ask for a
review (held, or flagged, noticed or ordered:
:func:`~simulator.model.deadline_miss.reviews_asked`) and ``u_k(t)`` the share that a
review would take down after publication (flagged or noticed, and above the reviewer's
bar). A review that is not served in time leaves its post up, where an audit counts it
(strict liability: all of ``u_k``; notice liability: the noticed part). Everything else
(``x_k``, ``p_k``, ``κ̂``, the readings ``j`` of the line with its score ``ℓ_kj``
above which a post counts, ``u_kj`` the part of ``u_k`` above it, the Poisson tail and
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

Both terms are per day and the penalty reads only shares of the posts; the wages are
those of the platform the scenario stands for (``ω`` is the slice's wage times
``represented_users / users``, :mod:`simulator.model.slice_scale`), so the chosen staff per
100,000 users does not depend on how many users are simulated (docs/model.md S8,
"Scale-free"; before session 15 a smaller slice weighed a smaller wage bill against the
same penalties).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from simulator.model import deadline_miss
from simulator.model import platform_policy as policy_rules
from simulator.model.deadline_miss import STAFFING_PERIOD_DAYS, notice_deadline
from simulator.model.platforms import CHOSEN_STAFF, review_servers, review_staff
from simulator.model.staff_ahead import needed_staff, week_bounds
from simulator.model.staff_count import STAFF_DECIMALS

if TYPE_CHECKING:
    from simulator.model.platforms import PlatformState
    from simulator.model.scenario import Scenario

FloatArray = NDArray[np.float64]

#: Points of the head-count grid.
STAFF_GRID_POINTS = 201
#: How often the grid's top may double when the cheapest staff lies at its end.
MAX_GRID_DOUBLINGS = 8
#: The staffing modes (``platforms.staffing``).
FIXED, CHOSEN = "fixed", CHOSEN_STAFF
STAFFING_MODES = (FIXED, CHOSEN)


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
        at = np.array([self.threshold])
        return float(deadline_miss.reviews_asked(self.policy.moderation, at, self.flows)[0])

    def needed_staff(self) -> float:
        """Staff that serves the week's reviews and the backlog within the week."""
        return float(
            needed_staff(
                self.reviews_per_day(), self.backlog, self.reviews_per_reviewer_day,
                self.period_days,
            )
        )  # fmt: skip


def missed_share(staff: FloatArray, inputs: StaffingInputs) -> FloatArray:
    """``m(S)``: what an audit counts of a post waiting for its review, per head count.
    Under strict liability the share of the audit window it stays up, the rule the
    audit's prediction weighs (:func:`simulator.model.deadline_miss.waiting_share`):
    unserved reviews (``1 − s``, the backlog and the holds and orders taking capacity
    first) count whole, served ones ``min(1, (W_B + W_p) / window)`` (``ceil(S)`` desks as
    platforms.review_servers; for ever at a load of 1 or more). With a notice deadline
    ``d`` (notice liability: the audit counts a notified post kept past it, S10) it is
    the notices' own chance of waiting past ``d``; notices are served before flags and
    the backlog (S6), so this is :func:`simulator.model.deadline_miss.class_wait_beyond`
    at the threshold's load, the rule the threshold choice weighs (S8)."""
    staff = np.asarray(staff, dtype=float)
    if inputs.notice_deadline_hours is not None:
        return _late_notices(staff, inputs, inputs.notice_deadline_hours)
    if inputs.policy.exposure.liability != deadline_miss.STRICT:
        # Notice liability without a deadline: no audit counts a post waiting (the
        # threshold choice weighs no queue there either: PlatformState.review_capacity).
        return np.zeros(len(staff))
    at = np.array([inputs.threshold])
    first, published = deadline_miss.reviews_asked_by_class(
        inputs.policy.moderation, at, inputs.flows
    )
    lines = [
        deadline_miss.WaitingLine(
            *review_servers(float(head), inputs.review_minutes),
            inputs.backlog, inputs.window_hours, inputs.period_days,
        )
        for head in staff
    ]  # fmt: skip
    return np.asarray(deadline_miss.waiting_share_by_line(lines, published, first)[:, 0])


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
    # The posts a review would take down, above a reading's line: under notice liability
    # the noticed ones (only they count against the platform), else every reviewed one.
    if liability == policy_rules.NOTICE:
        removable = deadline_miss.late_removable(moderation, at, lines)[0]
    else:
        removable = deadline_miss.waiting_removable(moderation, at, lines)[0]
    missed = missed_share(staff, inputs)  # (grid,)
    counted_grid = counted[None] + missed[:, None, None] * removable[None]
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
    lowest, ceiling = week_bounds(current, floor, max_growth)
    return max(lowest, min(pick, ceiling))


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
        backlog=platform.review_backlog,
        reviews_per_reviewer_day=24.0 * 60.0 / spec.review_minutes,
        reviewer_cost_per_day=float(platform.wage_bill(1.0)),  # the represented platform's
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
