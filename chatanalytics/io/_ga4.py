"""GA4 BigQuery export rows (``events_YYYYMMDD`` and ``events_intraday_YYYYMMDD``) as canonical events.

Files are BigQuery table exports: newline-delimited JSON (plain or gzip), Parquet or Avro (read through
polars, the ``avro`` extra: ``pip install 'chatanalytics[avro]'``).
One row is one GA4 event. In JSON, INT64 values are written as strings and NULL columns are usually
left out; both are read, and an absent key is read as null.

Mapping (the names come from the :class:`~chatanalytics.io.TrackingPlan`'s ``ga4`` section):

- ``event_time_utc`` <- ``event_timestamp`` (microseconds since the epoch, UTC; ``time_granularity``
  ``exact``). ``event_date`` is in the property's time zone and is not used.
- ``event_type`` <- ``event_name`` through the plan's event names, or else the action parameter (the
  plan's ``event`` field, ``dc_event`` by default) holding the constant (any case) or an event name.
  Rows matched by neither (``page_view``, ``session_start``, a renamed chat event the plan does not
  know) are *ignored* and reported with their event name, so ``load_report(events).ignored`` shows
  what the plan missed.
- Other fields <- ``event_params``: each parameter's value is the first present of ``string_value``,
  ``int_value``, ``double_value`` and ``float_value``, as text (``4471902`` stays ``4471902``; a
  whole-number id written as a double loses its ``.0``). GA4 cuts parameter values at 100 characters;
  such values are kept as read and counted in the report's notes.
- ``page_url`` <- the plan's page URL parameter when it has one and it is set, else ``page_location``.
- ``visitor_id`` <- ``user_pseudo_id``; ``analytics_session_id`` <- ``user_pseudo_id:ga_session_id``
  (``ga_session_id`` is the session's start second, shared by many visitors).
- ``event_id`` <- the plan's event id parameter (``dc_event_id``) when present, else the GA4 batch key
  ``ga4:`` + ``user_pseudo_id|event_timestamp|event_name|batch_page_id|batch_ordering_id|
  batch_event_index``. The loader's de-duplication on ``event_id`` then drops the second copy of an
  event found in both a daily and an intraday table (or exported twice), and reports the row it repeats.

Rows are parsed by DuckDB (``from_json`` with the few fields needed, the parameters looked up with list
functions); no Python code runs per row.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import LoaderError
from ._coverage import check_filled_keys, json_records
from ._files import file_head, is_gzip, require_columns
from ._jsonl import first_line, parse_block, read_blocks, read_with_line_scan, stream
from ._plan import TrackingPlan
from ._protocol import ReadContext, ReadResult
from ._sql import (
    ID_COLUMNS,
    IGNORED_CHECK,
    NOT_OBJECT_OR_NO_TIME,
    REASONS,
    Status,
    clean_id,
    lit,
    lookup_code,
    status_sql,
    time_checks,
)

FORMAT = "ga4_bigquery"

#: The format's name and description, as ``read_events(format=...)`` takes it.
FORMATS = {FORMAT: "GA4 BigQuery export rows (events_*, events_intraday_*): NDJSON (.gz too), Parquet, Avro"}
DESTINATION = "ga4"

_VALUE = (
    '{"string_value": "VARCHAR", "int_value": "VARCHAR", "float_value": "VARCHAR", "double_value": "VARCHAR"}'
)
_STRUCTURE = (
    '{"event_name": "VARCHAR", "event_timestamp": "VARCHAR", "user_pseudo_id": "VARCHAR", '
    '"batch_event_index": "VARCHAR", "batch_page_id": "VARCHAR", "batch_ordering_id": "VARCHAR", '
    f'"event_params": [{{"key": "VARCHAR", "value": {_VALUE}}}]}}'
)
#: Largest and smallest microsecond counts DuckDB turns into a timestamp (years 1 to 9999).
_US_MIN, _US_MAX = -62135596800000000, 253402300799999999
_PARSE_ONLY = ["idx", "status", "event_name"]


def _param(key: str) -> str:
    return f"nullif(pv[list_position(pk, {lit(key)})], '')"


def _columns(plan: TrackingPlan) -> list[str]:
    """SQL select items for the canonical string columns."""
    cols = plan.columns(DESTINATION)
    items: dict[str, str] = {}
    for column, key in cols.items():
        if column in ("event_time_utc", "event_id", "page_url"):
            continue
        items[column] = _param(key)
    page = [_param(cols["page_url"])] if "page_url" in cols else []
    items["page_url"] = f"coalesce({', '.join([*page, _param('page_location')])})"
    items["visitor_id"] = "nullif(upid, '')"
    items["analytics_session_id"] = f"nullif(upid, '') || ':' || {_param('ga_session_id')}"
    batch = (
        "'ga4:' || concat_ws('|', coalesce(upid, ''), CAST(us AS VARCHAR), ev, "
        "coalesce(bpi, ''), coalesce(boi, ''), coalesce(bei, ''))"
    )
    own = [_param(cols["event_id"])] if "event_id" in cols else []
    items["event_id"] = f"coalesce({', '.join([*own, batch])})"
    out = []
    for column, expr in items.items():
        if column in ID_COLUMNS:
            expr = clean_id(f"({expr})")
        out.append(f"{expr} AS {column}")
    return out


def query(plan: TrackingPlan, source: str, *, object_check: str) -> str:
    """Classify and map the rows of ``source`` (idx, valid, text, ev_name, ts_raw, upid, bei, bpi, boi,
    pk: parameter keys, pv: parameter values as text).
    """
    action = plan.action_key(DESTINATION)
    action_expr = _param(action) if action else "CAST(NULL AS VARCHAR)"
    by_name = lookup_code(plan.events(DESTINATION), "ev")
    by_action = lookup_code(plan.action_values(DESTINATION), "upper(trim(action))")
    shown = f"' ({action}=' || action || ')'" if action else "NULL"
    status = status_sql(
        *time_checks("ts", "us0", object_check, micros=True),
        ("ev IS NULL", Status.MISSING_EVENT_NAME),
        IGNORED_CHECK,
    )
    return f"""
