"""Reading files censim did not necessarily write, and writing files whole or not at all.

- :func:`read_regular_file` reads a small file that anyone could have put in its place:
  only a regular file is read (a FIFO would block the reader forever, a device never
  end), it is opened without blocking and checked again once open (it may have been
  swapped between the check and the open), and at most ``limit + 1`` bytes are read.
- :func:`atomic_write_bytes` and :func:`atomic_write_with` write a file through a
  temporary file in the same folder, flushed to disk (``fsync``) and renamed over the
  target (``os.replace``), then flush the folder entry: a reader, a killed process or
  a full disk sees the old file or the new one, never half of one. The temporary file
  (``.NAME.XXXX.tmp``, NAME cut to 64 characters) is removed if anything fails, and the
  error is raised as it came.
- :func:`fsync_path` and :func:`fsync_tree` flush a file, a folder's entries or a whole
  folder to disk; the output folders (:mod:`simulator.output.folders`) are written file
  by file into a staging folder, flushed with :func:`fsync_tree` and published by one
  rename.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path


class UnreadableFile(Exception):
    """A file that is not a readable regular file of at most the size allowed;
    ``reason`` says why in a few words (``is a directory``, ``is 2,000,000 bytes``...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def kind_of_file(mode: int) -> str:
    """What a ``st_mode`` is, in words: ``a directory``, ``a FIFO``, ``a symlink``..."""
    kinds = (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    for test, name in kinds:
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: Path, limit: int, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit`` of them), or
    :class:`UnreadableFile`. Never blocks on a FIFO; never reads more than ``limit + 1``
    bytes. With ``follow_symlinks=False`` a symlink is refused, not followed."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        info = os.stat(path, follow_symlinks=follow_symlinks)
    except OSError as error:
        raise UnreadableFile(f"cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile(f"is {kind_of_file(info.st_mode)}, not a regular file")
    if info.st_size > limit:
        raise UnreadableFile(f"is {info.st_size:,} bytes; at most {limit:,} are expected")
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise UnreadableFile(f"cannot be read ({error.strerror or error})") from None
    try:
        # Swapped for something else between the stat and the open?
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableFile("is not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise UnreadableFile(f"cannot be read ({error.strerror or error})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise UnreadableFile(f"grew while being read; at most {limit:,} bytes are expected")
    return data


def fsync_path(path: Path) -> None:
    """Flush a written file, or a folder's entries (a rename into it), to disk, so a
    renamed file or folder never holds empty files after a crash of the machine (a killed
    process needs no fsync: the kernel has the data); ignored where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """:func:`fsync_path` every file and folder under ``folder`` (``folder`` too): a
    folder written file by file, then published whole by one rename, is on disk before
    the rename makes it visible."""
    for root, _, names in os.walk(folder):
        for name in names:
            fsync_path(Path(root) / name)
        fsync_path(Path(root))


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_with(path: Path, write: Callable[[Path], None]) -> None:
    """Have ``write(temporary_path)`` write the file, then flush it and rename it over
    ``path``. Raises what ``write``, ``fsync`` or the rename raised (e.g. ``OSError``
    ENOSPC), with the temporary file removed and ``path`` as it was."""
    folder = path.parent
    # The name cut to 64 characters: a name near the file system's 255 would not fit.
    fd, name = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=folder)
    temporary = Path(name)
    try:
        os.close(fd)
        # mkstemp makes the file private (0600); the file written is an ordinary one.
        os.chmod(temporary, 0o666 & ~current_umask())
        write(temporary)
        # Flushed before the rename: a crash of the machine after it never leaves the
        # target empty (a killed process alone would not need it: the kernel has the data).
        fd = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_path(folder)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_write_with`)."""

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            handle.write(data)

    atomic_write_with(path, write)
