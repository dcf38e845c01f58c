"""Choices when access changes (docs/model.md S9a): when a user's home platform stops
serving (blocked by the timeline, its licence suspended, gone), the user chooses to
**stop**, **move** to another platform that serves, or **circumvent** (a VPN to the
blocked service, or a foreign one), by random utility (McFadden 1974; B10, B11, C6).

For user ``i`` whose home ``p`` does not serve, with ``w_i = rate_i / mean(rate)`` (what
a service is worth to a user grows with how much they post; ASSUMPTION) and persistent
tastes ``eps_ij ~ Gumbel(0, taste_scale)`` (one per user and option, drawn once for the
run from the access stream)::

    U_stop  = eps_i0
    U_circ  = w_i * v_c * (1 - friction) - circumvention_cost - legal_risk + eps_i1
              v_c = values[p] if p is blocked (reached through the tool), else foreign_value
    U_move,q = w_i * values[q] - moving_cost + eps_i,2+q      for every q != p that serves

and takes the option of highest utility: the logit shares
``P(j) = exp(V_j / s) / sum_k exp(V_k / s)`` over the population, which depend on every
user's value of the lost service, on the cost and risk of circumvention and on the
alternatives. A stopper stays ACTIVE at home without a route (reason ``suspended``,
S14); a mover's home becomes ``q`` (ACTIVE); a circumventer is CIRCUMVENTING and posts
offshore (S15), paying the running cost.

**Re-deciding.** Whenever what the choice weighs changes (a platform starts or stops
serving; a timeline changes ``access.*``), every user who stopped or circumvents because
of a lost service decides again with the same tastes (so a circumventer abandons the tool
when its cost rises past what the service is worth to them); a circumventer whose lost
platform serves again goes back to it (ASSUMPTION: the same service without the tool's
cost and friction). Movers stay on their new platform (ASSUMPTION: they took their
network with them) unless it stops serving in turn. Between changes, a user who comes to
a home that does not serve (a slot renewed, an account back, a release) decides once.

**Registration required** (S13). A user who refuses to register under the real name
and whom the platform enforces against (on the rule's first day, or a newcomer of
turnover while it is in force) loses the service too: the same choice between stopping
(EXCLUDED, reason ``refused_real_name``) and circumventing to a foreign service (value
``foreign_value``); moving is not open (ASSUMPTION: every platform under the rule asks for
the identity they refused). ``rules.real_name.circumvent_probability`` is then not used
(its draws are still made, so the behaviour stream is unchanged). Refusers decide again
on every change, like those who lost a service.

With ``access.enabled = false`` nothing here runs: the rules before it (S9, S13, S14, S15).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kinds import EventKind, ExclusionReason, UserState
from simulator.model.platforms import PlatformState
from simulator.model.population import Users
from simulator.model.scenario.access import Access
from simulator.model.views import IntArray, RunLog

#: Choice codes: stop, circumvent, then move to platform ``q`` as ``MOVE + q``.
STOP, CIRCUMVENT, MOVE = 0, 1, 2
#: What events.csv's ``access_choice`` detail says of each choice (``move`` adds ``:name``).
LABELS = {STOP: "stop", CIRCUMVENT: "circumvent"}
#: A circumventer going back to the platform it lost, now serving again.
RETURN = "return"
#: The prefix of a real-name refuser's choice in events.csv (``refuse:stop``, ...).
REFUSE = "refuse"


def utilities(
    weight: NDArray[np.float64],
    lost_value: NDArray[np.float64],
    home: NDArray[np.integer],
    serving: NDArray[np.bool_],
    values: NDArray[np.float64],
    spec: Access,
    friction: float,
) -> NDArray[np.float64]:
    """The systematic utilities ``V[users, 2 + platforms]`` (stop, circumvent, move to
    each platform; ``-inf`` where a platform does not serve or is the home)."""
    n, n_p = len(weight), len(values)
    v = np.full((n, MOVE + n_p), -np.inf)
    v[:, STOP] = 0.0
    v[:, CIRCUMVENT] = (
        weight * lost_value * (1.0 - friction) - spec.circumvention_cost - spec.legal_risk
    )
    for q in range(n_p):
        if serving[q]:
            v[:, MOVE + q] = np.where(home == q, -np.inf, weight * values[q] - spec.moving_cost)
    return v


def choose(v: NDArray[np.float64], tastes: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    """Each user's option of highest ``v + tastes`` (ties: the first)."""
    return np.argmax(v + tastes, axis=1).astype(np.int64)


def logit_shares(v: NDArray[np.float64], scale: float) -> NDArray[np.float64]:
    """The expected shares of each option, ``softmax(v / scale)`` per user, averaged: what
    :func:`choose` gives in the limit of many users (the test of the statement)."""
    z = v / scale
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray((e / e.sum(axis=1, keepdims=True)).mean(axis=0))


