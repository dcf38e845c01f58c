"""A day's posts on one channel, compiled: routing, withholding, the filter, flags,
notices and orders, with their random draws, in one call.

:func:`publish_channel` does for one channel what the engine did in numpy, batch by
batch (benign posts in aggregate, then each sensitive kind; within each, platform by
platform): it counts intended, withheld, excluded, offshore, blocked and surviving posts
into the day's cells, draws which published posts the filter holds or flags, users
notice or the regulator orders down, and returns the records of the touched posts and
what the review queues, the legal duties and the order book must receive. The draws
come from the run's ``numpy.random.Generator`` objects, passed in: numba draws exactly
numpy's numbers and advances the same state (tests/test_kernels.py), and the draws are
made in the order numpy made them (batch by batch; within a batch, all the holds, then
each flag row over all posts, then, for benign posts, the order and notice times; then
the reviewer scores), so outputs are the same to the byte
(tests/test_publishing.py runs the numpy statement of the same step beside it).

Why compiled: at 10,000 users a day's publishing was ~25 batches of ~40 small numpy
calls each, ~3 ms of interpreter overhead per simulated day (docs/performance.md).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.arrivals import (
    attention_time,
    attention_time_given_noticed,
    held_delays,
    noticed,
    seen_by,
    sweep_time,
    view_rate,
)
from simulator.kernels.buffers import grow_columns, merge_by_platform
from simulator.kernels.choice import HELD_COLUMN, Beliefs, SpeechInputs, choose_posts
from simulator.kernels.draws import binomial, normal
from simulator.kernels.prefetch import prefetch
from simulator.kernels.speech import HOURS
from simulator.kinds import Action, Channel, Outcome

Array = NDArray[Any]

WITHHELD = int(Outcome.WITHHELD)
SOFTENED = int(Outcome.SOFTENED)
CRITICAL = 1
EXCLUDED = int(Outcome.EXCLUDED)
BLOCKED = int(Outcome.BLOCKED)
SURVIVING = int(Outcome.SURVIVING)
ORDER, HOLD, NOTICE, FLAG = Action.ORDER, Action.HOLD, Action.NOTICE, Action.FLAG
ACTIONS = Action.COUNT
BENIGN = 0
PUBLIC = int(Channel.PUBLIC)
PREFETCH_DISTANCE = 16  # how many posts ahead the draws ask for the authors' audience

#: Rows of ``post_float``: when posted, published (inf: held), order arrival (inf:
#: none), reviewer score, a held post's notice and order delays after approval (inf:
#: none; issue 17); of ``post_int``: author, platform, kind, channel.
POST_FLOAT_ROWS, POST_INT_ROWS = 6, 4

#: What ``state`` counts: posts, submissions, duties, orders, order chunks, benign
#: author targets.
POSTS, SUBMISSIONS, DUTIES, ORDERS, CHUNKS, TARGETS = 0, 1, 2, 3, 4, 5


class Moderation(NamedTuple):
    """How the day's published posts are moderated, for ``P`` platforms: ``in_scope``
    (per channel: whether platforms must moderate it), ``prohibited`` (per kind),
    ``hold`` (P x kinds: P(held)), ``touch`` and ``conditional`` (channels x P x 3 x
    kinds: P(flag, notice, order), unconditional and given at least one from this row
    on), ``any_touch`` (channels x P x kinds), ``friction`` (the share of circumventing
    posts lost), ``attention_hours`` (tau of docs/model.md S5a), ``audience`` (per user;
    empty without public posts), ``sweep_interval`` (P, hours), ``reviewer_mean``
    (P x kinds), ``notice_deadline`` (hours; < 0: none); per user, ``order_audience``
    (the audience monitors see: ``audience`` times the group's factor) and
    ``filter_factor`` (the group's on P(hold), P(flag), capped at 1; empty: none);
    ``end_hours``, the run's end ``T`` (a published post's potential exposure,
    docs/model.md S5b, is its author's ``audience`` times ``1 − e^{−(T − t)/τ}``: so
    ``audience`` is given moderated or not)."""

    in_scope: Array
    prohibited: Array
    hold: Array
    touch: Array
    any_touch: Array
    conditional: Array
    friction: float
    attention_hours: float
    audience: Array
    sweep_interval: Array
    reviewer_mean: Array
    notice_deadline: float
    order_audience: Array
    filter_factor: Array
    end_hours: float


class Routes(NamedTuple):
    """Who can post where today: each user's ``route`` (platform, the circumvention row
    ``P``, or -1) and home ``platform``."""

    route: Array
    platform: Array


class SensitivePosts(NamedTuple):
    """One channel's individually drawn posts of kinds 1..3 (``offsets`` slices, one per
    kind): ``authors``, ``times`` (hours), ``mood`` (each post's multiplier of its felt
    cost) and ``value`` (its author's value of speaking)."""

    authors: Array
    times: Array
    offsets: Array
    mood: Array
    value: Array


class BenignDay(NamedTuple):
    """One channel's benign posts: ``split``, the multinomial split over the ``3P + 1``
    outcome groups (empty: no benign posts today), ``mass``, each group's summed benign
    weight, and ``group_index``, which group array the authors come from (0 public, 1
    private; see :func:`simulator.kernels.speech.find_authors`)."""

    split: Array
    mass: Array
    group_index: int


class Generators(NamedTuple):
    """The streams the day's publishing draws from: the split stream (benign splits,
    circumvention friction) and the moderation stream (holds, flags, arrivals, scores)."""

    split: Any
    moderation: Any


class DayCounts(NamedTuple):
    """Counts updated in place: ``intended`` and ``counts`` (the day's cells: rows x
    channels x kinds [x outcomes]), ``tallies`` (held, flagged, notices x kinds),
    ``prohibited_hours`` (P x 25: published prohibited posts by hour of the day) and
    ``potential`` (the day's cells, rows x channels x kinds: the summed potential
    exposure ``A_i (1 − e^{−(T − t_pub)/τ})`` of the public posts of sensitive kinds
    published, docs/model.md S5b; benign posts and private messages add nothing)."""

    intended: Array
    counts: Array
    tallies: Array
    prohibited_hours: Array
    potential: Array


class Buffers(NamedTuple):
    """The day's output buffers (:func:`simulator.kernels.publishing.new_buffers`), each
    rows x capacity and grown by copying: the touched posts' records (``post_float``:
    posted, published, order arrival, reviewer score; ``post_int``: author, platform,
    kind, channel), queue submissions (``sub_time``; ``sub_int``: platform, action,
    item), notice duties (``duty_deadline``; ``duty_int``: platform, post index), orders
    (``order_int``: chunk, post index, arrival day), benign author targets
    (``target_value``; ``target_int``: platform, group index), and ``state``, how many
    of each are filled (:data:`POSTS` ... :data:`TARGETS`; never grows)."""

    post_float: Array
    post_int: Array
    sub_time: Array
    sub_int: Array
    duty_deadline: Array
    duty_int: Array
    order_int: Array
    target_value: Array
    target_int: Array
    state: Array


@njit(cache=True, nogil=True)
def publish_channel(
    channel: int,
    day: int,
    day_start: float,
    benign: BenignDay,
    sensitive: SensitivePosts,
    routes: Routes,
    speech: SpeechInputs,
    beliefs: Beliefs,
    moderation: Moderation,
    generators: Generators,
    day_counts: DayCounts,
    buffers: Buffers,
) -> Buffers:
    """One channel's posts of day ``day`` (starting at ``day_start`` hours; see the
    module docstring).

    ``benign`` the channel's benign split over the ``3P + 1`` outcome groups for ``P``
    platforms (the benign authors of platform ``p`` are drawn from group ``P + p`` by
    weight: their targets are recorded, in the buffers' ``target_value``/``target_int``
    (platform, ``group_index``), and the records carry ``-(target number + 1)`` as
    author until :func:`find_authors`); ``sensitive`` the individually drawn posts of
    kinds 1..3 (:func:`simulator.kernels.choice.choose_posts`: each author's choice on
    day ``day`` from ``speech`` and ``beliefs``, routed by ``routes``); ``moderation``
    the tables (this channel's rows of its channel axes are used). Updated in place:
    ``day_counts``.

    Appends, after the ``buffers.state`` counts already there
    (:func:`simulator.kernels.publishing.new_buffers`), the touched posts' records (their
    index in the buffer is their id less the store's next id), the queue submissions,
    notice duties and orders, each in the order the numpy step made them, and returns the
    buffers (new ones where one had to grow).
    """
    in_scope = moderation.in_scope[channel]
    prohibited = moderation.prohibited
    benign_split, group_mass, group_index = benign.split, benign.mass, benign.group_index
    sensitive_authors, sensitive_times = sensitive.authors, sensitive.times
    sensitive_offsets, sensitive_noise, sensitive_value = (
        sensitive.offsets, sensitive.mood, sensitive.value
    )  # fmt: skip
    route, platform = routes.route, routes.platform
    hold = moderation.hold
    touch = moderation.touch[channel]
    any_touch = moderation.any_touch[channel]
    conditional = moderation.conditional[channel]
    friction, attention_hours = moderation.friction, moderation.attention_hours
    audience, sweep_interval = moderation.audience, moderation.sweep_interval
    order_audience, filter_factor = moderation.order_audience, moderation.filter_factor
    reviewer_mean, notice_deadline = moderation.reviewer_mean, moderation.notice_deadline
    split_rng, moderation_rng = generators.split, generators.moderation
    intended, counts = day_counts.intended, day_counts.counts
    tallies, prohibited_hours = day_counts.tallies, day_counts.prohibited_hours
    potential, end_hours = day_counts.potential, moderation.end_hours
    # Public posts of sensitive kinds add their potential exposure as published (S5b).
    weigh = channel == PUBLIC and len(audience) > 0
    # Whether choose_posts counts this channel's posts said, for the friends to see.
    said_in_public = channel == PUBLIC and len(beliefs.spoke) > 0 and len(speech.truth) == 0
    publish_potential = potential  # what _publish adds to: nothing on a private channel
    if not weigh:
        publish_potential = np.zeros((0, 0, 0), dtype=np.float64)
    post_float, post_int, sub_time, sub_int = (
        buffers.post_float, buffers.post_int, buffers.sub_time, buffers.sub_int
    )  # fmt: skip
    duty_deadline, duty_int, order_int = buffers.duty_deadline, buffers.duty_int, buffers.order_int
    target_value, target_int, state = buffers.target_value, buffers.target_int, buffers.state
    n_p = hold.shape[0]
    circumvention_row = n_p

    # Benign posts (kind 0) are counted in aggregate, only those a rule touches drawn;
    # kinds 1.. are drawn post by post and routed. Each platform's batch then goes through
    # the one call of _publish below (numba compiles one call site once, not per constant).
    reaching = np.empty(0, dtype=np.int64)
    reaching_times = np.empty(0, dtype=np.float64)
    offsets = np.zeros(n_p + 1, dtype=np.int64)
    withheld = np.zeros(n_p, dtype=np.int64)
    # Softened posts (docs/model.md S3) of the kinds decided before criticism, by
    # platform: published as criticism, with the critical posts of the same platform.
    soft_authors = np.empty(0, dtype=np.int64)
    soft_times = np.empty(0, dtype=np.float64)
    soft_offsets = np.zeros(n_p + 1, dtype=np.int64)
    # Benign, then the most intense kinds first: collective action and unlawful posts
    # softened into criticism join the critical batch, decided already.
    for kind in (0, 2, 3, 1):
        if kind == BENIGN:
            if len(benign_split) == 0:
                continue
            for p in range(n_p):
                intended[p, channel, kind] += (
                    benign_split[p] + benign_split[n_p + p] + benign_split[2 * n_p + p]
                )
            intended[circumvention_row, channel, kind] += benign_split[3 * n_p]
            for p in range(n_p):
                counts[p, channel, kind, EXCLUDED] += benign_split[p]
                counts[p, channel, kind, WITHHELD] += benign_split[2 * n_p + p]
            offshore = benign_split[3 * n_p]
        else:
            first, last = sensitive_offsets[kind - 1], sensitive_offsets[kind]
            if last == first and not (kind == CRITICAL and len(soft_authors)):
                continue
            (
                into, excluded, offshore, withheld, softened, reaching, reaching_times, offsets,
                new_soft_authors, new_soft_times, new_soft_offsets,
            ) = choose_posts(
                sensitive_authors[first:last], sensitive_times[first:last],
                sensitive_noise[first:last], sensitive_value[first:last], route, platform, n_p,
                kind, channel, speech,
                beliefs, day,
            )  # fmt: skip
            for p in range(n_p + 1):
                intended[p, channel, kind] += into[p]
            for p in range(n_p):
                counts[p, channel, kind, EXCLUDED] += excluded[p]
                counts[p, channel, kind, SOFTENED] += softened[p]
            if len(new_soft_authors):
                soft_authors, soft_times, soft_offsets = merge_by_platform(
                    soft_authors, soft_times, soft_offsets,
                    new_soft_authors, new_soft_times, new_soft_offsets,
                )  # fmt: skip
            if kind == CRITICAL and len(soft_authors):
                reaching, reaching_times, offsets = merge_by_platform(
                    reaching, reaching_times, offsets, soft_authors, soft_times, soft_offsets
                )
        # Posts through circumvention tools: friction loses some, the rest survive.
        if offshore:
            lost = binomial(split_rng, offshore, friction)
            counts[circumvention_row, channel, kind, EXCLUDED] += lost
            counts[circumvention_row, channel, kind, SURVIVING] += offshore - lost
            if weigh and kind != BENIGN:
                # Which posts friction lost is not drawn (a count): the survivors carry
                # their share of the offshore posts' summed potential (its expectation).
                offshore_potential = 0.0
                for k in range(first, last):
                    author = sensitive_authors[k]
                    if route[author] == circumvention_row:
                        offshore_potential += audience[author] * seen_by(
                            end_hours - sensitive_times[k], attention_hours
                        )
                potential[circumvention_row, channel, kind] += (
                    offshore_potential * (offshore - lost) / offshore
                )
        if kind != BENIGN:
            for p in range(n_p):
                counts[p, channel, kind, WITHHELD] += withheld[p]
        for p in range(n_p):
            published = benign_split[n_p + p] if kind == BENIGN else offsets[p + 1] - offsets[p]
            if published == 0:
                continue
            if not in_scope:
                counts[p, channel, kind, SURVIVING] += published
                if weigh and kind != BENIGN:
                    summed = 0.0
                    for k in range(offsets[p], offsets[p + 1]):
                        summed += audience[reaching[k]] * seen_by(
                            end_hours - reaching_times[k], attention_hours
                        )
                    potential[p, channel, kind] += summed
                continue
            if kind == BENIGN:
                held = binomial(moderation_rng, published, hold[p, kind])
                touched = binomial(moderation_rng, published - held, any_touch[p, kind])
                counts[p, channel, kind, SURVIVING] += published - held - touched
                wanted = held + touched
                if wanted == 0:
                    continue
                # Authors among the group's users by benign weight (found after the
                # day's draws, which they do not change: find_authors), then times.
                t = state[TARGETS]
                target_value = grow_columns(target_value, t + wanted)
                target_int = grow_columns(target_int, t + wanted)
                authors = np.empty(wanted, dtype=np.int64)
                for k in range(wanted):
                    target_value[0, t + k] = moderation_rng.random() * group_mass[n_p + p]
                    target_int[0, t + k] = p
                    target_int[1, t + k] = group_index
                    authors[k] = -(t + k + 1)
                state[TARGETS] = t + wanted
                times = np.empty(wanted, dtype=np.float64)
                for k in range(wanted):
                    times[k] = day_start + HOURS * moderation_rng.random()
                given = True  # held first, every other post flagged, noticed or ordered
                count_held = False
            else:
                held = 0
                count_held = said_in_public and (
                    speech.law[channel, kind, 0] + speech.law[channel, kind, 1] > 0.0
                )
                authors = reaching[offsets[p] : offsets[p + 1]]
                times = reaching_times[offsets[p] : offsets[p + 1]]
                given = False
            first_record = state[POSTS]
            post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int = (
                _publish(
                    p, channel, kind, authors, times, held, given,
                    hold, touch, conditional, prohibited, attention_hours, audience,
                    order_audience, filter_factor, sweep_interval, reviewer_mean,
                    notice_deadline, day_start, moderation_rng,
                    counts, tallies, prohibited_hours, publish_potential,
                    end_hours, post_float, post_int, sub_time,
                    sub_int, duty_deadline, duty_int, order_int, state,
                )
            )  # fmt: skip
            if count_held:  # posts said in public but held: friends see them if approved
                for i in range(first_record, state[POSTS]):
                    if post_float[1, i] == np.inf:  # held (S16)
                        beliefs.spoke[post_int[0, i], HELD_COLUMN + kind - 1] += 1
    return Buffers(
        post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int,
        target_value, target_int, state,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _publish(
    p: int,
    channel: int,
    kind: int,
    authors: Array,
    times: Array,
    held_count: int,
    touched_given: bool,
    hold: Array,
    touch: Array,
    conditional: Array,
    prohibited: Array,
    attention_hours: float,
    audience: Array,
    order_audience: Array,
    filter_factor: Array,
    sweep_interval: Array,
    reviewer_mean: Array,
    notice_deadline: float,
    day_start: float,
    rng: Any,
    counts: Array,
    tallies: Array,
    prohibited_hours: Array,
    potential: Array,
    end_hours: float,
    post_float: Array,
    post_int: Array,
    sub_time: Array,
    sub_int: Array,
    duty_deadline: Array,
    duty_int: Array,
    order_int: Array,
    state: Array,
) -> tuple[Array, Array, Array, Array, Array, Array, Array]:
    """Posts of one kind that reach platform ``p``: hold, flag, notice and order them,
    count them, and append what follows to the buffers (``state``: how many of each are
    filled). ``touched_given`` (the benign path): the first ``held_count`` posts are
    held and every other one is known to be flagged, noticed or ordered, so which of
    the three is drawn given at least one; otherwise holds are drawn here. The posts
    published (not held) of a sensitive kind add their potential exposure to
    ``potential[p, channel, kind]`` unless ``potential`` is empty (private messages).
    Returns the buffers (grown if needed)."""
    n = len(authors)
    scaled = len(filter_factor) > 0
    is_held = np.empty(n, dtype=np.bool_)
    if touched_given:
        for k in range(n):
            is_held[k] = k < held_count
    else:  # with groups, the author's group's filter factor (docs/model.md "Groups")
        for k in range(n):
            f = filter_factor[authors[k]] if scaled else 1.0
            is_held[k] = rng.random() < min(1.0, hold[p, kind] * f)
    # Flags row by row over all posts (held ones too: then dropped). A drawn post's uniform
    # per row decides the flag (u < P(flag)) and whether and when it is noticed (S5a).
    flags = np.zeros((3, n), dtype=np.bool_)
    uniforms = np.empty((3, n), dtype=np.float64)
    notice_rate = view_rate(touch[p, 1, kind])
    order_rate = view_rate(touch[p, 2, kind])
    if touched_given:
        none_yet = np.ones(n, dtype=np.bool_)
        for row in range(3):
            for k in range(n):
                uniforms[row, k] = draw = rng.random()  # a held post's are read below
                if none_yet[k]:
                    flags[row, k] = draw < conditional[p, row, kind]
                else:
                    flags[row, k] = draw < touch[p, row, kind]
                if flags[row, k]:
                    none_yet[k] = False
    else:
        for row in range(3):
            rate = notice_rate if row == 1 else order_rate
            seen = audience if row == 1 else order_audience  # the regulator's (groups)
            for k in range(n):
                if row > 0 and channel == PUBLIC and k + PREFETCH_DISTANCE < n:
                    prefetch(seen, authors[k + PREFETCH_DISTANCE])  # (scattered users)
                uniforms[row, k] = u = rng.random()
                if row == 0:
                    f = filter_factor[authors[k]] if scaled else 1.0
                    flags[row, k] = u < min(1.0, touch[p, 0, kind] * f)
                else:
                    reach = seen[authors[k]] if channel == PUBLIC else 1.0
                    flags[row, k] = noticed(u, rate, reach)
    held_delay = held_delays(  # a held post's notice and order delays (issue 17)
        is_held, authors, uniforms, notice_rate, order_rate, audience, order_audience,
        channel == PUBLIC and not touched_given, attention_hours,
    )  # fmt: skip
    touched = np.empty(n, dtype=np.bool_)
    m = 0
    for k in range(n):
        if is_held[k]:
            for row in range(3):
                flags[row, k] = False  # held posts are reviewed before publication instead
        touched[k] = is_held[k] or flags[0, k] or flags[1, k] or flags[2, k]
        m += touched[k]
    if prohibited[kind]:
        for k in range(n):
            if not is_held[k]:
                prohibited_hours[p, int(math.floor(times[k])) - int(day_start)] += 1
    if not touched_given and len(potential):  # a held post adds its potential if approved
        summed = 0.0
        for k in range(n):
            if not is_held[k]:
                summed += audience[authors[k]] * seen_by(end_hours - times[k], attention_hours)
        potential[p, channel, kind] += summed
    if n - m:
        counts[p, channel, kind, SURVIVING] += n - m
    if m == 0:
        return post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int
    which = np.empty(m, dtype=np.int64)
    j = 0
    for k in range(n):
        if touched[k]:
            which[j] = k
            j += 1
    # Arrival times (S5a): orders, then notices, when the post's reach gets it noticed
    # (drawn posts: from the uniform that decided it; benign posts, touched, audience 1: a
    # uniform each, drawn here); flags at the next keyword sweep (no draw). Then scores.
    order_hours = np.full(m, np.inf)
    notice_hours = np.full(m, np.inf)
    flag_hours = np.empty(m, dtype=np.float64)
    for row in (2, 1):
        arrival = order_hours if row == 2 else notice_hours
        rate = order_rate if row == 2 else notice_rate
        for j in range(m):
            k = which[j]
            if not flags[row, k]:
                continue
            if touched_given:
                arrival[j] = attention_time_given_noticed(
                    times[k], rng.random(), touch[p, row, kind], attention_hours
                )
            else:
                seen = audience if row == 1 else order_audience
                reach = seen[authors[k]] if channel == PUBLIC else 1.0
                arrival[j] = attention_time(
                    times[k], uniforms[row, k], rate, reach, attention_hours
                )
    for j in range(m):
        flag_hours[j] = sweep_time(times[which[j]], sweep_interval[p])
    score = np.empty(m, dtype=np.float64)
    for j in range(m):
        score[j] = reviewer_mean[p, kind] + normal(rng)

    # The records: ids follow on from the ones already made today.
    base = state[0]
    post_float = grow_columns(post_float, base + m)
    post_int = grow_columns(post_int, base + m)
    n_held = 0
    n_flagged = 0
    n_noticed = 0
    for j in range(m):
        k = which[j]
        post_float[0, base + j] = times[k]
        post_float[1, base + j] = np.inf if is_held[k] else times[k]
        post_float[2, base + j] = order_hours[j]
        post_float[3, base + j] = score[j]
        post_float[4, base + j] = held_delay[0, k]
        post_float[5, base + j] = held_delay[1, k]
        post_int[0, base + j] = authors[k]
        post_int[1, base + j] = p
        post_int[2, base + j] = kind
        post_int[3, base + j] = channel
        n_held += is_held[k]
        n_flagged += flags[0, k]
        n_noticed += flags[1, k]
    state[0] = base + m
    counts[p, channel, kind, BLOCKED] += n_held  # until approved
    counts[p, channel, kind, SURVIVING] += m - n_held
    tallies[0, kind] += n_held
    tallies[1, kind] += n_flagged
    tallies[2, kind] += n_noticed

    # Review items, in numpy's submission order: held, flagged, noticed, ordered.
    s = state[1]
    sub_time = grow_columns(sub_time, s + 3 * m)
    sub_int = grow_columns(sub_int, s + 3 * m)
    for action in (HOLD, FLAG, NOTICE, ORDER):
        for j in range(m):
            k = which[j]
            if action == HOLD:
                if not is_held[k]:
                    continue
                arrival = times[k]
            elif action == FLAG:
                if not flags[0, k]:
                    continue
                arrival = flag_hours[j]
            elif action == NOTICE:
                if not flags[1, k]:
                    continue
                arrival = notice_hours[j]
            else:
                if not flags[2, k]:
                    continue
                arrival = order_hours[j]
            sub_time[0, s] = arrival
            sub_int[0, s] = p
            sub_int[1, s] = action
            sub_int[2, s] = (base + j) * ACTIONS + action
            s += 1
    state[1] = s

    if notice_deadline >= 0 and prohibited[kind]:
        d = state[2]
        duty_deadline = grow_columns(duty_deadline, d + n_noticed)
        duty_int = grow_columns(duty_int, d + n_noticed)
        for j in range(m):
            if flags[1, which[j]]:
                duty_deadline[0, d] = notice_hours[j] + notice_deadline
                duty_int[0, d] = p
                duty_int[1, d] = base + j
                d += 1
        state[2] = d

    # Orders, bucketed by arrival day: one chunk per day, days ascending (as numpy's
    # np.unique of the days gave them; a scan of the few days, not a sort).
    n_orders = 0
    for j in range(m):
        n_orders += flags[2, which[j]]
    if n_orders:
        o = state[3]
        order_int = grow_columns(order_int, o + n_orders)
        days = np.empty(n_orders, dtype=np.int64)
        i = 0
        for j in range(m):
            if flags[2, which[j]]:
                days[i] = int(math.floor(order_hours[j] / HOURS))
                i += 1
        # Loops, not days.min(), days.max() and (days == day).any(): the same days,
        # without compiling numpy's reductions and comparisons (~1 s of a first run).
        day = last_day = days[0]
        for i in range(1, n_orders):
            if days[i] < day:
                day = days[i]
            if days[i] > last_day:
                last_day = days[i]
        while day <= last_day:
            present = False
            for i in range(n_orders):
                if days[i] == day:
                    present = True
                    break
            if not present:
                day += 1
                continue
            i = 0
            for j in range(m):
                if flags[2, which[j]]:
                    if days[i] == day:
                        order_int[0, o] = state[4]
                        order_int[1, o] = base + j
                        order_int[2, o] = day
                        o += 1
                    i += 1
            state[4] += 1
            day += 1
        state[3] = o
    return post_float, post_int, sub_time, sub_int, duty_deadline, duty_int, order_int
