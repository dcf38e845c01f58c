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
    # A log time axis that starts before one minute, and the first minute's share marked
    # and written: the mass removed within a minute is inside the axes, in numbers.
    results = classroom()
    fig = plots.removal_curve(results)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlim()[0] < 1 / 60
    first = results.delays[results.delays["upper_hours"] <= 1 / 60 + 1e-12]["removed"].sum()
    share = first / results.delays["removed"].sum()
    assert share > 0, "the test run should remove something within a minute"
    mark = lines_by_gid(fig)["removal-first-minute"]
    np.testing.assert_allclose(mark.get_xdata(), [1 / 60])
    np.testing.assert_allclose(mark.get_ydata(), [share])
    assert f"{share:.1%} within 1 min" in [text.get_text() for text in ax.texts]


def flat(text: str) -> str:
    """A title on one line (long titles are broken into lines)."""
    return " ".join(text.split())


def _titles(fig: Figure) -> str:
    texts = [ax.get_title() for ax in fig.axes]
    if fig._suptitle is not None:
        texts.append(fig._suptitle.get_text())
    return flat(" | ".join(texts))


def test_every_run_figure_title_carries_users_times_days() -> None:
    results = classroom()
    users, days = int(results.summary["users"]), int(results.summary["horizon_days"])
    size = f"{users:,} users \u00d7 {days} days"
    for draw in plots.RUN_FIGURES.values():
        assert size in _titles(draw(results)), draw.__name__


def test_every_run_figure_title_names_its_unit() -> None:
    results = classroom()
    assert "% of removals" in _titles(plots.removal_curve(results))
    assert "posts over the whole run" in _titles(plots.funnel(results))
    assert "% of intended posts" in _titles(plots.funnel(results, share=True))
    assert "per day" in _titles(plots.time_series(results))
    assert "strictness 0-1" in _titles(plots.platforms(results))
    assert "(posts and notices, whole run)" in _titles(plots.transparency(results))


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


# -- house style on every figure (issue 18 item 6) -------------------------------------


def has_zero_line(ax: Any, axis: str = "y") -> bool:
    """``ax`` draws the house zero baseline (gid "zero") at 0 along ``axis``."""
    for line in ax.lines:
        if line.get_gid() != "zero":
            continue
        data = line.get_ydata() if axis == "y" else line.get_xdata()
        if np.allclose(np.asarray(data, dtype=float), 0.0):
            return True
    return False


def test_time_series_starts_users_at_zero_and_notes_hidden_lines() -> None:
    results = classroom()
    population = results.population_daily.copy()
    population["left"] = 0  # a line of zeros
    population["circumventing"] = population["excluded"] + 1
    population["detained"] = population["excluded"] + 1  # the same line as circumventing
    fig = plots.time_series(dataclasses.replace(results, population_daily=population))
    lines = lines_by_gid(fig)
    assert lines["users-left"].get_label() == "left (0 throughout)"
    assert lines["users-detained"].get_label() == "detained (= circumventing)"
    assert lines["users-circumventing"].get_label() == "circumventing"
    # Identical lines carry their markers at different days, so both show.
    assert lines["users-detained"].get_markevery() != lines["users-circumventing"].get_markevery()
    active = fig.axes[2]
    assert active.get_ylim()[0] == 0.0  # a drop of a few users is not a collapse
    assert has_zero_line(fig.axes[3])
    assert fig.axes[3].get_xlabel() == "day of the run"
    assert fig.axes[0].get_ylabel() == "posts per day"


def test_platform_figure_notes_platforms_on_the_same_line() -> None:
    results = classroom()
    daily = results.platform_daily
    first = daily["platform"].iloc[0]
    mirror = daily[daily["platform"] == first].assign(platform="mirror")
    fig = plots.platforms(dataclasses.replace(results, platform_daily=pd.concat([daily, mirror])))
    lines = lines_by_gid(fig)
    assert lines["strictness-mirror"].get_label() == f"mirror (= {first})"
    assert lines[f"strictness-{first}"].get_label() == first
    assert has_zero_line(fig.axes[2])  # the penalty ladder's clean record
    assert fig.axes[0].get_ylim()[0] == 0.0 and fig.axes[1].get_ylim()[0] == 0.0


