"""User groups (issue 17 item 3): validated like the rest and shown; every per-group
count adds up to the run's total; groups that are all alike change no output (the
group machinery does nothing a one-population run does not); each scrutiny factor moves
what it says for its group; the reference model refuses groups; a timeline cannot
target a group; the regional example shows the heavier-scrutiny group's deletion and
withholding above the rest, with intervals (slow)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.engine.simulation import Simulation
from simulator.errors import ScenarioError
from simulator.kinds import SENSITIVE_KINDS, UserState
from simulator.model.groups import mixed_ends
from simulator.model.scenario import Scenario, validate_scenario
from simulator.output.results import TABLES, Results
from simulator.reference import run_reference

SEED = 7
USERS = 3000
DAYS = 40
SENSITIVE = [k.label for k in SENSITIVE_KINDS]


def classroom(groups: list[dict[str, Any]], **changes: Any) -> Scenario:
    """``classroom`` at :data:`USERS` users for :data:`DAYS` days with ``groups``."""
    base = simulator.override(
        simulator.load_scenario("classroom"),
        {"population.users": USERS, "horizon_days": DAYS, **changes},
    )
    data = base.to_dict()
    if groups:
        data["groups"] = groups
    return validate_scenario(data)


def run(scenario: Scenario, seed: int = SEED) -> Results:
    return simulator.run(scenario, seed=seed, parallel=False)


HEAVY = {
    "name": "region",
    "share": 0.3,
    "homophily": 0.7,
    "filtering": 3.0,
    "monitoring": 5.0,
    "reporting": 3.0,
    "detention": 3.0,
}
REST = {"name": "rest", "share": 0.7}


@pytest.fixture(scope="module")
def plain() -> Results:
    return run(classroom([]))


@pytest.fixture(scope="module")
def grouped() -> Results:
    return run(classroom([HEAVY, REST]))


# -- every per-group count adds up to the run's total -----------------------------------


def test_every_per_group_count_adds_up_to_the_runs_total(grouped: Results) -> None:
    table = grouped.groups_daily
    assert table is not None
    assert sorted(table["group"].unique()) == ["region", "rest"]
    by_day = table.groupby("day").sum(numeric_only=True)
    daily = grouped.daily
    sensitive = daily[daily["kind"].isin(SENSITIVE)].groupby("day").sum(numeric_only=True)
    # Speech: intended and withheld sensitive posts, day by day.
    assert by_day["intended"].sum() > 1000  # there is something to partition
    assert (by_day["intended"].to_numpy() == sensitive["intended"].to_numpy()).all()
    assert (by_day["withheld"].to_numpy() == sensitive["withheld"].to_numpy()).all()
    assert (by_day["softened"].to_numpy() == sensitive["softened"].to_numpy()).all()
    # Take-downs (blocked or removed, every kind) are the platforms' removals.
    removals = grouped.platform_daily.groupby("day")["removals"].sum()
    assert removals.sum() > 50
    assert (by_day["taken_down_all_kinds"].to_numpy() == removals.to_numpy()).all()
    # Users by state and newcomers, day by day, are the population's.
    population = grouped.population_daily.set_index("day")
    for state in UserState:
        name = state.name.lower()
        assert (by_day[f"users_{name}"].to_numpy() == population[name].to_numpy()).all(), name
    assert by_day["arrivals"].sum() > 0
    assert (by_day["arrivals"].to_numpy() == population["users_renewed"].to_numpy()).all()
    # Reports and detentions: the run's events.
    events = grouped.events
    assert table["reports"].sum() == (events["event"] == "report").sum() > 0
    assert table["detentions"].sum() == (events["event"] == "detention").sum()
    # The summary's per-group totals are the table's.
    summary = grouped.summary["groups"]
    assert sum(g["users"] for g in summary.values()) == USERS
    for name, row in summary.items():
        mine = table[table["group"] == name]
        assert row["sensitive_intended"] == mine["intended"].sum()
        assert row["sensitive_taken_down"] == mine["taken_down"].sum()
        assert row["departures"] >= row["arrivals"] == mine["arrivals"].sum()


def test_groups_hold_their_share_of_users(grouped: Results) -> None:
    users = grouped.summary["groups"]
    share = users["region"]["users"] / USERS
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / USERS)


# -- groups that are all alike change nothing -------------------------------------------


def test_alike_groups_change_no_output(plain: Results) -> None:
    """Two groups with no factor of their own: every table the run wrote without groups
    is byte-identical (membership comes from its own stream; each factor of 1 is the
    national value exactly). The key test that the group code touches nothing else."""
    alike = run(classroom([{"name": "a", "share": 0.4}, {"name": "b", "share": 0.6}]))
    for name in TABLES:
        assert getattr(alike, name).to_csv(index=False) == getattr(plain, name).to_csv(
            index=False
        ), name
    assert plain.groups_daily is None and "groups" not in plain.summary
    assert alike.groups_daily is not None and "groups" in alike.summary


def test_a_run_without_groups_writes_what_it_wrote_before(plain: Results, tmp_path: Path) -> None:
    plain.write(tmp_path / "run")
    assert not (tmp_path / "run" / "groups_daily.csv").exists()
    assert "groups" not in json.loads((tmp_path / "run" / "scenario.json").read_text())
    assert "groups" not in simulator.load_scenario("classroom").to_dict()


def test_group_outputs_are_written_and_read_back(grouped: Results, tmp_path: Path) -> None:
    grouped.write(tmp_path / "run")
    back = Results.read(tmp_path / "run")
    assert back.groups_daily is not None
    assert len(back.groups_daily) == DAYS * 2
    assert back.summary["groups"]["region"]["users"] == grouped.summary["groups"]["region"]["users"]


# Passes since the platforms learn where the line is (docs/model.md S8) and the refit of
# C4 that followed (held_review_margin -0.0598 -> -0.526: a held post is blocked more
# readily than a published one is removed): classroom, region 0.319 vs rest 0.237 (seed
# 7). It was a strict xfail while the margin was near 0 (0.438 vs 0.432); the hold design
# of docs/model.md S5, "Open (issue 17)", is still not built, so it rests on the margin.
def test_scrutiny_raises_the_groups_deletion(grouped: Results) -> None:
    """The heavier group's deletion rate is above the rest's in one run (the paired
    intervals over replications are the slow test below)."""
    region, rest = grouped.summary["groups"]["region"], grouped.summary["groups"]["rest"]
    assert region["deletion_rate"] > rest["deletion_rate"] + 0.02


NEUTRAL = {"name": "region", "share": 0.3, "homophily": 0.7}


# Enough investigators to take up every report (classroom's 1 per 2,000 users takes up
# about 20 in 40 days, of over 120 filed, the region's 3 or so: too few to show a factor;
# since the CSL's platforms start experienced, session 21, it missed in seed 7).
POLICE = {"police.investigators_per_100k_users": 500.0}


@pytest.fixture(scope="module")
def neutral() -> Results:
    return run(classroom([NEUTRAL, REST], **POLICE))


@pytest.mark.parametrize(
    ("factor", "outcome"),
    [
        # Passes since session 7's refit of C4 (held_review_margin 0.176 -> -0.04: a held
        # post is blocked at least as readily as a published one is removed).
        ("filtering", "deletion_rate"),
        ("monitoring", "orders"),
        ("reporting", "reports"),
        ("detention", "detentions"),
    ],
)
def test_each_factor_raises_its_outcome_for_its_group_alone(
    neutral: Results, factor: str, outcome: str
) -> None:
    """Comparative statics on common random numbers: the same seed, the same members
    (their own stream), the region's ``factor`` 1 -> 10 (50 for monitoring); the region's
    ``outcome`` rises.
    Reporting and detention remove no post: they deter (the region withholds more)."""
    # Monitoring acts on the few prohibited posts (orders are rare at this size): x50
    # (P(ordered) of an average author 0.05 -> 0.92) so its count is not noise.
    raised = run(
        classroom([{**NEUTRAL, factor: 50.0 if factor == "monitoring" else 10.0}, REST], **POLICE)
    )
    before, after = neutral.summary["groups"], raised.summary["groups"]
    if outcome == "orders":  # the regulator's orders (events.csv), the region's posts 10x as seen
        assert raised.summary["events"]["order"] > 2 * neutral.summary["events"]["order"] > 0
        return
    assert after["region"][outcome] > before["region"][outcome], (before, after)
    if factor in ("reporting", "detention"):
        # They remove nothing: they deter. The region withholds more, and its deletion
        # rate does not rise (it falls, 0.16 -> 0.10-0.12 here: what is withheld is what
        # would have been deleted; with the news, the rest's falls too, so it is not a
        # control).
        assert after["rest"]["sensitive_published"] > 0
        assert after["region"]["sensitive_withheld"] > before["region"]["sensitive_withheld"]
        assert after["region"]["deletion_rate"] < before["region"]["deletion_rate"] + 0.01


def test_homophily_keeps_degrees_and_puts_ties_inside() -> None:
    rng = np.random.default_rng(3)
    n, edges = 50_000, 250_000
    group = (rng.random(n) < 0.2).astype(np.int64)
    a = rng.integers(0, n, edges, dtype=np.int32)
    b = rng.integers(0, n, edges, dtype=np.int32)
    far = mixed_ends(a, b, group, np.array([0.0, 0.8]), rng)
    assert far.dtype == b.dtype
    degree = np.bincount(a, minlength=n) + np.bincount(far, minlength=n)
    assert abs(degree[group == 1].mean() / degree[group == 0].mean() - 1) < 0.02
    ends = np.concatenate((group[a], group[far]))
    same = np.concatenate((group[a] == group[far],) * 2)
    inside = same[ends == 1].mean()
    assert 0.75 < inside < 0.85  # h + (1 - h) q with q ~ 0.05
    random = mixed_ends(a, b, group, np.array([0.0, 0.0]), rng)
    ends = np.concatenate((group[a], group[random]))
    same = np.concatenate((group[a] == group[random],) * 2)
    assert abs(same[ends == 1].mean() - 0.2) < 0.02  # no homophily: its share


# -- input ---------------------------------------------------------------------------

GOOD = """
name = "tiny"
horizon_days = 5
[population]
users = 50
[[platforms]]
name = "p"
market_share = 1.0
"""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


@pytest.mark.parametrize(
    ("groups", "needles"),
    [
        (
            '[[groups]]\nname = "a"\nshare = 0.5\n[[groups]]\nname = "b"\nshare = 0.4\n',
            ["groups", "share must add up to 1, got 0.9"],
        ),
        (
            '[[groups]]\nname = "a"\nshare = 0.5\n[[groups]]\nname = "a"\nshare = 0.5\n',
            ["group names must be unique"],
        ),
        (
            '[[groups]]\nname = "a"\nshare = 1.0\nmonitoring = -1.0\n',
            ["groups[0].monitoring", "greater than or equal to 0"],
        ),
        ('[[groups]]\nname = "a"\nshare = 1.0\nscrutiny = 2.0\n', ["groups[0].scrutiny"]),
        ('[[groups]]\nname = "a"\n', ["groups[0].share", "required"]),
        (
            '[[groups]]\nname = "a"\nshare = 1.0\nstance = { alpha = 0.1, beta = 9.0 }\n',
            ["groups", "at most the population's mean stance over the groups"],
        ),
        (
            '[[groups]]\nname = "a"\nshare = 1.0\n[[timeline]]\nname = "t"\nday = 1\n'
            'set = { "groups.a.share" = 0.5 }\n',
            ["`groups.a.share` cannot change mid-run", "may change its scrutiny"],
        ),
        (
            '[[groups]]\nname = "a"\nshare = 1.0\n[[timeline]]\nname = "t"\nday = 1\n'
            'set = { "groups.b.detention" = 3.0 }\n',
            ["entry `t`: `b` is not a group of this scenario (a)"],
        ),
    ],
)
def test_bad_groups_are_refused(tmp_path: Path, groups: str, needles: list[str]) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD + groups, encoding="utf-8")
    code, output = invoke("validate", str(path))
    assert code == 2, output
    assert "Traceback" not in output
    assert str(path) in output
    for needle in needles:
        assert needle in output, (needle, output)


def test_show_prints_the_groups(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        GOOD + '[[groups]]\nname = "a"\nshare = 0.25\nmonitoring = 4.0  # ASSUMPTION\n'
        '[[groups]]\nname = "b"\nshare = 0.75\n',
        encoding="utf-8",
    )
    code, output = invoke("show", str(path))
    assert code == 0, output
    assert output.count("[[groups]]") == 2 and "monitoring = 4.0" in output
    assert "null" not in output  # TOML has no null: unset optional fields are left out
    code, output = invoke("validate", str(path))
    assert code == 0, output


def test_a_crackdown_on_one_region_changes_nothing_before_its_day(neutral: Results) -> None:
    """A timeline entry from day 10 multiplies the region's reporting and detention (a
    crackdown on one region): every table is byte-identical before day 10, and from day
    10 the region's reports and detentions rise."""
    day = 10
    entry = {
        "name": "crackdown",
        "day": day,
        "set": {"groups.region.detention": 20.0, "groups.region.reporting": 20.0},
    }
    data = classroom([NEUTRAL, REST], **POLICE).to_dict()
    data["timeline"] = [entry]
    hit = run(validate_scenario(data))
    for name in (*TABLES, "groups_daily"):
        before = getattr(neutral, name)
        after = getattr(hit, name)
        key = "day" if "day" in before else None
        if key is None:
            continue
        assert before[before["day"] < day].to_csv(index=False) == after[after["day"] < day].to_csv(
            index=False
        ), name
    assert hit.groups_daily is not None and neutral.groups_daily is not None
    late = hit.groups_daily[(hit.groups_daily["day"] >= day)]
    late_before = neutral.groups_daily[(neutral.groups_daily["day"] >= day)]
    region = late[late["group"] == "region"]
    region_before = late_before[late_before["group"] == "region"]
    assert region["reports"].sum() > region_before["reports"].sum()
    assert region["detentions"].sum() >= region_before["detentions"].sum()
    assert (hit.events["event"] == "timeline").sum() == 1
    # What the day re-derives is what a run set up with the changed values builds.
    changed = validate_scenario(
        {
            **data,
            "timeline": [],
            "groups": [{**NEUTRAL, "detention": 20.0, "reporting": 20.0}, REST],
        }
    )
    through = Simulation(validate_scenario(data), SEED)
    through.run()
    fresh = Simulation(changed, SEED)
    assert np.array_equal(
        through.police._detention_probability, fresh.police._detention_probability
    )
    assert through.reporting.groups is not None and fresh.reporting.groups is not None
    assert np.array_equal(through.reporting.groups[1], fresh.reporting.groups[1])
    assert through.police._detention_probability.max() > neutral_table(changed).max()


