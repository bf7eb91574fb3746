"""Snowplow enriched events (the TSV written by Snowplow's enrich step) as canonical events.

A file holds one enriched event per line: 131 tab-separated columns, no header, in the fixed order of
:data:`COLUMNS`, taken from ``ENRICHED_EVENT_FIELD_TYPES`` in snowplow/snowplow-python-analytics-sdk
``snowplow_analytics_sdk/event_transformer.py`` (``app_id``, ``platform``, ``etl_tstamp``,
``collector_tstamp``, ``dvce_created_tstamp``, ``event``, ``event_id``, ... ``domain_userid`` (16), ...
``page_url`` (30), ... ``se_category`` ... ``se_value`` (54-58), ``unstruct_event`` (59), ...
``domain_sessionid`` (124), ``derived_tstamp`` (125), ``event_vendor``, ``event_name``, ``event_format``,
``event_version`` (126-129), ``event_fingerprint``, ``true_tstamp``; 1-based). An empty column is null.
Plain and gzip files are read; a record number is the line number.

Two shapes of chat event are read (the names come from the :class:`~chatanalytics.io.TrackingPlan`'s
``snowplow`` section):

- *Self-describing* events: ``unstruct_event`` is ``{"schema": "iglu:com.snowplowanalytics.snowplow/
  unstruct_event/jsonschema/1-0-0", "data": {"schema": "iglu:<vendor>/<name>/jsonschema/<version>",
  "data": {...}}}`` whose ``<name>`` is the plan's ``schema_name`` (``dynamic_chat_event``; any vendor
  and version, any case). When ``unstruct_event`` is not valid JSON, the ``event_name`` column names
  the schema. The event type is the payload's action field (the plan's ``event`` field, ``event``):
  the constant (``CONVERSATION_ENGAGED``, any case) or the plan's event name for it
  (``dc_conversation_engaged``). The other fields are the payload keys the plan names (``name``,
  ``id``, ``type``, ``uiType``, ``sid``, ``agentName``, ``agentID``, ``meetingInfo``); numbers are kept
  as text (``4471902``, never ``4471902.0``) and an object (``meetingInfo``) as its JSON text.
- *Structured* events whose ``se_category`` is the plan's ``structured_category`` (``Dynamic Chat``,
  any case): the event type is ``se_action`` (a plan event name or a constant) and
  ``conversation_id`` is ``se_label``.
- *Context entities*: either kind of chat event may carry the payload as a context entity (in the
  ``contexts`` column) whose schema name is the plan's ``schema_name``; a key missing from a
  self-describing event's data, and every key of a structured event, is read from it. Other
  entities (``web_page``, ...) are never read, so their ``id`` is not taken for a conversation's.
- A dotted plan key (``chat.sid``) is a path into nested objects of the data or the entity (a key
  literally named ``chat.sid`` is read when no such object exists).

Mapping of the columns:

- ``event_time_utc`` <- ``derived_tstamp``, else ``collector_tstamp`` (``YYYY-MM-DD HH:MM:SS[.mmm]``,
  UTC; ``time_granularity`` ``exact``), unless the plan names a ``ts`` payload key that is set.
- ``visitor_id`` <- ``domain_userid``; ``analytics_session_id`` <- ``domain_sessionid``;
  ``page_url`` <- ``page_url``; ``event_id`` <- ``event_id`` (the plan's ``page_url`` and
  ``event_id`` payload keys, when it names them and they are set, come first). Snowplow's
  at-least-once delivery repeats an ``event_id``; the loader keeps the first copy and reports the rest
  as duplicates. ``user_id`` and the other columns are not read.

Every other event (``page_view``, ``page_ping``, another schema, a structured event of another
category) is *ignored* and reported with its name: the schema name for a self-describing event
(``link_click``), ``struct (se_category=...)`` for a structured one, else the ``event`` column. A chat
event whose action the plan does not know is ignored as ``dynamic_chat_event (event=...)``. A line
that does not have 131 columns (a truncated last line) or is not UTF-8 is rejected, as is a chat event
without a time, without an action, or whose ``unstruct_event`` is not JSON. A file whose first 64 MiB
hold no line of 131 columns is not a Snowplow file: reading it raises
:class:`~chatanalytics.errors.LoaderError`. A gzip stream that ends early or turns to garbage is read up
to that point (a note says so; garbage counts as one rejected record).

Lines are split and mapped by DuckDB (``string_split`` and the JSON functions, one pass per block of
lines); no Python code runs per line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import LoaderError
from ._coverage import SAMPLE_RECORDS, check_filled_keys, head_text, key_paths
from ._files import Block
from ._json_sql import json_paths
from ._jsonl import parse_block, read_blocks
from ._plan import TrackingPlan
from ._protocol import ReadContext, ReadResult
from ._sql import ID_COLUMNS, REASONS, Status, clean_id, lit, lookup_code

FORMAT = "snowplow"
DESTINATION = "snowplow"
FORMATS: dict[str, str] = {
    FORMAT: "Snowplow enriched events: 131 tab-separated columns per line, no header (.tsv, .gz too)"
}

#: The 131 columns of an enriched event, in file order (snowplow-python-analytics-sdk,
#: ``snowplow_analytics_sdk/event_transformer.py``, ``ENRICHED_EVENT_FIELD_TYPES``).
COLUMNS: tuple[str, ...] = (
    *("app_id", "platform", "etl_tstamp", "collector_tstamp", "dvce_created_tstamp", "event", "event_id"),
    *("txn_id", "name_tracker", "v_tracker", "v_collector", "v_etl", "user_id", "user_ipaddress"),
    *("user_fingerprint", "domain_userid", "domain_sessionidx", "network_userid", "geo_country"),
    *("geo_region", "geo_city", "geo_zipcode", "geo_latitude", "geo_longitude", "geo_region_name"),
    *("ip_isp", "ip_organization", "ip_domain", "ip_netspeed", "page_url", "page_title", "page_referrer"),
    *("page_urlscheme", "page_urlhost", "page_urlport", "page_urlpath", "page_urlquery", "page_urlfragment"),
    *("refr_urlscheme", "refr_urlhost", "refr_urlport", "refr_urlpath", "refr_urlquery", "refr_urlfragment"),
    *("refr_medium", "refr_source", "refr_term", "mkt_medium", "mkt_source", "mkt_term", "mkt_content"),
    *("mkt_campaign", "contexts", "se_category", "se_action", "se_label", "se_property", "se_value"),
    *("unstruct_event", "tr_orderid", "tr_affiliation", "tr_total", "tr_tax", "tr_shipping", "tr_city"),
    *("tr_state", "tr_country", "ti_orderid", "ti_sku", "ti_name", "ti_category", "ti_price", "ti_quantity"),
    *("pp_xoffset_min", "pp_xoffset_max", "pp_yoffset_min", "pp_yoffset_max", "useragent", "br_name"),
    *("br_family", "br_version", "br_type", "br_renderengine", "br_lang", "br_features_pdf"),
    *("br_features_flash", "br_features_java", "br_features_director", "br_features_quicktime"),
    *("br_features_realplayer", "br_features_windowsmedia", "br_features_gears", "br_features_silverlight"),
    *("br_cookies", "br_colordepth", "br_viewwidth", "br_viewheight", "os_name", "os_family"),
    *("os_manufacturer", "os_timezone", "dvce_type", "dvce_ismobile", "dvce_screenwidth"),
    *("dvce_screenheight", "doc_charset", "doc_width", "doc_height", "tr_currency", "tr_total_base"),
    *("tr_tax_base", "tr_shipping_base", "ti_currency", "ti_price_base", "base_currency", "geo_timezone"),
    *("mkt_clickid", "mkt_network", "etl_tags", "dvce_sent_tstamp", "refr_domain_userid"),
    *("refr_device_tstamp", "derived_contexts", "domain_sessionid", "derived_tstamp", "event_vendor"),
    *("event_name", "event_format", "event_version", "event_fingerprint", "true_tstamp"),
)

#: Reasons of rejected lines that do not have the columns of an enriched event.
_UNSHAPED = (REASONS[Status.NON_UTF8], REASONS[Status.WRONG_WIDTH])

_TSTAMP = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?")
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


#: The name part of an Iglu schema URI (``iglu:<vendor>/<name>/jsonschema/<version>``).
_SCHEMA_NAME = "^iglu:[^/]*/([^/]+)/"


def _col(name: str) -> str:
    """The 1-based list index of a column, as SQL reading it from ``f`` (empty -> NULL)."""
    return f"nullif(f[{COLUMNS.index(name) + 1}], '')"


def sniff(path: Path, head: bytes) -> str | None:
    """``"snowplow"`` when the first line is an enriched event: a ``collector_tstamp`` in column 4 and a
    UUID ``event_id`` in column 7, and 131 columns (when the whole line fits in ``head``).
    """
    text = head.lstrip(b"\xef\xbb\xbf\r\n")
    line, newline, _ = text.partition(b"\n")
    fields = line.rstrip(b"\r").split(b"\t")
    if len(fields) < 8 or (newline and len(fields) != len(COLUMNS)):
        return None
    if _TSTAMP.fullmatch(fields[3]) and _UUID.fullmatch(fields[6]):
        return FORMAT
    return None


def query(plan: TrackingPlan) -> str:
    """The query over ``blk(idx, text)`` (one line per row) mapping enriched events to canonical rows."""
    section = plan.to_dict()[DESTINATION]
    schema, category = section.get("schema_name"), section.get("structured_category")
    columns = plan.columns(DESTINATION)
    action = plan.action_key(DESTINATION)
    keys = ([action] if action else []) + list(dict.fromkeys(columns.values()))
    flat = [p for k in keys for p in json_paths(k)]
    paths = "[" + ", ".join(lit(p) for p in flat) + "]"

    def value(key: str) -> str:
        """The key's value in the event's data ``pv``, else in its chat context entity's ``cv`` (nested
        path first, for a dotted key), empty as NULL.
        """
        at = flat.index(json_paths(key)[0]) + 1
        found = [f"nullif({v}[{at + i}], '')" for v in ("pv", "cv") for i in range(len(json_paths(key)))]
        return f"coalesce({', '.join(found)})"

    def payload(column: str) -> str | None:
        key = columns.get(column)
        return value(key) if key else None

    def first(*exprs: str | None) -> str:
        present = [e for e in exprs if e]
        if not present:
            return "CAST(NULL AS VARCHAR)"
        return present[0] if len(present) == 1 else f"coalesce({', '.join(present)})"

    is_sd = f"coalesce(lower(sd_name) = lower({lit(schema)}), false)" if schema else "false"
    is_st = f"coalesce(lower(trim(se_cat)) = lower(trim({lit(category)})), false)" if category else "false"
    action_expr = value(action) if action else "CAST(NULL AS VARCHAR)"
    by_name = lookup_code(plan.events(DESTINATION), "act")
    by_value = lookup_code(plan.action_values(DESTINATION), "upper(trim(act))")
    payload_only = (
        "conversation_name",
        "conversation_type",
        "ui_type",
        "session_id",
        "agent_name",
        "agent_id",
    )
    strings = {
        c: f"CASE WHEN is_sd OR is_st THEN {first(payload(c))} END" for c in (*payload_only, "meeting_info")
    }
    conversation = first(payload("conversation_id"))
    strings["conversation_id"] = (
        f"CASE WHEN is_sd THEN {conversation} ELSE coalesce(se_lab, {conversation}) END"
    )
    in_schema = (
        f"lower(regexp_extract(json_extract_string(e, '$.schema'), {lit(_SCHEMA_NAME)}, 1)) "
        f"= lower({lit(schema)})"
        if schema
        else "false"
    )
    strings["visitor_id"] = "duid"
    strings["page_url"] = first(payload("page_url"), "url")
    strings["analytics_session_id"] = "dsid"
    strings["event_id"] = first(payload("event_id"), "eid")
    items = [
        f"{clean_id(f'({expr})') if column in ID_COLUMNS else expr} AS {column}"
        for column, expr in strings.items()
    ]
    shown = lit(f" ({action}=") if action else "' (event='"
    return f"""
