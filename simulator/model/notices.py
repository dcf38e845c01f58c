"""Who sends notices, and what became of them (docs/model.md S5b "Notice senders").

Notices come from **sender types**: ordinary users, trusted flaggers (DSA Art. 22;
NetzDG's complaint bodies) and automated senders. The scenario gives each its share
``π_s,k`` of the notices about posts of kind ``k`` (``population.notices.senders``), so
with the chance that anyone notices such a post, ``P_k`` (``notices.probability``), a
sender's volume per kind is ``π_s,k P_k`` and its accuracy is the mix over kinds of what
it notices. As competing noticers (S5a): sender ``s`` notices a post at rate
``r_s,k = π_s,k R_k`` per view, ``R_k = −ln(1 − P_k)``, so alone it would notice with
``1 − (1 − P_k)^π_s,k``; together they notice at ``R_k`` (the engine's one draw,
unchanged), and the first notice comes from sender ``s`` with probability::

    r_s,k / R_k = π_s,k

whatever its time (competing Poisson processes with proportional intensities: the
source of the first arrival is independent of its time). So attributing the sender after
the draw, from a stream of its own (``streams.NOTICE_SENDERS_KEY``), is exact and
changes no other draw: a scenario without senders runs as before (every notice the
users', no draw). One notice per post, the first (later notices about a post already
noticed are not modelled). The reviewer decides on the post, not on who sent the notice
(S7), so a sender's share of notices acted on follows from the kinds it notices.

:class:`NoticeLedger` counts what the transparency reports summarise
(:mod:`simulator.output.transparency`): notices per platform, sender and kind, removals
on them and how soon after the notice, and every removal decision by route (order,
notice, flag) with its appeals and reinstatements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kinds import N_KINDS, Action
from simulator.model.scenario import Notices

SENDERS = ("users", "trusted_flaggers", "automated")
"""The sender types, in the order of the ledger's sender axis."""

ROUTES = (Action.ORDER, Action.NOTICE, Action.FLAG)
"""The review routes by which a published post is removed (``removed_by``)."""

WITHIN_HOURS = (24.0, 48.0, 168.0)
"""NetzDG s.2(2) no. 8's marks: removed within 24 hours, 48 hours, a week of the notice."""

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def sender_shares(notices: Notices) -> FloatArray:
    """``π[s, k]``: each sender type's share of the notices about posts of kind ``k``
    (senders not given: 0); without senders every notice is the users'."""
    table = np.zeros((len(SENDERS), N_KINDS))
    if not notices.senders:
        table[0] = 1.0
        return table
    for name, sender in notices.senders.items():
        table[SENDERS.index(name)] = sender.share.as_tuple()
    return table


def attribute_senders(
    kinds: NDArray[Any], shares: FloatArray, rng: np.random.Generator | None
) -> NDArray[np.int8]:
    """The sender of each notice, of posts of ``kinds``: sender ``s`` with probability
    ``shares[s, kind]``, one uniform per notice (inverse CDF over the senders in
    :data:`SENDERS` order). ``rng`` None: each kind has one sender, no draw."""
    kinds = np.asarray(kinds, dtype=np.int64)
    if rng is None or len(kinds) == 0:
        # Every kind's notices come from one sender (or there are none): no draw.
        return np.argmax(shares, axis=0)[kinds].astype(np.int8)
    cumulative = np.cumsum(shares, axis=0)[:, kinds]  # [sender, notice]
    u = rng.random(len(kinds))
    sender = (u[None, :] >= cumulative[:-1]).sum(axis=0)
    return sender.astype(np.int8)


