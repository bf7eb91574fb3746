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
def action_site_rows(*records: int) -> list[tuple]:
    """The action-parameter site's three events (Europe/Berlin, CET: a day starts at 23:00 UTC the day
    before), with the record number each has in the file read.
    """
    rows = [
        ("2026-11-02T23:00:00+00:00", "CONVERSATION_TRIGGERED", "s-100", "4471902", 3),
        ("2026-11-02T23:00:00+00:00", "CONVERSATION_ENGAGED", "s-100", "4471902", 1),
        ("2026-11-03T23:00:00+00:00", "CONVERSATION_CLOSED", "s-101", "4473088", 2),
    ]
    return [(*row, record) for row, record in zip(rows, records, strict=False)]  # the first len(records)


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
    assert rows(events, GA4_COLUMNS) == action_site_rows(1, 2, 4)
    report = ca.load_report(events)
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[3, "missing event type"]]
    assert report.ignored[["source_record", "event_name"]].values.tolist() == [
        [5, "(chat_step=nudge_shown)"],
        [6, "totals row"],
    ]
    assert report.counts() == {
        "records": 6,
        "events": 3,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 2,
        "derived": 0,
    }


def test_explore_csv_headed_by_display_names():
    """action_site_explore_20261103-20261104.csv: the same rows exported from GA4's interface, whose
    columns are the display names Chat step, Chat session, Conversation ID; the plan names them so.

    line 9 Grand total -> ignored; lines 10, 11, 13 -> the API page's rows 1, 2, 4; line 12 ->
    rejected (missing event type); line 14 -> ignored "(Chat step=nudge_shown)".
    """
    plan = ca.TrackingPlan.from_file(GA4 / "action_site_ui_plan.toml")
    events = read(GA4 / "action_site_explore_20261103-20261104.csv", plan=plan, timezone="Europe/Berlin")
    assert rows(events, GA4_COLUMNS) == action_site_rows(10, 11, 13)
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


# ------------------------------------------------------------------------- nested payloads, dotted keys
DL_COLUMNS = [
    "event_time_utc",
    "event_type",
    "session_id",
    "conversation_id",
    "conversation_name",
    "conversation_type",
    "ui_type",
    "agent_id",
    "agent_name",
    "event_id",
    "source_record",
]


def test_datalayer_nested_payload_read_through_dotted_keys():
    """nested_chat_payload.json (see tests/data/datalayer/README.md) with nested_plan.toml:

    pos 1 gtm.js                     -> ignored
    pos 2 chat_triggered, chat{...}  -> 09:00:00.250 TRIGGERED s-9 4471902 "Pricing bot" dialogue popup e-1
    pos 3 chat_engaged               -> 09:00:05 ENGAGED s-9 4471902 "Pricing bot" e-2
    pos 4 chat_live_requested, ts 1793610030000 ms = 2026-11-02 09:00:30 UTC, agent{id 77, name Ana} e-3
    pos 5 chat is a text             -> rejected: missing time
    pos 6 literal "chat.sid" keys    -> 10:00:00 CLOSED s-11 4473088
    pos 7 gtm.click                  -> ignored
    """
    plan = ca.TrackingPlan.from_file(DATA / "datalayer" / "nested_plan.toml")
    events = read(DATA / "datalayer" / "nested_chat_payload.json", plan=plan)
    n = None
    assert rows(events, DL_COLUMNS) == [
        ("2026-11-02T09:00:00.250000+00:00", "CONVERSATION_TRIGGERED", "s-9", "4471902", "Pricing bot",
         "dialogue", "popup", n, n, "e-1", 2),
        ("2026-11-02T09:00:05+00:00", "CONVERSATION_ENGAGED", "s-9", "4471902", "Pricing bot",
         n, n, n, n, "e-2", 3),
        ("2026-11-02T09:00:30+00:00", "CONVERSATION_LIVE_CHAT_REQUESTED", "s-9", "4471902",
         n, n, n, "77", "Ana", "e-3", 4),
        ("2026-11-02T10:00:00+00:00", "CONVERSATION_CLOSED", "s-11", "4473088", n, n, n, n, n, n, 6),
    ]  # fmt: skip
    report = ca.load_report(events)
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[5, "missing time"]]
    assert report.ignored["event_name"].tolist() == ["gtm.js", "gtm.click"]


