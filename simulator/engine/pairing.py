"""The paired run: a scenario with its rules and its no-rules counterfactual on the same
random streams (docs/model.md, S17 "Counterfactual and common random numbers"), the
counterfactual in a forked second process when that pays off.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.engine import warmup
from simulator.engine.simulation import Simulation
from simulator.model.population import Users, usable_cpus
from simulator.model.scenario import Scenario
from simulator.orphans import end_with
from simulator.output.metrics import believed_counted_columns
from simulator.output.phases import phase_shares, phases_table
from simulator.output.recorder import Recorder
from simulator.output.results import Results
from simulator.output.transparency import (
    median_hours,
    notices_table,
    removals_table,
    transparency_table,
)


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    days: int | None = None,
    replication: int = 0,
    progress: bool = False,
    parallel: bool | None = None,
) -> Results:
    """Run ``scenario`` and its no-rules counterfactual on the same random streams.

    ``seed`` defaults to the scenario's; ``days`` overrides its horizon. ``parallel``
    runs the counterfactual in a second process while the rules run here (``None``:
    when the run is large and a second CPU is free, see :func:`_parallel_by_default`);
    the results are the same either way. Returns :class:`~simulator.output.results.Results`
    with tidy tables and the summary numbers.
    """
    from simulator.output.metrics import daily_table, delays_table, events_table, summarise
    from simulator.output.results import environment_info

    if days is not None:
        scenario = scenario.model_copy(update={"horizon_days": int(days)})
        scenario = type(scenario).model_validate(scenario.model_dump())
    seed = scenario.seed if seed is None else int(seed)
    started = time.perf_counter()
    if multiprocessing_main_process():
        # A machine's first run: the kernels this run calls compiled before it starts,
        # on two CPUs where there are (nothing to do once they are cached on disk).
        warmup.compile_ahead(scenario.population.users, scenario.rules.takedown.enabled)
    if parallel is None:
        parallel = _parallel_by_default(scenario)
    with_rules = Simulation(scenario, seed, progress=progress)
    if parallel:
        # A large network is built by two threads: before the fork, while the second
        # CPU is not yet running the counterfactual.
        with_rules.build_large_network()
    pending = _start_counterfactual(scenario, seed) if parallel else None
    # A counterfactual run here, after the rules run, starts from this copy of the
    # population taken before it (cheaper than drawing it again; not for large runs,
    # where the copy would raise the peak memory).
    initial_users = (
        copy.deepcopy(with_rules.users)
        if pending is None and scenario.population.users <= SHARED_POPULATION_MAX_USERS
        else None
    )
    with_rules.run()
    with_rules.release_working_memory()
    counterfactual = _finish_counterfactual(pending, scenario, seed, initial_users)
    names = [p.name for p in scenario.platforms] + ["circumvention"]
    platforms = [
        {
            "platform": p.name,
            "fines_paid": p.fines_paid,
            "moderation_cost": p.moderation_cost,
            "final_strictness": p.strictness if with_rules.moderating else 0.0,
            "mean_strictness": float(
                np.mean(
                    [
                        row["strictness"]
                        for row in with_rules.recorder.platform_series
                        if row["platform"] == p.name
                    ]
                )
            ),
            "suspensions": p.suspensions,
            "review_items_served": p.queue_served,
            "mean_queue_wait_hours": p.queue_wait_hours / p.queue_served if p.queue_served else 0.0,
            "penalty_level": p.penalty_level,
            "exited": p.exited,
            "exit_reason": p.exit_reason,
            "cash": p.cash,
            # What it came to believe about audits (S8); 0 and 1 without takedown duties.
            "believed_audits_per_year": (
                365.0 * p.policy.belief.audits_per_day if p.policy is not None else 0.0
            ),
            "detection_calibration": p.policy.belief.detection if p.policy is not None else 1.0,
            # Where it came to believe the line is (S8, "Learning how much audits find, and
            # where the line is").
            **believed_counted_columns(
                p.policy.believed_counted() if p.policy is not None else None
            ),
        }
        for p in with_rules.platforms
    ]
    users = with_rules.users.count_states()
    users["traceable"] = int(with_rules.users.traceable.sum())
    users["reported_ever"] = int(with_rules.users.ever_reported.sum())
    users["detained_ever"] = int(with_rules.users.ever_detained.sum())
    summary = summarise(
        scenario, seed, with_rules.recorder, counterfactual.recorder, platforms, users
    )
    summary["phases"] = phase_shares(with_rules.recorder.phases)
    groups = with_rules.recorder.groups
    if groups is not None:  # only with user groups: outputs without them stay as they were
        summary["groups"] = groups.summary()
    import pandas as pd

    daily = daily_table(with_rules.recorder, scenario, names)
    events = events_table(with_rules.recorder)

    manifest = {
        "scenario": scenario.name,
        "scenario_sha256": scenario.sha256(),
        "seed": seed,
        "replication": replication,
        "horizon_days": scenario.horizon_days,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "wall_seconds_rules": round(with_rules.wall_seconds, 3),
        "wall_seconds_counterfactual": round(counterfactual.wall_seconds, 3),
        "counterfactual_in_parallel": counterfactual.in_parallel,
        **environment_info(),
    }
    return Results(
        scenario_name=scenario.name,
        seed=seed,
        replication=replication,
        summary=summary,
        manifest=manifest,
        scenario=scenario.to_dict(),
        daily=daily,
        counterfactual_daily=daily_table(counterfactual.recorder, scenario.without_rules(), names),
        delays=delays_table(with_rules.recorder),
        events=events,
        platform_daily=pd.DataFrame(with_rules.recorder.platform_series),
        population_daily=pd.DataFrame(with_rules.recorder.population_series),
        **transparency_tables(with_rules, scenario, names[:-1], events, daily),
        phases=phases_table(with_rules.recorder.phases),
        groups_daily=None if groups is None else groups.table(),
    )


# ----------------------------------------------------------------------------------------
# The counterfactual in a second process
#: Below this many user-days a run is too short for a second process to pay off (starting
#: one costs ~0.1 s with fork); above it the counterfactual's ~15-25% of the paired time
#: comes off the wall clock on a machine with a free CPU.
PARALLEL_MIN_USER_DAYS = 20_000_000
#: Up to this many users the serial counterfactual starts from a copy of the rules
#: run's population (drawing it costs ~3 ms at 10,000 users; the copy ~0.1 ms).
SHARED_POPULATION_MAX_USERS = 200_000


@dataclass
class _Counterfactual:
    """What the paired run needs of the counterfactual: its counts and its wall time."""

    recorder: Recorder
    wall_seconds: float
    in_parallel: bool


def _counterfactual(
    scenario: Scenario, seed: int, in_parallel: bool = True, users: Users | None = None
) -> _Counterfactual:
    simulation = Simulation(scenario.without_rules(), seed, users=users)
    simulation.run()
    return _Counterfactual(simulation.recorder, simulation.wall_seconds, in_parallel)


def multiprocessing_main_process() -> bool:
    """Whether this is not a worker of a process pool (a sweep's workers already use
    every CPU: they neither fork a counterfactual nor start a compiling helper)."""
    import sys

    # Not imported: no pool started this process (and no need to import it to know).
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is None or multiprocessing.current_process().name == "MainProcess"


def _parallel_by_default(scenario: Scenario) -> bool:
    """Whether :func:`run` puts the counterfactual in a second process by default: the
    run is large, this process may use two CPUs, forking is available and safe (one
    thread), this is not already a worker process (sweeps use every CPU already), and
    ``CENSIM_PARALLEL`` is not ``0``."""
    import multiprocessing

    setting = os.environ.get("CENSIM_PARALLEL", "").strip()
    if setting == "0":
        return False
    if not multiprocessing_main_process():
        return False
    if threading.active_count() > 1:
        # Forking copies one thread of many (a Jupyter kernel has several): locks held
        # by the others stay held in the child. Stay in one process there.
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if usable_cpus() < 2:
        return False
    return setting == "1" or scenario.population.users * scenario.horizon_days >= (
        PARALLEL_MIN_USER_DAYS
    )


def _start_counterfactual(scenario: Scenario, seed: int) -> Any:
    """Start the counterfactual in a forked process (a future), or None if that fails.
    Fork, not spawn: the child needs nothing re-imported and no ``__main__`` guard in
    the caller's script."""
    try:
        pool = forked_pool()
        return pool, pool.submit(_counterfactual, scenario, seed)
    except (OSError, RuntimeError, ValueError):
        return None


