"""Figures hold the numbers of the results they were drawn from (not just files on disk)."""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import simulator
from simulator import plots
from simulator.errors import OutputError
from simulator.kinds import KIND_LABELS
from simulator.output.results import Results

matplotlib.use("Agg")


@functools.lru_cache(maxsize=4)
def classroom(days: int = 20, audits_per_year: float | None = None) -> Results:
    """``classroom`` for a few days; with many audits it gets warnings, fines, suspensions."""
    scenario = simulator.load_scenario("classroom")
    if audits_per_year is not None:
        scenario = simulator.override(
            scenario,
            {
                "regulator.audits_per_year": audits_per_year,
                "regulator.audit_sample_size": 1000,
            },
        )
    return simulator.run(scenario, seed=42, days=days)


def lines_by_gid(fig: Figure) -> dict[str, Line2D]:
    return {line.get_gid(): line for ax in fig.axes for line in ax.lines if line.get_gid()}


def span_width(patch: Any) -> float:
    """Width in days of an ``axvspan`` (a Rectangle in recent matplotlib, a Polygon before)."""
    if hasattr(patch, "get_width"):
        return float(patch.get_width())
    xs = np.asarray(patch.get_xy())[:, 0]
    return float(xs.max() - xs.min())


# -- funnel ---------------------------------------------------------------------------


def test_funnel_bar_heights_are_the_summary_counts() -> None:
    results = classroom()
    fig = plots.funnel(results)
    patches = {p.get_gid(): p for ax in fig.axes for p in ax.patches if p.get_gid()}
    for kind in KIND_LABELS:
        counts = results.summary["per_kind"][kind]
        # Criticism also says what was softened into it (docs/model.md S3).
        level = counts["intended"] + counts["softened_in"]
        for stage in plots.FUNNEL_STAGES:
            bar = patches[f"funnel-{kind}-{stage}"]
            expected = level if stage == "intended" else counts[stage]
            assert bar.get_height() == pytest.approx(expected)
            if stage in ("withheld", "softened", "excluded", "blocked", "removed"):
                # A waterfall: each loss floats at what is left after it.
                level -= counts[stage]
                assert bar.get_y() == pytest.approx(level)
            else:
                assert bar.get_y() == 0
        # Conservation shows in the picture: the last loss ends where surviving begins.
        assert level == counts["surviving"]
    assert sum(ax.get_visible() for ax in fig.axes) == len(KIND_LABELS)


def test_funnel_shares_and_run_folder(tmp_path: Path) -> None:
    results = classroom()
    folder = results.write(tmp_path / "run")
    fig = plots.funnel(folder, kinds=["critical"], share=True)
    counts = results.summary["per_kind"]["critical"]
    heights = {p.get_gid(): p.get_height() for p in fig.axes[0].patches if p.get_gid()}
    said = counts["intended"] + counts["softened_in"]
    for stage in plots.FUNNEL_STAGES:
        expected = 100.0 * (said if stage == "intended" else counts[stage]) / said
        assert heights[f"funnel-critical-{stage}"] == pytest.approx(expected)
    assert fig.axes[0].get_ylabel() == "% of intended posts"
    with pytest.raises(ValueError, match="unknown content kind"):
        plots.funnel(results, kinds=["gossip"])


def test_funnel_stages_differ_without_colour() -> None:
    fig = plots.funnel(classroom(), kinds=["critical"])
    bars = [p for p in fig.axes[0].patches if p.get_gid()]
    # Stages are told apart by hatch or by grey level of the fill, not by hue alone.
    looks = {
        (bar.get_hatch() or "", round(float(np.dot(bar.get_facecolor()[:3], [0.3, 0.59, 0.11])), 2))
        for bar in bars
    }
    assert len(looks) == len(plots.FUNNEL_STAGES)


# -- time series ----------------------------------------------------------------------


