"""The figure of an attribution (:mod:`simulator.experiments.attribution`): a waterfall
from the metric without rules to the metric with all of them, one step per rule's
Shapley value, beside the rules alone and their interactions (Harsanyi dividends);
each with its 95% t-interval and the replications themselves as dots (docs/plots.md).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from simulator.experiments.attribution import Attribution, coalition_label
from simulator.experiments.designs import SweepError
from simulator.experiments.intervals import is_share
from simulator.plots.compare import COMPARISON_METRICS
from simulator.plots.style import COLOURS, new_figure, style, thousands, title, wrap, zero_line

#: Fill of a step up, a step down and the two levels (distinct in greyscale too).
UP, DOWN, LEVEL = COLOURS[2], COLOURS[1], "0.55"


def metric_label(metric: str) -> str:
    """The metric with its unit: the comparison's label where it has one, else the name
    with "(%)" for a share or "(count, whole run)" for a count."""
    if metric in COMPARISON_METRICS:
        return COMPARISON_METRICS[metric][0].replace("\n", " ")
    if is_share(metric):
        return f"{metric} (%)"
    if metric.startswith(("events.", "users_final.", "excluded_by_reason.")) or metric.endswith(
        "_total"
    ):
        return f"{metric} (count, whole run)"
    return metric


def _errors(mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Error bar lengths below and above; none where there is no interval."""
    return np.clip(np.nan_to_num(np.vstack([mean - low, high - mean])), 0.0, None)


def _dots(ax: Axes, x: float, values: np.ndarray, offset: float = 0.0) -> None:
    """The replications as small dots beside the bar (their spread)."""
    finite = values[np.isfinite(values)]
    if finite.size > 1:
        ax.plot(
            np.full(finite.size, x + 0.3), finite + offset, linestyle="none", marker="o",
            markersize=3, color="black", alpha=0.6, gid="replications",
        )  # fmt: skip


