"""One run of a scenario: the SimPy environment and the day loop that drives the model.

Scheduling (docs/model.md, 1.3 "Process overview and scheduling"): a SimPy process
advances the population one day at a time; :meth:`Simulation._step_day` calls the
mechanisms in the documented order. Regulator audits are SimPy processes at exponential
times in between; their effect on who may post starts at the next day boundary. The
mechanisms live in :mod:`simulator.model` (and the modules it names), the drivers of
the compiled passes in :mod:`simulator.engine.speech` and :mod:`simulator.engine.review`.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from functools import partial
from typing import Any

import numpy as np
import simpy

from simulator.engine.audit_reads import ProhibitedPosts, published_in_window
from simulator.engine.caches import DayThreads, PopulationCounts, threaded
from simulator.engine.day_end import end_of_day, record_population
from simulator.engine.group_counts import GroupRun
from simulator.engine.post_store import PostStore
from simulator.engine.progress import DayProgress
from simulator.engine.review import QueuedItems, ReviewDay
from simulator.engine.speech import SpeechDay
from simulator.engine.timeline import RunParts, TimelineRun
from simulator.interrupts import check_interrupt, interrupts_between_steps
from simulator.kinds import Channel, Outcome
from simulator.model import arrivals
from simulator.model.access import AccessChoices
from simulator.model.notices import NoticeLedger
from simulator.model.orders import OrderBook
from simulator.model.platforms import PlatformState, make_platforms
from simulator.model.police import Police, police_staff
from simulator.model.population import Users, large_network
from simulator.model.real_name import anonymous_active_users, register_users
from simulator.model.regulator import HOURS_PER_DAY, AuditView, Regulator
from simulator.model.reporting import Reporting
from simulator.model.sanctions import Sanctions, strikes_to_lose_account
from simulator.model.scenario import Scenario
from simulator.model.scenario.days import plan_timeline
from simulator.model.speech_state import SpeechState
from simulator.model.vague_offence import scenario_offence_line
from simulator.model.views import IntArray
from simulator.output.phases import user_cells
from simulator.output.recorder import Recorder
from simulator.streams import NOTICE_SENDERS_KEY, Streams, group_stream, keyed_stream

_NO_USERS = np.zeros(0, dtype=np.int64)
_NO_FLAGS = np.zeros(0, dtype=bool)


class Simulation:
    """A scenario in motion. ``Simulation(scenario, seed).run()`` returns a :class:`Recorder`.

    Use :func:`simulator.run` for the paired rules/counterfactual run and tidy tables.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        progress: bool = False,
        users: Users | None = None,
    ):
        """``users``: the population as drawn for this seed (a copy, before any run; the
        paired run's counterfactual reuses the rules run's instead of drawing it again:
        the population stream is used for nothing else)."""
        # A timeline's day-0 values are set up as the scenario's own (docs/model.md 1.3).
        plan = plan_timeline(scenario) if scenario.timeline else None
        if plan is not None:
            scenario = plan.start.scenario
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.progress = progress
        self.streams = streams = Streams.from_seed(self.seed)
        if users is None:
            shares = [p.market_share for p in scenario.platforms]
            users = Users(
                scenario.population, shares, streams.population, scenario.groups,
                group_stream(self.seed),
            )  # fmt: skip
        self.users = users
        self.platforms: list[PlatformState] = make_platforms(scenario, streams.review)
        platforms = self.platforms
        self.posts = posts = PostStore(
            users=scenario.population.users, days=scenario.horizon_days, platforms=len(platforms)
        )
        self.recorder = recorder = Recorder(scenario.horizon_days, len(platforms) + 1)
        self.env = simpy.Environment()
        rules = scenario.rules
        self.moderating = rules.takedown.enabled
        # The structures holding post ids register with the store as they are made.
        self.queued = QueuedItems(platforms, posts)
        self.orders = OrderBook(platforms, rules.takedown.deadline_hours, posts, posts)
        self.prohibited_posts = ProhibitedPosts(
            platforms, posts, scenario.horizon_days, scenario.regulator.audit_window_days
        )
        self.police = Police(scenario.police, users, streams.police, police_staff(scenario))
        self.sanctions = Sanctions(
            users, platforms, self.police, recorder, streams.behaviour,
            scenario.population.exits, scenario.police.detention_days, streams.turnover,
            scenario.population.turnover_per_year, rules.real_name,
        )  # fmt: skip
        if scenario.access.enabled:  # users choose when their platform stops serving (S9a)
            self.sanctions.access = AccessChoices(
                scenario.access, users, platforms, scenario.population.exits.circumvention_friction,
                streams.access, recorder,
            )  # fmt: skip
        # The regulator and the police see the run through narrow views (no cycle).
        audit_view = AuditView(
            env=self.env,
            recorder=recorder,
            published_between=lambda platform, since, now: published_in_window(
                recorder.counts, self.speech.in_scope, platform, since, now
            ),
            prohibited_still_up=self.prohibited_posts.still_up,
            duties_missed_between=self.orders.missed_between,
            notice_duties_missed_between=self.orders.notices_missed_between,
            anonymous_active_users=lambda platform: anonymous_active_users(users, platform.index),
            remove_platform=Sanctions.remove_platform,
        )
        self.regulator = Regulator(audit_view, scenario.regulator, rules, streams.regulator)
        self.threads = DayThreads()
        # What users decide by: the law as they read it, their beliefs, the news (S3, S16).
        self.minds = SpeechState(
            scenario,
            users.value,
            users.sensitive_weights,
            lambda: (users.network.indptr, users.network.indices),
            np.array([strikes_to_lose_account(p.spec) for p in platforms], dtype=np.int64),
        )
        users.belief_reset = self.minds.reset  # newcomers start afresh (S14, S16)
        # Each decision counted by phase and its author's stance x boldness cell (B2).
        self.minds.cell = user_cells(users.stance_factor, users.boldness)
        self.minds.phase_counts = recorder.phases
        # Notices by sender, removals by route (S5b): what transparency reports summarise.
        self.ledger = NoticeLedger(
            len(platforms), scenario.population.notices,
            keyed_stream(self.seed, NOTICE_SENDERS_KEY),
        )  # fmt: skip
        self.speech = SpeechDay(
            scenario, users, platforms, streams, recorder, posts, self.orders,
            self.prohibited_posts, self.threads, self.minds, self.ledger,
        )  # fmt: skip
        self.reporting = Reporting(
            rules.reporting.mode, scenario_offence_line(scenario), users, self.police, recorder,
            streams.reporting,
        )  # fmt: skip
        self.review = ReviewDay(
            platforms, posts, recorder, self.speech.prohibited, self.prohibited_posts,
            self.reporting, rules.appeals, streams.appeals, self.threads, users.size,
            self.ledger, self.orders,
            lambda: self.scenario.rules.takedown.notice_deadline_hours,
        )  # fmt: skip
        self._own_audience: Any = None
        # The views a take-down cuts (S5b): the authors' audiences as S5a gives them.
        self.review.exposure = (
            self._audience, HOURS_PER_DAY * scenario.horizon_days,
            float(scenario.population.attention_hours),
        )  # fmt: skip
        self.population_counts = PopulationCounts(
            users, lambda day: self.minds.mean_beliefs(day, users.state)
        )
        self.groups: GroupRun | None = None
        if users.group is not None:  # user groups (docs/model.md "Groups")
            self.groups = GroupRun(
                users, scenario.horizon_days, self.minds, self.police, self.reporting, recorder
            )
        self.timeline: TimelineRun | None = None
        if plan is not None:
            parts = RunParts(
                users, platforms, self.regulator, self.police, self.sanctions, self.reporting,
                self.minds, self.speech, recorder,
            )  # fmt: skip
            self.timeline = TimelineRun(plan, parts)
            self.timeline.on_scenario = self._change_scenario
        self.wall_seconds = 0.0
        self._progress: DayProgress | None = None  # the bar, when progress is shown

    def _change_scenario(self, scenario: Scenario) -> None:
        """The values in force from today (a timeline's change)."""
        self.scenario = scenario

    # ------------------------------------------------------------------------------------
    def run(self) -> Recorder:
        started = time.perf_counter()
        if self.timeline is None or not self.timeline.changes:
            self.speech.draw_all_ahead()
        self.env.process(self._days())
        if self.moderating or self._real_name_ever():
            for platform in self.platforms:
                audits = (
                    self.regulator.audit_process(platform)
                    if self.timeline is None
                    else self.timeline.audit_process(self.regulator, platform, self.env)
                )
                self.env.process(audits)
        try:
            with interrupts_between_steps():  # Ctrl-C lands between days
                self.env.run(until=self.scenario.horizon_days * HOURS_PER_DAY)
        finally:
            self.threads.stop()  # also when a step fails: no thread outlives the run
            if self._progress is not None:
                self._progress.close()
        # Orders whose deadline fell inside the horizon were settled on that day; later
        # deadlines are not yet due. Events are kept in time order for the tables.
        self.recorder.event_columns()
        self.wall_seconds = time.perf_counter() - started
        return self.recorder

    def _real_name_ever(self) -> bool:
        """Whether the real-name rule exists on any day of the run (audits then look for
        unregistered users, S10, from day 0 as with ``start_day``)."""
        if self.scenario.rules.real_name.enabled:
            return True
        changes = self.timeline.changes.values() if self.timeline is not None else ()
        return any(change.scenario.rules.real_name.enabled for change in changes)

    def _days(self) -> Generator[simpy.Event, Any, None]:
        days = range(self.scenario.horizon_days)
        if not self.progress:
            # No bar object at all: even a disabled tqdm starts tqdm's monitor thread,
            # and run() forks the counterfactual only from a single-threaded process.
            for day in days:
                check_interrupt()
                self._step_day(day)
                yield self.env.timeout(HOURS_PER_DAY)
            return
        # A time estimate only from days that compiled nothing (simulator.engine.progress).
        self._progress = DayProgress(len(days), f"{self.scenario.name} seed {self.seed}")
        for day in days:
            check_interrupt()
            self._progress.start_day()
            self._step_day(day)
            self._progress.end_day()
            if day == days[-1]:
                self._progress.close()  # (the run ends before this process resumes)
            yield self.env.timeout(HOURS_PER_DAY)

    def _audience(self) -> Any:
        """Each user's audience ``A_i`` (S5a), as the speech day computes it once."""
        audience = self.speech.audience()
        if len(audience) != self.users.size:  # nothing moderated at the start
            if self._own_audience is None:
                self._own_audience = arrivals.audience(self.users.degree())
            audience = self._own_audience
        return audience

    def _step_day(self, day: int) -> None:
        """Day ``day``, the steps numbered as in docs/model.md 1.3 (submodels S1-S17)."""
        start = day * HOURS_PER_DAY
        end = start + HOURS_PER_DAY
        users, sanctions, speech = self.users, self.sanctions, self.speech
        if self.timeline is not None:
            self.timeline.start_of_day(day)  # 0: a timeline's changes take effect
        self.minds.today = day
        sanctions.detentions_and_releases(start)  # 1 (S12)
        if self.groups is not None:
            self.groups.start_of_day(day, sanctions.detained_today)
        sanctions.platform_changes(start)  # 2 (S9)
        real_name = sanctions.real_name_change(day)  # 3 (S13): the rule's first day ...
        if real_name == "start":
            enforcement = np.array([p.spec.real_name_enforcement for p in self.platforms])
            refused = register_users(
                users, sanctions.real_name, enforcement, self.streams.behaviour
            )
            if sanctions.access is not None:  # refusers choose (S9a), at step 3b
                sanctions.access.refused(refused)
            sanctions.exclusions.invalidate()  # everyone may have changed
        elif real_name == "end":  # ... or the day a timeline lifted it
            sanctions.real_name_lifted(start)
        sanctions.returns_and_turnover(day, start)  # 3a (S14)
        if sanctions.access is not None and sanctions.access.decide(day, start):  # 3b (S9a)
            sanctions.exclusions.invalidate()  # homes and states moved
        route = speech.routes(start)  # 4 (S2)
        speech.speak(day, start, route)  # 5 (S1-S5)
        # 5a: the day's excluded posts by reason (S14; the split stream, after the day's
        # benign splits).
        serving = tuple(p.serving(start) for p in self.platforms)
        excluded = self.recorder.counts[day, ..., Outcome.EXCLUDED]
        self.recorder.excluded_by_reason[day] = sanctions.exclusions.attribute(
            excluded, serving, self.streams.split
        )
        if self.moderating:
            # 6 (S6, S7, S7a, S11); beside the other platforms' days, at scale, the day's
            # decay of the climate's memory (S16: the choices that read it are made).
            sanctioned, _ = self.review.run(end, partial(self.minds.decay_climate, day))
            self.orders.settle(day, self.recorder, self.reporting)  # 7 (S10, S11)
            self.police.advance(end)  # 8 (S12)
        else:
            # Without takedown rules no post is reviewed, ordered or reported (the queues
            # and the police stay empty, as tests/test_publishing.py checks): skip them.
            sanctioned = _NO_USERS
        # 9: strikes, closures, leaving (S14), then the day's learning (S16). Authors
        # come in the store's narrowed type, none as int64: int64 always, so each
        # kernel is compiled for one signature.
        sanctioned = sanctioned.astype(np.int64, copy=False)
        struck = sanctioned[self.review.sanctioned_strike] if self.moderating else sanctioned
        if self.groups is not None and self.moderating:
            self.groups.after_review(day, sanctioned, self.review.sanctioned_kind)
        sanctions.strikes_and_exits(start, struck)
        # The evidence pass may run on the second thread while the platforms adapt (it
        # writes only the beliefs, which they do not read); the population row waits.
        self.learn(day, sanctioned)
        # 10: book and adapt the platforms (S8, S9), record the day's rows.
        sanctions_row = sanctions.day_row(serving)
        end_of_day(
            day, self.platforms, speech.active_users(route), self.moderating, self.scenario,
            self.recorder,
        )  # fmt: skip
        # Free the records nothing can act on any more (while the evidence pass may still
        # run: it reads no post), then the population row, which waits for the beliefs.
        self.posts.compact(day)
        record_population(
            day, self.recorder, self.population_counts, self.reporting.reports_filed,
            sanctions_row,
        )  # fmt: skip
        self.minds.learned()
        if self.groups is not None:
            self.groups.end_of_day(day)

    def learn(self, day: int, sanctioned: IntArray) -> None:
        """What users learn from day ``day`` (S16): the day's sanctions (``sanctioned``:
        their authors; their kinds and whether friends saw them from the review), the
        detentions that took effect, the news (the day's expected detentions per kind:
        the chances of the investigations that finished), and the public posts the
        filter held that were approved today (their friends see them now)."""
        kinds, seen = (
            (self.review.sanctioned_kind, self.review.sanctioned_seen)
            if self.moderating
            else (_NO_USERS, _NO_FLAGS)
        )
        approved = self.review.approved_today if self.moderating else _NO_USERS
        public = approved[self.posts.channel[approved] == Channel.PUBLIC]
        self.minds.learn(
            day, sanctioned, kinds, seen,
            np.asarray(self.sanctions.detained_today, dtype=np.int64),
            np.asarray(self.sanctions.detained_kinds_today, dtype=np.int64),
            self.police.take_expected(day * HOURS_PER_DAY),
            self.posts.author[public].astype(np.int64), self.posts.kind[public].astype(np.int64),
            self.threads.submit if threaded(self.users.size) else None,
        )  # fmt: skip

    # ------------------------------------------------------------------------------------
    def build_large_network(self) -> None:
        """Build the social network now if the run will want it (it moderates and
        neighbours' removals or detentions weigh) and it is large enough to be built by
        two threads (:func:`simulator.model.population.large_network`); else it is built on
        first use. The same network either way."""
        perception = self.scenario.population.perception
        weighs = perception.visibility > 0 and (
            perception.friend_evidence_weight > 0
            or perception.friend_detention_weight > 0
            or perception.climate_weight > 0
        )
        users = self.users
        degree = self.scenario.population.mean_degree
        if self.minds.at_risk and weighs and large_network(users.size, degree):
            users.network  # noqa: B018 (drawn on first access)

    def release_working_memory(self) -> None:
        """Free what only the run itself needs (the network, post records, the day
        caches); the recorder, platforms and user states stay for the tables. For the
        paired run: the counterfactual runs without this run's working set."""
        self.users.release_network()
        self.posts = PostStore()
        self.speech.release()
        self.population_counts.clear()
