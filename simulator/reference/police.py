"""The police in the reference model: reports, investigations, detentions and releases
(docs/model.md S11 "Reporting users to the authorities", S12 "Police").

A reported user is investigated by the first free investigator (first come, first
served: a ``simpy.Resource``), unless the report waited longer than
``report_lapse_days`` (it lapses); an anonymous user is identified with a probability, an
identified one detained with the kind's probability, after an exponential
investigation. Detentions decided during a day take effect at the next day boundary
(:meth:`Police.detentions_and_releases`), as every change of who may post where.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from simulator.kinds import N_KINDS, EventKind, UserState
from simulator.reference.world import HOURS_PER_DAY, Platform, User, World, kind_label


class Police(World):
    """Reports, investigations and detentions (mixed into
    :class:`~simulator.reference.agent.ReferenceSimulation`)."""

    def report(self, platform: Platform, user: User, kind: int) -> None:
        """``user`` is reported to the police for a post of ``kind``; an investigation starts."""
        user.ever_reported = True
        self.recorder.tallies["reports"][kind] += 1
        self.recorder.event(
            self.env.now, EventKind.REPORT, platform.state.name, user.index, kind_label(kind)
        )
        self.env.process(self.investigate(user, kind))

    def investigate(self, user: User, kind: int) -> Generator[simpy.Event, Any, None]:
        """An investigator takes the report (first come, first served) and may detain."""
        if self.investigators is None:
            return
        police = self.scenario.police
        filed = self.env.now
        lapse = police.report_lapse_days * HOURS_PER_DAY or math.inf  # 0: never
        with self.investigators.request() as request:
            yield request
            if self.env.now - filed > lapse:
                return  # lapsed: no investigator took it up in time (S12)
            if user.state == UserState.DETAINED:
                return  # already detained: nothing to investigate
            identify = police.identify_anonymous_probability
            detention = police.detention_probability.as_tuple()[kind]
            # What the news counts: the investigation's chance of a detention (S16).
            chance = (1.0 if user.traceable else identify) * detention
            identified = user.traceable or self.rng.random() < identify
            detains = identified and self.rng.random() < detention
            yield self.env.timeout(self.rng.exponential(self.investigation_hours))
        self.pending_chances.append((self.env.now, kind, chance))
        if detains:
            self.pending_detentions.append((self.env.now, user, kind))

    def detentions_and_releases(self, now: float) -> None:
        """At the day boundary ``now`` (hours): the detained whose term is over are
        released, then the detentions decided since the last boundary begin."""
        for user in self.users:
            if user.state == UserState.DETAINED and user.release_hours <= now:
                # Back to what they were: detention restores no closed account.
                user.state = user.state_before_detention
                user.release_hours = math.inf
        self.expected_detentions_today = [0.0] * N_KINDS
        for when, kind, chance in self.pending_chances:
            if when < now:
                self.expected_detentions_today[kind] += chance
        self.pending_chances = [c for c in self.pending_chances if c[0] >= now]
        due = sorted((d for d in self.pending_detentions if d[0] < now), key=lambda d: d[0])
        self.pending_detentions = [d for d in self.pending_detentions if d[0] >= now]
        for when, user, kind in due:
            if user.state == UserState.DETAINED:
                continue
            user.state_before_detention = user.state
            user.state = UserState.DETAINED
            user.ever_detained = True
            user.release_hours = when + self.scenario.police.detention_days * HOURS_PER_DAY
            self.recorder.tallies["detentions"][kind] += 1
            self.news_today += 1
            self.detained_today.append((user, kind))
