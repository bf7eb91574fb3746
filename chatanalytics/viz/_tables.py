"""Reading the tables a figure is given: the column check and the groups in the order drawn."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..errors import InvalidParameterError

__all__ = ["check_columns", "group_order", "group_rows"]


def check_columns(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Check that ``table`` is a DataFrame with ``columns``.

    Parameters
    ----------
    table : pandas.DataFrame
    columns : sequence of str
    name : str
        The argument's name, for the message.

    Raises
    ------
    InvalidParameterError
        When ``table`` is not a DataFrame or lacks some of ``columns`` (all of them are named).
    """
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(name, type(table).__name__, reason="expected a pandas DataFrame")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InvalidParameterError(name, missing, columns, reason="missing columns")


def group_order(table: pd.DataFrame) -> list[str]:
    """The table's ``group`` values as text, in the order they first appear (the order groups are drawn).

    Parameters
    ----------
    table : pandas.DataFrame
        With a ``group`` column.

    Returns
    -------
    list of str
    """
    return list(dict.fromkeys(table["group"].astype(str)))


def group_rows(table: pd.DataFrame, group: str, name: str) -> pd.DataFrame:
    """The rows of one group.

    Parameters
    ----------
    table : pandas.DataFrame
        With a ``group`` column.
    group : str
    name : str
        The argument's name, for the message.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InvalidParameterError
        When ``group`` is not in the table (the groups present are listed).
    """
    groups = group_order(table)
    if group not in groups:
        raise InvalidParameterError(name, group, groups)
    return table[table["group"].astype(str) == group]
