"""Ignored records (valid records that are not chat events) kept as arrays, not one Python object each.

An analytics export is mostly other events: a GA4 table holds page views, scrolls and session starts
beside the chat events, so a loader may ignore millions of records in one file. Each is listed in the
load report with its record number and name; :class:`IgnoredRecords` keeps them as chunks of a numpy
array of record numbers and an Arrow array of names, and still takes single ``(record, name)`` tuples
from readers that find a few.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa


class IgnoredRecords:
    """The ignored records of one file (or block): record numbers and names, in chunks."""

    def __init__(self) -> None:
        self._chunks: list[tuple[np.ndarray, pa.Array]] = []
        self._lines: list[int] = []
        self._names: list[str] = []

    def add_arrays(self, lines: np.ndarray, names: Any) -> None:
        """Add records in bulk: 1-based record numbers and their names (an Arrow or NumPy array)."""
        if len(lines):
            arr = (
                names if isinstance(names, pa.Array | pa.ChunkedArray) else pa.array(names, pa.large_string())
            )
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            self._chunks.append((np.asarray(lines, dtype=np.int64), arr.cast(pa.large_string())))

    def append(self, item: tuple[int, str]) -> None:
        self._lines.append(int(item[0]))
        self._names.append(str(item[1]))

    def extend(self, items: Iterable[tuple[int, str]] | IgnoredRecords) -> None:
        if isinstance(items, IgnoredRecords):
            self._chunks.extend(items._chunks)
            self._lines.extend(items._lines)
            self._names.extend(items._names)
            return
        for item in items:
            self.append(item)

    def __len__(self) -> int:
        return len(self._lines) + sum(len(lines) for lines, _ in self._chunks)

    def arrays(self) -> tuple[np.ndarray, pa.Array]:
        """All records: record numbers and names, in the order added."""
        chunks = list(self._chunks)
        if self._lines:
            chunks.append((np.asarray(self._lines, dtype=np.int64), pa.array(self._names, pa.large_string())))
        if not chunks:
            return np.empty(0, dtype=np.int64), pa.array([], pa.large_string())
        lines = np.concatenate([c[0] for c in chunks])
        names = pa.concat_arrays([c[1] for c in chunks])
        return lines, names
