"""Which folders censim wrote, and whether it may write over them (the rules behind
:mod:`simulator.output.folders`; docs/reliability.md, "Folders censim did not write").

Every folder censim writes says so in its manifest: ``manifest.json`` of a run folder,
``design.json`` of a sweep store (and of a sensitivity analysis, which is one),
``comparison.json`` of a comparison, ``figures.json`` of a figures folder, each with
``"censim_folder": KIND`` (:func:`folder_kind`). ``--force`` only ever replaces a folder
of the kind being written that censim wrote and that holds nothing censim does not write
there (:func:`check_replaceable`); any other folder is refused (exit code 3), and so are
the current folder, the folders above it, the home folder and the root. A sweep store is
written in place (:func:`check_store_folder`), figures into a folder that holds none of
their names or is censim's (:func:`check_figures_folder`).

Messages show paths through :func:`shown`, which escapes terminal control characters.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from simulator.errors import OutputError
from simulator.files import UnreadableFile, read_regular_file

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
                "notices",
                "removals",
                "transparency",
                "phases",
                "groups_daily",  # only a run with user groups writes it
            )
        ),
        "summary.json",
        "scenario.json",
        "manifest.json",
    ]
)
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
COMPARISON_FILES = frozenset(
    [
        "comparison.csv",
        "comparison.json",
        *(f"{figure}{s}" for figure in ("comparison", "mechanisms") for s in FIGURE_SUFFIXES),
    ]
)
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


#: Largest manifest read to tell a folder's kind (bytes; a sweep's design.json of many
#: points is the largest censim writes). A larger file is not one of censim's: the
#: folder is treated as the user's, which refuses rather than replaces (and an ancestor
#: of an --out holding a huge file of a manifest's name is not read whole).
MAX_MANIFEST_BYTES = 256_000_000


def read_json(path: Path) -> Any:
    """The JSON in a regular file (not a symlink) of at most MAX_MANIFEST_BYTES, or None."""
    try:
        if path.is_symlink():
            return None
        data = read_regular_file(path, MAX_MANIFEST_BYTES, follow_symlinks=False)
        return json.loads(data.decode("utf-8"))
    except (UnreadableFile, OSError, ValueError):
        return None


def folder_kind(folder: str | Path) -> str | None:
    """The kind of censim folder ``folder`` is (``run``, ``sweep``, ``comparison``), read
    from its manifest; None for a folder censim did not write. Folders of earlier versions,
    whose manifests had no ``censim_folder`` key, are recognised by their manifest's keys."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return None
    for kind, manifest_name in MANIFESTS.items():
        data = read_json(folder / manifest_name)
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
                inner = [f for f in sorted(entry.iterdir()) if not is_figure(f)]
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


def is_figure(path: Path) -> bool:
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


def special_folder(target: Path) -> str | None:
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


def is_empty_folder(path: Path) -> bool:
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
    special = special_folder(target)
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


def check_not_inside(target: str | Path, kind: str, given: str | Path | None = None) -> None:
    """Refuse to write a folder of ``kind`` inside a run folder, sweep store or comparison
    censim wrote (``run --out r1/sub``): the folder would be something censim does not
    write there, so ``--force`` could no longer replace the one holding it (and a store's
    clearing would leave it behind). A run's ``figures/`` are written by ``censim plot``
    through :func:`check_figures_folder`, not here. Messages name ``given``."""
    name = shown(target if given is None else given)
    try:
        ancestors = Path(os.path.abspath(target)).parents
    except (OSError, ValueError):
        return
    for folder in ancestors:
        try:
            found = folder_kind(folder)
        except (OSError, ValueError):
            continue
        if found in (RUN, SWEEP, COMPARISON):
            with contextlib.suppress(OSError, ValueError):
                folder = folder.relative_to(Path.cwd())  # as the user would write it
            raise OutputError(
                f"{name}: is inside {shown(folder)}, a {NOUNS[found]} censim wrote; a "
                f"{NOUNS[kind]} inside it would be something censim does not write there, "
                f"so --force could no longer replace it: choose another --out"
            )


#: The deepest files a folder of each kind holds, below it (a comparison's at least: its
#: runs' folders are named by their scenarios).
DEEPEST = {
    RUN: sorted(RUN_FILES),
    COMPARISON: [*sorted(COMPARISON_FILES), "runs/x/rep000/counterfactual_daily.csv"],
    SWEEP: ["runs/p0000-r000.json", "attribution_long.csv"],
}
#: What a temporary file's name adds to the name of the file it becomes
#: (:func:`simulator.files.atomic_write_with`: ``.NAME.XXXXXXXX.tmp``), at most.
_TEMPORARY_EXTRA = 16
#: A staging folder and its inner folder (:mod:`simulator.output.staging`:
#: ``.censim-partial-PID-TOKEN/out``), at most.
_STAGING_LENGTH = len(".censim-partial-") + 10 + 1 + 32 + len("/out")


