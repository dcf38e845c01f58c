"""What lowers the rules year's traced peak (docs/performance.md, "Session 19") keeps every
value: compaction before the store would grow, the renumbering's narrow ids, the queue's
items mapped a block at a time, and the day's output buffers sized by the previous day."""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.engine.post_store import PostStore
from simulator.engine.post_store import Renumbering as StoreRenumbering
from simulator.kernels import publishing
from simulator.kernels.channel import DUTIES, ORDERS, POSTS, SUBMISSIONS, TARGETS
from simulator.kernels.queue import (
    FREE_LEVEL,
    LEVEL_COUNT,
    LEVEL_HEAD,
    LEVEL_PRIORITY,
    LEVEL_ROOM,
    LEVEL_START,
)
from simulator.model import review_arrays
from simulator.model.review_arrays import ArrayReviewQueue
from simulator.model.views import IntArray, Renumbering

TABLES = ("daily", "counterfactual_daily", "delays", "events", "platform_daily", "population_daily")


class Keeps:
    """A holder needing the post ids ``ids``."""

    def __init__(self, store: PostStore, ids: list[int]) -> None:
        self.ids = np.array(ids, dtype=np.int64)
        store.register(self)

    def live_post_ids(self, day: int) -> Iterable[IntArray]:
        return [self.ids]

    def renumber_post_ids(self, renumber: Renumbering) -> None:
        self.ids = renumber(self.ids)


def _day_of_records(store: PostStore, first: int, count: int) -> None:
    store.append(time_hours=np.arange(first, first + count, dtype=np.float64), day=first)


def test_the_store_compacts_before_it_would_have_to_grow() -> None:
    store = PostStore(capacity=100)
    store.compact_min_records = 0
    store.compact_ratio = 1e9  # never due by the ratio: only the room decides
    store.live_at_last_compaction = 60
    holder = Keeps(store, [1, 30, 59])
    _day_of_records(store, 0, 60)
    # 60 held + 60 tomorrow > 100 rows: compacted now, to the 3 records needed.
    assert store.compact(day=0)
    assert store.size == 3
    assert store._capacity == 100  # not grown
    np.testing.assert_array_equal(holder.ids, [0, 1, 2])
    np.testing.assert_array_equal(store.time_hours[holder.ids], [1.0, 30.0, 59.0])
    assert np.isinf(store.removed_hours[:100]).all()  # the freed rows have their fill
    # 3 + 40 + 40 <= 100: room for another such day, nothing done.
    _day_of_records(store, 60, 40)
    assert not store.compact(day=1)
    assert store.size == 43
    np.testing.assert_array_equal(store.time_hours[:5], [1.0, 30.0, 59.0, 60.0, 61.0])


def test_without_compacting_before_growing_only_the_ratio_decides() -> None:
    store = PostStore(capacity=100)
    store.compact_min_records = 0
    store.compact_ratio = 1e9
    store.live_at_last_compaction = 60
    store.compact_before_growing = False
    Keeps(store, [1])
    _day_of_records(store, 0, 60)
    assert not store.compact(day=0)
    assert store.size == 60


def test_the_store_does_not_compact_below_its_minimum_when_crowded() -> None:
    store = PostStore(capacity=100)
    store.compact_min_records = 61
    store.compact_ratio = 1e9
    store.live_at_last_compaction = 60
    Keeps(store, [1])
    _day_of_records(store, 0, 60)
    assert not store.compact(day=0)


def test_renumbering_gives_int64_ids_of_the_same_values() -> None:
    rng = np.random.default_rng(5)
    marked = rng.random(10_000) < 0.3
    renumber = StoreRenumbering(marked)
    assert renumber.new_id.dtype == np.int32  # (half the bytes of the cumulative sum)
    expected = np.cumsum(marked) - 1
    kept = np.flatnonzero(marked)
    some = rng.choice(kept, 2_000)
    got = renumber(some)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected[some])
    anything = rng.integers(0, 10_000, 3_000)
    surviving = renumber.surviving(anything)
    assert surviving.dtype == np.int64
    np.testing.assert_array_equal(surviving, expected[anything[marked[anything]]])
    with pytest.raises(AssertionError, match="freed"):
        renumber(np.flatnonzero(~marked)[:3])


