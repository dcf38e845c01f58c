"""Sweep throughput with 1 and 2 local worker processes, and their ratio.

Runs the same sweep of the full ``classroom`` scenario (4 vagueness levels x 6
replications = 24 paired runs) through a pool of 1 worker and a pool of 2 workers. Each
pool is started and warmed up (every worker has imported the model and done a tiny run)
before the clock starts, so the figures are the steady-state throughput a long sweep
sees, not process start-up. Each task is one (point, replication).

    python benchmarks/bench_sweep.py            # prints runs/second and the ratio
    python benchmarks/bench_sweep.py --reps 3 --rounds 1   # a quicker, noisier look

The target on a 2-core machine is a ratio of at least 1.8. Other load on the machine
lowers it: "workers busy on CPU" (the workers' CPU seconds over the wall time) and the
load average printed alongside show whether the workers got the cores. Linux's
autogroup scheduling shares CPU between sessions, not processes, so while other sessions
are busy a sweep's workers together get only their session's share whatever their
number: measure on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import simulator
from simulator.experiments import LocalExecutor, grid_design, sweep

VAGUENESS = [0.0, 0.25, 0.5, 0.75]


def _warm_up(pool: LocalExecutor, folder: Path) -> None:
    """A few tiny runs, so every worker has imported everything and run the model once."""
    tiny = simulator.override(
        simulator.load_scenario("classroom"), {"horizon_days": 2, "population.users": 50}
    )
    design = grid_design({"rules.takedown.vagueness": [0.0, 0.5]}, source="warm-up")
    sweep(tiny, design, reps=2 * pool.workers, executor=pool, out=folder / "warm")


def _workers_cpu(pool: LocalExecutor) -> float:
    """CPU seconds the pool's worker processes have used so far (user + system)."""
    import psutil  # a dependency of dask.distributed (the `dev` and `cluster` extras)

    total = 0.0
    for pid in list(pool.pool._processes):  # private, but this is only a benchmark
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def measure(workers: int, reps: int, users: int) -> tuple[int, float, float, float, float, float]:
    """(runs, wall seconds, runs per second, busy workers, worker CPU seconds per run,
    this process's CPU seconds) of the benchmark sweep on ``workers``; busy workers =
    workers' CPU seconds / wall seconds (at most ``workers``)."""
    scenario = simulator.override(simulator.load_scenario("classroom"), {"population.users": users})
    design = grid_design({"rules.takedown.vagueness": VAGUENESS}, source="benchmark")
    pool = LocalExecutor(workers)
    with tempfile.TemporaryDirectory() as tmp, pool:
        folder = Path(tmp)
        _warm_up(pool, folder)
        cpu_before = _workers_cpu(pool)
        own_before = time.process_time()
        started = time.perf_counter()
        result = sweep(scenario, design, reps=reps, seed=5, executor=pool, out=folder / "sweep")
        seconds = time.perf_counter() - started
        worker_cpu = _workers_cpu(pool) - cpu_before
        coordinator = time.process_time() - own_before
    runs = result.ran
    assert runs == len(VAGUENESS) * reps
    return runs, seconds, runs / seconds, worker_cpu / seconds, worker_cpu / runs, coordinator


def _autogroup() -> str:
    try:
        enabled = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return "(unknown here)"
    return "(on here)" if enabled else "(off here)"


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=6, help="replications per point (default 6)")
    # Runs of a few seconds each: a sweep's runs are rarely shorter, and the parent
    # process's share (store writes, progress) then stays small beside the workers'.
    parser.add_argument("--users", type=int, default=10_000, help="users per run (default 10000)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating 1- and 2-worker rounds (default 3)"
    )
    args = parser.parse_args()
    print(
        f"sweep: classroom at {args.users:,} users, {len(VAGUENESS)} points x {args.reps}"
        " replications, paired runs"
    )
    # The same configuration measured twice in a row here can differ by 20% (the
    # machine's other tenants): alternate 1 and 2 workers for several rounds and compare
    # medians, so a slow spell does not land on one side only.
    rates: dict[int, list[float]] = {1: [], 2: []}
    busy_two: list[float] = []
    for round_number in range(1, args.rounds + 1):
        for workers in (1, 2):
            load = os.getloadavg()[0]
            runs, seconds, rate, busy, per_run, coordinator = measure(
                workers, args.reps, args.users
            )
            rates[workers].append(rate)
            if workers == 2:
                busy_two.append(busy)
            print(
                f"  round {round_number}, {workers} worker{'s' if workers > 1 else ' '}:"
                f" {runs} runs in {seconds:6.2f} s = {rate:5.2f} runs/s  (workers busy on CPU:"
                f" {busy:.2f} of {workers}, {per_run:.3f} CPU s per run; this process"
                f" {coordinator:.2f} CPU s; load average before: {load:.1f})"
            )
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    ratio = two / one
    print(
        f"  median runs/s: 1 worker {one:.2f}, 2 workers {two:.2f}; per round: "
        + ", ".join(f"{b / a:.2f}" for a, b in zip(rates[1], rates[2], strict=True))
    )
    print(f"  ratio 2 workers / 1 worker (medians): {ratio:.2f}  (target >= 1.8 on 2 cores)")
    if statistics.median(busy_two) < 1.8:
        print(
            f"  note: the 2 workers got {statistics.median(busy_two):.2f} CPUs, not 2: the"
            f" machine is busy. With autogroup scheduling {_autogroup()} the kernel shares"
            " CPU between sessions, so all workers of one sweep share one session's part;"
            " run on an idle machine."
        )
    return {"runs_per_s_1": one, "runs_per_s_2": two, "ratio": ratio}


if __name__ == "__main__":
    main()
