"""SQL pieces shared by the format readers: their DuckDB database, record statuses, literals, event-name
lookups, id cleaning.

Every reader classifies each record with one :class:`Status` in its DuckDB query; the load report names a
rejected record by :data:`REASONS`. Statuses are written into SQL through their enum members
(``f"{Status.MISSING_TIME}"`` renders ``4``), so a query never holds a bare status number.
"""

from __future__ import annotations

import enum
import threading
from typing import Any

from ..schema import EVENT_TYPES, TIME_RANGE

_DATABASE: list[Any] = []
_DATABASE_LOCK = threading.Lock()

#: After a read of at least this many records, :func:`release` lets the readers' database go.
RELEASE_AFTER_RECORDS = 200_000


def cursor() -> Any:
    """A new DuckDB connection to the readers' in-process database, its session time zone UTC.

    Opening a DuckDB database costs about 40 ms, a connection to an open one under a millisecond: every
    read shares one database and takes its own connection (its registered tables are its own), which the
    caller closes. The database keeps insertion order and hands text to Arrow as ``large_string``, as
    pandas keeps it.
    """
    import duckdb

    with _DATABASE_LOCK:
        if not _DATABASE:
            database = duckdb.connect()
            database.execute("SET preserve_insertion_order = true")
            database.execute("SET arrow_large_buffer_size = true")
            _DATABASE.append(database)
        con = _DATABASE[0].cursor()
    con.execute("SET TimeZone = 'UTC'")
    return con


def release() -> None:
    """Give back the memory a large read freed: let the readers' database go and empty Arrow's pool of
    freed memory. The next :func:`cursor` opens a new database (about 40 ms).

    DuckDB's threads keep memory they freed for their next task until their database closes, and Arrow's
    allocator keeps freed memory for reuse: after reading 10 million records, 1 GiB and 0.5 GiB beside a
    frame of 3 GiB. The database closes when the last connection to it does, so a read still running in
    another thread keeps its connection.
    """
    import pyarrow as pa

    with _DATABASE_LOCK:
        _DATABASE.clear()
    pa.default_memory_pool().release_unused()


class Status(enum.IntEnum):
    """What a reader's query made of one record."""

    OK = 0
    NON_UTF8 = 1
    MALFORMED_JSON = 2
    NOT_OBJECT = 3
    MISSING_TIME = 4
    BAD_TIME = 5
    MISSING_EVENT_NAME = 6
    MISSING_EVENT_TYPE = 7
    IGNORED = 9
    WRONG_WIDTH = 10
    TIME_OUT_OF_RANGE = 11


#: The reason of a record whose time lies outside :data:`~chatanalytics.schema.TIME_RANGE`.
TIME_OUT_OF_RANGE = "time out of range"

#: The load report's reason for each rejecting status.
REASONS: dict[int, str] = {
    Status.NON_UTF8: "non-UTF-8 bytes",
    Status.MALFORMED_JSON: "malformed JSON",
    Status.NOT_OBJECT: "not a JSON object",
    Status.MISSING_TIME: "missing time",
    Status.BAD_TIME: "unparseable time",
    Status.MISSING_EVENT_NAME: "missing event name",
    Status.MISSING_EVENT_TYPE: "missing event type",
    Status.WRONG_WIDTH: "wrong number of columns",
    Status.TIME_OUT_OF_RANGE: TIME_OUT_OF_RANGE,
}

#: The reason of the one record that stands for the unreadable rest of a corrupt gzip stream.
UNREADABLE = "unreadable compressed data"

#: Canonical columns holding identifiers (a whole number written as a double loses its ``.0``).
ID_COLUMNS = ("conversation_id", "session_id", "agent_id", "event_id", "visitor_id")

#: SQL telling a JSON text that is not an object (``NOT_OBJECT``) from an object without a time.
NOT_OBJECT_OR_NO_TIME = (
    f"CASE WHEN json_type(text) <> 'OBJECT' THEN {Status.NOT_OBJECT} ELSE {Status.MISSING_TIME} END"
)


