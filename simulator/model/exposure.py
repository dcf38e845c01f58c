"""Exposure: the views a public post gets while it is up (docs/model.md S5b; the numbers
in docs/metrics.md, "Exposure").

A public post's views accrue with its author's audience and fade, as in S5a
(:mod:`simulator.model.arrivals`, the same ``V(t)`` that gets a post noticed)::

    V(t) = a · (1 − e^{−t/τ})           (τ = population.attention_hours)

so a post published at ``t_pub`` and taken down at ``t_rem`` (``inf`` if never) has been
seen, by the end of the run ``T = 24 · horizon_days``, by::

    E = a · (1 − e^{−(min(t_rem, T) − t_pub)/τ})

its **exposure**, in audiences: 1 is every follower of an author of average degree
seeing the post once. Its **potential** is what it would have had left up,
``W = a · (1 − e^{−(T − t_pub)/τ})``, and a take-down **cuts** ``W − E``. A reinstated
post regains the views still to come from the end of the day its appeal succeeded
(``a · (W/a − (1 − e^{−(t_back − t_pub)/τ}))``, ``t_back`` the day's end: the engine
books a review day at its end; ASSUMPTION, a post reinstated days later regains almost
nothing either way).

``a`` is the audience the model gives the post in S5a: ``A_i = deg_i / mean degree`` of
its author for an individually drawn public post (a sensitive kind), 1 for a benign
post (drawn in aggregate: its author is not known). Private messages reach their
recipients, not an audience: they have no exposure here.

**Totals without the untouched posts.** Most posts are never touched, so the run
stores no record of them; it knows how many were published, by day, platform, channel
and kind, and, for the individually drawn posts (sensitive kinds), who wrote each as it
is published. So each published public post of a sensitive kind adds its potential
``W = A_i (1 − e^{−(T − t_pub)/τ})`` to its cell as it is published (a held post when
approved, at the approval; a post through circumvention tools: friction's losses are a
count, so the survivors carry their share of the offshore posts' summed potential).
Benign posts are drawn in aggregate, their authors and times unknown unless touched:
they count at audience 1 (S5a's rule) and a uniform time in their day::

    W̄_d = 1 − (τ/24) · (e^{−(T − 24(d+1))/τ} − e^{−(T − 24d)/τ})
    E(cell) = Σ_{published posts of the cell} W − Σ_{removed posts of the cell} (W − E)

with ``n_published(cell) · W̄_d`` for the first sum of a benign cell (``n_published`` =
removed + surviving). Both sums are over the same posts at the same audiences, so a
cell's exposure is its own posts' views, never negative (to rounding). Counting every
published post at the mean audience 1 (as before, issue 18) set the posts removed,
whose authors are better connected (they are noticed through their views), against
the mean: cells with negative exposure, and exposure prevented overstated. Exposure
**prevented** is the counterfactual's exposure (no rules, the same random numbers)
less the run's; it splits exactly into the cuts (prevented by removal) and the
potential of posts never published (withheld, blocked, excluded: prevented before
publication).

Sources: the form and ``τ`` are S5a's (Kwak et al. 2010: half of a tweet's retweets
within an hour, so ``τ = 1/ln 2 h`` by default); Truong et al. (2025, B4) model
exposure the same way, as views of illegal posts while they are up, and find that
removal within hours cuts it sharply while delays of days do little, which this form
reproduces (docs/experiments.md, "Exposure and takedown delay").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulator.kinds import Channel, ContentKind

FloatArray = NDArray[np.float64]

HOURS_PER_DAY = 24.0


def share_seen(hours_up: ArrayLike, tau_hours: float) -> FloatArray:
    """``1 − e^{−t/τ}``: the share of its audience a post reaches in ``t`` hours up
    (0 for ``t ≤ 0``)."""
    t = np.maximum(np.asarray(hours_up, dtype=np.float64), 0.0)
    return -np.expm1(-t / tau_hours)


def post_exposure(
    published_hours: ArrayLike,
    removed_hours: ArrayLike,
    end_hours: float,
    audience: ArrayLike,
    tau_hours: float,
) -> FloatArray:
    """``E = a (1 − e^{−(min(t_rem, T) − t_pub)/τ})``: each post's views by ``T``."""
    up = np.minimum(np.asarray(removed_hours, dtype=np.float64), end_hours) - np.asarray(
        published_hours, dtype=np.float64
    )
    return np.asarray(audience, dtype=np.float64) * share_seen(up, tau_hours)


