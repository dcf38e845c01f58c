"""Folders censim writes, and the rules that keep safe what it did not write.

Every folder censim writes says so in its manifest: ``manifest.json`` of a run folder,
``design.json`` of a sweep store (and of a sensitivity analysis, which is one),
``comparison.json`` of a comparison, each with ``"censim_folder": KIND``. ``--force`` only
ever replaces a folder of the kind being written that censim wrote and that holds nothing
censim does not write there; any other folder is refused (exit code 3), and so are the
current folder, the folders above it, the home folder and the root.

Run folders and comparisons are *published*: written into a staging folder beside the
target, then renamed into place under a lock on the parent folder, which re-checks the
target at that moment (a run that started when the target was free may find it taken by
another one: it then fails, it never replaces it). With ``--force`` the old folder is first
renamed aside into a trash folder, and deleted only after the new one is in place.

Staging and trash folders are named ``.censim-partial-PID-TOKEN`` and
``.censim-old-PID-TOKEN`` (TOKEN: 32 random hex digits) and hold a marker file naming the
target, the process and the host. :func:`recover_staging` acts only on folders whose marker
matches their name and whose process is gone: a killed write's staging folder is deleted;
an old folder is put back if its target is missing (the writer died between its two
renames) and deleted otherwise. Nothing else beside a target is touched.

The sweep store is written in place (it resumes): :func:`check_store_folder` refuses any
non-empty folder that is not a censim sweep store, with or without ``--force``.

Messages show paths through :func:`shown`, which escapes terminal control characters.
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
from typing import Any

from simulator.errors import OutputError
from simulator.files import fsync_path, fsync_tree

#: The manifest key naming the kind of folder censim wrote.
FOLDER_KEY = "censim_folder"
RUN, SWEEP, COMPARISON, FIGURES = "run", "sweep", "comparison", "figures"
#: Kind -> the manifest file that marks it.
MANIFESTS = {
    RUN: "manifest.json",
    SWEEP: "design.json",
    COMPARISON: "comparison.json",
    FIGURES: "figures.json",
}
NOUNS = {
    RUN: "run folder",
    SWEEP: "sweep store",
    COMPARISON: "comparison folder",
    FIGURES: "figures folder",
}
#: Files of a run folder (besides an optional ``figures/`` folder of figures).
RUN_FILES = frozenset(
    [
        *(
            f"{table}.csv"
            for table in (
                "daily",
                "counterfactual_daily",
                "delays",
                "events",
                "platform_daily",
                "population_daily",
            )
        ),
        "summary.json",
        "scenario.json",
        "manifest.json",
    ]
)
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
COMPARISON_FILES = frozenset(
    ["comparison.csv", "comparison.json", *(f"comparison{s}" for s in FIGURE_SUFFIXES)]
)
#: A staging or trash folder's name: role, pid, 32 random hex digits.
STAGING_NAME = re.compile(r"\.censim-(partial|old)-([0-9]+)-([0-9a-f]{32})")
#: The marker file inside a staging or trash folder.
MARKER = ".censim-staging.json"
_REPLICA = re.compile(r"rep[0-9]+")


# -- messages -----------------------------------------------------------------------------


def printable(text: str, keep_newlines: bool = True) -> str:
    """``text`` with each character a terminal would act on (escape sequences, control
    characters, undecodable bytes) written as a Python escape such as ``\\x1b``."""
    return "".join(
        c if c.isprintable() or (keep_newlines and c == "\n") else _escape(c) for c in text
    )


def _escape(character: str) -> str:
    return character.encode("unicode_escape", errors="backslashreplace").decode("ascii")


def shown(path: str | os.PathLike[str]) -> str:
    """A path as messages print it: non-printable characters escaped (newlines too)."""
    return printable(os.fspath(path), keep_newlines=False)


# -- what a folder is ---------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    """The JSON in a regular file (not a symlink), or None."""
    try:
        if not path.is_file() or path.is_symlink():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def folder_kind(folder: str | Path) -> str | None:
    """The kind of censim folder ``folder`` is (``run``, ``sweep``, ``comparison``), read
    from its manifest; None for a folder censim did not write. Folders of earlier versions,
    whose manifests had no ``censim_folder`` key, are recognised by their manifest's keys."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return None
    for kind, manifest_name in MANIFESTS.items():
        data = _read_json(folder / manifest_name)
        if not isinstance(data, dict):
            continue
        if data.get(FOLDER_KEY) == kind or (FOLDER_KEY not in data and _legacy(kind, data, folder)):
            return kind
    return None


