"""Platforms: moderation policy, how it adapts to penalties, money and licence status.

A platform acts on a post when its score exceeds the platform's threshold (see
:mod:`simulator.rules`). Each day it moves its threshold towards the one that minimises
its expected cost, where a missed prohibited post costs the penalty it expects and a
wrongly removed lawful post costs only goodwill. Nothing fines over-removal, so the
threshold sinks as penalties grow: collateral censorship comes out of that trade-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulator.kinds import SENSITIVE_KINDS, ContentKind
from simulator.review_queue import ArrayReviewQueue, ReviewQueue
from simulator.rules import (
    cost_minimising_threshold,
    exceed_probability,
    penalty_value,
    strictness_to_threshold,
    threshold_to_strictness,
)
from simulator.scenario import Platform as PlatformSpec
from simulator.scenario import Scenario


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
        # Array state, for the compiled review step (simulator.review_kernels).
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
