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

import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray
from tqdm.auto import tqdm

from simulator import kernels, review_kernels
from simulator.kinds import (
    KIND_LABELS,
    N_KINDS,
    SENSITIVE_KINDS,
    Channel,
    ContentKind,
    EventKind,
    Outcome,
    UserState,
)
from simulator.platforms import Action, PlatformState, make_platforms
from simulator.population import Users, search_sorted_targets
from simulator.post_store import PostStore
from simulator.recorder import DELAY_EDGES_HOURS, Event, Recorder
from simulator.regulators import HOURS_PER_DAY, Police, Regulator
from simulator.results import Results
from simulator.review_queue import ArrayReviewQueue
from simulator.rules import perceived_weights
from simulator.scenario import Scenario
from simulator.streams import Streams

IntArray = NDArray[np.int64]
NO_ROUTE = -1  # a user who cannot post anywhere today
#: Each user's route today: platform index, the circumvention row, or NO_ROUTE (int16,
#: as the platform column: 2 bytes a user for an array kept all day).
RouteArray = NDArray[np.int16]


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

    def __init__(self, scenario: Scenario, seed: int | None = None, progress: bool = False):
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.progress = progress
        self.streams = Streams.from_seed(self.seed)
        shares = [p.market_share for p in scenario.platforms]
        self.users = Users(scenario.population, shares, self.streams.population)
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
        self.regulator = Regulator(self, self.streams.regulator)
        self.police = Police(self, self.streams.police)

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
        self._group_cache: tuple[NDArray[np.float64], NDArray[np.int32]] | None = None
        self._members_of: NDArray[np.int32] | None = None
        self._members: dict[int, tuple[IntArray, NDArray[np.float64]]] = {}
        self._probability_cache: dict[tuple[Any, int, float], NDArray[np.float64]] = {}
        # Bumped whenever a user's state, platform or access changes (see _states_dirty):
        # keys the caches of today's routes and the daily state counts.
        self._state_version = 0
        self._states_dirty = True
        self._route_cache: tuple[tuple[Any, ...], RouteArray] | None = None
        self._benign_cache: tuple[tuple[Any, ...], Any] | None = None
        self._population_cache: tuple[tuple[Any, ...], Any] | None = None
        self._reports_filed = 0
        self._active_cache: tuple[RouteArray, IntArray] | None = None
        # Record ids of prohibited posts per platform (what audits count), in id order.
        self._prohibited_ids: list[list[IntArray]] = [[] for _ in self.platforms]
        self._live_posts = 0  # records found live by the last compaction
        self._news_today = 0
        self._detained_today: list[int] = []
        self._state_before_detention: dict[int, int] = {}  # only users now detained
        self.wall_seconds = 0.0

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
        self.env.process(self._days())
        if self.moderating or self.scenario.rules.real_name.enabled:
            for platform in self.platforms:
                self.env.process(self.regulator.audit_process(platform))
        self.env.run(until=self.scenario.horizon_days * HOURS_PER_DAY)
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
        bar = tqdm(days, desc=f"{self.scenario.name} seed {self.seed}", unit="day", leave=False)
        for day in bar:
            self._step_day(day)
            yield self.env.timeout(HOURS_PER_DAY)
        bar.close()

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
        sanctioned, public_removed = self._review(day, start, end)
        self._settle_orders(day, start, end)
        self.police.advance(end)
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
        speech = self.streams.speech
        # Common random numbers: the counts, authors and times of intended posts come
        # from the speech stream alone, drawn in the same order whatever the rules.
        counts = speech.poisson(self.daily_rate)  # [channel, kind]
        drawn: dict[tuple[int, int], tuple[IntArray, NDArray[np.float64]]] = {}
        targets: list[NDArray[np.float64]] = []
        hours: list[NDArray[np.float64]] = []
        for channel in Channel:
            for kind in SENSITIVE_KINDS:
                n = int(counts[channel, kind])
                targets.append(self.users.author_targets(kind, n, speech))
                hours.append(start + HOURS_PER_DAY * speech.random(n))
        # Every sensitive kind shares one cumulative weight: search all targets at once.
        who = np.split(
            self.users.authors_at(ContentKind.CRITICAL, np.concatenate(targets)),
            np.cumsum([len(t) for t in targets])[:-1],
        )
        pairs = [(channel, kind) for channel in Channel for kind in SENSITIVE_KINDS]
        for pair, pair_authors, pair_hours in zip(pairs, who, hours, strict=True):
            drawn[pair] = (pair_authors, pair_hours)
        for channel in Channel:
            self._speak_benign(
                day, start, Channel(channel), int(counts[channel, ContentKind.BENIGN]), route
            )
            for kind in SENSITIVE_KINDS:
                authors, times = drawn[(channel, kind)]
                self._speak_individual(day, Channel(channel), kind, authors, times, route)

    def _speak_individual(
        self,
        day: int,
        channel: Channel,
        kind: ContentKind,
        authors: IntArray,
        times: NDArray[np.float64],
        route: RouteArray,
    ) -> None:
        if len(authors) == 0:
            return
        users = self.users
        n_p = self.n_platforms
        intended, excluded, offshore, withheld, reaching, times, offsets = kernels.route_posts(
            authors,
            times,
            route,
            users.platform,
            n_p,
            float(self.kind_weight[channel, kind]),
            users.risk,
            users.traceable,
            float(self.scenario.population.perception.real_name_risk),
            users.boldness,
        )
        # Intended posts are counted here, once, before any outcome: the outcome counts
        # below must add up to them (tests hold the model to it).
        rec = self.recorder
        rec.intended[day, :, channel, kind] += intended
        rec.counts[day, :n_p, channel, kind, Outcome.EXCLUDED] += excluded
        self._speak_offshore(day, channel, kind, int(offshore))
        rec.counts[day, :n_p, channel, kind, Outcome.WITHHELD] += withheld
        for index, platform in enumerate(self.platforms):
            first, last = int(offsets[index]), int(offsets[index + 1])
            if last > first:
                self._publish(day, platform, channel, kind, reaching[first:last], times[first:last])

    def _speak_offshore(self, day: int, channel: Channel, kind: ContentKind, count: int) -> None:
        """Posts through circumvention tools: friction loses some, the rest survive."""
        if count == 0:
            return
        friction = self.scenario.population.exits.circumvention_friction
        lost = int(self.streams.split.binomial(count, friction))
        self.recorder.add(day, self.circumvention_row, channel, kind, Outcome.EXCLUDED, lost)
        self.recorder.add(
            day, self.circumvention_row, channel, kind, Outcome.SURVIVING, count - lost
        )

    def _benign_groups(
        self, route: RouteArray, channel: Channel
    ) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        """Share of benign intended posts in each (outcome group, platform) and the
        per-user group index. Groups: ``p`` excluded at home platform ``p``; ``P + p``
        published on ``p``; ``2P + p`` withheld on ``p``; ``3P`` offshore."""
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
        kernels.benign_groups(
            route,
            users.platform,
            n_p,
            float(weight),
            users.risk,
            users.traceable,
            float(self.scenario.population.perception.real_name_risk),
            users.boldness,
            users.benign_weights,
            group,
            mass,
        )
        total = mass.sum()
        shares: NDArray[np.float64] = mass / total if total > 0 else np.zeros_like(mass)
        if weight == 0.0:
            # Valid until a user's state, platform or access changes (_states_dirty).
            self._group_cache = (shares, group)
            self._states_dirty = False
        else:
            self._benign_cache = (key, (shares, group))
        return shares, group

    def _speak_benign(
        self, day: int, start: float, channel: Channel, count: int, route: RouteArray
    ) -> None:
        """Benign posts are counted in aggregate; only those a rule touches get drawn."""
        if count == 0 or self.users.size == 0:
            return
        n_p = self.n_platforms
        shares, group = self._benign_groups(route, channel)
        split = self.streams.split.multinomial(
            count, np.clip(shares, 0.0, None) / max(shares.sum(), 1e-300)
        )
        rec = self.recorder
        kind = ContentKind.BENIGN
        for p in range(n_p):
            rec.add_intended(
                day, p, channel, kind, int(split[p] + split[n_p + p] + split[2 * n_p + p])
            )
        rec.add_intended(day, self.circumvention_row, channel, kind, int(split[3 * n_p]))
        for p in range(n_p):
            if split[p]:
                rec.add(day, p, channel, kind, Outcome.EXCLUDED, int(split[p]))
            if split[2 * n_p + p]:
                rec.add(day, p, channel, kind, Outcome.WITHHELD, int(split[2 * n_p + p]))
        self._speak_offshore(day, channel, kind, int(split[3 * n_p]))
        for p, platform in enumerate(self.platforms):
            published = int(split[n_p + p])
            if published == 0:
                continue
            if not self.in_scope[channel]:
                rec.add(day, p, channel, kind, Outcome.SURVIVING, published)
                continue
            # Only posts the filter holds, or that get flagged, noticed or ordered down,
            # need a record: draw how many, then their authors and times.
            moderation = self.streams.moderation
            held = int(moderation.binomial(published, self._hold_probability(platform)[kind]))
            touch = self._touch_probabilities(platform, channel)[:, kind]
            any_touch = 1.0 - np.prod(1.0 - touch)
            touched = int(moderation.binomial(published - held, any_touch))
            untouched = published - held - touched
            rec.add(day, p, channel, kind, Outcome.SURVIVING, untouched)
            wanted = held + touched
            if wanted == 0:
                continue
            authors = self._draw_group_authors(group, n_p + p, wanted)
            times = start + HOURS_PER_DAY * moderation.random(wanted)
            is_held = np.zeros(wanted, dtype=bool)
            is_held[:held] = True
            self._publish(
                day, platform, channel, kind, authors, times, is_held=is_held, touched_given=True
            )

    def _draw_group_authors(
        self, group: NDArray[np.int32], wanted_group: int, count: int
    ) -> IntArray:
        """Authors of ``count`` benign posts among users of ``wanted_group``, by rate."""
        users = self.users
        rng = self.streams.moderation
        if self._members_of is not group:
            # Members and cumulative weights per group, valid while ``group`` is.
            self._members_of, self._members = group, {}
        if wanted_group not in self._members:
            self._members[wanted_group] = kernels.group_members(
                group, wanted_group, users.benign_weights
            )
        members, cumulative = self._members[wanted_group]
        targets = rng.random(count) * cumulative[-1]
        return members[search_sorted_targets(cumulative, targets)].astype(np.int64)

    def _hold_probability(self, platform: PlatformState) -> NDArray[np.float64]:
        """``platform.hold_probability()``, kept while the platform's threshold stands."""
        key = ("hold", platform.index, platform.threshold)
        cached = self._probability_cache.get(key)
        if cached is None:
            self._probability_cache = {
                k: v
                for k, v in self._probability_cache.items()
                if k[2] == platform.threshold or k[1] != platform.index
            }
            cached = self._probability_cache[key] = platform.hold_probability()
        return cached

    def _touch_probabilities(
        self, platform: PlatformState, channel: Channel
    ) -> NDArray[np.float64]:
        """[flag, notice, order] probabilities per kind for a published, not held post
        (kept while the platform's threshold stands)."""
        key = (int(channel), platform.index, platform.threshold)
        cached = self._probability_cache.get(key)
        if cached is None:
            cached = self._probability_cache[key] = self._compute_touch(platform, channel)
        return cached

    def _compute_touch(self, platform: PlatformState, channel: Channel) -> NDArray[np.float64]:
        flag = platform.flag_probability_if_not_held(self._hold_probability(platform))
        notice = self.notice_probability if channel == Channel.PUBLIC else np.zeros(N_KINDS)
        order = self.monitor_probability if self.in_scope[channel] else np.zeros(N_KINDS)
        return np.vstack([flag, notice, order])

    def _publish(
        self,
        day: int,
        platform: PlatformState,
        channel: Channel,
        kind: ContentKind,
        authors: IntArray,
        times: NDArray[np.float64],
        is_held: NDArray[np.bool_] | None = None,
        touched_given: bool = False,
    ) -> None:
        """Posts that reach ``platform``: moderate them if the rules say so, count them.

        ``touched_given`` means every post that is not held is already known to be
        flagged, noticed or ordered down (the benign path drew that in aggregate), so
        which of the three is drawn conditionally on at least one.
        """
        rec = self.recorder
        p = platform.index
        n = len(authors)
        if not self.in_scope[channel]:
            rec.add(day, p, channel, kind, Outcome.SURVIVING, n)
            return
        rng = self.streams.moderation
        if is_held is None:
            is_held = rng.random(n) < self._hold_probability(platform)[kind]
        touch = self._touch_probabilities(platform, channel)[:, kind]
        flags = _draw_touches(rng, n, touch, conditional_on_any=touched_given)
        flags &= ~is_held  # held posts are reviewed before publication instead
        touched = is_held | flags.any(axis=0)
        prohibited = bool(self.prohibited[kind])
        if prohibited:
            self._count_published_prohibited(platform, times[~is_held])
        untouched = int((~touched).sum())
        if untouched:
            rec.add(day, p, channel, kind, Outcome.SURVIVING, untouched)
        if not touched.any():
            return
        authors, times, is_held, flags = (
            authors[touched],
            times[touched],
            is_held[touched],
            flags[:, touched],
        )
        m = len(authors)
        order_hours = np.where(
            flags[2],
            times + rng.exponential(self.scenario.regulator.monitoring_mean_delay_hours, m),
            np.inf,
        )
        ids = self.posts.append(
            time_hours=times,
            published_hours=np.where(is_held, np.inf, times),
            order_hours=order_hours,
            reviewer_score=platform.spec.reviewer_mean.as_tuple()[kind] + rng.standard_normal(m),
            author=authors,
            day=day,
            platform=p,
            kind=int(kind),
            channel=int(channel),
        )
        if prohibited:
            self._prohibited_ids[p].append(ids)
        n_held = int(is_held.sum())
        rec.add(day, p, channel, kind, Outcome.BLOCKED, n_held)  # until approved
        rec.add(day, p, channel, kind, Outcome.SURVIVING, m - n_held)
        rec.tally("held", kind, n_held)
        rec.tally("flagged", kind, int(flags[0].sum()))
        rec.tally("notices", kind, int(flags[1].sum()))
        notice_hours = times[flags[1]] + rng.exponential(
            self.scenario.population.notices.mean_delay_hours, int(flags[1].sum())
        )
        flag_hours = times[flags[0]]
        if platform.spec.flag_mean_delay_hours > 0:
            delays = rng.exponential(platform.spec.flag_mean_delay_hours, len(flag_hours))
            flag_hours = flag_hours + delays
        arrivals = [times[is_held], flag_hours, notice_hours, order_hours[flags[2]]]
        actions = [Action.HOLD, Action.FLAG, Action.NOTICE, Action.ORDER]
        subsets = [is_held, flags[0], flags[1], flags[2]]
        for arrival, action, subset in zip(arrivals, actions, subsets, strict=True):
            if len(arrival):
                items = ids[subset] * Action.COUNT + action
                platform.queue.submit(arrival, np.full(len(items), action, np.int64), items)
        notice_deadline = self.scenario.rules.takedown.notice_deadline_hours
        if notice_deadline is not None and self.prohibited[kind]:
            for post, arrival in zip(ids[flags[1]], notice_hours, strict=True):
                self._add_duty(platform, int(post), float(arrival) + notice_deadline, Action.NOTICE)
        ordered = ids[flags[2]]
        if len(ordered):
            order_days = np.floor(order_hours[flags[2]] / HOURS_PER_DAY).astype(np.int64)
            for order_day in np.unique(order_days):
                self._orders_by_day[int(order_day)].append(ordered[order_days == order_day])

    def _count_published_prohibited(
        self, platform: PlatformState, times: NDArray[np.float64]
    ) -> None:
        hours = np.floor(times).astype(np.int64)
        if len(hours) == 0:
            return
        needed = int(hours.max()) + 1
        counts = platform.published_prohibited_by_hour
        if len(counts) < needed:
            grown = np.zeros(max(needed, self.scenario.horizon_days * 24 + 24), dtype=np.int64)
            grown[: len(counts)] = counts
            platform.published_prohibited_by_hour = counts = grown
        np.add.at(counts, hours, 1)

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
            waits, ids, n_ids, reviewed = review_kernels.review_day(
                at, ap, ai, end, queue.servers, queue.finish, queue.wait_priority,
                queue.wait_seq, queue.wait_item, queue.wait_arrival, queue.service,
                queue.counters, threshold, held_threshold, columns["reviewer_score"],
                columns["appeal_score"], columns["removed_hours"], columns["removed_by"],
                columns["published_hours"], columns["blocked_hours"], columns["kind"], N_KINDS,
            )  # fmt: skip
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
        self.recorder.tally("reports", kinds.astype(np.int64))
        events, name = self.recorder.events, platform.name
        for t, user, kind in zip(times.tolist(), authors.tolist(), kinds.tolist(), strict=True):
            events.append(Event(t, EventKind.REPORT, name, user, KIND_LABELS[kind]))
        self.police.report(times, authors, kinds.astype(np.int64))

    def _settle_orders(self, day: int, start: float, end: float) -> None:
        """Orders arriving today are issued if their post is still up; issued orders whose
        deadline falls today are checked against it."""
        posts = self.posts
        deadline_hours = self.scenario.rules.takedown.deadline_hours
        for ids in self._orders_by_day.pop(day, []):
            issued = ids[posts.removed_hours[ids] > posts.order_hours[ids]]
            if len(issued) == 0:
                continue
            kinds = posts.kind[issued]
            self.recorder.tally("orders", kinds.astype(np.int64))
            platform = self.platforms[int(posts.platform[issued[0]])]
            events = self.recorder.events
            for post, arrival, author, kind in zip(
                issued.tolist(),
                posts.order_hours[issued].tolist(),
                posts.author[issued].tolist(),
                kinds.tolist(),
                strict=True,
            ):
                deadline = arrival + deadline_hours
                events.append(
                    Event(
                        arrival,
                        EventKind.ORDER,
                        platform.name,
                        author,
                        KIND_LABELS[kind],
                        detail=f"deadline={deadline:g}h",
                    )
                )
                self._add_duty(platform, post, deadline, Action.ORDER)
            if self.scenario.rules.reporting.mode in ("on_request", "proactive"):
                # An order comes with a request for the author's data.
                self._file_reports(platform, posts.order_hours[issued], posts.author[issued], kinds)
        for post, deadline, action in self._duties_by_deadline_day.pop(day, []):
            if posts.removed_hours[post] > deadline:
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

    def _add_duty(self, platform: PlatformState, post: int, deadline: float, action: int) -> None:
        self._duty_deadline[platform.index].append(deadline)
        self._duty_post[platform.index].append(post)
        due_day = int(math.floor(deadline / HOURS_PER_DAY))
        self._duties_by_deadline_day[due_day].append((post, deadline, action))

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
        detained = np.array(sorted(self._state_before_detention), dtype=np.int64)
        release = users.release_hours
        released = np.array([u for u in detained.tolist() if release[u] <= now], dtype=np.int64)
        if len(released):
            # Back to what they were before: detention does not restore an account that
            # was closed, nor register someone who refused.
            users.state[released] = [self._state_before_detention.pop(int(u)) for u in released]
            for user in released.tolist():
                del release[user]
            for user in released:
                rec.event(now, EventKind.RELEASE, self._platform_name(int(user)), int(user))
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
        if len(sanctioned):
            who, times = np.unique(sanctioned, return_counts=True)
            users.strikes[who] = np.minimum(users.strikes[who].astype(np.int64) + times, 32_000)
            limits = np.array([p.spec.strikes_to_close for p in self.platforms])
            active = users.state[who] == UserState.ACTIVE
            closed = who[active & (users.strikes[who] >= limits[users.platform[who]])]
            users.state[closed] = UserState.EXCLUDED
            for user in closed:
                self.recorder.event(
                    now + HOURS_PER_DAY * (1 - 1e-9),  # at the end of the day
                    EventKind.ACCOUNT_CLOSED,
                    self._platform_name(int(user)),
                    int(user),
                )
            still = who[users.state[who] == UserState.ACTIVE]
            draw = rng.random(len(still))
            leave = draw < exits.leave_probability_on_sanction
            circumvent = ~leave & (
                draw
                < exits.leave_probability_on_sanction + exits.circumvent_probability_on_sanction
            )
            users.state[still[leave]] = UserState.LEFT
            users.state[still[circumvent]] = UserState.CIRCUMVENTING
            self._states_dirty = True
        if not self.moderating and self._news_today == 0:
            return
        visibility = perception.visibility
        news = visibility * perception.news_weight * self._news_today * 1e5 / max(n, 1)
        signal = np.full(n, news, dtype=np.float32)
        if len(sanctioned):
            kernels.add_at(signal, sanctioned, visibility * perception.own_sanction_weight)
        if len(public_removed) and perception.neighbour_removal_weight > 0:
            signal += (
                visibility
                * perception.neighbour_removal_weight
                * users.network.neighbour_counts(public_removed, n)
            )
        if self._detained_today and perception.neighbour_detention_weight > 0:
            signal += (
                visibility
                * perception.neighbour_detention_weight
                * users.network.neighbour_counts(
                    np.asarray(self._detained_today, dtype=np.int64), n
                )
            )
        # rules.update_risk, fused: expm1 by numpy (its float32 routine), the rest and
        # the detained users' certainty in one compiled pass.
        np.negative(signal, out=signal)
        np.expm1(signal, out=signal)
        users.risk = kernels.learn_risk(users.risk, signal, self.decay, users.state)

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
        # written in place except on detention): a no-rules world counts once.
        key = (self._state_version, self._reports_filed, users.risk)
        cached = self._population_cache
        if cached is not None and _same_key(cached[0], key):
            counts, mean_risk = cached[1]
        else:
            counts, mean_risk = kernels.population_counts(
                users.state, users.risk, users.traceable, users.ever_reported, users.ever_detained
            )
            self._population_cache = (key, (counts, mean_risk))
        n_states = len(UserState)
        self.recorder.population_series.append(
            {
                "day": day,
                "mean_risk": float(mean_risk),
                **{state.name.lower(): int(counts[state]) for state in UserState},
                "traceable": int(counts[n_states]),
                "reported_ever": int(counts[n_states + 1]),
                "detained_ever": int(counts[n_states + 2]),
            }
        )

    def release_working_memory(self) -> None:
        """Free what only the run itself needs (the network, post records, the day
        caches); the recorder, platforms and user states stay for the tables. For the
        paired run: the counterfactual runs without this run's working set."""
        self.users.release_network()
        self.posts = PostStore()
        self._route_cache = self._benign_cache = self._population_cache = None
        self._group_cache = self._members_of = self._active_cache = None
        self._members = {}

    def _close_run(self) -> None:
        # Orders whose deadline fell inside the horizon were settled on that day; later
        # deadlines are not yet due. Events are kept in time order for the tables.
        self.recorder.events.sort(key=lambda e: (e.time_hours, e.event.value, e.platform, e.user))


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


