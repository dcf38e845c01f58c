"""Later touches of an approved held post (issue 17; docs/model.md S5, "Later touches
of an approved held post"). The readable statement; the engine runs the same rule
compiled (the publishing kernel keeps the two delays, :func:`held_delays`;
:func:`simulator.kernels.review.review_day` creates the items, :func:`touch_times`).
Times are hours since the run's start.

A post the pre-publication filter held and a reviewer approved at ``t_a`` (its HOLD
review's finish) is published at ``t_a`` and then gets the touches a post published at
``t_a`` gets (S5, S5a):

    flag:    iff m > 0, at  Δ · ⌈t_a / Δ⌉                 (no draw)
    notice:  iff u₂ < F(∞), at  t_a + F⁻¹(u₂)            (public channel only)
    order:   iff u₃ < F(∞), at  t_a + F⁻¹(u₃)

``m = held_review_margin``. Where the hold's review is as strict as the sweep's or
stricter (``m ≤ 0``) a second review at an unchanged line could remove nothing, and a
platform that records its reviews does not ask for it: no flag. With ``m > 0`` the flag
is certain (the classifier score that passed ``t + hold_margin`` passed
``t + flag_margin ≤ t + hold_margin``, S4). ``u₂, u₃`` are the post's own uniforms drawn
at publication (S5: three per individually drawn post, held ones included), so nothing
new is drawn; ``F`` is S5a's attention distribution of the post (its author's audience
``A_i`` on the public channel; a benign post, or a private message, at ``A = 1``, its
uniform read against the unconditional ``p_j``). The delays ``F⁻¹(u)`` (``inf``: never)
are kept on the post (``held_notice_delay``, ``held_order_delay``) until approval.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulator.model import arrivals

FloatArray = NDArray[np.float64]


def held_delays(
    u: ArrayLike, rate: ArrayLike, audience_size: ArrayLike, tau_hours: float
) -> FloatArray:
    """``F⁻¹(u)`` where ``u < F(∞)``, ``inf`` elsewhere (hours after publication): the
    delay a held post's notice or order would have after approval (S5a with ``t_pub = 0``)."""
    return arrivals.attention_times(0.0, u, rate, audience_size, tau_hours)


def touch_times(
    approved_hours: ArrayLike,
    sweep_interval_hours: float,
    held_review_margin: float,
    notice_delay: ArrayLike,
    order_delay: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Arrival hours of the flag, notice and order of held posts approved at
    ``approved_hours`` (``inf``: no such item), one statement per rule."""
    t_a = np.asarray(approved_hours, dtype=np.float64)
    flag = (
        arrivals.sweep_times(t_a, sweep_interval_hours)
        if held_review_margin > 0.0
        else np.full(t_a.shape, np.inf)
    )
    notice = t_a + np.asarray(notice_delay, dtype=np.float64)  # inf delay: never
    order = t_a + np.asarray(order_delay, dtype=np.float64)
    return flag, notice, order
