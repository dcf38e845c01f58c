"""Compiled speech choice and belief learning (docs/model.md S3 "Speech choice", S16
"Perceived probabilities").

:func:`choose_posts` routes one (channel, kind)'s individually drawn sensitive posts and
decides each one a user routed to a platform makes: post, soften or withhold
(:func:`simulator.users_model.post_choice` on the beliefs of
:func:`simulator.users_model.perceived_probability`). :func:`learn_beliefs` adds a day's
sanctions and detentions to the evidence of the users who suffered or saw them.

Beliefs live in one float32 row of :data:`EVIDENCE_COLUMNS` per user (removal evidence,
detention evidence and trials, per sensitive kind: one cache line), decayed lazily: a
row is brought to day ``d`` only when it is read or written, by ``rho ** (d - e_i)``
(``decay_pow``) plus the friends' trials of the days in between (``flow_pow``). A day's
evidence is added to that day's row, so ``X(d + 1) = rho (X(d) + events(d) + F_i)``
whoever touches it when: the same numbers as a daily pass over every user, without it.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]

NO_ROUTE = -1
N_SENSITIVE = 3
#: Columns of a user's evidence row: removals, detentions, trials, 3 kinds each.
REMOVAL_COLUMN, DETENTION_COLUMN, TRIALS_COLUMN = 0, 3, 6
EVIDENCE_COLUMNS = 9
#: ``par`` entries of :func:`choose_posts`.
PAR_PRIOR_TRIALS = 0
PAR_REMOVAL_COST = 1
PAR_ACCOUNT_VALUE = 2
PAR_DETENTION_COST = 3
PAR_NOISE = 4
PAR_CLIMATE = 5
PAR_IOTA_ANONYMOUS = 6
PAR_IOTA_TRACEABLE = 7
N_PAR = 8


class Beliefs(NamedTuple):
    """Per-user belief state: ``evidence`` float32 users x 9 (see the module docstring),
    ``day`` int32 users (the day each row is decayed to), ``flow`` float32 users x 3
    (friends' trials per day; empty when nobody sees friends), ``climate_observed`` and
    ``climate_expected`` float32 users x 3 (empty when the climate term is off)."""

    evidence: Array
    day: Array
    flow: Array
    climate_observed: Array
    climate_expected: Array


def empty_beliefs() -> Beliefs:
    """Beliefs of nobody (a run where no sanction is possible reads none)."""
    return Beliefs(
        np.zeros((0, EVIDENCE_COLUMNS), dtype=np.float32),
        np.zeros(0, dtype=np.int32),
        np.zeros((0, N_SENSITIVE), dtype=np.float32),
        np.zeros((0, N_SENSITIVE), dtype=np.float32),
        np.zeros((0, N_SENSITIVE), dtype=np.float32),
    )


def decay_tables(half_life_days: float, days: int) -> tuple[Array, Array]:
    """``decay_pow[t] = rho ** t`` and ``flow_pow[t] = rho + ... + rho ** t`` for ``t`` in
    ``0 .. days`` (``rho = 0.5 ** (1 / half_life_days)``): the factor on old evidence
    and on a daily flow after ``t`` days."""
    rho = 0.5 ** (1.0 / half_life_days)
    t = np.arange(days + 1, dtype=np.float64)
    decay_pow = rho**t
    flow_pow = np.concatenate(([0.0], np.cumsum(rho ** t[1:])))
    return decay_pow, flow_pow


@njit(cache=True, nogil=True)
def bring_to_day(beliefs: Beliefs, user: int, day: int, decay_pow: Array, flow_pow: Array) -> None:
    """Decay ``user``'s evidence row to ``day`` (nothing if it is there already)."""
    gap = day - beliefs.day[user]
    if gap <= 0:
        return
    gap = min(gap, len(decay_pow) - 1)
    f = decay_pow[gap]
    row = beliefs.evidence[user]
    for c in range(EVIDENCE_COLUMNS):
        row[c] = np.float32(row[c] * f)
    if len(beliefs.flow):
        g = flow_pow[gap]
        for k in range(N_SENSITIVE):
            row[TRIALS_COLUMN + k] = np.float32(row[TRIALS_COLUMN + k] + beliefs.flow[user, k] * g)
    beliefs.day[user] = day


@njit(cache=True, nogil=True)
def perceived(
    beliefs: Beliefs, user: int, kind: int, sanction: int, alpha0: Array, news: Array, n0: float
) -> float:
    """``(alpha0 + E + N_E) / (n0 + T + N_T)`` of a row already brought to the day."""
    row = beliefs.evidence[user]
    column = REMOVAL_COLUMN if sanction == 0 else DETENTION_COLUMN
    success = alpha0[sanction, kind] + np.float64(row[column + kind - 1]) + news[sanction, kind]
    trials = n0 + np.float64(row[TRIALS_COLUMN + kind - 1]) + news[2, kind]
    return success / trials


@njit(cache=True, nogil=True)
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
def _expected_cost(
    beliefs: Beliefs,
    user: int,
    kind: int,
    law: Array,
    p: int,
    alpha0: Array,
    news: Array,
    truth: Array,
    removal_cost: float,
    par: Array,
    iota: float,
) -> float:
    """``sum_m A[m] p_m S_m`` for ``user`` posting ``kind`` where ``law`` (2 sanctions) is
    the channel's row for the kind; beliefs, or ``truth[p, kind]`` when given."""
    cost = 0.0
    if law[0] > 0.0:
        if len(truth):
            pr = truth[p, kind, 0]
        else:
            pr = perceived(beliefs, user, kind, 0, alpha0, news, par[PAR_PRIOR_TRIALS])
        cost += law[0] * pr * removal_cost
    if law[1] > 0.0:
        if len(truth):
            pd = truth[p, kind, 1]
        else:
            pd = perceived(beliefs, user, kind, 1, alpha0, news, par[PAR_PRIOR_TRIALS])
        pd = min(1.0, pd * iota)
        cost += law[1] * pd * par[PAR_DETENTION_COST]
    return cost


@njit(cache=True, nogil=True)
def choose_posts(
    authors: Array,
    times: Array,
    noise: Array,
    route: Array,
    platform: Array,
    n_platforms: int,
    kind: int,
    law: Array,
    intensity: Array,
    softer: Array,
    value: Array,
    strikes: Array,
    strikes_to_close: Array,
    traceable: Array,
    beliefs: Beliefs,
    day: int,
    decay_pow: Array,
    flow_pow: Array,
    alpha0: Array,
    news: Array,
    par: Array,
    truth: Array,
) -> tuple[Array, Array, int, Array, Array, Array, Array, Array, Array, Array, Array]:
    """Where one (channel, kind)'s sensitive posts go, and each routed author's choice.

    ``law`` is the channel's applicability table (kinds x 2 sanctions: 1 if the law can
    bring removal / detention on a post of that kind there); ``value`` each user's
    ``beta_i * D_i``; ``noise`` each post's uniform; ``softer[kind]`` the kind a
    softened post becomes (-1: none); ``truth`` (platforms x kinds x 2) replaces the
    beliefs when not empty. A post whose kind and softer kind the law cannot touch is
    posted without reading any belief (the counterfactual reads none).

    Returns intended per platform row (the route, or the home platform with none),
    excluded per home platform, the number offshore, withheld and softened per
    platform, then the posted ones (authors, times, ``offsets`` by platform) and the
    softened ones (authors, times, offsets by platform; to be published as
    ``softer[kind]``). A user who posts or softens a kind the law can touch counts one
    trial of that kind at once (docs/model.md S16)."""
    n = len(authors)
    soft = softer[kind]
    at_risk = law[kind, 0] + law[kind, 1] > 0.0
    if soft >= 0:
        at_risk = at_risk or (law[soft, 0] + law[soft, 1] > 0.0)
    learned = len(truth) == 0
    menu_intensity = np.empty(3)
    menu_intensity[0] = intensity[kind]
    menu_intensity[1] = intensity[soft] if soft >= 0 else 0.0
    menu_intensity[2] = 0.0
    menu_cost = np.zeros(3)
    lam = par[PAR_NOISE]
    climate_on = len(beliefs.climate_observed) > 0 and par[PAR_CLIMATE] > 0.0
    intended = np.zeros(n_platforms + 1, dtype=np.int64)
    excluded = np.zeros(n_platforms, dtype=np.int64)
    withheld = np.zeros(n_platforms, dtype=np.int64)
    softened = np.zeros(n_platforms, dtype=np.int64)
    offshore = 0
    # 0..P-1 posted on that platform, P..2P-1 softened on platform - P, -1 neither.
    destination = np.empty(n, dtype=np.int64)
    reaching = np.zeros(2 * n_platforms + 1, dtype=np.int64)
    for k in range(n):
        a = authors[k]
        r = route[a]
        destination[k] = -1
        if r == NO_ROUTE:
            home = platform[a]
            intended[home] += 1
            excluded[home] += 1
            continue
        intended[r] += 1
        if r == n_platforms:
            offshore += 1
            continue
        choice = 0
        if at_risk:
            if learned:
                bring_to_day(beliefs, a, day, decay_pow, flow_pow)
            left = max(1, strikes_to_close[r] - np.int64(strikes[a]))
            s_rm = par[PAR_REMOVAL_COST] + par[PAR_ACCOUNT_VALUE] / left
            iota = par[PAR_IOTA_TRACEABLE] if traceable[a] else par[PAR_IOTA_ANONYMOUS]
            felt = 1.0
            if lam > 0.0:
                u = min(max(noise[k], 1e-12), 1.0 - 1e-12)
                felt = math.exp(lam * (math.log(u) - math.log1p(-u)))
            if climate_on:
                expected = beliefs.climate_expected[a, kind - 1]
                if expected > 0.0:
                    short = 1.0 - beliefs.climate_observed[a, kind - 1] / expected
                    felt *= 1.0 + par[PAR_CLIMATE] * max(0.0, short)
            menu_cost[0] = felt * _expected_cost(
                beliefs, a, kind, law[kind], r, alpha0, news, truth, s_rm, par, iota
            )
            if soft >= 0:
                menu_cost[1] = felt * _expected_cost(
                    beliefs, a, soft, law[soft], r, alpha0, news, truth, s_rm, par, iota
                )
                choice = best_of_menu(value[a], menu_intensity, menu_cost)
            else:
                # {post, withhold}: withhold is the menu's last entry, never "soften".
                choice = 0 if value[a] * menu_intensity[0] - menu_cost[0] >= 0.0 else 2
            if learned:
                said = kind if choice == 0 else (soft if choice == 1 else -1)
                if said > 0 and law[said, 0] + law[said, 1] > 0.0:
                    column = TRIALS_COLUMN + said - 1
                    beliefs.evidence[a, column] = np.float32(beliefs.evidence[a, column] + 1.0)
        if choice == 2:
            withheld[r] += 1
            continue
        if choice == 1:
            softened[r] += 1
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


@njit(cache=True, nogil=True)
def learn_beliefs(
    beliefs: Beliefs,
    day: int,
    decay_pow: Array,
    flow_pow: Array,
    indptr: Array,
    indices: Array,
    sanctioned: Array,
    sanctioned_kind: Array,
    sanctioned_public: Array,
    detained: Array,
    detained_kind: Array,
    friend_weight: float,
    friend_detention_weight: float,
) -> None:
    """Add day ``day``'s sanctions to the evidence (rows brought to ``day`` first).

    Each blocked or removed post of kind ``k`` (``sanctioned``: authors, with repeats)
    adds 1 to its author's removal evidence of ``k`` and, if public, ``friend_weight``
    (visibility times the friends' weight) to each friend's; each detention for a post
    of kind ``k`` adds 1 to the detained user's detention evidence of ``k`` and
    ``friend_detention_weight`` to each friend's. Benign posts (kind 0) teach nothing."""
    for j in range(len(sanctioned)):
        k = sanctioned_kind[j]
        if k <= 0:
            continue
        column = k - 1
        a = sanctioned[j]
        bring_to_day(beliefs, a, day, decay_pow, flow_pow)
        beliefs.evidence[a, column] = np.float32(beliefs.evidence[a, column] + 1.0)
        if sanctioned_public[j] and friend_weight > 0.0:
            for e in range(indptr[a], indptr[a + 1]):
                f = indices[e]
                bring_to_day(beliefs, f, day, decay_pow, flow_pow)
                beliefs.evidence[f, column] = np.float32(
                    beliefs.evidence[f, column] + friend_weight
                )
    for j in range(len(detained)):
        k = detained_kind[j]
        if k <= 0:
            continue
        column = DETENTION_COLUMN + k - 1
        a = detained[j]
        bring_to_day(beliefs, a, day, decay_pow, flow_pow)
        beliefs.evidence[a, column] = np.float32(beliefs.evidence[a, column] + 1.0)
        if friend_detention_weight > 0.0:
            for e in range(indptr[a], indptr[a + 1]):
                f = indices[e]
                bring_to_day(beliefs, f, day, decay_pow, flow_pow)
                beliefs.evidence[f, column] = np.float32(
                    beliefs.evidence[f, column] + friend_detention_weight
                )


@njit(cache=True, nogil=True)
def observe_climate(
    beliefs: Beliefs,
    indptr: Array,
    indices: Array,
    published: Array,
    published_kind: Array,
    keep: float,
    weight: float,
) -> None:
    """The climate's end of day: ``O <- keep * O + (1 - keep) * (friends' public posts of
    the kind today)``, for every user (``published``: today's public sensitive posts'
    authors, ``published_kind`` their kinds). Called only with the climate term on."""
    observed = beliefs.climate_observed
    for i in range(observed.shape[0]):
        for k in range(N_SENSITIVE):
            observed[i, k] = np.float32(observed[i, k] * keep)
    for j in range(len(published)):
        k = published_kind[j]
        if k <= 0:
            continue
        a = published[j]
        for e in range(indptr[a], indptr[a + 1]):
            f = indices[e]
            observed[f, k - 1] = np.float32(observed[f, k - 1] + (1.0 - keep) * weight)


@njit(cache=True, nogil=True)
def mean_beliefs(
    beliefs: Beliefs,
    state: Array,
    active: int,
    day: int,
    decay_pow: Array,
    flow_pow: Array,
    alpha0: Array,
    news: Array,
    n0: float,
) -> Array:
    """Mean perceived removal and detention probability per sensitive kind over users in
    state ``active`` at ``day`` (2 x 3; rows read decayed, not written)."""
    sums = np.zeros((2, N_SENSITIVE))
    count = 0
    last = len(decay_pow) - 1
    has_flow = len(beliefs.flow) > 0
    for i in range(len(state)):
        if state[i] != active:
            continue
        count += 1
        gap = min(max(day - beliefs.day[i], 0), last)
        f = decay_pow[gap]
        g = flow_pow[gap]
        row = beliefs.evidence[i]
        for k in range(N_SENSITIVE):
            trials = np.float64(row[TRIALS_COLUMN + k]) * f
            if has_flow:
                trials += beliefs.flow[i, k] * g
            trials += n0 + news[2, k + 1]
            sums[0, k] += (alpha0[0, k + 1] + row[REMOVAL_COLUMN + k] * f + news[0, k + 1]) / trials
            sums[1, k] += (
                alpha0[1, k + 1] + row[DETENTION_COLUMN + k] * f + news[1, k + 1]
            ) / trials
    if count:
        for m in range(2):
            for k in range(N_SENSITIVE):
                sums[m, k] /= count
    return sums
