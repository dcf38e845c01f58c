"""Figures of a run, or of several, as :class:`matplotlib.figure.Figure` objects.

Every function takes a :class:`~simulator.results.Results` (or a run folder, read with
:meth:`Results.read`) and returns a Figure built without pyplot, so nothing here needs a
display, touches global pyplot state or calls ``show``: save it with ``fig.savefig`` or
let a notebook display it. All figures share one style (:data:`STYLE`, applied by
:func:`style`) and stay readable in greyscale: series differ by line style, marker or
hatch as well as by colour.

>>> from simulator import plots, load_scenario, run         # doctest: +SKIP
>>> results = run(load_scenario("classroom"), days=20)      # doctest: +SKIP
>>> plots.funnel(results).savefig("funnel.png")            # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import matplotlib
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from simulator.errors import OutputError
from simulator.kinds import KIND_LABELS
from simulator.output_folders import (
    FIGURES,
    FOLDER_KEY,
    MANIFESTS,
    check_figures_folder,
    shown,
)
from simulator.results import Results

# -- one style -------------------------------------------------------------------------

#: Okabe-Ito colours ordered so that their lightness differs: distinct in greyscale too.
COLOURS = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
LINE_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
HATCHES = ("", "///", "...", "xxx", "\\\\\\", "ooo", "---")
#: Fill of the funnel stages, light to dark, so bars stay apart without colour.
STAGE_FILLS = {
    "intended": "0.85",
    "withheld": "#E69F00",
    "excluded": "#CC79A7",
    "blocked": "#D55E00",
    "removed": "#0072B2",
    "surviving": "0.35",
}
STAGE_HATCHES = {
    "intended": "",
    "withheld": "///",
    "excluded": "...",
    "blocked": "xxx",
    "removed": "\\\\\\",
    "surviving": "",
}
FUNNEL_STAGES = ("intended", "withheld", "excluded", "blocked", "removed", "surviving")

#: rcParams every figure of this module is drawn under.
STYLE: dict[str, Any] = {
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.0,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "axes.grid": True,
    "grid.color": "0.88",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "0.25",
    "lines.linewidth": 1.6,
    "lines.markersize": 4.5,
    "hatch.linewidth": 0.7,
    "hatch.color": "0.15",
    "patch.edgecolor": "0.15",
    "figure.dpi": 100.0,
    "savefig.dpi": 150.0,
    # No "tight" bbox: constrained layout already fits the labels, and tight would draw twice.
    "savefig.bbox": None,
    # Fixed ids in SVG output so the same run gives the same bytes.
    "svg.hashsalt": "censim",
    "axes.prop_cycle": cycler(color=list(COLOURS)) + cycler(linestyle=list(LINE_STYLES)),
}

#: Published time-to-removal points (C2 in docs/references.md, Zhu et al. 2013): hours, share.
C2_REFERENCE_POINTS: tuple[tuple[float, float, str], ...] = (
    (8 / 60, 0.05, "≈5% within 8 min"),
    (0.5, 0.30, "≈30% within 30 min"),
    (24.0, 0.90, "≈90% within 24 h"),
)

#: Metrics the comparison can show: summary key -> (axis label, is a share of 0..1).
COMPARISON_METRICS: dict[str, tuple[str, bool]] = {
    "speech_loss": ("speech loss\n(% of lawful posts lost vs no rules)", True),
    "chilling_effect": ("chilling effect\n(% of lawful posts withheld)", True),
    "collateral_share": ("collateral share\n(% of takedowns that were lawful)", True),
    "over_removal_share": ("over-removal share\n(% of takedowns not prohibited)", True),
    "removed_within_24h": ("removed within 24 h\n(% of removals)", True),
    "excluded_share": ("excluded share\n(% of intended posts)", True),
    "fines_total": ("fines\n(regime's currency, whole run)", False),
    "detentions_total": ("detentions\n(count, whole run)", False),
}
#: Where each metric's values lie: shares in [0, 1], totals (money, counts) at least 0.
#: Interval bounds are clipped to it (few replications of a small total give a t-interval
#: reaching below 0, which no run can have).
METRIC_DOMAINS: dict[str, tuple[float, float]] = {
    metric: (0.0, 1.0) if is_share else (0.0, math.inf)
    for metric, (_, is_share) in COMPARISON_METRICS.items()
}
#: Metrics in the scenario's currency (the comparison's ``currency`` column).
MONEY_METRICS = ("fines_total", "moderation_cost_total")
DEFAULT_COMPARISON = ("speech_loss", "chilling_effect", "collateral_share", "over_removal_share")
TABLE_METRICS = tuple(COMPARISON_METRICS)

FORMATS = ("png", "svg", "pdf")


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager: draw under :data:`STYLE` (restores the previous rcParams)."""
    with matplotlib.rc_context(cast(Any, STYLE)):
        yield


