r"""CSV files that are safe to open in a spreadsheet.

Names in the tables (conversation, agent and page names, event names) come from visitors' browsers. A
cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (``=HYPERLINK("http://x","y")``), so :func:`write_csv` prefixes such a
text cell with a single quote, as the OWASP guidance on CSV injection recommends; the spreadsheet shows
the text as it was, and the quote marks it as text. Only text cells change: numbers, negative ones
included, stay numbers. Column names and index labels are text cells too.

Rows end in CRLF (RFC 4180), so a field holding a bare ``\r`` or a ``\n`` is quoted and every row
stays one row. ``safe=False`` writes the text as it is (still quoted where it must be).
"""

from __future__ import annotations

from os import PathLike
from typing import Any

import pandas as pd

from .io._atomic import replacing

#: The characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """One value, a single quote put before it when it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _neutralise_text(values: pd.Series) -> pd.Series:
    text = values.astype(object)
    try:
        risky = text.str.match(r"[=+\-@\t\r]", na=False).astype(bool)
    except AttributeError:  # no text in the column (dates, decimals held as objects)
        return values
    if not risky.any():
        return values
    return text.mask(risky, "'" + text[risky].astype(str))


def _neutralise_labels(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_neutralise_labels(level) for level in index.levels])
    if pd.api.types.is_object_dtype(index.dtype) or isinstance(
        index.dtype, pd.StringDtype | pd.CategoricalDtype
    ):
        return pd.Index([neutralise_cell(v) for v in index], name=neutralise_cell(index.name))
    return index.rename(neutralise_cell(index.name))


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names and index labels cannot start a formula."""
    out = frame.copy()
    for i, (_, column) in enumerate(frame.items()):
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            cats = dtype.categories
            if pd.api.types.is_object_dtype(cats.dtype) or isinstance(cats.dtype, pd.StringDtype):
                fixed = [neutralise_cell(c) for c in cats]
                if fixed != list(cats):
                    out.isetitem(i, column.astype(object).map(neutralise_cell, na_action="ignore"))
        elif pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
            out.isetitem(i, _neutralise_text(column))
    out.columns = _neutralise_labels(frame.columns)
    out.index = _neutralise_labels(frame.index)
    return out


def write_csv(
    frame: pd.DataFrame, path: str | PathLike[str], *, safe: bool = True, index: bool = False, **options: Any
) -> None:
    """Write ``frame`` as CSV for people: see the module docstring (``safe=False`` for the raw text).

    The file is written whole or not at all (a temporary name, then a rename): a full disk leaves the
    old file, or none, never part of one.
    """
    table = spreadsheet_safe(frame) if safe else frame
    with replacing(path) as temp:
        table.to_csv(temp, index=index, lineterminator="\r\n", **options)


__all__ = ["FORMULA_STARTS", "neutralise_cell", "spreadsheet_safe", "write_csv"]
