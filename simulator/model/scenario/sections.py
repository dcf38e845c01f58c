"""The scenario's schema: one frozen pydantic model per section (population, platforms,
rules, regulator, police), each field with its type, bounds and default (docs/model.md,
3.2 Input data, and the parameter tables of 3.3 Submodels). ``Scenario.without_rules``
is the counterfactual (S17).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from simulator.kinds import KIND_LABELS, ContentKind
from simulator.model.arrivals import ATTENTION_HOURS_FROM_RETWEETS
from simulator.model.scenario.access import Access
from simulator.model.scenario.checks import (
    _platform_problems,
    _population_problems,
    _raise_cross_field,
    _scenario_problems,
)
from simulator.model.scenario.groups import Group
from simulator.model.scenario.timeline import TimelineEntry
from simulator.model.slice_scale import MAX_REPRESENTED_USERS, MAX_USERS

#: The shortest interval between keyword sweeps a scenario may state (hours): one minute.
MIN_SWEEP_INTERVAL_HOURS = 1.0 / 60.0


#: Longest mean delay (hours) a scenario may give: 100 years. Beyond it times overflow.
MAX_DELAY_HOURS = 876_000.0


#: Most reviewers per 100,000 users a platform may have: one per user.
MAX_REVIEWERS_PER_100K = 100_000.0


#: Most investigators per 100,000 users the police may have: one per user.
MAX_INVESTIGATORS_PER_100K = 100_000.0


#: Shortest mean review (minutes) a platform may give: 0.06 s.
MIN_REVIEW_MINUTES = 0.001


Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
#: The take-downs that can give their author a strike (``kinds.Action.NAMES`` but appeals).
StrikeRoute = Literal["order", "hold", "notice", "flag"]


NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


SignalWeight = Annotated[float, Field(ge=0.0, le=1000.0)]


class _Frozen(BaseModel):
    # strict: a string is never silently turned into a number, nor a bool into an int.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BetaDistribution(_Frozen):
    """A Beta(alpha, beta) distribution on [0, 1]."""

    alpha: Positive = 2.0
    beta: Positive = 2.0

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


class PerKind(_Frozen):
    """One number per content kind."""

    benign: NonNegative = 0.0
    critical: NonNegative = 0.0
    collective_action: NonNegative = 0.0
    unlawful: NonNegative = 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Values in :class:`ContentKind` order."""
        return (self.benign, self.critical, self.collective_action, self.unlawful)


Score = Annotated[float, Field(ge=-10.0, le=10.0, allow_inf_nan=False)]


class PerKindScore(PerKind):
    """Mean apparent-severity score per kind, on the scale of a standard normal."""

    benign: Score = 0.0
    critical: Score = 0.0
    collective_action: Score = 0.0
    unlawful: Score = 0.0


class PerKindProbability(PerKind):
    benign: Probability = 0.0
    critical: Probability = 0.0
    collective_action: Probability = 0.0
    unlawful: Probability = 0.0


class PerKindSignal(PerKind):
    """A weight of evidence per kind, in posts (bounded like every signal weight)."""

    benign: SignalWeight = 0.0
    critical: SignalWeight = 0.0
    collective_action: SignalWeight = 0.0
    unlawful: SignalWeight = 0.0


class SensitiveMix(_Frozen):
    """Share of an average user's intended posts of each sensitive kind; the rest is benign."""

    critical: Probability = 0.05
    collective_action: Probability = 0.01
    unlawful: Probability = 0.01


