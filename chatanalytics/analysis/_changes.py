"""What changed between two periods: which metric moved, whether the move is larger than noise, and
what drove it (traffic mix or rates within groups).

:func:`compute_changes` compares the latest complete period (a calendar day or a week starting Monday,
in ``tz``) with the period before it, or with the mean of the ``baseline`` periods before it, and
returns four tables. :func:`change_headlines` turns them into plain sentences.

Metrics (definitions as in the funnel and timeout analyses)
-----------------------------------------------------------
A **unit** is a conversation in a session (``session_id`` + ``conversation_id``, the funnel's default
unit); it belongs to the period of its first ``TRIGGERED`` event, and its steps count when they fall
within ``window`` (default 30 minutes, the funnel's default) of that event, in order:

``triggered``
    Triggered conversations: units (a count).
``engagement_rate``
    Units engaged / units triggered (funnel ``triggered -> engaged``).
``lead_capture_rate``
    Engaged units that gave an email or a phone number after engaging / engaged units (funnel
    ``triggered -> engaged -> email_input | phone_input``, step conversion rate).
``completion_rate``
    Units that engaged and then completed / units triggered (funnel ``triggered -> engaged ->
    completed``, overall rate: the denominator is every triggered unit, as the funnel's
    ``overall_rate``).
``meeting_rate``
    Units with a meeting booked / units triggered (funnel ``triggered -> meeting_booked``): meetings
    booked per triggered conversation, counting a conversation once.

A **request** is a live-chat request rebuilt as in the timeout analysis (rules in
``chatanalytics.analysis._requests``: offers, then the first lifecycle event decides the outcome:
accepted, missed at the 100-second timeout, left by the visitor, or still open); it belongs to the
period of its first offer, and its group is the value on that offer's event:

``acceptance_rate``
    Accepted requests / requests.
``miss_rate``
    Missed requests / requests.
``service_level_30s``
    Requests accepted within 30 seconds of the first offer / requests: the timeout analysis'
    "offered" variant (visitors who left and missed requests count against). The share is taken on
    the raw counts; it equals the timeout analysis' Aalen-Johansen estimate when no request of the
    period is still open, which a mature period guarantees.
``median_wait_seconds``
    Median time from the first offer to the accept, read off the Kaplan-Meier curve of time to accept
    in which visitors who left and open requests are censored when last seen and missed requests are
    never accepted (they stay in the denominator), as in the timeout analysis; accepts whose time was
    not recorded are left out.

Periods, maturity and baseline
------------------------------
Periods are calendar days, or weeks starting Monday, in ``tz``. The data run from the first to the
last event time. A period is ``partial`` when it starts before the data (taken to start at local
midnight of the first event's day, as exports cover whole days), ``incomplete`` when it ends
after the last event, ``immature`` when it ends less than the outcome horizon before the last event
(units triggered at its end could still engage or complete within ``window``, requests could still be
answered within two 100-second offers), and ``complete`` otherwise. By default the compared period is
the last complete one; ``at`` picks another. The baseline is the ``baseline`` periods right before it,
pooled: rates are pooled over them (the per-period average weighted by units), counts are scaled to
the compared period's length (the mean per period when the periods are equally long). A compared
period that is not complete is never compared silently: its rows carry ``comparable = False`` and the
reason, no test is run and a :class:`~chatanalytics.errors.DataQualityWarning` is raised.

Tests and multiple testing
--------------------------
Rates: the difference gets Newcombe's hybrid score interval and the pooled two-proportion z-test.
The count: the exact conditional (binomial) test of two Poisson counts, adjusted for the lengths of
the periods, with a Wald interval for the change and one on the log rate ratio for the relative
change. The median wait: the log-rank test between the two periods; the change has no interval (a
median difference has no honest closed-form interval under censoring): the two medians carry their
own Kaplan-Meier intervals instead. The p-values of the comparable metrics are adjusted with
**Holm's** step-down method, which controls the family-wise error rate: the chance that *any* metric
is flagged when nothing changed stays at or below 5%, whatever the dependence between the metrics
(acceptance and miss rates are nearly complementary). ``significant`` is ``p_adjusted < 0.05``.

Drivers
-------
For each rate metric and each ``by`` column the change in the overall rate is split into per-group
mix and rate parts with Kitagawa's symmetric decomposition (see
:func:`chatanalytics.analysis._changes_stats.kitagawa`); the parts add up exactly to the total. For
the count, each group's part of the change is its own change (before scaled to the compared length).

Tables
------
``metrics`` (one row per metric)
    ``metric``, ``label``, ``kind`` (``count`` / ``rate`` / ``median``), ``basis`` (what the rate is a
    share of), ``definition``; ``before`` and ``after`` (the metric in the baseline and the compared
    period) with ``before_low`` / ``before_high`` and ``after_low`` / ``after_high`` (95%: Wilson for
    rates, Poisson Wald for counts, Kaplan-Meier bounds for the median); ``numerator_before`` /
    ``denominator_before`` / ``numerator_after`` / ``denominator_after`` (the raw counts: for the count,
    the count and nothing; for the median, accepted requests and requests); ``change`` (after - before:
    rate points as fractions, conversations, seconds) with ``change_low`` / ``change_high``;
    ``relative_change`` (after / before - 1) with ``relative_change_low`` / ``relative_change_high``
    (counts only); ``test``, ``statistic`` (z, or chi-squared for the log-rank), ``p_value``,
    ``p_adjusted`` (Holm), ``significant``; ``comparable`` and ``reason`` (empty when comparable).
``drivers`` (one row per metric, ``by`` column and group, ranked within metric and column)
    ``metric``, ``by``, ``group`` (``(none)`` for a missing value), ``rank`` (1 = largest
    ``|total|``), ``units_before`` / ``units_after`` (the group's denominator: units, engaged units or
    requests; for the count, the count), ``share_before`` / ``share_after`` (share of the
    denominator), ``rate_before`` / ``rate_after`` (``nan`` for the count and for a group without
    units), ``mix``, ``rate`` (``nan`` for the count), ``total`` (``mix + rate``, or the count's change)
    with ``total_low`` / ``total_high`` (95%, delta method), ``status`` (``both`` / ``new`` /
    ``vanished``).
``periods`` (one row per calendar period from the first event to the last)
    ``period`` (0-based), ``start`` / ``end`` (local times in ``tz``), ``hours``, ``units``,
    ``requests``, ``status`` (``complete`` / ``partial`` / ``incomplete`` / ``immature``), ``reason``,
    ``role`` (``current``, ``baseline`` or empty).
``params`` (one row per parameter)
    ``parameter``, ``value`` (as text): ``period``, ``tz``, ``by``, ``baseline``, ``at``, ``window``,
    ``current`` (the compared period: ``week of 2026-03-09``, or the day), ``baseline_label`` (the
    period before, or ``mean of 4 weeks before``), ``first_event`` and ``last_event`` (ISO times in
    ``tz``), ``control`` (``Holm``) and ``alpha`` (0.05).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import columns
from ..columns import ACCEPT_WINDOW_SECONDS, CHANGES_DRIVERS, CHANGES_METRICS, CHANGES_PERIODS
from ..errors import DataQualityWarning, EmptyDataError, InvalidParameterError
from ._changes_stats import count_contributions, kitagawa, poisson_change, two_proportions
from ._engine import as_table, duration, frame_arrow, query_arrow, reused
from ._result import FigureKind, Result, TableView
from ._stats import Z95, chi2_sf, curve_quantile, holm, kaplan_meier_ci, logrank, wilson

__all__ = [
    "BY_COLUMNS",
    "METRICS",
    "PERIODS",
    "ChangesResult",
    "change_headlines",
    "changes",
    "compute_changes",
]

#: Columns a change can be broken down by (the value on the unit's first trigger or request event).
BY_COLUMNS: tuple[str, ...] = (
    "conversation_name",
    "conversation_id",
    "conversation_type",
    "ui_type",
    "page_url",
)
PERIODS: tuple[str, ...] = ("day", "week")
ALPHA = 0.05
CONTROL = "Holm"
SERVICE_SECONDS = 30
NONE = "(none)"
_T = "event_time_utc"
_KEYS = ["session_id", "conversation_id"]
_TRIG, _ENG, _COMP = "CONVERSATION_TRIGGERED", "CONVERSATION_ENGAGED", "CONVERSATION_COMPLETED"
_EMAIL, _PHONE, _MEET = "CONVERSATION_INPUT_EMAIL", "CONVERSATION_INPUT_PHONE", "CONVERSATION_MEETING_BOOKED"
_REQ, _INIT = "CONVERSATION_LIVE_CHAT_REQUESTED", "CONVERSATION_LIVE_CHAT_INITIATED"
_ENDED, _TIMEOUT = "CONVERSATION_LIVE_CHAT_ENDED", "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"
_CLOSED = "CONVERSATION_CLOSED"
_UNIT_TYPES = (_TRIG, _ENG, _COMP, _EMAIL, _PHONE, _MEET)
_LIFECYCLE = (_REQ, _INIT, _ENDED, _TIMEOUT, _CLOSED, _COMP)
# the lifecycle order of events at one instant, as in the request rules
_RANK = {_REQ: 0, _INIT: 1, _ENDED: 3, _TIMEOUT: 3, _CLOSED: 4, _COMP: 4}
# request outcome codes: 0 open, 1 accepted (accept time known), 2 missed, 3 left, 4 accepted (time unknown)
_OPEN, _ACCEPTED, _MISSED, _LEFT, _ACCEPTED_UNTIMED = range(5)

#: The metrics: name -> (label, kind, basis, definition).
METRICS: dict[str, tuple[str, str, str, str]] = {
    "triggered": ("Triggered conversations", "count", "", "conversations triggered (session x conversation)"),
    "engagement_rate": (
        "Engagement",
        "rate",
        "triggered conversations",
        "engaged within the window / triggered",
    ),
    "lead_capture_rate": (
        "Lead capture",
        "rate",
        "engaged conversations",
        "email or phone given after engaging, within the window / engaged",
    ),
    "completion_rate": (
        "Completion",
        "rate",
        "triggered conversations",
        "engaged, then completed within the window / triggered",
    ),
    "meeting_rate": (
        "Meetings booked",
        "rate",
        "triggered conversations",
        "conversations with a meeting booked within the window / triggered",
    ),
    "acceptance_rate": ("Live-chat acceptance", "rate", "live-chat requests", "accepted / requests"),
    "miss_rate": ("Missed live chats", "rate", "live-chat requests", "missed (timed out) / requests"),
    "service_level_30s": (
        "Service level (30 s)",
        "rate",
        "live-chat requests",
        "accepted within 30 s / requests (offered variant)",
    ),
    "median_wait_seconds": (
        "Median wait to accept",
        "median",
        "live-chat requests",
        "Kaplan-Meier median time to accept; left and open censored, missed never accepted",
    ),
}
# rate metric -> (numerator column, denominator column) in the per-period tables
_RATES = {
    "engagement_rate": ("engaged", "units"),
    "lead_capture_rate": ("lead", "engaged"),
    "completion_rate": ("completed", "units"),
    "meeting_rate": ("meeting", "units"),
    "acceptance_rate": ("accepted", "requests"),
    "miss_rate": ("missed", "requests"),
    "service_level_30s": ("within", "requests"),
}


def compute_changes(events: Any, **options: Any) -> dict[str, pd.DataFrame]:
    """Compare the latest complete period with the one before (or the mean of several before).

    Parameters
    ----------
    events : pandas.DataFrame or ibis.Table
        Canonical events, as for :func:`changes`.
    **options
        ``period``, ``tz``, ``by``, ``baseline``, ``at``, ``window``: those of :func:`changes`.

    Returns
    -------
    dict of pandas.DataFrame
        ``metrics``, ``drivers``, ``periods`` and ``params``, documented in the module docstring.

    Raises
    ------
    InvalidParameterError
        A parameter out of range (named with its value and the allowed values).
    EmptyDataError
        No events, no complete period, or not enough complete periods before it for the baseline.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.analysis._changes import compute_changes, change_headlines
    >>> t = compute_changes(ca.load_sample(), tz="America/New_York")
    >>> t["metrics"]["metric"].tolist()[:2]
    ['triggered', 'engagement_rate']
    >>> len(change_headlines(t)) >= 1
    True
    """
    return dict(changes(events, **options).data)


def _compute(
    events: Any, *, period: str, tz: str, by: Any, baseline: int, at: Any, window: Any
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """:func:`compute_changes`' tables and the parameters as values (``ChangesResult.params``)."""
    if period not in PERIODS:
        raise InvalidParameterError("period", period, list(PERIODS))
    try:
        pd.Timestamp("2026-01-01", tz=tz)
    except Exception:
        raise InvalidParameterError(
            "tz", tz, reason="not a time zone (an IANA name such as 'Europe/Paris')"
        ) from None
    by_list = [by] if isinstance(by, str) else list(by) if isinstance(by, Sequence) else None
    if by_list is None:
        raise InvalidParameterError("by", by, list(BY_COLUMNS), reason="a column name or a list of them")
    for b in by_list:
        if b not in BY_COLUMNS:
            raise InvalidParameterError("by", b, list(BY_COLUMNS))
    by_list = list(dict.fromkeys(by_list))
    if isinstance(baseline, bool) or not isinstance(baseline, (int, np.integer)) or baseline < 1:
        raise InvalidParameterError("baseline", baseline, reason="a whole number of periods, 1 or more")
    win = duration("window", window)
    assert win is not None
    win_us = int(win / pd.Timedelta(microseconds=1))
    horizon_us = max(win_us, 2 * ACCEPT_WINDOW_SECONDS * 1_000_000)

    units, requests, first_us, last_us = reused(
        events,
        ("changes.aggregates", tuple(by_list), period, tz, win_us),
        lambda: _aggregates(events, by_list, period, tz, win_us),
    )
    cal = _calendar(first_us, last_us, period, tz)
    cal = _statuses(cal, first_us, last_us, horizon_us, win, period)
    current = _pick_current(cal, at, tz)
    before = list(range(current - baseline, current))
    if (before and before[0] < 0) or not before:
        have = current
        raise EmptyDataError(
            f"baseline={baseline} needs {baseline} {period}(s) before the compared one "
            f"({_label(cal, current)}), but the data hold {have}"
        )
    bad = [p for p in before if cal.loc[p, "status"] != "complete"]
    if bad:
        p = bad[0]
        raise EmptyDataError(
            f"the baseline {period} {_label(cal, p)} is {cal.loc[p, 'status']} ({cal.loc[p, 'reason']}): "
            f"choose a smaller baseline or a later period with at="
        )
    cal["role"] = ""
    cal.loc[before, "role"] = "baseline"
    cal.loc[current, "role"] = "current"
    cal["units"] = units.groupby("period")["units"].sum().reindex(cal.index, fill_value=0).astype("int64")
    cal["requests"] = requests.groupby("period")["n"].sum().reindex(cal.index, fill_value=0).astype("int64")
    status = str(cal.loc[current, "status"])
    comparable = status == "complete"
    reason = "" if comparable else f"the compared {period} is {status}: {cal.loc[current, 'reason']}"
    if not comparable:
        warnings.warn(f"not compared: {reason}", DataQualityWarning, stacklevel=2)
    length1 = float(cal.loc[current, "hours"])
    length0 = float(cal.loc[before, "hours"].sum())

    u0 = units[units["period"].isin(before)]
    u1 = units[units["period"] == current]
    q0 = requests[requests["period"].isin(before)]
    q1 = requests[requests["period"] == current]
    req0, req1 = _request_counts(q0, by_list), _request_counts(q1, by_list)
    metrics = _metric_rows(u0, u1, req0, req1, q0, q1, length0, length1, comparable, reason)
    drivers = _driver_rows(u0, u1, req0, req1, by_list, length0, length1)
    periods = cal.reset_index(drop=True)[list(CHANGES_PERIODS)]
    params: dict[str, Any] = {
        "period": period,
        "tz": tz,
        "by": by_list,
        "baseline": int(baseline),
        "at": None if at is None else str(at),
        "window": str(window),
        "current": _name(cal, current, period),
        "baseline_label": (
            _name(cal, before[0], period) if baseline == 1 else f"mean of {baseline} {period}s before"
        ),
        "first_event": pd.Timestamp(first_us * 1000, tz="UTC").tz_convert(tz).isoformat(),
        "last_event": pd.Timestamp(last_us * 1000, tz="UTC").tz_convert(tz).isoformat(),
        "control": CONTROL,
        "alpha": ALPHA,
    }
    params_table = params_frame(params)
    tables = {"metrics": metrics, "drivers": drivers, "periods": periods, "params": params_table}
    return tables, params


