"""Reading under faults and odd input, in every JSON-lines format (and, where it applies, every format).

- Times outside ``TIME_RANGE`` (1970-01-01 through 2199-12-31 UTC) are rejected as ``time out of range``
  in every format that carries a time; times just inside are kept, and every analysis and the report
  run on them. Times later than the time of reading are kept and noted.
- A UTF-8 byte-order mark at the start of any file of any format costs nothing.
- A file whose lines end in a lone CR is read as lines; tabs and other Unicode white space around an
  event name are trimmed; a date-only time counts as a time without a UTC offset.
- Bad lines at random (seeded) positions, in plain and gzip files, are each one rejected record and
  the rest are read.
- A gzip file with a bit flipped, or cut, at a random (seeded) offset keeps every record that a
  streaming zlib decode yields before the damage, says where the damage was, and its report adds up.
- Blank lines cost bounded memory (peak RSS measured in a subprocess).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import subprocess
import sys
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import chatanalytics as ca
from tests.conftest import capture_line, record_lines
from tests.io.test_format_contract import REGISTERED, assert_adds_up, fixture_of


def read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(path, **kw)


def micros(ts: str) -> int:
    """Microseconds since the epoch of an ISO time ending in Z (any year numpy takes)."""
    return int(np.datetime64(ts.rstrip("Z"), "us").astype(np.int64))


# One engaged event of session ``s{i}`` at time ``ts`` (ISO, ending in Z), in each JSON-lines format;
# ``name`` replaces the event name the format maps to CONVERSATION_ENGAGED.
def _capture(i: int, ts: str, name: str | None = None) -> dict:
    return {"ts": ts, "event": name or "CONVERSATION_ENGAGED", "payload": {"sid": f"s{i}"}}


def _datalayer(i: int, ts: str, name: str | None = None) -> dict:
    return {
        "event": "chat",
        "dc_event": name or "conversation_engaged",
        "dc_ts": ts,
        "dc_session_id": f"s{i}",
    }


def _segment(i: int, ts: str, name: str | None = None) -> dict:
    return {
        "type": "track",
        "event": "Dynamic Chat",
        "messageId": f"m{i}",
        "timestamp": ts,
        "properties": {"event_type": name or "CONVERSATION_ENGAGED", "session_id": f"s{i}"},
    }


def _xdm(i: int, ts: str, name: str | None = None) -> dict:
    return {
        "_id": f"id{i}",
        "timestamp": ts,
        "eventType": "dynamicChat.conversationEngaged",
        "_acme": {"dynamicChat": {"eventName": name or "CONVERSATION_ENGAGED", "sessionID": f"s{i}"}},
    }


def _ga4(i: int, ts: str, name: str | None = None) -> dict:
    return {
        "event_name": name or "dc_conversation_engaged",
        "event_timestamp": str(micros(ts)),
        "user_pseudo_id": f"u{i}",
    }


JSON_LINES: dict[str, tuple[Callable[..., dict], str]] = {
    "capture": (_capture, "x.jsonl"),
    "datalayer": (_datalayer, "x.ndjson"),
    "segment": (_segment, "x.jsonl"),
    "aep_xdm": (_xdm, "x.json"),
    "ga4_bigquery": (_ga4, "events_20261102.json"),
}


def times(n: int) -> list[str]:
    """``n`` distinct times, a second apart."""
    return [f"2026-11-02T{9 + k // 3600:02d}:{k // 60 % 60:02d}:{k % 60:02d}Z" for k in range(n)]


def lines_of(fmt: str, times: list[str]) -> list[bytes]:
    make = JSON_LINES[fmt][0]
    return [json.dumps(make(i, ts)).encode() for i, ts in enumerate(times)]


def write(tmp_path: Path, fmt: str, lines: list[bytes], *, gz: bool = False, end: bytes = b"\n") -> Path:
    name = JSON_LINES[fmt][1]
    data = b"\n".join(lines) + end
    path = tmp_path / (name + ".gz" if gz else name)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_every_json_lines_builder_gives_one_event_per_record(tmp_path):
    """The record builders above are what each format reads as one engaged event of its session."""
    for fmt in JSON_LINES:
        path = write(tmp_path, fmt, lines_of(fmt, ["2026-11-02T09:00:00Z", "2026-11-02T09:00:01Z"]))
        events = read(path, format=fmt)
        assert events["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED"] * 2, fmt
        assert events["event_time_utc"].tolist() == [
            pd.Timestamp("2026-11-02 09:00:00", tz="UTC"),
            pd.Timestamp("2026-11-02 09:00:01", tz="UTC"),
        ], fmt


# ------------------------------------------------------------------------------------------ time range

#: time -> kept (True) or rejected (False); the edges of 1970-01-01 .. 2199-12-31T23:59:59.999999 UTC.
RANGE_CASES = {
    "2026-11-02T09:00:00Z": True,
    "1970-01-01T00:00:00Z": True,
    "2199-12-31T23:59:59.999999Z": True,
    "1969-12-31T23:59:59.999999Z": False,
    "2200-01-01T00:00:00Z": False,
    "2263-01-01T00:00:00Z": False,
    "0000-01-01T00:00:00Z": False,
    "-0001-01-01T00:00:00Z": False,
    "294247-01-01T00:00:00Z": False,
}


@pytest.mark.parametrize("fmt", list(JSON_LINES))
def test_times_outside_the_range_are_rejected_in_every_json_lines_format(fmt, tmp_path):
    """Record k carries the k-th time of RANGE_CASES: the kept ones are events at exactly that time, the
    others are rejected as ``time out of range`` (a year the format cannot even parse, such as -0001
    in GA4's microseconds, is out of range too)."""
    times = list(RANGE_CASES)
    path = write(tmp_path, fmt, lines_of(fmt, times))
    events = read(path, format=fmt)
    report = ca.load_report(events)
    kept = [k + 1 for k, t in enumerate(times) if RANGE_CASES[t]]
    assert events["source_record"].tolist() == kept
    assert events["event_time_utc"].tolist() == [
        pd.Timestamp(t.rstrip("Z"), tz="UTC") for t in times if RANGE_CASES[t]
    ]
    rejected = report.rejected[["source_record", "reason"]].values.tolist()
    assert rejected == [[k + 1, "time out of range"] for k, t in enumerate(times) if not RANGE_CASES[t]]
    assert_adds_up(events)


def test_out_of_range_times_in_canonical_parquet_are_rejected(tmp_path):
    """A Parquet file holds times as numbers, so any year can be in it: the same range applies."""
    times = ["2026-11-02T09:00:00Z", "2263-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2199-12-31T23:00:00Z"]
    source = write(tmp_path, "capture", lines_of("capture", times[:1]))
    table = pa.Table.from_pandas(read(source), preserve_index=False)
    table = pa.concat_tables([table] * len(times))
    stamps = pa.array([micros(t) for t in times], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    table = table.set_column(table.column_names.index("event_time_utc"), "event_time_utc", stamps)
    sessions = pa.array([f"s{k}" for k in range(len(times))], pa.large_string())
    table = table.set_column(table.column_names.index("session_id"), "session_id", sessions)
    table = table.set_column(
        table.column_names.index("source_record"), "source_record", pa.array([1, 2, 3, 4], pa.int64())
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    events = read(path)
    report = ca.load_report(events)
    assert events["session_id"].tolist() == ["s0", "s3"]
    assert report.rejected[["source_record", "reason"]].values.tolist() == [
        [2, "time out of range"],
        [3, "time out of range"],
    ]
    assert json.loads(report.rejected["raw"].iloc[0])["event_time_utc"] == "2263-01-01T00:00:00.000000Z"
    assert_adds_up(events)


def test_future_times_are_kept_and_noted(tmp_path):
    now = pd.Timestamp.now(tz="UTC")
    later = (now + pd.Timedelta(days=400)).floor("s")
    times = ["2026-01-02T09:00:00Z", later.strftime("%Y-%m-%dT%H:%M:%SZ")]
    path = write(tmp_path, "capture", lines_of("capture", times))
    events = read(path)
    assert len(events) == 2
    notes = [n for n in ca.load_report(events).notes if "after the time of reading" in n]
    assert notes == [
        f"{path}: 1 event(s) are dated more than a day after the time of reading (the latest "
        f"{later.strftime('%Y-%m-%dT%H:%M:%S')}.000000Z); they were kept"
    ]


def test_validate_events_refuses_times_outside_the_range():
    """A frame built by hand (``make_events`` checks it too) cannot carry a time outside the range into
    an analysis, where pandas would overflow."""
    with pytest.raises(ca.SchemaError, match="1 values outside 1970-01-01 through 2199-12-31"):
        ca.make_events([{"event_time_utc": "2263-01-01", "event_type": "engaged", "session_id": "s1"}])
    frame = ca.make_events(
        [{"event_time_utc": "2026-11-02", "event_type": "engaged", "session_id": f"s{k}"} for k in range(3)]
    )
    frame.loc[1, "event_time_utc"] = pd.Timestamp("1969-12-31 23:59:59", tz="UTC")
    with pytest.raises(ca.SchemaError, match="1 values outside") as err:
        ca.validate_events(frame)
    assert err.value.failures["check"].tolist() == ["in range"]
    with pytest.raises(ca.SchemaError):
        ca.funnel(frame, steps=["engaged"])


def _session(sid: str, start: str, step_seconds: int) -> list[dict]:
    """A conversation with a live chat: triggered, engaged, requested, initiated, ended, completed."""
    base = pd.Timestamp(start)
    steps = [
        ("CONVERSATION_TRIGGERED", {}),
        ("CONVERSATION_ENGAGED", {}),
        ("CONVERSATION_LIVE_CHAT_REQUESTED", {}),
        ("CONVERSATION_LIVE_CHAT_INITIATED", {"agentID": "a1", "agentName": "Ann"}),
        ("CONVERSATION_LIVE_CHAT_ENDED", {"agentID": "a1", "agentName": "Ann"}),
        ("CONVERSATION_COMPLETED", {}),
    ]
    return [
        {
            "ts": (base + pd.Timedelta(seconds=step_seconds * k)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "event": event,
            "payload": {"sid": sid, "id": "c1", "name": "Pricing", "type": "dialogue", **extra},
        }
        for k, (event, extra) in enumerate(steps)
    ]


@pytest.mark.slow
def test_every_analysis_and_the_report_run_at_the_edges_of_the_range(tmp_path):
    """Sessions at the very start and the very end of the range (one ends at its last microsecond, one
    request times out there): every analysis, daily counts over the 230 years, and the report."""
    records = _session("s1", "1970-01-01T00:00:00", 1) + _session("s2", "2199-12-31T23:59:00", 5)
    last = "2199-12-31T23:59:59.999999Z"
    for event in ("CONVERSATION_LIVE_CHAT_REQUESTED", "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"):
        records.append({"ts": last, "event": event, "payload": {"sid": "s3"}})
    path = tmp_path / "edges.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    events = read(path)
    assert len(events) == 14
    steps = ["triggered", "engaged", "completed"]
    f = ca.funnel(events, steps=steps)
    assert f.frame()["entered"].tolist() == [2, 2, 2]  # s1 and s2 complete; s3 only asks for a chat
    results = [f, ca.agent_performance(events), ca.timeouts(events), ca.changes(events)]
    for result in results:
        result.frame()
        result.summary()
        result.figure()
    a = ca.agent_performance(events, tz="Pacific/Kiritimati")  # UTC+14: local times run past 2199
    frame = a.frame()
    assert frame.loc[frame["agent_id"] == "a1", "chats_ended"].tolist() == [2]
    daily = ca.event_counts(events, freq="day")
    assert int(daily["events"].sum()) == 14
    assert set(daily.loc[daily["events"] > 0, "period"].astype(str)) == {"1970-01-01", "2199-12-31"}
    out = ca.report(events, tmp_path / "report.html", steps=steps)
    assert out.stat().st_size > 0


# ------------------------------------------------------------------------------ byte-order mark, line ends


def with_bom(path: Path) -> None:
    """Put a UTF-8 byte-order mark before the file's text (inside the gzip stream of a gzip file)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + gzip.decompress(data)))
    else:
        path.write_bytes(b"\xef\xbb\xbf" + data)


@pytest.mark.parametrize("name", [n for n in REGISTERED if n != "parquet"])
def test_a_byte_order_mark_costs_nothing_in_any_format(name, tmp_path):
    """The fixture with a BOM before its first byte: detected as the same format, the same counts, the
    same events (the first record included)."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "bom").mkdir()
    path, kw, _ = fixture_of(name, tmp_path / "plain")
    plain = read(path, **kw)
    marked, _, _ = fixture_of(name, tmp_path / "bom")
    with_bom(marked)
    events = read(marked, **kw)
    report = ca.load_report(events)
    assert report.files["source_format"].tolist() == [name]
    assert report.counts() == ca.load_report(plain).counts()
    cols = ["event_time_utc", "event_type", "session_id", "conversation_id", "source_record"]
    pd.testing.assert_frame_equal(events[cols], plain[cols])


def test_a_parquet_file_with_a_byte_order_mark_is_a_clear_error(tmp_path):
    """A BOM before a Parquet file's magic number makes it no Parquet file: a LoaderError naming it."""
    path, _, _ = fixture_of("parquet", tmp_path)
    with_bom(path)
    with pytest.raises(ca.LoaderError, match=str(path.name)):
        read(path, format="parquet")


@pytest.mark.parametrize("fmt", list(JSON_LINES))
@pytest.mark.parametrize("gz", [False, True])
def test_lone_cr_line_ends_are_line_ends(fmt, gz, tmp_path):
    """Three records separated by lone CRs (old Mac line ends), a blank CR line among them: three
    records numbered 1, 2 and 4, as if the CRs were newlines."""
    good = lines_of(fmt, ["2026-11-02T09:00:00Z", "2026-11-02T09:00:01Z", "2026-11-02T09:00:02Z"])
    data = good[0] + b"\r" + good[1] + b"\r\r" + good[2] + b"\r"
    path = tmp_path / JSON_LINES[fmt][1]
    if gz:
        path = path.with_name(path.name + ".gz")
    path.write_bytes(gzip.compress(data) if gz else data)
    events = read(path, format=fmt)
    assert events["source_record"].tolist() == [1, 2, 4]
    assert ca.load_report(events).counts()["records"] == 3


@pytest.mark.parametrize("fmt", list(JSON_LINES))
def test_white_space_around_an_event_name_is_trimmed(fmt, tmp_path):
    """Tab, newline, NBSP, em space, ideographic space, zero-width space around the mapped name."""
    make = JSON_LINES[fmt][0]
    plain = make(0, "2026-11-02T09:00:00Z")
    key, name = next((k, v) for k, v in _name_field(plain))
    pads = ["\t", "\n", "\u00a0", "\u2003", "\u3000", "\u200b", " \t "]
    lines = [
        json.dumps(make(i, "2026-11-02T09:00:00Z", pad + name + pad)).encode() for i, pad in enumerate(pads)
    ]
    events = read(write(tmp_path, fmt, lines), format=fmt)
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED"] * len(pads), key


def _name_field(record: dict) -> list[tuple[str, str]]:
    """The (key, value) of the event name each builder's ``name`` argument sets."""
    for key in ("event", "dc_event", "event_name"):
        if key in record and record[key] not in ("chat", "Dynamic Chat"):
            return [(key, record[key])]
    if "properties" in record:
        return [("properties.event_type", record["properties"]["event_type"])]
    return [("eventName", record["_acme"]["dynamicChat"]["eventName"])]


@pytest.mark.parametrize("fmt", ["capture", "segment", "aep_xdm"])
def test_a_date_only_time_is_read_as_midnight_utc_and_noted(fmt, tmp_path):
    times = ["2026-10-01", "2026-10-01T09:00:00Z", "2026-10-01T09:00:00+02:00", "2026-10-01T09:00:00"]
    events = read(write(tmp_path, fmt, lines_of(fmt, times)), format=fmt)
    assert events["event_time_utc"].tolist() == [
        pd.Timestamp("2026-10-01 00:00", tz="UTC"),
        pd.Timestamp("2026-10-01 09:00", tz="UTC"),
        pd.Timestamp("2026-10-01 07:00", tz="UTC"),
        pd.Timestamp("2026-10-01 09:00", tz="UTC"),
    ]
    notes = " ".join(ca.load_report(events).notes)
    assert (
        "2 event time(s) carried no UTC offset" in notes
        or "2 time(s) carried no UTC offset" in notes
        or ("2 timestamp(s) carried no UTC offset" in notes)
    ), notes


# ------------------------------------------------------------------------------ bad lines anywhere

#: A bad line of each kind and the reason it is rejected with.
BAD_LINES = [
    (b'{"ts": broken', "malformed JSON"),
    (b"\xff\xfe\x00 not UTF-8", "non-UTF-8 bytes"),
    (b'{"a": [1, 2', "malformed JSON"),
    (b"[1, 2]", "not a JSON object"),
]


@pytest.mark.parametrize("fmt", list(JSON_LINES))
@pytest.mark.parametrize("gz", [False, True])
def test_bad_lines_at_random_positions_are_each_one_rejected_record(fmt, gz, tmp_path):
    """2,500 good records (past the 2,048 rows of DuckDB's first Arrow batch) with six bad lines at
    seeded random positions, one of them the last line, which has no newline: every good record is an
    event numbered by its line, every bad one a rejected record with its reason."""
    rng = random.Random(f"{fmt}-{gz}")
    good = lines_of(fmt, times(2500))
    bad = [rng.choice(BAD_LINES) for _ in range(5)] + [(good[7][: len(good[7]) // 2], "malformed JSON")]
    positions = [*sorted(rng.sample(range(2505), 5)), 2505]  # 0-based line numbers of the bad lines
    lines: list[bytes] = []
    expected_rejected = []
    g = iter(good)
    for k in range(2506):
        if k in positions:
            line, reason = bad[positions.index(k)]
            lines.append(line)
            expected_rejected.append([k + 1, reason])
        else:
            lines.append(next(g))
    path = write(tmp_path, fmt, lines, gz=gz, end=b"")
    events = read(path, format=fmt)
    report = ca.load_report(events)
    assert report.rejected[["source_record", "reason"]].values.tolist() == expected_rejected
    assert len(events) == 2500
    good_lines = [k + 1 for k in range(2506) if k not in positions]
    assert events["source_record"].tolist() == good_lines
    assert_adds_up(events)


# ------------------------------------------------------------------------------ damaged gzip


def streamed(data: bytes) -> tuple[bytes, bool]:
    """What a streaming zlib decode of a (multi-member) gzip file yields before the first damage, fed
    256 bytes at a time (the piece that fails yields nothing), and whether it ended cleanly."""
    out = bytearray()
    rest = data
    while rest:
        d = zlib.decompressobj(wbits=47)
        i = 0
        try:
            while i < len(rest) and not d.eof:
                out += d.decompress(rest[i : i + 256])
                i += 256
        except zlib.error:
            return bytes(out), False
        if not d.eof:
            return bytes(out), False
        rest = d.unused_data + rest[i:]
    return bytes(out), True


def capture_text(n: int) -> bytes:
    return b"\n".join(lines_of("capture", times(n))) + b"\n"


def check_damaged_gzip(path: Path, data: bytes, original: bytes) -> None:
    """Read a damaged copy ``data`` of ``original`` and hold it to the streaming decode of ``data``."""
    path.write_bytes(data)
    out, clean = streamed(data)
    same = 0
    while same < min(len(out), len(original)) and out[same] == original[same]:
        same += 1
    intact = original[:same].count(b"\n")  # whole records decoded before the damage
    try:
        events = read(path, format="capture")
    except ca.ChatAnalyticsError:
        assert intact == 0
        return
    assert_adds_up(events)
    # (a flipped bit in a literal can turn a later record into another valid one, of any session)
    by_line = dict(zip(events["source_record"], events["session_id"], strict=True))
    assert all(by_line.get(k + 1) == f"s{k}" for k in range(intact)), (intact, len(events))
    notes = [n for n in ca.load_report(events).notes if n.startswith(f"{path}:") and "gzip" in n]
    if clean and out == original:  # the damage changed nothing zlib checks (a header time, say)
        assert notes == [] and len(events) == original.count(b"\n")
    else:
        assert len(notes) == 1, notes
        assert re.search(r"\bbyte [0-9,]+", notes[0]), notes[0]


@pytest.mark.parametrize("members", [1, 3])
def test_bit_flips_at_random_offsets_of_a_gzip_file(members, tmp_path):
    """1,500 records in one or three gzip members; in each of 16 seeded trials one bit after the
    first member's 10-byte header is flipped."""
    original = capture_text(1500)
    step = len(original) // members
    cuts = [original.rfind(b"\n", 0, step * (m + 1)) + 1 for m in range(members - 1)] + [len(original)]
    pieces = [original[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
    data = b"".join(gzip.compress(p, mtime=0) for p in pieces)
    rng = random.Random(members)
    for trial in range(16):
        damaged = bytearray(data)
        at = rng.randrange(10, len(data))
        damaged[at] ^= 1 << rng.randrange(8)
        check_damaged_gzip(tmp_path / f"flip{trial}.jsonl.gz", bytes(damaged), original)


@pytest.mark.parametrize("members", [1, 3])
def test_truncation_at_random_offsets_of_a_gzip_file(members, tmp_path):
    """The same files cut after a seeded random number of bytes (never at a member's end, where the
    file is whole as far as anyone can tell)."""
    original = capture_text(1500)
    step = len(original) // members
    cuts = [original.rfind(b"\n", 0, step * (m + 1)) + 1 for m in range(members - 1)] + [len(original)]
    pieces = [original[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
    compressed = [gzip.compress(p, mtime=0) for p in pieces]
    data = b"".join(compressed)
    ends = set(np.cumsum([len(c) for c in compressed]).tolist())
    rng = random.Random(10 + members)
    for trial in range(12):
        at = rng.randrange(10, len(data))
        while at in ends:
            at = rng.randrange(10, len(data))
        check_damaged_gzip(tmp_path / f"cut{trial}.jsonl.gz", data[:at], original)


# ------------------------------------------------------------------------------ blank lines

# The peak is VmHWM, the resident high-water mark of the process's own memory, which starts afresh
# at exec; getrusage's ru_maxrss keeps the parent's peak across fork and exec (the pytest process's).
_PEAK = """
import sys, warnings
import chatanalytics as ca

def peak_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) // 1024

before = peak_mb()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    events = ca.read_events(sys.argv[1], format="capture")
assert events["source_record"].tolist() == [int(sys.argv[2])], events["source_record"].tolist()
print(before, peak_mb())
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "blank_bytes", "gz"), [("blank.jsonl", 64 << 20, False), ("blank.jsonl.gz", 16 << 20, True)]
)
def test_blank_lines_cost_bounded_memory(name, blank_bytes, gz, tmp_path):
    """64 MB of newlines in a plain file, or 16 MB gzipped, then one record: it is read, numbered by its
    line, the read adds less than 200 MB to the process's peak resident memory, and the peak stays under
    400 MB (each blank line cost about 390 bytes before: 6.2 GB for the gzip file)."""
    record = lines_of("capture", ["2026-11-02T09:00:00Z"])[0] + b"\n"
    path = tmp_path / name
    with gzip.open(path, "wb", compresslevel=1) if gz else path.open("wb") as fh:
        for _ in range(blank_bytes >> 20):
            fh.write(b"\n" * (1 << 20))
        fh.write(record)
    run = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path), str(blank_bytes + 1)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    before, peak = map(int, run.stdout.split())
    assert peak - before < 200 and peak < 400, (before, peak)


def test_the_first_line_end_tells_lone_cr_files():
    """None until a line end is seen (a CR at the very end may still be half of a CRLF)."""
    from chatanalytics.io._files import cr_line_ends

    cases = {b"": None, b"abc": None, b"a\r": None, b"a\rb": True, b"a\r\r": True, b"a\r\nb\rc": False}
    cases |= {b"a\nb\rc": False, b"\n": False}
    assert {k: cr_line_ends(k) for k in cases} == cases


_OK = capture_line("2026-11-02T09:00:00Z", "CONVERSATION_TRIGGERED", sid="s1", id="c1").encode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\r\x00\n" + _OK + b"\n", 2),  # a stray CR inside the first line of an LF file
        (_OK + b"\r{bad\r" + _OK, 3),  # old Mac line ends, no LF anywhere
        (_OK + b"\r\n{bad\r\n", 2),  # CRLF
        (_OK + b"\r", 1),  # a last CR alone tells nothing
    ],
)
def test_line_ends_are_told_by_the_first_lf_not_the_first_cr(data, expected, tmp_path):
    """A file with any LF is read by LF (a stray CR before it stays inside its line); only a file without
    one is read by CR. The record count is worked out by hand and by the independent oracle."""
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    assert len(record_lines(data)) == expected
    events = ca.read_events(path, format="capture", warn=False)
    counts = ca.load_report(events).counts()
    assert counts["records"] == expected
    assert (
        counts["events"] >= 1
        and counts["records"]
        == counts["events"] + counts["rejected"] + counts["duplicates"] + counts["ignored"]
    )
