"""Staging and trash folders beside a target, the lock on its parent folder, and the
recovery of what killed writes left (the mechanics of :mod:`simulator.output.folders`;
docs/reliability.md section 5).

Staging and trash folders are named ``.censim-partial-PID-TOKEN`` and
``.censim-old-PID-TOKEN`` (TOKEN: 32 random hex digits) and hold a marker file naming the
target, the process and the host (:func:`make_marked_folder`). :func:`recover_staging`
acts only on folders whose marker matches their name and whose process is gone: a killed
write's staging folder is deleted; an old folder is put back if its target is missing
(the writer died between its two renames) and deleted otherwise. Nothing else beside a
target is touched. Renames beside a target happen under :func:`parent_lock`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from simulator.output.folder_checks import read_json

#: A staging or trash folder's name: role, pid, 32 random hex digits.
STAGING_NAME = re.compile(r"\.censim-(partial|old)-([0-9]+)-([0-9a-f]{32})")
#: The marker file inside a staging or trash folder.
MARKER = ".censim-staging.json"


def absolute_target(out: str | os.PathLike[str]) -> Path:
    """``out`` with its parent made absolute and physical, so later renames do not depend on
    the current folder (which a replaced folder may hold) or on symlinks in ``..``."""
    target = Path(out)
    parent = target.parent
    try:
        return parent.resolve() / target.name
    except (OSError, RuntimeError):
        return Path(os.path.abspath(parent)) / target.name


def make_marked_folder(target: Path, role: str) -> Path:
    """A new hidden folder beside ``target`` named and marked as this process's."""
    token = secrets.token_hex(16)
    pid = os.getpid()
    folder = target.parent / f".censim-{role}-{pid}-{token}"
    folder.mkdir(mode=0o700)
    marker = {"censim_staging": role, "target": target.name, "pid": pid, "host": _host()}
    marker["token"] = token
    with open(folder / MARKER, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(marker) + "\n")
    return folder


@contextlib.contextmanager
def parent_lock(parent: Path) -> Iterator[None]:
    """An exclusive lock on the folder ``parent`` (flock on the folder itself: no lock file
    is left behind). Held only for a few renames. Without locks (a file system that has
    none) renames still never replace a folder that is not empty."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def recover_staging(target: str | os.PathLike[str]) -> list[Path]:
    """Tidy what killed writes of ``target`` left beside it; returns the folders removed.

    Only folders named like a staging or trash folder *and* holding a marker that matches
    the name, names ``target``, and names a process of this host that is gone are touched.
    A trash folder's old folder is put back if ``target`` is missing (the writer died
    between its two renames); otherwise it is deleted. Staging folders are deleted.
    """
    target = absolute_target(target)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    if not any(STAGING_NAME.fullmatch(name) for name in names):
        return []
    with parent_lock(target.parent):
        stale = recover_locked(target)
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def recover_locked(target: Path) -> list[Path]:
    """Under the parent's lock: put back a dead writer's old folder if ``target`` is
    missing; return the dead writers' folders to delete."""
    try:
        names = sorted(os.listdir(target.parent))
    except OSError:
        return []
    stale = []
    for name in names:
        match = STAGING_NAME.fullmatch(name)
        if not match:
            continue
        folder = target.parent / name
        role, pid, token = match.group(1), int(match.group(2)), match.group(3)
        real_folder = folder.is_dir() and not folder.is_symlink()
        marker = read_json(folder / MARKER) if real_folder else None
        expected = {
            "censim_staging": role,
            "target": target.name,
            "pid": pid,
            "host": _host(),
            "token": token,
        }
        if marker != expected or _alive(pid):
            continue
        if role == "old" and (folder / "old").is_dir() and not os.path.lexists(target):
            try:
                os.replace(folder / "old", target)
            except OSError:
                continue
        stale.append(folder)
    return stale


def _host() -> str:
    return socket.gethostname()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True
