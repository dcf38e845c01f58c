"""Drop the kernels' on-disk cache when any kernel module's source changed.

numba checks a cached kernel against its own file only (the file's sha256). A kernel
that calls a kernel of another module (``publishing.publish_days`` calls
``channel.publish_channel``, which calls ``choice.choose_posts``...) is compiled with the
callee inlined, so after an edit of the callee, or an upgrade of censim in a checkout
whose cache is warm, the caller's cached machine code still holds the old callee and
runs it without a word. So the package keeps a stamp beside the cache: the sha256 of
every module of ``simulator/kernels`` together, written when the cache was last
cleared. On import, a stamp that differs (or is missing) drops every cached kernel of
these modules (``<module>.<kernel>-<line>.<python>.nbi`` and ``.nbc``: files censim's
kernels wrote, nothing else), and the next run compiles them again (once, 20-35 s).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The stamp's file name, in the kernels' cache folder.
STAMP_NAME = "censim-kernel-sources.sha256"
#: numba's cache files: the index and the compiled code.
CACHE_SUFFIXES = (".nbi", ".nbc")


def sources_digest(sources: Sequence[Path]) -> str:
    """sha256 of the modules' names and contents, in name order (hex)."""
    digest = hashlib.sha256()
    for path in sorted(sources, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def drop_stale_cache(sources: Sequence[Path], cache: Path) -> int:
    """If ``cache``'s stamp is not the digest of ``sources``, delete the cache files of
    the modules in ``sources`` from ``cache`` and write the stamp. Returns how many
    files were deleted (0 when the stamp matched or the folder does not exist)."""
    if not cache.is_dir():
        return 0
    digest = sources_digest(sources)
    stamp = cache / STAMP_NAME
    try:
        if stamp.read_text() == digest:
            return 0
    except OSError:
        pass  # no stamp yet: a cache of unknown sources
    modules = {path.stem for path in sources}
    dropped = 0
    for entry in cache.iterdir():
        if entry.suffix in CACHE_SUFFIXES and entry.name.split(".", 1)[0] in modules:
            entry.unlink(missing_ok=True)
            dropped += 1
    # Written whole, then moved into place: a reader sees the old stamp or the new one.
    partial = cache / f".{STAMP_NAME}.{os.getpid()}"
    partial.write_text(digest)
    os.replace(partial, stamp)
    return dropped


def kernel_cache_folder(source: Path) -> Path | None:
    """The folder numba caches the kernels of ``source``'s folder in: the first of its
    cache locators that accepts the file (in the source tree's ``__pycache__`` when it
    is writable, else the user-wide cache, or ``NUMBA_CACHE_DIR``). None when numba's
    layout is not the one this reads (private API): then nothing is dropped."""
    try:
        from numba.core import caching

        def probe() -> None:  # a function of the file, for the locators
            """Stands for a kernel of ``source``."""

        impl: Any = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
        for locator_class in impl._locator_classes:
            locator = locator_class.from_function(probe, str(source))
            if locator is not None:
                return Path(locator.get_cache_path())
    except Exception:  # noqa: BLE001 - a numba whose private layout moved: skip the check
        return None
    return None


def drop_if_sources_changed() -> int:
    """:func:`drop_stale_cache` for this package's kernel modules in numba's cache
    folder for them; never fails (a read-only or missing folder: nothing done)."""
    here = Path(__file__).resolve().parent
    sources = sorted(here.glob("*.py"))
    folder = kernel_cache_folder(sources[0])
    if folder is None:
        return 0
    try:
        return drop_stale_cache(sources, folder)
    except OSError:
        return 0
