"""Determinism: the same scenario and seed give byte-identical files across repeated runs,
fresh processes (with different hash seeds) and sweep worker counts; another seed gives
other files (docs/reliability.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import simulator
from simulator.experiments import sweep
from simulator.output.results import DETERMINISTIC_FILES

CENSIM = str(Path(sys.executable).with_name("censim"))
SHIPPED = sorted(simulator.shipped_scenarios())


def small(name: str, users: int = 300, days: int = 5) -> simulator.Scenario:
    return simulator.override(
        simulator.load_scenario(name), {"population.users": users, "horizon_days": days}
    )


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in DETERMINISTIC_FILES}


@pytest.mark.parametrize("name", SHIPPED)
def test_repeated_runs_in_one_process_are_byte_identical(name: str, tmp_path: Path) -> None:
    scenario = small(name)
    first = file_bytes(simulator.run(scenario, seed=5).write(tmp_path / "a"))
    # A run with another seed in between must leave no state behind.
    other = file_bytes(simulator.run(scenario, seed=6).write(tmp_path / "b"))
    again = file_bytes(simulator.run(scenario, seed=5).write(tmp_path / "c"))
    assert first == again
    differing = {n for n in DETERMINISTIC_FILES if first[n] != other[n]}
    assert {"daily.csv", "counterfactual_daily.csv", "summary.json"} <= differing, differing


def test_fresh_processes_are_byte_identical(tmp_path: Path) -> None:
    """Two `censim run` processes with different hash seeds (set and dict iteration orders
    of strings differ between them) and this process write the same bytes."""
    args = ["run", "classroom", "--users", "300", "--days", "5", "--seed", "9", "--quiet"]
    folders, processes = [], []
    for hash_seed in ("1", "2"):  # both at once: most of their time is importing
        out = tmp_path / f"fresh{hash_seed}"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        processes.append(
            subprocess.Popen(
                [CENSIM, *args, "--out", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
        folders.append(out)
    for process in processes:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors
    here = simulator.run(small("classroom"), seed=9).write(tmp_path / "here")
    assert file_bytes(folders[0]) == file_bytes(folders[1]) == file_bytes(here)


def _sweep_bytes(out: Path) -> dict[str, bytes]:
    files = [out / "long.csv", out / "summary.csv", *sorted((out / "runs").glob("*.json"))]
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def test_sweeps_are_byte_identical_across_worker_counts(tmp_path: Path) -> None:
    """In this process and in two worker processes: the same store, byte for byte, and
    each run the same as a single `simulator.run` with its replication seed."""
    _compare_worker_counts(tmp_path, (0, 2))


@pytest.mark.slow
def test_sweeps_are_byte_identical_across_more_worker_counts(tmp_path: Path) -> None:
    _compare_worker_counts(tmp_path, (0, 1, 2, 3, 5))


def _compare_worker_counts(tmp_path: Path, worker_counts: tuple[int, ...]) -> None:
    scenario = small("classroom", users=200, days=4)
    design = {"rules.takedown.vagueness": [0.0, 0.8]}
    stores = {}
    for workers in worker_counts:
        out = tmp_path / f"w{workers}"
        sweep(scenario, design, reps=2, seed=21, workers=workers, out=out)
        stores[workers] = _sweep_bytes(out)
    assert len(stores[0]) == 2 + 4
    for workers in worker_counts:
        assert stores[workers] == stores[0], workers
    # The store's numbers are those of a plain run with the same seed.
    record = json.loads(stores[worker_counts[-1]]["runs/p0001-r001.json"])
    point = simulator.override(scenario, {"rules.takedown.vagueness": 0.8})
    summary = simulator.run(point, seed=record["seed"]).summary
    assert record["metrics"]["intended"] == summary["intended"]
    assert record["metrics"]["speech_loss"] == pytest.approx(summary["speech_loss"], abs=0)
    # Another sweep seed: other numbers.
    sweep(scenario, design, reps=2, seed=22, workers=0, out=tmp_path / "other")
    other = _sweep_bytes(tmp_path / "other")
    assert other["long.csv"] != stores[0]["long.csv"]
