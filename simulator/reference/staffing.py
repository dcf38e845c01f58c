"""A platform that chooses its review staff, written out in plain Python for the
per-agent reference (docs/model.md S6a, "Staff as the platform's choice", and S8, the
threshold weighed at the staff it would need): the same rules as the engine's
:mod:`simulator.model.staffing` and :mod:`simulator.model.staff_ahead`, stated apart so
the agreement tests compare two statements of one model.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.reference.platform_policy import LadderAhead, Platform, daily_costs_by_queue
from simulator.reference.review_line import Queue


def reviews_asked(platform: Platform, t: float, flows: list[float]) -> float:
    """Reviews a day the posts reaching the platform ask for at ``t``: held, or
    published and ordered, flagged or noticed (one review a post; S8); an approved held
    post one more if ordered, noticed or (``m > 0``) flagged (issue 17)."""
    asked = 0.0
    for kind, n in enumerate(flows):
        held, order = platform.held(t, kind), platform.order[kind]
        looks = 1.0 - (1.0 - platform.flagged(t, kind)) * (1.0 - platform.notice[kind])
        asked += n * (held + (1.0 - held) * (order + (1.0 - order) * looks))
        if platform.prefilter:
            again = 1.0 - (1.0 - platform.held_flagged) * (1.0 - platform.notice[kind])
            asked += n * platform.approved(t, kind) * (order + (1.0 - order) * again)
    return asked


def staff_to_weigh(
    platform: Platform,
    thresholds: list[float],
    flows: list[float],
    current: float,
    floor: float,
    backlog: float,
    reviews_per_reviewer_day: float,
) -> list[float]:
    """The head counts a hiring platform weighs with each threshold (docs/model.md S8):
    17 spaced evenly in logarithm from ``floor`` (a thousandth of the top if lower) to
    twice the staff the strictest threshold needs to serve a week's reviews and the
    backlog, ``(F D + B) / (c D)``, with ``floor`` and ``current`` themselves, ascending."""
    period = 7.0  # the staffing week (S6a)
    most = max(reviews_asked(platform, t, flows) for t in thresholds)
    top = max(current, floor, 2.0 * (most * period + backlog) / (reviews_per_reviewer_day * period))
    low = max(floor, top * 1e-3)
    if top <= low:
        return [current]
    points = 17
    ratio = top / low
    grid = [low * ratio ** (i / (points - 1)) for i in range(points)]
    grid[-1] = top
    return sorted({floor, current, *grid})


def threshold_costs(
    platform: Platform,
    thresholds: list[float],
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    tolerance: float,
    wrongful_daily_cost: float,
    detection: float,
    ladder: LadderAhead,
    weights: list[float],
    queues: list[Queue | None],
    wages: list[float],
) -> list[float]:
    """The daily cost of each threshold as a platform chooses it (docs/model.md S8): with
    one queue (fixed staff) :func:`daily_cost`; with a queue per head count it weighs (a
    hiring platform, ``wages`` the head counts' daily wages) the cheapest head count's
    cost plus its wages above the lowest head count's."""
    costs = []
    for t in thresholds:
        by_staff = daily_costs_by_queue(
            platform, t, flows, q, liability, sample_size, tolerance, wrongful_daily_cost,
            detection, ladder, weights, queues,
        )  # fmt: skip
        if len(by_staff) == 1:
            costs.append(by_staff[0])  # one head count: its wages change nothing
        else:
            low = min(wages)
            costs.append(min(c + w - low for c, w in zip(by_staff, wages, strict=True)))
    return costs


def staffing_costs(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    tolerance: float,
    detection: float,
    ladder: LadderAhead,
    weights: list[float],
    queue_with: Callable[[float], Queue | None],
    wage: float,
    grid: list[float],
) -> list[float]:
    """What each head count of ``grid`` costs a day at threshold ``t`` (docs/model.md
    S6a): its wages (``wage`` a reviewer-day) plus the ladder's expected penalties with
    what its line (``queue_with(S)``) leaves up. No goodwill term: staff does not change
    what the reviewers decide, only whether they get to it."""
    penalties = daily_costs_by_queue(
        platform, t, flows, q, liability, sample_size, tolerance, 0.0, detection, ladder,
        weights, [queue_with(head) for head in grid],
    )  # fmt: skip
    return [wage * head + c for head, c in zip(grid, penalties, strict=True)]


def staff_for_week(
    platform: Platform,
    t: float,
    flows: list[float],
    q: list[float],
    liability: str,
    sample_size: float,
    tolerance: float,
    detection: float,
    ladder: LadderAhead,
    weights: list[float],
    queue_with: Callable[[float], Queue | None],
    wage: float,
    floor: float,
    needed: float,
) -> float:
    """The cheapest head count at threshold ``t`` (docs/model.md S6a): wages (``wage`` a
    reviewer-day) plus the ladder's expected penalties with what the line at that staff
    (``queue_with(S)``) leaves up, on 201 head counts from ``floor`` to
    ``max(floor, 2 × needed)``, the top doubled (up to 8 times) while the cheapest is
    at it. The week's hiring speed is :func:`week_staff`'s."""
    top = max(floor, 2.0 * needed, 1e-9)
    pick = top
    for _ in range(8):
        grid = even_points(floor, top, 201)
        costs = staffing_costs(
            platform, t, flows, q, liability, sample_size, tolerance, detection, ladder,
            weights, queue_with, wage, grid,
        )  # fmt: skip
        pick = cheapest_staff(costs, grid)
        if pick < top:
            break
        top *= 2.0
    return pick


def even_points(low: float, high: float, points: int) -> list[float]:
    """``points`` head counts evenly from ``low`` to ``high``, each ``i × step + low`` with
    ``step = (high − low) / (points − 1)`` and the last exactly ``high``: the operations
    ``numpy.linspace`` makes, in its order, so the engine's grid and this one are the same
    numbers to the last bit (``floor + (high − low) × i / 200`` differed in the last bit
    at some points, and where one sat on a whole number ``ceil`` gave one more desk: 83
    of 4 million grid points, a referee's check in session 16)."""
    delta = high - low
    step = delta / (points - 1)
    if step == 0.0:  # numpy's path for a step that underflows (subnormal ranges)
        grid = [i / (points - 1) * delta + low for i in range(points)]
    else:
        grid = [i * step + low for i in range(points)]
    grid[-1] = high
    return grid


def cheapest_staff(costs: list[float], grid: list[float]) -> float:
    """The head count of least cost on ``grid`` (ties, to 1e-12 relative: the smallest)."""
    best = min(costs)
    slack = 1e-12 * max(1.0, abs(best))
    return next(s for s, c in zip(grid, costs, strict=True) if c <= best + slack)


def week_staff(pick: float, current: float, floor: float, growth: float) -> float:
    """The week's head count (docs/model.md S6a): ``pick`` up by at most ``growth`` of
    today's staff, down no faster (``current / (1 + growth)``), never below ``floor``."""
    lowest = max(floor, current / (1.0 + growth))
    highest = max(current, floor) * (1.0 + growth)
    return max(lowest, min(pick, highest))
