"""The rules and decisions of the model as small pure functions (no environment, no state).

Scores follow signal-detection theory: a post of kind ``k`` looks ``N(mean_k, 1)``
"prohibited" to a classifier or a reviewer, and an actor acts on it when the score
exceeds a threshold. Lowering the threshold catches more prohibited posts and more
lawful ones with them, so collateral removal comes out of the threshold a platform
chooses, not out of a parameter. Strictness is the threshold read as a probability:
the share of posts with score ``N(0, 1)`` it would act on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

FloatArray = NDArray[np.floating]
#: An array (the engine, many users at once) or one number (the reference, one user).
Floats = FloatArray | float | np.floating
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


def decide_takedown(reviewer_scores: FloatArray, threshold: float) -> NDArray[np.bool_]:
    """A reviewer removes (or blocks) a post when its score exceeds the platform's threshold."""
    return np.asarray(reviewer_scores > threshold)


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


def perceived_weights(
    prohibited: Sequence[bool], closeness: Sequence[float], vagueness: float
) -> FloatArray:
    """How risky users feel each kind is, per unit of perceived risk (0..1 per kind).

    Prohibited kinds weigh 1. A lawful kind weighs ``vagueness * closeness``: with a bright
    line (vagueness 0) users withhold nothing lawful; the vaguer the line, the more a kind
    that merely looks close to it feels dangerous. No prohibited kind, no weight.
    """
    if not any(prohibited):
        return np.zeros(len(prohibited))
    return np.array(
        [1.0 if p else vagueness * c for p, c in zip(prohibited, closeness, strict=True)]
    )


def withholds(perceived_risk: Floats, kind_weight: Floats, boldness: Floats) -> NDArray[np.bool_]:
    """Self-censorship: a user withholds a post when its perceived risk exceeds their boldness."""
    return np.asarray(perceived_risk * kind_weight > boldness)


def update_risk(risk: Floats, signal: Floats, decay: float) -> FloatArray:
    """One day of learning: ``r' = r d + (1 - r d)(1 - exp(-signal))``, stays in [0, 1].

    ``decay`` is the share of perceived risk kept after a day without signals
    (``0.5 ** (1 / half_life_days)``); ``signal`` is the weighted count of enforcement
    seen that day.
    """
    kept = risk * decay
    return kept + (1.0 - kept) * (-np.expm1(-np.asarray(signal)))


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
