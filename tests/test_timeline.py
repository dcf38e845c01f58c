"""A scenario's timeline (issue 17 item 1): entries change exactly what they say from
their day on, nothing before; entries that cannot apply mid-run are refused; an entry
that changes nothing changes no output; sweeps vary an entry's day."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.engine.simulation import Simulation
from simulator.engine.timeline import audit_process
from simulator.model import deadline_miss
from simulator.model.regulator import Regulator
from simulator.model.scenario import Scenario, validate_scenario
from simulator.model.scenario.days import plan_timeline
from simulator.output.results import Results

DAYS = 30
USERS = 600
SEED = 5
TABLES = ("daily", "counterfactual_daily", "delays", "events", "platform_daily", "population_daily")


def classroom(*entries: dict[str, Any], days: int = DAYS) -> Scenario:
    """``classroom`` at 600 users for ``days`` days, with ``entries`` as its timeline."""
    base = simulator.override(
        simulator.load_scenario("classroom"),
        {"population.users": USERS, "horizon_days": days},
    )
    data = base.to_dict()
    if entries:
        data["timeline"] = list(entries)
    return validate_scenario(data)


def run(scenario: Scenario) -> Results:
    return simulator.run(scenario, seed=SEED, parallel=False)


def before(results: Results, table: str, day: int) -> str:
    frame = getattr(results, table)
    return frame[frame["day"] < day].to_csv(index=False)


CRACKDOWN = {
    "name": "crackdown",
    "day": 12,
    "days": 10,
    "set": {
        "regulator.monitoring_probability": 0.4,
        "police": {"detention_probability": {"critical": 0.3}, "detention_days": 60.0},
        "population.perception.news_case_weight": 2.0,
    },
}


@pytest.fixture(scope="module")
def without() -> Results:
    return run(classroom())


@pytest.fixture(scope="module")
def crackdown() -> Results:
    return run(classroom(CRACKDOWN))


def test_an_entry_changes_nothing_before_its_day(without: Results, crackdown: Results) -> None:
    for table in ("daily", "events", "platform_daily", "population_daily"):
        assert before(crackdown, table, 12) == before(without, table, 12), table
    # The counterfactual has no rules, so no timeline: all of it is the same.
    assert crackdown.counterfactual_daily.equals(without.counterfactual_daily)
    # ... and from its day on it does change the run.
    assert not crackdown.daily.equals(without.daily)


def test_an_entry_is_recorded_when_it_starts_and_when_it_is_lifted(crackdown: Results) -> None:
    rows = crackdown.events[crackdown.events["event"] == "timeline"]
    assert rows["day"].tolist() == [12, 22]
    start, end = rows["detail"].tolist()
    assert start.startswith("entry=crackdown start")
    assert "regulator.monitoring_probability 0.05 -> 0.4" in start
    assert "police.detention_days 15.0 -> 60.0" in start
    assert "police.detention_probability.critical 0.05 -> 0.3" in start
    assert end.startswith("entry=crackdown end")
    assert "regulator.monitoring_probability 0.4 -> 0.05" in end


def test_an_entry_that_sets_what_is_already_so_changes_no_output(without: Results) -> None:
    same = classroom(
        {
            "name": "nothing",
            "day": 8,
            "days": 5,
            "set": {"regulator.monitoring_probability": 0.05, "police.detention_days": 15.0},
        },
        {"name": "unblock_nothing", "day": 3, "unblock": ["weibo"]},
    )
    assert plan_timeline(same) is None
    results = run(same)
    for table in TABLES:
        assert getattr(results, table).equals(getattr(without, table)), table
    # (NaN-aware: a kind with no removals has NaN removal-time shares.)
    assert json.dumps(results.summary, sort_keys=True) == json.dumps(
        without.summary, sort_keys=True
    )


def test_a_change_lifted_the_day_it_starts_elsewhere_is_no_change() -> None:
    """Two entries handing over the same value: the second's day is no change."""
    handover = classroom(
        {"name": "first", "day": 5, "days": 5, "set": {"police.detention_days": 30.0}},
        {"name": "second", "day": 10, "set": {"police.detention_days": 30.0}},
    )
    plan = plan_timeline(handover)
    assert plan is not None and list(plan.changes) == [5]


