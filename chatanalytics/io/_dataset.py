"""Canonical events as a partitioned Parquet dataset, and such a dataset opened lazily for the analyses.

``write_dataset`` writes one folder per UTC day, Hive style
(``events/event_date=2026-11-02/part-<uuid>.parquet``), so an engine reading the dataset skips the days a
query filters out, and a dataset grows by adding files (one ``chatanalytics convert --append`` per new
export). ``open_events`` opens such a dataset (or any canonical Parquet files) as an Ibis table on DuckDB: the
analyses then run inside DuckDB, which streams the files, and only their results come back to Python, so a
dataset larger than memory can be analysed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import DataQualityWarning, InvalidParameterError, LoaderError
from ..schema import COLUMNS, validate_events
from ._atomic import describe, fsync_path, replacing
from ._commits import (
    BOOKKEEPING,
    PARTITION,
    DatasetState,
    dataset_lock,
    dataset_state,
    fingerprint,
    uncommitted_note,
)

__all__ = ["already_written", "holds_data", "open_events", "write_dataset"]


def write_dataset(
    events: pd.DataFrame, directory: str | os.PathLike[str], *, append: bool = False, force: bool = False
) -> int:
    """Write canonical events as Parquet files partitioned by UTC day under ``directory``.

    A write publishes all of its files or none: they are written to a staging folder, moved into place,
    then named in a commit record (``_chatanalytics/commits/``), written last. Readers
    (:func:`open_events`, :func:`chatanalytics.read_events`) read only the files commit records list. A
    write interrupted at any moment (killed, out of disk) leaves the dataset as it was before; the next
    write removes what it left behind. Writers to one dataset take turns (a lock in the folder).

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events (:func:`chatanalytics.read_events`).
    directory : path
        The dataset's folder. It is created; it must be empty (or absent) unless ``append``.
    append : bool, default False
        Add new files beside those already there (each run writes files with fresh names). Events are
        not de-duplicated against what the folder already holds, but the events of an export file
        already written to the dataset (the same size and SHA-256 as a file its commit records name) are
        skipped, with a :class:`~chatanalytics.DataQualityWarning`.
    force : bool, default False
        Append the events of exports already written too.

    Returns
    -------
    int
        The number of Parquet files written.

    Raises
    ------
    InvalidParameterError
        ``directory`` is a file, or a non-empty folder without ``append``, or another process is writing
        to it without ``append`` (an append waits for its turn).

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
    if not append and holds_data(out):
        raise InvalidParameterError(
            "directory", str(out), reason="is not empty: pass append=True (--append) to add files to it"
        )
    out.mkdir(parents=True, exist_ok=True)
    with dataset_lock(out, wait=append):
        state = _tidy(out)
        if not append and holds_data(out):  # another writer got here first
            raise InvalidParameterError(
                "directory", str(out), reason="is not empty: pass append=True (--append) to add files to it"
            )
        sources = fingerprint(events["source_file"].dropna().unique()) if "source_file" in events else []
        if append and not force:
            done = state.sources()
            seen = [s for s in sources if s["sha256"] in done]
            if seen:
                warnings.warn(
                    "; ".join(_seen_message(s, done[s["sha256"]]) for s in seen)
                    + ": its events were not appended again (force=True, --force, appends them anyway)",
                    DataQualityWarning,
                    stacklevel=2,
                )
                skipped = {s["path"] for s in seen}
                events = events[~events["source_file"].isin(skipped)]
                sources = [s for s in sources if s["path"] not in skipped]
        if events.empty and state.records:
            return 0
        return _commit(events, state, sources)


def already_written(directory: str | os.PathLike[str], paths: list[str | os.PathLike[str]]) -> dict[str, str]:
    """The files among ``paths`` whose content a dataset already holds, each with a line saying when."""
    state = dataset_state(directory) if Path(directory).is_dir() else None
    if state is None:
        return {}
    done = state.sources()
    return {s["path"]: _seen_message(s, done[s["sha256"]]) for s in fingerprint(paths) if s["sha256"] in done}


def _seen_message(source: dict[str, Any], seen: dict[str, Any]) -> str:
    return (
        f"{source['path']} is already in the dataset (the same {source['bytes']:,} bytes were written "
        f"from {seen['path']} at {seen['created']}, commit {seen['commit']})"
    )


def holds_data(out: Path) -> bool:
    """Whether a folder holds anything but a dataset's bookkeeping and uncommitted files."""
    if not out.is_dir():
        return False
    state = dataset_state(out)
    if state is not None:
        return bool(state.records) or any(
            p.name != BOOKKEEPING and not (p.is_dir() and all(f in state.uncommitted for f in p.glob("*")))
            for p in out.iterdir()
        )
    return any(p.name != BOOKKEEPING for p in out.iterdir())  # a lock a killed first write left


