"""Per-group counts of a run with user groups (docs/metrics.md "Groups"): the day's
sensitive speech by group (intended, excluded, offshore, withheld, softened, taken
down), reports, detentions, users by state, newcomers and departures; written as
``groups_daily.csv`` and summarised under ``groups`` in summary.json.

Every column is a partition of a run total by the author's (or user's) group, so each
adds up over groups to the run's own count (tests/test_groups.py): ``intended`` to
daily.csv's intended posts of the sensitive kinds, ``withheld`` to its withheld ones,
``taken_down`` to platforms_daily.csv's ``removals``, ``reports`` to the reports
tallied, ``detentions`` to the detentions, the states to population_daily.csv's, and
``arrivals`` to its ``users_renewed``.

A run without groups makes none of this: its outputs are byte-identical to what they
were before groups existed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from simulator.kinds import N_KINDS, SENSITIVE_KINDS, UserState

#: Columns of the speech counts (kernels.choice's G_* order), then the review's.
SPEECH_COLUMNS = ("intended", "excluded", "offshore", "withheld", "softened")
STATE_COLUMNS = tuple(state.name.lower() for state in UserState)
_SENSITIVE = [int(k) for k in SENSITIVE_KINDS]


@dataclass
class GroupCounts:
    """The counts of ``groups`` (names) over ``days`` days (see the module docstring)."""

    names: tuple[str, ...]
    days: int
    #: days x groups x kinds x len(SPEECH_COLUMNS): added to by the speech choice
    #: (:attr:`simulator.kernels.choice.SpeechInputs.group_counts`).
    speech: NDArray[np.int64] = field(init=False)
    taken_down: NDArray[np.int64] = field(init=False)  # days x groups x kinds
    reports: NDArray[np.int64] = field(init=False)  # days x groups
    detentions: NDArray[np.int64] = field(init=False)  # days x groups
    states: NDArray[np.int64] = field(init=False)  # days x groups x states
    arrivals: NDArray[np.int64] = field(init=False)  # days x groups
    departures: NDArray[np.int64] = field(init=False)  # days x groups
    _left: NDArray[np.bool_] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        g = len(self.names)
        self.speech = np.zeros((self.days, g, N_KINDS, len(SPEECH_COLUMNS)), dtype=np.int64)
        self.taken_down = np.zeros((self.days, g, N_KINDS), dtype=np.int64)
        self.reports = np.zeros((self.days, g), dtype=np.int64)
        self.detentions = np.zeros((self.days, g), dtype=np.int64)
        self.states = np.zeros((self.days, g, len(UserState)), dtype=np.int64)
        self.arrivals = np.zeros((self.days, g), dtype=np.int64)
        self.departures = np.zeros((self.days, g), dtype=np.int64)

    def _by_group(self, group: NDArray[np.int64], users: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.bincount(group[users], minlength=len(self.names)).astype(np.int64)

    def add_taken_down(
        self, day: int, group: NDArray[np.int64], authors: NDArray[np.int64], kinds: Any
    ) -> None:
        """Posts blocked or removed today (their authors and kinds)."""
        if len(authors):
            np.add.at(self.taken_down[day], (group[authors], np.asarray(kinds)), 1)

    def add_reports(self, day: int, group: NDArray[np.int64], users: NDArray[np.int64]) -> None:
        self.reports[day] += self._by_group(group, users)

    def add_detentions(self, day: int, group: NDArray[np.int64], users: Any) -> None:
        self.detentions[day] += self._by_group(group, np.asarray(users, dtype=np.int64))

    def add_arrivals(self, day: int, group: NDArray[np.int64], slots: NDArray[np.int64]) -> None:
        """Newcomers (renewed slots, S14): one arrival and one departure each."""
        counts = self._by_group(group, slots)
        self.arrivals[day] += counts
        self.departures[day] += counts

    def end_of_day(self, day: int, group: NDArray[np.int64], state: NDArray[np.int8]) -> None:
        """Users by state, and those who left today after a sanction (S14)."""
        g = len(self.names)
        self.states[day] = np.bincount(
            group * len(UserState) + state, minlength=g * len(UserState)
        ).reshape(g, len(UserState))
        left = state == UserState.LEFT
        newly = left if self._left is None else left & ~self._left
        self.departures[day] += np.bincount(group[newly], minlength=g)
        self._left = left

    # -- tables -------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """``groups_daily.csv``: one row per day and group (sensitive kinds summed)."""
        days, g = self.days, len(self.names)
        speech = self.speech[:, :, _SENSITIVE].sum(axis=2)
        columns: dict[str, Any] = {
            "day": np.repeat(np.arange(days), g),
            "group": np.tile(np.array(self.names, dtype=object), days),
        }
        for i, name in enumerate(SPEECH_COLUMNS):
            columns[name] = speech[:, :, i].reshape(-1)
        columns["published"] = (
            speech[:, :, 0] - speech[:, :, 1] - speech[:, :, 2] - speech[:, :, 3]
        ).reshape(-1)
        columns["taken_down"] = self.taken_down[:, :, _SENSITIVE].sum(axis=2).reshape(-1)
        columns["taken_down_all_kinds"] = self.taken_down.sum(axis=2).reshape(-1)
        columns["reports"] = self.reports.reshape(-1)
        columns["detentions"] = self.detentions.reshape(-1)
        for i, name in enumerate(STATE_COLUMNS):
            columns[f"users_{name}"] = self.states[:, :, i].reshape(-1)
        columns["arrivals"] = self.arrivals.reshape(-1)
        columns["departures"] = self.departures.reshape(-1)
        return pd.DataFrame(columns)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per group: the run's totals and the rates to compare across groups."""
        speech = self.speech[:, :, _SENSITIVE].sum(axis=(0, 2))  # groups x columns
        taken = self.taken_down[:, :, _SENSITIVE].sum(axis=(0, 2))
        out: dict[str, dict[str, Any]] = {}
        for g, name in enumerate(self.names):
            intended, excluded, offshore, withheld, softened = (int(v) for v in speech[g])
            published = intended - excluded - offshore - withheld
            users = int(self.states[-1, g].sum()) if self.days else 0
            out[name] = {
                "users": users,
                "sensitive_intended": intended,
                "sensitive_withheld": withheld,
                "sensitive_softened": softened,
                "sensitive_published": published,
                "sensitive_taken_down": int(taken[g]),
                "withholding_rate": _ratio(withheld, intended - excluded - offshore),
                "deletion_rate": _ratio(int(taken[g]), published),
                "reports": int(self.reports[:, g].sum()),
                "detentions": int(self.detentions[:, g].sum()),
                "detentions_per_1000_users": _ratio(1000 * int(self.detentions[:, g].sum()), users),
                "arrivals": int(self.arrivals[:, g].sum()),
                "departures": int(self.departures[:, g].sum()),
            }
        return out


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN where there is nothing to rate (a group with no
    users, or none of whose sensitive posts was published): not measured, not 0
    (summary.json writes it as null, the console as n/a, and intervals over
    replications leave it out)."""
    return float(numerator) / denominator if denominator else math.nan


#: The per-group rates ``censim run`` prints and ``censim groups`` compares.
GROUP_RATES = ("deletion_rate", "withholding_rate", "detentions_per_1000_users")
