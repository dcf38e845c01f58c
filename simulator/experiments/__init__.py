"""Experiments at scale: designs, replications, executors and a resumable results store.

A *design* is a list of points; each point sets some scenario fields (dotted paths, as in
:func:`simulator.override`). A *sweep* runs every point ``reps`` times, each run paired
with its no-rules counterfactual on the same streams (:func:`simulator.run`). One module
per part:

- :mod:`~simulator.experiments.designs`: grids, points, samples, design files;
- :mod:`~simulator.experiments.executors`: what a (point, seed) evaluates to and where
  runs go (local processes, a Dask cluster, this process);
- :mod:`~simulator.experiments.store`: the resumable store of finished runs;
- :mod:`~simulator.experiments.tables`: ``summary.csv`` (t-based and bootstrap 95%
  intervals, :mod:`~simulator.experiments.intervals`) and ``long.csv``;
- :mod:`~simulator.experiments.sweeps`: :func:`sweep` itself and :class:`SweepResults`;
- :mod:`~simulator.experiments.attribution`: :func:`attribute`, each rule's share of every
  metric (Shapley values over every combination of the rules, run as a sweep);
- :mod:`~simulator.experiments.phases`: :func:`phase_grid`, the phases of
  self-censorship over a regime's tolerance, severity and surveillance;
- :mod:`~simulator.experiments.sensitivity`, :mod:`~simulator.experiments.resources`,
  :mod:`~simulator.experiments.facts`: global sensitivity analysis, what a job needs
  before it starts, the published facts the China scenarios are checked against.

The names below are imported on first use (PEP 562), so importing one submodule (such as
``resources`` for ``censim run``) does not load the sweep machinery.
"""

from typing import TYPE_CHECKING

from simulator.lazy import lazy_names

_API = {
    "Attribution": "simulator.experiments.attribution",
    "attribute": "simulator.experiments.attribution",
    "shapley_values": "simulator.experiments.attribution",
    "harsanyi_dividends": "simulator.experiments.attribution",
    "Design": "simulator.experiments.designs",
    "SweepError": "simulator.experiments.designs",
    "design_from_options": "simulator.experiments.designs",
    "grid_design": "simulator.experiments.designs",
    "load_design": "simulator.experiments.designs",
    "parse_range": "simulator.experiments.designs",
    "parse_set": "simulator.experiments.designs",
    "parse_vary": "simulator.experiments.designs",
    "points_design": "simulator.experiments.designs",
    "sampled_design": "simulator.experiments.designs",
    "DaskExecutor": "simulator.experiments.executors",
    "Executor": "simulator.experiments.executors",
    "InProcessExecutor": "simulator.experiments.executors",
    "LocalExecutor": "simulator.experiments.executors",
    "Model": "simulator.experiments.executors",
    "ScenarioModel": "simulator.experiments.executors",
    "flatten_summary": "simulator.experiments.executors",
    "make_executor": "simulator.experiments.executors",
    "FrontierResults": "simulator.experiments.frontier",
    "policy_frontier": "simulator.experiments.frontier",
    "PhaseResults": "simulator.experiments.phases",
    "phase_grid": "simulator.experiments.phases",
    "Store": "simulator.experiments.store",
    "SweepResults": "simulator.experiments.sweeps",
    "sweep": "simulator.experiments.sweeps",
    "summary_table": "simulator.experiments.tables",
    "t_interval": "simulator.experiments.intervals",
}


__getattr__, __dir__ = lazy_names(__name__, _API, globals())


if TYPE_CHECKING:
    from simulator.experiments.attribution import (
        Attribution,
        attribute,
        harsanyi_dividends,
        shapley_values,
    )
    from simulator.experiments.designs import (
        Design,
        SweepError,
        design_from_options,
        grid_design,
        load_design,
        parse_range,
        parse_set,
        parse_vary,
        points_design,
        sampled_design,
    )
    from simulator.experiments.executors import (
        DaskExecutor,
        Executor,
        InProcessExecutor,
        LocalExecutor,
        Model,
        ScenarioModel,
        flatten_summary,
        make_executor,
    )
    from simulator.experiments.frontier import FrontierResults, policy_frontier
    from simulator.experiments.intervals import (
        t_interval,
    )
    from simulator.experiments.phases import PhaseResults, phase_grid
    from simulator.experiments.store import (
        Store,
    )
    from simulator.experiments.sweeps import (
        SweepResults,
        sweep,
    )
    from simulator.experiments.tables import (
        summary_table,
    )

__all__ = [
    "Attribution",
    "DaskExecutor",
    "Design",
    "Executor",
    "FrontierResults",
    "InProcessExecutor",
    "LocalExecutor",
    "Model",
    "PhaseResults",
    "ScenarioModel",
    "Store",
    "SweepError",
    "SweepResults",
    "design_from_options",
    "attribute",
    "flatten_summary",
    "grid_design",
    "harsanyi_dividends",
    "load_design",
    "make_executor",
    "parse_range",
    "parse_set",
    "parse_vary",
    "phase_grid",
    "points_design",
    "policy_frontier",
    "sampled_design",
    "shapley_values",
    "summary_table",
    "sweep",
    "t_interval",
]
