"""Record ``simulator/kernels/plan.py``: the kernels runs call from Python, their argument
types, what each compiles inside it and how long it takes to compile alone.

    python benchmarks/record_kernel_plan.py          # ~5-10 minutes of CPU; rewrites the file

Run it after changing a kernel's arguments or adding one (``tests/test_warmup.py`` says
when: it fails while a run calls a kernel with types the plan does not list). Each
recording is a fresh process with an empty numba cache (``NUMBA_CACHE_DIR`` set to a new
folder), so every kernel the run calls from Python is compiled, and seen, there:

1. the runs of :data:`RECORDINGS`, each under its profile
   (:data:`simulator.engine.warmup.PROFILES`),
   list the kernels compiled at the top level (called from Python) and their types;
2. each kernel found is then compiled alone in a fresh process: its CPU seconds (numba's
   own start-up excluded) and the package's kernels compiled inside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLAN_FILE = ROOT / "simulator" / "kernels" / "plan.py"
#: (profile, scenario, changes): runs whose kernels make the plan.
RECORDINGS: list[tuple[str, str, dict[str, int]]] = [
    ("rules-small", "classroom", {}),
    ("rules-small", "china_csl_2016", {"horizon_days": 8}),
    ("free-small", "open_baseline", {"population.users": 2_000, "horizon_days": 20}),
    ("rules-large", "china_csl_2016", {"population.users": 250_000, "horizon_days": 5}),
    ("free-large", "open_baseline", {"population.users": 250_000, "horizon_days": 5}),
]
HEADER = '''"""The kernels runs call from Python, for :mod:`simulator.engine.warmup` (generated).

Written by ``python benchmarks/record_kernel_plan.py``; do not edit by hand. One block
per kernel and list of argument types: its CPU seconds to compile alone (callees
included, when recorded), the run profiles that call it, its argument types (numba's
names) and the package's kernels it compiles inside it (name, hash of their types).
"""

PLAN = """
'''


def _listen() -> list[tuple[int, str, list[str], float]]:
    """Record every numba compile from now on: (depth, kernel, argument types, CPU s)."""
    from numba.core import event

    events: list[tuple[int, str, list[str], float]] = []
    stack: list[float] = []

    class Listener(event.Listener):
        def on_start(self, ev: Any) -> None:
            stack.append(time.process_time())

        def on_end(self, ev: Any) -> None:
            started = stack.pop()
            function = ev.data["dispatcher"].py_func
            name = f"{function.__module__}.{function.__qualname__}"
            args = [str(a) for a in ev.data["args"]]
            events.append((len(stack), name, args, time.process_time() - started))

    event.register("numba:compile", Listener())
    return events


def _record_run(scenario_name: str, changes: dict[str, int]) -> list[dict[str, Any]]:
    events = _listen()
    import simulator
    from simulator.engine import warmup

    # Nothing compiled ahead from the plan being rewritten: every kernel is compiled
    # where the run first calls it, and seen there.
    warmup.compile_ahead = lambda *args, **kwargs: 0.0
    scenario = simulator.override(
        simulator.load_scenario(scenario_name), changes, source="record_kernel_plan"
    )
    simulator.run(scenario)
    return [
        {"name": name, "args": args}
        for depth, name, args, _ in events
        if depth == 0 and name.startswith("simulator.")
    ]


def _record_alone(name: str, args: list[str]) -> dict[str, Any]:
    from numba import njit

    from simulator.engine.warmup import _dispatcher, parse_type, signature_hash

    njit(lambda x: x + 1)(1)  # numba's own start-up, not counted
    events = _listen()
    dispatcher = _dispatcher(name)
    started = time.process_time()
    dispatcher.compile(tuple(parse_type(a) for a in args))
    seconds = time.process_time() - started
    callees = sorted(
        {
            (callee, signature_hash(callee_args))
            for depth, callee, callee_args, _ in events
            if depth > 0 and callee.startswith("simulator.")
        }
    )
    return {"seconds": seconds, "callees": callees}


def _child(command: list[str]) -> Any:
    """Run this file's ``command`` in a fresh process with an empty numba cache."""
    with tempfile.TemporaryDirectory(prefix="censim-plan-") as cache:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        env["NUMBA_CACHE_DIR"] = cache
        env["CENSIM_PARALLEL"] = "0"  # one process: every compile is seen here
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        done = subprocess.run(
            [sys.executable, __file__, *command],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"{command}: failed\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from simulator.engine.warmup import PlannedKernel, signature_hash, write_plan

    found: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for profile, scenario, changes in RECORDINGS:
        print(f"recording {profile}: {scenario} {changes}", flush=True)
        for entry in _child(["--run", scenario, json.dumps(changes)]):
            found.setdefault((entry["name"], tuple(entry["args"])), set()).add(profile)
    kernels = []
    for (name, args), profiles in sorted(found.items()):
        alone = _child(["--alone", name, json.dumps(list(args))])
        print(f"  {name} {signature_hash(args)}: {alone['seconds']:.1f} s", flush=True)
        kernels.append(
            PlannedKernel(
                name=name,
                arg_types=args,
                seconds=alone["seconds"],
                profiles=frozenset(profiles),
                callees=tuple((c, d) for c, d in alone["callees"]),
            )
        )
    PLAN_FILE.write_text(HEADER + write_plan(kernels) + '"""\n', encoding="utf-8")
    print(f"wrote {PLAN_FILE.relative_to(ROOT)}: {len(kernels)} kernels")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run"]:
        print(json.dumps(_record_run(sys.argv[2], json.loads(sys.argv[3]))))
    elif sys.argv[1:2] == ["--alone"]:
        print(json.dumps(_record_alone(sys.argv[2], json.loads(sys.argv[3]))))
    else:
        main()
