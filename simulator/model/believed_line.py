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

**Learning where the line is** (:class:`ReadingBelief`). The regulator reads the law one
way (S10: it counts what the law prohibits, the enforced line), and each audit tells the
platform which posts it counted (ASSUMPTION: a rectification notice or fine names the
posts; L3, L5). So the platform learns from the audits it experiences which readings are
in force: with the prior weights equal, Bayes' rule with the audit's count of lawful-kind
posts ``f_a`` being Poisson with mean ``μᴸ_j(a)`` under reading ``j`` (the lawful-kind
violations it expected that audit to find there, detection calibration included) gives

    log w_j = Σ_a [ f_a log μᴸ_j(a) − μᴸ_j(a) ] + const,      weights normalised to sum 1

and the policy weighs each reading's chance of a violation by ``w_j`` instead of ``1/J``
(:func:`~simulator.model.platform_policy.Exposure.violation`). Audits that count no
lawful post (every audit, as the regulator counts only prohibited kinds) make the broad
readings, those under which the platform expected to be caught with lawful posts up,
less likely by ``e^{−μᴸ_j}`` each; readings under which it expected none keep their
weight, so the fear of the narrow readings, the collateral censorship nearest the line,
stays. Prohibited posts count under every reading and say nothing about which one is in
force. (Gelman et al. 2013, ch. 2: a discrete prior updated with a Poisson likelihood.)
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


@dataclass
class ReadingBelief:
    """A platform's posterior over the readings of the law (module docstring): log
    weights, equal at the start (the prior), updated at each audit."""

    readings: int = READINGS
    log_weights: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        self.log_weights = np.zeros(self.readings)

    @property
    def weights(self) -> FloatArray:
        """``w_j``, summing to 1 (equal if every reading has been ruled out)."""
        if not np.isfinite(self.log_weights.max()):
            return np.full(self.readings, 1.0 / self.readings)
        shifted = np.exp(self.log_weights - self.log_weights.max())
        return np.asarray(shifted / shifted.sum(), dtype=float)

    def audited(self, expected_lawful: FloatArray, found_lawful: float = 0.0) -> None:
        """An audit counted ``found_lawful`` posts of lawful kinds where the platform
        expected ``μᴸ_j`` (``expected_lawful``, per reading) under each reading: add
        the Poisson log likelihood ``f log μᴸ_j − μᴸ_j`` to each reading's log weight."""
        mu = np.asarray(expected_lawful, dtype=float)
        if mu.shape != self.log_weights.shape:
            raise ValueError(f"expected {self.readings} readings, got shape {mu.shape}")
        found = float(found_lawful)
        if found > 0.0:
            with np.errstate(divide="ignore"):
                self.log_weights = self.log_weights + found * np.log(mu) - mu
        else:
            self.log_weights = self.log_weights - mu
