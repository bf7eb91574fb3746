"""The capture snippet in headless Chromium, against a fake Dynamic Chat and stub destinations.

The page (``page.html``) defines stub ``dataLayer``, ``gtag``, ``alloy``, ``s`` and ``analytics`` objects
that record what they receive; ``fake_dynamic_chat.js`` stands in for ``window.AdobeDX`` and plays a
scripted visit of three sessions, firing all 11 events (15 callbacks). Everything is served by
Playwright's router from ``https://shop.example.com``, which also records the beacons posted to
``/collect``; no request leaves the machine.

The visit, counted by hand from ``fake_dynamic_chat.js``:

- session A (Pricing page dialogue): triggered, engaged, email input (the payload carries an ``email``
  key), live chat requested, initiated, ended (agent Dana), meeting booked (``meetingInfo`` with the
  visitor's email and phone), completed;
- session B (Demo request flow): triggered, engaged, phone input (a ``phone`` key), live chat requested
  and request timeout (agent Sam, whose display name holds an email address), closed;
- session C (Pricing page dialogue): triggered only.

So triggered 3, engaged 2, live chat requested 2, every other event 1; the funnel triggered -> engaged
-> completed counts 3, 2, 1 conversations. The page URL carries ``email=jane.doe%40example.com``.

Runs in CI (``.ci/run`` installs Chromium) and is never skipped there; without Chromium elsewhere it
skips and says why.
"""

from __future__ import annotations

import collections
import json
import re
import time
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import pytest

import chatanalytics as ca
from chatanalytics.capture import DESTINATIONS, capture_snippet, default_plan, tracking_plan
from tests.contact_corpus import CONTACTS, KEEP, leaks

HERE = Path(__file__).resolve().parent
ORIGIN = "https://shop.example.com"
PAGE_URL = f"{ORIGIN}/pricing?utm_source=newsletter&email=jane.doe%40example.com"
SCRUBBED_URL = f"{ORIGIN}/pricing?utm_source=newsletter&email=[redacted]"
ALL = list(DESTINATIONS)
PLAN = default_plan()

EXPECTED = {
    "CONVERSATION_TRIGGERED": 3,
    "CONVERSATION_ENGAGED": 2,
    "CONVERSATION_COMPLETED": 1,
    "CONVERSATION_CLOSED": 1,
    "CONVERSATION_INPUT_PHONE": 1,
    "CONVERSATION_INPUT_EMAIL": 1,
    "CONVERSATION_MEETING_BOOKED": 1,
    "CONVERSATION_LIVE_CHAT_REQUESTED": 2,
    "CONVERSATION_LIVE_CHAT_INITIATED": 1,
    "CONVERSATION_LIVE_CHAT_ENDED": 1,
    "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT": 1,
}
TOTAL = sum(EXPECTED.values())  # 15
# values redacted: the page URL of each of the 15 events, Sam's name in 2 events, and in meetingInfo the
# attendee's email and phone (contact-like keys) and the phone number in the notes
REDACTED = TOTAL + 2 + 3
PAYLOAD_KEYS = {"name", "id", "type", "uiType", "sid", "agentName", "agentID", "meetingInfo"}


@pytest.fixture(scope="module")
def browser(playwright_browser):
    return playwright_browser


