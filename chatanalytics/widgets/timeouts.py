"""Interactive live-chat timeouts: ipywidgets controls around a plotly ``FigureWidget``.

The compare, slice (UI type, conversation) and date controls are data controls: changing one
recomputes with :func:`chatanalytics.timeouts`. The view control only redraws the current result with
another figure of :mod:`chatanalytics.viz.timeouts`. plotly and ipywidgets are imported when a widget
is built, never by ``import chatanalytics``.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from ..errors import ChatAnalyticsError, InvalidParameterError
from ._base import WidgetDisplay, date_value

__all__ = ["COMPARE_COLUMNS", "SLICE_COLUMNS", "VIEWS", "TimeoutWidget"]

#: What the compare control offers: canonical columns of the request's first offer, or its local
#: hour or weekday.
COMPARE_COLUMNS: tuple[str, ...] = (
    "ui_type",
    "conversation_type",
    "conversation_name",
    "agent_id",
    "hour",
    "weekday",
)
#: Columns with a slice control: pick one value to keep only requests whose first offer has it.
SLICE_COLUMNS: tuple[str, ...] = ("ui_type", "conversation_name")
#: The views, as ``label -> view``.
VIEWS: dict[str, str] = {
    "outcomes": "outcomes",
    "curves": "curves",
    "cif": "cif",
    "service level": "service_level",
    "heatmap": "heatmap",
    "causes": "causes",
}
_REQUESTED = "CONVERSATION_LIVE_CHAT_REQUESTED"
_ALL = "All"
_ERROR = '<div style="color:#B00020">Not updated: {}</div>'


def _request_values(events: Any, column: str) -> list[str]:
    """The values ``column`` takes on live-chat request events, sorted (the slice control's choices)."""
    if isinstance(events, pd.DataFrame):
        if column not in events.columns:
            return []
        values = events.loc[events["event_type"] == _REQUESTED, column].dropna().astype(str).unique()
        return sorted(values.tolist(), key=str.casefold)
    if column not in getattr(events, "columns", ()):
        return []
    rows = events.filter(events.event_type == _REQUESTED).select(column).distinct().to_pyarrow()
    values = [str(v) for v in rows.column(0).to_pylist() if v is not None]
    return sorted(values, key=str.casefold)


class TimeoutWidget(WidgetDisplay):
    """Live-chat timeouts with compare, slice and date controls around one live figure.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    by, tz, top, where, start, end
        Passed to :func:`chatanalytics.timeouts` (what ``TimeoutResult.widget()`` passes on). The
        ``ui_type`` and ``conversation_name`` entries of ``where`` set the slice controls; other entries
        are kept for every recompute.

    Attributes
    ----------
    result : TimeoutResult
        The current result; kept when a control holds an invalid value.
    figure : plotly.graph_objects.FigureWidget
        The current view, updated in place (the same object for the widget's life).
    controls : dict
        Name -> ipywidgets control: ``compare`` (the ``by`` column or ``None``), ``ui_type`` and
        ``conversation_name`` (a value or ``None`` for all), ``start``, ``end`` (dates in UTC, the end
        included) are data controls; ``view`` (``outcomes``, ``curves``, ``cif``, ``service_level``,
        ``heatmap``, ``causes``) only redraws.
    message : ipywidgets.HTML
        Errors from the last change, or empty.
    summary_output : ipywidgets.HTML
        The result's one-line summary and, with a comparison, its log-rank table.
    container : ipywidgets.VBox
        Everything, as shown in a notebook.
    n_computes : int
        How many times the timeouts were computed (the initial one included).

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.widgets import TimeoutWidget
    >>> w = TimeoutWidget(ca.load_sample(), tz="America/New_York")
    >>> w.controls["compare"].value = "ui_type"
    >>> w.result.params["by"], w.n_computes
    ('ui_type', 2)
    >>> w.controls["view"].value = "heatmap"
    >>> [t.type for t in w.figure.data], w.n_computes
    (['heatmap', 'heatmap'], 2)
    """

    def __init__(
        self,
        events: Any,
        *,
        by: str | None = None,
        tz: str = "UTC",
        top: int = 8,
        where: dict[str, Any] | None = None,
        start: Any = None,
        end: Any = None,
    ) -> None:
        import ipywidgets as widgets
        import plotly.graph_objects as go

        self._events = events
        where = dict(where or {})
        # entries of where without a control stay as given
        self._fixed_where = {k: v for k, v in where.items() if k not in SLICE_COLUMNS}
        self._kwargs: dict[str, Any] = {
            "by": by,
            "tz": tz,
            "top": top,
            "where": where or None,
            "start": start,
            "end": end,
        }
        self.n_computes = 0
        self.result = self._compute(self._kwargs)
        p = self.result.params

        wide = widgets.Layout(width="auto")
        compare: list[Any] = [("None", None), *COMPARE_COLUMNS]
        if by is not None and by not in COMPARE_COLUMNS:
            compare.append(by)
        self.controls: dict[str, Any] = {
            "compare": widgets.Dropdown(options=compare, value=by, description="Compare", layout=wide),
        }
        for col, label in (("ui_type", "UI type"), ("conversation_name", "Conversation")):
            options, value = self._slice_options(col, where.get(col))
            self.controls[col] = widgets.Dropdown(
                options=options, value=value, description=label, disabled=len(options) == 1, layout=wide
            )
        self.controls["start"] = widgets.DatePicker(
            value=date_value(p["start"]), description="From (UTC)", layout=wide
        )
        self.controls["end"] = widgets.DatePicker(
            value=date_value(p["end"] - pd.Timedelta(microseconds=1)) if p["end"] is not None else None,
            description="To (incl.)",
            layout=wide,
        )
        self.controls["view"] = widgets.ToggleButtons(
            options=list(VIEWS.items()), value="outcomes", description="View"
        )
        for name in ("compare", *SLICE_COLUMNS, "start", "end"):
            self.controls[name].observe(self._on_data_change, names="value")
        self.controls["view"].observe(self._on_view_change, names="value")

        self.message = widgets.HTML(value="")
        self.summary_output = widgets.HTML(
            value=self._summary_html(), layout=widgets.Layout(max_height="260px", overflow="auto")
        )
        self.figure = go.FigureWidget(self._figure())
        c = self.controls
        self.container = widgets.VBox(
            [
                widgets.HBox([c["compare"], c["ui_type"], c["conversation_name"]]),
                widgets.HBox([c["start"], c["end"]]),
                c["view"],
                self.message,
                self.figure,
                self.summary_output,
            ]
        )
        self._sync_snapshot()

    # ---------------------------------------------------------------------------------------------
    # computing and drawing
    # ---------------------------------------------------------------------------------------------

    def _compute(self, kwargs: dict[str, Any]) -> Any:
        from ..analysis.timeouts import timeouts

        result = timeouts(self._events, **kwargs)
        self.n_computes += 1
        return result

    def _slice_options(self, column: str, given: Any) -> tuple[list[tuple[str, Any]], Any]:
        """The choices of a slice control ("All" first) and the one selected for the value ``given``."""
        options: list[tuple[str, Any]] = [(_ALL, None)]
        options += [(v, v) for v in _request_values(self._events, column)]
        if given is None:
            return options, None
        if isinstance(given, (list, tuple, set)):
            values = tuple(str(v) for v in given)
            if len(values) != 1:
                options.append((", ".join(values), values))
                return options, values
            given = values[0]
        given = str(given)
        if given not in [v for _, v in options]:
            options.append((given, given))
        return options, given

    @property
    def view(self) -> str:
        """The view drawn: a value of :data:`VIEWS`."""
        return self.controls["view"].value if hasattr(self, "controls") else "outcomes"

    def _figure(self) -> Any:
        from ..viz import timeouts as v

        r = self.result
        view = self.view
        if view == "outcomes":
            by = r.params["by"]
            slices = set(r.tables["outcomes"]["slice"].astype(str))
            return v.outcomes_figure(
                r.tables["outcomes"], r.params, slice=by if by is not None and by in slices else "all"
            )
        if view in ("curves", "cif"):
            return v.curves_figure(r.tables["curves"], r.params, estimate="km" if view == "curves" else "cif")
        if view == "service_level":
            return v.service_level_figure(r.tables["curves"], r.tables["service_level"], r.params)
        if view == "heatmap":
            return v.heatmap_figure(r.tables["heatmap"], r.params)
        return v.causes_figure(r.tables["causes"], r.params)

    def _summary_html(self) -> str:
        r = self.result
        out = f"<div>{html.escape(r._line())}</div>"
        by = r.params["by"]
        logrank = r.frame("logrank")
        if by is not None:
            if len(logrank):
                table = logrank.to_html(
                    index=False,
                    border=0,
                    escape=True,
                    na_rep="",
                    float_format="{:.3g}".format,
                    classes="chatanalytics-logrank",
                )
                out += (
                    f"<div>Log-rank tests of the time to accept between {html.escape(by)} groups "
                    "(p_adjusted: Holm, over the pairs):</div>" + table
                )
            else:
                out += f"<div><i>One {html.escape(by)} group only: no log-rank test.</i></div>"
        return out

    def _data_kwargs(self) -> dict[str, Any]:
        c = self.controls
        kwargs = dict(self._kwargs)
        start, end = c["start"].value, c["end"].value
        if start is not None and end is not None and end < start:
            raise InvalidParameterError(
                "end", end.isoformat(), reason=f"the range ends before it starts ({start.isoformat()})"
            )
        where = dict(self._fixed_where)
        for col in SLICE_COLUMNS:
            value = c[col].value
            if value is not None:
                where[col] = list(value) if isinstance(value, tuple) else value
        kwargs.update(
            by=c["compare"].value,
            where=where or None,
            start=pd.Timestamp(start, tz="UTC") if start is not None else None,
            end=pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1) if end is not None else None,
        )
        return kwargs

    def update(self) -> None:
        """Recompute from the data controls and redraw.

        On an invalid value (or a slice with no requests), show the error in :attr:`message` and keep
        the current result and figure.
        """
        try:
            kwargs = self._data_kwargs()
            result = self._compute(kwargs)
        except ChatAnalyticsError as exc:
            self.message.value = _ERROR.format(html.escape(str(exc)))
            return
        self._kwargs = kwargs
        self.result = result
        self.message.value = ""
        self.summary_output.value = self._summary_html()
        self.redraw()

    def redraw(self) -> None:
        """Draw the current view of the current result, replacing the FigureWidget's traces and layout."""
        try:
            new = self._figure()
        except ChatAnalyticsError as exc:
            self.message.value = f'<div style="color:#B00020">Not drawn: {html.escape(str(exc))}</div>'
            return
        fw = self.figure
        layout = new.layout.to_plotly_json()
        # the views differ in their axes (subplots), shapes and annotations: drop what the new layout
        # lacks. Outside a batch, because in one plotly (7.1) records None as an empty object.
        stale = [key for key in fw.layout.to_plotly_json() if key not in layout]
        if stale:
            fw.data = []
            for key in stale:
                fw.layout[key] = None
        with fw.batch_update():
            fw.data = []
            fw.add_traces(list(new.data))
            # each top-level entry replaced whole, so nothing of the previous view's axes is left
            for key, value in layout.items():
                fw.layout[key] = value
        self._sync_snapshot()

    def _on_data_change(self, change: dict[str, Any]) -> None:
        self.update()

    def _on_view_change(self, change: dict[str, Any]) -> None:
        self.redraw()

    # ---------------------------------------------------------------------------------------------
    # display
    # ---------------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"TimeoutWidget({self.result._line()})"
