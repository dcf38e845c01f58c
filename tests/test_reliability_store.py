"""A sweep store never accepts a damaged record, never hangs on a special file, never
leaves half a file when the disk fills, and its workers never outlive the sweep
(docs/reliability.md, "Sweep stores")."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sweep_helpers import CLI, SMALL_SWEEP, stop, store_files

from simulator import files
from simulator.cli.main import main
from simulator.errors import OutputError
from simulator.experiments import grid_design, sweep
from simulator.experiments.sensitivity import Ishigami
from simulator.experiments.store import RECORD_CHECKSUM, record_checksum, with_checksum

DESIGN = grid_design({"x1": [0.0, 1.0, 2.0], "x2": [0.5], "x3": [2.0]}, source="test")


def ishigami_store(out: Path, reps: int = 2) -> dict[str, bytes]:
    sweep(None, DESIGN, reps=reps, model=Ishigami(), workers=0, out=out)
    return store_files(out)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output  # stdout and stderr, as a terminal shows them


def rewrite(path: Path, change: object) -> None:
    """Apply ``change`` to the record at ``path``; keep its checksum valid if it had one
    (so the check under test is the one after the checksum)."""
    record = json.loads(path.read_text())
    assert callable(change)
    change(record)
    path.write_text(json.dumps(with_checksum(record), indent=1) + "\n")


# -- checksums and damaged records ------------------------------------------------------


def test_records_carry_a_checksum_of_their_content(tmp_path: Path) -> None:
    ishigami_store(tmp_path / "s")
    # Written through a private temporary file, but an ordinary file in the end.
    umask = os.umask(0o022)
    os.umask(umask)
    for path in [*(tmp_path / "s" / "runs").iterdir(), tmp_path / "s" / "long.csv"]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path
    record = json.loads((tmp_path / "s" / "runs" / "p0001-r000.json").read_text())
    assert list(record)[-1] == RECORD_CHECKSUM
    content = {k: v for k, v in record.items() if k != RECORD_CHECKSUM}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    import hashlib

    assert record[RECORD_CHECKSUM] == hashlib.sha256(canonical.encode()).hexdigest()
    assert record_checksum(record) == record[RECORD_CHECKSUM]


DAMAGE = {
    # An edited metric: the checksum no longer matches (was accepted into long.csv).
    "p0000-r000.json": (
        lambda p: p.write_text(p.read_text().replace('"y": ', '"y": 1000.0, "z": ', 1)),
        "checksum does not match",
    ),
    # NaN added (JSON as Python writes it): not censim's (it writes null).
    "p0000-r001.json": (
        lambda p: p.write_text(p.read_text().replace('"y": ', '"y": NaN, "w": ', 1)),
        "NaN",
    ),
    # No metrics, the checksum made valid again: the structure is checked too.
    "p0001-r000.json": (lambda p: rewrite(p, lambda r: r.pop("metrics")), "has no metrics"),
    # The wrong JSON type.
    "p0001-r001.json": (lambda p: p.write_text("[1, 2, 3]\n"), "JSON list"),
    # Cut short (a disk filled by something else, a copy interrupted).
    "p0002-r000.json": (lambda p: p.write_bytes(p.read_bytes()[:40]), "not valid JSON"),
    # Another run's record under this name (its checksum is valid).
    "p0002-r001.json": (
        lambda p: p.write_bytes((p.parent / "p0000-r000.json").read_bytes()),
        "another run's record",
    ),
}


def test_damaged_records_are_named_and_run_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every damaged record is named in a warning, left out of the tables and run again;
    the store ends byte-identical to one never damaged."""
    fresh = ishigami_store(tmp_path / "fresh")
    out = tmp_path / "damaged"
    ishigami_store(out)
    # Damage in file order: the copy above must copy an intact record.
    for name, (damage, _) in sorted(DAMAGE.items(), reverse=True):
        damage(out / "runs" / name)
    capsys.readouterr()
    again = sweep(None, DESIGN, reps=2, model=Ishigami(), workers=0, out=out)
    warnings = capsys.readouterr().err.splitlines()
    assert (again.ran, again.reused) == (len(DAMAGE), 0)
    assert len(warnings) == len(DAMAGE), warnings
    for name, (_, phrase) in DAMAGE.items():
        line = next(w for w in warnings if name in w)
        assert line.startswith("warning: ") and phrase in line and "running it again" in line
    assert store_files(out) == fresh
    assert 1000.0 not in again.long["value"].tolist()