class Visit:
    """One page of the fake shop: its beacons, its page errors and what its stubs received."""

    def __init__(self, browser, *, snippet_first: str | None = None) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.beacons: list[str] = []
        self.page_errors: list[str] = []
        self.page.on("pageerror", lambda err: self.page_errors.append(str(err)))
        self.context.route("**/*", self._serve)
        if snippet_first:  # runs before every script of the page, as a snippet at the top of <head>
            self.page.add_init_script(snippet_first)
        self.page.goto(PAGE_URL)

    def _serve(self, route, request) -> None:
        url = urlsplit(request.url)
        if f"{url.scheme}://{url.netloc}" != ORIGIN:
            route.abort()
        elif url.path == "/collect":
            self.beacons.append(request.post_data)
            route.fulfill(status=204, body="")
        elif url.path == "/fake-dynamic-chat.js":
            route.fulfill(content_type="text/javascript", body=(HERE / "fake_dynamic_chat.js").read_text())
        elif url.path == "/pricing":
            route.fulfill(content_type="text/html", body=(HERE / "page.html").read_text())
        else:
            route.fulfill(status=404, body="")

    def add_snippet(self, destinations=ALL, **kwargs) -> None:
        if "endpoint" in destinations:
            kwargs.setdefault("endpoint", "/collect")
        self.page.add_script_tag(content=capture_snippet(destinations, **kwargs))

    def js(self, expression: str):
        return self.page.evaluate(expression)

    def play(self, expected_beacons: int = 0) -> None:
        """Fire the scripted visit and wait until it has run and the beacons have arrived."""
        assert self.js("fakeDynamicChat.play()") == TOTAL
        self.page.wait_for_function("fakeDynamicChat.done")
        deadline = time.monotonic() + 10
        while len(self.beacons) < expected_beacons and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)
        self.page.wait_for_timeout(50)  # let late calls (a promise's rejection, a stray beacon) land

    def state(self) -> dict:
        return self.js("JSON.parse(JSON.stringify(window.__chatanalyticsCapture || null))")

    def received(self) -> dict:
        out = self.js("JSON.parse(JSON.stringify(window.received))")
        out["datalayer"] = self.js("JSON.parse(JSON.stringify(window.dataLayer || []))")
        out["endpoint"] = [json.loads(body) for body in self.beacons]
        return out

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser):
    opened: list[Visit] = []

    def _open(**kwargs) -> Visit:
        v = Visit(browser, **kwargs)
        opened.append(v)
        return v

    yield _open
    for v in opened:
        v.close()


@pytest.fixture(scope="module")
def full(browser):
    """The whole visit with all six destinations; the snippet loads first, Dynamic Chat after it."""
    v = Visit(browser)
    try:
        v.add_snippet(ALL)
        v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
        v.play(expected_beacons=TOTAL)
        yield {
            "received": v.received(),
            "state": v.state(),
            "beacons": list(v.beacons),
            "page_errors": list(v.page_errors),
            "listeners": v.js("fakeDynamicChat.listenerCount()"),
            "page_s_evar1": v.js("window.s.eVar1"),
            "stored_visitor": v.js("localStorage.getItem('chatanalytics_vid')"),
        }
    finally:
        v.close()


def by_constant(names: list[str], table: dict[str, str | None]) -> dict[str, int]:
    """Count destination event names, translated back to the constants through the plan's table."""
    back = {name: constant for constant, name in table.items() if name}
    assert set(names) <= set(back), set(names) - set(back)
    return dict(collections.Counter(back[n] for n in names))


# ---- the whole visit, destination by destination ----


def test_every_destination_receives_every_event_once(full):
    state = full["state"]
    assert full["page_errors"] == []
    assert full["listeners"] == 11
    assert state["events"] == list(ca.EVENT_TYPES)
    assert state["via"] == "AdobeDX (ready event)"
    assert state["sent"] == {d: TOTAL for d in ALL}
    assert state["skipped"] == {d: 0 for d in ALL}
    assert state["errors"] == {"snippet": 0} | {d: 0 for d in ALL}
    assert state["redacted"] == REDACTED
    assert state["truncated"] == 2  # meetingInfo: GA4 (100 characters) and eVar9 (255 bytes)
    got = full["received"]
    assert {d: len(got[d]) for d in ALL} == {d: TOTAL for d in ALL}


def test_one_event_id_per_callback_across_destinations(full):
    got = full["received"]
    ids = {
        "datalayer": [m["dc_event_id"] for m in got["datalayer"]],
        "ga4": [params["dc_event_id"] for _, _, params in got["ga4"]],
        "websdk": [options["xdm"]["_id"] for _, options in got["websdk"]],
        "segment": [props["event_id"] for _, props in got["segment"]],
        "endpoint": [r["event_id"] for r in got["endpoint"]],
    }
    assert len(set(ids["datalayer"])) == TOTAL
    for name, seen in ids.items():
        assert seen == ids["datalayer"], name
    # every destination also received the events in the order they fired
    order = [m["dc_event"] for m in got["datalayer"]]
    assert [r["event"] for r in got["endpoint"]] == order
    assert [o["eVar1"] for *_, o in got["appmeasurement"]] == order


