"""The platform's policy as pure statements (simulator/model/platform_policy.py; docs/model.md S8):
line probabilities, effective means, removal and exposure on a grid, the chance an audit
finds a violation, the expected daily cost, its argmin and the audit beliefs. No Simulation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import ndtr

from simulator.model import believed_line as bl
from simulator.model import platform_policy as mp

PROHIBITED = (False, False, True, True)  # collective action and unlawful, as china_csl_2016
CLOSENESS = (0.0, 0.5, 0.8, 1.0)


def moderation(q: np.ndarray, prefilter: bool = True) -> mp.Moderation:
    # The keyword filter matches topics (its means as given); the reviewers follow the
    # line as the platform reads it (S8), as platforms.platform_policy_for.
    classifier = np.array((-3.0, -0.5, 0.5, 1.5))
    reviewer = mp.effective_means((-4.0, -1.0, 1.0, 2.5), q, PROHIBITED)
    return mp.Moderation(
        classifier_mean=classifier,
        reviewer_mean=reviewer,
        prepublication_filter=prefilter,
        hold_margin=0.0,
        flag_margin=-0.5,
        held_review_margin=-1.0,
        notice=np.array([0.0002, 0.005, 0.01, 0.05]) * 0.7,
        monitor=0.05 * (np.asarray(q) >= 1.0),  # the regulator orders what is prohibited
    )


def inputs(
    vagueness: float = 0.6,
    users: float = 10_000.0,
    sample_share: float = 0.005,
    tolerance: float = 0.0,
    liability: str = mp.STRICT,
    wrongful: float = 0.5,
    value_now: float = 1e5,
    value_next: float = 2e5,
    scale: float = 1.0,
    audits_per_day: float = 12 / 365,
    detection: float = 1.0,
    q: np.ndarray | None = None,
) -> mp.PolicyInputs:
    """A china_csl_2016-like platform (the shipped numbers of the day the policy was written)."""
    line = mp.line_probability(PROHIBITED, CLOSENESS, vagueness) if q is None else q
    return mp.PolicyInputs(
        thresholds=mp.threshold_grid(1e-4, 0.999),
        moderation=moderation(line),
        # The share and per-post cost of the day the policy was written, as the counts
        # that replaced them (7-day window, about ``users`` posts a day).
        exposure=mp.Exposure(sample_share * 7.0 * users, tolerance, liability),
        flows=users * np.array([0.93, 0.05, 0.01, 0.01]),
        q=line,
        wrongful_removal_cost=wrongful * users,
        ladder=two_rungs(scale * value_now, scale * value_next),
        audits_per_day=audits_per_day,
        detection=detection,
    )


#: A platform's discount rate per day (the schema's default, 10% a year).
RHO = 0.1 / 365


def two_rungs(first: float, second: float, deescalate_after: int = 3) -> mp.Ladder:
    """A ladder of two rungs, the second repeating (as a warning and then a fine)."""
    return mp.Ladder(np.array([first, second]), (False, False), deescalate_after, RHO)


def strictness(policy: mp.PolicyInputs) -> float:
    return float(ndtr(-mp.policy_threshold(policy, current=float(policy.thresholds[-1]))))


# -- line probability and effective means ------------------------------------------------


def test_line_probability_per_kind() -> None:
    q = mp.line_probability(PROHIBITED, CLOSENESS, 0.6)
    np.testing.assert_allclose(q, [0.0, 0.3, 1.0, 1.0])
    # A bright line: only the prohibited kinds count.
    np.testing.assert_allclose(mp.line_probability(PROHIBITED, CLOSENESS, 0.0), [0, 0, 1, 1])
    # Never above 1, benign never counts whatever its closeness.
    np.testing.assert_allclose(
        mp.line_probability((False, False, False, True), (0.9, 0.9, 2.0, 1.0), 1.0), [0, 0.9, 1, 1]
    )
    # No prohibited kind: no line to be near.
    np.testing.assert_allclose(mp.line_probability((False,) * 4, CLOSENESS, 1.0), 0.0)


def test_effective_means_of_lawful_kinds_follow_the_line_probability() -> None:
    """A lawful kind looks benign where the platform is sure it does not count (q = 0)
    and as its scenario mean where it is sure it does (q = 1): scores follow the law as
    the platform reads it, not the kind's label."""
    means = (-4.0, -1.0, 1.0, 2.5)
    # Sharp line: lawful kinds look benign, prohibited ones as given.
    np.testing.assert_allclose(
        mp.effective_means(means, [0, 0, 1, 1], PROHIBITED), [-4.0, -4.0, 1.0, 2.5]
    )
    # Critical, q = 0.3: 30% of the way from the benign mean to its own.
    got = mp.effective_means(means, [0.0, 0.3, 1.0, 1.0], PROHIBITED)
    np.testing.assert_allclose(got, [-4.0, -4.0 + 0.3 * 3.0, 1.0, 2.5])
    # Collective action lawful: it falls with its q too, whatever its scenario mean.
    got = mp.effective_means(means, [0.0, 0.5, 0.25, 1.0], (False, False, False, True))
    np.testing.assert_allclose(got, [-4.0, -4.0 + 0.5 * 3.0, -4.0 + 0.25 * 5.0, 2.5])
    # Nothing prohibited (no line to read): every kind looks benign.
    np.testing.assert_allclose(mp.effective_means(means, [0.0] * 4, (False,) * 4), -4.0)


