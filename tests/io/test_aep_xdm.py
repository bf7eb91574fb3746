"""Adobe Experience Platform XDM ExperienceEvent exports into canonical events.

Fixtures in tests/data/aep_xdm/ (see its README for every row). Visitor A = ECID
21787385749305120353584658023916481633, site in America/New_York (EST, UTC-5):

=================================  ==========================================  ===============================
record                             row                                         outcome
=================================  ==========================================  ===============================
part-00000:1                       web.webpagedetails.pageViews                ignored
part-00000:2 (a)                   dynamicChat.conversationTriggered           event 04:58:00.250 UTC
part-00000:3                       link "Dynamic Chat Conversation Engaged"    event 04:59:10.500 UTC
part-00000:4                       link "Download brochure"                    ignored
part-00000:5                       eventName "conversation_input_email"        event 05:00:40 UTC
part-00000:6 (b)                   dynamicChat.meetingBooked, +01:00           event 05:01:05 UTC
part-00000:7                       line 2 re-ingested                          duplicate of (a)
part-00000:8                       "2026-11-03 05:01:30.0" (no offset)         event 05:01:30 UTC, noted
part-00000:9                       no timestamp                                rejected, missing time
part-00000:11                      cut row (line 10 is blank)                  rejected, malformed JSON
query-result:1                     dynamicChat.liveChatRequested               event 15:14:00 UTC
query-result:2                     web.webpagedetails.pageViews                ignored
query-result:3                     dynamicChat.liveChatInitiated               event 15:14:20.500 UTC
query-result:4                     the _id of (b)                              duplicate of (b)
=================================  ==========================================  ===============================

14 records = 7 events + 2 rejected + 2 duplicates + 3 ignored.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.io import _xdm
from chatanalytics.io._files import read_head

DATA = Path(__file__).resolve().parents[1] / "data" / "aep_xdm"
PART = DATA / "part-00000-5d1c7e2a-c000.json"
ARRAY = DATA / "query-result.json"
A = "21787385749305120353584658023916481633"
C = "55501266237418874022391806663381274409"
ID = "4f5e9a70-1c2b-4d3e-8f90-a1b2c3d4e0"
PRICING = "https://www.example.com/pricing"

EXPECTED = pd.DataFrame(
    {
        "event_time_utc": pd.to_datetime(
            [
                "2026-11-03 04:58:00.250",
                "2026-11-03 04:59:10.500",
                "2026-11-03 05:00:40.000",
                "2026-11-03 05:01:05.000",
                "2026-11-03 05:01:30.000",
                "2026-11-03 15:14:00.000",
                "2026-11-03 15:14:20.500",
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
        "session_id": ["sid-a1"] * 5 + ["sid-b2"] * 2,
        "conversation_id": ["4471902"] * 5 + ["4473088"] * 2,
        "conversation_name": ["Pricing page dialogue"] * 5 + ["Demo request flow"] * 2,
        "conversation_type": ["dialogue"] * 5 + ["conversational_flow"] * 2,
        "ui_type": ["popup"] * 5 + ["chatbot"] * 2,
        "agent_id": [None, None, None, "9001", None, None, "9002"],
        "agent_name": [None, None, None, "Dana Agent", None, None, "Sam Agent"],
        "meeting_info": [
            None,
            None,
            None,
            '{"start":"2026-11-03T15:00:00Z","duration":30,"host":"Dana Agent","email":"[redacted]"}',
            None,
            None,
            None,
        ],
        "visitor_id": [A] * 5 + [C] * 2,
        "page_url": [PRICING, PRICING, f"{PRICING}?email=[redacted]", PRICING, PRICING]
        + ["https://www.example.com/demo"] * 2,
        "analytics_session_id": [None] * 7,
        "event_id": [
            f"{ID}02",
            f"{ID}03",
            f"{ID}05",
            f"{ID}06",
            f"{ID}08",
            "9b1d4c22-7e0f-4a55-b6c1-0f9e8d7c6b01",
            "9b1d4c22-7e0f-4a55-b6c1-0f9e8d7c6b03",
        ],
        "event_count": [1] * 7,
        "time_granularity": ["exact"] * 7,
        "source_record": [2, 3, 5, 6, 8, 1, 3],
    }
)


def read(paths=(PART, ARRAY), **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(list(paths) if isinstance(paths, tuple) else paths, **kw)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True).copy()
    for c in frame.columns:
        if c not in ("event_time_utc", "source_record", "event_count"):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    frame["source_record"] = frame["source_record"].astype(int)
    frame["event_count"] = frame["event_count"].astype(int)
    return frame


def test_fixture_rows_worked_out_by_hand():
    events = read(str(DATA / "*.json"))  # detected from content, read in sorted order
    ca.validate_events(events)
    pd.testing.assert_frame_equal(_plain(events[list(EXPECTED.columns)]), _plain(EXPECTED), check_dtype=False)
    assert set(events["source_format"].astype(str)) == {"aep_xdm"}
    names = [Path(f).name for f in events["source_file"]]
    assert names == [PART.name] * 5 + [ARRAY.name] * 2


def test_load_report_accounts_for_every_record():
    report = ca.load_report(read())
    assert report.counts() == {
        "records": 14,
        "events": 7,
        "rejected": 2,
        "duplicates": 2,
        "ignored": 3,
        "derived": 0,
    }
    files = report.files
    assert files["records"].tolist() == [10, 4]
    assert (
        files["records"] == files["events"] + files["rejected"] + files["duplicates"] + files["ignored"]
    ).all()
    assert files["source_format"].tolist() == ["aep_xdm", "aep_xdm"]
    assert report.rejected[["source_record", "reason"]].values.tolist() == [
        [9, "missing time"],
        [11, "malformed JSON"],
    ]
    assert report.rejected["raw"].iloc[1].endswith('"ECID":[{"id":"2178738574930')
    ign = report.ignored
    assert ign["source_record"].tolist() == [1, 4, 2]
    assert ign["event_name"].tolist() == [
        "web.webpagedetails.pageViews",
        "web.webinteraction.linkClicks (Download brochure)",
        "web.webpagedetails.pageViews",
    ]
    dup = report.duplicates
    assert dup["source_record"].tolist() == [7, 4]
    assert dup["duplicate_of_record"].tolist() == [2, 6]
    assert dup["duplicate_of_file"].str.endswith("part-00000-5d1c7e2a-c000.json").all()
    assert dup["source_file"].str.endswith("query-result.json").tolist() == [False, True]
    assert dup["reason"].unique().tolist() == ["same event_id"]
    assert dup["event_id"].tolist() == [f"{ID}02", f"{ID}06"]
    assert any(n.endswith("1 timestamp(s) carried no UTC offset and were read as UTC") for n in report.notes)


def test_duplicates_warn():
    with pytest.warns(ca.DataQualityWarning, match="dropped 2 duplicate"):
        ca.read_events([PART, ARRAY])


def test_no_email_address_reaches_the_frame():
    events = read()
    text = events.select_dtypes(exclude=["datetime64[us, UTC]"]).astype(str)
    assert not text.apply(lambda col: col.str.contains("@|%40", regex=True)).any().any()
    assert "jane.doe" not in " ".join(events["visitor_id"].tolist())  # the Email identity is never read
    report = ca.load_report(events)
    assert "page_url: contact details redacted in 1 row(s)" in report.notes
    assert "meeting_info: contact details redacted in 1 row(s)" in report.notes


def test_xdm_path_plan_reads_that_path_only():
    plan = ca.TrackingPlan.from_dict({"websdk": {"xdm_path": "_acme.dynamicChat"}})
    events = read(PART, plan=plan)
    want = _plain(EXPECTED.iloc[:5])
    got = _plain(events[list(EXPECTED.columns)])
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # the array file has its fields at the top level: typed from eventType, no chat fields under the path
    arr = read(ARRAY, plan=plan)
    assert arr["event_type"].astype(str).tolist() == [
        "CONVERSATION_LIVE_CHAT_REQUESTED",
        "CONVERSATION_LIVE_CHAT_INITIATED",
        "CONVERSATION_MEETING_BOOKED",
    ]
    assert arr["conversation_id"].isna().all() and arr["session_id"].isna().all()
    assert arr["event_id"].tolist()[:2] == EXPECTED["event_id"].tolist()[5:]


def test_event_type_sources_and_renamed_events(tmp_path):
    """eventType first, then the link name, then the action field; a plan's own names are read."""
    base = {"_id": "x1", "timestamp": "2026-11-04T10:00:00Z", "identityMap": {"ECID": [{"id": "7"}]}}
    rows = [
        {**base, "_id": "x1", "eventType": "chat.engaged"},
        {
            **base,
            "_id": "x2",
            "eventType": "web.webinteraction.linkClicks",
            "web": {"webInteraction": {"name": "DC closed"}},
        },
        {
            **base,
            "_id": "x3",
            "eventType": "web.webinteraction.linkClicks",
            "_t": {"dynamicChat": {"eventName": "dc closed"}},
        },
        {
            **base,
            "_id": "x4",
            "eventType": "commerce.purchases",
            "_t": {"dynamicChat": {"eventName": "chat_minimised"}},
        },
    ]
    path = tmp_path / "rows.json"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    plan = ca.TrackingPlan.from_dict(
        {
            "websdk": {
                "events": {"CONVERSATION_ENGAGED": "chat.engaged"},
                "link_names": {"CONVERSATION_CLOSED": "DC closed"},
            }
        }
    )
    events = read(path, plan=plan)
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_ENGAGED",
        "CONVERSATION_CLOSED",
        "CONVERSATION_CLOSED",
    ]
    assert events["visitor_id"].tolist() == ["7"] * 3
    assert ca.load_report(events).ignored["event_name"].tolist() == [
        "commerce.purchases (eventName=chat_minimised)"
    ]
    # with the default plan, only the unknown eventTypes are ignored: none of these names is the snippet's
    default = ca.load_report(read(path))
    assert default.counts()["events"] == 0
    assert default.ignored["event_name"].tolist() == [
        "chat.engaged",
        "web.webinteraction.linkClicks (DC closed)",
        "web.webinteraction.linkClicks (eventName=dc closed)",
        "commerce.purchases (eventName=chat_minimised)",
    ]


