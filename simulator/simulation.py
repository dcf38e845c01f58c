"""One run of a scenario: the SimPy environment and the day step that drives the model.

Scheduling (docs/model.md, "Scheduling"): a SimPy process advances the population one
day at a time. At the start of day ``d`` (time ``24 d`` hours) it applies what changed
since (detentions, releases, suspensions, exits), draws the day's intended posts with
continuous timestamps, routes them (withheld, excluded, circumvented, published, held),
and advances every review queue and the police queue to the end of the day, event by
event. Regulator audits are SimPy processes at exponential times in between; their
effect on who may post starts at the next day boundary.
"""

from __future__ import annotations

import copy
import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray
from scipy.special import ndtr

from simulator import (
    generator_handles,
    kernels,
    kernels_day,
    publishing,
    review_kernels,
    warmup,
)
from simulator.kinds import (
    KIND_LABELS,
    N_KINDS,
    Action,
    Channel,
    ContentKind,
    EventKind,
    Outcome,
    UserState,
)
from simulator.output.recorder import DELAY_EDGES_HOURS, Recorder
from simulator.output.results import Results
from simulator.platforms import PlatformState, make_platforms
from simulator.population import THREADED_MIN_USERS, Users, large_network, usable_cpus
from simulator.post_store import PostStore
from simulator.progress import DayProgress
from simulator.regulators import HOURS_PER_DAY, AuditView, Police, Regulator
from simulator.review_queue import ArrayReviewQueue
from simulator.rules import perceived_weights
from simulator.scenario import Scenario
from simulator.streams import Streams

IntArray = NDArray[np.int64]
NO_ROUTE = -1  # a user who cannot post anywhere today
#: Each user's route today: platform index, the circumvention row, or NO_ROUTE (int16,
#: as the platform column: 2 bytes a user for an array kept all day).
RouteArray = NDArray[np.int16]
#: Per platform and kind: P(held), P(flag, notice, order), P(any), P(each | at least one).
_Tables = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
_NO_GROUP = np.zeros(0, dtype=np.int32)  # no users: no benign groups
#: A channel's benign groups (Simulation._benign_groups): the share of benign posts in
#: each group, each user's group, each group's weight, and the published groups'
#: running weights per block of users (kernels.benign_groups; for the author search).
_Groups = tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]
_NO_USERS = np.zeros(0, dtype=np.int64)
#: benign_groups' ``previous_group, previous_sums`` when there are none.
_NO_BLOCKS = (np.zeros(0, dtype=np.int32), np.zeros((0, 0)))
#: publish_days' ``drawn_*`` arguments when it is to draw the day's speech itself.
_NOT_DRAWN = (
    np.zeros((0, 0), dtype=np.int64),
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.float64),
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.float32),  # the authors' boldness (Users.boldness is float32)
)
#: population_daily's state columns, in UserState order.
_STATE_COLUMNS = tuple(state.name.lower() for state in UserState)


