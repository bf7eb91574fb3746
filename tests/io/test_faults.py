"""Injected faults in JSON-lines files: a bad line deep in a plain file, a damaged gzip check value.

A plain file is read whole by DuckDB's JSON reader, whose Arrow stream hands over 2,048 rows at a time;
a bad line in a later batch must still become one rejected record, with the rest read. A gzip member
whose CRC-32 or length disagrees with its data has decompressed whole: every line is kept, nothing that
decoded is rejected, and a note says the file was damaged.
"""

from __future__ import annotations

import gzip
import json
import warnings

import pytest

import chatanalytics as ca


def read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(path, **kw)


def capture_lines(n: int, start: int = 0) -> list[bytes]:
    """``n`` capture records, each in its own session (so none repeats another)."""
    return [
        json.dumps(
            {"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED", "payload": {"sid": f"s{i}"}}
        ).encode()
        for i in range(start, start + n)
    ]


def ga4_lines(n: int) -> list[bytes]:
    """``n`` GA4 export rows of distinct visitors (so their batch keys differ)."""
    return [
        json.dumps(
            {
                "event_name": "dc_conversation_engaged",
                "event_timestamp": str(1793610000000000 + i),
                "user_pseudo_id": f"u{i}",
            }
        ).encode()
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("name", "make", "bad"),
    [("x.jsonl", capture_lines, b'{"ts": broken'), ("events_20261102.json", ga4_lines, b'{"event_name": x')],
)
def test_a_bad_line_after_the_first_arrow_batch_is_one_rejected_record(tmp_path, name, make, bad):
    """3,000 good lines, a malformed one (line 3,001), 10 good ones: 3,010 events and 1 rejection."""
    lines = make(3010)
    path = tmp_path / name
    path.write_bytes(b"\n".join([*lines[:3000], bad, *lines[3000:]]) + b"\n")
    events = read(path)
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 3011,
        "events": 3010,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[3001, "malformed JSON"]]
    assert report.rejected["raw"].tolist() == [bad.decode()]
    assert events["source_record"].iloc[[2999, 3000, 3009]].tolist() == [3000, 3002, 3011]


@pytest.mark.parametrize(("where", "what"), [(-8, "CRC-32"), (-1, "length")])
def test_a_flipped_bit_in_the_gzip_trailer_keeps_every_record_and_says_so(tmp_path, where, what):
    """2,000 lines gzipped, one bit of the trailer's CRC-32 (byte -8) or length (byte -1) flipped: the
    2,000 records are read as they decompressed, none is rejected, and one note names the file."""
    data = bytearray(gzip.compress(b"\n".join(capture_lines(2000)) + b"\n"))
    data[where] ^= 0x04
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(bytes(data))
    events = read(path)
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 2000,
        "events": 2000,
        "rejected": 0,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }
    notes = [n for n in report.notes if "check value" in n]
    # zlib checks a field when it has read its last byte: the CRC-32 is bytes -8..-5, the length -4..-1
    at = len(data) - 5 if what == "CRC-32" else len(data) - 1
    assert notes == [
        f"{path}: the gzip check value (CRC-32 or length) does not match the data (byte {at:,}), so the "
        "file was altered or damaged; its 2,000 line(s) were read as decompressed"
    ], what


def test_a_damaged_first_member_does_not_cost_the_next_one(tmp_path):
    """Two gzip members of 1,500 and 500 lines, the first with a wrong CRC-32: all 2,000 lines read."""
    first = bytearray(gzip.compress(b"\n".join(capture_lines(1500)) + b"\n"))
    first[-8] ^= 0x01
    second = gzip.compress(b"\n".join(capture_lines(500, start=1500)) + b"\n")
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(bytes(first) + second)
    events = read(path)
    report = ca.load_report(events)
    assert report.counts()["events"] == 2000
    assert report.counts()["rejected"] == 0
    assert events["session_id"].iloc[[0, 1499, 1500, 1999]].tolist() == ["s0", "s1499", "s1500", "s1999"]
    assert sum("check value" in n for n in report.notes) == 1


def test_a_damaged_ga4_ndjson_gzip_keeps_its_rows(tmp_path):
    data = bytearray(gzip.compress(b"\n".join(ga4_lines(300)) + b"\n"))
    data[-6] ^= 0x80
    path = tmp_path / "events_20261102.json.gz"
    path.write_bytes(bytes(data))
    report = ca.load_report(read(path))
    assert report.counts()["events"] == 300
    assert report.counts()["rejected"] == 0
    assert any("check value" in n for n in report.notes)