def neutral_table(scenario: Scenario) -> np.ndarray:
    """The police's table of ``scenario`` with every group's factor 1."""
    return np.tile(np.array(scenario.police.detention_probability.as_tuple()), 2)


def test_the_reference_model_refuses_groups() -> None:
    scenario = classroom([HEAVY, REST])
    with pytest.raises(ScenarioError, match="no user groups"):
        run_reference(scenario, seed=1, days=2)


def test_the_regional_example_is_shipped_with_its_sources() -> None:
    scenario = simulator.load_scenario("china_regional_scrutiny")
    names = [g.name for g in scenario.groups]
    assert names == ["xinjiang_tibet", "rest_of_china"]
    heavy = scenario.groups[0]
    assert min(heavy.filtering, heavy.monitoring, heavy.reporting, heavy.detention) > 1
    assert "ASSUMPTION" in heavy.source


def test_censim_run_prints_the_groups(tmp_path: Path) -> None:
    args = ["run", "china_regional_scrutiny", "--users", "2000", "--days", "10"]
    code, output = invoke(*args, "--out", str(tmp_path / "r"))
    assert code == 0, output
    assert "by group" in output and "xinjiang_tibet:" in output and "rest_of_china:" in output
    assert (tmp_path / "r" / "groups_daily.csv").exists()
    # A run folder with groups is censim's own: --force replaces it.
    code, output = invoke(*args, "--out", str(tmp_path / "r"), "--force")
    assert code == 0, output


