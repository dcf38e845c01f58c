"""The users and their social network: one row per user in numpy arrays, advanced a
day at a time (docs/model.md, 1.2 Entities, 3.1 Initialization and 3.3 Submodels S1).

Equations: user ``i`` posts ``rate_i = posts_per_day * spread_i`` a day, ``spread_i``
lognormal with mean 1 and dispersion ``posting_dispersion``; their stance ``s_i`` is
Beta(``stance.alpha``, ``stance.beta``); their share of sensitive kind ``k`` is
``mix_k * s_i / mean(stance)`` and of benign posts ``1 - s_i / mean(stance) * sum(mix)``;
their platform is drawn by market share. The network is Erdos-Renyi-like:
``users * mean_degree / 2`` random edges, self-loops dropped.

Nothing here loops over users in Python. Per-user arrays are float32/int8/int16 so a
million users with their social network fit in a couple of hundred megabytes.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kernels.network import (
    count_loops_kept,
    network_offsets,
    network_rows,
    sort_rows,
    sorted_rows_blocked,
)
from simulator.kernels.numeric import add_neighbour_counts, bucket_index
from simulator.kernels.sanctions import NEVER, NO_STRIKE_DAY
from simulator.kinds import N_KINDS, SENSITIVE_KINDS, ContentKind, UserState
from simulator.model import groups as group_rules
from simulator.model.scenario import Population as PopulationSpec
from simulator.model.scenario.groups import Group

IntArray = NDArray[np.int64]
_INT32_MAX = 2**31 - 1
# Networks of up to this many edge ends are sorted by two scatter passes (fast while
# the arrays fit in cache); larger ones in blocks of _NETWORK_BLOCK sources.
_SMALL_NETWORK = 1 << 21
_NETWORK_BLOCK = 1 << 18


def usable_cpus() -> int:
    """CPUs this process may use (its affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: From this many users, independent compiled steps of a day (the next day's speech
#: draws, the platforms' review days, the evidence pass) run on a second thread: each
#: is then a millisecond or more, and handing one to a thread costs tens of
#: microseconds (china_csl_2016 for a year: 30,000 users 4.0 -> 3.6 s, 100,000 users
#: 7.9 -> 6.6 s; at 10,000 and 20,000 within the machine's noise; docs/performance.md,
#: session 22). (Here, not in the engine, so that simulator.engine.warmup can read it
#: without importing the engine.)
THREADED_MIN_USERS = 30_000


def large_network(users: int, mean_degree: float) -> bool:
    """Whether a network of this size is built block by block (and by two threads)."""
    return users * mean_degree > _SMALL_NETWORK


def _edge_ends(
    users: int,
    mean_degree: float,
    rng: np.random.Generator,
    mixing: tuple[IntArray, NDArray[np.float64]] | None,
) -> tuple[NDArray[np.integer], NDArray[np.integer]]:
    """The ends of :meth:`SocialNetwork.random`'s ``users * mean_degree / 2`` edges, as
    drawn from ``rng`` (with ``mixing``, the far ends within groups)."""
    edges = int(round(users * mean_degree / 2.0)) if users > 1 else 0
    # int32 draws are the same numbers as int64 ones from the same stream (one
    # bounded 32-bit draw each either way; tests check it) at half the memory.
    ends = np.int32 if users <= _INT32_MAX + 1 else np.int64
    a = rng.integers(0, max(users, 1), size=edges, dtype=ends)
    b = rng.integers(0, max(users, 1), size=edges, dtype=ends)
    if mixing is not None and users > 1:
        b = group_rules.mixed_ends(a, b, mixing[0], mixing[1], rng)
    return a, b


@dataclass
class SocialNetwork:
    """Undirected graph in compressed sparse row form: the neighbours of user ``i`` are
    ``indices[indptr[i]:indptr[i + 1]]``."""

    indptr: NDArray[np.int32] | NDArray[np.int64]
    indices: NDArray[np.int32]

    @classmethod
    def random(
        cls,
        users: int,
        mean_degree: float,
        rng: np.random.Generator,
        mixing: tuple[IntArray, NDArray[np.float64]] | None = None,
    ) -> SocialNetwork:
        """An Erdos-Renyi-like graph: ``users * mean_degree / 2`` random edges, both ways.
        ``mixing``: each user's group and each group's homophily; the far end of an edge
        is then drawn inside the near end's group with that probability
        (:func:`simulator.model.groups.mixed_ends`, draws after the two ends').

        Self-loops are dropped; duplicate edges are kept (rare, harmless: a friend seen
        twice). Average degree is ``mean_degree`` up to the dropped loops. Within a
        user's row neighbours come in id order; nothing depends on that order (only
        counts are ever taken). ``indptr`` is int32 when the edge ends fit.
        """
        a, b = _edge_ends(users, mean_degree, rng, mixing)
        # Compressed rows, compiled (self-loops dropped on the way): the same rows, each
        # in ascending target order, as sorting the packed ``source << 32 | target``
        # keys of both directions gave, without the keys.
        m = count_loops_kept(a, b)
        indptr: NDArray[np.int32] | NDArray[np.int64]
        if 2 * m <= _INT32_MAX:
            indptr = np.zeros(users + 1, dtype=np.int32)
        else:
            indptr = np.zeros(users + 1, dtype=np.int64)
        network_offsets(a, b, indptr)
        indices = np.empty(2 * m, dtype=np.int32)
        if 2 * m <= _SMALL_NETWORK:
            # A counting sort's two passes (scattered writes that stay in cache here).
            rows = np.empty(2 * m, dtype=np.int32)
            network_rows(a, b, indptr, rows)
            sort_rows(indptr, rows, indices)
            del rows
        else:
            # Block by block of sources, no temporary (1M users: ~0.6 s, as the key sort);
            # blocks write disjoint rows, so on two CPUs two threads take alternate
            # blocks (the kernel releases the GIL): ~0.35 s. The same arrays either way.
            threads = min(2, usable_cpus())
            if threads == 1:
                sorted_rows_blocked(a, b, indptr, indices, _NETWORK_BLOCK)
            else:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    args = (a, b, indptr, indices, _NETWORK_BLOCK)
                    build = sorted_rows_blocked
                    done = [pool.submit(build, *args, first, threads) for first in range(threads)]
                    for future in done:
                        future.result()
        del a, b
        return cls(indptr=indptr, indices=indices)

    def degree(self) -> NDArray[np.int64]:
        return np.diff(self.indptr).astype(np.int64, copy=False)

    @staticmethod
    def random_degree(
        users: int,
        mean_degree: float,
        rng: np.random.Generator,
        mixing: tuple[IntArray, NDArray[np.float64]] | None = None,
    ) -> NDArray[np.int64]:
        """``random(users, mean_degree, rng, mixing).degree()`` without the graph: the
        same edge ends, counted (self-loops dropped), in a fraction of the time and
        memory (a counterfactual needs the audiences, not the friends)."""
        a, b = _edge_ends(users, mean_degree, rng, mixing)
        kept = a != b
        degree = np.bincount(a[kept], minlength=users)
        degree += np.bincount(b[kept], minlength=users)
        return degree.astype(np.int64, copy=False)

    def neighbour_counts(self, users: NDArray[np.int64], size: int) -> NDArray[np.float32]:
        """For each of ``size`` users, how many of ``users`` (with repeats) are neighbours."""
        out = np.zeros(size, dtype=np.float32)
        if users.size == 0:
            return out
        add_neighbour_counts(self.indptr, self.indices, users, out)
        return out


class Users:
    """State of every user. Rates are posts per day; boldness lies in [0, 1]; ``value``
    is a post's worth to its author per unit of intensity (S3); beliefs are kept by
    :class:`simulator.model.speech_state.SpeechState` (S16)."""

    def __init__(
        self,
        spec: PopulationSpec,
        platform_shares: list[float],
        rng: np.random.Generator,
        groups: tuple[Group, ...] = (),
        group_rng: np.random.Generator | None = None,
    ):
        n = spec.users
        self.size = n
        #: The scenario's groups (none: one population) and each user's group index
        #: (drawn from ``group_rng``, :func:`simulator.streams.group_stream`, so the
        #: population stream's draws are the same with groups or without).
        self.groups = groups
        self.group: IntArray | None = None
        if groups:
            if group_rng is None:
                raise ValueError("users in groups need the group stream (group_rng)")
            self.group = group_rules.assign_groups(groups, n, group_rng)
        # The stream as it stands before the traits: ``rate`` and ``stance_factor`` are
        # needed only here, so they are not kept but drawn again from this copy if asked.
        self._traits_draw = (spec, copy.deepcopy(rng))
        rate, stance_factor = _rates(spec, rng, groups, self.group)
        boldness = _beta_by_group(spec.boldness, groups, self.group, "boldness")
        self.boldness = rng.beta(boldness[0], boldness[1], size=n).astype(np.float32)
        self.platform = rng.choice(len(platform_shares), size=n, p=platform_shares).astype(np.int16)
        # The network is drawn when first needed (a run without enforcement never looks
        # at it), from a copy of the population stream as it stands here; nothing draws
        # from that stream afterwards, so it is the network an eager draw would give.
        self._network: SocialNetwork | None = None
        self._network_draw = (spec.mean_degree, copy.deepcopy(rng))

        # What a post is worth to its author per unit of intensity, beta_i * D_i
        # (docs/model.md S3): boldness over its mean times (stance over its mean)^gamma.
        mean_boldness = _population_mean(spec.boldness, groups, "boldness")
        self.value = (
            (self.boldness / mean_boldness) * stance_factor**spec.speech.desire_stance_exponent
        ).astype(np.float32)
        # Newcomers' beliefs are set by the run's SpeechState (S16), which registers here.
        self.belief_reset: Callable[[NDArray[np.int64]], None] | None = None
        self.state = np.full(n, UserState.ACTIVE, dtype=np.int8)
        self.traceable = np.zeros(n, dtype=bool)  # registered under their real name
        self.strikes = np.zeros(n, dtype=np.int16)
        # Sanctions and turnover (docs/model.md S14): the day of the last sanction (for
        # strikes that expire), the day a closed account may re-register, and why an
        # EXCLUDED user is (account closed or real name refused; kernels.sanctions).
        self.last_strike_day = np.full(n, NO_STRIKE_DAY, dtype=np.int32)
        self.return_day = np.full(n, NEVER, dtype=np.int32)
        self.excl_reason = np.zeros(n, dtype=np.int8)
        self.ever_reported = np.zeros(n, dtype=bool)
        self.ever_detained = np.zeros(n, dtype=bool)
        # When each detained user is released (hours); only the detained, not a column.
        self.release_hours: dict[int, float] = {}
        #: Bumped (:meth:`states_changed`) whenever who can post where may have changed:
        #: a state, a home platform, a registration, a platform leaving or suspended.
        #: Caches of what depends on it store the version they were computed at.
        self.state_version = 0

        mix = spec.sensitive_mix
        self.mix = np.zeros(N_KINDS)
        for kind in SENSITIVE_KINDS:
            self.mix[kind] = getattr(mix, kind.label)
        sensitive_total = float(self.mix.sum())
        self.mix[ContentKind.BENIGN] = 1.0 - sensitive_total
        # Per-user daily rates by kind are rate_i * w_i(k):
        #   sensitive: mix_k * stance_factor_i;   benign: 1 - stance_factor_i * sum(mix)
        # with mix the user's group's own mix where groups have one (S1, model/groups.py).
        # Cumulative weights to draw authors in O(log n) per post, one row per distinct
        # weight: without group mixes one row, rate * stance_factor, that every sensitive
        # kind scales by its mix_k (the kind's row 0, scale mix_k); with them one row per
        # kind, rate * stance_factor * mix_{g(i),k} (row k - 1, scale 1). The benign one is
        # kept only as its total (benign authors are drawn per group, from
        # ``benign_weight``: kernels.speech.find_authors).
        group_mix = group_rules.sensitive_mixes(groups, self.mix) if groups else None
        if group_mix is None or self.group is None:
            self._sensitive_cumulative = np.cumsum(rate * stance_factor)[None, :]
            self.kind_row = np.zeros(len(SENSITIVE_KINDS), dtype=np.int64)
            self.kind_scale = self.mix[1:].copy()
            share_total: NDArray[np.float64] | float = sensitive_total
        else:
            members = group_mix[self.group]  # users x kinds
            self._sensitive_cumulative = np.cumsum(
                (rate * stance_factor)[None, :] * members[:, 1:].T, axis=1
            )
            self.kind_row = np.arange(len(SENSITIVE_KINDS), dtype=np.int64)
            self.kind_scale = np.ones(len(SENSITIVE_KINDS))
            share_total = members[:, 1:].sum(axis=1)
            del members
        # Not negative: the mix may exceed the mean stance by 1e-12 (the scenario's
        # check), and the benign author search needs non-decreasing running weights.
        self.benign_weight = np.maximum(rate * (1.0 - stance_factor * share_total), 0.0)
        del rate, stance_factor
        self._benign_total = float(np.cumsum(self.benign_weight)[-1]) if n else 0.0
        self._sensitive_start: NDArray[np.int64] | None = None  # see sensitive_search

    @property
    def rate(self) -> NDArray[np.float64]:
        """Each user's intended posts per day (drawn again: not kept)."""
        return self._replay_rates()[0]

    @property
    def stance_factor(self) -> NDArray[np.float64]:
        """Each user's stance over the mean stance (drawn again: not kept)."""
        return self._replay_rates()[1]

    def _replay_rates(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        spec, rng = self._traits_draw
        return _rates(spec, copy.deepcopy(rng), self.groups, self.group)

    @property
    def network(self) -> SocialNetwork:
        """The social network (drawn on first use; see ``__init__``)."""
        if self._network is None:
            mean_degree, rng = self._network_draw
            # From a copy: a network released and asked for again is the same one.
            self._network = SocialNetwork.random(
                self.size, mean_degree, copy.deepcopy(rng), self._mixing()
            )
        return self._network

    def degree(self) -> NDArray[np.int64]:
        """Each user's number of friends: the network's degrees, counted without
        building the network if it is not drawn yet (the same numbers)."""
        if self._network is not None:
            return self._network.degree()
        mean_degree, rng = self._network_draw
        return SocialNetwork.random_degree(
            self.size, mean_degree, copy.deepcopy(rng), self._mixing()
        )

    def _mixing(self) -> tuple[IntArray, NDArray[np.float64]] | None:
        """The network's ``mixing`` (each user's group and each group's homophily), if
        any group mixes within itself."""
        if self.group is None:
            return None
        homophily = group_rules.factors(self.groups, "homophily")
        return (self.group, homophily) if homophily.any() else None

    def release_network(self) -> None:
        """Drop the network (drawn again, the same, if asked for later)."""
        self._network = None

    # -- intended speech ------------------------------------------------------------
    def daily_rate_by_kind(self) -> NDArray[np.float64]:
        """Expected intended posts per day of each kind over the whole population."""
        out = np.empty(N_KINDS)
        out[ContentKind.BENIGN] = self._benign_total
        totals = self.sensitive_totals
        for kind in SENSITIVE_KINDS:
            out[kind] = totals[kind - 1] * self.kind_scale[kind - 1]
        return out

    def sensitive_weights(self) -> tuple[NDArray[np.float64], IntArray, NDArray[np.float64]]:
        """Each user's intended sensitive posts a day by weight row (rows x users), each
        sensitive kind's row and scale: kind ``k`` is ``rows[kind_row[k-1]] *
        kind_scale[k-1]`` (one row ``rate_i * stance_i / mean stance`` scaled by ``mix_k``
        without group mixes; a row per kind, scale 1, with them)."""
        weights = np.diff(self._sensitive_cumulative, axis=1, prepend=0.0)
        return weights, self.kind_row, self.kind_scale

    @property
    def sensitive_totals(self) -> NDArray[np.float64]:
        """Each sensitive kind's summed weight (its row's total): the upper end of the
        uniform targets the search of :meth:`sensitive_search` turns into authors."""
        if not self.size:
            return np.zeros(len(SENSITIVE_KINDS))
        return np.asarray(self._sensitive_cumulative[self.kind_row, -1], dtype=np.float64)

    def sensitive_search(self) -> tuple[NDArray[np.float64], NDArray[np.int64], IntArray]:
        """The users' running sensitive weights (rows x users), their bucket indices
        (rows x buckets + 1) and each sensitive kind's row: the arguments of
        :func:`simulator.kernels.numeric.search_bucketed` for sensitive authors."""
        if self._sensitive_start is None:
            # Where each 1/(users/8) of the total weight starts: a search then reads a
            # few neighbouring entries instead of ~20 scattered ones. Same answers.
            buckets = max(1, self.size // 8)
            self._sensitive_start = np.stack(
                [bucket_index(row, buckets) for row in self._sensitive_cumulative]
            )
        return self._sensitive_cumulative, self._sensitive_start, self.kind_row

    @property
    def benign_weights(self) -> NDArray[np.float64]:
        return self.benign_weight

    def reset_beliefs(self, slots: IntArray) -> None:
        """Newcomers in ``slots`` (base turnover, S14) start with the day-0 beliefs, as
        everyone did (S16: through the run's ``belief_reset``, where beliefs are kept)."""
        if len(slots) and self.belief_reset is not None:
            self.belief_reset(slots)

    # -- counts ---------------------------------------------------------------------
    def states_changed(self) -> None:
        """Mark that states, platforms or access changed (see ``state_version``)."""
        self.state_version += 1

    def count_states(self) -> dict[str, int]:
        counts = np.bincount(self.state, minlength=len(UserState))
        return {state.name.lower(): int(counts[state]) for state in UserState}

    def memory_bytes(self) -> int:
        """Bytes held by the per-user arrays and the network."""
        arrays = [v for v in vars(self).values() if isinstance(v, np.ndarray)]
        arrays += [self.network.indptr, self.network.indices]
        return int(sum(a.nbytes for a in arrays))


def _rates(
    spec: PopulationSpec,
    rng: np.random.Generator,
    groups: tuple[Group, ...] = (),
    group: IntArray | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each user's posts per day and stance over the mean stance, the first draws from
    the population stream ``rng`` (advanced). With groups: the group's posting factor
    and stance distribution, over the population's mean stance (model/groups.py)."""
    n = spec.users
    sigma = spec.posting_dispersion
    # Lognormal with mean 1, scaled to the mean rate: heavy posters and lurkers.
    spread = rng.lognormal(mean=-0.5 * sigma**2, sigma=sigma, size=n) if sigma > 0 else np.ones(n)
    rate = (spec.posts_per_day * spread).astype(np.float64)
    if not groups or group is None:
        stance = rng.beta(spec.stance.alpha, spec.stance.beta, size=n)
        # A user's sensitive shares are the average mix times stance / mean stance.
        return rate, stance / spec.stance.mean
    rate *= group_rules.factors(groups, "posts_per_day_factor")[group]
    alpha, beta = _beta_by_group(spec.stance, groups, group, "stance")
    stance = rng.beta(alpha, beta, size=n)
    return rate, stance / _population_mean(spec.stance, groups, "stance")


def _beta_by_group(
    default: Any, groups: tuple[Group, ...], group: IntArray | None, name: str
) -> tuple[Any, Any]:
    """Each user's Beta parameters of trait ``name`` (the population's where a group
    gives none); scalars without groups (the draws as before groups existed)."""
    if not groups or group is None:
        return default.alpha, default.beta
    given = [getattr(g, name) or default for g in groups]
    alpha = np.array([d.alpha for d in given], dtype=np.float64)
    beta = np.array([d.beta for d in given], dtype=np.float64)
    return alpha[group], beta[group]


def _population_mean(default: Any, groups: tuple[Group, ...], name: str) -> float:
    """The population's mean of trait ``name``: ``sum_g share_g E[trait | g]``."""
    if not groups:
        return float(default.alpha / (default.alpha + default.beta))
    given = [getattr(g, name) or default for g in groups]
    total = sum(g.share for g in groups)
    return float(sum(g.share * d.mean for g, d in zip(groups, given, strict=True)) / total)