def test_a_block_stops_a_platform_serving_for_its_days(without: Results) -> None:
    blocked = run(classroom({"name": "block", "day": 10, "days": 5, "block": ["tieba"]}))
    series = blocked.platform_daily[blocked.platform_daily["platform"] == "tieba"]
    serving = series.set_index("day")["serving"]
    assert serving[10:14].eq(0).all() and serving[:10].eq(1).all() and serving[15:].eq(1).all()
    daily = blocked.daily[blocked.daily["platform"] == "tieba"].groupby("day")
    reached = daily[["surviving", "removed", "blocked"]].sum().sum(axis=1)
    assert reached[10:14].eq(0).all() and reached[:10].gt(0).all() and reached[15:].gt(0).all()
    rows = blocked.events[blocked.events["event"] == "timeline"]
    assert rows[["day", "platform"]].values.tolist() == [[10, "tieba"], [15, "tieba"]]
    assert before(blocked, "daily", 10) == before(without, "daily", 10)


def test_an_entry_at_day_0_is_the_scenario_itself() -> None:
    at_start = classroom({"name": "start", "day": 0, "set": {"police.detention_days": 60.0}})
    direct = simulator.override(classroom(), {"police.detention_days": 60.0})
    a, b = run(at_start), run(direct)
    for table in ("daily", "platform_daily", "population_daily"):
        assert getattr(a, table).equals(getattr(b, table)), table
    assert a.events[a.events["event"] == "timeline"]["day"].tolist() == [0]


# -- each family re-derived as a run set up with the new values would build it ----------

FAMILY_CHANGES = {
    "enforcement": {
        "regulator.audits_per_year": 40.0,
        "regulator.monitoring_probability": 0.3,
        "regulator.audit_sample_size": 50,
        "rules.penalties.tolerance": 4,
        "rules.penalties.warning_cost": 5.0,
        "rules.penalties.ladder": [{"action": "fine", "amount": 9.0}],
    },
    "police": {
        "police.detention_probability.critical": 0.4,
        "police.identify_anonymous_probability": 0.9,
        "police.detention_days": 3.0,
    },
    "line": {"rules.takedown.vagueness": 0.9},
    "reporting": {"rules.reporting.mode": "on_request"},
    "perception": {
        "population.perception.visibility": 0.3,
        "population.perception.news_case_weight": 4.0,
        "population.perception.friend_detention_weight": 7.0,
    },
    "real_name": {
        "rules.real_name.enabled": False,
        "rules.real_name.refusal_probability": 0.5,
        "rules.real_name.circumvent_probability": 0.9,
    },
}


def _derived(sim: Simulation) -> dict[str, Any]:
    """What a run holds of every changeable parameter, as plain values."""
    minds, police = sim.minds, sim.police
    out: dict[str, Any] = {
        "law": minds.law,
        "par": minds.par,
        "visibility": minds.visibility,
        "friend_weight": minds.friend_weight,
        "friend_detention_weight": minds.friend_detention_weight,
        "perception": minds.perception,
        "police_spec": police.spec,
        "detention_probability": police._detention_probability,
        "detention_days": sim.sanctions.detention_days,
        "regulator_spec": sim.regulator.spec,
        "regulator_rules": sim.regulator.rules,
        "real_name": sim.sanctions.real_name,
        "ban_follows": sim.minds.ban_follows,
        "reporting_mode": sim.reporting.mode,
        "monitor": sim.speech.monitor_probability,
        "orders": sim.speech._order_by_channel,
        "classifier_means": sim.speech._classifier_mean,
        "reviewer_means": sim.speech._reviewer_mean,
        "scenario": sim.scenario,
        "speech_scenario": sim.speech.scenario,
    }
    for platform in sim.platforms:
        assert platform.policy is not None
        out[f"{platform.name}.moderation"] = platform.policy.moderation
        out[f"{platform.name}.exposure"] = platform.policy.exposure
        out[f"{platform.name}.q"] = platform.policy.q
        out[f"{platform.name}.lines"] = platform.policy.reading_lines()
        out[f"{platform.name}.spec"] = platform.spec
    return out


def _same(a: Any, b: Any) -> bool:
    if hasattr(a, "__dataclass_fields__"):
        return all(_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)


