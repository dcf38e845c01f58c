"""Designs: the points a sweep runs (grids, explicit points, samples, design files).

A *design* is a list of points; each point sets some scenario fields (dotted paths, as in
:func:`simulator.override`). ``--vary``, ``--set`` and ``--param`` texts and design
files (docs/experiments.md) are parsed here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import math
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import MISSING, CensimError, ScenarioError
from simulator.model.scenario import Scenario, override
from simulator.model.scenario.reading import _read_toml

MAX_RUNS = 1_000_000


class SweepError(CensimError):
    """A design, option or store that cannot be used (exit code 2, like a bad scenario)."""

    exit_code = 2


@dataclass(frozen=True)
class Design:
    """Points of an experiment: each a mapping of dotted field path to value.

    ``kind`` says how it was made (``grid``, ``points``, ``lhs``, ``sobol``,
    ``sensitivity-sobol``...), ``spec`` the inputs that made it (recorded in
    ``design.json``), ``source`` where it came from (for error messages).
    """

    kind: str
    fields: tuple[str, ...]
    points: tuple[dict[str, Any], ...]
    spec: dict[str, Any] = field(default_factory=dict)
    source: str = "<design>"
    from_file: bool = False
    """Whether ``source`` is a design file (its errors then say "invalid design")."""

    def __len__(self) -> int:
        return len(self.points)


def parse_literal(text: str, source: str, field_name: str) -> Any:
    """One TOML literal (``12``, ``0.5``, ``true``, ``"text"``, ``[1, 2]``)."""
    return parse_literals(text, source, field_name, single=True)[0]


def parse_literals(text: str, source: str, field_name: str, *, single: bool = False) -> list[Any]:
    """Comma-separated TOML literals: numbers, true/false, quoted strings, arrays."""
    allowed = (
        "a TOML literal: a number, true/false, a quoted string or an array"
        if single
        else "comma-separated TOML literals: numbers, true/false, quoted strings"
    )
    if not text.strip():
        raise ScenarioError(source, [(field_name, text, f"no value given; expected {allowed}")])
    try:
        values = tomllib.loads(f"v = [{text}]")["v"]
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):  # ValueError: 4,300+ digits
        raise ScenarioError(
            source, [(field_name, text, f"cannot read; expected {allowed}")]
        ) from None
    if single and len(values) != 1:
        raise ScenarioError(source, [(field_name, text, f"expected one value: {allowed}")])
    return list(values)


def _split_assignment(text: str, source: str, what: str) -> tuple[str, str]:
    name, sep, rhs = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise SweepError(f"{source} {text!r}: expected {what}")
    return name, rhs.strip()


def parse_vary(text: str, source: str = "--vary") -> tuple[str, list[Any]]:
    """``FIELD=V1,V2,...`` (values as TOML literals) as ``(field, [values])``."""
    name, rhs = _split_assignment(
        text, source, "FIELD=V1,V2,... (e.g. rules.takedown.vagueness=0,0.5)"
    )
    values = parse_literals(rhs, source, name)
    return name, values


def parse_set(text: str, source: str = "--set") -> tuple[str, Any]:
    """``FIELD=VALUE`` (a TOML literal) as ``(field, value)``."""
    name, rhs = _split_assignment(text, source, "FIELD=VALUE (e.g. horizon_days=30)")
    return name, parse_literal(rhs, source, name)


def parse_range(text: str, source: str = "--param") -> tuple[str, tuple[float, float]]:
    """``FIELD=LOW:HIGH`` (two numbers, LOW < HIGH) as ``(field, (low, high))``."""
    name, rhs = _split_assignment(
        text, source, "FIELD=LOW:HIGH (e.g. rules.takedown.vagueness=0:1)"
    )
    low_text, colon, high_text = rhs.partition(":")
    allowed = "a range LOW:HIGH of two numbers with LOW < HIGH (e.g. 0:1)"
    if not colon:
        raise ScenarioError(source, [(name, rhs, allowed)])
    bounds = []
    for part in (low_text, high_text):
        try:
            value = float(part)
        except ValueError:
            raise ScenarioError(source, [(name, rhs, allowed)]) from None
        if not math.isfinite(value):
            raise ScenarioError(source, [(name, rhs, allowed)])
        bounds.append(value)
    if not bounds[0] < bounds[1]:
        raise ScenarioError(source, [(name, rhs, allowed)])
    return name, (bounds[0], bounds[1])


def grid_design(vary: Mapping[str, Sequence[Any]], source: str = "--vary") -> Design:
    """The full grid (Cartesian product) of the values; the last field varies fastest."""
    fields = tuple(vary)
    for name, values in vary.items():
        if not isinstance(values, list | tuple) or not values:
            raise ScenarioError(source, [(name, values, "a non-empty list of values")])
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise ScenarioError(source, [(name, list(values), "values must not repeat")])
    # Counted before the grid is built: three lists of 1,000 values make 10**9 points.
    check_size(math.prod(len(values) for values in vary.values()), source)
    points = tuple(
        dict(zip(fields, combo, strict=True))
        for combo in itertools.product(*(list(vary[f]) for f in fields))
    )
    if not points:
        points = ({},)
    spec = {"grid": {f: list(vary[f]) for f in fields}}
    return Design("grid", fields, points, spec, source)


def points_design(points: Sequence[Mapping[str, Any]], source: str = "<points>") -> Design:
    """An explicit list of points; a field missing from a point keeps the scenario's value."""
    if not points:
        raise ScenarioError(source, [("points", [], "at least one point")])
    fields: list[str] = []
    for point in points:
        for name in point:
            if name not in fields:
                fields.append(name)
    check_size(len(points), source)
    plain = tuple(dict(p) for p in points)
    return Design("points", tuple(fields), plain, {"points": [dict(p) for p in points]}, source)


