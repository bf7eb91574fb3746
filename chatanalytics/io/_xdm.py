"""Adobe Experience Platform XDM ExperienceEvent rows (exported from a dataset) as canonical events.

A file is newline-delimited JSON (plain or gzip), one ExperienceEvent per line, or a JSON array of them.
Rows are as a dataset export writes them: the XDM fields at the top level (no ``xdm`` wrapper), custom
fields under the tenant namespace (``_acme``), system columns such as ``_acp_system_metadata`` beside
them (not read). The capture snippet's Web SDK destination sends ``alloy("sendEvent", {xdm: {eventType,
timestamp, _id, web: {webInteraction: {name, type: "other", URL}}}, data: {dynamicChat: {...}}})``; the
names below come from the :class:`~chatanalytics.io.TrackingPlan`'s ``websdk`` section.

- The chat fields (the plan's ``fields``: ``eventName``, ``conversationID``, ``sessionID``, ...) are read
  from one object. With the plan's ``xdm_path`` set (``_acme.dynamicChat``), that path only. Otherwise
  the plan's ``data_path`` (``dynamicChat``): at the top level of the row, or else one level down, under
  any top-level key (a tenant namespace such as ``_acme.dynamicChat``, or ``data.dynamicChat``), the
  first such object found. ``data`` itself is not stored by Experience Platform: the fields reach a
  dataset where the datastream's mapping puts them.
- ``event_type`` <- ``eventType`` through the plan's ``events`` (``dynamicChat.conversationEngaged``),
  else ``web.webInteraction.name`` through the plan's ``link_names`` (``Dynamic Chat Conversation
  Engaged``), else the action field (``eventName``) holding the constant (any case), an event type or a
  link name. Other rows (page views, other link clicks) are *ignored* and reported as their
  ``eventType``, with the link name in parentheses (``web.webinteraction.linkClicks (Download
  brochure)``) and the action value (``(eventName=...)``) when there is one.
- ``event_time_utc`` <- ``timestamp``: ISO-8601 with any UTC offset (``...T23:58:00.250-05:00``), or
  epoch seconds (10 digits) or milliseconds (13 digits); ``time_granularity`` ``exact``. A time without
  an offset is read as UTC and counted in the load report's notes. Every ExperienceEvent has a
  ``timestamp``: a row without one is *rejected* (missing time); a chat row whose time does not parse
  is rejected (unparseable time). The chat field ``timestamp`` (a copy the snippet sends) is not read.
- ``visitor_id`` <- ``identityMap.ECID``: the ``id`` of the entry with ``primary: true``, else of the
  first entry that has an ``id``. Other namespaces (``Email``, ``CRM``) are never read.
- ``page_url`` <- ``web.webPageDetails.URL``, else the chat field ``pageURL``, else
  ``web.webInteraction.URL``.
- ``event_id`` <- ``_id`` (else the chat field ``eventID``; the snippet sends the same id in both).
  Experience Platform may keep re-ingested copies of a row: the loader's de-duplication on ``event_id``
  drops them and reports the row each repeats.
- ``session_id``, ``conversation_id``, ``conversation_name``, ``conversation_type``, ``ui_type``,
  ``agent_id``, ``agent_name``, ``meeting_info`` <- the chat fields. Numbers are kept as text
  (``4471902``; a whole number written as ``4471902.0`` loses its ``.0``); an object (``meetingInfo``)
  is kept as its JSON text. ``analytics_session_id`` is not filled.

A record number is the line (JSON lines) or the 1-based position in the array. Rows are parsed by DuckDB
(``from_json`` with the few fields needed), in blocks of lines; no Python code runs per row. A file
that yields no event and does not start with an ExperienceEvent row (another format forced with
``format=``, garbage) raises :class:`~chatanalytics.errors.LoaderError`.

The file is read by :func:`chatanalytics.io._jsonl.read_json_records` with helpers from
:mod:`chatanalytics.io._json_sql`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow.parquet as pq

from ..errors import LoaderError
from ._coverage import check_filled_keys, sample_json_keys
from ._files import Block, line_starts, read_head
from ._json_sql import (
    PAYLOAD_FIELDS,
    add_key,
    first_record,
    has_key,
    id_column,
    ident,
    key_sql,
    naive_sql,
    note_counts,
    set_path,
    structure,
    time_sql,
    unique_names,
)
from ._jsonl import parse_block, read_blocks, read_json_records
from ._plan import TrackingPlan
from ._protocol import ReadContext, ReadResult
from ._sql import IGNORED_CHECK, NOT_OBJECT_OR_NO_TIME, Status, lit, lookup_code, status_sql

#: The first bytes of a Parquet file.
PARQUET_MAGIC = b"PAR1"

FORMAT = "aep_xdm"
DESTINATION = "websdk"
FORMATS: dict[str, str] = {
    FORMAT: "Adobe Experience Platform XDM ExperienceEvent rows exported from a dataset "
    "(JSON lines, .gz too, or a JSON array)",
}

#: Top-level keys that, beside ``_id`` and ``timestamp``, mark an ExperienceEvent row.
_XDM_KEYS = (
    "eventType",
    "identityMap",
    "web",
    "_experience",
    "_acp_system_metadata",
    "environment",
    "device",
    "placeContext",
    "implementationDetails",
    "producedBy",
    "endUserIDs",
)
#: The primary ECID, else the first one with an id (``ecid``: the list of ``{id, primary}`` entries).
_ECID_PRIMARY = "list_filter(ecid, lambda e: lower(e.\"primary\") = 'true' AND e.id <> '')[1].id"
_ECID_FIRST = "list_filter(ecid, lambda e: e.id <> '')[1].id"


# ------------------------------------------------------------------------------------ XDM
def sniff(path: Path, head: bytes) -> str | None:
    """``"aep_xdm"`` when the first record has ``_id`` and ``timestamp`` and an XDM key (``eventType``,
    ``identityMap``, ``web``, ...) or a tenant namespace (a top-level key starting with ``_``).
    """
    if head[:4] == PARQUET_MAGIC:
        return FORMAT if sniff_parquet(path) else None
    obj, fragment = first_record(head)
    if obj is not None:
        tenant = any(k.startswith("_") and k != "_id" for k in obj)
        if "_id" in obj and "timestamp" in obj and (tenant or any(k in obj for k in _XDM_KEYS)):
            return FORMAT
        return None
    keys = ("_id", "timestamp")
    if fragment and all(has_key(fragment, k) for k in keys) and any(has_key(fragment, k) for k in _XDM_KEYS):
        return FORMAT
    return None


def _chat_paths(plan: TrackingPlan) -> tuple[list[str] | None, bool]:
    """The path of the chat-field object and whether it may also sit one level down (no xdm_path)."""
    section = plan.to_dict()[DESTINATION]
    if section.get("xdm_path"):
        return section["xdm_path"].split("."), False
    if section.get("data_path"):
        return section["data_path"].split("."), True
    return None, False


def query(plan: TrackingPlan, *, guard: bool) -> str:
    """The query over ``blk(idx, text)`` mapping ExperienceEvent rows to canonical rows."""
    section = plan.to_dict()[DESTINATION]
    fields = {f: k for f, k in section["fields"].items() if k}
    chat: dict[str, Any] = {}
    for k in fields.values():
        add_key(chat, k)
    tree: dict[str, Any] = {
        "_id": "VARCHAR",
        "timestamp": "VARCHAR",
        "eventType": "VARCHAR",
        "identityMap": {"ECID": [{"id": "VARCHAR", "primary": "VARCHAR"}]},
        "web": {
            "webPageDetails": {"URL": "VARCHAR"},
            "webInteraction": {"name": "VARCHAR", "URL": "VARCHAR"},
        },
    }
    path, nested = _chat_paths(plan)
    if path and chat:
        set_path(tree, path, chat)
    valid = "json_valid(text)" if guard else "true"
    parse = f"from_json(text, {lit(structure(tree))})"
    if guard:
        parse = f"CASE WHEN json_valid(text) THEN {parse} END"
    at = "r." + ".".join(ident(k) for k in path) if path and chat else None

    def top(key: str) -> str:
        return f"nullif({key_sql(at, key)}, '')" if at else "CAST(NULL AS VARCHAR)"

    if nested and chat and path:
        wildcard = "$.*." + ".".join(json.dumps(k) for k in path)
        found = f"coalesce({', '.join(top(k) for k in fields.values())})"
        down = (
            f"CASE WHEN valid AND {found} IS NULL THEN "
            f"from_json(json_extract(text, {lit(wildcard)})[1], {lit(structure(chat))}) END"
        )
    else:
        down = "NULL"

    def field(name: str) -> str:
        key = fields.get(name)
        if key is None:
            return "CAST(NULL AS VARCHAR)"
        if down == "NULL":
            return top(key)
        return f"coalesce({top(key)}, nullif({key_sql('c2', key)}, ''))"

    by_type = lookup_code(plan.events(DESTINATION), "etype")
    by_link = lookup_code(unique_names(section.get("link_names") or {}), "link")
    actions = plan.action_values(DESTINATION)
    for name, constant in unique_names(section.get("link_names") or {}).items():
        actions.setdefault(name.strip().upper(), constant)
    by_action = lookup_code(actions, "upper(trim(action))")
    action_key = fields.get("event")
    shown = f"' ({action_key}=' || action || ')'" if action_key else "NULL"
    columns = {
        **{column: field(name) for column, name in PAYLOAD_FIELDS.items()},
        "visitor_id": f"coalesce({_ECID_PRIMARY}, {_ECID_FIRST})",
        "page_url": f"coalesce(page, {field('page_url')}, link_url)",
        "event_id": f"coalesce(xid, {field('event_id')})",
    }
    raw = ", ".join(f"{expr} AS x_{c}" for c, expr in columns.items())
    outs = ", ".join(id_column(f"x_{c}", c) for c in columns)
    status = status_sql(
        ("ts_raw IS NULL", NOT_OBJECT_OR_NO_TIME),
        IGNORED_CHECK,
        ("t IS NULL", Status.BAD_TIME),
    )
    return f"""
