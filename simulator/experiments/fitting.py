"""Fit the declared parameters (:data:`simulator.experiments.facts.FITS`) to their facts.

The fit is a few Newton steps on paired replications (common random numbers): every
design point of a scenario runs on the same replication seeds as ``censim facts``
(``SeedSequence(seed).spawn(n)``), so the differences between points are the
parameters' effects, not the seeds'. Per scenario, with its ``d`` fitted parameters
``x`` and their facts ``y(x)`` (one fact per parameter):

1. run the current values ``x₀`` and ``x₀ ± h_j e_j`` (central differences, ``1 + 2d``
   points, ``h_j`` the parameter's declared ``step``);
2. estimate the Jacobian ``J`` of the facts' replication means and step to
   ``x₁ = x₀ + J⁻¹ (target − ȳ(x₀))``, clipped to the declared range (a step is at most
   four ``h_j``: a flat curve does not throw the fit across the range);
3. repeat from ``x₁`` (``rounds`` times), then run the last ``x`` once more: the fitted
   values' facts with their 95% intervals (``reached``).

The interval of a fitted value is the 95% t-interval of the per-replication solutions:
each replication's own Jacobian and values give its own Newton step from the same
``x₀``. (An inverse-regression interval, honest only where the curve is locally linear;
a replication whose Jacobian is singular is left out of it.)

Where a parameter cannot bring its fact inside the tolerance within its range, the
result says so (``inside`` false): that is a finding about the model, not a reason to
widen the range.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from simulator.engine.pairing import run
from simulator.experiments.facts import (
    FACT_RUN_OVERRIDES,
    FACTS,
    FITS,
    Fact,
    FittedParameter,
)
from simulator.model.scenario import Scenario, get_dotted, load_scenario, override
from simulator.streams import replication_seeds

_FACTS = {fact.fact_id: fact for fact in FACTS}


def fact_of(fit: FittedParameter) -> Fact:
    return _FACTS[fit.fact_id]


def scenario_fits(fits: Iterable[FittedParameter] = FITS) -> dict[str, list[FittedParameter]]:
    """The declared fits grouped by the scenario their fact is computed on."""
    grouped: dict[str, list[FittedParameter]] = {}
    for fit in fits:
        grouped.setdefault(fact_of(fit).scenario, []).append(fit)
    return grouped


def current_value(scenario: Scenario, fit: FittedParameter) -> float:
    """The value the scenario gives the fit's (first) field."""
    return float(get_dotted(scenario.to_dict(), fit.fields[0]))


def _evaluate(scenario: Scenario, seed: int, replication: int, ids: Sequence[str]) -> list[float]:
    """The facts ``ids`` of one replication of ``scenario``."""
    results = run(scenario, seed=seed, replication=replication)
    return [_FACTS[i].compute(results) for i in ids]


@dataclass(frozen=True)
class Point:
    """The facts at one design point: ``values[r][j]`` is fact ``j`` in replication ``r``."""

    x: tuple[float, ...]
    values: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(np.nanmean(self.values, axis=0))


def t_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval (NaNs left out)."""
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    if len(x) < 2 or np.all(x == x[0]):
        return float(x.mean()), float(x.mean()), float(x.mean())
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


@dataclass(frozen=True)
class ScenarioFit:
    """One scenario's fit: the fitted values, their intervals and the facts reached."""

    scenario: str
    fits: tuple[FittedParameter, ...]
    start: tuple[float, ...]
    value: tuple[float, ...]
    interval: tuple[tuple[float, float], ...]
    reached: tuple[tuple[float, float, float], ...]
    path: tuple[Point, ...]

    def inside(self, j: int) -> bool:
        return fact_of(self.fits[j]).inside(self.reached[j][0])