# --------------------------------------------------------------------------- the per-event work


def _unit_query(t: Any, cal: Any, by: list[str], win_us: int) -> Any:
    """Per period and combination of ``by`` values: units and how many reached each step (Ibis)."""
    j = _unit_rows(t, cal, by, win_us)
    groups = [j[f"g{i}"] for i in range(len(by))]
    return j.group_by([j.period, *groups]).agg(
        units=j.count(),
        engaged=j.engaged.sum(),
        lead=j.lead.sum(),
        completed=j.completed.sum(),
        meeting=j.meeting.sum(),
    )


def _unit_rows(t: Any, cal: Any, by: list[str], win_us: int) -> Any:
    """One row per unit triggered in a period of ``cal`` (Ibis): its keys, ``t1`` (first trigger, UTC
    microseconds), the 0/1 flags ``engaged``, ``lead``, ``completed``, ``meeting``, ``period`` and
    ``g0``, ``g1``, ... (the ``by`` values on the first trigger, ``(none)`` when missing).
    """
    import ibis

    keyed = t.filter(
        t.session_id.notnull(), t.conversation_id.notnull(), t.event_type.isin(list(_UNIT_TYPES))
    )
    # a min over the whole unit: no order, so the default frame (the whole partition) is the one meant
    unit = ibis.window(group_by=_KEYS)
    x = keyed.mutate(t1=ibis.ifelse(keyed.event_type == _TRIG, keyed[_T], ibis.null()).min().over(unit))
    x = x.filter(x.t1.notnull(), x[_T] >= x.t1, x[_T] <= x.t1 + win_us)
    x = x.mutate(te=ibis.ifelse(x.event_type == _ENG, x[_T], ibis.null()).min().over(unit))

    def flag(cond: Any) -> Any:
        return ibis.ifelse(cond, 1, 0).max()

    after_engaged = x.te.notnull() & (x[_T] >= x.te)
    first = (x.event_type == _TRIG) & (x[_T] == x.t1)
    u = x.group_by(_KEYS).agg(
        t1=x.t1.min(),
        engaged=flag(x.te.notnull()),
        lead=flag(after_engaged & x.event_type.isin([_EMAIL, _PHONE])),
        completed=flag(after_engaged & (x.event_type == _COMP)),
        meeting=flag(x.event_type == _MEET),
        # the value on the unit's first trigger event (the smallest when several share the instant)
        **{f"g{i}": ibis.ifelse(first, x[b].cast("string"), ibis.null()).min() for i, b in enumerate(by)},
    )
    j = u.inner_join(cal, [u.t1 >= cal.p_start, u.t1 < cal.p_end])
    return j.select(
        *_KEYS,
        "t1",
        "engaged",
        "lead",
        "completed",
        "meeting",
        "period",
        *[j[f"g{i}"].fill_null(NONE).name(f"g{i}") for i in range(len(by))],
    )


