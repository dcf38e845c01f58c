"""Which of issue 16's conclusions survive the plausible range of each ASSUMPTION value?

One-at-a-time sensitivity (docs/validation.md, "Sensitivity of the conclusions to the
assumptions"; open defect 9): every ASSUMPTION value of the users' choice and learning
(docs/model.md S3, S16), the warning's cost and the platforms' discount rate (S8) is set
to the low and the high end of its range, one at a time, in ``china_csl_2016`` and
``germany_netzdg_2017``; at each end the key directions of issue 16 are measured on
paired replications (replication r of every level on seed ``seed + r``):

- D1 (CSL): detention severity up (1 -> 180 days, issue 16's table) -> political
  withholding up;
- D2 (CSL): certainty more than severity: detention probabilities x4 at the shipped 15
  days withhold more than 60 days at the shipped probabilities (the same expected days
  per report; the probabilities capped at 1);
- D3 (NetzDG): fines up (x0.1 -> x1, the statute's EUR 50M cap, L5) -> strictness up;

and the metrics at the shipped levers (political withholding, chilling, mean strictness,
lawful take-down rate, speech loss). Weibo's tolerance (``china_weibo_2012``,
``rules.penalties.tolerance``) is swept on its own. With ``--morris``, a Morris screening
of the same ranges (``simulator.experiments.sensitivity.analyse``) on ``speech_loss``.

    python benchmarks/sensitivity_assumptions.py                  # 3,000 users, 60 days, 4 reps
    python benchmarks/sensitivity_assumptions.py --quick          # 2,000 users, 40 days, 2 reps
    python benchmarks/sensitivity_assumptions.py --only detention_cost --morris

The ranges are a factor of 4 either way of the shipped value (choice noise 3, the
warning's cost 10, the discount rate 0.03 to 1 a year): none of these values has a
source, so the range says "an order of magnitude we cannot rule out", not a confidence
interval. Runs stay in one process (``CENSIM_PARALLEL=0``): at most one CPU (the Morris
screening uses ``--workers``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Run as a script from anywhere: the repository root on the path (for ``benchmarks``).
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import simulator  # noqa: E402
from benchmarks.probe_levers import (  # noqa: E402
    Check,
    Level,
    Size,
    _scaled_detention,
    _scaled_ladder,
    paired_difference,
    run_level,
    verdict,
)

CSL, NETZDG, WEIBO = "china_csl_2016", "germany_netzdg_2017", "china_weibo_2012"
#: Metrics of the table (benchmarks/probe_levers.py METRICS, plus the summary's speech loss).
METRICS = (
    "political_withholding",
    "chilling",
    "mean_strictness",
    "lawful_takedown_rate",
    "speech_loss",
)


@dataclass(frozen=True)
class Assumption:
    """An ASSUMPTION value: its field (``platforms.*.`` for every platform), its range as
    factors of the scenario's shipped value, and where it matters."""

    name: str
    field: str
    low: float
    high: float
    scenarios: tuple[str, ...] = (CSL, NETZDG)

    def value(self, scenario: simulator.Scenario, factor: float) -> float:
        return shipped_value(scenario, self.field) * factor

    def changes(self, scenario: simulator.Scenario, factor: float) -> dict[str, Any]:
        """Overrides setting the field to ``factor`` times its shipped value."""
        value = self.value(scenario, factor)
        if self.field.startswith("platforms.*."):
            rest = self.field.removeprefix("platforms.*.")
            return {f"platforms.{p.name}.{rest}": value for p in scenario.platforms}
        return {self.field: value}


SPEECH, PERCEPTION = "population.speech.", "population.perception."
ASSUMPTIONS = (
    Assumption("detention_cost", SPEECH + "detention_cost", 0.25, 4.0, (CSL,)),
    Assumption("detention_scale_days", SPEECH + "detention_scale_days", 0.25, 4.0, (CSL,)),
    Assumption("account_value", SPEECH + "account_value", 0.25, 4.0),
    Assumption("removal_cost", SPEECH + "removal_cost", 0.25, 4.0),
    Assumption("choice_noise", SPEECH + "choice_noise", 1 / 3, 3.0),
    Assumption("prior_trials", PERCEPTION + "prior_trials", 0.25, 4.0),
    Assumption("friend_evidence_weight", PERCEPTION + "friend_evidence_weight", 0.25, 4.0),
    Assumption(
        "friend_detention_weight", PERCEPTION + "friend_detention_weight", 0.25, 4.0, (CSL,)
    ),
    Assumption("news_case_weight", PERCEPTION + "news_case_weight", 0.25, 4.0),
    Assumption("half_life_days", PERCEPTION + "half_life_days", 0.25, 4.0),
    Assumption("warning_cost", "rules.penalties.warning_cost", 0.1, 10.0),
    Assumption("discount_rate", "platforms.*.discount_rate_per_year", 0.3, 10.0),
)

