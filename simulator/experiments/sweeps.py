"""Sweeps: every point of a design run ``reps`` times. Replication ``r`` of every point
uses the same seed, drawn from ``SeedSequence(seed).spawn`` (common random numbers
across points, so differences between points are not drowned in noise). Runs go to an
executor (:mod:`simulator.experiments.executors`), each finished run to the store
(:mod:`simulator.experiments.store`); when all exist the tables are written
(:mod:`simulator.experiments.tables`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.errors import CensimError, OutputError
from simulator.experiments.designs import Design, SweepError, check_size, grid_design
from simulator.experiments.executors import (
    SCHEDULER_ENV,
    Executor,
    InProcessExecutor,
    Model,
    ScenarioModel,
    Task,
    default_workers,
    make_executor,
)
from simulator.experiments.store import (
    STORE_FORMAT,
    Store,
    atomic_csv,
    canonical_json,
    design_hash,
    new_record,
)
from simulator.experiments.tables import long_table, summary_table
from simulator.files import (
    UnreadableFile,
    read_regular_file,
)
from simulator.model.scenario import Scenario, load_scenario
from simulator.output.folders import shown
from simulator.streams import replication_seeds


@dataclass
class SweepResults:
    """A finished sweep: ``summary`` (one row per point) and ``long`` (point x replication x
    metric) DataFrames, as written to ``out``."""

    out: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    long: pd.DataFrame
    ran: int = 0
    reused: int = 0

    @property
    def fields(self) -> list[str]:
        return list(self.manifest["design"]["fields"])

    @property
    def metrics(self) -> list[str]:
        return sorted(set(self.long["metric"]))

    def scenario_size(self) -> tuple[str, int, int]:
        """The swept scenario's name, users and days (the first point's, else the
        scenario's own): what a figure's title says was run."""
        model = self.manifest["model"]
        scenario = model.get("scenario", {})
        point = self.manifest["design"]["points"][0]
        users = point.get("population.users", scenario.get("population", {}).get("users", 0))
        days = point.get("horizon_days", scenario.get("horizon_days", 0))
        return str(model.get("name", "")), int(users), int(days)

    def values(self, metric: str) -> pd.DataFrame:
        """One row per point x replication: the fields and ``metric``'s value."""
        subset = self.long[self.long["metric"] == metric]
        return subset.drop(columns=["metric"]).reset_index(drop=True)

    @classmethod
    def read(cls, out: str | Path) -> SweepResults:
        """Load a finished sweep folder."""
        folder = Path(out)
        design_file = folder / "design.json"
        if not design_file.is_file():
            raise OutputError(f"{shown(folder)}: not a censim sweep folder (no design.json)")
        if not (folder / "long.csv").is_file() or not (folder / "summary.csv").is_file():
            raise OutputError(
                f"{shown(folder)}: the sweep is not finished (no long.csv); rerun the same "
                "`censim sweep` command to complete it"
            )
        manifest = _read_manifest(design_file)
        fields = list(manifest["design"]["fields"])
        tables = {}
        for name, columns in (
            ("summary", ["point", *fields, "reps"]),
            ("long", ["point", "replication", "seed", *fields, "metric", "value"]),
        ):
            tables[name] = _read_table(folder / f"{name}.csv", columns)
        if tables["long"].empty:
            raise OutputError(f"{folder / 'long.csv'}: holds no runs (cut short or edited?)")
        numbers = {"summary": ("point", "reps"), "long": ("point", "replication", "value")}
        for name, columns_of_numbers in numbers.items():
            for column in columns_of_numbers:
                values = tables[name][column]
                if len(values) and not pd.api.types.is_numeric_dtype(values):
                    raise OutputError(
                        f"{folder / (name + '.csv')}: column `{column}` should hold numbers "
                        "(edited or damaged?)"
                    )
        return cls(out=folder, manifest=manifest, summary=tables["summary"], long=tables["long"])


#: Largest design.json read back (bytes): a million points of a few fields.
MAX_DESIGN_FILE_BYTES = 500_000_000


def _read_manifest(path: Path) -> dict[str, Any]:
    """A store's design.json, or an :class:`OutputError` naming it and what is wrong."""
    try:
        manifest = json.loads(read_regular_file(path, MAX_DESIGN_FILE_BYTES).decode("utf-8"))
    except UnreadableFile as error:
        raise OutputError(f"{path}: {error.reason}") from None
    except (ValueError, RecursionError):
        raise OutputError(f"{path}: is not valid JSON (edited or damaged?)") from None
    design = manifest.get("design") if isinstance(manifest, dict) else None
    fields = design.get("fields") if isinstance(design, dict) else None
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise OutputError(
            f"{path}: has no list of the design's fields (`design.fields`): edited or damaged?"
        )
    return manifest


