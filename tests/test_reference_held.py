"""The reference model's approved held posts (issue 17; docs/model.md S5, "Later touches
of an approved held post"): a held post a reviewer approves is published then and gets
the touches of a post published then, in simulator/reference/moderation.py, one SimPy
process each: a flag at the next sweep where ``held_review_margin`` m > 0, its notice and
its order after the delays its own uniforms gave when it was held."""

from __future__ import annotations

import math

import pytest

import simulator
from simulator.kinds import Action, Channel, ContentKind, Outcome
from simulator.reference import ReferenceSimulation
from simulator.reference.world import Post

KIND = int(ContentKind.CRITICAL)
SWEEP_HOURS = 0.5


def _world(margin: float) -> ReferenceSimulation:
    """A classroom world whose first platform holds posts with hold line ``t + margin``
    and sweeps every half hour; nothing runs until a test starts a process."""
    scenario = simulator.override(
        simulator.load_scenario("classroom"),
        {
            "population.users": 200,
            "horizon_days": 3,
            "platforms.0.prepublication_filter": True,
            "platforms.0.held_review_margin": margin,
            "platforms.0.sweep_interval_hours": SWEEP_HOURS,
            "rules.appeals.enabled": False,
        },
        source="test",
    )
    return ReferenceSimulation(scenario, seed=7)


def _held(sim: ReferenceSimulation, score: float, order_delay: float = math.inf) -> Post:
    """A critical public post held at time 0 with reviewer score ``score`` (its notice
    never comes; its order ``order_delay`` hours after approval), sent to its HOLD review."""
    platform = sim.platforms[0]
    post = Post(sim.users[0], 0, 0, int(Channel.PUBLIC), KIND, 0.0, score)
    post.held_order_delay = order_delay
    sim.count(0, 0, int(Channel.PUBLIC), KIND, Outcome.BLOCKED)
    sim.env.process(sim.review(platform, post, Action.HOLD, 0.0))
    return post


def test_an_approved_held_post_over_the_line_is_removed_after_its_flag() -> None:
    """m = 0.5: a post scored in (t, t + m] passes its hold's review, is published at its
    approval, flagged at the next sweep and removed by the flag's review (score over t);
    one scored under t is approved and stays up."""
    sim = _world(0.5)
    t = sim.platforms[0].state.threshold
    over = _held(sim, t + 0.25)
    under = _held(sim, t - 0.25)
    sim.env.run(until=12.0)
    assert over.blocked_hours == math.inf and over.published_hours < math.inf
    assert over.removed_by == Action.FLAG
    assert over.removed_hours >= sim.next_sweep(over.published_hours, SWEEP_HOURS)
    assert under.published_hours < math.inf and under.removed_hours == math.inf
    assert sim.recorder.tallies["flagged"][KIND] == 2  # both flagged; one removed
    cell = sim.recorder.counts[0, 0, int(Channel.PUBLIC), KIND]
    assert cell[Outcome.REMOVED] == 1 and cell[Outcome.SURVIVING] == 1
    assert cell[Outcome.BLOCKED] == 0


@pytest.mark.parametrize("margin", [-0.3, 0.0])
def test_with_a_hold_as_strict_as_the_sweep_no_flag_follows(margin: float) -> None:
    """m ≤ 0: no flag is asked after approval (a review at t could remove nothing the
    hold's review at t + m kept), and a post approved just under the hold's line stays up."""
    sim = _world(margin)
    t = sim.platforms[0].state.threshold
    post = _held(sim, t + margin - 0.05)
    sim.env.run(until=12.0)
    assert post.published_hours < math.inf and post.removed_hours == math.inf
    assert sim.recorder.tallies["flagged"][KIND] == 0


@pytest.mark.parametrize("margin", [-0.3, 0.5])
def test_an_ordered_approved_held_post_is_removed(margin: float) -> None:
    """An approved held post the regulator orders down (its order 2 hours after approval)
    is removed by the order, whatever its score."""
    sim = _world(margin)
    t = sim.platforms[0].state.threshold
    post = _held(sim, t - 2.0, order_delay=2.0)
    sim.env.run(until=12.0)
    assert post.published_hours < math.inf
    assert post.removed_by == Action.ORDER
    assert post.removed_hours >= post.published_hours + 2.0
    assert sim.recorder.tallies["orders"][KIND] == 1


def test_a_held_post_keeps_the_delays_its_own_uniforms_give() -> None:
    """At publication a held post draws the published post's uniforms (flag, notice,
    order) and keeps the notice's and the order's delays (S5a) for after its approval:
    with notices and orders certain, both are finite; a blocked post never uses them."""
    sim = _world(0.5)
    platform = sim.platforms[0]
    platform.hold[KIND] = 1.0  # every post held
    sim.notice_probability = [0.999] * len(sim.notice_probability)
    sim.monitor_probability = [0.999] * len(sim.monitor_probability)
    user = next(u for u in sim.users if u.neighbours)
    drawn: list[Post] = []
    original = sim.review

    def capture(platform, post, action, delay):  # type: ignore[no-untyped-def]
        drawn.append(post)
        return original(platform, post, action, delay)

    sim.review = capture  # type: ignore[method-assign]
    sim.publish(platform, user, 0, int(Channel.PUBLIC), KIND)
    (post,) = drawn
    assert post.published_hours == math.inf  # held
    assert 0.0 <= post.held_notice_delay < math.inf
    assert 0.0 <= post.held_order_delay < math.inf
