"""Classroom exercises: the scenarios they use and self-checks that give feedback.

Every expected answer is computed here, from a run of the model with a fixed seed, on
the machine that checks: the same every time, and the same as the student's own run
there (and it follows the model if that changes). Machines whose C library rounds
differently can, rarely, give other answers (docs/reliability.md, "Across machines").
Runs are small (the ``classroom`` scenario at 1,000 users and 30 days, under a second
each; exercise 6's event study is 8 of them) and cached, so a check takes seconds at most.

>>> from simulator import teaching                        # doctest: +SKIP
>>> results = teaching.run_exercise("ex1")                 # doctest: +SKIP
>>> teaching.check("ex1_q1", 1234)                         # doctest: +SKIP
✗ ex1_q1: not yet. 1234 is too low ...

Instructors: :func:`answer` gives the expected value of a question; docs/teaching.md
is the guide.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.model.scenario import Scenario, load_scenario, override
from simulator.output.results import Results

if TYPE_CHECKING:
    from simulator.experiments.event_study import EventStudy

#: The seed of every exercise run: the same answer every time.
SEED = 11
#: Size of the exercise runs: the classroom scenario, smaller still.
BASE_CHANGES: dict[str, Any] = {"population.users": 1000, "horizon_days": 30}

#: Exercise 3's world: a short ladder (a warning, then a fine of the amount under study)
#: and warnings that cost nothing, so that the fine alone sets their strictness.
PENALTY_CHANGES: dict[str, Any] = {
    "rules.penalties.warning_cost": 0.0,
}
NO_DETENTIONS: dict[str, Any] = {
    "police.detention_probability.critical": 0.0,
    "police.detention_probability.collective_action": 0.0,
    "police.detention_probability.unlawful": 0.0,
}


def exercise_scenario(changes: Mapping[str, Any] | None = None) -> Scenario:
    """The exercises' base scenario (classroom, 1,000 users, 30 days) with ``changes``."""
    scenario = override(load_scenario("classroom"), BASE_CHANGES, source="teaching")
    if changes:
        scenario = override(scenario, dict(changes), source="teaching")
    return scenario


#: Exercise 6's timeline entry: the settings of ``china_rumour_crackdown_2013``'s campaign
#: ``rumour_crackdown`` (more monitoring, detentions and their news), from day 10 of the
#: exercise's 30 to its end.
CAMPAIGN: dict[str, Any] = {
    "name": "campaign",
    "day": 10,
    "description": "china_rumour_crackdown_2013's campaign: monitoring, detentions, news.",
    "set": {
        "regulator.monitoring_probability": 0.3,
        "police.detention_probability.unlawful": 0.02,
        "police.detention_probability.critical": 0.01,
        "police.detention_probability.collective_action": 0.02,
        "police.detention_days": 15,
        "population.perception.news_case_weight": 0.02,
        "population.perception.news_punished_posts_per_day.unlawful": 0.01,
        "population.perception.news_punished_posts_per_day.critical": 0.005,
        "population.perception.news_punished_posts_per_day.collective_action": 0.005,
    },
}
#: Replications of exercise 6's event study (each is a pair of runs: 8 runs in all).
EVENT_REPS = 4
#: The kinds exercise 6 follows: political speech (lawful and sensitive).
POLITICAL: tuple[str, ...] = ("critical", "collective_action")


def campaign(only: str | None = None) -> dict[str, Any]:
    """Exercise 6's changes: :data:`CAMPAIGN` on the timeline, or only those of its settings
    whose dotted path starts with ``only`` (``"police"``: its detentions;
    ``"population.perception"``: its news)."""
    settings = {
        path: value
        for path, value in CAMPAIGN["set"].items()
        if only is None or path == only or path.startswith(only + ".")
    }
    if not settings:
        known = ", ".join(CAMPAIGN["set"])
        raise ValueError(f"the campaign sets nothing under {only!r}; it sets: {known}")
    return {"timeline": [{**CAMPAIGN, "set": settings}]}


def fine_ladder(amount: float) -> dict[str, Any]:
    """Exercise 3's changes for a ladder of a warning then a fine of ``amount``."""
    return {
        **PENALTY_CHANGES,
        "rules.penalties.ladder": [{"action": "warning"}, {"action": "fine", "amount": amount}],
    }


def _key(changes: Mapping[str, Any] | None) -> str:
    import json

    return json.dumps(dict(changes or {}), sort_keys=True)


