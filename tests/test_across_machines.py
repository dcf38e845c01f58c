"""Outputs and the bit-for-bit tests do not depend on the CPU's vector instructions
(docs/reliability.md, "Across machines").

This machine is made to act as a plainer CPU: numpy with every SIMD level it dispatches
to switched off (``NPY_DISABLE_CPU_FEATURES``) and numba compiling for a generic x86-64
(``NUMBA_CPU_NAME=generic``, its own kernel cache). The five test worlds of
``benchmarks/hash_outputs.py`` must hash as they do natively, and the tests that compare
kernels with numpy statements and numba's draws with numpy's must pass. Slow (the
kernels are compiled again for the generic CPU: minutes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIT_FOR_BIT_TESTS = [
    "tests/test_kernels_day.py",
    "tests/test_kernels.py",
    "tests/test_generator_handles.py",
    "tests/test_publishing.py::test_multinomial_draws_what_numpy_draws",
]


def _umath():  # type: ignore[no-untyped-def]
    try:
        from numpy._core import _multiarray_umath as umath  # numpy 2
    except ImportError:  # numpy 1.26
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    return umath


def simd_levels_in_use() -> list[str]:
    """The SIMD levels (beyond its baseline) numpy dispatches to in this process."""
    umath = _umath()
    return [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]


def plain_cpu(cache: Path) -> dict[str, str]:
    """The environment of a process that computes as on a CPU without any of numpy's
    SIMD levels (all switched off, whatever this process uses), with numba's code for a
    generic x86-64."""
    env = {**os.environ, "NUMBA_CPU_NAME": "generic", "NUMBA_CACHE_DIR": str(cache)}
    levels = list(_umath().__cpu_dispatch__)
    if levels:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(levels)
    return env


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_outputs_and_bit_for_bit_tests_do_not_depend_on_simd(tmp_path: Path) -> None:
    env = plain_cpu(tmp_path / "numba-generic")
    # The switches took effect: no SIMD level left to numpy, numba compiling generically.
    probe = run(
        [
            "-c",
            "import numba, sys; sys.path.insert(0, 'tests'); "
            "from test_across_machines import simd_levels_in_use as d; "
            "print(d(), numba.config.CPU_NAME)",
        ],
        env,
    )
    assert probe.split() == ["[]", "generic"], probe
    native = run(["benchmarks/hash_outputs.py"], dict(os.environ))
    assert len(native.splitlines()) >= 30
    assert run(["benchmarks/hash_outputs.py"], env) == native
    run(["-m", "pytest", "-q", "-p", "no:cacheprovider", *BIT_FOR_BIT_TESTS], env)


def test_numpy_can_be_told_to_leave_its_simd_levels() -> None:
    """The switch the slow test relies on: numpy started with its SIMD levels disabled
    reports none (checked cheaply here, so that a numpy that renames them shows)."""
    if not _umath().__cpu_dispatch__:
        pytest.skip("this numpy dispatches to no SIMD level")
    env = plain_cpu(Path(os.devnull))
    code = (
        "import sys; sys.path.insert(0, 'tests'); "
        "from test_across_machines import simd_levels_in_use as d; print(d())"
    )
    assert run(["-c", code], env).strip() == "[]"