class Perception(_Frozen):
    """What users believe about the chance of each sanction, and how they learn it: a
    Beta belief per user, kind and sanction (docs/model.md S16 "Perceived probabilities")."""

    half_life_days: Positive = 30.0
    """Evidence halves in this many days without news: fear fades to the prior."""
    prior_trials: Annotated[float, Field(gt=0.0, le=1000.0)] = 2.0
    """Weight of the prior, in posts (n0)."""
    prior_removal: Probability = 0.05
    """Prior probability that a post of a prohibited kind is removed (lawful kinds: times
    their line probability ``vagueness * kind_closeness``)."""
    prior_report: Probability = 0.05
    """The chance users believe a post of a prohibited kind is reported to the police.
    Their prior of detention is this times what the law says follows a report
    (``police.identify_anonymous_probability * police.detention_probability.k``, for
    an anonymous user), times the line probability for a lawful kind: the law is
    public, so its certainty reaches users' priors (B1)."""
    initial_trials: Annotated[float, Field(ge=0.0, le=1000.0)] = 0.0
    """Evidence every user holds on day 0, in posts (publicity as a law comes into force);
    it fades with the half-life."""
    initial_removal: Probability = 0.0
    """Removal rate of the day-0 evidence (for prohibited kinds; lawful ones times q_k)."""
    initial_detention: Probability = 0.0
    """Detention rate of the day-0 evidence (as ``initial_removal``)."""
    friend_evidence_weight: SignalWeight = 0.2
    """Weight of a friend's public post (a trial) and of its removal (a success)."""
    friend_detention_weight: SignalWeight = 1.0
    """Weight of a friend's detention (salient: at least the friend evidence weight)."""
    news_case_weight: SignalWeight = 0.002
    """Posts, all of them punished, that one detention in the news counts for, per
    detention per 100,000 users (the news reports cases, not the unpunished)."""
    news_punished_posts_per_day: PerKindSignal = PerKindSignal()
    """Punished posts a day, per kind, that the news carries beyond the simulated police's
    own cases (a campaign's exemplary cases, broadcast to everyone: a sample of thousands
    of users holds none of a country's few hundred detentions); 0 by default."""
    visibility: Probability = 1.0
    """Share of the enforcement around them (friends, news) that users get to see."""
    climate_weight: SignalWeight = 0.5
    """Spiral of silence (B3, B7, B8): felt costs times ``max(0, 1 + weight * (1 - O /
    E))``, O the friends' public posts of the kind seen lately, E those expected of
    them: higher when friends fall silent, lower when they speak up; 0 switches it off."""
    climate_half_life_days: Positive = 7.0
    """Memory of the friends' posts a user has seen (the climate's O)."""
    kind_closeness: PerKindProbability = PerKindProbability(
        benign=0.0, critical=0.5, collective_action=0.8, unlawful=1.0
    )
    """How close each lawful kind seems to the prohibited line when the rules are vague."""


class SpeechIntensity(_Frozen):
    """How strongly each sensitive kind speaks, in [0, 1] (B2's action a)."""

    critical: Probability = 0.4
    collective_action: Probability = 1.0
    unlawful: Probability = 0.7

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (0.0, self.critical, self.collective_action, self.unlawful)


class Speech(_Frozen):
    """Users' expected utility of a post (docs/model.md S3 "Speech choice")."""

    intensity: SpeechIntensity = SpeechIntensity()
    desire_stance_exponent: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    """gamma in ``D_i = (stance_i / mean stance) ** gamma``."""
    choice_noise: Annotated[float, Field(ge=0.0, le=10.0)] = 0.3
    """lambda in the mood ``M = (u / (1 - u)) ** lambda`` on a post's felt cost."""
    removal_cost: NonNegative = 0.05
    """What a removal costs the author, in units of a mean user's value of a call to act."""
    account_value: NonNegative = 2.0
    """What losing the account for good costs; a removal carries its share of the
    closure the strikes lead to (``/ strikes left``)."""
    reregistered_loss: Probability = 0.5
    """Share of ``account_value`` a closure costs a user who can register anew (the
    ban does not follow the person: anonymous, or not checked): followers, history and
    the wait are lost, the account is not (B9)."""
    detention_cost: NonNegative = 20.0
    """c_det in the detention cost ``c_det * ln(1 + days / detention_scale_days)``."""
    detention_scale_days: Positive = 7.0
    """d0 in the detention cost."""

    @field_validator("removal_cost", "account_value", "detention_cost")
    @classmethod
    def _bounded(cls, value: float) -> float:
        if value > 1e6:
            raise ValueError("at most 1e6 (a cost beyond makes every post silent anyway)")
        return value


class Exits(_Frozen):
    """What users do when a sanction or rule bites."""

    leave_probability_on_sanction: Probability = 0.02
    circumvent_probability_on_sanction: Probability = 0.02
    circumvention_friction: Probability = 0.5
    """Share of a circumventing user's posts lost to the friction of the tools (C6)."""