def test_rejections_and_times(tmp_path):
    ok = {"_id": "r", "eventType": "dynamicChat.conversationClosed"}
    lines = [
        json.dumps({**ok, "_id": "r1", "timestamp": "2026-11-04T10:00:00.123+05:30"}),
        json.dumps({**ok, "_id": "r2", "timestamp": "1793790001250"}),  # epoch milliseconds
        json.dumps({**ok, "_id": "r3", "timestamp": "soon"}),
        json.dumps({**ok, "_id": "r4"}),
        json.dumps({**ok, "_id": "r5", "timestamp": None}),
        json.dumps({"_id": "r6", "timestamp": "soon", "eventType": "web.webpagedetails.pageViews"}),
        "[1, 2]",
        "",
        '{"_id": "r7", "timestamp": ',
    ]
    path = tmp_path / "rows.json"
    path.write_text("\n".join(lines) + "\n")
    events = read(path, format="aep_xdm")
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(["2026-11-04 04:30:00.123", "2026-11-04 11:00:01.250"], utc=True)
    )
    report = ca.load_report(events)
    assert report.rejected[["source_record", "reason"]].values.tolist() == [
        [3, "unparseable time"],
        [4, "missing time"],
        [5, "missing time"],
        [7, "not a JSON object"],
        [9, "malformed JSON"],
    ]
    assert report.ignored[["source_record", "event_name"]].values.tolist() == [
        [6, "web.webpagedetails.pageViews"]
    ]
    assert report.counts()["records"] == 8


