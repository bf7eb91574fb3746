"""The capture format: one JSON object per Dynamic Chat callback, one per line.

A record is ``{"ts": ISO-8601, "event": "<constant name>", "payload": {...}, "page_url": ...,
"visitor_id": ...}``, with the payload keys Adobe documents (``name``, ``id``, ``type``, ``uiType``,
``sid``, ``agentName``, ``agentID``, ``meetingInfo``). The bare ``event.data`` object a listener may log
is read too: ``payload`` (and ``ts``, ``event``, ``page_url``, ``visitor_id``, ``event_id``) may sit under
``data``. Absent keys, ``null`` and empty strings are all read as missing. ``ts`` may carry any UTC offset;
a time without one is read as UTC (and counted in the report's notes). The event name is matched to the
11 constants ignoring case and surrounding spaces. Numeric ids are kept as strings without a decimal
part (``4471902``, never ``4471902.0``). ``meetingInfo`` is kept as raw JSON text.

Blocks of lines are parsed by DuckDB's JSON functions (one parse per line, on all cores). Only a block
that holds a bad record is parsed a second time, with a validity guard, to isolate it.
"""

from __future__ import annotations

import codecs
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import EVENT_TYPES
from ._files import Block
from ._ignored import IgnoredRecords

FORMAT = "capture"

# status codes produced by the query (rejections use the reason texts of _report.REJECT_REASONS)
OK, IGNORED = 0, 9
REASONS = {
    1: "non-UTF-8 bytes",
    2: "malformed JSON",
    3: "not a JSON object",
    4: "missing time",
    5: "unparseable time",
    6: "missing event name",
}

_FIELDS = [  # canonical name, JSON key (read at the top level, or else under "data")
    ("ts", "ts"),
    ("ev", "event"),
    ("conversation_name", "payload.name"),
    ("conversation_id", "payload.id"),
    ("conversation_type", "payload.type"),
    ("ui_type", "payload.uiType"),
    ("session_id", "payload.sid"),
    ("agent_name", "payload.agentName"),
    ("agent_id", "payload.agentID"),
    ("meeting_info", "payload.meetingInfo"),
    ("page_url", "page_url"),
    ("visitor_id", "visitor_id"),
    ("event_id", "event_id"),
]
_ID_FIELDS = {"conversation_id", "session_id", "agent_id", "visitor_id", "event_id"}
_PATHS = [p for _, key in _FIELDS for p in (f"$.{key}", f"$.data.{key}")]
_EVENT_LIST = "[" + ", ".join(f"'{e}'" for e in EVENT_TYPES) + "]"
_PATH_LIST = "[" + ", ".join(f"'{p}'" for p in _PATHS) + "]"

#: Columns of a parsed block that only the parser needs.
PARSE_ONLY = ["idx", "has_data", "status", "event_name", "naive"]

#: The canonical string columns the capture format fills.
STRING_FIELDS: tuple[str, ...] = tuple(name for name, _ in _FIELDS[2:])

# read_json's typed columns. A VARCHAR column reads a string unquoted, a number as its text and an
# object as its JSON text, exactly as json_extract_string does on the isolation path.
_PAYLOAD = "STRUCT(" + ", ".join(f'"{k.split(".")[1]}" VARCHAR' for _, k in _FIELDS if "." in k) + ")"
_TOP = [k for _, k in _FIELDS if "." not in k]
_COLUMNS_PLAIN = (
    "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in _TOP) + f", 'payload': '{_PAYLOAD}', 'data': 'JSON'" + "}"
)
_COLUMNS_DATA = (
    "{"
    + ", ".join(f"'{k}': 'VARCHAR'" for k in _TOP)
    + f", 'payload': '{_PAYLOAD}', 'data': 'STRUCT("
    + ", ".join(f'"{k}" VARCHAR' for k in _TOP)
    + f', "payload" {_PAYLOAD})'
    + "'}"
)