def test_a_record_edited_in_a_finished_store_is_never_in_the_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s"
    fresh = ishigami_store(out)
    path = out / "runs" / "p0002-r001.json"
    record = json.loads(path.read_text())
    record["metrics"]["y"] = 42.0  # checksum left as it was
    path.write_text(json.dumps(record, indent=1) + "\n")
    result = sweep(None, DESIGN, reps=2, model=Ishigami(), workers=0, out=out)
    assert (result.ran, result.reused) == (1, 5)
    assert "p0002-r001.json" in capsys.readouterr().err
    assert 42.0 not in result.long["value"].tolist()
    assert store_files(out) == fresh


def test_records_without_a_checksum_are_accepted_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stores written before checksums still resume: their records are accepted (with a
    warning that says they are unchecked); damaged ones are still run again."""
    out = tmp_path / "old"
    ishigami_store(out)
    for path in (out / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        del record[RECORD_CHECKSUM]
        path.write_text(json.dumps(record, indent=1) + "\n")
    # An old record with no metrics is not accepted, checksum or not.
    old = out / "runs" / "p0001-r001.json"
    record = json.loads(old.read_text())
    del record["metrics"]
    old.write_text(json.dumps(record) + "\n")
    (out / "long.csv").unlink()
    capsys.readouterr()
    result = sweep(None, DESIGN, reps=2, model=Ishigami(), workers=0, out=out)
    err = capsys.readouterr().err.splitlines()
    assert (result.ran, result.reused) == (1, 5)
    assert any("p0001-r001.json: has no metrics" in line for line in err), err
    unchecked = [line for line in err if "no checksum" in line]
    assert len(unchecked) == 1 and "5 run records" in unchecked[0], err
    assert (out / "long.csv").is_file()


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink"])
def test_something_censim_never_writes_in_place_of_a_record_is_refused(
    tmp_path: Path, kind: str
) -> None:
    """A folder, a FIFO or a symlink where a record belongs: exit 3 naming it, before any
    run, and it is left as it is. The FIFO is never opened (it would block forever)."""
    out = tmp_path / "s"
    ishigami_store(out)
    target = out / "runs" / "p0001-r000.json"
    target.unlink()
    if kind == "directory":
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to(out / "runs" / "p0000-r000.json")
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the resume blocked"))
    signal.alarm(30)
    try:
        with pytest.raises(OutputError) as caught:
            sweep(None, DESIGN, reps=2, model=Ishigami(), workers=0, out=out)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    message = str(caught.value)
    assert str(target) in message and "will not replace it" in message, message
    assert caught.value.exit_code == 3
    if kind == "directory":
        assert (target / "mine.txt").read_text() == "mine"
    elif kind == "fifo":
        import stat

        assert stat.S_ISFIFO(os.lstat(target).st_mode)
    else:
        assert target.is_symlink()


def test_the_cli_names_a_damaged_record_and_exits_0_after_running_it(tmp_path: Path) -> None:
    out = tmp_path / "s"
    base = ["sweep", "classroom", "--days", "2", "--users", "40", "--workers", "0", "--quiet"]
    code, output = cli(*base, "--out", str(out))
    assert code == 0, output
    fresh = store_files(out)
    (out / "runs" / "p0000-r000.json").write_text('{"point": 0}')
    code, output = cli(*base, "--out", str(out))
    assert code == 0, output
    assert "warning:" in output and "p0000-r000.json" in output and "Traceback" not in output
    assert store_files(out) == fresh


# -- disk full --------------------------------------------------------------------------


class _FullDisk:
    """A file opened for writing on a disk with no space left: writing fails (ENOSPC)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


