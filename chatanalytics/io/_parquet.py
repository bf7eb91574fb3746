"""Canonical events stored as Parquet (``chatanalytics convert``, ``DataFrame.to_parquet``).

The file is read with pyarrow; string columns go to pandas without a copy. The event-type code and the
checks are looked up with Arrow, once per dictionary entry when the column is dictionary-encoded. A row
without a time or an event type is rejected; a row whose event type is not one of the 11 is ignored. The
provenance columns (``source_format``, ``source_file``, ``source_record``) are kept as written, so a
converted file still points at the original export.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import LoaderError
from ..schema import COLUMNS, EVENT_TYPES, TIME_GRANULARITIES
from ._files import require_columns
from ._protocol import ReadContext, ReadResult
from ._sql import REASONS, Status

FORMAT = "parquet"

#: The format's name and description, as ``read_events(format=...)`` takes it.
FORMATS = {FORMAT: "canonical events written by chatanalytics (chatanalytics convert, DataFrame.to_parquet)"}
_REQUIRED = ("event_time_utc", "event_type")
_NOT_STRINGS = ("event_time_utc", "event_type", "event_count", "time_granularity", "source_record")
_STRINGS = [c for c, d in COLUMNS.items() if c not in _NOT_STRINGS]
#: String columns with few distinct values (or few values), read as the dictionaries Parquet stores
#: them in: the distinct values then come with the column, where the contact-detail scrub would hash
#: every row to find them. Ids of sessions, visitors and events are mostly distinct, so read as text.
_FEW_VALUES = (
    "conversation_id",
    "conversation_name",
    "conversation_type",
    "ui_type",
    "agent_id",
    "agent_name",
    "meeting_info",
    "page_url",
)


def _fill_missing(table: pa.Table) -> pa.Table:
    for col in COLUMNS:
        if col not in table.column_names:
            typ = pa.int64() if col in ("event_count", "source_record") else pa.large_string()
            table = table.append_column(col, pa.nulls(table.num_rows, typ))
    return table


_UTC_MICROS = pa.timestamp("us", tz="UTC")
#: Epoch units told apart by size (the median magnitude of the column): below 1e11 seconds (1e11 s is
#: the year 5138), below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds. Times of
#: 1973-2199 fall in exactly one band.
_EPOCH_UNITS = ((1e11, "seconds", 1_000_000), (1e14, "milliseconds", 1_000), (1e17, "microseconds", 1))


def event_times(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray, str | None]:
    """``event_time_utc`` as it was written, as UTC microseconds; the rows whose text is no time; a note.

    A timestamp (of any unit or zone, or none: then UTC) or a date converts as it is. Numbers are epoch
    times whose unit is told by their size (:data:`_EPOCH_UNITS`), said in the note. Text is ISO 8601
    (a time without an offset is UTC); text that is no time leaves its row null and flagged, so that it
    alone is rejected.
    """
    kind = column.type
    none = np.zeros(len(column), dtype=bool)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        magnitude = pc.approximate_median(pc.abs(column.cast(pa.float64(), safe=False))).as_py()
        if magnitude is None:
            return pa.nulls(len(column), _UTC_MICROS), none, None
        unit, scale = next(((u, k) for limit, u, k in _EPOCH_UNITS if magnitude < limit), ("nanoseconds", 0))
        if pa.types.is_integer(kind):
            whole = column.cast(pa.int64())
            micros = pc.multiply(whole, scale) if scale else pc.divide(whole, 1_000)
        else:
            micros = pc.round(pc.multiply(column, float(scale or 0.001))).cast(pa.int64())
        note = f"event_time_utc holds numbers, read as epoch {unit} by their size"
        return micros.cast(_UTC_MICROS), none, note
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            return column.cast(_UTC_MICROS), none, None
        except pa.ArrowInvalid:  # some text is no time: parsed one by one, those rows flagged
            import pandas as pd

            text = column.to_pandas()
            parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
            bad = (parsed.isna() & text.notna()).to_numpy()
            return pa.chunked_array([pa.array(parsed.dt.as_unit("us"), _UTC_MICROS)]), bad, None
    return column.cast(_UTC_MICROS), none, None


def part_from_arrow(table: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """A part table (``event_time_utc``, ``code``, ``gran``, strings, provenance) and each row's status."""
    table = _fill_missing(table)
    times = table.column("event_time_utc")
    if times.type != pa.timestamp("us", tz="UTC"):
        times = times.cast(pa.timestamp("us", tz="UTC"))
    code = _positions(table.column("event_type"), EVENT_TYPES)
    gran = pc.fill_null(_positions(table.column("time_granularity"), TIME_GRANULARITIES), 0)
    status = np.full(table.num_rows, Status.OK, dtype=np.int8)
    status[_is_null(code)] = Status.IGNORED
    status[_is_null(table.column("event_type"))] = Status.MISSING_EVENT_TYPE
    status[_is_null(table.column("event_time_utc"))] = Status.MISSING_TIME
    part = pa.table(
        {
            "event_time_utc": times,
            "code": code,
            "gran": gran,
            "event_count": pc.coalesce(table.column("event_count").cast(pa.int64()), pa.scalar(1)),
            "source_record": table.column("source_record").cast(pa.int64()),
            "source_format": table.column("source_format"),
            **{c: _as_string(table.column(c)) for c in _STRINGS if c != "source_format"},
        }
    )
    return part, status


