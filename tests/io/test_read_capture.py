"""read_events on the capture format: hand-written files with hand-worked expectations."""

from __future__ import annotations

import gzip
import json
import re
import warnings
import zlib

import numpy as np
import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.schema import COLUMNS, STRING
from tests.conftest import capture_line as line

T0 = "2026-11-02T09:00:00.000Z"


def read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(path, **kw)


def counts(events):
    return ca.load_report(events).counts()


def test_valid_records_become_typed_canonical_events(write):
    path = write(
        "a.jsonl",
        [
            line(
                "2026-11-02T09:00:00.120+01:00",
                "CONVERSATION_TRIGGERED",
                name="Pricing",
                id=4471902,
                type="Dialogue",
                uiType="POPUP",
                sid="s1",
                top_page_url="https://www.example.com/p",
                top_visitor_id="v1",
            ),
            line(
                "2026-11-02T03:00:05-05:00",
                "CONVERSATION_LIVE_CHAT_INITIATED",
                id="4471902",
                sid="s1",
                agentName="Ana",
                agentID=1042,
                type="conversation flow",
                uiType="chatbot",
            ),
            line(
                "2026-11-02T08:00:09Z",
                "conversation_meeting_booked",
                id=4471902.0,
                sid="s1",
                agentID="1042",
                meetingInfo={"meetingId": "m-1", "durationMinutes": 30},
            ),
        ],
    )
    ev = ca.read_events(path)
    ca.validate_events(ev)
    assert list(ev.columns) == list(COLUMNS)
    # 09:00:00.120+01:00 -> 08:00:00.120Z; 03:00:05-05:00 -> 08:00:05Z
    assert ev["event_time_utc"].tolist() == [
        pd.Timestamp("2026-11-02 08:00:00.120", tz="UTC"),
        pd.Timestamp("2026-11-02 08:00:05", tz="UTC"),
        pd.Timestamp("2026-11-02 08:00:09", tz="UTC"),
    ]
    assert ev["event_type"].tolist() == [
        "CONVERSATION_TRIGGERED",
        "CONVERSATION_LIVE_CHAT_INITIATED",
        "CONVERSATION_MEETING_BOOKED",
    ]
    assert ev["conversation_id"].tolist() == ["4471902"] * 3
    assert ev["agent_id"].tolist()[1:] == ["1042", "1042"]
    assert ev["conversation_type"].tolist()[:2] == ["dialogue", "conversational_flow"]
    assert ev["ui_type"].tolist()[:2] == ["popup", "chatbot"]
    assert json.loads(ev["meeting_info"].iloc[2]) == {"meetingId": "m-1", "durationMinutes": 30}
    assert ev["source_record"].tolist() == [1, 2, 3]
    assert ev["source_file"].tolist() == [str(path)] * 3
    assert ev["source_format"].tolist() == ["capture"] * 3
    assert ev["time_granularity"].tolist() == ["exact"] * 3
    assert ev["event_count"].tolist() == [1, 1, 1]
    assert ev["page_url"].iloc[0] == "https://www.example.com/p" and ev["visitor_id"].iloc[0] == "v1"
    assert all(ev[c].dtype == STRING for c, d in COLUMNS.items() if d is STRING)
    assert counts(ev) == {
        "records": 3,
        "events": 3,
        "rejected": 0,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }


BAD = [
    (b'{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED", "payload": {', "malformed JSON"),
    (b"[1, 2, 3]", "not a JSON object"),
    (b'{"event": "CONVERSATION_ENGAGED", "payload": {"sid": "s1"}}', "missing time"),
    (b'{"ts": "", "event": "CONVERSATION_ENGAGED"}', "missing time"),
    (b'{"ts": "yesterday at noon", "event": "CONVERSATION_ENGAGED"}', "unparseable time"),
    (b'{"ts": "2026-11-02T09:00:00Z", "payload": {"sid": "s1"}}', "missing event name"),
    (
        b'{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED", "payload": {"name": "caf\xe9"}}',
        "non-UTF-8 bytes",
    ),
]


@pytest.mark.parametrize(("raw", "reason"), BAD, ids=[r for _, r in BAD])
def test_each_bad_record_is_rejected_with_file_line_and_reason(write, raw, reason):
    good = line(T0, "CONVERSATION_TRIGGERED", sid="s1", id="c1").encode()
    path = write("bad.jsonl", [good, raw, good.replace(b"TRIGGERED", b"ENGAGED")])
    with pytest.warns(ca.DataQualityWarning, match="rejected 1"):
        ev = ca.read_events(path)
    rep = ca.load_report(ev)
    assert rep.counts() == {
        "records": 3,
        "events": 2,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }
    assert ev["source_record"].tolist() == [1, 3]
    row = rep.rejected.iloc[0]
    assert (row["source_file"], row["source_record"], row["reason"]) == (str(path), 2, reason)
    assert row["raw"] == raw.decode("utf-8", "backslashreplace")