def test_the_regulator_enforces_the_law_not_the_blur() -> None:
    """The enforced line counts the prohibited kinds only, whatever the vagueness."""
    np.testing.assert_allclose(mp.enforced_line(PROHIBITED), [0, 0, 1, 1])
    np.testing.assert_allclose(mp.enforced_line((False,) * 4), 0.0)


def test_a_notified_lawful_post_kept_up_counts_more_as_its_line_probability_rises() -> None:
    """Notice liability: what the platform expects an audit to find grows with the chance
    it gives a notified lawful post of being judged unlawful (B5), and is nothing at
    q = 0; at q = 1 every notified critical post kept up counts."""
    exposure = mp.Exposure(1000.0, 0.0, mp.NOTICE)
    m = moderation(np.array([0.0, 0.4, 1.0, 1.0]))
    grid = np.array([0.0])
    flows = np.array([900.0, 50.0, 25.0, 25.0])
    published = m.published(grid)
    found = []
    for q_critical in (0.0, 0.1, 0.4, 0.8, 1.0):
        q = np.array([0.0, q_critical, 1.0, 1.0])
        counted = m.counted(grid, mp.NOTICE, bl.reading_lines(q, m.reviewer_mean))
        found.append(float(exposure.expected_found(flows, counted, published, 1.0)[0].mean()))
    sharp = found[0]
    assert np.all(np.diff(found) > 0), found
    by_hand = 1000.0 * 50.0 * m.exposure(grid, mp.NOTICE)[0, 1] / float(published[0] @ flows)
    assert found[-1] - sharp == pytest.approx(by_hand)
    assert by_hand > 0.0


def test_the_believed_line_counts_the_chance_q_on_average() -> None:
    """Over the readings, a post of a lawful kind counts with chance q_k (its line
    probability); a prohibited kind always, a kind with q_k = 0 never; a broader reading
    puts the line lower."""
    mu = np.array([-4.0, -2.0, 1.0, 2.5])
    for q_critical in (0.01, 0.15, 0.3, 0.5, 0.9):
        q = np.array([0.0, q_critical, 1.0, 1.0])
        for spread in (0.5, 1.0, 2.0):
            lines = bl.reading_lines(q, mu, spread=spread, readings=400)
            assert np.all(np.isinf(lines[:, 0])) and np.all(lines[:, 0] > 0)
            assert np.all(np.isinf(lines[:, 2:])) and np.all(lines[:, 2:] < 0)
            share = float(ndtr(mu[1] - lines[:, 1]).mean())
            assert share == pytest.approx(q_critical, abs=0.01 * max(q_critical, 0.1))
            assert np.all(np.diff(lines[:, 1]) < 0)
    with pytest.raises(ValueError, match="spread"):
        bl.reading_lines(q, mu, spread=-1.0)


@pytest.mark.parametrize("liability", [mp.STRICT, mp.NOTICE])
def test_counted_matches_a_monte_carlo_of_the_moderation_steps(liability: str) -> None:
    """X_k(t; ℓ): up (strict) or noticed and kept (notice), and scored above the line."""
    rng = np.random.default_rng(7)
    q = mp.line_probability(PROHIBITED, CLOSENESS, 0.6)
    mod = moderation(q)
    t, n = -0.3, 400_000
    lines = np.array([[np.inf, -1.5, -np.inf, -np.inf], [np.inf, 0.2, -np.inf, -np.inf]])
    got = mod.counted(np.array([t]), liability, lines)[0]
    np.testing.assert_allclose(got[:, 0], 0.0)
    for k in range(1, 4):
        z_cls = mod.classifier_mean[k] + rng.standard_normal(n)
        z_rev = mod.reviewer_mean[k] + rng.standard_normal(n)
        held = z_cls > t + mod.hold_margin
        flagged = ~held & (z_cls > t + mod.flag_margin)
        noticed = rng.random(n) < mod.notice[k]
        ordered = rng.random(n) < mod.monitor[k]
        removed = np.where(
            held, z_rev > t + mod.held_review_margin,
            ordered | ((flagged | noticed) & (z_rev > t)),
        )  # fmt: skip
        up = ~removed if liability == mp.STRICT else ~held & noticed & ~ordered & ~removed
        for j in range(2):
            expected = (up & (z_rev > lines[j, k])).mean()
            assert expected == pytest.approx(got[j, k], abs=4e-3), (k, j)