def test_queue_items_are_mapped_a_block_at_a_time_to_the_same_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(review_arrays, "MAP_BLOCK", 7)
    queue = ArrayReviewQueue(2, 1.0, np.random.default_rng(1))
    n_pending, n_waiting = 23, 40
    queue.submit(
        np.linspace(5.0, 9.0, n_pending), np.zeros(n_pending, dtype=np.int64),
        np.arange(n_pending, dtype=np.int64) * 3 + 1000,
    )  # fmt: skip
    queue.reserve(n_waiting)
    waiting = np.arange(n_waiting, dtype=np.int64) * 5
    # The level's ring holds them from 5 before its end, wrapping round to its start.
    row = queue.wait_levels[0]
    room = int(row[LEVEL_ROOM])
    slots = row[LEVEL_START] + (room - 5 + np.arange(n_waiting)) % room
    queue.wait_item[slots] = waiting
    row[LEVEL_HEAD], row[LEVEL_COUNT] = room - 5, n_waiting
    queue.counters[1] = n_waiting
    sizes: list[int] = []

    def mapping(items: IntArray) -> IntArray:
        sizes.append(len(items))
        return items * 2 + 1

    queue.map_items(mapping)
    assert max(sizes) == 7 and sum(sizes) == n_pending + n_waiting
    np.testing.assert_array_equal(queue._pi[:n_pending], (np.arange(n_pending) * 3 + 1000) * 2 + 1)
    np.testing.assert_array_equal(queue.wait_item[slots], waiting * 2 + 1)
    np.testing.assert_array_equal(queue._waiting_items(), waiting * 2 + 1)
    np.testing.assert_array_equal(
        np.sort(queue.items()),
        np.sort(np.concatenate(((np.arange(n_pending) * 3 + 1000) * 2 + 1, waiting * 2 + 1))),
    )


def test_buffer_capacities_follow_the_day_with_a_margin() -> None:
    state = np.zeros(6, dtype=np.int64)
    assert publishing.buffer_capacities(state) == publishing.BUFFER_CAPACITIES
    state[[POSTS, SUBMISSIONS, DUTIES, ORDERS, TARGETS]] = (1000, 2000, 8, 400, 10)
    assert publishing.buffer_capacities(state) == (1250, 2500, 16, 500, 256)
    assert publishing.buffer_capacities(state, margin=0.5) == (1500, 3000, 16, 600, 256)
    buffers = publishing.new_buffers((1250, 2500, 16, 500, 256))
    assert buffers.post_float.shape[1] == buffers.post_int.shape[1] == 1250
    assert buffers.sub_time.shape[1] == buffers.sub_int.shape[1] == 2500
    assert buffers.order_int.shape[1] == 500
    assert buffers.target_value.shape[1] == buffers.target_int.shape[1] == 256


def _run(monkeypatch: pytest.MonkeyPatch, capacities: str) -> simulator.Results:
    """A reduced CSL run whose day buffers start as ``capacities`` says: "tiny" (one of
    each: every buffer grows every day), "day" (the previous day's, the default) or
    "large"."""
    if capacities == "tiny":
        monkeypatch.setattr(publishing, "buffer_capacities", lambda state: (1, 1, 1, 1, 1))
    elif capacities == "large":
        monkeypatch.setattr(publishing, "buffer_capacities", lambda state: (1 << 16,) * 5)
    scenario = simulator.override(
        simulator.load_scenario("china_csl_2016"), {"population.users": 4000, "horizon_days": 45}
    )
    results = simulator.run(scenario, seed=2)
    monkeypatch.undo()
    return results


