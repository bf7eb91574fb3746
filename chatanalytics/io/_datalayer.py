"""A Google Tag Manager ``dataLayer`` capture: the objects a page pushed, as canonical events.

The file is a JSON array of the pushed objects (``copy(JSON.stringify(dataLayer))`` in DevTools) or one
object per line. The capture snippet pushes ``{"event": "dc_conversation_engaged", "dc_event":
"CONVERSATION_ENGAGED", "dc_ts": "2026-11-02T09:00:00.250Z", "dc_conversation_id": "4471902", ...}``;
the names come from the :class:`~chatanalytics.io.TrackingPlan`'s ``datalayer`` section.

- ``event_type`` <- ``event`` through the plan's event names, or else the action key (``dc_event``)
  holding the constant (any case) or an event name. Other pushes (``gtm.js``, ``gtm.dom``, a site's own
  events, gtag commands such as ``{"0": "config", "1": "G-..."}``, reported as ``gtag:config``) are
  *ignored* with their name.
- ``event_time_utc`` <- the time key (``dc_ts``): ISO-8601 (a time without an offset is read as UTC) or
  epoch seconds (10 digits) or milliseconds (13 digits). A chat event without a time is rejected.
- Other fields <- their keys; numbers are kept as text (``4471902``). ``event_id`` <- ``dc_event_id``.
  The data layer carries no visitor id.

A record number is the line (one object per line) or the 1-based position in the array.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np

from ..errors import LoaderError
from ._files import Block, line_starts
from ._ga4 import ID_COLUMNS, _clean_id, _lit, lookup_code
from ._plan import TrackingPlan

FORMAT = "datalayer"
DESTINATION = "datalayer"


def _time(ts: str) -> str:
    return f"""CASE
         WHEN regexp_full_match({ts}, '[0-9]{{13}}') THEN make_timestamp(CAST({ts} AS BIGINT) * 1000)
         WHEN regexp_full_match({ts}, '[0-9]{{10}}') THEN make_timestamp(CAST({ts} AS BIGINT) * 1000000)
         ELSE try_cast({ts} AS TIMESTAMPTZ) END"""


def query(plan: TrackingPlan, *, guard: bool) -> str:
    """The query over ``blk(idx, text)`` mapping pushed objects to canonical rows."""
    cols = plan.columns(DESTINATION)
    action = plan.action_key(DESTINATION)
    ts_key = cols.get("event_time_utc")
    keys = {"ev": "event", "gtag0": "0"}
    if action:
        keys["action"] = action
    if ts_key:
        keys["ts_raw"] = ts_key
    strings = {c: k for c, k in cols.items() if c != "event_time_utc"}
    keys.update({f"c_{c}": k for c, k in strings.items()})
    structure = "{" + ", ".join(f'{json.dumps(k)}: "VARCHAR"' for k in dict.fromkeys(keys.values())) + "}"
    parse = f"from_json(text, {_lit(structure)})"
    valid = "json_valid(text)" if guard else "true"
    if guard:
        parse = f"CASE WHEN json_valid(text) THEN {parse} END"
    fields = ", ".join(f"nullif(r.{json.dumps(k)}, '') AS {alias}" for alias, k in keys.items())
    if "action" not in keys:
        fields += ", CAST(NULL AS VARCHAR) AS action"
    if "ts_raw" not in keys:
        fields += ", CAST(NULL AS VARCHAR) AS ts_raw"
    by_name = lookup_code(plan.events(DESTINATION), "ev")
    by_action = lookup_code(plan.action_values(DESTINATION), "upper(trim(action))")
    outs = []
    for c in strings:
        expr = f"c_{c}"
        outs.append(f"{_clean_id(expr) if c in ID_COLUMNS else expr} AS {c}")
    return f"""
WITH f AS (
  SELECT idx, valid, text, {fields}
  FROM (SELECT idx, text, {valid} AS valid, {parse} AS r FROM blk WHERE text IS NOT NULL)
),
h AS (
  SELECT *, CAST(coalesce({by_name}, {by_action}) AS TINYINT) AS code,
         {_time("trim(ts_raw)")} AS t
  FROM f
)
SELECT idx,
  CAST(CASE WHEN NOT valid THEN 2
       WHEN json_type(text) <> 'OBJECT' THEN 3
       WHEN code IS NULL THEN 9
       WHEN ts_raw IS NULL THEN 4
       WHEN t IS NULL THEN 5
       ELSE 0 END AS TINYINT) AS status,
  CAST(t AS TIMESTAMPTZ) AS event_time_utc, code,
  CASE WHEN code IS NULL THEN coalesce(ev || coalesce(' ({action}=' || action || ')', ''),
                                       'gtag:' || gtag0, '(no event key)') END AS event_name
  {"".join(", " + o for o in outs)}
FROM h
"""


def queries(plan: TrackingPlan) -> tuple[str, str]:
    """The fast and the guarded query."""
    return query(plan, guard=False), query(plan, guard=True)


def sniff(first_line: bytes) -> bool:
    """True when the first line looks like a pushed object: an ``event`` key beside ``gtm.`` or ``dc_``
    keys (and none of the capture format's ``ts`` or ``payload``), or a gtag command."""
    line = first_line.lstrip(b"\xef\xbb\xbf \t")
    if line.startswith(b'{"0":'):
        return True
    capture = b'"payload"' in line or b'"ts"' in line
    return b'"event"' in line and (b'"gtm.' in line or b'"dc_' in line) and not capture


def is_array(head: bytes) -> bool:
    """True when a file starts (after blanks) with a JSON array."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["


def array_block(con: duckdb.DuckDBPyConnection, path: Path, data: bytes) -> Block:
    """The elements of a JSON array file as one block of lines, element k on line k (compact JSON)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LoaderError(f"{path}: not UTF-8 text (byte {err.start})", path=path) from err
    cur = con.cursor()
    try:
        row = cur.execute(
            "SELECT json_type(j) = 'ARRAY', "
            "  array_to_string(list_transform(json_extract(j, '$[*]'), "
            "                  lambda e: CAST(e AS VARCHAR)), chr(10)) "
            "FROM (SELECT CAST(? AS JSON) AS j)",
            [text],
        ).fetchone()
    except duckdb.Error:
        row = None
    finally:
        cur.close()
    if row is None or not row[0]:
        try:
            json.loads(text)
            problem = "not a JSON array of objects"
        except json.JSONDecodeError as err:
            problem = f"malformed or truncated JSON at line {err.lineno}, column {err.colno}: {err.msg}"
            raise LoaderError(f"{path}: {problem}", path=path, record=err.lineno) from None
        raise LoaderError(f"{path}: {problem}", path=path)
    joined = (row[1] or "").encode("utf-8")
    if joined:
        joined += b"\n"
    return Block(data=joined, starts=line_starts(np.frombuffer(joined, dtype=np.uint8)), first_line=1)