def check_name_lengths(target: str | Path, kind: str, given: str | Path | None = None) -> None:
    """Refuse, before any work, an output whose names the file system cannot hold: a
    name in ``target`` longer than the folder allows, or a file censim writes under it
    (in its staging folder first, for folders published whole) whose path would be
    longer than the system allows. Such an ``--out`` used to fail after the whole run."""
    absolute = Path(os.path.abspath(target))
    name = shown(_abbreviated(str(target if given is None else given)))
    existing = next((p for p in [absolute, *absolute.parents] if _is_dir(p)), Path("/"))
    name_max = _pathconf(existing, "PC_NAME_MAX", 255)
    path_max = _pathconf(existing, "PC_PATH_MAX", 4096)
    for part in absolute.parts[1:]:
        size = len(os.fsencode(part))
        if size > name_max:
            which = (
                "is a name" if part == str(target) else f"has a name ({shown(_abbreviated(part))})"
            )
            raise OutputError(
                f"{name}: {which} {size:,} bytes long; this file system allows names of at "
                f"most {name_max:,} bytes: choose a shorter --out"
            )
    deepest = max(len(os.fsencode(leaf)) for leaf in DEEPEST[kind]) + _TEMPORARY_EXTRA
    longest = len(os.fsencode(str(absolute))) + 1 + deepest
    if kind != SWEEP:  # written in a staging folder beside the target, then renamed
        staged = len(os.fsencode(str(absolute.parent))) + 1 + _STAGING_LENGTH + 1 + deepest
        longest = max(longest, staged)
    if longest >= path_max:
        raise OutputError(
            f"{name}: the files censim writes under it would have paths of up to "
            f"{longest:,} bytes; this file system allows {path_max - 1:,}: choose a "
            "shorter --out"
        )


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False


def _pathconf(folder: Path, name: str, default: int) -> int:
    try:
        value = os.pathconf(folder, name)
    except (OSError, ValueError, AttributeError):  # not POSIX, or no such limit
        return default
    return value if value > 0 else default


def _abbreviated(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 4 :]}"


# -- sweep stores -------------------------------------------------------------------------


def check_store_folder(out: str | Path) -> None:
    """Refuse to write a sweep store into ``out`` unless it is free (missing, or a folder
    holding nothing, or only what a sweep killed before writing ``design.json`` leaves) or
    a censim sweep store. ``--force`` does not change this: it only clears a censim store."""
    folder = Path(out)
    check_name_lengths(folder, SWEEP)
    check_not_inside(folder, SWEEP)
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
        if entry.name == "runs" and is_empty_folder(entry):
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
            and all(is_figure(entry) for entry in folder.iterdir())
        ):
            return
    taken = [name for name in names if os.path.lexists(folder / name)]
    if taken:
        raise OutputError(
            f"{shown(folder / taken[0])}: exists and censim did not write it (no "
            f"{MANIFESTS[FIGURES]} in the folder); choose another --out"
        )


def check_file_target(path: str | Path, *, new: bool, option: str = "") -> Path:
    """Refuse to write the file ``path`` where writing would lose something censim did
    not write: a symlink there (followed, its target would be overwritten; replaced, the
    link would be lost), anything already there when ``new`` (a file the user names on
    the command line), something there that is not a regular file, or a parent that is
    a file. (A missing parent is the caller's to make.) ``option`` names the
    command-line option in the message.
    Returns ``path`` as a :class:`~pathlib.Path`."""
    path = Path(path)
    label = f"{option} {shown(path)}" if option else shown(path)
    if path.is_symlink():
        raise OutputError(
            f"{label}: is a symlink; censim neither writes through one nor replaces it"
        )
    if os.path.lexists(path):
        if new:
            raise OutputError(
                f"{label}: exists; censim does not overwrite a file; choose another name"
            )
        if not path.is_file():
            raise OutputError(f"{label}: exists and is not a regular file")
    parent = path.parent
    if os.path.lexists(parent) and not parent.is_dir():
        raise OutputError(f"{label}: {shown(parent)} is a file, not a folder")
    return path


# -- names --------------------------------------------------------------------------------


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