def test_datalayer(full):
    plan = PLAN["datalayer"]
    pushes = full["received"]["datalayer"]
    assert by_constant([m["event"] for m in pushes], plan["events"]) == EXPECTED
    keys = {"event"} | {k for k in plan["fields"].values() if k}
    for m in pushes:
        assert set(m) == keys  # every key, null when absent: GTM's merged model keeps nothing stale
        assert next(iter(m)) == "event"
        assert m["dc_page_url"] == SCRUBBED_URL
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", m["dc_ts"])
    first = pushes[0]
    assert first["event"] == "dc_conversation_triggered"
    assert first["dc_event"] == "CONVERSATION_TRIGGERED"
    assert first["dc_conversation_id"] == "4471902"  # a numeric id is sent as text
    assert first["dc_agent_id"] is None and first["dc_meeting_info"] is None
    meeting = next(m for m in pushes if m["event"] == "dc_meeting_booked")
    info = json.loads(meeting["dc_meeting_info"])  # JSON text, whole: the dataLayer has no length limit
    assert info["attendee"] == {"email": "[redacted]", "phone": "[redacted]"}
    assert info["notes"].startswith("Call me back at [redacted] before the meeting")


def test_ga4_names_parameters_and_limits(full):
    plan = PLAN["ga4"]
    calls = full["received"]["ga4"]
    assert all(c[0] == "event" and len(c) == 3 for c in calls)
    assert by_constant([c[1] for c in calls], plan["events"]) == EXPECTED
    keys = {k for k in plan["fields"].values() if k}
    for _, name, params in calls:
        assert len(name) <= 40
        assert len(params) <= 25
        assert set(params) <= keys
        assert all(len(k) <= 40 for k in params)
        assert all(isinstance(v, str) and len(v) <= 100 for v in params.values())
        assert "dc_page_url" not in params  # gtag sends page_location itself
    _, _, triggered = calls[0]
    assert triggered["dc_conversation_id"] == "4471902"
    assert triggered["dc_session_id"] == "9fd34fb24d7398ce"
    assert "dc_agent_id" not in triggered  # absent values are not sent
    meeting = next(params for _, name, params in calls if name == "dc_meeting_booked")
    info = meeting["dc_meeting_info"]
    assert len(info) == 100 and info.endswith("…")
    assert info.startswith('{"meetingId":"m-5521","start":"2026-10-05T14:00:00Z"')
    assert meeting["dc_agent_name"] == "Dana Whitfield"


def test_websdk(full):
    plan = PLAN["websdk"]
    calls = full["received"]["websdk"]
    assert all(command == "sendEvent" for command, _ in calls)
    assert by_constant([o["xdm"]["eventType"] for _, o in calls], plan["events"]) == EXPECTED
    keys = {k for k in plan["fields"].values() if k}
    for _, options in calls:
        xdm, data = options["xdm"], options["data"]["dynamicChat"]
        constant = data["eventName"]
        assert xdm["eventType"] == plan["events"][constant]
        assert xdm["timestamp"] == data["timestamp"]
        assert xdm["_id"] == data["eventID"]
        assert xdm["web"]["webInteraction"] == {
            "name": plan["link_names"][constant],
            "type": "other",
            "URL": SCRUBBED_URL,
            "linkClicks": {"value": 1},
        }
        assert set(data) <= keys
    first = calls[0][1]["data"]["dynamicChat"]
    assert first["conversationID"] == "4471902" and first["uiType"] == "popup"


