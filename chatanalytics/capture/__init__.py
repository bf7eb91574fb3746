"""Capture Dynamic Chat callback events in the browser and forward them to the analytics tools a site runs.

:func:`capture_snippet` returns a small, dependency-free JavaScript snippet to paste into a tag manager
(a GTM Custom HTML tag, an Adobe Tags custom-code action) or to serve as a ``.js`` file. The snippet:

- waits for Dynamic Chat: it subscribes at once when ``window.AdobeDX`` (or the ``addListener`` and
  ``Enum`` globals of older pages) already exists, and otherwise on the ``adobedx.conversations.ready``
  event (listened for on ``window`` and ``document``) or at the page's ``load`` event, whichever finds
  Dynamic Chat first. Dynamic Chat does not replay callbacks, so events fired before the snippet
  subscribed are not captured: load the snippet before, or together with, the Dynamic Chat script. When
  Dynamic Chat never loads, the snippet does nothing;
- subscribes to each of the 11 ``Enum.Events`` constants once per Dynamic Chat instance, even when the
  snippet is included twice (``window.__chatanalyticsCapture`` is the guard);
- sends every callback, with an ISO-8601 UTC time, the page URL, an event id and the payload's documented
  keys, to each chosen destination, named by the tracking plan below;
- never sends an email address or a phone number: only the documented payload keys are read (a payload's
  ``email`` or ``phone`` field is never touched); in every value, email addresses (``jürgen@bücher.de``
  too) and phone numbers (with any Unicode space or dash, full-width digits, or a local number after a
  phone word such as ``call 555 0133``) become ``[redacted]``, ids included; in ``meetingInfo`` also every
  value under a contact-like key such as ``email``, ``phone``, ``mobile``; in the page URL every path
  segment, query or fragment value that holds one once URL-decoded, and contact-like query parameters.
  The patterns are the loaders' own (``chatanalytics.io._privacy.SNIPPET_RULES``, embedded in the code);
- never throws into the page: every call to a destination is wrapped, and failures are counted.

``window.__chatanalyticsCapture`` holds the counters: ``sent``, ``skipped`` (the tool's object was
missing when an event fired) and ``errors`` per destination (plus ``errors.snippet``), ``redacted``
(values redacted), ``truncated`` (values cut to a limit), ``events`` (the constants subscribed to),
``via`` (how Dynamic Chat was found), ``inclusions`` and ``lastError``.

Destinations
------------
``datalayer``
    GTM: ``dataLayer.push({event: <name>, <key>: value, ...})`` with every key present (``null`` when
    absent, so GTM's merged data model never keeps a value from an earlier event). Fire tags with a
    Custom Event trigger on the event names.
``ga4``
    ``gtag('event', <name>, {<param>: value, ...})`` within GA4's limits: event names of at most 40
    characters, at most 25 parameters named with at most 40, values cut to 100 characters ending in the
    truncation marker ``…`` (``meetingInfo`` is sent as JSON text and cut the same way). Ids are sent as
    text, never as numbers. The visitor key is gtag's own client id (``user_pseudo_id`` in the BigQuery
    export) and the page URL is gtag's own ``page_location``.
``websdk``
    Adobe Web SDK: ``alloy('sendEvent', {xdm: {eventType, timestamp, _id: <event id>,
    web: {webInteraction: {name: <link name>, type: 'other', URL, linkClicks: {value: 1}}}},
    data: {dynamicChat: {<field>: value, ...}}})``. The visitor key is alloy's ECID.
``appmeasurement``
    Adobe Analytics: ``s.tl(true, 'o', <link name>, overrides)``, the success event and the eVars in
    the call's variable overrides (``events``, ``linkTrackEvents``, ``linkTrackVars``), so the page's own
    ``s`` variables stay untouched; eVars are cut to 255 bytes and props to 100. The visitor id and page
    URL are AppMeasurement's own.
``segment``
    ``analytics.track(<name>, {<property>: value, ...})``. The visitor key is Segment's ``anonymousId``.
``endpoint``
    Your collector: ``navigator.sendBeacon(<endpoint>, <one capture-format JSON line>)`` (``fetch`` with
    ``keepalive`` when the browser refuses the beacon), the body ``{"ts", "event", "payload": {name, id,
    type, uiType, sid, agentName, agentID, meetingInfo}, "page_url", "visitor_id", "event_id"}`` plus a
    newline, as :func:`chatanalytics.read_events` reads it. The visitor key is a random first-party id
    (``v-`` and 16 hex digits) kept in ``localStorage`` under ``chatanalytics_vid``, or an id for the
    page view alone where storage is blocked. Only this destination creates it.

The tracking plan
-----------------
``default-plan.json`` (next to this module) is the one source of the names the snippet sends, and the
names the loaders read back with; :func:`default_plan` returns it. A site overrides any name by passing
``plan=`` (a nested dict merged over the default; ``None`` switches an event or a field off for that
destination). Each destination section has ``events`` (Dynamic Chat constant -> the tool's event name)
and ``fields`` (field -> the tool's key). The fields are ``event`` (the constant, e.g.
``CONVERSATION_ENGAGED``), ``ts`` (ISO-8601 UTC time), ``event_id`` (a random id per callback, the
same in every destination), ``page_url`` (the page URL, contact details redacted), and the payload keys
``name``, ``id``, ``type``, ``uiType``, ``sid``, ``agentName``, ``agentID``, ``meetingInfo``.

Event names. GA4 and the dataLayer share them; the Segment event names, which are also the Web SDK and
AppMeasurement link names, all begin with ``Dynamic Chat`` (``Dynamic Chat Conversation Engaged``):

========================================== ============================= ====================== =======
constant                                   GA4 / dataLayer               Segment, link names    s event
========================================== ============================= ====================== =======
``CONVERSATION_TRIGGERED``                 ``dc_conversation_triggered`` Conversation Triggered event1
``CONVERSATION_ENGAGED``                   ``dc_conversation_engaged``   Conversation Engaged   event2
``CONVERSATION_COMPLETED``                 ``dc_conversation_completed`` Conversation Completed event3
``CONVERSATION_CLOSED``                    ``dc_conversation_closed``    Conversation Closed    event4
``CONVERSATION_INPUT_PHONE``               ``dc_phone_input``            Phone Input            event5
``CONVERSATION_INPUT_EMAIL``               ``dc_email_input``            Email Input            event6
``CONVERSATION_MEETING_BOOKED``            ``dc_meeting_booked``         Meeting Booked         event7
``CONVERSATION_LIVE_CHAT_REQUESTED``       ``dc_live_chat_requested``    Live Chat Requested    event8
``CONVERSATION_LIVE_CHAT_INITIATED``       ``dc_live_chat_initiated``    Live Chat Initiated    event9
``CONVERSATION_LIVE_CHAT_ENDED``           ``dc_live_chat_ended``        Live Chat Ended        event10
``CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT`` ``dc_live_chat_timeout``      Live Chat Timeout      event11
========================================== ============================= ====================== =======

The Web SDK ``eventType`` is ``dynamicChat.`` plus the GA4 name without ``dc_`` in camel case
(``dynamicChat.conversationEngaged``, ``dynamicChat.liveChatTimeout``).

Field keys (``(none)``: not sent; GA4 and AppMeasurement send the page URL themselves):

=============== ======================== ==================== ======== ====================
field           GA4 / dataLayer          Web SDK              s        Segment
=============== ======================== ==================== ======== ====================
``event``       ``dc_event``             ``eventName``        eVar1    ``event_type``
``ts``          ``dc_ts``                ``timestamp``        eVar10   ``event_time_utc``
``event_id``    ``dc_event_id``          ``eventID``          (none)   ``event_id``
``page_url``    (none) / ``dc_page_url`` ``pageURL``          (none)   ``page_url``
``name``        ``dc_conversation_name`` ``conversationName`` eVar3    ``conversation_name``
``id``          ``dc_conversation_id``   ``conversationID``   eVar2    ``conversation_id``
``type``        ``dc_conversation_type`` ``conversationType`` eVar4    ``conversation_type``
``uiType``      ``dc_ui_type``           ``uiType``           eVar5    ``ui_type``
``sid``         ``dc_session_id``        ``sessionID``        eVar6    ``session_id``
``agentID``     ``dc_agent_id``          ``agentID``          eVar7    ``agent_id``
``agentName``   ``dc_agent_name``        ``agentName``        eVar8    ``agent_name``
``meetingInfo`` ``dc_meeting_info``      ``meetingInfo``      eVar9    ``meeting_info``
=============== ======================== ==================== ======== ====================

The Web SDK fields sit under ``data.dynamicChat``.

Other plan entries: ``object`` per destination (the global the snippet calls: ``dataLayer``, ``gtag``,
``alloy``, ``s``, ``analytics``), ``ga4.send_to`` (a measurement id to route to, off by default),
``ga4.limits``, ``websdk.data_path`` (``dynamicChat``), ``websdk.xdm_path`` (off by default; e.g.
``_acme.dynamicChat`` writes the same fields under the tenant's XDM field group too),
``websdk.link_names``, ``appmeasurement.link_type`` (``o``), ``appmeasurement.link_names``,
``appmeasurement.limits``, ``endpoint.storage_key`` and the ``redaction_marker`` (``[redacted]``) and
``truncation_marker`` (``…``).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from ..errors import InvalidParameterError
from ..schema import EVENT_TYPES

__all__ = [
    "DESTINATIONS",
    "FIELDS",
    "LOADER_DESTINATIONS",
    "capture_snippet",
    "default_plan",
    "tracking_plan",
]

#: The destinations :func:`capture_snippet` can forward to.
DESTINATIONS: tuple[str, ...] = ("datalayer", "ga4", "websdk", "appmeasurement", "segment", "endpoint")

#: Plan sections for data the snippet does not send but the loaders read: Universal Analytics events
#: (``ga('send', 'event', category, action, label)``, the call on Adobe's callback page) and Snowplow.
LOADER_DESTINATIONS: tuple[str, ...] = ("universal_analytics", "snowplow")

#: The fields a plan maps for each destination: the snippet's own four, then the documented payload keys.
FIELDS: tuple[str, ...] = (
    "event",
    "ts",
    "event_id",
    "page_url",
    "name",
    "id",
    "type",
    "uiType",
    "sid",
    "agentName",
    "agentID",
    "meetingInfo",
)

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_GA4_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_GA4_RESERVED_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
_PATH = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*")
_S_EVENT = re.compile(r"event(?:[1-9][0-9]{0,2}|1000)")
_S_VAR = re.compile(r"eVar(?:[1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|250)|prop(?:[1-9]|[1-6][0-9]|7[0-5])")
_ENDPOINT = re.compile(r"(?:https?://[^\s\"'<>\\]+|/[^\s\"'<>\\]*)")
_SHARED = ("version", "redaction_marker", "truncation_marker")


@functools.cache
def _default_text() -> str:
    return resources.files(__package__).joinpath("default-plan.json").read_text(encoding="utf-8")


@functools.cache
def _snippet_text() -> str:
    return resources.files(__package__).joinpath("snippet.js").read_text(encoding="utf-8")


def default_plan() -> dict[str, Any]:
    """The default tracking plan: the names the capture snippet sends to each destination.

    Returns
    -------
    dict
        A fresh copy of ``default-plan.json``: shared ``version``, ``redaction_marker`` and
        ``truncation_marker``, then one section per destination (see the module docstring for every
        name).

    Examples
    --------
    >>> from chatanalytics.capture import default_plan
    >>> plan = default_plan()
    >>> plan["ga4"]["events"]["CONVERSATION_ENGAGED"], plan["ga4"]["fields"]["sid"]
    ('dc_conversation_engaged', 'dc_session_id')
    >>> plan["segment"]["events"]["CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"]
    'Dynamic Chat Live Chat Timeout'
    """
    return json.loads(_default_text())


def tracking_plan(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The default tracking plan with a site's overrides merged over it, checked.

    This is the plan :func:`capture_snippet` sends with, and the one to read the data back with.

    Parameters
    ----------
    overrides : dict, optional
        Nested like the plan; only the entries given change (``{"ga4": {"events":
        {"CONVERSATION_ENGAGED": "chat_engaged"}}}``). ``None`` as a name switches that event or field
        off for that destination.

    Returns
    -------
    dict
        The merged plan.

    Raises
    ------
    InvalidParameterError
        An unknown key (with the closest known one), a value of the wrong type, or a name the
        destination does not accept: a GA4 event name or parameter that is not a letter followed by
        letters, digits and underscores, longer than 40 characters or with a reserved prefix; more than
        25 GA4 parameters; an AppMeasurement event other than ``event1`` to ``event1000`` or a variable
        other than ``eVar1`` to ``eVar250`` and ``prop1`` to ``prop75``; the same key for two fields.

    Examples
    --------
    >>> from chatanalytics.capture import tracking_plan
    >>> plan = tracking_plan({"ga4": {"events": {"CONVERSATION_ENGAGED": "chat_engaged"}}})
    >>> plan["ga4"]["events"]["CONVERSATION_ENGAGED"], plan["ga4"]["events"]["CONVERSATION_CLOSED"]
    ('chat_engaged', 'dc_conversation_closed')
    """
    plan = default_plan()
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise InvalidParameterError("plan", overrides, reason="a dict of overrides is expected")
        _merge(plan, overrides, "plan")
    _check(plan)
    return plan


