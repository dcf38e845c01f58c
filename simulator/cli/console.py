"""The ``censim`` program's entry point (``simulator.cli.console:main``).

It installs the program's Ctrl-C handling (:mod:`simulator.interrupts`) before anything
heavy is imported, then runs the command line (:mod:`simulator.cli.main`). Nothing but this
module imports the command line: the layers below it never reach up to it
(docs/architecture.md).

Once a command is done, the interpreter's own teardown (freeing some thousand modules
and numba's loaded machine code, all of which the operating system reclaims at once
anyway) took ~0.45 s of a 1.5 s warm ``censim run classroom --days 1``
(docs/performance.md, "Start-up"). So the program runs the atexit handlers and flushes
stdout and stderr as the interpreter would, then ends the process with ``os._exit``
and the command's exit code. Files are closed by then (every write is in a ``with``
block). While another (non-daemon) thread still runs, the usual shutdown (which waits
for it) is kept.
"""

from __future__ import annotations

import os
import signal
import sys


def _interrupted_while_starting(signum: int, frame: object) -> None:
    """Ctrl-C before :func:`simulator.interrupts.install` has run (while this module
    imports its own): the same one line and exit code, at once. Under load, importing
    ``interrupts`` took long enough for an interrupt to land there and print a
    traceback."""
    os.write(2, b"interrupted; results already written are kept\n")
    os._exit(130)


# First thing, with modules the interpreter has already loaded by now; only in the
# ``censim`` program (a library user importing this module keeps their own handler).
if os.path.basename(sys.argv[0]) in ("censim", "censim.exe"):
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import atexit  # noqa: E402  (after the early handler, on purpose)
import contextlib  # noqa: E402
import threading  # noqa: E402

from simulator import interrupts  # noqa: E402


def exit_status(code: str | int | None) -> int:
    """The process exit status ``sys.exit(code)`` gives (a message: printed, 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _other_threads() -> bool:
    """Whether a thread the interpreter would wait for at exit still runs (daemon
    threads, such as tqdm's monitor, it would not)."""
    main_thread = threading.main_thread()
    return any(
        thread is not main_thread and not thread.daemon and thread.is_alive()
        for thread in threading.enumerate()
    )


def main() -> None:
    """``censim`` (the console script)."""
    interrupts.install()
    from simulator.cli.main import main as command

    try:
        command(prog_name="censim")
        code: str | int | None = 0
    except SystemExit as done:
        code = done.code
    if _other_threads():
        sys.exit(code)
    status = exit_status(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (| head) or stream: nothing left to write.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