def test_segment_properties_nested_object(tmp_path):
    """properties.chat.{step, sid, id}: step is the action parameter holding the constant."""
    path = tmp_path / "seg.jsonl"
    path.write_text(
        '{"type":"track","event":"Chat Step","messageId":"m1","anonymousId":"a1",'
        '"timestamp":"2026-11-02T09:00:00.000Z","properties":{"chat":{"step":"CONVERSATION_ENGAGED",'
        '"sid":"s-1","id":4471902}}}\n'
        '{"type":"track","event":"Chat Step","messageId":"m2","anonymousId":"a1",'
        '"timestamp":"2026-11-02T09:01:00.000Z","properties":{"chat.step":"conversation_closed",'
        '"chat.sid":"s-1"}}\n'
    )
    plan = ca.TrackingPlan.from_dict(
        {"segment": {"fields": {"event": "chat.step", "sid": "chat.sid", "id": "chat.id"}}}
    )
    events = read(path, plan=plan, format="segment")
    assert rows(events, ["event_type", "session_id", "conversation_id", "event_id"]) == [
        ("CONVERSATION_ENGAGED", "s-1", "4471902", "m1"),
        ("CONVERSATION_CLOSED", "s-1", None, "m2"),
    ]


def test_xdm_field_group_nested_under_the_chat_path(tmp_path):
    """A tenant field group _acme.chat with session.id and conversation.id objects."""
    path = tmp_path / "xdm.json"
    path.write_text(
        '{"_id":"x1","timestamp":"2026-11-02T09:00:00Z","eventType":"dynamicChat.conversationEngaged",'
        '"_acme":{"chat":{"session":{"id":"s-1"},"conversation":{"id":"4471902","name":"Bot"}}}}\n'
    )
    plan = ca.TrackingPlan.from_dict(
        {
            "websdk": {
                "xdm_path": "_acme.chat",
                "fields": {"sid": "session.id", "id": "conversation.id", "name": "conversation.name"},
            }
        }
    )
    events = read(path, plan=plan, format="aep_xdm")
    assert rows(events, ["event_type", "session_id", "conversation_id", "conversation_name"]) == [
        ("CONVERSATION_ENGAGED", "s-1", "4471902", "Bot")
    ]


def test_snowplow_self_describing_data_nested_object(tmp_path):
    """The event's data {"chat": {"step": ..., "sid": ..., "id": ...}} read with dotted keys."""
    import json

    from chatanalytics.io import _snowplow

    data = {"chat": {"step": "CONVERSATION_ENGAGED", "sid": "s-1", "id": 4471902}}
    inner = {"schema": "iglu:com.example/dynamic_chat_event/jsonschema/1-0-0", "data": data}
    outer = {"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0", "data": inner}
    values = {
        "collector_tstamp": "2026-11-02 09:00:00",
        "derived_tstamp": "2026-11-02 09:00:00",
        "event": "unstruct",
        "event_id": "0b6c1f0e-6a3d-4a59-9c3a-0f4f6f0d2c11",
        "unstruct_event": json.dumps(outer),
        "event_name": "dynamic_chat_event",
    }
    path = tmp_path / "sp.tsv"
    path.write_text("\t".join(values.get(c, "") for c in _snowplow.COLUMNS) + "\n")
    plan = ca.TrackingPlan.from_dict(
        {"snowplow": {"fields": {"event": "chat.step", "sid": "chat.sid", "id": "chat.id"}}}
    )
    events = read(path, plan=plan, format="snowplow")
    assert rows(events, ["event_type", "session_id", "conversation_id"]) == [
        ("CONVERSATION_ENGAGED", "s-1", "4471902")
    ]


def test_dotted_paths_are_refused_where_they_cannot_apply():
    with pytest.raises(ca.InvalidParameterError, match="dotted path cannot apply to GA4"):
        ca.TrackingPlan.from_dict({"ga4": {"fields": {"sid": "chat.sid"}}})
    with pytest.raises(ca.InvalidParameterError, match="eVar"):
        ca.TrackingPlan.from_dict({"appmeasurement": {"fields": {"sid": "chat.sid"}}})
    with pytest.raises(ca.InvalidParameterError, match="runs through 'chat'"):
        ca.TrackingPlan.from_dict({"datalayer": {"fields": {"id": "chat", "sid": "chat.sid"}}})


