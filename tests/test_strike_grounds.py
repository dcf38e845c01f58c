"""Grounds for a strike (docs/model.md S14; simulator/model/strikes.py): a take-down by a
counted route strikes only when the platform is sure enough the post broke the rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

import simulator
from simulator.kinds import N_KINDS, Action, ContentKind
from simulator.model.strikes import strike_given, violation_probability


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x)


def test_violation_probability_is_bayes_rule_on_the_days_reviewed_mix() -> None:
    # Two kinds reviewed today: 30 lawful posts scoring N(0, 1), 10 prohibited N(2, 1).
    counts = np.zeros(N_KINDS, dtype=np.int64)
    lawful, unlawful = ContentKind.CRITICAL, ContentKind.UNLAWFUL
    counts[lawful], counts[unlawful] = 30, 10
    mean = np.zeros(N_KINDS)
    mean[unlawful] = 2.0
    prohibited = np.zeros(N_KINDS, dtype=bool)
    prohibited[unlawful] = True
    scores = np.array([0.0, 1.0, 2.5, 40.0, -40.0])
    got = violation_probability(scores, counts, mean, prohibited)
    for z, p in zip(scores[:3], got[:3], strict=True):
        by_hand = 10 * _phi(z - 2.0) / (10 * _phi(z - 2.0) + 30 * _phi(z))
        assert p == pytest.approx(by_hand, rel=1e-12)
    # Far in the tails the logs keep it finite: sure above, cleared below.
    assert got[3] == pytest.approx(1.0) and got[4] == pytest.approx(0.0, abs=1e-12)
    # A day without a prohibited kind reviewed: no post can be sure to break the rule.
    counts[unlawful] = 0
    assert not violation_probability(scores, counts, mean, prohibited).any()


def test_strike_given_keeps_the_route_table_and_orders_always_strike() -> None:
    counts = np.zeros(N_KINDS, dtype=np.int64)
    counts[ContentKind.CRITICAL], counts[ContentKind.UNLAWFUL] = 30, 10
    mean = np.zeros(N_KINDS)
    mean[ContentKind.UNLAWFUL] = 2.0
    prohibited = np.zeros(N_KINDS, dtype=bool)
    prohibited[ContentKind.UNLAWFUL] = True
    counted = np.zeros(Action.COUNT, dtype=bool)
    counted[[Action.ORDER, Action.NOTICE, Action.FLAG]] = True
    route = np.array([Action.ORDER, Action.NOTICE, Action.NOTICE, Action.HOLD, Action.FLAG])
    score = np.array([-3.0, -3.0, 5.0, 5.0, 1.0])
    # c = 0: the route table alone (the rule before grounds were weighed).
    np.testing.assert_array_equal(
        strike_given(route, score, counted, 0.0, counts, mean, prohibited),
        [True, True, True, False, True],
    )
    # c = 0.9: the order strikes whatever it looks like; a low-scored notice does not; a
    # held post never (route not counted); the flag at z = 1 is at P = 0.25 < 0.9.
    np.testing.assert_array_equal(
        strike_given(route, score, counted, 0.9, counts, mean, prohibited),
        [True, False, True, False, False],
    )


def _netzdg(confidence: float, seed: int) -> dict[str, float]:
    scenario = simulator.override(
        simulator.load_scenario("germany_netzdg_2017"),
        {
            "population.users": 4000,
            "horizon_days": 60,
            "platforms.main.strike_confidence": confidence,
        },
    )
    summary = simulator.run(scenario, seed=seed).summary
    return {
        key: float(summary[key])
        for key in ("accounts_suspended", "active_share_final", "speech_loss")
    }


def test_netzdg_suspends_fewer_and_keeps_more_users_when_strikes_need_grounds() -> None:
    # Paired seeds, c = 0 (every counted take-down strikes) vs the shipped 0.9. Seen on
    # 3 seeds: suspensions 1,074-1,114 vs 425-466, users active at the end 0.962-0.964 vs
    # 0.985-0.989, speech loss 0.052-0.064 vs 0.022-0.034. Asserted per seed with wide
    # margins: half the suspensions or fewer, a point more users active, lower loss.
    for seed in (1, 2, 3):
        every, sure = _netzdg(0.0, seed), _netzdg(0.9, seed)
        assert sure["accounts_suspended"] < 0.6 * every["accounts_suspended"], (seed, every, sure)
        assert sure["active_share_final"] > every["active_share_final"] + 0.01, (seed, every, sure)
        assert sure["speech_loss"] < every["speech_loss"], (seed, every, sure)


def test_shipped_values() -> None:
    # L15 with L7 (Art. 23): NetzDG's and the DSA's platforms strike only when sure; the
    # China scenarios count every upheld complaint (L6), so 0 there.
    for name, value in (
        ("germany_netzdg_2017", 0.9),
        ("eu_dsa_2024", 0.9),
        ("china_csl_2016", 0.0),
        ("china_weibo_2012", 0.0),
    ):
        for platform in simulator.load_scenario(name).platforms:
            assert platform.strike_confidence == value, (name, platform.name)
