"""Where a figure puts its title, caption, legend, notes and reference lines.

Every figure ends with :func:`finish`: the title says what is drawn, the subtitle carries the definition
(the caption clauses, wrapped), and the top margin grows with both so nothing overlaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go

from ._format import wrap
from ._theme import ALERT, ERROR_BARS, MUTED, REFERENCE_LINE, apply_theme

__all__ = ["LEGEND_BELOW", "empty_note", "error_bars", "finish", "mark_level", "subtitle"]

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
    """The caption: the non-empty clauses joined by ``"; "``, wrapped into lines of at most 100 characters.

    Parameters
    ----------
    clauses : sequence of str
        Empty clauses are left out.

    Returns
    -------
    str
        Lines joined by ``<br>``.

    Examples
    --------
    >>> subtitle(["unit: a session", "", "window 30min"])
    'unit: a session; window 30min'
    """
    return wrap("; ".join(c for c in clauses if c), 100)


def finish(
    fig: go.Figure,
    title: str,
    clauses: Sequence[str],
    *,
    height: int | None = None,
    width: int | None = None,
    title_from: Literal["plot", "figure"] = "plot",
    bottom: int | None = None,
    legend_below: bool = False,
) -> go.Figure:
    """Apply the theme, then place the title and the caption above the plot, in a margin sized for them.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        Changed in place.
    title : str
        May hold ``<br>`` line breaks.
    clauses : sequence of str
        The caption (:func:`subtitle`).
    height, width : int, optional
        Figure size in pixels.
    title_from : {"plot", "figure"}, default "plot"
        Align the title with the plot's left edge, or with the figure's (for figures whose left margin
        grows with long labels, such as agent names).
    bottom : int, optional
        The bottom margin in pixels: by default 110 with ``legend_below``, else 60.
    legend_below : bool, default False
        Put the legend under the plot (:data:`LEGEND_BELOW`).

    Returns
    -------
    plotly.graph_objects.Figure
        The same figure.
    """
    sub = subtitle(clauses)
    n_lines = sub.count("<br>") + 1
    title_lines = title.count("<br>") + 1
    apply_theme(fig)
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
    fig.update_layout(
        title=placed,
        margin={
            "t": 54 + 22 * title_lines + 15 * n_lines,
            "b": bottom if bottom is not None else 110 if legend_below else 60,
        },
        height=height,
        width=width,
    )
    if legend_below:
        fig.update_layout(legend=LEGEND_BELOW)
    return fig


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
