"""Interactive views: ipywidgets controls around plotly ``FigureWidget``s, each with a headless twin.

Importing this package does not import plotly or ipywidgets; building a widget does.
"""

from .agents import AgentWidget
from .changes import ChangesWidget
from .funnel import BY_COLUMNS, WINDOWS, FunnelWidget, format_steps, parse_steps
from .timeouts import TimeoutWidget

__all__ = [
    "BY_COLUMNS",
    "WINDOWS",
    "AgentWidget",
    "ChangesWidget",
    "FunnelWidget",
    "TimeoutWidget",
    "format_steps",
    "parse_steps",
]
