"""The built-in export formats, registered with ``read_events``.

Each line registers one format module (see :mod:`chatanalytics.io._protocol` for what a module
provides). The order of the lines is the order of :data:`~chatanalytics.io.FORMATS`; ``rank`` is the
order in which content detection tries them: typed files first (GA4 Parquet and Avro, canonical Parquet),
then the specific signatures, then the dataLayer and capture formats, which take any JSON object.
"""

from __future__ import annotations

from . import (
    _adobe_feed,
    _capture,
    _datalayer,
    _ga4,
    _ga4_reports,
    _marketo,
    _parquet,
    _segment,
    _snowplow,
    _ua,
    _xdm,
)
from ._protocol import FORMATS, register

register(_capture, rank=99)
register(_parquet, rank=20)
register(_ga4, rank=10)
register(_datalayer, rank=90)
register(_adobe_feed, rank=30)
register(_marketo, rank=31)
register(_snowplow, rank=32)
register(_ga4_reports, rank=33)
register(_ua, rank=34)
register(_segment, rank=35)
register(_xdm, rank=36)

__all__ = ["FORMATS"]
