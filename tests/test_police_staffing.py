"""Police investigators are stated per 100,000 users (``police.investigators_per_100k_users``,
docs/model.md S12, "Investigators"): the line's load per investigator, and with it how
many reports end in detention per user, does not depend on how many users are
simulated. A file that still gives a head count (``police.investigators``) is refused,
naming the field that replaced it and the conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.engine.simulation import Simulation
from simulator.model.platforms import part_time_servers
from simulator.model.police import police_staff


def test_investigators_are_the_rate_times_the_users() -> None:
    csl = simulator.load_scenario("china_csl_2016")
    rate = csl.police.investigators_per_100k_users
    for users in (2_000, 20_000, 1_000_000):
        sized = simulator.override(csl, {"population.users": users})
        assert police_staff(sized) == pytest.approx(rate * users / 100_000)
    # The shipped files keep their former head counts at their shipped sizes, exactly.
    shipped = {"china_csl_2016": 10.0, "china_weibo_2012": 2.0, "classroom": 1.0}
    for name, count in shipped.items():
        assert police_staff(simulator.load_scenario(name)) == count, name


def test_part_time_investigators_keep_the_capacity_exact() -> None:
    """2.5 investigators are 3 servers each at work 2.5/3 of the time: an investigation
    of 3 days' work takes 3 x 3/2.5 days on the clock; the line finishes 2.5/3 a day."""
    assert part_time_servers(2.0, 72.0) == (2, 72.0)  # whole staff: as before
    servers, hours = part_time_servers(2.5, 72.0)
    assert servers == 3 and hours == pytest.approx(72.0 * 3 / 2.5)
    assert servers / hours == pytest.approx(2.5 / 72.0)
    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {"police.investigators_per_100k_users": 125.0},  # 2.5 at 2,000 users
    )
    police = Simulation(scenario, seed=1).police
    assert police.staff == 2.5 and police.servers == 3
    none = simulator.override(scenario, {"police.investigators_per_100k_users": 0.0})
    assert Simulation(none, seed=1).police.servers == 0


def test_a_head_count_is_refused_naming_its_replacement(tmp_path: Path) -> None:
    old = tmp_path / "old.toml"
    old.write_text('extends = "china_weibo_2012"\nname = "old"\n[police]\ninvestigators = 2\n')
    result = CliRunner().invoke(main, ["validate", str(old)])
    output = result.output + (result.stderr if result.stderr_bytes else "")
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    assert "old.toml" in output and "police.investigators" in output
    assert "investigators_per_100k_users" in output and "N x 100000 / U" in output
    with pytest.raises(simulator.ScenarioError, match="investigators_per_100k_users"):
        simulator.override(simulator.load_scenario("classroom"), {"police.investigators": 3})


#: The sizes compared, and the seeds paired across them; a year, so each size detains
#: enough (about 25 a year per 10,000 users) for the mean to mean something.
SIZES = (10_000, 40_000)
SEEDS = (1, 2, 3)
DAYS = 365
#: Largest relative difference of the mean detentions per user between the sizes. The
#: counts are about Poisson: 77 detentions over SEEDS at 10,000 users (sd 11%) and 284
#: at 40,000 (sd 6%), so the ratio's sd from noise alone is about 0.13; measured 0.92.
#: The line is saturated at both sizes (10 investigators detain 172 at 10,000 users, 742
#: at 40,000), and one investigator idles when the line empties, four less often. A head
#: count (the small size's 1 investigator at 40,000 users) gives about 0.27.
TOLERANCE = 0.3


def detentions_per_user(users: int, seed: int, investigators: float | None = None) -> float:
    """Detentions per user in china_csl_2016's rules run at ``users`` users for DAYS
    days; ``investigators`` fixes the head count instead of the file's rate."""
    changes: dict[str, object] = {"population.users": users, "horizon_days": DAYS}
    if investigators is not None:
        changes["police.investigators_per_100k_users"] = investigators * 100_000 / users
    scenario = simulator.override(simulator.load_scenario("china_csl_2016"), changes, source="test")
    simulation = Simulation(scenario, seed)
    simulation.run()
    return int(simulation.recorder.tallies["detentions"].sum()) / users


@pytest.mark.slow
def test_detentions_per_user_do_not_depend_on_the_simulated_population() -> None:
    """china_csl_2016 at 10,000 and 40,000 users on paired seeds: detentions per user
    the same within TOLERANCE. The file's police are loaded beyond their capacity (a
    year's reports outrun 1 investigator at 10,000 users and 4 at 40,000), the case a
    head count got wrong: the small size's investigators for four times the users detain
    about a quarter as many per user (checked below, so the test tells the two apart)."""
    small = [detentions_per_user(SIZES[0], seed) for seed in SEEDS]
    large = [detentions_per_user(SIZES[1], seed) for seed in SEEDS]
    ratio = float(np.mean(large) / np.mean(small))
    assert abs(ratio - 1.0) <= TOLERANCE, (ratio, small, large)
    rate = simulator.load_scenario("china_csl_2016").police.investigators_per_100k_users
    head_count = rate * SIZES[0] / 100_000  # 1 investigator
    fixed = detentions_per_user(SIZES[1], SEEDS[0], head_count) / small[0]
    assert fixed < 1.0 - 2 * TOLERANCE, (fixed, small, large)