@contextlib.contextmanager
def disk_full_after(folder: Path, writes: int) -> Iterator[list[str]]:
    """Files written under ``folder`` through :mod:`simulator.files` after the first
    ``writes`` fail with ENOSPC when written to, as on a full disk."""
    real_open = open
    opened: list[str] = []

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        if "w" in mode and str(file).startswith(str(folder)):
            opened.append(str(file))
            if len(opened) > writes:
                return _FullDisk(handle)
        return handle

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "open", fake_open, raising=False)
        yield opened


def test_disk_full_while_writing_a_record(tmp_path: Path) -> None:
    """ENOSPC writing the third record: an output error (exit 3) naming the file, no
    temporary file left, the two records written are whole; the rerun completes the
    store as if nothing had happened."""
    fresh = ishigami_store(tmp_path / "fresh")
    out = tmp_path / "full"
    (out / "runs").mkdir(parents=True)
    # design.json is the first write, then p0000-r000 and p0000-r001.
    with disk_full_after(out, writes=3), pytest.raises(OutputError) as caught:
        sweep(None, DESIGN, reps=2, model=Ishigami(), workers=0, out=out)
    message = str(caught.value)
    assert "p0001-r000.json: could not write it (No space left on device)" in message
    assert "the 2 runs already in" in message and "rerun the same command" in message
    assert "\n" not in message
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "p0000-r000.json",
        "p0000-r001.json",
    ]
    assert not list(out.rglob("*.tmp")) and not (out / "long.csv").exists()
    again = sweep(None, DESIGN, reps=2, model=Ishigami(), workers=0, out=out)
    assert (again.ran, again.reused) == (4, 2)
    assert store_files(out) == fresh


def test_disk_full_while_writing_the_tables_from_the_cli(tmp_path: Path) -> None:
    """ENOSPC on long.csv (pandas writing it): exit 3, one line, no traceback, no
    half-written long.csv; every record is kept."""
    out = tmp_path / "s"
    base = ["sweep", "classroom", "--days", "2", "--users", "40", "--workers", "0", "--quiet"]
    import simulator.experiments.store as experiments

    real_write_csv = experiments.write_csv

    def fill_disk_halfway(frame: Any, path: Path) -> None:
        """Write half of the table, then find the disk full (pandas' own write path)."""
        real_write_csv(frame, path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        if "long.csv" in path.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(experiments, "write_csv", fill_disk_halfway)
        code, output = cli(*base, "--out", str(out))
    assert code == 3, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "long.csv: could not write it (No space left" in lines[0], output
    assert not (out / "long.csv").exists() and not list(out.rglob("*.tmp"))
    assert len(list((out / "runs").glob("*.json"))) == 1


def mount_tmpfs_possible() -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    with tempfile.TemporaryDirectory() as mount_point:
        probe = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             f"mount -t tmpfs -o size=64k tmpfs {mount_point}"],
            capture_output=True,
        )  # fmt: skip
    return probe.returncode == 0


