"""Choices when access changes (issue 17 item 2; docs/model.md S9a): users whose platform
stops serving stop, move or circumvent by random utility, so the split is an outcome.
Directions (paired on common random numbers: the same seeds, the same tastes): the
circumvent share rises with the value of the lost service and falls with the cost and
legal risk of circumvention; moving rises with the alternatives' value. Circumvention
is abandoned when its cost rises, and a reopened platform gets its circumventers back."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.engine.simulation import Simulation
from simulator.errors import ScenarioError
from simulator.experiments.executors import flatten_summary
from simulator.kinds import EventKind, UserState
from simulator.model.access import choose, logit_shares, utilities
from simulator.model.scenario import Scenario, validate_scenario
from simulator.model.scenario.access import Access
from simulator.output.metrics import access_split
from simulator.reference.agent import ReferenceSimulation
from simulator.streams import Streams
from tests.invariants import check_invariants

SEEDS = (1, 2, 3)
BLOCK_DAY = 2
BLOCK = {"name": "block", "day": BLOCK_DAY, "block": ["weibo"]}


def classroom(access: dict[str, Any] | None, *entries: dict[str, Any], days: int = 4) -> Scenario:
    """``classroom`` (weibo, tieba) for ``days`` days, weibo blocked from day 2."""
    data = simulator.override(
        simulator.load_scenario("classroom"), {"horizon_days": days}
    ).to_dict()
    if access is not None:
        data["access"] = {"enabled": True, **access}
    data["timeline"] = [BLOCK, *entries]
    return validate_scenario(data)


def split(access: dict[str, Any], seed: int, *entries: dict[str, Any], days: int = 4) -> Any:
    sim = Simulation(classroom(access, *entries, days=days), seed)
    recorder = sim.run()
    return access_split(recorder), recorder, sim


def shares(access: dict[str, Any]) -> np.ndarray:
    """Per seed: the block day's stop, move, circumvent shares."""
    out = []
    for seed in SEEDS:
        s = split(access, seed)[0]
        assert s["first_day"] == BLOCK_DAY
        out.append([s["first_share"][k] for k in ("stop", "move", "circumvent")])
    return np.array(out)


BASE = {"values": {"weibo": 1.0, "tieba": 1.0}, "circumvention_cost": 0.3, "moving_cost": 0.3}


def test_the_statement_is_the_logit() -> None:
    """Users choosing their highest utility plus Gumbel tastes give the logit shares."""
    rng = np.random.default_rng(0)
    n = 200_000
    weight = rng.lognormal(0.0, 0.8, n)
    home = np.zeros(n, dtype=np.int64)
    spec = Access(enabled=True, circumvention_cost=0.4, legal_risk=0.1, moving_cost=0.2)
    v = utilities(weight, np.full(n, 2.0), home, np.array([False, True]), np.array([2.0, 1.0]),
                  spec, 0.5)  # fmt: skip
    got = np.bincount(choose(v, rng.gumbel(size=v.shape)), minlength=v.shape[1]) / n
    want = logit_shares(v, 1.0)
    assert got[1] == pytest.approx(want[1], abs=0.005)  # circumvent
    assert got[3] == pytest.approx(want[3], abs=0.005)  # move to platform 1
    assert got[2] == 0.0  # the home does not serve


@pytest.mark.parametrize(
    ("lever", "low", "high", "option", "sign"),
    [
        ("values.weibo", 0.5, 3.0, 2, +1),  # the lost service's value: circumvent rises
        ("circumvention_cost", 0.1, 1.0, 2, -1),  # its running cost: circumvent falls
        ("legal_risk", 0.0, 1.0, 2, -1),  # the law's risk: circumvent falls
        ("values.tieba", 0.3, 2.0, 1, +1),  # the alternative's value: moving rises
        ("moving_cost", 0.0, 1.0, 1, -1),  # the cost of moving: moving falls
    ],
)
def test_the_split_moves_with_the_value_the_cost_and_the_alternatives(
    lever: str, low: float, high: float, option: int, sign: int
) -> None:
    def at(x: float) -> np.ndarray:
        access = {**BASE, "values": dict(BASE["values"])}
        if lever.startswith("values."):
            access["values"][lever.split(".")[1]] = x
        else:
            access[lever] = x
        return shares(access)

    lo, hi = at(low), at(high)
    diff = sign * (hi[:, option] - lo[:, option])
    # Paired: each seed's users keep their tastes, so every replication moves the same way.
    assert (diff > 0.02).all(), (lever, lo[:, option], hi[:, option])


