"""No module of viz/ or widgets/ imports another module's private name (shared helpers have public names)."""

from __future__ import annotations

import ast
import pathlib

import pytest

import chatanalytics

ROOT = pathlib.Path(chatanalytics.__file__).parent
MODULES = sorted([*ROOT.joinpath("viz").glob("*.py"), *ROOT.joinpath("widgets").glob("*.py")])


def private_imports(path: pathlib.Path) -> list[str]:
    """``module:name`` for every ``from module import _name`` in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found += [f"{module}:{a.name}" for a in node.names if a.name.startswith("_")]
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_private_name_is_imported(path):
    assert private_imports(path) == []


def test_the_check_sees_a_private_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from .agents import _check, leaderboard_figure\n\ndef f():\n    from ..viz import _x\n")
    assert private_imports(bad) == [".agents:_check", "..viz:_x"]
