"""GA4 aggregated reports as canonical events: the UI / Explore CSV export and Data API ``runReport`` pages.

Both are **aggregated**: a data row is a count of events for one combination of dimension values, so
each data row becomes ONE canonical row whose ``event_count`` is the row's event count and whose time
is the start of its date dimension's period. Such rows have no visitor and no exact time, and a
session only when a custom dimension carries it: the analyses that follow sessions refuse them, and the
rows show what they are by their ``time_granularity`` (``minute``, ``hour`` or ``day``) and
``event_count``.

Formats
-------
``ga4_explore_csv``
    A report or exploration exported from the GA4 interface as CSV: ``#`` preamble lines (report or
    exploration name, account, property, ``# Start date: YYYYMMDD``, ``# End date: YYYYMMDD``), then one
    or more tables, each a header row and data rows, separated by blank or ``#`` lines. The first table
    that has an event name column is read; the other tables (a standard report's chart series, for example)
    are ignored: each of their rows is an ignored record named ``<first header> table``, and a note
    says which table was read. A record is a data row; its number is its line in the file (header,
    ``#`` and blank lines are not records). Lines may end in CRLF; a UTF-8 byte order mark is skipped.
    Each line is parsed as one CSV row (GA4 writes no line break inside a cell). The dates are local to
    the property, whose time zone the file does not carry: ``read_events(..., timezone="...")`` is
    required (a LoaderError asks for it).
``ga4_data_api``
    One ``runReport`` response page saved as JSON (``dimensionHeaders``, ``metricHeaders``, ``rows``,
    ``totals``, ``maximums``, ``minimums``, ``rowCount``, ``metadata``, ``kind``; the snake_case names of
    the client libraries' ``to_dict`` are read too). Several pages are several files. Records are the
    page's ``rows``, numbered from 1, then its ``totals``, ``maximums`` and ``minimums`` rows, numbered on
    from there (ignored as ``totals row``). The time zone is ``read_events``'s ``timezone=`` or else
    the response's ``metadata.timeZone``. A page that holds fewer rows than ``rowCount`` says so in the
    notes, as do ``subjectToThresholding``, ``dataLossFromOtherRow`` and sampling.

Mapping (names from the :class:`~chatanalytics.io.TrackingPlan`'s ``ga4`` section; header names are
matched ignoring case, spaces and punctuation, so ``Event name`` and ``eventName`` are one column):

- ``event_count`` <- ``Event count`` / ``eventCount``: an integer written with or without group
  separators (``1,204``, ``1.204``, ``1 204``, non-breaking and thin spaces, ``1'204``), quoted or
  not. A row whose count is 0 is ignored (``zero count``); a count that is not such an integer is
  rejected (``unparseable count``).
- ``event_time_utc`` <- the start of the row's local period, converted to UTC with the property's
  time zone (an hour repeated when clocks go back is read as its first occurrence; a period starting
  in the hour skipped when clocks go forward starts when that hour ends). The period, and
  ``time_granularity``, come from the most precise date dimension present: ``Date hour and minute`` /
  ``dateHourMinute`` (``YYYYMMDDHHMM``, ``minute``); ``Date + hour (YYYYMMDDHH)`` / ``dateHour``
  (``hour``, ``minute`` with a ``Minute`` column); ``Date`` / ``date`` (``YYYYMMDD`` or
  ``YYYY-MM-DD``: ``day``; ``hour`` with an ``Hour`` column, ``minute`` with ``Hour`` and
  ``Minute``). A report without a date dimension has no time at all and raises a LoaderError asking
  for one. A date that does not parse is rejected (``unparseable date``).
- ``event_type`` <- ``Event name`` / ``eventName`` through the plan's event names, or else the
  plan's action parameter (``dc_event``) when the report has it as a custom dimension, holding the
  constant (any case) or an event name. Other names (``page_view``, ``(other)``) are ignored with
  their name; an empty event name is rejected (``missing event name``).
- Other canonical columns <- custom dimensions named after the plan's parameters: a column named
  ``customEvent:<param>`` or ``<param>`` (``customEvent:dc_conversation_id`` or
  ``dc_conversation_id`` -> ``conversation_id``; ``dc_session_id`` -> ``session_id``, ...).
  ``page_url`` <- the plan's page URL parameter, else ``Page location`` / ``pageLocation``. ``(not
  set)`` and empty cells are null; ids keep their text (a ``4471902.0`` loses its ``.0``).
  ``visitor_id`` and ``analytics_session_id`` are always null.
- Totals rows are ignored (``totals row``): a row whose dimension cells are all empty or hold only a
  totals label (``Grand total``, ``Totals``, ``Total``, Dutch and German equivalents), or a dimension
  value ``RESERVED_TOTAL`` / ``RESERVED_MAX`` / ``RESERVED_MIN``. The dimensions of a CSV table are its
  columns before the first metric (``Event count`` or another known GA4 metric).
- ``event_id`` <- ``agg:`` + the first 32 hex digits of the SHA-256 of the row's key, the JSON text
  ``["ga4","<period start in UTC, YYYY-MM-DDTHH:MM:SSZ>","<granularity>",[[<name>,<value>],...]]``
  (UTF-8, no space after separators, non-ASCII unescaped): every dimension other than the date columns, as
  (normalised name, cell text as written without surrounding spaces), sorted. A normalised name is the
  header in lower case with only letters, digits and ``:`` kept (``eventname``); a plan parameter's
  column is ``customevent:`` + its normalised parameter (``customevent:dcconversationid``), whether
  the file calls it ``customEvent:dc_conversation_id`` or ``dc_conversation_id``. The key holds no
  file name, so one report row read from two overlapping exports (two CSV files, overlapping API
  pages, or a CSV and an API page of the same report) is de-duplicated, while rows that differ in any
  dimension, period or granularity never share an id.
  The key is hashed so that no dimension value (which may hold a contact detail) reaches the frame.

Aggregated reports are small, so the rows are read by a Python loop (the csv module per line, a
dictionary look-up per name and period); the per-row work is a few look-ups and one hash.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa

from ..errors import LoaderError
from ..schema import EVENT_TYPES, STRING_COLUMNS, TIME_GRANULARITIES
from ._files import StreamState, iter_blocks
from ._plan import TrackingPlan
from ._protocol import ReadContext, ReadResult
from ._sql import ID_COLUMNS

FORMATS: dict[str, str] = {
    "ga4_explore_csv": "a GA4 report or Explore exploration exported as CSV (aggregated event counts)",
    "ga4_data_api": "a GA4 Data API runReport response page saved as JSON (aggregated event counts)",
}
DESTINATION = "ga4"

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

#: Normalised GA4 metric names (UI and API): the dimensions of a CSV table are the columns before them.
_GA4_METRICS = frozenset(
    {
        "eventcount",
        "eventcountperuser",
        "eventspersession",
        "totalusers",
        "activeusers",
        "newusers",
        "users",
        "sessions",
        "engagedsessions",
        "engagementrate",
        "views",
        "keyevents",
        "conversions",
        "totalrevenue",
        "eventvalue",
        "userengagement",
        "averageengagementtime",
        "bouncerate",
    }
)
#: Normalised header names of the date dimensions -> role.
_GA4_DATES = {
    "date": "date",
    "datehour": "datehour",
    "datehouryyyymmddhh": "datehour",
    "datehourminute": "datehourminute",
    "datehourandminute": "datehourminute",
    "datehourandminuteyyyymmddhhmm": "datehourminute",
    "hour": "hour",
    "minute": "minute",
}


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
            try:
                return [norm(c) for c in next(csv.reader([line]))]
            except (csv.Error, StopIteration):
                return []
    return []


_GA4_PREAMBLE = re.compile(r"#\s*(?:start date|end date)\s*:\s*\d{8}\s*", re.I)


def sniff(path: Path, head: bytes) -> str | None:
    """The format of a file from its first bytes.

    Parameters
    ----------
    path : Path
        The file (its name is not used).
    head : bytes
        Its first 4 KiB, decompressed.

    Returns
    -------
    str or None
        ``"ga4_data_api"`` for a JSON object with runReport headers (``dimensionHeaders``,
        ``metricHeaders``) or kind; ``"ga4_explore_csv"`` for text with a ``# Start date: YYYYMMDD`` /
        ``# End date: YYYYMMDD`` preamble line or a header holding Event name and Event count; else None.
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"{":
        keys = (b'"dimensionHeaders"', b'"metricHeaders"', b'"dimension_headers"', b'"metric_headers"')
        if b"analyticsData#runReport" in text or any(k in text for k in keys):
            return "ga4_data_api"
        return None
    lines = head_lines(head)
    if any(_GA4_PREAMBLE.fullmatch(line.strip()) for line in lines):
        return "ga4_explore_csv"
    header = header_of(lines)
    if "eventname" in header and "eventcount" in header:
        return "ga4_explore_csv"
    return None


