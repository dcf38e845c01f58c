"""Experiments at scale: designs, replications, executors and a resumable results store.

A *design* is a list of points; each point sets some scenario fields (dotted paths, as in
:func:`simulator.override`). A *sweep* runs every point ``reps`` times; replication ``r``
of every point uses the same seed, drawn from ``SeedSequence(seed).spawn`` (common random
numbers across points, so differences between points are not drowned in noise), and each
run is paired with its no-rules counterfactual on the same streams (:func:`simulator.run`).

Runs go to local worker processes (default), a Dask cluster (``scheduler=``), or the
calling process (``workers=0``). Each finished (point, replication) is written atomically
to ``OUT/runs/pPPPP-rRRR.json`` as it completes, so an interrupted sweep rerun with the
same arguments picks up where it stopped. When all runs exist the store gets
``summary.csv`` (per point: mean and t-based 95% interval of the main metrics) and
``long.csv`` (one row per point x replication x metric), assembled in (point,
replication) order so the bytes never depend on which worker finished first.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import contextlib
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import re
import signal
import stat
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from simulator.errors import MISSING, CensimError, OutputError, ScenarioError, warn
from simulator.files import (
    UnreadableFile,
    atomic_write_bytes,
    atomic_write_with,
    kind_of_file,
    read_regular_file,
)
from simulator.interrupts import interrupts_deferred
from simulator.kinds import KIND_LABELS, EventKind
from simulator.model.population import usable_cpus
from simulator.model.scenario import (
    Scenario,
    get_dotted,
    load_scenario,
    override,
    validate_scenario,
)
from simulator.model.scenario.reading import _read_toml
from simulator.output_folders import FOLDER_KEY, SWEEP, check_store_folder, shown
from simulator.results import write_csv
from simulator.streams import replication_seeds

#: Version of the store layout; part of the design hash.
STORE_FORMAT = "censim-sweep/1"
#: Environment variable naming a Dask scheduler (same as ``--scheduler``).
SCHEDULER_ENV = "CENSIM_SCHEDULER"
#: Metrics given a mean and 95% interval in ``summary.csv`` (when the model reports them).
SUMMARY_METRICS = (
    "speech_loss",
    "chilling_effect",
    "collateral_share",
    "over_removal_share",
    "removed_within_24h",
    "fines_total",
    "users_final.excluded",
    "users_final.detained_ever",
)
#: Largest design accepted (points x replications), to catch a mistyped grid early.
MAX_RUNS = 1_000_000


class SweepError(CensimError):
    """A design, option or store that cannot be used (exit code 2, like a bad scenario)."""

    exit_code = 2


# ---------------------------------------------------------------------------------------
# Designs


@dataclass(frozen=True)
class Design:
    """Points of an experiment: each a mapping of dotted field path to value.

    ``kind`` says how it was made (``grid``, ``points``, ``lhs``, ``sobol``,
    ``sensitivity-sobol``...), ``spec`` the inputs that made it (recorded in
    ``design.json``), ``source`` where it came from (for error messages).
    """

    kind: str
    fields: tuple[str, ...]
    points: tuple[dict[str, Any], ...]
    spec: dict[str, Any] = field(default_factory=dict)
    source: str = "<design>"

    def __len__(self) -> int:
        return len(self.points)


def parse_literal(text: str, source: str, field_name: str) -> Any:
    """One TOML literal (``12``, ``0.5``, ``true``, ``"text"``, ``[1, 2]``)."""
    return parse_literals(text, source, field_name, single=True)[0]


def parse_literals(text: str, source: str, field_name: str, *, single: bool = False) -> list[Any]:
    """Comma-separated TOML literals: numbers, true/false, quoted strings, arrays."""
    allowed = (
        "a TOML literal: a number, true/false, a quoted string or an array"
        if single
        else "comma-separated TOML literals: numbers, true/false, quoted strings"
    )
    if not text.strip():
        raise ScenarioError(source, [(field_name, text, f"no value given; expected {allowed}")])
    try:
        values = tomllib.loads(f"v = [{text}]")["v"]
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):  # ValueError: 4,300+ digits
        raise ScenarioError(
            source, [(field_name, text, f"cannot read; expected {allowed}")]
        ) from None
    if single and len(values) != 1:
        raise ScenarioError(source, [(field_name, text, f"expected one value: {allowed}")])
    return list(values)


def _split_assignment(text: str, source: str, what: str) -> tuple[str, str]:
    name, sep, rhs = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise SweepError(f"{source} {text!r}: expected {what}")
    return name, rhs.strip()


def parse_vary(text: str, source: str = "--vary") -> tuple[str, list[Any]]:
    """``FIELD=V1,V2,...`` (values as TOML literals) as ``(field, [values])``."""
    name, rhs = _split_assignment(
        text, source, "FIELD=V1,V2,... (e.g. rules.takedown.vagueness=0,0.5)"
    )
    values = parse_literals(rhs, source, name)
    return name, values


def parse_set(text: str, source: str = "--set") -> tuple[str, Any]:
    """``FIELD=VALUE`` (a TOML literal) as ``(field, value)``."""
    name, rhs = _split_assignment(text, source, "FIELD=VALUE (e.g. horizon_days=30)")
    return name, parse_literal(rhs, source, name)


def parse_range(text: str, source: str = "--param") -> tuple[str, tuple[float, float]]:
    """``FIELD=LOW:HIGH`` (two numbers, LOW < HIGH) as ``(field, (low, high))``."""
    name, rhs = _split_assignment(
        text, source, "FIELD=LOW:HIGH (e.g. rules.takedown.vagueness=0:1)"
    )
    low_text, colon, high_text = rhs.partition(":")
    allowed = "a range LOW:HIGH of two numbers with LOW < HIGH (e.g. 0:1)"
    if not colon:
        raise ScenarioError(source, [(name, rhs, allowed)])
    bounds = []
    for part in (low_text, high_text):
        try:
            value = float(part)
        except ValueError:
            raise ScenarioError(source, [(name, rhs, allowed)]) from None
        if not math.isfinite(value):
            raise ScenarioError(source, [(name, rhs, allowed)])
        bounds.append(value)
    if not bounds[0] < bounds[1]:
        raise ScenarioError(source, [(name, rhs, allowed)])
    return name, (bounds[0], bounds[1])


def grid_design(vary: Mapping[str, Sequence[Any]], source: str = "--vary") -> Design:
    """The full grid (Cartesian product) of the values; the last field varies fastest."""
    fields = tuple(vary)
    for name, values in vary.items():
        if not isinstance(values, list | tuple) or not values:
            raise ScenarioError(source, [(name, values, "a non-empty list of values")])
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise ScenarioError(source, [(name, list(values), "values must not repeat")])
    # Counted before the grid is built: three lists of 1,000 values make 10**9 points.
    _check_size(math.prod(len(values) for values in vary.values()), source)
    points = tuple(
        dict(zip(fields, combo, strict=True))
        for combo in itertools.product(*(list(vary[f]) for f in fields))
    )
    if not points:
        points = ({},)
    spec = {"grid": {f: list(vary[f]) for f in fields}}
    return Design("grid", fields, points, spec, source)


def points_design(points: Sequence[Mapping[str, Any]], source: str = "<points>") -> Design:
    """An explicit list of points; a field missing from a point keeps the scenario's value."""
    if not points:
        raise ScenarioError(source, [("points", [], "at least one point")])
    fields: list[str] = []
    for point in points:
        for name in point:
            if name not in fields:
                fields.append(name)
    _check_size(len(points), source)
    plain = tuple(dict(p) for p in points)
    return Design("points", tuple(fields), plain, {"points": [dict(p) for p in points]}, source)