WITH f AS ({source}),
g AS (
  SELECT *, nullif(ts_raw, '') AS ts, nullif(ev_name, '') AS ev, {action_expr} AS action,
         try_cast(ts_raw AS BIGINT) AS us0
  FROM f
),
h AS (
  SELECT *, CAST(coalesce({by_name}, {by_action}) AS TINYINT) AS code,
         CASE WHEN us0 BETWEEN {_US_MIN} AND {_US_MAX} THEN us0 END AS us
  FROM g
)
SELECT idx,
  {status} AS status,
  CAST(make_timestamp(us) AS TIMESTAMPTZ) AS event_time_utc, code,
  CASE WHEN code IS NULL THEN ev || coalesce({shown}, '') END AS event_name,
  {", ".join(_columns(plan))}
FROM h
"""


def _json_source(guard: bool) -> str:
    parse = f"from_json(text, {lit(_STRUCTURE)})"
    valid = "json_valid(text)" if guard else "true"
    if guard:
        parse = f"CASE WHEN json_valid(text) THEN {parse} END"
    return f"""
  SELECT idx, valid, text, r.event_name AS ev_name, r.event_timestamp AS ts_raw,
         r.user_pseudo_id AS upid, r.batch_event_index AS bei, r.batch_page_id AS bpi,
         r.batch_ordering_id AS boi,
         list_transform(r.event_params, lambda p: p.key) AS pk,
         list_transform(r.event_params, lambda p: coalesce(nullif(p.value.string_value, ''),
           p.value.int_value, p.value.double_value, p.value.float_value)) AS pv
  FROM (SELECT idx, text, {valid} AS valid, {parse} AS r FROM blk WHERE text IS NOT NULL)"""


def json_queries(plan: TrackingPlan) -> tuple[str, str]:
    """The fast query (every line valid JSON) and the guarded one, over ``blk(idx, text)``."""
    return (
        query(plan, _json_source(False), object_check=NOT_OBJECT_OR_NO_TIME),
        query(plan, _json_source(True), object_check=NOT_OBJECT_OR_NO_TIME),
    )


_READ_COLUMNS = (
    "{'event_name': 'VARCHAR', 'event_timestamp': 'VARCHAR', 'user_pseudo_id': 'VARCHAR', "
    "'batch_event_index': 'VARCHAR', 'batch_page_id': 'VARCHAR', 'batch_ordering_id': 'VARCHAR', "
    "'event_params': 'STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value VARCHAR, "
    "float_value VARCHAR, double_value VARCHAR))[]'}"
)


def _file_source(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    return f"""
  SELECT CAST(0 AS INTEGER) AS idx, true AS valid, CAST(NULL AS VARCHAR) AS text, r.event_name AS ev_name,
         r.event_timestamp AS ts_raw, r.user_pseudo_id AS upid, r.batch_event_index AS bei,
         r.batch_page_id AS bpi, r.batch_ordering_id AS boi,
         list_transform(r.event_params, lambda p: p.key) AS pk,
         list_transform(r.event_params, lambda p: coalesce(nullif(p.value.string_value, ''),
           p.value.int_value, p.value.double_value, p.value.float_value)) AS pv
  FROM read_json('{quoted}', format = 'newline_delimited', columns = {_READ_COLUMNS},
                 maximum_object_size = 134217728) AS r"""


def parse_file(con: duckdb.DuckDBPyConnection, path: Path, plan: TrackingPlan) -> ReadResult | None:
    """Read a whole uncompressed file with DuckDB's JSON reader and typed columns (the fast path).

    Line numbers come from a newline scan run beside DuckDB (see
    :func:`~chatanalytics.io._jsonl.read_with_line_scan`). Returns None when the file needs the
    line-by-line path: a line that is not a JSON object of the export's shape, bytes that are not UTF-8,
    or any disagreement in the count.
    """
    sql = query(plan, _file_source(path), object_check=f"{Status.MISSING_TIME}")
    return read_with_line_scan(path, lambda: stream(con, sql))


def count_long_values(table: pa.Table, columns: tuple[str, ...], limit: int, marker: str) -> int:
    """Values that GA4 may have cut: exactly ``limit`` characters long, or ending in the snippet's
    truncation marker.
    """
    n = 0
    for c in columns:
        if c in table.column_names:
            col = table.column(c)
            hit = pc.or_(pc.equal(pc.utf8_length(col), limit), pc.ends_with(col, marker))
            n += int(pc.sum(hit.cast(pa.int64())).as_py() or 0)
    return n


# ----------------------------------------------------------------------------------------- Parquet
_PARQUET_REQUIRED = ("event_name", "event_timestamp")


def _parquet_source(path: Path, names: list[str], value_fields: list[str]) -> str:
    quoted = path.as_posix().replace("'", "''")
    return _typed_source(f"read_parquet('{quoted}', file_row_number = true)", names, value_fields)


def _typed_source(relation: str, names: list[str], value_fields: list[str]) -> str:
    """The classify-and-map query's source over a typed export table with a ``file_row_number`` column."""

    def col(name: str) -> str:
        return f"CAST({name} AS VARCHAR)" if name in names else "CAST(NULL AS VARCHAR)"

    order = [f for f in ("string_value", "int_value", "double_value", "float_value") if f in value_fields]
    values = ", ".join(
        "nullif(p.value.string_value, '')" if f == "string_value" else f"CAST(p.value.{f} AS VARCHAR)"
        for f in order
    )
    if "event_params" in names and order:
        pk = "list_transform(event_params, lambda p: p.key)"
        pv = f"list_transform(event_params, lambda p: coalesce({values}))"
    else:
        pk, pv = "CAST([] AS VARCHAR[])", "CAST([] AS VARCHAR[])"
    return f"""
  SELECT CAST(file_row_number AS BIGINT) AS idx, true AS valid, NULL AS text,
         {col("event_name")} AS ev_name, {col("event_timestamp")} AS ts_raw,
         {col("user_pseudo_id")} AS upid, {col("batch_event_index")} AS bei,
         {col("batch_page_id")} AS bpi, {col("batch_ordering_id")} AS boi, {pk} AS pk, {pv} AS pv
  FROM {relation}"""


