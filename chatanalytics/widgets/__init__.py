"""Interactive views: ipywidgets controls around plotly ``FigureWidget``s, each with a headless twin.

Importing this package does not import plotly or ipywidgets; building a widget does.
"""

from .agents import AgentWidget
from .funnel import BY_COLUMNS, WINDOWS, FunnelWidget, format_steps, parse_steps

__all__ = ["BY_COLUMNS", "WINDOWS", "AgentWidget", "FunnelWidget", "format_steps", "parse_steps"]
