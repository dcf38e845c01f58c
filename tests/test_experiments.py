"""Sweeps: designs, parsing, bad input, the store's refusal/resume rules, tables, plots, and
Sobol indices of the Ishigami function through the same path as `censim sensitivity`."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.errors import OutputError, ScenarioError
from simulator.experiments import (
    ScenarioModel,
    SweepError,
    SweepResults,
    grid_design,
    load_design,
    parse_range,
    parse_vary,
    points_design,
    sampled_design,
    sweep,
    t_interval,
)
from simulator.experiments.designs import parse_literals
from simulator.experiments.sensitivity import Ishigami, analyse
from simulator.plots.sweeps import metric_heatmap, metric_plot, sensitivity_bars

matplotlib.use("Agg")


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


# -- parsing and designs ---------------------------------------------------------------


def test_vary_values_are_toml_literals() -> None:
    assert parse_vary("rules.takedown.vagueness=0, 0.5,1") == (
        "rules.takedown.vagueness",
        [0, 0.5, 1],
    )
    assert parse_vary('name="a,b","c"') == ("name", ["a,b", "c"])
    assert parse_vary("rules.takedown.enabled=true,false")[1] == [True, False]
    assert parse_literals('["unlawful"], ["unlawful", "critical"]', "--vary", "x") == [
        ["unlawful"],
        ["unlawful", "critical"],
    ]


def test_range_parsing() -> None:
    assert parse_range("a.b=0:1.5") == ("a.b", (0.0, 1.5))
    for bad in ("a.b=1", "a.b=1:0", "a.b=x:2", "a.b=0:inf"):
        with pytest.raises(ScenarioError, match="a.b"):
            parse_range(bad)
    with pytest.raises(SweepError, match="FIELD=LOW:HIGH"):
        parse_range("=0:1")


def test_grid_is_full_factorial_last_field_fastest() -> None:
    design = grid_design({"a": [1, 2, 3], "b": ["x", "y"]})
    assert len(design) == 6
    assert design.points[0] == {"a": 1, "b": "x"}
    assert design.points[1] == {"a": 1, "b": "y"}
    assert design.points[-1] == {"a": 3, "b": "y"}
    with pytest.raises(ScenarioError, match="must not repeat"):
        grid_design({"a": [1, 1]})


def test_design_files(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[grid]\n"rules.takedown.vagueness" = [0.0, 0.5]\n'
        "[grid.rules.takedown]\ndeadline_hours = [1, 24, 72]\n"
    )
    design = load_design(grid)
    assert design.kind == "grid" and len(design) == 6
    assert set(design.fields) == {"rules.takedown.vagueness", "rules.takedown.deadline_hours"}

    points = tmp_path / "points.toml"
    points.write_text(
        '[[points]]\n"rules.takedown.vagueness" = 0.1\n'
        "[[points]]\nrules.takedown.vagueness = 0.9\nhorizon_days = 10\n"
    )
    design = load_design(points)
    assert design.points == (
        {"rules.takedown.vagueness": 0.1},
        {"rules.takedown.vagueness": 0.9, "horizon_days": 10},
    )

    sample = tmp_path / "sample.toml"
    sample.write_text(
        '[sample]\nmethod = "lhs"\nn = 8\nseed = 4\n'
        '[sample.ranges]\n"rules.takedown.vagueness" = [0.0, 1.0]\n'
        '"platforms.0.strikes_to_close" = [1, 9]\n'
    )
    design = load_design(sample)
    assert design.kind == "lhs" and len(design) == 8
    vague = sorted(p["rules.takedown.vagueness"] for p in design.points)
    # Latin hypercube: exactly one point in each eighth of the range.
    assert [int(v * 8) for v in vague] == list(range(8))
    assert design == load_design(sample)  # same seed, same points
    # Whole-number fields are rounded when the design meets the scenario.
    prepared = ScenarioModel(simulator.load_scenario("classroom")).prepare(design)
    strikes = [p["platforms.0.strikes_to_close"] for p in prepared.points]
    assert all(isinstance(r, int) and 1 <= r <= 9 for r in strikes)

    sobol = sampled_design({"a": (0.0, 2.0), "b": (-1.0, 1.0)}, 16, method="sobol", seed=1)
    values = np.array([[p["a"], p["b"]] for p in sobol.points])
    assert values.shape == (16, 2)
    assert (values[:, 0] >= 0).all() and (values[:, 0] <= 2).all()
    assert abs(values[:, 1].mean()) < 0.15  # balanced, not just in range


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[grid]\n[points]\n", "exactly one of"),
        ("[sample]\nn = 4\n", "sample.ranges"),
        ('[sample]\nn = 4\n[sample.ranges]\n"a" = [1, 0]\n', "sample.ranges.a"),
        ('[sample]\nmethod = "grid"\nn = 4\n[sample.ranges]\na = [0, 1]\n', "lhs, sobol"),
        ("[grids]\na = [1]\n", "unknown section"),
        ("[grid\n", "not valid TOML"),
    ],
)
def test_bad_design_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "design.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message) as error:
        load_design(path)
    assert str(path) in str(error.value)
    # A design file is a design, not a scenario (the audit: "invalid scenario").
    assert str(error.value).startswith(f"{path}: invalid design\n")


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (  # every point's problems, each naming its point (the audit: only the first)
            '[[points]]\n"rules.takedown.vagueness" = 5\nhorizon_days = -1\n'
            '[[points]]\n"rules.takedown.vagueness" = 7\n"police.detention_days" = -3\n',
            [
                "field `points[0].horizon_days`: Input should be greater than or equal to 1 "
                "(got -1)",
                "field `points[0].rules.takedown.vagueness`: Input should be less than or "
                "equal to 1 (got 5)",
                "field `points[1].rules.takedown.vagueness`: Input should be less than or "
                "equal to 1 (got 7)",
                "field `points[1].police.detention_days`: Input should be greater than or "
                "equal to 0 (got -3)",
            ],
        ),
        (  # every bad value of a grid, once
            '[grid]\n"rules.takedown.vagueness" = [0, 5, 6]\nhorizon_days = [-1, 2]\n',
            [
                "field `horizon_days`: Input should be greater than or equal to 1 (got -1)",
                "field `rules.takedown.vagueness`: Input should be less than or equal to 1 (got 5)",
                "field `rules.takedown.vagueness`: Input should be less than or equal to 1 (got 6)",
            ],
        ),
        (  # the range written, not a value drawn from it (the audit: got 1.7856...)
            '[sample]\nn = 4\n[sample.ranges]\n"rules.takedown.vagueness" = [0.5, 3]\n'
            '"horizon_days" = [-5, 3]\n',
            [
                "field `sample.ranges.horizon_days`: a range whose values are all allowed: "
                "Input should be greater than or equal to 1 (got [-5.0, 3.0])",
                "field `sample.ranges.rules.takedown.vagueness`: a range whose values are all "
                "allowed: Input should be less than or equal to 1 (got [0.5, 3.0])",
            ],
        ),
    ],
)
def test_a_design_reports_all_its_problems_as_written(
    tmp_path: Path, text: str, lines: list[str]
) -> None:
    path = tmp_path / "design.toml"
    path.write_text(text)
    code, output = cli("sweep", "classroom", "--design", str(path), "--out", str(tmp_path / "s"))
    assert code == 2 and "Traceback" not in output, output
    message = output.splitlines()
    assert message[0] == f"error: {path}: invalid design"
    assert message[1 : len(lines) + 1] == [f"  - {line}" for line in lines]
    assert not (tmp_path / "s").exists()


def test_t_interval() -> None:
    mean, low, high, n = t_interval([1.0, 2.0, 3.0, float("nan")])
    assert n == 3 and mean == pytest.approx(2.0)
    # t(0.975, 2) = 4.302653; sd = 1; half width = 4.302653 / sqrt(3)
    assert high - mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert low == pytest.approx(2 * mean - high)
    assert math.isnan(t_interval([5.0])[1]) and t_interval([5.0])[0] == 5.0


# -- bad input from the command line -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--vary", "rules.takedown.nope=1,2"], ["rules.takedown.nope", "unknown field `nope`"]),
        (["--vary", "rules.takedown.vagueness=0,2"], ["rules.takedown.vagueness", "1"]),
        (["--vary", "rules.takedown.vagueness=abc"], ["rules.takedown.vagueness", "TOML"]),
        (["--vary", "population.users=10,20.5"], ["population.users", "20.5"]),
        (["--vary", "vagueness"], ["--vary", "FIELD=V1,V2"]),
        (
            ["--vary", "platforms.7.reviewers_per_100k_users=1,2"],
            ["platforms.7.reviewers_per_100k_users", "index below 2"],
        ),
        (["--set", "horizon_days=0"], ["--set", "horizon_days"]),
        (["--vary", "a=1", "--design", "x.toml"], ["--vary", "not both"]),
        (["--reps", "0"], ["--reps"]),
    ],
)
def test_sweep_bad_input(tmp_path: Path, args: list[str], expected: list[str]) -> None:
    code, output = cli("sweep", "classroom", *args, "--out", str(tmp_path / "s"), "--quiet")
    assert code != 0
    assert "Traceback" not in output and "internal error" not in output
    for text in expected:
        assert text in output
    assert not (tmp_path / "s" / "runs").exists() or not any((tmp_path / "s" / "runs").iterdir())


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        (
            "sweep",
            ["--vary", "rules.takedown.vagueness=0,1", "--set", "rules.takedown.vagueness=0.5"],
            "--set rules.takedown.vagueness and --vary rules.takedown.vagueness: a field is "
            "either fixed or varied, not both",
        ),
        (
            "sweep",
            ["--vary", "population.users=40,50", "--users", "40"],
            "--users and --vary population.users: a field is either fixed or varied",
        ),
        (
            "sweep",
            ["--design", "DESIGN", "--days", "2"],
            "--days and --design DESIGN horizon_days: a field is either fixed or varied",
        ),
        (
            # A platform by its index and by its name (the review of session 17).
            "sweep",
            ["--set", "platforms.0.reviewers_per_100k_users=5"]
            + ["--vary", "platforms.weibo.reviewers_per_100k_users=1,2"],
            "--set platforms.0.reviewers_per_100k_users and --vary "
            "platforms.weibo.reviewers_per_100k_users: a field is either fixed or varied",
        ),
        (
            # A table and a field inside it.
            "sweep",
            ["--set", 'rules.penalties.ladder=[{action="warning"}]']
            + ["--vary", "rules.penalties.ladder.0.amount=1,2"],
            "--set rules.penalties.ladder and --vary rules.penalties.ladder.0.amount: a field",
        ),
        (
            "sensitivity",
            [
                "--param",
                "platforms.tieba.review_minutes=1:2",
                "--set",
                "platforms.1.review_minutes=3",
            ],
            "--set platforms.1.review_minutes and --param platforms.tieba.review_minutes: a",
        ),
        (
            "sensitivity",
            ["--param", "rules.takedown.vagueness=0:1", "--set", "rules.takedown.vagueness=1"],
            "--set rules.takedown.vagueness and --param rules.takedown.vagueness: a field",
        ),
        (
            "frontier",
            ["--reviewers", "1,2", "--set", "platforms.0.reviewers_per_100k_users=5"],
            "--set platforms.0.reviewers_per_100k_users and --reviewers: a field is either",
        ),
        (
            # A table holding the lever's field (the review of session 18).
            "frontier",
            ["--deadline-hours", "1,24", "--set", "rules.takedown={deadline_hours=5.0}"],
            "--set rules.takedown and --deadline-hours: a field is either fixed or varied",
        ),
        (
            "frontier",
            ["--deadline-hours", "1,24", "--set", "rules.takedown.deadline_hours=5"],
            "--set rules.takedown.deadline_hours and --deadline-hours: a field is either",
        ),
        (
            "phases",
            ["--detention-days", "1,9", "--set", "police.detention_days=4"],
            "--set police.detention_days and --detention-days: a field is either fixed",
        ),
        (
            "phases",
            ["--vagueness", "0,1", "--set", "rules.takedown.vagueness=0.5"],
            "--set rules.takedown.vagueness and --vagueness: a field is either fixed",
        ),
    ],
)
def test_a_field_fixed_and_varied_is_refused(
    tmp_path: Path, command: str, args: list[str], expected: str
) -> None:
    """The audit: ``--vary X`` with ``--set X`` let one silently win over the other; so
    did a frontier's or a phase grid's lever with ``--set`` of the field it sets (a factor
    lever, ``--fines`` or ``--surveillance``, multiplies the fixed value: allowed)."""
    design = tmp_path / "d.toml"
    design.write_text("[grid]\nhorizon_days = [1, 2]\n")
    args = [str(design) if a == "DESIGN" else a for a in args]
    code, output = cli(command, "classroom", *args, "--out", str(tmp_path / "s"), "--quiet")
    assert code == 2, output
    assert expected.replace("DESIGN", str(design)) in output and "Traceback" not in output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--param", "rules.takedown.vagueness=1"], ["rules.takedown.vagueness", "LOW:HIGH"]),
        (["--param", "rules.takedown.vagueness=1:0"], ["rules.takedown.vagueness", "LOW < HIGH"]),
        (["--param", "rules.takedown.nope=0:1"], ["rules.takedown.nope", "unknown field"]),
        (["--param", "rules.takedown.vagueness=0:2"], ["rules.takedown.vagueness"]),
        (
            ["--param", "rules.takedown.vagueness=0:1", "--metric", "nope"],
            ["--metric", "nope", "speech_loss"],
        ),
        (
            ["--param", "rules.takedown.vagueness=0:1", "--samples", "6"],
            ["--samples", "power of 2"],
        ),
        (["--param", "a=0:1", "--method", "fast"], ["--method"]),
    ],
)
def test_sensitivity_bad_input(tmp_path: Path, args: list[str], expected: list[str]) -> None:
    code, output = cli("sensitivity", "classroom", *args, "--out", str(tmp_path / "s"), "--quiet")
    assert code != 0
    assert "Traceback" not in output and "internal error" not in output
    for text in expected:
        assert text in output, output


# -- the store -----------------------------------------------------------------------


def test_store_refuses_another_design_and_resumes_the_same(tmp_path: Path) -> None:
    model = Ishigami()
    design = grid_design({"x1": [0.0, 1.0], "x2": [0.5], "x3": [2.0]}, source="test")
    out = tmp_path / "store"
    first = sweep(None, design, reps=2, model=model, workers=0, out=out)
    assert (first.ran, first.reused) == (4, 0)
    again = sweep(None, design, reps=2, model=model, workers=0, out=out)
    assert (again.ran, again.reused) == (0, 4)
    # More replications extend the store: the first seeds do not depend on how many.
    more = sweep(None, design, reps=3, model=model, workers=0, out=out)
    assert (more.ran, more.reused) == (2, 4)
    other = grid_design({"x1": [0.0, 2.0], "x2": [0.5], "x3": [2.0]}, source="test")
    with pytest.raises(OutputError, match="different sweep"):
        sweep(None, other, reps=2, model=model, workers=0, out=out)
    replaced = sweep(None, other, reps=2, model=model, workers=0, out=out, force=True)
    assert (replaced.ran, replaced.reused) == (4, 0)
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "p0000-r000.json",
        "p0000-r001.json",
        "p0001-r000.json",
        "p0001-r001.json",
    ]
    record = json.loads((out / "runs" / "p0001-r000.json").read_text())
    expected = math.sin(2.0) + 7 * math.sin(0.5) ** 2 + 0.1 * 2.0**4 * math.sin(2.0)
    assert record["values"] == {"x1": 2.0, "x2": 0.5, "x3": 2.0}
    assert record["metrics"]["y"] == pytest.approx(expected)
    loaded = SweepResults.read(out)
    assert loaded.summary["y_mean"].tolist() == pytest.approx(replaced.summary["y_mean"].tolist())
    assert len(loaded.long) == 4 and loaded.long["metric"].unique().tolist() == ["y"]


def test_cli_refuses_another_design_in_same_folder(tmp_path: Path) -> None:
    out = tmp_path / "s"
    base = ["sweep", "classroom", "--days", "3", "--users", "60", "--workers", "0", "--quiet"]
    assert cli(*base, "--vary", "rules.takedown.vagueness=0", "--out", str(out))[0] == 0
    code, output = cli(*base, "--vary", "rules.takedown.vagueness=1", "--out", str(out))
    assert code == 3 and "different sweep" in output and "--force" in output
    code, _ = cli(*base, "--vary", "rules.takedown.vagueness=1", "--out", str(out), "--force")
    assert code == 0
    manifest = json.loads((out / "design.json").read_text())
    assert manifest["design"]["points"] == [{"rules.takedown.vagueness": 1}]


# -- sensitivity ---------------------------------------------------------------------


def test_sobol_indices_of_ishigami_match_analytic(tmp_path: Path) -> None:
    model = Ishigami()
    result = analyse(
        None,
        {name: (-math.pi, math.pi) for name in model.names},
        method="sobol",
        metric="y",
        samples=1024,
        seed=3,
        model=model,
        workers=0,
        out=tmp_path / "ishigami",
    )
    exact = model.analytic()
    assert len(result.indices) == 6
    for row in result.indices.itertuples():
        truth = exact[row.index][row.parameter]
        assert abs(row.value - truth) < 0.04, (row.parameter, row.index, row.value, truth)
        assert row.low - 0.01 <= truth <= row.high + 0.01
        assert 0 < row.conf < 0.15
    assert (tmp_path / "ishigami" / "indices.png").stat().st_size > 5000
    written = (tmp_path / "ishigami" / "indices.csv").read_text().splitlines()
    assert written[0] == "parameter,index,value,conf,low,high" and len(written) == 7


def test_morris_ranks_ishigami_inputs(tmp_path: Path) -> None:
    model = Ishigami()
    result = analyse(
        None,
        {name: (-math.pi, math.pi) for name in model.names},
        method="morris",
        metric="y",
        samples=40,
        seed=1,
        model=model,
        workers=0,
        out=tmp_path / "morris",
        plot=False,
    )
    mu_star = result.indices[result.indices["index"] == "mu_star"].set_index("parameter")["value"]
    # x3 acts only through its interaction with x1: smallest mean absolute effect.
    assert mu_star["x3"] < mu_star["x1"] and mu_star["x3"] < mu_star["x2"]
    assert len(result.sweep.long) == 40 * 4


# -- plots ---------------------------------------------------------------------------


def test_sweep_plots(tmp_path: Path) -> None:
    design = grid_design({"x1": [-1.0, 0.0, 1.0], "x2": [0.0, 1.0], "x3": [1.0]}, source="t")
    results = sweep(None, design, reps=2, model=Ishigami(), workers=0, out=tmp_path / "s")
    figure = metric_plot(results, "x1", "y")
    lines = [
        line
        for line in figure.axes[0].get_lines()
        if line.get_gid() not in ("replications", "zero")
    ]
    assert len(lines) == 2  # one per value of x2
    dots = [line for line in figure.axes[0].get_lines() if line.get_gid() == "replications"]
    assert len(dots) == 2 and len(dots[0].get_xdata()) == 3 * 2  # every replication shown
    first = lines[0].get_ydata()
    assert list(first) == pytest.approx([math.sin(x) * (1 + 0.1) for x in (-1.0, 0.0, 1.0)])
    heat = metric_heatmap(results, "x1", "x2", "y")
    image = heat.axes[0].get_images()[0].get_array()
    assert image.shape == (2, 3)
    assert image[1, 2] == pytest.approx(math.sin(1) + 7 * math.sin(1) ** 2 + 0.1 * math.sin(1))
    bars = sensitivity_bars(
        analyse(
            None,
            {"x1": (-3.0, 3.0), "x2": (-3.0, 3.0), "x3": (-3.0, 3.0)},
            method="morris",
            metric="y",
            samples=4,
            model=Ishigami(),
            workers=0,
            out=tmp_path / "m",
            plot=False,
        ).indices,
        method="morris",
        metric="y",
    )
    assert len(bars.axes[0].patches) == 6
    code, output = cli(
        "sweep-plot",
        str(tmp_path / "s"),
        "--x",
        "x1",
        "--metric",
        "y",
        "--out",
        str(tmp_path / "line.png"),
    )
    assert code == 0 and (tmp_path / "line.png").stat().st_size > 5000
    code, output = cli(
        "sweep-plot",
        str(tmp_path / "s"),
        "--x",
        "x1",
        "--y",
        "x2",
        "--metric",
        "y",
        "--out",
        str(tmp_path / "heat.svg"),
    )
    assert code == 0 and (tmp_path / "heat.svg").exists()
    code, output = cli(
        "sweep-plot",
        str(tmp_path / "s"),
        "--x",
        "nope",
        "--metric",
        "y",
        "--out",
        str(tmp_path / "x.png"),
    )
    assert code == 2 and "'nope'" in output and "x1, x2, x3" in output
    code, output = cli(
        "sweep-plot",
        str(tmp_path / "s"),
        "--x",
        "x1",
        "--metric",
        "z",
        "--out",
        str(tmp_path / "x.png"),
    )
    assert code == 2 and "allowed: y" in output
    code, output = cli("sweep-plot", str(tmp_path / "nothing"), "--x", "x1", "--out", "x.png")
    assert code == 3 and "not a censim sweep folder" in output


def test_points_design_keeps_scenario_values_for_missing_fields() -> None:
    model = ScenarioModel(simulator.load_scenario("classroom"))
    design = points_design([{"horizon_days": 5}, {"rules.takedown.vagueness": 0.3}])
    prepared = model.prepare(design)
    scenario = model.scenario(prepared.points[1])
    assert scenario.horizon_days == simulator.load_scenario("classroom").horizon_days
    assert scenario.rules.takedown.vagueness == 0.3


def test_sensitivity_morris_on_classroom_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "sens"
    args = [
        "sensitivity", "classroom",
        "--param", "rules.takedown.vagueness=0:1",
        "--param", "rules.takedown.deadline_hours=1:48",
        "--method", "morris", "--samples", "2", "--metric", "chilling_effect",
        "--days", "8", "--users", "200", "--workers", "0", "--out", str(out),
    ]  # fmt: skip
    code, output = cli(*args)
    assert code == 0, output
    assert "morris sensitivity of chilling_effect (6 points x 1 replications)" in output
    indices = pd.read_csv(out / "indices.csv")
    assert sorted(set(indices["parameter"])) == [
        "rules.takedown.deadline_hours",
        "rules.takedown.vagueness",
    ]
    assert set(indices["index"]) == {"mu_star", "mu", "sigma"}
    mu_star = indices[indices["index"] == "mu_star"].set_index("parameter")["value"]
    assert (mu_star >= 0).all() and np.isfinite(mu_star).all()
    # Vaguer rules chill more: a real, positive effect of vagueness on chilling.
    assert mu_star["rules.takedown.vagueness"] > 0
    assert (out / "indices.png").stat().st_size > 5000
    assert len(list((out / "runs").glob("p*.json"))) == 6
    # Rerun quietly (every run reused): one line says where the results are.
    quiet = CliRunner().invoke(main, [*args, "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout.splitlines() == [
        f"wrote {out}/ (indices.csv, indices.png, summary.csv, long.csv, runs/)"
    ]


def test_python_api_accepts_a_mapping_as_grid(tmp_path: Path) -> None:
    results = sweep(
        None,
        {"x1": [0.0, 1.0], "x2": [0.0], "x3": [0.0]},
        model=Ishigami(),
        workers=0,
        out=tmp_path / "m",
    )
    assert results.summary["y_mean"].tolist() == pytest.approx([0.0, math.sin(1.0)])


def test_sweep_prints_share_intervals_clipped_to_zero_one() -> None:
    from simulator.cli.experiments import _with_interval

    row = {"speech_loss_mean": 0.05, "speech_loss_low": -0.06, "speech_loss_high": 0.16}
    assert _with_interval(row, "speech_loss") == "5.00% [0.00%, 16.00%]"
    row = {"chilling_effect_mean": 0.97, "chilling_effect_low": 0.9, "chilling_effect_high": 1.04}
    assert _with_interval(row, "chilling_effect") == "97.00% [90.00%, 100.00%]"
    single = {"speech_loss_mean": 0.05, "speech_loss_low": float("nan")}
    assert _with_interval(single, "speech_loss") == "5.00%"


def test_dead_worker_message_names_the_missing_main_guard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import types

    from simulator.experiments.executors import _script_guard_hint

    script = types.ModuleType("__main__")
    script.__file__ = "scripts/analysis.py"  # a user's script (no machine path in the repo)
    monkeypatch.setitem(sys.modules, "__main__", script)
    assert "analysis.py calls sweep() at its top level" in _script_guard_hint()
    assert 'if __name__ == "__main__":' in _script_guard_hint()
    script.__file__ = "/venv/bin/censim"  # the command line has its guard
    assert _script_guard_hint() == ""
    del script.__file__  # an interactive session or a notebook
    assert _script_guard_hint() == ""


# -- platforms by name, file modes, --quiet -------------------------------------------


def test_sweep_paths_name_platforms_as_override_does() -> None:
    # --vary/--param/design fields go through the same path resolution as override: a
    # platform by name, and a sampled whole-number field is rounded whichever way it is
    # named (before, a named path was not found and its floats failed validation).
    model = ScenarioModel(simulator.load_scenario("classroom"))
    design = sampled_design(
        {
            "platforms.weibo.strikes_to_close": (1.0, 5.0),
            "platforms.1.strikes_to_close": (1.0, 5.0),
        },
        n=4,
    )
    prepared = model.prepare(design)
    for point in prepared.points:
        assert all(isinstance(v, int) for v in point.values()), point
        scenario = model.scenario(point)
        assert scenario.platforms[0].strikes_to_close == point["platforms.weibo.strikes_to_close"]
        assert scenario.platforms[1].strikes_to_close == point["platforms.1.strikes_to_close"]
    with pytest.raises(ScenarioError, match="`weibbo` is not one of the platforms: weibo, tieba"):
        model.prepare(grid_design({"platforms.weibbo.strikes_to_close": [1, 2]}))


def test_sweep_files_are_ordinary_and_quiet_says_where_they_went(tmp_path: Path) -> None:
    out = tmp_path / "s"
    previous = os.umask(0o022)
    try:
        result = CliRunner().invoke(
            main,
            [
                "sweep", "classroom", "--vary", "platforms.weibo.reviewers_per_100k_users=1,2",
                "--days", "2", "--users", "60", "--workers", "0", "--quiet", "--out", str(out),
            ],
        )  # fmt: skip
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"wrote {out}/ (summary.csv, long.csv, design.json, sweep.png, runs/): 2 runs, "
        "2 run now, 0 reused"
    ]
    files = [out / name for name in ("summary.csv", "long.csv", "design.json", "sweep.png")]
    files += sorted((out / "runs").glob("*.json"))
    assert len(files) == 6
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Made private by mkstemp (0600) before; like a run folder's files now.
    assert {path.name: path.stat().st_mode & 0o777 for path in files} == {
        path.name: 0o644 for path in files
    }
    summary = pd.read_csv(out / "summary.csv")
    assert summary["platforms.weibo.reviewers_per_100k_users"].tolist() == [1, 2]


def test_sweep_figure_is_in_the_house_style(tmp_path: Path) -> None:
    # `censim sweep` draws its own figure like `plot`: unit and users x days in the title,
    # the zero baseline drawn, one point per varied value.
    from simulator.cli.experiments import _scenario_with_fixed, sweep_figure

    out = tmp_path / "s"
    args = ["--days", "2", "--users", "60", "--workers", "0", "--quiet", "--out", str(out)]
    code, output = cli("sweep", "classroom", "--vary", "rules.takedown.vagueness=0,1", *args)
    assert code == 0, output
    loaded = _scenario_with_fixed("classroom", (), 2, 60)
    fig = sweep_figure(SweepResults.read(out), loaded)
    title = " ".join(fig.axes[0].get_title().split())  # long titles are broken into lines
    assert "60 users \u00d7 2 days" in title
    # speech_loss is a share of the lawful posts that survive without rules (metrics.md),
    # drawn from 0 to 1 as the y axis says.
    assert "share of the lawful posts that survive without rules, 0 to 1" in title
    assert fig.axes[0].get_ylabel() == "speech_loss\n(share, 0 to 1)"
    gids = {line.get_gid() for line in fig.axes[0].get_lines()}
    assert "zero" in gids
    assert (out / "sweep.png").exists()


def test_sensitivity_legend_explains_the_indices() -> None:
    indices = pd.DataFrame(
        {"parameter": ["a", "a"], "index": ["mu_star", "sigma"], "value": [1.0, 0.5],
         "conf": [0.1, 0.1]}
    )  # fmt: skip
    fig = sensitivity_bars(indices, method="morris", metric="speech_loss")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("importance" in text for text in labels)
    assert any("interactions" in text for text in labels)


def test_sweep_and_sensitivity_need_a_scenario_or_a_model(tmp_path: Path) -> None:
    """Both studies set up their model and seed the same way (``model_and_seed``): neither
    given is refused, naming the study, before anything is written."""
    with pytest.raises(SweepError, match="^sweep: give a scenario or a model$"):
        sweep(None, {"x": [1, 2]}, out=tmp_path / "s")
    with pytest.raises(SweepError, match="^sensitivity: give a scenario or a model$"):
        analyse(None, {"x": (0.0, 1.0)}, out=tmp_path / "a")
    assert not any(tmp_path.iterdir())


def test_a_study_takes_the_scenario_seed_unless_given() -> None:
    from simulator.experiments.sweeps import model_and_seed

    scenario = simulator.load_scenario("classroom")
    model, seed = model_and_seed(scenario, None, None, "sweep")
    assert isinstance(model, ScenarioModel) and seed == scenario.seed
    assert model_and_seed(scenario, None, 5, "sweep")[1] == 5
    ishigami = Ishigami()
    assert model_and_seed(None, ishigami, None, "sweep") == (ishigami, 0)
    assert model_and_seed("classroom", ishigami, 7, "sweep") == (ishigami, 7)


def test_designs_the_audit_found_fail_cleanly(tmp_path: Path) -> None:
    """Inputs that ended in an internal error (a session 16 audit): varying ``seed``
    (which varied nothing: every run takes its seed from --seed), a list repeating a
    value in ``phases``, and a ``[[points]]`` design whose points set different fields
    (its figure could not place them; now a point missing a field sits at the
    scenario's value)."""
    from simulator.cli.main import main

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args))
        return result.exit_code, result.output

    tiny = ["classroom", "--users", "50", "--days", "1", "--workers", "0", "--quiet"]
    code, output = cli("sweep", *tiny, "--vary", "seed=1,2", "--out", str(tmp_path / "a"))
    assert code == 2 and "`seed` cannot be varied" in output, output
    assert not (tmp_path / "a").exists()
    code, output = cli("phases", *tiny, "--reps", "1", "--vagueness", "0.5,0.5",
                       "--out", str(tmp_path / "b"))  # fmt: skip
    assert code == 2 and "repeats a value" in output, output
    design = tmp_path / "mixed.toml"
    design.write_text(
        '[[points]]\n"rules.takedown.vagueness" = 0.2\n[[points]]\n"police.detention_days" = 3\n'
    )
    code, output = cli("sweep", *tiny, "--design", str(design), "--out", str(tmp_path / "c"))
    assert code == 0 and (tmp_path / "c" / "sweep.png").exists(), output


def test_a_timeline_entrys_set_is_compared_field_by_field() -> None:
    """A timeline entry's ``set`` holds dotted keys: ``--set`` of a table there and
    ``--vary`` of a field inside it clash (the review of session 18: compared as one
    string, they passed); two fields of the same set do not."""
    from simulator.cli.experiments import _refuse_fixed_and_varied
    from simulator.experiments.designs import SweepError

    scenario = simulator.load_scenario("china_rumour_crackdown_2013")
    entry = "timeline.rumour_crackdown.set.police.detention_probability"
    with pytest.raises(SweepError, match="either fixed or varied"):
        _refuse_fixed_and_varied(
            (f"{entry}={{unlawful=0.1}}",), None, None, [f"{entry}.unlawful"], "--vary", scenario
        )
    _refuse_fixed_and_varied(
        (f"{entry}.unlawful=0.1",), None, None, [f"{entry}.critical"], "--vary", scenario
    )
