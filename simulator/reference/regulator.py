"""The regulator in the reference model: monitoring, takedown orders and deadlines,
audits and the penalty ladder (docs/model.md S10 "The regulator"; the data request an
order carries is S11 "Reporting users to the authorities").

The regulator notices a post as its views come (with the kind's line probability,
scheduled by :meth:`simulator.reference.moderation.Moderation.publish`) and, if the
post is still up, orders it down by a deadline; the order is a review item at the top
priority and, where the reporting rule asks for data, a report of the author. Each
platform is audited at exponential intervals (a process per platform): the audit counts
what the platform answers for in its window, the orders (and, under notice liability,
the notices) whose deadline passed, and the unregistered users under a real-name rule;
more than the tolerance climbs the penalty ladder (warning, fine, suspension,
revocation), enough clean audits in a row step it down.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from simulator.kinds import N_KINDS, Action, EventKind, Outcome, UserState
from simulator.reference.world import HOURS_PER_DAY, Platform, Post, World, kind_label


class Regulator(World):
    """Orders, deadlines, audits and penalties (mixed into
    :class:`~simulator.reference.agent.ReferenceSimulation`)."""

    def order(
        self, platform: Platform, post: Post, delay: float
    ) -> Generator[simpy.Event, Any, None]:
        """The regulator spots the post and, if it is still up, orders it down by a deadline."""
        yield self.env.timeout(delay)
        arrival = self.env.now
        if post.removed_hours <= arrival:
            return
        rec = self.recorder
        deadline = arrival + self.scenario.rules.takedown.deadline_hours
        rec.tallies["orders"][post.kind] += 1
        rec.event(
            arrival, EventKind.ORDER, platform.state.name, post.author.index, kind_label(post.kind)
        )
        self.env.process(self.review(platform, post, Action.ORDER, 0.0))
        if self.scenario.rules.reporting.mode in ("on_request", "proactive"):
            self.report(platform, post.author, post.kind)  # the order asks for the author's data
        yield from self.duty(platform, post, deadline, True)

    def duty(
        self, platform: Platform, post: Post, deadline: float, order: bool
    ) -> Generator[simpy.Event, Any, None]:
        """A legal deadline to take a post down (an order's, or a notice's where the law
        sets one): missed if the post is still up when it passes."""
        platform.duties.append((deadline, post, order))
        yield self.env.timeout(deadline - self.env.now)
        if post.removed_hours > deadline:
            self.recorder.tallies["orders_missed" if order else "notices_missed"][post.kind] += 1

    def audit_process(self, platform: Platform) -> Generator[simpy.Event, Any, None]:
        """Audits of ``platform`` at exponential intervals (``audits_per_year``) until it exits."""
        spec = self.scenario.regulator
        rate_per_hour = spec.audits_per_year / (365.0 * HOURS_PER_DAY)
        if rate_per_hour <= 0.0:
            return
        while not platform.state.exited:
            yield self.env.timeout(self.rng.exponential(1.0 / rate_per_hour))
            if platform.state.exited:
                return
            self.audit(platform)

    def audit(self, platform: Platform) -> None:
        """Inspect a sample of what the platform answers for (strict liability: the
        window's posts still up, each counting with its kind's line probability; notice
        liability: notices of prohibited posts kept past their deadline), the orders whose
        deadline passed since the last audit and the unregistered users; penalise. None
        while the platform is suspended (rectification, L1 Art. 68); the window starts
        no earlier than the suspension's end."""
        now = self.env.now
        spec = self.scenario.regulator
        rules = self.scenario.rules
        state = platform.state
        if now < state.suspended_until_hours:
            return
        size = spec.audit_sample_size
        since = max(0.0, now - spec.audit_window_days * HOURS_PER_DAY, state.suspended_until_hours)
        last = state.last_audit_hours
        if rules.takedown.liability == "notice":
            violating = float(
                sum(
                    1
                    for deadline, post, order in platform.duties
                    if not order
                    and max(since, last) < deadline <= now
                    and post.removed_hours > deadline
                )
            )
            duties = [(d, post) for d, post, order in platform.duties if order]
        else:
            violating = float(
                sum(
                    1
                    for post in platform.prohibited_published
                    if since <= post.published_hours <= now and post.removed_hours > now
                )
            )
            duties = [(d, post) for d, post, _ in platform.duties]
        # The audit reads ``size`` of the window's published posts (in-scope channels, by
        # day); each is a violation with the share of violations among them.
        # (per day over the window's whole days before today, times the window's days).
        published_cells = 0
        first_cell = math.floor(since / HOURS_PER_DAY)
        last_day = min(math.floor(now / HOURS_PER_DAY), self.recorder.counts.shape[0]) - 1
        for day in range(first_cell, last_day + 1):
            for channel, in_scope in enumerate(self.in_scope):
                if in_scope:
                    for kind in range(N_KINDS):
                        cell = self.recorder.counts[day, state.index, channel, kind]
                        published_cells += int(cell[Outcome.REMOVED])
                        published_cells += int(cell[Outcome.SURVIVING])
        days_touched = last_day + 1 - first_cell
        published = 0.0
        if days_touched > 0 and now > since:
            published = published_cells / days_touched * (now - since) / HOURS_PER_DAY
        found = 0
        if violating > 0.0 and published > 0 and size > 0:
            found = int(self.rng.binomial(size, min(1.0, violating / published)))
        missed = sum(
            1
            for deadline, post in duties
            if last < deadline <= now and post.removed_hours > deadline
        )
        # An audit that read no post (its window's first day) teaches only that it came,
        # and is no clean audit (the engine's rule: simulator.model.regulator).
        read_posts = published > 0
        if read_posts and platform.predicted_lawful is not None:
            # It counted no post of a lawful kind (the enforced line): each reading's
            # belief times exp(-kappa mu_j), with the detection believed before this audit.
            detection = platform.detection_calibration()
            platform.line_log_weights = [
                w - detection * mu
                for w, mu in zip(platform.line_log_weights, platform.predicted_lawful, strict=True)
            ]
        # Its detection, from the prohibited posts counted (all it found) and predicted.
        platform.audits_seen += 1  # its rate: an audit came, whatever it read
        if read_posts:
            platform.found_prohibited_total += found
            platform.predicted_prohibited_total += platform.predicted_prohibited
        unregistered = 0
        if rules.real_name.enabled and now >= rules.real_name.start_day * HOURS_PER_DAY:
            anonymous = sum(
                1
                for u in self.users
                if u.platform == state.index and u.state == UserState.ACTIVE and not u.traceable
            )
            active = state.active_users
            accounts = min(active, round(size * active / published)) if published > 0 else 0
            if anonymous and active > 0 and accounts > 0:
                share = min(1.0, anonymous / active)
                unregistered = int(self.rng.binomial(accounts, share))
        state.last_audit_hours = now
        self.recorder.event(now, EventKind.AUDIT, state.name, amount=float(found))
        tolerance = rules.penalties.tolerance
        if found > tolerance or missed > 0 or unregistered > tolerance:
            state.clean_audits = 0
            self.penalise(platform, now)
        elif read_posts:
            state.clean_audits += 1
            if state.clean_audits >= rules.penalties.deescalate_after_clean_audits:
                state.penalty_level = max(0, state.penalty_level - 1)
                state.clean_audits = 0

    def penalise(self, platform: Platform, now: float) -> None:
        """The next rung of the penalty ladder: a warning, a fine (the larger of its amount
        and its share of annual revenue), a suspension from the next day, or revocation."""
        ladder = self.scenario.rules.penalties.ladder
        if not ladder:
            return
        state = platform.state
        step = ladder[min(state.penalty_level, len(ladder) - 1)]
        state.penalty_level = min(state.penalty_level + 1, len(ladder) - 1)
        next_day = math.floor(now / HOURS_PER_DAY + 1.0) * HOURS_PER_DAY
        if step.action == "warning":
            self.recorder.event(now, EventKind.WARNING, state.name)
        elif step.action == "fine":
            annual_revenue = 365.0 * state.revenue_per_day()  # the represented platform's
            amount = max(step.amount, step.turnover_share * annual_revenue)
            state.cash -= amount
            state.fines_paid += amount
            self.recorder.event(now, EventKind.FINE, state.name, amount=amount)
        elif step.action == "suspension":
            start = max(next_day, state.suspended_until_hours)
            state.suspended_until_hours = start + step.days * HOURS_PER_DAY
            state.suspensions += 1
            self.recorder.event(now, EventKind.SUSPENSION, state.name, amount=step.days)
        else:
            self.recorder.event(now, EventKind.REVOCATION, state.name)
            if next_day < state.exit_at_hours:
                state.exit_at_hours = next_day
                state.exit_reason = "licence revoked"
