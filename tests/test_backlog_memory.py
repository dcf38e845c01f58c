"""The review backlog's storage grows by a quarter, not by doubling (docs/performance.md,
"The backlog's memory"): the waiting line and the post store hold the same entries in
the same order, and a queue serves the same items at the same times as the plain
Python queue (deques per priority level) on random inputs that build a long line.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from simulator.engine.post_store import PostStore
from simulator.engine.review import Decisions
from simulator.kernels.queue import LEVEL_COUNT, LEVEL_PRIORITY, LEVEL_ROOM
from simulator.kinds import Action
from simulator.model import review_arrays
from simulator.model.review_arrays import ArrayReviewQueue, grown_capacity
from simulator.model.review_queue import ReviewQueue
from tests.test_review_kernels import COLUMNS, _compiled_day, _posts


def _heavy_arrivals(
    rng: np.random.Generator, n_posts: int, days: int
) -> list[tuple[np.ndarray, ...]]:
    """Far more items a day than two reviewers take: the line grows every day (through
    several growths of its arrays), with ties in time and every priority."""
    out = []
    for day in range(days):
        m = int(rng.integers(1_500, 3_000))
        post = rng.integers(0, n_posts, m)
        action = rng.integers(0, Action.COUNT, m)
        t = np.round(rng.uniform(day * 24.0, day * 24.0 + 24.0, m), 1)  # ties
        t[: m // 8] = t[0]  # a burst at one instant
        out.append((t, action.astype(np.int64), post * Action.COUNT + action))
    return out


@pytest.mark.parametrize("seed", [3, 11])
def test_growing_line_serves_as_the_python_queue(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    n_posts, threshold, held = 5_000, 0.2, 0.6
    reference_cols = _posts(rng, n_posts, threshold)
    quarter_cols = {name: column.copy() for name, column in reference_cols.items()}
    doubled_cols = {name: column.copy() for name, column in reference_cols.items()}
    reference = ReviewQueue(2, 0.5, np.random.default_rng(seed + 1))
    quarter = ArrayReviewQueue(2, 0.5, np.random.default_rng(seed + 1))
    doubled = ArrayReviewQueue(2, 0.5, np.random.default_rng(seed + 1))
    posts = SimpleNamespace(**{name: reference_cols[name] for name in COLUMNS})
    capacities: list[int] = []
    buffers: set[int] = set()
    most_needed = np.zeros(Action.COUNT, dtype=np.int64)  # by each level, over the days
    for day, (t, p, i) in enumerate(_heavy_arrivals(rng, n_posts, 12)):
        for queue in (reference, quarter, doubled):
            queue.submit(t, p, i)
        for level in range(Action.COUNT):
            needed = quarter.waiting_at(level) + int(np.count_nonzero(p == level))
            most_needed[level] = max(most_needed[level], needed)
        end = (day + 1) * 24.0
        decide = Decisions(posts, threshold, held)  # type: ignore[arg-type]
        batch = reference.run_until(end, decide.serve)
        waits, lists, reviewed = _compiled_day(quarter, end, quarter_cols, threshold, held)
        capacities.append(len(quarter.wait_item))
        # The service times drawn so far are a prefix of a buffer with room after it.
        assert quarter.service.base is quarter._service_buffer
        buffers.add(id(quarter._service_buffer))
        with monkeypatch.context() as patch:  # the old growth: doubling
            patch.setattr(review_arrays, "grown_capacity", lambda c: max(2 * c, 64))
            old_waits, old_lists, _ = _compiled_day(doubled, end, doubled_cols, threshold, held)
        # The same items started at the same times, decided the same way, as the
        # Python queue and as the doubling line.
        np.testing.assert_array_equal(waits, batch.start_hours - batch.arrival_hours)
        np.testing.assert_array_equal(waits, old_waits)
        assert lists[0] == decide.removed
        assert lists == old_lists
        for name in COLUMNS:
            np.testing.assert_array_equal(quarter_cols[name], reference_cols[name], name)
        assert quarter.waiting == doubled.waiting == reference.waiting
        assert sorted(quarter.items().tolist()) == sorted(reference.items().tolist())
        # Room for every waiting item; each level's ring at most a quarter (or one
        # minimum step) over the most that level has needed (its items and a day's
        # arrivals), and the line no more than its rings.
        levels = quarter.wait_levels
        assert levels[:, LEVEL_PRIORITY].tolist()[: Action.COUNT] == list(range(Action.COUNT))
        rooms = levels[: Action.COUNT, LEVEL_ROOM]
        assert np.all(levels[: Action.COUNT, LEVEL_COUNT] <= rooms)
        assert all(
            room <= grown_capacity(int(most)) for room, most in zip(rooms, most_needed, strict=True)
        ), (rooms, most_needed)
        assert len(quarter.wait_item) == rooms.sum()
    assert reference.waiting > 10_000  # the line built up
    assert len(set(capacities)) >= 5  # through several growths
    assert len(doubled.wait_item) > len(quarter.wait_item)
    # Most days' new service times were written after the unused ones, not copied
    # with them into a new array.
    assert len(buffers) <= 6


def test_grown_capacity_adds_a_quarter() -> None:
    assert grown_capacity(0) == review_arrays.LINE_GROWTH_MIN
    assert grown_capacity(4_000_000) == 5_000_000
    assert grown_capacity(100) == 100 + review_arrays.LINE_GROWTH_MIN


def test_post_store_grows_by_a_quarter_and_keeps_every_record() -> None:
    rng = np.random.default_rng(5)
    store = PostStore(capacity=1024, users=1_000, days=30, platforms=2)
    authors: list[np.ndarray] = []
    times: list[np.ndarray] = []
    capacities = []
    for _ in range(60):
        n = int(rng.integers(1, 6_000))
        author = rng.integers(0, 1_000, n)
        time = rng.uniform(0, 720, n)
        ids = store.append(author=author, time_hours=time, kind=np.int8(1))
        assert ids[0] == sum(len(a) for a in authors)
        authors.append(author)
        times.append(time)
        capacities.append(store._capacity)
        # At most a quarter spare (or one minimum step) above the rows in use.
        assert (
            store.size
            <= store._capacity
            <= max(int(1.25 * store.size) + 1, store.size + PostStore.growth_min_rows)
        )
    np.testing.assert_array_equal(store.author[: store.size], np.concatenate(authors))
    np.testing.assert_array_equal(store.time_hours[: store.size], np.concatenate(times))
    assert (store.kind[: store.size] == 1).all()
    # Rows not yet used keep their fill.
    assert np.isinf(store.removed_hours[store.size :]).all()
    assert (store.removed_by[store.size :] == -1).all()
    assert len(set(capacities)) >= 8
