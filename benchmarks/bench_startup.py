"""Start-up of ``censim run``: the cold first run (kernels compiled) and the warm one.

Measures, in one run, each as a fresh process the way a user starts it (the ``censim``
script of this interpreter's environment):

a. the first ``censim run classroom`` on a machine, with an empty numba kernel cache,
   and the share of it spent compiling;
b. the first ``censim run china_csl_2016`` (the README's first command, 100,000 users,
   365 days) with an empty cache, and its compile share;
c. a warm ``censim run classroom --days 1`` end to end (median of several);

plus ``python -c "import numba"`` and ``python -c "import simulator"`` for reference, and
with ``--install`` the README's install step (a fresh venv, ``pip install -e .``; and
with the ``dev`` extra, for comparison).

    python benchmarks/bench_startup.py              # all of it (~3 min on 2 busy cores)
    python benchmarks/bench_startup.py --no-readme  # without (b), ~1 min
    python benchmarks/bench_startup.py --install    # also time the README's install

"Cold" means numba's on-disk cache is empty: each cold run gets ``NUMBA_CACHE_DIR`` set
to a new empty folder (numba then reads and writes its index and object files only
there, never in the package's ``__pycache__``), so nothing compiled earlier on this
machine is found. The compile share is measured two ways: the wall time of the same
command run again warm (same cache folder, now full) subtracted from the cold one, and
the time numba itself reports inside its ``numba:compile`` events (outermost events
only, so a kernel compiled while its caller compiles counts once), recorded by running
the cold command through this file's ``--child`` mode, which registers the listener and
then calls the ``censim`` command in the same process.

Wall times depend on what else the machine does (``os.getloadavg`` is printed); the CPU
seconds of each command (user + system, its child processes included) vary less.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Targets of issue 13 (seconds).
TARGETS = {"classroom_cold": 15.0, "classroom_warm_day": 0.8, "readme_total": 90.0}
#: The environment variable through which a ``--child`` run learns where to write its
#: compile statistics.
STATS_VARIABLE = "CENSIM_BENCH_COMPILE_STATS"


# ----------------------------------------------------------------------------------------
# The child: the censim command with numba's compile events recorded
def _child(arguments: list[str]) -> int:
    """Run ``censim ARGUMENTS`` in this process, recording every numba compile, and
    write the statistics as JSON to the file named by :data:`STATS_VARIABLE`."""
    from numba.core import event

    spans: list[tuple[str, float, float, int]] = []  # kernel, start, end, depth
    stack: list[tuple[str, float]] = []

    class Recorder(event.Listener):
        def on_start(self, ev: Any) -> None:
            dispatcher = ev.data["dispatcher"]
            name = f"{dispatcher.py_func.__module__}.{dispatcher.py_func.__qualname__}"
            stack.append((name, time.perf_counter()))

        def on_end(self, ev: Any) -> None:
            name, started = stack.pop()
            spans.append((name, started, time.perf_counter(), len(stack)))

    event.register("numba:compile", Recorder())
    from simulator.cli.main import main

    code = 0
    try:
        main(arguments, prog_name="censim")
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        per_kernel: dict[str, dict[str, float]] = {}
        for name, start, end, depth in spans:
            entry = per_kernel.setdefault(name, {"compiles": 0, "seconds": 0.0})
            entry["compiles"] += 1
            # Exclusive time: minus the kernels compiled inside this one.
            inner = sum(e - s for _, s, e, d in spans if d == depth + 1 and s >= start and e <= end)
            entry["seconds"] += end - start - inner
        total = sum(end - start for _, start, end, depth in spans if depth == 0)
        try:
            from simulator.engine.warmup import LAST as ahead
        except ImportError:  # a tree from before simulator.engine.warmup (for a before/after)
            ahead = {}
        with open(os.environ[STATS_VARIABLE], "w", encoding="utf-8") as out:
            json.dump({"compile_seconds": total, "kernels": per_kernel, "ahead": dict(ahead)}, out)
    return code


# ----------------------------------------------------------------------------------------
# The parent
#: The command that runs censim (``--module``: ``python -m simulator.cli.main``, for a tree
#: whose console script differs from the installed one).
COMMAND: list[str] = []


def _censim() -> list[str]:
    """The ``censim`` command of this interpreter's environment."""
    if COMMAND:
        return COMMAND
    script = Path(sys.executable).parent / "censim"
    if script.exists():
        return [str(script)]
    found = shutil.which("censim")
    return [found] if found else [sys.executable, "-m", "simulator.cli.main"]