def test_gzip_and_truncated_gzip(tmp_path):
    gz = tmp_path / "part-00000.json.gz"
    gz.write_bytes(gzip.compress(PART.read_bytes()))
    events = read(gz)
    assert events["event_id"].tolist() == EXPECTED["event_id"].tolist()[:5]
    assert ca.load_report(events).counts() == {
        "records": 10,
        "events": 5,
        "rejected": 2,
        "duplicates": 1,
        "ignored": 2,
        "derived": 0,
    }
    # the first six lines, whole, then a seventh line of 256 hex digits whose stream is cut 10 bytes short
    head = b"".join(PART.read_bytes().splitlines(keepends=True)[:6])
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gzip.compress(head + b'{"_id":"' + hashlib.sha512(b"x").hexdigest().encode() * 2)[:-10])
    report = ca.load_report(read(cut))
    assert report.counts() == {
        "records": 7,
        "events": 4,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 2,
        "derived": 0,
    }
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[7, "malformed JSON"]]
    assert any(
        n.endswith("the gzip stream ends early (truncated file); read up to line 7") for n in report.notes
    )
    arr = tmp_path / "query-result.json.gz"
    arr.write_bytes(gzip.compress(ARRAY.read_bytes())[:-40])
    with pytest.raises(ca.LoaderError, match=r"query-result\.json\.gz.*truncated") as err:
        ca.read_events(arr)
    assert err.value.path == str(arr)


