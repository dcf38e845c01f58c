"""Memory-saving layouts give exactly what the plain ones gave.

The network is built by a compiled counting sort (docs/performance.md); the users
keep neither their rates nor their stances after set-up. Each is checked here against
the straightforward code it replaced, on the same seeds, value for value.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.engine.post_store import PostStore
from simulator.engine.simulation import Simulation
from simulator.model.population import SocialNetwork, Users
from simulator.model.review_queue import ReviewQueue
from simulator.streams import Streams

TABLES = ("daily", "counterfactual_daily", "delays", "events", "platform_daily", "population_daily")


def _network_one_sort(
    users: int, mean_degree: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The network as it was built before (int64 draws, one global sort of all keys)."""
    edges = int(round(users * mean_degree / 2.0)) if users > 1 else 0
    a = rng.integers(0, max(users, 1), size=edges, dtype=np.int64)
    b = rng.integers(0, max(users, 1), size=edges, dtype=np.int64)
    keep = a != b
    a, b = a[keep], b[keep]
    key = np.concatenate([(a << 32) | b, (b << 32) | a])
    key.sort()
    indices = key.astype(np.int32)
    counts = np.bincount(key >> 32, minlength=users)
    indptr = np.zeros(users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, indices


@pytest.mark.parametrize(
    ("users", "degree"),
    # (300, 80.0): rows longer than 32 neighbours, sorted by np.sort instead of insertion
    [(0, 10.0), (1, 10.0), (2, 3.0), (7, 4.0), (9, 2.0), (1001, 10.0), (300, 80.0)],
)
@pytest.mark.parametrize("seed", [0, 3])
def test_blocked_network_is_the_one_sort_network(users: int, degree: float, seed: int) -> None:
    indptr, indices = _network_one_sort(users, degree, np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    network = SocialNetwork.random(users, degree, rng)
    np.testing.assert_array_equal(network.indptr.astype(np.int64), indptr)
    np.testing.assert_array_equal(network.indices, indices)
    assert network.indices.dtype == np.int32
    assert network.indptr.dtype == np.int32  # the edge count fits
    # The stream is left where the int64 draws left it.
    after = np.random.default_rng(seed)
    _network_one_sort(users, degree, after)
    assert rng.random() == after.random()


def test_network_counts_match_degrees() -> None:
    network = SocialNetwork.random(5000, 8.0, np.random.default_rng(11))
    degree = network.degree()
    assert degree.dtype == np.int64
    assert degree.sum() == len(network.indices)
    # Every edge is stored both ways: neighbour counts of everyone add up to the degrees.
    counts = network.neighbour_counts(np.arange(5000, dtype=np.int64), 5000)
    np.testing.assert_array_equal(counts.astype(np.int64), degree)


def _old_traits(spec: simulator.Scenario, seed: int) -> dict[str, np.ndarray]:
    """Rates and weights as Users computed and kept them before."""
    population = spec.population
    rng = Streams.from_seed(seed).population
    sigma = population.posting_dispersion
    spread = rng.lognormal(mean=-0.5 * sigma**2, sigma=sigma, size=population.users)
    rate = population.posts_per_day * spread
    stance = rng.beta(population.stance.alpha, population.stance.beta, size=population.users)
    factor = stance / population.stance.mean
    mix = population.sensitive_mix
    total = float(sum(getattr(mix, k) for k in mix.model_dump()))
    return {
        "rate": rate,
        "stance_factor": factor,
        "sensitive_cumulative": np.cumsum(rate * factor),
        "benign_cumulative": np.cumsum(rate * (1.0 - factor * total)),
    }


def test_users_keep_only_what_the_run_needs() -> None:
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"), {"population.users": 3000}
    )
    shares = [p.market_share for p in scenario.platforms]
    users = Users(scenario.population, shares, Streams.from_seed(5).population)
    old = _old_traits(scenario, 5)
    np.testing.assert_array_equal(users.rate, old["rate"])
    np.testing.assert_array_equal(users.stance_factor, old["stance_factor"])
    np.testing.assert_array_equal(users._sensitive_cumulative[0], old["sensitive_cumulative"])
    np.testing.assert_array_equal(np.cumsum(users.benign_weight), old["benign_cumulative"])
    assert users.daily_rate_by_kind()[0] == old["benign_cumulative"][-1]
    kept = {name for name, v in vars(users).items() if isinstance(v, np.ndarray)}
    assert not kept & {"rate", "stance_factor", "sensitive_weight", "release_hours"}
    # Per user: 4 + 2 + 4 + 1 + 1 + 2 + 1 + 1 (traits and state) + 8 + 8 (weights)
    # + 4 + 4 + 1 (last strike day, return day, exclusion reason: S14); besides, the mix
    # and each sensitive kind's weight row and scale (one row without group mixes, S1).
    assert users.memory_bytes() - users.network.indices.nbytes - users.network.indptr.nbytes == (
        41 * 3000 + users.mix.nbytes + users.kind_row.nbytes + users.kind_scale.nbytes
    )


def test_post_store_narrow_columns_and_slice_append() -> None:
    store = PostStore(capacity=2, users=1_000_000, days=365, platforms=3)
    assert store.author.dtype == np.int32
    assert store.day.dtype == np.int16
    assert store.platform.dtype == np.int8
    assert PostStore(days=36_500).day.dtype == np.int32
    assert PostStore().author.dtype == np.int64  # unbounded: as wide as before
    assert PostStore(users=3_000_000_000).author.dtype == np.int64
    # Small worlds keep int32 authors and int16 days: the kernels reading these columns
    # see the same types at every size and compile once per machine.
    small = PostStore(users=2_000, days=60, platforms=2)
    assert (small.author.dtype, small.day.dtype, small.platform.dtype) == (
        np.int32,
        np.int16,
        np.int8,
    )
    first = store.append(
        time_hours=np.array([1.5, 2.5, 3.5]), author=np.array([999_999, 0, 7]), day=4, platform=2
    )
    second = store.append(time_hours=np.array([9.0]), author=np.array([5]), day=364, platform=0)
    np.testing.assert_array_equal(first, [0, 1, 2])
    np.testing.assert_array_equal(second, [3])
    assert store.size == 4
    np.testing.assert_array_equal(store.author[:4], [999_999, 0, 7, 5])
    np.testing.assert_array_equal(store.day[:4], [4, 4, 4, 364])
    np.testing.assert_array_equal(store.platform[:4], [2, 2, 2, 0])
    np.testing.assert_array_equal(store.time_hours[:4], [1.5, 2.5, 3.5, 9.0])
    # Columns not given keep their fill, also in rows the growth added.
    assert np.isinf(store.removed_hours[:4]).all()
    np.testing.assert_array_equal(store.removed_by[:4], [-1, -1, -1, -1])
    with pytest.raises(KeyError, match="unknown post columns"):
        store.append(time_hours=np.zeros(1), colour=np.zeros(1))


def _run_compacting(
    monkeypatch: pytest.MonkeyPatch, name: str, every_day: bool
) -> tuple[simulator.Results, tuple[int, int]]:
    """A reduced run of ``name`` compacting post records at the end of every day (or
    never), and its rules run's post records: (ever added, held at the end)."""
    monkeypatch.setattr(PostStore, "compact_min_records", 0 if every_day else 1 << 62)
    monkeypatch.setattr(PostStore, "compact_ratio", 0.0 if every_day else 2.0)
    records: list[tuple[int, int]] = []
    release = Simulation.release_working_memory

    def remember(self: Simulation) -> None:
        records.append((self.posts.appended, self.posts.size))
        release(self)

    monkeypatch.setattr(Simulation, "release_working_memory", remember)
    base = simulator.load_scenario(name)
    # Staff that keeps up with the flags (x10): with a backlog, records still queued are
    # rightly kept and "most records freed" would test the model's queues, not compaction.
    staff = {
        f"platforms.{i}.reviewers_per_100k_users": 10 * p.reviewers_per_100k_users
        for i, p in enumerate(base.platforms)
    }
    scenario = simulator.override(
        base, {"population.users": 5000, "horizon_days": 90, **staff}
    )
    results = simulator.run(scenario, seed=3)
    monkeypatch.undo()
    assert len(records) == 1  # the rules run's
    return results, records[0]


@pytest.mark.parametrize(
    "name", ["china_csl_2016", "china_weibo_2012", "germany_netzdg_2017", "eu_dsa_2024"]
)
def test_compacting_post_records_every_day_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Freeing every record nothing can act on, every day, gives the tables of a run
    that keeps them all. A record freed too early changes the audits' counts, the
    missed deadlines, the reviews or the appeals (or is caught as still referenced)."""
    compacted, (added, held) = _run_compacting(monkeypatch, name, every_day=True)
    kept, (added_kept, held_kept) = _run_compacting(monkeypatch, name, every_day=False)
    assert held_kept == added_kept == added > 500
    assert held < added / 2  # most records were freed
    for table in TABLES:
        pd.testing.assert_frame_equal(
            getattr(compacted, table), getattr(kept, table), check_exact=True
        )
    assert json.dumps(compacted.summary, sort_keys=True) == json.dumps(kept.summary, sort_keys=True)


def test_queue_items_and_renumbering_keep_the_service_order() -> None:
    def queue() -> ReviewQueue:
        q = ReviewQueue(2, 1.0, np.random.default_rng(4))
        rng = np.random.default_rng(9)
        n = 400
        q.submit(np.sort(rng.uniform(0, 48, n)), rng.integers(0, 3, n), 10 * np.arange(n))
        return q

    plain, mapped = queue(), queue()
    first = plain.run_until(24.0)
    np.testing.assert_array_equal(mapped.run_until(24.0).item, first.item)
    waiting = mapped.items()
    assert len(waiting) == plain.waiting + plain.pending > 0
    # Everything not started: what was submitted minus what started.
    assert set(waiting.tolist()) == set(range(0, 4000, 10)) - set(first.item.tolist())
    mapped.map_items(lambda items: items // 10 + 7)
    assert set(mapped.items().tolist()) == {i // 10 + 7 for i in waiting.tolist()}
    rest_plain, rest_mapped = plain.run_until(100.0), mapped.run_until(100.0)
    np.testing.assert_array_equal(rest_mapped.item, rest_plain.item // 10 + 7)
    np.testing.assert_array_equal(rest_mapped.finish_hours, rest_plain.finish_hours)


def test_released_network_is_drawn_again_the_same() -> None:
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"), {"population.users": 2000}
    )
    shares = [p.market_share for p in scenario.platforms]
    users = Users(scenario.population, shares, Streams.from_seed(8).population)
    first = users.network
    users.release_network()
    assert users._network is None
    again = users.network
    assert again is not first
    np.testing.assert_array_equal(again.indptr, first.indptr)
    np.testing.assert_array_equal(again.indices, first.indices)
