"""The public API, pinned: a name added, removed or renamed here is a decision, recorded in CHANGELOG.md."""

from __future__ import annotations

import importlib
import inspect

import pytest

import chatanalytics as ca

PUBLIC = {
    "chatanalytics": [
        "COLUMNS", "EVENT_TYPES", "FORMATS", "AgentPerformanceResult", "AggregatedDataError",
        "ChangesResult", "ChatAnalyticsError", "DataQualityWarning", "EmptyDataError", "EventType",
        "ExportError", "FunnelResult", "InvalidParameterError", "LoadReport", "LoaderError", "SchemaError",
        "TimeoutResult",
        "TrackingPlan", "adobe_metrics", "agent_performance", "capture_snippet", "changes", "event_counts",
        "events_table", "funnel", "ga4_events", "load_report", "load_sample", "make_events", "open_events",
        "optional", "read_events", "report", "save", "save_all", "simulate", "timeouts", "validate_events",
    ],
    "chatanalytics.io": [
        "FORMATS", "Format", "LoadReport", "ReadContext", "ReadResult", "TrackingPlan", "ga4_events",
        "load_report", "open_events", "read_events", "register_format", "unregister_format", "write_dataset",
    ],
    "chatanalytics.analysis": [
        "ANALYSES", "AgentPerformanceResult", "Analysis", "ChangesResult", "FigureKind", "FunnelResult",
        "ReportOptions", "Result", "TableView", "TimeoutResult", "adobe_metrics", "agent_performance",
        "changes", "event_counts", "events_table", "funnel", "optional", "register", "styled", "timeouts",
        "unregister",
    ],
    "chatanalytics.columns": [
        "ACCEPT_WINDOW_SECONDS", "AGENTS", "AGENT_CHAT_CAP", "AGENT_MEETINGS", "AGENT_OFFERS", "AGENT_TEAMS",
        "ANOMALIES", "CAUSES", "CHANGES_DRIVERS", "CHANGES_METRICS", "CHANGES_PARAMS", "CHANGES_PERIODS",
        "CHANGES_REQUESTS", "CHANGES_UNITS", "CONCURRENCY_POINTS", "FRAME_COLUMNS", "FUNNEL", "FUNNEL_CURVES",
        "FUNNEL_OVER_TIME", "FUNNEL_UNITS", "GLOSSARY", "HOUR_WEEKDAY", "IDLE_TIMEOUT_SECONDS", "METRICS",
        "NO_AGENT",
        "ORDERS", "RATES", "REQUESTS", "SERVICE_LEVEL_SECONDS", "TIMEOUT_CAUSES", "TIMEOUT_CURVES",
        "TIMEOUT_HEATMAP", "TIMEOUT_LOGRANK", "TIMEOUT_OUTCOMES", "TIMEOUT_REQUESTS", "TIMEOUT_SERVICE_LEVEL",
        "TIMEOUT_WAITS", "UNITS", "unit_step_columns",
    ],
    "chatanalytics.viz": [
        "AT_RISK_SECONDS", "COLORS", "ESTIMATES", "TEMPLATE", "VALUES", "accept_time_figure", "apply_theme",
        "changes_overview_figure", "changes_waterfall_figure",
        "caption", "causes_figure", "concurrency_figure", "curves_figure", "funnel_figure", "heatmap_figure",
        "hour_weekday_figure", "leaderboard_figure", "outcomes_figure", "over_time_figure",
        "service_level_figure", "template", "time_figure",
    ],
    "chatanalytics.widgets": [
        "BY_COLUMNS", "WINDOWS", "AgentWidget", "ChangesWidget", "FunnelWidget", "TimeoutWidget",
        "format_steps", "parse_steps",
    ],
    "chatanalytics.export": [
        "FIGURE_FORMATS", "FORMATS", "TABLE_FORMATS", "find_browser", "save", "save_all",
    ],
    "chatanalytics.schema": [
        "COLUMNS", "CONVERSATION_TYPES", "EVENT_ALIASES", "EVENT_TYPES", "STRING", "TIME_GRANULARITIES",
        "TIME_RANGE", "UI_TYPES", "EventType", "empty_events", "make_events", "normalize_conversation_type",
        "normalize_ui_type", "validate_events",
    ],
    "chatanalytics.errors": [
        "AggregatedDataError", "ChatAnalyticsError", "DataQualityWarning", "EmptyDataError", "ExportError",
        "InvalidParameterError", "LoaderError", "SchemaError",
    ],
    "chatanalytics.capture": [
        "DESTINATIONS", "FIELDS", "LOADER_DESTINATIONS", "capture_snippet", "default_plan", "tracking_plan",
    ],
    "chatanalytics.datasets": [
        "PlantedChange", "SAMPLE_PATH", "SAMPLE_SEED", "SAMPLE_SESSIONS", "load_sample", "simulate",
    ],
}  # fmt: skip

SIGNATURES = {
    "read_events": ["paths", "format", "warn", "progress", "plan", "timezone", "pseudonym_key"],
    "funnel": [
        "events",
        "steps",
        "order",
        "unit",
        "window",
        "max_gap",
        "exclude",
        "by",
        "attribution",
        "top",
        "start",
        "end",
    ],
    "agent_performance": ["events", "freq", "tz", "teams", "shrink", "start", "end"],
    "timeouts": ["events", "by", "tz", "top", "where", "start", "end"],
    "report": ["events", "path", "tz", "steps", "window", "title", "progress"],
    "save": ["obj", "path", "scale", "width", "height", "safe"],
    "save_all": ["objs", "directory", "formats", "scale", "width", "height"],
    "open_events": ["path", "con"],
    "event_counts": ["events", "freq", "tz"],
    "load_report": ["events"],
    "simulate": ["n_sessions", "seed", "start", "days", "tz", "path", "warn", "changes"],
    "load_sample": ["warn"],
}

#: What every analysis result offers (STYLE.md, "Results").
RESULT_MEMBERS = ["describe", "figure", "frame", "params", "save", "summary", "tables", "widget"]


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_are_pinned(module):
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(PUBLIC[module])
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert missing == []


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_entry_point_parameters_are_pinned(name):
    assert list(inspect.signature(getattr(ca, name)).parameters) == SIGNATURES[name]


@pytest.mark.parametrize("cls", [ca.FunnelResult, ca.AgentPerformanceResult, ca.TimeoutResult])
def test_results_offer_the_result_protocol(cls):
    assert issubclass(cls, ca.analysis.Result)
    assert [m for m in RESULT_MEMBERS if not hasattr(cls, m) and m not in cls.__dataclass_fields__] == []


def test_the_package_is_typed():
    from pathlib import Path

    assert (Path(ca.__file__).parent / "py.typed").is_file()