def test_transparency_figure_in_the_house_style() -> None:
    results = classroom()
    fig = plots.transparency(results)
    left, right = fig.axes[:2]
    assert left.get_xlim()[0] == 0.0 and has_zero_line(left, axis="x")
    assert right.get_ylim()[0] == 0.0 and has_zero_line(right)
    assert "whole run" in left.get_xlabel() and right.get_ylabel() == "notices (count)"
    # "in the report: x of y" sits right of a short bar, never over the platform's name.
    notes = [t for t in left.texts if t.get_text().startswith("in the report")]
    longest = max(note.xy[0] for note in notes)
    assert notes and all(
        note.get_horizontalalignment() == ("right" if note.xy[0] >= 0.4 * longest else "left")
        for note in notes
    )
    assert any(note.get_horizontalalignment() == "left" for note in notes)  # classroom's
    ticks = right.get_yticks()
    assert np.allclose(ticks, np.round(ticks))  # notices are whole counts


def _summaries(loss: float, users: int = 500, days: int = 8) -> list[dict[str, Any]]:
    return [
        {"speech_loss": loss + d, "users": users, "horizon_days": days, "currency": "EUR"}
        for d in (0.0, 0.0)
    ]


def test_comparison_in_the_house_style() -> None:
    groups = {"open": _summaries(0.0), "strict": _summaries(0.2)}
    fig = plots.comparison(groups, ["speech_loss"])
    title = flat(fig._suptitle.get_text())
    assert "500 users \u00d7 8 days" in title and "units on each axis" in title
    ax = fig.axes[0]
    assert "%" in ax.get_ylabel() and has_zero_line(ax)
    # A mean of exactly 0 draws no bar: it is written.
    assert [t.get_text() for t in ax.texts] == ["0"]
    assert ax.texts[0].xy == (0, 0.0)
    # Runs of different sizes: the title says they vary; a table alone says "?".
    mixed = {"open": _summaries(0.0, users=500), "strict": _summaries(0.2, users=900)}
    assert "varied users \u00d7 8 days" in _titles(plots.comparison(mixed, ["speech_loss"]))
    table = plots.comparison_table(groups, ["speech_loss"])
    assert "? users \u00d7 ? days" in _titles(plots.comparison(table, ["speech_loss"]))
    sized = plots.comparison(table, ["speech_loss"], users=500, days=8)
    assert "500 users \u00d7 8 days" in flat(sized._suptitle.get_text())


def test_comparison_keeps_a_negative_mean_in_view() -> None:
    table = plots.comparison_table({"a": _summaries(-0.01)}, ["speech_loss"])
    ax = plots.comparison(table, ["speech_loss"]).axes[0]
    assert ax.get_ylim()[0] < -1.0 < 0.0 and has_zero_line(ax)  # -1% is drawn


def test_loss_by_mechanism_in_the_house_style() -> None:
    table = plots.comparison_table({"open": _summaries(0.0), "strict": _summaries(0.2)})
    fig = plots.loss_by_mechanism(table, users=500, days=8)
    title = flat(fig._suptitle.get_text())
    assert "500 users \u00d7 8 days" in title and "% of the posts surviving without rules" in title
    assert all(has_zero_line(ax) for ax in fig.axes[:2])


def _study(effect_after: float) -> Any:
    from simulator.experiments.event_study import EventStudy

    days = np.arange(-3, 4)
    control = np.array([5.0, 6.0, 5.0, 4.0, 5.0, 6.0, 5.0])
    treated = control + np.where(days >= 0, effect_after, 0.0)
    table = pd.DataFrame(
        {
            "day": days + 3, "days_since": days,
            "treated_mean": treated, "treated_low": treated - 1, "treated_high": treated + 1,
            "control_mean": control, "control_low": control - 1, "control_high": control + 1,
            "effect_mean": treated - control, "effect_low": treated - control - 0.5,
            "effect_high": treated - control + 0.5,
        }
    )  # fmt: skip
    return EventStudy(
        "classroom", "crackdown", 3, "removed", ("critical", "collective_action"), 4, table,
        pd.DataFrame(), 2000, 7,
    )  # fmt: skip


def test_event_study_figure_in_the_house_style() -> None:
    from simulator.plots.event_study import event_study_figure

    fig = event_study_figure(_study(-2.0))
    title = flat(fig._suptitle.get_text())
    assert "2,000 users \u00d7 7 days" in title and "removed posts per day" in title
    assert "4 paired replications" in title
    top, bottom = fig.axes[:2]
    assert top.get_ylim()[0] == 0.0  # daily counts from zero
    assert has_zero_line(top) and has_zero_line(bottom)
    assert "posts per day" in top.get_ylabel() and "posts per day" in bottom.get_ylabel()
    assert bottom.get_xlabel() == "days since `crackdown` (day 3 of the run)"
    lines = lines_by_gid(fig)
    # Before the entry treated and control are the same runs: the hidden line is said.
    assert lines["event-control"].get_label().endswith("(= treated before day 0)")
    assert lines["event-treated"].get_markevery() != lines["event-control"].get_markevery()
    # An entry that changes nothing: the two lines coincide throughout.
    same = lines_by_gid(event_study_figure(_study(0.0)))
    assert same["event-control"].get_label().endswith("(= treated)")


