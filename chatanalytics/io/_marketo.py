"""Marketo Engage Bulk Activity Extract files as canonical events.

A file is what ``GET /bulk/v1/activities/export/{exportId}/file.json`` returns: CSV (the default), TSV
or SSV (semicolon- or space-separated), one activity per record, with the header
``marketoGUID,leadId,activityDate,activityTypeId,campaignId,primaryAttributeValueId,
primaryAttributeValue,attributes`` (and ``actionResult`` when asked for). Fields follow RFC 4180: a
field holding the delimiter, a quote or a line break is quoted and its quotes are doubled, so the JSON of
``attributes`` sits in one field. An empty value is the literal ``null``. Plain and gzip files are
read; a record number is the line on which the record starts (the header is line 1).

Headers renamed with the job's ``columnHeaderNames`` are recognised ignoring case, spaces,
underscores, hyphens and dots; each column is found under these names (after that folding):

========================  ======================================================================
field                     accepted headers
========================  ======================================================================
marketoGUID               ``marketoguid``, ``guid``, ``activityguid``, ``marketoactivityguid``
leadId                    ``leadid``, ``lead``, ``personid``, ``marketoleadid``, ``marketopersonid``
activityDate              ``activitydate``, ``activitydatetime``, ``activitytime``,
                          ``activitytimestamp``, ``date``, ``datetime``, ``timestamp``
activityTypeId            ``activitytypeid``, ``typeid``, ``activitytype``
activity type name        ``activitytypename``, ``typename``, ``activityname``, ``activity``
primaryAttributeValueId   ``primaryattributevalueid``, ``primaryattributeid``, ``primaryvalueid``
primaryAttributeValue     ``primaryattributevalue``, ``primaryattribute``, ``primaryvalue``
attributes                ``attributes``, ``attribute``, ``activityattributes``
actionResult              ``actionresult``, ``result``
========================  ======================================================================

The delimiter is the one of comma, tab, semicolon and space under which the header names the most of
these fields. A file needs a date column, a type column (id or name) and a GUID or lead column.

Activity types. ``activityTypeId`` is a number whose meaning differs between Marketo subscriptions, so it
is named through the response of ``GET /rest/v1/activities/types.json`` (``{"result": [{"id": ...,
"name": ...}, ...]}``, a bare list of those types, or a list of such responses, one per page), saved
as ``types.json`` (or ``activity_types.json``) next to the export, in an ``activities/`` folder next to
it, or in an ``activities/`` folder beside or above one of its three parent folders. A value of the id
column that is not a number, or the file's own activity type name column, names the type when
``types.json`` does not. With neither, reading the file raises
:class:`~chatanalytics.errors.LoaderError` saying where to put ``types.json``. When a folder is read,
the ``types.json`` inside it is recognised and counted as a file of no records.

Dynamic Chat activity names are matched ignoring case and spacing, in either tense, with "Dialogue"
or "Dialog", "Conversational Flow", "Conversation Flow" or "Conversational Form", with or without
"a"/"an":

- ``Engaged with a Dialogue`` / ``Engaged with a Conversational Flow`` (``Engages with ...``,
  ``Engaged Dialogue``) -> ``CONVERSATION_ENGAGED``;
- ``Engaged with an Agent in Dialogue`` / ``... in Conversational Flow`` ->
  ``CONVERSATION_LIVE_CHAT_INITIATED``;
- ``Scheduled Meeting in Dialogue`` / ``... in Conversational Flow`` (``Schedules Meeting in ...``) ->
  ``CONVERSATION_MEETING_BOOKED``.

Goals (``Reached Dialogue Goal``), documents (``Interacted with Document in ...``) and every other
activity (``Visit Webpage``, ``Fill Out Form``) are *ignored* and reported with the activity's name; an
id that ``types.json`` does not list as ``activityTypeId <id> (not in types.json)``. A chat activity
whose ``actionResult`` is ``skipped`` or ``failed`` is ignored as ``<name> (actionResult=failed)``.

Mapping. Marketo does not publish the attribute names of the Dynamic Chat activities, so attributes
are looked up by name ignoring case, spaces and punctuation, from the JSON object in ``attributes``
or from its older list form ``[{"name": ..., "value": ...}]``:

- ``event_time_utc`` <- ``activityDate`` (``2022-02-13T14:06:20Z`` or ``2013-09-26T06:56:35+0000``;
  any UTC offset; a time without one is read as UTC and counted in the notes); ``time_granularity``
  ``second``.
- ``conversation_id`` <- attribute ``Dialogue ID``, ``Dialog ID``, ``Conversational Flow ID``,
  ``Conversation Flow ID``, ``Conversational Form ID``, ``Flow ID`` or ``Conversation ID``, else
  ``primaryAttributeValueId``.
- ``conversation_name`` <- attribute ``Dialogue Name``, ``Dialog Name``, ``Conversational Flow
  Name``, ``Conversation Flow Name``, ``Conversational Form Name``, ``Flow Name`` or ``Conversation
  Name``, else ``primaryAttributeValue``, else attribute ``Name``.
- ``conversation_type`` <- ``dialogue`` or ``conversational_flow``, from the activity's name.
- ``ui_type`` <- attribute ``UI Type`` or ``Interacted UI Type``.
- ``agent_id`` <- attribute ``Agent ID``; ``agent_name`` <- attribute ``Agent Name`` or ``Agent``
  (``Agent Email`` is never read).
- ``meeting_info`` (meetings only) <- ``{"scheduledFor": <Scheduled For>, "status": <Meeting
  Status>}`` with the attributes present.
- ``page_url`` <- attribute ``Page URL``, ``Webpage URL``, ``Web Page URL`` or ``URL``.
- ``visitor_id`` <- ``leadId``. There is no Dynamic Chat session id (``session_id`` is null) and no
  analytics session.
- ``event_id`` <- ``marketo:`` + ``marketoGUID``, so an activity exported twice by overlapping
  export windows is kept once (the copy read first); without a GUID column, ``marketo:`` +
  ``leadId|activityDate|activityTypeId|primaryAttributeValueId``.
- ``Conversation Status`` (attribute ``Conversation Status``, engaged activities only): ``Completed``
  gives, besides the ``CONVERSATION_ENGAGED`` event, a *derived* ``CONVERSATION_COMPLETED`` and
  ``Dropped`` a derived ``CONVERSATION_CLOSED`` (the value matched ignoring case and surrounding
  spaces); ``Initiated`` or no value gives none, and any other value gives none and is counted in a
  note naming the values. A derived event is a copy of the engaged event (same time, visitor,
  conversation, UI type, page and record number) whose ``event_id`` ends in ``:status``; it is no
  record, so the load report counts it as ``derived`` (records = events + rejected + duplicates +
  ignored; the frame holds events + derived rows). The derived events of a file follow its events in
  the frame. The status of any other activity (a meeting's ``Meeting Status``, or a ``Conversation
  Status`` on a meeting) is never read as one.

A record without a date, with a date that cannot be read, or without an activity type is rejected, as
is a record DuckDB's CSV reader cannot split into the header's columns (wrong number of columns, an
unterminated quote, bytes that are not UTF-8).

The file is parsed by DuckDB's ``read_csv`` (every column as text, RFC 4180 quoting, bad records kept
aside with their record numbers) and mapped by one DuckDB query; the records' first lines are found by
a vectorised scan for the line breaks outside quotes; the derived events are an Arrow filter of the
mapped rows. No Python code runs per record.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import LoaderError
from ..schema import EVENT_TYPES, TIME_GRANULARITIES
from ._files import StreamState, iter_blocks, read_head
from ._jsonl import split_rows
from ._protocol import ReadContext, ReadResult
from ._sql import Status, clean_id, lit

FORMAT = "marketo_bulk"
FORMATS: dict[str, str] = {
    FORMAT: "Marketo Engage Bulk Activity Extract (CSV, TSV or SSV), named through activities/types.json"
}

#: Field -> the header names (lower case, only letters and digits) under which it is recognised.
HEADERS: dict[str, tuple[str, ...]] = {
    "guid": ("marketoguid", "guid", "activityguid", "marketoactivityguid"),
    "lead": ("leadid", "lead", "personid", "marketoleadid", "marketopersonid"),
    "date": (
        "activitydate",
        "activitydatetime",
        "activitytime",
        "activitytimestamp",
        "date",
        "datetime",
        "timestamp",
    ),
    "type_id": ("activitytypeid", "typeid", "activitytype"),
    "type_name": ("activitytypename", "typename", "activityname", "activity"),
    "campaign": ("campaignid", "campaign"),
    "pav_id": ("primaryattributevalueid", "primaryattributeid", "primaryvalueid"),
    "pav": ("primaryattributevalue", "primaryattribute", "primaryvalue"),
    "attributes": ("attributes", "attribute", "activityattributes"),
    "result": ("actionresult", "result"),
}
_DELIMITERS = (",", "\t", ";", " ")

#: File names tried for the activity types, in order.
TYPE_FILES = ("types.json", "activity_types.json", "activity-types.json", "activityTypes.json")

# attribute names (folded like the headers) read for each canonical column, in order of preference
_CONVERSATION_ID = (
    "dialogueid",
    "dialogid",
    "conversationalflowid",
    "conversationflowid",
    "conversationalformid",
    "flowid",
    "conversationid",
)
_CONVERSATION_NAME = (
    "dialoguename",
    "dialogname",
    "conversationalflowname",
    "conversationflowname",
    "conversationalformname",
    "flowname",
    "conversationname",
)
_UI_TYPE = ("uitype", "interacteduitype")
_AGENT_ID = ("agentid",)
_AGENT_NAME = ("agentname", "agent")
_PAGE_URL = ("pageurl", "webpageurl", "url")
_SCHEDULED_FOR = ("scheduledfor",)
_MEETING_STATUS = ("meetingstatus",)
_CONVERSATION_STATUS = ("conversationstatus",)

# Dynamic Chat activity names, matched (RE2, by DuckDB) on the name in lower case with single spaces
_KIND = r"(?:dialog|dialogue|conversation(?:al)? (?:flow|form))"
_AGENT = rf"engage[sd]? with (?:an? )?agent in (?:an? |the )?{_KIND}"
_MEETING = rf"schedule[sd]? (?:an? )?meeting in (?:an? |the )?{_KIND}"
_ENGAGED = rf"engage[sd]? (?:with )?(?:an? |the )?{_KIND}"
_CODES = {
    _AGENT: EVENT_TYPES.index("CONVERSATION_LIVE_CHAT_INITIATED"),
    _MEETING: EVENT_TYPES.index("CONVERSATION_MEETING_BOOKED"),
    _ENGAGED: EVENT_TYPES.index("CONVERSATION_ENGAGED"),
}
_MEETING_CODE = EVENT_TYPES.index("CONVERSATION_MEETING_BOOKED")
_ENGAGED_CODE = EVENT_TYPES.index("CONVERSATION_ENGAGED")
#: ``Conversation Status`` of an engaged activity (lower case) -> the event it gives besides the engaged one.
#: ``initiated`` gives none.
STATUS_EVENTS = {
    "completed": EVENT_TYPES.index("CONVERSATION_COMPLETED"),
    "dropped": EVENT_TYPES.index("CONVERSATION_CLOSED"),
}
STATUS_SOURCE = "Conversation Status"
#: The suffix of a derived event's ``event_id`` (after the engaged event's own).
STATUS_ID_SUFFIX = ":status"
_PARSE_ONLY = ["naive", "status_code", "status_unread"]
_SECOND = TIME_GRANULARITIES.index("second")

_CSV_ERRORS = {
    "MISSING COLUMNS": "wrong number of columns",
    "TOO MANY COLUMNS": "wrong number of columns",
    "UNQUOTED VALUE": "malformed quoting",
    "INVALID ENCODING": "non-UTF-8 bytes",
    "LINE SIZE OVER MAXIMUM": "record too long",
}


def _fold(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Layout:
    """The header of an export: its delimiter, column names and the column of each known field."""

    delimiter: str
    names: tuple[str, ...]
    fields: dict[str, int]


def layout(line: str) -> Layout | None:
    """The layout of a header line, or None when it is not a Bulk Activity Extract header."""
    best: Layout | None = None
    for delim in _DELIMITERS:
        try:
            names = tuple(next(csv.reader([line], delimiter=delim, quotechar='"')))
        except (csv.Error, StopIteration):
            continue
        found: dict[str, int] = {}
        folded = [_fold(n) for n in names]
        for field, accepted in HEADERS.items():
            free = [folded.index(a) for a in accepted if a in folded]
            free = [i for i in free if i not in found.values()]
            if free:
                found[field] = free[0]
        if best is None or len(found) > len(best.fields):
            best = Layout(delim, names, found)
    if best is None:
        return None
    f = best.fields
    if "date" in f and ("type_id" in f or "type_name" in f) and ("guid" in f or "lead" in f):
        return best
    return None


def _first_line(head: bytes) -> str:
    text = head.lstrip(b"\r\n")
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    return text.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")


def _is_types_file(path: Path, head: bytes) -> bool:
    """A saved ``activities/types.json`` response (not activities)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"{", b"["):
        return False
    named = path.name.lower().removesuffix(".gz") in {t.lower() for t in TYPE_FILES}
    return b'"primaryAttribute"' in text or (named and b'"name"' in text and b'"id"' in text)