class Simulation:
    """A scenario in motion. ``Simulation(scenario, seed).run()`` returns a :class:`Recorder`.

    Use :func:`simulator.run` for the paired rules/counterfactual run and tidy tables.
    """

    #: Post records are compacted (:meth:`_compact_posts`) at the end of a day once the
    #: store holds at least this many, and this many times the records found live the
    #: last time: each compaction frees at least half of what it scans.
    compact_min_records = 1 << 16
    compact_ratio = 2.0
    #: Advance the review queues with the compiled day step (False: the Python
    #: reference, :meth:`_review_python`; both give the same run).
    compiled_review = True

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
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.progress = progress
        self.streams = Streams.from_seed(self.seed)
        shares = [p.market_share for p in scenario.platforms]
        if users is None:
            users = Users(scenario.population, shares, self.streams.population)
        self.users = users
        self.platforms: list[PlatformState] = make_platforms(scenario, self.streams.review)
        self.n_platforms = len(self.platforms)
        self.circumvention_row = self.n_platforms
        self.posts = PostStore(
            users=scenario.population.users,
            days=scenario.horizon_days,
            platforms=self.n_platforms,
        )
        self.recorder = Recorder(scenario.horizon_days, self.n_platforms + 1)
        self.env = simpy.Environment()
        # The regulator and the police see the run through narrow views (no cycle).
        audit_view = AuditView(
            env=self.env,
            recorder=self.recorder,
            prohibited_still_up=self.prohibited_still_up,
            duties_missed_between=self.duties_missed_between,
            anonymous_active_users=self.anonymous_active_users,
            remove_platform=self.remove_platform,
        )
        self.regulator = Regulator(
            audit_view, scenario.regulator, scenario.rules, self.streams.regulator
        )
        self.police = Police(scenario.police, self.users, self.streams.police)

        rules = scenario.rules
        perception = scenario.population.perception
        self.moderating = rules.takedown.enabled
        self.prohibited = np.array(rules.takedown.prohibited_mask(), dtype=bool)
        weights = perceived_weights(
            list(self.prohibited), perception.kind_closeness.as_tuple(), rules.takedown.vagueness
        )
        # Perceived weight of each kind on each channel: private messages feel risky only
        # where the rules reach them.
        self.kind_weight = np.zeros((len(Channel), N_KINDS))
        self.kind_weight[Channel.PUBLIC] = weights
        if rules.takedown.private_messages:
            self.kind_weight[Channel.PRIVATE] = weights
        # Which channels the platforms must moderate, and the regulator can see.
        self.in_scope = np.array(
            [self.moderating, self.moderating and rules.takedown.private_messages]
        )
        # Regulator monitoring: prohibited kinds at the stated probability; lawful kinds
        # that look close to the line in proportion to how vague the rules are.
        monitoring = scenario.regulator.monitoring_probability
        self.monitor_probability = np.where(
            self.prohibited,
            monitoring,
            monitoring * rules.takedown.vagueness * np.array(perception.kind_closeness.as_tuple()),
        ) * float(self.moderating)
        self.notice_probability = np.array(scenario.population.notices.probability.as_tuple())
        channel_shares = np.array(
            [1.0 - scenario.population.private_share, scenario.population.private_share]
        )
        self.daily_rate = np.outer(
            channel_shares, self.users.daily_rate_by_kind()
        )  # [channel, kind]
        self.decay = 0.5 ** (1.0 / perception.half_life_days)

        # Orders bucketed by the day they arrive, and issued orders by platform.
        self._orders_by_day: dict[int, list[IntArray]] = defaultdict(list)
        # Legal duties with a deadline (issued orders; notices of prohibited content where
        # the law sets a notice deadline), per platform, and bucketed by deadline day.
        self._duty_deadline: list[list[float]] = [[] for _ in self.platforms]
        self._duty_post: list[list[int]] = [[] for _ in self.platforms]
        self._duties_by_deadline_day: dict[int, list[tuple[int, float, int]]] = defaultdict(list)
        self._group_cache: _Groups | None = None
        self._tables_key: tuple[float, ...] | None = None  # thresholds of _tables
        self._tables: _Tables = (np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
        self._flag_delay_hours = np.array(
            [p.flag_mean_delay_hours for p in scenario.platforms], dtype=np.float64
        )
        self._classifier_mean = np.array(
            [p.classifier_mean.as_tuple() for p in scenario.platforms], dtype=np.float64
        ).reshape(self.n_platforms, N_KINDS)
        self._hold_margin = np.array([[p.hold_margin] for p in scenario.platforms])
        self._flag_margin = np.array([[p.flag_margin] for p in scenario.platforms])
        self._prepublication_filter = np.array(
            [p.prepublication_filter for p in scenario.platforms], dtype=bool
        )
        # Per channel: users notice public posts only; the regulator sees what is in scope.
        none = np.zeros(N_KINDS)
        self._notice_by_channel = np.stack([self.notice_probability, none])
        self._order_by_channel = np.stack(
            [self.monitor_probability if self.in_scope[c] else none for c in Channel]
        )
        self._reviewer_mean = np.array(
            [p.reviewer_mean.as_tuple() for p in scenario.platforms], dtype=np.float64
        ).reshape(self.n_platforms, N_KINDS)
        # Bumped whenever a user's state, platform or access changes (see _states_dirty):
        # keys the caches of today's routes and the daily state counts.
        self._state_version = 0
        self._states_dirty = True
        self._route_cache: tuple[tuple[Any, ...], RouteArray] | None = None
        self._benign_cache: tuple[tuple[Any, ...], Any] | None = None
        self._population_cache: tuple[tuple[Any, ...], Any] | None = None
        self._learn_slot: IntArray | None = None  # learn_day's scratch, one per user
        self._threads: ThreadPoolExecutor | None = None  # see _thread_pool
        self._speech_ahead: tuple[int, Any] | None = None  # see _speech_drawn_for
        self._previous_groups: dict[int, tuple[NDArray[np.int32], NDArray[np.float64]]] = {}
        self._handles: dict[int, tuple[np.random.Generator, NDArray[np.uint64]]] = {}
        self._reports_filed = 0
        self._active_cache: tuple[RouteArray, IntArray] | None = None
        # Record ids of prohibited posts per platform (what audits count), in id order.
        self._prohibited_ids: list[list[IntArray]] = [[] for _ in self.platforms]
        self._live_posts = 0  # records found live by the last compaction
        self._news_today = 0
        self._detained_today: list[int] = []
        self._state_before_detention: dict[int, int] = {}  # only users now detained
        self.wall_seconds = 0.0
        self._speech_drawn_ahead = False  # see _draw_speech_ahead
        self._split_inputs: tuple[list[Any], Any] | None = None  # see _benign_split_inputs
        self._progress: DayProgress | None = None  # the bar, when progress is shown

    @property
    def _states_dirty(self) -> bool:
        """Whether the benign group cache is stale; setting it True also bumps the
        state version that keys the other per-state caches."""
        return self._dirty

    @_states_dirty.setter
    def _states_dirty(self, value: bool) -> None:
        if value:
            self._state_version += 1
        self._dirty = value

    # ------------------------------------------------------------------------------------
    # Driving the run
    def run(self) -> Recorder:
        started = time.perf_counter()
        self._speech_drawn_ahead = self._draw_speech_ahead()
        self.env.process(self._days())
        if self.moderating or self.scenario.rules.real_name.enabled:
            for platform in self.platforms:
                self.env.process(self.regulator.audit_process(platform))
        try:
            self.env.run(until=self.scenario.horizon_days * HOURS_PER_DAY)
        finally:
            self._stop_threads()  # also when a step fails: no thread outlives the run
            if self._progress is not None:
                self._progress.close()
        self._close_run()
        self.wall_seconds = time.perf_counter() - started
        return self.recorder

    def _days(self) -> Generator[simpy.Event, Any, None]:
        days = range(self.scenario.horizon_days)
        if not self.progress:
            # No bar object at all: even a disabled tqdm starts tqdm's monitor thread,
            # and run() forks the counterfactual only from a single-threaded process.
            for day in days:
                self._step_day(day)
                yield self.env.timeout(HOURS_PER_DAY)
            return
        # A time estimate only from days that compiled nothing (simulator.progress).
        self._progress = DayProgress(len(days), f"{self.scenario.name} seed {self.seed}")
        for day in days:
            self._progress.start_day()
            self._step_day(day)
            self._progress.end_day()
            if day == days[-1]:
                self._progress.close()  # (the run ends before this process resumes)
            yield self.env.timeout(HOURS_PER_DAY)

    def _step_day(self, day: int) -> None:
        start = day * HOURS_PER_DAY
        end = start + HOURS_PER_DAY
        self._apply_detentions_and_releases(start)
        self._apply_platform_changes(start)
        real_name = self.scenario.rules.real_name
        if real_name.enabled and day == real_name.start_day:
            self._register_users(start)
        route = self._routes(start)
        self._speak(day, start, route)
        if self.moderating:
            sanctioned, public_removed = self._review(day, start, end)
            self._settle_orders(day, start, end)
            self.police.advance(end)
        else:
            # Without takedown rules no post is reviewed, ordered or reported (the queues
            # and the police stay empty, as tests/test_publishing.py checks): skip them.
            sanctioned = public_removed = _NO_USERS
        self._consequences(start, sanctioned, public_removed)
        self._end_of_day(day, route)
        self._compact_posts(day)

    # ------------------------------------------------------------------------------------
    # Who can post where
    def _routes(self, now: float) -> RouteArray:
        """Each user's route today: platform index, the circumvention row, or NO_ROUTE."""
        users = self.users
        serving_now = tuple(p.serving(now) for p in self.platforms)
        key = (self._state_version, serving_now)
        # Routes change only with states, platforms or service (a no-rules world: never).
        if self._route_cache is not None and self._route_cache[0] == key:
            return self._route_cache[1]
        serving = np.array([*serving_now, True])
        route = np.empty(users.size, dtype=np.int16)
        active_here = np.zeros(self.n_platforms, dtype=np.int64)
        # One compiled pass: active users post at home if it serves, circumventing ones
        # offshore, the rest nowhere; active users per platform counted on the way.
        kernels.fill_routes(
            users.platform, users.state, serving, self.circumvention_row, route, active_here
        )
        route.flags.writeable = False  # shared by the caches keyed on it
        self._route_cache = (key, route)
        self._active_cache = (route, active_here)
        return route

    # ------------------------------------------------------------------------------------
    # Intended speech and its routing
    def _speak(self, day: int, start: float, route: RouteArray) -> None:
        """The day's intended posts, routed and published: one compiled call
        (:func:`simulator.publishing.publish_days`) does the drawing, counting and
        moderation; here its inputs are gathered and its outputs stored."""
        if self._speech_drawn_ahead:
            return  # a world where nothing changes: every day's speech is already drawn
        rec = self.recorder
        tallies = np.zeros((3, N_KINDS), dtype=np.int64)  # held, flagged, notices
        prohibited_hours = np.zeros((self.n_platforms, int(HOURS_PER_DAY) + 1), dtype=np.int64)
        # Common random numbers: the counts, authors and times of intended posts come
        # from the speech stream alone, drawn in the same order whatever the rules.
        drawn = self._speech_drawn_for(day)
        inputs = self._speech_inputs(route, drawn)
        # The next day's draws start now, beside publish_days and the rest of the day
        # (not beside the groups' pass just done: both are memory-bound).
        self._draw_ahead(day + 1)
        publish_days: Any = publishing.publish_days  # (numba's Dispatcher types *args badly)
        published = publish_days(
            day, 1, *inputs, rec.intended, rec.counts,
            tallies, prohibited_hours, *publishing.new_buffers(), self.posts.size,
        )  # fmt: skip
        for row, name in enumerate(("held", "flagged", "notices")):
            rec.tallies[name] += tallies[row]
        for platform in self.platforms:
            self._add_published_prohibited(platform, int(start), prohibited_hours[platform.index])
        self._store_published(day, published)

    def _speech_drawn_for(self, day: int) -> tuple[NDArray[Any], ...]:
        """Day ``day``'s intended posts drawn ahead (:func:`publishing.draw_speech_day`),
        or :data:`_NOT_DRAWN` for publish_days to draw them itself. From
        THREADED_MIN_USERS users on, a second thread draws day ``d + 1``'s while day ``d``
        runs (:meth:`_draw_ahead`): nothing else reads or draws from the speech stream,
        and the sensitive weights never change, so the draws are those day ``d + 1``
        would make."""
        if self.users.size < THREADED_MIN_USERS:
            return _NOT_DRAWN
        pending = self._speech_ahead
        if pending is not None and pending[0] == day:
            drawn: tuple[NDArray[Any], ...] = pending[1].result()
        else:
            drawn = self._draw_speech_day(day)
        self._speech_ahead = None
        return drawn

    def _draw_ahead(self, day: int) -> None:
        """Start drawing ``day``'s speech on the second thread (see _speech_drawn_for)."""
        if self.users.size >= THREADED_MIN_USERS and day < self.scenario.horizon_days:
            ahead = self._thread_pool().submit(self._draw_speech_day, day)
            self._speech_ahead = (day, ahead)

    def _draw_speech_day(self, day: int) -> tuple[NDArray[Any], ...]:
        cumulative, bucket_start = self.users.sensitive_search()
        result: tuple[NDArray[Any], ...] = publishing.draw_speech_day(
            self._handle(self.streams.speech), self.daily_rate, day * HOURS_PER_DAY,
            cumulative, bucket_start, self.users.size, self.users.boldness,
        )  # fmt: skip
        return result

    def _speech_inputs(
        self, route: RouteArray, drawn: tuple[NDArray[Any], ...] | None = None
    ) -> tuple[Any, ...]:
        """The arguments of :func:`publishing.publish_days` from ``speech_handle`` to
        ``moderation_handle``: today's routes, groups, risks and moderation tables, and
        the day's speech if ``drawn`` ahead."""
        users = self.users
        streams = self.streams
        pvals, mass, groups, running = self._benign_split_inputs(route)
        hold, touch, any_touch, conditional = self._moderation_tables()
        cumulative, bucket_start = users.sensitive_search()
        scenario = self.scenario
        notice_deadline = scenario.rules.takedown.notice_deadline_hours
        return (
            self._handle(streams.speech), self.daily_rate, cumulative, bucket_start, users.size,
            *(_NOT_DRAWN if drawn is None else drawn),
            pvals, mass, groups[Channel.PUBLIC], groups[Channel.PRIVATE], users.benign_weights,
            running[Channel.PUBLIC], running[Channel.PRIVATE], kernels.GROUP_BLOCK,
            self.in_scope, self.prohibited, route, users.platform, self.kind_weight,
            users.risk, users.traceable, float(scenario.population.perception.real_name_risk),
            users.boldness, hold, touch, any_touch, conditional,
            float(scenario.population.exits.circumvention_friction),
            float(scenario.regulator.monitoring_mean_delay_hours),
            float(scenario.population.notices.mean_delay_hours),
            self._flag_delay_hours, self._reviewer_mean,
            -1.0 if notice_deadline is None else float(notice_deadline),
            self._handle(streams.split), self._handle(streams.moderation),
        )  # fmt: skip

    def _handle(self, generator: np.random.Generator) -> Any:
        """``generator`` as compiled code takes it (:func:`generator_handles.argument`):
        its handle (a uint64 array), read once per generator object, or the generator
        itself where numba cannot take handles."""
        if not generator_handles.USE_HANDLES:
            return generator
        cached = self._handles.get(id(generator))
        if cached is None or cached[0] is not generator:
            cached = (generator, generator_handles.handle(generator))
            self._handles[id(generator)] = cached
        return cached[1]

    def _benign_split_inputs(
        self, route: RouteArray
    ) -> tuple[
        NDArray[np.float64], NDArray[np.float64], list[NDArray[np.int32]], list[NDArray[np.float64]]
    ]:
        """Per channel: the multinomial's probabilities over the benign outcome groups,
        each group's summed weight, each user's group and the published groups' running
        weights by block; kept while both channels' groups are the ones they were (most
        days of a world where states settle)."""
        if self.users.size == 0:
            n_groups = 3 * self.n_platforms + 1
            nothing = np.zeros((self.n_platforms, 1))
            return (
                np.zeros((2, n_groups)), np.zeros((2, n_groups)), [_NO_GROUP, _NO_GROUP],
                [nothing, nothing],
            )  # fmt: skip
        found = [self._benign_groups(route, channel) for channel in Channel]
        cached = self._split_inputs
        if cached is not None and all(a is b for a, b in zip(cached[0], found, strict=True)):
            return cached[1]
        public, private = found
        pvals, mass = kernels.benign_split(public[0], private[0], public[2], private[2])
        inputs = (pvals, mass, [public[1], private[1]], [public[3], private[3]])
        self._split_inputs = (found, inputs)
        return inputs

    def _draw_speech_ahead(self) -> bool:
        """In a world where nothing the speech depends on can change (no takedown or
        real-name rules, so no sanction, registration, audit, report or detention; and
        no platform that can leave, be suspended or run out of money), draw every day's
        speech now in one compiled call: the same draws in the same order as day by
        day, from streams nothing else uses. Returns whether it did."""
        rules = self.scenario.rules
        if (
            self.moderating
            or rules.real_name.enabled
            or self.users.size == 0
            or not self.scenario.horizon_days
        ):
            return False
        for platform in self.platforms:
            if (
                platform.exited
                or platform.exit_at_hours < math.inf
                or platform.suspended_until_hours > 0.0
                or platform.cash < 0.0
                or platform.spec.revenue_per_user_day < 0.0
            ):
                return False
        route = self._routes(0.0)
        rec = self.recorder
        tallies = np.zeros((3, N_KINDS), dtype=np.int64)  # stay zero: nothing moderated
        prohibited_hours = np.zeros((self.n_platforms, int(HOURS_PER_DAY) + 1), dtype=np.int64)
        publish_days: Any = publishing.publish_days
        publish_days(
            0, self.scenario.horizon_days, *self._speech_inputs(route), rec.intended,
            rec.counts, tallies, prohibited_hours, *publishing.new_buffers(), 0,
        )  # fmt: skip
        return True

    def _store_published(self, day: int, published: tuple[NDArray[Any], ...]) -> None:
        """The day's touched posts into the store; their review items into the queues
        (one submission per platform, in the order made: what one per batch gave); notice
        duties and orders into their books (see :func:`publishing.publish_days`)."""
        (
            post_float, post_int, sub_times, sub_actions, sub_items, sub_offsets,
            prohibited_ids, prohibited_offsets, duty_deadline, duty_platform, duty_post,
            order_chunk, order_post, order_day, state,
        ) = published  # fmt: skip
        n_posts = int(state[0])
        if n_posts == 0:
            return
        self.posts.append(
            time_hours=post_float[0, :n_posts],
            published_hours=post_float[1, :n_posts],
            order_hours=post_float[2, :n_posts],
            reviewer_score=post_float[3, :n_posts],
            author=post_int[0, :n_posts],
            day=day,
            platform=post_int[1, :n_posts],
            kind=post_int[2, :n_posts],
            channel=post_int[3, :n_posts],
        )
        sub_at, prohibited_at = sub_offsets.tolist(), prohibited_offsets.tolist()
        for platform in self.platforms:
            p = platform.index
            if prohibited_at[p + 1] > prohibited_at[p]:
                self._prohibited_ids[p].append(
                    prohibited_ids[prohibited_at[p] : prohibited_at[p + 1]]
                )
            first, last = sub_at[p], sub_at[p + 1]
            if last > first:
                platform.queue.submit(
                    sub_times[first:last], sub_actions[first:last], sub_items[first:last]
                )
        if len(duty_post):
            # Grouped by platform keeping their order (per platform, and per due day,
            # the duties are in the order made, as one at a time gave).
            for p in np.unique(duty_platform).tolist():
                mine = duty_platform == p
                self._add_duties(
                    p, duty_post[mine].tolist(), duty_deadline[mine].tolist(), Action.NOTICE
                )
        if len(order_chunk):
            starts = [0, *(np.flatnonzero(order_chunk[1:] != order_chunk[:-1]) + 1).tolist()]
            for first, last in zip(starts, [*starts[1:], len(order_chunk)], strict=True):
                self._orders_by_day[int(order_day[first])].append(order_post[first:last])

    def _moderation_tables(self) -> _Tables:
        """Per platform and kind: P(held); per channel, platform and kind: P(flag,
        notice, order) of a published post that is not held, P(any of the three), and
        P(each | none before it, at least one from it on) (the benign path draws which,
        given at least one). Kept while the platforms' thresholds stand."""
        key = tuple(platform.threshold for platform in self.platforms)
        if self._tables_key != key:
            thresholds = np.array([[platform.threshold] for platform in self.platforms])
            # exceed_probability (ndtr of mean - line) at every platform's hold and flag
            # lines in one call, elementwise as PlatformState computes them one by one.
            means = self._classifier_mean
            lines = np.stack([thresholds + self._hold_margin, thresholds + self._flag_margin])
            self._tables = publishing.moderation_tables(
                ndtr(means - lines),
                self._prepublication_filter,
                self._notice_by_channel,
                self._order_by_channel,
            )
            self._tables_key = key
        return self._tables

    def _benign_groups(self, route: RouteArray, channel: Channel) -> _Groups:
        """Share of benign intended posts in each (outcome group, platform), the
        per-user group index, each group's summed benign weight and the published
        groups' running weights per block of ``kernels.GROUP_BLOCK`` users (P x
        (blocks + 1): where the benign author search starts). Groups: ``p`` excluded at
        home platform ``p``; ``P + p`` published on ``p``; ``2P + p`` withheld on ``p``;
        ``3P`` offshore."""
        users = self.users
        n_p = self.n_platforms
        weight = self.kind_weight[channel, ContentKind.BENIGN]
        if self._group_cache is not None and not self._states_dirty and weight == 0.0:
            return self._group_cache
        # With a weight, the groups depend on today's routes and risks: the same for both
        # channels when their weights are equal (private messages within the rules).
        key = (route, users.risk, weight, self._state_version)
        cached = self._benign_cache
        if weight > 0.0 and cached is not None and _same_key(cached[0], key):
            return cached[1]
        group = np.empty(users.size, dtype=np.int32)
        mass = np.zeros(3 * n_p + 1)
        n_blocks = kernels.group_blocks(users.size)
        running = np.empty((n_p, n_blocks + 1))
        block_sums = np.empty((n_blocks, 3 * n_p + 1))
        # The channel's last groups and block sums: blocks whose users' groups are the
        # same keep their sums (most blocks, on most days).
        previous_group, previous_sums = self._previous_groups.get(int(channel), _NO_BLOCKS)
        kernels.benign_groups(
            route, users.platform, n_p, float(weight), users.risk, users.traceable,
            float(self.scenario.population.perception.real_name_risk), users.boldness,
            users.benign_weights, group, mass, kernels.GROUP_BLOCK, running,
            block_sums, previous_group, previous_sums,
        )  # fmt: skip
        self._previous_groups[int(channel)] = (group, block_sums)
        shares: NDArray[np.float64] = kernels.group_shares(mass)
        if weight == 0.0:
            # Valid until a user's state, platform or access changes (_states_dirty).
            self._group_cache = (shares, group, mass, running)
            self._states_dirty = False
        else:
            self._benign_cache = (key, (shares, group, mass, running))
        return shares, group, mass, running

    def _add_published_prohibited(
        self, platform: PlatformState, start_hour: int, by_hour: IntArray
    ) -> None:
        """Add published prohibited posts counted by hour from ``start_hour``."""
        seen = np.flatnonzero(by_hour)
        if len(seen) == 0:
            return
        last = int(seen[-1]) + 1
        self._grow_published_by_hour(platform, start_hour + last)
        platform.published_prohibited_by_hour[start_hour : start_hour + last] += by_hour[:last]

    def _grow_published_by_hour(self, platform: PlatformState, needed: int) -> None:
        counts = platform.published_prohibited_by_hour
        if len(counts) < needed:
            grown = np.zeros(max(needed, self.scenario.horizon_days * 24 + 24), dtype=np.int64)
            grown[: len(counts)] = counts
            platform.published_prohibited_by_hour = grown

    def _count_published_prohibited(
        self, platform: PlatformState, times: NDArray[np.float64]
    ) -> None:
        hours = np.floor(times).astype(np.int64)
        if len(hours) == 0:
            return
        self._grow_published_by_hour(platform, int(hours.max()) + 1)
        np.add.at(platform.published_prohibited_by_hour, hours, 1)

    # ------------------------------------------------------------------------------------
    # Review queues
    def _review(self, day: int, start: float, end: float) -> tuple[IntArray, IntArray]:
        """Advance every platform's queue to ``end``. Returns the authors sanctioned today
        (blocked or removed, with repeats) and the authors of public posts removed today.

        Compiled (:mod:`simulator.review_kernels`): per platform one call runs the queue
        with the decisions inline and one does the counting; exactly what
        :meth:`_review_python` (the reference, with :class:`_ReviewDay` as callbacks)
        does. ``compiled_review = False`` (or a platform whose queue is a plain
        :class:`~simulator.review_queue.ReviewQueue`) runs the reference instead."""
        if not self.compiled_review or not all(
            isinstance(platform.queue, ArrayReviewQueue) for platform in self.platforms
        ):
            return self._review_python(day, start, end)
        posts = self.posts
        columns = posts.columns
        rec = self.recorder
        tallies = rec.tallies
        sanctioned: list[IntArray] = []
        public_removed: list[IntArray] = []
        # Each platform's day in one compiled call; the calls share no data (each
        # writes only its own posts' columns), so at scale they run on two threads.
        # Then the bookkeeping, platform by platform in order.
        calls: list[tuple[PlatformState, tuple[Any, ...]]] = []
        for platform in self.platforms:
            queue = platform.queue
            assert isinstance(queue, ArrayReviewQueue)  # checked above
            at, ap, ai = queue.arrivals_before(end)
            if len(at) == 0 and queue.waiting == 0:
                # Nothing to decide today: services under way just end.
                busy = queue.busy
                if busy:
                    finish = np.sort(queue.finish[:busy])
                    running = finish[finish >= end]
                    queue.finish[: len(running)] = running  # sorted: still a heap
                    queue.counters[0] = len(running)
                platform.reviews_today = 0
                platform.removals_today = 0
                continue
            queue.reserve(len(at))
            threshold = review_kernels.comparable_threshold(platform.threshold)
            held_threshold = review_kernels.comparable_threshold(
                platform.threshold + platform.spec.held_review_margin
            )
            args = (
                at, ap, ai, end, queue.servers, queue.finish, queue.wait_priority,
                queue.wait_seq, queue.wait_item, queue.wait_arrival, queue.service,
                queue.counters, threshold, held_threshold, columns["reviewer_score"],
                columns["appeal_score"], columns["removed_hours"], columns["removed_by"],
                columns["published_hours"], columns["blocked_hours"], columns["kind"], N_KINDS,
            )  # fmt: skip
            calls.append((platform, args))
        days: Iterable[tuple[Any, ...]]
        if len(calls) > 1 and self.users.size >= THREADED_MIN_USERS:
            # The other platforms on the pool, the first here; each platform's booking
            # starts as soon as its day is done (booking writes no post column a review
            # day reads).
            pool = self._thread_pool()
            others = [pool.submit(review_kernels.review_day, *args) for _, args in calls[1:]]
            first = review_kernels.review_day(*calls[0][1])
            days = chain([first], (future.result() for future in others))
        else:
            days = [review_kernels.review_day(*args) for _, args in calls]
        for (platform, _), (waits, ids, n_ids, reviewed) in zip(calls, days, strict=True):
            platform.queue_served += len(waits)
            platform.queue_wait_hours += float(waits.sum())
            tallies["reviews"] += reviewed
            platform.reviews_today = int(reviewed.sum())
            n_removed, n_rejected = int(n_ids[0]), int(n_ids[2])
            platform.removals_today = n_removed + n_rejected
            if not (n_ids.any()):
                continue
            authors, public, beyond, reportable = review_kernels.book_review(
                ids, n_ids, columns["day"], columns["platform"], columns["channel"],
                columns["kind"], columns["author"], columns["time_hours"],
                columns["published_hours"], columns["removed_hours"], columns["removed_by"],
                self.prohibited, rec.counts, rec.delay_counts, DELAY_EDGES_HOURS,
                tallies["reinstated"], tallies["notices_removed"],
                platform.published_prohibited_by_hour,
            )  # fmt: skip
            if len(beyond):
                self._count_published_prohibited(platform, beyond)
            if len(authors):
                sanctioned.append(authors)
            if n_removed:
                removed = ids[review_kernels.REMOVED_ROW, :n_removed]
                public_removed.append(public)
                self._report_removals(platform, removed, reportable)
                self._file_appeals(platform, removed, end)
        empty = np.zeros(0, dtype=np.int64)
        return (
            np.concatenate(sanctioned) if sanctioned else empty,
            np.concatenate(public_removed) if public_removed else empty,
        )

    def _review_python(self, day: int, start: float, end: float) -> tuple[IntArray, IntArray]:
        """:meth:`_review` in Python and numpy: the queue's event loop calling
        :class:`_ReviewDay` as each item starts (the reference the kernels must match)."""
        posts = self.posts
        rec = self.recorder
        sanctioned: list[IntArray] = []
        public_removed: list[IntArray] = []
        for platform in self.platforms:
            day_review = _ReviewDay(
                posts, platform.threshold, platform.threshold + platform.spec.held_review_margin
            )
            served = platform.queue.run_until(end, day_review.serve, day_review.serve_many)
            platform.queue_served += len(served)
            platform.queue_wait_hours += float((served.start_hours - served.arrival_hours).sum())
            removed, approved = day_review.removed, day_review.approved
            if day_review.reinstated:
                ids = np.asarray(day_review.reinstated, dtype=np.int64)
                self._move_posts(ids, Outcome.REMOVED, Outcome.SURVIVING)
                rec.tally("reinstated", posts.kind[ids])
            rejected, reviewed_kinds = day_review.rejected, day_review.reviewed_kinds
            rec.tally("reviews", np.asarray(reviewed_kinds, dtype=np.int64))
            platform.reviews_today = len(reviewed_kinds)
            if approved:
                ids = np.asarray(approved, dtype=np.int64)
                self._move_posts(ids, Outcome.BLOCKED, Outcome.SURVIVING)
                prohibited = self.prohibited[posts.kind[ids]]
                self._count_published_prohibited(platform, posts.published_hours[ids[prohibited]])
            if rejected:
                sanctioned.append(posts.author[np.asarray(rejected, dtype=np.int64)])
            if removed:
                ids = np.asarray(removed, dtype=np.int64)
                self._move_posts(ids, Outcome.SURVIVING, Outcome.REMOVED)
                rec.add_delays(posts.kind[ids], posts.removed_hours[ids] - posts.time_hours[ids])
                notice_removed = ids[posts.removed_by[ids] == Action.NOTICE]
                rec.tally("notices_removed", posts.kind[notice_removed])
                sanctioned.append(posts.author[ids])
                public = posts.channel[ids] == Channel.PUBLIC
                public_removed.append(posts.author[ids[public]])
                self._report_removals(platform, ids)
                self._file_appeals(platform, ids, end)
            platform.removals_today = len(removed) + len(rejected)
        empty = np.zeros(0, dtype=np.int64)
        return (
            np.concatenate(sanctioned) if sanctioned else empty,
            np.concatenate(public_removed) if public_removed else empty,
        )

    def _move_posts(self, ids: IntArray, source: Outcome, target: Outcome) -> None:
        """Posts ``ids`` change fate: one count moves in each post's own daily cell."""
        posts = self.posts
        self.recorder.move(
            posts.day[ids], posts.platform[ids], posts.channel[ids], posts.kind[ids], source, target
        )

    def _file_appeals(self, platform: PlatformState, ids: IntArray, end: float) -> None:
        """Some authors contest their removal. Appeals reach the queue no earlier than the
        end of the day being processed (the queue has already run to it)."""
        appeals = self.scenario.rules.appeals
        if not appeals.enabled:
            return
        rng = self.streams.moderation
        posts = self.posts
        # A regulator's order is not the platform's decision to revisit: only the
        # platform's own removals can be appealed.
        ids = ids[posts.removed_by[ids] != Action.ORDER]
        chosen = ids[rng.random(len(ids)) < appeals.probability]
        if len(chosen) == 0:
            return
        delay = rng.exponential(appeals.mean_delay_hours, len(chosen))
        arrival = np.maximum(posts.removed_hours[chosen] + delay, end)
        means = np.array(platform.spec.reviewer_mean.as_tuple())
        posts.appeal_score[chosen] = means[posts.kind[chosen]] + rng.standard_normal(len(chosen))
        self.recorder.tally("appeals", posts.kind[chosen])
        items = chosen * Action.COUNT + Action.APPEAL
        platform.queue.submit(arrival, np.full(len(chosen), Action.APPEAL, np.int64), items)

    def _report_removals(
        self, platform: PlatformState, ids: IntArray, prohibited: IntArray | None = None
    ) -> None:
        """Proactive reporting: removals of prohibited posts go to the police.
        ``prohibited``: those of ``ids`` that qualify, in order, if already known."""
        if self.scenario.rules.reporting.mode != "proactive":
            return
        posts = self.posts
        if prohibited is None:
            # Removals on a regulator's order were reported with the order's data request.
            ids = ids[posts.removed_by[ids] != Action.ORDER]
            prohibited = ids[self.prohibited[posts.kind[ids]]]
        chosen = prohibited[
            self.streams.moderation.random(len(prohibited)) < platform.spec.report_probability
        ]
        self._file_reports(
            platform, posts.removed_hours[chosen], posts.author[chosen], posts.kind[chosen]
        )

    def _file_reports(
        self,
        platform: PlatformState,
        times: NDArray[np.float64],
        authors: IntArray,
        kinds: NDArray[np.int8],
    ) -> None:
        if len(authors) == 0:
            return
        self.users.ever_reported[authors] = True
        self._reports_filed += len(authors)  # keys the daily population counts
        reports = self.recorder.tallies["reports"]
        reports += np.bincount(kinds, minlength=len(reports))
        labels = [KIND_LABELS[kind] for kind in kinds.tolist()]
        self.recorder.events_batch(times, EventKind.REPORT, platform.name, authors, labels)
        self.police.report(times, authors, kinds)

    def _settle_orders(self, day: int, start: float, end: float) -> None:
        """Orders arriving today are issued if their post is still up; issued orders whose
        deadline falls today are checked against it."""
        posts = self.posts
        chunks = self._orders_by_day.pop(day, None)
        if chunks:
            deadline_hours = self.scenario.rules.takedown.deadline_hours
            reports = self.scenario.rules.reporting.mode in ("on_request", "proactive")
            removed_hours, order_hours = posts.removed_hours, posts.order_hours
            rec = self.recorder
            orders = rec.tallies["orders"]
            for ids in chunks:
                arrivals = order_hours[ids]
                keep = removed_hours[ids] > arrivals
                issued = ids[keep]
                if len(issued) == 0:
                    continue
                arrivals = arrivals[keep]
                kinds = posts.kind[issued]
                authors = posts.author[issued]
                orders += np.bincount(kinds, minlength=len(orders))
                platform = self.platforms[int(posts.platform[issued[0]])]
                name = platform.name
                deadlines = (arrivals + deadline_hours).tolist()
                labels = [KIND_LABELS[kind] for kind in kinds.tolist()]
                details = [f"deadline={due:g}h" for due in deadlines]
                rec.events_batch(arrivals, EventKind.ORDER, name, authors, labels, details)
                self._add_duties(platform.index, issued.tolist(), deadlines, Action.ORDER)
                if reports:
                    # An order comes with a request for the author's data.
                    self._file_reports(platform, arrivals, authors, kinds)
        due = self._duties_by_deadline_day.pop(day, [])
        if due:
            # Checked together; the few missed ones recorded in the order they were made.
            due_posts = np.array([duty[0] for duty in due], dtype=np.int64)
            due_deadlines = np.array([duty[1] for duty in due], dtype=np.float64)
            missed = np.flatnonzero(posts.removed_hours[due_posts] > due_deadlines).tolist()
            for i in missed:
                post, deadline, action = due[i]
                order = action == Action.ORDER
                tally = "orders_missed" if order else "notices_missed"
                self.recorder.tally(tally, int(posts.kind[post]))
                self.recorder.event(
                    deadline,
                    EventKind.ORDER_MISSED if order else EventKind.NOTICE_MISSED,
                    self.platforms[int(posts.platform[post])].name,
                    int(posts.author[post]),
                    _label(posts.kind[post]),
                )

    def _add_duties(self, p: int, posts: list[int], deadlines: list[float], action: int) -> None:
        """Duties (``action``: an order or a notice) of platform ``p`` to take ``posts``
        down by ``deadlines`` (hours), filed by the day each deadline falls in."""
        self._duty_deadline[p].extend(deadlines)
        self._duty_post[p].extend(posts)
        by_day = self._duties_by_deadline_day
        for post, deadline in zip(posts, deadlines, strict=True):
            by_day[math.floor(deadline / HOURS_PER_DAY)].append((post, deadline, action))

    # ------------------------------------------------------------------------------------
    # Freeing post records
    def _compact_posts(self, day: int) -> None:
        """Free the post records nothing can act on any more, and renumber the rest
        wherever they are held (the order of ids is kept, so no output changes).

        After day ``day``'s step a record is live while a review item of it waits in a
        queue (held, flagged, noticed, ordered or appealed: every later change to a
        record is made by serving one; appeals are filed on the day of the removal), an
        order of it is still to arrive, a duty of it awaits its deadline check or the
        next audit's count of missed deadlines, or, if prohibited, an audit from now on
        may count it as still up (published in the earliest window such an audit reads).
        """
        posts = self.posts
        if posts.size < max(self.compact_min_records, self.compact_ratio * self._live_posts):
            return
        count = Action.COUNT
        held = [platform.queue.items() // count for platform in self.platforms]
        for chunks in self._orders_by_day.values():
            held.extend(chunks)
        for duties in self._duties_by_deadline_day.values():
            held.append(np.array([post for post, _, _ in duties], dtype=np.int64))
        for platform in self.platforms:
            # An audit reads the duties whose deadline falls after the last audit.
            deadlines = np.asarray(self._duty_deadline[platform.index], dtype=np.float64)
            unread = deadlines > platform.last_audit_hours
            duty_posts = np.asarray(self._duty_post[platform.index], dtype=np.int64)[unread]
            self._duty_deadline[platform.index] = deadlines[unread].tolist()
            self._duty_post[platform.index] = duty_posts.tolist()
            held.append(duty_posts)
        # Audits from now on (at or after the start of ``day``) count prohibited posts
        # published at or after this hour; a post never published is never counted.
        window = self.scenario.regulator.audit_window_days * HOURS_PER_DAY
        first_hour = math.floor(max(0.0, day * HOURS_PER_DAY - window))
        for chunks in self._prohibited_ids:
            if chunks:
                chunks[:] = [np.concatenate(chunks)]
                published = posts.published_hours[chunks[0]]
                held.append(chunks[0][(published >= first_hour) & (published < math.inf)])
        # A mark per record, not np.unique of the references: no sort.
        marked = np.zeros(posts.size, dtype=bool)
        for ids in held:
            marked[ids] = True
        live = np.flatnonzero(marked)
        self._live_posts = len(live)
        if len(live) == posts.size:
            return
        posts.keep(live)
        new_id = np.cumsum(marked) - 1  # of each live record (rank among the live)

        def renumber(ids: IntArray) -> IntArray:
            return _renumber(marked, new_id, ids)

        for platform in self.platforms:
            platform.queue.map_items(lambda items: renumber(items // count) * count + items % count)
        for order_day, chunks in self._orders_by_day.items():
            self._orders_by_day[order_day] = [renumber(ids) for ids in chunks]
        for due_day, duties in self._duties_by_deadline_day.items():
            posts_due = renumber(np.array([post for post, _, _ in duties], dtype=np.int64))
            self._duties_by_deadline_day[due_day] = [
                (post, deadline, action)
                for post, (_, deadline, action) in zip(posts_due.tolist(), duties, strict=True)
            ]
        for platform in self.platforms:
            duty_posts = np.asarray(self._duty_post[platform.index], dtype=np.int64)
            self._duty_post[platform.index] = renumber(duty_posts).tolist()
        for chunks in self._prohibited_ids:
            if chunks:
                # Prohibited records freed are ones no audit will count: drop them too.
                chunks[:] = [new_id[chunks[0][marked[chunks[0]]]]]

    # ------------------------------------------------------------------------------------
    # Queries for the regulator
    def prohibited_still_up(self, platform: PlatformState, since: float, now: float) -> int:
        """Prohibited posts published on ``platform`` in [since, now] and still up at ``now``."""
        counts = platform.published_prohibited_by_hour
        first, last = int(math.floor(since)), int(math.floor(now))
        published = int(counts[first : last + 1].sum()) if len(counts) else 0
        posts = self.posts
        # Only this platform's prohibited records, not every record of the run.
        chunks = self._prohibited_ids[platform.index]
        if len(chunks) > 1:
            chunks[:] = [np.concatenate(chunks)]
        if not chunks:
            return max(0, published)
        ids = chunks[0]
        pub = posts.published_hours[ids]
        mask = (pub >= first) & (pub < last + 1) & (posts.removed_hours[ids] <= now)
        return max(0, published - int(mask.sum()))

    def duties_missed_between(self, platform: PlatformState, after: float, until: float) -> int:
        """Orders and notice duties whose deadline fell in (after, until] unmet by then."""
        deadlines = np.asarray(self._duty_deadline[platform.index])
        if len(deadlines) == 0:
            return 0
        posts = np.asarray(self._duty_post[platform.index], dtype=np.int64)
        due = (deadlines > after) & (deadlines <= until)
        return int((self.posts.removed_hours[posts[due]] > deadlines[due]).sum())

    def anonymous_active_users(self, platform: PlatformState) -> int:
        users = self.users
        mask = (
            (users.platform == platform.index)
            & (users.state == UserState.ACTIVE)
            & ~users.traceable
        )
        return int(mask.sum())

    def remove_platform(self, platform: PlatformState, at_hours: float, reason: str) -> None:
        """The platform leaves the market from ``at_hours`` (licence revoked, bankrupt)."""
        if platform.exit_at_hours <= at_hours:
            return
        platform.exit_at_hours = at_hours
        platform.exit_reason = reason

    # ------------------------------------------------------------------------------------
    # State changes between days
    def _apply_detentions_and_releases(self, now: float) -> None:
        users = self.users
        rec = self.recorder
        self._news_today = 0
        self._detained_today = []
        # The users now detained are exactly the keys of _state_before_detention (in
        # ascending order, as a scan of the states would list them): no O(users) scan.
        before = self._state_before_detention
        if before:
            release = users.release_hours
            released = [u for u in sorted(before) if release[u] <= now]
            if released:
                # Back to what they were before: detention does not restore an account
                # that was closed, nor register someone who refused.
                users.state[released] = [before.pop(u) for u in released]
                for user in released:
                    del release[user]
                for user in released:
                    rec.event(now, EventKind.RELEASE, self._platform_name(user), user)
                self._states_dirty = True
        days = self.scenario.police.detention_days
        for when, user, kind in self.police.take_due(now):
            if users.state[user] == UserState.DETAINED:
                continue
            self._state_before_detention[user] = int(users.state[user])
            users.state[user] = UserState.DETAINED
            users.ever_detained[user] = True
            users.release_hours[int(user)] = when + days * HOURS_PER_DAY
            users.risk[user] = 1.0
            self.recorder.tally("detentions", kind)
            rec.event(when, EventKind.DETENTION, self._platform_name(user), user, _label(kind))
            self._news_today += 1
            self._detained_today.append(user)
            self._states_dirty = True

    def _platform_name(self, user: int) -> str:
        return self.platforms[int(self.users.platform[user])].name

    def _apply_platform_changes(self, now: float) -> None:
        for platform in self.platforms:
            if not platform.exited and (now >= platform.exit_at_hours or platform.cash < 0.0):
                if platform.cash < 0.0 and not platform.exit_reason:
                    platform.exit_reason = "bankrupt"
                platform.exited = True
                platform.exit_at_hours = min(platform.exit_at_hours, now)
                self.recorder.event(now, EventKind.EXIT, platform.name, detail=platform.exit_reason)
                self._migrate_users(platform)
                self._states_dirty = True
            suspended = not platform.exited and now < platform.suspended_until_hours
            if platform.suspended_now != suspended:
                self._states_dirty = True
                if platform.suspended_now:
                    self.recorder.event(now, EventKind.REINSTATEMENT, platform.name)
            platform.suspended_now = suspended

    def _migrate_users(self, gone: PlatformState) -> None:
        """Users of a platform that left move to the others, by market share."""
        users = self.users
        remaining = [p for p in self.platforms if not p.exited]
        movers = np.flatnonzero(users.platform == gone.index)
        if not remaining or len(movers) == 0:
            return
        shares = np.array([p.spec.market_share for p in remaining])
        shares = (
            shares / shares.sum()
            if shares.sum() > 0
            else np.full(len(remaining), 1 / len(remaining))
        )
        choice = self.streams.behaviour.choice(len(remaining), size=len(movers), p=shares)
        users.platform[movers] = np.array([p.index for p in remaining], dtype=np.int16)[choice]
        self._states_dirty = True

    def _register_users(self, now: float) -> None:
        """Real-name registration: most register and become traceable; refusers whom the
        platform enforces against lose access or turn to circumvention."""
        users = self.users
        rule = self.scenario.rules.real_name
        rng = self.streams.behaviour
        active = np.flatnonzero(users.state == UserState.ACTIVE)
        refuses = rng.random(len(active)) < rule.refusal_probability
        enforcement = np.array([p.spec.real_name_enforcement for p in self.platforms])
        enforced = rng.random(len(active)) < enforcement[users.platform[active]]
        circumvents = rng.random(len(active)) < rule.circumvent_probability
        users.traceable[active[~refuses]] = True
        locked_out = active[refuses & enforced]
        users.state[locked_out[circumvents[refuses & enforced]]] = UserState.CIRCUMVENTING
        users.state[locked_out[~circumvents[refuses & enforced]]] = UserState.EXCLUDED
        self._states_dirty = True

    def _consequences(self, now: float, sanctioned: IntArray, public_removed: IntArray) -> None:
        """Strikes, closed accounts, leaving and circumventing after today's sanctions, and
        the day's perceived-risk update from what users saw."""
        users = self.users
        exits = self.scenario.population.exits
        perception = self.scenario.population.perception
        rng = self.streams.behaviour
        n = users.size
        # Authors come in the post store's narrowed type, none as int64: int64 always,
        # so each kernel below is compiled for one signature.
        sanctioned = sanctioned.astype(np.int64, copy=False)
        public_removed = public_removed.astype(np.int64, copy=False)
        if len(sanctioned):
            # One compiled pass each: strikes and closed accounts, then leaving and
            # circumventing (as np.unique and the masks they replaced).
            limits = np.array([p.spec.strikes_to_close for p in self.platforms], dtype=np.int64)
            closed, still = kernels_day.apply_strikes(
                sanctioned, users.strikes, users.state, users.platform, limits
            )
            for user in closed.tolist():
                self.recorder.event(
                    now + HOURS_PER_DAY * (1 - 1e-9),  # at the end of the day
                    EventKind.ACCOUNT_CLOSED,
                    self._platform_name(user),
                    user,
                )
            draw = rng.random(len(still))
            exited = kernels_day.apply_exits(
                still,
                draw,
                exits.leave_probability_on_sanction,
                exits.leave_probability_on_sanction + exits.circumvent_probability_on_sanction,
                users.state,
            )
            if len(closed) or exited:
                # Strikes alone key no cache: the routes and counts stay valid.
                self._states_dirty = True
        if not self.moderating and self._news_today == 0:
            return
        visibility = perception.visibility
        news = visibility * perception.news_weight * self._news_today * 1e5 / max(n, 1)
        none = np.zeros(0, dtype=np.int64)
        removed = public_removed if perception.neighbour_removal_weight > 0 else none
        detained = (
            np.asarray(self._detained_today, dtype=np.int64)
            if self._detained_today and perception.neighbour_detention_weight > 0
            else none
        )
        if len(removed) or len(detained):
            network = users.network  # drawn on first use: only when a term needs it
            indptr, indices = network.indptr, network.indices
        else:
            indptr, indices = np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32)
        # rules.update_risk and the day's population counts in one compiled pass (the
        # counts are those _end_of_day would make of the new risks: cached for it).
        if self._learn_slot is None:
            self._learn_slot = np.zeros(n, dtype=np.int32)
        users.risk, counts, mean_risk = kernels_day.learn_day(
            users.risk, users.state, self.decay, news,
            sanctioned, visibility * perception.own_sanction_weight,
            indptr, indices,
            removed, visibility * perception.neighbour_removal_weight,
            detained, visibility * perception.neighbour_detention_weight,
            self._learn_slot, users.traceable, users.ever_reported, users.ever_detained,
        )  # fmt: skip
        self._population_cache = (self._population_key(), _population_row(counts, mean_risk))

    def _end_of_day(self, day: int, route: RouteArray) -> None:
        users = self.users
        if self._active_cache is not None and self._active_cache[0] is route:
            active_here = self._active_cache[1]
        else:
            active_here = np.bincount(
                route[(route >= 0) & (route < self.n_platforms)], minlength=self.n_platforms
            )
            self._active_cache = (route, active_here)
        for platform in self.platforms:
            platform.active_users = int(active_here[platform.index])
            cost = platform.book_day(staffed=self.moderating) if not platform.exited else 0.0
            if self.moderating and not platform.exited:
                platform.adapt(self.scenario)
            self.recorder.platform_series.append(
                {
                    "day": day,
                    "platform": platform.name,
                    "serving": int(platform.serving(day * HOURS_PER_DAY)),
                    "active_users": platform.active_users,
                    "strictness": platform.strictness if self.moderating else 0.0,
                    "penalty_level": platform.penalty_level,
                    "queue_waiting": platform.queue.waiting,
                    "reviews": platform.reviews_today,
                    "removals": platform.removals_today,
                    "cash": platform.cash,
                    "fines_paid": platform.fines_paid,
                    "moderation_cost": cost,
                }
            )
        # One compiled pass: users per state, traceable / ever reported / ever detained,
        # and the mean risk of active users. They change only with states (the version
        # also counts registrations and detentions), reports, or risks (replaced, not
        # written in place except on detention): a no-rules world counts once, and a
        # day that learned risks counted them then (_consequences).
        key = self._population_key()
        cached = self._population_cache
        if cached is not None and _same_key(cached[0], key):
            row = cached[1]
        else:
            counts, mean_risk = kernels.population_counts(
                users.state, users.risk, users.traceable, users.ever_reported, users.ever_detained
            )
            row = _population_row(counts, mean_risk)
            self._population_cache = (key, row)
        self.recorder.population_series.append({"day": day, **row})

    def build_large_network(self) -> None:
        """Build the social network now if the run will want it (it moderates and
        neighbours' removals or detentions weigh) and it is large enough to be built by
        two threads (:func:`simulator.population.large_network`); else it is built on
        first use. The same network either way."""
        perception = self.scenario.population.perception
        weighs = perception.neighbour_removal_weight > 0 or (
            perception.neighbour_detention_weight > 0
        )
        users = self.users
        degree = self.scenario.population.mean_degree
        if self.moderating and weighs and large_network(users.size, degree):
            users.network  # noqa: B018 (drawn on first access)

    def _population_key(self) -> tuple[Any, ...]:
        """What the population counts depend on (see :meth:`_end_of_day`)."""
        return (self._state_version, self._reports_filed, self.users.risk)

    def release_working_memory(self) -> None:
        """Free what only the run itself needs (the network, post records, the day
        caches); the recorder, platforms and user states stay for the tables. For the
        paired run: the counterfactual runs without this run's working set."""
        self.users.release_network()
        self.posts = PostStore()
        self._route_cache = self._benign_cache = self._population_cache = None
        self._group_cache = self._active_cache = self._split_inputs = None
        self._learn_slot = None
        self._previous_groups = {}

    def _thread_pool(self) -> ThreadPoolExecutor:
        """Two threads for the day's independent compiled steps (started on first use:
        after run() forked the counterfactual; joined when the run closes)."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="censim-day")
        return self._threads

    def _stop_threads(self) -> None:
        """Join the day's second thread, if started: no thread outlives the run (a later
        run in this process may fork, which wants one thread)."""
        self._speech_ahead = None  # (none is pending after the last day)
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

    def _close_run(self) -> None:
        # Orders whose deadline fell inside the horizon were settled on that day; later
        # deadlines are not yet due. Events are kept in time order for the tables.
        self.recorder.event_columns()


class _ReviewDay:
    """The decisions reviewers take while a queue advances: called once per service start.

    A held post is blocked or approved; a published post is removed if an order demands
    it or its reviewer score exceeds today's threshold. A post already down is dropped
    without using a reviewer's time.
    """

    def __init__(self, posts: PostStore, threshold: float, held_threshold: float) -> None:
        self.threshold = threshold
        self.held_threshold = held_threshold
        self.score = posts.reviewer_score
        self.removed_hours = posts.removed_hours
        self.removed_by = posts.removed_by
        self.published_hours = posts.published_hours
        self.blocked_hours = posts.blocked_hours
        self.kinds = posts.kind
        self.appeal_score = posts.appeal_score
        self.removed: list[int] = []
        self.reinstated: list[int] = []
        self.approved: list[int] = []
        self.rejected: list[int] = []
        self.reviewed_kinds: list[int] = []

    def serve(self, item: int, begin: float, finish: float) -> bool:
        post, action = divmod(item, Action.COUNT)
        if action == Action.HOLD:
            if self.score[post] > self.held_threshold:
                self.blocked_hours[post] = finish
                self.rejected.append(post)
            else:
                self.published_hours[post] = finish
                self.approved.append(post)
            self.reviewed_kinds.append(self.kinds[post])
            return True
        removed_at = self.removed_hours[post]
        if action == Action.APPEAL:
            if removed_at == math.inf:
                return False  # already back up
            self.reviewed_kinds.append(self.kinds[post])
            if self.appeal_score[post] <= self.threshold:
                # Reinstated. The post counts as surviving; its removal delay stays on record.
                self.removed_hours[post] = math.inf
                self.removed_by[post] = -1
                self.reinstated.append(post)
            return True
        if removed_at <= begin:
            return False  # already down: nothing to review
        self.reviewed_kinds.append(self.kinds[post])
        removes = action == Action.ORDER or self.score[post] > self.threshold
        if removes and finish < removed_at:
            if removed_at == math.inf:
                self.removed.append(post)
            self.removed_hours[post] = finish
            self.removed_by[post] = action
        return True

    def serve_many(
        self, items: IntArray, begin: NDArray[np.float64], finish: NDArray[np.float64]
    ) -> NDArray[np.bool_]:
        """:meth:`serve` for many items at once, with the same effect as calling it on
        each in order. Items of a post that has no other item here (and is not appealed)
        are decided together; the others go through :meth:`serve` one by one (they only
        interact with items of their own post). ``removed`` keeps serve's order, which
        later random draws follow."""
        post, action = np.divmod(items, Action.COUNT)
        n = len(items)
        keep = np.ones(n, dtype=bool)
        reviewed = np.zeros(n, dtype=bool)
        first_removal = np.zeros(n, dtype=bool)
        by_post = np.argsort(post, kind="stable")
        repeated = np.zeros(n, dtype=bool)
        same = post[by_post][1:] == post[by_post][:-1]
        repeated[by_post[1:][same]] = True
        repeated[by_post[:-1][same]] = True
        one_by_one = repeated | (action == Action.APPEAL)
        hold = ~one_by_one & (action == Action.HOLD)
        if hold.any():
            index = np.flatnonzero(hold)
            held = post[index]
            # The threshold serve() applies to held posts.
            held_threshold = self.held_threshold
            rejected = self.score[held] > held_threshold
            self.blocked_hours[held[rejected]] = finish[index[rejected]]
            self.published_hours[held[~rejected]] = finish[index[~rejected]]
            self.rejected.extend(held[rejected].tolist())
            self.approved.extend(held[~rejected].tolist())
            reviewed[index] = True
        other = ~one_by_one & ~hold
        if other.any():
            index = np.flatnonzero(other)
            ids = post[index]
            removed_at = self.removed_hours[ids]
            down = removed_at <= begin[index]  # already down: nothing to review
            keep[index[down]] = False
            reviewed[index[~down]] = True
            removes = (action[index] == Action.ORDER) | (self.score[ids] > self.threshold)
            removes &= ~down & (finish[index] < removed_at)
            first_removal[index[removes & (removed_at == math.inf)]] = True
            self.removed_hours[ids[removes]] = finish[index[removes]]
            self.removed_by[ids[removes]] = action[index[removes]]
        if one_by_one.any():
            removed, self.removed = self.removed, []
            for i in np.flatnonzero(one_by_one).tolist():
                before = len(self.removed)
                keep[i] = self.serve(int(items[i]), float(begin[i]), float(finish[i]))
                first_removal[i] = len(self.removed) > before
            self.removed = removed
        self.removed.extend(post[first_removal].tolist())
        self.reviewed_kinds.extend(self.kinds[post[reviewed]].tolist())
        return keep


def _renumber(marked: NDArray[np.bool_], new_id: IntArray, ids: IntArray) -> IntArray:
    """New ids of records ``ids`` once only the ``marked`` ones are kept (``new_id``:
    their ranks among those). A record not kept is an error: a record still referenced
    was freed (a bug)."""
    if not marked[ids].all():
        raise AssertionError(f"post records still referenced were freed: {ids[~marked[ids]][:5]}")
    return new_id[ids]


def _same_key(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Cache keys: arrays compare by identity, everything else by value."""
    return all(
        (a is b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else a == b
        for a, b in zip(old, new, strict=True)
    )


def _population_row(counts: IntArray, mean_risk: float) -> dict[str, Any]:
    """The population series' columns from :func:`kernels.population_counts`' results."""
    values = counts.tolist()
    n_states = len(UserState)
    return {
        "mean_risk": float(mean_risk),
        **dict(zip(_STATE_COLUMNS, values[:n_states], strict=True)),
        "traceable": values[n_states],
        "reported_ever": values[n_states + 1],
        "detained_ever": values[n_states + 2],
    }


def _label(kind: int | np.integer) -> str:
    return ContentKind(int(kind)).label


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    days: int | None = None,
    replication: int = 0,
    progress: bool = False,
    parallel: bool | None = None,
) -> Results:
    """Run ``scenario`` and its no-rules counterfactual on the same random streams.

    ``seed`` defaults to the scenario's; ``days`` overrides its horizon. ``parallel``
    runs the counterfactual in a second process while the rules run here (``None``:
    when the run is large and a second CPU is free, see :func:`_parallel_by_default`);
    the results are the same either way. Returns :class:`~simulator.output.results.Results`
    with tidy tables and the summary numbers.
    """
    from simulator.output.metrics import daily_table, delays_table, events_table, summarise
    from simulator.output.results import environment_info

    if days is not None:
        scenario = scenario.model_copy(update={"horizon_days": int(days)})
        scenario = type(scenario).model_validate(scenario.model_dump())
    seed = scenario.seed if seed is None else int(seed)
    started = time.perf_counter()
    if multiprocessing_main_process():
        # A machine's first run: the kernels this run calls compiled before it starts,
        # on two CPUs where there are (nothing to do once they are cached on disk).
        warmup.compile_ahead(scenario.population.users, scenario.rules.takedown.enabled)
    if parallel is None:
        parallel = _parallel_by_default(scenario)
    with_rules = Simulation(scenario, seed, progress=progress)
    if parallel:
        # A large network is built by two threads: before the fork, while the second
        # CPU is not yet running the counterfactual.
        with_rules.build_large_network()
    pending = _start_counterfactual(scenario, seed) if parallel else None
    # A counterfactual run here, after the rules run, starts from this copy of the
    # population taken before it (cheaper than drawing it again; not for large runs,
    # where the copy would raise the peak memory).
    initial_users = (
        copy.deepcopy(with_rules.users)
        if pending is None and scenario.population.users <= SHARED_POPULATION_MAX_USERS
        else None
    )
    with_rules.run()
    with_rules.release_working_memory()
    counterfactual = _finish_counterfactual(pending, scenario, seed, initial_users)
    names = [p.name for p in scenario.platforms] + ["circumvention"]
    platforms = [
        {
            "platform": p.name,
            "fines_paid": p.fines_paid,
            "moderation_cost": p.moderation_cost,
            "final_strictness": p.strictness if with_rules.moderating else 0.0,
            "mean_strictness": float(
                np.mean(
                    [
                        row["strictness"]
                        for row in with_rules.recorder.platform_series
                        if row["platform"] == p.name
                    ]
                )
            ),
            "suspensions": p.suspensions,
            "review_items_served": p.queue_served,
            "mean_queue_wait_hours": p.queue_wait_hours / p.queue_served if p.queue_served else 0.0,
            "penalty_level": p.penalty_level,
            "exited": p.exited,
            "exit_reason": p.exit_reason,
            "cash": p.cash,
        }
        for p in with_rules.platforms
    ]
    users = with_rules.users.count_states()
    users["traceable"] = int(with_rules.users.traceable.sum())
    users["reported_ever"] = int(with_rules.users.ever_reported.sum())
    users["detained_ever"] = int(with_rules.users.ever_detained.sum())
    summary = summarise(
        scenario, seed, with_rules.recorder, counterfactual.recorder, platforms, users
    )
    import pandas as pd

    manifest = {
        "scenario": scenario.name,
        "scenario_sha256": scenario.sha256(),
        "seed": seed,
        "replication": replication,
        "horizon_days": scenario.horizon_days,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "wall_seconds_rules": round(with_rules.wall_seconds, 3),
        "wall_seconds_counterfactual": round(counterfactual.wall_seconds, 3),
        "counterfactual_in_parallel": counterfactual.in_parallel,
        **environment_info(),
    }
    return Results(
        scenario_name=scenario.name,
        seed=seed,
        replication=replication,
        summary=summary,
        manifest=manifest,
        scenario=scenario.to_dict(),
        daily=daily_table(with_rules.recorder, scenario, names),
        counterfactual_daily=daily_table(counterfactual.recorder, scenario.without_rules(), names),
        delays=delays_table(with_rules.recorder),
        events=events_table(with_rules.recorder),
        platform_daily=pd.DataFrame(with_rules.recorder.platform_series),
        population_daily=pd.DataFrame(with_rules.recorder.population_series),
    )


# ----------------------------------------------------------------------------------------
# The counterfactual in a second process
#: Below this many user-days a run is too short for a second process to pay off (starting
#: one costs ~0.1 s with fork); above it the counterfactual's ~15-25% of the paired time
#: comes off the wall clock on a machine with a free CPU.
PARALLEL_MIN_USER_DAYS = 20_000_000
#: Up to this many users the serial counterfactual starts from a copy of the rules
#: run's population (drawing it costs ~3 ms at 10,000 users; the copy ~0.1 ms).
SHARED_POPULATION_MAX_USERS = 200_000


@dataclass
class _Counterfactual:
    """What the paired run needs of the counterfactual: its counts and its wall time."""

    recorder: Recorder
    wall_seconds: float
    in_parallel: bool


def _counterfactual(
    scenario: Scenario, seed: int, in_parallel: bool = True, users: Users | None = None
) -> _Counterfactual:
    simulation = Simulation(scenario.without_rules(), seed, users=users)
    simulation.run()
    return _Counterfactual(simulation.recorder, simulation.wall_seconds, in_parallel)


def multiprocessing_main_process() -> bool:
    """Whether this is not a worker of a process pool (a sweep's workers already use
    every CPU: they neither fork a counterfactual nor start a compiling helper)."""
    import sys

    # Not imported: no pool started this process (and no need to import it to know).
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is None or multiprocessing.current_process().name == "MainProcess"


def _parallel_by_default(scenario: Scenario) -> bool:
    """Whether :func:`run` puts the counterfactual in a second process by default: the
    run is large, this process may use two CPUs, forking is available and safe (one
    thread), this is not already a worker process (sweeps use every CPU already), and
    ``CENSIM_PARALLEL`` is not ``0``."""
    import multiprocessing

    setting = os.environ.get("CENSIM_PARALLEL", "").strip()
    if setting == "0":
        return False
    if not multiprocessing_main_process():
        return False
    if threading.active_count() > 1:
        # Forking copies one thread of many (a Jupyter kernel has several): locks held
        # by the others stay held in the child. Stay in one process there.
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if usable_cpus() < 2:
        return False
    return setting == "1" or scenario.population.users * scenario.horizon_days >= (
        PARALLEL_MIN_USER_DAYS
    )


def _start_counterfactual(scenario: Scenario, seed: int) -> Any:
    """Start the counterfactual in a forked process (a future), or None if that fails.
    Fork, not spawn: the child needs nothing re-imported and no ``__main__`` guard in
    the caller's script."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        return pool, pool.submit(_counterfactual, scenario, seed)
    except (OSError, RuntimeError, ValueError):
        return None


def _finish_counterfactual(
    pending: Any, scenario: Scenario, seed: int, users: Users | None = None
) -> _Counterfactual:
    """The counterfactual's result: from the second process if it ran there, else (not
    started, or the process died) computed here, from ``users`` if given (the seed's
    population, unrun). The same numbers either way."""
    if pending is not None:
        from concurrent.futures.process import BrokenProcessPool

        pool, future = pending
        try:
            result: _Counterfactual = future.result()
            return result
        except BrokenProcessPool:
            pass
        finally:
            # Joined, so no thread of the pool outlives the run (the next large run in
            # this process may fork again: _parallel_by_default wants one thread).
            pool.shutdown(wait=True)
    return _counterfactual(scenario, seed, in_parallel=False, users=users)
