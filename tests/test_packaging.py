"""The shipped scenarios are package data: censim finds them wherever it is installed.

They live in ``simulator/scenarios/`` and are read through ``importlib.resources``, so a
wheel (not only an editable install or a source checkout) has them, from any working
folder. The fast tests load them from a copy of the package elsewhere on disk and from a
zip archive; the slow one builds the wheel, installs it in a fresh virtual environment
and runs a shipped scenario from an unrelated folder (``.ci/run`` runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import simulator
from simulator.model.scenario import reading as scenario_module

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(simulator.__file__).resolve().parent
SHIPPED = {"china_csl_2016", "china_instagram_block_2014", "china_regional_scrutiny",
           "china_rumour_crackdown_2013", "china_weibo_2012", "china_weibo_2012_real_name",
           "classroom",
           "eu_dsa_2024", "germany_netzdg_2017", "germany_netzdg_2017_timeline",
           "open_baseline"}  # fmt: skip
#: Build artefacts and caches left out of copies of the source.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "runs"
)


def _clean_env() -> dict[str, str]:
    """The environment without anything that would point Python at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture
def fresh_lookup() -> Iterator[None]:
    """Forget the cached folder before and after a test that changes where it comes from."""
    scenario_module.shipped_dir.cache_clear()
    yield
    scenario_module.shipped_dir.cache_clear()


def test_shipped_scenarios_are_inside_the_package() -> None:
    shipped = simulator.shipped_scenarios()
    assert set(shipped) == SHIPPED
    assert {path.parent for path in shipped.values()} == {PACKAGE / "scenarios"}
    assert not (ROOT / "scenarios").exists(), "scenarios/ at the top level is not in a wheel"


def test_a_copy_of_the_package_elsewhere_finds_its_own_scenarios(tmp_path: Path) -> None:
    """Imported from another folder, run from a third: the scenarios come from the copy."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "simulator", ignore=NOT_SOURCE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import json, simulator\n"
        "shipped = simulator.shipped_scenarios()\n"
        "print(json.dumps({'package': simulator.__file__, 'names': sorted(shipped),\n"
        "    'folders': sorted({str(path.parent) for path in shipped.values()}),\n"
        "    'classroom': simulator.load_scenario('classroom').sha256()}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=elsewhere,
        env={**_clean_env(), "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert Path(seen["package"]).is_relative_to(site)
    assert set(seen["names"]) == SHIPPED
    assert seen["folders"] == [str(site / "simulator" / "scenarios")]
    # classroom extends china_csl_2016: resolved inside the copy, to the same scenario.
    assert seen["classroom"] == simulator.load_scenario("classroom").sha256()


def test_scenarios_load_from_a_zipped_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_lookup: None
) -> None:
    """A package in a zip archive has no folder on disk: the files are copied out once."""
    archive = tmp_path / "censim.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((PACKAGE / "scenarios").glob("*.toml")):
            zipped.write(path, f"simulator/scenarios/{path.name}")
        zipped.writestr("simulator/scenarios/README.txt", "not a scenario")
    root = zipfile.Path(archive, "simulator/")
    monkeypatch.setattr(
        scenario_module.resources, "files", lambda package: root if package == "simulator" else None
    )
    folder = scenario_module.shipped_dir()
    assert folder.is_dir() and not folder.is_relative_to(PACKAGE)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.toml" for n in SHIPPED)
    assert set(simulator.shipped_scenarios()) == SHIPPED
    assert scenario_module.shipped_dir() == folder  # copied once, not on every look-up
    loaded = simulator.load_scenario("classroom")
    monkeypatch.undo()
    scenario_module.shipped_dir.cache_clear()
    assert loaded.sha256() == simulator.load_scenario("classroom").sha256()


def test_user_files_extend_shipped_and_local_scenarios_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`extends` finds a shipped name and a file beside the extending one, whatever the cwd."""
    mine = tmp_path / "regimes"
    mine.mkdir()
    (mine / "base.toml").write_text('extends = "china_csl_2016"\nname = "base"\nseed = 5\n')
    (mine / "child.toml").write_text('extends = "base"\nname = "child"\nhorizon_days = 9\n')
    monkeypatch.chdir(tmp_path.parent)
    child = simulator.load_scenario(mine / "child.toml")
    parent = simulator.load_scenario("china_csl_2016")
    assert (child.name, child.seed, child.horizon_days) == ("child", 5, 9)
    assert child.rules == parent.rules and child.platforms == parent.platforms


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_runs_shipped_scenarios(tmp_path: Path) -> None:
    """The wheel, not an editable install: built from a clean copy of the source,
    installed with its dependencies into a new venv, used from an unrelated folder."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    wheels = tmp_path / "wheels"
    env = _clean_env()

    def call(*args: str | Path, cwd: Path = tmp_path, timeout: float = 900) -> str:
        done = subprocess.run(
            [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    call(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-w", wheels, "-q")
    (wheel,) = wheels.glob("censim-*.whl")
    with zipfile.ZipFile(wheel) as built:
        packed = {Path(n).stem for n in built.namelist() if n.startswith("simulator/scenarios/")}
    assert packed == SHIPPED

    venv = tmp_path / "venv"
    call(sys.executable, "-m", "venv", venv)
    call(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel)
    work = tmp_path / "elsewhere"
    work.mkdir()
    installed = call(venv / "bin" / "python", "-c", "import simulator; print(simulator.__file__)",
                     cwd=work)  # fmt: skip
    assert Path(installed.strip()).is_relative_to(venv), "not the installed copy"

    listing = call(venv / "bin" / "censim", "scenarios", cwd=work)
    assert {line.split()[0] for line in listing.splitlines() if line.strip()} == SHIPPED
    shown = call(venv / "bin" / "censim", "show", "classroom", cwd=work)
    assert shown.splitlines()[0].startswith(f"# resolved from {venv}")
    (work / "mine.toml").write_text('extends = "classroom"\nname = "mine"\n')
    assert "ok: mine.toml" in call(venv / "bin" / "censim", "validate", "mine.toml", cwd=work)

    call(venv / "bin" / "censim", "run", "classroom", "--days", "2", "--out", "out", "--quiet",
         cwd=work)  # fmt: skip
    summary = json.loads((work / "out" / "summary.json").read_text())
    assert (summary["scenario"], summary["horizon_days"]) == ("classroom", 2)
    assert (work / "out" / "daily.csv").stat().st_size > 0
