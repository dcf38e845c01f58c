"""Issue 17, the engine's side: an approved held post gets the touches of a post published
at its approval ``t_a`` (docs/model.md S5; simulator/model/held_touches.py): a flag at the
next sweep iff ``held_review_margin > 0``, a notice and an order from its own uniforms.

The queue merges the arrivals its decisions create into the day as SimPy orders them
(a SimPy model with the same processes is the oracle); the compiled day
(``kernels.review.review_day``) and the Python one (``ReviewQueue`` with ``Decisions``)
give the same run; the items do what a published post's items do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from types import SimpleNamespace

import numpy as np
import pytest
import simpy

import simulator
from simulator.engine.review import Decisions
from simulator.engine.simulation import Simulation
from simulator.kernels import arrivals as arrival_kernels
from simulator.kernels.queue import LEVEL_PRIORITY, LEVEL_ROOM
from simulator.kernels.review import TOUCHES, FollowOns, comparable_threshold, review_day
from simulator.kinds import N_KINDS, Action, EventKind
from simulator.model import arrivals, held_touches
from simulator.model.review_arrays import ArrayReviewQueue, grown_capacity
from simulator.model.review_queue import ReviewQueue

COUNT = Action.COUNT
Created = list[tuple[float, int, int]]  # (arrival hours, priority, item)


# -- the queue: created arrivals as SimPy orders them ----------------------------------------


def simpy_days(
    days: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    servers: int,
    draws: np.ndarray,
    keep: Callable[[int, float, float], bool],
    creates: Callable[[int, float], Created],
) -> list[tuple[int, float, float, float]]:
    """The queue written the slow way, in days: day ``d``'s items become processes at
    its start (what ``submit`` before ``run_until`` stands for); each waits for its
    arrival, requests the reviewers by priority, takes the next draw when granted, is
    kept or dropped (``keep``), and a kept one holds its reviewer for the draw; when it
    ends, the items it ``creates`` become processes then (a held post approved at
    ``t_a``). Returns (item, arrival, start, finish) of the items started, in start
    order."""
    env = simpy.Environment()
    resource = simpy.PriorityResource(env, capacity=servers)
    next_draw = iter(draws.tolist())
    started: list[tuple[int, float, float, float]] = []

    def process(arrival: float, prio: int, it: int) -> Generator[simpy.Event, object, None]:
        if arrival > env.now:
            yield env.timeout(arrival - env.now)
        with resource.request(priority=prio) as request:
            yield request
            begin = env.now
            service = next(next_draw)
            if not keep(it, begin, begin + service):
                return
            started.append((it, arrival, begin, begin + service))
            yield env.timeout(service)
        for made in creates(it, env.now):
            env.process(process(*made))

    for day, (t, p, i) in enumerate(days):
        if day:
            env.run(until=24.0 * day)
        for arrival, prio, it in zip(t.tolist(), p.tolist(), i.tolist(), strict=True):
            env.process(process(arrival, prio, it))
    env.run()
    return started


def _keep(it: int, begin: float, finish: float) -> bool:
    return (it // COUNT * 7 + int(begin * 3)) % 5 != 0  # drops a fifth, by post and start


def _creator(interval: float) -> Callable[[int, float], Created]:
    """HOLD items of even posts are approved: a flag at the next sweep, and for some a
    notice and an order a continuous delay later (arriving at sweep instants too)."""

    def creates(it: int, approved: float) -> Created:
        post, action = divmod(it, COUNT)
        if action != Action.HOLD or post % 2:
            return []
        made = [(arrival_kernels.sweep_time(approved, interval), Action.FLAG, it + 2)]
        if post % 3 == 0:
            made.append((approved + 0.1 + (post % 7) * 0.37, Action.NOTICE, it + 1))
        if post % 4 == 0:  # lands on the sweep grid: ties with the day's flags
            made.append((arrival_kernels.sweep_time(approved + 3.0, 0.25), Action.ORDER, it - 1))
        return made

    return creates


def _workload(seed: int, days: int, servers: int) -> list[tuple[np.ndarray, ...]]:
    """Per day: held posts (HOLD items) and flags arriving at quarter-hour sweeps (many
    at one instant), notices and orders in between; some days ahead."""
    rng = np.random.default_rng(seed)
    out = []
    for day in range(days):
        n = 80 + 40 * servers
        post = rng.permutation(10_000)[:n] + 10_000 * day
        action = rng.choice([Action.HOLD, Action.FLAG, Action.NOTICE, Action.ORDER], n)
        t = rng.uniform(24.0 * day, 24.0 * day + 30.0, n)
        on_grid = action == Action.FLAG
        t[on_grid] = np.ceil(t[on_grid] / 0.25) * 0.25
        out.append((t, action.astype(np.int64), post * COUNT + action))
    return out


@pytest.mark.parametrize("servers", [1, 2, 5])
@pytest.mark.parametrize("interval", [0.0, 0.25])
def test_created_arrivals_are_ordered_as_simpy_orders_them(servers: int, interval: float) -> None:
    """Created arrivals tie with the day's flags at sweep instants, with each other (two
    approvals before one sweep), and, with a real-time filter, with the approval's own
    finish; carried past a day's end they come after the next day's submissions only if
    made after that day began. ReviewQueue's run in days starts what SimPy starts."""
    days = _workload(servers, 5, servers)
    load = 0.9 * servers / ((80 + 40 * servers) / 30.0)  # mean review (hours) at load 0.9
    draws = np.random.default_rng(9).exponential(load, 20_000)
    creates = _creator(interval)
    want = simpy_days(days, servers, draws, _keep, creates)

    queue = ReviewQueue(servers, 1.0, np.random.default_rng(0), service_sampler=lambda n: draws)
    # One block: the sampler hands the same draws in order (blocks of 20,000).

    made_items: set[int] = set()
    end = [0.0]
    kinds = {"carried": 0, "pending": 0}  # made after the day's end; made before, due after

    def serve(it: int, begin: float, finish: float) -> bool:
        if not _keep(it, begin, finish):
            return False
        for arrival, prio, made in creates(it, finish):
            queue.follow(arrival, prio, made, finish)
            made_items.add(made)
            kinds["carried"] += finish >= end[0]
            kinds["pending"] += finish < end[0] <= arrival
        return True

    got = []
    for day, chunk in enumerate(days):
        queue.submit(*chunk)
        end[0] = 24.0 * (day + 1)
        got.append(queue.run_until(end[0], serve, follow_ons=True))
    assert kinds["carried"] > 0 and kinds["pending"] > 0
    end[0] = math.inf
    got.append(queue.run_until(math.inf, serve, follow_ons=True))
    items = np.concatenate([g.item for g in got])
    starts = np.concatenate([g.start_hours for g in got])
    arrived = np.concatenate([g.arrival_hours for g in got])
    assert items.tolist() == [row[0] for row in want]
    np.testing.assert_array_equal(starts, [row[2] for row in want])
    np.testing.assert_array_equal(arrived, [row[1] for row in want])
    # The workload makes created items wait, and arrive at an instant with the day's.
    created = np.isin(items, list(made_items))
    assert (starts[created] > arrived[created]).sum() > 5
    if interval > 0.0:
        assert np.isin(arrived[created], arrived[~created]).sum() > 5
        assert len(arrived[created]) - len(np.unique(arrived[created])) > 2