def test_a_vague_line_leaves_a_clean_audit_within_reach_under_strict_liability() -> None:
    """The regulator reads criticism (q = 0.3) one way for every post, but as a line on
    the score scale: a platform that takes down the critical posts its reviewers score
    highest keeps clear of most readings. Under the former all-or-nothing reading
    (criticism counted whole with chance 0.3) no threshold got the chance of a violation
    below 0.3, and a strict-liability platform gave up (undercompliance); now the chance
    falls towards 0 as the platform grows stricter, and the readings' average of the
    audit's finds is what it predicts."""
    policy = inputs(q=np.array([0.0, 0.3, 1.0, 1.0]))
    _, violation, found = mp.policy_cost(policy)
    assert violation[0] < 0.2 < 0.3 < violation[-1]
    assert np.all(np.diff(violation) >= -1e-9)  # laxer (later) thresholds: more risk
    counted = policy.moderation.counted(policy.thresholds, mp.STRICT, policy.reading_lines())
    published = policy.moderation.published(policy.thresholds)
    np.testing.assert_allclose(
        found, policy.exposure.expected_found(policy.flows, counted, published, 1.0).mean(1)
    )  # equal weights before any audit


# -- grid, removal, exposure --------------------------------------------------------------


def test_threshold_grid_spans_the_bounds_strictest_first() -> None:
    grid = mp.threshold_grid(0.001, 0.9, 16)
    assert len(grid) == 16
    assert ndtr(-grid[0]) == pytest.approx(0.9)
    assert ndtr(-grid[-1]) == pytest.approx(0.001)
    assert np.all(np.diff(grid) > 0)


def test_removal_without_filter_is_the_review_formula() -> None:
    q = np.array([0.0, 0.0, 1.0, 1.0])
    mod = dataclasses.replace(moderation(q, prefilter=False), flag_margin=0.5)
    t = np.array([-1.0, 0.0, 1.5])
    cls, rev = mod.classifier_mean, mod.reviewer_mean
    flag = ndtr(cls[None, :] - (t[:, None] + 0.5))
    reviewed = 1 - (1 - flag) * (1 - mod.notice)
    expected = mod.monitor + (1 - mod.monitor) * reviewed * ndtr(rev[None, :] - t[:, None])
    np.testing.assert_allclose(mod.removal(t), expected)


def test_removal_matches_a_monte_carlo_of_the_moderation_steps() -> None:
    rng = np.random.default_rng(5)
    q = mp.line_probability(PROHIBITED, CLOSENESS, 0.6)
    mod = moderation(q)
    t, n = -0.3, 400_000
    got = mod.removal(np.array([t]))[0]
    for k in range(4):
        z_cls = mod.classifier_mean[k] + rng.standard_normal(n)
        z_rev = mod.reviewer_mean[k] + rng.standard_normal(n)
        held = z_cls > t + mod.hold_margin
        flagged = ~held & (z_cls > t + mod.flag_margin)
        noticed = rng.random(n) < mod.notice[k]
        ordered = rng.random(n) < mod.monitor[k]
        removed = np.where(
            held, z_rev > t + mod.held_review_margin,
            ordered | ((flagged | noticed) & (z_rev > t)),
        )  # fmt: skip
        assert removed.mean() == pytest.approx(got[k], abs=4e-3)


def test_removal_rises_and_exposure_falls_with_strictness() -> None:
    mod = moderation(mp.line_probability(PROHIBITED, CLOSENESS, 0.6))
    grid = mp.threshold_grid(1e-4, 0.999)  # strictest first
    removal = mod.removal(grid)
    # Up to 1e-6: at the laxest thresholds a post the filter stops holding may instead
    # be published and ordered down (orders are always complied with), a hair likelier.
    assert np.all(np.diff(removal, axis=0) <= 1e-6)
    assert removal[0, 1] > removal[-1, 1] + 0.5
    assert np.all((removal >= 0) & (removal <= 1))
    for liability in mp.LIABILITY_MODES:
        assert np.all(np.diff(mod.exposure(grid, liability), axis=0) >= -1e-6)
    # What a notice-based audit can hold against a platform is part of what is still up.
    assert np.all(mod.exposure(grid, mp.NOTICE) <= mod.exposure(grid, mp.STRICT) + 1e-15)
    with pytest.raises(ValueError, match="allowed"):
        mod.exposure(grid, "vicarious")


# -- the chance of a violation ---------------------------------------------------------


@pytest.mark.parametrize(("share", "tolerance"), [(0.0015, 0.0), (0.01, 3.0)])
def test_violation_probability_matches_binomial_sampling(share: float, tolerance: float) -> None:
    """An audit reads n = 760 posts, each a violation with the window's share (S10):
    Binomial(n, share) > tolerance, simulated, against the Poisson form."""
    rng = np.random.default_rng(11)
    found = rng.binomial(760, share, 200_000)
    mean = 760 * share
    assert float(mp.violation_probability(mean, tolerance)) == pytest.approx(
        (found > tolerance).mean(), abs=0.01
    )
    assert float(mp.violation_probability(0.0, 0)) == 0.0


