"""The figures of one run: the speech funnel, daily time series, time to removal
(against the published C2 points) and the platforms' strictness and events.

Each takes a :class:`~simulator.output.results.Results` (or a run folder) and returns a
:class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from simulator.kinds import KIND_LABELS
from simulator.output.results import Results
from simulator.plots.style import (
    CAP_LINE,
    COLOURS,
    FUNNEL_STAGES,
    HATCHES,
    LINE_STYLES,
    MARKERS,
    STAGE_FILLS,
    STAGE_HATCHES,
    as_results,
    mark_every,
    new_figure,
    overlap_notes,
    reference_applies,
    style,
    thousands,
    title,
    zero_line,
)

#: Published time-to-removal points (C2 in docs/references.md, Zhu et al. 2013): hours, share.
C2_REFERENCE_POINTS: tuple[tuple[float, float, str], ...] = (
    (8 / 60, 0.05, "≈5% within 8 min"),
    (0.5, 0.30, "≈30% within 30 min"),
    (24.0, 0.90, "≈90% within 24 h"),
)
#: The scenario the C2 points come from (Weibo, 2012): drawn on no other scenario's curve.
C2_SCENARIOS: tuple[str, ...] = ("china_weibo_2012",)
#: ``max_strictness`` of a platform that does not set it (docs/scenarios.md, [[platforms]]).
DEFAULT_MAX_STRICTNESS = 0.999
#: Left end of the removal curve's time axis (hours): half a minute, before the first
#: bin's edge at one minute, so the mass removed within a minute is inside the axes.
FIRST_HOURS = 0.5 / 60


def _title(results: Results, what: str, unit: str) -> str:
    """The house title (:func:`~simulator.plots.style.title`) of a run's figure."""
    summary = results.summary
    return title(
        what, unit, results.scenario_name, summary.get("users"), summary.get("horizon_days"),
        results.seed,
    )  # fmt: skip


# -- 1. the speech funnel --------------------------------------------------------------


