"""`censim plot` and `censim compare`, driven as a user would through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator import plots
from simulator.cli.main import main
from simulator.output.metrics import MECHANISMS
from simulator.output.results import Results

PNG = b"\x89PNG\r\n\x1a\n"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "c1"
    code, output = invoke(
        "run", "classroom", "--days", "10", "--users", "600", "--out", str(folder), "--quiet"
    )
    assert code == 0, output
    return folder


def test_plot_writes_every_figure_of_a_fresh_run(run_dir: Path) -> None:
    code, output = invoke("plot", str(run_dir))
    assert code == 0, output
    names = sorted(p.name for p in (run_dir / "figures").iterdir())
    assert names == [
        "figures.json",
        "funnel.png",
        "platforms.png",
        "removal_curve.png",
        "time_series.png",
        "transparency.png",
    ]
    for name in names[1:]:
        assert (run_dir / "figures" / name).read_bytes()[:8] == PNG
        assert f"wrote {run_dir / 'figures' / name}" in output


def test_plot_format_and_out(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulator import plots

    # One figure is enough to check the format and folder (all four are drawn above).
    monkeypatch.setattr(plots.writing, "RUN_FIGURES", {"removal_curve": plots.removal_curve})
    code, output = invoke("plot", str(run_dir), "--out", str(tmp_path / "svg"), "--format", "SVG")
    assert code == 0, output
    assert (tmp_path / "svg" / "removal_curve.svg").read_text().lstrip().startswith("<?xml")
    code, output = invoke("plot", str(run_dir), "--out", str(tmp_path / "pdf"), "--format", "pdf")
    assert code == 0 and (tmp_path / "pdf" / "removal_curve.pdf").read_bytes()[:5] == b"%PDF-"
    code, output = invoke("plot", str(run_dir), "--format", "gif")
    assert code == 2 and "'gif' is not one of 'png', 'svg', 'pdf'" in output


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: p, "not a censim run folder (no summary.json)"),
        (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "is a file, not a run folder"),
    ],
)
def test_plot_refuses_what_is_not_a_run(tmp_path: Path, make: object, message: str) -> None:
    code, output = invoke("plot", str(make(tmp_path)))  # type: ignore[operator]
    assert code == 3
    assert message in output and "Traceback" not in output


def test_plot_names_a_damaged_run(run_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_text((run_dir / "summary.json").read_text())
    code, output = invoke("plot", str(broken))
    assert code == 3 and "incomplete or damaged" in output and "manifest.json" in output


def test_compare_runs_scenarios_and_writes_figure_and_table(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    code, output = invoke(
        "compare", "classroom", "open_baseline", "--reps", "3", "--days", "8",
        "--users", "500", "--seed", "5", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0, output
    assert (out / "comparison.png").read_bytes()[:8] == PNG
    table = pd.read_csv(out / "comparison.csv").set_index("regime")
    assert list(table.index) == ["classroom", "open_baseline"]
    assert (table["replications"] == 3).all()
    # Money carries its currency; no interval reaches below 0 (counts, amounts, shares).
    assert table["currency"].to_dict() == {"classroom": "CNY", "open_baseline": "USD"}
    lows = table[[column for column in table.columns if column.endswith("_ci_low")]]
    assert len(lows.columns) == len(plots.TABLE_METRICS)
    # Net losses and the gains of posts said as criticism instead can be below 0.
    gains = [c for c in lows.columns if "softened_in" in c or "net_loss" in c]
    assert len(gains) == 3 and not (lows.drop(columns=gains) < 0).any().any()  # NaN: no removals
    # The mechanism figure is written, and its parts add up to the net losses.
    assert (out / "mechanisms.png").read_bytes()[:8] == PNG
    for total, (parts, _) in plots.compare.MECHANISM_GROUPS.items():
        summed = sum(table[f"{parts}.{name}_mean"] for name in MECHANISMS)
        assert np.allclose(summed, table[f"{total}_mean"], rtol=0, atol=1e-5)
    meta = json.loads((out / "comparison.json").read_text())
    from simulator.streams import replication_seeds

    assert meta["replication_seeds"] == replication_seeds(5, 3)
    for regime in table.index:
        runs = [Results.read(p) for p in sorted((out / "runs" / regime).iterdir())]
        assert [r.seed for r in runs] == replication_seeds(5, 3)
        assert [r.summary["horizon_days"] for r in runs] == [8, 8, 8]
        for metric in ("speech_loss", "chilling_effect", "collateral_share"):
            values = np.array([r.summary[metric] for r in runs])
            row = table.loc[regime]
            assert row[f"{metric}_mean"] == pytest.approx(values.mean(), rel=1e-5, abs=1e-9)
            assert row[f"{metric}_ci_low"] <= row[f"{metric}_mean"] <= row[f"{metric}_ci_high"]
    # No rules, no loss; the China-style classroom loses lawful speech.
    assert table.loc["open_baseline", "speech_loss_mean"] == 0
    assert table.loc["classroom", "speech_loss_mean"] > 0

    # The runs it kept can be compared again without re-running (a folder of replications).
    again = tmp_path / "again"
    code, output = invoke(
        "compare", str(out / "runs" / "classroom"), str(out / "runs" / "open_baseline"),
        "--out", str(again), "--quiet",
    )  # fmt: skip
    assert code == 0, output
    reread = pd.read_csv(again / "comparison.csv").set_index("regime")
    pd.testing.assert_frame_equal(reread, table)


def test_compare_loads_single_run_folders(run_dir: Path, tmp_path: Path) -> None:
    code, output = invoke("compare", str(run_dir), str(run_dir), "--out", str(tmp_path / "o"))
    assert code == 0, output
    table = pd.read_csv(tmp_path / "o" / "comparison.csv")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert list(table["regime"]) == ["c1", "c1-2"]  # same name twice: kept apart
    # comparison.csv writes 6 significant digits (float_format "%.6g"): rel. error < 5e-6.
    assert table["speech_loss_mean"].tolist() == pytest.approx(
        [summary["speech_loss"]] * 2, rel=1e-5
    )
    assert table["speech_loss_ci_low"].isna().all()  # one replication: no interval
    assert "c1" in output and "speech_loss" in output


def test_compare_errors(tmp_path: Path, run_dir: Path) -> None:
    code, output = invoke("compare", "no_such_regime", "--out", str(tmp_path / "a"))
    assert code == 2 and "not a shipped scenario" in output
    code, output = invoke("compare", str(tmp_path), "--out", str(tmp_path / "b"))
    assert code == 3 and "holds no run folders" in output
    code, output = invoke("compare", "classroom", "--out", str(run_dir))
    assert code == 3 and "already exists and is not a comparison folder" in output
    # --force replaces only a comparison censim wrote: not a run folder, not a user's.
    code, output = invoke("compare", "classroom", "--out", str(run_dir), "--force")
    assert code == 3 and "is a censim run folder, not a comparison folder" in output
    code, output = invoke("compare", "classroom", "--reps", "0", "--out", str(tmp_path / "c"))
    assert code == 2 and "--reps" in output
    code, output = invoke("compare", "--out", str(tmp_path / "d"))
    assert code == 2 and "Missing argument" in output


def test_compare_figures_carry_units_and_users_times_days(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`censim compare` titles both of its figures with the runs' population x horizon
    (read from the runs), and every panel has its zero line."""
    drawn: dict[str, object] = {}
    original = plots.save

    def keep(fig: object, path: Path, dpi: float | None = None) -> Path:
        drawn[Path(path).name] = (
            " ".join(fig._suptitle.get_text().split()),  # type: ignore[attr-defined]
            [
                [line.get_gid() for line in ax.lines]
                for ax in fig.axes  # type: ignore[attr-defined]
                if ax.get_visible()
            ],
        )
        return original(fig, path, dpi)  # type: ignore[arg-type]

    monkeypatch.setattr(plots, "save", keep)
    code, output = invoke("compare", str(run_dir), str(run_dir), "--out", str(tmp_path / "o"))
    assert code == 0, output
    assert set(drawn) == {"comparison.png", "mechanisms.png"}
    for name, (title, gids) in drawn.items():
        assert "600 users \u00d7 10 days" in title, name  # type: ignore[operator]
        assert all("zero" in panel for panel in gids), name  # type: ignore[attr-defined]
    assert "units on each axis" in drawn["comparison.png"][0]  # type: ignore[index]
