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

from ._base import AnalysisWidget, headline, scroll_html

__all__ = ["ALL_VALUES", "COMPARE_COLUMNS", "NO_COMPARISON", "SLICE_COLUMNS", "VIEWS", "TimeoutWidget"]

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
#: The value of the compare control's "no comparison" option (a dropdown cannot show a ``None`` value).
NO_COMPARISON = "(no comparison)"
#: The value of a slice control's "all" option.
ALL_VALUES = "(all)"
# the slice controls: column -> (description, label of the "all" option)
_SLICES = {"ui_type": ("UI type", "all UI types"), "conversation_name": ("Conversation", "all conversations")}
# a description as long as "Conversation" is shown whole
_DESCRIPTION = {"description_width": "initial"}


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


class TimeoutWidget(AnalysisWidget):
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
        Name -> ipywidgets control: ``compare`` (the ``by`` column, or :data:`NO_COMPARISON`, shown as
        "no comparison"), ``ui_type`` and ``conversation_name`` (a value, or :data:`ALL_VALUES`, shown
        as "all UI types" / "all conversations"), ``start``, ``end`` (dates in ``tz``, the end included)
        are data controls; ``view`` (``outcomes``, ``curves``, ``cif``, ``service_level``,
        ``heatmap``, ``causes``) only redraws.
    message : ipywidgets.HTML
        Errors from the last change, "Computing…" while computing, or empty.
    busy : bool
        True while the timeouts are computed.
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

    data_controls = ("compare", *SLICE_COLUMNS, "start", "end")
    style_controls = ("view",)

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
        where = dict(where or {})
        self._where = where
        # entries of where without a control stay as given
        self._fixed_where = {k: v for k, v in where.items() if k not in SLICE_COLUMNS}
        kwargs = {"by": by, "tz": tz, "top": top, "where": where or None, "start": start, "end": end}
        super().__init__(events, kwargs)

    # ---------------------------------------------------------------------------------------------
    # controls, computing and drawing
    # ---------------------------------------------------------------------------------------------

    def _make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        by = self.result.params["by"]
        wide = widgets.Layout(width="auto")
        compare: list[tuple[str, Any]] = [("no comparison", NO_COMPARISON)]
        compare += [(c, c) for c in COMPARE_COLUMNS]
        if by is not None and by not in COMPARE_COLUMNS:
            compare.append((by, by))
        controls: dict[str, Any] = {
            "compare": widgets.Dropdown(
                options=compare,
                value=NO_COMPARISON if by is None else by,
                description="Compare",
                layout=wide,
                style=_DESCRIPTION,
            ),
        }
        for col, (label, _) in _SLICES.items():
            options, value = self._slice_options(col, self._where.get(col))
            controls[col] = widgets.Dropdown(
                options=options,
                value=value,
                description=label,
                disabled=len(options) == 1,
                layout=wide,
                style=_DESCRIPTION,
            )
        controls.update(self._date_controls())
        controls["view"] = widgets.ToggleButtons(
            options=list(VIEWS.items()), value="outcomes", description="View"
        )
        return controls

    def _arrange(self) -> Any:
        import ipywidgets as widgets

        self.summary_output = scroll_html(self._summary_html(), "260px")
        c = self.controls
        return widgets.VBox(
            [
                widgets.HBox([c["compare"], c["ui_type"], c["conversation_name"]]),
                widgets.HBox([c["start"], c["end"]]),
                c["view"],
                self.message,
                self.figure,
                self.summary_output,
            ]
        )

    def compute(self, kwargs: dict[str, Any]) -> Any:
        """Compute the timeouts on the widget's events with :func:`chatanalytics.timeouts`.

        ``kwargs`` are its keyword arguments; it returns a ``TimeoutResult``
        (see :meth:`AnalysisWidget.compute`).
        """
        from ..analysis import timeouts

        return timeouts(self._events, **kwargs)

    def _slice_options(self, column: str, given: Any) -> tuple[list[tuple[str, Any]], Any]:
        """The choices of a slice control ("all ..." first) and the one selected for the value ``given``."""
        options: list[tuple[str, Any]] = [(_SLICES[column][1], ALL_VALUES)]
        options += [(v, v) for v in _request_values(self._events, column)]
        if given is None:
            return options, ALL_VALUES
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
        return self.controls["view"].value

    def draw(self) -> Any:
        """The current view of the current result.

        Returns
        -------
        plotly.graph_objects.Figure
            ``outcomes`` is sliced by the compared column when there is one.
        """
        r = self.result
        view = self.view
        if view == "outcomes":
            by = r.params["by"]
            slices = set(r.frame("outcomes")["slice"].astype(str))
            return r.figure("outcomes", slice=by if by is not None and by in slices else "all")
        if view in ("curves", "cif"):
            return r.figure("curves", estimate="km" if view == "curves" else "cif")
        return r.figure(view)

    def _summary_html(self) -> str:
        r = self.result
        out = f"<div>{html.escape(headline(r))}</div>"
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
        dates = self._date_range()
        where = dict(self._fixed_where)
        for col in SLICE_COLUMNS:
            value = c[col].value
            if value not in (None, ALL_VALUES):
                where[col] = list(value) if isinstance(value, tuple) else value
        by = c["compare"].value
        by = None if by in (None, NO_COMPARISON) else by
        return {**self._kwargs, "by": by, "where": where or None, **dates}

    def _on_result(self) -> None:
        self.summary_output.value = self._summary_html()
