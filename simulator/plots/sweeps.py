"""Plots of sweeps and sensitivity analyses, as matplotlib Figures.

- :func:`metric_plot`: a metric's mean against one parameter with a t-based 95% band
  clipped to what the metric can be, and the replications as dots (one line per
  combination of the other varied parameters).
- :func:`metric_heatmap`: a metric's mean over a grid of two parameters.
- :func:`sensitivity_bars`: sensitivity indices with their 95% intervals as error bars.

Each takes a :class:`~simulator.experiments.SweepResults` (or a sweep folder) and returns
a Figure; nothing is shown or saved here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.experiments.designs import SweepError
from simulator.experiments.intervals import interval_columns, is_share, metric_domain
from simulator.experiments.sweeps import SweepResults
from simulator.plots.style import MARKERS, new_figure, overlap_notes, style, zero_line
from simulator.plots.style import title as house_title


def _results(results: SweepResults | str | Path) -> SweepResults:
    return results if isinstance(results, SweepResults) else SweepResults.read(results)


def _check(results: SweepResults, fields: list[str], metric: str) -> None:
    available = results.fields
    for name in fields:
        if name not in available:
            raise SweepError(
                f"{name!r} is not a field of this sweep; allowed: {', '.join(available) or 'none'}"
            )
    if metric not in results.metrics:
        raise SweepError(
            f"--metric: {metric!r} is not a metric of this sweep; allowed: "
            + ", ".join(results.metrics)
        )


def _per_point(results: SweepResults, metric: str) -> pd.DataFrame:
    """One row per point: the fields, mean, low, high of ``metric`` over replications
    (the t-interval clipped to the metric's range: a share to [0, 1], a count to at
    least 0; :func:`~simulator.experiments.intervals.metric_domain`), the bootstrap
    interval, and the replications' values."""
    domain = metric_domain(metric)
    values = results.values(metric)
    rows = []
    for point, group in values.groupby("point", sort=True):
        data = group["value"].to_numpy(dtype=float)
        row: dict[str, Any] = {"point": point, "values": data}
        for name in results.fields:
            row[name] = group[name].iloc[0]
        row.update(interval_columns(data, domain), n=int(np.isfinite(data).sum()))
        rows.append(row)
    return pd.DataFrame(rows)


def metric_unit(metric: str) -> str:
    """The unit a sweep's ``metric`` is drawn in: a share from 0 to 1, a count or total
    over the whole run, or (any other metric) the metric's own value."""
    if is_share(metric):
        return "share, 0 to 1"
    if metric_domain(metric) == (0.0, math.inf):
        return "whole run"
    return "value"


def sweep_size(results: SweepResults) -> tuple[str, int | str | None, int | str | None]:
    """The swept model's name, users and days for the title: the scenario's numbers,
    ``"varied"`` where the sweep varies them, ``None`` for a model that is no scenario."""
    model = results.manifest.get("model", {})
    name = str(model.get("name", "model"))
    if model.get("kind") != "scenario":
        return name, None, None
    scenario = model.get("scenario", {})
    fields = results.fields
    users: int | str | None = scenario.get("population", {}).get("users")
    days: int | str | None = scenario.get("horizon_days")
    if "population.users" in fields:
        users = "varied"
    if "horizon_days" in fields:
        days = "varied"
    return name, users, days


def sweep_title(results: SweepResults, what: str, unit: str) -> str:
    """The house title (:func:`~simulator.plots.style.title`) of a sweep's figure; a model
    that is no scenario has no population: its name is said instead."""
    name, users, days = sweep_size(results)
    if users is None and days is None:
        return f"{what} ({unit}) \u2014 model {name}"
    return house_title(what, unit, name, users, days)


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _positions(values: pd.Series) -> tuple[np.ndarray, list[Any], bool]:
    """Numeric x values as they are; anything else as evenly spaced categories. A point
    of a ``[[points]]`` design that does not set the field keeps the scenario's value:
    it is the category ``scenario's``."""
    present = values.notna()
    if not present.all():
        values = values.astype(object).where(present, "scenario's")
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and values.dtype != bool:
        return numeric.to_numpy(dtype=float), [], True
    categories = list(dict.fromkeys(values.tolist()))
    return np.array([categories.index(v) for v in values], dtype=float), categories, False


def metric_plot(
    results: SweepResults | str | Path, x: str, metric: str, *, title: str | None = None
) -> Figure:
    """``metric`` (mean over replications) against field ``x`` with a 95% t band, drawn
    in the house style (:mod:`simulator.plots.style`) with the zero baseline marked."""
    with style():
        return _metric_plot(results, x, metric, title)