@pytest.mark.parametrize("family", list(FAMILY_CHANGES))
def test_each_family_is_re_derived_as_a_set_up_run_would_build_it(family: str) -> None:
    changes = FAMILY_CHANGES[family]
    scenario = classroom({"name": "change", "day": 1, "set": changes})
    changed = Simulation(scenario, SEED)
    assert changed.timeline is not None
    for platform in changed.platforms:
        assert platform.policy is not None
        # fills the grid tables
        platform.policy.target(platform.threshold, platform.ladder_ahead(changed.scenario))
        deadline_miss.policy_waiting_tables(platform.policy, platform.policy.thresholds)
    changed.timeline.start_of_day(1)
    for platform in changed.platforms:
        # The policy's tables on the grid are made again exactly when it expects other audits.
        assert platform.policy is not None
        forgotten = platform.policy._grid_tables is None and not platform.policy._memo
        assert forgotten == (family in ("enforcement", "line"))
    fresh = Simulation(simulator.override(classroom(), changes), SEED)
    unchanged = Simulation(classroom(), SEED)
    got, want, old = _derived(changed), _derived(fresh), _derived(unchanged)
    differs = [key for key in want if not _same(got[key], want[key])]
    assert differs == [], f"{family}: re-derived differently from a fresh set-up: {differs}"
    # The check has teeth: the family changes something a run holds.
    assert any(not _same(old[key], want[key]) for key in want if key != "scenario")


# -- refused and invalid entries: exit 2, the file, the entry, the field, what is allowed -

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
    ("entry", "needles"),
    [
        (
            '[[timeline]]\nname = "law"\nday = 2\nset = { "rules.takedown.enabled" = true }\n',
            [
                "timeline[0].set",
                "`rules.takedown.enabled` cannot change mid-run",
                "regulator.monitoring_probability",
                "block",
            ],
        ),
        (
            '[[timeline]]\nname = "more"\nday = 2\n'
            "[timeline.set]\nregulator.audit_window_days = 50.0\n",
            [
                "timeline[0].set",
                "`regulator.audit_window_days` cannot change mid-run",
                "regulator.audits_per_year",
            ],
        ),
        (
            '[[timeline]]\nname = "staff"\nday = 2\n'
            'set = { "platforms.p.reviewers_per_100k_users" = 3 }\n',
            ["`platforms.p.reviewers_per_100k_users` cannot change mid-run", "`block` / `unblock`"],
        ),
        (
            # Every field the entry may not change, at once (the audit: only the first).
            '[[timeline]]\nname = "two"\nday = 2\n'
            'set = { "population.users" = 3, "access.taste_scale" = 2.0 }\n',
            [
                "`population.users` cannot change mid-run; `access.taste_scale` cannot change "
                "mid-run (users' tastes are drawn once for the run); a timeline may change",
            ],
        ),
        (
            '[[timeline]]\nname = "odd"\nday = 2\nset = { "police.detention_days" = -4.0 }\n',
            ["timeline[0] (odd).set.police.detention_days", "greater than or equal to 0"],
        ),
        (
            '[[timeline]]\nname = "gone"\nday = 2\nblock = ["q"]\n',
            ["timeline.0.block", "entry `gone`: `q` is not a platform", "(p)"],
        ),
        (
            '[[timeline]]\nname = "a"\nday = 2\n[[timeline]]\nname = "a"\nday = 3\n',
            ["entry names must be unique"],
        ),
        (
            '[[timeline]]\nname = "late"\nday = -1\n',
            ["timeline[0].day", "greater than or equal to 0"],
        ),
    ],
)
def test_an_entry_that_cannot_apply_is_refused(
    tmp_path: Path, entry: str, needles: list[str]
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD + entry, encoding="utf-8")
    for command in ("validate", "run"):
        args = [command, str(path)] + (["--out", str(tmp_path / "r")] if command == "run" else [])
        code, output = invoke(*args)
        assert code == 2, output
        assert "Traceback" not in output
        assert str(path) in output
        for needle in needles:
            assert needle in output, (needle, output)
    assert not (tmp_path / "r").exists()


