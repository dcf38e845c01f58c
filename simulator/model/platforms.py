"""Platforms: moderation policy, how it adapts to penalties, money and licence status.

Scores follow signal-detection theory: a post of kind ``k`` looks ``N(mean_k, 1)``
"prohibited" to a classifier or a reviewer, and an actor acts on it when the score
exceeds a threshold. Lowering the threshold catches more prohibited posts and more
lawful ones with them, so collateral removal comes out of the threshold a platform
chooses, not out of a parameter. Strictness is the threshold read as a probability:
the share of posts with score ``N(0, 1)`` it would act on.

Each day a platform moves its threshold towards the one that minimises its expected
cost, where a missed prohibited post costs the penalty it expects and a wrongly removed
lawful post costs only goodwill. Nothing fines over-removal, so the
threshold sinks as penalties grow: collateral censorship comes out of that trade-off.

Equations (docs/model.md, 3.3 Submodels S4, S8 and S9): the threshold of strictness
``s`` is ``Phi^-1(1 - s)`` (:func:`strictness_to_threshold`); a kind of score mean ``m``
exceeds threshold ``t`` with probability ``1 - Phi(t - m)`` (:func:`exceed_probability`);
the cost-minimising threshold between a lawful mean ``m0`` and a prohibited mean ``m1``
is ``(m0 + m1) / 2 + ln(c_wrong (1 - pi) / (c_miss pi)) / (m1 - m0)``
(:func:`cost_minimising_threshold`); a penalty step costs its fine, the revenue lost
while suspended, or the platform's value (:func:`penalty_value`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from simulator.kinds import SENSITIVE_KINDS, ContentKind
from simulator.model.review_arrays import ArrayReviewQueue
from simulator.model.review_queue import ReviewQueue
from simulator.model.scenario import Platform as PlatformSpec
from simulator.model.scenario import Scenario

FloatArray = NDArray[np.floating]

#: Strictness is kept this far from 0 and 1 so thresholds stay finite.
STRICTNESS_EPSILON = 1e-12


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


def cost_minimising_threshold(
    mean_lawful: float,
    mean_prohibited: float,
    share_prohibited: float,
    cost_per_miss: float,
    cost_per_wrongful_removal: float,
) -> float:
    """Threshold that minimises a platform's expected cost per reviewed post.

    Expected cost ``c_miss * pi_p * Phi(t - mu_p) + c_wrong * pi_l * (1 - Phi(t - mu_l))``;
    setting its derivative to zero with equal-variance normal scores gives
    ``t* = (mu_p + mu_l) / 2 + ln(c_wrong * pi_l / (c_miss * pi_p)) / (mu_p - mu_l)``.
    The asymmetry of the law lives in the two costs: misses are fined, over-removal is
    not, so ``c_miss`` grows with penalties and drags ``t*`` down. Returns +inf when
    missing costs nothing (no reason to remove anything) and -inf when over-removal is
    free.
    """
    if not 0.0 < share_prohibited < 1.0 or cost_per_miss <= 0.0:
        return math.inf
    if cost_per_wrongful_removal <= 0.0:
        return -math.inf
    separation = mean_prohibited - mean_lawful
    if separation <= 0.0:
        # Reviewers cannot tell the two apart: remove everything if a miss costs more.
        expected_miss = cost_per_miss * share_prohibited
        expected_wrong = cost_per_wrongful_removal * (1.0 - share_prohibited)
        return -math.inf if expected_miss > expected_wrong else math.inf
    # ln(ratio) as a sum of logs: the ratio itself under- or overflows when one cost is
    # tiny or huge (a fine of 1e308, a goodwill cost of 1e-300), and log(0) is an error.
    log_ratio = (
        math.log(cost_per_wrongful_removal)
        + math.log1p(-share_prohibited)
        - math.log(cost_per_miss)
        - math.log(share_prohibited)
    )
    return 0.5 * (mean_prohibited + mean_lawful) + log_ratio / separation


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
    fear: float = 0.0  # decayed count of penalties received
    suspended_until_hours: float = 0.0
    exit_at_hours: float = math.inf  # licence revoked or bankrupt: gone from then on
    exited: bool = False
    exit_reason: str = ""
    fines_paid: float = 0.0
    moderation_cost: float = 0.0
    suspensions: int = 0
    last_audit_hours: float = 0.0
    active_users: int = 0
    suspended_now: bool = False
    reviews_today: int = 0
    queue_served: int = 0  # review items that started service
    queue_wait_hours: float = 0.0  # their total wait in the queue (hours)
    removals_today: int = 0
    # Per-hour counts of published prohibited posts (for audits), grown as needed.
    published_prohibited_by_hour: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # What the daily policy needs that is fixed for a run (see _policy_constants).
    _constants: tuple[Scenario, tuple[float, ...] | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def strictness(self) -> float:
        return threshold_to_strictness(self.threshold)

    def serving(self, time_hours: float) -> bool:
        """Whether users can post here at ``time_hours`` (not suspended, not gone)."""
        return (
            not self.exited
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
    def expected_cost_per_miss(self, scenario: Scenario, revenue_per_day: float) -> float:
        """What one more missed prohibited post is expected to cost (currency).

        The chance that an audit finds it while it is up, times what the next penalty
        rungs would cost, inflated by the penalties received recently ("fear").
        """
        regulator = scenario.regulator
        penalties = scenario.rules.penalties
        audits_per_day = regulator.audits_per_year / 365.0
        detection = regulator.audit_sample_share * min(
            1.0, audits_per_day * regulator.audit_window_days
        )
        ladder = penalties.ladder
        if not ladder or detection <= 0.0:
            return 0.0

        def rung_value(level: int) -> float:
            step = ladder[min(level, len(ladder) - 1)]
            return penalty_value(
                step.action,
                step.amount,
                step.days,
                revenue_per_day,
                self.spec.value,
                penalties.warning_cost,
                step.turnover_share,
            )

        # The next rung, plus half the one after it: escalation is part of the threat.
        threat = rung_value(self.penalty_level) + 0.5 * rung_value(self.penalty_level + 1)
        return detection * threat * (1.0 + self.fear)

    def _policy_constants(self, scenario: Scenario) -> tuple[float, ...] | None:
        """``(mean_lawful, mean_banned, share_banned, lowest, highest)`` for
        :meth:`target_threshold` and :meth:`adapt`: fixed by the scenario and the
        platform's spec, so computed once a run. None if no prohibited kind is spoken."""
        cached = self._constants
        if cached is not None and cached[0] is scenario:
            return cached[1]
        takedown = scenario.rules.takedown
        prohibited = takedown.prohibited_mask()
        mix = scenario.population.sensitive_mix
        reviewer_means = self.spec.reviewer_mean.as_tuple()
        shares = {kind: getattr(mix, kind.label) for kind in SENSITIVE_KINDS}
        lawful = [k for k in SENSITIVE_KINDS if not prohibited[k] and shares[k] > 0]
        banned = [k for k in SENSITIVE_KINDS if prohibited[k] and shares[k] > 0]
        constants: tuple[float, ...] | None = None
        if banned:
            if not lawful:
                lawful = [ContentKind.BENIGN]
                shares[ContentKind.BENIGN] = 1.0 - sum(shares.values())

            def weighted_mean(kinds: list[ContentKind]) -> tuple[float, float]:
                total = sum(shares[k] for k in kinds)
                return sum(shares[k] * reviewer_means[k] for k in kinds) / total, total

            mean_lawful, share_lawful = weighted_mean(lawful)
            mean_banned, share_banned = weighted_mean(banned)
            constants = (
                mean_lawful,
                mean_banned,
                share_banned / (share_banned + share_lawful),
                strictness_to_threshold(self.spec.max_strictness),
                strictness_to_threshold(self.spec.min_strictness),
            )
        self._constants = (scenario, constants)
        return constants

    def target_threshold(self, scenario: Scenario, revenue_per_day: float) -> float:
        """The cost-minimising threshold given today's expectations (see module doc)."""
        constants = self._policy_constants(scenario)
        if constants is None:
            return math.inf
        mean_lawful, mean_banned, share_banned = constants[:3]
        return cost_minimising_threshold(
            mean_lawful,
            mean_banned,
            share_banned,
            self.expected_cost_per_miss(scenario, revenue_per_day),
            self.spec.wrongful_removal_cost,
        )

    def adapt(self, scenario: Scenario) -> None:
        """End-of-day update: forget old penalties, then move the threshold part of the way
        to today's cost-minimising one, within the platform's strictness bounds."""
        self.fear *= 0.5 ** (1.0 / self.spec.penalty_memory_half_life_days)
        revenue_per_day = self.active_users * self.spec.revenue_per_user_day
        constants = self._policy_constants(scenario)
        if constants is None:
            lowest = strictness_to_threshold(self.spec.max_strictness)
            highest = strictness_to_threshold(self.spec.min_strictness)
        else:
            lowest, highest = constants[3], constants[4]
        target = self.target_threshold(scenario, revenue_per_day)
        target = min(max(target, lowest), highest)
        self.threshold += self.spec.adaptation_rate * (target - self.threshold)

    def book_day(self, staffed: bool = True) -> float:
        """Revenue minus staff for one day; returns the day's moderation cost. Without
        rules to comply with (``staffed=False``, the counterfactual) no reviewers are paid."""
        cost = self.spec.reviewers * self.spec.reviewer_cost_per_day if staffed else 0.0
        self.cash += self.active_users * self.spec.revenue_per_user_day - cost
        self.moderation_cost += cost
        return cost


def make_platforms(scenario: Scenario, rng: np.random.Generator) -> list[PlatformState]:
    """Platforms in their initial state; each queue gets its own child generator."""
    platforms = []
    for index, spec in enumerate(scenario.platforms):
        # Array state, for the compiled review step (simulator.kernels.review).
        queue = ArrayReviewQueue(
            servers=spec.reviewers,
            mean_service_hours=spec.review_minutes / 60.0,
            rng=rng.spawn(1)[0],
        )
        platforms.append(
            PlatformState(
                index=index,
                spec=spec,
                queue=queue,
                threshold=strictness_to_threshold(spec.initial_strictness),
                cash=spec.initial_cash,
            )
        )
    return platforms
