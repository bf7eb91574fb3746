"""Adobe Analytics Data Feed deliveries as canonical events.

A Data Feed delivers one row per server call (hit) in ``hit_data.tsv``: tab-separated, **no header**,
ISO-8859-1. The column names are in ``column_headers.tsv`` (one row) and the numeric ids of
``post_event_list`` are named in ``event.tsv``; both come with the delivery's lookup files (``browser.tsv``,
``country.tsv``, ... are not read). Three shapes of delivery are read:

- a folder holding ``hit_data.tsv`` (or ``hit_data*.tsv.gz``) next to ``column_headers.tsv`` and
  ``event.tsv`` (an extracted delivery);
- the daily single file ``[rsid]_[YYYY-mm-dd].tar.gz`` holding ``hit_data.tsv`` and the lookup files
  (loose, or in a nested ``*lookup_data.tar.gz``), or the same delivery compressed as ``.zip`` (the
  feed's other compression option; given as a file, it is detected from its content);
- multi-file and hourly deliveries ``[index]-[rsid]_[YYYY-mm-dd][-HHMMSS].tsv.gz``, whose lookups are in
  the sibling ``[rsid]_[YYYY-mm-dd][-HHMMSS]-lookup_data.tar.gz`` or extracted next to them.

Given a folder, :func:`chatanalytics.read_events` reads the hit data files and leaves the lookup files
and the manifest to this reader. When the delivery's manifest (``Datafeed-Manifest-Version``, a ``.txt``
beside the data) gives a ``Record-Count`` for the file read and it differs from the rows read, the load
report's notes say so. Columns are found by name, so a feed with any selection of columns is read as
long as it has ``hit_time_gmt`` and ``post_event_list`` (or ``event_list``, or the link name
``page_event_var2``).

Escaping: a TAB, LF or backslash inside a value is written after a backslash and read back as the bare
character; only an unescaped LF ends a row. A raw carriage return is part of its value.

Mapping (the names come from the :class:`~chatanalytics.io.TrackingPlan`'s ``appmeasurement`` section:
``event1`` to ``event11`` per callback, the ``Dynamic Chat ...`` link names, and ``eVar1`` to ``eVar10``):

- Which rows are chat events. Rows with ``exclude_hit`` other than 0 are *ignored* as
  ``exclude_hit=<n>`` (Workspace leaves them out); data-source rows (``hit_source`` 5, 7, 8 or 9) are
  *ignored* as ``data source hit (hit_source=<n>)``. A remaining row is a chat event when
  ``post_event_list`` holds the id of a plan event, or else when it is a custom link
  (``post_page_event`` 100) whose link name (``page_event_var2``, any case) is a plan link name. Event
  ids follow Adobe's numbering: ``event1``-``event100`` are 200-299 (documented),
  ``event101``-``event1000`` are 20100-20999 (the numbering of Adobe's event lookups). The delivery's
  ``event.tsv``, when there is one, overrides it for the ids it names as a custom event (``Custom Event
  2`` or ``event2``) or as another event (``Instance of eVar1``); an id it gives any other name (a
  renamed event) keeps the numbering. A value or serial after an id (``201=3``, ``201:abc``) is
  ignored. Other rows are *ignored* with the name ``page view``, the link name (or
  ``custom link``, ``download link``, ``exit link``) or ``page_event=<n>``. A page view carrying a
  persisted chat eVar but no chat event is therefore ignored, never read as an event.
- ``event_type`` <- the plan's constant for the event id, or for the link name. An event id or link name
  the plan gives to several constants is decided by the action eVar (the plan's ``event`` field,
  ``eVar1``, holding the constant or an event name); when that does not decide, the row is ignored as
  ``event2 (eVar1=<value>)``.
- A row whose ``post_event_list`` holds several chat events gives **one event per distinct chat event
  id**, in list order, each counted as one record with the row's record number (so records still add
  up to events + rejected + duplicates + ignored); the load report's notes count such rows.
- ``event_time_utc`` <- the plan's time eVar (``eVar10``) when it is an ISO-8601 time with ``Z`` or an
  offset (``time_granularity`` ``exact``), else ``hit_time_gmt`` (Unix seconds, collection-server
  receipt, UTC; ``time_granularity`` ``second``). A row left without a time (no such eVar value, and
  ``hit_time_gmt`` empty or not a number of seconds) is *rejected* (``missing time`` / ``unparseable
  time``); so is a row with the wrong number of fields. The load report keeps the text of a row with
  the wrong number of fields, and the columns read (``hit_time_gmt=...<TAB>hitid_high=...``) of a row
  rejected for its time. ``date_time`` (report-suite time zone) is not read, so no time zone is needed.
- Conversation, session, agent and meeting fields <- the plan's eVars and props, read from the
  ``post_`` columns (after processing rules, as in reports), or from the raw columns when the feed has
  no ``post_`` column. ``post_`` values persist: on a chat hit, a field the hit did not set carries the
  eVar's earlier value unless the eVar expires on the hit (the setting to use for these eVars).
  Empty values are null; ids keep their text (``4471902``).
- ``visitor_id`` <- ``post_visid_high:post_visid_low``; ``analytics_session_id`` <- the documented visit
  key ``post_visid_high:post_visid_low:visit_num:visit_start_time_gmt``.
- ``page_url`` <- the plan's page URL eVar when it has one and it is set, else ``page_url``
  (``post_page_url`` is emptied on link-tracking hits and is read only when ``page_url`` is absent).
- ``event_id`` <- ``adobe:<hitid_high>:<hitid_low>`` (``adobe:<high>:<low>:<event id>`` for each event of
  a row with several chat events), so a hit delivered twice (a re-run job, overlapping deliveries) is
  dropped as a duplicate of the first copy read. A plan ``event_id`` eVar is not used: persistence
  could copy it to a later hit.

Record numbers are row numbers in the hit data file: a row ends at an unescaped LF (so a value holding an
escaped LF does not shift the rows after it), and empty rows are neither numbered nor records. In an archive
holding several hit data files, the numbering runs on from one file to the next. Rows are parsed by
pyarrow's CSV reader (tab separator, backslash escapes, no quoting) in blocks of 32 MiB, and classified
and mapped by DuckDB; Python touches only the rejected and ignored records, to list them in the load
report.
"""

