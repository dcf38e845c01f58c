"""Wrapper to run benchmarks/bench_sweep.py under pytest (``pytest -m benchmark``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@pytest.mark.benchmark
def test_sweep_throughput_scales_with_workers() -> None:
    import statistics

    from benchmarks.bench_sweep import measure

    # Alternate 1 and 2 workers and compare medians: the machine's speed drifts by
    # ~20% between consecutive measurements of the same configuration.
    rates: dict[int, list[float]] = {1: [], 2: []}
    busy: list[float] = []
    for _ in range(3):
        for workers in (1, 2):
            runs, _, rate, busy_cpus, *_ = measure(workers, reps=5, users=10_000)
            assert runs == 20
            rates[workers].append(rate)
            if workers == 2:
                busy.append(busy_cpus)
    ratio = statistics.median(rates[2]) / statistics.median(rates[1])
    print(f"runs/s 1 worker {rates[1]}, 2 workers {rates[2]}, ratio of medians {ratio:.2f}")
    # Both workers were kept busy and throughput nearly doubled (needs an idle 2-core machine).
    assert statistics.median(busy) > 1.6
    assert ratio >= 1.8
