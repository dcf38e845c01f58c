"""Comparative statics of issue 16 ("Penalties that matter"): does each lever move speech?

For every lever of the issue (detention severity and certainty, fines, vagueness,
reviewers, real names, visibility, a year of a liberal regime), runs each level on the
same seeds (common random numbers: replication r of every level uses seed ``seed + r``),
and prints, per level and metric, the mean and Student-t 95% interval across
replications, the paired difference to the lever's reference level with its interval,
the direction the issue expects, and whether the interval lies on that side.

    python benchmarks/probe_levers.py                  # 20,000 users, 150 days, 8 replications
    python benchmarks/probe_levers.py --quick          # 2,000 users, 40 days, 2 replications
    python benchmarks/probe_levers.py --lever fines_csl --lever vagueness_netzdg

Only the public API is used (``simulator.load_scenario``, ``override``, ``run``, the
summary and the daily tables), so the probe keeps working while the package's insides
change. The metrics are defined in :data:`METRICS` (from docs/metrics.md); a metric the
outputs do not carry prints ``n/a``. ``tests/test_levers.py`` asserts the same
comparisons at the default size and seeds (``pytest -m slow tests/test_levers.py``).
Runs stay in one process (``parallel=False``, ``CENSIM_PARALLEL=0``): at most one CPU.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

import simulator

POLITICAL = ("critical", "collective_action")
#: A platform-day counts as "at the cap" when its strictness is this close to max_strictness.
CAP_TOLERANCE = 1e-6
#: The issue's floor for the active share after a year of a liberal regime.
ACTIVE_FLOOR = 0.97


# ---------------------------------------------------------------------------- metrics


def political_withholding(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Share of intended critical and collective-action posts the authors withheld or
    softened (a call to act said as criticism: docs/model.md S3)."""
    per_kind = results.summary["per_kind"]
    withheld = sum(per_kind[k]["withheld"] + per_kind[k].get("softened", 0) for k in POLITICAL)
    intended = sum(per_kind[k]["intended"] for k in POLITICAL)
    return withheld / intended if intended else math.nan


