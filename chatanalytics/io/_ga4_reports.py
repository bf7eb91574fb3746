"""GA4 aggregated reports as canonical events: the UI / Explore CSV export and Data API ``runReport`` pages.

Both are **aggregated**: a data row is a count of events for one combination of dimension values, so
each data row becomes ONE canonical row whose ``event_count`` is the row's event count and whose time
is the start of its date dimension's period. Such rows have no visitor and no exact time, and a
session only when a custom dimension carries it: the analyses that follow sessions refuse them, and the
rows show what they are by their ``time_granularity`` (``minute``, ``hour`` or ``day``) and
``event_count``.

Formats
-------
``ga4_explore_csv``
    A report or exploration exported from the GA4 interface as CSV: ``#`` preamble lines (report or
    exploration name, account, property, ``# Start date: YYYYMMDD``, ``# End date: YYYYMMDD``), then one
    or more tables, each a header row and data rows, separated by blank or ``#`` lines. The first table
    that has an event name column is read; the other tables (a standard report's chart series, for example)
    are ignored: each of their rows is an ignored record named ``<first header> table``, and a note
    says which table was read. A record is a data row; its number is its line in the file (header,
    ``#`` and blank lines are not records). Lines may end in CRLF; a UTF-8 byte order mark is skipped.
    Each line is parsed as one CSV row (GA4 writes no line break inside a cell). The dates are local to
    the property, whose time zone the file does not carry: ``read_events(..., timezone="...")`` is
    required (a LoaderError asks for it).
``ga4_data_api``
    One ``runReport`` response page saved as JSON (``dimensionHeaders``, ``metricHeaders``, ``rows``,
    ``totals``, ``maximums``, ``minimums``, ``rowCount``, ``metadata``, ``kind``; the snake_case names of
    the client libraries' ``to_dict`` are read too). Several pages are several files. Records are the
    page's ``rows``, numbered from 1, then its ``totals``, ``maximums`` and ``minimums`` rows, numbered on
    from there (ignored as ``totals row``). The time zone is ``read_events``'s ``timezone=`` or else
    the response's ``metadata.timeZone``. A page that holds fewer rows than ``rowCount`` says so in the
    notes, as do ``subjectToThresholding``, ``dataLossFromOtherRow`` and sampling.

Mapping (names from the :class:`~chatanalytics.io.TrackingPlan`'s ``ga4`` section; header names are
matched ignoring case, spaces and punctuation, so ``Event name`` and ``eventName`` are one column):

- ``event_count`` <- ``Event count`` / ``eventCount``: an integer written with or without group
  separators (``1,204``, ``1.204``, ``1 204``, non-breaking and thin spaces, ``1'204``), quoted or
  not. A row whose count is 0 is ignored (``zero count``); a count that is not such an integer is
  rejected (``unparseable count``).
- ``event_time_utc`` <- the start of the row's local period, converted to UTC with the property's
  time zone (an hour repeated when clocks go back is read as its first occurrence; a period starting
  in the hour skipped when clocks go forward starts when that hour ends). The period, and
  ``time_granularity``, come from the most precise date dimension present: ``Date hour and minute`` /
  ``dateHourMinute`` (``YYYYMMDDHHMM``, ``minute``); ``Date + hour (YYYYMMDDHH)`` / ``dateHour``
  (``hour``, ``minute`` with a ``Minute`` column); ``Date`` / ``date`` (``YYYYMMDD`` or
  ``YYYY-MM-DD``: ``day``; ``hour`` with an ``Hour`` column, ``minute`` with ``Hour`` and
  ``Minute``). A report without a date dimension has no time at all and raises a LoaderError asking
  for one. A date that does not parse is rejected (``unparseable date``).
- ``event_type`` <- ``Event name`` / ``eventName`` through the plan's event names, or else the
  plan's action parameter (``dc_event``) when the report has it as a custom dimension, holding the
  constant (any case) or an event name. Other names (``page_view``, ``(other)``) are ignored with
  their name; an empty event name is rejected (``missing event name``). A report without an event
  name dimension (a ``runReport`` request filtered on the site's one event, ``dynamic_chat``) is read
  from the action parameter's dimension alone: an empty action is then rejected (``missing event
  type``), an unknown one ignored as ``(<action key>=<value>)``. A report with neither raises a
  LoaderError naming both.
- A plan key matches a column by its parameter (``chat_sid``), ``customEvent:chat_sid`` or the
  display name the GA4 interface heads it with (``Chat session``), compared after normalising as
  below. A key of the site's plan that matches no column of the table gives a note and a
  DataQualityWarning with the closest headers.
- Other canonical columns <- custom dimensions named after the plan's parameters: a column named
  ``customEvent:<param>`` or ``<param>`` (``customEvent:dc_conversation_id`` or
  ``dc_conversation_id`` -> ``conversation_id``; ``dc_session_id`` -> ``session_id``, ...).
  ``page_url`` <- the plan's page URL parameter, else ``Page location`` / ``pageLocation``. ``(not
  set)`` and empty cells are null; ids keep their text (a ``4471902.0`` loses its ``.0``).
  ``visitor_id`` and ``analytics_session_id`` are always null.
- Totals rows are ignored (``totals row``): a row whose dimension cells are all empty (an
  exploration writes its ``Grand total`` label in an extra last cell) or hold only a totals label
  (``Grand total``, ``Totals``, ``Total``, Dutch and German equivalents), or a dimension value
  ``RESERVED_TOTAL`` / ``RESERVED_MAX`` / ``RESERVED_MIN``. The dimensions of a CSV table are its
  columns before the first metric (``Event count`` or another known GA4 metric).
- ``event_id`` <- ``agg:`` + the first 32 hex digits of the SHA-256 of the row's key, the JSON text
  ``["ga4","<period start in UTC, YYYY-MM-DDTHH:MM:SSZ>","<granularity>",[[<name>,<value>],...]]``
  (UTF-8, no space after separators, non-ASCII unescaped): every dimension other than the date columns, as
  (normalised name, cell text as written without surrounding spaces), sorted. A normalised name is the
  header in lower case with only letters, digits and ``:`` kept (``eventname``); a plan parameter's
  column is ``customevent:`` + its normalised parameter (``customevent:dcconversationid``), whether
  the file calls it ``customEvent:dc_conversation_id`` or ``dc_conversation_id``. The key holds no
  file name, so one report row read from two overlapping exports (two CSV files, overlapping API
  pages, or a CSV and an API page of the same report) is de-duplicated, while rows that differ in any
  dimension, period or granularity never share an id.
  The key is hashed so that no dimension value (which may hold a contact detail) reaches the frame.

Aggregated reports are small, so the rows are read by a Python loop (the csv module per line, a
dictionary look-up per name and period); the per-row work is a few look-ups and one hash.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import LoaderError
from ..schema import EVENT_TYPES
from ._plan import TrackingPlan
from ._protocol import ReadContext, ReadResult
from ._report_csv import (
    TOTALS_ROW,
    Rows,
    Spec,
    check_report_keys,
    find_period,
    metrics_start,
    norm,
    read_event_report,
    read_text,
    sniff_report,
    zone,
)

FORMATS: dict[str, str] = {
    "ga4_explore_csv": "a GA4 report or Explore exploration exported as CSV (aggregated event counts)",
    "ga4_data_api": "a GA4 Data API runReport response page saved as JSON (aggregated event counts)",
}
DESTINATION = "ga4"
#: Plan fields a report does not read (a row's time is its date dimensions; its id is computed).
_NOT_IN_REPORTS = ("ts", "event_id")

#: Normalised GA4 metric names (UI and API): the dimensions of a CSV table are the columns before them.
_GA4_METRICS = frozenset(
    {
        "eventcount",
        "eventcountperuser",
        "eventspersession",
        "totalusers",
        "activeusers",
        "newusers",
        "users",
        "sessions",
        "engagedsessions",
        "engagementrate",
        "views",
        "keyevents",
        "conversions",
        "totalrevenue",
        "eventvalue",
        "userengagement",
        "averageengagementtime",
        "bouncerate",
    }
)
#: Normalised header names of the date dimensions -> role.
_GA4_DATES = {
    "date": "date",
    "datehour": "datehour",
    "datehouryyyymmddhh": "datehour",
    "datehourminute": "datehourminute",
    "datehourandminute": "datehourminute",
    "datehourandminuteyyyymmddhhmm": "datehourminute",
    "hour": "hour",
    "minute": "minute",
}


_GA4_PREAMBLE = re.compile(r"#\s*(?:start date|end date)\s*:\s*\d{8}\s*", re.I)


def sniff(path: Path, head: bytes) -> str | None:
    """``"ga4_data_api"`` for a JSON object with runReport headers (``dimensionHeaders``,
    ``metricHeaders``) or kind; ``"ga4_explore_csv"`` for text with a ``# Start date: YYYYMMDD`` /
    ``# End date: YYYYMMDD`` preamble line or a header holding Event count (a free-form exploration's
    preamble is a ``# YYYYMMDD-YYYYMMDD`` range, as Universal Analytics writes it); else None.

    See :class:`chatanalytics.io.Format`.
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"{":
        keys = (b'"dimensionHeaders"', b'"metricHeaders"', b'"dimension_headers"', b'"metric_headers"')
        if b"analyticsData#runReport" in text or any(k in text for k in keys):
            return "ga4_data_api"
        return None
    # Event count is GA4's metric (Universal Analytics says Total Events)
    return "ga4_explore_csv" if sniff_report(head, _GA4_PREAMBLE, {"eventcount"}, str) else None


