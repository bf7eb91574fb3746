"""Figures: pure functions from result tables to plotly figures, all on one shared template.

Importing this package imports plotly; ``import chatanalytics`` does not import it.
"""

from ._theme import COLORS, TEMPLATE, apply_theme, template
from .agents import accept_time_figure, concurrency_figure, hour_weekday_figure, leaderboard_figure
from .changes import changes_overview_figure, changes_waterfall_figure
from .funnel import VALUES, caption, funnel_figure, over_time_figure, time_figure
from .timeouts import (
    AT_RISK_SECONDS,
    ESTIMATES,
    causes_figure,
    curves_figure,
    heatmap_figure,
    outcomes_figure,
    service_level_figure,
)

__all__ = [
    "AT_RISK_SECONDS",
    "COLORS",
    "ESTIMATES",
    "TEMPLATE",
    "VALUES",
    "accept_time_figure",
    "apply_theme",
    "caption",
    "causes_figure",
    "changes_overview_figure",
    "changes_waterfall_figure",
    "concurrency_figure",
    "curves_figure",
    "funnel_figure",
    "heatmap_figure",
    "hour_weekday_figure",
    "leaderboard_figure",
    "outcomes_figure",
    "over_time_figure",
    "service_level_figure",
    "template",
    "time_figure",
]
