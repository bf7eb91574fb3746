"""The analyses the report and the command line run: one :class:`Analysis` per registry line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidParameterError
from ._agents import AgentPerformanceResult, agent_performance
from ._changes import ChangesResult, changes
from ._funnel import FunnelResult, funnel
from ._result import FigureKind, Result
from ._timeouts import TimeoutResult, timeouts

__all__ = ["ANALYSES", "Analysis", "ReportOptions", "register", "unregister"]


@dataclass(frozen=True)
class ReportOptions:
    """What the report and the command line pass to every analysis.

    Attributes
    ----------
    tz : str
        Time zone of days, hours and periods.
    steps : sequence
        Funnel steps.
    window : str or Timedelta
        Funnel window.
    """

    tz: str = "UTC"
    steps: Sequence[Any] = ("triggered", "engaged", "completed")
    window: Any = "30min"


@dataclass(frozen=True)
class Analysis:
    """One analysis as the report and the command line run it.

    Parameters
    ----------
    name : str
        Short name: the report's section anchor, the prefix of its figures' files (``agents_heatmap``).
    title : str
        Heading of its report section.
    run : callable
        ``run(events, options: ReportOptions) -> Result``.
    result : type
        The :class:`Result` subclass ``run`` returns.
    subject : str
        How the report names it in a sentence ("The funnel", "Agent performance").
    overview : tuple of str
        Parameters of its result shown in the report's overview (as ``"<name> <param>"``).
    """

    name: str
    title: str
    run: Callable[[Any, ReportOptions], Result]
    result: type[Result]
    subject: str = ""
    overview: tuple[str, ...] = ()

    def report_figures(self) -> dict[str, FigureKind]:
        """The figure kinds drawn in the report, in order."""
        return {k: f for k, f in self.result.FIGURES.items() if f.report}

    def figure_key(self, kind: str) -> str:
        """The name of a figure in the report and its file (``funnel``, ``funnel_over_time``)."""
        return self.name if kind == self.name else f"{self.name}_{kind}"


#: Every registered analysis by name, in report order.
ANALYSES: dict[str, Analysis] = {}


def register(analysis: Analysis) -> Analysis:
    """Add an analysis to the report and the command line (after the ones registered before).

    Parameters
    ----------
    analysis : Analysis
        Its ``name`` must be new: it names the report section, the figures' files and the CSV tables.

    Returns
    -------
    Analysis
        The analysis registered.

    Raises
    ------
    InvalidParameterError
        Its name is taken.
    """
    if analysis.name in ANALYSES:
        raise InvalidParameterError("name", analysis.name, reason="an analysis of this name is registered")
    ANALYSES[analysis.name] = analysis
    return analysis


def unregister(name: str) -> Analysis:
    """Remove an analysis from the registry and return it."""
    if name not in ANALYSES:
        raise InvalidParameterError("name", name, list(ANALYSES))
    return ANALYSES.pop(name)


def _with_tz(analysis: Callable[..., Result]) -> Callable[[Any, ReportOptions], Result]:
    """``run`` for an analysis whose only report option is the time zone."""
    return lambda events, o: analysis(events, tz=o.tz)


# one line per analysis, in report order; first, the digest of what changed opens the report
for _analysis in (
    Analysis("changes", "What changed", _with_tz(changes), ChangesResult, "The digest"),
    Analysis(
        "funnel",
        "Funnel",
        lambda events, o: funnel(events, steps=list(o.steps), window=o.window),
        FunnelResult,
        subject="The funnel",
        overview=("steps", "window", "unit"),
    ),
    Analysis(
        "agents", "Live-chat agents", _with_tz(agent_performance), AgentPerformanceResult, "Agent performance"
    ),
    Analysis("timeouts", "Live-chat timeouts", _with_tz(timeouts), TimeoutResult, "The timeout analysis"),
):
    register(_analysis)
del _analysis
