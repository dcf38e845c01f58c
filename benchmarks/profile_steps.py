"""Where a day's time goes: wall time per step of one warm rules run, per simulated day.

    python benchmarks/profile_steps.py 10000 90
    python benchmarks/profile_steps.py 1000000 365

Wraps the day's steps (the day loop's calls into the engine's drivers and the model's
mechanisms, and the compiled kernels they call) with ``time.perf_counter`` and runs
``china_csl_2016`` (the benchmark's world, platforms choosing their staff) once untimed, to
load the kernels, then once timed. The steps nest (``speak`` contains ``publish_days``
and ``_speech_inputs``; ``learn`` contains ``learn_beliefs``), and the wrappers cost ~1 us
a call: read it as where the time goes, not as the run's wall time
(``run_benchmarks.py`` measures that). docs/performance.md, "What dominates now", was
made with it (when the steps were ``Simulation`` methods).
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run_benchmarks import world  # noqa: E402
from simulator.engine import simulation  # noqa: E402
from simulator.engine.caches import PopulationCounts  # noqa: E402
from simulator.engine.post_store import PostStore  # noqa: E402
from simulator.engine.review import ReviewDay  # noqa: E402
from simulator.engine.simulation import Simulation  # noqa: E402
from simulator.engine.speech import SpeechDay  # noqa: E402
from simulator.kernels import benign, learning, publishing, review, routes, sanctions  # noqa: E402
from simulator.model.orders import OrderBook  # noqa: E402
from simulator.model.police import Police  # noqa: E402
from simulator.model.regulator import Regulator  # noqa: E402
from simulator.model.reporting import Reporting  # noqa: E402
from simulator.model.review_arrays import ArrayReviewQueue  # noqa: E402
from simulator.model.sanctions import Exclusions, Sanctions  # noqa: E402
from simulator.model.speech_state import SpeechState  # noqa: E402

STEPS = (
    (Simulation, "_step_day"), (SpeechDay, "routes"), (SpeechDay, "speak"),
    (SpeechDay, "_speech_inputs"), (SpeechDay, "_benign_split_inputs"),
    (SpeechDay, "moderation_tables"), (SpeechDay, "_store_published"),
    (SpeechDay, "_speech_drawn_for"), (ReviewDay, "run"),
    (OrderBook, "settle"), (Sanctions, "strikes_and_exits"), (Simulation, "learn"),
    (SpeechState, "learn"), (SpeechState, "mean_beliefs"), (PopulationCounts, "row"),
    (simulation, "end_of_day"), (PostStore, "compact"),
    (Sanctions, "detentions_and_releases"), (Sanctions, "platform_changes"),
    (Sanctions, "returns_and_turnover"), (Exclusions, "attribute"), (Exclusions, "sync"),
    (Reporting, "report_removals"), (Police, "advance"), (Regulator, "audit"),
    (ArrayReviewQueue, "reserve"), (ArrayReviewQueue, "submit"), (PostStore, "_reserve"),
)  # fmt: skip
KERNELS = (
    (publishing, "publish_days"), (benign, "benign_groups"), (routes, "fill_routes"),
    (learning, "learn_beliefs"), (learning, "mean_beliefs"), (learning, "population_counts"),
    (sanctions, "apply_strikes"), (sanctions, "renew_slots"), (sanctions, "update_exclusions"),
    (sanctions, "recount_exclusions"), (review, "review_day"), (review, "book_review"),
)  # fmt: skip


def wrap(
    owner: Any, name: str, spent: dict[str, float], cpu: dict[str, float]
) -> None:
    """Replace ``owner.name`` by a timed call adding to ``spent[name]`` (wall seconds)
    and ``cpu[name]`` (CPU seconds of the calling thread: on a loaded machine the wall
    time counts the time other processes held the CPU, this does not)."""
    inner = getattr(owner, name)

    @functools.wraps(inner)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        started_cpu = time.thread_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started
            cpu[name] += time.thread_time() - started_cpu

    setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users", type=int)
    parser.add_argument("days", type=int)
    parser.add_argument(
        "--staffing", choices=("chosen", "fixed"), default="chosen",
        help="'fixed': section 1's world of run_benchmarks.py (staff at the shipped rate)",
    )  # fmt: skip
    args = parser.parse_args()
    spent: dict[str, float] = collections.defaultdict(float)
    cpu: dict[str, float] = collections.defaultdict(float)
    for owner, name in STEPS:
        wrap(owner, name, spent, cpu)
    for module, name in KERNELS:
        wrap(module, name, spent, cpu)
    Simulation(world(args.users, 2, args.staffing), seed=1).run()
    spent.clear()
    cpu.clear()
    simulation = Simulation(world(args.users, args.days, args.staffing), 1)
    started = time.perf_counter()
    started_cpu = time.process_time()
    simulation.run()
    wall = time.perf_counter() - started
    process_cpu = time.process_time() - started_cpu
    print(f"{args.users:,} users x {args.days} days: run {wall:.2f} s "
          f"({process_cpu:.2f} CPU s, all threads), {wall / args.days * 1e3:.2f} ms per day; "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  {'step':32s} {'wall ms/day':>11s} {'CPU ms/day':>11s}")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {name:32s} {seconds / args.days * 1e3:11.3f} {cpu[name] / args.days * 1e3:11.3f}")


if __name__ == "__main__":
    main()
