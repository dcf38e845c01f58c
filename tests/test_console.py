"""The ``censim`` console script (simulator/cli/console.py) ends the process without the
interpreter's teardown, yet keeps everything a normal exit gives: the exit code, the
output written to pipes, the atexit handlers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import interrupts
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


def test_an_interrupt_while_the_entry_point_imports_is_the_one_line() -> None:
    """The entry point's module sets a Ctrl-C handler before its own imports (under load,
    an interrupt landed while it imported :mod:`simulator.interrupts` and printed a
    traceback): importing it and being interrupted gives the one line and 130."""
    code = (
        "import os, signal, sys, time\n"
        "sys.argv[0] = 'censim'  # as the console script is called\n"
        "import simulator.cli.console\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(10)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == interrupts.EXIT_INTERRUPTED, done.stderr
    assert done.stderr == interrupts.INTERRUPTED_MESSAGE + "\n"


def test_importing_the_entry_point_elsewhere_keeps_the_handler() -> None:
    """A library user (here: pytest) importing the module keeps Python's own handler."""
    import signal

    assert signal.getsignal(signal.SIGINT) is not None
    assert not callable(signal.getsignal(signal.SIGINT)) or (
        signal.getsignal(signal.SIGINT).__name__ != "_interrupted_while_starting"
    )