class _Runner:
    """Runs design points' replications, in worker processes when ``workers`` > 1."""

    def __init__(self, workers: int) -> None:
        self.pool = cf.ProcessPoolExecutor(workers) if workers > 1 else None

    def points(
        self,
        scenario: Scenario,
        fits: Sequence[FittedParameter],
        xs: Sequence[np.ndarray],
        seeds: Sequence[int],
    ) -> list[Point]:
        ids = [fit.fact_id for fit in fits]
        tasks = []
        for x in xs:
            changes = {
                field: float(v) for fit, v in zip(fits, x, strict=True) for field in fit.fields
            }
            # Validated here: a bad point is reported as the scenario error it is.
            changed = override(scenario, changes, source=f"fit at {changes}")
            for r, seed in enumerate(seeds):
                tasks.append((changed, seed, r, ids))
        if self.pool is None:
            out = [_evaluate(*task) for task in tasks]
        else:
            out = list(self.pool.map(_evaluate, *zip(*tasks, strict=True)))
        n = len(seeds)
        return [
            Point(tuple(float(v) for v in x), np.asarray(out[i * n : (i + 1) * n], dtype=float))
            for i, x in enumerate(xs)
        ]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def newton_step(
    center: np.ndarray,
    steps: np.ndarray,
    y0: np.ndarray,
    y_minus: np.ndarray,
    y_plus: np.ndarray,
    target: np.ndarray,
) -> np.ndarray | None:
    """``x₀ + J⁻¹ (target − y₀)`` from central differences (``y_minus[j]``,
    ``y_plus[j]``: the facts with parameter ``j`` at ``x₀ ∓ h_j``), each coordinate's
    move at most ``4 h_j``; ``None`` where ``J`` is singular or not finite."""
    jacobian = (y_plus - y_minus).T / (2.0 * steps[None, :])
    if not np.all(np.isfinite(jacobian)) or not np.all(np.isfinite(y0)):
        return None
    try:
        move = np.linalg.solve(jacobian, target - y0)
    except np.linalg.LinAlgError:
        return None
    return np.asarray(center + np.clip(move, -4.0 * steps, 4.0 * steps))


