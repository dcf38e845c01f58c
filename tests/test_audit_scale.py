"""A lever's answer does not depend on how many users are simulated (docs/model.md S8,
S10): an audit reads a fixed number of posts and goodwill is charged on a share of the
posts, so the platform's chosen strictness is the same at 10,000 and 100,000 users.

Before audits read a fixed number of posts (they read a share of the window's posts
against a tolerance counted in posts, and goodwill was charged per post), this test
failed: over these 60 days china_weibo_2012 had mean strictness 0.50 at 10,000 users and
0.002 at 100,000, china_csl_2016's weibo 0.93 and 0.47.
"""

from __future__ import annotations

from typing import Any

import pytest

import simulator

DAYS = 60
#: Largest difference of a platform's mean daily strictness between the two sizes.
TOLERANCE = 0.05


def world(name: str, users: int) -> simulator.Scenario:
    """``name`` with ``users`` users: review staff and investigators are per 100,000
    users, so this is the same world per user."""
    base = simulator.load_scenario(name)
    return simulator.override(base, {"population.users": users}, source="test")


def mean_strictness(name: str, users: int) -> dict[str, float]:
    results = simulator.run(world(name, users), seed=1, days=DAYS, parallel=False)
    return {p["platform"]: float(p["mean_strictness"]) for p in results.summary["platforms"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["china_csl_2016", "china_weibo_2012"])
def test_chosen_strictness_is_the_same_at_10000_and_100000_users(name: str) -> None:
    small, large = mean_strictness(name, 10_000), mean_strictness(name, 100_000)
    assert small.keys() == large.keys()
    for platform, strictness in small.items():
        assert abs(large[platform] - strictness) <= TOLERANCE, (platform, small, large)
    # Not the trivial agreement of two platforms that do nothing: some platform acts.
    assert max(small.values()) > 0.2, small


def test_the_replaced_share_and_per_post_fields_are_refused_naming_their_replacements(
    tmp_path: Any,
) -> None:
    base = simulator.load_scenario("classroom")
    with pytest.raises(simulator.ScenarioError, match=r"use regulator\.audit_sample_size"):
        simulator.override(base, {"regulator.audit_sample_share": 0.01})
    with pytest.raises(
        simulator.ScenarioError, match=r"use platforms\.wrongful_removal_daily_cost"
    ):
        simulator.override(base, {"platforms.weibo.wrongful_removal_cost": 5.0})
    old = tmp_path / "old.toml"
    old.write_text(
        'extends = "classroom"\nname = "old"\n[regulator]\naudit_sample_share = 0.01\n',
        encoding="utf-8",
    )
    with pytest.raises(simulator.ScenarioError, match=r"audit_sample_share.*audit_sample_size"):
        simulator.load_scenario(old)


def test_shipped_audits_read_a_count_of_posts_sized_to_the_former_share() -> None:
    """Each shipped regime's sample is what its former share read at its shipped size
    (share x window x posts a day; the TOML comments), so shipped behaviour is kept."""
    former = {  # share, window (days), posts a day published on the largest platform
        "china_csl_2016": (0.002, 7, 55_000),
        "china_weibo_2012": (0.01, 7, 13_700),
        "germany_netzdg_2017": (0.01, 30, 68_700),
        "eu_dsa_2024": (0.01, 30, 69_000),
    }
    for name, (share, window, posts) in former.items():
        regulator = simulator.load_scenario(name).regulator
        assert regulator.audit_window_days == window
        assert regulator.audit_sample_size == pytest.approx(share * window * posts, rel=0.02)
