"""The regulator (audits and the penalty ladder) and the police (investigations).

The regulator audits each platform at random times (a Poisson process, one SimPy
process per platform). An audit inspects a sample of the posts published in its window,
counts the prohibited ones still up and the takedown orders that missed their deadline,
and climbs the penalty ladder (warning, fine, suspension, licence revocation) when it
finds more than the tolerance. Clean audits step back down.

The police investigate reported users one at a time per investigator (an exact
multi-server queue) and detain some; detentions are public news that users observe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import simpy

from simulator import kernels_day
from simulator.kinds import KIND_LABELS, EventKind
from simulator.platforms import PlatformState
from simulator.review_queue import SERVICE_BLOCK
from simulator.scenario import Police as PoliceSpec
from simulator.scenario import Regulator as RegulatorSpec
from simulator.scenario import Rules

HOURS_PER_DAY = 24.0


class EventLog(Protocol):
    """Where institutional events go (:meth:`simulator.output.recorder.Recorder.event`)."""

    def event(self, *args: Any, **kwargs: Any) -> None:
        """Record one event: ``(time_hours, event, platform, user=-1, kind="",
        amount=0.0, detail="")`` (:class:`simulator.output.recorder.Event`)."""


@dataclass(frozen=True)
class AuditView:
    """What the regulator reads of a run and the one change it makes beyond the platform
    it audits (a revoked licence takes the platform off the market). The engine builds
    it; the regulator sees nothing else of the run."""

    env: simpy.Environment
    recorder: EventLog
    #: Prohibited posts published on a platform in [since, now] and still up at ``now``.
    prohibited_still_up: Callable[[PlatformState, float, float], int]
    #: Orders and notice duties whose deadline fell in (after, until] unmet by then.
    duties_missed_between: Callable[[PlatformState, float, float], int]
    #: Active users of a platform who are not registered under their real name.
    anonymous_active_users: Callable[[PlatformState], int]
    #: ``remove_platform(platform, at_hours, reason)``: it leaves the market then.
    remove_platform: Callable[[PlatformState, float, str], None]


class UsersView(Protocol):
    """What the police read of the population: per-user arrays, read when a day is
    advanced (:class:`simulator.population.Users`)."""

    state: np.ndarray  # UserState codes (int8)
    traceable: np.ndarray  # bool: registered under the user's real name


class Regulator:
    """Audits platforms and applies penalties. Reads the run's state through ``view``."""

    def __init__(
        self, view: AuditView, spec: RegulatorSpec, rules: Rules, rng: np.random.Generator
    ) -> None:
        self.view = view
        self.rng = rng
        self.spec = spec
        self.rules = rules

    def audit_process(self, platform: PlatformState) -> Generator[simpy.Event, Any, None]:
        """Audit ``platform`` at exponential intervals until it leaves the market."""
        env = self.view.env
        rate_per_hour = self.spec.audits_per_year / (365.0 * HOURS_PER_DAY)
        if rate_per_hour <= 0.0:
            return
        while not platform.exited:
            yield env.timeout(float(self.rng.exponential(1.0 / rate_per_hour)))
            if platform.exited:
                return
            self.audit(platform, float(env.now))

    def audit(self, platform: PlatformState, now: float) -> None:
        view = self.view
        window_start = max(0.0, now - self.spec.audit_window_days * HOURS_PER_DAY)
        still_up = view.prohibited_still_up(platform, window_start, now)
        found = int(self.rng.binomial(still_up, self.spec.audit_sample_share)) if still_up else 0
        missed_orders = view.duties_missed_between(platform, platform.last_audit_hours, now)
        unregistered = 0
        if self.rules.real_name.enabled and now >= self.rules.real_name.start_day * HOURS_PER_DAY:
            anonymous = view.anonymous_active_users(platform)
            unregistered = (
                int(self.rng.binomial(anonymous, self.spec.audit_sample_share)) if anonymous else 0
            )
        platform.last_audit_hours = now
        view.recorder.event(
            now,
            EventKind.AUDIT,
            platform.name,
            amount=float(found),
            detail=(
                f"up={still_up} found={found} deadlines_missed={missed_orders} "
                f"unregistered={unregistered}"
            ),
        )
        tolerance = self.rules.penalties.tolerance
        violation = found > tolerance or missed_orders > 0 or unregistered > tolerance
        if violation:
            platform.clean_audits = 0
            self.penalise(platform, now)
        else:
            platform.clean_audits += 1
            if platform.clean_audits >= self.rules.penalties.deescalate_after_clean_audits:
                platform.penalty_level = max(0, platform.penalty_level - 1)
                platform.clean_audits = 0

    def penalise(self, platform: PlatformState, now: float) -> None:
        """Apply the platform's current rung of the ladder and move it one rung up."""
        ladder = self.rules.penalties.ladder
        if not ladder:
            return
        step = ladder[min(platform.penalty_level, len(ladder) - 1)]
        platform.penalty_level = min(platform.penalty_level + 1, len(ladder) - 1)
        platform.fear += 1.0
        recorder = self.view.recorder
        # Penalties that change who can post take effect at the next day boundary: the
        # population is advanced a day at a time (docs/model.md, "Scheduling").
        next_day = math.floor(now / HOURS_PER_DAY + 1.0) * HOURS_PER_DAY
        if step.action == "warning":
            recorder.event(now, EventKind.WARNING, platform.name)
        elif step.action == "fine":
            annual_revenue = 365.0 * platform.active_users * platform.spec.revenue_per_user_day
            amount = max(step.amount, step.turnover_share * annual_revenue)
            platform.cash -= amount
            platform.fines_paid += amount
            recorder.event(now, EventKind.FINE, platform.name, amount=amount)
        elif step.action == "suspension":
            start = max(next_day, platform.suspended_until_hours)
            platform.suspended_until_hours = start + step.days * HOURS_PER_DAY
            platform.suspensions += 1
            recorder.event(now, EventKind.SUSPENSION, platform.name, amount=step.days)
        else:
            recorder.event(now, EventKind.REVOCATION, platform.name)
            self.view.remove_platform(platform, next_day, "licence revoked")


