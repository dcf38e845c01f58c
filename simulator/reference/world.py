"""The world of the reference model (:mod:`simulator.reference.agent`): its agents as
plain objects (a :class:`User`, a :class:`Post`, a :class:`Platform`) and :class:`World`,
the state of one run and how it is set up (docs/model.md 1.2 "Entities, state variables
and scales", 3.1 "Initialization").

:class:`World` is the base of the mechanisms' classes, one module each
(:mod:`~simulator.reference.speech`, :mod:`~simulator.reference.moderation`,
:mod:`~simulator.reference.regulator`, :mod:`~simulator.reference.police`,
:mod:`~simulator.reference.accounts`), which :class:`~simulator.reference.agent.ReferenceSimulation`
puts together with the day loop. It holds what they share: the users, the platforms,
the random streams, the recorder and the day's signals.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from simpy.resources.resource import SortedQueue

from simulator.kinds import (
    N_KINDS,
    Channel,
    ContentKind,
    ExclusionReason,
    Outcome,
    UserState,
)
from simulator.model import slice_scale
from simulator.model.platforms import (
    PlatformState,
    part_time_servers,
    review_servers,
    review_staff,
    strictness_to_threshold,
)
from simulator.model.police import police_staff
from simulator.model.population import Users
from simulator.model.scenario import PerKindScore, Scenario
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
    suspended: bool = False  # EXCLUDED because the account is suspended until return_day
    ever_reported: bool = False
    ever_detained: bool = False
    release_hours: float = math.inf
    state_before_detention: UserState = UserState.ACTIVE
    # Snapshot taken at each day boundary: where the user may post today.
    route: int = NO_ROUTE
    # Public sensitive posts said today (friends' trials and climate), the climate's
    # memory of friends' public sensitive posts and what was expected of them, per kind.
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
    #: A held post's notice and order delays after its approval (hours; inf: never),
    #: from the uniforms drawn when it reached the platform (issue 17, S5a).
    held_notice_delay: float = math.inf
    held_order_delay: float = math.inf


class _InsortedQueue(SortedQueue):
    """SimPy's :class:`~simpy.resources.resource.SortedQueue` (requests by priority, then
    time of request), with each request put in its place by a binary search instead of
    sorting the whole line again at every request. The line is always sorted and the
    sort is stable, so the place is the same: after every request whose key is not
    greater (:func:`bisect.insort_right`). SimPy's ``append`` re-sorts the line, which
    costs time in proportion to its length at every request: quadratic when the review
    line overflows (tens of thousands waiting at 10,000 users once a platform's
    threshold is at its bound), and so hours for the benchmark's reference run."""

    def append(self, item: Any) -> None:
        if self.maxlen is not None and len(self) >= self.maxlen:
            raise RuntimeError("Cannot append event. Queue is full.")
        bisect.insort_right(self, item, key=_request_key)


def _request_key(request: Any) -> Any:
    return request.key


class ReviewLine(simpy.PriorityResource):
    """A platform's reviewers: a :class:`simpy.PriorityResource` (same grants in the same
    order) whose waiting line takes a request in logarithmic time (:class:`_InsortedQueue`)."""

    PutQueue = _InsortedQueue

    def add_desks(self, servers: int) -> None:
        """``servers`` desks from now on (more than now): SimPy's resources have no
        capacity setter. The requests waiting are granted to the new desks at once, in
        priority order (one grant per ``_trigger_put``: SimPy's Resource stops after its
        first put, a session 16 referee)."""
        if servers < self._capacity:
            raise ValueError(f"desks are never removed: {servers} < {self._capacity}")
        self._capacity = servers
        while self.queue and len(self.users) < self._capacity:
            self._trigger_put(None)


@dataclass(eq=False)
class Platform:
    """A platform: its policy state (the engine's PlatformState) and its reviewers."""

    state: PlatformState
    reviewers: ReviewLine | None
    mean_service_hours: float = 0.0  # clock time of a review (platforms.review_servers)
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
    reviewed_today: list[int] = field(default_factory=lambda: [0] * N_KINDS)  # reviews begun
    flows: list[float] | None = None
    audits_seen: int = 0
    days_watched: int = 0
    # What the next audit should find at today's threshold (at detection 1): of
    # prohibited kinds, and of lawful kinds per reading.
    predicted_prohibited: float = 0.0
    predicted_lawful: list[float] | None = None
    # The audits so far (S8): prohibited-kind posts found and predicted; the log of the
    # belief in each reading of the law.
    found_prohibited_total: float = 0.0
    predicted_prohibited_total: float = 0.0
    line_log_weights: list[float] = field(default_factory=lambda: [0.0] * policy.READINGS)
    #: Whether the audits lived through before day 0 have been learned (S8, "Experience").
    experience_learned: bool = False

    def audits_per_day(self, regulator_audits_per_year: float) -> float:
        """The audits a day the platform expects (S8): its prior belief
        (``believed_audits_per_year``, else the regulator's rate) held as
        ``audit_belief_days`` days of watching, with the audits it has seen since."""
        spec = self.state.spec
        believed = spec.believed_audits_per_year
        if believed is None:
            believed = regulator_audits_per_year
        prior = spec.audit_belief_days
        return (prior * believed / 365.0 + self.audits_seen) / (prior + self.days_watched)

    def detection_calibration(self) -> float:
        """``kappa = (2 + found) / (2 + predicted)``: the prohibited-kind posts its audits
        found over those it predicted, summed over the audits so far (S8)."""
        return (2.0 + self.found_prohibited_total) / (2.0 + self.predicted_prohibited_total)


