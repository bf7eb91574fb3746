"""Segment messages, as the Amazon S3 destination stores them, as canonical events.

The S3 destination writes gzipped newline-delimited JSON, one message per line, under
``segment-logs/{source-id}/{received-day}/<name>.gz`` (``received-day``: the UTC day, as a Unix time in
milliseconds, on which Segment received the messages). Plain ``.jsonl`` / ``.json`` files of messages,
and a JSON array of them, are read too. The capture snippet's Segment destination calls
``analytics.track(<event name>, {<property>: value, ...})``; the names below come from the
:class:`~chatanalytics.io.TrackingPlan`'s ``segment`` section.

- ``event_type`` <- ``event`` of a ``type: "track"`` message through the plan's event names (``Dynamic
  Chat Conversation Engaged``), else the action property (``properties.event_type``) holding the
  constant (any case) or an event name. Other tracks are *ignored* and reported with their event name
  (and ``(event_type=...)`` when the property is set); ``page``, ``identify``, ``screen``, ``group``
  and ``alias`` messages are ignored and reported as their type. A message without ``type``, or a
  track without ``event``, is *rejected* (missing event name).
- ``event_time_utc`` <- ``timestamp`` (ISO-8601 UTC, milliseconds; Segment's corrected time,
  ``receivedAt - (sentAt - originalTimestamp)``), ``time_granularity`` ``exact``. When a message has no
  ``timestamp``, ``originalTimestamp`` (the device clock) is read instead and the load report's notes
  count those events. A time without an offset is read as UTC (and counted in the notes). A chat track
  without either time is rejected (missing time), one whose time does not parse too (unparseable time).
- ``visitor_id`` <- ``anonymousId``. ``userId`` is never read: it is often an email address.
- ``page_url`` <- ``context.page.url``, else the page URL property (``page_url``).
- ``event_id`` <- ``messageId``: Segment retries a message with the same ``messageId``, and the loader's
  de-duplication on ``event_id`` drops the copies and reports the message each repeats. The snippet's
  own event id property (``event_id``, the same id it sends to every destination) is read only when a
  message has no ``messageId``.
- ``session_id``, ``conversation_id``, ``conversation_name``, ``conversation_type``, ``ui_type``,
  ``agent_id``, ``agent_name``, ``meeting_info`` <- the plan's ``properties`` keys (``session_id``,
  ``conversation_id``, ...). Numbers are kept as text (``4471902`` stays ``"4471902"``; ``4471902.0``
  loses its ``.0``); an object (``meeting_info``) is kept as its JSON text. ``analytics_session_id`` is
  not filled.

A record number is the line (JSON lines) or the 1-based position in the array. Lines are parsed by
DuckDB (``from_json`` with the few fields needed), in blocks; no Python code runs per message. A gzip
file cut short is read up to its last whole line (the cut line is rejected as malformed JSON) and the
truncation is noted in the load report. A file that yields no event and does not start with a Segment
message (another format forced with ``format=``, garbage) raises
:class:`~chatanalytics.errors.LoaderError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ._coverage import check_filled_keys, sample_json_keys
from ._json_sql import (
    PAYLOAD_FIELDS,
    add_key,
    first_record,
    id_column,
    key_sql,
    naive_sql,
    note_counts,
    structure,
    time_sql,
)
from ._jsonl import read_json_records
from ._plan import TrackingPlan
from ._protocol import ReadContext, ReadResult
from ._sql import IGNORED_CHECK, Status, lit, lookup_code, status_sql, time_checks

FORMAT = "segment"
DESTINATION = "segment"
FORMATS: dict[str, str] = {
    FORMAT: "Segment messages as the Amazon S3 destination writes them (segment-logs/.../*.gz: "
    "gzipped JSON lines), or plain .jsonl/.json",
}

#: The message types of Segment's spec.
MESSAGE_TYPES = ("track", "page", "screen", "identify", "group", "alias")
_TYPE_RE = re.compile(rb'"type"\s*:\s*"(?:' + b"|".join(t.encode() for t in MESSAGE_TYPES) + rb')"')


def sniff(path: Path, head: bytes) -> str | None:
    """``"segment"`` when the first record is a Segment message: a ``type`` of Segment's spec and a
    ``messageId``.
    """
    obj, fragment = first_record(head)
    if obj is not None:
        if obj.get("type") in MESSAGE_TYPES and "messageId" in obj:
            return FORMAT
        return None
    if fragment and b'"messageId"' in fragment and _TYPE_RE.search(fragment):
        return FORMAT
    return None


_PROPERTIES = 'r."properties"'


def query(plan: TrackingPlan, *, guard: bool) -> str:
    """The query over ``blk(idx, text)`` mapping Segment messages to canonical rows."""
    fields = {f: k for f, k in plan.to_dict()[DESTINATION]["fields"].items() if k}
    tree: dict[str, Any] = {
        "type": "VARCHAR",
        "event": "VARCHAR",
        "messageId": "VARCHAR",
        "anonymousId": "VARCHAR",
        "timestamp": "VARCHAR",
        "originalTimestamp": "VARCHAR",
        "context": {"page": {"url": "VARCHAR"}},
    }
    if fields:
        tree["properties"] = {}
        for k in fields.values():
            add_key(tree["properties"], k)
    valid = "json_valid(text)" if guard else "true"
    parse = f"from_json(text, {lit(structure(tree))})"
    if guard:
        parse = f"CASE WHEN json_valid(text) THEN {parse} END"

    def prop(name: str) -> str:
        key = fields.get(name)
        return f"nullif({key_sql(_PROPERTIES, key)}, '')" if key else "CAST(NULL AS VARCHAR)"

    by_name = lookup_code(plan.events(DESTINATION), "ev")
    by_action = lookup_code(plan.action_values(DESTINATION), "upper(trim(action))")
    action_key = fields.get("event")
    shown = f"' ({action_key}=' || action || ')'" if action_key else "NULL"
    columns = {
        **{column: prop(name) for column, name in PAYLOAD_FIELDS.items()},
        "visitor_id": "nullif(r.\"anonymousId\", '')",
        "page_url": f'coalesce(nullif(r."context"."page"."url", \'\'), {prop("page_url")})',
        "event_id": f"coalesce(nullif(r.\"messageId\", ''), {prop('event_id')})",
    }
    raw = ", ".join(f"{expr} AS x_{c}" for c, expr in columns.items())
    outs = ", ".join(id_column(f"x_{c}", c) for c in columns)
    no_type = (
        f"CASE WHEN json_type(text) <> 'OBJECT' THEN {Status.NOT_OBJECT} ELSE {Status.MISSING_EVENT_NAME} END"
    )
    status = status_sql(
        ("typ IS NULL", no_type),
        ("track AND ev IS NULL AND code IS NULL", Status.MISSING_EVENT_NAME),
        IGNORED_CHECK,
        *time_checks("ts_raw", "t"),
    )
    return f"""
