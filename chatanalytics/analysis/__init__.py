"""Analyses of canonical events. Compute only: they return tables and result objects, never figures.

Every result is a :class:`Result` (its tables, figure kinds, headline and definitions); every analysis
the report and the command line run is an :class:`Analysis` in :data:`ANALYSES`. The definitions the
tables rest on (units, metrics, causes, Adobe's limits) are in :mod:`chatanalytics.columns`.
"""

from .._private import refuse_moved
from ._adobe import adobe_metrics
from ._agents import AgentPerformanceResult, agent_performance
from ._changes import ChangesResult, changes
from ._engine import events_table
from ._funnel import FunnelResult, funnel, optional
from ._overview import event_counts
from ._registry import ANALYSES, Analysis, ReportOptions, register, unregister
from ._result import FigureKind, Result, TableView, styled
from ._timeouts import TimeoutResult, timeouts

__all__ = [
    "ANALYSES",
    "AgentPerformanceResult",
    "Analysis",
    "ChangesResult",
    "FigureKind",
    "FunnelResult",
    "ReportOptions",
    "Result",
    "TableView",
    "TimeoutResult",
    "adobe_metrics",
    "agent_performance",
    "changes",
    "event_counts",
    "events_table",
    "funnel",
    "optional",
    "register",
    "styled",
    "timeouts",
    "unregister",
]

refuse_moved(__name__, ("adobe", "agents", "funnel", "timeouts"))