def test_violation_probability_at_tolerance_zero_is_the_poisson_survival_function() -> None:
    """At a tolerance below 1 the chance is written ``1 − e^{−μ}`` (``-expm1``): the same
    as the Poisson survival function at 0 to a few units in the last place over the
    means a grid meets (1e-12 to 1e3), and exact where it matters, for tiny means (a
    subtraction from 1 would lose them)."""
    means = np.geomspace(1e-12, 1e3, 2_000)
    for tolerance in (0.0, 0.5):
        got = mp.violation_probability(means, tolerance)
        np.testing.assert_allclose(got, mp.pdtrc(0, means), rtol=4e-15, atol=0.0)
    assert float(mp.violation_probability(1e-300, 0.0)) == 1e-300
    # Above 1 the survival function itself: P(N > 1) = 1 − e^{−μ}(1 + μ).
    assert float(mp.violation_probability(2.0, 1.0)) == pytest.approx(
        1.0 - np.exp(-2.0) * 3.0, rel=1e-14
    )


# -- the cost and its argmin -----------------------------------------------------------------


def test_cost_is_goodwill_plus_expected_penalty_by_hand() -> None:
    removal = np.array([[0.1, 0.5, 0.9, 1.0], [0.0, 0.1, 0.5, 0.6]])
    violation = np.array([0.2, 0.7])
    flows = np.array([100.0, 10.0, 2.0, 1.0])
    q = np.array([0.0, 0.3, 1.0, 1.0])
    ladder = mp.Ladder.one_rung(1000.0, RHO)
    got = mp.expected_daily_cost(removal, violation, flows, q, 2.0, 0.1, ladder)
    goodwill = 2.0 * (removal @ (flows * (1 - q))) / flows.sum()  # a share of the posts
    # One repeating rung: the day's audits times the chance of a violation times its cost.
    penalty = 0.1 * violation * 1000.0
    np.testing.assert_allclose(got, goodwill + penalty)


def test_ties_keep_the_current_threshold() -> None:
    grid = np.array([-1.0, 0.0, 1.0, 2.0])
    assert mp.cheapest_threshold(grid, np.array([3.0, 1.0, 1.0, 1.0]), current=1.8) == 2.0
    assert mp.cheapest_threshold(grid, np.array([3.0, 1.0, 1.0, 1.0]), current=-5.0) == 0.0
    assert mp.cheapest_threshold(grid, np.array([3.0, 1.0, 0.5, 1.0]), current=-5.0) == 1.0


#: The shipped regions included: china_csl_2016's vagueness 0.6 (q_critical 0.3) and
#: beyond, and audits reading 70 to 840 posts (china_csl_2016 reads 770). (Before the
#: believed line was a line on the score scale, S8, these cases stopped at vagueness
#: 0.05: a platform believing 15% of criticism counts could not reach a clean audit and
#: gave up.)
LEVER_CASES = [
    {"vagueness": v, "users": u, "sample_share": s}
    for v in (0.0, 0.3, 0.6, 1.0)
    for u in (10_000.0, 60_000.0)
    for s in (0.001, 0.002)
] + [{"vagueness": v, "users": 10_000.0, "sample_share": 0.011} for v in (0.3, 0.6, 1.0)]


def rising(values: list[float]) -> bool:
    return all(b >= a - 1e-12 for a, b in zip(values, values[1:], strict=False))


@pytest.mark.parametrize("case", LEVER_CASES)
def test_strictness_rises_with_penalties_audits_sample_and_detection(
    case: dict[str, float],
) -> None:
    """Topkis: J = goodwill(s) + θ·penalty(s) with the ladder's penalty falling in s, so
    the cheapest strictness is non-decreasing in a factor on every rung, in the value of
    the dearer rung above, in the audit rate, the sample and the detection. (Not in the
    value of the rung the platform is on by itself: a stricter platform steps down to it
    more often, so a dearer current rung can make it a hair laxer; and on a ladder whose
    first rung costs more than the one above, giving up moves it to the cheaper rung.)"""
    for field, levels in [
        ("scale", [0.0, 0.1, 1.0, 10.0, 100.0]),
        ("value_next", [2e5, 1e6, 1e7, 1e8]),
        ("audits_per_day", [0.0, 1 / 365, 12 / 365, 52 / 365, 1.0]),
        ("sample_share", [0.0, 0.0005, 0.001, 0.002]),  # while a clean audit is in reach
        ("detection", [0.1, 0.3, 0.5, 1.0]),
    ]:
        seen = [strictness(inputs(**{**case, field: level})) for level in levels]
        assert rising(seen), (field, seen)
        assert seen[-1] > seen[0], (field, seen)


@pytest.mark.parametrize("case", LEVER_CASES)
def test_strictness_falls_with_the_cost_of_wrongful_removal(case: dict[str, float]) -> None:
    seen = [strictness(inputs(**case, wrongful=w)) for w in (0.05, 0.5, 5.0, 50.0, 500.0)]
    assert all(b <= a + 1e-12 for a, b in zip(seen, seen[1:], strict=False)), seen
    assert seen[-1] < seen[0]


