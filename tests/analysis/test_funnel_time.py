"""Time to convert (Kaplan-Meier, censored units counted), conversion over time, and Adobe's metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

import chatanalytics as ca
from tests.analysis.test_funnel import ev


def test_time_curves_match_lifelines_with_censored_units():
    rows = [
        ("09:00", "triggered", "A", "c"),
        ("09:02", "engaged", "A", "c"),  # converts after 120 s
        ("09:00", "triggered", "B", "c"),
        ("09:05", "engaged", "B", "c"),  # 300 s
        ("09:00", "triggered", "C", "c"),
        ("09:05", "engaged", "C", "c"),  # 300 s (a tie)
        ("09:00", "triggered", "D", "c"),  # window ends: censored at 1800 s
        ("10:00", "triggered", "E", "c"),
        ("10:10", "engaged", "E", "c"),  # 600 s
        ("10:15", "triggered", "F", "c"),  # data end 10:20: censored at 300 s
        ("10:20", "closed", "Z", "z"),
    ]
    f = ca.funnel(ev(rows), steps=["triggered", "engaged"], window="30min")
    durations = np.array([120, 300, 300, 1800, 600, 300], dtype=float)
    observed = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    km = KaplanMeierFitter().fit(durations, observed)
    curve = f.time_curves()
    expected = 1 - km.survival_function_.iloc[:, 0].loc[curve["seconds"]].to_numpy()
    assert curve["seconds"].tolist() == [120.0, 300.0, 600.0]
    np.testing.assert_allclose(curve["converted_share"], expected)
    # by hand: S = 5/6 after 120 s; 5 at risk at 300 s (F, censored then, leaves after the 2 events), so
    # x 3/5 = 1/2; 2 at risk at 600 s (D and E), x 1/2 = 1/4
    np.testing.assert_allclose(curve["converted_share"], [1 / 6, 1 / 2, 3 / 4])
    t = f.frame()
    assert t["still_open"].tolist() == [0, 1]
    # final share 3/4; half of it (0.375) is first reached at 300 s, nine tenths (0.675) at 600 s
    assert t["median_seconds"].iloc[1] == 300.0 and t["p90_seconds"].iloc[1] == 600.0


def test_over_time_by_entry_day_flags_immature_periods():
    rows = [
        ("09:00", "triggered", "A", "c"),
        ("09:01", "engaged", "A", "c"),
        ("23:50", "triggered", "B", "c"),
    ]
    e = ev(rows)
    later = ca.make_events(
        [
            {
                "event_time_utc": "2026-11-03 00:05",
                "event_type": "triggered",
                "session_id": "C",
                "conversation_id": "c",
            }
        ]
    )
    events = pd.concat([e, later], ignore_index=True)
    f = ca.funnel(events, steps=["triggered", "engaged"], window="30min")
    o = f.over_time("day")
    step2 = o[o["step"] == 2]
    assert step2["period"].tolist() == [pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-03")]
    assert step2["entered"].tolist() == [2, 1]
    assert step2["converted"].tolist() == [1, 0]
    # data end 00:05 on Nov 3: Nov 2's window (its last entrant at 23:59:59 + 30 min) had not ended
    assert step2["immature"].tolist() == [True, True]
    assert o["overall_rate"].between(0, 1).all()
    # in New York both entries fall on Nov 2 (local 04:00 and 18:50/19:05)
    ny = f.over_time("day", tz="America/New_York")
    assert ny[ny["step"] == 1]["entered"].tolist() == [3]
    with pytest.raises(ca.InvalidParameterError):
        f.over_time("month")


def test_adobe_metrics_count_once_per_session():
    rows = [
        ("09:00", "triggered", "s1", "c1"),
        ("09:01", "triggered", "s1", "c1"),  # a refresh: counted once
        ("09:02", "engaged", "s1", "c1"),
        ("09:03", "email_input", "s1", "c1"),
        ("09:04", "meeting_booked", "s1", "c1"),
        ("09:05", "meeting_booked", "s1", "c1"),  # meetings repeat
        ("09:00", "triggered", "s2", "c1"),
        ("09:00", "engaged", "s3", "c2"),  # engaged without a trigger (lost): Adobe still counts it
    ]
    m = ca.adobe_metrics(ev(rows))
    row = m.iloc[0]
    assert (row["triggered"], row["engaged"], row["people_acquired"], row["meetings_booked"]) == (2, 2, 1, 2)
    assert row["engagement_rate"] == 1.0 and row["conversion_rate"] == 0.5
    by = ca.adobe_metrics(ev(rows), by="conversation_id")
    assert by.set_index("group").loc["c2", "engaged"] == 1
    with pytest.raises(ca.InvalidParameterError):
        ca.adobe_metrics(ev(rows), by="agent_id")


def test_over_time_weeks_start_on_monday():
    # Wednesday 2026-11-04 and Sunday 2026-11-08 are in the week of Monday 2026-11-02; Monday the 9th is not
    rows = [
        {
            "event_time_utc": f"2026-11-{d:02d} 12:00",
            "event_type": "triggered",
            "session_id": f"s{d}",
            "conversation_id": "c",
        }
        for d in (4, 8, 9)
    ]
    f = ca.funnel(ca.make_events(rows), steps=["triggered", "engaged"])
    o = f.over_time("week")
    step1 = o[o["step"] == 1]
    assert step1["period"].tolist() == [pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-09")]
    assert step1["entered"].tolist() == [2, 1]