def forked_pool() -> Any:
    """A one-worker pool forked from this process, whose worker ends the moment this
    process is gone (killed with SIGKILL, say): the counterfactual holds no results, so
    nothing is lost, and no orphan keeps a year's run going (docs/reliability.md, 14)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=end_with,
        initargs=(os.getpid(),),
    )


def _finish_counterfactual(
    pending: Any, scenario: Scenario, seed: int, users: Users | None = None
) -> _Counterfactual:
    """The counterfactual's result: from the second process if it ran there, else (not
    started, or the process died) computed here, from ``users`` if given (the seed's
    population, unrun). The same numbers either way."""
    if pending is not None:
        from concurrent.futures.process import BrokenProcessPool

        pool, future = pending
        try:
            result: _Counterfactual = future.result()
            return result
        except BrokenProcessPool:
            pass
        finally:
            # Joined, so no thread of the pool outlives the run (the next large run in
            # this process may fork again: _parallel_by_default wants one thread).
            pool.shutdown(wait=True)
    return _counterfactual(scenario, seed, in_parallel=False, users=users)


def transparency_tables(
    run: Simulation, scenario: Scenario, names: list[str], events: Any, daily: Any
) -> dict[str, Any]:
    """``notices``, ``removals`` and ``transparency`` of the rules run (docs/metrics.md)."""
    import pandas as pd

    ledger = run.ledger
    notices = notices_table(ledger, names)
    removals = removals_table(ledger, names)
    notice_rule = scenario.population.notices
    senders = list(notice_rule.senders) if notice_rule.senders else ["users"]
    report = transparency_table(
        scenario.rules.transparency.report,
        scenario.rules.appeals.enabled,
        senders,
        daily,
        events,
        pd.DataFrame(run.recorder.platform_series),
        notices,
        removals,
        median_hours(ledger, names),
    )
    return {"notices": notices, "removals": removals, "transparency": report}
