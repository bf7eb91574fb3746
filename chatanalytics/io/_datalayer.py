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
- A dotted key addresses a nested object, as GTM's Data Layer Variables do: a site that pushes
  ``{"event": "chat_engaged", "chat": {"sid": "...", "id": 4471902}}`` maps ``sid`` to ``chat.sid``
  and ``id`` to ``chat.id``. A key literally named ``chat.sid`` is read when there is no such object.

A record number is the line (one object per line) or the 1-based position in the array.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._coverage import check_filled_keys, sample_json_keys
from ._json_sql import add_key, key_sql, structure, time_text
from ._jsonl import first_array_element, first_line, is_capture_record, is_json_array, read_json_records
from ._plan import TrackingPlan
from ._protocol import ReadContext, ReadResult
from ._sql import ID_COLUMNS, IGNORED_CHECK, Status, clean_id, lit, lookup_code, status_sql, time_checks

FORMAT = "datalayer"

#: The format's name and description, as ``read_events(format=...)`` takes it.
FORMATS = {FORMAT: "a GTM dataLayer capture: a JSON array, or one object per line, of dataLayer.push objects"}
DESTINATION = "datalayer"


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
    tree: dict[str, Any] = {}
    for k in dict.fromkeys(keys.values()):
        add_key(tree, k)
    parse = f"from_json(text, {lit(structure(tree))})"
    valid = "json_valid(text)" if guard else "true"
    if guard:
        parse = f"CASE WHEN json_valid(text) THEN {parse} END"
    fields = ", ".join(f"nullif({key_sql('r', k)}, '') AS {alias}" for alias, k in keys.items())
    if "action" not in keys:
        fields += ", CAST(NULL AS VARCHAR) AS action"
    if "ts_raw" not in keys:
        fields += ", CAST(NULL AS VARCHAR) AS ts_raw"
    by_name = lookup_code(plan.events(DESTINATION), "ev")
    by_action = lookup_code(plan.action_values(DESTINATION), "upper(trim(action))")
    outs = []
    for c in strings:
        expr = f"c_{c}"
        outs.append(f"{clean_id(expr) if c in ID_COLUMNS else expr} AS {c}")
    status = status_sql(
        ("json_type(text) <> 'OBJECT'", Status.NOT_OBJECT), IGNORED_CHECK, *time_checks("ts_raw", "t")
    )
    return f"""
WITH f AS (
  SELECT idx, valid, text, {fields}
  FROM (SELECT idx, text, {valid} AS valid, {parse} AS r FROM blk WHERE text IS NOT NULL)
),
h AS (
  SELECT *, CAST(coalesce({by_name}, {by_action}) AS TINYINT) AS code,
         {time_text("trim(ts_raw)")} AS t
  FROM f
)
SELECT idx,
  {status} AS status,
  CAST(t AS TIMESTAMPTZ) AS event_time_utc, code,
  CASE WHEN code IS NULL THEN coalesce(ev || coalesce(' ({action}=' || action || ')', ''),
                                       'gtag:' || gtag0, '(no event key)') END AS event_name
  {"".join(", " + o for o in outs)}
FROM h
"""


def queries(plan: TrackingPlan) -> tuple[str, str]:
    """The fast and the guarded query."""
    return query(plan, guard=False), query(plan, guard=True)


def _pushed(line: bytes) -> bool:
    """True when a line looks like a pushed object: an ``event`` key beside ``gtm.`` or ``dc_`` keys (and
    none of the capture format's ``ts`` or ``payload``), or a gtag command.
    """
    if line.startswith(b'{"0":'):
        return True
    capture = b'"payload"' in line or b'"ts"' in line
    return b'"event"' in line and (b'"gtm.' in line or b'"dc_' in line) and not capture


def sniff(path: Path, head: bytes) -> str | None:
    """``"datalayer"`` when a file is a JSON array (unless its first element is a capture record) or its
    first line looks like a pushed object.
    """
    if is_json_array(head):
        return None if is_capture_record(first_array_element(head)) else FORMAT
    return FORMAT if _pushed(first_line(head)) else None


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one dataLayer capture (a JSON array, or JSON lines, plain or gzip).

    See :class:`chatanalytics.io.Format`. Pushes are named through the plan's ``datalayer`` section and
    numbered by line, or by position in an array.

    Raises
    ------
    LoaderError
        The file cannot be read, or a JSON array is malformed or truncated.
    """
    result = read_json_records(ctx, path, ctx.queries(FORMAT, queries))
    check_filled_keys(result, path, DESTINATION, ctx.plan, lambda: sample_json_keys(path))
    return result
