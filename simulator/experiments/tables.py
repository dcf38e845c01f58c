"""The tables of a finished sweep: ``summary.csv`` (per point: mean and t-based 95%
interval of the main metrics) and ``long.csv`` (one row per point x replication x
metric), assembled in (point, replication) order so the bytes never depend on which
worker finished first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simulator.experiments.designs import Design

SUMMARY_METRICS = (
    "speech_loss",
    "chilling_effect",
    "collateral_share",
    "over_removal_share",
    "removed_within_24h",
    "fines_total",
    "users_final.excluded",
    "users_final.detained_ever",
    "political_speech_lost",
    "lawful_takedown_rate",
    "unlawful_exposure_prevented",
    "lawful_exposure_lost",
)
#: Largest design accepted (points x replications), to catch a mistyped grid early.


def _cell(value: Any) -> Any:
    # Lists and tables (e.g. a list of prohibited kinds) go into one CSV cell as JSON.
    return json.dumps(value) if isinstance(value, list | dict) else value


def long_table(records: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> pd.DataFrame:
    """One row per point x replication x metric, sorted by point, replication, metric."""
    rows = []
    for record in sorted(records, key=lambda r: (r["point"], r["replication"])):
        base = {
            "point": record["point"],
            "replication": record["replication"],
            "seed": record["seed"],
        }
        for name in fields:
            base[name] = _cell(record["values"].get(name))
        for metric in sorted(record["metrics"]):
            value = record["metrics"][metric]
            rows.append({**base, "metric": metric, "value": np.nan if value is None else value})
    columns = ["point", "replication", "seed", *fields, "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def t_interval(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float, int]:
    """Mean and t-based ``level`` interval of the finite ``values``: (mean, low, high, n).
    Bounds are NaN with fewer than 2 values; everything NaN with none."""
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


#: Resamples of :func:`bootstrap_interval` and the seed of its fixed generator, so a
#: table's bytes are the same on every machine and every run.
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 18


def bootstrap_interval(
    values: Sequence[float] | np.ndarray, level: float = 0.95
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


def summary_table(
    long: pd.DataFrame, design: Design, metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per point: the fields' values, replications, and mean / 95% low / 95% high of each
    metric (``SUMMARY_METRICS`` where the model reports them, else all)."""
    available = list(dict.fromkeys(long["metric"])) if len(long) else []
    if metrics is None:
        chosen = [m for m in SUMMARY_METRICS if m in available] or sorted(available)
    else:
        chosen = list(metrics)
    groups = {
        key: frame["value"].to_numpy(dtype=float)
        for key, frame in long.groupby(["point", "metric"], sort=False)
    }
    reps = long.groupby("point")["replication"].nunique().to_dict() if len(long) else {}
    empty = np.array([], dtype=float)
    rows = []
    for point, values in enumerate(design.points):
        row: dict[str, Any] = {"point": point}
        for name in design.fields:
            row[name] = _cell(values.get(name))
        row["reps"] = int(reps.get(point, 0))
        for metric in chosen:
            mean, low, high, _ = t_interval(groups.get((point, metric), empty))
            row[f"{metric}_mean"] = mean
            row[f"{metric}_low"] = low
            row[f"{metric}_high"] = high
        rows.append(row)
    return pd.DataFrame(rows)