def fit_scenario(
    name: str,
    fits: Sequence[FittedParameter],
    replications: int = 4,
    seed: int = 2013,
    rounds: int = 2,
    scenario: Scenario | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> ScenarioFit:
    """Fit ``fits`` (parameters of scenario ``name``) to their facts; see the module."""
    base = scenario or override(load_scenario(name), FACT_RUN_OVERRIDES.get(name, {}), source="fit")
    seeds = replication_seeds(seed, replications)
    low = np.array([f.low for f in fits])
    high = np.array([f.high for f in fits])
    steps = np.array([f.step for f in fits])
    target = np.array([fact_of(f).target for f in fits])
    start = np.array([current_value(base, f) for f in fits])
    x = start.copy()
    path: list[Point] = []
    solutions: list[np.ndarray] = []
    runner = _Runner(workers)
    try:
        for round_index in range(rounds):
            # Keep the design inside the range: a centre within a step of a bound moves in.
            center = np.clip(x, low + steps, high - steps)
            xs = [center]
            for j in range(len(fits)):
                for sign in (-1.0, 1.0):
                    xs.append(center + sign * steps * np.eye(len(fits))[j])
            points = runner.points(base, fits, xs, seeds)
            path.extend(points)
            if progress:
                progress(f"{name}: round {round_index + 1}/{rounds} at {_fmt(center)}")
            d = len(fits)
            minus = np.array([points[1 + 2 * j].mean for j in range(d)])
            plus = np.array([points[2 + 2 * j].mean for j in range(d)])
            moved = newton_step(center, steps, points[0].mean, minus, plus, target)
            if moved is None:
                break
            x = np.clip(moved, low, high)
            solutions = []
            for r in range(replications):
                own = newton_step(
                    center,
                    steps,
                    points[0].values[r],
                    np.array([points[1 + 2 * j].values[r] for j in range(d)]),
                    np.array([points[2 + 2 * j].values[r] for j in range(d)]),
                    target,
                )
                if own is not None:
                    solutions.append(np.clip(own, low, high))
        # The values as written to the files (three significant digits) are what is run.
        x = np.array([rounded(float(v)) for v in x])
        final = runner.points(base, fits, [x], seeds)[0]
        path.append(final)
    finally:
        runner.close()
    intervals = []
    for j in range(len(fits)):
        _, lo, hi = t_interval([s[j] for s in solutions])
        intervals.append((lo, hi))
    reached = tuple(t_interval(final.values[:, j].tolist()) for j in range(len(fits)))
    return ScenarioFit(
        name,
        tuple(fits),
        tuple(float(v) for v in start),
        tuple(float(v) for v in x),
        tuple(intervals),
        reached,
        tuple(path),
    )


def _fmt(x: Iterable[float]) -> str:
    return ", ".join(f"{v:.4g}" for v in x)


def rounded(value: float, digits: int = 3) -> float:
    """``value`` to ``digits`` significant digits (what is written to a scenario file)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


# -- writing the fitted values where the scenarios read them ---------------------------

_SECTION = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.]+)\s*\]")
_NAME = re.compile(r'^\s*name\s*=\s*"([^"]*)"')


def toml_line(text: str, dotted: str) -> int:
    """The index of the one line of ``text`` (a scenario file) that sets field
    ``dotted``: ``key = value`` in the right table or named ``[[platforms]]`` entry, or
    a key of an inline table on that line. ``ValueError`` if none, or more than one."""
    parts = dotted.split(".")
    section: list[str] = []
    hits: list[int] = []
    for i, line in enumerate(text.splitlines()):
        match = _SECTION.match(line)
        if match:
            section = match.group(2).split(".")
            continue
        name = _NAME.match(line)
        if name and section == ["platforms"]:
            section = ["platforms", name.group(1)]
            continue
        depth = len(section)
        if parts[:depth] != section or depth >= len(parts):
            continue
        key, sub = parts[depth], parts[depth + 1 :]
        if not re.match(rf"^\s*{re.escape(key)}\s*=", line):
            continue
        if not sub or (len(sub) == 1 and re.search(rf"[{{,]\s*{re.escape(sub[0])}\s*=", line)):
            hits.append(i)
    if len(hits) != 1:
        raise ValueError(f"{dotted}: {len(hits)} lines set it (expected one)")
    return hits[0]


def set_toml_value(text: str, dotted: str, value: float) -> str:
    """``text`` (a scenario file) with the field ``dotted`` set to ``value``, keeping
    every comment and the layout: only the value's token changes, on the line
    :func:`toml_line` finds."""
    i = toml_line(text, dotted)
    lines = text.splitlines(keepends=True)
    number = repr(float(value))
    key = dotted.split(".")[-1]
    inline = re.search(rf"[{{,]\s*{re.escape(key)}\s*=", lines[i]) and "{" in lines[i]
    if inline:
        lines[i] = re.sub(
            rf"([{{,]\s*{re.escape(key)}\s*=\s*)[-+0-9.eE_]+", rf"\g<1>{number}", lines[i], count=1
        )
    else:
        # Keep a trailing comment's column where the padding allows.
        match = re.match(r"^(\s*[A-Za-z0-9_]+\s*=\s*)([-+0-9.eE_]+)( *)(.*)$", lines[i], re.S)
        if match is None:
            raise ValueError(f"{dotted}: line {i + 1} does not set a number")
        head, old, pad, rest = match.groups()
        if rest.startswith("#"):
            pad = " " * max(2 if pad else 0, len(old) + len(pad) - len(number))
        lines[i] = head + number + pad + rest
    return "".join(lines)


def write_fitted(path: Path, values: dict[str, float]) -> None:
    """Set ``values`` (dotted field: value) in the scenario file ``path``, in place."""
    text = path.read_text(encoding="utf-8")
    for dotted, value in values.items():
        text = set_toml_value(text, dotted, value)
    path.write_text(text, encoding="utf-8")


def fitted_lines(result: ScenarioFit) -> dict[str, float]:
    """The fields a fit sets and their (rounded) values."""
    return {
        field: rounded(value)
        for fit, value in zip(result.fits, result.value, strict=True)
        for field in fit.fields
    }


def describe(result: ScenarioFit) -> list[str]:
    """The fit as lines to print: per parameter, start, fitted value with its interval,
    the fact's target, tolerance and the value reached there with its interval."""
    lines = []
    for j, fit in enumerate(result.fits):
        fact = fact_of(fit)
        lo, hi = result.interval[j]
        mean, rlo, rhi = result.reached[j]
        lines.append(
            f"{result.scenario} {fit.fields[0]}"
            + (f" (and {len(fit.fields) - 1} more)" if len(fit.fields) > 1 else "")
            + f": {result.start[j]:.4g} -> {rounded(result.value[j]):.4g}"
            f" (95% {lo:.4g} to {hi:.4g}); {fact.fact_id} target {fact.target:g}"
            f" [{fact.low:g}, {fact.high:g}], reached {mean:.4f} ({rlo:.4f} to {rhi:.4f}): "
            + ("inside" if result.inside(j) else "OUTSIDE")
        )
    return lines


def describe_path(result: ScenarioFit) -> list[str]:
    """Every design point with its facts' means: the curve the fit walked."""
    ids = [fit.fact_id for fit in result.fits]
    out = []
    for point in result.path:
        cells = ", ".join(f"{i} {m:.4f}" for i, m in zip(ids, point.mean, strict=True))
        out.append(f"  x = ({_fmt(point.x)}): {cells}")
    return out


def run_fits(
    names: Iterable[str] | None = None,
    replications: int = 4,
    seed: int = 2013,
    rounds: int = 2,
    workers: int = 1,
    scenarios: dict[str, Scenario] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ScenarioFit]:
    """Fit every declared scenario (or those in ``names``)."""
    grouped = scenario_fits()
    chosen = list(grouped) if names is None else list(names)
    out: list[Any] = []
    for name in chosen:
        out.append(
            fit_scenario(
                name,
                grouped[name],
                replications,
                seed,
                rounds,
                (scenarios or {}).get(name),
                workers,
                progress,
            )
        )
    return out
