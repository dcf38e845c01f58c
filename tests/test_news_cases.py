"""The news reports cases, not rates (docs/model.md S16, "Why cases, not rates").

Comparative statics on paired replications: news of punishments can only raise what
users withhold, more cases in the news raise it more, and the 2013 rumour crackdown's
campaign (more monitoring, detentions and their news) raises withholding of sensitive
posts, where the old news (pseudo-posts at the realized detentions per post, about 0)
lowered it: -33.2 [-59.3, -7.2] at 2,000 users, 50 days, 8 pairs (docs/validation.md).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import simulator
from simulator.experiments.tables import t_interval

SENSITIVE = ("critical", "collective_action", "unlawful")
POLITICAL = ("critical", "collective_action")
SEEDS = (11, 12, 13, 14)
NEWS = "population.perception.news_punished_posts_per_day"


def _political_withholding(results: simulator.Results) -> float:
    """Share of intended critical and collective-action posts withheld or softened."""
    per_kind = results.summary["per_kind"]
    withheld = sum(per_kind[k]["withheld"] + per_kind[k].get("softened", 0) for k in POLITICAL)
    return withheld / sum(per_kind[k]["intended"] for k in POLITICAL)


@functools.cache
def _classroom_withholding(publicised: float, seed: int) -> float:
    """classroom (CSL at 2,000 users) for 40 days with ``publicised`` punished posts a day
    of each political kind in the news."""
    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {
            "horizon_days": 40,
            f"{NEWS}.critical": publicised,
            f"{NEWS}.collective_action": publicised,
        },
    )
    return _political_withholding(simulator.run(scenario, seed=seed))


@pytest.mark.parametrize(("lower", "higher"), [(0.0, 0.001), (0.001, 0.01)])
def test_more_punishments_in_the_news_raise_political_withholding(
    lower: float, higher: float
) -> None:
    """Lever: publicised punished posts a day 0 -> 0.001 -> 0.01 (paired seeds): political
    withholding rises at each step, the paired interval above 0."""
    differences = [
        _classroom_withholding(higher, seed) - _classroom_withholding(lower, seed)
        for seed in SEEDS
    ]
    mean, low, _, _ = t_interval(differences)
    assert mean > 0 and low > 0, differences


def test_a_weight_on_cases_that_never_happen_changes_nothing() -> None:
    """Where no user is ever detained (NetzDG: no police duties) the news' case weight
    cannot move anything: the old news' trials at rate 0 made users bolder instead."""
    base = simulator.override(
        simulator.load_scenario("germany_netzdg_2017"),
        {"population.users": 2000, "horizon_days": 20},
    )
    heavy = simulator.override(base, {"population.perception.news_case_weight": 50.0})
    light = simulator.run(base, seed=3).summary["per_kind"]
    loud = simulator.run(heavy, seed=3).summary["per_kind"]
    assert [loud[k]["withheld"] for k in SENSITIVE] == [light[k]["withheld"] for k in SENSITIVE]


def test_the_rumour_crackdown_raises_sensitive_withholding() -> None:
    """china_rumour_crackdown_2013's campaign, 2,000 users, 40 days (18 days of campaign),
    4 pairs: withheld critical, collective-action and unlawful posts summed over the days
    since the entry, each pair's total above 0 and the interval clear of 0."""
    scenario = simulator.override(
        simulator.load_scenario("china_rumour_crackdown_2013"),
        {"population.users": 2000, "horizon_days": 40},
    )
    study = simulator.event_study(
        scenario, "rumour_crackdown", reps=4, seed=1, outcome="withheld", kinds=SENSITIVE
    )
    rows = study.per_replication[study.per_replication["day"] >= study.event_day]
    totals = (rows["treated"] - rows["control"]).groupby(rows["replication"]).sum()
    mean, low, _, n = t_interval(totals.to_numpy())
    assert n == 4 and low > 0 and (totals > 0).all(), totals.tolist()
    before = study.table[study.table["days_since"] < 0]
    assert np.all(before["effect_mean"] == 0)  # paired: nothing differs before the day