# -- the compiled day and the Python one --------------------------------------------------


COLUMNS = (
    "reviewer_score", "appeal_score", "removed_hours", "removed_by", "published_hours",
    "blocked_hours", "kind",
)  # fmt: skip


def _posts(rng: np.random.Generator, n: int, threshold: float) -> dict[str, np.ndarray]:
    """Post columns: scores near the lines, a third of the posts held (not yet
    published), each with notice and order delays (inf for some; zero for a few)."""
    score = rng.normal(threshold, 0.6, n).astype(np.float32)
    held = rng.random(n) < 0.35
    notice = np.where(rng.random(n) < 0.4, rng.exponential(2.0, n), np.inf)
    order = np.where(rng.random(n) < 0.3, rng.exponential(6.0, n), np.inf)
    notice[::23] = 0.0
    return {
        "reviewer_score": score,
        "appeal_score": rng.normal(0.0, 1.0, n).astype(np.float32),
        "removed_hours": np.full(n, np.inf),
        "removed_by": np.full(n, -1, dtype=np.int8),
        "published_hours": np.where(held, np.inf, rng.uniform(0, 48, n)),
        "blocked_hours": np.full(n, np.inf),
        "kind": rng.integers(0, N_KINDS, n).astype(np.int8),
        "held_notice_delay": np.where(held, notice, np.inf),
        "held_order_delay": np.where(held, order, np.inf),
        "order_hours": np.full(n, np.inf),
        "held": held,
    }


