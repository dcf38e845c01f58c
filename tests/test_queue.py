"""The queue the review and the police share (simulator/kernels/queue.py): its heaps
give heapq's order, and both day kernels use these very functions."""

from __future__ import annotations

import heapq

import numpy as np

from simulator.kernels import police, review
from simulator.kernels.queue import (
    LINE_ARITY,
    arrival_order,
    finish_pop,
    finish_push,
    line_pop,
    line_push,
    new_line,
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


def test_the_line_takes_priority_then_first_in() -> None:
    """Lower priority number first; within a priority, in order of entry; one priority
    level (the police) is first come, first served."""
    rng = np.random.default_rng(5)
    n = 300
    priority = rng.integers(0, 4, n)
    line = new_line(n)
    for k in range(n):
        line_push(*line, k, int(priority[k]), k, 1000 + k, float(k) / 2)
    taken = [line_pop(*line, n - k) for k in range(n)]
    order = sorted(range(n), key=lambda k: (priority[k], k))
    assert [item for item, _ in taken] == [1000 + k for k in order]
    assert [arrival for _, arrival in taken] == [k / 2 for k in order]
    fifo = new_line(8)
    for k in range(8):
        line_push(*fifo, k, 0, k, k, 0.0)
    assert [line_pop(*fifo, 8 - k)[0] for k in range(8)] == list(range(8))


def test_the_line_interleaved_pops_what_heapq_pops() -> None:
    """Pushes and pops interleaved over a line of thousands (several levels of the
    :data:`LINE_ARITY`-ary heap): each pop is ``heapq``'s pop of ``(priority, seq)``, and
    between steps every entry goes after its parent."""
    rng = np.random.default_rng(11)
    line = new_line(5_000)
    prio, seq_of, item_of, arrival_of = line
    size = seq = pops = 0
    expected: list[tuple[int, int, int, float]] = []
    for step in range(12_000):
        if size < 5_000 and (size == 0 or rng.random() < 0.55):
            priority = int(rng.integers(0, 5))
            line_push(*line, size, priority, seq, 7 * seq, seq / 4)
            heapq.heappush(expected, (priority, seq, 7 * seq, seq / 4))
            size += 1
            seq += 1
        else:
            _, _, item, arrival = heapq.heappop(expected)
            assert line_pop(*line, size) == (item, arrival), step
            size -= 1
            pops += 1
        if step % 997 == 0:
            keys = list(zip(prio[:size].tolist(), seq_of[:size].tolist(), strict=True))
            assert all(keys[(k - 1) // LINE_ARITY] < keys[k] for k in range(1, size)), step
            assert sorted(keys) == sorted((p, s) for p, s, _, _ in expected), step
    assert pops > 4_000 and size > 1_000


def test_review_and_police_share_the_queue() -> None:
    """One heap, one line: both day kernels call the queue module's functions."""
    for name in ("finish_push", "finish_pop", "line_push", "line_pop"):
        assert getattr(review, name) is getattr(police, name)


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
