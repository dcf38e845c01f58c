"""Global sensitivity analysis with SALib: which parameters move a metric, and how much.

:func:`analyse` samples the parameter box with SALib (Saltelli/Sobol' sequences for
``sobol``, trajectories for ``morris``), runs every sample point through the same sweep
executor and resumable store as :func:`simulator.experiments.sweep` (local processes, a
Dask cluster, or in-process), averages the metric over replications, and hands the
values to SALib's analysers. It returns (and writes) the indices with 95% confidence
intervals:

- ``sobol``: first-order ``S1`` and total ``ST`` indices (shares of the metric's
  variance; bootstrap intervals). Costs ``samples * (parameters + 2)`` points; ``samples``
  must be a power of 2.
- ``morris``: elementary effects ``mu_star`` (mean absolute effect, in the metric's
  units, with a bootstrap interval), ``mu`` and ``sigma`` (spread: interactions or
  non-linearity). Costs ``samples * (parameters + 1)`` points; a cheap screening.

The model is pluggable: by default a scenario (:class:`~simulator.experiments.ScenarioModel`),
but any picklable model can be passed, such as :class:`Ishigami`, a test function with
known indices used to check this code path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import OutputError, ScenarioError
from simulator.experiments.designs import MAX_RUNS, Design, SweepError
from simulator.experiments.executors import Executor, Model, ScenarioModel
from simulator.experiments.store import atomic_csv
from simulator.experiments.sweeps import SweepResults, model_and_seed, sweep
from simulator.files import atomic_write_with
from simulator.model.scenario import Scenario, override

METHODS = ("sobol", "morris")
#: Default base samples per method (Sobol: a power of 2; Morris: trajectories).
DEFAULT_SAMPLES = {"sobol": 64, "morris": 10}
#: Grid levels of the Morris method.
MORRIS_LEVELS = 4
#: Bootstrap resamples for the confidence intervals.
RESAMPLES = 200


@dataclass(frozen=True)
class Ishigami:
    """The Ishigami function, ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` on ``[-pi, pi]^3``:
    a standard test of sensitivity methods, with indices known in closed form
    (:meth:`analytic`). Ignores the seed. Metric: ``y``."""

    a: float = 7.0
    b: float = 0.1

    names = ("x1", "x2", "x3")

    def __call__(self, values: Mapping[str, Any], seed: int) -> dict[str, float]:
        x1, x2, x3 = (float(values[n]) for n in self.names)
        y = math.sin(x1) + self.a * math.sin(x2) ** 2 + self.b * x3**4 * math.sin(x1)
        return {"y": y}

    def identity(self) -> dict[str, Any]:
        return {"kind": "ishigami", "a": self.a, "b": self.b}

    def prepare(self, design: Design) -> Design:
        unknown = [f for f in design.fields if f not in self.names]
        if unknown:
            raise ScenarioError(
                design.source, [(unknown[0], None, f"unknown input; allowed: {list(self.names)}")]
            )
        return design

    def analytic(self) -> dict[str, dict[str, float]]:
        """Exact first-order (``S1``) and total (``ST``) Sobol' indices per input."""
        a, b, pi = self.a, self.b, math.pi
        v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
        v2 = a**2 / 8
        v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
        variance = v1 + v2 + v13
        return {
            "S1": {"x1": v1 / variance, "x2": v2 / variance, "x3": 0.0},
            "ST": {"x1": (v1 + v13) / variance, "x2": v2 / variance, "x3": v13 / variance},
        }


@dataclass
class SensitivityResults:
    """Indices (tidy: ``parameter, index, value, conf, low, high``; ``conf`` is the half
    width of the 95% interval) and the sweep that produced them."""

    method: str
    metric: str
    indices: pd.DataFrame
    sweep: SweepResults
    out: Path

    def table(self) -> str:
        """The indices as an aligned text table."""
        lines = [f"{'parameter':<40} {'index':<8} {'value':>10} {'95% interval':>24}"]
        for row in self.indices.itertuples(index=False):
            low, high = float(row.low), float(row.high)  # type: ignore[arg-type]
            interval = f"[{low:.4g}, {high:.4g}]" if math.isfinite(low) else "(none)"
            lines.append(f"{row.parameter:<40} {row.index:<8} {row.value:>10.4g} {interval:>24}")
        return "\n".join(lines)


def _problem(params: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    return {
        "num_vars": len(params),
        "names": list(params),
        "bounds": [[float(lo), float(hi)] for lo, hi in params.values()],
    }


def sample_points(method: str, samples: int, parameters: int) -> int:
    """Points SALib draws: ``samples x (parameters + 2)`` for Sobol' (Saltelli's scheme
    without second-order indices), ``samples x (parameters + 1)`` for Morris."""
    return samples * (parameters + (2 if method == "sobol" else 1))


def sample(
    params: Mapping[str, tuple[float, float]], method: str, samples: int, seed: int
) -> np.ndarray:
    """SALib's sample matrix (one row per point, one column per parameter)."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    problem = _problem(params)
    if method == "sobol":
        return np.asarray(sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed))
    return np.asarray(morris_sample.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed))


def indices_from(
    params: Mapping[str, tuple[float, float]],
    method: str,
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
) -> pd.DataFrame:
    """Run SALib's analyser on outputs ``y`` of sample ``x``; a tidy table of indices."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    problem = _problem(params)
    rows: list[dict[str, Any]] = []
    pairs: list[tuple[str, str | None]]
    if method == "sobol":
        result = sobol_analyze.analyze(
            problem,
            y,
            calc_second_order=False,
            num_resamples=RESAMPLES,
            conf_level=0.95,
            seed=seed,
        )
        pairs = [("S1", "S1_conf"), ("ST", "ST_conf")]
    else:
        result = morris_analyze.analyze(
            problem,
            x,
            y,
            num_resamples=RESAMPLES,
            conf_level=0.95,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
        pairs = [("mu_star", "mu_star_conf"), ("mu", None), ("sigma", None)]
    for j, name in enumerate(problem["names"]):
        for index, conf_key in pairs:
            value = float(np.asarray(result[index])[j])
            conf = float(np.asarray(result[conf_key])[j]) if conf_key else math.nan
            rows.append(
                {
                    "parameter": name,
                    "index": index,
                    "value": value,
                    "conf": conf,
                    "low": value - conf,
                    "high": value + conf,
                }
            )
    return pd.DataFrame(rows, columns=["parameter", "index", "value", "conf", "low", "high"])


def metric_names(model: Model) -> list[str] | None:
    """The metrics a scenario model reports, from a tiny run (1 day, 10 users); None if
    that cannot be worked out (then the metric is checked after the runs)."""
    if not isinstance(model, ScenarioModel):
        return None
    try:
        base = model.scenario({})
        tiny = override(base, {"horizon_days": 1, "population.users": 10})
        return sorted(ScenarioModel(tiny)({}, 0))
    except Exception:  # any scenario the tiny run does not suit: check after the runs
        return None


def analyse(
    scenario: Scenario | str | Path | None,
    params: Mapping[str, tuple[float, float]],
    *,
    method: str = "sobol",
    metric: str = "speech_loss",
    samples: int | None = None,
    reps: int = 1,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path,
    force: bool = False,
    progress: bool = False,
    model: Model | None = None,
    executor: Executor | None = None,
    plot: bool = True,
    check_resources: bool = True,
) -> SensitivityResults:
    """Sensitivity of ``metric`` to ``params`` (dotted field -> (low, high)) by ``method``.

    Runs go through :func:`simulator.experiments.sweep` into ``out`` (resumable; same
    executor options). ``samples``: base sample size (default 64 for Sobol, 10 Morris
    trajectories). The metric is averaged over ``reps`` replications per point. Writes
    ``indices.csv`` and (if ``plot``) ``indices.png`` into ``out``.
    """
    if method not in METHODS:
        raise SweepError(f"--method: {method!r} is not a method; allowed: {', '.join(METHODS)}")
    if not params:
        raise SweepError("--param: give at least one FIELD=LOW:HIGH")
    n = DEFAULT_SAMPLES[method] if samples is None else int(samples)
    if method == "sobol" and (n < 2 or n & (n - 1)):
        raise SweepError(f"--samples: {n} is not allowed for sobol; use a power of 2 (e.g. 64)")
    if n < 2:
        raise SweepError(f"--samples: {n} is not allowed; use at least 2")
    # Counted from SALib's formulas before sampling (a million samples took 55 s and
    # 1.6 GB to draw before the sweep refused their runs).
    points = sample_points(method, n, len(params))
    if points * reps > MAX_RUNS:
        raise SweepError(
            f"--samples: {n:,} {method} samples of {len(params)} parameters make {points:,} "
            f"points x {reps:,} replications = {points * reps:,} runs; at most {MAX_RUNS:,} "
            "are allowed"
        )
    model, seed = model_and_seed(scenario, model, seed, "sensitivity")
    known = metric_names(model)
    if known is not None and metric not in known:
        raise SweepError(f"--metric: unknown metric {metric!r}; allowed: {', '.join(known)}")
    # SALib's samplers take a 32-bit seed; fold the 63-bit one down deterministically.
    sample_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
    x = sample(params, method, n, sample_seed)
    fields = tuple(params)
    design = Design(
        kind=f"sensitivity-{method}",
        fields=fields,
        points=tuple({f: float(row[j]) for j, f in enumerate(fields)} for row in x),
        spec={
            "sensitivity": {
                "method": method,
                "samples": n,
                "ranges": {f: list(params[f]) for f in fields},
            }
        },
        source="--param",
    )
    result = sweep(
        None,
        design,
        reps=reps,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        out=out,
        force=force,
        progress=progress,
        model=model,
        executor=executor,
        check_resources=check_resources,
        summary_metrics=[metric] if known is None or metric in known else None,
    )
    if metric not in set(result.long["metric"]):
        allowed = ", ".join(result.metrics)
        raise SweepError(
            f"--metric: unknown metric {metric!r}; allowed: {allowed} "
            "(the runs are kept: rerun with a valid --metric to reuse them)"
        )
    y = (
        result.long[result.long["metric"] == metric]
        .groupby("point")["value"]
        .mean()
        .reindex(range(len(design)))
        .to_numpy(dtype=float)
    )
    undefined = int(np.sum(~np.isfinite(y)))
    if undefined:
        raise SweepError(
            f"--metric: {metric} is undefined (NaN) at {undefined} of {len(y)} points; "
            "choose a metric defined everywhere (e.g. speech_loss)"
        )
    indices = indices_from(params, method, x, y, sample_seed)
    folder = Path(out)
    atomic_csv(indices, folder / "indices.csv")
    if plot:
        import matplotlib.pyplot as plt

        from simulator.plots.sweeps import sensitivity_bars

        figure = sensitivity_bars(indices, method=method, metric=metric, runs=result)
        png = folder / "indices.png"
        try:
            atomic_write_with(
                png,
                lambda temporary: figure.savefig(
                    temporary, format="png", dpi=120, metadata={"Software": None}
                ),
            )
        except OSError as error:
            raise OutputError(f"{png}: could not write it ({error.strerror or error})") from None
        finally:
            plt.close(figure)
    return SensitivityResults(method, metric, indices, result, folder)


def parse_params(texts: Sequence[str]) -> dict[str, tuple[float, float]]:
    """``--param FIELD=LOW:HIGH`` options as a mapping (each field once)."""
    from simulator.experiments.designs import parse_range

    params: dict[str, tuple[float, float]] = {}
    for text in texts:
        name, bounds = parse_range(text)
        if name in params:
            raise ScenarioError("--param", [(name, text, "each field may be given once")])
        params[name] = bounds
    return params