def test_appmeasurement(full):
    plan = PLAN["appmeasurement"]
    calls = full["received"]["appmeasurement"]
    assert by_constant([o["events"] for *_, o in calls], plan["events"]) == EXPECTED
    for link, link_type, name, overrides in calls:
        constant = overrides["eVar1"]
        assert link is True and link_type == "o"
        assert name == plan["link_names"][constant]
        assert overrides["events"] == overrides["linkTrackEvents"] == plan["events"][constant]
        variables = {k for k in overrides if k.startswith(("eVar", "prop"))}
        assert set(overrides["linkTrackVars"].split(",")) == variables | {"events"}
        assert variables <= {v for v in plan["fields"].values() if v}
        assert all(len(overrides[v].encode("utf-8")) <= 255 for v in variables)
    meeting = next(o for *_, o in calls if o["eVar1"] == "CONVERSATION_MEETING_BOOKED")
    assert len(meeting["eVar9"].encode("utf-8")) <= 255 and meeting["eVar9"].endswith("…")
    assert len(meeting["eVar9"].encode("utf-8")) > 250
    assert full["page_s_evar1"] == "set by the page"  # overrides leave the page's own variables alone


def test_segment(full):
    plan = PLAN["segment"]
    calls = full["received"]["segment"]
    assert by_constant([name for name, _ in calls], plan["events"]) == EXPECTED
    keys = {k for k in plan["fields"].values() if k}
    for name, props in calls:
        assert name == plan["events"][props["event_type"]]
        assert set(props) <= keys
        assert props["page_url"] == SCRUBBED_URL
    assert calls[0][0] == "Dynamic Chat Conversation Triggered"
    assert calls[0][1]["conversation_id"] == "4471902"


def test_endpoint_writes_the_capture_format(full):
    bodies = full["beacons"]
    assert len(bodies) == TOTAL
    visitor = full["stored_visitor"]
    assert re.fullmatch(r"v-[0-9a-f]{16}", visitor)
    for body in bodies:
        assert body.endswith("\n") and body.count("\n") == 1
        record = json.loads(body)
        assert set(record) == {"ts", "event", "payload", "page_url", "visitor_id", "event_id"}
        assert set(record["payload"]) <= PAYLOAD_KEYS
        assert record["visitor_id"] == visitor
        assert record["page_url"] == SCRUBBED_URL
    counts = collections.Counter(json.loads(b)["event"] for b in bodies)
    assert dict(counts) == EXPECTED


def test_no_email_address_or_phone_number_leaves_the_page(full):
    sent = json.dumps(full["received"]) + "".join(full["beacons"])
    # (random ids and times may hold any digits: the phone numbers are looked for as written)
    for needle in ("@", "%40", "jane", "sam.ortiz", "+1 555", "555 0100", "(555)", "010-0123"):
        assert needle not in sent.lower(), needle
    assert "[redacted]" in sent
    # the payload keys Adobe does not document are never read: "email" and "phone" appear only as the
    # redacted attendee keys of meetingInfo (its JSON text unescaped here)
    flat = (json.dumps(full["received"], separators=(",", ":")) + "".join(full["beacons"])).replace("\\", "")
    for key in ("email", "phone"):
        assert flat.count(f'"{key}":') == flat.count(f'"{key}":"[redacted]"') > 0


# ---- closing the loop: what was captured, read back ----


def test_endpoint_records_read_back(full, tmp_path):
    path = tmp_path / "collect.jsonl"
    path.write_text("".join(full["beacons"]), encoding="utf-8")
    events = ca.read_events(path)
    counts = ca.load_report(events).counts()
    assert (counts["events"], counts["rejected"], counts["duplicates"], counts["ignored"]) == (TOTAL, 0, 0, 0)
    counts = events["event_type"].value_counts()
    assert {k: int(counts[k]) for k in ca.EVENT_TYPES} == EXPECTED
    assert events["visitor_id"].nunique() == 1
    assert set(events["session_id"]) == {"9fd34fb24d7398ce", "7c1e0b5a93d2f4e6", "0a6b2d9e4f1c8b37"}
    assert set(events["conversation_id"]) == {"4471902", "cf-88"}
    assert set(events["conversation_type"]) == {"dialogue", "conversational_flow"}
    assert events["event_id"].nunique() == TOTAL
    f = ca.funnel(events, steps=["triggered", "engaged", "completed"])
    assert f.frame()["converted"].tolist() == [3, 2, 1]
    live = events[events["agent_id"].notna()]
    assert sorted(live["agent_name"].unique()) == ["Dana Whitfield", "Sam Ortiz <[redacted]>"]


