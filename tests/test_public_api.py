"""The top-level API: what ``import simulator`` offers, and how its results print."""

from __future__ import annotations

import re
from pathlib import Path

import simulator
from simulator import experiments
from simulator.output.results import TABLES, Results

SWEEP_API = (
    "Design",
    "SweepResults",
    "flatten_summary",
    "grid_design",
    "load_design",
    "points_design",
    "sampled_design",
    "sweep",
)


def _small_run() -> Results:
    scenario = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 300, "horizon_days": 5}
    )
    return simulator.run(scenario, seed=4)


def test_repr_of_results_is_a_short_summary(tmp_path: Path) -> None:
    results = _small_run()
    text = repr(results)
    lines = text.splitlines()
    assert lines[0] == "Results(scenario='classroom', seed=4, replication=0, users=300, days=5)"
    summary = results.summary
    assert lines[1] == (
        f"  speech_loss {summary['speech_loss']:.4g}, "
        f"chilling_effect {summary['chilling_effect']:.4g}, "
        f"collateral_share {summary['collateral_share']:.4g}, "
        f"fines_total {summary['fines_total']:,.0f} CNY"
    )
    counts = dict(re.findall(r"(\w+) \(([\d,]+) rows\)", lines[2]))
    assert counts == {name: f"{len(results.table(name)):,}" for name in TABLES}
    assert len(lines) == 3
    # The dataclass default printed every table and the whole scenario (tens of kB).
    assert len(text) < 400
    assert "review_minutes" not in text and "DataFrame" not in text
    # A run folder read back prints the same.
    assert repr(Results.read(results.write(tmp_path / "run"))) == text


def test_sweep_api_is_exported_at_the_top_level() -> None:
    assert set(SWEEP_API) <= set(simulator.__all__)
    for name in SWEEP_API:
        assert getattr(simulator, name) is getattr(experiments, name), name
    for name in simulator.__all__:
        assert hasattr(simulator, name), name
    namespace: dict[str, object] = {}
    exec("from simulator import *", namespace)
    assert namespace["flatten_summary"] is experiments.flatten_summary
    assert namespace["sweep"] is experiments.sweep


def test_summary_names_the_currency_of_its_money() -> None:
    results = _small_run()
    assert results.summary["currency"] == "CNY"
    assert list(results.summary).index("currency") == list(results.summary).index("fines_total") - 1
    baseline = simulator.run(
        simulator.override(
            simulator.load_scenario("open_baseline"), {"population.users": 100, "horizon_days": 2}
        )
    )
    assert baseline.summary["currency"] == "USD"


def test_the_experiments_package_gives_its_names_and_loads_parts_on_first_use() -> None:
    """``simulator.experiments`` names each public name's module; importing one part (the
    resource estimates, as ``censim run`` does) loads no sweep machinery."""
    import subprocess
    import sys

    for name in experiments.__all__:
        value = getattr(experiments, name)
        assert value.__module__ == experiments._API[name], name
    assert set(dir(experiments)) >= set(experiments.__all__)
    code = (
        "import sys, simulator.experiments.resources\n"
        "print(sorted(m for m in sys.modules if m.startswith('simulator.experiments.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['simulator.experiments.resources']"


def test_the_plots_package_gives_every_figure() -> None:
    from simulator import plots
    from simulator.plots import compare, runs, writing

    assert plots.funnel is runs.funnel and plots.comparison is compare.comparison
    assert plots.write_all is writing.write_all
    assert set(plots.RUN_FIGURES) == {
        "funnel", "time_series", "removal_curve", "platforms", "transparency",
    }  # fmt: skip
    assert all(hasattr(plots, name) for name in plots.__all__)


def test_lazy_names_import_on_first_use_and_refuse_unknown_names() -> None:
    """``simulator.lazy.lazy_names``, behind the package's, the experiments' and the
    reference's names: a name's module is imported when the name is first asked for, the
    name is then kept, an unknown name is an AttributeError naming the package."""
    import subprocess
    import sys

    code = (
        "import sys, simulator, simulator.reference as r\n"
        "loaded = lambda name: 'simulator.' + name in sys.modules\n"
        "print(loaded('reference.agent'), loaded('engine.pairing'))\n"
        "run = simulator.run\n"
        "print(loaded('engine.pairing'), vars(simulator)['run'] is run)\n"
        "print(r.run_reference.__module__, 'run_reference' in dir(r))\n"
        "try:\n"
        "    simulator.nothing\n"
        "except AttributeError as error:\n"
        "    print(error)\n"
    )
    lines = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert lines == [
        "False False",
        "True True",
        "simulator.reference.agent True",
        "module 'simulator' has no attribute 'nothing'",
    ]