WITH f AS (
  SELECT idx, valid, text, nullif(trim(r."type"), '') AS typ, nullif(r."event", '') AS ev,
         {prop("event")} AS action, nullif(r."timestamp", '') AS ts0,
         nullif(r."originalTimestamp", '') AS ts1, {raw}
  FROM (SELECT idx, text, {valid} AS valid, {parse} AS r FROM blk WHERE text IS NOT NULL)
),
g AS (
  SELECT *, lower(typ) = 'track' AS track, coalesce(ts0, ts1) AS ts_raw FROM f
),
h AS (
  SELECT *, CAST(CASE WHEN track THEN coalesce({by_name}, {by_action}) END AS TINYINT) AS code,
         {time_sql("ts_raw")} AS t
  FROM g
)
SELECT idx,
  {status} AS status,
  t AS event_time_utc, code,
  CASE WHEN code IS NULL THEN CASE WHEN track THEN ev || coalesce({shown}, '') ELSE typ END END
    AS event_name,
  {outs},
  {naive_sql("ts_raw", "t")} AS naive,
  ts0 IS NULL AS from_original
FROM h
"""


def queries(plan: TrackingPlan) -> tuple[str, str]:
    """The fast query (every line valid JSON) and the guarded one."""
    return query(plan, guard=False), query(plan, guard=True)


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one Segment S3 log file (gzipped or plain JSON lines, or a JSON array of messages).

    See :class:`chatanalytics.io.Format`. Each message's record number is its line (its position in an
    array); event names come from ``ctx.plan``'s ``segment`` section.

    Raises
    ------
    LoaderError
        The file cannot be read, a JSON array is malformed or truncated, or nothing in it is a Segment
        message.
    """
    result = read_json_records(ctx, path, queries(ctx.plan), sniff=sniff, what="a Segment S3 log")
    counts = note_counts(result)
    if counts["from_original"]:
        result.notes.append(
            f"{path}: {counts['from_original']:,} event(s) had no timestamp; their time is "
            "originalTimestamp (the device clock)"
        )
    if counts["naive"]:
        result.notes.append(f"{path}: {counts['naive']:,} time(s) carried no UTC offset and were read as UTC")
    check_filled_keys(result, path, DESTINATION, ctx.plan, lambda: sample_json_keys(path, _properties))
    return result


def _properties(record: Any) -> Any:
    """A message's ``properties`` (where the plan's keys are)."""
    return record["properties"]
