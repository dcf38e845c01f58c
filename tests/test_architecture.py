"""The package's layering (simulator/layers.py, docs/architecture.md): every module of
``simulator/`` is parsed with ``ast`` (imports inside functions and under
``TYPE_CHECKING`` count too); the import graph must have no cycle, no layer may import
one above it, the compiled passes import only numpy and numba besides the standard
library, and nothing but the command line imports the command line."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from simulator.layers import (
    FORBIDDEN,
    KNOWN_EXCEPTIONS,
    LAYERS,
    THIRD_PARTY_ALLOWED,
    layer_of,
)

PACKAGE = Path(__file__).resolve().parent.parent / "simulator"


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: set[str]) -> tuple[set[str], set[str]]:
    """The package modules and the top-level outside packages ``name`` imports,
    wherever the import statement is. ``from simulator import plots`` imports the
    module ``simulator.plots``; ``from simulator import __version__`` the package."""
    is_package = path.name == "__init__.py"
    inside: set[str] = set()
    outside: set[str] = set()

    def add(target: str) -> None:
        if target.split(".")[0] == "simulator":
            # The deepest module of the package the name is or is in.
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            inside.add(target)
        else:
            outside.add(target.split(".")[0])

    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                package = name if is_package else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    package = package.rsplit(".", 1)[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in modules else base)
    inside.discard(name)
    return inside, outside


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Each module's imports of the package's modules, and of outside packages."""
    files = module_files()
    names = set(files)
    graph, outside = {}, {}
    for name, path in files.items():
        graph[name], outside[name] = imports_of(name, path, names)
    return graph, outside


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def shortest_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest import cycle through the first module of ``component``, as the path
    ``[a, b, ..., a]`` (breadth first, within the component)."""
    start, members = component[0], set(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph.get(node, set()) & members):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"{component} is not a cycle")


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports of a higher layer, or between layers kept apart (FORBIDDEN), that are
    not listed in KNOWN_EXCEPTIONS."""
    rank = {layer: position for position, (layer, _, _) in enumerate(LAYERS)}
    problems = []
    for importer, targets in sorted(graph.items()):
        for imported in sorted(targets):
            if (importer, imported) in KNOWN_EXCEPTIONS:
                continue
            low, high = layer_of(importer), layer_of(imported)
            if rank[high] > rank[low]:
                problems.append(f"{importer} ({low}) imports {imported} ({high}), a layer above")
            elif (low, high) in FORBIDDEN:
                problems.append(f"{importer} ({low}) imports {imported} ({high}): kept apart")
    return problems


def test_every_module_is_in_exactly_one_layer() -> None:
    placed = [module for _, _, modules in LAYERS for module in modules]
    assert len(placed) == len(set(placed)), "a module is placed in two layers"
    existing = set(module_files())
    assert not existing - set(placed), (
        f"place {sorted(existing - set(placed))} in a layer of simulator/layers.py"
    )
    assert not set(placed) - existing, f"no such modules: {sorted(set(placed) - existing)}"


def test_the_package_has_no_import_cycle() -> None:
    graph, _ = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(
        f"{', '.join(c)} (e.g. {' -> '.join(shortest_cycle(graph, c))})" for c in found
    )


def test_no_layer_imports_a_layer_above_it() -> None:
    graph, _ = import_graph()
    problems = layering_violations(graph)
    assert not problems, "\n".join(problems)


def test_the_known_exceptions_are_still_needed() -> None:
    """An exception the code no longer needs is removed from the list."""
    graph, _ = import_graph()
    stale = [pair for pair in KNOWN_EXCEPTIONS if pair[1] not in graph.get(pair[0], set())]
    assert not stale, f"no longer imported, drop from KNOWN_EXCEPTIONS: {stale}"


def test_low_layers_import_only_their_allowed_packages() -> None:
    """The compiled passes use numpy and numba only (besides the standard library); the
    foundation numpy only."""
    _, outside = import_graph()
    problems = []
    for module, packages in sorted(outside.items()):
        allowed = THIRD_PARTY_ALLOWED.get(layer_of(module))
        if allowed is None:
            continue
        for package in sorted(packages):
            if package not in sys.stdlib_module_names and package not in allowed:
                problems.append(f"{module} ({layer_of(module)}) imports {package}")
    assert not problems, "\n".join(problems)


def test_only_the_command_line_imports_it() -> None:
    graph, _ = import_graph()
    cli = set(dict((layer, modules) for layer, _, modules in LAYERS)["cli"])
    importers = sorted(m for m, targets in graph.items() if targets & cli and m not in cli)
    assert not importers, f"import the command line: {importers}"


