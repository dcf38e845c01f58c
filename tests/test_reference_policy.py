"""The reference's plain-Python platform policy (simulator/reference/platform_policy.py)
against the engine's numpy statement (simulator/model/platform_policy.py): written apart, they
must give the same cost on the grid and choose the same threshold."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.model import platform_policy as mp
from simulator.reference import platform_policy as ref
from simulator.reference import review_line as ref_line
from simulator.reference import staffing as ref_staffing

UNIFORM = [1.0 / ref.READINGS] * ref.READINGS


def random_case(rng: np.random.Generator) -> tuple[mp.PolicyInputs, dict[str, object]]:
    prohibited = [False] + [bool(b) for b in rng.random(3) < 0.5]
    prohibited[3] = True
    closeness = [0.0, *rng.uniform(0, 1, 3).tolist()]
    vagueness = float(rng.uniform(0, 1))
    q = mp.line_probability(prohibited, closeness, vagueness)
    cls = mp.effective_means([-3.0, *rng.uniform(-1.5, 2.0, 3).tolist()], q, prohibited)
    rev = mp.effective_means([-4.0, *rng.uniform(-1.5, 3.0, 3).tolist()], q, prohibited)
    notice = rng.uniform(0, 0.05, 4)
    order = rng.uniform(0, 0.1) * q
    prefilter = bool(rng.random() < 0.5)
    # held_review_margin of either sign: an approved held post is flagged again only
    # where it is positive (issue 17).
    margins = (float(rng.uniform(0, 1)), float(rng.uniform(-1, 0)), float(rng.uniform(-1, 1)))
    liability = mp.STRICT if rng.random() < 0.5 else mp.NOTICE
    moderation = mp.Moderation(cls, rev, prefilter, *margins, notice, order)
    flows = float(rng.uniform(1e3, 1e5)) * np.array([0.9, 0.06, 0.02, 0.02])
    rungs = int(rng.integers(1, 6))
    deescalate_after = int(rng.integers(1, 5))
    ladder = mp.Ladder(
        values=rng.uniform(1e4, 1e7, rungs) * (10.0 ** rng.integers(0, 3, rungs)),
        absorbing=tuple([False] * (rungs - 1) + [bool(rng.random() < 0.5)]),
        deescalate_after=deescalate_after,
        discount_per_day=float(rng.uniform(0.01, 2.0)) / 365,
        level=int(rng.integers(0, rungs + 1)),  # beyond the top: the top repeats
        clean=int(rng.integers(0, deescalate_after)),
    )
    policy = mp.PolicyInputs(
        thresholds=mp.threshold_grid(1e-4, 0.999),
        moderation=moderation,
        exposure=mp.Exposure(float(rng.uniform(10, 5000)), float(rng.integers(0, 4)), liability),
        flows=flows,
        q=q,
        wrongful_removal_cost=float(rng.uniform(1e3, 1e6)),
        ladder=ladder,
        audits_per_day=float(rng.uniform(1, 50)) / 365,
        detection=float(rng.uniform(0.5, 2)),
        # Half the cases with a belief learned from audits (uneven weights on the readings).
        reading_weights=rng.dirichlet(np.ones(ref.READINGS)) if rng.random() < 0.5 else None,
    )
    platform = ref.Platform(
        list(cls), list(rev), prefilter, *margins, notice.tolist(), order.tolist()
    )
    return policy, {"platform": platform, "liability": liability}


@pytest.mark.parametrize("seed", range(24))
def test_reference_policy_agrees_with_the_engines(seed: int) -> None:
    policy, extra = random_case(np.random.default_rng(seed))
    platform = extra["platform"]
    assert isinstance(platform, ref.Platform)
    thresholds = ref.grid(1e-4, 0.999)
    np.testing.assert_allclose(thresholds, policy.thresholds, rtol=1e-9, atol=1e-12)
    expo = policy.exposure
    ladder = policy.ladder
    weights = (
        [1.0 / ref.READINGS] * ref.READINGS
        if policy.reading_weights is None
        else policy.reading_weights.tolist()
    )
    ahead = ref.LadderAhead(
        ladder.values.tolist(),
        list(ladder.absorbing),
        ladder.deescalate_after,
        ladder.level,
        ladder.clean,
        policy.audits_per_day,
        ladder.discount_per_day,
    )
    costs = [
        ref.daily_cost(
            platform,
            t,
            policy.flows.tolist(),
            policy.q.tolist(),
            expo.liability,
            expo.sample_size,
            expo.tolerance,
            policy.wrongful_removal_cost,
            policy.detection,
            ahead,
            weights,
        )  # fmt: skip
        for t in thresholds
    ]
    engine_costs, _, _ = mp.policy_cost(policy)
    np.testing.assert_allclose(costs, engine_costs, rtol=1e-7, atol=1e-9)
    current = float(thresholds[-1])
    assert ref.cheapest(thresholds, costs, current) == pytest.approx(
        mp.policy_threshold(policy, current), abs=1e-9
    )


def test_reference_poisson_tail() -> None:
    for tolerance, mean in [(0, 0.3), (0, 40.0), (3, 2.5), (50, 45.0), (2, 0.0)]:
        assert ref.more_than(tolerance, mean) == pytest.approx(
            float(mp.violation_probability(mean, tolerance)), abs=1e-12
        )


def _reference_choice(vagueness: float, fine_factor: float, liability: str) -> tuple[float, float]:
    """(strictness, lawful take-down share) the reference's platform chooses in the
    china_csl_2016 region: collective action and unlawful prohibited, an audit of 770
    posts, tolerance 0, a warning-and-fine ladder scaled by ``fine_factor``."""
    prohibited = [False, False, True, True]
    q = ref.line_probability(prohibited, [0.0, 0.5, 0.8, 1.0], vagueness)
    reviewer = ref.effective_mean([-4.0, -1.0, 1.0, 2.5], q, prohibited)
    notice = [0.0002 * 0.7, 0.005 * 0.7, 0.01 * 0.7, 0.05 * 0.7]
    order = [0.05 if qk >= 1.0 else 0.0 for qk in q]
    platform = ref.Platform([-3.0, -0.5, 0.5, 1.5], reviewer, True, 0.0, -0.5, -1.0, notice, order)
    flows = [9300.0, 500.0, 100.0, 100.0]
    ladder = ref.LadderAhead(
        [1e5 * fine_factor, 2e5 * fine_factor], [False, False], 3, 0, 0, 12 / 365, 0.1 / 365
    )
    thresholds = ref.grid(1e-4, 0.999)
    costs = [
        ref.daily_cost(platform, t, flows, q, liability, 770.0, 0.0, 5000.0, 1.0, ladder, UNIFORM)
        for t in thresholds
    ]
    t = ref.cheapest(thresholds, costs, thresholds[-1])
    lawful = [0, 1]
    down = sum(flows[k] * platform.taken_down(t, k) for k in lawful) / sum(flows[k] for k in lawful)
    return ref.phi(-t), down


@pytest.mark.parametrize("liability", ["strict", "notice"])
def test_reference_lawful_take_down_rises_with_vagueness_in_the_shipped_region(
    liability: str,
) -> None:
    """The reference restates the believed line (a line on the score scale): its platform
    takes down more lawful posts the vaguer the law, in china_csl_2016's region (vagueness
    0.6, 770 posts read, tolerance 0) too; and stricter for dearer fines there."""
    down = [_reference_choice(v, 1.0, liability)[1] for v in (0.0, 0.3, 0.6, 1.0)]
    assert all(b > a for a, b in zip(down, down[1:], strict=False)), down
    strict = [_reference_choice(0.6, f, liability)[0] for f in (0.1, 1.0, 10.0)]
    assert all(b >= a - 1e-12 for a, b in zip(strict, strict[1:], strict=False)), strict
    assert strict[-1] > strict[0]


@pytest.mark.parametrize("seed", range(8))
def test_reference_learns_the_line_as_the_engine(seed: int) -> None:
    """The lawful- and prohibited-kind finds each reading predicts, and the belief in the
    readings and the detection after audits that count no lawful post, agree between the
    two statements (docs/model.md S8)."""
    policy, extra = random_case(np.random.default_rng(seed))
    platform = extra["platform"]
    assert isinstance(platform, ref.Platform)
    state = mp.PlatformPolicy(
        moderation=policy.moderation,
        exposure=policy.exposure,
        q=policy.q,
        thresholds=policy.thresholds,
        belief=mp.AuditBelief(prior_per_day=12 / 365, prior_days=180.0),
        wrongful_removal_cost=policy.wrongful_removal_cost,
    )
    state.count_day(np.asarray(policy.flows))
    found = prohibited = 0.0
    logs = [0.0] * ref.READINGS
    for t in (float(policy.thresholds[10]), float(policy.thresholds[40])):
        state.expect_at(t)
        args = (
            platform, t, policy.flows.tolist(), policy.q.tolist(), policy.exposure.liability,
            policy.exposure.sample_size,
        )  # fmt: skip
        lawful = ref.lawful_found(*args)
        assert state.predicted_lawful is not None
        np.testing.assert_allclose(state.predicted_lawful, lawful, rtol=1e-7, atol=1e-12)
        assert state.predicted_prohibited == pytest.approx(ref.prohibited_found(*args), rel=1e-7)
        detection = (2.0 + found) / (2.0 + prohibited)  # the reference's, before the audit
        logs = [w - detection * mu for w, mu in zip(logs, lawful, strict=True)]
        prohibited += ref.prohibited_found(*args)
        found += 1.0
        state.audited(1.0)
    np.testing.assert_allclose(
        state.reading_weights(), ref.reading_weights(logs), rtol=1e-7, atol=1e-15
    )
    assert state.belief.detection == pytest.approx((2.0 + found) / (2.0 + prohibited), rel=1e-7)
    np.testing.assert_allclose(
        state.believed_counted(),
        ref.believed_counted(policy.q.tolist(), platform.reviewer, logs),
        rtol=1e-7,
        atol=1e-12,
    )


@pytest.mark.parametrize("seed", range(24))
def test_the_reference_weighs_the_review_queue_as_the_engine(seed: int) -> None:
    """What a review queue leaves up (docs/model.md S8, "Deadlines and the queue"):
    the reference's plain-Python :func:`ref_line.missed_share` and ``late_exposed`` against
    the engine's :mod:`simulator.model.deadline_miss` (strict liability's waiting share
    behind holds, orders and a backlog; notice liability's late notices), on the whole
    cost grid and on the audit's prediction per reading. Desks from none to six and
    loads on both sides of capacity, so every branch is reached. The share itself is
    compared on the whole grid to 1e-9 (a missing backlog or Erlang term fails there:
    where the violation chance saturates, the costs may not move, a session 16
    referee); the prediction per reading where the share is nearest 1/2."""
    from dataclasses import replace

    from simulator.model import deadline_miss as dm

    rng = np.random.default_rng(1_000 + seed)
    policy, extra = random_case(rng)
    platform = extra["platform"]
    assert isinstance(platform, ref.Platform)
    # Capacity from half to three times the reviews asked at the grid's middle, so the
    # share moves along the grid; a backlog of up to most of a week's capacity.
    liability = policy.exposure.liability
    desks = 0 if seed % 12 == 0 else int(rng.integers(1, 7))
    middle = policy.thresholds[len(policy.thresholds) // 2 : len(policy.thresholds) // 2 + 1]
    asked = float(dm.reviews_asked(policy.moderation, middle, policy.flows)[0])
    review_hours = 24.0 * max(desks, 1) / (asked * float(rng.uniform(0.5, 3.0)))
    capacity = 24.0 * max(desks, 1) / review_hours
    backlog = float(rng.choice([0.0, rng.uniform(0.0, 5.0 * capacity)]))
    window = float(rng.uniform(24.0, 336.0))
    deadline = float(rng.uniform(0.05, 2.0)) * review_hours / max(desks, 1)
    lines = policy.reading_lines()
    engine_queue: dm.WaitingLine | dm.ReviewCapacity
    if liability == mp.STRICT:
        engine_queue = dm.WaitingLine(desks, review_hours, backlog, window, 7.0)
        late = dm.waiting_counted(policy.moderation, policy.thresholds, lines, policy.flows,
                                  engine_queue)  # fmt: skip
    else:
        engine_queue = dm.ReviewCapacity(desks, review_hours, deadline)
        late = dm.late_counted(policy.moderation, policy.thresholds, lines, policy.flows,
                               engine_queue)  # fmt: skip
    queue = ref_line.Queue(desks, review_hours, backlog, window, 7.0, deadline)
    with_queue = replace(policy, late=late)
    flows, q = policy.flows.tolist(), policy.q.tolist()
    ladder = policy.ladder
    ahead = ref.LadderAhead(
        ladder.values.tolist(), list(ladder.absorbing), ladder.deescalate_after,
        ladder.level, ladder.clean, policy.audits_per_day, ladder.discount_per_day,
    )  # fmt: skip
    weights = UNIFORM if policy.reading_weights is None else policy.reading_weights.tolist()
    expo = policy.exposure
    costs = [
        ref.daily_cost(
            platform,
            float(t),
            flows,
            q,
            liability,
            expo.sample_size,
            expo.tolerance,
            policy.wrongful_removal_cost,
            policy.detection,
            ahead,
            weights,
            queue,
        )  # fmt: skip
        for t in policy.thresholds
    ]
    engine_costs, _, _ = mp.policy_cost(with_queue)
    np.testing.assert_allclose(costs, engine_costs, rtol=1e-7, atol=1e-9)
    # The audit's prediction per reading, where the queue's share is nearest 1/2.
    counted = policy.moderation.counted(policy.thresholds, liability, lines) + late
    published = policy.moderation.published(policy.thresholds)
    found = expo.expected_found(policy.flows, counted, published, 1.0)  # (grid, readings)
    missed = [ref_line.missed_share(platform, float(t), flows, liability, queue)
              for t in policy.thresholds]  # fmt: skip
    g = int(np.argmin(np.abs(np.asarray(missed) - 0.5)))
    by_reading = ref.found_by_reading(
        platform, float(policy.thresholds[g]), flows, q, liability, expo.sample_size,
        queue=queue,
    )  # fmt: skip
    np.testing.assert_allclose(by_reading, found[g], rtol=1e-7, atol=1e-9)
    if liability == mp.STRICT:
        first, asked = dm.reviews_asked_by_class(policy.moderation, policy.thresholds, policy.flows)
        share = dm.waiting_share(engine_queue, asked, first)  # type: ignore[arg-type]
    else:
        share = dm.late_notice_share(policy.moderation, policy.thresholds, policy.flows,
                                     engine_queue)  # type: ignore[arg-type]  # fmt: skip
    np.testing.assert_allclose(missed, share, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(16))
def test_the_reference_hires_and_weighs_staff_as_the_engine(seed: int) -> None:
    """A hiring platform (docs/model.md S6a, S8) in the reference's words against the
    engine's: the week's head count (``staff_for_week`` and ``week_staff`` against
    ``staffing.chosen_staff``) and the day's threshold weighed at the staff it would
    need (``staff_to_weigh`` and ``threshold_costs`` against
    ``staff_ahead.staff_grid`` and ``threshold_with_staff``), over random policies,
    queues and backlogs, with a wage that puts the cheapest head count inside its grid
    where the penalties fall with staff (6 of the 16 cases; the rest at the floor). A
    grid point apart is allowed for the head count (two statements of one cost can
    round a near-tie differently)."""
    import math
    from dataclasses import replace

    from simulator.model import deadline_miss as dm
    from simulator.model import staff_ahead, staffing
    from simulator.model.platforms import review_servers

    rng = np.random.default_rng(2_000 + seed)
    policy, extra = random_case(rng)
    platform = extra["platform"]
    assert isinstance(platform, ref.Platform)
    liability = policy.exposure.liability
    minutes = float(rng.uniform(0.5, 5.0))
    per_reviewer = 24.0 * 60.0 / minutes
    middle = policy.thresholds[len(policy.thresholds) // 2 : len(policy.thresholds) // 2 + 1]
    asked = float(dm.reviews_asked(policy.moderation, middle, policy.flows)[0])
    floor = asked / per_reviewer * float(rng.uniform(0.05, 1.0))
    current = floor * float(rng.uniform(1.0, 3.0))
    backlog = float(rng.choice([0.0, rng.uniform(0.0, 3.0 * asked)]))
    window = float(rng.uniform(24.0, 336.0))
    deadline = float(rng.uniform(0.2, 48.0)) if liability == mp.NOTICE else None
    wage = float(10.0 ** rng.uniform(1.0, 5.0))
    growth = 0.5
    engine_policy = mp.PlatformPolicy(
        moderation=policy.moderation, exposure=policy.exposure, q=policy.q,
        thresholds=policy.thresholds,
        belief=mp.AuditBelief(prior_per_day=policy.audits_per_day, prior_days=30.0),
        wrongful_removal_cost=policy.wrongful_removal_cost, flows=policy.flows,
    )  # fmt: skip
    detection = engine_policy.belief.detection
    weights = engine_policy.reading_weights().tolist()
    ladder = policy.ladder
    ahead = ref.LadderAhead(
        ladder.values.tolist(), list(ladder.absorbing), ladder.deescalate_after,
        ladder.level, ladder.clean, engine_policy.belief.audits_per_day, ladder.discount_per_day,
    )  # fmt: skip
    flows, q = policy.flows.tolist(), policy.q.tolist()
    expo = policy.exposure

    def queue_with(head: float) -> ref_line.Queue:
        desks, hours = review_servers(head, minutes)
        return ref_line.Queue(
            desks, hours, backlog, window, 7.0, math.inf if deadline is None else deadline
        )

    def capacity_with(head: float) -> dm.WaitingLine | dm.ReviewCapacity:
        desks, hours = review_servers(head, minutes)
        if deadline is None:
            return dm.WaitingLine(desks, hours, backlog, window, 7.0)
        return dm.ReviewCapacity(desks, hours, deadline)

    # The week's head count at a threshold from the grid's middle.
    t = float(middle[0])
    inputs = staffing.StaffingInputs(
        policy=engine_policy, threshold=t, backlog=backlog, reviews_per_reviewer_day=per_reviewer,
        reviewer_cost_per_day=wage, ladder=ladder, window_hours=window, review_minutes=minutes,
        notice_deadline_hours=deadline,
    )  # fmt: skip
    needed = (ref_staffing.reviews_asked(platform, t, flows) * 7.0 + backlog) / (per_reviewer * 7.0)
    assert needed == pytest.approx(inputs.needed_staff(), rel=1e-9)
    # A wage that puts the cheapest staff inside the grid: a share of what the penalties
    # fall from the floor to twice the staff needed, per reviewer.
    top = max(floor, 2.0 * needed)
    free = replace(inputs, reviewer_cost_per_day=0.0)
    fall = float(np.subtract(*staffing.staffing_cost(np.array([floor, top]), free)[0]))
    wage = fall / (top - floor) * float(rng.uniform(0.2, 2.0)) if fall > 0 else wage
    inputs = replace(inputs, reviewer_cost_per_day=wage)
    pick = ref_staffing.staff_for_week(
        platform, t, flows, q, liability, expo.sample_size, expo.tolerance, detection, ahead,
        weights, queue_with, wage, floor, needed,
    )  # fmt: skip
    grid = np.linspace(floor, top, 201)
    np.testing.assert_allclose(
        ref_staffing.staffing_costs(
            platform, t, flows, q, liability, expo.sample_size, expo.tolerance, detection,
            ahead, weights, queue_with, wage, grid.tolist(),
        ),
        staffing.staffing_cost(grid, inputs)[0],
        rtol=1e-7,
    )  # fmt: skip
    step = (top - floor) / 200.0
    unbounded = staffing.chosen_staff(inputs, current, floor, math.inf)
    assert pick == pytest.approx(unbounded, rel=1e-9, abs=1.01 * step)
    assert ref_staffing.week_staff(pick, current, floor, growth) == pytest.approx(
        staffing.chosen_staff(inputs, current, floor, growth), rel=1e-9, abs=1.01 * step
    )

    # The day's threshold with the staff it would need.
    heads = ref_staffing.staff_to_weigh(
        platform, policy.thresholds.tolist(), flows, current, floor, backlog, per_reviewer
    )
    engine_heads = staff_ahead.staff_grid(
        engine_policy, current, floor, backlog, per_reviewer, chosen=True, max_growth=growth
    )
    np.testing.assert_allclose(heads, engine_heads, rtol=1e-9)
    costs = ref_staffing.threshold_costs(
        platform, policy.thresholds.tolist(), flows, q, liability, expo.sample_size,
        expo.tolerance, policy.wrongful_removal_cost, detection, ahead, weights,
        [queue_with(head) for head in heads], [wage * head for head in heads],
    )  # fmt: skip
    now = float(policy.thresholds[-1])
    engine_t = staff_ahead.threshold_with_staff(
        engine_policy, ladder, now, [capacity_with(h) for h in engine_heads], wage * engine_heads
    )
    assert ref.cheapest(policy.thresholds.tolist(), costs, now) == pytest.approx(engine_t, abs=1e-6)
    assert len(heads) > 2  # the hiring path, not one head count


def test_both_double_the_staff_grid_while_the_cheapest_is_at_its_top(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The week's grid runs from the floor to twice the staff needed; where the cheapest
    head count is at its top, the top doubles (up to 8 times). The random policies above
    never reach it (beyond twice the need the penalties are flat and the smallest of the
    ties wins), so here the cost is a parabola with its bottom at ``bottom`` (5.3 and
    23.7 times the need: two and four doublings), in both statements at once."""
    import math

    from simulator.model import staffing

    floor, needed = 1.5, 4.0
    for bottom in (5.3 * needed, 23.7 * needed):

        def engine_cost(grid: np.ndarray, inputs: object, b: float = bottom) -> tuple:
            return (np.asarray(grid) - b) ** 2, None

        def reference_cost(*args: object, b: float = bottom) -> list[float]:
            return [(head - b) ** 2 for head in args[-1]]  # type: ignore[attr-defined]

        monkeypatch.setattr(staffing, "staffing_cost", engine_cost)
        monkeypatch.setattr(ref_staffing, "staffing_costs", reference_cost)

        class Need:
            def needed_staff(self) -> float:
                return needed

        engine = staffing.chosen_staff(Need(), floor, floor, math.inf)  # type: ignore[arg-type]
        reference = ref_staffing.staff_for_week(
            None, 0.0, [], [], "strict", 0.0, 0.0, 1.0, None, [], lambda head: None, 0.0,  # type: ignore[arg-type]
            floor, needed,
        )  # fmt: skip
        doublings = math.ceil(math.log2(bottom / (2.0 * needed)))
        step = (2.0 * needed * 2**doublings - floor) / 200.0
        assert engine == reference
        assert abs(engine - bottom) <= step / 2 + 1e-12, (engine, bottom, step)