# ------------------------------------------------------------------------------------------ reading
def read_text(path: Path) -> str:
    """The file's text (gzip decompressed, UTF-8, byte order mark dropped); bytes that are not UTF-8 stay
    as lone surrogates so that only their rows are rejected."""
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
    """One table of a report CSV: its header line and header, and its rows as (line, text)."""

    line: int
    header: list[str]
    rows: list[tuple[int, str]] = field(default_factory=list)


def split_tables(text: str) -> list[Table]:
    """The tables of a report CSV: runs of lines separated by blank lines and ``#`` lines, each
    starting with its header."""
    tables: list[Table] = []
    current: Table | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            current = None
        elif current is None:
            shown = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # names in the report
            current = Table(number, _cells(shown) or [shown])
            tables.append(current)
        else:
            current.rows.append((number, line))
    return tables


def _cells(line: str) -> list[str] | None:
    """The cells of one CSV line, or None when it is not one."""
    try:
        return next(csv.reader([line]))
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
    period: Period
    fields: dict[str, int]  # canonical column -> cell
    codes: dict[str, int]  # event name (upper case when fold_case) -> code
    fold_case: bool = False
    action: int | None = None  # GA4: the action parameter's cell
    action_label: str = ""  # GA4: the action parameter's name, shown in ignored names
    action_codes: dict[str, int] = field(default_factory=dict)  # upper-case action value -> code
    category: int | None = None  # UA: the Event Category cell
    categories: frozenset[str] = frozenset()  # UA: accepted categories (lower case); empty: any
    width: int = 0  # the number of cells of a well-formed row


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
        if name is None:
            return self.reject(record, "missing event name", raw)
        code = spec.codes.get(name.upper() if spec.fold_case else name)
        action = _value(cells, spec.action)
        if code is None and action is not None:
            code = spec.action_codes.get(action.upper())
        if code is None:
            if action is not None:
                return self.ignore(record, f"{name} ({spec.action_label}={action})")
            return self.ignore(record, f"{category} / {name}" if category is not None else name)
        when = self._to_utc(cells)
        if when is None:
            return self.reject(record, "unparseable date", raw)
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
        if key not in self._utc:
            local = period.local(cells)
            self._utc[key] = None if local is None else local.replace(tzinfo=self.tz).astimezone(UTC)
        return self._utc[key]

    def _event_id(self, cells: list[str], when: datetime) -> str:
        spec = self.spec
        pairs = sorted([spec.names[c], cells[c].strip()] for c in self._key_dims)
        gran = TIME_GRANULARITIES[spec.period.granularity]
        key = [spec.family, when.strftime("%Y-%m-%dT%H:%M:%SZ"), gran, pairs]
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


