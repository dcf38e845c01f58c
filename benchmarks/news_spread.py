"""How much of a replication's chilling is noise: mean and standard deviation over
seeds of ``china_csl_2016``'s chilling at four police levers (docs/validation.md, "The
news' noise"; docs/model.md S16, "Why expected cases").

    python benchmarks/news_spread.py LABEL [--users 3000] [--days 60] [--seeds 12]

Runs each lever on seeds 1..N (paired runs, one process each at a time) and prints,
per lever, the mean and the standard deviation over seeds of ``chilling_effect`` and
of ``political_speech_withheld``, under ``LABEL`` (say, the tree measured). The levers:
detention of 1 day and of 180 days (severity, the issue's probe), four times the
investigators (certainty) and four times the shipped detention days (severity, at the
shipped certainty). Run it on two trees (``PYTHONPATH=<tree>``) to compare them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import simulator  # noqa: E402

SCENARIO = "china_csl_2016"


def levers(base: simulator.Scenario) -> dict[str, dict[str, Any]]:
    """The police levers measured, as ``simulator.override`` changes."""
    police = base.police
    return {
        "detention 1 d": {"police.detention_days": 1},
        "detention 180 d": {"police.detention_days": 180},
        "certainty x4": {
            "police.investigators_per_100k_users": 4 * police.investigators_per_100k_users
        },
        "severity x4": {"police.detention_days": 4 * police.detention_days},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label", help="what is measured (printed beside each row)")
    parser.add_argument("--users", type=int, default=3_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=12)
    args = parser.parse_args()
    base = simulator.override(
        simulator.load_scenario(SCENARIO),
        {"population.users": args.users, "horizon_days": args.days},
        source="news_spread",
    )
    print(f"{SCENARIO}, {args.users:,} users x {args.days} days, seeds 1-{args.seeds}")
    print("| tree | lever | chilling mean | chilling s.d. | political withheld mean | s.d. |")
    print("|---|---|---|---|---|---|")
    for name, changes in levers(base).items():
        scenario = simulator.override(base, changes, source="news_spread")
        chilling, withheld = [], []
        for seed in range(1, args.seeds + 1):
            summary = simulator.run(scenario, seed=seed, parallel=False).summary
            chilling.append(summary["chilling_effect"])
            withheld.append(summary["political_speech_withheld"])
        c, w = np.array(chilling), np.array(withheld)
        print(
            f"| {args.label} | {name} | {c.mean():.4f} | {c.std(ddof=1):.4f} | "
            f"{w.mean():.4f} | {w.std(ddof=1):.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