@pytest.mark.parametrize("users", [10_000.0, 60_000.0])
@pytest.mark.parametrize(
    ("liability", "levels"),
    [
        # Notice liability: notified posts are few, a clean audit stays within reach.
        (mp.NOTICE, (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)),
        # Strict liability: up to the shipped china_csl_2016 (0.3). (With an audit of
        # 2,100 posts and tolerance 0, at q >= 0.5 on these fixed means the platform still
        # gives up: docs/validation.md, defect 2.)
        (mp.STRICT, (0.0, 0.05, 0.15, 0.3)),
    ],
)
def test_strictness_rises_with_the_line_probability_of_a_lawful_kind(
    users: float, liability: str, levels: tuple[float, ...]
) -> None:
    """q_critical up (everything else fixed, means included): more of what is up or
    notified may count, and taking it down costs less goodwill (collateral censorship
    from uncertainty about the line, B5, under either liability)."""
    seen = []
    for q_critical in levels:
        q = np.array([0.0, q_critical, 1.0, 1.0])
        policy = inputs(users=users, q=q, liability=liability)
        policy = dataclasses.replace(policy, moderation=moderation(np.array([0.0, 0.3, 1, 1])))
        seen.append(strictness(policy))
    assert rising(seen), seen
    assert seen[-1] > seen[0]


def lawful_taken_down(policy: mp.PolicyInputs) -> float:
    """Share of the lawful posts reaching the platform that its chosen threshold takes down."""
    t = mp.policy_threshold(policy, current=float(policy.thresholds[-1]))
    removal = policy.moderation.removal(np.array([t]))[0]
    lawful = ~np.asarray(PROHIBITED)
    return float(removal[lawful] @ policy.flows[lawful] / policy.flows[lawful].sum())


@pytest.mark.parametrize("liability", [mp.STRICT, mp.NOTICE])
@pytest.mark.parametrize(("users", "sample_share"), [(10_000.0, 0.001), (10_000.0, 0.011),
                                                     (60_000.0, 0.002)])  # fmt: skip
def test_lawful_take_down_rises_with_vagueness(
    liability: str, users: float, sample_share: float
) -> None:
    """Collateral censorship (B5, B6): the vaguer the law, the more lawful posts the
    platform takes down, under strict liability (china_csl_2016's region, vagueness 0.6,
    an audit of 770 posts) as under notice liability. (On the all-or-nothing reading it
    replaced this held too, through the reviewers' effective means, while the strictness
    chosen fell with vagueness at audits of 770 posts or more.)"""
    seen = [
        lawful_taken_down(
            inputs(vagueness=v, users=users, sample_share=sample_share, liability=liability)
        )
        for v in (0.0, 0.1, 0.3, 0.6, 1.0)
    ]
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False)), seen


@pytest.mark.parametrize("case", LEVER_CASES)
def test_notice_liability_is_never_stricter_than_strict_liability(case: dict[str, float]) -> None:
    strict = strictness(inputs(**case, liability=mp.STRICT))
    notice = strictness(inputs(**case, liability=mp.NOTICE))
    assert notice <= strict
    if case["vagueness"] == 0.6:
        assert notice < strict


def test_nothing_to_find_means_least_strictness() -> None:
    policy = inputs(q=np.zeros(4), vagueness=0.0)
    assert strictness(policy) == pytest.approx(1e-4)
    # (Among the laxest thresholds the choice is a matter of 1e-7 in removal, above.)
    policy = inputs(audits_per_day=0.0)
    assert strictness(policy) <= 1e-3


# -- beliefs about audits -------------------------------------------------------------------


def test_audit_belief_converges_to_the_true_rate_from_a_wrong_prior() -> None:
    rng = np.random.default_rng(3)
    true_per_day = 12 / 365
    for prior in (1 / 365, 100 / 365):
        belief = mp.AuditBelief(prior_per_day=prior, prior_days=180.0)
        assert belief.audits_per_day == pytest.approx(prior)
        for _ in range(20 * 365):
            belief.watch_day()
            for _ in range(rng.poisson(true_per_day)):
                belief.audited(found=3.0, predicted=2.0)
        assert belief.audits_per_day == pytest.approx(true_per_day, rel=0.2)
        # ... and the prior's error has mostly gone (b0 = 180 days against 20 years).
        assert abs(belief.audits_per_day - true_per_day) < 0.2 * abs(prior - true_per_day)
        # Audits found 1.5 times what was predicted: the calibration says so.
        assert belief.detection == pytest.approx(1.5, rel=0.02)
    assert mp.AuditBelief(prior_per_day=0.1, prior_days=10.0).detection == 1.0


