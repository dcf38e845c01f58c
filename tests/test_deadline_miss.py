"""The notice deadline in the threshold choice (issue 16 item 3/5, issue 18; docs/model.md
S8, "Deadlines and the queue"; simulator/model/deadline_miss.py): under notice liability a
platform with the staff it has weighs the chance that a notified post's review does not
start by its deadline at the load each candidate threshold creates."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from scipy.special import ndtr

import simulator
from simulator.kinds import Action
from simulator.model import deadline_miss as dm
from simulator.model import platform_policy as mp
from simulator.model.platforms import (
    PlatformState,
    platform_policy_for,
    review_servers,
    threshold_to_strictness,
)
from simulator.model.review_queue import ReviewQueue, erlang_c_wait_beyond
from tests.conftest import reduced

#: germany_netzdg_2017's posts a day at 10,000 users (benign, critical, collective
#: action, unlawful), about what its platform counts after a few weeks.
FLOWS_10K = np.array([6_900.0, 350.0, 70.0, 14.0])


def netzdg_policy() -> mp.PlatformPolicy:
    scenario = simulator.load_scenario("germany_netzdg_2017")
    _, policy = platform_policy_for(scenario, scenario.platforms[0])
    policy.flows = FLOWS_10K.copy()
    return policy


def ladder(fine_factor: float = 1.0) -> mp.Ladder:
    """NetzDG's ladder (warning cost, two fines), the fines times ``fine_factor``."""
    return mp.Ladder(
        values=np.array([5e5, 5e6 * fine_factor, 5e7 * fine_factor]),
        absorbing=(False, False, False),
        deescalate_after=2,
        discount_per_day=0.1 / 365.0,
    )


def capacity(per_100k: float, deadline: float, users: float = 10_000.0) -> dm.ReviewCapacity:
    """NetzDG's queue (3-minute reviews) with ``per_100k`` reviewers per 100,000 users."""
    desks, hours = review_servers(per_100k * users / 100_000.0, 3.0)
    return dm.ReviewCapacity(desks, hours, deadline)


@pytest.mark.parametrize(
    ("rate", "staff", "minutes", "hours"),
    [(5.0, 4.0, 30.0, 0.25), (30.0, 2.0, 3.0, 0.1), (0.5, 0.2, 3.0, 1.0), (9.9, 2.5, 12.0, 2.0)],
)
def test_one_class_is_the_erlang_c_tail(
    rate: float, staff: float, minutes: float, hours: float
) -> None:
    """With one class (nothing served first) the rule is the Erlang C tail of S6a."""
    desks, service = review_servers(staff, minutes)
    cap = dm.ReviewCapacity(desks, service, hours)
    assert cap.reviews_per_hour == pytest.approx(staff * 60.0 / minutes, rel=1e-12)
    late = dm.class_wait_beyond(np.array([0.0]), np.array([rate]), np.array([rate]), cap)[0]
    assert late == pytest.approx(erlang_c_wait_beyond(rate, service, desks, hours), rel=1e-12)