def funnel(
    source: Results | str | Path, kinds: Sequence[str] | None = None, share: bool = False
) -> Figure:
    """Where intended posts go, one panel per content kind.

    A waterfall: the first bar is all intended posts (for criticism, with the calls to
    act and unlawful posts softened into it), each loss (withheld, softened, excluded,
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
        fig = new_figure(4.2 * columns, 2.9 * rows + 0.4)
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax, kind in zip(axes, kinds, strict=False):
            counts = per_kind[kind]
            intended = float(counts["intended"]) + float(counts.get("softened_in", 0))
            scale = 100.0 / intended if share and intended else 1.0
            level = intended
            heights, bottoms = [], []
            for stage in FUNNEL_STAGES:
                value = intended if stage == "intended" else float(counts[stage])
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
                ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            ax.set_ylim(0, (intended * scale or 1.0) * 1.22)
            ax.grid(axis="x", visible=False)
        for ax in axes[len(kinds) :]:
            ax.set_visible(False)
        unit = "% of intended posts" if share else "posts over the whole run"
        fig.suptitle(_title(results, "Speech funnel", f"{unit}; each panel on its own scale"))
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
        fig = new_figure(7.5, 8.0)
        axes = fig.subplots(4, 1, sharex=True)
        ax = axes[0]
        shown: tuple[str, ...] = ("intended", "surviving", "withheld")
        notes = overlap_notes({column: speech[column] for column in shown})
        for i, column in enumerate(shown):
            ax.plot(
                speech["day"],
                speech[column],
                color=COLOURS[i],
                linestyle=LINE_STYLES[i],
                marker=MARKERS[i],
                markevery=mark_every(i, len(speech), len(shown)),
                label=column + notes[column],
                gid=f"speech-{column}",
            )
        ax.set_ylabel("posts per day")
        ax.set_title("Speech: " + ", ".join(k.replace("_", " ") for k in kinds))
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        # Head room above the lines so the legend never covers them.
        ax.set_ylim(
            0, max(1.0, float(speech[["intended", "surviving", "withheld"]].max().max())) * 1.3
        )
        ax.legend(ncols=3, loc="upper center")

        ax = axes[1]
        # Perceived probabilities of a call to act (docs/model.md S16): the kind the
        # law targets most.
        beliefs = ("mean_p_removal_collective_action", "mean_p_detention_collective_action")
        names = ("removal", "detention")
        notes = overlap_notes(
            {f"P(perceived {name})": population[c] for c, name in zip(beliefs, names, strict=True)}
        )
        for i, (column, name) in enumerate(zip(beliefs, names, strict=True)):
            label = f"P(perceived {name})"
            ax.plot(
                population["day"],
                population[column],
                color=COLOURS[i],
                linestyle=LINE_STYLES[i],
                marker=MARKERS[i],
                markevery=mark_every(i, len(population), len(beliefs)),
                label=label + notes[label],
                gid=f"risk-{name}",
            )
        ax.set_ylabel("mean perceived probability\nof a call to act (0 to 1)")
        ax.set_title("Perceived risk of a call to act")
        # Head room for the legend above the lines.
        ax.set_ylim(0, max(0.05, float(population[list(beliefs)].max().max()) * 1.4))
        ax.legend(ncols=2, loc="upper center")

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
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        # From zero: a drop of a few users must not look like a collapse.
        ax.set_ylim(0, max(1.0, float(population["active"].max())) * 1.1)

        ax = axes[3]
        shown = ("excluded", "left", "circumventing", "detained")
        notes = overlap_notes({column: population[column] for column in shown})
        for i, column in enumerate(shown):
            ax.plot(
                population["day"],
                population[column],
                color=COLOURS[i + 2],
                linestyle=LINE_STYLES[i],
                marker=MARKERS[i + 1],
                markevery=mark_every(i, len(population), len(shown)),
                label=column + notes[column],
                gid=f"users-{column}",
            )
        ax.set_ylabel("users")
        ax.set_title("Users out of the platforms' reach")
        ax.set_xlabel("day of the run")
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        top = float(population[["excluded", "left", "circumventing", "detained"]].max().max())
        ax.set_ylim(-0.02 * max(top, 1.0), max(top, 1.0) * 1.35)
        zero_line(ax)
        ax.legend(ncols=2, loc="upper center")
        fig.suptitle(
            _title(results, "Over time", "per day: posts, mean probability (0 to 1), users")
        )
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
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
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
        fig = new_figure(7.0, 4.2)
        ax = fig.subplots()
        total = int(results.delays["removed"].sum())
        parts = {"all removals": data["cumulative_share"]}
        if by_kind:
            for kind in KIND_LABELS:
                if results.delays.loc[results.delays["kind"] == kind, "removed"].sum() > 0:
                    parts[kind] = removal_curve_data(results, kind)["cumulative_share"]
        notes = overlap_notes(parts)
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
                    marker=MARKERS[shown],
                    markevery=mark_every(shown, len(part), len(parts)),
                    label=f"{kind.replace('_', ' ')} (n = {n:,}){notes[kind]}",
                    gid=f"removal-{kind}",
                )
        if reference_applies(results.scenario_name, C2_SCENARIOS):
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
        if len(data) and total:
            # The mass removed within the first minute: the curve's first point, marked and
            # said in numbers (the axis starts half a minute before it).
            first_hours, first_share = (
                float(data["upper_hours"].iloc[0]),
                float(data["cumulative_share"].iloc[0]),
            )
            ax.plot(
                [first_hours], [first_share], linestyle="none", marker="o", markersize=6,
                markerfacecolor="white", markeredgecolor="black", gid="removal-first-minute",
            )  # fmt: skip
            ax.annotate(
                f"{first_share:.1%} within {_duration(first_hours)}", (first_hours, first_share),
                xytext=(8, 14), textcoords="offset points", fontsize=7,
            )  # fmt: skip
        ax.set_xscale("log")
        # Show up to a little past the last removal (at least two days), not a whole year.
        nonzero = data.loc[data["removed"] > 0, "upper_hours"]
        right = max(48.0, 3.0 * float(nonzero.max())) if len(nonzero) else 48.0
        right = min(right, float(data["upper_hours"].max()) if len(data) else right)
        ax.set_xlim(FIRST_HOURS, right)
        ticks = [1 / 60, 8 / 60, 0.5, 1, 6, 24, 168, 720, 8760]
        ax.set_xticks([t for t in ticks if t <= right])
        ax.xaxis.set_major_formatter(FuncFormatter(_duration))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("time from posting to removal (log scale)")
        ax.set_ylabel("cumulative share of removals")
        ax.set_title(_title(results, "Time to removal", "cumulative % of removals"), fontsize=9)
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
    by_name = {name: daily[daily["platform"] == name].sort_values("day") for name in names}
    # Platforms with the same line (two at the cap, fines of zero) are told apart by a
    # staggered marker and a note in the legend.
    notes = {
        column: overlap_notes({name: rows[column] for name, rows in by_name.items()})
        for column in ("strictness", "fines_paid", "penalty_level")
    }
    with style():
        fig = new_figure(7.5, 7.2)
        axes = fig.subplots(3, 1, sharex=True)
        for i, name in enumerate(names):
            rows = by_name[name]
            common = {
                "color": COLOURS[i % len(COLOURS)],
                "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
                "marker": MARKERS[i % len(MARKERS)],
                "markevery": mark_every(i, len(rows), len(names)),
            }
            axes[0].plot(
                rows["day"], rows["strictness"], label=name + notes["strictness"][name],
                gid=f"strictness-{name}", **common,
            )  # fmt: skip
            axes[1].plot(
                rows["day"], rows["fines_paid"], label=name + notes["fines_paid"][name],
                gid=f"fines-{name}", **common,
            )  # fmt: skip
            axes[2].step(
                rows["day"],
                rows["penalty_level"],
                where="post",
                label=name + notes["penalty_level"][name],
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
        for i, name in enumerate(names):
            cap = _max_strictness(results, name)
            axes[0].axhline(
                cap, **CAP_LINE, gid=f"cap-{name}",
                label=f"cap (max_strictness {cap:g})" if i == 0 else None,
            )  # fmt: skip
        axes[0].set_ylabel("strictness\n(removal propensity, 0-1)")
        axes[0].set_title("Platform strictness and penalties")
        axes[0].set_ylim(bottom=0)
        axes[0].legend(ncols=3, loc="lower right")
        axes[1].set_ylabel(f"fines paid, cumulative\n({currency})")
        axes[1].set_title("Fines")
        axes[1].yaxis.set_major_formatter(FuncFormatter(thousands))
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
        zero_line(axes[2])
        axes[2].legend(loc="upper left")
        fig.suptitle(
            _title(results, "Platforms", f"strictness 0-1, fines in {currency}, ladder steps")
        )
    return fig


def _max_strictness(results: Results, platform: str) -> float:
    """The platform's strictness cap from the run's scenario (its default when unset)."""
    for entry in (results.scenario or {}).get("platforms", []) or []:
        if isinstance(entry, dict) and entry.get("name") == platform:
            return float(entry.get("max_strictness", DEFAULT_MAX_STRICTNESS))
    return DEFAULT_MAX_STRICTNESS


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
