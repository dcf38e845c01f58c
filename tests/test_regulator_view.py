"""The regulator works from its narrow view of a run (model.regulator.AuditView), with no
Simulation: audits read only the view's queries, record through its event log and take
a platform off the market through its ``remove_platform``."""

from __future__ import annotations

import numpy as np
import simpy

import simulator
from simulator.kinds import EventKind
from simulator.model.platforms import make_platforms
from simulator.model.regulator import AuditView, Regulator
from simulator.output.recorder import Recorder


def _regulator(still_up: int, calls: list[tuple]) -> tuple[Regulator, Recorder, list]:
    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {
            # It reads as many posts as were published, all of them violations (below):
            # it finds every post still up.
            "regulator.audit_sample_size": still_up,
            "rules.penalties.tolerance": 2,
            "rules.penalties.ladder": [
                {"action": "warning"},
                {"action": "fine", "amount": 1000.0},
                {"action": "revocation"},
            ],
        },
    )
    platforms = make_platforms(scenario, np.random.default_rng(0))
    recorder = Recorder(scenario.horizon_days, len(platforms) + 1)

    def published_between(platform, since, now):  # type: ignore[no-untyped-def]
        calls.append(("published", platform.name, since, now))
        return still_up

    def prohibited_still_up(platform, since, now):  # type: ignore[no-untyped-def]
        calls.append(("still_up", platform.name, since, now))
        return still_up

    def duties_missed_between(platform, after, until):  # type: ignore[no-untyped-def]
        calls.append(("missed", platform.name, after, until))
        return 0

    def notice_duties_missed_between(platform, after, until):  # type: ignore[no-untyped-def]
        calls.append(("late_notices", platform.name, after, until))
        return 0

    def anonymous_active_users(platform):  # type: ignore[no-untyped-def]
        calls.append(("anonymous", platform.name))
        return 0

    def remove_platform(platform, at_hours, reason):  # type: ignore[no-untyped-def]
        calls.append(("removed", platform.name, at_hours, reason))

    view = AuditView(
        env=simpy.Environment(),
        recorder=recorder,
        published_between=published_between,
        prohibited_still_up=prohibited_still_up,
        duties_missed_between=duties_missed_between,
        notice_duties_missed_between=notice_duties_missed_between,
        anonymous_active_users=anonymous_active_users,
        remove_platform=remove_platform,
    )
    regulator = Regulator(view, scenario.regulator, scenario.rules, np.random.default_rng(1))
    return regulator, recorder, platforms


def test_audits_climb_the_ladder_through_the_view() -> None:
    calls: list[tuple] = []
    regulator, recorder, platforms = _regulator(still_up=5, calls=calls)
    platform = platforms[0]
    cash = platform.cash
    for hours in (30.0, 60.0, 90.0):  # days 1, 2, 3
        regulator.audit(platform, hours)
    kinds = [e.event for e in recorder.events]
    assert kinds == [
        EventKind.AUDIT, EventKind.WARNING,
        EventKind.AUDIT, EventKind.FINE,
        EventKind.AUDIT, EventKind.REVOCATION,
    ]  # fmt: skip
    assert [e.amount for e in recorder.events if e.event == EventKind.AUDIT] == [5.0] * 3
    assert platform.cash == cash - 1000.0 and platform.fines_paid == 1000.0
    window = 7 * 24.0  # the classroom's audit window
    # Strict liability (the classroom's): prohibited posts up (the enforced line: lawful
    # kinds never, however vague the law), then the missed deadlines.
    assert calls[:3] == [
        ("published", platform.name, max(0.0, 30.0 - window), 30.0),
        ("still_up", platform.name, max(0.0, 30.0 - window), 30.0),
        ("missed", platform.name, 0.0, 30.0),
    ]
    # The revocation takes the platform off the market at the next day boundary.
    assert calls[-1] == ("removed", platform.name, 96.0, "licence revoked")


