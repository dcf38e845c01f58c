"""The cache hint of compiled loops (simulator/kernels/prefetch.py): it is emitted as
LLVM's prefetch and changes no value, so a kernel's numbers do not depend on it."""

from __future__ import annotations

import numpy as np
from numba import njit

from simulator.kernels import choice, learning
from simulator.kernels.prefetch import prefetch


@njit(cache=False)
def _gather(rows: np.ndarray, flat: np.ndarray, index: np.ndarray, distance: int) -> float:
    """A scattered gather over a 2-D and a 1-D array, hinting ``distance`` entries ahead
    (0: no hint)."""
    total = 0.0
    n = len(index)
    for k in range(n):
        if distance > 0 and k + distance < n:
            prefetch(rows, index[k + distance])
            prefetch(flat, index[k + distance])
        i = index[k]
        total += rows[i, 3] * 0.5 + flat[i]
    return total


def test_prefetch_changes_no_value() -> None:
    rng = np.random.default_rng(3)
    rows = rng.random((50_000, 16)).astype(np.float32)
    flat = rng.random(50_000)
    index = rng.integers(0, 50_000, 20_000)
    expected = _gather(rows, flat, index, 0)
    for distance in (1, 16, 64):
        assert _gather(rows, flat, index, distance) == expected
    # The same sum in numpy, in the same order (float64 after each float32 read).
    want = 0.0
    for i in index.tolist():
        want += float(rows[i, 3]) * 0.5 + float(flat[i])
    assert expected == want


def test_prefetch_is_emitted_as_llvms_prefetch() -> None:
    """The hint is in the compiled code (not silently dropped by the optimiser), and the
    evidence pass and the choice use this very hint."""
    rows = np.zeros((4, 16), dtype=np.float32)
    _gather(rows, np.zeros(4), np.arange(4), 1)
    ir_text = next(iter(_gather.inspect_llvm().values()))
    assert "@llvm.prefetch" in ir_text
    assert learning.prefetch is prefetch
    assert choice.prefetch is prefetch
