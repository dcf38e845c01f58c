"""Takedown orders, notice duties and their deadlines, and appeals (docs/model.md, S10
"Orders, notice duties and deadlines" and S7a "Appeals").

**Orders.** A published in-scope post spotted by the regulator (S5) gets an order at
``order_hours = T + Exp(monitoring_mean_delay_hours)``. On the day it arrives it is
*issued* if the post is still up (``removed_hours > order_hours``): tally ``orders``, an
``order`` event with ``deadline = order_hours + deadline_hours``, a duty with that
deadline and, when the reporting rule asks for it, a data request (a report, S11).
Orders of posts already down are dropped.

**Duties.** Issued orders and notices of prohibited content (where the law sets
``notice_deadline_hours``) are duties. On the day a deadline falls the duty is checked:
*missed* if ``removed_hours > deadline`` (tally ``orders_missed`` / ``notices_missed``,
an event at the deadline). Audits count the duties whose deadline fell since the last
audit and were missed (:meth:`OrderBook.missed_between`).

**Appeals** (:func:`file_appeals`). The author of each post the *platform* removed
(not on an order) appeals with probability ``appeals.probability``; the appeal reaches
the queue at ``max(removed_hours + Exp(mean_delay_hours), end of day)`` with a fresh
reviewer score ``appeal_score = mu_k + Z``, ``Z ~ N(0, 1)``.

The book holds post ids, so it registers with the post store (``registry``): the store
keeps the records its orders and duties still need and renumbers them on compaction.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from simulator.kinds import KIND_LABELS, Action, ContentKind, EventKind
from simulator.model.platforms import PlatformState
from simulator.model.regulator import HOURS_PER_DAY
from simulator.model.reporting import Reporting
from simulator.model.scenario import Appeals
from simulator.model.views import IntArray, PostIdRegistry, PostRecords, Renumbering, RunLog


class OrderBook:
    """Orders waiting to arrive (by arrival day) and duties with a deadline (per
    platform, and by deadline day)."""

    def __init__(
        self,
        platforms: Sequence[PlatformState],
        deadline_hours: float,
        posts: PostRecords,
        registry: PostIdRegistry,
    ) -> None:
        """``deadline_hours``: the time an issued order gives the platform; ``posts``:
        the records its ids point to; ``registry``: the store it registers with."""
        self.platforms = platforms
        self.posts = posts
        self.deadline_hours = deadline_hours
        #: Orders bucketed by the day they arrive: chunks of post ids of one platform.
        self.by_day: dict[int, list[IntArray]] = defaultdict(list)
        #: Each platform's duties (deadline in hours, post id), in the order made.
        self.duty_deadline: list[list[float]] = [[] for _ in platforms]
        self.duty_post: list[list[int]] = [[] for _ in platforms]
        self.duty_action: list[list[int]] = [[] for _ in platforms]  # Action.ORDER or NOTICE
        #: Duties by the day their deadline falls in: (post id, deadline, action).
        self.by_deadline_day: dict[int, list[tuple[int, float, int]]] = defaultdict(list)
        registry.register(self)

    def add_orders(self, arrival_day: int, posts: IntArray) -> None:
        """Orders of ``posts`` (one platform's) arriving on ``arrival_day``."""
        self.by_day[arrival_day].append(posts)

    def add_duties(self, p: int, posts: list[int], deadlines: list[float], action: int) -> None:
        """Duties (``action``: an order or a notice) of platform ``p`` to take ``posts``
        down by ``deadlines`` (hours), filed by the day each deadline falls in."""
        self.duty_deadline[p].extend(deadlines)
        self.duty_post[p].extend(posts)
        self.duty_action[p].extend([action] * len(posts))
        by_day = self.by_deadline_day
        for post, deadline in zip(posts, deadlines, strict=True):
            by_day[math.floor(deadline / HOURS_PER_DAY)].append((post, deadline, action))

    def settle(self, day: int, log: RunLog, reporting: Reporting) -> None:
        """Orders arriving on ``day`` are issued if their post is still up; duties whose
        deadline falls on ``day`` are checked against it."""
        posts = self.posts
        chunks = self.by_day.pop(day, None)
        if chunks:
            removed_hours, order_hours = posts.removed_hours, posts.order_hours
            orders = log.tallies["orders"]
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
                deadlines = (arrivals + self.deadline_hours).tolist()
                labels = [KIND_LABELS[kind] for kind in kinds.tolist()]
                details = [f"deadline={due:g}h" for due in deadlines]
                log.events_batch(arrivals, EventKind.ORDER, platform.name, authors, labels, details)
                self.add_duties(platform.index, issued.tolist(), deadlines, Action.ORDER)
                if reporting.on_orders:
                    # An order comes with a request for the author's data.
                    reporting.file_reports(platform, arrivals, authors, kinds)
        due = self.by_deadline_day.pop(day, [])
        if due:
            # Checked together; the few missed ones recorded in the order they were made.
            due_posts = np.array([duty[0] for duty in due], dtype=np.int64)
            due_deadlines = np.array([duty[1] for duty in due], dtype=np.float64)
            missed = np.flatnonzero(posts.removed_hours[due_posts] > due_deadlines).tolist()
            for i in missed:
                post, deadline, action = due[i]
                order = action == Action.ORDER
                kind = int(posts.kind[post])
                log.tally("orders_missed" if order else "notices_missed", kind)
                log.event(
                    deadline,
                    EventKind.ORDER_MISSED if order else EventKind.NOTICE_MISSED,
                    self.platforms[int(posts.platform[post])].name,
                    int(posts.author[post]),
                    ContentKind(kind).label,
                )

    def missed_between(self, platform: PlatformState, after: float, until: float) -> int:
        """Orders and notice duties whose deadline fell in (after, until] unmet by then."""
        return self._missed(platform, after, until, notices_only=False)

    def notices_missed_between(self, platform: PlatformState, after: float, until: float) -> int:
        """Notice duties alone whose deadline fell in (after, until] unmet by then."""
        return self._missed(platform, after, until, notices_only=True)

    def _missed(
        self, platform: PlatformState, after: float, until: float, notices_only: bool
    ) -> int:
        deadlines = np.asarray(self.duty_deadline[platform.index])
        if len(deadlines) == 0:
            return 0
        duty_posts = np.asarray(self.duty_post[platform.index], dtype=np.int64)
        due = (deadlines > after) & (deadlines <= until)
        if notices_only:
            due &= np.asarray(self.duty_action[platform.index]) == Action.NOTICE
        return int((self.posts.removed_hours[duty_posts[due]] > deadlines[due]).sum())

    # -- the post ids it holds (see HoldsPostIds) ------------------------------------------
    def live_post_ids(self, day: int) -> Iterable[IntArray]:
        """Orders still to arrive, duties awaiting their deadline check, and duties the
        next audit will read (deadline after the platform's last audit; the others are
        dropped: no audit reads them again)."""
        held: list[IntArray] = [ids for chunks in self.by_day.values() for ids in chunks]
        for duties in self.by_deadline_day.values():
            held.append(np.array([post for post, _, _ in duties], dtype=np.int64))
        for platform in self.platforms:
            deadlines = np.asarray(self.duty_deadline[platform.index], dtype=np.float64)
            unread = deadlines > platform.last_audit_hours
            duty_posts = np.asarray(self.duty_post[platform.index], dtype=np.int64)[unread]
            actions = np.asarray(self.duty_action[platform.index], dtype=np.int64)[unread]
            self.duty_deadline[platform.index] = deadlines[unread].tolist()
            self.duty_post[platform.index] = duty_posts.tolist()
            self.duty_action[platform.index] = actions.tolist()
            held.append(duty_posts)
        return held

    def renumber_post_ids(self, renumber: Renumbering) -> None:
        for order_day, chunks in self.by_day.items():
            self.by_day[order_day] = [renumber(ids) for ids in chunks]
        for due_day, duties in self.by_deadline_day.items():
            posts_due = renumber(np.array([post for post, _, _ in duties], dtype=np.int64))
            self.by_deadline_day[due_day] = [
                (post, deadline, action)
                for post, (_, deadline, action) in zip(posts_due.tolist(), duties, strict=True)
            ]
        for platform in self.platforms:
            duty_posts = np.asarray(self.duty_post[platform.index], dtype=np.int64)
            self.duty_post[platform.index] = renumber(duty_posts).tolist()


def file_appeals(
    platform: PlatformState,
    posts: PostRecords,
    ids: IntArray,
    end: float,
    rule: Appeals,
    rng: np.random.Generator,
    log: RunLog,
) -> None:
    """Some authors of ``platform``'s removals ``ids`` contest them (the module's
    appeals rule). Appeals reach the queue no earlier than ``end``, the end of the day
    being processed (the queue has already run to it). ``rng``: the appeals stream."""
    if not rule.enabled:
        return
    # A regulator's order is not the platform's decision to revisit: only the
    # platform's own removals can be appealed.
    ids = ids[posts.removed_by[ids] != Action.ORDER]
    chosen = ids[rng.random(len(ids)) < rule.probability]
    if len(chosen) == 0:
        return
    delay = rng.exponential(rule.mean_delay_hours, len(chosen))
    arrival = np.maximum(posts.removed_hours[chosen] + delay, end)
    means = np.array(platform.spec.reviewer_mean.as_tuple())
    posts.appeal_score[chosen] = means[posts.kind[chosen]] + rng.standard_normal(len(chosen))
    log.tally("appeals", posts.kind[chosen])
    items = chosen * Action.COUNT + Action.APPEAL
    platform.queue.submit(arrival, np.full(len(chosen), Action.APPEAL, np.int64), items)
