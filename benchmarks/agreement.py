"""Engine versus reference: the same headline numbers over replications (Welch t-tests).

Used by ``tests/test_reference_agreement.py`` and printable on its own:
``python benchmarks/agreement.py --replications 20``.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import simulator
from simulator.kinds import KIND_LABELS
from simulator.output.metrics import OUTCOME_COLUMNS
from simulator.reference import run_reference
from simulator.streams import replication_seeds

#: Summary numbers compared (the speech funnel by kind, then the headline ratios).
HEADLINE_RATIOS = (
    "speech_loss",
    "chilling_effect",
    "collateral_share",
    "removed_within_8min",
    "removed_within_30min",
    "removed_within_1h",
    "removed_within_24h",
    # The harm side (docs/metrics.md "Exposure"): views cut by each take-down's timing.
    "unlawful_exposure_prevented",
    "unlawful_exposure_prevented_by_removal",
    "lawful_exposure_lost",
)
#: ... then sanctions and the population (docs/model.md S14) and the excluded posts by
#: reason.
SANCTIONS_NUMBERS = (
    "accounts_closed",
    "accounts_suspended",
    "accounts_returned",
    "users_renewed",
    "active_share_mean",
)


def agreement_scenario(users: int = 1000, days: int = 25) -> simulator.Scenario:
    """A small China-style world in which every mechanism fires within a few weeks:
    withholding and softening, learned beliefs,
    real names (with refusers locked out or circumventing), pre-publication
    holds, flags, notices (with a legal deadline), orders, appeals, proactive reports,
    investigations and detentions, audits climbing a penalty ladder of warnings and fines."""
    return simulator.override(
        simulator.load_scenario("classroom"),
        {
            "population.users": users,
            "horizon_days": days,
            "population.posts_per_day": 2.0,
            "population.perception.friend_evidence_weight": 0.5,
            "population.perception.news_case_weight": 0.002,
            "rules.takedown.notice_deadline_hours": 24.0,
            "rules.appeals.enabled": True,
            "platforms.0.sweep_interval_hours": 0.5,
            # The classroom's 2 and 1 reviewers at any size (staff is per 100,000 users:
            # weibo has 60% of them, tieba 40%), the world the agreement was built on.
            # (Their wages are the represented classroom's of 2,000 users, scaled by
            # 2,000 / users since session 15: slice_scale. Fixed staff: no choice moves.)
            "platforms.0.reviewers_per_100k_users": 2 * 100_000 / (users * 0.6),
            "platforms.1.reviewers_per_100k_users": 1 * 100_000 / (users * 0.4),
            "regulator.audits_per_year": 150.0,
            # Audits that find something at this size, so the ladder is climbed.
            "regulator.audit_sample_size": 1000,
            # Warnings and fines, no suspension or licence loss: a platform leaving the
            # market would swamp every other number's variance.
            "rules.penalties.ladder": [
                {"action": "warning"},
                {"action": "fine", "amount": 20000.0},
                {"action": "fine", "amount": 50000.0},
            ],
            "regulator.monitoring_probability": 0.2,
            # Criticism the platforms are sure may count (q = 1): their reviewers take it
            # down as often as the sanctions below need (with classroom's vague line, q =
            # 0.3, lawful posts are rarely removed and no account would close).
            "rules.takedown.vagueness": 1.0,
            "population.perception.kind_closeness.critical": 1.0,
            # Platforms meeting the line new, as this world was built (classroom inherits
            # china_csl_2016's experience since session 21; experienced platforms would
            # start sure that criticism does not count). Experience has its own agreement
            # test (tests/test_reference_agreement.py).
            "platforms.weibo.audits_experienced": 0.0,
            "platforms.tieba.audits_experienced": 0.0,
            "police.investigators_per_100k_users": 3 * 100_000 / users,  # 3 at any size
            "police.investigation_days": 1.0,
            "police.detention_probability.critical": 0.3,
            "police.detention_probability.collective_action": 0.5,
            "police.detention_probability.unlawful": 0.5,
            "police.identify_anonymous_probability": 0.5,
            "police.detention_days": 5.0,
            # Strikes from every route on weibo and from all but held posts on tieba (the
            # classroom's come from complaints only, too rare here); a suspension of 1
            # then 2 days at the first strike, closure at the third; strikes that expire,
            # closed accounts that return (half the identities checked, so some are
            # burned) and a fast turnover: S14 within 20 days.
            "platforms.weibo.strike_on": ["order", "hold", "notice", "flag"],
            "platforms.tieba.strike_on": ["order", "notice", "flag"],
            "platforms.weibo.strikes_to_suspend": 1,
            "platforms.tieba.strikes_to_suspend": 1,
            "platforms.weibo.suspension_days": [1, 2],
            "platforms.tieba.suspension_days": [1, 2],
            "platforms.weibo.strikes_to_close": 3,
            "platforms.tieba.strikes_to_close": 3,
            "platforms.weibo.strike_clean_days": 4,
            "platforms.tieba.strike_clean_days": 4,
            "platforms.weibo.reregister_mean_days": 3.0,
            "platforms.tieba.reregister_mean_days": 3.0,
            "platforms.weibo.real_name_enforcement": 0.5,
            "platforms.tieba.real_name_enforcement": 0.5,
            "population.turnover_per_year": 5.0,
        },
        source="agreement scenario",
    )


def headline(summary: dict[str, Any]) -> dict[str, float]:
    """The numbers that must agree: per-kind outcome counts and the headline ratios."""
    out: dict[str, float] = {}
    for kind in KIND_LABELS:
        row = summary["per_kind"][kind]
        for outcome in ("intended", *OUTCOME_COLUMNS):
            out[f"{kind}.{outcome}"] = float(row[outcome])
    for name in HEADLINE_RATIOS:
        out[name] = float(summary[name])
    for name in SANCTIONS_NUMBERS:
        out[name] = float(summary[name])
    for reason, count in summary["excluded_by_reason"].items():
        out[f"excluded.{reason}"] = float(count)
    # The platforms' policy (docs/model.md S8): their mean strictness over the run.
    out["mean_strictness"] = float(np.mean([p["mean_strictness"] for p in summary["platforms"]]))
    # Their wages over the run: the staff they chose (docs/model.md S6a), where they hire.
    out["moderation_cost"] = float(sum(p["moderation_cost"] for p in summary["platforms"]))
    return out


def engine_summary(scenario: simulator.Scenario, seed: int) -> dict[str, Any]:
    return simulator.run(scenario, seed=seed).summary


@dataclass
class Comparison:
    """One headline number: means and standard deviations over replications, Welch's t."""

    name: str
    engine_mean: float
    engine_sd: float
    reference_mean: float
    reference_sd: float
    t: float
    p: float

    @property
    def relative_difference(self) -> float:
        scale = max(abs(self.engine_mean), abs(self.reference_mean))
        return abs(self.engine_mean - self.reference_mean) / scale if scale else 0.0


