"""Universal Analytics custom reports exported as CSV: aggregated event counts as canonical events.

Adobe's Dynamic Chat callback page forwards each callback to Universal Analytics as
``ga('send', 'event', {eventCategory: 'Dynamic Chat Conversations', eventAction: 'Conversation
Triggered', eventLabel: event.data.payload.id})``. UA stopped processing data on 2023-07-01; what an
analyst still has is a report exported from the UA interface as CSV.

File layout: ``#`` preamble lines (``# ----``, the view, the report, ``# YYYYMMDD-YYYYMMDD``, ``# ----``),
a blank line, the table (a header row, data rows and a totals row whose dimension cells are empty),
then, after a blank line, a ``Day Index`` block (locale dates and one metric) and other tables. The
first table with an Event Action column is read; every row of the other tables (the ``Day Index`` block
included) is an ignored record named ``<first header> table``, and a note says which table was read. A
record is a data row; its number is its line in the file (header, ``#`` and blank lines are not
records). Each line is parsed as one CSV row.

Headers are read in English and in the Dutch and German of UA's interface, ignoring case, spaces and
punctuation, and with or without the API's ``ga:`` prefix:

==============================  ============================  ====================  =================
English                         Dutch                         German                API
==============================  ============================  ====================  =================
Event Category                  Gebeurteniscategorie          Ereigniskategorie     ga:eventCategory
Event Action                    Gebeurtenisactie              Ereignisaktion        ga:eventAction
Event Label                     Gebeurtenislabel              Ereignislabel         ga:eventLabel
Total Events                    Totaal aantal gebeurtenissen  Ereignisse insgesamt  ga:totalEvents
Date (``YYYYMMDD``)             Datum                         Datum                 ga:date
Hour (``00``-``23``)            Uur                           Stunde                ga:hour
Minute (``00``-``59``)          Minuut                        Minute                ga:minute
Hour of Day (``YYYYMMDDHH``)                                                        ga:dateHour
Date Hour and Minute                                                                ga:dateHourMinute
==============================  ============================  ====================  =================

Other languages: rename the headers to English (or export in English).

Mapping (names from the :class:`~chatanalytics.io.TrackingPlan`'s ``universal_analytics`` section):

- ``event_count`` <- ``Total Events``: an integer with or without group separators (``2.546``,
  ``"1,204"``, ``1 204``), as the interface's language writes it. 0 is ignored (``zero count``);
  anything else that is not such an integer is rejected (``unparseable count``).
- ``event_type`` <- ``Event Action`` through the plan's event names, ignoring case and surrounding
  spaces (the constant, ``CONVERSATION_TRIGGERED``, is accepted too). Rows whose ``Event Category``
  is not the plan's ``category`` (ignoring case) are ignored as ``<category> / <action>``, as are
  rows of the chat category whose action the plan does not know. Without an Event Category column,
  every row's action is matched (a note says so). An empty or ``(not set)`` action is rejected
  (``missing event name``).
- Other canonical columns <- the columns the plan's fields name: by default ``Event Label`` ->
  ``conversation_id``; a site that added hit-level custom dimensions maps them by their header
  (``{"universal_analytics": {"fields": {"sid": "Session ID"}}}``). ``(not set)`` and empty are null.
- ``event_time_utc`` and ``time_granularity``: the start of the row's local period (``Date`` ->
  ``day``, with ``Hour`` -> ``hour``, with ``Minute`` too -> ``minute``; ``Hour of Day`` -> ``hour``;
  ``Date Hour and Minute`` -> ``minute``), converted to UTC from the view's time zone, which the file
  does not carry: ``read_events(..., timezone="...")`` is required. The ``Day Index`` dates are not
  used. A report without a date dimension (the standard Top Events report) raises a LoaderError
  asking for one.
- **Event-level reports.** A site that set a hit-timestamp custom dimension (and usually Client ID and
  session id dimensions, so that hits can be exported one per row) names its column in the plan's
  ``ts`` field: ``{"universal_analytics": {"fields": {"ts": "Hit Timestamp", "visitor_id": "Client
  ID", "analytics_session_id": "Session ID"}}}``. A report holding that column gives one event per row
  at that time (``time_granularity`` ``exact``; ``event_count`` is the row's Total Events, 1 for a
  hit), whatever date columns it also has. The cell is ISO-8601 with a UTC offset (the usual recipe
  writes the visitor's local time and offset, ``2023-06-05T11:02:07.345+02:00``), ISO-8601 without
  one (read in the view's time zone), or epoch seconds (10 digits) or milliseconds (13 digits). An
  empty or ``(not set)`` cell is rejected (``missing time``), one that does not parse too
  (``unparseable time``). ``visitor_id`` and ``analytics_session_id`` come from the fields the plan
  names (these two fields exist only in this section). A report without the timestamp column stays
  aggregated, as above.
- Totals rows (every dimension cell empty, or only a totals label) are ignored (``totals row``).
- ``event_id`` <- ``agg:`` + 32 hex digits of the SHA-256 of
  ``["ua","<period start in UTC>","<granularity>",[[<name>,<value>],...]]`` written as for GA4
  reports, the pairs being every dimension but the date columns,
  with the English API name in lower case (``eventcategory``, ``eventaction``, ``eventlabel``; other
  headers in lower case with only letters, digits and ``:`` kept), sorted: as for GA4 reports
  (:mod:`chatanalytics.io._report_csv`), overlapping exports of one view de-duplicate, in any of the
  languages above, and no file name or raw value enters the id.
- ``session_id``, ``visitor_id``, ``analytics_session_id`` and ``page_url`` are null unless a field
  maps them. The event id's time is written with microseconds (``YYYY-MM-DDTHH:MM:SS.ffffffZ``) for
  event-level rows.

Aggregated reports are small: rows are read by a Python loop, a few look-ups and one hash per row.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import LoaderError
from ..schema import EVENT_TYPES
from ._protocol import ReadContext, ReadResult
from ._report_csv import (
    Period,
    Spec,
    Stamp,
    find_period,
    metrics_start,
    norm,
    read_event_report,
    sniff_report,
)

FORMATS: dict[str, str] = {
    "ua_csv": "a Universal Analytics custom report exported as CSV (aggregated Total Events per action)",
}
DESTINATION = "universal_analytics"

#: Localised and API header names (normalised) -> the English name (normalised).
_ALIASES: dict[str, str] = {
    "gebeurteniscategorie": "eventcategory",
    "ereigniskategorie": "eventcategory",
    "gebeurtenisactie": "eventaction",
    "ereignisaktion": "eventaction",
    "gebeurtenislabel": "eventlabel",
    "ereignislabel": "eventlabel",
    "totaalaantalgebeurtenissen": "totalevents",
    "ereignisseinsgesamt": "totalevents",
    "uniekegebeurtenissen": "uniqueevents",
    "eindeutigeereignisse": "uniqueevents",
    "gebeurteniswaarde": "eventvalue",
    "ereigniswert": "eventvalue",
    "gemwaarde": "avgvalue",
    "durchschnwert": "avgvalue",
    "datum": "date",
    "uur": "hour",
    "stunde": "hour",
    "minuut": "minute",
    "datehour": "hourofday",
    "datehourminute": "datehourandminute",
}
_METRICS = frozenset(
    {"totalevents", "uniqueevents", "eventvalue", "avgvalue", "sessionswithevent", "eventssessionwithevent"}
)
_DATES = {
    "date": "date",
    "hourofday": "datehour",
    "datehourandminute": "datehourminute",
    "hour": "hour",
    "minute": "minute",
}
_UA_RANGE = re.compile(r"#\s*\d{8}-\d{8}\s*")


def key(name: str) -> str:
    """A UA header's English name, normalised: ``Gebeurtenisactie``, ``ga:eventAction`` -> ``eventaction``."""
    k = norm(name).removeprefix("ga:")
    return _ALIASES.get(k, k)


