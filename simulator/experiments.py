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
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from simulator.errors import MISSING, CensimError, OutputError, ScenarioError
from simulator.interrupts import interrupts_deferred
from simulator.kinds import KIND_LABELS, EventKind
from simulator.output_folders import FOLDER_KEY, SWEEP, check_store_folder, current_umask, shown
from simulator.population import usable_cpus
from simulator.results import write_csv
from simulator.scenario import (
    Scenario,
    _read_toml,
    get_dotted,
    load_scenario,
    override,
    validate_scenario,
)
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
    points = tuple(
        dict(zip(fields, combo, strict=True))
        for combo in itertools.product(*(list(vary[f]) for f in fields))
    )
    if not points:
        points = ({},)
    _check_size(len(points), source)
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


def _check_size(n: int, source: str) -> None:
    if n > MAX_RUNS:
        raise ScenarioError(source, [("", n, f"a design of at most {MAX_RUNS:,} points")])


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


def _ignore_sigint() -> None:
    # Ctrl-C goes to the whole process group: let only the parent handle it, so it can
    # stop cleanly while workers finish (or are dropped with) their current run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
            max_workers=workers, mp_context=context, initializer=_ignore_sigint
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
        try:
            if Path(address).is_file():
                self.client = Client(scheduler_file=address, timeout="20s")
            else:
                self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError, ValueError) as error:
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
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``: a killed process
    leaves the old file or the new one, never half of one. (No fsync: that guards against
    power loss, not kills, and would cost more than a small run on some disks.)"""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); a sweep's files are ordinary, as run folders'.
        os.chmod(temp, 0o666 & ~current_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _atomic_csv(frame: pd.DataFrame, path: Path) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(temp, 0o666 & ~current_umask())  # as in _atomic_write
        write_csv(frame, Path(temp))
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


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
        self, n_points: int, reps: int, seeds: Sequence[int]
    ) -> dict[tuple[int, int], dict[str, Any]]:
        """Runs already in the store, keyed by (point, replication); unreadable ones are skipped
        (and so run again)."""
        found: dict[tuple[int, int], dict[str, Any]] = {}
        for point in range(n_points):
            for replication in range(reps):
                path = self.runs / run_file_name(point, replication)
                if not path.exists():
                    continue
                try:
                    record = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                if record.get("seed") != seeds[replication] or record.get("point") != point:
                    continue
                found[(point, replication)] = record
        return found

    def write_run(self, record: dict[str, Any]) -> None:
        path = self.runs / run_file_name(record["point"], record["replication"])
        _atomic_write(path, json.dumps(record, indent=1, allow_nan=False) + "\n")


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
        manifest = json.loads(design_file.read_text())
        return cls(
            out=folder,
            manifest=manifest,
            summary=pd.read_csv(folder / "summary.csv", keep_default_na=False, na_values=[""]),
            long=pd.read_csv(folder / "long.csv", keep_default_na=False, na_values=[""]),
        )


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
) -> SweepResults:
    """Run every point of ``design`` ``reps`` times and write the store at ``out``.

    ``design`` is a :class:`Design` or a mapping ``{field: [values]}`` (a full grid).
    ``scenario`` is a :class:`Scenario`, a shipped name or a TOML path (or ``None`` with a
    ``model``: any picklable :class:`Model`, e.g. a test function). ``seed`` defaults to the
    scenario's (0 for a model). Execution: ``executor`` if given, else a Dask cluster at
    ``scheduler`` (or ``$CENSIM_SCHEDULER``), else ``workers`` local processes (default: one
    per CPU; 0 runs in this process). Rerunning with the same arguments resumes; a
    different design in the same ``out`` is refused unless ``force``.
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
    _check_size(len(design) * reps, design.source)
    design = model.prepare(design)
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
        done = store.done(len(design), reps, seeds)
        tasks: list[Task] = [
            (p, r, design.points[p], seeds[r])
            for p in range(len(design))
            for r in range(reps)
            if (p, r) not in done
        ]
        records = dict(done)
        total = len(design) * reps
        if tasks:
            owned = executor is None
            active = make_executor(workers, scheduler) if executor is None else executor
            bar = _progress_bar(total, len(done), active.description, progress)
            try:
                for point, replication, metrics in active.run(model, tasks):
                    record = _record(
                        point, replication, seeds[replication], design.points[point], metrics
                    )
                    store.write_run(record)
                    records[(point, replication)] = record
                    bar.update(1)
            finally:
                bar.close()
                if owned:
                    active.close()
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