def _frontier_table() -> pd.DataFrame:
    rows = []
    for deadline, reviewers, lost, prevented in (
        (24.0, 1.0, 0.02, 0.30), (24.0, 5.0, 0.02, 0.30), (168.0, 1.0, 0.0, 0.10),
        (168.0, 5.0, 0.01, 0.20),
    ):  # fmt: skip
        row = {"deadline_hours": deadline, "reviewers_per_100k_users": reviewers,
               "fine_factor": 1.0, "replications": 3, "efficient": True}  # fmt: skip
        for metric, value in (
            ("lawful_speech_lost", lost), ("unlawful_exposure_prevented", prevented)
        ):  # fmt: skip
            row |= {f"{metric}_mean": value, f"{metric}_low": value, f"{metric}_high": value}
        rows.append(row)
    return pd.DataFrame(rows)


def test_frontier_figure_in_the_house_style() -> None:
    from simulator.experiments.frontier import FrontierResults
    from simulator.plots.frontier import frontier_figure

    table = _frontier_table()
    results = FrontierResults(table, None, "germany_netzdg_2017", 1500, 15)  # type: ignore[arg-type]
    ax = frontier_figure(results).axes[0]
    title = flat(ax.get_title())
    assert "1,500 users \u00d7 15 days" in title and "% of the no-rules counterfactual" in title
    assert "3 paired replications" in title and "95% t intervals" in title  # no bootstrap
    assert has_zero_line(ax) and has_zero_line(ax, axis="x")
    # A setting that loses no lawful speech sits at x = 0: inside the axes, not on its edge.
    assert ax.get_xlim()[0] < 0.0 and ax.get_ylim() == (0.0, 100.0)
    # Two settings with the same outcome: one label naming both.
    texts = [t.get_text() for t in ax.texts]
    both = "1 reviewers/100k\n= 5 reviewers/100k\n(same outcome)"
    assert sorted(texts) == sorted([both, "1 reviewers/100k", "5 reviewers/100k"])
    assert "? users \u00d7 ? days" in flat(frontier_figure(table).axes[0].get_title())


def test_frontier_error_bars_are_the_bootstrap_intervals_where_the_table_has_them() -> None:
    """A mixture's bootstrap interval is lopsided (issue 18 item 5): the bars draw it,
    and the title says which interval they are."""
    from simulator.plots.frontier import frontier_figure

    table = _frontier_table()
    for metric in ("lawful_speech_lost", "unlawful_exposure_prevented"):
        table[f"{metric}_boot_low"] = table[f"{metric}_mean"]  # nothing below the mean
        table[f"{metric}_boot_high"] = table[f"{metric}_mean"] + 0.05
    ax = frontier_figure(table).axes[0]
    assert "95% bootstrap intervals" in flat(ax.get_title())
    bars = [c for c in ax.collections if c.get_segments() and len(c.get_segments()[0]) == 2]
    spans = {
        round(float(seg[1][1] - seg[0][1]), 6)
        for c in bars
        for seg in c.get_segments()
        if abs(seg[1][0] - seg[0][0]) < 1e-12  # vertical: the exposure's bar
    }
    assert spans == {5.0}  # 0 below the mean, 5 points above


def test_frontier_names_deadlines_whose_marks_lie_on_each_other() -> None:
    """The NetzDG frontier's 24 h and 168 h marks coincide at every staff level (issue 18
    item 6: no overlapping marks without a mark): the place's label names both
    deadlines, with "same outcome"; a deadline alone at its place is not named."""
    from simulator.plots.frontier import frontier_figure

    table = _frontier_table()
    table.loc[table["deadline_hours"] == 168.0, "deadline_hours"] = 1.0
    shifted = table[table["deadline_hours"] == 24.0].assign(deadline_hours=168.0)
    table = pd.concat([table, shifted], ignore_index=True)
    texts = sorted(t.get_text() for t in frontier_figure(table).axes[0].texts)
    both = "1 reviewers/100k\n= 5 reviewers/100k\ndeadlines 24 = 168 h\n(same outcome)"
    assert texts == sorted([both, "1 reviewers/100k", "5 reviewers/100k"])
    # One lever varied: the coinciding deadlines are still named.
    alone = table[table["reviewers_per_100k_users"] == 1.0]
    texts = sorted(t.get_text() for t in frontier_figure(alone).axes[0].texts)
    assert texts == ["deadlines 24 = 168 h\n(same outcome)"]


