"""What a run counts while it goes: the speech funnel, removal delays, series and events.

Every intended post is counted once, in the cell of the day it was written, under the
outcome it has at the end of the run. A post that changes fate later (a published post
removed, a held post approved) moves between outcome cells of its own day, so the
partition ``intended = withheld + excluded + blocked + removed + surviving`` holds for
every cell at every moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kinds import N_KINDS, Channel, EventKind, ExclusionReason, Outcome
from simulator.output.groups import GroupCounts
from simulator.output.phases import empty_counts

#: Edges of the time-to-removal histogram (hours). Fine around the published reference
#: points (8 and 30 minutes, 1 and 24 hours: docs/references.md C2), log-spaced elsewhere.
DELAY_EDGES_HOURS: NDArray[np.float64] = np.array(
    [0.0]
    + [m / 60 for m in (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50)]
    + [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 18.0, 24.0, 36.0, 48.0, 72.0, 96.0, 120.0]
    + [168.0, 336.0, 720.0, 1440.0, 2160.0, 4380.0, 8760.0, np.inf]
)


@dataclass(slots=True)
class Event:
    """One row of ``events.csv`` (the many orders and reports are kept as columns, not
    as these: see :meth:`Recorder.events_batch`)."""

    time_hours: float
    event: EventKind
    platform: str
    user: int = -1
    kind: str = ""
    amount: float = 0.0
    detail: str = ""


@dataclass
class Recorder:
    """Accumulates counts for ``days`` days over ``platform_rows`` platform rows (the
    named platforms, then ``circumvention``)."""

    days: int
    platform_rows: int
    counts: NDArray[np.int64] = field(init=False)
    intended: NDArray[np.int64] = field(init=False)
    #: The excluded posts of each (day, row, channel, kind) cell by reason
    #: (``kinds.ExclusionReason``); they add up to the cell's EXCLUDED count.
    excluded_by_reason: NDArray[np.int64] = field(init=False)
    delay_counts: NDArray[np.int64] = field(init=False)
    #: The views take-downs cut, net of what reinstatements gave back, per (day,
    #: platform row, channel, kind) cell of the posts' own day (docs/metrics.md
    #: "Exposure"; :mod:`simulator.model.exposure`).
    exposure_cut: NDArray[np.float64] = field(init=False)
    #: The potential exposure of the public posts of sensitive kinds published, each at
    #: its author's audience (``A_i (1 − e^{−(T − t_pub)/τ})``), per cell of the posts'
    #: own day, added as each is published (or approved after a hold); benign posts
    #: count as from an author of audience 1 and are not summed here (docs/model.md S5b).
    potential: NDArray[np.float64] = field(init=False)
    #: The sensitive decisions by kind, stance x boldness cell and phase (B2), added to
    #: by the speech choice (docs/metrics.md "Phases"; :mod:`simulator.output.phases`).
    phases: NDArray[np.int64] = field(init=False)
    platform_series: list[dict[str, Any]] = field(default_factory=list)
    population_series: list[dict[str, Any]] = field(default_factory=list)
    tallies: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    # Events: single ones as objects, batches as columns, each numbered in the order
    # recorded (see event, events_batch and event_columns).
    _singles: list[Event] = field(default_factory=list, repr=False)
    _single_numbers: list[int] = field(default_factory=list, repr=False)
    _batches: list[_EventBatch] = field(default_factory=list, repr=False)
    _recorded: int = 0
    _columns: dict[str, Any] | None = field(default=None, repr=False)
    #: Per-group counts of a run with user groups (none without: output/groups.py).
    groups: GroupCounts | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        shape = (self.days, self.platform_rows, len(Channel), N_KINDS, len(Outcome))
        self.counts = np.zeros(shape, dtype=np.int64)
        self.intended = np.zeros(shape[:-1], dtype=np.int64)
        self.excluded_by_reason = np.zeros((*shape[:-1], len(ExclusionReason)), dtype=np.int64)
        self.delay_counts = np.zeros((N_KINDS, len(DELAY_EDGES_HOURS) - 1), dtype=np.int64)
        self.exposure_cut = np.zeros(shape[:-1], dtype=np.float64)
        self.potential = np.zeros(shape[:-1], dtype=np.float64)
        self.phases = empty_counts()
        for name in (
            "notices",
            "notices_removed",
            "orders",
            "orders_missed",
            "notices_missed",
            "appeals",
            "reinstated",
            "held",
            "flagged",
            "reviews",
            "reports",
            "detentions",
        ):
            self.tallies[name] = np.zeros(N_KINDS, dtype=np.int64)

    def add(
        self,
        day: int | NDArray[np.integer],
        platform: int | NDArray[np.integer],
        channel: int | NDArray[np.integer],
        kind: int | NDArray[np.integer],
        outcome: int | NDArray[np.integer],
        amount: int | NDArray[np.integer] = 1,
    ) -> None:
        """Add ``amount`` posts to cells (scalars or equal-length arrays)."""
        cell: Any = (day, platform, channel, kind, outcome)
        if _scalars(cell):  # one cell: plain indexing, without ufunc.at's set-up cost
            if amount:
                self.counts[cell] += amount
            return
        np.add.at(self.counts, cell, amount)

    def add_intended(
        self,
        day: int,
        platform: int | NDArray[np.integer],
        channel: int,
        kind: int,
        amount: int = 1,
    ) -> None:
        """Count intended posts as they are drawn, apart from their outcomes."""
        cell: Any = (day, platform, channel, kind)
        if _scalars(cell):
            if amount:
                self.intended[cell] += amount
            return
        np.add.at(self.intended, cell, amount)

    def move(
        self,
        day: NDArray[np.integer],
        platform: NDArray[np.integer],
        channel: NDArray[np.integer],
        kind: NDArray[np.integer],
        source: Outcome,
        target: Outcome,
    ) -> None:
        """Move one post per index from outcome ``source`` to ``target`` in its own cell."""
        if len(day) == 0:
            return
        source_cell: Any = (day, platform, channel, kind, int(source))
        target_cell: Any = (day, platform, channel, kind, int(target))
        np.add.at(self.counts, source_cell, -1)
        np.add.at(self.counts, target_cell, 1)

    def add_delays(self, kind: NDArray[np.integer], delay_hours: NDArray[np.floating]) -> None:
        if len(kind) == 0:
            return
        bins = np.searchsorted(DELAY_EDGES_HOURS, delay_hours, side="right") - 1
        bins = np.clip(bins, 0, len(DELAY_EDGES_HOURS) - 2)
        np.add.at(self.delay_counts, (kind, bins), 1)

    def add_exposure_cut(
        self,
        day: NDArray[np.integer],
        platform: NDArray[np.integer],
        channel: NDArray[np.integer],
        kind: NDArray[np.integer],
        views: NDArray[np.floating],
    ) -> None:
        """Add the views each post's take-down cut (negative: a reinstatement's
        regained views) to its own cell."""
        _add_by_cell(self.exposure_cut, day, platform, channel, kind, views)

    def add_potential(
        self,
        day: NDArray[np.integer],
        platform: NDArray[np.integer],
        channel: NDArray[np.integer],
        kind: NDArray[np.integer],
        views: NDArray[np.floating],
    ) -> None:
        """Add the potential exposure of posts published now (held posts approved) to
        their own cells."""
        _add_by_cell(self.potential, day, platform, channel, kind, views)

    def tally(self, name: str, kind: NDArray[np.integer] | int, amount: int = 1) -> None:
        if isinstance(kind, (int, np.integer)):
            if amount:
                self.tallies[name][kind] += amount
            return
        tally = self.tallies[name]
        # np.add.at's sum by bincount (~5 us less a call; the same integers).
        tally += np.bincount(np.asarray(kind, dtype=np.intp), minlength=len(tally)) * amount

    def event(self, *args: Any, **kwargs: Any) -> None:
        """Record one event (the fields of :class:`Event`)."""
        self._singles.append(Event(*args, **kwargs))
        self._single_numbers.append(self._recorded)
        self._recorded += 1
        self._columns = None

    def events_batch(
        self,
        time_hours: NDArray[np.float64],
        event: EventKind,
        platform: str,
        users: NDArray[np.integer],
        kinds: list[str],
        details: list[str] | None = None,
    ) -> None:
        """Record ``len(users)`` events of one kind on one platform at once, as columns
        (a year of a million users makes ~300,000 orders and reports: objects for each,
        and a sort by a Python key, took ~1 s)."""
        n = len(users)
        if n == 0:
            return
        batch = _EventBatch(
            self._recorded,
            event,
            platform,
            np.asarray(time_hours, dtype=np.float64),
            np.asarray(users, dtype=np.int64),
            kinds,
            details,
        )
        self._batches.append(batch)
        self._recorded += n
        self._columns = None

    def event_columns(self) -> dict[str, Any]:
        """Every event as columns (``time_hours``, ``event``, ``platform``, ``user``,
        ``kind``, ``amount``, ``detail``), ordered by time, then event name, platform
        and user, then as recorded: the table's order. Kept until the next event."""
        if self._columns is None:
            self._columns = self._sorted_columns()
        return self._columns

    @property
    def events(self) -> list[Event]:
        """Every event as :class:`Event` objects, in :meth:`event_columns` order."""
        c = self.event_columns()
        return [
            Event(time, EventKind(name), platform, user, kind, amount, detail)
            for time, name, platform, user, kind, amount, detail in zip(
                c["time_hours"].tolist(), c["event"], c["platform"], c["user"].tolist(),
                c["kind"], c["amount"].tolist(), c["detail"], strict=True,
            )
        ]  # fmt: skip

    def _sorted_columns(self) -> dict[str, Any]:
        singles, batches = self._singles, self._batches
        time = np.concatenate(
            [np.array([e.time_hours for e in singles], dtype=np.float64)]
            + [b.time_hours for b in batches]
        )
        number = np.concatenate(
            [np.array(self._single_numbers, dtype=np.int64)]
            + [np.arange(b.first, b.first + len(b.users), dtype=np.int64) for b in batches]
        )
        user = np.concatenate(
            [np.array([e.user for e in singles], dtype=np.int64)] + [b.users for b in batches]
        )
        amount = np.concatenate(
            [np.array([e.amount for e in singles], dtype=np.float64)]
            + [np.zeros(len(b.users)) for b in batches]
        )
        # Strings as codes into tables of the distinct values, so the sort and the
        # reordering run in numpy; a batch's name and platform are one code each.
        name, name_table = _codes(
            [e.event.value for e in singles], [(b.event.value, len(b.users)) for b in batches]
        )
        platform, platform_table = _codes(
            [e.platform for e in singles], [(b.platform, len(b.users)) for b in batches]
        )
        kind = np.array(
            [e.kind for e in singles] + list(chain.from_iterable(b.kinds for b in batches)),
            dtype=object,
        )
        detail = np.array(
            [e.detail for e in singles]
            + list(chain.from_iterable(b.details or [""] * len(b.users) for b in batches)),
            dtype=object,
        )
        # Python's order of (time, name, platform, user), ties as recorded (the tables
        # are sorted, so code order is string order). By time first (a stable sort of
        # runs already in order), then the few events sharing a time by the whole key.
        order = np.argsort(time, kind="stable")
        in_time = time[order]
        same = in_time[1:] == in_time[:-1]
        tied = np.zeros(len(time), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        at = np.flatnonzero(tied)
        if len(at):
            sub = order[at]
            order[at] = sub[
                np.lexsort((number[sub], user[sub], platform[sub], name[sub], time[sub]))
            ]
        return {
            "time_hours": time[order],
            "event": name_table[name[order]].tolist(),
            "platform": platform_table[platform[order]].tolist(),
            "user": user[order],
            "kind": kind[order].tolist(),
            "amount": amount[order],
            "detail": detail[order].tolist(),
        }


def _codes(
    singles: list[str], batches: list[tuple[str, int]]
) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """Codes of the strings ``singles`` then of each batch's string repeated, into a
    sorted table of the distinct strings (returned as an object array)."""
    table = sorted(set(singles) | {value for value, _ in batches})
    rank = {value: i for i, value in enumerate(table)}
    codes = np.concatenate(
        [np.array([rank[value] for value in singles], dtype=np.int64)]
        + [np.full(n, rank[value], dtype=np.int64) for value, n in batches]
    )
    return codes, np.array(table, dtype=object)


@dataclass
class _EventBatch:
    """Events recorded together (:meth:`Recorder.events_batch`), numbered from ``first``."""

    first: int
    event: EventKind
    platform: str
    time_hours: NDArray[np.float64]
    users: NDArray[np.int64]
    kinds: list[str]
    details: list[str] | None


def _scalars(cell: tuple[Any, ...]) -> bool:
    """Whether every index of ``cell`` is a single integer (not an array)."""
    return all(isinstance(index, (int, np.integer)) for index in cell)


def _add_by_cell(
    table: NDArray[np.floating],
    day: NDArray[np.integer],
    platform: NDArray[np.integer],
    channel: NDArray[np.integer],
    kind: NDArray[np.integer],
    views: NDArray[np.floating],
) -> None:
    """Add each post's ``views`` to its (day, platform, channel, kind) cell of ``table``."""
    if len(views):
        np.add.at(table, (day, platform, channel, kind), views)
