"""The review backlog's memory: traced peak per user of a rules run of the benchmark's
world (``run_benchmarks.world``: staff fixed at the shipped rate, so the review lines
grow all year), on this tree and, to compare in the same run, on other trees.

    python benchmarks/bench_backlog_memory.py 100000 365
    python benchmarks/bench_backlog_memory.py 100000 365 --tree /path/to/other/checkout

Each tree's run is a fresh process under ``tracemalloc`` (the trees one after another,
each with its own package on ``sys.path``; a tree's compiled kernels are loaded from its
own numba cache, compiled first if empty, so run each tree once before). Printed per
tree: wall seconds (tracemalloc slows allocations), traced peak and end in bytes per
user, the post store's rows held, live (needed by a queue item, an order, a duty or an
audit) and its capacity, each review line's waiting items and capacity, and a sha256 of
the run's counts: equal fingerprints are the same run. The ratio of the traced peaks
is against the first tree. docs/performance.md, "The backlog's memory".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TRACED = """
import hashlib, json, sys, time, tracemalloc
sys.path.insert(0, {root!r})
import numpy as np
from simulator.engine.simulation import Simulation
from benchmarks.run_benchmarks import world
users, days = {users}, {days}
scenario = world(users, days, staffing="fixed")
tracemalloc.start()
sim = Simulation(scenario, 1)
sim.users.network  # drawn on first use: count it
started = time.perf_counter()
recorder = sim.run()
wall = time.perf_counter() - started
current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
marked = np.zeros(sim.posts.size, dtype=bool)
for holder in sim.posts.holders:
    for ids in holder.live_post_ids(days):
        marked[ids] = True
print(json.dumps({{
    "wall": wall, "peak": peak, "current": current,
    "counts": hashlib.sha256(recorder.counts.tobytes()).hexdigest()[:16],
    "made": sim.posts.appended, "held": sim.posts.size, "live": int(marked.sum()),
    "capacity": sim.posts._capacity,
    "lines": [(p.queue.waiting, len(p.queue.wait_item)) for p in sim.platforms],
}}))
"""


def traced(tree: Path, users: int, days: int) -> dict[str, Any]:
    """The traced run on ``tree``, in a fresh process (output through a file)."""
    code = TRACED.format(root=str(tree), users=users, days=days)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryFile("w+") as out:
        subprocess.run([sys.executable, "-c", code], stdout=out, check=True, cwd=tree, env=env)
        out.seek(0)
        return dict(json.loads(out.read().strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users", type=int, nargs="?", default=100_000)
    parser.add_argument("days", type=int, nargs="?", default=365)
    parser.add_argument(
        "--tree", type=Path, action="append", default=[], help="another checkout to compare"
    )
    args = parser.parse_args()
    users = args.users
    print(f"backlog memory: benchmark world, {users:,} users x {args.days} days, rules run")
    first = None
    for tree in (ROOT, *args.tree):
        r = traced(tree.resolve(), users, args.days)
        first = first or r
        lines = ", ".join(f"{w:,} waiting in {c:,}" for w, c in r["lines"])
        print(
            f"  {tree}\n"
            f"    wall {r['wall']:.1f} s  traced peak {r['peak'] / users:,.0f} B/user "
            f"(x{r['peak'] / first['peak']:.3f} of the first tree), at the end "
            f"{r['current'] / users:,.0f} B/user  counts {r['counts']}\n"
            f"    post records made {r['made']:,}, held {r['held']:,} (live {r['live']:,}) "
            f"in a capacity of {r['capacity']:,}; lines: {lines}"
        )


if __name__ == "__main__":
    main()
