"""Static scans of the project's own source (no imports of the code under test): the module import graph
(function-level imports included) and function lengths."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("core_models", "app", "tests", "tools", "scripts")
SKIP_PARTS = {".venv", ".tools", "__pycache__", "fixtures"}


def python_files(dirs: tuple[str, ...]) -> Iterator[Path]:
    for d in dirs:
        for p in sorted((ROOT / d).rglob("*.py")):
            if not SKIP_PARTS & set(p.relative_to(ROOT).parts):
                yield p
    if (ROOT / "main.py").exists():
        yield ROOT / "main.py"


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _targets(node: ast.Import | ast.ImportFrom, current: str, is_pkg: bool, modules: set[str]) -> list[str]:
    """Modules an import statement depends on: ``from pkg import sub`` depends on ``pkg.sub`` when that is a
    module (not on every sibling through ``pkg/__init__``), otherwise on ``pkg``."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = current.split(".") if is_pkg else current.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        mod = ".".join(base + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    return [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]


def import_graph(package: str = "core_models") -> dict[str, set[str]]:
    """module → modules of ``package`` it imports anywhere in its body (top level or inside functions)."""
    files = {module_name(p): p for p in python_files((package,))}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(node, mod, is_pkg, set(files)):
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != mod:
                    graph[mod].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def long_functions(limit: int = 80) -> list[tuple[str, int]]:
    """(path:line name, length) of every function or method longer than ``limit`` lines."""
    found = []
    for path in python_files(SOURCE_DIRS):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", length))
    return found
