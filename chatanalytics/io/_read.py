"""``read_events``: every supported export into the canonical event frame, with a load report."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataQualityWarning, EmptyDataError, InvalidParameterError, LoaderError
from ..schema import (
    COLUMNS,
    EVENT_TYPE_DTYPE,
    EVENT_TYPES,
    STRING,
    TIME_GRANULARITY_DTYPE,
    TIME_RANGE,
    conversation_type_token,
    empty_events,
    ui_type_token,
    validate_events,
)
from . import _parquet
from ._arrow import map_distinct
from ._files import PathLike, as_utf8, expand_paths, file_head, original_names
from ._formats import FORMATS
from ._plan import TrackingPlan
from ._privacy import scrub_table, using_pseudonym_key
from ._protocol import ReadContext, ReadResult, by_name, detect
from ._report import (
    DERIVED_COLUMNS,
    FILES_COLUMNS,
    IGNORED_COLUMNS,
    REJECTED_COLUMNS,
    LoadReport,
    attach_report,
    coverage_frame,
    unfilled_note,
)
from ._sql import RELEASE_AFTER_RECORDS, TIME_OUT_OF_RANGE, cursor, release

__all__ = ["FORMATS", "finalize_frame", "read_events"]

#: Canonical string columns other than the provenance ones.
DATA_STRINGS = [c for c, d in COLUMNS.items() if d is STRING and c != "source_file"]
#: The string columns of the de-duplication key; a format that does not fill one gets it as nulls.
_KEY_STRINGS = ("event_id", "session_id", "conversation_id", "agent_id")
_KEY_SQL = """
SELECT CASE WHEN event_id IS NOT NULL THEN hash('event_id', event_id)
            ELSE hash(code, event_time_utc, session_id, conversation_id, agent_id) END AS h