def test_time_series_lines_are_the_table_columns() -> None:
    results = classroom()
    fig = plots.time_series(results)
    lines = lines_by_gid(fig)
    sensitive = results.daily[results.daily["kind"] != "benign"]
    per_day = sensitive.groupby("day")[["intended", "surviving", "withheld"]].sum()
    for column in ("intended", "surviving", "withheld"):
        line = lines[f"speech-{column}"]
        np.testing.assert_array_equal(line.get_xdata(), per_day.index.to_numpy())
        np.testing.assert_array_equal(line.get_ydata(), per_day[column].to_numpy())
    population = results.population_daily
    for name in ("removal", "detention"):
        np.testing.assert_allclose(
            lines[f"risk-{name}"].get_ydata(), population[f"mean_p_{name}_collective_action"]
        )
    np.testing.assert_array_equal(lines["active"].get_ydata(), population["active"])
    for column in ("excluded", "left", "circumventing", "detained"):
        np.testing.assert_array_equal(lines[f"users-{column}"].get_ydata(), population[column])
    assert len(lines["risk-removal"].get_xdata()) == 20
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels[0] == "posts per day" and "perceived" in labels[1]
    assert labels[2] == "active users"
    assert fig.axes[-1].get_xlabel() == "day of the run"


def test_time_series_of_benign_posts_only() -> None:
    results = classroom()
    line = lines_by_gid(plots.time_series(results, kinds=["benign"]))["speech-intended"]
    benign = results.daily[results.daily["kind"] == "benign"].groupby("day")["intended"].sum()
    np.testing.assert_array_equal(line.get_ydata(), benign.to_numpy())


def test_series_lines_differ_in_style_not_only_colour() -> None:
    fig = plots.time_series(classroom())
    for ax in fig.axes:
        looks = [(line.get_linestyle(), line.get_marker()) for line in ax.lines]
        assert len(set(looks)) == len(looks)


# -- removal curve --------------------------------------------------------------------


def test_removal_curve_is_the_cumulative_share_of_delays() -> None:
    results = classroom()
    fig = plots.removal_curve(results)
    lines = lines_by_gid(fig)
    by_bin = results.delays.groupby("upper_hours", sort=True)["removed"].sum()
    total = by_bin.sum()
    assert total > 0, "the test run should remove something"
    finite = np.isfinite(by_bin.index.to_numpy())
    expected = (by_bin.cumsum() / total)[finite]
    curve = lines["removal-all"]
    np.testing.assert_allclose(curve.get_xdata(), expected.index.to_numpy())
    np.testing.assert_allclose(curve.get_ydata(), expected.to_numpy())
    # The curve agrees with the summary's own marks (8 min, 30 min, 1 h, 24 h).
    for mark, hours in (("8min", 8 / 60), ("30min", 0.5), ("1h", 1.0), ("24h", 24.0)):
        at = float(np.interp(hours, curve.get_xdata(), curve.get_ydata()))
        assert at == pytest.approx(results.summary[f"removed_within_{mark}"])
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "log" in ax.get_xlabel() and ax.get_ylabel() == "cumulative share of removals"


def test_removal_curve_marks_the_published_points_only_on_their_scenario() -> None:
    # The C2 points are Weibo 2012's: drawn on that scenario's curve, on no other.
    assert "removal-reference" not in lines_by_gid(plots.removal_curve(classroom()))
    as_weibo = dataclasses.replace(classroom(), scenario_name="china_weibo_2012")
    reference = lines_by_gid(plots.removal_curve(as_weibo))["removal-reference"]
    np.testing.assert_allclose(reference.get_xdata(), [8 / 60, 0.5, 24.0])
    np.testing.assert_allclose(reference.get_ydata(), [0.05, 0.30, 0.90])


def test_removal_curve_shows_the_mass_under_a_minute() -> None:
    # A log time axis that starts at one minute or earlier, so removals within a minute show.
    ax = plots.removal_curve(classroom()).axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlim()[0] <= 1 / 60 + 1e-12


def _titles(fig: Figure) -> str:
    texts = [ax.get_title() for ax in fig.axes]
    if fig._suptitle is not None:
        texts.append(fig._suptitle.get_text())
    return " | ".join(texts)


def test_every_run_figure_title_carries_users_times_days() -> None:
    results = classroom()
    users, days = int(results.summary["users"]), int(results.summary["horizon_days"])
    size = f"{users:,} users \u00d7 {days} days"
    for draw in (plots.funnel, plots.time_series, plots.removal_curve, plots.platforms):
        assert size in _titles(draw(results)), draw.__name__


def test_every_run_figure_title_names_its_unit() -> None:
    results = classroom()
    assert "% of removals" in _titles(plots.removal_curve(results))
    assert "posts over the whole run" in _titles(plots.funnel(results))
    assert "% of intended posts" in _titles(plots.funnel(results, share=True))
    assert "per day" in _titles(plots.time_series(results))
    assert "strictness 0-1" in _titles(plots.platforms(results))


