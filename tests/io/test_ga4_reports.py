"""GA4 aggregated reports (UI / Explore CSV and Data API runReport pages) into canonical events.

The fixtures in tests/data/ga4_reports/ (see its README) come from one property in America/New_York:
EDT (UTC-4) until 2026-11-01 02:00, EST (UTC-5) after. A report row becomes one canonical row whose
time is the start of its local period in UTC and whose event_count is the row's count.

explore_dynamic_chat_20261101-20261102.csv (CRLF, 7 preamble lines, header on line 8):

====  ===========================================  ==============================================
line  row                                          outcome
====  ===========================================  ==============================================
9     Grand total,,,"1,551"                        ignored: totals row
10    20261101 dc_conversation_triggered 4471902   event 2026-11-01 04:00 UTC (00:00 EDT), 1204
11    20261101 dc_conversation_engaged 4471902     event 2026-11-01 04:00 UTC, 310
12    20261101 page_view (not set) 9               ignored: page_view
13    20261102 dc_conversation_triggered 4473088   event 2026-11-02 05:00 UTC (00:00 EST), 27
14    20261102 dc_conversation_completed (not set) event 2026-11-02 05:00 UTC, conversation null, 1
15    20261102 dc_live_chat_requested 4471902 0    ignored: zero count
====  ===========================================  ==============================================

events_report_20261103.csv (a standard report, two tables): line 10 is the chart series ("Nth day"
table, ignored); the event table (header line 12, "Date + hour (YYYYMMDDHH)") gives line 13
dc_conversation_triggered 2026110309 -> 14:00 UTC, count "1 204" (no-break space) = 1204; line 14
dc_conversation_engaged 812; line 15 session_start (ignored); line 16 cut short (rejected, wrong
number of fields).

runreport_page1.json / runreport_page2.json (dateHourMinute, eventName, customEvent:dc_conversation_id,
customEvent:dc_session_id; metadata.timeZone America/New_York; rowCount 5, page 2 fetched at offset 2):

=====  ====================================================  =====================================
rec    row                                                   outcome
=====  ====================================================  =====================================
p1:1   202611030959 dc_conversation_triggered 4471902 sid-a1  event 14:59 UTC, 1
p1:2   202611031000 user_engagement                          ignored: user_engagement
p1:3   202611031000 dc_conversation_engaged 4471902 sid-a1   event 15:00 UTC, 1
p1:4   totals (RESERVED_TOTAL)                               ignored: totals row
p1:5   maximums (RESERVED_MAX)                               ignored: totals row
p2:1   the same row as p1:3                                  duplicate of p1:3 (same event_id)
p2:2   202611031001 dc_live_chat_requested 4471902 sid-a1    event 15:01 UTC, 1
p2:3   202611031001 dc_live_chat_timeout 4471902 (not set)   event 15:01 UTC, session null, 1
=====  ====================================================  =====================================

event_id = "agg:" + 32 hex digits of the SHA-256 of the key written out below (AGG).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from chatanalytics.io import _ga4_reports, _ua

DATA = Path(__file__).resolve().parents[1] / "data" / "ga4_reports"
EXPLORE = DATA / "explore_dynamic_chat_20261101-20261102.csv"
REPORT = DATA / "events_report_20261103.csv"
PAGES = [DATA / "runreport_page1.json", DATA / "runreport_page2.json"]
NY = "America/New_York"
COLUMNS = [
    "event_time_utc",
    "event_type",
    "session_id",
    "conversation_id",
    "visitor_id",
    "page_url",
    "event_id",
    "event_count",
    "time_granularity",
    "source_record",
]


def agg(key: str) -> str:
    """The event id of a report row from its key, as the loader documents it."""
    return "agg:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def read(paths, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(paths, **kw)


def frame(events: pd.DataFrame) -> list[dict]:
    ca.validate_events(events)
    rows = events[COLUMNS].astype(object).where(events[COLUMNS].notna(), None).to_dict("records")
    for r in rows:
        r["event_time_utc"] = r["event_time_utc"].isoformat()
        r["event_type"] = str(r["event_type"])
        r["time_granularity"] = str(r["time_granularity"])
    return rows


def row(time, etype, conv, count, gran, rec, key, sid=None):
    return {
        "event_time_utc": time,
        "event_type": etype,
        "session_id": sid,
        "conversation_id": conv,
        "visitor_id": None,
        "page_url": None,
        "event_id": agg(key),
        "event_count": count,
        "time_granularity": gran,
        "source_record": rec,
    }


EXPLORE_ROWS = [
    row(
        "2026-11-01T04:00:00+00:00", "CONVERSATION_TRIGGERED", "4471902", 1204, "day", 10,
        '["ga4","2026-11-01T04:00:00Z","day",[["customevent:dcconversationid","4471902"],'
        '["eventname","dc_conversation_triggered"]]]',
    ),
    row(
        "2026-11-01T04:00:00+00:00", "CONVERSATION_ENGAGED", "4471902", 310, "day", 11,
        '["ga4","2026-11-01T04:00:00Z","day",[["customevent:dcconversationid","4471902"],'
        '["eventname","dc_conversation_engaged"]]]',
    ),
    row(
        "2026-11-02T05:00:00+00:00", "CONVERSATION_TRIGGERED", "4473088", 27, "day", 13,
        '["ga4","2026-11-02T05:00:00Z","day",[["customevent:dcconversationid","4473088"],'
        '["eventname","dc_conversation_triggered"]]]',
    ),
    row(
        "2026-11-02T05:00:00+00:00", "CONVERSATION_COMPLETED", None, 1, "day", 14,
        '["ga4","2026-11-02T05:00:00Z","day",[["customevent:dcconversationid","(not set)"],'
        '["eventname","dc_conversation_completed"]]]',
    ),
]  # fmt: skip

API_ROWS = [
    row(
        "2026-11-03T14:59:00+00:00", "CONVERSATION_TRIGGERED", "4471902", 1, "minute", 1,
        '["ga4","2026-11-03T14:59:00Z","minute",[["customevent:dcconversationid","4471902"],'
        '["customevent:dcsessionid","sid-a1"],["eventname","dc_conversation_triggered"]]]',
        sid="sid-a1",
    ),
    row(
        "2026-11-03T15:00:00+00:00", "CONVERSATION_ENGAGED", "4471902", 1, "minute", 3,
        '["ga4","2026-11-03T15:00:00Z","minute",[["customevent:dcconversationid","4471902"],'
        '["customevent:dcsessionid","sid-a1"],["eventname","dc_conversation_engaged"]]]',
        sid="sid-a1",
    ),
    row(
        "2026-11-03T15:01:00+00:00", "CONVERSATION_LIVE_CHAT_REQUESTED", "4471902", 1, "minute", 2,
        '["ga4","2026-11-03T15:01:00Z","minute",[["customevent:dcconversationid","4471902"],'
        '["customevent:dcsessionid","sid-a1"],["eventname","dc_live_chat_requested"]]]',
        sid="sid-a1",
    ),
    row(
        "2026-11-03T15:01:00+00:00", "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT", "4471902", 1, "minute", 3,
        '["ga4","2026-11-03T15:01:00Z","minute",[["customevent:dcconversationid","4471902"],'
        '["customevent:dcsessionid","(not set)"],["eventname","dc_live_chat_timeout"]]]',
    ),
]  # fmt: skip


# ------------------------------------------------------------------------------------ Explore CSV
def test_explore_csv_rows_worked_out_by_hand():
    events = read(EXPLORE, timezone=NY)  # detected from the content
    assert frame(events) == EXPLORE_ROWS
    assert events["source_format"].astype(str).unique().tolist() == ["ga4_explore_csv"]


def test_explore_csv_load_report():
    report = ca.load_report(read(EXPLORE, timezone=NY))
    assert report.counts() == {
        "records": 7,
        "events": 4,
        "rejected": 0,
        "duplicates": 0,
        "ignored": 3,
        "derived": 0,
    }
    assert report.ignored[["source_record", "event_name"]].values.tolist() == [
        [9, "totals row"],
        [12, "page_view"],
        [15, "zero count"],
    ]


def test_standard_report_with_two_tables():
    events = read(REPORT, timezone=NY)
    got = frame(events)
    assert [(r["event_time_utc"], r["event_type"], r["event_count"], r["source_record"]) for r in got] == [
        ("2026-11-03T14:00:00+00:00", "CONVERSATION_TRIGGERED", 1204, 13),
        ("2026-11-03T14:00:00+00:00", "CONVERSATION_ENGAGED", 812, 14),
    ]
    assert {r["time_granularity"] for r in got} == {"hour"}
    assert got[0]["event_id"] == agg(
        '["ga4","2026-11-03T14:00:00Z","hour",[["eventname","dc_conversation_triggered"]]]'
    )
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 5,
        "events": 2,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 2,
        "derived": 0,
    }
    assert report.ignored[["source_record", "event_name"]].values.tolist() == [
        [10, "Nth day table"],
        [15, "session_start"],
    ]
    rej = report.rejected.iloc[0]
    assert (rej["source_record"], rej["reason"], rej["raw"]) == (
        16,
        "wrong number of fields",
        "dc_conversation_closed,2026110310",
    )
    assert any("read the table at line 12" in n and "'Nth day' at line 9" in n for n in report.notes)


# ------------------------------------------------------------------------------------ Data API
def test_data_api_pages_worked_out_by_hand():
    events = read(PAGES)  # time zone from metadata.timeZone
    assert frame(events) == API_ROWS
    assert events["source_file"].str.endswith("page2.json").tolist() == [False, False, True, True]
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 8,
        "events": 4,
        "rejected": 0,
        "duplicates": 1,
        "ignored": 3,
        "derived": 0,
    }
    assert report.files["records"].tolist() == [5, 3]
    assert report.ignored[["source_record", "event_name"]].values.tolist() == [
        [2, "user_engagement"],
        [4, "totals row"],
        [5, "totals row"],
    ]
    dup = report.duplicates.iloc[0]
    assert dup["source_file"].endswith("page2.json") and dup["duplicate_of_file"].endswith("page1.json")
    assert (dup["source_record"], dup["duplicate_of_record"], dup["reason"]) == (1, 3, "same event_id")
    assert sum("holds 3 of the report's 5 rows" in n for n in report.notes) == 2


def test_timezone_parameter_overrides_metadata():
    events = read(PAGES[0], timezone="UTC")
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(["2026-11-03 09:59", "2026-11-03 10:00"], utc=True)
    )
    assert any("instead of metadata.timeZone 'America/New_York'" in n for n in ca.load_report(events).notes)


def test_page_without_time_zone_needs_the_parameter(tmp_path):
    page = json.loads(PAGES[1].read_text())
    del page["metadata"]
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    with pytest.raises(ca.LoaderError, match=r"page\.json.*timezone="):
        read(path)
    assert len(read(path, timezone=NY)) == 3


def test_snake_case_page_and_malformed_rows(tmp_path):
    page = {
        "dimension_headers": [{"name": "date"}, {"name": "eventName"}],
        "metric_headers": [{"name": "eventCount", "type": "TYPE_INTEGER"}],
        "rows": [
            {"dimension_values": [{"value": "20261103"}, {"value": "dc_conversation_closed"}],
             "metric_values": [{"value": "7"}]},
            {"dimension_values": [{"value": "20261103"}], "metric_values": [{"value": "7"}]},
            {"dimension_values": [{"value": "20261103"}, {"value": "dc_conversation_closed"}],
             "metric_values": [{"value": 7}]},
            "not a row",
            {"dimension_values": [{"value": "2026-13-03"}, {"value": "dc_conversation_closed"}],
             "metric_values": [{"value": "7"}]},
            {"dimension_values": [{"value": "20261103"}, {}], "metric_values": [{"value": "7"}]},
        ],
        "metadata": {"time_zone": "Europe/Amsterdam"},
    }  # fmt: skip
    path = tmp_path / "snake.json"
    path.write_text(json.dumps(page))
    events = read(path)
    assert events["event_time_utc"].tolist() == [pd.Timestamp("2026-11-02 23:00", tz="UTC")]
    assert events["event_count"].tolist() == [7]
    assert ca.load_report(events).rejected[["source_record", "reason"]].values.tolist() == [
        [2, "wrong number of fields"],
        [3, "malformed row"],
        [4, "malformed row"],
        [5, "unparseable date"],
        [6, "missing event name"],
    ]


# ------------------------------------------------------------------------------------ mapping
def _explore(tmp_path: Path, name: str, header: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(["# Start date: 20261101", "# End date: 20261101", header, *rows]) + "\n")
    return path


def test_date_hour_and_minute_columns_and_the_repeated_hour(tmp_path):
    """01:00 on 2026-11-01 happens twice in New York: the hour starts at its first occurrence (EDT)."""
    hourly = _explore(
        tmp_path, "h.csv", "Event name,Date,Hour,Event count", "dc_conversation_closed,20261101,01,3"
    )
    minutes = _explore(
        tmp_path, "m.csv", "Event name,Date,Hour,Minute,Event count", "dc_conversation_closed,20261101,1,30,2"
    )
    events = read([hourly, minutes], timezone=NY)
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(["2026-11-01 05:00", "2026-11-01 05:30"], utc=True)
    )
    assert events["time_granularity"].astype(str).tolist() == ["hour", "minute"]
    assert events["event_count"].tolist() == [3, 2]


def test_action_parameter_and_page_location(tmp_path):
    path = _explore(
        tmp_path,
        "a.csv",
        "Date,Event name,customEvent:dc_event,Page location,Event count",
        "20261101,dynamic_chat,conversation_engaged,https://www.example.com/pricing,4",
        "20261101,dynamic_chat,chat_minimised,https://www.example.com/pricing,2",
        "20261101,dynamic_chat,CONVERSATION_CLOSED,https://www.example.com/?email=a%40b.example,1",
    )
    events = read(path, timezone=NY)
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED", "CONVERSATION_CLOSED"]
    assert events["page_url"].tolist() == [
        "https://www.example.com/pricing",
        "https://www.example.com/?email=[redacted]",
    ]
    names = ca.load_report(events).ignored["event_name"].tolist()
    assert names == ["dynamic_chat (dc_event=chat_minimised)"]


def test_a_contact_detail_never_reaches_the_frame(tmp_path):
    path = _explore(
        tmp_path,
        "p.csv",
        "Date,Event name,dc_session_id,dc_conversation_name,Event count",
        "20261101,dc_conversation_engaged,jane.doe@example.com,"
        "Call jane.doe@example.com or +1 555 0100 123,5",
    )
    events = read(path, timezone=NY)
    assert events["session_id"].str.startswith("redacted-").all()
    assert events["conversation_name"].tolist() == ["Call [redacted] or [redacted]"]
    text = events.astype(str).to_csv()
    assert "jane.doe" not in text and "555 0100" not in text


def test_no_date_dimension_is_refused(tmp_path):
    path = _explore(tmp_path, "n.csv", "Event name,Event count", "dc_conversation_engaged,5")
    with pytest.raises(ca.LoaderError, match=r"n\.csv.*no date dimension.*Date"):
        read(path, timezone=NY)


def test_csv_needs_the_property_time_zone():
    with pytest.raises(ca.LoaderError, match=r"explore_dynamic_chat.*timezone=") as err:
        read(EXPLORE)
    assert err.value.path == str(EXPLORE)


# ------------------------------------------------------------------------------------ de-duplication
def test_overlapping_exports_deduplicate_whatever_the_file_name(tmp_path):
    copy = tmp_path / "explore_copy.csv"
    shutil.copy(EXPLORE, copy)
    report = ca.load_report(read([EXPLORE, copy], timezone=NY))
    assert report.counts()["events"] == 4 and report.counts()["duplicates"] == 4
    assert report.duplicates["reason"].unique().tolist() == ["same event_id"]


def _api_row(*values: str, count: str) -> dict:
    return {"dimensionValues": [{"value": v} for v in values], "metricValues": [{"value": count}]}


def test_csv_and_api_copies_of_one_row_share_an_id(tmp_path):
    page = {
        "dimensionHeaders": [
            {"name": "date"},
            {"name": "eventName"},
            {"name": "customEvent:dc_conversation_id"},
        ],
        "metricHeaders": [{"name": "eventCount", "type": "TYPE_INTEGER"}],
        "rows": [
            _api_row("20261101", "dc_conversation_engaged", "4471902", count="310"),
            _api_row("20261101", "dc_conversation_engaged", "4473088", count="2"),
        ],
        "metadata": {"timeZone": NY},
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(page))
    events = read([EXPLORE, path], timezone=NY)
    report = ca.load_report(events)
    assert report.counts()["duplicates"] == 1  # 4471902 engaged on 2026-11-01; 4473088 is another row
    assert report.duplicates["duplicate_of_record"].tolist() == [11]
    assert events["event_id"].is_unique


# ------------------------------------------------------------------------------------ errors
def test_detection_is_specific():
    ua = DATA.parent / "ua_csv" / "dynamic_chat_events_20230601-20230630.csv"
    heads = {p: p.read_bytes()[:4096] for p in [EXPLORE, REPORT, *PAGES, ua]}
    assert [_ga4_reports.sniff(p, h) for p, h in heads.items()] == [
        "ga4_explore_csv",
        "ga4_explore_csv",
        "ga4_data_api",
        "ga4_data_api",
        None,
    ]
    assert [_ua.sniff(p, h) for p, h in heads.items()] == [None, None, None, None, "ua_csv"]
    others = [
        b'{"event_name": "page_view", "event_timestamp": "1793681850100000"}\n',
        b'{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED", "payload": {}}\n',
        b"marketoGUID,leadId,activityDate,activityTypeId,attributes\n",
        b"date,events\n20261102,5\n",
        b"# A heading\n\nSome text, with a comma\n",
    ]
    for head in others:
        assert _ga4_reports.sniff(Path("x.csv"), head) is None
        assert _ua.sniff(Path("x.csv"), head) is None


def test_unreadable_inputs(tmp_path):
    garbage = tmp_path / "g.csv"
    garbage.write_bytes(b"\x00\xff\x13garbage\nmore,garbage\n")
    with pytest.raises(
        ca.LoaderError, match=r"g\.csv holds no table with an Event name \(eventName\) dimension"
    ):
        read(garbage, format="ga4_explore_csv", timezone=NY)
    with pytest.raises(ca.LoaderError, match="is not valid JSON"):
        read(EXPLORE, format="ga4_data_api")
    with pytest.raises(ca.LoaderError, match=r"no table with an Event name \(eventName\) dimension"):
        read(PAGES[0], format="ga4_explore_csv", timezone=NY)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(ca.EmptyDataError):
        read(empty, format="ga4_data_api")
    assert ca.load_report(read([EXPLORE, empty], format="ga4_explore_csv", timezone=NY)).files[
        "records"
    ].tolist() == [7, 0]
    no_metric = json.loads(PAGES[0].read_text())
    no_metric["metricHeaders"] = [{"name": "activeUsers"}]
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps(no_metric))
    with pytest.raises(ca.LoaderError, match="no eventCount metric"):
        read(bad)
    several = tmp_path / "s.json"
    several.write_text(json.dumps([no_metric]))
    with pytest.raises(ca.LoaderError, match="own file"):
        read(several, format="ga4_data_api")


def test_gzip_and_truncated_gzip(tmp_path):
    gz = tmp_path / "page1.json.gz"
    gz.write_bytes(gzip.compress(PAGES[0].read_bytes()))
    assert len(read(gz)) == 2
    cut = tmp_path / "explore.csv.gz"
    cut.write_bytes(gzip.compress(EXPLORE.read_bytes())[:-30])
    with pytest.raises(ca.LoaderError, match="truncated"):
        read(cut, format="ga4_explore_csv", timezone=NY)


# ------------------------------------------------------------------------------------ property
#: Garbage that may replace any value.
_GARBAGE = st.one_of(
    st.sampled_from(["", "(not set)", "RESERVED_TOTAL", "x", "2026-13-40", "-1", "1.5", "\ud800"]),
    st.text(max_size=6),
    st.integers(-2, 3),
    st.none(),
)
#: Plausible values by dimension or metric.
_PLAUSIBLE = {
    "date": ["20261103", "20261101", "2026-11-01"],
    "dateHour": ["2026110309", "2026110101"],
    "dateHourMinute": ["202611030959", "202611010130"],
    "eventName": ["dc_conversation_engaged", "dc_live_chat_ended", "page_view", "(other)"],
    "customEvent:dc_session_id": ["sid-a1", "(not set)", "a@b.example"],
    "country": ["NL", "US"],
    "eventCount": ["1", "3", "1,204", "0"],
    "activeUsers": ["1", "2"],
}


@st.composite
def pages(draw):
    dims = draw(
        st.lists(st.sampled_from([k for k in _PLAUSIBLE if k not in ("eventCount", "activeUsers")]),
                 min_size=1, max_size=4, unique=True)
    )  # fmt: skip
    if draw(st.integers(0, 4)):  # mostly a readable layout: a date dimension and an event name
        dims = list(
            dict.fromkeys([draw(st.sampled_from(["date", "dateHour", "dateHourMinute"])), "eventName", *dims])
        )
    metrics = draw(
        st.sampled_from([["eventCount"], ["activeUsers", "eventCount"], ["eventCount"], ["activeUsers"]])
    )

    def value(name: str):
        return draw(_GARBAGE) if draw(st.integers(0, 5)) == 0 else draw(st.sampled_from(_PLAUSIBLE[name]))

    def a_row():
        if draw(st.integers(0, 9)) == 0:
            return draw(st.sampled_from(["row", 5, None, [], {}, {"dimensionValues": 1}]))
        row = {
            "dimensionValues": [{"value": value(d)} for d in dims],
            "metricValues": [{"value": value(m)} for m in metrics],
        }
        if draw(st.integers(0, 9)) == 0:
            row[draw(st.sampled_from(["dimensionValues", "metricValues"]))].pop()
        return row

    return {
        "dimensionHeaders": [{"name": d} for d in dims],
        "metricHeaders": [{"name": m} for m in metrics],
        "rows": [a_row() for _ in range(draw(st.integers(0, 8)))],
        "totals": [a_row() for _ in range(draw(st.integers(0, 1)))],
        "rowCount": draw(st.integers(0, 9)),
        "metadata": {"timeZone": draw(st.sampled_from([NY, "Asia/Kolkata", NY, "Nowhere/City"]))},
    }  # fmt: skip


_CUT = st.integers(0, 4).flatmap(lambda k: st.integers(1, 400) if k == 0 else st.none())


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=pages(), cut=_CUT)
def test_api_pages_raise_loader_errors_or_account_for_every_record(tmp_path_factory, page, cut):
    text = json.dumps(page)
    path = tmp_path_factory.mktemp("api") / "page.json"
    path.write_text(text[:cut] if cut is not None else text)
    try:
        events = read(path, format="ga4_data_api")
    except ca.EmptyDataError:
        assert cut is not None or not (page["rows"] or page["totals"])
        return
    except ca.LoaderError:
        return
    assert cut is None or cut >= len(text)
    c = ca.load_report(events).counts()
    assert c["records"] == len(page["rows"]) + len(page["totals"])
    assert c["events"] + c["rejected"] + c["duplicates"] + c["ignored"] == c["records"]
    ca.validate_events(events)
    assert set(events["time_granularity"].astype(str)) <= {"minute", "hour", "day"}
    assert (events["event_count"] >= 1).all()
    assert events["event_id"].str.match(r"agg:[0-9a-f]{32}$").all()
