"""``censim run --set FIELD=VALUE``: one run of a changed scenario, checked like the file
(the same parser and checks as ``censim sweep --set``), recorded in the run's scenario.json."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import simulator
from simulator.cli.main import main

SMALL = ["classroom", "--users", "300", "--days", "5", "--quiet"]


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_a_set_field_is_the_run_of_the_changed_scenario(tmp_path: Path) -> None:
    code, output = cli(
        "run", *SMALL, "--set", "rules.takedown.vagueness=0.3", "--out", str(tmp_path / "a")
    )
    assert code == 0, output
    recorded = json.loads((tmp_path / "a" / "scenario.json").read_text())
    assert recorded["rules"]["takedown"]["vagueness"] == 0.3
    changed = simulator.override(
        simulator.load_scenario("classroom"),
        {"population.users": 300, "rules.takedown.vagueness": 0.3},
    )
    simulator.run(changed, days=5).write(tmp_path / "expected")
    for table in ("daily.csv", "summary.json"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "expected" / table).read_bytes()
    # and not the shipped scenario's run (vagueness 0.3 is not classroom's value)
    assert simulator.load_scenario("classroom").rules.takedown.vagueness != 0.3


def test_a_bad_set_is_one_line_naming_the_field(tmp_path: Path) -> None:
    code, output = cli(
        "run", *SMALL, "--set", "rules.takedown.vagueness=3", "--out", str(tmp_path / "b")
    )
    assert (
        code == 2 and "rules.takedown.vagueness" in output and "less than or equal to 1" in output
    )
    assert "Traceback" not in output and not (tmp_path / "b").exists()
    code, output = cli("run", *SMALL, "--set", "vagueness", "--out", str(tmp_path / "c"))
    assert code == 2 and "expected FIELD=VALUE" in output, output
    code, output = cli("run", *SMALL, "--set", "no_such_field=1", "--out", str(tmp_path / "c"))
    assert code == 2 and "unknown field `no_such_field`" in output, output
