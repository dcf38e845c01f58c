"""The platform's daily choice of strictness, written out in plain Python for the
per-agent reference (docs/model.md S8): the same rule as the engine's
:mod:`simulator.model.platform_policy`, implemented independently (scalars, loops and the
``math`` module; no numpy, no scipy) so that the agreement tests compare two statements
of one model, not one function with itself.

For each of 64 strictness values ``s`` (evenly spaced in logit between the platform's
bounds) the platform adds up what a day at threshold ``t = Φ⁻¹(1 − s)`` is expected to
cost it: goodwill lost on the share of its posts that are lawful and taken down, and the
audits' expected
penalty (this rung if an audit finds more violations than tolerated, the next one if the
next audit does too); it moves towards the cheapest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

GRID_POINTS = 64
_NORMAL = NormalDist()


def phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def line_probability(
    prohibited: list[bool], closeness: list[float], vagueness: float
) -> list[float]:
    """Chance the regulator counts each kind as prohibited (benign never; nothing when
    nothing is prohibited)."""
    if not any(prohibited):
        return [0.0] * len(prohibited)
    q = []
    for kind, banned in enumerate(prohibited):
        if kind == 0:
            q.append(0.0)
        elif banned:
            q.append(1.0)
        else:
            q.append(min(1.0, vagueness * closeness[kind]))
    return q


def effective_mean(means: list[float], q: list[float], prohibited: list[bool]) -> list[float]:
    """How each kind looks: a prohibited kind as given; a lawful kind ``q_k`` of the way
    from the benign mean (kind 0) to its own (benign where the platform is sure the
    regulator will not count it)."""
    benign = means[0]
    return [
        m if b else benign + qk * (m - benign)
        for m, qk, b in zip(means, q, prohibited, strict=True)
    ]


def grid(min_strictness: float, max_strictness: float) -> list[float]:
    """Thresholds of the 64 strictness values, strictest first."""
    eps = 1e-12
    low = min(max(min_strictness, eps), 1.0 - eps)
    high = min(max(max_strictness, eps), 1.0 - eps)
    top, bottom = math.log(high / (1.0 - high)), math.log(low / (1.0 - low))
    thresholds = []
    for g in range(GRID_POINTS):
        logit = top + (bottom - top) * g / (GRID_POINTS - 1)
        strictness = 1.0 / (1.0 + math.exp(-logit))
        thresholds.append(-_NORMAL.inv_cdf(strictness))
    return thresholds


def more_than(tolerance: float, mean: float) -> float:
    """P(Poisson(mean) > tolerance), summing the probabilities up to the tolerance."""
    if mean <= 0.0:
        return 0.0
    count = math.floor(tolerance)
    if count == 0:
        return -math.expm1(-mean)
    at_most = sum(
        math.exp(-mean + j * math.log(mean) - math.lgamma(j + 1.0)) for j in range(count + 1)
    )
    return max(0.0, 1.0 - at_most)


@dataclass(frozen=True)
class Platform:
    """What the policy of one platform reads, per kind (benign, critical,
    collective_action, unlawful): effective filter and reviewer means, the chance a
    published in-scope post gets a notice and an order, margins."""

    classifier: list[float]
    reviewer: list[float]
    prefilter: bool
    hold_margin: float
    flag_margin: float
    held_review_margin: float
    notice: list[float]
    order: list[float]

    def taken_down(self, t: float, kind: int) -> float:
        """P(blocked or removed) of a post of ``kind`` at threshold ``t``."""
        held = phi(self.classifier[kind] - t - self.hold_margin) if self.prefilter else 0.0
        blocked = phi(self.reviewer[kind] - t - self.held_review_margin)
        above_flag = phi(self.classifier[kind] - t - self.flag_margin)
        flag = min(1.0, max(0.0, (above_flag - held) / (1.0 - held))) if held < 1.0 else 0.0
        looked_at = 1.0 - (1.0 - flag) * (1.0 - self.notice[kind])
        order = self.order[kind]
        published_removed = order + (1.0 - order) * looked_at * phi(self.reviewer[kind] - t)
        return held * blocked + (1.0 - held) * published_removed

    def published(self, t: float, kind: int) -> float:
        """P(published) of a post of ``kind`` at ``t``: all but held posts blocked."""
        held = phi(self.classifier[kind] - t - self.hold_margin) if self.prefilter else 0.0
        return 1.0 - held * phi(self.reviewer[kind] - t - self.held_review_margin)

    def exposed(self, t: float, kind: int, liability: str) -> float:
        """Share of ``kind``'s posts an audit can hold against the platform."""
        if liability == "strict":
            return 1.0 - self.taken_down(t, kind)
        held = phi(self.classifier[kind] - t - self.hold_margin) if self.prefilter else 0.0
        kept = 1.0 - phi(self.reviewer[kind] - t)
        return (1.0 - held) * self.notice[kind] * (1.0 - self.order[kind]) * kept


def expected_found(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
) -> float:
    """Violations an audit of ``sample_size`` published posts is expected to find at ``t``
    (before the detection calibration): the posts it reads times the share of the
    published posts that are violations."""
    violating = 0.0
    published = 0.0
    for kind in range(len(flows)):
        counted = q[kind]  # as believed, under either liability (a notified lawful post too)
        violating += counted * flows[kind] * platform.exposed(t, kind, liability)
        published += flows[kind] * platform.published(t, kind)
    if published <= 0.0:
        return 0.0
    return sample_size * min(1.0, max(0.0, violating / published))


def daily_cost(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    tolerance: float,
    wrongful_daily_cost: float,
    audits_per_day: float,
    detection: float,
    value_now: float,
    value_next: float,
) -> float:
    """Goodwill of the day's share of lawful take-downs plus the audits' expected penalty
    at ``t``."""
    total = sum(flows)
    goodwill = 0.0
    if total > 0.0:
        for kind in range(len(flows)):
            lawful_share = flows[kind] * (1.0 - q[kind]) / total
            goodwill += wrongful_daily_cost * lawful_share * platform.taken_down(t, kind)
    found = detection * expected_found(platform, t, flows, q, liability, sample_size)
    violation = more_than(tolerance, found)
    return goodwill + audits_per_day * (violation * value_now + violation**2 * value_next)


def cheapest(thresholds: list[float], costs: list[float], current: float) -> float:
    """Least-cost threshold; among ties (1e-12 relative), the nearest to ``current``."""
    best = min(costs)
    slack = 1e-12 * max(1.0, abs(best))
    ties = [t for t, c in zip(thresholds, costs, strict=True) if c <= best + slack]
    return min(ties, key=lambda t: abs(t - current))
