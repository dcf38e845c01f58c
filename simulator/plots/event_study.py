"""The figure of an event study (:mod:`simulator.experiments.event_study`): the outcome
by days since the event, with the entry (treated) and without it (control), and their
paired difference, each with its replication band (docs/plots.md), in the house style
(:mod:`simulator.plots.style`)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simulator.experiments.event_study import EventStudy
from simulator.plots.style import (
    COLOURS,
    LINE_STYLES,
    MARKERS,
    mark_every,
    new_figure,
    overlap_notes,
    style,
    thousands,
    zero_line,
)
from simulator.plots.style import title as house_title

#: How the entry's day is drawn (a vertical dotted line at 0 days since).
EVENT_LINE = {"color": "0.4", "linewidth": 0.9, "linestyle": ":"}


def event_study_figure(study: EventStudy, *, title: str | None = None) -> Figure:
    """Two panels over days since the event: treated and control means with their 95%
    bands (top, from zero: daily counts), the effect with its band and the zero line
    (bottom). Before the entry's day treated and control are the same runs (paired
    seeds), so their lines coincide: staggered markers and a legend note show both."""
    table = study.table
    days = table["days_since"].to_numpy()
    kinds = ", ".join(k.replace("_", " ") for k in study.kinds)
    with style():
        figure = new_figure(7.0, 6.0)
        top, bottom = figure.subplots(2, 1, sharex=True)
        notes = overlap_notes({name: table[f"{name}_mean"] for name in ("treated", "control")})
        before = table["days_since"] < 0
        same_before = bool(
            before.any()
            and np.array_equal(table.loc[before, "treated_mean"], table.loc[before, "control_mean"])
        )
        for i, name in enumerate(("treated", "control")):
            label = f"{name} ({'with' if name == 'treated' else 'without'} the entry)"
            if not notes[name] and name == "control" and same_before:
                label += " (= treated before day 0)"
            line = top.plot(
                days, table[f"{name}_mean"], color=COLOURS[i + 1], linestyle=LINE_STYLES[i],
                marker=MARKERS[i], markevery=mark_every(i, len(days), 2),
                label=label + notes[name], gid=f"event-{name}",
            )[0]  # fmt: skip
            low, high = table[f"{name}_low"].to_numpy(), table[f"{name}_high"].to_numpy()
            if np.isfinite(low).any():
                top.fill_between(days, low, high, color=line.get_color(), alpha=0.18, linewidth=0)
        line = bottom.plot(
            days, table["effect_mean"], color=COLOURS[0], marker=".", label="effect",
            gid="event-effect",
        )[0]  # fmt: skip
        low, high = table["effect_low"].to_numpy(), table["effect_high"].to_numpy()
        if np.isfinite(low).any():
            bottom.fill_between(days, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        for ax in (top, bottom):
            ax.axvline(0, **EVENT_LINE, gid="event-day")
        # Daily counts start at zero; the effect is read against zero.
        columns = ["treated_high", "control_high", "treated_mean", "control_mean"]
        highest = np.nanmax(table[columns].to_numpy(dtype=float))
        top.set_ylim(0, max(1.0, float(highest)) * 1.15)
        zero_line(top)
        zero_line(bottom)
        top.yaxis.set_major_formatter(FuncFormatter(thousands))
        top.set_ylabel(f"{study.outcome} posts per day\n({kinds})")
        bottom.set_ylabel("effect, posts per day\n(treated \u2212 control)")
        bottom.set_xlabel(f"days since `{study.entry}` (day {study.event_day} of the run)")
        top.legend(loc="upper left")
        bottom.legend(loc="upper left")
        top.set_title("With and without the entry")
        bottom.set_title("Effect of the entry")
        figure.suptitle(
            title
            or house_title(
                f"Event study of `{study.entry}`",
                f"{study.outcome} posts per day; mean and 95% t band over {study.reps} "
                "paired replications",
                study.scenario,
                study.users,
                study.horizon_days,
            )
        )
    return figure
