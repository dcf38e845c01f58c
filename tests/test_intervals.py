"""Intervals that do not mislead (issue 18 item 5): every table of replications reports
the t-interval clipped to what the number can be and, beside it, the percentile
bootstrap interval, from one statement (:mod:`simulator.experiments.intervals`).

The test case is a mixture, a rare big event in one replication of four: values
0, 0, 0, 1 of a share. Its t-interval, 0.25 +- t(0.975, 3) * 0.5 / 2 = 0.25 +- 0.796,
reaches past both ends of [0, 1]; resample means are multiples of 0.25 and the 97.5%
quantile of Binomial(4, 0.25) / 4 is 0.75 (P(4 of 4) = 0.0039, P(>= 3) = 0.051), so the
bootstrap interval is [0, 0.75], lopsided as the runs are.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.experiments.designs import Design
from simulator.experiments.intervals import (
    COUNT,
    SHARE,
    UNBOUNDED,
    interval_columns,
    metric_domain,
)

MIXTURE = np.array([0.0, 0.0, 0.0, 1.0])


def test_a_mixtures_t_interval_is_clipped_and_its_bootstrap_is_lopsided() -> None:
    free = interval_columns(MIXTURE, UNBOUNDED)
    assert free["mean"] == 0.25
    assert free["low"] == pytest.approx(0.25 - 3.182446 * 0.5 / 2, abs=1e-6)
    assert free["high"] == pytest.approx(0.25 + 3.182446 * 0.5 / 2, abs=1e-6)
    share = interval_columns(MIXTURE, SHARE, "x_")
    assert (share["x_low"], share["x_high"]) == (0.0, 1.0)
    assert (share["x_boot_low"], share["x_boot_high"]) == (0.0, 0.75)
    assert share["x_mean"] - share["x_boot_low"] < share["x_boot_high"] - share["x_mean"]
    count = interval_columns(MIXTURE * 7, COUNT)
    assert count["low"] == 0.0 and count["high"] == pytest.approx(7 * free["high"])


def test_one_replication_has_a_mean_and_no_interval() -> None:
    one = interval_columns([0.3], SHARE)
    assert one["mean"] == 0.3
    assert all(math.isnan(one[k]) for k in ("low", "high", "boot_low", "boot_high"))


def test_domains_name_shares_counts_and_free_numbers() -> None:
    assert metric_domain("speech_loss") == SHARE
    assert metric_domain("phases.defiant") == SHARE
    assert metric_domain("fines_total") == COUNT
    assert metric_domain("users_final.detained_ever") == COUNT
    assert metric_domain("speech_loss_by_mechanism.softened_in") == (-math.inf, 0.0)
    assert metric_domain("something_new") == UNBOUNDED


def long_rows(metric: str, values: np.ndarray, point: int = 0) -> list[dict[str, Any]]:
    return [
        {"point": point, "replication": r, "seed": r, "metric": metric, "value": float(v)}
        for r, v in enumerate(values)
    ]


def test_a_sweeps_summary_gives_both_intervals_clipped() -> None:
    from simulator.experiments.tables import summary_table

    long = pd.DataFrame(long_rows("speech_loss", MIXTURE))
    design = Design(kind="grid", fields=(), points=({},))
    row = summary_table(long, design).iloc[0]
    assert (row["speech_loss_low"], row["speech_loss_high"]) == (0.0, 1.0)
    assert (row["speech_loss_boot_low"], row["speech_loss_boot_high"]) == (0.0, 0.75)


def test_the_frontier_table_gives_both_intervals() -> None:
    from simulator.experiments.frontier import FRONTIER_METRICS, frontier_table

    rows = [r for m in FRONTIER_METRICS for r in long_rows(m, MIXTURE)]
    row = frontier_table(pd.DataFrame(rows), [{"deadline_hours": 24.0}]).iloc[0]
    for metric in FRONTIER_METRICS:
        bounds = (row[f"{metric}_boot_low"], row[f"{metric}_boot_high"])
        assert bounds == (0.0, 0.75), metric
    assert row["lawful_speech_lost_high"] == 1.0  # a share's t-interval, clipped
    assert row["fines_total_high"] > 1.0  # money is no share


def test_the_phase_table_gives_both_intervals() -> None:
    from simulator.experiments.phases import phase_table
    from simulator.output.phases import PHASE_COLUMNS

    rows = [r for name in PHASE_COLUMNS for r in long_rows(f"phases.{name}", MIXTURE)]
    table, _ = phase_table(pd.DataFrame(rows), [{"vagueness": 0.5}])
    row = table.iloc[0]
    for name in PHASE_COLUMNS:
        assert (row[f"{name}_low"], row[f"{name}_high"]) == (0.0, 1.0)
        assert (row[f"{name}_boot_low"], row[f"{name}_boot_high"]) == (0.0, 0.75)


def test_group_comparisons_give_both_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Group rates from four runs, one with a crackdown's worth of deletion in the
    region: its rate and its paired difference get the mixture's intervals."""
    from simulator.experiments import groups

    region = iter(MIXTURE)

    def rates(scenario: Any, seed: int) -> dict[str, dict[str, float]]:
        deletion = float(next(region))
        return {
            "xinjiang_tibet": dict.fromkeys(groups.GROUP_RATES, deletion),
            "rest_of_china": dict.fromkeys(groups.GROUP_RATES, 0.0),
        }

    monkeypatch.setattr(groups, "group_rates", rates)
    scenario = simulator.load_scenario("china_regional_scrutiny")
    result = groups.compare_groups(scenario, reps=4, seed=1, against="rest_of_china")
    table = result.table.set_index(["group", "rate"])
    row = table.loc[("xinjiang_tibet", "deletion_rate")]
    assert (row["low"], row["high"]) == (0.0, 1.0)
    assert (row["boot_low"], row["boot_high"]) == (0.0, 0.75)
    assert row["minus_against_low"] < 0.0  # a difference is clipped to [-1, 1], not [0, 1]
    assert (row["minus_against_boot_low"], row["minus_against_boot_high"]) == (0.0, 0.75)
    detentions = table.loc[("xinjiang_tibet", "detentions_per_1000_users")]
    assert detentions["low"] == 0.0 and detentions["high"] > 1.0  # a rate per 1,000


