"""The platform's statement of its moderation with held posts' later touches (issue 17;
docs/model.md S5, S8; simulator/model/moderation_statement.py), against the rule itself.

The rule: a held post of reviewer score ``z`` is blocked iff ``z > t + m``; approved, it
is flagged for certain where ``m > 0``, noticed with ``n_k`` and ordered with ``o_k``
(the published post's chances); a flag's or notice's review removes it iff ``z > t``, an
order always. A Monte-Carlo of that rule, post by post, must give the statement's shares;
a platform without a filter must get the floats it got before (the formulas of before,
copied below as the oracle).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from simulator.model import deadline_miss as dm
from simulator.model.moderation_statement import NOTICE, STRICT, Moderation

#: Posts per kind in the Monte-Carlo: a share's standard error is at most 0.5/√N ≈ 5e-4.
POSTS = 1_000_000
#: Tolerance on a share: over 6 standard errors (the draws are seeded: deterministic).
TOLERANCE = 3e-3


def moderation(margin: float, prefilter: bool = True, seed: int = 0) -> Moderation:
    """Four kinds with scores spread so that every term matters at ``t`` near 0: holds
    from 5% to 60%, orders and notices of a few tens of percent."""
    rng = np.random.default_rng(seed)
    return Moderation(
        classifier_mean=np.array([-1.0, 0.3, 0.8, 1.3]) + rng.normal(0, 0.1, 4),
        reviewer_mean=np.array([-0.8, 0.1, 0.5, 1.0]) + rng.normal(0, 0.1, 4),
        prepublication_filter=prefilter,
        hold_margin=0.2,
        flag_margin=-0.3,
        held_review_margin=margin,
        notice=np.array([0.05, 0.3, 0.4, 0.5]),
        monitor=np.array([0.0, 0.1, 0.2, 0.3]),
    )


def simulate(mod: Moderation, t: float, lines: np.ndarray, seed: int = 1) -> dict[str, np.ndarray]:
    """The rule post by post: per kind, removal, published, notified and kept, and the
    strict and notice counts above each of ``lines`` (readings, kinds)."""
    rng = np.random.default_rng(seed)
    kinds = len(mod.reviewer_mean)
    at = np.array([t])
    hold, flag = mod.hold(at)[0], mod.flag_share(at)[0]
    m = mod.held_review_margin
    out: dict[str, list] = {"removal": [], "published": [], "notified_kept": []}
    out.update({"strict": [], "notice": []})
    for k in range(kinds):
        held = rng.random(POSTS) < hold[k]
        z = mod.reviewer_mean[k] + rng.standard_normal(POSTS)
        flagged = np.where(held, m > 0.0, rng.random(POSTS) < flag[k])
        noticed = rng.random(POSTS) < mod.notice[k]
        ordered = rng.random(POSTS) < mod.monitor[k]
        blocked = held & (z > t + m)
        published = ~blocked
        down = blocked | (published & (ordered | ((flagged | noticed) & (z > t))))
        up = published & ~down
        out["removal"].append(down.mean())
        out["published"].append(published.mean())
        out["notified_kept"].append((up & noticed).mean())
        above = z[None, :] > lines[:, k][:, None]  # (readings, posts)
        out["strict"].append((above & up).mean(axis=1))
        out["notice"].append((above & up & noticed).mean(axis=1))
    return {
        name: np.asarray(values).T if name in (STRICT, NOTICE) else np.asarray(values)
        for name, values in out.items()
    }


LINES = np.array(
    [
        [-np.inf, -np.inf, -np.inf, -np.inf],
        [np.inf, 0.2, -0.4, -np.inf],
        [np.inf, 0.9, 0.6, np.inf],
    ]
)


@pytest.mark.parametrize("margin", [-0.5, 0.0, 0.4])
@pytest.mark.parametrize("t", [-0.3, 0.2])
def test_the_statement_is_the_rule_post_by_post(margin: float, t: float) -> None:
    """Removal, publication, notified posts kept and both liabilities' counts (above three
    readings of the line: every post, a middle one, a high one) from the statement equal
    a Monte-Carlo of the rule within ``TOLERANCE`` (a share), for m < 0, m = 0, m > 0."""
    mod = moderation(margin)
    at = np.array([t])
    simulated = simulate(mod, t, LINES)
    np.testing.assert_allclose(mod.removal(at)[0], simulated["removal"], atol=TOLERANCE)
    np.testing.assert_allclose(mod.published(at)[0], simulated["published"], atol=TOLERANCE)
    np.testing.assert_allclose(mod.notified_kept(at)[0], simulated["notified_kept"], atol=TOLERANCE)
    for liability in (STRICT, NOTICE):
        np.testing.assert_allclose(
            mod.counted(at, liability, LINES)[0], simulated[liability], atol=TOLERANCE
        )
    # The statement's own consistency: counted at ℓ = −∞ is the exposure.
    np.testing.assert_allclose(mod.counted(at, STRICT, LINES)[0, 0], 1 - mod.removal(at)[0])
    np.testing.assert_allclose(mod.counted(at, NOTICE, LINES)[0, 0], mod.notified_kept(at)[0])


def test_the_rule_post_by_post_sees_the_held_terms() -> None:
    """The Monte-Carlo has the power to tell: at m = 0.4 the statement of before issue 17
    (an approved held post never touched again) is off by far more than the tolerance."""
    mod = moderation(0.4)
    at = np.array([0.2])
    simulated = simulate(mod, 0.2, LINES)
    before = OldModeration(mod)
    assert np.max(np.abs(before.removal(at)[0] - simulated["removal"])) > 10 * TOLERANCE


@pytest.mark.parametrize("margin", [-0.5, 0.0, 0.4])
def test_the_hold_never_lowers_the_chance_of_removal(margin: float) -> None:
    """At every threshold of a grid and every kind, a platform with the filter removes
    at least as much as the same platform without it. Where ``m ≥ 0`` the two are equal
    (flag_margin ≤ hold_margin: every held post would have been flagged, and is reviewed
    at ``t`` in the end, by its flag or its hold); the hold only moves the removal
    earlier. Where ``m < 0`` the hold's stricter line blocks more."""
    grid = np.linspace(-2.0, 2.0, 41)
    with_hold = moderation(margin).removal(grid)
    without = moderation(margin, prefilter=False).removal(grid)
    assert (with_hold >= without - 1e-12).all()
    if margin >= 0.0:
        np.testing.assert_allclose(with_hold, without, rtol=0, atol=1e-12)
    else:
        assert (with_hold > without + 1e-4).any()


