"""Write canonical events in the capture format (newline-delimited JSON, one callback per line).

The capture format is the shape a browser listener logs (reference ``dynamic-chat.md`` section 5.2)::

    {"ts": "2026-10-05T13:14:03.120Z", "event": "CONVERSATION_ENGAGED",
     "payload": {"name": "Pricing page dialogue", "id": "4471902", "type": "dialogue", "uiType": "popup",
                 "sid": "9fd34fb24d7398ce", "agentName": ..., "agentID": ..., "meetingInfo": {...}},
     "page_url": "https://www.example.com/pricing", "visitor_id": "v-da3f7e6d24ff356e", "event_id": ...}

(one line per event). :func:`write_capture` is its writer, used to turn simulated events into files for
the loader, the benchmarks and the examples.
"""

from __future__ import annotations

import json
import os
import pathlib
import zlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import ExportError, InvalidParameterError
from ..schema import validate_events
from ._atomic import replacing

__all__ = ["write_capture"]

#: Top-level keys written by :func:`write_capture`; ``extra`` may not reuse them.
RESERVED_KEYS: tuple[str, ...] = ("ts", "event", "payload", "page_url", "visitor_id", "event_id")

# payload key -> canonical column, in the order they are written
_PAYLOAD = (
    ("name", "conversation_name"),
    ("id", "conversation_id"),
    ("type", "conversation_type"),
    ("uiType", "ui_type"),
    ("sid", "session_id"),
    ("agentName", "agent_name"),
    ("agentID", "agent_id"),
)
_TOP = (("page_url", "page_url"), ("visitor_id", "visitor_id"), ("event_id", "event_id"))
_BATCH_ROWS = 250_000


def write_capture(
    events: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    extra: Mapping[str, Any] | None = None,
    offsets: pd.Series | None = None,
    compresslevel: int = 6,
) -> pathlib.Path:
    r"""Write canonical events as a capture file: newline-delimited JSON, gzip when ``path`` ends in ``.gz``.

    One object per event, in the frame's row order::

        {"ts": ..., "event": ..., "payload": {"name", "id", "type", "uiType", "sid", "agentName",
         "agentID", "meetingInfo"}, "page_url": ..., "visitor_id": ..., "event_id": ..., **extra}

    Null values are omitted (the payload is ``{}`` when all of its keys are null). ``ts`` is ISO-8601 with
    milliseconds (microseconds when some event time has a sub-millisecond part, so the instant is always
    kept exactly) and a UTC offset: ``Z`` by default, or the row's offset from ``offsets``
    (``2026-10-05T09:14:03.120-04:00``: the local wall time at that offset, the same instant).
    ``meetingInfo`` is written as the JSON value its raw text encodes (compacted), or as a JSON string
    when the text is not valid JSON. ``analytics_session_id``, ``time_granularity`` and the provenance
    columns have no place in the format and are not written.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events (checked with :func:`chatanalytics.schema.validate_events`); every
        ``event_count`` must be 1, since the format holds one event per line.
    path : str or path-like
        Output file; ``.gz`` (any case) means gzip. An existing file is replaced.
    extra : mapping, optional
        Constant top-level keys added to every line (JSON-serialisable values), e.g.
        ``{"source": "gtm"}``. A key may not be one of ``ts``, ``event``, ``payload``, ``page_url``,
        ``visitor_id``, ``event_id``.
    offsets : pandas.Series, optional
        Per row (by position), the UTC offset to write, in whole minutes east of UTC (``-240`` for EDT;
        a timedelta series is read the same way); a missing value writes ``Z``. Must have one value
        per event.
    compresslevel : int
        zlib level (1-9) of the gzip stream.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    SchemaError
        When ``events`` is not a canonical frame.
    InvalidParameterError
        For aggregated rows, a bad ``extra``, ``offsets`` or ``compresslevel``.
    ExportError
        When the file cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from chatanalytics.schema import make_events
    >>> ev = make_events([{"event_time_utc": "2026-10-05 13:14:03.120", "event_type": "engaged",
    ...                    "session_id": "s1", "conversation_id": 4471902}])
    >>> out = write_capture(ev, pathlib.Path(tempfile.mkdtemp()) / "capture.jsonl")
    >>> out.read_text()
    '{"ts":"2026-10-05T13:14:03.120Z","event":"CONVERSATION_ENGAGED","payload":{"id":"4471902","sid":"s1"}}\n'
    """
    validate_events(events)
    path = pathlib.Path(path)
    if (
        isinstance(compresslevel, bool)
        or not isinstance(compresslevel, (int, np.integer))
        or not (1 <= compresslevel <= 9)
    ):
        raise InvalidParameterError("compresslevel", compresslevel, list(range(1, 10)))
    counts = events["event_count"]
    if bool((counts != 1).any()):
        bad = counts[counts != 1].iloc[0]
        raise InvalidParameterError(
            "events",
            f"event_count={bad}",
            reason="the capture format holds one event per line; aggregated rows (event_count != 1) "
            "cannot be written",
        )
    extra_json = _extra_fragment(extra)
    off = _check_offsets(offsets, len(events))
    table = _arrow_input(events, off)
    sql = _line_sql(table)

    gz = path.suffix.lower() == ".gz"
    con = duckdb.connect()
    try:
        con.register("ev", table)
        reader = con.sql(sql, params={"extra": extra_json}).to_arrow_reader(_BATCH_ROWS)
        chunks = (_line_bytes(batch) for batch in reader)
        try:
            with replacing(path) as temp, temp.open("wb") as fh:  # a reader never sees half a file
                if gz:
                    _write_gzip(fh, chunks, compresslevel)
                else:
                    for chunk in chunks:
                        fh.write(chunk)
        except OSError as exc:
            raise ExportError(f"could not write the capture file {str(path)!r}: {exc}") from exc
    finally:
        con.close()
    return path


