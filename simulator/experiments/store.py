"""The resumable results store of a sweep: ``OUT/design.json`` and one record per finished
(point, replication), ``OUT/runs/pPPPP-rRRR.json``, written atomically as it completes,
so an interrupted sweep rerun with the same arguments picks up where it stopped.
Records carry a checksum; a damaged or foreign record is named, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from simulator.errors import OutputError, warn
from simulator.experiments.designs import Design
from simulator.experiments.executors import Model
from simulator.files import (
    UnreadableFile,
    atomic_write_bytes,
    atomic_write_with,
    kind_of_file,
    read_regular_file,
)
from simulator.output.folders import FOLDER_KEY, SWEEP, check_store_folder, shown
from simulator.output.results import write_csv

STORE_FORMAT = "censim-sweep/1"
#: Environment variable naming a Dask scheduler (same as ``--scheduler``).


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def design_hash(model: Model, design: Design, seed: int) -> str:
    """What identifies the runs of a store: model, points and base seed (not ``reps``:
    replication seeds come from ``SeedSequence(seed).spawn``, whose first children do not
    depend on how many are drawn, so a rerun with more ``reps`` extends the store)."""
    identity = {
        "format": STORE_FORMAT,
        "model": model.identity(),
        "fields": list(design.fields),
        "points": list(design.points),
        "seed": seed,
    }
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (:func:`simulator.files.atomic_write_bytes`:
    a temporary file in the same folder, flushed, renamed into place). An operating-system
    error (disk full, a read-only folder) becomes an :class:`OutputError` naming the file."""
    _explained(path, lambda: atomic_write_bytes(path, text.encode("utf-8")))


#: :func:`_atomic_write` for the modules beside the store (frontier.csv, phases.csv).
atomic_text = _atomic_write


def atomic_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (:func:`simulator.output.results.write_csv`), written as
    :func:`_atomic_write` writes."""
    _explained(path, lambda: atomic_write_with(path, lambda temporary: write_csv(frame, temporary)))


def _explained(path: Path, write: Callable[[], None]) -> None:
    try:
        write()
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(
            f"{shown(path)}: could not write it ({reason}); nothing was half-written"
        ) from None


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def run_file_name(point: int, replication: int) -> str:
    return f"p{point:04d}-r{replication:03d}.json"


#: Names of the run records :func:`run_file_name` gives.
RUN_FILE = re.compile(r"p[0-9]{4,}-r[0-9]{3,}\.json")
#: Files a sweep (or a sensitivity analysis) writes at the top of its store.
STORE_FILES = (
    "summary.csv", "long.csv", "indices.csv", "indices.png", "design.json",
    "attribution.csv", "attribution_long.csv", "waterfall.png",
)  # fmt: skip
#: Results of the store's design that the commands built on a sweep write beside its
#: tables (``censim sweep``, ``frontier``, ``phases``). Each is recorded in design.json's
#: ``outputs`` before it is written (:func:`record_outputs`), and deleted with the design
#: when ``--force`` clears the store: results of the old design must not look current.
DESIGN_OUTPUTS = frozenset(
    ["sweep.png", "frontier.csv", "frontier.png", "phases.csv", "phases.png"]
)
#: Largest design.json read back to record an output (bytes; sweeps.py reads the same).
MAX_DESIGN_BYTES = 256_000_000
#: design.json's key listing the :data:`DESIGN_OUTPUTS` written for its design.
OUTPUTS_KEY = "outputs"


def lock_store(out: Path) -> IO[str] | None:
    """Hold the store's ``.lock`` (an exclusive ``flock``) until the handle returned is
    closed; refuse (:class:`OutputError`) if another censim command holds it. None where
    the system has no ``flock``."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    try:
        handle = open(out / ".lock", "a+")  # noqa: SIM115 - held until closed
    except OSError as error:
        raise OutputError(f"{shown(out)}: cannot write here ({error.strerror or error})") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise OutputError(
            f"{shown(out)}: another censim command (a sweep, frontier or phases) is writing "
            "here; wait for it to finish, or use another --out"
        ) from None
    return handle


