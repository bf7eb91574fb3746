"""Aggregated report tables (CSV exports, API pages) read into canonical rows, for GA4 and Universal
Analytics reports alike.

A report's table is described by a :class:`Spec` (which cell plays which role); :func:`read_report_csv`
reads the CSV tables of a file through it, and :class:`Rows` collects the canonical rows, rejected and
ignored records of either source. Counts may be written with locale digit grouping (:func:`parse_count`);
dates are local to the property or view (:func:`zone`, :class:`Period`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa

from ..errors import LoaderError
from ..schema import STRING_COLUMNS, TIME_GRANULARITIES
from ._coverage import check_keys
from ._files import StreamState, iter_blocks
from ._plan import FIELD_COLUMNS, UA_FIELDS, TrackingPlan
from ._protocol import ReadContext, ReadResult
from ._sql import ID_COLUMNS

MINUTE, HOUR, DAY = (TIME_GRANULARITIES.index(g) for g in ("minute", "hour", "day"))
NOT_SET = "(not set)"
TOTALS_ROW = "totals row"
_TOTAL_LABELS = frozenset(
    {"grandtotal", "totals", "total", "totaal", "eindtotaal", "gesamtsumme", "summe", "insgesamt"}
)
_RESERVED = frozenset({"RESERVED_TOTAL", "RESERVED_MAX", "RESERVED_MIN"})
# an integer in groups of three digits, one separator throughout: comma, period, apostrophe or a space
_GROUPED = re.compile(r"\d{1,3}(?:([,.'\u2019 \u00a0\u2009\u202f])\d{3})(?:\1\d{3})*")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # undecodable bytes, or a JSON escape of half a pair
_WHOLE_ID = re.compile(r"(-?\d+)\.0+")
#: The canonical string columns a report fills (null when no dimension maps them).
_STRINGS = [c for c in STRING_COLUMNS if c not in ("event_id", "source_file")]


def norm(name: str) -> str:
    """A header in lower case, only its letters, digits and ``:`` kept: ``Event name`` -> ``eventname``."""
    return "".join(ch for ch in name.lower() if ch.isalnum() or ch == ":")


# ------------------------------------------------------------------------------------------ detection
def head_lines(head: bytes, n: int = 40) -> list[str]:
    """The first lines of a text file's head, decoded leniently, without the byte order mark."""
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    return text.splitlines()[:n]


def header_of(lines: list[str]) -> list[str]:
    """The normalised cells of the first line that is neither blank nor a ``#`` line."""
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            return [norm(c) for c in _cells(line, delimiter_of(line)) or []]
    return []


#: The delimiters of a report CSV: the comma of the export, and what Excel writes when the export is
#: saved again: a tab ("Unicode Text") or a semicolon (CSV where a comma is the decimal mark).
DELIMITERS = (",", "\t", ";")


def delimiter_of(header: str) -> str:
    """The delimiter of a table whose header line is ``header``: the one of :data:`DELIMITERS` that
    splits it into the most cells (the comma on a tie).
    """
    best, most = ",", 0
    for delimiter in DELIMITERS:
        n = len(_cells(header, delimiter) or [])
        if n > most:
            best, most = delimiter, n
    return best


def sniff_report(
    head: bytes, preamble: re.Pattern[str], needed: Collection[str], key: Callable[[str], str]
) -> bool:
    """Whether a file's head is a report export: a line matching the export's ``preamble``, or a header
    whose cells, read with ``key`` (a normalised header cell -> its English name), hold all the ``needed``
    ones.
    """
    lines = head_lines(head)
    if any(preamble.fullmatch(line.strip()) for line in lines):
        return True
    return set(needed) <= {key(c) for c in header_of(lines)}


