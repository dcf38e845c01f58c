"""The ``censim`` console script (simulator/cli/console.py) ends the process without the
interpreter's teardown, yet keeps everything a normal exit gives: the exit code, the
output written to pipes, the atexit handlers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli.console import exit_status

ROOT = Path(__file__).resolve().parent.parent
#: The console script's body, with an atexit handler registered first.
SCRIPT = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('atexit ran'))\n"
    "from simulator.cli.console import main\n"
    "sys.argv = ['censim', *sys.argv[1:]]\n"
    "main()\n"
)


def _censim(*args: str) -> subprocess.CompletedProcess[str]:
    # Pipes, block-buffered (PYTHONUNBUFFERED unset): output is lost unless flushed.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        check=False,
        timeout=300,
    )


def test_exit_status_is_what_sys_exit_gives(capsys: pytest.CaptureFixture[str]) -> None:
    assert (exit_status(None), exit_status(0), exit_status(3)) == (0, 0, 3)
    assert exit_status("stopped: no room") == 1
    assert capsys.readouterr().err == "stopped: no room\n"


def test_console_script_keeps_output_exit_code_and_atexit_handlers() -> None:
    done = _censim("validate", "classroom")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: classroom (classroom, 2,000 users, 60 days)\n")
    assert done.stdout.endswith("atexit ran\n")
    failed = _censim("run", "no_such_scenario")
    assert failed.returncode == 2
    assert failed.stderr.startswith("error: no_such_scenario")
    assert failed.stdout == "atexit ran\n"