def capture_snippet(
    destinations: str | Iterable[str] = ("datalayer",),
    *,
    endpoint: str | None = None,
    plan: Mapping[str, Any] | None = None,
    minify: bool = False,
    script_tag: bool = False,
) -> str:
    """The JavaScript that forwards every Dynamic Chat callback event to the given destinations.

    The code reads its configuration (destinations, endpoint and the plan's names for them) from an
    object written at its top; see the module docstring for what it sends and the names it uses.

    Parameters
    ----------
    destinations : str or list of str, default ("datalayer",)
        Any of ``"datalayer"`` (GTM), ``"ga4"`` (gtag), ``"websdk"`` (Adobe Web SDK, alloy),
        ``"appmeasurement"`` (Adobe Analytics ``s.tl``), ``"segment"`` (``analytics.track``) and
        ``"endpoint"`` (your own collector, in the capture format).
    endpoint : str, optional
        The collector's URL, ``https://...`` or a path on the site (``/dc-collect``); required with
        ``"endpoint"`` and only with it. The snippet posts one capture-format JSON line per event
        (``text/plain``) with ``navigator.sendBeacon``; the collector appends the bodies to a file
        that :func:`chatanalytics.read_events` reads.
    plan : dict, optional
        Overrides merged over the default tracking plan (see :func:`tracking_plan`).
    minify : bool, default False
        Drop comment lines, indentation and blank lines (about a quarter smaller).
    script_tag : bool, default False
        Wrap the code in ``<script>...</script>``, as a GTM Custom HTML tag needs.

    Returns
    -------
    str
        The snippet. Without ``script_tag`` it is plain JavaScript, to serve as a ``.js`` file or to
        paste where a tag manager expects JavaScript.

    Raises
    ------
    InvalidParameterError
        An unknown destination (with the closest known one), no destination, a missing or unexpected
        ``endpoint``, or a bad plan (see :func:`tracking_plan`).

    Examples
    --------
    >>> import chatanalytics as ca
    >>> js = ca.capture_snippet(destinations=["ga4", "datalayer"])
    >>> "adobedx.conversations.ready" in js and '"dc_conversation_engaged"' in js
    True
    >>> ca.capture_snippet(["ga4", "gtm"])
    Traceback (most recent call last):
    ...
    chatanalytics.errors.InvalidParameterError: invalid destinations='gtm'...
    """
    chosen = _destinations(destinations)
    if "endpoint" in chosen:
        if endpoint is None:
            raise InvalidParameterError(
                "endpoint", endpoint, reason="the 'endpoint' destination needs the collector's URL"
            )
        if not isinstance(endpoint, str) or not _ENDPOINT.fullmatch(endpoint):
            raise InvalidParameterError(
                "endpoint", endpoint, reason="an https:// or http:// URL, or a path starting with '/'"
            )
    elif endpoint is not None:
        raise InvalidParameterError(
            "endpoint", endpoint, reason="given, but 'endpoint' is not among the destinations"
        )
    for name, flag in (("minify", minify), ("script_tag", script_tag)):
        if not isinstance(flag, bool):
            raise InvalidParameterError(name, flag, [True, False])
    merged = tracking_plan(plan)
    config: dict[str, Any] = {"destinations": list(chosen)}
    if endpoint is not None:
        config["endpoint"] = endpoint
    config["plan"] = {key: merged[key] for key in _SHARED} | {d: merged[d] for d in chosen}
    body = _snippet_text()
    if minify:
        text = json.dumps(config, ensure_ascii=True, separators=(",", ":"))
        body = _minify(body)
    else:
        text = json.dumps(config, ensure_ascii=True, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")  # never "</script>" inside the tag
    banner = (
        f"/* chatanalytics capture snippet: Dynamic Chat events -> {', '.join(chosen)}. "
        "Configuration below; see chatanalytics.capture for every name. */"
    )
    code = f"{banner}\n(function () {{\nvar chatanalyticsCaptureConfig = {text};\n{body}}})();\n"
    if script_tag:
        code = f"<script>\n{code}</script>\n"
    return code


def _destinations(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    try:
        items = list(items)
    except TypeError:
        raise InvalidParameterError("destinations", value, DESTINATIONS) from None
    if not items:
        raise InvalidParameterError("destinations", value, DESTINATIONS, reason="at least one is needed")
    chosen: list[str] = []
    for item in items:
        if item not in DESTINATIONS:
            raise InvalidParameterError("destinations", item, DESTINATIONS)
        if item not in chosen:
            chosen.append(item)
    return tuple(chosen)


def _minify(code: str) -> str:
    """Drop comments that fill whole lines, indentation and blank lines (nothing inside a line)."""
    out: list[str] = []
    in_block = False
    for line in code.splitlines():
        stripped = line.strip()
        if in_block:
            in_block = "*/" not in stripped
            continue
        if stripped.startswith("/*"):
            in_block = "*/" not in stripped
            continue
        if not stripped or stripped.startswith("//"):
            continue
        out.append(stripped)
    return "\n".join(out) + "\n"


def _merge(base: dict[str, Any], over: Mapping[str, Any], where: str) -> None:
    for key, value in over.items():
        if key not in base:
            raise InvalidParameterError(where, key, list(base), reason="unknown key")
        here = f"{where}[{key!r}]"
        if isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise InvalidParameterError(here, value, reason="a dict is expected")
            _merge(base[key], value, here)
        else:
            base[key] = copy.deepcopy(value)


def _check(plan: dict[str, Any]) -> None:
    for key in ("redaction_marker", "truncation_marker"):
        marker = plan[key]
        if not isinstance(marker, str) or not 0 < len(marker) <= 20:
            raise InvalidParameterError(f"plan[{key!r}]", marker, reason="a text of 1 to 20 characters")
    for name in DESTINATIONS:
        section = plan[name]
        obj = section.get("object")
        if obj is not None and not (isinstance(obj, str) and _IDENT.fullmatch(obj)):
            raise InvalidParameterError(f"plan[{name!r}]['object']", obj, reason="a JavaScript global name")
    _check_ga4(plan["ga4"])
    _check_names(plan["datalayer"], "datalayer", reserved=("event",))
    _check_names(plan["websdk"], "websdk")
    _check_names(plan["segment"], "segment")
    for name in LOADER_DESTINATIONS:
        _check_names(plan[name], name)
        for key, value in plan[name].items():
            if key not in ("events", "fields"):
                _text_or_none(value, f"plan[{name!r}][{key!r}]")
    _check_appmeasurement(plan["appmeasurement"])
    websdk = plan["websdk"]
    for key in ("data_path", "xdm_path"):
        path = websdk[key]
        if path is not None and not (isinstance(path, str) and _PATH.fullmatch(path)):
            raise InvalidParameterError(f"plan['websdk'][{key!r}]", path, reason="a dotted path such as a.b")
    storage = plan["endpoint"]["storage_key"]
    if not isinstance(storage, str) or not storage:
        raise InvalidParameterError("plan['endpoint']['storage_key']", storage, reason="a non-empty text")


def _text_or_none(value: Any, where: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidParameterError(where, value, reason="a non-empty text, or None to switch it off")
    return value


def _check_names(section: dict[str, Any], name: str, reserved: tuple[str, ...] = ()) -> None:
    """Event and link names are texts or None; field keys are texts or None, unique and not reserved."""
    for table in ("events", "link_names"):
        for constant in section.get(table, {}):
            if constant not in EVENT_TYPES:
                raise InvalidParameterError(f"plan[{name!r}][{table!r}]", constant, EVENT_TYPES)
            _text_or_none(section[table][constant], f"plan[{name!r}][{table!r}][{constant!r}]")
    seen: dict[str, str] = {}
    for field, key in section["fields"].items():
        where = f"plan[{name!r}]['fields'][{field!r}]"
        if _text_or_none(key, where) is None:
            continue
        if key in reserved:
            raise InvalidParameterError(where, key, reason=f"{key!r} is reserved in this destination")
        if key in seen:
            raise InvalidParameterError(where, key, reason=f"already the key of {seen[key]!r}")
        seen[key] = field


def _check_ga4(section: dict[str, Any]) -> None:
    limits = section["limits"]
    for key, value in limits.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidParameterError(f"plan['ga4']['limits'][{key!r}]", value, reason="a positive integer")
    _check_names(section, "ga4")
    names = [("events", c, n, limits["event_name"]) for c, n in section["events"].items()]
    names += [("fields", f, k, limits["param_name"]) for f, k in section["fields"].items()]
    for table, key, value, longest in names:
        if value is None:
            continue
        where = f"plan['ga4'][{table!r}][{key!r}]"
        if not _GA4_NAME.fullmatch(value) or value.startswith(_GA4_RESERVED_PREFIXES):
            raise InvalidParameterError(
                where, value, reason="GA4 names are a letter then letters, digits and underscores, "
                "without the reserved prefixes firebase_, ga_ and google_"
            )  # fmt: skip
        if len(value) > longest:
            raise InvalidParameterError(where, value, reason=f"GA4 allows at most {longest} characters")
    params = sum(v is not None for v in section["fields"].values()) + (section["send_to"] is not None)
    if params > limits["params"]:
        raise InvalidParameterError(
            "plan['ga4']['fields']", params, reason=f"GA4 allows at most {limits['params']} parameters"
        )
    _text_or_none(section["send_to"], "plan['ga4']['send_to']")


def _check_appmeasurement(section: dict[str, Any]) -> None:
    _check_names(section, "appmeasurement")
    if section["link_type"] not in ("o", "d", "e"):
        raise InvalidParameterError("plan['appmeasurement']['link_type']", section["link_type"], "ode")
    seen: dict[str, str] = {}
    for constant, event in section["events"].items():
        if event is None:
            continue
        where = f"plan['appmeasurement']['events'][{constant!r}]"
        if not _S_EVENT.fullmatch(event):
            raise InvalidParameterError(where, event, reason="a success event, event1 to event1000")
        if event in seen:
            raise InvalidParameterError(where, event, reason=f"already the event of {seen[event]!r}")
        seen[event] = constant
    for field, var in section["fields"].items():
        if var is not None and not _S_VAR.fullmatch(var):
            raise InvalidParameterError(
                f"plan['appmeasurement']['fields'][{field!r}]",
                var,
                reason="eVar1 to eVar250 or prop1 to prop75",
            )
    for key, value in section["limits"].items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidParameterError(
                f"plan['appmeasurement']['limits'][{key!r}]", value, reason="a positive integer"
            )