def _read_table(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """A store's CSV table with (at least) ``columns``, or an :class:`OutputError` naming
    the file and the missing column."""
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as error:  # pandas' parser and empty-file errors
        detail = f"{type(error).__name__}: {error}".splitlines()[0]
        raise OutputError(f"{path}: cannot be read ({detail}): damaged?") from None
    for column in columns:
        if column not in frame.columns:
            raise OutputError(
                f"{path}: no column `{column}` (renamed or deleted?); it should have: "
                + ", ".join(columns)
            )
    return frame


def resolve_scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def model_and_seed(
    scenario: Scenario | str | Path | None, model: Model | None, seed: int | None, command: str
) -> tuple[Model, int]:
    """What a study runs (``model``, else ``scenario``'s) and its base seed (``seed``, else
    the scenario's, else 0); ``command`` names the study in the error when neither is given."""
    if model is None:
        if scenario is None:
            raise SweepError(f"{command}: give a scenario or a model")
        loaded = resolve_scenario(scenario)
        model = ScenarioModel(loaded)
        seed = loaded.seed if seed is None else seed
    return model, 0 if seed is None else int(seed)


def sweep(
    scenario: Scenario | str | Path | None,
    design: Design | Mapping[str, Sequence[Any]],
    *,
    reps: int = 1,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path,
    force: bool = False,
    progress: bool = False,
    model: Model | None = None,
    executor: Executor | None = None,
    summary_metrics: Sequence[str] | None = None,
    extra_manifest: Mapping[str, Any] | None = None,
    check_resources: bool = True,
) -> SweepResults:
    """Run every point of ``design`` ``reps`` times and write the store at ``out``.

    ``design`` is a :class:`Design` or a mapping ``{field: [values]}`` (a full grid).
    ``scenario`` is a :class:`Scenario`, a shipped name or a TOML path (or ``None`` with a
    ``model``: any picklable :class:`Model`, e.g. a test function). ``seed`` defaults to the
    scenario's (0 for a model). Execution: ``executor`` if given, else a Dask cluster at
    ``scheduler`` (or ``$CENSIM_SCHEDULER``), else ``workers`` local processes (default: one
    per CPU; 0 runs in this process). Rerunning with the same arguments resumes; a
    different design in the same ``out`` is refused unless ``force``. Before anything
    runs, the memory and disk the sweep needs are estimated and compared with what this
    machine has (:mod:`simulator.experiments.resources`; ``check_resources=False`` skips that).
    """
    if not isinstance(design, Design):
        design = grid_design(design, source="design")
    model, seed = model_and_seed(scenario, model, seed, "sweep")
    if not 1 <= reps <= 100_000:
        raise SweepError(f"--reps: {reps} is not allowed; give 1 to 100000 replications")
    if not 0 <= seed <= 2**63 - 1:
        raise SweepError(f"--seed: {seed} is not allowed; give 0 to 2**63-1")
    check_size(len(design) * reps, design.source, "runs (points x replications)")
    design = model.prepare(design)
    if check_resources:
        _check_resources(model, design, reps, workers, scheduler, executor, Path(out))
    seeds = replication_seeds(seed, reps)
    manifest = {
        "format": STORE_FORMAT,
        "design_hash": design_hash(model, design, seed),
        "model": model.identity(),
        "design": {
            "kind": design.kind,
            "fields": list(design.fields),
            "spec": design.spec,
            "points": list(design.points),
        },
        "seed": seed,
        "reps": reps,
        "replication_seeds": seeds,
        **(extra_manifest or {}),
    }
    # A Dask scheduler is reached before the store is opened (or, with --force, cleared):
    # an address that cannot be reached leaves the folder as it was.
    own_cluster = executor is None and bool(scheduler or os.environ.get(SCHEDULER_ENV))
    if own_cluster:
        executor = make_executor(workers, scheduler)
    finished = False
    store = Store(out)
    try:
        store.open(manifest, force=force)
    except BaseException:
        if own_cluster and executor is not None:
            executor.close()
        raise
    try:
        done = store.done(design.points, seeds)
        tasks: list[Task] = [
            (p, r, design.points[p], seeds[r])
            for p in range(len(design))
            for r in range(reps)
            if (p, r) not in done
        ]
        records = dict(done)
        total = len(design) * reps
        with _stop_on_sigterm(store.out) as stop:
            if tasks:
                bar = _progress_bar(total, len(done), "", progress)
                _run_tasks(
                    model, tasks, design, seeds, store, records, bar, stop,
                    executor, workers, scheduler,
                )  # fmt: skip
            long = long_table(list(records.values()), design.fields)
            summary = summary_table(long, design, summary_metrics)
            atomic_csv(long, store.out / "long.csv")
            atomic_csv(summary, store.out / "summary.csv")
        finished = True
    finally:
        store.close()
        if own_cluster and executor is not None:
            if finished:
                executor.close()
            else:
                executor.abort()  # its workers' runs in progress would not be written
    return SweepResults(
        out=store.out,
        manifest=manifest,
        summary=summary,
        long=long,
        ran=len(tasks),
        reused=len(done),
    )


#: Scenario fields that change what a run needs (memory, disk).
SIZE_FIELDS = ("population.users", "population.mean_degree", "horizon_days", "platforms")


def _check_resources(
    model: Model,
    design: Design,
    reps: int,
    workers: int | None,
    scheduler: str | None,
    executor: Executor | None,
    out: Path,
) -> None:
    """Refuse a sweep this machine has not the memory or disk for (resources.check)."""
    from simulator.experiments import resources

    runs = len(design) * reps
    scenarios: list[Scenario] = []
    if isinstance(model, ScenarioModel):
        # The points' scenarios differ in size only through SIZE_FIELDS: build one per
        # distinct combination of those (usually just the base scenario).
        sized = [f for f in design.fields if f in SIZE_FIELDS]
        combos = {
            canonical_json({f: p[f] for f in sized if f in p}): {f: p[f] for f in sized if f in p}
            for p in design.points
        }
        scenarios = [model.scenario(values) for values in combos.values()]
    on_cluster = executor is None and bool(scheduler or os.environ.get(SCHEDULER_ENV))
    if executor is not None:
        count = 0 if isinstance(executor, InProcessExecutor) else getattr(executor, "workers", 1)
    else:
        count = default_workers() if workers is None else workers
    metrics = resources.SCENARIO_METRICS if scenarios else 1
    needs = resources.sweep_needs(scenarios, runs, count, metrics)
    if on_cluster:  # the runs' memory is the cluster's, not this machine's
        needs = resources.Needs(memory=0, disk=needs.disk, runs=runs)
    at_once = "in this process" if count == 0 else f"{min(count, runs)} at a time"
    smaller = "fewer points, replications or --workers, or smaller runs"
    resources.check(needs, out, f"this sweep ({runs:,} runs, {at_once})", smaller)


def _run_tasks(
    model: Model,
    tasks: Sequence[Task],
    design: Design,
    seeds: Sequence[int],
    store: Store,
    records: dict[tuple[int, int], dict[str, Any]],
    bar: Any,
    stop: _StopRequest,
    executor: Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> None:
    """Run ``tasks`` and write each record the moment it arrives (into ``records`` too).

    An executor made here is closed when the runs are done; if anything stops them
    (Ctrl-C, SIGTERM, a full disk, a bug) it is aborted instead: its workers are killed
    at once, not waited for, since a run in progress would not be written anyway."""
    owned = executor is None
    active = make_executor(workers, scheduler) if executor is None else executor
    bar.set_description(f"sweep ({active.description})")
    # Runs in this process may be inside compiled code (or loading it) when SIGTERM
    # comes: an exception raised there can crash the process, so stop after the run.
    stop.immediate = not isinstance(active, InProcessExecutor)
    finished = False
    try:
        for point, replication, metrics in active.run(model, tasks):
            values = design.points[point]
            record = new_record(point, replication, seeds[replication], values, metrics)
            try:
                store.write_run(record)
            except OutputError as error:
                raise OutputError(
                    f"{error}; the {len(records)} runs already in {store.runs} are kept: "
                    "free some space (or fix the folder) and rerun the same command to resume"
                ) from None
            records[(point, replication)] = record
            bar.update(1)
            stop.check()
        finished = True
    finally:
        bar.close()
        if owned:
            if finished:
                active.close()
            else:
                active.abort()


class Terminated(CensimError):
    """The sweep was sent SIGTERM: its workers were stopped, finished runs are kept."""

    exit_code = 128 + signal.SIGTERM


@dataclass
class _StopRequest:
    """SIGTERM's effect on a running sweep: raise :class:`Terminated` at once
    (``immediate``: this process only waits for workers) or at the next :meth:`check`."""

    out: Path
    immediate: bool = True
    requested: bool = False

    def error(self) -> Terminated:
        return Terminated(
            f"terminated (SIGTERM): the sweep stopped; the runs finished so far are kept "
            f"in {self.out}: rerun the same command to resume"
        )

    def check(self) -> None:
        if self.requested:
            raise self.error()


@contextlib.contextmanager
def _stop_on_sigterm(out: Path) -> Iterator[_StopRequest]:
    """While a sweep runs, SIGTERM stops it with :class:`Terminated` (exit code 143), so
    the workers are stopped and the store closed: by default SIGTERM ends the process at
    once, and its workers would run on. When runs are in this process the sweep stops
    after the current run, and a second SIGTERM ends it at once. Only in the main thread,
    and only where the application has no SIGTERM handler of its own; the old
    disposition is put back."""
    stop = _StopRequest(out)
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield stop
        return

    def terminate(signum: int, frame: Any) -> None:
        stop.requested = True
        if stop.immediate:
            raise stop.error()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM: at once

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield stop
        stop.check()  # came during the last run or the tables: the store is complete
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _progress_bar(total: int, initial: int, description: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        desc=f"sweep ({description})",
        file=sys.stderr,
        disable=not enabled,
        dynamic_ncols=True,
        smoothing=0.1,
    )
