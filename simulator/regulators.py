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
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simulator.kinds import KIND_LABELS, EventKind, UserState
from simulator.review_queue import ReviewQueue

if TYPE_CHECKING:  # pragma: no cover
    from simulator.platforms import PlatformState
    from simulator.simulation import Simulation

HOURS_PER_DAY = 24.0


class Regulator:
    """Audits platforms and applies penalties. Reads the run's state through ``sim``."""

    def __init__(self, sim: Simulation, rng: np.random.Generator) -> None:
        self.sim = sim
        self.rng = rng
        self.spec = sim.scenario.regulator
        self.rules = sim.scenario.rules

    def audit_process(self, platform: PlatformState) -> Generator[simpy.Event, Any, None]:
        """Audit ``platform`` at exponential intervals until it leaves the market."""
        env = self.sim.env
        rate_per_hour = self.spec.audits_per_year / (365.0 * HOURS_PER_DAY)
        if rate_per_hour <= 0.0:
            return
        while not platform.exited:
            yield env.timeout(float(self.rng.exponential(1.0 / rate_per_hour)))
            if platform.exited:
                return
            self.audit(platform, float(env.now))

    def audit(self, platform: PlatformState, now: float) -> None:
        sim = self.sim
        window_start = max(0.0, now - self.spec.audit_window_days * HOURS_PER_DAY)
        still_up = sim.prohibited_still_up(platform, window_start, now)
        found = int(self.rng.binomial(still_up, self.spec.audit_sample_share)) if still_up else 0
        missed_orders = sim.duties_missed_between(platform, platform.last_audit_hours, now)
        unregistered = 0
        if self.rules.real_name.enabled and now >= self.rules.real_name.start_day * HOURS_PER_DAY:
            anonymous = sim.anonymous_active_users(platform)
            unregistered = (
                int(self.rng.binomial(anonymous, self.spec.audit_sample_share)) if anonymous else 0
            )
        platform.last_audit_hours = now
        sim.recorder.event(
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
        recorder = self.sim.recorder
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
            self.sim.remove_platform(platform, next_day, reason="licence revoked")


@dataclass
class Police:
    """Investigators working through reports first come, first served."""

    sim: Simulation
    rng: np.random.Generator
    queue: ReviewQueue = field(init=False)
    report_user: list[int] = field(default_factory=list)
    report_kind: list[int] = field(default_factory=list)
    # Detentions decided but not yet in force: (time_hours, user, kind)
    pending_detentions: list[tuple[float, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = self.sim.scenario.police
        self.spec = spec
        self.queue = ReviewQueue(
            servers=spec.investigators,
            mean_service_hours=spec.investigation_days * HOURS_PER_DAY,
            rng=self.rng.spawn(1)[0],
        )
        self._detention_probability = np.array(spec.detention_probability.as_tuple())
        # Reports filed since the last advance, not yet in the queue (see report).
        self._unsubmitted_times: list[np.ndarray] = []
        self._unsubmitted_count = 0

    def report(self, time_hours: np.ndarray, user: np.ndarray, kind: np.ndarray) -> None:
        """File reports (one per element) that arrive at ``time_hours``.

        Held here until :meth:`advance` submits the day's reports to the queue in one
        call: the same arrivals in the same order (ties keep submission order), one
        queue submission a day instead of one per batch of reports."""
        if len(user) == 0:
            return
        self.report_user.extend(user.tolist())
        self.report_kind.extend(kind.tolist())
        self._unsubmitted_times.append(np.array(time_hours, dtype=np.float64))  # a copy
        self._unsubmitted_count += len(user)

    def _submit_reports(self) -> None:
        """The reports filed since the last advance into the queue, in filing order."""
        if not self._unsubmitted_times:
            return
        count = self._unsubmitted_count
        start = len(self.report_user) - count
        times = self._unsubmitted_times
        self._unsubmitted_times = []
        self._unsubmitted_count = 0
        self.queue.submit(
            times[0] if len(times) == 1 else np.concatenate(times),
            np.zeros(count, np.int64),
            np.arange(start, start + count, dtype=np.int64),
        )

    def advance(self, until_hours: float) -> None:
        self._submit_reports()
        queue = self.queue
        if queue.busy == 0 and queue.waiting == 0 and queue.pending == 0:
            # Nothing under way, waiting or to arrive (a world without reports): the
            # queue would only move its clock, which nothing reads before it runs again.
            return
        users = self.sim.users
        identify = self.spec.identify_anonymous_probability

        def investigate(item: int, start: float, finish: float) -> bool:
            user = self.report_user[item]
            # Detentions and releases take effect at day boundaries, so the state is the
            # one in force at ``start``. (Not ``release_hours``: it is reset on release.)
            if users.state[user] == UserState.DETAINED:
                return False  # already detained: nothing to investigate
            identified = users.traceable[user] or self.rng.random() < identify
            kind = self.report_kind[item]
            if identified and self.rng.random() < self._detention_probability[kind]:
                self.pending_detentions.append((finish, user, kind))
            return True

        self.queue.run_until(until_hours, investigate)

    def take_due(self, until_hours: float) -> list[tuple[float, int, int]]:
        """Detentions decided before ``until_hours``, removed from the pending list."""
        if not self.pending_detentions:
            return []
        due = [d for d in self.pending_detentions if d[0] < until_hours]
        self.pending_detentions = [d for d in self.pending_detentions if d[0] >= until_hours]
        return sorted(due)


def kind_label(kind: int) -> str:
    return KIND_LABELS[kind]
