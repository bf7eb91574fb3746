"""capture_snippet() and the tracking plan, without a browser (the browser tests are in test_snippet.py)."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

import chatanalytics as ca
from chatanalytics.capture import DESTINATIONS, FIELDS, capture_snippet, default_plan, tracking_plan
from chatanalytics.errors import InvalidParameterError

SECTIONS = ("datalayer", "ga4", "websdk", "appmeasurement", "segment")


def config_of(js: str) -> dict:
    """The configuration object written at the top of a snippet."""
    m = re.search(r"var chatanalyticsCaptureConfig = (.*?);\n", js, re.S)
    assert m, js[:300]
    return json.loads(m.group(1))


# ---- the default plan ----


def test_package_files_are_found():
    files = resources.files("chatanalytics.capture")
    assert files.joinpath("snippet.js").is_file()
    assert files.joinpath("default-plan.json").is_file()


def test_every_destination_names_all_11_events_and_every_field():
    plan = default_plan()
    for name in SECTIONS:
        assert list(plan[name]["events"]) == list(ca.EVENT_TYPES), name
        assert all(isinstance(v, str) and v for v in plan[name]["events"].values()), name
        assert tuple(plan[name]["fields"]) == FIELDS, name
        assert len(set(plan[name]["events"].values())) == 11, name
        keys = [k for k in plan[name]["fields"].values() if k]
        assert len(keys) == len(set(keys)), name
    for name in ("websdk", "appmeasurement"):
        assert list(plan[name]["link_names"]) == list(ca.EVENT_TYPES)


def test_default_ga4_names_fit_ga4_limits():
    ga4 = default_plan()["ga4"]
    names = list(ga4["events"].values()) + [k for k in ga4["fields"].values() if k]
    for name in names:
        assert len(name) <= 40 and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name), name
    assert sum(k is not None for k in ga4["fields"].values()) <= 25
    assert max(len(n) for n in ga4["events"].values()) == len("dc_conversation_completed")
    assert ga4["events"]["CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"] == "dc_live_chat_timeout"


def test_default_plan_names():
    plan = default_plan()
    assert plan["datalayer"]["events"] == plan["ga4"]["events"]
    assert plan["appmeasurement"]["events"] == {c: f"event{i}" for i, c in enumerate(ca.EVENT_TYPES, 1)}
    assert plan["segment"]["events"]["CONVERSATION_ENGAGED"] == "Dynamic Chat Conversation Engaged"
    assert plan["websdk"]["events"]["CONVERSATION_INPUT_EMAIL"] == "dynamicChat.emailInput"
    assert plan["websdk"]["link_names"] == plan["appmeasurement"]["link_names"] == plan["segment"]["events"]
    assert (
        plan["ga4"]["fields"]["page_url"] is None and plan["datalayer"]["fields"]["page_url"] == "dc_page_url"
    )
    assert default_plan() is not default_plan()  # a fresh copy each time


# ---- capture_snippet ----


def test_snippet_carries_the_chosen_destinations_only():
    js = capture_snippet(destinations=["ga4", "datalayer"])
    config = config_of(js)
    assert config["destinations"] == ["ga4", "datalayer"]
    assert "endpoint" not in config
    assert set(config["plan"]) == {"version", "redaction_marker", "truncation_marker", "ga4", "datalayer"}
    assert config["plan"]["ga4"] == default_plan()["ga4"]
    assert "adobedx.conversations.ready" in js and "window.__chatanalyticsCapture" not in js.split("\n")[0]


def test_single_destination_as_a_string_and_duplicates():
    assert config_of(capture_snippet("segment"))["destinations"] == ["segment"]
    assert config_of(capture_snippet(["ga4", "ga4", "segment"]))["destinations"] == ["ga4", "segment"]
    assert config_of(capture_snippet())["destinations"] == ["datalayer"]


def test_unknown_destination_suggests_the_closest():
    with pytest.raises(InvalidParameterError, match=r"destinations='datalayr'.*Did you mean 'datalayer'\?"):
        capture_snippet(["ga4", "datalayr"])
    with pytest.raises(InvalidParameterError, match="allowed: 'datalayer', 'ga4'"):
        capture_snippet(["gtm"])
    with pytest.raises(InvalidParameterError, match="at least one"):
        capture_snippet([])


def test_endpoint_is_required_with_the_endpoint_destination_only():
    with pytest.raises(InvalidParameterError, match=r"endpoint=None.*collector's URL"):
        capture_snippet(["endpoint"])
    with pytest.raises(InvalidParameterError, match="not among the destinations"):
        capture_snippet(["ga4"], endpoint="/collect")
    for bad in ("javascript:alert(1)", "collect", "https://x.example/a b", 42):
        with pytest.raises(InvalidParameterError, match="endpoint="):
            capture_snippet(["endpoint"], endpoint=bad)
    for good in ("/collect", "https://collect.example.com/dc?site=1", "http://localhost:8080/c"):
        assert config_of(capture_snippet(["endpoint"], endpoint=good))["endpoint"] == good


def test_plan_overrides_are_in_the_snippet():
    plan = {
        "ga4": {"events": {"CONVERSATION_ENGAGED": "chat_engaged", "CONVERSATION_CLOSED": None}},
        "appmeasurement": {"fields": {"sid": "prop5"}, "events": {"CONVERSATION_TRIGGERED": "event40"}},
        "truncation_marker": "...",
    }
    config = config_of(capture_snippet(["ga4", "appmeasurement"], plan=plan))
    ga4, s = config["plan"]["ga4"], config["plan"]["appmeasurement"]
    assert ga4["events"]["CONVERSATION_ENGAGED"] == "chat_engaged"
    assert ga4["events"]["CONVERSATION_CLOSED"] is None
    assert ga4["events"]["CONVERSATION_COMPLETED"] == "dc_conversation_completed"
    assert s["fields"]["sid"] == "prop5" and s["events"]["CONVERSATION_TRIGGERED"] == "event40"
    assert config["plan"]["truncation_marker"] == "..."
    assert tracking_plan(plan)["ga4"] == ga4
    assert default_plan()["ga4"]["events"]["CONVERSATION_ENGAGED"] == "dc_conversation_engaged"


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"ga4": {"evnts": {}}}, r"plan\['ga4'\]='evnts'.*Did you mean 'events'\?"),
        ({"ga4": {"events": {"CONVERSATION_ENGAGD": "x"}}}, r"Did you mean 'CONVERSATION_ENGAGED'\?"),
        ({"ga4": {"events": {"CONVERSATION_ENGAGED": "d" * 41}}}, "at most 40 characters"),
        ({"ga4": {"events": {"CONVERSATION_ENGAGED": "chat-engaged"}}}, "a letter then letters"),
        ({"ga4": {"events": {"CONVERSATION_ENGAGED": "google_chat"}}}, "reserved prefixes"),
        ({"ga4": {"fields": {"sid": "p" * 41}}}, "at most 40 characters"),
        ({"ga4": {"fields": {"sid": "dc_event"}}}, "already the key of 'event'"),
        ({"ga4": {"limits": {"params": 5}}}, "at most 5 parameters"),
        ({"ga4": {"events": {"CONVERSATION_ENGAGED": 7}}}, "a non-empty text"),
        ({"ga4": "off"}, "a dict is expected"),
        ({"datalayer": {"fields": {"sid": "event"}}}, "reserved"),
        ({"appmeasurement": {"fields": {"sid": "eVar300"}}}, "eVar1 to eVar250"),
        ({"appmeasurement": {"events": {"CONVERSATION_ENGAGED": "event1"}}}, "already the event of"),
        ({"appmeasurement": {"link_type": "x"}}, "link_type"),
        ({"websdk": {"data_path": "a..b"}}, "dotted path"),
        ({"segment": {"object": "window.analytics"}}, "JavaScript global name"),
        ({"endpoint": {"storage_key": ""}}, "non-empty"),
        ({"truncation_marker": ""}, "1 to 20 characters"),
        ({"tracking": {}}, r"plan='tracking'"),
        ("ga4", "a dict of overrides"),
    ],
)
def test_bad_plans_are_refused(plan, message):
    with pytest.raises(InvalidParameterError, match=message):
        capture_snippet(["ga4"], plan=plan)


def test_snippet_is_safe_inline_and_in_gtm():
    plan = {"segment": {"events": {"CONVERSATION_ENGAGED": "</script><b>"}}}
    js = capture_snippet(["segment"], plan=plan, script_tag=True)
    assert js.startswith("<script>\n") and js.endswith("</script>\n")
    assert js.count("</script>") == 1  # a plan value cannot close the tag
    assert config_of(js)["plan"]["segment"]["events"]["CONVERSATION_ENGAGED"] == "</script><b>"
    for minify in (False, True):
        assert "{{" not in capture_snippet(list(DESTINATIONS), endpoint="/c", minify=minify)  # GTM variables


def test_snippet_code_is_es5():
    """GTM's Custom HTML tags reject ES2015+ syntax (let, const, arrow functions, template literals)."""
    code = resources.files("chatanalytics.capture").joinpath("snippet.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", code, flags=re.S)  # comments may say anything
    for pattern in (r"=>", r"\bconst\s", r"\blet\s", "`", r"\bclass\s", r"\.\.\.[A-Za-z_]"):
        assert not re.search(pattern, code), pattern


def test_minify_keeps_the_code_and_the_configuration():
    full = capture_snippet(list(DESTINATIONS), endpoint="/collect")
    small = capture_snippet(list(DESTINATIONS), endpoint="/collect", minify=True)
    assert len(small) < 0.8 * len(full)
    assert config_of(small) == config_of(full)
    assert "\n  " not in small
    assert "fail(" in small and "sendBeacon" in small


@pytest.mark.parametrize("flag", ["minify", "script_tag"])
def test_flags_must_be_booleans(flag):
    with pytest.raises(InvalidParameterError, match=flag):
        capture_snippet(**{flag: "yes"})


def test_exported_from_the_package():
    assert ca.capture_snippet is capture_snippet
    assert "capture_snippet" in ca.__all__
