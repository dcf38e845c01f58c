"""The counterfactual run in a second process gives the same results as in this one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simulator
from simulator.engine import caches, pairing
from simulator.engine.simulation import Simulation
from simulator.engine.speech import SpeechDay
from simulator.kernels import learning, publishing
from simulator.model.orders import OrderBook
from simulator.model.review_arrays import ArrayReviewQueue


@pytest.fixture(scope="module")
def small() -> simulator.Scenario:
    return simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 800, "horizon_days": 15}
    )


def test_parallel_counterfactual_gives_identical_results(small: simulator.Scenario) -> None:
    serial = simulator.run(small, seed=5, parallel=False)
    threads = threading.active_count()
    parallel = simulator.run(small, seed=5, parallel=True)
    assert serial.manifest["counterfactual_in_parallel"] is False
    assert parallel.manifest["counterfactual_in_parallel"] is True
    assert threading.active_count() == threads  # the pool's threads are joined
    pd.testing.assert_frame_equal(serial.counterfactual_daily, parallel.counterfactual_daily)
    pd.testing.assert_frame_equal(serial.daily, parallel.daily)
    # JSON, not ==: the summary holds NaN (no removals of a kind), which never equals itself.
    assert json.dumps(serial.summary, sort_keys=True) == json.dumps(
        parallel.summary, sort_keys=True
    )
    assert serial.summary["counterfactual_intended"] > 0


def test_parallel_only_for_large_runs_unless_asked(
    small: simulator.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pairing.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.delenv("CENSIM_PARALLEL", raising=False)
    monkeypatch.setattr(pairing.threading, "active_count", lambda: 1)  # as a script
    large = simulator.override(small, {"population.users": 100_000, "horizon_days": 365})
    assert not pairing._parallel_by_default(small)  # 12,000 user-days
    assert pairing._parallel_by_default(large)  # 36.5 million
    monkeypatch.setenv("CENSIM_PARALLEL", "0")
    assert not pairing._parallel_by_default(large)
    monkeypatch.setenv("CENSIM_PARALLEL", "1")
    assert pairing._parallel_by_default(small)
    monkeypatch.setattr(pairing.threading, "active_count", lambda: 4)
    assert not pairing._parallel_by_default(large)  # threads (a Jupyter kernel): no fork
    monkeypatch.setattr(pairing.threading, "active_count", lambda: 1)
    monkeypatch.setattr(pairing.os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert not pairing._parallel_by_default(large)  # one CPU: nothing to gain


def test_counterfactual_falls_back_when_the_process_dies(
    small: simulator.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class Pool:
        def shutdown(self, wait: bool) -> None:
            pass

    dead: Future[object] = Future()
    dead.set_exception(BrokenProcessPool("killed"))
    monkeypatch.setattr(pairing, "_start_counterfactual", lambda *_: (Pool(), dead))
    fallback = simulator.run(small, seed=5, parallel=True)
    assert fallback.manifest["counterfactual_in_parallel"] is False
    pd.testing.assert_frame_equal(
        fallback.counterfactual_daily,
        simulator.run(small, seed=5, parallel=False).counterfactual_daily,
    )


def test_day_steps_on_two_threads_give_identical_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At scale (THREADED_MIN_USERS) the platforms' review days run on two threads, a
    second thread draws the next day's speech while a day runs, finds the day's benign
    authors while the review items are queued (or, on a day without them, queues the
    other platforms' items while the first platform's are queued), decays the climate's
    memory after the other platform's review day, and the day's evidence pass
    (learn_beliefs) runs there while the platforms adapt: forced on for a
    small two-platform world, every table is the same as one thread's, the speech stream
    ends where it did, and no thread outlives the run."""
    world = simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {"population.users": 4_000, "horizon_days": 20},
    )
    one = simulator.run(world, seed=3, parallel=False)
    alone = Simulation(world, seed=3)
    alone.run()
    threads = threading.active_count()
    drawn_ahead: list[int] = []
    draw = SpeechDay.draw_speech_day

    def counted(self: SpeechDay, day: int) -> object:
        drawn_ahead.append(day)
        return draw(self, day)

    learned_on: list[str] = []
    learn = learning.learn_beliefs

    def learn_counted(*args: object) -> None:
        learned_on.append(threading.current_thread().name)
        learn(*args)

    submitted_on: set[str] = set()
    submit = ArrayReviewQueue.submit

    def submit_counted(self: ArrayReviewQueue, *args: Any) -> None:
        submitted_on.add(threading.current_thread().name.split("_")[0])
        submit(self, *args)

    resolved_on: list[str] = []
    resolve = publishing.resolve_authors

    def resolve_counted(*args: Any) -> None:
        resolved_on.append(threading.current_thread().name)
        time.sleep(0.02)  # found late: a store that did not wait would see no authors
        resolve(*args)

    store = SpeechDay._store_published
    lowest_author: list[int] = []

    def store_checked(self: SpeechDay, *args: Any) -> None:
        store(self, *args)
        if self.posts.size:  # every record stored with its author (none left unresolved)
            lowest_author.append(int(self.posts.author[: self.posts.size].min()))

    decayed_on: list[str] = []
    decay = learning.decay_climate

    def decay_counted(*args: Any) -> None:
        decayed_on.append(threading.current_thread().name)
        decay(*args)

    monkeypatch.setattr(publishing, "resolve_authors", resolve_counted)
    monkeypatch.setattr(SpeechDay, "_store_published", store_checked)
    monkeypatch.setattr(learning, "decay_climate", decay_counted)
    monkeypatch.setattr(caches, "THREADED_MIN_USERS", 0)
    monkeypatch.setattr(SpeechDay, "draw_speech_day", counted)
    monkeypatch.setattr(learning, "learn_beliefs", learn_counted)
    monkeypatch.setattr(ArrayReviewQueue, "submit", submit_counted)
    two = simulator.run(world, seed=3, parallel=False)
    # Items queued here (and on the day's thread on days without benign authors to find).
    assert "MainThread" in submitted_on and submitted_on <= {"MainThread", "censim-day"}
    assert 0 < len(resolved_on) <= 20  # the authors found on the day's thread
    assert all(name.startswith("censim-day") for name in resolved_on), resolved_on
    assert lowest_author and min(lowest_author) >= 0, lowest_author
    # The climate's daily decay, beside the other platform's review day, every day.
    assert len(decayed_on) == 20 and all(n.startswith("censim-day") for n in decayed_on)
    assert sorted(drawn_ahead) == list(range(20))  # each day drawn once, ahead but day 0
    assert len(learned_on) == 20  # every day's evidence pass, each on the day's thread
    assert all(name.startswith("censim-day") for name in learned_on), learned_on
    assert threading.active_count() == threads
    for table in ("daily", "platform_daily", "population_daily", "events", "delays"):
        pd.testing.assert_frame_equal(getattr(one, table), getattr(two, table))
    assert json.dumps(one.summary, sort_keys=True) == json.dumps(two.summary, sort_keys=True)
    assert one.summary["removed"] > 0
    threaded = Simulation(world, seed=3)
    threaded.run()
    assert threaded.streams.speech.random() == alone.streams.speech.random()


