"""Scenario cross-field checks: problems no single field shows (docs/model.md, 3.2 Input
data), reported together with the field errors.

Each check takes a model, or the values a file gives for it (:class:`_Known`), and
returns (field, message) problems. A value that did not validate is MISSING there and
the checks that need it are skipped (its own error says what is wrong), so a file's
field errors and cross-field problems are reported together, not one stage at a time.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pydantic import (
    BaseModel,
)
from pydantic_core import PydanticCustomError

from simulator.errors import MISSING
from simulator.kinds import SENSITIVE_KINDS
from simulator.model.scenario.groups import group_problems
from simulator.model.scenario.timeline import flatten
from simulator.model.staff_count import STAFF_DECIMALS


def _known(*values: Any) -> bool:
    return all(value is not MISSING for value in values)


def _attribute(node: Any, dotted: str) -> Any:
    """``node.a.b`` for ``"a.b"``, or MISSING if any step is unknown."""
    for name in dotted.split("."):
        if node is MISSING:
            return MISSING
        node = getattr(node, name)
    return node


def _population_problems(population: Any) -> list[tuple[str, str]]:
    # A user's sensitive shares are the average mix times stance / mean stance; the user
    # of stance 1 must still have a non-negative benign share.
    shares = [_attribute(population, f"sensitive_mix.{k.label}") for k in SENSITIVE_KINDS]
    alpha, beta = (_attribute(population, f"stance.{name}") for name in ("alpha", "beta"))
    if not _known(*shares, alpha, beta):
        return []
    total, limit = sum(shares), alpha / (alpha + beta)
    if total > limit + 1e-12:
        return [
            (
                "sensitive_mix",
                "the sensitive shares must add up to at most the mean stance "
                f"({limit:g}), since a user of stance 1 posts 1/mean-stance times the average "
                f"share; they add up to {total:g}",
            )
        ]
    return []


def _platform_problems(platform: Any) -> list[tuple[str, str]]:
    problems = []
    low, initial, high = (
        _attribute(platform, f"{name}_strictness") for name in ("min", "initial", "max")
    )
    if _known(low, initial, high) and not low <= initial <= high:
        problems.append(
            (
                "initial_strictness",
                "need min_strictness <= initial_strictness <= max_strictness, "
                f"got {low} <= {initial} <= {high}",
            )
        )
    filtering, flag, hold = (
        _attribute(platform, name)
        for name in ("prepublication_filter", "flag_margin", "hold_margin")
    )
    if _known(filtering, flag, hold) and filtering and flag > hold:
        problems.append(("flag_margin", f"must not exceed hold_margin ({hold}), got {flag}"))
    suspend, days = (
        _attribute(platform, name) for name in ("strikes_to_suspend", "suspension_days")
    )
    if _known(suspend, days) and suspend > 0 and not days:
        problems.append(
            (
                "suspension_days",
                f"needs at least one length when strikes_to_suspend is set ({suspend})",
            )
        )
    return problems


def _scenario_problems(scenario: Any) -> list[tuple[str, str]]:
    problems = []
    platforms = _attribute(scenario, "platforms")
    if _known(platforms) and not platforms:
        problems.append(("platforms", "at least one platform is needed"))
    elif _known(platforms):
        names = [_attribute(p, "name") for p in platforms]
        known_names = [name for name in names if name is not MISSING]
        if len(set(known_names)) != len(known_names):
            problems.append(("platforms", f"names must be unique, got {known_names}"))
        if "circumvention" in known_names:
            problems.append(
                ("platforms", "the name 'circumvention' is reserved for offshore posting")
            )
        shares = [_attribute(p, "market_share") for p in platforms]
        if _known(*shares) and abs(sum(shares) - 1.0) > 1e-6:
            problems.append(("platforms", f"market_share must add up to 1, got {sum(shares):g}"))
        for i, platform in enumerate(platforms):
            problems += [
                (f"platforms.{i}.{field}", message)
                for field, message in _staffing_problems(platform)
            ]
    problems += _timeline_problems(scenario)
    problems += _groups_problems(scenario)
    problems += _access_problems(scenario)
    problems += _real_name_problems(scenario)
    takedown = _attribute(scenario, "rules.takedown.enabled")
    ladder = _attribute(scenario, "rules.penalties.ladder")
    if _known(takedown, ladder) and takedown and not ladder:
        problems.append(
            ("rules.penalties.ladder", "a takedown rule needs at least one penalty step")
        )
    return problems


def _staffing_problems(platform: Any) -> list[tuple[str, str]]:
    """A platform that chooses its staff starts from, and never goes below, the staff
    ``reviewers_per_100k_users`` gives (docs/model.md S6a); its week may grow the head
    count by a share of itself, so from none it could never hire (its queue would keep
    every item waiting): refused, naming what to change. A platform with no users
    (market share 0) has nothing to review. (A positive rate is not checked against the
    run's size: the scenario is read before ``--users`` and the pilot run resize it.)"""
    staffing, per_100k, share = (
        _attribute(platform, name)
        for name in ("staffing", "reviewers_per_100k_users", "market_share")
    )
    if not _known(staffing, per_100k, share) or staffing != "chosen":
        return []
    if per_100k > 0.0 or share <= 0.0:
        return []
    return [
        (
            "reviewers_per_100k_users",
            f"platform `{_attribute(platform, 'name')}` chooses its staff "
            '(staffing = "chosen") from this floor, and a week can grow the head count only '
            "by a share of itself, so from 0 it could never hire; allowed: more than 0 (enough "
            f"for at least 10**-{STAFF_DECIMALS} of a reviewer at the run's users, else it is "
            'counted as 0 too), or staffing = "fixed" for a platform without reviewers',
        )
    ]


def _access_problems(scenario: Any) -> list[tuple[str, str]]:
    """``access.values`` names platforms that exist; a timeline changes ``access.*`` only
    where the choice is on (else the change would do nothing)."""
    problems = []
    enabled = _attribute(scenario, "access.enabled")
    entries = _attribute(scenario, "timeline")
    if _known(enabled, entries) and not enabled and entries:
        for i, entry in enumerate(entries):
            changes = _attribute(entry, "set")
            paths = flatten(changes) if isinstance(changes, Mapping) else {}
            if any(str(path).startswith("access.") for path in paths):
                name = _attribute(entry, "name")
                problems.append(
                    (
                        "timeline",
                        f"entry {i} ({name}) changes `access.*`, which does nothing "
                        "without `access.enabled = true` (docs/model.md S9a)",
                    )
                )
    values = _attribute(scenario, "access.values")
    platforms = _attribute(scenario, "platforms")
    if not _known(values, platforms) or not values:
        return problems
    names = [_attribute(p, "name") for p in platforms]
    unknown = sorted(set(values) - set(names))
    if unknown and _known(*names):
        problems.append(("access.values", f"no platform named {unknown}; platforms: {names}"))
    return problems


def _real_name_problems(scenario: Any) -> list[tuple[str, str]]:
    """A timeline that turns the real-name rule on or off needs ``start_day = 0``: the
    rule is then in force exactly on the days the values in force enable it (its start
    is the entry's day). Two schedules for one rule would leave its start ambiguous."""
    start_day = _attribute(scenario, "rules.real_name.start_day")
    entries = _attribute(scenario, "timeline")
    if not _known(start_day, entries) or not entries or start_day == 0:
        return []
    problems = []
    for i, entry in enumerate(entries):
        changes = _attribute(entry, "set")
        paths = flatten(changes) if isinstance(changes, Mapping) else {}
        if "rules.real_name.enabled" in paths:
            problems.append(
                (
                    f"timeline.{i}.set",
                    f"entry `{_attribute(entry, 'name')}` turns the real-name rule on or off, "
                    f"so `rules.real_name.start_day` must be 0 (it is {start_day}): the rule "
                    "starts on the day of the entry that turns it on; schedule it by one or "
                    "the other (docs/model.md S13)",
                )
            )
    return problems


def _timeline_problems(scenario: Any) -> list[tuple[str, str]]:
    """Timeline entries' names are unique and block or unblock platforms that exist."""
    entries = _attribute(scenario, "timeline")
    if not _known(entries) or not entries:
        return []
    problems = []
    names = [_attribute(entry, "name") for entry in entries]
    known_names = [name for name in names if name is not MISSING]
    if len(set(known_names)) != len(known_names):
        problems.append(("timeline", f"entry names must be unique, got {known_names}"))
    groups = _attribute(scenario, "groups")
    group_names = [_attribute(g, "name") for g in groups] if _known(groups) else [MISSING]
    for i, entry in enumerate(entries):
        paths = _attribute(entry, "set")
        paths = paths if _known(paths) else {}
        targets = [p.split(".")[1] for p in paths if p.startswith("groups.")]
        unknown = [n for n in targets if n not in group_names]
        if unknown and _known(*group_names):
            problems.append(
                (
                    f"timeline.{i}.set",
                    f"entry `{_attribute(entry, 'name')}`: `{unknown[0]}` is not a group of "
                    f"this scenario ({', '.join(str(n) for n in group_names) or 'none'})",
                )
            )
    platforms = _attribute(scenario, "platforms")
    platform_names = [_attribute(p, "name") for p in platforms] if _known(platforms) else [MISSING]
    if not _known(*platform_names):
        return problems
    for i, entry in enumerate(entries):
        for field in ("block", "unblock"):
            listed = _attribute(entry, field)
            unknown = [n for n in listed if n not in platform_names] if _known(listed) else []
            if unknown:
                problems.append(
                    (
                        f"timeline.{i}.{field}",
                        f"entry `{_attribute(entry, 'name')}`: `{unknown[0]}` is not a "
                        "platform of this scenario "
                        f"({', '.join(str(n) for n in platform_names)})",
                    )
                )
    return problems


def _groups_problems(scenario: Any) -> list[tuple[str, str]]:
    """Groups: unique names, shares adding up to 1, and each group's sensitive mix (its
    own or the population's) under the population's mean stance (the share-weighted
    mean of the groups' stances: a user's sensitive shares are the mix times stance /
    that mean)."""
    groups = _attribute(scenario, "groups")
    if not _known(groups) or not groups:
        return []
    problems = group_problems(list(groups))
    population = _attribute(scenario, "population")
    shares = [_attribute(population, f"sensitive_mix.{k.label}") for k in SENSITIVE_KINDS]
    alpha, beta = (_attribute(population, f"stance.{name}") for name in ("alpha", "beta"))
    means = []
    for group in groups:
        stance = _attribute(group, "stance")
        share = _attribute(group, "share")
        if stance is None:
            stance_mean = alpha / (alpha + beta) if _known(alpha, beta) else MISSING
        else:
            a, b = _attribute(stance, "alpha"), _attribute(stance, "beta")
            stance_mean = a / (a + b) if _known(a, b) else MISSING
        means.append((share, stance_mean))
    if not (_known(*shares) and all(_known(s, m) for s, m in means)):
        return problems
    mean = sum(s * m for s, m in means)
    population_mix_reported = False
    for index, group in enumerate(groups):
        own = _attribute(group, "sensitive_mix")
        mix = shares if own is None else [_attribute(own, k.label) for k in SENSITIVE_KINDS]
        if not _known(*mix) or sum(mix) <= mean + 1e-12:
            continue
        if own is None:
            if population_mix_reported:
                continue
            population_mix_reported = True
        where = "population.sensitive_mix" if own is None else f"groups.{index}.sensitive_mix"
        problems.append(
            (
                "groups" if own is None else f"groups.{index}.sensitive_mix",
                f"the sensitive shares ({where}) must add up to at most the population's "
                f"mean stance over the groups ({mean:g}), since a user of stance 1 posts "
                f"1/mean-stance times the group's share; they add up to {sum(mix):g}",
            )
        )
    return problems


def _raise_cross_field(problems: list[tuple[str, str]]) -> None:
    """Raise a model's cross-field problems as one error of type ``cross_field``
    (:func:`validate_scenario` recomputes them from the file with every other error)."""
    if problems:
        text = "\n".join(f"{field}: {message}" for field, message in problems)
        raise PydanticCustomError("cross_field", "{problems}", {"problems": text})


class _Known:
    """The values a file gives for a model, defaults filled in, MISSING where a value did
    not validate; read by attribute like the model itself."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (or holds a tuple of), and whether it is a tuple."""
    args = typing.get_args(annotation)
    model = next(
        (a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)),
        None,
    )
    return model, typing.get_origin(annotation) is tuple


