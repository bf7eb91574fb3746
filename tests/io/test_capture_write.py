"""Tests of the capture-format writer (chatanalytics/io/_capture_write.py).

Files are read back with the standard library only (``json``, ``gzip``, ``datetime``), never with the
package's own loader, so the expectations do not depend on the code under test.
"""

from __future__ import annotations

import gzip
import json
import pathlib
import re
import tempfile
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatanalytics.datasets._simulate import simulate_raw
from chatanalytics.errors import InvalidParameterError, SchemaError
from chatanalytics.io import _capture_write
from chatanalytics.io._capture_write import write_capture
from chatanalytics.schema import empty_events, make_events

PAYLOAD = {
    "name": "conversation_name",
    "id": "conversation_id",
    "type": "conversation_type",
    "uiType": "ui_type",
    "sid": "session_id",
    "agentName": "agent_name",
    "agentID": "agent_id",
}
TOP = {"page_url": "page_url", "visitor_id": "visitor_id", "event_id": "event_id"}
MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def read_lines(path: pathlib.Path) -> list[dict]:
    raw = gzip.decompress(path.read_bytes()) if path.name.lower().endswith(".gz") else path.read_bytes()
    text = raw.decode("utf-8")
    assert text == "" or text.endswith("\n")
    # split on "\n" only: U+2028 inside a string value is not a line break of the format
    return [json.loads(line) for line in text.split("\n")[:-1]]


def instant(ts: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.fromisoformat(ts)).tz_convert("UTC")


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return simulate_raw(1500, seed=3)


@pytest.mark.parametrize("name", ["capture.jsonl", "capture.jsonl.gz", "CAPTURE.JSONL.GZ"])
def test_round_trip_every_field(events: pd.DataFrame, tmp_path: pathlib.Path, name: str) -> None:
    out = write_capture(events, tmp_path / name, extra={"source": "gtm", "schema_version": 2})
    assert out == tmp_path / name
    records = read_lines(out)
    assert len(records) == len(events)
    rows = events.to_dict("records")
    for rec, row in zip(records, rows, strict=True):
        assert MS_Z.match(rec["ts"])
        assert instant(rec["ts"]) == row["event_time_utc"]
        assert rec["event"] == row["event_type"]
        expected_payload = {k: row[c] for k, c in PAYLOAD.items() if not pd.isna(row[c])}
        if not pd.isna(row["meeting_info"]):
            expected_payload["meetingInfo"] = json.loads(row["meeting_info"])
        assert rec["payload"] == expected_payload
        for key, col in TOP.items():
            if pd.isna(row[col]):
                assert key not in rec
            else:
                assert rec[key] == row[col]
        assert rec["source"] == "gtm" and rec["schema_version"] == 2
        assert set(rec) <= {
            "ts",
            "event",
            "payload",
            "page_url",
            "visitor_id",
            "event_id",
            "source",
            "schema_version",
        }
    assert any("meetingInfo" in r["payload"] for r in records)
    assert any("agentID" in r["payload"] for r in records)


def test_exact_line_and_ids_stay_strings(tmp_path: pathlib.Path) -> None:
    ev = make_events(
        [
            {
                "event_time_utc": "2026-10-05 13:14:03.120",
                "event_type": "meeting_booked",
                "session_id": "s-1",
                "conversation_id": 4471902,
                "conversation_name": "Pricing page dialogue",
                "conversation_type": "dialogue",
                "ui_type": "popup",
                "agent_id": "0042",
                "agent_name": "Avery Lindqvist",
                "meeting_info": '{"meetingId": "m1",\n  "durationMinutes": 30}',
                "page_url": "https://www.example.com/pricing?utm_source=google",
                "visitor_id": "v-1",
                "event_id": 981,
            },
            {"event_time_utc": "2026-10-05 13:14:04", "event_type": "engaged"},
        ]
    )
    out = write_capture(ev, tmp_path / "x.jsonl", extra={"source": "gtm"})
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[0] == (
        '{"ts":"2026-10-05T13:14:03.120Z","event":"CONVERSATION_MEETING_BOOKED",'
        '"payload":{"name":"Pricing page dialogue","id":"4471902","type":"dialogue","uiType":"popup",'
        '"sid":"s-1","agentName":"Avery Lindqvist","agentID":"0042",'
        '"meetingInfo":{"meetingId":"m1","durationMinutes":30}},'
        '"page_url":"https://www.example.com/pricing?utm_source=google","visitor_id":"v-1",'
        '"event_id":"981","source":"gtm"}'
    )
    assert (
        lines[1]
        == '{"ts":"2026-10-05T13:14:04.000Z","event":"CONVERSATION_ENGAGED","payload":{},"source":"gtm"}'
    )
    assert lines[2] == ""
    rec = json.loads(lines[0])
    assert rec["payload"]["id"] == "4471902" and isinstance(rec["payload"]["id"], str)


