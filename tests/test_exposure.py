"""Exposure, the harm side (simulator/model/exposure.py; docs/metrics.md "Exposure").

The statement against a plain per-post restatement; the engine's vectorised booking of
take-downs against the statement applied to the post store's own columns; the run's
accounting (cells add up to the summary, prevented = by removal + before publication);
and the levers: nothing prevented without take-down, more prevented with faster removal.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import reduced

import simulator
from simulator.engine.simulation import Simulation
from simulator.kinds import KIND_LABELS, Channel, ContentKind, Outcome
from simulator.model import arrivals, exposure
from simulator.output.metrics import cell_exposure, exposure_numbers

TAU = arrivals.ATTENTION_HOURS_FROM_RETWEETS


def _plain_exposure(published: float, removed: float, end: float, a: float, tau: float) -> float:
    """E = a (1 − e^{−(min(t_rem, T) − t_pub)/τ}), one post, with math."""
    up = max(min(removed, end) - published, 0.0)
    return a * (1.0 - math.exp(-up / tau))


def test_statement_matches_a_plain_restatement() -> None:
    rng = np.random.default_rng(3)
    published = rng.uniform(0, 240, 200)
    removed = np.where(rng.random(200) < 0.5, published + rng.exponential(5, 200), np.inf)
    a = rng.gamma(2.0, 0.5, 200)
    end = 240.0
    got = exposure.post_exposure(published, removed, end, a, TAU)
    want = [
        _plain_exposure(p, r, end, x, TAU) for p, r, x in zip(published, removed, a, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    cut = exposure.cut_exposure(published, removed, end, a, TAU)
    potential = exposure.potential_exposure(published, end, a, TAU)
    np.testing.assert_allclose(got + cut, potential, rtol=1e-12)
    assert (cut[np.isinf(removed)] == 0.0).all()
    # Removed at publication: nothing seen; half the views within τ ln 2.
    assert exposure.post_exposure(10.0, 10.0, end, 1.0, TAU) == 0.0
    assert exposure.post_exposure(0.0, TAU * math.log(2), 1e9, 1.0, TAU) == pytest.approx(0.5)


def test_day_potential_is_the_mean_over_the_day() -> None:
    days, tau = 5, 7.0
    got = exposure.day_potential(days, tau)
    t = np.linspace(0, 24, 200_001)[:-1] + 24 / 400_000  # midpoints
    for d in range(days):
        want = np.mean(1.0 - np.exp(-(24 * days - (24 * d + t)) / tau))
        assert got[d] == pytest.approx(want, rel=1e-9)
    # Posts of the first day are seen in full; the last day's only in part (1 − τ/24 ...).
    assert got[0] == pytest.approx(1.0, abs=1e-5)
    assert got[-1] == pytest.approx(1.0 - (tau / 24) * (1.0 - math.exp(-24 / tau)), rel=1e-12)


def test_post_audience_follows_s5a() -> None:
    kind = np.array([ContentKind.BENIGN, ContentKind.UNLAWFUL, ContentKind.CRITICAL, 3])
    channel = np.array([Channel.PUBLIC, Channel.PUBLIC, Channel.PUBLIC, Channel.PRIVATE])
    got = exposure.post_audience(np.array([5.0, 2.5, 0.5, 9.0]), kind, channel)
    np.testing.assert_array_equal(got, [1.0, 2.5, 0.5, 0.0])


@pytest.fixture(scope="module")
def classroom_run() -> tuple[Simulation, Simulation]:
    """A classroom run and its counterfactual, kept as simulations (the post store is
    not compacted at this size: every touched post is still there)."""
    scenario = reduced("classroom", users=1500, days=30)
    rules = Simulation(scenario, seed=5)
    rules.run()
    counterfactual = Simulation(scenario.without_rules(), seed=5)
    counterfactual.run()
    return rules, counterfactual


def test_booked_cuts_equal_the_statement_per_post(classroom_run) -> None:
    """The engine's vectorised cuts (ReviewDay.book_exposure, in the cells) equal the
    statement applied post by post to the store's publish/removal times."""
    sim, _ = classroom_run
    posts = sim.posts
    assert posts.appended == posts.size, "compacted: the test needs every record"
    n = posts.size
    removed = np.isfinite(posts.removed_hours[:n])
    assert removed.sum() > 20
    audience = arrivals.audience(sim.users.network.degree())
    end = 24.0 * sim.scenario.horizon_days
    tau = float(sim.scenario.population.attention_hours)  # 1.4427: 1/ln 2, rounded
    want = np.zeros_like(sim.recorder.exposure_cut)
    for i in np.flatnonzero(removed):
        if posts.channel[i] != Channel.PUBLIC:
            continue
        kind = int(posts.kind[i])
        a = 1.0 if kind == ContentKind.BENIGN else float(audience[posts.author[i]])
        published = float(posts.published_hours[i])
        cut = _plain_exposure(published, np.inf, end, a, tau) - _plain_exposure(
            published, float(posts.removed_hours[i]), end, a, tau
        )
        want[posts.day[i], posts.platform[i], posts.channel[i], kind] += cut
    reinstated = int(sim.recorder.tallies["reinstated"].sum())
    if reinstated == 0:
        np.testing.assert_allclose(sim.recorder.exposure_cut, want, rtol=1e-9, atol=1e-12)
    else:  # a reinstated post keeps the views missed while it was down
        assert sim.recorder.exposure_cut.sum() >= want.sum() - 1e-9
    assert sim.recorder.exposure_cut[:, :, Channel.PRIVATE].sum() == 0.0