def test_a_failing_step_leaves_no_thread_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step that raises mid-run (the second thread busy drawing ahead) still joins it:
    a later large run in this process may fork only from one thread."""
    world = simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {"population.users": 2_000, "horizon_days": 10},
    )
    threads = threading.active_count()
    settle = OrderBook.settle

    def failing(self: OrderBook, day: int, *args: Any) -> None:
        if day == 4:
            raise RuntimeError("step failed")
        settle(self, day, *args)

    monkeypatch.setattr(caches, "THREADED_MIN_USERS", 0)
    monkeypatch.setattr(OrderBook, "settle", failing)
    with pytest.raises(RuntimeError, match="step failed"):
        Simulation(world, seed=1).run()
    assert threading.active_count() == threads


def test_a_failing_evidence_pass_on_the_second_thread_fails_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """learn_beliefs runs on the day's second thread at scale: its error reaches the
    run (not lost in the thread) and no thread is left behind."""
    world = simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {"population.users": 2_000, "horizon_days": 10},
    )
    threads = threading.active_count()
    calls: list[int] = []
    learn = learning.learn_beliefs

    def failing(*args: Any) -> None:
        calls.append(int(args[1]))
        if args[1] == 4:  # the day
            raise RuntimeError("evidence pass failed")
        learn(*args)

    monkeypatch.setattr(caches, "THREADED_MIN_USERS", 0)
    monkeypatch.setattr(learning, "learn_beliefs", failing)
    with pytest.raises(RuntimeError, match="evidence pass failed"):
        Simulation(world, seed=1).run()
    assert calls == [0, 1, 2, 3, 4]
    assert threading.active_count() == threads


def test_a_failing_author_search_on_the_second_thread_fails_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The benign authors are found on the day's second thread at scale
    (publishing.resolve_authors): its error reaches the run and no thread is left."""
    world = simulator.override(
        simulator.load_scenario("china_csl_2016"),
        {"population.users": 2_000, "horizon_days": 10},
    )
    threads = threading.active_count()
    calls: list[str] = []

    def failing(*args: Any) -> None:
        calls.append(threading.current_thread().name)
        raise RuntimeError("author search failed")

    monkeypatch.setattr(caches, "THREADED_MIN_USERS", 0)
    monkeypatch.setattr(publishing, "resolve_authors", failing)
    with pytest.raises(RuntimeError, match="author search failed"):
        Simulation(world, seed=1).run()
    assert len(calls) == 1 and calls[0].startswith("censim-day")
    assert threading.active_count() == threads


_PARENT_SCRIPT = """
import os, sys, time
from simulator.engine.pairing import forked_pool
pool = forked_pool()
worker = pool.submit(os.getpid).result()
pool.submit(time.sleep, 120)  # a counterfactual that would run for two minutes
print(worker, flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (an ended child not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_forked_counterfactual_dies_with_its_parent() -> None:
    """Killed with SIGKILL, a paired run cannot stop its forked counterfactual: the
    worker must notice and end by itself (it would otherwise run the year to its end)."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(simulator.__file__).parents[1])},
    )
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert _running(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10.0
        while _running(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(worker)
    finally:
        parent.kill()
        parent.wait()
