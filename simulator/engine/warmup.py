"""Compiling the engine's kernels before a run, on two CPUs, the first time.

numba compiles a kernel the first time it is called, in the calling process, one after
another: on a machine's first run that is nearly all of the run (tens of seconds,
docs/performance.md "Start-up"). The kernels a run calls from Python and their argument
types are known in advance: :mod:`simulator.kernels.plan` lists them, recorded from runs
of the shipped scenarios (``python benchmarks/record_kernel_plan.py``), with the seconds each
took to compile alone and the kernels it compiles inside it. Before a run whose kernels
are not yet in numba's on-disk cache, :func:`compile_ahead` compiles the ones that run
needs, split over this process and one helper process by those seconds. Both write the
cache (``cache=True``); the run then finds every kernel there or in memory.

Results do not depend on it: the same code compiled the same way, by another process.
Two processes never write the cache entry of the same kernel for different argument
types at once (numba's index of a kernel's entries is rewritten whole, so such writes
could race): kernels whose compiles would share such a function stay in one process.

``censim warmup`` calls it for the shipped scenarios' kernels; ``CENSIM_PARALLEL=0``
compiles ahead in this process only. Sweep workers do not call it (they already use
every CPU; each compiles on first use).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

#: Seconds a helper process takes to start (import the package and numba) before it
#: compiles anything: counted against it when the work is split.
HELPER_START_SECONDS = 1.5
#: Profiles a run can have: whether takedown rules act ("rules") or not ("free"), and
#: whether the population is large enough for the two-thread steps ("large", from
#: :data:`simulator.model.population.THREADED_MIN_USERS` users) or not ("small").
PROFILES = ("rules-small", "free-small", "rules-large", "free-large")
#: What the last :func:`compile_ahead` that compiled anything did (for benchmarks):
#: wall ``seconds``, this process's ``cpu_seconds`` and ``kernels``, the helper's
#: ``helper_cpu_seconds`` and ``helper_kernels``.
LAST: dict[str, float] = {}
#: Profiles whose planned kernels this process found cached or compiled ahead.
_READY: set[str] = set()


@dataclass(frozen=True)
class PlannedKernel:
    """One kernel a run calls from Python, for one list of argument types."""

    name: str  #: module and function, ``simulator.kernels.publishing.publish_days``
    arg_types: tuple[str, ...]  #: numba's names of the argument types, in order
    seconds: float  #: CPU seconds it took to compile alone, callees included
    profiles: frozenset[str]  #: the run profiles (:data:`PROFILES`) that call it
    #: The package's kernels compiled inside it: (name, short hash of argument types).
    callees: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}/{signature_hash(self.arg_types)}"


def signature_hash(arg_types: Sequence[str]) -> str:
    """A short, stable name of a list of argument types (for the plan's callee lists)."""
    return hashlib.sha256(", ".join(arg_types).encode()).hexdigest()[:10]


# ----------------------------------------------------------------------------------------
# The plan: reading it, and the numba types it names
_ARRAY = re.compile(r"(readonly )?(unaligned )?array\((\w+), (\d+)d, ([CFA])\)$")


_NAMED = re.compile(r"(\w+)\((.*)\)$")
#: A named tuple whose fields share one type, as numba prints it: ``T x N``.
_SAME_FIELDS = re.compile(r"(.*) x (\d+)$")


def _top_level_split(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def parse_type(text: str) -> Any:
    """The numba type named ``text`` (``str()`` of an array, a number type, or one of the
    kernels' named tuples of them, :data:`NAMED_TUPLES`): only the kinds the kernels
    take. ValueError for any other."""
    from numba.core import types

    named = _NAMED.match(text)
    if named and named.group(1) in NAMED_TUPLES():
        cls = NAMED_TUPLES()[named.group(1)]
        parts = _top_level_split(named.group(2))
        same = _SAME_FIELDS.match(parts[0]) if len(parts) == 1 else None
        if same:  # fields all of one type: numba writes "T x N"
            return types.NamedUniTuple(parse_type(same.group(1)), int(same.group(2)), cls)
        return types.NamedTuple([parse_type(part) for part in parts], cls)
    match = _ARRAY.match(text)
    if match:
        readonly, unaligned, dtype, ndim, layout = match.groups()
        return types.Array(
            parse_type(dtype),
            int(ndim),
            layout,  # type: ignore[arg-type]
            readonly=bool(readonly),
            aligned=not unaligned,
        )
    if text == "bool":
        return types.boolean
    scalar = getattr(types, text, None)
    if isinstance(scalar, types.Number) and str(scalar) == text:
        return scalar
    raise ValueError(f"not a type the kernel plan can name: {text!r}")


@functools.cache
def NAMED_TUPLES() -> dict[str, type]:  # noqa: N802 (a constant, made on first use)
    """The named tuples kernels take as arguments, by name."""
    from simulator.kernels import channel, choice, publishing, review

    tuples = (
        choice.Beliefs, choice.SpeechInputs,
        publishing.Handles, publishing.SpeechSource, publishing.Drawn, publishing.BenignGroups,
        channel.Moderation, channel.Routes, channel.SensitivePosts, channel.BenignDay,
        channel.Generators, channel.DayCounts, channel.Buffers, review.FollowOns,
    )  # fmt: skip
    return {cls.__name__: cls for cls in tuples}


def read_plan(text: str | None = None) -> list[PlannedKernel]:
    """The kernels of :mod:`simulator.kernels.plan` (or of ``text`` in its format)."""
    if text is None:
        return list(_shipped_plan())
    kernels: list[PlannedKernel] = []
    fields: dict[str, Any] = {}

    def close() -> None:
        if fields:
            kernels.append(
                PlannedKernel(
                    name=fields["kernel"],
                    arg_types=tuple(fields.get("arg", ())),
                    seconds=float(fields.get("seconds", 0.0)),
                    profiles=frozenset(fields.get("profiles", ())),
                    callees=tuple(fields.get("calls", ())),
                )
            )
            fields.clear()

    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if not word or word.startswith("#"):
            continue
        if word == "kernel":
            close()
            fields["kernel"] = rest
        elif word in ("arg",):
            fields.setdefault("arg", []).append(rest)
        elif word == "calls":
            name, _, digest = rest.partition(" ")
            fields.setdefault("calls", []).append((name, digest))
        elif word == "profiles":
            fields["profiles"] = rest.split()
        elif word == "seconds":
            fields["seconds"] = rest
        else:
            raise ValueError(f"kernel plan: unknown line {line!r}")
    close()
    return kernels


@functools.lru_cache(maxsize=1)
def _shipped_plan() -> tuple[PlannedKernel, ...]:
    from simulator.kernels.plan import PLAN

    return tuple(read_plan(PLAN))


def write_plan(kernels: Iterable[PlannedKernel]) -> str:
    """The plan's text (the inverse of :func:`read_plan`)."""
    lines = []
    for kernel in kernels:
        lines.append(f"kernel {kernel.name}")
        lines.append(f"    seconds {kernel.seconds:.2f}")
        lines.append(f"    profiles {' '.join(sorted(kernel.profiles))}")
        lines.extend(f"    arg {arg}" for arg in kernel.arg_types)
        lines.extend(f"    calls {name} {digest}" for name, digest in kernel.callees)
    return "\n".join(lines) + "\n"


def _dispatcher(name: str) -> Any:
    module, _, function = name.rpartition(".")
    return getattr(import_module(module), function)


# ----------------------------------------------------------------------------------------
# What to compile, and who compiles it
def run_profiles(users: int, rules: bool) -> set[str]:
    """The profiles of a paired run (the rules run's, and its counterfactual's)."""
    from simulator.model.population import THREADED_MIN_USERS

    size = "large" if users >= THREADED_MIN_USERS else "small"
    return {f"{'rules' if rules else 'free'}-{size}", f"free-{size}"}


def _cached(kernel: PlannedKernel) -> bool:
    """Whether numba's on-disk cache holds ``kernel`` for its planned types, compiled
    from the source as it is now (numba's index of the kernel's entries, read as numba
    reads it: empty when missing or when the source changed since). Reads numba's cache
    internals (not public API); if they change, says False: compile."""
    try:
        index = _dispatcher(kernel.name)._cache._cache_file._load_index()
        return any(tuple(str(t) for t in key[0]) == kernel.arg_types for key in index)
    except Exception:
        return False


def split(kernels: Sequence[PlannedKernel], helper_start: float) -> tuple[list[int], list[int]]:
    """Indices of ``kernels`` for this process and for the helper: whole clusters (the
    kernels that compile some function for different argument types, so that each such
    function's cache entries are written by one process), the largest first, each to
    the process with less to do (the helper starting ``helper_start`` seconds behind)."""
    parent = list(range(len(kernels)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    signatures: dict[str, set[str]] = {}
    holders: dict[str, list[int]] = {}
    for i, kernel in enumerate(kernels):
        for name, digest in ((kernel.name, signature_hash(kernel.arg_types)), *kernel.callees):
            signatures.setdefault(name, set()).add(digest)
            holders.setdefault(name, []).append(i)
    for name, digests in signatures.items():
        if len(digests) > 1:
            first, *rest = holders[name]
            for i in rest:
                parent[root(i)] = root(first)
    clusters: dict[int, list[int]] = {}
    for i in range(len(kernels)):
        clusters.setdefault(root(i), []).append(i)
    mine: list[int] = []
    helper: list[int] = []
    load = [0.0, helper_start]
    for members in sorted(clusters.values(), key=lambda c: -sum(kernels[i].seconds for i in c)):
        side = 0 if load[0] <= load[1] else 1
        (mine if side == 0 else helper).extend(members)
        load[side] += sum(kernels[i].seconds for i in members)
    return sorted(mine), sorted(helper)


def _compile(kernel: PlannedKernel) -> None:
    dispatcher = _dispatcher(kernel.name)
    dispatcher.compile(tuple(parse_type(t) for t in kernel.arg_types))


def _helper_environment() -> dict[str, str]:
    """This process's environment, with this package first on the path (the helper must
    compile the same source files)."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def needed(
    users: int,
    rules: bool,
    plan: Sequence[PlannedKernel] | None = None,
    profiles: set[str] | None = None,
) -> list[int]:
    """Indices (in the plan) of the kernels a paired run of ``users`` users, with or
    without takedown rules, calls (or those of ``profiles``) and numba's cache does not
    hold yet."""
    plan = read_plan() if plan is None else plan
    profiles = run_profiles(users, rules) if profiles is None else profiles
    return [
        i for i, kernel in enumerate(plan) if kernel.profiles & profiles and not _cached(kernel)
    ]


def compile_ahead(
    users: int, rules: bool, *, helper: bool | None = None, profiles: set[str] | None = None
) -> float:
    """Compile the planned kernels a paired run needs (``users`` users; takedown rules
    or not; or every kernel of ``profiles``) that numba's cache lacks, half in a helper
    process when it pays (``helper``: None for "when a second CPU is free and
    ``CENSIM_PARALLEL`` is not 0"). Returns the seconds it took (0.0: nothing to do).

    Never fails a run: a kernel whose planned types no longer match, or a helper that
    dies, leaves that kernel to be compiled on first use, as without this step."""
    from numba.core import config
    from numba.core.dispatcher import Dispatcher

    from simulator.model.population import usable_cpus

    if getattr(config, "DISABLE_JIT", False):
        return 0.0
    profiles = run_profiles(users, rules) if profiles is None else profiles
    if profiles <= _READY:
        return 0.0  # checked in this process already: a run costs nothing more
    plan = read_plan()
    todo = needed(users, rules, plan, profiles)
    try:
        for i in todo:
            for arg in plan[i].arg_types:
                parse_type(arg)
    except (ValueError, AttributeError):
        return 0.0  # a numba whose type names differ: compile on first use
    todo = [i for i in todo if isinstance(_dispatcher(plan[i].name), Dispatcher)]
    if not todo:
        _READY.update(profiles)
        return 0.0
    started = time.perf_counter()
    if helper is None:
        helper = os.environ.get("CENSIM_PARALLEL", "").strip() != "0" and usable_cpus() >= 2
    kernels = [plan[i] for i in todo]
    mine, theirs = split(kernels, HELPER_START_SECONDS) if helper else (list(range(len(todo))), [])
    process = None
    if theirs:
        command = [sys.executable, "-m", "simulator.engine.warmup", "--compile"]
        command += [str(todo[i]) for i in theirs]
        try:
            process = subprocess.Popen(
                command,
                env=_helper_environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            mine = list(range(len(todo)))
    cpu_started = time.process_time()
    try:
        for i in mine:
            # A plan entry the kernel no longer accepts: it is compiled on first use.
            with contextlib.suppress(Exception):
                _compile(kernels[i])
        cpu = time.process_time() - cpu_started
        helper_cpu = _children_cpu()
        if process is not None:
            process.wait()
        helper_cpu = _children_cpu() - helper_cpu
    finally:
        if process is not None and process.poll() is None:
            process.kill()  # interrupted: the helper must not outlive the run
            process.wait()
    _READY.update(profiles)  # (what could not be compiled ahead compiles on first use)
    seconds = time.perf_counter() - started
    LAST.update(
        seconds=seconds,
        cpu_seconds=cpu,
        helper_cpu_seconds=helper_cpu if process is not None else 0.0,
        kernels=len(mine),
        helper_kernels=len(theirs) if process is not None else 0,
    )
    return seconds


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (0.0 where not measurable)."""
    try:
        import resource
    except ImportError:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _compile_indices(indices: Sequence[int]) -> int:
    """The helper: compile plan entries ``indices`` (each error left for first use)."""
    plan = read_plan()
    failed = 0
    for i in indices:
        try:
            _compile(plan[i])
        except Exception:
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--compile"]:
        sys.exit(_compile_indices([int(i) for i in sys.argv[2:]]))
    raise SystemExit("usage: python -m simulator.engine.warmup --compile INDEX...")