def datalayer_to_capture(pushes: list[dict], plan: dict) -> list[str]:
    """The dataLayer pushes as capture-format lines, translated back through the tracking plan."""
    names = {name: constant for constant, name in plan["events"].items() if name}
    keys = plan["fields"]
    lines = []
    for m in pushes:
        if m.get("event") not in names:
            continue
        value = {field: m.get(key) for field, key in keys.items() if key}
        payload = {k: value[k] for k in PAYLOAD_KEYS if value.get(k) is not None}
        record = {"ts": value["ts"], "event": names[m["event"]], "payload": payload}
        record |= {"page_url": value["page_url"], "event_id": value["event_id"]}
        lines.append(json.dumps(record))
    return lines


def test_datalayer_records_read_back_with_the_plan(full, tmp_path):
    path = tmp_path / "datalayer.jsonl"
    path.write_text("\n".join(datalayer_to_capture(full["received"]["datalayer"], PLAN["datalayer"])) + "\n")
    events = ca.read_events(path)
    counts = events["event_type"].value_counts()
    assert {k: int(counts[k]) for k in ca.EVENT_TYPES} == EXPECTED
    f = ca.funnel(events, steps=["triggered", "engaged", "completed"])
    assert f.frame()["converted"].tolist() == [3, 2, 1]
    beacon = tmp_path / "collect.jsonl"
    beacon.write_text("".join(full["beacons"]), encoding="utf-8")
    same = ["event_time_utc", "event_type", "session_id", "conversation_id", "agent_id", "meeting_info"]
    left = events.set_index("event_id")[same].sort_index()
    right = ca.read_events(beacon).set_index("event_id")[same].sort_index()
    assert left.equals(right)


# ---- robustness on a real page ----


def test_ready_fired_before_the_snippet_loaded(visit):
    v = visit()
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.add_snippet(["datalayer", "endpoint"])
    v.play(expected_beacons=TOTAL)
    state = v.state()
    assert state["via"] == "AdobeDX (already loaded)"
    assert state["sent"] == {"datalayer": TOTAL, "endpoint": TOTAL}
    assert len(v.beacons) == TOTAL and v.page_errors == []


def test_older_pages_bare_globals(visit):
    v = visit()
    v.add_snippet(["datalayer"])
    v.js("fakeDynamicChat.install('globals'); fakeDynamicChat.ready()")
    v.play()
    assert v.state()["via"] == "globals (ready event)"
    assert len(v.received()["datalayer"]) == TOTAL


def test_included_twice_registers_once(visit):
    v = visit()
    v.add_snippet(["datalayer", "ga4"])
    v.add_snippet(["datalayer", "segment"], minify=True)
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.js("fakeDynamicChat.ready()")  # a second ready event changes nothing either
    v.play()
    state = v.state()
    assert v.js("fakeDynamicChat.listenerCount()") == 11
    assert state["inclusions"] == 2
    assert state["sent"] == {"datalayer": TOTAL, "ga4": TOTAL}  # the first copy's configuration
    got = v.received()
    assert len(got["datalayer"]) == TOTAL and len(got["ga4"]) == TOTAL and got["segment"] == []


def test_a_throwing_destination_never_reaches_the_page(visit):
    v = visit()
    v.js(
        """
        window.gtag = function () { throw new Error('gtag broke'); };
        window.alloy = function () { return Promise.reject(new Error('edge unreachable')); };
        window.analytics = { track: function () { throw new TypeError('no track'); } };
        delete window.s;
        """
    )
    v.add_snippet(ALL)
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.play(expected_beacons=TOTAL)
    state = v.state()
    assert v.page_errors == []
    assert state["errors"]["ga4"] == TOTAL
    assert state["errors"]["segment"] == TOTAL
    assert state["errors"]["websdk"] == TOTAL  # the rejected promises, caught
    assert state["skipped"]["appmeasurement"] == TOTAL  # no s object on this page
    assert state["errors"]["snippet"] == 0
    assert state["sent"]["datalayer"] == TOTAL and state["sent"]["endpoint"] == TOTAL
    assert len(v.received()["datalayer"]) == TOTAL and len(v.beacons) == TOTAL
    assert state["lastError"]


