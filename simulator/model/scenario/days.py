"""Which values a scenario's timeline puts in force on which day (docs/model.md 1.3,
"Scheduling"): :func:`plan_timeline` folds the entries active on each day onto the
scenario and keeps the days on which something actually changes.

On day ``d`` the values in force are the scenario's, then each entry active on ``d``
(``day <= d < day + days``) in order of ``day`` and of the file, each setting its
fields and blocking or unblocking its platforms. An entry that ends is lifted by
computing the day again without it. A day on which the values in force equal the day
before's is no change at all: nothing is re-derived and nothing is recorded, so an entry
that sets a field to the value it has changes no output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from simulator.errors import MISSING, ScenarioError
from simulator.model.scenario.sections import Scenario
from simulator.model.scenario.timeline import TimelineEntry, family_of


@dataclass(frozen=True)
class Change:
    """One field's value before and after a day boundary."""

    path: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.path} {_short(self.before)} -> {_short(self.after)}"


@dataclass(frozen=True)
class TimelineEvent:
    """What one entry changed on one day: it started (``start``) or was lifted (``end``)."""

    day: int
    entry: str
    action: str
    changes: tuple[Change, ...]
    blocked: tuple[str, ...] = ()
    unblocked: tuple[str, ...] = ()

    def detail(self) -> str:
        """events.csv's ``detail``: ``entry=NAME action=start; path before -> after; ...``."""
        parts = [f"entry={self.entry} {self.action}", *(str(c) for c in self.changes)]
        parts += [f"block {name}" for name in self.blocked]
        parts += [f"unblock {name}" for name in self.unblocked]
        return "; ".join(parts)


@dataclass(frozen=True)
class DayChange:
    """What is in force from the start of ``day`` on, where it differs from the day before."""

    day: int
    scenario: Scenario  # the values in force from this day (without its timeline)
    families: frozenset[str]  # :data:`~simulator.model.scenario.timeline.CHANGEABLE` keys
    blocked: frozenset[str]  # platforms blocked from this day
    events: tuple[TimelineEvent, ...]

    @property
    def blocks_changed(self) -> bool:
        return any(event.blocked or event.unblocked for event in self.events)


@dataclass(frozen=True)
class TimelinePlan:
    """A run's timeline: the day-0 values (set up before the run) and each later day
    on which something changes."""

    start: DayChange
    changes: dict[int, DayChange]


def plan_timeline(scenario: Scenario, source: str = "<scenario>") -> TimelinePlan | None:
    """The plan of ``scenario``'s timeline, or ``None`` if it has none that changes
    anything within the horizon. Raises :class:`ScenarioError` naming the entry and the
    field when a value is invalid."""
    entries = [e for e in scenario.timeline if e.day < scenario.horizon_days]
    if not any(entry.changes_anything() for entry in entries):
        return None
    base = scenario.model_copy(update={"timeline": ()})
    base_data = base.to_dict()
    _check_entries(base_data, scenario.timeline, source)
    boundaries = sorted(
        {e.day for e in entries} | {e.day + e.days for e in entries if e.days is not None} | {0}
    )
    previous = (base_data, frozenset[str]())
    start: DayChange | None = None
    changes: dict[int, DayChange] = {}
    paths = sorted({path for entry in entries for path in entry.set})
    for day in (d for d in boundaries if d < scenario.horizon_days):
        data, blocked = _in_force(base_data, entries, day)
        try:
            day_scenario = Scenario.model_validate(data)
        except ValidationError as error:  # entries valid alone, not together
            problems = [
                (
                    f"timeline (day {day}): " + ".".join(str(p) for p in item["loc"]),
                    MISSING,
                    item["msg"].removeprefix("Value error, "),
                )
                for item in error.errors(include_url=False)
            ]
            raise ScenarioError(source, problems) from None
        data = day_scenario.to_dict()
        changed = [
            Change(p, _get(previous[0], p), _get(data, p))
            for p in paths
            if _get(previous[0], p) != _get(data, p)
        ]
        events = _events(entries, day, changed, previous[1], blocked)
        change = DayChange(
            day, day_scenario, frozenset(str(family_of(c.path)) for c in changed), blocked, events
        )
        if day == 0:
            start = change
        elif changed or blocked != previous[1]:
            changes[day] = change
        previous = (data, blocked)
    assert start is not None  # day 0 is always a boundary
    if not start.events and not changes:
        return None
    return TimelinePlan(start, changes)


def _in_force(
    base: Mapping[str, Any], entries: list[TimelineEntry], day: int
) -> tuple[dict[str, Any], frozenset[str]]:
    """The scenario's data with the entries active on ``day`` applied, and the platforms
    blocked that day."""
    data = _copy(base)
    blocked: set[str] = set()
    active = [e for e in entries if e.day <= day and (e.days is None or day < e.day + e.days)]
    for entry in sorted(active, key=lambda e: e.day):  # stable: file order within a day
        for path, value in entry.set.items():
            _put(data, path, value)
        blocked |= set(entry.block)
        blocked -= set(entry.unblock)
    return data, frozenset(blocked)