def sniff_parquet(path: Path) -> str | None:
    """``"ga4_bigquery"`` when a Parquet file has GA4's columns (and no canonical ``event_time_utc``)."""
    try:
        names = pq.read_schema(path).names
    except Exception:  # not readable as Parquet: the canonical reader reports it
        return None
    if all(c in names for c in _PARQUET_REQUIRED) and "event_time_utc" not in names:
        return FORMAT
    return None


def read_parquet(con: duckdb.DuckDBPyConnection, path: Path, plan: TrackingPlan) -> ReadResult:
    """Read one Parquet file of GA4 BigQuery export rows."""
    try:
        schema = pq.read_schema(path)
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise LoaderError(f"cannot read {path} as Parquet: {err}", path=path) from err
    names = schema.names
    require_columns(path, names, _PARQUET_REQUIRED, "a GA4 BigQuery export")
    value_fields = _value_fields(path, schema)
    sql = query(plan, _parquet_source(path, names, value_fields), object_check=f"{Status.MISSING_TIME}")
    try:
        out = con.sql(sql).to_arrow_table()
    except duckdb.Error as err:
        raise LoaderError(f"cannot read {path} as a GA4 BigQuery export: {err}", path=path) from err
    return _typed_result(out)


def _value_fields(path: Path, schema: pa.Schema) -> list[str]:
    """The typed value fields of ``event_params`` (``string_value``, ``int_value``, ...), checked."""
    if "event_params" not in schema.names:
        return []
    typ = schema.field("event_params").type
    try:
        value_type = typ.value_type.field("value").type
        typ.value_type.field("key")
        return [value_type.field(i).name for i in range(value_type.num_fields)]
    except (AttributeError, KeyError) as err:
        raise LoaderError(
            f"{path}: event_params is {typ}, not a list of {{key, value}} records", path=path
        ) from err