class NoticeSender(_Frozen):
    """One type of notice sender (docs/model.md S5b): ordinary users, trusted flaggers
    (DSA Art. 22; NetzDG's complaint bodies) or automated senders."""

    share: PerKindProbability = PerKindProbability()
    """Share of the notices about posts of each kind that come from this sender: with
    ``notices.probability``, its volume per kind and so its accuracy (the mix over
    kinds of what it notices)."""


class Notices(_Frozen):
    """Complaints (notices) that users file about public posts they see."""

    probability: PerKindProbability = PerKindProbability(
        benign=0.0002, critical=0.005, collective_action=0.01, unlawful=0.05
    )
    """Chance that anyone notices a post of each kind from an author of average audience
    (docs/model.md S5a: when, and for other authors whether, follows the post's reach)."""
    senders: dict[Literal["users", "trusted_flaggers", "automated"], NoticeSender] = {}
    """Who sends the notices, each with its share of every kind's notices (docs/model.md
    S5b "Notice senders"); the shares of a kind add up to 1. Empty: every notice is a
    user's."""

    @model_validator(mode="after")
    def _shares_add_up(self) -> Notices:
        if not self.senders:
            return self
        totals = [sum(s.share.as_tuple()[k] for s in self.senders.values()) for k in range(4)]
        wrong = [KIND_LABELS[k] for k, total in enumerate(totals) if abs(total - 1.0) > 1e-9]
        if wrong:
            raise ValueError(
                "the senders' shares of each kind's notices must add up to 1; they do not "
                f"for {', '.join(wrong)} (sums {', '.join(f'{t:g}' for t in totals)})"
            )
        return self


