"""The package's shape, read from its source with ``ast``: imports point one way and stay public.

- no module imports a private name (``_x``) of another module, nor reads one off an imported module;
- no import cycle among module-level imports inside ``io/``, nor among ``analysis/``, ``viz/`` and
  ``widgets/`` (imports inside functions are not counted: they run late, on use);
- ``analysis/`` never imports plotly or ipywidgets at module level;
- every submodule name is a module attribute of its package, never shadowed by a function or class;
- no export-format module imports another one.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import types
from pathlib import Path

import pytest

import chatanalytics

PACKAGE = Path(chatanalytics.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: at module level, in ``try`` / ``if`` blocks at
    module level, but not under ``if TYPE_CHECKING``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, ast.If) and not _type_checking(node):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return found


def _imported_modules(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The chatanalytics modules an import statement loads (a ``from pkg import sub`` loads ``pkg.sub``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = _resolve(module, node)
    subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    # ``from . import _sub`` loads the submodule; the package it names is the one being imported
    whole = base in MODULES and len(subs) < len(node.names)
    return [base, *subs] if whole else subs


TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def test_the_source_tree_is_read():
    assert "chatanalytics.io" in MODULES and "chatanalytics.analysis" in MODULES
    assert len(MODULES) > 30


def test_no_module_imports_a_private_name_of_another():
    offences = []
    for module, tree in TREES.items():
        module_aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(module, node)
                if not source.startswith("chatanalytics"):
                    continue
                for alias in node.names:
                    target = f"{source}.{alias.name}"
                    if target in MODULES:
                        module_aliases[alias.asname or alias.name] = target
                    elif alias.name.startswith("_") and not alias.name.startswith("__"):
                        offences.append(f"{module}: from {source} import {alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in MODULES and alias.asname:
                        module_aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and module_aliases[node.value.id] != module
            ):
                offences.append(f"{module}: {module_aliases[node.value.id]}.{node.attr}")
    assert not sorted(set(offences)), "\n".join(sorted(set(offences)))


def _graph(modules: set[str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module in modules:
        for node in _top_level_imports(TREES[module]):
            graph[module] |= {m for m in _imported_modules(module, node) if m in modules and m != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_io():
    io = {m for m in MODULES if m == "chatanalytics.io" or m.startswith("chatanalytics.io.")}
    # the package's own __init__ imports its modules; a module importing the package back is the cycle
    assert _cycles(_graph(io)) == []


@pytest.mark.parametrize("layer", ["analysis", "viz", "widgets"])
def test_no_import_cycle_inside_a_layer(layer):
    prefix = f"chatanalytics.{layer}"
    modules = {m for m in MODULES if m == prefix or m.startswith(prefix + ".")}
    assert _cycles(_graph(modules)) == []


def test_layers_import_downwards_only():
    """analysis never imports viz or widgets at module level, and viz never imports widgets."""
    forbidden = {"analysis": ("viz", "widgets"), "viz": ("widgets",)}
    offences = []
    for module, tree in TREES.items():
        layer = module.split(".")[1] if module.count(".") >= 1 else ""
        for node in _top_level_imports(tree):
            for target in _imported_modules(module, node):
                if target.split(".")[1:2] and target.split(".")[1] in forbidden.get(layer, ()):
                    offences.append(f"{module} -> {target}")
    assert offences == []


def test_analysis_never_imports_plotly_or_ipywidgets_at_module_level():
    offences = []
    for module, tree in TREES.items():
        if not module.startswith("chatanalytics.analysis"):
            continue
        for node in _top_level_imports(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            offences += [f"{module}: {n}" for n in names if n.split(".")[0] in ("plotly", "ipywidgets")]
    assert offences == []


def test_no_submodule_is_shadowed_by_a_function():
    """``import chatanalytics.x.y as m`` gives the module ``y`` (or fails), never a function named ``y``."""
    shadowed = []
    for info in pkgutil.walk_packages(chatanalytics.__path__, "chatanalytics."):
        if info.name.split(".")[-1] == "__main__":
            continue
        module = importlib.import_module(info.name)
        parent, _, leaf = info.name.rpartition(".")
        attr = getattr(importlib.import_module(parent), leaf)
        if not isinstance(attr, types.ModuleType) or attr is not module:
            shadowed.append(f"{info.name} is {type(attr).__name__} {attr!r:.60}")
    assert shadowed == []


def test_no_format_module_imports_another():
    """What two formats share lives in a shared io module (``_jsonl``, ``_sql``, ``_files``, ...)."""
    from chatanalytics.io import _protocol

    formats = {f.__name__ for f in _protocol.formats() if isinstance(f, types.ModuleType)}
    assert {"chatanalytics.io._capture", "chatanalytics.io._parquet", "chatanalytics.io._ga4"} <= formats
    crossing = []
    for module in sorted(formats):
        for node in ast.walk(TREES[module]):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                crossing += [
                    f"{module} -> {t}"
                    for t in _imported_modules(module, node)
                    if t in formats and t != module
                ]
    assert crossing == []
