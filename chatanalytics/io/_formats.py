"""The export formats read through a common interface, in the order content detection tries them.

Each format module has:

- ``FORMATS``: the names ``read_events(format=...)`` takes for the formats it reads, each with one
  line of description;
- ``sniff(path, head) -> str | None``: the format of a file, from its name and its first bytes
  (``head``: up to 4 KiB, decompressed when the file is gzip), or None when it is none of them;
- ``read(ctx, path, fmt) -> Result`` (:class:`chatanalytics.io._ga4.Result`): the file's events as
  Arrow tables in the canonical layout
  (``event_time_utc``, ``code`` and the canonical string columns; optionally ``gran``, the per-row index
  into :data:`~chatanalytics.schema.TIME_GRANULARITIES`, and ``event_count`` for aggregated rows),
  with the record number of each row and every rejected and ignored record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import duckdb

from ._plan import TrackingPlan


@dataclass
class ReadContext:
    """What a format reader gets besides the file: a DuckDB connection (session time zone UTC), the
    tracking plan, the property / report-suite time zone given to ``read_events`` (or None), and the
    load report's notes, to which it may append."""

    con: duckdb.DuckDBPyConnection
    plan: TrackingPlan
    timezone: str | None = None
    notes: list[str] = field(default_factory=list)


def readers() -> list[ModuleType]:
    """The format modules, in detection order (the most specific signatures first)."""
    from . import _adobe_feed, _ga4_reports, _marketo, _segment, _snowplow, _ua, _xdm

    return [
        _adobe_feed,
        _marketo,
        _snowplow,
        _ga4_reports,
        _ua,
        _segment,
        _xdm,
    ]


def by_name() -> dict[str, ModuleType]:
    """Format name -> module, for every format module (a module may read several formats)."""
    return {name: mod for mod in readers() for name in mod.FORMATS}


def detect(path: Path, head: bytes) -> str | None:
    """The name of the first format whose ``sniff`` accepts the file, or None."""
    for mod in readers():
        found = mod.sniff(path, head)
        if found:
            return str(found)
    return None