def test_platform_figure_marks_the_strictness_cap() -> None:
    results = classroom()
    lines = lines_by_gid(plots.platforms(results))
    for name in results.platform_daily["platform"].unique():
        cap = lines[f"cap-{name}"]
        np.testing.assert_allclose(cap.get_ydata(), [0.999, 0.999])
    capped = dict(results.scenario)
    capped["platforms"] = [{**p, "max_strictness": 0.4} for p in results.scenario["platforms"]]
    lines = lines_by_gid(plots.platforms(dataclasses.replace(results, scenario=capped)))
    name = results.platform_daily["platform"].iloc[0]
    np.testing.assert_allclose(lines[f"cap-{name}"].get_ydata(), [0.4, 0.4])


def test_funnel_benign_panel_is_on_its_own_scale() -> None:
    results = classroom()
    fig = plots.funnel(results, kinds=["benign", "critical"])
    benign, critical = fig.axes[0], fig.axes[1]
    assert benign.get_shared_y_axes().get_siblings(benign) == [benign]
    intended = results.summary["per_kind"]["critical"]
    top = float(intended["intended"]) + float(intended.get("softened_in", 0))
    assert critical.get_ylim()[1] == pytest.approx(top * 1.22)


def test_removal_curve_per_kind_ends_at_its_kind_total() -> None:
    results = classroom()
    lines = lines_by_gid(plots.removal_curve(results))
    for kind in KIND_LABELS:
        removed = results.delays.loc[results.delays["kind"] == kind, "removed"]
        if removed.sum() == 0:
            assert f"removal-{kind}" not in lines
            continue
        finite = np.isfinite(results.delays.loc[removed.index, "upper_hours"].to_numpy())
        y = lines[f"removal-{kind}"].get_ydata()
        assert y[-1] == pytest.approx(removed[finite].sum() / removed.sum())


# -- platforms ------------------------------------------------------------------------


def test_platform_figure_holds_strictness_fines_and_events() -> None:
    results = classroom(days=20, audits_per_year=200.0)
    events = results.events
    assert (events["event"] == "fine").any(), "the test run should be fined"
    fig = plots.platforms(results)
    lines = lines_by_gid(fig)
    off_days = 0.0
    for name, rows in results.platform_daily.groupby("platform"):
        rows = rows.sort_values("day")
        np.testing.assert_allclose(lines[f"strictness-{name}"].get_ydata(), rows["strictness"])
        np.testing.assert_allclose(lines[f"fines-{name}"].get_ydata(), rows["fines_paid"])
        np.testing.assert_array_equal(lines[f"penalty-{name}"].get_ydata(), rows["penalty_level"])
        # Shaded spans cover exactly the days the platform was not serving.
        spans = [p for ax in fig.axes[:1] for p in ax.patches if p.get_gid() == f"off-{name}"]
        shaded = sum(span_width(p) for p in spans)
        assert shaded == pytest.approx(int((rows["serving"] == 0).sum()))
        off_days += shaded
    assert off_days > 0, "the test run should suspend or close a platform"
    for event in plots.PLATFORM_EVENTS:
        n = int((events["event"] == event).sum())
        if n:
            marks = lines[f"event-{event}"]
            assert len(marks.get_xdata()) == n
            chosen = events[events["event"] == event]
            np.testing.assert_allclose(marks.get_xdata(), chosen["time_hours"] / 24.0)
        else:
            assert f"event-{event}" not in lines
    fines = results.platform_daily.groupby("platform")["fines_paid"].max().sum()
    assert fines == pytest.approx(results.summary["fines_total"])
    assert "CNY" in fig.axes[1].get_ylabel()


def test_runs_of_days() -> None:
    assert plots.runs._runs(np.array([9, 3, 4, 5])) == [(3, 5), (9, 9)]
    assert plots.runs._runs(np.array([], dtype=int)) == []


# -- comparison -----------------------------------------------------------------------


