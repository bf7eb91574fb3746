"""Analyses that follow sessions refuse report rows (aggregated counts) with a clear error."""

import pytest

import chatanalytics as ca


def _events(**last):
    chat = {"session_id": "s1", "conversation_id": "c1"}
    rows = [
        {"event_time_utc": "2026-11-02 14:00", "event_type": "triggered", **chat},
        {"event_time_utc": "2026-11-02 14:01", "event_type": "engaged", **chat},
        {"event_time_utc": "2026-11-02 14:02", "event_type": "live_chat_requested", **chat},
        {"event_time_utc": "2026-11-02 14:03", "event_type": "live_chat_initiated", "agent_id": "a1", **chat},
        {"event_time_utc": "2026-11-02 00:00", "event_type": "triggered", **last},
    ]
    return ca.make_events(rows)


ANALYSES = [
    lambda e: ca.funnel(e, steps=["triggered", "engaged"]),
    ca.agent_performance,
    ca.timeouts,
    ca.adobe_metrics,
]


@pytest.mark.parametrize("analysis", ANALYSES, ids=["funnel", "agents", "timeouts", "adobe"])
def test_a_day_count_row_is_refused(analysis):
    events = _events(time_granularity="day", event_count=57)
    with pytest.raises(ca.AggregatedDataError, match=r"1 of 5 rows are aggregated counts per day") as err:
        analysis(events)
    assert "ca.event_counts" in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("analysis", ANALYSES, ids=["funnel", "agents", "timeouts", "adobe"])
def test_a_count_above_one_is_refused_even_at_exact_time(analysis):
    with pytest.raises(ca.AggregatedDataError, match="rows with event_count above 1"):
        analysis(_events(session_id="s2", event_count=2))


@pytest.mark.parametrize("analysis", ANALYSES, ids=["funnel", "agents", "timeouts", "adobe"])
def test_event_level_rows_with_second_granularity_are_accepted(analysis):
    analysis(_events(session_id="s2", time_granularity="second"))


def test_event_counts_sum_aggregated_rows():
    t = ca.event_counts(_events(time_granularity="day", event_count=57))
    counts = dict(zip(t["event_type"], t["events"], strict=True))
    assert counts["CONVERSATION_TRIGGERED"] == 58
    assert counts["CONVERSATION_ENGAGED"] == 1
