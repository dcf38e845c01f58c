"""The reporting rule: platforms report users to the police (docs/model.md, S11
"Reporting users to the authorities").

``rules.reporting.mode``:

- ``none``: no reports;
- ``on_request``: each issued takedown order comes with a request for the author's
  data: one report per issued order, at ``order_hours`` (:mod:`simulator.model.orders`);
- ``proactive``: as ``on_request``, and each removal of a post of kind ``k`` by the
  platform's own review (``removed_by`` flag or notice; not an order, whose data
  request already reported the author) is reported with probability
  ``platforms[p].report_probability × o_k``, at its ``removed_hours``
  (:meth:`Reporting.report_removals`): ``o_k`` the offence line of
  :mod:`simulator.model.vague_offence`, 1 for a prohibited kind and, under a vague
  offence, the line probability of a lawful kind the police detain for.

A report sets ``ever_reported``, tallies ``reports`` by kind, records a ``report``
event and enters the police queue (S12).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from simulator.kinds import KIND_LABELS, Action, EventKind
from simulator.model.groups import report_probability
from simulator.model.platforms import PlatformState
from simulator.model.police import Police
from simulator.model.population import Users
from simulator.model.vague_offence import report_chance
from simulator.model.views import IntArray, PostRecords, RunLog


class Reporting:
    """Files reports with the police. ``reports_filed`` counts them (it keys the daily
    population counts: a report changes ``ever_reported``)."""

    def __init__(
        self,
        mode: str,
        offence: NDArray[np.float64],
        users: Users,
        police: Police,
        log: RunLog,
        rng: np.random.Generator,
    ) -> None:
        """``offence``: per kind, the offence line ``o_k``
        (:func:`simulator.model.vague_offence.offence_line`); ``rng``: the reporting
        stream (the proactive choice draws from it)."""
        self.mode = mode
        self.offence = offence
        self.users = users
        self.police = police
        self.log = log
        self.rng = rng
        self.reports_filed = 0
        #: With user groups: each user's group and each group's reporting factor.
        self.groups: tuple[IntArray, NDArray[np.float64]] | None = None

    @property
    def on_orders(self) -> bool:
        """Whether an issued order reports its author (``on_request`` or ``proactive``)."""
        return self.mode in ("on_request", "proactive")

    def report_removals(
        self,
        platform: PlatformState,
        posts: PostRecords,
        ids: IntArray,
    ) -> None:
        """Proactive reporting of ``platform``'s removals ``ids``: each one not removed
        on an order whose kind the authorities can count (``o_k > 0``) is reported with
        probability ``report_probability × o_k``
        (:func:`~simulator.model.vague_offence.report_chance`; one uniform draw each, in
        order; where ``o_k`` is the prohibition mask these are the draws and reports of
        prohibited posts alone)."""
        if self.mode != "proactive":
            return
        # Removals on a regulator's order were reported with the order's data request.
        ids = ids[posts.removed_by[ids] != Action.ORDER]
        chance = report_chance(platform.spec.report_probability, self.offence)
        candidates = ids[self.offence[posts.kind[ids]] > 0.0]
        draws = self.rng.random(len(candidates))
        probability = chance[posts.kind[candidates]]
        if self.groups is not None:  # the author's group's factor (model/groups.py)
            group, factors = self.groups
            probability = report_probability(probability, group[posts.author[candidates]], factors)
        chosen = candidates[draws < probability]
        self.file_reports(
            platform, posts.removed_hours[chosen], posts.author[chosen], posts.kind[chosen]
        )

    def file_reports(
        self,
        platform: PlatformState,
        times: NDArray[np.float64],
        authors: IntArray,
        kinds: NDArray[np.int8],
    ) -> None:
        """Reports of ``authors`` (their posts of ``kinds``) at ``times`` (hours)."""
        if len(authors) == 0:
            return
        self.users.ever_reported[authors] = True
        self.reports_filed += len(authors)
        reports = self.log.tallies["reports"]
        reports += np.bincount(kinds, minlength=len(reports))
        labels = [KIND_LABELS[kind] for kind in kinds.tolist()]
        self.log.events_batch(times, EventKind.REPORT, platform.name, authors, labels)
        self.police.report(times, authors, kinds)
