"""The post store's registry of post-id holders and the users table's state version
(simulator/engine/post_store.py, simulator/engine/caches.py)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

import simulator
from simulator.engine.post_store import PostStore, unregistered_holders
from simulator.engine.simulation import Simulation
from simulator.kinds import UserState
from simulator.model.real_name import register_users
from simulator.model.views import IntArray, Renumbering


class ToyHolder:
    """A new mechanism's structure holding post ids, as a holder is written."""

    def __init__(self, store: PostStore, ids: list[int], register: bool = True) -> None:
        self.ids = np.array(ids, dtype=np.int64)
        self.listed = self.ids  # what it tells compaction it needs
        if register:
            store.register(self)

    def live_post_ids(self, day: int) -> Iterable[IntArray]:
        return [self.listed]

    def renumber_post_ids(self, renumber: Renumbering) -> None:
        self.ids = renumber(self.ids)
        self.listed = self.ids


def _store(records: int) -> PostStore:
    store = PostStore(capacity=4)
    store.append(time_hours=np.arange(records, dtype=np.float64), author=np.arange(records) * 10)
    store.compact_min_records = 0  # (instance attributes: compact whenever asked)
    store.compact_ratio = 0.0
    return store


def test_registered_holders_are_renumbered_on_compaction() -> None:
    store = _store(10)
    first, second = ToyHolder(store, [2, 5, 7]), ToyHolder(store, [9, 5])
    assert store.compact(day=0)
    assert store.size == 4  # records 2, 5, 7, 9 kept, in order
    np.testing.assert_array_equal(first.ids, [0, 1, 2])
    np.testing.assert_array_equal(second.ids, [3, 1])
    # The ids still point at the same records.
    np.testing.assert_array_equal(store.time_hours[first.ids], [2.0, 5.0, 7.0])
    np.testing.assert_array_equal(store.author[second.ids], [90, 50])
    assert not store.compact(day=1)  # nothing more to free


def test_keep_moves_every_column_as_numpy_indexing_does() -> None:
    """Compaction's in-place move (kernels.numeric.keep_rows) keeps exactly the rows
    ``column[ids]`` of every column type, in order, and refills the rows freed."""
    rng = np.random.default_rng(2)
    store = PostStore(capacity=8, users=100_000, days=400, platforms=3)
    n = 5_000
    values = {
        "time_hours": rng.random(n) * 100, "removed_hours": rng.random(n),
        "reviewer_score": rng.random(n).astype(np.float32), "author": rng.integers(0, 100_000, n),
        "day": rng.integers(0, 400, n), "platform": rng.integers(0, 3, n),
        "kind": rng.integers(0, 4, n), "removed_by": rng.integers(-1, 4, n),
    }  # fmt: skip
    store.append(**values)
    before = {name: column[:n].copy() for name, column in store.columns.items()}
    ids = np.flatnonzero(rng.random(n) < 0.3)
    store.keep(ids)
    assert store.size == len(ids)
    for name, column in store.columns.items():
        np.testing.assert_array_equal(column[: len(ids)], before[name][ids], err_msg=name)
        fill = PostStore(capacity=1).columns[name][0]
        assert (column[len(ids) : n] == fill).all(), name


def test_a_holder_that_does_not_list_an_id_it_holds_is_an_error() -> None:
    store = _store(6)
    holder = ToyHolder(store, [1, 4])
    holder.listed = np.array([1], dtype=np.int64)  # forgets record 4
    with pytest.raises(AssertionError, match="still referenced were freed"):
        store.compact(day=0)


def test_registering_twice_is_refused() -> None:
    store = _store(2)
    holder = ToyHolder(store, [0])
    with pytest.raises(ValueError, match="registered twice"):
        store.register(holder)


