"""Property-based tests: generated scenario files, valid and invalid (docs/reliability.md).

Every valid file runs and keeps every invariant; every invalid file is refused by
``censim validate`` and ``censim run`` with a non-zero exit code and a message naming the
field, never a traceback. The default suite runs a few dozen examples of each; the
slow-marked versions run 1,000.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from invariants import check_invariants, raw_delays
from strategies import HOSTILE_STRINGS, Broken, broken_scenarios, to_toml, valid_scenarios

import simulator
from simulator.cli.main import main

QUICK = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
THOROUGH = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(main, list(args))
    output = result.output + (result.stderr if result.stderr_bytes else "")
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, output, exception


def _check_valid(data: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.toml"
        path.write_text(to_toml(data), encoding="utf-8")
        code, output, exception = invoke("validate", str(path))
        assert exception is None and code == 0, output
        scenario = simulator.load_scenario(path)
        assert scenario.population.users <= 300 and scenario.horizon_days <= 10
        with raw_delays() as delays:
            results = simulator.run(scenario)
        check_invariants(results)
        assert all(d >= 0.0 for d in delays), min(delays)
        assert len(delays) == results.summary["removed"] or scenario.rules.appeals.enabled
        # Nothing in a string field was acted on: it comes back as plain text.
        assert results.scenario["description"] == data.get(
            "description", results.scenario["description"]
        )
        assert not (Path(folder) / "PWNED").exists() and not Path("PWNED").exists()


def _check_broken(broken: Broken) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "broken.toml"
        path.write_text(to_toml(broken.data), encoding="utf-8")
        out = Path(folder) / "out"
        for command in (["validate", str(path)], ["run", str(path), "--out", str(out), "--quiet"]):
            code, output, exception = invoke(*command)
            assert exception is None, f"{command[0]} raised {exception!r}\n{output}"
            assert code == 2, (code, output)
            assert "Traceback" not in output and "internal error" not in output, output
            assert str(path) in output, output
            assert f"`{broken.field}" in output, (broken.field, output)
        assert not out.exists()


@QUICK
@given(valid_scenarios())
def test_generated_valid_scenarios_run_and_keep_the_invariants(data: dict[str, object]) -> None:
    _check_valid(data)


@QUICK
@given(broken_scenarios())
def test_generated_invalid_scenarios_are_refused_naming_the_field(broken: Broken) -> None:
    _check_broken(broken)


@pytest.mark.slow
@THOROUGH
@given(valid_scenarios())
def test_thousand_valid_scenarios(data: dict[str, object]) -> None:
    _check_valid(data)


@pytest.mark.slow
@THOROUGH
@given(broken_scenarios())
def test_thousand_invalid_scenarios(broken: Broken) -> None:
    _check_broken(broken)


def test_hostile_strings_are_plain_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Strings that would run code if evaluated are kept verbatim, or refused, with no
    side effect: nothing is evaluated, imported or unpickled."""
    monkeypatch.chdir(tmp_path)
    for i, text in enumerate(HOSTILE_STRINGS):
        data = {
            "name": f"hostile{i}",
            "description": text,
            "currency": text[:8],
            "horizon_days": 2,
            "population": {"users": 20},
            "platforms": [{"name": "p", "market_share": 1.0}],
            "rules": {"reporting": {"mode": text}},
        }
        path = tmp_path / f"h{i}.toml"
        path.write_text(to_toml(data), encoding="utf-8")
        # `mode` only takes three words: the hostile text is refused as a value...
        code, output, exception = invoke("validate", str(path))
        assert exception is None and code == 2 and "`rules.reporting.mode" in output, output
        # ...and kept as plain text where any text is allowed.
        del data["rules"]
        path.write_text(to_toml(data), encoding="utf-8")
        scenario = simulator.load_scenario(path)
        assert scenario.description == text
        assert scenario.currency == text[:8]
        results = simulator.run(scenario)
        assert results.scenario["description"] == text
        written = results.write(tmp_path / f"run{i}")
        assert simulator.Results.read(written).scenario["description"] == text
    assert not list(tmp_path.rglob("PWNED")), "a scenario string was executed"


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "platforms[0].name",
        "rules.reporting.mode",
        "rules.penalties.ladder[0].action",
        "rules.takedown.prohibited",
    ],
)
def test_hostile_strings_in_restricted_fields_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    """String fields that take names or fixed words refuse code-like text, naming the
    field; nothing runs."""
    monkeypatch.chdir(tmp_path)
    text = HOSTILE_STRINGS[0]
    data: dict[str, object] = {
        "name": "ok",
        "horizon_days": 2,
        "population": {"users": 20},
        "platforms": [{"name": "p", "market_share": 1.0}],
        "rules": {
            "reporting": {"mode": "none"},
            "penalties": {"ladder": [{"action": "warning"}]},
            "takedown": {"prohibited": ["unlawful"]},
        },
    }
    rules = data["rules"]
    assert isinstance(rules, dict)
    if field == "name":
        data["name"] = text
    elif field == "platforms[0].name":
        data["platforms"] = [{"name": text, "market_share": 1.0}]
    elif field == "rules.reporting.mode":
        rules["reporting"] = {"mode": text}
    elif field == "rules.penalties.ladder[0].action":
        rules["penalties"] = {"ladder": [{"action": text}]}
    else:
        rules["takedown"] = {"prohibited": [text]}
    path = tmp_path / "hostile.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    code, output, exception = invoke("validate", str(path))
    assert exception is None and code == 2, output
    assert f"`{field}" in output, output
    assert not list(tmp_path.rglob("PWNED"))