class Population(_Frozen):
    users: int = Field(1000, le=MAX_USERS)
    """Users simulated, at least 1 (a run of nobody measures nothing): a sample (slice_scale)."""
    represented_users: Annotated[int, Field(ge=1, le=MAX_REPRESENTED_USERS)] | None = None
    """Users the money stands for: the slice's revenue and wages are scaled by
    ``represented_users / users`` (:mod:`simulator.model.slice_scale`); from a file, its
    ``users`` unless it says otherwise, so ``--users`` changes the sample, not the world."""
    posts_per_day: Annotated[float, Field(ge=0.0, le=10_000.0)] = 1.0
    """Mean intended posts per user per day, public and private together."""
    posting_dispersion: Annotated[float, Field(ge=0.0, le=3.0)] = 0.8
    """Sigma of the lognormal spread of posting rates across users (mean kept fixed)."""
    private_share: Probability = 0.3
    sensitive_mix: SensitiveMix = SensitiveMix()
    stance: BetaDistribution = BetaDistribution(alpha=2.0, beta=2.0)
    boldness: BetaDistribution = BetaDistribution(alpha=2.0, beta=5.0)
    mean_degree: Annotated[float, Field(ge=0.0, le=200.0)] = 10.0
    turnover_per_year: Annotated[float, Field(ge=0.0, le=365.0, allow_inf_nan=False)] = 0.2
    """Base rate at which users leave and newcomers take their place, per user per year
    (docs/model.md S14); the same in the counterfactual, so it nets out of every paired
    difference."""
    perception: Perception = Perception()
    speech: Speech = Speech()
    exits: Exits = Exits()
    notices: Notices = Notices()
    attention_hours: Annotated[float, Field(gt=0.0, le=MAX_DELAY_HOURS)] = (
        ATTENTION_HOURS_FROM_RETWEETS
    )
    """Time scale τ of a post's views, ``V(t) = A (1 − e^{−t/τ})`` (docs/model.md S5a):
    users' notices and the regulator's monitoring come as views do. Default 1/ln 2 ≈
    1.44 h: half of retweets come within an hour (Kwak et al. 2010)."""

    @field_validator("users")
    @classmethod
    def _someone(cls, value: int) -> int:
        # Zero users used to run to tables of zeros: an empty world is always a mistake.
        if value < 1:
            raise ValueError(f"a run needs at least 1 user; allowed: 1 to {MAX_USERS:,}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Population:
        _raise_cross_field(_population_problems(self))
        return self


class Platform(_Frozen):
    """A platform: its staff, classifier, policy and finances."""

    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
    market_share: Probability = 1.0
    reviewers_per_100k_users: Annotated[
        float, Field(ge=0.0, le=MAX_REVIEWERS_PER_100K, allow_inf_nan=False)
    ] = 20.0
    """Review staff, full-time reviewers per 100,000 of the platform's users
    (``population.users × market_share``): the ratio platforms report (DSA transparency
    reports give the staff dedicated to content moderation, Art. 42(2)(a), beside the
    average monthly active recipients, Art. 24(2); L7), so the queue's load per reviewer,
    and with it the time to removal, does not depend on how many users are simulated
    (docs/model.md S6, "Staff")."""
    # At least 0.001 min (0.06 s): smaller values divided into hours underflow to 0
    # (5e-324 / 60 == 0.0), which no queue can serve at.
    staffing: Literal["fixed", "chosen"] = "fixed"
    """``fixed``: the staff ``reviewers_per_100k_users`` gives, all run long. ``chosen``:
    that staff is the floor and the start, and each week the platform sets its head count
    to what minimises wages plus the expected penalty of the flagged posts its reviewers
    do not get to (docs/model.md S6a; only under takedown duties)."""
    max_staff_growth: Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)] = 0.5
    """With ``staffing = "chosen"``: the most the head count can grow in a week, as a
    share of the current staff (ASSUMPTION, informed by L13: +50%)."""
    review_minutes: Annotated[float, Field(ge=MIN_REVIEW_MINUTES, le=10_000.0)] = 2.0
    classifier_mean: PerKindScore = PerKindScore(
        benign=-3.0, critical=-0.5, collective_action=0.5, unlawful=1.5
    )
    """Mean apparent-severity score the automatic filter gives each kind (sd 1)."""
    reviewer_mean: PerKindScore = PerKindScore(
        benign=-4.0, critical=-1.0, collective_action=1.0, unlawful=2.5
    )
    """Mean apparent-severity score a human reviewer gives each kind (sd 1)."""
    prepublication_filter: bool = True
    hold_margin: Annotated[float, Field(ge=-10.0, le=10.0)] = 1.0
    """The filter holds a post for review before publication when its score exceeds the
    removal threshold by this much."""
    held_review_margin: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.0
    """A held post is blocked when its reviewer score exceeds the threshold plus this
    (negative: a stricter bar before publication than after, "when in doubt, hold")."""
    flag_margin: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.0
    """The filter queues a published post for review when its score exceeds the removal
    threshold by this much (should be below ``hold_margin``)."""
    sweep_interval_hours: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    """Hours between the filter's keyword sweeps of published posts (at 0, Δ, 2Δ, ...
    hours of the run): a flag reaches the review queue at the first sweep at or after
    publication (docs/model.md S5a). 0: the filter flags in real time."""
    initial_strictness: Probability = 0.02
    min_strictness: Probability = 0.0001
    max_strictness: Probability = 0.999
    """A technical bound on the policy's grid (docs/model.md S8), not a calibration knob:
    strictness comes from the expected penalty per audit. No shipped scenario sets it."""
    adaptation_rate: Probability = 0.2
    """Share of the gap to the cost-minimising strictness closed each day."""
    real_name_enforcement: Probability = 1.0
    report_probability: Probability = 0.5
    """Chance a removal of prohibited content is reported to the police, when reporting is
    proactive."""
    strike_on: Annotated[tuple[StrikeRoute, ...], Field(strict=False)] = ("order", "notice", "flag")
    """Which take-downs give the author a strike (docs/model.md S14): a removal on a
    regulator's ``order``, on a user's ``notice``, or on the filter's ``flag``; ``hold``:
    a held post blocked before publication (by default not: it never appeared)."""
    strike_confidence: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    """How sure the platform must be that a taken-down post broke the rule before it
    counts a strike (docs/model.md S14, "Grounds for a strike"): the posterior chance the
    post is of a prohibited kind given its reviewer score and the day's reviewed posts
    (:mod:`simulator.model.strikes`). 0: every take-down by a ``strike_on`` route strikes;
    an order always does."""
    strikes_to_close: int = Field(5, ge=0, le=1000)
    """Strikes in force at which the account is closed (0: never)."""
    strikes_to_suspend: int = Field(0, ge=0, le=1000)
    """Strikes in force at which the account is suspended for ``suspension_days``, and
    again at every strike while that many are in force (0: never; a closure at the same
    count comes first)."""
    suspension_days: Annotated[
        tuple[Annotated[int, Field(ge=1, le=100_000)], ...], Field(strict=False, max_length=100)
    ] = ()
    """Whole days a suspended account cannot post, by suspension: the first at
    ``strikes_to_suspend`` strikes, the next at one more, ..., the last value repeating
    (L9: Meta's 1, 3, 7 and 30 days). It then returns with its strikes."""
    strike_clean_days: int = Field(90, ge=1, le=1_000_000)
    """Whole days without a sanction after which a user's strikes are wiped (L6: Weibo
    restores the credit score after two clean months; L8: YouTube's strikes expire after
    90 days). A value beyond the horizon: strikes never expire."""
    reregister_mean_days: Annotated[float, Field(ge=0.0, le=1.0e12, allow_inf_nan=False)] = 30.0
    """Mean days (exponential, at least 1) before a closed account re-registers, unless its
    real-name identity is burned. A value beyond the horizon: closed accounts stay closed."""
    revenue_per_user_day: NonNegative = 0.02
    reviewer_cost_per_day: NonNegative = 300.0
    initial_cash: NonNegative = 1.0e8
    value: NonNegative = 1.0e9
    """What the platform loses if its licence is revoked (currency)."""
    discount_rate_per_year: Annotated[float, Field(gt=0.0, le=100.0)] = 0.1
    """How much less a penalty a year away weighs than one today (continuous rate per
    year; ASSUMPTION: about a listed technology firm's cost of capital). The platform
    weighs the whole penalty ladder ahead at this rate (docs/model.md S8)."""
    wrongful_removal_daily_cost: NonNegative = 30_000.0
    """Goodwill lost per day per unit share of the posts reaching the platform that are
    lawful and taken down (currency per day: 1% of its posts wrongly taken down costs
    0.01 × this a day; a share, so any simulated size: docs/model.md S8)."""
    audit_belief_days: Positive = 180.0
    """Weight of the platform's prior belief about how often audits come, in days of
    watching (b0 of its Gamma belief, docs/model.md S8)."""
    believed_audits_per_year: Annotated[float, Field(ge=0.0, le=100_000.0)] | None = None
    """Audits per year the platform believes in at the start (None: the regulator's)."""
    audits_experienced: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    """Audits of the same enforcement lived through before day 0, each as predicted at
    the initial strictness (0: a new law; docs/model.md S8, "Experience")."""

    @field_validator("sweep_interval_hours")
    @classmethod
    def _sweeps_at_least_a_minute_apart(cls, value: float) -> float:
        # Below a minute a sweep is real time anyway, and a tiny interval overflows the
        # sweep count (t / interval) in the arrival kernel.
        if 0.0 < value < MIN_SWEEP_INTERVAL_HOURS:
            raise ValueError("0 (real time) or at least 1/60 hour (one minute) between sweeps")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Platform:
        _raise_cross_field(_platform_problems(self))
        return self