# ------------------------------------------------------------------------------------------ GA4 layout
def ga4_spec(plan: TrackingPlan, headers: list[str], dims: list[int], count: int, path: Path) -> Spec:
    """The mapping of a GA4 table (CSV or API) from its headers: which cell plays which role."""
    params: dict[str, str] = {}  # normalised parameter -> canonical column ("" for the action key)
    for column, key in plan.columns(DESTINATION).items():
        if column not in ("event_time_utc", "event_id"):
            params[norm(key)] = column
    action_key = plan.action_key(DESTINATION)
    if action_key:
        params[norm(action_key)] = ""
    roles: dict[str, int] = {}
    names: dict[int, str] = {}
    fields: dict[str, int] = {}
    event = action = page = None
    for c in dims:
        key = norm(headers[c])
        param = key.removeprefix("customevent:")
        names[c] = key
        if key == "eventname" and event is None:
            event = c
        elif key in _GA4_DATES and _GA4_DATES[key] not in roles:
            roles[_GA4_DATES[key]] = c
        elif param in params:
            names[c] = "customevent:" + param
            if params[param] == "":
                action = c
            else:
                fields.setdefault(params[param], c)
        elif key == "pagelocation":
            page = c
    if page is not None:
        fields.setdefault("page_url", page)
    if event is None:
        raise LoaderError(f"{path}: the report has no Event name (eventName) dimension", path=path)
    period = find_period(roles)
    if period is None:
        raise LoaderError(
            f"{path}: the report has no date dimension, so its rows have no time; add Date "
            "(date), Date + hour (dateHour) or Date hour and minute (dateHourMinute) and export it again",
            path=path,
        )
    codes = {n: EVENT_TYPES.index(c) for n, c in plan.events(DESTINATION).items()}
    action_codes = {v: EVENT_TYPES.index(c) for v, c in plan.action_values(DESTINATION).items()}
    return Spec(
        family="ga4",
        dims=dims,
        names=names,
        count=count,
        event=event,
        period=period,
        fields=fields,
        codes=codes,
        action=action,
        action_label=action_key or "",
        action_codes=action_codes,
        width=len(headers),
    )


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
    ``build(header) -> Spec``; every other table's rows are ignored records."""
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
                cells, raw = _cells(line), line.encode("utf-8", "surrogateescape")
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


