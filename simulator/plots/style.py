"""One style for every figure: colours, line styles, markers and hatches that stay
distinct in greyscale (:data:`STYLE`, applied by :func:`style`), and figures built
without pyplot (an Agg canvas attached: no display, no global state).
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simulator.output.results import Results

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
    "softened": "#F0E442",
    "excluded": "#CC79A7",
    "blocked": "#D55E00",
    "removed": "#0072B2",
    "surviving": "0.35",
}
STAGE_HATCHES = {
    "intended": "",
    "withheld": "///",
    "softened": "---",
    "excluded": "...",
    "blocked": "xxx",
    "removed": "\\\\\\",
    "surviving": "",
}
FUNNEL_STAGES = (
    "intended",
    "withheld",
    "softened",
    "excluded",
    "blocked",
    "removed",
    "surviving",
)

#: rcParams every figure of this module is drawn under.
STYLE: dict[str, Any] = {
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "figure.titlesize": 10.0,
    "figure.titleweight": "bold",
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


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager: draw under :data:`STYLE` (restores the previous rcParams)."""
    with matplotlib.rc_context(cast(Any, STYLE)):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A Figure with an Agg canvas attached: no pyplot, no display needed."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def as_results(source: Results | str | Path) -> Results:
    """``source`` itself, or the run folder it names read with :meth:`Results.read`."""
    if isinstance(source, Results):
        return source
    return Results.read(source)


def scale(users: int | str | None, days: int | str | None) -> str:
    """The population x horizon every title carries: ``"2,000 users x 60 days"`` (a text
    such as ``"varied"`` is shown as given; ``None``, unknown, as ``?``; one day is
    ``"1 day"``)."""
    shown_users = users if isinstance(users, str) else f"{int(users):,}" if users else "?"
    shown_days = days if isinstance(days, str) else f"{int(days)}" if days else "?"
    unit = "day" if shown_days == "1" else "days"
    return f"{shown_users} users \u00d7 {shown_days} {unit}"


def title(
    what: str,
    unit: str,
    scenario: str,
    users: int | str | None,
    days: int | str | None,
    seed: int | None = None,
    width: int = 80,
) -> str:
    """The one title builder: what is drawn, its unit, and scenario, population x horizon.

    Every figure's title goes through here so a reader always sees what is counted (the
    unit), in which run and at what size. A title longer than ``width`` characters is
    broken into lines (what and unit, then the run) so no figure cuts it off.
    """
    seed_text = f", seed {seed}" if seed is not None else ""
    head, run = f"{what} ({unit})", f"{scenario}: {scale(users, days)}{seed_text}"
    if len(head) + len(run) + 3 <= width:
        return f"{head} \u2014 {run}"
    return f"{wrap(head, width)}\n\u2014 {run}"


def wrap(text: str, width: int = 80) -> str:
    """``text`` broken into lines of at most ``width`` characters (long titles)."""
    return textwrap.fill(text, width, break_on_hyphens=False)


def run_title(results: Results) -> str:
    days = results.summary.get("horizon_days", "?")
    users = results.summary.get("users", 0)
    return f"{results.scenario_name} (seed {results.seed}, {scale(users, days)})"


def reference_applies(scenario_name: str, source_scenarios: tuple[str, ...]) -> bool:
    """Published reference points are drawn only on the scenario they come from."""
    return scenario_name in source_scenarios


#: How a cap or bound is drawn (the strictness cap, ``max_strictness``): a thin dashed line.
CAP_LINE: dict[str, Any] = {"color": "0.3", "linestyle": (0, (4, 2)), "linewidth": 0.9}
#: How a zero baseline is drawn where a zero matters.
ZERO_LINE: dict[str, Any] = {"color": "0.2", "linewidth": 0.8}


def zero_line(ax: Axes, axis: str = "y") -> None:
    """Draw the zero baseline (:data:`ZERO_LINE`, gid ``"zero"``) on ``ax``: horizontal
    (``axis="y"``, y = 0) or vertical (``axis="x"``, x = 0)."""
    draw = ax.axhline if axis == "y" else ax.axvline
    draw(0.0, **ZERO_LINE, gid="zero", zorder=1.5)


def overlap_notes(series: Mapping[str, Any]) -> dict[str, str]:
    """A legend note for each series that another hides: ``" (0 throughout)"`` for a series
    of zeros, ``" (= <earlier>)"`` for one identical to an earlier series, ``""`` else.

    Identical lines drawn on top of each other show as one: the note (and a staggered
    marker, :func:`mark_every`) says the hidden one is there.
    """
    notes: dict[str, str] = {}
    seen: list[tuple[str, np.ndarray]] = []
    for name, values in series.items():
        array = np.asarray(values, dtype=float)
        note = ""
        if array.size and np.all(np.nan_to_num(array) == 0):
            note = " (0 throughout)"
        else:
            for other, earlier in seen:
                if earlier.shape == array.shape and np.array_equal(earlier, array, equal_nan=True):
                    note = f" (= {other})"
                    break
        seen.append((name, array))
        notes[name] = note
    return notes


def mark_every(index: int, points: int, series: int, marks: int = 12) -> tuple[int, int]:
    """``markevery`` for the ``index``-th of ``series`` lines of ``points`` points: about
    ``marks`` markers a line (a marker every ``series`` points at least), each line's
    shifted so overlapping lines show every marker."""
    step = max(1, series, points // marks)
    return ((index * step) // max(series, 1), step)


def thousands(value: float, _position: Any = None) -> str:
    return f"{value:,.0f}"
