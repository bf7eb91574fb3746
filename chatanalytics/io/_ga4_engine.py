"""The GA4 BigQuery export normalised where it lives: an Ibis expression over the raw export table.

:func:`ga4_events` maps the rows of ``events_*`` / ``events_intraday_*`` tables to canonical events with the
same rules as ``read_events(format="ga4_bigquery")`` (see :mod:`chatanalytics.io._ga4`), written as one Ibis
expression, so it runs on the engine that holds the export: BigQuery itself, Spark over the Parquet form of
the export, or DuckDB over Parquet files larger than memory. Every analysis accepts the result.

What differs from ``read_events``, which can afford per-value work in Python:

- there is no load report: rows whose event name the plan does not map, or without a time, are left out;
- contact details are handled in the engine with the loaders' RE2-compatible prefilters, more coarsely: a
  conversation or agent name, a conversation or UI type, or a meeting-info text, that may hold an email
  address or a phone number becomes ``[redacted]`` as a whole; a page URL whose query string or fragment
  may hold one keeps only its part before ``?`` / ``#``, followed by ``?[redacted]``, and becomes
  ``[redacted]`` when its part before them may hold one (an ``@``, or a phone number in the path); an id
  holding ``@`` or ``%40`` becomes ``[redacted]``.
"""

from __future__ import annotations

from typing import Any

from ..schema import CONVERSATION_TYPE_TOKENS, UI_TYPE_TOKENS
from ._plan import TrackingPlan
from ._privacy import ID_COLUMNS, MAY_HOLD_PHONE, PREFILTERS, REDACTED

__all__ = ["ga4_events"]

_ID_COLUMNS = ("conversation_id", "session_id", "agent_id", "event_id")
# a URL's part before ``?`` / ``#`` that may hold a contact: an address sign (plain, percent-encoded, or
# full-width and small, raw or UTF-8 percent-encoded), a phone number within one path segment, or a
# segment with percent-encoded non-ASCII text (a phone word of another script) and seven digits
_PATH_CONTACT = (
    r"@|%40|\x{ff20}|\x{fe6b}|(?i:%EF%BC%A0|%EF%B9%AB)"
    r"|%[C-Fc-f][0-9A-Fa-f](?:%[89ABab][0-9A-Fa-f])+[^/]*[0-9](?:[^/]*[0-9]){6}|"
    + MAY_HOLD_PHONE.replace("[^0-9A-Za-z]", "[^0-9A-Za-z/]")
)
# a query or fragment value holding percent-encoded non-ASCII text (a phone word of another script, a
# full-width digit) and then a digit
_ENCODED_WORD_DIGIT = r"%[C-Fc-f][0-9A-Fa-f](?:%[89ABab][0-9A-Fa-f])+[^&#]*[0-9]"
_WHOLE = r"^-?[0-9]+\.0+$"
_INT_PART = r"^(-?[0-9]+)\.0+$"
_BEFORE_QUERY = r"^[^?#]*"


