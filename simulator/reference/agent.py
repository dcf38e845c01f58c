"""The censim model written the way SimPy's documentation teaches: the readable per-agent
statement of the model that the engine (:mod:`simulator.engine.simulation`) is checked against.

Read this module to see what the model does; import it to run it
(``from simulator.reference import ReferenceSimulation, run_reference``). It ships with
the package and is tested (``tests/test_reference.py``, ``tests/test_reference_agreement.py``).

One SimPy process per user emits that user's intended posts, one event per post
(exponential inter-post times at the user's total rate; the kind and channel of each
post are drawn as it is written). Every review item is a process that requests its
platform's ``simpy.PriorityResource`` of reviewers; every takedown order, audit and
police investigation is a process too. Nothing is vectorised and nothing is counted in
aggregate: this is the slow, obvious version of :mod:`simulator.engine.simulation`, kept
readable so that anyone can check it against docs/model.md, and used by
``tests/test_reference_agreement.py`` to check that the fast engine computes the same
model (same headline numbers within statistical tolerance over replications).

Same model, same conventions as the engine:

* users' traits and the social network come from :class:`simulator.model.population.Users`
  built from the same seed, so engine and reference runs of one seed share the population;
* a user's decisions on day ``d`` use the state as of the start of day ``d`` (time
  ``24 d`` hours) and the beliefs of that day (a post made counts as a trial at once);
  sanctions, detentions, releases, platform exits and suspensions change who may post
  where only at the next day boundary;
* each sensitive post is a choice (post, soften, withhold) written out per agent in
  :mod:`simulator.reference.minds`, independently of the engine's kernels; beliefs take
  the day's evidence at its end (own sanctions, friends' public removals and
  detentions, news) and fade every day (the engine fades them lazily);
* strikes expire after ``strike_clean_days`` clean days; a closed account returns after
  an exponential delay unless its real-name identity is burned; each user is replaced
  by a newcomer with probability ``turnover_per_year / 365`` a day (its own stream, the
  same in the paired runs); each excluded post is counted under its author's reason
  (docs/model.md S14; written here user by user, not with the engine's kernels);
* the platforms' filters and costs are the engine's
  :class:`~simulator.model.platforms.PlatformState` methods; their daily choice of
  strictness (the expected penalty per audit, line probabilities, effective means,
  beliefs about audits: docs/model.md S8) is written out again, independently, in
  :mod:`simulator.reference.platform_policy` and below; counting goes through
  :class:`simulator.output.recorder.Recorder` and the summary through
  :func:`simulator.output.metrics.summarise`, so headline numbers are computed identically.

Review items arrive as docs/model.md S5a states, written out here again rather than
taken from the engine's kernels (:meth:`ReferenceSimulation.next_sweep`,
:meth:`ReferenceSimulation.attention_delay`): a flag at the filter's next keyword sweep;
a notice or an order, each from one uniform, when the post's views ``A (1 - e^(-t/tau))``
have given the exposure ``-ln(1 - u)`` at ``-ln(1 - p)`` per view.

Timing conventions that differ from the engine by construction (both are the model; the
differences are below what the agreement test can see and are listed in
docs/performance.md): a review's sanction counts on the day the review *finishes* (the
engine: the day it starts), and a platform adapts its threshold at the end of the day
after that day's audits (the engine adapts during the day step, before that day's audits).

Run ``python -m simulator.reference.agent --users 2000 --days 30`` for one paired run.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from simulator.kinds import (
    N_KINDS,
    Action,
    Channel,
    ContentKind,
    EventKind,
    ExclusionReason,
    Outcome,
    UserState,
)
from simulator.model.platforms import PlatformState, strictness_to_threshold
from simulator.model.population import Users
from simulator.model.scenario import PerKindScore, Scenario, load_scenario, override
from simulator.output.metrics import summarise
from simulator.output.recorder import Recorder
from simulator.reference import minds
from simulator.reference import platform_policy as policy
from simulator.streams import Streams

HOURS_PER_DAY = 24.0
NO_ROUTE = -1  # cannot post anywhere today
OFFSHORE = -2  # posts through circumvention tools today


@dataclass(eq=False)
class User:
    """One user. Rates are posts per day; ``value`` is what a post is worth to them per
    unit of intensity (boldness times desire, docs/model.md S3); ``mind`` their beliefs."""

    index: int
    rate: float
    kind_cumulative: list[float]  # P(kind <= k) for one of this user's posts
    value: float
    platform: int
    neighbours: list[int]
    mind: minds.Mind
    state: UserState = UserState.ACTIVE
    traceable: bool = False
    strikes: int = 0
    last_strike_day: int = -(2**30)  # day of the last sanction (none yet: long ago)
    return_day: int = -1  # day a closed account re-registers (-1: none pending)
    closed: bool = False  # EXCLUDED because the account was closed (else refused real names)
    ever_reported: bool = False
    ever_detained: bool = False
    release_hours: float = math.inf
    state_before_detention: UserState = UserState.ACTIVE
    # Snapshot taken at each day boundary: where the user may post today.
    route: int = NO_ROUTE
    # Public sensitive posts said today (for friends' climate) and the climate's memory
    # of friends' public sensitive posts, per kind.
    said: list[int] = field(default_factory=lambda: [0] * N_KINDS)
    observed: list[float] = field(default_factory=lambda: [0.0] * N_KINDS)
    expected: list[float] = field(default_factory=lambda: [0.0] * N_KINDS)
    reason: ExclusionReason = ExclusionReason.NONE  # why there is no route today


@dataclass(eq=False)
class Post:
    """A post that reached a platform on a moderated channel."""

    author: User
    day: int
    platform: int
    channel: int
    kind: int
    time_hours: float
    score: float  # how prohibited it looks to a human reviewer
    appeal_score: float = 0.0  # how it looks to the reviewer of an appeal
    published_hours: float = math.inf
    removed_hours: float = math.inf
    blocked_hours: float = math.inf
    removed_by: int = -1


@dataclass(eq=False)
class Platform:
    """A platform: its policy state (the engine's PlatformState) and its reviewers."""

    state: PlatformState
    reviewers: simpy.PriorityResource | None
    # Today's filter probabilities per kind, fixed at the day boundary with the threshold.
    hold: np.ndarray = field(default_factory=lambda: np.zeros(N_KINDS))
    flag: np.ndarray = field(default_factory=lambda: np.zeros(N_KINDS))
    prohibited_published: list[Post] = field(default_factory=list)
    # (deadline, post, is an order) to take down
    duties: list[tuple[float, Post, bool]] = field(default_factory=list)
    # The daily policy (S8): how it sees its moderation, its grid, what it counts and believes.
    view: policy.Platform | None = None
    thresholds: list[float] = field(default_factory=list)
    reached_today: list[int] = field(default_factory=lambda: [0] * N_KINDS)
    flows: list[float] | None = None
    lawful_published: list[Post] = field(default_factory=list)  # kinds with 0 < q < 1
    audits_seen: int = 0
    days_watched: int = 0
    found_total: float = 0.0
    predicted_total: float = 0.0
    predicted: float = 0.0  # what the next audit should find at today's threshold


class ReferenceSimulation:
    """One run of ``scenario`` as a plain SimPy agent model. ``run()`` returns a Recorder."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.env = simpy.Environment()
        spec = scenario.population
        shares = [p.market_share for p in scenario.platforms]
        # The population (traits and network) from the engine's population stream, so
        # engine and reference runs of one seed share it; every later draw is our own.
        traits = Users(spec, shares, Streams.from_seed(seed).population)
        children = np.random.SeedSequence([seed, 0x5EF]).spawn(3)
        self.speech = np.random.default_rng(children[0])  # times, kinds, channels only
        self.rng = np.random.default_rng(children[1])  # everything else but turnover
        # Turnover: four uniforms per user a day whatever happens, so the paired runs
        # renew the same users on the same days.
        self.turnover = np.random.default_rng(children[2])
        self.closed_today = self.returned_today = self.renewed_today = 0

        rules = scenario.rules
        self.moderating = rules.takedown.enabled
        self.prohibited = list(rules.takedown.prohibited_mask())
        perception = spec.perception
        # What users know of the law, the news they read (S3, S16).
        self.law = minds.read_law(scenario)
        self.at_risk = any(self.law.removal.values()) or any(self.law.detention.values())
        self.news: dict[str, list[float]] = {
            "removal": [0.0] * N_KINDS,
            "detention": [0.0] * N_KINDS,
            "trials": [0.0] * N_KINDS,
        }
        self.in_scope = [self.moderating, self.moderating and rules.takedown.private_messages]
        monitoring = scenario.regulator.monitoring_probability * float(self.moderating)
        # The line probability of each kind (S8): monitoring, audits and scores read it.
        self.line = policy.line_probability(
            self.prohibited, list(perception.kind_closeness.as_tuple()), rules.takedown.vagueness
        )
        self.monitor_probability = [monitoring * self.line[k] for k in range(N_KINDS)]
        self.notice_probability = spec.notices.probability.as_tuple()
        degrees = np.diff(traits.network.indptr)
        self.mean_degree = float(degrees.mean()) if len(degrees) else 0.0
        self.decay = 0.5 ** (1.0 / perception.half_life_days)
        self.climate_keep = 0.5 ** (1.0 / perception.climate_half_life_days)

        sensitive_total = float(traits.mix[1:].sum())
        self.users: list[User] = []
        # Drawn again on each access (Users does not keep them): once here.
        stance_factor, rate = traits.stance_factor, traits.rate
        boldness = spec.boldness
        mean_boldness = boldness.alpha / (boldness.alpha + boldness.beta)
        gamma = spec.speech.desire_stance_exponent
        # Each user's friends' public sensitive posts a day (before the kind's share).
        public = (1.0 - spec.private_share) * rate * stance_factor
        for i in range(traits.size):
            factor = float(stance_factor[i])
            per_kind = [1.0 - factor * sensitive_total] + [
                float(traits.mix[k]) * factor for k in range(1, N_KINDS)
            ]
            cumulative = list(np.cumsum(per_kind) / sum(per_kind))
            start, stop = traits.network.indptr[i], traits.network.indptr[i + 1]
            neighbours = [int(j) for j in traits.network.indices[start:stop]]
            mind = minds.Mind()
            friends_posts = sum(float(public[j]) for j in neighbours)
            for k in minds.SENSITIVE:
                q = minds.line(scenario, k)
                mind.trials[k] = perception.initial_trials
                mind.removals[k] = perception.initial_trials * perception.initial_removal * q
                mind.detentions[k] = perception.initial_trials * perception.initial_detention * q
            user = User(
                index=i,
                rate=float(rate[i]),
                kind_cumulative=cumulative,
                value=float(
                    np.float32(
                        float(traits.boldness[i]) / mean_boldness * float(stance_factor[i]) ** gamma
                    )
                ),
                platform=int(traits.platform[i]),
                neighbours=neighbours,
                mind=mind,
            )
            user.expected = [0.0] + [friends_posts * float(traits.mix[k]) for k in minds.SENSITIVE]
            user.observed = list(user.expected)
            self.users.append(user)

        self.platforms: list[Platform] = []
        for index, pspec in enumerate(scenario.platforms):
            view = None
            if self.moderating:
                pspec, view = self.platform_view(pspec)
            state = PlatformState(
                index=index,
                spec=pspec,
                queue=None,  # type: ignore[arg-type]  # the reviewers are a SimPy resource here
                threshold=strictness_to_threshold(pspec.initial_strictness),
                cash=pspec.initial_cash,
            )
            reviewers = (
                simpy.PriorityResource(self.env, capacity=pspec.reviewers)
                if pspec.reviewers > 0
                else None
            )
            platform = Platform(state, reviewers, view=view)
            platform.thresholds = policy.grid(pspec.min_strictness, pspec.max_strictness)
            self.platforms.append(platform)
        self.circumvention_row = len(self.platforms)
        police = scenario.police
        self.investigators = (
            simpy.Resource(self.env, capacity=police.investigators)
            if police.investigators > 0
            else None
        )
        self.recorder = Recorder(scenario.horizon_days, len(self.platforms) + 1)
        self.pending_detentions: list[tuple[float, User, int]] = []
        # Today's signals, consumed at the end of the day: sanctions (user, kind, seen by
        # friends), detentions (user, kind), posts that reached a platform per kind.
        self.sanctioned_today: list[tuple[User, int, bool]] = []
        self.detained_today: list[tuple[User, int]] = []
        self.published_today = [0] * N_KINDS
        self.news_today = 0
        self.wall_seconds = 0.0

    # ------------------------------------------------------------------------------------
    def platform_view(self, spec: Any) -> tuple[Any, policy.Platform]:
        """The platform's spec with its effective score means, and how its policy sees
        its moderation (docs/model.md S8)."""
        classifier = policy.effective_mean(
            list(spec.classifier_mean.as_tuple()), self.line, self.prohibited
        )
        reviewer = policy.effective_mean(
            list(spec.reviewer_mean.as_tuple()), self.line, self.prohibited
        )
        labels = [kind.label for kind in ContentKind]
        spec = spec.model_copy(
            update={
                "classifier_mean": PerKindScore(**dict(zip(labels, classifier, strict=True))),
                "reviewer_mean": PerKindScore(**dict(zip(labels, reviewer, strict=True))),
            }
        )
        population = self.scenario.population
        public = 1.0 - population.private_share
        in_scope = public + (population.private_share if self.in_scope[Channel.PRIVATE] else 0.0)
        notices = population.notices.probability.as_tuple()
        view = policy.Platform(
            classifier=classifier,
            reviewer=reviewer,
            prefilter=spec.prepublication_filter,
            hold_margin=spec.hold_margin,
            flag_margin=spec.flag_margin,
            held_review_margin=spec.held_review_margin,
            notice=[n * public / in_scope for n in notices],
            order=list(self.monitor_probability),
        )
        return spec, view

    def run(self) -> Recorder:
        started = time.perf_counter()
        env = self.env
        for user in self.users:
            env.process(self.user_process(user))
        env.process(self.day_boundaries())
        if self.moderating or self.scenario.rules.real_name.enabled:
            for platform in self.platforms:
                env.process(self.audit_process(platform))
        env.run(until=self.scenario.horizon_days * HOURS_PER_DAY)
        self.end_of_day(self.scenario.horizon_days - 1)
        self.wall_seconds = time.perf_counter() - started
        return self.recorder

    def count(
        self, day: int, row: int, channel: int, kind: int, outcome: Outcome, n: int = 1
    ) -> None:
        self.recorder.counts[day, row, channel, kind, outcome] += n

    # -- users --------------------------------------------------------------------------
    def user_process(self, user: User) -> Generator[simpy.Event, Any, None]:
        """A user writes posts at exponential intervals, whatever their state: what
        happens to each post (withheld, excluded, published...) is decided as it is written."""
        mean_gap_hours = HOURS_PER_DAY / user.rate
        private_share = self.scenario.population.private_share
        while True:
            yield self.env.timeout(self.speech.exponential(mean_gap_hours))
            kind = _pick(user.kind_cumulative, self.speech.random())
            channel = Channel.PRIVATE if self.speech.random() < private_share else Channel.PUBLIC
            self.write(user, kind, channel)

    def write(self, user: User, kind: int, channel: int) -> None:
        now = self.env.now
        day = int(now // HOURS_PER_DAY)
        row = {NO_ROUTE: user.platform, OFFSHORE: self.circumvention_row}.get(
            user.route, user.route
        )
        self.recorder.intended[day, row, channel, kind] += 1
        if user.route == NO_ROUTE:
            self.count(day, user.platform, channel, kind, Outcome.EXCLUDED)
            self.recorder.excluded_by_reason[day, user.platform, channel, kind, user.reason] += 1
            return
        if user.route == OFFSHORE:
            friction = self.scenario.population.exits.circumvention_friction
            lost = self.rng.random() < friction
            outcome = Outcome.EXCLUDED if lost else Outcome.SURVIVING
            self.count(day, self.circumvention_row, channel, kind, outcome)
            if lost:
                cell = (day, self.circumvention_row, channel, kind, ExclusionReason.FRICTION)
                self.recorder.excluded_by_reason[cell] += 1
            return
        said = kind
        if kind != ContentKind.BENIGN:  # benign posts carry no risk (S3)
            platform = self.platforms[user.route].state
            climate = 1.0
            if self.law.climate_weight > 0.0:
                expected = user.expected[kind]
                if expected > 0.0:
                    short = 1.0 - user.observed[kind] / expected
                    climate = max(0.0, 1.0 + self.law.climate_weight * short)
            # A closure's ban follows a registered user where the platform checks
            # identities (S14: the identity is burned); an anonymous user can return.
            follows = (
                platform.spec.real_name_enforcement
                if user.traceable and self.scenario.rules.real_name.enabled
                else 0.0
            )
            decided = minds.decide(
                user.mind, self.law, user.value, channel, kind, self.news,
                platform.spec.strikes_to_close - user.strikes, user.traceable,
                self.rng.random(), climate, follows,
            )  # fmt: skip
            if decided is None:
                self.count(day, user.route, channel, kind, Outcome.WITHHELD)
                return
            if decided != kind:
                self.count(day, user.route, channel, kind, Outcome.SOFTENED)
            said = decided
            at_risk = self.law.removal[(channel, said)] or self.law.detention[(channel, said)]
            if channel == Channel.PUBLIC and at_risk:
                user.said[said] += 1
        self.publish(self.platforms[user.route], user, day, channel, said)

    # -- platforms ----------------------------------------------------------------------
    def publish(self, platform: Platform, user: User, day: int, channel: int, kind: int) -> None:
        now = self.env.now
        p = platform.state.index
        self.published_today[kind] += 1
        if not self.in_scope[channel]:
            self.count(day, p, channel, kind, Outcome.SURVIVING)
            return
        rng = self.rng
        rec = self.recorder
        score = platform.state.spec.reviewer_mean.as_tuple()[kind] + rng.standard_normal()
        post = Post(user, day, p, channel, kind, now, score)
        platform.reached_today[kind] += 1
        if 0.0 < self.line[kind] < 1.0:
            platform.lawful_published.append(post)
        if rng.random() < platform.hold[kind]:
            self.count(day, p, channel, kind, Outcome.BLOCKED)  # until approved
            rec.tallies["held"][kind] += 1
            self.env.process(self.review(platform, post, Action.HOLD, 0.0))
            return
        post.published_hours = now
        self.count(day, p, channel, kind, Outcome.SURVIVING)
        if self.prohibited[kind]:
            platform.prohibited_published.append(post)
        if rng.random() < platform.flag[kind]:
            rec.tallies["flagged"][kind] += 1
            # The filter's keyword sweep: every sweep_interval_hours from time 0.
            delay = self.next_sweep(now, platform.state.spec.sweep_interval_hours) - now
            self.env.process(self.review(platform, post, Action.FLAG, delay))
        # Users and the regulator notice the post as its views come (one uniform each).
        # Private messages have no audience to build, and benign posts count as from an
        # author of audience 1 (the model's rule: the engine draws them in aggregate).
        public = channel == Channel.PUBLIC and kind != ContentKind.BENIGN
        reach = self.audience(user) if public else 1.0
        if channel == Channel.PUBLIC:
            delay = self.attention_delay(rng.random(), self.notice_probability[kind], reach)
            if delay < math.inf:
                rec.tallies["notices"][kind] += 1
                self.env.process(self.review(platform, post, Action.NOTICE, delay))
                notice_deadline = self.scenario.rules.takedown.notice_deadline_hours
                if notice_deadline is not None and self.prohibited[kind]:
                    deadline = now + delay + notice_deadline
                    self.env.process(self.duty(platform, post, deadline, False))
        delay = self.attention_delay(rng.random(), self.monitor_probability[kind], reach)
        if delay < math.inf:
            self.env.process(self.order(platform, post, delay))

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
            score = post.appeal_score if action == Action.APPEAL else post.score
            threshold = platform.state.threshold
            if action == Action.HOLD:
                threshold += platform.state.spec.held_review_margin
            takes_down = action == Action.ORDER or score > threshold
            service = self.rng.exponential(platform.state.spec.review_minutes / 60.0)
            yield self.env.timeout(service)
        now = self.env.now
        if action == Action.APPEAL:
            if not takes_down and post.removed_hours < math.inf:
                # Reinstated: the post counts as surviving; its removal delay stays on record.
                post.removed_hours = math.inf
                post.removed_by = -1
                self.move(post, Outcome.REMOVED, Outcome.SURVIVING)
                self.recorder.tallies["reinstated"][post.kind] += 1
        elif action == Action.HOLD:
            if takes_down:
                post.blocked_hours = now
                self.sanction(post, seen=False)  # never published: friends saw nothing
            else:
                post.published_hours = now
                self.move(post, Outcome.BLOCKED, Outcome.SURVIVING)
                if self.prohibited[post.kind]:
                    platform.prohibited_published.append(post)
        elif takes_down and post.removed_hours > now:
            self.remove(platform, post, action)

    def remove(self, platform: Platform, post: Post, action: int) -> None:
        now = self.env.now
        rec = self.recorder
        post.removed_hours = now
        post.removed_by = action
        self.move(post, Outcome.SURVIVING, Outcome.REMOVED)
        rec.add_delays(np.array([post.kind]), np.array([now - post.time_hours]))
        if action == Action.NOTICE:
            rec.tallies["notices_removed"][post.kind] += 1
        self.sanction(post, seen=post.channel == Channel.PUBLIC)
        reporting = self.scenario.rules.reporting.mode
        # Removals on a regulator's order were reported with the order's data request,
        # and only the platform's own removals can be appealed.
        if action == Action.ORDER:
            return
        if (
            reporting == "proactive"
            and self.prohibited[post.kind]
            and self.rng.random() < platform.state.spec.report_probability
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

    def move(self, post: Post, source: Outcome, target: Outcome) -> None:
        self.count(post.day, post.platform, post.channel, post.kind, source, -1)
        self.count(post.day, post.platform, post.channel, post.kind, target, 1)

    def sanction(self, post: Post, seen: bool) -> None:
        self.sanctioned_today.append((post.author, post.kind, seen))

    # -- the regulator -------------------------------------------------------------------
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
            arrival, EventKind.ORDER, platform.state.name, post.author.index, _label(post.kind)
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
        deadline passed since the last audit and the unregistered users; penalise."""
        now = self.env.now
        spec = self.scenario.regulator
        rules = self.scenario.rules
        state = platform.state
        size = spec.audit_sample_size
        since = max(0.0, now - spec.audit_window_days * HOURS_PER_DAY)
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
            # Lawful posts near the line: each one up counts with its kind's q (by the days
            # the window touches, as the engine's day cells).
            first_day = math.floor(since / HOURS_PER_DAY)
            for post in platform.lawful_published:
                if (
                    post.day >= first_day
                    and post.published_hours < math.inf
                    and post.removed_hours > now
                ):
                    violating += self.line[post.kind]
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
        platform.audits_seen += 1
        platform.found_total += found
        platform.predicted_total += platform.predicted
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
        else:
            state.clean_audits += 1
            if state.clean_audits >= rules.penalties.deescalate_after_clean_audits:
                state.penalty_level = max(0, state.penalty_level - 1)
                state.clean_audits = 0

    def penalise(self, platform: Platform, now: float) -> None:
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
            annual_revenue = 365.0 * state.active_users * state.spec.revenue_per_user_day
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

    # -- the police ----------------------------------------------------------------------
    def report(self, platform: Platform, user: User, kind: int) -> None:
        user.ever_reported = True
        self.recorder.tallies["reports"][kind] += 1
        self.recorder.event(
            self.env.now, EventKind.REPORT, platform.state.name, user.index, _label(kind)
        )
        self.env.process(self.investigate(user, kind))

    def investigate(self, user: User, kind: int) -> Generator[simpy.Event, Any, None]:
        """An investigator takes the report (first come, first served) and may detain."""
        if self.investigators is None:
            return
        police = self.scenario.police
        with self.investigators.request() as request:
            yield request
            if user.state == UserState.DETAINED:
                return  # already detained: nothing to investigate
            identified = user.traceable or self.rng.random() < police.identify_anonymous_probability
            detains = (
                identified and self.rng.random() < police.detention_probability.as_tuple()[kind]
            )
            yield self.env.timeout(self.rng.exponential(police.investigation_days * HOURS_PER_DAY))
        if detains:
            self.pending_detentions.append((self.env.now, user, kind))

    # -- day boundaries --------------------------------------------------------------------
    def day_boundaries(self) -> Generator[simpy.Event, Any, None]:
        """At ``24 d`` hours: close day ``d - 1``, then open day ``d``."""
        for day in range(self.scenario.horizon_days):
            if day > 0:
                self.end_of_day(day - 1)
            self.start_of_day(day)
            yield self.env.timeout(HOURS_PER_DAY)

    def start_of_day(self, day: int) -> None:
        now = day * HOURS_PER_DAY
        rec = self.recorder
        self.news_today = 0
        self.detained_today = []
        self.sanctioned_today = []
        self.published_today = [0] * N_KINDS
        # Releases, then detentions decided since the last boundary.
        for user in self.users:
            if user.state == UserState.DETAINED and user.release_hours <= now:
                # Back to what they were: detention restores no closed account.
                user.state = user.state_before_detention
                user.release_hours = math.inf
        due = sorted((d for d in self.pending_detentions if d[0] < now), key=lambda d: d[0])
        self.pending_detentions = [d for d in self.pending_detentions if d[0] >= now]
        for when, user, kind in due:
            if user.state == UserState.DETAINED:
                continue
            user.state_before_detention = user.state
            user.state = UserState.DETAINED
            user.ever_detained = True
            user.release_hours = when + self.scenario.police.detention_days * HOURS_PER_DAY
            rec.tallies["detentions"][kind] += 1
            self.news_today += 1
            self.detained_today.append((user, kind))
        # Platforms that leave the market (revoked or bankrupt) and suspensions.
        for platform in self.platforms:
            state = platform.state
            if not state.exited and (now >= state.exit_at_hours or state.cash < 0.0):
                if state.cash < 0.0 and not state.exit_reason:
                    state.exit_reason = "bankrupt"
                state.exited = True
                state.exit_at_hours = min(state.exit_at_hours, now)
                self.migrate_users(state)
            state.suspended_now = not state.exited and now < state.suspended_until_hours
        real_name = self.scenario.rules.real_name
        if real_name.enabled and day == real_name.start_day:
            self.register_users()
        self.returns_and_turnover(day)
        # Today's routes and filter settings.
        serving = [p.state.serving(now) for p in self.platforms]
        for user in self.users:
            user.reason = ExclusionReason.NONE
            if user.state == UserState.CIRCUMVENTING:
                user.route = OFFSHORE
            elif user.state == UserState.ACTIVE and serving[user.platform]:
                user.route = user.platform
            else:
                user.route = NO_ROUTE
                user.reason = {
                    UserState.ACTIVE: ExclusionReason.SUSPENDED,
                    UserState.LEFT: ExclusionReason.LEFT,
                    UserState.DETAINED: ExclusionReason.DETAINED,
                    UserState.EXCLUDED: ExclusionReason.CLOSED
                    if user.closed
                    else ExclusionReason.REFUSED_REAL_NAME,
                }[user.state]
        for platform in self.platforms:
            platform.hold = platform.state.hold_probability()
            platform.flag = platform.state.flag_probability_if_not_held()

    def returns_and_turnover(self, day: int) -> None:
        """Closed accounts due today re-register (one in detention, the day after its
        release); then every user independently leaves with probability
        ``turnover_per_year / 365`` and a newcomer takes the place (not in detention),
        registering under a real-name rule in force as everyone did on its first day."""
        self.returned_today = self.renewed_today = 0
        for user in self.users:
            if user.return_day != day:
                continue
            if user.state == UserState.DETAINED:
                user.return_day = day + 1
            elif user.state == UserState.EXCLUDED and user.closed:
                user.state = UserState.ACTIVE
                user.closed = False
                user.strikes = 0
                user.last_strike_day = -(2**30)
                user.return_day = -1
                self.returned_today += 1
        spec = self.scenario.population
        rate = min(1.0, spec.turnover_per_year / 365.0)
        rule = self.scenario.rules.real_name
        in_force = rule.enabled and day >= rule.start_day
        draws = self.turnover.random((len(self.users), 4))
        for user, (leaves, refuses, enforced, circumvents) in zip(self.users, draws, strict=True):
            if leaves >= rate or user.state == UserState.DETAINED:
                continue
            self.renewed_today += 1
            user.strikes = 0
            user.last_strike_day = -(2**30)
            user.return_day = -1
            user.closed = False
            user.mind = self.newcomer_mind(user.mind)
            user.traceable = False
            user.state = UserState.ACTIVE
            if in_force:
                enforcement = self.platforms[user.platform].state.spec.real_name_enforcement
                if refuses >= rule.refusal_probability:
                    user.traceable = True
                elif enforced < enforcement:
                    circumvent = circumvents < rule.circumvent_probability
                    user.state = UserState.CIRCUMVENTING if circumvent else UserState.EXCLUDED

    def migrate_users(self, gone: PlatformState) -> None:
        remaining = [p.state for p in self.platforms if not p.state.exited]
        if not remaining:
            return
        shares = np.array([p.spec.market_share for p in remaining])
        shares = (
            shares / shares.sum()
            if shares.sum() > 0
            else np.full(len(remaining), 1 / len(remaining))
        )
        for user in self.users:
            if user.platform == gone.index:
                user.platform = remaining[int(self.rng.choice(len(remaining), p=shares))].index

    def register_users(self) -> None:
        rule = self.scenario.rules.real_name
        for user in self.users:
            if user.state != UserState.ACTIVE:
                continue
            refuses = self.rng.random() < rule.refusal_probability
            enforced = (
                self.rng.random() < self.platforms[user.platform].state.spec.real_name_enforcement
            )
            circumvents = self.rng.random() < rule.circumvent_probability
            if not refuses:
                user.traceable = True
            elif enforced:
                user.state = UserState.CIRCUMVENTING if circumvents else UserState.EXCLUDED

    def end_of_day(self, day: int) -> None:
        """Sanctions bite (strikes, closed accounts, leaving, circumventing), users learn
        from the day's signals, platforms book the day and adapt their threshold."""
        exits = self.scenario.population.exits
        sanctions = Counter(user for user, _, _ in self.sanctioned_today)
        real_name = self.scenario.rules.real_name
        in_force = real_name.enabled and day >= real_name.start_day
        self.closed_today = 0
        # Ascending user order, as the engine draws the closed accounts' return days.
        for user, times in sorted(sanctions.items(), key=lambda item: item[0].index):
            spec = self.platforms[user.platform].state.spec
            if day - user.last_strike_day > spec.strike_clean_days:
                user.strikes = 0  # a clean period wipes the record (L6)
            user.strikes = min(user.strikes + times, 32_000)
            user.last_strike_day = day
            if user.state != UserState.ACTIVE:
                continue
            if user.strikes >= spec.strikes_to_close:
                user.state = UserState.EXCLUDED
                user.closed = True
                self.closed_today += 1
                delay = max(1.0, math.ceil(self.rng.exponential(spec.reregister_mean_days)))
                checked = self.rng.random() < spec.real_name_enforcement
                burned = user.traceable and in_force and checked
                user.return_day = -1 if burned or day + delay >= 2**31 - 1 else int(day + delay)
                continue
            draw = self.rng.random()
            if draw < exits.leave_probability_on_sanction:
                user.state = UserState.LEFT
            elif (
                draw
                < exits.leave_probability_on_sanction + exits.circumvent_probability_on_sanction
            ):
                user.state = UserState.CIRCUMVENTING
        if self.at_risk:
            self.learn()
        for platform in self.platforms:
            state = platform.state
            state.active_users = sum(1 for u in self.users if u.route == state.index)
            if not state.exited:
                state.book_day(staffed=self.moderating)  # no rules: no compliance staff
                if self.moderating:
                    self.adapt(platform)
            self.recorder.platform_series.append(
                {
                    "day": day,
                    "platform": state.name,
                    "strictness": state.strictness if self.moderating else 0.0,
                }
            )
        self.recorder.population_series.append(
            {
                "day": day,
                "active": sum(1 for u in self.users if u.state == UserState.ACTIVE),
                "accounts_closed": self.closed_today,
                "accounts_returned": self.returned_today,
                "users_renewed": self.renewed_today,
            }
        )

    def newcomer_mind(self, old: minds.Mind) -> minds.Mind:
        """A newcomer's beliefs (S14, S16): the day-0 evidence."""
        perception = self.scenario.population.perception
        mind = minds.Mind()
        for k in minds.SENSITIVE:
            q = minds.line(self.scenario, k)
            mind.trials[k] = perception.initial_trials
            mind.removals[k] = perception.initial_trials * perception.initial_removal * q
            mind.detentions[k] = perception.initial_trials * perception.initial_detention * q
        return mind

    def learn(self) -> None:
        """The day's evidence: own sanctions (1 each), friends' public posts said (the
        friends' weight each, as trials), their public removals and detentions
        (visibility times their weights), the news; then every belief fades a day
        (S16)."""
        perception = self.scenario.population.perception
        seen = perception.visibility * perception.friend_evidence_weight
        seen_detention = perception.visibility * perception.friend_detention_weight
        users = self.users
        for user, kind, public in self.sanctioned_today:
            if kind == ContentKind.BENIGN:
                continue
            user.mind.removals[kind] += 1.0
            if public:
                for friend in user.neighbours:
                    users[friend].mind.removals[kind] += seen
        detained = [0] * N_KINDS
        for user, kind in self.detained_today:
            detained[kind] += 1
            if kind == ContentKind.BENIGN:
                continue
            user.mind.detentions[kind] += 1.0
            for friend in user.neighbours:
                users[friend].mind.detentions[kind] += seen_detention
        minds.update_news(
            self.news, self.decay, detained, self.published_today,
            perception.news_trials_per_day, perception.visibility,
        )  # fmt: skip
        heard = [[0.0] * N_KINDS for _ in users]
        for user in users:
            for k in minds.SENSITIVE:
                if user.said[k]:
                    for friend in user.neighbours:
                        heard[friend][k] += user.said[k]
            user.said = [0] * N_KINDS
        for user in users:
            for k in minds.SENSITIVE:
                user.mind.trials[k] += perception.friend_evidence_weight * heard[user.index][k]
        if self.law.climate_weight > 0.0:
            keep = self.climate_keep
            for user in users:
                for k in minds.SENSITIVE:
                    user.observed[k] = keep * user.observed[k] + (1.0 - keep) * heard[user.index][k]
        for user in users:
            user.mind.end_of_day(self.decay)

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
        believed = spec.believed_audits_per_year
        if believed is None:
            believed = scenario.regulator.audits_per_year
        prior = spec.audit_belief_days
        audits_per_day = (prior * believed / 365.0 + platform.audits_seen) / (
            prior + platform.days_watched
        )
        detection = (2.0 + platform.found_total) / (2.0 + platform.predicted_total)
        level = state.penalty_level
        now_value, next_value = (
            state.rung_value(scenario, level),
            state.rung_value(scenario, level + 1),
        )
        regulator, liability = scenario.regulator, scenario.rules.takedown.liability
        costs = [
            policy.daily_cost(
                view,
                t,
                platform.flows,
                self.line,
                liability,
                regulator.audit_sample_size,
                scenario.rules.penalties.tolerance,
                spec.wrongful_removal_daily_cost,
                audits_per_day,
                detection,
                now_value,
                next_value,
            )  # fmt: skip
            for t in platform.thresholds
        ]
        target = policy.cheapest(platform.thresholds, costs, state.threshold)
        state.threshold += spec.adaptation_rate * (target - state.threshold)
        platform.predicted = policy.expected_found(
            view, state.threshold, platform.flows, self.line, liability,
            regulator.audit_sample_size,
        )  # fmt: skip

    # -- results ---------------------------------------------------------------------------
    def platform_rows(self) -> list[dict[str, Any]]:
        rows = []
        for platform in self.platforms:
            state = platform.state
            series = [
                r["strictness"]
                for r in self.recorder.platform_series
                if r["platform"] == state.name
            ]
            rows.append(
                {
                    "platform": state.name,
                    "fines_paid": state.fines_paid,
                    "moderation_cost": state.moderation_cost,
                    "final_strictness": state.strictness if self.moderating else 0.0,
                    "mean_strictness": float(np.mean(series)) if series else 0.0,
                    "suspensions": state.suspensions,
                    "penalty_level": state.penalty_level,
                    "exited": state.exited,
                    "exit_reason": state.exit_reason,
                    "cash": state.cash,
                    **self.audit_beliefs(platform),
                }
            )
        return rows

    def audit_beliefs(self, platform: Platform) -> dict[str, float]:
        """What the platform came to believe about audits (0 and 1 without a policy)."""
        if platform.view is None:
            return {"believed_audits_per_year": 0.0, "detection_calibration": 1.0}
        spec = platform.state.spec
        believed = spec.believed_audits_per_year
        if believed is None:
            believed = self.scenario.regulator.audits_per_year
        prior = spec.audit_belief_days
        per_day = (prior * believed / 365.0 + platform.audits_seen) / (
            prior + platform.days_watched
        )
        return {
            "believed_audits_per_year": 365.0 * per_day,
            "detection_calibration": (2.0 + platform.found_total)
            / (2.0 + platform.predicted_total),
        }

    def user_counts(self) -> dict[str, int]:
        states = Counter(u.state for u in self.users)
        out = {s.name.lower(): int(states.get(s, 0)) for s in UserState}
        out["traceable"] = sum(u.traceable for u in self.users)
        out["reported_ever"] = sum(u.ever_reported for u in self.users)
        out["detained_ever"] = sum(u.ever_detained for u in self.users)
        return out


def _pick(cumulative: list[float], u: float) -> int:
    for k, c in enumerate(cumulative):
        if u < c:
            return k
    return len(cumulative) - 1


def _label(kind: int) -> str:
    return ContentKind(int(kind)).label


def run_reference(
    scenario: Scenario, seed: int | None = None, days: int | None = None
) -> dict[str, Any]:
    """The reference's paired run (rules, then its own no-rules counterfactual on the same
    speech stream): the summary dict of :func:`simulator.output.metrics.summarise` plus
    ``wall_seconds``."""
    if days is not None:
        scenario = type(scenario).model_validate(
            {**scenario.model_dump(), "horizon_days": int(days)}
        )
    seed = scenario.seed if seed is None else int(seed)
    started = time.perf_counter()
    with_rules = ReferenceSimulation(scenario, seed)
    with_rules.run()
    counterfactual = ReferenceSimulation(scenario.without_rules(), seed)
    counterfactual.run()
    summary = summarise(
        scenario,
        seed,
        with_rules.recorder,
        counterfactual.recorder,
        with_rules.platform_rows(),
        with_rules.user_counts(),
    )
    summary["wall_seconds"] = time.perf_counter() - started
    summary["wall_seconds_rules"] = with_rules.wall_seconds
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.reference.agent",
        description="One paired run of the reference model.",
    )
    parser.add_argument("--scenario", default="classroom")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    if args.users is not None:
        scenario = override(scenario, {"population.users": args.users})
    summary = run_reference(scenario, args.seed, args.days)
    for key in (
        "intended",
        "withheld",
        "excluded",
        "blocked",
        "removed",
        "surviving",
        "speech_loss",
        "chilling_effect",
        "collateral_share",
        "removed_within_1h",
        "wall_seconds",
    ):
        print(f"{key:>20}: {summary[key]}")


if __name__ == "__main__":
    main()