def _legacy(kind: str, data: dict[str, Any], folder: Path) -> bool:
    if kind == RUN:
        keys = {"scenario", "scenario_sha256", "seed", "replication"}
        return keys <= data.keys() and (folder / "summary.json").is_file()
    if kind == SWEEP:
        return str(data.get("format", "")).startswith("censim-sweep/") and "design_hash" in data
    if kind == COMPARISON:
        return {"items", "replication_seeds", "regimes"} <= data.keys()
    return False


def _foreign_entry(folder: Path, kind: str) -> str | None:
    """The first entry of ``folder`` (relative path) that censim does not write in a folder
    of ``kind``, or None: replacing the folder would delete it."""
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if entry.is_symlink():
            return name
        if kind == RUN:
            if name in RUN_FILES and entry.is_file():
                continue
            if name == "figures" and entry.is_dir():
                inner = [f for f in sorted(entry.iterdir()) if not _is_figure(f)]
                if inner:
                    return f"figures/{inner[0].name}"
                continue
            return name
        if kind == COMPARISON:
            if name in COMPARISON_FILES and entry.is_file():
                continue
            if name == "runs" and entry.is_dir():
                found = _foreign_in_comparison_runs(entry)
                if found:
                    return f"runs/{found}"
                continue
            return name
    return None


def _is_figure(path: Path) -> bool:
    """A figure (or the figures folder's manifest) as ``censim plot`` writes them."""
    ours = path.suffix in FIGURE_SUFFIXES or path.name == MANIFESTS[FIGURES]
    return ours and path.is_file() and not path.is_symlink()


def _foreign_in_comparison_runs(runs: Path) -> str | None:
    for regime in sorted(runs.iterdir()):
        if regime.is_symlink() or not regime.is_dir():
            return regime.name
        for replica in sorted(regime.iterdir()):
            where = f"{regime.name}/{replica.name}"
            if not _REPLICA.fullmatch(replica.name) or folder_kind(replica) != RUN:
                return where
            found = _foreign_entry(replica, RUN)
            if found:
                return f"{where}/{found}"
    return None


def _special_folder(target: Path) -> str | None:
    """Why ``target`` may never be replaced (the root, home, the current folder or a folder
    holding it), or None."""
    try:
        real = target.resolve()
    except (OSError, RuntimeError):
        return None
    if real == Path(real.anchor):
        return "is the root folder; choose another --out"
    with contextlib.suppress(OSError, RuntimeError):
        cwd = Path.cwd().resolve()
        if real == cwd or real in cwd.parents:
            return (
                "is the current folder or holds it; censim never replaces the folder it "
                "runs in: run it from elsewhere or choose another --out"
            )
    with contextlib.suppress(OSError, RuntimeError, KeyError):
        home = Path.home().resolve()
        if real == home or real in home.parents:
            return "is the home folder or holds it; choose another --out"
    return None


def _is_empty_folder(path: Path) -> bool:
    try:
        return path.is_dir() and not path.is_symlink() and not any(path.iterdir())
    except OSError:
        return False


def check_replaceable(target: str | Path, kind: str, given: str | Path | None = None) -> None:
    """Raise :class:`OutputError` unless ``--force`` may replace ``target`` with a folder of
    ``kind``: a real folder (not a symlink) censim wrote as that kind, holding only files
    censim writes there, and not the root, home, or the current folder or one above it.
    Messages name ``given`` (the path as the user wrote it; default ``target``)."""
    target = Path(target)
    name = shown(target if given is None else given)
    noun = NOUNS[kind]
    if target.is_symlink():
        raise OutputError(
            f"{name}: is a symbolic link; --force replaces only a {noun} itself, "
            "give its real path or choose another --out"
        )
    if not target.is_dir():
        raise OutputError(f"{name}: exists and is not a folder; choose another --out")
    special = _special_folder(target)
    if special:
        raise OutputError(f"{name}: {special}")
    found = folder_kind(target)
    if found != kind:
        what = (
            f"is a censim {NOUNS[found]}, not a {noun}"
            if found
            else f"was not written by censim (no {MANIFESTS[kind]} of a censim {noun})"
        )
        raise OutputError(
            f"{name}: {what}; --force replaces only a {noun} censim wrote, so choose another --out"
        )
    try:
        foreign = _foreign_entry(target, kind)
    except OSError as error:
        raise OutputError(f"{name}: cannot be read ({error.strerror})") from None
    if foreign:
        raise OutputError(
            f"{name}: holds {shown(foreign)}, which censim did not write there; "
            "--force would delete it: move it out or choose another --out"
        )