def _tail(source: str, *, object_check: str) -> str:
    """Classify and convert the raw fields selected by ``source`` (idx, valid, has_data, fields).

    String fields come out raw; empty strings and ``4471902.0``-style ids are cleaned in Arrow
    afterwards (see ``clean_strings``), which is cheaper than doing it row by row here.
    """
    return f"""
WITH f AS ({source}),
g AS (
  SELECT *, nullif(ts_raw, '') AS ts, nullif(ev_raw, '') AS ev FROM f
),
h AS (
  SELECT *, try_cast(ts AS TIMESTAMPTZ) AS t,
         CAST(coalesce(list_position({_EVENT_LIST}, ev), list_position({_EVENT_LIST}, upper(trim(ev)))) - 1
              AS TINYINT) AS code
  FROM g
)
SELECT idx, has_data,
  CAST(CASE WHEN NOT valid THEN 2
       WHEN ts IS NULL THEN {object_check}
       WHEN t IS NULL THEN 5
       WHEN ev IS NULL THEN 6
       WHEN code IS NULL THEN {IGNORED}
       ELSE {OK} END AS TINYINT) AS status,
  t AS event_time_utc, code,
  CASE WHEN code IS NULL THEN ev END AS event_name,
  {", ".join(STRING_FIELDS)},
  NOT suffix(ts, 'Z') AND t IS NOT NULL
    AND NOT (suffix(ts, 'z') OR substr(ts, -6, 1) IN ('+', '-') OR substr(ts, -5, 1) IN ('+', '-')) AS naive
FROM h
"""


def _names(name: str) -> str:
    return {"ts": "ts_raw", "ev": "ev_raw"}.get(name, name)


def _lines_query(guard: bool) -> str:
    """Query over a registered table ``blk(idx, text)`` of lines (the isolation path)."""
    extract = f"json_extract_string(text, {_PATH_LIST})"
    if guard:
        extract = f"CASE WHEN json_valid(text) THEN {extract} END"
    valid = "json_valid(text)" if guard else "true"
    fields = ", ".join(
        f"coalesce(j[{2 * i + 1}], j[{2 * i + 2}]) AS {_names(name)}" for i, (name, _) in enumerate(_FIELDS)
    )
    source = f"""
  SELECT idx, valid, false AS has_data, text, {fields}
  FROM (SELECT idx, text, {valid} AS valid, {extract} AS j FROM blk WHERE text IS NOT NULL)"""
    return _tail(source, object_check="CASE WHEN json_type(text) <> 'OBJECT' THEN 3 ELSE 4 END")


def _file_query(path: str, *, with_data: bool) -> str:
    """Query reading a whole uncompressed file with read_json (the fast path).

    Without ``with_data`` only top-level keys are read and ``has_data`` tells whether any record
    carries a ``data`` object; the caller then reads the file again with ``with_data``.
    """
    quoted = path.replace("'", "''")
    if with_data:
        fields = ", ".join(f"coalesce(r.{k}, r.data.{k}) AS {_names(name)}" for name, k in _FIELDS)
        has_data, columns = "false", _COLUMNS_DATA
    else:
        fields = ", ".join(f"r.{k} AS {_names(name)}" for name, k in _FIELDS)
        has_data, columns = "r.data IS NOT NULL", _COLUMNS_PLAIN
    source = f"""
  SELECT CAST(0 AS INTEGER) AS idx, true AS valid, {has_data} AS has_data, {fields}
  FROM read_json('{quoted}', format = 'newline_delimited', columns = {columns},
                 maximum_object_size = 134217728) AS r"""
    return _tail(source, object_check="4")


_FAST = _lines_query(guard=False)
_GUARDED = _lines_query(guard=True)


def clean_strings(table: pa.Table) -> pa.Table:
    """Empty strings become null; whole-number ids lose their decimal part (``4471902.0``)."""
    for name in STRING_FIELDS:
        col = table.column(name)
        empty = pc.equal(col, "")
        if pc.any(empty).as_py():
            col = pc.if_else(empty, pa.scalar(None, col.type), col)
        if name in _ID_FIELDS and pc.any(pc.ends_with(col, ".0")).as_py():
            whole = pc.match_substring_regex(col, r"^-?[0-9]+\.0+$")
            col = pc.if_else(whole, pc.replace_substring_regex(col, r"\.0+$", ""), col)
        table = table.set_column(table.column_names.index(name), name, col)
    return table