def test_a_blocked_platforms_users_are_split_three_ways_and_recorded() -> None:
    s, recorder, sim = split(BASE, SEEDS[0])
    first = s["first"]
    assert min(first["stop"], first["move"], first["circumvent"]) > 0
    users = sim.users
    weibo = 0
    # Everyone who chose is recorded once on the block's day, and nobody on weibo is
    # left ACTIVE with a route: stoppers wait at home, movers are on tieba.
    events = [
        e
        for e in recorder.events
        if e.event == EventKind.ACCESS_CHOICE and not e.detail.startswith("refuse:")
    ]
    assert len(events) == first["stop"] + first["move"] + first["circumvent"]
    assert all(int(e.time_hours // 24) == BLOCK_DAY for e in events)
    movers = [e.user for e in events if e.detail == "move:tieba"]
    assert (users.platform[movers] == 1).all()
    assert s["first_moved_to"] == {"tieba": first["move"]}
    last = recorder.population_series[-1]
    stuck = (users.state == UserState.ACTIVE) & (users.platform == weibo)
    assert last["access_stopped"] == int(stuck.sum()) > 0
    assert last["access_circumventing"] == first["circumvent"]  # none detained or renewed here
    assert last["access_moved"] == first["move"]
    # The day before the block nobody had chosen.
    assert recorder.population_series[BLOCK_DAY - 1]["access_moved"] == 0


def test_circumvention_is_abandoned_when_its_cost_rises() -> None:
    dearer = {"name": "vpn_crackdown", "day": 4, "set": {"access.circumvention_cost": 2.0}}
    s, recorder, _ = split(BASE, SEEDS[0], dearer, days=6)
    rows = recorder.population_series
    assert rows[3]["access_circumventing"] > 0
    assert rows[4]["access_circumventing"] < rows[3]["access_circumventing"] / 2
    day4 = [e.detail for e in recorder.events
            if e.event == EventKind.ACCESS_CHOICE and int(e.time_hours // 24) == 4]  # fmt: skip
    # Stoppers and circumventers decide again; an event is a change: circumventers who
    # stop or go to tieba (a dearer tool draws nobody to it; stoppers weigh the same).
    service = [d for d in day4 if not d.startswith("refuse:")]
    assert "circumvent" not in service
    assert len(service) == rows[3]["access_circumventing"] - rows[4]["access_circumventing"]
    assert s["totals"]["move"] > s["first"]["move"]
    # Real-name refusers decide again too: those circumventing mostly stop.
    assert day4.count("refuse:stop") > 5 * day4.count("refuse:circumvent")


def test_a_reopened_platform_gets_its_circumventers_and_stoppers_back() -> None:
    lifted = {"name": "lifted", "day": 4, "unblock": ["weibo"]}
    s, recorder, sim = split(BASE, SEEDS[0], lifted, days=6)
    assert s["totals"]["return"] == s["first"]["circumvent"] > 0
    last = recorder.population_series[-1]
    assert last["access_circumventing"] == 0 and last["access_stopped"] == 0
    # Movers stay where they went (ASSUMPTION, model.md S9a).
    assert last["access_moved"] == s["first"]["move"]


def test_without_the_choice_a_block_leaves_its_users_waiting() -> None:
    sim = Simulation(classroom(None), SEEDS[0])
    recorder = sim.run()
    assert not any(e.event == EventKind.ACCESS_CHOICE for e in recorder.events)
    assert "access_stopped" not in recorder.population_series[-1]
    assert sim.sanctions.access is None
    # The default section is left out of the scenario's data: hashes as before.
    assert "access" not in classroom(None).to_dict()


def test_the_new_stream_leaves_the_earlier_ones_alone() -> None:
    old = np.random.SeedSequence(7).spawn(9)
    streams = Streams.from_seed(7)
    for name, child in zip(
        ("population", "speech", "split", "behaviour", "moderation", "review", "regulator",
         "police", "turnover"), old, strict=True,
    ):  # fmt: skip
        got = getattr(streams, name).random(4)
        assert np.array_equal(got, np.random.default_rng(child).random(4)), name


def test_a_gone_platforms_users_choose_instead_of_following_market_shares() -> None:
    scenario = classroom(BASE, days=2)
    scenario = validate_scenario({**scenario.to_dict(), "timeline": []})
    sim = Simulation(scenario, SEEDS[0])
    weibo = sim.platforms[0]
    sim.sanctions.remove_platform(weibo, 24.0, "revoked")
    sim.run()
    s = access_split(sim.recorder)
    assert s["first_day"] == 1
    assert min(s["first"]["stop"], s["first"]["move"], s["first"]["circumvent"]) > 0


def test_the_block_example_prints_its_split(tmp_path: Any) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "china_instagram_block_2014",
            "--users",
            "3000",
            "--days",
            "32",
            "--out",
            str(out),
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    assert "access lost on day 30:" in result.output
    access = json.loads((out / "summary.json").read_text())["access"]
    assert access["first_day"] == 30
    assert sum(access["first_share"].values()) == pytest.approx(1.0)
    assert min(access["first"][k] for k in ("stop", "move", "circumvent")) > 0


def test_the_reference_model_refuses_the_choice() -> None:
    scenario = validate_scenario({**classroom(BASE).to_dict(), "timeline": []})
    with pytest.raises(ScenarioError, match="access.enabled"):
        ReferenceSimulation(scenario, 1).run()


def test_a_timeline_cannot_switch_the_choice_on_mid_run() -> None:
    with pytest.raises(ScenarioError, match="cannot change mid-run"):
        classroom(BASE, {"name": "on", "day": 1, "set": {"access.enabled": False}})


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[access]\nenabled = true\nvalues = { nope = 1.0 }\n",
            "no platform named ['nope']",
        ),
        (
            '[[timeline]]\nname = "vpn"\nday = 3\nset = { access = { legal_risk = 2.0 } }\n',
            "does nothing without `access.enabled = true`",
        ),
    ],
)
def test_bad_access_input_is_refused_with_the_field(tmp_path: Any, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('extends = "classroom"\nname = "bad"\n' + toml)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_sweeps_report_the_split_only_where_the_choice_is_on() -> None:
    summary = {"speech_loss": 0.1, "events": {"timeline": 1}}
    assert not any("access" in key for key in flatten_summary(summary))
    split = {"first_day": 30, "first": {"stop": 1, "move": 2, "circumvent": 3, "return": 0}}
    split |= {"first_share": {"stop": 1 / 6, "move": 2 / 6, "circumvent": 0.5}}
    split |= {"totals": split["first"]}
    flat = flatten_summary({**summary, "access": split})
    assert flat["access.first_share.circumvent"] == 0.5
    assert flat["events.access_choice"] == 0.0 and flat["access.first_day"] == 30.0


def refusers(access: dict[str, Any], seed: int, real_name: float = 0.3) -> dict[str, int]:
    """Day 0's real-name refusers' choices (classroom: the rule starts on day 0)."""
    data = classroom(access, days=1).to_dict()
    data["timeline"] = []
    data["rules"]["real_name"]["circumvent_probability"] = real_name
    recorder = Simulation(validate_scenario(data), seed).run()
    return dict(access_split(recorder)["real_name_refusers"])


def test_real_name_refusers_choose_by_the_cost_of_circumvention() -> None:
    """Registration required is a lost service too (S13, S9a): refusers enforced against
    stop or circumvent by the same utility; the fixed probability is no longer read."""
    for seed in SEEDS:
        cheap = refusers({**BASE, "circumvention_cost": 0.0, "foreign_value": 1.0}, seed)
        dear = refusers({**BASE, "circumvention_cost": 1.0, "foreign_value": 1.0}, seed)
        assert cheap["stop"] + cheap["circumvent"] == dear["stop"] + dear["circumvent"] > 0
        assert cheap["circumvent"] > dear["circumvent"] + 5, (seed, cheap, dear)
        # Same draws, whatever the unused fixed probability says.
        assert (
            refusers({**BASE, "circumvention_cost": 1.0, "foreign_value": 1.0}, seed, 0.9) == dear
        )


# -- the shipped block example, paired replications (slow) --------------------------

EXAMPLE_REPS = (11, 12, 13, 14)


def example_shares(changes: dict[str, Any]) -> np.ndarray:
    """Per seed: the block's stop, move, circumvent shares in the shipped example at
    4,000 users to day 31 (the rules run alone: the split is the rules run's)."""
    base = simulator.override(
        simulator.load_scenario("china_instagram_block_2014"),
        {"population.users": 4000, "horizon_days": 31},
    )
    data = base.to_dict()
    for key, value in changes.items():
        data["access"][key] = value if key != "values" else {**data["access"]["values"], **value}
    scenario = validate_scenario(data)
    out = []
    for seed in EXAMPLE_REPS:
        split = access_split(Simulation(scenario, seed).run())
        assert split["first_day"] == 30
        out.append([split["first_share"][k] for k in ("stop", "move", "circumvent")])
    return np.array(out)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("changes_low", "changes_high", "option", "sign"),
    [
        ({"values": {"instagram": 1.0}}, {"values": {"instagram": 4.0}}, 2, +1),
        ({"circumvention_cost": 0.1}, {"circumvention_cost": 1.0}, 2, -1),
        ({"legal_risk": 0.0}, {"legal_risk": 0.5}, 2, -1),
        ({"values": {"weibo": 0.5}}, {"values": {"weibo": 2.0}}, 1, +1),
    ],
)
def test_the_block_examples_split_moves_with_value_cost_and_alternatives(
    changes_low: dict[str, Any], changes_high: dict[str, Any], option: int, sign: int
) -> None:
    low, high = example_shares(changes_low), example_shares(changes_high)
    diff = sign * (high[:, option] - low[:, option])
    print(changes_low, low.mean(axis=0).round(4), changes_high, high.mean(axis=0).round(4))
    assert (diff > 0.03).all(), (low[:, option], high[:, option])


def test_the_choice_changes_nothing_where_no_one_loses_access() -> None:
    """With ``[access]`` on but no platform ever stopping and no real-name rule, the run
    is the run without it (no draw of the access stream, no other stream touched)."""

    def counts(access: dict[str, Any] | None) -> np.ndarray:
        data = classroom(access, days=6).to_dict()
        data["timeline"] = []
        data["rules"]["real_name"]["enabled"] = False
        sim = Simulation(validate_scenario(data), SEEDS[0])
        recorder = sim.run()
        if access is not None:
            assert sim.sanctions.access is not None and sim.sanctions.access._tastes is None
        return np.asarray(recorder.counts)

    assert np.array_equal(counts(BASE), counts(None))


def test_a_run_with_choices_keeps_the_invariants() -> None:
    """Conservation, exclusion reasons against states, events in order (tests/invariants.py)
    through a block, a VPN crackdown and the block lifted; the stoppers are the users
    excluded because their home does not serve."""
    dearer = {"name": "vpn_crackdown", "day": 4, "set": {"access.circumvention_cost": 2.0}}
    lifted = {"name": "lifted", "day": 6, "unblock": ["weibo"]}
    results = simulator.run(classroom(BASE, dearer, lifted, days=8), seed=SEEDS[1], parallel=False)
    check_invariants(results)
    population = results.population_daily
    assert (population["access_stopped"] == population["excluded_suspended"]).all()
    assert population["access_stopped"].iloc[BLOCK_DAY] > 0
    assert population["access_stopped"].iloc[-1] == 0


def test_the_access_family_is_re_derived_as_a_set_up_run_would_build_it() -> None:
    changes = {"access.circumvention_cost": 0.9, "access.values": {"tieba": 3.0}}
    changed = Simulation(classroom(BASE, {"name": "c", "day": 1, "set": changes}), SEEDS[0])
    assert changed.timeline is not None and changed.sanctions.access is not None
    before = changed.sanctions.access.spec
    changed.timeline.start_of_day(1)
    fresh = Simulation(simulator.override(classroom(BASE), changes), SEEDS[0])
    assert fresh.sanctions.access is not None
    assert changed.sanctions.access.spec == fresh.sanctions.access.spec != before
