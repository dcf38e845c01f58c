"""Groups that write their own mix of kinds (docs/model.md S1, "Groups"): a member's share
of sensitive kind k is the group's mix_k times stance over the mean stance, and the
authors of each kind are drawn from that kind's own weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import simulator
from simulator.engine.simulation import Simulation
from simulator.errors import ScenarioError
from simulator.kernels import speech
from simulator.kinds import Channel, ContentKind, Outcome
from simulator.model.population import Users
from simulator.streams import Streams, group_stream

TALKERS = {"critical": 0.10, "collective_action": 0.02, "unlawful": 0.0}
OFFENDERS = {"critical": 0.0, "collective_action": 0.0, "unlawful": 0.30}


def _grouped(name: str = "open_baseline", **changes: Any) -> simulator.Scenario:
    groups = [
        {"name": "talkers", "share": 0.9, "sensitive_mix": TALKERS},
        {"name": "offenders", "share": 0.1, "sensitive_mix": OFFENDERS},
    ]
    scenario = simulator.validate_scenario(
        {**simulator.load_scenario(name).to_dict(), "groups": groups}
    )
    return simulator.override(scenario, {"population.users": 4000, **changes})


def test_each_kinds_authors_come_from_the_groups_that_write_it() -> None:
    scenario = _grouped()
    users = Users(
        scenario.population,
        [p.market_share for p in scenario.platforms],
        Streams.from_seed(7).population,
        groups=scenario.groups,
        group_rng=group_stream(7),
    )
    assert users.group is not None
    offender = users.group == 1
    # The expected daily posts of each kind: the members' rate x stance factor x their mix.
    base = users.rate * users.stance_factor  # the traits drawn again
    rates = users.daily_rate_by_kind()
    for kind, label in ((ContentKind.CRITICAL, "critical"), (ContentKind.UNLAWFUL, "unlawful")):
        mix = np.where(offender, OFFENDERS[label], TALKERS[label])
        assert rates[kind] == pytest.approx(float((base * mix).sum()), rel=1e-9)
    # Draw 30 days of speech: every unlawful post is an offender's, every critical one a
    # talker's; calls to act only from talkers.
    cumulative, start, rows = users.sensitive_search()
    rng = np.random.default_rng(3)
    daily = np.outer([0.7, 0.3], rates)
    authored: dict[int, list[np.ndarray]] = {k: [] for k in (1, 2, 3)}
    for day in range(30):
        counts, authors, _, offsets, _, _ = speech.speak(
            rng, daily, 24.0 * day, cumulative, start, rows, users.size, users.value, 0.3
        )
        for pair in range(len(offsets) - 1):
            kind = pair % 3 + 1
            authored[kind].append(authors[offsets[pair] : offsets[pair + 1]])
    unlawful = np.concatenate(authored[ContentKind.UNLAWFUL])
    critical = np.concatenate(authored[ContentKind.CRITICAL])
    calls = np.concatenate(authored[ContentKind.COLLECTIVE_ACTION])
    assert len(unlawful) > 1000 and len(critical) > 1000 and len(calls) > 100
    assert offender[unlawful].all()
    assert not offender[critical].any() and not offender[calls].any()
    # Within the offenders, authorship follows rate x stance: the heaviest tenth of them
    # by weight write far more than a tenth of the unlawful posts.
    share = np.bincount(unlawful, minlength=users.size)[offender] / len(unlawful)
    heavy = base[offender] >= np.quantile(base[offender], 0.9)
    assert share[heavy].sum() > 0.25


def test_without_a_group_mix_every_kind_shares_one_weight_row() -> None:
    scenario = simulator.load_scenario("china_regional_scrutiny")
    users = Users(
        simulator.override(scenario, {"population.users": 2000}).population,
        [p.market_share for p in scenario.platforms],
        Streams.from_seed(1).population,
        groups=scenario.groups,
        group_rng=group_stream(1),
    )
    weights, kind_row, scale = users.sensitive_weights()
    assert weights.shape == (1, 2000)
    np.testing.assert_array_equal(kind_row, [0, 0, 0])
    np.testing.assert_array_equal(scale, users.mix[1:])


def test_offenders_carry_the_strikes_under_netzdg() -> None:
    """A tenth of the users writing every unlawful post: NetzDG's suspensions fall on
    them (lawful posts removed near the line rarely strike, S14), and the excluded posts
    by reason still add up in every cell."""
    scenario = _grouped("germany_netzdg_2017", horizon_days=60)
    sim = Simulation(scenario, seed=4)
    rec = sim.run()
    np.testing.assert_array_equal(
        rec.excluded_by_reason.sum(axis=-1), rec.counts[..., Outcome.EXCLUDED]
    )
    events = simulator.run(scenario, seed=4).table("events")
    suspended = events.loc[events["event"] == "account_suspended", "user"].to_numpy()
    assert len(suspended) > 50
    group = sim.users.group
    assert group is not None
    assert np.mean(group[suspended] == 1) > 0.9
    # Their posts are excluded while they are suspended: unlawful ones among them.
    excluded = rec.counts[..., Outcome.EXCLUDED]
    assert excluded[:, :, Channel.PUBLIC, ContentKind.UNLAWFUL].sum() > 0


def test_the_climate_expects_each_kind_from_the_friends_who_write_it() -> None:
    scenario = _grouped("germany_netzdg_2017", horizon_days=1)
    sim = Simulation(scenario, seed=2)
    beliefs = sim.minds.beliefs
    weights, kind_row, scale = sim.users.sensitive_weights()
    network = sim.users.network
    public = (1.0 - scenario.population.private_share) * weights
    for user in (0, 1, 2, 3):
        friends = network.indices[network.indptr[user] : network.indptr[user + 1]]
        for k in range(3):
            expected = public[kind_row[k], friends].sum() * scale[k]
            # friend_sums adds in float32 (the engine's belief rows): 1e-6.
            assert beliefs.climate_kind[user, k] == pytest.approx(expected, rel=1e-6)


def test_a_group_mix_too_large_is_refused_naming_the_group() -> None:
    base = simulator.load_scenario("open_baseline").to_dict()
    too_much = {"critical": 0.3, "collective_action": 0.1, "unlawful": 0.2}  # 0.6 > 0.5
    groups = [
        {"name": "a", "share": 0.5, "sensitive_mix": too_much},
        {"name": "b", "share": 0.5},
    ]
    with pytest.raises(ScenarioError, match=r"groups\.0\.sensitive_mix.*at most.*0\.6"):
        simulator.validate_scenario({**base, "groups": groups})
