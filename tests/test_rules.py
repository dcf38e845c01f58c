"""Pure rule functions: no environment, exact values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from simulator.model import speech
from simulator.model.platforms import (
    exceed_probability,
    penalty_value,
    strictness_to_threshold,
    threshold_to_strictness,
)


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


def test_detention_cost_is_concave_in_days() -> None:
    """c ln(1 + D / d0): 7 days at d0 = 7 cost c ln 2; doubling the days less than doubles it."""
    assert float(speech.detention_cost(7.0, 2.0, 7.0)) == pytest.approx(2.0 * math.log(2.0))
    costs = speech.detention_cost(np.array([15.0, 30.0, 60.0]), 1.0, 7.0)
    assert costs[1] < 2 * costs[0] and costs[2] < 2 * costs[1]


def test_removal_cost_carries_the_account_share() -> None:
    """c_rm + V / max(1, K - strikes): the last strike before closure costs the account."""
    got = speech.removal_cost(np.array([0, 3, 4, 9]), 5, 0.05, 2.0)
    np.testing.assert_allclose(got, [0.05 + 2 / 5, 0.05 + 2 / 2, 0.05 + 2.0, 0.05 + 2.0])


def test_post_choice_breaks_ties_towards_speaking() -> None:
    """Value 1, intensities (1, 0.4): cost 0.6 ties posting with softening (free) and
    posts; cost 1 ties posting with silence and posts; criticism at cost 0.4 posts."""
    assert speech.post_choice(1.0, (1.0, 0.4), 0.6, 0.0).tolist() == speech.POST
    assert speech.post_choice(1.0, (1.0, 0.4), 0.61, 0.0).tolist() == speech.SOFTEN
    assert speech.post_choice(1.0, (1.0, 0.4), 1.0, 0.4).tolist() == speech.POST
    assert speech.post_choice(1.0, (1.0, 0.4), 1.01, 0.41).tolist() == speech.WITHHOLD
    assert speech.post_choice(1.0, (0.4, 0.0), 0.4, 0.0, can_soften=False).tolist() == 0


def test_penalty_values() -> None:
    assert penalty_value("fine", 5.0, 0, 100.0, 1e9, 7.0) == 5.0
    assert penalty_value("suspension", 0, 30, 100.0, 1e9, 7.0) == 3000.0
    assert penalty_value("revocation", 0, 0, 100.0, 1e9, 7.0) == 1e9
    assert penalty_value("warning", 0, 0, 100.0, 1e9, 7.0) == 7.0
