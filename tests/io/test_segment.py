"""Segment S3 destination logs into canonical events, and a property test for both JSON-lines loaders of
this family (``segment`` and ``aep_xdm``).

Fixtures in tests/data/segment/segment-logs/sK7q2LdP0x/1793664000000/ (see the folder's README). Visitor V1
= a1f4c9e2-..., V2 = d3c2b1a0-...; all times UTC:

=====================  =========================================  ==========================================
record                 message                                    outcome
=====================  =========================================  ==========================================
00h:1                  identify                                   ignored ("identify")
00h:2                  page                                       ignored ("page")
00h:3 (a)              track Conversation Triggered               event 2026-11-02 23:59:59.680
00h:4                  line 3 retried (same messageId)            duplicate of (a)
00h:5                  track Conversation Engaged                 event 2026-11-03 00:00:31.480
00h:6                  track Order Completed                      ignored ("Order Completed")
00h:7                  track Email Input, no timestamp            event 00:01:10.020 (originalTimestamp)
00h:8                  track Meeting Booked, agent 9001           event 00:01:35.000
00h:9                  track "Dynamic Chat", event_type property  event 00:01:50.900
01h:1                  track Live Chat Requested                  event 01:14:00.080
01h:2                  track Live Chat Initiated, agent 9002      event 01:14:20.580
01h:3                  cut by the truncated gzip stream           rejected, malformed JSON
=====================  =========================================  ==========================================

12 records = 7 events + 1 rejected + 1 duplicate + 3 ignored.
"""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from chatanalytics.io import _segment
from chatanalytics.io._files import read_head
from tests.conftest import record_lines

DATA = Path(__file__).resolve().parents[1] / "data" / "segment"
DAY = DATA / "segment-logs" / "sK7q2LdP0x" / "1793664000000"
HOUR0 = DAY / "1793664000000.4b8e0f7e-2c1d-4e5f-9a8b-7c6d5e4f3a2b.gz"
HOUR1 = DAY / "1793667600000.a7b6c5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d.gz"
GLOB = str(DATA / "segment-logs" / "**" / "*.gz")
V1 = "a1f4c9e2-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
V2 = "d3c2b1a0-9f8e-4d7c-b6a5-948372615049"
M1 = "ajs-next-0c7d41a2e9b35f6804a1d2c3b4e5f6"
M2 = "ajs-next-5e6f708192a3b4c5d6e7f8091a2b3c"
PRICING = "https://www.example.com/pricing"
EMAILS = ("jane.doe@example.org", "dana.agent@example.com", "jane.doe%40example.org")

