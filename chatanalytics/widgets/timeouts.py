"""Interactive live-chat timeouts: ipywidgets controls around a plotly ``FigureWidget``.

The compare, slice (UI type, conversation) and date controls are data controls: changing one
recomputes with :func:`chatanalytics.timeouts`. The view and group controls only redraw the current
result with another figure of :mod:`chatanalytics.viz.timeouts`. A comparison applies to every view
that can split by it (outcomes and the curves side by side, the service level and the causes of one
group picked in "Group"); the heatmap, which cannot, says so. The log-rank test is shown, in plain
words, only under the compared curves. plotly and ipywidgets are imported when a widget
is built, never by ``import chatanalytics``.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from ._base import AnalysisWidget, dropdown, headline, scroll_html

__all__ = [
    "ALL_GROUPS",
    "ALL_VALUES",
    "COMPARE_COLUMNS",
    "NO_COMPARISON",
    "SLICE_COLUMNS",
    "VIEWS",
    "TimeoutWidget",
    "logrank_words",
]

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
#: The value of the group control's "all requests" option (the group every table has).
ALL_GROUPS = "All"
# the slice controls: column -> (description, label of the "all" option)
_SLICES = {"ui_type": ("UI type", "all UI types"), "conversation_name": ("Conversation", "all conversations")}
# the views drawn for one group at a time, and the one that has no groups
_ONE_GROUP = ("service_level", "causes")
_CURVES = ("curves", "cif")
# p-values below this are read as evidence that the groups differ
_ALPHA = 0.05


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.2g}" if value < 0.01 else f"p = {value:.2f}"


def logrank_words(logrank: pd.DataFrame, by: str) -> str:
    """The log-rank tests of a comparison in plain words, with the numbers beside.

    Parameters
    ----------
    logrank : pandas.DataFrame
        ``TimeoutResult.frame("logrank")``: the test of all groups (``comparison`` "all groups"),
        then each pair with its Holm-adjusted p-value.
    by : str
        The column compared.

    Returns
    -------
    str
        Escaped HTML: whether the time to accept differs between the groups, and which pairs differ.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"comparison": ["all groups", "a vs b"], "chi2": [0.5, 0.5], "df": [1, 1],
    ...                   "p_value": [0.48, 0.48], "p_adjusted": [float("nan"), 0.48]})
    >>> logrank_words(t, "ui_type")  # doctest: +ELLIPSIS
    '<b>No evidence the ui_type groups differ</b> in time to accept (log-rank test: ..., p = 0.48).'
    """
    if not len(logrank):
        return f"<i>One {html.escape(by)} group only: nothing to compare.</i>"
    overall = logrank.iloc[0]
    chi2, df = f"{overall['chi2']:.2f}", int(overall["df"])
    numbers = f"log-rank test: χ² = {chi2}, df = {df}, {_p(overall['p_value'])}"
    who = html.escape(by)
    if not overall["p_value"] < _ALPHA:
        return f"<b>No evidence the {who} groups differ</b> in time to accept ({numbers})."
    pairs = logrank.iloc[1:]
    differ = pairs[pairs["p_adjusted"] < _ALPHA]
    text = f"<b>The {who} groups differ</b> in time to accept ({numbers})."
    if len(differ):
        listed = "; ".join(
            f"{html.escape(str(c))} ({_p(p)} adjusted)"
            for c, p in zip(differ["comparison"], differ["p_adjusted"], strict=True)
        )
        text += f" Pairs that differ, adjusted for the number of pairs (Holm): {listed}."
    elif len(pairs):
        text += " No single pair differs once adjusted for the number of pairs (Holm)."
    return text


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
    where : dict, optional
        Passed to :func:`chatanalytics.timeouts`. Its ``ui_type`` and ``conversation_name`` entries
        set the slice controls; other entries are kept for every recompute.
    **timeouts_kwargs
        ``by``, ``tz``, ``top``, ``start``, ``end``: passed to :func:`chatanalytics.timeouts` (what
        ``TimeoutResult.widget()`` passes on).

    Attributes
    ----------
    controls : dict
        Name -> ipywidgets control: ``compare`` (the ``by`` column, or :data:`NO_COMPARISON`, shown as
        "no comparison"), ``ui_type`` and ``conversation_name`` (a value, or :data:`ALL_VALUES`, shown
        as "all UI types" / "all conversations"), ``start``, ``end`` (dates in ``tz``, the end included)
        are data controls; ``view`` (``outcomes``, ``curves``, ``cif``, ``service_level``,
        ``heatmap``, ``causes``) and ``group`` (:data:`ALL_GROUPS`, shown as "all requests", or one
        group of the comparison: the group the service level and causes views draw) only redraw.
    notice : ipywidgets.HTML
        Why the view drawn does not split by the comparison, or empty.
    summary_output : ipywidgets.HTML
        The result's one-line summary and, under the compared curves, the log-rank test in plain
        words (:func:`logrank_words`).

    {base_attributes}

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

    analysis = "timeouts"
    data_controls = ("compare", *SLICE_COLUMNS, "start", "end")
    style_controls = ("view", "group")

    def __init__(self, events: Any, *, where: dict[str, Any] | None = None, **timeouts_kwargs: Any) -> None:
        where = dict(where or {})
        self._where = where
        # entries of where without a control stay as given
        self._fixed_where = {k: v for k, v in where.items() if k not in SLICE_COLUMNS}
        super().__init__(events, {**timeouts_kwargs, "where": where or None})

    # ---------------------------------------------------------------------------------------------
    # controls, computing and drawing
    # ---------------------------------------------------------------------------------------------

    def _make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        by = self.result.params["by"]
        compare: list[tuple[str, Any]] = [("no comparison", NO_COMPARISON)]
        compare += [(c, c) for c in COMPARE_COLUMNS]
        if by is not None and by not in COMPARE_COLUMNS:
            compare.append((by, by))
        controls: dict[str, Any] = {
            "compare": dropdown(compare, NO_COMPARISON if by is None else by, "Compare"),
        }
        for col, (label, _) in _SLICES.items():
            options, value = self._slice_options(col, self._where.get(col))
            controls[col] = dropdown(options, value, label, disabled=len(options) == 1)
        controls.update(self._date_controls())
        controls["view"] = widgets.ToggleButtons(
            options=list(VIEWS.items()), value="outcomes", description="View"
        )
        controls["group"] = dropdown(self._group_options(), ALL_GROUPS, "Group")
        self._enable_group(controls["group"])
        return controls

    def _group_options(self) -> list[tuple[str, Any]]:
        """The "all requests" choice, then each group of the comparison."""
        groups = [str(g) for g in dict.fromkeys(self.result.frame("service_level")["group"])]
        return [("all requests", ALL_GROUPS), *[(g, g) for g in groups if g != ALL_GROUPS]]

    def _enable_group(self, control: Any) -> None:
        """The group control works with a comparison, for the views drawn one group at a time."""
        view = self.controls["view"].value if hasattr(self, "controls") else "outcomes"
        control.disabled = self.result.params["by"] is None or view not in _ONE_GROUP

    def _rows(self) -> list[Any]:
        import ipywidgets as widgets

        c = self.controls
        return [
            widgets.HBox([c["compare"], c["ui_type"], c["conversation_name"]]),
            widgets.HBox([c["start"], c["end"]]),
            widgets.HBox([c["view"], c["group"]]),
        ]

    def _outputs(self) -> list[Any]:
        import ipywidgets as widgets

        self.notice = widgets.HTML(value="")
        self.summary_output = scroll_html("", "260px")
        return [self.notice, self.summary_output]

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

    @property
    def group(self) -> str:
        """The group the service level and causes views draw (:data:`ALL_GROUPS` without a comparison)."""
        value = self.controls["group"].value
        if self.result.params["by"] is None or value not in [v for _, v in self._group_options()]:
            return ALL_GROUPS
        return str(value)

    def draw(self) -> Any:
        """The current view of the current result.

        Returns
        -------
        plotly.graph_objects.Figure
            ``outcomes`` is sliced by the compared column when there is one; the curves show every
            group; the service level and the causes show the group picked.
        """
        r = self.result
        view = self.view
        if view == "outcomes":
            by = r.params["by"]
            slices = set(r.frame("outcomes")["slice"].astype(str))
            return r.figure("outcomes", slice=by if by is not None and by in slices else "all")
        if view in _CURVES:
            return r.figure("curves", estimate="km" if view == "curves" else "cif")
        if view in _ONE_GROUP:
            return r.figure(view, group=self.group)
        return r.figure(view)

    def _notice_html(self) -> str:
        by = self.result.params["by"]
        if by is None:
            return ""
        who = html.escape(by)
        if self.view == "heatmap":
            return (
                f"<i>The heatmap counts every request by weekday and hour: it does not split by {who}. "
                "Use the outcomes or curves views to compare.</i>"
            )
        if self.view in _ONE_GROUP:
            shown = "all requests" if self.group == ALL_GROUPS else f"{who} = {html.escape(self.group)}"
            return f"<i>One group at a time: {shown}. Pick another in “Group”.</i>"
        return ""

    def _summary_html(self) -> str:
        r = self.result
        out = f"<div>{html.escape(headline(r))}</div>"
        by = r.params["by"]
        if by is not None and self.view in _CURVES:
            out += f"<div style='margin-top:4px'>{logrank_words(r.frame('logrank'), by)}</div>"
        return out

    def _on_drawn(self, traces: Any) -> None:
        """After each draw: the notice, the summary and the group control follow the view."""
        self.notice.value = self._notice_html()
        self.summary_output.value = self._summary_html()
        self._enable_group(self.controls["group"])

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
        """New group choices after a recompute, keeping the group picked when it is still there."""
        control = self.controls["group"]
        keep = control.value
        options = self._group_options()
        control.options = options
        control.value = keep if keep in [v for _, v in options] else ALL_GROUPS
