"""Saving figures with fixed metadata (the same run gives the same bytes) and writing
every figure of a run into a figures folder (``censim plot``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from simulator.errors import OutputError
from simulator.files import atomic_write_with
from simulator.output.folder_checks import check_file_target
from simulator.output.folders import (
    FIGURES,
    FOLDER_KEY,
    MANIFESTS,
    check_figures_folder,
    shown,
)
from simulator.output.results import Results
from simulator.plots.runs import funnel, platforms, removal_curve, time_series
from simulator.plots.style import STYLE, as_results, style
from simulator.plots.transparency import transparency

FORMATS = ("png", "svg", "pdf")


# -- all figures of a run ---------------------------------------------------------------

#: Figure name -> function; what :func:`write_all` writes.
RUN_FIGURES: dict[str, Callable[[Results], Figure]] = {
    "funnel": funnel,
    "time_series": time_series,
    "removal_curve": removal_curve,
    "platforms": platforms,
    "transparency": transparency,
}


def save(fig: Figure, path: str | Path, dpi: float | None = None) -> Path:
    """Save ``fig`` (format from the suffix; ``dpi`` default 150) and free its memory.

    Written whole or not at all (a temporary file renamed over ``path``); a symlink at
    ``path`` is refused, not followed (:func:`check_file_target`). Raises
    :class:`OutputError` where the file cannot be written."""
    target = Path(path)
    if not target.suffix:  # as matplotlib does: the default format's suffix added
        target = target.with_name(f"{target.name}.{STYLE.get('savefig.format', 'png')}")
    target = check_file_target(target, new=False)
    fmt = target.suffix.lstrip(".").lower()

    def write(temporary: Path) -> None:
        fig.savefig(temporary, format=fmt, metadata=_metadata(fmt), dpi=dpi or STYLE["savefig.dpi"])

    # savefig reads some rcParams (dpi, bbox, hatch widths) when it renders: keep the style.
    try:
        with style():
            atomic_write_with(target, write)
    except OSError as error:
        raise OutputError(f"{shown(target)}: cannot write ({error.strerror or error})") from None
    finally:
        fig.clear()
    return target


def _metadata(fmt: str) -> dict[str, Any] | None:
    # Fixed metadata so the same run gives the same bytes (no creation date or version).
    if fmt == "svg":
        return {"Date": None, "Creator": None}
    if fmt == "pdf":
        return {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
    if fmt == "png":
        return {"Software": None}
    return None


def write_all(source: Results | str | Path, out_dir: str | Path, fmt: str = "png") -> list[Path]:
    """Write every figure of :data:`RUN_FIGURES` for one run into ``out_dir``.

    Returns the written paths (``funnel.png``, ``time_series.png``...). Raises
    :class:`OutputError` for an unknown format or a folder that cannot be written.
    """
    if fmt not in FORMATS:
        raise OutputError(f"unknown figure format {fmt!r}; allowed: {', '.join(FORMATS)}")
    results = as_results(source)
    target = Path(out_dir)
    names = [f"{name}.{fmt}" for name in RUN_FIGURES]
    # Never replace a file of the user's: only into a new folder, a figures folder censim
    # wrote (figures.json marks it), or a folder without these names.
    check_figures_folder(target, [*names, MANIFESTS[FIGURES]])
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{shown(target)}: cannot create the folder ({error.strerror})") from None
    if not target.is_dir():
        raise OutputError(f"{shown(target)}: exists and is not a folder")
    written = []
    try:
        marker = {FOLDER_KEY: FIGURES, "scenario": results.scenario_name, "seed": results.seed}
        (target / MANIFESTS[FIGURES]).write_text(json.dumps(marker, indent=2) + "\n")
        for name, draw in RUN_FIGURES.items():
            fig = draw(results)
            written.append(save(fig, target / f"{name}.{fmt}"))
    except OSError as error:
        raise OutputError(f"{shown(target)}: cannot write a figure ({error.strerror})") from None
    return written
