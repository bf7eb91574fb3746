"""What every widget shares: one update / redraw cycle around a FigureWidget, and showing itself.

A widget subclasses :class:`AnalysisWidget` and declares only what is its own:

- :attr:`~AnalysisWidget.data_controls` and :attr:`~AnalysisWidget.style_controls`, the names of its
  controls that recompute the analysis and those that only redraw;
- :meth:`~AnalysisWidget.compute`, the analysis run on the events with the given keyword arguments;
- :meth:`~AnalysisWidget.draw`, the figure of the current result in the current style;
- :attr:`~AnalysisWidget.analysis`, the name of its analysis function in :mod:`chatanalytics.analysis`
  (or its own :meth:`~AnalysisWidget.compute`);
- ``_make_controls``, ``_rows``, ``_outputs`` and ``_data_kwargs``: the controls, the rows of
  controls above the figure, what is shown under it, and the analysis arguments read from the data
  controls;
- optionally ``_on_result`` (after each recompute: refresh choices that depend on the result) and
  ``_on_drawn`` (after each draw: attach click handlers to the new traces).

The base class runs the cycle. A change to a data control recomputes, then redraws; a change to a style
control only redraws. The first draw goes through the same step as every redraw (:func:`widget_layout`),
so the figure first shown is the figure a redraw shows. While computing, :attr:`~AnalysisWidget.busy`
is true, the message line shows a spinning "Computing…" and the data controls are disabled. Under the
figure, a collapsed "About this chart" section holds the result's definitions (``result.describe()``).
A :class:`~chatanalytics.errors.ChatAnalyticsError` from a change (an invalid parameter, a slice with no
data) is shown in the message line, and the last good result and figure stay; a
:class:`~chatanalytics.errors.DataQualityWarning` from the analysis is shown there too. Setting a
control's value from Python runs the same cycle as a click, so a widget works headless.

A widget's events are read as they are when it first needs them: what an analysis builds from the events
alone (the live-chat requests, the digest's per-period counts) is built once per widget and kept for its
later changes. Events that change afterwards (a frame edited in place, a dataset appended to) show in a
new widget.
"""

from __future__ import annotations

import abc
import copy
import datetime as dt
import html
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from .._docstrings import fill_docstring
from ..errors import ChatAnalyticsError, DataQualityWarning, InvalidParameterError

__all__ = [
    "ABOUT_TITLE",
    "BASE_ATTRIBUTES",
    "BUSY",
    "CAPTION_NAME",
    "DESCRIPTION",
    "AnalysisWidget",
    "WidgetDisplay",
    "about_html",
    "date_value",
    "dropdown",
    "headline",
    "local_times",
    "scroll_html",
    "widget_layout",
]

#: What the message line shows while the analysis is computed: a spinner (SVG, so no style sheet is
#: needed) and the words.
BUSY = (
    '<div class="chatanalytics-busy" role="status" style="color:#1F4E79;font-weight:600">'
    '<svg width="14" height="14" viewBox="0 0 14 14" style="vertical-align:-2px;margin-right:6px">'
    '<circle cx="7" cy="7" r="5.5" fill="none" stroke="#C9D6E3" stroke-width="2.5"/>'
    '<path d="M7 1.5 A5.5 5.5 0 0 1 12.5 7" fill="none" stroke="#1F4E79" stroke-width="2.5">'
    '<animateTransform attributeName="transform" type="rotate" from="0 7 7" to="360 7 7" dur="0.8s" '
    'repeatCount="indefinite"/></path></svg>Computing…</div>'
)
#: The title of the collapsed section under each widget's figure that holds the result's definitions.
ABOUT_TITLE = "About this chart"
#: The key of ``figure.layout.meta`` that holds a widget figure's caption (:func:`widget_layout`).
CAPTION_NAME = "caption"
# the colour of the theme's ALERT, written here so that importing widgets does not import plotly
_ERROR = '<div style="color:#B00020">{}: {}</div>'
_WARNING = '<div style="color:#7A4F01">Note: {}</div>'
# the height of a line of the theme's title (17 px) and of its subtitle (11.5 px)
_TITLE_LINE_PX = 22
_CAPTION_LINE_PX = 16
#: A control's style in which a description as long as "Conversation" or "From (America/New_York)" is
#: shown whole.
DESCRIPTION = {"description_width": "initial"}