def read_avro(con: duckdb.DuckDBPyConnection, path: Path, plan: TrackingPlan) -> ReadResult:
    """Read one Avro file of GA4 BigQuery export rows (BigQuery's Avro export: nullable unions, arrays of
    records), through polars' Avro reader into Arrow, then the same query as Parquet.
    """
    try:
        import polars as pl
    except ImportError:
        raise LoaderError(
            f"{path} is an Avro file: reading Avro needs polars (pip install 'chatanalytics[avro]'), or "
            "export the BigQuery table as NEWLINE_DELIMITED_JSON or PARQUET instead",
            path=path,
        ) from None
    try:
        table = pl.read_avro(path).to_arrow()
    except Exception as err:  # polars raises several types for a damaged or truncated file
        raise LoaderError(f"cannot read {path} as Avro: {err}", path=path) from err
    names = table.column_names
    require_columns(path, names, _PARQUET_REQUIRED, "a GA4 BigQuery export")
    value_fields = _value_fields(path, table.schema)
    table = table.append_column("file_row_number", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    con.register("ga4_avro", table)
    try:
        out = con.sql(
            query(plan, _typed_source("ga4_avro", names, value_fields), object_check=f"{Status.MISSING_TIME}")
        )
        return _typed_result(out.to_arrow_table())
    except duckdb.Error as err:
        raise LoaderError(f"cannot read {path} as a GA4 BigQuery export: {err}", path=path) from err
    finally:
        con.unregister("ga4_avro")


def _typed_result(out: pa.Table) -> ReadResult:
    """Events, ignored and rejected rows of a typed (Parquet or Avro) export file, from the query's output."""
    status = out.column("status").to_numpy()
    rows = out.column("idx").to_numpy().astype(np.int64) + 1
    result = ReadResult(records=out.num_rows)
    keep = status == Status.OK
    if not keep.all():
        ign = status == Status.IGNORED
        result.ignored.add_arrays(rows[ign], out.column("event_name").filter(pa.array(ign)))
        bad = ~keep & ~ign
        if bad.any():
            sub = out.filter(pa.array(bad)).select(["idx", "status"]).to_pylist()
            for r in sub:
                raw = json.dumps({"row": r["idx"] + 1}).encode()
                result.rejected.append((r["idx"] + 1, REASONS[int(r["status"])], raw))
        out = out.filter(pa.array(keep))
        rows = rows[keep]
    if out.num_rows:
        result.tables.append((out.drop_columns(_PARSE_ONLY), rows))
    return result


def sniff(path: Path, head: bytes) -> str | None:
    """``"ga4_bigquery"`` for a Parquet file with GA4's columns, an Avro file, or JSON lines whose first
    record has ``event_name`` and ``event_timestamp``.
    """
    if _is_parquet(path, head):
        return sniff_parquet(path)
    if head[:4] == b"Obj\x01":
        return FORMAT  # Avro: BigQuery's third export format
    first = first_line(head)
    if b'"event_name"' in first and b'"event_timestamp"' in first:
        return FORMAT
    return None


def _is_parquet(path: Path, head: bytes) -> bool:
    """Named ``.parquet``, or starting with Parquet's magic number and either whole (the magic number at
    both ends) or not text (a damaged Parquet file, which the Parquet reader reports). A text file whose
    first line happens to start with the magic number is read as NDJSON, its lines records.
    """
    if path.name.lower().endswith(".parquet"):
        return True
    if head[:4] != b"PAR1":
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 3:  # not a character cut by the end of the head
            return True
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(max(size - 4, 0))
        return size >= 12 and fh.read(4) == b"PAR1"


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one GA4 BigQuery export file (NDJSON, plain or gzip, Parquet or Avro).

    See :class:`chatanalytics.io.Format`. Event names: the plan's ``ga4`` section. Record numbers: the
    line of an NDJSON file, the row of a Parquet or Avro one. A note counts the values GA4 may have cut.

    Raises
    ------
    LoaderError
        The file cannot be read, or a Parquet or Avro file lacks the export's columns.
    """
    plan = ctx.plan
    head = file_head(path)
    if _is_parquet(path, head):
        result = read_parquet(ctx.con, path, plan)
    elif head[:4] == b"Obj\x01":
        result = read_avro(ctx.con, path, plan)
    else:
        fast = None if is_gzip(path) else parse_file(ctx.con, path, plan)
        if fast is None:
            qs = ctx.queries(FORMAT, json_queries)
            fast = read_blocks(path, lambda block: parse_block(ctx.con, block, qs, path))
        result = fast
    check_filled_keys(result, path, DESTINATION, plan, lambda: _param_keys(ctx, path, head))
    limit = plan.to_dict()["ga4"]["limits"]["value"]
    marker = plan.to_dict()["truncation_marker"]
    long_values = sum(
        count_long_values(t, ("conversation_name", "meeting_info", "page_url"), limit, marker)
        for t, _ in result.tables
    )
    if long_values:
        result.notes.append(
            f"{path}: {long_values:,} parameter value(s) are {limit} characters long or end in "
            f"{marker!r}: GA4 cuts longer values, so they may be truncated (kept as read)"
        )
    return result


def _param_keys(ctx: ReadContext, path: Path, head: bytes) -> list[str]:
    """The event parameter keys of the file's first events, most frequent first."""
    if _is_parquet(path, head):
        sql = (
            "SELECT p.key AS k, count(*) AS n FROM (SELECT unnest(event_params) AS p FROM "
            f"read_parquet({lit(str(path))}) LIMIT 100000) GROUP BY ALL ORDER BY n DESC"
        )
        try:
            return [str(k) for k, _ in ctx.con.sql(sql).fetchall() if k is not None]
        except duckdb.Error:
            return []
    if head[:4] == b"Obj\x01":
        return []
    counts: dict[str, int] = {}
    for record in json_records(path):
        params = record.get("event_params") if isinstance(record, dict) else None
        for item in params if isinstance(params, list) else []:
            key = item.get("key") if isinstance(item, dict) else None
            if isinstance(key, str):
                counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda k: -counts[k])
