"""A scenario's timeline in a run (docs/model.md 1.3 "Scheduling", step 0): at the start
of a day on which the values in force change (:func:`simulator.model.scenario.days.plan_timeline`),
each family of changed fields is re-derived into the arrays and objects the run was set
up with, one function per family, and each entry's change is recorded in events.csv.

The day loop calls :meth:`TimelineRun.start_of_day` once a day; on days without a change
it is a dictionary lookup. ``tests/test_timeline.py`` holds every family to the objects a
run set up from the changed scenario would have built.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import simpy

from simulator.kernels import choice as uk
from simulator.kinds import EventKind
from simulator.model import groups as group_rules
from simulator.model import speech as um
from simulator.model.platforms import PlatformState, monitor_probabilities, platform_policy_for
from simulator.model.police import Police
from simulator.model.population import Users
from simulator.model.regulator import HOURS_PER_DAY, Regulator
from simulator.model.reporting import Reporting
from simulator.model.sanctions import Sanctions
from simulator.model.scenario import Scenario
from simulator.model.scenario.days import DayChange, TimelinePlan
from simulator.model.speech_state import MIN_IDENTIFICATION, SpeechState, ban_follows, law_table
from simulator.model.vague_offence import scenario_offence_line
from simulator.output.recorder import Recorder


class SpeechView(Protocol):
    """What the timeline changes of the day's speech (``engine.speech.SpeechDay``)."""

    scenario: Scenario

    def set_monitoring(self, monitor_probability: np.ndarray) -> None: ...

    def set_score_means(self) -> None: ...

    def set_group_scrutiny(self) -> None: ...


@dataclass
class RunParts:
    """The objects of a run that hold parameters a timeline may change."""

    users: Users
    platforms: Sequence[PlatformState]
    regulator: Regulator
    police: Police
    sanctions: Sanctions
    reporting: Reporting
    minds: SpeechState
    speech: SpeechView
    recorder: Recorder


def enforcement(parts: RunParts, new: Scenario) -> None:
    """Monitoring, the audits' sample and the penalty ladder (S8, S10): the regulator's
    spec and rules, the orders' probabilities in the moderation tables, and what each
    platform's policy expects of audits (its tables on the grid made again)."""
    parts.regulator.spec = new.regulator
    parts.regulator.rules = new.rules
    monitor = monitor_probabilities(new)
    parts.speech.set_monitoring(monitor)
    for platform in parts.platforms:
        policy = platform.policy
        if policy is None:
            continue
        policy.moderation = replace(policy.moderation, monitor=monitor)
        policy.exposure = replace(
            policy.exposure,
            sample_size=new.regulator.audit_sample_size,
            tolerance=new.rules.penalties.tolerance,
        )
        policy.forget_tables()  # made from moderation and exposure


def line(parts: RunParts, new: Scenario) -> None:
    """How vague the prohibited line is (S8, S10): the believed line probabilities
    ``q_k``, so each platform's effective reviewer means and its policy's view of them.
    (The regulator's monitoring and audits count the prohibited kinds whatever the
    vagueness; set again here for the prohibited list.) What platforms learned (posts a
    day, audits) is kept; users' priors stay those of day 0 (S16)."""
    for platform, raw in zip(parts.platforms, new.platforms, strict=True):
        policy = platform.policy
        if policy is None:
            continue  # no takedown duties: no line to read
        spec, fresh = platform_policy_for(new, raw)
        platform.spec = spec
        policy.q = fresh.q
        policy.moderation = fresh.moderation
        policy.forget_tables()  # made from moderation and q
    parts.speech.set_score_means()
    parts.speech.set_monitoring(monitor_probabilities(new))
    parts.regulator.rules = new.rules
    parts.reporting.offence = scenario_offence_line(new)  # the vague offence's reach