@pytest.fixture(scope="module")
def compacted_run() -> Simulation:
    """A short csl run that compacts its post records at the end of every day."""
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"), {"population.users": 2_000, "horizon_days": 20}
    )
    simulation = Simulation(scenario, seed=2)
    simulation.posts.compact_min_records = 0
    simulation.posts.compact_ratio = 0.0
    simulation.run()
    return simulation


def test_every_holder_of_a_run_is_registered(compacted_run: Simulation) -> None:
    """Every structure of a run that holds post ids (found by walking the simulation's
    objects) is registered with its store: the test a new mechanism's holder must pass."""
    posts = compacted_run.posts
    assert posts.appended > posts.size > 0  # compaction freed records
    assert unregistered_holders(compacted_run, posts) == []
    names = sorted(type(holder).__name__ for holder in posts.holders)
    assert names == ["OrderBook", "ProhibitedPosts", "QueuedItems"]


def test_an_unregistered_holder_is_found(compacted_run: Simulation) -> None:
    """A holder made without registering, wherever it hangs in the run, is named; so is
    one of the engine's own if it were left out of the registry."""
    stray = ToyHolder(compacted_run.posts, [0], register=False)
    compacted_run.sanctions.new_mechanism = {"pending": [stray]}  # type: ignore[attr-defined]
    try:
        assert unregistered_holders(compacted_run, compacted_run.posts) == [
            "root.sanctions.new_mechanism['pending'][0]"
        ]
    finally:
        del compacted_run.sanctions.new_mechanism  # type: ignore[attr-defined]
    alone = PostStore()
    alone.holders = [h for h in compacted_run.posts.holders if type(h).__name__ != "OrderBook"]
    assert unregistered_holders(compacted_run, alone) == ["root.orders"]


# -- the users table's state version keys the caches --------------------------------------


def _simulation() -> Simulation:
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"), {"population.users": 500, "horizon_days": 5}
    )
    return Simulation(scenario, seed=1)


def test_routes_are_cached_until_the_state_version_moves() -> None:
    simulation = _simulation()
    users = simulation.users
    route = simulation.speech.routes(0.0)
    assert simulation.speech.routes(0.0) is route  # same version: the cached routes
    user = int(np.flatnonzero(route >= 0)[0])
    users.state[user] = UserState.EXCLUDED
    assert simulation.speech.routes(0.0)[user] == route[user]  # not marked: still cached
    users.states_changed()
    fresh = simulation.speech.routes(0.0)
    assert fresh is not route
    assert fresh[user] == -1  # NO_ROUTE
    assert np.array_equal(np.delete(fresh, user), np.delete(route, user))


def test_every_change_of_access_moves_the_version() -> None:
    simulation = _simulation()
    users, sanctions = simulation.users, simulation.sanctions
    rule = simulation.scenario.rules.real_name
    before = users.state_version
    register_users(users, rule, np.ones(len(simulation.platforms)), simulation.streams.behaviour)
    assert users.state_version == before + 1
    # Strikes alone change no one's access: the version stands.
    active = np.flatnonzero(users.state == UserState.ACTIVE)[:1].astype(np.int64)
    exits = simulation.scenario.population.exits
    sanctions.exits = exits.model_copy(
        update={"leave_probability_on_sanction": 0.0, "circumvent_probability_on_sanction": 0.0}
    )
    version = users.state_version
    sanctions.strikes_and_exits(0.0, active)
    assert users.state_version == version and users.strikes[active[0]] == 1
    # A suspended (or closed) account does: one strike a day until it is.
    day = 0
    while users.state[active[0]] == UserState.ACTIVE:
        assert users.state_version == version
        day += 1
        sanctions.strikes_and_exits(24.0 * day, np.repeat(active, 3))
    assert users.state[active[0]] == UserState.EXCLUDED and users.strikes[active[0]] == day + 1
    assert users.state_version == version + 1
    # A platform leaving the market moves its users: the version moves.
    simulation.platforms[0].cash = -1.0
    version = users.state_version
    sanctions.platform_changes(24.0)
    assert simulation.platforms[0].exited and users.state_version > version
