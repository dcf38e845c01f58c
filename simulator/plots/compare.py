"""Comparing runs: a table of the headline metrics of several runs (means and t-based
95% intervals over replications) and the figure drawn from it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from simulator.experiments.intervals import METRIC_DOMAINS, SHARE, UNBOUNDED, interval_columns
from simulator.output.metrics import MECHANISMS
from simulator.output.results import Results
from simulator.plots.style import (
    COLOURS,
    HATCHES,
    new_figure,
    scale,
    style,
    thousands,
    wrap,
    zero_line,
)

#: Axis labels of the metrics the comparison can show.
COMPARISON_LABELS: dict[str, str] = {
    "political_speech_lost": "political speech lost\n(% of critical + calls to act, vs no rules)",
    "political_speech_withheld": "political speech withheld\n(% vs no rules)",
    "political_speech_excluded": "political speech excluded\n(% vs no rules)",
    "political_speech_taken_down": "political speech taken down\n(% vs no rules)",
    "lawful_takedown_rate": "lawful take-down rate\n(% of lawful posts on a platform)",
    "speech_loss": "speech loss\n(% of lawful posts lost vs no rules)",
    "chilling_effect": "chilling effect\n(% of lawful posts withheld)",
    "collateral_share": "collateral share\n(% of takedowns that were lawful)",
    "over_removal_share": "over-removal share\n(% of takedowns not prohibited)",
    "removed_within_24h": "removed within 24 h\n(% of removals)",
    "unlawful_exposure_prevented": (
        "unlawful exposure prevented\n(% of views of unlawful posts, vs no rules)"
    ),
    "lawful_exposure_lost": "lawful exposure lost\n(% of views of lawful posts, vs no rules)",
    "excluded_share": "excluded share\n(% of intended posts)",
    "fines_total": "fines\n(regime's currency, whole run)",
    "detentions_total": "detentions\n(count, whole run)",
}
#: Metrics the comparison can show: summary key -> (axis label, is a share of 0..1;
#: :data:`~simulator.experiments.intervals.METRIC_DOMAINS` says which).
COMPARISON_METRICS: dict[str, tuple[str, bool]] = {
    metric: (label, METRIC_DOMAINS[metric] == SHARE) for metric, label in COMPARISON_LABELS.items()
}
#: The parts of the two losses by mechanism (docs/metrics.md, "Loss by mechanism"): in the
#: table, not drawn as panels (:func:`loss_by_mechanism` draws them). ``softened_in`` is a
#: gain, so at most 0; the others are shares of the counterfactual.
MECHANISM_GROUPS = {
    "speech_loss": ("speech_loss_by_mechanism", "lawful speech"),
    "political_speech_net_loss": ("political_speech_by_mechanism", "political speech"),
}
MECHANISM_METRICS = tuple(
    f"{parts}.{name}" for parts, _ in MECHANISM_GROUPS.values() for name in MECHANISMS
)
#: Metrics in the scenario's currency (the comparison's ``currency`` column).
MONEY_METRICS = ("fines_total", "moderation_cost_total")
DEFAULT_COMPARISON = (
    "political_speech_lost",
    "speech_loss",
    "chilling_effect",
    "lawful_takedown_rate",
    "collateral_share",
    "over_removal_share",
    "unlawful_exposure_prevented",
)
TABLE_METRICS = (*COMPARISON_METRICS, "political_speech_net_loss", *MECHANISM_METRICS)


# -- 5. comparing runs ------------------------------------------------------------------


def _metric(summary: Mapping[str, Any], name: str) -> float:
    if name == "excluded_share":
        intended = float(summary.get("intended", 0))
        return float(summary.get("excluded", 0)) / intended if intended else 0.0
    parent, _, child = name.partition(".")
    value = summary.get(name) if not child else summary.get(parent, {}).get(child)
    # Run folders written before a metric existed have none: NaN, left out of the mean.
    return float("nan") if value is None else float(value)


def _currency(run: Results | Mapping[str, Any]) -> str:
    """The currency of a run's money (its summary's, or its scenario's for run folders
    written before summaries named it); empty if unknown."""
    if isinstance(run, Results):
        return str(run.summary.get("currency") or run.scenario.get("currency", ""))
    return str(run.get("currency", ""))


def comparison_table(
    groups: Mapping[str, Sequence[Results | Mapping[str, Any]]],
    metrics: Sequence[str] = TABLE_METRICS,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per regime: replications, currency, and per metric its mean and t-interval.

    ``groups`` maps a label to the replications of one regime (Results or summary
    dicts). Columns: ``regime``, ``replications``, ``currency`` (of the money metrics,
    ``fines_total``; empty if unknown), then ``<metric>_mean``, ``<metric>_ci_low``,
    ``<metric>_ci_high`` (the Student-t interval of the mean at ``confidence``, clipped
    to the metric's :data:`~simulator.experiments.intervals.METRIC_DOMAINS`; NaN with a
    single replication),
    ``<metric>_boot_low``, ``<metric>_boot_high`` (the percentile bootstrap interval of
    the mean, :func:`~simulator.experiments.intervals.bootstrap_interval`) and
    ``<metric>_min``, ``<metric>_max`` (the lowest and highest replication). Shares are
    fractions (0-1). Replications in different currencies get NaN for money metrics:
    their amounts cannot be averaged.
    """
    rows = []
    for label, runs in groups.items():
        summaries = [r.summary if isinstance(r, Results) else r for r in runs]
        if not summaries:
            raise ValueError(f"{label}: no runs to compare")
        currencies = sorted({_currency(r) for r in runs} - {""})
        row: dict[str, Any] = {
            "regime": label,
            "replications": len(summaries),
            "currency": "/".join(currencies),
        }
        for metric in metrics:
            values = np.array([_metric(s, metric) for s in summaries], dtype=float)
            if metric in MONEY_METRICS and len(currencies) > 1:
                values = np.array([])
            values = values[np.isfinite(values)]
            n = len(values)
            # The t-interval clipped to the possible (a share cannot leave [0, 1], nor a
            # count go below 0) and beside it a percentile bootstrap one, within the
            # runs' range (a t-interval of a mixture, one suspension in four runs, is not).
            columns = interval_columns(
                values, METRIC_DOMAINS.get(metric, UNBOUNDED), level=confidence
            )
            row[f"{metric}_mean"] = columns["mean"]
            row[f"{metric}_ci_low"] = columns["low"]
            row[f"{metric}_ci_high"] = columns["high"]
            row[f"{metric}_boot_low"] = columns["boot_low"]
            row[f"{metric}_boot_high"] = columns["boot_high"]
            row[f"{metric}_min"] = float(values.min()) if n else float("nan")
            row[f"{metric}_max"] = float(values.max()) if n else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


