"""Wrapper to run benchmarks/bench_sweep.py under pytest (``pytest -m benchmark``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@pytest.mark.benchmark
def test_sweep_throughput_scales_with_workers() -> None:
    from benchmarks.bench_sweep import measure

    runs1, _, rate1, *_ = measure(1, reps=5, users=10_000)
    runs2, _, rate2, busy2, *_ = measure(2, reps=5, users=10_000)
    print(f"1 worker {rate1:.2f} runs/s, 2 workers {rate2:.2f} runs/s, ratio {rate2 / rate1:.2f}")
    assert runs1 == runs2 == 20
    # Both workers were kept busy and throughput nearly doubled (needs an idle 2-core machine).
    assert busy2 > 1.6
    assert rate2 / rate1 >= 1.8
