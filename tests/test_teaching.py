"""Self-checks of the exercises: right answers pass, wrong ones get useful feedback."""

from __future__ import annotations

import json

import pytest

import simulator
from simulator import teaching


def test_exercise_runs_are_fixed_and_small() -> None:
    scenario = teaching.exercise_scenario()
    assert scenario.population.users == 1000 and scenario.horizon_days == 30
    first = teaching.run_exercise("ex1")
    # An independent run with the same seed gives the same numbers: the same answer twice.
    again = simulator.run(teaching.exercise_scenario(), seed=teaching.SEED)
    # (compared as JSON text: NaN, for shares of nothing, is not equal to itself)
    assert json.dumps(again.summary, sort_keys=True) == json.dumps(first.summary, sort_keys=True)
    assert teaching.answer("ex1_q1") == first.summary["per_kind"]["critical"]["intended"]


def test_right_answers_pass_in_any_notation(capsys: pytest.CaptureFixture[str]) -> None:
    critical = teaching.run_exercise("ex1").summary["per_kind"]["critical"]
    share = critical["withheld"] / critical["intended"]
    assert teaching.check("ex1_q1", critical["intended"])
    assert teaching.check("ex1_q1", f"{critical['intended']:,}")  # "1,498" as text
    assert teaching.check("ex1_q2", share)
    assert teaching.check("ex1_q2", 100 * share)  # as a percentage
    assert teaching.check("ex1_q2", f"{100 * share:.2f}%")
    assert teaching.check("ex1_q2", share + 0.004)  # within the tolerance of 0.5 points
    assert teaching.check("ex1_q3", teaching.answer("ex1_q3").upper())
    printed = capsys.readouterr().out
    assert printed.count("✓ ex1_q") == 7


def test_wrong_answers_say_which_way(capsys: pytest.CaptureFixture[str]) -> None:
    intended = teaching.answer("ex1_q1")
    low = teaching.check("ex1_q1", intended - 1)
    assert not low and "too low" in low.message and "must be exact" in low.message
    far = teaching.check("ex1_q2", 0.99)
    assert not far and "far too high" in far.message and "Hint" in far.message
    wrong_choice = next(
        c for c in teaching.QUESTIONS["ex1_q3"].choices if c != teaching.answer("ex1_q3")
    )
    assert not teaching.check("ex1_q3", wrong_choice)
    invalid = teaching.check("ex1_q3", "censorship")
    assert not invalid and "not one of the choices" in invalid.message
    assert "give a number" in teaching.check("ex1_q1", "many").message
    pending = teaching.check("ex1_q1", None)
    assert not pending and "no answer yet" in pending.message
    assert "✗" in capsys.readouterr().out
    quiet = teaching.check("ex1_q1", intended, quiet=True)
    assert quiet and capsys.readouterr().out == ""


def test_unknown_question() -> None:
    with pytest.raises(KeyError, match="no question 'ex9_q1'"):
        teaching.check("ex9_q1", 1)


def test_at_least_four_exercises_of_three_questions() -> None:
    assert len(teaching.EXERCISES) >= 4
    for exercise in teaching.EXERCISES:
        assert len(teaching.questions(exercise)) >= 3
        for question_id in teaching.questions(exercise):
            assert teaching.question(question_id).endswith(("?", ")", "."))


@pytest.mark.slow
def test_every_answer_is_stable_and_checks_itself() -> None:
    table = teaching.answer_table()
    assert list(table["question"]) == list(teaching.QUESTIONS)
    for question_id in teaching.QUESTIONS:
        value = teaching.answer(question_id)
        assert teaching.check(question_id, value, quiet=True), question_id
        teaching._run_cached.cache_clear()
        assert teaching.answer(question_id) == value, question_id
