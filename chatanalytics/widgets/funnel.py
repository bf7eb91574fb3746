"""An interactive funnel: ipywidgets controls around a plotly ``FigureWidget``.

Data controls (steps, window, order, unit, breakdown, date range) recompute the funnel with
:func:`chatanalytics.funnel`; the style control (counts or overall rate) only redraws the current result.
Clicking a bar lists the units that dropped at that step. plotly and ipywidgets are imported when a widget
is built, never by ``import chatanalytics``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import InvalidParameterError
from ._base import AnalysisWidget, dropdown, local_times, scroll_html

__all__ = ["BY_COLUMNS", "NO_BREAKDOWN", "WINDOWS", "FunnelWidget", "format_steps", "parse_steps"]

#: Windows offered by the window control (the current value is added when it is not one of them).
WINDOWS: tuple[str, ...] = ("5min", "15min", "30min", "1h", "1D")
#: Canonical columns offered by the breakdown control.
BY_COLUMNS: tuple[str, ...] = ("conversation_name", "conversation_type", "ui_type", "page_url", "agent_name")
_DEFAULT_STEPS = ["triggered", "engaged", "completed"]
_MAX_UNITS_SHOWN = 200
_NO_UNITS = "<i>Click a bar to list the units that dropped at that step.</i>"
#: The value of the breakdown control's "no breakdown" option (a dropdown cannot show a ``None`` value).
NO_BREAKDOWN = "(no breakdown)"


def parse_steps(text: str) -> list[Any]:
    """Turn the steps text into the ``steps`` argument of :func:`chatanalytics.funnel`.

    Parameters
    ----------
    text : str
        Comma-separated event names; ``|`` separates alternatives within one step, and a step ending in
        ``?`` or ``(optional)`` is optional (:func:`chatanalytics.analysis.funnel.optional`).

    Returns
    -------
    list
        One entry per step: a name, a list of alternative names, or an optional step.

    Raises
    ------
    InvalidParameterError
        When the text is empty or a step is empty.

    Examples
    --------
    >>> parse_steps("triggered, engaged, email_input|phone_input, completed")
    ['triggered', 'engaged', ['email_input', 'phone_input'], 'completed']
    >>> parse_steps("triggered, email_input?, completed")[1].step
    'email_input'
    """
    from ..analysis import optional

    if not str(text).strip():
        raise InvalidParameterError("steps", text, reason="give at least one step")
    steps: list[Any] = []
    for i, raw in enumerate(str(text).split(",")):
        piece = raw.strip()
        is_optional = piece.endswith(("?", "(optional)"))
        piece = piece.removesuffix("?").removesuffix("(optional)").strip()
        alternatives = [a.strip() for a in piece.split("|")]
        if not any(alternatives):
            raise InvalidParameterError("steps", text, reason=f"step {i + 1} is empty")
        if not all(alternatives):
            raise InvalidParameterError("steps", raw.strip(), reason="an empty alternative around '|'")
        step: Any = alternatives[0] if len(alternatives) == 1 else alternatives
        steps.append(optional(step) if is_optional else step)
    return steps


def format_steps(step_names: Sequence[str]) -> str:
    """The steps text for ``FunnelResult.params["steps"]`` (names like ``"email_input | phone_input"``).

    Examples
    --------
    >>> format_steps(["triggered", "email_input | phone_input (optional)", "completed"])
    'triggered, email_input|phone_input (optional), completed'
    """
    out = []
    for name in step_names:
        text = str(name).strip()
        suffix = " (optional)" if text.endswith("(optional)") else ""
        text = text.removesuffix("(optional)").strip()
        out.append("|".join(p.strip() for p in text.split("|")) + suffix)
    return ", ".join(out)


class FunnelWidget(AnalysisWidget):
    """A funnel with controls, a clickable figure and a list of the units behind a bar.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    **funnel_kwargs
        Passed to :func:`chatanalytics.funnel` (``steps`` defaults to triggered, engaged, completed).
        ``value`` (``"converted"`` or ``"overall_rate"``) and ``height`` set the initial style; ``tz``
        (default UTC) is the time zone the date pickers are read in and the caption names.

    Attributes
    ----------
    controls : dict
        Name -> ipywidgets control: ``steps``, ``window``, ``order``, ``unit``, ``by`` (a column, or
        :data:`NO_BREAKDOWN`, shown as "no breakdown"), ``attribution`` (the breakdown value at the
        first step, or the first value set), ``start``, ``end`` (dates in ``tz``, the end included)
        (data controls) and ``value`` (style: counts or overall rate, redraws without
        recomputing).
    units_output : ipywidgets.HTML
        The units listed by the last click (:meth:`show_units`).
    selected_units : pandas.DataFrame or None
        The table behind ``units_output``.

    {base_attributes}

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.widgets import FunnelWidget
    >>> w = FunnelWidget(ca.load_sample(), steps=["triggered", "engaged", "completed"])
    >>> w.controls["by"].value = "ui_type"
    >>> w.result.params["by"]
    'ui_type'
    """

    analysis = "funnel"
    data_controls = ("steps", "window", "order", "unit", "by", "attribution", "start", "end")
    style_controls = ("value",)

    def __init__(self, events: Any, **funnel_kwargs: Any) -> None:
        value = funnel_kwargs.pop("value", "converted")
        if value not in ("converted", "overall_rate"):
            raise InvalidParameterError("value", value, ["converted", "overall_rate"])
        self._value = value
        self._height = funnel_kwargs.pop("height", 480)
        self._tz = str(funnel_kwargs.pop("tz", "UTC"))
        try:
            pd.Timestamp("2026-01-01", tz=self._tz)
        except Exception:
            raise InvalidParameterError("tz", self._tz, reason="not a time zone") from None
        self.selected_units: pd.DataFrame | None = None
        super().__init__(events, {"steps": _DEFAULT_STEPS, **funnel_kwargs})

    # ---------------------------------------------------------------------------------------------
    # controls, computing and drawing
    # ---------------------------------------------------------------------------------------------

    def _make_controls(self) -> dict[str, Any]:
        import ipywidgets as widgets

        from ..viz._definitions import ORDERS, UNITS

        p = self.result.params
        windows = list(WINDOWS) if p["window"] in WINDOWS else [*WINDOWS, p["window"]]
        columns = list(getattr(self._events, "columns", BY_COLUMNS))
        by_options: list[tuple[str, Any]] = [("no breakdown", NO_BREAKDOWN)]
        by_options += [(c, c) for c in BY_COLUMNS if c in columns]
        if p["by"] is not None and p["by"] not in BY_COLUMNS:
            by_options.append((p["by"], p["by"]))
        return {
            "steps": widgets.Text(
                value=format_steps(p["steps"]),
                description="Steps",
                placeholder="triggered, engaged, email_input|phone_input?, completed",
                continuous_update=False,
                layout=widgets.Layout(width="98%"),
            ),
            "window": dropdown(windows, p["window"], "Window"),
            "order": dropdown(list(ORDERS), p["order"], "Order"),
            "unit": dropdown(list(UNITS), p["unit"], "Unit"),
            "by": dropdown(by_options, NO_BREAKDOWN if p["by"] is None else p["by"], "By"),
            "attribution": dropdown(
                [("at the first step", "first_step"), ("first value set", "first_value")],
                p.get("attribution", "first_step"),
                "Value",
            ),
            **self._date_controls(),
            "value": widgets.ToggleButtons(
                options=[("counts", "converted"), ("overall rate", "overall_rate")],
                value=self._value,
                description="Show",
            ),
        }

    def _rows(self) -> list[Any]:
        import ipywidgets as widgets

        c = self.controls
        return [
            c["steps"],
            widgets.HBox([c["window"], c["order"], c["unit"], c["by"], c["attribution"]]),
            widgets.HBox([c["start"], c["end"], c["value"]]),
        ]

    def _outputs(self) -> list[Any]:
        self.units_output = scroll_html(_NO_UNITS)
        return [self.units_output]

    def draw(self) -> Any:
        """The funnel bars of the current result, counts or overall rate as the ``value`` control says.

        Returns
        -------
        plotly.graph_objects.Figure
        """
        return self.result.figure(
            "funnel", value=self.controls["value"].value, height=self._height, tz=self._tz
        )

    def _data_kwargs(self) -> dict[str, Any]:
        c = self.controls
        return {
            **self._kwargs,
            "steps": parse_steps(c["steps"].value),
            "window": c["window"].value,
            "order": c["order"].value,
            "unit": c["unit"].value,
            "by": None if c["by"].value in (None, NO_BREAKDOWN) else c["by"].value,
            "attribution": c["attribution"].value,
            **self._date_range(),
        }

    def _on_result(self) -> None:
        self.selected_units = None
        self.units_output.value = _NO_UNITS

    # ---------------------------------------------------------------------------------------------
    # clicks
    # ---------------------------------------------------------------------------------------------

    def _on_drawn(self, traces: Sequence[Any]) -> None:
        for trace in traces:
            trace.on_click(self._on_click)

    def _on_click(self, trace: Any, points: Any, selector: Any) -> None:
        if not points.point_inds:
            return
        group, step = trace.customdata[points.point_inds[0]][:2]
        self.show_units(str(group), int(step))

    def show_units(self, group: str, step: int) -> pd.DataFrame:
        """List the units of ``group`` that dropped at ``step`` in :attr:`units_output`.

        Parameters
        ----------
        group : str
            A group of the current result (``"All"`` without a breakdown).
        step : int
            1-based step.

        Returns
        -------
        pandas.DataFrame
            ``result.units(step, group, "dropped")``, also kept as :attr:`selected_units`.
        """
        units = self.result.units(int(step), group, "dropped")
        self.selected_units = units
        names = self.result.params["steps"]
        from ..analysis._funnel import UNIT_WORDS

        label = UNIT_WORDS.get(self.result.params["unit"], ("unit", "units"))[1]
        head = (
            f"<b>{len(units):,} {label}</b> in <b>{html.escape(str(group))}</b> dropped at step {int(step)} "
            f"(<b>{html.escape(str(names[int(step) - 1]))}</b>)"
        )
        if len(units) > _MAX_UNITS_SHOWN:
            head += f"; the first {_MAX_UNITS_SHOWN} by entry time:"
        shown = units.sort_values("entered_at", kind="stable").head(_MAX_UNITS_SHOWN)
        # entry times in the widget's time zone, as its pickers and caption
        shown = local_times(shown, self._tz)
        table = shown.to_html(index=False, border=0, classes="chatanalytics-units") if len(units) else ""
        self.units_output.value = f"<div>{head}</div>{table}"
        return units