def _known_values(
    model: type[BaseModel],
    raw: Any,
    loc: tuple[int | str, ...],
    bad: set[tuple[int | str, ...]],
    bad_below: set[tuple[int | str, ...]],
) -> Any:
    """``raw`` as a :class:`_Known` of ``model`` at ``loc``. ``bad``: the locations of the
    validation errors; ``bad_below``: they and every location above them."""
    if isinstance(raw, model):
        return raw
    if not isinstance(raw, Mapping) or loc in bad:
        return MISSING
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        here = (*loc, name)
        nested, many = _nested_model(info.annotation)
        if name not in raw:
            # An absent field takes its default; "missing" when it has none (an error).
            values[name] = MISSING if here in bad else info.get_default(call_default_factory=True)
        elif nested is None:
            values[name] = MISSING if here in bad_below else raw[name]
        elif many:
            items = raw[name]
            values[name] = (
                [
                    _known_values(nested, item, (*here, i), bad, bad_below)
                    for i, item in enumerate(items)
                ]
                if isinstance(items, list | tuple) and here not in bad
                else MISSING
            )
        else:
            values[name] = _known_values(nested, raw[name], here, bad, bad_below)
    return _Known(values)


def _cross_field_problems(scenario: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """Every cross-field problem of a scenario (or its :class:`_Known` values), located."""

    def located(prefix: tuple[int | str, ...], found: list[tuple[str, str]]) -> list[Any]:
        return [((*prefix, *field.split(".")), message) for field, message in found]

    if scenario is MISSING:
        return []
    problems = []
    population = _attribute(scenario, "population")
    if population is not MISSING:
        problems += located(("population",), _population_problems(population))
    platforms = _attribute(scenario, "platforms")
    for i, platform in enumerate([] if platforms is MISSING else platforms):
        if platform is not MISSING:
            problems += located(("platforms", i), _platform_problems(platform))
    return problems + located((), _scenario_problems(scenario))