def test_offsets_write_local_time_and_keep_the_instant(events: pd.DataFrame, tmp_path: pathlib.Path) -> None:
    local = events["event_time_utc"].dt.tz_convert("America/New_York")
    minutes = (
        local.dt.tz_localize(None) - events["event_time_utc"].dt.tz_localize(None)
    ).dt.total_seconds() / 60
    offsets = pd.Series(minutes.to_numpy(), dtype="Int64")
    offsets.iloc[::7] = pd.NA  # missing offset -> Z
    out = write_capture(events, tmp_path / "local.jsonl", offsets=offsets)
    records = read_lines(out)
    seen = set()
    for i, rec in enumerate(records):
        ts = rec["ts"]
        assert instant(ts) == events["event_time_utc"].iloc[i]
        if i % 7 == 0:
            assert ts.endswith("Z")
            continue
        suffix = ts[-6:]
        seen.add(suffix)
        assert suffix == ("-04:00" if offsets.iloc[i] == -240 else "-05:00")
        assert (
            ts[:-6]
            == local.iloc[i].strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.iloc[i].microsecond // 1000:03d}"
        )
    assert seen == {"-04:00", "-05:00"}  # the default span crosses the DST end


@pytest.mark.parametrize(
    ("minutes", "suffix"),
    [(330, "+05:30"), (345, "+05:45"), (-570, "-09:30"), (0, "+00:00"), (840, "+14:00")],
)
def test_odd_offsets(tmp_path: pathlib.Path, minutes: int, suffix: str) -> None:
    ev = make_events([{"event_time_utc": "2026-10-05 23:50:00.5", "event_type": "triggered"}])
    out = write_capture(ev, tmp_path / "o.jsonl", offsets=pd.Series([minutes]))
    (rec,) = read_lines(out)
    assert rec["ts"].endswith(suffix)
    assert instant(rec["ts"]) == pd.Timestamp("2026-10-05 23:50:00.5", tz="UTC")
    expected_wall = datetime(2026, 10, 5, 23, 50, 0, 500_000) + timedelta(minutes=minutes)
    assert datetime.fromisoformat(rec["ts"]).replace(tzinfo=None) == expected_wall


def test_timedelta_offsets(tmp_path: pathlib.Path) -> None:
    ev = make_events([{"event_time_utc": "2026-10-05 13:14:03.120", "event_type": "triggered"}])
    (rec,) = read_lines(write_capture(ev, tmp_path / "t.jsonl", offsets=pd.Series([pd.Timedelta(hours=-4)])))
    assert rec["ts"] == "2026-10-05T09:14:03.120-04:00"


def test_microseconds_are_kept(tmp_path: pathlib.Path) -> None:
    ev = make_events(
        [
            {"event_time_utc": "2026-10-05 13:14:03.120456", "event_type": "triggered"},
            {"event_time_utc": "2026-10-05 13:14:04", "event_type": "engaged"},
        ]
    )
    records = read_lines(write_capture(ev, tmp_path / "us.jsonl"))
    assert [r["ts"] for r in records] == ["2026-10-05T13:14:03.120456Z", "2026-10-05T13:14:04.000000Z"]
    assert [instant(r["ts"]) for r in records] == ev["event_time_utc"].tolist()


def test_meeting_info_that_is_not_json_is_written_as_a_string(tmp_path: pathlib.Path) -> None:
    ev = make_events(
        [{"event_time_utc": "2026-10-05", "event_type": "meeting_booked", "meeting_info": "{oops"}]
    )
    (rec,) = read_lines(write_capture(ev, tmp_path / "m.jsonl"))
    assert rec["payload"] == {"meetingInfo": "{oops"}


