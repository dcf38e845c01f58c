"""Every notebook runs top to bottom without error, and is stored without outputs.

Executing the notebooks takes minutes on two cores, so they carry the ``notebooks``
marker: the default run skips them and ``.ci/run`` runs them in a step of their own
(``pytest -m notebooks``), after installing the ``notebooks`` extra as the docs tell
notebook users to; that step also checks that the jupyter commands exist and that
``jupyter lab notebooks/`` serves the exercises. The cheap checks (no outputs stored,
notebooks up to date with their plain-text sources (``sources/`` beside them), the
exercises ask the questions :mod:`simulator.teaching` checks, the docs give the one
command that opens them) run by default.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.rglob("*.ipynb"))
#: The one command README.md and docs/teaching.md give for opening the notebooks.
OPEN_NOTEBOOKS = (
    'python3 -m venv .venv && .venv/bin/pip install -q -e ".[notebooks]" '
    "&& .venv/bin/jupyter lab notebooks/"
)
#: Seconds JupyterLab may take to start serving (about 5 s here, unloaded).
SERVER_START_TIMEOUT = 120
#: Seconds one cell may take (every cell takes under 15 s here; the aim is under a minute
#: on a loaded machine).
CELL_TIMEOUT = 120


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(NOTEBOOK_DIR)) for p in paths]


def test_there_are_notebooks_and_exercises() -> None:
    names = _ids(NOTEBOOKS)
    assert len([n for n in names if not n.startswith("exercises/")]) >= 6
    exercises = [n for n in names if n.startswith("exercises/ex")]
    assert len(exercises) >= 4
    assert "exercises/solutions.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path


#: The command docs/teaching.md gives for writing the notebooks from their sources.
SYNC_COMMAND = "jupytext --sync notebooks/sources/*.py notebooks/exercises/sources/*.py"


def _source_of(notebook: Path) -> Path:
    """``X.ipynb``'s source, ``sources/X.py`` beside it (notebooks/jupytext.toml)."""
    return notebook.parent / "sources" / f"{notebook.stem}.py"


def test_every_notebook_is_its_source() -> None:
    """Each notebook has a source (jupytext percent format) and the same cells; each
    source has its notebook."""
    import jupytext

    sources = sorted(NOTEBOOK_DIR.rglob("sources/*.py"))
    assert sorted(sources) == sorted(_source_of(p) for p in NOTEBOOKS), (
        "the notebooks and their sources/ folders do not hold the same notebooks"
    )
    for path in NOTEBOOKS:
        source = jupytext.read(_source_of(path))
        # Compared as cells, not bytes, so another nbformat version's layout does not matter.
        assert [(c.cell_type, c.source) for c in source.cells] == _cells(path), (
            f"{path.name} differs from its source; run `{SYNC_COMMAND}`"
        )


