"""The day's second thread, generator handles and the caches keyed on the users table's
state version (docs/performance.md).

Caches of what depends on who can post where (today's routes, the benign groups, the
daily population counts) store the ``Users.state_version`` they were computed at and
are used while it stands: a mechanism that changes states, platforms or access calls
``Users.states_changed()`` and every such cache goes stale at once, with no flag per
cache to reset.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kernels import handles, learning
from simulator.kinds import ContentKind, UserState
from simulator.model.population import THREADED_MIN_USERS, Users
from simulator.model.views import IntArray

FloatArray = NDArray[np.float64]
#: population_daily's state columns, in UserState order.
_STATE_COLUMNS = tuple(state.name.lower() for state in UserState)


def threaded(users: int) -> bool:
    """Whether a run of ``users`` users uses the second thread (from THREADED_MIN_USERS
    on: below it, a thread costs more than it saves)."""
    return users >= THREADED_MIN_USERS


class DayThreads:
    """Two threads for the day's independent compiled steps, started on first use
    (after :func:`simulator.engine.pairing.run` forked the counterfactual) and joined
    by :meth:`stop` when the run closes: no thread outlives a run (a later run in this
    process may fork, which wants one thread)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, function: Any, *args: Any) -> Future[Any]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="censim-day")
        return self._pool.submit(function, *args)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class GeneratorHandles:
    """Generators as compiled code takes them (:func:`simulator.kernels.handles.argument`):
    each one's handle (a uint64 array), read once per generator object, or the generator
    itself where numba cannot take handles."""

    def __init__(self) -> None:
        self._handles: dict[int, tuple[np.random.Generator, NDArray[np.uint64]]] = {}

    def __call__(self, generator: np.random.Generator) -> Any:
        if not handles.USE_HANDLES:
            return generator
        cached = self._handles.get(id(generator))
        if cached is None or cached[0] is not generator:
            cached = (generator, handles.handle(generator))
            self._handles[id(generator)] = cached
        return cached[1]


def same_key(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Cache keys: arrays compare by identity, everything else by value."""
    return all(
        (a is b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else a == b
        for a, b in zip(old, new, strict=True)
    )


class PopulationCounts:
    """The ``population_daily`` row: users per state, traceable, ever reported, ever
    detained (kept while the state version and the reports filed stand), and the mean
    perceived probabilities of active users (``mean_beliefs(day)``, every day)."""

    def __init__(self, users: Users, mean_beliefs: Callable[[int], FloatArray]) -> None:
        self.users = users
        self.mean_beliefs = mean_beliefs
        self._cached: tuple[tuple[Any, ...], dict[str, Any]] | None = None

    def key(self, reports_filed: int) -> tuple[Any, ...]:
        return (self.users.state_version, reports_filed)

    def row(self, reports_filed: int, day: int) -> dict[str, Any]:
        """Day ``day``'s row: the beliefs users hold for the next day."""
        key = self.key(reports_filed)
        cached = self._cached
        if cached is not None and same_key(cached[0], key):
            counts = cached[1]
        else:
            users = self.users
            counts = population_row(
                learning.population_counts(
                    users.state, users.traceable, users.ever_reported, users.ever_detained
                )
            )
            self._cached = (key, counts)
        beliefs = self.mean_beliefs(day + 1).reshape(-1).tolist()
        return {**dict(zip(MEAN_BELIEF_COLUMNS, beliefs, strict=True)), **counts}

    def clear(self) -> None:
        self._cached = None


#: population_daily's columns of mean perceived probabilities (S16), per sanction and kind.
MEAN_BELIEF_COLUMNS = tuple(
    f"mean_p_{sanction}_{kind.label}"
    for sanction in ("removal", "detention")
    for kind in (ContentKind.CRITICAL, ContentKind.COLLECTIVE_ACTION, ContentKind.UNLAWFUL)
)


def population_row(counts: IntArray) -> dict[str, Any]:
    """The population series' count columns from :func:`learning.population_counts`."""
    values = counts.tolist()
    n_states = len(UserState)
    return {
        **dict(zip(_STATE_COLUMNS, values[:n_states], strict=True)),
        "traceable": values[n_states],
        "reported_ever": values[n_states + 1],
        "detained_ever": values[n_states + 2],
    }