def potential_exposure(
    published_hours: ArrayLike, end_hours: float, audience: ArrayLike, tau_hours: float
) -> FloatArray:
    """``W = a (1 − e^{−(T − t_pub)/τ})``: each post's views by ``T`` if left up."""
    return post_exposure(published_hours, np.inf, end_hours, audience, tau_hours)


def cut_exposure(
    published_hours: ArrayLike,
    removed_hours: ArrayLike,
    end_hours: float,
    audience: ArrayLike,
    tau_hours: float,
) -> FloatArray:
    """``W − E``: the views a take-down at ``t_rem`` prevented."""
    return potential_exposure(published_hours, end_hours, audience, tau_hours) - post_exposure(
        published_hours, removed_hours, end_hours, audience, tau_hours
    )


def regained_exposure(
    published_hours: ArrayLike,
    back_hours: ArrayLike,
    end_hours: float,
    audience: ArrayLike,
    tau_hours: float,
) -> FloatArray:
    """``W − V(t_back − t_pub)``: the views a post reinstated at ``t_back`` still gets."""
    return cut_exposure(published_hours, back_hours, end_hours, audience, tau_hours)


def post_audience(author_audience: ArrayLike, kind: ArrayLike, channel: ArrayLike) -> FloatArray:
    """``a``: the author's ``A_i`` for a public post of a sensitive kind, 1 for a benign
    one (S5a's rule), 0 for a private message (no audience)."""
    kind = np.asarray(kind)
    channel = np.asarray(channel)
    author = np.asarray(author_audience, dtype=np.float64)
    a = np.where(kind == ContentKind.BENIGN, 1.0, author)
    return np.where(channel == Channel.PUBLIC, a, 0.0)


def day_potential(horizon_days: int, tau_hours: float) -> FloatArray:
    """``W̄_d`` for ``d = 0 .. horizon_days − 1``: the mean of ``1 − e^{−(T − t)/τ}``
    over ``t`` uniform in day ``d``."""
    end = HOURS_PER_DAY * horizon_days
    start = HOURS_PER_DAY * np.arange(horizon_days, dtype=np.float64)
    # (τ/24) (e^{−(T − start − 24)/τ} − e^{−(T − start)/τ}), as τ/24 e^{−(T−s−24)/τ}(1 − e^{−24/τ})
    fade = (
        (tau_hours / HOURS_PER_DAY)
        * np.exp(-(end - start - HOURS_PER_DAY) / tau_hours)
        * -np.expm1(-HOURS_PER_DAY / tau_hours)
    )
    return 1.0 - fade


def cell_exposure(
    published: ArrayLike,
    cut: ArrayLike,
    horizon_days: int,
    tau_hours: float,
    potential: ArrayLike | None = None,
) -> FloatArray:
    """``E(cell) = W(cell) − cut`` for cells ``[day, platform row, channel, kind]``:
    ``W(cell)`` is ``potential`` (the summed ``A_i (1 − e^{−(T − t_pub)/τ})`` of the
    cell's published posts) for the sensitive kinds and ``n_published · W̄_d`` for
    benign posts (audience 1, the time of day unknown); without ``potential``,
    ``n_published · W̄_d`` for every kind (an author of average audience). Public
    channel only: the private channel's exposure is 0."""
    published = np.asarray(published, dtype=np.float64)
    whole = (
        published
        * day_potential(horizon_days, tau_hours)[(slice(None),) + (None,) * (published.ndim - 1)]
    )
    if potential is not None:
        weighed = np.asarray(potential, dtype=np.float64)
        whole[..., ContentKind.BENIGN + 1 :] = weighed[..., ContentKind.BENIGN + 1 :]
    exposure = whole - np.asarray(cut, dtype=np.float64)
    exposure[:, :, Channel.PRIVATE] = 0.0
    return exposure