def test_platform_policy_counts_smooths_and_learns() -> None:
    policy = inputs()
    state = mp.PlatformPolicy(
        moderation=policy.moderation,
        exposure=policy.exposure,
        q=policy.q,
        thresholds=policy.thresholds,
        belief=mp.AuditBelief(prior_per_day=12 / 365, prior_days=180.0),
        wrongful_removal_cost=0.5,
    )
    state.count_day(np.array([100.0, 10.0, 2.0, 2.0]))
    np.testing.assert_allclose(state.flows, [100, 10, 2, 2])
    state.count_day(np.array([200.0, 10.0, 2.0, 2.0]))
    # Half-life 7 days: a day moves the count 1 - 0.5^(1/7) = 9.4% of the gap.
    assert state.flows is not None
    assert state.flows[0] == pytest.approx(100 + 100 * (1 - 0.5 ** (1 / 7)))
    assert state.belief.days_watched == 2.0
    ladder = two_rungs(2e5, 1e5)
    t = state.target(float(policy.thresholds[-1]), ladder)
    assert policy.thresholds[0] <= t <= policy.thresholds[-1]
    # The cached grid gives the statement's answer (policy_threshold on the same inputs).
    assert t == mp.policy_threshold(state.inputs(ladder), float(policy.thresholds[-1]))
    assert state.target(float(policy.thresholds[-1]), ladder) == t
    state.expect_at(t)
    counted = policy.moderation.counted(np.array([t]), mp.STRICT, state.reading_lines())
    # The prediction splits into its prohibited part and each reading's lawful part.
    per_reading = policy.exposure.expected_found(
        state.flows, counted, policy.moderation.published(np.array([t])), 1.0
    )[0]
    assert state.predicted_lawful is not None
    np.testing.assert_allclose(
        state.predicted_prohibited + state.predicted_lawful, per_reading, rtol=1e-12
    )
    state.audited(found=3.0)
    posterior = state.belief.posterior
    assert state.belief.audits_seen == 1 and posterior.found_prohibited == 3.0
    assert posterior.predicted_prohibited == state.predicted_prohibited


# -- learning where the line is (believed_line.AuditPosterior) --------------------------


def _learning_platform(q: np.ndarray) -> mp.PlatformPolicy:
    policy = inputs(q=q)
    state = mp.PlatformPolicy(
        moderation=policy.moderation,
        exposure=policy.exposure,
        q=policy.q,
        thresholds=policy.thresholds,
        belief=mp.AuditBelief(prior_per_day=12 / 365, prior_days=180.0),
        wrongful_removal_cost=policy.wrongful_removal_cost,
    )
    state.count_day(np.asarray(policy.flows))
    return state


def test_an_audit_that_counts_no_lawful_post_is_bayes_rule_over_the_readings() -> None:
    """After audits at thresholds t_a that found f_a prohibited posts where P_a were
    predicted (kappa = 1): kappa-hat = (2 + sum f_a)/(2 + sum P_a), and w_j proportional
    to exp(-sum_a kappa_a L_j(a)), L_j(a) the lawful-kind posts reading j predicted and
    kappa_a the detection believed before audit a. Computed by hand: the broad readings
    (last) lose weight, readings that predicted none keep theirs."""
    state = _learning_platform(np.array([0.0, 0.3, 1.0, 1.0]))
    assert np.allclose(state.reading_weights(), 1.0 / bl.READINGS)
    assert state.belief.detection == 1.0
    logs = np.zeros(bl.READINGS)
    found_total = prohibited_total = 0.0
    for t, found in [(-2.0, 1.0), (-1.0, 0.0), (-2.5, 2.0)]:
        state.expect_at(t)
        at = np.array([t])
        counted = state.moderation.counted(at, mp.STRICT, state.reading_lines())
        published = state.moderation.published(at)
        lawful = counted * np.array([1.0, 1.0, 0.0, 0.0])  # benign and critical
        prohibited = counted * np.array([0.0, 0.0, 1.0, 1.0])
        mu = state.exposure.expected_found(state.flows, lawful, published, 1.0)[0]
        logs -= (2.0 + found_total) / (2.0 + prohibited_total) * mu  # kappa before
        predicted = state.exposure.expected_found(state.flows, prohibited, published, 1.0)
        prohibited_total += predicted[0][0]
        found_total += found
        state.audited(found)
    expected = np.exp(logs - logs.max())
    np.testing.assert_allclose(state.reading_weights(), expected / expected.sum(), rtol=1e-12)
    assert state.belief.detection == pytest.approx(
        (2.0 + found_total) / (2.0 + prohibited_total), rel=1e-12
    )
    weights = state.reading_weights()
    assert weights[-1] < 0.5 / bl.READINGS < weights[0]
    assert np.all(np.diff(weights) <= 1e-15)  # broader readings, less belief


def test_a_learned_belief_lowers_the_chance_of_a_violation() -> None:
    """Audits that count no lawful post make the platform less afraid of the broad
    readings: at every threshold the chance of a violation it weighs is lower. (Not its
    strictness in general: the weight moves to the narrow readings, where strictness
    still helps, so the margin can favour a little more of it; here the threshold moves
    by 0.021, the clean audits lowering the detection too: less than 0.03. In whole runs
    it falls: docs/validation.md, defect 8.)"""
    state = _learning_platform(np.array([0.0, 0.3, 1.0, 1.0]))
    ladder = two_rungs(2e5, 1e5)
    start = float(state.thresholds[-1])
    before = mp.policy_cost(state.inputs(ladder))[1]
    t_before = state.target(start, ladder)
    for _ in range(3):
        state.expect_at(t_before)
        state.audited(0.0)
    after = mp.policy_cost(state.inputs(ladder))[1]
    assert np.all(after <= before + 1e-12) and float(np.max(before - after)) > 0.01
    assert abs(state.target(start, ladder) - t_before) < 0.03