def _day_arrivals(rng: np.random.Generator, cols: dict[str, np.ndarray], day: int) -> tuple:
    n_posts = len(cols["held"])
    m = int(rng.integers(100, 300))
    post = rng.integers(0, n_posts, m)
    action = np.where(
        cols["held"][post], Action.HOLD, rng.choice([Action.FLAG, Action.NOTICE, Action.ORDER], m)
    )
    t = rng.uniform(24.0 * day, 24.0 * day + 30.0, m)
    flag = action == Action.FLAG
    t[flag] = np.ceil(t[flag] / 0.5) * 0.5  # the day's sweeps (interval 0.5)
    return t, action.astype(np.int64), post * COUNT + action


def _compiled_day(
    queue: ArrayReviewQueue, end: float, cols: dict, threshold: float, margin: float
) -> tuple:
    at, ap, ai = queue.arrivals_before(end)
    holds = int(np.count_nonzero(ap == Action.HOLD))
    holds += queue.waiting_at(Action.HOLD)
    room = queue.created_waiting + 3 * holds
    queue.reserve_created(room)
    queue.reserve(len(at) + room, ap, holds)
    follow = FollowOns(
        True, margin > 0.0, 0.5, cols["held_notice_delay"], cols["held_order_delay"],
        cols["order_hours"], queue.follow_time, queue.follow_created, queue.follow_seq,
        queue.follow_priority, queue.follow_item, room, holds,
    )  # fmt: skip
    out = review_day(
        at, ap, ai, end, queue.servers, queue.finish, queue.wait_item, queue.wait_arrival,
        queue.wait_levels, queue.service, queue.counters,
        comparable_threshold(threshold), comparable_threshold(threshold + margin),
        *(cols[name] for name in COLUMNS), N_KINDS, follow,
    )  # fmt: skip
    queue.settle_created(end)
    return out


