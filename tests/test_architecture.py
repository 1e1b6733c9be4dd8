"""The package's shape, checked from its own imports (``ast``, nothing imported or run).

Data flows one way: each stage package imports only the packages below it
(``ALLOWED``, the same table as ARCHITECTURE.md), no two modules import each
other through any chain, and every module and function stays short enough to
read in one sitting.  Run alone with ``pytest tests/test_architecture.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

#: what each part of the package may import (besides itself); the top of the list is the bottom layer
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "text": {"core"},
    "ingest": {"core", "text"},
    "model": {"core"},
    "indexing": {"core", "text", "ingest", "model"},
    "answering": {"core", "text", "indexing"},
    "store": {"core", "text"},
    "serving": {"core", "store"},
    "pipeline": {"core", "text", "ingest", "model", "indexing", "answering"},
    "evaluate": {"core", "text", "indexing", "answering", "pipeline"},
    "web": {"core", "indexing", "store", "serving", "pipeline"},
    "cli": {"core", "text", "ingest", "model", "indexing", "answering", "store", "serving", "pipeline"}
    | {"evaluate", "web"},
    "__main__": {"cli"},
    "__init__": {"core", "indexing", "pipeline"},
}
MAX_TOP_MODULES = 8
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def modules() -> dict[str, Path]:
    """Dotted name (without the leading ``assistant.``) → file."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """Every project module ``name`` imports, anywhere in the file (lazy and type-only imports too)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = [] if name == "__init__" else package
    out = set()
    known = modules()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            if node.level == 0:
                if not (node.module or "").startswith("assistant"):
                    continue
                module = (node.module or "").removeprefix("assistant").strip(".")
            subs = {f"{module}.{a.name}".strip(".") for a in node.names}
            out.update(subs if subs <= known.keys() else {module})  # «from . import render»: submodules
        elif isinstance(node, ast.Import):
            out.update(
                a.name.removeprefix("assistant.") for a in node.names if a.name.startswith("assistant.")
            )
    return {m for m in out if m in known and m != name}


def part(module: str) -> str:
    return module.split(".")[0] or "__init__"


def test_each_package_imports_only_from_below():
    upward = []
    for name, path in modules().items():
        for target in imports(name, path):
            if part(target) != part(name) and part(target) not in ALLOWED[part(name)]:
                upward.append(f"{name} -> {target}")
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = {name: imports(name, path) for name, path in modules().items()}
    cycles = sorted({tuple(sorted(c)) for c in _components(graph) if len(c) > 1})
    assert not cycles, f"modules that import each other: {cycles}"


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components (two modules are in one when each reaches the other)."""
    reach = {n: _reach(graph, n) for n in graph}
    return [{m for m in graph if m == n or (m in reach[n] and n in reach[m])} for n in graph]


def test_few_modules_at_the_top_and_none_too_long():
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_MODULES, top
    long_modules = {n: len(p.read_text(encoding="utf-8").splitlines()) for n, p in modules().items()}
    assert all(v <= MAX_MODULE_LINES for v in long_modules.values()), {
        n: v for n, v in long_modules.items() if v > MAX_MODULE_LINES
    }
    long_functions = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}.{node.name}: {length} lines")
    assert not long_functions, long_functions


def test_nothing_is_unpickled():
    users = [n for n, p in modules().items() if "pickle" in imports_of_stdlib(p)]
    assert not users, f"pickle imported by {users}"


def imports_of_stdlib(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names
