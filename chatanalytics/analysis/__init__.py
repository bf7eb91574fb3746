"""Analyses of canonical events. Compute only: they return tables and result objects, never figures."""

from ._overview import event_counts
from .funnel import FunnelResult, funnel

__all__ = ["FunnelResult", "event_counts", "funnel"]