class World:
    """One run's state: the users, the platforms and the police's investigators (SimPy
    resources), the random streams, the recorder and the day's signals. The mechanisms'
    classes add the processes; :class:`~simulator.reference.agent.ReferenceSimulation`
    puts them together."""

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
        self.closed_today = self.suspended_today = self.returned_today = self.renewed_today = 0

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
        # The line probability of each kind as the platform and users read it (S8): the
        # policy and the reviewers' scores use it. The regulator enforces the law: it
        # orders down (and audits count) prohibited kinds only, however vague (S10).
        self.line = policy.line_probability(
            self.prohibited, list(perception.kind_closeness.as_tuple()), rules.takedown.vagueness
        )
        self.monitor_probability = [
            monitoring if self.prohibited[k] else 0.0 for k in range(N_KINDS)
        ]
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
            friends_posts = sum(float(public[j]) for j in neighbours)
            mind = self.initial_mind()
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
            staff = review_staff(scenario, pspec)
            servers, mean_service_hours = review_servers(staff, pspec.review_minutes)
            state = PlatformState(
                index=index,
                spec=pspec,
                queue=None,  # type: ignore[arg-type]  # the reviewers are a SimPy resource here
                threshold=strictness_to_threshold(pspec.initial_strictness),
                cash=pspec.initial_cash,
                staff=staff,
                money_scale=slice_scale.money_scale(
                    scenario.population.users, scenario.population.represented_users
                ),
            )
            reviewers = ReviewLine(self.env, capacity=servers) if servers > 0 else None
            platform = Platform(state, reviewers, view=view)
            platform.mean_service_hours = mean_service_hours
            platform.thresholds = policy.grid(pspec.min_strictness, pspec.max_strictness)
            self.platforms.append(platform)
        self.circumvention_row = len(self.platforms)
        police = scenario.police
        servers, self.investigation_hours = part_time_servers(
            police_staff(scenario), police.investigation_days * HOURS_PER_DAY
        )
        self.investigators = simpy.Resource(self.env, capacity=servers) if servers else None
        self.recorder = Recorder(scenario.horizon_days, len(self.platforms) + 1)
        self.pending_detentions: list[tuple[float, User, int]] = []
        # Each finished investigation's chance of a detention (time, kind, chance), and
        # their sum by kind for those that finished before today: the news (S16).
        self.pending_chances: list[tuple[float, int, float]] = []
        self.expected_detentions_today: list[float] = [0.0] * N_KINDS
        # Today's signals, consumed at the end of the day: sanctions (user, kind, seen by
        # friends), detentions (user, kind).
        #: The day's sanctions: author, post kind, whether friends saw it, and the
        #: grounds for a strike (platform, route, reviewer score) or None (S14).
        self.sanctioned_today: list[tuple[User, int, bool, tuple[int, int, float] | None]] = []
        self.detained_today: list[tuple[User, int]] = []
        self.news_today = 0
        self.wall_seconds = 0.0

    def platform_view(self, spec: Any) -> tuple[Any, policy.Platform]:
        """The platform's spec with its effective score means, and how its policy sees
        its moderation (docs/model.md S8)."""
        # The keyword filter matches topics; the reviewers follow the law as read (S8).
        classifier = list(spec.classifier_mean.as_tuple())
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

    def count(
        self, day: int, row: int, channel: int, kind: int, outcome: Outcome, n: int = 1
    ) -> None:
        self.recorder.counts[day, row, channel, kind, outcome] += n

    def initial_mind(self) -> minds.Mind:
        """A user's beliefs on arrival, on day 0 or as a newcomer (S14, S16): the
        initial evidence per sensitive kind (friends' posts add trials as they are said)."""
        perception = self.scenario.population.perception
        mind = minds.Mind()
        for k in minds.SENSITIVE:
            q = minds.line(self.scenario, k)
            mind.trials[k] = perception.initial_trials
            mind.removals[k] = perception.initial_trials * perception.initial_removal * q
            mind.detentions[k] = perception.initial_trials * perception.initial_detention * q
        return mind

    def seen_in_public(self, channel: int, kind: int) -> bool:
        """Whether a post of ``kind`` said on ``channel`` counts for the author's
        friends (public, and the law can touch the kind: S16's friends' trials)."""
        law = self.law
        return (
            channel == Channel.PUBLIC
            and kind != ContentKind.BENIGN
            and bool(law.removal[(channel, kind)] or law.detention[(channel, kind)])
        )

    # The mechanisms call one another through ``self``: these are defined in their
    # modules (named in each), declared here so that each module can be read alone.
    def publish(self, platform: Platform, user: User, day: int, channel: int, kind: int) -> None:
        """A post reaches its platform (:mod:`simulator.reference.moderation`)."""
        raise NotImplementedError

    def review(
        self, platform: Platform, post: Post, action: int, delay: float
    ) -> Generator[simpy.Event, Any, None]:
        """One review item (:mod:`simulator.reference.moderation`)."""
        raise NotImplementedError

    def book_potential(
        self, day: int, row: int, channel: int, kind: int, user: User, published_hours: float
    ) -> None:
        """A published post's potential exposure into its cell
        (:mod:`simulator.reference.moderation`)."""
        raise NotImplementedError

    def order(
        self, platform: Platform, post: Post, delay: float
    ) -> Generator[simpy.Event, Any, None]:
        """A takedown order (:mod:`simulator.reference.regulator`)."""
        raise NotImplementedError

    def duty(
        self, platform: Platform, post: Post, deadline: float, order: bool
    ) -> Generator[simpy.Event, Any, None]:
        """A legal deadline to take a post down (:mod:`simulator.reference.regulator`)."""
        raise NotImplementedError

    def report(self, platform: Platform, user: User, kind: int) -> None:
        """A user reported to the police (:mod:`simulator.reference.police`)."""
        raise NotImplementedError


def kind_label(kind: int) -> str:
    """The kind's name in the event log."""
    return ContentKind(int(kind)).label