def test_a_bad_rung_of_a_ladder_is_named_not_the_whole_ladder(tmp_path: Path) -> None:
    """The audit: a timeline's ladder with a bad rung showed the whole list as the value
    of each problem; now the rung (index) and its field, with the value there."""
    path = tmp_path / "s.toml"
    path.write_text(
        'extends = "china_csl_2016"\nname = "lad"\nhorizon_days = 10\n'
        '[[timeline]]\nname = "harsher"\nday = 2\nset = { "rules.penalties.ladder" = ['
        '{ action = "warning" }, { action = "fine", amount = -5 }, { action = "bogus" }] }\n',
        encoding="utf-8",
    )
    code, output = invoke("validate", str(path))
    assert code == 2, output
    assert output.splitlines()[1:3] == [
        "  - field `timeline[0] (harsher).set.rules.penalties.ladder[1].amount`: "
        "Input should be greater than or equal to 0 (got -5)",
        "  - field `timeline[0] (harsher).set.rules.penalties.ladder[2].action`: "
        "Input should be 'warning', 'fine', 'suspension' or 'revocation' (got 'bogus')",
    ]


def test_show_prints_the_timeline(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        GOOD + '[[timeline]]\nname = "campaign"\nday = 2\ndays = 2\n'
        'source = "ASSUMPTION"\n[timeline.set]\npolice.detention_days = 30.0\n',
        encoding="utf-8",
    )
    code, output = invoke("show", str(path))
    assert code == 0, output
    assert "[[timeline]]" in output and 'name = "campaign"' in output
    assert "police.detention_days" in output and "days = 2" in output
    code, output = invoke("validate", str(path))
    assert code == 0, output


# -- sweeps address an entry's day and values -------------------------------------------


def test_override_paths_reach_an_entrys_day_and_values() -> None:
    scenario = classroom(CRACKDOWN)
    moved = simulator.override(
        scenario,
        {"timeline.crackdown.day": 3, "timeline.crackdown.set.police.detention_days": 5.0},
    )
    entry = moved.timeline[0]
    assert entry.day == 3 and entry.set["police.detention_days"] == 5.0
    assert entry.set["regulator.monitoring_probability"] == 0.4  # the others stay
    added = simulator.override(scenario, {"timeline.crackdown.set.regulator.audits_per_year": 3.0})
    assert added.timeline[0].set["regulator.audits_per_year"] == 3.0  # a field it did not set
    with pytest.raises(simulator.ScenarioError, match="`nope` cannot change mid-run"):
        simulator.override(scenario, {"timeline.crackdown.set.nope": 1})
    with pytest.raises(simulator.ScenarioError, match="unknown field `nope`"):
        simulator.override(scenario, {"timeline.crackdown.nope": 1})
    with pytest.raises(simulator.ScenarioError, match="cannot change mid-run"):
        simulator.override(scenario, {"timeline.crackdown.set": {"horizon_days": 3}})


def test_override_adds_a_timeline_to_a_scenario_without_one() -> None:
    entry = {"name": "later", "day": 3, "set": {"police.detention_days": 30.0}}
    added = simulator.override(classroom(), {"timeline": [entry]})
    assert added.timeline[0].name == "later"
    assert "timeline" not in simulator.override(classroom(), {}).to_dict()


def test_a_sweep_over_an_entrys_day(tmp_path: Path) -> None:
    scenario = classroom(CRACKDOWN)
    swept = simulator.sweep(
        scenario, {"timeline.crackdown.day": [4, 40]}, reps=1, workers=0, out=tmp_path / "s"
    )
    # A field the entry does not set yet can be varied too.
    added = simulator.sweep(
        scenario,
        # (Audits 12 vs 300 a year moved nothing once classroom's platform sat at its
        # strictest through the crackdown, since the believed line moved to the score scale.)
        {"timeline.crackdown.set.rules.takedown.vagueness": [0.0, 1.0]},
        reps=1,
        workers=0,
        out=tmp_path / "a",
    )
    losses = added.summary["speech_loss_mean"].tolist()
    assert len(losses) == 2 and losses[0] != losses[1]
    summary = swept.summary.sort_values("timeline.crackdown.day")
    assert summary["timeline.crackdown.day"].tolist() == [4, 40]
    for day, loss in zip([4, 40], summary["speech_loss_mean"], strict=True):
        direct = simulator.override(scenario, {"timeline.crackdown.day": day})
        assert loss == pytest.approx(run_summary(direct, swept)["speech_loss"], rel=1e-12)
    # Day 40 is beyond the horizon: the run without the entry.
    assert summary["speech_loss_mean"].iloc[1] == pytest.approx(
        run_summary(classroom(), swept)["speech_loss"], rel=1e-12
    )
    assert summary["speech_loss_mean"].iloc[0] != summary["speech_loss_mean"].iloc[1]


