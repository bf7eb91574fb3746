"""Property tests: garbage never escapes as anything but ChatAnalyticsError, and every record is counted."""

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
from chatanalytics.schema import COLUMNS, EVENT_TYPES
from tests.conftest import record_lines
from tests.io.test_format_contract import REGISTERED, assert_adds_up, fixture_of

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
    return len(record_lines(data))


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


# ------------------------------------------------------------------------------ every registered format


def _fixture_bytes(name: str, tmp_path) -> tuple[Path, dict[str, str], bytes, bool]:
    """The format's fixture (copied into ``tmp_path``), its read arguments, its text (decompressed when
    the fixture is gzip) and whether it was gzip."""
    path, kw, _ = fixture_of(name, tmp_path)
    data = path.read_bytes()
    gz = data[:2] == b"\x1f\x8b"
    return path, kw, gzip.decompress(data) if gz else data, gz


def _read_or_explain(path: Path, fmt: str | None, kw: dict[str, str]) -> None:
    """Reading raises nothing but a ChatAnalyticsError, and a read's report adds up."""
    try:
        events = read_quietly(path, format=fmt, **kw)
    except ca.ChatAnalyticsError as err:
        assert str(err)
        return
    assert_adds_up(events)


def read_quietly(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(path, **kw)


_MUTATION = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "cut", "newline", "bom"]),
    st.floats(0, 1, allow_nan=False),
    st.binary(min_size=1, max_size=8),
)


def _mutate(data: bytes, mutations: list[tuple[str, float, bytes]]) -> bytes:
    buf = bytearray(data)
    for kind, where, blob in mutations:
        at = min(int(where * len(buf)), max(len(buf) - 1, 0))
        if kind == "flip" and buf:
            buf[at] ^= blob[0] or 1
        elif kind == "insert":
            buf[at:at] = blob
        elif kind == "delete":
            del buf[at : at + len(blob)]
        elif kind == "cut":
            del buf[at:]
        elif kind == "newline":
            buf[at:at] = b"\n" if blob[0] % 2 else b"\r"
        else:
            buf[at:at] = b"\xef\xbb\xbf"
    return bytes(buf)


@pytest.mark.slow
@pytest.mark.parametrize("name", REGISTERED)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(_MUTATION, min_size=1, max_size=4), in_gzip=st.booleans())
def test_mutated_fixtures_of_every_format_read_or_explain(tmp_path_factory, name, mutations, in_gzip):
    """Bytes of each format's fixture flipped, inserted, deleted, cut, or line ends and BOMs added (in
    the text, or in the compressed bytes of a gzip fixture): detected or forced, the read gives a
    report that adds up or raises a ChatAnalyticsError."""
    path, kw, text, gz = _fixture_bytes(name, tmp_path_factory.mktemp("m"))
    if gz and in_gzip:
        path.write_bytes(_mutate(path.read_bytes(), mutations))
    else:
        mutated = _mutate(text, mutations)
        path.write_bytes(gzip.compress(mutated) if gz else mutated)
    _read_or_explain(path, name, kw)
    if path.stat().st_size:
        _read_or_explain(path, None, kw)  # detected: the same format, another one, or none (LoaderError)


@pytest.mark.slow
@pytest.mark.parametrize("name", REGISTERED)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(min_size=1, max_size=400), keep_head=st.booleans())
def test_garbage_in_every_format_reads_or_explains(tmp_path_factory, name, garbage, keep_head):
    """Random bytes alone, or after the fixture's first line, read as the format."""
    path, kw, text, gz = _fixture_bytes(name, tmp_path_factory.mktemp("g"))
    data = (text.split(b"\n", 1)[0] + b"\n" + garbage) if keep_head else garbage
    path.write_bytes(gzip.compress(data) if gz else data)
    _read_or_explain(path, name, kw)