def sampled_design(
    ranges: Mapping[str, tuple[float, float]],
    n: int,
    method: str = "lhs",
    seed: int = 0,
    source: str = "<sample>",
) -> Design:
    """``n`` points sampled in the box ``ranges`` by Latin hypercube (``lhs``) or scrambled
    Sobol (``sobol``; use a power of 2) from :mod:`scipy.stats.qmc`."""
    from scipy.stats import qmc

    if method not in ("lhs", "sobol"):
        raise ScenarioError(source, [("sample.method", method, "one of: lhs, sobol")])
    if not ranges:
        raise ScenarioError(source, [("sample.ranges", {}, "at least one FIELD = [LOW, HIGH]")])
    if n < 1:
        raise ScenarioError(source, [("sample.n", n, "a whole number >= 1")])
    check_size(n, source)
    fields = tuple(ranges)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    engine: Any = (
        qmc.LatinHypercube(d=len(fields), rng=rng)
        if method == "lhs"
        else qmc.Sobol(d=len(fields), scramble=True, rng=rng)
    )
    with _quiet_warnings():
        unit = engine.random(n)
    lows = np.array([ranges[f][0] for f in fields])
    highs = np.array([ranges[f][1] for f in fields])
    scaled = qmc.scale(unit, lows, highs)
    points = tuple({f: float(row[j]) for j, f in enumerate(fields)} for row in scaled)
    spec = {
        "sample": {
            "method": method,
            "n": n,
            "seed": seed,
            "ranges": {f: list(ranges[f]) for f in fields},
        }
    }
    return Design(method, fields, points, spec, source)


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    import warnings

    # scipy warns when a Sobol sample size is not a power of 2: the points are still valid.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def check_size(n: int, source: str, what: str = "points") -> None:
    if n > MAX_RUNS:
        raise ScenarioError(
            source, [("", MISSING, f"a design of at most {MAX_RUNS:,} {what}; this one has {n:,}")]
        )