# ------------------------------------------------------------------------------------------ reading
def read_text(path: Path) -> str:
    """The file's text (gzip decompressed, UTF-8, byte order mark dropped); bytes that are not UTF-8 stay
    as lone surrogates so that only their rows are rejected.
    """
    state = StreamState()
    try:
        data = b"".join(block.data for block in iter_blocks(path, state))
    except OSError as err:
        raise LoaderError(f"cannot read {path}: {err}", path=path) from err
    if state.corrupt_gzip or state.bad_checksum or state.truncated_gzip:
        what = "ends early (truncated file)" if state.truncated_gzip else "is corrupt"
        raise LoaderError(
            f"{path}: the gzip stream {what}; an aggregated report is read whole or not at all",
            path=path,
        )
    return data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")


@dataclass
class Table:
    """One table of a report CSV: its header line and header, its rows as (line, text), and the delimiter
    of its cells.
    """

    line: int
    header: list[str]
    rows: list[tuple[int, str]] = field(default_factory=list)
    delimiter: str = ","


def split_tables(text: str) -> list[Table]:
    """The tables of a report CSV: runs of lines separated by blank lines and ``#`` lines, each
    starting with its header.
    """
    tables: list[Table] = []
    current: Table | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            current = None
        elif current is None:
            shown = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # names in the report
            delimiter = delimiter_of(shown)
            current = Table(number, _cells(shown, delimiter) or [shown], delimiter=delimiter)
            tables.append(current)
        else:
            current.rows.append((number, line))
    return tables


def _cells(line: str, delimiter: str = ",") -> list[str] | None:
    """The cells of one CSV line, or None when it is not one."""
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None


def parse_count(text: str) -> int | None:
    """An event count: digits, or groups of three digits with one separator throughout; else None."""
    raw = text.strip()
    if raw.isascii() and raw.isdigit():
        return int(raw)
    if _GROUPED.fullmatch(raw):
        return int("".join(ch for ch in raw if ch.isdigit()))
    return None


@dataclass
class Period:
    """Where a row's local period is: the main date cell and its kind, optional hour and minute cells."""

    kind: str  # "date", "datehour" or "datehourminute"
    main: int
    hour: int | None = None
    minute: int | None = None

    @property
    def granularity(self) -> int:
        if self.kind == "datehourminute" or self.minute is not None:
            return MINUTE
        if self.kind == "datehour" or self.hour is not None:
            return HOUR
        return DAY

    def columns(self) -> set[int]:
        return {c for c in (self.main, self.hour, self.minute) if c is not None}

    def local(self, cells: list[str]) -> datetime | None:
        """The local start of the row's period, or None when a cell does not parse."""
        digits = cells[self.main].strip()
        if self.kind == "date" and len(digits) == 10 and digits[4] == digits[7] == "-":
            digits = digits.replace("-", "")
        size = {"date": 8, "datehour": 10, "datehourminute": 12}[self.kind]
        if len(digits) != size or not (digits.isdigit() and digits.isascii()):
            return None
        parts = [int(digits[0:4]), int(digits[4:6]), int(digits[6:8])]
        parts += [int(digits[i : i + 2]) for i in range(8, size, 2)]
        for extra in (self.hour, self.minute):
            if extra is not None:
                value = cells[extra].strip()
                if not (1 <= len(value) <= 2 and value.isdigit() and value.isascii()):
                    return None
                parts.append(int(value))
        year, month, day, hour, minute = [*parts, 0, 0][:5]
        try:
            return datetime(year, month, day, hour, minute)
        except ValueError:
            return None

    def utc(self, cells: list[str], tz: ZoneInfo) -> datetime | None:
        """The start of the row's period in UTC, or None when a cell does not parse."""
        local = self.local(cells)
        return None if local is None else local.replace(tzinfo=tz).astimezone(UTC)


@dataclass
class Stamp:
    """An event-level report's hit-timestamp cell: each row is one hit at an exact time.

    The cell holds ISO-8601 with a UTC offset (the common custom-dimension recipe writes the visitor's
    local time and offset, ``2023-06-05T11:02:07.345+02:00``), ISO-8601 without one (read in the view's
    time zone), or epoch seconds (10 digits) or milliseconds (13 digits).
    """

    main: int
    granularity: int = TIME_GRANULARITIES.index("exact")

    def columns(self) -> set[int]:
        return {self.main}

    def utc(self, cells: list[str], tz: ZoneInfo) -> datetime | None:
        """The hit's time in UTC, or None when the cell is empty or does not parse."""
        text = cells[self.main].strip()
        if text.isascii() and text.isdigit() and len(text) in (10, 13):
            return datetime.fromtimestamp(int(text) / (1000 if len(text) == 13 else 1), UTC)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
        return (when if when.tzinfo is not None else when.replace(tzinfo=tz)).astimezone(UTC)


