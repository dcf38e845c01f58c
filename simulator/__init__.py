"""censim: a censorship-compliance simulator.

Users, platforms and regulators under real-name registration, takedown and
reporting-to-authorities rules, backed by penalties; measures what the rules do to
speech against a no-rules counterfactual on the same random streams.

>>> import simulator
>>> scenario = simulator.load_scenario("classroom")          # doctest: +SKIP
>>> results = simulator.run(scenario, seed=1)                 # doctest: +SKIP
>>> results.summary["speech_loss"]                            # doctest: +SKIP
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from simulator.errors import CensimError, OutputError, ScenarioError
from simulator.kinds import Channel, ContentKind, EventKind, Outcome, UserState
from simulator.results import Results
from simulator.scenario import (
    Scenario,
    load_scenario,
    override,
    shipped_scenarios,
    validate_scenario,
)
from simulator.simulation import Simulation, run

if TYPE_CHECKING:
    from simulator.experiments import (
        Design,
        SweepResults,
        flatten_summary,
        grid_design,
        load_design,
        points_design,
        sampled_design,
        sweep,
    )

#: The sweep API, imported from simulator.experiments on first use (it needs
#: multiprocessing and more, which a single run does not).
_SWEEP_API = (
    "Design",
    "SweepResults",
    "flatten_summary",
    "grid_design",
    "load_design",
    "points_design",
    "sampled_design",
    "sweep",
)


def __getattr__(name: str) -> Any:
    if name in _SWEEP_API:
        from simulator import experiments

        value = getattr(experiments, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


__all__ = [
    "CensimError",
    "Channel",
    "ContentKind",
    "Design",
    "EventKind",
    "Outcome",
    "OutputError",
    "Results",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "SweepResults",
    "UserState",
    "__version__",
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