# ------------------------------------------------------------------------------------------ GA4 layout
def param_key(key: str) -> str:
    """A plan key as a report column's normalised name: a parameter (``chat_session_id``), the API's
    ``customEvent:chat_session_id`` or the interface's display name (``Chat session ID``) -> the normalised
    text without the ``customevent:`` prefix (``chatsessionid``).
    """
    return norm(key).removeprefix("customevent:")


def ga4_spec(plan: TrackingPlan, headers: list[str], dims: list[int], count: int, path: Path) -> Spec:
    """The mapping of a GA4 table (CSV or API) from its headers: which cell plays which role."""
    params: dict[str, str] = {}  # normalised parameter -> canonical column ("" for the action key)
    for column, key in plan.columns(DESTINATION).items():
        if column not in ("event_time_utc", "event_id"):
            params[param_key(key)] = column
    action_key = plan.action_key(DESTINATION)
    if action_key:
        params[param_key(action_key)] = ""
    roles: dict[str, int] = {}
    names: dict[int, str] = {}
    fields: dict[str, int] = {}
    event = action = page = None
    for c in dims:
        key = norm(headers[c])
        param = key.removeprefix("customevent:")
        names[c] = key
        if key == "eventname" and event is None:
            event = c
        elif key in _GA4_DATES and _GA4_DATES[key] not in roles:
            roles[_GA4_DATES[key]] = c
        elif param in params:
            names[c] = "customevent:" + param
            if params[param] == "":
                action = c
            else:
                fields.setdefault(params[param], c)
        elif key == "pagelocation":
            page = c
    if page is not None:
        fields.setdefault("page_url", page)
    if event is None and action is None:
        needed = "an Event name (eventName) dimension"
        if action_key:
            needed += f", or the action parameter's custom dimension (customEvent:{action_key})"
        raise LoaderError(
            f"{path}: the report has neither {needed}, so its rows name no event; add one and export it "
            "again, or name the report's action column in the plan (ga4 fields event)",
            path=path,
        )
    period = find_period(roles)
    if period is None:
        raise LoaderError(
            f"{path}: the report has no date dimension, so its rows have no time; add Date "
            "(date), Date + hour (dateHour) or Date hour and minute (dateHourMinute) and export it again",
            path=path,
        )
    codes = {n: EVENT_TYPES.index(c) for n, c in plan.events(DESTINATION).items()}
    action_codes = {v: EVENT_TYPES.index(c) for v, c in plan.action_values(DESTINATION).items()}
    return Spec(
        family="ga4",
        dims=dims,
        names=names,
        count=count,
        event=event,
        period=period,
        fields=fields,
        codes=codes,
        action=action,
        action_label=action_key or "",
        action_codes=action_codes,
        width=len(headers),
        headers=headers,
    )


