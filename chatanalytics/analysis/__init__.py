"""Analyses of canonical events. Compute only: they return tables and result objects, never figures."""

from ._engine import events_table
from ._overview import event_counts
from .adobe import adobe_metrics
from .agents import AgentPerformanceResult, agent_performance
from .funnel import FunnelResult, funnel, optional
from .timeouts import TimeoutResult, timeouts

__all__ = [
    "AgentPerformanceResult",
    "FunnelResult",
    "TimeoutResult",
    "adobe_metrics",
    "agent_performance",
    "event_counts",
    "events_table",
    "funnel",
    "optional",
    "timeouts",
]
