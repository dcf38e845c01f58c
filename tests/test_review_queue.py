"""Tests of the review queue: exact agreement with SimPy, Erlang C, drops, invariants."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np
import numpy.typing as npt
import pytest
import simpy

from simulator.model.review_queue import ReviewQueue, ServedBatch, erlang_c_mean_wait_hours

Callback = Callable[[int, float, float], bool]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# -- helpers ------------------------------------------------------------------------------


def simpy_reference(
    arrival: FloatArray,
    priority: IntArray,
    item: IntArray,
    servers: int,
    draws: FloatArray,
    start_service: Callback | None = None,
) -> ServedBatch:
    """The model written the slow way: one SimPy process per item, created in order.

    Each process waits until its arrival, requests a ``PriorityResource`` with its
    priority, takes the next pre-drawn service time when granted (so draws are used in
    start order), asks ``start_service`` and holds the reviewer for the service time or
    releases it at once. Returns the started items (in start order) and the dropped ones.
    """
    env = simpy.Environment()
    resource = simpy.PriorityResource(env, capacity=servers)
    next_draw = iter(draws.tolist())
    started: list[tuple[int, float, float, float]] = []
    dropped: list[int] = []

    def process(arr: float, prio: int, it: int) -> Generator[simpy.Event, object, None]:
        yield env.timeout(arr)
        with resource.request(priority=prio) as request:
            yield request
            start = env.now
            service = next(next_draw)
            finish = start + service
            if start_service is None or start_service(it, start, finish):
                started.append((it, arr, start, finish))
                yield env.timeout(service)
            else:
                dropped.append(it)

    for arr, prio, it in zip(arrival.tolist(), priority.tolist(), item.tolist(), strict=True):
        env.process(process(arr, prio, it))
    env.run()
    rows = np.array(started, dtype=np.float64).reshape(-1, 4)
    batch = ServedBatch(
        item=np.array([row[0] for row in started], dtype=np.int64),
        arrival_hours=rows[:, 1],
        start_hours=rows[:, 2],
        finish_hours=rows[:, 3],
        dropped_item=np.array(dropped, dtype=np.int64),
    )
    return batch


def concat(batches: list[ServedBatch]) -> ServedBatch:
    """The batches of several ``run_until`` calls as one."""
    return ServedBatch(
        item=np.concatenate([b.item for b in batches]),
        arrival_hours=np.concatenate([b.arrival_hours for b in batches]),
        start_hours=np.concatenate([b.start_hours for b in batches]),
        finish_hours=np.concatenate([b.finish_hours for b in batches]),
        dropped_item=np.concatenate([b.dropped_item for b in batches]),
    )


def assert_same(got: ServedBatch, want: ServedBatch) -> None:
    np.testing.assert_array_equal(got.item, want.item)
    np.testing.assert_array_equal(got.dropped_item, want.dropped_item)
    for name in ("arrival_hours", "start_hours", "finish_hours"):
        np.testing.assert_allclose(
            getattr(got, name), getattr(want, name), rtol=0, atol=1e-9, err_msg=name
        )


def block_sampler(draws: FloatArray, block: int = 7) -> Callable[[int], FloatArray]:
    """A ``service_sampler`` handing out ``draws`` in order, ``block`` at a time."""
    pos = 0

    def sample(n: int) -> FloatArray:
        nonlocal pos
        out = draws[pos : pos + min(n, block)]
        pos += out.size
        return out

    return sample


def poisson_workload(
    seed: int, n: int, servers: int, load: float, mean: float
) -> tuple[FloatArray, IntArray, IntArray]:
    """Poisson arrivals at ``load`` per server, priorities 0-2, shuffled item ids."""
    rng = np.random.default_rng(seed)
    rate = load * servers / mean
    arrival = np.cumsum(rng.exponential(1.0 / rate, n))
    priority = rng.integers(0, 3, n)
    item = rng.permutation(n).astype(np.int64) + 1000
    return arrival, priority, item


def drop_some(it: int, start: float, finish: float) -> bool:
    """Drops about a quarter of the items, chosen by id and start time."""
    return (it * 7 + int(start * 3)) % 4 != 0


def run_in_days(
    queue: ReviewQueue,
    arrival: FloatArray,
    priority: IntArray,
    item: IntArray,
    day: float,
    callback: Callback | None,
) -> ServedBatch:
    """Submit each day's arrivals just before running that day; then drain."""
    batches = []
    t = 0.0
    while (arrival >= t).any():
        today = (arrival >= t) & (arrival < t + day)
        queue.submit(arrival[today], priority[today], item[today])
        batches.append(queue.run_until(t + day, callback))
        t += day
    batches.append(queue.run_until(math.inf, callback))
    return concat(batches)