WITH s AS (
  SELECT idx, string_split(rtrim(text, chr(13) || chr(10)), chr(9)) AS f FROM blk WHERE text IS NOT NULL
),
g AS (
  SELECT idx, len(f) AS width, {_col("collector_tstamp")} AS collector, {_col("derived_tstamp")} AS derived,
         {_col("event")} AS ev, {_col("event_id")} AS eid, {_col("domain_userid")} AS duid,
         {_col("page_url")} AS url, {_col("se_category")} AS se_cat, {_col("se_action")} AS se_act,
         {_col("se_label")} AS se_lab, {_col("unstruct_event")} AS ue, {_col("domain_sessionid")} AS dsid,
         {_col("event_name")} AS ev_name, {_col("contexts")} AS ctx
  FROM s
),
h AS (
  SELECT *, CASE WHEN json_valid(ue) THEN ue END AS uej, CASE WHEN json_valid(ctx) THEN ctx END AS cj FROM g
),
k AS (
  SELECT *, coalesce(nullif(regexp_extract(json_extract_string(uej, '$.data.schema'),
                                           '^iglu:[^/]*/([^/]+)/', 1), ''), ev_name) AS sd_name
  FROM h
),
m AS (
  SELECT *, {is_sd} AS is_sd, {is_st} AS is_st FROM k
),
p AS (
  SELECT *, CASE WHEN is_sd THEN json_extract_string(json_extract(uej, '$.data.data'), {paths}) END AS pv,
         CASE WHEN (is_sd OR is_st) AND cj IS NOT NULL THEN json_extract_string(json_extract(
           list_filter(try_cast(json_extract(cj, '$.data') AS JSON[]), lambda e: {in_schema})[1], '$.data'),
           {paths}) END AS cv
  FROM m
),
q AS (
  SELECT *, CASE WHEN is_sd THEN {action_expr} WHEN is_st THEN se_act END AS act FROM p
),
r AS (
  SELECT *, CAST(coalesce({by_name}, {by_value}) AS TINYINT) AS code,
         {first(payload("event_time_utc"), "derived", "collector")} AS ts
  FROM q
),
t AS (
  SELECT *, try_cast(ts AS TIMESTAMPTZ) AS tm FROM r
)
SELECT idx,
  CAST(CASE WHEN width <> {len(COLUMNS)} THEN {Status.WRONG_WIDTH}
       WHEN NOT (is_sd OR is_st) THEN {Status.IGNORED}
       WHEN is_sd AND uej IS NULL THEN
         CASE WHEN ue IS NULL THEN {Status.MISSING_EVENT_TYPE} ELSE {Status.MALFORMED_JSON} END
       WHEN ts IS NULL THEN {Status.MISSING_TIME}
       WHEN tm IS NULL THEN {Status.BAD_TIME}
       WHEN act IS NULL THEN {Status.MISSING_EVENT_TYPE}
       WHEN code IS NULL THEN {Status.IGNORED}
       ELSE {Status.OK} END AS TINYINT) AS status,
  CASE WHEN NOT (is_sd OR is_st) THEN
         CASE WHEN se_cat IS NOT NULL THEN 'struct (se_category=' || se_cat || ')'
              ELSE coalesce(sd_name, ev, '(no event)') END
       WHEN is_sd THEN sd_name || {shown} || coalesce(act, '') || ')'
       ELSE 'struct (se_category=' || se_cat || ', se_action=' || coalesce(act, '') || ')' END AS event_name,
  tm AS event_time_utc, code,
  {", ".join(items)}
