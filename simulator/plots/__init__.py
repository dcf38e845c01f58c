"""Figures of a run, or of several, as :class:`matplotlib.figure.Figure` objects.

Every function takes a :class:`~simulator.output.results.Results` (or a run folder, read
with :meth:`Results.read`) and returns a Figure built without pyplot, so nothing here
needs a display, touches global pyplot state or calls ``show``: save it with
``fig.savefig`` or let a notebook display it. All figures share one style (:data:`STYLE`,
applied by :func:`style`) and stay readable in greyscale: series differ by line style,
marker or hatch as well as by colour.

One module per part: :mod:`~simulator.plots.style` (the style), :mod:`~simulator.plots.runs`
(the figures of one run), :mod:`~simulator.plots.compare` (several runs side by side),
:mod:`~simulator.plots.writing` (saving with fixed metadata, ``censim plot``'s folder),
:mod:`~simulator.plots.sweeps` (a sweep's metrics; imported on its own).

>>> from simulator import plots, load_scenario, run         # doctest: +SKIP
>>> results = run(load_scenario("classroom"), days=20)      # doctest: +SKIP
>>> plots.funnel(results).savefig("funnel.png")            # doctest: +SKIP
"""

from simulator.plots.compare import (
    COMPARISON_METRICS,
    DEFAULT_COMPARISON,
    MECHANISM_METRICS,
    METRIC_DOMAINS,
    MONEY_METRICS,
    TABLE_METRICS,
    comparison,
    comparison_table,
    loss_by_mechanism,
)
from simulator.plots.runs import (
    C2_REFERENCE_POINTS,
    PLATFORM_EVENTS,
    daily_speech,
    funnel,
    platforms,
    removal_curve,
    removal_curve_data,
    time_series,
)
from simulator.plots.style import FUNNEL_STAGES, STYLE, as_results, style
from simulator.plots.transparency import transparency
from simulator.plots.writing import FORMATS, RUN_FIGURES, save, write_all

__all__ = [
    "C2_REFERENCE_POINTS",
    "COMPARISON_METRICS",
    "DEFAULT_COMPARISON",
    "FORMATS",
    "FUNNEL_STAGES",
    "MECHANISM_METRICS",
    "METRIC_DOMAINS",
    "MONEY_METRICS",
    "PLATFORM_EVENTS",
    "RUN_FIGURES",
    "STYLE",
    "TABLE_METRICS",
    "as_results",
    "comparison",
    "comparison_table",
    "daily_speech",
    "funnel",
    "loss_by_mechanism",
    "platforms",
    "removal_curve",
    "removal_curve_data",
    "save",
    "style",
    "time_series",
    "transparency",
    "write_all",
]