def _tidy(out: Path) -> DatasetState:
    """The dataset's state, once what interrupted writes left has been removed (under the lock).

    A folder of Parquet files without commit records (an older version's dataset) first gets a record
    listing them all, so they stay part of it.
    """
    state = dataset_state(out)
    commits = out / BOOKKEEPING / "commits"
    if state is None:
        temp = out / BOOKKEEPING / f"commits.{uuid.uuid4().hex[:8]}.new"
        temp.mkdir(parents=True)
        existing = sorted(p for p in out.rglob("*.parquet") if BOOKKEEPING not in p.relative_to(out).parts)
        if existing:
            files = [{"path": p.relative_to(out).as_posix(), "bytes": p.stat().st_size} for p in existing]
            _write_record(temp / "00000001.commit", {"files": files, "sources": [], "adopted": True})
        os.replace(temp, commits)
        state = dataset_state(out)
        assert state is not None
    for path in state.uncommitted:
        path.unlink(missing_ok=True)
    for folder in [*state.staging, *(out / BOOKKEEPING).glob("commits.*.new")]:
        shutil.rmtree(folder, ignore_errors=True)
    for temp_record in commits.glob(".*"):
        temp_record.unlink(missing_ok=True)
    return DatasetState(out, state.committed, [], [], state.records)


def _commit(events: pd.DataFrame, state: DatasetState, sources: list[dict[str, Any]]) -> int:
    """Stage the events' part files, move them into place, then write the commit record naming them."""
    out = state.folder
    staging = out / BOOKKEEPING / f"staging-{uuid.uuid4()}"
    staging.mkdir()
    table = pa.Table.from_pandas(events[list(COLUMNS)], preserve_index=False)
    times = table.column("event_time_utc").cast(pa.timestamp("us", tz="UTC"))
    # the UTC date: a timestamp without its zone holds the UTC wall time
    table = table.append_column(PARTITION, times.cast(pa.timestamp("us")).cast(pa.date32()))
    try:
        _write_days(table, staging)
    except OSError as err:  # a full disk, a permission error: the dataset is left as it was
        shutil.rmtree(staging, ignore_errors=True)
        raise OSError(err.errno, describe(err), str(out)) from err
    files = []
    for path in sorted(staging.rglob("*.staged")):
        fsync_path(path)
        final = out / path.relative_to(staging).with_suffix(".parquet")
        files.append((path, final))
    for path, final in files:
        final.parent.mkdir(exist_ok=True)
        os.replace(path, final)
    for folder in {final.parent for _, final in files} | {out}:
        fsync_path(folder)
    record = {
        "events": len(events),
        "files": [{"path": f.relative_to(out).as_posix(), "bytes": f.stat().st_size} for _, f in files],
        "sources": sources,
    }
    _write_record(state.next_record(), record)
    shutil.rmtree(staging, ignore_errors=True)
    return len(files)


def _write_days(table: pa.Table, staging: Path) -> None:
    """One zstd Parquet file per UTC day of ``table``'s partition column, Hive style
    (``event_date=YYYY-MM-DD/part-<uuid>-0.staged``, the column itself left out), rows in their order.

    Written here, in this thread, file by file: Arrow's dataset writer finishes on its own threads after
    it returns, and one that lets go of the frame's memory while the interpreter exits aborts the process
    (apache/arrow#36980), a command line that wrote everything and still failed.
    """
    if len(table) == 0:
        return
    day = table.column(PARTITION)
    if len(table) > 1 and not pc.all(pc.less_equal(day[:-1], day[1:])).as_py():  # times are never null
        order = pc.sort_indices(table, sort_keys=[(PARTITION, "ascending")])
        table = table.take(order)  # stable: a day's rows keep their order
        day = table.column(PARTITION)
    data = table.drop_columns([PARTITION])
    values = day.cast(pa.int32()).to_numpy(zero_copy_only=False)
    runs = np.flatnonzero(values[1:] != values[:-1]) + 1
    name = f"part-{uuid.uuid4()}-0.staged"
    for lo, hi in zip([0, *runs], [*runs, len(table)], strict=True):
        folder = staging / f"{PARTITION}={day[int(lo)].as_py().isoformat()}"
        folder.mkdir()
        pq.write_table(data.slice(lo, hi - lo), folder / name, compression="zstd")


def _write_record(path: Path, record: dict[str, Any]) -> None:
    from .. import __version__

    record = {"created": datetime.now(UTC).isoformat(timespec="seconds"), "writer": __version__, **record}
    with replacing(path) as temp:
        temp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    fsync_path(path.parent)


def open_events(path: str | os.PathLike[str], *, con: Any = None) -> Any:
    """Canonical events in Parquet as a lazy Ibis table on DuckDB, for datasets larger than memory.

    Parameters
    ----------
    path : path or glob
        A dataset folder written by :func:`write_dataset` (``chatanalytics convert --out DIR``), a
        folder of canonical Parquet files, one file, or a glob. Of a dataset, only the files its commit
        records list are read: files an unfinished write left are skipped, with a
        :class:`~chatanalytics.DataQualityWarning`.
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
    pattern: str | list[str]
    state = dataset_state(p) if p.is_dir() else None
    if state is not None:  # a dataset with commit records: only the files they list
        note = uncommitted_note(state)
        if note:
            warnings.warn(note, DataQualityWarning, stacklevel=2)
        if not state.committed:
            raise LoaderError(f"{text}: the dataset holds no committed files yet", path=text)
        pattern = [str(f) for f in state.committed]
    elif p.is_dir():
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