def police(parts: RunParts, new: Scenario) -> None:
    """Detention and identification probabilities and the detention's length (S12, S3):
    the police's decisions, the sanctions' release times, and users' reading of the law
    (which kinds can bring detention) and of what a detention costs. Users' priors stay
    those of day 0 (S16): a change reaches them through the news and their friends."""
    parts.police.change_spec(new.police)
    parts.sanctions.detention_days = new.police.detention_days
    parts.reporting.offence = scenario_offence_line(new)  # which lawful kinds it reaches
    _law_and_costs(parts.minds, new)


def reporting(parts: RunParts, new: Scenario) -> None:
    """The duty to report users to the police (S11): who is reported, and whether the
    law as users read it can bring detention."""
    parts.reporting.mode = new.rules.reporting.mode
    parts.regulator.rules = new.rules
    _law_and_costs(parts.minds, new)


def perception(parts: RunParts, new: Scenario) -> None:
    """What users see of enforcement (S16): the visibility of friends' sanctions and of
    detentions in the news, and the news' weight."""
    minds = parts.minds
    seen = new.population.perception
    minds.perception = seen
    minds.visibility = seen.visibility
    minds.friend_weight = seen.visibility * seen.friend_evidence_weight
    minds.friend_detention_weight = seen.visibility * seen.friend_detention_weight


def groups(parts: RunParts, new: Scenario) -> None:
    """A group's scrutiny factors (docs/model.md "Groups"): the police's table by group
    and kind, the reports' factors, and the monitors' audience and the filter factors of
    the day's speech. Shares, traits and the network stay as set up."""
    users = parts.users
    assert users.group is not None  # the scenario checks name existing groups
    users.groups = new.groups
    parts.police.groups = (users.group, group_rules.factors(new.groups, "detention"))
    parts.police.change_spec(parts.police.spec)
    parts.reporting.groups = (users.group, group_rules.factors(new.groups, "reporting"))
    parts.speech.set_group_scrutiny()


def _law_and_costs(minds: SpeechState, new: Scenario) -> None:
    """As :class:`SpeechState` derives them at set-up: the law table, the detention
    cost and a traceable user's identification factor."""
    law = law_table(new)
    if law.any() != minds.at_risk:
        # Beliefs are allocated at set-up only where a sanction can follow a post; the
        # whitelist cannot make one possible where none was (takedown stays as set up).
        raise AssertionError("a timeline change made sanctions possible or impossible")
    minds.law = law
    speech = new.population.speech
    minds.par[uk.PAR_DETENTION_COST] = float(
        um.detention_cost(
            new.police.detention_days, speech.detention_cost, speech.detention_scale_days
        )
    )
    identify = new.police.identify_anonymous_probability
    minds.par[uk.PAR_IOTA_TRACEABLE] = 1.0 / max(identify, MIN_IDENTIFICATION)


def access(parts: RunParts, new: Scenario) -> None:
    """What users weigh when their platform stops serving (S9a): the next choice is made
    with the new values, and everyone who stopped or circumvents decides again."""
    if parts.sanctions.access is not None:
        parts.sanctions.access.set_spec(new.access)


def real_name(parts: RunParts, new: Scenario) -> None:
    """The real-name rule turned on or off, or its refusal and circumvention chances
    (S13): the rule the sanctions read (whether it is in force, for registration at
    step 3, newcomers and closed accounts' identity checks, S14), what audits count of
    unregistered users (S10) and whether a closed account's ban follows a registered
    user (S3). Registration itself, or the refusers' return on a repeal, happens at
    step 3 of the day (:meth:`Sanctions.real_name_change`)."""
    parts.sanctions.real_name = new.rules.real_name
    parts.regulator.rules = new.rules
    parts.minds.ban_follows = ban_follows(new)


#: One function per family of :data:`simulator.model.scenario.timeline.CHANGEABLE`.
FAMILIES: dict[str, Callable[[RunParts, Scenario], None]] = {
    "enforcement": enforcement,
    "line": line,
    "police": police,
    "reporting": reporting,
    "perception": perception,
    "groups": groups,
    "access": access,
    "real_name": real_name,
}