def _flatten_table(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables as dotted keys (``rules.takedown.vagueness``); lists are leaves."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten_table(value, prefix=name + "."))
        else:
            out[name] = value
    return out


DESIGN_FILE_HELP = """\
A design file is TOML with exactly one of:
  [grid]     FIELD = [V1, V2, ...]  (full grid; quote dotted names or nest tables)
  [[points]] FIELD = VALUE           (one table per point)
  [sample]   method = "lhs"|"sobol", n = N, seed = S,
             [sample.ranges] FIELD = [LOW, HIGH]"""


def load_design(path: str | Path) -> Design:
    """Read a design file (see :data:`DESIGN_FILE_HELP`). Its errors say "invalid design"
    (they are raised as the scenario reader's :class:`ScenarioError`, exit code 2)."""
    try:
        return dataclasses.replace(_load_design(path), from_file=True)
    except ScenarioError as error:
        if error.noun != "scenario" or error.source != str(path):
            raise
        problems = [(f, v, _design_wording(m)) for f, v, m in error.problems]
        raise ScenarioError(error.source, problems, more=error.more, noun="design") from None


def _design_wording(message: str) -> str:
    """A message of the scenario file reader (:func:`_read_toml`), said of a design."""
    if message.startswith("is empty"):
        return "is empty (no settings); a design needs one of [grid], [[points]], [sample]"
    return message.replace("scenario files", "design files").replace(
        "to be a scenario", "to be a design"
    )


def _load_design(path: str | Path) -> Design:
    source = str(path)
    file = Path(path)
    if not file.is_file():
        raise ScenarioError(source, [("", MISSING, "no such design file")])
    # The scenario reader's limits apply (size, encoding, nesting, key depth, long ints).
    data = _read_toml(file)
    sections = [k for k in ("grid", "points", "sample") if k in data]
    unknown = [k for k in data if k not in ("grid", "points", "sample")]
    if unknown:
        raise ScenarioError(
            source, [(unknown[0], MISSING, "unknown section; allowed: grid, points, sample")]
        )
    if len(sections) != 1:
        raise ScenarioError(
            source, [("", MISSING, "needs exactly one of [grid], [[points]], [sample]")]
        )
    section = sections[0]
    if section == "grid":
        if not isinstance(data["grid"], dict):
            raise ScenarioError(source, [("grid", data["grid"], "a table FIELD = [V1, V2, ...]")])
        return grid_design(_flatten_table(data["grid"]), source=source)
    if section == "points":
        points = data["points"]
        if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
            raise ScenarioError(source, [("points", points, "an array of tables [[points]]")])
        return points_design([_flatten_table(p) for p in points], source=source)
    sample = data["sample"]
    if not isinstance(sample, dict):
        raise ScenarioError(source, [("sample", sample, "a table")])
    extra = [k for k in sample if k not in ("method", "n", "seed", "ranges")]
    if extra:
        raise ScenarioError(
            source,
            [(f"sample.{extra[0]}", MISSING, "unknown field; allowed: method, n, seed, ranges")],
        )
    method = sample.get("method", "lhs")
    n = sample.get("n")
    seed = sample.get("seed", 0)
    if not isinstance(n, int) or isinstance(n, bool):
        raise ScenarioError(
            source, [("sample.n", n if n is not None else MISSING, "a whole number >= 1")]
        )
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError(source, [("sample.seed", seed, "a whole number >= 0")])
    ranges_raw = sample.get("ranges")
    if not isinstance(ranges_raw, dict):
        raise ScenarioError(
            source,
            [
                (
                    "sample.ranges",
                    ranges_raw if ranges_raw is not None else MISSING,
                    "a table FIELD = [LOW, HIGH]",
                )
            ],
        )
    ranges: dict[str, tuple[float, float]] = {}
    for name, bounds in _flatten_table(ranges_raw).items():
        ok = (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            and bounds[0] < bounds[1]
        )
        if not ok:
            raise ScenarioError(
                source, [(f"sample.ranges.{name}", bounds, "[LOW, HIGH] with LOW < HIGH")]
            )
        ranges[name] = (float(bounds[0]), float(bounds[1]))
    return sampled_design(ranges, n, method=str(method), seed=seed, source=source)


def apply_fixed(scenario: Scenario, fixed: Mapping[str, Any], source: str = "--set") -> Scenario:
    """The scenario with fixed overrides (``--set``, ``--days``, ``--users``) applied."""
    return override(scenario, dict(fixed), source=source) if fixed else scenario


def design_from_options(vary: Iterable[str] = (), design_file: str | Path | None = None) -> Design:
    """The design given on the command line: ``--vary`` options (a full grid) or a design
    file (not both). No ``--vary`` and no file: a single point (the scenario as is)."""
    vary = list(vary)
    if vary and design_file is not None:
        raise SweepError("give --vary options or --design FILE, not both")
    if design_file is not None:
        return load_design(design_file)
    grid: dict[str, list[Any]] = {}
    for text in vary:
        name, values = parse_vary(text)
        if name in grid:
            raise ScenarioError("--vary", [(name, text, "each field may be varied once")])
        grid[name] = values
    return grid_design(grid, source="--vary")