@dataclass
class BlockResult:
    events: pa.Table  # status == OK rows: idx, event_time_utc, code, canonical strings, naive, key_hash
    lines: np.ndarray  # 1-based line numbers of the event rows
    rejected: list[tuple[int, str, bytes]] = field(default_factory=list)  # (line, reason, raw)
    ignored: IgnoredRecords = field(default_factory=IgnoredRecords)  # line numbers and event names
    records: int = 0


def parse_block(con: duckdb.DuckDBPyConnection, block: Block) -> BlockResult:
    """Parse one block of whole lines; every non-blank line becomes an event, a rejection or ignored."""
    data, starts = block.data, block.starts
    n = len(starts)
    ends = _ends(starts, len(data))
    blank = _blank_lines(data, starts, ends)
    offsets = np.append(starts, len(data)).astype(np.int64)
    try:
        out = _run(con, _table(data, offsets, ~blank), _FAST)
        bad_utf8 = np.zeros(n, dtype=bool)
    except (duckdb.Error, UnicodeDecodeError):
        bad_utf8 = _non_utf8_lines(data, starts, ends) & ~blank
        out = _run(con, _table(data, offsets, ~blank & ~bad_utf8), _GUARDED)
    row_line = out.column("idx").to_numpy().astype(np.int64)  # 0-based line index in the block
    result = _collect(out, row_line, data, starts, ends, block.first_line)
    result.records = int(n - blank.sum())
    for i in np.flatnonzero(bad_utf8):
        result.rejected.append((block.first_line + int(i), REASONS[1], data[starts[i] : ends[i]]))
    result.rejected.sort()
    return result


def parse_file(con: duckdb.DuckDBPyConnection, path: Path) -> BlockResult | None:
    """Read a whole uncompressed file with DuckDB's JSON reader, the fast path.

    Line numbers come from a newline scan of the file, run in a thread while DuckDB parses: the k-th
    row DuckDB returns (it keeps file order) is the k-th non-blank line. Returns None when the file
    needs the isolation path (a record that is not a JSON object, bytes that are not UTF-8, or any
    disagreement in the count).
    """

    def run() -> pa.Table:
        out = _stream(con, _file_query(str(path), with_data=False))
        if pc.any(out.column("has_data")).as_py():
            out = _stream(con, _file_query(str(path), with_data=True))
        return out

    return read_with_line_scan(path, run)


def read_with_line_scan(path: Path, run: Any) -> BlockResult | None:
    """Run ``run()`` (a DuckDB read of the whole file giving one row per non-blank line, in order) while a
    thread scans the file for line starts; pair rows with line numbers. None when the read fails (not
    JSON objects, bytes that are not UTF-8) or the counts disagree: the caller then isolates lines."""
    size = path.stat().st_size
    if size == 0:
        return BlockResult(events=pa.table({}), lines=np.empty(0, dtype=np.int64))
    with path.open("rb", buffering=0) as fh:
        source = _FileBytes(fh.fileno())
        with ThreadPoolExecutor(max_workers=1) as pool:
            scan = pool.submit(_scan_lines, fh.fileno(), size)
            try:
                out = run()
            except (duckdb.Error, UnicodeDecodeError):
                out = None
            starts, ends, blank = scan.result()
        if out is None:
            return None
        lines = np.flatnonzero(~blank)
        if out.num_rows != len(lines):
            return None
        result = _collect(out, lines, source, starts, ends, 1)
        result.records = len(lines)
        return result


