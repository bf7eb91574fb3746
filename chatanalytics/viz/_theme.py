"""The one plotly template every chatanalytics figure uses.

Restrained colours (a muted, colour-blind friendly qualitative palette), readable fonts, light grid lines,
and room at the top for the definition line shown as a subtitle. The template is registered in
``plotly.io.templates`` under :data:`TEMPLATE`; it is applied per figure and never made the global default.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["COLORS", "TEMPLATE", "apply_theme", "template"]

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
_INK = "#2B2B2B"
_MUTED = "#6B6B6B"
_GRID = "#E6E6E6"


def template() -> go.layout.Template:
    """Build the chatanalytics template.

    Returns
    -------
    plotly.graph_objects.layout.Template
    """
    axis = {
        "showgrid": True,
        "gridcolor": _GRID,
        "zeroline": False,
        "linecolor": "#BDBDBD",
        "ticks": "outside",
        "tickcolor": "#BDBDBD",
        "title": {"font": {"size": 13, "color": _MUTED}},
        "automargin": True,
    }
    return go.layout.Template(
        layout={
            "font": {"family": "Inter, 'Helvetica Neue', Arial, sans-serif", "size": 13, "color": _INK},
            "colorway": list(COLORS),
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "title": {
                "x": 0.0,
                "xanchor": "left",
                "xref": "paper",
                "font": {"size": 17, "color": _INK},
                "subtitle": {"font": {"size": 11.5, "color": _MUTED}},
            },
            "xaxis": {**axis, "showgrid": False},
            "yaxis": axis,
            "legend": {"font": {"size": 12}, "title": {"font": {"size": 12, "color": _MUTED}}},
            "hoverlabel": {"font": {"size": 12}, "bgcolor": "white", "bordercolor": "#BDBDBD"},
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
