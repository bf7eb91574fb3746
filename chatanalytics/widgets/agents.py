"""An interactive agent leaderboard: ipywidgets controls around a plotly ``FigureWidget``.

The date range is a data control: changing it recomputes with :func:`chatanalytics.agent_performance`.
The metric, period and agent controls are style controls: they only redraw the current result. The
period starts on the whole range; with ``freq`` one period can be picked. Picking an agent in the
drill-down control (or clicking their bar) lists the offers made to them in the period drawn. plotly and
ipywidgets are imported when a widget is built, never by ``import chatanalytics``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import InvalidParameterError
from ._base import AnalysisWidget, dropdown, local_times, scroll_html

__all__ = ["ALL_AGENTS", "WHOLE_RANGE", "AgentWidget"]

_MAX_REQUESTS_SHOWN = 200
_PICK = "pick an agent in “Drill into” (or click a bar) to list the offers made to them"
#: The value of the period control's "whole range" option (a dropdown cannot show a ``None`` value).
WHOLE_RANGE = "(whole range)"
#: The value of the drill-down control's "all agents" option.
ALL_AGENTS = "(all agents)"


class AgentWidget(AnalysisWidget):
    """An agent leaderboard with controls, and the offers behind one agent.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    metric : str, default "acceptance_rate"
        The metric the leaderboard starts with (a key of
        :data:`chatanalytics.analysis.agents.METRICS`).
    height : int, optional
        Figure height in pixels; by default it grows with the number of agents drawn.
    **agent_kwargs
        ``freq``, ``tz``, ``teams``, ``shrink``, ``start``, ``end``: passed to
        :func:`chatanalytics.agent_performance`. Rates are shrunk toward all agents' rate by default
        (as there), so an agent with 1 offer does not top the leaderboard; they rank by the shrunk
        value (by the lower bound of the 95% interval with ``shrink=False``), those resting on fewer
        than :data:`chatanalytics.viz._leaderboard.MIN_N` observations last.

    Attributes
    ----------
    controls : dict
        Name -> ipywidgets control: ``start``, ``end`` (data controls, dates in ``tz``, the end
        included), ``metric``, ``period`` (:data:`WHOLE_RANGE`, shown as "whole range", or one period's
        start; disabled without ``freq``), ``agents`` (agent ids; an empty selection keeps every agent)
        (style controls, redraw without recomputing) and ``drill`` (an agent id, or :data:`ALL_AGENTS`,
        shown as "all agents": lists that agent's offers in the period drawn in
        :attr:`requests_output`).
    requests_output : ipywidgets.HTML
        The offers of the agent picked in ``drill`` (:meth:`show_requests`).
    selected_requests : pandas.DataFrame or None
        The table behind ``requests_output``.

    The others (``result``, ``figure``, the leaderboard of
    :func:`chatanalytics.viz.leaderboard_figure`, ``message``, ``busy``, ``about``, ``container``,
    ``n_computes``) are those of :class:`~chatanalytics.widgets._base.AnalysisWidget`.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.widgets import AgentWidget
    >>> w = AgentWidget(ca.load_sample())
    >>> w.controls["metric"].value = "offers"
    >>> list(w.figure.data[0].x) == w.leaderboard["offers"].tolist()
    True
    """

    analysis = "agent_performance"
    data_controls = ("start", "end")
    style_controls = ("metric", "period", "agents")

    def __init__(
        self, events: Any, *, metric: str = "acceptance_rate", height: int | None = None, **agent_kwargs: Any
    ) -> None:
        from ..viz._definitions import METRICS

        if metric not in METRICS:
            raise InvalidParameterError("metric", metric, list(METRICS))
        self._metric = metric
        self._height = height
        self.selected_requests: pd.DataFrame | None = None
        self._whole: tuple[Any, Any] | None = None
        super().__init__(events, agent_kwargs)

    # ---------------------------------------------------------------------------------------------
    # controls, computing and drawing
    # ---------------------------------------------------------------------------------------------

    def _make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        from ..viz._definitions import METRICS

        controls = {
            "metric": dropdown(list(METRICS), self._metric, "Metric"),
            "period": dropdown(
                self._period_options(), WHOLE_RANGE, "Period", disabled=self.result.params["freq"] is None
            ),
            "agents": widgets.SelectMultiple(
                options=self._agent_options(),
                value=(),
                description="Agents",
                rows=6,
                layout=widgets.Layout(width="auto"),
            ),
            **self._date_controls(),
            "drill": dropdown(self._drill_options(), ALL_AGENTS, "Drill into"),
        }
        controls["drill"].observe(self._on_drill, names="value")
        return controls

    def _rows(self) -> list[Any]:
        import ipywidgets as widgets

        c = self.controls
        return [
            widgets.HBox([c["metric"], c["period"], c["start"], c["end"]]),
            widgets.HBox([c["agents"], c["drill"]]),
        ]

    def _outputs(self) -> list[Any]:
        self.requests_output = scroll_html(self._all_agents_html())
        return [self.requests_output]

    def compute(self, kwargs: dict[str, Any]) -> Any:
        """Compute agent performance (see :meth:`AnalysisWidget.compute`) and, with ``freq``, also over
        the whole range: the same offers without the split by period.
        """
        result = super().compute(kwargs)
        whole = super().compute({**kwargs, "freq": None}) if kwargs.get("freq") else result
        self._whole = (result, whole)
        return result

    @property
    def period(self) -> pd.Timestamp | None:
        """The period drawn (its local start), or ``None`` for the whole range."""
        controls = getattr(self, "controls", None)
        value = controls["period"].value if controls is not None else None  # None while the controls are made
        return None if value in (None, WHOLE_RANGE) else pd.Timestamp(value)

    def _source(self) -> Any:
        """The result the leaderboard draws: the whole range's per-agent result, or the periods'."""
        if self.period is not None:
            return self.result
        if self._whole is None or self._whole[0] is not self.result:
            self._whole = (self.result, self.compute_whole())
        return self._whole[1]

    def compute_whole(self) -> Any:
        """The current result's analysis over its whole range, without the split by period.

        Returns
        -------
        AgentPerformanceResult
        """
        if self.result.params["freq"] is None:
            return self.result
        return super().compute({**self.result.widget_arguments(), "freq": None})

    def _style(self) -> dict[str, Any]:
        c = self.controls
        agents = list(c["agents"].value)
        return {"metric": c["metric"].value, "period": self.period, "agents": agents or None}

    def draw(self) -> Any:
        """The leaderboard for the metric, period and agents the controls set.

        Returns
        -------
        plotly.graph_objects.Figure
            The whole range's leaderboard, or one period's.
        """
        return self._source().figure("leaderboard", **self._style(), height=self._height)

    @property
    def leaderboard(self) -> pd.DataFrame:
        """The rows of the table drawn as bars, in the order drawn (top first)."""
        from ..viz._leaderboard import leaderboard_rows

        source = self._source()
        rows, _ = leaderboard_rows(source.frame(), source.params, **self._style())
        return rows

    def _period_options(self) -> list[tuple[str, Any]]:
        table = self.result.frame()
        whole = [("whole range", WHOLE_RANGE)]
        if "period" not in table.columns:
            return whole
        periods = sorted(pd.to_datetime(table["period"]).dropna().unique())
        word = {"day": "day", "week": "week of", "month": "month of"}[self.result.params["freq"]]
        return whole + [(f"{word} {pd.Timestamp(p):%Y-%m-%d}", pd.Timestamp(p)) for p in periods]

    def _agent_options(self, with_offers: bool = False) -> list[tuple[str, Any]]:
        table = self._source().frame() if with_offers else self.result.frame()
        if with_offers and "period" in table.columns:
            table = table[pd.to_datetime(table["period"]) == self.period]
        rows = table[table["agent_id"].notna()]
        if with_offers:
            rows = rows[rows["offers"] > 0]
        names = rows.groupby("agent_id", sort=False)["agent_name"].last()
        ordered = sorted(names.items(), key=lambda kv: (str(kv[1]).casefold(), str(kv[0])))
        return [(f"{name} ({agent})", agent) for agent, name in ordered]

    def _drill_options(self) -> list[tuple[str, Any]]:
        """The choice of all agents, then the agents with offers in the period drawn."""
        return [("all agents", ALL_AGENTS), *self._agent_options(with_offers=True)]

    def _period_words(self) -> str:
        period = self.period
        if period is None:
            return "the whole range"
        label = dict((v, k) for k, v in self._period_options())
        return f"the {label.get(period, period.strftime('%Y-%m-%d'))}"

    def _offers_in_period(self, offers: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``result.requests(...)`` whose offer falls in the period drawn."""
        period = self.period
        if period is None:
            return offers
        table = self.result.frame("offers")
        keys = ["session_id", "conversation_id", "request", "offer"]
        chosen = table.loc[pd.to_datetime(table["period"]) == period, keys]
        return offers.merge(chosen, on=keys, how="inner").reset_index(drop=True)

    def _all_agents_html(self) -> str:
        offers = self.result.offers  # one row per offer, as result.requests() lists them
        period = self.period
        n = len(offers) if period is None else int((pd.to_datetime(offers["period"]) == period).sum())
        return (
            f"<div><b>{n:,} offers</b> to all agents in {html.escape(self._period_words())}; {_PICK}.</div>"
        )

    def _data_kwargs(self) -> dict[str, Any]:
        return {**self._kwargs, **self._date_range()}

    def _on_result(self) -> None:
        """New period and agent choices after a recompute, keeping what is still valid."""
        c = self.controls
        period = c["period"].value
        options = self._period_options()
        c["period"].options = options
        c["period"].value = period if period in [v for _, v in options] else WHOLE_RANGE
        agents = c["agents"].value
        options = self._agent_options()
        c["agents"].options = options
        c["agents"].value = tuple(a for a in agents if a in [v for _, v in options])

    def redraw(self) -> bool:
        """Draw the leaderboard (see :meth:`AnalysisWidget.redraw`), then make the drill-down follow the
        period drawn: its choices are the agents with offers in that period, and the offers listed are
        those of the period.

        Returns
        -------
        bool
        """
        drawn = super().redraw()
        if drawn:
            self._follow_period()
        return drawn

    def _follow_period(self) -> None:
        drill = self.controls["drill"]
        agent = drill.value
        options = self._drill_options()
        with self._quietly():
            drill.options = options
            drill.value = agent if agent in [v for _, v in options] else ALL_AGENTS
        if drill.value == ALL_AGENTS:
            self.selected_requests = None
            self.requests_output.value = self._all_agents_html()
        else:
            self.show_requests(drill.value)

    # ---------------------------------------------------------------------------------------------
    # drill-down
    # ---------------------------------------------------------------------------------------------

    def _on_drawn(self, traces: Sequence[Any]) -> None:
        # the bars; the text column beside them is not clickable
        for trace in traces[:1]:
            trace.on_click(self._on_click)

    def _on_click(self, trace: Any, points: Any, selector: Any) -> None:
        if not points.point_inds:
            return
        agent_id = trace.customdata[points.point_inds[0]][0]
        if agent_id is not None and agent_id in [v for _, v in self.controls["drill"].options]:
            self.controls["drill"].value = agent_id

    def _on_drill(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        if change["new"] in (None, ALL_AGENTS):
            self.selected_requests = None
            self.requests_output.value = self._all_agents_html()
        else:
            self.show_requests(change["new"])

    def show_requests(self, agent_id: Any) -> pd.DataFrame:
        """List the offers made to ``agent_id`` in the period drawn in :attr:`requests_output`, and select
        them in ``drill``.

        Parameters
        ----------
        agent_id : str
            An agent with offers in the current result.

        Returns
        -------
        pandas.DataFrame
            The rows of ``result.requests(agent_id)`` offered in the period drawn (all of them for the
            whole range): as many as the agent's bar counts. Also kept as :attr:`selected_requests`.

        Raises
        ------
        InvalidParameterError
            When the agent had no offers in the current result.
        """
        offers = self._offers_in_period(self.result.requests(agent_id))
        self.selected_requests = offers
        drill = self.controls["drill"]
        if drill.value != agent_id and agent_id in [v for _, v in drill.options]:
            with self._quietly():
                drill.value = agent_id
        name = offers["agent_name"].dropna().iloc[0] if offers["agent_name"].notna().any() else agent_id
        head = (
            f"<b>{len(offers):,} offers</b> to <b>{html.escape(str(name))}</b> "
            f"({html.escape(str(agent_id))}) in {html.escape(self._period_words())}, with their request's "
            "outcome"
        )
        if len(offers) > _MAX_REQUESTS_SHOWN:
            head += f"; the first {_MAX_REQUESTS_SHOWN} by time:"
        shown = local_times(offers.head(_MAX_REQUESTS_SHOWN), self._time_zone())
        table = (
            shown.to_html(index=False, border=0, escape=True, na_rep="", classes="chatanalytics-requests")
            if len(offers)
            else ""
        )
        self.requests_output.value = f"<div>{head}</div>{table}"
        return offers
