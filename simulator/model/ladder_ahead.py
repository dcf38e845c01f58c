"""The penalty ladder as a platform weighs it: the expected present value of the penalties
still to come from its rung (issue 16 item 3; docs/model.md S8, "The ladder ahead").

Audits arrive at rate ``λ`` and each finds a violation with chance ``P`` (the policy held);
from rung ``l`` a violation moves the platform up a rung (a revoked licence ends the game),
``m`` clean audits in a row move it one down (S10). ``W_l = a (V_l + W_{l+1}) + d W_{l−1}``
with ``a`` the discounted chance a violation comes first and ``d`` that the step down does
(:func:`rung_costs`); :func:`ladder_penalty` is ``ρ W`` from the platform's own rung and
clean audits, a daily amount. Used by :mod:`simulator.model.platform_policy` (the daily
threshold) and :mod:`simulator.model.staffing` (the weekly head count) alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Ladder:
    """The penalty ladder as a platform weighs it (docs/model.md S8, "The ladder ahead").

    ``values`` is what each rung costs (currency: :func:`~simulator.model.platforms.penalty_value`),
    ``absorbing`` whether a rung ends the game (a revoked licence: nothing follows),
    ``deescalate_after`` the clean audits in a row that step the regulator one rung down
    (S10), ``level`` the rung the next violation gets, ``clean`` the clean audits counted
    towards the next step down, ``discount_per_day`` the platform's discount rate ``ρ``
    (per day). A top rung that is not absorbing repeats, as in :mod:`simulator.model.regulator`.
    """

    values: FloatArray
    absorbing: tuple[bool, ...]
    deescalate_after: int
    discount_per_day: float
    level: int = 0
    clean: int = 0

    @classmethod
    def one_rung(cls, value: float, discount_per_day: float) -> Ladder:
        """A single repeating rung (the simplest ladder: the same fine at every violation)."""
        return cls(np.array([float(value)]), (False,), 1, discount_per_day)


def _stay_and_leave(
    violation: FloatArray, per_audit_discount: float, audits_to_step_down: FloatArray | int
) -> tuple[FloatArray, FloatArray]:
    """For a platform at a rung that needs ``audits_to_step_down`` clean audits in a row
    to step down, audits finding a violation with chance ``P`` and each audit discounted
    by ``β``: ``a``, the discounted chance that a violation comes first
    (``Σ_{j<m} β^{j+1} (1 − P)^j P``), and ``d``, that the step down does (``(β(1 − P))^m``)."""
    p = np.asarray(violation, dtype=float)
    x = per_audit_discount * (1.0 - p)
    m = np.asarray(audits_to_step_down, dtype=float)
    d = x**m
    # Σ_{j<m} x^j = (1 − x^m)/(1 − x); x < 1 since β < 1.
    a = per_audit_discount * p * (1.0 - d) / (1.0 - x)
    return a, d


def rung_costs(violation: FloatArray, ladder: Ladder, audits_per_day: float) -> FloatArray:
    """``W_l(t)``: the expected present value of the penalties still to come from rung
    ``l`` with no clean audit counted, on the grid: shape (grid, rungs) (currency).

    Audits arrive at rate ``λ`` (``audits_per_day``) and each finds a violation with
    the grid's chance ``P(t)`` (the policy held at ``t``); an audit's penalty is
    discounted by ``β = λ/(λ + ρ)`` per audit (the mean of ``e^{−ρ τ}`` over the
    exponential wait ``τ``). From rung ``l``, with ``a`` and ``d`` of
    :func:`_stay_and_leave` for ``m = deescalate_after``:
    ``W_l = a (V_l + W_{l+1}) + d W_{l−1}`` (``W_{l+1}`` is 0 after an absorbing rung, and
    the top rung repeats; at rung 0 a step down stays at 0): a linear system per grid
    point."""
    p = np.asarray(violation, dtype=float)
    rungs = len(ladder.values)
    beta = audits_per_day / (audits_per_day + ladder.discount_per_day)
    if beta <= 0.0:
        return np.zeros((p.shape[0], rungs))
    a, d = _stay_and_leave(p, beta, ladder.deescalate_after)
    system = np.zeros((p.shape[0], rungs, rungs))
    for rung in range(rungs):
        system[:, rung, rung] += 1.0
        if not ladder.absorbing[rung]:
            system[:, rung, min(rung + 1, rungs - 1)] -= a
        system[:, rung, max(rung - 1, 0)] -= d
    values, scale = _scaled_values(ladder)
    right = a[:, None] * values[None, :]
    with np.errstate(over="ignore"):  # values near 1e308: inf, still ordered
        return np.asarray(np.linalg.solve(system, right[..., None])[..., 0] * scale)


def _scaled_values(ladder: Ladder) -> tuple[FloatArray, float]:
    """The rungs' values divided by the largest (and that factor): :func:`rung_costs` is
    linear in them, and values near 1e308 would overflow inside the solve."""
    values = np.asarray(ladder.values, dtype=float)
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    if scale == 0.0 or not np.isfinite(scale):
        return values, 1.0
    return values / scale, scale


def ladder_penalty(violation: FloatArray, ladder: Ladder, audits_per_day: float) -> FloatArray:
    """``ρ W(L, c)`` on the grid (currency per day): the penalties the platform expects
    from the ladder ahead, from its rung ``L`` with ``c`` clean audits counted, as a daily
    amount (``ρ`` times their present value, so it adds to the day's goodwill). With one
    repeating rung of cost ``V`` it is ``λ P V``, the expected penalty of the day's
    audits; with a ladder it also counts the dearer rungs a violation leads to, for as
    long as the regulator keeps the platform there, and the licence a hopeless policy
    ends up losing."""
    p = np.asarray(violation, dtype=float)
    if len(ladder.values) == 0 or audits_per_day <= 0.0:
        return np.zeros(p.shape[0])
    rho = ladder.discount_per_day
    level = min(ladder.level, len(ladder.values) - 1)
    values, scale = _scaled_values(ladder)
    # In units of the dearest rung (finite), scaled back at the end (may overflow to inf).
    costs = rung_costs(p, dataclasses.replace(ladder, values=values), audits_per_day)
    beta = audits_per_day / (audits_per_day + rho)
    remaining = max(1, ladder.deescalate_after - ladder.clean)
    a, d = _stay_and_leave(p, beta, remaining)
    above = 0.0 if ladder.absorbing[level] else costs[:, min(level + 1, len(values) - 1)]
    below = costs[:, max(level - 1, 0)]
    present = a * (float(values[level]) + above) + d * below
    with np.errstate(over="ignore"):
        return np.asarray(rho * present * scale)
