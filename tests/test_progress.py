"""The run's progress bar never estimates time from a day that compiled kernels
(simulator/engine/progress.py): a first run once estimated nine hours after its first day."""

from __future__ import annotations

import io

from numba import njit

from simulator.engine.progress import COMPILING, DayProgress, estimate


def test_estimate_only_from_days_that_compiled_nothing() -> None:
    assert estimate(days_left=59, clean_days=0, clean_seconds=0.0) == ""
    assert estimate(days_left=10, clean_days=2, clean_seconds=1.0) == "2 day/s, 00:05 left"
    assert estimate(days_left=7200, clean_days=1, clean_seconds=1.5) == "0.667 day/s, 3:00:00 left"


def test_bar_says_compiling_and_times_only_clean_days() -> None:
    out = io.StringIO()
    progress = DayProgress(3, "world seed 1", file=out)
    try:
        # Day 1 compiles a kernel (a real numba compile, seen through numba's events).
        progress.start_day()
        njit(lambda x: x + 1)(1)
        assert progress.compiles == 1
        progress.end_day()
        assert progress.clean_days == 0
        assert progress.note == ""  # no estimate: the only day compiled
        assert COMPILING in out.getvalue()  # shown while the compile ran
        # Day 2 compiles nothing: the estimate starts from it alone.
        progress.start_day()
        progress.end_day()
        assert progress.clean_days == 1
        assert progress.note.endswith(" left")
        assert "day/s" in progress.note
        # A compile on a later day: that day is not timed.
        progress.start_day()
        progress.compile_started()
        assert progress.note == COMPILING
        progress.compile_ended()
        progress.end_day()
        assert (progress.clean_days, progress.done) == (1, 3)
    finally:
        progress.close()
    # Closed: numba's compile events no longer reach it.
    njit(lambda x: x + 2)(1)
    assert progress.compiles == 2
    # tqdm's own rate and time left never appear (they would count compiling days).
    assert "?day/s" not in out.getvalue() and "<" not in out.getvalue()
