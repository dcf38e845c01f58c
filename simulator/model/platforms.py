"""Platforms: moderation policy, how it adapts to penalties, money and licence status.

Scores follow signal-detection theory: a post of kind ``k`` looks ``N(mean_k, 1)``
"prohibited" to a classifier or a reviewer, and an actor acts on it when the score
exceeds a threshold. Lowering the threshold catches more prohibited posts and more
lawful ones with them, so collateral removal comes out of the threshold a platform
chooses, not out of a parameter. Strictness is the threshold read as a probability:
the share of posts with score ``N(0, 1)`` it would act on.

Each day a platform moves its threshold towards the one that minimises its expected
daily cost (:mod:`simulator.model.platform_policy`): goodwill lost on lawful posts it
takes down, plus the penalty it expects per audit, the chance that an audit finds more
violations than tolerated times the next rung of the ladder. Nothing fines over-removal,
and under a vague line the platform cannot tell which lawful posts the regulator would
count (the regulator counts only what the law prohibits), so collateral censorship comes
out of that trade-off.

Equations (docs/model.md, 3.3 Submodels S4, S8 and S9): the threshold of strictness
``s`` is ``Phi^-1(1 - s)`` (:func:`strictness_to_threshold`); a kind of score mean ``m``
exceeds threshold ``t`` with probability ``1 - Phi(t - m)`` (:func:`exceed_probability`);
a penalty step costs its fine, the revenue lost while suspended, or the platform's value
(:func:`penalty_value`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from simulator.kinds import ContentKind
from simulator.model import deadline_miss, slice_scale, staff_ahead
from simulator.model import platform_policy as policy_rules
from simulator.model.platform_policy import PlatformPolicy
from simulator.model.review_arrays import ArrayReviewQueue
from simulator.model.review_queue import ReviewQueue
from simulator.model.scenario import PerKindScore, Scenario
from simulator.model.scenario import Platform as PlatformSpec
from simulator.model.staff_count import staff_for

FloatArray = NDArray[np.floating]

#: Strictness is kept this far from 0 and 1 so thresholds stay finite.
STRICTNESS_EPSILON = 1e-12


#: ``platforms.staffing`` of a platform that chooses its head count each week (S6a).
CHOSEN_STAFF = "chosen"


def review_staff(scenario: Scenario, spec: PlatformSpec) -> float:
    """Full-time reviewers of platform ``spec`` (docs/model.md S6, "Staff"):
    ``reviewers_per_100k_users × population.users × market_share / 100,000``, the
    platform's expected users at the start; with ``staffing = "chosen"`` the start and
    the floor of its weekly choice (:mod:`simulator.model.staffing`, S6a)."""
    return staff_for(spec.reviewers_per_100k_users, scenario.population.users * spec.market_share)


def review_servers(staff: float, review_minutes: float) -> tuple[int, float]:
    """The review queue's servers and mean service time (hours) for ``staff`` full-time
    reviewers whose reviews take ``review_minutes`` of work each.

    ``ceil(staff)`` reviewers each at work ``staff / ceil(staff)`` of the time: a review
    takes ``review_minutes × ceil(staff) / staff`` of clock time, so the queue serves
    exactly ``staff × 60 / review_minutes`` reviews an hour at full load, whatever the
    fraction (6.4 reviewers are not rounded to 6 or 7, and a slice of 2,000 users keeps
    the load per reviewer of the whole). A whole number of reviewers is served as before.
    No staff: no servers (nothing is ever reviewed)."""
    return part_time_servers(staff, review_minutes / 60.0)


def part_time_servers(staff: float, work_hours: float) -> tuple[int, float]:
    """A multi-server queue's servers and mean clock time per item (hours) for ``staff``
    full-time workers whose items take ``work_hours`` of work each: ``ceil(staff)``
    servers, each at work ``staff / ceil(staff)`` of the time, so an item takes
    ``work_hours × ceil(staff) / staff`` of clock time and the queue serves exactly
    ``staff / work_hours`` items an hour at full load (review staff, police
    investigators). No staff: no servers."""
    if staff <= 0.0:
        return 0, work_hours
    servers = math.ceil(staff)
    return servers, work_hours * (servers / staff)


def strictness_to_threshold(strictness: float) -> float:
    """Score threshold for a strictness in [0, 1]: ``Phi^-1(1 - strictness)``.

    Strictness 0 and 1 (allowed in scenarios) would give infinite thresholds, and
    ``inf - inf`` turns a platform's daily adaptation into NaN: they are read as
    ``1e-12`` and ``1 - 1e-12`` (thresholds of about +-7, i.e. act on nothing / everything).
    """
    return float(-ndtri(min(max(strictness, STRICTNESS_EPSILON), 1.0 - STRICTNESS_EPSILON)))


def threshold_to_strictness(threshold: float) -> float:
    """Strictness (share of ``N(0,1)`` scores above) of a score threshold."""
    return float(ndtr(-threshold))


def exceed_probability(score_means: FloatArray | Sequence[float], threshold: float) -> FloatArray:
    """P(score > threshold) for scores ``N(mean, 1)``, one value per mean."""
    return np.asarray(ndtr(np.asarray(score_means, dtype=float) - threshold), dtype=float)


def penalty_value(
    action: str,
    amount: float,
    days: float,
    revenue_per_day: float,
    value: float,
    warning_cost: float,
    turnover_share: float = 0.0,
) -> float:
    """What a penalty step costs a platform (currency): the fine (the larger of ``amount``
    and ``turnover_share`` of a year's revenue), the revenue lost while suspended, its
    value if the licence goes, or the standing a warning costs."""
    if action == "warning":
        return warning_cost
    if action == "fine":
        return max(amount, turnover_share * 365.0 * revenue_per_day)
    if action == "suspension":
        return days * revenue_per_day
    return value


@dataclass
class PlatformState:
    """A platform during a run. Times are hours; money is in the scenario's currency."""

    index: int
    spec: PlatformSpec
    queue: ReviewQueue
    threshold: float
    cash: float
    penalty_level: int = 0  # next rung of the penalty ladder
    clean_audits: int = 0
    suspended_until_hours: float = 0.0
    exit_at_hours: float = math.inf  # licence revoked or bankrupt: gone from then on
    exited: bool = False
    exit_reason: str = ""
    fines_paid: float = 0.0
    moderation_cost: float = 0.0
    staff: float = 0.0  # full-time reviewers (review_staff), paid whether busy or not
    suspensions: int = 0
    last_audit_hours: float = 0.0
    money_scale: float = 1.0  # represented / simulated users (slice_scale.money_scale)
    active_users: int = 0
    suspended_now: bool = False
    blocked: bool = False  # by the scenario's timeline (docs/model.md 1.3): not serving
    reviews_today: int = 0
    queue_served: int = 0  # review items that started service
    queue_wait_hours: float = 0.0  # their total wait in the queue (hours)
    removals_today: int = 0
    # Per-hour counts of published prohibited posts (for audits), grown as needed.
    published_prohibited_by_hour: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # The daily policy (S8): None when takedown duties are off (nothing to weigh).
    policy: PlatformPolicy | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def strictness(self) -> float:
        return threshold_to_strictness(self.threshold)

    def serving(self, time_hours: float) -> bool:
        """Whether users can post here at ``time_hours`` (not suspended, blocked or gone)."""
        return (
            not self.exited
            and not self.blocked
            and time_hours < self.exit_at_hours
            and time_hours >= self.suspended_until_hours
        )

    # -- moderation probabilities ---------------------------------------------------------
    def hold_probability(self) -> np.ndarray:
        """P(the filter holds a post for pre-publication review), per kind."""
        if not self.spec.prepublication_filter:
            return np.zeros(len(ContentKind))
        return exceed_probability(
            self.spec.classifier_mean.as_tuple(), self.threshold + self.spec.hold_margin
        )

    def flag_probability_if_not_held(self, held: np.ndarray | None = None) -> np.ndarray:
        """P(the filter flags a published post for review | it was not held), per kind.

        ``held``: :meth:`hold_probability` if the caller has it already."""
        means = self.spec.classifier_mean.as_tuple()
        above_flag = exceed_probability(means, self.threshold + self.spec.flag_margin)
        if held is None:
            held = self.hold_probability()
        with np.errstate(invalid="ignore", divide="ignore"):
            conditional = np.where(held < 1.0, (above_flag - held) / (1.0 - held), 0.0)
        return np.clip(conditional, 0.0, 1.0)

    # -- daily policy -----------------------------------------------------------------------
    def rung_value(self, scenario: Scenario, level: int) -> float:
        """What rung ``level`` of the ladder (the last one repeats) would cost today
        (:func:`penalty_value`); 0 with no ladder."""
        penalties = scenario.rules.penalties
        ladder = penalties.ladder
        if not ladder:
            return 0.0
        step = ladder[min(level, len(ladder) - 1)]
        return penalty_value(
            step.action,
            step.amount,
            step.days,
            self.revenue_per_day(),
            self.spec.value,
            penalties.warning_cost,
            step.turnover_share,
        )

    def ladder_ahead(self, scenario: Scenario) -> policy_rules.Ladder:
        """The penalty ladder as the platform weighs it today (docs/model.md S8): each
        rung's cost (:meth:`rung_value`), revocation as the end, its rung and clean audits
        counted, its discount rate per day."""
        penalties = scenario.rules.penalties
        return policy_rules.Ladder(
            values=np.array([self.rung_value(scenario, i) for i in range(len(penalties.ladder))]),
            absorbing=tuple(step.action == "revocation" for step in penalties.ladder),
            deescalate_after=penalties.deescalate_after_clean_audits,
            discount_per_day=self.spec.discount_rate_per_year / 365.0,
            level=self.penalty_level,
            clean=self.clean_audits,
        )

    def target_threshold(self, scenario: Scenario) -> float:
        """Today's cheapest threshold on the policy's grid (docs/model.md S8), within the
        strictness bounds by construction, weighing the review line and the wages at each
        head count it could settle on (:func:`simulator.model.staff_ahead.threshold_with_staff`;
        fixed staff: today's); the current one when there is no policy."""
        if self.policy is None:
            return self.threshold
        staff = staff_ahead.staff_grid(
            self.policy,
            self.staff,
            review_staff(scenario, self.spec),
            backlog=self.review_backlog,
            reviews_per_reviewer_day=24.0 * 60.0 / self.spec.review_minutes,
            chosen=self.spec.staffing == CHOSEN_STAFF,
            max_growth=self.spec.max_staff_growth,
        )
        return staff_ahead.threshold_with_staff(
            self.policy,
            self.ladder_ahead(scenario),
            self.threshold,
            [self.review_capacity(scenario, float(head)) for head in staff],
            np.asarray(self.wage_bill(staff), dtype=float),
        )

    @property
    def review_backlog(self) -> float:
        """``B``: the review items waiting at the day's end, arrived and not started
        (docs/model.md S8). Items booked to arrive later (flags at the next sweep,
        notices and orders on their way) are not in it: the reviews the platform's flows
        ask for over the week (``F D``) already count them."""
        return float(self.queue.waiting)

    def review_capacity(
        self, scenario: Scenario, staff: float | None = None
    ) -> deadline_miss.ReviewCapacity | deadline_miss.WaitingLine | None:
        """The review queue as the platform weighs it (docs/model.md S8, "Deadlines and
        the queue") with ``staff`` reviewers (default: today's) on their desks
        (:func:`review_servers`): the notice deadline, under notice liability with notice
        duties; the items waiting and the audit window under strict liability; else None.
        The threshold choice weighs it at each head count it could settle on
        (:func:`simulator.model.staff_ahead.staff_grid`), the audit's prediction at
        today's staff."""
        head = self.staff if staff is None else staff
        desks, review_hours = review_servers(head, self.spec.review_minutes)
        if scenario.rules.takedown.liability == deadline_miss.STRICT:
            return deadline_miss.WaitingLine(
                desks=desks,
                review_hours=review_hours,
                backlog=self.review_backlog,
                window_hours=scenario.regulator.audit_window_days * deadline_miss.HOURS_PER_DAY,
                period_days=deadline_miss.STAFFING_PERIOD_DAYS,
            )
        deadline = deadline_miss.notice_deadline(scenario)
        if deadline is None:
            return None
        return deadline_miss.ReviewCapacity(desks, review_hours, deadline)

    def late_notices(
        self, scenario: Scenario, thresholds: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        """What reviews the queue has not done (notices past their deadline, or under
        strict liability posts still waiting) add to an audit's count at each of
        ``thresholds`` (:func:`simulator.model.deadline_miss.policy_late`); None without a
        queue to weigh."""
        if self.policy is None:
            return None
        return deadline_miss.policy_late(self.policy, thresholds, self.review_capacity(scenario))

    def adapt(self, scenario: Scenario) -> None:
        """End-of-day update: move the threshold part of the way to today's cheapest one,
        and note what the next audit is expected to find there."""
        if self.policy is not None and self.policy.audits_experienced:
            # The first end of day: what audits before the run taught, at the initial
            # threshold and the first day's posts (S8, "Experience").
            late = self.late_notices(scenario, np.array([self.threshold]))
            self.policy.learn_experience(self.threshold, late)
        target = self.target_threshold(scenario)
        self.threshold += self.spec.adaptation_rate * (target - self.threshold)
        if self.policy is not None:
            late = self.late_notices(scenario, np.array([self.threshold]))
            self.policy.expect_at(self.threshold, late)

    def count_day(self, reached: np.ndarray) -> None:
        """The posts per kind that reached the platform today on a moderated channel."""
        if self.policy is not None:
            self.policy.count_day(reached)

    def audited(self, found: float, read_posts: bool = True) -> None:
        """An audit found ``found`` violations: the platform learns from it (S8); one
        that read no post (``read_posts`` False) teaches only that it came."""
        if self.policy is not None:
            self.policy.audited(found, read_posts=read_posts)

    def revenue_per_day(self) -> float:
        """The represented platform's revenue a day (currency): its active simulated users'
        times :attr:`money_scale` (:mod:`simulator.model.slice_scale`)."""
        return self.active_users * self.spec.revenue_per_user_day * self.money_scale

    def wage_bill(self, staff: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
        """What ``staff`` reviewers of the slice cost the represented platform a day
        (currency; :mod:`simulator.model.slice_scale`): the staff is sized per simulated
        user, the wage per reviewer-day."""
        return staff * self.spec.reviewer_cost_per_day * self.money_scale

    def book_day(self, staffed: bool = True) -> float:
        """Revenue minus staff for one day; returns the day's moderation cost. Without
        rules to comply with (``staffed=False``, the counterfactual) no reviewers are paid."""
        cost = float(self.wage_bill(self.staff)) if staffed else 0.0
        self.cash += self.revenue_per_day() - cost
        self.moderation_cost += cost
        return cost


def make_platforms(scenario: Scenario, rng: np.random.Generator) -> list[PlatformState]:
    """Platforms in their initial state; each queue gets its own child generator. Under
    takedown duties each spec carries the effective score means (S8) and each platform
    its policy."""
    platforms = []
    for index, spec in enumerate(scenario.platforms):
        # Array state, for the compiled review step (simulator.kernels.review).
        staff = review_staff(scenario, spec)
        servers, mean_service_hours = review_servers(staff, spec.review_minutes)
        queue = ArrayReviewQueue(
            servers=servers, mean_service_hours=mean_service_hours, rng=rng.spawn(1)[0]
        )
        policy = None
        if scenario.rules.takedown.enabled:
            spec, policy = platform_policy_for(scenario, spec)
        platforms.append(
            PlatformState(
                index=index,
                spec=spec,
                queue=queue,
                threshold=strictness_to_threshold(spec.initial_strictness),
                cash=spec.initial_cash,
                policy=policy,
                staff=staff,
                money_scale=slice_scale.money_scale(
                    scenario.population.users, scenario.population.represented_users
                ),
            )
        )
    return platforms


def line_probabilities(scenario: Scenario) -> NDArray[np.float64]:
    """``q_k`` of the scenario (:func:`~simulator.model.platform_policy.line_probability`)."""
    takedown = scenario.rules.takedown
    return policy_rules.line_probability(
        takedown.prohibited_mask(),
        scenario.population.perception.kind_closeness.as_tuple(),
        takedown.vagueness,
    )


def monitor_probabilities(scenario: Scenario) -> NDArray[np.float64]:
    """P(the regulator spots and orders down a published in-scope post), per kind:
    ``monitoring_probability × e_k``, ``e_k`` the enforced line (1 for a prohibited kind,
    else 0: :func:`~simulator.model.platform_policy.enforced_line`; docs/model.md S10);
    0 without takedown duties."""
    takedown = scenario.rules.takedown
    if not takedown.enabled:
        return np.zeros(len(ContentKind))
    enforced = policy_rules.enforced_line(takedown.prohibited_mask())
    return np.asarray(scenario.regulator.monitoring_probability * enforced, dtype=np.float64)


def platform_policy_for(
    scenario: Scenario, spec: PlatformSpec
) -> tuple[PlatformSpec, PlatformPolicy]:
    """``spec`` with its effective classifier and reviewer means, and the platform's
    policy for a run of ``scenario`` (docs/model.md S8)."""
    takedown = scenario.rules.takedown
    prohibited = takedown.prohibited_mask()
    q = line_probabilities(scenario)
    # The keyword filter matches topics, whatever the law makes of them (C4: posts on
    # sensitive topics are held regardless of what they say); the reviewers decide by the
    # law as the platform reads it (C1), so only their means follow q_k (S8).
    classifier = np.asarray(spec.classifier_mean.as_tuple(), dtype=float)
    reviewer = policy_rules.effective_means(spec.reviewer_mean.as_tuple(), q, prohibited)
    effective = spec.model_copy(update={"reviewer_mean": _per_kind_score(reviewer)})
    population = scenario.population
    # Notices come only on public posts: their share of the posts in scope.
    public = 1.0 - population.private_share
    in_scope = public + (population.private_share if takedown.private_messages else 0.0)
    public_share = public / in_scope if in_scope > 0.0 else 0.0
    moderation = policy_rules.Moderation(
        classifier_mean=classifier,
        reviewer_mean=reviewer,
        prepublication_filter=spec.prepublication_filter,
        hold_margin=spec.hold_margin,
        flag_margin=spec.flag_margin,
        held_review_margin=spec.held_review_margin,
        notice=np.asarray(population.notices.probability.as_tuple()) * public_share,
        monitor=monitor_probabilities(scenario),
    )
    regulator = scenario.regulator
    believed = spec.believed_audits_per_year
    policy = PlatformPolicy(
        moderation=moderation,
        exposure=policy_rules.Exposure(
            sample_size=regulator.audit_sample_size,
            tolerance=scenario.rules.penalties.tolerance,
            liability=takedown.liability,
        ),
        q=q,
        thresholds=policy_rules.threshold_grid(spec.min_strictness, spec.max_strictness),
        belief=policy_rules.AuditBelief(
            prior_per_day=(regulator.audits_per_year if believed is None else believed) / 365.0,
            prior_days=spec.audit_belief_days,
        ),
        wrongful_removal_cost=spec.wrongful_removal_daily_cost,
        audits_experienced=spec.audits_experienced,
    )
    return effective, policy


def _per_kind_score(values: FloatArray) -> PerKindScore:
    return PerKindScore(**{kind.label: float(values[kind]) for kind in ContentKind})
