"""What a platform's moderation does to a post of each kind at a threshold, as the
platform itself computes it when it chooses its threshold (docs/model.md S4, S5, S7, S8):
:class:`Moderation`, the statement :mod:`simulator.model.platform_policy` weighs.

**Later touches of an approved held post** (issue 17; docs/model.md S5). A held post of
kind ``k`` with reviewer score ``z ~ N(μʳ_k, 1)`` (effective mean) is blocked iff
``z > t + m`` (``m = held_review_margin``); otherwise approved, published, and then
touched as a post published at its approval: flagged for certain where ``m > 0`` (a
sweep's review at ``t`` can then remove what the hold's at ``t + m`` kept; where
``m ≤ 0`` it could remove nothing, and no flag is asked), noticed with ``n_k`` and ordered
with ``o_k`` (the published post's chances, S5a), each review at ``t`` (an order always
removes). So at a constant threshold a held post is taken down iff

    z > t + m,   or it is ordered,   or (m > 0 or noticed) and z > t

and the held part of each share below is (``h = h_k(t)``, ``B = P(z > t + m)``)

    removal        h [B + (1 − B) o_k + (1 − o_k) P(t < z ≤ t + m)]
    published      h (1 − B)                                         (unchanged)
    notified kept  h n_k (1 − o_k) P(z ≤ min(t, t + m))
    counted        h (1 − o_k) P(ℓ < z ≤ min(t, t + m))               strict liability
                   h n_k (1 − o_k) P(ℓ < z ≤ min(t, t + m))           notice liability

(``P(t < z ≤ t + m)`` is 0 for ``m ≤ 0``, so the "flag or notice" of the rule reads as
the certain flag there). A platform without a pre-publication filter (``h ≡ 0``) adds
no held term: its arrays are the same floats as before issue 17.

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
    (docs/model.md S4, S5, S7), as the platform itself computes it; held posts' later
    touches (issue 17) as the module's docstring states them."""

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

    @property
    def held_flagged(self) -> float:
        """1 where an approved held post is flagged at the next sweep (``m > 0``), else 0:
        where the hold's review is as strict as the sweep's or stricter, a second review
        at an unchanged line could remove nothing, and the platform does not ask it."""
        return 1.0 if self.held_review_margin > 0.0 else 0.0

    def approved(self, thresholds: FloatArray) -> FloatArray:
        """``h_k(t) P(z ≤ t + m)``: P(held and approved | reaches the platform), (grid,
        kinds): the held posts published at their approval, whose later touches
        (issue 17) the review line serves."""
        t = np.asarray(thresholds, dtype=float)[:, None]
        kept = ndtr((t + self.held_review_margin) - self.reviewer_mean[None, :])
        return np.asarray(self.hold(thresholds) * kept)

    def held_removable(self, thresholds: FloatArray, lines: FloatArray) -> FloatArray:
        """``h_k (1 − o_k) P(max(t, ℓ) < z ≤ t + m)``, shape (grid, readings, kinds): the
        approved held posts, not ordered, that a later review at ``t`` takes down (the
        flag's, certain where ``m > 0``; a notice's, times ``n_k``), above a reading's line
        ``ℓ``: while such a review waits they are up (:mod:`simulator.model.deadline_miss`).
        0 where ``m ≤ 0`` (the hold's line is then at or under ``t``) and without a filter."""
        t = np.asarray(thresholds, dtype=float)[:, None, None]
        mu = self.reviewer_mean[None, None, :]
        line = np.asarray(lines, dtype=float)[None, :, :]
        held = self.hold(thresholds)[:, None, :]
        top = ndtr((t + self.held_review_margin) - mu)
        between = np.clip(top - ndtr(np.maximum(t, line) - mu), 0.0, None)
        return np.asarray(held * (1.0 - self.monitor[None, None, :]) * between)

    def removal(self, thresholds: FloatArray) -> FloatArray:
        """``r_k(t)``: P(blocked or removed | the post reaches the platform), (grid, kinds).

        Held posts are blocked when the reviewer score passes ``t + held_review_margin``;
        a published post is removed if an order arrives (always complied with) or a flag
        or notice sends it to a reviewer whose score passes ``t`` (one score per post).
        An approved held post is a published post too (issue 17): ordered with ``o_k``,
        and, where ``m > 0``, flagged, so taken down if ``t < z ≤ t + m``:

            r_k = h [B + (1 − B) o_k + (1 − o_k) P(t < z ≤ t + m)] + (1 − h) removed_k
        """
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = self.hold(thresholds)
        blocked = ndtr(self.reviewer_mean[None, :] - (t + self.held_review_margin))
        flag = self.flag_share(thresholds)
        reviewed = 1.0 - (1.0 - flag) * (1.0 - self.notice[None, :])
        passes = ndtr(self.reviewer_mean[None, :] - t)
        removed = self.monitor[None, :] + (1.0 - self.monitor[None, :]) * reviewed * passes
        if not self.prepublication_filter:  # h = 0: the floats of before issue 17
            return np.asarray(held * blocked + (1.0 - held) * removed)
        monitor = self.monitor[None, :]
        # Passed t, kept by the hold's t + m: only where m > 0 (0 otherwise).
        between = np.clip(passes - blocked, 0.0, None) * self.held_flagged
        held_down = blocked + (1.0 - blocked) * monitor + (1.0 - monitor) * between
        return np.asarray(held * held_down + (1.0 - held) * removed)

    def published(self, thresholds: FloatArray) -> FloatArray:
        """``p_k(t)``: P(published | the post reaches the platform), (grid, kinds): all but
        the held posts the reviewer blocks (a post removed later was published, an
        approved held post too)."""
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = self.hold(thresholds)
        blocked = ndtr(self.reviewer_mean[None, :] - (t + self.held_review_margin))
        return np.asarray(1.0 - held * blocked)

    def notified_kept(self, thresholds: FloatArray) -> FloatArray:
        """P(published, noticed, and kept up by the reviewer | reaches the platform):
        what a notice-based audit can hold against the platform, (grid, kinds). An
        approved held post noticed and not ordered is kept iff ``z ≤ min(t, t + m)``
        (issue 17): ``+ h n_k (1 − o_k) P(z ≤ min(t, t + m))``."""
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = self.hold(thresholds)
        declined = ndtr(t - self.reviewer_mean[None, :])
        kept = (1.0 - held) * self.notice[None, :] * (1.0 - self.monitor[None, :]) * declined
        if not self.prepublication_filter:
            return np.asarray(kept)
        low = np.minimum(t, t + self.held_review_margin)
        held_kept = ndtr(low - self.reviewer_mean[None, :])
        notice, monitor = self.notice[None, :], self.monitor[None, :]
        return np.asarray(held * notice * (1.0 - monitor) * held_kept + kept)

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
        :func:`~simulator.model.believed_line.reading_lines`. Strict liability: held,
        approved, not ordered and kept (``ℓ < z ≤ min(t, t + held_review_margin)``: the
        hold's line, and where ``m > 0`` the flag's), or published and neither ordered nor
        taken down by a review (unreviewed with ``z > ℓ``, or reviewed with
        ``ℓ < z ≤ t``); notice liability: noticed, not ordered, kept (``ℓ < z ≤ t``; a
        held post ``ℓ < z ≤ min(t, t + m)``). At ``ℓ = −∞`` it is :meth:`exposure`; at
        ``ℓ = +∞``, 0."""
        t = np.asarray(thresholds, dtype=float)[:, None, None]
        mu = self.reviewer_mean[None, None, :]
        line = np.asarray(lines, dtype=float)[None, :, :]
        below_line = ndtr(line - mu)

        def between(top: FloatArray) -> FloatArray:  # P(ℓ < z ≤ top)
            return np.asarray(np.clip(ndtr(top - mu) - below_line, 0.0, None))

        held = self.hold(thresholds)[:, None, :]
        monitor, notice = self.monitor[None, None, :], self.notice[None, None, :]
        filtered = self.prepublication_filter
        # An approved held post kept up: under the hold's line and, reviewed later, t's.
        held_kept = (
            held * (1.0 - monitor) * between(np.minimum(t, t + self.held_review_margin))
            if filtered
            else None
        )
        if liability == NOTICE:
            published_kept = (1.0 - held) * notice * (1.0 - monitor) * between(t)
            if held_kept is None:  # no filter: the floats of before issue 17
                return np.asarray(published_kept)
            return np.asarray(notice * held_kept + published_kept)
        if liability != STRICT:
            raise ValueError(f"unknown liability {liability!r}; allowed: {list(LIABILITY_MODES)}")
        above_flag = ndtr(self.classifier_mean[None, None, :] - (t + self.flag_margin))
        with np.errstate(invalid="ignore", divide="ignore"):
            flag = np.clip(np.where(held < 1.0, (above_flag - held) / (1.0 - held), 0.0), 0, 1)
        reviewed = 1.0 - (1.0 - flag) * (1.0 - notice)
        published_up = (1.0 - reviewed) * (1.0 - below_line) + reviewed * between(t)
        published_part = (1.0 - held) * (1.0 - monitor) * published_up
        if held_kept is None:
            return np.asarray(held * between(t + self.held_review_margin) + published_part)
        return np.asarray(held_kept + published_part)
