"""Review staff is stated per 100,000 of a platform's users (issue 16, docs/validation.md
open defect 4; docs/model.md S6, "Staff"): the queue's load per reviewer, and with it
the time to removal, does not depend on how many users are simulated. A file that still
gives a head count (``reviewers``) is refused, naming the field that replaced it."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.engine.simulation import Simulation
from simulator.experiments.facts import share_removed_within
from simulator.model.platforms import make_platforms, review_servers, review_staff
from simulator.output.metrics import delays_table


def test_staff_is_the_rate_times_the_platforms_users() -> None:
    weibo = simulator.load_scenario("china_weibo_2012")
    rate = weibo.platforms[0].reviewers_per_100k_users
    for users in (2_000, 20_000, 1_000_000):
        sized = simulator.override(weibo, {"population.users": users})
        assert review_staff(sized, sized.platforms[0]) == pytest.approx(rate * users / 100_000)
    # Per platform: its market share of the users. china_csl_2016 keeps its former
    # 8 and 9 reviewers at 100,000 users (60% and 40% of them), exactly.
    csl = simulator.load_scenario("china_csl_2016")
    assert [review_staff(csl, p) for p in csl.platforms] == [8.0, 9.0]


def test_part_time_staff_keeps_the_capacity_exact() -> None:
    """6.4 reviewers are 7 servers each at work 6.4/7 of the time: reviews take 7/6.4
    times as long on the clock, and the queue serves 6.4 x 60 / minutes an hour."""
    assert review_servers(6.0, 2.0) == (6, 2.0 / 60.0)  # whole staff: as before
    servers, hours = review_servers(6.4, 2.0)
    assert servers == 7 and hours == pytest.approx(2.0 / 60.0 * 7 / 6.4)
    assert servers / hours == pytest.approx(6.4 * 60 / 2.0)
    servers, hours = review_servers(0.16, 1.0)
    assert servers == 1 and 1 / hours == pytest.approx(0.16 * 60)
    assert review_servers(0.0, 2.0)[0] == 0  # no staff: nothing is ever reviewed


def test_the_engine_builds_queues_and_pays_staff_from_the_rate() -> None:
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {
            "population.users": 3_000,
            "platforms.weibo.reviewers_per_100k_users": 100.0,  # 1.8 reviewers
            "platforms.tieba.reviewers_per_100k_users": 0.0,
            # Fixed: a platform choosing its staff from a floor of 0 is refused.
            "platforms.tieba.staffing": "fixed",
        },
    )
    weibo, tieba = make_platforms(scenario, np.random.default_rng(0))
    assert weibo.staff == pytest.approx(1.8) and weibo.queue.servers == 2
    assert tieba.staff == 0.0 and tieba.queue.servers == 0
    cost = weibo.spec.reviewer_cost_per_day
    # The represented platform's wages (slice_scale): the scenario stands for 100,000 users.
    assert weibo.book_day() == pytest.approx(1.8 * cost * 100_000 / 3_000)
    assert weibo.book_day(staffed=False) == 0.0


def test_a_head_count_is_refused_naming_its_replacement(tmp_path: Path) -> None:
    old = tmp_path / "old.toml"
    old.write_text(
        'extends = "china_weibo_2012"\nname = "old"\n[[platforms]]\nname = "weibo"\nreviewers = 6\n'
    )
    result = CliRunner().invoke(main, ["validate", str(old)])
    output = result.output + (result.stderr if result.stderr_bytes else "")
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    assert "old.toml" in output and "platforms[0].reviewers" in output
    assert "reviewers_per_100k_users" in output and "removed" in output
    # The same from the API, by override path.
    with pytest.raises(simulator.ScenarioError, match="reviewers_per_100k_users"):
        simulator.override(simulator.load_scenario("classroom"), {"platforms.weibo.reviewers": 3})


#: The sizes compared: the shipped slice of Weibo and fifty times it.
SIZES = (20_000, 1_000_000)
#: Largest allowed difference of a C2 share between the sizes, mean over SEEDS. C2's
#: tolerance is ±0.05 (docs/validation.md); replications at 20,000 users spread by at most
#: 0.012 (sd, each share), so the mean difference of two seeds between two sizes has an sd
#: of about 0.012 from noise alone and 0.04 is over three of them. Measured: every share
#: about 0.01 higher at a million users (docs/validation.md), part of it the pooling of
#: many reviewers (an order waits for the next free one: 20 s among 6, under a second
#: among 300). A head count (6 reviewers at a million) gave 0.0006 against 0.16.
SHARE_TOLERANCE = 0.04
SEEDS = (1, 2)


def removal_shares(users: int, seed: int) -> dict[str, float]:
    """C2's shares (critical and collective-action removals within 8 min, 30 min, 24 h)
    of china_weibo_2012 at ``users`` users for 30 days, the rules' run only, with the
    platform's strictness pinned at 0.45: the platform's own choice is held to the size
    in tests/test_audit_scale.py, and here the queue's load alone must not move."""
    scenario = simulator.override(
        simulator.load_scenario("china_weibo_2012"),
        {
            "population.users": users,
            "horizon_days": 30,
            "platforms.weibo.initial_strictness": 0.45,
            "platforms.weibo.min_strictness": 0.45,
            "platforms.weibo.max_strictness": 0.45,
        },
        source="test",
    )
    simulation = Simulation(scenario, seed)
    simulation.run()
    results = types.SimpleNamespace(delays=delays_table(simulation.recorder))
    return {
        label: share_removed_within(hours)(results)
        for label, hours in (("8min", 8 / 60), ("30min", 0.5), ("24h", 24.0))
    }


@pytest.mark.slow
def test_removal_times_do_not_depend_on_the_simulated_population() -> None:
    """china_weibo_2012 at 20,000 and 1,000,000 users on the same seeds: every C2 share
    the same within SHARE_TOLERANCE (mean over SEEDS). At the shipped rate (30 per
    100,000) and this strictness the queue is loaded beyond its capacity, the case a head
    count got most wrong: 6 reviewers for a million users served a fiftieth of the flags
    (measured, seed 1: the 30-minute share fell from 0.16 to 0.0006)."""
    runs = {users: [removal_shares(users, seed) for seed in SEEDS] for users in SIZES}
    small, large = (runs[users] for users in SIZES)
    for label in small[0]:
        difference = np.mean([b[label] - a[label] for a, b in zip(small, large, strict=True)])
        assert abs(difference) <= SHARE_TOLERANCE, (label, small, large)
