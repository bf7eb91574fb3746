"""Plan coverage: a plan key that matches nothing in a file gives one note and one DataQualityWarning
naming the key and the closest names present, and ``plan_coverage()`` shows the field filled no event.

Per format, the fixture is read with a plan whose one key is misspelt; the right name, present in the
fixture, is the one the warning suggests. Each fixture's rows are worked out in its own test file; here
only the field's column matters: with the right key it is filled, with the misspelt one it is null.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import chatanalytics as ca

DATA = Path(__file__).resolve().parents[1] / "data"
SEGMENT = (
    "segment/segment-logs/sK7q2LdP0x/1793664000000/1793664000000.4b8e0f7e-2c1d-4e5f-9a8b-7c6d5e4f3a2b.gz"
)

#: format -> (fixture, read arguments, plan overrides with one misspelt key, section, field, misspelt
#: key, the name the warning suggests, the column the field fills).
CASES = {
    "ga4_bigquery": ("ga4_bigquery/events_20261103.json", {}, "ga4", "sid", "dc_sesion_id", "dc_session_id"),
    "datalayer": ("datalayer/capture.json", {}, "datalayer", "sid", "dc_sesion_id", "dc_session_id"),
    "datalayer nested": (
        "datalayer/nested_chat_payload.json",
        {},
        "datalayer",
        "sid",
        "chat.sd",
        "chat.sid",
    ),
    "segment": (SEGMENT, {}, "segment", "sid", "sesion_id", "session_id"),
    "aep_xdm": ("aep_xdm/part-00000-5d1c7e2a-c000.json", {}, "websdk", "sid", "sesionID", "sessionID"),
    "snowplow": ("snowplow/part-00000.tsv", {}, "snowplow", "sid", "sidd", "sid"),
    "ga4_explore_csv": (
        "ga4_reports/explore_dynamic_chat_20261101-20261102.csv",
        {"timezone": "America/New_York"},
        "ga4",
        "id",
        "dc_conversaton_id",
        "dc_conversation_id",
    ),
    "ga4_data_api": (
        "ga4_reports/runreport_page1.json",
        {},
        "ga4",
        "sid",
        "dc_sesion_id",
        "customEvent:dc_session_id",
    ),
    "ua_csv": (
        "ua_csv/dynamic_chat_hits_20230601-20230602.csv",
        {"timezone": "Europe/Amsterdam"},
        "universal_analytics",
        "visitor_id",
        "Clent ID",
        "Client ID",
    ),
}
COLUMNS = {"sid": "session_id", "id": "conversation_id", "visitor_id": "visitor_id"}
BASE_PLANS = {  # the site plans the site-shaped fixtures are read with
    "datalayer nested": "datalayer/nested_plan.toml",
    "ua_csv": "ua_csv/event_level_plan.toml",
}


def _overrides(case: str, section: str, field: str, key: str) -> dict:
    import tomllib

    base = tomllib.loads((DATA / BASE_PLANS[case]).read_text()) if case in BASE_PLANS else {}
    base.setdefault(section, {}).setdefault("fields", {})[field] = key
    return base


@pytest.mark.parametrize("case", list(CASES))
def test_a_misspelt_key_gives_a_note_a_warning_and_a_did_you_mean(case):
    fixture, kw, section, field, wrong, right = CASES[case]
    column = COLUMNS[field]
    right_plan = ca.TrackingPlan.from_dict(_overrides(case, section, field, right))
    good = ca.read_events(DATA / fixture, plan=right_plan, warn=False, **kw)
    assert good[column].notna().any()  # the right key fills the column
    plan = ca.TrackingPlan.from_dict(_overrides(case, section, field, wrong))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = ca.read_events(DATA / fixture, plan=plan, **kw)
    mine = [
        w for w in caught if issubclass(w.category, ca.DataQualityWarning) and repr(wrong) in str(w.message)
    ]
    assert len(mine) == 1
    message = str(mine[0].message)
    assert f"field {field!r}" in message
    assert f"Did you mean {right!r}" in message
    report = ca.load_report(events)
    assert [n for n in report.notes if repr(wrong) in n] == [message]
    assert events[column].isna().all()
    coverage = report.plan_coverage().set_index("field")
    assert coverage.loc[field, "keys"] == wrong
    assert coverage.loc[field, "filled"] == 0
    assert coverage.loc[field, "events"] == len(events)


def test_plan_coverage_counts_the_events_each_field_filled():
    """nested_chat_payload.json: 4 events (see test_site_patterns); sid and id fill all 4, name 2
    (positions 2 and 3), type and uiType 1 (position 2), agentID and agentName 1 (position 4),
    event_id 3 (position 6 has none), meetingInfo none; the time fills every event.
    """
    plan = ca.TrackingPlan.from_file(DATA / "datalayer" / "nested_plan.toml")
    events = ca.read_events(DATA / "datalayer" / "nested_chat_payload.json", plan=plan, warn=False)
    coverage = ca.load_report(events).plan_coverage().set_index("field")
    assert coverage["filled"].to_dict() == {
        "ts": 4,
        "event_id": 3,
        "name": 2,
        "id": 4,
        "type": 1,
        "uiType": 1,
        "sid": 4,
        "agentName": 1,
        "agentID": 1,
        "meetingInfo": 0,
    }
    assert coverage.loc["sid", "column"] == "session_id"
    assert coverage.loc["sid", "keys"] == "chat.sid"
    assert (coverage["events"] == 4).all()
    assert coverage.loc["name", "share"] == pytest.approx(0.5)
    # a key the site's plan names and that some record holds raises nothing, though it fills nothing here
    with warnings.catch_warnings():
        warnings.simplefilter("error", ca.DataQualityWarning)
        ca.read_events(DATA / "datalayer" / "nested_chat_payload.json", plan=plan, warn=False)


def test_no_warning_when_warn_is_false_but_the_note_stays():
    plan = ca.TrackingPlan.from_dict({"datalayer": {"fields": {"sid": "dc_sesion_id"}}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events = ca.read_events(DATA / "datalayer" / "capture.json", plan=plan, warn=False)
    assert any("'dc_sesion_id'" in n for n in ca.load_report(events).notes)


def test_adobe_feed_variable_that_never_holds_a_value():
    """The feed has a column for every variable, so an eVar the plan names that holds no value in any
    chat hit (eVar16 instead of eVar6) matched nothing: a note and a warning naming it, and no session ids.
    """
    path = DATA / "adobe_feed" / "folder" / "hit_data.tsv"
    assert ca.read_events(path, warn=False)["session_id"].notna().any()
    plan = ca.TrackingPlan.from_dict({"appmeasurement": {"fields": {"sid": "eVar16"}}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = ca.read_events(path, plan=plan)
    mine = [str(w.message) for w in caught if "'eVar16'" in str(w.message)]
    assert len(mine) == 1 and "field 'sid'" in mine[0]
    assert events["session_id"].isna().all()
    assert ca.load_report(events).plan_coverage().set_index("field").loc["sid", "filled"] == 0


def test_default_plan_fields_that_filled_nothing_are_named_in_one_note():
    """The Explore fixture read with the default plan: its only custom dimension is dc_conversation_id,
    which fills 3 of the 4 events (line 14 holds (not set)); the seven other payload fields of the
    ga4 section have no column, so one note names them (no warning: the site's plan did not name them).
    """
    path = DATA / "ga4_reports" / "explore_dynamic_chat_20261101-20261102.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events = ca.read_events(path, timezone="America/New_York", warn=False)
    report = ca.load_report(events)
    assert [n for n in report.notes if n.startswith("plan fields")] == [
        "plan fields that filled no event: name (dc_conversation_name), type (dc_conversation_type), "
        "uiType (dc_ui_type), sid (dc_session_id), agentName (dc_agent_name), agentID (dc_agent_id), "
        "meetingInfo (dc_meeting_info) (see plan_coverage())"
    ]
    coverage = report.plan_coverage().set_index("field")
    assert coverage.loc["id", ["keys", "events", "filled"]].tolist() == ["dc_conversation_id", 4, 3]
    assert coverage.loc["id", "share"] == pytest.approx(0.75)
    assert "ts" not in coverage.index  # a report's time is its date dimension, not a plan key
