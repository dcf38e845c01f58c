"""The platform's levers on whole runs, on paired replications (the same seeds at every
level: docs/model.md S8, S10; issue 16 item 3).

Each comparison runs a shipped regime at 10,000 users for 120 days with replication
seeds 0-3 at every level, and asserts the direction of the paired differences with a
95% Student-t interval that excludes 0, and the order of the means at every step.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.stats import t as student_t

import simulator

SEEDS = (0, 1, 2, 3)
USERS, DAYS = 10_000, 120


def run(name: str, changes: dict[str, Any], seed: int, users: int = USERS, days: int = DAYS) -> Any:
    scenario = simulator.override(
        simulator.load_scenario(name), {"population.users": users, **changes}
    )
    return simulator.run(scenario, seed=seed, days=days, parallel=False)


def mean_strictness(results: Any) -> float:
    """Mean over platforms of each platform's mean daily strictness."""
    return float(np.mean([p["mean_strictness"] for p in results.summary["platforms"]]))


def lawful_takedown_rate(results: Any) -> float:
    """Lawful sensitive posts taken down (blocked or removed) over those that reached a
    platform (blocked + removed + surviving); circumvention excluded."""
    d = results.daily
    d = d[(d.platform != "circumvention") & (d.kind != "benign") & d.lawful]
    taken = float(d.blocked.sum() + d.removed.sum())
    return taken / max(1.0, taken + float(d.surviving.sum()))


def paired(
    name: str,
    levels: list[dict[str, Any]],
    metric: Callable[[Any], float],
    seeds: tuple[int, ...] = SEEDS,
) -> np.ndarray:
    """``metric`` per level (rows) and seed (columns)."""
    return np.array([[metric(run(name, level, seed)) for seed in seeds] for level in levels])


def assert_rises(values: np.ndarray, label: str, median: bool = False) -> None:
    """Means non-decreasing level to level, and last minus first positive: the 95%
    t-interval of the paired differences above 0 or, with ``median``, the
    distribution-free interval of their median from the smallest to the largest
    (coverage 1 - 2 * 0.5^n: 99.2% for 8 seeds) above 0, for differences whose size
    varies a lot between seeds."""
    means = values.mean(axis=1)
    assert all(b >= a for a, b in zip(means, means[1:], strict=False)), (label, values)
    diff = values[-1] - values[0]
    if median:
        assert diff.min() > 0, (label, values)
        return
    half = student_t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
    assert diff.mean() - half > 0, (label, values)


def csl_fines(multiple: float, licence: bool = True) -> dict[str, Any]:
    """L1 Art. 68, L2 Art. 61/69, L3: the shipped ladder with its fines scaled (without
    ``licence``: without its suspension and revocation rungs)."""
    ladder = [
        {"action": "warning"},
        {"action": "fine", "amount": 100_000 * multiple},
        {"action": "fine", "amount": 500_000 * multiple},
    ]
    if licence:
        ladder += [{"action": "suspension", "days": 30}, {"action": "revocation"}]
    return {"rules.penalties.ladder": ladder}


def netzdg_fines(multiple: float) -> dict[str, Any]:
    # L5: the shipped ladder with its fines scaled.
    return {
        "rules.penalties.ladder": [
            {"action": "warning"},
            {"action": "fine", "amount": 5_000_000 * multiple},
            {"action": "fine", "amount": 50_000_000 * multiple},
        ]
    }


#: Fines over the realistic range: up to RMB 1,000,000 (twice the CSL's RMB 500,000, L1,
#: L3), on the CSL ladder without the licence rungs, which dominate otherwise (below); the
#: NetzDG's shipped ladder reaches the EUR 50M cap (L5).
FINES = {
    "china_csl_2016": (functools.partial(csl_fines, licence=False), (0.0, 1.0, 2.0)),
    "germany_netzdg_2017": (netzdg_fines, (0.0, 0.1, 1.0)),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FINES))
def test_fines_raise_strictness(name: str) -> None:
    """The platform weighs the penalty ladder ahead (S8), so dearer fines make it stricter
    at every step of the realistic range (not a cap it sits at whatever the fine)."""
    ladder, multiples = FINES[name]
    values = paired(name, [ladder(m) for m in multiples], mean_strictness)
    for step in range(1, len(multiples)):
        assert_rises(values[step - 1 : step + 1], f"{name} x{multiples[step]:g}")


@pytest.mark.slow
def test_netzdg_fines_x10_raise_strictness_below_the_bound() -> None:
    """germany_netzdg_2017: fines x1 to x10 still raise strictness, and at x10 the
    platform is below the 0.999 bound on most days (main: at it on 64% of days,
    docs/validation.md defect 8)."""
    name = "germany_netzdg_2017"
    shipped = simulator.load_scenario(name).rules.penalties.ladder
    scaled = {  # every fine of the shipped ladder x10 (as benchmarks/probe_levers.py)
        f"rules.penalties.ladder.{i}.amount": step.amount * 10.0
        for i, step in enumerate(shipped)
        if step.action == "fine"
    }
    values = paired(name, [{}, scaled], mean_strictness)
    assert_rises(values, f"{name} x10")
    for seed in SEEDS[:2]:
        daily = run(name, scaled, seed).platform_daily
        daily = daily[daily.serving == 1]
        # (Within 1e-6, as the probe: the adapted threshold approaches the bound.)
        assert float((daily.strictness >= 0.999 - 1e-6).mean()) < 0.5, seed