class NoticeLedger:
    """The counts behind the transparency reports, per platform (docs/metrics.md
    "notices.csv", "removals.csv"). ``rng``: the senders' stream, None when one sender
    type sends every notice."""

    def __init__(self, n_platforms: int, notices: Notices, rng: np.random.Generator | None) -> None:
        self.shares = sender_shares(notices)
        several = bool(((self.shares > 0) & (self.shares < 1)).any())
        self.rng = rng if several else None
        shape = (n_platforms, len(SENDERS), N_KINDS)
        self.notices = np.zeros(shape, dtype=np.int64)
        self.notices_removed = np.zeros(shape, dtype=np.int64)
        self.noticed_removed = np.zeros(shape, dtype=np.int64)
        self.removed_within = np.zeros((len(WITHIN_HOURS), *shape), dtype=np.int64)
        self._action_hours: list[list[list[FloatArray]]] = [
            [[] for _ in SENDERS] for _ in range(n_platforms)
        ]
        routes = (n_platforms, Action.COUNT, N_KINDS)
        self.removals = np.zeros(routes, dtype=np.int64)
        self.appealed = np.zeros(routes, dtype=np.int64)
        self.reinstated = np.zeros(routes, dtype=np.int64)

    def add_notices(self, posts: Any, ids: IntArray, notice_hours: FloatArray) -> None:
        """Notices arriving at ``notice_hours`` about posts ``ids`` (in submission order):
        their senders drawn, kept on the posts (``notice_hours``, ``notice_sender``)."""
        if len(ids) == 0:
            return
        kinds = posts.kind[ids]
        senders = attribute_senders(kinds, self.shares, self.rng)
        posts.notice_hours[ids] = notice_hours
        posts.notice_sender[ids] = senders
        np.add.at(self.notices, (posts.platform[ids], senders, kinds), 1)

    def add_removals(self, posts: Any, ids: IntArray) -> None:
        """Removal decisions of posts ``ids`` (first removals of the day, ``removed_by``
        set): per route; of noticed posts, per sender whatever the route; for removals
        on a notice, per sender with the hours since the notice."""
        if len(ids) == 0:
            return
        platform, kind, route = posts.platform[ids], posts.kind[ids], posts.removed_by[ids]
        np.add.at(self.removals, (platform, route, kind), 1)
        # Noticed posts removed by any route (the notice may come before or after).
        sender = posts.notice_sender[ids]
        noticed = sender >= 0
        np.add.at(self.noticed_removed, (platform[noticed], sender[noticed], kind[noticed]), 1)
        on_notice = ids[route == Action.NOTICE]
        if len(on_notice) == 0:
            return
        platform, kind = posts.platform[on_notice], posts.kind[on_notice]
        sender = posts.notice_sender[on_notice]
        hours = posts.removed_hours[on_notice] - posts.notice_hours[on_notice]
        np.add.at(self.notices_removed, (platform, sender, kind), 1)
        for mark, limit in enumerate(WITHIN_HOURS):
            within = hours <= limit
            np.add.at(
                self.removed_within[mark], (platform[within], sender[within], kind[within]), 1
            )
        for p, s in set(zip(platform.tolist(), sender.tolist(), strict=True)):
            mine = (platform == p) & (sender == s)
            self._action_hours[p][s].append(hours[mine])

    def add_appeals(self, posts: Any, ids: IntArray) -> None:
        """Appeals filed against the removals of posts ``ids`` (route kept on the post)."""
        if len(ids) == 0:
            return
        posts.appealed_by[ids] = posts.removed_by[ids]
        np.add.at(self.appealed, (posts.platform[ids], posts.removed_by[ids], posts.kind[ids]), 1)

    def add_reinstated(self, posts: Any, ids: IntArray) -> None:
        """Removals of posts ``ids`` reversed on appeal, by the route appealed."""
        if len(ids) == 0:
            return
        np.add.at(
            self.reinstated, (posts.platform[ids], posts.appealed_by[ids], posts.kind[ids]), 1
        )

    def median_action_hours(self, platform: int, sender: int | None = None) -> float:
        """Median hours from notice to removal of the platform's notice removals (of one
        sender, or all); NaN if none."""
        rows = self._action_hours[platform]
        parts = [h for s, lists in enumerate(rows) if sender in (None, s) for h in lists]
        if not parts:
            return float("nan")
        return float(np.median(np.concatenate(parts)))