# -- the regional example (slow: paired replications) ------------------------------------


@pytest.mark.slow
def test_the_regional_example_deletes_and_chills_the_region_more() -> None:
    """china_regional_scrutiny with the region at 20% of 20,000 users (for precision),
    120 days, 6 replications: the region's deletion rate and withholding are above the
    rest of China's, the difference paired within each run and its 95% interval above 0.
    Session 10 (docs/validation.md, "Groups"): deletion +0.0083 [0.0042, 0.0123],
    withholding +0.0111 [0.0025, 0.0196], detentions per 1,000 +1.60 [0.74, 2.46]. It
    failed on withholding (-0.0089 [-0.0169, -0.0009]) while friends counted a post the
    filter held and then blocked as a safe one (model.md S16, "Why held posts are no
    trial")."""
    from simulator.experiments.groups import compare_groups

    scenario = simulator.override(
        simulator.load_scenario("china_regional_scrutiny"),
        {
            "population.users": 20_000,
            "horizon_days": 120,
            "groups.xinjiang_tibet.share": 0.2,
            "groups.rest_of_china.share": 0.8,
        },
    )
    result = compare_groups(scenario, reps=6, seed=11)
    table = result.table.set_index(["group", "rate"])
    for rate in ("deletion_rate", "withholding_rate", "detentions_per_1000_users"):
        row = table.loc[("xinjiang_tibet", rate)]
        assert row["minus_against_low"] > 0, (rate, row.to_dict())