def test_comparison_table_is_the_student_t_interval() -> None:
    groups = {
        "a": [{"speech_loss": 0.3}, {"speech_loss": 0.4}, {"speech_loss": 0.5}],
        "b": [{"speech_loss": 0.5}],
    }
    table = plots.comparison_table(groups, metrics=["speech_loss"])
    a = table.set_index("regime").loc["a"]
    half = 4.302652729749464 * 0.1 / math.sqrt(3)  # t(0.975, 2 df) x sd / sqrt(n)
    assert a["speech_loss_mean"] == pytest.approx(0.4)
    assert a["speech_loss_ci_low"] == pytest.approx(0.4 - half)
    assert a["speech_loss_ci_high"] == pytest.approx(0.4 + half)
    b = table.set_index("regime").loc["b"]
    assert b["replications"] == 1 and b["speech_loss_mean"] == 0.5
    assert math.isnan(b["speech_loss_ci_low"])


def test_comparison_table_clips_intervals_to_each_metric_domain() -> None:
    # Few replications of small values: the t-interval reaches below 0, which neither a
    # share nor a count (detentions) nor an amount (fines) can.
    runs = [
        {"speech_loss": v, "fines_total": 1e6 * v, "detentions_total": 10 * v, "currency": "CNY"}
        for v in (0.1, 0.2, 0.3)
    ]
    metrics = ["speech_loss", "fines_total", "detentions_total"]
    row = plots.comparison_table({"a": runs}, metrics).iloc[0]
    half = 4.302652729749464 * 0.1 / math.sqrt(3)
    assert 0.2 - half < 0  # the unclipped bound would be negative
    assert row["speech_loss_ci_low"] == 0.0
    assert row["speech_loss_ci_high"] == pytest.approx(0.2 + half)
    assert row["fines_total_ci_low"] == 0.0
    assert row["fines_total_ci_high"] == pytest.approx(1e6 * (0.2 + half))  # no upper bound
    assert row["detentions_total_ci_low"] == 0.0
    assert row["detentions_total_ci_high"] == pytest.approx(10 * (0.2 + half))
    # A share's upper bound stops at 1.
    high = plots.comparison_table({"b": [{"chilling_effect": v} for v in (0.9, 1.0, 1.0)]})
    assert high.iloc[0]["chilling_effect_ci_high"] == 1.0
    assert plots.METRIC_DOMAINS["detentions_total"] == (0.0, math.inf)


def test_comparison_table_names_the_currency_of_money() -> None:
    groups = {
        "china": [{"fines_total": 5e5, "currency": "CNY"}, {"fines_total": 7e5, "currency": "CNY"}],
        "eu": [{"fines_total": 1e6, "currency": "EUR"}],
        "mixed": [{"fines_total": 1.0, "currency": "CNY"}, {"fines_total": 3.0, "currency": "EUR"}],
        "old": [{"fines_total": 2.0}],
    }
    table = plots.comparison_table(groups, ["fines_total"]).set_index("regime")
    assert table["currency"].to_dict() == {
        "china": "CNY", "eu": "EUR", "mixed": "CNY/EUR", "old": ""
    }  # fmt: skip
    assert table.loc["china", "fines_total_mean"] == 6e5
    # Amounts in two currencies are not averaged.
    assert math.isnan(table.loc["mixed", "fines_total_mean"])
    assert math.isnan(table.loc["mixed", "fines_total_ci_low"])
    # A run folder written before summaries named the currency: its scenario's.
    run = classroom(days=3)
    older = dataclasses.replace(
        run, summary={k: v for k, v in run.summary.items() if k != "currency"}
    )
    assert plots.comparison_table({"r": [older]}, ["fines_total"])["currency"].tolist() == ["CNY"]
    fig = plots.comparison(table.reset_index(), ["fines_total"])
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["china\n(CNY)", "eu\n(EUR)", "mixed\n(CNY/EUR)", "old"]


