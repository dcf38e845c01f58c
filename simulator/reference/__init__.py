"""The reference model: censim's model written one SimPy process per user and one event
per post, the readable statement the fast engine is checked against (see
:mod:`simulator.reference.agent`, which puts together one module per mechanism, and
docs/performance.md, "The oracle").

>>> from simulator.reference import ReferenceSimulation, run_reference
"""

from typing import TYPE_CHECKING

from simulator.lazy import lazy_names

__all__ = ["ReferenceSimulation", "run_reference"]

# Imported on first use, so that ``python -m simulator.reference.agent`` runs the module
# once (an eager import here would load it before runpy runs it again).
__getattr__, __dir__ = lazy_names(
    __name__, dict.fromkeys(__all__, "simulator.reference.agent"), globals()
)


if TYPE_CHECKING:
    from simulator.reference.agent import ReferenceSimulation, run_reference
