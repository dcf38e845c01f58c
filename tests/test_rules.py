"""Pure rule functions: no environment, exact values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from simulator.model.platforms import (
    exceed_probability,
    penalty_value,
    strictness_to_threshold,
    threshold_to_strictness,
)
from simulator.model.speech import effective_risk, perceived_weights, update_risk, withholds


def test_strictness_and_threshold_are_inverse() -> None:
    for strictness in (0.001, 0.05, 0.5, 0.9):
        threshold = strictness_to_threshold(strictness)
        assert threshold_to_strictness(threshold) == pytest.approx(strictness)
    assert strictness_to_threshold(0.5) == pytest.approx(0.0)
    assert strictness_to_threshold(0.05) == pytest.approx(norm.ppf(0.95))


def test_exceed_probability_matches_normal_tail() -> None:
    got = exceed_probability([-1.0, 0.0, 2.0], threshold=0.5)
    np.testing.assert_allclose(got, norm.sf(0.5 - np.array([-1.0, 0.0, 2.0])))


# The platform's policy (the expected penalty per audit) is tested in
# tests/test_platform_policy.py.


def test_perceived_weights_follow_vagueness() -> None:
    closeness = [0.0, 0.5, 0.8, 1.0]
    prohibited = [False, False, True, True]
    np.testing.assert_allclose(perceived_weights(prohibited, closeness, 0.0), [0, 0, 1, 1])
    np.testing.assert_allclose(perceived_weights(prohibited, closeness, 0.5), [0, 0.25, 1, 1])
    np.testing.assert_allclose(perceived_weights([False] * 4, closeness, 1.0), [0, 0, 0, 0])


def test_withholds_compares_risk_to_boldness() -> None:
    risk = np.array([0.1, 0.5, 0.9])
    boldness = np.array([0.2, 0.2, 0.95])
    assert withholds(risk, 1.0, boldness).tolist() == [False, True, False]
    assert withholds(risk, 0.0, boldness).tolist() == [False, False, False]


def test_update_risk_decays_and_saturates() -> None:
    decay = 0.5
    risk = np.array([0.0, 0.4, 1.0])
    np.testing.assert_allclose(update_risk(risk, 0.0, decay), risk * decay)
    grown = update_risk(risk, np.array([1.0, 1.0, 1.0]), decay)
    expected = risk * decay + (1 - risk * decay) * (1 - math.exp(-1.0))
    np.testing.assert_allclose(grown, expected)
    assert np.all(update_risk(risk, 50.0, decay) <= 1.0)


def test_penalty_values() -> None:
    assert penalty_value("fine", 5.0, 0, 100.0, 1e9, 7.0) == 5.0
    assert penalty_value("suspension", 0, 30, 100.0, 1e9, 7.0) == 3000.0
    assert penalty_value("revocation", 0, 0, 100.0, 1e9, 7.0) == 1e9
    assert penalty_value("warning", 0, 0, 100.0, 1e9, 7.0) == 7.0


def test_effective_risk_adds_the_real_name_risk_caps_and_rounds() -> None:
    risk = np.array([0.1, 0.1, 0.95, 0.3], dtype=np.float32)
    traceable = np.array([False, True, True, True])
    got = effective_risk(risk, traceable, 0.2)
    assert got.dtype == np.float32
    # float32(min(1, r + 0.2 t)), the sum in float64 from the float32 risk.
    r = risk.astype(np.float64)
    expected = [np.float32(r[0]), np.float32(r[1] + 0.2), np.float32(1.0), np.float32(r[3] + 0.2)]
    assert got.tolist() == [float(e) for e in expected]
    # One user's numbers (the reference): the same value.
    assert float(effective_risk(0.3, True, 0.25)) == float(np.float32(0.55))
    assert float(effective_risk(0.7, False, 0.25)) == float(np.float32(0.7))