def find_period(roles: dict[str, int]) -> Period | None:
    """The most precise period the date columns give (``roles``: date role -> column), or None."""
    for kind in ("datehourminute", "datehour", "date"):
        if kind in roles:
            hour = roles.get("hour") if kind == "date" else None
            minute = roles.get("minute") if kind != "datehourminute" else None
            if kind == "date" and hour is None:
                minute = None  # a minute without its hour is no time
            return Period(kind, roles[kind], hour, minute)
    return None


def zone(name: str, path: Path, where: str) -> ZoneInfo:
    """The IANA zone ``name`` (given as ``where``), or a LoaderError naming the file."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise LoaderError(f"{path}: {where} {name!r} is not an IANA time zone", path=path) from None


@dataclass
class Spec:
    """How to turn the cells of one table's rows into canonical rows."""

    family: str  # "ga4" or "ua": the namespace of the event ids
    dims: list[int]  # the dimension cells (every cell that is not a metric)
    names: dict[int, str]  # dimension cell -> normalised name used in the event id key
    count: int
    event: int | None
    period: Period | Stamp  # the row's time: its date dimensions, or an event-level report's timestamp
    fields: dict[str, int]  # canonical column -> cell
    codes: dict[str, int]  # event name (upper case when fold_case) -> code
    fold_case: bool = False
    action: int | None = None  # GA4: the action parameter's cell
    action_label: str = ""  # GA4: the action parameter's name, shown in ignored names
    action_codes: dict[str, int] = field(default_factory=dict)  # upper-case action value -> code
    category: int | None = None  # UA: the Event Category cell
    categories: frozenset[str] = frozenset()  # UA: accepted categories (lower case); empty: any
    width: int = 0  # the number of cells of a well-formed row
    headers: list[str] = field(default_factory=list)  # the table's header texts (for plan coverage)


