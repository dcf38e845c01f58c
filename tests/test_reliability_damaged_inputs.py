"""Files censim reads back that someone else may have damaged: a run folder (`plot`,
`compare`), a sweep store (`sweep-plot`), a Dask scheduler file. Each damage is an input
error naming the file and the column or field (exit 2 or 3), never an internal error
(exit 70) and never a hang (docs/reliability.md, "Input errors and exit codes")."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.cli.plots import RUN_TABLE_COLUMNS
from simulator.output.results import TABLES


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run") / "r"
    scenario = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 150, "horizon_days": 4}
    )
    simulator.run(scenario, seed=2).write(folder)
    return folder


def test_the_columns_checked_are_the_columns_a_run_writes(run_folder: Path) -> None:
    for name in TABLES:
        header = (run_folder / f"{name}.csv").read_text().splitlines()[0].split(",")
        assert header == ["scenario", "seed", "replication", *RUN_TABLE_COLUMNS[name]], name


def rename_column(table: str, column: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / f"{table}.csv"
        header, rest = path.read_text().split("\n", 1)
        names = header.split(",")
        names[names.index(column)] = column.upper()
        path.write_text(",".join(names) + "\n" + rest)

    return damage


def text_in(table: str, column: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / f"{table}.csv"
        lines = path.read_text().splitlines()
        names = lines[0].split(",")
        cells = lines[1].split(",")
        cells[names.index(column)] = "lots"
        lines[1] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n")

    return damage


def edit_json(name: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        data = json.loads(path.read_text())
        path.write_text(json.dumps(change(data)))

    return damage


RUN_DAMAGE = {
    # Each was exit 70 (KeyError, TypeError, UFuncTypeError, AttributeError, ValueError).
    "daily-intended-renamed": (rename_column("daily", "intended"), "daily.csv", "`intended`"),
    "daily-kind-renamed": (rename_column("daily", "kind"), "daily.csv", "`kind`"),
    "delays-upper-renamed": (rename_column("delays", "upper_hours"), "delays.csv", "`upper_hours`"),
    "platform-strictness-renamed": (
        rename_column("platform_daily", "strictness"),
        "platform_daily.csv",
        "`strictness`",
    ),
    "population-risk-renamed": (
        rename_column("population_daily", "mean_p_removal_critical"),
        "population_daily.csv",
        "`mean_p_removal_critical`",
    ),
    "events-event-renamed": (rename_column("events", "event"), "events.csv", "`event`"),
    "daily-day-text": (text_in("daily", "day"), "daily.csv", "'lots' on line 2"),
    "delays-removed-text": (text_in("delays", "removed"), "delays.csv", "`removed`"),
    "population-left-text": (text_in("population_daily", "left"), "population_daily.csv", "`left`"),
    "per-kind-deleted": (
        edit_json("summary.json", lambda d: {k: v for k, v in d.items() if k != "per_kind"}),
        "summary.json",
        "per_kind",
    ),
    "scenario-a-list": (edit_json("scenario.json", lambda d: [d]), "scenario.json", "JSON list"),
    # Exit 70 until session 16 (an audit): `int("x")`, `float("lots")`.
    "days-as-text": (
        edit_json("summary.json", lambda d: {**d, "horizon_days": "x"}),
        "summary.json",
        "`horizon_days`",
    ),
    "metric-as-text": (
        edit_json("summary.json", lambda d: {**d, "speech_loss": "lots"}),
        "summary.json",
        "`speech_loss`",
    ),
    "population-cut-to-header": (
        lambda f: (f / "population_daily.csv").write_text(
            (f / "population_daily.csv").read_text().splitlines()[0] + "\n"
        ),
        "population_daily.csv",
        "0 rows",
    ),
    "daily-a-fifo": (
        lambda f: ((f / "daily.csv").unlink(), os.mkfifo(f / "daily.csv")),
        "daily.csv",
        "FIFO",
    ),
}


@pytest.mark.parametrize("case", list(RUN_DAMAGE))
def test_plot_names_the_damaged_file_and_column(
    run_folder: Path, tmp_path: Path, case: str
) -> None:
    damage, file, phrase = RUN_DAMAGE[case]
    folder = tmp_path / "r"
    shutil.copytree(run_folder, folder)
    damage(folder)
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("censim plot blocked"))
    signal.alarm(60)
    try:
        code, output = cli("plot", str(folder), "--out", str(tmp_path / "figures"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert code == 3, output
    assert str(folder / file) in output and phrase in output, output
    assert "internal error" not in output and len(output.strip().splitlines()) == 1
    assert not (tmp_path / "figures").exists()


def test_compare_reads_run_folders_with_the_same_checks(run_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "r"
    shutil.copytree(run_folder, folder)
    rename_column("daily", "removed")(folder)
    code, output = cli("compare", str(run_folder), str(folder), "--out", str(tmp_path / "c"))
    assert code == 3 and f"{folder / 'daily.csv'}: no column `removed`" in output, output


# -- sweep stores -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "s"
    code, output = cli(
        "sweep", "classroom", "--vary", "rules.takedown.vagueness=0,1",
        "--vary", "rules.takedown.deadline_hours=1,24", "--days", "2", "--users", "40",
        "--workers", "0", "--quiet", "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    return out


STORE_DAMAGE = {
    # Each was exit 70 (ValueError, KeyError, TypeError...).
    "design-not-json": (lambda s: (s / "design.json").write_text("{"), "design.json", "JSON"),
    "design-without-fields": (
        edit_json("design.json", lambda d: {**d, "design": {}}),
        "design.json",
        "design.fields",
    ),
    "long-metric-renamed": (rename_column("long", "metric"), "long.csv", "`metric`"),
    "long-field-renamed": (
        rename_column("long", "rules.takedown.vagueness"),
        "long.csv",
        "`rules.takedown.vagueness`",
    ),
    "long-value-text": (text_in("long", "value"), "long.csv", "`value`"),
    "long-cut-to-header": (
        lambda s: (s / "long.csv").write_text((s / "long.csv").read_text().split("\n")[0] + "\n"),
        "long.csv",
        "no runs",
    ),
    "summary-empty": (
        lambda s: (s / "summary.csv").write_text(""),
        "summary.csv",
        "cannot be read",
    ),
}


@pytest.mark.parametrize("case", list(STORE_DAMAGE))
@pytest.mark.parametrize("heatmap", [False, True], ids=["line", "heatmap"])
def test_sweep_plot_names_the_damaged_file_and_column(
    store: Path, tmp_path: Path, case: str, heatmap: bool
) -> None:
    damage, file, phrase = STORE_DAMAGE[case]
    folder = tmp_path / "s"
    shutil.copytree(store, folder)
    damage(folder)
    axes = ["--x", "rules.takedown.vagueness"]
    if heatmap:
        axes += ["--y", "rules.takedown.deadline_hours"]
    code, output = cli("sweep-plot", str(folder), *axes, "--out", str(tmp_path / "f.png"))
    assert code == 3, output
    assert str(folder / file) in output and phrase in output, output
    assert "internal error" not in output
    assert not (tmp_path / "f.png").exists()


# -- Dask scheduler files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("not json", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "no address"),
        ('{"type": "Scheduler"}', "no address"),
        ('{"address": 8786}', "address 8786"),
        ('{"address": "localhost"}', "address 'localhost'"),
    ],
)
def test_a_malformed_scheduler_file_is_an_input_error(
    tmp_path: Path, text: str, phrase: str
) -> None:
    """Was exit 70 (an AssertionError or TypeError inside Dask)."""
    pytest.importorskip("distributed", reason="needs the `cluster` extra")
    file = tmp_path / "scheduler.json"
    file.write_text(text)
    code, output = cli(
        "sweep", "classroom", "--days", "2", "--users", "40", "--quiet",
        "--scheduler", str(file), "--out", str(tmp_path / "s"),
    )  # fmt: skip
    assert code == 2, output
    assert f"--scheduler {file}: not a Dask scheduler file" in output and phrase in output
    assert "internal error" not in output and len(output.strip().splitlines()) == 1


def test_compare_warns_when_regimes_ran_at_different_sizes(tmp_path: Path) -> None:
    """Regimes of 100 and 150 users were compared without a word (a session 16 audit):
    their rates compare, their totals do not."""
    small = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 100, "horizon_days": 3}
    )
    simulator.run(small, seed=1).write(tmp_path / "a")
    simulator.run(small, seed=2).write(tmp_path / "b")
    larger = simulator.override(small, {"population.users": 150})
    simulator.run(larger, seed=1).write(tmp_path / "c")
    code, output = cli("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out",
                       str(tmp_path / "same"))  # fmt: skip
    assert code == 0 and "warning" not in output, output
    code, output = cli("compare", str(tmp_path / "a"), str(tmp_path / "c"), "--out",
                       str(tmp_path / "mixed"))  # fmt: skip
    assert code == 0 and "warning: the regimes compared differ in users" in output, output


def test_compare_warns_when_a_folder_pools_runs_that_are_not_replications(
    tmp_path: Path,
) -> None:
    """A folder of run folders is one regime's replications. Runs of another scenario
    or horizon among them (a damaged or mixed-up folder) were pooled without a word."""
    base = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 100, "horizon_days": 3}
    )
    reps = tmp_path / "reps"
    simulator.run(base, seed=1).write(reps / "rep000")
    simulator.run(base, seed=2).write(reps / "rep001")
    code, output = cli("compare", str(reps), "--out", str(tmp_path / "fine"))
    assert code == 0 and "warning" not in output, output
    simulator.run(simulator.override(base, {"horizon_days": 5}), seed=3).write(reps / "rep002")
    simulator.run(base, seed=2).write(reps / "rep003")
    code, output = cli("compare", str(reps), "--out", str(tmp_path / "mixed"))
    assert code == 0, output
    warnings = [line for line in output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, output
    assert f"{reps}: its 4 run folders are not replications of one run" in warnings[0]
    assert "rep000: classroom, 3 days" in warnings[0] and "rep002: classroom, 5 days" in warnings[0]
    assert "rep001 and rep003 have the same seed (2)" in warnings[1]


def test_every_exit_code_is_documented() -> None:
    """`censim --help`, README.md and docs/reliability.md list every exit code censim
    uses (4, out of memory, was used but documented nowhere)."""
    from simulator.errors import EXIT_CODES

    code, help_text = cli("--help")
    assert code == 0
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    reliability = (root / "docs" / "reliability.md").read_text()
    for number, meaning in EXIT_CODES.items():
        assert f"{number:>3}  {meaning}" in help_text, number
        assert f"| {number} |" in readme and f"| {number} |" in reliability, number
    assert {4, 143} <= set(EXIT_CODES)


def test_the_cluster_guide_warns_that_a_scheduler_runs_what_it_is_sent() -> None:
    """A Dask scheduler unpickles tasks and has no authentication: the guide says to
    bind it to loopback or a trusted network, and its commands do."""
    guide = (Path(__file__).resolve().parent.parent / "docs" / "experiments.md").read_text()
    section = guide[guide.index("## 2. The same sweep on a Dask cluster") :]
    section = section[: section.index("## 3.")]
    warning = section[section.index("**Security") :]
    for phrase in ("no authentication", "pickles", "127.0.0.1", "trusted network", "tls://"):
        assert phrase in warning, phrase
    for command in ("dask scheduler", "dask worker"):
        lines = [line for line in section.splitlines() if line.startswith(f"$ {command}")]
        assert lines and all("127.0.0.1" in line for line in lines), command