@pytest.mark.parametrize("servers", [0, 1, 3, 20])
@pytest.mark.parametrize("margin", [-0.3, 0.4])
def test_compiled_day_with_created_arrivals_equals_the_python_day(
    servers: int, margin: float
) -> None:
    """Day after day, the kernel starts, decides and creates what ReviewQueue with
    Decisions does: the same waits, removals, approvals, created items (with their
    times), post columns and queue contents (created items carried across days)."""
    rng = np.random.default_rng(servers + 7)
    threshold = 0.2
    cols = _posts(rng, 2000, threshold)
    py_cols = {name: column.copy() for name, column in cols.items()}
    py_posts = SimpleNamespace(**py_cols)
    python = ReviewQueue(servers, 0.3, np.random.default_rng(5))
    compiled = ArrayReviewQueue(servers, 0.3, np.random.default_rng(5))
    created_total = 0
    for day in range(6):
        chunk = _day_arrivals(rng, cols, day)
        python.submit(*chunk)
        compiled.submit(*chunk)
        end = 24.0 * (day + 1)
        decisions = Decisions(py_posts, threshold, threshold + margin, (python, margin, 0.5))  # type: ignore[arg-type]
        served = python.run_until(end, decisions.serve, decisions.serve_many, follow_ons=True)
        waits, ids, n_ids, _, made_item, made_time = _compiled_day(
            compiled, end, cols, threshold, margin
        )
        np.testing.assert_array_equal(waits, served.start_hours - served.arrival_hours)
        rows = [ids[row, : n_ids[row]].tolist() for row in range(4)]
        assert rows == [decisions.removed, decisions.approved, decisions.rejected, []]
        assert made_item.tolist() == decisions.created_items
        np.testing.assert_array_equal(made_time, decisions.created_hours)
        if margin <= 0.0:  # no flag where the hold's review is as strict (m <= 0)
            assert not (made_item % COUNT == Action.FLAG).any()
        created_total += len(made_item)
        for name in (*COLUMNS, "order_hours"):
            np.testing.assert_array_equal(cols[name], py_cols[name], err_msg=name)
        assert sorted(compiled.items().tolist()) == sorted(python.items().tolist())
        assert compiled.created_waiting == len(python._follow)
    assert created_total > 50 or servers == 0
    if servers:
        flagged = cols["removed_by"][cols["held"]] == Action.FLAG
        assert flagged.any() == (margin > 0.0)  # approved held posts removed on a flag
        assert (cols["removed_by"][cols["held"]] == Action.ORDER).any()


# -- what the items do ---------------------------------------------------------------------


def _tiny_posts(score: float, notice: float = math.inf, order: float = math.inf) -> dict:
    """Post 0: held, reviewer score ``score``; post 1: published, for an order that keeps
    the one reviewer busy."""
    return {
        "reviewer_score": np.array([score, 0.0], dtype=np.float32),
        "appeal_score": np.zeros(2, dtype=np.float32),
        "removed_hours": np.full(2, np.inf),
        "removed_by": np.full(2, -1, dtype=np.int8),
        "published_hours": np.array([np.inf, 1.0]),
        "blocked_hours": np.full(2, np.inf),
        "kind": np.array([2, 2], dtype=np.int8),
        "held_notice_delay": np.array([notice, np.inf]),
        "held_order_delay": np.array([order, np.inf]),
        "order_hours": np.full(2, np.inf),
    }


def test_a_held_backlog_reserves_one_touch_a_hold_on_each_touch_level() -> None:
    """An approval creates at most one item of each touch (kernels.review.TOUCHES), so
    the ring of each touch's level needs room for its waiting items, its arrivals, the
    created arrivals of that touch carried in and one for every HOLD that may start, not
    three (session 23's rings reserved ``carried + 3 x holds`` on every touch level: 65.8
    bytes a waiting item here, 32.6 now). One reviewer, 20,000 arrivals a day, a third of
    them held, none of them orders (the HOLDs are served before all but the orders that
    approvals create): the line grows day after day."""
    rng = np.random.default_rng(31)
    n_posts = 50_000
    cols = _posts(rng, n_posts, 0.2)
    queue = ArrayReviewQueue(1, 0.3, np.random.default_rng(2))
    touch_priorities = [int(touch) for touch in TOUCHES]
    most_needed = dict.fromkeys(touch_priorities, 0)
    for day in range(4):
        post = rng.integers(0, n_posts, 20_000)
        action = np.where(
            cols["held"][post], Action.HOLD,
            rng.choice([Action.FLAG, Action.NOTICE, Action.APPEAL], len(post)),
        ).astype(np.int64)  # fmt: skip
        arrival = rng.uniform(24.0 * day, 24.0 * day + 24.0, len(post))
        queue.submit(arrival, action, post * COUNT + action)
        pending = queue._pp[: queue.pending]
        holds = int(np.count_nonzero(pending == Action.HOLD)) + queue.waiting_at(Action.HOLD)
        carried = queue.follow_priority[: queue.created_waiting]
        for touch in touch_priorities:
            needed = (
                queue.waiting_at(touch) + int(np.count_nonzero(pending == touch))
                + int(np.count_nonzero(carried == touch)) + holds
            )  # fmt: skip
            most_needed[touch] = max(most_needed[touch], needed)
        _compiled_day(queue, 24.0 * (day + 1), cols, 0.2, 0.4)
        levels = queue.wait_levels
        for touch in touch_priorities:
            row = int(np.flatnonzero(levels[:, LEVEL_PRIORITY] == touch)[0])
            room = int(levels[row, LEVEL_ROOM])
            assert room <= grown_capacity(most_needed[touch]), (day, touch, room, most_needed)
    assert queue.waiting_at(Action.HOLD) > 20_000  # a held backlog built up
    assert queue.created_waiting + int(queue.counters[5]) > 0  # approvals created items
    # The line's bytes a waiting item: 16 in use, the rest the touch levels' room for
    # what the held backlog's approvals may create (one each, a third of the line):
    # measured 32.6 here, 65.8 with three a hold on every touch level.
    assert 16 * len(queue.wait_item) / queue.waiting < 40.0


