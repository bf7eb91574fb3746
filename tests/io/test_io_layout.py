"""How the io package's modules import each other, read from their source with ``ast``.

- no format module (a registered module) imports another format module: what two formats share lives
  in a shared module (``_jsonl``, ``_json_sql``, ``_sql``, ``_files``, ``_report_csv``, ...);
- no io module imports a private name (``_x``) from another io module;
- the module-level imports inside io form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import chatanalytics as ca
from chatanalytics.io import _protocol

IO = Path(ca.__file__).parent / "io"


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(io module imported, names taken from it) for each module-level import of an io module."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module is None:  # from . import _a, _b
                found += [(alias.name, []) for alias in node.names]
            else:
                found.append((node.module, [alias.name for alias in node.names]))
    return found


MODULES = {p.stem: imports_of(p) for p in IO.glob("*.py")}


def test_no_format_module_imports_another():
    formats = {f.__name__.rsplit(".", 1)[1] for f in _protocol.formats() if isinstance(f, ModuleType)}
    assert {"_capture", "_parquet", "_ga4", "_datalayer", "_xdm", "_segment"} <= formats
    crossing = {
        (name, target)
        for name in formats
        for target, _ in MODULES[name]
        if target in formats and target != name
    }
    assert crossing == set()


def test_no_io_module_imports_a_private_name_of_another():
    private = {
        (name, target, item)
        for name, imports in MODULES.items()
        for target, items in imports
        for item in items
        if item.startswith("_")
    }
    assert private == set()


def test_module_level_imports_form_no_cycle():
    graph = {name: {t for t, _ in imports if t in MODULES} for name, imports in MODULES.items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*path, name, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