def test_exposure_accounting_adds_up(classroom_run) -> None:
    sim, cf = classroom_run
    scenario = sim.scenario
    top, per_kind = exposure_numbers(scenario, sim.recorder, cf.recorder)
    cells = cell_exposure(sim.recorder, scenario)
    by_kind = cells.sum(axis=(0, 1, 2))
    for k, label in enumerate(KIND_LABELS):
        assert per_kind[label]["exposure"] == pytest.approx(by_kind[k], rel=1e-12)
    # Per cell: published posts' potential less the cuts.
    counts = sim.recorder.counts
    published = counts[..., Outcome.REMOVED] + counts[..., Outcome.SURVIVING]
    tau = float(scenario.population.attention_hours)
    potential = published[:, :, Channel.PUBLIC] * exposure.day_potential(30, tau)[:, None, None]
    np.testing.assert_allclose(
        cells[:, :, Channel.PUBLIC],
        potential - sim.recorder.exposure_cut[:, :, Channel.PUBLIC],
        rtol=1e-12,
        atol=1e-9,
    )
    # The two parts of the prevented share add up to it, and the counterfactual cut none.
    parts = (
        top["unlawful_exposure_prevented_by_removal"]
        + top["unlawful_exposure_prevented_before_publication"]
    )
    assert parts == pytest.approx(top["unlawful_exposure_prevented"], abs=1e-12)
    assert cf.recorder.exposure_cut.sum() == 0.0
    assert top["unlawful_exposure_prevented_by_removal"] > 0.0
    assert top["counterfactual_unlawful_exposure"] > top["unlawful_exposure"] > 0.0


def test_run_summary_and_daily_table_agree() -> None:
    results = simulator.run(reduced("classroom", users=1000, days=20), seed=2)
    daily, summary = results.daily, results.summary
    unlawful = daily.loc[daily["kind"] == "unlawful", "exposure"].sum()
    assert unlawful == pytest.approx(summary["unlawful_exposure"], rel=1e-9)
    lawful = daily.loc[daily["lawful"], "exposure"].sum()
    assert lawful == pytest.approx(summary["lawful_exposure"], rel=1e-9)
    cf = results.counterfactual_daily
    assert cf.loc[cf["kind"] == "unlawful", "exposure"].sum() == pytest.approx(
        summary["counterfactual_unlawful_exposure"], rel=1e-9
    )
    assert (daily.loc[daily["channel"] == "private", "exposure"] == 0.0).all()


