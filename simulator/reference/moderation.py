"""Platforms' moderation in the reference model: what happens to a post that reaches a
platform, and how the platform sets its strictness (docs/model.md S4 "Scores, strictness
and threshold", S5 "Publication and touches", S5a "When review items arrive", S6 "The
review queue", S7 "Reviewer decisions", S7a "Appeals", S8 "Platform policy").

A post on a moderated channel gets a reviewer's score; the filter may hold it for review
before publication or flag it after (at the next keyword sweep); users' notices and the
regulator's monitoring find it as its views come (:meth:`Moderation.attention_delay`).
A held post the reviewer approves is published then and touched as a post published
then (issue 17, :meth:`Moderation.touch`): flagged at the next sweep where the hold's
line is over the sweep's (``held_review_margin > 0``), noticed and ordered after the
delays its own uniforms gave when it was held.
Every review item is a process that waits for one of the platform's reviewers (a
``simpy.PriorityResource``: orders first, then held posts, notices, flags, appeals) and
takes the post down if its score is over the threshold (an order always). A removal
sanctions the author (:mod:`simulator.reference.accounts` applies it at the day's end),
may report them to the police (the proactive reporting rule, S11) and may be appealed.
At the day's end the platform moves its threshold towards the cheapest of its grid
(:meth:`Moderation.adapt`, with :mod:`simulator.reference.platform_policy`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from simulator.kinds import N_KINDS, Action, Channel, ContentKind, Outcome
from simulator.model.platforms import CHOSEN_STAFF, review_servers, review_staff
from simulator.reference import minds, staffing
from simulator.reference import platform_policy as policy
from simulator.reference.review_line import Queue
from simulator.reference.world import Platform, Post, User, World


class Moderation(World):
    """Platforms publish, review, remove and adapt (mixed into
    :class:`~simulator.reference.agent.ReferenceSimulation`)."""

    def publish(self, platform: Platform, user: User, day: int, channel: int, kind: int) -> None:
        """A post reaches ``platform`` (S5): held or published, flagged, and scheduled to
        be noticed by users and the regulator as its views come (S5a)."""
        now = self.env.now
        p = platform.state.index
        if not self.in_scope[channel]:
            self.count(day, p, channel, kind, Outcome.SURVIVING)
            self.book_potential(day, p, channel, kind, user, now)
            return
        rng = self.rng
        rec = self.recorder
        score = platform.state.spec.reviewer_mean.as_tuple()[kind] + rng.standard_normal()
        post = Post(user, day, p, channel, kind, now, score)
        platform.reached_today[kind] += 1
        held = rng.random() < platform.hold[kind]
        # The post's three uniforms (S5): the flag's, and the notice's (public channel)
        # and the order's, read as its attention (S5a). A held post draws them too and
        # keeps the two delays for after its approval (issue 17); a published post draws
        # them in the same order as before.
        flagged = rng.random() < platform.flag[kind]
        notice_delay, order_delay = self.attention_delays(post, rng.random)
        if held:
            self.count(day, p, channel, kind, Outcome.BLOCKED)  # until approved
            rec.tallies["held"][kind] += 1
            if self.seen_in_public(channel, kind):
                user.said[kind] -= 1  # friends see it only when it is approved (S16)
            post.held_notice_delay, post.held_order_delay = notice_delay, order_delay
            self.env.process(self.review(platform, post, Action.HOLD, 0.0))
            return
        post.published_hours = now
        self.count(day, p, channel, kind, Outcome.SURVIVING)
        self.book_potential(day, p, channel, kind, user, now)
        if self.prohibited[kind]:
            platform.prohibited_published.append(post)
        self.touch(platform, post, flagged, notice_delay, order_delay)

    def attention_delays(self, post: Post, uniform: Callable[[], float]) -> tuple[float, float]:
        """Hours from publication to the post's notice and order (inf: never), from one
        uniform each (S5a): the notice's drawn on the public channel only. Private
        messages have no audience to build, and benign posts count as from an author of
        audience 1 (the model's rule: the engine draws them in aggregate)."""
        kind, channel = post.kind, post.channel
        public = channel == Channel.PUBLIC and kind != ContentKind.BENIGN
        reach = self.audience(post.author) if public else 1.0
        notice = math.inf
        if channel == Channel.PUBLIC:
            notice = self.attention_delay(uniform(), self.notice_probability[kind], reach)
        order = self.attention_delay(uniform(), self.monitor_probability[kind], reach)
        return notice, order

    def touch(
        self, platform: Platform, post: Post, flagged: bool, notice_delay: float, order_delay: float
    ) -> None:
        """The items a post published now gets (S5, S5a): a flag at the next keyword sweep,
        a notice (with its legal duty, where the law sets one for the kind) and an order
        as its views come. Also an approved held post's, published at its approval
        (issue 17)."""
        now, kind = self.env.now, post.kind
        rec = self.recorder
        if flagged:
            rec.tallies["flagged"][kind] += 1
            # The filter's keyword sweep: every sweep_interval_hours from time 0.
            delay = self.next_sweep(now, platform.state.spec.sweep_interval_hours) - now
            self.env.process(self.review(platform, post, Action.FLAG, delay))
        if notice_delay < math.inf:
            rec.tallies["notices"][kind] += 1
            self.env.process(self.review(platform, post, Action.NOTICE, notice_delay))
            notice_deadline = self.scenario.rules.takedown.notice_deadline_hours
            if notice_deadline is not None and self.prohibited[kind]:
                deadline = now + notice_delay + notice_deadline
                self.env.process(self.duty(platform, post, deadline, False))
        if order_delay < math.inf:
            self.env.process(self.order(platform, post, order_delay))

    @staticmethod
    def next_sweep(now: float, interval: float) -> float:
        """The first of the sweeps 0, interval, 2 interval, ... at or after ``now``."""
        if interval <= 0.0:
            return now
        k = math.ceil(now / interval)
        while k > 0 and (k - 1) * interval >= now:
            k -= 1
        while k * interval < now:
            k += 1
        return k * interval

    def audience(self, user: User) -> float:
        """The author's friends over the mean number of friends."""
        return len(user.neighbours) / self.mean_degree if self.mean_degree > 0 else 1.0

    def attention_delay(self, u: float, probability: float, reach: float) -> float:
        """Hours until the post is noticed (inf: never). Views ``reach (1 - e^(-t/tau))``
        notice at rate ``-ln(1 - probability)`` each: noticed once the exposure
        ``-ln(1 - u)`` is reached."""
        if probability <= 0.0 or reach <= 0.0:
            return math.inf
        exposure = -math.log1p(-u)
        if probability >= 1.0:
            return 0.0
        whole = -math.log1p(-probability) * reach  # exposure of all views the post will get
        if exposure >= whole:
            return math.inf
        return -self.scenario.population.attention_hours * math.log1p(-exposure / whole)

    def review(
        self, platform: Platform, post: Post, action: int, delay: float
    ) -> Generator[simpy.Event, Any, None]:
        """One review item: wait for a reviewer (by priority), then judge the post."""
        if delay > 0.0:
            yield self.env.timeout(delay)
        if platform.reviewers is None:
            return  # no reviewers: never reviewed
        with platform.reviewers.request(priority=action) as request:
            yield request
            begin = self.env.now
            if action == Action.APPEAL:
                if post.removed_hours == math.inf:
                    return  # already back up
            elif action != Action.HOLD and post.removed_hours <= begin:
                return  # already down: nothing to review
            self.recorder.tallies["reviews"][post.kind] += 1
            platform.reviewed_today[post.kind] += 1  # the prior of a strike's grounds (S14)
            score = post.appeal_score if action == Action.APPEAL else post.score
            threshold = platform.state.threshold
            if action == Action.HOLD:
                threshold += platform.state.spec.held_review_margin
            takes_down = action == Action.ORDER or score > threshold
            service = self.rng.exponential(platform.mean_service_hours)
            yield self.env.timeout(service)
        now = self.env.now
        if action == Action.APPEAL:
            if not takes_down and post.removed_hours < math.inf:
                # Reinstated: the post counts as surviving; its removal delay stays on record.
                post.removed_hours = math.inf
                post.removed_by = -1
                self.move(post, Outcome.REMOVED, Outcome.SURVIVING)
                self.recorder.tallies["reinstated"][post.kind] += 1
                # Views come back from the end of the day (the engine's booking, S5b).
                self.book_exposure(post, 24.0 * (math.floor(now / 24.0) + 1.0), -1.0)
        elif action == Action.HOLD:
            if takes_down:
                post.blocked_hours = now
                # Never published: friends saw nothing.
                self.sanction(platform, post, seen=False, route=Action.HOLD)
            else:
                post.published_hours = now
                self.move(post, Outcome.BLOCKED, Outcome.SURVIVING)
                if self.seen_in_public(post.channel, post.kind):
                    post.author.said[post.kind] += 1  # it appears: friends see it today
                self.book_potential(
                    post.day, post.platform, post.channel, post.kind, post.author, now
                )
                if self.prohibited[post.kind]:
                    platform.prohibited_published.append(post)
                # Published now, touched as a post published now (issue 17): flagged at
                # the next sweep where the hold's line is over the sweep's (m > 0), and
                # noticed and ordered by its own uniforms, drawn when it was held.
                self.touch(
                    platform, post, platform.state.spec.held_review_margin > 0.0,
                    post.held_notice_delay, post.held_order_delay,
                )  # fmt: skip
        elif takes_down and post.removed_hours > now:
            self.remove(platform, post, action)

    def remove(self, platform: Platform, post: Post, action: int) -> None:
        """Take a published post down (S7): its author is sanctioned, may be reported
        (proactive reporting, S11) and may appeal (S7a)."""
        now = self.env.now
        rec = self.recorder
        post.removed_hours = now
        post.removed_by = action
        self.move(post, Outcome.SURVIVING, Outcome.REMOVED)
        rec.add_delays(np.array([post.kind]), np.array([now - post.time_hours]))
        self.book_exposure(post, now, 1.0)
        if action == Action.NOTICE:
            rec.tallies["notices_removed"][post.kind] += 1
        self.sanction(platform, post, seen=post.channel == Channel.PUBLIC, route=action)
        reporting = self.scenario.rules.reporting.mode
        # Removals on a regulator's order were reported with the order's data request,
        # and only the platform's own removals can be appealed.
        if action == Action.ORDER:
            return
        # Proactive reports: r_p times the offence line o_k, a prohibited kind always,
        # a lawful one near a vague line case by case (S11; one draw where o_k > 0).
        offence = minds.offence(self.scenario, post.kind)
        if (
            reporting == "proactive"
            and offence > 0.0
            and self.rng.random() < platform.state.spec.report_probability * offence
        ):
            self.report(platform, post.author, post.kind)
        appeals = self.scenario.rules.appeals
        if appeals.enabled and self.rng.random() < appeals.probability:
            post.appeal_score = (
                platform.state.spec.reviewer_mean.as_tuple()[post.kind] + self.rng.standard_normal()
            )
            self.recorder.tallies["appeals"][post.kind] += 1
            delay = self.rng.exponential(appeals.mean_delay_hours)
            self.env.process(self.review(platform, post, Action.APPEAL, delay))

    def book_potential(
        self, day: int, row: int, channel: int, kind: int, user: User, published_hours: float
    ) -> None:
        """A post published at ``published_hours`` adds its potential exposure to its
        cell (S5b): its author's audience times ``1 − e^{−(T − t_pub)/τ}``, public posts
        of sensitive kinds only (benign ones count, as published, at audience 1)."""
        if channel != Channel.PUBLIC or kind == ContentKind.BENIGN:
            return
        tau = self.scenario.population.attention_hours
        end = 24.0 * self.scenario.horizon_days
        seen = 1.0 - math.exp(-max(end - published_hours, 0.0) / tau)
        self.recorder.potential[day, row, channel, kind] += self.audience(user) * seen

    def book_exposure(self, post: Post, until_hours: float, sign: float) -> None:
        """The views of ``post`` a take-down at ``until_hours`` cut (``sign`` 1), or a
        reinstatement then gives back (``sign`` −1), in its cell (S5b): its audience
        times ``e^{−(t − t_pub)/τ} − e^{−(T − t_pub)/τ}``, public posts only."""
        if post.channel != Channel.PUBLIC:
            return
        a = 1.0 if post.kind == ContentKind.BENIGN else self.audience(post.author)
        tau = self.scenario.population.attention_hours
        end = 24.0 * self.scenario.horizon_days

        def seen(t: float) -> float:
            return 1.0 - math.exp(-max(min(t, end) - post.published_hours, 0.0) / tau)

        cut = a * (seen(end) - seen(until_hours))
        self.recorder.exposure_cut[post.day, post.platform, post.channel, post.kind] += sign * cut

    def move(self, post: Post, source: Outcome, target: Outcome) -> None:
        """Count the post under ``target`` instead of ``source`` (on the day it was written)."""
        self.count(post.day, post.platform, post.channel, post.kind, source, -1)
        self.count(post.day, post.platform, post.channel, post.kind, target, 1)

    def sanction(self, platform: Platform, post: Post, seen: bool, route: int) -> None:
        """The author is sanctioned for the post (applied at the day's end; ``seen``: a
        public removal their friends saw); if the platform's ``strike_on`` names the
        take-down's ``route``, its grounds for a strike (platform, route, the post's
        reviewer score), weighed at the day's end (S14, :meth:`Accounts.strike_stands`)."""
        counted = Action.NAMES[route] in platform.state.spec.strike_on
        grounds = (platform.state.index, route, post.score) if counted else None
        self.sanctioned_today.append((post.author, post.kind, seen, grounds))

    def adapt(self, platform: Platform) -> None:
        """The platform counts the day's posts, then moves its threshold towards the
        cheapest of its grid (docs/model.md S8)."""
        state, view = platform.state, platform.view
        assert view is not None  # moderating
        spec, scenario = state.spec, self.scenario
        today = [float(n) for n in platform.reached_today]
        platform.reached_today = [0] * N_KINDS
        if platform.flows is None:
            platform.flows = today
        else:
            step = 1.0 - 0.5 ** (1.0 / 7.0)  # a half-life of 7 days
            platform.flows = [
                f + step * (n - f) for f, n in zip(platform.flows, today, strict=True)
            ]
        platform.days_watched += 1
        regulator, liability = scenario.regulator, scenario.rules.takedown.liability
        if not platform.experience_learned:
            # Before its first choice: the audits it lived through before day 0, each at
            # its initial threshold with today's posts, finding the prohibited posts
            # predicted there and no lawful one (S8, "Experience").
            platform.experience_learned = True
            audits = spec.audits_experienced
            if audits > 0.0:
                queue = self.review_line(platform)
                lawful = policy.lawful_found(
                    view, state.threshold, platform.flows, self.line, liability,
                    regulator.audit_sample_size, queue,
                )  # fmt: skip
                prohibited = policy.prohibited_found(
                    view, state.threshold, platform.flows, self.line, liability,
                    regulator.audit_sample_size, queue,
                )  # fmt: skip
                detection = platform.detection_calibration()
                platform.line_log_weights = [
                    w - audits * detection * mu
                    for w, mu in zip(platform.line_log_weights, lawful, strict=True)
                ]
                platform.found_prohibited_total += audits * prohibited
                platform.predicted_prohibited_total += audits * prohibited
        detection = platform.detection_calibration()
        ladder = self.ladder_ahead(platform)
        weights = policy.reading_weights(platform.line_log_weights)
        queue = self.review_line(platform)
        # A hiring platform weighs each threshold at the staff it would need (S8): the
        # cheapest head count's cost with its wages above the lowest's.
        heads = [state.staff]
        if spec.staffing == CHOSEN_STAFF and spec.max_staff_growth > 0.0:
            heads = staffing.staff_to_weigh(
                view, platform.thresholds, platform.flows, state.staff,
                review_staff(scenario, spec), self.waiting(platform),
                24.0 * 60.0 / spec.review_minutes,
            )  # fmt: skip
        queues = [self.review_line(platform, head) for head in heads]
        costs = staffing.threshold_costs(
            view, platform.thresholds, platform.flows, self.line, liability,
            regulator.audit_sample_size, scenario.rules.penalties.tolerance,
            spec.wrongful_removal_daily_cost, detection, ladder, weights, queues,
            [float(state.wage_bill(head)) for head in heads],
        )  # fmt: skip
        target = policy.cheapest(platform.thresholds, costs, state.threshold)
        state.threshold += spec.adaptation_rate * (target - state.threshold)
        platform.predicted_lawful = policy.lawful_found(
            view, state.threshold, platform.flows, self.line, liability,
            regulator.audit_sample_size, queue,
        )  # fmt: skip
        platform.predicted_prohibited = policy.prohibited_found(
            view, state.threshold, platform.flows, self.line, liability,
            regulator.audit_sample_size, queue,
        )  # fmt: skip

    def ladder_ahead(self, platform: Platform) -> policy.LadderAhead:
        """The penalty ladder as the platform weighs it today (docs/model.md S8)."""
        state, scenario = platform.state, self.scenario
        penalties = scenario.rules.penalties
        return policy.LadderAhead(
            values=[state.rung_value(scenario, i) for i in range(len(penalties.ladder))],
            absorbing=[step.action == "revocation" for step in penalties.ladder],
            deescalate_after=penalties.deescalate_after_clean_audits,
            level=state.penalty_level,
            clean=state.clean_audits,
            audits_per_day=platform.audits_per_day(scenario.regulator.audits_per_year),
            discount_per_day=state.spec.discount_rate_per_year / 365.0,
        )

    @staticmethod
    def waiting(platform: Platform) -> float:
        """Review items waiting for a reviewer (requests not granted yet)."""
        return float(len(platform.reviewers.queue)) if platform.reviewers is not None else 0.0

    def review_line(self, platform: Platform, staff: float | None = None) -> Queue | None:
        """The platform's reviewers as its policy weighs them at the day's end
        (docs/model.md S8), with ``staff`` reviewers (default: today's) on their desks
        (``platforms.review_servers``): under strict liability the items waiting, the audit
        window and the staffing week; under notice liability with a notice deadline,
        that deadline; else nothing to weigh."""
        takedown, state = self.scenario.rules.takedown, platform.state
        head = state.staff if staff is None else staff
        desks, hours = review_servers(head, state.spec.review_minutes)
        waiting = self.waiting(platform)
        window = self.scenario.regulator.audit_window_days * 24.0
        if takedown.liability == "strict":
            return Queue(desks, hours, waiting, window, 7.0, math.inf)
        if takedown.liability == "notice" and takedown.notice_deadline_hours is not None:
            deadline = float(takedown.notice_deadline_hours)
            return Queue(desks, hours, waiting, window, 7.0, deadline)
        return None

    def choose_staff(self, platform: Platform) -> None:
        """The week's staffing choice of a platform that hires (``staffing = "chosen"``,
        docs/model.md S6a): at today's threshold, the head count whose wages plus the
        ladder's expected penalties (what its line leaves up counted) cost least, on a
        grid of 201 from the floor to twice the staff the week's reviews and the backlog
        need (the top doubled while the cheapest is at it), within the week's hiring
        speed; the reviewers get the new head count at once (never fewer desks)."""
        state, view, scenario = platform.state, platform.view, self.scenario
        spec = state.spec
        if view is None or spec.staffing != CHOSEN_STAFF or platform.flows is None:
            return
        regulator, penalties = scenario.regulator, scenario.rules.penalties
        ladder = self.ladder_ahead(platform)
        weights = policy.reading_weights(platform.line_log_weights)
        detection = platform.detection_calibration()
        floor = review_staff(scenario, spec)
        per_reviewer = 24.0 * 60.0 / spec.review_minutes
        t, flows = state.threshold, platform.flows
        needed = (staffing.reviews_asked(view, t, flows) * 7.0 + self.waiting(platform)) / (
            per_reviewer * 7.0
        )
        pick = staffing.staff_for_week(
            view, t, flows, self.line, scenario.rules.takedown.liability,
            regulator.audit_sample_size, penalties.tolerance, detection, ladder, weights,
            lambda head: self.review_line(platform, head), float(state.wage_bill(1.0)),
            floor, needed,
        )  # fmt: skip
        staff = round(staffing.week_staff(pick, state.staff, floor, spec.max_staff_growth), 6)
        if staff == state.staff or staff <= 0.0:
            return
        servers, _ = review_servers(staff, spec.review_minutes)
        # A platform that hires starts with desks: staff is never below its floor, and a
        # floor of 0 stays 0 (the week's growth is a share of the staff).
        assert platform.reviewers is not None
        if servers > platform.reviewers.capacity:
            platform.reviewers.add_desks(servers)
        servers = int(platform.reviewers.capacity)
        # More desks than reviewers: each at work staff/desks of the time (S6a).
        platform.mean_service_hours = spec.review_minutes / 60.0 * servers / staff
        state.staff = staff