def _run_both(cols: dict, margin: float, draws: list[float]) -> list[dict]:
    """Post 0's HOLD at 1.1 h, post 1's ORDER at 1.45 h, one reviewer, services
    ``draws``, sweeps every 0.5 h, threshold 0: the day run by the Python path and the
    kernel; returns each one's columns."""
    results = []
    for compiled in (False, True):
        these = {name: column.copy() for name, column in cols.items()}
        sampler = lambda n: np.array(draws + [1.0] * n)[:n]  # noqa: E731
        queue_type = ArrayReviewQueue if compiled else ReviewQueue
        queue = queue_type(1, 1.0, np.random.default_rng(0), service_sampler=sampler)
        queue.submit(
            np.array([1.1, 1.45]), np.array([Action.HOLD, Action.ORDER]),
            np.array([0 * COUNT + Action.HOLD, 1 * COUNT + Action.ORDER]),
        )  # fmt: skip
        if compiled:
            assert isinstance(queue, ArrayReviewQueue)
            _compiled_day(queue, 24.0, these, 0.0, margin)
        else:
            posts = SimpleNamespace(**these)
            decisions = Decisions(posts, 0.0, margin, (queue, margin, 0.5))  # type: ignore[arg-type]
            queue.run_until(24.0, decisions.serve, decisions.serve_many, follow_ons=True)
        results.append(these)
    return results


def test_an_approved_held_post_over_the_line_is_removed_after_its_flag() -> None:
    """m = 0.4, score 0.2 in (t, t + m] = (0, 0.4]: approved at 1.1 + 0.3 = 1.4 h, flagged
    at the next sweep, 1.5 h, waits for the reviewer the order holds until 1.45 + 0.3 =
    1.75 h and is removed at 1.75 + 0.3 = 2.05 h: sweep + wait + review."""
    for cols in _run_both(_tiny_posts(0.2), 0.4, [0.3, 0.3, 0.3]):
        assert cols["published_hours"][0] == pytest.approx(1.4)
        assert cols["removed_by"][0] == Action.FLAG
        sweep = arrival_kernels.sweep_time(1.4, 0.5)
        assert sweep == 1.5
        wait = (1.45 + 0.3) - sweep
        assert cols["removed_hours"][0] == pytest.approx(sweep + wait + 0.3)
        assert cols["removed_hours"][0] == pytest.approx(2.05)


def test_no_flag_where_the_hold_review_is_as_strict() -> None:
    """m = -0.3: the same post, now approved only below t + m, is never flagged (a
    score of -0.4 is under t anyway; nothing is created for it)."""
    for cols in _run_both(_tiny_posts(-0.4), -0.3, [0.3, 0.3, 0.3]):
        assert cols["published_hours"][0] == pytest.approx(1.4)
        assert cols["removed_hours"][0] == math.inf


