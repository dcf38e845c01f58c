"""The policy frontier as a figure (:func:`frontier_figure`): lawful speech lost (x)
against unlawful exposure prevented (y), one mark per lever setting with its 95%
intervals, the undominated settings joined (docs/experiments.md, "The policy frontier").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from simulator.experiments.frontier import LEVERS, FrontierResults
from simulator.plots.labels import place_labels
from simulator.plots.style import COLOURS, MARKERS, new_figure, style, zero_line
from simulator.plots.style import title as house_title

_LEVER_LABELS = {
    "deadline_hours": "deadline {:g} h",
    "reviewers_per_100k_users": "{:g} reviewers/100k",
    "fine_factor": "fines x{:g}",
}


def setting_label(row: pd.Series | dict[str, Any], levers: list[str]) -> str:
    """A setting's levers as words (``deadline 24 h, 5 reviewers/100k``)."""
    return ", ".join(_LEVER_LABELS[name].format(float(row[name])) for name in levers)


def varied_levers(table: pd.DataFrame) -> list[str]:
    """The levers that take more than one value in ``table`` (all if none does)."""
    varied = [name for name in LEVERS if table[name].nunique() > 1]
    return varied or list(LEVERS)


def same_places(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Which place each point (in %) is drawn at: the index of the first earlier point
    within 1% of the x axis's span (``max(1, max x)``, as the axis) and 1 point of y
    (the y axis spans 100), where their marks overlap, else its own index. Settings a
    lever did not move differ in the fourth digit at most (paired replications) and
    share a place, and one label."""
    tol_x = 0.01 * max(1.0, float(np.nanmax(x, initial=0.0)))
    out: list[int] = []
    for i in range(len(x)):
        near = [
            j for j in dict.fromkeys(out)
            if abs(x[i] - x[j]) <= tol_x and abs(y[i] - y[j]) <= 1.0
        ]  # fmt: skip
        out.append(near[0] if near else i)
    return out


#: Several values of one lever whose marks lie on each other, in few words.
_SAME_LABELS = {
    "deadline_hours": "deadlines {} h",
    "reviewers_per_100k_users": "{} reviewers/100k",
    "fine_factor": "fines x{}",
}


def _same_values(name: str, values: list[float], same: bool = True) -> str:
    """``deadlines 24 = 168 h`` (the same outcome) or ``deadlines 1, 24 h`` (marks that
    overlap): values of lever ``name`` drawn at one place."""
    return _SAME_LABELS[name].format((" = " if same else ", ").join(f"{v:g}" for v in values))


def _same_outcome(rows: pd.DataFrame) -> bool:
    """Whether ``rows`` have the same means (to 1e-12): a lever that changed nothing, as
    against marks that only lie within a mark's width of each other."""
    means = rows[["lawful_speech_lost_mean", "unlawful_exposure_prevented_mean"]].to_numpy(
        dtype=float
    )
    return bool(np.all(np.abs(means - means[0]) <= 1e-12))


def _place_text(rows: pd.DataFrame, first: str, rest: list[str], name_first: bool) -> str:
    """The label of one place: the settings of the other levers drawn there and, if
    ``name_first``, the values of the ``first`` lever (the colours) whose marks lie on
    each other there, one hiding another; then "(same outcome)" when they have the same
    means, "(marks overlap)" when they differ by less than a mark's width. Empty when
    nothing needs saying."""
    lines: list[str] = []
    same = _same_outcome(rows)
    settings = list(dict.fromkeys(setting_label(row, rest) for _, row in rows.iterrows()))
    if rest:
        lines.append(("\n= " if same else "\n& ").join(settings))
    values = list(dict.fromkeys(float(v) for v in rows[first]))
    if name_first and len(values) > 1:
        lines.append(_same_values(first, values, same))
    if len(settings) > 1 or (name_first and len(values) > 1):
        lines.append("(same outcome)" if same else "(marks overlap)")
    return "\n".join(lines)


def frontier_figure(results: FrontierResults | pd.DataFrame, title: str | None = None) -> Figure:
    """Lawful speech lost against unlawful exposure prevented, both in % of the no-rules
    counterfactual: a mark per setting (colour and marker by the first varied lever's
    value), 95% bootstrap intervals as error bars (t-intervals from a table without
    them), the frontier (undominated settings) as a line.
    Settings with the same outcome (a lever that changed nothing) share a place: their
    marks differ in shape, and the labels of the settings at one place are written
    together, once, with "same outcome" where their means are equal and "marks overlap"
    where they only lie within a mark's width (:func:`same_places`); marks of several deadlines
    (the first varied lever, the colours) on each other are named at their place, or once
    in the legend's title when they coincide at every place (a lever that changes
    nothing). The labels are placed
    last, apart from each other, the marks, bars and legend
    (:func:`simulator.plots.labels.place_labels`). Both axes start from a drawn zero line (a
    setting that loses no lawful speech sits on it). The title (house style) names the
    unit, scenario and users x days."""
    table = results.table if isinstance(results, FrontierResults) else results
    if title is None:
        # A bare table does not say its scenario or size: "?" says so in the title.
        reps = int(table["replications"].min()) if len(table) else 0
        title = house_title(
            "Policy frontier",
            f"% of the no-rules counterfactual; means and 95% {_interval_kind(table)} "
            f"intervals over {reps} paired replications",
            results.scenario if isinstance(results, FrontierResults) else "frontier table",
            results.users if isinstance(results, FrontierResults) else None,
            results.days if isinstance(results, FrontierResults) else None,
            width=60,
        )
    levers = varied_levers(table)
    first, rest = levers[0], levers[1:]
    # Each place labelled once: its point and its text.
    labelled: dict[int, tuple[tuple[float, float], str]] = {}
    bars: list[list[tuple[float, float]]] = []  # error bars and the frontier, in data units
    with style():
        fig = new_figure(7.0, 4.6)
        ax = fig.add_subplot()
        x = 100 * table["lawful_speech_lost_mean"].to_numpy(dtype=float)
        y = 100 * table["unlawful_exposure_prevented_mean"].to_numpy(dtype=float)
        # Settings at the same place (their marks overlap): one label for them all.
        place = same_places(x, y)
        members: dict[int, list[int]] = {}
        for i, key in enumerate(place):
            members.setdefault(key, []).append(i)
        # Marks of several values of the first lever (colours) on each other hide one
        # another: said once in the legend when every place holds all its values (a
        # lever that changes nothing), else at each place where it happens.
        values = sorted(float(v) for v in table[first].unique())
        everywhere = len(values) > 1 and all(
            table.iloc[rows][first].nunique() == len(values) for rows in members.values()
        )
        for key, rows in members.items():
            text = _place_text(table.iloc[rows], first, rest, name_first=not everywhere)
            if text:
                labelled[key] = ((float(x[key]), float(y[key])), text)
        for i, value in enumerate(sorted(table[first].unique())):
            mine = (table[first] == value).to_numpy()
            sub = table[mine]
            xerr = _errors(sub, "lawful_speech_lost")
            yerr = _errors(sub, "unlawful_exposure_prevented")
            ax.errorbar(
                x[mine], y[mine], xerr=xerr, yerr=yerr, fmt=MARKERS[i % len(MARKERS)],
                color=COLOURS[i % len(COLOURS)], linestyle="none", capsize=2,
                label=_LEVER_LABELS[first].format(float(value)),
            )  # fmt: skip
            for xi, yi, (left, right), (down, up) in zip(
                x[mine], y[mine], xerr.T, yerr.T, strict=True
            ):  # the bars, for the labels to keep off
                bars.append([(xi - left, yi), (xi + right, yi)])
                bars.append([(xi, yi - down), (xi, yi + up)])
        on = table["efficient"].to_numpy(dtype=bool)
        order = np.argsort(x[on])
        ax.plot(
            x[on][order], y[on][order], color="0.45", linestyle="--", linewidth=1.0,
            marker="none", label="frontier (no setting does better on both)", zorder=0,
        )  # fmt: skip
        bars.append(list(zip(x[on][order].tolist(), y[on][order].tolist(), strict=True)))
        ax.set_xlabel("lawful speech lost (% of lawful posts published without rules)")
        ax.set_ylabel("unlawful exposure prevented\n(% of views of unlawful posts without rules)")
        # From zero on both axes, a little room left of it so a mark at 0 shows whole.
        right = max(1.0, float(ax.get_xlim()[1])) * 1.1
        ax.set_xlim(-0.02 * right, right)
        ax.set_ylim(0.0, 100.0)
        zero_line(ax, axis="x")
        zero_line(ax)
        legend = ax.legend(loc="best")
        if everywhere:
            same = all(_same_outcome(table.iloc[rows]) for rows in members.values())
            legend.set_title(
                f"{_same_values(first, values, same)}:\n"
                + ("same outcome" if same else "marks overlap")
                + " at every setting",
                prop=FontProperties(size="small"),
            )
        ax.set_title(title, fontsize=9)
        # Last, on the figure as laid out: each label beside its point, apart from the
        # other labels, the marks and the legend (crowded near the origin otherwise).
        if labelled:
            spots = sorted(labelled.values())
            place_labels(
                ax, [point for point, _ in spots], [text for _, text in spots],
                marks=list(zip(x.tolist(), y.tolist(), strict=True)), lines=bars,
            )  # fmt: skip
    return fig


def _interval_kind(table: pd.DataFrame) -> str:
    """Which interval the error bars draw: the percentile bootstrap one where the table
    has it (within the replications' range, lopsided as they are: a rare big event in
    one replication shows as such), else the t-interval (a table written before)."""
    return "bootstrap" if "lawful_speech_lost_boot_low" in table else "t"


def _errors(table: pd.DataFrame, metric: str) -> np.ndarray:
    """Error bar lengths (2 x n, in %) from the interval :func:`_interval_kind` names; 0
    where undefined."""
    prefix = f"{metric}_boot_" if _interval_kind(table) == "bootstrap" else f"{metric}_"
    mean = table[f"{metric}_mean"].to_numpy(dtype=float)
    low = np.nan_to_num(mean - table[f"{prefix}low"].to_numpy(dtype=float))
    high = np.nan_to_num(table[f"{prefix}high"].to_numpy(dtype=float) - mean)
    return 100 * np.vstack([np.maximum(low, 0.0), np.maximum(high, 0.0)])
