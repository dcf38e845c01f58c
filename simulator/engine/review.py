"""The review queues' day (docs/model.md, S6 "The review queue", S7 "Reviewer
decisions"): every platform's queue advanced to the end of the day, event by event,
with the decisions inline, then the day's removals counted, reported (S11) and appealed
(S7a).

Compiled (:mod:`simulator.kernels.review`): per platform one call runs the queue with
the decisions inline and one does the counting. :meth:`ReviewDay.run_python` is the
same day in Python and numpy (:class:`Decisions` as the queue's callbacks): the
reference the kernels must match, and what runs for a plain
:class:`~simulator.model.review_queue.ReviewQueue`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.engine.audit_reads import ProhibitedPosts
from simulator.engine.caches import DayThreads, threaded
from simulator.engine.held_follow_ons import book_follow_ons, follow_ons
from simulator.engine.post_store import IntArray, PostStore
from simulator.kernels import review as review_kernels
from simulator.kinds import N_KINDS, Action, Channel, ContentKind, Outcome
from simulator.model import exposure, held_touches
from simulator.model.notices import NoticeLedger
from simulator.model.orders import OrderBook, file_appeals
from simulator.model.platforms import PlatformState
from simulator.model.reporting import Reporting
from simulator.model.review_arrays import ArrayReviewQueue
from simulator.model.review_queue import ReviewQueue
from simulator.model.scenario import Appeals
from simulator.model.strikes import strike_given
from simulator.model.views import Renumbering
from simulator.output.recorder import DELAY_EDGES_HOURS, Recorder

FloatArray = NDArray[np.float64]


def strike_table(platforms: Sequence[PlatformState]) -> NDArray[np.bool_]:
    """``[platform, action]``: whether a take-down by that route (``kinds.Action``: an
    order, a held post blocked, a notice, a flag) gives the author a strike, from each
    platform's ``strike_on`` (docs/model.md S14)."""
    table = np.zeros((len(platforms), Action.COUNT), dtype=bool)
    for platform in platforms:
        for route in platform.spec.strike_on:
            table[platform.index, Action.NAMES.index(route)] = True
    return table