@contextlib.contextmanager
def writing_outputs(
    out: str | Path, names: Sequence[str], design: Mapping[str, Any]
) -> Iterator[None]:
    """Write design outputs ``names`` (of :data:`DESIGN_OUTPUTS`) of the store ``out``
    inside this block: under the store's lock (:func:`lock_store`), held until the block
    ends, so no sweep, frontier or phases command can ``--force`` the store meanwhile;
    refused (:class:`OutputError`, nothing written) if the store's design.json no longer
    holds ``design`` (the manifest the results were made with: its ``design_hash`` and
    ``reps``);
    ``names`` added to the ``outputs`` design.json records before the block runs, so
    that ``--force`` by another design deletes them (:meth:`Store._clear`), and only them."""
    unknown = sorted(set(names) - DESIGN_OUTPUTS)
    if unknown:
        raise ValueError(f"not a design output of a store: {', '.join(unknown)}")
    lock = lock_store(Path(out))
    try:
        _record_outputs(Path(out), names, design.get("design_hash"), design.get("reps"))
        yield
    finally:
        if lock is not None:
            lock.close()


def _record_outputs(
    out: Path, names: Sequence[str], expected_hash: Any, expected_reps: Any
) -> None:
    design_file = out / "design.json"
    try:
        manifest = json.loads(read_regular_file(design_file, MAX_DESIGN_BYTES).decode("utf-8"))
    except (UnreadableFile, OSError, ValueError) as error:
        raise OutputError(f"{shown(design_file)}: cannot be read back ({error})") from None
    if not isinstance(manifest, dict):
        raise OutputError(f"{shown(design_file)}: is not a JSON object")
    if manifest.get("design_hash") != expected_hash:
        written = ", ".join(names)
        raise OutputError(
            f"{shown(out)}: now holds another design's results (a command with --force "
            f"replaced them while this one ran); {written} not written"
        )
    if manifest.get("reps") != expected_reps:
        # The design hash leaves reps out (a rerun with more extends the store): an
        # output drawn from the results read before such a rerun would be of fewer.
        raise OutputError(
            f"{shown(out)}: its results were extended to {manifest.get('reps')} replications "
            f"(another command with the same design ran meanwhile); {', '.join(names)} not "
            "written: run this command again"
        )
    listed = _listed_outputs(manifest) or []
    merged = sorted({*listed, *names})
    if merged != listed:
        manifest[OUTPUTS_KEY] = merged
        _atomic_write(design_file, json.dumps(manifest, indent=2, allow_nan=False) + "\n")


def _listed_outputs(manifest: Mapping[str, Any]) -> list[str] | None:
    """The design outputs a design.json records (only names of :data:`DESIGN_OUTPUTS`: a
    hand-edited list cannot name a file of the user's), or None if it has no record."""
    listed = manifest.get(OUTPUTS_KEY)
    if not isinstance(listed, list):
        return None
    return sorted({name for name in listed if isinstance(name, str) and name in DESIGN_OUTPUTS})


def _old_design_outputs(manifest: Mapping[str, Any]) -> list[str]:
    """The design outputs censim wrote for a store's design: those its design.json
    records; for a store written before the record (2026-12-04), those the command its
    design.json names writes (``frontier``, ``phases``; ``censim sweep`` its figure, for
    a design that varies a field)."""
    listed = _listed_outputs(manifest)
    if listed is not None:
        return listed
    if "frontier" in manifest:
        return ["frontier.csv", "frontier.png"]
    if "phases" in manifest:
        return ["phases.csv", "phases.png"]
    design = manifest.get("design")
    kind = design.get("kind") if isinstance(design, dict) else None
    if "attribution" in manifest or not isinstance(kind, str) or kind.startswith("sensitivity"):
        return []
    # `censim sweep` drew its figure only for a design that varies a field (a list of
    # whole points without fields has no axis): a sweep.png beside any other is not ours.
    fields = design.get("fields") if isinstance(design, dict) else None
    return ["sweep.png"] if isinstance(fields, list) and fields else []