class RealName(_Frozen):
    """Real-name registration (CSL Art. 24)."""

    enabled: bool = False
    start_day: int = Field(0, ge=0, le=100_000)
    refusal_probability: Probability = 0.05
    circumvent_probability: Probability = 0.3
    """Share of refusers who turn to circumvention tools instead of losing access; not
    read with ``[access]``, where refusers choose (docs/model.md S9a)."""


class Takedown(_Frozen):
    """Duties to delete prohibited content (CSL Art. 47; NetzDG s.3)."""

    enabled: bool = False
    prohibited: Annotated[tuple[str, ...], Field(strict=False)] = ("unlawful",)
    deadline_hours: Annotated[float, Field(ge=0.0, le=100_000.0)] = 24.0
    notice_deadline_hours: Annotated[float, Field(ge=0.0, le=100_000.0)] | None = None
    """Deadline for acting on a user's notice about prohibited content (NetzDG s.3: 24 h for
    manifestly unlawful content); ``None``: notices carry no legal deadline."""
    private_messages: bool = False
    vagueness: Probability = 0.0
    """How unclear the prohibited line is: 0 a bright line, 1 anything sensitive may be."""
    liability: Literal["strict", "notice"] = "strict"
    """What platforms answer for in audits (docs/model.md S8, S10): ``strict``, every
    post still up that the regulator counts as prohibited (L1, CSL Art. 47); ``notice``,
    notified prohibited posts kept past the notice deadline (L5 NetzDG; L7 DSA Art. 6, 16)."""

    @field_validator("prohibited", mode="before")
    @classmethod
    def _known_kinds(cls, value: Any) -> Any:
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, tuple):
            if "benign" in value:
                raise ValueError("'benign' content cannot be prohibited; prohibit another kind")
            unknown = [v for v in value if v not in KIND_LABELS]
            if unknown:
                raise ValueError(
                    f"unknown content kind {unknown[0]!r}; allowed: {list(KIND_LABELS)}"
                )
            if len(set(value)) != len(value):
                raise ValueError("kinds must not repeat")
        return value

    def prohibited_mask(self) -> tuple[bool, bool, bool, bool]:
        """Whether each kind (in :class:`ContentKind` order) is prohibited and rules are on."""
        return tuple(self.enabled and k.label in self.prohibited for k in ContentKind)  # type: ignore[return-value]