def _read_explore_csv(ctx: ReadContext, path: Path) -> ReadResult:
    """Read one GA4 report CSV: the first table with an Event name dimension."""
    action_key = ctx.plan.action_key(DESTINATION)

    def build(header: list[str]) -> Spec:
        keys = [norm(h) for h in header]
        if "eventcount" not in keys:
            raise LoaderError(f"{path}: the event table has no Event count column", path=path)
        dims = list(range(metrics_start(keys, _GA4_METRICS)))
        return ga4_spec(ctx.plan, header, dims, keys.index("eventcount"), path)

    what = "an Event name (eventName) dimension" + (
        f" or the action parameter's dimension ({action_key})"
        if action_key
        else "; a site that names the event in a parameter maps its column in the plan (ga4 fields event)"
    )
    return read_event_report(
        ctx,
        path,
        key=param_key,
        metrics=_GA4_METRICS,
        events={"eventname"} | ({param_key(action_key)} if action_key else set()),
        build=build,
        what=what,
        zone_hint="GA4 property",
        destination=DESTINATION,
        skip=_NOT_IN_REPORTS,
    )


# ------------------------------------------------------------------------------------------ Data API
def _get(obj: dict[str, Any], camel: str) -> Any:
    """A response field by its JSON name or the snake_case name client libraries write."""
    if camel in obj:
        return obj[camel]
    return obj.get(re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower())


