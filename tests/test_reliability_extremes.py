"""Extreme scenarios: each runs with sensible outputs that keep the invariants, or is
refused with a clear message (docs/reliability.md)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from invariants import check_invariants, raw_delays

import simulator
from simulator.model.platform_policy import cheapest_threshold
from simulator.model.platforms import strictness_to_threshold

ALL_ONE = {"benign": 1.0, "critical": 1.0, "collective_action": 1.0, "unlawful": 1.0}


def base(users: int = 250, days: int = 6, **changes: Any) -> simulator.Scenario:
    """The classroom regime (real names, takedowns, proactive reporting, penalties up to
    revocation) at a small size."""
    return simulator.override(
        simulator.load_scenario("classroom"),
        {"population.users": users, "horizon_days": days, **changes},
        source="extreme",
    )


def run(scenario: simulator.Scenario, seed: int = 3) -> simulator.Results:
    with raw_delays() as delays:
        results = simulator.run(scenario, seed=seed)
    check_invariants(results)
    assert all(d >= 0.0 for d in delays)
    return results


def test_no_users_is_refused() -> None:
    # It used to run to tables of zeros: a run of nobody measures nothing.
    with pytest.raises(simulator.ScenarioError) as caught:
        base(users=0)
    assert caught.value.problems == [
        ("population.users", 0, "a run needs at least 1 user; allowed: 1 to 50,000,000")
    ]


def test_one_user() -> None:
    # Seed 0 gives the single user a posting rate that produces posts in 10 days.
    results = run(base(users=1, days=10), seed=0)
    summary = results.summary
    assert summary["intended"] > 0
    assert (
        sum(
            summary["users_final"][k]
            for k in ("active", "excluded", "left", "circumventing", "detained")
        )
        == 1
    )
    assert summary["users_final"]["traceable"] <= 1


def test_one_day() -> None:
    results = run(base(days=1))
    assert set(results.daily["day"]) == {0}
    assert len(results.platform_daily) == 2 and len(results.population_daily) == 1
    assert results.summary["intended"] > 0
    assert (results.events["time_hours"] <= 24.0 + 1e-9).all()


def test_zero_reviewers_remove_nothing() -> None:
    # A sharp line, so the platforms stay strict enough to hold posts (with classroom's
    # vague one they believe criticism may count, cannot reach a clean audit and slacken).
    scenario = base(
        **{
            "platforms.0.reviewers_per_100k_users": 0,
            "platforms.1.reviewers_per_100k_users": 0,
            "rules.takedown.vagueness": 0.0,
        }
    )
    summary = run(scenario).summary
    # Nobody reviews: nothing is removed, held posts stay blocked, orders are missed.
    assert summary["removed"] == 0 and summary["reviews_total"] == 0
    assert summary["blocked"] == summary["held_total"] > 0
    assert all(p["review_items_served"] == 0 for p in summary["platforms"])


def test_deadline_of_zero_hours_misses_every_order() -> None:
    scenario = base(
        days=8,
        **{"rules.takedown.deadline_hours": 0.0, "regulator.monitoring_probability": 0.5},
    )
    summary = run(scenario).summary
    # Review takes time, so no issued order can be met at the moment it arrives.
    assert summary["orders_total"] > 0
    assert summary["orders_missed_total"] == summary["orders_total"]


def test_all_penalties_zero() -> None:
    scenario = base(
        days=10,
        **{
            "rules.penalties.ladder": [{"action": "fine", "amount": 0.0}],
            "rules.penalties.warning_cost": 0.0,
            "regulator.audits_per_year": 2000.0,
        },
    )
    results = run(scenario)
    assert results.summary["fines_total"] == 0.0
    # Missing costs nothing: platforms relax to their least strict setting.
    strictness = results.platform_daily.groupby("platform")["strictness"]
    assert (strictness.last() <= strictness.first() + 1e-12).all()


def test_every_rule_at_its_maximum() -> None:
    scenario = base(
        days=8,
        **{
            "rules.takedown.vagueness": 1.0,
            "rules.takedown.prohibited": ["critical", "collective_action", "unlawful"],
            "rules.takedown.deadline_hours": 0.0,
            "rules.takedown.private_messages": True,
            "rules.real_name.refusal_probability": 1.0,
            "rules.real_name.circumvent_probability": 1.0,
            "rules.penalties.ladder": [
                {"action": "fine", "amount": 1e15},
                {"action": "suspension", "days": 36_500.0},
                {"action": "revocation"},
            ],
            "regulator.audits_per_year": 100_000.0,
            "regulator.audit_sample_size": 1_000_000,
            "regulator.monitoring_probability": 1.0,
            "population.notices.probability": ALL_ONE,
            "population.perception.initial_trials": 1000.0,
            "population.perception.initial_removal": 1.0,
            "population.perception.initial_detention": 1.0,
            "population.perception.prior_report": 1.0,
            "population.speech.detention_cost": 1e6,
            "population.perception.visibility": 1.0,
            "population.exits.leave_probability_on_sanction": 1.0,
            "police.detention_probability": ALL_ONE,
            "police.identify_anonymous_probability": 1.0,
            "platforms.0.report_probability": 1.0,
            "platforms.0.max_strictness": 1.0,
            "platforms.0.initial_strictness": 1.0,
            "platforms.0.min_strictness": 1.0,
        },
    )
    summary = run(scenario).summary
    # Everyone refuses real names and circumvents: all speech leaves the platforms.
    assert summary["users_final"]["circumventing"] == summary["users"]
    assert summary["speech_loss"] > 0.4


def test_revocation_and_suspension_ladders() -> None:
    for ladder in (
        [{"action": "revocation"}],
        [{"action": "suspension", "days": 36_500.0}],
        [{"action": "warning"}, {"action": "suspension", "days": 0.0}],
    ):
        scenario = base(
            days=8,
            **{
                "rules.penalties.ladder": ladder,
                "rules.penalties.tolerance": 0,
                "regulator.audits_per_year": 5000.0,
                "regulator.audit_sample_size": 1_000_000,
            },
        )
        results = run(scenario)
        events = set(results.events["event"])
        assert events & {"revocation", "suspension", "warning"}, (ladder, events)


def test_strictness_at_zero_and_one_stays_finite() -> None:
    """Regression: strictness 0 or 1 made thresholds infinite and NaN by the next day
    (`inf - inf`), and the run crashed in a binomial draw."""
    assert math.isfinite(strictness_to_threshold(0.0))
    assert math.isfinite(strictness_to_threshold(1.0))
    for value in (0.0, 1.0):
        changes = {
            f"platforms.{i}.{field}": value
            for i in (0, 1)
            for field in ("min_strictness", "initial_strictness", "max_strictness")
        }
        results = run(base(**changes))
        strictness = results.platform_daily["strictness"].to_numpy()
        assert np.isfinite(strictness).all()
        assert np.allclose(strictness, value, atol=1e-9)


def test_extreme_costs_give_a_threshold_not_an_error() -> None:
    """Regression: a fine of 1e308 or a goodwill cost of 1e-300 once under- or overflowed
    the platform's cost ratio. The policy's cost may overflow to inf (the penalty of a
    fine of 1e308 twice over) but its choice stays a point of the grid, never NaN."""
    grid = np.array([-2.0, 0.0, 2.0])
    for cost in ([math.inf, math.inf, math.inf], [math.inf, 1e308, math.inf], [0.0, 5e-324, 0.0]):
        chosen = cheapest_threshold(grid, np.array(cost), current=2.0)
        assert chosen in grid
    for changes in (
        {"rules.penalties.ladder": [{"action": "fine", "amount": 1.7e308}]},
        {"platforms.0.wrongful_removal_daily_cost": 5e-324},
        {"platforms.0.value": 1.7e308, "rules.penalties.ladder": [{"action": "revocation"}]},
    ):
        results = run(base(**changes, **{"regulator.audits_per_year": 5000.0}))
        assert np.isfinite(results.platform_daily["strictness"].to_numpy()).all()


def test_many_platforms() -> None:
    n = 40
    platforms = [
        {"name": f"p{i}", "market_share": 1.0 / n, "reviewers_per_100k_users": 1000.0 * (i % 3)}
        for i in range(n)
    ]
    data = base().to_dict()
    data["platforms"] = platforms
    scenario = simulator.validate_scenario(data)
    results = run(scenario)
    assert len(results.platform_daily) == n * scenario.horizon_days
    assert results.daily["platform"].nunique() == n + 1  # and the circumvention row


def test_everyone_posts_privately_or_not_at_all() -> None:
    run(base(**{"population.private_share": 1.0, "rules.takedown.private_messages": True}))
    summary = run(base(**{"population.posts_per_day": 0.0})).summary
    assert summary["intended"] == 0


@pytest.mark.parametrize(
    ("changes", "field", "phrase"),
    [
        ({"rules.takedown.prohibited": ["benign"]}, "rules.takedown.prohibited", "benign"),
        ({"population.posts_per_day": 1e300}, "population.posts_per_day", "less than or equal"),
        (
            {"population.perception.news_case_weight": 1e300},
            "population.perception.news_case_weight",
            "less than or equal",
        ),
        (
            {"population.attention_hours": 1e300},
            "population.attention_hours",
            "less than or equal",
        ),
        (
            {"police.investigation_days": math.inf},
            "police.investigation_days",
            "less than or equal",
        ),
        (
            {"rules.penalties.ladder": [{"action": "suspension", "days": 1e308}]},
            "rules.penalties.ladder[0].days",
            "less than or equal",
        ),
        ({"horizon_days": 0}, "horizon_days", "greater than or equal to 1"),
        # A subnormal divided into hours underflows to 0: was an internal error (exit 70).
        (
            {"platforms.0.review_minutes": 5e-324},
            "platforms[0].review_minutes",
            "greater than or equal to 0.001",
        ),
        ({"population.users": -1}, "population.users", "at least 1 user; allowed: 1 to 50,000,000"),
        ({"platforms.0.market_share": 1.0}, "platforms", "add up to 1"),
        ({"rules.penalties.ladder": []}, "rules.penalties.ladder", "at least one penalty step"),
    ],
)
def test_extremes_beyond_the_domain_are_refused(
    changes: dict[str, Any], field: str, phrase: str
) -> None:
    with pytest.raises(simulator.ScenarioError) as caught:
        base(**changes)
    message = str(caught.value)
    assert f"`{field}" in message and phrase in message, message


def test_shortest_allowed_review_runs() -> None:
    """The smallest review time allowed (MIN_REVIEW_MINUTES) runs: every queue serves."""
    from simulator.model.scenario import MIN_REVIEW_MINUTES

    results = run(base(**{"platforms.0.review_minutes": MIN_REVIEW_MINUTES}))
    assert results.summary["intended"] > 0
    served = results.platform_daily.groupby("platform")["reviews"].sum()
    assert served.iloc[0] > 0
