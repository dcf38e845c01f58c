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

__all__ = [
    "CensimError",
    "Channel",
    "ContentKind",
    "EventKind",
    "Outcome",
    "OutputError",
    "Results",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "UserState",
    "__version__",
    "load_scenario",
    "override",
    "run",
    "shipped_scenarios",
    "validate_scenario",
]
