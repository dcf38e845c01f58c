"""Users' side of the reference model: intended speech, each post's choice and what
users learn (docs/model.md S1 "Intended speech", S2 "Routing and access", S3 "Speech
choice", S15 "Circumvention", S16 "Perceived probabilities").

One SimPy process per user writes that user's intended posts, one event per post, at
exponential intervals at the user's total rate; the kind and channel of each post are
drawn as it is written. Where the post goes is the user's route of the day (fixed at the
day boundary by :mod:`simulator.reference.agent`): nowhere (counted *excluded* under its
reason), offshore through circumvention tools (lost to friction or surviving), or their
platform, where a sensitive post is first a choice (post, soften, withhold; per agent in
:func:`simulator.reference.minds.decide`) and then published
(:meth:`simulator.reference.moderation.Moderation.publish`). At the day's end users take
the day's evidence (:meth:`Speech.learn`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.kinds import (
    N_KINDS,
    Channel,
    ContentKind,
    ExclusionReason,
    Outcome,
)
from simulator.reference import minds
from simulator.reference.world import HOURS_PER_DAY, NO_ROUTE, OFFSHORE, User, World


class Speech(World):
    """Users write, choose and learn (mixed into
    :class:`~simulator.reference.agent.ReferenceSimulation`)."""

    def user_process(self, user: User) -> Generator[simpy.Event, Any, None]:
        """A user writes posts at exponential intervals, whatever their state: what
        happens to each post (withheld, excluded, published...) is decided as it is written."""
        mean_gap_hours = HOURS_PER_DAY / user.rate
        private_share = self.scenario.population.private_share
        while True:
            yield self.env.timeout(self.speech.exponential(mean_gap_hours))
            kind = _pick(user.kind_cumulative, self.speech.random())
            channel = Channel.PRIVATE if self.speech.random() < private_share else Channel.PUBLIC
            self.write(user, kind, channel)

    def write(self, user: User, kind: int, channel: int) -> None:
        """One intended post, now: by the user's route of the day, excluded, offshore, or
        chosen (post, soften, withhold: S3) and published on their platform."""
        now = self.env.now
        day = int(now // HOURS_PER_DAY)
        row = {NO_ROUTE: user.platform, OFFSHORE: self.circumvention_row}.get(
            user.route, user.route
        )
        self.recorder.intended[day, row, channel, kind] += 1
        if user.route == NO_ROUTE:
            self.count(day, user.platform, channel, kind, Outcome.EXCLUDED)
            self.recorder.excluded_by_reason[day, user.platform, channel, kind, user.reason] += 1
            return
        if user.route == OFFSHORE:
            friction = self.scenario.population.exits.circumvention_friction
            lost = self.rng.random() < friction
            outcome = Outcome.EXCLUDED if lost else Outcome.SURVIVING
            self.count(day, self.circumvention_row, channel, kind, outcome)
            if lost:
                cell = (day, self.circumvention_row, channel, kind, ExclusionReason.FRICTION)
                self.recorder.excluded_by_reason[cell] += 1
            else:
                self.book_potential(day, self.circumvention_row, channel, kind, user, now)
            return
        said = kind
        if kind != ContentKind.BENIGN:  # benign posts carry no risk (S3)
            platform = self.platforms[user.route].state
            climate = 1.0
            if self.law.climate_weight > 0.0:
                expected = user.expected[kind]
                if expected > 0.0:
                    short = 1.0 - user.observed[kind] / expected
                    climate = max(0.0, 1.0 + self.law.climate_weight * short)
            # A closure's ban follows a registered user where the platform checks
            # identities (S14: the identity is burned); an anonymous user can return.
            follows = (
                platform.spec.real_name_enforcement
                if user.traceable and self.scenario.rules.real_name.enabled
                else 0.0
            )
            decided = minds.decide(
                user.mind, self.law, user.value, channel, kind, self.news,
                account_lost_at(platform.spec) - user.strikes, user.traceable,
                self.rng.random(), climate, follows,
            )  # fmt: skip
            if decided is None:
                self.count(day, user.route, channel, kind, Outcome.WITHHELD)
                return
            if decided != kind:
                self.count(day, user.route, channel, kind, Outcome.SOFTENED)
            said = decided
            if self.seen_in_public(channel, said):
                user.said[said] += 1
        self.publish(self.platforms[user.route], user, day, channel, said)

    def learn(self) -> None:
        """The day's evidence: own sanctions (1 each), friends' public posts said (the
        friends' weight each, as trials), their public removals and detentions
        (visibility times their weights), the news (the day's expected detentions); then
        every belief fades a day (S16)."""
        perception = self.scenario.population.perception
        seen = perception.visibility * perception.friend_evidence_weight
        seen_detention = perception.visibility * perception.friend_detention_weight
        users = self.users
        for user, kind, public, _ in self.sanctioned_today:
            if kind == ContentKind.BENIGN:
                continue
            user.mind.removals[kind] += 1.0
            if public:
                for friend in user.neighbours:
                    users[friend].mind.removals[kind] += seen
        for user, kind in self.detained_today:
            if kind == ContentKind.BENIGN:
                continue
            user.mind.detentions[kind] += 1.0
            for friend in user.neighbours:
                users[friend].mind.detentions[kind] += seen_detention
        minds.update_news(
            self.news, self.decay, self.expected_detentions_today, self.scenario.population.users,
            perception.news_case_weight, perception.visibility,
            list(perception.news_punished_posts_per_day.as_tuple()),
        )  # fmt: skip
        heard = [[0.0] * N_KINDS for _ in users]
        for user in users:
            for k in minds.SENSITIVE:
                if user.said[k]:
                    for friend in user.neighbours:
                        heard[friend][k] += user.said[k]
            user.said = [0] * N_KINDS
        for user in users:
            for k in minds.SENSITIVE:
                user.mind.trials[k] += perception.friend_evidence_weight * heard[user.index][k]
        if self.law.climate_weight > 0.0:
            keep = self.climate_keep
            for user in users:
                for k in minds.SENSITIVE:
                    user.observed[k] = keep * user.observed[k] + (1.0 - keep) * heard[user.index][k]
        for user in users:
            user.mind.end_of_day(self.decay)


def _pick(cumulative: list[float], u: float) -> int:
    """The first index whose cumulative probability is over ``u``."""
    for k, c in enumerate(cumulative):
        if u < c:
            return k
    return len(cumulative) - 1


def account_lost_at(spec: Any) -> int:
    """Strikes at which a user counts the account as lost (S3, S14): its closure, or where
    the platform never closes, the first strike of its longest suspension; never (a
    million) if neither applies."""
    if spec.strikes_to_close > 0:
        return int(spec.strikes_to_close)
    if spec.strikes_to_suspend > 0:
        return int(spec.strikes_to_suspend + len(spec.suspension_days) - 1)
    return 1_000_000