def _events(
    entries: list[TimelineEntry],
    day: int,
    changed: list[Change],
    blocked_before: frozenset[str],
    blocked_now: frozenset[str],
) -> tuple[TimelineEvent, ...]:
    """Each change of ``day`` attributed to the entry that made it: the entries starting
    that day first (the last in order wins a field), then the entries lifted."""
    by_path = {c.path: c for c in changed}
    newly_blocked = blocked_now - blocked_before
    newly_unblocked = blocked_before - blocked_now
    claimed: dict[str, str] = {}
    owners: list[tuple[TimelineEntry, str]] = [(e, "start") for e in entries if e.day == day]
    owners += [(e, "end") for e in entries if e.days is not None and e.day + e.days == day]
    for entry, _ in reversed([o for o in owners if o[1] == "start"]):
        for path in entry.set:
            claimed.setdefault(path, entry.name)
    events = []
    for entry, action in owners:
        mine = tuple(
            by_path[p]
            for p in entry.set
            if p in by_path and claimed.setdefault(p, entry.name) == entry.name
        )
        listed = set(entry.block) | set(entry.unblock)
        blocked = tuple(sorted(n for n in newly_blocked if n in listed))
        unblocked = tuple(sorted(n for n in newly_unblocked if n in listed))
        if mine or blocked or unblocked:
            events.append(TimelineEvent(day, entry.name, action, mine, blocked, unblocked))
    return tuple(events)


def _check_entries(
    base: Mapping[str, Any], timeline: tuple[TimelineEntry, ...], source: str
) -> None:
    """Each entry's values, on the scenario alone: errors name the entry and the field."""
    problems: list[tuple[str, object, str]] = []
    for i, entry in enumerate(timeline):
        data = _copy(base)
        for path, value in entry.set.items():
            _put(data, path, value)
        try:
            Scenario.model_validate(data)
        except ValidationError as error:
            for item in error.errors(include_url=False):
                path = ".".join(str(part) for part in item["loc"])
                field, value = _set_field(entry.set, path)
                message = item["msg"].removeprefix("Value error, ")
                problems.append((f"timeline[{i}] ({entry.name}).set.{field}", value, message))
    if problems:
        raise ScenarioError(source, problems)


def _set_field(values: Mapping[str, Any], path: str) -> tuple[str, object]:
    """The field of a ``set`` table a validation error's ``path`` is in, and its value:
    an item of a list by its index (``rules.penalties.ladder[1].amount`` and that rung's
    amount, not the whole ladder)."""
    if path in values:
        return path, values[path]
    key = next((k for k in sorted(values, key=len, reverse=True) if path.startswith(k + ".")), None)
    if key is None:
        return path, _lookup_prefix(values, path)
    value: object = values[key]
    field = key
    for part in path[len(key) + 1 :].split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value, field = value[int(part)], f"{field}[{part}]"
        elif isinstance(value, Mapping) and part in value:
            value, field = value[part], f"{field}.{part}"
        else:
            value, field = MISSING, f"{field}[{part}]" if part.isdigit() else f"{field}.{part}"
    return field, value


def _lookup_prefix(values: Mapping[str, Any], path: str) -> object:
    """The value set at the longest key of ``values`` that ``path`` starts with."""
    for key in sorted(values, key=len, reverse=True):
        if path.startswith(key):
            return values[key]
    return None


def _step(step: Mapping[str, Any]) -> str:
    """A penalty step in short: ``warning``, ``fine 5e+06``, ``suspension 30d``."""
    action = str(step["action"])
    if action == "fine":
        share = step.get("turnover_share", 0.0)
        return f"fine {step.get('amount', 0.0):g}" + (f" or {share:g} of turnover" if share else "")
    if action == "suspension":
        return f"suspension {step.get('days', 0.0):g}d"
    return action


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_copy(value) for value in data]
    return data


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node: Any = data
    for part in parents:
        node = _child(node, part)
    node[leaf] = _copy(value)


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = _child(node, part)
    return node


def _child(node: Any, part: str) -> Any:
    """``node[part]``; in a list of named tables (``groups``), the one named ``part``."""
    if isinstance(node, list):
        return next(item for item in node if item.get("name") == part)
    return node[part]


def _short(value: Any, limit: int = 200) -> str:
    if isinstance(value, list) and all(isinstance(v, dict) and "action" in v for v in value):
        return "[" + " > ".join(_step(v) for v in value) + "]"  # a penalty ladder
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
