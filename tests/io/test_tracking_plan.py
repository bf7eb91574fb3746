"""TrackingPlan: the default, overrides in code, TOML and JSON, lookups and helpful errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import chatanalytics as ca
from chatanalytics.capture import default_plan

ROOT = Path(__file__).resolve().parents[2]


def test_default_is_the_capture_plan():
    plan = ca.TrackingPlan.default()
    assert plan.to_dict() == default_plan()
    assert plan == ca.TrackingPlan.from_dict(None) == ca.TrackingPlan.from_dict({})
    assert plan.events("ga4")["dc_live_chat_timeout"] == "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"
    assert len(plan.events("ga4")) == 11
    cols = plan.columns("ga4")
    assert cols["conversation_id"] == "dc_conversation_id" and cols["session_id"] == "dc_session_id"
    assert "page_url" not in cols  # gtag sends page_location itself
    assert plan.columns("datalayer")["page_url"] == "dc_page_url"
    assert plan.action_key("ga4") == "dc_event"
    assert plan.events("segment")["Dynamic Chat Conversation Engaged"] == "CONVERSATION_ENGAGED"


def test_overrides_in_code_accept_canonical_column_names():
    plan = ca.TrackingPlan.from_dict(
        {"ga4": {"events": {"CONVERSATION_ENGAGED": "chat_engaged"}, "fields": {"agent_id": "chat_agent"}}}
    )
    assert plan.events("ga4")["chat_engaged"] == "CONVERSATION_ENGAGED"
    assert "dc_conversation_engaged" not in plan.events("ga4")
    assert plan.columns("ga4")["agent_id"] == "chat_agent"
    assert plan.to_dict()["ga4"]["fields"]["agentID"] == "chat_agent"


def test_one_name_for_every_event_leaves_the_action_parameter_to_decide():
    plan = ca.TrackingPlan.from_file(ROOT / "tests/data/ga4_bigquery/action-param/tracking-plan.toml")
    assert plan.events("ga4") == {}
    assert plan.action_key("ga4") == "chat_action"
    assert plan.action_values("ga4")["CONVERSATION_CLOSED"] == "CONVERSATION_CLOSED"
    assert "DYNAMIC_CHAT" not in plan.action_values("ga4")
    assert "event_id" not in plan.columns("ga4")  # "" switches a name off in TOML


def test_example_plan_file_loads():
    plan = ca.TrackingPlan.from_file(ROOT / "data/tracking-plan.example.toml")
    assert plan != ca.TrackingPlan.default()
    assert plan.events("ga4")["chat_engaged"] == "CONVERSATION_ENGAGED"


def test_json_file(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"segment": {"fields": {"conversation_id": "chatId"}}}))
    assert ca.TrackingPlan.from_file(path).columns("segment")["conversation_id"] == "chatId"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ga4": {"events": {"CONVERSATION_ENGAGD": "x"}}}, "Did you mean 'CONVERSATION_ENGAGED'?"),
        ({"ga4": {"fields": {"conversation_idd": "x"}}}, "Did you mean 'conversation_id'?"),
        ({"ga5": {}}, "Did you mean 'ga4'?"),
        ({"ga4": {"events": {"CONVERSATION_ENGAGED": "x" * 41}}}, "at most 40 characters"),
        ({"ga4": {"fields": {"sid": "ga_sid"}}}, "reserved prefixes"),
    ],
)
def test_errors_are_helpful(overrides, message):
    with pytest.raises(ca.InvalidParameterError, match=r"Did you mean|characters|reserved") as err:
        ca.TrackingPlan.from_dict(overrides)
    assert message in str(err.value)


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "plan.toml"
    bad.write_text("[ga4.events\nCONVERSATION_ENGAGED = 1")
    with pytest.raises(ca.LoaderError, match=r"plan\.toml is not valid TOML") as err:
        ca.TrackingPlan.from_file(bad)
    assert err.value.path == str(bad)
    with pytest.raises(ca.LoaderError, match=r"a \.toml or \.json file"):
        ca.TrackingPlan.from_file(tmp_path / "plan.yaml")
    with pytest.raises(ca.LoaderError, match="cannot read"):
        ca.TrackingPlan.from_file(tmp_path / "missing.toml")
    with pytest.raises(ca.InvalidParameterError, match="destination"):
        ca.TrackingPlan.default().events("endpoint")


def test_read_events_rejects_a_plan_of_the_wrong_type():
    with pytest.raises(ca.InvalidParameterError, match="TrackingPlan"):
        ca.read_events(ROOT / "tests/data/datalayer/capture.json", plan={"ga4": {}})
