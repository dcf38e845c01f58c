"""Helpers for the sweep tests that start processes: the CLI in a subprocess, a Dask
cluster on loopback, and byte comparison of stores."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

#: A small sweep of the classroom scenario: 2 points x 2 replications, ~0.2 s per run.
SMALL_SWEEP = [
    "sweep",
    "classroom",
    "--vary",
    "rules.takedown.vagueness=0,0.6",
    "--days",
    "15",
    "--users",
    "400",
    "--reps",
    "2",
    "--seed",
    "11",
]

CLI = [sys.executable, "-c", "from simulator.cli.main import main; main()"]


def store_files(out: Path) -> dict[str, bytes]:
    """Every result file of a store (not the lock), by relative path."""
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """End a process group we started: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    # Children (pool workers, a nanny's worker) may outlive the leader: end the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int = 2, timeout: float = 90.0) -> Iterator[str]:
    """A Dask scheduler and ``workers`` single-threaded workers as separate processes,
    listening on 127.0.0.1 only. Yields the scheduler address; stops them all on exit."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []
    logs = []

    def start(args: list[str], name: str) -> None:
        log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed in finally
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=folder,
            )
        )

    try:
        start(
            [
                "scheduler",
                "--host", "127.0.0.1",
                "--port", "0",
                "--no-dashboard",
                "--dashboard-address", "127.0.0.1:0",
                "--scheduler-file", str(scheduler_file),
            ],
            "scheduler",
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or processes[0].poll() is not None:
                raise RuntimeError(
                    "dask scheduler did not start:\n" + (folder / "scheduler.log").read_text()
                )
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:"), address
        for i in range(workers):
            start(
                [
                    "worker", address,
                    "--nworkers", "1",
                    "--nthreads", "1",
                    "--host", "127.0.0.1",
                    "--no-dashboard",
                    "--dashboard-address", "127.0.0.1:0",
                    "--local-directory", str(folder / f"worker{i}"),
                ],
                f"worker{i}",
            )  # fmt: skip
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=timeout)
        yield address
    finally:
        for process in reversed(processes):
            stop(process)
        for log in logs:
            log.close()
