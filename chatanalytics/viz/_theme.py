"""The one plotly template every chatanalytics figure uses.

Restrained colours (a muted, colour-blind friendly qualitative palette), readable fonts, light grid lines,
and room at the top for the definition line shown as a subtitle. The template is registered in
``plotly.io.templates`` under :data:`TEMPLATE`; it is applied per figure and never made the global default.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "ALERT",
    "COLORS",
    "ERROR_BARS",
    "GRID",
    "HEAT_SCALE",
    "INK",
    "MISS_SCALE",
    "MUTED",
    "REFERENCE_LINE",
    "TEMPLATE",
    "apply_theme",
    "group_color",
    "rgba",
    "template",
]

#: Name under which the template is registered in ``plotly.io.templates``.
TEMPLATE = "chatanalytics"

#: Qualitative colours, in the order groups receive them (Okabe-Ito, slightly muted, grey last for "Other").
COLORS: tuple[str, ...] = (
    "#3B6FB6",
    "#E08E2B",
    "#3A9C7A",
    "#C45A8E",
    "#6BAED6",
    "#B8A22E",
    "#8C6BB1",
    "#D2553F",
    "#5F8F3E",
    "#8C8C8C",
)
#: Text and lines.
INK = "#2B2B2B"
#: Secondary text: subtitles, axis titles, notes.
MUTED = "#6B6B6B"
#: Grid lines.
GRID = "#E6E6E6"
#: Reference lines and their notes (Adobe's accept window, the chat cap) and widget error messages.
ALERT = "#B00020"
#: A dashed reference line (Adobe's accept window, the per-agent chat cap).
REFERENCE_LINE: dict[str, object] = {"dash": "dash", "color": ALERT, "width": 1.2}
#: How 95% interval error bars look; the arrays are added per figure.
ERROR_BARS: dict[str, object] = {
    "type": "data",
    "visible": True,
    "thickness": 1.2,
    "width": 3,
    "color": "#555555",
}
#: Sequential blues starting from a visible tint, so a zero cell stands apart from an empty one.
HEAT_SCALE: list[list[object]] = [[0.0, "#E4EDF8"], [0.35, "#9CC0E4"], [0.7, "#3B6FB6"], [1.0, "#0D2F66"]]
#: Sequential reds from a visible tint, so a zero miss rate stands apart from an empty cell.
MISS_SCALE: list[list[object]] = [[0.0, "#FBE9E4"], [0.35, "#F0A48F"], [0.7, "#D2553F"], [1.0, "#7A1F12"]]


def group_color(i: int, group: str) -> str:
    """The colour of the ``i``-th group drawn: grey for ``"Other"``, else the palette in turn (grey skipped).

    Parameters
    ----------
    i : int
        The group's position among the groups drawn.
    group : str
        The group's name.

    Returns
    -------
    str
        A hex colour.
    """
    return COLORS[-1] if group == "Other" else COLORS[i % (len(COLORS) - 1)]


def rgba(hex_color: str, alpha: float) -> str:
    """A ``"#RRGGBB"`` colour as ``"rgba(r,g,b,alpha)"``, for translucent bands.

    Parameters
    ----------
    hex_color : str
    alpha : float
        Opacity in [0, 1].

    Returns
    -------
    str
    """
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def template() -> go.layout.Template:
    """Build the chatanalytics template.

    Returns
    -------
    plotly.graph_objects.layout.Template
    """
    axis = {
        "showgrid": True,
        "gridcolor": GRID,
        "zeroline": False,
        "linecolor": "#BDBDBD",
        "ticks": "outside",
        "tickcolor": "#BDBDBD",
        # an explicit standoff: without one plotly can set an axis title among long or upright tick labels
        "title": {"font": {"size": 13, "color": MUTED}, "standoff": 8},
        "automargin": True,
    }
    return go.layout.Template(
        layout={
            "font": {"family": "Inter, 'Helvetica Neue', Arial, sans-serif", "size": 13, "color": INK},
            "colorway": list(COLORS),
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "title": {
                "x": 0.0,
                "xanchor": "left",
                "xref": "paper",
                "font": {"size": 17, "color": INK},
                "subtitle": {"font": {"size": 11.5, "color": MUTED}},
            },
            "xaxis": {**axis, "showgrid": False},
            "yaxis": axis,
            "legend": {"font": {"size": 12}, "title": {"font": {"size": 12, "color": MUTED}}},
            # dark text on the white label: INK on white has a contrast ratio of 14.4 (WCAG AA asks 4.5)
            "hoverlabel": {"font": {"size": 12, "color": INK}, "bgcolor": "white", "bordercolor": "#BDBDBD"},
            "margin": {"l": 70, "r": 30, "t": 110, "b": 60},
            "bargap": 0.25,
            "bargroupgap": 0.05,
        }
    )


def _register() -> None:
    if TEMPLATE not in pio.templates:
        pio.templates[TEMPLATE] = template()


def apply_theme(fig: go.Figure) -> go.Figure:
    """Apply the chatanalytics template to ``fig`` (in place) and return it.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure

    Returns
    -------
    plotly.graph_objects.Figure
        The same figure.
    """
    _register()
    fig.update_layout(template=pio.templates[TEMPLATE])
    return fig


_register()