#: Weibo's tolerance (violations an audit may find without a penalty): shipped and swept.
WEIBO_TOLERANCES = (25, 50, 100)


def shipped_value(scenario: simulator.Scenario, field: str) -> float:
    """The value of a dotted field (``platforms.*.`` reads the first platform)."""
    node: Any = scenario
    for part in field.replace("platforms.*.", "platforms.0.").split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return float(node)


def speech_loss(results: simulator.Results, scenario: simulator.Scenario) -> float:
    return float(results.summary["speech_loss"])


def _register_metrics() -> None:
    from benchmarks import probe_levers

    probe_levers.METRICS.setdefault("speech_loss", speech_loss)


# --------------------------------------------------------------------------- directions


def direction_levels(scenario_name: str) -> tuple[tuple[Level, ...], tuple[Check, ...]]:
    """The levels (besides the shipped one) and the checks of the key directions."""
    levels: tuple[Level, ...]
    if scenario_name == CSL:
        levels = (
            Level("1 d", CSL, {"police.detention_days": 1.0}),
            Level("180 d", CSL, {"police.detention_days": 180.0}),
            # Four times the expected detention days per report, either way (the shipped
            # 15 days; the probabilities capped at 1).
            Level("severity x4", CSL, {"police.detention_days": 60.0}),
            Level("certainty x4", CSL, _scaled_detention(CSL, 4.0)),
        )
        checks = (
            Check("political_withholding", "180 d", "1 d", +1),  # D1
            Check("political_withholding", "certainty x4", "severity x4", +1),  # D2
        )
        return levels, checks
    if scenario_name == NETZDG:
        levels = (Level("fines x0.1", NETZDG, _scaled_ladder(NETZDG, 0.1)),)
        return levels, (Check("mean_strictness", "shipped", "fines x0.1", +1),)  # D3
    return (), ()


#: Short names of the checks, in the order of :func:`direction_levels`.
DIRECTION_NAMES = {CSL: ("D1", "D2"), NETZDG: ("D3",)}


def measure(
    scenario_name: str, changes: Mapping[str, Any], size: Size
) -> tuple[dict[str, dict[str, list[float | None]]], tuple[Check, ...]]:
    """Every level (shipped and the directions') with ``changes`` on top: label -> metric
    -> values per replication, and the checks."""
    levels, checks = direction_levels(scenario_name)
    measured = {"shipped": run_level(Level("shipped", scenario_name, dict(changes)), size, METRICS)}
    for level in levels:
        combined = Level(level.label, scenario_name, {**changes, **level.changes})
        measured[level.label] = run_level(combined, size, METRICS)
    return measured, checks


@dataclass(frozen=True)
class Row:
    scenario: str
    assumption: str
    setting: str
    metrics: dict[str, float]
    verdicts: dict[str, str]


def mean(values: Sequence[float | None]) -> float:
    finite = [float(v) for v in values if v is not None]
    return float(np.mean(finite)) if finite else float("nan")


def direction_text(
    check: Check, measured: Mapping[str, Mapping[str, Sequence[float | None]]]
) -> str:
    """The paired difference (mean and 95% interval, 3 significant digits) and the verdict."""
    difference = paired_difference(
        measured[check.level][check.metric], measured[check.reference][check.metric]
    )
    return f"{difference.text(2)}: {verdict(check, measured)}"


def rows_for(scenario_name: str, assumption: Assumption | None, size: Size) -> list[Row]:
    """The table's rows of one assumption (or the shipped values, ``None``)."""
    scenario = simulator.load_scenario(scenario_name)
    settings: list[tuple[str, dict[str, Any]]] = [("shipped", {})]
    if assumption is not None:
        settings = [
            (
                f"x{factor:.3g} ({assumption.value(scenario, factor):.3g})",
                assumption.changes(scenario, factor),
            )
            for factor in (assumption.low, assumption.high)
        ]
    rows = []
    for label, changes in settings:
        measured, checks = measure(scenario_name, changes, size)
        names = DIRECTION_NAMES.get(scenario_name, ())
        rows.append(
            Row(
                scenario_name,
                assumption.name if assumption else "(shipped)",
                label,
                {m: mean(measured["shipped"][m]) for m in METRICS},
                {n: direction_text(c, measured) for n, c in zip(names, checks, strict=True)},
            )
        )
    return rows


