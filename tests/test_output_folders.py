"""What censim does with folders it did not write, with concurrent writers, with a full
disk and with interrupts (issue 14; docs/reliability.md sections 8-10).

Concurrency and interrupt tests use real ``censim`` processes and real signals; they are
started side by side so that each test costs about one process start-up.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import simulator
from simulator.cli.main import main
from simulator.experiments import grid_design, sweep
from simulator.experiments.sensitivity import Ishigami
from simulator.interrupts import INTERRUPTED_MESSAGE
from simulator.output import folders as output_folders
from simulator.output.results import Results

CENSIM = str(Path(sys.executable).with_name("censim"))
TINY = ["classroom", "--users", "50", "--days", "1", "--quiet"]


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output  # standard output and error, as printed


@pytest.fixture(scope="module")
def small() -> Results:
    scenario = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 60, "horizon_days": 2}
    )
    return simulator.run(scenario, seed=1)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def user_folder(path: Path) -> dict[str, bytes]:
    (path / "sub").mkdir(parents=True)
    (path / "thesis.txt").write_text("three years of work")
    (path / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return snapshot(path)


def staging_leftovers(parent: Path) -> list[Path]:
    return sorted(parent.glob(".censim-*"))


# -- item 1: two runs into the same --out ---------------------------------------------------


#: ``censim`` with each table of a run folder taking 0.15 s longer to write, so that the
#: writes of two runs started together overlap, as they do with larger tables.
SLOW_WRITING_CENSIM = """
import sys, time
import simulator.output.results as results
write_csv = results.write_csv

def slow_csv(frame, path):
    write_csv(frame, path)
    time.sleep(0.15)

results.write_csv = slow_csv
from simulator.cli.console import main
sys.argv[0] = "censim"
main()
"""


def _race(cwd: Path, force: bool) -> list[tuple[int, str, str]]:
    """Two ``censim run`` processes of 2 and 3 days into the default --out at once, as in
    the issue's loop (writing slowly: see SLOW_WRITING_CENSIM); their exit codes, standard
    output and error."""
    cwd.mkdir()
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", SLOW_WRITING_CENSIM, "run", "classroom", "--users", "150"]
            + ["--days", str(days), "--quiet"]
            + (["--force"] if force else []),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for days in (2, 3)
    ]
    return [(p.wait(timeout=300), *p.communicate()) for p in runs]


def _check_race(cwd: Path, outcomes: list[tuple[int, str, str]]) -> None:
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 3], outcomes
    loser = next(err for code, _, err in outcomes if code == 3)
    assert loser.count("\n") == 1 and "already exists" in loser, loser
    winner_days = 2 + [code for code, _, _ in outcomes].index(0)
    target = cwd / "runs" / "classroom-seed42"
    summary = json.loads((target / "summary.json").read_text())
    assert summary["horizon_days"] == winner_days
    assert Results.read(target).summary == summary
    assert staging_leftovers(target.parent) == []


def test_two_runs_into_the_same_folder_one_wins_the_other_says_so(tmp_path: Path) -> None:
    """Both start while the folder is free; exactly one writes it, the other exits 3 with
    one line saying so. (Both exited 0 and one result was lost, 9 times in 9.)"""
    _check_race(tmp_path / "t", _race(tmp_path / "t", force=False))


@pytest.mark.slow
def test_many_races_into_the_same_folder(tmp_path: Path) -> None:
    """The issue's loop, more times; and with --force both succeed, one after the other:
    the folder is whole and one of the two, and nothing is left beside it."""
    for trial in range(6):
        _check_race(tmp_path / f"t{trial}", _race(tmp_path / f"t{trial}", force=False))
    for trial in range(4):
        cwd = tmp_path / f"f{trial}"
        outcomes = _race(cwd, force=True)
        assert [code for code, _, _ in outcomes] == [0, 0], outcomes
        target = cwd / "runs" / "classroom-seed42"
        summary = json.loads((target / "summary.json").read_text())
        assert summary["horizon_days"] in (2, 3)
        assert Results.read(target).summary == summary
        assert staging_leftovers(target.parent) == []


def test_a_target_taken_while_running_is_not_replaced(tmp_path: Path, small: Results) -> None:
    """The check when publishing: a folder that appeared after the first check is kept,
    and the error says this command's results were not kept."""
    target = tmp_path / "run"
    staged = output_folders.staged_folder(target, output_folders.RUN, force=False)
    taken = pytest.raises(simulator.OutputError, match="written while this command ran")
    with taken, staged as staging:  # noqa: PT012 - the error comes when the block ends
        small.write_files(staging)
        mine = user_folder(target)  # appears meanwhile
    assert snapshot(target) == mine
    assert staging_leftovers(tmp_path) == []


# -- item 2: --force replaces only what censim wrote -----------------------------------------


