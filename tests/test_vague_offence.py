"""Detentions under vague offences (docs/model.md S11, simulator/model/vague_offence.py):
the offence line, who is reported, the law users read, and the reference's restatement."""

from __future__ import annotations

import numpy as np
import pytest

import simulator
from simulator.kinds import ContentKind
from simulator.model import speech as um
from simulator.model.scenario import override
from simulator.model.speech_state import law_table
from simulator.model.vague_offence import offence_line, report_chance, scenario_offence_line
from simulator.reference import minds

CRITICAL, ACT, UNLAWFUL = (
    int(ContentKind.CRITICAL),
    int(ContentKind.COLLECTIVE_ACTION),
    int(ContentKind.UNLAWFUL),
)
SHIPPED = ("china_csl_2016", "china_weibo_2012", "germany_netzdg_2017", "eu_dsa_2024", "classroom")


def test_offence_line_by_hand() -> None:
    """1 for a prohibited kind; ``q_k`` for a lawful kind the police detain for; 0 for a
    lawful kind no offence reaches and for benign posts."""
    prohibited = [False, False, True, True]
    q = [0.0, 0.3, 1.0, 1.0]
    line = offence_line(prohibited, q, [0.0, 0.05, 0.2, 0.0])
    assert line.tolist() == [0.0, 0.3, 1.0, 1.0]
    # No detention for criticism: no offence reaches it, however vague the line.
    assert offence_line(prohibited, q, [0.0, 0.0, 0.2, 0.3]).tolist() == [0.0, 0.0, 1.0, 1.0]
    # A sharp line: the prohibition mask.
    sharp = offence_line(prohibited, [0.0, 0.0, 1.0, 1.0], [0.5, 0.5, 0.5, 0.5])
    assert sharp.tolist() == [0.0, 0.0, 1.0, 1.0]
    assert report_chance(0.5, line).tolist() == [0.0, 0.15, 0.5, 0.5]


def test_the_csl_offence_line_reaches_criticism_with_vagueness() -> None:
    """china_csl_2016: vagueness 0.6 x closeness 0.5 = 0.3 for criticism, the offence
    line's value and the law table's detention entry; at vagueness 0 neither."""
    scenario = simulator.load_scenario("china_csl_2016")
    line = scenario_offence_line(scenario)
    assert line[CRITICAL] == pytest.approx(0.3)
    assert line[ACT] == 1.0 and line[UNLAWFUL] == 1.0 and line[0] == 0.0
    assert law_table(scenario)[0, CRITICAL, um.DETENTION] == 1.0
    sharp = override(scenario, {"rules.takedown.vagueness": 0.0})
    assert scenario_offence_line(sharp)[CRITICAL] == 0.0
    assert law_table(sharp)[0, CRITICAL, um.DETENTION] == 0.0
    assert law_table(sharp)[0, ACT, um.DETENTION] == 1.0


@pytest.mark.parametrize("name", SHIPPED)
def test_the_reference_restates_the_offence_line(name: str) -> None:
    """``reference.minds.offence`` (per kind, in plain Python) equals the statement."""
    scenario = simulator.load_scenario(name)
    line = scenario_offence_line(scenario)
    for kind in ContentKind:
        assert minds.offence(scenario, int(kind)) == pytest.approx(line[int(kind)])


def _reports(changes: dict[str, object]) -> dict[str, int]:
    scenario = override(
        simulator.load_scenario("china_csl_2016"),
        {"population.users": 3000, "police.investigators_per_100k_users": 100, **changes},
    )
    results = simulator.run(scenario, seed=5, days=40, parallel=False)
    per_kind = results.summary["per_kind"]
    return {k: int(per_kind[k]["reports"]) for k in ("critical", "collective_action")} | {
        "critical_removed": int(per_kind["critical"]["removed"])
    }


def test_removed_criticism_is_reported_only_under_a_vague_offence() -> None:
    """china_csl_2016 reports removed critical posts (about ``0.5 x 0.3`` of the
    platforms' own removals of them); with a sharp line (vagueness 0) or without
    detention for criticism, none. Before detentions under vague offences (S11) no
    critical post was ever reported."""
    vague = _reports({})
    assert vague["critical"] > 0
    assert vague["critical"] < 0.5 * vague["critical_removed"]
    assert _reports({"rules.takedown.vagueness": 0.0})["critical"] == 0
    no_detention = {
        "police.detention_probability": {
            "critical": 0.0, "collective_action": 0.2, "unlawful": 0.3,
        }
    }  # fmt: skip
    assert _reports(no_detention)["critical"] == 0


def test_report_draws_are_those_of_prohibited_posts_when_the_line_is_sharp() -> None:
    """With ``o_k`` the prohibition mask, one draw per prohibited removal compared with
    ``r_p x 1 = r_p``: the old rule's draws and reports exactly."""
    rng_old, rng_new = np.random.default_rng(9), np.random.default_rng(9)
    kinds = np.array([0, 1, 2, 3, 2, 1, 3, 0, 2] * 50)
    mask = np.array([False, False, True, True])
    old = np.flatnonzero(mask[kinds])
    old = old[rng_old.random(len(old)) < 0.4]
    line = offence_line(mask, [0.0, 0.0, 1.0, 1.0], [0.0, 0.05, 0.2, 0.3])
    candidates = np.flatnonzero(line[kinds] > 0.0)
    new = candidates[rng_new.random(len(candidates)) < report_chance(0.4, line)[kinds[candidates]]]
    assert np.array_equal(old, new)
    assert rng_old.random() == rng_new.random()
