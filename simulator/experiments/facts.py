"""Published facts the shipped China scenarios are checked against (C1-C4).

Each :class:`Fact` names a scenario, a number computed from a run's results, a
published target and the tolerance the simulated mean must fall inside.
:func:`check_facts` runs replications (independent seeds from ``SeedSequence``) and
reports the simulated mean with its 95% interval next to the target. The facts and
their full citations: docs/references.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.engine.pairing import run
from simulator.experiments.intervals import COUNT, SHARE, Domain, interval_columns
from simulator.model.scenario import Scenario, load_scenario, override
from simulator.output.results import Results
from simulator.streams import replication_seeds


def _platform_rows(results: Results) -> pd.DataFrame:
    daily = results.daily
    return daily[daily["platform"] != "circumvention"]


#: The posts C2 is about: Zhu et al. tracked the original posts of politically
#: sensitive users, so their deletions are of criticism and calls to act, not of the
#: spam, pornography and fraud the ``unlawful`` kind stands for in china_weibo_2012.
C2_KINDS = ("critical", "collective_action")


def share_removed_within(
    hours: float, kinds: tuple[str, ...] = C2_KINDS
) -> Callable[[Results], float]:
    """Cumulative share of the removals of posts of ``kinds`` made within ``hours`` of
    posting (C2)."""

    def compute(results: Results) -> float:
        delays = results.delays
        delays = delays[delays["kind"].isin(kinds)]
        total = delays["removed"].sum()
        within = delays.loc[delays["upper_hours"] <= hours + 1e-12, "removed"].sum()
        return float(within / total) if total else float("nan")

    return compute


def removal_delay_quantile(
    results: Results, quantile: float, kinds: tuple[str, ...] = C2_KINDS
) -> float:
    """The ``quantile`` of time from posting to removal (hours) of posts of ``kinds``,
    read from the delay histogram by linear interpolation within its bin (bins are a
    minute wide below 8 minutes, hours wide beyond a day: docs/metrics.md)."""
    delays = results.delays
    delays = delays[delays["kind"].isin(kinds)]
    # Every kind has the same bins, in order: sum the kinds' counts bin by bin.
    lower_edges = np.unique(delays["lower_hours"].to_numpy(dtype=np.float64))
    bins = np.searchsorted(lower_edges, delays["lower_hours"].to_numpy(dtype=np.float64))
    counts = np.bincount(bins, weights=delays["removed"].to_numpy(), minlength=len(lower_edges))
    upper_edges = np.full(len(lower_edges), np.inf)
    upper_edges[bins] = delays["upper_hours"].to_numpy(dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return float("nan")
    cumulative = np.cumsum(counts)
    target = quantile * total
    i = int(np.searchsorted(cumulative, target))
    lower, upper = float(lower_edges[i]), float(upper_edges[i])
    if not np.isfinite(upper):
        return lower
    before = cumulative[i - 1] if i else 0.0
    return lower + (upper - lower) * (target - before) / counts[i]


def share_of_public_posts_deleted(results: Results) -> float:
    """Removed public posts as a share of all published public posts (C3)."""
    public = _platform_rows(results)
    public = public[public["channel"] == "public"]
    published = public["removed"].sum() + public["surviving"].sum()
    return float(public["removed"].sum() / published) if published else float("nan")


def taken_down_share(results: Results, kind: str) -> float:
    """Share of the posts of ``kind`` reaching a platform that were blocked or removed."""
    rows = _platform_rows(results)
    rows = rows[rows["kind"] == kind]
    submitted = rows[["blocked", "removed", "surviving"]].sum().sum()
    taken = rows[["blocked", "removed"]].sum().sum()
    return float(taken / submitted) if submitted else float("nan")


def collective_to_critical_ratio(results: Results) -> float:
    """How many times likelier a collective-action post is taken down than a critical one
    (C1): infinite when only collective action is taken down, NaN (C1 not reproduced) when
    neither is: "censored far more" needs collective action to be censored."""
    critical = taken_down_share(results, "critical")
    collective = taken_down_share(results, "collective_action")
    if critical > 0:
        return collective / critical
    return float("inf") if collective > 0 else float("nan")


def _sensitive_lawful(results: Results) -> pd.DataFrame:
    rows = _platform_rows(results)
    return rows[rows["kind"].isin(["critical", "collective_action"])]


def share_held_for_review(results: Results) -> float:
    """Share of submitted critical and collective-action posts held before publication (C4)."""
    per_kind = results.summary["per_kind"]
    held = sum(per_kind[k]["held"] for k in ("critical", "collective_action"))
    submitted = _sensitive_lawful(results)[["blocked", "removed", "surviving"]].sum().sum()
    return float(held / submitted) if submitted else float("nan")


def share_of_held_never_published(results: Results) -> float:
    """Share of held critical and collective-action posts that never appeared (C4)."""
    per_kind = results.summary["per_kind"]
    held = sum(per_kind[k]["held"] for k in ("critical", "collective_action"))
    blocked = _sensitive_lawful(results)["blocked"].sum()
    return float(blocked / held) if held else float("nan")


@dataclass(frozen=True)
class Fact:
    """A published figure, the scenario that should reproduce it, and the tolerance."""

    fact_id: str
    scenario: str
    description: str
    source: str
    target: float
    low: float
    high: float
    compute: Callable[[Results], float]
    #: Where the simulated value lies (intervals are clipped to it): a share in [0, 1]
    #: unless said otherwise (a ratio: at least 0).
    domain: Domain = SHARE

    def inside(self, value: float) -> bool:
        return self.low <= value <= self.high


FACTS: tuple[Fact, ...] = (
    Fact("C2-8min", "china_weibo_2012",
         "deletions within 8 minutes (share of deleted critical and collective-action posts)",
         "Zhu et al. 2013", 0.05, 0.0, 0.10, share_removed_within(8 / 60)),
    Fact("C2-30min", "china_weibo_2012", "deletions within 30 minutes",
         "Zhu et al. 2013", 0.30, 0.25, 0.35, share_removed_within(0.5)),
    Fact("C2-24h", "china_weibo_2012", "deletions within 24 hours",
         "Zhu et al. 2013", 0.90, 0.85, 0.95, share_removed_within(24.0)),
    Fact("C3", "china_weibo_2012", "share of public posts deleted",
         "Bamman, O'Connor & Smith 2012", 0.1625, 0.12, 0.17, share_of_public_posts_deleted),
    Fact("C1", "china_weibo_2012", "collective action taken down vs criticism (ratio)",
         "King, Pan & Roberts 2013", 5.0, 3.0, float("inf"), collective_to_critical_ratio,
         COUNT),
    Fact("C1-csl", "china_csl_2016", "collective action taken down vs criticism (ratio)",
         "King, Pan & Roberts 2013", 5.0, 3.0, float("inf"), collective_to_critical_ratio,
         COUNT),
    Fact("C4-held", "china_csl_2016", "submitted sensitive posts held for review",
         "King, Pan & Roberts 2014", 0.40, 0.30, 0.50, share_held_for_review),
    Fact("C4-never", "china_csl_2016", "held posts that never appeared",
         "King, Pan & Roberts 2014", 0.55, 0.50, 1.0, share_of_held_never_published),
)  # fmt: skip


@dataclass(frozen=True)
class FittedParameter:
    """A scenario parameter fitted to one fact. The fact's role is then "fit"; every
    other fact only checks the model (:func:`role`). ``fields`` are the dotted scenario
    fields set to the fitted value together (as :func:`simulator.override` reads them:
    the same margin on both of a scenario's platforms, say); ``step`` is the half-width
    of the design around the current value the fit starts from, ``low`` and ``high`` the
    range it may move in (:mod:`simulator.experiments.fitting`)."""

    fact_id: str
    fields: tuple[str, ...]
    step: float
    low: float
    high: float
    why: str


#: The one record of what is fitted to what (docs/validation.md, "Fit and check").
#: A fact named here is a FIT target and never a check; the scenario file marks each
#: field ``FITTED to <fact>`` (tests/test_fit_declarations.py). Re-run the fit with
#: ``python benchmarks/fit_parameters.py`` after the model changes.
FITS: tuple[FittedParameter, ...] = (
    FittedParameter(
        "C2-30min", ("platforms.weibo.sweep_interval_hours",), 0.15, 0.05, 3.0,
        "how often the keyword filter re-scans published posts sets how soon a flagged post"
        " reaches a queue that keeps up (staff is not fitted: fitted to this share it sits"
        " on the knife edge between a queue that keeps up and one that falls behind)",
    ),
    FittedParameter(
        "C3", ("population.sensitive_mix.unlawful",), 0.05, 0.05, 0.40,
        "spam, pornography, fraud and rumours: what Weibo deleted besides politics (L4);"
        " at most 0.40, since the sensitive shares add up to at most the mean stance",
    ),
    FittedParameter(
        "C4-held",
        ("platforms.weibo.hold_margin", "platforms.tieba.hold_margin"), 0.4, -2.0, 6.0,
        "the keyword filter's hold line above the platform's threshold",
    ),
    FittedParameter(
        "C4-never",
        ("platforms.weibo.held_review_margin", "platforms.tieba.held_review_margin"),
        0.4, -6.0, 4.0,
        "the reviewers' line for held posts relative to the threshold",
    ),
)  # fmt: skip


def role(fact: Fact) -> str:
    """``"fit"`` if a parameter is fitted to ``fact`` (:data:`FITS`), else ``"check"``."""
    return "fit" if any(fit.fact_id == fact.fact_id for fit in FITS) else "check"


#: How each scenario is run for the facts. china_csl_2016 runs 90 days instead of a year:
#: C4 is about the pre-publication filter, which settles within weeks (strictness adapts
#: at 20% of the gap a day), and a year at 100,000 users would make the check slow.
FACT_RUN_OVERRIDES: dict[str, dict[str, object]] = {"china_csl_2016": {"horizon_days": 90}}


@dataclass(frozen=True)
class FactResult:
    fact: Fact
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def interval(self) -> tuple[float, float]:
        """95% t-interval of the mean across replications, clipped to the fact's domain
        (:func:`~simulator.experiments.intervals.interval_columns`); the mean itself with
        fewer than two."""
        if len(self.values) < 2:
            return (self.mean, self.mean)
        columns = interval_columns(self.values, self.fact.domain)
        return (columns["low"], columns["high"])

    @property
    def bootstrap_interval(self) -> tuple[float, float]:
        """Percentile bootstrap 95% interval of the mean across replications: within
        their range, lopsided as they are (the facts' replications can be a mixture:
        when a platform's first audit comes decides how soon it learns)."""
        if len(self.values) < 2:
            return (self.mean, self.mean)
        columns = interval_columns(self.values, self.fact.domain)
        return (columns["boot_low"], columns["boot_high"])

    @property
    def inside(self) -> bool:
        return self.fact.inside(self.mean)

    @property
    def replications_inside(self) -> int:
        """How many replications' values are inside the tolerance on their own."""
        return sum(self.fact.inside(v) for v in self.values)


def check_facts(
    replications: int = 10,
    seed: int = 2013,
    scenarios: dict[str, Scenario] | None = None,
    facts: Iterable[Fact] = FACTS,
    progress: Callable[[str], None] | None = None,
) -> list[FactResult]:
    """Run each fact's scenario ``replications`` times and compute every fact.

    ``scenarios`` may replace the shipped ones (e.g. reduced versions for a quick test).
    """
    facts = tuple(facts)
    needed = sorted({fact.scenario for fact in facts})
    loaded = {
        name: (scenarios or {}).get(name)
        or override(load_scenario(name), FACT_RUN_OVERRIDES.get(name, {}), source="facts")
        for name in needed
    }
    values: dict[str, list[float]] = {fact.fact_id: [] for fact in facts}
    for name in needed:
        for index, replication_seed in enumerate(replication_seeds(seed, replications)):
            results = run(loaded[name], seed=replication_seed, replication=index)
            if progress:
                progress(f"{name} replication {index + 1}/{replications}")
            for fact in facts:
                if fact.scenario == name:
                    values[fact.fact_id].append(fact.compute(results))
    return [FactResult(fact, tuple(values[fact.fact_id])) for fact in facts]


def markdown_table(table: pd.DataFrame) -> str:
    """A pandas table as a GitHub Markdown table (no extra dependency)."""
    header = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def facts_table(results: list[FactResult]) -> pd.DataFrame:
    rows = []
    for result in results:
        low, high = result.interval
        fact = result.fact
        rows.append(
            {
                "fact": fact.fact_id,
                "role": role(fact),
                "scenario": fact.scenario,
                "what": fact.description,
                "source": fact.source,
                "target": fact.target,
                "tolerance": f"[{fact.low:g}, {fact.high:g}]",
                "simulated_mean": round(result.mean, 4),
                "ci95_low": round(low, 4),
                "ci95_high": round(high, 4),
                "boot95_low": round(result.bootstrap_interval[0], 4),
                "boot95_high": round(result.bootstrap_interval[1], 4),
                "inside": result.inside,
                # A mean inside from replications outside on both sides (a bimodal
                # fact, docs/validation.md) shows here.
                "replications_inside": f"{result.replications_inside}/{len(result.values)}",
            }
        )
    return pd.DataFrame(rows)