def _request_query(t: Any, cal: Any, by: list[str]) -> Any:
    """Per period, ``by`` values, outcome and wait: the number of live-chat requests (Ibis)."""
    j = _request_rows(t, cal, by)
    groups = [j[f"g{i}"] for i in range(len(by))]
    return j.group_by([j.period, *groups, j.code, j.wait_us]).agg(n=j.count())


def _request_rows(t: Any, cal: Any, by: list[str]) -> Any:
    """One row per live-chat request made in a period of ``cal`` (Ibis): its keys, ``request`` (1 for a
    conversation's first), ``requested_at`` (UTC microseconds), ``code`` (the outcome), ``wait_us`` (to
    the outcome, or to the end of the data for an open request), ``period`` and ``g0``, ``g1``, ...

    Requests are cut and given their outcome by the request rules of ``_requests``: a conversation's
    lifecycle events in time order (ties in lifecycle order, then by type and agent), a request
    starting at a ``LIVE_CHAT_REQUESTED`` not preceded by another one, its outcome the first other
    lifecycle event after its offers.
    """
    import ibis

    life = t.filter(t.session_id.notnull(), t.conversation_id.notnull(), t.event_type.isin(list(_LIFECYCLE)))
    rank = ibis.cases(*[(life.event_type == k, v) for k, v in _RANK.items()], else_=9)
    w = ibis.window(group_by=_KEYS, order_by=[life[_T], rank, life.event_type, life.agent_id])
    life = life.mutate(seq=ibis.row_number().over(w), prev=life.event_type.lag().over(w))
    start = (life.event_type == _REQ) & (life.prev.isnull() | (life.prev != _REQ))
    # a running count over a unique order key: the frame spelled out (the default is the whole partition)
    run = ibis.window(group_by=_KEYS, order_by=life.seq, rows=(None, 0))
    life = life.mutate(request=start.cast("int64").sum().over(run), start=start)
    r = life.filter(life.request > 0)
    not_req = r.event_type != _REQ
    agg = r.group_by([*_KEYS, "request"]).agg(
        requested_at=r[_T].min(where=r.event_type == _REQ),
        # argmin over values that are never null (an event type, a time): safe on every engine
        out_type=r.event_type.argmin(r.seq, where=not_req),
        outcome_at=r[_T].argmin(r.seq, where=not_req),
        **{f"g{i}": r[b].cast("string").max(where=r.start) for i, b in enumerate(by)},
    )
    j = agg.inner_join(cal, [agg.requested_at >= cal.p_start, agg.requested_at < cal.p_end])
    code = ibis.cases(
        (j.out_type == _INIT, _ACCEPTED),
        (j.out_type == _ENDED, _ACCEPTED_UNTIMED),
        (j.out_type == _TIMEOUT, _MISSED),
        (j.out_type.isin([_CLOSED, _COMP]), _LEFT),
        else_=_OPEN,
    )
    wait = ibis.ifelse(j.out_type.isnull(), j.data_end, j.outcome_at) - j.requested_at
    return j.select(
        *_KEYS,
        "request",
        "requested_at",
        code.name("code"),
        wait.name("wait_us"),
        "period",
        *[j[f"g{i}"].fill_null(NONE).name(f"g{i}") for i in range(len(by))],
    )


_COLUMNS = ("event_time_utc", "event_type", "session_id", "conversation_id", "agent_id")
_CAL_SCHEMA = {"period": "int64", "p_start": "int64", "p_end": "int64", "data_end": "int64"}


def _aggregates(
    events: Any, by: list[str], period: str, tz: str, win_us: int
) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """The per-period aggregates of units and requests, and the first and last event times (UTC us)."""
    import ibis

    columns = list(dict.fromkeys([*_COLUMNS, *by]))
    if isinstance(events, pd.DataFrame):
        arrow = frame_arrow(events, columns, micros=True)
        times = events[_T]
        first, last = times.min(), times.max()
        if pd.isna(first):
            raise EmptyDataError("no events with a time")
        first_us, last_us = _micros(first), _micros(last)
        cal = _calendar(first_us, last_us, period, tz)
        cal_arrow = pa.table({c: pa.array(cal[c].to_numpy(), pa.int64()) for c in _CAL_SCHEMA})
        found = query_arrow(
            ("changes", tuple(by), win_us),
            lambda ca_events, ca_periods: {
                "units": _unit_query(ca_events, ca_periods, by, win_us),
                "requests": _request_query(ca_events, ca_periods, by),
            },
            ca_events=arrow,
            ca_periods=cal_arrow,
        )
        units, reqs = found["units"].to_pandas(), found["requests"].to_pandas()
    elif isinstance(events, ibis.expr.types.Table):
        t = as_table(events, columns, micros=True)
        span = t.aggregate(lo=t[_T].min(), hi=t[_T].max()).to_pyarrow().to_pylist()[0]
        if span["lo"] is None:
            raise EmptyDataError("no events with a time")
        first_us, last_us = int(span["lo"]), int(span["hi"])
        cal = _calendar(first_us, last_us, period, tz)
        cal_t = ibis.memtable(pa.table({c: pa.array(cal[c].to_numpy(), pa.int64()) for c in _CAL_SCHEMA}))
        units = _unit_query(t, cal_t, by, win_us).to_pyarrow().to_pandas()
        reqs = _request_query(t, cal_t, by).to_pyarrow().to_pandas()
    else:
        raise InvalidParameterError(
            "events", type(events).__name__, reason="expected a canonical pandas DataFrame or an Ibis table"
        )
    names = {f"g{i}": b for i, b in enumerate(by)}
    units = units.rename(columns=names)
    reqs = reqs.rename(columns=names)
    for frame in (units, reqs):
        for c in frame.columns:
            if c in by:
                frame[c] = frame[c].astype("str")
            else:
                frame[c] = frame[c].astype("int64")
    return units, reqs, first_us, last_us