def test_free_form_exploration_layout(tmp_path):
    """A free-form exploration as GA4 writes it: a ``# YYYYMMDD-YYYYMMDD`` range line (no Start date /
    End date lines), a blank line, and the Grand total row with empty dimensions and its label in an
    extra last cell. It is detected as GA4 (not Universal Analytics) from its Event count column, even
    without an Event name column. Europe/Berlin (CET): 20261103 -> 2026-11-02 23:00 UTC.
    """
    path = tmp_path / "free_form.csv"
    path.write_text(
        "# ----------------------------------------\n# Acme\n# Free form-Free form 1\n# 20261103-20261103\n"
        "# ----------------------------------------\n\n"
        "Date,Chat step,Chat session,Conversation ID,Event count\n"
        ",,,,4,Grand total\n"
        "20261103,chat_triggered,s-100,4471902,3\n"
        "20261103,chat_engaged,s-100,4471902,1\n"
    )
    plan = ca.TrackingPlan.from_file(GA4 / "action_site_ui_plan.toml")
    events = read(path, plan=plan, timezone="Europe/Berlin")
    assert ca.load_report(events).files["source_format"].tolist() == ["ga4_explore_csv"]
    assert rows(events, GA4_COLUMNS) == action_site_rows(9, 10)
    assert ca.load_report(events).ignored[["source_record", "event_name"]].values.tolist() == [
        [8, "totals row"]
    ]


def test_snowplow_chat_context_entity_on_structured_and_self_describing_events(tmp_path):
    """A site that tracks structured events (category Dynamic Chat, action = the constant) and attaches
    the payload as a context entity of the chat schema, beside the tracker's web_page entity:

    line 1  struct CONVERSATION_ENGAGED, label 4471902, context chat {chat: {sid: s-1}} and web_page
            {id: pv-1}                                  -> ENGAGED s-1 4471902 (the label)
    line 2  struct CONVERSATION_CLOSED, no label, context chat {chat: {sid: s-1, id: 4471902}}
                                                        -> CLOSED s-1 4471902 (from the entity)
    line 3  self-describing event whose data lacks sid, context chat {chat: {sid: s-2}}
                                                        -> COMPLETED s-2 (data first, entity second)
    line 4  struct CONVERSATION_ENGAGED with only the web_page entity {id: pv-9}
                                                        -> ENGAGED, no session, no conversation (the
                                                           web_page id is never read)
    """
    import json

    from chatanalytics.io import _snowplow

    def entity(name: str, data: dict) -> dict:
        return {"schema": f"iglu:com.acme/{name}/jsonschema/1-0-0", "data": data}

    def contexts(*entities: dict) -> str:
        return json.dumps(
            {
                "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
                "data": list(entities),
            }
        )

    def line(n: int, ts: str, **values: str) -> str:
        eid = f"0b6c1f0e-6a3d-4a59-9c3a-0f4f6f0d2c0{n}"
        base = {"collector_tstamp": ts, "derived_tstamp": ts, "event_id": eid, **values}
        return "\t".join(base.get(c, "") for c in _snowplow.COLUMNS)

    page = entity("web_page", {"id": "pv-1"})
    sd = {
        "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": entity("dynamic_chat_event", {"chat": {"step": "CONVERSATION_COMPLETED", "id": 4473088}}),
    }
    lines = [
        line(1, "2026-11-02 09:00:00", event="struct", se_category="Dynamic Chat",
             se_action="CONVERSATION_ENGAGED", se_label="4471902",
             contexts=contexts(entity("dynamic_chat_event", {"chat": {"sid": "s-1"}}), page)),
        line(2, "2026-11-02 09:01:00", event="struct", se_category="Dynamic Chat",
             se_action="CONVERSATION_CLOSED",
             contexts=contexts(page, entity("dynamic_chat_event", {"chat": {"sid": "s-1", "id": 4471902}}))),
        line(3, "2026-11-02 09:02:00", event="unstruct",
             unstruct_event=json.dumps(sd), event_name="dynamic_chat_event",
             contexts=contexts(entity("dynamic_chat_event", {"chat": {"sid": "s-2"}}))),
        line(4, "2026-11-02 09:03:00", event="struct", se_category="Dynamic Chat",
             se_action="CONVERSATION_ENGAGED", contexts=contexts(entity("web_page", {"id": "pv-9"}))),
    ]  # fmt: skip
    path = tmp_path / "enriched.tsv"
    path.write_text("\n".join(lines) + "\n")
    plan = ca.TrackingPlan.from_dict(
        {"snowplow": {"fields": {"event": "chat.step", "sid": "chat.sid", "id": "chat.id"}}}
    )
    events = read(path, plan=plan, format="snowplow")
    assert rows(events, ["event_type", "session_id", "conversation_id", "source_record"]) == [
        ("CONVERSATION_ENGAGED", "s-1", "4471902", 1),
        ("CONVERSATION_CLOSED", "s-1", "4471902", 2),
        ("CONVERSATION_COMPLETED", "s-2", "4473088", 3),
        ("CONVERSATION_ENGAGED", None, None, 4),
    ]
