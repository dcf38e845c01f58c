"""Folders censim writes, and the rules that keep safe what it did not write.

This module publishes folders (:func:`check_target`, :func:`staged_folder`) and gives
the public names of the two it builds on, so ``simulator.output.folders`` is the one
place to import them from:

- :mod:`simulator.output.folder_checks`: which folders censim wrote (each says so in its
  manifest, ``"censim_folder": KIND``) and whether it may write over one. ``--force``
  only ever replaces a folder of the kind being written that censim wrote and that holds
  nothing censim does not write there; any other folder is refused (exit code 3), and so
  are the current folder, the folders above it, the home folder and the root. The sweep
  store is written in place (it resumes): :func:`check_store_folder` refuses any
  non-empty folder that is not a censim sweep store, with or without ``--force``.
  Messages show paths through :func:`shown`, which escapes terminal control characters.
- :mod:`simulator.output.staging`: the staging and trash folders beside a target (named
  ``.censim-partial-PID-TOKEN`` and ``.censim-old-PID-TOKEN``, each with a marker file),
  the lock on the parent folder, and :func:`recover_staging`, which tidies what killed
  writes left and touches nothing else.

Run folders and comparisons are *published*: written into a staging folder beside the
target, then renamed into place under a lock on the parent folder, which re-checks the
target at that moment (a run that started when the target was free may find it taken by
another one: it then fails, it never replaces it). With ``--force`` the old folder is first
renamed aside into a trash folder, and deleted only after the new one is in place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from simulator.errors import OutputError
from simulator.files import fsync_path, fsync_tree
from simulator.output.folder_checks import (
    COMPARISON,
    COMPARISON_FILES,
    FIGURE_SUFFIXES,
    FIGURES,
    FOLDER_KEY,
    MANIFESTS,
    NOUNS,
    RUN,
    RUN_FILES,
    SWEEP,
    check_figures_folder,
    check_name_lengths,
    check_not_inside,
    check_path_component,
    check_replaceable,
    check_store_folder,
    folder_kind,
    is_empty_folder,
    printable,
    shown,
    special_folder,
)
from simulator.output.staging import (
    MARKER,
    STAGING_NAME,
    absolute_target,
    make_marked_folder,
    parent_lock,
    recover_locked,
    recover_staging,
)


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
    check_name_lengths(Path(out), kind)
    target = absolute_target(out)
    check_not_inside(target, kind, Path(out))
    recover_staging(target)
    _check_free_or_replaceable(target, Path(out), kind, force)
    return target


def _check_free_or_replaceable(target: Path, given: Path, kind: str, force: bool) -> None:
    if not os.path.lexists(target) or is_empty_folder(target):
        special = special_folder(target) if os.path.lexists(target) else None
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
        wrapper = make_marked_folder(target, "partial")
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


def _publish(staging: Path, target: Path, given: Path, kind: str, force: bool) -> None:
    trash: Path | None = None
    with parent_lock(target.parent):
        # Under the lock nothing of censim's changes beside the target: restore a dead
        # writer's old folder first, so a free-looking target is really free.
        stale = recover_locked(target)
        if os.path.lexists(target) and not is_empty_folder(target):
            if not force:
                raise OutputError(
                    f"{shown(given)}: already exists (written while this command ran, "
                    "perhaps by another censim); nothing was written there and this "
                    "command's results were not kept: choose another --out or pass --force"
                )
            check_replaceable(target, kind, given)
            trash = make_marked_folder(target, "old")
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


__all__ = [
    "COMPARISON",
    "COMPARISON_FILES",
    "FIGURES",
    "FIGURE_SUFFIXES",
    "FOLDER_KEY",
    "MANIFESTS",
    "MARKER",
    "NOUNS",
    "RUN",
    "RUN_FILES",
    "STAGING_NAME",
    "SWEEP",
    "check_figures_folder",
    "check_name_lengths",
    "check_not_inside",
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
