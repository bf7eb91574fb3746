"""Analyses of canonical events. Compute only: they return tables, never figures."""

from ._overview import event_counts

__all__ = ["event_counts"]
