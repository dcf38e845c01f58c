"""The figure of an event study (:mod:`simulator.experiments.event_study`): the outcome
by days since the event, with the entry (treated) and without it (control), and their
paired difference, each with its replication band (docs/plots.md)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from simulator.experiments.event_study import EventStudy


def event_study_figure(study: EventStudy, *, title: str | None = None) -> Figure:
    """Two panels over days since the event: treated and control means with their 95%
    bands (top), the effect with its band and the zero line (bottom)."""
    table = study.table
    days = table["days_since"].to_numpy()
    figure = Figure(figsize=(7, 6))
    top, bottom = figure.subplots(2, 1, sharex=True)
    for name, style in (("treated", "-"), ("control", "--")):
        line = top.plot(days, table[f"{name}_mean"], linestyle=style, label=name)[0]
        low, high = table[f"{name}_low"].to_numpy(), table[f"{name}_high"].to_numpy()
        if np.isfinite(low).any():
            top.fill_between(days, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    line = bottom.plot(days, table["effect_mean"], marker=".", label="effect")[0]
    low, high = table["effect_low"].to_numpy(), table["effect_high"].to_numpy()
    if np.isfinite(low).any():
        bottom.fill_between(days, low, high, color=line.get_color(), alpha=0.25, linewidth=0)
    for ax in (top, bottom):
        ax.axvline(0, color="grey", linewidth=0.8, linestyle=":")
        ax.grid(alpha=0.3)
    bottom.axhline(0, color="black", linewidth=0.8)
    kinds = ", ".join(study.kinds)
    top.set_ylabel(f"{study.outcome} a day\n({kinds})")
    bottom.set_ylabel("effect (treated − control)")
    bottom.set_xlabel(f"days since `{study.entry}` (day {study.event_day})")
    top.legend(fontsize="small")
    top.set_title(
        title
        or f"{study.scenario}: event study of `{study.entry}`\n"
        f"(mean and 95% t band over {study.reps} paired replications)",
        fontsize="medium",
    )
    figure.tight_layout()
    return figure
