"""Figures: pure functions from result tables to plotly figures, all on one shared template.

Importing this package imports plotly; ``import chatanalytics`` does not import it.
"""

from ._theme import COLORS, TEMPLATE, apply_theme, template
from .agents import accept_time_figure, concurrency_figure, hour_weekday_figure, leaderboard_figure
from .funnel import VALUES, caption, funnel_figure, over_time_figure, time_figure

__all__ = [
    "COLORS",
    "TEMPLATE",
    "VALUES",
    "accept_time_figure",
    "apply_theme",
    "caption",
    "concurrency_figure",
    "funnel_figure",
    "hour_weekday_figure",
    "leaderboard_figure",
    "over_time_figure",
    "template",
    "time_figure",
]