def test_a_found_lawful_post_makes_the_broad_readings_likelier() -> None:
    """The general Poisson likelihood: had an audit counted a lawful post, the readings
    under which that was likelier gain weight (the regulator of S10 never does)."""
    belief = bl.AuditPosterior(readings=3)
    belief.audited(1.0, 0.0, np.array([0.0, 0.5, 2.0]), found_lawful=1.0)
    # Reading 0 predicted none: ruled out; 0.5 e^-0.5 against 2 e^-2 (kappa-hat 1).
    ratio = (0.5 * np.exp(-0.5)) / (2.0 * np.exp(-2.0))
    np.testing.assert_allclose(belief.weights, [0.0, ratio / (1 + ratio), 1 / (1 + ratio)])
    # The lawful find says nothing of the detection, learned from prohibited finds.
    assert belief.detection == 1.0
    with pytest.raises(ValueError, match="3 readings"):
        belief.audited(0.0, 0.0, np.zeros(4))


def test_detection_is_learned_from_the_prohibited_finds_alone() -> None:
    """The lawful-kind finds cannot tell a weak detection from a narrow reading, and the
    enforced line (no lawful post counted) is none of the readings: learned with them,
    the detection would absorb the readings' error (a clean audit where the broad
    readings expected lawful posts took it from 1 to 0.145 in china_weibo_2012, and an
    audit that found more prohibited posts than predicted could lower it;
    docs/validation.md). Here an audit that finds 8 where 0.5 prohibited were predicted
    raises it to (2 + 8)/(2 + 0.5) = 4 whatever the readings expected, and a clean one
    where 2 were predicted lowers it only by its own evidence."""
    belief = bl.AuditPosterior(readings=2)
    belief.audited(8.0, 0.5, np.array([0.0, 10.0]))
    assert belief.detection == pytest.approx(4.0)
    _, broad = belief.weights  # weighed with kappa-hat 1: e^0 against e^-10
    assert broad == pytest.approx(np.exp(-10.0) / (1.0 + np.exp(-10.0)))
    clean = bl.AuditPosterior(readings=2)
    clean.audited(0.0, 2.0, np.array([0.0, 10.0]))
    assert clean.detection == pytest.approx(0.5)
    # A vaguer law (more lawful posts expected) changes the readings, not the detection.
    vaguer = bl.AuditPosterior(readings=2)
    vaguer.audited(0.0, 2.0, np.array([5.0, 30.0]))
    assert vaguer.detection == clean.detection


def test_the_believed_chance_of_being_counted_starts_at_q_and_falls_with_audits() -> None:
    """Before any audit the platform gives a post of kind k the chance q_k of being
    counted (to the 32-point quadrature of the readings: within 0.01); audits that count
    no lawful post lower it for the lawful kinds and leave 1 for prohibited, 0 for benign."""
    q = np.array([0.0, 0.3, 0.64, 1.0])
    state = _learning_platform(q)
    np.testing.assert_allclose(state.believed_counted(), q, atol=0.01)
    for _ in range(3):
        state.expect_at(-2.0)
        state.audited(0.0)
    after = state.believed_counted()
    # 1 for the prohibited kind up to the rounding of Σ_j w_j (the weights are normalised
    # in floating point: since issue 17's held terms moved them, 1 + 2e-16 here).
    assert after[0] == 0.0 and after[3] == pytest.approx(1.0, abs=1e-12)
    assert after[1] < q[1] - 0.02 and after[2] < q[2] - 0.02, after


def test_prohibited_kinds_alone_leave_the_belief_where_it_was() -> None:
    """With no lawful kind near the line (vagueness 0) no reading differs from another:
    audits leave the weights equal."""
    state = _learning_platform(np.array([0.0, 0.0, 1.0, 1.0]))
    for t in (-2.0, 0.0):
        state.expect_at(t)
        state.audited(4.0)
    np.testing.assert_allclose(state.reading_weights(), 1.0 / bl.READINGS)


def test_experience_is_that_many_audits_that_found_what_was_predicted() -> None:
    """AuditPosterior.experienced(A, P, L) is A audits each finding P prohibited posts (as
    predicted at kappa = 1) and no lawful one where reading j predicted L_j: the same
    weights and detection as A calls of ``audited`` (A = 3), to the rounding; A = 0
    changes nothing; A < 0 is refused."""
    lawful = np.array([0.0, 0.02, 0.4, 3.0])
    once = bl.AuditPosterior(readings=4)
    once.experienced(3.0, 1.7, lawful)
    stepwise = bl.AuditPosterior(readings=4)
    for _ in range(3):
        stepwise.audited(1.7, 1.7, lawful)
    np.testing.assert_allclose(once.weights, stepwise.weights, rtol=1e-12)
    np.testing.assert_allclose(once.log_weights, -3.0 * lawful, rtol=1e-12)
    assert once.detection == stepwise.detection == pytest.approx(1.0)
    assert once.predicted_prohibited == pytest.approx(3 * 1.7)
    # Experience makes the detection firmer: a later audit that finds nothing moves it
    # less than it moves a new platform's.
    new = bl.AuditPosterior(readings=4)
    for belief in (once, new):
        belief.audited(0.0, 1.7, lawful)
    assert new.detection < once.detection < 1.0
    none = bl.AuditPosterior(readings=4)
    none.experienced(0.0, 1.7, lawful)
    np.testing.assert_array_equal(none.log_weights, np.zeros(4))
    assert none.predicted_prohibited == 0.0
    with pytest.raises(ValueError, match=">= 0"):
        none.experienced(-1.0, 1.7, lawful)