class Store:
    """A sweep's folder: ``design.json``, ``runs/*.json``, ``summary.csv``, ``long.csv``."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.runs = self.out / "runs"
        self._lock: Any = None

    def open(self, manifest: dict[str, Any], force: bool) -> None:
        """Create the store, or reopen one made by the same design; lock it.

        Only a free folder (missing or empty) or a censim sweep store is used: a folder of
        the user's is refused with or without ``force`` (``output_folders``); ``force``
        clears a censim store of another design, deleting only the files censim writes.
        """
        check_store_folder(self.out)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"{shown(self.out)}: cannot write here ({error.strerror})") from None
        self._acquire_lock()
        check_store_folder(self.out)  # again, now that no other sweep can write here
        design_file = self.out / "design.json"
        outputs: list[str] = []  # the design outputs written for this design so far
        if design_file.exists():
            try:
                existing = json.loads(design_file.read_text())
                existing_hash = existing.get("design_hash")
            except (OSError, ValueError, AttributeError):
                existing, existing_hash = {}, None
            if existing_hash != manifest["design_hash"]:
                if not force:
                    raise OutputError(
                        f"{shown(self.out)}: holds results of a different sweep (another "
                        "scenario, design or seed); choose another --out, or pass --force "
                        "to delete them"
                    )
                self._clear(_old_design_outputs(existing))
            else:
                outputs = _listed_outputs(existing) or []
        # Leftovers of writes cut short by a kill: never complete results, safe to drop.
        for temp in itertools.chain(self.runs.glob(".*.tmp"), self.out.glob(".*.tmp")):
            with contextlib.suppress(OSError):
                temp.unlink()
        # design.json first: it marks the folder as a censim store before any run is in it.
        _atomic_write(
            design_file,
            json.dumps(
                {FOLDER_KEY: SWEEP, **manifest, **({OUTPUTS_KEY: outputs} if outputs else {})},
                indent=2,
                allow_nan=False,
            )
            + "\n",
        )
        try:
            self.runs.mkdir(exist_ok=True)
        except OSError as error:
            raise OutputError(f"{shown(self.out)}: cannot write here ({error.strerror})") from None

    def _acquire_lock(self) -> None:
        self._lock = lock_store(self.out)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _clear(self, design_outputs: Sequence[str] = ()) -> None:
        """Delete what censim wrote in the store (run records by their names, the tables,
        a sensitivity analysis's indices, the old design's ``design_outputs``,
        design.json); anything else stays."""
        if self.runs.is_dir():
            for path in self.runs.iterdir():
                if RUN_FILE.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                    path.unlink()
        for name in [*design_outputs, *STORE_FILES]:
            path = self.out / name
            if path.is_file() and not path.is_symlink():
                path.unlink()

    def done(
        self, points: Sequence[Mapping[str, Any]], seeds: Sequence[int]
    ) -> dict[tuple[int, int], dict[str, Any]]:
        """Runs already in the store and intact, keyed by (point, replication).

        A record that cannot be trusted (unreadable, not JSON, its checksum not matching
        its content, another run's, no metrics...) is named in a warning and left out,
        so it runs again and its file is replaced. Something censim never writes where a
        record belongs (a folder, a FIFO, a symlink, a device) is an :class:`OutputError`,
        raised before anything runs: it is not replaced. Records without a checksum
        (written before checksums, or stripped) are accepted with one warning."""
        found: dict[tuple[int, int], dict[str, Any]] = {}
        unchecked = 0
        for point, values in enumerate(points):
            for replication, seed in enumerate(seeds):
                path = self.runs / run_file_name(point, replication)
                try:
                    mode = os.lstat(path).st_mode
                except FileNotFoundError:
                    continue
                except OSError as error:
                    warn(f"{path}: cannot be read ({error.strerror}); running it again")
                    continue
                if not stat.S_ISREG(mode):
                    raise OutputError(
                        f"{path}: is {kind_of_file(mode)} where a run record belongs; censim "
                        "did not write it and will not replace it: move it away and rerun"
                    )
                record, problem = read_record(path, point, replication, seed, values)
                if record is None:
                    warn(f"{path}: {problem}; running it again")
                    continue
                unchecked += RECORD_CHECKSUM not in record
                found[(point, replication)] = record
        if unchecked:
            warn(
                f"{self.runs}: {unchecked} run record{'s have' if unchecked > 1 else ' has'} "
                "no checksum (written by an older censim?): accepted unchecked; delete "
                "them to run them again"
            )
        return found

    def write_run(self, record: dict[str, Any]) -> None:
        """Write a run's record (with its checksum) whole or not at all."""
        path = self.runs / run_file_name(record["point"], record["replication"])
        _atomic_write(path, json.dumps(with_checksum(record), indent=1, allow_nan=False) + "\n")


#: The key of a run record's checksum: the sha256 of the canonical JSON of the rest.
RECORD_CHECKSUM = "sha256"
#: Largest run record read back (bytes); a record of a scenario run is about 3 kB.
MAX_RECORD_BYTES = 1_000_000


def record_checksum(record: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of ``record`` without its
    checksum; ``ValueError`` if it holds NaN or an infinity (censim writes those as null)."""
    content = {k: v for k, v in record.items() if k != RECORD_CHECKSUM}
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def with_checksum(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with its checksum as the last key."""
    content = {k: v for k, v in record.items() if k != RECORD_CHECKSUM}
    return {**content, RECORD_CHECKSUM: record_checksum(content)}


def read_record(
    path: Path, point: int, replication: int, seed: int, values: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, str]:
    """The run record at ``path`` if it is intact and is the record of this point,
    replication, seed and values: ``(record, "")``; else ``(None, what is wrong)``."""
    try:
        raw = read_regular_file(path, MAX_RECORD_BYTES, follow_symlinks=False)
    except UnreadableFile as error:
        return None, error.reason
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "is not valid JSON (cut short or damaged)"
    if not isinstance(record, dict):
        return None, f"is a JSON {type(record).__name__}, not a run record (a JSON object)"
    if RECORD_CHECKSUM in record:
        try:
            intact = record[RECORD_CHECKSUM] == record_checksum(record)
        except ValueError:
            return None, "holds NaN or an infinity (censim writes null): edited"
        if not intact:
            return None, "its checksum does not match its content (edited or damaged)"
    expected = {"point": point, "replication": replication, "seed": seed}
    for key, wanted in expected.items():
        if record.get(key) != wanted or isinstance(record.get(key), bool):
            return None, f"has {key} {record.get(key)!r}, not {wanted!r}: another run's record"
    if _canonical_or_none(record.get("values")) != _canonical_or_none(dict(values)):
        return None, "its values differ from the design's point"
    metrics = record.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return None, "has no metrics"
    for name, number in metrics.items():
        plain = number is None or (isinstance(number, int | float) and not isinstance(number, bool))
        if not plain or (number is not None and not math.isfinite(number)):
            return None, f"metric {name!r} is {number!r}, not a finite number or null"
    return record, ""


def _canonical_or_none(data: Any) -> str | None:
    try:
        return canonical_json(data)
    except (TypeError, ValueError):
        return None


def new_record(
    point: int, replication: int, seed: int, values: Mapping[str, Any], metrics: Mapping[str, float]
) -> dict[str, Any]:
    return {
        "point": point,
        "replication": replication,
        "seed": seed,
        "values": dict(values),
        "metrics": {k: _json_number(float(v)) for k, v in sorted(metrics.items())},
    }
