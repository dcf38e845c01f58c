"""Sweeps give byte-identical stores whatever runs them (a real Dask cluster on loopback,
1 or 2 local worker processes), and a sweep killed with SIGKILL resumes to the same store
with every run exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sweep_helpers import CLI, SMALL_SWEEP, dask_cluster, stop, store_files

from simulator.cli.main import main


def invoke(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    output = result.output + (result.stderr if result.stderr_bytes else "")
    assert result.exit_code == 0, output
    return output


def test_dask_cluster_and_local_workers_give_identical_stores(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="needs the `cluster` extra")
    local1, local2, cluster = tmp_path / "local1", tmp_path / "local2", tmp_path / "cluster"
    invoke(*SMALL_SWEEP, "--workers", "1", "--quiet", "--out", str(local1))
    invoke(*SMALL_SWEEP, "--workers", "2", "--quiet", "--out", str(local2))
    with dask_cluster(tmp_path / "dask") as address:
        output = invoke(*SMALL_SWEEP, "--scheduler", address, "--out", str(cluster))
        assert "4 runs, 4 run now, 0 reused" in output
        assert f"Dask cluster at {address}" in output  # the progress bar names the executor
        # The environment variable works the same way (and the runs are all reused).
        again = invoke(*SMALL_SWEEP, "--out", str(cluster), env={"CENSIM_SCHEDULER": address})
        assert "0 run now, 4 reused" in again
    reference = store_files(local1)
    assert {"design.json", "summary.csv", "long.csv"} <= set(reference)
    assert len([name for name in reference if name.startswith("runs/")]) == 4
    assert store_files(local2) == reference
    assert store_files(cluster) == reference
    summary = (local1 / "summary.csv").read_text().splitlines()
    assert len(summary) == 3  # header + 2 points
    assert summary[0].startswith("point,rules.takedown.vagueness,reps,speech_loss_mean,")
    # Vaguer rules chill more: the two points really differ (the runs are not all alike).
    manifest = json.loads((local1 / "design.json").read_text())
    assert manifest["replication_seeds"][0] != manifest["replication_seeds"][1]
    chilling = [float(line.split(",")[6]) for line in summary[1:]]
    assert chilling[1] > chilling[0]


def test_killed_sweep_resumes_without_losing_or_repeating_runs(tmp_path: Path) -> None:
    args = [
        *SMALL_SWEEP[:3], "rules.takedown.vagueness=0,0.3,0.6",
        *SMALL_SWEEP[4:], "--reps", "3", "--workers", "1",
    ]  # fmt: skip
    total = 9
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [*CLI, *args, "--quiet", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    runs = out / "runs"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if runs.is_dir() and len(list(runs.glob("p*.json"))) >= 2:
                break
            time.sleep(0.01)
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        stop(process)  # the pool's worker processes too
    done_before = len(list(runs.glob("p*.json")))
    assert 2 <= done_before < total
    assert not (out / "summary.csv").exists()

    output = invoke(*args, "--out", str(out))
    found = re.search(r"(\d+) runs, (\d+) run now, (\d+) reused", output)
    assert found, output
    assert [int(g) for g in found.groups()] == [total, total - done_before, done_before]
    names = sorted(path.name for path in runs.iterdir())
    assert names == [f"p{p:04d}-r{r:03d}.json" for p in range(3) for r in range(3)]
    assert not list(out.rglob("*.tmp"))

    fresh = tmp_path / "fresh"
    invoke(*args, "--quiet", "--out", str(fresh))
    assert store_files(out) == store_files(fresh)