def _figure(width: float, height: float) -> Figure:
    """A Figure with an Agg canvas attached: no pyplot, no display needed."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def as_results(source: Results | str | Path) -> Results:
    """``source`` itself, or the run folder it names read with :meth:`Results.read`."""
    if isinstance(source, Results):
        return source
    return Results.read(source)


def _title(results: Results) -> str:
    days = results.summary.get("horizon_days", "?")
    users = results.summary.get("users", 0)
    return f"{results.scenario_name} (seed {results.seed}, {users:,} users, {days} days)"


def _thousands(value: float, _position: Any = None) -> str:
    return f"{value:,.0f}"


# -- 1. the speech funnel --------------------------------------------------------------


def funnel(
    source: Results | str | Path, kinds: Sequence[str] | None = None, share: bool = False
) -> Figure:
    """Where intended posts go, one panel per content kind.

    A waterfall: the first bar is all intended posts, each loss (withheld, excluded,
    blocked, removed) floats at the level of what is left after it, and the last bar is
    what survives. Bar heights are the counts of ``summary["per_kind"]`` (posts over the
    whole run), or shares of intended posts (%) with ``share=True``.
    """
    results = as_results(source)
    per_kind = results.summary["per_kind"]
    kinds = list(kinds) if kinds is not None else list(KIND_LABELS)
    unknown = [k for k in kinds if k not in per_kind]
    if unknown:
        raise ValueError(f"unknown content kind {unknown[0]!r}; allowed: {list(per_kind)}")
    with style():
        columns = min(len(kinds), 2)
        rows = math.ceil(len(kinds) / columns)
        fig = _figure(4.2 * columns, 2.9 * rows + 0.4)
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax, kind in zip(axes, kinds, strict=False):
            counts = per_kind[kind]
            intended = float(counts["intended"])
            scale = 100.0 / intended if share and intended else 1.0
            level = intended
            heights, bottoms = [], []
            for stage in FUNNEL_STAGES:
                value = float(counts[stage])
                if stage in ("intended", "surviving"):
                    heights.append(value)
                    bottoms.append(0.0)
                else:
                    level -= value
                    heights.append(value)
                    bottoms.append(level)
            x = np.arange(len(FUNNEL_STAGES))
            bars = ax.bar(
                x,
                np.array(heights) * scale,
                bottom=np.array(bottoms) * scale,
                width=0.72,
                color=[STAGE_FILLS[s] for s in FUNNEL_STAGES],
                edgecolor="0.15",
                linewidth=0.7,
                label=FUNNEL_STAGES,
            )
            for bar, stage in zip(bars, FUNNEL_STAGES, strict=True):
                bar.set_hatch(STAGE_HATCHES[stage])
                bar.set_gid(f"funnel-{kind}-{stage}")
            # Label each bar with its count and share of intended posts.
            for xi, height, bottom in zip(x, heights, bottoms, strict=True):
                pct = 100.0 * height / intended if intended else 0.0
                ax.annotate(
                    f"{height:,.0f}\n{pct:.1f}%",
                    (xi, (bottom + height) * scale),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=6.5,
                )
            ax.set_xticks(x, [s.replace("_", " ") for s in FUNNEL_STAGES], rotation=30)
            ax.set_title(kind.replace("_", " ") + (" (prohibited)" if counts["prohibited"] else ""))
            ax.set_ylabel("% of intended posts" if share else "posts (whole run)")
            if not share:
                ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
            ax.set_ylim(0, (intended * scale or 1.0) * 1.22)
            ax.grid(axis="x", visible=False)
        for ax in axes[len(kinds) :]:
            ax.set_visible(False)
        fig.suptitle(f"Speech funnel — {_title(results)}", fontsize=10)
    return fig


# -- 2. daily time series ---------------------------------------------------------------


def daily_speech(results: Results, kinds: Sequence[str] | None = None) -> pd.DataFrame:
    """Posts per day (all platforms and channels) of ``kinds``: day, intended, withheld, ...

    ``kinds`` defaults to the sensitive kinds (all but ``benign``), where the rules bite.
    """
    kinds = list(kinds) if kinds is not None else [k for k in KIND_LABELS if k != "benign"]
    daily = results.daily
    frame = daily[daily["kind"].isin(kinds)]
    columns = ["intended", *FUNNEL_STAGES[1:]]
    days = pd.RangeIndex(int(results.summary.get("horizon_days", daily["day"].max() + 1)))
    grouped = frame.groupby("day")[columns].sum().reindex(days, fill_value=0)
    grouped.index.name = "day"
    return grouped.reset_index()


def time_series(source: Results | str | Path, kinds: Sequence[str] | None = None) -> Figure:
    """Four panels over days: speech, perceived risk, active users, users out of reach.

    Speech counts posts per day of ``kinds`` (default: every kind but benign) summed over
    platforms and channels; risk is the population's mean perceived risk (0-1); users
    are counts at the end of each day.
    """
    results = as_results(source)
    kinds = list(kinds) if kinds is not None else [k for k in KIND_LABELS if k != "benign"]
    speech = daily_speech(results, kinds)
    population = results.population_daily
    with style():
        fig = _figure(7.5, 8.0)
        axes = fig.subplots(4, 1, sharex=True)
        ax = axes[0]
        for i, column in enumerate(("intended", "surviving", "withheld")):
            ax.plot(
                speech["day"],
                speech[column],
                color=COLOURS[i],
                linestyle=LINE_STYLES[i],
                marker=MARKERS[i],
                markevery=max(1, len(speech) // 12),
                label=column,
                gid=f"speech-{column}",
            )
        ax.set_ylabel("posts per day")
        ax.set_title("Speech: " + ", ".join(k.replace("_", " ") for k in kinds))
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        # Head room above the lines so the legend never covers them.
        ax.set_ylim(
            0, max(1.0, float(speech[["intended", "surviving", "withheld"]].max().max())) * 1.3
        )
        ax.legend(ncols=3, loc="upper center")

        ax = axes[1]
        ax.plot(
            population["day"],
            population["mean_risk"],
            color=COLOURS[0],
            marker=MARKERS[0],
            markevery=max(1, len(population) // 12),
            label="mean perceived risk",
            gid="risk",
        )
        ax.set_ylabel("mean perceived risk\n(0 = none, 1 = certain)")
        ax.set_title("Perceived risk")
        ax.set_ylim(0, max(1.0, float(population["mean_risk"].max()) * 1.05))

        ax = axes[2]
        ax.plot(
            population["day"],
            population["active"],
            color=COLOURS[1],
            marker=MARKERS[1],
            markevery=max(1, len(population) // 12),
            label="active users",
            gid="active",
        )
        ax.set_ylabel("active users")
        ax.set_title("Active users")
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))

        ax = axes[3]
        for i, column in enumerate(("excluded", "left", "circumventing", "detained")):
            ax.plot(
                population["day"],
                population[column],
                color=COLOURS[i + 2],
                linestyle=LINE_STYLES[i],
                marker=MARKERS[i + 1],
                markevery=max(1, len(population) // 12),
                label=column,
                gid=f"users-{column}",
            )
        ax.set_ylabel("users")
        ax.set_title("Users out of the platforms' reach")
        ax.set_xlabel("day of the run")
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        top = float(population[["excluded", "left", "circumventing", "detained"]].max().max())
        ax.set_ylim(-0.02 * max(top, 1.0), max(top, 1.0) * 1.35)
        ax.legend(ncols=4, loc="upper center")
        fig.suptitle(f"Over time — {_title(results)}", fontsize=10)
    return fig


# -- 3. time to removal -----------------------------------------------------------------


def removal_curve_data(results: Results, kind: str | None = None) -> pd.DataFrame:
    """Cumulative share of removals by delay: upper_hours, removed, cumulative_share.

    From ``results.delays`` (all kinds, or one ``kind``); the open last bin (no finite
    upper edge) is dropped from the rows but counts in the denominator.
    """
    delays = results.delays
    if kind is not None:
        delays = delays[delays["kind"] == kind]
    by_bin = delays.groupby(["lower_hours", "upper_hours"], sort=True)["removed"].sum()
    frame = by_bin.reset_index().sort_values("lower_hours", ignore_index=True)
    total = float(frame["removed"].sum())
    cumulative = frame["removed"].cumsum()
    frame["cumulative_share"] = cumulative / total if total else np.nan
    finite = np.isfinite(frame["upper_hours"].astype(float))
    return frame[finite].reset_index(drop=True)[["upper_hours", "removed", "cumulative_share"]]


def _duration(hours: float, _position: Any = None) -> str:
    if hours <= 0:
        return "0"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.0f} h" if hours == int(hours) else f"{hours:.1f} h"
    if hours < 24 * 14:
        return f"{hours / 24:.0f} d"
    return f"{hours / 24 / 7:.0f} wk"


def removal_curve(source: Results | str | Path, by_kind: bool = True) -> Figure:
    """Cumulative share of removals by time from posting (log time axis).

    The bold line is every removal; thinner ones are each kind with removals
    (``by_kind``). Crosses mark the published Weibo figures (docs/references.md C2: about 5%
    within 8 min, 30% within 30 min, 90% within 24 h). Posts blocked before publication
    have no delay and are not in this curve.
    """
    results = as_results(source)
    data = removal_curve_data(results)
    with style():
        fig = _figure(7.0, 4.2)
        ax = fig.subplots()
        total = int(results.delays["removed"].sum())
        ax.plot(
            data["upper_hours"],
            data["cumulative_share"],
            color=COLOURS[0],
            linewidth=2.4,
            label=f"all removals (n = {total:,})",
            gid="removal-all",
        )
        if by_kind:
            shown = 0
            for kind in KIND_LABELS:
                n = int(results.delays.loc[results.delays["kind"] == kind, "removed"].sum())
                if n == 0:
                    continue
                shown += 1
                part = removal_curve_data(results, kind)
                ax.plot(
                    part["upper_hours"],
                    part["cumulative_share"],
                    color=COLOURS[shown],
                    linestyle=LINE_STYLES[shown],
                    linewidth=1.2,
                    label=f"{kind.replace('_', ' ')} (n = {n:,})",
                    gid=f"removal-{kind}",
                )
        hours = [h for h, _, _ in C2_REFERENCE_POINTS]
        shares = [s for _, s, _ in C2_REFERENCE_POINTS]
        ax.plot(
            hours,
            shares,
            linestyle="none",
            marker="X",
            markersize=9,
            color="#D55E00",
            markeredgecolor="black",
            label="Weibo 2012, Zhu et al. 2013 (C2)",
            gid="removal-reference",
        )
        for h, s, text in C2_REFERENCE_POINTS:
            ax.annotate(text, (h, s), xytext=(6, -10), textcoords="offset points", fontsize=7)
        ax.set_xscale("log")
        # Show up to a little past the last removal (at least two days), not a whole year.
        nonzero = data.loc[data["removed"] > 0, "upper_hours"]
        right = max(48.0, 3.0 * float(nonzero.max())) if len(nonzero) else 48.0
        right = min(right, float(data["upper_hours"].max()) if len(data) else right)
        ax.set_xlim(1 / 60, right)
        ticks = [1 / 60, 8 / 60, 0.5, 1, 6, 24, 168, 720, 8760]
        ax.set_xticks([t for t in ticks if t <= right])
        ax.xaxis.set_major_formatter(FuncFormatter(_duration))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("time from posting to removal (log scale)")
        ax.set_ylabel("cumulative share of removals")
        ax.set_title(f"Time to removal — {_title(results)}")
        ax.legend(loc="lower right")
    return fig


# -- 4. platforms -----------------------------------------------------------------------

#: Institutional events drawn on the platform figure: event -> (marker, label).
PLATFORM_EVENTS: dict[str, tuple[str, str]] = {
    "warning": ("o", "warning"),
    "fine": ("s", "fine"),
    "suspension": ("v", "suspension"),
    "revocation": ("X", "licence revoked"),
    "exit": ("D", "exit"),
}


def platforms(source: Results | str | Path) -> Figure:
    """Per platform over days: strictness with penalty events, cumulative fines, penalty
    level, with suspended days shaded.

    Strictness is the platform's removal propensity (0-1) from ``platform_daily``; events
    (warnings, fines, suspensions, revocations, exits) come from ``events``; fines are the
    cumulative amount paid, in the scenario's currency.
    """
    results = as_results(source)
    daily = results.platform_daily
    events = results.events
    currency = results.scenario.get("currency", "currency units") if results.scenario else ""
    names = list(dict.fromkeys(daily["platform"]))
    with style():
        fig = _figure(7.5, 7.2)
        axes = fig.subplots(3, 1, sharex=True)
        for i, name in enumerate(names):
            rows = daily[daily["platform"] == name].sort_values("day")
            common = {
                "color": COLOURS[i % len(COLOURS)],
                "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
            }
            axes[0].plot(
                rows["day"], rows["strictness"], label=name, gid=f"strictness-{name}", **common
            )
            axes[1].plot(rows["day"], rows["fines_paid"], label=name, gid=f"fines-{name}", **common)
            axes[2].step(
                rows["day"],
                rows["penalty_level"],
                where="post",
                label=name,
                gid=f"penalty-{name}",
                **common,
            )
            # Shade the days a platform did not serve (suspended, revoked, exited).
            for first, last in _runs(rows.loc[rows["serving"] == 0, "day"].to_numpy()):
                for ax in axes:
                    ax.axvspan(
                        first,
                        last + 1,
                        facecolor=COLOURS[i % len(COLOURS)],
                        alpha=0.12,
                        hatch=HATCHES[(i + 1) % len(HATCHES)],
                        edgecolor="0.5",
                        linewidth=0,
                        gid=f"off-{name}",
                    )
        if len(events):
            for event, (marker, label) in PLATFORM_EVENTS.items():
                chosen = events[(events["event"] == event) & events["platform"].isin(names)]
                if chosen.empty:
                    continue
                x = chosen["time_hours"].astype(float).to_numpy() / 24.0
                y = [
                    _strictness_at(daily, platform, day)
                    for platform, day in zip(chosen["platform"], chosen["day"], strict=True)
                ]
                axes[0].plot(
                    x,
                    y,
                    linestyle="none",
                    marker=marker,
                    markersize=7,
                    markerfacecolor="white",
                    markeredgecolor="black",
                    markeredgewidth=1.2,
                    label=f"{label} ({len(chosen)})",
                    gid=f"event-{event}",
                )
        axes[0].set_ylabel("strictness\n(removal propensity, 0-1)")
        axes[0].set_title("Platform strictness and penalties")
        axes[0].set_ylim(bottom=0)
        axes[0].legend(ncols=3, loc="lower right")
        axes[1].set_ylabel(f"fines paid, cumulative\n({currency})")
        axes[1].set_title("Fines")
        axes[1].yaxis.set_major_formatter(FuncFormatter(_thousands))
        axes[1].yaxis.set_major_locator(MaxNLocator(integer=True))
        most_fined = float(daily["fines_paid"].max()) if len(daily) else 0.0
        axes[1].set_ylim(0, most_fined * 1.1 if most_fined > 0 else 1.0)
        if most_fined == 0:
            axes[1].text(0.5, 0.5, "no fines", transform=axes[1].transAxes, ha="center")
        axes[1].legend(loc="upper left")
        axes[2].set_ylabel("penalty ladder step\n(0 = clean record)")
        axes[2].set_title("Penalty level (shaded: days not serving)")
        axes[2].set_xlabel("day of the run")
        axes[2].yaxis.get_major_locator().set_params(integer=True)
        top_level = float(daily["penalty_level"].max()) if len(daily) else 0.0
        axes[2].set_ylim(-0.2, max(top_level, 1.0) + 0.3)
        axes[2].legend(loc="upper left")
        fig.suptitle(f"Platforms — {_title(results)}", fontsize=10)
    return fig


def _runs(days: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive days as (first, last) pairs: [3, 4, 5, 9] -> [(3, 5), (9, 9)]."""
    out: list[tuple[int, int]] = []
    for day in sorted(int(d) for d in days):
        if out and day == out[-1][1] + 1:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _strictness_at(daily: pd.DataFrame, platform: str, day: int) -> float:
    row = daily[(daily["platform"] == platform) & (daily["day"] == day)]
    return float(row["strictness"].iloc[0]) if len(row) else float("nan")


