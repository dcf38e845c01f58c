"""A run's speech decisions by phase, stance quantile and boldness quantile
(docs/metrics.md "Phases"; the phases of Daymude, Axelrod & Forrest 2025, B2).

Every sensitive post a routed author decides on (docs/model.md S3) is counted once, in
the compiled choice (:attr:`simulator.kernels.choice.SpeechInputs.phase_counts`), by
its intended kind, its author's cell (stance quantile x boldness quantile) and its
phase: *compliant* (posted, no sanction can follow it), *partly self-censoring*
(softened), *fully self-censoring* (withheld), *defiant* (posted, a sanction can
follow). The quantiles rank the run's users at the start (ties by user index, so they
are deterministic): stance (hence desire ``D_i``, monotone in it) and boldness ``b_i``,
quantile 1 the lowest. Newcomers take their slot's traits, so the cells are fixed.
Written as ``phases.csv``; summary.json's ``phases`` holds the shares of the run's
decisions in each phase.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from simulator.kernels.choice import N_PHASES
from simulator.kinds import N_KINDS, SENSITIVE_KINDS, ContentKind
from simulator.model.speech import PHASE_LABELS

#: Quantiles of stance and of boldness the decisions are counted by (quintiles).
QUANTILES = 5
#: Column names of the phases (``PHASE_LABELS`` as identifiers).
PHASE_COLUMNS = tuple(label.replace(" ", "_").replace("-", "_") for label in PHASE_LABELS)


def quantile_index(values: NDArray[Any], quantiles: int = QUANTILES) -> NDArray[np.int64]:
    """Each value's quantile, 0 .. ``quantiles - 1``, by rank (a stable sort: equal values
    go by index), so each quantile holds ``n / quantiles`` users to within one."""
    n = len(values)
    order = np.argsort(np.asarray(values), kind="stable")
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n, dtype=np.int64) * quantiles // max(n, 1)
    return out


def user_cells(
    stance: NDArray[Any], boldness: NDArray[Any], quantiles: int = QUANTILES
) -> NDArray[np.int8]:
    """Each user's cell, ``stance quantile * quantiles + boldness quantile``, as int8 (a
    byte a user: the choice reads it for every decision)."""
    if quantiles * quantiles > 127:
        raise ValueError(f"{quantiles} quantiles make more cells than an int8 holds")
    cells = quantile_index(stance, quantiles) * quantiles + quantile_index(boldness, quantiles)
    return cells.astype(np.int8)


def empty_counts(quantiles: int = QUANTILES) -> NDArray[np.int64]:
    """The counts a run adds to: kinds x cells x phases, zero."""
    return np.zeros((N_KINDS, quantiles * quantiles, N_PHASES), dtype=np.int64)


def phases_table(counts: NDArray[np.int64]) -> pd.DataFrame:
    """``phases.csv``: one row per sensitive kind, stance quantile and boldness quantile
    (1 = lowest), the decisions in each phase and their total."""
    quantiles = int(round(np.sqrt(counts.shape[1])))
    rows = []
    for kind in SENSITIVE_KINDS:
        for cell in range(counts.shape[1]):
            row: dict[str, Any] = {
                "kind": ContentKind(kind).label,
                "stance_quantile": cell // quantiles + 1,
                "boldness_quantile": cell % quantiles + 1,
            }
            for p, name in enumerate(PHASE_COLUMNS):
                row[name] = int(counts[kind, cell, p])
            row["decisions"] = int(counts[kind, cell].sum())
            rows.append(row)
    return pd.DataFrame(rows)


def phase_shares(counts: NDArray[np.int64]) -> dict[str, float]:
    """Shares of the sensitive decisions in each phase (NaN each when there were none)."""
    total = counts[list(SENSITIVE_KINDS)].sum(axis=(0, 1))
    n = int(total.sum())
    return {
        name: (float(total[p]) / n if n else float("nan")) for p, name in enumerate(PHASE_COLUMNS)
    }


def cell_counts(table: pd.DataFrame) -> NDArray[np.int64]:
    """``phases.csv`` (or :func:`phases_table`) back to stance x boldness x phases counts,
    sensitive kinds summed."""
    quantiles = int(table["stance_quantile"].max())
    out = np.zeros((quantiles, quantiles, N_PHASES), dtype=np.int64)
    s = table["stance_quantile"].to_numpy(dtype=np.int64) - 1
    b = table["boldness_quantile"].to_numpy(dtype=np.int64) - 1
    for p, name in enumerate(PHASE_COLUMNS):
        np.add.at(out[:, :, p], (s, b), table[name].to_numpy(dtype=np.int64))
    return out