class Rows:
    """Canonical rows, rejected and ignored records of one file, built row by row."""

    def __init__(self, spec: Spec, tz: ZoneInfo) -> None:
        self.spec = spec
        self.tz = tz
        self.result = ReadResult()
        self.lines: list[int] = []
        self.times: list[datetime] = []
        self.codes: list[int] = []
        self.counts: list[int] = []
        self.ids: list[str] = []
        self.strings: dict[str, list[str | None]] = {c: [] for c in spec.fields}
        self._utc: dict[tuple[str, ...], datetime | None] = {}
        self._key_dims = [c for c in spec.dims if c not in spec.period.columns()]

    def reject(self, record: int, reason: str, raw: bytes) -> None:
        self.result.records += 1
        self.result.rejected.append((record, reason, raw))

    def ignore(self, record: int, name: str) -> None:
        self.result.records += 1
        self.result.ignored.append((record, name))

    def add(self, record: int, cells: list[str], raw: bytes) -> None:
        """Classify one data row: an event, a rejected record or an ignored one."""
        spec = self.spec
        label_last = len(cells) == spec.width + 1 and norm(cells[-1]) in _TOTAL_LABELS
        if label_last and not any(cells[c].strip() for c in spec.dims):  # Explore: ,,211078,Grand total
            return self.ignore(record, TOTALS_ROW)
        if len(cells) != spec.width:
            return self.reject(record, "wrong number of fields", raw)
        if any(_SURROGATE.search(c) for c in cells):
            return self.reject(record, "non-UTF-8 bytes", raw)
        dims = [cells[c].strip() for c in spec.dims]
        filled = [d for d in dims if d]
        if not filled or (len(filled) == 1 and norm(filled[0]) in _TOTAL_LABELS) or _RESERVED & set(dims):
            return self.ignore(record, TOTALS_ROW)
        count = parse_count(cells[spec.count])
        if count is None:
            return self.reject(record, "unparseable count", raw)
        if count == 0:
            return self.ignore(record, "zero count")
        name = _value(cells, spec.event)
        category = cells[spec.category].strip() if spec.category is not None else None
        if category is not None and spec.categories and category.lower() not in spec.categories:
            return self.ignore(record, f"{category} / {name or NOT_SET}")
        action = _value(cells, spec.action)
        if name is None and (spec.event is not None or action is None):
            return self.reject(
                record, "missing event name" if spec.event is not None else "missing event type", raw
            )
        code = None if name is None else spec.codes.get(name.upper() if spec.fold_case else name)
        if code is None and action is not None:
            code = spec.action_codes.get(action.upper())
        if code is None:
            if action is not None:
                shown = f"{name} " if name is not None else ""
                return self.ignore(record, f"{shown}({spec.action_label}={action})")
            return self.ignore(record, f"{category} / {name}" if category is not None else name or NOT_SET)
        when = self._to_utc(cells)
        if when is None:
            if not isinstance(spec.period, Stamp):
                return self.reject(record, "unparseable date", raw)
            empty = _value(cells, spec.period.main) is None
            return self.reject(record, "missing time" if empty else "unparseable time", raw)
        self.result.records += 1
        self.lines.append(record)
        self.times.append(when)
        self.codes.append(code)
        self.counts.append(count)
        for column, cell in spec.fields.items():
            value = _value(cells, cell)
            if value is not None and column in ID_COLUMNS:
                value = _WHOLE_ID.sub(r"\1", value) if _WHOLE_ID.fullmatch(value) else value
            self.strings[column].append(value)
        self.ids.append(self._event_id(cells, when))
        return None

    def _to_utc(self, cells: list[str]) -> datetime | None:
        period = self.spec.period
        key = tuple(cells[c] for c in sorted(period.columns()))
        if isinstance(period, Stamp):
            return period.utc(cells, self.tz)
        if key not in self._utc:
            self._utc[key] = period.utc(cells, self.tz)
        return self._utc[key]

    def _event_id(self, cells: list[str], when: datetime) -> str:
        spec = self.spec
        pairs = sorted([spec.names[c], cells[c].strip()] for c in self._key_dims)
        gran = TIME_GRANULARITIES[spec.period.granularity]
        shown = "%Y-%m-%dT%H:%M:%S.%fZ" if isinstance(spec.period, Stamp) else "%Y-%m-%dT%H:%M:%SZ"
        key = [spec.family, when.strftime(shown), gran, pairs]
        text = json.dumps(key, ensure_ascii=False, separators=(",", ":"))
        return "agg:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def finish(self) -> ReadResult:
        """The result, with the events as one Arrow table in the canonical layout."""
        if self.lines:
            n = len(self.lines)
            columns: dict[str, Any] = {
                "event_time_utc": pa.array(self.times, pa.timestamp("us", tz="UTC")),
                "code": pa.array(self.codes, pa.int8()),
                "gran": pa.array(np.full(n, self.spec.period.granularity, dtype=np.int8)),
                "event_count": pa.array(self.counts, pa.int64()),
                "event_id": pa.array(self.ids, pa.large_string()),
            }
            for column in _STRINGS:
                values = self.strings.get(column)
                columns[column] = (
                    pa.nulls(n, pa.large_string()) if values is None else pa.array(values, pa.large_string())
                )
            self.result.tables.append((pa.table(columns), np.asarray(self.lines, dtype=np.int64)))
        return self.result


def _value(cells: list[str], cell: int | None) -> str | None:
    """A dimension cell as a canonical value: trimmed, with ``(not set)`` and empty read as null."""
    if cell is None:
        return None
    value = cells[cell].strip()
    return None if not value or value == NOT_SET else value