# -- 5. comparing runs ------------------------------------------------------------------


def _metric(summary: Mapping[str, Any], name: str) -> float:
    if name == "excluded_share":
        intended = float(summary.get("intended", 0))
        return float(summary.get("excluded", 0)) / intended if intended else 0.0
    value = summary.get(name)
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
    to the metric's :data:`METRIC_DOMAINS`; NaN with a single replication). Shares are
    fractions (0-1). Replications in different currencies get NaN for money metrics:
    their amounts cannot be averaged.
    """
    from scipy import stats

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
            mean = float(values.mean()) if n else float("nan")
            if n >= 2:
                half = float(
                    stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
                )
            else:
                half = float("nan")
            low, high = mean - half, mean + half
            if n >= 2:
                # A share cannot leave [0, 1], nor a count go below 0: the t-interval is
                # clipped to the possible.
                floor, ceiling = METRIC_DOMAINS.get(metric, (-math.inf, math.inf))
                low, high = max(low, floor), min(high, ceiling)
            row[f"{metric}_mean"] = mean
            row[f"{metric}_ci_low"] = low
            row[f"{metric}_ci_high"] = high
        rows.append(row)
    return pd.DataFrame(rows)


def comparison(
    groups: Mapping[str, Sequence[Results | Mapping[str, Any]]] | pd.DataFrame,
    metrics: Sequence[str] = DEFAULT_COMPARISON,
) -> Figure:
    """Bars of each metric's mean per regime, with 95% intervals across replications.

    ``groups`` maps a label to replications (Results or summary dicts), or is a table
    from :func:`comparison_table`. One panel per metric; bars differ by hatch as well as
    colour. Shares are shown in %.
    """
    unknown = [m for m in metrics if m not in COMPARISON_METRICS]
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}; allowed: {list(COMPARISON_METRICS)}")
    table = groups if isinstance(groups, pd.DataFrame) else comparison_table(groups, metrics)
    labels = list(table["regime"])
    with style():
        columns = min(len(metrics), 2)
        rows = math.ceil(len(metrics) / columns)
        fig = _figure(max(4.0, 1.0 + 1.1 * len(labels)) * columns, 3.0 * rows + 0.6)
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
                    yerr=np.vstack(
                        [
                            mean[has_interval] - low[has_interval],
                            high[has_interval] - mean[has_interval],
                        ]
                    ),
                    fmt="none",
                    ecolor="black",
                    elinewidth=1.2,
                    capsize=4,
                    gid=f"ci-{metric}",
                )
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
                ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
            ax.set_ylim(bottom=0)
            ax.grid(axis="x", visible=False)
        for ax in axes[len(metrics) :]:
            ax.set_visible(False)
        reps = sorted(set(int(n) for n in table["replications"]))
        reps_text = "/".join(str(n) for n in reps)
        fig.suptitle(
            f"Comparison: mean and 95% interval over {reps_text} replication(s)", fontsize=10
        )
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


# -- all figures of a run ---------------------------------------------------------------

#: Figure name -> function; what :func:`write_all` writes.
RUN_FIGURES: dict[str, Callable[[Results], Figure]] = {
    "funnel": funnel,
    "time_series": time_series,
    "removal_curve": removal_curve,
    "platforms": platforms,
}


def save(fig: Figure, path: str | Path, dpi: float | None = None) -> Path:
    """Save ``fig`` (format from the suffix; ``dpi`` default 150) and free its memory."""
    target = Path(path)
    # savefig reads some rcParams (dpi, bbox, hatch widths) when it renders: keep the style.
    with style():
        fig.savefig(
            target, metadata=_metadata(target.suffix.lstrip(".")), dpi=dpi or STYLE["savefig.dpi"]
        )
    fig.clear()
    return target


def _metadata(fmt: str) -> dict[str, Any] | None:
    # Fixed metadata so the same run gives the same bytes (no creation date or version).
    if fmt == "svg":
        return {"Date": None, "Creator": None}
    if fmt == "pdf":
        return {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
    if fmt == "png":
        return {"Software": None}
    return None


def write_all(source: Results | str | Path, out_dir: str | Path, fmt: str = "png") -> list[Path]:
    """Write every figure of :data:`RUN_FIGURES` for one run into ``out_dir``.

    Returns the written paths (``funnel.png``, ``time_series.png``...). Raises
    :class:`OutputError` for an unknown format or a folder that cannot be written.
    """
    if fmt not in FORMATS:
        raise OutputError(f"unknown figure format {fmt!r}; allowed: {', '.join(FORMATS)}")
    results = as_results(source)
    target = Path(out_dir)
    names = [f"{name}.{fmt}" for name in RUN_FIGURES]
    # Never replace a file of the user's: only into a new folder, a figures folder censim
    # wrote (figures.json marks it), or a folder without these names.
    check_figures_folder(target, [*names, MANIFESTS[FIGURES]])
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{shown(target)}: cannot create the folder ({error.strerror})") from None
    if not target.is_dir():
        raise OutputError(f"{shown(target)}: exists and is not a folder")
    written = []
    try:
        marker = {FOLDER_KEY: FIGURES, "scenario": results.scenario_name, "seed": results.seed}
        (target / MANIFESTS[FIGURES]).write_text(json.dumps(marker, indent=2) + "\n")
        for name, draw in RUN_FIGURES.items():
            fig = draw(results)
            written.append(save(fig, target / f"{name}.{fmt}"))
    except OSError as error:
        raise OutputError(f"{shown(target)}: cannot write a figure ({error.strerror})") from None
    return written


__all__ = [
    "C2_REFERENCE_POINTS",
    "COMPARISON_METRICS",
    "FORMATS",
    "METRIC_DOMAINS",
    "MONEY_METRICS",
    "RUN_FIGURES",
    "STYLE",
    "as_results",
    "comparison",
    "comparison_table",
    "daily_speech",
    "funnel",
    "platforms",
    "removal_curve",
    "removal_curve_data",
    "save",
    "style",
    "time_series",
    "write_all",
]