def _timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children) of one run."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def _cold_and_warm(
    name: str, arguments: list[str], work: Path, env: dict[str, str]
) -> dict[str, Any]:
    """The first run of ``censim run NAME ARGUMENTS`` with an empty kernel cache (through
    ``--child``, compile events recorded), then the same run again on the cache it
    filled."""
    cache = work / f"numba-cache-{name}"
    cache.mkdir()
    stats_file = work / f"compile-{name}.json"
    run_env = {**env, "NUMBA_CACHE_DIR": str(cache), STATS_VARIABLE: str(stats_file)}
    out = work / f"out-{name}"
    child = [sys.executable, str(Path(__file__).resolve()), "--child", "--"]
    cold, cold_cpu = _timed([*child, "run", name, *arguments, "--out", str(out)], run_env, work)
    stats = json.loads(stats_file.read_text(encoding="utf-8"))
    warm, warm_cpu = _timed(
        [*_censim(), "run", name, *arguments, "--out", str(out), "--force"], run_env, work
    )
    return {
        "cold": cold,
        "cold_cpu": cold_cpu,
        "warm": warm,
        "warm_cpu": warm_cpu,
        "compile_events": stats["compile_seconds"],
        "kernels": stats["kernels"],
        "ahead": stats.get("ahead", {}),
        "cache": cache,
    }


def _median_runs(command: list[str], env: dict[str, str], cwd: Path, repeats: int) -> float:
    return statistics.median(_timed(command, env, cwd)[0] for _ in range(repeats))


def _install(work: Path, env: dict[str, str], extras: str = "") -> float:
    """Wall seconds of the README's install step in a new venv (``python3 -m venv`` and
    ``pip install -q -e .``, or with ``extras`` such as ``[dev]``; pip's own caches as
    they are on this machine)."""
    venv = work / f"venv{extras.strip('[]')}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-e", f"{ROOT}{extras}"],
        check=True,
        env=env,
        cwd=work,
    )
    return time.perf_counter() - started


