"""Users' speech: perceived kind weights, effective risk, withholding, learning
(docs/model.md, 3.3 Submodels S3 and S16).

Equations (the readable statement; the compiled passes in :mod:`simulator.kernels.routes`,
:mod:`simulator.kernels.benign` and :mod:`simulator.kernels.learning` compute the same,
tests/test_kernels.py and tests/test_kernels_day.py compare them):

* kind weight (S3): ``w_k = 1`` for a prohibited kind, ``vagueness * closeness_k`` for a
  lawful one, all 0 when nothing is prohibited (:func:`perceived_weights`);
* effective risk (S3): ``e = float32(min(1, r + real_name_risk * traceable))``
  (:func:`effective_risk`);
* withholding (S3): a user withholds a post of kind ``k`` when ``e * w_k > boldness``
  (:func:`withholds`);
* learning (S16): ``r' = r d + (1 - r d)(1 - exp(-signal))`` (:func:`update_risk`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]
#: An array (the engine, many users at once) or one number (the reference, one user).
Floats = FloatArray | float | np.floating
#: Traceable flags: a bool array, or one bool.
Flags = NDArray[np.bool_] | bool | np.bool_


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


def effective_risk(risk: Floats, traceable: Flags, real_name_risk: float) -> FloatArray:
    """The risk a user weighs a post against: perceived ``risk`` (0..1) plus
    ``real_name_risk`` if the user is ``traceable`` (registered under their real name),
    at most 1, rounded to float32: ``float32(min(1, r + real_name_risk * traceable))``,
    the sum in float64. Arrays or one user's numbers (a float32 scalar then)."""
    total = np.asarray(risk, dtype=np.float64) + real_name_risk * np.asarray(
        traceable, dtype=np.float64
    )
    return np.minimum(1.0, total).astype(np.float32)


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