def test_no_audit_during_a_suspension_and_the_next_reads_only_what_came_after() -> None:
    # L1 Art. 68: a suspension is for rectification. An audit falling inside it does
    # nothing; the next one's window starts where the suspension ended.
    calls: list[tuple] = []
    regulator, recorder, platforms = _regulator(still_up=5, calls=calls)
    platform = platforms[0]
    platform.suspended_until_hours = 100.0
    regulator.audit(platform, 90.0)
    assert recorder.events == [] and calls == [] and platform.penalty_level == 0
    regulator.audit(platform, 130.0)
    assert calls[0] == ("published", platform.name, 100.0, 130.0)
    assert calls[1] == ("still_up", platform.name, 100.0, 130.0)
    assert [e.event for e in recorder.events] == [EventKind.AUDIT, EventKind.WARNING]


def test_clean_audits_step_back_down() -> None:
    calls: list[tuple] = []
    regulator, recorder, platforms = _regulator(still_up=2, calls=calls)  # = tolerance
    platform = platforms[0]
    platform.penalty_level = 2
    for hours in (10.0, 20.0, 30.0):
        regulator.audit(platform, hours)
    assert platform.penalty_level == 1 and platform.clean_audits == 0
    assert [e.event for e in recorder.events] == [EventKind.AUDIT] * 3
    assert not any(call[0] == "removed" for call in calls)


def _view(**queries: object) -> AuditView:
    return AuditView(env=simpy.Environment(), **queries)  # type: ignore[arg-type]


def test_strict_audits_count_what_the_law_prohibits_not_the_blur() -> None:
    """Under strict liability an audit counts the prohibited posts still up (the enforced
    line, S10), however vague the law looks to the platform (its q of criticism is 0.3):
    40 prohibited posts up among 4,000 published, 4,000 posts read: about 40 found. The
    platform learns the count (S8)."""
    scenario = simulator.override(
        simulator.load_scenario("classroom"), {"regulator.audit_sample_size": 4000}
    )
    platform = make_platforms(scenario, np.random.default_rng(0))[0]
    assert platform.policy is not None
    np.testing.assert_allclose(platform.policy.q, [0.0, 0.3, 1.0, 1.0])
    recorder = Recorder(scenario.horizon_days, 3)
    view = _view(
        recorder=recorder,
        published_between=lambda p, since, now: 4000,
        prohibited_still_up=lambda p, since, now: 40,
        duties_missed_between=lambda p, after, until: 0,
        notice_duties_missed_between=lambda p, after, until: 0,
        anonymous_active_users=lambda p: 0,
        remove_platform=lambda p, at, reason: None,
    )
    Regulator(view, scenario.regulator, scenario.rules, np.random.default_rng(1)).audit(
        platform, 30.0
    )
    found = recorder.events[0].amount
    assert 20 <= found <= 60  # Binomial(4000, 0.01): sd 6.3; lawful posts never count
    assert platform.policy.belief.audits_seen == 1
    assert platform.policy.belief.posterior.found_prohibited == found


def test_notice_audits_sample_late_notices_and_orders_stay_violations() -> None:
    """Under notice liability the audit counts notices kept past their deadline among the
    posts it reads (here it reads all the window's posts, each a late notice); a missed
    order is a violation whatever the sample."""
    for late_notices, all_missed, expected in (
        (2, 2, []),
        (5, 5, ["warning"]),
        (0, 1, ["warning"]),
    ):
        scenario = simulator.override(
            simulator.load_scenario("germany_netzdg_2017"),
            {"regulator.audit_sample_size": late_notices, "rules.penalties.tolerance": 3},
        )
        assert scenario.rules.takedown.liability == "notice"
        platform = make_platforms(scenario, np.random.default_rng(0))[0]
        recorder = Recorder(scenario.horizon_days, 2)
        view = _view(
            recorder=recorder,
            published_between=lambda p, since, now, n=late_notices: n,
            prohibited_still_up=lambda p, since, now: 10**6,  # not what it reads
            duties_missed_between=lambda p, after, until, n=all_missed: n,
            notice_duties_missed_between=lambda p, after, until, n=late_notices: n,
            anonymous_active_users=lambda p: 0,
            remove_platform=lambda p, at, reason: None,
        )
        Regulator(view, scenario.regulator, scenario.rules, np.random.default_rng(1)).audit(
            platform, 30.0
        )
        assert recorder.events[0].amount == late_notices
        assert [str(e.event) for e in recorder.events[1:]] == expected, (late_notices, all_missed)


