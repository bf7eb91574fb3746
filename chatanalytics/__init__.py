"""chatanalytics: analyse Adobe Marketo Engage Dynamic Chat events in pandas and Jupyter.

Load any supported export with :func:`read_events`, check what was read with :func:`load_report`, and try
everything on synthetic data with :func:`simulate` or :func:`load_sample`.
"""

from ._private import refuse_moved
from ._report import report
from .analysis import (
    AgentPerformanceResult,
    ChangesResult,
    FunnelResult,
    TimeoutResult,
    adobe_metrics,
    agent_performance,
    changes,
    event_counts,
    events_table,
    funnel,
    optional,
    timeouts,
)
from .capture import capture_snippet
from .datasets import load_sample, simulate
from .errors import (
    AggregatedDataError,
    ChatAnalyticsError,
    DataQualityWarning,
    EmptyDataError,
    ExportError,
    InvalidParameterError,
    LoaderError,
    SchemaError,
)
from .export import save, save_all
from .io import FORMATS, LoadReport, TrackingPlan, ga4_events, load_report, open_events, read_events
from .schema import COLUMNS, EVENT_TYPES, EventType, make_events, validate_events

__version__ = "0.1.0"

__all__ = [
    "COLUMNS",
    "EVENT_TYPES",
    "FORMATS",
    "AgentPerformanceResult",
    "AggregatedDataError",
    "ChangesResult",
    "ChatAnalyticsError",
    "DataQualityWarning",
    "EmptyDataError",
    "EventType",
    "ExportError",
    "FunnelResult",
    "InvalidParameterError",
    "LoadReport",
    "LoaderError",
    "SchemaError",
    "TimeoutResult",
    "TrackingPlan",
    "adobe_metrics",
    "agent_performance",
    "capture_snippet",
    "changes",
    "event_counts",
    "events_table",
    "funnel",
    "ga4_events",
    "load_report",
    "load_sample",
    "make_events",
    "open_events",
    "optional",
    "read_events",
    "report",
    "save",
    "save_all",
    "simulate",
    "timeouts",
    "validate_events",
]

refuse_moved(__name__, ("report",))
