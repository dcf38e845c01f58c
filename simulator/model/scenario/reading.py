"""Scenario files: reading TOML (resolving ``extends``), validation and overrides.

Reading is separate from validating: :func:`read_scenario_dict` turns a file into plain
data (resolving ``extends``), :func:`validate_scenario` turns plain data into a frozen
:class:`~simulator.model.scenario.sections.Scenario`, and every problem is reported as a
:class:`ScenarioError` naming the file, the dotted field path, the value and what is
allowed. Nothing in a file is ever evaluated, imported or unpickled: TOML is data only.
"""

from __future__ import annotations

import atexit
import copy
import difflib
import functools
import re
import shutil
import stat
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from simulator.errors import MAX_PROBLEMS_SHOWN, MISSING, ScenarioError
from simulator.model.scenario import removed
from simulator.model.scenario.checks import _cross_field_problems, _known_values, _nested_model
from simulator.model.scenario.days import plan_timeline
from simulator.model.scenario.origins import blame
from simulator.model.scenario.sections import Population, Scenario

#: The shipped scenarios are package data: ``scenarios/*.toml`` inside the ``simulator``
#: package, found through :mod:`importlib.resources` (:func:`shipped_dir`), so a wheel,
#: an editable install and a source checkout all have them, whatever the working folder.
SHIPPED_PACKAGE = "simulator"


SHIPPED_FOLDER = "scenarios"


#: Scenario files larger than this are refused before parsing (bytes). Shipped files are
#: about 5 kB; tomllib needs seconds for a hostile file of this size, so it stays small.
MAX_FILE_BYTES = 256_000


#: How many ``extends`` links a chain may have.
MAX_EXTENDS_DEPTH = 8


#: Dots a line's keys may have (outside strings and comments) before it is refused unparsed.
MAX_KEY_DOTS = 6


@functools.cache
def shipped_dir() -> Path:
    """The folder of the shipped scenario files, as a real path on disk.

    Installed packages are plain folders, and the folder is used in place. A package
    imported from a zip archive has no such folder: its files are copied once per process
    into a private temporary folder (removed at exit), since ``extends`` and the checks
    on files opened (:func:`_read_toml`) work on real paths.
    """
    folder = resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_FOLDER)
    if isinstance(folder, Path):
        return folder
    copy_dir = Path(tempfile.mkdtemp(prefix="censim-scenarios-"))
    atexit.register(shutil.rmtree, copy_dir, ignore_errors=True)
    if folder.is_dir():
        for item in folder.iterdir():
            if item.is_file() and item.name.endswith(".toml"):
                (copy_dir / item.name).write_bytes(item.read_bytes())
    return copy_dir


