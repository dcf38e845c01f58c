"""Which file of an ``extends`` chain set a field's value: a bad value a parent file set
is blamed on that file (``set in badparent.toml, extended by child.toml``), not only on
the file named (:func:`simulator.model.scenario.reading.load_scenario`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# A problem's field: dotted names and [index]es, a timeline entry's name in brackets
# after its index (``timeline[0] (crackdown).set.police.detention_days``).
_FIELD_PART = re.compile(r"([^.\[\]\s]+)|\[(\d+)\](?: \(([^)]*)\))?")


def blame(
    problems: list[tuple[str, object, str]],
    merged: Mapping[str, Any],
    files: list[tuple[Path, dict[str, Any]]],
    shipped: Mapping[str, Path],
) -> dict[str, str]:
    """For each problem whose value a parent file set (not the file named), where:
    ``set in parent.toml, extended by child.toml``. The extending file is searched first:
    the first file of the chain holding the field set the value the merge kept."""
    if len(files) < 2:
        return {}
    named = files[0][0]
    origins: dict[str, str] = {}
    for field, _, _ in problems:
        parts = _field_parts(field)
        if not parts:
            continue
        for file_path, own in files:
            if _holds(own, merged, parts):
                if file_path != named:
                    origins[field] = (
                        f"set in {_file_label(file_path, shipped)}, extended by {named.name}"
                    )
                break
    return origins


def _file_label(path: Path, shipped: Mapping[str, Path]) -> str:
    if shipped.get(path.stem) == path:
        return f"the shipped scenario {path.stem}"
    return path.name


def _field_parts(field: str) -> list[str | int] | None:
    """A problem's field as parts (names; an index, or the entry's name when given), or
    None when it is not a plain field path (``timeline (day 3): ...``)."""
    if not field or ":" in field or " (day" in field:
        return None
    parts: list[str | int] = []
    position = 0
    for match in _FIELD_PART.finditer(field):
        gap = field[position : match.start()]
        if gap not in ("", "."):
            return None
        name, index, entry = match.groups()
        if name is not None:
            parts.append(name)
        elif entry:
            parts.append(entry)  # a named entry: found by its name in each file
        else:
            parts.append(int(index))
        position = match.end()
    return parts if position == len(field) else None


def _holds(own: Any, merged: Any, parts: list[str | int]) -> bool:
    """Whether a file's own data ``own`` sets the value at ``parts`` of the merged data
    (items of named tables found by name; dotted keys of a ``set`` table either way)."""
    if not parts:
        return True
    part, rest = parts[0], parts[1:]
    if isinstance(own, Mapping):
        if not isinstance(part, str):
            return False
        for cut in range(1, len(parts) + 1):  # ``police.detention_days`` as one key too
            key = ".".join(str(p) for p in parts[:cut])
            if key in own:
                below = merged.get(key) if isinstance(merged, Mapping) else None
                return _holds(own[key], below, parts[cut:])
        return False
    if isinstance(own, list):
        if isinstance(part, int):
            item = merged[part] if isinstance(merged, list) and part < len(merged) else None
            if _named_tables(own) and isinstance(item, Mapping) and "name" in item:
                name = item["name"]
            else:
                return part < len(own) and _holds(own[part], item, rest)
        else:
            name = part
        mine = [i for i in own if isinstance(i, Mapping) and i.get("name") == name]
        if not mine:
            return False
        theirs = [i for i in (merged if isinstance(merged, list) else []) if isinstance(i, Mapping)]
        theirs = [i for i in theirs if i.get("name") == name]
        return _holds(mine[0], theirs[0] if theirs else None, rest)
    return False


def _named_tables(value: Any) -> bool:
    """A list of tables each with a string ``name`` (merged by name, as ``reading`` does)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, Mapping) and isinstance(item.get("name"), str) for item in value)
    )
