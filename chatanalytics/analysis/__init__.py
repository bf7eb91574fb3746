"""Analyses of canonical events. Compute only: they return tables and result objects, never figures.

Every result is a :class:`Result` (its tables, figure kinds, headline and definitions); every analysis
the report and the command line run is an :class:`Analysis` in :data:`ANALYSES`.
"""

import sys as _sys
import types as _types
import warnings as _warnings
from typing import Any as _Any

from . import _adobe, _agents, _funnel, _timeouts
from ._adobe import adobe_metrics
from ._agents import METRICS, NO_AGENT, RATES, AgentPerformanceResult, agent_performance
from ._engine import events_table
from ._funnel import FRAME_COLUMNS, ORDERS, UNITS, FunnelResult, funnel, optional
from ._overview import event_counts
from ._registry import ANALYSES, Analysis, ReportOptions, register, unregister
from ._requests import ACCEPT_WINDOW_SECONDS, AGENT_CHAT_CAP, IDLE_TIMEOUT_SECONDS
from ._result import FigureKind, Result, TableView, styled
from ._timeouts import CAUSES, SERVICE_LEVEL_SECONDS, TimeoutResult, timeouts

__all__ = [
    "ACCEPT_WINDOW_SECONDS",
    "AGENT_CHAT_CAP",
    "ANALYSES",
    "CAUSES",
    "FRAME_COLUMNS",
    "IDLE_TIMEOUT_SECONDS",
    "METRICS",
    "NO_AGENT",
    "ORDERS",
    "RATES",
    "SERVICE_LEVEL_SECONDS",
    "UNITS",
    "AgentPerformanceResult",
    "Analysis",
    "FigureKind",
    "FunnelResult",
    "ReportOptions",
    "Result",
    "TableView",
    "TimeoutResult",
    "adobe_metrics",
    "agent_performance",
    "event_counts",
    "events_table",
    "funnel",
    "optional",
    "register",
    "styled",
    "timeouts",
    "unregister",
]


class _MovedModule(_types.ModuleType):
    """The old public path of a module that is private now: names still resolve, with a warning."""

    def __init__(self, name: str, target: _types.ModuleType) -> None:
        super().__init__(name, target.__doc__)
        self._target = target

    def __getattr__(self, attr: str) -> _Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        _warnings.warn(
            f"{self.__name__} is private now: import {attr} from chatanalytics.analysis",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self._target, attr)


for _old, _new in (("adobe", _adobe), ("agents", _agents), ("funnel", _funnel), ("timeouts", _timeouts)):
    _sys.modules.setdefault(f"{__name__}.{_old}", _MovedModule(f"{__name__}.{_old}", _new))
