"""Arrival times of review items (docs/model.md S5a): keyword sweeps put flags on the
sweep grid, and the attention time of a post has the distribution its equation states.
The compiled scalar functions (simulator/kernels/arrivals.py) are checked against the
numpy statement (simulator/model/arrivals.py), and both against the CDF."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator.kernels import arrivals as kernels
from simulator.model import arrivals as statement

TAU = statement.ATTENTION_HOURS_FROM_RETWEETS


def _kernel_times(published, u, rate, audience, tau):
    return np.array(
        [
            kernels.attention_time(float(t), float(x), float(r), float(a), tau)
            for t, x, r, a in np.broadcast(published, u, rate, audience)
        ]
    )


@pytest.mark.parametrize("interval", [0.25, 1.0 / 3.0, 0.1, 5.0, 24.0])
def test_sweeps_put_flags_on_the_grid(interval: float) -> None:
    rng = np.random.default_rng(16)
    published = np.concatenate([rng.uniform(0, 24 * 400, 20_000), interval * np.arange(50)])
    flagged = statement.sweep_times(published, interval)
    steps = flagged / interval
    assert np.all(np.abs(steps - np.round(steps)) < 1e-6)  # on the grid 0, Δ, 2Δ, ...
    assert np.all(flagged >= published)  # never before publication
    assert np.all(flagged - published < interval)  # at the first sweep after it
    # A post published on a sweep is flagged by that sweep.
    on_grid = interval * np.arange(50)
    assert np.array_equal(statement.sweep_times(on_grid, interval), on_grid)
    compiled = np.array([kernels.sweep_time(float(t), interval) for t in published])
    assert np.array_equal(compiled, flagged)
    # Delays spread evenly over the interval (posts arrive at any time).
    delays = (flagged - published)[:20_000] / interval
    assert stats.kstest(delays, "uniform").pvalue > 1e-3


def test_real_time_filter_flags_at_publication() -> None:
    published = np.array([0.0, 0.3, 17.123456, 8759.9])
    assert np.array_equal(statement.sweep_times(published, 0.0), published)
    assert [kernels.sweep_time(float(t), 0.0) for t in published] == list(published)


def test_view_rate_gives_audience_one_the_scenario_probability() -> None:
    for p in (0.0002, 0.01, 0.15, 0.5, 0.99):
        rate = kernels.view_rate(p)
        assert rate == pytest.approx(statement.view_rate(p), rel=1e-12)
        assert 1.0 - math.exp(-rate) == pytest.approx(p, rel=1e-12)
        # One uniform decides it: u < p, as the former Bernoulli draw.
        u = np.linspace(0.0, 1.0, 2001, endpoint=False)
        decided = np.array([kernels.noticed(float(x), rate, 1.0) for x in u])
        away = np.abs(u - p) > 1e-9
        assert np.array_equal(decided[away], (u < p)[away])
    assert kernels.view_rate(1.0) == math.inf
    assert kernels.view_rate(0.0) == 0.0


def test_audience_is_degree_over_mean_degree() -> None:
    assert np.allclose(statement.audience([0, 5, 10, 25]), [0.0, 0.5, 1.0, 2.5])
    assert np.array_equal(statement.audience([0, 0, 0]), np.ones(3))


@pytest.mark.parametrize(("probability", "audience"), [(0.05, 1.0), (0.3, 1.7), (0.15, 0.4)])
def test_attention_time_matches_its_distribution(probability: float, audience: float) -> None:
    """10⁵ posts: the noticed share is 1 − exp(−r A), and the times of the noticed ones
    follow F(t) / F(∞) (Kolmogorov-Smirnov); the kernel gives the statement's times."""
    n = 100_000
    rng = np.random.default_rng(2016)
    u = rng.random(n)
    published = rng.uniform(0.0, 24.0 * 30, n)
    rate = statement.view_rate(probability)
    times = statement.attention_times(published, u, rate, audience, TAU)
    compiled = _kernel_times(published, u, rate, audience, TAU)
    assert np.array_equal(np.isinf(compiled), np.isinf(times))
    finite = np.isfinite(times)
    assert np.allclose(compiled[finite], times[finite], rtol=1e-12, atol=1e-9)

    ever = 1.0 - math.exp(-rate * audience)
    share = finite.mean()
    assert abs(share - ever) < 4.0 * math.sqrt(ever * (1 - ever) / n)
    delays = times[finite] - published[finite]
    assert delays.min() >= 0.0

    def conditional_cdf(t: np.ndarray) -> np.ndarray:
        return statement.attention_cdf(t, rate, audience, TAU) / ever

    assert stats.kstest(delays, conditional_cdf).pvalue > 1e-3
    # The CDF itself, at fixed marks (not just the shape KS tests): F(τ) = 1 − e^{−rA(1−1/e)}.
    at_tau = (1.0 - math.exp(-rate * audience * (1.0 - math.exp(-1.0)))) / ever
    assert abs((delays <= TAU).mean() - at_tau) < 0.01


def test_more_audience_is_noticed_more_and_sooner() -> None:
    rng = np.random.default_rng(7)
    u = rng.random(50_000)
    rate = statement.view_rate(0.1)
    small = statement.attention_times(0.0, u, rate, 0.5, TAU)
    large = statement.attention_times(0.0, u, rate, 2.0, TAU)
    assert np.isfinite(large).sum() > np.isfinite(small).sum()
    # Same uniform, larger audience: noticed whenever the small one is, never later.
    both = np.isfinite(small)
    assert np.all(np.isfinite(large[both]))
    assert np.all(large[both] <= small[both])
    assert np.all(np.isinf(statement.attention_times(0.0, u, rate, 0.0, TAU)))
    assert kernels.attention_time(3.0, 0.5, rate, 0.0, TAU) == math.inf


def test_attention_given_noticed_matches_its_distribution() -> None:
    """The benign path: audience 1, known to be noticed, one uniform for the time."""
    n = 100_000
    rng = np.random.default_rng(11)
    u = rng.random(n)
    for probability in (0.0002, 0.15, 1.0):
        times = statement.attention_times_given_noticed(0.0, u, probability, TAU)
        compiled = np.array(
            [kernels.attention_time_given_noticed(0.0, float(x), probability, TAU) for x in u]
        )
        assert np.all(np.isfinite(times)) and np.all(np.isfinite(compiled))
        # (far in the tail 1 − V/A cancels: the two forms agree to ~1e-9 relative)
        assert np.allclose(compiled, times, rtol=1e-6, atol=1e-9)
        if probability == 1.0:
            assert np.all(times == 0.0)  # noticed at once: infinite rate
            continue
        rate = statement.view_rate(probability)

        def given(t: np.ndarray, rate: float = rate, p: float = probability) -> np.ndarray:
            return statement.attention_cdf(t, rate, 1.0, TAU) / p

        assert stats.kstest(times, given).pvalue > 1e-3
