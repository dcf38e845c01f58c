"""Every notebook runs top to bottom without error, and is stored without outputs.

Executing the notebooks takes minutes on two cores, so they carry the ``notebooks``
marker: the default run skips them and ``.ci/run`` runs them in a step of their own
(``pytest -m notebooks``). The cheap checks (no outputs stored, notebooks up to date with
``notebooks/build_notebooks.py``) run by default.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.rglob("*.ipynb"))
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


def test_notebooks_match_their_build_script(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", NOTEBOOK_DIR / "build_notebooks.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in built) == sorted(
        p.relative_to(NOTEBOOK_DIR) for p in NOTEBOOKS
    ), "notebooks/ holds notebooks the build script does not make (or misses some)"
    for path in built:
        stored = NOTEBOOK_DIR / path.relative_to(tmp_path)
        # Compared as cells, not bytes, so another nbformat version's layout does not matter.
        assert _cells(stored) == _cells(path), (
            f"{stored.name} differs from notebooks/build_notebooks.py; rerun the script"
        )


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
