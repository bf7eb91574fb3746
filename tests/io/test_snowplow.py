"""Snowplow enriched events (TSV, 131 columns, no header) into canonical events.

The fixtures in tests/data/snowplow/ (see its README) follow the enriched-event layout of
snowplow-python-analytics-sdk. Visitor bc2e92ec6c204a14, Snowplow session 5f1c2d3e-... (it crosses
midnight UTC), Dynamic Chat session sid-a1, dialogue 4471902 "Pricing page dialogue" (dialogue, popup),
self-describing events of iglu:com.example/dynamic_chat_event/jsonschema/1-0-0:

=====================  ==========================================  =========================  ==========
file:line              event                                       derived_tstamp             outcome
=====================  ==========================================  =========================  ==========
part-00000.tsv:1       page_view                                   2026-11-02 23:57:00.110    ignored
part-00000.tsv:2       CONVERSATION_TRIGGERED                      2026-11-02 23:58:00.250    event
part-00000.tsv:3       dc_conversation_engaged (plan name)         2026-11-02 23:59:10.500    event
part-00000.tsv:4 (a)   CONVERSATION_INPUT_EMAIL                    2026-11-03 00:00:40.000    event
part-00000.tsv:5 (b)   CONVERSATION_MEETING_BOOKED                 2026-11-03 00:01:05.000    event
part-00000.tsv:6       the same event_id again (re-delivered)                                 duplicate
part-00000.tsv:7 (c)   struct Dynamic Chat / dc_conversation_...   (empty)                    event
part-00000.tsv:8       link_click                                  2026-11-03 00:02:00.000    ignored
part-00000.tsv:9       page_ping with 130 columns                                             rejected
part-00000.tsv:10      CONVERSATION_CLOSED cut inside the JSON                                rejected
part-00001.tsv.gz:1    CONVERSATION_LIVE_CHAT_REQUESTED (d)        2026-11-03 15:15:00.009    event
part-00001.tsv.gz:2    CONVERSATION_LIVE_CHAT_INITIATED            2026-11-03 15:15:20.120    event
part-00001.tsv.gz:3    CONVERSATION_WAVED (unknown)                                           ignored
part-00001.tsv.gz:4    page_ping                                                              ignored
=====================  ==========================================  =========================  ==========

(a) page_url carries ``email=jo.visitor@example.org`` (and user_id the same address): scrubbed / not
read. (b) agent 9001 (a JSON number) Dana Agent, meetingInfo an object. (c) se_label 4471902; time from
collector_tstamp 2026-11-03 00:01:30.456. (d) vendor com.acme, version 1-0-2, visitor a93f0c1d2e3b4a55,
sid-b2, flow 4473088 "Demo request flow" (conversational_flow, chatbot), agent 9002 Sam Rivera on line 2.

14 records = 7 events + 2 rejected + 1 duplicate + 4 ignored.
"""

from __future__ import annotations

import gzip
import json
import warnings
import zlib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from chatanalytics.io import _snowplow

DATA = Path(__file__).resolve().parents[1] / "data" / "snowplow"
PLAIN = DATA / "part-00000.tsv"
GZ = DATA / "part-00001.tsv.gz"
A, B = "bc2e92ec6c204a14", "a93f0c1d2e3b4a55"
SA, SB = "5f1c2d3e-0a1b-4c2d-8e3f-112233445566", "9d8e7f60-1a2b-4c3d-9e8f-a0b1c2d3e4f5"
PRICING = "https://www.example.com/pricing"
DEMO = "https://www.example.com/demo"

