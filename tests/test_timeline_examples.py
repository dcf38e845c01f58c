"""The shipped timeline examples of issue 17 item 5: a real-name deadline on Weibo
(china_weibo_2012_real_name) and a crackdown campaign (china_rumour_crackdown_2013).
Each is valid and shown, and an event study of its entry changes nothing before the
entry's day; the campaign takes down more posts in every paired replication."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.engine.simulation import Simulation
from simulator.experiments.event_study import EventStudy, event_study, without_entry
from simulator.model.scenario import validate_scenario
from simulator.model.scenario.days import plan_timeline
from simulator.output.metrics import daily_table
from simulator.streams import replication_seeds

EXAMPLES = {
    "china_weibo_2012_real_name": (("real_name_deadline", 75), ("deadline_push", 75)),
    "china_rumour_crackdown_2013": (("rumour_crackdown", 22),),
}


def test_examples_validate_and_show_their_entries_with_their_sources() -> None:
    runner = CliRunner()
    for name, entries in EXAMPLES.items():
        scenario = simulator.load_scenario(name)
        assert [(e.name, e.day) for e in scenario.timeline] == list(entries)
        for timeline in scenario.timeline:
            assert timeline.source and "ASSUMPTION" in timeline.source
        assert runner.invoke(main, ["validate", name]).exit_code == 0
        shown = runner.invoke(main, ["show", name])
        assert shown.exit_code == 0
        for entry, _ in entries:
            assert f'name = "{entry}"' in shown.output


def test_the_real_name_deadline_registers_on_its_day_for_good() -> None:
    """The entry `real_name_deadline` turns the rule on on day 75 and it stays on; the
    push around it is lifted after 45 days. The run is the one the example shipped before
    the `real_name` family: `start_day = 75` and the push alone as an entry."""
    scenario = simulator.load_scenario("china_weibo_2012_real_name")
    plan = plan_timeline(scenario)
    assert plan is not None and not plan.start.scenario.rules.real_name.enabled
    assert list(plan.changes) == [75]  # the push's end (day 120) is the horizon
    assert plan.changes[75].families == frozenset({"real_name", "enforcement", "perception"})
    longer = simulator.override(scenario, {"horizon_days": 130})
    later = plan_timeline(longer)
    assert later is not None and later.changes[120].scenario.rules.real_name.enabled
    small = {"population.users": 500, "horizon_days": 80}
    now = simulator.override(scenario, small)
    data = simulator.load_scenario("china_weibo_2012_real_name").to_dict()
    data["rules"]["real_name"].update(enabled=True, start_day=75)
    data["timeline"] = [e for e in data["timeline"] if e["name"] == "deadline_push"]
    shipped_before = simulator.override(validate_scenario(data), small)
    a, b = (Simulation(s, 7).run() for s in (now, shipped_before))
    names = [p.name for p in scenario.platforms] + ["circumvention"]
    pd.testing.assert_frame_equal(daily_table(a, now, names), daily_table(b, now, names))
    assert np.array_equal(a.counts, b.counts) and a.counts[75:].sum() > 0


@functools.lru_cache(maxsize=2)
def _crackdown(outcome: str = "removed") -> EventStudy:
    scenario = simulator.override(
        simulator.load_scenario("china_rumour_crackdown_2013"),
        {"population.users": 2000, "horizon_days": 50},
        source="test",
    )
    return event_study(scenario, "rumour_crackdown", reps=3, seed=1, outcome=outcome)


def test_the_crackdown_changes_nothing_before_its_day() -> None:
    """What users decide and what platforms choose before the campaign is the same with
    and without it; a post's removal counts on the day it was published (metrics.md), so
    a post published just before the campaign and reviewed after its start may go either
    way: session 13 (the fixed-staff platform weighs its review line, S8) moved `removed`
    of day 20, two days before, by -1 in one of three replications, and nothing earlier."""
    withheld = _crackdown("withheld").table
    before = withheld[withheld["days_since"] < 0]
    assert len(before) == 22 and (before["effect_mean"] == 0.0).all()
    removed = _crackdown().table
    early = removed[removed["days_since"] < -2]
    assert len(early) == 20 and (early["effect_mean"] == 0.0).all()
    scenario = simulator.override(
        simulator.load_scenario("china_rumour_crackdown_2013"),
        {"population.users": 2000, "horizon_days": 24},
        source="test",
    )
    control = without_entry(scenario, "rumour_crackdown")
    for seed in replication_seeds(1, 3):
        runs = (simulator.run(s, seed=seed).platform_daily for s in (scenario, control))
        treated, untreated = (daily.set_index(["day", "platform"]) for daily in runs)
        days = treated.index.get_level_values("day")
        pd.testing.assert_frame_equal(treated[days < 22], untreated[days < 22])
        assert not treated[days >= 22]["strictness"].equals(untreated[days >= 22]["strictness"])


def test_the_crackdown_chills_more_than_it_removes() -> None:
    # Measured (2,000 users, 50 days, seed 1, 3 paired replications), session 7: political
    # posts withheld after the campaign's start 2,755 / 2,805 / 2,769 against 7 / 6 / 10
    # without it; removals fall (-56, -271, -219): users keep back the posts the campaign
    # would have taken down. Before session 7 the campaign's news said "safe" (S16) and
    # removals rose (0, +44, +16) while withholding barely moved. Session 13: withheld
    # 2,897 / 2,909 / 2,977 against 0 / 9 / 33, removals -145, -194, -2.
    study = _crackdown()
    per_rep = study.per_replication
    after = per_rep[per_rep["day"] >= study.event_day]
    removed = (after["treated"] - after["control"]).groupby(after["replication"]).sum()
    withheld_study = _crackdown("withheld")
    rows = withheld_study.per_replication
    rows = rows[rows["day"] >= withheld_study.event_day]
    withheld = (rows["treated"] - rows["control"]).groupby(rows["replication"]).sum()
    assert (withheld > 0).all()
    assert withheld.sum() > 5 * abs(removed.sum())


def test_the_real_name_deadline_changes_nothing_before_its_day() -> None:
    """Every decision taken before the entry's day is the same with and without it (what
    was intended, withheld, softened, excluded, held; every event before its hour). The
    fate of a post published before then may still change after it: daily.csv counts a
    post's removal on the day it was *published* (metrics.md), and weibo's queue removes
    some posts weeks late, so `removed` of day 51 moved by 1.0 in an event study of the
    deadline's push (2,000 users, 100 days, seed 1, 3 replications; before the day's last
    refit) without any earlier difference. The entry here is registration itself (the
    `real_name` family); the push is in both arms."""
    scenario = simulator.override(
        simulator.load_scenario("china_weibo_2012_real_name"),
        {"population.users": 2000, "horizon_days": 100},
        source="test",
    )
    day = next(e.day for e in scenario.timeline if e.name == "real_name_deadline")
    control = without_entry(scenario, "real_name_deadline")
    names = [p.name for p in scenario.platforms] + ["circumvention"]
    for seed in replication_seeds(1, 3):
        runs = [Simulation(s, seed) for s in (scenario, control)]
        recorders = [run.run() for run in runs]
        treated, untreated = (daily_table(r, scenario, names) for r in recorders)
        before = treated["day"] < day
        decided = ["intended", "withheld", "softened", "excluded", "blocked"]
        pd.testing.assert_frame_equal(treated.loc[before, decided], untreated.loc[before, decided])
        published = treated["removed"] + treated["surviving"]
        assert published[before].equals((untreated["removed"] + untreated["surviving"])[before])
        events = [r.event_columns() for r in recorders]
        hours = [np.asarray(e["time_hours"]) for e in events]
        cut = [int(np.searchsorted(h, day * 24.0)) for h in hours]
        assert cut[0] == cut[1]
        for column in events[0]:
            assert np.array_equal(
                np.asarray(events[0][column])[: cut[0]], np.asarray(events[1][column])[: cut[1]]
            ), column


def test_the_real_name_deadline_locks_refusers_out() -> None:
    """Registration from day 75 (the entry `real_name_deadline` against the same runs
    without it): refusers the platform enforces against lose access, so more political
    posts are excluded from that day, and none before. Paired: in each replication the
    runs differ only by the entry, so the difference is the lock-out, while what either
    excludes varies with the platform's strikes and suspensions. Measured (2,000 users,
    100 days, seed 1, 3 paired replications; since the platform learns where the line is,
    docs/model.md S8): +74, +73 and +91 excluded after day 75 over controls of 453, 493
    and 15 (before it, +96 a run over 96.7). Session 13: with the audit prediction
    counting the posts waiting for review (S8) +127, +18 and +91 over controls of 62, 505
    and 15 (in the second both arms were suspended for part of the period, when every
    post is excluded and the lock-out adds nothing); with the fixed staff weighing its
    line too, +94, +184 and +92 over 50, 230 and 0. So each difference is asserted
    positive and their mean above 40."""
    scenario = simulator.override(
        simulator.load_scenario("china_weibo_2012_real_name"),
        {"population.users": 2000, "horizon_days": 100},
        source="test",
    )
    study = event_study(scenario, "real_name_deadline", reps=3, seed=1, outcome="excluded")
    table = study.table
    assert (table[table["days_since"] < 0]["effect_mean"] == 0.0).all()
    replications = study.per_replication
    after = replications[replications["day"] >= study.event_day]
    added = after.groupby("replication")[["treated", "control"]].sum()
    difference = added["treated"] - added["control"]
    assert (difference > 0).all() and difference.mean() > 40.0, added
