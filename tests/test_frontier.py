"""The policy frontier (simulator/experiments/frontier.py, censim frontier, the figure)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.experiments.designs import SweepError
from simulator.experiments.frontier import (
    FrontierResults,
    efficient,
    lever_points,
    policy_frontier,
)
from simulator.plots.frontier import frontier_figure


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_efficient_settings_are_the_undominated_ones() -> None:
    cost = np.array([0.1, 0.2, 0.2, 0.3, 0.05])
    benefit = np.array([0.5, 0.9, 0.4, 0.9, 0.5])
    # 2 is dominated by 0 (costs more, prevents less), 3 by 1 (same benefit, costs more),
    # 0 by 4 (same benefit, costs less).
    np.testing.assert_array_equal(efficient(cost, benefit), [False, True, False, False, True])


def test_lever_points_set_every_platform_deadline_and_fine() -> None:
    scenario = simulator.load_scenario("germany_netzdg_2017")
    points, values = lever_points(scenario, [1, 24], [5], [10])
    assert len(points) == len(values) == 2
    first = points[0]
    assert first["rules.takedown.deadline_hours"] == 1.0
    assert first["rules.takedown.notice_deadline_hours"] == 1.0
    assert first["platforms.main.reviewers_per_100k_users"] == 5.0
    ladder = scenario.rules.penalties.ladder
    fines = [i for i, step in enumerate(ladder) if step.action == "fine"]
    for i in fines:
        assert first[f"rules.penalties.ladder.{i}.amount"] == 10 * ladder[i].amount
    assert values[1] == {
        "deadline_hours": 24.0,
        "reviewers_per_100k_users": 5.0,
        "fine_factor": 10.0,
    }
    # Each point is a valid scenario.
    simulator.override(scenario, first, source="test")


def test_frontier_refuses_a_scenario_without_takedown() -> None:
    with pytest.raises(SweepError, match="no take-down duty"):
        lever_points(simulator.load_scenario("open_baseline"), [1, 24])


def test_frontier_runs_tabulates_and_draws(tmp_path: Path) -> None:
    result = policy_frontier(
        "germany_netzdg_2017", reviewers=[1, 20], reps=2, users=1500, days=15, workers=0,
        out=tmp_path / "f", check_resources=False,
    )  # fmt: skip
    table = result.table
    assert list(table["reviewers_per_100k_users"]) == [1.0, 20.0]
    assert (table["replications"] == 2).all()
    # More reviewers: faster removal, more unlawful exposure prevented (paired seeds).
    assert (
        table.loc[1, "unlawful_exposure_prevented_mean"]
        > table.loc[0, "unlawful_exposure_prevented_mean"]
    )
    written = pd.read_csv(tmp_path / "f" / "frontier.csv")
    assert list(written.columns) == list(table.columns)
    assert table["efficient"].any()
    fig = frontier_figure(result)
    assert "1,500 users \u00d7 15 days" in fig.axes[0].get_title()
    # Read back from the folder: the same table.
    again = FrontierResults.read(tmp_path / "f")
    pd.testing.assert_frame_equal(again.table, table)
    assert (again.scenario, again.users, again.days) == ("germany_netzdg_2017", 1500, 15)
    # Shares' intervals stay within [0, 1].
    assert (table["unlawful_exposure_prevented_high"].dropna() <= 1.0).all()


def test_frontier_command(tmp_path: Path) -> None:
    out = tmp_path / "f"
    code, output = cli(
        "frontier", "germany_netzdg_2017", "--deadline-hours", "1,168", "--reps", "1",
        "--users", "800", "--days", "8", "--workers", "0", "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    assert (out / "frontier.csv").exists() and (out / "frontier.png").stat().st_size > 0
    assert "unlawful exposure prevented" in output and "deadline h" in output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--deadline-hours", "1,x"], ["--deadline-hours", "not a list of numbers"]),
        (["--reviewers", "-1"], ["--reviewers", ">= 0"]),
        (["--set", "rules.takedown.enabled=false"], ["no take-down duty"]),
    ],
)
def test_frontier_bad_input(tmp_path: Path, args: list[str], expected: list[str]) -> None:
    code, output = cli("frontier", "germany_netzdg_2017", *args, "--out", str(tmp_path / "f"))
    assert code == 2, output
    assert "Traceback" not in output
    for text in expected:
        assert text in output
    assert not (tmp_path / "f").exists()