WITH f AS (
  SELECT idx, valid, text, nullif(r."timestamp", '') AS ts_raw, nullif(r."eventType", '') AS etype,
         nullif(r."web"."webInteraction"."name", '') AS link, nullif(r."_id", '') AS xid,
         r."identityMap"."ECID" AS ecid, nullif(r."web"."webPageDetails"."URL", '') AS page,
         nullif(r."web"."webInteraction"."URL", '') AS link_url{", r" if at else ""}
  FROM (SELECT idx, text, {valid} AS valid, {parse} AS r FROM blk WHERE text IS NOT NULL)
),
g AS (SELECT *, {down} AS c2 FROM f),
h AS (SELECT idx, valid, text, ts_raw, etype, link, {field("event")} AS action, {raw} FROM g),
k AS (
  SELECT *, CAST(coalesce({by_type}, {by_link}, {by_action}) AS TINYINT) AS code, {time_sql("ts_raw")} AS t
  FROM h
)
SELECT idx,
  {status} AS status,
  t AS event_time_utc, code,
  CASE WHEN code IS NULL THEN coalesce(etype, '(no eventType)') || coalesce(' (' || link || ')', '')
                              || coalesce({shown}, '') END AS event_name,
  {outs},
  {naive_sql("ts_raw", "t")} AS naive