def _values(items: Any) -> list[str] | None:
    """The ``value`` texts of a row's dimensionValues / metricValues (an absent value is empty)."""
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        if not isinstance(item, dict):
            return None
        value = item.get("value", "")
        if not isinstance(value, str):
            return None
        out.append(value)
    return out


def _names(headers: Any, path: Path, key: str) -> list[str]:
    """The names of dimensionHeaders / metricHeaders, or a LoaderError when they are not a list of them."""
    if not isinstance(headers, list) or not all(
        isinstance(h, dict) and isinstance(h.get("name"), str) for h in headers
    ):
        raise LoaderError(f"{path}: {key} is not a list of {{name}} objects", path=path)
    return [h["name"] for h in headers]


def _read_api(ctx: ReadContext, path: Path) -> ReadResult:
    """Read one runReport response page: its rows, then its totals, maximums and minimums rows."""
    text = read_text(path)
    if not text.strip():
        return ReadResult()
    try:
        page = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        where = f" (line {err.lineno}, column {err.colno})" if isinstance(err, json.JSONDecodeError) else ""
        raise LoaderError(f"{path} is not valid JSON{where}: {err}", path=path) from err
    if isinstance(page, list) or (isinstance(page, dict) and "reports" in page):
        raise LoaderError(
            f"{path} holds several responses: save each runReport response page as its own file", path=path
        )
    if not isinstance(page, dict) or _get(page, "dimensionHeaders") is None:
        raise LoaderError(f"{path} is not a GA4 runReport response: it has no dimensionHeaders", path=path)
    if "pivotHeaders" in page or "pivot_headers" in page:
        raise LoaderError(f"{path} is a pivot report: run the report with runReport instead", path=path)
    dim_names = _names(_get(page, "dimensionHeaders"), path, "dimensionHeaders")
    metric_names = _names(_get(page, "metricHeaders") or [], path, "metricHeaders")
    if "eventCount" not in metric_names:
        raise LoaderError(
            f"{path}: the report has no eventCount metric (metrics: {', '.join(metric_names) or 'none'})",
            path=path,
        )
    parts = {key: _get(page, key) or [] for key in ("rows", "totals", "maximums", "minimums")}
    for key, value in parts.items():
        if not isinstance(value, list):
            raise LoaderError(f"{path}: {key} is not a list", path=path)
    rows = parts["rows"]
    summaries = parts["totals"] + parts["maximums"] + parts["minimums"]
    if not rows and not summaries:
        return ReadResult()
    meta = _get(page, "metadata")
    meta = meta if isinstance(meta, dict) else {}
    tz_name = ctx.timezone or _get(meta, "timeZone") or ("UTC" if not rows else None)
    if not isinstance(tz_name, str):
        raise LoaderError(
            f'{path}: the response names no metadata.timeZone; pass read_events(..., timezone="...") '
            "with the GA4 property's time zone",
            path=path,
        )
    spec = ga4_spec(
        ctx.plan,
        dim_names + metric_names,
        list(range(len(dim_names))),
        len(dim_names) + metric_names.index("eventCount"),
        path,
    )
    out = Rows(spec, zone(tz_name, path, "timezone" if ctx.timezone else "metadata.timeZone"))
    for record, row in enumerate(rows, start=1):
        raw = json.dumps(row).encode()
        dims = _values(_get(row, "dimensionValues")) if isinstance(row, dict) else None
        metrics = _values(_get(row, "metricValues")) if isinstance(row, dict) else None
        if dims is None or metrics is None:
            out.reject(record, "malformed row", raw)
        else:
            out.add(record, dims + metrics, raw)
    for record in range(len(rows) + 1, len(rows) + len(summaries) + 1):
        out.ignore(record, TOTALS_ROW)
    _api_notes(ctx, path, page, meta, len(rows))
    result = out.finish()
    check_report_keys(result, path, DESTINATION, ctx.plan, spec, skip=_NOT_IN_REPORTS)
    return result


