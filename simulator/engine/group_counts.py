"""A run's user groups in the engine (docs/model.md "Groups"): hands each mechanism its
group view (the speech choice's counts, the police's and the reports' factors; the
monitors' audience is :meth:`simulator.engine.speech.SpeechDay.order_audience`) and
counts the day by group (:class:`simulator.output.groups.GroupCounts`). Nothing here
exists in a run without groups."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.model import groups as group_rules
from simulator.model.police import Police
from simulator.model.population import Users
from simulator.model.reporting import Reporting
from simulator.model.speech_state import SpeechState
from simulator.output.groups import GroupCounts
from simulator.output.recorder import Recorder


class GroupRun:
    """Sets a run's mechanisms up for its groups and counts each day by group."""

    def __init__(
        self,
        users: Users,
        days: int,
        minds: SpeechState,
        police: Police,
        reporting: Reporting,
        recorder: Recorder,
    ) -> None:
        assert users.group is not None
        self.users = users
        self.group: NDArray[np.int64] = users.group
        self.police = police
        self.counts = GroupCounts(tuple(g.name for g in users.groups), days)
        recorder.groups = self.counts
        minds.group = self.group
        minds.group_counts = self.counts.speech
        police.groups = (self.group, group_rules.factors(users.groups, "detention"))
        police.change_spec(police.spec)  # the line's table by group and kind
        reporting.groups = (self.group, group_rules.factors(users.groups, "reporting"))
        # Newcomers (S14) are counted as their beliefs are reset, which every renewal does.
        reset = users.belief_reset
        self._day = 0

        def renewed(slots: NDArray[np.int64]) -> None:
            self.counts.add_arrivals(self._day, self.group, np.asarray(slots, dtype=np.int64))
            if reset is not None:
                reset(slots)

        users.belief_reset = renewed
        self._reports_seen = 0

    def start_of_day(self, day: int, detained_today: list[int]) -> None:
        """The day's number, and the detentions that took effect this morning (S12)."""
        self._day = day
        if detained_today:
            self.counts.add_detentions(day, self.group, detained_today)

    def after_review(self, day: int, sanctioned: NDArray[np.int64], kinds: Any) -> None:
        """The day's take-downs (blocked or removed: their authors and kinds)."""
        self.counts.add_taken_down(day, self.group, sanctioned, kinds)

    def end_of_day(self, day: int) -> None:
        """The day's reports filed to the police, and users by state."""
        reported = self.police.reported_users(self._reports_seen)
        self._reports_seen += len(reported)
        if len(reported):
            self.counts.add_reports(day, self.group, reported)
        self.counts.end_of_day(day, self.group, self.users.state)
