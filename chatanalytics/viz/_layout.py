"""Where a figure puts its title, caption, legend, notes and reference lines.

Every figure ends with :func:`finish`: the title states the finding, one subtitle line gives the unit,
period and time zone, the full definition is kept for "About this chart", and the height grows with the
title, subtitle and legend so the plot keeps its room.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import numpy as np
import plotly.graph_objects as go

from .._docstrings import fill_docstring
from ._format import wrap
from ._theme import ALERT, ERROR_BARS, MUTED, REFERENCE_LINE, apply_theme

__all__ = [
    "FIGURE_OPTIONS",
    "LEGEND_BELOW",
    "NARROWEST_PX",
    "about",
    "empty_note",
    "error_bars",
    "figure_doc",
    "finish",
    "legend_rows",
    "level_ticks",
    "line",
    "mark_level",
    "spaced_ticks",
    "subtitle",
    "title_room",
    "wrap_lines",
    "wrap_parts",
]

#: How a figure function's docstring describes ``title``, ``height`` and ``width`` where it says
#: ``{figure_options}`` (see :func:`figure_doc`).
FIGURE_OPTIONS = """title : str, optional
    Replaces the title, which states the finding by default.
height, width : int, optional
    Figure size in pixels; by default the height fits the content and the width is the container's."""

_Function = TypeVar("_Function", bound=Callable[..., Any])


def figure_doc(func: _Function) -> _Function:
    """The figure function, with :data:`FIGURE_OPTIONS` written where its docstring says
    ``{figure_options}``; the function itself is unchanged.
    """
    return fill_docstring(func, figure_options=FIGURE_OPTIONS)


#: A horizontal legend at the bottom of the figure, under the axis title (the bottom margin leaves room).
LEGEND_BELOW: dict[str, Any] = {
    "orientation": "h",
    "x": 0,
    "xanchor": "left",
    "yref": "container",
    "y": 0.01,
    "yanchor": "bottom",
}


def subtitle(clauses: Sequence[str]) -> str:
    """The full definition of a figure: the non-empty clauses joined by ``"; "``, one paragraph.

    It is what "About this chart" shows (:func:`about`); the figure itself carries one subtitle line.

    Parameters
    ----------
    clauses : sequence of str
        Empty clauses are left out.

    Returns
    -------
    str

    Examples
    --------
    >>> subtitle(["unit: a session", "", "window 30min"])
    'unit: a session; window 30min'
    """
    return "; ".join(c for c in clauses if c)


def line(parts: Sequence[str]) -> str:
    """The subtitle: the non-empty parts joined by ``" · "`` (unit, period, time zone), on one line.

    Parameters
    ----------
    parts : sequence of str

    Returns
    -------
    str

    Examples
    --------
    >>> line(["conversations", "", "2026-10-12 to 2026-10-18", "America/New_York"])
    'conversations · 2026-10-12 to 2026-10-18 · America/New_York'
    """
    return " · ".join(p for p in parts if p)


def about(fig: go.Figure) -> str:
    """The definitions behind a figure drawn by chatanalytics ("About this chart"), or ``""``.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        Any figure; one that chatanalytics did not draw has no definitions.

    Returns
    -------
    str
        One paragraph: what is counted, the denominator, windows, censoring, intervals, the slice.
    """
    meta = fig.layout.meta
    return str(meta.get("about", "")) if isinstance(meta, dict) else ""


# plotly draws a legend item as a 40 px symbol and its text; a row of items wraps at the plot's width,
# taken here as a notebook's narrowest plot
_LEGEND_ROW_PX = 640
_LEGEND_CHAR_PX = 7.0


def legend_rows(fig: go.Figure) -> int:
    """How many rows a horizontal legend of the figure's traces takes (0 when no legend is shown).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        A trace takes room in the legend when it has a name and ``showlegend`` is not False.

    Returns
    -------
    int
    """
    if fig.layout.showlegend is False:
        return 0
    widths = [
        46 + _LEGEND_CHAR_PX * len(str(t.name or ""))
        for t in fig.data
        if t.showlegend is not False and t.name
    ]
    if not widths:
        return 0
    rows, used = 1, 0.0
    for w in widths:
        if used and used + w > _LEGEND_ROW_PX:
            rows, used = rows + 1, 0.0
        used += w
    return rows


# plotly draws a figure without a width at its container's width, and at 700 px where it cannot tell (a
# widget's first draw, a page without a container width): titles are wrapped to fit that, with the
# average advance of the theme's title (17 px) and subtitle (11.5 px) fonts, measured in Chromium
NARROWEST_PX = 700
_TITLE_CHAR_PX = 9.4
_SUBTITLE_CHAR_PX = 6.5


