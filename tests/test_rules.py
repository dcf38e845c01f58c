"""Pure rule functions: no environment, exact values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from simulator import rules


def test_strictness_and_threshold_are_inverse() -> None:
    for strictness in (0.001, 0.05, 0.5, 0.9):
        threshold = rules.strictness_to_threshold(strictness)
        assert rules.threshold_to_strictness(threshold) == pytest.approx(strictness)
    assert rules.strictness_to_threshold(0.5) == pytest.approx(0.0)
    assert rules.strictness_to_threshold(0.05) == pytest.approx(norm.ppf(0.95))


def test_exceed_probability_matches_normal_tail() -> None:
    got = rules.exceed_probability([-1.0, 0.0, 2.0], threshold=0.5)
    np.testing.assert_allclose(got, norm.sf(0.5 - np.array([-1.0, 0.0, 2.0])))


def test_cost_minimising_threshold_is_the_minimum() -> None:
    mu_l, mu_p, share, c_miss, c_wrong = -1.0, 1.5, 0.2, 50.0, 1.0
    best = rules.cost_minimising_threshold(mu_l, mu_p, share, c_miss, c_wrong)

    def cost(t: float) -> float:
        return c_miss * share * norm.cdf(t - mu_p) + c_wrong * (1 - share) * norm.sf(t - mu_l)

    grid = np.linspace(-6, 6, 24001)
    assert best == pytest.approx(grid[np.argmin([cost(t) for t in grid])], abs=1e-3)
    # Dearer misses push the threshold down: more removal, lawful speech included.
    assert rules.cost_minimising_threshold(mu_l, mu_p, share, 10 * c_miss, c_wrong) < best


def test_cost_minimising_threshold_edges() -> None:
    assert rules.cost_minimising_threshold(-1, 1, 0.2, 0.0, 1.0) == math.inf
    assert rules.cost_minimising_threshold(-1, 1, 0.2, 1.0, 0.0) == -math.inf
    assert rules.cost_minimising_threshold(1, 1, 0.5, 10.0, 1.0) == -math.inf


def test_perceived_weights_follow_vagueness() -> None:
    closeness = [0.0, 0.5, 0.8, 1.0]
    prohibited = [False, False, True, True]
    np.testing.assert_allclose(rules.perceived_weights(prohibited, closeness, 0.0), [0, 0, 1, 1])
    np.testing.assert_allclose(rules.perceived_weights(prohibited, closeness, 0.5), [0, 0.25, 1, 1])
    np.testing.assert_allclose(rules.perceived_weights([False] * 4, closeness, 1.0), [0, 0, 0, 0])


def test_withholds_compares_risk_to_boldness() -> None:
    risk = np.array([0.1, 0.5, 0.9])
    boldness = np.array([0.2, 0.2, 0.95])
    assert rules.withholds(risk, 1.0, boldness).tolist() == [False, True, False]
    assert rules.withholds(risk, 0.0, boldness).tolist() == [False, False, False]


def test_update_risk_decays_and_saturates() -> None:
    decay = 0.5
    risk = np.array([0.0, 0.4, 1.0])
    np.testing.assert_allclose(rules.update_risk(risk, 0.0, decay), risk * decay)
    grown = rules.update_risk(risk, np.array([1.0, 1.0, 1.0]), decay)
    expected = risk * decay + (1 - risk * decay) * (1 - math.exp(-1.0))
    np.testing.assert_allclose(grown, expected)
    assert np.all(rules.update_risk(risk, 50.0, decay) <= 1.0)


def test_penalty_values() -> None:
    assert rules.penalty_value("fine", 5.0, 0, 100.0, 1e9, 7.0) == 5.0
    assert rules.penalty_value("suspension", 0, 30, 100.0, 1e9, 7.0) == 3000.0
    assert rules.penalty_value("revocation", 0, 0, 100.0, 1e9, 7.0) == 1e9
    assert rules.penalty_value("warning", 0, 0, 100.0, 1e9, 7.0) == 7.0