FROM k
"""


def queries(plan: TrackingPlan) -> tuple[str, str]:
    """The fast query (every line valid JSON) and the guarded one."""
    return query(plan, guard=False), query(plan, guard=True)


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one file of XDM ExperienceEvent rows (JSON lines, plain or gzip, or a JSON array).

    See :class:`chatanalytics.io.Format`; rows are matched to events by the ``websdk`` section.

    Raises
    ------
    LoaderError
        The file cannot be read, a JSON array is malformed or truncated, or nothing in it is an
        ExperienceEvent row.
    """
    parquet = read_head(path, 4) == PARQUET_MAGIC
    if parquet and not sniff_parquet(path):
        raise LoaderError(
            f"{path} is a Parquet file without an ExperienceEvent's columns (_id, timestamp and an XDM "
            "field group or tenant namespace)",
            path=path,
        )
    if parquet:
        result = _read_parquet(ctx, path)
    else:
        result = read_json_records(
            ctx,
            path,
            queries(ctx.plan),
            sniff=sniff,
            what="an Adobe Experience Platform XDM ExperienceEvent export",
        )
    naive = note_counts(result)["naive"]
    if naive and not parquet:  # a Parquet TIMESTAMP is UTC by the export's definition
        result.notes.append(f"{path}: {naive:,} timestamp(s) carried no UTC offset and were read as UTC")
    chat, nested = _chat_paths(ctx.plan)

    def at_chat(record: Any) -> Any:
        """The record's chat-field object (at the path, or one level down when it may be)."""
        for start in [record, *(record.values() if nested else [])]:
            node = start
            for key in chat or []:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict):
                return node
        return {}

    if parquet:
        check_filled_keys(result, path, DESTINATION, ctx.plan, list)
    else:
        check_filled_keys(result, path, DESTINATION, ctx.plan, lambda: sample_json_keys(path, at_chat))
    return result


def _read_parquet(ctx: ReadContext, path: Path) -> ReadResult:
    """A dataset exported as Parquet (dataset exports are Parquet or JSON files): each row, its nested structs
    and maps written out as one JSON line by DuckDB in row order, then read by the JSON query. A record's
    number is its row (1-based).
    """
    sql = (
        "SELECT string_agg(CAST(to_json(t) AS VARCHAR), chr(10) ORDER BY file_row_number) AS j "
        f"FROM (SELECT * FROM read_parquet({lit(str(path))}, file_row_number = true)) t"
    )
    try:
        row = ctx.con.cursor().execute(sql).fetchone()  # the extra file_row_number key is never read
    except duckdb.Error as err:
        raise LoaderError(f"cannot read {path} as Parquet: {err}", path=path) from err
    data = ((row[0] if row else None) or "").encode("utf-8")
    if not data:
        return ReadResult()
    data += b"\n"
    block = Block(data=data, starts=line_starts(np.frombuffer(data, dtype=np.uint8)), first_line=1)
    qs = queries(ctx.plan)
    return read_blocks(path, lambda b: parse_block(ctx.con, b, qs, path), blocks=[block])


def sniff_parquet(path: Path) -> bool:
    """True when a Parquet file's columns are an ExperienceEvent's (``_id``, ``timestamp`` and an XDM
    field or a tenant namespace) rather than canonical events.
    """
    try:
        names = pq.read_schema(path).names
    except Exception:  # not readable as Parquet: another reader reports it
        return False
    tenant = any(n.startswith("_") and n != "_id" for n in names)
    xdm = {"_id", "timestamp"} <= set(names) and (tenant or any(n in names for n in _XDM_KEYS))
    return xdm and "event_time_utc" not in names