def read_report_csv(
    ctx: ReadContext,
    path: Path,
    *,
    pick: Callable[[list[str]], bool],
    build: Callable[[list[str]], Spec],
    what: str,
    zone_hint: str,
) -> ReadResult:
    """Read a report CSV: find the event table with ``pick(header) -> bool``, map it with
    ``build(header) -> Spec``; every other table's rows are ignored records.
    """
    tables = split_tables(read_text(path))
    if not tables:
        return ReadResult()
    chosen = next((t for t in tables if pick(t.header)), None)
    if chosen is None:
        found = "; ".join(f"line {t.line}: {', '.join(t.header[:6])}" for t in tables[:5])
        raise LoaderError(f"{path} holds no table with {what} (its tables: {found})", path=path)
    spec = build(chosen.header)
    if ctx.timezone is None:
        raise LoaderError(
            f"{path}: the report's dates are in the {zone_hint}'s time zone, which the file does not "
            f'name; pass read_events(..., timezone="...") with that zone, e.g. timezone="America/New_York"',
            path=path,
        )
    rows = Rows(spec, zone(ctx.timezone, path, "timezone"))
    others = [t for t in tables if t is not chosen]
    for table in tables:
        if table is chosen:
            for number, line in table.rows:
                cells, raw = _cells(line, table.delimiter), line.encode("utf-8", "surrogateescape")
                if cells is None:
                    rows.reject(number, "malformed CSV row", raw)
                else:
                    rows.add(number, cells, raw)
        else:
            for number, _ in table.rows:
                rows.ignore(number, f"{table.header[0].strip()} table")
    if others:
        skipped = ", ".join(
            f"{t.header[0].strip()!r} at line {t.line} ({len(t.rows)} row(s))" for t in others
        )
        ctx.notes.append(
            f"{path}: read the table at line {chosen.line}; the other table(s) are not event tables and "
            f"their rows are ignored: {skipped}"
        )
    return rows.finish()


def metrics_start(keys: list[str], metrics: frozenset[str]) -> int:
    """The index of the first metric column (the columns before it are the dimensions)."""
    return next((i for i, k in enumerate(keys) if k in metrics), len(keys))


def check_report_keys(
    result: ReadResult, path: Path, destination: str, plan: TrackingPlan, spec: Spec, *, skip: tuple[str, ...]
) -> None:
    """Plan coverage of a report: a field's key matched when its column is among the table's dimensions
    (the action key: when the spec reads the action column; the time key: when it reads a timestamp).
    """
    columns = {**FIELD_COLUMNS, **UA_FIELDS}

    def found(name: str, key: str) -> bool:
        if name == "event":
            return spec.action is not None
        if name == "ts":
            return isinstance(spec.period, Stamp)
        return columns.get(name) in spec.fields

    dims = [spec.headers[c] for c in spec.dims] if spec.headers else []
    check_keys(result, path, destination, plan, found, lambda: dims, skip=skip)


def read_event_report(
    ctx: ReadContext,
    path: Path,
    *,
    key: Callable[[str], str],
    metrics: frozenset[str],
    events: Collection[str],
    build: Callable[[list[str]], Spec],
    what: str,
    zone_hint: str,
    destination: str,
    skip: tuple[str, ...],
) -> ReadResult:
    """Read a report CSV through :func:`read_report_csv` and record the plan coverage of its event table.

    The event table is the first whose dimensions (the columns before the first of ``metrics``, each
    header cell read with ``key``) include one of ``events``; ``build(header) -> Spec`` maps it, and
    :func:`check_report_keys` (with ``skip``) checks the plan's ``destination`` keys against it.
    """

    def pick(header: list[str]) -> bool:
        keys = [key(h) for h in header]
        return not set(events).isdisjoint(keys[: metrics_start(keys, metrics)])

    specs: list[Spec] = []

    def build_one(header: list[str]) -> Spec:
        specs.append(build(header))
        return specs[-1]

    result = read_report_csv(ctx, path, pick=pick, build=build_one, what=what, zone_hint=zone_hint)
    for spec in specs:
        check_report_keys(result, path, destination, ctx.plan, spec, skip=skip)
    return result