def test_nothing_prevented_without_takedown() -> None:
    """No take-down duty (and no other rule): nothing is removed, no view is cut, and the
    run's exposure is the counterfactual's, exactly (the same random numbers)."""
    off = {"rules.takedown.enabled": False}
    scenario = reduced("germany_netzdg_2017", users=1500, days=20, **off)
    assert not scenario.rules.any_enabled
    summary = simulator.run(scenario, seed=4).summary
    assert summary["unlawful_exposure"] > 0.0
    assert summary["unlawful_exposure_prevented"] == 0.0
    assert summary["unlawful_exposure_prevented_by_removal"] == 0.0
    assert summary["lawful_exposure_lost"] == 0.0
    # Real names without take-down (CSL's other rules on): nothing is removed, so no
    # view is cut; what is prevented is prevented before publication (withheld, excluded).
    csl = reduced("china_csl_2016", users=1500, days=20, **off)
    assert csl.rules.any_enabled
    summary = simulator.run(csl, seed=4).summary
    assert summary["removed"] == 0
    assert summary["unlawful_exposure_prevented_by_removal"] == 0.0
    assert summary["unlawful_exposure_prevented"] == pytest.approx(
        summary["unlawful_exposure_prevented_before_publication"], abs=1e-15
    )


def _paired(
    scenario: simulator.Scenario, changes: list[dict], seeds: list[int]
) -> list[list[dict]]:
    """Summaries of ``scenario`` with each of ``changes``, on the same seeds (paired)."""
    return [
        [
            simulator.run(simulator.override(scenario, c, source="test"), seed=s).summary
            for s in seeds
        ]
        for c in changes
    ]


def test_faster_removal_prevents_more_exposure() -> None:
    """Review staff sets how fast flagged and noticed posts come down (S6): with 20
    reviewers per 100,000 users nearly every removal is within the hour, with 2 most take
    a day or more, and a post removed late has had its views (B4). Paired seeds."""
    scenario = reduced("germany_netzdg_2017", users=3000, days=30)
    slow, fast = _paired(
        scenario,
        [{"platforms.main.reviewers_per_100k_users": r} for r in (2.0, 20.0)],
        [1, 2],
    )
    for s, f in zip(slow, fast, strict=True):
        assert f["removed_within_1h"] > s["removed_within_1h"] + 0.3
        assert (
            f["unlawful_exposure_prevented_by_removal"]
            > 3 * s["unlawful_exposure_prevented_by_removal"]
        )
        assert f["unlawful_exposure_prevented"] > s["unlawful_exposure_prevented"] + 0.2


@pytest.mark.slow
def test_exposure_prevented_rises_as_the_deadline_shortens() -> None:
    """A notice deadline bites only through enforcement (S10): an understaffed platform
    that chooses its staff (S6a), audited weekly, misses more 1-hour deadlines than
    7-day ones, and removes more of the unlawful posts' views: it hires for its notices
    (served before flags, S6; 0.56 / 0.48 reviewers at 1 h, the floor of 0.1 at 168 h).
    Paired seeds; the effect is small (0.033 / 0.035 against 0.022 / 0.024 when
    measured): the flags wait, and notice liability does not count them."""
    scenario = reduced(
        "germany_netzdg_2017",
        users=10_000,
        days=120,
        **{
            "platforms.main.reviewers_per_100k_users": 1.0,
            "platforms.main.staffing": "chosen",
            "regulator.audits_per_year": 52,
        },
    )
    deadlines = [
        {"rules.takedown.deadline_hours": h, "rules.takedown.notice_deadline_hours": h}
        for h in (1.0, 168.0)
    ]
    short, long = _paired(scenario, deadlines, [1, 2])
    for s, lo in zip(short, long, strict=True):
        assert s["notices_missed_total"] > lo["notices_missed_total"]
        assert s["unlawful_exposure_prevented"] > lo["unlawful_exposure_prevented"]
