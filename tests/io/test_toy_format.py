"""A new export format is one class (or module) plus one registration line.

The toy ``.chat`` format below is made up for this test: a first line ``#chat v1``, then one
``time,event,session`` row per line. Registered at run time, it is detected and read by ``read_events``
like a built-in format, with a load report, and is gone again once unregistered.

toy.chat, by line (line 1 is the header, no record):

==  =======================================  ==============================================
 2  09:00:00 CONVERSATION_TRIGGERED s1       event
 3  09:00:05 CONVERSATION_ENGAGED s1         event
 4  the same row again                       duplicate of line 3 (same type, time, session)
 5  09:01:00 page_view s1                    ignored, named "page_view"
 6  "not a time" CONVERSATION_CLOSED s1      rejected, unparseable time
==  =======================================  ==============================================
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

import chatanalytics as ca
from chatanalytics.io import ReadContext, ReadResult, register_format, unregister_format
from chatanalytics.schema import EVENT_TYPES

TOY = """#chat v1
2026-11-02T09:00:00Z,CONVERSATION_TRIGGERED,s1
2026-11-02T09:00:05Z,CONVERSATION_ENGAGED,s1
2026-11-02T09:00:05Z,CONVERSATION_ENGAGED,s1
2026-11-02T09:01:00Z,page_view,s1
not a time,CONVERSATION_CLOSED,s1
"""


class ChatFile:
    """The toy format: sniff by its first line, read with pyarrow's CSV reader and DuckDB."""

    FORMATS: ClassVar[dict[str, str]] = {
        "toy_chat": "a made-up CSV of chat events (.chat): '#chat v1', then time,event,session"
    }

    def sniff(self, path: Path, head: bytes) -> str | None:
        return "toy_chat" if head.startswith(b"#chat v1\n") else None

    def read(self, ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
        names = ["ts", "ev", "session_id"]
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
        lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
        events = ", ".join(f"'{e}'" for e in EVENT_TYPES)
        ctx.con.register("toy", table)
        try:
            out = ctx.con.sql(
                "SELECT CAST(try_cast(ts AS TIMESTAMPTZ) AS TIMESTAMPTZ) AS event_time_utc, "
                f"CAST(list_position([{events}], ev) - 1 AS TINYINT) AS code, session_id FROM toy"
            ).to_arrow_table()
        finally:
            ctx.con.unregister("toy")
        result = ReadResult(records=table.num_rows)
        ignored = pc.is_null(out.column("code")).to_numpy(zero_copy_only=False)
        bad = pc.is_null(out.column("event_time_utc")).to_numpy(zero_copy_only=False) & ~ignored
        result.ignored.add_arrays(lines[ignored], table.column("ev").filter(pa.array(ignored)))
        for i in np.flatnonzero(bad):  # the few rejected rows only
            raw = ",".join(str(table.column(c)[int(i)]) for c in names).encode()
            result.rejected.append((int(lines[i]), "unparseable time", raw))
        keep = pa.array(~ignored & ~bad)
        result.add_table(out.filter(keep), lines[~ignored & ~bad])
        return result


@pytest.fixture
def toy_format():
    fmt = register_format(ChatFile())  # the one registration line
    try:
        yield fmt
    finally:
        unregister_format(fmt)


def read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(path, **kw)


def test_a_registered_toy_format_is_detected_and_read(toy_format, tmp_path):
    path = tmp_path / "toy.chat"
    path.write_text(TOY, encoding="utf-8")
    assert ca.FORMATS["toy_chat"].startswith("a made-up CSV")
    events = read(path)  # detected from its first line
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_TRIGGERED", "CONVERSATION_ENGAGED"]
    assert events["session_id"].tolist() == ["s1", "s1"]
    assert events["source_format"].astype(str).tolist() == ["toy_chat", "toy_chat"]
    assert events["source_record"].tolist() == [2, 3]
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 5,
        "events": 2,
        "rejected": 1,
        "duplicates": 1,
        "ignored": 1,
        "derived": 0,
    }
    assert report.files["source_format"].tolist() == ["toy_chat"]
    assert report.duplicates["source_record"].tolist() == [4]
    assert report.duplicates["duplicate_of_record"].tolist() == [3]
    assert report.ignored["event_name"].tolist() == ["page_view"]
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[6, "unparseable time"]]
    assert report.rejected["raw"].tolist() == ["not a time,CONVERSATION_CLOSED,s1"]
    assert len(read(path, format="toy_chat")) == 2


def test_a_toy_format_is_read_beside_a_built_in_one(toy_format, tmp_path):
    (tmp_path / "toy.chat").write_text(TOY, encoding="utf-8")
    (tmp_path / "capture.jsonl").write_text(
        '{"ts": "2026-11-02T10:00:00Z", "event": "CONVERSATION_CLOSED", "payload": {"sid": "s2"}}\n',
        encoding="utf-8",
    )
    events = read([tmp_path / "capture.jsonl", tmp_path / "toy.chat"])
    files = ca.load_report(events).files
    assert files["source_format"].tolist() == ["capture", "toy_chat"]
    assert files["events"].tolist() == [1, 2]


def test_an_unregistered_format_is_gone(tmp_path):
    path = tmp_path / "toy.chat"
    path.write_text(TOY, encoding="utf-8")
    fmt = register_format(ChatFile())
    with pytest.raises(ca.InvalidParameterError, match="toy_chat"):
        register_format(ChatFile())  # one name, one format
    unregister_format(fmt)
    assert "toy_chat" not in ca.FORMATS
    with pytest.raises(ca.InvalidParameterError, match="toy_chat"):
        ca.read_events(path, format="toy_chat")
    with pytest.raises(ca.LoaderError, match="cannot tell the format"):
        ca.read_events(path)