@dataclass
class Police:
    """Investigators working through reports first come, first served.

    The line is the exact multi-server queue of :class:`~simulator.review_queue.ReviewQueue`
    with one priority level, advanced a day at a time by the compiled
    :func:`simulator.kernels_day.investigate_until` (the queue's service times and the
    investigations' draws are drawn ahead in blocks from their own generators, which
    nothing else uses: the same numbers in the same order). ``tests/test_police.py``
    runs the Python form (a ``ReviewQueue`` with an ``investigate`` callback) beside it.
    """

    spec: PoliceSpec
    users: UsersView
    rng: np.random.Generator
    # Detentions decided but not yet in force: (time_hours, user, kind)
    pending_detentions: list[tuple[float, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = self.spec
        self._service_rng = self.rng.spawn(1)[0]  # the queue's service times
        self._mean_service_hours = spec.investigation_days * HOURS_PER_DAY
        self._detention_probability = np.array(spec.detention_probability.as_tuple())
        # Reports filed: who and what (report i is item i in the line).
        self._report_user = np.empty(64, dtype=np.int64)
        self._report_kind = np.empty(64, dtype=np.int64)
        self._reports = 0
        # Filed since the last advance (times, in filing order), then arrivals not yet
        # processed, sorted by time (ties in filing order).
        self._unsubmitted: list[np.ndarray] = []
        self._pending_t = np.empty(0, dtype=np.float64)
        self._pending_i = np.empty(0, dtype=np.int64)
        # The line's state (see investigate_until): finish heap, ring, counters
        # [busy, head, length, next service, next uniform], draws made ahead.
        self._finish = np.empty(spec.investigators + 1, dtype=np.float64)
        self._line = np.empty(64, dtype=np.int64)
        self._line_arrival = np.empty(64, dtype=np.float64)
        self._counters = np.zeros(5, dtype=np.int64)
        self._service = np.empty(0, dtype=np.float64)
        self._uniform = np.empty(0, dtype=np.float64)

    @property
    def busy(self) -> int:
        """Investigators at work."""
        return int(self._counters[0])

    @property
    def waiting(self) -> int:
        """Reports that arrived and wait for an investigator."""
        return int(self._counters[2])

    @property
    def pending(self) -> int:
        """Reports filed whose arrival has not been processed yet."""
        return len(self._pending_t) + sum(len(t) for t in self._unsubmitted)

    def report(self, time_hours: np.ndarray, user: np.ndarray, kind: np.ndarray) -> None:
        """File reports (one per element) that arrive at ``time_hours``; they join the
        line when :meth:`advance` reaches them."""
        count = len(user)
        if count == 0:
            return
        start, stop = self._reports, self._reports + count
        if stop > len(self._report_user):
            size = max(stop, 2 * len(self._report_user))
            self._report_user = _grown(self._report_user, size)
            self._report_kind = _grown(self._report_kind, size)
        self._report_user[start:stop] = user
        self._report_kind[start:stop] = kind
        self._reports = stop
        self._unsubmitted.append(np.array(time_hours, dtype=np.float64))  # a copy

    def _merge_reports(self) -> None:
        """Reports filed since the last advance into the sorted pending arrivals (one
        stable sort: ties keep filing order, as the queue's submissions did)."""
        if not self._unsubmitted:
            return
        new = np.concatenate(self._unsubmitted)
        self._unsubmitted = []
        first = self._reports - len(new)
        times = np.concatenate((self._pending_t, new))
        items = np.concatenate((self._pending_i, np.arange(first, self._reports)))
        if len(times) > 1 and (times[1:] < times[:-1]).any():
            order = np.argsort(times, kind="stable")
            times, items = times[order], items[order]
        self._pending_t, self._pending_i = times, items

    def advance(self, until_hours: float) -> None:
        """Every arrival, start and finish before ``until_hours``; the detentions decided
        join :attr:`pending_detentions`."""
        self._merge_reports()
        busy, length = self.busy, self.waiting
        if busy == 0 and length == 0 and len(self._pending_t) == 0:
            return  # nothing under way, waiting or to arrive (a world without reports)
        n = int(np.searchsorted(self._pending_t, until_hours, side="left"))
        arrival, items = self._pending_t[:n], self._pending_i[:n]
        self._pending_t, self._pending_i = self._pending_t[n:], self._pending_i[n:]
        self._make_room(n, length + n)
        users = self.users
        times, who, kinds = kernels_day.investigate_until(
            arrival, items, float(until_hours), self.spec.investigators, self._finish,
            self._line, self._line_arrival, self._counters, self._service, self._uniform,
            self._report_user, self._report_kind, users.state, users.traceable,
            float(self.spec.identify_anonymous_probability), self._detention_probability,
        )  # fmt: skip
        self.pending_detentions.extend(
            zip(times.tolist(), who.tolist(), kinds.tolist(), strict=True)
        )

    def _make_room(self, arrivals: int, in_line: int) -> None:
        """Room in the ring for ``in_line`` reports, and a service time and two draws
        for each (every start or drop uses one time; an investigation two draws at
        most), drawn ahead in the blocks the queue drew them in."""
        counters = self._counters
        if in_line > len(self._line):
            head, length = int(counters[1]), int(counters[2])
            capacity = len(self._line)
            while capacity < in_line:
                capacity *= 2
            order = (head + np.arange(length)) & (len(self._line) - 1)
            self._line = _grown(self._line[order], capacity)
            self._line_arrival = _grown(self._line_arrival[order], capacity)
            counters[1] = 0
        self._service, counters[3] = _topped_up(
            self._service, int(counters[3]), in_line,
            lambda: self._service_rng.exponential(self._mean_service_hours, SERVICE_BLOCK),
        )  # fmt: skip
        self._uniform, counters[4] = _topped_up(
            self._uniform, int(counters[4]), 2 * in_line, lambda: self.rng.random(SERVICE_BLOCK)
        )

    def take_due(self, until_hours: float) -> list[tuple[float, int, int]]:
        """Detentions decided before ``until_hours``, removed from the pending list."""
        if not self.pending_detentions:
            return []
        due = [d for d in self.pending_detentions if d[0] < until_hours]
        self.pending_detentions = [d for d in self.pending_detentions if d[0] >= until_hours]
        return sorted(due)


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` copied into the start of a new array of ``size`` elements."""
    out = np.empty(size, dtype=array.dtype)
    out[: len(array)] = array
    return out


def _topped_up(
    draws: np.ndarray, used: int, needed: int, block: Callable[[], np.ndarray]
) -> tuple[np.ndarray, int]:
    """``draws[used:]`` with whole blocks appended until at least ``needed`` remain,
    and the new position of the next unused draw (0)."""
    left = draws[used:]
    if len(left) >= needed:
        return draws, used
    blocks = [left]
    while sum(len(b) for b in blocks) < needed:
        blocks.append(block())
    return np.concatenate(blocks), 0


def kind_label(kind: int) -> str:
    return KIND_LABELS[kind]