def status_sql(*checks: tuple[str, object]) -> str:
    """A record's status as a TINYINT SQL expression: the first check that holds, else ``Status.OK``.

    ``checks`` are ``(condition, status)`` pairs in order; a status may be a :class:`Status` or an SQL
    expression giving one. A JSON-lines reader always tests ``NOT valid`` (malformed JSON) first.

    Examples
    --------
    >>> status_sql(("t IS NULL", Status.BAD_TIME))
    'CAST(CASE WHEN NOT valid THEN 2 WHEN t IS NULL THEN 5 ELSE 0 END AS TINYINT)'
    """
    whens = [f"WHEN NOT valid THEN {int(Status.MALFORMED_JSON)}"]
    whens += [f"WHEN {cond} THEN {int(st) if isinstance(st, Status) else st}" for cond, st in checks]
    return f"CAST(CASE {' '.join(whens)} ELSE {int(Status.OK)} END AS TINYINT)"


#: The check that ignores a valid record whose event is not a chat event (no event-type ``code``).
IGNORED_CHECK: tuple[str, object] = ("code IS NULL", Status.IGNORED)


def time_checks(
    raw: str, parsed: str, missing: object = Status.MISSING_TIME, *, micros: bool = False
) -> tuple[tuple[str, object], ...]:
    """The :func:`status_sql` checks of a record's time: ``raw`` NULL is ``missing`` (a :class:`Status` or
    an SQL expression giving one), ``parsed`` NULL is ``Status.BAD_TIME``, and ``parsed`` outside
    :data:`~chatanalytics.schema.TIME_RANGE` is ``Status.TIME_OUT_OF_RANGE``. ``parsed`` is a timestamp,
    or with ``micros`` a whole number of microseconds since the epoch.

    Examples
    --------
    >>> time_checks("ts", "us", micros=True)[2]
    ('us NOT BETWEEN 0 AND 7258118399999999', <Status.TIME_OUT_OF_RANGE: 11>)
    """
    return (
        (f"{raw} IS NULL", missing),
        (f"{parsed} IS NULL", Status.BAD_TIME),
        (f"{parsed} NOT BETWEEN {time_bounds_sql(micros=micros)}", Status.TIME_OUT_OF_RANGE),
    )


def time_bounds_sql(*, micros: bool = False) -> str:
    """``lo AND hi``: the ends of :data:`~chatanalytics.schema.TIME_RANGE` as SQL (TIMESTAMPTZ literals,
    or with ``micros`` microseconds since the epoch), for ``x BETWEEN ...``.
    """
    lo, hi = TIME_RANGE
    if micros:
        return f"{lo.value // 1000} AND {hi.value // 1000}"  # pandas keeps nanoseconds since the epoch
    return f"TIMESTAMPTZ '{lo.isoformat()}' AND TIMESTAMPTZ '{hi.isoformat()}'"


def lit(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def lit_list(items: list[str]) -> str:
    """``items`` as an SQL list of string literals."""
    return "[" + ", ".join(lit(i) for i in items) + "]"


#: The characters trimmed from both ends of an event name: every Unicode white space character (tab,
#: line ends, NBSP, the typographic spaces, ideographic space; ``str.isspace``), the zero-width space
#: and a stray byte-order mark.
SPACE_CHARS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "\u200b\ufeff"


def strip_sql(expr: str) -> str:
    """SQL for ``expr`` without the :data:`SPACE_CHARS` at its ends.

    Examples
    --------
    >>> strip_sql("ev").startswith("trim(ev, ")
    True
    """
    return f"trim({expr}, {lit(SPACE_CHARS)})"


def lookup_code(names: dict[str, str], expr: str) -> str:
    """SQL giving the event-type code (0-10) of ``expr`` (white space around it trimmed, see
    :func:`strip_sql`) through ``names`` (name -> constant), or NULL.
    """
    if not names:
        return "CAST(NULL AS TINYINT)"
    keys = list(names)
    codes = "[" + ", ".join(str(EVENT_TYPES.index(names[k])) for k in keys) + "]"
    return f"{codes}[list_position({lit_list(keys)}, {strip_sql(expr)})]"


def clean_id(expr: str) -> str:
    """SQL for an id without the ``.0`` of a whole number written as a double (``4471902.0``)."""
    whole = f"regexp_replace({expr}, '^(-?[0-9]+)\\.0+$', '\\1')"
    return f"CASE WHEN suffix({expr}, '.0') THEN {whole} ELSE {expr} END"
