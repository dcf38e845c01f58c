"""One user's speech choice and beliefs, written out per agent for the reference model
(docs/model.md S3 "Speech choice", S16 "Perceived probabilities").

Plain Python, one user and one post at a time, decayed every day: the statement the
engine's compiled choice and lazily decayed beliefs are checked against. Nothing here
imports the engine's kernels or :mod:`simulator.model.speech`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from simulator.model.police import police_staff
from simulator.model.scenario import Scenario

SENSITIVE = (1, 2, 3)
#: A call to act (2) softened is said as criticism (1); nothing else softens.
SOFTER = {1: None, 2: 1, 3: None}


@dataclass
class Mind:
    """A user's evidence per sensitive kind (index 1..3; 0 unused): removals and
    detentions seen, and trials (own posts made, friends' public posts seen said), each
    decaying by ``rho`` a day."""

    removals: list[float] = field(default_factory=lambda: [0.0] * 4)
    detentions: list[float] = field(default_factory=lambda: [0.0] * 4)
    trials: list[float] = field(default_factory=lambda: [0.0] * 4)

    def end_of_day(self, rho: float) -> None:
        """The day ends: ``X <- rho X`` (all evidence fades)."""
        for k in SENSITIVE:
            self.removals[k] *= rho
            self.detentions[k] *= rho
            self.trials[k] *= rho


@dataclass(frozen=True)
class Law:
    """What users know of the law and of the sanctions' costs (one scenario)."""

    removal: dict[tuple[int, int], bool]  # (channel, kind) -> a removal can follow
    detention: dict[tuple[int, int], bool]  # (channel, kind) -> a detention can follow
    intensity: tuple[float, float, float, float]
    prior_success: dict[tuple[str, int], float]  # ("removal"|"detention", kind) -> alpha0
    prior_trials: float
    removal_cost: float
    account_value: float
    detention_cost: float  # c_det ln(1 + D / d0), already evaluated
    noise_exponent: float
    identify_anonymous: float
    identify_traceable: float
    climate_weight: float = 0.0
    reregistered_loss: float = 1.0  # share of the account a closure costs one who re-registers


def read_law(scenario: Scenario) -> Law:
    """What users know of ``scenario``'s law and what its sanctions cost them."""
    rules = scenario.rules
    takedown = rules.takedown
    police = scenario.police
    perception = scenario.population.perception
    speech = scenario.population.speech
    prohibited = takedown.prohibited_mask()
    closeness = perception.kind_closeness.as_tuple()
    detention = police.detention_probability.as_tuple()
    reports = rules.reporting.mode != "none" and police_staff(scenario) > 0
    removal: dict[tuple[int, int], bool] = {}
    detains: dict[tuple[int, int], bool] = {}
    prior: dict[tuple[str, int], float] = {}
    n0 = perception.prior_trials
    for k in SENSITIVE:
        for channel in (0, 1):
            reached = takedown.enabled and (channel == 0 or takedown.private_messages)
            removal[(channel, k)] = reached
            # A lawful kind reaches the police only near a vague line (offence(), S11).
            detains[(channel, k)] = (
                reached and reports and detention[k] > 0.0 and offence(scenario, k) > 0.0
            )
        if not any(prohibited):
            line = 0.0
        elif prohibited[k]:
            line = 1.0
        else:
            line = min(1.0, takedown.vagueness * closeness[k])
        prior[("removal", k)] = n0 * perception.prior_removal * line
        prior[("detention", k)] = (
            n0 * perception.prior_report * police.identify_anonymous_probability * detention[k]
        ) * line
    return Law(
        removal=removal,
        detention=detains,
        intensity=speech.intensity.as_tuple(),
        prior_success=prior,
        prior_trials=n0,
        removal_cost=speech.removal_cost,
        account_value=speech.account_value,
        detention_cost=speech.detention_cost
        * math.log1p(police.detention_days / speech.detention_scale_days),
        noise_exponent=speech.choice_noise,
        identify_anonymous=1.0,
        identify_traceable=1.0 / max(police.identify_anonymous_probability, 0.01),
        climate_weight=perception.climate_weight,
        reregistered_loss=speech.reregistered_loss,
    )


def line(scenario: Scenario, kind: int) -> float:
    """The line probability of ``kind``: 1 if prohibited, ``vagueness * closeness`` if
    lawful (at most 1), 0 when nothing is prohibited."""
    takedown = scenario.rules.takedown
    prohibited = takedown.prohibited_mask()
    if not any(prohibited):
        return 0.0
    if prohibited[kind]:
        return 1.0
    closeness = scenario.population.perception.kind_closeness.as_tuple()
    return min(1.0, takedown.vagueness * closeness[kind])


def offence(scenario: Scenario, kind: int) -> float:
    """The chance the authorities count a removed post of ``kind`` as an offence (S11,
    detentions under vague offences): 1 if prohibited; for a lawful kind the police
    detain for, its :func:`line` probability (case by case); else 0."""
    if kind == 0:
        return 0.0
    if scenario.rules.takedown.prohibited_mask()[kind]:
        return 1.0
    if scenario.police.detention_probability.as_tuple()[kind] > 0.0:
        return line(scenario, kind)
    return 0.0


def perceived(
    mind: Mind, law: Law, sanction: str, kind: int, news: dict[str, list[float]]
) -> float:
    """The posterior mean ``(alpha0 + E + N_E) / (n0 + T + N_T)``."""
    evidence = mind.removals if sanction == "removal" else mind.detentions
    success = law.prior_success[(sanction, kind)] + evidence[kind] + news[sanction][kind]
    return success / (law.prior_trials + mind.trials[kind] + news["trials"][kind])


def felt_cost(
    mind: Mind,
    law: Law,
    channel: int,
    kind: int,
    news: dict[str, list[float]],
    strikes_left: int,
    traceable: bool,
    ban_follows: float = 1.0,
) -> float:
    """``sum_m A p_m S_m`` for one post of ``kind`` on ``channel``; a closure costs the
    whole account with probability ``ban_follows`` (the identity is burned), else the
    share ``reregistered_loss``."""
    cost = 0.0
    if law.removal[(channel, kind)]:
        account = law.account_value * (ban_follows + (1.0 - ban_follows) * law.reregistered_loss)
        removal_cost = law.removal_cost + account / max(1, strikes_left)
        cost += perceived(mind, law, "removal", kind, news) * removal_cost
    if law.detention[(channel, kind)]:
        scale = law.identify_traceable if traceable else law.identify_anonymous
        p = min(1.0, perceived(mind, law, "detention", kind, news) * scale)
        cost += p * law.detention_cost
    return cost


def decide(
    mind: Mind,
    law: Law,
    value: float,
    channel: int,
    kind: int,
    news: dict[str, list[float]],
    strikes_left: int,
    traceable: bool,
    u: float,
    climate: float = 1.0,
    ban_follows: float = 1.0,
) -> int | None:
    """The kind the user says (``kind``, its softer kind) or ``None`` (withheld): the
    best of ``value * a - M * climate * cost``, posting on a tie, softening over
    silence on a tie; ``M = (u / (1 - u)) ** lambda``. Counts the trial of what is said
    where the law can sanction it."""
    softer = SOFTER.get(kind)

    def at_risk(k: int) -> bool:
        return law.removal[(channel, k)] or law.detention[(channel, k)]

    if not at_risk(kind) and (softer is None or not at_risk(softer)):
        return kind
    u = min(max(u, 1e-12), 1.0 - 1e-12)
    mood = math.exp(law.noise_exponent * math.log(u / (1.0 - u))) if law.noise_exponent else 1.0
    mood *= climate
    post = value * law.intensity[kind] - mood * felt_cost(
        mind, law, channel, kind, news, strikes_left, traceable, ban_follows
    )
    said: int | None
    if softer is None:
        said = kind if post >= 0.0 else None
    else:
        soften = value * law.intensity[softer] - mood * felt_cost(
            mind, law, channel, softer, news, strikes_left, traceable, ban_follows
        )
        if post >= soften and post >= 0.0:
            said = kind
        elif soften >= 0.0:
            said = softer
        else:
            said = None
    if said is not None and at_risk(said):
        mind.trials[said] += 1.0
    return said


def update_news(
    news: dict[str, list[float]],
    rho: float,
    detained: list[float],
    users: int,
    case_weight: float,
    visibility: float,
    publicised: list[float] | None = None,
) -> None:
    """A day of news: every sensitive kind's pseudo-posts fade, and each detention of
    the day (``detained``: the expected detentions by kind), scaled to 100,000 users,
    arrives as ``case_weight`` posts that were punished
    (as far as users see enforcement), with the punished posts a day the news carries
    beyond them (``publicised``)."""
    for k in SENSITIVE:
        cases = case_weight * detained[k] * (100_000.0 / max(1, users))
        if publicised is not None:
            cases = cases + publicised[k]
        cases = visibility * cases
        news["removal"][k] *= rho
        news["detention"][k] = rho * news["detention"][k] + cases
        news["trials"][k] = rho * news["trials"][k] + cases