def test_nothing_happens_without_dynamic_chat(visit):
    # the snippet runs first in <head>, waits for the ready event and the page's load event
    v = visit(snippet_first=capture_snippet(ALL, endpoint="/collect"))
    v.page.wait_for_timeout(100)
    state = v.state()
    assert state["subscribed"] is False and state["events"] == []
    assert all(n == 0 for n in state["sent"].values())
    assert all(n == 0 for n in state["errors"].values())
    assert v.received()["datalayer"] == [] and v.beacons == [] and v.page_errors == []
    assert v.js("localStorage.getItem('chatanalytics_vid')") is None


def test_snippet_at_the_top_of_head_then_dynamic_chat(visit):
    v = visit(snippet_first=capture_snippet(["datalayer", "ga4"]))
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.play()
    # the page's own `window.dataLayer = []` ran after the snippet: the pushes land in the page's array
    assert v.state()["sent"] == {"datalayer": TOTAL, "ga4": TOTAL}
    assert len(v.received()["datalayer"]) == TOTAL


def test_plan_overrides_reach_the_page(visit):
    v = visit()
    plan = {
        "ga4": {
            "events": {"CONVERSATION_ENGAGED": "chat_engaged", "CONVERSATION_TRIGGERED": None},
            "fields": {"meetingInfo": None, "sid": "chat_session"},
        }
    }
    v.add_snippet(["ga4"], plan=plan, minify=True)
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.play()
    calls = v.received()["ga4"]
    assert len(calls) == TOTAL - 3 and v.state()["sent"]["ga4"] == TOTAL - 3
    names = collections.Counter(name for _, name, _ in calls)
    assert names["chat_engaged"] == 2 and "dc_conversation_triggered" not in names
    assert all("dc_meeting_info" not in p and "dc_session_id" not in p for *_, p in calls)
    assert calls[0][2]["chat_session"] == "9fd34fb24d7398ce"


# the page's tool each destination calls, and the method of it the snippet calls ("" = the tool itself)
TOOLS = {
    "ga4": ("gtag", ""),
    "websdk": ("alloy", ""),
    "appmeasurement": ("s", "tl"),
    "segment": ("analytics", "track"),
}


@pytest.mark.parametrize("destination", sorted(TOOLS))
@pytest.mark.parametrize("page", ["absent", "no method", "renamed"])
def test_each_destination_calls_the_page_tool_by_its_plan_name_and_skips_when_it_is_missing(
    visit, destination, page
):
    v = visit()
    tool, method = TOOLS[destination]
    if page == "absent":
        v.js(f"delete window.{tool}")
    elif page == "no method":  # a global of that name without the method the snippet calls
        v.js(f"delete window.{tool}.{method}" if method else f"window.{tool} = {{}}")
    else:  # the page keeps the tool under another name, and the plan says so
        v.js(f"window.myTool = window.{tool}; window.{tool} = undefined")
    plan = {destination: {"object": "myTool"}} if page == "renamed" else None
    v.add_snippet([destination, "datalayer"], plan=plan)
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.play()
    state = v.state()
    assert v.page_errors == [] and state["errors"][destination] == 0
    assert state["sent"]["datalayer"] == TOTAL  # the other destination is untouched either way
    if page == "renamed":
        assert state["sent"][destination] == TOTAL and state["skipped"][destination] == 0
        assert len(v.received()[destination]) == TOTAL
    else:
        assert state["sent"][destination] == 0 and state["skipped"][destination] == TOTAL
        assert v.received()[destination] == []


def test_the_visitor_id_outlives_the_page(visit):
    v = visit()
    v.add_snippet(["endpoint"])
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.play(expected_beacons=TOTAL)
    v.page.reload()
    v.add_snippet(["endpoint"])
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.play(expected_beacons=2 * TOTAL)
    visitors = {json.loads(b)["visitor_id"] for b in v.beacons}
    assert len(v.beacons) == 2 * TOTAL and len(visitors) == 1