def sniff(path: Path, head: bytes) -> str | None:
    """``"marketo_bulk"`` for a file whose first line is a Bulk Activity Extract header (see
    :func:`layout`), or for a saved ``activities/types.json``.
    """
    if _is_types_file(path, head):
        return FORMAT
    return FORMAT if layout(_first_line(head)) is not None else None


# ----------------------------------------------------------------------------------- activity types
def find_types(path: Path) -> Path | None:
    """The activity types file for an export, or None (see the module docstring for where it looks)."""
    for candidate in _type_candidates(path):
        if candidate.is_file():
            return candidate
    return None


def _type_candidates(path: Path) -> list[Path]:
    folder = path.parent
    dirs = [folder, *list(folder.parents)[:3]]
    out: list[Path] = []
    for i, d in enumerate(dirs):
        if i == 0 or d.name.lower() == "activities":
            out.extend(d / name for name in TYPE_FILES)
        out.extend(d / "activities" / name for name in TYPE_FILES)
    return out


def _id_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


@functools.lru_cache(maxsize=16)
def _types_cached(path: str, mtime_ns: int, size: int) -> dict[str, str]:
    p = Path(path)
    try:
        data = json.loads(p.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LoaderError(f"cannot read the Marketo activity types {p}: {err}", path=p) from err
    pages = data if isinstance(data, list) and data and all(_is_page(x) for x in data) else [data]
    items: list[Any] = []
    for page in pages:
        if isinstance(page, dict):
            if page.get("success") is False:
                raise LoaderError(
                    f"{p} is a failed Marketo response ({page.get('errors')}), not the activity types",
                    path=p,
                )
            result = page.get("result")
            items.extend(result if isinstance(result, list) else [])
        elif isinstance(page, list):
            items.extend(page)
    types: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            key = _id_text(item.get("id"))
            if key is not None:
                types.setdefault(key, item["name"])
    if not types:
        raise LoaderError(
            f"{p} lists no activity types: expected the response of GET /rest/v1/activities/types.json, "
            '{"result": [{"id": 1, "name": "Visit Webpage", ...}, ...]}, or a list of those types',
            path=p,
        )
    return types


def _is_page(x: Any) -> bool:
    return isinstance(x, dict) and "result" in x


def load_types(path: Path) -> dict[str, str]:
    """Activity type id (as text) -> name, from a saved ``types.json``.

    Raises
    ------
    LoaderError
        The file is not JSON, is a failed response, or lists no types.
    """
    stat = path.stat()
    return dict(_types_cached(str(path), stat.st_mtime_ns, stat.st_size))


# ----------------------------------------------------------------------------------- records
@dataclass
class Records:
    """The records of a file as RFC 4180 splits them: a record ends at a line break outside quotes.

    Arrays hold one entry per record, blank records (an empty line) included, so that the k-th entry
    is the record DuckDB's CSV reader numbers ``k + 1``.
    """

    starts: np.ndarray  # byte offset of each record
    ends: np.ndarray  # byte offset just past its line break
    lines: np.ndarray  # 1-based line on which it starts
    blank: np.ndarray  # an empty line
    data: bytes | None  # the decompressed bytes of a gzip file (None: read them from the file)


def scan_records(path: Path) -> tuple[Records, bool]:
    """Split a file into records (line breaks with an even number of quotes before them) and say
    whether it is gzip.

    Raises
    ------
    LoaderError
        The gzip stream is corrupt or ends early.
    """
    state = StreamState()
    closes: list[np.ndarray] = []
    close_lines: list[np.ndarray] = []
    cr: list[np.ndarray] = []
    kept: list[bytes] = []
    parity = 0
    offset = 0
    newlines = 0
    gz = _is_gzip(path)
    for block in iter_blocks(path, state):
        buf = np.frombuffer(block.data, dtype=np.uint8)
        quotes = np.flatnonzero(buf == 34)
        nl = np.flatnonzero(buf == 10)
        closed = ((np.searchsorted(quotes, nl) + parity) & 1) == 0
        at = nl[closed]
        closes.append(at + offset)
        close_lines.append(np.flatnonzero(closed) + newlines + 1)
        cr.append(buf[np.maximum(at - 1, 0)] == 13)
        parity = (parity + len(quotes)) & 1
        newlines += len(nl)
        offset += len(buf)
        if gz:
            kept.append(block.data)
    if state.corrupt_gzip or state.bad_checksum or state.truncated_gzip:
        problem = "ends early (truncated file)" if state.truncated_gzip else "is corrupt"
        raise LoaderError(
            f"{path}: the gzip stream {problem} after {offset:,} bytes; a Bulk Activity Extract cannot "
            "be read in part: download it again",
            path=path,
        )
    close = np.concatenate(closes) if closes else np.empty(0, dtype=np.int64)
    lines = np.concatenate(close_lines) if close_lines else np.empty(0, dtype=np.int64)
    ends = np.append(close + 1, offset).astype(np.int64)
    starts = np.concatenate([[0], close + 1]).astype(np.int64)
    start_lines = np.concatenate([[1], lines + 1]).astype(np.int64)
    ends_cr = np.concatenate([np.concatenate(cr) if cr else np.empty(0, dtype=bool), [False]])
    terminated = np.ones(len(starts), dtype=bool)
    if starts[-1] >= offset:  # nothing after the last line break
        starts, ends, start_lines, ends_cr = starts[:-1], ends[:-1], start_lines[:-1], ends_cr[:-1]
        terminated = terminated[:-1]
    else:
        terminated[-1] = False  # the last record has no line break
    size = ends - starts
    blank = terminated & ((size == 1) | ((size == 2) & ends_cr))
    data = b"".join(kept) if gz else None
    return Records(starts, ends, start_lines, blank, data), gz


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _read_bytes(path: Path, records: Records, k: int) -> bytes:
    a, b = int(records.starts[k]), int(records.ends[k])
    if records.data is not None:
        return records.data[a:b]
    with path.open("rb") as fh:
        fh.seek(a)
        return fh.read(b - a)


# ----------------------------------------------------------------------------------- reading
def _attr(names: tuple[str, ...]) -> str:
    return "coalesce(" + ", ".join(f"av[list_position(ak, {lit(n)})]" for n in names) + ")"


def query(fields: dict[str, int], *, types_file: bool) -> str:
    """The query mapping ``raw`` (``idx`` and the text columns ``c0``, ``c1``, ...) joined with
    ``ty(id, name)`` to canonical rows.
    """

    def col(field: str) -> str:
        if field not in fields:
            return "CAST(NULL AS VARCHAR)"
        c = f"c{fields[field]}"
        return f"CASE WHEN lower(trim({c})) IN ('', 'null') THEN NULL ELSE {c} END"

    classify = " ".join(f"WHEN regexp_full_match(n, {lit(rx)}) THEN {code}" for rx, code in _CODES.items())
    unnamed = "not in types.json" if types_file else "no activity type name"
    natural = "concat_ws('|', coalesce(lead, ''), ts, coalesce(tid, tname), coalesce(pavid, ''))"
    status_codes = " ".join(f"WHEN {lit(value)} THEN {code}" for value, code in STATUS_EVENTS.items())
    known = ", ".join(lit(v) for v in (*STATUS_EVENTS, "initiated"))
    meeting = (
        f"nullif(CAST(json_merge_patch('{{}}', json_object('scheduledFor', {_attr(_SCHEDULED_FOR)}, "
        f"'status', {_attr(_MEETING_STATUS)})) AS VARCHAR), '{{}}')"
    )
    return f"""
WITH b AS (
  SELECT idx, {col("guid")} AS guid, {col("lead")} AS lead, trim({col("date")}) AS ts,
         trim({col("type_id")}) AS tid, trim({col("type_name")}) AS tname, {col("pav_id")} AS pavid,
         {col("pav")} AS pav, {col("attributes")} AS attr, trim({col("result")}) AS result
  FROM raw
),
kv AS (
  SELECT *, coalesce(
      list_transform(map_entries(try_cast(try_cast(attr AS JSON) AS MAP(VARCHAR, JSON))),
                     lambda e: {{'k': e.key, 'v': e.value}}),
      list_transform(try_cast(try_cast(attr AS JSON) AS STRUCT(name VARCHAR, value JSON)[]),
                     lambda e: {{'k': e.name, 'v': e.value}})) AS pairs
  FROM b
),
a AS (
  SELECT * EXCLUDE (pairs),
         list_transform(pairs, lambda e: regexp_replace(lower(e.k), '[^a-z0-9]', '', 'g')) AS ak,
         list_transform(pairs, lambda e: nullif(trim(json_extract_string(e.v, '$')), '')) AS av
  FROM kv
),
t AS (
  SELECT a.*, coalesce(ty.name, CASE WHEN NOT regexp_full_match(a.tid, '[0-9]+(\\.0+)?') THEN a.tid END,
                       a.tname) AS type_name
  FROM a LEFT JOIN ty ON ty.id = {clean_id("a.tid")}
),
cls AS (
  SELECT type_name,
         CAST(CASE {classify} END AS TINYINT) AS code,
         CASE WHEN contains(n, 'dialog') THEN 'dialogue' ELSE 'conversational_flow' END AS kind
  FROM (SELECT type_name, regexp_replace(lower(trim(type_name)), '\\s+', ' ', 'g') AS n
        FROM (SELECT DISTINCT type_name FROM t WHERE type_name IS NOT NULL))
),
j AS (
  SELECT t.*, cls.code, cls.kind, try_cast(t.ts AS TIMESTAMPTZ) AS tm,
         CASE WHEN cls.code = {_ENGAGED_CODE} THEN {_attr(_CONVERSATION_STATUS)} END AS cstatus
  FROM t LEFT JOIN cls ON cls.type_name = t.type_name
)
SELECT idx,
  CAST(CASE WHEN ts IS NULL THEN {Status.MISSING_TIME}
       WHEN tm IS NULL THEN {Status.BAD_TIME}
       WHEN tid IS NULL AND tname IS NULL THEN {Status.MISSING_EVENT_TYPE}
       WHEN code IS NULL OR lower(result) IN ('skipped', 'failed') THEN {Status.IGNORED}
       ELSE {Status.OK} END AS TINYINT) AS status,
  CASE WHEN code IS NULL THEN coalesce(type_name, 'activityTypeId ' || tid || ' ({unnamed})')
       ELSE type_name || ' (actionResult=' || result || ')' END AS event_name,
  tm AS event_time_utc, code, CAST({_SECOND} AS TINYINT) AS gran,
  {clean_id(f"coalesce({_attr(_CONVERSATION_ID)}, pavid)")} AS conversation_id,
  coalesce({_attr(_CONVERSATION_NAME)}, pav, {_attr(("name",))}) AS conversation_name,
  kind AS conversation_type, CAST(NULL AS VARCHAR) AS session_id,
  {_attr(_UI_TYPE)} AS ui_type,
  {clean_id(_attr(_AGENT_ID))} AS agent_id,
  {_attr(_AGENT_NAME)} AS agent_name,
  CASE WHEN code = {_MEETING_CODE} THEN {meeting} END AS meeting_info,
  {clean_id("lead")} AS visitor_id,
  {_attr(_PAGE_URL)} AS page_url,
  'marketo:' || coalesce(guid, {natural}) AS event_id,
  NOT (suffix(ts, 'Z') OR suffix(ts, 'z') OR substr(ts, -6, 1) IN ('+', '-')
       OR substr(ts, -5, 1) IN ('+', '-')) AND tm IS NOT NULL AS naive,
  CAST(CASE lower(cstatus) {status_codes} END AS TINYINT) AS status_code,
  CASE WHEN lower(cstatus) NOT IN ({known}) THEN cstatus END AS status_unread
FROM j
ORDER BY idx
"""


def _types_table(types: dict[str, str] | None) -> pa.Table:
    items = types or {}
    return pa.table(
        {"id": pa.array(list(items), pa.string()), "name": pa.array(list(items.values()), pa.string())}
    )


def _csv(
    con: duckdb.DuckDBPyConnection, path: Path, lay: Layout, skip: int, gz: bool
) -> tuple[pa.Table, list[tuple[Any, ...]]]:
    """Parse the file with DuckDB's CSV reader: the rows that split into the header's columns, in file
    order, and the rejected ones as (DuckDB record number, error type).
    """
    tag = uuid.uuid4().hex
    rejects, scans = f"marketo_rejects_{tag}", f"marketo_scans_{tag}"
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(lay.names))) + "}"
    sql = f"""
SELECT * FROM read_csv({lit(str(path))}, columns = {columns}, header = true, skip = {skip},
    delim = {lit(lay.delimiter)}, quote = '"', escape = '"', all_varchar = true, auto_detect = false,
    compression = {lit("gzip" if gz else "none")}, store_rejects = true,
    rejects_table = {lit(rejects)}, rejects_scan = {lit(scans)})"""
    cur = con.cursor()
    try:
        table = cur.sql(sql).to_arrow_table()
        bad = cur.sql(f"SELECT line, min(error_type) FROM {rejects} GROUP BY line ORDER BY line").fetchall()
    except duckdb.Error as err:
        raise LoaderError(f"cannot read {path} as a Bulk Activity Extract: {err}", path=path) from err
    finally:
        for name in (rejects, scans):
            with contextlib.suppress(duckdb.Error):
                cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.close()
    return table, bad


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one Bulk Activity Extract file (or recognise a saved ``types.json``).

    Raises
    ------
    LoaderError
        The first line is not an export header, activity type ids cannot be named (no types.json and
        no type name column), the gzip stream is damaged, ``types.json`` is malformed, or the records
        cannot be told apart (quotes inside unquoted fields).
    """
    try:
        head = read_head(path, 1 << 16)
    except OSError as err:
        raise LoaderError(f"cannot read {path}: {err}", path=path) from err
    if not head.strip():
        return ReadResult()
    if _is_types_file(path, head):
        names = load_types(path)
        ctx.notes.append(
            f"{path}: {len(names):,} Marketo activity types (names for activityTypeId), no activities"
        )
        return ReadResult()
    first = _first_line(head)
    lay = layout(first)
    if lay is None:
        raise LoaderError(
            f"{path} is not a Marketo Bulk Activity Extract: its first line should name activityDate, "
            f"activityTypeId (or an activity type name) and marketoGUID or leadId, separated by commas, "
            f"tabs, semicolons or spaces; it is {first[:120]!r}",
            path=path,
            record=1,
        )
    records, gz = scan_records(path)
    nonblank = np.flatnonzero(~records.blank)
    if len(nonblank) <= 1:
        return ReadResult()
    header = int(nonblank[0])
    data_rows = nonblank[1:]
    types = _types_for(ctx, path, lay)
    table, bad = _csv(ctx.con, path, lay, int(records.lines[header]) - 1, gz)
    result = ReadResult(records=len(data_rows))
    rejected_k = np.array([int(line) - 1 for line, _ in bad], dtype=np.int64)
    good = np.setdiff1d(data_rows, rejected_k, assume_unique=True)
    aligned = np.isin(rejected_k, data_rows).all() and len(good) == table.num_rows
    if not aligned:
        raise LoaderError(
            f"cannot tell the records of {path} apart: a double quote stands inside a field that is not "
            "quoted (RFC 4180 quotes such a field and doubles its quotes)",
            path=path,
        )
    for (_, error), k in zip(bad, rejected_k, strict=True):
        reason = _CSV_ERRORS.get(str(error), str(error).lower())
        result.rejected.append((int(records.lines[k]), reason, _read_bytes(path, records, int(k))))
    if table.num_rows:
        table = table.append_column("idx", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        con = ctx.con  # its session time zone is UTC: a date without an offset is read as UTC
        try:
            con.register("raw", table)
            con.register("ty", _types_table(types))
            out = con.sql(query(lay.fields, types_file=types is not None)).to_arrow_table()
        except duckdb.Error as err:
            raise LoaderError(f"cannot map the activities of {path}: {err}", path=path) from err
        finally:
            con.unregister("raw")
            con.unregister("ty")
        del table
        lines = records.lines[good]
        got = split_rows(out, lines, lambda i: _read_bytes(path, records, int(good[i])))
        naive = 0
        unread: list[pa.StructArray] = []
        for k, (events, event_lines) in enumerate(got.tables):
            naive += int(np.count_nonzero(events.column("naive").to_numpy(zero_copy_only=False)))
            derived, derived_lines = status_events(events, event_lines)
            got.add_derived(derived.drop_columns(_PARSE_ONLY), derived_lines, STATUS_SOURCE)
            unread.append(pc.value_counts(events.column("status_unread").drop_null()))
            got.tables[k] = (events.drop_columns(_PARSE_ONLY), event_lines)
        if naive:
            ctx.notes.append(
                f"{path}: {naive:,} activityDate value(s) carried no UTC offset and were read as UTC"
            )
        ctx.notes.extend(_unread_note(path, unread))
        result.add(got)
    result.rejected.sort()
    return result


def status_events(events: pa.Table, lines: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """The events an engaged activity's ``Conversation Status`` gives (column ``status_code`` of the
    query), as copies of the engaged events with that code and ``event_id`` + ``:status``, and their
    record numbers.
    """
    codes = events.column("status_code")
    mask = np.asarray(pc.is_valid(codes).to_numpy(zero_copy_only=False), dtype=bool)
    if not mask.any():
        return events.slice(0, 0), lines[:0]
    derived = events.filter(pa.array(mask))
    code_at = derived.column_names.index("code")
    code = derived.column("status_code").cast(derived.schema.field("code").type)
    derived = derived.set_column(code_at, "code", code)
    id_at = derived.column_names.index("event_id")
    ids = derived.column("event_id")
    suffix, empty = pa.scalar(STATUS_ID_SUFFIX, ids.type), pa.scalar("", ids.type)
    event_id = pc.binary_join_element_wise(ids, suffix, empty)
    derived = derived.set_column(id_at, "event_id", event_id)
    return derived, lines[mask]


def _unread_note(path: Path, counts: list[pa.StructArray]) -> list[str]:
    """One note naming the Conversation Status values that gave no event, other than ``Initiated``.

    ``counts`` holds the ``value_counts`` (``values``, ``counts``) of each table of events.
    """
    tally: dict[str, int] = {}
    for found in counts:
        values, ns = found.field("values").to_pylist(), found.field("counts").to_pylist()
        for value, n in zip(values, ns, strict=True):
            tally[value] = tally.get(value, 0) + int(n)
    if not tally:
        return []
    seen = ", ".join(f"{v!r} ({n:,})" for v, n in sorted(tally.items(), key=lambda x: (-x[1], x[0])))
    return [f"{path}: {sum(tally.values()):,} {STATUS_SOURCE} value(s) not read: {seen}"]


def _types_for(ctx: ReadContext, path: Path, lay: Layout) -> dict[str, str] | None:
    """The activity types that name this file's type ids, or None when the file names its types."""
    found = find_types(path)
    if found is not None:
        types = load_types(found)
        note = f"Marketo activity type names read from {found}"
        if note not in ctx.notes:
            ctx.notes.append(note)
        return types
    if "type_name" in lay.fields:
        return None
    if _fold(lay.names[lay.fields["type_id"]]) in ("activitytypeid", "typeid"):
        tried = ", ".join(str(p) for p in _type_candidates(path)[: len(TYPE_FILES) + 1])
        raise LoaderError(
            f"{path}: activityTypeId is a number whose activity differs between Marketo subscriptions, "
            "and no activity types were found to name it. Save the response of "
            "GET /rest/v1/activities/types.json as activities/types.json beside the export (looked for "
            f"{tried}, ...), or export an activity type name column",
            path=path,
        )
    return None