from __future__ import annotations

import enum
import functools
import gzip
import io
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ..errors import LoaderError
from ..schema import EVENT_TYPES
from ._coverage import check_filled_keys
from ._plan import TrackingPlan
from ._privacy import scrub_text
from ._protocol import ReadContext, ReadResult
from ._sql import ID_COLUMNS, REASONS, Status, clean_id, lit

FORMAT = "adobe_feed"
DESTINATION = "appmeasurement"

FORMATS: dict[str, str] = {
    FORMAT: "Adobe Analytics Data Feed: hit_data.tsv beside column_headers.tsv, a daily "
    "[rsid]_[date].tar.gz, or [n]-[rsid]_[date].tsv.gz with its lookup_data.tar.gz",
}

#: Lookup files of a delivery (never hit data).
LOOKUP_FILES = frozenset(
    {
        "column_headers.tsv",
        "event.tsv",
        "event_lookup.tsv",
        "event_list.tsv",
        "browser.tsv",
        "browser_type.tsv",
        "color_depth.tsv",
        "connection_type.tsv",
        "country.tsv",
        "javascript_version.tsv",
        "languages.tsv",
        "operating_systems.tsv",
        "plugins.tsv",
        "referrer_type.tsv",
        "resolution.tsv",
        "search_engines.tsv",
    }
)
_EVENT_FILES = ("event.tsv", "event_lookup.tsv", "event_list.tsv")
_HEADERS_FILE = "column_headers.tsv"
#: ``[index]-[rsid]_[YYYY-mm-dd][-HHMMSS]`` and ``[rsid]_[YYYY-mm-dd][-HHMMSS]`` delivery names.
_DELIVERY_NAME = re.compile(
    r"^(?:(?P<index>\d+)-)?(?P<rsid>.+)_(?P<date>\d{4}-\d{2}-\d{2})(?:-(?P<time>\d{6}))?"
    r"\.(?P<suffix>tsv|tsv\.gz|tar\.gz|tgz|tar)$",
    re.IGNORECASE,
)
_LOOKUP_ARCHIVE_SUFFIXES = ("lookup_data.tar.gz", "lookup_data.tgz", "lookup_data.tar")
_DATA_SOURCE_HITS = (5, 7, 8, 9)
_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z
_ISO_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}(:?\d{2})?)"
_BLOCK_BYTES = 32 << 20
_SNIFF_SCAN_BYTES = 64 << 20  # how far into an archive detection looks for hit_data.tsv
_LOOKUP_MAX_BYTES = 64 << 20


class _Hit(enum.IntEnum):
    """What a hit is, as the query classifies it before mapping events."""

    EXCLUDED = 1  # exclude_hit set
    DATA_SOURCE = 2  # a data source hit (hit_source 5, 7, 8, 9)
    CHAT_EVENTS = 3  # its event list holds chat events
    LINK = 4  # a link whose name the plan maps
    OTHER = 5


_STRING_COLUMNS = (
    "session_id",
    "conversation_id",
    "conversation_name",
    "conversation_type",
    "ui_type",
    "agent_id",
    "agent_name",
    "meeting_info",
)
#: Feed columns read for each role, the first one present in the feed is used.
_ROLES: dict[str, tuple[str, ...]] = {
    "t_raw": ("hit_time_gmt",),
    "ex_raw": ("exclude_hit",),
    "hs_raw": ("hit_source",),
    "el_raw": ("post_event_list", "event_list"),
    "pe_raw": ("post_page_event", "page_event"),
    "ln_raw": ("post_page_event_var2", "page_event_var2"),
    "vh": ("post_visid_high", "visid_high"),
    "vl": ("post_visid_low", "visid_low"),
    "vn": ("visit_num",),
    "vst": ("visit_start_time_gmt",),
    "hh": ("hitid_high",),
    "hl": ("hitid_low",),
    "url": ("page_url", "post_page_url"),
}


# ----------------------------------------------------------------------------------------- lookups
@dataclass
class Lookups:
    """The column names (lower case) and the event id -> name lookup of a delivery."""

    headers: list[str]
    events: dict[int, str] = field(default_factory=dict)
    source: str = ""


def documented_event_id(number: int) -> int:
    """The ``post_event_list`` id of custom event ``number`` (``event1`` -> 200, ``event101`` -> 20100)."""
    return 199 + number if number <= 100 else 19999 + number


_CUSTOM_EVENT_NAME = (
    re.compile(r"\s*custom\s*event\s*(\d+)\s*", re.IGNORECASE),
    re.compile(r"\s*event\s*(\d+)\s*", re.IGNORECASE),
    re.compile(r".*\(\s*event\s*(\d+)\s*\)\s*", re.IGNORECASE),
)


def custom_event_number(name: str) -> int | None:
    """The custom event number an ``event.tsv`` name stands for (``Custom Event 2``, ``event2``), or None."""
    for pattern in _CUSTOM_EVENT_NAME:
        m = pattern.fullmatch(name)
        if m:
            return int(m.group(1))
    return None