def wrap_lines(text: str, room_px: float, char_px: float) -> str:
    """``text`` wrapped to fit ``room_px`` pixels, each of its ``<br>`` lines on its own, in lines of
    even length.

    Parameters
    ----------
    text : str
    room_px : float
        The width the text may take.
    char_px : float
        The average advance of a character in the text's font.

    Returns
    -------
    str
        The lines joined with ``<br>``.

    Examples
    --------
    >>> wrap_lines("23% of triggered conversations completed in chatbot, 16% in popup", 400, 10)
    '23% of triggered conversations<br>completed in chatbot, 16% in popup'
    """
    n = max(int(room_px // char_px), 20)
    return "<br>".join(_balanced(part, n) for part in text.split("<br>"))


def wrap_parts(text: str, room_px: float, char_px: float) -> str:
    """A subtitle line (:func:`line`) wrapped to fit ``room_px`` pixels between its ``" · "`` parts.

    A part longer than a line is wrapped at words (:func:`wrap_lines`).

    Parameters
    ----------
    text : str
    room_px, char_px : float
        As in :func:`wrap_lines`.

    Returns
    -------
    str
        The lines joined with ``<br>``; the parts on a line joined with ``" · "``.

    Examples
    --------
    >>> wrap_parts("unit: session · window 30min · all dates in the data · entry time, UTC", 300, 6.5)
    'unit: session · window 30min<br>all dates in the data · entry time, UTC'
    """
    n = max(int(room_px // char_px), 20)
    lines: list[str] = []
    for part in text.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= n:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "<br>".join(wrap_lines(x, room_px, char_px) for x in lines)


def _balanced(text: str, n: int) -> str:
    """``text`` in as few lines of at most ``n`` characters as fit, the lines as even as they can be
    (no last line of one word).
    """
    lines = wrap(text, n).count("<br>") + 1 if text else 1
    if lines == 1:
        return text
    for width in range(-(-len(text) // lines), n + 1):
        out = wrap(text, width)
        if out.count("<br>") + 1 == lines:
            return out
    return wrap(text, n)


def title_room(fig: go.Figure, width: int | None, title_from: str) -> float:
    """The width in pixels a title starting where :func:`finish` puts it may take without leaving the figure.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    width : int, optional
        The figure's width; :data:`NARROWEST_PX` when not set.
    title_from : {"plot", "figure"}

    Returns
    -------
    float
    """
    w = width or NARROWEST_PX
    if title_from == "figure":
        left = 0.02 * w
    else:
        # the plot's left edge: the margin, and a little more where tick labels push it out
        left = (fig.layout.margin.l if fig.layout.margin.l is not None else 70) + 10
    return w - left - 16


def finish(
    fig: go.Figure,
    title: str,
    sub: str,
    definition: Sequence[str] = (),
    *,
    height: int | None = None,
    width: int | None = None,
    title_from: Literal["plot", "figure"] = "plot",
    bottom: int | None = None,
    legend_below: bool = False,
    plot_px: int = 300,
) -> go.Figure:
    """Apply the theme, place the title and the one subtitle line, and size the figure to its content.

    The title states the finding; the subtitle gives the unit, period and time zone on one line; the
    full definition goes into ``layout.meta["about"]`` (:func:`about`), for "About this chart" and
    ``result.describe(kind)``. The height is the margins plus ``plot_px`` of plot, so a plot keeps its
    room whatever the title, subtitle and legend take.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        Changed in place.
    title : str
        The finding; each of its ``<br>`` lines wrapped to fit the figure's width (:data:`NARROWEST_PX`
        when not set), at most 80 characters.
    sub : str
        The subtitle line (:func:`line`), wrapped to fit as well.
    definition : sequence of str
        The clauses of the full definition (:func:`subtitle`).
    height, width : int, optional
        Figure size in pixels; the height fits the content by default.
    title_from : {"plot", "figure"}, default "plot"
        Align the title with the plot's left edge, or with the figure's (for figures whose left margin
        grows with long labels, such as agent names).
    bottom : int, optional
        The bottom margin in pixels above the legend: by default 70.
    legend_below : bool, default False
        Put the legend under the plot (:data:`LEGEND_BELOW`), with a row of margin per legend row.
    plot_px : int, default 300
        The plot's height in pixels when the height is not given.

    Returns
    -------
    plotly.graph_objects.Figure
        The same figure.
    """
    apply_theme(fig)
    room = title_room(fig, width, title_from)
    title = wrap_lines(title, min(room, 80 * _TITLE_CHAR_PX), _TITLE_CHAR_PX)
    sub = wrap_parts(sub, room, _SUBTITLE_CHAR_PX) if sub else ""
    n_lines = sub.count("<br>") + 1 if sub else 0
    title_lines = title.count("<br>") + 1
    placed: dict[str, Any] = {
        "text": title,
        "subtitle": {"text": sub},
        # anchored at the top of the figure, so the subtitle grows down into a margin sized for it
        "yref": "container",
        "y": 1,
        "yanchor": "top",
        "pad": {"t": 14 + 22 * (title_lines - 1)},
    }
    if title_from == "figure":
        placed.update(xref="container", x=0.02, xanchor="left")
    if legend_below:
        fig.update_layout(legend=LEGEND_BELOW)
    legend_px = 22 * legend_rows(fig) + 6 if legend_below else 0
    top = 50 + 22 * title_lines + 16 * n_lines
    margin_b = (bottom if bottom is not None else 70) + legend_px
    fig.update_layout(
        title=placed,
        margin={"t": top, "b": margin_b},
        # the plot keeps at least 45% of the height, however tall the legend and title grow
        height=height
        if height is not None
        else top + max(plot_px, round(0.82 * (top + margin_b))) + margin_b,
        width=width,
        meta={"about": subtitle(definition)},
    )
    return fig


def level_ticks(ticks: Sequence[str], room_px: float = 600) -> tuple[int, int]:
    """The angle of category tick labels and the bottom margin they need.

    Labels stand level while they fit side by side in ``room_px``; else they run downwards (at -90°,
    never slanting left into the y-axis title).

    Parameters
    ----------
    ticks : sequence of str
        The labels as drawn (plain text, no line breaks).
    room_px : float, default 600
        The plot's width in pixels at the narrowest size drawn.

    Returns
    -------
    angle : int
        ``0`` or ``-90``, for ``xaxis.tickangle``.
    bottom : int
        The bottom margin in pixels for the labels and the axis title.

    Examples
    --------
    >>> level_ticks(["a", "b"]), level_ticks(["a long agent name (n=10)"] * 8)
    ((0, 80), (-90, 236))
    """
    longest = max((len(t) for t in ticks), default=0)
    if 7 * longest <= room_px / max(len(ticks), 1):
        return 0, 80
    return -90, 80 + int(6.5 * longest)


def spaced_ticks(
    values: Sequence[float], first: Sequence[float], span: float, gap: float = 0.045
) -> list[float]:
    """Tick values at least ``gap`` of the axis ``span`` apart: those in ``first`` win, then the others.

    Two close ticks (40 and 45 on a 0-200 s axis) print their labels on top of each other.

    Parameters
    ----------
    values : sequence of float
        Candidate ticks.
    first : sequence of float
        Ticks to keep before any other (e.g. the thresholds marked on the plot).
    span : float
        The axis' length in data units.
    gap : float, default 0.045

    Returns
    -------
    list of float
        Sorted.

    Examples
    --------
    >>> spaced_ticks([0, 20, 40, 60, 80, 100, 150, 200], [10, 20, 30, 45, 60, 100], 208)
    [0, 10, 20, 30, 45, 60, 80, 100, 150, 200]
    """
    kept: list[float] = []
    for v in [*first, *sorted(values)]:
        if all(abs(v - k) >= gap * span for k in kept):
            kept.append(v)
    return sorted(kept)


def empty_note(text: str) -> list[dict[str, Any]]:
    """A muted note in the middle of the plot, for a figure with nothing to draw.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of dict
        One annotation, for ``layout.annotations``.
    """
    return [
        {
            "text": text,
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
            "showarrow": False,
            "font": {"color": MUTED},
        }
    ]


def error_bars(y: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict[str, Any]:
    """Vertical 95% interval error bars from the values and their bounds (missing bounds draw nothing).

    Parameters
    ----------
    y, low, high : numpy.ndarray
        The values and their lower and upper bounds.

    Returns
    -------
    dict
        For a trace's ``error_y``.
    """
    return {**ERROR_BARS, "array": np.nan_to_num(high - y), "arrayminus": np.nan_to_num(y - low)}


def mark_level(fig: go.Figure, y: float, text: str) -> None:
    """A dashed horizontal reference line across the plot, labelled at its right end.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        Changed in place.
    y : float
        The level, e.g. Adobe's accept window or the per-agent chat cap.
    text : str
        The label.
    """
    fig.add_hline(
        y=y,
        line=REFERENCE_LINE,
        annotation={"text": text, "font": {"size": 11, "color": ALERT}, "xanchor": "right", "x": 1},
    )
