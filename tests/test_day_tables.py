"""Tables built faster give the same frames as the code they replaced (kept here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.engine.simulation import Simulation
from simulator.kinds import CHANNEL_LABELS, KIND_LABELS, Outcome
from simulator.output.metrics import OUTCOME_COLUMNS, cell_exposure, daily_table
from simulator.output.recorder import Recorder


def daily_table_multiindex(recorder, scenario, platform_names):  # type: ignore[no-untyped-def]
    """metrics.daily_table as it was: a MultiIndex product, reset."""
    counts = recorder.counts
    days = counts.shape[0]
    index = pd.MultiIndex.from_product(
        [range(days), platform_names, CHANNEL_LABELS, KIND_LABELS],
        names=["day", "platform", "channel", "kind"],
    )
    flat = counts.reshape(-1, len(Outcome))
    table = pd.DataFrame(flat, index=index, columns=list(OUTCOME_COLUMNS)).reset_index()
    table.insert(4, "intended", recorder.intended.reshape(-1))
    prohibited = dict(zip(KIND_LABELS, scenario.rules.takedown.prohibited_mask(), strict=True))
    table["prohibited"] = table["kind"].map(prohibited).astype(bool)
    table["lawful"] = table["kind"] != "unlawful"
    return table


@pytest.mark.parametrize("name", ["china_csl_2016", "open_baseline", "eu_dsa_2024"])
@pytest.mark.parametrize("rules", [True, False])
def test_daily_table_is_the_multiindex_table(name: str, rules: bool) -> None:
    scenario = simulator.override(
        simulator.load_scenario(name), {"population.users": 800, "horizon_days": 4}
    )
    if not rules:
        scenario = scenario.without_rules()
    simulation = Simulation(scenario, 3)
    simulation.run()
    names = [p.name for p in scenario.platforms] + ["circumvention"]
    got = daily_table(simulation.recorder, scenario, names)
    expected = daily_table_multiindex(simulation.recorder, scenario, names)
    assert simulation.recorder.counts.sum() > 0
    # The exposure column (docs/metrics.md "Exposure") came later: the rest is as it was.
    exposure = cell_exposure(simulation.recorder, scenario).reshape(-1)
    np.testing.assert_array_equal(got.pop("exposure").to_numpy(), exposure)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)
    assert got.to_csv(index=False) == expected.to_csv(index=False)


def test_daily_table_of_random_counts() -> None:
    """Every cell in its own row: distinct random counts catch a misplaced column."""
    recorder = Recorder(3, 3)
    rng = np.random.default_rng(0)
    recorder.counts[...] = rng.integers(0, 10**6, recorder.counts.shape)
    recorder.intended[...] = rng.integers(0, 10**6, recorder.intended.shape)
    scenario = simulator.load_scenario("china_csl_2016")
    names = ["a", "b", "circumvention"]
    pd.testing.assert_frame_equal(
        daily_table(recorder, scenario, names).drop(columns=["exposure"]),
        daily_table_multiindex(recorder, scenario, names),
        check_exact=True,
    )
