"""Intervals of a mean over replications, one statement for every table (issue 18 item 5:
uncertainty that does not mislead).

Each table of replications (a sweep's ``summary.csv``, ``comparison.csv``,
``attribution.csv``, ``frontier.csv``, ``phases.csv``, the group and event-study tables)
reports, per number, the mean and two 95% intervals of it:

- the Student-t interval, ``mean +- t(0.975, n - 1) * s / sqrt(n)``, clipped to what the
  number can be (:func:`metric_domain`: a share to [0, 1], a count or total to at least
  0): a share's interval never leaves [0, 1];
- the percentile bootstrap interval (Efron & Tibshirani 1993, docs/references.md), which
  stays inside the replications' range: with a rare big event (a suspension in one
  replication of four) the runs are a mixture, and the bootstrap interval is lopsided as
  they are, where the t-interval is symmetric around a mean no run had.

Bootstrap resamples come from a generator with a fixed seed, so a table's bytes do not
depend on the machine or the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from simulator.output.metrics import MECHANISMS

#: The level of every interval the tables report.
LEVEL = 0.95
#: Resamples of :func:`bootstrap_interval` and the seed of its fixed generator, so a
#: table's bytes are the same on every machine and every run.
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 18

Domain = tuple[float, float]
UNBOUNDED: Domain = (-math.inf, math.inf)
SHARE: Domain = (0.0, 1.0)
COUNT: Domain = (0.0, math.inf)

#: Headline shares of a run's summary (docs/metrics.md): fractions of 0 to 1.
SHARE_METRICS = (
    "political_speech_lost",
    "political_speech_withheld",
    "political_speech_excluded",
    "political_speech_taken_down",
    "lawful_takedown_rate",
    "speech_loss",
    "chilling_effect",
    "collateral_share",
    "over_removal_share",
    "removed_within_24h",
    "unlawful_exposure_prevented",
    "lawful_exposure_lost",
    "excluded_share",
)
#: Totals over a whole run (money, counts): at least 0.
TOTAL_METRICS = ("fines_total", "detentions_total", "moderation_cost_total")
#: The parts of the two losses by mechanism, ``<parts>.<mechanism>`` (docs/metrics.md,
#: "Loss by mechanism"): shares of the counterfactual, but ``softened_in`` is a gain, so
#: at most 0.
MECHANISM_PARTS = ("speech_loss_by_mechanism", "political_speech_by_mechanism")
#: Where each headline metric's values lie. Interval bounds are clipped to it (few
#: replications of a small total give a t-interval reaching below 0, which no run can
#: have; a share's cannot leave [0, 1]).
METRIC_DOMAINS: dict[str, Domain] = {
    **dict.fromkeys(SHARE_METRICS, SHARE),
    **dict.fromkeys(TOTAL_METRICS, COUNT),
    **{
        f"{parts}.{name}": (-math.inf, 0.0) if name == "softened_in" else SHARE
        for parts in MECHANISM_PARTS
        for name in MECHANISMS
    },
}


def t_interval(
    values: Sequence[float] | np.ndarray, level: float = LEVEL
) -> tuple[float, float, float, int]:
    """Mean and t-based ``level`` interval of the finite ``values``: (mean, low, high, n).
    Bounds are NaN with fewer than 2 values; everything NaN with none. Not clipped
    (:func:`interval_columns` clips)."""
    from scipy import stats

    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    n = int(data.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(data.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * data.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def bootstrap_interval(
    values: Sequence[float] | np.ndarray, level: float = LEVEL
) -> tuple[float, float]:
    """Percentile bootstrap ``level`` interval of the mean of the finite ``values``
    (:data:`BOOTSTRAP_RESAMPLES` resamples from a generator seeded with
    :data:`BOOTSTRAP_SEED`); NaN with fewer than 2 values.

    Unlike the t-interval it stays within the values' range, and with a rare big event
    (one replication of four with a suspension) it is lopsided as the runs are, rather
    than symmetric around a mean no run had."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(np.random.SeedSequence(BOOTSTRAP_SEED))
    means = data[rng.integers(0, data.size, size=(BOOTSTRAP_RESAMPLES, data.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    # Means of resamples cannot leave the values' range; quantile interpolation of floats
    # could by an ulp.
    return max(float(low), float(data.min())), min(float(high), float(data.max()))


def interval_columns(
    values: Sequence[float] | np.ndarray,
    domain: Domain = UNBOUNDED,
    prefix: str = "",
    level: float = LEVEL,
) -> dict[str, float]:
    """The columns a table gives one number over its replications: ``<prefix>mean``,
    ``<prefix>low`` / ``<prefix>high`` (the t-interval clipped to ``domain``) and
    ``<prefix>boot_low`` / ``<prefix>boot_high`` (the percentile bootstrap interval).
    Pass ``prefix="speech_loss_"`` for ``speech_loss_mean`` and so on."""
    mean, low, high, n = t_interval(values, level)
    if n >= 2:
        floor, ceiling = domain
        low, high = max(low, floor), min(high, ceiling)
    boot_low, boot_high = bootstrap_interval(values, level)
    return {
        f"{prefix}mean": mean,
        f"{prefix}low": low,
        f"{prefix}high": high,
        f"{prefix}boot_low": boot_low,
        f"{prefix}boot_high": boot_high,
    }


def metric_domain(metric: str) -> Domain:
    """Where ``metric``'s values lie, for clipping intervals: :data:`METRIC_DOMAINS`
    (shares in [0, 1], totals at least 0, the loss's parts by mechanism), counts of a run
    (``events.*``, ``users_final.*``, ``excluded_by_reason.*``) at least 0, the per-kind
    shares and the shares of phase decisions in [0, 1]; any other metric (a new one
    included) is not clipped."""
    if metric in METRIC_DOMAINS:
        return METRIC_DOMAINS[metric]
    if metric.startswith(("events.", "users_final.", "excluded_by_reason.")):
        return COUNT
    if metric.startswith("phases."):
        return SHARE
    if metric.startswith("per_kind.") and metric.endswith(
        (".withheld_share", ".taken_down_share", ".takedown_rate")
    ):
        return SHARE
    return UNBOUNDED


def is_share(metric: str) -> bool:
    """Whether ``metric`` is a share of 0 to 1 (:func:`metric_domain`)."""
    return metric_domain(metric) == SHARE


def effect_domain(metric: str) -> Domain:
    """Where a difference of two values of ``metric`` lies (a Shapley value is an
    average of such differences): [-1, 1] for a share, unbounded otherwise."""
    low, high = metric_domain(metric)
    width = high - low
    return -width, width


def describe(values: np.ndarray, domain: Domain) -> dict[str, float]:
    """Mean over the replications' finite ``values``, the t and bootstrap 95% intervals
    of the mean (the t one clipped to ``domain``), the 2.5% and 97.5% quantiles of the
    values, their lowest and highest, and how many there were."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    columns = interval_columns(data, domain)
    if data.size:
        q_low, q_high = (float(q) for q in np.quantile(data, [(1 - LEVEL) / 2, (1 + LEVEL) / 2]))
        smallest, largest = float(data.min()), float(data.max())
    else:
        q_low = q_high = smallest = largest = math.nan
    return {
        "replications": int(data.size),
        "mean": columns["mean"],
        "t_low": columns["low"],
        "t_high": columns["high"],
        "boot_low": columns["boot_low"],
        "boot_high": columns["boot_high"],
        "q_low": q_low,
        "q_high": q_high,
        "min": smallest,
        "max": largest,
    }
