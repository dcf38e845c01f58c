"""Users' accounts in the reference model: sanctions and what follows them, platforms
leaving the market, the real-name rule, returns and turnover (docs/model.md S9
"Finances and exits", S13 "Real-name registration", S14 "Sanctions and the
population").

Each user's sanctions of the day (removals and blocks, collected by
:mod:`simulator.reference.moderation`) bite at the day's end, user by user in ascending
order: the take-downs the platform's ``strike_on`` names give one strike a day, strikes
expire after ``strike_clean_days`` clean days, enough strikes close the account (it
re-registers after an exponential delay unless its real-name identity is burned) or
suspend it for the ladder's days (it returns with its strikes), otherwise the user may
leave or turn to circumvention tools. At the day
boundary platforms that are revoked or bankrupt leave (their users move to the others by
market share) and suspensions start or end; the real-name rule registers everyone on its
first day; closed accounts return and users are renewed (turnover, its own stream).
"""

from __future__ import annotations

import math

import numpy as np

from simulator.kinds import Action, UserState
from simulator.model.platforms import PlatformState
from simulator.reference.world import World


class Accounts(World):
    """Strikes, closures, exits, registration, returns and turnover (mixed into
    :class:`~simulator.reference.agent.ReferenceSimulation`)."""

    def strikes_and_exits(self, day: int) -> None:
        """The day's strikes bite (one a day per user, from the take-downs the platform's
        ``strike_on`` names; a clean period wipes them): closed accounts and their return
        day, suspended accounts and the day their suspension ends, leaving, circumventing."""
        exits = self.scenario.population.exits
        struck = {
            user
            for user, _, _, grounds in self.sanctioned_today
            if grounds is not None and self.strike_stands(*grounds)
        }
        real_name = self.scenario.rules.real_name
        in_force = real_name.enabled and day >= real_name.start_day
        self.closed_today = self.suspended_today = 0
        # Ascending user order, as the engine draws the closed accounts' return days.
        for user in sorted(struck, key=lambda u: u.index):
            spec = self.platforms[user.platform].state.spec
            if day - user.last_strike_day > spec.strike_clean_days:
                user.strikes = 0  # a clean period wipes the record (L6)
            user.strikes = min(user.strikes + 1, 32_000)  # one a day (L9)
            user.last_strike_day = day
            if user.state != UserState.ACTIVE:
                continue
            if 0 < spec.strikes_to_close <= user.strikes:
                user.state = UserState.EXCLUDED
                user.closed = True
                self.closed_today += 1
                delay = max(1.0, math.ceil(self.rng.exponential(spec.reregister_mean_days)))
                checked = self.rng.random() < spec.real_name_enforcement
                burned = user.traceable and in_force and checked
                user.return_day = -1 if burned or day + delay >= 2**31 - 1 else int(day + delay)
                continue
            if 0 < spec.strikes_to_suspend <= user.strikes:
                ladder = spec.suspension_days
                rung = min(user.strikes - spec.strikes_to_suspend, len(ladder) - 1)
                user.state = UserState.EXCLUDED
                user.suspended = True
                user.return_day = day + 1 + ladder[rung]
                self.suspended_today += 1
                continue
            draw = self.rng.random()
            if draw < exits.leave_probability_on_sanction:
                user.state = UserState.LEFT
            elif (
                draw
                < exits.leave_probability_on_sanction + exits.circumvent_probability_on_sanction
            ):
                user.state = UserState.CIRCUMVENTING

    def strike_stands(self, index: int, route: int, score: float) -> bool:
        """Whether a take-down by a counted route gives a strike: an order always; else
        only if the platform is sure enough the post broke the rule, ``P(prohibited |
        score) ≥ strike_confidence`` with the day's reviewed posts as its prior (S14,
        "Grounds for a strike"; the formula written out, not the engine's function)."""
        platform = self.platforms[index]
        spec = platform.state.spec
        confidence = spec.strike_confidence
        if confidence <= 0.0 or route == Action.ORDER:
            return True
        means = spec.reviewer_mean.as_tuple()
        # log n_k − (z − μʳ_k)²/2 over the kinds reviewed today, shifted by the largest.
        logs = {
            k: math.log(n) - 0.5 * (score - means[k]) ** 2
            for k, n in enumerate(platform.reviewed_today)
            if n > 0
        }
        if not logs:
            return False
        top = max(logs.values())
        weights = {k: math.exp(v - top) for k, v in logs.items()}
        sure = sum(w for k, w in weights.items() if self.prohibited[k]) / sum(weights.values())
        return sure >= confidence

    def platform_changes(self, now: float) -> None:
        """At the day boundary ``now`` (hours): platforms that leave the market (revoked
        or bankrupt; their users move) and suspensions."""
        for platform in self.platforms:
            state = platform.state
            if not state.exited and (now >= state.exit_at_hours or state.cash < 0.0):
                if state.cash < 0.0 and not state.exit_reason:
                    state.exit_reason = "bankrupt"
                state.exited = True
                state.exit_at_hours = min(state.exit_at_hours, now)
                self.migrate_users(state)
            state.suspended_now = not state.exited and now < state.suspended_until_hours

    def register_users(self) -> None:
        """The real-name rule's first day (S13): each active user registers, or refuses
        and, where the platform enforces the rule, is excluded or circumvents."""
        rule = self.scenario.rules.real_name
        for user in self.users:
            if user.state != UserState.ACTIVE or user.traceable:  # (none on the first day)
                continue
            refuses = self.rng.random() < rule.refusal_probability
            enforced = (
                self.rng.random() < self.platforms[user.platform].state.spec.real_name_enforcement
            )
            circumvents = self.rng.random() < rule.circumvent_probability
            if not refuses:
                user.traceable = True
            elif enforced:
                user.state = UserState.CIRCUMVENTING if circumvents else UserState.EXCLUDED

    def returns_and_turnover(self, day: int) -> None:
        """Closed accounts due today re-register (one in detention, the day after its
        release); then every user independently leaves with probability
        ``turnover_per_year / 365`` and a newcomer takes the place (not in detention),
        registering under a real-name rule in force as everyone did on its first day."""
        self.returned_today = self.renewed_today = 0
        for user in self.users:
            if user.return_day != day:
                continue
            if user.state == UserState.DETAINED:
                user.return_day = day + 1
            elif user.state == UserState.EXCLUDED and user.closed:
                user.state = UserState.ACTIVE
                user.closed = False
                user.strikes = 0
                user.last_strike_day = -(2**30)
                user.return_day = -1
                self.returned_today += 1
            elif user.state == UserState.EXCLUDED and user.suspended:
                user.state = UserState.ACTIVE  # back with its strikes
                user.suspended = False
                user.return_day = -1
                self.returned_today += 1
        spec = self.scenario.population
        rate = min(1.0, spec.turnover_per_year / 365.0)
        rule = self.scenario.rules.real_name
        in_force = rule.enabled and day >= rule.start_day
        draws = self.turnover.random((len(self.users), 4))
        for user, (leaves, refuses, enforced, circumvents) in zip(self.users, draws, strict=True):
            if leaves >= rate or user.state == UserState.DETAINED:
                continue
            self.renewed_today += 1
            user.strikes = 0
            user.last_strike_day = -(2**30)
            user.return_day = -1
            user.closed = False
            user.suspended = False
            user.mind = self.initial_mind()
            user.traceable = False
            user.state = UserState.ACTIVE
            if in_force:
                enforcement = self.platforms[user.platform].state.spec.real_name_enforcement
                if refuses >= rule.refusal_probability:
                    user.traceable = True
                elif enforced < enforcement:
                    circumvent = circumvents < rule.circumvent_probability
                    user.state = UserState.CIRCUMVENTING if circumvent else UserState.EXCLUDED

    def migrate_users(self, gone: PlatformState) -> None:
        """The users of a platform that left move to the remaining ones by market share."""
        remaining = [p.state for p in self.platforms if not p.state.exited]
        if not remaining:
            return
        shares = np.array([p.spec.market_share for p in remaining])
        shares = (
            shares / shares.sum()
            if shares.sum() > 0
            else np.full(len(remaining), 1 / len(remaining))
        )
        for user in self.users:
            if user.platform == gone.index:
                user.platform = remaining[int(self.rng.choice(len(remaining), p=shares))].index
