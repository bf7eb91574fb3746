"""Exceptions and warnings raised by chatanalytics.

Every error the library raises on bad input is a :class:`ChatAnalyticsError`, so a caller can catch one
type. Each subclass also derives from the built-in exception a Python user would expect
(``ValueError`` for bad data or parameters, ``RuntimeError`` for export failures).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = [
    "AggregatedDataError",
    "ChatAnalyticsError",
    "DataQualityWarning",
    "EmptyDataError",
    "ExportError",
    "InvalidParameterError",
    "LoaderError",
    "SchemaError",
]


class ChatAnalyticsError(Exception):
    """Base class of every error raised by chatanalytics."""


class SchemaError(ChatAnalyticsError, ValueError):
    """A frame does not follow the canonical event schema.

    Attributes
    ----------
    failures : pandas.DataFrame
        One row per problem found, with columns ``column``, ``check`` and ``detail``.
    """

    def __init__(self, message: str, failures: Any = None) -> None:
        super().__init__(message)
        self.failures = failures


class LoaderError(ChatAnalyticsError, ValueError):
    """An input could not be read at all (missing file, unknown format, unreadable container).

    Attributes
    ----------
    path : str or None
        The file concerned.
    record : int or None
        The 1-based record (line) number concerned, when there is one.
    """

    def __init__(self, message: str, *, path: Any = None, record: int | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.record = record


class InvalidParameterError(ChatAnalyticsError, ValueError):
    """A parameter has a value the function does not accept.

    The message names the parameter, the bad value and the allowed values, and suggests the closest
    allowed value when there is one ("Did you mean ...?").
    """

    def __init__(
        self,
        param: str,
        value: Any,
        allowed: Iterable[Any] | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        self.param = param
        self.value = value
        self.allowed = None if allowed is None else list(allowed)
        parts = [f"invalid {param}={value!r}"]
        if reason:
            parts[0] += f": {reason}"
        if self.allowed is not None:
            shown = ", ".join(repr(a) for a in self.allowed[:20])
            if len(self.allowed) > 20:
                shown += ", ..."
            parts.append(f"allowed: {shown}")
            if isinstance(value, str):
                close = difflib.get_close_matches(value, [str(a) for a in self.allowed], n=1, cutoff=0.6)
                if not close:
                    lowered = {str(a).lower(): str(a) for a in self.allowed}
                    close = [
                        lowered[c]
                        for c in difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
                    ]
                if close:
                    parts.append(f"Did you mean {close[0]!r}?")
        super().__init__(". ".join(parts))


class AggregatedDataError(ChatAnalyticsError, ValueError):
    """An analysis that follows sessions was given aggregated counts (a GA4 Explore CSV or Data API
    report, a Universal Analytics report) instead of one row per event.
    """


class EmptyDataError(ChatAnalyticsError, ValueError):
    """The input holds no records (or an analysis was given no events)."""


class ExportError(ChatAnalyticsError, RuntimeError):
    """A figure or report could not be exported (for example, no browser for static images)."""


class DataQualityWarning(UserWarning):
    """Records were rejected or de-duplicated while loading; the load report has the details."""