def test_phase_figure_in_the_house_style() -> None:
    from simulator.plots.phase import phase_figure

    fig = phase_figure(users=1000, grid_users=2000)
    title = flat(fig._suptitle.get_text())
    assert "1,000 users \u00d7 1 day" in title and "% of users" in title
    panels = [ax for ax in fig.axes if ax.get_title().startswith("tau")]
    assert len(panels) == 9
    assert all(ax.get_ylim() == (0.0, 1.0) for ax in panels)
    # Each panel's stacked phases add up to every user.
    heights = np.zeros(8)
    for patch in panels[0].patches:
        heights[round(patch.get_x() + patch.get_width() / 2)] += patch.get_height()
    np.testing.assert_allclose(heights, 1.0)
    grid = next(ax for ax in fig.axes if ax.get_images())
    assert "2,000 users" in flat(grid.get_title()) and len(grid.texts) == 100


def _sweep(fields: list[str]) -> Any:
    from simulator.experiments.sweeps import SweepResults

    rows = []
    point = 0
    for a in (0.0, 1.0):
        for b in (10.0, 20.0):
            for replication in range(2):
                values = {"a": a, "b": b, "population.users": 100.0 * (1 + a)}
                rows.append(
                    {"point": point, "replication": replication, "seed": replication,
                     **{f: values[f] for f in fields}, "metric": "speech_loss",
                     "value": 0.1 * a + 0.01 * b / 10 + 0.001 * replication}
                )  # fmt: skip
            point += 1
    long = pd.DataFrame(rows)
    model = {
        "kind": "scenario", "name": "classroom",
        "scenario": {"population": {"users": 600}, "horizon_days": 30},
    }  # fmt: skip
    manifest = {"model": model, "design": {"fields": fields}}
    summary = long.drop_duplicates("point")[["point", *fields]].assign(reps=2)
    return SweepResults(out=Path("."), manifest=manifest, summary=summary, long=long)


def test_sweep_figures_in_the_house_style() -> None:
    from simulator.plots.sweeps import metric_heatmap, metric_plot, sensitivity_bars

    results = _sweep(["a", "b"])
    line = metric_plot(results, "a", "speech_loss").axes[0]
    assert "600 users \u00d7 30 days" in flat(line.get_title())
    assert "share, 0 to 1" in flat(line.get_title())
    assert "share, 0 to 1" in line.get_ylabel() and has_zero_line(line)
    heat = metric_heatmap(results, "a", "b", "speech_loss")
    title = flat(heat.axes[0].get_title())
    assert "600 users \u00d7 30 days" in title and "classroom" in title
    colourbar = heat.axes[1]
    assert colourbar.get_ylabel() == "speech_loss (share, 0 to 1)"
    assert len(heat.axes[0].texts) == 4  # every cell's value written
    # A sweep over the population: its size varies.
    varied = metric_plot(_sweep(["a", "population.users"]), "a", "speech_loss").axes[0]
    assert "varied users \u00d7 30 days" in flat(varied.get_title())
    indices = pd.DataFrame(
        {"parameter": ["a", "a"], "index": ["S1", "ST"], "value": [0.5, 0.6], "conf": [0.1, 0.1]}
    )
    bars = sensitivity_bars(indices, method="sobol", metric="speech_loss", runs=results).axes[0]
    assert "600 users \u00d7 30 days" in flat(bars.get_title())
    assert "Sobol" in flat(bars.get_title())
    assert has_zero_line(bars)


def test_sweep_lines_that_coincide_are_noted_and_marked_apart() -> None:
    """Two values of a field that change nothing draw one line over the other: the
    hidden one's legend says so and each line has its own marker (issue 18 item 6)."""
    from simulator.plots.sweeps import metric_plot

    results = _sweep(["a", "b"])
    long = results.long
    long.loc[long["b"] == 20.0, "value"] = long.loc[long["b"] == 10.0, "value"].to_numpy()
    ax = metric_plot(results, "a", "speech_loss").axes[0]
    drawn = [line for line in ax.get_lines() if line.get_label().startswith("b=")]
    assert [line.get_label() for line in drawn] == ["b=10", "b=20 (= b=10)"]
    assert drawn[0].get_marker() != drawn[1].get_marker()
    # Lines that differ carry no note.
    apart = metric_plot(_sweep(["a", "b"]), "a", "speech_loss").axes[0]
    labels = [line.get_label() for line in apart.get_lines()]
    assert [label for label in labels if label.startswith("b=")] == ["b=10", "b=20"]


