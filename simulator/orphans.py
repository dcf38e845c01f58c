"""Child processes that must not outlive the process that started them.

A sweep's local workers and a paired run's forked counterfactual hold no results (their
parent writes them), so when the parent is gone, killed with SIGKILL or otherwise, a
child only burns CPU and memory: it ends at once (docs/reliability.md, section 14).
Standard library only.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

#: prctl option: the signal the kernel sends this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def end_with(pid: int) -> None:
    """Make this (child) process end as soon as process ``pid`` is gone: the kernel's
    parent-death signal where there is one, and a watcher thread everywhere."""
    die_with_parent()
    watcher = threading.Thread(
        target=exit_when_gone, args=(pid,), name="censim-watch-parent", daemon=True
    )
    watcher.start()


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when the thread that forked it ends.
    Under ``forkserver`` that is the fork server (it exits once its clients are gone):
    a second guard, not a replacement for :func:`exit_when_gone`."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: the watcher thread still works
        pass


def exit_when_gone(pid: int) -> None:
    """Block until process ``pid`` ends, then end this process at once (``os._exit``:
    a child holds no results; they are written by its parent)."""
    import select

    try:
        # Readable when the process exits; no polling, no pid-reuse race.
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # not Linux 5.3+: poll
        while True:
            time.sleep(1.0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:  # alive, someone else's: cannot happen for our parent
                pass
    select.select([handle], [], [])
    os._exit(1)