Size = int | str | None


def run_sizes(groups: Mapping[str, Sequence[Results | Mapping[str, Any]]]) -> tuple[Size, Size]:
    """The users and days of the compared runs, for the title: the number all runs share,
    ``"varied"`` if they differ, ``None`` if no summary says."""

    def one(key: str) -> Size:
        values = {
            int(value)
            for runs in groups.values()
            for r in runs
            if (value := (r.summary if isinstance(r, Results) else r).get(key)) is not None
        }
        if not values:
            return None
        return next(iter(values)) if len(values) == 1 else "varied"

    return one("users"), one("horizon_days")


def _size_text(users: Size, days: Size) -> str:
    """`` — 2,000 users x 60 days`` for the title (``?`` where unknown: a table alone
    does not say; pass ``users`` and ``days``)."""
    return f" \u2014 {scale(users, days)}"


def comparison(
    groups: Mapping[str, Sequence[Results | Mapping[str, Any]]] | pd.DataFrame,
    metrics: Sequence[str] = DEFAULT_COMPARISON,
    *,
    users: Size = None,
    days: Size = None,
) -> Figure:
    """Bars of each metric's mean per regime, with 95% intervals across replications.

    ``groups`` maps a label to replications (Results or summary dicts), or is a table
    from :func:`comparison_table`. One panel per metric; bars differ by hatch as well as
    colour. Shares are shown in %, every panel from a drawn zero line, and a mean of
    exactly 0 (a bar of no height) is written as "0". The title names the units and the
    runs' population x horizon: ``users`` and ``days`` (read from ``groups`` when they
    are runs; give them with a table, :func:`run_sizes`).
    """
    unknown = [m for m in metrics if m not in COMPARISON_METRICS]
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}; allowed: {list(COMPARISON_METRICS)}")
    if not isinstance(groups, pd.DataFrame) and users is None and days is None:
        users, days = run_sizes(groups)
    table = groups if isinstance(groups, pd.DataFrame) else comparison_table(groups, metrics)
    labels = list(table["regime"])
    with style():
        columns = min(len(metrics), 2)
        rows = math.ceil(len(metrics) / columns)
        fig = new_figure(max(4.0, 1.0 + 1.1 * len(labels)) * columns, 3.0 * rows + 0.6)
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        x = np.arange(len(labels))
        for ax, metric in zip(axes, metrics, strict=False):
            label, is_share = COMPARISON_METRICS[metric]
            scale = 100.0 if is_share else 1.0
            mean = table[f"{metric}_mean"].to_numpy(dtype=float) * scale
            low = table[f"{metric}_ci_low"].to_numpy(dtype=float) * scale
            high = table[f"{metric}_ci_high"].to_numpy(dtype=float) * scale
            bars = ax.bar(
                x,
                mean,
                width=0.7,
                color=[COLOURS[(i + 1) % len(COLOURS)] for i in range(len(labels))],
                alpha=0.85,
                edgecolor="0.15",
                linewidth=0.7,
                gid=f"bars-{metric}",
            )
            for i, bar in enumerate(bars):
                bar.set_hatch(HATCHES[i % len(HATCHES)])
            has_interval = np.isfinite(low) & np.isfinite(high)
            if has_interval.any():
                ax.errorbar(
                    x[has_interval],
                    mean[has_interval],
                    # A mean just outside its interval (a share's interval is clipped
                    # to [0, 1]; speech loss can be slightly negative when softened calls
                    # to act survive as criticism) draws no bar on that side.
                    yerr=np.clip(
                        np.vstack(
                            [
                                mean[has_interval] - low[has_interval],
                                high[has_interval] - mean[has_interval],
                            ]
                        ),
                        0.0,
                        None,
                    ),
                    fmt="none",
                    ecolor="black",
                    elinewidth=1.2,
                    capsize=4,
                    gid=f"ci-{metric}",
                )
            if f"{metric}_min" in table:
                # The spread of the runs themselves, beside the interval of their mean: a
                # grey bar from the lowest to the highest replication, offset to the right.
                lowest = table[f"{metric}_min"].to_numpy(dtype=float) * scale
                highest = table[f"{metric}_max"].to_numpy(dtype=float) * scale
                spread = np.isfinite(lowest) & np.isfinite(highest) & (table["replications"] > 1)
                if spread.any():
                    ax.vlines(
                        x[spread] + 0.22, lowest[spread], highest[spread], colors="0.45",
                        linewidth=3.0, alpha=0.8, gid=f"spread-{metric}",
                    )  # fmt: skip
            ticks = [textwrap_label(s) for s in labels]
            if metric in MONEY_METRICS and "currency" in table:
                # Amounts in different currencies side by side: each bar names its own.
                ticks = [
                    f"{tick}\n({currency})" if isinstance(currency, str) and currency else tick
                    for tick, currency in zip(ticks, table["currency"], strict=True)
                ]
            ax.set_xticks(x, ticks)
            ax.set_ylabel(label)
            if is_share:
                ax.yaxis.set_major_formatter(PercentFormatter(100.0, decimals=None))
            else:
                ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            # A panel of zeros (no regime prevents any exposure) keeps a scale; a mean
            # below 0 (speech loss with softening) stays in view, under the zero line.
            top = ax.get_ylim()[1]
            drawn = [mean, low, np.zeros(1)]
            if f"{metric}_min" in table:
                drawn.append(table[f"{metric}_min"].to_numpy(dtype=float) * scale)
            deepest = float(np.nanmin(np.concatenate(drawn)))
            ax.set_ylim(min(0.0, deepest * 1.15), top if top > 0 else 1.0)
            zero_line(ax)
            for xi, value in zip(x, mean, strict=True):
                # A bar of no height is still a result: say it.
                if value == 0 or not math.isfinite(value):
                    ax.annotate(
                        "0" if value == 0 else "n/a", (xi, 0.0), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7,
                        gid=f"zero-{metric}",
                    )  # fmt: skip
            ax.grid(axis="x", visible=False)
        for ax in axes[len(metrics) :]:
            ax.set_visible(False)
        reps = sorted(set(int(n) for n in table["replications"]))
        reps_text = "/".join(str(n) for n in reps)
        head = (
            f"Comparison (units on each axis; bars: mean, whiskers: 95% t-interval over "
            f"{reps_text} replication(s), grey: lowest to highest replication)"
        )
        fig.suptitle(wrap(head, 80) + "\n" + _size_text(users, days).strip())
    return fig


