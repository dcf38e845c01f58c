"""Detentions under vague offences: which removed posts can reach the police
(docs/model.md S11 "Reporting users to the authorities", S12, S3).

A vague offence ("picking quarrels and provoking trouble", "spreading rumours") lets the
authorities count a lawful post near the line as the offence. The rule reads the line
as the platforms and users do (:func:`simulator.model.platform_policy.line_probability`,
``q_k = min(1, vagueness × closeness_k)`` for a lawful sensitive kind, B5, B6): the
*offence line* of kind ``k`` is

    o_k = 1                  if kind k is prohibited,
    o_k = q_k                if kind k is lawful and the police detain for it (d_k > 0),
    o_k = 0                  otherwise (benign posts; a lawful kind no offence reaches),

the chance that the authorities count a removed post of kind ``k`` as an offence. It is
read case by case (the police's and prosecutors' discretion under a vague offence:
each report is a separate case, so ``o_k`` is a per-post chance, unlike the regulator's
audit reading of :func:`~simulator.model.platform_policy.line_readings`, which is one per
kind and counts only prohibited kinds, :func:`~simulator.model.platform_policy.enforced_line`).

Under proactive reporting a platform reports its own removal of a post of kind ``k``
with probability ``r_p × o_k`` (``r_p`` its ``report_probability``); the police then
identify and detain as for any report (S12). So vagueness, detention severity and what
users see of detentions all reach lawful speech through the detention belief users learn
(S16) and weigh with a concave cost in days (S3; B1 Nagin 2013: certainty deters more
than severity). Where vagueness is 0 or the police detain for no lawful kind, ``o_k`` is
the prohibition mask and reporting is as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from simulator.model.platform_policy import line_probability
from simulator.model.scenario import Scenario

FloatArray = NDArray[np.float64]


def offence_line(
    prohibited: Sequence[bool] | NDArray[np.bool_],
    line: Sequence[float] | FloatArray,
    detention_probability: Sequence[float] | FloatArray,
) -> FloatArray:
    """``o_k`` per kind (module docstring): 1 for a prohibited kind, the line probability
    ``q_k`` for a lawful kind the police detain for (``detention_probability_k > 0``),
    0 for benign posts (index 0) and every other kind."""
    banned = np.asarray(prohibited, dtype=bool)
    q = np.clip(np.asarray(line, dtype=float), 0.0, 1.0)
    detains = np.asarray(detention_probability, dtype=float) > 0.0
    out = np.where(banned, 1.0, np.where(detains, q, 0.0))
    out[0] = 0.0
    return np.asarray(out, dtype=float)


def report_chance(report_probability: float, offence: FloatArray) -> FloatArray:
    """Per kind, the chance that a platform reports its own removal of a post of that
    kind: ``r_p × o_k``."""
    return np.asarray(float(report_probability) * np.asarray(offence, dtype=float))


def scenario_offence_line(scenario: Scenario) -> FloatArray:
    """``o_k`` of ``scenario``: its prohibition mask, its line probability
    (``rules.takedown.vagueness`` × ``population.perception.kind_closeness``) and
    ``police.detention_probability``."""
    takedown = scenario.rules.takedown
    prohibited = takedown.prohibited_mask()
    q = line_probability(
        prohibited, scenario.population.perception.kind_closeness.as_tuple(), takedown.vagueness
    )
    return offence_line(prohibited, q, scenario.police.detention_probability.as_tuple())
