"""The weekday × hour grid shared by the live-chat analyses."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["WEEKDAYS", "weekday_hour"]

WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_hour(weekday: np.ndarray, hour: np.ndarray, missed: np.ndarray, *, total: str) -> pd.DataFrame:
    """Counts and missed counts in all 168 cells of local weekday (0 = Monday) and hour.

    Parameters
    ----------
    weekday, hour : array of int
        Local weekday and hour of each item (an offer, a request).
    missed : array of bool
        Whether each item was missed.
    total : str
        Name of the count column (``"offers"``, ``"requests"``).

    Returns
    -------
    pandas.DataFrame
        ``weekday``, ``weekday_name``, ``hour``, ``<total>``, ``missed`` and ``miss_rate``
        (``missed / <total>``, ``nan`` in empty cells), one row per cell, Monday 0:00 first.

    Examples
    --------
    >>> import numpy as np
    >>> g = weekday_hour(np.array([0, 0, 6]), np.array([9, 9, 23]), np.array([True, False, False]),
    ...                  total="offers")
    >>> int(g.loc[9, "offers"]), int(g.loc[9, "missed"]), float(g.loc[9, "miss_rate"]), len(g)
    (2, 1, 0.5, 168)
    """
    cell = (np.asarray(weekday, dtype=np.int64) * 24 + np.asarray(hour, dtype=np.int64)).astype(np.int64)
    counts = np.bincount(cell, minlength=168)
    misses = np.bincount(cell, weights=np.asarray(missed, dtype=float), minlength=168)
    idx = np.arange(168)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(counts > 0, misses / np.maximum(counts, 1), np.nan)
    return pd.DataFrame(
        {
            "weekday": idx // 24,
            "weekday_name": pd.Series(np.array(WEEKDAYS)[idx // 24], dtype="str"),
            "hour": idx % 24,
            total: counts.astype("int64"),
            "missed": misses.astype("int64"),
            "miss_rate": rate,
        }
    )