def sampled_design(
    ranges: Mapping[str, tuple[float, float]],
    n: int,
    method: str = "lhs",
    seed: int = 0,
    source: str = "<sample>",
) -> Design:
    """``n`` points sampled in the box ``ranges`` by Latin hypercube (``lhs``) or scrambled
    Sobol (``sobol``; use a power of 2) from :mod:`scipy.stats.qmc`."""
    from scipy.stats import qmc

    if method not in ("lhs", "sobol"):
        raise ScenarioError(source, [("sample.method", method, "one of: lhs, sobol")])
    if not ranges:
        raise ScenarioError(source, [("sample.ranges", {}, "at least one FIELD = [LOW, HIGH]")])
    if n < 1:
        raise ScenarioError(source, [("sample.n", n, "a whole number >= 1")])
    _check_size(n, source)
    fields = tuple(ranges)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    engine: Any = (
        qmc.LatinHypercube(d=len(fields), rng=rng)
        if method == "lhs"
        else qmc.Sobol(d=len(fields), scramble=True, rng=rng)
    )
    with _quiet_warnings():
        unit = engine.random(n)
    lows = np.array([ranges[f][0] for f in fields])
    highs = np.array([ranges[f][1] for f in fields])
    scaled = qmc.scale(unit, lows, highs)
    points = tuple({f: float(row[j]) for j, f in enumerate(fields)} for row in scaled)
    spec = {
        "sample": {
            "method": method,
            "n": n,
            "seed": seed,
            "ranges": {f: list(ranges[f]) for f in fields},
        }
    }
    return Design(method, fields, points, spec, source)


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    import warnings

    # scipy warns when a Sobol sample size is not a power of 2: the points are still valid.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _check_size(n: int, source: str, what: str = "points") -> None:
    if n > MAX_RUNS:
        raise ScenarioError(
            source, [("", MISSING, f"a design of at most {MAX_RUNS:,} {what}; this one has {n:,}")]
        )


