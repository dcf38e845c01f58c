"""Fit and check: which facts a parameter is fitted to (FITS) and which only check, the
FITTED marks in the scenario files, the fit's Newton step and where it writes its values
(docs/validation.md, "Fit and check")."""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest
from click.testing import CliRunner

import simulator
from simulator.experiments import facts as facts_module
from simulator.experiments.facts import FACTS, FITS, FactResult, facts_table, role
from simulator.experiments.fitting import (
    newton_step,
    rounded,
    scenario_fits,
    set_toml_value,
    toml_line,
)
from simulator.model.scenario import get_dotted
from simulator.model.scenario.reading import shipped_scenarios

FACT_IDS = {fact.fact_id for fact in FACTS}


def test_every_fit_names_a_fact_of_its_scenario_and_each_fact_fits_at_most_one() -> None:
    targets = [fit.fact_id for fit in FITS]
    assert set(targets) <= FACT_IDS
    assert len(targets) == len(set(targets)), "a fact fitted by two declared parameters"
    for fit in FITS:
        fact = next(f for f in FACTS if f.fact_id == fit.fact_id)
        data = simulator.load_scenario(fact.scenario).to_dict()
        for field in fit.fields:
            value = get_dotted(data, field)
            assert isinstance(value, int | float), (fit.fact_id, field, value)
            assert fit.low <= value <= fit.high, (field, value, fit.low, fit.high)
        assert 0 < 2 * fit.step < fit.high - fit.low


def test_roles_split_the_facts_and_every_scenario_keeps_checks() -> None:
    roles = {fact.fact_id: role(fact) for fact in FACTS}
    assert {i for i, r in roles.items() if r == "fit"} == {fit.fact_id for fit in FITS}
    # Held out: C1 in both regimes and C2's 8-minute and 24-hour shares.
    assert {i for i, r in roles.items() if r == "check"} >= {"C1", "C1-csl", "C2-8min", "C2-24h"}
    for scenario in scenario_fits():
        assert any(
            r == "check" for f in FACTS for r in [roles[f.fact_id]] if f.scenario == scenario
        )


def _fitted_marks(text: str) -> list[tuple[int, str]]:
    """(line index, fact) of every 'FITTED to <fact>' on a line that sets a value."""
    marks = []
    for i, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("#"):
            continue
        for match in re.finditer(r"FITTED to ([A-Za-z0-9-]+)", line):
            marks.append((i, match.group(1)))
    return marks


def test_scenario_files_mark_exactly_the_declared_fits() -> None:
    """A value marked FITTED must be declared in FITS, and to that fact: a check can
    never be a fact something was fitted to (the test fails if a file marks a parameter
    fitted to a check, or a declared fit is not marked in its file)."""
    declared: dict[str, set[tuple[int, str]]] = {}
    for fit in FITS:
        fact = next(f for f in FACTS if f.fact_id == fit.fact_id)
        text = shipped_scenarios()[fact.scenario].read_text(encoding="utf-8")
        for field in fit.fields:
            declared.setdefault(fact.scenario, set()).add((toml_line(text, field), fit.fact_id))
    for name, path in shipped_scenarios().items():
        text = path.read_text(encoding="utf-8")
        marks = set(_fitted_marks(text))
        for _, fact_id in marks:
            assert (
                fact_id in FACT_IDS
                and role(next(f for f in FACTS if f.fact_id == fact_id)) == "fit"
            ), (name, fact_id)
        assert marks == declared.get(name, set()), (name, marks, declared.get(name))
        assert "FITTED within" not in text and "FITTED to C1" not in text


def test_set_toml_value_changes_only_the_value() -> None:
    text = shipped_scenarios()["china_csl_2016"].read_text(encoding="utf-8")
    changed = set_toml_value(text, "platforms.tieba.hold_margin", 2.25)
    changed = set_toml_value(changed, "platforms.weibo.held_review_margin", -0.75)
    data = tomllib.loads(changed)
    tieba = next(p for p in data["platforms"] if p["name"] == "tieba")
    weibo = next(p for p in data["platforms"] if p["name"] == "weibo")
    assert tieba["hold_margin"] == 2.25 and weibo["held_review_margin"] == -0.75
    assert weibo["hold_margin"] == tomllib.loads(text)["platforms"][0]["hold_margin"]
    before, after = text.splitlines(), changed.splitlines()
    differ = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(differ) == 2
    for i in differ:  # the comment stays
        assert before[i].split("#", 1)[1] == after[i].split("#", 1)[1]
    weibo_2012 = shipped_scenarios()["china_weibo_2012"].read_text(encoding="utf-8")
    mixed = tomllib.loads(set_toml_value(weibo_2012, "population.sensitive_mix.unlawful", 0.35))
    assert mixed["population"]["sensitive_mix"] == {
        "critical": 0.08, "collective_action": 0.02, "unlawful": 0.35,
    }  # fmt: skip
    with pytest.raises(ValueError, match="0 lines"):
        toml_line(text, "platforms.weibo.no_such_field")
    with pytest.raises(ValueError, match="2 lines"):
        toml_line("[regulator]\nx = 1\n[regulator]\nx = 2\n", "regulator.x")


def test_newton_step_reaches_a_linear_target_and_refuses_a_flat_curve() -> None:
    a = np.array([0.1, 0.5])
    b = np.array([[0.02, 0.01], [-0.1, 0.3]])

    def y(x: np.ndarray) -> np.ndarray:
        return a + b @ x

    center, steps = np.array([1.0, 0.5]), np.array([0.5, 0.25])
    minus = np.array([y(center - steps[j] * np.eye(2)[j]) for j in range(2)])
    plus = np.array([y(center + steps[j] * np.eye(2)[j]) for j in range(2)])
    target = y(np.array([1.3, 0.6]))
    x = newton_step(center, steps, y(center), minus, plus, target)
    assert x is not None and np.allclose(x, [1.3, 0.6])
    # A far target: at most four steps per coordinate.
    far = newton_step(center, steps, y(center), minus, plus, target + 100)
    assert far is not None and np.all(np.abs(far - center) <= 4 * steps + 1e-12)
    flat = np.array([y(center), y(center)])
    assert newton_step(center, steps, y(center), flat, flat, target) is None


def test_rounded_keeps_three_significant_digits() -> None:
    assert rounded(33.456) == 33.5 and rounded(-0.012345) == -0.0123 and rounded(0.0) == 0.0


def test_facts_table_and_command_show_each_facts_role(monkeypatch: pytest.MonkeyPatch) -> None:
    results = [FactResult(fact, (fact.target, fact.target)) for fact in FACTS]
    table = facts_table(results)
    assert list(table["role"]) == [role(fact) for fact in FACTS]
    monkeypatch.setattr(facts_module, "check_facts", lambda **_: results)
    from simulator.cli.main import main

    shown = CliRunner().invoke(main, ["facts", "--reps", "2"])
    assert shown.exit_code == 0, shown.output
    header = next(line for line in shown.output.splitlines() if "role" in line)
    assert "fact" in header
    c3 = next(line for line in shown.output.splitlines() if line.strip().startswith("C3 "))
    assert " fit " in c3
    c1 = next(line for line in shown.output.splitlines() if line.strip().startswith("C1 "))
    assert " check " in c1
    assert "fit targets" in shown.output and "checks" in shown.output
