"""A breakdown by a column the first step does not carry: the funnel warns, names where the column is
set, and offers the attribution that fits (``attribution="first_value"``).

Four conversation sessions of one conversation (times in minutes after 09:00 UTC, 2026-11-02):

====  ==========================================================  ==========================
unit  events                                                      agent_name set
====  ==========================================================  ==========================
s1    triggered 0 (chatbot), engaged 1, live chat requested 2     Ada, at minute 2
s2    triggered 0 (chatbot), engaged 1, live chat requested 3     Bo, at minute 3
s3    triggered 0 (popup)                                         never
s4    triggered 0 (popup), live chat requested 45                 Cy, at minute 45 (after 30)
====  ==========================================================  ==========================

Value at the first step: all four are ``(none)`` (4 of 4, 100%). First value set within the 30-minute
window: Ada 1, Bo 1, ``(none)`` 2 (s3 never, s4 too late); with a 1-hour window s4 is Cy's.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.errors import DataQualityWarning, InvalidParameterError

STEPS = ["triggered", "engaged", "completed"]


def _events() -> pd.DataFrame:
    t0 = pd.Timestamp("2026-11-02 09:00:00")

    def ev(sid, minutes, kind, **extra):
        return {
            "event_time_utc": str(t0 + pd.Timedelta(minutes=minutes)),
            "event_type": kind,
            "session_id": sid,
            "conversation_id": "7",
            **extra,
        }

    return ca.make_events(
        [
            ev("s1", 0, "triggered", ui_type="chatbot"),
            ev("s1", 1, "engaged"),
            ev("s1", 2, "live_chat_requested", agent_id="a1", agent_name="Ada"),
            ev("s2", 0, "triggered", ui_type="chatbot"),
            ev("s2", 1, "engaged"),
            ev("s2", 3, "live_chat_requested", agent_id="a2", agent_name="Bo"),
            ev("s3", 0, "triggered", ui_type="popup"),
            ev("s4", 0, "triggered", ui_type="popup"),
            ev("s4", 45, "live_chat_requested", agent_id="a3", agent_name="Cy"),
        ]
    )


def _entered(result) -> dict[str, int]:
    t = result.frame()
    return dict(zip(t.loc[t["step"] == 1, "group"], t.loc[t["step"] == 1, "entered"], strict=True))


def test_a_column_empty_at_the_first_step_warns_and_says_where_it_is_set():
    with pytest.warns(DataQualityWarning) as caught:
        f = ca.funnel(_events(), steps=STEPS, by="agent_name")
    (message,) = [str(w.message) for w in caught]
    assert "by='agent_name' is empty at the first step (triggered) for 4 of 4 units (100%)" in message
    assert "agent_name is set on live_chat_requested events" in message
    assert "no step of this funnel sets it" in message
    assert "attribution='first_value'" in message
    assert _entered(f) == {"(none)": 4}


def test_the_warning_names_the_step_that_sets_the_column():
    named = r"the first step that sets it is step 3 \(live_chat_requested\)"
    with pytest.warns(DataQualityWarning, match=named):
        ca.funnel(_events(), steps=["triggered", "engaged", "live_chat_requested"], by="agent_name")


def test_first_value_takes_the_first_value_set_within_the_window():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the attribution fits
        f = ca.funnel(_events(), steps=STEPS, by="agent_name", attribution="first_value")
    assert _entered(f) == {"(none)": 2, "Ada": 1, "Bo": 1}
    assert f.params["attribution"] == "first_value"
    assert f.widget_arguments()["attribution"] == "first_value"
    # Ada's and Bo's sessions engaged; s3 and s4 did not
    t = f.frame()
    engaged = dict(zip(t.loc[t["step"] == 2, "group"], t.loc[t["step"] == 2, "converted"], strict=True))
    assert engaged == {"(none)": 0, "Ada": 1, "Bo": 1}
    longer = ca.funnel(_events(), steps=STEPS, by="agent_name", attribution="first_value", window="1h")
    assert _entered(longer) == {"(none)": 1, "Ada": 1, "Bo": 1, "Cy": 1}


def test_a_column_set_at_the_first_step_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = ca.funnel(_events(), steps=STEPS, by="ui_type")
    assert _entered(f) == {"chatbot": 2, "popup": 2}


def test_an_unknown_attribution_is_refused():
    with pytest.raises(InvalidParameterError, match="attribution"):
        ca.funnel(_events(), steps=STEPS, by="agent_name", attribution="last")
