"""The engine behind the analyses: canonical events as an Ibis table, on DuckDB by default.

Per-event work is written as Ibis expressions, so the same code runs on DuckDB (in process, the
default) and on other Ibis backends; numpy and pandas take over on aggregated results.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import AggregatedDataError, EmptyDataError, InvalidParameterError
from ..schema import validate_events


def as_table(events: Any, columns: list[str], *, micros: bool = False) -> Any:
    """``events`` (a canonical pandas frame or an Ibis table) as an Ibis table of ``columns``.

    A pandas frame is handed to DuckDB through Arrow without copying its strings. With ``micros``,
    ``event_time_utc`` becomes integer microseconds since the epoch: integer comparisons and arithmetic
    are far cheaper in DuckDB than timestamp functions over millions of rows.
    """
    import ibis

    if isinstance(events, pd.DataFrame):
        return ibis.memtable(frame_arrow(events, columns, micros=micros))
    if isinstance(events, ibis.expr.types.Table):
        missing = [c for c in columns if c not in events.columns]
        if missing:
            raise InvalidParameterError(
                "events", "ibis.Table", reason=f"lacks canonical column(s) {', '.join(missing)}"
            )
        table = events.select(columns)
        if micros and "event_time_utc" in columns:
            epoch = ibis.timestamp("1970-01-01 00:00:00+00:00")
            table = table.mutate(event_time_utc=table.event_time_utc.delta(epoch, unit="microsecond"))
        return table
    raise InvalidParameterError(
        "events", type(events).__name__, reason="expected a canonical pandas DataFrame or an Ibis table"
    )


def frame_arrow(events: pd.DataFrame, columns: list[str], *, micros: bool = False) -> pa.Table:
    """The ``columns`` of a canonical frame as an Arrow table, after the checks of :func:`as_table`.

    Strings are handed over without a copy; categoricals travel as Arrow dictionaries, which DuckDB
    reads as text without expanding them. With ``micros``, ``event_time_utc`` becomes integer
    microseconds since the epoch (a cast without a copy).
    """
    validate_events(events)
    if len(events) == 0:
        raise EmptyDataError("no events: the frame is empty")
    refuse_aggregated(events)
    table = pa.Table.from_pandas(events[columns], preserve_index=False)
    if micros and "event_time_utc" in columns:
        i = table.column_names.index("event_time_utc")
        time = table.column(i).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        table = table.set_column(i, "event_time_utc", time)
    return table


@dataclass(frozen=True)
class Compiled:
    """An Ibis expression compiled to DuckDB SQL, with the schema its result is cast to."""

    sql: str
    schema: pa.Schema


_COMPILED: dict[Hashable, dict[str, Compiled]] = {}
_COMPILED_MAX = 512
_LOCK = threading.Lock()
_CON: list[Any] = []


def compiled(key: Hashable, build: Callable[[], dict[str, Any]]) -> dict[str, Compiled]:
    """The DuckDB SQL of the expressions ``build()`` returns by name, compiled once per ``key``.

    ``build`` writes its queries over placeholder tables (``ibis.table(schema, name=...)``) that
    :func:`run_compiled` fills with Arrow tables, and ``key`` names everything the expressions depend
    on. Building and compiling an Ibis expression costs 20-150 ms; running the compiled SQL on a few
    thousand events costs about a millisecond, so a notebook or a widget that repeats an analysis pays
    the compilation once per shape.
    """
    hit = _COMPILED.get(key)
    if hit is not None:
        return hit
    import ibis

    out = {
        name: Compiled(str(ibis.to_sql(e, dialect="duckdb")), e.schema().to_pyarrow())
        for name, e in build().items()
    }
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    _COMPILED[key] = out
    return out


def run_compiled(tables: dict[str, pa.Table], *queries: Compiled) -> list[pa.Table]:
    """Run compiled queries on one in-process DuckDB connection with ``tables`` registered by name.

    Each result is cast to its expression's schema (DuckDB sums integers into 128-bit integers, for
    instance, where the expression says int64), as the Ibis backend does.
    """
    import duckdb

    out = []
    with _LOCK:  # one connection, opened once: opening one costs more than a query on a small frame
        if not _CON:
            _CON.append(duckdb.connect())
        con = _CON[0]
        for name, table in tables.items():
            con.register(name, table)
        try:
            for q in queries:
                result = con.sql(q.sql).to_arrow_table()
                out.append(result if result.schema == q.schema else result.cast(q.schema))
        finally:
            for name in tables:
                con.unregister(name)
    return out


def query_arrow(
    key: Hashable, build: Callable[..., dict[str, Any]], **tables: pa.Table
) -> dict[str, pa.Table]:
    """Run the queries that ``build`` writes over Arrow ``tables``, compiled once per shape.

    ``build`` is called with one Ibis table per keyword of ``tables`` (same name, same schema; Arrow
    dictionaries are text) and returns its queries by name; ``key`` names everything else the queries
    depend on (steps, windows, grouping columns). The schemas are part of the cache key.
    """
    import ibis

    schemas = {name: ibis.Schema.from_pyarrow(t.schema) for name, t in tables.items()}
    shape = (key, tuple((name, tuple(s.items())) for name, s in schemas.items()))
    queries = compiled(shape, lambda: build(**{n: ibis.table(s, name=n) for n, s in schemas.items()}))
    return dict(zip(queries, run_compiled(tables, *queries.values()), strict=True))


_COARSE = ("minute", "hour", "day")


def refuse_aggregated(events: pd.DataFrame) -> None:
    """Raise :class:`AggregatedDataError` when rows are counts over a period rather than single events.

    Sessions, request lifecycles and times between events cannot be rebuilt from report rows such as
    "57 dc_conversation_engaged on 2026-11-02": those rows have an ``event_count`` above 1 or a
    ``time_granularity`` of a minute or more.
    """
    coarse = events["time_granularity"].isin(_COARSE).to_numpy()
    counted = events["event_count"].fillna(1).to_numpy() != 1
    bad = coarse | counted
    if not bad.any():
        return
    formats = sorted({str(f) for f in events.loc[bad, "source_format"].dropna().unique()})
    source = f" from {', '.join(formats)}" if formats else ""
    periods = sorted({str(g) for g in events.loc[coarse, "time_granularity"].unique()})
    what = f"counts per {' / '.join(periods)}" if periods else "rows with event_count above 1"
    raise AggregatedDataError(
        f"{int(bad.sum()):,} of {len(events):,} rows are aggregated {what}{source}. This analysis "
        "follows sessions and needs one row per event (a GA4 BigQuery export, an Adobe Data Feed, a "
        "capture file, ...). Count aggregated rows with ca.event_counts(events, freq='day')."
    )


def events_table(table: Any) -> Any:
    """Check an Ibis table against the canonical schema and return it with the canonical columns.

    Any Ibis backend: DuckDB over Parquet files larger than memory, PySpark, BigQuery. Every analysis
    accepts the result (or a pandas frame) and brings back only aggregated results.

    Parameters
    ----------
    table : ibis Table
        Canonical events (as written by ``chatanalytics convert`` or ``DataFrame.to_parquet``):
        ``event_time_utc`` a timestamp, ``event_type`` text holding the 11 constants, the id and name
        columns text; other canonical columns are optional and filled with nulls.

    Returns
    -------
    ibis Table

    Raises
    ------
    InvalidParameterError
        Not an Ibis table, or a required column is missing or has the wrong type.

    Examples
    --------
    >>> import ibis, chatanalytics as ca
    >>> t = ca.events_table(ibis.memtable(ca.load_sample()))
    >>> int(ca.funnel(t, steps=["triggered", "engaged"]).frame()["converted"].iloc[0]) > 0
    True
    """
    import ibis

    from ..schema import COLUMNS

    if not isinstance(table, ibis.expr.types.Table):
        raise InvalidParameterError("table", type(table).__name__, reason="expected an Ibis table")
    required = ["event_time_utc", "event_type", "session_id", "conversation_id"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InvalidParameterError(
            "table", ", ".join(missing), list(COLUMNS), reason="missing canonical column"
        )
    schema = table.schema()
    if not schema["event_time_utc"].is_timestamp():
        raise InvalidParameterError(
            "table",
            f"event_time_utc: {schema['event_time_utc']}",
            reason="event_time_utc must be a timestamp",
        )
    for c in table.columns:
        if (
            c in COLUMNS
            and c not in ("event_time_utc", "event_count", "source_record")
            and not (schema[c].is_string())
        ):
            raise InvalidParameterError("table", f"{c}: {schema[c]}", reason=f"{c} must be text")
    columns = {}
    for c in COLUMNS:
        if c in table.columns:
            columns[c] = table[c]
        else:
            kind = "int64" if c in ("event_count", "source_record") else "string"
            columns[c] = ibis.null(kind)
    return table.select(**columns)


def duration(param: str, value: Any, *, allow_none: bool = False) -> pd.Timedelta | None:
    """A duration given as text (``"30min"``) or a Timedelta; a bare number is refused (no unit)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, int, float)):
        raise InvalidParameterError(
            param, value, reason='give a unit, e.g. "30min" or pd.Timedelta(minutes=30)'
        )
    try:
        out = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(param, value, reason='not a duration, e.g. "30min", "2h", "1D"') from None
    if pd.isna(out) or out <= pd.Timedelta(0):
        raise InvalidParameterError(param, value, reason="must be a positive duration")
    return out


