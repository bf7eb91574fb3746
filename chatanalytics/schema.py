"""The canonical event schema: columns, dtypes, event types and :func:`validate_events`.

Every loader produces, and every analysis accepts, a pandas DataFrame with exactly these columns
(``docs/export-formats.md`` section 1):

==========================  ===========================  ==================================================
column                      dtype                        meaning
==========================  ===========================  ==================================================
``event_time_utc``          ``datetime64[us, UTC]``      event time in UTC
``event_type``              ``category`` (11 values)     Dynamic Chat callback constant, documented order
``session_id``              ``str``                      Dynamic Chat ``payload.sid``
``conversation_id``         ``str``                      ``payload.id``, always a string (``4471902``)
``conversation_name``       ``str``                      ``payload.name``
``conversation_type``       ``str``                      ``dialogue`` / ``conversational_flow`` (unknown kept)
``ui_type``                 ``str``                      ``popup`` / ``chatbot`` / ``inline`` (unknown kept)
``agent_id``                ``str``                      ``payload.agentID``
``agent_name``              ``str``                      ``payload.agentName``
``meeting_info``            ``str``                      ``payload.meetingInfo`` as raw JSON text
``visitor_id``              ``str``                      the receiving tool's anonymous visitor key
``page_url``                ``str``                      page on which the callback fired (PII scrubbed)
``analytics_session_id``    ``str``                      the receiving tool's own session key
``event_id``                ``str``                      native unique id, when the source has one
``event_count``             ``Int64``                    1 for event-level sources
``time_granularity``        ``category``                 ``exact``/``second``/``minute``/``hour``/``day``
``source_format``           ``category``                 the loader that read the record
``source_file``             ``str``                      the file it came from
``source_record``           ``Int64``                    1-based record (line) number in that file
==========================  ===========================  ==================================================

``event_time_utc`` lies in :data:`TIME_RANGE`, 1970-01-01 through 2199-12-31 (UTC): ``read_events``
rejects a record outside it with the reason ``time out of range`` and :func:`validate_events` refuses a
frame holding one. The range starts at the Unix epoch (no web analytics export is older, and epoch
times of 0 are still read) and ends 62 years before pandas' nanosecond times overflow (2262-04-11), so
every analysis, report and daily count works across all of it, with room for windows, time zones and
period ends; a daily count over the whole range has at most 84,000 days.

A source time without a UTC offset is read as UTC, and a date-only time (``"2026-10-01"``) as midnight
UTC; the load report counts both in its "no UTC offset" note. An event name is matched after the white
space around it (tab, line ends, NBSP, the other Unicode spaces, a zero-width space) is trimmed.

``str`` is pandas' string dtype backed by pyarrow (``pd.StringDtype("pyarrow", na_value=nan)``), the
default string dtype of pandas 3; missing values are ``NaN``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from .errors import InvalidParameterError, SchemaError

__all__ = [
    "COLUMNS",
    "CONVERSATION_TYPES",
    "EVENT_ALIASES",
    "EVENT_TYPES",
    "STRING",
    "TIME_GRANULARITIES",
    "TIME_RANGE",
    "UI_TYPES",
    "EventType",
    "empty_events",
    "make_events",
    "normalize_conversation_type",
    "normalize_ui_type",
    "validate_events",
]

#: The 11 Dynamic Chat callback constants of ``Enum.Events``, in the order Adobe documents them.
EVENT_TYPES: tuple[str, ...] = (
    "CONVERSATION_TRIGGERED",
    "CONVERSATION_ENGAGED",
    "CONVERSATION_COMPLETED",
    "CONVERSATION_CLOSED",
    "CONVERSATION_INPUT_PHONE",
    "CONVERSATION_INPUT_EMAIL",
    "CONVERSATION_MEETING_BOOKED",
    "CONVERSATION_LIVE_CHAT_REQUESTED",
    "CONVERSATION_LIVE_CHAT_INITIATED",
    "CONVERSATION_LIVE_CHAT_ENDED",
    "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT",
)

#: Short names users may give instead of the constants (``"engaged"`` for ``CONVERSATION_ENGAGED``).
EVENT_ALIASES: dict[str, str] = {
    "triggered": "CONVERSATION_TRIGGERED",
    "engaged": "CONVERSATION_ENGAGED",
    "completed": "CONVERSATION_COMPLETED",
    "closed": "CONVERSATION_CLOSED",
    "phone_input": "CONVERSATION_INPUT_PHONE",
    "email_input": "CONVERSATION_INPUT_EMAIL",
    "meeting_booked": "CONVERSATION_MEETING_BOOKED",
    "live_chat_requested": "CONVERSATION_LIVE_CHAT_REQUESTED",
    "live_chat_initiated": "CONVERSATION_LIVE_CHAT_INITIATED",
    "live_chat_ended": "CONVERSATION_LIVE_CHAT_ENDED",
    "live_chat_timeout": "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT",
}

TIME_GRANULARITIES: tuple[str, ...] = ("exact", "second", "minute", "hour", "day")
CONVERSATION_TYPES: tuple[str, ...] = ("dialogue", "conversational_flow")
UI_TYPES: tuple[str, ...] = ("popup", "chatbot", "inline")

#: pandas' pyarrow-backed string dtype with NaN as the missing value (``"str"`` in pandas 3).
STRING = pd.StringDtype("pyarrow", na_value=np.nan)
EVENT_TYPE_DTYPE = pd.CategoricalDtype(list(EVENT_TYPES), ordered=False)
TIME_GRANULARITY_DTYPE = pd.CategoricalDtype(list(TIME_GRANULARITIES), ordered=False)
TIME_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")

#: The first and last event time the canonical frame holds (both included); see the module docstring.
TIME_RANGE: tuple[pd.Timestamp, pd.Timestamp] = (
    pd.Timestamp("1970-01-01 00:00:00", tz="UTC"),
    pd.Timestamp("2199-12-31 23:59:59.999999", tz="UTC"),
)

#: Column name -> dtype, in canonical order. ``source_format`` is a category whose categories are the
#: formats present in the frame.
COLUMNS: dict[str, Any] = {
    "event_time_utc": TIME_DTYPE,
    "event_type": EVENT_TYPE_DTYPE,
    "session_id": STRING,
    "conversation_id": STRING,
    "conversation_name": STRING,
    "conversation_type": STRING,
    "ui_type": STRING,
    "agent_id": STRING,
    "agent_name": STRING,
    "meeting_info": STRING,
    "visitor_id": STRING,
    "page_url": STRING,
    "analytics_session_id": STRING,
    "event_id": STRING,
    "event_count": pd.Int64Dtype(),
    "time_granularity": TIME_GRANULARITY_DTYPE,
    "source_format": "category",
    "source_file": STRING,
    "source_record": pd.Int64Dtype(),
}

STRING_COLUMNS: tuple[str, ...] = tuple(c for c, d in COLUMNS.items() if d is STRING)


class EventType(StrEnum):
    """The 11 Dynamic Chat callback events.

    Members are named and valued by the ``Enum.Events`` constant; :meth:`parse` also accepts the short
    alias (``"engaged"``), the constant in any case, or a member.

    Examples
    --------
    >>> EventType.parse("engaged")
    <EventType.CONVERSATION_ENGAGED: 'CONVERSATION_ENGAGED'>
    >>> EventType.CONVERSATION_INPUT_EMAIL.alias
    'email_input'
    """

    CONVERSATION_TRIGGERED = "CONVERSATION_TRIGGERED"
    CONVERSATION_ENGAGED = "CONVERSATION_ENGAGED"
    CONVERSATION_COMPLETED = "CONVERSATION_COMPLETED"
    CONVERSATION_CLOSED = "CONVERSATION_CLOSED"
    CONVERSATION_INPUT_PHONE = "CONVERSATION_INPUT_PHONE"
    CONVERSATION_INPUT_EMAIL = "CONVERSATION_INPUT_EMAIL"
    CONVERSATION_MEETING_BOOKED = "CONVERSATION_MEETING_BOOKED"
    CONVERSATION_LIVE_CHAT_REQUESTED = "CONVERSATION_LIVE_CHAT_REQUESTED"
    CONVERSATION_LIVE_CHAT_INITIATED = "CONVERSATION_LIVE_CHAT_INITIATED"
    CONVERSATION_LIVE_CHAT_ENDED = "CONVERSATION_LIVE_CHAT_ENDED"
    CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT = "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"

    @property
    def alias(self) -> str:
        """The short name of this event (``"engaged"``)."""
        return _CONSTANT_TO_ALIAS[self.value]

    @classmethod
    def parse(cls, value: Any, *, param: str = "event_type") -> EventType:
        """Return the member named by ``value`` (a member, constant or alias, any case).

        Raises
        ------
        InvalidParameterError
            For anything else, with the closest valid name ("Did you mean ...?").
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            key = value.strip()
            hit = _LOOKUP.get(key.lower())
            if hit is not None:
                return cls(hit)
        allowed = list(EVENT_ALIASES) + list(EVENT_TYPES)
        raise InvalidParameterError(param, value, allowed, reason="not a Dynamic Chat event")


