"""The package's layers, enforced: imports only go down, and no module imports itself in a circle.

The order (lowest first)::

    errors, _checks, labels  <  instrument  <  store  <  analysis  <  exports, report
        <  collect  <  synth, demo, cli, commands

A module may import its own layer and the layers below it, never one above. Every import counts:
at the top of a module, inside a function, under ``if TYPE_CHECKING:``. The check reads the source
(``ast``), so it sees imports that a test run never executes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "toolkit"

#: Layer of each top-level module or subpackage of ``toolkit``.
LAYERS: dict[str, int] = {
    "errors": 0,
    "_checks": 0,
    "labels": 0,
    "instrument": 1,
    "store": 2,
    "analysis": 3,
    "exports": 4,
    "report": 4,
    "collect": 5,
    "synth": 6,
    "demo": 6,
    "cli": 6,
    "commands": 6,
}

#: Imports back up that are known and being removed, each with the reason it is still there. The
#: test fails on any other, and fails when one of these is gone (so the list only shrinks).
KNOWN: dict[tuple[str, str], str] = {}


#: Import cycles that are known and being removed (imports inside functions, so not at import
#: time), with the reason; the test fails on any other cycle and when one of these is gone.
KNOWN_CYCLES: dict[tuple[str, ...], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(
    source: str, module: str, *, is_package: bool, known: set[str]
) -> Iterator[tuple[str, int]]:
    """The ``toolkit`` modules that ``source`` imports anywhere, with line numbers.

    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module, else ``a.b``;
    relative imports are resolved against ``module``.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "toolkit" or alias.name.startswith("toolkit."):
                    yield _known_prefix(alias.name, known), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if not (name == "toolkit" or name.startswith("toolkit.")):
                continue
            for alias in node.names:
                full = f"{name}.{alias.name}"
                yield (full if full in known else _known_prefix(name, known)), node.lineno


def _known_prefix(name: str, known: set[str]) -> str:
    while name not in known and "." in name:
        name = name.rpartition(".")[0]
    return name


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 1:  # the package itself
        return 0
    return LAYERS.get(parts[1])


def import_graph() -> dict[str, list[tuple[str, int]]]:
    found = modules()
    known = set(found)
    return {
        name: sorted(
            set(
                imported(
                    path.read_text(encoding="utf-8"),
                    name,
                    is_package=path.name == "__init__.py",
                    known=known,
                )
            )
        )
        for name, path in found.items()
    }


def upward_imports() -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for source, targets in import_graph().items():
        for target, line in targets:
            low, high = layer_of(source), layer_of(target)
            assert low is not None and high is not None
            if high > low:
                out.setdefault((source, target), []).append(line)
    return out


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = iter(range(10**9))

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# --- the checker itself -------------------------------------------------------------------------


def test_the_checker_sees_imports_inside_functions_and_relative_ones() -> None:
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from toolkit.store import Store\n"
        "def f():\n    from toolkit.demo import demo_store\n    import toolkit.cli\n"
        "from . import safe\n"
        "from ..analysis import rake\n"
    )
    known = {
        "toolkit.store",
        "toolkit.demo",
        "toolkit.cli",
        "toolkit.exports.safe",
        "toolkit.analysis",
    }
    got = set(imported(source, "toolkit.exports.writers", is_package=False, known=known))
    assert got == {
        ("toolkit.store", 4),
        ("toolkit.demo", 6),
        ("toolkit.cli", 7),
        ("toolkit.exports.safe", 8),
        ("toolkit.analysis", 9),
    }


def test_the_checker_finds_cycles() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["e"]}
    assert cycles(graph) == [["a", "b", "c"], ["e"]]
    assert cycles({"a": ["b"], "b": []}) == []


# --- the package --------------------------------------------------------------------------------


def test_every_part_of_the_package_has_a_layer() -> None:
    missing = sorted({m.split(".")[1] for m in modules() if "." in m} - set(LAYERS))
    assert not missing, f"declare the layer of {missing} in tests/test_layers.py LAYERS"


def test_no_import_goes_back_up_a_layer() -> None:
    unexpected = {
        f"{source} -> {target} (line {', '.join(map(str, lines))})"
        for (source, target), lines in upward_imports().items()
        if (source, target) not in KNOWN
    }
    assert not unexpected, "imports back up the layers:\n" + "\n".join(sorted(unexpected))


def test_known_exceptions_are_still_there() -> None:
    """A fixed exception must leave KNOWN, so the list cannot hide a new one."""
    found = upward_imports()
    fixed = [pair for pair in sorted(KNOWN) if pair not in found]
    assert fixed == [], f"{fixed} are fixed: remove them from KNOWN"


def _cycles_found() -> set[tuple[str, ...]]:
    graph = {name: [t for t, _line in targets] for name, targets in import_graph().items()}
    return {tuple(c) for c in cycles(graph)}


def test_no_import_cycles() -> None:
    unexpected = _cycles_found() - set(KNOWN_CYCLES)
    assert not unexpected, f"import cycles: {sorted(unexpected)}"


def test_known_cycles_are_still_there() -> None:
    found = _cycles_found()
    fixed = [cycle for cycle in sorted(KNOWN_CYCLES) if cycle not in found]
    assert fixed == [], f"{fixed} are fixed: remove them from KNOWN_CYCLES"


def test_analysis_never_imports_widgets_databases_or_the_store() -> None:
    banned = ("toolkit.store", "sqlalchemy", "psycopg", "ipywidgets", "solara", "ipyvuetify")
    bad = []
    for name, path in modules().items():
        if not name.startswith("toolkit.analysis"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            bad += [f"{name}:{node.lineno} {n}" for n in names if n.startswith(banned)]
    assert not bad


# --- module size ---------------------------------------------------------------------------------

MAX_LINES = 800

#: Modules still over MAX_LINES, with the most lines each may have until it is split (so they only
#: shrink); the test fails when one grows, and when one is under MAX_LINES and still listed.
LARGE: dict[str, int] = {}


def test_modules_stay_small() -> None:
    too_long = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = LARGE.get(relative, MAX_LINES)
        if lines > limit:
            too_long[relative] = lines
        elif relative in LARGE and lines <= MAX_LINES:
            too_long[relative] = lines  # split: remove it from LARGE
    assert not too_long, f"modules over their line limit (or split and still listed): {too_long}"