def ga4_events(raw: Any, plan: TrackingPlan | None = None) -> Any:
    """Canonical Dynamic Chat events from a raw GA4 BigQuery export table, as a lazy Ibis table.

    Parameters
    ----------
    raw : ibis Table
        The export's rows with its columns ``event_name``, ``event_timestamp`` (INT64 microseconds),
        ``event_params`` (an array of ``{key, value: {string_value, int_value, float_value,
        double_value}}``), ``user_pseudo_id`` and the ``batch_*`` columns: a BigQuery table
        (``ibis.bigquery.connect(...).table("events_*", database="project.analytics_123")``), or the
        export's Parquet files read by Spark or DuckDB.
    plan : TrackingPlan, optional
        The site's GA4 names (default: :meth:`TrackingPlan.default`).

    Returns
    -------
    ibis Table
        The canonical columns (checked by :func:`chatanalytics.events_table`), one row per chat event:
        daily and intraday copies of an event are kept once (on ``event_id``, as ``read_events`` does).

    Examples
    --------
    >>> import ibis, chatanalytics as ca
    >>> raw = ibis.duckdb.connect().read_parquet("tests/data/ga4_bigquery/parquet/*.parquet")
    >>> int(ca.ga4_events(raw).count().execute())
    3
    """
    import ibis

    from ..analysis import events_table
    from ..errors import InvalidParameterError

    if plan is None:
        plan = TrackingPlan.default()
    elif not isinstance(plan, TrackingPlan):
        raise InvalidParameterError("plan", plan, reason="a TrackingPlan is expected")
    if not isinstance(raw, ibis.expr.types.Table):
        raise InvalidParameterError("raw", type(raw).__name__, reason="expected an Ibis table")
    missing = [c for c in ("event_name", "event_timestamp", "event_params") if c not in raw.columns]
    if missing:
        raise InvalidParameterError(
            "raw", ", ".join(missing), reason="not a GA4 BigQuery export table: missing column"
        )
    value_type = raw.schema()["event_params"].value_type.fields["value"]
    value_fields = [
        f for f in ("string_value", "int_value", "double_value", "float_value") if f in value_type
    ]

    def param(key: str, *, ident: bool = False) -> Any:
        def text(p: Any) -> Any:
            v = p["value"]
            parts = []
            for f in value_fields:
                x = v[f]
                if f == "string_value":
                    parts.append(x.nullif(""))
                elif f == "int_value":
                    parts.append(x.cast("string"))
                elif ident:
                    whole = (x == x.floor()) & (x.abs() < 9e15)
                    parts.append(ibis.ifelse(whole, x.cast("int64").cast("string"), x.cast("string")))
                else:
                    parts.append(x.cast("string"))
            return ibis.coalesce(*parts)

        return raw.event_params.filter(lambda p: p["key"] == key).map(text).join("").nullif("")

    cols = plan.columns("ga4")
    name = raw.event_name.nullif("")
    by_name = [(name == n, c) for n, c in plan.events("ga4").items()]
    action_key = plan.action_key("ga4")
    cases = list(by_name)
    if action_key:
        action = param(action_key).strip().upper()
        cases += [(action == v, c) for v, c in plan.action_values("ga4").items()]
    event_type = ibis.cases(*cases, else_=ibis.null("string")) if cases else ibis.null("string")
    us = raw.event_timestamp.cast("int64")
    upid = raw.user_pseudo_id.nullif("") if "user_pseudo_id" in raw.columns else ibis.null("string")

    def batch(c: str) -> Any:
        return raw[c].cast("string").fill_null("") if c in raw.columns else ibis.literal("")

    batch_key = ibis.literal("ga4:") + ibis.literal("|").join(
        [upid.fill_null(""), us.cast("string"), name.fill_null("")]
        + [batch(c) for c in ("batch_page_id", "batch_ordering_id", "batch_event_index")]
    )
    values: dict[str, Any] = {}
    for column, key in cols.items():
        if column in ("event_time_utc", "event_id", "page_url"):
            continue
        values[column] = param(key, ident=column in _ID_COLUMNS)
    page = [param(cols["page_url"])] if "page_url" in cols else []
    values["page_url"] = ibis.coalesce(*page, param("page_location"))
    values["visitor_id"] = upid
    values["analytics_session_id"] = upid + ":" + param("ga_session_id", ident=True)
    own = [param(cols["event_id"], ident=True)] if "event_id" in cols else []
    values["event_id"] = ibis.coalesce(*own, batch_key)
    for column in _ID_COLUMNS:
        if column in values:
            x = values[column]
            values[column] = ibis.ifelse(x.re_search(_WHOLE), x.re_extract(_INT_PART, 1), x)
    for column, tokens in (("conversation_type", CONVERSATION_TYPE_TOKENS), ("ui_type", UI_TYPE_TOKENS)):
        if column in values:
            values[column] = _token(values[column], tokens)
    values = _scrubbed(values)
    table = raw.select(
        event_time_utc=ibis.timestamp("1970-01-01 00:00:00+00:00") + us.as_interval("us"),
        event_type=event_type,
        **values,
    )
    table = table.filter(table.event_type.notnull() & table.event_time_utc.notnull())
    table = table.distinct(on="event_id", keep="first")
    return events_table(table)


def _token(value: Any, tokens: dict[str, str]) -> Any:
    """The canonical spelling of a conversation or UI type (as ``schema.conversation_type_token``)."""
    import ibis

    raw = value.strip().nullif("")
    key = raw.lower().re_replace("[^a-z0-9]+", "_").re_replace("^_+|_+$", "")
    return ibis.cases(*[(key == k, v) for k, v in tokens.items()], else_=raw)


def _scrubbed(values: dict[str, Any]) -> dict[str, Any]:
    """Contact details handled in the engine (see the module docstring)."""
    import ibis

    out = dict(values)
    for column in ("conversation_name", "agent_name", "conversation_type", "ui_type", "meeting_info"):
        if column in out:
            x = out[column]
            out[column] = ibis.ifelse(x.re_search(PREFILTERS[column]), REDACTED, x)
    if "page_url" in out:
        url = out["page_url"]
        head = url.re_extract(_BEFORE_QUERY, 0)
        tail = url.re_replace(_BEFORE_QUERY, "")
        out["page_url"] = ibis.cases(
            (head.re_search(_PATH_CONTACT), REDACTED),
            (
                tail.re_search(PREFILTERS["page_url"])
                | tail.re_search(MAY_HOLD_PHONE)
                | tail.re_search(_ENCODED_WORD_DIGIT),
                head + "?" + REDACTED,
            ),
            else_=url,
        )
    for column in ID_COLUMNS:
        if column in out:
            x = out[column]
            out[column] = ibis.ifelse(x.re_search("@|%40"), REDACTED, x)
    return out