def mean_strictness(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Mean over the platforms of each one's mean daily strictness (summary ``platforms``)."""
    return float(np.mean([p["mean_strictness"] for p in results.summary["platforms"]]))


def strictness_at_cap(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Share of serving platform-days whose strictness equals the platform's max_strictness."""
    caps = {p.name: p.max_strictness for p in scenario.platforms}
    table = results.platform_daily
    table = table[table["serving"] == 1]
    if table.empty:
        return math.nan
    cap = table["platform"].map(caps).astype(float)
    return float((table["strictness"] >= cap - CAP_TOLERANCE).mean())


def lawful_takedown_rate(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Lawful posts taken down (blocked + removed) per lawful post that reached a platform
    (blocked + removed + surviving on the named platforms; circumvention rows left out,
    since no platform can take those down)."""
    daily = results.daily
    rows = daily[daily["lawful"] & (daily["platform"] != "circumvention")]
    down = float(rows["blocked"].sum() + rows["removed"].sum())
    reached = down + float(rows["surviving"].sum())
    return down / reached if reached else math.nan


def collateral_share(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """The summary's ``collateral_share``: lawful posts among everything taken down."""
    return float(results.summary["collateral_share"])


def _delay_bins(results: simulator.Results) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower edges, upper edges, removals) of the delays histogram, all kinds summed."""
    table = results.delays
    lower, bin_of = np.unique(table["lower_hours"].to_numpy(float), return_inverse=True)
    count = np.bincount(bin_of, weights=table["removed"].to_numpy(float), minlength=len(lower))
    upper = np.empty(len(lower))
    upper[bin_of] = table["upper_hours"].to_numpy(float)
    return lower, upper, count


def removal_delay_mean(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Mean hours from posting to removal, from the delays histogram (bin midpoints; the
    open last bin at its lower edge), all kinds."""
    lower, upper, count = _delay_bins(results)
    if count.sum() == 0:
        return math.nan
    middle = np.where(np.isfinite(upper), (lower + upper) / 2, lower)
    return float((middle * count).sum() / count.sum())


def removal_delay_median(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Median hours from posting to removal, interpolated linearly inside its histogram bin."""
    lower, upper, count = _delay_bins(results)
    total = count.sum()
    if total == 0:
        return math.nan
    below = np.cumsum(count) - count
    i = int(np.searchsorted(np.cumsum(count), total / 2))
    if not np.isfinite(upper[i]):
        return float(lower[i])
    return float(lower[i] + (upper[i] - lower[i]) * (total / 2 - below[i]) / count[i])


def _published_per_user(
    results: simulator.Results, scenario: simulator.Scenario, kinds: tuple[str, ...]
) -> float:
    """Posts of ``kinds`` published (removed later or surviving, any platform row incl.
    circumvention) per user over the run."""
    daily = results.daily
    rows = daily[daily["kind"].isin(kinds)]
    return float(rows["removed"].sum() + rows["surviving"].sum()) / scenario.population.users


def political_published_per_user(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Critical and collective-action posts published per user over the run."""
    return _published_per_user(results, scenario, POLITICAL)


def calls_to_act_published_per_user(
    results: simulator.Results, scenario: simulator.Scenario
) -> float:
    """Collective-action posts published as calls to act (removed later or surviving,
    any platform row) per user over the run: a call to act softened into criticism is
    published as criticism, not here."""
    return _published_per_user(results, scenario, ("collective_action",))


def political_written_per_user(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Critical and collective-action posts their authors wrote and said (as intended or
    softened), by the kind intended, per user: intended minus withheld minus excluded.
    What C5 is about (less political *writing*), whatever the platforms later take down,
    and without unlawful posts softened into criticism, which are not political writing
    by intention."""
    per_kind = results.summary["per_kind"]
    said = sum(
        per_kind[k]["intended"] - per_kind[k]["withheld"] - per_kind[k]["excluded"]
        for k in POLITICAL
    )
    return float(said) / scenario.population.users


def chilling(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """The summary's ``chilling_effect``: lawful posts withheld per lawful post intended."""
    return float(results.summary["chilling_effect"])


def lawful_detentions_per_100k(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Detentions for critical posts (a lawful kind near a vague line, S11's offence
    line) per 100,000 users over the run."""
    detained = results.summary["per_kind"]["critical"]["detentions"]
    return float(detained) * 100_000.0 / scenario.population.users


def active_share_end(results: simulator.Results, scenario: simulator.Scenario) -> float:
    """Users ACTIVE at the end of the last day, per user (population_daily)."""
    last = results.population_daily.iloc[-1]
    return float(last["active"]) / scenario.population.users


def collective_action_by_stance_tercile(
    results: simulator.Results, scenario: simulator.Scenario
) -> float | None:
    """Not available: the outputs carry no per-user posts or stance (n/a)."""
    return None


Metric = Callable[[simulator.Results, simulator.Scenario], "float | None"]

METRICS: dict[str, Metric] = {
    "political_withholding": political_withholding,
    "mean_strictness": mean_strictness,
    "strictness_at_cap": strictness_at_cap,
    "lawful_takedown_rate": lawful_takedown_rate,
    "collateral_share": collateral_share,
    "removal_delay_mean_h": removal_delay_mean,
    "removal_delay_median_h": removal_delay_median,
    "political_published_per_user": political_published_per_user,
    "political_written_per_user": political_written_per_user,
    "calls_to_act_published_per_user": calls_to_act_published_per_user,
    "chilling": chilling,
    "lawful_detentions_per_100k": lawful_detentions_per_100k,
    "active_share_end": active_share_end,
    "ca_posting_top_vs_bottom_stance": collective_action_by_stance_tercile,
}


# ---------------------------------------------------------------------------- levers


@dataclass(frozen=True)
class Level:
    """One setting of a lever: a scenario and the fields it changes."""

    label: str
    scenario: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    days: int | None = None
    """Horizon for this level (None: the probe's --days)."""


@dataclass(frozen=True)
class Check:
    """An expectation from the issue: ``metric`` at ``level`` minus at ``reference`` has the
    sign ``direction`` (+1 up, -1 down); or, with ``floor``, the metric at ``level`` is at
    least ``floor`` (``reference`` unused)."""

    metric: str
    level: str
    reference: str
    direction: int = 0
    floor: float | None = None


@dataclass(frozen=True)
class Lever:
    name: str
    description: str
    levels: tuple[Level, ...]
    reference: str
    """Label of the level the others are compared with ("": none, levels stand alone)."""
    metrics: tuple[str, ...]
    checks: tuple[Check, ...] = ()


def _scaled_ladder(scenario_name: str, factor: float) -> dict[str, Any]:
    """Overrides multiplying every fine of the scenario's penalty ladder by ``factor``."""
    ladder = simulator.load_scenario(scenario_name).rules.penalties.ladder
    return {
        f"rules.penalties.ladder.{i}.amount": step.amount * factor
        for i, step in enumerate(ladder)
        if step.action == "fine"
    }


def _fines_only_ladder(scenario_name: str, factor: float) -> dict[str, Any]:
    """The scenario's ladder without its suspension and revocation rungs, every fine
    scaled by ``factor`` (what fines do where nothing dearer follows them)."""
    ladder = simulator.load_scenario(scenario_name).rules.penalties.ladder
    kept = [step for step in ladder if step.action in ("warning", "fine")]
    return {
        "rules.penalties.ladder": [
            {"action": step.action, "amount": step.amount * factor} for step in kept
        ]
    }


def _scaled_detention(scenario_name: str, factor: float) -> dict[str, Any]:
    """Overrides multiplying each kind's detention probability by ``factor`` (at most 1)."""
    probability = simulator.load_scenario(scenario_name).police.detention_probability
    return {
        f"police.detention_probability.{kind}": min(1.0, getattr(probability, kind) * factor)
        for kind in ("benign", *POLITICAL, "unlawful")
    }


def _monotone(metric: str, labels: Sequence[str], direction: int) -> tuple[Check, ...]:
    """Checks that ``metric`` moves by ``direction`` (+1 up, -1 down) at each step along
    ``labels``, given in ascending order of the lever: each level against the one below."""
    return tuple(
        Check(metric, higher, lower, direction) for lower, higher in itertools.pairwise(labels)
    )


def levers() -> tuple[Lever, ...]:
    """The levers of issue 16's table and "Must show" list, with their expectations."""
    csl, netzdg, dsa = "china_csl_2016", "germany_netzdg_2017", "eu_dsa_2024"
    speech = ("political_withholding", "chilling", "political_published_per_user")
    found: list[Lever] = []

    days = (1, 30, 180)
    labels = tuple(f"{d} d" for d in days)
    found.append(
        Lever(
            "detention_severity",
            "police.detention_days (CSL)",
            tuple(
                Level(lab, csl, {"police.detention_days": float(d)})
                for lab, d in zip(labels, days, strict=True)
            ),
            labels[0],
            speech,
            _monotone("political_withholding", labels, +1),
        )
    )

    # Equal expected detention days per report: twice the days or twice the probability.
    found.append(
        Lever(
            "detention_certainty",
            "30 d vs 60 d (severity x2) vs detention_probability x2 at 30 d (certainty x2) (CSL)",
            (
                Level("30 d", csl, {"police.detention_days": 30.0}),
                Level("severity x2", csl, {"police.detention_days": 60.0}),
                Level(
                    "certainty x2",
                    csl,
                    {"police.detention_days": 30.0, **_scaled_detention(csl, 2.0)},
                ),
            ),
            "30 d",
            speech,
            (
                Check("political_withholding", "severity x2", "30 d", +1),
                Check("political_withholding", "certainty x2", "30 d", +1),
                Check("political_withholding", "certainty x2", "severity x2", +1),
            ),
        )
    )

    # Fines over the realistic range: the CSL's largest fine RMB 500,000 (L1 Art. 68, L3)
    # doubled to RMB 1,000,000; NetzDG's EUR 50M is the cap (L5), so its ladder is shown
    # from a tenth of it. The last level of each (x10) is shown, not held to the expectation.
    # In china_csl_2016 the licence rungs (suspension, revocation) dominate what a platform
    # weighs (L3: compliance has to come mainly from the threat of suspension or licence
    # loss), so the fines' effect there is shown on the shipped ladder and held to the
    # expectation on the ladder without those rungs ("fines_csl_fines_only").
    for short, name, factors, checked in (
        ("csl", csl, (0.0, 1.0, 2.0, 10.0), ()),
        ("netzdg", netzdg, (0.0, 0.1, 1.0, 10.0), (0, 1, 2)),
    ):
        labels = tuple(f"fines x{f:g}" for f in factors)
        found.append(
            Lever(
                f"fines_{short}",
                f"every fine of rules.penalties.ladder scaled ({name})",
                tuple(
                    Level(lab, name, _scaled_ladder(name, f))
                    for lab, f in zip(labels, factors, strict=True)
                ),
                labels[1] if short == "csl" else labels[2],
                ("mean_strictness", "strictness_at_cap", "lawful_takedown_rate"),
                _monotone("mean_strictness", [labels[i] for i in checked], +1),
            )
        )
    factors = (0.0, 1.0, 2.0, 10.0)
    labels = tuple(f"fines x{f:g}" for f in factors)
    found.append(
        Lever(
            "fines_csl_fines_only",
            f"every fine scaled on the ladder without suspension and revocation ({csl})",
            tuple(
                Level(lab, csl, _fines_only_ladder(csl, f))
                for lab, f in zip(labels, factors, strict=True)
            ),
            labels[1],
            ("mean_strictness", "strictness_at_cap", "lawful_takedown_rate"),
            _monotone("mean_strictness", labels[:3], +1),
        )
    )

    vagueness = (0.0, 0.5, 1.0)
    labels = tuple(f"vagueness {v:g}" for v in vagueness)
    for short, name in (("csl", csl), ("netzdg", netzdg)):
        found.append(
            Lever(
                f"vagueness_{short}",
                f"rules.takedown.vagueness ({name})",
                tuple(
                    Level(lab, name, {"rules.takedown.vagueness": v})
                    for lab, v in zip(labels, vagueness, strict=True)
                ),
                labels[0],
                ("lawful_takedown_rate", "collateral_share", "mean_strictness", "chilling"),
                _monotone("lawful_takedown_rate", labels, +1)
                + _monotone("collateral_share", labels, +1)
                # Under a vague offence (S11) the vaguer line also chills lawful speech.
                + (_monotone("chilling", labels, +1) if name == csl else ()),
            )
        )

    # Staff is per 100,000 users (a queue's load does not depend on the size simulated),
    # times the shipped rate on every platform: 0.6 overloads the queue, 5 and 30 leave it
    # ample (at 20,000 users about the 1, 8 and 48 reviewers a platform this lever had
    # when staff was a head count).
    staff = (0.6, 5, 30)
    labels = tuple(f"reviewers x{n:g}" for n in staff)
    rates = {p.name: p.reviewers_per_100k_users for p in simulator.load_scenario(csl).platforms}
    found.append(
        Lever(
            "reviewers",
            "reviewers per 100,000 users on every platform, times the shipped rate (CSL)",
            tuple(
                Level(
                    lab,
                    csl,
                    {f"platforms.{p}.reviewers_per_100k_users": n * r for p, r in rates.items()},
                )
                for lab, n in zip(labels, staff, strict=True)
            ),
            labels[-1],
            ("removal_delay_mean_h", "removal_delay_median_h", "lawful_takedown_rate"),
            _monotone("removal_delay_mean_h", labels, -1)
            + _monotone("removal_delay_median_h", labels, -1),
        )
    )

    found.append(
        Lever(
            "real_names",
            "rules.real_name off vs on with refusal_probability 0 (CSL)",
            (
                Level("none", csl, {"rules.real_name.enabled": False}),
                Level(
                    "real names, no refusals",
                    csl,
                    {"rules.real_name.enabled": True, "rules.real_name.refusal_probability": 0.0},
                ),
            ),
            "none",
            speech,
            # C5 is about what users write: the share of political posts they hold back
            # (withheld or softened) rises. Published posts also depend on how many the
            # platforms block, which softening (a call to act said as criticism) lowers:
            # fewer calls to act are published, and the criticism they become is.
            (
                Check("political_withholding", "real names, no refusals", "none", +1),
                Check("political_written_per_user", "real names, no refusals", "none", -1),
                Check("political_published_per_user", "real names, no refusals", "none", -1),
                Check("calls_to_act_published_per_user", "real names, no refusals", "none", -1),
            ),
        )
    )

    # Detentions under vague offences (S11): lawful criticism reported and detained,
    # so severity chills lawful speech (diminishing per day: tests/test_levers.py).
    days = (1, 15, 180)
    labels = tuple(f"{d} d" for d in days)
    found.append(
        Lever(
            "lawful_chilling_severity",
            "police.detention_days 1 / 15 / 180 (CSL): chilling of lawful speech",
            tuple(
                Level(lab, csl, {"police.detention_days": float(d)})
                for lab, d in zip(labels, days, strict=True)
            ),
            labels[0],
            ("chilling", "lawful_detentions_per_100k", "political_withholding"),
            _monotone("chilling", labels, +1),
        )
    )
    # Certainty: more investigators read more of the reports, so more critics are
    # detained and lawful speech is chilled more (B1: certainty deters).
    found.append(
        Lever(
            "lawful_chilling_certainty",
            "police.investigators_per_100k_users 10 vs 50 (CSL): chilling of lawful speech",
            (
                Level("10 per 100k", csl, {"police.investigators_per_100k_users": 10.0}),
                Level("50 per 100k", csl, {"police.investigators_per_100k_users": 50.0}),
            ),
            "10 per 100k",
            ("chilling", "lawful_detentions_per_100k", "political_withholding"),
            (
                Check("lawful_detentions_per_100k", "50 per 100k", "10 per 100k", +1),
                Check("chilling", "50 per 100k", "10 per 100k", +1),
            ),
        )
    )
    # Without a duty to report (no police), severity cannot chill anything: the levels
    # must be identical (tests/test_levers.py).
    found.append(
        Lever(
            "lawful_chilling_no_reports",
            "police.detention_days 1 vs 180 with rules.reporting.mode = none (CSL)",
            tuple(
                Level(
                    f"no reports, {d} d",
                    csl,
                    {"rules.reporting.mode": "none", "police.detention_days": float(d)},
                )
                for d in (1, 180)
            ),
            "no reports, 1 d",
            ("chilling", "lawful_detentions_per_100k"),
        )
    )

    found.append(
        Lever(
            "visibility",
            "population.perception.visibility 0.1 vs 1 (CSL)",
            (
                Level("low 0.1", csl, {"population.perception.visibility": 0.1}),
                Level("high 1.0", csl, {"population.perception.visibility": 1.0}),
            ),
            "low 0.1",
            speech,
            (Check("chilling", "high 1.0", "low 0.1", +1),),
        )
    )

    found.append(
        Lever(
            "year_liberal",
            f"a year of the shipped scenario; active share at the end >= {ACTIVE_FLOOR}",
            (Level("netzdg year", netzdg, days=365), Level("dsa year", dsa, days=365)),
            "",
            ("active_share_end", "chilling"),
            tuple(
                Check("active_share_end", lab, "", floor=ACTIVE_FLOOR)
                for lab in ("netzdg year", "dsa year")
            ),
        )
    )

    found.append(
        Lever(
            "stance_terciles",
            "collective-action posting, top vs bottom stance tercile (CSL): needs per-user output",
            (Level("shipped", csl),),
            "shipped",
            ("ca_posting_top_vs_bottom_stance",),
        )
    )
    return tuple(found)


# ---------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Size:
    users: int
    days: int
    reps: int
    seed: int = 160


DEFAULT = Size(users=20_000, days=150, reps=8)
QUICK = Size(users=2_000, days=40, reps=2)


def run_level(level: Level, size: Size, metrics: Sequence[str]) -> dict[str, list[float | None]]:
    """Each metric's value in each replication of ``level`` (replication r: seed + r)."""
    scenario = simulator.override(
        simulator.load_scenario(level.scenario),
        {"population.users": size.users, **level.changes},
        source=f"lever level {level.label!r}",
    )
    days = level.days if level.days is not None else size.days
    values: dict[str, list[float | None]] = {m: [] for m in metrics}
    for r in range(size.reps):
        results = simulator.run(
            scenario, seed=size.seed + r, days=days, replication=r, parallel=False
        )
        for m in metrics:
            values[m].append(METRICS[m](results, scenario))
    return values


def measure_lever(lever: Lever, size: Size) -> dict[str, dict[str, list[float | None]]]:
    """level label -> metric -> values per replication (every level on the same seeds)."""
    metrics = tuple(dict.fromkeys(lever.metrics + tuple(c.metric for c in lever.checks)))
    return {level.label: run_level(level, size, metrics) for level in lever.levels}


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float

    def text(self, digits: int = 4) -> str:
        if math.isnan(self.mean):
            return "n/a"
        if math.isnan(self.low):
            return f"{self.mean:.{digits}g}"
        return f"{self.mean:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]"


def interval(values: Sequence[float | None]) -> Interval:
    """Mean and Student-t 95% interval of the mean (NaN when a value is missing; no
    interval with one value)."""
    if not values or any(v is None for v in values):
        return Interval(math.nan, math.nan, math.nan)
    data = np.asarray(values, dtype=float)
    if np.isnan(data).any():
        return Interval(math.nan, math.nan, math.nan)
    mean = float(data.mean())
    if len(data) < 2:
        return Interval(mean, math.nan, math.nan)
    half = float(stats.t.ppf(0.975, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data)))
    return Interval(mean, mean - half, mean + half)


def paired_difference(
    values: Sequence[float | None], reference: Sequence[float | None]
) -> Interval:
    """Interval of the mean of per-replication differences (common random numbers)."""
    if any(v is None for v in (*values, *reference)):
        return Interval(math.nan, math.nan, math.nan)
    return interval([float(a) - float(b) for a, b in zip(values, reference, strict=True)])  # type: ignore[arg-type]


def verdict(check: Check, measured: Mapping[str, Mapping[str, Sequence[float | None]]]) -> str:
    """'yes' when the interval lies on the expected side; 'no: 0 in CI' when it holds 0 (or,
    for a floor, the floor); 'no: opposite' when it lies wholly on the other side; 'n/a'
    when the metric is missing."""
    values = measured[check.level][check.metric]
    if check.floor is not None:
        level = interval(values)
        if math.isnan(level.mean):
            return "n/a"
        low = level.low if not math.isnan(level.low) else level.mean
        high = level.high if not math.isnan(level.high) else level.mean
        if low >= check.floor:
            return "yes"
        return "no: opposite" if high < check.floor else "no: floor in CI"
    difference = paired_difference(values, measured[check.reference][check.metric])
    if math.isnan(difference.mean):
        return "n/a"
    if math.isnan(difference.low):  # one replication: the sign of the difference only
        low = high = difference.mean
    else:
        low, high = difference.low, difference.high
    toward, away = (low, high) if check.direction > 0 else (-high, -low)
    if toward > 0:
        return "yes"
    return "no: opposite" if away < 0 else "no: 0 in CI"


def holds(check: Check, measured: Mapping[str, Mapping[str, Sequence[float | None]]]) -> bool:
    """Whether the check's interval is on the expected side (what the tests assert)."""
    return verdict(check, measured) == "yes"


def table_rows(
    lever: Lever, measured: Mapping[str, Mapping[str, Sequence[float | None]]]
) -> list[list[str]]:
    """One row per level and metric (difference to the reference level), then one row per
    check against another level than the reference."""
    rows: list[list[str]] = []
    by_cell = {(c.level, c.metric): c for c in lever.checks if c.reference in ("", lever.reference)}
    for level in lever.levels:
        for metric in lever.metrics:
            values = measured[level.label][metric]
            check = by_cell.get((level.label, metric))
            if not lever.reference:
                diff = ""
            elif level.label == lever.reference:
                diff = "(reference)"
            else:
                diff = paired_difference(values, measured[lever.reference][metric]).text()
            if check is None:
                expected, matches = "", ""
            elif check.floor is not None:
                expected, matches = f">= {check.floor:g}", verdict(check, measured)
            else:
                expected = "up" if check.direction > 0 else "down"
                matches = verdict(check, measured)
            rows.append(
                [lever.name, level.label, metric, interval(values).text(), diff, expected, matches]
            )
    for check in lever.checks:
        if check.reference in ("", lever.reference):
            continue
        diff = paired_difference(
            measured[check.level][check.metric], measured[check.reference][check.metric]
        ).text()
        rows.append(
            [
                lever.name,
                f"{check.level} vs {check.reference}",
                check.metric,
                "",
                diff,
                "up" if check.direction > 0 else "down",
                verdict(check, measured),
            ]
        )
    return rows


HEADER = [
    "lever",
    "level",
    "metric",
    "mean [95% CI]",
    "paired diff to reference [95% CI]",
    "expected",
    "matches",
]


def format_table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    previous = None
    for row in rows:
        if previous is not None and row[0] != previous:
            lines.append("")
        previous = row[0]
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke size: 2,000 users, 40 days, 2 replications"
    )
    parser.add_argument("--users", type=int, help=f"users (default {DEFAULT.users:,})")
    parser.add_argument(
        "--days", type=int, help=f"days (default {DEFAULT.days}; the year lever runs 365)"
    )
    parser.add_argument("--reps", type=int, help=f"replications (default {DEFAULT.reps})")
    parser.add_argument("--seed", type=int, default=DEFAULT.seed, help="seed of replication 0")
    known = [lever.name for lever in levers()]
    parser.add_argument(
        "--lever", action="append", choices=known, help="only this lever (repeatable)"
    )
    args = parser.parse_args(argv)
    base = QUICK if args.quick else DEFAULT
    size = Size(
        users=args.users or base.users,
        days=args.days or base.days,
        reps=args.reps or base.reps,
        seed=args.seed,
    )
    # One process per run: the probe is meant to take at most one CPU.
    os.environ.setdefault("CENSIM_PARALLEL", "0")
    print(
        f"censim {simulator.__version__}: {size.users:,} users, {size.days} days, "
        f"{size.reps} replications on seeds {size.seed}..{size.seed + size.reps - 1} "
        "(the same seeds at every level)",
        flush=True,
    )
    rows: list[list[str]] = []
    failed: list[str] = []
    for lever in levers():
        if args.lever and lever.name not in args.lever:
            continue
        started = time.perf_counter()
        measured = measure_lever(lever, size)
        rows.extend(table_rows(lever, measured))
        failed.extend(
            f"{lever.name}: {c.metric} {c.level} vs {c.reference or c.floor}"
            for c in lever.checks
            if not holds(c, measured)
        )
        print(
            f"  {lever.name}: {lever.description} ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    print()
    print(format_table(rows))
    print()
    print(f"expectations not met (or not measurable): {len(failed)}")
    for line in failed:
        print(f"  {line}")
    missing = sorted({r[2] for r in rows if r[3] == "n/a"})
    if missing:
        print(f"metrics not available from the outputs: {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
