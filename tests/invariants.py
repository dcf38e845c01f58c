"""What every run must satisfy, whatever the scenario (used by the reliability tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from simulator.engine.review import ReviewDay
from simulator.kinds import ContentKind, Outcome
from simulator.output.recorder import Recorder
from simulator.output.results import Results

OUTCOMES = ["withheld", "excluded", "blocked", "removed", "surviving", "softened"]
COUNTS = ["intended", *OUTCOMES]


def assert_conserved(intended: np.ndarray, counts: np.ndarray) -> None:
    """Every intended post has exactly one outcome, a softened one a second as criticism:
    ``intended[k] = sum of outcomes[k]`` for every kind but criticism, and
    ``intended[critical] + softened[collective_action] + softened[unlawful] = sum of
    outcomes[critical]``, cell by cell (the leading axes; kinds then outcomes last)."""
    expected = intended.astype(np.int64).copy()
    softened = counts[..., int(Outcome.SOFTENED)]
    expected[..., int(ContentKind.CRITICAL)] += softened.sum(axis=-1)
    np.testing.assert_array_equal(counts.sum(axis=-1), expected)
    assert (softened[..., int(ContentKind.CRITICAL)] == 0).all()


def check_invariants(results: Results) -> None:
    """Assert the accounting and ordering invariants of a paired run (docs/reliability.md)."""
    summary = results.summary
    days = int(summary["horizon_days"])
    for name in ("daily", "counterfactual_daily"):
        table = results.table(name)
        assert len(table) > 0, name
        values = table[COUNTS].to_numpy(dtype=np.int64)
        assert (values >= 0).all(), f"{name}: negative counts"
        # Conservation, row by row: every intended post has exactly one outcome; a
        # softened post a second one, as criticism in the same day, platform, channel.
        gap = values[:, 0] - values[:, 1:].sum(axis=1)
        critical = (table["kind"] == "critical").to_numpy()
        keys = ["day", "platform", "channel"]
        softened_in = table.groupby(keys, sort=False)["softened"].transform("sum").to_numpy()
        gap[critical] += softened_in[critical]
        assert (gap == 0).all(), (
            f"{name}: intended != sum of outcomes in {int((gap != 0).sum())} rows"
        )
        assert set(table["day"].unique()) <= set(range(days)), name
    # Common random numbers: the no-rules run intends exactly the same posts.
    keys = ["day", "channel", "kind"]
    rules = results.daily.groupby(keys)["intended"].sum()
    counterfactual = results.counterfactual_daily.groupby(keys)["intended"].sum()
    assert rules.equals(counterfactual), "counterfactual intends other posts"
    # The counterfactual has no rules: nothing withheld, softened, blocked or removed.
    cf = results.counterfactual_daily
    assert int(cf[["withheld", "softened", "blocked", "removed"]].to_numpy().sum()) == 0
    # Summary totals are the table totals.
    for column in COUNTS:
        assert int(results.daily[column].sum()) == summary[column], column
    assert summary["counterfactual_intended"] == int(cf["intended"].sum())
    # Events in time order, inside the run.
    times = results.events["time_hours"].to_numpy(dtype=float)
    assert np.all(np.isfinite(times))
    assert np.all(np.diff(times) >= 0), "events out of time order"
    if len(times):
        assert times.min() >= 0.0
    # Removal delays: a histogram of non-negative counts, one per removal.
    delays = results.delays
    assert (delays["removed"] >= 0).all()
    assert (delays["lower_hours"] >= 0).all()
    assert int(delays["removed"].sum()) >= 0
    # Shares are shares.
    for key in ("chilling_effect", "collateral_share", "over_removal_share"):
        assert 0.0 <= summary[key] <= 1.0, (key, summary[key])
    assert summary["speech_loss"] <= 1.0
    # Takedowns of prohibited kinds, a kind prohibited and lawful counting in both.
    per_kind = summary["per_kind"].values()
    assert summary["prohibited_taken_down"] == sum(
        row["blocked"] + row["removed"] for row in per_kind if row["prohibited"]
    )
    # Money is labelled with the scenario's currency.
    assert summary["currency"] == results.scenario["currency"]
    # One row per day and platform; the population adds up every day.
    platform_daily = results.platform_daily
    assert len(platform_daily) == days * len(results.scenario["platforms"])
    population = results.population_daily
    assert len(population) == days
    states = population[["active", "excluded", "left", "circumventing", "detained"]].sum(axis=1)
    assert (states == int(summary["users"])).all()
    beliefs = population[[c for c in population.columns if c.startswith("mean_p_")]]
    assert beliefs.shape[1] == 6
    assert ((beliefs >= 0) & (beliefs <= 1)).all().all()
    # Exclusion reasons (docs/model.md S14): users without access by reason match the
    # states; excluded posts by reason add up to the excluded, in total and per kind.
    closed_suspended_or_refused = (
        population["excluded_closed"]
        + population["excluded_account_suspended"]
        + population["excluded_refused_real_name"]
    )
    assert (closed_suspended_or_refused == population["excluded"]).all()
    assert (population["excluded_left"] == population["left"]).all()
    assert (population["excluded_detained"] == population["detained"]).all()
    assert (population["excluded_suspended"] <= population["active"]).all()
    assert sum(summary["excluded_by_reason"].values()) == summary["excluded"]
    for row in per_kind:
        assert sum(row["excluded_by_reason"].values()) == row["excluded"]
    assert summary["accounts_closed"] == summary["events"].get("account_closed", 0)
    assert summary["accounts_returned"] == summary["events"].get("account_returned", 0)
    assert 0.0 <= summary["active_share_final"] <= 1.0


@contextlib.contextmanager
def raw_delays() -> Iterator[list[float]]:
    """Collect the raw removal delays (hours) the recorder is given, before binning.

    The delay histogram clips to its first bin, so a negative delay would hide there;
    this sees every value. Runs use the Python review step meanwhile (the compiled one
    bins in compiled code; tests/test_review_kernels.py shows the two give the same).
    """
    seen: list[float] = []
    original = Recorder.add_delays
    compiled = ReviewDay.compiled
    ReviewDay.compiled = False

    def spy(self: Recorder, kind: Any, delay_hours: Any) -> None:
        seen.extend(np.asarray(delay_hours, dtype=float).tolist())
        original(self, kind, delay_hours)

    Recorder.add_delays = spy  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Recorder.add_delays = original  # type: ignore[method-assign]
        ReviewDay.compiled = compiled