class Appeals(_Frozen):
    """Users' right to contest a removal (DSA Art. 20): a second review may reinstate it."""

    enabled: bool = False
    probability: Probability = 0.2
    """Share of removals whose author appeals."""
    mean_delay_hours: Positive = 24.0


class Reporting(_Frozen):
    """Duties to report users to the authorities (CSL Art. 47)."""

    mode: Literal["none", "on_request", "proactive"] = "none"


class PenaltyStep(_Frozen):
    action: Literal["warning", "fine", "suspension", "revocation"]
    amount: NonNegative = 0.0
    """Fine in the scenario's currency (for ``fine``)."""
    turnover_share: Probability = 0.0
    """Fine as a share of the platform's annual revenue (DSA Art. 74: up to 6%); the larger
    of this and ``amount`` applies."""
    days: Annotated[float, Field(ge=0.0, le=36_500.0)] = 0.0
    """Duration (for ``suspension``)."""


class Penalties(_Frozen):
    ladder: Annotated[tuple[PenaltyStep, ...], Field(strict=False)] = (
        PenaltyStep(action="warning"),
        PenaltyStep(action="fine", amount=500_000.0),
    )
    tolerance: int = Field(0, ge=0, le=1_000_000)
    """Prohibited posts an audit may find still up without it counting as a violation."""
    deescalate_after_clean_audits: int = Field(3, ge=1, le=1000)
    warning_cost: NonNegative = 100_000.0
    """What a warning costs the platform in standing (currency)."""


class Transparency(_Frozen):
    """The transparency report the platforms must publish (docs/metrics.md
    "transparency.csv"): ``netzdg`` (NetzDG s.2), ``dsa`` (DSA Art. 15, 24, 17) or
    ``none`` (no public report, e.g. China's CSL)."""

    report: Literal["none", "netzdg", "dsa"] = "none"


class Rules(_Frozen):
    real_name: RealName = RealName()
    takedown: Takedown = Takedown()
    reporting: Reporting = Reporting()
    appeals: Appeals = Appeals()
    penalties: Penalties = Penalties()
    transparency: Transparency = Transparency()

    @property
    def any_enabled(self) -> bool:
        return self.real_name.enabled or self.takedown.enabled or self.reporting.mode != "none"


class Regulator(_Frozen):
    audits_per_year: Annotated[float, Field(ge=0.0, le=100_000.0)] = 12.0
    audit_window_days: Annotated[float, Field(gt=0.0, le=3650.0)] = 7.0
    audit_sample_size: int = Field(1000, ge=0, le=1_000_000_000)
    """Posts an audit inspects, drawn from the window's published posts (and the authors
    it checks for real names); a count, so what an audit finds does not depend on how
    many users are simulated (docs/model.md S10)."""
    monitoring_probability: Probability = 0.02
    """Chance the regulator spots a given published prohibited post from an author of
    average audience and orders it down (when: as the post's views come, S5a)."""


