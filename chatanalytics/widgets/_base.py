"""What every widget shares: date values for the date pickers and showing itself in a notebook."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pandas as pd


def date_value(value: Any) -> dt.date | None:
    """The UTC calendar date of a date or time (``None`` stays ``None``), for a DatePicker."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return ts.date()


class WidgetDisplay:
    """Display for a widget holding ``self.container`` (the ipywidgets box) and ``self.figure`` (its
    FigureWidget): the saved widget state is brought up to date before every display."""

    container: Any
    figure: Any

    def _sync_snapshot(self) -> None:
        # The saved widget state holds the figure as first displayed; re-sync it after every change
        # (stack recipe, section 4). Private plotly attributes, checked on plotly 7.1.
        fw = self.figure
        fw._widget_data = copy.deepcopy(fw._data)
        fw._widget_layout = copy.deepcopy(fw._layout_obj._props)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self._sync_snapshot()
        return self.container._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self._sync_snapshot()
        display(self.container)
