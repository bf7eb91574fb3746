import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.schema import EVENT_TYPES


def events():
    # New York is UTC-5 in November 2026: 03:30Z on Nov 3 is 22:30 on Nov 2 there
    return ca.make_events(
        [
            {"event_time_utc": "2026-11-02 14:00", "event_type": "triggered"},
            {"event_time_utc": "2026-11-03 03:30", "event_type": "triggered"},
            {"event_time_utc": "2026-11-03 15:00", "event_type": "engaged"},
            {"event_time_utc": "2026-11-05 15:00", "event_type": "closed", "event_count": 3},
        ]
    )


def test_counts_per_type_cover_all_eleven_types_in_order():
    t = ca.event_counts(events())
    assert t["event_type"].tolist() == list(EVENT_TYPES)
    assert dict(zip(t["event_type"], t["events"], strict=True))["CONVERSATION_TRIGGERED"] == 2
    assert (
        dict(zip(t["event_type"], t["events"], strict=True))["CONVERSATION_CLOSED"] == 3
    )  # event_count summed
    assert t["events"].sum() == 6


def test_counts_per_local_day_include_quiet_days():
    t = ca.event_counts(events(), freq="day", tz="America/New_York")
    wide = t.pivot(index="period", columns="event_type", values="events")
    assert list(wide.index) == list(pd.date_range("2026-11-02", "2026-11-05", freq="D"))
    assert wide["CONVERSATION_TRIGGERED"].tolist() == [2, 0, 0, 0]
    assert wide["CONVERSATION_ENGAGED"].tolist() == [0, 1, 0, 0]
    assert wide["CONVERSATION_CLOSED"].tolist() == [0, 0, 0, 3]
    utc = ca.event_counts(events(), freq="day").pivot(index="period", columns="event_type", values="events")
    assert utc["CONVERSATION_TRIGGERED"].tolist() == [1, 1, 0, 0]


def test_bad_parameters_are_named():
    with pytest.raises(ca.InvalidParameterError, match="Did you mean 'day'"):
        ca.event_counts(events(), freq="dya")
    with pytest.raises(ca.InvalidParameterError, match="tz"):
        ca.event_counts(events(), freq="day", tz="Mars/Olympus")


def test_weeks_start_on_monday():
    # 2026-11-04 is a Wednesday; its week starts on Monday 2026-11-02
    e = ca.make_events([{"event_time_utc": "2026-11-04 12:00", "event_type": "triggered"}])
    t = ca.event_counts(e, freq="week")
    assert t["period"].unique().tolist() == [pd.Timestamp("2026-11-02")]