def test_truncated_last_line_is_rejected_and_the_rest_kept(write):
    full = line(T0, "CONVERSATION_ENGAGED", sid="s2", id="c1")
    path = write(
        "t.jsonl",
        [line(T0, "CONVERSATION_TRIGGERED", sid="s2", id="c1"), full[: len(full) // 2]],
        newline_at_end=False,
    )
    ev = read(path)
    rep = ca.load_report(ev)
    assert rep.counts() == {
        "records": 2,
        "events": 1,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }
    assert rep.rejected[["source_record", "reason"]].values.tolist() == [[2, "malformed JSON"]]


def test_unknown_event_names_are_ignored_and_listed_by_name(write):
    path = write(
        "i.jsonl",
        [
            line(T0, "CONVERSATION_TRIGGERED", sid="s1"),
            line(T0, "CONVERSATION_ENGAGD", sid="s1"),
            line("2026-11-02T09:00:01Z", "CONVERSATION_ENGAGD", sid="s1"),
            line(T0, "gtm.js"),
        ],
    )
    ev = ca.read_events(path)  # ignoring is not a data-quality problem: no warning
    rep = ca.load_report(ev)
    assert rep.counts() == {
        "records": 4,
        "events": 1,
        "rejected": 0,
        "duplicates": 0,
        "ignored": 3,
        "derived": 0,
    }
    assert rep.ignored_names().values.tolist() == [["CONVERSATION_ENGAGD", 2], ["gtm.js", 1]]
    assert rep.ignored["source_record"].tolist() == [2, 3, 4]
    assert "CONVERSATION_ENGAGD: 2" in repr(rep)


def test_duplicates_by_natural_key_keep_the_first_read_across_files(write):
    a = line(T0, "CONVERSATION_TRIGGERED", sid="s1", id="c1")
    b = line(T0, "CONVERSATION_ENGAGED", sid="s1", id="c1")
    other_agent = line(T0, "CONVERSATION_LIVE_CHAT_INITIATED", sid="s1", id="c1", agentID="7")
    p1 = write("d/1.jsonl", [a, b, other_agent])
    write("d/2.jsonl", [b, line(T0, "CONVERSATION_LIVE_CHAT_INITIATED", sid="s1", id="c1", agentID="8"), a])
    with pytest.warns(ca.DataQualityWarning, match="dropped 2 duplicate"):
        ev = ca.read_events(p1.parent)
    rep = ca.load_report(ev)
    # file 2: line 1 repeats 1.jsonl:2, line 3 repeats 1.jsonl:1; line 2 differs by agent, so it is kept
    assert rep.counts() == {
        "records": 6,
        "events": 4,
        "rejected": 0,
        "duplicates": 2,
        "ignored": 0,
        "derived": 0,
    }
    d = rep.duplicates
    assert d["source_record"].tolist() == [1, 3]
    assert d["duplicate_of_record"].tolist() == [2, 1]
    assert d["duplicate_of_file"].tolist() == [str(p1), str(p1)]
    assert set(d["reason"]) == {"same type, time, session, conversation and agent"}
    assert rep.files[["records", "events", "duplicates"]].values.tolist() == [[3, 3, 0], [3, 1, 2]]


def test_duplicates_by_event_id_even_when_other_fields_differ(write):
    path = write(
        "e.jsonl",
        [
            json.dumps(
                {"ts": T0, "event": "CONVERSATION_ENGAGED", "event_id": "e-1", "payload": {"sid": "s1"}}
            ),
            json.dumps(
                {
                    "ts": "2026-11-02T09:00:03Z",
                    "event": "CONVERSATION_ENGAGED",
                    "event_id": "e-1",
                    "payload": {"sid": "s1"},
                }
            ),
            json.dumps(
                {"ts": T0, "event": "CONVERSATION_ENGAGED", "event_id": "e-2", "payload": {"sid": "s1"}}
            ),
        ],
    )
    ev = read(path)
    rep = ca.load_report(ev)
    assert ev["event_id"].tolist() == ["e-1", "e-2"]
    assert rep.duplicates["reason"].tolist() == ["same event_id"]
    assert rep.duplicates["duplicate_of_record"].tolist() == [1]


def test_the_four_counts_add_up_on_a_mixed_file(write):
    lines = [
        line(T0, "CONVERSATION_TRIGGERED", sid="s1"),
        line(T0, "CONVERSATION_TRIGGERED", sid="s1"),  # duplicate
        b"not json at all",  # rejected
        line(T0, "NOT_A_CHAT_EVENT", sid="s1"),  # ignored
        b"",  # blank lines are not records
        b"   ",
        line("2026-11-02T10:00:00Z", "CONVERSATION_CLOSED", sid="s1"),
    ]
    ev = read(write("m.jsonl", lines))
    c = counts(ev)
    assert c == {"records": 5, "events": 2, "rejected": 1, "duplicates": 1, "ignored": 1, "derived": 0}
    assert ev["source_record"].tolist() == [1, 7]
    assert ca.load_report(ev).rejected["source_record"].tolist() == [3]


def test_gzip_glob_directory_and_list_inputs(write, tmp_path):
    lines = [line(T0, "CONVERSATION_TRIGGERED", sid=f"s{i}") for i in range(5)]
    write("logs/2026-11/a.jsonl.gz", lines[:3])
    write("logs/2026-11/b.jsonl", lines[3:])
    write("logs/2026-11/README.txt", [b"not data"])
    by_glob = ca.read_events(str(tmp_path / "logs/2026-11/*.jsonl*"))
    by_dir = ca.read_events(tmp_path / "logs")
    by_list = ca.read_events([tmp_path / "logs/2026-11/a.jsonl.gz", tmp_path / "logs/2026-11/b.jsonl"])
    for ev in (by_glob, by_dir, by_list):
        assert ev["session_id"].tolist() == ["s0", "s1", "s2", "s3", "s4"]
        assert ev["source_record"].tolist() == [1, 2, 3, 1, 2]


def test_a_file_named_twice_is_read_once(write):
    path = write("x.jsonl", [line(T0, "CONVERSATION_TRIGGERED", sid="s1")])
    ev = ca.read_events([path, str(path)])
    assert len(ev) == 1
    assert any("named more than once" in n for n in ca.load_report(ev).notes)


def test_gzip_reads_exactly_like_plain_text(write):
    """The isolation path (gzip) and the fast path (plain) agree on every column."""
    lines = [
        line(
            "2026-11-02T09:00:00.5+02:00",
            "CONVERSATION_TRIGGERED",
            sid="s1",
            id=12.0,
            name="N",
            type="dialog",
        ),
        line(T0, "CONVERSATION_MEETING_BOOKED", sid="s1", id="12", agentID=3, meetingInfo={"a": [1, 2]}),
        line(T0, "UNKNOWN", sid="s1"),
        json.dumps({"ts": T0, "event": "CONVERSATION_CLOSED", "data": {"payload": {"sid": "s9", "id": 5}}}),
        line("2026-11-02T09:00:00", "CONVERSATION_ENGAGED", sid="", id="12", agentName=""),
    ]
    plain = read(write("p.jsonl", lines))
    gz = read(write("p.jsonl.gz", lines))
    cols = [c for c in COLUMNS if c != "source_file"]
    pd.testing.assert_frame_equal(plain[cols], gz[cols])
    assert ca.load_report(plain).counts() == ca.load_report(gz).counts()
    assert plain["session_id"].isna().tolist() == [False, False, False, True]
    assert plain["conversation_id"].tolist() == ["12", "12", "5", "12"]


def test_bare_event_data_objects_are_read(write):
    path = write(
        "d.jsonl",
        [
            json.dumps(
                {"ts": T0, "event": "CONVERSATION_ENGAGED", "data": {"payload": {"sid": "s1", "id": 7}}}
            ),
            json.dumps(
                {
                    "data": {
                        "ts": T0,
                        "event": "CONVERSATION_CLOSED",
                        "payload": {"sid": "s1", "id": 7},
                        "page_url": "https://www.example.com/",
                    }
                }
            ),
        ],
    )
    ev = ca.read_events(path)
    assert ev["event_type"].tolist() == ["CONVERSATION_ENGAGED", "CONVERSATION_CLOSED"]
    assert ev["session_id"].tolist() == ["s1", "s1"]
    assert ev["conversation_id"].tolist() == ["7", "7"]
    assert ev["page_url"].iloc[1] == "https://www.example.com/"


def test_times_without_offset_are_read_as_utc_and_noted(write):
    ev = ca.read_events(write("n.jsonl", [line("2026-11-02T09:00:00", "CONVERSATION_ENGAGED", sid="s1")]))
    assert ev["event_time_utc"].iloc[0] == pd.Timestamp("2026-11-02 09:00", tz="UTC")
    assert any("no UTC offset" in n for n in ca.load_report(ev).notes)


def test_truncated_gzip_keeps_what_was_there_and_says_so(write, tmp_path):
    lines = [line(T0, "CONVERSATION_TRIGGERED", sid=f"s{i}", name="x" * 50) for i in range(200)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    ev = read(path)
    rep = ca.load_report(ev)
    c = rep.counts()
    assert 0 < c["events"] < 200
    assert c["records"] == c["events"] + c["rejected"]
    assert any("gzip stream ends early" in n for n in rep.notes)


def test_concatenated_gzip_members_are_all_read(tmp_path):
    path = tmp_path / "multi.jsonl.gz"
    path.write_bytes(
        gzip.compress((line(T0, "CONVERSATION_TRIGGERED", sid="a") + "\n").encode())
        + gzip.compress((line(T0, "CONVERSATION_TRIGGERED", sid="b") + "\n").encode())
    )
    ev = ca.read_events(path)
    assert ev["session_id"].tolist() == ["a", "b"]
    assert ca.load_report(ev).notes == ()


def test_a_complete_gzip_file_has_no_notes_and_garbage_after_it_is_reported(write, tmp_path):
    lines = [line(T0, "CONVERSATION_TRIGGERED", sid=f"s{i}") for i in range(3)]
    ev = ca.read_events(write("ok.jsonl.gz", lines))
    assert ca.load_report(ev).notes == ()
    path = tmp_path / "tail.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()) + b"this is not gzip")
    with pytest.warns(ca.DataQualityWarning, match="rejected 1"):
        ev = ca.read_events(path)
    rep = ca.load_report(ev)
    assert len(ev) == 3
    assert rep.rejected[["source_record", "reason"]].values.tolist() == [[4, "unreadable compressed data"]]
    assert any("corrupt gzip data after line 3" in n for n in rep.notes)


def test_empty_inputs_raise_empty_data_error(write, tmp_path):
    with pytest.raises(ca.EmptyDataError):
        ca.read_events(write("empty.jsonl", b""))
    with pytest.raises(ca.EmptyDataError):
        ca.read_events(write("blank.jsonl", [b"", b"  ", b""]))
    with pytest.raises(ca.EmptyDataError):
        ca.read_events(write("empty.jsonl.gz", b""))
    with pytest.raises(ca.EmptyDataError):
        ca.read_events([])


def test_missing_paths_and_unknown_formats_are_clear_errors(write, tmp_path):
    with pytest.raises(ca.LoaderError, match="file not found") as err:
        ca.read_events(tmp_path / "nope.jsonl")
    assert err.value.path == str(tmp_path / "nope.jsonl")
    with pytest.raises(ca.LoaderError, match="no files match"):
        ca.read_events(str(tmp_path / "*.jsonl"))
    with pytest.raises(ca.InvalidParameterError, match="Did you mean 'capture'") as perr:
        ca.read_events(write("a.jsonl", [line(T0, "CONVERSATION_ENGAGED")]), format="captur")
    assert perr.value.allowed == list(ca.FORMATS)
    csv = write("export.csv", [b"date,events", b"20261102,5"])
    with pytest.raises(ca.LoaderError, match="known formats: capture"):
        ca.read_events(csv)


EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def test_no_email_or_phone_reaches_the_frame(write):
    path = write(
        "pii.jsonl",
        [
            line(
                T0,
                "CONVERSATION_INPUT_EMAIL",
                sid="s1",
                email="jane.doe@example.com",
                value="jane.doe@example.com",
                top_page_url="https://www.example.com/demo?utm_source=x&email=jane.doe%40example.com&id=4471902",
            ),
            line(
                T0,
                "CONVERSATION_INPUT_PHONE",
                sid="s1",
                phone="+1 555 010 0123",
                top_page_url="https://www.example.com/c?tel=%2B1%20555%20010%200123#x",
                top_visitor_id="bob@example.org",
            ),
            line(
                T0,
                "CONVERSATION_MEETING_BOOKED",
                sid="s2",
                agentName="Ana",
                agentID="9",
                meetingInfo={
                    "meetingId": "m1",
                    "attendeeEmail": "bob@example.org",
                    "phone": "5550100123",
                    "notes": "call +44 20 7946 0958",
                    "start": "2026-11-03T10:00:00Z",
                },
                top_page_url="https://www.example.com/thanks/bob@example.org",
            ),
        ],
    )
    ev = ca.read_events(path)
    text = ev[[c for c, d in COLUMNS.items() if d is STRING]].astype(object).fillna("")
    blob = "\n".join("\t".join(r) for r in text.values.tolist())
    assert not EMAIL.search(blob)
    for digits in ("5550100123", "555 010 0123", "20 7946 0958", "%2B1%20555"):
        assert digits not in blob
    assert ev["page_url"].tolist() == [
        "https://www.example.com/demo?utm_source=x&email=[redacted]&id=4471902",
        "https://www.example.com/c?tel=[redacted]#x",
        "https://www.example.com/thanks/[redacted]",
    ]
    info = json.loads(ev["meeting_info"].iloc[2])
    assert info["attendeeEmail"] == info["phone"] == "[redacted]"
    assert info["meetingId"] == "m1" and info["start"] == "2026-11-03T10:00:00Z"
    assert ev["visitor_id"].iloc[1].startswith("redacted-")
    notes = " ".join(ca.load_report(ev).notes)
    assert "page_url: contact details redacted in 3 row(s)" in notes


def test_duplicates_frame_is_scrubbed_too(write):
    rec = line(T0, "CONVERSATION_ENGAGED", sid="s1", top_page_url="https://x.example/?e=a%40b.com")
    ev = read(write("dd.jsonl", [rec, rec]))
    dup = ca.load_report(ev).duplicates
    assert dup["page_url"].tolist() == ["https://x.example/?e=[redacted]"]


def test_report_prints_writes_rejected_and_survives_copies(write, tmp_path):
    bad = b'{"ts": "2026-11-02T09:00:00Z", "event": "X", "payload": {"name": "caf\xe9"'
    path = write("r.jsonl", [line(T0, "CONVERSATION_ENGAGED", sid="s1"), bad])
    ev = read(path)
    rep = ca.load_report(ev)
    assert "2 records from 1 file(s): 1 events, 1 rejected, 0 duplicates, 0 ignored" in repr(rep)
    assert "<table>" in rep._repr_html_()
    out = rep.write_rejected(tmp_path / "out" / "rejected.jsonl")
    assert out.read_bytes() == bad + b"\n"
    assert ca.load_report(ev.copy()) is rep
    assert ca.load_report(ev[ev["session_id"] == "s1"]) is rep
    ev.to_parquet(tmp_path / "e.parquet")  # the report does not break Parquet export
    with pytest.raises(ca.InvalidParameterError, match="no load report"):
        ca.load_report(ca.make_events([{"event_time_utc": T0, "event_type": "engaged"}]))


def test_parquet_round_trip_keeps_every_column_and_provenance(write, tmp_path):
    src = write(
        "src.jsonl",
        [
            line(
                T0, "CONVERSATION_TRIGGERED", sid="s1", id=4471902, name="N", type="dialogue", uiType="popup"
            ),
            line(
                "2026-11-02T09:01:00Z", "CONVERSATION_LIVE_CHAT_REQUESTED", sid="s1", id=4471902, agentID="9"
            ),
        ],
    )
    ev = ca.read_events(src)
    ev.to_parquet(tmp_path / "events.parquet")
    back = ca.read_events(tmp_path / "events.parquet")
    pd.testing.assert_frame_equal(back, ev, check_categorical=False)
    assert back["source_file"].tolist() == [str(src)] * 2  # points at the original export
    assert ca.load_report(back).files["source_format"].tolist() == ["parquet"]


def test_parquet_without_the_required_columns_is_refused(tmp_path):
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(ca.LoaderError, match="lacks event_time_utc, event_type"):
        ca.read_events(tmp_path / "x.parquet")


def test_parquet_rows_without_time_or_type_are_rejected(tmp_path):
    ev = ca.make_events(
        [
            {"event_time_utc": T0, "event_type": "engaged", "session_id": "s1"},
            {"event_time_utc": T0, "event_type": "closed", "session_id": "s1"},
        ]
    )
    table = ev.astype({"event_type": STRING})
    table.loc[1, "event_type"] = np.nan
    table.to_parquet(tmp_path / "y.parquet")
    back = read(tmp_path / "y.parquet")
    rep = ca.load_report(back)
    assert rep.counts() == {
        "records": 2,
        "events": 1,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }
    assert rep.rejected["reason"].tolist() == ["missing event type"]


_EPOCH = pd.Timestamp("2026-11-02T09:00:00.250Z")


@pytest.mark.parametrize("name", ["epoch.jsonl", "epoch.jsonl.gz"])
def test_capture_times_as_epoch_milliseconds_or_seconds_are_read(write, name):
    """A listener that logs ``ts: Date.now()``: 13 digits are epoch milliseconds, 10 digits epoch seconds
    (as numbers or text, as the dataLayer format reads them); 12 digits are no time."""
    path = write(
        name,
        [
            json.dumps({"ts": 1793610000250, "event": "CONVERSATION_TRIGGERED", "payload": {"sid": "s1"}}),
            json.dumps({"ts": "1793610060", "event": "CONVERSATION_ENGAGED", "payload": {"sid": "s1"}}),
            json.dumps({"ts": 179361006012, "event": "CONVERSATION_ENGAGED", "payload": {"sid": "s1"}}),
        ],
    )
    events = read(path)
    assert events["event_time_utc"].tolist() == [_EPOCH, pd.Timestamp("2026-11-02T09:01:00Z")]
    rep = ca.load_report(events)
    assert rep.rejected[["source_record", "reason"]].values.tolist() == [[3, "unparseable time"]]
    assert rep.notes == ()  # epoch times carry no offset to miss


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ([1793610000, 1793610060], "seconds"),
        ([1793610000.25, 1793610060.0], "seconds"),
        ([1793610000250, 1793610060000], "milliseconds"),
        ([1793610000250000, 1793610060000000], "microseconds"),
        ([1793610000250000000, 1793610060000000000], "nanoseconds"),
    ],
    ids=["s", "s-float", "ms", "us", "ns"],
)
def test_parquet_epoch_numbers_are_read_in_the_unit_their_size_says(tmp_path, values, unit):
    """``event_time_utc`` written as epoch numbers (a JavaScript pipeline's ``Date.now()``, say): the
    unit is told by their size and named in a note. They were read as microseconds: a millisecond time
    of 2026 became 1970-01-21, with nothing said."""
    frame = pd.DataFrame(
        {"event_time_utc": values, "event_type": ["CONVERSATION_TRIGGERED", "CONVERSATION_ENGAGED"]}
    )
    frame.to_parquet(tmp_path / "epoch.parquet")
    events = read(tmp_path / "epoch.parquet")
    whole_seconds = unit == "seconds" and isinstance(values[0], int)
    first = _EPOCH.floor("s") if whole_seconds else _EPOCH
    assert events["event_time_utc"].tolist() == [first, pd.Timestamp("2026-11-02T09:01:00Z")]
    assert ca.load_report(events).notes == (
        f"{tmp_path / 'epoch.parquet'}: event_time_utc holds numbers, read as epoch {unit} by their size",
    )


def test_parquet_text_times_that_are_no_time_reject_their_row_only(tmp_path):
    """One unparseable text time no longer fails the whole file: its row is rejected, a null one is a
    missing time, and the others (any offset; none is UTC) are read."""
    frame = pd.DataFrame(
        {
            "event_time_utc": ["2026-11-02T10:00:00.250+01:00", "yesterday", None, "2026-11-02 09:01:00"],
            "event_type": ["CONVERSATION_TRIGGERED"] * 4,
            "session_id": ["s1", "s2", "s3", "s4"],
        }
    )
    frame.to_parquet(tmp_path / "text.parquet")
    events = read(tmp_path / "text.parquet")
    rep = ca.load_report(events)
    assert rep.rejected[["source_record", "reason"]].values.tolist() == [
        [2, "unparseable time"],
        [3, "missing time"],
    ]
    assert events["event_time_utc"].tolist() == [_EPOCH, pd.Timestamp("2026-11-02T09:01:00Z")]
    assert events["session_id"].tolist() == ["s1", "s4"]


def test_parquet_checks_keep_record_numbers_with_plain_and_dictionary_event_types(tmp_path):
    """The same rows stored with ``event_type`` and ``time_granularity`` as text and as dictionaries:
    row 2 has no time (rejected), row 3 an unknown type (ignored), row 4 no type (rejected), row 5 an
    unknown granularity (read as exact). The records keep their row numbers in the report.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = pd.Timestamp(T0).to_pydatetime()
    times = pa.array([t0, None, t0, t0, t0], pa.timestamp("us", tz="UTC"))
    types = [
        "CONVERSATION_ENGAGED",
        "CONVERSATION_ENGAGED",
        "CONVERSATION_TELEPORTED",
        None,
        "CONVERSATION_CLOSED",
    ]
    grans = ["minute", "exact", "exact", "exact", "fortnight"]
    for encode in (False, True):
        t = pa.array(types, pa.large_string())
        g = pa.array(grans, pa.large_string())
        if encode:
            t, g = t.dictionary_encode(), g.dictionary_encode()
        table = pa.table({"event_time_utc": times, "event_type": t, "time_granularity": g,
                          "session_id": pa.array(["s1", "s2", "s3", "s4", "s5"])})  # fmt: skip
        path = tmp_path / f"z{int(encode)}.parquet"
        pq.write_table(table, path)
        ev = read(path)
        rep = ca.load_report(ev)
        assert ev["session_id"].tolist() == ["s1", "s5"]
        assert ev["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED", "CONVERSATION_CLOSED"]
        assert ev["time_granularity"].astype(str).tolist() == ["minute", "exact"]
        assert rep.rejected[["source_record", "reason"]].values.tolist() == [
            [2, "missing time"],
            [4, "missing event type"],
        ]
        assert rep.ignored[["source_record", "event_name"]].values.tolist() == [
            [3, "CONVERSATION_TELEPORTED"]
        ]


def test_repeated_hashes_are_found_at_every_position():
    """Positions of the key hashes that occur more than once, checked against counting in Python."""
    from collections import Counter

    from chatanalytics.io._read import _repeated

    rng = np.random.default_rng(3)
    for hashes in (
        rng.integers(0, 50, 300).astype(np.uint64),
        rng.integers(0, 2**63, 1000, dtype=np.int64).astype(np.uint64),
        np.array([2**64 - 1, 0, 2**64 - 1, 5, 0], dtype=np.uint64),
        np.array([], dtype=np.uint64),
    ):
        seen = Counter(hashes.tolist())
        expected = [i for i, h in enumerate(hashes.tolist()) if seen[h] > 1]
        assert _repeated(hashes).tolist() == expected


def test_a_plain_file_that_happens_to_start_with_the_gzip_magic_number(write):
    """Found by the property test: such a file is read as the text it is, not as a corrupt gzip."""
    good = line(T0, "CONVERSATION_TRIGGERED", sid="s1")
    ev = read(write("odd.jsonl", [b"\x1f\x8b", good]))
    rep = ca.load_report(ev)
    assert rep.counts() == {
        "records": 2,
        "events": 1,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }
    assert rep.rejected["reason"].tolist() == ["non-UTF-8 bytes"]  # 0x8b alone is not UTF-8
    assert rep.notes == ()


@pytest.mark.parametrize("release_after", [None, 1], ids=["shared", "released-by-every-read"])
def test_reads_in_threads_at_once_give_what_each_gives_alone(tmp_path, monkeypatch, release_after):
    """Reads share one DuckDB database, each on its own connection: files read at the same time in
    threads (the same table names registered by each) give the frames and reports of reads one by one,
    also when every read lets the database go while the others still read from it."""
    from concurrent.futures import ThreadPoolExecutor

    from chatanalytics.io import _read

    if release_after is not None:
        monkeypatch.setattr(_read, "RELEASE_AFTER_RECORDS", release_after)

    paths = []
    for i in range(6):
        path = tmp_path / f"s{i}.jsonl.gz"
        ca.simulate(200 + 50 * i, seed=i, path=path)  # SYNTHETIC
        paths.append(path)
    alone = [ca.read_events(p, warn=False) for p in paths]
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(lambda p: ca.read_events(p, warn=False), paths * 2))
    for frame, expected in zip(together, alone * 2, strict=True):
        pd.testing.assert_frame_equal(frame, expected)
        assert counts(frame) == counts(expected)


def test_a_large_read_gives_back_the_readers_database(tmp_path, monkeypatch):
    """DuckDB's threads keep the memory they freed until their database closes: a read of at least
    RELEASE_AFTER_RECORDS records, or one that fails, lets the readers' database go (the next read opens
    a new one); a smaller read leaves it open for the next."""
    from chatanalytics.io import _read, _sql

    path = tmp_path / "s.jsonl"
    ca.simulate(100, seed=3, path=path)  # SYNTHETIC
    first = ca.read_events(path, warn=False)
    records = counts(first)["records"]
    assert records > 100
    held = _sql._DATABASE[0]

    monkeypatch.setattr(_read, "RELEASE_AFTER_RECORDS", records + 1)
    ca.read_events(path, warn=False)
    assert [held] == _sql._DATABASE

    monkeypatch.setattr(_read, "RELEASE_AFTER_RECORDS", records)
    again = ca.read_events(path, warn=False)
    assert _sql._DATABASE == []
    pd.testing.assert_frame_equal(again, first)
    ca.read_events(path, warn=False)  # a new database, let go again
    assert _sql._DATABASE == []

    monkeypatch.setattr(_read, "RELEASE_AFTER_RECORDS", 10**9)
    ca.read_events(path, warn=False)
    assert len(_sql._DATABASE) == 1 and _sql._DATABASE[0] is not held
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(ca.ChatAnalyticsError):
        ca.read_events(bad, warn=False)
    assert _sql._DATABASE == []


def _utf16(lines: list[str]) -> bytes:
    return "".join(x + "\r\n" for x in lines).encode("utf-16")  # PowerShell's Out-File: BOM, CRLF


def test_a_utf16_line_that_does_not_decode_is_rejected_and_the_rest_read(tmp_path):
    """A lone surrogate in line 2 of a UTF-16 file: line 2 is rejected as non-UTF-8, with its line
    number, lines 1 and 3 are events, and a note counts the sequence that did not decode."""
    lines = [
        line(T0, "CONVERSATION_TRIGGERED", sid="s1", id="c1"),
        line("2026-11-02T09:00:01Z", "CONVERSATION_ENGAGED", sid="s1", id="c1", name="X"),
        line("2026-11-02T09:00:02Z", "CONVERSATION_COMPLETED", sid="s1", id="c1"),
    ]
    data = bytearray(_utf16(lines))
    at = data.index('"X"'.encode("utf-16-le"))
    data[at + 2 : at + 4] = b"\x00\xd8"  # X -> a high surrogate that no low one follows
    path = tmp_path / "ps.jsonl"
    path.write_bytes(bytes(data))
    events = read(path)
    rep = ca.load_report(events)
    assert counts(events) == {**counts(events), "records": 3, "events": 2, "rejected": 1}
    assert rep.rejected[["source_record", "reason"]].values.tolist() == [[2, "non-UTF-8 bytes"]]
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_TRIGGERED", "CONVERSATION_COMPLETED"]
    assert rep.notes[:2] == (
        f"{path}: written in UTF-16 LE (its byte-order mark says so); read through a UTF-8 copy",
        f"{path}: 1 byte sequence(s) are not valid UTF-16 LE; each is read as a byte that is not UTF-8, "
        "so the record holding it is rejected like any record with non-UTF-8 bytes",
    )


def test_a_damaged_gzip_of_a_utf16_file_keeps_what_decompressed_and_counts_the_rest(tmp_path):
    """Corrupt compressed data after the first lines of a gzip UTF-16 file: the lines decompressed before
    the damage are events, the unreadable rest is one rejected record, and a note names the damage."""
    lines = [
        line(f"2026-11-02T09:{m:02d}:00Z", "CONVERSATION_TRIGGERED", sid=f"s{m}", id="c1") for m in range(60)
    ]
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    raw = _utf16(lines)
    first = comp.compress(raw[: len(raw) // 2]) + comp.flush(zlib.Z_FULL_FLUSH)
    rest = comp.compress(raw[len(raw) // 2 :]) + comp.flush()
    path = tmp_path / "ps.jsonl.gz"
    path.write_bytes(first + b"\xff" * 64 + rest[64:])  # the second half's first bytes overwritten
    events = read(path)
    rep = ca.load_report(events)
    c = counts(events)
    kept = raw[: len(raw) // 2].decode("utf-16", errors="ignore")
    whole = kept.count("\r\n")  # the lines that decompressed whole
    partial = not kept.endswith("\r\n")  # a line cut by the damage: rejected
    assert 0 < whole < 60
    assert (c["records"], c["events"], c["rejected"]) == (whole + partial + 1, whole, partial + 1)
    assert rep.rejected["reason"].iloc[-1] == "non-UTF-8 bytes"
    assert any(n.startswith(f"{path}: the gzip stream is damaged at byte ") for n in rep.notes)
    assert events["session_id"].tolist() == [f"s{m}" for m in range(c["events"])]  # in order, no gap


@pytest.mark.parametrize("mark", [b"\xfe\xff", b"\xff\xfe", b"\xff\xfe\x00\x00"[:3]])
def test_utf8_lines_after_a_first_line_that_looks_like_a_byte_order_mark_are_read(write, mark):
    """A damaged first line whose bytes are a UTF-16 byte-order mark does not make the file UTF-16 (no
    NUL byte follows, as UTF-16 JSON would have): that line is one rejected record, the rest are read."""
    path = write("a.jsonl", [mark, line(T0, "CONVERSATION_TRIGGERED", sid="s1", id="c1")])
    events = read(path, format="capture")
    assert counts(events) == {**counts(events), "records": 2, "events": 1, "rejected": 1}
    assert not any("UTF-16" in n for n in ca.load_report(events).notes)


def test_a_utf16_file_of_no_known_format_is_named_in_the_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("just some words\r\n".encode("utf-16"))
    with pytest.raises(ca.LoaderError, match="cannot tell the format") as err:
        read(path)
    assert str(path) in str(err.value) and err.value.path == str(path)
    assert "chatanalytics-utf8-" not in str(err.value)


def _records() -> list[str]:
    return [
        line(T0, "CONVERSATION_TRIGGERED", sid="s1", id="c1"),
        line("2026-11-02T09:00:01Z", "CONVERSATION_ENGAGED", sid="s1", id="c1"),
        line("not a time", "CONVERSATION_ENGAGED", sid="s1", id="c1"),
        line("2026-11-02T09:00:03Z", "CONVERSATION_COMPLETED", sid="s1", id="c1"),
    ]


@pytest.mark.parametrize("name", ["records.json", "records.json.gz"])
def test_a_json_array_of_records_is_detected_and_read_as_its_json_lines(write, name):
    """``copy(JSON.stringify(records))`` in DevTools: a JSON array of capture records (pretty-printed, so
    that its lines are not records) is detected as capture and reads as the same records as JSON lines,
    numbered by position; before, it was taken for a dataLayer capture and all of it ignored."""
    lines = write("records.jsonl", _records())
    pretty = json.dumps([json.loads(x) for x in _records()], indent=2)
    array = write(name, pretty.encode("utf-8"))
    got, expected = read(array), read(lines)
    assert ca.load_report(got).files["source_format"].tolist() == ["capture"]
    pd.testing.assert_frame_equal(got.drop(columns="source_file"), expected.drop(columns="source_file"))
    assert counts(got) == counts(expected) == {**counts(got), "records": 4, "events": 3, "rejected": 1}
    assert ca.load_report(got).rejected[["source_record", "reason"]].values.tolist() == [
        [3, "unparseable time"]
    ]


def test_an_array_of_bare_event_data_objects_is_capture_too(write):
    path = write(
        "data.json", ("[" + ",".join(json.dumps({"data": json.loads(x)}) for x in _records()) + "]").encode()
    )
    got = read(path)
    assert ca.load_report(got).files["source_format"].tolist() == ["capture"]
    assert counts(got)["events"] == 3


def test_an_array_of_records_that_does_not_parse_whole_is_read_line_by_line(write):
    """A truncated array, or JSON lines whose first line happens to be an array holding a record: every
    line is a record (the broken ones rejected), nothing raises, and a note says why."""
    pretty = json.dumps([json.loads(x) for x in _records()], indent=0).encode()
    cut = write("cut.json", pretty[: pretty.rindex(b"{")])  # the last record and the closing ] lost
    got = read(cut, format="capture")
    c = counts(got)
    assert c["records"] == len([x for x in pretty[: pretty.rindex(b"{")].splitlines() if x.strip()])
    assert c["events"] == 0 and c["rejected"] == c["records"]
    assert any(
        "malformed or truncated JSON" in n and "read as JSON lines" in n for n in ca.load_report(got).notes
    )
    mixed = write("mixed.jsonl", ["[" + _records()[0] + "]", *_records()[1:]])
    got = read(mixed)
    assert ca.load_report(got).rejected[["source_record", "reason"]].values.tolist() == [
        [1, "not a JSON object"],
        [3, "unparseable time"],
    ]
    assert counts(got)["events"] == 2