def _api_notes(ctx: ReadContext, path: Path, page: dict[str, Any], meta: dict[str, Any], n: int) -> None:
    """Notes on what a page does not hold: other pages, rows under thresholds, sampling."""
    total = _get(page, "rowCount")
    if isinstance(total, int) and total > n:
        ctx.notes.append(
            f"{path}: this page holds {n:,} of the report's {total:,} rows; the other pages are other files"
        )
    own = _get(meta, "timeZone")
    if ctx.timezone and isinstance(own, str) and own != ctx.timezone:
        ctx.notes.append(f"{path}: timezone={ctx.timezone!r} was used instead of metadata.timeZone {own!r}")
    if _get(meta, "subjectToThresholding"):
        ctx.notes.append(f"{path}: GA4 withheld rows below its privacy thresholds; counts may be low")
    if _get(meta, "dataLossFromOtherRow"):
        ctx.notes.append(f"{path}: GA4 rolled some rows into an (other) row; counts per value may be low")
    if _get(meta, "samplingMetadatas"):
        ctx.notes.append(f"{path}: the report is sampled; its counts are estimates")


# ------------------------------------------------------------------------------------------ entry point
def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one GA4 report CSV or one runReport response page (see the module docstring).

    See :class:`chatanalytics.io.Format`. ``fmt`` is ``"ga4_explore_csv"`` or ``"ga4_data_api"``; the
    ``timezone=`` of ``read_events`` applies, gzip is decompressed, and each chat data row gives one
    canonical row (numbered by its CSV line, or its row in the page).

    Raises
    ------
    LoaderError
        The file is not such a report (no event table, invalid JSON, no eventCount metric), has no date
        dimension, or lacks a time zone; a truncated or corrupt gzip stream.
    """
    if fmt == "ga4_data_api":
        return _read_api(ctx, path)
    return _read_explore_csv(ctx, path)
