"""Event counts per type, and per type and period: the first look at a new export."""

from __future__ import annotations

import pandas as pd

from ..errors import InvalidParameterError
from ..schema import EVENT_TYPES, STRING, validate_events

_FREQS = {
    "day": "D",
    "week": "W-SUN",
    "month": "MS",
    "hour": "h",
}  # W-SUN: weeks ending Sunday, starting Monday


def event_counts(events: pd.DataFrame, *, freq: str | None = None, tz: str = "UTC") -> pd.DataFrame:
    r"""Count events per type, optionally per period in a time zone.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events.
    freq : {None, "hour", "day", "week", "month"}
        Also split by period: the local calendar hour, day, week (starting Monday) or month in ``tz``.
    tz : str
        IANA time zone that defines the periods (``"Europe/Berlin"``); UTC by default.

    Returns
    -------
    pandas.DataFrame
        ``event_type`` (all 11 types, in the documented order, zero when absent), ``period`` (the
        period's start as a local date-time, only with ``freq``; every period from the first to the
        last, quiet ones included) and ``events`` (the sum of ``event_count``).

    Examples
    --------
    >>> import chatanalytics as ca
    >>> ev = ca.make_events([
    ...     {"event_time_utc": "2026-11-02 23:30", "event_type": "triggered"},
    ...     {"event_time_utc": "2026-11-03 00:30", "event_type": "triggered"},
    ... ])
    >>> t = ca.event_counts(ev, freq="day", tz="America/New_York")
    >>> t[t["events"] > 0][["period", "events"]].to_string(index=False)
    '    period  events\n2026-11-02       2'
    """
    validate_events(events)
    if freq is not None and freq not in _FREQS:
        raise InvalidParameterError("freq", freq, [None, *_FREQS])
    try:
        local = events["event_time_utc"].dt.tz_convert(tz)
    except Exception as err:
        raise InvalidParameterError("tz", tz, reason=f"not a time zone ({err})") from None
    counts = events["event_count"].astype("int64")
    if freq is None:
        out = counts.groupby(events["event_type"], observed=False).sum()
        return pd.DataFrame(
            {"event_type": pd.Series(out.index.astype(str), dtype=STRING), "events": out.to_numpy()}
        )
    periods = local.dt.tz_localize(None).dt.to_period(_FREQS[freq])
    table = counts.groupby([events["event_type"], periods.rename("period")], observed=False).sum()
    table = table.unstack("event_type", fill_value=0).reindex(columns=list(EVENT_TYPES), fill_value=0)
    if len(table):  # every period between the first and the last, quiet ones included
        table = table.reindex(pd.period_range(table.index.min(), table.index.max()), fill_value=0)
    table.index = table.index.rename("period").to_timestamp(how="start")
    out = table.stack().rename("events").reset_index()
    out["event_type"] = out["event_type"].astype(STRING)
    return (
        out[["event_type", "period", "events"]]
        .sort_values(["period", "event_type"], key=_order)
        .reset_index(drop=True)
    )


def _order(col: pd.Series) -> pd.Series:
    if col.name == "event_type":
        return col.map({e: i for i, e in enumerate(EVENT_TYPES)})
    return col