def _crowded_frontier_table() -> pd.DataFrame:
    """The NetzDG frontier of docs/experiments.md: six staff levels, five of them within
    a fifth of a point of lawful speech and 17 points of exposure of the origin, each at
    three deadlines that change nothing (docs/figures/frontier_netzdg.png)."""
    rows = []
    for reviewers, lost, prevented in (
        (0.5, 0.0005, 0.019), (1.0, 0.0009, 0.029), (2.0, 0.0018, 0.043),
        (5.0, 0.0039, 0.081), (10.0, 0.0081, 0.168), (20.0, 0.0096, 0.923),
    ):  # fmt: skip
        # The deadlines' rows differ in the fourth digit, across a rounding edge (0.094%,
        # 0.084% at 1 reviewer): one place, one label all the same.
        for deadline, nudge in ((1.0, 0.0), (24.0, 0.00004), (168.0, -0.00006)):
            row = {"deadline_hours": deadline, "reviewers_per_100k_users": reviewers,
                   "fine_factor": 1.0, "replications": 4, "efficient": True}  # fmt: skip
            for metric, value, half in (
                ("lawful_speech_lost", lost + nudge, 0.3 * lost),
                ("unlawful_exposure_prevented", prevented, 0.01),
            ):  # fmt: skip
                row |= {f"{metric}_mean": value, f"{metric}_low": value - half,
                        f"{metric}_high": value + half}  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)


def test_frontier_labels_do_not_overlap_each_other_the_legend_or_the_edges() -> None:
    from matplotlib.text import Text

    from simulator.plots.frontier import frontier_figure

    fig = frontier_figure(_crowded_frontier_table())
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    labels = [t for t in ax.texts if "reviewers/100k" in t.get_text()]
    assert len(labels) == 6  # one per place: the three deadlines coincide
    # ... at every place: said once, in the legend's title.
    # (They differ in the fourth digit: their marks overlap, their outcomes are not equal.)
    legend_title = ax.get_legend().get_title().get_text()
    assert legend_title == "deadlines 1, 24, 168 h:\nmarks overlap at every setting"
    boxes = [Text.get_window_extent(t, renderer) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    legend = ax.get_legend().get_window_extent(renderer)
    inside = ax.get_window_extent(renderer)
    for box in boxes:
        assert not box.overlaps(legend), (box, legend)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, (box, inside)
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, (box, inside)
    # Each label is near its mark: within 1.5 inches of the point it names.
    marks = {
        f"{r:g} reviewers/100k": ax.transData.transform((100 * x, 100 * y))
        for r, x, y in (
            (0.5, 0.0005, 0.019), (1.0, 0.0009, 0.029), (2.0, 0.0018, 0.043),
            (5.0, 0.0039, 0.081), (10.0, 0.0081, 0.168), (20.0, 0.0096, 0.923),
        )
    }  # fmt: skip
    for label, box in zip(labels, boxes, strict=True):
        first = label.get_text().split("\n")[0]
        centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
        assert np.hypot(*(centre - marks[first])) < 1.5 * fig.dpi, label.get_text()


def test_save_writes_whole_files_and_never_through_a_symlink(tmp_path: Path) -> None:
    """``plots.save`` (session 16) writes through a temporary file: a notebook user may
    save over their own figure again; a path without a suffix gets ``.png``, as
    matplotlib's ``savefig`` gave it; a symlink is refused and its target untouched."""
    import matplotlib.pyplot as plt

    from simulator import plots
    from simulator.errors import OutputError

    mine = tmp_path / "figure.png"
    for _ in range(2):
        assert plots.save(plt.figure(), mine) == mine
        assert mine.read_bytes()[:4] == b"\x89PNG"
    assert plots.save(plt.figure(), tmp_path / "plain") == tmp_path / "plain.png"
    assert (tmp_path / "plain.png").read_bytes()[:4] == b"\x89PNG"
    target = tmp_path / "thesis.txt"
    target.write_text("mine")
    (tmp_path / "link.png").symlink_to(target)
    with pytest.raises(OutputError, match="symlink"):
        plots.save(plt.figure(), tmp_path / "link.png")
    assert target.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "figure.png", "link.png", "plain.png", "thesis.txt",
    ]  # fmt: skip
