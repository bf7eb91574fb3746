"""Arrow helpers for per-value work done once per distinct value instead of once per row."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


def map_distinct(
    arr: pa.ChunkedArray,
    func: Callable[[str], str | None],
    *,
    candidates: pa.ChunkedArray | pa.Array | None = None,
    prefilter: str | None = None,
    values: pa.Array | pa.ChunkedArray | None = None,
) -> tuple[pa.ChunkedArray, int]:
    """Apply ``func`` to each distinct non-null value of ``arr``.

    Only values in ``candidates`` rows (when given) and matching the RE2 pattern ``prefilter`` (when
    given) are passed to ``func``; the others are left as they are. ``values``, when given, stands for
    the distinct values of ``arr`` (without ``candidates``): any superset of them, such as the
    dictionary a column was decoded from, saves hashing every row to find them.

    Returns the new array and the number of rows whose value changed. Values ``func`` leaves unchanged
    keep their row untouched, and when nothing changes the input array itself is returned.
    """
    if values is not None and candidates is None:
        uniques = pc.unique(values.drop_null())
    else:
        pool = arr if candidates is None else arr.filter(candidates)
        if len(pool) == 0:
            return arr, 0
        uniques = pc.unique(pool.drop_null())
    if prefilter is not None:
        uniques = uniques.filter(pc.match_substring_regex(uniques, prefilter))
    before = uniques.to_pylist()
    after = [func(v) for v in before]
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if a != b]
    if not pairs:
        return arr, 0
    old = pa.array([b for b, _ in pairs], arr.type)
    new = pa.array([a for _, a in pairs], arr.type)
    idx = pc.index_in(arr, value_set=old)
    hit = pc.is_valid(idx)
    changed = pc.sum(hit).as_py() or 0
    replaced = pc.take(new, idx)
    out = pc.if_else(hit, replaced, arr)
    if isinstance(out, pa.Array):
        out = pa.chunked_array([out])
    return out, int(changed)