def date_value(value: Any, tz: str = "UTC") -> dt.date | None:
    """The calendar date of a date or time in ``tz`` (``None`` stays ``None``), for a DatePicker.

    Parameters
    ----------
    value : date, Timestamp, str or None
        Naive times are read as UTC.
    tz : str, default "UTC"
        The time zone whose calendar is used.

    Returns
    -------
    datetime.date or None

    Examples
    --------
    >>> date_value("2026-10-12 23:30-02:00")
    datetime.date(2026, 10, 13)
    >>> date_value("2026-10-13 01:30Z", "America/New_York")
    datetime.date(2026, 10, 12)
    """
    if value is None:
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return ts.tz_convert(tz).date()


def widget_layout(layout: dict[str, Any]) -> dict[str, Any]:
    """A figure's layout as a widget draws it: the caption moved from the title's subtitle into the title.

    plotly.js places a subtitle under the title's measured box, and a FigureWidget is first drawn before
    its output is on the page, where that box measures zero: the first draw put the title on top of
    the caption, and only a redraw put it right. As lines of the title's own text, in the subtitle's
    font, the caption is placed the same either way, and starts where the title starts.

    Parameters
    ----------
    layout : dict
        ``figure.layout.to_plotly_json()``; not changed.

    Returns
    -------
    dict
        The layout with ``title.subtitle`` removed and, when it had text, its lines appended to the
        title's text, its text kept in ``meta["caption"]``, and the top margin and height grown by the
        caption lines' extra spacing.
    """
    out = copy.deepcopy(layout)
    title = out.get("title")
    subtitle = (title or {}).get("subtitle") or {}
    text = subtitle.get("text")
    if not isinstance(title, dict) or not text:
        return out
    del title["subtitle"]
    font = {"size": 11.5, "color": "#6B6B6B", **(subtitle.get("font") or {})}
    style = f"font-size:{font['size']}px;color:{font['color']}"
    lines = [f'<span style="{style}">{part}</span>' for part in str(text).split("<br>")]
    title["text"] = "<br>".join([str(title.get("text") or ""), *lines])
    # plotly spaces a title's lines by the title's font: each caption line takes that much more room
    extra = round((_TITLE_LINE_PX - _CAPTION_LINE_PX) * len(lines))
    # a title anchored at its top is moved up a line for each line it has: the caption's lines too
    pad = title.setdefault("pad", {})
    pad["t"] = (pad.get("t") or 0) + _TITLE_LINE_PX * len(lines)
    margin = out.setdefault("margin", {})
    margin["t"] = (margin.get("t") or 110) + extra
    if out.get("height"):
        out["height"] += extra
    meta = out.get("meta")
    out["meta"] = {**(meta if isinstance(meta, dict) else {}), CAPTION_NAME: str(text)}
    return out


def local_times(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """A copy of ``frame`` with every time-zone-aware time column in ``tz`` (for a table shown in a
    widget, whose pickers and captions name ``tz``).

    Examples
    --------
    >>> t = pd.DataFrame({"at": pd.to_datetime(["2026-11-02 15:00"], utc=True), "n": [1]})
    >>> str(local_times(t, "America/New_York")["at"].iloc[0])
    '2026-11-02 10:00:00-05:00'
    """
    times = {
        c: frame[c].dt.tz_convert(tz) for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)
    }
    return frame.assign(**times) if times else frame.copy()


def scroll_html(value: str, max_height: str = "320px") -> Any:
    """An ``ipywidgets.HTML`` of ``value`` that scrolls beyond ``max_height``.

    Parameters
    ----------
    value : str
        The HTML shown.
    max_height : str, default "320px"
        The CSS height beyond which the output scrolls.

    Returns
    -------
    ipywidgets.HTML
    """
    import ipywidgets as widgets

    return widgets.HTML(value=value, layout=widgets.Layout(max_height=max_height, overflow="auto"))


def dropdown(options: Any, value: Any, description: str, **kwargs: Any) -> Any:
    """An ``ipywidgets.Dropdown`` as wide as its choices, its description shown whole.

    Parameters
    ----------
    options : list
        Values, or ``(label, value)`` pairs.
    value : object
        The value selected.
    description : str
        The label before it.
    **kwargs
        Other ``Dropdown`` traits (``disabled``, ...).

    Returns
    -------
    ipywidgets.Dropdown
    """
    import ipywidgets as widgets

    return widgets.Dropdown(
        options=options,
        value=value,
        description=description,
        layout=widgets.Layout(width="auto"),
        style=DESCRIPTION,
        **kwargs,
    )


def _words(value: Any, tz: str | None) -> str:
    """A parameter's value, times in ``tz``."""
    if isinstance(value, pd.Timestamp) and value.tzinfo is not None and tz is not None:
        return value.tz_convert(tz).isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_words(v, tz) for v in value) + "]"
    return str(value)