@pytest.mark.parametrize("margin", [-0.5, 0.0])
def test_with_a_hold_as_strict_as_the_sweep_only_orders_remove_more(margin: float) -> None:
    """``m ≤ 0``: the later touches remove only what orders remove, ``h (1 − B) o_k``
    (``B = P(z > t + m)``), and notified posts are kept as the hold kept them (``z ≤ t + m``)."""
    mod = moderation(margin)
    grid = np.linspace(-2.0, 2.0, 41)
    old = OldModeration(mod)
    held = mod.hold(grid)
    blocked = ndtr(mod.reviewer_mean[None, :] - (grid[:, None] + margin))
    np.testing.assert_allclose(
        mod.removal(grid) - old.removal(grid), held * (1 - blocked) * mod.monitor, atol=1e-14
    )
    np.testing.assert_allclose(mod.published(grid), old.published(grid), atol=0)


@pytest.mark.parametrize("margin", [-0.5, 0.0, 0.4])
def test_reviews_asked_count_the_held_posts_later_touches(margin: float) -> None:
    """The load the platform expects (S6a, S8): per post, the hold's review and, approved,
    one more if it is ordered (served first) or flagged (m > 0) or noticed (with the
    published posts); and the items per post (every order, notice and flag an item),
    against a count of the rule post by post."""
    mod = moderation(margin)
    t = 0.2
    at = np.array([t])
    rng = np.random.default_rng(5)
    hold, flag = mod.hold(at)[0], mod.flag_share(at)[0]
    first_rows, published_rows = dm.reviews_asked_rows(mod, at)
    flows = np.array([3.0, 2.0, 1.0, 0.5]) * 24.0  # per hour: 3, 2, 1, 0.5 posts
    higher, notices, total = dm.queue_rates(mod, at, flows)
    items = {"first": 0.0, "notices": 0.0, "all": 0.0}
    for k in range(4):
        held = rng.random(POSTS) < hold[k]
        z = mod.reviewer_mean[k] + rng.standard_normal(POSTS)
        approved = held & (z <= t + margin)
        flagged = np.where(held, approved & (margin > 0), rng.random(POSTS) < flag[k])
        live = ~held | approved
        noticed = live & (rng.random(POSTS) < mod.notice[k])
        ordered = live & (rng.random(POSTS) < mod.monitor[k])
        first = held.astype(float) + ordered
        published = ~ordered & (flagged | noticed)
        np.testing.assert_allclose(first_rows[0, k], first.mean(), atol=TOLERANCE)
        np.testing.assert_allclose(published_rows[0, k], published.mean(), atol=TOLERANCE)
        per_hour = flows[k] / 24.0
        items["first"] += per_hour * first.mean()
        items["notices"] += per_hour * noticed.mean()
        items["all"] += per_hour * (first + noticed + flagged).mean()
    np.testing.assert_allclose(higher[0], items["first"], rtol=5 * TOLERANCE)
    np.testing.assert_allclose(notices[0], items["notices"], rtol=5 * TOLERANCE)
    np.testing.assert_allclose(total[0], items["all"], rtol=5 * TOLERANCE)