def test_what_an_audit_finds_depends_on_the_share_of_violations_not_the_platform_size() -> None:
    """An audit reads ``audit_sample_size`` posts (S10): ten times the posts and users,
    with the same share of violations and of anonymous users, gives the same draws, so
    the same finds (and unregistered accounts) and penalties."""
    scenario = simulator.override(simulator.load_scenario("classroom"), {})
    size = scenario.regulator.audit_sample_size
    finds, unregistered = [], []
    for factor in (1, 10):
        platform = make_platforms(scenario, np.random.default_rng(0))[0]
        platform.active_users = 3_000 * factor
        recorder = Recorder(scenario.horizon_days, 3)
        view = _view(
            recorder=recorder,
            published_between=lambda p, since, now, f=factor: 20_000 * f,
            prohibited_still_up=lambda p, since, now, f=factor: 40 * f,
            duties_missed_between=lambda p, after, until: 0,
            notice_duties_missed_between=lambda p, after, until: 0,
            anonymous_active_users=lambda p, f=factor: 150 * f,
            remove_platform=lambda p, at, reason: None,
        )
        regulator = Regulator(view, scenario.regulator, scenario.rules, np.random.default_rng(7))
        for day in range(1, 21):
            regulator.audit(platform, 24.0 * day)
        audits = [e for e in recorder.events if e.event == EventKind.AUDIT]
        finds.append([e.amount for e in audits])
        unregistered.append([e.detail.split("unregistered=")[1] for e in audits])
    assert finds[0] == finds[1]
    assert unregistered[0] == unregistered[1]
    assert any(u != "0" for u in unregistered[0])  # accounts are checked: 5% anonymous
    # Share of violations: 40 / 20,000 (prohibited posts only); the mean find is the
    # sample's share.
    expected = size * 40 / 20_000
    assert abs(np.mean(finds[0]) - expected) < 4 * np.sqrt(expected / 20)


def test_an_audit_that_read_no_post_teaches_only_that_it_came() -> None:
    """An audit on its window's first day reads no post (published counts whole days,
    docs/model.md S10): its finding of 0 said nothing of what audits detect. Read as
    evidence, it crashed the platform's belief in detection and its strictness with it
    (china_weibo_2012, replication 2 of the facts: an audit on day 0 with 1,678 posts
    up, strictness 0.46 -> 0.01 in eight days; session 18). It counts for the audits'
    rate, is no clean audit, and a later audit that read posts and found none still
    teaches."""
    import dataclasses

    calls: list[tuple] = []
    regulator, recorder, platforms = _regulator(still_up=5, calls=calls)
    platform = platforms[0]
    assert platform.policy is not None
    belief = platform.policy.belief
    platform.policy.predicted_prohibited = 50.0  # what it expected an audit to find
    regulator.view = dataclasses.replace(
        regulator.view, published_between=lambda platform, since, now: 0.0
    )
    regulator.audit(platform, 5.0)  # day 0: nothing published in whole days yet
    assert belief.audits_seen == 1 and belief.detection == 1.0
    assert platform.clean_audits == 0 and platform.penalty_level == 0
    assert [e.amount for e in recorder.events] == [0.0]  # recorded, as it happened
    regulator.view = dataclasses.replace(
        regulator.view,
        published_between=lambda platform, since, now: 1_000.0,
        prohibited_still_up=lambda platform, since, now: 0,
    )
    regulator.audit(platform, 30.0)  # day 1: it read posts and found none
    assert belief.audits_seen == 2 and belief.detection < 0.5
    assert platform.clean_audits == 1