def _kernel_table(kernels: dict[str, dict[str, float]], top: int) -> list[str]:
    rows = sorted(kernels.items(), key=lambda item: -item[1]["seconds"])
    lines = [f"    {'kernel':<58} {'compiles':>8} {'seconds':>8}"]
    for name, entry in rows[:top]:
        short = name.removeprefix("simulator.")
        lines.append(f"    {short:<58} {int(entry['compiles']):>8} {entry['seconds']:>8.2f}")
    rest = rows[top:]
    if rest:
        lines.append(
            f"    {f'({len(rest)} more)':<58} {sum(int(e['compiles']) for _, e in rest):>8} "
            f"{sum(e['seconds'] for _, e in rest):>8.2f}"
        )
    lines.append(
        f"    {'all':<58} {sum(int(e['compiles']) for e in kernels.values()):>8} "
        f"{sum(e['seconds'] for e in kernels.values()):>8.2f}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-readme", action="store_true", help="skip the china_csl_2016 run")
    parser.add_argument("--install", action="store_true", help="also time the README install")
    parser.add_argument("--repeats", type=int, default=7, help="warm runs per median")
    parser.add_argument("--kernels", type=int, default=12, help="kernels listed per cold run")
    parser.add_argument(
        "--module", action="store_true", help="run `python -m simulator.cli.main`, not the script"
    )
    args = parser.parse_args()
    if args.module:
        COMMAND[:] = [sys.executable, "-m", "simulator.cli.main"]

    # The environment a user has: numba's defaults, Python writing and reading its
    # bytecode caches, buffered output.
    dropped = ("CENSIM_PARALLEL", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_") and k not in dropped}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="censim-startup-") as tmp:
        work = Path(tmp)
        print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
        python = [sys.executable, "-c"]
        results["import numba"] = _median_runs([*python, "import numba"], env, work, args.repeats)
        results["import simulator"] = _median_runs(
            [*python, "import simulator"], env, work, args.repeats
        )
        classroom = _cold_and_warm("classroom", [], work, env)
        print("classroom cold run done", flush=True)
        warm_env = {**env, "NUMBA_CACHE_DIR": str(classroom["cache"])}
        command = [*_censim(), "run", "classroom", "--days", "1", "--force"]
        _timed([*command, "--out", str(work / "day")], warm_env, work)  # the files' page cache
        results["classroom --days 1"] = _median_runs(
            [*command, "--out", str(work / "day")], warm_env, work, args.repeats
        )
        readme = None if args.no_readme else _cold_and_warm("china_csl_2016", [], work, env)
        install = _install(work, env) if args.install else None
        install_dev = _install(work, env, "[dev]") if args.install else None
        load = os.getloadavg()[0]

    print()
    print(f"{'measurement':<52} {'seconds':>8} {'CPU s':>7} {'target':>8}  met")
    for name in ("import numba", "import simulator"):
        print(f"{'python -c ' + repr(name):<52} {results[name]:>8.2f}")
    warm_day = results["classroom --days 1"]
    print(
        f"{'censim run classroom --days 1 (warm, median)':<52} {warm_day:>8.2f} {'':>7} "
        f"{TARGETS['classroom_warm_day']:>8.2f}  "
        f"{'yes' if warm_day <= TARGETS['classroom_warm_day'] else 'NO'}"
    )
    cold_runs: list[tuple[str, dict[str, Any], float | None]] = [
        ("classroom", classroom, TARGETS["classroom_cold"])
    ]
    if readme is not None:
        cold_runs.append(("china_csl_2016", readme, None))
    for name, run, target in cold_runs:
        met = "" if target is None else ("yes" if run["cold"] <= target else "NO")
        target_text = "" if target is None else f"{target:.2f}"
        print(
            f"{'censim run ' + name + ' (cold: empty cache)':<52} {run['cold']:>8.2f} "
            f"{run['cold_cpu']:>7.1f} {target_text:>8}  {met}"
        )
        print(f"{'  the same, warm':<52} {run['warm']:>8.2f} {run['warm_cpu']:>7.1f}")
        share = (run["cold"] - run["warm"]) / run["cold"]
        print(
            f"{'  compile share: (cold - warm) / cold':<52} {share:>8.1%}\n"
            f"{'  compile share: numba compile events / cold':<52} "
            f"{run['compile_events'] / run['cold']:>8.1%}   "
            f"({run['compile_events']:.1f} s in the censim process)"
        )
        ahead = run["ahead"]
        if ahead:
            # On an idle machine with two CPUs the two compile side by side: the wall
            # time is then about the longer of the two CPU times.
            print(
                f"{'  compiled ahead (engine.warmup), wall':<52} {ahead['seconds']:>8.2f}\n"
                f"{'    censim process: kernels, CPU s':<52} {int(ahead['kernels']):>8} "
                f"{ahead['cpu_seconds']:>7.1f}\n"
                f"{'    helper process: kernels, CPU s':<52} {int(ahead['helper_kernels']):>8} "
                f"{ahead['helper_cpu_seconds']:>7.1f}"
            )
    if install is not None and install_dev is not None:
        print(f"{'install: venv + pip install -e . (README)':<52} {install:>8.2f}")
        print(f"{'install: venv + pip install -e .[dev]':<52} {install_dev:>8.2f}")
        if readme is not None:
            total = install + readme["cold"]
            print(
                f"{'README first command (install + cold china run)':<52} {total:>8.2f} "
                f"{'':>7} {TARGETS['readme_total']:>8.2f}  "
                f"{'yes' if total <= TARGETS['readme_total'] else 'NO'}"
            )
            print(f"{'  the same with .[dev]':<52} {install_dev + readme['cold']:>8.2f}")
    print(f"load average at end: {load:.2f}")
    for name, run, _ in cold_runs:
        print(f"\nkernels compiled by the cold {name} run (exclusive compile seconds):")
        print("\n".join(_kernel_table(run["kernels"], args.kernels)))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        rest = sys.argv[2:]
        sys.exit(_child(rest[1:] if rest[:1] == ["--"] else rest))
    main()
