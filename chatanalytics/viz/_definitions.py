"""The analysis definitions figures and widgets read: table columns, metric names, causes, Adobe's limits.

Figures and widgets take these from here and nowhere else; they are defined in
:mod:`chatanalytics.columns`, which imports nothing heavy, so drawing a figure never imports an analysis.
"""

from __future__ import annotations

from ..columns import (
    ACCEPT_WINDOW_SECONDS,
    AGENT_CHAT_CAP,
    CAUSES,
    CHANGES_DRIVERS,
    CHANGES_METRICS,
    FRAME_COLUMNS,
    FUNNEL_CURVES,
    FUNNEL_OVER_TIME,
    IDLE_TIMEOUT_SECONDS,
    METRICS,
    NO_AGENT,
    ORDERS,
    RATES,
    SERVICE_LEVEL_SECONDS,
    TIMEOUT_CAUSES,
    TIMEOUT_CURVES,
    TIMEOUT_OUTCOMES,
    TIMEOUT_SERVICE_LEVEL,
    UNITS,
)

__all__ = [
    "ACCEPT_WINDOW_SECONDS",
    "AGENT_CHAT_CAP",
    "CAUSES",
    "CHANGES_DRIVERS",
    "CHANGES_METRICS",
    "FRAME_COLUMNS",
    "FUNNEL_CURVES",
    "FUNNEL_OVER_TIME",
    "IDLE_TIMEOUT_SECONDS",
    "METRICS",
    "NO_AGENT",
    "ORDERS",
    "RATES",
    "SERVICE_LEVEL_SECONDS",
    "TIMEOUT_CAUSES",
    "TIMEOUT_CURVES",
    "TIMEOUT_OUTCOMES",
    "TIMEOUT_SERVICE_LEVEL",
    "UNITS",
]
