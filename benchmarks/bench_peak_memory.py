"""Where the traced peak of a rules run is: the benchmark's shipped world
(``run_benchmarks.world``, platforms choose their staff; what section 3 of
``run_benchmarks.py`` measures over the year) under ``tracemalloc``, with the day's main
steps wrapped so that each step's own peak is known.

    python benchmarks/bench_peak_memory.py 1000000 30
    python benchmarks/bench_peak_memory.py 1000000 30 --tree /path/to/other/checkout
    python benchmarks/bench_peak_memory.py 1000000 30 --snapshot review.run

Each tree's run is a fresh process (trees one after another, each with its own package
on ``sys.path``). Printed per tree: the traced peak over the run in bytes per user (what
``run_benchmarks.py`` reports; at a million users the year's peak is reached in the
first month's review backlog, so a 30-day run shows it), the day it was reached, the
bytes held at the end, the post store's rows and capacity and the review lines' waiting
items and capacity at the peak day, and a sha256 of the run's counts (equal: the same
run). Then, for the peak day, each wrapped step's traced bytes at entry and its peak
inside (nested steps count in their callers). ``--snapshot STEP``: the largest
allocation sites held at the entry of STEP on the peak day (a second run).
docs/performance.md, "Session 19".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TRACED = r"""
import hashlib, json, sys, time, tracemalloc
sys.path.insert(0, {root!r})
import numpy as np
import simulator.engine.simulation as simulation_module
from simulator.engine.simulation import Simulation
from benchmarks.run_benchmarks import world

users, days, snapshot_step, snapshot_day = {users}, {days}, {snapshot!r}, {snapshot_day}
scenario = world(users, days)
tracemalloc.start()
sim = Simulation(scenario, 1)
sim.users.network  # drawn on first use: count it
setup_current, setup_peak = tracemalloc.get_traced_memory()

state = {{"day": -1, "max": setup_peak, "max_day": -1}}
stack = []  # [name, traced at entry, peak inside]
steps = {{}}  # day -> [(name, entry, peak)]
at_day = {{}}  # day -> (store rows, store capacity, lines)
snapshot_top = []
totals = {{}}  # name -> [calls, seconds, largest rise over entry]

def fold(peak):
    for frame in stack:
        frame[2] = max(frame[2], peak)
    if peak > state["max"]:
        state["max"], state["max_day"] = peak, state["day"]

def wrap(owner, attribute, name):
    inner = getattr(owner, attribute)
    def wrapped(*args, **kwargs):
        current, peak = tracemalloc.get_traced_memory()
        fold(peak)
        tracemalloc.reset_peak()
        if name == snapshot_step and state["day"] == snapshot_day and not snapshot_top:
            snap = tracemalloc.take_snapshot()
            for stat in snap.statistics("lineno")[:25]:
                frame = stat.traceback[0]
                snapshot_top.append((stat.size, stat.count, f"{{frame.filename}}:{{frame.lineno}}"))
            tracemalloc.reset_peak()
            current = tracemalloc.get_traced_memory()[0]
        stack.append([name, current, current])
        began = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent = totals.setdefault(name, [0, 0.0, 0])
            spent[0] += 1
            spent[1] += time.perf_counter() - began
            peak = tracemalloc.get_traced_memory()[1]
            frame = stack.pop()
            frame[2] = max(frame[2], peak)
            spent[2] = max(spent[2], frame[2] - frame[1])
            fold(frame[2])
            tracemalloc.reset_peak()
            steps.setdefault(state["day"], []).append(tuple(frame))
    setattr(owner, attribute, wrapped)

step_day = sim._step_day
def day_step(day):
    state["day"] = day
    step_day(day)
    at_day[day] = (sim.posts.size, sim.posts._capacity,
                   [(p.queue.waiting, len(p.queue.wait_item)) for p in sim.platforms])
