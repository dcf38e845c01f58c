"""Issue 18 item 1: political speech, the take-down rate of lawful posts and speech loss by
mechanism (docs/metrics.md, "Political speech" and "Loss by mechanism"), checked against
the tables of real runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simulator.output.metrics import MECHANISMS, loss_counts, loss_shares
from simulator.output.results import Results
from tests.conftest import run_reduced

POLITICAL = ["critical", "collective_action"]
LOSSES = ["withheld", "excluded", "blocked", "removed"]


@pytest.fixture(scope="module", params=["china_csl_2016", "germany_netzdg_2017"])
def paired(request: pytest.FixtureRequest) -> Results:
    return run_reduced(request.param, users=2000, days=30, seed=3)


def _totals(table: pd.DataFrame, kinds: list[str]) -> pd.Series:
    return table[table["kind"].isin(kinds)][
        ["intended", "withheld", "softened", "excluded", "blocked", "removed", "surviving"]
    ].sum()


def test_mechanisms_add_up_to_speech_loss(paired: Results) -> None:
    s = paired.summary
    parts = s["speech_loss_by_mechanism"]
    assert list(parts) == list(MECHANISMS)
    assert math.fsum(parts.values()) == pytest.approx(s["speech_loss"], abs=1e-12)
    political = s["political_speech_by_mechanism"]
    assert math.fsum(political.values()) == pytest.approx(s["political_speech_net_loss"], abs=1e-12)
    for label, row in s["per_kind"].items():
        total = math.fsum(row["loss_by_mechanism"].values())
        assert total == pytest.approx(row["speech_loss"], abs=1e-12), label
    # Something is lost to more than one mechanism, so the test has something to add.
    assert sum(1 for value in parts.values() if value) >= 2


def test_political_speech_from_the_tables(paired: Results) -> None:
    s = paired.summary
    rules, cf = _totals(paired.daily, POLITICAL), _totals(paired.counterfactual_daily, POLITICAL)
    base = cf["surviving"]
    assert base == s["counterfactual_political_surviving"] > 0
    lost = sum(rules[m] - cf[m] for m in LOSSES)  # softened calls to act stay political
    assert s["political_speech_lost"] == pytest.approx(lost / base, rel=1e-12)
    assert s["political_speech_withheld"] == pytest.approx(rules["withheld"] / base, rel=1e-12)
    assert s["political_speech_excluded"] == pytest.approx(rules["excluded"] / base, rel=1e-12)
    down = rules["blocked"] + rules["removed"]
    assert s["political_speech_taken_down"] == pytest.approx(down / base, rel=1e-12)
    assert s["political_speech_lost"] == pytest.approx(
        s["political_speech_withheld"]
        + s["political_speech_excluded"]
        + s["political_speech_taken_down"],
        rel=1e-12,
    )
    # Unlawful posts said as criticism are the only political speech the rules add.
    unlawful = paired.daily.loc[paired.daily["kind"] == "unlawful", "softened"].sum()
    assert s["political_speech_added"] == pytest.approx(unlawful / base, rel=1e-12)
    assert s["political_speech_net_loss"] == pytest.approx(1 - rules["surviving"] / base, rel=1e-12)
    assert s["political_speech_net_loss"] == pytest.approx(
        s["political_speech_lost"] - s["political_speech_added"], abs=1e-12
    )


def test_lawful_takedown_rate_from_the_tables(paired: Results) -> None:
    s = paired.summary
    daily = paired.daily
    on_platforms = daily[(daily["platform"] != "circumvention") & daily["lawful"]]
    down = on_platforms["blocked"].sum() + on_platforms["removed"].sum()
    published = down + on_platforms["surviving"].sum()
    assert down == s["lawful_taken_down"] > 0
    assert s["lawful_takedown_rate"] == pytest.approx(down / published, rel=1e-12)
    # The composition share is a different number (lawful among takedowns).
    assert s["collateral_share"] == pytest.approx(down / s["taken_down"], rel=1e-12)


def test_csl_political_speech_headline_is_not_diluted() -> None:
    """The issue's complaint: benign posts, which are never withheld, fill the denominator
    of the chilling effect and speech loss. Political speech lost is many times both."""
    s = run_reduced("china_csl_2016", users=2000, days=30, seed=3).summary
    assert s["political_speech_lost"] > 10 * s["chilling_effect"]
    assert s["political_speech_lost"] > 2 * s["speech_loss"]
    assert s["political_speech_withheld"] > 10 * s["chilling_effect"]


def test_softened_calls_to_act_are_political_speech_said_as_criticism() -> None:
    """Hand-made counts: 10 calls to act softened into criticism and 4 unlawful posts too.
    For collective action the 10 are lost; for political speech they are not (said as
    criticism), and the 4 are added; every group's parts add up to its net loss."""
    by_kind = np.zeros((4, 6), dtype=np.int64)  # [kind, outcome]
    cf = np.zeros((4, 6), dtype=np.int64)
    # outcomes: withheld, excluded, blocked, removed, surviving, softened (kinds.Outcome)
    cf[:, 4] = [100, 50, 20, 8]
    by_kind[0] = [0, 0, 0, 0, 100, 0]
    by_kind[1] = [5, 1, 0, 2, 50 - 8 + 14, 0]  # 14 softened in, 5+1+2 lost
    by_kind[2] = [3, 0, 1, 1, 5, 10]
    by_kind[3] = [0, 0, 0, 2, 2, 4]
    collective = loss_counts(by_kind, cf, (2,))
    assert collective["softened"] == 10 and collective["net"] == 15
    political = loss_counts(by_kind, cf, (1, 2))
    assert political["softened"] == 0 and political["softened_in"] == -4
    assert political["net"] == 70 - 61 == sum(political[m] for m in MECHANISMS)
    shares = loss_shares(political)
    assert shares["lost"] == pytest.approx(13 / 70)
    assert shares["net"] == pytest.approx(9 / 70)