@functools.lru_cache(maxsize=64)
def _run_cached(key: str, seed: int) -> Results:
    import json

    from simulator.engine.pairing import run

    return run(exercise_scenario(json.loads(key)), seed=seed)


def run_exercise(exercise: str = "ex1", changes: Mapping[str, Any] | None = None) -> Results:
    """Run the exercises' scenario with ``changes`` (dotted paths) at the fixed seed.

    ``exercise`` (``"ex1"``...) only labels the run (all exercises share the base
    scenario) but must be one; results are cached, so asking twice costs nothing. Treat
    them as read-only.
    """
    _check_exercise(exercise)
    return _run_cached(_key(changes), SEED)


@functools.lru_cache(maxsize=16)
def _study_cached(key: str, outcome: str, kinds: tuple[str, ...]) -> EventStudy:
    import json

    from simulator.experiments.event_study import event_study

    scenario = exercise_scenario(json.loads(key))
    return event_study(
        scenario, CAMPAIGN["name"], reps=EVENT_REPS, seed=SEED, outcome=outcome, kinds=kinds
    )


def study_exercise(
    exercise: str = "ex6",
    changes: Mapping[str, Any] | None = None,
    *,
    outcome: str = "withheld",
    kinds: Sequence[str] = POLITICAL,
) -> EventStudy:
    """Exercise 6's event study: the exercises' scenario with ``changes`` (by default
    :func:`campaign`), with and without the entry ``campaign``, on :data:`EVENT_REPS`
    paired seeds from :data:`SEED`, following ``outcome`` (a daily.csv column) summed over
    ``kinds`` (:func:`simulator.event_study`). Cached like :func:`run_exercise`; treat the
    result as read-only."""
    _check_exercise(exercise)
    return _study_cached(_key(campaign() if changes is None else changes), outcome, tuple(kinds))


def _check_exercise(exercise: str) -> None:
    if not isinstance(exercise, str) or exercise not in EXERCISES:
        raise ValueError(f"no exercise {exercise!r}; exercises: {', '.join(EXERCISES)}")


# -- questions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One question: how to compute its answer, and how close an answer must be."""

    id: str
    text: str
    compute: Callable[[], Any]
    kind: str = "number"  # "number", "share" (0-1, % accepted), "integer", "choice"
    tolerance: float = 0.0  # absolute, in the answer's unit (shares: 0-1)
    relative: float = 0.0  # relative tolerance, added to the absolute one
    choices: tuple[str, ...] = ()
    hint: str = ""


@dataclass
class Feedback:
    """The result of :func:`check`: whether the answer is right, and what to say."""

    question: str
    correct: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Feedback({self.question!r}, correct={self.correct})"

    def __bool__(self) -> bool:
        return self.correct


