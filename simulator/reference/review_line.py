"""The review line as a platform's policy weighs it, written out in plain Python for the
per-agent reference (docs/model.md S8, "Deadlines and the queue" and "Strict liability:
posts waiting for review"): the same rule as the engine's
:mod:`simulator.model.deadline_miss`, stated apart (scalars and the ``math`` module) so
the agreement tests compare two statements of one model. :func:`missed_share` is the
share of the reviews the published posts ask for that the line does not do in time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class Platform(Protocol):
    """What the line reads of a platform's moderation
    (:class:`simulator.reference.platform_policy.Platform`): per kind, the chance a post
    is held and, published, flagged at a threshold; the chance a published post is
    noticed and ordered; whether it holds posts, the chance a held post is approved
    and whether an approved one is flagged (issue 17)."""

    @property
    def notice(self) -> list[float]: ...

    @property
    def order(self) -> list[float]: ...

    @property
    def prefilter(self) -> bool: ...

    @property
    def held_flagged(self) -> float: ...

    def held(self, t: float, kind: int) -> float: ...

    def approved(self, t: float, kind: int) -> float: ...

    def flagged(self, t: float, kind: int) -> float: ...


@dataclass(frozen=True)
class Queue:
    """The review line as the platform weighs it (docs/model.md S8): ``desks``
    reviewers, ``review_hours`` of clock a review, ``backlog`` items waiting at the
    day's end; under strict liability the audit window (hours) and the staffing week
    (days) over which the backlog competes with the reviews asked for; under notice
    liability the notice deadline (hours; ``inf``: none)."""

    desks: int
    review_hours: float
    backlog: float
    window_hours: float
    period_days: float
    deadline_hours: float


def erlang_c(servers: int, load: float) -> float:
    """The chance an arrival waits in an M/M/c queue at ``load`` Erlangs on ``servers``
    desks (Erlang B by its recursion, then C); 1 at a load of ``servers`` or more."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    rho = load / servers
    if rho >= 1.0:
        return 1.0
    return min(1.0, max(0.0, b / (1.0 - rho * (1.0 - b))))


def hours_behind_backlog(backlog: float, drain: float, published: float, until: float) -> float:
    """Mean wait (hours) behind ``backlog`` items of a published post arriving in the
    first ``until`` days: the reviews served first leave ``drain`` reviews a day for
    the backlog, and the published posts join behind it at ``published`` a day, so a
    post arriving ``x`` days in finds ``max(0, backlog − (drain − published) x)`` ahead
    (a fluid mean, docs/model.md S8)."""
    if backlog <= 0.0:
        return 0.0
    if drain <= 0.0:
        return math.inf
    if until <= 0.0:
        return 24.0 * backlog / drain
    net = drain - published
    clears = backlog / net if net > 0.0 else math.inf  # days until it is gone
    if clears >= until:
        return 24.0 * (backlog - net * until / 2.0) / drain  # never gone: the mean
    return 24.0 * backlog * clears / (2.0 * drain * until)  # gone before the last one


def missed_share(
    platform: Platform, t: float, flows: list[float], liability: str, queue: Queue | None
) -> float:
    """The share of the reviews the published posts ask for at ``t`` that the queue
    does not do in time (docs/model.md S8, "Deadlines and the queue"), at the load
    ``t`` creates from the day's ``flows`` (posts a day per kind), approved held posts'
    later touches included (issue 17). The queue serves holds and orders first, then
    notices, then flags.

    Strict liability: of the week's reviews of published posts (``F_p`` a day) the
    share ``s`` the capacity leaves after the holds and orders (``F_h``) and the
    backlog is served, after its wait behind the backlog and Cobham's mean wait of its
    class; unserved ones count the whole window, served ones their wait's share of it.
    Notice liability: the chance a notice's review has not started by the deadline,
    ``C · exp(−d cμ (1 − σ_hi)(1 − σ_n))``. No queue to weigh: 0."""
    if queue is None:
        return 0.0
    first = notices = flags = 0.0  # a day
    for kind, n in enumerate(flows):
        held = platform.held(t, kind)
        order, notice = platform.order[kind], platform.notice[kind]
        flag = platform.flagged(t, kind)
        first += n * (held + (1.0 - held) * order)
        if liability == "strict":
            flags += n * (1.0 - held) * (1.0 - order) * (1.0 - (1.0 - flag) * (1.0 - notice))
        else:
            notices += n * (1.0 - held) * notice
            flags += n * (1.0 - held) * flag
        if platform.prefilter:
            # An approved held post is touched as a post published then (issue 17): its
            # order is served first; its flag (m > 0) and notice are items as a
            # published post's (strict: one review a post, as the published posts').
            approved = n * platform.approved(t, kind)
            first += approved * order
            if liability == "strict":
                asks = 1.0 - (1.0 - platform.held_flagged) * (1.0 - notice)
                flags += approved * (1.0 - order) * asks
            else:
                notices += approved * notice
                flags += approved * platform.held_flagged
    if liability != "strict":
        if not math.isfinite(queue.deadline_hours):
            return 0.0
        if queue.desks <= 0:
            return 1.0
        rate = queue.desks / queue.review_hours  # reviews an hour
        higher, own = first / 24.0 / rate, (first + notices) / 24.0 / rate
        if own >= 1.0:
            return 1.0
        busy = erlang_c(queue.desks, (first + notices + flags) / 24.0 * queue.review_hours)
        return busy * math.exp(-queue.deadline_hours * rate * (1.0 - higher) * (1.0 - own))
    if queue.desks <= 0:
        return 1.0
    period = queue.period_days
    per_day = 24.0 * queue.desks / queue.review_hours
    drain = per_day - first  # what the holds and orders leave, a day
    demand = flags * period
    served = min(1.0, max(0.0, (drain * period - queue.backlog) / demand)) if demand > 0 else 1.0
    rate = queue.desks / queue.review_hours
    load_first, load_all = first / 24.0 / rate, (first + flags) / 24.0 / rate
    if load_all >= 1.0:
        waited = 1.0
    else:
        busy = erlang_c(queue.desks, load_all * queue.desks)
        mean_wait = busy / (rate * (1.0 - load_first) * (1.0 - load_all))
        behind = hours_behind_backlog(queue.backlog, drain, flags, served * period)
        waited = min(1.0, (behind + mean_wait) / queue.window_hours)
    return (1.0 - served) + served * waited