def about_html(result: Any, tz: str | None = None) -> str:
    """A result's definitions (``result.describe()``) as HTML: one paragraph per line, the term in bold,
    then the parameters, their times in ``tz``.

    Parameters
    ----------
    result : Result
        Any analysis result.
    tz : str, optional
        The time zone of the times among the parameters (as they are when not given).

    Returns
    -------
    str
        Escaped HTML.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> html = about_html(ca.funnel(ca.load_sample(), steps=["triggered", "engaged"]), "America/New_York")
    >>> "<b>Funnel window</b>:" in html and "data_end=2026-11-01T22:45:28.458000-05:00" in html
    True
    """
    out = []
    for line in str(result.describe()).splitlines():
        if not line.strip() or line.startswith("Parameters:"):
            continue
        term, sep, text = line.partition(": ")
        if sep and len(term) <= 40 and not line.startswith(" "):
            out.append(f"<p style='margin:2px 0'><b>{html.escape(term)}</b>: {html.escape(text)}</p>")
        else:
            out.append(f"<p style='margin:2px 0'>{html.escape(line.strip())}</p>")
    params = "; ".join(f"{k}={_words(v, tz)}" for k, v in result.params.items())
    out.append(f"<p style='margin:2px 0'><b>Parameters</b>: {html.escape(params)}</p>")
    return '<div style="font-size:12.5px;line-height:1.45;max-width:900px">' + "".join(out) + "</div>"


def headline(result: Any) -> str:
    """A result's one-line summary (:meth:`chatanalytics.analysis.Result.headline`).

    Parameters
    ----------
    result : FunnelResult, AgentPerformanceResult or TimeoutResult

    Returns
    -------
    str
    """
    return str(result.headline())


class WidgetDisplay:
    """Display for a widget holding ``self.container`` (the ipywidgets box) and ``self.figure`` (its
    FigureWidget): the saved widget state is brought up to date before every display.
    """

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
        bundle = self.container._repr_mimebundle_(**kwargs)
        # where a widget cannot be drawn (a rendered notebook), its text says what it is
        if isinstance(bundle, dict) and "text/plain" in bundle:
            bundle = {**bundle, "text/plain": repr(self)}
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self._sync_snapshot()
        display(self.container)


#: The closing words of a widget's Attributes section, written where its docstring says
#: ``{base_attributes}`` (by :meth:`AnalysisWidget.__init_subclass__`).
BASE_ATTRIBUTES = (
    "The others (``result``, ``figure``, ``message``, ``busy``, ``about``, ``container``,\n"
    "``n_computes``) are those of :class:`~chatanalytics.widgets._base.AnalysisWidget`."
)


