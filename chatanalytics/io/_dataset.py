"""Canonical events as a partitioned Parquet dataset, and such a dataset opened lazily for the analyses.

``write_dataset`` writes one folder per UTC day, Hive style
(``events/event_date=2026-11-02/part-<uuid>.parquet``), so an engine reading the dataset skips the days a
query filters out, and a dataset grows by adding files (one ``chatanalytics convert --append`` per new
export). ``open_events`` opens such a dataset (or any canonical Parquet files) as an Ibis table on DuckDB: the
analyses then run inside DuckDB, which streams the files, and only their results come back to Python, so a
dataset larger than memory can be analysed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from ..errors import InvalidParameterError, LoaderError
from ..schema import COLUMNS, validate_events

__all__ = ["open_events", "write_dataset"]

#: The partition column added to every file's path (the UTC date of ``event_time_utc``).
PARTITION = "event_date"


def write_dataset(events: pd.DataFrame, directory: str | os.PathLike[str], *, append: bool = False) -> int:
    """Write canonical events as Parquet files partitioned by UTC day under ``directory``.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events (:func:`chatanalytics.read_events`).
    directory : path
        The dataset's folder. It is created; it must be empty (or absent) unless ``append``.
    append : bool, default False
        Add new files beside those already there (each run writes files with fresh names). Events are
        not de-duplicated against what the folder already holds.

    Returns
    -------
    int
        The number of Parquet files written.

    Raises
    ------
    InvalidParameterError
        ``directory`` is a file, or a non-empty folder without ``append``.

    Examples
    --------
    >>> import chatanalytics as ca, tempfile
    >>> from chatanalytics.io import write_dataset
    >>> folder = tempfile.mkdtemp()
    >>> write_dataset(ca.load_sample(), folder) > 1
    True
    >>> t = ca.open_events(folder)
    >>> int(t.count().execute()) == len(ca.load_sample())
    True
    """
    validate_events(events)
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError("directory", str(out), reason="is a file; a dataset is a folder")
    if out.is_dir() and any(out.iterdir()) and not append:
        raise InvalidParameterError(
            "directory", str(out), reason="is not empty: pass append=True (--append) to add files to it"
        )
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.rglob("*.parquet"))
    table = pa.Table.from_pandas(events[list(COLUMNS)], preserve_index=False)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET preserve_insertion_order = true")
        con.register("ev", table)
        target = str(out).replace("'", "''")
        con.execute(
            f"COPY (SELECT *, CAST(event_time_utc AS DATE) AS {PARTITION} FROM ev) TO '{target}' "
            f"(FORMAT parquet, PARTITION_BY ({PARTITION}), OVERWRITE_OR_IGNORE, "
            "FILENAME_PATTERN 'part-{uuid}', COMPRESSION zstd)"
        )
    finally:
        con.close()
    return len(set(out.rglob("*.parquet")) - before)


def open_events(path: str | os.PathLike[str], *, con: Any = None) -> Any:
    """Canonical events in Parquet as a lazy Ibis table on DuckDB, for datasets larger than memory.

    Parameters
    ----------
    path : path or glob
        A dataset folder written by :func:`write_dataset` (``chatanalytics convert --out DIR``), a
        folder of canonical Parquet files, one file, or a glob.
    con : ibis DuckDB backend, optional
        The connection to use (``ibis.duckdb.connect(...)``, for example with a ``memory_limit`` or
        ``temp_directory``); a new in-memory one by default.

    Returns
    -------
    ibis Table
        Checked by :func:`chatanalytics.events_table`: every analysis accepts it, runs in DuckDB and
        brings back only its result. ``event_date`` partitions are read from the folder names.

    Raises
    ------
    LoaderError
        Nothing matches ``path``, or the files are not canonical events.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> events = ca.open_events("out/events/")  # doctest: +SKIP
    >>> ca.funnel(events, steps=["triggered", "engaged", "completed"]).frame()  # doctest: +SKIP
    """
    import ibis

    from ..analysis import events_table

    text = os.fspath(path)
    p = Path(text)
    if p.is_dir():
        pattern = str(p / "**" / "*.parquet")
        if not any(p.rglob("*.parquet")):
            raise LoaderError(f"{text}: the folder holds no .parquet files", path=text)
    elif p.is_file() or any(ch in text for ch in "*?["):
        pattern = text
    else:
        raise LoaderError(f"file not found: {text!r}", path=text)
    backend = con if con is not None else ibis.duckdb.connect()
    try:
        backend.raw_sql("SET TimeZone = 'UTC'")
        table = backend.read_parquet(pattern, hive_partitioning=p.is_dir())
    except Exception as err:  # DuckDB raises several error types for unreadable or missing files
        raise LoaderError(f"cannot read {text} as Parquet: {err}", path=text) from err
    try:
        return events_table(table)
    except InvalidParameterError as err:
        raise LoaderError(f"{text} does not hold canonical events: {err}", path=text) from err
