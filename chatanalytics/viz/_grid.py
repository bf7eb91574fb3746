"""The weekday × hour grid: 168 cells of a table drawn as a 7 x 24 heatmap, Monday on top.

Both the agents' offers heatmap and the timeouts' missed-requests heatmap read a table with one row per
local weekday and hour (``weekday`` 0 = Monday, ``weekday_name``, ``hour``, a count column, ``missed``,
``miss_rate``) and draw it through :func:`weekday_hour_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ._tables import check_columns

__all__ = ["DAY_AXIS", "WeekdayHourGrid", "count_ticks", "hour_axis", "weekday_hour_grid"]

#: The weekday axis: days top to bottom, no title, no grid lines between the cells.
DAY_AXIS: dict[str, Any] = {"title": {"text": ""}, "autorange": "reversed", "showgrid": False}


@dataclass(frozen=True)
class WeekdayHourGrid:
    """The 168 cells of a weekday × hour table, in grid order (Monday 00:00 first, Sunday 23:00 last).

    Attributes
    ----------
    cells : pandas.DataFrame
        The table's rows sorted by ``weekday`` then ``hour``.
    count : str
        The column counted in each cell (``"offers"`` or ``"requests"``), shown in the hover.
    """

    cells: pd.DataFrame
    count: str

    def z(self, column: str) -> np.ndarray:
        """One column as a 7 x 24 float array: rows the weekdays, columns the hours.

        Parameters
        ----------
        column : str

        Returns
        -------
        numpy.ndarray
        """
        return self.cells[column].to_numpy(dtype=float).reshape(7, 24)

    @property
    def days(self) -> list[str]:
        """The weekday names, Monday first."""
        return self.cells["weekday_name"].astype(str).to_numpy().reshape(7, 24)[:, 0].tolist()

    def finding(self, value: str, what: str) -> str:
        """The title of a heatmap: the cell with the most of ``value`` (a rate: among cells with data).

        Parameters
        ----------
        value : str
            ``"miss_rate"``, ``"missed"`` or the count column.
        what : str
            The plural noun of the count, e.g. ``"offers"``.

        Returns
        -------
        str
        """
        z = self.z(value)
        counts = self.z(self.count)
        if not np.isfinite(z).any() or np.nanmax(z) <= 0:
            return f"No {'misses' if value != self.count else what} in any hour"
        # the highest value; among equal ones, the cell with the most traffic
        flat = np.where(np.isfinite(z), z, -1.0).ravel()
        best = int(np.lexsort((-counts.ravel(), -flat))[0])
        day, hour = divmod(best, 24)
        cell = f"{self.days[day]} {hour:02d}:00"
        n = int(counts.ravel()[best])
        if value == "miss_rate":
            missed = int(self.z("missed").ravel()[best])
            return f"Highest miss rate: {cell}, {missed:,} of {n:,} {what} missed ({flat[best]:.0%})"
        if value == "missed":
            return f"Most missed {what}: {cell} ({int(flat[best]):,} of {n:,})"
        return f"Busiest hour: {cell} ({n:,} {what})"

    def heatmap_props(self) -> dict[str, Any]:
        """What every heatmap of the grid shares: cell positions, gaps, and the hover with the counts.

        Returns
        -------
        dict
            ``x`` (hours), ``y`` (days), ``customdata`` (count, missed and the miss rate as text, or
            "no <count>" for an empty cell), ``xgap``, ``ygap`` and ``hovertemplate``; the ``z`` and the
            colours are the caller's.
        """
        custom = np.empty((7, 24, 3), dtype=object)
        custom[:, :, 0] = self.cells[self.count].to_numpy().reshape(7, 24)
        custom[:, :, 1] = self.cells["missed"].to_numpy().reshape(7, 24)
        custom[:, :, 2] = [
            [f"no {self.count}" if np.isnan(r) else f"{r:.0%}" for r in row] for row in self.z("miss_rate")
        ]
        return {
            "x": list(range(24)),
            "y": self.days,
            "customdata": custom,
            "xgap": 1,
            "ygap": 1,
            "hovertemplate": (
                f"<b>%{{y}}</b> %{{x}}:00–%{{x}}:59<br>{self.count} %{{customdata[0]:,}}, "
                "missed %{customdata[1]:,}<br>miss rate %{customdata[2]}<extra></extra>"
            ),
        }


def count_ticks(z: np.ndarray, is_rate: bool = False) -> dict[str, Any]:
    """Colour bar ticks: percentages for a rate, else whole numbers a whole step apart.

    plotly's own ticks on a bar from 0 to 2 fall on 0, 0.5, 1, 1.5 and 2, which whole-number labels
    print as "0, 1, 1, 2, 2".

    Parameters
    ----------
    z : numpy.ndarray
        The cell values (NaN for empty cells).
    is_rate : bool, default False

    Returns
    -------
    dict
        For a trace's ``colorbar``.

    Examples
    --------
    >>> import numpy as np
    >>> count_ticks(np.array([0.0, 2.0]))
    {'tickformat': ',d', 'tick0': 0, 'dtick': 1}
    >>> count_ticks(np.array([0.0, 230.0]))["dtick"]
    50
    """
    if is_rate:
        return {"tickformat": ".0%"}
    finite = z[np.isfinite(z)]
    top = float(finite.max()) if finite.size else 0.0
    step = next((s for s in _STEPS if top / s <= 6), 10 ** len(str(int(top))))
    return {"tickformat": ",d", "tick0": 0, "dtick": step}


_STEPS = tuple(m * 10**e for e in range(7) for m in (1, 2, 5))


def weekday_hour_grid(cells: pd.DataFrame, count: str, name: str) -> WeekdayHourGrid:
    """Check a weekday × hour table and put its cells in grid order.

    Parameters
    ----------
    cells : pandas.DataFrame
        ``weekday`` (0 = Monday), ``weekday_name``, ``hour``, ``count``, ``missed``, ``miss_rate``; one
        row per weekday and hour.
    count : str
        The column counted in each cell.
    name : str
        The argument's name, for the message.

    Returns
    -------
    WeekdayHourGrid

    Raises
    ------
    InvalidParameterError
        When a column is missing or the table is not exactly the 168 weekday-hour cells.
    """
    check_columns(cells, ["weekday", "weekday_name", "hour", count, "missed", "miss_rate"], name)
    data = cells.sort_values(["weekday", "hour"], kind="stable").reset_index(drop=True)
    grid = np.arange(168)
    if len(data) != 168 or not (
        (data["weekday"].to_numpy() == grid // 24).all() and (data["hour"].to_numpy() == grid % 24).all()
    ):
        raise InvalidParameterError(name, f"{len(cells)} rows", reason="expected the 168 weekday-hour cells")
    return WeekdayHourGrid(data, count)


def hour_axis(title: str, every: int) -> dict[str, Any]:
    """The hour axis of the grid: a tick every ``every`` hours, labelled ``00``, ``02``, ...

    Parameters
    ----------
    title : str
    every : int

    Returns
    -------
    dict
        For ``layout.xaxis``.
    """
    hours = list(range(0, 24, every))
    return {
        "title": {"text": title},
        "tickmode": "array",
        "tickvals": hours,
        "ticktext": [f"{h:02d}" for h in hours],
        "showgrid": False,
    }