def _parse_headers(data: bytes, where: str, path: Path) -> list[str]:
    text = data.decode("latin-1").replace("\r", "")
    rows = [r for r in text.split("\n") if r.strip()]
    if not rows:
        raise LoaderError(f"{where} is empty: it should hold the feed's column names", path=path)
    headers = [h.strip().lower() for h in rows[0].split("\t")]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):  # a repeated name keeps its first column; later ones are renamed
        if h in seen:
            seen[h] += 1
            headers[i] = f"{h}#{seen[h]}"
        else:
            seen[h] = 1
    return headers


def _parse_events(data: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for row in data.decode("latin-1").replace("\r", "").split("\n"):
        parts = row.split("\t")
        if len(parts) >= 2 and parts[0].strip().isdigit():
            out[int(parts[0])] = parts[1].strip()
    return out


def _lookups_from_tar(tar: tarfile.TarFile, where: str, path: Path) -> Lookups | None:
    """The column headers and event names in an open lookup archive (None without column headers)."""
    headers: list[str] | None = None
    events: dict[int, str] = {}
    for member in tar:
        base = Path(member.name).name.lower()
        if not member.isfile() or member.size > _LOOKUP_MAX_BYTES:
            continue
        if base == _HEADERS_FILE:
            headers = _parse_headers(_member_bytes(tar, member), f"{where}:{member.name}", path)
        elif base in _EVENT_FILES:
            events = _parse_events(_member_bytes(tar, member))
    return None if headers is None else Lookups(headers, events, where)


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    fh = tar.extractfile(member)
    return b"" if fh is None else fh.read()


def _lookup_archive(archive: Path, path: Path) -> Lookups | None:
    try:
        with tarfile.open(archive, "r:*") as tar:
            return _lookups_from_tar(tar, str(archive), path)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise LoaderError(
            f"cannot read the lookup archive {archive} (needed for {path}): {err}", path=archive
        ) from err


def _sibling_lookups(path: Path) -> Lookups | None:
    """Lookups next to a data file: ``column_headers.tsv`` (and ``event.tsv``), or a lookup archive."""
    folder = path.parent
    headers_file = _find_file(folder, _HEADERS_FILE)
    if headers_file is not None:
        events: dict[int, str] = {}
        for name in _EVENT_FILES:
            found = _find_file(folder, name)
            if found is not None:
                events = _parse_events(found.read_bytes())
                break
        return Lookups(
            _parse_headers(headers_file.read_bytes(), str(headers_file), path), events, str(folder)
        )
    m = _DELIVERY_NAME.match(path.name)
    archives = sorted(p for p in folder.iterdir() if p.is_file() and _is_lookup_archive(p.name))
    if m:  # the archive of the same report suite and day first
        prefix = f"{m.group('rsid')}_{m.group('date')}".lower()
        archives.sort(key=lambda p: not p.name.lower().startswith(prefix))
    for archive in archives:
        found_lookups = _lookup_archive(archive, path)
        if found_lookups is not None:
            return found_lookups
    return None


def _find_file(folder: Path, name: str) -> Path | None:
    exact = folder / name
    if exact.is_file():
        return exact
    for p in folder.iterdir():
        if p.name.lower() == name and p.is_file():
            return p
    return None


def _is_lookup_archive(name: str) -> bool:
    return name.lower().endswith(_LOOKUP_ARCHIVE_SUFFIXES)


def _missing_headers(path: Path) -> LoaderError:
    return LoaderError(
        f"{path}: an Adobe Data Feed hit data file has no header row, and its column names were not found: "
        f"no column_headers.tsv next to it and no *-lookup_data.tar.gz holding one in {path.parent}. "
        "Put the delivery's column_headers.tsv (and event.tsv) from its lookup files in the same folder.",
        path=path,
    )


# ----------------------------------------------------------------------------------------- detection
def _is_hit_data_name(name: str) -> bool:
    base = name.lower()
    if base.endswith(".gz"):
        base = base[:-3]
    return base.startswith("hit_data") and base.endswith(".tsv")


_ZIP_MAGIC = b"PK\x03\x04"


def _zip_opens(path: Path) -> bool:
    """True when a zip archive's directory can be read."""
    try:
        with zipfile.ZipFile(path):
            return True
    except (OSError, zipfile.BadZipFile):
        return False


def _zip_has_hit_data(path: Path) -> bool:
    """True when a zip archive lists a ``hit_data*.tsv`` member."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(_is_hit_data_name(Path(n).name.lower()) for n in zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _tar_head(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def sniff(path: Path, head: bytes) -> str | None:
    """``"adobe_feed"`` for a Data Feed archive or hit data file.

    An archive (tar, optionally gzip) is one when it holds a ``hit_data*.tsv`` member; a ``.tsv`` (or
    ``.tsv.gz``) file when it is named ``hit_data*.tsv`` or ``[index]-[rsid]_[YYYY-mm-dd].tsv``, or when
    it lies next to a ``column_headers.tsv`` whose number of columns its first row has.
    """
    name = path.name.lower()
    if _tar_head(head):
        return FORMAT if _tar_has_hit_data(path, head) else None
    if head[:4] == _ZIP_MAGIC:
        # zip archives are read only as Data Feed deliveries: a damaged one goes to the reader, which
        # says it is truncated or corrupt
        return FORMAT if _zip_has_hit_data(path) or not _zip_opens(path) else None
    base = name[:-3] if name.endswith(".gz") else name
    if not base.endswith(".tsv") or base in LOOKUP_FILES:
        return None
    if _is_hit_data_name(name):
        return FORMAT
    m = _DELIVERY_NAME.match(name)
    if m and m.group("index") and m.group("suffix").lower().startswith("tsv"):
        return FORMAT
    try:
        headers_file = _find_file(path.parent, _HEADERS_FILE)
        if headers_file is None:
            return None
        n_columns = len(_parse_headers(headers_file.read_bytes(), str(headers_file), path))
    except (OSError, LoaderError):
        return None
    fields, complete = _first_row_fields(head)
    if fields == n_columns or (not complete and fields <= n_columns):
        return FORMAT
    return None


def _first_row_fields(head: bytes) -> tuple[int, bool]:
    """Fields of the first row of ``head`` (escapes honoured) and whether the row ends within it."""
    fields, i, n = 1, 0, len(head)
    while i < n:
        ch = head[i]
        if ch == 0x5C:  # backslash: the next byte is part of the value
            i += 2
            continue
        if ch == 0x09:
            fields += 1
        elif ch == 0x0A:
            return fields, True
        i += 1
    return fields, False


def _tar_has_hit_data(path: Path, head: bytes) -> bool:
    first = Path(head[:100].split(b"\x00", 1)[0].decode("latin-1")).name
    if _is_hit_data_name(first):
        return True
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if _is_hit_data_name(Path(member.name).name):
                    return True
                if member.offset > _SNIFF_SCAN_BYTES:
                    return False
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        # unreadable past the head: a Data Feed when it is named like one or starts with its lookups
        m = _DELIVERY_NAME.match(path.name)
        return bool(m and not m.group("suffix").lower().startswith("tsv")) or first.lower() in LOOKUP_FILES
    return False


# ----------------------------------------------------------------------------------------- streams
class _Transcoded(io.RawIOBase):
    """An ISO-8859-1 byte stream re-encoded as UTF-8, with each carriage return escaped so that only a
    line feed ends a row.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._rest = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = size if size is not None and size >= 0 else 1 << 62
        pieces = [self._rest] if self._rest else []
        have = len(self._rest)
        while have < want:
            chunk = self._raw.read(max(min(want - have, _BLOCK_BYTES), 1 << 16))
            if not chunk:
                break
            if not chunk.isascii():
                chunk = chunk.decode("latin-1").encode("utf-8")
            if b"\r" in chunk:
                chunk = chunk.replace(b"\r", b"\\\r")
            pieces.append(chunk)
            have += len(chunk)
        data = b"".join(pieces)
        out, self._rest = data[:want], data[want:]
        self._pos += len(out)
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self._pos

    def at_end(self) -> bool:
        """True when the stream holds no byte at all (it is then left as it was)."""
        first = self.read(1)
        if first:
            self._rest = first + self._rest
            self._pos -= len(first)
        return not first


@contextmanager
def _open_plain(path: Path) -> Iterator[IO[bytes]]:
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
        fh.seek(0)
        if gz:
            with gzip.GzipFile(fileobj=fh, mode="rb") as g:
                yield cast(IO[bytes], g)
        else:
            yield fh


# ----------------------------------------------------------------------------------------- mapping
def _literal_list(items: list[Any], sql_type: str) -> str:
    if not items:
        return f"CAST([] AS {sql_type}[])"
    if sql_type == "VARCHAR":
        return "[" + ", ".join(lit(str(i)) for i in items) + "]"
    return f"CAST([{', '.join(str(int(i)) for i in items)}] AS {sql_type}[])"


@dataclass
class _Plan:
    """The plan's AppMeasurement names resolved for one delivery: ids, link names, action values."""

    ids: list[int]
    id_codes: list[int]  # event type code, or -1 when the action eVar decides
    id_names: list[str]
    link_keys: list[str]
    link_codes: list[int]
    action_values: list[str]
    action_codes: list[int]


def _resolve_plan(plan: TrackingPlan, events: dict[int, str]) -> _Plan:
    section = plan.to_dict()[DESTINATION]
    by_number: dict[int, list[str]] = {}
    for constant, name in section["events"].items():
        m = re.fullmatch(r"\s*event(\d+)\s*", name or "", re.IGNORECASE)
        if m:
            by_number.setdefault(int(m.group(1)), []).append(constant)
    id_number = {documented_event_id(n): n for n in by_number}
    for event_id, name in events.items():
        number = custom_event_number(name)
        if number is not None and number in by_number:
            id_number[event_id] = number
        elif event_id in id_number and (number is not None or name.lower().startswith("instance of")):
            del id_number[event_id]  # event.tsv says this id is another event
    ids = sorted(id_number)

    def code(constants: list[str]) -> int:
        return EVENT_TYPES.index(constants[0]) if len(constants) == 1 else -1

    links: dict[str, list[str]] = {}
    for constant, name in (section.get("link_names") or {}).items():
        if name:
            links.setdefault(name.strip().lower(), []).append(constant)
    actions = plan.action_values(DESTINATION)
    return _Plan(
        ids=ids,
        id_codes=[code(by_number[id_number[i]]) for i in ids],
        id_names=[f"event{id_number[i]}" for i in ids],
        link_keys=list(links),
        link_codes=[code(c) for c in links.values()],
        action_values=list(actions),
        action_codes=[EVENT_TYPES.index(c) for c in actions.values()],
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Query:
    sql: str
    columns: list[str]  # feed columns to read
    missing_fields: list[str]  # plan keys the feed has no column for


def _build_query(plan: TrackingPlan, headers: list[str], resolved: _Plan) -> _Query:
    present = set(headers)
    read: dict[str, str] = {}

    def pick(*names: str) -> str | None:
        return next((n for n in names if n in present), None)

    roles = {role: pick(*names) for role, names in _ROLES.items()}
    cols = plan.columns(DESTINATION)
    action_key = plan.action_key(DESTINATION)
    keyed = {c: k for c, k in cols.items() if c in (*_STRING_COLUMNS, "event_time_utc", "page_url")}
    if action_key:
        keyed["action"] = action_key
    missing: list[str] = []
    field_cols: dict[str, str | None] = {}
    for column, key in keyed.items():
        found = pick(f"post_{key.lower()}", key.lower())
        field_cols[column] = found
        if found is None:
            missing.append(key)
    for role, col in [*roles.items(), *field_cols.items()]:
        if col is not None:
            read[role] = col

    def c(role: str) -> str:
        return _quote(read[role]) if role in read else "CAST(NULL AS VARCHAR)"

    def value(column: str) -> str:
        expr = f"nullif({c(column)}, '')"
        return clean_id(expr) if column in ID_COLUMNS else expr

    strings = {col: value(col) for col in _STRING_COLUMNS}
    strings["page_url"] = f"coalesce({value('page_url')}, nullif(url, ''))"
    strings["visitor_id"] = (
        "CASE WHEN nullif(vh, '') IS NOT NULL AND nullif(vl, '') IS NOT NULL THEN vh || ':' || vl END"
    )
    strings["analytics_session_id"] = (
        "CASE WHEN nullif(vh, '') IS NOT NULL AND nullif(vl, '') IS NOT NULL AND nullif(vn, '') IS NOT NULL "
        "THEN vh || ':' || vl || ':' || vn || ':' || coalesce(vst, '') END"
    )
    strings["event_id"] = (
        "CASE WHEN nullif(hh, '') IS NOT NULL AND nullif(hl, '') IS NOT NULL "
        "THEN 'adobe:' || hh || ':' || hl "
        "|| CASE WHEN len(cids) > 1 THEN ':' || CAST(eid AS VARCHAR) ELSE '' END END"
    )
    shown = lit(action_key) if action_key else "NULL"
    ids = _literal_list(resolved.ids, "BIGINT")
    raw_fields = " || chr(9) || ".join(  # what a rejected row shows: the columns that were read
        f"{lit(f'{roles[role]}=')} || coalesce({role}, '')"
        for role in ("t_raw", "hh", "hl", "el_raw", "ln_raw")
        if roles[role] is not None
    )
    sql = f"""
WITH s AS (
  SELECT rn,
    {", ".join(f"{c(role)} AS {role}" for role in _ROLES)},
    nullif({c("action")}, '') AS act, {c("event_time_utc")} AS ts_raw,
    {", ".join(f"{expr} AS f_{col}" for col, expr in strings.items() if col != "event_id")}
  FROM batch
),
c AS (
  SELECT *,
    nullif(trim(ex_raw), '') AS ex,
    try_cast(trim(hs_raw) AS INTEGER) AS hs,
    CASE WHEN regexp_full_match(trim(t_raw), '[0-9]{{1,12}}')
              AND try_cast(trim(t_raw) AS BIGINT) <= {_MAX_SECONDS}
         THEN try_cast(trim(t_raw) AS BIGINT) END AS secs,
    CASE WHEN regexp_full_match(trim(ts_raw), {lit(_ISO_TIME)})
         THEN try_cast(trim(ts_raw) AS TIMESTAMPTZ) END AS ts,
    try_cast(trim(pe_raw) AS INTEGER) AS pe,
    nullif(trim(ln_raw), '') AS lname,
    list_filter(list_transform(string_split(coalesce(el_raw, ''), ','),
                               lambda x: try_cast(regexp_extract(x, '^\\s*([0-9]+)', 1) AS BIGINT)),
                lambda x: list_contains({ids}, x)) AS cid0
  FROM s
),
k AS (
  SELECT *,
    list_filter(cid0, lambda x, i: list_position(cid0, x) = i) AS cids,
    CASE WHEN pe IN (100, 10) THEN {_literal_list(resolved.link_codes, "INTEGER")}[
      list_position({_literal_list(resolved.link_keys, "VARCHAR")}, lower(lname))] END AS lcode
  FROM c
),
h AS (
  SELECT *, CASE
      WHEN ex IS NOT NULL AND ex <> '0' THEN {_Hit.EXCLUDED}
      WHEN hs IN {_DATA_SOURCE_HITS} THEN {_Hit.DATA_SOURCE}
      WHEN len(cids) > 0 THEN {_Hit.CHAT_EVENTS}
      WHEN lcode IS NOT NULL THEN {_Hit.LINK}
      ELSE {_Hit.OTHER} END AS kind,
    secs IS NOT NULL OR (ts IS NOT NULL AND (len(cids) > 0 OR lcode IS NOT NULL)) AS timed
  FROM k
),
ev AS (
  SELECT *, unnest(elist) AS eid, unnest(range(1, len(elist) + 1)) AS pos
  FROM (SELECT *, CASE WHEN kind = {_Hit.CHAT_EVENTS} THEN cids ELSE [CAST(NULL AS BIGINT)] END AS elist
        FROM h WHERE kind IN ({_Hit.CHAT_EVENTS}, {_Hit.LINK}) AND timed)
),
ev2 AS (
  SELECT *, CASE WHEN kind = {_Hit.CHAT_EVENTS} THEN {_literal_list(resolved.id_codes, "INTEGER")}[
                   list_position({ids}, eid)] ELSE lcode END AS code0
  FROM ev
),
ev3 AS (
  SELECT *, CASE WHEN code0 >= 0 THEN code0
                 ELSE {_literal_list(resolved.action_codes, "INTEGER")}[list_position(
                   {_literal_list(resolved.action_values, "VARCHAR")}, upper(trim(act)))] END AS code
  FROM ev2
)
SELECT rn, pos, pos > 1 AS extra, len(cids) > 1 AS multi,
  CAST(CASE WHEN code IS NULL THEN {Status.IGNORED} ELSE {Status.OK} END AS TINYINT) AS status,
  CASE WHEN code IS NULL THEN
    CASE WHEN kind = {_Hit.CHAT_EVENTS}
         THEN {_literal_list(resolved.id_names, "VARCHAR")}[list_position({ids}, eid)]
         ELSE lname END || coalesce(' (' || {shown} || '=' || act || ')', '') END AS name,
  CAST(NULL AS VARCHAR) AS raw,
  coalesce(ts, to_timestamp(secs)) AS event_time_utc,
  CAST(code AS TINYINT) AS code,
  CAST(CASE WHEN ts IS NOT NULL THEN 0 ELSE 1 END AS TINYINT) AS gran,
  {", ".join(f"f_{col} AS {col}" for col in strings if col != "event_id")},
  {strings["event_id"]} AS event_id
FROM ev3
UNION ALL BY NAME
SELECT rn, 0 AS pos, false AS extra, false AS multi,
  CAST(CASE WHEN kind IN ({_Hit.EXCLUDED}, {_Hit.DATA_SOURCE}) OR timed THEN {Status.IGNORED}
            WHEN nullif(trim(t_raw), '') IS NULL THEN {Status.MISSING_TIME}
            ELSE {Status.BAD_TIME} END AS TINYINT) AS status,
  CASE WHEN kind = {_Hit.EXCLUDED} THEN 'exclude_hit=' || ex
       WHEN kind = {_Hit.DATA_SOURCE} THEN 'data source hit (hit_source=' || hs || ')'
       WHEN pe = 0 THEN 'page view'
       WHEN pe IN (100, 10) THEN coalesce(lname, 'custom link')
       WHEN pe IN (101, 11) THEN coalesce(lname, 'download link')
       WHEN pe IN (102, 12) THEN coalesce(lname, 'exit link')
       WHEN pe IS NOT NULL THEN 'page_event=' || pe
       ELSE coalesce(lname, 'hit') END AS name,
  CASE WHEN kind NOT IN ({_Hit.EXCLUDED}, {_Hit.DATA_SOURCE}) AND NOT timed THEN {raw_fields} END AS raw
FROM h WHERE kind IN ({_Hit.EXCLUDED}, {_Hit.DATA_SOURCE}, {_Hit.OTHER}) OR NOT timed
ORDER BY rn, pos
"""
    return _Query(sql, sorted(set(read.values())), missing)


# ----------------------------------------------------------------------------------------- reading
@dataclass
class _Parsed:
    """What the batches of one hit data stream gave, before record numbers are known."""

    events: list[pa.Table] = field(default_factory=list)
    others: list[pa.Table] = field(default_factory=list)
    good_rows: int = 0
    bad: list[tuple[int, int, str]] = field(default_factory=list)  # record, fields found, text


def _parse_stream(
    con: duckdb.DuckDBPyConnection, stream: IO[bytes], headers: list[str], query: _Query
) -> _Parsed:
    """Parse one hit data stream in blocks and classify every row with DuckDB."""
    parsed = _Parsed()

    def on_invalid(row: Any) -> str:
        number = int(row.number) if row.number is not None else 0
        parsed.bad.append((number, int(row.actual_columns), row.text))
        return "skip"

    source = _Transcoded(stream)
    if source.at_end():
        return parsed
    reader = pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(
            column_names=headers, use_threads=False, block_size=_BLOCK_BYTES, encoding="utf8"
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter="\t",
            quote_char=False,
            escape_char="\\",
            newlines_in_values=True,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pa_csv.ConvertOptions(
            include_columns=query.columns,
            column_types=dict.fromkeys(query.columns, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    for batch in reader:
        n = batch.num_rows
        if n == 0:
            continue
        table = pa.Table.from_batches([batch]).append_column(
            "rn", pa.array(np.arange(parsed.good_rows, parsed.good_rows + n, dtype=np.int64))
        )
        parsed.good_rows += n
        con.register("batch", table)
        try:
            out = con.sql(query.sql).to_arrow_table()
        finally:
            con.unregister("batch")
        is_event = pc.equal(out.column("status"), Status.OK.value)
        events = out.filter(is_event)
        if events.num_rows:
            parsed.events.append(events)
        others = out.filter(pc.invert(is_event)).select(["rn", "extra", "status", "name", "raw"])
        if others.num_rows:
            parsed.others.append(others)
    return parsed


def _shown_names(raw: pa.Array | pa.ChunkedArray, cache: dict[str, str]) -> tuple[pa.Array, pa.Array]:
    """The names to show for ignored hits, worked out once per distinct name (scrubbed of contact
    details; an empty name is ``hit``): the distinct shown names and each hit's index into them.
    """
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    encoded = pc.fill_null(raw, "").dictionary_encode()
    for n in encoded.dictionary.to_pylist():
        cache.setdefault(n, scrub_text(n) if n else "hit")
    shown = pa.array([cache[n] for n in encoded.dictionary.to_pylist()], pa.large_string())
    return shown, encoded.indices


def _record_numbers(rows: np.ndarray, skipped: np.ndarray) -> np.ndarray:
    """Record numbers of good rows (0-based positions among the rows pyarrow kept), given the sorted
    record numbers of the rows it skipped (wrong field counts).
    """
    if len(skipped) == 0:
        return rows + 1
    before = skipped - 1 - np.arange(len(skipped))  # good rows preceding each skipped row
    return rows + 1 + np.searchsorted(before, rows, side="right")


def _finish(
    parsed: _Parsed, offset: int, result: ReadResult, label: str, notes: list[str], n_columns: int
) -> int:
    """Add a parsed stream's events, rejected and ignored records to ``result``; return rows read."""
    skipped = np.sort(np.array([b[0] for b in parsed.bad], dtype=np.int64))
    extra = 0
    multi = 0
    for table in parsed.events:
        lines = _record_numbers(table.column("rn").to_numpy(), skipped) + offset
        extra += int(pc.sum(table.column("extra")).as_py() or 0)
        multi += int(pc.sum(pc.and_(table.column("multi"), pc.invert(table.column("extra")))).as_py() or 0)
        keep = ["event_time_utc", "code", "gran", *_STRING_COLUMNS]
        keep += ["page_url", "visitor_id", "analytics_session_id", "event_id"]
        result.tables.append((table.select(keep), lines))
    names: dict[str, str] = {}
    for table in parsed.others:
        lines = _record_numbers(table.column("rn").to_numpy(), skipped) + offset
        extra += int(pc.sum(table.column("extra")).as_py() or 0)
        status = table.column("status").to_numpy()
        ign = status == Status.IGNORED
        ignored_names = table.column("name").filter(pa.array(ign))
        shown, codes = _shown_names(ignored_names, names)
        result.ignored.add_arrays(lines[ign], shown.take(codes))
        for i in np.flatnonzero(~ign).tolist():
            raw = table.column("raw")[i].as_py() or ""
            result.rejected.append(
                (int(lines[i]), REASONS[int(status[i])], raw.encode("latin-1", errors="replace"))
            )
    for number, found, text in parsed.bad:
        result.rejected.append(
            (
                number + offset,
                f"wrong number of fields (expected {n_columns}, found {found})",
                text.replace("\\\r", "\r").encode("latin-1", errors="replace"),
            )
        )
    rows = parsed.good_rows + len(parsed.bad)
    result.records += rows + extra
    if multi:
        notes.append(
            f"{label}: {multi:,} row(s) carried several chat events; each chat event is one event and one "
            "record, with the row's record number"
        )
    return rows


def _read_stream(
    ctx: ReadContext,
    path: Path,
    stream: IO[bytes],
    lookups: Lookups,
    label: str,
    result: ReadResult,
    offset: int,
) -> int:
    """Read one hit data stream into ``result``; return the number of rows read."""
    headers = lookups.headers
    if "hit_time_gmt" not in headers:
        raise LoaderError(
            f"{label}: the feed's column headers ({lookups.source}) have no hit_time_gmt column, so no hit "
            "has a time; add hit_time_gmt to the data feed's columns",
            path=path,
        )
    if not {"post_event_list", "event_list", "post_page_event_var2", "page_event_var2"} & set(headers):
        raise LoaderError(
            f"{label}: the feed's column headers ({lookups.source}) have neither post_event_list nor "
            "page_event_var2, so no chat event can be recognised; add post_event_list to the feed's columns",
            path=path,
        )
    resolved = _resolve_plan(ctx.plan, lookups.events)
    query = _build_query(ctx.plan, headers, resolved)
    if query.missing_fields:
        missing = sorted(query.missing_fields, key=lambda k: (k.rstrip("0123456789"), len(k), k))
        ctx.notes.append(
            f"{label}: the feed has no column for {', '.join(missing)} (tracking plan "
            "'appmeasurement' fields); those values are empty"
        )
    parsed = _parse_stream(ctx.con, stream, headers, query)
    return _finish(parsed, offset, result, label, ctx.notes, len(headers))


def _wrap_errors(path: Path, what: str, run: Callable[[], Any]) -> Any:
    try:
        return run()
    except LoaderError:
        raise
    except (EOFError, tarfile.TarError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as err:
        raise LoaderError(f"{path}: {what} is truncated or corrupt ({err})", path=path) from err
    except (pa.ArrowException, OSError, duckdb.Error, ValueError) as err:
        raise LoaderError(f"cannot read {path} as an Adobe Data Feed ({what}): {err}", path=path) from err


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one Data Feed hit data file (``hit_data.tsv``, ``*.tsv.gz``) or delivery archive (``.tar.gz``,
    ``.zip``).

    See :class:`chatanalytics.io.Format`. ``path`` is the hit data file or the archive; a record's number
    is its row in the hit data, and AppMeasurement variables are named by the plan's ``appmeasurement``
    section.

    Raises
    ------
    LoaderError
        The column headers cannot be found, the archive holds no hit data or is truncated, or the file
        cannot be read at all.
    """
    with path.open("rb") as fh:
        head = fh.read(2)
    if head == b"\x1f\x8b":
        with gzip.open(path, "rb") as g:
            try:
                first = g.read(512)
            except (EOFError, OSError, zlib.error) as err:
                raise LoaderError(
                    f"{path}: the gzip data is truncated or corrupt ({err})", path=path
                ) from err
    else:
        with path.open("rb") as fh:
            first = fh.read(512)
    if _tar_head(first):
        result = _wrap_errors(path, "the archive", lambda: _read_archive(ctx, path))
    elif first[:4] == _ZIP_MAGIC:
        result = _wrap_errors(path, "the zip archive", lambda: _read_zip(ctx, path))
    else:
        result = _read_hit_data(ctx, path)
    # variables are the feed's own columns: a plan eVar that never holds a value in a chat hit matched nothing
    check_filled_keys(result, path, DESTINATION, ctx.plan, list)
    return result


def _read_hit_data(ctx: ReadContext, path: Path) -> ReadResult:
    """A hit data file beside its lookups (``column_headers.tsv``, ``event.tsv``)."""
    lookups = _sibling_lookups(path)
    if lookups is None:
        raise _missing_headers(path)

    def run() -> ReadResult:
        result = ReadResult()
        with _open_plain(path) as stream:
            rows = _read_stream(ctx, path, stream, lookups, str(path), result, 0)
        _check_manifest(ctx, path, rows)
        return result

    return _wrap_errors(path, "the hit data", run)


@dataclass
class _Members:
    """What a delivery archive (tar or zip) holds: its hit data members and the lookups found in it."""

    hit: list[str] = field(default_factory=list)
    headers: list[str] | None = None
    events: dict[int, str] = field(default_factory=dict)

    def take(self, path: Path, name: str, size: int, read: Callable[[], bytes]) -> None:
        """Note one member: a hit data file, or a lookup (loose or in a nested lookup archive) read whole."""
        base = Path(name).name.lower()
        if _is_hit_data_name(base):
            self.hit.append(name)
        elif size > _LOOKUP_MAX_BYTES:
            return
        elif base == _HEADERS_FILE:
            self.headers = _parse_headers(read(), f"{path}:{name}", path)
        elif base in _EVENT_FILES:
            self.events = _parse_events(read())
        elif _is_lookup_archive(base):
            with tarfile.open(fileobj=io.BytesIO(read()), mode="r:*") as nested:
                found = _lookups_from_tar(nested, f"{path}:{name}", path)
            if found is not None:
                self.headers = self.headers or found.headers
                self.events = self.events or found.events

    def lookups(self, path: Path) -> Lookups:
        """The lookups in the archive, else those beside it; a LoaderError when there is no hit data."""
        if not self.hit:
            raise LoaderError(
                f"{path} holds no hit_data.tsv: it is not an Adobe Data Feed delivery (a lookup archive "
                "is read beside its hit data, not on its own)",
                path=path,
            )
        if self.headers is not None:
            return Lookups(self.headers, self.events, str(path))
        beside = _sibling_lookups(path)
        if beside is None:
            raise _missing_headers(path)
        return Lookups(beside.headers, self.events or beside.events, beside.source)


def _read_zip(ctx: ReadContext, path: Path) -> ReadResult:
    """A delivery compressed as zip (the feed's other compression option): the lookups in it (loose or
    as a nested lookup archive) or beside it, then each hit data member, streamed.
    """
    with zipfile.ZipFile(path) as zf:
        members = _Members()
        for info in zf.infolist():
            if not info.is_dir():
                members.take(path, info.filename, info.file_size, functools.partial(zf.read, info))
        lookups = members.lookups(path)
        result = ReadResult()
        rows = 0
        for name in members.hit:
            with zf.open(name) as fh:
                rows += _read_stream(ctx, path, fh, lookups, f"{path}:{name}", result, rows)
    _check_manifest(ctx, path, rows)
    return result


def _read_archive(ctx: ReadContext, path: Path) -> ReadResult:
    """A delivery archive: its lookups (loose, nested, or beside it), then each hit data member."""
    members = _Members()
    with path.open("rb") as raw:
        plain_size = None if raw.read(2) == b"\x1f\x8b" else path.stat().st_size
    with tarfile.open(path, "r:*") as tar:
        for member in tar:  # the whole archive is walked first, so a truncated one fails here
            if not member.isfile():
                continue
            if plain_size is not None and member.offset_data + member.size > plain_size:
                raise LoaderError(
                    f"{path}: the archive is truncated: {member.name} needs {member.size:,} bytes from byte "
                    f"{member.offset_data:,} and the file has {plain_size:,}",
                    path=path,
                )
            members.take(path, member.name, member.size, functools.partial(_member_bytes, tar, member))
        lookups = members.lookups(path)
        result = ReadResult()
        offset = 0
        rows = 0
        for name in members.hit:
            fh = tar.extractfile(name)
            if fh is None:
                continue
            label = f"{path}:{name}"
            read_rows = _read_stream(ctx, path, fh, lookups, label, result, offset)
            rows += read_rows
            offset += read_rows
    _check_manifest(ctx, path, rows)
    return result


# ----------------------------------------------------------------------------------------- manifest
def _check_manifest(ctx: ReadContext, path: Path, rows: int) -> None:
    """Compare the rows read with the ``Record-Count`` a manifest beside the file gives for it."""
    expected = manifest_record_count(path)
    if expected is not None and expected != rows:
        ctx.notes.append(
            f"{path}: the delivery manifest gives Record-Count {expected:,} for this file but {rows:,} "
            "row(s) were read (an incomplete or altered delivery)"
        )


def manifest_record_count(path: Path) -> int | None:
    """The ``Record-Count`` of ``path`` in a Data Feed manifest next to it, or None."""
    try:
        candidates = sorted(p for p in path.parent.iterdir() if p.suffix.lower() == ".txt" and p.is_file())
    except OSError:
        return None
    for manifest in candidates:
        try:
            if manifest.stat().st_size > (1 << 20):
                continue
            text = manifest.read_bytes().decode("latin-1")
        except OSError:
            continue
        if not text.lstrip().startswith("Datafeed-Manifest-Version"):
            continue
        current = None
        for line in text.splitlines():
            key, _, value = line.strip().partition(":")
            key, value = key.strip().lower(), value.strip()
            if key in ("data-file", "lookup-file"):
                current = value if key == "data-file" else None
            elif key == "record-count" and current == path.name and value.isdigit():
                return int(value)
    return None