def loss_by_mechanism(table: pd.DataFrame, *, users: Size = None, days: Size = None) -> Figure:
    """Lawful and political speech lost per regime, split by mechanism (stacked means over
    the replications; docs/metrics.md, "Loss by mechanism"); ``users`` and ``days`` (the
    runs' population x horizon, :func:`run_sizes`) go into the title.

    ``table`` is a :func:`comparison_table` with the mechanism columns. The losses stack
    up from 0, posts said as criticism instead (``softened_in``) go below it, and a
    diamond marks the net loss with its 95% interval: the parts add up to it.
    """
    labels = list(table["regime"])
    names = {
        "withheld": "withheld",
        "softened": "softened (said as criticism)",
        "excluded": "excluded",
        "blocked": "blocked before publication",
        "removed": "removed",
        "softened_in": "other kinds said as criticism (gain)",
    }
    with style():
        fig = new_figure(max(6.0, 1.0 + 1.3 * len(labels)) * 2, 4.2)
        axes = fig.subplots(1, 2, squeeze=False).ravel()
        x = np.arange(len(labels))
        for ax, (total, (parts, title)) in zip(axes, MECHANISM_GROUPS.items(), strict=True):
            up, down = np.zeros(len(labels)), np.zeros(len(labels))
            for i, name in enumerate(MECHANISMS):
                column = f"{parts}.{name}_mean"
                values = 100.0 * np.nan_to_num(table[column].to_numpy(dtype=float))
                base = np.where(values >= 0, up, down)
                ax.bar(
                    x, values, bottom=base, width=0.6, label=names[name],
                    color=COLOURS[(i + 1) % len(COLOURS)], hatch=HATCHES[i % len(HATCHES)],
                    edgecolor="0.15", linewidth=0.6, alpha=0.85, gid=f"bars-{parts}-{name}",
                )  # fmt: skip
                up, down = (
                    np.where(values >= 0, up + values, up),
                    np.where(values < 0, down + values, down),
                )
            net = 100.0 * table[f"{total}_mean"].to_numpy(dtype=float)
            low = 100.0 * table[f"{total}_ci_low"].to_numpy(dtype=float)
            high = 100.0 * table[f"{total}_ci_high"].to_numpy(dtype=float)
            error = np.clip(np.nan_to_num(np.vstack([net - low, high - net])), 0.0, None)
            ax.errorbar(
                x, net, yerr=error, fmt="D", color="black", markersize=6, capsize=4,
                label="net loss (95% interval)", gid=f"net-{parts}",
            )  # fmt: skip
            zero_line(ax)
            ax.set_xticks(x, [textwrap_label(label) for label in labels])
            ax.set_ylabel(f"{title} lost\n(% of its posts surviving without rules)")
            ax.yaxis.set_major_formatter(PercentFormatter(100.0, decimals=None))
            ax.set_title(title)
            ax.grid(axis="x", visible=False)
        handles, legend_labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, legend_labels, loc="outside lower center", ncols=4, fontsize=8)
        reps = "/".join(str(n) for n in sorted(set(int(n) for n in table["replications"])))
        head = (
            f"Speech lost by mechanism (% of the posts surviving without rules; mean over "
            f"{reps} replication(s) per regime)"
        )
        fig.suptitle(wrap(head, 100) + "\n" + _size_text(users, days).strip())
    return fig


def textwrap_label(text: str, width: int = 11) -> str:
    """Break a long regime name at underscores so tick labels do not overlap."""
    if len(text) <= width:
        return text
    parts = text.split("_")
    lines, line = [], ""
    for part in parts:
        candidate = f"{line}_{part}" if line else part
        if len(candidate) > width and line:
            lines.append(line + "_")
            line = part
        else:
            line = candidate
    lines.append(line)
    return "\n".join(lines)
