"""A scenario's timeline: ``[[timeline]]`` entries that, from the start of a day, set or
change parameters, or block and unblock platforms, for good or for ``days`` days
(docs/model.md 1.3 "Scheduling", docs/scenarios.md "Timelines").

Only the fields of :data:`CHANGEABLE` may change mid-run: each is re-derived by the
engine at the start of the day (:mod:`simulator.engine.timeline`, one function per
family). Any other field is refused with a message naming the entry, the field and what
is allowed. Which values hold on which day is :mod:`simulator.model.scenario.days`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator.model.scenario.access import CHANGEABLE_ACCESS

#: The fields a timeline entry may change, by family: each family is one function of
#: the engine (:mod:`simulator.engine.timeline`) re-deriving what depends on it.
CHANGEABLE: dict[str, tuple[str, ...]] = {
    "enforcement": (
        "regulator.audits_per_year",
        "regulator.monitoring_probability",
        "regulator.audit_sample_size",
        "rules.penalties.ladder",
        "rules.penalties.tolerance",
        "rules.penalties.deescalate_after_clean_audits",
        "rules.penalties.warning_cost",
    ),
    "police": (
        "police.detention_probability.benign",
        "police.detention_probability.critical",
        "police.detention_probability.collective_action",
        "police.detention_probability.unlawful",
        "police.identify_anonymous_probability",
        "police.detention_days",
    ),
    "line": ("rules.takedown.vagueness",),
    "reporting": ("rules.reporting.mode",),
    "perception": (
        "population.perception.visibility",
        "population.perception.news_case_weight",
        "population.perception.news_punished_posts_per_day.critical",
        "population.perception.news_punished_posts_per_day.collective_action",
        "population.perception.news_punished_posts_per_day.unlawful",
        "population.perception.friend_detention_weight",
    ),
    "access": CHANGEABLE_ACCESS,
    "real_name": (
        "rules.real_name.enabled",
        "rules.real_name.refusal_probability",
        "rules.real_name.circumvent_probability",
    ),
}

#: Every changeable field, and its family.
FAMILY_OF: dict[str, str] = {path: family for family, paths in CHANGEABLE.items() for path in paths}

#: A group's scrutiny factors a timeline may change (``groups.NAME.FIELD``, family
#: ``groups``: a crackdown on one region); the group must exist (scenario checks).
GROUP_FIELDS = ("filtering", "monitoring", "reporting", "detention")


def family_of(path: str) -> str | None:
    """The family of a field a timeline may change, or None."""
    if path in FAMILY_OF:
        return FAMILY_OF[path]
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "groups" and parts[2] in GROUP_FIELDS:
        return "groups"
    return None

#: Why some fields a user may well try cannot change mid-run, and what to use instead.
_WHY_NOT: dict[str, str] = {
    "rules.real_name.start_day": (
        "an entry's own `day` is when it starts: turn the rule on with "
        "`rules.real_name.enabled = true` in an entry of that day, "
        "and leave `rules.real_name.start_day` at 0"
    ),
    "rules.takedown": (
        "takedown duties and the prohibited kinds are set up once, before day 0 "
        "(the platforms' policies, users' reading of the law and their beliefs are built "
        "from them)"
    ),
    "regulator.audit_window_days": "the audits' window of published posts is kept from day 0",
    "police.investigators_per_100k_users": "the police's queue is sized before day 0",
    "platforms": "platforms are set up before day 0; a timeline may `block` or `unblock` them",
    "groups": (
        "a group's share, traits and network are set up before day 0; a timeline may "
        "change its scrutiny: `groups.NAME.` + " + " / ".join(GROUP_FIELDS)
    ),
    "access.enabled": "whether users choose when access changes is set for the whole run",
    "access.taste_scale": "users' tastes are drawn once for the run",
}


def refusal(paths: Sequence[str]) -> str:
    """The message for the fields a timeline entry may not change, every one of them:
    why each cannot, and what is allowed."""

    def one(path: str) -> str:
        reason = next((why for prefix, why in _WHY_NOT.items() if path.startswith(prefix)), "")
        return f"`{path}` cannot change mid-run" + (f" ({reason})" if reason else "")

    allowed = ", ".join(FAMILY_OF)
    return (
        "; ".join(one(path) for path in paths)
        + f"; a timeline may change: {allowed}; "
        + "groups.NAME.filtering, monitoring, reporting, detention; "
        + "and `block` / `unblock` platforms"
    )


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"police": {"detention_days": 30}}`` and ``{"police.detention_days": 30}`` both
    as ``{"police.detention_days": 30}`` (TOML writes dotted keys as nested tables)."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and path not in FAMILY_OF:
            flat.update(flatten(value, prefix=f"{path}."))
        else:
            flat[path] = value
    return flat


class TimelineEntry(BaseModel):
    """One entry: from the start of ``day`` (0 = the first), the fields of ``set`` take
    their values and the platforms of ``block`` stop serving (``unblock``: serve again);
    with ``days``, all of it is lifted after that many days (a campaign). Entries apply
    in order of ``day``, then of the file; a later one wins on a field both set."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")]
    """How events.csv, `censim show` and sweeps (``timeline.NAME.day``) call it."""
    day: int = Field(ge=0, le=36_500)
    days: int | None = Field(None, ge=1, le=36_500)
    """How long it lasts; ``None``: to the end of the run."""
    set: Annotated[dict[str, Any], Field(strict=False)] = {}
    """Dotted field paths (or nested tables) and their values from ``day`` on."""
    block: Annotated[tuple[str, ...], Field(strict=False)] = ()
    unblock: Annotated[tuple[str, ...], Field(strict=False)] = ()
    description: Annotated[str, Field(max_length=2000)] = ""
    source: Annotated[str, Field(max_length=2000)] = ""
    """Where the date and the values come from (a docs/references.md id), or ASSUMPTION."""

    @field_validator("set", mode="before")
    @classmethod
    def _changeable(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        flat = flatten(value)
        refused = [path for path in flat if family_of(path) is None]
        if refused:
            raise ValueError(refusal(refused))
        return flat

    @field_validator("block", "unblock", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, tuple) and len(set(value)) != len(value):
            raise ValueError("platform names must not repeat")
        return value

    def changes_anything(self) -> bool:
        return bool(self.set or self.block or self.unblock)
