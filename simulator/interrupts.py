"""How the ``censim`` program handles Ctrl-C: one line and exit code 130, from the moment
its code starts (the interpreter's own start-up comes before) to its end.

:func:`install` (called by :func:`simulator.cli.console.main`, the entry point) sets the
handler before anything heavy is imported (this module imports only the standard library,
and ``simulator/__init__`` imports its API lazily). While a command runs,
the first interrupt raises :class:`KeyboardInterrupt`, so staging folders and locks are
cleaned up on the way out and the command layer prints the line; outside a command
(starting up, parsing arguments, shutting down) and on a second interrupt it prints the
line and exits at once (nothing is being written then, or the user insists; what a write
cut short leaves is tidied by the next write to the same folder).

A run can also be interrupted inside compiled code: numba's dispatcher then reports
``SystemError: ... returned a result with an exception set``, with the interrupt as its
cause. :func:`was_interrupted` lets the command layer treat any error after an interrupt
as the interrupt.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

EXIT_INTERRUPTED = 130
INTERRUPTED_MESSAGE = "interrupted; results already written are kept"

#: Whether an interrupt raises KeyboardInterrupt (inside a command) or exits at once.
_raising = False
#: Whether this process has been interrupted, and whether it has said so.
_interrupted = False
_announced = False
#: Whether the first interrupt waits for the next step (:func:`interrupts_between_steps`).
_between_steps = False


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    global _interrupted
    first = not _interrupted
    _interrupted = True
    if _raising and first:
        if _between_steps:
            return  # raised by check_interrupt() at the next step
        raise KeyboardInterrupt
    exit_interrupted()


def announce_interrupted(from_handler: bool = False) -> None:
    """Print the one line on standard error (once, however many interrupts come). The
    signal handler writes to the file descriptor: it may have interrupted a write to
    ``sys.stderr``, which must not be entered again."""
    global _announced
    if _announced:
        return
    _announced = installed()  # once per program; every time in a test's process
    with contextlib.suppress(OSError, ValueError):
        if from_handler:
            # A progress bar may still hold the line (a second Ctrl-C lands before the
            # first one's clean-up closed it): start the message on a line of its own.
            os.write(2, (_line_start() + INTERRUPTED_MESSAGE + "\n").encode())
        else:
            sys.stderr.write(INTERRUPTED_MESSAGE + "\n")
            sys.stderr.flush()


def _line_start() -> str:
    """What puts the message at the start of an empty line whatever standard error
    shows: on a terminal, back to the line's start and erase it (a bar's text goes);
    elsewhere (a pipe, a log) a newline, which ends a bar's line there."""
    try:
        terminal = os.isatty(2)
    except OSError:
        terminal = False
    return "\r\033[K" if terminal else "\n"


def exit_interrupted() -> None:
    """Print the one line and end the process with code 130, at once."""
    try:
        announce_interrupted(from_handler=True)
    finally:
        os._exit(EXIT_INTERRUPTED)


def installed() -> bool:
    """Whether this process is the ``censim`` program (its handler is installed)."""
    return signal.getsignal(signal.SIGINT) is _on_interrupt


def was_interrupted(error: BaseException | None = None) -> bool:
    """Whether the program was interrupted, or ``error`` was caused by an interrupt (a
    :class:`KeyboardInterrupt` in its chain of causes, as numba's SystemError has)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return _interrupted and installed()


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """Within the block, the first interrupt raises KeyboardInterrupt (so ``finally``
    blocks clean up); outside it, interrupts exit at once. No effect unless installed."""
    global _raising
    if not installed():
        yield
        return
    _raising = True
    try:
        if _interrupted:  # interrupted just before the block: do not start the command
            raise KeyboardInterrupt
        yield
    finally:
        _raising = False


@contextlib.contextmanager
def interrupts_between_steps() -> Iterator[None]:
    """Within the block (a run's day loop, where compiled kernels are called one after
    another) the first interrupt is raised by :func:`check_interrupt` at the next step
    instead of at whatever bytecode Python runs next. Raised there, it can land inside
    numba's dispatcher as it boxes a kernel's result: that ended a run with exit 70
    ("SystemError: CPUDispatcher ... returned a result with an exception set"), and it
    is the suspect for a segmentation fault seen once (session 20's CI; cause not
    established). A second interrupt still exits at once; an interrupt still pending at
    the block's end is raised there."""
    global _between_steps
    previous = _between_steps
    _between_steps = True
    try:
        yield
    finally:
        _between_steps = previous
    check_interrupt()


def check_interrupt() -> None:
    """Raise KeyboardInterrupt if the program was interrupted while a command runs (the
    step boundary of :func:`interrupts_between_steps`); otherwise nothing."""
    if _interrupted and _raising and installed():
        raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C during the block and deliver it after, as it would have come. For steps
    an interrupt would leave half done, such as starting worker processes: interrupted
    there, a worker was started but not registered, and printed a traceback once its
    parent had gone. SIGINT is also blocked, so processes started in the block inherit
    the mask and cannot be interrupted before they choose to ignore SIGINT. Only in the
    main thread (where Python runs signal handlers); elsewhere a plain block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    masks = hasattr(signal, "pthread_sigmask")  # POSIX
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if masks else set()
    try:
        yield
    finally:
        if masks:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        signal.signal(signal.SIGINT, previous)
        if held:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def _ignore_interrupts() -> None:
    # The last exit handler. After it Python resets a Python-level SIGINT handler to the
    # default action (but leaves "ignore" alone): an interrupt then, in the last moments of
    # the process, would kill it by the signal (status -2) instead of letting it exit with
    # the code it has (130 if interrupted before). The command has finished by now.
    with contextlib.suppress(OSError, ValueError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _deliver_interrupt_again() -> None:
    # After a pause, so that the hook that started this thread has returned (an
    # interrupt handled inside the hook would be dropped like the first).
    time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGINT)


def _on_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """An interrupt raised where Python can only print and drop it (a ctypes callback, as
    when llvmlite loads a cached kernel, or a finaliser) would print "Exception ignored"
    with a traceback and let the run go on. Deliver it again instead, from another thread
    once this hook has returned (a signal raised here would be handled, and dropped,
    inside the hook): the handler then
    raises it at the next point that can take it (or, if that is again such a place,
    comes back here). Anything else goes to Python's own hook."""
    global _interrupted
    if issubclass(unraisable.exc_type, KeyboardInterrupt) and installed():
        _interrupted = False  # the next delivery is the first that counts
        threading.Thread(target=_deliver_interrupt_again, daemon=True).start()
        return
    sys.__unraisablehook__(unraisable)


def install() -> None:
    """Make this process the ``censim`` program: Ctrl-C handled as above from now on."""
    signal.signal(signal.SIGINT, _on_interrupt)
    sys.unraisablehook = _on_unraisable
    atexit.register(_ignore_interrupts)  # registered first, so it runs last
