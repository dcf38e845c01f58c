"""The timeline family ``real_name`` (issue 17 items 1 and 5): an entry that turns the
real-name rule on on day N is the run of ``rules.real_name.start_day = N``; nothing
changes before its day; a repeal gives refusers their service back and keeps registered
users traceable; an entry that changes nothing has no effect; what cannot apply is
refused, naming the file, the entry, the field and what is allowed."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simulator
from simulator.experiments.event_study import event_study
from simulator.model.scenario import Scenario, validate_scenario
from simulator.model.scenario.days import plan_timeline
from simulator.output.results import Results
from tests.test_timeline import GOOD, TABLES, before, classroom, invoke, run

DAY = 10
TURN_ON = {"name": "real_names", "day": DAY, "set": {"rules.real_name.enabled": True}}
OFF = {"rules.real_name.enabled": False}


def _scenario(which: str) -> Scenario:
    scenarios: dict[str, Scenario] = {
        # classroom registers from day 0 (china_csl_2016's rule)
        "off": simulator.override(classroom(), OFF),
        "start_day": simulator.override(classroom(), {"rules.real_name.start_day": DAY}),
        "entry": simulator.override(classroom(TURN_ON), OFF),
        "always": classroom(),
        "repeal": classroom(
            {"name": "repeal", "day": 12, "days": 8, "set": {"rules.real_name.enabled": False}}
        ),
    }
    return scenarios[which]


@functools.cache
def _run(which: str) -> Results:
    return run(_scenario(which))


def _without_timeline_rows(events: pd.DataFrame) -> pd.DataFrame:
    return events[events["event"] != "timeline"].reset_index(drop=True)


@pytest.mark.parametrize("takedown", [True, False])
def test_an_entry_turning_the_rule_on_is_the_run_of_start_day(takedown: bool) -> None:
    """With takedown duties and without (then audits run only because the rule exists on
    some day: from day 0, as with ``start_day``, counting unregistered users, S10)."""
    if takedown:
        by_day, by_entry = _run("start_day"), _run("entry")
    else:
        no_duties = {"rules.takedown.enabled": False}
        by_day = run(simulator.override(_scenario("start_day"), no_duties))
        by_entry = run(simulator.override(_scenario("entry"), no_duties))
        audits = by_day.events[by_day.events["event"] == "audit"]
        assert len(audits) > 0 and audits["detail"].str.contains("unregistered=").all()
    for table in TABLES:
        if table == "events":
            continue
        assert getattr(by_entry, table).equals(getattr(by_day, table)), table
    assert _without_timeline_rows(by_entry.events).equals(by_day.events)
    rows = by_entry.events[by_entry.events["event"] == "timeline"]
    assert rows[["day", "detail"]].values.tolist() == [
        [DAY, "entry=real_names start; rules.real_name.enabled False -> True"]
    ]
    summary = dict(by_entry.summary, events=dict(by_entry.summary["events"]))
    assert summary["events"].pop("timeline") == 1  # the summary counts the row too
    assert json.dumps(summary, sort_keys=True) == json.dumps(by_day.summary, sort_keys=True)
    # The check has teeth: registration on day 10 makes users traceable from that day.
    traceable = by_entry.population_daily.set_index("day")["traceable"]
    assert traceable[:DAY].eq(0).all() and traceable[DAY] > 0.9 * 600


def test_an_entry_turning_the_rule_on_on_day_0_is_the_scenario_with_the_rule() -> None:
    on_day_0 = dict(TURN_ON, day=0)
    entry = run(simulator.override(classroom(on_day_0), OFF))
    always = _run("always")  # classroom: enabled, start_day = 0
    for table in ("daily", "platform_daily", "population_daily", "counterfactual_daily"):
        assert getattr(entry, table).equals(getattr(always, table)), table
    assert _without_timeline_rows(entry.events).equals(always.events)
    assert entry.population_daily["traceable"].iloc[0] > 0.9 * 600


def test_an_entry_turning_the_rule_on_changes_nothing_before_its_day() -> None:
    off, entry = _run("off"), _run("entry")
    for table in ("daily", "events", "platform_daily", "population_daily"):
        assert before(entry, table, DAY) == before(off, table, DAY), table
    assert entry.counterfactual_daily.equals(off.counterfactual_daily)
    assert not entry.population_daily.equals(off.population_daily)


def test_a_repeal_gives_refusers_their_service_back_and_keeps_users_traceable() -> None:
    always, repeal = _run("always"), _run("repeal")
    for table in ("daily", "events", "platform_daily", "population_daily"):
        assert before(repeal, table, 12) == before(always, table, 12), table
    rows = repeal.population_daily.set_index("day")
    refused = rows["excluded_refused_real_name"]
    # Measured (600 users, seed 5): 18 refusers locked out, all back on day 12; when the
    # rule comes back on day 20 the anonymous users are asked again and 1 is locked out.
    assert refused[11] > 10 and refused[12:19].eq(0).all() and refused[20] > 0
    # Only who is not registered is asked again: about 20 anonymous users, not the 590
    # active (asking everyone again locked 16 out: 5% of them refuse).
    assert refused[20] <= 5
    traceable = rows["traceable"]
    assert traceable[12] == traceable[11]  # the identity given is kept
    # While lifted nobody registers (newcomers are anonymous): traceable only falls.
    assert (traceable[12:20].diff().dropna() <= 0).all()
    assert traceable[20] > traceable[19]  # the anonymous register when it is back
    timeline = repeal.events[repeal.events["event"] == "timeline"]
    assert timeline["day"].tolist() == [12, 20]
    assert "rules.real_name.enabled True -> False" in timeline["detail"].iloc[0]


def test_with_access_a_repeal_brings_back_refusers_who_stopped_or_circumvented() -> None:
    """With ``[access]`` refusers chose to stop or to circumvent (S9a): on a repeal both
    have their service back, the circumventers with a ``return`` choice."""
    data = classroom(
        {"name": "repeal", "day": 12, "set": {"rules.real_name.enabled": False}}
    ).to_dict()
    data["access"] = {"enabled": True}
    results = run(validate_scenario(data))
    choices = results.events[results.events["event"] == "access_choice"]
    counts = choices.groupby(["day", "detail"]).size().to_dict()
    # Measured (600 users, seed 5): 18 circumvent and 9 stop on day 0; all back on day 12.
    circumvented = counts[(0, "refuse:circumvent")]
    assert circumvented > 0 and counts[(0, "refuse:stop")] > 0
    assert counts[(12, "return")] == circumvented
    rows = results.population_daily.set_index("day")
    assert rows["excluded_refused_real_name"][11] > 0
    assert rows["excluded_refused_real_name"][12:].eq(0).all()
    assert rows["circumventing"][11] - rows["circumventing"][12] == circumvented


def test_a_change_of_the_family_that_changes_nothing_has_no_effect() -> None:
    """Where no platform enforces the rule, a refuser keeps the service, so the chance of
    circumventing is never read: a timeline changing it is applied (a ``timeline`` row)
    but changes no outcome, on any day."""
    lax = {f"platforms.{i}.real_name_enforcement": 0.0 for i in (0, 1)}
    scenario = simulator.override(
        classroom(
            {"name": "tools", "day": 10, "set": {"rules.real_name.circumvent_probability": 0.9}}
        ),
        lax,
    )
    plan = plan_timeline(scenario)
    assert plan is not None and plan.changes[10].families == frozenset({"real_name"})
    study = event_study(scenario, "tools", reps=2, seed=1, outcome="withheld")
    assert (study.table["effect_mean"] == 0.0).all()
    assert study.table["treated_mean"].gt(0).any()  # there is an outcome to compare
    # Teeth: where refusers are locked out, the same change moves the run.
    enforced = classroom(
        {"name": "tools", "day": 0, "set": {"rules.real_name.circumvent_probability": 0.9}}
    )
    locked = run(enforced).population_daily["circumventing"]
    assert locked.iloc[0] > _run("always").population_daily["circumventing"].iloc[0]


def test_setting_the_rule_as_it_already_is_changes_no_output() -> None:
    same = classroom({"name": "same", "day": 5, "set": {"rules.real_name.enabled": True}})
    assert plan_timeline(same) is None
    results, always = run(same), _run("always")
    for table in TABLES:
        assert getattr(results, table).equals(getattr(always, table)), table


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            '[[timeline]]\nname = "late"\nday = 2\nset = { "rules.real_name.start_day" = 3 }\n',
            [
                "timeline[0].set",
                "`rules.real_name.start_day` cannot change mid-run",
                "`rules.real_name.enabled = true` in an entry of that day",
                "rules.real_name.enabled, rules.real_name.refusal_probability",
            ],
        ),
        (
            "[rules.real_name]\nstart_day = 4\n"
            '[[timeline]]\nname = "on"\nday = 2\nset = { "rules.real_name.enabled" = true }\n',
            [
                "timeline.0.set",
                "entry `on` turns the real-name rule on or off",
                "`rules.real_name.start_day` must be 0 (it is 4)",
            ],
        ),
        (
            '[[timeline]]\nname = "odd"\nday = 2\n'
            'set = { "rules.real_name.refusal_probability" = 1.5 }\n',
            ["timeline[0] (odd).set.rules.real_name.refusal_probability", "less than or equal"],
        ),
        (
            '[[timeline]]\nname = "lax"\nday = 2\n'
            'set = { "platforms.p.real_name_enforcement" = 0.5 }\n',
            [
                "`platforms.p.real_name_enforcement` cannot change mid-run",
                "rules.real_name.enabled",
            ],
        ),
    ],
)
def test_what_cannot_apply_is_refused(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD + text, encoding="utf-8")
    for command in ("validate", "run"):
        args: list[Any] = [command, str(path)]
        if command == "run":
            args += ["--out", str(tmp_path / "r")]
        code, output = invoke(*args)
        assert code == 2, output
        assert "Traceback" not in output and str(path) in output
        for needle in needles:
            assert needle in output, (needle, output)
    assert not (tmp_path / "r").exists()


def test_attribution_counts_a_rule_a_timeline_turns_on_and_switches_it_off() -> None:
    """`censim attribute`'s player `real_name` is on when an entry turns the rule on, and
    off means the entry no longer does (as reporting set by an entry)."""
    from simulator.experiments.attribution import rules_of, with_rules

    scenario = simulator.load_scenario("china_weibo_2012_real_name")
    players = rules_of(scenario)
    assert players == ("real_name", "takedown", "reporting", "timeline")  # on_request
    off = with_rules(scenario, ("takedown", "reporting", "timeline"), players)
    assert not off.rules.real_name.enabled
    assert "rules.real_name.enabled" not in off.timeline[0].set
    assert off.timeline[1].set == scenario.timeline[1].set  # the push stays
    plan = plan_timeline(off)
    assert plan is not None and "real_name" not in plan.changes[75].families
