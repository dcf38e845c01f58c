"""The censim model written the way SimPy's documentation teaches: the readable per-agent
statement of the model that the engine (:mod:`simulator.engine.simulation`) is checked against.

Read this module to see what the model does; import it to run it
(``from simulator.reference import ReferenceSimulation, run_reference``). It ships with
the package and is tested (``tests/test_reference.py``, ``tests/test_reference_agreement.py``).

One SimPy process per user emits that user's intended posts, one event per post
(exponential inter-post times at the user's total rate; the kind and channel of each
post are drawn as it is written). Every review item is a process that requests its
platform's ``simpy.PriorityResource`` of reviewers; every takedown order, audit and
police investigation is a process too. Nothing is vectorised and nothing is counted in
aggregate: this is the slow, obvious version of :mod:`simulator.engine.simulation`, kept
readable so that anyone can check it against docs/model.md, and used by
``tests/test_reference_agreement.py`` to check that the fast engine computes the same
model (same headline numbers within statistical tolerance over replications).

Same model, same conventions as the engine:

* users' traits and the social network come from :class:`simulator.model.population.Users`
  built from the same seed, so engine and reference runs of one seed share the population;
* a user's decisions on day ``d`` use the state as of the start of day ``d`` (time
  ``24 d`` hours) and the beliefs of that day (a post made counts as a trial at once);
  sanctions, detentions, releases, platform exits and suspensions change who may post
  where only at the next day boundary;
* each sensitive post is a choice (post, soften, withhold) written out per agent in
  :mod:`simulator.reference.minds`, independently of the engine's kernels; beliefs take
  the day's evidence at its end (own sanctions, friends' public removals and
  detentions, news) and fade every day (the engine fades them lazily);
* strikes expire after ``strike_clean_days`` clean days; a closed account returns after
  an exponential delay unless its real-name identity is burned; each user is replaced
  by a newcomer with probability ``turnover_per_year / 365`` a day (its own stream, the
  same in the paired runs); each excluded post is counted under its author's reason
  (docs/model.md S14; written here user by user, not with the engine's kernels);
* the platforms' filters and costs are the engine's
  :class:`~simulator.model.platforms.PlatformState` methods; their daily choice of
  strictness (the expected penalty per audit, line probabilities, effective means,
  beliefs about audits: docs/model.md S8) is written out again, independently, in
  :mod:`simulator.reference.platform_policy` and below; counting goes through
  :class:`simulator.output.recorder.Recorder` and the summary through
  :func:`simulator.output.metrics.summarise`, so headline numbers are computed identically.

Review items arrive as docs/model.md S5a states, written out here again rather than
taken from the engine's kernels (:meth:`ReferenceSimulation.next_sweep`,
:meth:`ReferenceSimulation.attention_delay`): a flag at the filter's next keyword sweep;
a notice or an order, each from one uniform, when the post's views ``A (1 - e^(-t/tau))``
have given the exposure ``-ln(1 - u)`` at ``-ln(1 - p)`` per view.

Timing conventions that differ from the engine by construction (both are the model; the
differences are below what the agreement test can see and are listed in
docs/performance.md): a review's sanction counts on the day the review *finishes* (the
engine: the day it starts), and a platform adapts its threshold at the end of the day
after that day's audits (the engine adapts during the day step, before that day's audits).

Where each mechanism is written (one module each; :class:`ReferenceSimulation` puts
them together and holds the day loop, docs/model.md 1.3 "Process overview and
scheduling"):

* :mod:`simulator.reference.world`: the agents (users, posts, platforms) and the run's
  state, set up from the scenario (1.2, 3.1);
* :mod:`simulator.reference.speech`: users write, choose and learn (S1-S3, S15, S16),
  with :mod:`simulator.reference.minds`;
* :mod:`simulator.reference.moderation`: filters, review items, the review queue,
  removals, appeals and the platform's daily threshold (S4-S8), with
  :mod:`simulator.reference.platform_policy`;
* :mod:`simulator.reference.regulator`: orders, deadlines, audits, penalties (S10);
* :mod:`simulator.reference.police`: reports, investigations, detentions (S11, S12);
* :mod:`simulator.reference.accounts`: strikes, closures, leaving, circumventing,
  platform exits, the real-name rule, returns and turnover (S9, S13, S14).

Run ``python -m simulator.reference.agent --users 2000 --days 30`` for one paired run.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from simulator.errors import MISSING, ScenarioError
from simulator.kinds import N_KINDS, ExclusionReason, UserState
from simulator.model.scenario import Scenario, load_scenario, override
from simulator.model.scenario.days import plan_timeline
from simulator.output.metrics import believed_counted_columns, summarise
from simulator.output.recorder import Recorder
from simulator.reference import platform_policy as policy
from simulator.reference.accounts import Accounts
from simulator.reference.moderation import Moderation
from simulator.reference.police import Police
from simulator.reference.regulator import Regulator
from simulator.reference.speech import Speech
from simulator.reference.world import HOURS_PER_DAY, NO_ROUTE, OFFSHORE, Platform


class ReferenceSimulation(Speech, Moderation, Regulator, Police, Accounts):
    """One run of ``scenario`` as a plain SimPy agent model. ``run()`` returns a Recorder.

    The state and its set-up are :class:`~simulator.reference.world.World`'s; each
    mechanism is its base class's; this class holds the day loop: what happens at each
    day boundary, in docs/model.md's order (1.3)."""

    def run(self) -> Recorder:
        if plan_timeline(self.scenario) is not None:
            # Refused rather than run as if the timeline were not there.
            raise ScenarioError(
                self.scenario.name,
                [("timeline", MISSING, "the reference model does not follow a timeline yet")],
            )
        if self.scenario.groups:
            # Refused rather than run as one population (docs/model.md "Groups").
            raise ScenarioError(
                self.scenario.name,
                [("groups", MISSING, "the reference model has no user groups yet")],
            )
        if self.scenario.access.enabled:
            # Refused rather than run with the rules before the choice (S9a).
            raise ScenarioError(
                self.scenario.name,
                [
                    (
                        "access.enabled",
                        True,
                        "the reference model does not restate the choice when access "
                        "changes (docs/model.md S9a); set access.enabled = false",
                    )
                ],
            )
        started = time.perf_counter()
        env = self.env
        for user in self.users:
            env.process(self.user_process(user))
        env.process(self.day_boundaries())
        if self.moderating or self.scenario.rules.real_name.enabled:
            for platform in self.platforms:
                env.process(self.audit_process(platform))
        env.run(until=self.scenario.horizon_days * HOURS_PER_DAY)
        self.end_of_day(self.scenario.horizon_days - 1)
        self.wall_seconds = time.perf_counter() - started
        return self.recorder

    # -- the day loop -------------------------------------------------------------------
    def day_boundaries(self) -> Generator[simpy.Event, Any, None]:
        """At ``24 d`` hours: close day ``d - 1``, then open day ``d``."""
        for day in range(self.scenario.horizon_days):
            if day > 0:
                self.end_of_day(day - 1)
            self.start_of_day(day)
            yield self.env.timeout(HOURS_PER_DAY)

    def start_of_day(self, day: int) -> None:
        """Open day ``day`` at ``24 day`` hours: releases and detentions, platforms
        leaving and suspensions, the real-name rule's first day, returns and turnover;
        then where each user may post today (S2) and the filters' chances (S4)."""
        now = day * HOURS_PER_DAY
        self.news_today = 0
        self.detained_today = []
        self.sanctioned_today = []
        for platform in self.platforms:
            platform.reviewed_today = [0] * N_KINDS
        self.detentions_and_releases(now)
        self.platform_changes(now)
        real_name = self.scenario.rules.real_name
        if real_name.enabled and day == real_name.start_day:
            self.register_users()
        self.returns_and_turnover(day)
        # Today's routes and filter settings.
        serving = [p.state.serving(now) for p in self.platforms]
        for user in self.users:
            user.reason = ExclusionReason.NONE
            if user.state == UserState.CIRCUMVENTING:
                user.route = OFFSHORE
            elif user.state == UserState.ACTIVE and serving[user.platform]:
                user.route = user.platform
            else:
                user.route = NO_ROUTE
                user.reason = {
                    UserState.ACTIVE: ExclusionReason.SUSPENDED,
                    UserState.LEFT: ExclusionReason.LEFT,
                    UserState.DETAINED: ExclusionReason.DETAINED,
                    UserState.EXCLUDED: ExclusionReason.CLOSED
                    if user.closed
                    else ExclusionReason.ACCOUNT_SUSPENDED
                    if user.suspended
                    else ExclusionReason.REFUSED_REAL_NAME,
                }[user.state]
        for platform in self.platforms:
            platform.hold = platform.state.hold_probability()
            platform.flag = platform.state.flag_probability_if_not_held()

    def end_of_day(self, day: int) -> None:
        """Sanctions bite (strikes, closed accounts, leaving, circumventing), users learn
        from the day's signals, platforms book the day and adapt their threshold."""
        self.strikes_and_exits(day)
        if self.at_risk:
            self.learn()
        for platform in self.platforms:
            state = platform.state
            state.active_users = sum(1 for u in self.users if u.route == state.index)
            if not state.exited:
                state.book_day(staffed=self.moderating)  # no rules: no compliance staff
                if self.moderating:
                    self.adapt(platform)
                    if (day + 1) % 7 == 0:  # the staffing week (S6a)
                        self.choose_staff(platform)
            self.recorder.platform_series.append(
                {
                    "day": day,
                    "platform": state.name,
                    "strictness": state.strictness if self.moderating else 0.0,
                }
            )
        self.recorder.population_series.append(
            {
                "day": day,
                "active": sum(1 for u in self.users if u.state == UserState.ACTIVE),
                "accounts_closed": self.closed_today,
                "accounts_suspended": self.suspended_today,
                "accounts_returned": self.returned_today,
                "users_renewed": self.renewed_today,
            }
        )

    # -- results ---------------------------------------------------------------------------
    def platform_rows(self) -> list[dict[str, Any]]:
        rows = []
        for platform in self.platforms:
            state = platform.state
            series = [
                r["strictness"]
                for r in self.recorder.platform_series
                if r["platform"] == state.name
            ]
            rows.append(
                {
                    "platform": state.name,
                    "fines_paid": state.fines_paid,
                    "moderation_cost": state.moderation_cost,
                    "final_strictness": state.strictness if self.moderating else 0.0,
                    "mean_strictness": float(np.mean(series)) if series else 0.0,
                    "suspensions": state.suspensions,
                    "penalty_level": state.penalty_level,
                    "exited": state.exited,
                    "exit_reason": state.exit_reason,
                    "cash": state.cash,
                    **self.audit_beliefs(platform),
                }
            )
        return rows

    def audit_beliefs(self, platform: Platform) -> dict[str, float]:
        """What the platform came to believe about audits (0 and 1 without a policy)."""
        if platform.view is None:
            return {
                "believed_audits_per_year": 0.0,
                "detection_calibration": 1.0,
                **believed_counted_columns(None),
            }
        per_day = platform.audits_per_day(self.scenario.regulator.audits_per_year)
        counted = policy.believed_counted(
            self.line, platform.view.reviewer, platform.line_log_weights
        )
        return {
            "believed_audits_per_year": 365.0 * per_day,
            "detection_calibration": platform.detection_calibration(),
            **believed_counted_columns(counted),
        }

    def user_counts(self) -> dict[str, int]:
        states = Counter(u.state for u in self.users)
        out = {s.name.lower(): int(states.get(s, 0)) for s in UserState}
        out["traceable"] = sum(u.traceable for u in self.users)
        out["reported_ever"] = sum(u.ever_reported for u in self.users)
        out["detained_ever"] = sum(u.ever_detained for u in self.users)
        return out