EXPECTED = pd.DataFrame(
    {
        "event_time_utc": pd.to_datetime(
            [
                "2026-11-02 23:59:59.680",
                "2026-11-03 00:00:31.480",
                "2026-11-03 00:01:10.020",
                "2026-11-03 00:01:35.000",
                "2026-11-03 00:01:50.900",
                "2026-11-03 01:14:00.080",
                "2026-11-03 01:14:20.580",
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
        "session_id": ["sid-s1"] * 5 + ["sid-s2"] * 2,
        "conversation_id": ["4471902"] * 5 + ["4473088"] * 2,
        "conversation_name": ["Pricing page dialogue"] * 5 + ["Demo request flow"] * 2,
        "conversation_type": ["dialogue"] * 5 + ["conversational_flow"] * 2,
        "ui_type": ["popup"] * 5 + ["chatbot"] * 2,
        "agent_id": [None, None, None, "9001", None, None, "9002"],
        "agent_name": [None, None, None, "Dana Agent <[redacted]>", None, None, "Sam Agent"],
        "meeting_info": [
            None,
            None,
            None,
            '{"start":"2026-11-03T15:00:00Z","duration":30}',
            None,
            None,
            None,
        ],
        "visitor_id": [V1] * 5 + [V2] * 2,
        "page_url": [PRICING, PRICING, f"{PRICING}?utm_source=ads&email=[redacted]", PRICING, PRICING]
        + ["https://www.example.com/demo"] * 2,
        "analytics_session_id": [None] * 7,
        "event_id": [f"{M1}03", f"{M1}05", f"{M1}07", f"{M1}08", f"{M1}09", f"{M2}01", f"{M2}02"],
        "event_count": [1] * 7,
        "time_granularity": ["exact"] * 7,
        "source_record": [3, 5, 7, 8, 9, 1, 2],
    }
)


def read(paths=GLOB, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(paths, **kw)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True).copy()
    for c in frame.columns:
        if c not in ("event_time_utc", "source_record", "event_count"):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    if "source_record" in frame:
        frame["source_record"] = frame["source_record"].astype(int)
    frame["event_count"] = frame["event_count"].astype(int)
    return frame


def test_fixture_rows_worked_out_by_hand():
    events = read()  # detected from content
    ca.validate_events(events)
    pd.testing.assert_frame_equal(_plain(events[list(EXPECTED.columns)]), _plain(EXPECTED), check_dtype=False)
    assert set(events["source_format"].astype(str)) == {"segment"}
    assert [Path(f).name for f in events["source_file"]] == [HOUR0.name] * 5 + [HOUR1.name] * 2


def test_load_report_accounts_for_every_record():
    report = ca.load_report(read())
    assert report.counts() == {
        "records": 12,
        "events": 7,
        "rejected": 1,
        "duplicates": 1,
        "ignored": 3,
        "derived": 0,
    }
    files = report.files
    assert files["records"].tolist() == [9, 3]
    assert (
        files["records"] == files["events"] + files["rejected"] + files["duplicates"] + files["ignored"]
    ).all()
    rej = report.rejected
    assert rej[["source_record", "reason"]].values.tolist() == [[3, "malformed JSON"]]
    assert rej["source_file"].iloc[0].endswith(HOUR1.name)
    assert rej["raw"].iloc[0].endswith('"timestamp":"2026-11-03T01:21:45.0')
    ign = report.ignored
    assert ign[["source_record", "event_name"]].values.tolist() == [
        [1, "identify"],
        [2, "page"],
        [6, "Order Completed"],
    ]
    dup = report.duplicates
    assert (dup["source_record"].tolist(), dup["duplicate_of_record"].tolist()) == ([4], [3])
    assert dup["reason"].tolist() == ["same event_id"]
    assert dup["event_id"].tolist() == [f"{M1}03"]
    # the retry was received later, so Segment's corrected timestamp differs: only messageId matches
    assert dup["event_time_utc"].tolist() == [pd.Timestamp("2026-11-03 00:00:04.400", tz="UTC")]
    notes = report.notes
    assert (
        f"{HOUR0}: 1 event(s) had no timestamp; their time is originalTimestamp (the device clock)" in notes
    )
    end = f"{HOUR1.stat().st_size:,}"
    assert f"{HOUR1}: at byte {end} the gzip stream ends early (truncated file); read up to line 3" in notes


def test_a_segment_logs_folder_is_read_whole():
    by_folder = ca.read_events(DATA / "segment-logs", warn=False)
    by_files = ca.read_events([HOUR0, HOUR1], warn=False)
    assert ca.load_report(by_folder).files["source_file"].tolist() == [str(HOUR0), str(HOUR1)]
    assert by_folder["event_id"].tolist() == by_files["event_id"].tolist()


def test_no_email_address_reaches_the_frame():
    events = read()
    text = events.astype(str)
    for email in EMAILS:
        assert not text.apply(lambda col, e=email: col.str.contains(e, regex=False)).any().any()
    notes = ca.load_report(events).notes
    assert "page_url: contact details redacted in 1 row(s)" in notes
    assert "agent_name: contact details redacted in 1 row(s)" in notes


def test_plain_json_lines_and_gzip_agree(tmp_path):
    plain = tmp_path / "1793664000000.jsonl"
    plain.write_bytes(gzip.decompress(HOUR0.read_bytes()))
    gz = read(HOUR0)
    txt = read(plain)
    cols = [c for c in EXPECTED.columns if c != "source_record"]
    pd.testing.assert_frame_equal(_plain(txt[cols]), _plain(gz[cols]))
    assert ca.load_report(txt).counts() == ca.load_report(gz).counts()
    array = tmp_path / "messages.json"  # a JSON array of the same messages
    array.write_text("[" + ",\n".join(gzip.decompress(HOUR0.read_bytes()).decode().splitlines()) + "]")
    assert read(array)["event_id"].tolist() == EXPECTED["event_id"].tolist()[:5]


def message(**kw: object) -> str:
    """A chat track message as a JSON line, with the given keys changed (``...`` leaves a key out)."""
    base: dict[str, object] = {
        "type": "track",
        "event": "Dynamic Chat Conversation Closed",
        "messageId": "m",
        "anonymousId": "v",
        "timestamp": "2026-11-04T10:00:00.000Z",
        "properties": {"conversation_id": 4471902},
    }
    base.update(kw)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def test_rejections_times_and_ids(tmp_path):
    lines = [
        message(messageId="m1", timestamp="2026-11-04T11:00:00.250+01:00"),
        message(messageId="m2", timestamp="2026-11-04 10:00:02"),  # no offset: UTC, noted
        message(messageId="m3", timestamp="soon"),
        message(messageId="m4", timestamp=...),
        message(messageId="m5", event=...),
        message(messageId="m6", type=...),
        message(messageId="m7", type="screen", timestamp=...),
        message(messageId=..., properties={"event_id": "dc-1", "conversation_id": 4471902.0}),
        message(messageId=4471902, anonymousId=88213, userId="jane.doe@example.org"),
        '["track"]',
        "",
        '{"type": "track", "event": ',
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    events = read(path, format="segment")
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(
            [
                "2026-11-04 10:00:00.250",
                "2026-11-04 10:00:02.000",
                "2026-11-04 10:00:00.000",
                "2026-11-04 10:00:00.000",
            ],
            utc=True,
        )
    )
    assert events["source_record"].tolist() == [1, 2, 8, 9]
    # messageId first; the snippet's event_id property only when there is no messageId; numbers as text
    assert events["event_id"].tolist() == ["m1", "m2", "dc-1", "4471902"]
    assert events["visitor_id"].tolist() == ["v", "v", "v", "88213"]
    assert events["conversation_id"].tolist() == ["4471902"] * 4
    report = ca.load_report(events)
    assert report.rejected[["source_record", "reason"]].values.tolist() == [
        [3, "unparseable time"],
        [4, "missing time"],
        [5, "missing event name"],
        [6, "missing event name"],
        [10, "not a JSON object"],
        [12, "malformed JSON"],
    ]
    assert report.ignored[["source_record", "event_name"]].values.tolist() == [[7, "screen"]]
    assert report.counts()["records"] == 11
    assert any(n.endswith("1 time(s) carried no UTC offset and were read as UTC") for n in report.notes)


def test_plan_names_and_the_action_property(tmp_path):
    lines = [
        message(messageId="p1", event="Chat Engaged"),
        message(
            messageId="p2", event="Chat Event", properties={"chat_action": "Dynamic Chat Live Chat Ended"}
        ),
        message(messageId="p3", event="Chat Event", properties={"chat_action": "minimised"}),
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    plan = ca.TrackingPlan.from_dict(
        {"segment": {"events": {"CONVERSATION_ENGAGED": "Chat Engaged"}, "fields": {"event": "chat_action"}}}
    )
    events = read(path, plan=plan)
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_ENGAGED",
        "CONVERSATION_LIVE_CHAT_ENDED",
    ]
    assert ca.load_report(events).ignored["event_name"].tolist() == ["Chat Event (chat_action=minimised)"]
    default = ca.load_report(read(path))
    assert default.counts()["events"] == 0
    assert default.ignored["event_name"].tolist() == ["Chat Engaged", "Chat Event", "Chat Event"]


def test_detection_does_not_take_other_formats():
    others = [
        *sorted((DATA.parent / "ga4_bigquery").glob("*.json")),
        DATA.parent / "datalayer" / "capture.json",
        DATA.parent / "datalayer" / "capture.ndjson",
        *sorted((DATA.parent / "aep_xdm").glob("*.json")),
        Path(__file__).resolve().parents[2] / "data" / "sample-synthetic.jsonl.gz",
    ]
    for path in others:
        assert _segment.sniff(path, read_head(path)) is None, path
    assert _segment.sniff(HOUR0, read_head(HOUR0)) == "segment"
    long = (
        b'{"anonymousId":"v","context":{"userAgent":"' + b"x" * 5000 + b'"},"messageId":"m","type":"track"}\n'
    )
    assert _segment.sniff(Path("long.jsonl"), long[:4096]) is None  # messageId beyond the first 4 KiB
    cut = b'{"messageId":"m","type":"track","context":{"userAgent":"' + b"x" * 5000
    assert _segment.sniff(Path("long.jsonl"), cut[:4096]) == "segment"


def test_bad_input_raises_loader_error(tmp_path):
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x00\xff\xfe garbage\n{{{\n\xc3\x28\n")
    with pytest.raises(ca.LoaderError, match=r"garbage\.jsonl does not look like a Segment S3 log") as err:
        ca.read_events(garbage, format="segment")
    assert err.value.path == str(garbage)
    capture = tmp_path / "capture.jsonl"  # the wrong format, forced
    capture.write_text('{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED", "payload": {}}\n')
    with pytest.raises(ca.LoaderError, match="Segment"):
        ca.read_events(capture, format="segment")
    xdm = DATA.parent / "aep_xdm" / "part-00000-5d1c7e2a-c000.json"
    with pytest.raises(ca.LoaderError, match="does not look like"):
        ca.read_events(xdm, format="segment")
    empty = tmp_path / "empty.jsonl.gz"
    empty.write_bytes(gzip.compress(b""))
    with pytest.raises(ca.EmptyDataError):
        ca.read_events(empty, format="segment")
    assert ca.load_report(read([empty, HOUR0], format="segment")).files["records"].tolist() == [0, 9]
    corrupt = tmp_path / "corrupt.gz"  # a whole gzip member followed by bytes that are not gzip
    corrupt.write_bytes(HOUR0.read_bytes() + b"not gzip data")
    report = ca.load_report(read(corrupt, format="segment"))
    assert report.counts() == {
        "records": 10,
        "events": 5,
        "rejected": 1,
        "duplicates": 1,
        "ignored": 3,
        "derived": 0,
    }
    assert report.rejected[["source_record", "reason"]].values.tolist() == [
        [10, "unreadable compressed data"]
    ]
    at = HOUR0.stat().st_size  # the first byte after the member
    assert (
        f"{corrupt}: corrupt gzip data after line 9; the rest could not be read (damage found at byte "
        f"{at:,}; 13 of the file's {at + 13:,} bytes were not decompressed)"
    ) in report.notes


# ------------------------------------------------------------------------------------ property
XDM = DATA.parent / "aep_xdm" / "part-00000-5d1c7e2a-c000.json"
VALID = {
    "segment": gzip.decompress(HOUR0.read_bytes()).decode().splitlines(),
    "aep_xdm": XDM.read_text().splitlines()[:9],
}
#: The fixture lines that are chat events, with their de-duplication key (messageId, _id).
CHAT_IDS = {
    "segment": {
        VALID["segment"][i]: json.loads(VALID["segment"][i])["messageId"] for i in (2, 3, 4, 6, 7, 8)
    },
    "aep_xdm": {VALID["aep_xdm"][i]: json.loads(VALID["aep_xdm"][i])["_id"] for i in (1, 2, 4, 5, 6, 7)},
}
PATHS = {
    "segment": [
        ("type",),
        ("event",),
        ("messageId",),
        ("anonymousId",),
        ("timestamp",),
        ("originalTimestamp",),
        ("context",),
        ("context", "page", "url"),
        ("properties",),
        ("properties", "conversation_id"),
        ("properties", "event_type"),
        ("properties", "meeting_info"),
    ],
    "aep_xdm": [
        ("_id",),
        ("timestamp",),
        ("eventType",),
        ("identityMap",),
        ("identityMap", "ECID"),
        ("web",),
        ("web", "webInteraction", "name"),
        ("web", "webPageDetails", "URL"),
        ("_acme",),
        ("_acme", "dynamicChat"),
        ("_acme", "dynamicChat", "conversationID"),
        ("_acme", "dynamicChat", "eventName"),
    ],
}
JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["2026-11-04T10:00:00Z", "CONVERSATION_CLOSED", "track", "a@b.example.com", "4471902.0"]),
    st.lists(st.integers(0, 9), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=2),
)
DELETE = object()


def _mutate(line: str, changes: list[tuple[tuple[str, ...], object]]) -> str:
    record = json.loads(line)
    for path, value in changes:
        node = record
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node = None
                break
            node = node[key]
        if node is None:
            continue
        if value is DELETE:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return json.dumps(record)


@st.composite
def lines_for(draw, fmt: str) -> str:
    kind = draw(st.sampled_from(["valid", "mutated", "garbage"]))
    valid = draw(st.sampled_from(VALID[fmt]))
    if kind == "valid":
        return valid
    if kind == "mutated":
        changes = draw(
            st.lists(
                st.tuples(st.sampled_from(PATHS[fmt]), st.one_of(st.just(DELETE), JSON_VALUES)),
                min_size=1,
                max_size=3,
            )
        )
        return _mutate(valid, changes)
    return draw(
        st.one_of(
            st.sampled_from(["{", "[1, 2]", "null", '"text"', "{}", "\ufeff{", '{"a":', ""]),
            st.binary(max_size=30).map(lambda b: b.replace(b"\n", b" ").decode("latin-1")),
            st.just(valid[: len(valid) // 2]),
        )
    )


@pytest.mark.parametrize("fmt", ["segment", "aep_xdm"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), gz=st.booleans())
def test_valid_mutated_and_garbage_records_are_accounted_for(tmp_path, fmt, data, gz):
    lines = data.draw(st.lists(lines_for(fmt), min_size=1, max_size=12))
    raw = "\n".join(lines).encode("utf-8", "surrogateescape")
    path = tmp_path / ("log.json.gz" if gz else "log.json")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    records = len(record_lines(raw))
    try:
        events = read(path, format=fmt)
    except ca.EmptyDataError:
        assert records == 0
        return
    except ca.LoaderError as err:
        assert str(path) in str(err)
        return
    c = ca.load_report(events).counts()
    assert c["records"] == records == c["events"] + c["rejected"] + c["duplicates"] + c["ignored"]
    assert len(events) == c["events"]
    ca.validate_events(events)
    # the columns the loader scrubs never hold an email address (ids other than these are kept as sent)
    scrubbed = ["visitor_id", "session_id", "page_url", "conversation_name", "agent_name", "meeting_info"]
    text = events[scrubbed].astype(str)
    for email in (*EMAILS, "a@b.example.com"):
        assert not text.apply(lambda col, e=email: col.str.contains(e, regex=False)).any().any()
    if all(line in VALID[fmt] for line in lines):  # fixture records only: one event per distinct chat id
        assert c["events"] == len({CHAT_IDS[fmt][line] for line in lines if line in CHAT_IDS[fmt]})