EXPECTED = pd.DataFrame(
    {
        "event_time_utc": pd.to_datetime(
            [
                "2026-11-02 23:58:00.250",
                "2026-11-02 23:59:10.500",
                "2026-11-03 00:00:40.000",
                "2026-11-03 00:01:05.000",
                "2026-11-03 00:01:30.456",
                "2026-11-03 15:15:00.009",
                "2026-11-03 15:15:20.120",
            ],
            utc=True,
        ).as_unit("us"),
        "event_type": [
            "CONVERSATION_TRIGGERED",
            "CONVERSATION_ENGAGED",
            "CONVERSATION_INPUT_EMAIL",
            "CONVERSATION_MEETING_BOOKED",
            "CONVERSATION_COMPLETED",
            "CONVERSATION_LIVE_CHAT_REQUESTED",
            "CONVERSATION_LIVE_CHAT_INITIATED",
        ],
        "session_id": ["sid-a1"] * 4 + [None] + ["sid-b2"] * 2,
        "conversation_id": ["4471902"] * 5 + ["4473088"] * 2,
        "conversation_name": ["Pricing page dialogue"] * 4 + [None] + ["Demo request flow"] * 2,
        "conversation_type": ["dialogue"] * 4 + [None] + ["conversational_flow"] * 2,
        "ui_type": ["popup"] * 4 + [None] + ["chatbot"] * 2,
        "agent_id": [None, None, None, "9001", None, None, "9002"],
        "agent_name": [None, None, None, "Dana Agent", None, None, "Sam Rivera"],
        "meeting_info": [
            None,
            None,
            None,
            '{"start":"2026-11-04T15:00:00Z","duration":30}',
            None,
            None,
            None,
        ],
        "visitor_id": [A] * 5 + [B] * 2,
        "page_url": [
            PRICING,
            PRICING,
            PRICING + "?email=[redacted]&utm_source=ads",
            PRICING,
            PRICING,
            DEMO,
            DEMO,
        ],
        "analytics_session_id": [SA] * 5 + [SB] * 2,
        "event_id": [
            "7c1e0e4a-3b5f-4a51-9a0e-0c8b5d2f0002",
            "7c1e0e4a-3b5f-4a51-9a0e-0c8b5d2f0003",
            "7c1e0e4a-3b5f-4a51-9a0e-0c8b5d2f0004",
            "7c1e0e4a-3b5f-4a51-9a0e-0c8b5d2f0005",
            "7c1e0e4a-3b5f-4a51-9a0e-0c8b5d2f0007",
            "3f6b9c2e-8d4a-4e1f-b7c5-5a4d3c2b1a01",
            "3f6b9c2e-8d4a-4e1f-b7c5-5a4d3c2b1a02",
        ],
        "event_count": [1] * 7,
        "time_granularity": ["exact"] * 7,
        "source_record": [2, 3, 4, 5, 7, 1, 2],
    }
)


