"""The commit records of a dataset folder: which Parquet files each write published, all or none.

A dataset written by :func:`chatanalytics.io.write_dataset` keeps its bookkeeping in ``_chatanalytics/``
(engines that read the folder, such as Spark, pyarrow and Hive, skip names starting with ``_``):

- ``commits/00000001.commit``, one JSON record per write, listing the part files it published, their
  sizes and rows, and the fingerprints (size and SHA-256) of the exports they came from. A record is
  written last, to a temporary name then renamed, so a write is published by that one rename.
- ``lock``, the file a writer locks (``flock``) while it writes.
- ``staging-<id>/``, where a write puts its files before it publishes them. Staged files end in
  ``.staged``, so a glob for ``*.parquet`` never finds them.

A part file under ``event_date=.../`` that no record lists was left by an interrupted write: readers skip
it and say so, and the next write removes it. A folder without ``_chatanalytics/commits/`` (written by an
older version, or by another tool) is read as it is: every Parquet file in it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidParameterError, LoaderError

__all__ = [
    "BOOKKEEPING",
    "PARTITION",
    "DatasetState",
    "dataset_lock",
    "dataset_state",
    "fingerprint",
    "uncommitted_note",
]

#: The partition column added to every file's path (the UTC date of ``event_time_utc``).
PARTITION = "event_date"
#: The folder, inside a dataset, that holds its commit records, its lock and its staging areas.
BOOKKEEPING = "_chatanalytics"
_COMMITS = "commits"
_SUFFIX = ".commit"
_PARTS = f"{PARTITION}=*/part-*.parquet"


@dataclass(frozen=True)
class DatasetState:
    """What a dataset folder holds, as its commit records tell it.

    ``committed`` are the part files the records list (absolute paths, in commit order); ``uncommitted``
    the part files on disk that no record lists; ``staging`` the staging folders left behind;
    ``records`` the commit records themselves.
    """

    folder: Path
    committed: list[Path] = field(default_factory=list)
    uncommitted: list[Path] = field(default_factory=list)
    staging: list[Path] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def commits_dir(self) -> Path:
        return self.folder / BOOKKEEPING / _COMMITS

    def next_record(self) -> Path:
        """The name of the next commit record."""
        return self.commits_dir / f"{len(self.records) + 1:08d}{_SUFFIX}"

    def sources(self) -> dict[str, dict[str, Any]]:
        """The exports already written, by SHA-256: ``{"path", "bytes", "sha256", "commit", "created"}``."""
        found: dict[str, dict[str, Any]] = {}
        for record in self.records:
            for source in record.get("sources", []):
                found.setdefault(
                    source["sha256"], {**source, "commit": record["commit"], "created": record["created"]}
                )
        return found


def dataset_state(folder: str | os.PathLike[str]) -> DatasetState | None:
    """The state of a dataset folder with commit records, or None for a folder without them.

    Raises
    ------
    LoaderError
        A commit record cannot be read or parsed.
    """
    root = Path(folder)
    commits = root / BOOKKEEPING / _COMMITS
    if not commits.is_dir():
        return None
    records: list[dict[str, Any]] = []
    committed: list[Path] = []
    for path in sorted(p for p in commits.glob(f"*{_SUFFIX}") if not p.name.startswith(".")):  # not temps
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            files = [root / entry["path"] for entry in record["files"]]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise LoaderError(
                f"{path}: the dataset's commit record cannot be read: {err}", path=path
            ) from err
        record["commit"] = path.name
        records.append(record)
        committed += files
    known = set(committed)
    uncommitted = sorted(p for p in root.glob(_PARTS) if p not in known)
    staging = sorted(p for p in (root / BOOKKEEPING).glob("staging-*") if p.is_dir())
    return DatasetState(root, committed, uncommitted, staging, records)


def uncommitted_note(state: DatasetState) -> str | None:
    """The note a reader gives for the files it skipped, or None when there are none."""
    if not state.uncommitted and not state.staging:
        return None
    return (
        f"{state.folder}: {len(state.uncommitted)} part file(s) and {len(state.staging)} staging folder(s) "
        "that no commit record lists were not read (a write in progress, or an interrupted one; the next "
        "write to the dataset removes them)"
    )


@contextlib.contextmanager
def dataset_lock(folder: Path, *, wait: bool) -> Iterator[None]:
    """Hold the dataset's write lock; wait for it, or refuse when another process holds it.

    Raises
    ------
    InvalidParameterError
        ``wait`` is False and another process is writing to the dataset.
    """
    (folder / BOOKKEEPING).mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / BOOKKEEPING / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise InvalidParameterError(
                "directory", str(folder), reason="another process is writing to this dataset"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


_HASHED: dict[tuple[str, int, int], str] = {}


def fingerprint(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Size and SHA-256 of each file that exists (a member of an archive is not one)."""
    found: dict[str, dict[str, Any]] = {}
    for item in paths:
        path = Path(item)
        try:
            st = path.stat()
        except OSError:
            continue  # a member of an archive, or a file gone since it was read: nothing to recognise
        if not path.is_file():
            continue
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if key not in _HASHED:
            with path.open("rb") as fh:
                _HASHED[key] = hashlib.file_digest(fh, "sha256").hexdigest()
        found[str(path)] = {"path": str(path), "bytes": st.st_size, "sha256": _HASHED[key]}
    return list(found.values())