def _absolute(out: str | os.PathLike[str]) -> Path:
    """``out`` with its parent made absolute and physical, so later renames do not depend on
    the current folder (which a replaced folder may hold) or on symlinks in ``..``."""
    target = Path(out)
    parent = target.parent
    try:
        return parent.resolve() / target.name
    except (OSError, RuntimeError):
        return Path(os.path.abspath(parent)) / target.name


def check_target(out: str | os.PathLike[str], kind: str, force: bool) -> Path:
    """Check, before any work, that a folder of ``kind`` may be published at ``out``;
    tidy what killed writes of it left (:func:`recover_staging`). Returns it, absolute.

    Free: nothing there, or an empty folder. Taken: refused without ``force``; with it,
    refused unless :func:`check_replaceable`. Called again when publishing.
    """
    noun = NOUNS[kind]
    if Path(out).name in ("", ".", ".."):
        # ".", "/" or "..": replacing the folder one stands in is never what was meant.
        raise OutputError(f"{shown(out)}: give the {noun} a name, e.g. runs/my-run")
    target = _absolute(out)
    recover_staging(target)
    _check_free_or_replaceable(target, Path(out), kind, force)
    return target


def _check_free_or_replaceable(target: Path, given: Path, kind: str, force: bool) -> None:
    if not os.path.lexists(target) or _is_empty_folder(target):
        special = _special_folder(target) if os.path.lexists(target) else None
        if special:
            raise OutputError(f"{shown(given)}: {special}")
        return
    if force:
        check_replaceable(target, kind, given)
        return
    try:
        check_replaceable(target, kind, given)
    except OutputError:
        raise OutputError(
            f"{shown(given)}: already exists and is not a {NOUNS[kind]} censim wrote; "
            "choose another --out"
        ) from None
    raise OutputError(
        f"{shown(given)}: already exists; choose another --out or pass --force to replace it"
    )


# -- publishing ---------------------------------------------------------------------------


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike[str], kind: str, force: bool = False) -> Iterator[Path]:
    """Yield an empty folder to write a folder of ``kind`` into; when the block ends, publish
    it at ``out`` in one rename (see the module's docstring). If the block raises, or the
    target was taken meanwhile, nothing is published and the staging folder is deleted; an
    operating-system error (disk full, permissions) becomes an :class:`OutputError`."""
    given = Path(out)
    target = check_target(out, kind, force)
    noun = NOUNS[kind]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        wrapper = _make_marked_folder(target, "partial")
        staging = wrapper / "out"
        staging.mkdir()  # the umask's permissions, like any folder the user makes
    except OSError as error:
        raise OutputError(
            f"{shown(target.parent)}: cannot write here ({error.strerror or error})"
        ) from None
    try:
        yield staging
        fsync_tree(staging)
        _publish(staging, target, given, kind, force)
    except OSError as error:  # disk full, permissions, a busy folder...
        raise OutputError(
            f"{shown(given)}: could not write the {noun} ({error.strerror or error}); "
            "nothing was written there and a folder already there is unchanged"
        ) from None
    finally:
        shutil.rmtree(wrapper, ignore_errors=True)


def _make_marked_folder(target: Path, role: str) -> Path:
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


def _publish(staging: Path, target: Path, given: Path, kind: str, force: bool) -> None:
    trash: Path | None = None
    with _parent_lock(target.parent):
        # Under the lock nothing of censim's changes beside the target: restore a dead
        # writer's old folder first, so a free-looking target is really free.
        stale = _recover_locked(target)
        if os.path.lexists(target) and not _is_empty_folder(target):
            if not force:
                raise OutputError(
                    f"{shown(given)}: already exists (written while this command ran, "
                    "perhaps by another censim); nothing was written there and this "
                    "command's results were not kept: choose another --out or pass --force"
                )
            check_replaceable(target, kind, given)
            trash = _make_marked_folder(target, "old")
            # Killed between these two renames, the old folder waits in trash/old and
            # recover_staging puts it back.
            os.replace(target, trash / "old")
            try:
                os.replace(staging, target)
            except BaseException as error:
                _put_back(trash, target, given, error)
                raise
        else:
            # Onto nothing, or an empty folder (rename replaces an empty folder, and fails
            # on one that is not empty: another writer's folder is never replaced here).
            os.replace(staging, target)
        fsync_path(target.parent)
    for folder in [*stale, *([trash] if trash else [])]:
        shutil.rmtree(folder, ignore_errors=True)