def compare(
    scenario: simulator.Scenario,
    replications: int,
    seed: int = 2024,
    engine: Callable[[simulator.Scenario, int], dict[str, Any]] = engine_summary,
) -> list[Comparison]:
    """Run engine and reference on ``replications`` seeds; one Comparison per number."""
    seeds = replication_seeds(seed, replications)
    ours = [headline(engine(scenario, s)) for s in seeds]
    theirs = [headline(run_reference(scenario, s)) for s in seeds]
    out = []
    for name in ours[0]:
        a = np.array([h[name] for h in ours])
        b = np.array([h[name] for h in theirs])
        a = a[np.isfinite(a)]
        b = b[np.isfinite(b)]
        if a.std() == 0 and b.std() == 0:
            t, p = (0.0, 1.0) if a.mean() == b.mean() else (math.inf, 0.0)
        else:
            with warnings.catch_warnings():
                # Near-constant samples (e.g. a share that is 1 in almost every run).
                warnings.simplefilter("ignore", RuntimeWarning)
                result = stats.ttest_ind(a, b, equal_var=False)
            t, p = float(result.statistic), float(result.pvalue)
        out.append(Comparison(name, a.mean(), a.std(ddof=1), b.mean(), b.std(ddof=1), t, p))
    return out


def format_table(rows: list[Comparison]) -> str:
    lines = [f"{'number':<30} {'engine':>22} {'reference':>22} {'t':>7} {'p':>7}"]
    for r in rows:
        lines.append(
            f"{r.name:<30} {r.engine_mean:>12.4g} ± {r.engine_sd:<7.2g} "
            f"{r.reference_mean:>12.4g} ± {r.reference_sd:<7.2g} {r.t:>7.2f} {r.p:>7.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=25)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    rows = compare(agreement_scenario(args.users, args.days), args.replications, args.seed)
    print(format_table(rows))
    print(f"smallest p: {min(r.p for r in rows):.4f}")


if __name__ == "__main__":
    main()