FROM t
"""


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one enriched-event file (plain or gzip).

    Raises
    ------
    LoaderError
        No line of the file's first block has 131 tab-separated columns (it is not a Snowplow
        enriched-event file), or DuckDB cannot read it.
    """
    sql = query(ctx.plan)
    seen = [0]  # records of the blocks before

    def parse(block: Block) -> ReadResult:
        got = parse_block(ctx.con, block, (sql, sql), path, check_utf8=True)
        shaped = got.records - sum(1 for _, reason, _ in got.rejected if reason in _UNSHAPED)
        if seen[0] == 0 and got.records and shaped == 0:
            first = block.data[: block.starts[1] if len(block.starts) > 1 else len(block.data)]
            width = first.count(b"\t") + 1
            raise LoaderError(
                f"{path} is not a Snowplow enriched-event file: no line has the {len(COLUMNS)} "
                f"tab-separated columns of an enriched event (line {block.first_line} has {width})",
                path=path,
                record=block.first_line,
            )
        seen[0] += got.records
        return got

    result = read_blocks(path, parse)
    # the structured events' fields are Snowplow's own columns: only the plan's keys are checked
    check_filled_keys(result, path, DESTINATION, ctx.plan, lambda: _event_data_keys(path))
    return result


def _event_data_keys(path: Path) -> list[str]:
    """The key paths of the self-describing events' data in the file's first lines, most frequent first."""
    counts: dict[str, int] = {}
    at = COLUMNS.index("unstruct_event")
    for line in head_text(path).splitlines()[:SAMPLE_RECORDS]:
        cells = line.split("\t")
        if len(cells) != len(COLUMNS) or not cells[at]:
            continue
        try:
            data = json.loads(cells[at])["data"]["data"]
        except (ValueError, KeyError, TypeError):
            continue
        for key in key_paths(data):
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda k: -counts[k])