def test_the_day_buffers_capacities_change_no_output(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = [_run(monkeypatch, capacities) for capacities in ("day", "tiny", "large")]
    # Tens of thousands of flags, thousands held and removed: every buffer was used.
    assert runs[0].summary["flagged_total"] > 10_000 and runs[0].summary["removed"] > 1_000
    assert runs[0].summary["held_total"] > 1_000
    for other in runs[1:]:
        for table in TABLES:
            pd.testing.assert_frame_equal(
                getattr(other, table), getattr(runs[0], table), check_exact=True
            )
        assert json.dumps(other.summary, sort_keys=True) == json.dumps(
            runs[0].summary, sort_keys=True
        )


@pytest.mark.parametrize("seed", [3, 11])
def test_the_line_serves_any_priorities_in_16_bytes_an_item(seed: int) -> None:
    """The waiting line is a ring per priority level of items and arrival hours (16
    bytes a waiting item; the heap it replaced kept a priority and a sequence number
    too): a line whose priorities are all 1,000 higher, and one whose count of entries
    starts just below 2**31, serve the same items at the same times as the Python queue
    and as the plain line, and hold the same items in each level."""
    from types import SimpleNamespace

    from simulator.engine.review import Decisions
    from simulator.model.review_queue import ReviewQueue
    from tests.test_backlog_memory import _heavy_arrivals
    from tests.test_review_kernels import COLUMNS, _compiled_day, _posts

    rng = np.random.default_rng(seed)
    n_posts, threshold, held = 5_000, 0.2, 0.6
    reference_cols = _posts(rng, n_posts, threshold)
    names = ("plain", "high priorities", "late sequence")
    cols = {name: {c: column.copy() for c, column in reference_cols.items()} for name in names}
    reference = ReviewQueue(2, 0.5, np.random.default_rng(seed + 1))
    queues = {name: ArrayReviewQueue(2, 0.5, np.random.default_rng(seed + 1)) for name in names}
    start_seq = np.iinfo(np.int32).max - 5_000
    queues["late sequence"].counters[2] = start_seq
    posts = SimpleNamespace(**{name: reference_cols[name] for name in COLUMNS})
    for day, (t, p, i) in enumerate(_heavy_arrivals(rng, n_posts, 6)):
        reference.submit(t, p, i)
        for name, queue in queues.items():
            queue.submit(t, p + 1_000 if name == "high priorities" else p, i)
        end = (day + 1) * 24.0
        decide = Decisions(posts, threshold, held)  # type: ignore[arg-type]
        batch = reference.run_until(end, decide.serve)
        days = {
            name: _compiled_day(queue, end, cols[name], threshold, held)
            for name, queue in queues.items()
        }
        for name, (waits, lists, _) in days.items():
            np.testing.assert_array_equal(waits, batch.start_hours - batch.arrival_hours)
            assert lists == days["plain"][1]
            assert lists[0] == decide.removed
            assert queues[name].waiting == reference.waiting
            for c in COLUMNS:
                np.testing.assert_array_equal(cols[name][c], reference_cols[c], c)
    assert reference.waiting > 5_000  # a long line
    plain, high, late = (queues[name] for name in names)
    for queue in (plain, high, late):
        assert queue.wait_item.itemsize + queue.wait_arrival.itemsize == 16
        assert not hasattr(queue, "wait_priority") and not hasattr(queue, "wait_seq")
    used = plain.wait_levels[:, LEVEL_PRIORITY] != FREE_LEVEL
    np.testing.assert_array_equal(
        high.wait_levels[used, LEVEL_PRIORITY], plain.wait_levels[used, LEVEL_PRIORITY] + 1_000
    )
    np.testing.assert_array_equal(
        high.wait_levels[used, LEVEL_COUNT], plain.wait_levels[used, LEVEL_COUNT]
    )
    assert int(late.counters[2]) - start_seq == int(plain.counters[2])  # entries so far
    for other in (high, late):
        np.testing.assert_array_equal(other._waiting_items(), plain._waiting_items())
