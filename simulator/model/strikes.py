"""Grounds for a strike (docs/model.md S14, "Grounds for a strike").

A take-down gives its author a strike only if the platform's ``strike_on`` names its
route (S14). Platforms that must suspend for *manifestly* illegal content (DSA Art. 23
and recital 64, L7) or that count strikes only for clear violations (L15) also ask how
sure they are that the post broke the rule. The platform sees a post's reviewer score
``z`` (S4: ``z ~ N(μʳ_k, 1)`` for a post of kind ``k``), not its kind; among the posts its
reviewers looked at today (``n_k`` of kind ``k``), the chance that a post scored ``z`` is
of a prohibited kind is the posterior

    P(prohibited | z) = Σ_{k prohibited} n_k φ(z − μʳ_k) / Σ_k n_k φ(z − μʳ_k)

(Bayes' rule with the day's reviewed mix as the prior and the reviewer's score density
as the likelihood). A take-down gives a strike when the route counts and either the
regulator ordered it (the order itself establishes the violation) or

    P(prohibited | z) ≥ c,     c = strike_confidence_p  (0 ≤ c < 1)

At ``c = 0`` every take-down by a counted route strikes (the rule before this one). At
``c`` near 1 only posts that look far more prohibited than anything lawful reviewed
today strike: lawful posts removed near a vague line (collateral censorship, S8) cost
their authors the post but not the account.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from simulator.kinds import Action

FloatArray = NDArray[np.float64]


def violation_probability(
    score: NDArray[np.floating] | float,
    reviewed_per_kind: NDArray[np.integer] | NDArray[np.floating],
    reviewer_mean: NDArray[np.floating],
    prohibited: NDArray[np.bool_],
) -> FloatArray:
    """``P(prohibited | z)`` for each score ``z`` (reviewer score units), given the day's
    reviewed posts per kind (``n_k``, the prior), the reviewers' mean score per kind
    (``μʳ_k``) and which kinds are prohibited. 0 where no prohibited kind was reviewed;
    1 where only prohibited kinds were.

    Computed in logs (``log n_k − (z − μʳ_k)²/2``, shifted by the row's maximum) so a
    score far in a tail does not underflow to 0/0."""
    z = np.atleast_1d(np.asarray(score, dtype=np.float64))
    counts = np.asarray(reviewed_per_kind, dtype=np.float64)
    mu = np.asarray(reviewer_mean, dtype=np.float64)
    seen = counts > 0.0
    if not np.any(seen & prohibited):
        return np.zeros(len(z))
    log_weight = np.log(counts[seen])[None, :] - 0.5 * (z[:, None] - mu[seen][None, :]) ** 2
    log_weight -= log_weight.max(axis=1, keepdims=True)
    weight = np.exp(log_weight)
    return np.asarray(weight[:, prohibited[seen]].sum(axis=1) / weight.sum(axis=1))


def strike_given(
    route: NDArray[np.integer],
    score: NDArray[np.floating],
    counted_routes: NDArray[np.bool_],
    confidence: float,
    reviewed_per_kind: NDArray[np.integer] | NDArray[np.floating],
    reviewer_mean: NDArray[np.floating],
    prohibited: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """Whether each take-down (its ``route``, ``kinds.Action``, and its post's reviewer
    score) gives its author a strike on one platform: the route is in ``strike_on``
    (``counted_routes[route]``) and the regulator ordered it or
    ``P(prohibited | score) ≥ confidence``."""
    route = np.asarray(route, dtype=np.int64)
    counted = np.asarray(counted_routes, dtype=bool)[route]
    if confidence <= 0.0 or not np.any(counted):
        return counted
    sure = violation_probability(score, reviewed_per_kind, reviewer_mean, prohibited)
    return counted & ((route == Action.ORDER) | (sure >= confidence))