def _flatten_table(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables as dotted keys (``rules.takedown.vagueness``); lists are leaves."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten_table(value, prefix=name + "."))
        else:
            out[name] = value
    return out


DESIGN_FILE_HELP = """\
A design file is TOML with exactly one of:
  [grid]     FIELD = [V1, V2, ...]  (full grid; quote dotted names or nest tables)
  [[points]] FIELD = VALUE           (one table per point)
  [sample]   method = "lhs"|"sobol", n = N, seed = S,
             [sample.ranges] FIELD = [LOW, HIGH]"""


def load_design(path: str | Path) -> Design:
    """Read a design file (see :data:`DESIGN_FILE_HELP`)."""
    source = str(path)
    file = Path(path)
    if not file.is_file():
        raise ScenarioError(source, [("", MISSING, "no such design file")])
    # The scenario reader's limits apply (size, encoding, nesting, key depth, long ints).
    data = _read_toml(file)
    sections = [k for k in ("grid", "points", "sample") if k in data]
    unknown = [k for k in data if k not in ("grid", "points", "sample")]
    if unknown:
        raise ScenarioError(
            source, [(unknown[0], MISSING, "unknown section; allowed: grid, points, sample")]
        )
    if len(sections) != 1:
        raise ScenarioError(
            source, [("", MISSING, "needs exactly one of [grid], [[points]], [sample]")]
        )
    section = sections[0]
    if section == "grid":
        if not isinstance(data["grid"], dict):
            raise ScenarioError(source, [("grid", data["grid"], "a table FIELD = [V1, V2, ...]")])
        return grid_design(_flatten_table(data["grid"]), source=source)
    if section == "points":
        points = data["points"]
        if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
            raise ScenarioError(source, [("points", points, "an array of tables [[points]]")])
        return points_design([_flatten_table(p) for p in points], source=source)
    sample = data["sample"]
    if not isinstance(sample, dict):
        raise ScenarioError(source, [("sample", sample, "a table")])
    extra = [k for k in sample if k not in ("method", "n", "seed", "ranges")]
    if extra:
        raise ScenarioError(
            source,
            [(f"sample.{extra[0]}", MISSING, "unknown field; allowed: method, n, seed, ranges")],
        )
    method = sample.get("method", "lhs")
    n = sample.get("n")
    seed = sample.get("seed", 0)
    if not isinstance(n, int) or isinstance(n, bool):
        raise ScenarioError(
            source, [("sample.n", n if n is not None else MISSING, "a whole number >= 1")]
        )
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError(source, [("sample.seed", seed, "a whole number >= 0")])
    ranges_raw = sample.get("ranges")
    if not isinstance(ranges_raw, dict):
        raise ScenarioError(
            source,
            [
                (
                    "sample.ranges",
                    ranges_raw if ranges_raw is not None else MISSING,
                    "a table FIELD = [LOW, HIGH]",
                )
            ],
        )
    ranges: dict[str, tuple[float, float]] = {}
    for name, bounds in _flatten_table(ranges_raw).items():
        ok = (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            and bounds[0] < bounds[1]
        )
        if not ok:
            raise ScenarioError(
                source, [(f"sample.ranges.{name}", bounds, "[LOW, HIGH] with LOW < HIGH")]
            )
        ranges[name] = (float(bounds[0]), float(bounds[1]))
    return sampled_design(ranges, n, method=str(method), seed=seed, source=source)


# ---------------------------------------------------------------------------------------
# Models: what one (point, seed) evaluates to


class Model(Protocol):
    """Evaluates one point with one seed to a flat mapping of metric name to number."""

    def __call__(self, values: Mapping[str, Any], seed: int) -> dict[str, float]: ...

    def identity(self) -> dict[str, Any]:
        """Plain data that identifies the model (part of the design hash)."""
        ...

    def prepare(self, design: Design) -> Design:
        """Check every point before anything runs; may convert values (e.g. to int)."""
        ...


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
        int_fields = set()
        for name in design.fields:
            current = get_dotted(plain, name)
            if isinstance(current, int) and not isinstance(current, bool):
                int_fields.add(name)
        points = []
        for point in design.points:
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
            override(base, converted, source=design.source)
            points.append(converted)
        return Design(design.kind, design.fields, tuple(points), design.spec, design.source)

    def __call__(self, values: Mapping[str, Any], seed: int) -> dict[str, float]:
        from simulator.simulation import run

        results = run(self.scenario(values), seed=seed)
        return flatten_summary(results.summary)


def flatten_summary(summary: Mapping[str, Any]) -> dict[str, float]:
    """The numbers of a run summary as flat ``name -> float`` (NaN where undefined).

    Top-level numbers keep their names; nested ones are dotted (``users_final.excluded``,
    ``per_kind.critical.speech_loss``, ``events.detention``). Every event kind is present
    (0 when none happened), so all runs report the same metrics."""
    skip = {"seed", "horizon_days", "users"}
    out: dict[str, float] = {}
    for key, value in summary.items():
        if key in skip or isinstance(value, bool):
            continue
        if isinstance(value, int | float | np.integer | np.floating):
            out[key] = float(value)
    for key, value in summary.get("users_final", {}).items():
        out[f"users_final.{key}"] = float(value)
    events = summary.get("events", {})
    for kind in EventKind:
        out[f"events.{kind.value}"] = float(events.get(kind.value, 0))
    per_kind = summary.get("per_kind", {})
    for label in KIND_LABELS:
        row = per_kind.get(label, {})
        for name in ("speech_loss", "withheld_share", "taken_down_share"):
            if name in row:
                out[f"per_kind.{label}.{name}"] = float(row[name])
    return out


# ---------------------------------------------------------------------------------------
# Executors


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


#: prctl option: the signal the kernel sends this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _start_worker(sweep_pid: int) -> None:
    """Initializer of every local worker process.

    Ctrl-C goes to the whole process group: only the sweep's process handles it (and
    stops the workers). A worker must not outlive the sweep's process: killed with
    SIGKILL, or by SIGTERM, the sweep cannot stop its workers, and they would wait for
    tasks forever (and keep the fork server and the resource tracker alive). So each
    worker watches that process and exits when it is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    threading.Thread(
        target=_exit_when_gone, args=(sweep_pid,), name="censim-watch-sweep", daemon=True
    ).start()


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when the thread that forked it ends.
    That is the fork server under ``forkserver`` (it exits once the sweep's process and
    every worker are gone), the sweep's process under ``spawn``: a second guard, not a
    replacement for :func:`_exit_when_gone`."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: the watcher thread still works
        pass


def _exit_when_gone(pid: int) -> None:
    """Block until process ``pid`` ends, then end this process at once (``os._exit``:
    a worker holds no results; they are written by the sweep's process)."""
    import select

    try:
        # Readable when the process exits; no polling, no pid-reuse race.
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # not Linux 5.3+: poll
        while True:
            time.sleep(1.0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:  # alive, someone else's: cannot happen for our parent
                pass
    select.select([handle], [], [])
    os._exit(1)


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
            context.set_forkserver_preload(["simulator.simulation", "simulator.experiments"])
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


# ---------------------------------------------------------------------------------------
# The store


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def design_hash(model: Model, design: Design, seed: int) -> str:
    """What identifies the runs of a store: model, points and base seed (not ``reps``:
    replication seeds come from ``SeedSequence(seed).spawn``, whose first children do not
    depend on how many are drawn, so a rerun with more ``reps`` extends the store)."""
    identity = {
        "format": STORE_FORMAT,
        "model": model.identity(),
        "fields": list(design.fields),
        "points": list(design.points),
        "seed": seed,
    }
    return hashlib.sha256(_canonical(identity).encode()).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (:func:`simulator.files.atomic_write_bytes`:
    a temporary file in the same folder, flushed, renamed into place). An operating-system
    error (disk full, a read-only folder) becomes an :class:`OutputError` naming the file."""
    _explained(path, lambda: atomic_write_bytes(path, text.encode("utf-8")))


def _atomic_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (:func:`simulator.results.write_csv`), written as
    :func:`_atomic_write` writes."""
    _explained(path, lambda: atomic_write_with(path, lambda temporary: write_csv(frame, temporary)))


def _explained(path: Path, write: Callable[[], None]) -> None:
    try:
        write()
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(
            f"{shown(path)}: could not write it ({reason}); nothing was half-written"
        ) from None


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def run_file_name(point: int, replication: int) -> str:
    return f"p{point:04d}-r{replication:03d}.json"


#: Names of the run records :func:`run_file_name` gives.
RUN_FILE = re.compile(r"p[0-9]{4,}-r[0-9]{3,}\.json")
#: Files a sweep (or a sensitivity analysis) writes at the top of its store.
STORE_FILES = ("summary.csv", "long.csv", "indices.csv", "indices.png", "design.json")


class Store:
    """A sweep's folder: ``design.json``, ``runs/*.json``, ``summary.csv``, ``long.csv``."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.runs = self.out / "runs"
        self._lock: Any = None

    def open(self, manifest: dict[str, Any], force: bool) -> None:
        """Create the store, or reopen one made by the same design; lock it.

        Only a free folder (missing or empty) or a censim sweep store is used: a folder of
        the user's is refused with or without ``force`` (``output_folders``); ``force``
        clears a censim store of another design, deleting only the files censim writes.
        """
        check_store_folder(self.out)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"{shown(self.out)}: cannot write here ({error.strerror})") from None
        self._acquire_lock()
        check_store_folder(self.out)  # again, now that no other sweep can write here
        design_file = self.out / "design.json"
        if design_file.exists():
            try:
                existing = json.loads(design_file.read_text())
                existing_hash = existing.get("design_hash")
            except (OSError, ValueError, AttributeError):
                existing_hash = None
            if existing_hash != manifest["design_hash"]:
                if not force:
                    raise OutputError(
                        f"{shown(self.out)}: holds results of a different sweep (another "
                        "scenario, design or seed); choose another --out, or pass --force "
                        "to delete them"
                    )
                self._clear()
        # Leftovers of writes cut short by a kill: never complete results, safe to drop.
        for temp in itertools.chain(self.runs.glob(".*.tmp"), self.out.glob(".*.tmp")):
            with contextlib.suppress(OSError):
                temp.unlink()
        # design.json first: it marks the folder as a censim store before any run is in it.
        _atomic_write(
            design_file,
            json.dumps({FOLDER_KEY: SWEEP, **manifest}, indent=2, allow_nan=False) + "\n",
        )
        try:
            self.runs.mkdir(exist_ok=True)
        except OSError as error:
            raise OutputError(f"{shown(self.out)}: cannot write here ({error.strerror})") from None

    def _acquire_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        handle = open(self.out / ".lock", "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise OutputError(
                f"{shown(self.out)}: another censim sweep is writing here; "
                "wait for it or use another --out"
            ) from None
        self._lock = handle

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _clear(self) -> None:
        """Delete what censim wrote in the store (run records by their names, the tables,
        a sensitivity analysis's indices, design.json); anything else stays."""
        if self.runs.is_dir():
            for path in self.runs.iterdir():
                if RUN_FILE.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                    path.unlink()
        for name in STORE_FILES:
            path = self.out / name
            if path.is_file() and not path.is_symlink():
                path.unlink()

    def done(
        self, points: Sequence[Mapping[str, Any]], seeds: Sequence[int]
    ) -> dict[tuple[int, int], dict[str, Any]]:
        """Runs already in the store and intact, keyed by (point, replication).

        A record that cannot be trusted (unreadable, not JSON, its checksum not matching
        its content, another run's, no metrics...) is named in a warning and left out,
        so it runs again and its file is replaced. Something censim never writes where a
        record belongs (a folder, a FIFO, a symlink, a device) is an :class:`OutputError`,
        raised before anything runs: it is not replaced. Records without a checksum
        (written before checksums, or stripped) are accepted with one warning."""
        found: dict[tuple[int, int], dict[str, Any]] = {}
        unchecked = 0
        for point, values in enumerate(points):
            for replication, seed in enumerate(seeds):
                path = self.runs / run_file_name(point, replication)
                try:
                    mode = os.lstat(path).st_mode
                except FileNotFoundError:
                    continue
                except OSError as error:
                    warn(f"{path}: cannot be read ({error.strerror}); running it again")
                    continue
                if not stat.S_ISREG(mode):
                    raise OutputError(
                        f"{path}: is {kind_of_file(mode)} where a run record belongs; censim "
                        "did not write it and will not replace it: move it away and rerun"
                    )
                record, problem = read_record(path, point, replication, seed, values)
                if record is None:
                    warn(f"{path}: {problem}; running it again")
                    continue
                unchecked += RECORD_CHECKSUM not in record
                found[(point, replication)] = record
        if unchecked:
            warn(
                f"{self.runs}: {unchecked} run record{'s have' if unchecked > 1 else ' has'} "
                "no checksum (written by an older censim?): accepted unchecked; delete "
                "them to run them again"
            )
        return found

    def write_run(self, record: dict[str, Any]) -> None:
        """Write a run's record (with its checksum) whole or not at all."""
        path = self.runs / run_file_name(record["point"], record["replication"])
        _atomic_write(path, json.dumps(with_checksum(record), indent=1, allow_nan=False) + "\n")


#: The key of a run record's checksum: the sha256 of the canonical JSON of the rest.
RECORD_CHECKSUM = "sha256"
#: Largest run record read back (bytes); a record of a scenario run is about 3 kB.
MAX_RECORD_BYTES = 1_000_000


def record_checksum(record: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of ``record`` without its
    checksum; ``ValueError`` if it holds NaN or an infinity (censim writes those as null)."""
    content = {k: v for k, v in record.items() if k != RECORD_CHECKSUM}
    return hashlib.sha256(_canonical(content).encode()).hexdigest()


def with_checksum(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with its checksum as the last key."""
    content = {k: v for k, v in record.items() if k != RECORD_CHECKSUM}
    return {**content, RECORD_CHECKSUM: record_checksum(content)}


def read_record(
    path: Path, point: int, replication: int, seed: int, values: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, str]:
    """The run record at ``path`` if it is intact and is the record of this point,
    replication, seed and values: ``(record, "")``; else ``(None, what is wrong)``."""
    try:
        raw = read_regular_file(path, MAX_RECORD_BYTES, follow_symlinks=False)
    except UnreadableFile as error:
        return None, error.reason
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "is not valid JSON (cut short or damaged)"
    if not isinstance(record, dict):
        return None, f"is a JSON {type(record).__name__}, not a run record (a JSON object)"
    if RECORD_CHECKSUM in record:
        try:
            intact = record[RECORD_CHECKSUM] == record_checksum(record)
        except ValueError:
            return None, "holds NaN or an infinity (censim writes null): edited"
        if not intact:
            return None, "its checksum does not match its content (edited or damaged)"
    expected = {"point": point, "replication": replication, "seed": seed}
    for key, wanted in expected.items():
        if record.get(key) != wanted or isinstance(record.get(key), bool):
            return None, f"has {key} {record.get(key)!r}, not {wanted!r}: another run's record"
    if _canonical_or_none(record.get("values")) != _canonical_or_none(dict(values)):
        return None, "its values differ from the design's point"
    metrics = record.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return None, "has no metrics"
    for name, number in metrics.items():
        plain = number is None or (isinstance(number, int | float) and not isinstance(number, bool))
        if not plain or (number is not None and not math.isfinite(number)):
            return None, f"metric {name!r} is {number!r}, not a finite number or null"
    return record, ""


def _canonical_or_none(data: Any) -> str | None:
    try:
        return _canonical(data)
    except (TypeError, ValueError):
        return None


def _record(
    point: int, replication: int, seed: int, values: Mapping[str, Any], metrics: Mapping[str, float]
) -> dict[str, Any]:
    return {
        "point": point,
        "replication": replication,
        "seed": seed,
        "values": dict(values),
        "metrics": {k: _json_number(float(v)) for k, v in sorted(metrics.items())},
    }


# ---------------------------------------------------------------------------------------
# Tables


def _cell(value: Any) -> Any:
    # Lists and tables (e.g. a list of prohibited kinds) go into one CSV cell as JSON.
    return json.dumps(value) if isinstance(value, list | dict) else value


def long_table(records: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> pd.DataFrame:
    """One row per point x replication x metric, sorted by point, replication, metric."""
    rows = []
    for record in sorted(records, key=lambda r: (r["point"], r["replication"])):
        base = {
            "point": record["point"],
            "replication": record["replication"],
            "seed": record["seed"],
        }
        for name in fields:
            base[name] = _cell(record["values"].get(name))
        for metric in sorted(record["metrics"]):
            value = record["metrics"][metric]
            rows.append({**base, "metric": metric, "value": np.nan if value is None else value})
    columns = ["point", "replication", "seed", *fields, "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def t_interval(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float, int]:
    """Mean and t-based ``level`` interval of the finite ``values``: (mean, low, high, n).
    Bounds are NaN with fewer than 2 values; everything NaN with none."""
    from scipy import stats

    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    n = int(data.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(data.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * data.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def summary_table(
    long: pd.DataFrame, design: Design, metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per point: the fields' values, replications, and mean / 95% low / 95% high of each
    metric (``SUMMARY_METRICS`` where the model reports them, else all)."""
    available = list(dict.fromkeys(long["metric"])) if len(long) else []
    if metrics is None:
        chosen = [m for m in SUMMARY_METRICS if m in available] or sorted(available)
    else:
        chosen = list(metrics)
    groups = {
        key: frame["value"].to_numpy(dtype=float)
        for key, frame in long.groupby(["point", "metric"], sort=False)
    }
    reps = long.groupby("point")["replication"].nunique().to_dict() if len(long) else {}
    empty = np.array([], dtype=float)
    rows = []
    for point, values in enumerate(design.points):
        row: dict[str, Any] = {"point": point}
        for name in design.fields:
            row[name] = _cell(values.get(name))
        row["reps"] = int(reps.get(point, 0))
        for metric in chosen:
            mean, low, high, _ = t_interval(groups.get((point, metric), empty))
            row[f"{metric}_mean"] = mean
            row[f"{metric}_low"] = low
            row[f"{metric}_high"] = high
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Sweeps


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
    machine has (:mod:`simulator.resources`; ``check_resources=False`` skips that).
    """
    if not isinstance(design, Design):
        design = grid_design(design, source="design")
    if model is None:
        if scenario is None:
            raise SweepError("sweep: give a scenario or a model")
        loaded = resolve_scenario(scenario)
        model = ScenarioModel(loaded)
        seed = loaded.seed if seed is None else seed
    seed = 0 if seed is None else int(seed)
    if not 1 <= reps <= 100_000:
        raise SweepError(f"--reps: {reps} is not allowed; give 1 to 100000 replications")
    if not 0 <= seed <= 2**63 - 1:
        raise SweepError(f"--seed: {seed} is not allowed; give 0 to 2**63-1")
    _check_size(len(design) * reps, design.source, "runs (points x replications)")
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
    store = Store(out)
    store.open(manifest, force=force)
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
            _atomic_csv(long, store.out / "long.csv")
            _atomic_csv(summary, store.out / "summary.csv")
    finally:
        store.close()
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
    from simulator import resources

    runs = len(design) * reps
    scenarios: list[Scenario] = []
    if isinstance(model, ScenarioModel):
        # The points' scenarios differ in size only through SIZE_FIELDS: build one per
        # distinct combination of those (usually just the base scenario).
        sized = [f for f in design.fields if f in SIZE_FIELDS]
        combos = {
            _canonical({f: p[f] for f in sized if f in p}): {f: p[f] for f in sized if f in p}
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
            record = _record(point, replication, seeds[replication], design.points[point], metrics)
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


def apply_fixed(scenario: Scenario, fixed: Mapping[str, Any], source: str = "--set") -> Scenario:
    """The scenario with fixed overrides (``--set``, ``--days``, ``--users``) applied."""
    return override(scenario, dict(fixed), source=source) if fixed else scenario


def design_from_options(vary: Iterable[str] = (), design_file: str | Path | None = None) -> Design:
    """The design given on the command line: ``--vary`` options (a full grid) or a design
    file (not both). No ``--vary`` and no file: a single point (the scenario as is)."""
    vary = list(vary)
    if vary and design_file is not None:
        raise SweepError("give --vary options or --design FILE, not both")
    if design_file is not None:
        return load_design(design_file)
    grid: dict[str, list[Any]] = {}
    for text in vary:
        name, values = parse_vary(text)
        if name in grid:
            raise ScenarioError("--vary", [(name, text, "each field may be varied once")])
        grid[name] = values
    return grid_design(grid, source="--vary")


__all__ = [
    "Design",
    "DaskExecutor",
    "Executor",
    "InProcessExecutor",
    "LocalExecutor",
    "Model",
    "ScenarioModel",
    "Store",
    "SweepError",
    "SweepResults",
    "design_from_options",
    "flatten_summary",
    "grid_design",
    "load_design",
    "make_executor",
    "parse_range",
    "parse_set",
    "parse_vary",
    "points_design",
    "sampled_design",
    "summary_table",
    "sweep",
    "t_interval",
]
