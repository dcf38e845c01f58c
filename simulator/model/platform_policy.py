"""What a platform weighs when it sets its strictness (issue 16, item 3; docs/model.md S8).

A platform is not fined per prohibited post it misses: it is penalised per enforcement
event, when an audit finds more violations than the regulator tolerates (S10). Each
day it evaluates, on a fixed grid of strictness values, its expected daily cost

    J(t) = c_wrong · Σ_k N_k · r_k(t) · (1 − q_k) / Σ_k N_k   share of lawful posts taken down (B5)
         + ρ · W_{L,c}(P(t))                                   the ladder ahead, per day (S10)
    P(t) = Σ_j w_j P( Poisson(μ_j(t)) > tolerance )            an audit finds a violation
    μ_j(t) = κ̂ · n · Σ_k N_k [X_k + Y_k](t; ℓ_k(u_j)) / Σ_k N_k p_k(t)   violations among n posts

and moves its threshold towards the cheapest (grid point, refined between its neighbours).
``W_{L,c}`` is the present value of the penalties the ladder holds for a platform at rung
``L`` with ``c`` clean audits counted if every audit finds a violation with chance ``P(t)``
(:func:`rung_costs`, :func:`ladder_penalty`; ``ρ`` its discount rate). ``N_k`` are the posts
of kind ``k`` that reach it per day (it counts them), ``r_k(t)`` the share it blocks or
removes, ``p_k(t)`` the share it publishes, ``n`` the posts an audit inspects, ``q_k``
the *line probability* (the chance the platform gives a post of kind ``k`` of
being counted as prohibited: 1 for prohibited kinds, ``vagueness × closeness_k`` for
lawful ones), ``u_j`` the ``J`` readings of the law, ``w_j`` the platform's belief that
reading ``j`` is in force (equal at the start, learned from audits given ``κ̂``:
:class:`~simulator.model.believed_line.AuditPosterior`), and ``ℓ_k(u_j)`` the
reviewer score above which a post of kind ``k`` counts under reading ``j``
(:mod:`simulator.model.believed_line`: a line on the score scale, so the lawful posts that
look most prohibited are the likeliest to count; one reading for all posts, not a coin
per post, B6), ``X_k(t; ℓ)`` what an audit can hold against it (liability mode) among the
posts above ``ℓ`` (:meth:`Moderation.counted`), ``Y_k`` what the review queue leaves up
at the load ``t`` creates (:mod:`simulator.model.deadline_miss`): under notice liability
the notified posts whose review does not start by the deadline; under strict liability
the posts a review would take down still waiting; each at the staff the platform has or
would hire for ``t``, :mod:`simulator.model.staff_ahead`; 0 otherwise), ``V(l)`` the
cost of rung ``l`` of the ladder, ``λ̂`` its belief about audits per day and ``κ̂`` its
calibration of how many prohibited posts audits actually find against how many it predicted.

Vagueness is uncertainty, not a broader law (Craswell & Calfee 1986; B5, B6): the
regulator counts what the law prohibits, the *enforced line*

    e_k = 1 if k is prohibited, else 0                       (audits and orders, S10)

while the platform (and the users) hold the *believed line* ``q_k``; its reviewers are
trained to it, so a lawful kind's reviewer mean is

    μʳ_eff,k = μʳ_0 + q_k · (μʳ_k − μʳ_0)                     (benign at q_k = 0)

and the keyword filter's means stay as given (it matches topics). Fearing that a lawful
post near the line may be counted, it removes the lawful posts that look most prohibited
(collateral censorship), so a vaguer law (the line lower on the score scale) makes it
remove more lawful speech, under either liability; ``κ̂`` learns that audits find less.

Both terms are shares of the platform's posts, so scaling every ``N_k`` leaves ``J``
unchanged (``Y_k``, where it is not 0, depends on the head count as the queue does, S6).
Pure numpy: the engine calls these once per platform per day (64 × 4 array operations).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri, pdtrc

from simulator.model.believed_line import (
    DETECTION_PRIOR_COUNT as DETECTION_PRIOR_COUNT,  # re-exported, as before
)
from simulator.model.believed_line import (
    AuditPosterior,
    believed_counted,
    lawful_kinds,
    reading_lines,
)
from simulator.model.ladder_ahead import Ladder, ladder_penalty
from simulator.model.ladder_ahead import rung_costs as rung_costs  # re-exported, as before
from simulator.model.moderation_statement import (  # re-exported, as before
    LIABILITY_MODES as LIABILITY_MODES,
)
from simulator.model.moderation_statement import NOTICE as NOTICE
from simulator.model.moderation_statement import STRICT as STRICT
from simulator.model.moderation_statement import Moderation as Moderation

FloatArray = NDArray[np.float64]
#: Per-kind numbers as a sequence or an array.
PerKind = Sequence[float] | NDArray[np.floating]

#: Points of the strictness grid a platform evaluates each day.
GRID_POINTS = 64


def line_probability(
    prohibited: Sequence[bool], closeness: PerKind, vagueness: float
) -> FloatArray:
    """``q_k``: the chance that the regulator counts a post of kind ``k`` as prohibited.

    1 for a prohibited kind; ``min(1, vagueness × closeness_k)`` for a lawful sensitive
    kind (B5: the vaguer the line, the more lawful speech near it may count); 0 for
    benign posts (index 0) and for every kind when nothing is prohibited (no law, no
    line). Kinds in :class:`~simulator.kinds.ContentKind` order.
    """
    prohibited = [bool(p) for p in prohibited]
    q = np.zeros(len(prohibited))
    if not any(prohibited):
        return q
    for k, (banned, close) in enumerate(zip(prohibited, closeness, strict=True)):
        if k == 0:
            continue  # benign: never near the line
        q[k] = 1.0 if banned else min(1.0, vagueness * float(close))
    return q


def enforced_line(prohibited: Sequence[bool]) -> FloatArray:
    """``e_k``: what the regulator actually counts as prohibited when it audits or orders a
    post down. 1 for a prohibited kind, 0 for every other: a vague law does not make the
    regulator count lawful posts (issue 16 item 3); it makes the platform and the users
    unsure which posts it will count (:func:`line_probability`)."""
    return np.asarray([1.0 if banned else 0.0 for banned in prohibited], dtype=float)


def effective_means(means: PerKind, q: PerKind, prohibited: Sequence[bool]) -> FloatArray:
    """Mean scores the filter and the reviewers actually see, per kind.

    A scenario's ``classifier_mean`` / ``reviewer_mean`` say how each kind looks to a
    moderator who must take it down. Prohibited kinds keep their means. A lawful kind
    looks ``μ_benign + q_k · (μ_k − μ_benign)``: the platform's moderators are trained
    to what it believes the regulator counts, so a lawful kind it is sure will not count
    (``q_k = 0``) looks benign, and the likelier it thinks the kind counts, the more it
    looks like what must come down (the law as read, not the label). Index 0: benign."""
    mu = np.asarray(means, dtype=float)
    qs = np.asarray(q, dtype=float)
    banned = np.asarray(prohibited, dtype=bool)
    benign = float(mu[0])
    return np.where(banned, mu, benign + qs * (mu - benign))


def threshold_grid(
    min_strictness: float, max_strictness: float, points: int = GRID_POINTS
) -> FloatArray:
    """Score thresholds ``t_g = Φ⁻¹(1 − s_g)``, ``s_g`` evenly spaced in logit between
    the two strictness bounds (kept 1e-12 inside (0, 1)), lowest threshold (strictest) first."""
    eps = 1e-12
    low = min(max(min_strictness, eps), 1.0 - eps)
    high = min(max(max_strictness, eps), 1.0 - eps)
    logits = np.linspace(math.log(high / (1.0 - high)), math.log(low / (1.0 - low)), points)
    strictness = 1.0 / (1.0 + np.exp(-logits))
    return np.asarray(-ndtri(strictness), dtype=float)


def reading_mean(per_reading: FloatArray, weights: FloatArray | None) -> FloatArray:
    """``Σ_j w_j x_j`` over the last axis (the readings); ``weights`` None: the plain mean."""
    values = np.asarray(per_reading, dtype=float)
    if weights is None:
        return np.asarray(values.mean(axis=-1))
    return np.asarray(values @ np.asarray(weights, dtype=float))


def violation_probability(expected_found: FloatArray | float, tolerance: float) -> FloatArray:
    """P(an audit finds more than ``tolerance`` violations) when the count it finds is
    Poisson with mean ``expected_found`` (a sum of Binomial(n_k, σ q_k) with small
    ``σ q_k``, S10): ``1 − e^{−μ}`` at a tolerance below 1, else the Poisson survival
    function at ``⌊tolerance⌋``."""
    mean = np.maximum(np.asarray(expected_found, dtype=float), 0.0)
    allowed = math.floor(tolerance)
    if allowed == 0:
        # P(N > 0) = 1 − P(N = 0), written so that it is exact for small μ (and a
        # quarter of the time of the incomplete gamma function on the policy's grids).
        return np.asarray(-np.expm1(-mean), dtype=float)
    return np.asarray(pdtrc(allowed, mean), dtype=float)


@dataclass(frozen=True)
class Exposure:
    """The regulator as a platform sees it (fixed for a run, S10): the posts an audit
    inspects (``sample_size``, drawn from the window's published posts), the tolerance
    (a count among them) and the liability mode."""

    sample_size: float
    tolerance: float
    liability: str

    def violation(
        self,
        flows: FloatArray,
        counted: FloatArray,
        published_share: FloatArray,
        detection: float,
        weights: FloatArray | None = None,
    ) -> FloatArray:
        """``P(t) = Σ_j w_j P(Poisson(μ_j(t)) > tolerance)`` per grid point: the chance
        an audit finds a violation, over the ``J`` readings of the law (``counted`` of
        shape (grid, readings, kinds): :meth:`Moderation.counted`) weighed by the
        platform's belief ``w`` in each (None: equally, ``1/J``), ``μ_j`` the audit's
        expected finds under reading ``j`` (:meth:`expected_found`)."""
        found = self.expected_found(flows, counted, published_share, detection)
        return reading_mean(violation_probability(found, self.tolerance), weights)

    def expected_found(
        self,
        flows: FloatArray,
        counted: FloatArray,
        published_share: FloatArray,
        detection: float,
    ) -> FloatArray:
        """``μ = κ̂ · n · Σ_k N_k X_k / Σ_k N_k p_k(t)`` per grid point and reading
        (``counted`` ``X``: (grid, readings, kinds) -> (grid, readings); or (grid, kinds)
        -> (grid,)): the audit's ``n`` posts times the share of the published posts that
        are violations. A ratio of flows, so the same at any platform size."""
        n_k = np.asarray(flows, dtype=float)
        x = np.asarray(counted, dtype=float)
        violating = x @ n_k
        published = np.asarray(published_share) @ n_k
        if x.ndim == 3:
            published = published[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(published > 0.0, violating / published, 0.0)
        return np.asarray(detection * self.sample_size * np.clip(share, 0.0, 1.0))


def expected_daily_cost(
    removal: FloatArray,
    violation: FloatArray,
    flows: FloatArray,
    q: FloatArray,
    wrongful_removal_cost: float,
    audits_per_day: float,
    ladder: Ladder,
) -> FloatArray:
    """``J`` on the grid (currency per day): goodwill lost on lawful posts taken down,
    counted by the chance ``1 − q_k`` that they are lawful in the regulator's eyes (B5),
    as a share of the posts reaching the platform (``wrongful_removal_cost`` is what the
    platform loses a day if every post reaching it were a lawful post taken down),
    plus the penalties of the ladder ahead as a daily amount (:func:`ladder_penalty`)."""
    n_k = np.asarray(flows, dtype=float)
    total = float(n_k.sum())
    lawful = n_k * (1.0 - np.asarray(q)) / total if total > 0.0 else np.zeros_like(n_k)
    goodwill = wrongful_removal_cost * (np.asarray(removal) @ lawful)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(goodwill + ladder_penalty(violation, ladder, audits_per_day))


def cheapest_threshold(thresholds: FloatArray, cost: FloatArray, current: float) -> float:
    """The grid threshold of least cost; among equal costs (to 1e-12 relative) the one
    nearest ``current``, so a flat cost leaves the policy where it is."""
    cost = np.asarray(cost, dtype=float)
    best = float(cost.min())
    ties = np.flatnonzero(cost <= best + 1e-12 * max(1.0, abs(best)))
    grid = np.asarray(thresholds, dtype=float)
    return float(grid[ties[np.argmin(np.abs(grid[ties] - current))]])


def refined_threshold(thresholds: FloatArray, cost: FloatArray, current: float) -> float:
    """:func:`cheapest_threshold`, refined between its grid neighbours: where the grid's
    cheapest point is inside the grid and both neighbours cost strictly more, the vertex
    of the parabola through the three points (in threshold). So the chosen threshold
    moves continuously with the costs (a dearer fine makes the platform a little
    stricter, not stricter only when the argmin jumps a grid point); a flat cost still
    leaves the policy where it is."""
    grid = np.asarray(thresholds, dtype=float)
    cost = np.asarray(cost, dtype=float)
    chosen = cheapest_threshold(grid, cost, current)
    g = int(np.flatnonzero(grid == chosen)[0])
    if g == 0 or g == len(grid) - 1:
        return chosen
    (t0, t1, t2), (j0, j1, j2) = grid[g - 1 : g + 2], cost[g - 1 : g + 2]
    slack = 1e-12 * max(1.0, abs(j1))
    if not (np.isfinite(j0) and np.isfinite(j2) and j0 > j1 + slack and j2 > j1 + slack):
        return chosen
    left, right = (t1 - t0) * (j1 - j2), (t1 - t2) * (j1 - j0)
    denominator = left - right
    if denominator == 0.0:
        return chosen
    with np.errstate(over="ignore", invalid="ignore"):
        vertex = t1 - 0.5 * ((t1 - t0) * left - (t1 - t2) * right) / denominator
    if not np.isfinite(vertex):  # costs near 1e308: their differences overflow
        return chosen
    return float(min(max(vertex, min(t0, t2)), max(t0, t2)))


@dataclass(frozen=True)
class PolicyInputs:
    """Everything the day's policy choice reads, for :func:`policy_threshold`."""

    thresholds: FloatArray
    moderation: Moderation
    exposure: Exposure
    flows: FloatArray  # posts per day reaching the platform, per kind
    q: FloatArray
    wrongful_removal_cost: float
    ladder: Ladder
    audits_per_day: float  # λ̂
    detection: float = 1.0  # κ̂
    #: ``ℓ_k(u_j)`` (readings, kinds); None: :func:`reading_lines` of ``q`` and the
    #: moderation's reviewer means.
    lines: FloatArray | None = None
    #: What late reviews add to an audit's count, (grid, readings, kinds)
    #: (:func:`simulator.model.deadline_miss.late_counted`); None: nothing.
    late: FloatArray | None = None
    #: ``w_j``, the belief in each reading (:class:`AuditPosterior`); None: equal.
    reading_weights: FloatArray | None = None

    def reading_lines(self) -> FloatArray:
        if self.lines is not None:
            return self.lines
        return reading_lines(self.q, self.moderation.reviewer_mean)


def policy_cost(inputs: PolicyInputs) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(J, P_violation, expected_found)`` on the grid of ``inputs`` (``expected_found``
    averaged over the readings with the platform's weights)."""
    removal = inputs.moderation.removal(inputs.thresholds)
    counted = inputs.moderation.counted(
        inputs.thresholds, inputs.exposure.liability, inputs.reading_lines()
    )
    counted = counted if inputs.late is None else counted + inputs.late
    published = inputs.moderation.published(inputs.thresholds)
    found = inputs.exposure.expected_found(inputs.flows, counted, published, inputs.detection)
    weights = inputs.reading_weights
    violation = inputs.exposure.violation(
        inputs.flows, counted, published, inputs.detection, weights
    )
    found = reading_mean(found, weights)
    cost = expected_daily_cost(
        removal, violation, inputs.flows, inputs.q, inputs.wrongful_removal_cost,
        inputs.audits_per_day, inputs.ladder,
    )  # fmt: skip
    return cost, violation, found


def policy_threshold(inputs: PolicyInputs, current: float) -> float:
    """The threshold that minimises :func:`expected_daily_cost` today (grid argmin,
    ties to the point nearest ``current``, refined between grid points:
    :func:`refined_threshold`)."""
    cost, _, _ = policy_cost(inputs)
    return refined_threshold(inputs.thresholds, cost, current)


@dataclass
class AuditBelief:
    """A platform's belief about audits: how often they come and how much they find.

    Rate: Gamma(a0 + audits seen, b0 + days watched) on audits per day, with
    ``b0 = prior_days`` and ``a0 = b0 × prior_per_day``; its mean
    ``(a0 + n)/(b0 + days)`` converges to the true rate. Detection:
    ``κ̂ = (k0 + Σ found)/(k0 + Σ predicted)`` over the prohibited-kind posts audits
    counted and the platform predicted (``k0`` = :data:`DETECTION_PRIOR_COUNT`), and, given
    it, the belief in each reading of the law (``believed_line.AuditPosterior``); an audit
    that read no post (its window's first day) teaches the rate only."""

    prior_per_day: float
    prior_days: float
    audits_seen: int = 0
    days_watched: float = 0.0
    posterior: AuditPosterior = field(default_factory=AuditPosterior)

    @property
    def audits_per_day(self) -> float:
        a0 = self.prior_days * self.prior_per_day
        return (a0 + self.audits_seen) / (self.prior_days + self.days_watched)

    @property
    def detection(self) -> float:
        return self.posterior.detection

    def watch_day(self) -> None:
        self.days_watched += 1.0  # one more day watched, audits or not

    def audited(
        self,
        found: float,
        predicted: float,
        predicted_lawful: FloatArray | None = None,
        found_lawful: float = 0.0,
        read_posts: bool = True,
    ) -> None:
        """An audit happened: it found ``found`` violations (``found_lawful`` of lawful
        kinds) where the platform predicted, at ``κ = 1``, ``predicted`` of prohibited
        kinds and ``predicted_lawful`` (per reading; None: no lawful kind near the line)."""
        self.audits_seen += 1
        posterior = self.posterior
        if not read_posts:
            return
        lawful = np.zeros(posterior.readings) if predicted_lawful is None else predicted_lawful
        posterior.audited(found, predicted, lawful, found_lawful)


#: Half-life (days) of a platform's count of the posts that reach it per day.
FLOW_HALF_LIFE_DAYS = 7.0


@dataclass
class PlatformPolicy:
    """One platform's policy during a run: what is fixed (its moderation as it computes
    it, the regulator as it sees it, the line probabilities, the grid) and what it learns
    (posts per day by kind, beliefs about audits)."""

    moderation: Moderation
    exposure: Exposure
    q: FloatArray
    thresholds: FloatArray
    belief: AuditBelief
    wrongful_removal_cost: float
    flows: FloatArray | None = None
    #: ``ℓ_k(u_j)``, the believed line under each reading (:mod:`.believed_line`).
    lines: FloatArray | None = None
    #: Prohibited-kind violations the platform expects an audit to find at today's
    #: threshold (κ = 1; the same under every reading).
    predicted_prohibited: float = 0.0
    #: Lawful-kind violations per reading an audit would find at today's threshold (κ = 1).
    predicted_lawful: FloatArray | None = None
    #: Audits of the same enforcement lived through before day 0, still to be learned
    #: from (:meth:`learn_experience`; 0 once learned).
    audits_experienced: float = 0.0
    _grid_tables: tuple[FloatArray, FloatArray, FloatArray] | None = field(default=None, repr=False)
    #: Other tables of the grid fixed for a run, by name (:meth:`grid_table`).
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def count_day(self, reached: FloatArray) -> None:
        """Today's posts per kind that reached the platform on a moderated channel; one
        more day watched for audits."""
        today = np.asarray(reached, dtype=float)
        if self.flows is None:
            self.flows = today.copy()
        else:
            self.flows = self.flows + (1.0 - 0.5 ** (1.0 / FLOW_HALF_LIFE_DAYS)) * (
                today - self.flows
            )
        self.belief.watch_day()

    def inputs(self, ladder: Ladder, late: FloatArray | None = None) -> PolicyInputs:
        flows = self.flows if self.flows is not None else np.zeros(len(self.q))
        return PolicyInputs(
            thresholds=self.thresholds,
            moderation=self.moderation,
            exposure=self.exposure,
            flows=flows,
            q=self.q,
            wrongful_removal_cost=self.wrongful_removal_cost,
            ladder=ladder,
            audits_per_day=self.belief.audits_per_day,
            detection=self.belief.detection,
            lines=self.reading_lines(),
            late=late,
            reading_weights=self.reading_weights(),
        )

    def reading_weights(self) -> FloatArray:
        """``w_j``: today's belief in each reading of the law."""
        return self.belief.posterior.weights

    def believed_counted(self) -> FloatArray:
        """Per kind, today's chance it gives a post of being counted in an audit
        (:func:`~simulator.model.believed_line.believed_counted`; ``q_k`` before audits)."""
        return believed_counted(
            self.reading_lines(), self.moderation.reviewer_mean, self.reading_weights()
        )

    def reading_lines(self) -> FloatArray:
        """The believed line under each reading (computed once)."""
        if self.lines is None:
            self.lines = reading_lines(self.q, self.moderation.reviewer_mean)
        return self.lines

    def target(self, current: float, ladder: Ladder, late: FloatArray | None = None) -> float:
        """Today's cheapest threshold: :func:`policy_threshold`, with the grid's removal,
        counted and published shares (fixed for a run) computed once; ``late``: what late
        reviews add to the count on the grid (:attr:`PolicyInputs.late`)."""
        return refined_threshold(self.thresholds, self.grid_cost(ladder, late), current)

    def grid_cost(self, ladder: Ladder, late: FloatArray | None = None) -> FloatArray:
        """``J`` on the threshold grid (currency per day, :func:`expected_daily_cost`),
        as :meth:`target` weighs it."""
        inputs = self.inputs(ladder, late)
        removal, counted, published = self._tables()
        counted = counted if late is None else counted + late
        violation = self.exposure.violation(
            inputs.flows, counted, published, inputs.detection, inputs.reading_weights
        )
        return expected_daily_cost(
            removal, violation, inputs.flows,
            self.q, self.wrongful_removal_cost, inputs.audits_per_day, ladder,
        )  # fmt: skip

    def grid_cost_by_queue(self, ladder: Ladder, lates: FloatArray) -> FloatArray:
        """:meth:`grid_cost` for each of a stack of ``lates`` (queues, grid, readings,
        kinds): shape (queues, grid), in one pass over the stacked grids."""
        queues, points = lates.shape[0], len(self.thresholds)
        removal, counted, published = self._tables()
        flows = self.flows if self.flows is not None else np.zeros(len(self.q))
        stacked = (counted[None] + lates).reshape((queues * points,) + counted.shape[1:])
        violation = self.exposure.violation(
            flows, stacked, np.tile(published, (queues, 1)), self.belief.detection,
            self.reading_weights(),
        )  # fmt: skip
        cost = expected_daily_cost(
            np.tile(removal, (queues, 1)), violation, flows, self.q,
            self.wrongful_removal_cost, self.belief.audits_per_day, ladder,
        )  # fmt: skip
        return np.asarray(cost).reshape(queues, points)

    def grid_table(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()``'s table of the grid, made once a run (its inputs, the moderation, the
        grid and the believed lines, are fixed for a run; :meth:`forget_tables` when a
        timeline changes them)."""
        if name not in self._memo:
            self._memo[name] = make()
        return self._memo[name]

    def forget_tables(self) -> None:
        """The moderation, the exposure or the line changed (a timeline entry): the
        believed lines under each reading (made from ``q`` and the reviewer means) and the
        grid's tables are made again when next read. What the platform learned (the flows,
        its belief in each reading) is kept."""
        self.lines = None
        self._grid_tables = None
        self._memo.clear()

    def _tables(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The grid's removal, counted and published shares (fixed for a run), once."""
        if self._grid_tables is None:
            self._grid_tables = (
                self.moderation.removal(self.thresholds),
                self.moderation.counted(
                    self.thresholds, self.exposure.liability, self.reading_lines()
                ),
                self.moderation.published(self.thresholds),
            )
        return self._grid_tables

    def expect_at(self, threshold: float, late: FloatArray | None = None) -> None:
        """Set what the next audit is judged against at ``threshold`` (at ``κ = 1``):
        :attr:`predicted_prohibited`, the prohibited-kind violations (the same under
        every reading), and :attr:`predicted_lawful`, the lawful-kind ones under each
        reading; ``late``, shape (1, readings, kinds): what late reviews add there."""
        flows = self.flows if self.flows is not None else np.zeros(len(self.q))
        at = np.array([threshold])
        counted = self.moderation.counted(at, self.exposure.liability, self.reading_lines())
        counted = counted if late is None else counted + late
        published = self.moderation.published(at)
        lawful_mask = lawful_kinds(self.q)
        lawful = counted * lawful_mask
        self.predicted_lawful = self.exposure.expected_found(flows, lawful, published, 1.0)[0]
        # Prohibited kinds count under every reading: the first reading's is theirs.
        prohibited = counted * (1.0 - lawful_mask)
        found = self.exposure.expected_found(flows, prohibited, published, 1.0)[0]
        self.predicted_prohibited = float(found[0])

    def learn_experience(self, threshold: float, late: FloatArray | None = None) -> None:
        """Before its first choice: learn from :attr:`audits_experienced` audits as if each
        had come at ``threshold`` (its initial one) with the posts of its first day
        (:attr:`flows`), found the prohibited posts predicted there and no lawful one
        (``AuditPosterior.experienced``; docs/model.md S8, "Experience"). Once."""
        audits, self.audits_experienced = self.audits_experienced, 0.0
        if audits <= 0.0:
            return
        self.expect_at(threshold, late)
        lawful = self.predicted_lawful
        if lawful is None:
            lawful = np.zeros(self.belief.posterior.readings)
        self.belief.posterior.experienced(audits, self.predicted_prohibited, lawful)

    def audited(self, found: float, found_lawful: float = 0.0, read_posts: bool = True) -> None:
        """An audit found ``found`` violations (``found_lawful`` of lawful kinds: 0, S10)
        against what :meth:`expect_at` predicted: the platform learns the audits' rate, and,
        if it read posts, their detection and the reading in force (``AuditPosterior``)."""
        self.belief.audited(
            found, self.predicted_prohibited, self.predicted_lawful, found_lawful, read_posts
        )