def test_an_approved_held_post_is_removed_by_its_order() -> None:
    """Score below the line (kept by any review), an order 2 h after approval: the order
    arrives at t_a + 2 = 3.4 h and removes it (an order always does); order_hours kept."""
    for cols in _run_both(_tiny_posts(-1.0, order=2.0), 0.4, [0.3, 0.3, 0.3, 0.3]):
        assert cols["order_hours"][0] == pytest.approx(3.4)
        assert cols["removed_by"][0] == Action.ORDER
        assert cols["removed_hours"][0] == pytest.approx(3.4 + 0.3)


def test_an_approved_held_post_is_reviewed_on_its_notice() -> None:
    """Noticed 0.02 h after approval (1.42 h, before the 1.5 h sweep) and over the line:
    the notice's review, on the free reviewer, removes it at 1.42 + 0.3 h; its flag then
    finds it down (dropped, no review)."""
    for cols in _run_both(_tiny_posts(0.2, notice=0.02), 0.4, [0.3, 0.3, 0.3, 0.3]):
        assert cols["removed_by"][0] == Action.NOTICE
        assert cols["removed_hours"][0] == pytest.approx(1.42 + 0.3)


def test_touch_times_state_the_rule() -> None:
    """model.held_touches: flag at Δ⌈t_a/Δ⌉ iff m > 0; notice and order at t_a + delay;
    the delays are S5a's inverse at t_pub = 0."""
    flag, notice, order = held_touches.touch_times(
        [1.4, 2.0], 0.5, 0.2, [1.0, np.inf], [np.inf, 3.0]
    )
    np.testing.assert_array_equal(flag, [1.5, 2.0])
    np.testing.assert_array_equal(notice, [2.4, np.inf])
    np.testing.assert_array_equal(order, [np.inf, 5.0])
    flag, _, _ = held_touches.touch_times([1.4], 0.5, 0.0, [1.0], [1.0])
    assert flag[0] == math.inf
    u = np.array([0.01, 0.5, 0.99])
    delay = held_touches.held_delays(u, 0.3, 1.0, 1.44)
    np.testing.assert_allclose(delay, arrivals.attention_times(0.0, u, 0.3, 1.0, 1.44))
    assert np.isfinite(delay[0]) and delay[2] == math.inf  # 0.99 >= F(inf) = 1 - e^-0.3


# -- whole runs ----------------------------------------------------------------------------


def _held_world(margin: float, deadline: float | None = None) -> simulator.Scenario:
    """classroom (china_csl_2016's filter, sweeps every 0.25 h) with ``margin`` on both
    platforms, notices and orders frequent enough to meet approved held posts."""
    changes: dict[str, object] = {
        "population.users": 1500,
        "horizon_days": 20,
        "platforms.weibo.held_review_margin": margin,
        "platforms.tieba.held_review_margin": margin,
        "regulator.monitoring_probability": 0.9,
        "population.notices.probability.benign": 0.2,
        "population.notices.probability.critical": 0.3,
        "population.notices.probability.collective_action": 0.5,
        "population.notices.probability.unlawful": 0.5,
    }
    if deadline is not None:
        changes["rules.takedown.notice_deadline_hours"] = deadline
    return simulator.override(simulator.load_scenario("classroom"), changes, source="test")


def _approved_held(sim: Simulation) -> np.ndarray:
    posts = sim.posts
    size = posts.size
    published = posts.published_hours[:size]
    return np.flatnonzero(np.isfinite(published) & (published > posts.time_hours[:size]))


