"""Fit the declared parameters of the China scenarios to their facts and print (or write)
the fitted values (docs/validation.md, "Fit and check").

What is fitted to what is declared once, in ``simulator.experiments.facts.FITS``; every
other fact of ``censim facts`` only checks. The fit (``simulator.experiments.fitting``)
takes Newton steps from the scenario's current values on paired replications (the seeds
of ``censim facts``, each scenario run as the facts run it) and prints, per parameter,
the fitted value with its 95% interval and the fact reached there with its interval.

    python benchmarks/fit_parameters.py                    # print the fit and TOML lines
    python benchmarks/fit_parameters.py --write            # also set them in the files
    python benchmarks/fit_parameters.py --scenario china_csl_2016 --reps 6 --rounds 3

Re-run it after the model changes (9 minutes on a shared 2-core machine with the defaults), then
``censim facts --reps 10`` for the held-out checks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.experiments.fitting import (  # noqa: E402
    describe,
    describe_path,
    fitted_lines,
    run_fits,
    scenario_fits,
    write_fitted,
)
from simulator.model.scenario.reading import shipped_scenarios  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=4, help="paired replications per point")
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--rounds", type=int, default=2, help="Newton steps")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--scenario", action="append", choices=sorted(scenario_fits()),
        help="fit only this scenario (repeatable); default: every declared one",
    )  # fmt: skip
    parser.add_argument("--write", action="store_true", help="set the values in the files")
    parser.add_argument("--path", action="store_true", help="print every design point")
    args = parser.parse_args()
    started = time.perf_counter()
    results = run_fits(
        args.scenario, args.reps, args.seed, args.rounds, args.workers,
        progress=lambda message: print(f"[{time.perf_counter() - started:5.0f} s] {message}",
                                       flush=True),
    )  # fmt: skip
    for result in results:
        print()
        for line in describe(result):
            print(line)
        if args.path:
            for line in describe_path(result):
                print(line)
        lines = fitted_lines(result)
        path = shipped_scenarios()[result.scenario]
        print(f"# {path.name}:")
        for field, value in lines.items():
            print(f"#   {field} = {value!r}")
        if args.write:
            write_fitted(path, lines)
            print(f"written to {path}")
    print(f"\n{time.perf_counter() - started:.0f} s ({args.reps} replications, seed {args.seed})")


if __name__ == "__main__":
    main()
