"""Event studies (issue 17 item 4): a run with a timeline entry against the same run
without it, on the same seeds, by days since the entry's day."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.experiments.event_study import event_study
from simulator.plots.event_study import event_study_figure
from tests.test_timeline import CRACKDOWN, classroom

matplotlib.use("Agg")


def test_an_entry_that_changes_nothing_has_no_effect() -> None:
    same = classroom({"name": "same", "day": 10, "set": {"regulator.monitoring_probability": 0.05}})
    study = event_study(same, "same", reps=2, seed=1, outcome="surviving")
    assert (study.table["effect_mean"] == 0.0).all()
    assert (study.table["effect_low"] == 0.0).all() and (study.table["effect_high"] == 0.0).all()
    assert study.table["treated_mean"].gt(0).all()  # there is an outcome to compare


def test_an_entry_has_no_effect_before_its_day_and_one_after() -> None:
    study = event_study(classroom(CRACKDOWN), "crackdown", reps=2, seed=1, outcome="removed")
    table = study.table
    assert table["days_since"].tolist() == list(range(-12, 18))
    before, after = table[table["days_since"] < 0], table[table["days_since"] >= 0]
    assert (before["effect_mean"] == 0.0).all()
    # After its day the entry changes the runs. (Its sign on removals at this size is
    # noise: the first ten days' effect summed 11.5 with seed 1 and 2 replications, -6.5
    # with seed 2 and 4, before reporting and appeals had streams of their own; -3.0
    # with seed 1 and 2 after. The crackdown also deters posting.)
    assert (after["effect_mean"] != 0.0).any()
    per_rep = study.per_replication
    assert len(per_rep) == 2 * 30 and set(per_rep["replication"]) == {0, 1}
    # Beside the t-interval, the bootstrap one (issue 18 item 5): with two paired
    # replications its ends are their two effects (resample means: a, (a + b) / 2, b).
    effects = (per_rep["treated"] - per_rep["control"]).to_numpy().reshape(2, 30)
    assert table["effect_boot_low"].to_numpy() == pytest.approx(effects.min(axis=0))
    assert table["effect_boot_high"].to_numpy() == pytest.approx(effects.max(axis=0))
    figure = event_study_figure(study)
    assert len(figure.axes) == 2


def test_an_unknown_entry_is_refused() -> None:
    with pytest.raises(simulator.ScenarioError, match="no such entry; the timeline has: crackdown"):
        event_study(classroom(CRACKDOWN), "nope", reps=1)


def test_the_command_prints_and_writes_the_study(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'extends = "classroom"\nname = "c"\nhorizon_days = 16\n[population]\nusers = 300\n'
        '[[timeline]]\nname = "crackdown"\nday = 6\n[timeline.set]\n'
        "regulator.monitoring_probability = 0.4\n",
        encoding="utf-8",
    )
    csv, png = tmp_path / "study.csv", tmp_path / "study.png"
    args = ["event-study", str(path), "--entry", "crackdown", "--reps", "2", "--outcome", "removed"]
    result = CliRunner().invoke(main, [*args, "--csv", str(csv), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "`crackdown` on day 6" in result.output and "days since" in result.output
    table = pd.read_csv(csv)
    assert table["days_since"].tolist() == list(range(-6, 10))
    assert png.stat().st_size > 0
    again = CliRunner().invoke(main, [*args, "--csv", str(csv)])
    assert again.exit_code == 3 and "does not overwrite" in again.output
    wrong = CliRunner().invoke(main, ["event-study", str(path), "--entry", "x", "--reps", "1"])
    assert wrong.exit_code == 2 and "no such entry" in wrong.output