@pytest.mark.parametrize("name", ["classroom", "china_regional_scrutiny"])
def test_degrees_counted_without_the_network_are_the_networks(name: str) -> None:
    """``Users.degree`` counts the edge ends without building the graph (what a
    counterfactual needs for the audiences, docs/model.md S5b): the network's own
    degrees, with groups mixing within themselves (homophily) and without."""
    scenario = simulator.override(
        simulator.load_scenario(name), {"population.users": 3000}, source="test"
    )
    counted = Simulation(scenario, 3).users.degree()  # before any network is drawn
    users = Simulation(scenario, 3).users
    drawn = users.network.degree()
    assert counted.dtype == np.int64 and len(counted) == 3000
    np.testing.assert_array_equal(counted, drawn)
    np.testing.assert_array_equal(users.degree(), drawn)  # from the network once drawn
    assert counted.sum() > 3000 * 5  # mean degree 10 less the few self-loops


def test_a_group_without_users_is_not_measured_as_zero(tmp_path: Path) -> None:
    """A group too small to get a user at the run's size has no rates: NaN in the run's
    group summary (null in summary.json, n/a on the console and in ``censim groups``),
    not a measured 0 with an interval of [0, 0] (an audit's finding, session 16)."""
    from simulator.experiments.groups import compare_groups

    scenario = simulator.override(
        classroom([{"name": "tiny", "share": 0.0001}, {"name": "rest", "share": 0.9999}]),
        {"population.users": 300, "horizon_days": 5},
    )
    results = run(scenario)
    tiny = results.summary["groups"]["tiny"]
    assert tiny["users"] == 0 and tiny["sensitive_intended"] == 0
    for rate in ("deletion_rate", "withholding_rate", "detentions_per_1000_users"):
        assert math.isnan(tiny[rate]), rate
        assert math.isfinite(results.summary["groups"]["rest"][rate]), rate
    folder = results.write(tmp_path / "r")
    written = json.loads((folder / "summary.json").read_text())["groups"]["tiny"]
    assert written["deletion_rate"] is None
    table = compare_groups(scenario, reps=2, seed=3).table
    rows = table[table["group"] == "tiny"]
    assert rows["mean"].isna().all() and rows["low"].isna().all()
    from simulator.cli.experiments import _number_interval
    from simulator.cli.main import _summary_lines

    row = rows[rows["rate"] == "deletion_rate"].iloc[0]
    assert _number_interval(row["mean"], row["low"], row["high"]) == "n/a"
    # The console's own lines (its own formatter), as `censim run` prints them.
    (line,) = [line for line in _summary_lines(results.summary) if "tiny:" in line]
    assert "tiny: 0 users, deletion n/a, withholding n/a, n/a detained per 1,000" in line