_CONSTANT_TO_ALIAS = {v: k for k, v in EVENT_ALIASES.items()}
_LOOKUP = {**{c.lower(): c for c in EVENT_TYPES}, **EVENT_ALIASES}


# --------------------------------------------------------------------------- normalisation

CONVERSATION_TYPE_TOKENS = {
    "dialogue": "dialogue",
    "dialog": "dialogue",
    "dialogues": "dialogue",
    "conversational_flow": "conversational_flow",
    "conversation_flow": "conversational_flow",
    "conversationalflow": "conversational_flow",
    "conversationflow": "conversational_flow",
    "conversational_flows": "conversational_flow",
    "flow": "conversational_flow",
    "cf": "conversational_flow",
}
UI_TYPE_TOKENS = {
    "popup": "popup",
    "pop_up": "popup",
    "chatbot": "chatbot",
    "chat_bot": "chatbot",
    "inline": "inline",
    "in_line": "inline",
}


def _token(value: str, table: Mapping[str, str]) -> str | None:
    raw = value.strip()
    if not raw:
        return None
    key = re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")
    return table.get(key, raw)


def conversation_type_token(value: str) -> str | None:
    """``dialogue`` / ``conversational_flow`` for a known spelling of ``payload.type``, else the value.

    Case, spaces and hyphens do not matter (``"Conversation Flow"`` gives ``conversational_flow``); a
    token that is not recognised is kept as it came (stripped), so nothing is lost.
    """
    return _token(value, CONVERSATION_TYPE_TOKENS)


