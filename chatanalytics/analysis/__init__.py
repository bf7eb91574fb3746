"""Analyses of canonical events. Compute only: they return tables and result objects, never figures."""

from ._overview import event_counts
from .adobe import adobe_metrics
from .funnel import FunnelResult, funnel, optional

__all__ = ["FunnelResult", "adobe_metrics", "event_counts", "funnel", "optional"]
