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
posts; L3, L5). So the platform learns from the audits it experiences which readings are
in force, jointly with how much its audits detect (``κ``, found over predicted): an audit
that counts no lawful post is explained by a narrow reading *or* a weak detection, and
the joint posterior (Bayes' rule with the audit's counts Poisson, the readings equally
likely and ``κ`` Gamma a priori; Gelman et al. 2013, ch. 2) shares the explanation
between them. Prohibited posts count under every reading: their finds pin ``κ`` down,
and once it is known, audits that count no lawful post rule out the broad readings, under
which the platform expected to be caught with lawful posts up; readings under which it
expected none keep their weight, so the fear of the narrow readings, the collateral
censorship nearest the line, stays. The policy weighs each reading's chance of a
violation by its weight ``w_j`` instead of ``1/J``
(:func:`~simulator.model.platform_policy.Exposure.violation`) and the counts by ``κ̂``.
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
    """What a platform believes after its audits: jointly, the reading ``j`` of the law
    in force and the audits' detection ``κ`` (found over predicted).

    Audit ``a`` finds ``f_a`` violations where the platform predicted, at ``κ = 1``,
    ``P_a`` of prohibited kinds (the same under every reading) and ``L_ja`` of lawful
    kinds under reading ``j``; the count is Poisson with mean ``κ (P_a + L_ja)``, and the
    audit says how many of its finds were lawful-kind posts (``f^L_a``; 0 from the
    regulator, S10). With the readings equally likely and ``κ ~ Gamma(k0, k0)``
    (:data:`DETECTION_PRIOR_COUNT`), the posterior is, with ``F = Σ_a f_a``,
    ``P = Σ_a P_a``, ``L_j = Σ_a L_ja`` (Gelman et al. 2013, ch. 2: the Gamma-Poisson
    model, here a mixture over the readings)::

        w_j ∝ Π_a L_ja^(f^L_a) · (k0 + P + L_j)^−(k0 + F)          (κ integrated out)
        κ | j ~ Gamma(k0 + F, k0 + P + L_j)
        κ̂ = Σ_j w_j (k0 + F) / (k0 + P + L_j)                       (posterior mean)

    So an audit that finds nothing is explained by both: a broad reading that expected
    lawful posts becomes less likely, and so does a strong detection, but neither takes
    the whole of the evidence (as two separate updates would, each as if the other's
    unknown were known). Prohibited finds pin ``κ`` down; once they have, lawful posts
    not counted rule the broad readings out. Without lawful kinds (``L_j = 0``) it is
    ``κ̂ = (k0 + F)/(k0 + P)`` with the readings equal."""

    readings: int = READINGS
    prior_count: float = DETECTION_PRIOR_COUNT
    found: float = 0.0  # F
    predicted_prohibited: float = 0.0  # P
    predicted_lawful: FloatArray = field(init=False)  # L_j
    lawful_log_likelihood: FloatArray = field(init=False)  # Σ_a f^L_a log L_ja

    def __post_init__(self) -> None:
        self.predicted_lawful = np.zeros(self.readings)
        self.lawful_log_likelihood = np.zeros(self.readings)

    @property
    def log_weights(self) -> FloatArray:
        """``log w_j`` up to a constant."""
        shape = self.prior_count + self.found
        rate = self.prior_count + self.predicted_prohibited + self.predicted_lawful
        return np.asarray(self.lawful_log_likelihood - shape * np.log(rate), dtype=float)

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
        shape = self.prior_count + self.found
        rate = self.prior_count + self.predicted_prohibited + self.predicted_lawful
        return float(self.weights @ (shape / rate))

    def audited(
        self,
        found: float,
        expected_prohibited: float,
        expected_lawful: FloatArray,
        found_lawful: float = 0.0,
    ) -> None:
        """An audit found ``found`` violations (``found_lawful`` of them lawful-kind
        posts) where the platform predicted, at ``κ = 1``, ``expected_prohibited`` of
        prohibited kinds and ``expected_lawful`` (per reading) of lawful kinds."""
        mu = np.asarray(expected_lawful, dtype=float)
        if mu.shape != self.predicted_lawful.shape:
            raise ValueError(f"expected {self.readings} readings, got shape {mu.shape}")
        self.found += float(found)
        self.predicted_prohibited += float(expected_prohibited)
        self.predicted_lawful = self.predicted_lawful + mu
        if found_lawful > 0.0:
            with np.errstate(divide="ignore"):
                self.lawful_log_likelihood = self.lawful_log_likelihood + float(
                    found_lawful
                ) * np.log(mu)
