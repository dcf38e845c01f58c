"""Results of a paired run: tidy tables, a summary and a manifest, and their files.

A run folder is written atomically: everything goes into a hidden temporary folder next
to the target, which is renamed into place only when complete, so a run killed at any
moment leaves either no folder or a whole one.
"""

from __future__ import annotations

import glob
import json
import math
import os
import platform as platform_module
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import OutputError

TABLES = ("daily", "counterfactual_daily", "delays", "events", "platform_daily", "population_daily")
#: Files whose bytes depend only on scenario and seed (checked by the determinism tests).
DETERMINISTIC_FILES = tuple(f"{name}.csv" for name in TABLES) + ("summary.json",)


@dataclass
class Results:
    """What :func:`simulator.run` returns. Tables are pandas DataFrames (docs/metrics.md)."""

    scenario_name: str
    seed: int
    replication: int
    summary: dict[str, Any]
    manifest: dict[str, Any]
    daily: pd.DataFrame
    counterfactual_daily: pd.DataFrame
    delays: pd.DataFrame
    events: pd.DataFrame
    platform_daily: pd.DataFrame
    population_daily: pd.DataFrame
    scenario: dict[str, Any] = field(default_factory=dict)

    @property
    def speech_loss(self) -> float:
        return float(self.summary["speech_loss"])

    @property
    def chilling_effect(self) -> float:
        return float(self.summary["chilling_effect"])

    @property
    def collateral_share(self) -> float:
        return float(self.summary["collateral_share"])

    def __repr__(self) -> str:
        """A short summary: what ran, the headline numbers and the tables' sizes (the
        default would print every table and the whole scenario)."""
        summary = self.summary
        currency = summary.get("currency") or self.scenario.get("currency", "")

        def number(key: str, spec: str, unit: str = "") -> str:
            value = summary.get(key)
            return f"{key} n/a" if value is None else f"{key} {value:{spec}}{unit}"

        users, days = summary.get("users"), summary.get("horizon_days")
        headline = ", ".join(
            [number(key, ".4g") for key in ("speech_loss", "chilling_effect", "collateral_share")]
            + [number("fines_total", ",.0f", f" {currency}" if currency else "")]
        )
        tables = ", ".join(f"{name} ({len(self.table(name)):,} rows)" for name in TABLES)
        return (
            f"Results(scenario={self.scenario_name!r}, seed={self.seed}, "
            f"replication={self.replication}, "
            f"users={users if users is None else format(users, ',')}, days={days})\n"
            f"  {headline}\n"
            f"  tables: {tables}"
        )

    def table(self, name: str) -> pd.DataFrame:
        frame: pd.DataFrame = getattr(self, name)
        return frame

    def tagged(self, name: str) -> pd.DataFrame:
        """A table with ``scenario``, ``seed`` and ``replication`` columns in front."""
        frame = self.table(name).copy()
        frame.insert(0, "replication", self.replication)
        frame.insert(0, "seed", self.seed)
        frame.insert(0, "scenario", self.scenario_name)
        return frame

    # -- files ------------------------------------------------------------------------
    def write(self, out_dir: str | Path, force: bool = False) -> Path:
        """Write the run folder (atomically). Refuses an existing folder unless ``force``."""
        target = Path(out_dir)
        if target.name in ("", ".", ".."):
            # ".", "/" or "..": replacing the folder one stands in is never what was meant.
            raise OutputError(f"{out_dir}: give the run folder a name, e.g. runs/my-run")
        recover_staging(target)
        if target.exists() and not force:
            raise OutputError(f"{target}: already exists; choose another --out or pass --force")
        if target.exists() and not target.is_dir():
            raise OutputError(f"{target}: exists and is not a folder")
        parent = target.parent if str(target.parent) else Path(".")
        try:
            parent.mkdir(parents=True, exist_ok=True)
            # The pid in the name lets a later run tell a dead run's leftovers from a
            # live run's work in progress (recover_staging).
            staging = Path(
                tempfile.mkdtemp(
                    prefix=f".{target.name}.{os.getpid()}.", suffix=".partial", dir=parent
                )
            )
            # mkdtemp makes the folder private (0700); a run folder is an ordinary one.
            staging.chmod(0o777 & ~_umask())
        except OSError as error:
            raise OutputError(f"{parent}: cannot write here ({error.strerror})") from None
        trash: Path | None = None
        try:
            for name in TABLES:
                write_csv(self.tagged(name), staging / f"{name}.csv")
            _write_json(self.summary, staging / "summary.json")
            _write_json(self.scenario, staging / "scenario.json")
            _write_json(self.manifest, staging / "manifest.json")
            _fsync(staging)
            if target.exists():
                trash = Path(
                    tempfile.mkdtemp(
                        prefix=f".{target.name}.{os.getpid()}.", suffix=".old", dir=parent
                    )
                )
                # Killed between these two renames, the old folder waits in trash/old;
                # recover_staging puts it back on the next write to the same target.
                os.replace(target, trash / "old")
                try:
                    os.replace(staging, target)
                except BaseException:
                    os.replace(trash / "old", target)  # put the old folder back
                    raise
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(staging, target)
            _fsync(parent)
        except BaseException as error:
            shutil.rmtree(staging, ignore_errors=True)
            if trash is not None and not (trash / "old").exists():
                shutil.rmtree(trash, ignore_errors=True)
            if isinstance(error, OSError):  # disk full, permissions, a busy folder...
                reason = error.strerror or str(error)
                raise OutputError(
                    f"{target}: could not write the run folder ({reason}); "
                    "a folder already there is unchanged"
                ) from None
            raise
        return target

    @classmethod
    def read(cls, folder: str | Path) -> Results:
        """Load a run folder written by :meth:`write`."""
        path = Path(folder)
        if not (path / "summary.json").is_file():
            raise OutputError(f"{path}: not a censim run folder (no summary.json)")
        summary = json.loads((path / "summary.json").read_text())
        manifest = json.loads((path / "manifest.json").read_text())
        scenario = (
            json.loads((path / "scenario.json").read_text())
            if (path / "scenario.json").exists()
            else {}
        )
        tables = {}
        for name in TABLES:
            frame = pd.read_csv(path / f"{name}.csv", keep_default_na=False, na_values=[""])
            tables[name] = frame.drop(columns=["scenario", "seed", "replication"], errors="ignore")
        return cls(
            scenario_name=summary["scenario"],
            seed=int(summary["seed"]),
            replication=int(manifest.get("replication", 0)),
            summary=summary,
            manifest=manifest,
            scenario=scenario,
            **tables,
        )


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format and line ending, so equal data gives equal bytes."""
    frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    _fsync(path)


def _staging_pid(name: str, target_name: str) -> int | None:
    """The pid in a staging or trash folder's name (``.NAME.PID.xxxx.partial``), if any."""
    rest = name[len(target_name) + 2 :]
    pid, _, _ = rest.partition(".")
    return int(pid) if pid.isdigit() else None


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