def test_the_packaged_file_reads_a_global_configuration(visit):
    code = (Path(ca.__file__).parent / "capture" / "snippet.js").read_text(encoding="utf-8")
    v = visit()
    v.page.add_script_tag(content=code)  # no configuration yet: does nothing, sets no guard
    assert v.state() is None
    v.page.evaluate(
        "plan => { window.chatanalyticsCaptureConfig = {destinations: ['datalayer'], plan: plan}; }",
        tracking_plan(),
    )
    v.page.add_script_tag(content=code)
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    v.play()
    assert v.state()["sent"] == {"datalayer": TOTAL}


# ---- the contact-detail corpus, the same cases as the loader's ----

TEXT_KEYS = ["name", "id", "type", "uiType", "sid", "agentName", "agentID"]


def corpus_url(text: str) -> str:
    """A page URL with the text in a path segment, in query values (form- and percent-encoded) and in
    the fragment."""
    enc = quote(text, safe="")
    return f"/contact/{enc}/x?utm_source=chat&q={quote_plus(text)}&p={enc}#/c/{enc}"


def fire_all(v: Visit, texts: list[str], meeting_as_object: bool = True) -> None:
    for i, text in enumerate(texts):
        payload = dict.fromkeys(TEXT_KEYS, text)
        note = {"note": f"see {text}", "list": [text], "attendee": {"who": text}}
        payload["meetingInfo"] = note if (meeting_as_object and i % 2) else json.dumps(note)
        v.page.evaluate(
            "([url, payload]) => { history.replaceState(null, '', url);"
            " fakeDynamicChat.fire('CONVERSATION_ENGAGED', payload); }",
            [corpus_url(text), payload],
        )


def leaves(value) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in leaves(v)]
    return [value] if isinstance(value, str) else []


def test_no_contact_variant_leaves_the_page_from_any_field(visit):
    v = visit()
    v.add_snippet(ALL)
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    fire_all(v, [c["text"] for c in CONTACTS])
    deadline = time.monotonic() + 10
    while len(v.beacons) < len(CONTACTS) and time.monotonic() < deadline:
        v.page.wait_for_timeout(20)
    assert v.page_errors == [] and v.state()["errors"] == {"snippet": 0} | {d: 0 for d in ALL}
    got = v.received()
    pushes = got["datalayer"]
    generated = {m["dc_ts"] for m in pushes} | {m["dc_event_id"] for m in pushes}
    generated |= {r["visitor_id"] for r in got["endpoint"]}
    for destination in ALL:
        messages = got[destination]
        assert len(messages) == len(CONTACTS), destination
        for message, case in zip(messages, CONTACTS, strict=True):
            sent = [leaf for leaf in leaves(message) if leaf not in generated]
            assert sent, destination
            for leaf in sent:
                assert not leaks(leaf, case), (destination, case["text"], leaf)
    # every field of every event was changed: the name, each id and the page URL
    for push, case in zip(pushes, CONTACTS, strict=True):
        assert "[redacted]" in push["dc_conversation_name"] and "[redacted]" in push["dc_agent_id"], case
        assert push["dc_page_url"].count("[redacted]") >= 4, push["dc_page_url"]


def test_look_alikes_go_through_the_snippet_unchanged(visit):
    v = visit()
    v.add_snippet(["datalayer"])
    v.js("fakeDynamicChat.install('adobedx'); fakeDynamicChat.ready()")
    fire_all(v, KEEP, meeting_as_object=False)
    pushes = v.received()["datalayer"]
    assert len(pushes) == len(KEEP)
    plan = PLAN["datalayer"]["fields"]
    for push, text in zip(pushes, KEEP, strict=True):
        for key in TEXT_KEYS:
            assert push[plan[key]] == text, (key, text)
        assert json.loads(push["dc_meeting_info"])["note"] == f"see {text}"
        assert "[redacted]" not in push["dc_page_url"], push["dc_page_url"]
    assert v.state()["redacted"] == 0
