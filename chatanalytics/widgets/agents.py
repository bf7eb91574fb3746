"""An interactive agent leaderboard: ipywidgets controls around a plotly ``FigureWidget``.

The date range is a data control: changing it recomputes with :func:`chatanalytics.agent_performance`.
The metric, period and agent controls are style controls: they only redraw the current result. Picking
an agent in the drill-down control (or clicking their bar) lists the offers made to them. plotly and
ipywidgets are imported when a widget is built, never by ``import chatanalytics``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import ChatAnalyticsError, InvalidParameterError
from ._base import WidgetDisplay, date_value

__all__ = ["AgentWidget"]

_MAX_REQUESTS_SHOWN = 200
_NO_DRILL = "<i>Pick an agent in “Drill into” (or click a bar) to list the offers made to them.</i>"


class AgentWidget(WidgetDisplay):
    """An agent leaderboard with controls, and the offers behind one agent.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    freq, tz, teams, shrink, start, end
        Passed to :func:`chatanalytics.agent_performance`.
    metric : str, default "acceptance_rate"
        The metric the leaderboard starts with (a key of
        :data:`chatanalytics.analysis.agents.METRICS`).
    height : int, optional
        Figure height in pixels; by default it grows with the number of agents drawn.

    Attributes
    ----------
    result : AgentPerformanceResult
        The current result; kept when a control holds an invalid value.
    figure : plotly.graph_objects.FigureWidget
        The leaderboard (:func:`chatanalytics.viz.leaderboard_figure`), updated in place.
    controls : dict
        Name -> ipywidgets control: ``start``, ``end`` (data controls, dates in UTC, the end included),
        ``metric``, ``period`` (the latest when ``None``; disabled without ``freq``), ``agents`` (agent
        ids; an empty selection keeps every agent) (style controls, redraw without recomputing) and
        ``drill`` (an agent id or ``None``: lists that agent's offers in :attr:`requests_output`).
    message : ipywidgets.HTML
        Errors from the last change, or empty.
    requests_output : ipywidgets.HTML
        The offers of the agent picked in ``drill`` (:meth:`show_requests`).
    selected_requests : pandas.DataFrame or None
        The table behind ``requests_output``.
    container : ipywidgets.VBox
        Everything, as shown in a notebook.
    n_computes : int
        How many times agent performance was computed (the initial one included).

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.widgets import AgentWidget
    >>> w = AgentWidget(ca.load_sample())
    >>> w.controls["metric"].value = "offers"
    >>> list(w.figure.data[0].x) == w.leaderboard["offers"].tolist()
    True
    """

    def __init__(
        self,
        events: Any,
        *,
        freq: str | None = None,
        tz: str = "UTC",
        teams: dict[str, str] | None = None,
        shrink: bool = False,
        start: Any = None,
        end: Any = None,
        metric: str = "acceptance_rate",
        height: int | None = None,
    ) -> None:
        import ipywidgets as widgets
        import plotly.graph_objects as go

        from ..analysis.agents import METRICS

        if metric not in METRICS:
            raise InvalidParameterError("metric", metric, list(METRICS))
        self._events = events
        self._height = height
        self._kwargs: dict[str, Any] = {
            "freq": freq,
            "tz": tz,
            "teams": teams,
            "shrink": shrink,
            "start": start,
            "end": end,
        }
        self._syncing = False
        self.n_computes = 0
        self.selected_requests: pd.DataFrame | None = None
        self.result = self._compute(self._kwargs)
        p = self.result.params

        wide = widgets.Layout(width="auto")
        self.controls: dict[str, Any] = {
            "metric": widgets.Dropdown(
                options=list(METRICS), value=metric, description="Metric", layout=wide
            ),
            "period": widgets.Dropdown(
                options=self._period_options(),
                value=None,
                description="Period",
                disabled=p["freq"] is None,
                layout=wide,
            ),
            "agents": widgets.SelectMultiple(
                options=self._agent_options(), value=(), description="Agents", rows=6, layout=wide
            ),
            "start": widgets.DatePicker(value=date_value(p["start"]), description="From (UTC)", layout=wide),
            "end": widgets.DatePicker(
                value=date_value(p["end"] - pd.Timedelta(microseconds=1)) if p["end"] is not None else None,
                description="To (incl.)",
                layout=wide,
            ),
            "drill": widgets.Dropdown(
                options=self._drill_options(), value=None, description="Drill into", layout=wide
            ),
        }
        for name in ("start", "end"):
            self.controls[name].observe(self._on_data_change, names="value")
        for name in ("metric", "period", "agents"):
            self.controls[name].observe(self._on_style_change, names="value")
        self.controls["drill"].observe(self._on_drill, names="value")

        self.message = widgets.HTML(value="")
        self.requests_output = widgets.HTML(
            value=_NO_DRILL, layout=widgets.Layout(max_height="320px", overflow="auto")
        )
        self.figure = go.FigureWidget(self._figure())
        self._connect_clicks(self.figure.data[:1])
        c = self.controls
        self.container = widgets.VBox(
            [
                widgets.HBox([c["metric"], c["period"], c["start"], c["end"]]),
                widgets.HBox([c["agents"], c["drill"]]),
                self.message,
                self.figure,
                self.requests_output,
            ]
        )
        self._sync_snapshot()

    # ---------------------------------------------------------------------------------------------
    # computing and drawing
    # ---------------------------------------------------------------------------------------------

    def _compute(self, kwargs: dict[str, Any]) -> Any:
        from ..analysis.agents import agent_performance

        result = agent_performance(self._events, **kwargs)
        self.n_computes += 1
        return result

    def _style(self) -> dict[str, Any]:
        if not hasattr(self, "controls"):
            return {"metric": "acceptance_rate", "period": None, "agents": None}
        c = self.controls
        agents = list(c["agents"].value)
        return {"metric": c["metric"].value, "period": c["period"].value, "agents": agents or None}

    def _figure(self) -> Any:
        from ..viz.agents import leaderboard_figure

        return leaderboard_figure(self.result.table, self.result.params, **self._style(), height=self._height)

    @property
    def leaderboard(self) -> pd.DataFrame:
        """The rows of ``result.frame()`` drawn as bars, in the order drawn (top first)."""
        from ..viz.agents import _leaderboard_rows

        style = self._style()
        rows, _ = _leaderboard_rows(
            self.result.table, self.result.params, style["metric"], style["period"], style["agents"]
        )
        return rows

    def _period_options(self) -> list[tuple[str, Any]]:
        table = self.result.table
        if "period" not in table.columns:
            return [("all data", None)]
        periods = sorted(pd.to_datetime(table["period"]).dropna().unique())
        return [("latest", None)] + [(pd.Timestamp(p).strftime("%Y-%m-%d"), pd.Timestamp(p)) for p in periods]

    def _agent_options(self, with_offers: bool = False) -> list[tuple[str, Any]]:
        table = self.result.table
        rows = table[table["agent_id"].notna()]
        if with_offers:
            rows = rows[rows["offers"] > 0]
        names = rows.groupby("agent_id", sort=False)["agent_name"].last()
        ordered = sorted(names.items(), key=lambda kv: (str(kv[1]).casefold(), str(kv[0])))
        return [(f"{name} ({agent})", agent) for agent, name in ordered]

    def _drill_options(self) -> list[tuple[str, Any]]:
        return [("-", None), *self._agent_options(with_offers=True)]

    def _data_kwargs(self) -> dict[str, Any]:
        c = self.controls
        kwargs = dict(self._kwargs)
        start, end = c["start"].value, c["end"].value
        if start is not None and end is not None and end < start:
            raise InvalidParameterError(
                "end", end.isoformat(), reason=f"the range ends before it starts ({start.isoformat()})"
            )
        kwargs["start"] = pd.Timestamp(start, tz="UTC") if start is not None else None
        kwargs["end"] = pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1) if end is not None else None
        return kwargs

    def update(self) -> None:
        """Recompute from the data controls and redraw.

        On an invalid value, show the error in :attr:`message` and keep the current result and figure.
        """
        try:
            kwargs = self._data_kwargs()
            result = self._compute(kwargs)
        except ChatAnalyticsError as exc:
            self.message.value = f'<div style="color:#B00020">Not updated: {html.escape(str(exc))}</div>'
            return
        self._kwargs = kwargs
        self.result = result
        self.message.value = ""
        self._refresh_options()
        self.selected_requests = None
        self.requests_output.value = _NO_DRILL
        self.redraw()

    def _refresh_options(self) -> None:
        """New period and agent choices after a recompute, keeping what is still valid."""
        c = self.controls
        self._syncing = True
        try:
            period = c["period"].value
            options = self._period_options()
            c["period"].options = options
            c["period"].value = period if period in [v for _, v in options] else None
            agents = c["agents"].value
            options = self._agent_options()
            c["agents"].options = options
            c["agents"].value = tuple(a for a in agents if a in [v for _, v in options])
            c["drill"].options = self._drill_options()
            c["drill"].value = None
        finally:
            self._syncing = False

    def redraw(self) -> None:
        """Draw the current result with the current style, updating the FigureWidget in place."""
        try:
            new = self._figure()
        except ChatAnalyticsError as exc:
            self.message.value = f'<div style="color:#B00020">Not drawn: {html.escape(str(exc))}</div>'
            return
        fw = self.figure
        with fw.batch_update():
            if len(fw.data) == len(new.data):
                for old, trace in zip(fw.data, new.data, strict=True):
                    props = trace.to_plotly_json()
                    props.pop("type", None)
                    old.update(props)
                added: Sequence[Any] = ()
            else:
                fw.data = []
                fw.add_traces(list(new.data))
                added = fw.data[:1]
            fw.layout.update(new.layout.to_plotly_json())
            # properties unset in the new layout are not in its JSON: carry them over explicitly
            fw.layout.xaxis.range = new.layout.xaxis.range
            fw.layout.xaxis.autorange = new.layout.xaxis.autorange
            fw.layout.annotations = new.layout.annotations
        self._connect_clicks(added)
        self._sync_snapshot()

    def _on_data_change(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.update()

    def _on_style_change(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.redraw()

    # ---------------------------------------------------------------------------------------------
    # drill-down
    # ---------------------------------------------------------------------------------------------

    def _connect_clicks(self, traces: Sequence[Any]) -> None:
        for trace in traces:
            trace.on_click(self._on_click)

    def _on_click(self, trace: Any, points: Any, selector: Any) -> None:
        if not points.point_inds:
            return
        agent_id = trace.customdata[points.point_inds[0]][0]
        if agent_id is not None and agent_id in [v for _, v in self.controls["drill"].options]:
            self.controls["drill"].value = agent_id

    def _on_drill(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        if change["new"] is None:
            self.selected_requests = None
            self.requests_output.value = _NO_DRILL
        else:
            self.show_requests(change["new"])

    def show_requests(self, agent_id: Any) -> pd.DataFrame:
        """List the offers made to ``agent_id`` in :attr:`requests_output`, and select them in ``drill``.

        Parameters
        ----------
        agent_id : str
            An agent with offers in the current result.

        Returns
        -------
        pandas.DataFrame
            ``result.requests(agent_id)``, also kept as :attr:`selected_requests`.

        Raises
        ------
        InvalidParameterError
            When the agent had no offers in the current result.
        """
        offers = self.result.requests(agent_id)
        self.selected_requests = offers
        drill = self.controls["drill"]
        if drill.value != agent_id:
            self._syncing = True
            try:
                drill.value = agent_id
            finally:
                self._syncing = False
        name = offers["agent_name"].dropna().iloc[0] if offers["agent_name"].notna().any() else agent_id
        head = (
            f"<b>{len(offers):,} offers</b> to <b>{html.escape(str(name))}</b> "
            f"({html.escape(str(agent_id))}), with their request's outcome"
        )
        if len(offers) > _MAX_REQUESTS_SHOWN:
            head += f"; the first {_MAX_REQUESTS_SHOWN} by time:"
        shown = offers.head(_MAX_REQUESTS_SHOWN)
        table = (
            shown.to_html(index=False, border=0, escape=True, na_rep="", classes="chatanalytics-requests")
            if len(offers)
            else ""
        )
        self.requests_output.value = f"<div>{head}</div>{table}"
        return offers

    # ---------------------------------------------------------------------------------------------
    # display
    # ---------------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"AgentWidget({self.result._line()})"