def read(paths, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(paths, warn=False, **kw)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    for c in out.columns:
        if c not in ("event_time_utc", "source_record", "event_count"):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    for c in ("source_record", "event_count"):
        if c in out:
            out[c] = out[c].astype(int)
    return out


def _check(events: pd.DataFrame, want: pd.DataFrame) -> None:
    ca.validate_events(events)
    pd.testing.assert_frame_equal(_plain(events[list(want.columns)]), _plain(want), check_dtype=False)


def _ue(data: dict, name: str = "dynamic_chat_event") -> str:
    inner = {"schema": f"iglu:com.example/{name}/jsonschema/1-0-0", "data": data}
    return json.dumps(
        {"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0", "data": inner}
    )


def _line(**values: str) -> str:
    """One enriched event: the given columns, the others empty (the column order is the SDK's)."""
    return "\t".join(values.get(c, "") for c in _snowplow.COLUMNS)


def _chat(event_id: str, derived: str, data: dict, **extra: str) -> str:
    values = {
        "collector_tstamp": derived,
        "derived_tstamp": derived,
        "event": "unstruct",
        "event_id": event_id,
        "domain_userid": "d1",
        "domain_sessionid": "s1",
        "unstruct_event": _ue(data),
        "event_name": "dynamic_chat_event",
    }
    return _line(**{**values, **extra})


def _write(path: Path, lines: list[str]) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


# ------------------------------------------------------------------------------------ fixtures
def test_fixture_rows_worked_out_by_hand():
    events = read([PLAIN, GZ])
    _check(events, EXPECTED)
    assert set(events["source_format"].astype(str)) == {"snowplow"}


def test_load_report_accounts_for_every_record():
    report = ca.load_report(read([PLAIN, GZ]))
    assert report.counts() == {
        "records": 14,
        "events": 7,
        "rejected": 2,
        "duplicates": 1,
        "ignored": 4,
        "derived": 0,
    }
    files = report.files
    assert files["records"].tolist() == [10, 4]
    assert (files["events"] + files["rejected"] + files["duplicates"] + files["ignored"]).tolist() == [10, 4]
    rej = report.rejected
    assert list(zip(rej["source_record"], rej["reason"], strict=True)) == [
        (9, "wrong number of columns"),
        (10, "wrong number of columns"),
    ]
    assert rej["raw"].iloc[1].endswith('"uiType":"popup","sid":')
    ign = report.ignored
    assert list(zip(ign["source_record"], ign["event_name"], strict=True)) == [
        (1, "page_view"),
        (8, "link_click"),
        (3, "dynamic_chat_event (event=CONVERSATION_WAVED)"),
        (4, "page_ping"),
    ]
    dup = report.duplicates
    assert (dup["source_record"].tolist(), dup["duplicate_of_record"].tolist()) == ([6], [5])
    assert dup["reason"].tolist() == ["same event_id"]


def test_redelivered_files_deduplicate(tmp_path):
    copy = tmp_path / "part-00000-again.tsv"
    copy.write_bytes(PLAIN.read_bytes())
    report = ca.load_report(read([PLAIN, copy]))
    assert report.files["duplicates"].tolist() == [1, 6]  # the copy: its 5 events and its own repeat
    assert report.counts()["events"] == 5


def test_no_contact_detail_reaches_the_frame():
    events = read([PLAIN, GZ])
    strings = events.select_dtypes(include="string")
    assert not strings.apply(lambda c: c.str.contains("@", regex=False).fillna(False)).any().any()
    assert "jo.visitor" not in events.to_string()


# ------------------------------------------------------------------------------------ detection
def test_detection_is_specific():
    assert _snowplow.sniff(PLAIN, PLAIN.read_bytes()[:4096]) == "snowplow"
    assert read(GZ)["source_format"].astype(str).unique().tolist() == ["snowplow"]
    long_line = _chat("7c1e0e4a-3b5f-4a51-9a0e-0c8b5d2f0099", "2026-11-03 00:00:00", {"event": "x" * 5000})
    assert _snowplow.sniff(Path("x"), long_line.encode()[:4096]) == "snowplow"  # the head cuts the line
    marketo = DATA.parent / "marketo_bulk"
    others = [
        (marketo / "export-2026-11-01.csv").read_bytes(),
        (marketo / "tsv" / "export-2026-11-01.tsv").read_bytes(),
        b'{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED", "payload": {}}\n',
        b"a\tb\tc\td\te\tf\tg\th\n",
        ("\t".join(["x"] * 131) + "\n").encode(),
        long_line.replace("\t", ",").encode(),
    ]
    for other in others:
        assert _snowplow.sniff(Path("x.tsv"), other[:4096]) is None


# ------------------------------------------------------------------------------------ mapping
def test_rejections_ignored_events_and_time_fallback(tmp_path):
    data = {"event": "CONVERSATION_CLOSED", "id": 4471902.0, "sid": "s-9", "name": "Chat +1 555 0100 123"}
    lines = [
        _chat("e1", "2026-11-03 10:00:00", data),
        _chat("e2", "", data),
        _chat("e3", "03/11/2026 10:00", data),
        _chat("e4", "2026-11-03 10:00:03", {"id": "1"}),
        _chat("e5", "2026-11-03 10:00:04", data, unstruct_event='{"schema": "iglu:'),
        _line(event="struct", event_id="e6", collector_tstamp="2026-11-03 10:00:05", se_category="Video"),
        _line(
            event="struct",
            event_id="e7",
            collector_tstamp="2026-11-03 10:00:06.5",
            se_category=" dynamic chat ",
            se_action="CONVERSATION_LIVE_CHAT_ENDED",
            se_label="4471902",
        ),
        _line(
            event="struct", event_id="e8", collector_tstamp="2026-11-03 10:00:07", se_category="Dynamic Chat"
        ),
        "",
        "   ",
    ]
    events = read(_write(tmp_path / "e.tsv", lines), format="snowplow")
    assert events["event_id"].tolist() == ["e1", "e7"]
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_CLOSED",
        "CONVERSATION_LIVE_CHAT_ENDED",
    ]
    assert events["conversation_id"].tolist() == ["4471902", "4471902"]
    assert events["conversation_name"].tolist()[0] == "Chat [redacted]"
    assert [str(t) for t in events["event_time_utc"]] == [
        "2026-11-03 10:00:00+00:00",
        "2026-11-03 10:00:06.500000+00:00",
    ]
    report = ca.load_report(events)
    assert report.counts()["records"] == 8  # the blank lines are not records
    assert list(zip(report.rejected["source_record"], report.rejected["reason"], strict=True)) == [
        (2, "missing time"),
        (3, "unparseable time"),
        (4, "missing event type"),
        (5, "malformed JSON"),
        (8, "missing event type"),
    ]
    assert report.ignored["event_name"].tolist() == ["struct (se_category=Video)"]


