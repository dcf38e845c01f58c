"""The penalty ladder ahead as a platform weighs it (simulator/model/platform_policy.py
``Ladder``, ``rung_costs``, ``ladder_penalty``, ``refined_threshold``; docs/model.md S8,
"The ladder ahead"): by hand, against a simulation of the regulator's ladder, and the
comparative statics of fines (issue 16 item 3). No Simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from simulator.model import platform_policy as mp

RHO = 0.1 / 365
LAMBDA = 12 / 365
#: china_csl_2016's ladder (L1 Art. 68, L3): warning, RMB 100,000, 500,000, 30 days'
#: suspension (revenue 3,000 a day), revocation (value 2e9).
CSL_VALUES = (2e5, 1e5, 5e5, 9e4, 2e9)
CSL_ABSORBING = (False, False, False, False, True)


def csl_ladder(fines: float = 1.0, level: int = 0, clean: int = 0) -> mp.Ladder:
    values = np.array(CSL_VALUES) * np.array([1.0, fines, fines, 1.0, 1.0])
    return mp.Ladder(values, CSL_ABSORBING, 3, RHO, level, clean)


def test_one_repeating_rung_is_the_expected_penalty_of_the_days_audits() -> None:
    """With one rung that repeats, the ladder ahead is ``λ P V`` a day, whatever the
    discount rate: the old first-order term."""
    violation = np.array([0.0, 0.01, 0.3, 1.0])
    for rho in (0.01 / 365, RHO, 5.0 / 365):
        got = mp.ladder_penalty(violation, mp.Ladder.one_rung(5e6, rho), LAMBDA)
        np.testing.assert_allclose(got, LAMBDA * violation * 5e6, rtol=1e-10)


def test_revocation_alone_by_hand() -> None:
    """A ladder of one absorbing rung (revocation at the first violation), one clean audit
    to step down (which stays on it): ``W = βPV / (1 − β(1 − P))``, ``β = λ/(λ + ρ)``."""
    violation = np.array([0.0, 0.001, 0.05, 1.0])
    ladder = mp.Ladder(np.array([1e9]), (True,), 1, RHO)
    beta = LAMBDA / (LAMBDA + RHO)
    expected = RHO * beta * violation * 1e9 / (1.0 - beta * (1.0 - violation))
    np.testing.assert_allclose(mp.ladder_penalty(violation, ladder, LAMBDA), expected, rtol=1e-10)
    # A hopeless policy (P = 1) loses the licence at the next audit: ρβV a day.
    assert mp.ladder_penalty(np.array([1.0]), ladder, LAMBDA)[0] == pytest.approx(RHO * beta * 1e9)


def _simulated_present_value(
    ladder: mp.Ladder, violation: float, audits: int, runs: int, rng: np.random.Generator
) -> float:
    """Mean discounted penalties of the regulator's ladder (S10: a violation applies the
    rung and moves one up, the top repeating; ``deescalate_after`` clean audits in a row
    step one down; revocation ends it), audits at exponential intervals."""
    total = 0.0
    for _ in range(runs):
        level, clean, time, paid = ladder.level, ladder.clean, 0.0, 0.0
        for _ in range(audits):
            time += rng.exponential(1.0 / LAMBDA)
            if rng.random() < violation:
                paid += math.exp(-ladder.discount_per_day * time) * ladder.values[level]
                if ladder.absorbing[level]:
                    break
                level, clean = min(level + 1, len(ladder.values) - 1), 0
            else:
                clean += 1
                if clean >= ladder.deescalate_after:
                    level, clean = max(0, level - 1), 0
        total += paid
    return total / runs


@pytest.mark.parametrize(("violation", "level", "clean"), [(0.3, 0, 0), (0.6, 2, 1), (0.1, 3, 2)])
def test_ladder_matches_a_simulation_of_the_regulator(
    violation: float, level: int, clean: int
) -> None:
    """The present value of the CSL ladder from a state, against a Monte Carlo of the
    regulator's rules over 400 audits (33 years: e^{-ρt} < 0.04 by then)."""
    ladder = csl_ladder(level=level, clean=clean)
    ladder = mp.Ladder(ladder.values / 1e6, ladder.absorbing, 3, 2.0 / 365, level, clean)
    rng = np.random.default_rng(7)
    simulated = _simulated_present_value(ladder, violation, 400, 4000, rng)
    got = mp.ladder_penalty(np.array([violation]), ladder, LAMBDA)[0] / ladder.discount_per_day
    assert got == pytest.approx(simulated, rel=0.05)


