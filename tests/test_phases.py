"""The phases of self-censorship (B2) from simulated runs: each run's decisions by phase,
stance and boldness quintile (docs/metrics.md "Phases"), and the phase grid over
tolerance, severity and surveillance (docs/experiments.md, "Phases from simulated runs")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.engine.pairing import run
from simulator.experiments.designs import SweepError
from simulator.experiments.phases import PhaseResults, grid_points, phase_grid
from simulator.output.phases import (
    PHASE_COLUMNS,
    cell_counts,
    phases_table,
    quantile_index,
    user_cells,
)
from simulator.output.results import Results


def small(users: int = 3000, days: int = 40, **values: object) -> simulator.Scenario:
    return simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {"population.users": users, "horizon_days": days, **values},
    )


@pytest.fixture(scope="module")
def csl_run() -> Results:
    # Harsh enough that defiance varies across users: vague offences, long detentions.
    return run(small(**{"rules.takedown.vagueness": 1.0, "police.detention_days": 365.0}), seed=7)


def test_quantiles_split_users_evenly_by_rank_and_ties_by_index() -> None:
    values = np.array([0.5, 0.1, 0.5, 0.9, 0.3, 0.5, 0.2, 0.7, 0.5, 0.4])
    q = quantile_index(values, 5)
    assert np.bincount(q, minlength=5).tolist() == [2, 2, 2, 2, 2]
    # ranks: 0.1, 0.2 | 0.3, 0.4 | 0.5 (index 0), 0.5 (2) | 0.5 (5), 0.5 (8) | 0.7, 0.9
    assert q.tolist() == [2, 0, 2, 4, 1, 3, 0, 4, 3, 1]
    cells = user_cells(np.array([0.1, 0.9]), np.array([0.9, 0.1]), 2)
    assert cells.tolist() == [0 * 2 + 1, 1 * 2 + 0]


def test_phases_partition_the_decisions_and_match_the_funnel(csl_run: Results) -> None:
    """Every sensitive post a routed author decides on is counted once: the phases add up
    to intended - excluded on the named platforms, fully self-censoring is daily.csv's
    withheld and partly its softened, per kind; nothing is compliant under take-down
    duties (removal can follow every sensitive kind)."""
    table = csl_run.phases
    assert len(table) == 3 * 25
    daily = csl_run.daily
    named = daily[(daily["platform"] != "circumvention") & (daily["kind"] != "benign")]
    by_kind = named.groupby("kind")[["intended", "excluded", "withheld", "softened"]].sum()
    phases = table.groupby("kind")[[*PHASE_COLUMNS, "decisions"]].sum()
    for kind in ("critical", "collective_action", "unlawful"):
        row, mine = by_kind.loc[kind], phases.loc[kind]
        assert mine["decisions"] == row["intended"] - row["excluded"]
        assert mine["fully_self_censoring"] == row["withheld"]
        assert mine["partly_self_censoring"] == row["softened"]
        assert mine["compliant"] == 0
    assert phases.loc["critical", "partly_self_censoring"] == 0  # criticism has no softer kind
    shares = csl_run.summary["phases"]
    total = phases[list(PHASE_COLUMNS)].to_numpy().sum()
    assert shares["defiant"] == pytest.approx(phases["defiant"].sum() / total)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_defiance_rises_with_desire_and_boldness(csl_run: Results) -> None:
    """B2: defiance sits with high desire (stance) and high boldness. Measured on this
    seeded run (3,000 users, 40 days, vagueness 1, 365 days): defiant share by stance
    quintile 0.295, 0.487, 0.556, 0.646, 0.712; by boldness quintile 0.289 ... 0.748."""
    counts = cell_counts(csl_run.phases).astype(float)
    defiant = counts[:, :, PHASE_COLUMNS.index("defiant")]
    by_stance = defiant.sum(axis=1) / counts.sum(axis=(1, 2))
    by_boldness = defiant.sum(axis=0) / counts.sum(axis=(0, 2))
    assert by_stance[4] - by_stance[0] > 0.2, by_stance
    assert by_boldness[4] - by_boldness[0] > 0.2, by_boldness
    assert np.all(np.diff(by_stance) > 0), by_stance


def test_phases_are_deterministic_and_written_with_the_run(
    csl_run: Results, tmp_path: Path
) -> None:
    again = run(small(**{"rules.takedown.vagueness": 1.0, "police.detention_days": 365.0}), seed=7)
    pd.testing.assert_frame_equal(again.phases, csl_run.phases)
    folder = csl_run.write(tmp_path / "run")
    read = Results.read(folder)
    pd.testing.assert_frame_equal(read.phases, csl_run.phases)
    assert (folder / "phases.csv").read_text().splitlines()[0] == (
        "scenario,seed,replication,kind,stance_quantile,boldness_quantile,compliant,"
        "partly_self_censoring,fully_self_censoring,defiant,decisions"
    )


def test_the_counterfactual_world_is_all_compliant() -> None:
    results = run(small(users=500, days=5, **{"rules.takedown.enabled": False}), seed=1)
    assert results.summary["phases"]["compliant"] == 1.0
    assert phases_table(np.zeros((4, 25, 4), dtype=np.int64))["decisions"].sum() == 0


@pytest.fixture(scope="module")
def corners(tmp_path_factory: pytest.TempPathFactory) -> PhaseResults:
    return phase_grid(
        "china_csl_2016", open_level=True, vagueness=[0.0, 1.0], detention_days=[1.0, 365.0],
        surveillance=[1.0, 20.0], reps=1, seed=3, users=2000, days=40, workers=0,
        out=tmp_path_factory.mktemp("phases") / "grid", check_resources=False,
    )  # fmt: skip


def test_a_harsh_enough_regime_silences_everyone_a_mild_one_does_not(
    corners: PhaseResults,
) -> None:
    """B2: the harshest corner (vague offences, a year's detention, every report
    detained) leaves almost nobody defiant; the mildest (a bright line, a day, the
    scenario's detention chances) almost everybody; with no take-down duties every
    decision is compliant. Measured (2,000 users, 40 days, seed 3): harshest 0.0020
    (fully self-censoring 0.998), mildest 0.9716."""
    table = corners.table.set_index(["tolerance", "detention_days", "surveillance"])
    harshest = table.loc[("vagueness 1", 365.0, 20.0)]
    mildest = table.loc[("vagueness 0", 1.0, 1.0)]
    assert harshest["defiant_mean"] < 0.02
    assert harshest["fully_self_censoring_mean"] > 0.95
    assert mildest["defiant_mean"] > 0.9
    open_rows = corners.table[corners.table["tolerance"] == "open"]
    assert len(open_rows) == 4
    assert (open_rows["compliant_mean"] == 1.0).all()
    # Severity and surveillance each raise self-censorship at vagueness 1.
    assert (
        table.loc[("vagueness 1", 365.0, 1.0), "defiant_mean"]
        < table.loc[("vagueness 1", 1.0, 1.0), "defiant_mean"]
    )
    assert (
        table.loc[("vagueness 1", 1.0, 20.0), "defiant_mean"]
        < table.loc[("vagueness 1", 1.0, 1.0), "defiant_mean"]
    )
    # Read back from the store, the same table.
    again = PhaseResults.read(corners.sweep.out)
    pd.testing.assert_frame_equal(again.table, corners.table)
    assert np.array_equal(again.cells, corners.cells)


def test_the_figure_draws_every_panel_from_the_grid(corners: PhaseResults) -> None:
    from simulator.plots.phase import heat_point, simulated_phase_figure

    fig = simulated_phase_figure(corners)
    bars = [a for a in fig.findobj() if (a.get_gid() or "").startswith("phase-")]
    assert len(bars) == 3 * 2 * 4 * 2  # tolerances x surveillance x phases x severities
    share = corners.table["defiant_mean"].to_numpy()
    assert abs(share[heat_point(corners)] - 0.5) == np.min(np.abs(share - 0.5))
    assert not [a for a in fig.findobj() if (a.get_gid() or "").startswith("spread-")]


def test_the_figure_shows_the_replications_spread(corners: PhaseResults) -> None:
    """With replications (issue 18 item 5), each bar carries the bootstrap interval of
    the compliant share at the top of its segment and of the defiant share at the bottom
    of its own (1 minus it); one replication (the fixture) draws none."""
    import dataclasses

    from simulator.plots.phase import simulated_phase_figure

    table = corners.table.assign(replications=3)
    for name in ("compliant", "defiant"):
        table[f"{name}_boot_low"] = (table[f"{name}_mean"] - 0.05).clip(0, 1)
        table[f"{name}_boot_high"] = (table[f"{name}_mean"] + 0.05).clip(0, 1)
    fig = simulated_phase_figure(dataclasses.replace(corners, table=table))
    assert "bootstrap" in " ".join(fig._suptitle.get_text().split())
    spreads = [a for a in fig.findobj() if (a.get_gid() or "").startswith("spread-")]
    gids = {a.get_gid() for a in spreads}
    assert {f"spread-{t}-{s}-{n}" for t in range(3) for s in range(2)
            for n in ("compliant", "defiant")} == gids  # fmt: skip
    # The defiant interval sits at 1 minus the defiant share: the harshest corner's
    # bar (vagueness 1, surveillance x20, 365 days) has its edge near 1.
    harsh = next(a for a in spreads if a.get_gid() == "spread-2-1-defiant")
    tops = [seg[:, 1].max() for seg in harsh.get_segments()]
    assert max(tops) > 0.95


def test_grid_points_set_the_regime_and_refuse_bad_values() -> None:
    scenario = simulator.load_scenario("china_csl_2016")
    points, values = grid_points(scenario, [0.5], [7.0], [2.0, 10.0], open_level=True)
    assert len(points) == 4
    assert points[0]["rules.takedown.enabled"] is False
    assert values[0]["tolerance"] == "open" and values[0]["vagueness"] is None
    assert points[1]["police.detention_probability.unlawful"] == 1.0  # 0.3 x 10, capped
    assert points[2]["police.detention_probability.collective_action"] == pytest.approx(0.4)
    assert points[3]["police.detention_probability.unlawful"] == 1.0  # 0.3 x 10, capped
    assert points[3]["rules.takedown.vagueness"] == 0.5
    with pytest.raises(SweepError, match="vagueness 1.5"):
        grid_points(scenario, [1.5])
    with pytest.raises(SweepError, match="no take-down duty"):
        grid_points(simulator.load_scenario("open_baseline"))


def test_cli_writes_the_table_and_the_figure(tmp_path: Path) -> None:
    out = tmp_path / "phases"
    result = CliRunner().invoke(
        main,
        [
            "phases",
            "china_csl_2016",
            "--vagueness",
            "0,1",
            "--detention-days",
            "30",
            "--reps",
            "1",
            "--users",
            "300",
            "--days",
            "5",
            "--workers",
            "0",
            "--out",
            str(out),
            "--quiet",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    assert (out / "phases.csv").is_file() and (out / "phases.png").is_file()
    table = pd.read_csv(out / "phases.csv")
    assert table["tolerance"].tolist() == ["vagueness 0", "vagueness 1"]
    bad = CliRunner().invoke(
        main, ["phases", "china_csl_2016", "--vagueness", "x", "--out", str(tmp_path / "b")]
    )
    assert bad.exit_code != 0 and "--vagueness" in bad.output