def sniff(path: Path, head: bytes) -> str | None:
    """``"ua_csv"`` for text with UA's ``# YYYYMMDD-YYYYMMDD`` preamble line or a header holding Event
    Action and Total Events (in a language above), else None.

    See :class:`chatanalytics.io.Format`.
    """
    return "ua_csv" if sniff_report(head, _UA_RANGE, {"eventaction", "totalevents"}, key) else None


def _spec(ctx: ReadContext, path: Path, header: list[str]) -> Spec:
    keys = [key(h) for h in header]
    if "totalevents" not in keys:
        raise LoaderError(f"{path}: the event table has no Total Events column", path=path)
    dims = list(range(metrics_start(keys, _METRICS)))
    plan = ctx.plan
    wanted = {
        key(src): column
        for column, src in plan.columns(DESTINATION).items()
        if column not in ("event_time_utc", "event_id")
    }
    stamp_key = plan.columns(DESTINATION).get("event_time_utc")
    roles: dict[str, int] = {}
    fields: dict[str, int] = {}
    event = category = stamp = None
    for c in dims:
        k = keys[c]
        if stamp_key and k == key(stamp_key) and stamp is None:
            stamp = c
        elif k == "eventaction" and event is None:
            event = c
        elif k == "eventcategory" and category is None:
            category = c
        elif k in _DATES and _DATES[k] not in roles:
            roles[_DATES[k]] = c
        if k in wanted:
            fields.setdefault(wanted[k], c)
    period: Period | Stamp | None = Stamp(stamp) if stamp is not None else find_period(roles)
    if period is None:
        hint = f", or the hit-timestamp dimension {stamp_key!r} the plan names" if stamp_key else ""
        raise LoaderError(
            f"{path}: the report has no date dimension{hint}, so its rows have no time; add Date (or Hour "
            "of Day, or Date Hour and Minute) as a dimension of the custom report and export it again",
            path=path,
        )
    wanted_category = plan.to_dict()[DESTINATION].get("category")
    if category is None and wanted_category:
        ctx.notes.append(
            f"{path}: the report has no Event Category column; every row's Event Action was matched "
            f"without checking the category {wanted_category!r}"
        )
    codes = {v: EVENT_TYPES.index(c) for v, c in plan.action_values(DESTINATION).items()}
    return Spec(
        family="ua",
        dims=dims,
        names={c: keys[c] for c in dims},
        count=keys.index("totalevents"),
        event=event,
        period=period,
        fields=fields,
        codes=codes,
        fold_case=True,
        category=category,
        categories=frozenset({wanted_category.strip().lower()}) if wanted_category else frozenset(),
        width=len(header),
        headers=header,
    )


def read(ctx: ReadContext, path: Path, fmt: str) -> ReadResult:
    """Read one UA report CSV (see the module docstring).

    See :class:`chatanalytics.io.Format`. Requires the view's time zone (``timezone=`` of
    ``read_events``); the plan's ``universal_analytics`` section names the events. One canonical row per
    chat data row, numbered by its line (a gzip file is decompressed).

    Raises
    ------
    LoaderError
        No table with an Event Action column or no Total Events column, no date dimension, no
        ``timezone=``, or a truncated or corrupt gzip stream.
    """
    return read_event_report(
        ctx,
        path,
        key=key,
        metrics=_METRICS,
        events={"eventaction"},
        build=lambda header: _spec(ctx, path, header),
        what="an Event Action column",
        zone_hint="view",
        destination=DESTINATION,
        skip=("event", "event_id"),  # the action is the Event Action column, not a plan key
    )