def _extra_fragment(extra: Mapping[str, Any] | None) -> str:
    """``,"key":value`` for each extra key, as one JSON text fragment."""
    if extra is None:
        return ""
    if not isinstance(extra, Mapping):
        raise InvalidParameterError("extra", extra, reason="expected a mapping of key -> JSON value")
    parts = []
    for key, value in extra.items():
        if not isinstance(key, str):
            raise InvalidParameterError("extra", key, reason="keys must be strings")
        if key in RESERVED_KEYS:
            raise InvalidParameterError(
                "extra", key, reason=f"reuses a key of the format ({', '.join(RESERVED_KEYS)})"
            )
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                "extra", value, reason=f"value of {key!r} is not JSON: {exc}"
            ) from exc
        parts.append("," + json.dumps(key, ensure_ascii=False) + ":" + text)
    return "".join(parts)


def _check_offsets(offsets: Any, n: int) -> pa.Array | None:
    """Offsets in minutes as an int32 Arrow array (null = write ``Z``), or None."""
    if offsets is None:
        return None
    try:
        series = offsets if isinstance(offsets, pd.Series) else pd.Series(pd.array(offsets))
        if pd.api.types.is_timedelta64_dtype(series.dtype):  # pd.Timedelta offsets are accepted too
            series = series.dt.total_seconds() / 60
        values = series.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError("offsets", offsets, reason="expected numbers of minutes") from exc
    if len(values) != n:
        raise InvalidParameterError(
            "offsets", f"{len(values)} values", reason=f"expected one per event ({n})"
        )
    missing = np.isnan(values)
    present = values[~missing]
    if present.size and (
        not np.all(np.isfinite(present))
        or np.any(present != np.round(present))
        or np.any(np.abs(present) >= 1440)
    ):
        bad = present[~np.isfinite(present) | (present != np.round(present)) | (np.abs(present) >= 1440)][0]
        raise InvalidParameterError(
            "offsets", bad, reason="offsets are whole minutes east of UTC, strictly between -1440 and 1440"
        )
    return pa.array(np.where(missing, 0, values).astype(np.int32), mask=missing)