def ui_type_token(value: str) -> str | None:
    """``popup`` / ``chatbot`` / ``inline`` for a known spelling of ``payload.uiType``, else the value."""
    return _token(value, UI_TYPE_TOKENS)


def _normalize(values: pd.Series, func: Any) -> pd.Series:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(v) for v in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=STRING)


def normalize_conversation_type(values: pd.Series) -> pd.Series:
    """Normalise a column of ``payload.type`` values (see :func:`conversation_type_token`)."""
    return _normalize(values, conversation_type_token)


def normalize_ui_type(values: pd.Series) -> pd.Series:
    """Normalise a column of ``payload.uiType`` values (see :func:`ui_type_token`)."""
    return _normalize(values, ui_type_token)


# --------------------------------------------------------------------------- construction


def empty_events() -> pd.DataFrame:
    """A canonical event frame with no rows."""
    data = {c: pd.Series([], dtype=d) for c, d in COLUMNS.items()}
    return pd.DataFrame(data)


def make_events(records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Build a canonical event frame from a few hand-written records.

    Meant for examples, tests and small what-if frames. Columns that are not given are null;
    ``event_type`` may be a constant or an alias; ``event_time_utc`` may be any value
    :func:`pandas.to_datetime` reads (naive values are taken as UTC); ids given as numbers become
    strings without a decimal part. The result passes :func:`validate_events`.

    Examples
    --------
    >>> ev = make_events([
    ...     {"event_time_utc": "2026-11-02 09:00:00", "event_type": "triggered", "session_id": "s1",
    ...      "conversation_id": 4471902},
    ...     {"event_time_utc": "2026-11-02 09:00:05", "event_type": "engaged", "session_id": "s1",
    ...      "conversation_id": 4471902},
    ... ])
    >>> ev["conversation_id"].tolist()
    ['4471902', '4471902']
    """
    df = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    unknown = [c for c in df.columns if c not in COLUMNS]
    if unknown:
        raise InvalidParameterError("records", unknown[0], list(COLUMNS), reason="unknown column")
    n = len(df)
    out: dict[str, pd.Series] = {}
    for col, dtype in COLUMNS.items():
        if col not in df.columns:
            out[col] = pd.Series([None] * n, dtype=dtype if col != "source_format" else STRING)
            continue
        s = df[col].reset_index(drop=True)
        if col == "event_time_utc":
            t = pd.to_datetime(s, utc=True, format="mixed")
            out[col] = t.astype(TIME_DTYPE)
        elif col == "event_type":
            names = [None if pd.isna(v) else EventType.parse(v).value for v in s]
            out[col] = pd.Series(names, dtype=EVENT_TYPE_DTYPE)
        elif dtype is STRING or col == "source_format":
            out[col] = _ids_to_string(s)
        else:
            out[col] = s.astype(dtype)
    frame = pd.DataFrame(out)
    frame["conversation_type"] = normalize_conversation_type(frame["conversation_type"])
    frame["ui_type"] = normalize_ui_type(frame["ui_type"])
    frame["event_count"] = frame["event_count"].fillna(1)
    frame["time_granularity"] = frame["time_granularity"].fillna("exact")
    frame["source_format"] = frame["source_format"].fillna("manual").astype("category")
    return validate_events(frame)


def _ids_to_string(s: pd.Series) -> pd.Series:
    """Cast a column to strings, writing whole floats as integers (``4471902.0`` -> ``'4471902'``)."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.notna() & (s == np.floor(s))
        as_int = s.where(whole).astype("Int64").astype(STRING)
        return as_int.where(whole, s.astype(STRING)).astype(STRING)
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("Int64").astype(STRING)
    if s.dtype == object:
        vals = [
            None
            if v is None or (isinstance(v, float) and np.isnan(v))
            else str(int(v))
            if isinstance(v, float) and v.is_integer()
            else str(v)
            for v in s
        ]
        return pd.Series(vals, dtype=STRING)
    return s.astype(STRING)


# --------------------------------------------------------------------------- validation


def validate_events(df: Any) -> pd.DataFrame:
    """Check that ``df`` follows the canonical event schema; return it unchanged if it does.

    Every problem is collected before raising, so one call lists them all.

    Raises
    ------
    SchemaError
        With ``.failures``, a DataFrame of ``column``, ``check`` and ``detail``.
    """
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(
            f"expected a pandas DataFrame of canonical events, got {type(df).__name__}",
            pd.DataFrame({"column": [None], "check": ["type"], "detail": [type(df).__name__]}),
        )
    failures: list[tuple[str, str, str]] = []
    for col, dtype in COLUMNS.items():
        if col not in df.columns:
            failures.append((col, "missing", "column is absent"))
            continue
        actual = df[col].dtype
        if col == "source_format":
            if not isinstance(actual, pd.CategoricalDtype):
                failures.append((col, "dtype", f"expected category, got {actual}"))
        elif col in ("event_type", "time_granularity"):
            if not isinstance(actual, pd.CategoricalDtype) or list(actual.categories) != list(
                dtype.categories
            ):
                failures.append(
                    (
                        col,
                        "dtype",
                        f"expected category with categories {list(dtype.categories)}, got {actual}",
                    )
                )
        elif dtype is STRING:
            if not isinstance(actual, pd.StringDtype):
                failures.append((col, "dtype", f"expected a pandas string dtype, got {actual}"))
        elif actual != dtype:
            failures.append((col, "dtype", f"expected {dtype}, got {actual}"))
    if "event_time_utc" in df.columns:
        times = df["event_time_utc"]
        n = int(times.isna().sum())
        if n:
            failures.append(("event_time_utc", "not null", f"{n} missing values"))
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            lo, hi = TIME_RANGE
            outside = int(((times < lo) | (times > hi)).sum())
            if outside:
                failures.append(
                    (
                        "event_time_utc",
                        "in range",
                        f"{outside} values outside {lo:%Y-%m-%d} through {hi:%Y-%m-%d} (UTC)",
                    )
                )
    if "event_type" in df.columns:
        n = int(df["event_type"].isna().sum())
        if n:
            failures.append(("event_type", "not null", f"{n} missing or unknown values"))
    if "event_count" in df.columns and pd.api.types.is_numeric_dtype(df["event_count"].dtype):
        bad = int((df["event_count"].isna() | (df["event_count"] < 1)).sum())
        if bad:
            failures.append(("event_count", ">= 1", f"{bad} values missing or below 1"))
    if failures:
        table = pd.DataFrame(failures, columns=["column", "check", "detail"]).astype(STRING)
        lines = "; ".join(f"{c}: {d}" for c, _, d in failures[:10])
        more = f" (and {len(failures) - 10} more)" if len(failures) > 10 else ""
        raise SchemaError(
            f"frame does not follow the canonical event schema: {len(failures)} problem(s): {lines}{more}",
            table,
        )
    return df
