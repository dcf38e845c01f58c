"""Where a platform believes the regulator draws a vague line (issue 16 item 3; docs/model.md S8).

A vague law leaves the platform unsure *which posts* of a lawful kind the regulator would
count as prohibited (Craswell & Calfee 1986, B6; Keller 2018, B5). The regulator reads the
law one way for every post (a reading ``u``: how broadly it reads it); under that reading
a post of lawful kind ``k`` counts when its reviewer score ``z`` (how prohibited it looks,
``N(μʳ_k, 1)``, S4) lies above the line

    ℓ_k(u) = μʳ_k − √(1 + σ²) · Φ⁻¹(q_k) − σ · u,        u ~ N(0, 1)

so posts that look more prohibited are more likely to count, and over the readings a post
of the kind counts with chance ``q_k`` on average (``E_u Φ(μʳ_k − ℓ_k(u)) = q_k``, the line
probability of :func:`~simulator.model.platform_policy.line_probability`). ``σ`` (the
line's spread, :data:`LINE_SPREAD`) is how unsure the platform is of where the line sits
on the score scale: at ``σ → 0`` a sharp line it can keep clear of by removing the posts
above it; as ``σ`` grows a reading counts nearly all or none of a kind (one reading per
kind, the all-or-nothing case). The reading is one number for the whole law: a broad
reading counts more of every lawful kind near the line (comonotone across kinds).

A platform therefore removes the lawful posts nearest the line (those its reviewers score
highest) to keep clear of the readings it fears; a vaguer law (higher ``q_k``) moves the
line down the score scale, and the lawful posts it takes down with it are collateral
censorship (B5). Prohibited kinds count under every reading (``ℓ = −∞``); benign posts and
kinds the platform is sure are lawful (``q_k = 0``) never do (``ℓ = +∞``).

The readings are the :data:`READINGS` equally likely quantiles ``u_j = Φ⁻¹((j + ½)/J)``,
the same in the reference model.

**Learning where the line is** (:class:`AuditPosterior`). The regulator reads the law one
way (S10: it counts what the law prohibits, the enforced line), and each audit tells the
platform which posts it counted (ASSUMPTION: a rectification notice or fine names the
posts; L3, L5). So the platform learns from the audits it experiences how much they
detect (``κ``, from the prohibited posts they count, whose prediction does not depend on
the reading) and, given that, which readings are in force (Bayes' rule with the
lawful-kind count Poisson; Gelman et al. 2013, ch. 2): audits that count no lawful post
make the broad readings, under which the platform expected to be caught with lawful
posts up, less likely by ``e^{−κ̂ μᴸ_j}`` each; the narrowest keep the weight, so the
fear of the narrow readings, the collateral censorship nearest the line, stays. The
policy weighs each reading's chance of a violation by its weight ``w_j`` instead of
``1/J`` (:func:`~simulator.model.platform_policy.Exposure.violation`) and the counts by
``κ̂``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

FloatArray = NDArray[np.float64]

#: Equally likely readings of the law a platform weighs (quantiles of ``u``).
READINGS = 32
#: ``σ``: spread of the believed line on the reviewer score scale, in units of the
#: reviewer's noise (ASSUMPTION: the platform knows where the line sits to within half
#: the noise of one review; sensitivity at 1.0 in docs/validation.md, defect 2).
LINE_SPREAD = 0.5


def reading_quantiles(readings: int = READINGS) -> FloatArray:
    """``u_j = Φ⁻¹((j + ½)/J)``, ``j = 0..J−1``: the readings, narrowest first."""
    return np.asarray(ndtri((np.arange(readings) + 0.5) / readings), dtype=float)


def reading_lines(
    q: Sequence[float] | FloatArray,
    reviewer_mean: Sequence[float] | FloatArray,
    spread: float | None = None,
    readings: int = READINGS,
) -> FloatArray:
    """``ℓ_k(u_j)``, shape (readings, kinds): the score above which a post of kind ``k``
    counts under reading ``j``; ``−∞`` for ``q_k ≥ 1`` (counted whatever it looks like),
    ``+∞`` for ``q_k ≤ 0`` (never counted). ``spread``: :data:`LINE_SPREAD` if None."""
    spread = LINE_SPREAD if spread is None else spread
    if spread < 0.0 or not math.isfinite(spread):
        raise ValueError(f"line spread must be finite and >= 0, got {spread!r}")
    qs = np.asarray(q, dtype=float)
    mu = np.asarray(reviewer_mean, dtype=float)
    u = reading_quantiles(readings)
    lines = np.empty((readings, len(qs)))
    for k, (qk, mk) in enumerate(zip(qs, mu, strict=True)):
        if qk >= 1.0:
            lines[:, k] = -np.inf
        elif qk <= 0.0:
            lines[:, k] = np.inf
        else:
            lines[:, k] = mk - math.sqrt(1.0 + spread**2) * float(ndtri(qk)) - spread * u
    return lines


def believed_counted(
    lines: FloatArray, reviewer_mean: Sequence[float] | FloatArray, weights: FloatArray
) -> FloatArray:
    """Per kind, the chance the platform gives a post of the kind of being counted in an
    audit: ``Σ_j w_j Φ(μʳ_k − ℓ_k(u_j))`` over the readings (``lines``, (readings, kinds))
    with its belief ``w`` in each. With equal weights it is ``q_k`` (to the quadrature of
    the readings); 1 for prohibited kinds, 0 for benign ones."""
    mu = np.asarray(reviewer_mean, dtype=float)[None, :]
    counted = ndtr(mu - np.asarray(lines, dtype=float))
    return np.asarray(np.asarray(weights, dtype=float) @ counted, dtype=float)


def lawful_kinds(q: Sequence[float] | FloatArray) -> FloatArray:
    """1.0 for each kind that is not prohibited (``q_k < 1``), 0.0 for prohibited kinds:
    the mask of the kinds whose counting depends on the reading."""
    return np.asarray(np.asarray(q, dtype=float) < 1.0, dtype=float)


#: ``k0``: the prior's weight on the audits' detection ``κ``, in predicted violations
#: (``κ ~ Gamma(k0, rate k0)``, mean 1: the platform's own expectation, trusted like
#: two violations' worth of audits).
DETECTION_PRIOR_COUNT = 2.0


@dataclass
class AuditPosterior:
    """What a platform believes after its audits: how much they detect (``κ``, found
    over predicted) and which reading ``j`` of the law is in force.

    Audit ``a`` finds ``f^P_a`` posts of prohibited kinds where the platform predicted
    ``P_a`` at ``κ = 1`` (the same under every reading) and ``f^L_a`` posts of lawful
    kinds (0 from the regulator, S10) where reading ``j`` predicted ``L_ja``; the counts
    are Poisson with means ``κ P_a`` and ``κ L_ja``. Each is read for what it can tell
    (Gelman et al. 2013, ch. 2: a Gamma prior and a discrete prior, each with its
    Poisson likelihood)::

        κ̂ = (k0 + Σ_a f^P_a) / (k0 + Σ_a P_a)                        κ ~ Gamma(k0, k0)
        log w_j = Σ_a [ f^L_a log(κ̂_a L_ja) − κ̂_a L_ja ] + const      readings equally likely

    with ``κ̂_a`` the detection believed before audit ``a``. Detection is learned from the
    prohibited finds alone, whose prediction does not depend on the reading: the
    lawful-kind finds cannot tell a weak detection from a narrow reading, and the
    enforced line (no lawful post counted, S10) lies outside the readings (even the
    narrowest expects a few lawful finds), so learned jointly ``κ`` would absorb the
    readings' error: lower the vaguer the law, and lowered by an audit that found more
    prohibited posts than predicted (docs/validation.md, "Detection and the line").
    The lawful-kind finds then weigh the readings given ``κ̂``: an audit that counts no
    lawful post makes reading ``j`` less likely by ``e^{−κ̂ L_ja}``, so the broad readings
    fade and the narrowest keep the weight (their fear, the collateral censorship
    nearest the line, stays)."""

    readings: int = READINGS
    prior_count: float = DETECTION_PRIOR_COUNT
    found_prohibited: float = 0.0  # Σ f^P
    predicted_prohibited: float = 0.0  # Σ P
    log_weights: FloatArray = field(init=False)  # log w_j up to a constant

    def __post_init__(self) -> None:
        self.log_weights = np.zeros(self.readings)

    @property
    def weights(self) -> FloatArray:
        """``w_j``, summing to 1 (equal if every reading has been ruled out)."""
        logs = self.log_weights
        if not np.isfinite(logs.max()):
            return np.full(self.readings, 1.0 / self.readings)
        shifted = np.exp(logs - logs.max())
        return np.asarray(shifted / shifted.sum(), dtype=float)

    @property
    def detection(self) -> float:
        """``κ̂``, the posterior mean of the audits' detection."""
        k0 = self.prior_count
        return (k0 + self.found_prohibited) / (k0 + self.predicted_prohibited)

    def audited(
        self,
        found: float,
        expected_prohibited: float,
        expected_lawful: FloatArray,
        found_lawful: float = 0.0,
    ) -> None:
        """An audit found ``found`` violations (``found_lawful`` of them lawful-kind
        posts) where the platform predicted, at ``κ = 1``, ``expected_prohibited`` of
        prohibited kinds and ``expected_lawful`` (per reading) of lawful kinds: the
        readings are weighed with the detection believed before it, then the detection
        learns from the prohibited finds."""
        mu = np.asarray(expected_lawful, dtype=float)
        if mu.shape != self.log_weights.shape:
            raise ValueError(f"expected {self.readings} readings, got shape {mu.shape}")
        expected = self.detection * mu
        lawful = float(found_lawful)
        if lawful > 0.0:
            with np.errstate(divide="ignore"):
                self.log_weights = self.log_weights + lawful * np.log(expected) - expected
        else:
            self.log_weights = self.log_weights - expected
        self.found_prohibited += float(found) - lawful
        self.predicted_prohibited += float(expected_prohibited)

    def experienced(
        self, audits: float, expected_prohibited: float, expected_lawful: FloatArray
    ) -> None:
        """What ``audits`` audits before the run taught (a platform that has lived under
        the same enforcement, docs/model.md S8 "Experience"): each found the prohibited
        posts predicted (``expected_prohibited``, at ``κ = 1``) and no lawful one (the
        regulator counts none, S10), where reading ``j`` predicted ``expected_lawful[j]``::

            Σ f^P += A P,   Σ P += A P,   log w_j −= A κ̂ L_j

        the same as ``A`` calls of :meth:`audited` (for a whole ``A``): a find equal to
        the prediction leaves ``κ̂`` where it is (1 from the prior) and firmer, and each
        clean audit weighs reading ``j`` by ``e^{−κ̂ L_j}``."""
        count = float(audits)
        if count < 0.0:
            raise ValueError(f"audits must be >= 0, got {audits!r}")
        mu = np.asarray(expected_lawful, dtype=float)
        if mu.shape != self.log_weights.shape:
            raise ValueError(f"expected {self.readings} readings, got shape {mu.shape}")
        if count == 0.0:
            return
        self.log_weights = self.log_weights - count * self.detection * mu
        predicted = count * float(expected_prohibited)
        self.found_prohibited += predicted
        self.predicted_prohibited += predicted
