"""Fingerprints of the engine's outputs, to show a change to the engine changes nothing.

Runs five small scenarios (every shipped regime family, every mechanism firing), writes
each run and prints the sha256 of every deterministic file. Run it on the tree before a
change and after it and compare the two listings: an optimisation that is meant to leave
outputs unchanged must print the same lines.

    python benchmarks/hash_outputs.py > before.txt    # on the old tree
    python benchmarks/hash_outputs.py > after.txt     # on the new one
    diff before.txt after.txt
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import simulator  # noqa: E402
from simulator.output.results import DETERMINISTIC_FILES  # noqa: E402

RUNS: dict[str, tuple[str, dict[str, int]]] = {
    "classroom": ("classroom", {}),
    "csl": ("china_csl_2016", {"population.users": 20_000, "horizon_days": 60}),
    "open": ("open_baseline", {"population.users": 5_000, "horizon_days": 30}),
    "weibo": ("china_weibo_2012", {"population.users": 5_000, "horizon_days": 30}),
    "dsa": ("eu_dsa_2024", {"population.users": 5_000, "horizon_days": 30}),
}


def fingerprints() -> list[str]:
    """``"run file sha256-prefix"`` lines for every run of :data:`RUNS`."""
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for tag, (name, changes) in RUNS.items():
            scenario = simulator.load_scenario(name)
            if changes:
                scenario = simulator.override(scenario, changes, source="hash_outputs")
            folder = Path(tmp) / tag
            simulator.run(scenario).write(folder)
            for file in DETERMINISTIC_FILES:
                path = folder / file
                if path.exists():
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
                    lines.append(f"{tag} {file} {digest}")
    return lines


if __name__ == "__main__":
    print("\n".join(fingerprints()))