def test_an_experienced_platform_starts_from_its_audits_at_the_initial_threshold() -> None:
    """PlatformPolicy.learn_experience(t0): the audits lived through before day 0 each at
    the initial threshold t0 with the first day's posts (its flows): log w_j = -A L_j(t0),
    L_j what expect_at(t0) predicts of lawful kinds; learned once (a second call, and a
    platform without experience, change nothing). An experienced platform fears the broad
    readings less, so it weighs a lower chance of a violation at every threshold."""
    q = np.array([0.0, 0.3, 1.0, 1.0])
    t0 = -1.5
    state = _learning_platform(q)
    state.audits_experienced = 12.0
    probe = _learning_platform(q)
    probe.expect_at(t0)
    assert probe.predicted_lawful is not None
    state.learn_experience(t0)
    np.testing.assert_allclose(
        state.belief.posterior.log_weights, -12.0 * probe.predicted_lawful, rtol=1e-12
    )
    assert state.audits_experienced == 0.0
    before = state.belief.posterior.log_weights.copy()
    state.learn_experience(t0)
    np.testing.assert_array_equal(state.belief.posterior.log_weights, before)
    novice = _learning_platform(q)
    novice.learn_experience(t0)
    np.testing.assert_array_equal(novice.belief.posterior.log_weights, np.zeros(bl.READINGS))
    ladder = two_rungs(2e5, 1e5)
    feared = mp.policy_cost(novice.inputs(ladder))[1]
    learned = mp.policy_cost(state.inputs(ladder))[1]
    assert np.all(learned <= feared + 1e-12) and float(np.max(feared - learned)) > 0.01


# -- the scenario fields of the policy ------------------------------------------------------


def test_removed_fields_are_refused_naming_their_replacement() -> None:
    import simulator

    base = simulator.load_scenario("classroom")
    # (The generic "unknown field" message lists the allowed fields, replacements among
    # them: the test asks for the removal message itself.)
    with pytest.raises(simulator.ScenarioError, match="removed: platforms no longer .*fear"):
        simulator.override(base, {"platforms.weibo.penalty_memory_half_life_days": 90.0})
    data = base.model_dump()
    data["platforms"][0]["penalty_memory_half_life_days"] = 90.0
    with pytest.raises(simulator.ScenarioError, match="removed: .*audit_belief_days"):
        simulator.validate_scenario(data)
    with pytest.raises(simulator.ScenarioError, match="'strict' or 'notice'"):
        simulator.override(base, {"rules.takedown.liability": "vicarious"})


def test_no_shipped_scenario_sets_the_strictness_bounds() -> None:
    """Strictness comes from the policy (S8), never from a scenario's cap."""
    import simulator

    for name, path in simulator.shipped_scenarios().items():
        text = path.read_text(encoding="utf-8")
        assert "max_strictness" not in text and "min_strictness" not in text, name
        for platform in simulator.load_scenario(name).platforms:
            assert platform.max_strictness == 0.999, name
    liability = {
        name: simulator.load_scenario(name).rules.takedown.liability
        for name in ("china_csl_2016", "china_weibo_2012", "germany_netzdg_2017", "eu_dsa_2024")
    }
    assert liability == {
        "china_csl_2016": "strict",
        "china_weibo_2012": "strict",
        "germany_netzdg_2017": "notice",
        "eu_dsa_2024": "notice",
    }


@pytest.mark.parametrize("liability", [mp.STRICT, mp.NOTICE])
@pytest.mark.parametrize("tolerance", [0.0, 3.0])
def test_policy_threshold_is_invariant_to_scaling_all_flows(
    liability: str, tolerance: float
) -> None:
    """Both terms of J are shares of the posts reaching the platform (S8): the audit's
    expected find is its fixed sample times the share of violations, and goodwill is
    charged on the share of lawful posts taken down. So a platform 10 or 100 times
    larger (or smaller) picks the same threshold, and its expected find is the same."""
    for vagueness in (0.0, 0.6, 0.9):
        base = inputs(vagueness=vagueness, tolerance=tolerance, liability=liability)
        current = float(base.thresholds[-1])
        chosen = mp.policy_threshold(base, current)
        _, _, found = mp.policy_cost(base)
        for factor in (0.01, 0.1, 10.0, 100.0):
            scaled = dataclasses.replace(base, flows=base.flows * factor)
            assert mp.policy_threshold(scaled, current) == pytest.approx(chosen, abs=1e-9), (
                vagueness,
                factor,
            )
            np.testing.assert_allclose(mp.policy_cost(scaled)[2], found, rtol=1e-12)
        assert ndtr(-chosen) > ndtr(-current)  # not the trivial answer: it does act