def run_reference(
    scenario: Scenario, seed: int | None = None, days: int | None = None
) -> dict[str, Any]:
    """The reference's paired run (rules, then its own no-rules counterfactual on the same
    speech stream): the summary dict of :func:`simulator.output.metrics.summarise` plus
    ``wall_seconds``."""
    if days is not None:
        scenario = type(scenario).model_validate(
            {**scenario.model_dump(), "horizon_days": int(days)}
        )
    seed = scenario.seed if seed is None else int(seed)
    started = time.perf_counter()
    with_rules = ReferenceSimulation(scenario, seed)
    with_rules.run()
    counterfactual = ReferenceSimulation(scenario.without_rules(), seed)
    counterfactual.run()
    summary = summarise(
        scenario,
        seed,
        with_rules.recorder,
        counterfactual.recorder,
        with_rules.platform_rows(),
        with_rules.user_counts(),
    )
    summary["wall_seconds"] = time.perf_counter() - started
    summary["wall_seconds_rules"] = with_rules.wall_seconds
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.reference.agent",
        description="One paired run of the reference model.",
    )
    parser.add_argument("--scenario", default="classroom")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    if args.users is not None:
        scenario = override(scenario, {"population.users": args.users})
    summary = run_reference(scenario, args.seed, args.days)
    for key in (
        "intended",
        "withheld",
        "excluded",
        "blocked",
        "removed",
        "surviving",
        "speech_loss",
        "chilling_effect",
        "collateral_share",
        "removed_within_1h",
        "wall_seconds",
    ):
        print(f"{key:>20}: {summary[key]}")


if __name__ == "__main__":
    main()
