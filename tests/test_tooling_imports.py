"""The import graph of the package: no cycles among zoning's modules, frykit only in packbuild.

Both tests read the source with :mod:`ast` (nothing is imported), and count every import
statement, at module level or inside a function, except those under ``if TYPE_CHECKING:``
(never executed). An import names its exact module: ``from zoning.derive import steps`` is
an edge to ``zoning.derive.steps``, ``from zoning.core.layers import open_pack`` one to
``zoning.core.layers``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zoning"

# Edges of cycles that run through modules other engineers are reorganising now. Each entry
# is (importer, imported). Empty this list when their work lands: the test must then pass
# without it.
ALLOWED_EDGES: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):
    """Every node that can execute: skips the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _imports(name: str, path: Path, modules: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, int]]:
    """(imported module, line) for every runtime import in ``path``.

    ``from X import y`` is an import of the module ``X.y`` when that is one of ``modules``,
    else of ``X``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                found.append((sub if sub in modules else mod, node.lineno))
    return found


def _graph() -> dict[str, dict[str, int]]:
    """module -> {imported zoning module: first line}."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    for name, path in modules.items():
        for target, line in _imports(name, path, set(modules)):
            if target in modules and target != name:
                graph[name].setdefault(target, line)
    return graph


def _find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """A cycle as [a, b, ..., a], found by depth-first search; None when the graph has none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert _find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b": 1, "c": 1}, "b": {"c": 1}, "c": {}}) is None


def test_function_level_and_relative_imports_are_edges(tmp_path):
    src = "def f():\n    from zoning.core import vocab\n    from . import errors\n"
    (tmp_path / "m.py").write_text(src, encoding="utf-8")
    got = {m for m, _ in _imports("zoning.core.m", tmp_path / "m.py", {"zoning.core.vocab", "zoning.core.errors"})}
    assert {"zoning.core.vocab", "zoning.core.errors"} <= got


def test_no_import_cycle_among_zoning_modules():
    graph = _graph()
    stale = sorted(e for e in ALLOWED_EDGES if e[1] not in graph.get(e[0], {}))
    assert not stale, f"allowed edges that no longer exist (remove them from ALLOWED_EDGES): {stale}"
    for src, dst in ALLOWED_EDGES:
        del graph[src][dst]
    cycle = _find_cycle(graph)
    if cycle:
        steps = [f"{a} -> {b} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
        pytest.fail("import cycle: " + "; ".join(steps))


def test_frykit_only_in_packbuild():
    """frykit is a build-only dependency (the `build` extra): nothing outside zoning/packbuild may import it."""
    offenders = []
    for name, path in _modules().items():
        if name == "zoning.packbuild" or name.startswith("zoning.packbuild."):
            continue
        for target, line in _imports(name, path):
            if target == "frykit" or target.startswith("frykit."):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not offenders, "frykit outside zoning/packbuild: " + "; ".join(offenders)


def test_no_private_name_imported_across_modules():
    """A module's private helpers (names starting with ``_``) stay in it: code that other
    modules need is made public where it belongs."""
    import ast

    found = []
    for path in sorted((ROOT / "zoning").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zoning"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {alias.name}")
    assert not found, "\n".join(found)


def test_no_exception_class_outside_errors_module():
    import ast

    found = []
    for path in sorted((ROOT / "zoning").rglob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if any(b.endswith(("Error", "Exception")) for b in bases):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: class {node.name}")
    assert not found, "\n".join(found)
