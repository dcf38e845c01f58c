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

# The API is imported on first use (PEP 562), so that `import simulator.console` (the
# `censim` program) can install its Ctrl-C handling before numpy, numba and pandas load.
_API = {
    "CensimError": "simulator.errors",
    "OutputError": "simulator.errors",
    "ScenarioError": "simulator.errors",
    "Channel": "simulator.kinds",
    "ContentKind": "simulator.kinds",
    "EventKind": "simulator.kinds",
    "Outcome": "simulator.kinds",
    "UserState": "simulator.kinds",
    "Results": "simulator.results",
    "Scenario": "simulator.scenario",
    "load_scenario": "simulator.scenario",
    "override": "simulator.scenario",
    "shipped_scenarios": "simulator.scenario",
    "validate_scenario": "simulator.scenario",
    "Simulation": "simulator.simulation",
    "run": "simulator.simulation",
}


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


if TYPE_CHECKING:
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
