"""The repository stands on its own: no file points outside it.

Every tracked text file is searched for absolute paths of a development machine (a
home, scratch or work folder) and for references to the notes the project was built
from, which a user of the repository does not have. Sources are cited through
``docs/references.md``, which must define every source id the scenarios and docs cite.
Each failure names the file and line.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Folders left out when the repository is walked without git (build output, caches).
NOT_SOURCE = {".git", ".venv", "build", "dist", "runs", "__pycache__"}
#: Top-level folders of a machine's own files. Spelt without their slash so that this
#: file does not match its own search.
MACHINE_FOLDERS = ("work", "tmp", "root", "home", "Users", "mnt")
MACHINE_PATH = re.compile(r"(?<![\w.~/\\-])/(?:" + "|".join(MACHINE_FOLDERS) + r")(?:/|\b)")
#: The project's working notes, kept outside the repository.
OUTSIDE_NOTES = ("LITERATURE", "DESIGN", "BEHAVIOUR")
OUTSIDE_REFERENCE = re.compile(
    r"\b(?:" + "|".join(OUTSIDE_NOTES) + r")\.md\b|(?<![\w-])shared" + "/"
)
#: A source id as the scenarios and docs cite it: L (legal), C (calibration), B (behaviour).
SOURCE_ID = re.compile(r"\b([LCBR][1-9][0-9]?)\b")


def tracked_files() -> list[Path]:
    """The repository's files: git's list when there is one, else a walk of the tree."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return sorted(
            p
            for p in ROOT.rglob("*")
            if p.is_file()
            and not NOT_SOURCE.intersection(p.relative_to(ROOT).parts)
            and not any(part.endswith((".egg-info", "_cache")) for part in p.parts)
        )
    return sorted(ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file())


def text_lines(path: Path) -> list[str]:
    """A text file's lines; nothing for a binary file (figures)."""
    data = path.read_bytes()
    if b"\0" in data:
        return []
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return []


def offending_lines(pattern: re.Pattern[str], files: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path in files
        for number, line in enumerate(text_lines(path), start=1)
        if pattern.search(line)
    ]


def test_the_search_finds_what_it_is_meant_to_find() -> None:
    """The patterns on lines like the ones this test once found in the repository."""
    machine = [
        "`/" + "work/shared" + "/X.md`",
        "see /" + "tmp/a.txt",
        "/" + "home/me/a.py",
        "/" + "root",
    ]
    fine = ["https://example.org/home/", "runs/tmp/x", "~/" + "work", "/venv/bin/censim"]
    assert all(MACHINE_PATH.search(line) for line in machine)
    assert not any(MACHINE_PATH.search(line) for line in fine)
    outside = [
        "LITERATURE" + ".md C2",
        "ids from `shared" + "/LITERATURE" + ".md`",
        "DESIGN" + ".md",
    ]
    assert all(OUTSIDE_REFERENCE.search(line) for line in outside)
    assert not OUTSIDE_REFERENCE.search("DESIGN_FILE_HELP; shared memory; docs/references.md")


def test_no_absolute_machine_paths_in_the_repository() -> None:
    files = tracked_files()
    assert len(files) > 50, "found too few files to have searched the repository"
    found = offending_lines(MACHINE_PATH, files)
    assert not found, "absolute paths of a development machine:\n" + "\n".join(found)


def test_nothing_refers_to_notes_outside_the_repository() -> None:
    found = offending_lines(OUTSIDE_REFERENCE, tracked_files())
    assert not found, (
        "references to files outside the repository (cite docs/references.md instead):\n"
        + "\n".join(found)
    )


def test_every_cited_source_id_is_defined_in_references() -> None:
    references = (ROOT / "docs" / "references.md").read_text(encoding="utf-8")
    defined = set(re.findall(r"^\| ([LCBR][1-9][0-9]?) \|", references, flags=re.MULTILINE))
    expected = {f"L{i}" for i in range(1, 16)} | {f"C{i}" for i in range(1, 8)}
    expected |= {f"R{i}" for i in range(1, 4)}  # regions under heavier scrutiny (groups)
    assert expected | {f"B{i}" for i in range(1, 14)} == defined
    citing = sorted((ROOT / "simulator" / "scenarios").glob("*.toml")) + [
        p for p in sorted((ROOT / "docs").glob("*.md")) if p.name != "performance.md"
    ]
    citing += sorted((ROOT / "notebooks").rglob("sources/*.py"))
    undefined = [
        f"{path.relative_to(ROOT)}:{number}: {source_id}"
        for path in citing
        for number, line in enumerate(text_lines(path), start=1)
        for source_id in SOURCE_ID.findall(line)
        if source_id not in defined
    ]
    assert not undefined, "ids not defined in docs/references.md:\n" + "\n".join(undefined)
    # Each full citation the tables point to ([Nagin 2013]) is written out below them.
    rows = [line for line in references.splitlines() if line.startswith("| ")]
    keys = {key for row in rows for key in re.findall(r"\[([^\]]*\d{4})\]", row)}
    assert len(keys) >= 17
    missing = sorted(key for key in keys if f"**[{key}]**" not in references)
    assert not missing, f"docs/references.md cites {missing} without a full entry"


def test_facts_help_cites_the_projects_own_references() -> None:
    from click.testing import CliRunner

    from simulator.cli.main import main

    shown = CliRunner().invoke(main, ["facts", "--help"])
    assert shown.exit_code == 0, shown.output
    assert "docs/references.md" in shown.output
    assert not OUTSIDE_REFERENCE.search(shown.output)
    for fact_id, author in [("C1", "King, Pan"), ("C2", "Zhu"), ("C3", "Bamman"), ("C4", "King")]:
        assert f"  {fact_id}  {author}" in shown.output
