"""Share of platform-days at the strictness bound (``max_strictness``) in each shipped
scenario with takedown duties, at fines x1, x10 and x100 (issue 16 item 3; docs/validation.md
defect 8): ``max_strictness`` must be a technical bound, not the calibration knob.

    python benchmarks/bound_share.py --users 10000 --days 120 --reps 2

Each replication uses the same seed at every factor (common random numbers). Prints, per
scenario and factor, the mean over replications of the share of serving platform-days
at the bound and of the mean strictness. Runs in one process (``parallel=False``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

# Run as a script from anywhere: the repository root on the path (for ``benchmarks``).
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import simulator  # noqa: E402
from benchmarks.probe_levers import (  # noqa: E402
    _scaled_ladder,
    mean_strictness,
    strictness_at_cap,
)

FACTORS = (1.0, 10.0, 100.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--seed", type=int, default=160)
    parser.add_argument("--scenario", action="append", default=None)
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=NUMBER",
        help="an override for every run (sensitivity), e.g. platforms.weibo.value=1.1e7",
    )  # fmt: skip
    args = parser.parse_args(argv)
    extra = {key: float(value) for key, value in (item.split("=", 1) for item in args.set)}
    os.environ.setdefault("CENSIM_PARALLEL", "0")
    names = args.scenario or [
        name
        for name in simulator.shipped_scenarios()
        if simulator.load_scenario(name).rules.takedown.enabled
    ]
    print("| scenario | fines | days at the bound | mean strictness |")
    print("|---|---|---|---|")
    for name in names:
        for factor in FACTORS:
            at, mean = [], []
            for r in range(args.reps):
                scenario = simulator.override(
                    simulator.load_scenario(name),
                    {
                        "population.users": args.users,
                        "horizon_days": args.days,
                        **_scaled_ladder(name, factor),
                        **extra,
                    },
                )
                results = simulator.run(scenario, seed=args.seed + r, parallel=False)
                at.append(strictness_at_cap(results, scenario))
                mean.append(mean_strictness(results, scenario))
            print(
                f"| {name} | x{factor:g} | {np.mean(at):.2f} ({min(at):.2f}-{max(at):.2f}) "
                f"| {np.mean(mean):.3f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