def _micros(ts: Any) -> int:
    return int(pd.Timestamp(ts).as_unit("us").value // 1000)


# --------------------------------------------------------------------------- periods


def _calendar(first_us: int, last_us: int, period: str, tz: str) -> pd.DataFrame:
    """Calendar periods in ``tz`` covering the first to the last event, with UTC microsecond bounds."""
    first = pd.Timestamp(first_us * 1000, tz="UTC").tz_convert(tz)
    last = pd.Timestamp(last_us * 1000, tz="UTC").tz_convert(tz)
    day0 = first.tz_localize(None).normalize()
    if period == "week":
        day0 = day0 - pd.Timedelta(days=int(day0.day_of_week))
    step = 7 if period == "week" else 1
    n = int((last.tz_localize(None).normalize() - day0).days // step) + 1
    starts_local = day0 + pd.to_timedelta(np.arange(n + 1) * step, unit="D")
    bounds = pd.DatetimeIndex(starts_local).tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
    bounds_us = bounds.as_unit("us").asi8
    return pd.DataFrame(
        {
            "period": np.arange(n, dtype="int64"),
            "start": bounds[:-1],
            "end": bounds[1:],
            "p_start": bounds_us[:-1],
            "p_end": bounds_us[1:],
            "data_end": np.full(n, last_us, dtype="int64"),
            "hours": (bounds_us[1:] - bounds_us[:-1]) / 3.6e9,
        }
    ).set_index("period", drop=False)


def _statuses(
    cal: pd.DataFrame, first_us: int, last_us: int, horizon_us: int, win: pd.Timedelta, period: str
) -> pd.DataFrame:
    end = pd.Timestamp(last_us * 1000, tz="UTC").tz_convert(cal["start"].dt.tz)
    # exports cover whole days: the data start at local midnight of the first event's day
    start = pd.Timestamp(first_us * 1000, tz="UTC").tz_convert(cal["start"].dt.tz).normalize()
    partial = cal["p_start"] < _micros(start)
    incomplete = cal["p_end"] > last_us
    immature = cal["p_end"] + horizon_us > last_us
    horizon = pd.Timedelta(microseconds=horizon_us)
    cal["status"] = np.where(
        partial, "partial", np.where(incomplete, "incomplete", np.where(immature, "immature", "complete"))
    )
    cal["reason"] = np.where(
        partial,
        f"it starts before the first day of data ({start:%Y-%m-%d})",
        np.where(
            incomplete,
            f"it ends after the last event ({end:%Y-%m-%d %H:%M %Z})",
            np.where(
                immature,
                f"it ends less than {horizon} before the last event ({end:%Y-%m-%d %H:%M %Z}): conversations "
                f"triggered at its end could still engage or complete within the {win} window",
                "",
            ),
        ),
    )
    return cal


def _pick_current(cal: pd.DataFrame, at: Any, tz: str) -> int:
    if at is None:
        complete = cal.index[cal["status"] == "complete"]
        if len(complete) == 0:
            raise EmptyDataError(
                "no complete period: every period is "
                + ", ".join(sorted(set(cal["status"])))
                + f" ({'; '.join(dict.fromkeys(cal['reason']))})"
            )
        return int(complete[-1])
    try:
        when = pd.Timestamp(at)
    except (TypeError, ValueError):
        raise InvalidParameterError("at", at, reason="not a date or time") from None
    if pd.isna(when):
        raise InvalidParameterError("at", at, reason="not a date or time")
    when = when.tz_localize(tz, ambiguous=False, nonexistent="shift_forward") if when.tzinfo is None else when
    us = _micros(when)
    hit = np.flatnonzero((cal["p_start"].to_numpy() <= us) & (us < cal["p_end"].to_numpy()))
    if len(hit) == 0:
        lo, hi = cal["start"].iloc[0], cal["end"].iloc[-1]
        raise InvalidParameterError(
            "at",
            at,
            reason=f"outside the data: give a time from {lo:%Y-%m-%d} to before {hi:%Y-%m-%d} ({tz})",
        )
    return int(hit[0])


def _name(cal: pd.DataFrame, p: int, period: str) -> str:
    """A period as the headlines name it: ``week of 2026-03-09`` or ``2026-03-09``."""
    first_day = cal.loc[p, "start"].strftime("%Y-%m-%d")
    return f"week of {first_day}" if period == "week" else first_day


def params_frame(params: dict[str, Any]) -> pd.DataFrame:
    """The ``params`` table: one row per parameter, its value as text (lists joined by ``, ``)."""

    def text(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, (list, tuple)):
            return ", ".join(map(str, v))
        return str(v)

    return pd.DataFrame(
        {
            "parameter": pd.Series(list(params), dtype="str"),
            "value": pd.Series([text(v) for v in params.values()], dtype="str"),
        }
    )


def _label(cal: pd.DataFrame, p: int) -> str:
    start, end = cal.loc[p, "start"], cal.loc[p, "end"]
    last_day = (end - pd.Timedelta(seconds=1)).strftime("%Y-%m-%d")
    first_day = start.strftime("%Y-%m-%d")
    return first_day if first_day == last_day else f"{first_day} to {last_day}"


# --------------------------------------------------------------------------- metrics


def _request_counts(q: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per combination of ``by`` values: requests, accepted, missed, accepted within 30 s."""
    code = q["code"].to_numpy()
    n = q["n"].to_numpy()
    accepted = np.isin(code, [_ACCEPTED, _ACCEPTED_UNTIMED])
    within = (code == _ACCEPTED) & (q["wait_us"].to_numpy() <= SERVICE_SECONDS * 1_000_000)
    frame = q[by].copy() if by else pd.DataFrame(index=q.index)
    frame["requests"] = n
    frame["accepted"] = n * accepted
    frame["missed"] = n * (code == _MISSED)
    frame["within"] = n * within
    if not by:
        return frame.sum().to_frame().T
    return frame.groupby(by, as_index=False, sort=True).sum()


def _totals(frame: pd.DataFrame, columns: list[str]) -> dict[str, float]:
    return {c: float(frame[c].sum()) if c in frame else 0.0 for c in columns}


def _km(q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per request with a known wait (repeated by count): seconds to accept (``inf`` for a missed
    request: never accepted) and whether it was accepted.
    """
    keep = q[q["code"] != _ACCEPTED_UNTIMED]
    n = keep["n"].to_numpy()
    code = np.repeat(keep["code"].to_numpy(), n)
    seconds = np.repeat(keep["wait_us"].to_numpy() / 1e6, n)
    return np.where(code == _MISSED, np.inf, seconds), code == _ACCEPTED


def _median_with_bounds(times: np.ndarray, accepted: np.ndarray) -> tuple[float, float, float]:
    if len(times) == 0:
        return (math.nan,) * 3
    km = kaplan_meier_ci(times, accepted)
    finite = np.isfinite(km["time"])
    t = km["time"][finite]
    med = curve_quantile(t, 1 - km["survival"][finite], 0.5)
    low = curve_quantile(t, 1 - km["low"][finite], 0.5)  # the upper band of the accepted share
    high = curve_quantile(t, 1 - km["high"][finite], 0.5)
    return med, low, high


def _metric_rows(
    u0: pd.DataFrame,
    u1: pd.DataFrame,
    req0: pd.DataFrame,
    req1: pd.DataFrame,
    q0: pd.DataFrame,
    q1: pd.DataFrame,
    length0: float,
    length1: float,
    comparable: bool,
    reason: str,
) -> pd.DataFrame:
    cols = ["units", "engaged", "lead", "completed", "meeting"]
    a0, a1 = _totals(u0, cols), _totals(u1, cols)
    rq = ["requests", "accepted", "missed", "within"]
    a0.update(_totals(req0, rq))
    a1.update(_totals(req1, rq))
    nan = math.nan
    rows = []
    for name, (label, kind, basis, definition) in METRICS.items():
        row: dict[str, Any] = {
            "metric": name,
            "label": label,
            "kind": kind,
            "basis": basis,
            "definition": definition,
        }
        why = reason
        if kind == "count":
            x0, x1 = a0["units"], a1["units"]
            r = poisson_change(x1, length1, x0, length0)
            half0 = Z95 * math.sqrt(x0) * length1 / length0
            half1 = Z95 * math.sqrt(x1)
            row.update(
                before=r["expected"], before_low=r["expected"] - half0, before_high=r["expected"] + half0,
                after=x1, after_low=x1 - half1, after_high=x1 + half1,
                numerator_before=x0, denominator_before=nan, numerator_after=x1, denominator_after=nan,
                change=r["change"], change_low=r["low"], change_high=r["high"],
                relative_change=r["relative"], relative_change_low=r["relative_low"],
                relative_change_high=r["relative_high"],
                test="exact conditional Poisson (binomial), exposure-adjusted",
                statistic=r["statistic"], p_value=r["p_value"],
            )  # fmt: skip
            if x0 + x1 == 0:
                why = why or "no triggered conversations in either period"
        elif kind == "rate":
            num, den = _RATES[name]
            k0, n0, k1, n1 = a0[num], a0[den], a1[num], a1[den]
            r = two_proportions(k1, n1, k0, n0)
            lo, hi = wilson(np.array([k0, k1]), np.array([n0, n1]))
            p0 = k0 / n0 if n0 > 0 else nan
            p1 = k1 / n1 if n1 > 0 else nan
            row.update(
                before=p0, before_low=lo[0], before_high=hi[0], after=p1, after_low=lo[1], after_high=hi[1],
                numerator_before=k0, denominator_before=n0, numerator_after=k1, denominator_after=n1,
                change=r["change"], change_low=r["low"], change_high=r["high"],
                relative_change=p1 / p0 - 1 if p0 and p0 > 0 else nan,
                relative_change_low=nan, relative_change_high=nan,
                test="two-proportion z-test (pooled); Newcombe hybrid score interval",
                statistic=r["statistic"], p_value=r["p_value"],
            )  # fmt: skip
            if n0 == 0 or n1 == 0:
                which = "baseline" if n0 == 0 else "compared period"
                why = why or f"no {basis} in the {which}"
        else:
            t0, e0 = _km(q0)
            t1, e1 = _km(q1)
            m0, m1 = _median_with_bounds(t0, e0), _median_with_bounds(t1, e1)
            stat, p = nan, nan
            if len(t0) and len(t1) and (e0.any() or e1.any()):
                stat, df = logrank(
                    np.concatenate([t0, t1]),
                    np.concatenate([e0, e1]),
                    np.concatenate([np.zeros(len(t0), np.int64), np.ones(len(t1), np.int64)]),
                )
                p = chi2_sf(stat, df) if df else nan
            row.update(
                before=m0[0], before_low=m0[1], before_high=m0[2],
                after=m1[0], after_low=m1[1], after_high=m1[2],
                numerator_before=float(e0.sum()), denominator_before=float(len(t0)),
                numerator_after=float(e1.sum()), denominator_after=float(len(t1)),
                change=m1[0] - m0[0], change_low=nan, change_high=nan,
                relative_change=m1[0] / m0[0] - 1 if m0[0] > 0 else nan,
                relative_change_low=nan, relative_change_high=nan,
                test="log-rank (time to accept); no interval for the difference of medians",
                statistic=stat, p_value=p,
            )  # fmt: skip
            if len(t0) == 0 or len(t1) == 0:
                which = "baseline" if len(t0) == 0 else "compared period"
                why = why or f"no live-chat requests in the {which}"
            elif not (np.isfinite(m0[0]) and np.isfinite(m1[0])):
                why = why or "fewer than half of the requests were accepted in a period: no median"
        row["comparable"] = not why
        row["reason"] = why
        rows.append(row)
    out = pd.DataFrame(rows)
    ok = out["comparable"].to_numpy() & np.isfinite(out["p_value"].to_numpy(dtype=float))
    out.loc[~ok, ["statistic", "p_value"]] = nan
    adjusted = np.full(len(out), nan)
    if ok.any():
        adjusted[ok] = holm(out.loc[ok, "p_value"].to_numpy(dtype=float))
    out["p_adjusted"] = adjusted
    out["significant"] = ok & (np.nan_to_num(adjusted, nan=1.0) < ALPHA)
    out["comparable"] = out["comparable"].astype(bool)
    for c in ("metric", "label", "kind", "basis", "definition", "test", "reason"):
        out[c] = out[c].astype("str")
    order = list(CHANGES_METRICS)
    text = ("metric", "label", "kind", "basis", "definition", "test", "reason", "significant", "comparable")
    floats = [c for c in order if c not in text]
    out[floats] = out[floats].astype("float64")
    return out[order]


# --------------------------------------------------------------------------- drivers


def _driver_rows(
    u0: pd.DataFrame,
    u1: pd.DataFrame,
    req0: pd.DataFrame,
    req1: pd.DataFrame,
    by: list[str],
    length0: float,
    length1: float,
) -> pd.DataFrame:
    parts = []
    for b in by:  # a few breakdown columns, each vectorised over its groups
        unit_cols = ["units", "engaged", "lead", "completed", "meeting"]
        req_cols = ["requests", "accepted", "missed", "within"]
        g_u = _joined(u0, u1, b, unit_cols)
        g_r = _joined(req0, req1, b, req_cols)
        if len(g_u):
            cc = count_contributions(g_u["units_0"], g_u["units_1"], length0, length1)
            parts.append(
                pd.DataFrame(
                    {
                        "metric": "triggered",
                        "by": b,
                        "group": g_u.index,
                        "units_before": g_u["units_0"].to_numpy(),
                        "units_after": g_u["units_1"].to_numpy(),
                        "share_before": cc["share_before"],
                        "share_after": cc["share_after"],
                        "rate_before": np.nan,
                        "rate_after": np.nan,
                        "mix": np.nan,
                        "rate": np.nan,
                        "total": cc["total"],
                        "total_low": cc["total_low"],
                        "total_high": cc["total_high"],
                        "status": cc["status"],
                    }
                )
            )
        for metric, (num, den) in _RATES.items():
            g = g_r if den == "requests" else g_u
            g = g[(g[f"{den}_0"] > 0) | (g[f"{den}_1"] > 0)]
            if len(g) == 0 or g[f"{den}_0"].sum() == 0 or g[f"{den}_1"].sum() == 0:
                continue
            d = kitagawa(g[f"{num}_0"], g[f"{den}_0"], g[f"{num}_1"], g[f"{den}_1"])
            parts.append(
                pd.DataFrame(
                    {
                        "metric": metric,
                        "by": b,
                        "group": g.index,
                        "units_before": g[f"{den}_0"].to_numpy(),
                        "units_after": g[f"{den}_1"].to_numpy(),
                        **{k: d[k] for k in ("share_before", "share_after", "rate_before", "rate_after")},
                        **{k: d[k] for k in ("mix", "rate", "total", "total_low", "total_high", "status")},
                    }
                )
            )
    columns = list(CHANGES_DRIVERS)
    if not parts:
        empty = pd.DataFrame({c: pd.Series([], dtype="float64") for c in columns})
        for c in ("metric", "by", "group", "status"):
            empty[c] = empty[c].astype("str")
        empty["rank"] = empty["rank"].astype("int64")
        return empty
    out = pd.concat(parts, ignore_index=True)
    metric_order = {m: i for i, m in enumerate(METRICS)}
    by_order = {b: i for i, b in enumerate(by)}
    out = out.assign(
        _m=out["metric"].map(metric_order), _b=out["by"].map(by_order), _a=-out["total"].abs()
    ).sort_values(["_m", "_b", "_a", "group"], kind="stable")
    out["rank"] = out.groupby(["metric", "by"]).cumcount().astype("int64") + 1
    out = out.drop(columns=["_m", "_b", "_a"]).reset_index(drop=True)
    for c in ("metric", "by", "group", "status"):
        out[c] = out[c].astype("str")
    for c in ("units_before", "units_after"):
        out[c] = out[c].astype("int64")
    return out[columns]


def _joined(f0: pd.DataFrame, f1: pd.DataFrame, b: str, cols: list[str]) -> pd.DataFrame:
    """Per value of ``b``: the before (``_0``) and after (``_1``) sums of ``cols``, zeros where absent."""

    def side(f: pd.DataFrame) -> pd.DataFrame:
        if len(f) == 0 or b not in f:
            return pd.DataFrame(columns=cols, dtype="float64")
        return f.groupby(b, sort=True)[cols].sum()

    out = side(f0).add_suffix("_0").join(side(f1).add_suffix("_1"), how="outer").fillna(0.0)
    return out.astype("float64")


# --------------------------------------------------------------------------- headlines


def _pct(x: float, other: float = 1.0) -> str:
    return f"{x:.1%}" if min(abs(x), abs(other)) < 0.1 else f"{x:.0%}"


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} pts".replace("-", "\u2212")


def _num(x: float) -> str:
    return f"{x:.1f}".replace("-", "\u2212")


def change_headlines(tables: dict[str, pd.DataFrame], drivers_per_metric: int = 2) -> list[str]:
    """Plain sentences from the tables of :func:`compute_changes`: the metrics that moved beyond noise
    first, each with its largest drivers, then the others.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.analysis._changes import compute_changes, change_headlines
    >>> lines = change_headlines(compute_changes(ca.load_sample(), tz="America/New_York"))
    >>> lines[0].startswith(("Nothing", "Triggered", "Engagement", "Lead", "Completion", "Meetings",
    ...                      "Live", "Missed", "Service", "Median"))
    True
    """
    m = tables["metrics"]
    d = tables["drivers"]
    lines = []
    sig = m[m["significant"]].sort_values("p_adjusted", kind="stable")
    rest = m[~m["significant"]]
    params = dict(zip(tables["params"]["parameter"], tables["params"]["value"], strict=True))
    compared = f"{params['current']} against {params['baseline_label']}"
    if not m["comparable"].any():
        reasons = "; ".join(dict.fromkeys(r for r in m["reason"] if r))
        lines.append(f"Not compared: {compared}: {reasons}.")
    elif len(sig) == 0:
        lines.append(f"Nothing moved beyond noise: {compared} (Holm-adjusted, 5%).")
    for _, row in pd.concat([sig, rest]).iterrows():
        lines.append(_metric_sentence(row, d, drivers_per_metric))
    if len(sig):
        n = int(m["comparable"].sum())
        lines.append(
            f"Compared: {compared} ({params['tz']}); significant means a Holm-adjusted p-value below "
            f"{params['alpha']} over the {n} metrics compared."
        )
    return lines


def _metric_sentence(row: pd.Series, d: pd.DataFrame, n_drivers: int) -> str:
    label, kind = row["label"], row["kind"]
    if not row["comparable"]:
        return f"{label}: not compared ({row['reason']})."
    b, a, ch = row["before"], row["after"], row["change"]
    verb = "rose" if ch > 0 else "fell" if ch < 0 else "did not change"
    noise = "significant" if row["significant"] else "within noise"
    if kind == "count":
        rel = row["relative_change"]
        size = f"{abs(rel):.0%}" if abs(rel) >= 0.1 else f"{abs(rel):.1%}"
        if ch == 0:
            return f"{label} did not change ({b:,.0f} to {a:,.0f}; {noise})."
        return f"{label} {verb} {size} ({b:,.0f} to {a:,.0f}; {noise})."
    if kind == "median":
        return f"{label} {verb} from {b:.0f} s to {a:.0f} s (log-rank p = {row['p_value']:.2g}; {noise})."
    moved = f"stayed at {_pct(a, b)}" if ch == 0 else f"{verb} from {_pct(b, a)} to {_pct(a, b)}"
    text = (
        f"{label} {moved} ({_pts(ch)}, "
        f"95% CI {_num(row['change_low'] * 100)} "
        f"to {_num(row['change_high'] * 100)}; {noise})."
    )
    if not row["significant"]:
        return text
    mine = d[d["metric"] == row["metric"]]
    if len(mine) == 0:
        return text
    # the largest rate parts of the first breakdown (the breakdowns overlap: one group's own rate
    # shows again in every other breakdown) and the largest mix parts of any breakdown, in the
    # direction of the change
    first = mine[mine["by"] == mine["by"].iloc[0]]
    long = pd.concat(
        [
            first.assign(part=first["rate"], kind_="rate"),
            mine.assign(part=mine["mix"], kind_="mix"),
        ]
    )
    long = long[np.sign(long["part"]) == np.sign(ch)]
    long = long[long["part"].abs() >= 0.1 * abs(ch)]
    long = long.reset_index(drop=True)
    long = long.sort_values("part", key=lambda x: -x.abs(), kind="stable").drop_duplicates(["kind_", "group"])
    said = []
    for _, p in long.head(n_drivers).iterrows():
        amount = f"{abs(p['part']) * 100:.1f} pts"
        if p["kind_"] == "rate":
            said.append(f"{amount} of it is the {p['group']}'s own rate")
        else:
            toward = "to" if p["share_after"] > p["share_before"] else "away from"
            said.append(f"{amount} is traffic moving {toward} {p['group']}")
    if said:
        text += " " + "; ".join(said)[0].upper() + "; ".join(said)[1:] + "."
    return text


# --------------------------------------------------------------------------- the result

_OUTCOME_NAMES = {
    _OPEN: "open",
    _ACCEPTED: "accepted",
    _MISSED: "missed",
    _LEFT: "left",
    _ACCEPTED_UNTIMED: "accepted",
}
# unit metric -> the 0/1 column of the per-unit rows that is its numerator (``None``: every unit)
_REACHED = {
    "triggered": None,
    "engagement_rate": "engaged",
    "lead_capture_rate": "lead",
    "completion_rate": "completed",
    "meeting_rate": "meeting",
}


class ChangesResult(Result):
    """What changed between the compared period and its baseline, whether it is beyond noise, and what
    drove it.

    ``frame(name)`` returns one of these tables (a copy); the columns are listed in
    :mod:`chatanalytics.columns` and defined in the notes of :func:`changes`:

    ``"metrics"`` (:data:`~chatanalytics.columns.CHANGES_METRICS`)
        One row per metric: ``before`` (the baseline) and ``after`` (the compared period) with their
        95% bounds and raw counts, the ``change`` with its interval, the ``relative_change``, the
        ``test``, ``p_value``, ``p_adjusted`` (Holm), ``significant``, ``comparable`` and ``reason``.
    ``"drivers"`` (:data:`~chatanalytics.columns.CHANGES_DRIVERS`)
        Per metric, breakdown column (``by``) and ``group``: the group's part of the change, ``mix``
        (units moving between groups) + ``rate`` (the group's own rate) = ``total``, with its 95%
        interval, ranked by size; ``status`` is ``both``, ``new`` or ``vanished``.
    ``"periods"`` (:data:`~chatanalytics.columns.CHANGES_PERIODS`)
        Every calendar period of the data: bounds in ``tz``, units, requests, ``status``
        (``complete`` / ``partial`` / ``incomplete`` / ``immature``), ``reason`` and ``role``.
    ``"params"`` (:data:`~chatanalytics.columns.CHANGES_PARAMS`)
        The parameters as text.

    :meth:`headlines` says it in plain sentences; :meth:`drivers` gives one metric's drivers and
    :meth:`units` lists the conversations (or live-chat requests) behind a group's part.
    """

    NAME: ClassVar[str] = "changes"
    TITLE: ClassVar[str] = "What changed"
    TABLES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "metrics": columns.CHANGES_METRICS,
        "drivers": columns.CHANGES_DRIVERS,
        "periods": columns.CHANGES_PERIODS,
        "params": columns.CHANGES_PARAMS,
    }
    FIGURES: ClassVar[Mapping[str, FigureKind]] = {
        "overview": FigureKind(
            "changes_overview_figure",
            ("metrics",),
            caption="Every metric in the baseline and in the compared period, with 95% intervals; the "
            "metrics that moved beyond noise (Holm-adjusted, 5%) are marked, those not compared say why.",
        ),
        "waterfall": FigureKind(
            "changes_waterfall_figure",
            ("drivers", "metrics"),
            caption="From the baseline value to the compared one: each group's mix part (units moving "
            "between groups) and rate part (the group's own rate changing), largest first; the parts add "
            "up exactly to the change (Kitagawa).",
        ),
    }
    CSV: ClassVar[Mapping[str, str]] = {"changes": "metrics", "change_drivers": "drivers"}
    WIDGET: ClassVar[str | None] = "ChangesWidget"
    DEFINITIONS: ClassVar[tuple[tuple[str, str], ...]] = (
        (
            "Compared period and baseline",
            "The latest complete calendar week (Monday to Sunday) or day in the chosen time zone is "
            "compared with the period before it, or with the pooled periods before it when the baseline "
            "spans several (counts are then scaled to one period's length).",
        ),
        (
            "Conversation (unit)",
            "A conversation in a session, counted in the period of its first trigger; its steps count "
            "within the funnel window (30 minutes by default) of that trigger.",
        ),
        ("Triggered conversations", "Conversations triggered in the period (a count)."),
        ("Engagement", "Engaged conversations / triggered conversations."),
        ("Lead capture", "Engaged conversations that then gave an email or phone number / engaged ones."),
        ("Completion", "Conversations that engaged and then completed / triggered conversations."),
        ("Meetings booked", "Conversations with a meeting booked / triggered conversations."),
        (
            "Live-chat acceptance, missed live chats",
            "Accepted, or missed (no agent accepted within Adobe's 100-second window) live-chat requests "
            "/ requests, in the period of the request's first offer.",
        ),
        (
            "Service level (30 s)",
            "Requests accepted within 30 seconds of the first offer / all requests; visitors who left "
            "and missed requests count against.",
        ),
        (
            "Median wait to accept",
            "Half of the requests were accepted within this time (Kaplan-Meier: visitors who left and "
            "open requests are censored, missed requests are never accepted).",
        ),
        (
            "Maturity",
            "A period is compared only when it is complete: it starts on the data's first day or later, "
            "ends before the last event, and ends at least the funnel window (and two 100-second offers) "
            "before the last event, so that its late conversations had time to engage or complete. A "
            "period that is not complete is never compared silently: its metrics say why.",
        ),
        (
            "Tests and intervals",
            "Rates: two-proportion z-test, Newcombe's interval for the difference. The count: exact "
            "Poisson comparison adjusted for the periods' lengths. The median wait: log-rank test of "
            "time to accept. All intervals are 95%.",
        ),
        (
            "Significant (Holm)",
            "Holm's step-down adjustment over the metrics compared keeps the chance that any metric is "
            "flagged when nothing changed at or below 5%; significant means a Holm-adjusted p-value "
            "below 0.05.",
        ),
        (
            "Mix and rate (Kitagawa)",
            "A rate's change is split per group into a mix part (the group's share of conversations "
            "changed, times how far its rate sits from the average) and a rate part (the group's own rate "
            "changed, weighted by its average share); the parts of all groups add up exactly to the "
            "change. For the count, each group's part is its own change.",
        ),
        (
            "New and vanished groups",
            "A group with conversations in only one of the two periods has no rate to compare: its "
            "whole part is mix (traffic arriving or leaving), marked new or vanished.",
        ),
    )

    def frame(self, name: str | None = "metrics") -> pd.DataFrame:
        """One of the tables listed in the class docstring, as a copy (``"metrics"`` by default)."""
        return super().frame(name)

    def headlines(self) -> list[str]:
        """Every headline line: the metrics that moved beyond noise first, each with its largest
        drivers, then the others, and what was compared.
        """
        return change_headlines(dict(self.data))

    def headline(self) -> str:
        """The first headline line: the strongest significant move, or that nothing moved."""
        return self.headlines()[0]

    def summary(self) -> dict[str, Any]:
        """Headline numbers: metrics compared, how many moved significantly, and the significant move
        with the smallest Holm-adjusted p-value (``top_metric``, its ``top_change`` in the metric's unit,
        ``top_relative_change``, ``top_p_adjusted``; ``None`` / ``nan`` when none moved).
        """
        m = self.data["metrics"]
        sig = m[m["significant"]].sort_values("p_adjusted", kind="stable")
        top = sig.iloc[0] if len(sig) else None
        return {
            "metrics_compared": int(m["comparable"].sum()),
            "significant": int(m["significant"].sum()),
            "top_metric": None if top is None else str(top["metric"]),
            "top_change": math.nan if top is None else float(top["change"]),
            "top_relative_change": math.nan if top is None else float(top["relative_change"]),
            "top_p_adjusted": math.nan if top is None else float(top["p_adjusted"]),
        }

    def widget_arguments(self) -> dict[str, Any]:
        """The arguments of :func:`changes` (and ``ChangesWidget``) that give this result again."""
        p = self.params
        return {
            "period": p["period"],
            "tz": p["tz"],
            "by": list(p["by"]),
            "baseline": p["baseline"],
            "at": p["at"],
            "window": p["window"],
        }

    def drivers(self, metric: str, by: str | None = None) -> pd.DataFrame:
        """The drivers of one metric (a copy): every breakdown column, or only ``by``.

        Parameters
        ----------
        metric : str
            One of the metrics (``engagement_rate``, ...); the median wait has no drivers.
        by : str, optional
            One of the result's ``by`` columns.

        Returns
        -------
        pandas.DataFrame
            Rows of the ``drivers`` table, ranked.
        """
        if metric not in METRICS:
            raise InvalidParameterError("metric", metric, list(METRICS))
        d = self.data["drivers"]
        keep = d["metric"] == metric
        if by is not None:
            if by not in self.params["by"]:
                raise InvalidParameterError("by", by, list(self.params["by"]))
            keep &= d["by"] == by
        return d[keep].reset_index(drop=True).copy()

    def units(self, events: Any, metric: str, group: str, by: str | None = None) -> pd.DataFrame:
        """The conversations (or live-chat requests) behind one group's part of a metric's change.

        The result holds no events: the rows are computed again from ``events`` (the ones the result
        was made from), on the same engine, by the rules of :func:`changes`.

        Parameters
        ----------
        events : pandas.DataFrame or ibis Table
            The events the result was computed from.
        metric : str
            The metric; its denominator decides the rows: triggered conversations, engaged ones (lead
            capture), or live-chat requests.
        group : str
            A group of ``by`` in the drivers of ``metric`` (``(none)`` for a missing value).
        by : str, optional
            One of the result's ``by`` columns; the first by default.

        Returns
        -------
        pandas.DataFrame
            For the conversation metrics :data:`~chatanalytics.columns.CHANGES_UNITS`: the keys, the
            ``conversation_name`` and ``group`` on the first trigger, ``role`` (``baseline`` /
            ``current``), ``triggered_at`` (in ``tz``), ``reached`` (counted in the metric's numerator)
            and the step flags. For the live-chat metrics :data:`~chatanalytics.columns.CHANGES_REQUESTS`:
            one row per request with ``requested_at`` (first offer, in ``tz``), ``request`` (1 for the
            conversation's first), ``reached``, ``outcome`` (accepted, missed, left, open),
            ``wait_seconds`` (first offer to the outcome, to the end of the data for an open request;
            empty when the accept time was not recorded) and ``accepted_within_30s``. Baseline rows
            first, then by time.

        Examples
        --------
        >>> import chatanalytics as ca
        >>> events = ca.load_sample()
        >>> r = ca.changes(events, tz="America/New_York")
        >>> top = r.drivers("engagement_rate", "conversation_name")["group"].iloc[0]
        >>> rows = r.units(events, metric="engagement_rate", by="conversation_name", group=top)
        >>> d = r.drivers("engagement_rate", "conversation_name").set_index("group").loc[top]
        >>> int((rows["role"] == "current").sum()) == int(d["units_after"])
        True
        """
        import ibis

        p = self.params
        if metric not in METRICS:
            raise InvalidParameterError("metric", metric, list(METRICS))
        bys = list(p["by"])
        if not bys:
            raise InvalidParameterError("by", by, reason="the result has no breakdown: compute it with by=")
        b = bys[0] if by is None else by
        if b not in bys:
            raise InvalidParameterError("by", b, bys)
        d = self.data["drivers"]
        source = "acceptance_rate" if metric == "median_wait_seconds" else metric
        groups = d.loc[(d["metric"] == source) & (d["by"] == b), "group"].tolist()
        if group not in groups:
            raise InvalidParameterError("group", group, groups)
        periods = self.data["periods"]
        roles = periods[periods["role"] != ""]
        last_us = _micros(pd.Timestamp(p["last_event"]))
        cal = ibis.memtable(
            pa.table(
                {
                    "period": pa.array(roles["period"].to_numpy(), pa.int64()),
                    "p_start": pa.array(pd.DatetimeIndex(roles["start"]).as_unit("us").asi8, pa.int64()),
                    "p_end": pa.array(pd.DatetimeIndex(roles["end"]).as_unit("us").asi8, pa.int64()),
                    "data_end": pa.array(np.full(len(roles), last_us), pa.int64()),
                }
            )
        )
        carry = list(dict.fromkeys([b, "conversation_name"]))
        t = as_table(events, list(dict.fromkeys([*_COLUMNS, *carry])), micros=True)
        win_us = int(duration("window", p["window"]) / pd.Timedelta(microseconds=1))  # type: ignore[operator]
        unit_metric = metric in _REACHED
        rows = _unit_rows(t, cal, carry, win_us) if unit_metric else _request_rows(t, cal, carry)
        rows = rows.filter(rows.g0 == group)
        if metric == "lead_capture_rate":
            rows = rows.filter(rows.engaged == 1)
        x = rows.to_pyarrow().to_pandas()
        role = dict(zip(roles["period"], roles["role"], strict=True))
        out = pd.DataFrame(
            {
                "session_id": x["session_id"].astype("str"),
                "conversation_id": x["conversation_id"].astype("str"),
                "conversation_name": x[f"g{carry.index('conversation_name')}"].astype("str"),
                "by": pd.Series(b, index=x.index, dtype="str"),
                "group": x["g0"].astype("str"),
                "role": x["period"].map(role).astype("str"),
            }
        )
        tz = p["tz"]
        if unit_metric:
            out["triggered_at"] = pd.to_datetime(x["t1"], unit="us", utc=True).dt.tz_convert(tz)
            flag = _REACHED[metric]
            out["reached"] = True if flag is None else x[flag].astype(bool)
            for name, col in (("engaged", "engaged"), ("lead_captured", "lead"), ("completed", "completed"),
                              ("meeting_booked", "meeting")):  # fmt: skip
                out[name] = x[col].astype(bool)
            order = ["role", "triggered_at", "session_id", "conversation_id"]
        else:
            code = x["code"].to_numpy()
            wait = x["wait_us"].to_numpy(dtype="float64") / 1e6
            out["requested_at"] = pd.to_datetime(x["requested_at"], unit="us", utc=True).dt.tz_convert(tz)
            out["request"] = x["request"].astype("int64")
            accepted = np.isin(code, [_ACCEPTED, _ACCEPTED_UNTIMED])
            within = (code == _ACCEPTED) & (wait <= SERVICE_SECONDS)
            out["reached"] = {"miss_rate": code == _MISSED, "service_level_30s": within}.get(metric, accepted)
            out["outcome"] = pd.Series(code, index=x.index).map(_OUTCOME_NAMES).astype("str")
            out["wait_seconds"] = np.where(code == _ACCEPTED_UNTIMED, np.nan, wait)
            out["accepted_within_30s"] = within
            order = ["role", "requested_at", "session_id", "conversation_id", "request"]
        out["reached"] = out["reached"].astype(bool)
        out = out.sort_values(
            order, key=lambda c: c.map({"baseline": 0, "current": 1}) if c.name == "role" else c
        )
        return out.reset_index(drop=True)

    def report_tables(self, tz: str = "UTC") -> list[TableView]:
        """The headline lines, the metrics, the three largest drivers per metric and breakdown, and the
        periods.
        """
        m = self.frame("metrics")
        d = self.frame("drivers")
        return [
            TableView("What changed", pd.DataFrame({"finding": self.headlines()})),
            TableView(
                "Metrics",
                m[
                    [
                        "label",
                        "basis",
                        "before",
                        "after",
                        "change",
                        "change_low",
                        "change_high",
                        "relative_change",
                        "p_value",
                        "p_adjusted",
                        "significant",
                        "reason",
                    ]
                ],
                "Rates as fractions (0.05 = 5%), the count in conversations, the median wait in seconds; "
                "before = the baseline, after = the compared period; 95% intervals; p_adjusted by Holm.",
            ),
            TableView(
                "Largest drivers",
                d[d["rank"] <= 3],
                "Per metric and breakdown, the three groups with the largest part of the change: mix + "
                "rate = total (Kitagawa), with its 95% interval.",
            ),
            TableView("Periods", self.frame("periods"), "Only complete periods are compared."),
        ]

    def _preview(self) -> pd.DataFrame:
        return self.data["metrics"][
            ["label", "before", "after", "change", "change_low", "change_high", "p_adjusted", "significant"]
        ]


def changes(
    events: Any,
    *,
    period: str = "week",
    tz: str = "UTC",
    by: str | Sequence[str] = ("conversation_name", "ui_type"),
    baseline: int = 1,
    at: Any = None,
    window: Any = "30min",
) -> ChangesResult:
    """What changed, and why: which metric moved between the latest complete period and the one before,
    whether the move is larger than noise, and whether traffic mix or rates within groups drove it.

    Nine metrics are compared: triggered conversations, engagement, lead capture, completion, meetings
    booked per triggered conversation, live-chat acceptance, missed live chats, the service level
    within 30 seconds and the median wait to accept (definitions as in :func:`funnel` and
    :func:`timeouts`, in :meth:`ChangesResult.describe` and in the notes below). Each gets its value in
    both periods with 95% intervals, the change with its interval, a test suited to it (two-proportion
    for rates, an exact exposure-adjusted Poisson comparison for the count, log-rank for the wait), and a
    flag for significant after Holm's adjustment over the metrics compared (the chance that any metric
    is flagged when nothing changed stays at or below 5%). Each rate's change is split per group of each
    ``by`` column into mix and rate parts (Kitagawa) that add up exactly to it.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events: a frame, :func:`open_events` (Parquet, DuckDB) or any Ibis table checked by
        :func:`events_table` (PySpark, ...); the per-period counts are computed on that engine.
    period : {"week", "day"}, default "week"
        Calendar weeks starting Monday, or calendar days, in ``tz``.
    tz : str, default "UTC"
        Time zone of the periods.
    by : str or sequence of str, default ("conversation_name", "ui_type")
        Columns to break the changes down by: ``conversation_name``, ``conversation_id``,
        ``conversation_type``, ``ui_type``, ``page_url`` (the value on the conversation's first trigger,
        or on the request's first offer); ``()`` for none.
    baseline : int, default 1
        Number of periods right before the compared one, pooled, that form the baseline.
    at : date or time, optional
        A date or time inside the period to compare (local to ``tz`` unless it carries an offset); the
        last complete period by default. A period that is not complete is not compared: its metrics
        say why, and a :class:`DataQualityWarning` is raised.
    window : str or Timedelta, default "30min"
        Funnel window: a conversation's steps count within it of its first trigger.

    Returns
    -------
    ChangesResult
        Tables ``metrics`` (the default), ``drivers``, ``periods`` and ``params``; ``headlines()`` in
        plain words, figures ``overview`` and ``waterfall``.

    Raises
    ------
    InvalidParameterError
        A parameter out of range (named, with its value and the allowed values).
    EmptyDataError
        No events, no complete period, or too few complete periods before it for the baseline.

    Notes
    -----
    The tables' columns are listed in :mod:`chatanalytics.columns` (``CHANGES_*``). Periods are
    ``partial`` when they start before the data's first day, ``incomplete`` when they end after the
    last event and ``immature`` when they end less than the funnel window (or two 100-second live-chat
    offers) before it. A new or vanished group (conversations in only one period) has no rate to
    compare: its whole part is mix.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> r = ca.changes(ca.load_sample(), tz="America/New_York")
    >>> r.params["current"], r.params["baseline_label"]
    ('week of 2026-10-19', 'week of 2026-10-12')
    >>> r.headline()
    'Nothing moved beyond noise: week of 2026-10-19 against week of 2026-10-12 (Holm-adjusted, 5%).'
    >>> r.summary()["metrics_compared"], r.summary()["significant"]
    (9, 0)
    >>> r.frame().set_index("metric").loc["triggered", ["before", "after"]].tolist()
    [833.0, 875.0]
    >>> r.headlines()[1]
    'Triggered conversations rose 5.0% (833 to 875; within noise).'
    """
    tables, params = _compute(events, period=period, tz=tz, by=by, baseline=baseline, at=at, window=window)
    return ChangesResult._make(tables, params, events)
