"""The review day's side of issue 17 (docs/model.md S5, :mod:`simulator.model.held_touches`):
what a platform's approvals of held posts may create on a compiled day
(:func:`follow_ons`), and the items they created put on the record as a published
post's are (:func:`book_follow_ons`), for :class:`simulator.engine.review.ReviewDay`.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from simulator.kernels import review as review_kernels
from simulator.kinds import Action
from simulator.model.notices import NoticeLedger
from simulator.model.orders import OrderBook
from simulator.model.platforms import PlatformState
from simulator.model.regulator import HOURS_PER_DAY
from simulator.model.review_arrays import ArrayReviewQueue

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


class Books(Protocol):
    """Where :func:`book_follow_ons` books (:class:`simulator.engine.review.ReviewDay`)."""

    posts: Any
    recorder: Any
    ledger: NoticeLedger | None
    orders: OrderBook | None
    prohibited: NDArray[np.bool_]

    def notice_deadline(self) -> float | None: ...


def follow_ons(
    platform: PlatformState,
    queue: ArrayReviewQueue,
    priorities: IntArray,
    columns: dict[str, NDArray[Any]],
) -> review_kernels.FollowOns:
    """What ``platform``'s approvals of held posts create today, for the compiled day
    (:class:`~simulator.kernels.review.FollowOns`; ``columns``: the post store's), with
    room on ``queue`` for the created arrivals carried in and three for each HOLD item
    that may start (among the day's arrivals, of ``priorities``, and the waiting line)."""
    spec = platform.spec
    carried = queue.created_waiting
    if not spec.prepublication_filter:
        if carried == 0:
            return review_kernels.no_follow_ons(columns["order_hours"])
        holds = 0  # the filter went (a timeline): approvals create nothing more
    else:
        holds = int(np.count_nonzero(priorities == Action.HOLD))
        holds += queue.waiting_at(Action.HOLD)
    room = carried + 3 * holds
    queue.reserve_created(room)
    return review_kernels.FollowOns(
        bool(spec.prepublication_filter), spec.held_review_margin > 0.0,
        float(spec.sweep_interval_hours), columns["held_notice_delay"],
        columns["held_order_delay"], columns["order_hours"], queue.follow_time,
        queue.follow_created, queue.follow_seq, queue.follow_priority, queue.follow_item,
        room, holds,
    )  # fmt: skip


def book_follow_ons(
    day: Books, platform: PlatformState, items: IntArray, arrival: FloatArray
) -> None:
    """The review items approvals of ``platform``'s held posts created today (``items``,
    arriving at ``arrival`` hours, in creation order) on the record as a published
    post's are (S5): flags and notices tallied, notices in the ledger (their senders
    drawn from its stream) and, for prohibited kinds under a notice deadline, duties;
    orders in the order book by the day they arrive (their review items are on the
    queue already)."""
    if len(items) == 0:
        return
    posts = day.posts
    post, action = items // Action.COUNT, items % Action.COUNT
    kind = posts.kind[post]
    day.recorder.tally("flagged", kind[action == Action.FLAG])
    noticed = action == Action.NOTICE
    day.recorder.tally("notices", kind[noticed])
    if day.ledger is not None:
        day.ledger.add_notices(posts, post[noticed], arrival[noticed])
    if day.orders is None:
        return
    deadline = day.notice_deadline()
    duty = noticed & day.prohibited[kind]
    if deadline is not None and duty.any():
        day.orders.add_duties(
            platform.index, post[duty].tolist(), (arrival[duty] + deadline).tolist(),
            Action.NOTICE,
        )  # fmt: skip
    ordered = action == Action.ORDER
    if ordered.any():
        days = np.floor(arrival[ordered] / HOURS_PER_DAY).astype(np.int64)
        for order_day in np.unique(days).tolist():
            day.orders.add_orders(order_day, post[ordered][days == order_day])
