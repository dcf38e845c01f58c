"""The phases of self-censorship from simulated runs (Daymude, Axelrod & Forrest 2025,
B2; issue 16; docs/experiments.md, "Phases from simulated runs").

A grid over the regime's tolerance, severity and surveillance, each point a sweep point
(:func:`simulator.experiments.sweep`: ``reps`` paired replications on common random
numbers), each run counting its sensitive decisions by phase and by its authors' stance
and boldness quintile (docs/metrics.md "Phases"). The axes are set on the scenario as:

- tolerance, ``vagueness``: ``rules.takedown.vagueness`` (0: a bright line, lawful
  criticism is no offence; 1: any sensitive post may be one, docs/model.md S11), and
  optionally a level ``open`` with no take-down duties (``rules.takedown.enabled =
  false``: nothing is punished, B2's tau = 1);
- severity, ``detention_days``: ``police.detention_days``;
- surveillance, ``surveillance``: a factor on every kind's
  ``police.detention_probability`` (capped at 1): how likely a reported post brings a
  detention.

Each run adds to the sweep's metrics the decisions of each stance x boldness cell by
phase (``phases.cell.s<i>.b<j>.<phase>``, sensitive kinds summed), so the figure's
defiance by desire and boldness comes from the runs, not from a synthetic population.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import OutputError
from simulator.experiments.designs import SweepError, points_design
from simulator.experiments.executors import ScenarioModel, flatten_summary
from simulator.experiments.intervals import SHARE, interval_columns
from simulator.experiments.store import atomic_text, writing_outputs
from simulator.experiments.sweeps import SweepResults, resolve_scenario, sweep
from simulator.model.scenario import Scenario
from simulator.output.phases import PHASE_COLUMNS, QUANTILES, cell_counts
from simulator.output.results import Results

#: The grid's axes, in the table's order (``tolerance`` names the vagueness level).
AXES = ("tolerance", "vagueness", "detention_days", "surveillance")
#: Kinds whose detention probability the surveillance factor scales.
_DETAINED_KINDS = ("critical", "collective_action", "unlawful")


def cell_metric(stance: int, boldness: int, phase: str) -> str:
    """The sweep metric of a cell's decisions in ``phase`` (quantiles from 1)."""
    return f"phases.cell.s{stance}.b{boldness}.{phase}"


def cell_metrics(results: Results) -> dict[str, float]:
    """A run's decisions per stance x boldness cell and phase, as sweep metrics."""
    counts = cell_counts(results.phases)
    out: dict[str, float] = {}
    for s, b in itertools.product(range(counts.shape[0]), range(counts.shape[1])):
        for p, name in enumerate(PHASE_COLUMNS):
            out[cell_metric(s + 1, b + 1, name)] = float(counts[s, b, p])
    return out


class PhaseModel(ScenarioModel):
    """A scenario as a model whose metrics add each run's decisions by cell and phase."""

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "kind": "phases"}

    def __call__(self, values: Mapping[str, Any], seed: int) -> dict[str, float]:
        from simulator.engine.pairing import run

        results = run(self.scenario(values), seed=seed)
        return {**flatten_summary(results.summary), **cell_metrics(results)}


@dataclass
class PhaseResults:
    """A finished phase grid: ``table`` (one row per point: the axes, per phase the mean
    share of sensitive decisions and its t-interval, the defiant share of each stance
    and boldness quintile), ``cells`` (points x stance x boldness x phases: decisions,
    replications summed) and the sweep it came from."""

    table: pd.DataFrame
    cells: np.ndarray
    sweep: SweepResults
    scenario: str
    users: int
    days: int

    @classmethod
    def read(cls, out: str | Path) -> PhaseResults:
        """A finished phase grid read back from its folder (the sweep's store)."""
        results = SweepResults.read(out)
        axes = results.manifest.get("phases", {}).get("axes")
        if not isinstance(axes, list):
            raise OutputError(f"{out}: a sweep, but not one `censim phases` wrote")
        table, cells = phase_table(results.long, axes)
        return cls(table, cells, results, *results.scenario_size())


#: The tolerance level where nothing is punished: no take-down duties (B2's tau = 1).
OPEN = "open"


def tolerance_label(vagueness: float | None) -> str:
    """A tolerance level's name: :data:`OPEN`, or ``vagueness <v>``."""
    return OPEN if vagueness is None else f"vagueness {vagueness:g}"


