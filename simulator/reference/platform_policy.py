"""The platform's daily choice of strictness, written out in plain Python for the
per-agent reference (docs/model.md S8): the same rule as the engine's
:mod:`simulator.model.platform_policy`, implemented independently (scalars, loops and the
``math`` module; no numpy, no scipy) so that the agreement tests compare two statements
of one model, not one function with itself.

For each of 64 strictness values ``s`` (evenly spaced in logit between the platform's
bounds) the platform adds up what a day at threshold ``t = Φ⁻¹(1 − s)`` is expected to
cost it: goodwill lost on the share of its posts that are lawful and taken down, and the
penalties the ladder
ahead holds (every rung, as long as the regulator keeps it there, revocation as the end),
as a daily amount; it moves towards the cheapest, between grid points. What an audit can
count includes the posts its review line leaves up, waiting or past a notice's deadline
(:func:`simulator.reference.review_line.missed_share`; :meth:`Platform.late_exposed`);
a platform that hires weighs each threshold at the staff it would need
(:mod:`simulator.reference.staffing`).

A vague law is a line on the reviewer score scale whose place the platform does not know:
under each of 32 equally likely readings ``u_j`` of the law, a post of a lawful kind
counts when its reviewer score lies above ``ℓ_k = μ_k − √(1 + σ²) Φ⁻¹(q_k) − σ u_j``
(docs/model.md S8, "The believed line"), so the posts that look most prohibited are the
likeliest to count. The platform weighs the readings by its belief in each: equal at the
start, then, after every audit that counted no post of a lawful kind, each reading's
weight times ``exp(−κ μᴸ_j)``, ``μᴸ_j`` the lawful-kind violations it expected that audit
to find under the reading and ``κ`` the detection it believed then, learned from the
prohibited posts audits counted (docs/model.md S8, "Learning how much audits find, and
where the line is").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from simulator.reference.review_line import Queue, missed_share

GRID_POINTS = 64
_NORMAL = NormalDist()
#: The readings of a vague law the platform weighs, equally likely.
READINGS = 32
#: σ, the spread of the believed line on the score scale (ASSUMPTION, model.md S8).
LINE_SPREAD = 0.5


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


def reading_lines(
    q: list[float], reviewer: list[float], spread: float = LINE_SPREAD
) -> list[list[float]]:
    """For each reading ``u_j = Φ⁻¹((j + ½)/J)``, the reviewer score above which a post of
    each kind counts: ``−∞`` for a kind sure to count, ``+∞`` for one never counted."""
    lines = []
    for j in range(READINGS):
        u = _NORMAL.inv_cdf((j + 0.5) / READINGS)
        row = []
        for qk, mean in zip(q, reviewer, strict=True):
            if qk >= 1.0:
                row.append(-math.inf)
            elif qk <= 0.0:
                row.append(math.inf)
            else:
                middle = mean - math.sqrt(1.0 + spread * spread) * _NORMAL.inv_cdf(qk)
                row.append(middle - spread * u)
        lines.append(row)
    return lines


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

    def held(self, t: float, kind: int) -> float:
        """P(held before publication) of a post of ``kind`` at ``t``."""
        return phi(self.classifier[kind] - t - self.hold_margin) if self.prefilter else 0.0

    @property
    def held_flagged(self) -> float:
        """1 if an approved held post is flagged at the next sweep (``m > 0``), else 0
        (issue 17: a hold's review as strict as the sweep's or stricter leaves nothing a
        second review at ``t`` could remove, and none is asked)."""
        return 1.0 if self.held_review_margin > 0.0 else 0.0

    def approved(self, t: float, kind: int) -> float:
        """P(held and approved) of a post of ``kind`` at ``t``: reviewer score at most
        ``t + m``. Published at its approval, it is touched again (issue 17)."""
        return self.held(t, kind) * phi(t + self.held_review_margin - self.reviewer[kind])

    def held_removable(self, t: float, kind: int, line: float) -> float:
        """P(held, approved, not ordered, and a later review at ``t`` takes it down, above
        ``line``) of a post of ``kind``: score in ``(max(t, line), t + m]`` (none where
        ``m ≤ 0``). While that review waits the post is up."""
        low = phi(max(t, line) - self.reviewer[kind])
        top = phi(t + self.held_review_margin - self.reviewer[kind])
        return self.held(t, kind) * (1.0 - self.order[kind]) * max(0.0, top - low)

    def flagged(self, t: float, kind: int) -> float:
        """P(flagged | published) of a post of ``kind`` at ``t``: the filter's score over
        the flag line, given under the hold line."""
        held = self.held(t, kind)
        above_flag = phi(self.classifier[kind] - t - self.flag_margin)
        return min(1.0, max(0.0, (above_flag - held) / (1.0 - held))) if held < 1.0 else 0.0

    def late_exposed(
        self, t: float, kind: int, liability: str, line: float, missed: float
    ) -> float:
        """What reviews not done in time add to :meth:`exposed` (docs/model.md S8,
        "Deadlines and the queue"): the published posts of ``kind`` a review would take
        down (score over ``t``) and above ``line``, not ordered, that ask for a review
        (strict liability: flagged or noticed; notice liability: noticed), times
        ``missed``, the share of them the queue leaves up (:func:`missed_share`). With a
        filter, the approved held posts a later review would take down too (issue 17:
        flagged for certain where ``m > 0``, the only case there are any; noticed with
        ``n_k``)."""
        if missed <= 0.0 or line == math.inf:
            return 0.0
        held = self.held(t, kind)
        notice, order = self.notice[kind], self.order[kind]
        above = phi(self.reviewer[kind] - max(t, line))
        if liability == "strict":
            asks = 1.0 - (1.0 - self.flagged(t, kind)) * (1.0 - notice)
        else:
            asks = notice
        published = (1.0 - held) * (1.0 - order) * asks * above * missed
        if not self.prefilter:
            return published
        held_asks = 1.0 if liability == "strict" else notice
        return held_asks * self.held_removable(t, kind, line) * missed + published

    def taken_down(self, t: float, kind: int) -> float:
        """P(blocked or removed) of a post of ``kind`` at threshold ``t``. A held post is
        blocked over ``t + m``; approved, it is ordered like a published post, and
        flagged where ``m > 0``, so taken down over ``t`` too (issue 17)."""
        held = self.held(t, kind)
        blocked = phi(self.reviewer[kind] - t - self.held_review_margin)
        flag = self.flagged(t, kind)
        looked_at = 1.0 - (1.0 - flag) * (1.0 - self.notice[kind])
        order = self.order[kind]
        passes = phi(self.reviewer[kind] - t)
        published_removed = order + (1.0 - order) * looked_at * passes
        if not self.prefilter:
            return held * blocked + (1.0 - held) * published_removed
        # Approved (score at most t + m), then ordered, or flagged (m > 0) and over t.
        flagged_over = (1.0 - order) * max(0.0, passes - blocked) * self.held_flagged
        held_down = blocked + (1.0 - blocked) * order + flagged_over
        return held * held_down + (1.0 - held) * published_removed

    def published(self, t: float, kind: int) -> float:
        """P(published) of a post of ``kind`` at ``t``: all but held posts blocked."""
        held = phi(self.classifier[kind] - t - self.hold_margin) if self.prefilter else 0.0
        return 1.0 - held * phi(self.reviewer[kind] - t - self.held_review_margin)

    def exposed(self, t: float, kind: int, liability: str, line: float = -math.inf) -> float:
        """Share of ``kind``'s posts an audit can hold against the platform and whose
        reviewer score ``z`` lies above ``line`` (all of them at ``−∞``)."""
        if line == math.inf:
            return 0.0
        mean = self.reviewer[kind]
        below = phi(line - mean)  # P(z <= line)

        def between(top: float) -> float:  # P(line < z <= top)
            return max(0.0, phi(top - mean) - below)

        held = phi(self.classifier[kind] - t - self.hold_margin) if self.prefilter else 0.0
        order = self.order[kind]
        # Approved, not ordered, kept by the hold's line and (flag or notice) by t's.
        held_kept = held * (1.0 - order) * between(min(t, t + self.held_review_margin))
        if liability != "strict":
            kept = (1.0 - held) * self.notice[kind] * (1.0 - order) * between(t)
            return self.notice[kind] * held_kept + kept if self.prefilter else kept
        above_flag = phi(self.classifier[kind] - t - self.flag_margin)
        flag = min(1.0, max(0.0, (above_flag - held) / (1.0 - held))) if held < 1.0 else 0.0
        looked_at = 1.0 - (1.0 - flag) * (1.0 - self.notice[kind])
        # Published and up: not ordered, and either never looked at (counted above the
        # line) or looked at and kept (line < z <= t); held and kept: line < z <= t + m.
        published_up = (1.0 - looked_at) * (1.0 - below) + looked_at * between(t)
        if self.prefilter:
            return held_kept + (1.0 - held) * (1.0 - order) * published_up
        return (
            held * between(t + self.held_review_margin)
            + (1.0 - held) * (1.0 - order) * published_up
        )


def found_under(
    platform: Platform,
    t: float,
    flows: list[float],
    lines: list[float],
    liability: str,
    sample_size: float,
    lawful_only: bool = False,
    prohibited_only: bool = False,
    missed: float = 0.0,
) -> float:
    """Violations an audit of ``sample_size`` published posts is expected to find at ``t``
    under one reading (``lines``, per kind), before the detection calibration: the posts
    it reads times the share of the published posts that are up and above the line,
    those the queue leaves up included (``missed``, :func:`missed_share`)
    (``lawful_only``: counting only the posts of kinds that are not prohibited, whose
    line is finite or ``+∞``; ``prohibited_only``: only those of prohibited kinds, whose
    line is ``−∞``)."""
    violating = 0.0
    published = 0.0
    for kind in range(len(flows)):
        prohibited = lines[kind] == -math.inf
        if not (lawful_only and prohibited) and not (prohibited_only and not prohibited):
            up = platform.exposed(t, kind, liability, lines[kind])
            up += platform.late_exposed(t, kind, liability, lines[kind], missed)
            violating += flows[kind] * up
        published += flows[kind] * platform.published(t, kind)
    if published <= 0.0:
        return 0.0
    return sample_size * min(1.0, max(0.0, violating / published))


def found_by_reading(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    lawful_only: bool = False,
    queue: Queue | None = None,
) -> list[float]:
    """Per reading of the law, the violations an audit is expected to find at ``t``
    (``lawful_only``: the posts of lawful kinds among them), with what ``queue`` leaves up."""
    missed = missed_share(platform, t, flows, liability, queue)
    return [
        found_under(platform, t, flows, r, liability, sample_size, lawful_only, missed=missed)
        for r in reading_lines(q, platform.reviewer)
    ]


def lawful_found(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    queue: Queue | None = None,
) -> list[float]:
    """Per reading, the posts of lawful kinds an audit is expected to count at ``t``."""
    return found_by_reading(
        platform, t, flows, q, liability, sample_size, lawful_only=True, queue=queue
    )


def prohibited_found(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    queue: Queue | None = None,
) -> float:
    """The posts of prohibited kinds an audit is expected to count at ``t`` (the same
    under every reading: the first one's)."""
    lines = reading_lines(q, platform.reviewer)[0]
    missed = missed_share(platform, t, flows, liability, queue)
    return found_under(
        platform, t, flows, lines, liability, sample_size, prohibited_only=True, missed=missed
    )


def believed_counted(
    q: list[float], reviewer: list[float], log_weights: list[float]
) -> list[float]:
    """Per kind, the chance the platform gives a post of being counted in an audit: over
    the readings weighed by its belief, the share of the kind's scores above the line."""
    weights = reading_weights(log_weights)
    out = [0.0] * len(q)
    for weight, lines in zip(weights, reading_lines(q, reviewer), strict=True):
        for kind, (line, mean) in enumerate(zip(lines, reviewer, strict=True)):
            if line == -math.inf:
                out[kind] += weight
            elif line != math.inf:
                out[kind] += weight * _NORMAL.cdf(mean - line)
    return out


def reading_weights(log_weights: list[float]) -> list[float]:
    """The belief in each reading from its log weight, summing to 1 (equal if every
    reading has been ruled out)."""
    top = max(log_weights)
    if top == -math.inf:
        return [1.0 / len(log_weights)] * len(log_weights)
    raw = [math.exp(x - top) for x in log_weights]
    total = sum(raw)
    return [x / total for x in raw]


def violation_chance(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    detection: float,
    tolerance: float,
    weights: list[float],
    queue: Queue | None = None,
) -> float:
    """P(an audit finds a violation) at ``t`` when the line is uncertain: over the
    readings, weighed by the belief ``weights`` in each, the Poisson chance of more than
    ``tolerance`` finds, with what ``queue`` leaves up."""
    readings = reading_lines(q, platform.reviewer)
    missed = missed_share(platform, t, flows, liability, queue)
    total = 0.0
    for weight, lines in zip(weights, readings, strict=True):
        found = detection * found_under(
            platform, t, flows, lines, liability, sample_size, missed=missed
        )
        total += weight * more_than(tolerance, found)
    return total


@dataclass(frozen=True)
class LadderAhead:
    """The penalty ladder as the platform weighs it: each rung's cost, which rungs end
    the game (revocation), clean audits in a row for a step down, the platform's rung
    and clean audits counted, audits per day and its discount rate per day."""

    values: list[float]
    absorbing: list[bool]
    deescalate_after: int
    level: int
    clean: int
    audits_per_day: float
    discount_per_day: float


def _solve(matrix: list[list[float]], right: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the system is small: rungs x clean counts)."""
    n = len(right)
    rows = [row[:] + [r] for row, r in zip(matrix, right, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            if factor != 0.0:
                for c in range(col, n + 1):
                    rows[r][c] -= factor * rows[col][c]
    solution = [0.0] * n
    for r in range(n - 1, -1, -1):
        known = sum(rows[r][c] * solution[c] for c in range(r + 1, n))
        solution[r] = (rows[r][n] - known) / rows[r][r]
    return solution


def ladder_daily_penalty(violation: float, ladder: LadderAhead) -> float:
    """The ladder's expected penalties from the platform's state, as a daily amount: the
    discount rate times their present value when every audit finds a violation with
    chance ``violation``. One state per (rung, clean audits counted); each audit is
    discounted by ``λ/(λ + ρ)``; a violation pays the rung and moves one up (the top
    repeats; revocation ends it), a clean audit counts, and the last of
    ``deescalate_after`` in a row steps one rung down (never below the first)."""
    rungs, k = len(ladder.values), ladder.deescalate_after
    if rungs == 0 or ladder.audits_per_day <= 0.0:
        return 0.0
    beta = ladder.audits_per_day / (ladder.audits_per_day + ladder.discount_per_day)
    n = rungs * k
    matrix = [[0.0] * n for _ in range(n)]
    right = [0.0] * n
    for rung in range(rungs):
        for clean in range(k):
            state = rung * k + clean
            matrix[state][state] += 1.0
            right[state] = beta * violation * ladder.values[rung]
            if not ladder.absorbing[rung]:
                matrix[state][min(rung + 1, rungs - 1) * k] -= beta * violation
            after_clean = rung * k + clean + 1 if clean + 1 < k else max(rung - 1, 0) * k
            matrix[state][after_clean] -= beta * (1.0 - violation)
    present = _solve(matrix, right)
    level = min(ladder.level, rungs - 1)
    return ladder.discount_per_day * present[level * k + min(ladder.clean, k - 1)]


def daily_cost(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    tolerance: float,
    wrongful_daily_cost: float,
    detection: float,
    ladder: LadderAhead,
    weights: list[float],
    queue: Queue | None = None,
) -> float:
    """Goodwill of the day's share of lawful take-downs plus the ladder's expected
    penalties as a daily amount at ``t``, with what ``queue`` leaves up."""
    return daily_costs_by_queue(
        platform, t, flows, q, liability, sample_size, tolerance, wrongful_daily_cost,
        detection, ladder, weights, [queue],
    )[0]  # fmt: skip


def daily_costs_by_queue(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    tolerance: float,
    wrongful_daily_cost: float,
    detection: float,
    ladder: LadderAhead,
    weights: list[float],
    queues: list[Queue | None],
) -> list[float]:
    """:func:`daily_cost` at ``t`` with each of ``queues`` (a head count each, as a
    hiring platform weighs them, docs/model.md S8): the goodwill and what is up without
    the queue are the same for all; what the queue leaves up is ``missed`` times the
    posts a review would take down (:meth:`Platform.late_exposed` at ``missed = 1``)."""
    total = sum(flows)
    goodwill = 0.0
    if total > 0.0:
        for kind in range(len(flows)):
            lawful_share = flows[kind] * (1.0 - q[kind]) / total
            goodwill += wrongful_daily_cost * lawful_share * platform.taken_down(t, kind)
    published = sum(flows[kind] * platform.published(t, kind) for kind in range(len(flows)))
    readings = reading_lines(q, platform.reviewer)
    up = [
        sum(flows[k] * platform.exposed(t, k, liability, lines[k]) for k in range(len(flows)))
        for lines in readings
    ]
    waiting = [
        sum(
            flows[k] * platform.late_exposed(t, k, liability, lines[k], 1.0)
            for k in range(len(flows))
        )
        for lines in readings
    ]
    costs = []
    for queue in queues:
        missed = missed_share(platform, t, flows, liability, queue)
        violation = 0.0
        for weight, base, late in zip(weights, up, waiting, strict=True):
            share = min(1.0, max(0.0, (base + missed * late) / published)) if published > 0 else 0.0
            violation += weight * more_than(tolerance, detection * sample_size * share)
        costs.append(goodwill + ladder_daily_penalty(violation, ladder))
    return costs


def cheapest(thresholds: list[float], costs: list[float], current: float) -> float:
    """Least-cost threshold; among ties (1e-12 relative), the nearest to ``current``;
    where that grid point is inside the grid and both neighbours cost strictly more, the
    vertex of the parabola through the three (the minimum between grid points)."""
    best = min(costs)
    slack = 1e-12 * max(1.0, abs(best))
    ties = [t for t, c in zip(thresholds, costs, strict=True) if c <= best + slack]
    chosen = min(ties, key=lambda t: abs(t - current))
    g = thresholds.index(chosen)
    if g == 0 or g == len(thresholds) - 1:
        return chosen
    x0, x1, x2 = thresholds[g - 1], chosen, thresholds[g + 1]
    y0, y1, y2 = costs[g - 1], costs[g], costs[g + 1]
    edge = 1e-12 * max(1.0, abs(y1))
    if not (math.isfinite(y0) and math.isfinite(y2) and y0 > y1 + edge and y2 > y1 + edge):
        return chosen
    # Lagrange form of the parabola's vertex.
    numerator = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
    denominator = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
    if denominator == 0.0:
        return chosen
    vertex = x1 - 0.5 * numerator / denominator
    if not math.isfinite(vertex):
        return chosen
    return min(max(vertex, min(x0, x2)), max(x0, x2))
