"""Universal Analytics custom-report CSV into canonical events (and the property test of both report CSVs).

tests/data/ua_csv/dynamic_chat_events_20230601-20230630.csv is a custom flat table exported from a UA
view in Dutch (Dutch headers, ``2.546`` for 2546), view time zone Europe/Amsterdam (CEST, UTC+2, in
June 2023). The plan's defaults: category "Dynamic Chat Conversations", Event Label -> conversation_id.

====  ==========================================================  ==========================================
line  row                                                         outcome
====  ==========================================================  ==========================================
1-5   ``#`` preamble (view, report, 20230601-20230630)            not records
7     header                                                      not a record
8     20230601 chat / Conversation Triggered / 4471902 / 2.546    event 2023-05-31 22:00 UTC, 2546, day
9     20230601 chat / Conversation Engaged / 4471902 / "1.204"    event 2023-05-31 22:00 UTC, 1204
10    20230601 Outbound Links / click / ... / 57                  ignored "Outbound Links / click"
11    20230602 chat / Conversation Triggered / 4473088 / 312      event 2023-06-01 22:00 UTC, 312
12    20230602 chat / Conversation Minimised / 4473088 / 5        ignored (an action the plan does not know)
13    20230602 chat / Conversation Completed / (not set) / 3      event 2023-06-01 22:00 UTC, no conversation
14    ,,,,"4.127","3.314"                                         ignored: totals row
16    Dagindex header (the Day Index block)                       not a record
17-19 Day Index rows and their total                              ignored: "Dagindex table"
====  ==========================================================  ==========================================

10 records = 4 events + 6 ignored. event_id = "agg:" + 32 hex digits of the SHA-256 of the key below.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca

DATA = Path(__file__).resolve().parents[1] / "data" / "ua_csv"
FILE = DATA / "dynamic_chat_events_20230601-20230630.csv"
AMS = "Europe/Amsterdam"
CHAT = "Dynamic Chat Conversations"


def agg(key: str) -> str:
    return "agg:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def read(paths, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(paths, **kw)


def key(time: str, action: str, label: str) -> str:
    return (
        f'["ua","{time}","day",[["eventaction","{action}"],["eventcategory","{CHAT}"],'
        f'["eventlabel","{label}"]]]'
    )


EXPECTED = pd.DataFrame(
    {
        "event_time_utc": pd.to_datetime(
            ["2023-05-31 22:00", "2023-05-31 22:00", "2023-06-01 22:00", "2023-06-01 22:00"], utc=True
        ).as_unit("us"),
        "event_type": [
            "CONVERSATION_TRIGGERED",
            "CONVERSATION_ENGAGED",
            "CONVERSATION_TRIGGERED",
            "CONVERSATION_COMPLETED",
        ],
        "conversation_id": ["4471902", "4471902", "4473088", None],
        "session_id": [None] * 4,
        "visitor_id": [None] * 4,
        "page_url": [None] * 4,
        "event_id": [
            agg(key("2023-05-31T22:00:00Z", "Conversation Triggered", "4471902")),
            agg(key("2023-05-31T22:00:00Z", "Conversation Engaged", "4471902")),
            agg(key("2023-06-01T22:00:00Z", "Conversation Triggered", "4473088")),
            agg(key("2023-06-01T22:00:00Z", "Conversation Completed", "(not set)")),
        ],
        "event_count": [2546, 1204, 312, 3],
        "time_granularity": ["day"] * 4,
        "source_record": [8, 9, 11, 13],
    }
)


def check(events: pd.DataFrame, expected: pd.DataFrame) -> None:
    ca.validate_events(events)
    got = events[list(expected.columns)].reset_index(drop=True)
    want = expected.reset_index(drop=True).copy()
    for f in (got, want):
        for c in f.columns:
            if c not in ("event_time_utc", "event_count", "source_record"):
                f[c] = f[c].astype(object).where(f[c].notna(), None).map(lambda v: v if v is None else str(v))
        f["event_count"] = f["event_count"].astype(int)
        f["source_record"] = f["source_record"].astype(int)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_fixture_rows_worked_out_by_hand():
    events = read(FILE, timezone=AMS)  # detected from the content
    check(events, EXPECTED)
    assert events["source_format"].astype(str).unique().tolist() == ["ua_csv"]


def test_load_report_accounts_for_every_record():
    report = ca.load_report(read(FILE, timezone=AMS))
    assert report.counts() == {
        "records": 10,
        "events": 4,
        "rejected": 0,
        "duplicates": 0,
        "ignored": 6,
        "derived": 0,
    }
    assert report.ignored[["source_record", "event_name"]].values.tolist() == [
        [10, "Outbound Links / click"],
        [12, "Dynamic Chat Conversations / Conversation Minimised"],
        [14, "totals row"],
        [17, "Dagindex table"],
        [18, "Dagindex table"],
        [19, "Dagindex table"],
    ]
    assert any(
        "read the table at line 7" in n and "'Dagindex' at line 16 (3 row(s))" in n for n in report.notes
    )


def _write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(["# 20230601-20230630", "", *lines]) + "\n", encoding="utf-8")
    return path


def test_an_english_export_of_the_same_rows_deduplicates(tmp_path):
    """Other language, other column order, other number format: the same report rows, the same ids."""
    english = _write(
        tmp_path,
        "english.csv",
        "Event Category,Event Action,Event Label,Date,Total Events,Unique Events",
        f'{CHAT},Conversation Triggered,4471902,20230601,"2,546","1,980"',
        f"{CHAT},Conversation Engaged,4471902,20230601,1204,987",
        f"{CHAT},Conversation Closed,4471902,20230601,17,17",
    )
    events = read([FILE, english], timezone=AMS)
    report = ca.load_report(events)
    assert report.counts()["duplicates"] == 2
    assert report.duplicates["duplicate_of_record"].tolist() == [8, 9]
    assert events["event_type"].astype(str).tolist()[-1] == "CONVERSATION_CLOSED"


def test_hours_and_case_insensitive_names(tmp_path):
    path = _write(
        tmp_path,
        "hourly.csv",
        "Date,Hour,Event Category,Event Action,Event Label,Total Events",
        "20230615,14,dynamic chat conversations, conversation engaged ,4471902,3",
        "20230615,14,Dynamic Chat Conversations,CONVERSATION_CLOSED,4471902,1",
        "20230615,9,Dynamic Chat Conversations,Phone Number,4471902,1",
        "20230615,25,Dynamic Chat Conversations,Email ID,4471902,1",
    )
    events = read(path, timezone=AMS)
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_ENGAGED",
        "CONVERSATION_CLOSED",
        "CONVERSATION_INPUT_PHONE",
    ]
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(["2023-06-15 12:00", "2023-06-15 12:00", "2023-06-15 07:00"], utc=True)
    )
    assert set(events["time_granularity"].astype(str)) == {"hour"}
    assert ca.load_report(events).rejected[["source_record", "reason"]].values.tolist() == [
        [7, "unparseable date"]
    ]


def test_hour_of_day_and_date_hour_and_minute(tmp_path):
    a = _write(tmp_path, "a.csv", "Hour of Day,Event Action,Total Events", "2023061509,Live Chat Timeout,2")
    b = _write(
        tmp_path, "b.csv", "ga:dateHourMinute,ga:eventAction,ga:totalEvents", "202306150930,Live Chat Ended,1"
    )
    events = read([a, b], timezone=AMS)
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT",
        "CONVERSATION_LIVE_CHAT_ENDED",
    ]
    assert events["time_granularity"].astype(str).tolist() == ["hour", "minute"]
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(["2023-06-15 07:00", "2023-06-15 07:30"], utc=True)
    )
    assert any("no Event Category column" in n for n in ca.load_report(events).notes)


def test_plan_names_category_and_custom_dimensions(tmp_path):
    plan = ca.TrackingPlan.from_dict(
        {
            "universal_analytics": {
                "category": "Chat",
                "events": {"CONVERSATION_ENGAGED": "engaged"},
                "fields": {"session_id": "Session ID", "conversation_name": "Dialogue"},
            }
        }
    )
    path = _write(
        tmp_path,
        "custom.csv",
        "Date,Event Category,Event Action,Event Label,Session ID,Dialogue,Total Events",
        "20230615,Chat,engaged,4471902,jane.doe@example.com,Pricing (call +31 20 555 0100),2",
        f"20230615,{CHAT},Conversation Engaged,4471902,s-1,Pricing,1",
    )
    events = read(path, timezone=AMS, plan=plan)
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED"]
    assert events["conversation_id"].tolist() == ["4471902"]
    assert events["session_id"].str.startswith("redacted-").all()
    assert events["conversation_name"].tolist() == ["Pricing (call [redacted])"]
    assert "jane.doe" not in events.astype(str).to_csv()
    assert ca.load_report(events).ignored["event_name"].tolist() == [f"{CHAT} / Conversation Engaged"]


def test_no_date_dimension_no_time_zone_and_wrong_inputs(tmp_path):
    top = _write(tmp_path, "top.csv", "Event Action,Total Events,Unique Events", "Conversation Triggered,5,5")
    with pytest.raises(ca.LoaderError, match=r"top\.csv.*no date dimension"):
        read(top, timezone=AMS)
    with pytest.raises(ca.LoaderError, match=r"dynamic_chat_events.*view's time zone.*timezone="):
        read(FILE)
    with pytest.raises(ca.LoaderError, match="no table with an Event Action column"):
        read(FILE.parents[1] / "ga4_reports" / "explore_dynamic_chat_20261101-20261102.csv", format="ua_csv")
    with pytest.raises(ca.LoaderError, match=r"no table with an Event name \(eventName\) dimension"):
        read(FILE, format="ga4_explore_csv", timezone=AMS)
    garbage = tmp_path / "g.csv"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ca.LoaderError):
        read(garbage, format="ua_csv", timezone=AMS)
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(ca.EmptyDataError):
        read(empty, format="ua_csv", timezone=AMS)


# ------------------------------------------------------------------------------------ property
_HEADERS = {
    "ga4_explore_csv": [
        ["Date", "Event name", "dc_session_id", "Event count"],
        ["Event name", "Date + hour (YYYYMMDDHH)", "Event count", "Total users"],
        ["Date hour and minute", "Event name", "Event count"],
    ],
    "ua_csv": [
        ["Date", "Event Category", "Event Action", "Event Label", "Total Events", "Unique Events"],
        ["Datum", "Gebeurteniscategorie", "Gebeurtenisactie", "Totaal aantal gebeurtenissen"],
        ["Date", "Hour", "Event Action", "Total Events"],
    ],
}
_PREAMBLE = {
    "ga4_explore_csv": ["# ----", "# Free form 1", "# Start date: 20261101", "# End date: 20261102"],
    "ua_csv": ["# ----", "# All Web Site Data", "# 20230601-20230630", "# ----", ""],
}
_CELLS = {
    "date": ["20230601", "2026-11-01", "20261301"],
    "date + hour (yyyymmddhh)": ["2026110309", "2026110101"],
    "date hour and minute": ["202611030959"],
    "datum": ["20230601"],
    "hour": ["9", "23", "24"],
    "event name": ["dc_conversation_engaged", "dc_live_chat_ended", "page_view", "(not set)"],
    "event action": ["Conversation Triggered", "Phone Number", "click", "(not set)"],
    "gebeurtenisactie": ["Conversation Engaged", "Live Chat Timeout"],
    "event category": [CHAT, "Outbound Links", ""],
    "gebeurteniscategorie": [CHAT, "Video"],
    "event label": ["4471902", "(not set)", "a@b.example"],
    "dc_session_id": ["sid-a1", "jane@example.com", "(not set)"],
}
_COUNT = ["1", "0", "1,204", "2.546", "1\u00a0204", "12 3", "x", ""]
_GARBAGE = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=8),
    st.sampled_from(["Grand total", "RESERVED_TOTAL", '"', "\r", "\x00"]),
)


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"') else cell


@st.composite
def report_files(draw):
    fmt = draw(st.sampled_from(sorted(_HEADERS)))
    header = draw(st.sampled_from(_HEADERS[fmt]))
    lines: list[bytes] = []
    if draw(st.booleans()):
        lines += [x.encode() for x in _PREAMBLE[fmt]]
    lines.append(",".join(header).encode())
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.integers(0, 11))
        if kind == 0:
            lines.append(draw(st.binary(max_size=12)))
            continue
        if kind == 1:
            lines.append(draw(st.sampled_from([b"", b"# note", b"Day Index,Total Events", b"1/6/23,5"])))
            continue
        cells = []
        for h in header:
            pool = _CELLS.get(h.lower())
            cell = draw(st.sampled_from(_COUNT if pool is None else pool))
            if draw(st.integers(0, 7)) == 0:
                cell = draw(_GARBAGE)
            cells.append(cell)
        if kind == 2:
            cells = ["" if i < len(cells) - 2 else c for i, c in enumerate(cells)]  # a totals row
        if kind == 3:
            cells = cells[: draw(st.integers(0, len(cells)))] + draw(st.lists(st.just("x"), max_size=1))
        lines.append(",".join(_quote(c) for c in cells).encode("utf-8", "surrogatepass"))
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    return fmt, newline.join(lines) + newline


def expected_records(data: bytes) -> int:
    """Data rows: lines of each run of lines (between blank and '#' lines) but its first, the header."""
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    records = 0
    in_table = False
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            in_table = False
        elif in_table:
            records += 1
        else:
            in_table = True
    return records


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=report_files(), tz=st.sampled_from(["America/New_York", "Europe/Amsterdam", None]))
def test_report_csvs_raise_loader_errors_or_account_for_every_record(tmp_path_factory, file, tz):
    """Both report CSV formats (GA4 and UA): random and mutated rows, tables, preambles and bytes."""
    fmt, data = file
    path = tmp_path_factory.mktemp("csv") / "report.csv"
    path.write_bytes(data)
    n = expected_records(data)
    try:
        events = read(path, format=fmt, timezone=tz)
    except ca.EmptyDataError:
        assert n == 0
        return
    except ca.LoaderError:
        return
    assert tz is not None
    c = ca.load_report(events).counts()
    assert c["records"] == n
    assert c["events"] + c["rejected"] + c["duplicates"] + c["ignored"] == n
    assert len(events) == c["events"]
    ca.validate_events(events)
    assert set(events["time_granularity"].astype(str)) <= {"minute", "hour", "day"}
    assert (events["event_count"] >= 1).all()
    assert events["event_id"].str.match(r"agg:[0-9a-f]{32}$").all()
    assert not events["session_id"].fillna("").str.contains("@").any()