def grid_points(
    scenario: Scenario,
    vagueness: Sequence[float] | None = None,
    detention_days: Sequence[float] | None = None,
    surveillance: Sequence[float] | None = None,
    open_level: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The sweep's points (dotted scenario fields) and each point's axis values
    (``tolerance``, ``vagueness``: None at the open level, ``detention_days``,
    ``surveillance``), for every combination (an axis not given keeps the scenario's
    value; surveillance factor 1); ``open_level`` adds a first tolerance level with no
    take-down duties (nothing punished: every decision compliant)."""
    if not scenario.rules.takedown.enabled:
        raise SweepError(
            f"phases: scenario {scenario.name} has no take-down duty "
            "(rules.takedown.enabled = false): no sanction can follow a post"
        )
    police = scenario.police
    levels: dict[str, list[Any]] = {
        "vagueness": list(vagueness) if vagueness else [scenario.rules.takedown.vagueness],
        "detention_days": list(detention_days) if detention_days else [police.detention_days],
        "surveillance": list(surveillance) if surveillance else [1.0],
    }
    for name, given in levels.items():
        for value in given:
            if not np.isfinite(value) or value < 0 or (name == "vagueness" and value > 1):
                bound = "0 to 1" if name == "vagueness" else "numbers >= 0"
                raise SweepError(f"phases: {name} {value} is not allowed; give {bound}")
    if open_level:
        levels["vagueness"] = [None, *levels["vagueness"]]
    base = dict(zip(_DETAINED_KINDS, police.detention_probability.as_tuple()[1:], strict=True))
    points: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    for vague, days, factor in itertools.product(*levels.values()):
        point: dict[str, Any] = {"police.detention_days": float(days)}
        if vague is None:
            point["rules.takedown.enabled"] = False
        else:
            point["rules.takedown.vagueness"] = float(vague)
        for kind, probability in base.items():
            point[f"police.detention_probability.{kind}"] = min(1.0, probability * factor)
        points.append(point)
        values.append(
            {
                "tolerance": tolerance_label(vague),
                "vagueness": None if vague is None else float(vague),
                "detention_days": float(days),
                "surveillance": float(factor),
            }
        )
    return points, values


def phase_grid(
    scenario: Scenario | str | Path,
    *,
    vagueness: Sequence[float] | None = None,
    detention_days: Sequence[float] | None = None,
    surveillance: Sequence[float] | None = None,
    open_level: bool = False,
    reps: int = 2,
    seed: int | None = None,
    users: int | None = None,
    days: int | None = None,
    workers: int | None = None,
    out: str | Path,
    force: bool = False,
    progress: bool = False,
    check_resources: bool = True,
) -> PhaseResults:
    """Run the grid on ``scenario`` (``users`` and ``days`` shrink it) and return its
    phase table (also written to ``out/phases.csv``)."""
    loaded = resolve_scenario(scenario)
    points, values = grid_points(loaded, vagueness, detention_days, surveillance, open_level)
    size = {}
    if users is not None:
        size["population.users"] = int(users)
    if days is not None:
        size["horizon_days"] = int(days)
    design = points_design([{**size, **point} for point in points], source="phases")
    results = sweep(
        None, design, reps=reps, seed=loaded.seed if seed is None else seed, workers=workers,
        out=out, force=force, progress=progress, model=PhaseModel(loaded),
        summary_metrics=[f"phases.{name}" for name in PHASE_COLUMNS],
        extra_manifest={"phases": {"axes": values}}, check_resources=check_resources,
    )  # fmt: skip
    table, cells = phase_table(results.long, values)
    with writing_outputs(results.out, ["phases.csv"], results.manifest):
        # Whole or not at all, never through a symlink of that name (as the tables).
        atomic_text(Path(results.out) / "phases.csv", table.to_csv(index=False))
    return PhaseResults(
        table=table,
        cells=cells,
        sweep=results,
        scenario=loaded.name,
        users=int(users if users is not None else loaded.population.users),
        days=int(days if days is not None else loaded.horizon_days),
    )


def phase_table(
    long: pd.DataFrame, values: Sequence[dict[str, Any]]
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per point: the axes, ``replications``, per phase ``<phase>_mean``,
    ``_low``, ``_high``, ``_boot_low``, ``_boot_high`` (the share of sensitive decisions:
    replication mean, t-based 95% interval clipped to [0, 1] and percentile bootstrap
    one), and ``defiant_stance_q<i>`` /
    ``defiant_boldness_q<j>`` (the defiant share of the decisions of users in stance /
    boldness quintile ``i`` / ``j``, replications pooled); and the decisions by point,
    stance, boldness and phase (replications summed)."""
    rows = []
    q = QUANTILES
    cells = np.zeros((len(values), q, q, len(PHASE_COLUMNS)))
    for point, axes in enumerate(values):
        mine = long[long["point"] == point]
        row: dict[str, Any] = dict(axes)
        row["replications"] = int(mine["replication"].nunique())
        for name in PHASE_COLUMNS:
            series = mine.loc[mine["metric"] == f"phases.{name}", "value"].to_numpy(dtype=float)
            row.update(interval_columns(series, SHARE, f"{name}_"))
        sums = mine.groupby("metric")["value"].sum()
        for s, b in itertools.product(range(q), range(q)):
            for p, name in enumerate(PHASE_COLUMNS):
                cells[point, s, b, p] = float(sums.get(cell_metric(s + 1, b + 1, name), 0.0))
        total = cells[point].sum(axis=-1)
        defiant = cells[point, :, :, PHASE_COLUMNS.index("defiant")]
        with np.errstate(invalid="ignore", divide="ignore"):
            by_stance = defiant.sum(axis=1) / total.sum(axis=1)
            by_boldness = defiant.sum(axis=0) / total.sum(axis=0)
        for i in range(q):
            row[f"defiant_stance_q{i + 1}"] = float(by_stance[i])
        for j in range(q):
            row[f"defiant_boldness_q{j + 1}"] = float(by_boldness[j])
        rows.append(row)
    return pd.DataFrame(rows), cells