def _positions(col: pa.ChunkedArray, values: tuple[str, ...]) -> pa.ChunkedArray:
    """Each row's position (int8) in ``values``, null where its text is none of them or null. A
    dictionary-encoded column is looked up once per dictionary entry.
    """
    value_set = pa.array(values, pa.large_string())
    chunks = []
    for chunk in col.chunks:
        if pa.types.is_dictionary(chunk.type):
            found = pc.index_in(chunk.dictionary.cast(pa.large_string()), value_set=value_set)
            chunks.append(found.cast(pa.int8()).take(chunk.indices))
        else:
            chunks.append(pc.index_in(chunk.cast(pa.large_string()), value_set=value_set).cast(pa.int8()))
    return pa.chunked_array(chunks, pa.int8())


def _is_null(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _as_string(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """A string column as is (dictionary-encoded text too: ``read_events`` decodes it and keeps its
    dictionary as the column's distinct values); any other type as text.
    """
    if pa.types.is_dictionary(col.type):
        if col.type.value_type in (pa.string(), pa.large_string()):
            return col
        col = col.cast(col.type.value_type)
    if col.type in (pa.string(), pa.large_string()):
        return col
    return col.cast(pa.large_string())


def sniff(path: Path, head: bytes) -> str | None:
    """``"parquet"`` for a file named ``.parquet`` or starting with Parquet's magic number, unless its
    columns are another export's: an XDM ExperienceEvent dataset (``_id`` and ``timestamp``, no
    ``event_time_utc``), which the ``aep_xdm`` reader takes.
    """
    if not (path.name.lower().endswith(".parquet") or head[:4] == b"PAR1"):
        return None
    try:
        names = set(pq.read_schema(path).names)
    except Exception:  # not readable as Parquet: read() reports it
        return FORMAT
    return None if {"_id", "timestamp"} <= names and "event_time_utc" not in names else FORMAT


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one Parquet file of canonical events.

    See :class:`chatanalytics.io.Format`. ``ctx`` is unused: the file is read with pyarrow and checked on
    a connection of its own; its one table (with ``gran`` and the stored provenance columns) is numbered
    by row.

    Raises
    ------
    LoaderError
        The file is not Parquet, or lacks ``event_time_utc`` or ``event_type``.
    """
    try:
        pf = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise LoaderError(f"cannot read {path} as Parquet: {err}", path=path) from err
    names = pf.schema_arrow.names
    require_columns(path, names, _REQUIRED, "a file of canonical events")
    columns = [c for c in COLUMNS if c in names]
    table = pq.read_table(path, columns=columns, read_dictionary=[c for c in _FEW_VALUES if c in names])
    result = ReadResult(records=table.num_rows)
    if table.num_rows == 0:
        return result
    times, unparsed, note = event_times(table.column("event_time_utc"))
    table = table.set_column(table.column_names.index("event_time_utc"), "event_time_utc", times)
    if note:
        result.notes.append(f"{path}: {note}")
    part, status = part_from_arrow(table)
    status[unparsed] = Status.BAD_TIME
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    bad = status != Status.OK
    if bad.any():
        for i in np.flatnonzero(bad):
            if status[i] == Status.IGNORED:
                result.ignored.append((int(rows[i]), str(table.column("event_type")[int(i)])))
            else:
                raw = json.dumps(table.slice(int(i), 1).to_pylist()[0], default=str)
                result.rejected.append((int(rows[i]), REASONS[int(status[i])], raw.encode("utf-8")))
        part = part.filter(pa.array(~bad))
        rows = rows[~bad]
    result.add_table(part, rows)
    return result
