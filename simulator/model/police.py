"""The police: reports investigated first come, first served, identification, detention
and release (docs/model.md, 3.3 Submodels S12).

:func:`police_staff` full-time investigators (``investigators_per_100k_users`` of the
population) work through reports in filing order (the multi-server queue of
:mod:`simulator.kernels.queue`, the same one the review uses, with one priority level),
as ``ceil(staff)`` part-time servers (:func:`~simulator.model.platforms.part_time_servers`);
each investigation takes an exponential time of mean ``investigation_days`` of work. A
report about a user already detained, or one no investigator took up within
``report_lapse_days`` of its filing (:func:`lapse_hours`), is dropped; otherwise the
user is identified
(always if traceable, else with probability ``identify_anonymous_probability``) and
then detained with their post kind's ``detention_probability``. Each investigation's
chance of a detention (:func:`detention_chance`) is kept beside the realized outcome:
the news reports the expected detentions (docs/model.md S16). The police read the
users only through a :class:`UsersView`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from simulator.kernels.police import investigate_until
from simulator.kernels.queue import new_line, relaid_line
from simulator.kinds import N_KINDS
from simulator.model.groups import detention_table
from simulator.model.platforms import part_time_servers
from simulator.model.review_queue import SERVICE_BLOCK
from simulator.model.scenario import Police as PoliceSpec
from simulator.model.scenario import Scenario
from simulator.model.staff_count import staff_for

HOURS_PER_DAY = 24.0


def police_staff(scenario: Scenario) -> float:
    """Full-time investigators (docs/model.md S12): ``investigators_per_100k_users ×
    population.users / 100,000``, counted to a millionth (as review staff) so a rate
    that makes a whole number gives exactly that number."""
    rate = scenario.police.investigators_per_100k_users
    return staff_for(rate, scenario.population.users)


def lapse_hours(spec: PoliceSpec) -> float:
    """How long a report may wait for an investigator before it lapses, in hours
    (docs/model.md S12): ``report_lapse_days × 24``; ``inf`` when 0 (never)."""
    days = spec.report_lapse_days
    return days * HOURS_PER_DAY if days > 0.0 else math.inf


def detention_chance(traceable: bool, identify: float, detention_probability: float) -> float:
    """The chance that an investigation ends in a detention (docs/model.md S12, S16):
    ``P(identified) x p_k``, with ``P(identified)`` 1 for a traceable user and
    ``identify_anonymous_probability`` for an anonymous one, and ``p_k`` the kind's
    ``detention_probability``. The realized detention is a draw with this chance;
    summed over a day's investigations it is the day's expected detentions."""
    return (1.0 if traceable else identify) * detention_probability


class UsersView(Protocol):
    """What the police read of the population: per-user arrays, read when a day is
    advanced (:class:`simulator.model.population.Users`)."""

    state: np.ndarray  # UserState codes (int8)
    traceable: np.ndarray  # bool: registered under the user's real name


@dataclass
class Police:
    """Investigators working through reports first come, first served.

    The line is the exact multi-server queue of
    :class:`~simulator.model.review_queue.ReviewQueue` with one priority level, advanced
    a day at a time by the compiled :func:`simulator.kernels.police.investigate_until`
    on the review's queue (:mod:`simulator.kernels.queue`; the queue's service times and the
    investigations' draws are drawn ahead in blocks from their own generators, which
    nothing else uses: the same numbers in the same order). ``tests/test_police.py``
    runs the Python form (a ``ReviewQueue`` with an ``investigate`` callback) beside it.
    """

    spec: PoliceSpec
    users: UsersView
    rng: np.random.Generator
    staff: float  # full-time investigators (police_staff)
    # Detentions decided but not yet in force: (time_hours, user, kind)
    pending_detentions: list[tuple[float, int, int]] = field(default_factory=list)
    # Each investigation's chance of a detention, not yet in force: (time_hours, kind,
    # chance) (detention_chance; the news' expected detentions, S16).
    pending_chances: list[tuple[float, int, float]] = field(default_factory=list)
    #: With user groups: each user's group and each group's detention factor (the line
    #: then reads a report's ``g * N_KINDS + k`` against
    #: :func:`simulator.model.groups.detention_table`); none: the national table.
    groups: tuple[NDArray[np.int64], NDArray[np.float64]] | None = None

    def __post_init__(self) -> None:
        spec = self.spec
        self._service_rng = self.rng.spawn(1)[0]  # the queue's service times
        self._servers, self._mean_service_hours = part_time_servers(
            self.staff, spec.investigation_days * HOURS_PER_DAY
        )
        self._detention_probability = self._detention_table(spec)
        # Reports filed: who and what (report i is item i in the line).
        self._report_user = np.empty(64, dtype=np.int64)
        self._report_kind = np.empty(64, dtype=np.int64)
        self._reports = 0
        # Filed since the last advance (times, in filing order), then arrivals not yet
        # processed, sorted by time (ties in filing order).
        self._unsubmitted: list[np.ndarray] = []
        self._pending_t = np.empty(0, dtype=np.float64)
        self._pending_i = np.empty(0, dtype=np.int64)
        # The line's state (see investigate_until): finish heap, the line's ring
        # (reports, arrival hours, its one level's row), counters
        # [busy, length, entries so far, next service, next uniform], draws made ahead.
        self._finish = np.empty(self._servers + 1, dtype=np.float64)
        self._line = new_line(64)
        self._counters = np.zeros(5, dtype=np.int64)
        self._service = np.empty(0, dtype=np.float64)
        self._uniform = np.empty(0, dtype=np.float64)

    def change_spec(self, spec: PoliceSpec) -> None:
        """From now on, decide by ``spec`` (a timeline's change: detention and
        identification probabilities; the investigators and their pace stay)."""
        self.spec = spec
        self._detention_probability = self._detention_table(spec)

    def _detention_table(self, spec: PoliceSpec) -> NDArray[np.float64]:
        """Detention probability by kind, or by group and kind (flattened)."""
        national = spec.detention_probability.as_tuple()
        if self.groups is None:
            return np.array(national)
        return detention_table(national, self.groups[1])

    @property
    def servers(self) -> int:
        """Servers of the line: ``ceil(staff)`` part-time investigators."""
        return self._servers

    @property
    def busy(self) -> int:
        """Investigators at work."""
        return int(self._counters[0])

    @property
    def waiting(self) -> int:
        """Reports that arrived and wait for an investigator."""
        return int(self._counters[1])

    @property
    def pending(self) -> int:
        """Reports filed whose arrival has not been processed yet."""
        return len(self._pending_t) + sum(len(t) for t in self._unsubmitted)

    def report(self, time_hours: np.ndarray, user: np.ndarray, kind: np.ndarray) -> None:
        """File reports (one per element) that arrive at ``time_hours``; they join the
        line when :meth:`advance` reaches them."""
        count = len(user)
        if count == 0:
            return
        start, stop = self._reports, self._reports + count
        if stop > len(self._report_user):
            size = max(stop, 2 * len(self._report_user))
            self._report_user = _grown(self._report_user, size)
            self._report_kind = _grown(self._report_kind, size)
        self._report_user[start:stop] = user
        if self.groups is None:
            self._report_kind[start:stop] = kind
        else:  # the line reads group and kind as one index (see ``groups``)
            self._report_kind[start:stop] = self.groups[0][user] * N_KINDS + kind
        self._reports = stop
        self._unsubmitted.append(np.array(time_hours, dtype=np.float64))  # a copy

    def reported_users(self, start: int) -> np.ndarray:
        """The users of the reports filed from the ``start``-th on (a view)."""
        return self._report_user[start : self._reports]

    def _merge_reports(self) -> None:
        """Reports filed since the last advance into the sorted pending arrivals (one
        stable sort: ties keep filing order, as the queue's submissions did)."""
        if not self._unsubmitted:
            return
        new = np.concatenate(self._unsubmitted)
        self._unsubmitted = []
        first = self._reports - len(new)
        times = np.concatenate((self._pending_t, new))
        items = np.concatenate((self._pending_i, np.arange(first, self._reports)))
        if len(times) > 1 and (times[1:] < times[:-1]).any():
            order = np.argsort(times, kind="stable")
            times, items = times[order], items[order]
        self._pending_t, self._pending_i = times, items

    def advance(self, until_hours: float) -> None:
        """Every arrival, start and finish before ``until_hours``; the detentions decided
        join :attr:`pending_detentions`."""
        self._merge_reports()
        busy, length = self.busy, self.waiting
        if busy == 0 and length == 0 and len(self._pending_t) == 0:
            return  # nothing under way, waiting or to arrive (a world without reports)
        n = int(np.searchsorted(self._pending_t, until_hours, side="left"))
        arrival, items = self._pending_t[:n], self._pending_i[:n]
        self._pending_t, self._pending_i = self._pending_t[n:], self._pending_i[n:]
        self._make_room(n, length + n)
        users = self.users
        times, who, kinds, chance_times, chance_kinds, chances = investigate_until(
            arrival, items, float(until_hours), self._servers, self._finish,
            *self._line, self._counters, self._service, self._uniform,
            self._report_user, self._report_kind, users.state, users.traceable,
            float(self.spec.identify_anonymous_probability), self._detention_probability,
            lapse_hours(self.spec),
        )  # fmt: skip
        if self.groups is not None:
            kinds = kinds % N_KINDS
            chance_kinds = chance_kinds % N_KINDS
        self.pending_detentions.extend(
            zip(times.tolist(), who.tolist(), kinds.tolist(), strict=True)
        )
        self.pending_chances.extend(
            zip(chance_times.tolist(), chance_kinds.tolist(), chances.tolist(), strict=True)
        )

    def _make_room(self, arrivals: int, in_line: int) -> None:
        """Room in the line for ``in_line`` reports, and a service time and two draws
        for each (every start or drop uses one time; an investigation two draws at
        most), drawn ahead in the blocks the queue drew them in."""
        counters = self._counters
        if in_line > len(self._line[0]):
            capacity = len(self._line[0])
            while capacity < in_line:
                capacity *= 2
            # The ring's reports, in order, to the start of a larger one.
            self._line = relaid_line(*self._line, np.array([capacity], dtype=np.int64))
        self._service, counters[3] = _topped_up(
            self._service, int(counters[3]), in_line,
            lambda: self._service_rng.exponential(self._mean_service_hours, SERVICE_BLOCK),
        )  # fmt: skip
        self._uniform, counters[4] = _topped_up(
            self._uniform, int(counters[4]), 2 * in_line, lambda: self.rng.random(SERVICE_BLOCK)
        )

    def take_due(self, until_hours: float) -> list[tuple[float, int, int]]:
        """Detentions decided before ``until_hours``, removed from the pending list."""
        if not self.pending_detentions:
            return []
        due = [d for d in self.pending_detentions if d[0] < until_hours]
        self.pending_detentions = [d for d in self.pending_detentions if d[0] >= until_hours]
        return sorted(due)

    def take_expected(self, until_hours: float) -> NDArray[np.float64]:
        """Expected detentions by kind (length ``N_KINDS``) of the investigations that
        finished before ``until_hours``, removed from the pending list: the sum of their
        :func:`detention_chance` (what the news reports, docs/model.md S16)."""
        expected = np.zeros(N_KINDS)
        if not self.pending_chances:
            return expected
        kept = []
        for when, kind, chance in self.pending_chances:
            if when < until_hours:
                expected[kind] += chance
            else:
                kept.append((when, kind, chance))
        self.pending_chances = kept
        return expected


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` copied into the start of a new array of ``size`` elements."""
    out = np.empty(size, dtype=array.dtype)
    out[: len(array)] = array
    return out


def _topped_up(
    draws: np.ndarray, used: int, needed: int, block: Callable[[], np.ndarray]
) -> tuple[np.ndarray, int]:
    """``draws[used:]`` with whole blocks appended until at least ``needed`` remain,
    and the new position of the next unused draw (0)."""
    left = draws[used:]
    if len(left) >= needed:
        return draws, used
    blocks = [left]
    while sum(len(b) for b in blocks) < needed:
        blocks.append(block())
    return np.concatenate(blocks), 0