def test_the_sync_command_writes_an_edited_source_into_its_notebook(tmp_path: Path) -> None:
    """The documented command, run on a copy: an edited source reaches its notebook (cell
    ids kept), the other notebooks stay byte for byte as they are."""
    copy = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    edited = copy / "exercises" / "sources" / "ex2_time_to_removal.py"
    # Older than its source, as after an edit (a checkout may leave either one newer).
    for path in copy.rglob("*.ipynb"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    before = {p: p.read_bytes() for p in copy.rglob("*.ipynb")}
    edited.write_text(edited.read_text().replace("# your work here", "# your work: here", 1))
    sources = sorted(copy.rglob("sources/*.py"))
    done = subprocess.run(
        [sys.executable, "-m", "jupytext", "--sync", *map(str, sources)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    target = copy / "exercises" / "ex2_time_to_removal.ipynb"
    changed = sorted(p.relative_to(copy) for p, data in before.items() if p.read_bytes() != data)
    assert changed == [target.relative_to(copy)]
    stored = nbformat.read(NOTEBOOK_DIR / "exercises" / target.name, as_version=4)
    rebuilt = nbformat.read(target, as_version=4)
    assert [c.id for c in rebuilt.cells] == [c.id for c in stored.cells]
    assert sum("# your work: here" in c.source for c in rebuilt.cells) == 1


def test_the_exercises_ask_the_questions_teaching_checks() -> None:
    """Each exercise notebook states every question of its exercise in
    :mod:`simulator.teaching`'s words and has the cell that checks it."""
    from simulator import teaching

    for exercise in teaching.EXERCISES:
        (path,) = sorted((NOTEBOOK_DIR / "exercises").glob(f"{exercise}_*.ipynb"))
        cells = _cells(path)
        for question_id in teaching.questions(exercise):
            statement = f"**{question_id}.** {teaching.question(question_id)}"
            assert ("markdown", statement) in cells, f"{path.name}: {question_id} as stated"
            assert any(
                kind == "code" and f'teaching.check("{question_id}", answer)' in text
                for kind, text in cells
            ), f"{path.name}: no check cell for {question_id}"
    docs = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    assert SYNC_COMMAND in docs


def _cells(path: Path) -> list[tuple[str, str]]:
    nb = nbformat.read(path, as_version=4)
    return [(cell.cell_type, cell.source) for cell in nb.cells]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes(path: Path, tmp_path: Path) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    # Once on 2026-11-28 a kernel sat idle with the client waiting for a reply that never
    # came (not reproduced in five later runs): a stalled kernel connection gets one
    # fresh kernel. A cell that really hangs times out twice and fails; a cell that
    # raises fails at once.
    for attempt in (1, 2):
        nb = nbformat.read(path, as_version=4)
        # The kernel runs this interpreter (whatever kernelspecs the machine has), in a
        # scratch folder so a notebook cannot litter the repository.
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
            extra_arguments=[],
        )
        client.kernel_manager_class = _current_python_kernel_manager()
        try:
            client.execute()  # raises CellExecutionError, naming the cell, on any error
            break
        except (CellTimeoutError, DeadKernelError):
            if attempt == 2:
                raise
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors


def _current_python_kernel_manager() -> type:
    """A kernel manager that starts ``sys.executable -m ipykernel_launcher``."""
    from jupyter_client.manager import AsyncKernelManager

    class CurrentPythonKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            command = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            connection = str(self.connection_file)
            return [part.replace("{connection_file}", connection) for part in command]

    return CurrentPythonKernelManager


def test_the_docs_give_one_command_that_installs_jupyterlab_and_opens_the_notebooks() -> None:
    for doc in ("README.md", "docs/teaching.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert OPEN_NOTEBOOKS in text, f"{doc} does not give the command that opens the notebooks"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    wanted = {"jupyterlab", "ipykernel", "ipywidgets", "nbconvert"}
    assert wanted <= {_requirement_name(r) for r in extras["notebooks"]}


def _requirement_name(requirement: str) -> str:
    return requirement.split(">")[0].split("=")[0].split("[")[0].strip().lower()


def _jupyter() -> Path:
    """The ``jupyter`` command of this interpreter's environment."""
    return Path(sys.executable).parent / "jupyter"


@pytest.mark.notebooks
def test_jupyter_commands_exist_after_the_notebooks_install() -> None:
    """After `pip install -e ".[notebooks]"`: jupyter lab and nbconvert run, the widgets
    extension the explorer needs is enabled, and the python3 kernel is this Python."""
    for command in (["lab", "--version"], ["nbconvert", "--version"]):
        done = subprocess.run(
            [str(_jupyter()), *command], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()[0].isdigit(), done.stdout
    extensions = subprocess.run(
        [str(_jupyter()), "labextension", "list"], capture_output=True, text=True, timeout=120
    )
    widgets = [
        line for line in (extensions.stdout + extensions.stderr).splitlines()
        if "@jupyter-widgets/jupyterlab-manager" in line
    ]  # fmt: skip
    assert widgets and "enabled" in widgets[0], extensions.stdout + extensions.stderr
    specs = subprocess.run(
        [str(_jupyter()), "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    python3 = json.loads(specs.stdout)["kernelspecs"]["python3"]["spec"]["argv"][0]
    assert Path(python3).resolve() == Path(sys.executable).resolve() or python3 == "python"


@pytest.mark.notebooks
def test_jupyter_lab_serves_the_exercises(tmp_path: Path) -> None:
    """`jupyter lab notebooks/`, as documented, started for real on the loopback address:
    its contents API lists the exercises. Stopped with SIGTERM afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    runtime = {"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "BROWSER": "true"}
    server = subprocess.Popen(
        [
            str(_jupyter()), "lab", "notebooks/", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        ],
        cwd=ROOT,
        env={**os.environ, **runtime},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "server.log", "wb"),  # noqa: SIM115 (closed with the process)
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/contents/exercises?token={token}"
    listing: dict[str, object] = {}
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    listing = json.load(response)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    log = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
    assert listing, f"jupyter lab did not serve notebooks/ within {SERVER_START_TIMEOUT} s\n{log}"
    names = {item["name"] for item in listing["content"]}  # type: ignore[attr-defined]
    expected = {p.name for p in (NOTEBOOK_DIR / "exercises").glob("*.ipynb")}
    assert names >= expected and "solutions.ipynb" in names