@pytest.mark.slow
def test_fines_matter_less_where_the_licence_dominates() -> None:
    """china_csl_2016: fines x0 to x2 raise strictness less on the shipped ladder, whose
    suspension and licence dominate what the platform weighs (L3), than on the same ladder
    without those rungs (diminishing, docs/model.md S8)."""
    name = "china_csl_2016"
    shipped = paired(name, [csl_fines(m) for m in (0.0, 2.0)], mean_strictness)
    fines_only = paired(name, [csl_fines(m, licence=False) for m in (0.0, 2.0)], mean_strictness)
    gain_shipped = float(np.mean(shipped[1] - shipped[0]))
    gain_fines_only = float(np.mean(fines_only[1] - fines_only[0]))
    assert gain_shipped >= -0.002, shipped
    assert gain_shipped < 0.25 * gain_fines_only, (shipped, fines_only)


VAGUENESS = {
    # The whole range under strict liability too: with the believed line on the score
    # scale the CSL platform takes down the lawful posts nearest the line instead of
    # slackening (docs/model.md S8, "The believed line"; it used to stop at 0.6).
    "china_csl_2016": (0.0, 0.3, 0.6, 1.0),
    "germany_netzdg_2017": (0.0, 0.3, 0.6, 0.9),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(VAGUENESS))
def test_vagueness_raises_the_lawful_takedown_rate(name: str) -> None:
    """Vaguer rules: lawful kinds near the line look more like prohibited ones and may
    count in audits, so more lawful posts come down (collateral censorship)."""
    levels = [{"rules.takedown.vagueness": v} for v in VAGUENESS[name]]
    assert_rises(paired(name, levels, lawful_takedown_rate), name)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("china_csl_2016", "notice"),
        pytest.param(
            "germany_netzdg_2017",
            "strict",
            marks=pytest.mark.xfail(
                strict=True,
                reason="an audit reads 20,600 posts (sized for late notices) with a tolerance "
                "of 0: under strict liability a clean audit is hopeless and the platform "
                "gives up (strictness 0.0), as it did before at the shipped 100,000 users; "
                "the 0.98 once seen at 10,000 users came from audits that read a share of a "
                "smaller slice (docs/model.md S8, Scale-free)",
            ),
        ),
    ],
)
def test_strict_liability_makes_platforms_stricter_than_notice_liability(
    name: str, other: str
) -> None:
    """Liable for everything still up (strict, L1) against liable for notified
    prohibited content kept past its deadline (notice, L5, L7)."""
    shipped = simulator.load_scenario(name).rules.takedown.liability
    by_mode = {
        mode: [mean_strictness(run(name, {"rules.takedown.liability": mode}, s)) for s in SEEDS]
        for mode in (shipped, other)
    }
    values = np.array([by_mode["notice"], by_mode["strict"]])
    assert_rises(values, name)


@pytest.mark.slow
def test_mean_strictness_stays_below_the_technical_bound_in_every_shipped_scenario() -> None:
    """max_strictness is a technical bound, not the calibration: at its shipped size
    (first 120 days) every regime's platforms sit below it, on fewer than 5% of days at it.
    (A strict xfail until session 11: china_csl_2016's weibo sat at the 0.999 bound on 38%
    of these days, fearing for ever readings of the vague line that audits never used;
    it now learns them away, docs/model.md S8, "Learning where the line is".)"""
    for name in simulator.shipped_scenarios():
        scenario = simulator.load_scenario(name)
        results = simulator.run(
            scenario, seed=scenario.seed, days=min(120, scenario.horizon_days), parallel=False
        )
        for spec, row in zip(scenario.platforms, results.summary["platforms"], strict=True):
            assert row["mean_strictness"] < spec.max_strictness - 0.01, (name, row)
            series = results.platform_daily
            daily = series[series.platform == spec.name].strictness
            assert float((daily >= spec.max_strictness - 1e-9).mean()) < 0.05, name


def test_classroom_platforms_stay_below_the_bound() -> None:
    """The quick form of the test above, in the default suite."""
    scenario = simulator.load_scenario("classroom")
    results = simulator.run(scenario, seed=1, parallel=False)
    for spec, row in zip(scenario.platforms, results.summary["platforms"], strict=True):
        assert 0.0 < row["mean_strictness"] < spec.max_strictness - 0.01