FROM part
"""


@dataclass
class Part:
    """Events read from one file (or one block of it), in a canonical Arrow layout, before de-duplication.

    ``table`` holds ``event_time_utc``, ``code`` (index into EVENT_TYPES), the canonical string columns
    and, for canonical Parquet, ``gran`` and the stored provenance columns. ``derived`` names the field
    the events of a part of derived events were read from (:attr:`ReadResult.derived`). ``distinct``
    holds, by column, the dictionary a string column was decoded from: every value of that column
    (and perhaps more), known without hashing its rows.
    """

    table: pa.Table
    lines: np.ndarray
    file_index: int
    granularity: int = 0  # index into TIME_GRANULARITIES; -1: per row, in column "gran"
    hashes: np.ndarray | None = None
    derived: str | None = None
    distinct: dict[str, pa.Array] = field(default_factory=dict)


@dataclass
class FileTally:
    name: str
    format: str
    records: int = 0
    rejected: int = 0
    ignored: int = 0
    events: int = 0
    duplicates: int = 0
    derived: int = 0


def _each_file(files: list[Path], progress: bool) -> Iterator[tuple[int, Path]]:
    """``enumerate(files)``, advancing a progress bar over their bytes after each one when asked."""
    if not progress:
        yield from enumerate(files)
        return
    from tqdm.auto import tqdm

    sizes = [p.stat().st_size for p in files]
    with tqdm(total=sum(sizes), desc=f"reading {len(files):,} file(s)", unit="B", unit_scale=True) as bar:
        for fi, path in enumerate(files):
            yield fi, path
            bar.update(sizes[fi])


def read_events(
    paths: PathLike | Iterable[PathLike],
    *,
    format: str | None = None,
    warn: bool = True,
    progress: bool = False,
    plan: TrackingPlan | None = None,
    timezone: str | None = None,
    pseudonym_key: str | bytes | None = None,
) -> pd.DataFrame:
    """Read Dynamic Chat events into one canonical, typed DataFrame.

    Parameters
    ----------
    paths : path, glob or list of them
        Files (gzip is detected and decompressed), glob patterns (``"logs/2026-11/*.jsonl.gz"``) and
        directories (every ``.jsonl``, ``.ndjson``, ``.json``, ``.log``, ``.parquet``, ``.csv``,
        ``.tsv``, ``.tar`` and ``.tgz`` file below it, optionally gzipped, and every ``.gz`` file under
        a ``segment-logs`` folder), read in sorted order. A file named twice is read once. In an Adobe
        Data Feed folder (one holding ``column_headers.tsv`` or a ``*lookup_data.tar.gz``) only the
        hit data is read; the lookups beside it name its columns and events.
    format : str, optional
        The export format, one of :data:`FORMATS` (``"capture"``, ``"parquet"``, ``"ga4_bigquery"``,
        ``"adobe_feed"``, ...). ``None`` detects it per file from its content.
    warn : bool, default True
        Raise a :class:`DataQualityWarning` when records were rejected or de-duplicated.
    progress : bool, default False
        Show a progress bar over the bytes of the files (tqdm: a widget in a notebook, text on stderr
        elsewhere), advanced as each file is read.
    plan : TrackingPlan, optional
        The names a site's analytics data uses for the Dynamic Chat events and fields: its ``ga4``
        section for the GA4 formats, ``datalayer``, ``websdk`` for ``aep_xdm``, ``appmeasurement``
        for ``adobe_feed``, ``segment``, ``snowplow`` and ``universal_analytics`` for ``ua_csv``
        (Marketo's activity names are Adobe's own). ``None`` is :meth:`TrackingPlan.default`, the
        names the capture snippet sends. Records whose event name the plan does not map are ignored
        and listed, with their name, in the load report.
    timezone : str, optional
        The IANA time zone of the GA4 property, Universal Analytics view or Adobe report suite, for
        exports whose dates and times are local (GA4 Explore CSV, Universal Analytics CSV; a GA4 Data
        API response names its own zone, which this overrides).
    pseudonym_key : str or bytes, optional
        The key of the pseudonyms that replace ids holding an email address or a phone number
        (HMAC-SHA256). ``None`` takes the ``CHATANALYTICS_PSEUDONYM_KEY`` environment variable, else a
        key generated once and kept in ``$XDG_CONFIG_HOME/chatanalytics/pseudonym.key``. The same key
        gives the same pseudonyms on every run and machine, so datasets can be joined.

    Returns
    -------
    pandas.DataFrame
        Canonical events (see :mod:`chatanalytics.schema`) in the order they were read. Its load
        report (:func:`load_report`) accounts for every record: event, rejected, duplicate or
        ignored. No column holds a visitor's email address or phone number (see
        :mod:`chatanalytics.io._privacy` for the rules).

    Raises
    ------
    LoaderError
        A path does not exist, a glob matches nothing, or a file's format is not recognised.
    EmptyDataError
        The inputs hold no records at all.
    InvalidParameterError
        ``format`` is not a known format, or ``plan`` is not a :class:`TrackingPlan`.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.datasets import SAMPLE_PATH
    >>> events = ca.read_events(SAMPLE_PATH, warn=False)
    >>> str(events["event_type"].dtype.categories[0])
    'CONVERSATION_TRIGGERED'
    """
    if format is not None and format not in FORMATS:
        raise InvalidParameterError("format", format, list(FORMATS))
    if plan is None:
        plan = TrackingPlan.default()
    elif not isinstance(plan, TrackingPlan):
        raise InvalidParameterError("plan", plan, reason="a TrackingPlan is expected")
    if timezone is not None:
        _check_timezone(timezone)
    readers = by_name()
    files, notes = expand_paths(paths)
    tallies: list[FileTally] = []
    parts: list[Part] = []
    rejected: list[tuple[int, int, str, bytes]] = []
    ignored: list[tuple[int, np.ndarray, pa.Array]] = []  # (file index, record numbers, names)
    con = cursor()
    ctx = ReadContext(con, plan, timezone, notes)
    plan_keys: dict[str, set[str]] = {}
    unmatched: list[str] = []
    now = pd.Timestamp.now(tz="UTC")
    try:
        for fi, path in _each_file(files, progress):
            noted = len(notes)  # the context's notes, which may name the copy
            with as_utf8(path) as (readable, decoded):
                fmt = format or _detect(readable)
                tally = FileTally(name=str(path), format=fmt)
                tallies.append(tally)
                try:
                    res = readers[fmt].read(ctx, readable, fmt)
                except (OSError, pa.ArrowException, duckdb.Error) as err:  # a damage a reader let through
                    raise LoaderError(f"cannot read {path} as {fmt}: {err}", path=path) from err
            _check_times(res, path, now)
            tally.records += res.records
            _account(fi, tally, res, rejected, ignored)
            notes[noted:] = [
                original_names(n, readable, path) for n in [*decoded, *notes[noted:], *res.notes]
            ]
            unmatched.extend(res.unmatched)
            for f, key in res.plan_keys.items():
                plan_keys.setdefault(f, set()).add(key)
            while res.tables:  # handed over without a name left holding one, so _drop can free it
                parts.append(_part(*res.tables.pop(0), fi))
            while res.derived:
                table, lines, source = res.derived.pop(0)
                parts.append(_part(table, lines, fi, derived=source))
                del table
            del res
    except BaseException:
        release()  # it may have come far into a large file: the memory it freed goes back
        raise
    finally:
        con.close()
    records = sum(t.records for t in tallies)
    if records == 0:
        raise EmptyDataError(f"no records in {', '.join(t.name for t in tallies)}")
    notes.extend(ctx.closing_notes())
    with _giving_back(records), using_pseudonym_key(pseudonym_key):
        return _finalize(
            parts, tallies, rejected, ignored, notes, warn=warn, plan_keys=plan_keys, unmatched=unmatched
        )


@contextlib.contextmanager
def _giving_back(records: int) -> Iterator[None]:
    """Within the block, the work on ``records`` records; after it, when they are many, the memory that
    work freed goes back to the system (:func:`~chatanalytics.io._sql.release`).
    """
    try:
        yield
    finally:
        if records >= RELEASE_AFTER_RECORDS:
            release()


def _part(table: pa.Table, lines: np.ndarray, file_index: int, *, derived: str | None = None) -> Part:
    """A format's table as a part, with every de-duplication key column (null where the format, or its
    tracking plan, fills none).
    """
    for column in _KEY_STRINGS:
        if column not in table.column_names:
            table = table.append_column(column, pa.nulls(table.num_rows, pa.large_string()))
    gran = -1 if "gran" in table.column_names else 0
    table, distinct = _decode_dictionaries(table)
    return Part(table, lines, file_index, granularity=gran, derived=derived, distinct=distinct)


def _decode_dictionaries(table: pa.Table) -> tuple[pa.Table, dict[str, pa.Array]]:
    """The table with its dictionary-encoded canonical string columns as large strings, and the
    distinct values of each (its dictionaries' entries).
    """
    distinct: dict[str, pa.Array] = {}
    for name in DATA_STRINGS:
        if name not in table.column_names or not pa.types.is_dictionary(table.column(name).type):
            continue
        col = table.column(name)
        entries = [chunk.dictionary.cast(pa.large_string()) for chunk in col.chunks]
        distinct[name] = pc.unique(pa.chunked_array(entries, pa.large_string()))
        table = table.set_column(table.column_names.index(name), name, col.cast(pa.large_string()))
    return table, distinct


#: :data:`~chatanalytics.schema.TIME_RANGE` in microseconds since the epoch.
_RANGE_US = tuple(t.value // 1000 for t in TIME_RANGE)


def _micros(times: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Event times as int64 microseconds since the epoch (NULL as the smallest int64)."""
    if not pa.types.is_timestamp(times.type):
        times = times.cast(pa.timestamp("us", tz="UTC"))
    elif times.type.unit != "us":
        times = times.cast(pa.timestamp("us", tz=times.type.tz))
    return np.asarray(times.cast(pa.int64()).fill_null(np.iinfo(np.int64).min).to_numpy(zero_copy_only=False))


def _check_times(res: ReadResult, path: Path, now: pd.Timestamp) -> None:
    """Reject the events of a format's result whose time lies outside TIME_RANGE (``time out of
    range``), and note the events dated more than a day after ``now`` (they are kept).

    Formats whose queries use :func:`~chatanalytics.io._sql.time_checks` have rejected such records
    already, with their raw bytes; for the others the rejected record's text is the event as read.
    A derived event outside TIME_RANGE is dropped: its record is rejected through its own event.
    """
    lo, hi = _RANGE_US
    soon = (now + pd.Timedelta(days=1)).value // 1000
    future, latest = 0, np.iinfo(np.int64).min
    for k, (table, lines) in enumerate(res.tables):
        us = _micros(table.column("event_time_utc"))
        bad = (us < lo) | (us > hi)
        if bad.any():
            for i in np.flatnonzero(bad):
                res.rejected.append((int(lines[i]), TIME_OUT_OF_RANGE, _event_text(table, int(i), us[i])))
            keep = ~bad
            table, lines, us = table.filter(pa.array(keep)), lines[keep], us[keep]
            res.tables[k] = (table, lines)
        later = us > soon
        if later.any():
            future += int(later.sum())
            latest = max(latest, int(us.max()))
    res.tables = [(t, lines) for t, lines in res.tables if t.num_rows]
    for k, (table, lines, source) in enumerate(res.derived):
        us = _micros(table.column("event_time_utc"))
        keep = (us >= lo) & (us <= hi)
        if not keep.all():
            res.derived[k] = (table.filter(pa.array(keep)), lines[keep], source)
    res.derived = [d for d in res.derived if d[0].num_rows]
    res.rejected.sort()
    if future:
        res.notes.append(
            f"{path}: {future:,} event(s) are dated more than a day after the time of reading (the latest "
            f"{np.datetime64(latest, 'us')}Z); they were kept"
        )


def _event_text(table: pa.Table, row: int, micros: int) -> bytes:
    """One event of a format's table as compact JSON: its time, type and non-empty string fields."""
    fields: dict[str, Any] = {"event_time_utc": f"{np.datetime64(int(micros), 'us')}Z"}
    code = table.column("code")[row].as_py() if "code" in table.column_names else None
    if code is not None:
        fields["event_type"] = EVENT_TYPES[int(code)]
    for name in DATA_STRINGS:
        if name in table.column_names:
            value = table.column(name)[row].as_py()
            if value:
                fields[name] = value
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def _account(
    fi: int,
    tally: FileTally,
    res: ReadResult,
    rejected: list[tuple[int, int, str, bytes]],
    ignored: list[tuple[int, np.ndarray, pa.Array]],
) -> None:
    tally.rejected += len(res.rejected)
    rejected.extend((fi, line, reason, raw) for line, reason, raw in res.rejected)
    lines, names = res.ignored.arrays()
    tally.ignored += len(lines)
    if len(lines):
        ignored.append((fi, lines, names))


def _detect(path: Path) -> str:
    found = detect(path, file_head(path))
    if found is not None:
        return found
    known = "; ".join(f"{k}: {v}" for k, v in FORMATS.items())
    raise LoaderError(
        f"cannot tell the format of {path} (it matches none of the known formats' signatures); "
        f"known formats: "
        f"{known}. Pass format= to force one.",
        path=path,
    )


def _check_timezone(timezone: object) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameterError(
            "timezone", timezone, reason="an IANA time zone such as 'America/New_York' is expected"
        ) from None


def _finalize(
    parts: list[Part],
    tallies: list[FileTally],
    rejected: list[tuple[int, int, str, bytes]],
    ignored: list[tuple[int, np.ndarray, pa.Array]],
    notes: list[str],
    *,
    warn: bool,
    plan_keys: dict[str, set[str]] | None = None,
    unmatched: Sequence[str] = (),
) -> pd.DataFrame:
    """De-duplicate, scrub contact details, convert to pandas and attach the load report."""
    names = [t.name for t in tallies]
    rejected.sort(key=lambda r: (r[0], r[1]))
    _hash_keys(parts)
    dropped_parts = _dedupe(parts)
    for part, dropped in zip(parts, dropped_parts, strict=True):
        tally = tallies[part.file_index]
        if part.derived is None:
            tally.events += part.table.num_rows - len(dropped.lines)
            tally.duplicates += len(dropped.lines)
        else:  # a derived copy dropped as a duplicate is no record: it is left out of both counts
            tally.derived += part.table.num_rows - len(dropped.lines)
    duplicates = _duplicates_frame(
        [(p, d) for p, d in zip(parts, dropped_parts, strict=True) if len(d.rows) and p.derived is None],
        names,
        tallies,
    )
    for i, dropped in enumerate(dropped_parts):
        parts[i] = _drop(parts[i], dropped)  # in place, so the unfiltered columns can be freed
    derived = _derived_frame(parts, names)
    events, changed = _to_pandas(parts, names, tallies)
    for column, n in changed.items():
        notes.append(f"{column}: contact details redacted in {n:,} row(s)")
    coverage = coverage_frame(events, plan_keys or {})
    notes.extend(unfilled_note(coverage, unmatched))
    report = LoadReport(
        files=_files_frame(tallies),
        rejected=_rejected_frame(rejected, names),
        duplicates=duplicates,
        ignored=_ignored_frame(ignored, names),
        notes=tuple(notes),
        _raw_rejected=tuple(r[3] for r in rejected),
        coverage=coverage,
        derived=derived,
    )
    attach_report(events, report)
    if warn:
        for message in unmatched:
            warnings.warn(message, DataQualityWarning, stacklevel=3)
        c = report.counts()
        if c["rejected"] or c["duplicates"]:
            warnings.warn(
                f"read {c['records']:,} records: rejected {c['rejected']:,}, dropped {c['duplicates']:,} "
                "duplicate events (see ca.load_report(events))",
                DataQualityWarning,
                stacklevel=3,
            )
    return events


def _hash_keys(parts: Sequence[Part]) -> None:
    """A 64-bit hash of each event's de-duplication key, computed by DuckDB on all cores."""
    con = cursor()
    try:
        for part in parts:
            con.register("part", part.table)
            part.hashes = con.sql(_KEY_SQL).to_arrow_table().column("h").to_numpy()
            con.unregister("part")
    finally:
        con.close()


@dataclass
class _Dropped:
    """Rows of a part dropped as duplicates, and the (file index, line) of the event each repeats."""

    rows: np.ndarray
    lines: np.ndarray
    of_file: np.ndarray
    of_line: np.ndarray
    by_id: np.ndarray


def _dedupe(parts: Sequence[Part]) -> list[_Dropped]:
    """Keep the first event read of each key: ``event_id``, or else type, time, session, conversation, agent.

    Candidates are rows whose 64-bit key hash repeats; they are compared on the full key, so a hash
    collision never drops an event.
    """
    none = np.empty(0, dtype=np.int64)
    result = [_Dropped(none, none, none, none, np.empty(0, dtype=bool)) for _ in parts]
    if not parts:
        return result
    sizes = [p.table.num_rows for p in parts]
    bounds = np.cumsum([0, *sizes])
    hashes = np.concatenate([p.hashes for p in parts if p.hashes is not None])
    candidates = _repeated(hashes)
    if len(candidates) == 0:
        return result
    cols = ["event_id", "code", "event_time_utc", "session_id", "conversation_id", "agent_id"]
    pieces = []
    for k, part in enumerate(parts):
        local = candidates[(candidates >= bounds[k]) & (candidates < bounds[k + 1])] - bounds[k]
        if len(local):
            sub = _rows(part.table.select(cols), local).to_pandas()
            sub["row"] = local + bounds[k]
            pieces.append(sub)
    keys = pd.concat(pieces, ignore_index=True)
    by_id = keys["event_id"].notna().to_numpy()
    # an event_id key compares on the id alone; a natural key on the other columns
    keys.loc[by_id, ["code", "event_time_utc", "session_id", "conversation_id", "agent_id"]] = None
    keys["by_id"] = by_id
    first = keys.groupby(["by_id", *cols], dropna=False, sort=False)["row"].transform("min").to_numpy()
    rows = keys["row"].to_numpy()
    dup = first != rows
    rows, first, by_id = rows[dup], first[dup], by_id[dup]
    part_of_first = np.searchsorted(bounds, first, side="right") - 1
    first_file = np.array([parts[k].file_index for k in part_of_first], dtype=np.int64)
    first_line = np.array(
        [parts[k].lines[r - bounds[k]] for k, r in zip(part_of_first, first, strict=True)], dtype=np.int64
    )
    for k, part in enumerate(parts):
        sel = (rows >= bounds[k]) & (rows < bounds[k + 1])
        if sel.any():
            local = rows[sel] - bounds[k]
            result[k] = _Dropped(local, part.lines[local], first_file[sel], first_line[sel], by_id[sel])
    return result


def _repeated(hashes: np.ndarray) -> np.ndarray:
    """Positions, ascending, of the hashes that occur more than once.

    A sort finds the repeated values and a hash lookup their positions: at 10M events this took a
    sixth of the time of the DuckDB aggregate and semi-join it replaced, whose result had to be sorted.
    """
    ordered = np.sort(hashes)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.empty(0, dtype=np.int64)
    repeated = pa.array(np.unique(ordered[1:][same]))
    hit = pc.is_in(pa.array(hashes), value_set=repeated)
    return np.flatnonzero(hit.to_numpy(zero_copy_only=False)).astype(np.int64)


def _rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """The given rows (ascending) of a table. A mask filter works chunk by chunk, whereas ``take`` on a
    chunked table first concatenates every chunk.
    """
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    return table.filter(pa.array(mask))


def _drop(part: Part, dropped: _Dropped) -> Part:
    """The part without its duplicate rows, filtered one column at a time so that at most one
    unfiltered column is held beside the filtered ones.
    """
    if len(dropped.rows) == 0:
        return part
    keep = np.ones(part.table.num_rows, dtype=bool)
    keep[dropped.rows] = False
    mask = pa.array(keep)
    names = part.table.column_names
    columns = part.table.columns
    part.table = pa.table({})

    def one(i: int) -> None:
        columns[i] = columns[i].filter(mask)

    with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow releases the GIL while it copies
        list(pool.map(one, range(len(columns))))
    table = pa.table(dict(zip(names, columns, strict=True)))
    lines = part.lines[keep]
    return Part(table, lines, part.file_index, part.granularity, derived=part.derived, distinct=part.distinct)


def _to_pandas(
    parts: Sequence[Part], names: list[str], tallies: list[FileTally], *, scrub: bool = True
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The canonical pandas frame of some parts (and rows changed by the contact-detail scrub)."""
    parts = [p for p in parts if p.table.num_rows]
    if not parts:
        return empty_events(), {}
    strings = DATA_STRINGS
    table = pa.concat_tables([_strings_table(p.table, strings) for p in parts])
    changed: dict[str, int] = {}
    distinct = {
        c: pa.chunked_array([p.distinct[c] for p in parts], pa.large_string())
        for c in strings
        if all(c in p.distinct for p in parts)
    }
    for col, func in (("conversation_type", conversation_type_token), ("ui_type", ui_type_token)):
        new, _ = map_distinct(table.column(col), func, values=distinct.pop(col, None))
        table = table.set_column(table.column_names.index(col), col, new)
    if scrub:
        table, changed = scrub_table(table, distinct=distinct)
    mapper = {pa.large_string(): STRING, pa.string(): STRING}.get
    frame = table.to_pandas(types_mapper=mapper)
    codes = np.concatenate([p.table.column("code").to_numpy(zero_copy_only=False) for p in parts])
    frame["event_type"] = pd.Categorical.from_codes(codes.astype(np.int8), dtype=EVENT_TYPE_DTYPE)
    counts = np.concatenate(
        [
            p.table.column("event_count").to_numpy(zero_copy_only=False).astype(np.int64)
            if "event_count" in p.table.column_names
            else np.ones(p.table.num_rows, dtype=np.int64)
            for p in parts
        ]
    )
    frame["event_count"] = pd.array(counts, dtype="Int64")
    gran = np.concatenate(
        [
            p.table.column("gran").to_numpy(zero_copy_only=False).astype(np.int8)
            if p.granularity < 0
            else np.full(p.table.num_rows, p.granularity, dtype=np.int8)
            for p in parts
        ]
    )
    frame["time_granularity"] = pd.Categorical.from_codes(gran, dtype=TIME_GRANULARITY_DTYPE)
    _provenance(frame, parts, names, tallies)
    return frame[list(COLUMNS)], changed


def _strings_table(table: pa.Table, strings: list[str]) -> pa.Table:
    """``event_time_utc`` and the canonical string columns as large strings (null when absent)."""
    n = table.num_rows
    cols: dict[str, Any] = {"event_time_utc": table.column("event_time_utc")}
    for c in strings:
        if c in table.column_names:
            col = table.column(c)
            cols[c] = col if col.type == pa.large_string() else col.cast(pa.large_string())
        else:
            cols[c] = pa.nulls(n, pa.large_string())
    return pa.table(cols)


def _provenance(
    frame: pd.DataFrame, parts: Sequence[Part], names: list[str], tallies: list[FileTally]
) -> None:
    """``source_format``, ``source_file``, ``source_record``: as stored in canonical Parquet, else where
    the record was read.
    """
    if all(_complete_provenance(p) for p in parts):  # canonical Parquet written with full provenance
        fmt = pa.chunked_array([c for p in parts for c in p.table.column("source_format").chunks])
        if not pa.types.is_dictionary(fmt.type):
            fmt = fmt.dictionary_encode()
        fmt = fmt.unify_dictionaries() if isinstance(fmt, pa.ChunkedArray) else fmt
        categories = fmt.chunk(0).dictionary.to_pylist() if fmt.num_chunks else []
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in fmt.chunks]).astype(
            np.int32
        )
        frame["source_format"] = pd.Categorical.from_codes(
            codes, categories=pd.Index(categories, dtype=STRING)
        )
        frame["source_file"] = pd.Series(
            pa.chunked_array([c for p in parts for c in p.table.column("source_file").chunks]),
            dtype=STRING,
            index=frame.index,
        )
        stored = pa.chunked_array([c for p in parts for c in p.table.column("source_record").chunks])
        frame["source_record"] = pd.array(stored.to_numpy(), dtype="Int64")
        return
    file_idx = np.concatenate([np.full(p.table.num_rows, p.file_index, dtype=np.int32) for p in parts])
    files: Any = pa.chunked_array([_repeat(names[p.file_index], p.table.num_rows) for p in parts])
    records: Any = pa.array(np.concatenate([p.lines for p in parts]))
    if any("source_file" in p.table.column_names for p in parts):
        formats: Any = pa.array([t.format for t in tallies], pa.large_string()).take(pa.array(file_idx))
        stored = [_stored(p) for p in parts]
        formats = pc.coalesce(pa.chunked_array([s[0] for s in stored]).combine_chunks(), formats)
        files = pc.coalesce(pa.chunked_array([s[1] for s in stored]).combine_chunks(), files.combine_chunks())
        records = pc.coalesce(pa.chunked_array([s[2] for s in stored]).combine_chunks(), records)
        encoded = formats.dictionary_encode()
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
        categories = encoded.dictionary.to_pylist()
    else:
        categories = list(dict.fromkeys(t.format for t in tallies))
        codes = np.array([categories.index(t.format) for t in tallies], dtype=np.int32)[file_idx]
    frame["source_format"] = pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=STRING))
    frame["source_file"] = pd.Series(files, dtype=STRING, index=frame.index)
    frame["source_record"] = pd.array(records.to_numpy(zero_copy_only=False), dtype="Int64")


def _repeat(text: str, n: int) -> pa.LargeStringArray:
    """``text`` n times, built from its bytes repeated (no per-row work)."""
    raw = text.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64) * len(raw)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw * n))


def _complete_provenance(part: Part) -> bool:
    t = part.table
    return all(
        c in t.column_names and t.column(c).null_count == 0
        for c in ("source_format", "source_file", "source_record")
    )


def _stored(part: Part) -> tuple[pa.Array, pa.Array, pa.Array]:
    n = part.table.num_rows
    if "source_file" not in part.table.column_names:
        return pa.nulls(n, pa.large_string()), pa.nulls(n, pa.large_string()), pa.nulls(n, pa.int64())
    t = part.table
    return (
        t.column("source_format").combine_chunks().cast(pa.large_string()),
        t.column("source_file").combine_chunks().cast(pa.large_string()),
        t.column("source_record").combine_chunks().cast(pa.int64()),
    )


def _duplicates_frame(
    dropped: Sequence[tuple[Part, _Dropped]], names: list[str], tallies: list[FileTally]
) -> pd.DataFrame:
    """The dropped duplicates in the canonical schema, with the record each one repeats."""
    sub = [Part(_rows(p.table, d.rows), d.lines, p.file_index, p.granularity) for p, d in dropped]
    frame, _ = _to_pandas(sub, names, tallies)
    of_file = np.concatenate([d.of_file for _, d in dropped]) if dropped else np.empty(0, dtype=np.int64)
    of_line = np.concatenate([d.of_line for _, d in dropped]) if dropped else np.empty(0, dtype=np.int64)
    by_id = np.concatenate([d.by_id for _, d in dropped]) if dropped else np.empty(0, dtype=bool)
    frame["duplicate_of_file"] = pd.Series(np.asarray(names, dtype=object)[of_file], dtype=STRING).array
    frame["duplicate_of_record"] = pd.array(of_line, dtype="Int64")
    reason = np.where(by_id, "same event_id", "same type, time, session, conversation and agent")
    frame["reason"] = pd.Series(reason, dtype=STRING).array
    return frame


def finalize_frame(events: pd.DataFrame, *, source_name: str, warn: bool = True) -> pd.DataFrame:
    """De-duplicate and scrub an in-memory canonical frame (simulated events), with a load report.

    The frame stands for one file named ``source_name`` whose records are its rows, in order.
    """
    validate_events(events)
    fmt = str(events["source_format"].iloc[0]) if len(events) else "manual"
    tally = FileTally(name=source_name, format=fmt, records=len(events))
    if len(events) == 0:
        raise EmptyDataError("no events to finalize")
    part_table, _ = _parquet.part_from_arrow(pa.Table.from_pandas(events, preserve_index=False))
    lines = np.arange(1, len(events) + 1, dtype=np.int64)
    part_table, distinct = _decode_dictionaries(
        part_table.drop_columns(["source_format", "source_file", "source_record"])
    )
    part = Part(part_table, lines, 0, -1, distinct=distinct)
    with _giving_back(len(events)):
        return _finalize([part], [tally], [], [], [], warn=warn)


def _files_frame(tallies: list[FileTally]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "source_file": [t.name for t in tallies],
            "source_format": [t.format for t in tallies],
            "records": [t.records for t in tallies],
            "events": [t.events for t in tallies],
            "rejected": [t.rejected for t in tallies],
            "duplicates": [t.duplicates for t in tallies],
            "ignored": [t.ignored for t in tallies],
            "derived": [t.derived for t in tallies],
        }
    )
    return frame.astype(FILES_COLUMNS)


def _derived_frame(parts: Sequence[Part], names: list[str]) -> pd.DataFrame:
    """The derived events kept, counted by file and reason (``<EVENT_TYPE> from <field>``)."""
    counts: dict[tuple[int, int, str], int] = {}
    for part in parts:
        if part.derived is None or not part.table.num_rows:
            continue
        codes = part.table.column("code").to_numpy(zero_copy_only=False).astype(np.int64)
        for code, n in zip(*np.unique(codes, return_counts=True), strict=True):
            key = (part.file_index, int(code), part.derived)
            counts[key] = counts.get(key, 0) + int(n)
    ordered = sorted(counts.items())  # by file, then in the order of EVENT_TYPES
    return pd.DataFrame(
        {
            "source_file": [names[fi] for (fi, _, _), _ in ordered],
            "reason": [f"{EVENT_TYPES[code]} from {source}" for (_, code, source), _ in ordered],
            "events": [n for _, n in ordered],
        }
    ).astype(DERIVED_COLUMNS)


def _rejected_frame(rejected: list[tuple[int, int, str, bytes]], names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": [names[r[0]] for r in rejected],
            "source_record": [r[1] for r in rejected],
            "reason": [r[2] for r in rejected],
            "raw": [r[3].rstrip(b"\r\n").decode("utf-8", "backslashreplace") for r in rejected],
        }
    ).astype(REJECTED_COLUMNS)


def _ignored_frame(ignored: list[tuple[int, np.ndarray, pa.Array]], names: list[str]) -> pd.DataFrame:
    """The ignored records of every file, by file and record number, built from arrays."""
    if not ignored:
        return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in IGNORED_COLUMNS.items()})
    files = np.concatenate([np.full(len(lines), fi, dtype=np.int32) for fi, lines, _ in ignored])
    lines = np.concatenate([lines for _, lines, _ in ignored])
    event_names = pa.concat_arrays([n.cast(pa.large_string()) for _, _, n in ignored])
    order = np.lexsort((lines, files))
    source = pa.DictionaryArray.from_arrays(pa.array(files[order]), pa.array(names, pa.large_string()))
    return pd.DataFrame(
        {
            "source_file": pd.Series(source.cast(pa.large_string()), dtype=STRING),
            "source_record": pd.array(lines[order], dtype="Int64"),
            "event_name": pd.Series(event_names.take(pa.array(order)), dtype=STRING),
        }
    ).astype(IGNORED_COLUMNS)
