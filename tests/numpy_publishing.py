"""The engine's publishing step as it was written in numpy, before it was compiled
(simulator/kernels/publishing.py): the statement the compiled step is held to.

``NumpyPublishing`` is a :class:`~simulator.engine.simulation.Simulation` whose speech
driver (:class:`~simulator.engine.speech.SpeechDay`) speaks with this numpy code;
tests/test_publishing.py runs it beside the engine and asserts that
every count, record, queue and output table is the same.
"""

# mypy: ignore-errors
from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from simulator.engine.simulation import Simulation
from simulator.engine.speech import IntArray, RouteArray, SpeechDay
from simulator.kernels import arrivals as arrivals_kernels
from simulator.kernels.benign import group_members
from simulator.kernels.choice import HELD_COLUMN, choose_posts, mood
from simulator.kernels.numeric import search_bucketed
from simulator.kinds import N_KINDS, SENSITIVE_KINDS, Action, Channel, ContentKind, Outcome
from simulator.model import arrivals as model_arrivals
from simulator.model.platforms import PlatformState
from simulator.model.regulator import HOURS_PER_DAY


class NumpyPublishing(Simulation):
    """The engine with the numpy publishing step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.speech = NumpySpeech(
            self.scenario, self.users, self.platforms, self.streams, self.recorder, self.posts,
            self.orders, self.prohibited_posts, self.threads, self.minds, self.ledger,
        )  # fmt: skip


class NumpySpeech(SpeechDay):
    """The speech driver with the numpy publishing step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._probability_cache = {}
        self._members = {}
        self._members_of = None

    def draw_all_ahead(self) -> bool:
        return False  # the numpy statement draws day by day

    def speak(self, day: int, start: float, route: RouteArray) -> None:
        self._day_submissions: list[list[tuple[NDArray, ...]]] = [[] for _ in self.platforms]
        speech = self.streams.speech
        # Common random numbers: the counts, authors and times of intended posts come
        # from the speech stream alone, drawn in the same order whatever the rules.
        counts = speech.poisson(self.daily_rate)  # [channel, kind]
        drawn: dict[tuple[int, int], tuple[IntArray, NDArray[np.float64], NDArray[np.float64]]]
        drawn = {}
        targets: list[NDArray[np.float64]] = []
        hours: list[NDArray[np.float64]] = []
        uniforms: list[NDArray[np.float64]] = []
        for channel in Channel:
            for kind in SENSITIVE_KINDS:
                n = int(counts[channel, kind])
                targets.append(author_targets(self.users, kind, n, speech))
                hours.append(start + HOURS_PER_DAY * speech.random(n))
                uniforms.append(speech.random(n))  # each post's mood (docs/model.md S3)
        # Each sensitive kind searches its own weight row (one row for all kinds
        # without group mixes, S1).
        pairs = [(channel, kind) for channel in Channel for kind in SENSITIVE_KINDS]
        who = [
            authors_at(self.users, kind, pair_targets)
            for (_, kind), pair_targets in zip(pairs, targets, strict=True)
        ]
        for pair, pair_authors, pair_hours, pair_u in zip(pairs, who, hours, uniforms, strict=True):
            drawn[pair] = (pair_authors, pair_hours, pair_u)
        for channel in Channel:
            self._speak_benign(
                day, start, Channel(channel), int(counts[channel, ContentKind.BENIGN]), route
            )
            # The most intense kinds first: their softened posts join criticism's batch.
            softened: list[tuple[IntArray, NDArray[np.float64], IntArray]] = []
            for kind in (ContentKind.COLLECTIVE_ACTION, ContentKind.UNLAWFUL, ContentKind.CRITICAL):
                authors, times, uniform = drawn[(channel, kind)]
                self._speak_individual(
                    day, Channel(channel), kind, authors, times, uniform, route, softened
                )
        # Each platform's review items of the day go to its queue at once; items arriving
        # at one instant (a keyword sweep) are listed oldest post first (S5a).
        noticed: list[tuple[IntArray, NDArray[np.float64]]] = []
        for platform, submitted in zip(self.platforms, self._day_submissions, strict=True):
            if submitted:
                arrival, action, items = (np.concatenate(c) for c in zip(*submitted, strict=True))
                posted = self.posts.columns["time_hours"][items // Action.COUNT]
                order = np.lexsort((posted, arrival))
                platform.queue.submit(arrival[order], action[order], items[order])
                notice = action == Action.NOTICE
                noticed.append((items[notice] // Action.COUNT, arrival[notice]))
        if self.ledger is not None and noticed:
            # Who sent each notice (S5b), in submission order, platform by platform.
            self.ledger.add_notices(
                self.posts,
                np.concatenate([ids for ids, _ in noticed]),
                np.concatenate([hours for _, hours in noticed]),
            )

    def _speak_individual(
        self,
        day: int,
        channel: Channel,
        kind: ContentKind,
        authors: IntArray,
        times: NDArray[np.float64],
        uniform: NDArray[np.float64],
        route: RouteArray,
        softened: list,
    ) -> None:
        if len(authors) == 0 and not (kind == ContentKind.CRITICAL and softened):
            return
        users = self.users
        n_p = self.n_platforms
        lam = float(self.scenario.population.speech.choice_noise)
        moods = np.array([mood(float(u), lam) for u in uniform], dtype=np.float64)
        offshore_posts = (authors[route[authors] == n_p], times[route[authors] == n_p])
        (
            intended, excluded, offshore, withheld, soft, reaching, times, offsets,
            soft_authors, soft_times, soft_offsets,
        ) = choose_posts(
            authors, times, moods, users.value[authors], route, users.platform, n_p, int(kind),
            int(channel), self.minds.inputs(users.strikes, users.traceable), self.minds.beliefs,
            day,
        )  # fmt: skip
        # Intended posts are counted here, once, before any outcome: the outcome counts
        # below must add up to them (tests hold the model to it).
        rec = self.recorder
        rec.intended[day, :, channel, kind] += intended
        rec.counts[day, :n_p, channel, kind, Outcome.EXCLUDED] += excluded
        self._speak_offshore(day, channel, kind, int(offshore), *offshore_posts)
        rec.counts[day, :n_p, channel, kind, Outcome.WITHHELD] += withheld
        rec.counts[day, :n_p, channel, kind, Outcome.SOFTENED] += soft
        if len(soft_authors):
            softened.append((soft_authors, soft_times, soft_offsets))
        for index, platform in enumerate(self.platforms):
            first, last = int(offsets[index]), int(offsets[index + 1])
            these_authors, these_times = [reaching[first:last]], [times[first:last]]
            if kind == ContentKind.CRITICAL:
                # Softened posts, said as criticism, after the critical ones.
                for more_authors, more_times, more_offsets in softened:
                    here = slice(int(more_offsets[index]), int(more_offsets[index + 1]))
                    these_authors.append(more_authors[here])
                    these_times.append(more_times[here])
            batch_authors = np.concatenate(these_authors)
            if len(batch_authors):
                self._publish(
                    day, platform, channel, kind, batch_authors, np.concatenate(these_times)
                )

    def _speak_offshore(
        self,
        day: int,
        channel: Channel,
        kind: ContentKind,
        count: int,
        authors: IntArray | None = None,
        times: NDArray[np.float64] | None = None,
    ) -> None:
        """Posts through circumvention tools: friction loses some, the rest survive
        (of a sensitive kind, ``authors`` and ``times``: the survivors carry their share
        of the posts' summed potential exposure, docs/model.md S5b)."""
        if count == 0:
            return
        friction = self.scenario.population.exits.circumvention_friction
        lost = int(self.streams.split.binomial(count, friction))
        self.recorder.add(day, self.circumvention_row, channel, kind, Outcome.EXCLUDED, lost)
        self.recorder.add(
            day, self.circumvention_row, channel, kind, Outcome.SURVIVING, count - lost
        )
        if authors is not None:
            summed = self._summed_potential(channel, kind, authors, times)
            cell = (day, self.circumvention_row, channel, kind)
            self.recorder.potential[cell] += summed * (count - lost) / count

    def _summed_potential(
        self, channel: Channel, kind: ContentKind, authors: IntArray, times: NDArray[np.float64]
    ) -> float:
        """``Σ A_i (1 − e^{−(T − t)/τ})`` over posts of a sensitive kind on the public
        channel (0 otherwise), added one by one in order (as the kernel adds them)."""
        if channel != Channel.PUBLIC or kind == ContentKind.BENIGN:
            return 0.0
        audience = self.audience()
        end = HOURS_PER_DAY * self.recorder.days
        tau = float(self.scenario.population.attention_hours)
        summed = 0.0
        for author, t in zip(authors.tolist(), times.tolist(), strict=True):
            summed += float(audience[author]) * -math.expm1(-max(end - t, 0.0) / tau)
        return summed

    def _speak_benign(
        self, day: int, start: float, channel: Channel, count: int, route: RouteArray
    ) -> None:
        """Benign posts are counted in aggregate; only those a rule touches get drawn."""
        if count == 0 or self.users.size == 0:
            return
        n_p = self.n_platforms
        shares, group, *_ = self.benign_groups(route, channel)
        split = self.streams.split.multinomial(
            count, np.clip(shares, 0.0, None) / max(shares.sum(), 1e-300)
        )
        rec = self.recorder
        kind = ContentKind.BENIGN
        for p in range(n_p):
            rec.add_intended(
                day, p, channel, kind, int(split[p] + split[n_p + p] + split[2 * n_p + p])
            )
        rec.add_intended(day, self.circumvention_row, channel, kind, int(split[3 * n_p]))
        for p in range(n_p):
            if split[p]:
                rec.add(day, p, channel, kind, Outcome.EXCLUDED, int(split[p]))
            if split[2 * n_p + p]:
                rec.add(day, p, channel, kind, Outcome.WITHHELD, int(split[2 * n_p + p]))
        self._speak_offshore(day, channel, kind, int(split[3 * n_p]))
        for p, platform in enumerate(self.platforms):
            published = int(split[n_p + p])
            if published == 0:
                continue
            if not self.in_scope[channel]:
                rec.add(day, p, channel, kind, Outcome.SURVIVING, published)
                continue
            # Only posts the filter holds, or that get flagged, noticed or ordered down,
            # need a record: draw how many, then their authors and times.
            moderation = self.streams.moderation
            held = int(moderation.binomial(published, self._hold_probability(platform)[kind]))
            touch = self._touch_probabilities(platform, channel)[:, kind]
            any_touch = 1.0 - np.prod(1.0 - touch)
            touched = int(moderation.binomial(published - held, any_touch))
            untouched = published - held - touched
            rec.add(day, p, channel, kind, Outcome.SURVIVING, untouched)
            wanted = held + touched
            if wanted == 0:
                continue
            authors = self._draw_group_authors(group, n_p + p, wanted)
            times = start + HOURS_PER_DAY * moderation.random(wanted)
            is_held = np.zeros(wanted, dtype=bool)
            is_held[:held] = True
            self._publish(
                day, platform, channel, kind, authors, times, is_held=is_held, touched_given=True
            )

    def _draw_group_authors(
        self, group: NDArray[np.int32], wanted_group: int, count: int
    ) -> IntArray:
        """Authors of ``count`` benign posts among users of ``wanted_group``, by rate."""
        users = self.users
        rng = self.streams.moderation
        if self._members_of is not group:
            # Members and cumulative weights per group, valid while ``group`` is.
            self._members_of, self._members = group, {}
        if wanted_group not in self._members:
            self._members[wanted_group] = group_members(group, wanted_group, users.benign_weights)
        members, cumulative = self._members[wanted_group]
        targets = rng.random(count) * cumulative[-1]
        return members[search_sorted_targets(cumulative, targets)].astype(np.int64)

    def _publish(
        self,
        day: int,
        platform: PlatformState,
        channel: Channel,
        kind: ContentKind,
        authors: IntArray,
        times: NDArray[np.float64],
        is_held: NDArray[np.bool_] | None = None,
        touched_given: bool = False,
    ) -> None:
        """Posts that reach ``platform``: moderate them if the rules say so, count them.

        ``touched_given`` means every post that is not held is already known to be
        flagged, noticed or ordered down (the benign path drew that in aggregate), so
        which of the three is drawn conditionally on at least one.
        """
        rec = self.recorder
        p = platform.index
        n = len(authors)
        if not self.in_scope[channel]:
            rec.add(day, p, channel, kind, Outcome.SURVIVING, n)
            rec.potential[day, p, channel, kind] += self._summed_potential(
                channel, kind, authors, times
            )
            return
        rng = self.streams.moderation
        if is_held is None:
            is_held = rng.random(n) < self._hold_probability(platform)[kind]
        if not touched_given:  # a held post adds its potential if approved (review)
            rec.potential[day, p, channel, kind] += self._summed_potential(
                channel, kind, authors[~is_held], times[~is_held]
            )
        touch = self._touch_probabilities(platform, channel)[:, kind]
        tau = float(self.scenario.population.attention_hours)
        reach = self.audience()[authors] if channel == Channel.PUBLIC else 1.0
        if touched_given:
            uniforms = [None, None, None]
            flags = draw_touches(rng, n, touch, conditional_on_any=True, draws=uniforms)
        else:
            # One uniform per post and row: the flag (u < P(flag)); the notice and the
            # order, and their times, from the post's attention (S5a).
            uniforms = [rng.random(n) for _ in range(3)]
            attention = [
                _attention_times(times, uniforms[row], rate, reach, tau)
                for row, rate in ((1, _view_rate(touch[1])), (2, _view_rate(touch[2])))
            ]
            flags = np.vstack([uniforms[0] < touch[0], *(np.isfinite(a) for a in attention)])
        # A held post's notice and order delays after approval, from its own uniforms
        # (issue 17): the benign path's against the unconditional p_j, at audience 1.
        held_reach = 1.0 if touched_given else reach
        held_delay = [
            np.where(
                is_held,
                _attention_times(
                    np.zeros(n), uniforms[row], _view_rate(touch[row]), held_reach, tau
                ),
                np.inf,
            )
            for row in (1, 2)
        ]
        flags &= ~is_held  # held posts are reviewed before publication instead
        touched = is_held | flags.any(axis=0)
        minds = self.minds
        if (
            kind != ContentKind.BENIGN and channel == Channel.PUBLIC
            and len(minds.beliefs.spoke) and not len(minds.truth)
            and minds.law[channel, kind].sum() > 0.0
        ):  # fmt: skip
            # Posts said in public that the filter held: friends see them only if
            # approved (docs/model.md S16).
            np.add.at(minds.beliefs.spoke[:, HELD_COLUMN + kind - 1], authors[is_held], 1)
        prohibited = bool(self.prohibited[kind])
        if prohibited:
            self.prohibited_posts.count_published(platform, times[~is_held])
        untouched = int((~touched).sum())
        if untouched:
            rec.add(day, p, channel, kind, Outcome.SURVIVING, untouched)
        if not touched.any():
            return
        authors, times, is_held, flags = (
            authors[touched],
            times[touched],
            is_held[touched],
            flags[:, touched],
        )
        held_delay = [delay[touched] for delay in held_delay]
        m = len(authors)
        arrival = []
        for row in (2, 1):  # orders, then notices
            if touched_given:
                u = rng.random(int(flags[row].sum()))
                arrival.append(
                    np.array(
                        [
                            arrivals_kernels.attention_time_given_noticed(t, x, touch[row], tau)
                            for t, x in zip(times[flags[row]].tolist(), u.tolist(), strict=True)
                        ],
                        dtype=np.float64,
                    )
                )
            else:
                arrival.append(attention[row - 1][touched][flags[row]])
        order_hours = np.full(m, np.inf)
        order_hours[flags[2]] = arrival[0]
        notice_hours = arrival[1]
        ids = self.posts.append(
            time_hours=times,
            published_hours=np.where(is_held, np.inf, times),
            order_hours=order_hours,
            held_notice_delay=held_delay[0],
            held_order_delay=held_delay[1],
            reviewer_score=platform.spec.reviewer_mean.as_tuple()[kind] + rng.standard_normal(m),
            author=authors,
            day=day,
            platform=p,
            kind=int(kind),
            channel=int(channel),
        )
        if prohibited:
            self.prohibited_posts.add_ids(p, ids)
        n_held = int(is_held.sum())
        rec.add(day, p, channel, kind, Outcome.BLOCKED, n_held)  # until approved
        rec.add(day, p, channel, kind, Outcome.SURVIVING, m - n_held)
        rec.tally("held", kind, n_held)
        rec.tally("flagged", kind, int(flags[0].sum()))
        rec.tally("notices", kind, int(flags[1].sum()))
        flag_hours = model_arrivals.sweep_times(times[flags[0]], platform.spec.sweep_interval_hours)
        arrivals = [times[is_held], flag_hours, notice_hours, order_hours[flags[2]]]
        actions = [Action.HOLD, Action.FLAG, Action.NOTICE, Action.ORDER]
        subsets = [is_held, flags[0], flags[1], flags[2]]
        for arrival, action, subset in zip(arrivals, actions, subsets, strict=True):
            if len(arrival):
                items = ids[subset] * Action.COUNT + action
                self._day_submissions[platform.index].append(
                    (arrival, np.full(len(items), action, np.int64), items)
                )
        notice_deadline = self.scenario.rules.takedown.notice_deadline_hours
        if notice_deadline is not None and self.prohibited[kind]:
            for post, arrival in zip(ids[flags[1]], notice_hours, strict=True):
                self.orders.add_duties(
                    platform.index, [int(post)], [float(arrival) + notice_deadline], Action.NOTICE
                )
        ordered = ids[flags[2]]
        if len(ordered):
            order_days = np.floor(order_hours[flags[2]] / HOURS_PER_DAY).astype(np.int64)
            for order_day in np.unique(order_days):
                self.orders.add_orders(int(order_day), ordered[order_days == order_day])

    def _hold_probability(self, platform: PlatformState) -> NDArray[np.float64]:
        """``platform.hold_probability()``, kept while the platform's threshold stands."""
        key = ("hold", platform.index, platform.threshold)
        cached = self._probability_cache.get(key)
        if cached is None:
            self._probability_cache = {
                k: v
                for k, v in self._probability_cache.items()
                if k[2] == platform.threshold or k[1] != platform.index
            }
            cached = self._probability_cache[key] = platform.hold_probability()
        return cached

    def _touch_probabilities(
        self, platform: PlatformState, channel: Channel
    ) -> NDArray[np.float64]:
        """[flag, notice, order] probabilities per kind for a published, not held post
        (kept while the platform's threshold stands)."""
        key = (int(channel), platform.index, platform.threshold)
        cached = self._probability_cache.get(key)
        if cached is None:
            cached = self._probability_cache[key] = self._compute_touch(platform, channel)
        return cached

    def _compute_touch(self, platform: PlatformState, channel: Channel) -> NDArray[np.float64]:
        flag = platform.flag_probability_if_not_held(self._hold_probability(platform))
        notice = self.notice_probability if channel == Channel.PUBLIC else np.zeros(N_KINDS)
        order = self.monitor_probability if self.in_scope[channel] else np.zeros(N_KINDS)
        return np.vstack([flag, notice, order])


def _view_rate(probability):
    """The compiled per-view rate (numpy's log1p can differ from libm's in the last bit)."""
    return arrivals_kernels.view_rate(float(probability))


def _attention_times(times, u, rate, reach, tau):
    """The compiled scalar per post (numpy's vectorised log1p can differ from it in the
    last bit; tests/test_arrivals_statement.py holds it to model.arrivals' statement)."""
    reach = np.broadcast_to(reach, times.shape)
    return np.array(
        [
            arrivals_kernels.attention_time(t, x, float(rate), float(a), tau)
            for t, x, a in zip(times.tolist(), u.tolist(), reach.tolist(), strict=True)
        ],
        dtype=np.float64,
    )


def draw_touches(
    rng: np.random.Generator,
    n: int,
    probability: NDArray[np.float64],
    conditional_on_any: bool,
    draws: list | None = None,
) -> NDArray[np.bool_]:
    """Independent flags (one row per probability) for ``n`` posts; if
    ``conditional_on_any``, drawn given that at least one flag is set (sequentially:
    the first flag with its conditional probability, and so on). ``draws``: a list
    the conditional path puts each row's uniforms in."""
    flags = np.zeros((len(probability), n), dtype=bool)
    if n == 0:
        return flags
    if not conditional_on_any:
        for row, p in enumerate(probability):
            flags[row] = rng.random(n) < p
        return flags
    none_yet = np.ones(n, dtype=bool)
    for row, p in enumerate(probability):
        rest = 1.0 - np.prod(1.0 - probability[row + 1 :])  # P(a later flag is set)
        # P(flag | none before, at least one from here on) = p / (p + (1 - p) * rest)
        denominator = p + (1.0 - p) * rest
        conditional = p / denominator if denominator > 0 else 0.0
        draw = rng.random(n)
        if draws is not None:
            draws[row] = draw
        flags[row] = np.where(none_yet, draw < conditional, draw < p)
        none_yet &= ~flags[row]
    return flags


def author_targets(users, kind, count, rng):
    """``Users.author_targets`` as it was: the uniform draws behind a sensitive kind's
    authors, over the kind's summed weight."""
    if count == 0 or users.size == 0:
        return np.zeros(0)
    return rng.random(count) * users.sensitive_totals[kind - 1]


def authors_at(users, kind, targets):
    """``Users.authors_at`` as it was, for sensitive kind ``kind`` (its weight row)."""
    if len(targets) == 0:
        return np.zeros(0, dtype=np.int64)
    cumulative, start, kind_row = users.sensitive_search()
    row = kind_row[kind - 1]
    return np.asarray(search_bucketed(cumulative[row], start[row], targets))


def search_sorted_targets(cumulative, targets):
    """``min(searchsorted(cumulative, targets, "right"), len - 1)``."""
    found = np.searchsorted(cumulative, targets, side="right")
    return np.minimum(found, len(cumulative) - 1).astype(np.int64)
