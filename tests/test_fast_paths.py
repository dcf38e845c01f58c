"""The engine's vectorised shortcuts give exactly what the event-by-event code gives.

Speed work (docs/performance.md) must not change a run's output: each shortcut is
checked here against the plain path it replaces, on the same seed, byte for byte.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.engine.review import ReviewDay
from simulator.model.review_queue import ReviewQueue

TABLES = ("daily", "counterfactual_daily", "delays", "events", "platform_daily", "population_daily")


def _queue_run(fast: bool, servers: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    queue = ReviewQueue(servers, 0.5, np.random.default_rng(seed + 1))
    n = 3000
    arrival = np.sort(rng.uniform(0, 240, n))
    arrival[100:130] = arrival[100]  # a burst of ties
    priority = rng.integers(0, 4, n)
    items = np.arange(n)

    def one(item: int, start: float, finish: float) -> bool:
        return item % 7 != 3

    def many(it: np.ndarray, start: np.ndarray, finish: np.ndarray) -> np.ndarray:
        return it % 7 != 3

    queue.submit(arrival, priority, items)
    out = []
    for day in range(1, 12):
        batch = queue.run_until(day * 24.0, one, many if fast else None)
        out += [batch.item, batch.arrival_hours, batch.start_hours, batch.finish_hours]
        out.append(batch.dropped_item)
    out.append(np.array([queue.busy, queue.waiting]))
    return out


@pytest.mark.parametrize("servers", [1, 3, 12, 50])
def test_queue_fast_path_matches_loop(servers: int) -> None:
    for seed in (5, 11, 12):
        slow, fast = _queue_run(False, servers, seed), _queue_run(True, servers, seed)
        for slow_part, fast_part in zip(slow, fast, strict=True):
            np.testing.assert_array_equal(slow_part, fast_part)


def _tables(results: simulator.Results) -> dict[str, pd.DataFrame]:
    return {name: getattr(results, name) for name in TABLES}


@pytest.mark.parametrize(
    "changes",
    [
        {},  # classroom: few reviewers, queues that sometimes back up
        {"platforms.0.reviewers_per_100k_users": 4000.0, "rules.appeals.enabled": True},
    ],
)
def test_engine_fast_paths_are_exact(monkeypatch: pytest.MonkeyPatch, changes: dict) -> None:
    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {"population.users": 1500, "horizon_days": 25, **changes},
    )
    # The Python review (the compiled one never takes the vectorised path; it is
    # compared with this one in tests/test_review_kernels.py).
    monkeypatch.setattr(ReviewDay, "compiled", False)
    fast = _tables(simulator.run(scenario, seed=3))
    monkeypatch.setattr(ReviewQueue, "_start_unhindered", lambda self, *args: 0)
    slow = _tables(simulator.run(scenario, seed=3))
    for name in TABLES:
        pd.testing.assert_frame_equal(fast[name], slow[name], check_exact=True)
    assert int(fast["daily"]["removed"].sum()) > 0
    assert not math.isnan(float(fast["platform_daily"]["reviews"].sum()))