def __getattr__(name: str) -> Path:
    # SHIPPED_DIR, the name older code and tests use, found when first asked for.
    if name == "SHIPPED_DIR":
        return shipped_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def shipped_scenarios() -> dict[str, Path]:
    """Names and paths of the scenarios that ship with censim."""
    folder = shipped_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A shipped scenario's name (``china_csl_2016``) or a file path, as a path."""
    text = str(name_or_path)
    shipped = shipped_scenarios()
    if text in shipped:
        return shipped[text]
    path = Path(text)
    try:
        exists = path.exists()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte...
        exists = False
    if not exists:
        known = ", ".join(shipped) or "none"
        raise ScenarioError(
            text, [("", MISSING, f"no such file, and not a shipped scenario (shipped: {known})")]
        )
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    """A scenario file as plain data, or a :class:`ScenarioError` saying why not.

    Bounded in time and memory whatever the file holds: only regular files are opened
    (never a FIFO or a device that could block or never end), at most
    ``MAX_FILE_BYTES + 1`` bytes are read, and every way the parser can fail (bad syntax,
    nesting too deep for the recursion limit, integers too long to convert) becomes a
    message instead of a traceback.
    """
    source = str(path)
    try:
        info = path.stat()
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ScenarioError(source, [("", MISSING, f"cannot be read: {reason}")]) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(source, [("", MISSING, "is a directory, not a scenario file")])
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(
            source, [("", MISSING, "is not a regular file (a device, pipe or socket?)")]
        )
    too_big = f"scenario files may be at most {MAX_FILE_BYTES:,} bytes"
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(source, [("", MISSING, f"is {info.st_size:,} bytes; {too_big}")])
    try:
        with path.open("rb") as handle:
            # The size can change between stat and read: never read more than the limit.
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ScenarioError(source, [("", MISSING, f"cannot be read: {error.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(source, [("", MISSING, f"grew while being read; {too_big}")])
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is not part of the TOML.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            source, [("", MISSING, f"is not UTF-8 text (byte {error.start}); save it as UTF-8")]
        ) from None
    if "\x00" in text:
        raise ScenarioError(source, [("", MISSING, "contains NUL bytes: not a text file")])
    deep_line = _deeply_dotted_line(text)
    if deep_line:
        raise ScenarioError(
            source,
            [
                (
                    "",
                    MISSING,
                    f"line {deep_line}: keys are dotted more than {MAX_KEY_DOTS} levels deep; "
                    "no scenario setting is",
                )
            ],
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(source, [("", MISSING, f"is not valid TOML: {error}")]) from None
    except RecursionError:
        raise ScenarioError(
            source, [("", MISSING, "is nested too deeply to be a scenario")]
        ) from None
    except ValueError:
        # tomllib lets int() errors through: integers of more than 4,300 digits.
        raise ScenarioError(
            source, [("", MISSING, "holds an integer too long to read (thousands of digits)")]
        ) from None
    if not data:
        # An empty file is far more likely a failed save or a wrong path than a wish for
        # every default; `name = "..."` alone is enough to ask for the defaults.
        raise ScenarioError(
            source, [("", MISSING, 'is empty (no settings); write at least `name = "..."`')]
        )
    return data


# Strings and comments, whose dots are not key syntax (multi-line strings first).
_STRINGS_AND_COMMENTS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^']|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'[^'\n]*'"
    r"|#[^\n]*",
    re.DOTALL,
)


_TOKEN_SEPARATORS = re.compile(r"[\s,\[\]{}=]+")


def _deeply_dotted_line(text: str) -> int:
    """The number of the first line whose keys are dotted more than ``MAX_KEY_DOTS`` deep
    (``a.a.a...`` or ``[a.a.a...]``), or 0.

    tomllib takes time quadratic in the parts of one dotted key (10,000 parts: seconds;
    a 1 MB file of them: hours), so such lines are refused before parsing. Dots inside
    strings and comments do not count, nor the single dot of a number (``0.5``).
    """
    if all(line.count(".") <= MAX_KEY_DOTS for line in text.split("\n")):
        return 0  # the usual case, decided without a closer look
    stripped = _STRINGS_AND_COMMENTS.sub(lambda m: "\n" * m.group().count("\n"), text)
    for number, line in enumerate(stripped.split("\n"), start=1):
        if line.count(".") <= MAX_KEY_DOTS:
            continue
        dots = 0
        for token in _TOKEN_SEPARATORS.split(line):
            is_number = token[:1] in "0123456789+-" and token.count(".") == 1
            dots += 0 if is_number else token.count(".")
        if dots > MAX_KEY_DOTS:
            return number
    return 0


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``: tables merge key by key; arrays of named tables
    (``[[platforms]]``) merge item by item by ``name``, new names appended; anything else
    replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        elif isinstance(current, list) and _named_tables(value) and _named_tables(current):
            by_name = {item["name"]: item for item in current}
            for item in value:
                by_name[item["name"]] = deep_merge(by_name.get(item["name"], {}), item)
            merged[key] = list(by_name.values())
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _named_tables(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, Mapping) and isinstance(item.get("name"), str) for item in value)
    )


def _resolve_extends(
    path: Path,
    data: dict[str, Any],
    chain: list[Path],
    added: list[_AddedPlatform] | None = None,
    files: list[tuple[Path, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """``data`` merged onto the scenario it extends (recursively). Platforms a file adds
    to its parent's (a name the parent does not have) are listed in ``added``; each file
    of the chain and its own data, the extending one first, in ``files``."""
    parent_name = data.pop("extends", None)
    if files is not None:
        files.append((path, data))
    if parent_name is None:
        return data
    source = str(path)
    if not isinstance(parent_name, str) or not parent_name:
        raise ScenarioError(
            source, [("extends", parent_name, "must be a shipped scenario name or a file name")]
        )
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            source, [("extends", parent_name, f"chains may be at most {MAX_EXTENDS_DEPTH} long")]
        )
    # Only shipped names, or files in the same folder as this one: a scenario handed to a
    # student cannot make censim read files elsewhere on the machine. Names are plain
    # file names: no folders, no hidden files, no control characters, and a symlink in
    # the folder counts only if it points to a file in that same folder.
    shipped = shipped_scenarios()
    if (
        "/" in parent_name
        or "\\" in parent_name
        or parent_name.startswith(".")
        or len(parent_name) > 200
        or any(ord(c) < 32 or ord(c) == 127 for c in parent_name)
    ):
        raise ScenarioError(
            source,
            [
                (
                    "extends",
                    parent_name,
                    "must name a shipped scenario or a file in the same folder (no paths)",
                )
            ],
        )
    stem = parent_name.removesuffix(".toml")
    candidate = path.parent / (stem + ".toml")
    try:
        folder = path.parent.resolve()
        # The file itself under another name (a symlink to it, or it seen through one).
        alias = candidate.is_file() and candidate.resolve() == path.resolve()
        local = candidate.is_file() and not alias
        escapes = local and candidate.resolve().parent != folder
    except (OSError, RuntimeError):  # a symlink loop, a name the file system refuses
        alias = local = escapes = False
    if escapes:
        raise ScenarioError(
            source,
            [("extends", parent_name, "is a symlink to a file outside this scenario's folder")],
        )
    if local:
        parent_path = candidate
    elif stem in shipped:
        parent_path = shipped[stem]
    elif candidate.name == path.name:
        raise ScenarioError(source, [("extends", parent_name, "a scenario cannot extend itself")])
    elif alias:
        raise ScenarioError(
            source,
            [
                (
                    "extends",
                    parent_name,
                    f"a scenario cannot extend itself ({candidate.name} is this file "
                    "under another name, through a symlink)",
                )
            ],
        )
    else:
        raise ScenarioError(
            source,
            [
                (
                    "extends",
                    parent_name,
                    f"no such scenario in {path.parent}; shipped: {', '.join(shipped) or 'none'}",
                )
            ],
        )
    if parent_path.resolve() in [p.resolve() for p in chain]:
        raise ScenarioError(source, [("extends", parent_name, "forms a cycle")])
    parent = _resolve_extends(
        parent_path, _read_toml(parent_path), [*chain, parent_path], added, files
    )
    if added is not None and _named_tables(parent.get("platforms")):
        known = [item["name"] for item in parent["platforms"]]
        if _named_tables(data.get("platforms")):
            added += [
                _AddedPlatform(path.name, item["name"], parent_path.stem, tuple(known))
                for item in data["platforms"]
                if item["name"] not in known
            ]
    return deep_merge(parent, data)


@dataclass(frozen=True)
class _AddedPlatform:
    """A platform an extending file adds, by naming one its parent does not have."""

    file: str
    name: str
    parent: str
    parent_platforms: tuple[str, ...]

    def hint(self, data: Mapping[str, Any]) -> tuple[str, object, str]:
        """A problem naming the platform: most often a misspelt name of the parent's."""
        names = [item.get("name") for item in data.get("platforms", [])]
        index = names.index(self.name) if self.name in names else 0
        close = difflib.get_close_matches(self.name, self.parent_platforms, n=1)
        return (
            f"platforms[{index}].name",
            MISSING,
            f"`{self.name}` is not a platform of {self.parent} "
            f"({', '.join(self.parent_platforms)}), so {self.file} adds it as a new platform"
            + (f"; did you mean `{close[0]}`?" if close else ""),
        )


def read_scenario_dict(name_or_path: str | Path) -> tuple[Path, dict[str, Any]]:
    """Read a scenario file into plain data, with ``extends`` resolved and
    ``population.represented_users`` set to its users unless it says. Does not validate."""
    path, data, _, _ = _read_resolved(name_or_path)
    return path, data


def _read_resolved(
    name_or_path: str | Path,
) -> tuple[Path, dict[str, Any], list[_AddedPlatform], list[tuple[Path, dict[str, Any]]]]:
    """:func:`read_scenario_dict`, the platforms files of the chain add to their parents',
    and the files of the chain with their own data (the one named first)."""
    path = resolve_scenario_path(name_or_path)
    data = _read_toml(path)
    added: list[_AddedPlatform] = []
    files: list[tuple[Path, dict[str, Any]]] = []
    data = _resolve_extends(path, data, [path], added, files)
    data.setdefault("name", path.stem)
    _anchor_represented_users(data)
    return path, data, added, files


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _lookup(data: Any, loc: tuple[int | str, ...]) -> object:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return data


def validate_scenario(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Turn plain data into a :class:`Scenario`, or raise :class:`ScenarioError` listing
    every problem at once: the fields that do not validate, and the checks across fields
    (market shares, strictness bounds...) on the values that do."""
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as error:
        problems, more = _describe(error, data)
    except RecursionError:
        problems, more = [("", MISSING, "is nested too deeply to be a scenario")], 0
    else:
        plan_timeline(scenario, source)  # each entry's values, named by entry and field
        return scenario
    raise ScenarioError(source, problems, more=more)


def _describe(error: ValidationError, data: Mapping[str, Any]) -> tuple[list[Any], int]:
    """The problems of a failed validation, and how many more were not described."""
    items = error.errors(include_url=False)
    field_items = []
    for item in items:
        if item["type"] == "cross_field":
            continue  # recomputed below with the values that validated, all at once
        loc = tuple(
            p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        field_items.append((loc, item))
    bad = {loc for loc, _ in field_items}
    bad_below = {loc[:n] for loc in bad for n in range(1, len(loc) + 1)}
    cross = _cross_field_problems(_known_values(Scenario, data, (), bad, bad_below))
    problems: list[tuple[str, object, str]] = []
    # Only the problems the message will show are worth describing (errors.py).
    for loc, item in field_items[:MAX_PROBLEMS_SHOWN]:
        if item["type"] == "extra_forbidden":
            message = removed.replacement(loc) or (
                f"unknown field; allowed here: {_allowed_fields(loc[:-1])}"
            )
            problems.append((_field_path(loc), MISSING, message))
            continue
        value: object = _lookup(data, loc) if loc else MISSING
        if item["type"] == "value_error" and isinstance(value, dict | list):
            value = MISSING
        problems.append((_field_path(loc), value, item["msg"].removeprefix("Value error, ")))
    for loc, message in cross:
        value = _lookup(data, loc)
        problems.append(
            (_field_path(loc), MISSING if isinstance(value, dict | list) else value, message)
        )
    return problems, max(0, len(field_items) - MAX_PROBLEMS_SHOWN)


def _allowed_fields(loc: tuple[int | str, ...]) -> str:
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return "?"
        model, _ = _nested_model(info.annotation)
        if model is None:
            return "?"
    return ", ".join(model.model_fields)


def _anchor_represented_users(data: dict[str, Any]) -> None:
    """A file's money is stated for the users it states: unless it says otherwise,
    ``population.represented_users`` is its ``population.users`` (the field's default when
    absent), kept when ``--users`` or a sweep changes the sample (slice_scale)."""
    population = data.get("population")
    if population is None:
        population = data["population"] = {}
    if not isinstance(population, dict) or "represented_users" in population:
        return  # a malformed table is reported by validation
    users = population.get("users", Population.model_fields["users"].default)
    if isinstance(users, int) and not isinstance(users, bool) and users >= 1:
        population["represented_users"] = users


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read and validate a scenario: a shipped name (``china_csl_2016``) or a TOML path."""
    path, data, added, files = _read_resolved(name_or_path)
    try:
        return validate_scenario(data, source=str(path))
    except ScenarioError as error:
        problems = error.problems
        # A platform name the parent does not have adds a platform, and its default
        # market share of 1 breaks the parent's shares: name it, it is most often a typo.
        if added and any(field.startswith("platforms") for field, _, _ in problems):
            problems = [*(platform.hint(data) for platform in added), *problems]
        # A value a parent file set is blamed on that file, not on the one extending it.
        origins = blame(problems, data, files, shipped_scenarios())
        if problems is error.problems and not origins:
            raise
        raise ScenarioError(error.source, problems, more=error.more, origins=origins) from None


def override(
    scenario: Scenario, changes: Mapping[str, Any], source: str = "<override>"
) -> Scenario:
    """A copy of ``scenario`` with dotted fields replaced, validated like a file.

    Fields are dotted paths (``"rules.takedown.deadline_hours"``). List items are given
    by index (``platforms.0.review_minutes``) or, in a list of named tables, by name
    (``platforms.weibo.review_minutes``): the way a TOML file merges platforms. A timeline
    entry is named the same way, and the fields it sets follow its ``set``
    (``timeline.crackdown.day``, ``timeline.crackdown.set.police.detention_days``).
    Every bad path and every invalid value is reported at once.
    """
    data = scenario.to_dict()
    data.setdefault("timeline", [])  # left out of to_dict when empty; a path may add one
    problems: list[tuple[str, object, str]] = []
    for dotted, value in changes.items():
        try:
            node, key = _locate(data, dotted)
        except LookupError as error:
            message = removed.replacement_for_path(dotted) or str(error.args[0])
            problems.append((dotted, value, message))
        else:
            node[key] = value
    if problems:
        raise ScenarioError(source, problems)
    return validate_scenario(data, source=source)


def get_dotted(data: Any, dotted: str) -> Any:
    """The value at a dotted path of plain scenario data (as :func:`override` reads paths),
    or MISSING if there is none."""
    try:
        node, key = _locate(data, dotted)
    except LookupError:
        return MISSING
    if isinstance(node, dict) and key not in node:
        return MISSING  # a field a timeline entry's set may gain, not set yet
    return node[key]


def resolved_path(data: Any, dotted: str) -> tuple[int | str, ...]:
    """The keys a dotted path of plain scenario data goes through, as :func:`override`
    reads it, with a named list item given by its position: ``platforms.weibo.x`` and
    ``platforms.0.x`` resolve alike where weibo is the first platform (a timeline set's
    dotted key part by part). A path that does not resolve is given by its parts as
    written from where it goes wrong (override reports it)."""
    parts = dotted.split(".")
    keys: list[int | str] = []
    try:
        for _, key, i in _steps(data, dotted):
            whole_rest = isinstance(key, str) and key == ".".join(parts[i:])
            keys.extend(parts[i:] if whole_rest else [key])
    except (LookupError, TypeError):
        return (*keys, *parts[len(keys) :])
    return tuple(keys)


def _locate(data: Any, dotted: str) -> tuple[Any, int | str]:
    """The container holding a dotted path's value, and its key; LookupError(message)
    naming what is allowed where the path goes wrong."""
    *_, (node, key, _) = _steps(data, dotted)
    return node, key


def _steps(data: Any, dotted: str) -> Iterator[tuple[Any, int | str, int]]:
    """Each container on a dotted path's way, the key taken in it and the index of the
    path's part it reads; LookupError(message) naming what is allowed where it goes
    wrong."""
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts):
        rest = ".".join(parts[i:])
        in_set = parts[0] == "timeline" and i >= 3 and parts[i - 1] == "set"
        if isinstance(node, dict) and part not in node and (rest in node or in_set):
            # A key that is itself a dotted path: a timeline entry's ``set`` table
            # (``timeline.crackdown.set.police.detention_days``), which may gain one
            # (the entry's checks refuse a field a timeline may not change).
            yield node, rest, i
            return
        key = _child_key(node, part, parts[i - 1] if i else "")
        yield node, key, i
        if i < len(parts) - 1:
            node = node[key]


def _child_key(node: Any, part: str, parent: str) -> int | str:
    """The key of ``part`` in ``node``: a field of a table; an index of a list, or the
    position of the item named ``part`` in a list of named tables (``platforms``)."""
    if isinstance(node, dict):
        if part not in node:
            if not parent and part in Scenario.model_fields:
                # A section this scenario does not have (``[access]``, ``[[groups]]``):
                # its fields can be set once the file has the section.
                raise LookupError(
                    f"this scenario has no `{part}` section: add it to the scenario file "
                    "to set its fields (docs/scenarios.md)"
                )
            known = (
                [*node, *(f for f in Scenario.model_fields if f not in node)]
                if not parent
                else node
            )
            allowed = ", ".join(known) if known else "none"
            raise LookupError(f"unknown field `{part}`; allowed: {allowed}")
        return part
    if not isinstance(node, list):
        raise LookupError(f"`{parent}` has no fields")
    names = [item["name"] for item in node] if _named_tables(node) else []
    indices = f"an index below {len(node)}" if node else f"in `{parent}`: this scenario has none"
    if part.isdigit():
        index = int(part)
        if part in names and names.index(part) != index:
            raise LookupError(
                f"`{part}` is ambiguous: the name of {parent}[{names.index(part)}] and an "
                f"index; give the other item's name ({', '.join(names)})"
            )
        if index < len(node):
            return index
        if part in names:
            return names.index(part)
        raise LookupError(f"`{part}` is not {indices}")
    if part in names:
        return names.index(part)
    if names:
        raise LookupError(f"`{part}` is not one of the {parent}: {', '.join(names)} (or {indices})")
    raise LookupError(f"`{part}` is not {indices}")
