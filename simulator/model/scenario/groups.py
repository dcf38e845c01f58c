"""A scenario's user groups: ``[[groups]]`` entries (regions, professions, minorities,
activists), each with its share of the population, its own posting, stance, boldness
and network mixing, and its own scrutiny (docs/model.md 1.2 "Groups", S1, S5a, S11,
S12; docs/scenarios.md "Groups").

Without ``[[groups]]`` the population is one group and nothing here is drawn or read
(the scenario's hash and every output are as before groups existed).

A group may write its own mix of sensitive kinds (``sensitive_mix``: activists more
calls to act, a few heavy offenders most of the unlawful posts); its members' authors
are then drawn kind by kind from their own weights (docs/model.md S1).

Scrutiny is stated as factors on the scenario's own rates, so a group under no special
scrutiny has factor 1 and the national rule is the scenario's:

- ``filtering``: the platforms hold (pre-publication filter) or flag (keyword sweep)
  a member's sensitive post with ``min(1, P * f_g)`` (targeted filtering, S5, S5a);
- ``monitoring``: the regulator watches the group's public posts ``monitoring`` times
  as intensely (per view, S5a): ``P(ordered) = 1 - (1 - m)^(A_i f_g)`` for monitoring
  probability ``m``, audience ``A_i`` and factor ``f_g``;
- ``reporting``: a removal of a member's prohibited post is reported to the police
  with ``min(1, report_probability * f_g)`` (S11, proactive reporting);
- ``detention``: an identified member's report ends in detention with
  ``min(1, detention_probability.k * f_g)`` (S12).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from simulator.errors import MISSING

#: The most groups a scenario may have (group ids are int8).
MAX_GROUPS = 64

Factor = Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)]


class GroupBeta(BaseModel):
    """A Beta(alpha, beta) distribution on [0, 1] (a group's stance or boldness)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    alpha: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 2.0
    beta: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 2.0

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class GroupMix(BaseModel):
    """A group's own sensitive mix: the share of an average member's intended posts of
    each sensitive kind (as ``population.sensitive_mix``, before stance); the rest is
    benign. All three are given."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    critical: Share
    collective_action: Share
    unlawful: Share


class Group(BaseModel):
    """One group of users (docs/scenarios.md "Groups")."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")]
    """How outputs (``groups_daily.csv``, summary.json's ``groups``) call it."""
    share: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    """Share of the population (and of newcomers: a slot keeps its group, S14)."""
    posts_per_day_factor: Factor = 1.0
    """The group's mean posting rate over ``population.posts_per_day``."""
    stance: GroupBeta | None = None
    """The group's stance distribution; none: the population's."""
    boldness: GroupBeta | None = None
    """The group's boldness distribution; none: the population's."""
    sensitive_mix: GroupMix | None = None
    """The group's own mix of sensitive kinds (a member's share of each is this mix times
    stance over the population's mean stance, S1); none: the population's."""
    homophily: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0
    """Share of the edges a member draws that go to another member (the rest to anyone,
    the group included): 0 is random mixing."""
    filtering: Factor = 1.0
    """Factor on the platforms' chance to hold or flag members' sensitive posts
    (targeted keyword filtering), capped at 1."""
    monitoring: Factor = 1.0
    """Factor on the regulator's monitoring intensity for members' public posts."""
    reporting: Factor = 1.0
    """Factor on the platforms' ``report_probability`` for members' removals."""
    detention: Factor = 1.0
    """Factor on ``police.detention_probability`` for identified members."""
    description: Annotated[str, Field(max_length=2000)] = ""
    source: Annotated[str, Field(max_length=2000)] = ""
    """Where its values come from (docs/references.md ids), or ASSUMPTION."""


def group_problems(groups: list[object]) -> list[tuple[str, str]]:
    """Cross-field problems of ``groups`` (their values or MISSING): at most
    :data:`MAX_GROUPS`, unique names, shares adding up to 1."""
    if not groups:
        return []
    problems: list[tuple[str, str]] = []
    if len(groups) > MAX_GROUPS:
        problems.append(("groups", f"at most {MAX_GROUPS} groups, got {len(groups)}"))
    names = [getattr(g, "name", MISSING) for g in groups if g is not MISSING]
    known = [n for n in names if n is not MISSING]
    if len(set(known)) != len(known):
        problems.append(("groups", f"group names must be unique, got {known}"))
    shares = [getattr(g, "share", MISSING) for g in groups if g is not MISSING]
    if len(shares) == len(groups) and all(s is not MISSING for s in shares):
        total = float(sum(shares))  # type: ignore[arg-type]
        if abs(total - 1.0) > 1e-6:
            problems.append(
                ("groups", f"the groups' share must add up to 1, got {total:g} ({known})")
            )
    return problems
