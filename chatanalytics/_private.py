"""Module paths that are private now fail on import with a message saying where their names went.

``chatanalytics.analysis.funnel`` is the function :func:`chatanalytics.funnel`; the module that defines
it is ``chatanalytics.analysis._funnel``, private. Without this, ``import chatanalytics.analysis.funnel
as f`` would quietly give the function; with it, the import fails and names the public home.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any


class _MovedModules(importlib.abc.MetaPathFinder):
    """Refuse the import of module paths that became private, pointing to the package instead."""

    def __init__(self) -> None:
        self.moved: dict[str, str] = {}

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        home = self.moved.get(fullname)
        if home is None:
            return None
        raise ModuleNotFoundError(
            f"{fullname} is not a module: its public names are imported from {home} "
            f"(from {home} import ...); the implementation module is private",
            name=fullname,
        )


_FINDER = _MovedModules()
sys.meta_path.insert(0, _FINDER)


def refuse_moved(package: str, names: Iterable[str]) -> None:
    """Make ``import <package>.<name>`` fail with a message naming ``package`` as the public home."""
    for name in names:
        _FINDER.moved[f"{package}.{name}"] = package