def _stream(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run a query and collect its result batch by batch, so DuckDB never holds the whole result in its
    own format beside the Arrow copy."""
    return con.sql(sql).to_arrow_reader(batch_size=1 << 17).read_all()


class _FileBytes:
    """``source[a:b]`` reads those bytes of an open file (for the few records quoted in the report)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __getitem__(self, span: slice) -> bytes:
        return os.pread(self.fd, span.stop - span.start, span.start)


_SCAN_BYTES = 16 << 20


def _scan_lines(fd: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Line starts, ends and blank flags of a file, read in pieces (its pages are not mapped)."""
    buf = bytearray(_SCAN_BYTES)
    parts = [np.zeros(1, dtype=np.int64)]
    offset = 0
    while offset < size:
        n = os.preadv(fd, [buf], offset)
        if n <= 0:
            break
        parts.append(np.flatnonzero(np.frombuffer(buf, dtype=np.uint8, count=n) == 10) + (offset + 1))
        offset += n
    starts = np.concatenate(parts)
    if starts[-1] >= size:
        starts = starts[:-1]
    ends = _ends(starts, size)
    blank = np.zeros(len(starts), dtype=bool)
    for i in np.flatnonzero((ends - starts) <= _SHORT):  # few: only blank or tiny lines
        blank[i] = not os.pread(fd, int(ends[i] - starts[i]), int(starts[i])).strip()
    return starts, ends, blank


def _ends(starts: np.ndarray, size: int) -> np.ndarray:
    ends = np.empty(len(starts), dtype=np.int64)
    ends[:-1] = starts[1:]
    if len(starts):
        ends[-1] = size
    return ends


def _collect(
    out: pa.Table, row_line: np.ndarray, data: Any, starts: np.ndarray, ends: np.ndarray, first_line: int
) -> BlockResult:
    """Split a parsed table into events, rejections (with their raw bytes) and ignored records."""
    status = out.column("status").to_numpy()
    result = BlockResult(events=out, lines=row_line + first_line)
    if (status == OK).all():
        return result
    keep = status == OK
    result.events = out.filter(pa.array(keep))
    result.lines = result.lines[keep]
    for code, reason in REASONS.items():
        for i in row_line[status == code]:
            result.rejected.append((first_line + int(i), reason, bytes(data[starts[i] : ends[i]])))
    ign = status == IGNORED
    if ign.any():
        result.ignored.add_arrays(row_line[ign] + first_line, out.column("event_name").filter(pa.array(ign)))
    return result


def _run(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str) -> pa.Table:
    con.register("blk", table)
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.unregister("blk")


def _table(data: bytes, offsets: np.ndarray, valid: np.ndarray) -> pa.Table:
    n = len(offsets) - 1
    if valid.all():
        text = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    else:
        bitmap = pa.array(valid).buffers()[1]
        text = pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap, null_count=int((~valid).sum())
        )
    return pa.table({"idx": pa.array(np.arange(n, dtype=np.int32)), "text": text})


_WHITESPACE = np.array([9, 10, 11, 12, 13, 32], dtype=np.uint8)
_SHORT = 16


def _blank_lines(data: Any, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines holding only ASCII whitespace. Only lines of at most 16 bytes can be blank here (a longer
    run of spaces is a record, and is rejected as malformed JSON); those are checked as one array."""
    blank = np.zeros(len(starts), dtype=bool)
    short = np.flatnonzero((ends - starts) <= _SHORT)
    if len(short) == 0:
        return blank
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        idx = starts[short, None] + np.arange(_SHORT)[None, :]
        inside = idx < ends[short, None]
        chars = buf[np.minimum(idx, len(buf) - 1)]
        blank[short] = ~(inside & ~np.isin(chars, _WHITESPACE)).any(axis=1)
    finally:
        del buf
    return blank


def _non_utf8_lines(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines that are not valid UTF-8, found by decoding from each error onwards."""
    bad = np.zeros(len(starts), dtype=bool)
    view = memoryview(data)
    pos = 0
    hops = 0
    while pos < len(data):
        try:
            codecs.utf_8_decode(view[pos:], "strict", True)
            break
        except UnicodeDecodeError as err:
            line = int(np.searchsorted(starts, pos + err.start, side="right") - 1)
            bad[line] = True
            pos = int(ends[line])
            hops += 1
            if hops > 64:  # many bad lines: check the rest line by line instead
                for i in range(line + 1, len(starts)):
                    try:
                        codecs.utf_8_decode(view[starts[i] : ends[i]], "strict", True)
                    except UnicodeDecodeError:
                        bad[i] = True
                break
    return bad


def sniff(head: bytes) -> bool:
    """True when the first non-blank byte of a file opens a JSON object."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped[:1] == b"{"