def _metric_plot(
    results: SweepResults | str | Path, x: str, metric: str, title: str | None
) -> Figure:
    data = _results(results)
    _check(data, [x], metric)
    table = _per_point(data, metric)
    others = [f for f in data.fields if f != x and table[f].nunique() > 1]
    figure = new_figure(7, 4.5)
    ax = figure.add_subplot()
    zero_line(ax)
    groups = list(table.groupby(others, sort=True)) if others else [((), table)]
    labels = [
        ", ".join(
            f"{f}={_label(v)}"
            for f, v in zip(others, key if isinstance(key, tuple) else (key,), strict=True)
        )
        for key, _ in groups
    ]
    # A line identical to an earlier one hides it: its legend says so and each line
    # has its own marker (issue 18 item 6).
    means = [group.sort_values(x)["mean"].to_numpy() for _, group in groups]
    notes = overlap_notes(dict(zip(labels, means, strict=True)))
    for i, (label, (_, group)) in enumerate(zip(labels, groups, strict=True)):
        xs, categories, numeric = _positions(group[x])
        order = np.argsort(xs, kind="stable")
        line = ax.plot(
            xs[order], group["mean"].to_numpy()[order], marker=MARKERS[i % len(MARKERS)],
            label=(label + notes[label]) if label else None,
        )[0]  # fmt: skip
        low, high = group["low"].to_numpy()[order], group["high"].to_numpy()[order]
        if np.isfinite(low).any():
            ax.fill_between(xs[order], low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        # The replications themselves: a mixture (a rare big event in one run of four)
        # shows as a lone dot far from the rest, which a symmetric band hides.
        spread = [(x_value, v) for x_value, vs in zip(xs, group["values"], strict=True) for v in vs]
        if len(spread) > len(xs):  # more than one replication
            dots_x, dots_y = zip(*spread, strict=True)
            ax.plot(
                dots_x, dots_y, linestyle="none", marker=".", markersize=4, alpha=0.5,
                color=line.get_color(), gid="replications",
            )  # fmt: skip
        if not numeric:
            ax.set_xticks(range(len(categories)), [_label(c) for c in categories])
    reps = int(table["n"].max()) if len(table) else 0
    unit = metric_unit(metric)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{metric}\n({unit})")
    ax.set_title(
        title
        or sweep_title(
            data,
            f"{metric} against {x}",
            f"{unit}; mean and 95% t band over {reps} replications, dots: replications",
        ),
        fontsize=9,
    )
    if others:
        ax.legend(fontsize="small")
    return figure


def metric_heatmap(
    results: SweepResults | str | Path, x: str, y: str, metric: str, *, title: str | None = None
) -> Figure:
    """Mean of ``metric`` over the grid of fields ``x`` and ``y`` (averaged over
    replications and over any other varied field), each cell's value written in it, in
    the house style (title with unit and users x days; viridis, which reads in greyscale).
    """
    with style():
        return _metric_heatmap(results, x, y, metric, title)


def _metric_heatmap(
    results: SweepResults | str | Path, x: str, y: str, metric: str, title: str | None
) -> Figure:
    data = _results(results)
    if x == y:
        raise SweepError("--x and --y must be different fields")
    _check(data, [x, y], metric)
    values = data.values(metric)
    grid = values.groupby([y, x], sort=True)["value"].mean().unstack(x)
    others = [f for f in data.fields if f not in (x, y) and values[f].nunique() > 1]
    figure = new_figure(7, 5)
    ax = figure.add_subplot()
    ax.grid(False)
    matrix = grid.to_numpy(dtype=float)
    image = ax.imshow(matrix, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [_label(v) for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [_label(v) for v in grid.index])
    finite = matrix[np.isfinite(matrix)]
    middle = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if np.isfinite(matrix[i, j]):
                ax.text(
                    j,
                    i,
                    f"{matrix[i, j]:.3g}",
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="black" if matrix[i, j] > middle else "white",
                )
    unit = metric_unit(metric)
    figure.colorbar(image, ax=ax, label=f"{metric} ({unit})")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    note = f", averaged over {', '.join(others)}" if others else ""
    ax.set_title(
        title
        or sweep_title(data, f"{metric} over {x} x {y}", f"{unit}; mean over replications{note}"),
        fontsize=9,
    )
    return figure


def sensitivity_bars(
    indices: pd.DataFrame,
    *,
    method: str,
    metric: str,
    title: str | None = None,
    runs: SweepResults | None = None,
) -> Figure:
    """Bars of sensitivity indices with 95% intervals: S1 and ST (Sobol) or mu* and
    sigma (Morris) per parameter; the legend says what each index means. ``runs`` (the
    sweep the indices come from) gives the title its scenario and users x days."""
    with style():
        return _sensitivity_bars(indices, method, metric, title, runs)


#: What each sensitivity index means, as its legend entry says it.
INDEX_MEANINGS = {
    "S1": "S1: share of the variance due to this parameter alone",
    "ST": "ST: share including its interactions (ST - S1 = interactions)",
    "mu_star": "\u03bc*: mean |effect| of a step in this parameter (importance)",
    "sigma": "\u03c3: spread of those effects (non-linearity or interactions)",
}


def _sensitivity_bars(
    indices: pd.DataFrame, method: str, metric: str, title: str | None, runs: SweepResults | None
) -> Figure:
    shown = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
    parameters = list(dict.fromkeys(indices["parameter"]))
    figure = new_figure(max(6.0, 1.6 * len(parameters) + 2), 4.5)
    ax = figure.add_subplot()
    width = 0.8 / len(shown)
    positions = np.arange(len(parameters), dtype=float)
    for k, index in enumerate(shown):
        subset = indices[indices["index"] == index].set_index("parameter").reindex(parameters)
        conf = subset["conf"].to_numpy(dtype=float)
        ax.bar(
            positions + (k - (len(shown) - 1) / 2) * width,
            subset["value"].to_numpy(dtype=float),
            width,
            yerr=np.where(np.isfinite(conf), conf, 0.0) if np.isfinite(conf).any() else None,
            capsize=4,
            label=INDEX_MEANINGS[index],
        )
    ax.set_xticks(positions, parameters, rotation=15, ha="right", fontsize="small")
    zero_line(ax)
    unit = (
        "index, share of variance 0 to 1"
        if method == "sobol"
        else f"elementary effect, {metric} ({metric_unit(metric)})"
    )
    ax.set_ylabel("index (share of variance)" if method == "sobol" else unit)
    what = f"{'Sobol' if method == 'sobol' else 'Morris'} sensitivity of {metric}"
    ax.set_title(
        title
        or (
            sweep_title(runs, what, f"{unit}; 95% intervals")
            if runs is not None
            else f"{what} ({unit}; 95% intervals)"
        ),
        fontsize=9,
    )
    ax.legend(fontsize="small")
    return figure