def _read_explore_csv(ctx: ReadContext, path: Path) -> ReadResult:
    """Read one GA4 report CSV: the first table with an Event name dimension."""

    def pick(header: list[str]) -> bool:
        keys = [norm(h) for h in header]
        return "eventname" in keys[: metrics_start(keys, _GA4_METRICS)]

    def build(header: list[str]) -> Spec:
        keys = [norm(h) for h in header]
        if "eventcount" not in keys:
            raise LoaderError(f"{path}: the event table has no Event count column", path=path)
        dims = list(range(metrics_start(keys, _GA4_METRICS)))
        return ga4_spec(ctx.plan, header, dims, keys.index("eventcount"), path)

    return read_report_csv(
        ctx, path, pick=pick, build=build, what="an Event name column", zone_hint="GA4 property"
    )


# ------------------------------------------------------------------------------------------ Data API
def _get(obj: dict[str, Any], camel: str) -> Any:
    """A response field by its JSON name or the snake_case name client libraries write."""
    if camel in obj:
        return obj[camel]
    return obj.get(re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower())


def _values(items: Any) -> list[str] | None:
    """The ``value`` texts of a row's dimensionValues / metricValues (an absent value is empty)."""
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        if not isinstance(item, dict):
            return None
        value = item.get("value", "")
        if not isinstance(value, str):
            return None
        out.append(value)
    return out


def _names(headers: Any, path: Path, key: str) -> list[str]:
    """The names of dimensionHeaders / metricHeaders, or a LoaderError when they are not a list of them."""
    if not isinstance(headers, list) or not all(
        isinstance(h, dict) and isinstance(h.get("name"), str) for h in headers
    ):
        raise LoaderError(f"{path}: {key} is not a list of {{name}} objects", path=path)
    return [h["name"] for h in headers]


