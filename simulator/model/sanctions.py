"""Sanctions on users and platforms (docs/model.md, S14 "Sanctions", S12 "Police"
(detentions and releases) and S9 "Finances and exits").

**Users** (:meth:`Sanctions.strikes_and_exits`, after the day's reviews). Each of the
day's sanctions (blocked or removed posts, with repeats) adds a strike to its author.
An ACTIVE user whose strikes reach the home platform's ``strikes_to_close`` has the
account closed (EXCLUDED, an ``account_closed`` event at the end of the day). Every
other sanctioned user still ACTIVE draws ``U ~ U(0, 1)`` once:
``U < leave_p`` -> LEFT; ``leave_p <= U < leave_p + circumvent_p`` -> CIRCUMVENTING
(compiled: :func:`simulator.kernels.sanctions.apply_strikes`, ``apply_exits``).

**Detentions and releases** (:meth:`Sanctions.detentions_and_releases`, at the start of
a day). Users whose ``release_hours <= start`` return to their state before the
detention; detentions the police decided before ``start`` take effect (DETAINED,
``ever_detained``, ``risk = 1``, ``release_hours = finish + 24 detention_days``), each
one a piece of news for the day's learning (S16).

**Platforms** (:meth:`Sanctions.platform_changes`, at the start of a day). A platform
whose licence was revoked (``exit_at_hours <= start``) or whose cash is negative
("bankrupt") exits; its users move to the remaining platforms, each drawn with
probability proportional to ``market_share`` (:meth:`Sanctions.migrate_users`).
Suspensions start and end at day boundaries (a ``reinstatement`` event when service
resumes).

Every change of who can post where marks the users table (``Users.states_changed``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator.kernels import sanctions as sanction_kernels
from simulator.kinds import ContentKind, EventKind, UserState
from simulator.model.platforms import PlatformState
from simulator.model.police import Police
from simulator.model.population import Users
from simulator.model.regulator import HOURS_PER_DAY
from simulator.model.scenario import Exits
from simulator.model.views import IntArray, RunLog


class Sanctions:
    """Applies sanctions to ``users`` and ``platforms``; records events in ``log``."""

    def __init__(
        self,
        users: Users,
        platforms: Sequence[PlatformState],
        police: Police,
        log: RunLog,
        rng: np.random.Generator,
        exits: Exits,
        detention_days: float,
    ) -> None:
        """``rng``: the behaviour stream (exits and migration draw from it)."""
        self.users = users
        self.platforms = platforms
        self.police = police
        self.log = log
        self.rng = rng
        self.exits = exits
        self.detention_days = detention_days
        #: Detentions that took effect today: news, and neighbours' observations (S16).
        self.news_today = 0
        self.detained_today: list[int] = []
        #: The state each user now detained had before (only users now detained).
        self.state_before_detention: dict[int, int] = {}

    def platform_name(self, user: int) -> str:
        return self.platforms[int(self.users.platform[user])].name

    def detentions_and_releases(self, now: float) -> None:
        """Releases due by ``now``, then the detentions decided before it."""
        users = self.users
        log = self.log
        self.news_today = 0
        self.detained_today = []
        # The users now detained are exactly the keys of state_before_detention (in
        # ascending order, as a scan of the states would list them): no O(users) scan.
        before = self.state_before_detention
        if before:
            release = users.release_hours
            released = [u for u in sorted(before) if release[u] <= now]
            if released:
                # Back to what they were before: detention does not restore an account
                # that was closed, nor register someone who refused.
                users.state[released] = [before.pop(u) for u in released]
                for user in released:
                    del release[user]
                for user in released:
                    log.event(now, EventKind.RELEASE, self.platform_name(user), user)
                users.states_changed()
        for when, user, kind in self.police.take_due(now):
            if users.state[user] == UserState.DETAINED:
                continue
            before[user] = int(users.state[user])
            users.state[user] = UserState.DETAINED
            users.ever_detained[user] = True
            users.release_hours[int(user)] = when + self.detention_days * HOURS_PER_DAY
            users.risk[user] = 1.0
            log.tally("detentions", kind)
            log.event(
                when,
                EventKind.DETENTION,
                self.platform_name(user),
                user,
                ContentKind(int(kind)).label,
            )
            self.news_today += 1
            self.detained_today.append(user)
            users.states_changed()

    def platform_changes(self, now: float) -> None:
        """Exits (revoked or bankrupt) and the start or end of suspensions at ``now``."""
        for platform in self.platforms:
            if not platform.exited and (now >= platform.exit_at_hours or platform.cash < 0.0):
                if platform.cash < 0.0 and not platform.exit_reason:
                    platform.exit_reason = "bankrupt"
                platform.exited = True
                platform.exit_at_hours = min(platform.exit_at_hours, now)
                self.log.event(now, EventKind.EXIT, platform.name, detail=platform.exit_reason)
                self.migrate_users(platform)
                self.users.states_changed()
            suspended = not platform.exited and now < platform.suspended_until_hours
            if platform.suspended_now != suspended:
                self.users.states_changed()
                if platform.suspended_now:
                    self.log.event(now, EventKind.REINSTATEMENT, platform.name)
            platform.suspended_now = suspended

    def migrate_users(self, gone: PlatformState) -> None:
        """Users of a platform that left move to the others, by market share."""
        users = self.users
        remaining = [p for p in self.platforms if not p.exited]
        movers = np.flatnonzero(users.platform == gone.index)
        if not remaining or len(movers) == 0:
            return
        shares = np.array([p.spec.market_share for p in remaining])
        shares = (
            shares / shares.sum()
            if shares.sum() > 0
            else np.full(len(remaining), 1 / len(remaining))
        )
        choice = self.rng.choice(len(remaining), size=len(movers), p=shares)
        users.platform[movers] = np.array([p.index for p in remaining], dtype=np.int16)[choice]
        users.states_changed()

    @staticmethod
    def remove_platform(platform: PlatformState, at_hours: float, reason: str) -> None:
        """The platform leaves the market from ``at_hours`` (licence revoked, bankrupt)."""
        if platform.exit_at_hours <= at_hours:
            return
        platform.exit_at_hours = at_hours
        platform.exit_reason = reason

    def strikes_and_exits(self, now: float, sanctioned: IntArray) -> None:
        """Strikes, closed accounts, leaving and circumventing after the day that
        started at ``now`` sanctioned the authors ``sanctioned`` (int64, with repeats)."""
        if not len(sanctioned):
            return
        users = self.users
        exits = self.exits
        # One compiled pass each: strikes and closed accounts, then leaving and
        # circumventing (as np.unique and the masks they replaced).
        limits = np.array([p.spec.strikes_to_close for p in self.platforms], dtype=np.int64)
        closed, still = sanction_kernels.apply_strikes(
            sanctioned, users.strikes, users.state, users.platform, limits
        )
        for user in closed.tolist():
            self.log.event(
                now + HOURS_PER_DAY * (1 - 1e-9),  # at the end of the day
                EventKind.ACCOUNT_CLOSED,
                self.platform_name(user),
                user,
            )
        draw = self.rng.random(len(still))
        exited = sanction_kernels.apply_exits(
            still,
            draw,
            exits.leave_probability_on_sanction,
            exits.leave_probability_on_sanction + exits.circumvent_probability_on_sanction,
            users.state,
        )
        if len(closed) or exited:
            # Strikes alone change no one's access: the routes and counts stay valid.
            users.states_changed()
