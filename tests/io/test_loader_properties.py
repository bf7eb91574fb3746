"""Property tests: garbage never escapes as anything but ChatAnalyticsError, and every record is counted."""

from __future__ import annotations

import gzip
import json
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from chatanalytics.schema import COLUMNS, EVENT_TYPES

_TS = st.sampled_from(
    [
        "2026-11-02T09:00:00Z",
        "2026-11-02T09:00:00.250+02:00",
        "2026-11-02T01:00:00-08:00",
        "2026-11-02T09:00:00",
        "2026-11-02T09:00:01.001Z",
        "not a time",
        "",
    ]
)
_EVENT = st.one_of(
    st.sampled_from(EVENT_TYPES), st.sampled_from(["CONVERSATION_ENGAGD", "gtm.js", "", "engaged"])
)
_ID = st.one_of(
    st.none(), st.integers(0, 10**8), st.sampled_from(["c1", "4471902", "", "4471902.0"]), st.just(4471902.0)
)


@st.composite
def records(draw):
    rec = {"ts": draw(_TS), "event": draw(_EVENT)}
    payload = {"sid": draw(st.sampled_from(["s1", "s2", "", "a@b.co"])), "id": draw(_ID)}
    if draw(st.booleans()):
        payload["agentID"] = draw(_ID)
        payload["meetingInfo"] = draw(
            st.one_of(st.none(), st.just({"k": [1, "x@y.org"]}), st.text(max_size=5))
        )
    if draw(st.booleans()):
        rec["data"] = {"payload": payload}
    else:
        rec["payload"] = payload
    for key in draw(st.lists(st.sampled_from(["ts", "event", "payload"]), max_size=1)):
        rec.pop(key, None)
    return json.dumps(rec).encode()


_LINE = st.one_of(
    records(),
    records().map(lambda b: b[: len(b) // 2]),  # truncated
    st.binary(max_size=40),  # garbage, possibly with newlines and invalid UTF-8
    st.sampled_from([b"", b"  ", b"[1]", b"null", b'"x"', b"{}", b"\xff\xfe{", b'{"ts": 5}']),
)


def expected_records(data: bytes) -> int:
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts = parts[:-1]
    return sum(1 for p in parts if p.strip())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, max_size=25), gz=st.booleans())
def test_garbage_only_raises_chatanalytics_errors_and_counts_add_up(tmp_path_factory, lines, gz):
    data = b"\n".join(lines)
    path = tmp_path_factory.mktemp("p") / ("x.jsonl.gz" if gz else "x.jsonl")
    path.write_bytes(gzip.compress(data) if gz else data)
    n = expected_records(data)
    if n == 0:  # only blank lines (or nothing): no record at all
        with pytest.raises(ca.EmptyDataError, match="no records"):
            ca.read_events(path, format="capture")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ca.DataQualityWarning)
            ev = ca.read_events(path, format="capture")  # any non-blank line is a record: it must read
        c = ca.load_report(ev).counts()
        assert c["records"] == n
        assert c["events"] + c["rejected"] + c["duplicates"] + c["ignored"] == n
        assert len(ev) == c["events"]
        ca.validate_events(ev)
        assert not ev["session_id"].fillna("").str.contains("@").any()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(records(), min_size=1, max_size=20))
def test_fast_path_and_isolation_path_agree(tmp_path_factory, lines):
    """A plain file goes through DuckDB's reader, a gzip file through the line-by-line path."""
    data = b"\n".join(lines) + b"\n"
    d = tmp_path_factory.mktemp("d")
    (d / "x.jsonl").write_bytes(data)
    (d / "x.jsonl.gz").write_bytes(gzip.compress(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        plain = ca.read_events(d / "x.jsonl")  # every line is a JSON object: never empty
        gz = ca.read_events(d / "x.jsonl.gz")
    assert ca.load_report(plain).counts()["records"] == len(lines)
    cols = [c for c in COLUMNS if c != "source_file"]
    pd.testing.assert_frame_equal(plain[cols], gz[cols])
    rp, rg = ca.load_report(plain), ca.load_report(gz)
    assert rp.counts() == rg.counts()
    assert rp.rejected[["source_record", "reason"]].equals(rg.rejected[["source_record", "reason"]])
    assert rp.ignored[["source_record", "event_name"]].equals(rg.ignored[["source_record", "event_name"]])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(records(), min_size=1, max_size=15), seed=st.integers(0, 1000))
def test_shuffling_files_changes_which_duplicate_is_kept_but_not_the_events(tmp_path_factory, lines, seed):
    import random

    d = tmp_path_factory.mktemp("s")
    shuffled = lines[:]
    random.Random(seed).shuffle(shuffled)
    (d / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (d / "b.jsonl").write_bytes(b"\n".join(shuffled) + b"\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        a = ca.read_events(d / "a.jsonl")  # every line is a JSON object: never empty
        b = ca.read_events(d / "b.jsonl")
    assert ca.load_report(a).counts()["records"] == len(lines)
    key = ["event_time_utc", "event_type", "session_id", "conversation_id", "agent_id", "event_id"]

    def canon(ev):
        return ev[key].astype(str).sort_values(key).reset_index(drop=True)

    pd.testing.assert_frame_equal(canon(a), canon(b))
    assert ca.load_report(a).counts() == ca.load_report(b).counts()
