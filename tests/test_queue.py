"""The queue the review and the police share (simulator/kernels/queue.py): its finish
heap and its waiting line give heapq's order, and both day kernels use these very
functions."""

from __future__ import annotations

import heapq

import numpy as np

from simulator.kernels import police, review
from simulator.kernels.queue import (
    FREE_LEVEL,
    LEVEL_COUNT,
    LEVEL_PRIORITY,
    arrival_order,
    finish_pop,
    finish_push,
    grown_levels,
    level_arrivals,
    line_ahead,
    line_has_room,
    line_pop,
    line_push,
    new_levels,
    new_line,
    register_levels,
    relaid_line,
    stable_order,
    submissions_in_order,
)


def test_the_finish_heap_pops_the_earliest() -> None:
    """Pushes and pops interleaved, with ties: always the earliest finish on top, the
    same times held as a ``heapq`` heap holds (the Python statement keeps its finish
    times with heapq), and a valid heap that heapq can take over as it is."""
    rng = np.random.default_rng(3)
    finish = np.empty(64)
    size = 0
    expected: list[float] = []
    pops = 0
    for step in range(500):
        if size < 60 and (size == 0 or rng.random() < 0.6):
            value = float(np.round(rng.random() * 10, 1))  # ties on purpose
            finish_push(finish, size, value)
            heapq.heappush(expected, value)
            size += 1
        else:
            assert finish[0] == expected[0], step
            finish_pop(finish, size)
            heapq.heappop(expected)
            size -= 1
            pops += 1
        held = finish[:size].tolist()
        assert sorted(held) == sorted(expected), step
        assert all(held[(k - 1) // 2] <= held[k] for k in range(1, size)), step
    assert pops > 100


def _line(priorities: list[int], room: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An empty line with a ring of ``room`` for each of ``priorities``."""
    levels = new_levels()
    assert register_levels(levels, np.array(priorities, dtype=np.int64))
    rooms = np.where(levels[:, LEVEL_PRIORITY] != FREE_LEVEL, room, 0).astype(np.int64)
    return relaid_line(np.empty(0, dtype=np.int64), np.empty(0), levels, rooms)


def test_the_line_takes_priority_then_first_in() -> None:
    """Lower priority number first; within a priority, in order of entry; one priority
    level (the police) is first come, first served."""
    rng = np.random.default_rng(5)
    n = 300
    priority = rng.integers(0, 4, n)
    line = _line([3, 1, 0, 2], n)
    for k in range(n):
        line_push(*line, int(priority[k]), 1000 + k, float(k) / 2)
    taken = [line_pop(*line) for k in range(n)]
    order = sorted(range(n), key=lambda k: (priority[k], k))
    assert [item for item, _ in taken] == [1000 + k for k in order]
    assert [arrival for _, arrival in taken] == [k / 2 for k in order]
    fifo = new_line(8)
    for k in range(8):
        line_push(*fifo, 0, k, 0.0)
    assert [line_pop(*fifo)[0] for k in range(8)] == list(range(8))


def test_the_line_interleaved_pops_what_heapq_pops() -> None:
    """Pushes and pops interleaved over a line of thousands, each level's ring wrapping
    round many times, and the line laid out again (larger, smaller, its rings moved)
    on the way: each pop is ``heapq``'s pop of ``(priority, seq)``, the order of the
    heap the rings replaced, the rings' counts are the entries of each level, and
    ``line_ahead`` names the entry a few after the head of the first level (the review's
    cache hint), or -1 past that level's end."""
    rng = np.random.default_rng(11)
    priorities = [-7, 0, 2, 5, 1_000]
    line = _line(priorities, 1_500)
    size = seq = pops = 0
    expected: list[tuple[int, int, int, float]] = []
    for step in range(40_000):
        if size < 1_400 and (size == 0 or rng.random() < 0.55):
            priority = priorities[int(rng.integers(0, len(priorities)))]
            line_push(*line, priority, 7 * seq, seq / 4)
            heapq.heappush(expected, (priority, seq, 7 * seq, seq / 4))
            size += 1
            seq += 1
        else:
            if step % 13 == 0:  # the entry a few pops ahead, while its level lasts
                first = min(e[0] for e in expected)
                level = sorted((e[1], e[2]) for e in expected if e[0] == first)
                for ahead in (0, 3, 8):
                    later = level[ahead][1] if len(level) > ahead else -1
                    assert line_ahead(line[0], line[2], ahead) == later, (step, ahead)
            _, _, item, arrival = heapq.heappop(expected)
            assert line_pop(*line) == (item, arrival), step
            size -= 1
            pops += 1
        if step % 997 == 0:
            levels = line[2]
            counts = {p: sum(1 for e in expected if e[0] == p) for p in priorities}
            rows = levels[: len(priorities)]
            assert rows[:, LEVEL_PRIORITY].tolist() == sorted(priorities)
            assert rows[:, LEVEL_COUNT].tolist() == [counts[p] for p in sorted(priorities)]
            room = np.where(levels[:, LEVEL_PRIORITY] != FREE_LEVEL, 1_400 + step % 5, 0)
            line = relaid_line(*line, room.astype(np.int64))
    assert pops > 15_000 and size > 500


def test_a_line_with_no_room_for_its_arrivals_is_seen() -> None:
    """The day's kernels check the rings' room once: the check counts each level's
    entries and arrivals, and refuses a priority that has no level."""
    line = _line([1, 3], 4)
    for k in range(3):
        line_push(*line, 3, k, 0.0)
    levels = line[2]
    none = np.zeros(len(levels), dtype=np.int64)
    assert line_has_room(levels, level_arrivals(levels, np.array([3, 1, 1, 1, 1])), none)
    assert not line_has_room(levels, level_arrivals(levels, np.array([3, 3])), none)
    assert not line_has_room(levels, level_arrivals(levels, np.array([2])), none)
    assert level_arrivals(levels, np.array([1, 3, 3, 1, 1])).tolist()[:2] == [3, 2]


def test_a_full_table_grows_before_its_last_row_is_used() -> None:
    """register_levels keeps the table's last row free, so a priority never registered
    is counted on a free row and refused, even when every other row is in use (before,
    a full table counted it on its last level's row, whose room could say yes, and the
    item would have joined that level's ring)."""
    levels = new_levels(4)
    assert register_levels(levels, np.array([5, 1, 3], dtype=np.int64))
    assert not register_levels(levels, np.array([4], dtype=np.int64))  # the last free row
    assert levels[:, LEVEL_PRIORITY].tolist() == [1, 3, 5, FREE_LEVEL]
    rooms = np.array([8, 8, 8, 0], dtype=np.int64)
    line = relaid_line(np.empty(0, dtype=np.int64), np.empty(0), levels, rooms)
    none = np.zeros(4, dtype=np.int64)
    assert not line_has_room(line[2], level_arrivals(line[2], np.array([4])), none)
    assert line_has_room(line[2], level_arrivals(line[2], np.array([5, 5])), none)
    grown = grown_levels(line[2])
    assert register_levels(grown, np.array([4], dtype=np.int64))
    assert grown[:, LEVEL_PRIORITY].tolist()[:5] == [1, 3, 4, 5, FREE_LEVEL]


def test_review_and_police_share_the_queue() -> None:
    """One heap, one line: both day kernels call the queue module's functions."""
    for name in ("finish_push", "finish_pop", "line_push", "line_pop"):
        assert getattr(review, name) is getattr(police, name)


def test_stable_order_is_numpys_stable_argsort() -> None:
    """The bucket sort gives numpy's stable argsort (an empty array when sorted
    already) for spread times, crowds at a few instants, ties, a far outlier that puts
    almost everything in one bucket (the merge sort's fallback), reversed input, and
    fewer items than a bucket takes."""
    rng = np.random.default_rng(25)
    cases = {
        "spread": rng.random(10_000) * 24,
        "crowds": np.ceil(rng.random(10_000) * 96) / 4,
        "ties": np.round(rng.random(10_000) * 24, 1),
        "outlier": np.append(rng.random(10_000), 1e9),
        "reversed": np.arange(10_000, dtype=np.float64)[::-1].copy(),
        "two": np.array([2.0, 1.0]),
        "three": np.array([1.0, 3.0, 2.0]),
    }
    for name, t in cases.items():
        expected = np.argsort(t, kind="stable")
        order = stable_order(t)
        assert len(order) == len(t), name
        np.testing.assert_array_equal(order, expected, err_msg=name)
    for t in (np.sort(cases["spread"]), np.zeros(5), np.zeros(0), np.ones(1)):
        assert len(stable_order(t)) == 0  # sorted already


def test_arrival_order_is_numpys_lexsort() -> None:
    """Items by arrival time, then posting time, equal pairs in their order: exactly
    ``np.lexsort((posted, times))``, with crowds arriving at one sweep instant, ties in
    both keys, input already sorted, and none or one item."""
    rng = np.random.default_rng(8)
    for n in (0, 1, 2, 7, 2_000, 50_000):
        for case in range(4):
            posted = np.round(rng.random(n) * 24 + 240, 1 if case == 1 else 9)
            sweep = np.ceil(posted / 0.5) * 0.5  # a keyword sweep every half hour
            times = np.where(rng.random(n) < 0.8, sweep, posted + rng.random(n))
            if case == 2:
                times = np.sort(times)
            if case == 3:
                times = np.full(n, 250.0)  # one crowd
            expected = np.lexsort((posted, times))
            np.testing.assert_array_equal(arrival_order(times, posted), expected)


def test_submissions_in_order_are_the_lexsorted_columns() -> None:
    """A platform's day of review items, put in arrival order in one compiled pass: the
    posting times gathered by post id and the three columns permuted as
    ``np.lexsort((posted, times))`` orders them (how _store_published queued them)."""
    rng = np.random.default_rng(3)
    first_id, count = 1_000, 5
    posted_hours = np.round(rng.random(4_000) * 24 + 240, 3)  # ties among posts too
    posts = rng.integers(0, 4_000, 20_000)
    actions = rng.integers(0, count, 20_000)
    items = (posts + first_id) * count + actions
    sweep = np.ceil(posted_hours[posts] / 0.25) * 0.25
    times = np.where(rng.random(20_000) < 0.7, sweep, posted_hours[posts] + rng.random(20_000))
    order = np.lexsort((posted_hours[items // count - first_id], times))
    got = submissions_in_order(times, actions, items, posted_hours, first_id, count)
    for column, expected in zip(got, (times, actions, items), strict=True):
        np.testing.assert_array_equal(column, expected[order])
