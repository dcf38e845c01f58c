"""When review items reach the queue: keyword sweeps, and notices and orders that
arrive as a post's reach builds (docs/model.md S5a). The readable statement in numpy;
the engine runs the compiled :mod:`simulator.kernels.arrivals`, checked against these
functions (tests/test_arrivals_statement.py). Times are hours since the run's start.

**Keyword sweeps** (filter flags). The filter re-scans published posts every
``Δ = platforms[p].sweep_interval_hours`` hours, at ``0, Δ, 2Δ, ...``; a post whose
classifier score passes the flag line is flagged at the first sweep at or after its
publication::

    t_flag = Δ · ⌈t_pub / Δ⌉            (Δ = 0: t_flag = t_pub, a real-time filter)

Zhu et al. (2013, C2) found Weibo's censors "retroactively searching posts by keyword";
the interval itself is an ASSUMPTION per scenario. No random draw.

**Reach** (user notices and the regulator's monitoring). Views of a public post accrue
with its author's audience and fade::

    V(t) = A_i · (1 − e^{−t/τ}),         A_i = deg_i / mean degree

(``τ = population.attention_hours``; A_i is the author's degree relative to the
network's mean degree, so a better-connected author is seen more). Every view notices
the post at rate ``r_k``, chosen so that an author of audience 1 is noticed with the
scenario's probability ``p_k`` (``notices.probability`` or the monitoring probability)::

    r_k = −ln(1 − p_k)
    P(noticed by t) = F(t) = 1 − exp(−r_k · V(t)),     P(ever) = 1 − exp(−r_k A_i)

A post draws one uniform ``u``; it is noticed at ``F⁻¹(u)`` (inverse-transform
sampling) if ``u < F(∞)``, never otherwise. So one number decides both whether and when,
and ``u < p_k`` for ``A_i = 1`` is the former Bernoulli draw. The timescale: half of
retweets come within an hour of the tweet (Kwak et al. 2010), so with the exponential
form ``τ = 1 / ln 2 ≈ 1.44 h`` (the form gives that median, not their long tail of a
quarter after a day). B4 (Truong et al. 2025) is why the timing matters: removal within
hours cuts a post's reach; a fixed delay knob (theirs and censim's former
``mean_delay_hours``) is what this replaces.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

ATTENTION_HOURS_FROM_RETWEETS = 1.0 / np.log(2.0)
"""τ for which half of a post's views come within one hour (Kwak et al. 2010)."""


def sweep_times(published_hours: ArrayLike, interval_hours: float) -> FloatArray:
    """``Δ ⌈t_pub / Δ⌉``: the first sweep at or after each publication (Δ = 0: itself),
    i.e. the smallest grid value ``k Δ`` (as that product rounds) not before ``t_pub``."""
    published = np.asarray(published_hours, dtype=np.float64)
    if interval_hours <= 0.0:
        return published.copy()
    steps = np.ceil(published / interval_hours)
    # The division can round across a grid point: step back or on where it did.
    back = (steps > 0) & ((steps - 1) * interval_hours >= published)
    steps = np.where(back, steps - 1, steps)
    steps = np.where(steps * interval_hours < published, steps + 1, steps)
    return steps * interval_hours


def audience(degree: ArrayLike) -> FloatArray:
    """``A_i = deg_i / mean degree`` (1 for everyone in a network without edges)."""
    degree = np.asarray(degree, dtype=np.float64)
    mean = degree.mean() if degree.size else 0.0
    return degree / mean if mean > 0 else np.ones_like(degree)


def view_rate(probability: ArrayLike) -> FloatArray:
    """``r = −ln(1 − p)``: noticing rate per view giving audience 1 probability ``p``."""
    p = np.asarray(probability, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return -np.log(1.0 - p)


def views(hours_since: ArrayLike, audience_size: ArrayLike, tau_hours: float) -> FloatArray:
    """``V(t) = A (1 − e^{−t/τ})``: views a post has had ``t`` hours after publication."""
    t = np.asarray(hours_since, dtype=np.float64)
    return np.asarray(audience_size, dtype=np.float64) * (1.0 - np.exp(-t / tau_hours))


def attention_cdf(
    hours_since: ArrayLike, rate: ArrayLike, audience_size: ArrayLike, tau_hours: float
) -> FloatArray:
    """``F(t) = 1 − exp(−r V(t))``: probability the post is noticed within ``t`` hours."""
    return 1.0 - np.exp(-np.asarray(rate) * views(hours_since, audience_size, tau_hours))


def attention_times(
    published_hours: ArrayLike,
    u: ArrayLike,
    rate: ArrayLike,
    audience_size: ArrayLike,
    tau_hours: float,
) -> FloatArray:
    """``t_pub + F⁻¹(u)`` where ``u < F(∞)``, ``inf`` elsewhere: the views needed,
    ``V = −ln(1 − u) / r``, reached at ``t = −τ ln(1 − V / A)``."""
    published = np.asarray(published_hours, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    rate = np.broadcast_to(np.asarray(rate, dtype=np.float64), u.shape)
    reach = np.broadcast_to(np.asarray(audience_size, dtype=np.float64), u.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = -np.log(1.0 - u) / rate  # views it takes to notice (0 where r is inf)
        ever = (reach > 0) & (rate > 0) & (needed < reach)
        after = -tau_hours * np.log(1.0 - needed / reach)
    return np.where(ever, published + after, np.inf)


def attention_times_given_noticed(
    published_hours: ArrayLike, u: ArrayLike, probability: ArrayLike, tau_hours: float
) -> FloatArray:
    """Times of audience-1 posts known to be noticed (probability ``p`` > 0): the same
    inverse with ``u`` scaled onto the noticed part, ``u p`` (``u`` uniform in [0, 1))."""
    p = np.asarray(probability, dtype=np.float64)
    return attention_times(published_hours, np.asarray(u) * p, view_rate(p), 1.0, tau_hours)
