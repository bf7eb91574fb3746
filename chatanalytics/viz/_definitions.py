"""The analysis definitions figures and widgets read: table columns, metric names, causes, Adobe's limits.

Figures and widgets take these from here and nowhere else, so the analyses can move their modules
without touching a figure.
"""

from __future__ import annotations

from ..analysis._requests import ACCEPT_WINDOW_SECONDS, AGENT_CHAT_CAP, IDLE_TIMEOUT_SECONDS
from ..analysis.agents import METRICS, NO_AGENT, RATES
from ..analysis.funnel import FRAME_COLUMNS, ORDERS, UNITS
from ..analysis.timeouts import CAUSES, SERVICE_LEVEL_SECONDS

__all__ = [
    "ACCEPT_WINDOW_SECONDS",
    "AGENT_CHAT_CAP",
    "CAUSES",
    "FRAME_COLUMNS",
    "IDLE_TIMEOUT_SECONDS",
    "METRICS",
    "NO_AGENT",
    "ORDERS",
    "RATES",
    "SERVICE_LEVEL_SECONDS",
    "UNITS",
]
