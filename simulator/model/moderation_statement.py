"""What a platform's moderation does to a post of each kind at a threshold, as the
platform itself computes it when it chooses its threshold (docs/model.md S4, S5, S7, S8):
:class:`Moderation`, the statement :mod:`simulator.model.platform_policy` weighs.

Moved out of :mod:`simulator.model.platform_policy` (module line limit); that module
re-exports :class:`Moderation` and the liability modes, so imports from it keep working.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

FloatArray = NDArray[np.float64]

#: The liability modes (``rules.takedown.liability``).
STRICT, NOTICE = "strict", "notice"
LIABILITY_MODES = (STRICT, NOTICE)


@dataclass(frozen=True)
class Moderation:
    """What a platform's moderation does to a post of each kind at a threshold ``t``
    (docs/model.md S4, S5, S7), as the platform itself computes it."""

    classifier_mean: FloatArray  # effective, per kind
    reviewer_mean: FloatArray  # effective, per kind
    prepublication_filter: bool
    hold_margin: float
    flag_margin: float
    held_review_margin: float
    notice: FloatArray  # P(a notice | published in-scope post), per kind (public share included)
    monitor: FloatArray  # P(an order | published in-scope post), per kind

    def hold(self, thresholds: FloatArray) -> FloatArray:
        """P(held before publication), shape (grid, kinds)."""
        t = np.asarray(thresholds, dtype=float)[:, None]
        if not self.prepublication_filter:
            return np.zeros((t.shape[0], len(self.classifier_mean)))
        return np.asarray(ndtr(self.classifier_mean[None, :] - (t + self.hold_margin)))

    def flag_share(self, thresholds: FloatArray) -> FloatArray:
        """``f_k(t)``: P(the filter flags a published post | not held), (grid, kinds)."""
        held = self.hold(thresholds)
        t = np.asarray(thresholds, dtype=float)[:, None]
        above_flag = ndtr(self.classifier_mean[None, :] - (t + self.flag_margin))
        with np.errstate(invalid="ignore", divide="ignore"):
            flag = np.where(held < 1.0, (above_flag - held) / (1.0 - held), 0.0)
        return np.asarray(np.clip(flag, 0.0, 1.0))

    def removal(self, thresholds: FloatArray) -> FloatArray:
        """``r_k(t)``: P(blocked or removed | the post reaches the platform), (grid, kinds).

        Held posts are blocked when the reviewer score passes ``t + held_review_margin``;
        a published post is removed if an order arrives (always complied with) or a flag
        or notice sends it to a reviewer whose score passes ``t`` (one score per post).
        """
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = self.hold(thresholds)
        blocked = ndtr(self.reviewer_mean[None, :] - (t + self.held_review_margin))
        flag = self.flag_share(thresholds)
        reviewed = 1.0 - (1.0 - flag) * (1.0 - self.notice[None, :])
        passes = ndtr(self.reviewer_mean[None, :] - t)
        removed = self.monitor[None, :] + (1.0 - self.monitor[None, :]) * reviewed * passes
        return np.asarray(held * blocked + (1.0 - held) * removed)

    def published(self, thresholds: FloatArray) -> FloatArray:
        """``p_k(t)``: P(published | the post reaches the platform), (grid, kinds): all but
        the held posts the reviewer blocks (a post removed later was published)."""
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = self.hold(thresholds)
        blocked = ndtr(self.reviewer_mean[None, :] - (t + self.held_review_margin))
        return np.asarray(1.0 - held * blocked)

    def notified_kept(self, thresholds: FloatArray) -> FloatArray:
        """P(published, noticed, and kept up by the reviewer | reaches the platform):
        what a notice-based audit can hold against the platform, (grid, kinds)."""
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = self.hold(thresholds)
        declined = ndtr(t - self.reviewer_mean[None, :])
        return np.asarray(
            (1.0 - held) * self.notice[None, :] * (1.0 - self.monitor[None, :]) * declined
        )

    def exposure(self, thresholds: FloatArray, liability: str) -> FloatArray:
        """Share of each kind's posts that an audit inspects under ``liability``:
        ``strict``, everything still up (``1 − r_k``, L1 Art. 47); ``notice``, what was
        notified and kept up (L5, L7 Art. 6, 16)."""
        if liability == STRICT:
            return np.asarray(1.0 - self.removal(thresholds))
        if liability == NOTICE:
            return self.notified_kept(thresholds)
        raise ValueError(f"unknown liability {liability!r}; allowed: {list(LIABILITY_MODES)}")

    def counted(self, thresholds: FloatArray, liability: str, lines: FloatArray) -> FloatArray:
        """``X_k(t; ℓ)``: share of kind ``k``'s posts that an audit can hold against the
        platform (:meth:`exposure`) *and* whose reviewer score ``z`` lies above the line
        ``ℓ`` of a reading, shape (grid, readings, kinds); ``lines`` (readings, kinds) from
        :func:`~simulator.model.believed_line.reading_lines`. Strict liability: held and
        kept (``ℓ < z ≤ t + held_review_margin``), or published and neither ordered nor
        taken down by a review (unreviewed with ``z > ℓ``, or reviewed with
        ``ℓ < z ≤ t``); notice liability: noticed, not ordered, kept (``ℓ < z ≤ t``).
        At ``ℓ = −∞`` it is :meth:`exposure`; at ``ℓ = +∞``, 0."""
        t = np.asarray(thresholds, dtype=float)[:, None, None]
        mu = self.reviewer_mean[None, None, :]
        line = np.asarray(lines, dtype=float)[None, :, :]
        below_line = ndtr(line - mu)

        def between(top: FloatArray) -> FloatArray:  # P(ℓ < z ≤ top)
            return np.asarray(np.clip(ndtr(top - mu) - below_line, 0.0, None))

        held = self.hold(thresholds)[:, None, :]
        monitor, notice = self.monitor[None, None, :], self.notice[None, None, :]
        if liability == NOTICE:
            return np.asarray((1.0 - held) * notice * (1.0 - monitor) * between(t))
        if liability != STRICT:
            raise ValueError(f"unknown liability {liability!r}; allowed: {list(LIABILITY_MODES)}")
        above_flag = ndtr(self.classifier_mean[None, None, :] - (t + self.flag_margin))
        with np.errstate(invalid="ignore", divide="ignore"):
            flag = np.clip(np.where(held < 1.0, (above_flag - held) / (1.0 - held), 0.0), 0, 1)
        reviewed = 1.0 - (1.0 - flag) * (1.0 - notice)
        published_up = (1.0 - reviewed) * (1.0 - below_line) + reviewed * between(t)
        return np.asarray(
            held * between(t + self.held_review_margin)
            + (1.0 - held) * (1.0 - monitor) * published_up
        )
