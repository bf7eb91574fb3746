"""The capture format: one JSON object per Dynamic Chat callback, one per line (or a JSON array of them).

A record is ``{"ts": ISO-8601, "event": "<constant name>", "payload": {...}, "page_url": ...,
"visitor_id": ...}``, with the payload keys Adobe documents (``name``, ``id``, ``type``, ``uiType``,
``sid``, ``agentName``, ``agentID``, ``meetingInfo``). The bare ``event.data`` object a listener may log
is read too: ``payload`` (and ``ts``, ``event``, ``page_url``, ``visitor_id``, ``event_id``) may sit under
``data``. Absent keys, ``null`` and empty strings are all read as missing. ``ts`` may carry any UTC offset;
a time without one is read as UTC (and counted in the report's notes); 13 digits (``Date.now()``) are
epoch milliseconds and 10 digits epoch seconds. The event name is matched to the
11 constants ignoring case and surrounding spaces. Numeric ids are kept as strings without a decimal
part (``4471902``, never ``4471902.0``). ``meetingInfo`` is kept as raw JSON text.

A JSON array of records (``copy(JSON.stringify(records))`` in DevTools) is read too, its records
numbered by position. Blocks of lines are parsed by DuckDB's JSON functions (one parse per line, on all
cores). Only a block that holds a bad record is parsed a second time, with a validity guard, to isolate it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import LoaderError
from ..schema import EVENT_TYPES
from ._files import is_gzip, read_head
from ._json_sql import naive_sql, time_text
from ._jsonl import (
    first_array_element,
    is_capture_record,
    parse_block,
    read_blocks,
    read_json_records,
    read_with_line_scan,
    stream,
)
from ._protocol import ReadContext, ReadResult
from ._sql import IGNORED_CHECK, NOT_OBJECT_OR_NO_TIME, Status, status_sql, strip_sql, time_checks

FORMAT = "capture"

#: The format's name and description, as ``read_events(format=...)`` takes it.
FORMATS = {FORMAT: "newline-delimited JSON of captured Dynamic Chat callbacks (.jsonl, .jsonl.gz)"}

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


_STRIPPED_EV = f"upper({strip_sql('ev')})"


def _tail(source: str, *, object_check: str) -> str:
    """Classify and convert the raw fields selected by ``source`` (idx, valid, has_data, fields).

    String fields come out raw; empty strings and ``4471902.0``-style ids are cleaned in Arrow
    afterwards (see ``clean_strings``), which is cheaper than doing it row by row here.
    """
    status = status_sql(
        *time_checks("ts", "t", object_check), ("ev IS NULL", Status.MISSING_EVENT_NAME), IGNORED_CHECK
    )
    return f"""
WITH f AS ({source}),
g AS (
  SELECT *, nullif(ts_raw, '') AS ts, nullif(ev_raw, '') AS ev FROM f
),
h AS (
  SELECT *, {time_text("ts")} AS t,
         CAST(coalesce(list_position({_EVENT_LIST}, ev), list_position({_EVENT_LIST}, {_STRIPPED_EV})) - 1
              AS TINYINT) AS code
  FROM g
)
SELECT idx, has_data,
  {status} AS status,
  t AS event_time_utc, code,
  CASE WHEN code IS NULL THEN ev END AS event_name,
  {", ".join(STRING_FIELDS)},
  {naive_sql("ts", "t")} AS naive
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
    return _tail(source, object_check=NOT_OBJECT_OR_NO_TIME)


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
    return _tail(source, object_check=f"{Status.MISSING_TIME}")


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


def sniff(path: Path, head: bytes) -> str | None:
    """``"capture"`` when a file is empty or blank, its first non-blank byte opens a JSON object, or it is
    a JSON array whose first element is a capture record.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.strip() or stripped[:1] == b"{":
        return FORMAT
    return FORMAT if is_capture_record(first_array_element(head)) else None


def parse_file(con: duckdb.DuckDBPyConnection, path: Path) -> ReadResult | None:
    """Read a whole uncompressed file with DuckDB's JSON reader, the fast path.

    Returns None when the file needs the isolation path (a record that is not a JSON object, bytes that
    are not UTF-8, or any disagreement in the count); see
    :func:`~chatanalytics.io._jsonl.read_with_line_scan`.
    """

    def run() -> pa.Table:
        out = stream(con, _file_query(str(path), with_data=False))
        if pc.any(out.column("has_data")).as_py():
            out = stream(con, _file_query(str(path), with_data=True))
        return out

    return read_with_line_scan(path, run)


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one capture file: a plain file whole through DuckDB's JSON reader, a gzip file (or a plain
    one holding a bad record) block by block.

    See :class:`chatanalytics.io.Format`. Records are numbered by line, or by position in a JSON array
    whose first element is a record (an array that does not parse whole is read line by line, with a
    note); times without a UTC offset are counted in ``ctx``'s totals.
    """
    result: ReadResult | None = None
    if is_capture_record(first_array_element(read_head(path))):
        try:
            result = read_json_records(ctx, path, (_FAST, _GUARDED))
        except LoaderError as err:  # not one well-formed array: every line is a record, as in any file
            ctx.notes.append(f"{err}; its lines were read as JSON lines")
    elif not is_gzip(path):
        result = parse_file(ctx.con, path)
    if result is None:
        result = read_blocks(path, lambda block: parse_block(ctx.con, block, (_FAST, _GUARDED), path))
    naive = 0
    tables = result.tables
    for k, (table, lines) in enumerate(tables):
        naive += int(pc.sum(table.column("naive")).as_py() or 0)
        tables[k] = (clean_strings(table.drop_columns(["naive"])), lines)
    ctx.count("naive", naive, "{n:,} event time(s) carried no UTC offset and were read as UTC")
    return result