def _arrow_input(events: pd.DataFrame, offsets: pa.Array | None) -> pa.Table:
    """The columns the query needs, as Arrow (times as naive UTC microseconds)."""
    cols: dict[str, pa.Array] = {
        # tz-aware UTC -> naive timestamps holding the same UTC values
        "ts": pa.array(events["event_time_utc"]).cast(pa.timestamp("us")),
        "off": offsets if offsets is not None else pa.nulls(len(events), pa.int32()),
        "ev": pa.array(events["event_type"]).cast(pa.string()),
    }
    for _, col in (*_PAYLOAD, ("meetingInfo", "meeting_info"), *_TOP):
        cols[col] = pa.array(events[col], type=pa.large_string())
    return pa.table(cols)


def _line_sql(table: pa.Table) -> str:
    """One JSON line per row; null keys omitted via CASE, strings escaped by ``to_json``."""
    us = table.column("ts").cast(pa.int64()).to_numpy(zero_copy_only=False)
    sub_ms = bool(np.any(us % 1000 != 0)) if len(us) else False
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if sub_ms else "%Y-%m-%dT%H:%M:%S.%g"

    def frag(key: str, col: str) -> str:
        return f"""CASE WHEN "{col}" IS NULL THEN '' ELSE ',"{key}":' || to_json("{col}") END"""

    payload = [frag(k, c) for k, c in _PAYLOAD]
    payload.append(
        """CASE WHEN meeting_info IS NULL THEN ''
                WHEN json_valid(meeting_info) THEN ',"meetingInfo":' || CAST(json(meeting_info) AS VARCHAR)
                ELSE ',"meetingInfo":' || to_json(meeting_info) END"""
    )
    top = [frag(k, c) for k, c in _TOP]
    offset_text = """CASE WHEN off IS NULL THEN 'Z'
        ELSE (CASE WHEN off < 0 THEN '-' ELSE '+' END)
             || lpad(CAST(abs(off) // 60 AS VARCHAR), 2, '0') || ':'
             || lpad(CAST(abs(off) % 60 AS VARCHAR), 2, '0') END"""
    # ltrim drops the comma of the first payload fragment present (every fragment starts with ',"').
    return f"""
SELECT concat(
  '{{"ts":"', strftime(ts + to_minutes(coalesce(off, 0)), '{fmt}'), {offset_text},
  '","event":', to_json(ev),
  ',"payload":{{', ltrim(concat({", ".join(payload)}), ','), '}}',
  {", ".join(top)},
  $extra, '}}', chr(10)) AS line
FROM ev
"""


def _line_bytes(batch: pa.RecordBatch) -> pa.Buffer:
    """The UTF-8 bytes of a batch of lines (each ends in a newline), without copying."""
    col = batch.column(0)
    if col.null_count:  # pragma: no cover - concat() never returns null
        raise ExportError("internal error: a capture line came out null")
    n = len(col)
    if n == 0:
        return pa.py_buffer(b"")
    width = 8 if pa.types.is_large_string(col.type) else 4
    offsets_buf, data_buf = col.buffers()[1], col.buffers()[2]
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if width == 8 else np.int32)
    lo, hi = int(offsets[col.offset]), int(offsets[col.offset + n])
    return data_buf.slice(lo, hi - lo)


def _write_gzip(fh: Any, chunks: Iterator[pa.Buffer], level: int) -> None:
    """One gzip member, deflated in parallel blocks (the pigz layout), CRC and size computed in order.

    Each block is compressed independently and ends with a sync flush, so the concatenated raw
    deflate data is one valid stream; an empty final block closes it.
    """
    fh.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")  # magic, deflate, no flags, mtime 0, OS unknown
    crc = 0
    size = 0

    def deflate(data: pa.Buffer) -> bytes:
        c = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        return c.compress(memoryview(data)) + c.flush(zlib.Z_SYNC_FLUSH)

    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: list[Any] = []
        for chunk in chunks:
            if chunk.size == 0:
                continue
            crc = zlib.crc32(memoryview(chunk), crc)
            size += chunk.size
            pending.append(pool.submit(deflate, chunk))
            while len(pending) > workers:
                fh.write(pending.pop(0).result())
        for fut in pending:
            fh.write(fut.result())
    final = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    fh.write(final.flush(zlib.Z_FINISH))
    fh.write(crc.to_bytes(4, "little"))
    fh.write((size % 2**32).to_bytes(4, "little"))