class AccessChoices:
    """The choices of one run (:meth:`decide` once a day, after returns and turnover)."""

    def __init__(
        self,
        spec: Access,
        users: Users,
        platforms: Sequence[PlatformState],
        friction: float,
        rng: np.random.Generator,
        log: RunLog,
    ) -> None:
        """``rng``: the access stream (tastes only, drawn at the first choice)."""
        self.spec = spec
        self.users = users
        self.platforms = platforms
        self.friction = friction
        self.rng = rng
        self.log = log
        n = users.size
        #: The platform whose loss a CIRCUMVENTING user answers (-1: none, or circumvents
        #: for another reason: a sanction, a refused real name, S14, S13).
        self.lost = np.full(n, -1, dtype=np.int16)
        #: Decided since the last change (or since coming to a home that does not serve).
        self.settled = np.zeros(n, dtype=np.bool_)
        #: Refused the real name where enforced: chooses to stop or circumvent (S13).
        self.refuser = np.zeros(n, dtype=np.bool_)
        #: The option in force (STOP or CIRCUMVENT; -1: none, e.g. after moving): a
        #: choice is an event only where it changes something.
        self.option = np.full(n, -1, dtype=np.int8)
        self._tastes: NDArray[np.float32] | None = None
        self._weight: NDArray[np.float64] | None = None
        self._seen: tuple[tuple[bool, ...], Access] | None = None
        #: Users who chose to move, over the run (summary.json's split is made from the
        #: ``access_choice`` events: :func:`simulator.output.metrics.access_split`).
        self.moved_users = 0

    def set_spec(self, spec: Access) -> None:
        """A timeline's new values (the next :meth:`decide` is a change)."""
        self.spec = spec

    def renewed(self, slots: IntArray) -> None:
        """Newcomers in ``slots`` (S14) decide afresh if their home does not serve, or if
        they refused the real name where enforced (EXCLUDED for it, or CIRCUMVENTING: the
        only way a newcomer starts circumventing)."""
        self.lost[slots] = -1
        self.settled[slots] = False
        self.option[slots] = -1
        state = self.users.state[slots]
        self.refuser[slots] = (state == UserState.CIRCUMVENTING) | (
            (state == UserState.EXCLUDED)
            & (self.users.excl_reason[slots] == ExclusionReason.REFUSED_REAL_NAME)
        )

    def refused(self, users: IntArray) -> None:
        """``users`` refused the real name on the rule's first day where enforced: they
        choose at the next :meth:`decide`."""
        self.refuser[users] = True
        self.settled[users] = False
        self.option[users] = -1

    def real_name_lifted(self, now: float, returning: IntArray) -> None:
        """The real-name rule lifted (S13): no one is a refuser any more; ``returning``,
        refusers who circumvented, are back home (``return`` events; :class:`Sanctions`
        made them ACTIVE, and the stoppers too). Whoever is back at a home that does not
        serve today decides at the next :meth:`decide`."""
        refusers = self.refuser
        self.option[refusers] = -1
        self.settled[refusers] = False
        self.refuser[:] = False
        if len(returning):
            self._events(now, returning, [RETURN] * len(returning))

    def _draws(self) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
        if self._tastes is None:
            n, n_p = self.users.size, len(self.platforms)
            # float32: one per user and option (4 bytes each, 20 MB at a million users
            # and three platforms).
            self._tastes = self.rng.gumbel(0.0, 1.0, size=(n, MOVE + n_p)).astype(np.float32)
            rate = self.users.rate
            self._weight = rate / rate.mean() if rate.size and rate.mean() > 0 else rate
        assert self._weight is not None
        return self._tastes, self._weight

    def decide(self, day: int, now: float) -> bool:
        """Today's choices at time ``now``; ``True`` if any user's state or home changed."""
        users = self.users
        serving = tuple(p.serving(now) for p in self.platforms)
        changed = self._seen != (serving, self.spec)
        self._seen = (serving, self.spec)
        state, home = users.state, users.platform
        up = np.array(serving, dtype=np.bool_)
        if changed:
            self.settled[:] = False
            # Stoppers whose home serves again have their service back: no option in force.
            self.option[(self.option == STOP) & (state == UserState.ACTIVE) & up[home]] = -1
        circumventing = (state == UserState.CIRCUMVENTING) & (self.lost >= 0)
        stranded = (state == UserState.ACTIVE) & ~up[home]
        refusing = self.refuser & (
            (state == UserState.CIRCUMVENTING) | (state == UserState.EXCLUDED)
        )
        if not changed:
            stranded &= ~self.settled
            refusing &= ~self.settled
            circumventing[:] = False
        if not (stranded.any() or circumventing.any() or refusing.any()):
            return False
        refusers = np.flatnonzero(refusing)
        if len(refusers):
            self._choose_refusers(now, refusers)
            self.settled[refusers] = True
        # A circumventer whose platform serves again goes back to it.
        back = np.flatnonzero(circumventing & up[np.maximum(self.lost, 0)])
        if len(back):
            state[back] = UserState.ACTIVE
            self.lost[back] = -1
            self.option[back] = -1
            self._events(now, back, [RETURN] * len(back))
        who = np.flatnonzero(stranded | (circumventing & ~up[np.maximum(self.lost, 0)]))
        if len(who):
            self._choose(now, who, up)
        self.settled[who] = True
        users.states_changed()
        return True

    def _choose(self, now: float, who: IntArray, up: NDArray[np.bool_]) -> None:
        users = self.users
        tastes, weight = self._draws()
        spec = self.spec
        names = [p.name for p in self.platforms]
        values = np.array([spec.values.get(name, 1.0) for name in names], dtype=np.float64)
        blocked = np.array([p.blocked and not p.exited for p in self.platforms], dtype=np.bool_)
        # The platform each user lost: a circumventer's is ``lost``, a stranded user's home.
        was = np.where(self.lost[who] >= 0, self.lost[who], users.platform[who]).astype(np.int64)
        lost_value = np.where(blocked[was], values[was], spec.foreign_value)
        v = utilities(weight[who], lost_value, was, up, values, spec, self.friction)
        choice = choose(v, tastes[who] * spec.taste_scale)
        stop, circ = who[choice == STOP], who[choice == CIRCUMVENT]
        users.state[stop] = UserState.ACTIVE
        self.lost[stop] = -1
        users.state[circ] = UserState.CIRCUMVENTING
        self.lost[circ] = was[choice == CIRCUMVENT]
        details = np.empty(len(who), dtype=object)
        details[choice == STOP] = LABELS[STOP]
        details[choice == CIRCUMVENT] = LABELS[CIRCUMVENT]
        for q, name in enumerate(names):
            movers = choice == MOVE + q
            if not movers.any():
                continue
            users.platform[who[movers]] = q
            users.state[who[movers]] = UserState.ACTIVE
            self.lost[who[movers]] = -1
            self.moved_users += int(movers.sum())
            details[movers] = f"move:{name}"
        self._record(now, who, choice, details)

    def _choose_refusers(self, now: float, who: IntArray) -> None:
        """Real-name refusers: stop (EXCLUDED, ``refused_real_name``) or circumvent to a
        foreign service; no platform to move to (module docstring)."""
        users = self.users
        tastes, weight = self._draws()
        spec = self.spec
        n_p = len(self.platforms)
        home = users.platform[who].astype(np.int64)
        v = utilities(
            weight[who], np.full(len(who), spec.foreign_value), home,
            np.zeros(n_p, dtype=np.bool_), np.ones(n_p), spec, self.friction,
        )  # fmt: skip
        circ = choose(v, tastes[who] * spec.taste_scale) == CIRCUMVENT
        users.state[who[circ]] = UserState.CIRCUMVENTING
        users.excl_reason[who[circ]] = ExclusionReason.NONE
        users.state[who[~circ]] = UserState.EXCLUDED
        users.excl_reason[who[~circ]] = ExclusionReason.REFUSED_REAL_NAME
        labels = np.where(circ, f"{REFUSE}:{LABELS[CIRCUMVENT]}", f"{REFUSE}:{LABELS[STOP]}")
        self._record(now, who, np.where(circ, CIRCUMVENT, STOP), labels.astype(object))

    def _record(
        self, now: float, who: IntArray, choice: NDArray[np.int64], details: NDArray[np.object_]
    ) -> None:
        """The choices that change something (a first choice, a move, or another option
        than the one in force) as events; the options now in force."""
        new = np.where(choice >= MOVE, -1, choice).astype(np.int8)
        news = (choice >= MOVE) | (self.option[who] != new)
        self.option[who] = new
        if news.any():
            self._events(now, who[news], details[news].tolist())

    def _events(self, now: float, who: IntArray, details: list[str]) -> None:
        """One ``access_choice`` event per user (at home platform before the choice is
        not kept: the event's platform is the user's home after it)."""
        home = self.users.platform[who]
        for p, platform in enumerate(self.platforms):
            mine = home == p
            if mine.any():
                self.log.events_batch(
                    np.full(int(mine.sum()), now), EventKind.ACCESS_CHOICE, platform.name,
                    who[mine], [""] * int(mine.sum()),
                    [d for d, m in zip(details, mine.tolist(), strict=True) if m],
                )  # fmt: skip

    def day_row(self, serving: tuple[bool, ...]) -> dict[str, int]:
        """``population_daily`` columns at the end of a day: users without their service
        who stopped (ACTIVE at a home that does not serve), who circumvent because of a
        lost service, and who moved (over the run)."""
        users = self.users
        up = np.array(serving, dtype=np.bool_)
        state = users.state
        return {
            "access_stopped": int(((state == UserState.ACTIVE) & ~up[users.platform]).sum()),
            "access_circumventing": int(
                ((state == UserState.CIRCUMVENTING) & (self.lost >= 0)).sum()
            ),
            "access_moved": self.moved_users,
        }
