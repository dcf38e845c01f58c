"""The end of a day (docs/model.md, 1.3 step 10): each platform's day booked (S9:
revenue, and staff when takedown duties are on), the day's posts counted by the platform
and its threshold adapted (S8), and the ``platform_daily`` rows appended
(:func:`end_of_day`); then the ``population_daily`` row (:func:`record_population`),
which reads the beliefs the day's evidence pass writes, perhaps on the second thread
meanwhile."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from simulator.engine.caches import PopulationCounts
from simulator.kinds import Channel, Outcome
from simulator.model.platforms import PlatformState
from simulator.model.regulator import HOURS_PER_DAY
from simulator.model.scenario import Scenario
from simulator.model.staffing import STAFFING_PERIOD_DAYS, update_staff
from simulator.output.recorder import Recorder


def end_of_day(
    day: int,
    platforms: Sequence[PlatformState],
    active_here: NDArray[np.int64],
    moderating: bool,
    scenario: Scenario,
    recorder: Recorder,
) -> None:
    """Book and adapt each platform (``active_here``: its active users today) and
    record its day's row."""
    takedown = scenario.rules.takedown
    in_scope = [Channel.PUBLIC, Channel.PRIVATE] if takedown.private_messages else [Channel.PUBLIC]
    reached = (Outcome.BLOCKED, Outcome.REMOVED, Outcome.SURVIVING)
    for platform in platforms:
        platform.active_users = int(active_here[platform.index])
        cost = platform.book_day(staffed=moderating) if not platform.exited else 0.0
        if moderating and not platform.exited:
            # What reached it today on a moderated channel, per kind (its own tallies).
            cells = recorder.counts[day, platform.index][in_scope][..., list(reached)]
            platform.count_day(cells.sum(axis=(0, 2)))
            platform.adapt(scenario)
            if (day + 1) % STAFFING_PERIOD_DAYS == 0:
                update_staff(platform, scenario)  # staffing = "chosen" only (S6a)
        recorder.platform_series.append(
            {
                "day": day,
                "platform": platform.name,
                "serving": int(platform.serving(day * HOURS_PER_DAY)),
                "active_users": platform.active_users,
                "strictness": platform.strictness if moderating else 0.0,
                "penalty_level": platform.penalty_level,
                "queue_waiting": platform.queue.waiting,
                "reviews": platform.reviews_today,
                "removals": platform.removals_today,
                "cash": platform.cash,
                "fines_paid": platform.fines_paid,
                "moderation_cost": cost,
            }
        )


def record_population(
    day: int,
    recorder: Recorder,
    population: PopulationCounts,
    reports_filed: int,
    sanctions_row: dict[str, int],
) -> None:
    """Record day ``day``'s population row: from ``population`` (its counts made again
    only if the states or reports changed since they were last made; the mean beliefs
    once the day's learning is done) and ``sanctions_row`` (users without a route by
    reason; the day's closures, returns and renewals: S14)."""
    recorder.population_series.append(
        {"day": day, **population.row(reports_filed, day), **sanctions_row}
    )