class AnalysisWidget(WidgetDisplay, abc.ABC):
    """Controls around a live figure of one analysis, recomputed or redrawn as the controls change.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    kwargs : dict
        The analysis's keyword arguments for the first computation; the data controls start from the
        result's ``params``.

    Attributes
    ----------
    result : object
        The current result; kept when a control holds an invalid value.
    figure : plotly.graph_objects.FigureWidget
        The current figure, updated in place (the same object for the widget's life).
    controls : dict
        Name -> ipywidgets control.
    message : ipywidgets.HTML
        Errors from the last changes (``"Not updated: ..."`` for a data control, ``"Not drawn: ..."``
        for a style control), :data:`BUSY` while computing, or empty.
    busy : bool
        True while the analysis is computed (the data controls are disabled meanwhile).
    about : ipywidgets.Accordion
        "About this chart", collapsed: the current result's definitions (:func:`about_html`).
    container : ipywidgets.VBox
        Everything, as shown in a notebook: the rows of controls, :attr:`message`, :attr:`figure`,
        what the widget shows under it, and :attr:`about`. In the page it has the CSS classes
        ``chatanalytics-widget`` and ``chatanalytics-<class name in lower case>``, and each control
        ``chatanalytics-control-<name>``.
    n_computes : int
        How many times the analysis was computed (the initial one included).
    """

    #: Name of the analysis function of :mod:`chatanalytics` that :meth:`compute` calls.
    analysis: str = ""
    #: Names of the controls whose change recomputes the analysis.
    data_controls: tuple[str, ...] = ()
    #: Names of the controls whose change only redraws the current result.
    style_controls: tuple[str, ...] = ()

    controls: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Write :data:`BASE_ATTRIBUTES` where the widget's docstring says ``{base_attributes}``, so that
        ``help()`` shows the whole sentence.
        """
        super().__init_subclass__(**kwargs)
        fill_docstring(cls, base_attributes=BASE_ATTRIBUTES)

    def __init__(self, events: Any, kwargs: dict[str, Any]) -> None:
        import ipywidgets as widgets
        import plotly.graph_objects as go

        self._events = events
        self._reused: dict[Any, Any] = {}
        self._kwargs = dict(kwargs)
        self._quiet = False
        self._errors = {"data": "", "warning": "", "style": ""}
        self.busy = False
        self.n_computes = 0
        self.message = widgets.HTML(value="")
        self.result = self._run(self._kwargs)
        self._errors["warning"] = self._pending_notes
        self._show_errors()
        self.controls = self._make_controls()
        for name in self.data_controls:
            self.controls[name].observe(self._on_data_change, names="value")
        for name in self.style_controls:
            self.controls[name].observe(self._on_style_change, names="value")
        # an empty FigureWidget filled by the step every redraw takes
        self.figure = go.FigureWidget()
        about = widgets.HTML(value=about_html(self.result, self._time_zone()))
        self.about = widgets.Accordion(children=[about])
        self.about.set_title(0, ABOUT_TITLE)
        self.about.selected_index = None
        shown = [*self._rows(), self.message, self.figure, *self._outputs(), self.about]
        self.container = widgets.VBox(shown)
        # names a page (and a browser test) can find: the widget's kind and each control's name
        self.container.add_class("chatanalytics-widget")
        self.message.add_class("chatanalytics-message")
        self.container.add_class(f"chatanalytics-{type(self).__name__.lower()}")
        for name, control in self.controls.items():
            control.add_class(f"chatanalytics-control-{name}")
        self._replace_figure(self.draw())
        self._on_drawn(self.figure.data)
        self._sync_snapshot()

    # ---------------------------------------------------------------------------------------------
    # what each widget declares
    # ---------------------------------------------------------------------------------------------

    def compute(self, kwargs: dict[str, Any]) -> Any:
        """Run the analysis (:attr:`analysis`) on the widget's events.

        Parameters
        ----------
        kwargs : dict
            The analysis's keyword arguments.

        Returns
        -------
        object
            The analysis result.
        """
        import chatanalytics
        from chatanalytics.analysis._engine import reusing

        # the widget's events never change: what an analysis builds from them alone (live-chat
        # requests, the digest's per-period counts) is built once, not on every change
        with reusing(self._reused):
            return getattr(chatanalytics, self.analysis)(self._events, **kwargs)

    @abc.abstractmethod
    def draw(self) -> Any:
        """The figure of the current result in the style the controls set.

        Returns
        -------
        plotly.graph_objects.Figure
        """

    @abc.abstractmethod
    def _make_controls(self) -> dict[str, Any]:
        """The controls, by name, set from the current result."""

    @abc.abstractmethod
    def _rows(self) -> list[Any]:
        """The rows of controls above :attr:`message` and :attr:`figure`."""

    def _outputs(self) -> list[Any]:
        """What is shown under :attr:`figure` (drill-down lists, notes), above :attr:`about`."""
        return []

    def _data_kwargs(self) -> dict[str, Any]:
        """The analysis's keyword arguments as the data controls set them (may raise)."""
        return dict(self._kwargs)

    def _on_result(self) -> None:
        """After a recompute, before the redraw: update what depends on the result (control events off)."""

    def _on_drawn(self, traces: Sequence[Any]) -> None:
        """After each draw, with the FigureWidget's new traces (e.g. to attach click handlers)."""

    # ---------------------------------------------------------------------------------------------
    # the cycle
    # ---------------------------------------------------------------------------------------------

    def update(self) -> bool:
        """Recompute from the data controls, then redraw.

        Returns
        -------
        bool
            False when a control holds an invalid value (or the analysis found no data): the error is
            shown in :attr:`message`, and the current result and figure are kept.
        """
        try:
            kwargs = self._data_kwargs()
            result = self._run(kwargs)
        except ChatAnalyticsError as exc:
            self._say("data", "Not updated", exc)
            return False
        self._kwargs = kwargs
        self.result = result
        self.about.children[0].value = about_html(result, self._time_zone())
        self._errors["warning"] = self._pending_notes
        self._say("data", None)
        with self._quietly():
            self._on_result()
        return self.redraw()

    def redraw(self) -> bool:
        """Draw the current result with the current style into :attr:`figure`, in place.

        Returns
        -------
        bool
            False when the style cannot be drawn: the error is shown in :attr:`message`, and the figure
            is kept.
        """
        try:
            new = self.draw()
        except ChatAnalyticsError as exc:
            self._say("style", "Not drawn", exc)
            return False
        self._say("style", None)
        self._replace_figure(new)
        self._on_drawn(self.figure.data)
        self._sync_snapshot()
        return True

    def _run(self, kwargs: dict[str, Any]) -> Any:
        self.busy = True
        self.message.value = BUSY
        # no change while computing: the data controls are disabled, then set back as they were
        data = [self.controls[n] for n in self.data_controls] if hasattr(self, "controls") else []
        was = [c.disabled for c in data]
        for c in data:
            c.disabled = True
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DataQualityWarning)
                result = self.compute(kwargs)
        finally:
            for c, disabled in zip(data, was, strict=True):
                c.disabled = disabled
            self.busy = False
            self._show_errors()
        # data-quality warnings are shown with the result they concern; others go on as they came
        notes = [w for w in caught if issubclass(w.category, DataQualityWarning)]
        for w in caught:
            if w not in notes:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self._pending_notes = "".join(_WARNING.format(html.escape(str(w.message))) for w in notes)
        self.n_computes += 1
        return result

    def _replace_figure(self, new: Any) -> None:
        """Put the traces and layout of ``new`` into the FigureWidget, leaving nothing of the old one."""
        fw = self.figure
        layout = widget_layout(new.layout.to_plotly_json())
        # figures differ in their axes (subplots), shapes and annotations: drop what the new layout
        # lacks. Outside a batch, because in one plotly (7.1) records None as an empty object; the
        # traces go first, as they may refer to the axes dropped.
        stale = [key for key in fw.layout.to_plotly_json() if key not in layout]
        if stale:
            fw.data = []
            for key in stale:
                fw.layout[key] = None
        # the layout first, then the traces: plotly.js draws a trace as it arrives, and a heatmap drawn
        # before its axes exist logged "<image> attribute height: Expected length, NaN" in the browser
        fw.data = []
        with fw.batch_update():
            # each top-level entry replaced whole, so no property of the previous figure is left
            for key, value in layout.items():
                fw.layout[key] = value
        fw.add_traces(list(new.data))

    def _say(self, slot: str, what: str | None, exc: Exception | None = None) -> None:
        self._errors[slot] = "" if what is None else _ERROR.format(what, html.escape(str(exc)))
        self._show_errors()

    def _show_errors(self) -> None:
        self.message.value = "".join(self._errors.values())

    def _on_data_change(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.update()

    def _on_style_change(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.redraw()

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set controls from code without running the cycle."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    # ---------------------------------------------------------------------------------------------
    # the date range, a data control of every widget
    # ---------------------------------------------------------------------------------------------

    def _time_zone(self) -> str:
        """The widget's time zone, in which the date pickers are read and which they name: the result's
        ``tz`` parameter, else the ``tz`` the widget was given (``_tz``), else UTC.
        """
        tz = self.result.params.get("tz") or self._kwargs.get("tz") or getattr(self, "_tz", None)
        return str(tz or "UTC")

    def _date_controls(self) -> dict[str, Any]:
        """``start`` and ``end`` DatePickers (dates in the widget's time zone, the end included) set from
        the result's params.
        """
        import ipywidgets as widgets

        p = self.result.params
        tz = self._time_zone()
        wide = widgets.Layout(width="auto")
        end = p["end"] - pd.Timedelta(microseconds=1) if p["end"] is not None else None
        return {
            "start": widgets.DatePicker(
                value=date_value(p["start"], tz), description=f"From ({tz})", layout=wide, style=DESCRIPTION
            ),
            "end": widgets.DatePicker(
                value=date_value(end, tz), description="To (incl.)", layout=wide, style=DESCRIPTION
            ),
        }

    def _date_range(self) -> dict[str, pd.Timestamp | None]:
        """``start`` and ``end`` for the analysis from the date controls: midnights in the widget's time
        zone, the end excluded.
        """
        start, end = self.controls["start"].value, self.controls["end"].value
        if start is not None and end is not None and end < start:
            raise InvalidParameterError(
                "end", end.isoformat(), reason=f"the range ends before it starts ({start.isoformat()})"
            )
        tz = self._time_zone()
        return {
            "start": pd.Timestamp(start).tz_localize(tz) if start is not None else None,
            # the next local midnight (a day may be 23 or 25 hours long)
            "end": (pd.Timestamp(end) + pd.Timedelta(days=1)).tz_localize(tz) if end is not None else None,
        }

    @property
    def caption(self) -> str:
        """The caption the figure shows (its definition line), ``<br>`` between lines."""
        meta = self.figure.layout.meta
        return str(meta.get(CAPTION_NAME, "")) if isinstance(meta, dict) else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({headline(self.result)})"