def weibo_tolerance_rows(size: Size) -> list[Row]:
    rows = []
    for tolerance in WEIBO_TOLERANCES:
        level = Level(f"{tolerance}", WEIBO, {"rules.penalties.tolerance": tolerance})
        measured = run_level(level, size, METRICS)
        rows.append(
            Row(WEIBO, "tolerance", str(tolerance), {m: mean(measured[m]) for m in METRICS}, {})
        )
    return rows


# --------------------------------------------------------------------------- output


def markdown(rows: Sequence[Row]) -> str:
    header = ["scenario", "assumption", "value", *METRICS, "D1", "D2", "D3"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.scenario, row.assumption, row.setting]
        cells += [f"{row.metrics[m]:.3f}" for m in METRICS]
        cells += [row.verdicts.get(d, "") for d in ("D1", "D2", "D3")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def morris(scenario_name: str, assumptions: Sequence[Assumption], size: Size, workers: int) -> str:
    """Morris elementary effects of the same ranges on ``speech_loss`` (mu_star, sigma)."""
    from simulator.experiments.sensitivity import analyse

    scenario = simulator.override(
        simulator.load_scenario(scenario_name), {"population.users": size.users}
    )
    params: dict[str, tuple[float, float]] = {}
    for a in assumptions:
        if scenario_name not in a.scenarios:
            continue
        field = a.field.replace("platforms.*.", f"platforms.{scenario.platforms[0].name}.")
        params[field] = (a.value(scenario, a.low), a.value(scenario, a.high))
    with tempfile.TemporaryDirectory() as folder:
        result = analyse(
            scenario, params, method="morris", metric="speech_loss", samples=4,
            reps=1, seed=size.seed, workers=workers, out=os.path.join(folder, "morris"),
            plot=False,
        )  # fmt: skip
        return result.table()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 users, 40 days, 2 reps")
    parser.add_argument("--users", type=int, default=None, help="users (default 3,000)")
    parser.add_argument("--days", type=int, default=None, help="days (default 60)")
    parser.add_argument("--reps", type=int, default=None, help="replications (default 4)")
    parser.add_argument("--seed", type=int, default=160)
    parser.add_argument(
        "--only", action="append", choices=[a.name for a in ASSUMPTIONS] + ["weibo_tolerance"],
        help="only this assumption (repeatable)",
    )  # fmt: skip
    parser.add_argument("--morris", action="store_true", help="also a Morris screening")
    parser.add_argument("--workers", type=int, default=1, help="workers of the Morris screening")
    args = parser.parse_args(argv)
    base = Size(2_000, 40, 2) if args.quick else Size(3_000, 60, 4)
    size = Size(args.users or base.users, args.days or base.days, args.reps or base.reps, args.seed)
    os.environ.setdefault("CENSIM_PARALLEL", "0")
    _register_metrics()
    print(
        f"censim {simulator.__version__}: {size.users:,} users, {size.days} days, "
        f"{size.reps} replications on seeds {size.seed}..{size.seed + size.reps - 1}",
        flush=True,
    )
    rows: list[Row] = []
    for scenario_name in (CSL, NETZDG):
        if not args.only:
            rows.extend(rows_for(scenario_name, None, size))
        for assumption in ASSUMPTIONS:
            if scenario_name not in assumption.scenarios:
                continue
            if args.only and assumption.name not in args.only:
                continue
            started = time.perf_counter()
            rows.extend(rows_for(scenario_name, assumption, size))
            print(
                f"  {scenario_name} {assumption.name} ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    if not args.only or "weibo_tolerance" in args.only:
        rows.extend(weibo_tolerance_rows(size))
    print()
    print(markdown(rows))
    if args.morris:
        for scenario_name in (CSL, NETZDG):
            chosen = [a for a in ASSUMPTIONS if not args.only or a.name in args.only]
            print(f"\nMorris screening, {scenario_name}, speech_loss:")
            print(morris(scenario_name, chosen, size, args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