# -- 1. exact equivalence with SimPy ------------------------------------------------------


@pytest.mark.parametrize("servers", [1, 2, 5])
@pytest.mark.parametrize("callback", [None, drop_some], ids=["serve-all", "drop-some"])
def test_matches_simpy_with_exponential_draws_from_the_same_seed(
    servers: int, callback: Callback | None
) -> None:
    mean = 0.5
    for seed in (1, 2):
        arrival, priority, item = poisson_workload(seed, 1500, servers, 0.9, mean)
        draws = np.random.default_rng(seed + 100).exponential(mean, arrival.size + 10)
        want = simpy_reference(arrival, priority, item, servers, draws, callback)

        queue = ReviewQueue(servers, mean, np.random.default_rng(seed + 100))
        queue.submit(arrival, priority, item)
        got = queue.run_until(math.inf, callback)

        assert len(want) > 1000 and (want.start_hours > want.arrival_hours).sum() > 200
        assert_same(got, want)
        assert queue.waiting == queue.pending == queue.busy == 0


@pytest.mark.parametrize("servers", [1, 2, 5])
@pytest.mark.parametrize("callback", [None, drop_some], ids=["serve-all", "drop-some"])
def test_matches_simpy_with_ties_in_every_kind_of_event(
    servers: int, callback: Callback | None
) -> None:
    """Whole-hour arrivals and services: same-instant arrivals, finishes and drops."""
    rng = np.random.default_rng(servers)
    n = 600
    arrival = np.sort(rng.integers(0, n // (servers * 2) + 1, n)).astype(np.float64)
    arrival = arrival[rng.permutation(n)]  # submitted out of time order
    priority = rng.integers(0, 3, n)
    item = np.arange(n, dtype=np.int64)
    draws = rng.integers(1, 4, n + 10).astype(np.float64)
    want = simpy_reference(arrival, priority, item, servers, draws, callback)

    queue = ReviewQueue(servers, 2.0, rng, service_sampler=block_sampler(draws))
    queue.submit(arrival, priority, item)
    got = queue.run_until(math.inf, callback)

    assert_same(got, want)
    # The workload does exercise ties: same-instant arrivals that wait, and services
    # ending at the instant of an arrival.
    waited = want.start_hours > want.arrival_hours
    assert np.unique(want.arrival_hours[waited], return_counts=True)[1].max() >= 3
    assert np.isin(want.finish_hours, want.arrival_hours).sum() >= 50


@pytest.mark.parametrize("servers", [1, 2, 5])
def test_batched_run_equals_single_run_and_simpy(servers: int) -> None:
    mean = 2.0
    arrival, priority, item = poisson_workload(7 + servers, 2000, servers, 0.85, mean)
    draws = np.random.default_rng(3).exponential(mean, arrival.size + 10)
    want = simpy_reference(arrival, priority, item, servers, draws, drop_some)

    single = ReviewQueue(servers, mean, np.random.default_rng(3))
    single.submit(arrival, priority, item)
    one = single.run_until(math.inf, drop_some)

    batched = ReviewQueue(servers, mean, np.random.default_rng(3))
    many = run_in_days(batched, arrival, priority, item, 24.0, drop_some)

    assert_same(one, want)
    assert_same(many, want)


def test_batched_with_future_arrivals_and_ties_equals_simpy() -> None:
    """Arrivals submitted days ahead, and at exactly the processed time, in batches."""
    rng = np.random.default_rng(11)
    servers = 2
    chunks = []
    for day in range(6):
        n = 80
        t = rng.integers(day * 24, day * 24 + 72, n).astype(np.float64)  # up to 2 days ahead
        t[:5] = day * 24.0  # exactly the processed time of the previous call
        chunks.append((t, rng.integers(0, 3, n), np.arange(n, dtype=np.int64) + 100 * day))
    draws = rng.integers(1, 3, 1000).astype(np.float64)
    arrival = np.concatenate([c[0] for c in chunks])
    priority = np.concatenate([c[1] for c in chunks])
    item = np.concatenate([c[2] for c in chunks])
    want = simpy_reference(arrival, priority, item, servers, draws, drop_some)

    queue = ReviewQueue(servers, 1.5, rng, service_sampler=block_sampler(draws))
    batches = []
    for day, chunk in enumerate(chunks):
        queue.submit(*chunk)
        batches.append(queue.run_until((day + 1) * 24.0, drop_some))
        assert queue.pending > 0 or day == len(chunks) - 1
    batches.append(queue.run_until(math.inf, drop_some))

    assert_same(concat(batches), want)


def test_equal_priority_is_first_come_first_served() -> None:
    queue = ReviewQueue(1, 1.0, np.random.default_rng(0), service_sampler=lambda n: [10.0] * n)
    # The reviewer is busy with item 0 until t=10; meanwhile the others arrive. Items
    # 5, 6, 7 arrive at the same instant and keep their submission order; item 9 is urgent.
    queue.submit(
        np.array([0.0, 3.0, 1.0, 2.0, 4.0, 4.0, 4.0, 2.5]),
        np.array([1, 1, 1, 1, 1, 1, 1, 0]),
        np.array([0, 3, 1, 2, 5, 6, 7, 9]),
    )
    served = queue.run_until(1000.0)
    np.testing.assert_array_equal(served.item, [0, 9, 1, 2, 3, 5, 6, 7])
    np.testing.assert_allclose(served.start_hours, np.arange(8) * 10.0, rtol=0, atol=1e-12)


def test_service_times_are_the_generators_exponential_draws_in_start_order() -> None:
    queue = ReviewQueue(3, 4.0, np.random.default_rng(5))
    n = 10_000  # more than one block of draws
    queue.submit(np.zeros(n), np.zeros(n, dtype=np.int64), np.arange(n))
    served = queue.run_until(math.inf)
    expected = np.random.default_rng(5).exponential(4.0, n)
    np.testing.assert_allclose(
        served.finish_hours - served.start_hours, expected, rtol=0, atol=1e-9
    )
    np.testing.assert_array_equal(served.item, np.arange(n))


# -- 2. M/M/c against Erlang C ------------------------------------------------------------


def test_erlang_c_textbook_values() -> None:
    # M/M/1: Wq = rho / (mu - lambda); lambda = 0.5/h, mu = 1/h -> 1 h.
    assert erlang_c_mean_wait_hours(0.5, 1.0, 1) == pytest.approx(1.0, rel=1e-12)
    # M/M/1 with lambda = 3/h, mean service 0.25 h (mu = 4/h): 0.75 / 1 = 0.75 h.
    assert erlang_c_mean_wait_hours(3.0, 0.25, 1) == pytest.approx(0.75, rel=1e-12)
    # M/M/2, lambda = 1/h, mu = 1/h (rho = 0.5): Lq = 2 rho^3 / (1 - rho^2) = 1/3, Wq = Lq / lambda.
    assert erlang_c_mean_wait_hours(1.0, 1.0, 2) == pytest.approx(1 / 3, rel=1e-12)
    # Many servers stay finite (no factorial overflow) and waits vanish at low load.
    assert 0 < erlang_c_mean_wait_hours(900.0, 1.0, 1000) < 1e-3
    assert erlang_c_mean_wait_hours(0.0, 1.0, 3) == 0.0


def test_mmc_mean_wait_matches_erlang_c() -> None:
    servers, mean, rate, n = 3, 1.0, 2.25, 500_000  # load 0.75 per server
    rng = np.random.default_rng(2024)
    arrival = np.cumsum(rng.exponential(1.0 / rate, n))
    queue = ReviewQueue(servers, mean, np.random.default_rng(99))
    queue.submit(arrival, np.zeros(n, dtype=np.int64), np.arange(n))
    served = concat([queue.run_until(t) for t in np.arange(24.0, arrival[-1] + 48, 24.0)])
    assert len(served) == n

    order = np.argsort(served.item)
    wait = (served.start_hours - served.arrival_hours)[order][5000:]  # drop the warm-up
    # Waits are correlated: a confidence interval from 40 batch means.
    means = wait[: wait.size // 40 * 40].reshape(40, -1).mean(axis=1)
    half_width = 3 * means.std(ddof=1) / math.sqrt(means.size)
    theory = erlang_c_mean_wait_hours(rate, mean, servers)
    # Cross-check against the textbook form with P0: Wq = C / (c mu - lambda).
    load = rate * mean
    tail = load**servers / math.factorial(servers) / (1 - load / servers)
    p0 = 1 / (sum(load**k / math.factorial(k) for k in range(servers)) + tail)
    assert theory == pytest.approx(tail * p0 * mean / (servers - load), rel=1e-12)
    assert abs(wait.mean() - theory) < max(half_width, 0.02 * theory)
    assert abs(wait.mean() - theory) < 0.05 * theory
    # The other half of the model: services are exponential with the given mean.
    service = served.finish_hours - served.start_hours
    assert service.mean() == pytest.approx(mean, rel=0.01)


# -- 3. dropping --------------------------------------------------------------------------


def test_dropped_items_leave_the_reviewer_free() -> None:
    def fixed(n: int) -> list[float]:
        return [10.0] * n

    arrival = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    priority = np.zeros(5, dtype=np.int64)
    item = np.array([10, 11, 12, 13, 14])
    offered: list[tuple[int, float, float]] = []

    def refuse_11_and_12(it: int, start: float, finish: float) -> bool:
        offered.append((it, start, finish))
        return it not in (11, 12)

    queue = ReviewQueue(1, 10.0, np.random.default_rng(0), service_sampler=fixed)
    queue.submit(arrival, priority, item)
    served = queue.run_until(100.0, refuse_11_and_12)
    np.testing.assert_array_equal(served.item, [10, 13, 14])
    np.testing.assert_allclose(served.start_hours, [0.0, 10.0, 20.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(served.finish_hours, [10.0, 20.0, 30.0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(served.dropped_item, [11, 12])
    assert offered[1:3] == [(11, 10.0, 20.0), (12, 10.0, 20.0)]

    keep_all = ReviewQueue(1, 10.0, np.random.default_rng(0), service_sampler=fixed)
    keep_all.submit(arrival, priority, item)
    np.testing.assert_allclose(keep_all.run_until(100.0).start_hours, [0, 10, 20, 30, 40])


def test_a_dropped_item_still_uses_up_its_service_draw() -> None:
    queue = ReviewQueue(1, 1.0, np.random.default_rng(8))
    queue.submit(np.array([0.0, 1e-3, 2e-3, 3e-3]), np.zeros(4, dtype=np.int64), np.arange(4))
    served = queue.run_until(math.inf, lambda it, s, f: it != 1)
    draws = np.random.default_rng(8).exponential(1.0, 4)
    assert draws[0] > 3e-3  # the others all wait for item 0
    np.testing.assert_array_equal(served.item, [0, 2, 3])
    np.testing.assert_array_equal(served.dropped_item, [1])
    np.testing.assert_allclose(
        served.finish_hours - served.start_hours, draws[[0, 2, 3]], rtol=0, atol=1e-12
    )


# -- 4. invariants ------------------------------------------------------------------------


def test_invariants_and_state_counts_over_daily_batches() -> None:
    servers, mean = 3, 2.0
    arrival, priority, item = poisson_workload(21, 4000, servers, 0.95, mean)
    offered: dict[int, float] = {}

    def drop_tenth(it: int, start: float, finish: float) -> bool:
        offered[it] = start
        return it % 10 != 0

    queue = ReviewQueue(servers, mean, np.random.default_rng(4))
    half = arrival.size // 2  # the second half is submitted later, shortly before it is due
    queue.submit(arrival[:half], priority[:half], item[:half])
    submitted = half
    batches, states = [], []
    for t in np.arange(8.0, arrival[-1] + 100, 8.0):
        if submitted == half and t > arrival[half] - 50:
            queue.submit(arrival[half:], priority[half:], item[half:])
            submitted = arrival.size
        batches.append(queue.run_until(t, drop_tenth))
        states.append((t, queue.waiting, queue.pending, queue.busy, submitted))
    served = concat(batches)
    assert queue.waiting == queue.pending == queue.busy == 0

    start, finish, arr = served.start_hours, served.finish_hours, served.arrival_hours
    assert len(served) + served.dropped_item.size == arrival.size
    assert set(served.dropped_item.tolist()) == {i for i in item.tolist() if i % 10 == 0}
    assert (start >= arr).all() and (finish > start).all()
    assert (np.diff(start) >= 0).all()  # reported in start order

    # Never more than `servers` in service: sweep, ends before starts at equal times.
    times = np.concatenate((start, finish))
    steps = np.concatenate((np.ones_like(start), -np.ones_like(finish)))
    order = np.lexsort((steps, times))
    in_service = np.cumsum(steps[order])
    assert in_service.max() == servers and in_service.min() >= 0

    # Work-conserving: whoever waits, waits because every reviewer is busy at arrival.
    waited = start > arr
    assert waited.sum() > 500
    busy_at = np.searchsorted(np.sort(start), arr[waited], side="right") - np.searchsorted(
        np.sort(finish), arr[waited], side="right"
    )
    assert (busy_at == servers).all()

    # Priority: when a waiting item starts, no better-priority item that arrived earlier
    # is still waiting (it would have been taken first).
    prio_of = dict(zip(item.tolist(), priority.tolist(), strict=True))
    prio = np.array([prio_of[i] for i in served.item.tolist()])
    for k in np.flatnonzero(waited)[::7]:
        better_waiting = (prio < prio[k]) & (arr < start[k]) & (start > start[k])
        assert not better_waiting.any()

    # The state counts at each processed time agree with the event record.
    all_arrivals = np.sort(arrival)
    offered_at = np.sort(np.array(list(offered.values())))
    assert any(w > 5 for _, w, _, _, _ in states)
    for t, waiting, pending, busy, n_submitted in states:
        arrived = np.searchsorted(all_arrivals, t, side="left")
        assert waiting == arrived - np.searchsorted(offered_at, t, side="left")
        assert pending == n_submitted - arrived
        assert busy == ((start < t) & (finish >= t)).sum()


def test_events_at_t_end_wait_for_the_next_call() -> None:
    queue = ReviewQueue(1, 10.0, np.random.default_rng(0), service_sampler=lambda n: [10.0] * n)
    queue.submit(np.array([0.0, 5.0, 20.0]), np.array([0, 0, 0]), np.array([1, 2, 3]))
    first = queue.run_until(10.0)  # item 1 ends at exactly 10: item 2 may not start yet
    np.testing.assert_array_equal(first.item, [1])
    assert (queue.busy, queue.waiting, queue.pending) == (1, 1, 1)
    second = queue.run_until(20.0)  # item 3 arrives at exactly 20: not yet
    np.testing.assert_array_equal(second.item, [2])
    np.testing.assert_allclose(second.start_hours, [10.0])
    assert (queue.busy, queue.waiting, queue.pending) == (1, 0, 1)
    third = queue.run_until(20.5)
    np.testing.assert_array_equal(third.item, [3])
    np.testing.assert_allclose(third.start_hours, [20.0])
    assert (queue.busy, queue.waiting, queue.pending) == (1, 0, 0)
    assert queue.now_hours == 20.5


# -- 5. no reviewers ----------------------------------------------------------------------


def test_zero_servers_serve_nothing_and_everyone_waits() -> None:
    rng = np.random.default_rng(1)
    arrival = rng.uniform(0, 100, 500)
    queue = ReviewQueue(0, 1.0, rng)
    queue.submit(arrival, rng.integers(0, 3, 500), np.arange(500))
    called: list[int] = []

    def record(it: int, start: float, finish: float) -> bool:
        called.append(it)
        return True

    served = queue.run_until(60.0, record)
    assert len(served) == 0 and served.dropped_item.size == 0 and not called
    assert queue.waiting == (arrival < 60).sum()
    assert queue.pending == (arrival >= 60).sum()
    assert queue.busy == 0
    assert len(queue.run_until(math.inf)) == 0
    assert queue.waiting == 500 and queue.pending == 0


# -- 6. bad input -------------------------------------------------------------------------


def test_bad_input_raises_value_error() -> None:
    queue = ReviewQueue(2, 1.0, np.random.default_rng(0))
    ok_t, ok_p, ok_i = np.array([1.0, 2.0]), np.array([0, 1]), np.array([1, 2])
    with pytest.raises(ValueError, match="equal lengths"):
        queue.submit(ok_t, np.array([0]), ok_i)
    with pytest.raises(ValueError, match="equal lengths"):
        queue.submit(ok_t, ok_p, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="finite"):
        queue.submit(np.array([1.0, np.nan]), ok_p, ok_i)
    with pytest.raises(ValueError, match="integers"):
        queue.submit(ok_t, np.array([0.5, 1.0]), ok_i)
    with pytest.raises(ValueError, match="before the processed time"):
        queue.submit(np.array([-1.0, 2.0]), ok_p, ok_i)
    assert queue.pending == 0  # nothing was half-submitted

    queue.submit(ok_t, ok_p, ok_i)
    queue.run_until(10.0)
    with pytest.raises(ValueError, match="before the processed time"):
        queue.submit(np.array([9.5, 12.0]), ok_p, ok_i)
    with pytest.raises(ValueError, match="before the processed time"):
        queue.run_until(5.0)
    with pytest.raises(ValueError, match="before the processed time"):
        queue.run_until(math.nan)
    queue.submit(np.array([10.0]), np.array([0]), np.array([3]))  # exactly now is fine
    assert queue.pending == 1

    for servers, mean in ((-1, 1.0), (1.5, 1.0), (1, 0.0), (1, math.nan)):
        with pytest.raises(ValueError):
            ReviewQueue(servers, mean, np.random.default_rng(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unstable"):
        erlang_c_mean_wait_hours(3.0, 1.0, 3)
    with pytest.raises(ValueError):
        erlang_c_mean_wait_hours(1.0, 1.0, 0)
    with pytest.raises(ValueError):
        erlang_c_mean_wait_hours(-1.0, 1.0, 2)