def simulated_priority_waits(
    rates: tuple[float, float], service_hours: float, desks: int, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Waits of a non-preemptive two-class M/M/c queue (class 0 first, FIFO within a
    class), as the review queue serves notices before flags (S6): (waits, classes)."""
    rng = np.random.default_rng(seed)
    total = sum(rates)
    arrivals = np.cumsum(rng.exponential(1.0 / total, n))
    classes = (rng.random(n) >= rates[0] / total).astype(int)
    services = rng.exponential(service_hours, n)
    waits = np.empty(n)
    free: list[float] = [0.0] * desks  # when each desk frees (a heap)
    lines: tuple[list[int], list[int]] = ([], [])
    heads = [0, 0]
    i = 0
    # Event loop: the next start is at the earliest free desk, for the best item waiting then.
    while i < n or heads[0] < len(lines[0]) or heads[1] < len(lines[1]):
        desk = heapq.heappop(free)
        # Everything that has arrived by the time the desk frees joins its line.
        while i < n and arrivals[i] <= desk:
            lines[classes[i]].append(i)
            i += 1
        if heads[0] == len(lines[0]) and heads[1] == len(lines[1]):
            lines[classes[i]].append(i)  # idle desk: the next arrival starts at once
            desk = float(arrivals[i])
            i += 1
        k = 0 if heads[0] < len(lines[0]) else 1
        item = lines[k][heads[k]]
        heads[k] += 1
        start = max(desk, float(arrivals[item]))
        waits[item] = start - arrivals[item]
        heapq.heappush(free, start + services[item])
    return waits, classes


def test_the_notice_tail_matches_a_simulated_priority_queue() -> None:
    """Notices served before flags: the rule's chance that a notice waits past ``d``
    against a simulated non-preemptive queue (150,000 items; at the loads below and on 4
    desks with 1 notice and 20 flags an hour, seeds 3 and 4 landed within 0.006 of the
    rule at every ``d``, so 0.01 is the noise). Served first and few, notices barely wait
    behind flags: FCFS over every item (the Erlang C tail of the whole load) says 0.82
    where 0.05 of the notices wait past 0.2 h."""
    for notices, flags, service, desks in ((2.0, 14.0, 0.12, 2), (4.0, 10.0, 0.12, 2)):
        _check_notice_tail(notices, flags, service, desks)


def _check_notice_tail(notices: float, flags: float, service: float, desks: int) -> None:
    for seed in (3, 4):
        waits, classes = simulated_priority_waits((notices, flags), service, desks, 150_000, seed)
        late_notices = waits[classes == 0]
        for d in (0.0, 0.05, 0.2):
            rule = dm.class_wait_beyond(
                np.array([0.0]), np.array([notices]), np.array([notices + flags]),
                dm.ReviewCapacity(desks, service, d),
            )[0]  # fmt: skip
            assert np.mean(late_notices > d) == pytest.approx(rule, abs=0.01), (seed, d)
        fcfs = erlang_c_wait_beyond(notices + flags, service, desks, 0.2)
        assert fcfs > 5 * np.mean(late_notices > 0.2)


def test_late_share_rises_with_strictness_and_falls_with_deadline_and_staff() -> None:
    policy = netzdg_policy()
    grid = policy.thresholds  # strictest first
    late = {
        (r, d): dm.late_notice_share(policy.moderation, grid, policy.flows, capacity(r, d))
        for r in (1.0, 2.0, 20.0)
        for d in (1.0, 24.0)
    }
    for (r, d), values in late.items():
        assert np.all(np.diff(values) <= 1e-15), (r, d)  # stricter (earlier) -> later
        assert np.all((values >= 0.0) & (values <= 1.0))
    assert np.all(late[1.0, 1.0] >= late[2.0, 1.0]) and np.all(late[2.0, 1.0] >= late[20.0, 1.0])
    assert np.all(late[2.0, 1.0] >= late[2.0, 24.0])
    assert late[2.0, 1.0].max() > 0.01 and late[20.0, 1.0].max() < 1e-12
    # No staff: nothing is reviewed, every notice is late.
    nobody = dm.ReviewCapacity(0, 0.05, 24.0)
    none = dm.late_notice_share(policy.moderation, grid, policy.flows, nobody)
    assert np.all(none == 1.0)


def test_the_cached_choice_is_the_statement_and_counts_late_notices() -> None:
    """``PlatformPolicy.target`` (grid tables cached) gives ``policy_threshold`` on the same
    inputs, and the counted shares are ``X + Y`` restated per kind at one threshold."""
    policy = netzdg_policy()
    current = float(policy.thresholds[-1])
    for cap in (None, capacity(2.0, 1.0), capacity(1.0, 24.0), capacity(20.0, 1.0)):
        late = dm.policy_late(policy, policy.thresholds, cap)
        chosen = policy.target(current, ladder(), late)
        assert chosen == mp.policy_threshold(policy.inputs(ladder(), late), current)
    cap = capacity(1.0, 1.0)
    t = float(policy.thresholds[40])
    at = np.array([t])
    lines = policy.reading_lines()
    m = policy.moderation
    late_at = dm.policy_late(policy, at, cap)
    assert late_at is not None
    counted = (m.counted(at, mp.NOTICE, lines) + late_at)[0]
    late = dm.late_notice_share(m, at, policy.flows, cap)[0]
    assert 0.0 < late < 1.0
    for j in range(lines.shape[0]):
        for k in range(len(policy.q)):
            mu, line = m.reviewer_mean[k], lines[j, k]
            kept = m.notice[k] * (1 - m.monitor[k]) * max(0.0, ndtr(t - mu) - ndtr(line - mu))
            late_k = m.notice[k] * (1 - m.monitor[k]) * ndtr(mu - max(t, line)) * late
            assert counted[j, k] == pytest.approx(kept + late_k, rel=1e-12, abs=1e-300)
    # Strict liability: no deadline in the audit, the queue adds nothing.
    scenario = simulator.load_scenario("china_csl_2016")
    _, strict = platform_policy_for(scenario, scenario.platforms[0])
    assert dm.policy_late(strict, strict.thresholds, cap) is None
    assert dm.notice_deadline(scenario) is None


def chosen_strictness(per_100k: float, deadline: float | None, fine_factor: float = 1.0) -> float:
    policy = netzdg_policy()
    cap = None if deadline is None else capacity(per_100k, deadline)
    late = dm.policy_late(policy, policy.thresholds, cap)
    return threshold_to_strictness(
        policy.target(float(policy.thresholds[-1]), ladder(fine_factor), late)
    )


def test_a_short_deadline_makes_an_understaffed_platform_stricter() -> None:
    """The statement's comparative static. Flags never jump a notice (S6), so a stricter
    threshold delays notices only by finding the desks busy more often; what a 1-hour
    deadline mainly does at 1-2 reviewers per 100,000 users (10,000 users: 0.1-0.2 of a
    reviewer, 15-30 minutes of clock a review) is make some notified posts late whatever
    the threshold. That raises the audit's expected find, and on NetzDG's ladder (each
    rung dearer than the last) a higher risk makes each violation kept dearer at the
    margin: the platform becomes stricter (S8, "Comparative statics"). At the shipped 20
    per 100,000 a notice waits past an hour with chance below 1e-17 and nothing moves."""
    without = chosen_strictness(20.0, None)
    assert chosen_strictness(20.0, 1.0) == without
    assert chosen_strictness(10.0, 1.0) == pytest.approx(without, abs=1e-8)  # L = 2.5e-9
    for r in (2.0, 1.0):
        assert chosen_strictness(r, 1.0) > chosen_strictness(r, 24.0) + 1e-3
        assert chosen_strictness(r, 168.0) == without
    # So understaffed that a clean audit is out of reach: it gives up (S8).
    assert chosen_strictness(0.5, 1.0) < 0.5 < chosen_strictness(0.5, 24.0)


def netzdg(
    per_100k: float, deadline: float, fine_factor: float, staffing: str
) -> simulator.Scenario:
    scenario = simulator.load_scenario("germany_netzdg_2017")
    ladder_ = [step.model_dump() for step in scenario.rules.penalties.ladder]
    for step in ladder_:
        if step["action"] == "fine":
            step["amount"] *= fine_factor
    return simulator.override(
        scenario,
        {
            "population.users": 10_000,
            "horizon_days": 60,
            "platforms.main.reviewers_per_100k_users": per_100k,
            "platforms.main.staffing": staffing,
            "rules.takedown.deadline_hours": deadline,
            "rules.takedown.notice_deadline_hours": deadline,
            "rules.penalties.ladder": ladder_,
        },
        source="test_deadline_miss",
    )


def test_paired_runs_a_short_deadline_moves_an_understaffed_fixed_staff() -> None:
    """Fixed staff of 2 per 100,000 (10,000 users x 60 days), deadlines of 1 h and 168 h
    on the same seeds 1-5: the platform is stricter at 1 h in every pair (mean daily
    strictness; 0.9579-0.9586 against 0.9552-0.9554 when measured), as the statement says
    (previous test). Before the change every pair was equal to every digit."""
    gaps = []
    for seed in range(1, 6):
        short = simulator.run(netzdg(2.0, 1.0, 1.0, "fixed"), seed=seed).platform_daily
        long = simulator.run(netzdg(2.0, 168.0, 1.0, "fixed"), seed=seed).platform_daily
        gaps.append(float(short.strictness.mean() - long.strictness.mean()))
    gaps_ = np.asarray(gaps)
    assert np.all(gaps_ > 0.0), gaps
    t = gaps_.mean() / (gaps_.std(ddof=1) / np.sqrt(len(gaps_)))
    assert t > 4.6, (gaps, t)  # one-sided paired t, 4 d.f.: p < 0.005


@pytest.mark.xfail(
    strict=True,
    reason=(
        "fines x100 still lower unlawful exposure prevented at NetzDG's 20 reviewers per "
        "100,000 (10,000 users x 60 days, seeds 1-3): fixed 0.8965/0.8969/0.8876 vs "
        "0.7694/0.8322/0.7690; chosen staff the same (it hires no one more). Notice "
        "liability counts late notices, which are served before flags and never late "
        "here, not flagged posts waiting; the dearer platform goes to the strictness "
        "bound 0.999 and its lawful flags delay the flagged unlawful posts "
        "(docs/validation.md, 'higher fines lower unlawful exposure prevented')"
    ),
)
@pytest.mark.parametrize("staffing", ["fixed", "chosen"])
def test_paired_runs_dearer_fines_do_not_lower_exposure_prevented(staffing: str) -> None:
    for seed in (1, 2, 3):
        base = simulator.run(netzdg(20.0, 24.0, 1.0, staffing), seed=seed).summary
        dear = simulator.run(netzdg(20.0, 24.0, 100.0, staffing), seed=seed).summary
        assert dear["unlawful_exposure_prevented"] >= base["unlawful_exposure_prevented"] - 0.005, (
            seed,
            base["unlawful_exposure_prevented"],
            dear["unlawful_exposure_prevented"],
        )


# Strict liability: what a post waiting for its review adds to the audit's count.


def waiting_line(desks: int = 4, backlog: float = 0.0) -> dm.WaitingLine:
    """``desks`` reviewers of one minute a review, a 7-day window and week."""
    return dm.WaitingLine(desks, 1.0 / 60.0, backlog, 7.0 * 24.0, 7.0)


def test_the_lines_weighed_together_are_each_line_alone() -> None:
    """The head counts a platform weighs go through :func:`dm.waiting_share_by_line` in
    one pass, each row taking the Erlang recursion up to its own desks: every row must
    be what its line gives alone, bit for bit (the same IEEE operations, so on any CPU),
    at desks from none to many, with and without a backlog, loads below and above
    capacity. A row that ran the recursion past its desks, or stopped at another row's,
    would differ; and five lines must give the bits the one-line-at-a-time code gave
    (frozen from session 15's tree)."""
    lines = [
        dm.WaitingLine(desks, hours, backlog, 168.0, 7.0)
        for desks, hours, backlog in [
            (0, 1.0 / 60.0, 0.0), (1, 1.0 / 60.0, 0.0), (3, 0.9 / 60.0, 500.0),
            (17, 1.0 / 60.0, 0.0), (40, 2.0 / 60.0, 20_000.0), (233, 1.0 / 60.0, 3.0),
        ]
    ]  # fmt: skip
    published = np.geomspace(10.0, 400_000.0, 64)
    first = published * 0.7
    together = dm.waiting_share_by_line(lines, published, first)
    assert together.shape == (len(lines), len(published))
    for row, line in zip(together, lines, strict=True):
        alone = dm.waiting_share_by_line([line], published, first)[0]
        assert np.array_equal(row, alone)
    assert np.all(together[0] == 1.0)  # no staff: nothing is reviewed
    assert 0.0 < together[3].min() < together[3].max() == 1.0  # both sides of capacity
    # Bits of the one-line-at-a-time code before session 16 (cb2e188's waiting_share):
    # the same IEEE operations, so the same on any CPU.
    frozen = {
        (1, 1.0 / 60.0, 0.0): ["0x1.d45b3ed8aae00p-17"],
        (3, 0.9 / 60.0, 500.0): ["0x1.e8999972aceb2p-14"],
        (17, 1.0 / 60.0, 0.0): ["0x1.a7f6267da7f8cp-119", "0x1.faadc8d1a42c9p-40"],
        (40, 2.0 / 60.0, 20_000.0): ["0x1.45346a191fd0bp-8", "0x1.a6b8adf70d7c0p-8"],
        (233, 1.0 / 60.0, 3.0): [
            "0x1.cb9435157e034p-41", "0x1.d546a118c81e8p-41", "0x1.3a36fb8e5c6e0p-40",
        ],
    }  # fmt: skip
    asked = np.array([100.0, 3_000.0, 40_000.0, 400_000.0])
    frozen_lines = [dm.WaitingLine(c, h, b, 168.0, 7.0) for c, h, b in frozen]
    for row, bits in zip(
        dm.waiting_share_by_line(frozen_lines, asked, asked * 0.7), frozen.values(), strict=True
    ):
        expected = [float.fromhex(b) for b in bits] + [1.0] * (len(asked) - len(bits))
        assert row.tolist() == expected
    # erlang_c with one desk count per element is the scalar recursion per element.
    desks = np.array([[1], [2], [7], [60]])
    load = np.linspace(0.1, 70.0, 50)[None, :]
    by_element = dm.erlang_c(desks, load)
    for row, c in zip(by_element, desks[:, 0], strict=True):
        assert np.array_equal(row, dm.erlang_c(int(c), load[0]))


def test_the_compiled_erlang_recursion_is_numpys_step_by_step() -> None:
    """``kernels.deadline_miss.erlang_b`` (each element its own ``c`` steps) gives the
    numpy recursion's bits: every element stepped to the largest ``c`` with
    ``np.where(k <= c, a b / (k + a b), b)``, the form ``erlang_c`` had before it was
    compiled. Loads from 0 to far beyond the staff, infinite, and no desks."""
    from simulator.kernels.deadline_miss import erlang_b

    rng = np.random.default_rng(25)
    desks = rng.integers(0, 300, size=2_000)
    load = np.concatenate([rng.random(1_990) * 400.0, [0.0, 1e-300, 1e300, np.inf] * 2, [5.0] * 2])
    desks[-2:] = 0
    expected = np.ones(len(load))
    for k in range(1, int(desks.max()) + 1):
        with np.errstate(invalid="ignore"):
            expected = np.where(k <= desks, load * expected / (k + load * expected), expected)
    got = erlang_b(load, desks.astype(np.int64))
    assert np.array_equal(got, expected, equal_nan=True)
    assert got[-1] == 1.0 and np.isnan(got[-3])  # no desks: B_0; an infinite load: nan


def test_waiting_share_by_hand() -> None:
    """``m = (1 − s) + s min(1, (W_B + W_q) / T)`` worked by hand at three loads, and
    behind a backlog (``W_B``, :func:`dm.backlog_wait_hours`)."""
    line = waiting_line(desks=4)  # 4 × 60 × 24 = 5,760 reviews a day
    asked = np.array([0.0, 2_880.0, 11_520.0])  # idle, half load, twice the capacity
    m = dm.waiting_share(line, asked)
    assert m[0] == 0.0
    # Half load: everything served, the Erlang C mean wait over a 168-hour window.
    from simulator.model.review_queue import erlang_c_mean_wait_hours

    wait = erlang_c_mean_wait_hours(2_880.0 / 24.0, 1.0 / 60.0, 4)
    assert m[1] == pytest.approx(wait / 168.0, rel=1e-12) and 0.0 < m[1] < 1e-4
    # Twice the capacity: half the week's reviews unserved (whole window), the rest wait
    # for ever at a load of 8 Erlangs on 4 desks.
    assert m[2] == pytest.approx(1.0)
    # A backlog of three days' capacity (17,280) leaves 4/7 of the week's capacity. At
    # half load s = (40,320 − 17,280) / 20,160 > 1 -> 1, and the backlog, drained at
    # 5,760 − 2,880 net a day, is gone after 6 days: a post arriving x days in waits
    # (17,280 − 2,880 x) / 5,760 days behind it, 1.286 days on average over the week
    # (17,280 × 6 / (2 × 5,760 × 7)). At 4,320 a day (3 Erlangs on 4 desks, stable)
    # s = 23,040 / 30,240 = 0.762; those served (the first 7 s days) wait
    # (17,280 − 1,440 × 7 s / 2) / 5,760 = 2.333 days behind it; plus the Erlang C mean.
    behind = dm.waiting_share(waiting_line(4, backlog=17_280.0), np.array([2_880.0, 4_320.0]))
    assert behind[0] == pytest.approx(m[1] + 1.2857142857 * 24.0 / 168.0, rel=1e-9)
    s = (5_760.0 * 7 - 17_280.0) / (4_320.0 * 7)
    wait = erlang_c_mean_wait_hours(4_320.0 / 24.0, 1.0 / 60.0, 4)
    assert s == pytest.approx(0.7619, abs=1e-4)
    ahead = (17_280.0 - 1_440.0 * 7.0 * s / 2.0) / 5_760.0 * 24.0
    assert ahead == pytest.approx(56.0, rel=1e-9)
    assert behind[1] == pytest.approx(1.0 - s + s * (ahead + wait) / 168.0, rel=1e-12)
    assert behind[1] > 0.2  # the backlog, not the wait, leaves the posts up
    # No staff: nothing is reviewed.
    assert np.all(dm.waiting_share(waiting_line(desks=0), asked) == 1.0)


def test_published_posts_wait_behind_the_reviews_served_first() -> None:
    """Holds and orders are served before flags and notices (S6): the capacity they take
    and the wait they add fall on the published posts the strict audit counts, and a
    served post waits behind the backlog first. Worked by hand: 4 desks (5,760 reviews a
    day), 2,000 holds and 2,000 flags a day, a backlog of 20,000: the week's capacity
    left for the flags is 40,320 − 14,000 − 20,000 = 6,320 of the 14,000 they ask,
    ``s = 0.451`` (first come first served over every item would say 20,320 of 28,000,
    0.726); those served arrive in the first ``x* = 7 s`` days and wait behind what is
    left of the backlog, drained at ``R = 3,760`` a day while 2,000 join it:
    ``(B − (R − F_p) x* / 2) / R`` = 4.58 days; plus Cobham's mean
    ``C / (cμ (1 − σ_h)(1 − σ))``. With nothing served first and no backlog the rule is
    the one-class Erlang C rule of ``test_waiting_share_by_hand``."""
    line = waiting_line(4, backlog=20_000.0)
    m = dm.waiting_share(line, np.array([2_000.0]), np.array([2_000.0]))[0]
    s = 6_320.0 / 14_000.0
    behind = (20_000.0 - (3_760.0 - 2_000.0) * 7.0 * s / 2.0) / 3_760.0 * 24.0  # hours
    assert behind == pytest.approx(109.9, abs=0.1)
    rate = 4 * 60.0  # cμ, reviews an hour
    busy = dm.erlang_c(4, np.array([4_000.0 / 24.0 / 60.0]))[0]
    wait = busy / (rate * (1.0 - 2_000.0 / 5_760.0) * (1.0 - 4_000.0 / 5_760.0))
    assert m == pytest.approx(1.0 - s + s * (behind + wait) / 168.0, rel=1e-12)
    fcfs = dm.waiting_share(line, np.array([4_000.0]))[0]
    assert m > fcfs + 0.2
    one_class = dm.waiting_share(waiting_line(4), np.array([2_880.0]), 0.0)
    assert one_class == dm.waiting_share(waiting_line(4), np.array([2_880.0]))


def simulated_week(holds: float, flags: float, backlog: int, desks: int, seed: int) -> float:
    """What a strict audit counts of the week's new flags in the engine's own review
    queue (:class:`ReviewQueue`, one-minute reviews): ``backlog`` flags waiting at the
    start, holds (served first) and flags arriving at random over 7 days a day each at
    the given rates; unserved flags count 1, served ones their wait over the 168-hour
    window."""
    rng = np.random.default_rng(seed)
    week = 7 * 24.0

    def arrivals(per_day: float) -> np.ndarray:
        return np.sort(rng.uniform(0.0, week, rng.poisson(per_day * 7)))

    held, flagged = arrivals(holds), arrivals(flags)
    times = np.concatenate([np.zeros(backlog), held, flagged])
    actions = np.concatenate(
        [np.full(backlog, Action.FLAG), np.full(held.size, Action.HOLD),
         np.full(flagged.size, Action.FLAG)]
    )  # fmt: skip
    new = np.concatenate([np.zeros(backlog + held.size, bool), np.ones(flagged.size, bool)])
    order = np.argsort(times, kind="stable")
    queue = ReviewQueue(desks, 1.0 / 60.0, np.random.default_rng(seed + 1))
    queue.submit(times[order], actions[order], order)
    done = queue.run_until(week)
    started = np.zeros(times.size, bool)
    started[done.item] = True
    waits = np.full(times.size, np.nan)
    waits[done.item] = done.start_hours - done.arrival_hours
    served = float(started[new].mean())
    return (1.0 - served) + served * min(1.0, float(np.nanmean(waits[new & started])) / week)


@pytest.mark.parametrize(
    ("holds", "flags", "backlog", "tolerance"),
    [
        (2_000.0, 2_000.0, 20_000, 0.02),
        (1_000.0, 1_000.0, 5_000, 0.003),
        (2_000.0, 3_000.0, 2_000, 0.004),
    ],
)
def test_the_waiting_share_matches_the_engines_queue_behind_a_backlog(
    holds: float, flags: float, backlog: int, tolerance: float
) -> None:
    """``m`` against the engine's own review queue over a week, 4 desks, seeds 1-2.
    Measured: a backlog the week cannot clear (2,000 holds and 2,000 flags a day, 20,000
    waiting): simulated 0.836 / 0.843, rule 0.844 (served flags wait 109 h behind the
    backlog; without that wait the rule said 0.549, session 15's first form); backlogs
    cleared within the week (1,000 + 1,000 a day behind 5,000; 2,000 + 3,000 behind
    2,000): 0.0139 / 0.0147 against 0.0143, and 0.0122 / 0.0132 against 0.0145 (at load
    0.87 the Poisson mean wait runs a little above the queue's). The tolerances: about
    twice the gap between the seeds."""
    line = waiting_line(4, backlog=float(backlog))
    rule = dm.waiting_share(line, np.array([flags]), np.array([holds]))[0]
    for seed in (1, 2):
        assert simulated_week(holds, flags, backlog, 4, seed) == pytest.approx(rule, abs=tolerance)


def engine_queue_waits(
    rates: tuple[float, ...], actions: tuple[Action, ...], service: float, desks: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Waits (hours) of 150,000 items through the engine's own review queue
    (:class:`ReviewQueue`), Poisson arrivals of each class at ``rates`` an hour, served
    by the queue's priorities (``actions``): (waits, class index)."""
    rng = np.random.default_rng(seed)
    n, total = 150_000, sum(rates)
    arrivals = np.cumsum(rng.exponential(1.0 / total, n))
    classes = np.searchsorted(np.cumsum(rates) / total, rng.random(n), side="right")
    queue = ReviewQueue(desks, service, np.random.default_rng(seed + 1_000))
    queue.submit(arrivals, np.asarray(actions)[classes], np.arange(n))
    done = queue.run_until(float(arrivals[-1]) + 1e6)
    waits = np.empty(n)
    waits[done.item] = done.start_hours - done.arrival_hours
    return waits, classes


def test_the_published_posts_mean_wait_matches_the_engines_priority_queue() -> None:
    """``W_p`` (``waiting_share`` times a window long enough never to cap it) against the
    mean wait of the notices and flags in the engine's review queue, orders and holds
    served first (2 orders, 6 holds, 2 notices and 4 flags an hour, 0.12 h a review, 2
    desks: loads 0.48 and 0.84; 150,000 items, seeds 1-6). Measured: 0.94-1.03 of the
    rule's 0.553 h, mean 0.99 (a session 15 referee; the sample mean of correlated waits
    at this load is noisy), so each within 15% and the mean within 5%. Notices alone
    wait less (0.23 h) and flags more (0.74 h): ``W_p`` is their mean, Kleinrock's
    conservation law. The all-item mean (Erlang C, first come first served) is about half,
    outside."""
    service, desks = 0.12, 2
    window = 1e9  # hours: min(1, W / T) = W / T
    line = dm.WaitingLine(desks, service, 0.0, window, 7.0)
    first, published = 8.0, 6.0
    rule = window * dm.waiting_share(line, np.array([published * 24.0]), first * 24.0)[0]
    fcfs = window * dm.waiting_share(line, np.array([(first + published) * 24.0]))[0]
    actions = (Action.ORDER, Action.HOLD, Action.NOTICE, Action.FLAG)
    ratios = []
    for seed in range(1, 7):
        waits, classes = engine_queue_waits((2.0, 6.0, 2.0, 4.0), actions, service, desks, seed)
        simulated = float(np.mean(waits[classes >= 2]))
        assert simulated == pytest.approx(rule, rel=0.15), seed
        assert fcfs < 0.7 * simulated
        ratios.append(simulated / rule)
    assert float(np.mean(ratios)) == pytest.approx(1.0, abs=0.05)


def test_the_staffing_choice_weighs_the_same_waiting_rule() -> None:
    """staffing.missed_share under strict liability is waiting_share per head count."""
    from simulator.model import staffing
    from tests.test_hiring import inputs

    given = inputs(backlog=5_000.0)
    grid = np.array([0.0, 5.0, 20.0, 80.0])
    missed = staffing.missed_share(grid, given)
    at = np.array([given.threshold])
    first, published = dm.reviews_asked_by_class(given.policy.moderation, at, given.flows)
    assert first[0] > 0.0 and published[0] > 0.0
    for head, m in zip(grid, missed, strict=True):
        desks, hours = review_servers(float(head), given.review_minutes)
        line = dm.WaitingLine(desks, hours, 5_000.0, given.window_hours, given.period_days)
        assert m == dm.waiting_share(line, published, first)[0]
    assert missed[0] == 1.0 and np.all(np.diff(missed) <= 0.0) and missed[-1] < 0.01


def test_waiting_counted_is_the_removable_part_and_rises_with_strictness() -> None:
    """``Z = waiting_removable × m``: the published posts a review would take down, above
    the line; a stricter threshold asks for more reviews, so more of them wait."""
    scenario = simulator.load_scenario("china_csl_2016")
    _, policy = platform_policy_for(scenario, scenario.platforms[0])
    flows = np.array([50_000.0, 3_000.0, 800.0, 400.0])
    grid = policy.thresholds
    lines = policy.reading_lines()
    line = waiting_line(desks=2)
    z = dm.waiting_counted(policy.moderation, grid, lines, flows, line)
    first, published = dm.reviews_asked_by_class(policy.moderation, grid, flows)
    m = dm.waiting_share(line, published, first)
    removable = dm.waiting_removable(policy.moderation, grid, lines)
    assert np.allclose(z, removable * m[:, None, None], rtol=0, atol=0)
    assert np.all(np.diff(m[::-1]) >= -1e-12)  # grid from lax to strict: m rises
    # What a review takes down never exceeds what it is asked about, nor the posts above t.
    held = policy.moderation.hold(grid)
    assert np.all(removable[:, 0, :] <= 1.0 - held + 1e-15)


def understaffed_csl() -> simulator.Scenario:
    """china_csl_2016 with 4 reviewers per 100,000 users, fixed: its review line is long."""
    return _fixed_csl(4.0)


def test_the_strict_audit_prediction_counts_the_posts_waiting_for_review() -> None:
    """Under strict liability an audit counts the prohibited posts waiting for their review
    (S10), so what the platform predicts an audit to find (``P_a``, S8) must count them,
    or its learned detection ``κ̂ = (2 + Σ f) / (2 + Σ P)`` rises for the queue. Over three
    understaffed runs the predictions' sum is within a factor 1.5 of the truth's, the
    audits' own expectation ``n × up / published`` from events.csv (session 13: 9.29
    predicted, 9.63 expected; session 15, published posts waiting behind the holds and
    the backlog: 9.11 and 9.53; before the posts waiting were counted, 0.00 predicted
    where 7.62 were expected)."""
    scenario = understaffed_csl()
    size = scenario.regulator.audit_sample_size
    predicted = expected = 0.0
    for seed in (1, 2, 3):
        result = simulator.run(scenario, seed=seed)
        audits = result.events[result.events.event == "audit"]
        found: dict[str, int] = {}
        for row in audits.itertuples():
            detail = dict(part.split("=") for part in str(row.detail).split())
            published = float(detail["published"])
            expected += size * float(detail["up"]) / published if published else 0.0
            found[row.platform] = found.get(row.platform, 0) + int(detail["found"])
        for platform in result.summary["platforms"]:
            kappa = platform["detection_calibration"]
            predicted += (2.0 + found.get(platform["platform"], 0)) / kappa - 2.0
    assert expected > 3.0  # the queue leaves prohibited posts up for audits to find
    assert expected / 1.5 < predicted < expected * 1.5


def test_a_fixed_staff_flags_what_it_can_review() -> None:
    """Where the staff cannot follow the load (fixed), the threshold weighs the posts its
    line leaves waiting (S8): a platform with few reviewers does not flag beyond what they
    review, so more reviewers -> stricter, with short waits either way. Measured (session
    13; china_csl_2016 with fixed staff, 5,000 users x 120 days, paired seeds 1-2): mean
    strictness 0.33-0.35 at 2 reviewers per 100,000, 0.58-0.60 at 4, 0.83-0.91 at 16,
    0.98 at 64; mean waits 0.1-2.4 h. Before, at 4 per 100,000 it flagged at 0.97-0.98
    and its posts waited 730-860 hours."""
    for seed in (1, 2):
        few, many = (
            simulator.run(_fixed_csl(rate), seed=seed).summary["platforms"] for rate in (2.0, 16.0)
        )
        for lean, staffed in zip(few, many, strict=True):
            assert staffed["mean_strictness"] > lean["mean_strictness"] + 0.3, (seed, lean, staffed)
            assert lean["mean_queue_wait_hours"] < 24.0 and staffed["mean_queue_wait_hours"] < 24.0


def _fixed_csl(rate: float) -> simulator.Scenario:
    fixed: dict[str, object] = {"population.users": 5_000, "horizon_days": 120}
    for name in ("weibo", "tieba"):
        fixed[f"platforms.{name}.staffing"] = "fixed"
        fixed[f"platforms.{name}.reviewers_per_100k_users"] = rate
    return simulator.override(simulator.load_scenario("china_csl_2016"), fixed)


def test_reviews_asked_counts_every_touch_once_orders_included() -> None:
    """``F(t) = Σ_k N_k [h_k + (1 − h_k)(1 − (1 − f_k)(1 − n_k)(1 − o_k))]``: held posts and
    touched published ones (S5's ``q_k``), orders included (before session 14 they were
    left out: session 13 measured 13% fewer reviews than the queue's own count, not
    asserted here); plus, since issue 17, one review more for an approved held post
    (``a_k = h_k P(z ≤ t + m)``) that is ordered, noticed or (``m > 0``) flagged:
    ``a_k (1 − (1 − [m > 0])(1 − n_k)(1 − o_k))``."""
    import dataclasses

    scenario = simulator.load_scenario("china_csl_2016")
    _, policy = platform_policy_for(scenario, scenario.platforms[0])
    flows = np.array([50_000.0, 3_000.0, 800.0, 400.0])
    grid = policy.thresholds[[0, 20, 40, 63]]
    moderation = dataclasses.replace(
        policy.moderation,
        notice=np.array([0.001, 0.01, 0.02, 0.03]),
        monitor=np.array([0.0, 0.05, 0.1, 0.2]),
    )
    h, f = moderation.hold(grid), moderation.flag_share(grid)
    margin = moderation.held_review_margin
    assert margin < 0.0  # CSL's hold is stricter than the sweep: no flag after approval
    approved = h * ndtr(grid[:, None] + margin - moderation.reviewer_mean)
    untouched = (1 - moderation.notice) * (1 - moderation.monitor)
    by_hand = (h + (1 - h) * (1 - (1 - f) * untouched) + approved * (1 - untouched)) @ flows
    np.testing.assert_allclose(dm.reviews_asked(moderation, grid, flows), by_hand, rtol=1e-12)
    # With a positive margin every approved held post asks for its flag's review.
    lenient = dataclasses.replace(moderation, held_review_margin=0.3)
    approved = h * ndtr(grid[:, None] + 0.3 - moderation.reviewer_mean)
    by_hand = (h + (1 - h) * (1 - (1 - f) * untouched) + approved) @ flows
    np.testing.assert_allclose(dm.reviews_asked(lenient, grid, flows), by_hand, rtol=1e-12)
    # Orders alone ask for reviews: no hold, flag or notice, 10% of posts ordered.
    orders_only = dataclasses.replace(
        moderation, prepublication_filter=False, flag_margin=50.0,
        notice=np.zeros(4), monitor=np.full(4, 0.1),
    )  # fmt: skip
    np.testing.assert_allclose(
        dm.reviews_asked(orders_only, grid, flows), 0.1 * flows.sum(), rtol=1e-9
    )


@pytest.mark.parametrize(
    ("name", "users", "changes"),
    [
        ("china_weibo_2012", 5_000, {}),
        ("china_csl_2016", 5_000, {}),
        ("germany_netzdg_2017", 10_000, {}),
        ("eu_dsa_2024", 10_000, {"rules.appeals.enabled": False}),
    ],
)
def test_the_reviews_asked_are_the_reviews_the_queue_gets(
    name: str, users: int, changes: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load the platform plans with, ``F(t)`` (:func:`dm.reviews_asked` at the day's
    threshold and the posts that reached it that day), summed over 60 days, against the
    review items its simulated queue got (started, plus those still waiting at the end).
    Measured (seed 1, session 15): 1.001 (weibo_2012), 0.999 / 0.997 (csl weibo /
    tieba), 1.004 (NetzDG), 1.005 (DSA). The tolerance, 2%: the count's binomial spread is about
    ``1/sqrt(N)``, 0.6% at NetzDG's 27,000 reviews, and F leaves out second reviews of a
    post the first kept up (the rest of the gap). It fails when a kind of review is left
    out: the DSA's appeals (Art. 20, off here, not in F) add 3% (1.030 with them on: the
    test fails). Regulator orders are too rare at these sizes to show: F without them
    passes too (checked by hand, session 15)."""
    asked: dict[str, float] = {}
    count_day = PlatformState.count_day

    def planned(self: PlatformState, reached: np.ndarray) -> None:
        assert self.policy is not None
        at = np.array([self.threshold])  # the threshold the day's posts met
        load = dm.reviews_asked(self.policy.moderation, at, np.asarray(reached, dtype=float))
        asked[self.name] = asked.get(self.name, 0.0) + float(load[0])
        count_day(self, reached)

    monkeypatch.setattr(PlatformState, "count_day", planned)
    result = simulator.run(reduced(name, users=users, days=60, **changes), seed=1)
    daily = result.platform_daily
    assert set(asked) == set(daily.platform)
    for platform, plan in asked.items():
        rows = daily[daily.platform == platform]
        got = float(rows.reviews.sum() + rows.queue_waiting.iloc[-1])
        assert plan > 5_000 and got == pytest.approx(plan, rel=0.02), platform


def test_the_grid_tables_made_once_a_run_are_the_rule_made_afresh() -> None:
    """The strict-liability waiting term reads the grid's reviews asked and removable posts
    made once a run (``PlatformPolicy.grid_table``): every day's value equals the rule
    computed afresh, to the bit, at the grid and at a threshold off it, and a timeline's
    change (``forget_tables``) makes them again from the new moderation."""
    scenario = simulator.load_scenario("china_csl_2016")
    _, policy = platform_policy_for(scenario, scenario.platforms[0])
    grid, lines = policy.thresholds, policy.reading_lines()
    for day, (flows, backlog) in enumerate(
        [([50_000.0, 3_000.0, 800.0, 400.0], 0.0), ([80_000.0, 900.0, 2_000.0, 50.0], 4e4)]
    ):
        policy.flows = np.array(flows)
        line = dm.WaitingLine(3, 1.0 / 60.0, backlog, 168.0, 7.0)
        fresh = dm.waiting_counted(policy.moderation, grid, lines, policy.flows, line)
        late = dm.policy_late(policy, grid, line)
        assert late is not None and np.array_equal(late, fresh), day
        assert dm.policy_waiting_tables(policy, grid).removable is dm.policy_waiting_tables(
            policy, grid
        ).removable  # made once
        stacked = dm.policy_late_by_queue(policy, grid, [line, line])
        assert stacked is not None and np.array_equal(stacked[1], fresh)
        off_grid = np.array([float(grid[10]) + 0.01])
        alone = dm.policy_late(policy, off_grid, line)
        want = dm.waiting_counted(policy.moderation, off_grid, lines, policy.flows, line)
        assert alone is not None and np.array_equal(alone, want)
        # Thresholds of the grid's shape but not the grid (the review of session 17: the
        # case above could not tell a memo keyed on the shape from one keyed on values).
        shifted = grid + 0.01
        moved = dm.policy_late(policy, shifted, line)
        want = dm.waiting_counted(policy.moderation, shifted, lines, policy.flows, line)
        assert moved is not None and np.array_equal(moved, want)
        assert not np.array_equal(moved, late)
        asked = dm.reviews_asked(
            policy.moderation, grid, policy.flows, dm.policy_asked_rows(policy)
        )
        assert np.array_equal(asked, dm.reviews_asked(policy.moderation, grid, policy.flows))
    # A timeline entry changes what is monitored: the tables follow.
    from dataclasses import replace

    policy.moderation = replace(policy.moderation, monitor=policy.moderation.monitor + 0.3)
    policy.forget_tables()
    fresh = dm.waiting_counted(policy.moderation, grid, lines, policy.flows, line)
    late = dm.policy_late(policy, grid, line)
    assert late is not None and np.array_equal(late, fresh)
