"""Sanctions on users and platforms, and the population's turnover (docs/model.md, S14
"Sanctions and the population", S12 "Police" (detentions and releases) and S9 "Finances
and exits").

**Users** (:meth:`Sanctions.strikes_and_exits`, after the day's reviews). Of the day's
take-downs, those by a route in the platform's ``strike_on`` (by default an order, a
notice or a flag, not a held post blocked before publication) give their author one
strike for the day however many there were (L9), after wiping the strikes of a user
with more than ``strike_clean_days`` whole days since the last strike (L6, L8)::

    strikes_i <- 0              if d - last_strike_day_i > strike_clean_days_p
    strikes_i <- min(strikes_i + 1, 32,000);   last_strike_day_i <- d

An ACTIVE user whose strikes reach the home platform's ``strikes_to_close`` (if set)
has the account closed (EXCLUDED, reason ``closed``, an ``account_closed`` event at the
end of the day); else one whose strikes reach ``strikes_to_suspend`` (if set) has it
suspended for ``suspension_days`` whole days (reason ``account_suspended``, event
``account_suspended``; back on day ``d + 1 + suspension_days`` with its strikes, so
every further strike while they are in force suspends it again). Every other struck
user still ACTIVE draws ``U ~ U(0, 1)`` once:
``U < leave_p`` -> LEFT; ``leave_p <= U < leave_p + circumvent_p`` -> CIRCUMVENTING
(compiled: :func:`simulator.kernels.sanctions.apply_strikes`, ``apply_exits``). A closed
account may re-register on day ``d + max(1, ceil(E))``, ``E ~ Exp(reregister_mean_days_p)``,
unless its identity is burned (:func:`return_days`).

**Returns and turnover** (:meth:`Sanctions.returns_and_turnover`, at the start of a
day, after registration). Closed accounts due today are ACTIVE again with no strikes,
suspended ones with theirs (``account_returned``); then
``R ~ Binomial(n, turnover_per_year / 365)`` slots get a new
user (:func:`draw_renewals`, from the turnover stream: the same draws in the paired runs;
:func:`simulator.kernels.sanctions.renew_slots`).

**Exclusion reasons** (:class:`Exclusions`): why each user without a route has none, and
the day's excluded posts attributed to those reasons.

**Detentions and releases** (:meth:`Sanctions.detentions_and_releases`, at the start of
a day). Users whose ``release_hours <= start`` return to their state before the
detention; detentions the police decided before ``start`` take effect (DETAINED,
``ever_detained``, ``release_hours = finish + 24 detention_days``), each
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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kernels import sanctions as sanction_kernels
from simulator.kernels.sanctions import NEVER, STRIKES_CAP
from simulator.kinds import N_KINDS, Channel, ContentKind, EventKind, ExclusionReason, UserState
from simulator.model.access import AccessChoices
from simulator.model.platforms import PlatformState
from simulator.model.police import Police
from simulator.model.population import Users
from simulator.model.regulator import HOURS_PER_DAY
from simulator.model.scenario import Exits, RealName
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
        turnover_rng: np.random.Generator,
        turnover_per_year: float,
        real_name: RealName,
    ) -> None:
        """``rng``: the behaviour stream (exits, return delays and migration draw from
        it); ``turnover_rng``: the turnover stream (renewals only)."""
        self.users = users
        self.platforms = platforms
        self.police = police
        self.log = log
        self.rng = rng
        self.exits = exits
        self.detention_days = detention_days
        self.turnover_rng = turnover_rng
        self.turnover_per_year = turnover_per_year
        self.real_name = real_name
        #: Closed accounts due back, by day (ascending user ids per closure day).
        self.returns_by_day: dict[int, list[IntArray]] = {}
        #: Today's accounts closed and suspended (end of day), returned and renewed
        #: (start of day).
        self.closed_today = self.suspended_today = 0
        self.returned_today = self.renewed_today = 0
        #: What the turnover stream drew, for checking the paired runs draw the same.
        self.renewal_draws = RenewalLog()
        #: Why users without access have none (every state change here is touched).
        self.exclusions = Exclusions(users, len(platforms))
        #: Detentions that took effect today: news, and neighbours' observations (S16).
        self.news_today = 0
        self.detained_today: list[int] = []
        #: The kind of the post each of today's detentions was for (what users learn).
        self.detained_kinds_today: list[int] = []
        #: The state each user now detained had before (only users now detained).
        self.state_before_detention: dict[int, int] = {}
        #: Users' choices when their platform stops serving (S9a); ``None``: the rules
        #: before it (a gone platform's users move by market share).
        self.access: AccessChoices | None = None
        #: Whether the real-name rule was in force on the day before (S13: it starts
        #: and is lifted on the days this changes; :meth:`real_name_change`).
        self.real_name_was_in_force = False

    def platform_name(self, user: int) -> str:
        return self.platforms[int(self.users.platform[user])].name

    def detentions_and_releases(self, now: float) -> None:
        """Releases due by ``now``, then the detentions decided before it."""
        users = self.users
        log = self.log
        self.news_today = 0
        self.detained_today = []
        self.detained_kinds_today = []
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
                self.exclusions.touch(np.array(released, dtype=np.int64))
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
            self.exclusions.touch(np.array([user], dtype=np.int64))
            users.ever_detained[user] = True
            users.release_hours[int(user)] = when + self.detention_days * HOURS_PER_DAY
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
            self.detained_kinds_today.append(int(kind))
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
                if self.access is None:  # else its users choose (S9a)
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
        self.exclusions.invalidate()  # home platforms moved
        users.states_changed()

    @staticmethod
    def remove_platform(platform: PlatformState, at_hours: float, reason: str) -> None:
        """The platform leaves the market from ``at_hours`` (licence revoked, bankrupt)."""
        if platform.exit_at_hours <= at_hours:
            return
        platform.exit_at_hours = at_hours
        platform.exit_reason = reason

    def day_row(self, serving: tuple[bool, ...]) -> dict[str, int]:
        """The day's ``population_daily`` columns of S14: users without access by reason
        (``serving``: whether each platform serves today), accounts closed, returned and
        slots renewed; with choices when access changes, S9a's."""
        return {
            **self.exclusions.row(serving),
            "accounts_closed": self.closed_today,
            "accounts_suspended": self.suspended_today,
            "accounts_returned": self.returned_today,
            "users_renewed": self.renewed_today,
            **(self.access.day_row(serving) if self.access is not None else {}),
        }

    def real_name_in_force(self, day: int) -> bool:
        rule = self.real_name
        return rule.enabled and day >= rule.start_day

    def real_name_change(self, day: int) -> str:
        """``"start"`` if the real-name rule comes into force on ``day`` (its
        ``start_day``, or a timeline entry turning it on), ``"end"`` if it was in force
        the day before and is not now (a timeline lifting it), else ``""``. Called once a
        day, at step 3 (S13)."""
        now = self.real_name_in_force(day)
        before, self.real_name_was_in_force = self.real_name_was_in_force, now
        if now == before:
            return ""
        return "start" if now else "end"

    def real_name_lifted(self, now: float) -> IntArray:
        """The real-name rule lifted at ``now``, the start of a day (S13, "Repeal"):
        whoever lost the service for refusing to register has it back, ACTIVE at home
        and anonymous: EXCLUDED refusers (reason ``refused_real_name``), one in
        detention at release, and with ``[access]`` refusers who chose to circumvent
        (events ``access_choice`` ``return``). Registered users stay traceable (the
        identity given is not taken back: ASSUMPTION). Newcomers no longer register and
        closed accounts are no longer checked (:meth:`real_name_in_force`, S14). Draws
        nothing. Returns the users back (ascending)."""
        users = self.users
        refused = users.excl_reason == ExclusionReason.REFUSED_REAL_NAME
        excluded = refused & (users.state == UserState.EXCLUDED)
        circumventing = np.zeros(users.size, dtype=np.bool_)
        if self.access is not None:
            circumventing = self.access.refuser & (users.state == UserState.CIRCUMVENTING)
        back = np.flatnonzero(excluded | circumventing)
        users.state[back] = UserState.ACTIVE
        users.excl_reason[back] = ExclusionReason.NONE
        before = self.state_before_detention
        for user, state in before.items():  # back at release
            if (state == UserState.EXCLUDED and refused[user]) or (
                state == UserState.CIRCUMVENTING
                and self.access is not None
                and self.access.refuser[user]
            ):
                before[user] = int(UserState.ACTIVE)
                users.excl_reason[user] = ExclusionReason.NONE
        if self.access is not None:
            self.access.real_name_lifted(now, np.flatnonzero(circumventing))
        self.exclusions.touch(back)
        users.states_changed()
        return back

    def strikes_and_exits(self, now: float, struck: IntArray) -> None:
        """Strikes (expiring), closed and suspended accounts, leaving and circumventing
        after the day that started at ``now`` gave strikes to the authors ``struck``
        (int64, with repeats: the take-downs of the routes each platform's ``strike_on``
        names); closed accounts get their return day, suspended ones the day their
        suspension ends."""
        self.closed_today = self.suspended_today = 0
        if not len(struck):
            return
        users = self.users
        exits = self.exits
        day = int(round(now / HOURS_PER_DAY))
        specs = [p.spec for p in self.platforms]
        # One compiled pass each: strikes, closed and suspended accounts, then leaving
        # and circumventing (as np.unique and the masks they replaced).
        closed, suspended, still = sanction_kernels.apply_strikes(
            struck, day, users.strikes, users.last_strike_day, users.state,
            users.platform, *account_limits(specs), users.excl_reason,
        )  # fmt: skip
        for who, kind in (
            (closed, EventKind.ACCOUNT_CLOSED),
            (suspended, EventKind.ACCOUNT_SUSPENDED),
        ):
            for user in who.tolist():
                self.log.event(
                    now + HOURS_PER_DAY * (1 - 1e-9),  # at the end of the day
                    kind,
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
        self.exclusions.touch(closed)
        self.exclusions.touch(suspended)
        self.exclusions.touch(still)
        if len(closed):
            self.closed_today = len(closed)
            due = return_days(
                closed, day, self.rng,
                np.array([p.reregister_mean_days for p in specs], dtype=np.float64),
                users.traceable, users.platform, self.real_name_in_force(day),
                np.array([p.real_name_enforcement for p in specs], dtype=np.float64),
            )  # fmt: skip
            self._schedule_returns(closed, due)
        if len(suspended):
            self.suspended_today = len(suspended)
            self._schedule_returns(
                suspended,
                suspension_ends(
                    suspended, day, *suspension_ladders(specs), users.strikes, users.platform
                ),
            )
        if len(closed) or len(suspended) or exited:
            # Strikes alone change no one's access: the routes and counts stay valid.
            users.states_changed()

    def _schedule_returns(self, who: IntArray, due: IntArray) -> None:
        """``who`` (ascending) come back at the start of day ``due`` (NEVER: not)."""
        self.users.return_day[who] = np.minimum(due, NEVER)
        for when in np.unique(due[due < NEVER]).tolist():
            self.returns_by_day.setdefault(int(when), []).append(who[due == when])

    def returns_and_turnover(self, day: int, now: float) -> None:
        """At the start of day ``day`` (time ``now``): closed accounts due back
        re-register, then base turnover renews slots (S14)."""
        users = self.users
        self.returned_today = self.renewed_today = 0
        due = self.returns_by_day.pop(day, None)
        if due:
            candidates = np.sort(np.concatenate(due))
            returned, deferred = sanction_kernels.apply_returns(
                candidates, day, users.state, users.strikes, users.last_strike_day,
                users.return_day, users.excl_reason,
            )  # fmt: skip
            if len(deferred):  # in detention today: back the day after release
                self.returns_by_day.setdefault(day + 1, []).append(deferred)
            for user in returned.tolist():
                self.log.event(now, EventKind.ACCOUNT_RETURNED, self.platform_name(user), user)
            if len(returned):
                self.returned_today = len(returned)
                self.exclusions.touch(returned)
                users.states_changed()
        renewals = draw_renewals(self.turnover_rng, users.size, self.turnover_per_year)
        self.renewal_draws.add(renewals)
        if not len(renewals.slots):
            return
        rule = self.real_name
        enforcement = np.array([p.spec.real_name_enforcement for p in self.platforms])
        renewed, changed = sanction_kernels.renew_slots(
            renewals.slots, users.state, users.strikes, users.last_strike_day,
            users.return_day, users.excl_reason, users.traceable, users.platform,
            renewals.refuse, renewals.enforce, renewals.circumvent,
            self.real_name_in_force(day), float(rule.refusal_probability), enforcement,
            float(rule.circumvent_probability),
        )  # fmt: skip
        users.reset_beliefs(renewed)
        if self.access is not None:
            self.access.renewed(renewed)
        self.exclusions.touch(renewed)
        self.renewed_today = len(renewed)
        if changed:
            users.states_changed()


@dataclass
class RenewalLog:
    """How many renewal draws were made and a digest of them (slots and uniforms)."""

    count: int = 0
    _hash: Any = field(default_factory=lambda: hashlib.blake2b(digest_size=16))

    def add(self, renewals: Renewals) -> None:
        self.count += len(renewals.slots)
        for values in (renewals.slots, renewals.refuse, renewals.enforce, renewals.circumvent):
            self._hash.update(np.ascontiguousarray(values).tobytes())

    @property
    def digest(self) -> str:
        return str(self._hash.hexdigest())


# -- the rules in numpy (the compiled passes' statements; tests/test_sanctions_statement.py)

DAYS_PER_YEAR = 365.0
Array = NDArray[Any]


def strikes_in_force(strikes: Array, last_strike_day: Array, day: int, clean_days: Array) -> Array:
    """Strikes that count on ``day`` (int64): 0 where more than ``clean_days`` whole days
    have passed since the last sanction (``clean_days`` per user: its home platform's)."""
    expired = (day - last_strike_day.astype(np.int64)) > clean_days
    return np.where(expired, 0, strikes.astype(np.int64))


def account_limits(specs: Sequence[Any]) -> tuple[Array, Array, Array]:
    """Per platform: strikes that close an account, strikes that suspend it (0: never)
    and the clean days that expire strikes (int64 arrays for the kernels)."""
    return (
        np.array([p.strikes_to_close for p in specs], dtype=np.int64),
        np.array([p.strikes_to_suspend for p in specs], dtype=np.int64),
        np.array([p.strike_clean_days for p in specs], dtype=np.int64),
    )


#: What :func:`strikes_to_lose_account` gives where no strike count costs the account.
NO_ACCOUNT_SANCTION = 1_000_000


def strikes_to_lose_account(spec: Any) -> int:
    """Strikes in force at which a user counts the account as lost (docs/model.md S3):
    its closure, or where the platform never closes, the first of its longest suspension
    (``strikes_to_suspend`` plus the ladder's rungs before the last; ASSUMPTION: a day's
    suspension is not the account's loss, a month's is counted as one);
    :data:`NO_ACCOUNT_SANCTION` if neither applies."""
    if spec.strikes_to_close > 0:
        return int(spec.strikes_to_close)
    if spec.strikes_to_suspend > 0:
        return int(spec.strikes_to_suspend + len(spec.suspension_days) - 1)
    return NO_ACCOUNT_SANCTION


def add_strikes(
    struck: Array,
    day: int,
    strikes: Array,
    last_strike_day: Array,
    state: Array,
    platform: Array,
    close_limits: Array,
    suspend_limits: Array,
    clean_days: Array,
    excl_reason: Array,
) -> tuple[Array, Array, Array]:
    """Numpy statement of :func:`simulator.kernels.sanctions.apply_strikes` (in place;
    returns ``(closed, suspended, still)`` ascending): one strike per struck author."""
    who = np.unique(np.asarray(struck, dtype=np.int64))
    current = strikes_in_force(strikes[who], last_strike_day[who], day, clean_days[platform[who]])
    strikes[who] = np.minimum(current + 1, STRIKES_CAP)
    last_strike_day[who] = day
    active = state[who] == UserState.ACTIVE
    count = strikes[who].astype(np.int64)
    close_at, suspend_at = close_limits[platform[who]], suspend_limits[platform[who]]
    closing = active & (close_at > 0) & (count >= close_at)
    suspending = active & ~closing & (suspend_at > 0) & (count >= suspend_at)
    state[who[closing | suspending]] = UserState.EXCLUDED
    excl_reason[who[closing]] = ExclusionReason.CLOSED
    excl_reason[who[suspending]] = ExclusionReason.ACCOUNT_SUSPENDED
    return who[closing], who[suspending], who[active & ~closing & ~suspending]


def suspension_ladders(specs: Sequence[Any]) -> tuple[Array, Array]:
    """Per platform: ``strikes_to_suspend`` and its suspension lengths, padded with the
    last length to a rectangle ``[platforms, rungs]`` (int64; 0 where none)."""
    rungs = max([len(p.suspension_days) for p in specs] + [1])
    ladder = np.zeros((len(specs), rungs), dtype=np.int64)
    for i, p in enumerate(specs):
        if p.suspension_days:
            days = list(p.suspension_days)
            ladder[i] = days + [days[-1]] * (rungs - len(days))
    return np.array([p.strikes_to_suspend for p in specs], dtype=np.int64), ladder


def suspension_ends(
    suspended: Array,
    day: int,
    strikes_to_suspend: Array,
    ladder: Array,
    strikes: Array,
    platform: Array,
) -> Array:
    """The day each account suspended at the end of day ``day`` posts again (int64):
    ``day + 1 + L`` where ``L`` is its platform's suspension length for its strikes
    (``ladder[p, min(strikes - strikes_to_suspend, rungs - 1)]``), so it misses ``L``
    whole days."""
    p = platform[suspended]
    rung = strikes[suspended].astype(np.int64) - strikes_to_suspend[p]
    rung = np.clip(rung, 0, ladder.shape[1] - 1)
    return day + 1 + ladder[p, rung]


def return_days(
    closed: Array,
    day: int,
    rng: np.random.Generator,
    mean_days: Array,
    traceable: Array,
    platform: Array,
    real_name_in_force: bool,
    enforcement: Array,
) -> Array:
    """The day each closed account (ascending) may re-register (int64; NEVER if its
    identity is burned or the day passes int32). Burned: registered under the real name,
    the rule in force, and the platform checks the new registration's identity
    (probability ``enforcement``). Draws ``len(closed)`` exponentials, then
    ``len(closed)`` uniforms, from ``rng`` (the behaviour stream)."""
    m = len(closed)
    delay = rng.exponential(1.0, m) * mean_days[platform[closed]]
    checked = rng.random(m) < enforcement[platform[closed]]
    burned = traceable[closed] & real_name_in_force & checked
    due = day + np.maximum(1.0, np.ceil(delay))  # float64: a huge mean cannot overflow
    return np.where(burned | (due >= NEVER), NEVER, due).astype(np.int64)


@dataclass(frozen=True)
class Renewals:
    """One day's turnover draws: the slots (ascending) and three uniforms per slot."""

    slots: Array
    refuse: Array
    enforce: Array
    circumvent: Array


def draw_renewals(rng: np.random.Generator, users: int, turnover_per_year: float) -> Renewals:
    """The day's renewal draws from the turnover stream, in a fixed order that does not
    depend on the rules: ``R ~ Binomial(users, turnover_per_year / 365)``, ``R`` slots
    uniformly without replacement, then ``R`` uniforms for each of refusing real names,
    the platform enforcing and circumventing."""
    rate = min(1.0, turnover_per_year / DAYS_PER_YEAR)
    count = int(rng.binomial(users, rate)) if users and rate > 0 else 0
    slots = np.sort(rng.choice(users, size=count, replace=False, shuffle=False)).astype(np.int64)
    draws = rng.random((3, count))
    return Renewals(slots, draws[0], draws[1], draws[2])


def exclusion_reasons(route: Array, state: Array, excl_reason: Array) -> Array:
    """Why each user has no route today (int8 reason codes; NONE if it has one)."""
    reason = np.full(len(route), ExclusionReason.SUSPENDED, dtype=np.int8)
    excluded = state == UserState.EXCLUDED
    reason[excluded] = excl_reason[excluded]
    reason[state == UserState.LEFT] = ExclusionReason.LEFT
    reason[state == UserState.DETAINED] = ExclusionReason.DETAINED
    reason[np.asarray(route) >= 0] = ExclusionReason.NONE
    return reason


class Exclusions:
    """Why users without access have none (``population_daily``, at the end of the day),
    and the day's excluded posts attributed to those reasons (S14): in each (platform,
    channel, kind) cell a multinomial split (split stream) with probabilities
    proportional to the posting weight of that kind per reason of the users without a
    route that day; posts lost offshore to circumvention friction are FRICTION.

    Kept up to date incrementally: whoever changes a user's state or exclusion reason
    passes the users to :meth:`touch` (the sanctions here; a bulk change, a platform's
    service or home platforms changing: :meth:`invalidate`, then one pass over all
    users). ``tests/invariants.py`` checks the counts against the states every day."""

    def __init__(self, users: Users, n_platforms: int) -> None:
        self.users = users
        self.n_platforms = n_platforms
        self.reason_now = np.zeros(users.size, dtype=np.int8)
        self.counts = np.zeros(len(ExclusionReason), dtype=np.int64)
        # Benign, then one column per row of the users' sensitive weights (S1).
        self.mass = np.zeros(
            (n_platforms, len(ExclusionReason), 1 + users.sensitive_search()[0].shape[0])
        )
        self._serving: tuple[bool, ...] | None = None  # None: recount everything
        self._touched: list[IntArray] = []

    def touch(self, users: IntArray) -> None:
        """``users`` may have changed state or exclusion reason (not home platform)."""
        if len(users) and self._serving is not None:
            self._touched.append(np.asarray(users, dtype=np.int64))

    def invalidate(self) -> None:
        """Anything may have changed: count every user again at the next use."""
        self._serving = None
        self._touched = []

    def sync(self, serving: tuple[bool, ...]) -> None:
        """Bring the counts and weights to the users' states now, with ``serving``
        (whether each platform serves today)."""
        users = self.users
        cumulative, _, _ = users.sensitive_search()
        served = np.array(serving, dtype=np.bool_)
        if self._serving != serving:
            sanction_kernels.recount_exclusions(
                users.state, users.excl_reason, users.platform, served, users.benign_weights,
                cumulative, self.reason_now, self.counts, self.mass,
            )  # fmt: skip
            self._serving = serving
        elif self._touched:
            sanction_kernels.update_exclusions(
                np.concatenate(self._touched), users.state, users.excl_reason, users.platform,
                served, users.benign_weights, cumulative, self.reason_now, self.counts,
                self.mass,
            )  # fmt: skip
        self._touched = []

    def row(self, serving: tuple[bool, ...]) -> dict[str, int]:
        """Users without access now by reason, as ``population_daily`` columns."""
        self.sync(serving)
        values = self.counts.tolist()
        return {
            f"excluded_{reason.label}": values[reason]
            for reason in ExclusionReason
            if reason not in (ExclusionReason.NONE, ExclusionReason.FRICTION)
        }

    def attribute(
        self, excluded: Array, serving: tuple[bool, ...], rng: np.random.Generator
    ) -> Array:
        """The day's excluded posts ``excluded[rows, channels, kinds]`` (the named
        platforms, then circumvention) by reason: ``[rows, channels, kinds, reasons]``."""
        out = np.zeros((*excluded.shape, len(ExclusionReason)), dtype=np.int64)
        out[self.n_platforms, ..., ExclusionReason.FRICTION] = excluded[self.n_platforms]
        if not excluded[: self.n_platforms].any():
            return out
        self.sync(serving)
        kind_row = self.users.kind_row
        for p in range(self.n_platforms):
            for channel in Channel:
                for kind in range(N_KINDS):
                    posts = int(excluded[p, channel, kind])
                    if not posts:
                        continue
                    # Incremental sums can leave -1e-17 where nobody is left.
                    column = 0 if kind == ContentKind.BENIGN else 1 + kind_row[kind - 1]
                    weight = np.maximum(self.mass[p, :, column], 0.0)
                    total = weight.sum()
                    if total > 0:
                        out[p, channel, kind] = rng.multinomial(posts, weight / total)
                    else:  # nobody to attribute them to (a bug): NONE shows it
                        out[p, channel, kind, ExclusionReason.NONE] = posts
        return out