def test_runs_with_a_positive_margin_flag_and_remove_approved_held_posts() -> None:
    # m = 1.5: since the CSL's platforms start experienced (session 21) they approve few
    # held posts of a prohibited kind at m = 0.6 (none ordered in seed 4; 5 at 1.5).
    sim = Simulation(_held_world(1.5), 4)
    sim.run()
    posts = sim.posts
    approved = _approved_held(sim)
    assert len(approved) > 20
    by_flag = approved[posts.removed_by[approved] == Action.FLAG]
    assert len(by_flag) > 0
    sweeps = arrivals.sweep_times(posts.published_hours[by_flag], 0.25)
    assert (posts.removed_hours[by_flag] > sweeps).all()  # after the sweep, a review later
    ordered = approved[np.isfinite(posts.held_order_delay[approved])]
    np.testing.assert_array_equal(
        posts.order_hours[ordered], posts.published_hours[ordered] + posts.held_order_delay[ordered]
    )
    assert len(ordered) > 0 and (posts.removed_by[ordered] == Action.ORDER).any()
    # Every order of an approved held post takes it down (or it was down already).
    assert (posts.removed_hours[ordered] <= posts.order_hours[ordered] + 1.0).all()
    nonflag = Simulation(_held_world(-0.2), 3)
    nonflag.run()
    again = _approved_held(nonflag)
    assert not (nonflag.posts.removed_by[again] == Action.FLAG).any()


def test_notices_of_approved_held_posts_carry_duties_and_are_counted() -> None:
    """Under a notice deadline (NetzDG-style) an approved held post of a prohibited kind
    that is noticed gets a duty at notice + deadline, and its notice is in the ledger."""
    # A lenient hold review (m = 3): at m = 0.6 the platform, weighing the later touches,
    # approves almost no held post of a prohibited kind (none noticed in seeds 4-7).
    sim = Simulation(_held_world(3.0, deadline=24.0), 4)
    sim.run()
    posts = sim.posts
    approved = _approved_held(sim)
    noticed = approved[np.isfinite(posts.held_notice_delay[approved])]
    assert len(noticed) > 0
    np.testing.assert_array_equal(
        posts.notice_hours[noticed],
        posts.published_hours[noticed] + posts.held_notice_delay[noticed],
    )
    assert (posts.notice_sender[noticed] >= 0).all()
    prohibited = noticed[sim.review.prohibited[posts.kind[noticed]]]
    assert len(prohibited) > 0
    duties = {
        (post, deadline)
        for p in range(len(sim.platforms))
        for post, deadline in zip(sim.orders.duty_post[p], sim.orders.duty_deadline[p], strict=True)
    }
    for post in prohibited.tolist():
        assert (post, posts.notice_hours[post] + 24.0) in duties or (
            posts.notice_hours[post] + 24.0 <= sim.platforms[posts.platform[post]].last_audit_hours
        )


def test_a_notice_of_an_approved_held_post_missed_by_its_deadline_is_recorded() -> None:
    """A notice duty of an approved held post is kept like any other: with a deadline
    shorter than any review (0.001 h), each noticed prohibited one still up at notice +
    deadline (inside the horizon) is a NOTICE_MISSED event at that deadline, by its
    author, and counted in ``notices_missed`` (3,000 users, seed 4: 4 such posts)."""
    deadline = 0.001
    world = simulator.override(
        _held_world(3.0, deadline=deadline), {"population.users": 3000}, source="test"
    )
    sim = Simulation(world, 4)
    sim.run()
    posts = sim.posts
    approved = _approved_held(sim)
    noticed = approved[np.isfinite(posts.held_notice_delay[approved])]
    prohibited = noticed[sim.review.prohibited[posts.kind[noticed]]]
    due = posts.notice_hours[prohibited] + deadline
    late = prohibited[(posts.removed_hours[prohibited] > due) & (due < 24.0 * 20 - 24.0)]
    assert len(late) > 0
    columns = sim.recorder.event_columns()
    recorded = {
        (time, user)
        for time, event, user in zip(
            columns["time_hours"].tolist(), columns["event"], columns["user"].tolist(), strict=True
        )
        if event == EventKind.NOTICE_MISSED
    }
    for post in late.tolist():
        assert (posts.notice_hours[post] + deadline, int(posts.author[post])) in recorded
    assert int(sim.recorder.tallies["notices_missed"].sum()) >= len(late)