def test_gzip_matches_plain_output_across_many_blocks(
    events: pd.DataFrame, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_capture_write, "_BATCH_ROWS", 97)  # many blocks, deflated in parallel
    plain = write_capture(events, tmp_path / "a.jsonl")
    packed = write_capture(events, tmp_path / "a.jsonl.gz")
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    with gzip.open(packed, "rt", encoding="utf-8") as fh:  # streaming reader, single member
        assert sum(1 for _ in fh) == len(events)
    n = duckdb.sql(f"SELECT count(*) FROM read_json('{packed}', format='newline_delimited')").fetchall()[0][0]
    assert n == len(events)


def test_empty_frame(tmp_path: pathlib.Path) -> None:
    assert write_capture(empty_events(), tmp_path / "e.jsonl").read_bytes() == b""
    assert gzip.decompress(write_capture(empty_events(), tmp_path / "e.jsonl.gz").read_bytes()) == b""


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(max_size=40),
    url=st.text(max_size=40),
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in _capture_write.RESERVED_KEYS),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
        max_size=3,
    ),
)
def test_any_text_round_trips(name: str, url: str, extra: dict) -> None:
    ev = make_events(
        [
            {
                "event_time_utc": "2026-10-05 13:14:03",
                "event_type": "engaged",
                "conversation_name": name,
                "page_url": url,
            }
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        (rec,) = read_lines(write_capture(ev, pathlib.Path(tmp) / "h.jsonl", extra=extra))
    for value, got in ((name, rec["payload"].get("name")), (url, rec.get("page_url"))):
        assert got == value  # every string, empty or not, comes back as written
    for k, v in extra.items():
        assert rec[k] == v


# --------------------------------------------------------------------------- errors


def test_bad_arguments_raise(events: pd.DataFrame, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.jsonl"
    with pytest.raises(InvalidParameterError):
        write_capture(events, path, extra={"ts": "x"})
    with pytest.raises(InvalidParameterError):
        write_capture(events, path, extra={"k": object()})
    with pytest.raises(InvalidParameterError):
        write_capture(events, path, offsets=pd.Series([0, 60]))
    with pytest.raises(InvalidParameterError):
        write_capture(events, path, offsets=pd.Series(np.full(len(events), 30.5)))
    with pytest.raises(InvalidParameterError):
        write_capture(events, path, offsets=pd.Series(np.full(len(events), 1440)))
    with pytest.raises(InvalidParameterError):
        write_capture(events, path, offsets=pd.Series(["a"] * len(events)))
    with pytest.raises(InvalidParameterError):
        write_capture(events, path, compresslevel=0)
    agg = events.head(3).copy()
    agg["event_count"] = pd.array([1, 2, 1], dtype="Int64")
    with pytest.raises(InvalidParameterError):
        write_capture(agg, path)
    with pytest.raises(SchemaError):
        write_capture(events.drop(columns=["session_id"]), path)


def test_unwritable_path_raises_export_error(events: pd.DataFrame, tmp_path: pathlib.Path) -> None:
    from chatanalytics.errors import ExportError

    with pytest.raises(ExportError):
        write_capture(events.head(5), tmp_path / "missing-dir" / "x.jsonl")


def test_instants_are_exact_for_utc_offsets_near_midnight(tmp_path: pathlib.Path) -> None:
    stamps = ["2026-12-31 23:59:59.999", "2027-01-01 00:00:00.001", "2026-11-01 05:59:59.999"]
    ev = make_events([{"event_time_utc": s, "event_type": "triggered"} for s in stamps])
    recs = read_lines(write_capture(ev, tmp_path / "n.jsonl", offsets=pd.Series([-300, 60, -240])))
    assert [r["ts"] for r in recs] == [
        "2026-12-31T18:59:59.999-05:00",
        "2027-01-01T01:00:00.001+01:00",
        "2026-11-01T01:59:59.999-04:00",
    ]
    got = [datetime.fromisoformat(r["ts"]).astimezone(UTC) for r in recs]
    assert [pd.Timestamp(g) for g in got] == ev["event_time_utc"].tolist()
