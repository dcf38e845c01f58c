"""What one (point, seed) evaluates to, and where the runs go: local worker processes
(default), a Dask cluster (``scheduler=``) or the calling process (``workers=0``).

Each run is paired with its no-rules counterfactual on the same streams
(:func:`simulator.run`); a worker dies with the sweep that started it.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import contextlib
import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from simulator.errors import ScenarioError
from simulator.experiments.designs import Design, SweepError
from simulator.files import (
    UnreadableFile,
    read_regular_file,
)
from simulator.interrupts import interrupts_deferred
from simulator.kinds import KIND_LABELS, EventKind
from simulator.model.population import usable_cpus
from simulator.model.scenario import Scenario, get_dotted, override, validate_scenario
from simulator.orphans import end_with

SCHEDULER_ENV = "CENSIM_SCHEDULER"
#: Metrics given a mean and 95% interval in ``summary.csv`` (when the model reports them).


class Model(Protocol):
    """Evaluates one point with one seed to a flat mapping of metric name to number."""

    def __call__(self, values: Mapping[str, Any], seed: int) -> dict[str, float]: ...

    def identity(self) -> dict[str, Any]:
        """Plain data that identifies the model (part of the design hash)."""
        ...

    def prepare(self, design: Design) -> Design:
        """Check every point before anything runs; may convert values (e.g. to int)."""
        ...


def _point_problem(
    design: Design, index: int, point: Mapping[str, Any], field: str, value: object, message: str
) -> tuple[str, object, str]:
    """A problem of one point of ``design``, said as the user wrote the design: a listed
    point's field by the point (``points[1].horizon_days``); a sampled value by the range
    it was drawn from (``sample.ranges.X``, the ``[LOW, HIGH]`` written), not the draw."""
    if design.kind == "points":
        return f"points[{index}].{field}" if field else f"points[{index}]", value, message
    spec = design.spec.get("sample") or design.spec.get("sensitivity")
    ranges = spec.get("ranges") if isinstance(spec, Mapping) else None
    if design.kind != "grid" and isinstance(ranges, Mapping):
        drawn = [name for name in design.fields if name in ranges and point.get(name) == value]
        if len(drawn) == 1:
            name = drawn[0]
            label = f"sample.ranges.{name}" if "sample" in design.spec else name
            return label, ranges[name], f"a range whose values are all allowed: {message}"
    return field, value, message


class ScenarioModel:
    """A scenario as a model: apply the point's fields with :func:`simulator.override`,
    run it paired with its counterfactual, and flatten the summary to numbers."""

    def __init__(self, scenario: Scenario) -> None:
        self.name = scenario.name
        # Plain data travels to workers (and across a cluster) cheaply and safely.
        self.data = scenario.to_dict()

    def identity(self) -> dict[str, Any]:
        return {"kind": "scenario", "name": self.name, "scenario": self.data}

    def scenario(self, values: Mapping[str, Any], source: str = "<point>") -> Scenario:
        base = validate_scenario(self.data, source=f"scenario {self.name}")
        return override(base, dict(values), source=source) if values else base

    def prepare(self, design: Design) -> Design:
        """Validate every point (naming the design's source and the field on failure).
        Sampled values for whole-number fields are rounded."""
        base = validate_scenario(self.data, source=f"scenario {self.name}")
        plain = base.to_dict()
        if "seed" in design.fields:
            # Each run takes its seed from the sweep's --seed and its replication: a
            # scenario's own seed would be overridden in every run and vary nothing.
            raise SweepError(
                f"{design.source}: `seed` cannot be varied: each run's seed comes from "
                "--seed and its replication (--reps gives more of them)"
            )
        int_fields = set()
        for name in design.fields:
            current = get_dotted(plain, name)
            if isinstance(current, int) and not isinstance(current, bool):
                int_fields.add(name)
        points = []
        problems: list[tuple[str, object, str]] = []
        seen: set[tuple[str, str, str]] = set()
        more = 0
        for index, point in enumerate(design.points):
            converted = {
                k: (
                    int(round(v))
                    if k in int_fields
                    and isinstance(v, float)
                    and design.kind not in ("grid", "points")
                    else v
                )
                for k, v in point.items()
            }
            try:
                override(base, converted, source=design.source)
            except ScenarioError as error:
                # Every point's problems, each once: not only the first failing point's.
                more += error.more
                for problem in error.problems:
                    described = _point_problem(design, index, converted, *problem)
                    key = (described[0], repr(described[1]), described[2])
                    if key not in seen:
                        seen.add(key)
                        problems.append(described)
            points.append(converted)
        if problems:
            noun = "design" if design.from_file else "scenario"
            raise ScenarioError(design.source, problems, more=more, noun=noun)
        return Design(
            design.kind, design.fields, tuple(points), design.spec, design.source, design.from_file
        )

    def __call__(self, values: Mapping[str, Any], seed: int) -> dict[str, float]:
        from simulator.engine.pairing import run

        results = run(self.scenario(values), seed=seed)
        return flatten_summary(results.summary)


def flatten_summary(summary: Mapping[str, Any]) -> dict[str, float]:
    """The numbers of a run summary as flat ``name -> float`` (NaN where undefined).

    Top-level numbers keep their names; nested ones are dotted (``users_final.excluded``,
    ``excluded_by_reason.closed``, ``political_speech_by_mechanism.removed``,
    ``per_kind.critical.speech_loss``, ``events.detention``). Every event kind is present
    (0 when none happened), so all runs report the same metrics; ``access_choice`` and the
    ``access.*`` split (``access.first_share.circumvent``, ``access.totals.move``) only
    where the scenario has the choice (docs/model.md S9a), so other runs' metrics are
    those they had before it; the shares of the sensitive decisions in each phase
    (``phases.defiant``, docs/metrics.md "Phases")."""
    skip = {"seed", "horizon_days", "users"}
    out: dict[str, float] = {}
    for key, value in summary.items():
        if key in skip or isinstance(value, bool):
            continue
        if isinstance(value, int | float | np.integer | np.floating):
            out[key] = float(value)
    for key, value in summary.get("users_final", {}).items():
        out[f"users_final.{key}"] = float(value)
    for key, value in summary.get("excluded_by_reason", {}).items():
        out[f"excluded_by_reason.{key}"] = float(value)
    for group in ("speech_loss_by_mechanism", "political_speech_by_mechanism"):
        for key, value in summary.get(group, {}).items():
            out[f"{group}.{key}"] = float(value)
    events = summary.get("events", {})
    access = summary.get("access")
    for kind in EventKind:
        if kind is EventKind.ACCESS_CHOICE and access is None:
            continue
        out[f"events.{kind.value}"] = float(events.get(kind.value, 0))
    if access is not None:
        out["access.first_day"] = float(access["first_day"])
        for group in ("first", "first_share", "totals"):
            for key, value in access[group].items():
                out[f"access.{group}.{key}"] = float(value)
    for key, value in summary.get("phases", {}).items():
        out[f"phases.{key}"] = float("nan") if value is None else float(value)
    per_kind = summary.get("per_kind", {})
    for label in KIND_LABELS:
        row = per_kind.get(label, {})
        for name in ("speech_loss", "lost", "withheld_share", "taken_down_share", "takedown_rate"):
            if name in row:
                out[f"per_kind.{label}.{name}"] = float(row[name])
    return out


Task = tuple[int, int, dict[str, Any], int]  # point, replication, values, seed


def _script_guard_hint() -> str:
    """When ``sweep`` was called from a Python script, the likeliest cause of dead workers:
    each worker imports the script again (forkserver, spawn), and without a guard the
    script starts another sweep inside the worker, which Python refuses."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or Path(path).name in ("censim", "__main__.py") or "pytest" in path:
        return ""
    return (
        f". If {Path(path).name} calls sweep() at its top level, put that call under "
        'if __name__ == "__main__": (workers import the script again)'
    )


def _evaluate(model: Model, task: Task) -> tuple[int, int, dict[str, float]]:
    point, replication, values, seed = task
    return point, replication, model(values, seed)


def _start_worker(sweep_pid: int) -> None:
    """Initializer of every local worker process.

    Ctrl-C goes to the whole process group: only the sweep's process handles it (and
    stops the workers). A worker must not outlive the sweep's process: killed with
    SIGKILL, or by SIGTERM, the sweep cannot stop its workers, and they would wait for
    tasks forever (and keep the fork server and the resource tracker alive). So each
    worker watches that process and exits when it is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with(sweep_pid)


class Executor(abc.ABC):
    """Runs tasks and yields their results as they complete (in any order). Subclasses:
    :class:`LocalExecutor`, :class:`DaskExecutor` and the in-process one."""

    description = "executor"

    @abc.abstractmethod
    def run(
        self, model: Model, tasks: Sequence[Task]
    ) -> Iterator[tuple[int, int, dict[str, float]]]:
        """Yield ``(point, replication, metrics)`` for every task."""

    def close(self) -> None:  # noqa: B027 - most executors hold nothing to release
        """Release workers."""

    def abort(self) -> None:
        """Stop at once (runs in progress are dropped) and release workers."""
        self.close()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessExecutor(Executor):
    """Runs tasks one after another in the calling process (``workers=0``)."""

    description = "in this process"

    def run(
        self, model: Model, tasks: Sequence[Task]
    ) -> Iterator[tuple[int, int, dict[str, float]]]:
        for task in tasks:
            yield _evaluate(model, task)


class LocalExecutor(Executor):
    """A pool of local worker processes (forkserver where available, else spawn).

    Keep one open across sweeps (``with LocalExecutor(2) as pool: sweep(..., executor=pool)``)
    to pay the workers' start-up once."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise SweepError("--workers: need at least 1 local worker (0 runs in-process)")
        self.workers = workers
        self.description = f"{workers} local worker process{'es' if workers > 1 else ''}"
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            # Workers fork from a server that has already imported the model's modules.
            context.set_forkserver_preload(
                ["simulator.engine.pairing", "simulator.experiments.executors"]
            )
        self.pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )

    def run(
        self, model: Model, tasks: Sequence[Task]
    ) -> Iterator[tuple[int, int, dict[str, float]]]:
        # Worker processes (and the forkserver) start here: Ctrl-C waits until they have
        # (an interrupt in the middle left a worker unregistered, which printed a
        # traceback after this process had gone; the forkserver, importing its preloaded
        # modules, printed a KeyboardInterrupt traceback).
        with interrupts_deferred():
            futures = [self.pool.submit(_evaluate, model, task) for task in tasks]
        try:
            for future in cf.as_completed(futures):
                yield future.result()
        except cf.process.BrokenProcessPool:
            raise SweepError(
                "a worker process died (killed, or out of memory?); the runs finished so far "
                "are kept: rerun the same command to resume (perhaps with fewer --workers)"
                + _script_guard_hint()
            ) from None
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Kill the workers now (their runs in progress are lost), then shut down."""
        kill = getattr(self.pool, "kill_workers", None)  # Python 3.14+
        if kill is not None:
            kill()
        else:
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    process.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Tasks on a Dask distributed cluster: ``address`` is ``tcp://HOST:PORT`` or the path
    of a scheduler file (``dask scheduler --scheduler-file FILE``)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise SweepError(
                "--scheduler needs dask.distributed: pip install 'censim[cluster]'"
            ) from None
        self.address = address
        self.description = f"Dask cluster at {address}"
        # A scheduler file is read here, not by Dask: a malformed one made Dask fail
        # with an AssertionError or a TypeError (an internal error) instead of a message.
        target = scheduler_file_address(Path(address)) if Path(address).is_file() else address
        try:
            self.client = Client(target, timeout="20s")
        except (OSError, TimeoutError, ValueError, TypeError, AssertionError) as error:
            raise SweepError(
                f"--scheduler {address}: cannot connect to a Dask scheduler ({error}); "
                "start one with `dask scheduler` and give its address (tcp://HOST:PORT)"
            ) from None

    def run(
        self, model: Model, tasks: Sequence[Task]
    ) -> Iterator[tuple[int, int, dict[str, float]]]:
        from distributed import as_completed

        if not tasks:
            return
        remote_model = self.client.scatter(model, broadcast=True)
        futures = [
            self.client.submit(_evaluate, remote_model, task, pure=False, retries=1)
            for task in tasks
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        self.client.close()


#: A Dask scheduler file is a small JSON object (a few hundred bytes).
MAX_SCHEDULER_FILE_BYTES = 1_000_000


def scheduler_file_address(path: Path) -> str:
    """The scheduler's address in a Dask scheduler file (``dask scheduler
    --scheduler-file FILE``: a JSON object whose ``address`` is ``tcp://HOST:PORT``), or a
    :class:`SweepError` naming the file and what is wrong with it."""
    source = f"--scheduler {path}"
    expected = (
        "expected the JSON file `dask scheduler --scheduler-file FILE` writes, with an "
        '"address" such as "tcp://HOST:PORT"'
    )
    try:
        raw = read_regular_file(path, MAX_SCHEDULER_FILE_BYTES)
    except UnreadableFile as error:
        raise SweepError(f"{source}: the scheduler file {error.reason}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SweepError(f"{source}: not a Dask scheduler file (not JSON); {expected}") from None
    address = data.get("address") if isinstance(data, dict) else None
    if not isinstance(address, str) or "://" not in address:
        found = "no address" if address is None else f"address {address!r}"
        raise SweepError(f"{source}: not a Dask scheduler file ({found}); {expected}")
    return address


def default_workers() -> int:
    """Local worker processes to use by default: the CPUs this process may run on."""
    return max(1, usable_cpus())


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for these options: a Dask cluster if ``scheduler`` (or the environment
    variable ``CENSIM_SCHEDULER``) is set, else ``workers`` local processes (0: in-process)."""
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        return DaskExecutor(address)
    count = default_workers() if workers is None else workers
    if count == 0:
        return InProcessExecutor()
    return LocalExecutor(count)