sim._step_day = day_step
wrap(sim, "_step_day", "day")
wrap(sim.speech, "routes", "speech.routes")
wrap(sim.speech, "speak", "speech.speak")
wrap(sim.review, "run", "review.run")
wrap(sim.orders, "settle", "orders.settle")
wrap(sim.police, "advance", "police.advance")
wrap(sim, "learn", "learn")
wrap(simulation_module, "end_of_day", "end_of_day")
wrap(sim.posts, "compact", "posts.compact")
wrap(sim.posts, "append", "posts.append")
wrap(sim.speech, "_speech_inputs", "speech._speech_inputs")
wrap(sim.speech, "_speech_drawn_for", "speech._drawn_for")
wrap(sim.speech, "_store_published", "speech._store_published")
import simulator.engine.speech as speech_module
wrap(speech_module.publishing, "publish_days", "publish_days")
wrap(speech_module, "arrival_order", "arrival_order")
wrap(sim.posts, "_reserve", "posts._reserve")
for platform in sim.platforms:
    wrap(platform.queue, "reserve", "queue.reserve")
    wrap(platform.queue, "submit", "queue.submit")

started = time.perf_counter()
recorder = sim.run()
wall = time.perf_counter() - started
current, peak = tracemalloc.get_traced_memory()
fold(peak)
tracemalloc.stop()
day = state["max_day"]
print(json.dumps({{
    "wall": wall, "setup_peak": setup_peak, "peak": state["max"], "peak_day": day,
    "current": current,
    "counts": hashlib.sha256(recorder.counts.tobytes()).hexdigest()[:16],
    "made": sim.posts.appended, "at_peak_day": at_day.get(day),
    "steps": steps.get(day, []), "snapshot": snapshot_top, "totals": totals,
    "days": sorted(
        ((max(f[2] for f in rows), d, max(rows, key=lambda f: (f[2], -len(f[0])))[0])
         for d, rows in steps.items() if d >= 0), reverse=True)[:6],
}}))
"""


def measure(tree: Path, users: int, days: int, snapshot: str, snapshot_day: int) -> dict[str, Any]:
    code = TRACED.format(
        root=str(tree), users=users, days=days, snapshot=snapshot, snapshot_day=snapshot_day
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tree
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("users", type=int)
    parser.add_argument("days", type=int)
    parser.add_argument("--tree", action="append", default=[], help="another checkout")
    parser.add_argument("--snapshot", default="", help="a step: allocation sites at its entry")
    args = parser.parse_args()
    users = args.users
    first = None
    for tree in [ROOT, *map(Path, args.tree)]:
        result = measure(tree, users, args.days, "", -1)
        if args.snapshot:
            again = measure(tree, users, args.days, args.snapshot, result["peak_day"])
            result["snapshot"] = again["snapshot"]
        first = first or result["peak"]
        rows, capacity, lines = result["at_peak_day"] or (0, 0, [])
        print(
            f"{tree}: traced peak {result['peak'] / users:,.0f} B/user "
            f"({result['peak'] / first:.3f}) on day {result['peak_day']}, set-up peak "
            f"{result['setup_peak'] / users:,.0f}, at the end {result['current'] / users:,.0f}; "
            f"wall {result['wall']:.1f} s; counts {result['counts']}\n"
            f"   that day's end: store {rows:,} rows of {capacity:,}; lines (waiting, "
            f"capacity) {lines}; {result['made']:,} post records made in the run"
        )
        print(
            "   the highest days (peak, day, step): "
            + "; ".join(f"{p / users:,.0f} day {d} {n}" for p, d, n in result["days"])
        )
        for name, entry, peak in result["steps"]:
            print(
                f"   {name:16} at entry {entry / users:7,.0f} B/user, peak inside "
                f"{peak / users:7,.0f} (+{(peak - entry) / users:,.0f})"
            )
        print("   over the run (calls, seconds under tracemalloc, largest rise in B/user):")
        print(
            "   "
            + "; ".join(
                f"{name} {calls} {seconds:.1f} s +{rise / users:,.0f}"
                for name, (calls, seconds, rise) in result["totals"].items()
            )
        )
        for size, count, where in result["snapshot"]:
            print(f"   {size / users:7,.1f} B/user in {count:8,} blocks  {where}")


if __name__ == "__main__":
    main()