def test_tracking_plan_names(tmp_path):
    plan = ca.TrackingPlan.from_dict(
        {
            "snowplow": {
                "schema_name": "chat_callback",
                "structured_category": "DC",
                "events": {"CONVERSATION_ENGAGED": "chat-engaged"},
                "fields": {"event": "kind", "id": "conversationId", "page_url": "pageUrl"},
            }
        }
    )
    ue = _ue({"kind": "chat-engaged", "conversationId": 7, "pageUrl": "https://x.example/p"}, "chat_callback")
    lines = [
        _chat("e1", "2026-11-03 10:00:00", {}, unstruct_event=ue, event_name="chat_callback"),
        _line(
            event="struct",
            event_id="e2",
            collector_tstamp="2026-11-03 10:00:01",
            se_category="DC",
            se_action="chat-engaged",
            se_label="8",
            page_url="https://x.example/q",
        ),
        _chat("e3", "2026-11-03 10:00:02", {"event": "CONVERSATION_ENGAGED"}),
    ]
    path = _write(tmp_path / "e.tsv", lines)
    events = read(path, plan=plan, format="snowplow")
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED"] * 2
    assert events["conversation_id"].tolist() == ["7", "8"]
    assert events["page_url"].tolist() == ["https://x.example/p", "https://x.example/q"]
    assert ca.load_report(events).ignored["event_name"].tolist() == ["dynamic_chat_event"]
    assert len(read(path, format="snowplow")) == 1  # the default plan knows only line 3


# ------------------------------------------------------------------------------------ errors
def test_truncated_and_corrupt_gzip(tmp_path):
    whole = gzip.compress(PLAIN.read_bytes())
    cut = tmp_path / "cut.tsv.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    prefix = zlib.decompressobj(wbits=47).decompress(cut.read_bytes())
    assert not prefix.endswith(b"\n")  # the cut falls inside a line
    events = read(cut, format="snowplow")
    report = ca.load_report(events)
    c = report.counts()
    assert c["records"] == len([line for line in prefix.split(b"\n") if line.strip()])
    assert c["events"] + c["rejected"] + c["duplicates"] + c["ignored"] == c["records"]
    assert report.rejected["reason"].iloc[-1] == "wrong number of columns"  # the line the cut split
    assert set(events["event_id"]) <= set(EXPECTED["event_id"])
    assert any("truncated" in n for n in report.notes)
    corrupt = tmp_path / "corrupt.tsv.gz"
    corrupt.write_bytes(GZ.read_bytes() + b"\x1f\x8bjunk")  # a second gzip member that is not one
    report = ca.load_report(read(corrupt))
    assert report.counts()["events"] == 2
    assert report.rejected["reason"].tolist() == ["unreadable compressed data"]


