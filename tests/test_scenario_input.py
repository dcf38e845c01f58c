"""Bad scenario input: a clear message naming the field, a non-zero exit code, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import simulator
from simulator.cli import main
from simulator.scenario import shipped_dir

GOOD = """
name = "tiny"
horizon_days = 3
[population]
users = 50
[[platforms]]
name = "p"
market_share = 1.0
"""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "field", "hint"),
    [
        (GOOD + "\n[rules]\nbogus = 1\n", "rules.bogus", "unknown field"),
        (GOOD.replace("users = 50", 'users = "many"'), "population.users", "integer"),
        (
            GOOD.replace("users = 50", "users = -5"),
            "population.users",
            "greater than or equal to 0",
        ),
        (GOOD.replace("market_share = 1.0", "market_share = 0.4"), "platforms", "add up to 1"),
        (
            GOOD + '\n[rules.takedown]\nprohibited = ["jokes"]\n',
            "rules.takedown.prohibited",
            "jokes",
        ),
        (
            GOOD.replace("horizon_days = 3", "horizon_days = 0"),
            "horizon_days",
            "greater than or equal to 1",
        ),
        (
            GOOD.replace(
                'name = "p"', 'name = "p"\nmin_strictness = 0.5\ninitial_strictness = 0.1'
            ),
            "platforms[0]",
            "min_strictness <= initial_strictness",
        ),
    ],
)
def test_invalid_values_name_the_field(tmp_path: Path, text: str, field: str, hint: str) -> None:
    path = write(tmp_path, text)
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "out")]):
        code, output = invoke(*command)
        assert code == 2, output
        assert str(path) in output
        assert f"`{field}" in output
        assert hint in output
        assert "Traceback" not in output
    assert not (tmp_path / "out").exists()


def test_missing_file_and_malformed_toml(tmp_path: Path) -> None:
    code, output = invoke("validate", str(tmp_path / "nope.toml"))
    assert code == 2 and "no such file" in output and "Traceback" not in output
    broken = write(tmp_path, "name = \n[population\nusers = 3")
    code, output = invoke("run", str(broken))
    assert code == 2 and "not valid TOML" in output and "line" in output
    code, output = invoke("validate", str(tmp_path))
    assert code == 2 and "directory" in output


def test_good_file_validates_and_runs(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    code, output = invoke("validate", str(path))
    assert code == 0 and "ok:" in output
    code, output = invoke("run", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert code == 0, output
    assert (tmp_path / "run" / "daily.csv").is_file()
    code, output = invoke("run", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert code == 3 and "already exists" in output and "--force" in output


def test_every_shipped_scenario_validates() -> None:
    names = sorted(simulator.shipped_scenarios())
    assert {"open_baseline", "china_csl_2016", "classroom"} <= set(names)
    code, output = invoke("validate", *names)
    assert code == 0, output
    assert output.count("ok:") == len(names)


def test_extends_merges_and_stays_in_its_folder(tmp_path: Path) -> None:
    child = write(
        tmp_path,
        'extends = "china_csl_2016"\nname = "variant"\n[rules.takedown]\nvagueness = 0.1\n',
    )
    scenario = simulator.load_scenario(child)
    parent = simulator.load_scenario("china_csl_2016")
    assert scenario.rules.takedown.vagueness == 0.1
    assert scenario.rules.takedown.prohibited == parent.rules.takedown.prohibited
    assert scenario.platforms == parent.platforms
    for target in ("../secret", "/etc/passwd", "nonexistent_regime"):
        bad = write(tmp_path, f'extends = "{target}"\n', name="bad.toml")
        with pytest.raises(simulator.ScenarioError, match="extends"):
            simulator.load_scenario(bad)
    loop = write(tmp_path, 'extends = "b"\n', name="a.toml")
    write(tmp_path, 'extends = "a"\n', name="b.toml")
    with pytest.raises(simulator.ScenarioError, match="cycle"):
        simulator.load_scenario(loop)
    assert shipped_dir().is_dir()


def test_override_rejects_bad_paths_and_values() -> None:
    scenario = simulator.load_scenario("classroom")
    changed = simulator.override(
        scenario, {"rules.takedown.deadline_hours": 2.5, "platforms.1.reviewers": 7}
    )
    assert changed.rules.takedown.deadline_hours == 2.5 and changed.platforms[1].reviewers == 7
    assert scenario.rules.takedown.deadline_hours != 2.5  # the original is untouched (frozen)
    with pytest.raises(simulator.ScenarioError, match="unknown field `deadline`"):
        simulator.override(scenario, {"rules.takedown.deadline": 1})
    with pytest.raises(simulator.ScenarioError, match="platforms.5"):
        simulator.override(scenario, {"platforms.5.reviewers": 1})
    with pytest.raises(simulator.ScenarioError, match="rules.takedown.vagueness"):
        simulator.override(scenario, {"rules.takedown.vagueness": 3.0})
