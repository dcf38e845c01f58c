"""User groups: who belongs where, how groups mix in the network, and each group's
scrutiny (docs/model.md 1.2 "Groups", S1, S5a, S11, S12). The scenario's fields are
:mod:`simulator.model.scenario.groups`.

Statements (each used by the engine as written; numpy, no loop over users):

- membership: user ``i`` is in group ``g`` with probability ``share_g``, one draw per
  user from the groups' own stream (:func:`simulator.streams.group_stream`: the
  population stream's draws are the same with groups or without; :func:`assign_groups`); a slot
  renewed by turnover keeps its group (newcomers come in the same proportions, S14);
- traits: rate ``posts_per_day * f_g * spread_i``; stance ``s_i ~ Beta(group's)``,
  the sensitive shares ``mix_{g,k} * s_i / s_bar`` with ``s_bar = sum_g share_g E[s | g]``
  the population's mean stance and ``mix_{g,k}`` the group's own sensitive mix or the
  population's (:func:`sensitive_mixes`); boldness ``~ Beta(group's)``, value over the
  population's mean boldness (S3);
- network mixing (:func:`mixed_ends`): of the ``users * mean_degree / 2`` edges, edge
  ``e`` from ``a_e`` (uniform) goes, with probability ``h_g`` (the homophily of
  ``a_e``'s group ``g``), to a uniform member of ``g``, else to a uniform member of a
  group drawn with weights ``q_j = s_j (1 - h_j) / (1 - sum_k s_k h_k)``, which keeps
  every group's expected degree at the population's (McPherson et al. 2001, B12:
  homophily in ties by region, profession, ethnicity);
- scrutiny: factors on the national rates (:func:`order_audience`,
  :func:`report_probability`, :func:`detention_table`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from simulator.kinds import N_KINDS, SENSITIVE_KINDS
from simulator.model.scenario.groups import Group

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def assign_groups(groups: Sequence[Group], users: int, rng: np.random.Generator) -> IntArray:
    """Each user's group index, drawn by share (one draw per user from ``rng``)."""
    shares = np.array([g.share for g in groups], dtype=np.float64)
    return rng.choice(len(groups), size=users, p=shares / shares.sum()).astype(np.int64)


def mixed_ends(
    a: NDArray[np.integer],
    b: NDArray[np.integer],
    group: IntArray,
    homophily: FloatArray,
    rng: np.random.Generator,
) -> NDArray[np.integer]:
    """The far ends of edges drawn from ``a`` (uniform users): where a uniform is below
    ``h_g = homophily[group[a]]``, a uniform member of ``a``'s group; elsewhere a
    uniform member of group ``j`` drawn with probability
    ``q_j = s_j (1 - h_j) / (1 - sum_k s_k h_k)`` (``s`` the groups' shares of the
    users), so each group receives as many edge ends as its share, ``h_g s_g + q_g (1 -
    sum s h) = s_g``, and a member's expected degree is the population's whatever the
    groups' homophily. Three uniforms per edge; ``b`` gives only the dtype (its draws
    keep the stream as it was)."""
    n_groups = len(homophily)
    members = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    shares = sizes / sizes.sum()
    rest = 1.0 - float((shares * homophily).sum())
    q = shares * (1.0 - homophily) / rest if rest > 1e-12 else shares
    g = group[a]
    inside = rng.random(len(a)) < homophily[g]
    other = np.searchsorted(np.cumsum(q), rng.random(len(a)) * q.sum(), side="right")
    target = np.where(inside, g, np.minimum(other, n_groups - 1))
    pick = rng.random(len(a))
    size = sizes[target]
    chosen = members[starts[target] + np.minimum((pick * size).astype(np.int64), size - 1)]
    return chosen.astype(b.dtype)


def order_audience(audience: FloatArray, group: IntArray, monitoring: FloatArray) -> FloatArray:
    """``A_i f_g``: each author's audience as the regulator's monitors see it, the
    group's monitoring factor times the audience (S5a: ``P(ordered) = 1 - (1 - m)^(A f)``)."""
    return audience * monitoring[group]


def report_probability(
    probability: float | FloatArray, group: IntArray, reporting: FloatArray
) -> FloatArray:
    """``min(1, p f_g)``: the chance each removal (by its author's group) is reported."""
    return np.minimum(1.0, probability * reporting[group])


def detention_table(detention: Sequence[float], factors: FloatArray) -> FloatArray:
    """``min(1, d_k f_g)`` flattened group-major: entry ``g * N_KINDS + k`` (the police's
    line reads a report's group and kind as one index, ``g * N_KINDS + k``)."""
    table = np.minimum(1.0, np.outer(factors, np.asarray(detention, dtype=np.float64)))
    assert table.shape[1] == N_KINDS
    return table.reshape(-1)


def factors(groups: Sequence[Group], name: str) -> FloatArray:
    """The groups' ``name`` factor (``monitoring``, ``reporting``, ``detention``,
    ``homophily``, ``posts_per_day_factor``), in group order."""
    return np.array([float(getattr(g, name)) for g in groups], dtype=np.float64)


def sensitive_mixes(groups: Sequence[Group], mix: FloatArray) -> FloatArray | None:
    """Each group's mix of kinds (groups x kinds: its own ``sensitive_mix`` or the
    population's ``mix``, benign the rest), or None if no group has its own (the
    population's mix for everyone: the draws of a run without group mixes)."""
    if not any(g.sensitive_mix is not None for g in groups):
        return None
    table = np.tile(np.asarray(mix, dtype=np.float64), (len(groups), 1))
    for index, group in enumerate(groups):
        own = group.sensitive_mix
        if own is not None:
            for kind in SENSITIVE_KINDS:
                table[index, kind] = getattr(own, kind.label)
            table[index, 0] = 1.0 - table[index, 1:].sum()
    return table