def test_a_groups_difference_of_shares_stays_within_minus_one_and_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Paired differences 1, 1, 1, -1 of a share: t-interval 0.5 +- 3.18 * 1 / 2 =
    [-1.09, 2.09], clipped to [-1, 1]; detentions per 1,000 are not clipped."""
    from simulator.experiments import groups

    runs = iter([(1.0, 0.0), (1.0, 0.0), (1.0, 0.0), (0.0, 1.0)])

    def rates(scenario: Any, seed: int) -> dict[str, dict[str, float]]:
        region, rest = next(runs)
        return {
            "xinjiang_tibet": dict.fromkeys(groups.GROUP_RATES, region),
            "rest_of_china": dict.fromkeys(groups.GROUP_RATES, rest),
        }

    monkeypatch.setattr(groups, "group_rates", rates)
    scenario = simulator.load_scenario("china_regional_scrutiny")
    table = groups.compare_groups(scenario, reps=4, seed=1, against="rest_of_china").table
    row = table.set_index(["group", "rate"]).loc[("xinjiang_tibet", "deletion_rate")]
    assert (row["minus_against_low"], row["minus_against_high"]) == (-1.0, 1.0)
    count = table.set_index(["group", "rate"]).loc[("xinjiang_tibet", "detentions_per_1000_users")]
    assert count["minus_against_low"] < -1.0 and count["minus_against_high"] > 1.0


def test_the_comparison_prints_the_bootstrap_beneath_the_t_interval() -> None:
    from simulator.cli.plots import format_table
    from simulator.plots import comparison_table

    runs = [{"political_speech_lost": v} for v in MIXTURE * 0.4]
    table = comparison_table({"mixture": runs})
    lines = format_table(table)
    regime = next(i for i, line in enumerate(lines) if line.startswith("mixture"))
    # 0.1 + 3.1824 * 0.2 / 2 above, clipped to 0 below:
    assert "10.00% [0.00, 41.82]" in lines[regime]
    assert lines[regime + 1].split()[:2] == ["bootstrap", "(0.00,"]
    assert "30.00)" in lines[regime + 1]
    assert "bootstrap interval" in lines[-1]