def audit_rates(plan: TimelinePlan) -> list[tuple[float, float]]:
    """``(from_hours, audits per hour)`` at day 0 and at each day the rate changes."""
    rates = [(0.0, _per_hour(plan.start.scenario))]
    for day in sorted(plan.changes):
        rate = _per_hour(plan.changes[day].scenario)
        if rate != rates[-1][1]:
            rates.append((day * HOURS_PER_DAY, rate))
    return rates


def _per_hour(scenario: Scenario) -> float:
    return scenario.regulator.audits_per_year / (365.0 * HOURS_PER_DAY)


def audit_process(
    regulator: Regulator,
    platform: PlatformState,
    env: simpy.Environment,
    rates: list[tuple[float, float]],
) -> Generator[simpy.Event, Any, None]:
    """:meth:`Regulator.audit_process` with a rate that changes at given times: the same
    draws and waits in the same order until the first change, so nothing differs before
    it. At a change the wait under way is rescaled by ``old rate / new rate`` (the
    Poisson process is memoryless: the rest of an exponential wait of rate ``a`` is
    exponential of rate ``a``, and times ``a / b`` of rate ``b``); from a rate of 0 a new
    wait is drawn."""
    rng = regulator.rng
    wait = math.inf  # from now to the next audit at the current rate
    for index, (_, rate) in enumerate(rates):
        end = rates[index + 1][0] if index + 1 < len(rates) else math.inf
        if index == 0 or not math.isfinite(wait):
            wait = float(rng.exponential(1.0 / rate)) if rate > 0.0 else math.inf
        else:
            wait = wait * rates[index - 1][1] / rate if rate > 0.0 else math.inf
        while float(env.now) + wait < end and not platform.exited:
            yield env.timeout(wait)
            if platform.exited:
                return
            regulator.audit(platform, float(env.now))
            wait = float(rng.exponential(1.0 / rate))
        if platform.exited or not math.isfinite(end):
            return
        left = end - float(env.now)
        yield env.timeout(left)  # to the change of rate
        wait -= left  # the rest of the wait under way


class TimelineRun:
    """A plan applied to one run: :meth:`start_of_day` at each day's start."""

    def __init__(self, plan: TimelinePlan, parts: RunParts) -> None:
        self.plan = plan
        self.parts = parts
        self.changes = plan.changes
        #: Set by the engine once the run is built (its scenario follows the changes).
        self.on_scenario: Callable[[Scenario], None] = lambda scenario: None
        # Day 0's values were set up with the run; its blocks and events start now.
        self._block(plan.start)
        self._record(plan.start)

    def audit_process(
        self, regulator: Regulator, platform: PlatformState, env: simpy.Environment
    ) -> Generator[simpy.Event, Any, None]:
        """The regulator's audits of ``platform``: :meth:`Regulator.audit_process` unless
        the timeline changes the audits' rate."""
        rates = audit_rates(self.plan)
        if len(rates) == 1:
            return regulator.audit_process(platform)
        return audit_process(regulator, platform, env, rates)

    def start_of_day(self, day: int) -> None:
        """Put day ``day``'s changes in force (nothing on a day without any)."""
        change = self.changes.get(day)
        if change is None:
            return
        for family in sorted(change.families):
            FAMILIES[family](self.parts, change.scenario)
        self.parts.speech.scenario = change.scenario
        self.on_scenario(change.scenario)
        self._block(change)
        self._record(change)

    def _block(self, change: DayChange) -> None:
        """Block and unblock platforms; who can post where changed, so the caches kept
        on the users' state version are made again (docs/architecture.md)."""
        changed = False
        for platform in self.parts.platforms:
            blocked = platform.name in change.blocked
            changed = changed or blocked != platform.blocked
            platform.blocked = blocked
        if changed:
            self.parts.users.states_changed()

    def _record(self, change: DayChange) -> None:
        platform_of = {p.name: p.name for p in self.parts.platforms}
        for event in change.events:
            names = (*event.blocked, *event.unblocked)
            self.parts.recorder.event(
                change.day * HOURS_PER_DAY,
                EventKind.TIMELINE,
                platform_of.get(names[0], "") if len(names) == 1 else "",
                detail=event.detail(),
            )