def _put_back(trash: Path, target: Path, given: Path, error: BaseException) -> None:
    """The swap failed: move the old folder back from ``trash`` (then delete ``trash``), or
    say truthfully where it is kept."""
    try:
        os.replace(trash / "old", target)
    except OSError:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise OutputError(
            f"{shown(given)}: could not put the new folder in place ({reason}) nor the old "
            f"one back; the old one is kept at {shown(trash / 'old')}"
        ) from None
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def _parent_lock(parent: Path) -> Iterator[None]:
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


# -- recovery -----------------------------------------------------------------------------


def recover_staging(target: str | os.PathLike[str]) -> list[Path]:
    """Tidy what killed writes of ``target`` left beside it; returns the folders removed.

    Only folders named like a staging or trash folder *and* holding a marker that matches
    the name, names ``target``, and names a process of this host that is gone are touched.
    A trash folder's old folder is put back if ``target`` is missing (the writer died
    between its two renames); otherwise it is deleted. Staging folders are deleted.
    """
    target = _absolute(target)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    if not any(STAGING_NAME.fullmatch(name) for name in names):
        return []
    with _parent_lock(target.parent):
        stale = _recover_locked(target)
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def _recover_locked(target: Path) -> list[Path]:
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
        marker = _read_json(folder / MARKER) if real_folder else None
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


# -- sweep stores -------------------------------------------------------------------------


def check_store_folder(out: str | Path) -> None:
    """Refuse to write a sweep store into ``out`` unless it is free (missing, or a folder
    holding nothing, or only what a sweep killed before writing ``design.json`` leaves) or
    a censim sweep store. ``--force`` does not change this: it only clears a censim store."""
    folder = Path(out)
    if not os.path.lexists(folder):
        return
    if not folder.is_dir():
        raise OutputError(f"{shown(folder)}: exists and is not a folder; choose another --out")
    if folder_kind(folder) == SWEEP:
        return
    try:
        leftovers = _store_leftovers_only(folder)
    except OSError as error:
        raise OutputError(f"{shown(folder)}: cannot be read ({error.strerror})") from None
    if not leftovers:
        raise OutputError(
            f"{shown(folder)}: is not empty and is not a censim sweep store (no design.json "
            "written by censim); choose another --out (--force replaces only a censim store)"
        )


def _store_leftovers_only(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but a lock file, an empty ``runs/`` and temporary
    files: what a sweep leaves when it is killed before it writes design.json."""
    for entry in folder.iterdir():
        if entry.name == ".lock" and entry.is_file():
            continue
        if entry.name == "runs" and _is_empty_folder(entry):
            continue
        if entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file():
            continue
        return False
    return True


# -- figures folders ----------------------------------------------------------------------


def check_figures_folder(folder: str | Path, names: list[str]) -> None:
    """Refuse to write the figure files ``names`` into ``folder`` if one of them would
    replace a file censim did not write: allowed into a missing folder, a figures folder
    censim wrote (its ``figures.json``, or a run folder's ``figures/`` holding only
    figures, as earlier versions left it), or any folder that has none of those names."""
    folder = Path(folder)
    if not os.path.lexists(folder):
        return
    if not folder.is_dir():
        raise OutputError(f"{shown(folder)}: exists and is not a folder; choose another --out")
    if folder_kind(folder) == FIGURES:
        return
    with contextlib.suppress(OSError):
        if (
            folder.name == "figures"
            and folder_kind(folder.parent) == RUN
            and all(_is_figure(entry) for entry in folder.iterdir())
        ):
            return
    taken = [name for name in names if os.path.lexists(folder / name)]
    if taken:
        raise OutputError(
            f"{shown(folder / taken[0])}: exists and censim did not write it (no "
            f"{MANIFESTS[FIGURES]} in the folder); choose another --out"
        )


# -- names and files ----------------------------------------------------------------------


def check_path_component(name: str, what: str) -> str:
    """``name`` if it can be one component of a path censim writes (no separators, not
    empty, no leading dot, no control characters); else an :class:`OutputError`."""
    if (
        not name
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or not name.isprintable()
        or len(name) > 200
    ):
        raise OutputError(
            f"{what} {shown(repr(name))} cannot name a folder: use letters, digits, '_', '-' "
            "and '.' (not first)"
        )
    return name


__all__ = [
    "COMPARISON",
    "FIGURES",
    "FOLDER_KEY",
    "MANIFESTS",
    "RUN",
    "SWEEP",
    "check_figures_folder",
    "check_path_component",
    "check_replaceable",
    "check_store_folder",
    "check_target",
    "folder_kind",
    "printable",
    "recover_staging",
    "shown",
    "staged_folder",
]