def _summary(changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return _run_cached(_key(changes), SEED).summary


def _lawful_by_mechanism() -> str:
    per_kind = _summary()["per_kind"]
    lawful = [k for k in per_kind if k != "unlawful"]
    totals = {
        m: sum(per_kind[k][m] for k in lawful)
        for m in ("withheld", "excluded", "blocked", "removed")
    }
    return max(totals, key=lambda m: totals[m])


def _blocked_share() -> float:
    s = _summary()
    return s["blocked"] / s["taken_down"] if s["taken_down"] else 0.0


def _mean_strictness(changes: Mapping[str, Any], platform: int = 0) -> float:
    return float(_summary(changes)["platforms"][platform]["mean_strictness"])


def _lawful_ratio() -> float:
    low = _summary(fine_ladder(1e3))["lawful_taken_down"]
    high = _summary(fine_ladder(1e5))["lawful_taken_down"]
    return high / low if low else math.inf


def _more_prohibited_than_lawful() -> str:
    # Collective action is prohibited in classroom and lawful (kinds.LAWFUL_KINDS): its
    # takedowns count in both, so the prohibited ones are not taken_down - lawful_taken_down.
    low, high = _summary(fine_ladder(1e5)), _summary(fine_ladder(1e6))
    extra_lawful = high["lawful_taken_down"] - low["lawful_taken_down"]
    extra_prohibited = high["prohibited_taken_down"] - low["prohibited_taken_down"]
    return "yes" if extra_prohibited > extra_lawful else "no"


def _chill(changes: Mapping[str, Any] | None = None) -> float:
    return float(_summary(changes)["chilling_effect"])


def _loss(changes: Mapping[str, Any] | None = None) -> float:
    return float(_summary(changes)["speech_loss"])


def _exclusion_part() -> float:
    total = _loss() - _loss({"rules.real_name.enabled": False})
    exclusion = _loss() - _loss({"rules.real_name.refusal_probability": 0.0})
    return exclusion / total if total else 0.0


def _campaign_total(changes: Mapping[str, Any] | None = None) -> float:
    """Exercise 6: the effect on political posts withheld, added up over the campaign's
    days (the mean over replications of each replication's total)."""
    table = study_exercise("ex6", changes).table
    return float(table.loc[table["days_since"] >= 0, "effect_mean"].sum())


def _campaign_total_is_clear() -> str:
    from simulator.experiments.tables import t_interval

    study = study_exercise("ex6")
    rows = study.per_replication[study.per_replication["day"] >= study.event_day]
    totals = (rows["treated"] - rows["control"]).groupby(rows["replication"]).sum()
    _, low, high, _ = t_interval(totals.to_numpy())
    return "yes" if low > 0 or high < 0 else "no"


def _campaign_part() -> str:
    news = _campaign_total(campaign("population.perception"))
    detentions = _campaign_total(campaign("police"))
    return "news" if news > detentions else "detentions"


QUESTIONS: dict[str, Question] = {
    q.id: q
    for q in [
        # Exercise 1: reading a run.
        Question(
            "ex1_q1",
            "How many critical posts did users intend to write over the run?",
            lambda: int(_summary()["per_kind"]["critical"]["intended"]),
            kind="integer",
            hint="summary['per_kind']['critical']['intended'], or the first bar of the funnel",
        ),
        Question(
            "ex1_q2",
            "What share of intended collective-action posts did users self-censor "
            "(withhold, or soften into criticism)?",
            lambda: (
                (
                    _summary()["per_kind"]["collective_action"]["withheld"]
                    + _summary()["per_kind"]["collective_action"]["softened"]
                )
                / _summary()["per_kind"]["collective_action"]["intended"]
            ),
            kind="share",
            tolerance=0.005,
            hint="withheld plus softened, divided by intended, for the collective_action kind",
        ),
        Question(
            "ex1_q3",
            "Which mechanism took the most lawful posts (benign, critical, collective action)?",
            _lawful_by_mechanism,
            kind="choice",
            choices=("withheld", "excluded", "blocked", "removed"),
            hint="add each outcome over the three lawful kinds in summary['per_kind']",
        ),
        # Exercise 2: time to removal.
        Question(
            "ex2_q1",
            "What share of removals happened within 30 minutes of posting?",
            lambda: _summary()["removed_within_30min"],
            kind="share",
            tolerance=0.02,
            hint="summary['removed_within_30min'], or read the curve at 30 min",
        ),
        Question(
            "ex2_q2",
            "Against Weibo in 2012 (about 30% within 30 minutes), are removals in the model "
            "faster or slower?",
            lambda: "faster" if _summary()["removed_within_30min"] > 0.30 else "slower",
            kind="choice",
            choices=("faster", "slower"),
            hint="compare your answer to ex2_q1 with 30%",
        ),
        Question(
            "ex2_q3",
            "What share of all taken-down posts was blocked before publication (and so has "
            "no removal time at all)?",
            _blocked_share,
            kind="share",
            tolerance=0.02,
            hint="blocked / (blocked + removed), from the summary",
        ),
        # Exercise 3: penalties and over-compliance.
        Question(
            "ex3_q1",
            "With a fine of 10,000 (teaching.fine_ladder(1e4)), what is weibo's mean "
            "strictness over the run?",
            lambda: _mean_strictness(fine_ladder(1e4)),
            kind="number",
            tolerance=0.02,
            hint="summary['platforms'][0]['mean_strictness']",
        ),
        Question(
            "ex3_q2",
            "How many times more lawful posts are taken down with a fine of 100,000 than "
            "with a fine of 1,000?",
            _lawful_ratio,
            kind="number",
            relative=0.1,
            hint="summary['lawful_taken_down'] of the two runs, divided",
        ),
        Question(
            "ex3_q3",
            "Raising the fine from 100,000 to 1,000,000: does it take down more extra "
            "prohibited posts than extra lawful ones? (yes/no)",
            _more_prohibited_than_lawful,
            kind="choice",
            choices=("yes", "no"),
            hint=(
                "compare the changes of summary['prohibited_taken_down'] and "
                "summary['lawful_taken_down']; collective action is both prohibited here and "
                "lawful, so it counts in both (taken_down - lawful_taken_down leaves it out)"
            ),
        ),
        # Exercise 4: the chilling effect.
        Question(
            "ex4_q1",
            "By how much (in percentage points of lawful posts) does the chilling effect fall "
            "when users see no enforcement at all (population.perception.visibility = 0)?",
            lambda: _chill() - _chill({"population.perception.visibility": 0.0}),
            kind="share",
            tolerance=0.003,
            hint="chilling_effect of the base run minus that of the visibility-0 run",
        ),
        Question(
            "ex4_q2",
            "Which lowers the chilling effect more: a bright line (rules.takedown.vagueness = "
            "0) or invisible enforcement (visibility = 0)?",
            lambda: (
                "vagueness"
                if _chill({"rules.takedown.vagueness": 0.0})
                < _chill({"population.perception.visibility": 0.0})
                else "visibility"
            ),
            kind="choice",
            choices=("vagueness", "visibility"),
            hint="run both changes and compare their chilling_effect",
        ),
        Question(
            "ex4_q3",
            "What is the chilling effect when the police detain nobody (teaching.NO_DETENTIONS)?",
            lambda: _chill(NO_DETENTIONS),
            kind="share",
            tolerance=0.003,
            hint="summary['chilling_effect'] of the run with teaching.NO_DETENTIONS",
        ),
        # Exercise 5: real names, exclusion versus traceability.
        Question(
            "ex5_q1",
            "How much speech loss (percentage points) does real-name registration add? "
            "Compare the base run with rules.real_name.enabled = False.",
            lambda: _loss() - _loss({"rules.real_name.enabled": False}),
            kind="share",
            tolerance=0.005,
            hint="speech_loss of the base run minus that with real names off",
        ),
        Question(
            "ex5_q2",
            "What fraction of that added loss is due to exclusion (users who refuse to "
            "register)? Switch refusals off (rules.real_name.refusal_probability = 0) to "
            "isolate the rest, which is traceability. Give a fraction (0.4, not 40): it "
            "can come out above 1 or below 0, and why is worth discussing.",
            _exclusion_part,
            kind="number",
            tolerance=0.1,
            hint="(loss(base) - loss(no refusals)) / (loss(base) - loss(no real names))",
        ),
        Question(
            "ex5_q3",
            "How many users are excluded at the end of the base run?",
            lambda: int(_summary()["users_final"]["excluded"]),
            kind="integer",
            hint="summary['users_final']['excluded']",
        ),
        # Exercise 6: an event study of a campaign.
        Question(
            "ex6_q1",
            "From the campaign's day on (days_since 0 to 19), by how many political posts in "
            "all did the campaign change the number users withheld? Add up effect_mean over "
            "those days (negative if fewer were withheld).",
            _campaign_total,
            kind="number",
            tolerance=1.0,
            hint="study.table.loc[study.table['days_since'] >= 0, 'effect_mean'].sum()",
        ),
        Question(
            "ex6_q2",
            "Is that total clear of zero: does the 95% t-interval of the replications' "
            "totals exclude 0? (yes/no)",
            _campaign_total_is_clear,
            kind="choice",
            choices=("yes", "no"),
            hint=(
                "per replication, add up treated - control in study.per_replication over the "
                "days from study.event_day on, then pass the four totals to "
                "simulator.experiments.tables.t_interval (it returns mean, low, high, n)"
            ),
        ),
        Question(
            "ex6_q3",
            "Which part of the campaign raises political withholding more: its news "
            "(teaching.campaign('population.perception')) or its detentions "
            "(teaching.campaign('police'))? (news/detentions)",
            _campaign_part,
            kind="choice",
            choices=("news", "detentions"),
            hint=(
                "run teaching.study_exercise('ex6', changes) with each part and compare their "
                "totals as in ex6_q1; the larger total raises withholding more"
            ),
        ),
    ]
}

EXERCISES: dict[str, str] = {
    "ex1": "Reading a run: the speech funnel",
    "ex2": "How fast is censorship? Time to removal",
    "ex3": "Penalties and over-compliance",
    "ex4": "The chilling effect: visibility, vagueness, detentions",
    "ex5": "Real names: exclusion versus traceability",
    "ex6": "An event study: what a campaign did, day by day",
}


def questions(exercise: str | None = None) -> list[str]:
    """Ids of the questions of ``exercise`` (``"ex1"``), or of all exercises."""
    if exercise is not None:
        _check_exercise(exercise)
    return [q for q in QUESTIONS if exercise is None or q.startswith(exercise + "_")]


def question(question_id: str) -> str:
    """The text of a question."""
    return _get(question_id).text


def answer(question_id: str) -> Any:
    """The expected answer (for instructors and the solutions notebook)."""
    return _get(question_id).compute()


def answer_table() -> Any:
    """Every question with its expected answer and tolerance (a pandas DataFrame)."""
    import pandas as pd

    rows = []
    for q in QUESTIONS.values():
        expected = q.compute()
        tolerance = q.tolerance + q.relative * abs(expected) if q.kind != "choice" else 0.0
        rows.append(
            {
                "question": q.id,
                "expected": _show(q, expected) if q.kind != "choice" else expected,
                "tolerance": "exact" if not tolerance else _show(q, tolerance),
                "text": q.text,
            }
        )
    return pd.DataFrame(rows)


def _get(question_id: str) -> Question:
    """The question, or a ValueError listing the valid ids (a KeyError would print its
    message quoted, as if it were the missing key)."""
    if isinstance(question_id, str) and question_id in EXERCISES:
        raise ValueError(
            f"{question_id!r} is an exercise; check one of its questions: "
            f"{', '.join(questions(question_id))}"
        )
    if not isinstance(question_id, str) or question_id not in QUESTIONS:
        raise ValueError(f"no question {question_id!r}; questions: {', '.join(QUESTIONS)}")
    return QUESTIONS[question_id]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%"))
        except ValueError:
            return None
        return number / 100.0 if percent else number
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check(question_id: str, given: Any, quiet: bool = False) -> Feedback:
    """Check an answer to a question; prints feedback (unless ``quiet``) and returns it.

    Shares may be given as fractions (0.12), percentages (12 or "12%"). Numbers are
    right within the question's tolerance; choices are compared ignoring case.
    """
    q = _get(question_id)
    feedback = _judge(q, given)
    if not quiet:
        print(feedback.message)
    return feedback


def _judge(q: Question, given: Any) -> Feedback:
    if given is None or given is Ellipsis:
        return Feedback(
            q.id, False, f"… {q.id}: no answer yet — replace None with your answer.", {}
        )
    expected = q.compute()
    if q.kind == "choice":
        text = str(given).strip().lower()
        if text not in q.choices:
            return Feedback(
                q.id,
                False,
                f"✗ {q.id}: {given!r} is not one of the choices: {', '.join(q.choices)}.",
            )
        if text == expected:
            return Feedback(q.id, True, f"✓ {q.id}: right, {expected}.", {"expected": expected})
        return Feedback(
            q.id,
            False,
            f"✗ {q.id}: not {text}. Hint: {q.hint}.",
            {"expected": expected},
        )
    number = _as_number(given)
    if number is None or not math.isfinite(number):
        return Feedback(q.id, False, f"✗ {q.id}: give a number, not {given!r}.")
    note = ""
    tolerance = q.tolerance + q.relative * abs(float(expected))
    if q.kind == "share" and abs(number) > 1.0 >= abs(float(expected)):
        number /= 100.0  # a share above 1 can only be a percentage
        note = " (read as a percentage)"
    error = number - float(expected)
    if abs(error) <= tolerance + 1e-12:
        shown = _show(q, expected)
        return Feedback(
            q.id, True, f"✓ {q.id}: right{note}; the model gives {shown}.", {"expected": expected}
        )
    direction = "too high" if error > 0 else "too low"
    size = "far" if abs(error) > max(5 * tolerance, 0.1 * abs(float(expected))) else "close, but"
    within = f" (allowed: ± {_show(q, tolerance)})" if tolerance else " (must be exact)"
    return Feedback(
        q.id,
        False,
        f"✗ {q.id}: not yet{note}: {_show(q, number)} is {size} {direction}{within}. "
        f"Hint: {q.hint}.",
        {"expected": expected, "error": error},
    )


def _show(q: Question, value: float) -> str:
    if q.kind == "share":
        return f"{100 * value:.2f}%"
    if q.kind == "integer":
        return f"{value:,.0f}"
    return f"{value:.3g}"


__all__ = [
    "CAMPAIGN",
    "EVENT_REPS",
    "EXERCISES",
    "NO_DETENTIONS",
    "PENALTY_CHANGES",
    "POLITICAL",
    "QUESTIONS",
    "SEED",
    "Feedback",
    "Question",
    "answer",
    "answer_table",
    "campaign",
    "check",
    "exercise_scenario",
    "fine_ladder",
    "question",
    "questions",
    "run_exercise",
    "study_exercise",
]
