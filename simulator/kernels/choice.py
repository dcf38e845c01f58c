"""Compiled speech choice (docs/model.md S3 "Speech choice", S16 "Perceived
probabilities").

:func:`choose_posts` routes one (channel, kind)'s individually drawn sensitive posts and
decides each one a user routed to a platform makes: post, soften or withhold
(:func:`simulator.model.speech.post_choice` on the beliefs of
:func:`simulator.model.speech.perceived_probability`).
:func:`simulator.kernels.learning.learn_beliefs` adds a day's sanctions and detentions to
the evidence of the users who suffered or saw them.

Beliefs live in one float32 row of :data:`ROW_COLUMNS` per user (removal evidence,
detention evidence and trials, per sensitive kind, and the climate's memory: one cache
line), decayed lazily: a
row is brought to day ``d`` only when it is read or written, by ``rho ** (d - e_i)``
(``decay_pow``). A day's evidence is added to that day's row, so ``X(d + 1) = rho (X(d)
+ events(d))`` whoever touches it when: the same numbers as a daily pass over every
user, without it. Friends' posts are events too: what a user said in public today
(:attr:`Beliefs.spoke`) reaches the friends' trials at the day's end
(:func:`simulator.kernels.learning.learn_beliefs`), so a friend who falls silent stops
adding trials as well as removals.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.prefetch import prefetch

Array = NDArray[Any]
#: How far ahead (authors) the beliefs' pass asks for the rows it will read.
PREFETCH_DISTANCE = 16

NO_ROUTE = -1
N_SENSITIVE = 3
#: Columns of a user's belief row: removals, detentions, trials (3 kinds each), then the
#: friends' expected public sensitive posts a day (the climate's E, before the kind's
#: share), the day the row is decayed to (a float32: exact below 2**24 days), a spare
#: column, the climate's memory of the friends' posts seen (O, 3 kinds: read through
#: :attr:`Beliefs.climate_observed`, the rows themselves) and a spare: 64 bytes, rows
#: aligned to 64, so a user's row is one cache line where separate arrays cost a miss
#: each (the evidence pass touches every friend of each speaker: docs/performance.md,
#: "Session 23").
REMOVAL_COLUMN, DETENTION_COLUMN, TRIALS_COLUMN = 0, 3, 6
EVIDENCE_COLUMNS = 9
FLOW_COLUMN, DAY_COLUMN = 9, 10
CLIMATE_COLUMN = 12
ROW_COLUMNS = 16
#: The rows' alignment (bytes): a cache line.
ROW_ALIGNMENT = 64
#: Columns of :attr:`Beliefs.spoke`, per sensitive kind: public posts said today (at the
#: choice, and held posts approved today, when they appear), public sanctions friends saw
#: today, and the posts said today that the filter held (not seen until approved, never
#: if blocked): friends' trials are ``said - held`` (docs/model.md S16).
SAID_COLUMN, SEEN_SANCTION_COLUMN, HELD_COLUMN = 0, 3, 6
SPOKE_COLUMNS = 9
#: ``par`` entries of :func:`choose_posts`.
PAR_PRIOR_TRIALS = 0
PAR_REMOVAL_COST = 1
PAR_ACCOUNT_VALUE = 2
PAR_DETENTION_COST = 3
PAR_NOISE = 4
PAR_CLIMATE = 5
PAR_IOTA_ANONYMOUS = 6
PAR_IOTA_TRACEABLE = 7
PAR_REREGISTERED_LOSS = 8
N_PAR = 9
#: Columns of :attr:`SpeechInputs.ban_follows`.
ANONYMOUS, TRACEABLE = 0, 1
#: Columns of :attr:`SpeechInputs.group_counts` (per day, group and kind): intended,
#: excluded (no route), offshore (through circumvention), withheld, softened.
G_INTENDED, G_EXCLUDED, G_OFFSHORE, G_WITHHELD, G_SOFTENED = 0, 1, 2, 3, 4
N_GROUP_COLUMNS = 5
_NO_GROUP = np.zeros(0, dtype=np.int64)
_NO_GROUP_COUNTS = np.zeros((0, 0, 0, N_GROUP_COLUMNS), dtype=np.int64)
#: Phases of a decision, as :data:`simulator.model.speech.COMPLIANT` ... (B2): the
#: columns of :attr:`SpeechInputs.phase_counts`.
P_COMPLIANT, P_PARTLY, P_FULLY, P_DEFIANT = 0, 1, 2, 3
N_PHASES = 4
_NO_PHASE_COUNTS = np.zeros((0, 0, N_PHASES), dtype=np.int64)
_NO_CELL = np.zeros(0, dtype=np.int8)


class Beliefs(NamedTuple):
    """Per-user belief state: ``evidence`` float32 users x :data:`ROW_COLUMNS` (the evidence,
    the friends' expected public sensitive posts a day before the kind's share, the day the
    row is decayed to: see the module docstring); what users did in public today for their
    friends to see (empty when friends are not seen and the climate is off): ``spoke`` int16
    users x :data:`SPOKE_COLUMNS` (posts said, public sanctions seen, posts said but held,
    per kind), ``speakers`` int64 (the users whose ``spoke`` row is not zero, in the order
    they first spoke) and ``n_speakers`` (one int64: how many); and for the climate term
    (empty when it is off) ``climate_observed`` (the friends' posts seen, O: the
    ``evidence`` rows themselves, O in the columns from :data:`CLIMATE_COLUMN`) and
    ``climate_kind`` (1 x 3: a unit of flow's expected posts per kind, E = flow x
    climate_kind[0]; or users x 3, each user's own E per unit of flow, where groups write
    their own mix of kinds and the friends' expected posts do not split by one mix)."""

    evidence: Array
    spoke: Array
    speakers: Array
    n_speakers: Array
    climate_observed: Array
    climate_kind: Array


def aligned_rows(n: int) -> Array:
    """``n`` zero belief rows (float32, ``n x ROW_COLUMNS``, C order) whose first byte
    is a multiple of :data:`ROW_ALIGNMENT` (numpy aligns to 16 only)."""
    if n == 0:
        return np.zeros((0, ROW_COLUMNS), dtype=np.float32)
    buffer = np.zeros(n * ROW_COLUMNS + ROW_ALIGNMENT // 4, dtype=np.float32)
    skip = (-buffer.ctypes.data % ROW_ALIGNMENT) // 4  # (numpy's buffers: 4-byte aligned)
    rows: Array = buffer[skip : skip + n * ROW_COLUMNS].reshape(n, ROW_COLUMNS)
    return rows


def make_beliefs(
    evidence: Array,
    day: Array | None = None,
    flow: Array | None = None,
    climate_observed: Array | None = None,
    climate_kind: Array | None = None,
    friends_see: bool = False,
) -> Beliefs:
    """:class:`Beliefs` from users x 9 ``evidence``, each row decayed to ``day`` (0),
    with friends' expected ``flow`` (none) and the climate (off) unless given; what
    users say in public is kept for their friends when ``friends_see`` or the climate
    is on."""
    n = len(evidence)
    rows = aligned_rows(n)
    rows[:, :EVIDENCE_COLUMNS] = evidence[:, :EVIDENCE_COLUMNS]
    # The climate's memory: the rows themselves (columns from CLIMATE_COLUMN), or none
    # when the climate is off (an empty array of the same type: one compiled kernel).
    observed = rows[:0]
    if climate_observed is not None:
        rows[:, CLIMATE_COLUMN : CLIMATE_COLUMN + N_SENSITIVE] = climate_observed
        observed = rows
    if flow is not None:
        rows[:, FLOW_COLUMN] = flow
    if day is not None:
        rows[:, DAY_COLUMN] = day
    seen = n if friends_see or climate_observed is not None else 0
    return Beliefs(
        rows,
        np.zeros((seen, SPOKE_COLUMNS), dtype=np.int16),
        np.zeros(seen, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        observed,
        np.zeros((1, N_SENSITIVE))
        if climate_kind is None
        else np.atleast_2d(np.asarray(climate_kind, dtype=np.float64)),
    )


@njit(cache=True, nogil=True)
def note_in_public(beliefs: Beliefs, authors: Array, column_of_kind: Array, kinds: Array) -> None:
    """Add 1 to ``beliefs.spoke[a, column_of_kind[k]]`` for each author ``a`` and kind
    ``k`` (kinds 1..3; a column of -1 skips the kind), listing each author among the
    day's speakers the first time their row is touched. What friends learn of a user's
    public speech at the day's end (:func:`simulator.kernels.learning.learn_beliefs`):
    the filter's holds of posts said today (``HELD_COLUMN``), held posts that appear
    when approved (``SAID_COLUMN``). Nothing when friends see nothing (``spoke``
    empty)."""
    spoke, speakers, n_speakers = beliefs.spoke, beliefs.speakers, beliefs.n_speakers
    if len(spoke) == 0:
        return
    for j in range(len(authors)):
        column = column_of_kind[kinds[j]]
        if column < 0:
            continue
        a = authors[j]
        listed = False
        for c in range(SPOKE_COLUMNS):
            if spoke[a, c] != 0:
                listed = True
                break
        if not listed:
            speakers[n_speakers[0]] = a
            n_speakers[0] += 1
        spoke[a, column] += 1


class SpeechInputs(NamedTuple):
    """What :func:`choose_posts` reads besides the posts and the beliefs: ``law``
    (channels x kinds x 2 sanctions: 1 where the law can bring removal / detention on a
    post of that kind on that channel), ``intensity`` and ``softer`` per kind, per user
    ``strikes`` and ``traceable``, per platform ``strikes_to_close`` and ``ban_follows``
    (platforms x 2: the chance a closed account's ban follows an anonymous /
    traceable user, i.e. the identity is burned and cannot register again), the decay
    table, the prior ``alpha0`` (2 x kinds), the ``news`` (3 x kinds: removal and
    detention evidence, trials), ``par`` (see the ``PAR_*`` indices) and ``truth``
    (platforms x kinds x 2, empty: learned beliefs); with user groups, each user's
    ``group`` and ``group_counts`` (days x groups x kinds x :data:`N_GROUP_COLUMNS`,
    added to in place; both empty without groups: nothing is counted); each user's
    ``cell`` (stance quantile x boldness quantile, one int8 per user) and
    ``phase_counts`` (kinds x cells x :data:`N_PHASES`: the decisions by phase, added to
    in place; both empty: nothing is counted)."""

    law: Array
    intensity: Array
    softer: Array
    strikes: Array
    strikes_to_close: Array
    ban_follows: Array
    traceable: Array
    decay_pow: Array
    alpha0: Array
    news: Array
    par: Array
    truth: Array
    group: Array = _NO_GROUP
    group_counts: Array = _NO_GROUP_COUNTS
    cell: Array = _NO_CELL
    phase_counts: Array = _NO_PHASE_COUNTS


def empty_beliefs() -> Beliefs:
    """Beliefs of nobody (a run where no sanction is possible reads none)."""
    return make_beliefs(np.zeros((0, EVIDENCE_COLUMNS), dtype=np.float32))


def decay_table(half_life_days: float, days: int) -> Array:
    """``decay_pow[t] = rho ** t`` for ``t`` in ``0 .. days`` (``rho = 0.5 ** (1 /
    half_life_days)``): the factor on old evidence after ``t`` days."""
    rho = 0.5 ** (1.0 / half_life_days)
    return np.asarray(rho ** np.arange(days + 1, dtype=np.float64))


@njit(cache=True, nogil=True)
def bring_to_day(beliefs: Beliefs, user: int, day: int, decay_pow: Array) -> None:
    """Decay ``user``'s row to ``day`` (nothing if it is there already): evidence and
    trials times ``decay_pow[gap]``. (The passes below write this out inline: a call
    with array arguments costs more than it.)"""
    rows = beliefs.evidence
    gap = day - int(rows[user, DAY_COLUMN])
    if gap <= 0:
        return
    gap = min(gap, len(decay_pow) - 1)
    f = decay_pow[gap]
    for c in range(EVIDENCE_COLUMNS):
        rows[user, c] = np.float32(rows[user, c] * f)
    rows[user, DAY_COLUMN] = day


@njit(cache=True, nogil=True, inline="always")
def _perceived(
    evidence: Array, user: int, kind: int, sanction: int, alpha0: Array, news: Array, n0: float
) -> float:
    column = REMOVAL_COLUMN if sanction == 0 else DETENTION_COLUMN
    success = (
        alpha0[sanction, kind]
        + np.float64(evidence[user, column + kind - 1])
        + news[sanction, kind]
    )
    trials = n0 + np.float64(evidence[user, TRIALS_COLUMN + kind - 1]) + news[2, kind]
    return success / trials


@njit(cache=True, nogil=True)
def perceived(
    beliefs: Beliefs, user: int, kind: int, sanction: int, alpha0: Array, news: Array, n0: float
) -> float:
    """``(alpha0 + E + N_E) / (n0 + T + N_T)`` of a row already brought to the day."""
    return _perceived(beliefs.evidence, user, kind, sanction, alpha0, news, n0)


@njit(cache=True, nogil=True, inline="always")
def best_of_menu(value: float, intensity: Array, cost: Array) -> int:
    """The option with the highest ``value * intensity[j] - cost[j]``, options in
    decreasing intensity; on a tie the first (the more intense, as B2's closed forms)."""
    best = 0
    best_u = value * intensity[0] - cost[0]
    for j in range(1, len(intensity)):
        u = value * intensity[j] - cost[j]
        if u > best_u:
            best = j
            best_u = u
    return best


@njit(cache=True, nogil=True)
def mood(u: float, exponent: float) -> float:
    """A post's mood, the multiplier of its felt cost: ``(u / (1 - u)) ** exponent`` for
    its uniform ``u`` (clipped into (0, 1)); 1 when ``exponent`` is 0."""
    if exponent == 0.0:
        return 1.0
    u = min(max(u, 1e-12), 1.0 - 1e-12)
    return math.exp(exponent * (math.log(u) - math.log1p(-u)))


@njit(cache=True, nogil=True)
def choose_posts(
    authors: Array,
    times: Array,
    mood: Array,
    post_value: Array,
    route: Array,
    platform: Array,
    n_platforms: int,
    kind: int,
    channel: int,
    inputs: SpeechInputs,
    beliefs: Beliefs,
    day: int,
) -> tuple[Array, Array, int, Array, Array, Array, Array, Array, Array, Array, Array]:
    """Where one (channel, kind)'s sensitive posts go, and each routed author's choice,
    on day ``day`` (:class:`SpeechInputs`; ``mood`` each post's multiplier of its felt
    cost, :func:`mood` of its uniform, and ``post_value`` its author's ``beta_i * D_i``,
    both made with the draw; a softened
    post becomes ``inputs.softer[kind]``; ``inputs.truth`` replaces the beliefs when not
    empty). A post whose kind and softer kind the law cannot touch is
    posted without reading any belief (the counterfactual reads none).

    Returns intended per platform row (the route, or the home platform with none),
    excluded per home platform, the number offshore, withheld and softened per
    platform, then the posted ones (authors, times, ``offsets`` by platform) and the
    softened ones (authors, times, offsets by platform; to be published as
    ``softer[kind]``). A user who posts or softens a kind the law can touch counts one
    trial of that kind at once, and a public one is kept in ``beliefs.spoke`` for the
    friends to see at the day's end (docs/model.md S16)."""
    n = len(authors)
    law = inputs.law
    evidence = beliefs.evidence
    n0 = inputs.par[PAR_PRIOR_TRIALS]
    detention_cost = inputs.par[PAR_DETENTION_COST]
    intensity = inputs.intensity
    strikes = inputs.strikes
    strikes_to_close = inputs.strikes_to_close
    traceable = inputs.traceable
    ban_follows = inputs.ban_follows
    decay_pow = inputs.decay_pow
    alpha0, news, par, truth = inputs.alpha0, inputs.news, inputs.par, inputs.truth
    soft = inputs.softer[kind]
    # The menu's constants (post ``kind``, soften to ``soft``), as scalars: the loop
    # below reads no array through a helper call (each such call cost ~70 ns of
    # reference counting, more than the arithmetic; docs/performance.md).
    s = soft if soft >= 0 else kind
    law_k_rm, law_k_det = law[channel, kind, 0], law[channel, kind, 1]
    law_s_rm = law[channel, soft, 0] if soft >= 0 else 0.0
    law_s_det = law[channel, soft, 1] if soft >= 0 else 0.0
    at_risk = law_k_rm + law_k_det + law_s_rm + law_s_det > 0.0
    a_k = intensity[kind]
    a_s = intensity[soft] if soft >= 0 else 0.0
    prior_k_rm, prior_k_det = alpha0[0, kind], alpha0[1, kind]
    prior_s_rm, prior_s_det = alpha0[0, s], alpha0[1, s]
    news_k_rm, news_k_det, news_k_n = news[0, kind], news[1, kind], news[2, kind]
    news_s_rm, news_s_det, news_s_n = news[0, s], news[1, s], news[2, s]
    col_k, col_s = kind - 1, s - 1
    learned = len(truth) == 0
    removal_cost, account_value = par[PAR_REMOVAL_COST], par[PAR_ACCOUNT_VALUE]
    reregistered_loss = par[PAR_REREGISTERED_LOSS]
    iota_named, iota_anonymous = par[PAR_IOTA_TRACEABLE], par[PAR_IOTA_ANONYMOUS]
    climate_weight = par[PAR_CLIMATE]
    climate_on = len(beliefs.climate_observed) > 0 and climate_weight > 0.0
    climate_observed, climate_kind = beliefs.climate_observed, beliefs.climate_kind
    spoke, speakers, n_speakers = beliefs.spoke, beliefs.speakers, beliefs.n_speakers
    count_said = channel == 0 and len(spoke) > 0
    group, group_counts = inputs.group, inputs.group_counts
    by_group = len(group_counts) > 0
    cell, phase_counts = inputs.cell, inputs.phase_counts
    by_phase = len(phase_counts) > 0
    # A post said as it is is defiant where a sanction can follow it (B2), else compliant.
    posted_phase = P_DEFIANT if at_risk else P_COMPLIANT
    last_gap = len(decay_pow) - 1
    intended = np.zeros(n_platforms + 1, dtype=np.int64)
    excluded = np.zeros(n_platforms, dtype=np.int64)
    withheld = np.zeros(n_platforms, dtype=np.int64)
    softened = np.zeros(n_platforms, dtype=np.int64)
    offshore = 0
    # 0..P-1 posted on that platform, P..2P-1 softened on platform - P, -1 neither.
    destination = np.empty(n, dtype=np.int64)
    reaching = np.zeros(2 * n_platforms + 1, dtype=np.int64)
    # Gather first, decide after: loops of independent reads whose cache misses overlap.
    their_route = np.empty(n, dtype=np.int64)
    for k in range(n):
        their_route[k] = route[authors[k]]
    their_cell = np.empty(n if by_phase else 0, dtype=np.int8)
    if by_phase:
        for k in range(n):
            their_cell[k] = cell[authors[k]]
    their_strikes = np.empty(n if at_risk else 0, dtype=np.int64)
    their_trace = np.empty(n if at_risk else 0, dtype=np.bool_)
    if at_risk:
        for k in range(n):
            their_strikes[k] = strikes[authors[k]]
        for k in range(n):
            their_trace[k] = traceable[authors[k]]
        if learned:
            # Each routed author's beliefs brought to today (bring_to_day, written out).
            for k in range(n):
                if k + PREFETCH_DISTANCE < n:
                    prefetch(evidence, authors[k + PREFETCH_DISTANCE])
                r = their_route[k]
                a = authors[k]
                gap = day - int(evidence[a, DAY_COLUMN])
                if r < 0 or r >= n_platforms or gap <= 0:
                    continue
                gap = min(gap, last_gap)
                f = decay_pow[gap]
                for c in range(EVIDENCE_COLUMNS):
                    evidence[a, c] = np.float32(evidence[a, c] * f)
                evidence[a, DAY_COLUMN] = day
    for k in range(n):
        if k + PREFETCH_DISTANCE < n:
            ahead = authors[k + PREFETCH_DISTANCE]
            prefetch(evidence, ahead)
            if len(spoke) > 0:
                prefetch(spoke, ahead)
        a = authors[k]
        r = their_route[k]
        destination[k] = -1
        g = group[a] if by_group else 0
        if by_group:
            group_counts[day, g, kind, G_INTENDED] += 1
        if r == NO_ROUTE:
            home = platform[a]
            intended[home] += 1
            excluded[home] += 1
            if by_group:
                group_counts[day, g, kind, G_EXCLUDED] += 1
            continue
        intended[r] += 1
        if r == n_platforms:
            offshore += 1
            if by_group:
                group_counts[day, g, kind, G_OFFSHORE] += 1
            continue
        choice = 0
        if at_risk:
            # Sanctions that need the person (S3): a detention reaches a traceable user
            # iota times as often; a closed account's ban follows them with ban_follows
            # (the identity is burned), else registering anew loses only a share.
            named = their_trace[k]
            iota = iota_named if named else iota_anonymous
            follows = ban_follows[r, TRACEABLE if named else ANONYMOUS]
            account_loss = account_value * (follows + (1.0 - follows) * reregistered_loss)
            s_rm = removal_cost + account_loss / max(1, strikes_to_close[r] - their_strikes[k])
            felt = mood[k]
            if climate_on:
                # One row for everyone (E splits by one mix), else the user's own.
                share_row = a if climate_kind.shape[0] > 1 else 0
                expected = evidence[a, FLOW_COLUMN] * climate_kind[share_row, col_k]
                if expected > 0.0:
                    short = 1.0 - climate_observed[a, CLIMATE_COLUMN + col_k] / expected
                    felt *= max(0.0, 1.0 + climate_weight * short)
            # Perceived probabilities (S16) of the two kinds on the menu.
            if learned:
                trials_k = n0 + np.float64(evidence[a, TRIALS_COLUMN + col_k]) + news_k_n
                p_k_rm = (prior_k_rm + np.float64(evidence[a, col_k]) + news_k_rm) / trials_k
                p_k_det = (
                    prior_k_det + np.float64(evidence[a, DETENTION_COLUMN + col_k]) + news_k_det
                ) / trials_k
                trials_s = n0 + np.float64(evidence[a, TRIALS_COLUMN + col_s]) + news_s_n
                p_s_rm = (prior_s_rm + np.float64(evidence[a, col_s]) + news_s_rm) / trials_s
                p_s_det = (
                    prior_s_det + np.float64(evidence[a, DETENTION_COLUMN + col_s]) + news_s_det
                ) / trials_s
            else:
                p_k_rm, p_k_det = truth[r, kind, 0], truth[r, kind, 1]
                p_s_rm, p_s_det = truth[r, s, 0], truth[r, s, 1]
            # U = value * a - felt * sum_m A p S; the best of post, soften, withhold (0),
            # ties to the more intense (best_of_menu on three numbers).
            cost_k = (
                law_k_rm * p_k_rm * s_rm + law_k_det * min(1.0, p_k_det * iota) * detention_cost
            )
            best = post_value[k] * a_k - felt * cost_k
            if soft >= 0:
                cost_s = (
                    law_s_rm * p_s_rm * s_rm + law_s_det * min(1.0, p_s_det * iota) * detention_cost
                )
                u_s = post_value[k] * a_s - felt * cost_s
                if u_s > best:
                    choice = 1
                    best = u_s
            if best < 0.0:
                choice = 2
            if learned and choice < 2:
                said = kind if choice == 0 else soft
                said_at_risk = (law_k_rm + law_k_det > 0.0) if choice == 0 else (
                    law_s_rm + law_s_det > 0.0
                )  # fmt: skip
                if said_at_risk:
                    column = TRIALS_COLUMN + said - 1
                    evidence[a, column] = np.float32(evidence[a, column] + 1.0)
                if count_said and said_at_risk:
                    if (
                        spoke[a, 0] == 0 and spoke[a, 1] == 0 and spoke[a, 2] == 0
                        and spoke[a, 3] == 0 and spoke[a, 4] == 0 and spoke[a, 5] == 0
                    ):  # fmt: skip
                        speakers[n_speakers[0]] = a
                        n_speakers[0] += 1
                    spoke[a, SAID_COLUMN + said - 1] += 1
        if by_phase:
            phase_counts[kind, their_cell[k], posted_phase if choice == 0 else choice] += 1
        if choice == 2:
            withheld[r] += 1
            if by_group:
                group_counts[day, g, kind, G_WITHHELD] += 1
            continue
        if choice == 1:
            softened[r] += 1
            if by_group:
                group_counts[day, g, kind, G_SOFTENED] += 1
            destination[k] = n_platforms + r
            reaching[n_platforms + r + 1] += 1
            continue
        destination[k] = r
        reaching[r + 1] += 1
    offsets = np.cumsum(reaching)
    fill = offsets[:-1].copy()
    out_authors = np.empty(offsets[-1], dtype=np.int64)
    out_times = np.empty(offsets[-1], dtype=np.float64)
    for k in range(n):
        d = destination[k]
        if d >= 0:
            out_authors[fill[d]] = authors[k]
            out_times[fill[d]] = times[k]
            fill[d] += 1
    posted = offsets[n_platforms]
    soft_offsets = offsets[n_platforms:] - posted
    return (
        intended, excluded, offshore, withheld, softened,
        out_authors[:posted], out_times[:posted], offsets[: n_platforms + 1].copy(),
        out_authors[posted:], out_times[posted:], soft_offsets,
    )  # fmt: skip