def test_what_waits_counts_the_held_posts_a_review_would_take_down() -> None:
    """With ``m > 0`` an approved held post of score in ``(t, t + m]`` is up until its
    flag's review: the strict audit's waiting term and the notice liability's late term
    add it above each line; with ``m ≤ 0`` there is no such post and nothing is added."""
    t = np.array([0.2])
    for margin in (-0.5, 0.0, 0.4):
        mod = moderation(margin)
        no_hold = moderation(margin, prefilter=False)
        held = mod.hold(t)[:, None, :]
        mu, o, n = mod.reviewer_mean, mod.monitor, mod.notice
        low = np.maximum(t[:, None, None], LINES[None])
        between = np.clip(ndtr(t[:, None, None] + margin - mu) - ndtr(low - mu), 0, None)
        extra = held * (1 - o) * between
        base_late = dm.late_removable(no_hold, t, LINES) * (1 - held)
        flag = mod.flag_share(t)[:, None, :]
        # The published part with this platform's hold and flag share.
        reviewed = 1 - (1 - flag) * (1 - n)
        published_wait = (1 - held) * (1 - o) * reviewed * ndtr(mu - low)
        np.testing.assert_allclose(
            dm.waiting_removable(mod, t, LINES), published_wait + extra, atol=1e-15
        )
        np.testing.assert_allclose(dm.late_removable(mod, t, LINES), base_late + n * extra)
        if margin <= 0.0:
            assert (extra == 0).all()
        else:
            assert (extra > 1e-3).any()


