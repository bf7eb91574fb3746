"""Loaders: every supported export into the canonical event frame, with a load report.

A new export format is one module (``FORMATS``, ``sniff``, ``read``; see :class:`Format`) and one
:func:`register_format` line in ``chatanalytics/io/_formats.py``.
"""

from ._dataset import open_events, write_dataset
from ._ga4_engine import ga4_events
from ._plan import TrackingPlan
from ._protocol import Format, ReadContext, ReadResult
from ._protocol import register as register_format
from ._protocol import unregister as unregister_format
from ._read import FORMATS, read_events
from ._report import LoadReport, load_report

__all__ = [
    "FORMATS",
    "Format",
    "LoadReport",
    "ReadContext",
    "ReadResult",
    "TrackingPlan",
    "ga4_events",
    "load_report",
    "open_events",
    "read_events",
    "register_format",
    "unregister_format",
    "write_dataset",
]