def test_giving_up_counts_the_licence_it_leads_to() -> None:
    """The old one-step look-ahead charged a hopeless policy (P = 1) at rung 0 a warning
    and one fine: ``λ (V_0 + V_1)``. The ladder ahead also charges the suspension and the
    licence that four more violations bring: far more."""
    ladder = csl_ladder()
    hopeless = mp.ladder_penalty(np.array([1.0]), ladder, LAMBDA)[0]
    old = LAMBDA * (CSL_VALUES[0] + CSL_VALUES[1])
    beta = LAMBDA / (LAMBDA + RHO)
    assert hopeless > RHO * beta**5 * CSL_VALUES[-1] > 10 * old


def test_refined_threshold_finds_the_minimum_between_grid_points() -> None:
    grid = np.linspace(-2.0, 2.0, 9)  # spacing 0.5
    assert mp.refined_threshold(grid, (grid - 0.3) ** 2, current=0.0) == pytest.approx(0.3)
    assert mp.refined_threshold(grid, (grid + 1.1) ** 2, current=0.0) == pytest.approx(-1.1)
    # At an edge of the grid, or with a flat neighbour, the grid point itself.
    assert mp.refined_threshold(grid, (grid - 5.0) ** 2, current=0.0) == 2.0
    flat = np.where(grid < 0.0, 1.0, 0.0)
    assert mp.refined_threshold(grid, flat, current=1.2) == 1.0
    assert mp.refined_threshold(grid, np.zeros(9), current=-0.7) == -0.5


def _csl_like_policy(ladder: mp.Ladder, vagueness: float = 0.0) -> float:
    """Strictness the china_csl_2016-like platform of tests/test_platform_policy.py
    chooses on ``ladder`` (a bright line unless ``vagueness``)."""
    from tests.test_platform_policy import inputs

    policy = inputs(vagueness=vagueness)
    policy = mp.PolicyInputs(**{**policy.__dict__, "ladder": ladder, "audits_per_day": LAMBDA})
    return float(ndtr(-mp.policy_threshold(policy, current=float(policy.thresholds[-1]))))


@pytest.mark.parametrize("level", [0, 1, 2])
def test_fines_raise_strictness_less_where_the_licence_dominates(level: int) -> None:
    """Fines x0, x0.5, x1, x2, x10: strictness rises with them at every rung, a lot on
    a ladder of fines alone and much less on the CSL ladder, whose suspension and
    licence dominate what the platform weighs (L3: diminishing, not nothing)."""
    factors = (0.0, 0.5, 1.0, 2.0, 10.0)
    with_licence = [_csl_like_policy(csl_ladder(f, level=level)) for f in factors]
    fines_only = [
        _csl_like_policy(mp.Ladder(np.array([2e5, 1e5 * f, 5e5 * f]), (False,) * 3, 3, RHO, level))
        for f in factors
    ]
    for seen in (with_licence, fines_only):
        assert all(b >= a - 1e-12 for a, b in zip(seen, seen[1:], strict=False)), seen
        assert seen[-1] > seen[0], seen
    assert with_licence[3] - with_licence[0] < 0.5 * (fines_only[3] - fines_only[0])


def test_a_dearer_licence_makes_a_platform_stricter() -> None:
    seen = [
        _csl_like_policy(mp.Ladder(np.array([*CSL_VALUES[:4], value]), CSL_ABSORBING, 3, RHO))
        for value in (0.0, 1e7, 1e8, 1e9, 1e10)
    ]
    assert all(b >= a - 1e-12 for a, b in zip(seen, seen[1:], strict=False)), seen
    assert seen[-1] > seen[0]


def test_a_more_patient_platform_weighs_the_licence_more() -> None:
    """A lower discount rate weighs the dearer rungs further up more: stricter."""
    seen = [
        _csl_like_policy(mp.Ladder(np.array(CSL_VALUES), CSL_ABSORBING, 3, rate / 365))
        for rate in (5.0, 1.0, 0.3, 0.1, 0.03)
    ]
    assert all(b >= a - 1e-12 for a, b in zip(seen, seen[1:], strict=False)), seen
    assert seen[-1] > seen[0]