class OldModeration:
    """The statement as it stood before issue 17 (commit 6da9b5b,
    simulator/model/platform_policy.py), copied as the oracle: an approved held post is
    never touched again."""

    def __init__(self, mod: Moderation) -> None:
        self.m = mod

    def removal(self, thresholds: np.ndarray) -> np.ndarray:
        m = self.m
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = m.hold(thresholds)
        blocked = ndtr(m.reviewer_mean[None, :] - (t + m.held_review_margin))
        flag = m.flag_share(thresholds)
        reviewed = 1.0 - (1.0 - flag) * (1.0 - m.notice[None, :])
        passes = ndtr(m.reviewer_mean[None, :] - t)
        removed = m.monitor[None, :] + (1.0 - m.monitor[None, :]) * reviewed * passes
        return np.asarray(held * blocked + (1.0 - held) * removed)

    def published(self, thresholds: np.ndarray) -> np.ndarray:
        m = self.m
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = m.hold(thresholds)
        blocked = ndtr(m.reviewer_mean[None, :] - (t + m.held_review_margin))
        return np.asarray(1.0 - held * blocked)

    def notified_kept(self, thresholds: np.ndarray) -> np.ndarray:
        m = self.m
        t = np.asarray(thresholds, dtype=float)[:, None]
        held = m.hold(thresholds)
        declined = ndtr(t - m.reviewer_mean[None, :])
        return np.asarray((1.0 - held) * m.notice[None, :] * (1.0 - m.monitor[None, :]) * declined)

    def counted(self, thresholds: np.ndarray, liability: str, lines: np.ndarray) -> np.ndarray:
        m = self.m
        t = np.asarray(thresholds, dtype=float)[:, None, None]
        mu = m.reviewer_mean[None, None, :]
        line = np.asarray(lines, dtype=float)[None, :, :]
        below_line = ndtr(line - mu)

        def between(top: np.ndarray) -> np.ndarray:
            return np.asarray(np.clip(ndtr(top - mu) - below_line, 0.0, None))

        held = m.hold(thresholds)[:, None, :]
        monitor, notice = m.monitor[None, None, :], m.notice[None, None, :]
        if liability == NOTICE:
            return np.asarray((1.0 - held) * notice * (1.0 - monitor) * between(t))
        above_flag = ndtr(m.classifier_mean[None, None, :] - (t + m.flag_margin))
        with np.errstate(invalid="ignore", divide="ignore"):
            flag = np.clip(np.where(held < 1.0, (above_flag - held) / (1.0 - held), 0.0), 0, 1)
        reviewed = 1.0 - (1.0 - flag) * (1.0 - notice)
        published_up = (1.0 - reviewed) * (1.0 - below_line) + reviewed * between(t)
        return np.asarray(
            held * between(t + m.held_review_margin) + (1.0 - held) * (1.0 - monitor) * published_up
        )

    def reviews_asked_rows(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self.m
        held = m.hold(thresholds)
        up = 1.0 - held
        monitor = m.monitor[None, :]
        asks = 1.0 - (1.0 - m.flag_share(thresholds)) * (1.0 - m.notice[None, :])
        return held + up * monitor, up * (1.0 - monitor) * asks

    def queue_rates(self, thresholds: np.ndarray, flows: np.ndarray) -> tuple:
        m = self.m
        n_k = np.asarray(flows, dtype=float)
        held = m.hold(thresholds)
        flagged = m.flag_share(thresholds)
        up = 1.0 - held
        higher = (held + up * m.monitor[None, :]) @ n_k / 24.0
        notices = (up * m.notice[None, :]) @ n_k / 24.0
        total = higher + notices + (up * flagged) @ n_k / 24.0
        return higher, notices, total

    def late_removable(self, thresholds: np.ndarray, lines: np.ndarray) -> np.ndarray:
        m = self.m
        t = np.asarray(thresholds, dtype=float)[:, None, None]
        mu = m.reviewer_mean[None, None, :]
        line = np.asarray(lines, dtype=float)[None, :, :]
        held = m.hold(thresholds)[:, None, :]
        notice, monitor = m.notice[None, None, :], m.monitor[None, None, :]
        return np.asarray((1.0 - held) * notice * (1.0 - monitor) * ndtr(mu - np.maximum(t, line)))

    def waiting_removable(self, thresholds: np.ndarray, lines: np.ndarray) -> np.ndarray:
        m = self.m
        t = np.asarray(thresholds, dtype=float)[:, None, None]
        mu = m.reviewer_mean[None, None, :]
        line = np.asarray(lines, dtype=float)[None, :, :]
        held = m.hold(thresholds)[:, None, :]
        flag = m.flag_share(thresholds)[:, None, :]
        notice, monitor = m.notice[None, None, :], m.monitor[None, None, :]
        reviewed = 1.0 - (1.0 - flag) * (1.0 - notice)
        return np.asarray(
            (1.0 - held) * (1.0 - monitor) * reviewed * ndtr(mu - np.maximum(t, line))
        )


@pytest.mark.parametrize("seed", range(6))
def test_without_a_filter_the_statement_is_the_floats_of_before(seed: int) -> None:
    """A platform without a pre-publication filter (every European scenario): every array
    the threshold and staffing choices read is byte for byte what it was before issue 17,
    on random platforms, margins and a grid with the bounds' extreme thresholds."""
    rng = np.random.default_rng(100 + seed)
    mod = Moderation(
        classifier_mean=rng.normal(0, 1.5, 4),
        reviewer_mean=rng.normal(0, 1.5, 4),
        prepublication_filter=False,
        hold_margin=float(rng.normal(0, 0.5)),
        flag_margin=float(rng.normal(0, 0.5)),
        held_review_margin=float(rng.normal(0, 0.5)),
        notice=rng.uniform(0, 1, 4),
        monitor=rng.uniform(0, 1, 4) * (rng.random(4) < 0.7),
    )
    old = OldModeration(mod)
    grid = np.concatenate([[-7.03, 7.03], np.sort(rng.normal(0, 1.5, 62))])
    lines = np.where(rng.random((32, 4)) < 0.2, np.inf, rng.normal(0, 1.5, (32, 4)))
    lines[:, 3] = -np.inf
    flows = rng.uniform(0, 1000, 4)

    def same(a: object, b: object) -> None:
        a_, b_ = np.asarray(a), np.asarray(b)
        assert a_.dtype == b_.dtype and a_.shape == b_.shape
        assert a_.tobytes() == b_.tobytes()

    same(mod.removal(grid), old.removal(grid))
    same(mod.published(grid), old.published(grid))
    same(mod.notified_kept(grid), old.notified_kept(grid))
    same(mod.exposure(grid, STRICT), 1.0 - old.removal(grid))
    for liability in (STRICT, NOTICE):
        same(mod.counted(grid, liability, lines), old.counted(grid, liability, lines))
    for new, before in zip(
        dm.reviews_asked_rows(mod, grid), old.reviews_asked_rows(grid), strict=True
    ):
        same(new, before)
    for new, before in zip(
        dm.queue_rates(mod, grid, flows), old.queue_rates(grid, flows), strict=True
    ):
        same(new, before)
    same(dm.late_removable(mod, grid, lines), old.late_removable(grid, lines))
    same(dm.waiting_removable(mod, grid, lines), old.waiting_removable(grid, lines))