def test_platforms_learn_from_audits_that_criticism_is_not_counted() -> None:
    """classroom (CSL's rules: criticism lawful, q = vagueness x closeness = 0.3) for its
    60 days: audits count prohibited posts only (S10), so each platform ends giving a
    critical post a lower chance of being counted than its prior q (measured, seed 1:
    0.251 and 0.271 against 0.3; S8, "Learning where the line is"), and still 1 to calls
    to act, which the law prohibits."""
    scenario = simulator.load_scenario("classroom")
    takedown = scenario.rules.takedown
    prior = takedown.vagueness * scenario.population.perception.kind_closeness.critical
    results = simulator.run(scenario, seed=1, parallel=False)
    for row in results.summary["platforms"]:
        assert row["believed_counted_critical"] < prior - 0.01, (row, prior)
        assert row["believed_counted_collective_action"] == pytest.approx(1.0, abs=1e-12)
        assert row["believed_counted_unlawful"] == pytest.approx(1.0, abs=1e-12)


def test_more_audits_teach_the_line_faster() -> None:
    """Comparative statics of the learned line (S8): the more audits a platform goes
    through, the more evidence that criticism is not counted, so the chance it gives a
    critical post of being counted ends lower, in every paired replication (classroom,
    seeds 0-3; measured in session 12, the detection learned from the prohibited posts
    counted: audits a year 0 -> the prior 0.300, 4 -> 0.284-0.300, 12 -> 0.238-0.260,
    48 -> 0.071-0.134; the mean falls 0.011, 0.041, 0.156 a step; session 21, after the
    CSL's refit: 0.287-0.300, 0.247-0.265, 0.075-0.141, falls 0.0085, 0.036, 0.159).
    The platforms meet the line new (``audits_experienced`` 0; classroom's inherit the
    CSL's experience, with which they start at 0.048)."""
    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {f"platforms.{name}.audits_experienced": 0 for name in ("weibo", "tieba")},
    )
    prior = (
        scenario.rules.takedown.vagueness * scenario.population.perception.kind_closeness.critical
    )
    levels = (0.0, 4.0, 12.0, 48.0)
    believed = np.array(
        [
            [
                np.mean(
                    [
                        row["believed_counted_critical"]
                        for row in simulator.run(
                            simulator.override(scenario, {"regulator.audits_per_year": audits}),
                            seed=seed,
                            parallel=False,
                        ).summary["platforms"]
                    ]
                )
                for seed in range(4)
            ]
            for audits in levels
        ]
    )
    # No audit, no evidence: the prior q (to the 32-point quadrature of the readings).
    np.testing.assert_allclose(believed[0], prior, atol=0.01)
    # Never higher with more audits (a run with no audit in its 60 days keeps the prior:
    # seed 1 at 4 a year), lower on average at every step.
    assert np.all(np.diff(believed, axis=0) <= 1e-12), believed
    assert np.all(np.diff(believed.mean(axis=1)) < -0.005), believed
    assert float(believed[-1].max()) < 0.5 * prior, believed


def test_experience_settles_weibo_whenever_its_first_audit_comes() -> None:
    """Audits lived through before day 0 (S8, "Experience"): a new platform fears every
    reading of the line until its first audit, so how strict china_weibo_2012's Weibo is
    depends on when that audit comes (seeds 1-6 at 8,000 users x 60 days, measured in
    session 20: mean strictness 0.58-0.96, sd 0.150); one that starts from 30 audits
    already knows the broad readings are not enforced and is as strict in every
    replication (0.445-0.447, sd 0.0006), and less strict in each pair."""
    means = {}
    for audits in (0.0, 30.0):
        runs = []
        for seed in range(1, 7):
            scenario = simulator.override(
                simulator.load_scenario("china_weibo_2012"),
                {
                    "population.users": 8000,
                    "horizon_days": 60,
                    "platforms.weibo.audits_experienced": audits,
                },
            )
            series = simulator.run(scenario, seed=seed, parallel=False).platform_daily
            runs.append(float(series[series.platform == "weibo"].strictness.mean()))
        means[audits] = np.array(runs)
    assert means[30.0].std() < 0.01 < 0.1 < means[0.0].std(), means
    assert np.all(means[30.0] < means[0.0] - 0.05), means


@pytest.mark.slow
def test_belief_about_audits_converges_to_the_true_rate() -> None:
    """A platform that believes in 5 audits a year, audited 50 times a year for three
    years, ends believing in about 50 (Gamma posterior, docs/model.md S8)."""
    errors = []
    for seed in SEEDS:
        changes = {
            # Warnings only: the platform stays on the market to be audited for three years
            # (a full ladder revokes its licence: audits are those of the shipped size).
            "rules.penalties.ladder": [{"action": "warning"}],
            "regulator.audits_per_year": 50.0,
            "platforms.weibo.believed_audits_per_year": 5.0,
            "platforms.tieba.believed_audits_per_year": 5.0,
        }
        results = run("classroom", changes, seed, users=500, days=3 * 365)
        for row in results.summary["platforms"]:
            errors.append(row["believed_audits_per_year"] - 50.0)
    # Prior error -45 a year; bias left after 3 years with b0 = 180 days: -45·180/1275
    # = -6.4; Poisson noise of 150 audits: sd about 4 a year.
    assert abs(float(np.mean(errors))) < 10.0, errors
    assert all(abs(e) < 20.0 for e in errors), errors
