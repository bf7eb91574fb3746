"""The interface every export format follows, the one per-file result type, and the format registry.

A format is any object (a module is the usual one) with

- ``FORMATS``: the names ``read_events(format=...)`` takes for the formats it reads, each with one line of
  description;
- ``sniff(path, head) -> str | None``: the format of a file from its name and its first bytes (``head``: up
  to 4 KiB, decompressed when the file is gzip), or None when it is none of them;
- ``read(ctx, path, fmt) -> ReadResult``: the file's events as Arrow tables in the canonical layout
  (``event_time_utc``, ``code``: the index into :data:`~chatanalytics.schema.EVENT_TYPES`, and the canonical
  string columns; optionally ``gran``, the per-row index into
  :data:`~chatanalytics.schema.TIME_GRANULARITIES`, and ``event_count`` for aggregated rows), with the
  record number of each row and every rejected and ignored record; optionally *derived* events (see
  :attr:`ReadResult.derived`).

:func:`register` adds a format to :data:`FORMATS` and to content detection, which tries formats by
ascending ``rank`` (registration order among equal ranks); :func:`unregister` takes it out again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import InvalidParameterError
from ._ignored import IgnoredRecords
from ._plan import TrackingPlan

#: The rank of a format registered without one: after every format recognised by a specific signature,
#: before the dataLayer and capture formats, which take any JSON object.
DEFAULT_RANK = 50


@dataclass
class ReadContext:
    """What a format reader gets besides the file.

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        A connection whose session time zone is UTC, shared by the files of one read.
    plan : TrackingPlan
        The names the site's analytics data uses for the chat events and fields.
    timezone : str or None
        The property / view / report-suite time zone given to ``read_events``.
    notes : list of str
        The load report's notes so far, to which a reader may append (a reader that appends to its
        :attr:`ReadResult.notes` instead has them added after the file's own read).
    cache : dict
        Per-read memo for a reader's prepared queries (keyed by the reader).
    totals : dict
        Counts summed over every file of the read, each with the note that reports a non-zero total
        (see :meth:`count`).
    """

    con: duckdb.DuckDBPyConnection
    plan: TrackingPlan
    timezone: str | None = None
    notes: list[str] = field(default_factory=list)
    cache: dict[str, object] = field(default_factory=dict)
    totals: dict[str, tuple[int, str]] = field(default_factory=dict)

    def queries(self, key: str, make: Callable[[TrackingPlan], tuple[str, str]]) -> tuple[str, str]:
        """A reader's (fast, guarded) queries for this read's plan, made once per read."""
        found = self.cache.get(key)
        if not isinstance(found, tuple):
            found = self.cache[key] = make(self.plan)
        return found

    def count(self, key: str, n: int, note: str) -> None:
        """Add ``n`` to the read's total ``key``; ``note`` (with ``{n:,}`` for the total) is added to the
        load report's notes after the last file when the total is not zero.
        """
        self.totals[key] = (self.totals.get(key, (0, note))[0] + n, note)

    def closing_notes(self) -> list[str]:
        """The notes of the non-zero totals, in the order their keys were first counted."""
        return [note.format(n=n) for n, note in self.totals.values() if n]


@dataclass
class ReadResult:
    """What a format read from one file (or one block of it).

    Attributes
    ----------
    tables : list of (pyarrow.Table, numpy.ndarray)
        Events in the canonical Arrow layout, each table with the 1-based record number of every row.
    records : int
        Records read (events, rejected and ignored ones; blank lines are no records).
    rejected : list of (int, str, bytes)
        Rejected records: record number, reason, raw bytes.
    ignored : IgnoredRecords
        Valid records that are not chat events, with their names.
    notes : list of str
        Notes for the load report.
    plan_keys : dict
        Plan field -> the key the reader looked for (for the load report's plan coverage).
    unmatched : list of str
        The notes of plan keys that matched nothing in the file; each also becomes a
        :class:`~chatanalytics.errors.DataQualityWarning`.
    derived : list of (pyarrow.Table, numpy.ndarray, str)
        Events read from a field of a record that is already an event (Marketo's ``Conversation
        Status`` gives a ``CONVERSATION_COMPLETED`` besides the ``CONVERSATION_ENGAGED``), in the layout
        of :attr:`tables`, each table with the record number of every row and the field it was read
        from. They are no records: ``records`` counts their record once, as an event.
    """

    tables: list[tuple[pa.Table, np.ndarray]] = field(default_factory=list)
    records: int = 0
    rejected: list[tuple[int, str, bytes]] = field(default_factory=list)
    ignored: IgnoredRecords = field(default_factory=IgnoredRecords)
    notes: list[str] = field(default_factory=list)
    plan_keys: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    derived: list[tuple[pa.Table, np.ndarray, str]] = field(default_factory=list)

    def add(self, other: ReadResult) -> None:
        """Take in the records of another result (a later block of the same file)."""
        self.records += other.records
        self.rejected.extend(other.rejected)
        self.ignored.extend(other.ignored)
        self.notes.extend(other.notes)
        self.plan_keys.update(other.plan_keys)
        self.unmatched.extend(other.unmatched)
        self.tables.extend((t, lines) for t, lines in other.tables if t.num_rows)
        self.derived.extend(d for d in other.derived if d[0].num_rows)

    def add_table(self, table: pa.Table, lines: np.ndarray) -> None:
        """Add a table of events (kept only when it has rows)."""
        if table.num_rows:
            self.tables.append((table, lines))

    def add_derived(self, table: pa.Table, lines: np.ndarray, source: str) -> None:
        """Add a table of derived events read from the field ``source`` (kept only when it has rows)."""
        if table.num_rows:
            self.derived.append((table, lines, source))


class Format(Protocol):
    """An export format (see the module docstring); a module with these three names is one."""

    @property
    def FORMATS(self) -> Mapping[str, str]:  # noqa: N802 (a module constant in a format module)
        """Name -> one line of description, for each format name the reader takes."""

    def sniff(self, path: Path, head: bytes) -> str | None:
        """The name of the format of the file, or None."""

    def read(self, ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
        """The events, rejected and ignored records of one file in format ``fmt``."""


@dataclass
class _Entry:
    fmt: Format
    rank: int
    order: int


_REGISTRY: list[_Entry] = []
_ORDER = [0]

#: Every registered format's name and description, in registration order (``ca.FORMATS``).
FORMATS: dict[str, str] = {}


def register(fmt: Format, *, rank: int = DEFAULT_RANK) -> Format:
    """Add a format to ``read_events``: to :data:`FORMATS` and to content detection.

    Parameters
    ----------
    fmt : Format
        The format (a module or object with ``FORMATS``, ``sniff`` and ``read``).
    rank : int, default DEFAULT_RANK
        Detection tries formats by ascending rank.

    Returns
    -------
    Format
        ``fmt``, so that registration can decorate a class.

    Raises
    ------
    InvalidParameterError
        A name in ``fmt.FORMATS`` is already registered.
    """
    taken = [name for name in fmt.FORMATS if name in FORMATS]
    if taken:
        raise InvalidParameterError("format", taken[0], reason="a format of this name is already registered")
    _ORDER[0] += 1
    _REGISTRY.append(_Entry(fmt, rank, _ORDER[0]))
    _REGISTRY.sort(key=lambda e: (e.rank, e.order))
    FORMATS.update(fmt.FORMATS)
    return fmt


def unregister(fmt: Format) -> None:
    """Take a registered format out of :data:`FORMATS` and detection (nothing happens if it is not in)."""
    for entry in [e for e in _REGISTRY if e.fmt is fmt]:
        _REGISTRY.remove(entry)
        for name in entry.fmt.FORMATS:
            FORMATS.pop(name, None)


def formats() -> list[Format]:
    """The registered formats, in detection order."""
    return [e.fmt for e in _REGISTRY]


def by_name() -> dict[str, Format]:
    """Format name -> format, for every registered format (one format may read several names)."""
    return {name: e.fmt for e in _REGISTRY for name in e.fmt.FORMATS}


def detect(path: Path, head: bytes) -> str | None:
    """The name given by the first format (in detection order) whose ``sniff`` accepts the file, or None."""
    for entry in _REGISTRY:
        found = entry.fmt.sniff(path, head)
        if found:
            return str(found)
    return None
