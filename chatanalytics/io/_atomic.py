"""Files written whole or not at all: a temporary name in the same folder, then one rename."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["describe", "fsync_path", "replacing"]


def describe(err: OSError) -> str:
    """What went wrong, in the system's words ("No space left on device") when it gives an errno."""
    return os.strerror(err.errno) if err.errno else (err.strerror or str(err))


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush a file, or a folder's entries, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed to ``path`` when the block ends normally.

    When the block raises (a full disk, a permission error, an interrupt), the temporary file is removed
    and ``path`` is left as it was: a reader sees the old file or the whole new one, never part of it.
    The temporary name starts with a dot and keeps the suffix (``.report.1f2e3d4c.partial.html``), so a
    writer that picks its format from the suffix still does.
    """
    target = Path(path)
    temp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.partial{target.suffix}")
    try:
        yield temp
        fsync_path(temp)
        os.replace(temp, target)
    except OSError as err:  # named after the file the caller asked for, not its temporary
        raise OSError(err.errno, describe(err), str(target)) from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