class Police(_Frozen):
    investigators_per_100k_users: Annotated[
        float, Field(ge=0.0, le=MAX_INVESTIGATORS_PER_100K, allow_inf_nan=False)
    ] = 10.0
    """Police investigators, full-time, per 100,000 users of the population
    (``population.users``), so the line's load per investigator, and with it how many
    reports end in detention, does not depend on how many users are simulated
    (docs/model.md S12, "Investigators")."""
    investigation_days: Annotated[float, Field(gt=0.0, le=36_500.0)] = 3.0
    detention_probability: PerKindProbability = PerKindProbability(
        benign=0.0, critical=0.02, collective_action=0.1, unlawful=0.3
    )
    detention_days: Annotated[float, Field(ge=0.0, le=36_500.0)] = 15.0
    identify_anonymous_probability: Probability = 0.2
    report_lapse_days: Annotated[float, Field(ge=0.0, le=36_500.0)] = 0.0
    """A report no investigator has taken up within this many days of its filing lapses
    (dropped unread, as a report about a detained user); 0: reports never lapse
    (docs/model.md S12, "Reports that lapse")."""


class Scenario(_Frozen):
    """A validated, immutable scenario. Build it with :func:`load_scenario` or
    :func:`validate_scenario`."""

    # The name becomes a folder (runs/NAME-seedN, compare's runs/NAME/): no "." first, so
    # never "..", "." or a hidden folder.
    name: Annotated[
        str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_\-][A-Za-z0-9_\-.]*$")
    ]
    description: Annotated[str, Field(max_length=2000)] = ""
    horizon_days: int = Field(365, ge=1, le=36_500)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    currency: Annotated[str, Field(max_length=8)] = "USD"
    population: Population = Population()
    platforms: Annotated[tuple[Platform, ...], Field(strict=False)] = (Platform(name="platform"),)
    rules: Rules = Rules()
    regulator: Regulator = Regulator()
    police: Police = Police()
    timeline: Annotated[tuple[TimelineEntry, ...], Field(strict=False)] = ()
    """Changes from a given day on (:mod:`simulator.model.scenario.timeline`)."""
    groups: Annotated[tuple[Group, ...], Field(strict=False)] = ()
    """User groups with their own traits and scrutiny (:mod:`simulator.model.scenario.groups`)."""
    access: Access = Access()
    """What users weigh when their platform stops serving them (S9a)."""

    @field_validator("platforms", "timeline", "groups", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        _raise_cross_field(_scenario_problems(self))
        return self

    # -- conveniences ---------------------------------------------------------------
    def without_rules(self) -> Scenario:
        """The counterfactual: the same world with every rule switched off, and no
        timeline (every change it can make is a rule's, or does nothing without rules)."""
        rules = self.rules.model_copy(
            update={
                "real_name": self.rules.real_name.model_copy(update={"enabled": False}),
                "takedown": self.rules.takedown.model_copy(update={"enabled": False}),
                "reporting": Reporting(mode="none"),
                "appeals": self.rules.appeals.model_copy(update={"enabled": False}),
            }
        )
        return self.model_copy(update={"rules": rules, "timeline": ()})

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as a TOML file would hold. An empty timeline, empty groups, a default
        ``[access]``, no notice senders, no represented users and the default transparency
        report are left out, so a scenario without them hashes as before they existed."""
        exclude: dict[str, Any] = {
            name: True for name in ("timeline", "groups") if not getattr(self, name)
        }
        if self.access == Access():
            exclude["access"] = True
        population: dict[str, Any] = {}
        if not self.population.notices.senders:
            population["notices"] = {"senders": True}
        if self.population.represented_users is None:
            population["represented_users"] = True  # TOML has no null
        exclude["population"] = population
        if self.rules.transparency == Transparency():
            exclude["rules"] = {"transparency": True}
        return json.loads(self.model_dump_json(exclude=exclude or None))

    def sha256(self) -> str:
        """Hash of the resolved scenario's canonical JSON: same scenario, same hash."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
