"""The regulator: monitoring, takedown orders' deadlines, audits and the penalty ladder
(docs/model.md, 3.3 Submodels S10).

The regulator audits each platform at random times (a Poisson process of rate
``audits_per_year / 365`` a day, one SimPy process per platform). An audit inspects
``audit_sample_size`` of the window's published posts and counts what the platform
answers for among them (``rules.takedown.liability``): under strict
liability the posts of its window still up, each counted with the chance ``q_k`` that the
regulator reads its kind as prohibited; under notice liability the notices of prohibited
content kept past their deadline. With the takedown orders that missed their deadline it
climbs the penalty ladder (warning, fine, suspension, licence revocation) when it finds
more than the tolerance; after
``deescalate_after_clean_audits`` clean audits it steps back down. It reads the run only
through an :class:`AuditView`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import simpy

from simulator.kinds import KIND_LABELS, EventKind
from simulator.model.platforms import PlatformState
from simulator.model.scenario import Regulator as RegulatorSpec
from simulator.model.scenario import Rules

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
    #: Posts published on a platform on a moderated channel in [since, now] (removed since
    #: or not; held and blocked ones never were): per day over the days the window
    #: touches, times its length in days.
    published_between: Callable[[PlatformState, float, float], float]
    #: Prohibited posts published on a platform in [since, now] and still up at ``now``.
    prohibited_still_up: Callable[[PlatformState, float, float], int]
    #: Orders and notice duties whose deadline fell in (after, until] unmet by then.
    duties_missed_between: Callable[[PlatformState, float, float], int]
    #: Notice duties alone whose deadline fell in (after, until] unmet by then.
    notice_duties_missed_between: Callable[[PlatformState, float, float], int]
    #: Active users of a platform who are not registered under their real name.
    anonymous_active_users: Callable[[PlatformState], int]
    #: ``remove_platform(platform, at_hours, reason)``: it leaves the market then.
    remove_platform: Callable[[PlatformState, float, str], None]


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
        """Count what the platform answers for (docs/model.md S10), tell the platform what
        was found (S8), and penalise a violation.

        The audit inspects ``audit_sample_size`` posts drawn from the window's published
        posts: a fixed number, so what it finds depends on the *share* of violations, not
        on how many posts the simulated population writes.

        A suspension is the platform's rectification (L1, Art. 68: suspended "for
        rectification"): no audit while it lasts, and the next one reads only what was
        published after it, so the posts that earned the suspension do not earn the
        next rung as well."""
        if now < platform.suspended_until_hours:
            return
        view = self.view
        size = self.spec.audit_sample_size
        window_start = max(
            0.0,
            now - self.spec.audit_window_days * HOURS_PER_DAY,
            platform.suspended_until_hours,
        )
        last = platform.last_audit_hours
        published = view.published_between(platform, window_start, now)
        if self.rules.takedown.liability == "notice":
            # Late notices since the last audit (and within the window) are what it finds
            # among the posts it reads; a missed order is a violation by itself.
            still_up = view.notice_duties_missed_between(platform, max(window_start, last), now)
            violating = float(still_up)
            missed_orders = view.duties_missed_between(
                platform, last, now
            ) - view.notice_duties_missed_between(platform, last, now)
        else:
            # The regulator counts what the law prohibits (the enforced line), however
            # vague the law looks to the platform (docs/model.md S8, S10).
            still_up = view.prohibited_still_up(platform, window_start, now)
            violating = float(still_up)
            missed_orders = view.duties_missed_between(platform, last, now)
        found = self.draw_among_sample(size, violating, published)
        # An audit with no post to read (nothing published in its window's whole days:
        # its first day) found nothing because it read nothing: the platform learns that
        # it came, not what audits detect, and it is no clean audit (a missed order
        # still counts).
        read_posts = published > 0
        platform.audited(found, read_posts=read_posts)
        unregistered = 0
        if self.rules.real_name.enabled and now >= self.rules.real_name.start_day * HOURS_PER_DAY:
            # It reads whole accounts: the ``size`` posts are the window's posts of about
            # size x active / published accounts, each anonymous with the platform's share.
            anonymous = view.anonymous_active_users(platform)
            active = platform.active_users
            accounts = min(active, round(size * active / published)) if published > 0 else 0
            unregistered = self.draw_among_sample(accounts, anonymous, active)
        platform.last_audit_hours = now
        view.recorder.event(
            now,
            EventKind.AUDIT,
            platform.name,
            amount=float(found),
            detail=(
                f"up={still_up} published={published:.0f} found={found} "
                f"deadlines_missed={missed_orders} unregistered={unregistered}"
            ),
        )
        tolerance = self.rules.penalties.tolerance
        violation = found > tolerance or missed_orders > 0 or unregistered > tolerance
        if violation:
            platform.clean_audits = 0
            self.penalise(platform, now)
        elif read_posts:
            platform.clean_audits += 1
            if platform.clean_audits >= self.rules.penalties.deescalate_after_clean_audits:
                platform.penalty_level = max(0, platform.penalty_level - 1)
                platform.clean_audits = 0

    def draw_among_sample(self, size: int, violating: float, population: float) -> int:
        """Violations among ``size`` items inspected, each one of ``violating`` in
        ``population`` (``Binomial(size, violating / population)``, the share capped at 1;
        no draw when nothing violates or there is nothing to inspect)."""
        if violating <= 0.0 or population <= 0 or size <= 0:
            return 0
        return int(self.rng.binomial(size, min(1.0, violating / population)))

    def penalise(self, platform: PlatformState, now: float) -> None:
        """Apply the platform's current rung of the ladder and move it one rung up."""
        ladder = self.rules.penalties.ladder
        if not ladder:
            return
        step = ladder[min(platform.penalty_level, len(ladder) - 1)]
        platform.penalty_level = min(platform.penalty_level + 1, len(ladder) - 1)
        recorder = self.view.recorder
        # Penalties that change who can post take effect at the next day boundary: the
        # population is advanced a day at a time (docs/model.md, "Scheduling").
        next_day = math.floor(now / HOURS_PER_DAY + 1.0) * HOURS_PER_DAY
        if step.action == "warning":
            recorder.event(now, EventKind.WARNING, platform.name)
        elif step.action == "fine":
            annual_revenue = 365.0 * platform.revenue_per_day()  # the represented platform's
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


def kind_label(kind: int) -> str:
    return KIND_LABELS[kind]
