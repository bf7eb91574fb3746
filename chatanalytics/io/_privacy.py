"""Keep visitors' email addresses and phone numbers out of every frame.

Loaders read only the documented payload keys, so a payload field such as ``email`` or ``phone`` is never
read. Free-text values that can still carry contact details are scrubbed here:

- ``page_url``: a query-string or fragment parameter whose name is contact-like (``email``, ``mail``,
  ``phone``, ``tel``, ``mobile``, ``cell``, ``fax``, ``sms``, ``whatsapp``) or whose (URL-decoded) value
  looks like an email address or a phone number becomes ``name=[redacted]``; an email address anywhere
  else in the URL (for example in the path) becomes ``[redacted]``.
- ``meeting_info`` (raw JSON text): values under contact-like keys become ``"[redacted]"``; email
  addresses and phone numbers anywhere in its strings become ``[redacted]``.
- ``conversation_name``, ``agent_name``: email addresses and phone numbers become ``[redacted]``.
- ``visitor_id``, ``session_id``, ``analytics_session_id``, ``conversation_id``, ``agent_id``,
  ``event_id``: an id that is an email address is replaced by ``redacted-`` and 16 hex digits of its
  SHA-256, so visitors (and sessions, agents...) stay distinct but unreadable.

A phone number is a value of 7 to 15 digits written with a leading ``+`` (or ``00``) or with separators
(space, ``-``, ``.``, ``/``, parentheses): ``+1 555 0100 123``, ``(555) 010-0123``. A bare run of digits
(``4471902``, a timestamp), a date (``2026-10-05``, ``10/05/2026``) or an IPv4 address is not treated
as a phone number unless its parameter name is contact-like.

The work is done once per distinct value, not once per row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from urllib.parse import unquote_plus

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import STRING
from ._arrow import map_distinct

REDACTED = "[redacted]"

#: Id columns: an id that is an email address is pseudonymised.
ID_COLUMNS = ("visitor_id", "session_id", "analytics_session_id", "conversation_id", "agent_id", "event_id")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.I)
_CONTACT_KEY = re.compile(r"e[-_]?mail|mail|phone|tel|mobile|cell|fax|sms|whatsapp", re.I)
_PHONE_CHARS = re.compile(r"\s*(?:\+|00)?[\d\s().\-/]+\s*")
_NOT_PHONE = re.compile(
    r"\s*(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\s*"
)
# a phone number inside free text: international (+ or 00 prefix) or grouped digits with separators
_PHONE_IN_TEXT = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d[\d\s().\-/]{5,}\d|\(?\d{2,4}\)?[\s.\-/]\d{2,4}[\s.\-/]\d{3,4}(?:[\s.\-/]\d{2,4})?)(?![\w])"
)
_URL_PARAM = re.compile(r"([?&;#])([^=&;#]*)=([^&;#]*)")
_JSON_KEYED = re.compile(r'"([^"\\]*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+\-]*)')
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def looks_like_phone(value: str) -> bool:
    """True for 7-15 digits written with a leading ``+``/``00`` or with separators."""
    if not _PHONE_CHARS.fullmatch(value) or _NOT_PHONE.fullmatch(value):
        return False
    digits = sum(ch.isdigit() for ch in value)
    if not 7 <= digits <= 15:
        return False
    stripped = value.strip()
    return stripped.startswith(("+", "00")) or any(ch in stripped for ch in " ().-/")


def looks_like_email(value: str) -> bool:
    return _EMAIL.search(value) is not None


def scrub_url(url: str) -> str:
    """Redact contact details from one URL (see the module docstring)."""

    def param(m: re.Match[str]) -> str:
        sep, key, value = m.group(1), m.group(2), m.group(3)
        decoded = unquote_plus(value)
        if value and (
            _CONTACT_KEY.search(unquote_plus(key)) or looks_like_email(decoded) or looks_like_phone(decoded)
        ):
            return f"{sep}{key}={REDACTED}"
        return m.group(0)

    return _EMAIL.sub(REDACTED, _URL_PARAM.sub(param, url))


def scrub_json_text(text: str) -> str:
    """Redact contact details from raw JSON text such as ``meetingInfo``."""

    def keyed(m: re.Match[str]) -> str:
        if _CONTACT_KEY.search(m.group(1)):
            return f'"{m.group(1)}"{m.group(2)}"{REDACTED}"'
        return m.group(0)

    def string(m: re.Match[str]) -> str:
        inner = m.group(1)
        if looks_like_phone(inner):
            return f'"{REDACTED}"'
        return f'"{_redact_phones(inner)}"'

    out = _JSON_KEYED.sub(keyed, text)
    out = _EMAIL.sub(REDACTED, out)
    return _JSON_STRING.sub(string, out)


def _redact_phones(text: str) -> str:
    return _PHONE_IN_TEXT.sub(lambda m: REDACTED if looks_like_phone(m.group(0)) else m.group(0), text)


def scrub_text(text: str) -> str:
    """Redact email addresses and phone numbers in free text."""
    return _redact_phones(_EMAIL.sub(REDACTED, text))


def pseudonymise_id(value: str) -> str:
    """An id that is an email address becomes ``redacted-<16 hex digits>``; others are unchanged."""
    if looks_like_email(value):
        return "redacted-" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
    return value


# Which values can hold contact details, as an RE2 pattern run on the whole column in Arrow (a superset:
# the Python rules above decide). Only matching distinct values go through those rules, so a column with
# many distinct values (meeting ids, tracking parameters) costs one vectorised scan.
_CONTACT_WORDS = r"e[-_]?mail|mail|phone|tel|mobile|cell|fax|sms|whatsapp"
_SEP = r"(?:[ ().\-/]|%20|%28|%29)+"
MAY_HOLD_PHONE = rf"(?:\+|%2[bB])\d|\d{{2,4}}{_SEP}\d{{2,4}}{_SEP}\d{{3,4}}"
PREFILTERS: dict[str, str] = {
    "page_url": rf"@|%40|(?i:{_CONTACT_WORDS})[^=&#;]*=|{MAY_HOLD_PHONE}",
    "meeting_info": rf"@|(?i:{_CONTACT_WORDS})|{MAY_HOLD_PHONE}",
    "conversation_name": rf"@|%40|{MAY_HOLD_PHONE}",
    "agent_name": rf"@|%40|{MAY_HOLD_PHONE}",
    **dict.fromkeys(
        ("visitor_id", "session_id", "analytics_session_id", "conversation_id", "agent_id", "event_id"),
        "@|%40",
    ),
}
_RULES: dict[str, Callable[[str], str]] = {
    "page_url": scrub_url,
    "meeting_info": scrub_json_text,
    "conversation_name": scrub_text,
    "agent_name": scrub_text,
    **dict.fromkeys(ID_COLUMNS, pseudonymise_id),
}


#: Id columns have many distinct values: their rows are searched for ``@`` directly. The free-text
#: columns have few distinct values (or, for meeting_info, few non-null ones): their distinct values are
#: found first and only those are searched.
_ROW_SCAN = ID_COLUMNS


def scrub_table(table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """Scrub every free-text canonical column of an Arrow table; return it and rows changed per column."""
    changed: dict[str, int] = {}
    present = [c for c in _RULES if c in table.column_names and table.column(c).null_count < table.num_rows]
    flagged = _ids_with_at(table, [c for c in present if c in _ROW_SCAN])
    for column in present:
        rule, col = _RULES[column], table.column(column)
        if column in _ROW_SCAN:
            if column not in flagged:
                continue
            hits = [pc.match_substring(col, needle) for needle in ("@", "%40")]
            new, n = map_distinct(col, rule, candidates=pc.fill_null(pc.or_(*hits), False))
        else:
            new, n = map_distinct(col, rule, prefilter=PREFILTERS[column])
        if n:
            table = table.set_column(table.column_names.index(column), column, new)
            changed[column] = n
    return table, changed


def _ids_with_at(table: pa.Table, columns: list[str]) -> set[str]:
    """The id columns in which some value holds ``@`` or ``%40`` (one parallel DuckDB scan)."""
    if not columns:
        return set()
    checks = ", ".join(f"bool_or(contains({c}, '@') OR contains({c}, '%40')) AS {c}" for c in columns)
    con = duckdb.connect()
    try:
        con.register("ids", table.select(columns))
        row = con.sql(f"SELECT {checks} FROM ids").fetchall()[0]
    finally:
        con.close()
    return {c for c, hit in zip(columns, row or (), strict=True) if hit}


def scrub_frame(df: pd.DataFrame) -> dict[str, int]:
    """Scrub a canonical pandas frame in place (see :func:`scrub_table`)."""
    cols = [c for c in _RULES if c in df.columns]
    table = pa.Table.from_pandas(df[cols], preserve_index=False)
    table, changed = scrub_table(table)
    for column in changed:
        df[column] = pd.Series(table.column(column), dtype=STRING, index=df.index)
    return changed