def test_detection_does_not_take_other_formats():
    others = [
        *sorted((DATA.parent / "ga4_bigquery").glob("*.json")),
        DATA.parent / "datalayer" / "capture.json",
        DATA.parent / "datalayer" / "capture.ndjson",
        *sorted((DATA.parent / "segment").rglob("*.gz")),
    ]
    others.append(Path(__file__).resolve().parents[2] / "data" / "sample-synthetic.jsonl.gz")
    for path in others:
        assert _xdm.sniff(path, read_head(path)) is None, path


def test_detection_of_a_row_longer_than_the_head(tmp_path):
    row = json.loads(PART.read_text().splitlines()[1])
    xdm = {k: row.pop(k) for k in ("_id", "timestamp", "eventType")}
    pad = {"device": {"note": "x" * 5000}}
    path = tmp_path / "long.json"
    path.write_text(json.dumps({**pad, **row, **xdm}) + "\n")  # _id and timestamp beyond the first 4 KiB
    assert _xdm.sniff(path, read_head(path)) is None  # its keys are not seen: not claimed
    path.write_text(json.dumps({**xdm, **pad, **row}) + "\n")
    assert _xdm.sniff(path, read_head(path)) == "aep_xdm"
    assert read(path)["event_type"].astype(str).tolist() == ["CONVERSATION_TRIGGERED"]


def test_bad_input_raises_loader_error(tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff\xfe garbage\n{{{\n\xc3\x28\n")
    with pytest.raises(ca.LoaderError, match=r"garbage\.json does not look like") as err:
        ca.read_events(garbage, format="aep_xdm")
    assert err.value.path == str(garbage)
    capture = tmp_path / "capture.jsonl"  # the wrong format, forced
    capture.write_text('{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED", "payload": {}}\n')
    with pytest.raises(ca.LoaderError, match="XDM ExperienceEvent"):
        ca.read_events(capture, format="aep_xdm")
    segment = next((DATA.parent / "segment").rglob("1793664000000.*.gz"))
    with pytest.raises(ca.LoaderError, match="does not look like"):
        ca.read_events(segment, format="aep_xdm")
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(ca.EmptyDataError):
        ca.read_events(empty, format="aep_xdm")
    assert ca.load_report(read([empty, PART], format="aep_xdm")).files["records"].tolist() == [0, 10]
    broken = tmp_path / "broken.json"
    broken.write_text(ARRAY.read_text()[:-60])
    with pytest.raises(ca.LoaderError, match=r"broken\.json: malformed or truncated JSON"):
        ca.read_events(broken)
    parquet = DATA.parent / "ga4_bigquery" / "parquet" / "events_20261103.parquet"
    with pytest.raises(ca.LoaderError, match="is a Parquet file"):
        ca.read_events(parquet, format="aep_xdm")
