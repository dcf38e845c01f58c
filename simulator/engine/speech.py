"""The day's speech, driven through the compiled passes (docs/model.md, S1-S5 and S16).

:class:`SpeechDay` gathers what :func:`simulator.kernels.publishing.publish_days` needs (who can
post where today, the benign outcome groups, the moderation tables, the day's draws,
ahead on a second thread at scale), calls it, and files what it returns: touched posts
into the store, review items into the queues, notice duties and orders into the order
book, published prohibited posts for the audits. Each sensitive post's author decides
by :class:`simulator.model.speech_state.SpeechState` (S3); what users then learn is its
``learn`` (S16). The statement of these rules is in :mod:`simulator.model.speech` and
:mod:`simulator.model.population`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from simulator.engine.audit_reads import ProhibitedPosts
from simulator.engine.caches import DayThreads, GeneratorHandles, threaded
from simulator.engine.post_store import PostStore
from simulator.kernels import benign, moderation, publishing, routes, speech
from simulator.kernels.queue import submissions_in_order
from simulator.kinds import N_KINDS, Action, Channel
from simulator.model import arrivals
from simulator.model import groups as group_rules
from simulator.model.notices import NoticeLedger
from simulator.model.orders import OrderBook
from simulator.model.platforms import PlatformState, monitor_probabilities
from simulator.model.population import Users
from simulator.model.regulator import HOURS_PER_DAY
from simulator.model.scenario import Scenario
from simulator.model.speech_state import SpeechState
from simulator.model.views import IntArray
from simulator.output.recorder import Recorder
from simulator.streams import Streams

NO_ROUTE = -1  # a user who cannot post anywhere today
#: Each user's route today: platform index, the circumvention row, or NO_ROUTE (int16,
#: as the platform column: 2 bytes a user for an array kept all day).
RouteArray = NDArray[np.int16]
#: Per platform and kind: P(held), P(flag, notice, order), P(any), P(each | at least one).
_Tables = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
_NO_GROUP = np.zeros(0, dtype=np.int32)  # no users: no benign groups
#: A channel's benign groups (SpeechDay.benign_groups): the share of benign posts in
#: each group, each user's group, each group's weight, and the published groups'
#: running weights per block of users (benign.benign_groups; for the author search).
_Groups = tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]
#: benign_groups' ``previous_group, previous_sums`` when there are none.
_NO_BLOCKS = (np.zeros(0, dtype=np.int32), np.zeros((0, 0)))
#: publish_days' ``drawn`` argument when it is to draw the day's speech itself.
_NOT_DRAWN = publishing.Drawn(
    np.zeros((0, 0), dtype=np.int64),
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.float64),
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.float64),  # each post's mood (kernels.choice.mood of a uniform)
    np.zeros(0, dtype=np.float32),  # the authors' value of speaking (Users.value)
)
#: publish_days' ``audience`` without users or public posts (no notice, order or exposure).
_NO_AUDIENCE = np.zeros(0, dtype=np.float64)


class SpeechDay:
    """Each day's intended posts, routed and published, for one run."""

    def __init__(
        self,
        scenario: Scenario,
        users: Users,
        platforms: Sequence[PlatformState],
        streams: Streams,
        recorder: Recorder,
        posts: PostStore,
        orders: OrderBook,
        prohibited_posts: ProhibitedPosts,
        threads: DayThreads,
        minds: SpeechState,
        ledger: NoticeLedger | None = None,
    ) -> None:
        """``ledger``: where notices and their senders are counted (S5b), if anywhere."""
        self.scenario = scenario
        self.ledger = ledger
        self.users = users
        self.platforms = platforms
        self.streams = streams
        self.recorder = recorder
        self.posts = posts
        self.orders = orders
        self.prohibited_posts = prohibited_posts
        self.threads = threads
        self.minds = minds
        self.handle = GeneratorHandles()
        self.n_platforms = len(platforms)
        self.circumvention_row = self.n_platforms
        rules = scenario.rules
        self.moderating = rules.takedown.enabled
        self.prohibited = np.array(rules.takedown.prohibited_mask(), dtype=bool)
        # Which channels the platforms must moderate, and the regulator can see.
        self.in_scope = np.array(
            [self.moderating, self.moderating and rules.takedown.private_messages]
        )
        # Regulator monitoring: prohibited kinds at the stated probability, lawful kinds
        # never (the enforced line, S8, S10).
        self.monitor_probability = monitor_probabilities(scenario)
        self.notice_probability = np.array(scenario.population.notices.probability.as_tuple())
        channel_shares = np.array(
            [1.0 - scenario.population.private_share, scenario.population.private_share]
        )
        self.daily_rate = np.outer(channel_shares, users.daily_rate_by_kind())  # [channel, kind]
        # Under takedown duties the platforms' specs carry the effective score means (S8).
        specs = [platform.spec for platform in platforms]
        self._sweep_interval_hours = np.array(
            [p.sweep_interval_hours for p in specs], dtype=np.float64
        )
        self._audience: NDArray[np.float64] | None = None
        #: The capacities of the next day's output buffers (publishing.buffer_capacities).
        self._buffer_capacities = publishing.BUFFER_CAPACITIES
        self._order_audience: NDArray[np.float64] | None = None
        self._filter_factor: NDArray[np.float64] | None = None
        self._hold_margin = np.array([[p.hold_margin] for p in specs])
        self._flag_margin = np.array([[p.flag_margin] for p in specs])
        self._prepublication_filter = np.array([p.prepublication_filter for p in specs], dtype=bool)
        # Per channel: users notice public posts only; the regulator sees what is in scope.
        none = np.zeros(N_KINDS)
        self._notice_by_channel = np.stack([self.notice_probability, none])
        self.set_monitoring(self.monitor_probability)
        self.set_score_means()
        # Caches, each keyed on what it depends on (users.state_version among it).
        self._tables_key: tuple[float, ...] | None = None  # thresholds of _tables
        self._tables: _Tables = (np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
        self._route_cache: tuple[tuple[Any, ...], RouteArray] | None = None
        self.active_cache: tuple[RouteArray, IntArray] | None = None  # active users here
        self._group_cache: tuple[int, _Groups] | None = None  # weight 0: per state version
        self._previous_groups: dict[int, tuple[NDArray[np.int32], NDArray[np.float64]]] = {}
        self._split_inputs: tuple[list[Any], Any] | None = None  # see _benign_split_inputs
        self._speech_ahead: tuple[int, Any] | None = None  # see _speech_drawn_for
        self.drawn_ahead = False  # see draw_all_ahead

    def set_monitoring(self, monitor_probability: NDArray[np.float64]) -> None:
        """The regulator's monitoring per kind (S10), from now on: the moderation tables
        are made again with it."""
        self.monitor_probability = monitor_probability
        none = np.zeros(N_KINDS)
        self._order_by_channel = np.stack(
            [monitor_probability if self.in_scope[c] else none for c in Channel]
        )
        self._tables_key = None

    def set_score_means(self) -> None:
        """The filter's and the reviewers' score means per platform and kind, from the
        platforms' specs (under takedown duties the effective means, S8), from now on."""
        specs = [platform.spec for platform in self.platforms]
        self._classifier_mean = np.array(
            [p.classifier_mean.as_tuple() for p in specs], dtype=np.float64
        ).reshape(self.n_platforms, N_KINDS)
        self._reviewer_mean = np.array(
            [p.reviewer_mean.as_tuple() for p in specs], dtype=np.float64
        ).reshape(self.n_platforms, N_KINDS)
        self._tables_key = None

    def release(self) -> None:
        """Drop the day caches (the run is over)."""
        self._route_cache = self._group_cache = None
        self.active_cache = self._split_inputs = None
        self._previous_groups = {}
        self._speech_ahead = None

    # -- who can post where (S2) -----------------------------------------------------------
    def routes(self, now: float) -> RouteArray:
        """Each user's route today: platform index, the circumvention row, or NO_ROUTE."""
        users = self.users
        serving_now = tuple(p.serving(now) for p in self.platforms)
        key = (users.state_version, serving_now)
        # Routes change only with states, platforms or service (a no-rules world: never).
        if self._route_cache is not None and self._route_cache[0] == key:
            return self._route_cache[1]
        serving = np.array([*serving_now, True])
        route = np.empty(users.size, dtype=np.int16)
        active_here = np.zeros(self.n_platforms, dtype=np.int64)
        # One compiled pass: active users post at home if it serves, circumventing ones
        # offshore, the rest nowhere; active users per platform counted on the way.
        routes.fill_routes(
            users.platform, users.state, serving, self.circumvention_row, route, active_here
        )
        route.flags.writeable = False  # shared by the caches keyed on it
        self._route_cache = (key, route)
        self.active_cache = (route, active_here)
        return route

    def active_users(self, route: RouteArray) -> IntArray:
        """Active users per platform today (counted with the routes if they were)."""
        if self.active_cache is not None and self.active_cache[0] is route:
            return self.active_cache[1]
        n_p = self.n_platforms
        active_here = np.bincount(route[(route >= 0) & (route < n_p)], minlength=n_p)
        self.active_cache = (route, active_here)
        return active_here

    # -- intended speech and its routing (S1, S3, S5) --------------------------------------
    def speak(self, day: int, start: float, route: RouteArray) -> None:
        """The day's intended posts, routed and published: one compiled call
        (:func:`simulator.kernels.publishing.publish_days`) does the drawing, counting and
        moderation; here its inputs are gathered and its outputs stored."""
        if self.drawn_ahead:
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
        published = publishing.publish_days(
            day, 1, *inputs,
            publishing.DayCounts(
                rec.intended, rec.counts, tallies, prohibited_hours, rec.potential
            ),
            publishing.new_buffers(self._buffer_capacities), self.posts.size,
        )  # fmt: skip
        # Tomorrow's buffers sized by today's counts (memory only: no value changes).
        self._buffer_capacities = publishing.buffer_capacities(published[-1])
        for row, name in enumerate(("held", "flagged", "notices")):
            rec.tallies[name] += tallies[row]
        for platform in self.platforms:
            self.prohibited_posts.add_by_hour(
                platform, int(start), prohibited_hours[platform.index]
            )
        self._store_published(day, published, inputs[3])

    def _speech_drawn_for(self, day: int) -> publishing.Drawn:
        """Day ``day``'s intended posts drawn ahead (:func:`speech.draw_speech_day`),
        or :data:`_NOT_DRAWN` for publish_days to draw them itself. From
        THREADED_MIN_USERS users on, a second thread draws day ``d + 1``'s while day ``d``
        runs (:meth:`_draw_ahead`): nothing else reads or draws from the speech stream,
        and the sensitive weights never change, so the draws are those day ``d + 1``
        would make."""
        if not threaded(self.users.size):
            return _NOT_DRAWN
        pending = self._speech_ahead
        if pending is not None and pending[0] == day:
            drawn: tuple[NDArray[Any], ...] = pending[1].result()
        else:
            drawn = self.draw_speech_day(day)
        self._speech_ahead = None
        return publishing.Drawn(*drawn)

    def _draw_ahead(self, day: int) -> None:
        """Start drawing ``day``'s speech on the second thread (see _speech_drawn_for)."""
        if threaded(self.users.size) and day < self.scenario.horizon_days:
            self._speech_ahead = (day, self.threads.submit(self.draw_speech_day, day))

    def draw_speech_day(self, day: int) -> tuple[NDArray[Any], ...]:
        cumulative, bucket_start, kind_row = self.users.sensitive_search()
        result: tuple[NDArray[Any], ...] = speech.draw_speech_day(
            self.handle(self.streams.speech), self.daily_rate, day * HOURS_PER_DAY,
            cumulative, bucket_start, kind_row, self.users.size, self.users.value,
            float(self.scenario.population.speech.choice_noise),
        )  # fmt: skip
        return result

    def _speech_inputs(
        self, route: RouteArray, drawn: publishing.Drawn = _NOT_DRAWN
    ) -> tuple[
        publishing.Handles, publishing.SpeechSource, publishing.Drawn, publishing.BenignGroups,
        publishing.Routes, Any, Any, publishing.Moderation,
    ]:  # fmt: skip
        """The arguments of :func:`publishing.publish_days` from ``handles`` to
        ``moderation``: today's routes, groups, beliefs and moderation tables, and the
        day's speech if ``drawn`` ahead."""
        users = self.users
        streams = self.streams
        pvals, mass, groups, running = self._benign_split_inputs(route)
        hold, touch, any_touch, conditional = self.moderation_tables()
        cumulative, bucket_start, kind_row = users.sensitive_search()
        scenario = self.scenario
        notice_deadline = scenario.rules.takedown.notice_deadline_hours
        return (
            publishing.Handles(
                self.handle(streams.speech), self.handle(streams.split),
                self.handle(streams.moderation),
            ),
            publishing.SpeechSource(
                self.daily_rate, cumulative, bucket_start, kind_row, users.size, users.value,
                float(scenario.population.speech.choice_noise),
            ),
            drawn,
            publishing.BenignGroups(
                pvals, mass, groups[Channel.PUBLIC], groups[Channel.PRIVATE],
                users.benign_weights, running[Channel.PUBLIC], running[Channel.PRIVATE],
                benign.GROUP_BLOCK,
            ),
            publishing.Routes(route, users.platform),
            self.minds.inputs(users.strikes, users.traceable),
            self.minds.beliefs,
            publishing.Moderation(
                self.in_scope, self.prohibited, hold, touch, any_touch, conditional,
                float(scenario.population.exits.circumvention_friction),
                float(scenario.population.attention_hours), self.audience(),
                self._sweep_interval_hours, self._reviewer_mean,
                -1.0 if notice_deadline is None else float(notice_deadline),
                self.order_audience(),
                self.filter_factor(),
                HOURS_PER_DAY * self.recorder.days,  # T, the run's end (S5b)
            ),
        )  # fmt: skip

    def audience(self) -> NDArray[np.float64]:
        """Each user's audience ``A_i = deg_i / mean degree`` (docs/model.md S5a), from
        the social network, once per run: what gets a post noticed (S5a) and what its
        potential exposure is (S5b), so also where nothing is moderated; empty without
        users or without public posts. Where something is moderated the run draws the
        network (friends see removals, S16): its degrees; elsewhere they are counted
        without building it (``Users.degree``, the same numbers)."""
        if self.users.size == 0 or self.scenario.population.private_share >= 1.0:
            return _NO_AUDIENCE
        if self._audience is None:
            users = self.users
            degree = users.network.degree() if self.in_scope.any() else users.degree()
            self._audience = arrivals.audience(degree)
        return self._audience

    def order_audience(self) -> NDArray[np.float64]:
        """The audience the regulator's monitors see (S5a with groups: ``A_i f_g``,
        :func:`simulator.model.groups.order_audience`); :meth:`audience` itself when
        no group has a monitoring factor other than 1."""
        audience = self.audience()
        users = self.users
        if users.group is None or not len(audience):
            return audience
        monitoring = group_rules.factors(users.groups, "monitoring")
        if (monitoring == 1.0).all():
            return audience
        if self._order_audience is None:
            self._order_audience = group_rules.order_audience(audience, users.group, monitoring)
        return self._order_audience

    def set_group_scrutiny(self) -> None:
        """The groups' factors changed (a timeline): the monitors' audience and the
        filter factors are made again from ``users.groups`` on next use."""
        self._order_audience = self._filter_factor = None

    def filter_factor(self) -> NDArray[np.float64]:
        """Each user's group's factor on the chance a post is held or flagged (empty
        without groups, or when every group's is 1)."""
        users = self.users
        if users.group is None:
            return _NO_AUDIENCE
        filtering = group_rules.factors(users.groups, "filtering")
        if (filtering == 1.0).all():
            return _NO_AUDIENCE
        if self._filter_factor is None:
            self._filter_factor = filtering[users.group]
        return self._filter_factor

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
        found = [self.benign_groups(route, channel) for channel in Channel]
        cached = self._split_inputs
        if cached is not None and all(a is b for a, b in zip(cached[0], found, strict=True)):
            return cached[1]
        public, private = found
        pvals, mass = benign.benign_split(public[0], private[0], public[2], private[2])
        inputs = (pvals, mass, [public[1], private[1]], [public[3], private[3]])
        self._split_inputs = (found, inputs)
        return inputs

    def draw_all_ahead(self) -> bool:
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
        route = self.routes(0.0)
        rec = self.recorder
        tallies = np.zeros((3, N_KINDS), dtype=np.int64)  # stay zero: nothing moderated
        prohibited_hours = np.zeros((self.n_platforms, int(HOURS_PER_DAY) + 1), dtype=np.int64)
        publishing.publish_days(
            0, self.scenario.horizon_days, *self._speech_inputs(route),
            publishing.DayCounts(
                rec.intended, rec.counts, tallies, prohibited_hours, rec.potential
            ),
            publishing.new_buffers(), 0,
        )  # fmt: skip
        self.drawn_ahead = True
        return True

    def _store_published(
        self,
        day: int,
        published: tuple[NDArray[Any], ...],
        benign_groups: publishing.BenignGroups,
    ) -> None:
        """The day's touched posts into the store, their benign authors as
        :func:`publishing.resolve_authors` finds them from ``benign_groups``; their review items
        into the queues (one submission per platform, by arrival time, then posting
        time); notice duties and orders into the order book (see
        :func:`publishing.publish_days`)."""
        (
            post_float, post_int, sub_times, sub_actions, sub_items, sub_offsets,
            prohibited_ids, prohibited_offsets, duty_deadline, duty_platform, duty_post,
            order_chunk, order_post, order_day, target_value, target_int, state,
        ) = published  # fmt: skip
        n_posts = int(state[0])
        if n_posts == 0:
            return
        first_id = self.posts.size  # the items name posts by id: first_id + buffer index
        # The benign authors are found beside the queueing and the records' other
        # columns at scale: nothing queued reads an author.
        n_targets = int(state[publishing.TARGETS])
        resolve = (
            post_int, n_posts, target_value, target_int, n_targets, benign_groups,
            self.n_platforms,
        )  # fmt: skip
        threads = threaded(self.users.size)
        resolving = None
        if n_targets and threads:
            resolving = self.threads.submit(publishing.resolve_authors, *resolve)
        elif n_targets:
            publishing.resolve_authors(*resolve)
        sub_at, prohibited_at = sub_offsets.tolist(), prohibited_offsets.tolist()

        def queue_submissions(platform: PlatformState) -> None:
            """The platform's review items onto its queue. A keyword sweep finds many
            posts at one instant and lists them oldest first (docs/model.md S5a): items
            arriving together are queued by posting time (else their order would be
            the batches', kind by kind)."""
            first, last = sub_at[platform.index], sub_at[platform.index + 1]
            if last > first:
                # np.lexsort((posted, times)) and the permuted columns, compiled.
                platform.queue.submit(
                    *submissions_in_order(
                        sub_times[first:last], sub_actions[first:last], sub_items[first:last],
                        post_float[0], first_id, int(Action.COUNT),
                    )
                )  # fmt: skip

        # Each queue takes only its own items: at scale, while the second thread finds
        # the benign authors, every platform's are sorted and queued here; with no
        # authors to find, the other platforms' are sorted and queued there.
        others = (
            [self.threads.submit(queue_submissions, p) for p in self.platforms[1:]]
            if threads and resolving is None
            else []
        )
        for platform in self.platforms[:1] if others else self.platforms:
            queue_submissions(platform)
        for platform in self.platforms:
            p = platform.index
            if prohibited_at[p + 1] > prohibited_at[p]:
                self.prohibited_posts.add_ids(
                    p, prohibited_ids[prohibited_at[p] : prohibited_at[p + 1]]
                )
        for future in others:
            future.result()
        # The records, their authors last: written once found.
        self.posts.append(
            time_hours=post_float[0, :n_posts],
            published_hours=post_float[1, :n_posts],
            order_hours=post_float[2, :n_posts],
            reviewer_score=post_float[3, :n_posts],
            held_notice_delay=post_float[4, :n_posts],
            held_order_delay=post_float[5, :n_posts],
            day=day,
            platform=post_int[1, :n_posts],
            kind=post_int[2, :n_posts],
            channel=post_int[3, :n_posts],
        )
        if resolving is not None:
            resolving.result()
        self.posts.author[first_id : first_id + n_posts] = post_int[0, :n_posts]
        if self.ledger is not None:
            # Who sent each notice (S5b), in submission order.
            noticed = sub_actions[: sub_at[-1]] == Action.NOTICE
            self.ledger.add_notices(
                self.posts, sub_items[: sub_at[-1]][noticed] // Action.COUNT,
                sub_times[: sub_at[-1]][noticed],
            )  # fmt: skip
        if len(duty_post):
            # Grouped by platform keeping their order (per platform, and per due day,
            # the duties are in the order made, as one at a time gave).
            for p in np.unique(duty_platform).tolist():
                mine = duty_platform == p
                self.orders.add_duties(
                    p, duty_post[mine].tolist(), duty_deadline[mine].tolist(), Action.NOTICE
                )
        if len(order_chunk):
            starts = [0, *(np.flatnonzero(order_chunk[1:] != order_chunk[:-1]) + 1).tolist()]
            for first, last in zip(starts, [*starts[1:], len(order_chunk)], strict=True):
                self.orders.add_orders(int(order_day[first]), order_post[first:last])

    def moderation_tables(self) -> _Tables:
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
            self._tables = moderation.moderation_tables(
                ndtr(means - lines),
                self._prepublication_filter,
                self._notice_by_channel,
                self._order_by_channel,
            )
            self._tables_key = key
        return self._tables

    def benign_groups(self, route: RouteArray, channel: Channel) -> _Groups:
        """Share of benign intended posts in each (outcome group, platform), the
        per-user group index, each group's summed benign weight and the published
        groups' running weights per block of ``benign.GROUP_BLOCK`` users (P x
        (blocks + 1): where the benign author search starts). Groups: ``p`` excluded at
        home platform ``p``; ``P + p`` published on ``p``; ``2P + p`` withheld on ``p``;
        ``3P`` offshore."""
        users = self.users
        n_p = self.n_platforms
        version = users.state_version
        group_cache = self._group_cache
        # Benign posts carry no risk and are never withheld (S3): routes alone decide.
        if group_cache is not None and group_cache[0] == version:
            return group_cache[1]
        group = np.empty(users.size, dtype=np.int32)
        mass = np.zeros(3 * n_p + 1)
        n_blocks = benign.group_blocks(users.size)
        running = np.empty((n_p, n_blocks + 1))
        block_sums = np.empty((n_blocks, 3 * n_p + 1))
        # The channel's last groups and block sums: blocks whose users' groups are the
        # same keep their sums (most blocks, on most days).
        previous_group, previous_sums = self._previous_groups.get(int(channel), _NO_BLOCKS)
        benign.benign_groups(
            route, users.platform, n_p, users.benign_weights, group, mass, benign.GROUP_BLOCK,
            running, block_sums, previous_group, previous_sums,
        )  # fmt: skip
        self._previous_groups[int(channel)] = (group, block_sums)
        shares: NDArray[np.float64] = benign.group_shares(mass)
        # Valid while the state version stands.
        self._group_cache = (version, (shares, group, mass, running))
        return shares, group, mass, running