def recover_staging(target: str | Path) -> list[Path]:
    """Tidy what killed writes of ``target`` left behind; returns the folders removed.

    ``.NAME.PID.*.partial`` folders of processes that are gone were never complete and
    are deleted. ``.NAME.PID.*.old`` folders hold a run folder that ``--force`` was
    replacing: if ``target`` is missing (the writer died between its two renames) the
    old folder is put back, so a result once written is never lost; otherwise the swap
    happened and they are deleted. Folders of live processes (another write in progress)
    and names without a pid are left alone.
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        siblings = sorted(parent.glob(f".{glob.escape(target.name)}.*"))
    except OSError:
        return []
    removed = []
    for folder in siblings:
        pid = _staging_pid(folder.name, target.name)
        if pid is None or _alive(pid) or not folder.is_dir():
            continue
        if folder.name.endswith(".old") and (folder / "old").is_dir() and not target.exists():
            try:
                os.replace(folder / "old", target)
            except OSError:
                continue
        if folder.name.endswith((".partial", ".old")):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Flush a written file or folder entry to disk, so a renamed folder never holds empty
    files after a crash of the machine (a killed process needs no fsync: the kernel has
    the data)."""
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


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        return None if not math.isfinite(value) else round(value, 12)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _write_json(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(_clean(data), indent=2, sort_keys=False) + "\n")
    _fsync(path)


def environment_info() -> dict[str, str]:
    import simpy

    from simulator import __version__

    return {
        "version": __version__,
        "python": platform_module.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "pandas": pd.__version__,
    }