def test_the_docs_table_lists_the_layers_as_they_are() -> None:
    """docs/architecture.md's table of layers names each layer's modules, in order."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    for layer, _, modules in LAYERS:
        row = next((r for r in rows if r.startswith(f"| {layer} |")), None)
        assert row is not None, f"docs/architecture.md has no row for the {layer} layer"
        named = set(re.findall(r"`([a-z_.]+)`", row.split("|")[2]))
        short = {m.removeprefix("simulator.") for m in modules}
        assert named == short, (layer, sorted(named), sorted(short))
    order = [r.split("|")[1].strip() for r in rows]
    listed = [o for o in order if o in {layer for layer, _, _ in LAYERS}]
    assert listed == [layer for layer, _, _ in LAYERS]


#: The longest a module of simulator/ may be: issue 15's "no module over ~600 lines",
#: with room for a rule or two before the module is split by what it holds.
MAX_MODULE_LINES = 650


def modules_over(limit: int, package: Path = PACKAGE) -> dict[str, int]:
    """The modules of ``package`` longer than ``limit`` lines, with their lengths."""
    lengths = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in module_files(package).items()
    }
    return {name: n for name, n in sorted(lengths.items()) if n > limit}


def test_no_module_is_over_the_line_limit() -> None:
    long = modules_over(MAX_MODULE_LINES)
    assert not long, (
        f"over {MAX_MODULE_LINES} lines: {long}; split each into modules named after what "
        "they hold (docs/architecture.md)"
    )


# -- the checks themselves catch what they are for -------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    """The import graph of a made-up package ``simulator`` written under ``tmp_path``."""
    for relative, text in files.items():
        path = tmp_path / "simulator" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    files_found = module_files(tmp_path / "simulator")
    return {n: imports_of(n, p, set(files_found))[0] for n, p in files_found.items()}


def test_cycles_are_found_through_functions_and_type_checking(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "def f():\n    from simulator import b\n",
            "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import X\n",
            "c.py": "import simulator.a\n",
            "d.py": "from simulator.a import f\n",
        },
    )
    assert graph["simulator.a"] == {"simulator.b"}
    assert graph["simulator.b"] == {"simulator.c"}
    assert cycles(graph) == [["simulator.a", "simulator.b", "simulator.c"]]
    assert shortest_cycle(graph, cycles(graph)[0]) == [
        "simulator.a", "simulator.b", "simulator.c", "simulator.a"
    ]  # fmt: skip


def test_an_upward_import_is_named() -> None:
    """The engine importing the CLI, the model the engine, a kernel the model and the
    engine its reference are each reported."""
    graph = {
        "simulator.engine.simulation": {"simulator.cli.main"},
        "simulator.model.regulator": {"simulator.engine.simulation"},
        "simulator.kernels.routes": {"simulator.model.speech"},
        "simulator.engine.post_store": {"simulator.reference.agent"},
        "simulator.experiments": {"simulator.engine.simulation"},  # allowed: downward
    }
    assert layering_violations(graph) == [
        "simulator.engine.post_store (engine) imports simulator.reference.agent (reference): "
        "kept apart",
        "simulator.engine.simulation (engine) imports simulator.cli.main (cli), a layer above",
        "simulator.kernels.routes (kernels) imports simulator.model.speech (model), a layer above",
        "simulator.model.regulator (model) imports simulator.engine.simulation (engine), "
        "a layer above",
    ]


def test_a_long_module_is_named(tmp_path: Path) -> None:
    for name, lines in {"short.py": 3, "long.py": 651}.items():
        path = tmp_path / "simulator" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("x = 1\n" * lines)
    assert modules_over(MAX_MODULE_LINES, tmp_path / "simulator") == {"simulator.long": 651}


@pytest.mark.parametrize("module", ["simulator.kernels.routes", "simulator.model.regulator"])
def test_the_real_graph_is_read(module: str) -> None:
    """Not vacuous: the graph holds the imports the modules really make."""
    graph, outside = import_graph()
    assert "simulator.kinds" in graph[module]
    assert "numpy" in outside[module]


ROOT = PACKAGE.parent
REPO_PATH = re.compile(r"`((?:simulator|tests|docs|benchmarks)/[^`\s<>]*)`")


def _section(text: str, heading: str) -> str:
    """The text under ``## heading`` up to the next ``## `` heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def test_the_rule_recipe_names_files_that_exist_and_every_file_of_its_example() -> None:
    """docs/architecture.md's recipe for a new rule stays true when files move: every
    repository path it or its worked example names exists, and every file the worked
    example's diff touched is named in the recipe."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    recipe = _section(text, "How a new rule is added today")
    example = _section(text, "Worked example: Weibo-style posting bans")
    named = REPO_PATH.findall(recipe)
    assert len(named) >= 20, named
    missing = sorted({path for path in named + REPO_PATH.findall(example)
                      if not (ROOT / path).exists()})  # fmt: skip
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"
    touched = re.findall(r"^\| `([^`]+)` \| [+−]", example, flags=re.MULTILINE)
    assert len(touched) == 17, touched  # the example's diff stat: 17 files
    unnamed = [path for path in touched if f"`{path}`" not in recipe]
    assert not unnamed, f"the worked example touched files the recipe does not name: {unnamed}"
