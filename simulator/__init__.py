"""censim: a censorship-compliance simulator.

Users, platforms and regulators under real-name registration, takedown and
reporting-to-authorities rules, backed by penalties; measures what the rules do to
speech against a no-rules counterfactual on the same random streams.

>>> import simulator
>>> scenario = simulator.load_scenario("classroom")          # doctest: +SKIP
>>> results = simulator.run(scenario, seed=1)                 # doctest: +SKIP
>>> results.summary["speech_loss"]                            # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from simulator.lazy import lazy_names
from simulator.version import __version__

# The API is imported on first use (PEP 562): `import simulator.cli.console` (the `censim`
# program) installs its Ctrl-C handling before numpy, numba and pandas load, and a single
# run does not pay for the sweep machinery (multiprocessing and more).
_API = {
    "CensimError": "simulator.errors",
    "OutputError": "simulator.errors",
    "ScenarioError": "simulator.errors",
    "Channel": "simulator.kinds",
    "ContentKind": "simulator.kinds",
    "EventKind": "simulator.kinds",
    "Outcome": "simulator.kinds",
    "UserState": "simulator.kinds",
    "Results": "simulator.output.results",
    "Scenario": "simulator.model.scenario",
    "load_scenario": "simulator.model.scenario",
    "override": "simulator.model.scenario",
    "shipped_scenarios": "simulator.model.scenario",
    "validate_scenario": "simulator.model.scenario",
    "Simulation": "simulator.engine.simulation",
    "run": "simulator.engine.pairing",
    "Attribution": "simulator.experiments.attribution",
    "attribute": "simulator.experiments.attribution",
    "Design": "simulator.experiments.designs",
    "SweepResults": "simulator.experiments.sweeps",
    "flatten_summary": "simulator.experiments.executors",
    "grid_design": "simulator.experiments.designs",
    "load_design": "simulator.experiments.designs",
    "points_design": "simulator.experiments.designs",
    "sampled_design": "simulator.experiments.designs",
    "sweep": "simulator.experiments.sweeps",
    "EventStudy": "simulator.experiments.event_study",
    "event_study": "simulator.experiments.event_study",
}


__getattr__, __dir__ = lazy_names(__name__, _API, globals())


if TYPE_CHECKING:
    from simulator.engine.pairing import run
    from simulator.engine.simulation import Simulation
    from simulator.errors import CensimError, OutputError, ScenarioError
    from simulator.experiments.attribution import Attribution, attribute
    from simulator.experiments.designs import (
        Design,
        grid_design,
        load_design,
        points_design,
        sampled_design,
    )
    from simulator.experiments.event_study import EventStudy, event_study
    from simulator.experiments.executors import flatten_summary
    from simulator.experiments.sweeps import SweepResults, sweep
    from simulator.kinds import Channel, ContentKind, EventKind, Outcome, UserState
    from simulator.model.scenario import (
        Scenario,
        load_scenario,
        override,
        shipped_scenarios,
        validate_scenario,
    )
    from simulator.output.results import Results

__all__ = [
    "Attribution",
    "CensimError",
    "Channel",
    "ContentKind",
    "Design",
    "EventKind",
    "EventStudy",
    "Outcome",
    "OutputError",
    "Results",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "SweepResults",
    "UserState",
    "__version__",
    "attribute",
    "event_study",
    "flatten_summary",
    "grid_design",
    "load_design",
    "load_scenario",
    "override",
    "points_design",
    "run",
    "sampled_design",
    "shipped_scenarios",
    "sweep",
    "validate_scenario",
]
