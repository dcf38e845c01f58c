"""Results of a paired run: tidy tables, a summary and a manifest, and their files.

A run folder is written atomically: everything goes into a hidden staging folder next to
the target, which is renamed into place only when complete, so a run killed at any moment
leaves either no folder or a whole one (:mod:`simulator.output.folders`).
"""

from __future__ import annotations

import json
import math
import platform as platform_module
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import OutputError
from simulator.files import fsync_path
from simulator.output.folders import FOLDER_KEY, RUN, shown, staged_folder
from simulator.output.folders import recover_staging as recover_staging  # its old home

TABLES = (
    "daily", "counterfactual_daily", "delays", "events", "platform_daily", "population_daily",
    "notices", "removals", "transparency", "phases",
)  # fmt: skip
#: Tables added later: a run folder written before them reads with them empty.
LATER_TABLES = ("notices", "removals", "transparency", "phases")
#: Files whose bytes depend only on scenario and seed (checked by the determinism tests).
DETERMINISTIC_FILES = tuple(f"{name}.csv" for name in TABLES) + ("summary.json",)
#: Tables a run writes only when it has them: ``groups_daily`` with user groups (so a
#: run without groups writes exactly the files it wrote before groups existed).
OPTIONAL_TABLES = ("groups_daily",)


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
    #: Notices by sender, removals by route, the transparency report beside the hidden
    #: part (docs/metrics.md; :mod:`simulator.output.transparency`).
    notices: pd.DataFrame = field(default_factory=pd.DataFrame)
    removals: pd.DataFrame = field(default_factory=pd.DataFrame)
    transparency: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Sensitive decisions by kind, stance and boldness quintile and phase (B2;
    #: docs/metrics.md "Phases"; :mod:`simulator.output.phases`).
    phases: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: One row per day and group (docs/metrics.md "Groups"); none without user groups.
    groups_daily: pd.DataFrame | None = None

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
        """Write the run folder atomically (:func:`simulator.output.folders.staged_folder`).

        Refuses an existing folder unless ``force``; with ``force`` replaces only a run
        folder censim wrote (never a folder of the user's). Returns ``out_dir``.
        """
        with staged_folder(out_dir, RUN, force) as staging:
            self.write_files(staging)
        return Path(out_dir)

    def write_files(self, folder: Path) -> None:
        """Write the run's files into the existing, empty ``folder`` as they are (no
        staging: for a folder that is itself being staged, as compare's replicas are)."""
        for name in TABLES:
            write_csv(self.tagged(name), folder / f"{name}.csv")
        for name in OPTIONAL_TABLES:
            if getattr(self, name) is not None:
                write_csv(self.tagged(name), folder / f"{name}.csv")
        _write_json(self.summary, folder / "summary.json")
        _write_json(self.scenario, folder / "scenario.json")
        # The folder's mark: --force replaces only folders censim wrote (output.folders).
        _write_json({FOLDER_KEY: RUN, **self.manifest}, folder / "manifest.json")

    @classmethod
    def read(cls, folder: str | Path) -> Results:
        """Load a run folder written by :meth:`write`."""
        path = Path(folder)
        if not (path / "summary.json").is_file():
            raise OutputError(f"{shown(path)}: not a censim run folder (no summary.json)")
        summary = json.loads((path / "summary.json").read_text())
        manifest = json.loads((path / "manifest.json").read_text())
        scenario = (
            json.loads((path / "scenario.json").read_text())
            if (path / "scenario.json").exists()
            else {}
        )
        tables = {}
        for name in TABLES:
            if name in LATER_TABLES and not (path / f"{name}.csv").exists():
                tables[name] = pd.DataFrame()
                continue
            frame = pd.read_csv(path / f"{name}.csv", keep_default_na=False, na_values=[""])
            tables[name] = frame.drop(columns=["scenario", "seed", "replication"], errors="ignore")
        for name in OPTIONAL_TABLES:
            if (path / f"{name}.csv").exists():
                frame = pd.read_csv(path / f"{name}.csv", keep_default_na=False, na_values=[""])
                tables[name] = frame.drop(
                    columns=["scenario", "seed", "replication"], errors="ignore"
                )
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
    fsync_path(path)


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
    fsync_path(path)


def environment_info() -> dict[str, str]:
    import simpy

    from simulator.version import __version__

    return {
        "version": __version__,
        "python": platform_module.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "pandas": pd.__version__,
    }
