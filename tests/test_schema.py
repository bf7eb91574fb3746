import numpy as np
import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.schema import (
    COLUMNS,
    EVENT_ALIASES,
    EVENT_TYPES,
    STRING,
    EventType,
    empty_events,
    make_events,
    normalize_conversation_type,
    normalize_ui_type,
    validate_events,
)


def test_event_types_are_the_eleven_documented_constants_in_order():
    assert EVENT_TYPES[0] == "CONVERSATION_TRIGGERED"
    assert EVENT_TYPES[-1] == "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES)) == 11
    assert [m.value for m in EventType] == list(EVENT_TYPES)
    assert set(EVENT_ALIASES.values()) == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("engaged", "CONVERSATION_ENGAGED"),
        ("email_input", "CONVERSATION_INPUT_EMAIL"),
        ("live_chat_timeout", "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"),
        ("CONVERSATION_CLOSED", "CONVERSATION_CLOSED"),
        ("conversation_closed", "CONVERSATION_CLOSED"),
        (" Triggered ", "CONVERSATION_TRIGGERED"),
        (EventType.CONVERSATION_MEETING_BOOKED, "CONVERSATION_MEETING_BOOKED"),
    ],
)
def test_event_type_parse_accepts_constants_and_aliases(given, expected):
    assert EventType.parse(given).value == expected


def test_event_type_alias_round_trip():
    for alias, constant in EVENT_ALIASES.items():
        assert EventType(constant).alias == alias


@pytest.mark.parametrize(
    ("typo", "suggestion"), [("engagd", "engaged"), ("CONVERSATION_ENGAGD", "CONVERSATION_ENGAGED")]
)
def test_event_type_typo_suggests_the_closest_name(typo, suggestion):
    with pytest.raises(ca.InvalidParameterError) as err:
        EventType.parse(typo)
    assert f"Did you mean {suggestion!r}?" in str(err.value)
    assert err.value.param == "event_type" and err.value.value == typo
    assert isinstance(err.value, ValueError) and isinstance(err.value, ca.ChatAnalyticsError)


def test_make_events_builds_a_valid_frame_with_string_ids():
    ev = make_events(
        [
            {
                "event_time_utc": "2026-11-02T09:00:00+01:00",
                "event_type": "triggered",
                "conversation_id": 4471902.0,
            },
            {"event_time_utc": "2026-11-02 08:00:05", "event_type": "engaged", "conversation_id": 4471902},
        ]
    )
    validate_events(ev)
    assert list(ev.columns) == list(COLUMNS)
    assert ev["conversation_id"].tolist() == ["4471902", "4471902"]
    # +01:00 is an hour ahead of UTC: 09:00+01:00 is 08:00 UTC
    assert ev["event_time_utc"].tolist() == [
        pd.Timestamp("2026-11-02 08:00:00", tz="UTC"),
        pd.Timestamp("2026-11-02 08:00:05", tz="UTC"),
    ]
    assert str(ev["event_time_utc"].dtype) == "datetime64[us, UTC]"
    assert all(ev[c].dtype == STRING for c, d in COLUMNS.items() if d is STRING)
    assert not any(ev[c].dtype == object for c in ev.columns)


def test_make_events_rejects_unknown_columns():
    with pytest.raises(ca.InvalidParameterError, match="unknown column"):
        make_events([{"event_time_utc": "2026-11-02", "event_type": "engaged", "sid": "s1"}])


def test_empty_events_is_valid():
    validate_events(empty_events())


def test_validate_events_collects_every_problem():
    ev = make_events([{"event_time_utc": "2026-11-02", "event_type": "engaged"}])
    bad = ev.drop(columns=["page_url"])
    bad["session_id"] = bad["session_id"].astype(object)
    bad["event_time_utc"] = pd.Series([pd.NaT], dtype="datetime64[us, UTC]")
    bad["event_count"] = pd.array([0], dtype="Int64")
    with pytest.raises(ca.SchemaError) as err:
        validate_events(bad)
    failures = err.value.failures
    assert set(zip(failures["column"], failures["check"], strict=True)) == {
        ("page_url", "missing"),
        ("session_id", "dtype"),
        ("event_time_utc", "not null"),
        ("event_count", ">= 1"),
    }
    assert "4 problem(s)" in str(err.value)


def test_validate_events_rejects_wrong_event_categories_and_non_frames():
    ev = make_events([{"event_time_utc": "2026-11-02", "event_type": "engaged"}])
    ev["event_type"] = ev["event_type"].cat.add_categories(["OTHER"])
    with pytest.raises(ca.SchemaError, match="event_type"):
        validate_events(ev)
    with pytest.raises(ca.SchemaError, match="DataFrame"):
        validate_events([1, 2])


def test_type_tokens_are_normalised_and_unknown_ones_kept():
    conv = pd.Series(
        ["Dialogue", "dialog", "Conversation Flow", "conversational-flow", "Survey ", None], dtype=STRING
    )
    assert normalize_conversation_type(conv).tolist()[:5] == [
        "dialogue",
        "dialogue",
        "conversational_flow",
        "conversational_flow",
        "Survey",
    ]
    assert np.isnan(normalize_conversation_type(conv).iloc[5])
    ui = pd.Series(["POPUP", "Chat Bot", "inline", "sidebar"], dtype=STRING)
    assert normalize_ui_type(ui).tolist() == ["popup", "chatbot", "inline", "sidebar"]


def test_public_api_does_not_import_plotly_or_ipywidgets():
    import subprocess
    import sys

    code = "import sys, chatanalytics; print('plotly' in sys.modules, 'ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
