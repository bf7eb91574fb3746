"""Analyses of canonical events. Compute only: they return tables and result objects, never figures."""

from ._overview import event_counts
from .adobe import adobe_metrics
from .agents import AgentPerformanceResult, agent_performance
from .funnel import FunnelResult, funnel, optional

__all__ = [
    "AgentPerformanceResult",
    "FunnelResult",
    "adobe_metrics",
    "agent_performance",
    "event_counts",
    "funnel",
    "optional",
]
