"""Loaders: every supported export into the canonical event frame, with a load report."""

from ._dataset import open_events, write_dataset
from ._ga4_engine import ga4_events
from ._plan import TrackingPlan
from ._read import FORMATS, read_events
from ._report import LoadReport, load_report

__all__ = [
    "FORMATS",
    "LoadReport",
    "TrackingPlan",
    "ga4_events",
    "load_report",
    "open_events",
    "read_events",
    "write_dataset",
]