class QueuedItems:
    """The review items waiting in the platforms' queues, as post ids: they hold post
    ids, so they register with the store (item = post id * Action.COUNT + action)."""

    def __init__(self, platforms: Sequence[PlatformState], posts: PostStore) -> None:
        self.platforms = platforms
        posts.register(self)

    def live_post_ids(self, day: int) -> Iterable[IntArray]:
        """Every item not yet started (held, flagged, noticed, ordered or appealed:
        every later change to a record is made by serving one)."""
        # One platform's at a time (compaction marks each before asking for the next).
        return (platform.queue.items() // Action.COUNT for platform in self.platforms)

    def renumber_post_ids(self, renumber: Renumbering) -> None:
        count = Action.COUNT
        for platform in self.platforms:
            platform.queue.map_items(lambda items: renumber(items // count) * count + items % count)


class ReviewDay:
    """Advances every platform's review queue, one day at a time."""

    #: Advance the queues with the compiled day step (False: the Python reference,
    #: :meth:`run_python`; both give the same run).
    compiled = True

    def __init__(
        self,
        platforms: Sequence[PlatformState],
        posts: PostStore,
        recorder: Recorder,
        prohibited: NDArray[np.bool_],
        prohibited_posts: ProhibitedPosts,
        reporting: Reporting,
        appeals: Appeals,
        rng: np.random.Generator,
        threads: DayThreads,
        users: int,
        ledger: NoticeLedger | None = None,
        orders: OrderBook | None = None,
        notice_deadline: Callable[[], float | None] = lambda: None,
    ) -> None:
        """``prohibited``: per kind; ``rng``: the appeals stream (which removals are
        appealed, when, and how the second review scores them); ``users``: the
        population's size (a large one runs platforms' days on the second thread);
        ``ledger``: where removals, appeals and reinstatements are counted by route
        (S5c), if anywhere; ``orders``: where the orders and notice duties of approved
        held posts are booked (issue 17), and ``notice_deadline`` the law's notice
        deadline in force (hours; None: no notice duties)."""
        self.ledger = ledger
        self.orders = orders
        self.notice_deadline = notice_deadline
        self.platforms = platforms
        self.posts = posts
        self.recorder = recorder
        self.prohibited = prohibited
        self.prohibited_posts = prohibited_posts
        self.reporting = reporting
        self.appeals = appeals
        self.rng = rng
        self.threads = threads
        self.users = users
        #: The last day's sanctions: each one's post kind, whether friends saw it and
        #: whether it gives the author a strike.
        self.sanctioned_kind = np.zeros(0, dtype=np.int64)
        self.sanctioned_seen = np.zeros(0, dtype=bool)
        self.sanctioned_strike = np.zeros(0, dtype=bool)
        #: The last day's held posts approved (ids, platform by platform): published
        #: when approved, so friends see them then (docs/model.md S16).
        self.approved_today = np.zeros(0, dtype=np.int64)
        #: ``[platform, action]``: whether a take-down by that route gives a strike (S14).
        self.strike_routes = strike_table(platforms)
        #: What a take-down's cut of views needs (docs/model.md S5b): each user's
        #: audience (called when a post first comes down), the run's end and tau.
        #: ``None``: no exposure is booked (set by the simulation).
        self.exposure: tuple[Any, float, float] | None = None

    def book_exposure(self, ids: IntArray, back_hours: float | None = None) -> None:
        """The views the take-downs of posts ``ids`` cut, into their cells
        (:func:`simulator.model.exposure.cut_exposure`); with ``back_hours``, the views
        posts reinstated then regain, taken off (``regained_exposure``)."""
        if self.exposure is None or len(ids) == 0:
            return
        audience_of, end_hours, tau_hours = self.exposure
        posts = self.posts
        kind, channel = posts.kind[ids], posts.channel[ids]
        a = exposure.post_audience(audience_of()[posts.author[ids]], kind, channel)
        published = posts.published_hours[ids]
        if back_hours is None:
            views = exposure.cut_exposure(
                published, posts.removed_hours[ids], end_hours, a, tau_hours
            )
        else:
            views = -exposure.regained_exposure(published, back_hours, end_hours, a, tau_hours)
        self.recorder.add_exposure_cut(posts.day[ids], posts.platform[ids], channel, kind, views)

    def book_potential(self, ids: IntArray) -> None:
        """The potential exposure of held posts ``ids`` approved (published now, at
        ``published_hours``), into their cells: public posts of sensitive kinds only
        (S5b; the others are counted, as published, at audience 1 or have none)."""
        if self.exposure is None or len(ids) == 0:
            return
        posts = self.posts
        kind, channel = posts.kind[ids], posts.channel[ids]
        weighed = (kind != ContentKind.BENIGN) & (channel == Channel.PUBLIC)
        if not weighed.any():
            return
        ids = ids[weighed]
        audience_of, end_hours, tau_hours = self.exposure
        views = exposure.potential_exposure(
            posts.published_hours[ids], end_hours, audience_of()[posts.author[ids]], tau_hours
        )
        self.recorder.add_potential(
            posts.day[ids], posts.platform[ids], channel[weighed], kind[weighed], views
        )

    def run(
        self, end: float, beside: Callable[[], None] | None = None
    ) -> tuple[IntArray, IntArray]:
        """Advance every platform's queue to ``end``. Returns the authors sanctioned today
        (blocked or removed, with repeats) and the authors of public posts removed today.
        ``beside``: work for the second thread once the other platforms' days are done,
        where they run there (it must touch nothing the review does); not called
        otherwise."""
        if not self.compiled or not all(
            isinstance(platform.queue, ArrayReviewQueue) for platform in self.platforms
        ):
            return self.run_python(end)
        columns = self.posts.columns
        rec = self.recorder
        tallies = rec.tallies
        sanctioned: list[IntArray] = []
        public_removed: list[IntArray] = []
        kinds: list[IntArray] = []
        seen: list[NDArray[np.bool_]] = []
        strike: list[NDArray[np.bool_]] = []
        approved: list[IntArray] = []
        # Each platform's day in one compiled call; the calls share no data (each
        # writes only its own posts' columns; each queue draws from its own stream), so
        # at scale the other platforms' days, from taking their arrivals on, run on the
        # second thread. Then the bookkeeping, platform by platform in order.

        def prepare(platform: PlatformState) -> tuple[Any, ...] | None:
            """The compiled day's arguments for ``platform``; None where it has nothing
            to decide today (services under way just end)."""
            queue = platform.queue
            assert isinstance(queue, ArrayReviewQueue)  # checked above
            at, ap, ai = queue.arrivals_before(end)
            if len(at) == 0 and queue.waiting == 0 and queue.created_waiting == 0:
                busy = queue.busy
                if busy:
                    finish = np.sort(queue.finish[:busy])
                    running = finish[finish >= end]
                    queue.finish[: len(running)] = running  # sorted: still a heap
                    queue.counters[0] = len(running)
                platform.reviews_today = 0
                platform.removals_today = 0
                return None
            follow = follow_ons(platform, queue, ap, columns)
            queue.reserve(len(at) + follow.room, ap, follow.holds)
            threshold = review_kernels.comparable_threshold(platform.threshold)
            held_threshold = review_kernels.comparable_threshold(
                platform.threshold + platform.spec.held_review_margin
            )
            return (
                at, ap, ai, end, queue.servers, queue.finish, queue.wait_item,
                queue.wait_arrival, queue.wait_levels, queue.service, queue.counters,
                threshold, held_threshold, columns["reviewer_score"],
                columns["appeal_score"], columns["removed_hours"], columns["removed_by"],
                columns["published_hours"], columns["blocked_hours"], columns["kind"], N_KINDS,
                follow,
            )  # fmt: skip

        def day_of(platform: PlatformState) -> tuple[Any, ...] | None:
            args = prepare(platform)
            return None if args is None else review_kernels.review_day(*args)

        def last_day(platform: PlatformState) -> tuple[Any, ...] | None:
            day = day_of(platform)
            if beside is not None:
                beside()
            return day

        days: Iterable[tuple[PlatformState, tuple[Any, ...] | None]]
        if len(self.platforms) > 1 and threaded(self.users):
            # Each platform's booking starts as soon as its day is done (booking writes
            # no post column a review day reads).
            last = self.platforms[-1]
            others = [
                (p, self.threads.submit(last_day if p is last else day_of, p))
                for p in self.platforms[1:]
            ]
            first = (self.platforms[0], day_of(self.platforms[0]))
            days = chain([first], ((p, future.result()) for p, future in others))
        else:
            days = [(p, day_of(p)) for p in self.platforms]
        for platform, day in days:
            if day is None:
                continue
            waits, ids, n_ids, reviewed, made_item, made_time = day
            queue = platform.queue
            assert isinstance(queue, ArrayReviewQueue)  # checked above
            queue.settle_created(end)
            book_follow_ons(self, platform, made_item, made_time)
            platform.queue_served += len(waits)
            platform.queue_wait_hours += float(waits.sum())
            tallies["reviews"] += reviewed
            platform.reviews_today = int(reviewed.sum())
            n_removed, n_rejected = int(n_ids[0]), int(n_ids[2])
            platform.removals_today = n_removed + n_rejected
            if not (n_ids.any()):
                continue
            # Before book_review: the reinstated posts' cuts are given back first.
            self.book_exposure(
                ids[review_kernels.REINSTATED_ROW, : n_ids[review_kernels.REINSTATED_ROW]], end
            )
            self.book_exposure(ids[review_kernels.REMOVED_ROW, :n_removed])
            approved_now = ids[review_kernels.APPROVED_ROW, : n_ids[review_kernels.APPROVED_ROW]]
            approved.append(approved_now.copy())
            self.book_potential(approved_now)
            authors, public, beyond, _ = review_kernels.book_review(
                ids, n_ids, columns["day"], columns["platform"], columns["channel"],
                columns["kind"], columns["author"], columns["time_hours"],
                columns["published_hours"], columns["removed_hours"], columns["removed_by"],
                self.prohibited, rec.counts, rec.delay_counts, DELAY_EDGES_HOURS,
                tallies["reinstated"], tallies["notices_removed"],
                platform.published_prohibited_by_hour,
            )  # fmt: skip
            if len(beyond):
                self.prohibited_posts.count_published(platform, beyond)
            if self.ledger is not None:
                n_reinstated = int(n_ids[review_kernels.REINSTATED_ROW])
                reinstated = ids[review_kernels.REINSTATED_ROW, :n_reinstated]
                self.ledger.add_reinstated(self.posts, reinstated)
                self.ledger.add_removals(self.posts, ids[review_kernels.REMOVED_ROW, :n_removed])
            if len(authors):
                sanctioned.append(authors)
                # book_review's order: rejected (friends never saw them), then removed.
                rejected = ids[review_kernels.REJECTED_ROW, :n_rejected]
                removed = ids[review_kernels.REMOVED_ROW, :n_removed]
                kinds.append(columns["kind"][np.concatenate((rejected, removed))].astype(np.int64))
                seen.append(
                    np.concatenate(
                        (np.zeros(n_rejected, dtype=bool), columns["channel"][removed] == 0)
                    )
                )
                taken = np.concatenate((rejected, removed))
                route = np.concatenate(
                    (np.full(n_rejected, Action.HOLD), columns["removed_by"][removed])
                )
                strike.append(
                    self.strikes_for(platform, route, columns["reviewer_score"][taken], reviewed)
                )
            if n_removed:
                removed = ids[review_kernels.REMOVED_ROW, :n_removed]
                public_removed.append(public)
                self.reporting.report_removals(platform, self.posts, removed)
                appealed = file_appeals(
                    platform, self.posts, removed, end, self.appeals, self.rng, rec
                )
                if self.ledger is not None:
                    self.ledger.add_appeals(self.posts, appealed)
        self._keep_seen(kinds, seen, strike, approved)
        empty = np.zeros(0, dtype=np.int64)
        return (
            np.concatenate(sanctioned) if sanctioned else empty,
            np.concatenate(public_removed) if public_removed else empty,
        )

    def run_python(self, end: float) -> tuple[IntArray, IntArray]:
        """:meth:`run` in Python and numpy: the queue's event loop calling
        :class:`Decisions` as each item starts (the reference the kernels must match)."""
        posts = self.posts
        rec = self.recorder
        sanctioned: list[IntArray] = []
        public_removed: list[IntArray] = []
        kinds: list[IntArray] = []
        seen: list[NDArray[np.bool_]] = []
        strike: list[NDArray[np.bool_]] = []
        approved_ids: list[IntArray] = []
        for platform in self.platforms:
            follow = None
            if platform.spec.prepublication_filter:
                follow = (
                    platform.queue, platform.spec.held_review_margin,
                    platform.spec.sweep_interval_hours,
                )  # fmt: skip
            day_review = Decisions(
                posts, platform.threshold, platform.threshold + platform.spec.held_review_margin,
                follow,
            )  # fmt: skip
            served = platform.queue.run_until(
                end, day_review.serve, day_review.serve_many, follow_ons=follow is not None
            )
            book_follow_ons(
                self, platform, np.asarray(day_review.created_items, dtype=np.int64),
                np.asarray(day_review.created_hours, dtype=np.float64),
            )  # fmt: skip
            platform.queue_served += len(served)
            platform.queue_wait_hours += float((served.start_hours - served.arrival_hours).sum())
            removed, approved = day_review.removed, day_review.approved
            if day_review.reinstated:
                ids = np.asarray(day_review.reinstated, dtype=np.int64)
                self._move_posts(ids, Outcome.REMOVED, Outcome.SURVIVING)
                rec.tally("reinstated", posts.kind[ids])
                self.book_exposure(ids, end)
                if self.ledger is not None:
                    self.ledger.add_reinstated(posts, ids)
            rejected, reviewed_kinds = day_review.rejected, day_review.reviewed_kinds
            rec.tally("reviews", np.asarray(reviewed_kinds, dtype=np.int64))
            platform.reviews_today = len(reviewed_kinds)
            reviewed = np.bincount(np.asarray(reviewed_kinds, dtype=np.int64), minlength=N_KINDS)
            if approved:
                ids = np.asarray(approved, dtype=np.int64)
                approved_ids.append(ids)
                self._move_posts(ids, Outcome.BLOCKED, Outcome.SURVIVING)
                self.book_potential(ids)
                prohibited = self.prohibited[posts.kind[ids]]
                self.prohibited_posts.count_published(
                    platform, posts.published_hours[ids[prohibited]]
                )
            if rejected:
                ids = np.asarray(rejected, dtype=np.int64)
                sanctioned.append(posts.author[ids])
                kinds.append(posts.kind[ids].astype(np.int64))
                seen.append(np.zeros(len(ids), dtype=bool))
                route = np.full(len(ids), Action.HOLD)
                score = posts.reviewer_score[ids]
                strike.append(self.strikes_for(platform, route, score, reviewed))
            if removed:
                ids = np.asarray(removed, dtype=np.int64)
                self._move_posts(ids, Outcome.SURVIVING, Outcome.REMOVED)
                rec.add_delays(posts.kind[ids], posts.removed_hours[ids] - posts.time_hours[ids])
                self.book_exposure(ids)
                notice_removed = ids[posts.removed_by[ids] == Action.NOTICE]
                rec.tally("notices_removed", posts.kind[notice_removed])
                sanctioned.append(posts.author[ids])
                public = posts.channel[ids] == Channel.PUBLIC
                public_removed.append(posts.author[ids[public]])
                kinds.append(posts.kind[ids].astype(np.int64))
                seen.append(public)
                strike.append(
                    self.strikes_for(
                        platform, posts.removed_by[ids], posts.reviewer_score[ids], reviewed
                    )
                )
                self.reporting.report_removals(platform, posts, ids)
                appealed = file_appeals(platform, posts, ids, end, self.appeals, self.rng, rec)
                if self.ledger is not None:
                    self.ledger.add_removals(posts, ids)
                    self.ledger.add_appeals(posts, appealed)
            platform.removals_today = len(removed) + len(rejected)
        self._keep_seen(kinds, seen, strike, approved_ids)
        empty = np.zeros(0, dtype=np.int64)
        return (
            np.concatenate(sanctioned) if sanctioned else empty,
            np.concatenate(public_removed) if public_removed else empty,
        )

    def strikes_for(
        self,
        platform: PlatformState,
        route: NDArray[np.integer],
        score: NDArray[np.floating],
        reviewed: NDArray[np.integer],
    ) -> NDArray[np.bool_]:
        """Whether each of ``platform``'s take-downs today (its route and its post's
        reviewer score) gives the author a strike, with the day's reviewed posts per kind
        as the platform's prior (:func:`simulator.model.strikes.strike_given`, S14)."""
        return strike_given(
            route,
            score,
            self.strike_routes[platform.index],
            platform.spec.strike_confidence,
            reviewed,
            np.asarray(platform.spec.reviewer_mean.as_tuple(), dtype=np.float64),
            self.prohibited,
        )

    def _keep_seen(
        self,
        kinds: list[IntArray],
        seen: list[NDArray[np.bool_]],
        strike: list[NDArray[np.bool_]],
        approved: list[IntArray],
    ) -> None:
        """The day's sanctions' post kinds, whether friends saw each (a public removal)
        and whether each gives a strike, in the order of the authors :meth:`run`
        returns: what users learn from (docs/model.md S16) and what counts (S14); and
        the held posts approved (their friends see them now, S16)."""
        self.sanctioned_kind = (
            np.concatenate(kinds).astype(np.int64) if kinds else np.zeros(0, dtype=np.int64)
        )
        self.sanctioned_seen = np.concatenate(seen) if seen else np.zeros(0, dtype=bool)
        self.sanctioned_strike = (
            np.concatenate(strike).astype(bool) if strike else np.zeros(0, dtype=bool)
        )
        self.approved_today = (
            np.concatenate(approved).astype(np.int64) if approved else np.zeros(0, dtype=np.int64)
        )

    def _move_posts(self, ids: IntArray, source: Outcome, target: Outcome) -> None:
        """Posts ``ids`` change fate: one count moves in each post's own daily cell."""
        posts = self.posts
        self.recorder.move(
            posts.day[ids], posts.platform[ids], posts.channel[ids], posts.kind[ids], source, target
        )


class Decisions:
    """The decisions reviewers take while a queue advances: called once per service start.

    A held post is blocked or approved; a published post is removed if an order demands
    it or its reviewer score exceeds today's threshold. A post already down is dropped
    without using a reviewer's time.
    """

    def __init__(
        self,
        posts: PostStore,
        threshold: float,
        held_threshold: float,
        follow: tuple[ReviewQueue, float, float] | None = None,
    ) -> None:
        """``follow``: the queue, ``held_review_margin`` and sweep interval (hours) of a
        platform whose approvals create the published post's touches (issue 17), or None."""
        self.follow = follow
        self.posts = posts
        #: The items approvals created and their arrival hours, in creation order.
        self.created_items: list[int] = []
        self.created_hours: list[float] = []
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
                if self.follow is not None:
                    self.create_touches(post, finish)
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

    def create_touches(self, post: int, approved: float) -> None:
        """Held post ``post`` approved at ``approved`` hours: its flag, notice and order
        (:func:`simulator.model.held_touches.touch_times`) onto the queue as arrivals
        created then, in that order; the order's arrival kept on the post."""
        assert self.follow is not None
        queue, margin, interval = self.follow
        posts = self.posts
        times = held_touches.touch_times(
            np.array([approved]), interval, margin, posts.held_notice_delay[post : post + 1],
            posts.held_order_delay[post : post + 1],
        )  # fmt: skip
        for action, arrival in zip((Action.FLAG, Action.NOTICE, Action.ORDER), times, strict=True):
            hours = float(arrival[0])
            if hours == math.inf:
                continue
            if action == Action.ORDER:
                posts.order_hours[post] = hours
            item = post * Action.COUNT + action
            queue.follow(hours, action, item, approved)
            self.created_items.append(item)
            self.created_hours.append(hours)

    def serve_many(
        self, items: IntArray, begin: NDArray[np.float64], finish: NDArray[np.float64]
    ) -> NDArray[np.bool_]:
        """:meth:`serve` for many items at once, with the same effect as calling it on
        each in order. Items of a post that has no other item here (and is not appealed)
        are decided together; the others go through :meth:`serve` one by one (they only
        interact with items of their own post). ``removed`` keeps serve's order, which
        later random draws follow. Not with ``follow`` (the queue then runs event by
        event)."""
        assert self.follow is None
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