def waterfall(attribution: Attribution, metric: str = "speech_loss") -> Figure:
    """``metric`` without rules, each rule's Shapley value as a step, and with all rules
    (left); each rule alone and the interactions of two rules or more (right)."""
    if metric not in attribution.metrics:
        raise SweepError(
            f"--metric: {metric!r} has no attribution here (undefined in some combination, "
            "or not a metric); allowed: " + ", ".join(attribution.metrics)
        )
    scale = 100.0 if is_share(metric) else 1.0
    rows = attribution.rows(metric)
    long = attribution.per_replication
    long = long[long["metric"] == metric]

    def row(part: str, term: str) -> dict[str, float]:
        chosen = rows[(rows["part"] == part) & (rows["term"] == term)]
        return {k: float(chosen[k].iloc[0]) * scale for k in ("mean", "t_low", "t_high")}

    def reps(part: str, term: str) -> np.ndarray:
        chosen = long[(long["part"] == part) & (long["term"] == term)]
        return chosen["value"].to_numpy(dtype=float) * scale

    rules = attribution.rules
    none, every = coalition_label(rules, 0), coalition_label(rules, 2 ** len(rules) - 1)
    with style():
        fig = new_figure(4.0 + 1.1 * (len(rules) + 2) + 0.8 * (2 ** len(rules) - 1), 4.6)
        left, right = fig.subplots(
            1, 2, gridspec_kw={"width_ratios": [len(rules) + 2, 2 ** len(rules) - 1]}
        )
        # Waterfall: no rules, one step per rule, all rules.
        labels = ["no rules", *rules, "all rules"]
        start = row("level", none)
        level = start["mean"]
        left.bar(0, level, color=LEVEL, edgecolor="0.15", width=0.6, gid="level-none")
        left.errorbar(0, level, yerr=_errors(*map(np.atleast_1d, start.values())), fmt="none",
                      ecolor="black", capsize=4)  # fmt: skip
        _dots(left, 0, reps("level", none))
        for i, rule in enumerate(rules, start=1):
            step = row("shapley", rule)
            up = step["mean"] >= 0
            left.bar(
                i, step["mean"], bottom=level, width=0.6, color=UP if up else DOWN,
                hatch="" if up else "///", edgecolor="0.15", gid=f"step-{rule}",
            )  # fmt: skip
            top = level + step["mean"]
            left.errorbar(
                i, top, yerr=_errors(np.atleast_1d(step["mean"]), np.atleast_1d(step["t_low"]),
                                     np.atleast_1d(step["t_high"])),
                fmt="none", ecolor="black", capsize=4,
            )  # fmt: skip
            _dots(left, i, reps("shapley", rule), offset=level)
            left.plot([i - 0.3, i + 0.7], [top, top], color="0.3", linewidth=0.7, linestyle=":")
            # The value left of its step (the interval and the dots are on and right of it).
            left.annotate(
                _text(step["mean"], scale), (i - 0.32, (level + top) / 2),
                textcoords="offset points", xytext=(-1, 0), ha="right", va="center", fontsize=7,
            )  # fmt: skip
            level = top
        end = row("level", every)
        n = len(rules) + 1
        left.bar(n, end["mean"], color=LEVEL, edgecolor="0.15", width=0.6, gid="level-all")
        left.errorbar(n, end["mean"], yerr=_errors(*map(np.atleast_1d, end.values())),
                      fmt="none", ecolor="black", capsize=4)  # fmt: skip
        _dots(left, n, reps("level", every))
        # The total above its bar and interval: left of it are the last rule's dots.
        above = max(float(end["mean"]), float(np.nan_to_num(end["t_high"], nan=end["mean"])))
        left.annotate(
            _text(end["mean"], scale).lstrip("+"), (n, max(above, 0.0)),
            textcoords="offset points", xytext=(0, 3), ha="center", va="bottom", fontsize=7,
            gid="total-label",
        )  # fmt: skip
        left.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
        left.set_ylabel(metric_label(metric))
        left.set_title("each rule's share of the effect (Shapley values)")
        # Rules alone and together: the Harsanyi dividends.
        terms = [("alone", rule) for rule in rules] + [
            ("interaction", coalition_label(rules, mask))
            for mask in range(2 ** len(rules))
            if bin(mask).count("1") >= 2
        ]
        for j, (part, term) in enumerate(terms):
            value = row(part, term)
            colour = COLOURS[3] if part == "alone" else COLOURS[4]
            right.bar(j, value["mean"], width=0.6, color=colour, edgecolor="0.15",
                      hatch="" if part == "alone" else "...", gid=f"{part}-{term}")  # fmt: skip
            right.errorbar(j, value["mean"], yerr=_errors(*map(np.atleast_1d, value.values())),
                           fmt="none", ecolor="black", capsize=3)  # fmt: skip
            _dots(right, j, reps(part, term))
        right.set_xticks(
            range(len(terms)),
            [f"{t} alone" if p == "alone" else t.replace("+", " ×\n") for p, t in terms],
            rotation=20, ha="right", fontsize=7,
        )  # fmt: skip
        right.set_title("alone and together (Harsanyi dividends)")
        for ax in (left, right):
            zero_line(ax)
            ax.grid(axis="x", visible=False)
            if scale == 100.0:
                ax.yaxis.set_major_formatter(PercentFormatter(100.0, decimals=None))
            else:
                ax.yaxis.set_major_formatter(FuncFormatter(_number))
        what = f"{metric_label(metric)}, split among its rules"
        unit = (
            f"{attribution.reps} replications on common random numbers; bars: means, "
            "lines: 95% t-intervals, dots: replications"
        )
        width = 120
        fig.suptitle(
            title(what, unit, attribution.scenario, attribution.users,
                  attribution.horizon_days, width=width)
            if attribution.users
            # A model that is no scenario has no population: its name is said instead.
            else f"{wrap(f'{what} ({unit})', width)}\n\u2014 model {attribution.scenario}"
        )  # fmt: skip
    return fig


def _text(value: float, scale: float) -> str:
    if not math.isfinite(value):
        return ""
    return f"{value:+.2f}%" if scale == 100.0 else f"{value:+,.3g}"


def _number(value: float, position: object = None) -> str:
    return thousands(value) if abs(value) >= 100 else f"{value:g}"
