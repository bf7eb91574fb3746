"""SQL pieces shared by the format readers: record statuses, literals, event-name lookups, id cleaning.

Every reader classifies each record with one :class:`Status` in its DuckDB query; the load report names a
rejected record by :data:`REASONS`. Statuses are written into SQL through their enum members
(``f"{Status.MISSING_TIME}"`` renders ``4``), so a query never holds a bare status number.
"""

from __future__ import annotations

import enum

from ..schema import EVENT_TYPES


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
    raw: str, parsed: str, missing: object = Status.MISSING_TIME
) -> tuple[tuple[str, object], ...]:
    """The :func:`status_sql` checks of a record's time: ``raw`` NULL is ``missing`` (a :class:`Status` or
    an SQL expression giving one), else ``parsed`` NULL is ``Status.BAD_TIME``.
    """
    return (f"{raw} IS NULL", missing), (f"{parsed} IS NULL", Status.BAD_TIME)


def lit(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def lit_list(items: list[str]) -> str:
    """``items`` as an SQL list of string literals."""
    return "[" + ", ".join(lit(i) for i in items) + "]"


def lookup_code(names: dict[str, str], expr: str) -> str:
    """SQL giving the event-type code (0-10) of ``expr`` through ``names`` (name -> constant), or NULL."""
    if not names:
        return "CAST(NULL AS TINYINT)"
    keys = list(names)
    codes = "[" + ", ".join(str(EVENT_TYPES.index(names[k])) for k in keys) + "]"
    return f"{codes}[list_position({lit_list(keys)}, {expr})]"


def clean_id(expr: str) -> str:
    """SQL for an id without the ``.0`` of a whole number written as a double (``4471902.0``)."""
    whole = f"regexp_replace({expr}, '^(-?[0-9]+)\\.0+$', '\\1')"
    return f"CASE WHEN suffix({expr}, '.0') THEN {whole} ELSE {expr} END"
