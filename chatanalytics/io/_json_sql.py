"""SQL and head helpers shared by the readers of JSON records (dataLayer, AEP XDM, Segment).

Times are ISO-8601 (any offset; none is UTC) or epoch seconds (10 digits) or milliseconds (13 digits).
Queries may add note columns (``naive``, ``from_original``); :func:`note_counts` sums and drops them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._protocol import ReadResult
from ._sql import ID_COLUMNS, clean_id, lit

#: Columns the queries add for the reader's notes; dropped before the tables are returned.
NOTE_COLUMNS = ("naive", "from_original")

#: The payload fields (capture-plan names) the Segment and XDM readers select, by the canonical column each
#: fills, in the order of the query's columns.
PAYLOAD_FIELDS = {
    "session_id": "sid",
    "conversation_id": "id",
    "conversation_name": "name",
    "conversation_type": "type",
    "ui_type": "uiType",
    "agent_id": "agentID",
    "agent_name": "agentName",
    "meeting_info": "meetingInfo",
}


def time_text(ts: str) -> str:
    """SQL turning the text ``ts`` into a timestamp (epoch milliseconds or seconds, else ISO-8601)."""
    return f"""CASE
         WHEN length({ts}) = 13 AND regexp_full_match({ts}, '[0-9]{{13}}')
           THEN make_timestamp(CAST({ts} AS BIGINT) * 1000)
         WHEN length({ts}) = 10 AND regexp_full_match({ts}, '[0-9]{{10}}')
           THEN make_timestamp(CAST({ts} AS BIGINT) * 1000000)
         ELSE try_cast({ts} AS TIMESTAMPTZ) END"""


def ident(name: str) -> str:
    """A quoted SQL identifier (a struct field name)."""
    return '"' + name.replace('"', '""') + '"'


def time_sql(expr: str) -> str:
    """SQL turning a text time into TIMESTAMPTZ: ISO-8601 (any offset; none is UTC), or epoch seconds
    (10 digits) or milliseconds (13 digits). NULL when it does not parse.
    """
    return f"CAST(({time_text(f'trim({expr})')}) AS TIMESTAMPTZ)"


def naive_sql(expr: str, parsed: str) -> str:
    """SQL: true when ``expr`` parsed (``parsed`` is not NULL) as an ISO time carrying no UTC offset."""
    offset = r"(?i)(z|utc|[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*[+-][0-9]{2}(:?[0-9]{2})?)$"
    return (
        f"({parsed} IS NOT NULL AND NOT regexp_full_match(trim({expr}), '[0-9]{{10}}|[0-9]{{13}}') "
        f"AND NOT regexp_matches(trim({expr}), {lit(offset)}))"
    )


def id_column(expr: str, column: str) -> str:
    """``expr AS column``, ids without a ``.0`` decimal part."""
    return f"{clean_id(f'({expr})') if column in ID_COLUMNS else expr} AS {column}"


def structure(tree: dict[str, Any]) -> str:
    """A ``from_json`` structure (JSON text) from a nested dict of keys."""
    return json.dumps(tree, ensure_ascii=False)


def set_path(tree: dict[str, Any], path: list[str], leaf: dict[str, Any]) -> None:
    """Merge ``leaf`` into ``tree`` at ``path`` (a list of keys), making the objects on the way."""
    node = tree
    for key in path:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node.update(leaf)


def add_key(tree: dict[str, Any], key: str) -> None:
    """Add a plan key to a ``from_json`` structure as text: a dotted key (``chat.sid``) both as the
    nested path and as the literal key, so that either layout is read (see :func:`key_sql`).
    """
    parts = key.split(".")
    set_path(tree, parts[:-1], {parts[-1]: "VARCHAR"})
    if len(parts) > 1:
        tree[key] = "VARCHAR"


def key_sql(root: str, key: str) -> str:
    """SQL reading a plan key from the struct ``root`` made with :func:`add_key`: a dotted key is the
    nested object's value (``{"chat": {"sid": ...}}``), else a key literally named ``chat.sid``.
    """
    parts = key.split(".")
    nested = root + "".join("." + ident(p) for p in parts)
    return nested if len(parts) == 1 else f"coalesce({nested}, {root}.{ident(key)})"


def json_paths(key: str) -> list[str]:
    """The JSON paths of a plan key for ``json_extract_string``: the nested path of a dotted key, then
    the literal key (coalesce them in that order).
    """
    parts = key.split(".")
    nested = "$." + ".".join(json.dumps(p) for p in parts)
    return [nested] if len(parts) == 1 else [nested, "$." + json.dumps(key)]


def first_record(head: bytes) -> tuple[dict[str, Any] | None, bytes]:
    """The first record of a JSON-lines file or JSON array, from the file's first bytes.

    Returns the record when it is a whole JSON object within ``head``; otherwise None and the bytes
    seen of it (the first line, or what follows the array's ``[``), for a check on its keys' text.
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"[":
        text = text[1:].lstrip(b" \t\r\n")
        fragment = text
    else:
        fragment = text.split(b"\n", 1)[0]
    if fragment[:1] != b"{":
        return None, b""
    try:
        obj, _ = json.JSONDecoder().raw_decode(fragment.decode("utf-8", "ignore"))
    except ValueError:
        return None, fragment
    return (obj, b"") if isinstance(obj, dict) else (None, b"")


def has_key(fragment: bytes, key: str) -> bool:
    """True when ``"key":`` occurs in the text (at any depth: the fallback for a record cut by the head)."""
    return re.search(re.escape(json.dumps(key).encode()) + rb"\s*:", fragment) is not None


def note_counts(result: ReadResult) -> dict[str, int]:
    """Sum the note columns (``naive``, ``from_original``) of the event tables and drop them."""
    counts = dict.fromkeys(NOTE_COLUMNS, 0)
    tables: list[tuple[pa.Table, np.ndarray]] = []
    for table, lines in result.tables:
        for column in NOTE_COLUMNS:
            if column in table.column_names:
                counts[column] += int(pc.sum(table.column(column).cast(pa.int64())).as_py() or 0)
        drop = [c for c in NOTE_COLUMNS if c in table.column_names]
        tables.append((table.drop_columns(drop), lines))
    result.tables = tables
    return counts


def unique_names(table: dict[str, str | None]) -> dict[str, str]:
    """Constant -> name, inverted, for names that stand for exactly one constant."""
    names: dict[str, list[str]] = {}
    for constant, name in table.items():
        if name:
            names.setdefault(name, []).append(constant)
    return {name: cs[0] for name, cs in names.items() if len(cs) == 1}