def test_garbage_wrong_format_and_empty_files(tmp_path):
    garbage = tmp_path / "garbage.tsv"
    garbage.write_bytes(b"\x00\xff\xfe garbage\tmore\n\xc3\x28\n")
    with pytest.raises(ca.LoaderError, match="not a Snowplow enriched-event file") as err:
        read(garbage, format="snowplow")
    assert err.value.path == str(garbage)
    with pytest.raises(ca.LoaderError, match=r"garbage\.tsv"):
        read(garbage)
    marketo = DATA.parent / "marketo_bulk" / "tsv" / "export-2026-11-01.tsv"
    with pytest.raises(ca.LoaderError, match=r"line 1 has 8"):
        read(marketo, format="snowplow")
    empty = tmp_path / "empty.tsv"
    empty.write_bytes(b"")
    with pytest.raises(ca.EmptyDataError):
        read(empty, format="snowplow")
    assert ca.load_report(read([empty, PLAIN], format="snowplow")).files["records"].tolist() == [0, 10]


# ------------------------------------------------------------------------------------ property
_EVENT = st.sampled_from(
    [
        "CONVERSATION_TRIGGERED",
        "conversation_engaged",
        "dc_meeting_booked",
        "dc_live_chat_timeout",
        "WAVE",
        "",
    ]
)
_TS = st.sampled_from(["2026-11-03 10:00:00", "2026-11-03 10:00:00.123", "", "soon", "2026-02-30 10:00:00"])
_ID = st.one_of(st.integers(0, 10**8), st.sampled_from(["4471902", "4471902.0", ""]))


@st.composite
def _record(draw) -> str:
    kind = draw(st.sampled_from(["chat", "struct", "page_view"]))
    eid = draw(st.sampled_from(["e1", "e2", "e3", ""]))
    ts = draw(_TS)
    if kind == "chat":
        data = {"event": draw(_EVENT), "id": draw(_ID), "sid": draw(st.sampled_from(["s1", "a@b.co", ""]))}
        if draw(st.booleans()):
            data["meetingInfo"] = {"who": "x@y.org", "tel": "+1 555 0100 123"}
        page = draw(st.sampled_from(["", "https://x.example/?email=a@b.co"]))
        return _chat(eid, ts, data, page_url=page, app_id="app")
    if kind == "struct":
        return _line(
            app_id="app",
            event="struct",
            event_id=eid,
            collector_tstamp=ts,
            se_category="Dynamic Chat",
            se_action=draw(_EVENT),
            se_label=str(draw(_ID)),
        )
    return _line(app_id="app", event="page_view", event_id=eid, collector_tstamp=ts)


_LINE = st.one_of(
    _record(),
    st.tuples(_record(), st.integers(1, 400)).map(lambda t: t[0][: t[1]]),  # truncated
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),  # garbage
    st.just("x\t" * 130 + "\udcff"),  # 131 columns, not UTF-8
    st.just(""),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, max_size=15), gz=st.booleans())
def test_random_files_are_read_or_refused_and_every_record_counts(tmp_path_factory, lines, gz):
    data = "\n".join(lines).encode("utf-8", "surrogateescape")
    path = tmp_path_factory.mktemp("s") / ("e.tsv.gz" if gz else "e.tsv")
    path.write_bytes(gzip.compress(data) if gz else data)
    n = sum(1 for line in lines if line)
    try:
        events = read(path, format="snowplow")
    except ca.EmptyDataError:
        assert n == 0
        return
    except ca.LoaderError:
        # refused only when no UTF-8 line has the 131 columns of an enriched event
        assert all(line.count("\t") != 130 or "\udcff" in line for line in lines)
        return
    c = ca.load_report(events).counts()
    assert c["records"] == n
    assert c["events"] + c["rejected"] + c["duplicates"] + c["ignored"] == n
    assert len(events) == c["events"]
    ca.validate_events(events)
    strings = events.select_dtypes(include="string")
    assert not strings.apply(lambda col: col.str.contains("@", regex=False).fillna(False)).any().any()