def test_force_refuses_folders_censim_did_not_write(
    tmp_path: Path, small: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    mydocs = tmp_path / "mydocs"
    before = user_folder(mydocs)
    code, output = cli("run", *TINY, "--out", str(mydocs), "--force")
    assert code == 3 and "was not written by censim" in output and output.count("\n") == 1
    assert snapshot(mydocs) == before
    # Without --force the message does not suggest it.
    code, output = cli("run", *TINY, "--out", str(mydocs))
    assert code == 3 and "not a run folder censim wrote" in output and "--force" not in output
    # A censim run folder with something of the user's in it, at the top or in figures/.
    for extra in ("notes.txt", "figures/notes.txt"):
        run = tmp_path / extra.replace("/", "-")
        small.write(run)
        (run / extra).parent.mkdir(exist_ok=True)
        (run / extra).write_text("mine")
        kept = snapshot(run)
        code, output = cli("run", *TINY, "--out", str(run), "--force")
        assert code == 3 and f"holds {extra}, which censim did not write" in output, output
        assert snapshot(run) == kept
    # The current folder, a folder above it, the home folder, the root.
    inside = tmp_path / "home" / "work"
    small.write(inside)  # even a run folder
    monkeypatch.chdir(inside)
    for out, why in ((inside, "current folder"), (tmp_path, "current folder")):
        code, output = cli("run", *TINY, "--out", str(out), "--force")
        assert code == 3 and why in output, output
    monkeypatch.setenv("HOME", str(inside))
    monkeypatch.chdir(tmp_path)
    code, output = cli("run", *TINY, "--out", str(inside), "--force")
    assert code == 3 and "home folder" in output, output
    code, output = cli("run", *TINY, "--out", "/", "--force")
    assert code == 3 and "give the run folder a name" in output
    # A symlink to a run folder, a file, another kind of censim folder.
    link = tmp_path / "link"
    link.symlink_to(inside)
    code, output = cli("run", *TINY, "--out", str(link), "--force")
    assert code == 3 and "symbolic link" in output
    (tmp_path / "file").write_text("x")
    code, output = cli("run", *TINY, "--out", str(tmp_path / "file"), "--force")
    assert code == 3 and "not a folder" in output
    comparison = tmp_path / "cmp"
    comparison.mkdir()
    (comparison / "comparison.json").write_text(json.dumps({"censim_folder": "comparison"}))
    code, output = cli("run", *TINY, "--out", str(comparison), "--force")
    assert code == 3 and "is a censim comparison folder, not a run folder" in output
    assert (inside / "manifest.json").is_file() and (tmp_path / "file").read_text() == "x"
    assert staging_leftovers(tmp_path) == []


def test_force_replaces_run_folders_censim_wrote(tmp_path: Path, small: Results) -> None:
    """Its own run folders (with figures), those of earlier versions (no censim_folder key),
    and an empty folder (no --force needed)."""
    current, legacy, empty = tmp_path / "current", tmp_path / "legacy", tmp_path / "empty"
    small.write(current)
    (current / "figures").mkdir()
    (current / "figures" / "funnel.png").write_bytes(b"png")
    small.write(legacy)
    manifest = json.loads((legacy / "manifest.json").read_text())
    assert manifest.pop("censim_folder") == "run"
    (legacy / "manifest.json").write_text(json.dumps(manifest))
    empty.mkdir()
    for folder, force in ((current, ["--force"]), (legacy, ["--force"]), (empty, [])):
        code, output = cli("run", *TINY, "--seed", "5", "--out", str(folder), *force)
        assert code == 0, output
        assert json.loads((folder / "summary.json").read_text())["seed"] == 5
        assert not (folder / "figures").exists()
    assert staging_leftovers(tmp_path) == []


def test_nothing_is_written_inside_a_folder_censim_wrote(tmp_path: Path, small: Results) -> None:
    """The audit: ``run --out r1/sub`` into a run folder r1 was accepted, and then
    ``--force`` on r1 was refused for ever (r1 held sub, which censim does not write
    there). Now refused up front, for runs, sweeps and comparisons, inside run folders,
    stores and comparisons; --force on r1 still works."""
    r1 = tmp_path / "r1"
    small.write(r1)
    before = snapshot(r1)
    store = tmp_path / "store"
    sweep(
        None,
        grid_design({"x1": [0.0], "x2": [0.5], "x3": [2.0]}, source="test"),
        reps=1,
        model=Ishigami(),
        workers=0,
        out=store,
    )
    store_before = snapshot(store)
    for command, out, holder, noun in (
        (["run", *TINY], r1 / "sub", r1, "run folder"),
        (["run", *TINY], r1 / "a" / "b", r1, "run folder"),
        (["run", *TINY], store / "runs" / "x", store, "sweep store"),
        ([*SWEEP], r1 / "s", r1, "run folder"),
        (["compare", *TINY, "--reps", "1"], r1 / "c", r1, "run folder"),
    ):
        code, output = cli(*command, "--out", str(out))
        assert code == 3, output
        assert f"{out}: is inside {holder}, a {noun} censim wrote" in output
        assert output.count("\n") == 1
    assert snapshot(r1) == before and snapshot(store) == store_before
    code, output = cli("run", *TINY, "--seed", "5", "--out", str(r1), "--force")
    assert code == 0, output
    # Figures go into a run folder's figures/ (censim plot), as before.
    code, output = cli("plot", str(r1))
    assert code == 0, output


def test_an_out_too_long_for_the_file_system_is_refused_before_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit: ``run --out`` with a 300-character name ran the whole simulation and
    only then failed to write. Names the file system cannot hold (a name, or the paths
    of the files written under the folder) are refused before anything runs."""
    import simulator.engine.pairing as pairing

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("ran before the output target was checked")

    monkeypatch.setattr(pairing, "run", no_run)
    monkeypatch.chdir(tmp_path)
    deep = Path(*["b" * 200] * 21)  # names allowed, the paths too long
    for command in (["run", *TINY], [*SWEEP], ["compare", *TINY, "--reps", "1"]):
        code, output = cli(*command, "--out", "a" * 300)
        assert code == 3, output
        assert "is a name 300 bytes long; this file system allows names of at most 255" in output
        code, output = cli(*command, "--out", str(Path("x", "a" * 300, "y")))
        assert code == 3 and "has a name (aaaa" in output and "300 bytes long" in output
        code, output = cli(*command, "--out", str(deep))
        assert code == 3, output
        assert "the files censim writes under it would have paths of up to" in output
        assert "this file system allows 4,095" in output
        assert output.count("\n") == 1 and len(output) < 400  # the path abbreviated
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- item 3: the folder censim runs in -------------------------------------------------------


def test_force_never_moves_the_folder_it_runs_in(
    tmp_path: Path, small: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--out ../cwd --force`` from inside ``cwd`` said "unchanged" but had moved the folder
    into a hidden ``.cwd.PID.old/old``: now refused before anything moves."""
    cwd = tmp_path / "cwd"
    small.write(cwd)
    before = snapshot(cwd)
    monkeypatch.chdir(cwd)
    code, output = cli("run", *TINY, "--out", "../cwd", "--force")
    assert code == 3 and "current folder" in output and output.count("\n") == 1
    assert Path.cwd() == cwd and snapshot(cwd) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd"]


# -- item 5: sweeps, compare, scenario names ------------------------------------------------


SWEEP = ["sweep", "classroom", "--days", "1", "--users", "40", "--workers", "0", "--quiet"]


def test_sweep_never_writes_into_a_folder_of_the_users(tmp_path: Path) -> None:
    """``u/summary.csv`` was overwritten without --force; with it, runs/*.json and
    design.json were deleted. A folder that is not a censim store is refused either way."""
    folder = tmp_path / "u"
    (folder / "runs").mkdir(parents=True)
    (folder / "summary.csv").write_text("my,table\n")
    (folder / "design.json").write_text('{"my": "design"}')
    (folder / "runs" / "p0000-r000.json").write_text("{}")
    before = snapshot(folder)
    for force in ([], ["--force"]):
        code, output = cli(*SWEEP, "--out", str(folder), *force)
        assert code == 3 and "not a censim sweep store" in output, output
        assert snapshot(folder) == before
    only_a_table = tmp_path / "v"
    only_a_table.mkdir()
    (only_a_table / "summary.csv").write_text("mine\n")
    code, output = cli(*SWEEP, "--out", str(only_a_table))
    assert code == 3 and (only_a_table / "summary.csv").read_text() == "mine\n"
    assert sorted(p.name for p in only_a_table.iterdir()) == ["summary.csv"]


def test_sweep_force_deletes_only_what_censim_wrote(tmp_path: Path) -> None:
    model = Ishigami()
    out = tmp_path / "store"
    first = grid_design({"x1": [0.0, 1.0], "x2": [0.5], "x3": [2.0]}, source="test")
    sweep(None, first, reps=1, model=model, workers=0, out=out)
    design = json.loads((out / "design.json").read_text())
    assert design["censim_folder"] == "sweep"
    (out / "notes.txt").write_text("mine")
    (out / "runs" / "notes.json").write_text("{}")
    other = grid_design({"x1": [3.0], "x2": [0.5], "x3": [2.0]}, source="test")
    replaced = sweep(None, other, reps=1, model=model, workers=0, out=out, force=True)
    assert (replaced.ran, replaced.reused) == (1, 0)
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["notes.json", "p0000-r000.json"]
    assert (out / "notes.txt").read_text() == "mine"
    # Resuming the censim store still works, and a store killed before its design.json
    # (a lock file and an empty runs/) counts as free.
    again = sweep(None, other, reps=1, model=model, workers=0, out=out)
    assert (again.ran, again.reused) == (0, 1)
    killed = tmp_path / "killed"
    (killed / "runs").mkdir(parents=True)
    (killed / ".lock").write_text("")
    assert sweep(None, other, reps=1, model=model, workers=0, out=killed).ran == 1


def test_sweep_force_deletes_the_old_designs_results(tmp_path: Path) -> None:
    """The audit: ``--force`` into a store written by ``censim frontier`` kept its
    frontier.csv and frontier.png, stale results beside the new design's that look
    current. The store records the design outputs it writes (design.json's ``outputs``);
    --force deletes those, and only those."""
    out = tmp_path / "store"
    frontier = ["frontier", "classroom", "--deadline-hours", "1,24", "--reviewers", "1"]
    frontier += ["--reps", "1", "--users", "40", "--days", "1", "--workers", "0", "--quiet"]
    code, output = cli(*frontier, "--out", str(out))
    assert code == 0, output
    assert json.loads((out / "design.json").read_text())["outputs"] == [
        "frontier.csv",
        "frontier.png",
    ]
    (out / "phases.csv").write_text("mine")  # a name censim writes, but not written here
    code, output = cli(*SWEEP, "--vary", "rules.takedown.vagueness=0,1", "--out", str(out))
    assert code == 3 and "different sweep" in output  # without --force: nothing deleted
    assert (out / "frontier.csv").is_file() and (out / "frontier.png").is_file()
    code, output = cli(
        *SWEEP, "--vary", "rules.takedown.vagueness=0,1", "--out", str(out), "--force"
    )
    assert code == 0, output
    names = sorted(p.name for p in out.iterdir())
    assert names == [".lock", "design.json", "long.csv", "phases.csv", "runs", "summary.csv"] + [
        "sweep.png"
    ]
    assert (out / "phases.csv").read_text() == "mine"
    assert json.loads((out / "design.json").read_text())["outputs"] == ["sweep.png"]
    # Resuming the same design keeps the record; a store written before the record
    # (no `outputs`) loses what the command its design.json names writes.
    code, output = cli(*SWEEP, "--vary", "rules.takedown.vagueness=0,1", "--out", str(out))
    assert code == 0 and "0 run now, 2 reused" in output, output
    assert json.loads((out / "design.json").read_text())["outputs"] == ["sweep.png"]
    model = Ishigami()
    legacy = tmp_path / "legacy"
    first = grid_design({"x1": [0.0], "x2": [0.5], "x3": [2.0]}, source="test")
    sweep(None, first, reps=1, model=model, workers=0, out=legacy)
    design = json.loads((legacy / "design.json").read_text())
    (legacy / "design.json").write_text(json.dumps({**design, "frontier": {"levers": []}}))
    for name in ("frontier.csv", "frontier.png", "sweep.png"):
        (legacy / name).write_text("old")
    other = grid_design({"x1": [1.0], "x2": [0.5], "x3": [2.0]}, source="test")
    sweep(None, other, reps=1, model=model, workers=0, out=legacy, force=True)
    assert not (legacy / "frontier.csv").exists() and not (legacy / "frontier.png").exists()
    assert (legacy / "sweep.png").read_text() == "old"  # frontier does not write one
    # An old store of a grid: censim sweep drew its figure; of whole points without a
    # varied field it drew none, so a sweep.png there is the user's (the review of
    # session 17).
    for fields, kept in (([], True), (["x1"], False)):
        legacy = tmp_path / f"legacy-points-{len(fields)}"
        sweep(None, first, reps=1, model=model, workers=0, out=legacy)
        design = json.loads((legacy / "design.json").read_text())
        design["design"] = {**design["design"], "kind": "points", "fields": fields}
        (legacy / "design.json").write_text(json.dumps(design))
        (legacy / "sweep.png").write_text("mine")
        sweep(None, other, reps=1, model=model, workers=0, out=legacy, force=True)
        assert (legacy / "sweep.png").exists() is kept, fields


def test_compare_force_replaces_only_a_comparison(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    before = user_folder(mine)
    for force in ([], ["--force"]):
        code, output = cli("compare", *TINY, "--reps", "1", "--out", str(mine), *force)
        assert code == 3 and "not" in output and snapshot(mine) == before, output
    out = tmp_path / "cmp"
    for seed in ("1", "2"):
        code, output = cli(
            "compare", *TINY, "--reps", "1", "--seed", seed, "--out", str(out), "--force"
        )
        assert code == 0, output
        manifest = json.loads((out / "comparison.json").read_text())
        assert manifest["censim_folder"] == "comparison" and manifest["seed"] == int(seed)
    assert sorted(p.name for p in (out / "runs" / "classroom").iterdir()) == ["rep000"]
    assert staging_leftovers(tmp_path) == []


def test_scenario_names_cannot_leave_their_folder(tmp_path: Path) -> None:
    """A scenario named ``..`` wrote compare's replicas outside its folder."""
    for name in ("..", ".", ".hidden"):
        path = tmp_path / "s.toml"
        path.write_text(f'extends = "classroom"\nname = "{name}"\n')
        code, output = cli("compare", str(path), "--reps", "1", "--out", str(tmp_path / "c"))
        assert code == 2 and "field `name`" in output, output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]
    for bad in ("..", "a/b", "", "x\x1b[2J"):
        with pytest.raises(simulator.OutputError, match="cannot name a folder"):
            output_folders.check_path_component(bad, "scenario name")
    assert output_folders.check_path_component("csl_2016.v2", "x") == "csl_2016.v2"


def test_plot_never_overwrites_a_file_of_the_users(
    tmp_path: Path, small: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``censim plot RUN --out mydocs`` replaced the user's ``mydocs/funnel.png``."""
    from simulator import plots

    monkeypatch.setattr(plots.writing, "RUN_FIGURES", {"funnel": plots.funnel})  # one is enough
    run = tmp_path / "run"
    small.write(run)
    mydocs = tmp_path / "mydocs"
    mydocs.mkdir()
    (mydocs / "funnel.png").write_bytes(b"my own figure")
    code, output = cli("plot", str(run), "--out", str(mydocs))
    assert code == 3 and "funnel.png: exists and censim did not write it" in output, output
    assert sorted(p.name for p in mydocs.iterdir()) == ["funnel.png"]
    assert (mydocs / "funnel.png").read_bytes() == b"my own figure"
    # Its own figures folders are re-plotted; a folder without those names is written into.
    for folder in (run / "figures", tmp_path / "figs", tmp_path / "figs", tmp_path / "other"):
        code, output = cli("plot", str(run), "--out", str(folder))
        assert code == 0, output
        assert (folder / "funnel.png").read_bytes()[:4] == b"\x89PNG"
    # A run folder with figures is still one --force replaces.
    assert cli("run", *TINY, "--out", str(run), "--force")[0] == 0


def test_compare_never_replaces_the_runs_it_reads(tmp_path: Path) -> None:
    """``compare cmp/runs/classroom ... --out cmp --force`` deleted the runs it was
    reading (a session 16 audit): an input inside --out is refused, and kept."""
    out = tmp_path / "cmp"
    code, output = cli("compare", *TINY, "--reps", "2", "--out", str(out))
    assert code == 0, output
    before = snapshot(out)
    inside = out / "runs" / "classroom"
    code, output = cli("compare", str(inside), *TINY, "--reps", "1", "--out", str(out), "--force")
    assert code == 3 and "which this comparison reads" in output, output
    code, output = cli("compare", str(inside), "--out", str(inside), "--force")
    assert code == 3, output  # not a comparison folder: refused as before
    assert snapshot(out) == before
    # Read from outside, the same runs make a new comparison.
    code, output = cli("compare", str(inside), "--out", str(tmp_path / "other"))
    assert code == 0 and "runs/" not in output.splitlines()[-1], output


def test_figures_and_tables_never_replace_what_censim_did_not_write(
    tmp_path: Path, small: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session 16 audit: ``sweep-plot --out`` and ``facts --out`` overwrote a user's
    file, and figures were written through a symlink onto its target. Now a file the user
    names must be new, and a symlink where censim writes is refused and left alone."""
    from simulator import plots
    from simulator.experiments import facts as facts_module

    mine = tmp_path / "thesis.png"
    mine.write_bytes(b"three years of work")
    store = tmp_path / "sweep"
    code, output = cli("sweep", *TINY, "--workers", "0", "--vary",
                       "rules.takedown.vagueness=0,1", "--out", str(store))  # fmt: skip
    assert code == 0, output
    code, output = cli("sweep-plot", str(store), "--x", "rules.takedown.vagueness",
                       "--out", str(mine))  # fmt: skip
    assert code == 3 and "--out" in output and "exists" in output, output
    # facts refuses before any run: the runs would fail the test's patience otherwise.
    monkeypatch.setattr(facts_module, "check_facts", lambda **kwargs: pytest.fail("ran"))
    table = tmp_path / "facts.csv"
    table.write_text("my table")
    code, output = cli("facts", "--reps", "2", "--out", str(table))
    assert code == 3 and "exists" in output, output
    code, output = cli("facts", "--reps", "2", "--out", str(tmp_path / "nowhere" / "f.csv"))
    assert code == 3 and "does not exist" in output, output
    assert table.read_text() == "my table" and mine.read_bytes() == b"three years of work"
    # A symlink in a figures folder censim wrote: refused, its target untouched.
    monkeypatch.setattr(plots.writing, "RUN_FIGURES", {"funnel": plots.funnel})
    run = tmp_path / "run"
    small.write(run)
    assert cli("plot", str(run))[0] == 0
    (run / "figures" / "funnel.png").unlink()
    (run / "figures" / "funnel.png").symlink_to(mine)
    code, output = cli("plot", str(run))
    assert code == 3 and "symlink" in output, output
    assert mine.read_bytes() == b"three years of work"
    assert (run / "figures" / "funnel.png").is_symlink()
    # A dangling symlink named as a new file is not replaced either.
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "gone.csv")
    code, output = cli("groups", "classroom", "--csv", str(dangling))
    assert code == 3 and "symlink" in output and dangling.is_symlink(), output


def test_a_scheduler_that_cannot_be_reached_clears_nothing(tmp_path: Path) -> None:
    """``sweep --force --scheduler foo`` deleted the old store's runs and then failed
    to connect (a session 16 audit): the scheduler is reached first."""
    store = tmp_path / "sweep"
    vary = ["--workers", "0", "--vary", "rules.takedown.vagueness=0,1", "--out", str(store)]
    assert cli("sweep", *TINY, *vary)[0] == 0
    before = snapshot(store)
    other = ["--vary", "rules.takedown.vagueness=0,0.5", "--out", str(store)]
    code, output = cli("sweep", *TINY, *other, "--force", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "--scheduler" in output, output
    assert snapshot(store) == before
    fresh = tmp_path / "fresh"
    code, output = cli("sweep", *TINY, "--scheduler", "tcp://127.0.0.1:9", "--vary",
                       "rules.takedown.vagueness=0,1", "--out", str(fresh))  # fmt: skip
    assert code == 2 and not fresh.exists(), output


# -- item 7: a full disk during compare -----------------------------------------------------


@pytest.mark.parametrize("where", ["csv", "figure"])
def test_compare_on_a_full_disk_is_an_output_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """ENOSPC while writing compare's files: exit 3, one line, no folder, no leftovers; with
    --force over an old comparison, the old one unchanged. (It exited 70.)"""
    out = tmp_path / "cmp"
    assert cli("compare", *TINY, "--reps", "1", "--out", str(out))[0] == 0
    before = snapshot(out)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "csv":
        monkeypatch.setattr("simulator.output.results.write_csv", full)
    else:
        monkeypatch.setattr("simulator.plots.save", full)
    for target, force in ((tmp_path / "new", []), (out, ["--force"])):
        code, output = cli("compare", *TINY, "--reps", "1", "--out", str(target), *force)
        assert code == 3 and "No space left on device" in output, output
        assert output.count("\n") == 1 and "Traceback" not in output
    assert not (tmp_path / "new").exists() and snapshot(out) == before
    assert staging_leftovers(tmp_path) == []


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_compare_on_a_real_full_disk(tmp_path: Path) -> None:
    """The same on a 64 kB tmpfs (skipped where mounting is not allowed). ``--yes``: the
    disk estimate would refuse this comparison up front (exit 4); the test is of the
    disk filling while the files are written."""
    with small_tmpfs(tmp_path / "disk", "64k") as disk:
        (disk / "keep.txt").write_text("mine")
        code, output = cli("compare", *TINY, "--reps", "2", "--yes", "--out", str(disk / "cmp"))
        assert code == 3 and "No space left on device" in output, output
        assert sorted(p.name for p in disk.iterdir()) == ["keep.txt"]


# -- item 8: interrupts -----------------------------------------------------------------------


#: What Python prints when interrupted while starting its interpreter (importing site),
#: before any of censim's code can run: the one window censim cannot cover.
INTERPRETER_START = "init_import_site"


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``censim ARGS`` in its own process group, its standard error piped."""
    cwd.mkdir(exist_ok=True)
    return subprocess.Popen(
        [CENSIM, *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _interrupted_output(process: subprocess.Popen[str], signals: int = 1) -> tuple[int, str]:
    """Send SIGINT to the process group (as Ctrl-C does) ``signals`` times; return the exit
    code and standard error."""
    assert process.poll() is None, "finished before it could be interrupted"
    for _ in range(signals):
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.05)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def _assert_one_line(code: int, err: str, quiet: bool, case: int = 0) -> None:
    assert code == 130 and "Traceback" not in err, (case, code, err)
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert lines[-1] == INTERRUPTED_MESSAGE, err
    if quiet:
        assert lines == [INTERRUPTED_MESSAGE], err


LONG_RUN = ["run", "classroom", "--users", "3000", "--days", "600", "--out", "r"]  # seconds long
LONG_SWEEP = [
    "sweep", "classroom", "--users", "1500", "--days", "60", "--reps", "4",
    "--workers", "1", "--out", "s",
]  # fmt: skip


def test_an_early_interrupt_exits_130_with_one_line(tmp_path: Path) -> None:
    """Ctrl-C while censim starts (importing numpy, numba, pandas; parsing its arguments)
    printed a KeyboardInterrupt traceback of 8-52 lines."""
    for number, (args, delay) in enumerate(
        [(LONG_RUN, 0.15), (LONG_RUN, 0.4), (LONG_RUN, 1.0), (LONG_SWEEP, 0.4)]
    ):
        for attempt in range(3):
            process = _start([*args, "--quiet"], tmp_path / f"p{number}")
            time.sleep(delay * (attempt + 1))
            code, err = _interrupted_output(process)
            if INTERPRETER_START not in err:  # else: too early for any program; later
                break
        _assert_one_line(code, err, quiet=True)
        assert list((tmp_path / f"p{number}").iterdir()) == [], number


def test_an_interrupt_mid_run_exits_130_with_one_line(tmp_path: Path) -> None:
    """Ctrl-C once the run or the sweep has begun (its progress bar shows), once or twice
    in a row: exit 130 with the one line, no run folder and no staging folder left.
    (Sometimes exit 70, "internal error: SystemError: CPUDispatcher(...)".)"""
    plans = [(LONG_RUN, 1), (LONG_RUN, 2), (LONG_SWEEP, 1)]
    started = [_start(args, tmp_path / f"p{n}") for n, (args, _) in enumerate(plans)]
    for number, (process, (_, signals)) in enumerate(zip(started, plans, strict=True)):
        assert process.stderr is not None
        assert process.stderr.read(1)  # the progress bar's first character
        time.sleep(0.3)
        code, err = _interrupted_output(process, signals)
        _assert_one_line(code, err, quiet=False, case=number)
        folder = tmp_path / f"p{number}"
        left = sorted(p.name for p in folder.iterdir())
        assert left == ([] if number < 2 else ["s"]), left
    # The sweep keeps what it had: a censim store, resumable.
    assert output_folders.folder_kind(tmp_path / "p2" / "s") == "sweep"


def test_an_interrupt_inside_compiled_code_is_an_interrupt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """numba's dispatcher reports a KeyboardInterrupt as ``SystemError: CPUDispatcher(...)
    returned a result with an exception set``, caused by it: exit 130, not 70."""

    def interrupted(*args: object, **kwargs: object) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as error:
            raise SystemError("CPUDispatcher(<function book_review>) returned a result") from error

    monkeypatch.setattr("simulator.engine.pairing.run", interrupted)
    code, output = cli("run", *TINY, "--out", "never")
    assert code == 130 and output == INTERRUPTED_MESSAGE + "\n"
    assert not Path("never").exists()


SWALLOWED_INTERRUPT = """
import ctypes, os, signal, sys
from simulator import interrupts
interrupts.install()

@ctypes.CFUNCTYPE(None)
def callback():  # the interrupt arrives while Python code runs inside a C callback
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(100_000):
        pass

with interrupts.interrupts_raise():
    try:
        callback()
        for _ in range(1_000_000):
            pass
        print("not interrupted")
    except KeyboardInterrupt:
        interrupts.announce_interrupted()
        sys.exit(interrupts.EXIT_INTERRUPTED)
"""


def test_an_interrupt_inside_a_ctypes_callback_still_interrupts() -> None:
    """Ctrl-C while llvmlite loaded a cached kernel landed in a ctypes callback: Python
    printed "Exception ignored on calling ctypes callback" with a traceback, dropped the
    interrupt and the run went on. It is delivered again, outside the callback."""
    done = subprocess.run(
        [sys.executable, "-c", SWALLOWED_INTERRUPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 130, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr == INTERRUPTED_MESSAGE + "\n", done.stderr


BETWEEN_STEPS = """
import os, signal, sys
from simulator import interrupts
interrupts.install()
steps = []
with interrupts.interrupts_raise():
    try:
        with interrupts.interrupts_between_steps():
            for step in range(5):
                interrupts.check_interrupt()
                steps.append(step)
                if step == 1:
                    os.kill(os.getpid(), signal.SIGINT)  # mid-step: held to the next step
                    for _ in range(200_000):
                        pass
                    steps.append("rest of step 1")
    except KeyboardInterrupt:
        print(steps)
        sys.exit(interrupts.EXIT_INTERRUPTED)
print("not interrupted", steps)
"""


def test_an_interrupt_in_a_run_lands_at_the_next_step() -> None:
    """Within a run's day loop the first Ctrl-C is raised at the next day's start, not
    inside whatever runs (numba's dispatcher boxing a kernel's result: exit 70, and a
    segmentation fault once in session 20's CI): the step under way ends, no other
    begins. Fails if the handler raises at once (steps [0, 1] without the rest)."""
    done = subprocess.run(
        [sys.executable, "-c", BETWEEN_STEPS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 130, (done.returncode, done.stdout, done.stderr)
    assert done.stdout.strip() == "[0, 1, 'rest of step 1']", done.stdout


# -- smaller: terminal escapes in file names -------------------------------------------------


def test_paths_in_messages_are_printed_with_escapes(tmp_path: Path) -> None:
    name = "a\x1b[31mred\x07\nb"
    folder = tmp_path / name
    user_folder(folder)
    code, output = cli("run", *TINY, "--out", str(folder))
    assert code == 3 and "a\\x1b[31mred\\x07\\nb" in output
    assert "\x1b" not in output and "\x07" not in output and output.count("\n") == 1
    code, output = cli("validate", str(tmp_path / "no\x1b]0;x\x07.toml"))
    assert code == 2 and "\x1b" not in output and "no\\x1b]0;x\\x07.toml" in output
    assert output_folders.shown(Path("plain/é")) == "plain/é"
    assert output_folders.printable("two\nlines\t") == "two\nlines\\t"


@pytest.mark.slow
def test_many_interrupts_at_random_moments(tmp_path: Path) -> None:
    """40 runs, each interrupted at a uniformly random moment of its life (start-up, run,
    write): every one exits 130 with the one line (2 in 40 exited 70 with a SystemError),
    and leaves either nothing or a whole run folder."""
    import random

    rng = random.Random(14)
    started = time.monotonic()
    timing = _start(["run", "classroom", "--users", "2000", "--days", "30", "--quiet"], tmp_path)
    timing.wait(timeout=300)
    full = time.monotonic() - started
    for trial in range(40):
        cwd = tmp_path / f"t{trial}"
        args = ["run", "classroom", "--users", "2000", "--days", "30", "--quiet", "--out", "r"]
        process = _start(args, cwd)
        time.sleep(rng.uniform(0.3, 0.9 * full))
        if process.poll() is not None:  # finished first: nothing to interrupt
            continue
        code, err = _interrupted_output(process, signals=1)
        if INTERPRETER_START in err:
            continue
        if code == 0:  # the interrupt came after the command had finished
            assert Results.read(cwd / "r")
            continue
        _assert_one_line(code, err, quiet=True, case=trial)
        left = sorted(p.name for p in cwd.iterdir())
        assert left in ([], ["r"]), left


def test_a_design_output_is_recorded_and_written_under_the_stores_lock(tmp_path: Path) -> None:
    """A design's figure is recorded in design.json and written under the store's lock,
    held until the figure is written, as a sweep holds it: while another censim command
    writes the store it is refused, naming the store, nothing changed; while it is
    written no other command can take the store; and if another design's --force
    replaced the store's results after this design's sweep finished, it is refused,
    nothing written (the review of session 17: recorded and then written unlocked, the
    other design's design.json could carry this design's figure)."""
    from simulator.errors import OutputError
    from simulator.experiments.store import lock_store, writing_outputs

    out = tmp_path / "store"
    first = grid_design({"x1": [0.0], "x2": [0.5], "x3": [2.0]}, source="test")
    results = sweep(None, first, reps=1, model=Ishigami(), workers=0, out=out)
    before = (out / "design.json").read_text()
    held = lock_store(out)
    assert held is not None
    try:
        busy = pytest.raises(OutputError, match="another censim command .* is writing here")
        with busy, writing_outputs(out, ["sweep.png"], results.manifest):
            (out / "sweep.png").write_text("figure")
        assert (out / "design.json").read_text() == before
        assert not (out / "sweep.png").exists()
    finally:
        held.close()
    with writing_outputs(out, ["sweep.png"], results.manifest):
        with pytest.raises(OutputError, match="is writing here"):
            lock_store(out)  # held while the figure is written
        (out / "sweep.png").write_text("figure")
    assert json.loads((out / "design.json").read_text())["outputs"] == ["sweep.png"]

    second = grid_design({"x1": [1.0], "x2": [0.5], "x3": [2.0]}, source="test")
    sweep(None, second, reps=1, model=Ishigami(), workers=0, out=out, force=True)
    assert not (out / "sweep.png").exists()  # the first design's figure went with it
    replaced = (out / "design.json").read_text()
    replaced_meanwhile = pytest.raises(OutputError, match="now holds another design's results")
    with replaced_meanwhile, writing_outputs(out, ["sweep.png"], results.manifest):
        (out / "sweep.png").write_text("the first design's figure")
    assert not (out / "sweep.png").exists()
    assert (out / "design.json").read_text() == replaced


def test_a_design_output_of_results_extended_meanwhile_is_refused(tmp_path: Path) -> None:
    """The design hash leaves ``reps`` out (a rerun with more replications extends the
    store), so a figure drawn from the results read before such a rerun finished would
    be of fewer replications than the store holds: refused, nothing written (referee
    L2 of session 17); with the manifest read after the rerun it is written."""
    from simulator.errors import OutputError
    from simulator.experiments.store import writing_outputs

    out = tmp_path / "store"
    design = grid_design({"x1": [0.0], "x2": [0.5], "x3": [2.0]}, source="test")
    one = sweep(None, design, reps=1, model=Ishigami(), workers=0, out=out)
    two = sweep(None, design, reps=2, model=Ishigami(), workers=0, out=out)
    before = (out / "design.json").read_text()
    extended = pytest.raises(OutputError, match="extended to 2 replications")
    with extended, writing_outputs(out, ["sweep.png"], one.manifest):
        (out / "sweep.png").write_text("a figure of one replication")
    assert not (out / "sweep.png").exists()
    assert (out / "design.json").read_text() == before
    with writing_outputs(out, ["sweep.png"], two.manifest):
        (out / "sweep.png").write_text("a figure of two")
    assert json.loads((out / "design.json").read_text())["outputs"] == ["sweep.png"]


def test_a_manifest_too_large_to_be_censims_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telling a folder's kind reads its manifest, and check_not_inside reads every
    ancestor's of an --out: a file of a manifest's name larger than any censim writes (a
    sparse 300 MB file here) is not read at all, nor a FIFO, and the folder is not
    censim's (the review of session 17: read whole, however large)."""
    import os

    from simulator.output.folder_checks import MAX_MANIFEST_BYTES, folder_kind, read_json

    run = tmp_path / "run"
    code, output = cli("run", "classroom", "--days", "1", "--users", "40", "--out", str(run))
    assert code == 0, output
    assert folder_kind(run) == "run"
    manifest = run / "manifest.json"
    size = manifest.stat().st_size
    with manifest.open("r+b") as handle:
        handle.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: no disk used
    assert read_json(manifest) is None and folder_kind(run) is None
    with manifest.open("r+b") as handle:
        handle.truncate(size)
    assert folder_kind(run) == "run"
    # Valid JSON over the limit (padded with spaces): censim's by its content, refused
    # by its size.
    from simulator.output import folder_checks

    manifest.write_text(manifest.read_text() + " " * 100)
    assert folder_kind(run) == "run"
    monkeypatch.setattr(folder_checks, "MAX_MANIFEST_BYTES", size + 50)
    assert folder_kind(run) is None
    monkeypatch.undo()
    fifo = tmp_path / "fifo" / "manifest.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    assert read_json(fifo) is None  # returns at once: never blocks on the FIFO


def test_the_design_outputs_are_written_while_the_store_is_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sweep.png, frontier.csv and frontier.png are each written inside the store's lock
    (the review of session 18: moving a write out of its block passed every test)."""
    import simulator.experiments.frontier as frontier_module
    import simulator.plots.writing
    from simulator.errors import OutputError
    from simulator.experiments.store import lock_store

    written: list[str] = []
    real_save, real_text = simulator.plots.writing.save, frontier_module.atomic_text

    def locked(path: Path) -> None:
        with pytest.raises(OutputError, match="is writing here"):
            lock_store(path.parent)
        written.append(path.name)

    def save(figure: object, path: Path) -> None:
        locked(Path(path))
        real_save(figure, path)

    def text(path: Path, content: str) -> None:
        locked(Path(path))
        real_text(path, content)

    monkeypatch.setattr(simulator.plots.writing, "save", save)
    monkeypatch.setattr(frontier_module, "atomic_text", text)
    code, output = cli(
        *SWEEP, "--vary", "rules.takedown.vagueness=0,1", "--out", str(tmp_path / "s")
    )
    assert code == 0, output
    frontier = ["frontier", "classroom", "--deadline-hours", "1,24", "--reviewers", "1"]
    frontier += ["--reps", "1", "--users", "40", "--days", "1", "--workers", "0", "--quiet"]
    code, output = cli(*frontier, "--out", str(tmp_path / "f"))
    assert code == 0, output
    assert written == ["sweep.png", "frontier.csv", "frontier.png"]