def _read_api(ctx: ReadContext, path: Path) -> ReadResult:
    """Read one runReport response page: its rows, then its totals, maximums and minimums rows."""
    text = read_text(path)
    if not text.strip():
        return ReadResult()
    try:
        page = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        where = f" (line {err.lineno}, column {err.colno})" if isinstance(err, json.JSONDecodeError) else ""
        raise LoaderError(f"{path} is not valid JSON{where}: {err}", path=path) from err
    if isinstance(page, list) or (isinstance(page, dict) and "reports" in page):
        raise LoaderError(
            f"{path} holds several responses: save each runReport response page as its own file", path=path
        )
    if not isinstance(page, dict) or _get(page, "dimensionHeaders") is None:
        raise LoaderError(f"{path} is not a GA4 runReport response: it has no dimensionHeaders", path=path)
    if "pivotHeaders" in page or "pivot_headers" in page:
        raise LoaderError(f"{path} is a pivot report: run the report with runReport instead", path=path)
    dim_names = _names(_get(page, "dimensionHeaders"), path, "dimensionHeaders")
    metric_names = _names(_get(page, "metricHeaders") or [], path, "metricHeaders")
    if "eventCount" not in metric_names:
        raise LoaderError(
            f"{path}: the report has no eventCount metric (metrics: {', '.join(metric_names) or 'none'})",
            path=path,
        )
    parts = {key: _get(page, key) or [] for key in ("rows", "totals", "maximums", "minimums")}
    for key, value in parts.items():
        if not isinstance(value, list):
            raise LoaderError(f"{path}: {key} is not a list", path=path)
    rows = parts["rows"]
    summaries = parts["totals"] + parts["maximums"] + parts["minimums"]
    if not rows and not summaries:
        return ReadResult()
    meta = _get(page, "metadata")
    meta = meta if isinstance(meta, dict) else {}
    tz_name = ctx.timezone or _get(meta, "timeZone") or ("UTC" if not rows else None)
    if not isinstance(tz_name, str):
        raise LoaderError(
            f'{path}: the response names no metadata.timeZone; pass read_events(..., timezone="...") '
            "with the GA4 property's time zone",
            path=path,
        )
    spec = ga4_spec(
        ctx.plan,
        dim_names + metric_names,
        list(range(len(dim_names))),
        len(dim_names) + metric_names.index("eventCount"),
        path,
    )
    out = Rows(spec, zone(tz_name, path, "timezone" if ctx.timezone else "metadata.timeZone"))
    for record, row in enumerate(rows, start=1):
        raw = json.dumps(row).encode()
        dims = _values(_get(row, "dimensionValues")) if isinstance(row, dict) else None
        metrics = _values(_get(row, "metricValues")) if isinstance(row, dict) else None
        if dims is None or metrics is None:
            out.reject(record, "malformed row", raw)
        else:
            out.add(record, dims + metrics, raw)
    for record in range(len(rows) + 1, len(rows) + len(summaries) + 1):
        out.ignore(record, TOTALS_ROW)
    _api_notes(ctx, path, page, meta, len(rows))
    return out.finish()


def _api_notes(ctx: ReadContext, path: Path, page: dict[str, Any], meta: dict[str, Any], n: int) -> None:
    """Notes on what a page does not hold: other pages, rows under thresholds, sampling."""
    total = _get(page, "rowCount")
    if isinstance(total, int) and total > n:
        ctx.notes.append(
            f"{path}: this page holds {n:,} of the report's {total:,} rows; the other pages are other files"
        )
    own = _get(meta, "timeZone")
    if ctx.timezone and isinstance(own, str) and own != ctx.timezone:
        ctx.notes.append(f"{path}: timezone={ctx.timezone!r} was used instead of metadata.timeZone {own!r}")
    if _get(meta, "subjectToThresholding"):
        ctx.notes.append(f"{path}: GA4 withheld rows below its privacy thresholds; counts may be low")
    if _get(meta, "dataLossFromOtherRow"):
        ctx.notes.append(f"{path}: GA4 rolled some rows into an (other) row; counts per value may be low")
    if _get(meta, "samplingMetadatas"):
        ctx.notes.append(f"{path}: the report is sampled; its counts are estimates")


# ------------------------------------------------------------------------------------------ entry point
def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one GA4 report CSV or one runReport response page (see the module docstring).

    Parameters
    ----------
    ctx : ReadContext
        The tracking plan, the ``timezone=`` of ``read_events`` and the notes of the load report.
    path : Path
        The file (gzip is decompressed).
    fmt : str
        ``"ga4_explore_csv"`` or ``"ga4_data_api"``.

    Returns
    -------
    ReadResult
        One canonical row per chat data row (record numbers: CSV lines, or page row numbers), and the
        rejected and ignored records.

    Raises
    ------
    LoaderError
        The file is not such a report (no event table, invalid JSON, no eventCount metric), has no date
        dimension, or lacks a time zone; a truncated or corrupt gzip stream.
    """
    if fmt == "ga4_data_api":
        return _read_api(ctx, path)
    return _read_explore_csv(ctx, path)
