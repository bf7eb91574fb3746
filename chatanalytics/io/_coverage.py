"""Plan coverage: which keys of a site's tracking plan a file's records carried.

A plan key that matches nothing in a file (a report column that is absent, a parameter never seen, a
JSON path never present) would otherwise give a column of nulls and a load report that says all is
well. :func:`check_keys` records, for each key the site's plan names (its overrides; the default keys
are those the capture snippet always sends), whether the file holds it, and for each one it does not
a note and a :class:`~chatanalytics.errors.DataQualityWarning` naming the key and the closest names
that were present ("Did you mean ...?"). :func:`sample_json_keys` lists the dotted key paths of the
first records of a JSON file, for the formats whose names are keys rather than columns.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ._files import StreamState, iter_blocks
from ._plan import FIELD_COLUMNS, UA_FIELDS, TrackingPlan
from ._protocol import ReadResult

#: How many records of a JSON file are looked at for the names present (only when a key is missing).
SAMPLE_RECORDS = 2000
_DEPTH = 6


def _plain(name: str) -> str:
    """A name compared for the did-you-mean: lower case, no spaces, without a ``customEvent:``-style
    prefix.
    """
    return name.lower().replace(" ", "").rsplit(":", 1)[-1]


def closest(key: str, present: Iterable[str], n: int = 3) -> list[str]:
    """The present names closest to ``key`` (case, spaces and a ``prefix:`` ignored), closest first."""
    names: dict[str, str] = {}
    for p in present:
        if p:
            names.setdefault(_plain(p), p)
    found = difflib.get_close_matches(_plain(key), list(names), n=n, cutoff=0.6)
    return [names[f] for f in found]


def unmatched_message(path: Path, destination: str, field: str, key: str, present: Iterable[str]) -> str:
    """The note of one plan key that matched nothing in a file, with a did-you-mean when one is close."""
    near = closest(key, present)
    hint = f" Did you mean {' or '.join(repr(p) for p in near)}?" if near else ""
    return (
        f"{path}: the plan's {destination} key {key!r} (field {field!r}) matched nothing in this file, "
        f"so it filled no event.{hint}"
    )


def check_keys(
    result: ReadResult,
    path: Path,
    destination: str,
    plan: TrackingPlan,
    found: Callable[[str, str], bool],
    present: Callable[[], Iterable[str]],
    *,
    skip: Iterable[str] = (),
) -> None:
    """Record the plan keys a file used, and a note and warning for each explicit key it never held.

    Parameters
    ----------
    result : ReadResult
        The file's result: its ``plan_keys`` and, for each key that matched nothing, ``notes`` and
        ``unmatched`` get an entry.
    found : callable
        ``found(field, key) -> bool``: whether the file holds the key.
    present : callable
        The names the file holds, for the did-you-mean (called only when a key is missing).
    skip : fields
        Fields the format does not read (a report's ``ts``), left out.
    """
    skipped = set(skip)
    keys = {f: k for f, k in plan.field_keys(destination).items() if f not in skipped}
    result.plan_keys.update(keys)
    missing = [(f, k) for f, k in plan.explicit(destination).items() if f in keys and not found(f, k)]
    if not missing:
        return
    names = list(dict.fromkeys(present()))
    for field, key in missing:
        message = unmatched_message(path, destination, field, key, names)
        result.notes.append(message)
        result.unmatched.append(message)


def key_paths(obj: Any, prefix: str = "", depth: int = 0) -> Iterable[str]:
    """Every key path of a JSON object: ``chat``, ``chat.sid``, ``chat.agent.id``."""
    if not isinstance(obj, dict) or depth > _DEPTH:
        return
    for key, value in obj.items():
        path = f"{prefix}{key}"
        yield path
        yield from key_paths(value, path + ".", depth + 1)


def head_text(path: Path, limit: int = SAMPLE_RECORDS) -> str:
    """The text of a file's first blocks (gzip decompressed), enough for ``limit`` lines."""
    state = StreamState()
    text = ""
    try:
        for block in iter_blocks(path, state):
            text += block.data.decode("utf-8", "replace")
            if text.count("\n") > limit or len(text) > 8 << 20:
                break
    except OSError:
        return ""
    return text


def json_records(path: Path, limit: int = SAMPLE_RECORDS) -> list[Any]:
    """The first records (up to ``limit``) of a JSON-lines file or a JSON array, gzip or not; records
    that do not parse are left out.
    """
    body = head_text(path, limit).lstrip("\ufeff \t\r\n")
    records: list[Any] = []
    if body.startswith("["):
        decoder = json.JSONDecoder()
        at = 1
        while len(records) < limit:
            while at < len(body) and body[at] in " \t\r\n,":
                at += 1
            try:
                obj, at = decoder.raw_decode(body, at)
            except ValueError:
                break
            records.append(obj)
        return records
    for line in body.splitlines()[:limit]:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def sample_json_keys(path: Path, root: Callable[[Any], Any] = lambda r: r) -> list[str]:
    """The key paths present below ``root(record)`` in the first records of a JSON file, most
    frequent first.
    """
    counts: dict[str, int] = {}
    for record in json_records(path):
        try:
            obj = root(record)
        except (KeyError, TypeError, IndexError, ValueError):
            continue
        for key in key_paths(obj):
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda k: -counts[k])


def filled(result: ReadResult, column: str) -> bool:
    """True when some event of the result has a value in ``column``."""
    return any(
        column in table.column_names and table.column(column).null_count < table.num_rows
        for table, _ in result.tables
    )


def check_filled_keys(
    result: ReadResult,
    path: Path,
    destination: str,
    plan: TrackingPlan,
    present: Callable[[], list[str]],
    *,
    skip: Iterable[str] = (),
) -> None:
    """Plan coverage of a file of records: a field's key matched when its column has a value in some
    event, or else when it is among the names present in the first records (``present()``: for JSON the
    key paths below the plan's object, also offered in the did-you-mean). A file without events is not
    checked.
    """
    if not any(table.num_rows for table, _ in result.tables):
        result.plan_keys.update({f: k for f, k in plan.field_keys(destination).items() if f not in set(skip)})
        return
    columns = {**FIELD_COLUMNS, **UA_FIELDS}
    seen: list[list[str]] = []

    def sample() -> list[str]:
        if not seen:
            seen.append(present())
        return seen[0]

    def found(name: str, key: str) -> bool:
        column = columns.get(name)
        if name != "event" and column is not None and filled(result, column):
            return True
        return key in sample()

    check_keys(result, path, destination, plan, found, sample, skip=skip)
