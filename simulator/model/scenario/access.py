"""The ``[access]`` section: what users weigh when their platform stops serving them
(docs/model.md S9a "Choices when access changes"; :mod:`simulator.model.access`).

Utilities are per day, in units of what the home service is worth to a user of average
posting rate (a platform's ``values`` entry, 1 unless given); stopping is worth 0.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

Value = Annotated[float, Field(ge=0.0, le=1_000.0, allow_inf_nan=False)]


class Access(BaseModel):
    """Stop, move or circumvent when a platform is blocked, suspended or gone."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: bool = False
    """``false``: the rules before the choice (a blocked or suspended platform's users
    wait without access; a gone platform's users move by market share: S9)."""
    values: Annotated[dict[str, Value], Field(strict=False)] = {}
    """What each platform is worth per day to a user of average posting rate (platform
    name -> value; 1 for a platform not named)."""
    foreign_value: Value = 0.5
    """What the foreign service reached by circumvention is worth when the lost platform
    is gone or suspended rather than blocked (a blocked one is reached itself)."""
    circumvention_cost: Value = 0.3
    """Running cost of circumvention per day (a VPN's price, time and friction)."""
    legal_risk: Value = 0.0
    """Expected legal cost per day of using circumvention tools where the law punishes
    it (probability of being caught times the penalty, in the same units)."""
    moving_cost: Value = 0.3
    """Cost per day of posting on another platform than the one lost (a new network,
    amortised)."""
    taste_scale: Annotated[float, Field(gt=0.0, le=1_000.0, allow_inf_nan=False)] = 1.0
    """Scale of the users' idiosyncratic tastes (Gumbel, one per user and option, kept for
    the run): the logit's noise (McFadden 1974)."""

    @field_validator("values", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return dict(value) if isinstance(value, dict) else value


#: The fields of ``[access]`` a timeline entry may change mid-run.
CHANGEABLE_ACCESS = (
    "access.values",
    "access.foreign_value",
    "access.circumvention_cost",
    "access.legal_risk",
    "access.moving_cost",
)
