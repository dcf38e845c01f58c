"""Compiled belief learning and the population's daily counts (docs/model.md S16).

:func:`learn_beliefs` adds a day's sanctions, detentions and friends' public posts to
the evidence of the users who suffered or saw them (lazily decayed rows,
:mod:`simulator.kernels.choice`), and adds the friends' posts heard to the
spiral-of-silence memory, which :func:`decay_climate` decays each day before;
:func:`mean_beliefs` and :func:`population_counts` make the population series' numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.choice import (
    CLIMATE_COLUMN,
    DAY_COLUMN,
    DETENTION_COLUMN,
    EVIDENCE_COLUMNS,
    HELD_COLUMN,
    N_SENSITIVE,
    REMOVAL_COLUMN,
    SAID_COLUMN,
    SEEN_SANCTION_COLUMN,
    SPOKE_COLUMNS,
    TRIALS_COLUMN,
    Beliefs,
)
from simulator.kernels.numeric import count_values
from simulator.kernels.prefetch import prefetch
from simulator.kinds import UserState

ACTIVE = int(UserState.ACTIVE)
#: The day's own touches whose rows :func:`learn_beliefs` reads ahead of writing them.
READ_AHEAD = 64
#: How far ahead (entries) the speakers' and friends' passes ask for the rows they will
#: read (16 and 32 measured the same; 8 slower: docs/performance.md, "Session 24").
PREFETCH_DISTANCE = 16
#: Speakers whose friends :func:`learn_beliefs` lists at a time (what each of them
#: teaches, ``LEARNED_COLUMNS`` numbers, and their friends' touches).
SPEAKER_BLOCK = 1024
LEARNED_COLUMNS = 3 * N_SENSITIVE
N_STATES = len(UserState)
Array = NDArray[Any]


@njit(cache=True, nogil=True)
def population_counts(
    state: Array, traceable: Array, ever_reported: Array, ever_detained: Array
) -> Array:
    """Users per state, then traceable, ever reported and ever detained users."""
    # Branch-free: states and flags come in random order, so tests would mispredict.
    counts = np.zeros(N_STATES + 3, dtype=np.int64)
    n = len(state)
    count_values(state, counts[:N_STATES])
    n_traceable = 0
    n_reported = 0
    n_detained = 0
    for i in range(n):
        n_traceable += traceable[i]
        n_reported += ever_reported[i]
        n_detained += ever_detained[i]
    counts[N_STATES] = n_traceable
    counts[N_STATES + 1] = n_reported
    counts[N_STATES + 2] = n_detained
    return counts


@njit(cache=True, nogil=True, inline="always")
def _bring_to_day(rows: Array, u: int, day: int, decay_pow: Array, last_gap: int) -> None:
    """User ``u``'s evidence row brought to ``day`` on its first touch of the day: each
    column times ``decay_pow[gap]`` (the days since it was last brought, at most
    ``last_gap``), rounded to float32, and its day set."""
    gap = day - int(rows[u, DAY_COLUMN])
    if gap > 0:
        f = decay_pow[min(gap, last_gap)]
        for c in range(EVIDENCE_COLUMNS):
            rows[u, c] = np.float32(rows[u, c] * f)
        rows[u, DAY_COLUMN] = day


@njit(cache=True, nogil=True)
def learn_beliefs(
    beliefs: Beliefs,
    day: int,
    decay_pow: Array,
    indptr: Array,
    indices: Array,
    sanctioned: Array,
    sanctioned_kind: Array,
    sanctioned_public: Array,
    detained: Array,
    detained_kind: Array,
    trial_weight: float,
    friend_weight: float,
    friend_detention_weight: float,
    climate_keep: float,
) -> None:
    """Add day ``day``'s events to the evidence (rows brought to ``day`` first).

    Each blocked or removed post of kind ``k`` (``sanctioned``: authors, with repeats)
    adds 1 to its author's removal evidence of ``k``; each detention for a post of kind
    ``k`` adds 1 to the detained user's detention evidence of ``k`` and
    ``friend_detention_weight`` to each friend's. What a user did in public today
    (``beliefs.spoke``: the posts said, counted by the choice, and the public sanctions
    counted here) reaches each friend at once: ``trial_weight`` trials per post said and
    ``friend_weight`` (visibility times the friends' weight) removals per sanction, so
    friends' trials are what they actually said, not what they meant to. With the
    climate on, the friends' memory of posts said, decayed by ``climate_keep`` first
    (:func:`decay_climate`, called before this), takes ``(1 - climate_keep)`` per post
    (S3's O). Posts said today that the filter held
    (``HELD_COLUMN``) are taken off what friends see; a held post is seen on the day it
    is approved (:func:`simulator.kernels.choice.note_in_public`), never if blocked.
    ``spoke`` is cleared. Benign posts (kind 0) teach nothing."""
    spoke, speakers, n_speakers = beliefs.spoke, beliefs.speakers, beliefs.n_speakers
    friends_see = len(spoke) > 0
    # Public sanctions join what their authors did in public today.
    if friends_see and friend_weight > 0.0:
        for j in range(len(sanctioned)):
            k = sanctioned_kind[j]
            if k <= 0 or not sanctioned_public[j]:
                continue
            a = sanctioned[j]
            if (
                spoke[a, 0] == 0 and spoke[a, 1] == 0 and spoke[a, 2] == 0
                and spoke[a, 3] == 0 and spoke[a, 4] == 0 and spoke[a, 5] == 0
            ):  # fmt: skip
                speakers[n_speakers[0]] = a
                n_speakers[0] += 1
            spoke[a, SEEN_SANCTION_COLUMN + k - 1] += 1
    # The day's own sanctions and detentions as touches (user, column, amount) first,
    # then one pass that brings each touched row to the day and adds (bring_to_day
    # written out: no call per touch); then each speaker's friends, once per friend for
    # all of the speaker's columns.
    n_spoke = n_speakers[0] if friends_see else 0
    n_touch = 0
    for j in range(len(sanctioned)):
        if sanctioned_kind[j] > 0:
            n_touch += 1
    for j in range(len(detained)):
        if detained_kind[j] > 0:
            n_touch += 1
            if friend_detention_weight > 0.0:
                n_touch += indptr[detained[j] + 1] - indptr[detained[j]]
    who = np.empty(n_touch, dtype=np.int64)
    where = np.empty(n_touch, dtype=np.int64)
    amount = np.empty(n_touch, dtype=np.float64)
    t = 0
    for j in range(len(sanctioned)):
        k = sanctioned_kind[j]
        if k <= 0:
            continue
        who[t], where[t], amount[t] = sanctioned[j], REMOVAL_COLUMN + k - 1, 1.0
        t += 1
    for j in range(len(detained)):
        k = detained_kind[j]
        if k <= 0:
            continue
        a = detained[j]
        who[t], where[t], amount[t] = a, DETENTION_COLUMN + k - 1, 1.0
        t += 1
        if friend_detention_weight > 0.0:
            for e in range(indptr[a], indptr[a + 1]):
                who[t], where[t] = indices[e], DETENTION_COLUMN + k - 1
                amount[t] = friend_detention_weight
                t += 1
    observed = beliefs.climate_observed
    climate = len(observed) > 0  # (the day's decay of the memory: decay_climate, first)
    heard = 1.0 - climate_keep
    rows = beliefs.evidence
    last_gap = len(decay_pow) - 1
    sink = np.zeros(1, dtype=np.float32)  # what the reads ahead add up to (not used)
    for start in range(0, n_touch, READ_AHEAD):
        stop = min(start + READ_AHEAD, n_touch)
        # The rows read first, with nothing waiting on them (their cache misses overlap:
        # the loop below waits on a row's day before it writes), then written.
        touched = np.float32(0.0)
        for t in range(start, stop):
            touched += rows[who[t], 0] + rows[who[t], DAY_COLUMN]
        sink[0] += touched
        for t in range(start, stop):
            u = who[t]
            _bring_to_day(rows, u, day, decay_pow, last_gap)
            rows[u, where[t]] = np.float32(rows[u, where[t]] + amount[t])
    # The speakers' friends, a block of speakers at a time: what each speaker's friends
    # learn first (and the speaker's day cleared), then every (friend, speaker) touch of
    # the block in the order of the speakers and of their friends, each pass asking for
    # the rows PREFETCH_DISTANCE entries ahead. Walking speaker by speaker chained four
    # cache misses each (the speaker's row of ``spoke``, ``indptr``, ``indices``, the
    # friends' rows), with a speaker's ~10 friends the only misses in flight
    # (docs/performance.md, "Session 24"). The same operations on each row in the same
    # order, so the same numbers.
    learned = np.empty((SPEAKER_BLOCK, LEARNED_COLUMNS), dtype=np.float64)
    friend = np.empty(0, dtype=np.int64)
    source = np.empty(0, dtype=np.int64)
    for j0 in range(0, n_spoke, SPEAKER_BLOCK):
        j1 = min(j0 + SPEAKER_BLOCK, n_spoke)
        n_friends = 0
        for j in range(j0, j1):
            a = speakers[j]
            if j + PREFETCH_DISTANCE < j1:
                ahead = speakers[j + PREFETCH_DISTANCE]
                prefetch(spoke, ahead)
                prefetch(indptr, ahead)
            n_friends += indptr[a + 1] - indptr[a]
            # What each friend of a learns (posts said today that the filter held are not
            # seen yet: said - held): trials, removals seen, and posts heard (climate).
            v = j - j0
            for k in range(N_SENSITIVE):
                seen = spoke[a, SAID_COLUMN + k] - spoke[a, HELD_COLUMN + k]
                learned[v, k] = trial_weight * seen
                learned[v, N_SENSITIVE + k] = friend_weight * spoke[a, SEEN_SANCTION_COLUMN + k]
                learned[v, 2 * N_SENSITIVE + k] = heard * seen
            for c in range(SPOKE_COLUMNS):
                spoke[a, c] = 0
        if len(friend) < n_friends:
            friend = np.empty(2 * n_friends, dtype=np.int64)
            source = np.empty(2 * n_friends, dtype=np.int64)
        t = 0
        for j in range(j0, j1):
            a = speakers[j]
            if j + PREFETCH_DISTANCE < j1:
                prefetch(indices, indptr[speakers[j + PREFETCH_DISTANCE]])
            for e in range(indptr[a], indptr[a + 1]):
                friend[t] = indices[e]
                source[t] = j - j0
                t += 1
        for t in range(n_friends):
            if t + PREFETCH_DISTANCE < n_friends:
                prefetch(rows, friend[t + PREFETCH_DISTANCE])
            u = friend[t]  # a friend of a speaker, who spoke in public today
            v = source[t]
            # The speaker's numbers as scalars: the rows' stores cannot change them.
            t0, t1, t2 = learned[v, 0], learned[v, 1], learned[v, 2]
            r0, r1, r2 = learned[v, 3], learned[v, 4], learned[v, 5]
            _bring_to_day(rows, u, day, decay_pow, last_gap)
            rows[u, TRIALS_COLUMN] = np.float32(rows[u, TRIALS_COLUMN] + t0)
            rows[u, TRIALS_COLUMN + 1] = np.float32(rows[u, TRIALS_COLUMN + 1] + t1)
            rows[u, TRIALS_COLUMN + 2] = np.float32(rows[u, TRIALS_COLUMN + 2] + t2)
            rows[u, REMOVAL_COLUMN] = np.float32(rows[u, REMOVAL_COLUMN] + r0)
            rows[u, REMOVAL_COLUMN + 1] = np.float32(rows[u, REMOVAL_COLUMN + 1] + r1)
            rows[u, REMOVAL_COLUMN + 2] = np.float32(rows[u, REMOVAL_COLUMN + 2] + r2)
            if climate:
                o0, o1, o2 = learned[v, 6], learned[v, 7], learned[v, 8]
                c = CLIMATE_COLUMN
                observed[u, c] = np.float32(observed[u, c] + o0)
                observed[u, c + 1] = np.float32(observed[u, c + 1] + o1)
                observed[u, c + 2] = np.float32(observed[u, c + 2] + o2)
    if friends_see:
        n_speakers[0] = 0


@njit(cache=True, nogil=True)
def decay_climate(beliefs: Beliefs, climate_keep: float) -> None:
    """The day's decay of the climate's memory of the friends' posts seen (S3's O), for
    every user: each column times ``climate_keep``, rounded to float32. Made before the
    day's :func:`learn_beliefs` adds the posts heard (anywhere after the day's choices,
    which read the memory: on the second thread while the review runs, at scale)."""
    observed = beliefs.climate_observed
    for i in range(observed.shape[0]):
        for k in range(N_SENSITIVE):
            c = CLIMATE_COLUMN + k
            observed[i, c] = np.float32(observed[i, c] * climate_keep)


@njit(cache=True, nogil=True)
def friend_sums(indptr: Array, indices: Array, weight: Array) -> Array:
    """``sum_{j in N(i)} weight_j`` for every user ``i`` (float32)."""
    n = len(indptr) - 1
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        total = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            total += weight[indices[e]]
        out[i] = total
    return out


@njit(cache=True, nogil=True)
def mean_beliefs(
    beliefs: Beliefs,
    state: Array,
    active: int,
    day: int,
    decay_pow: Array,
    alpha0: Array,
    news: Array,
    n0: float,
    stride: int,
) -> Array:
    """Mean perceived removal and detention probability per sensitive kind over users in
    state ``active`` at ``day`` (2 x 3; rows read decayed, not written), over every
    ``stride``-th user."""
    sums = np.zeros((2, N_SENSITIVE))
    count = 0
    last = len(decay_pow) - 1
    rows = beliefs.evidence
    for i in range(0, len(state), stride):
        if state[i] != active:
            continue
        count += 1
        gap = min(max(day - int(rows[i, DAY_COLUMN]), 0), last)
        f = decay_pow[gap]
        for k in range(N_SENSITIVE):
            trials = np.float64(rows[i, TRIALS_COLUMN + k]) * f + n0 + news[2, k + 1]
            removal = alpha0[0, k + 1] + rows[i, REMOVAL_COLUMN + k] * f + news[0, k + 1]
            detention = alpha0[1, k + 1] + rows[i, DETENTION_COLUMN + k] * f + news[1, k + 1]
            sums[0, k] += removal / trials
            sums[1, k] += detention / trials
    if count:
        for m in range(2):
            for k in range(N_SENSITIVE):
                sums[m, k] /= count
    return sums