@pytest.mark.slow
def test_a_real_full_disk_on_a_tiny_tmpfs(tmp_path: Path) -> None:
    """The real `censim sweep` on a 48 kB tmpfs (in a mount namespace of its own, so
    nothing else sees it): the estimate refuses it (exit 4); with --yes the disk fills,
    the command exits 3 with one line, every file left is whole, and the store copied to
    a bigger disk resumes to the same bytes as a fresh store."""
    if not mount_tmpfs_possible():
        pytest.skip("needs root and permission to mount a tmpfs in a private namespace")
    args = [
        *SMALL_SWEEP[:3], "rules.takedown.vagueness=0,0.2,0.4,0.6,0.8",
        "--days", "2", "--users", "40", "--reps", "4", "--workers", "0", "--quiet",
    ]  # fmt: skip
    # The estimate refuses this sweep up front (~200 kB for 48 kB free: exit 4); --yes
    # lets the disk fill while it runs, as when another program writes to it.
    args = [*args, "--yes"]
    mount = tmp_path / "tiny"
    mount.mkdir()
    copy = tmp_path / "copy"
    command = " ".join(f"'{a}'" for a in [*CLI, *args, "--out", str(mount / "s")])
    estimated = command.replace("'--yes' ", "")
    script = (
        f"mount -t tmpfs -o size=48k tmpfs '{mount}' || exit 99; "
        f"{estimated} 2>'{tmp_path}/refused'; echo $? >'{tmp_path}/refused.rc'; "
        f"{command} 2>'{tmp_path}/err'; rc=$?; cp -a '{mount}/s' '{copy}'; exit $rc"
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script], timeout=300
    )
    refused = (tmp_path / "refused").read_text()
    assert (tmp_path / "refused.rc").read_text().strip() == "4", refused
    assert "this sweep (20 runs, in this process) would write ~" in refused
    assert "kB free" in refused and "--yes" in refused
    err = (tmp_path / "err").read_text()
    assert done.returncode == 3, err
    assert len(err.strip().splitlines()) == 1 and "No space left on device" in err, err
    assert not list(copy.rglob("*.tmp"))
    records = list((copy / "runs").glob("*.json"))
    assert 0 < len(records) < 20
    for path in records:
        record = json.loads(path.read_text())
        assert record[RECORD_CHECKSUM] == record_checksum(record)
    assert json.loads((copy / "design.json").read_text())["reps"] == 4
    resumed = CliRunner().invoke(main, [*args, "--out", str(copy)])
    assert resumed.exit_code == 0, resumed.output
    fresh = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "fresh")])
    assert fresh.exit_code == 0
    assert store_files(copy) == store_files(tmp_path / "fresh")


# -- workers die with the sweep -----------------------------------------------------------


def session_processes(session: int) -> list[tuple[int, str]]:
    """Live (not zombie) processes of a session: (pid, command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append((int(entry.name), command[:120]))
    return found


KILLED_SWEEP = [
    *SMALL_SWEEP[:3], "rules.takedown.vagueness=0,0.3,0.6",
    "--days", "40", "--users", "3000", "--reps", "2", "--seed", "5",
]  # fmt: skip


@pytest.fixture(scope="module")
def fresh_killed_sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The store of KILLED_SWEEP made in one go, in this process."""
    out = tmp_path_factory.mktemp("fresh") / "store"
    done = CliRunner().invoke(main, [*KILLED_SWEEP, "--workers", "0", "--quiet", "--out", str(out)])
    assert done.exit_code == 0, done.output
    return store_files(out)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_do_not_outlive_the_sweep(
    tmp_path: Path, how: signal.Signals, fresh_killed_sweep: dict[str, bytes]
) -> None:
    """Kill the sweep's process (2 workers busy): within a few seconds no process of its
    session is left: no worker, no fork server, no resource tracker (they ran on for
    minutes). SIGTERM exits 143 with one line. The rerun resumes to a store
    byte-identical to a fresh one."""
    args = KILLED_SWEEP
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [*CLI, *args, "--workers", "2", "--quiet", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            workers = [p for p in session_processes(process.pid) if "forkserver" in p[1]]
            if len(workers) >= 3 and list((out / "runs").glob("p*.json")):
                break  # the fork server, both workers, and one run written
            time.sleep(0.02)
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        os.kill(process.pid, how)
        process.wait(timeout=60)
        left = session_processes(process.pid)
        deadline = time.monotonic() + 10
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = session_processes(process.pid)
        assert left == [], left
        err = process.stderr.read().decode() if process.stderr else ""
    finally:
        stop(process)
    if how == signal.SIGTERM:
        assert process.returncode == 143, err
        assert err.strip().splitlines() == [
            f"error: terminated (SIGTERM): the sweep stopped; the runs finished so far are "
            f"kept in {out}: rerun the same command to resume"
        ]
    done_before = len(list((out / "runs").glob("p*.json")))
    assert 1 <= done_before < 6
    resumed = CliRunner().invoke(main, [*args, "--workers", "0", "--quiet", "--out", str(out)])
    assert resumed.exit_code == 0, resumed.output
    assert store_files(out) == fresh_killed_sweep