def timestamp(param: str, value: Any) -> pd.Timestamp | None:
    """A date or time (UTC unless it carries an offset) as a UTC Timestamp; ``None`` stays ``None``."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(param, value, reason="not a date or time") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# ------------------------------------------------------------------------------------------------
# intermediate results reused while one unchanging set of events is analysed many times
# ------------------------------------------------------------------------------------------------

#: While :func:`reusing` is on: its memo, ``(id(events), key) -> (events, value)``.
_REUSE: ContextVar[dict[tuple[int, Hashable], tuple[Any, Any]] | None] = ContextVar(
    "chatanalytics_reuse", default=None
)
REUSE_KEEP = 8  #: values kept per memo, the oldest dropped first (a widget's group-by choices)


@contextlib.contextmanager
def reusing(memo: dict[tuple[int, Hashable], tuple[Any, Any]]) -> Iterator[None]:
    """Within the block, what :func:`reused` builds from an events object is built once and kept in
    ``memo``: for a caller that analyses one unchanging set of events many times (a widget). The values
    are shared between the analyses, which only read them.
    """
    token = _REUSE.set(memo)
    try:
        yield
    finally:
        _REUSE.reset(token)


def reused(events: Any, key: Hashable, build: Callable[[], Any]) -> Any:
    """``build()``, or inside :func:`reusing` the value built before for the same events object and
    ``key`` (which names the value and every parameter it depends on).
    """
    memo = _REUSE.get()
    if memo is None:
        return build()
    full = (id(events), key)
    held = memo.get(full)
    if held is not None and held[0] is events:  # the object itself is kept, so its id is not reused
        return held[1]
    value = build()
    while len(memo) >= REUSE_KEEP:
        memo.pop(next(iter(memo)))
    memo[full] = (events, value)
    return value