def test_comparison_bars_and_error_bars_match_the_table() -> None:
    scenario = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 600, "horizon_days": 10}
    )
    lax = simulator.override(scenario, {"rules.takedown.vagueness": 0.0})
    seeds = simulator.streams.replication_seeds(3, 3)
    groups = {
        "classroom": [simulator.run(scenario, seed=s) for s in seeds],
        "bright_line": [simulator.run(lax, seed=s) for s in seeds],
    }
    metrics = ["speech_loss", "chilling_effect", "collateral_share"]
    table = plots.comparison_table(groups, metrics)
    fig = plots.comparison(groups, metrics)
    for ax, metric in zip(fig.axes, metrics, strict=False):
        bars = next(c for c in ax.containers if isinstance(c, BarContainer))
        heights = [bar.get_height() for bar in bars]
        np.testing.assert_allclose(heights, 100 * table[f"{metric}_mean"])
        for regime, runs in groups.items():
            values = [r.summary[metric] for r in runs]
            row = table.set_index("regime").loc[regime]
            assert row[f"{metric}_mean"] == pytest.approx(np.mean(values))
        errors = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
        segments = errors.lines[2][0].get_segments()
        lows = [seg[0][1] for seg in segments]
        highs = [seg[1][1] for seg in segments]
        np.testing.assert_allclose(lows, 100 * table[f"{metric}_ci_low"])
        np.testing.assert_allclose(highs, 100 * table[f"{metric}_ci_high"])
        assert [t.get_text() for t in ax.get_xticklabels()] == ["classroom", "bright_line"]
        assert "%" in ax.get_ylabel()
    # Bars of different regimes differ by hatch, not colour alone.
    bars = next(c for c in fig.axes[0].containers if isinstance(c, BarContainer))
    assert len({bar.get_hatch() for bar in bars}) == 2
    with pytest.raises(ValueError, match="unknown metric"):
        plots.comparison(groups, ["happiness"])


# -- files ----------------------------------------------------------------------------


def test_write_all_writes_every_figure(tmp_path: Path) -> None:
    written = plots.write_all(classroom(), tmp_path / "figs", fmt="png")
    assert [p.name for p in written] == [f"{name}.png" for name in plots.RUN_FIGURES]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OutputError, match="allowed: png, svg, pdf"):
        plots.write_all(classroom(), tmp_path / "x", fmt="gif")


def test_same_run_gives_the_same_figure_bytes(tmp_path: Path) -> None:
    first = plots.save(plots.removal_curve(classroom()), tmp_path / "a.svg").read_bytes()
    second = plots.save(plots.removal_curve(classroom()), tmp_path / "b.svg").read_bytes()
    assert first.lstrip().startswith(b"<?xml")
    assert first == second


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="not a censim run folder"):
        plots.funnel(tmp_path)


def test_style_is_restored_after_drawing() -> None:
    before = matplotlib.rcParams["font.size"]
    plots.funnel(classroom())
    assert matplotlib.rcParams["font.size"] == before
    assert isinstance(plots.daily_speech(classroom()), pd.DataFrame)


def test_comparison_draws_a_mean_outside_its_clipped_interval() -> None:
    """Speech loss can be slightly negative (softened calls to act survive as criticism)
    while its interval is clipped to [0, 1]: the bars are drawn, with no error bar below
    the mean (matplotlib refused negative error lengths)."""
    runs = [{"speech_loss": v} for v in (-0.010, -0.012, -0.011)]
    table = plots.comparison_table({"a": runs}, ["speech_loss"])
    assert table.iloc[0]["speech_loss_mean"] < table.iloc[0]["speech_loss_ci_low"] == 0.0
    figure = plots.comparison(table, ["speech_loss"])
    assert figure.axes and figure.axes[0].patches


def test_comparison_shows_a_mixture_as_it_is() -> None:
    """One big event in four replications (issue 18 item 5): the t-interval is symmetric
    around a mean no run had and reaches past the values; the bootstrap interval and the
    runs' range stay where the runs are, and the figure draws that range."""
    runs = [{"political_speech_lost": v} for v in (0.0, 0.0, 0.0, 0.4)]
    row = plots.comparison_table({"a": runs, "b": runs[:1]}, ["political_speech_lost"])
    a, b = row.iloc[0], row.iloc[1]
    assert a["political_speech_lost_ci_high"] > 0.4  # beyond every run
    assert a["political_speech_lost_boot_low"] == 0.0
    # Resample means are multiples of 0.1; three or four 0.4s in four draws: p = 0.051.
    assert a["political_speech_lost_boot_high"] == pytest.approx(0.3)
    assert (a["political_speech_lost_min"], a["political_speech_lost_max"]) == (0.0, 0.4)
    assert math.isnan(b["political_speech_lost_boot_low"])  # one run: no interval
    again = plots.comparison_table({"a": runs}, ["political_speech_lost"]).iloc[0]
    assert again["political_speech_lost_boot_high"] == a["political_speech_lost_boot_high"]
    fig = plots.comparison(row, ["political_speech_lost"])
    spread = next(
        c for c in fig.axes[0].collections if c.get_gid() == "spread-political_speech_lost"
    )
    segments = spread.get_segments()
    assert len(segments) == 1  # regime b has one run: no range
    assert [point[1] for point in segments[0]] == pytest.approx([0.0, 40.0])