def test_the_reference_staff_grid_is_numpys_to_the_bit() -> None:
    """The week's 201 head counts (``reference.staffing.even_points``) are
    ``numpy.linspace``'s numbers exactly: IEEE products and sums in the same order, so
    bit-for-bit on any CPU. ``floor + (top − floor) × i / 200``, the reference's grid until
    session 17, differs in the last bit at some points (the sample below has such
    points), and a point on a whole number then gave one more desk."""
    rng = np.random.default_rng(17)
    naive_differs = 0
    for low, high in zip(
        rng.uniform(0.0, 50.0, 500), rng.uniform(0.0, 5000.0, 500), strict=True
    ):
        high = float(low + high)
        ours = ref_staffing.even_points(float(low), high, 201)
        assert ours == np.linspace(low, high, 201).tolist()
        naive = [low + (high - low) * i / 200 for i in range(201)]
        naive_differs += naive[:-1] != ours[:-1]
    assert naive_differs > 0
    tiny = ref_staffing.even_points(0.0, 5e-322, 201)  # a step that underflows: numpy's other path
    assert tiny == np.linspace(0.0, 5e-322, 201).tolist()


@pytest.mark.parametrize("margin", [-0.5, 0.0, 0.4])
@pytest.mark.parametrize("liability", [mp.STRICT, mp.NOTICE])
def test_the_reference_states_held_posts_later_touches_as_the_engine(
    margin: float, liability: str
) -> None:
    """Issue 17, per kind and threshold: the reference's ``taken_down``, ``published``,
    ``exposed`` (every line: none, finite, never counted) and ``late_exposed``, its
    reviews asked and its queue's missed share, against the engine's statement, with
    notices and orders frequent enough (up to 50% and 30%) that the held terms are far
    above the tolerance; m < 0, m = 0 and m > 0."""
    from simulator.model import deadline_miss as dm

    cls, rev = np.array([-1.0, 0.3, 0.8, 1.3]), np.array([-0.8, 0.1, 0.5, 1.0])
    notice, order = np.array([0.05, 0.3, 0.4, 0.5]), np.array([0.0, 0.1, 0.2, 0.3])
    engine = mp.Moderation(cls, rev, True, 0.2, -0.3, margin, notice, order)
    platform = ref.Platform(
        cls.tolist(), rev.tolist(), True, 0.2, -0.3, margin, notice.tolist(), order.tolist()
    )
    grid = mp.threshold_grid(1e-3, 0.99)
    lines = np.array([[-np.inf] * 4, [np.inf, 0.2, -0.4, -np.inf], [np.inf, 0.9, 0.6, np.inf]])
    counted = engine.counted(grid, liability, lines)
    removal, published = engine.removal(grid), engine.published(grid)
    waiting = (
        dm.waiting_removable(engine, grid, lines)
        if liability == mp.STRICT
        else dm.late_removable(engine, grid, lines)
    )
    for g, t in enumerate(grid.tolist()):
        for k in range(4):
            assert platform.taken_down(t, k) == pytest.approx(removal[g, k], abs=1e-12)
            assert platform.published(t, k) == pytest.approx(published[g, k], abs=1e-12)
            for j, line in enumerate(lines[:, k].tolist()):
                exposed = platform.exposed(t, k, liability, line)
                assert exposed == pytest.approx(counted[g, j, k], abs=1e-12)
                late = platform.late_exposed(t, k, liability, line, 1.0)
                assert late == pytest.approx(waiting[g, j, k], abs=1e-12)
    flows = np.array([5000.0, 300.0, 80.0, 40.0])
    asked = [ref_staffing.reviews_asked(platform, t, flows.tolist()) for t in grid.tolist()]
    np.testing.assert_allclose(asked, dm.reviews_asked(engine, grid, flows), rtol=1e-12)
    # The queue's share at a load near capacity, with the held posts' items in it.
    review_hours = 24.0 * 2 / float(dm.reviews_asked(engine, grid[32:33], flows)[0])
    queue = ref_line.Queue(2, review_hours, 50.0, 168.0, 7.0, 0.5 * review_hours)
    missed = [ref_line.missed_share(platform, t, flows.tolist(), liability, queue) for t in grid]
    if liability == mp.STRICT:
        first, asks = dm.reviews_asked_by_class(engine, grid, flows)
        share = dm.waiting_share(dm.WaitingLine(2, review_hours, 50.0, 168.0, 7.0), asks, first)
    else:
        share = dm.late_notice_share(
            engine, grid, flows, dm.ReviewCapacity(2, review_hours, 0.5 * review_hours)
        )
    np.testing.assert_allclose(missed, share, rtol=1e-9, atol=1e-12)
    assert ((share > 1e-6) & (share < 1.0 - 1e-6)).any()  # neither idle nor swamped
