"""The compiled review step (simulator/kernels/review.py) against its Python reference.

``review_day`` must start the same items at the same times with the same service draws
as ``ReviewQueue.run_until``, and decide them as ``Decisions.serve`` does; ``book_review``
must count what ``ReviewDay.run_python`` counts; a whole run must not change.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import simulator  # noqa: E402
from benchmarks.agreement import agreement_scenario  # noqa: E402
from simulator.engine.review import Decisions, ReviewDay  # noqa: E402
from simulator.kernels.review import (  # noqa: E402
    book_review,
    comparable_threshold,
    no_follow_ons,
    review_day,
)
from simulator.kinds import N_KINDS, Action, Channel, Outcome  # noqa: E402
from simulator.model.review_arrays import ArrayReviewQueue  # noqa: E402
from simulator.model.review_queue import ReviewQueue
from simulator.output.recorder import DELAY_EDGES_HOURS, Recorder  # noqa: E402

COLUMNS = (
    "reviewer_score",
    "appeal_score",
    "removed_hours",
    "removed_by",
    "published_hours",
    "blocked_hours",
    "kind",
)


def _posts(rng: np.random.Generator, n: int, threshold: float) -> dict[str, np.ndarray]:
    score = rng.normal(0.0, 1.0, n).astype(np.float32)
    # Scores exactly at the float32 rounding of the threshold: numpy compares a float32
    # score with a Python float in float32, so these are not above it.
    score[::9] = np.float32(threshold)
    appeal = rng.normal(0.0, 1.0, n).astype(np.float32)
    appeal[::11] = np.float32(threshold)
    removed = np.full(n, np.inf)
    down = rng.random(n) < 0.2
    removed[down] = rng.uniform(0, 96, int(down.sum()))
    return {
        "reviewer_score": score,
        "appeal_score": appeal,
        "removed_hours": removed,
        "removed_by": np.where(down, Action.FLAG, -1).astype(np.int8),
        "published_hours": np.where(rng.random(n) < 0.5, rng.uniform(0, 48, n), np.inf),
        "blocked_hours": np.full(n, np.inf),
        "kind": rng.integers(0, N_KINDS, n).astype(np.int8),
    }


def _arrivals(rng: np.random.Generator, n_posts: int, days: int) -> list[tuple[np.ndarray, ...]]:
    """Submissions per day: items of random posts (some with several items, appeals
    among them), times with ties (bursts, and appeals at the day boundary)."""
    out = []
    for day in range(days):
        m = int(rng.integers(50, 400))
        post = rng.integers(0, n_posts, m)
        action = rng.integers(0, Action.COUNT, m)
        t = rng.uniform(day * 24.0, day * 24.0 + 30.0, m)
        t[: m // 10] = t[0]  # a burst of ties
        t[action == Action.APPEAL] = (day + 1) * 24.0  # appeals reach the queue at a boundary
        t = np.round(t, 1)  # more ties
        out.append((t, action.astype(np.int64), post * Action.COUNT + action))
    return out


def _compiled_day(
    queue: ArrayReviewQueue,
    end: float,
    cols: dict[str, np.ndarray],
    threshold: float,
    held: float,
) -> tuple[np.ndarray, list[list[int]], np.ndarray]:
    at, ap, ai = queue.arrivals_before(end)
    queue.reserve(len(at), ap)
    waits, ids, n_ids, reviewed, _, _ = review_day(
        at, ap, ai, end, queue.servers, queue.finish, queue.wait_item, queue.wait_arrival,
        queue.wait_levels, queue.service, queue.counters,
        comparable_threshold(threshold),
        comparable_threshold(held),
        *(cols[name] for name in COLUMNS), N_KINDS, no_follow_ons(),
    )  # fmt: skip
    lists = [ids[row, : n_ids[row]].tolist() for row in range(4)]
    return waits, lists, reviewed


@pytest.mark.parametrize("servers", [0, 1, 3, 20])
@pytest.mark.parametrize("vectorised", [False, True])
def test_review_day_matches_queue_and_serve(servers: int, vectorised: bool) -> None:
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        n_posts, days = 500, 6
        threshold = 0.1 if seed == 1 else float(rng.normal())  # a Python float: float32 compare
        held = threshold + 0.25
        reference_cols = _posts(rng, n_posts, threshold)
        compiled_cols = {name: column.copy() for name, column in reference_cols.items()}
        reference = ReviewQueue(servers, 0.4, np.random.default_rng(seed + 100))
        compiled = ArrayReviewQueue(servers, 0.4, np.random.default_rng(seed + 100))
        posts = SimpleNamespace(**{name: reference_cols[name] for name in COLUMNS})
        posts.kind = reference_cols["kind"]
        reviews = 0
        for day, (t, p, i) in enumerate(_arrivals(rng, n_posts, days)):
            reference.submit(t, p, i)
            compiled.submit(t, p, i)
            end = (day + 1) * 24.0
            decide = Decisions(posts, threshold, held)  # type: ignore[arg-type]
            batch = reference.run_until(
                end, decide.serve, decide.serve_many if vectorised else None
            )
            waits, (removed, approved, rejected, reinstated), reviewed = _compiled_day(
                compiled, end, compiled_cols, threshold, held
            )
            np.testing.assert_array_equal(waits, batch.start_hours - batch.arrival_hours)
            assert removed == decide.removed  # in serve's order: later draws follow it
            if vectorised:  # serve_many decides some together: same posts, other order
                assert sorted(approved) == sorted(decide.approved)
                assert sorted(rejected) == sorted(decide.rejected)
                assert sorted(reinstated) == sorted(decide.reinstated)
            else:
                assert (approved, rejected, reinstated) == (
                    decide.approved,
                    decide.rejected,
                    decide.reinstated,
                )
            kinds = np.asarray(decide.reviewed_kinds, dtype=np.int64)
            np.testing.assert_array_equal(reviewed, np.bincount(kinds, minlength=N_KINDS))
            reviews += len(kinds)
            for name in COLUMNS:
                np.testing.assert_array_equal(compiled_cols[name], reference_cols[name], name)
            assert (compiled.waiting, compiled.busy) == (reference.waiting, reference.busy)
            assert sorted(compiled.items().tolist()) == sorted(reference.items().tolist())
        assert reviews > 0 or servers == 0


def test_array_queue_python_loop_and_compiled_days_interleave() -> None:
    """run_until with Python callbacks on an ArrayReviewQueue (state handed to the base
    class and back) continues exactly where a compiled day left off, and vice versa."""
    rng = np.random.default_rng(7)
    threshold, held = -0.3, 0.2
    reference_cols = _posts(rng, 400, threshold)
    compiled_cols = {name: column.copy() for name, column in reference_cols.items()}
    reference = ReviewQueue(2, 0.7, np.random.default_rng(8))  # congested: a line builds up
    mixed = ArrayReviewQueue(2, 0.7, np.random.default_rng(8))
    ref_posts = SimpleNamespace(**{name: reference_cols[name] for name in COLUMNS})
    mix_posts = SimpleNamespace(**{name: compiled_cols[name] for name in COLUMNS})
    for day, (t, p, i) in enumerate(_arrivals(rng, 400, 8)):
        reference.submit(t, p, i)
        mixed.submit(t, p, i)
        end = (day + 1) * 24.0
        decide = Decisions(ref_posts, threshold, held)  # type: ignore[arg-type]
        batch = reference.run_until(end, decide.serve, decide.serve_many)
        if day % 2:
            other = Decisions(mix_posts, threshold, held)  # type: ignore[arg-type]
            mixed_batch = mixed.run_until(end, other.serve, other.serve_many)
            np.testing.assert_array_equal(mixed_batch.item, batch.item)
            np.testing.assert_array_equal(mixed_batch.finish_hours, batch.finish_hours)
        else:
            waits, lists, _ = _compiled_day(mixed, end, compiled_cols, threshold, held)
            assert lists[0] == decide.removed
            np.testing.assert_array_equal(waits, batch.start_hours - batch.arrival_hours)
        for name in COLUMNS:
            np.testing.assert_array_equal(compiled_cols[name], reference_cols[name], name)
        assert (mixed.waiting, mixed.busy) == (reference.waiting, reference.busy)
    assert reference.waiting > 0  # the line did build up


@pytest.mark.parametrize("new_priority", [7, -1])
def test_an_arrival_created_in_a_python_day_for_after_it_keeps_its_priority(
    new_priority: int,
) -> None:
    """A Python day's callback creates an arrival of a priority the line has no level for,
    made before the day's end and arriving after it (so the base class makes it a pending
    arrival, not through submit()). The next compiled day serves it in ReviewQueue's order.
    Before session 24 it had no ring: with free rows the compiled day refused the queue,
    with all eight rows in use (priorities 0-7 waiting) it was pushed on the last row's
    ring and served last (wait 65.1 h against 5.1 h; found by session 24's review)."""
    n = 20
    cols = {
        "reviewer_score": np.full(n, -9.0, dtype=np.float32),
        "appeal_score": np.zeros(n, dtype=np.float32),
        "removed_hours": np.full(n, np.inf),
        "removed_by": np.full(n, -1, dtype=np.int8),
        "published_hours": np.zeros(n),
        "blocked_hours": np.full(n, np.inf),
        "kind": np.zeros(n, dtype=np.int8),
    }
    created = 15 * Action.COUNT + Action.NOTICE

    def build(cls: type[ReviewQueue]) -> ReviewQueue:
        queue = cls(1, 10.0, np.random.default_rng(0), service_sampler=lambda k: np.full(k, 10.0))
        # Day 1: one item at 1 h; day 2: items of priorities 1..7 (all eight in use).
        times = np.array([1.0] + [25.0 + 0.1 * p for p in range(1, 8)])
        queue.submit(times, np.arange(8, dtype=np.int64), np.arange(1, 9) * Action.COUNT + 2)

        def serve(item: int, begin: float, finish: float) -> bool:
            if item == 1 * Action.COUNT + 2:
                queue.follow(30.0, new_priority, created, finish)  # made at 11 h, due at 30 h
            return True

        queue.run_until(24.0, serve, follow_ons=True)
        return queue

    reference = build(ReviewQueue)
    expected = reference.run_until(200.0, lambda item, begin, finish: True)
    queue = build(ArrayReviewQueue)
    assert isinstance(queue, ArrayReviewQueue)
    at, ap, ai = queue.arrivals_before(200.0)
    queue.reserve(len(at), ap)
    waits, *_ = review_day(
        at, ap, ai, 200.0, queue.servers, queue.finish, queue.wait_item, queue.wait_arrival,
        queue.wait_levels, queue.service, queue.counters, comparable_threshold(0.2),
        comparable_threshold(0.2), *(cols[name] for name in COLUMNS), N_KINDS, no_follow_ons(),
    )  # fmt: skip
    np.testing.assert_array_equal(waits, expected.start_hours - expected.arrival_hours)
    assert created in expected.item.tolist()


def test_comparable_threshold_follows_numpy_promotion() -> None:
    score = np.float32(0.1)
    assert not score > 0.1 and score > np.float64(0.1)  # what numpy does
    assert not float(score) > comparable_threshold(0.1)
    assert not float(score) > comparable_threshold(np.float32(0.1))
    assert float(score) > comparable_threshold(np.float64(0.1))


def _book_python(
    rec: Recorder, cols: dict[str, np.ndarray], by_hour: np.ndarray, lists: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ReviewDay.run_python's counting, on arrays."""
    removed, approved, rejected, reinstated = lists
    prohibited = np.array([False, True, False, True])

    def move(ids: np.ndarray, source: Outcome, target: Outcome) -> None:
        rec.move(
            cols["day"][ids], cols["platform"][ids], cols["channel"][ids], cols["kind"][ids],
            source, target,
        )  # fmt: skip

    move(reinstated, Outcome.REMOVED, Outcome.SURVIVING)
    rec.tally("reinstated", cols["kind"][reinstated])
    move(approved, Outcome.BLOCKED, Outcome.SURVIVING)
    hours = np.floor(cols["published_hours"][approved[prohibited[cols["kind"][approved]]]])
    np.add.at(by_hour, hours[hours < len(by_hour)].astype(np.int64), 1)
    move(removed, Outcome.SURVIVING, Outcome.REMOVED)
    rec.add_delays(
        cols["kind"][removed], cols["removed_hours"][removed] - cols["time_hours"][removed]
    )
    notice = removed[cols["removed_by"][removed] == Action.NOTICE]
    rec.tally("notices_removed", cols["kind"][notice])
    sanctioned = np.concatenate((cols["author"][rejected], cols["author"][removed]))
    public = cols["author"][removed[cols["channel"][removed] == Channel.PUBLIC]]
    # Reporting.report_removals' selection
    not_ordered = removed[cols["removed_by"][removed] != Action.ORDER]
    reportable = not_ordered[prohibited[cols["kind"][not_ordered]]]
    return sanctioned, public, hours[hours >= len(by_hour)], reportable


def test_book_review_counts_as_numpy() -> None:
    rng = np.random.default_rng(3)
    n, days = 2000, 5
    removed_hours = np.where(rng.random(n) < 0.5, rng.uniform(0, 200, n), np.inf)
    time_hours = removed_hours - rng.exponential(3.0, n) * (rng.random(n) < 0.9)
    time_hours[np.isinf(time_hours)] = 1.0
    cols = {
        "day": rng.integers(0, days, n).astype(np.int16),
        "platform": rng.integers(0, 3, n).astype(np.int16),
        "channel": rng.integers(0, 2, n).astype(np.int8),
        "kind": rng.integers(0, N_KINDS, n).astype(np.int8),
        "author": rng.integers(0, 30000, n).astype(np.int32),
        "time_hours": time_hours,
        "published_hours": rng.uniform(0, 150, n),  # some beyond the hourly counts
        "removed_hours": removed_hours,
        "removed_by": rng.integers(-1, Action.COUNT, n).astype(np.int8),
    }
    shuffled = rng.permutation(n)
    lists = [np.sort(shuffled[k * 300 : (k + 1) * 300]) for k in range(4)]
    ids = np.zeros((4, 400), dtype=np.int64)
    for row, chosen in enumerate(lists):
        ids[row, : len(chosen)] = rng.permutation(chosen)
        lists[row] = ids[row, : len(chosen)].copy()
    n_ids = np.array([len(chosen) for chosen in lists], dtype=np.int64)
    reference, compiled = Recorder(days, 4), Recorder(days, 4)
    for rec in (reference, compiled):
        rec.counts += 1000
    ref_hours, hours = np.zeros(120, np.int64), np.zeros(120, np.int64)
    want = _book_python(reference, cols, ref_hours, lists)
    got = book_review(
        ids, n_ids, cols["day"], cols["platform"], cols["channel"], cols["kind"],
        cols["author"], cols["time_hours"], cols["published_hours"], cols["removed_hours"],
        cols["removed_by"], np.array([False, True, False, True]), compiled.counts,
        compiled.delay_counts, DELAY_EDGES_HOURS, compiled.tallies["reinstated"],
        compiled.tallies["notices_removed"], hours,
    )  # fmt: skip
    for want_part, got_part in zip(want, got, strict=True):
        np.testing.assert_array_equal(got_part, want_part)
    assert got[0].dtype == np.int32 and len(got[2]) > 0  # authors' type; hours beyond
    assert 0 < len(got[3]) < len(lists[0])
    np.testing.assert_array_equal(hours, ref_hours)
    np.testing.assert_array_equal(compiled.counts, reference.counts)
    np.testing.assert_array_equal(compiled.delay_counts, reference.delay_counts)
    for name in ("reinstated", "notices_removed"):
        np.testing.assert_array_equal(compiled.tallies[name], reference.tallies[name])
    assert compiled.delay_counts.sum() == len(lists[0])


TABLES = (
    "daily", "counterfactual_daily", "delays", "events", "platform_daily", "population_daily",
    "notices", "removals", "transparency",
)  # fmt: skip


@pytest.mark.parametrize(
    ("scenario", "seed"),
    [
        # Every mechanism: holds, appeals, reports. Blocks (held posts rejected) are
        # rare in this world: seed 11 makes 7 in 20 days (0-2 for most seeds).
        (agreement_scenario(users=600, days=20), 11),
        (
            simulator.override(
                simulator.load_scenario("classroom"),
                {"population.users": 1500, "horizon_days": 25, "rules.appeals.enabled": True},
            ),
            5,
        ),
        (
            simulator.override(
                simulator.load_scenario("china_weibo_2012"),
                {"population.users": 3000, "horizon_days": 15},
            ),
            5,
        ),
        (
            # Issue 17: approved held posts flagged (margin > 0), noticed (with duties)
            # and ordered: items created while the queue runs, on both paths.
            simulator.override(
                simulator.load_scenario("classroom"),
                {
                    "population.users": 1500, "horizon_days": 20,
                    "platforms.weibo.held_review_margin": 0.6,
                    "platforms.tieba.held_review_margin": 0.6,
                    "regulator.monitoring_probability": 0.9,
                    "population.notices.probability.unlawful": 0.5,
                    "population.notices.probability.critical": 0.3,
                    "rules.takedown.notice_deadline_hours": 24.0,
                    "rules.appeals.enabled": True,
                },
            ),
            4,
        ),
    ],
    ids=["agreement", "classroom", "weibo", "held-touches"],
)
def test_runs_identical_with_compiled_review(
    monkeypatch: pytest.MonkeyPatch, scenario: simulator.Scenario, seed: int
) -> None:
    compiled = simulator.run(scenario, seed=seed)
    monkeypatch.setattr(ReviewDay, "compiled", False)
    reference = simulator.run(scenario, seed=seed)
    for name in TABLES:
        pd.testing.assert_frame_equal(
            getattr(compiled, name), getattr(reference, name), check_exact=True
        )
    # json: NaN (no removals of a kind) compares equal to itself there
    assert json.dumps(compiled.summary, sort_keys=True, default=str) == json.dumps(
        reference.summary, sort_keys=True, default=str
    )
    daily = compiled.daily
    assert int(daily["removed"].sum()) > 0 and int(daily["blocked"].sum()) > 0
    assert not math.isnan(float(compiled.platform_daily["reviews"].sum()))


@pytest.mark.parametrize("case", ["spread", "ties", "pairs", "sorted", "crowded", "tiny", "equal"])
def test_pending_arrivals_taken_as_a_stable_sort_cuts_them(case: str) -> None:
    """ArrayReviewQueue takes a day's arrivals with a bucket sort: the same order as
    numpy's stable argsort of everything submitted, cut at the end of the day."""
    from simulator.kernels.queue import take_pending as _take_pending

    rng = np.random.default_rng(len(case))
    n = 5000
    t = {
        "spread": rng.uniform(0, 48, n),
        "ties": np.round(rng.uniform(0, 48, n), 0),  # many per time: the merge sort
        "pairs": np.round(rng.uniform(0, 48, n), 2),  # a few per time: the bucket sort
        "sorted": np.sort(rng.uniform(0, 48, n)),
        "crowded": np.concatenate((rng.uniform(0, 1e-6, n - 1), [47.0])),  # one bucket
        "tiny": rng.uniform(0, 48, 3),
        "equal": np.full(n, 5.0),
    }[case]
    m = len(t)
    p, i = rng.integers(0, 5, m), np.arange(m, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    taken = t[order] < 24.0
    bt, bp, bi = t.copy(), p.copy(), i.copy()
    at, ap, ai, left = _take_pending(bt, bp, bi, m, 24.0)
    np.testing.assert_array_equal(ai, i[order][taken])
    np.testing.assert_array_equal(at, t[order][taken])
    np.testing.assert_array_equal(ap, p[order][taken])
    rest = t >= 24.0  # left in submission order
    assert left == int(rest.sum())
    np.testing.assert_array_equal(bi[:left], i[rest])


def test_review_day_refuses_a_queue_not_reserved() -> None:
    """Compiled code does not check bounds per item: the room is checked up front."""
    rng = np.random.default_rng(9)
    cols = _posts(rng, 50, 0.0)
    queue = ArrayReviewQueue(2, 0.5, np.random.default_rng(1))
    queue.submit(np.linspace(0.0, 10.0, 40), np.ones(40, dtype=np.int64), np.arange(40) * 5 + 1)
    at, ap, ai = queue.arrivals_before(24.0)
    with pytest.raises(ValueError, match="reserve"):
        review_day(
            at, ap, ai, 24.0, 2, queue.finish, queue.wait_item, queue.wait_arrival,
            queue.wait_levels, queue.service, queue.counters, 0.0, 0.0,
            *(cols[name] for name in COLUMNS), N_KINDS, no_follow_ons(),
        )  # fmt: skip
    queue.reserve(len(at), ap)
    waits, _, n_ids, _, _, _ = review_day(
        at, ap, ai, 24.0, 2, queue.finish, queue.wait_item, queue.wait_arrival,
        queue.wait_levels, queue.service, queue.counters, 0.0, 0.0,
        *(cols[name] for name in COLUMNS), N_KINDS, no_follow_ons(),
    )  # fmt: skip
    assert len(waits) == 40 and n_ids[1] + n_ids[2] == 40  # every held post decided