def run_summary(scenario: Scenario, swept: Any) -> dict[str, Any]:
    """The summary of ``scenario`` at the sweep's first replication's seed."""
    seed = int(pd.read_csv(swept.out / "long.csv")["seed"].iloc[0])
    return simulator.run(scenario, seed=seed, parallel=False).summary


def test_the_shipped_netzdg_timeline_lifts_its_transition_on_1_january_2018() -> None:
    scenario = simulator.load_scenario("germany_netzdg_2017_timeline")
    plan = plan_timeline(scenario)
    assert plan is not None and list(plan.changes) == [92]
    (start,) = plan.start.events
    assert start.entry == "transition" and start.action == "start"
    assert plan.start.scenario.rules.penalties.ladder[-1].action == "warning"
    lifted = plan.changes[92].scenario.rules.penalties
    shipped = simulator.load_scenario("germany_netzdg_2017").rules.penalties
    assert lifted == shipped
    assert "enforcement" in plan.changes[92].families


# -- audits whose rate changes ------------------------------------------------------------


class _Audits:
    """A regulator that only notes when it audits (for the audit process alone)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.times: list[float] = []
        self.spec = type("Spec", (), {"audits_per_year": 365.0 * 24 * 0.5})()

    def audit(self, platform: Any, now: float) -> None:
        self.times.append(now)

    audit_process = Regulator.audit_process


def _audit_times(
    rates: list[tuple[float, float]] | None, until: float, seed: int = 3
) -> list[float]:
    import simpy

    env = simpy.Environment()
    regulator = _Audits(seed)
    regulator.view = type("View", (), {"env": env})()  # type: ignore[attr-defined]
    platform = type("P", (), {"exited": False})()
    process = (
        Regulator.audit_process(regulator, platform)  # type: ignore[arg-type]
        if rates is None
        else audit_process(regulator, platform, env, rates)  # type: ignore[arg-type]
    )
    env.process(process)
    env.run(until=until)
    return regulator.times


def test_audits_change_rate_at_a_day_and_not_before() -> None:
    plain = _audit_times(None, 2000.0)
    same = _audit_times([(0.0, 0.5)], 2000.0)
    assert same == plain  # one rate: the regulator's own process, draw for draw
    changed = _audit_times([(0.0, 0.5), (240.0, 5.0), (1240.0, 0.0), (1500.0, 0.5)], 2000.0)
    assert [t for t in changed if t < 240.0] == [t for t in plain if t < 240.0]
    # The wait under way at hour 240 is rescaled by 0.5 / 5 (memoryless).
    next_plain = min(t for t in plain if t >= 240.0)
    first = min(t for t in changed if t >= 240.0)
    assert first == pytest.approx(240.0 + (next_plain - 240.0) * 0.1, rel=1e-12)
    during = [t for t in changed if 240.0 <= t < 1240.0]
    assert abs(len(during) - 5000) < 5 * 5000**0.5  # Poisson(rate x 1000 hours)
    assert not [t for t in changed if 1240.0 <= t < 1500.0]  # rate 0: no audits
    assert [t for t in changed if t >= 1500.0]  # a fresh wait from rate 0


def test_a_campaign_of_audits_adds_audits_only_while_it_lasts(without: Results) -> None:
    campaign = run(
        classroom(
            {"name": "audits", "day": 10, "days": 10, "set": {"regulator.audits_per_year": 365.0}}
        )
    )

    def audits(results: Results) -> pd.Series:
        rows = results.events[results.events["event"] == "audit"]
        return rows.groupby("day").size().reindex(range(DAYS), fill_value=0)

    assert before(campaign, "events", 10) == before(without, "events", 10)
    # 365 a year on each of two platforms: about 20 in 10 days, fewer if one is revoked.
    assert audits(campaign)[10:20].sum() >= 5 > 1 >= audits(without)[10:20].sum()


def test_a_clearer_line_removes_less_criticism_from_its_day() -> None:
    """Criticism the platforms are sure may count (vagueness 1, closeness 1: q = 1) is
    taken down; from day 12 the line is clear (q = 0.05) and its reviewers see criticism
    as nearly benign (model.md S8)."""
    vague = {"rules.takedown.vagueness": 1.0, "population.perception.kind_closeness.critical": 1.0}

    def with_line(*entries: dict[str, Any]) -> Results:
        scenario = simulator.override(classroom(*entries), vague)
        return run(scenario)

    without = with_line()
    clearer = with_line({"name": "clearer", "day": 12, "set": {"rules.takedown.vagueness": 0.05}})
    assert before(clearer, "daily", 12) == before(without, "daily", 12)

    def removed_critical(results: Results) -> int:
        daily = results.daily
        rows = daily[(daily["kind"] == "critical") & (daily["day"] >= 12)]
        return int(rows["removed"].sum() + rows["blocked"].sum())

    assert removed_critical(clearer) < 0.7 * removed_critical(without)


def test_the_reference_model_refuses_a_timeline_it_does_not_follow() -> None:
    from simulator.reference.agent import ReferenceSimulation

    with pytest.raises(simulator.ScenarioError, match="does not follow a timeline"):
        ReferenceSimulation(classroom(CRACKDOWN, days=15), SEED).run()
    # An entry beyond the horizon, or one that changes nothing, is no timeline to follow.
    late = classroom({"name": "late", "day": 9, "set": {"police.detention_days": 1.0}}, days=5)
    assert ReferenceSimulation(late, SEED).run().counts.sum() > 0


def test_a_monitoring_campaign_orders_more_while_it_lasts() -> None:
    """More monitoring means more orders from the campaign's day until it is lifted than on
    the same days without it (paired: the same seed), and the same orders before. A lax
    platform (strictness 0.02) leaves prohibited posts up for the regulator to find:
    at shipped strictness the classroom's platforms leave too few to count. 10,000 users:
    at 3,000 the users soften or withhold most prohibited posts and the days 12-21 held
    0 orders against 3-4 (session 21)."""
    lax = {
        f"platforms.{i}.{field}": 0.02
        for i in (0, 1)
        for field in ("initial_strictness", "max_strictness")
    }
    base = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 10_000, **lax}
    ).to_dict()
    base["horizon_days"] = DAYS
    watched = dict(base, timeline=[
        {"name": "watch", "day": 12, "days": 10, "set": {"regulator.monitoring_probability": 0.4}}
    ])  # fmt: skip

    def orders(data: dict[str, Any], first: int, last: int) -> int:
        events = run(validate_scenario(data)).events
        return int(((events["event"] == "order") & events["day"].between(first, last)).sum())

    assert orders(watched, 0, 11) == orders(base, 0, 11)
    assert orders(watched, 12, 21) > 3 * max(1, orders(base, 12, 21))  # 46 vs 5 measured


def test_validate_warns_of_an_entry_after_the_horizon(tmp_path: Path) -> None:
    """An entry dated at or after the horizon never applies: `censim validate` says so
    (a warning, exit 0: a shorter run of a longer scenario is legitimate)."""
    file = tmp_path / "late.toml"
    entry = '[[timeline]]\nname = "late"\nday = 9\nset = { "police.detention_days" = 30.0 }\n'
    file.write_text(GOOD + entry)
    code, output = invoke("validate", str(file))
    assert code == 0
    assert "timeline entry 'late' starts on day 9, at or after the horizon (5 days)" in output
    file.write_text(GOOD + entry.replace("day = 9", "day = 2"))
    code, output = invoke("validate", str(file))
    assert code == 0 and "warning" not in output


def test_run_warns_of_an_entry_after_its_horizon(tmp_path: Path) -> None:
    """`censim run` says so too, at the horizon it runs (--days included): an audit of
    session 16 found the warning only in `validate`, and a run silently without it."""
    file = tmp_path / "late.toml"
    entry = '[[timeline]]\nname = "late"\nday = 3\nset = { "police.detention_days" = 30.0 }\n'
    file.write_text(GOOD + entry)
    late = "timeline entry 'late' starts on day 3, at or after the horizon (2 days)"
    code, output = invoke("run", str(file), "--days", "2", "--quiet", "--out", str(tmp_path / "a"))
    assert code == 0 and late in output, output
    code, output = invoke("run", str(file), "--quiet", "--out", str(tmp_path / "b"))
    assert code == 0 and "warning" not in output, output
