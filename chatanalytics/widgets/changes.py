"""Interactive change digest: what changed between two periods, with ipywidgets controls around one
plotly ``FigureWidget``.

The period, baseline, breakdown and compared-period controls are data controls: changing one
recomputes with :func:`chatanalytics.changes`. The metric and view controls only redraw the current
result, as the overview of every metric or as one metric's waterfall. Clicking a group's bar in the
waterfall lists the conversations behind its contribution. plotly and ipywidgets are imported when a
widget is built, never by ``import chatanalytics``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ._base import AnalysisWidget, dropdown, scroll_html

__all__ = ["BASELINES", "BREAKDOWNS", "CHANGE_VIEWS", "ChangesWidget"]

#: What the breakdown control offers: the column the waterfall splits the change by.
BREAKDOWNS: tuple[str, ...] = (
    "conversation_name",
    "ui_type",
    "conversation_type",
    "conversation_id",
    "page_url",
)
#: What the baseline control offers: how many periods before the compared one form the baseline.
BASELINES: tuple[int, ...] = (1, 2, 3, 4, 7, 14)
#: The views, as ``label -> figure kind``.
CHANGE_VIEWS: dict[str, str] = {"overview": "overview", "waterfall": "waterfall"}
_PERIODS = (("week (Monday to Sunday)", "week"), ("day", "day"))
_LATEST = "latest complete"
_MAX_UNITS_SHOWN = 50
_NO_UNITS = "<i>Click a group's bar in the waterfall to list the conversations behind it.</i>"


def _period_label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    first = start.strftime("%Y-%m-%d")
    last = (end - pd.Timedelta(seconds=1)).strftime("%Y-%m-%d")
    return first if first == last else f"{first} to {last}"


class ChangesWidget(AnalysisWidget):
    """What changed between two periods, with data controls that recompute and style controls that
    redraw one live figure.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    metric : str, default "engagement_rate"
        The metric of the waterfall view.
    **changes_kwargs
        ``period``, ``tz``, ``by``, ``baseline``, ``at``, ``window``: passed to
        :func:`chatanalytics.changes` (what ``ChangesResult.widget()`` passes on). The first column
        of ``by`` is the breakdown control; the columns given stay after the one chosen.

    Attributes
    ----------
    controls : dict
        Name -> ipywidgets control. Data controls: ``period`` (``"week"`` / ``"day"``), ``baseline``
        (a number of periods, :data:`BASELINES`), ``breakdown`` (a column of :data:`BREAKDOWNS`, the
        first of ``by``), ``at`` (``None`` for the latest complete period, or the first local day of a
        complete period). Style controls: ``metric`` (a metric of the result) and ``view``
        (``"overview"`` or ``"waterfall"``).
    headline_output : ipywidgets.HTML
        The result's headline.
    units_output : ipywidgets.HTML
        The conversations behind the last group clicked.
    selected_units : pandas.DataFrame or None
        Those conversations (``result.units(...)``), or ``None`` before a click.

    {base_attributes}
    """

    analysis = "changes"
    data_controls = ("period", "baseline", "breakdown", "at")
    style_controls = ("metric", "view")

    def __init__(self, events: Any, *, metric: str = "engagement_rate", **changes_kwargs: Any) -> None:
        self._metric = metric
        self.selected_units: pd.DataFrame | None = None
        super().__init__(events, changes_kwargs)

    # ---------------------------------------------------------------------------------------------
    # controls, computing and drawing
    # ---------------------------------------------------------------------------------------------

    def _make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        # the arguments in use, the analysis' defaults filled in; the breakdown control replaces the
        # first column of by, the others given stay after it
        self._kwargs = self.result.widget_arguments()
        self._by_given = list(self._kwargs["by"])
        k = self._kwargs
        by = list(k["by"])
        breakdowns = list(BREAKDOWNS)
        first = by[0] if by else BREAKDOWNS[0]
        if first not in breakdowns:
            breakdowns.append(first)
        at_options, at_value = self._at_options(k["at"])
        metrics = self._metric_options()
        metric = self._metric if self._metric in [v for _, v in metrics] else metrics[0][1]
        return {
            "period": dropdown(list(_PERIODS), k["period"], "Period"),
            "baseline": dropdown(self._baseline_options(), k["baseline"], "Baseline"),
            "breakdown": dropdown(breakdowns, first, "Breakdown"),
            "at": dropdown(at_options, at_value, "Compare"),
            "metric": dropdown(metrics, metric, "Metric"),
            "view": widgets.ToggleButtons(
                options=list(CHANGE_VIEWS.items()), value="overview", description="View"
            ),
        }

    def _metric_options(self) -> list[tuple[str, str]]:
        """The metrics a waterfall can split by group (the median wait has no such split)."""
        m = self.result.frame("metrics")
        split = set(self.result.frame("drivers")["metric"].astype(str))
        pairs = zip(m["label"], m["metric"], strict=True)
        return [(str(label), str(metric)) for label, metric in pairs if str(metric) in split]

    def _done(self) -> pd.DataFrame:
        """The complete periods, in order, with ``before``: how many complete periods precede each."""
        periods = self.result.frame("periods")
        done = periods[periods["status"].astype(str) == "complete"].reset_index(drop=True)
        return done.assign(before=range(len(done)))

    def _baseline_options(self) -> list[tuple[str, int]]:
        """The baselines the data hold before the compared period (the one in use always)."""
        done = self._done()
        current = done.loc[done["role"].astype(str) == "current", "before"]
        room = int(current.iloc[0]) if len(current) else max(BASELINES)
        given = self._kwargs["baseline"]
        return [(f"{n} before", n) for n in sorted({*(n for n in BASELINES if n <= room), given})]

    def _at_options(self, given: Any) -> tuple[list[tuple[str, Any]], Any]:
        """The compared-period choices: the latest complete period, then every complete period with as
        many complete periods before it as the baseline takes.
        """
        done = self._done()
        done = done[done["before"] >= self._kwargs["baseline"]]
        options: list[tuple[str, Any]] = [(_LATEST, None)]
        options += [
            (_period_label(s, e), s.strftime("%Y-%m-%d"))
            for s, e in zip(done["start"], done["end"], strict=True)
        ]
        if given is None:
            return options, None
        given = str(given)
        values = [v for _, v in options]
        if given not in values:
            # a time inside a period: select that period when it is listed
            for s, e, (_, v) in zip(done["start"], done["end"], options[1:], strict=True):
                when = pd.Timestamp(given)
                when = when.tz_localize(s.tz) if when.tzinfo is None else when
                if s <= when < e:
                    return options, v
            options.append((given, given))
        return options, given

    def _rows(self) -> list[Any]:
        import ipywidgets as widgets

        c = self.controls
        self.headline_output = widgets.HTML(value=self._headline_html())
        return [
            widgets.HBox([c["period"], c["baseline"], c["breakdown"], c["at"]]),
            widgets.HBox([c["view"], c["metric"]]),
            self.headline_output,
        ]

    def _outputs(self) -> list[Any]:
        self.units_output = scroll_html(_NO_UNITS)
        return [self.units_output]

    @property
    def view(self) -> str:
        """The view drawn: ``"overview"`` or ``"waterfall"``."""
        return str(self.controls["view"].value)

    @property
    def metric(self) -> str:
        """The metric of the waterfall view."""
        return str(self.controls["metric"].value)

    def draw(self) -> Any:
        """The current view of the current result.

        Returns
        -------
        plotly.graph_objects.Figure
            The overview of every metric, or the waterfall of the chosen metric by the breakdown.

        Raises
        ------
        InvalidParameterError
            For the waterfall of a metric without a breakdown (the median wait).
        """
        if self.view == "overview":
            return self.result.figure("overview")
        return self.result.figure("waterfall", metric=self.metric)

    def _headline_html(self) -> str:
        lines = self.result.headlines()
        return "".join(f"<div>{html.escape(line)}</div>" for line in lines if line.strip())

    def _data_kwargs(self) -> dict[str, Any]:
        c = self.controls
        period = c["period"].value
        first = c["breakdown"].value
        by = [first, *(b for b in self._by_given if b != first)]
        # a period of the other length: compare its latest complete one
        at = c["at"].value if period == self._kwargs["period"] else None
        return {**self._kwargs, "period": period, "baseline": c["baseline"].value, "by": by, "at": at}

    def _on_result(self) -> None:
        c = self.controls
        options, value = self._at_options(self._kwargs["at"])
        c["at"].options = options
        c["at"].value = value
        c["baseline"].options = self._baseline_options()
        c["baseline"].value = self._kwargs["baseline"]
        metrics = self._metric_options()
        keep = c["metric"].value
        c["metric"].options = metrics
        c["metric"].value = keep if keep in [v for _, v in metrics] else metrics[0][1]
        self.headline_output.value = self._headline_html()
        self.selected_units = None
        self.units_output.value = _NO_UNITS

    # ---------------------------------------------------------------------------------------------
    # clicks
    # ---------------------------------------------------------------------------------------------

    def _on_drawn(self, traces: Sequence[Any]) -> None:
        for trace in traces:
            if trace.type == "bar":
                trace.on_click(self._on_click)

    def _on_click(self, trace: Any, points: Any, selector: Any) -> None:
        if not points.point_inds or trace.customdata is None:
            return
        group = trace.customdata[points.point_inds[0]][0]
        if group is None:
            self.units_output.value = (
                "<i>That bar is not one group: click a named group's bar to list its conversations.</i>"
            )
            return
        self.show_units(str(group))

    def show_units(self, group: str) -> pd.DataFrame:
        """List the conversations of ``group`` behind the current metric's change in
        :attr:`units_output`.

        Parameters
        ----------
        group : str
            A group of the breakdown column.

        Returns
        -------
        pandas.DataFrame
            ``result.units(events, metric=..., by=..., group=...)``, also kept as
            :attr:`selected_units`.
        """
        by = self._kwargs["by"][0]
        units = self.result.units(self._events, metric=self.metric, by=by, group=group)
        self.selected_units = units
        head = (
            f"<b>{len(units):,} conversations</b> of <b>{html.escape(str(group))}</b> "
            f"({html.escape(by)}) behind the change in <b>{html.escape(self.metric)}</b>"
        )
        if len(units) > _MAX_UNITS_SHOWN:
            head += f"; the first {_MAX_UNITS_SHOWN}:"
        table = (
            units.head(_MAX_UNITS_SHOWN).to_html(index=False, border=0, classes="chatanalytics-units")
            if len(units)
            else ""
        )
        self.units_output.value = f"<div>{head}</div>{table}"
        return units
