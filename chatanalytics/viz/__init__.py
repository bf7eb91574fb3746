"""Figures: pure functions from result tables to plotly figures, all on one shared template.

Importing this package imports plotly; ``import chatanalytics`` does not import it.
"""

from ._theme import COLORS, TEMPLATE, apply_theme, template
from .funnel import VALUES, caption, funnel_figure, over_time_figure, time_figure

__all__ = [
    "COLORS",
    "TEMPLATE",
    "VALUES",
    "apply_theme",
    "caption",
    "funnel_figure",
    "over_time_figure",
    "template",
    "time_figure",
]
