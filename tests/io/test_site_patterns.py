"""Exports shaped the way real sites set up their tag manager, each read from a hand-written fixture with
the site's own plan file; the expected rows are worked out by hand in each test's docstring.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import chatanalytics as ca

DATA = Path(__file__).resolve().parents[1] / "data"
GA4 = DATA / "ga4_reports"


def read(paths, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(paths, **kw)


def rows(events: pd.DataFrame, columns: list[str]) -> list[tuple]:
    ca.validate_events(events)
    out = []
    for rec in events[columns].astype(object).where(events[columns].notna(), None).itertuples(index=False):
        out.append(
            tuple(
                v.isoformat() if isinstance(v, pd.Timestamp) else (str(v) if k == "event_type" else v)
                for k, v in zip(columns, rec, strict=True)
            )
        )
    return out


GA4_COLUMNS = [
    "event_time_utc",
    "event_type",
    "session_id",
    "conversation_id",
    "event_count",
    "source_record",
]


# ------------------------------------------------------------------------- GA4: action-parameter site
def test_data_api_page_of_an_action_parameter_site_has_no_event_name():
    """action_site_runreport.json: date, customEvent:chat_step, customEvent:chat_sid,
    customEvent:chat_conv_id; eventCount; metadata.timeZone Europe/Berlin (CET, UTC+1 in November).
    The plan maps chat_step as the action parameter and the step values as the event names.

    rec 1  20261103 chat_triggered s-100 4471902  3 -> 2026-11-02 23:00 UTC TRIGGERED, count 3
    rec 2  20261103 chat_engaged   s-100 4471902  1 -> ENGAGED, count 1
    rec 3  20261103 (not set) ...                 5 -> rejected: missing event type
    rec 4  20261104 chat_closed s-101 4473088.0   2 -> 2026-11-03 23:00 UTC CLOSED, id 4473088
    rec 5  20261104 nudge_shown                   7 -> ignored "(chat_step=nudge_shown)"
    rec 6  totals row                               -> ignored "totals row"
    """
    plan = ca.TrackingPlan.from_file(GA4 / "action_site_api_plan.toml")
    events = read(GA4 / "action_site_runreport.json", plan=plan)
    assert rows(events, GA4_COLUMNS) == [
        ("2026-11-02T23:00:00+00:00", "CONVERSATION_TRIGGERED", "s-100", "4471902", 3, 1),
        ("2026-11-02T23:00:00+00:00", "CONVERSATION_ENGAGED", "s-100", "4471902", 1, 2),
        ("2026-11-03T23:00:00+00:00", "CONVERSATION_CLOSED", "s-101", "4473088", 2, 4),
    ]
    report = ca.load_report(events)
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[3, "missing event type"]]
    assert report.ignored[["source_record", "event_name"]].values.tolist() == [
        [5, "(chat_step=nudge_shown)"],
        [6, "totals row"],
    ]
    assert report.counts() == {"records": 6, "events": 3, "rejected": 1, "duplicates": 0, "ignored": 2}


def test_explore_csv_headed_by_display_names():
    """action_site_explore_20261103-20261104.csv: the same rows exported from GA4's interface, whose
    columns are the display names Chat step, Chat session, Conversation ID; the plan names them so.

    line 9 Grand total -> ignored; lines 10, 11, 13 -> the API page's rows 1, 2, 4; line 12 ->
    rejected (missing event type); line 14 -> ignored "(Chat step=nudge_shown)".
    """
    plan = ca.TrackingPlan.from_file(GA4 / "action_site_ui_plan.toml")
    events = read(GA4 / "action_site_explore_20261103-20261104.csv", plan=plan, timezone="Europe/Berlin")
    assert rows(events, GA4_COLUMNS) == [
        ("2026-11-02T23:00:00+00:00", "CONVERSATION_TRIGGERED", "s-100", "4471902", 3, 10),
        ("2026-11-02T23:00:00+00:00", "CONVERSATION_ENGAGED", "s-100", "4471902", 1, 11),
        ("2026-11-03T23:00:00+00:00", "CONVERSATION_CLOSED", "s-101", "4473088", 2, 13),
    ]
    report = ca.load_report(events)
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[12, "missing event type"]]
    assert sorted(report.ignored["event_name"]) == ["(Chat step=nudge_shown)", "totals row"]


def test_display_names_match_ignoring_case_and_spaces(tmp_path):
    """A display name in the plan matches the header whatever its case and spacing."""
    text = (GA4 / "action_site_explore_20261103-20261104.csv").read_text()
    path = tmp_path / "x.csv"
    path.write_text(text.replace("Chat session", "CHAT  SESSION").replace("Chat step", "chat Step"))
    plan = ca.TrackingPlan.from_file(GA4 / "action_site_ui_plan.toml")
    events = read(path, plan=plan, timezone="Europe/Berlin")
    assert events["session_id"].tolist() == ["s-100", "s-100", "s-101"]


def test_event_name_is_used_when_present(tmp_path):
    """With an eventName dimension as well, a row is named by it first: dc_live_chat_requested (a
    default event name the site's plan keeps) on a row whose chat_step says chat_triggered is
    LIVE_CHAT_REQUESTED; dynamic_chat is no plan event name, so chat_closed decides the second row.
    """
    path = tmp_path / "both.csv"
    path.write_text(
        "# Start date: 20261103\n# End date: 20261103\n"
        "Date,Event name,Chat step,Chat session,Event count\n"
        "20261103,dc_live_chat_requested,chat_triggered,s-1,4\n"
        "20261103,dynamic_chat,chat_closed,s-1,2\n"
    )
    plan = ca.TrackingPlan.from_file(GA4 / "action_site_ui_plan.toml")
    events = read(path, plan=plan, timezone="UTC")
    assert [str(t) for t in events["event_type"]] == [
        "CONVERSATION_LIVE_CHAT_REQUESTED",
        "CONVERSATION_CLOSED",
    ]
    assert events["event_count"].tolist() == [4, 2]


def test_neither_event_name_nor_action_dimension_names_what_is_needed(tmp_path):
    page = tmp_path / "page.json"
    page.write_text(
        '{"dimensionHeaders": [{"name": "date"}, {"name": "customEvent:chat_sid"}],'
        ' "metricHeaders": [{"name": "eventCount"}], "rows": [{"dimensionValues": [{"value": "20261103"},'
        ' {"value": "s-1"}], "metricValues": [{"value": "1"}]}], "metadata": {"timeZone": "UTC"}}'
    )
    plan = ca.TrackingPlan.from_file(GA4 / "action_site_api_plan.toml")
    with pytest.raises(ca.LoaderError, match=r"eventName.*customEvent:chat_step"):
        ca.read_events(page, plan=plan)
    with pytest.raises(ca.LoaderError, match=r"eventName.*customEvent:dc_event"):
        ca.read_events(page)  # the default plan's action parameter


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("chat.sid", "dotted path cannot apply to GA4"),
        ("Chat-session!", "display name"),
        ("Chat " + "s" * 90, "display name"),
    ],
)
def test_ga4_plan_validation_accepts_parameters_and_display_names_only(key, message):
    for good in ("chat_sid", "customEvent:chat_sid", "Chat session ID", "Chat_session"):
        assert (
            ca.TrackingPlan.from_dict({"ga4": {"fields": {"sid": good}}}).columns("ga4")["session_id"] == good
        )
    with pytest.raises(ca.InvalidParameterError, match=message):
        ca.TrackingPlan.from_dict({"ga4": {"fields": {"sid": key}}})


# ------------------------------------------------------------------------- UA: event-level custom report
UA = DATA / "ua_csv"
UA_COLUMNS = [
    "event_time_utc",
    "event_type",
    "visitor_id",
    "analytics_session_id",
    "conversation_id",
    "event_count",
    "time_granularity",
    "source_record",
]


def test_ua_event_level_report_with_hit_timestamp_and_client_id():
    """dynamic_chat_hits_20230601-20230602.csv, view Europe/Amsterdam (CEST, UTC+2); the plan maps
    Hit Timestamp (time), Client ID (visitor_id), Session ID (analytics_session_id).

    line 8   10:15:02.120+02:00 Triggered -> 08:15:02.120 UTC, visitor 1618033988.1685607300
    line 9   10:15:40.005+02:00 Engaged   -> 08:15:40.005 UTC
    line 10  10:17:11.900+02:00 Completed -> 08:17:11.900 UTC
    line 11  18:40:00.000-04:00 Triggered -> 22:40:00 UTC (the offset the visitor's browser wrote)
    line 12  (not set) timestamp           -> rejected: missing time
    line 13  Outbound Links / click        -> ignored
    line 14  2023-06-02 09:00:00 (no offset: the view's zone, +02:00) Closed -> 07:00:00 UTC
    line 15  totals row                    -> ignored
    Every event is one hit: count 1, granularity exact.
    """
    plan = ca.TrackingPlan.from_file(UA / "event_level_plan.toml")
    events = read(UA / "dynamic_chat_hits_20230601-20230602.csv", plan=plan, timezone="Europe/Amsterdam")
    v1, s1 = "1618033988.1685607300", "1685607300120.x8k2"
    v2, s2, s3 = "2718281828.1685659200", "1685659200000.q7z1", "1685689200000.m3v9"
    assert rows(events, UA_COLUMNS) == [
        ("2023-06-01T08:15:02.120000+00:00", "CONVERSATION_TRIGGERED", v1, s1, "4471902", 1, "exact", 8),
        ("2023-06-01T08:15:40.005000+00:00", "CONVERSATION_ENGAGED", v1, s1, "4471902", 1, "exact", 9),
        ("2023-06-01T08:17:11.900000+00:00", "CONVERSATION_COMPLETED", v1, s1, "4471902", 1, "exact", 10),
        ("2023-06-01T22:40:00+00:00", "CONVERSATION_TRIGGERED", v2, s2, "4473088", 1, "exact", 11),
        ("2023-06-02T07:00:00+00:00", "CONVERSATION_CLOSED", v2, s3, "4473088", 1, "exact", 14),
    ]  # fmt: skip
    report = ca.load_report(events)
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[12, "missing time"]]
    assert report.ignored["event_name"].tolist() == ["Outbound Links / click", "totals row"]


def test_ua_epoch_timestamps_and_unparseable_ones(tmp_path):
    """Epoch milliseconds 1685607302120 = 2023-06-01 08:15:02.120 UTC and seconds 1685607302 =
    08:15:02 UTC; "yesterday" is rejected as an unparseable time.
    """
    path = tmp_path / "hits.csv"
    path.write_text(
        "Hit Timestamp,Client ID,Event Category,Event Action,Event Label,Total Events\n"
        "1685607302120,1.2,Dynamic Chat Conversations,Conversation Triggered,1,1\n"
        "1685607302,1.2,Dynamic Chat Conversations,Conversation Engaged,1,1\n"
        "yesterday,1.2,Dynamic Chat Conversations,Conversation Closed,1,1\n"
    )
    plan = ca.TrackingPlan.from_file(UA / "event_level_plan.toml")
    events = read(path, plan=plan, timezone="UTC")
    assert [t.isoformat() for t in events["event_time_utc"]] == [
        "2023-06-01T08:15:02.120000+00:00",
        "2023-06-01T08:15:02+00:00",
    ]
    assert ca.load_report(events).rejected["reason"].tolist() == ["unparseable time"]


def test_ua_report_without_the_timestamp_stays_aggregated():
    """The aggregated Dutch fixture read with the event-level plan: no Hit Timestamp column, so its rows
    are daily counts as before (4 events, 2546 + 1204 + 312 + 3 events in all).
    """
    plan = ca.TrackingPlan.from_file(UA / "event_level_plan.toml")
    events = read(UA / "dynamic_chat_events_20230601-20230630.csv", plan=plan, timezone="Europe/Amsterdam")
    assert events["time_granularity"].astype(str).tolist() == ["day"] * 4
    assert events["event_count"].tolist() == [2546, 1204, 312, 3]
    assert events["visitor_id"].isna().all()


def test_ua_plan_fields_for_visitors_and_sessions_are_ua_only():
    plan = ca.TrackingPlan.from_dict({"universal_analytics": {"fields": {"visitor_id": "Client ID"}}})
    assert plan.columns("universal_analytics")["visitor_id"] == "Client ID"
    with pytest.raises(ca.InvalidParameterError, match="unknown field"):
        ca.TrackingPlan.from_dict({"datalayer": {"fields": {"visitor_id": "cid"}}})
