"""The police as written in Python before their day was compiled
(simulator/kernels/, ``investigate_until``): the statement tests/test_police.py
holds the engine's police to."""

# mypy: ignore-errors
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.engine.simulation import Simulation
from simulator.kinds import UserState
from simulator.model.platforms import part_time_servers
from simulator.model.police import detention_chance, lapse_hours, police_staff
from simulator.model.regulator import HOURS_PER_DAY
from simulator.model.review_queue import ReviewQueue
from simulator.model.scenario import Police as PoliceSpec
from simulator.streams import Streams


@dataclass
class PythonPolice:
    """The police as they were written in Python: a ``ReviewQueue`` with an
    ``investigate`` callback (the statement the compiled police are held to)."""

    spec: PoliceSpec
    users: Any  # reads .state and .traceable
    rng: np.random.Generator
    staff: float  # full-time investigators (simulator.model.police.police_staff)
    queue: ReviewQueue = field(init=False)
    report_user: list[int] = field(default_factory=list)
    report_kind: list[int] = field(default_factory=list)
    report_time: list[float] = field(default_factory=list)
    # Detentions decided but not yet in force: (time_hours, user, kind)
    pending_detentions: list[tuple[float, int, int]] = field(default_factory=list)
    # Each investigation's chance of a detention: (time_hours, kind, chance)
    pending_chances: list[tuple[float, int, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = self.spec
        servers, mean_service_hours = part_time_servers(
            self.staff, spec.investigation_days * HOURS_PER_DAY
        )
        self.queue = ReviewQueue(
            servers=servers, mean_service_hours=mean_service_hours, rng=self.rng.spawn(1)[0]
        )
        self._detention_probability = np.array(spec.detention_probability.as_tuple())
        # Reports filed since the last advance, not yet in the queue (see report).
        self._unsubmitted_times: list[np.ndarray] = []
        self._unsubmitted_count = 0

    def report(self, time_hours: np.ndarray, user: np.ndarray, kind: np.ndarray) -> None:
        """File reports (one per element) that arrive at ``time_hours``.

        Held here until :meth:`advance` submits the day's reports to the queue in one
        call: the same arrivals in the same order (ties keep submission order), one
        queue submission a day instead of one per batch of reports."""
        if len(user) == 0:
            return
        self.report_user.extend(user.tolist())
        self.report_kind.extend(kind.tolist())
        self.report_time.extend(np.asarray(time_hours, dtype=np.float64).tolist())
        self._unsubmitted_times.append(np.array(time_hours, dtype=np.float64))  # a copy
        self._unsubmitted_count += len(user)

    def _submit_reports(self) -> None:
        """The reports filed since the last advance into the queue, in filing order."""
        if not self._unsubmitted_times:
            return
        count = self._unsubmitted_count
        start = len(self.report_user) - count
        times = self._unsubmitted_times
        self._unsubmitted_times = []
        self._unsubmitted_count = 0
        self.queue.submit(
            times[0] if len(times) == 1 else np.concatenate(times),
            np.zeros(count, np.int64),
            np.arange(start, start + count, dtype=np.int64),
        )

    def advance(self, until_hours: float) -> None:
        self._submit_reports()
        queue = self.queue
        if queue.busy == 0 and queue.waiting == 0 and queue.pending == 0:
            # Nothing under way, waiting or to arrive (a world without reports): the
            # queue would only move its clock, which nothing reads before it runs again.
            return
        users = self.users
        identify = self.spec.identify_anonymous_probability

        lapse = lapse_hours(self.spec)

        def investigate(item: int, start: float, finish: float) -> bool:
            if start - self.report_time[item] > lapse:
                return False  # lapsed: nobody took it up in time
            user = self.report_user[item]
            # Detentions and releases take effect at day boundaries, so the state is the
            # one in force at ``start``. (Not ``release_hours``: it is reset on release.)
            if users.state[user] == UserState.DETAINED:
                return False  # already detained: nothing to investigate
            kind = self.report_kind[item]
            self.pending_chances.append(
                (
                    finish,
                    kind,
                    detention_chance(
                        bool(users.traceable[user]), identify, self._detention_probability[kind]
                    ),
                )
            )
            identified = users.traceable[user] or self.rng.random() < identify
            if identified and self.rng.random() < self._detention_probability[kind]:
                self.pending_detentions.append((finish, user, kind))
            return True

        self.queue.run_until(until_hours, investigate)

    def take_due(self, until_hours: float) -> list[tuple[float, int, int]]:
        """Detentions decided before ``until_hours``, removed from the pending list."""
        if not self.pending_detentions:
            return []
        due = [d for d in self.pending_detentions if d[0] < until_hours]
        self.pending_detentions = [d for d in self.pending_detentions if d[0] >= until_hours]
        return sorted(due)

    def take_expected(self, until_hours: float) -> np.ndarray:
        """Expected detentions by kind of the investigations finished before ``until_hours``."""
        expected = np.zeros(len(self._detention_probability))
        for when, kind, chance in self.pending_chances:
            if when < until_hours:
                expected[kind] += chance
        self.pending_chances = [c for c in self.pending_chances if c[0] >= until_hours]
        return expected


class PythonPoliceSimulation(Simulation):
    """The engine with the Python police."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A fresh police stream from the seed: the engine's Police already spawned the
        # queue's child generator from streams.police, and spawning counts.
        rng = Streams.from_seed(self.seed).police
        self.police = PythonPolice(
            self.scenario.police, self.users, rng, police_staff(self.scenario)
        )
        # Those who hand the police their work: the sanctions (detentions) and reports.
        self.sanctions.police = self.reporting.police = self.police