def _draw_touches(
    rng: np.random.Generator, n: int, probability: NDArray[np.float64], conditional_on_any: bool
) -> NDArray[np.bool_]:
    """Independent flags (one row per probability) for ``n`` posts; if
    ``conditional_on_any``, drawn given that at least one flag is set (sequentially:
    the first flag with its conditional probability, and so on)."""
    flags = np.zeros((len(probability), n), dtype=bool)
    if n == 0:
        return flags
    if not conditional_on_any:
        for row, p in enumerate(probability):
            flags[row] = rng.random(n) < p
        return flags
    none_yet = np.ones(n, dtype=bool)
    for row, p in enumerate(probability):
        rest = 1.0 - np.prod(1.0 - probability[row + 1 :])  # P(a later flag is set)
        # P(flag | none before, at least one from here on) = p / (p + (1 - p) * rest)
        denominator = p + (1.0 - p) * rest
        conditional = p / denominator if denominator > 0 else 0.0
        draw = rng.random(n)
        flags[row] = np.where(none_yet, draw < conditional, draw < p)
        none_yet &= ~flags[row]
    return flags


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
    the results are the same either way. Returns :class:`~simulator.results.Results`
    with tidy tables and the summary numbers.
    """
    from simulator.metrics import daily_table, delays_table, events_table, summarise
    from simulator.results import environment_info

    if days is not None:
        scenario = scenario.model_copy(update={"horizon_days": int(days)})
        scenario = type(scenario).model_validate(scenario.model_dump())
    seed = scenario.seed if seed is None else int(seed)
    started = time.perf_counter()
    if parallel is None:
        parallel = _parallel_by_default(scenario)
    pending = _start_counterfactual(scenario, seed) if parallel else None
    with_rules = Simulation(scenario, seed, progress=progress)
    with_rules.run()
    with_rules.release_working_memory()
    counterfactual = _finish_counterfactual(pending, scenario, seed)
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


@dataclass
class _Counterfactual:
    """What the paired run needs of the counterfactual: its counts and its wall time."""

    recorder: Recorder
    wall_seconds: float
    in_parallel: bool


def _counterfactual(scenario: Scenario, seed: int, in_parallel: bool = True) -> _Counterfactual:
    simulation = Simulation(scenario.without_rules(), seed)
    simulation.run()
    return _Counterfactual(simulation.recorder, simulation.wall_seconds, in_parallel)


def _parallel_by_default(scenario: Scenario) -> bool:
    """Whether :func:`run` puts the counterfactual in a second process by default: the
    run is large, this process may use two CPUs, forking is available and safe (one
    thread), this is not already a worker process (sweeps use every CPU already), and
    ``CENSIM_PARALLEL`` is not ``0``."""
    import multiprocessing

    setting = os.environ.get("CENSIM_PARALLEL", "").strip()
    if setting == "0":
        return False
    if multiprocessing.current_process().name != "MainProcess":
        return False
    if threading.active_count() > 1:
        # Forking copies one thread of many (a Jupyter kernel has several): locks held
        # by the others stay held in the child. Stay in one process there.
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cpus or 1) < 2:
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


def _finish_counterfactual(pending: Any, scenario: Scenario, seed: int) -> _Counterfactual:
    """The counterfactual's result: from the second process if it ran there, else (not
    started, or the process died) computed here. The same numbers either way."""
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
    return _counterfactual(scenario, seed, in_parallel=False)
