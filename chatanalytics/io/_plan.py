"""Tracking plans: which names a site's analytics data carries for each Dynamic Chat event and field.

A site decides how its tag manager forwards the 11 callbacks: GA4 event names (one per callback, or
one event such as ``dynamic_chat`` with an action parameter), parameter keys, dataLayer keys, Segment
event names and property keys. :class:`TrackingPlan` holds those names. It starts from the default plan,
the names the capture snippet sends (:func:`chatanalytics.capture.default_plan`), with a site's
overrides merged over it, and is checked by the same rules as the snippet's plan
(:func:`chatanalytics.capture.tracking_plan`).
"""

from __future__ import annotations

import copy
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..capture import DESTINATIONS, FIELDS, LOADER_DESTINATIONS, tracking_plan
from ..errors import InvalidParameterError, LoaderError
from ..schema import EVENT_TYPES

__all__ = ["FIELD_COLUMNS", "TrackingPlan"]

#: The canonical column each plan field fills (``event`` carries the event type as an action value).
FIELD_COLUMNS: dict[str, str] = {
    "event": "event_type",
    "ts": "event_time_utc",
    "event_id": "event_id",
    "page_url": "page_url",
    "name": "conversation_name",
    "id": "conversation_id",
    "type": "conversation_type",
    "uiType": "ui_type",
    "sid": "session_id",
    "agentName": "agent_name",
    "agentID": "agent_id",
    "meetingInfo": "meeting_info",
}
#: Fields only the ``universal_analytics`` section has: the dimensions an event-level custom report adds
#: (a Client ID dimension, a session id dimension), each named by the canonical column it fills.
UA_FIELDS: dict[str, str] = {"visitor_id": "visitor_id", "analytics_session_id": "analytics_session_id"}
_COLUMN_FIELDS = {column: name for name, column in FIELD_COLUMNS.items()}
#: The plan sections whose data are JSON objects, where a dotted key (``chat.sid``) is a nested path.
JSON_DESTINATIONS: tuple[str, ...] = ("datalayer", "websdk", "segment", "snowplow")
#: A GA4 custom dimension's display name, as the GA4 interface heads a report column with it: up to 82
#: letters, digits, spaces and underscores, starting with a letter (legacy names may hold brackets).
_GA4_DISPLAY = re.compile(r"[A-Za-z][A-Za-z0-9_ \[\]]{0,81}")
_GA4_PREFIX = "customevent:"
_GA4_PARAM = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


@dataclass(frozen=True, eq=False)
class TrackingPlan:
    """The names under which a site's data carries the Dynamic Chat events and their fields.

    Each destination (``"ga4"``, ``"datalayer"``, ``"segment"``, ``"websdk"``, ``"appmeasurement"``, and for
    data the capture snippet does not send, ``"universal_analytics"`` and ``"snowplow"``) has ``events``
    (event type constant -> the tool's event name) and ``fields`` (field -> the tool's key). Fields are named
    as in the capture plan (``id``, ``sid``, ``agentID``, ...) or by the canonical column they fill
    (``conversation_id``, ``session_id``, ``agent_id``, ...). The field ``event`` is the *action parameter*: a
    key whose value is the event type constant (``CONVERSATION_ENGAGED``, any case) or the destination's event
    name for it. Loaders map a record by its event name first and by its action parameter second, so a site
    that sends every callback as one event (``dynamic_chat`` with ``dc_event``) is read as well as one that
    sends a name per callback. An event name given to several constants is decided by the action parameter
    alone.

    A key is written in the export's own terms. In the ``ga4`` section it may be a parameter
    (``chat_sid``), ``customEvent:chat_sid`` or a custom dimension's display name as a GA4 report heads
    its column (``Chat session``: matched ignoring case and spaces; a display name applies to reports
    only, never to the BigQuery export's parameters). In the JSON sections (``datalayer``, ``websdk``,
    ``segment``, ``snowplow``) a dotted key (``chat.sid``) is the path into nested objects; GA4 and
    AppMeasurement names are flat, and a dotted key there is refused. The ``universal_analytics``
    section also has ``visitor_id`` and ``analytics_session_id`` (a Client ID and a session id custom
    dimension) and takes ``ts``, a hit-timestamp dimension, for event-level reports.

    Build one with :meth:`default`, :meth:`from_dict` (overrides merged over the default) or
    :meth:`from_file` (the same overrides as TOML or JSON; in TOML, which has no null, an empty string
    switches a name off).

    Examples
    --------
    >>> import chatanalytics as ca
    >>> plan = ca.TrackingPlan.from_dict({"ga4": {"fields": {"conversation_id": "chat_id"}}})
    >>> plan.columns("ga4")["conversation_id"]
    'chat_id'
    >>> plan.events("ga4")["dc_conversation_engaged"]
    'CONVERSATION_ENGAGED'
    """

    _plan: dict[str, Any] = field(repr=False)
    overrides: dict[str, Any] = field(default_factory=dict)

    # ----------------------------------------------------------------------------- constructors
    @classmethod
    def default(cls) -> TrackingPlan:
        """The default plan: the names the capture snippet sends.

        Examples
        --------
        >>> import chatanalytics as ca
        >>> ca.TrackingPlan.default().action_key("ga4")
        'dc_event'
        """
        return cls(tracking_plan(None), {})

    @classmethod
    def from_dict(cls, overrides: Mapping[str, Any] | None) -> TrackingPlan:
        """A plan from overrides merged over the default plan.

        Parameters
        ----------
        overrides : dict or None
            Nested like :func:`chatanalytics.capture.default_plan`, for example
            ``{"ga4": {"events": {"CONVERSATION_ENGAGED": "chat_engaged"}}}``. Only the names given
            change; ``None`` (or ``""``) switches a name off.

        Raises
        ------
        InvalidParameterError
            An unknown destination, event type or field (with the closest known name), or a name the
            destination does not accept (see :func:`chatanalytics.capture.tracking_plan`).

        Examples
        --------
        >>> import chatanalytics as ca
        >>> ca.TrackingPlan.from_dict({"ga4": {"events": {"CONVERSATION_ENGAGD": "x"}}})
        Traceback (most recent call last):
        ...
        chatanalytics.errors.InvalidParameterError: invalid plan['ga4']['events']='CONVERSATION_ENGAGD'...
        """
        if overrides is None:
            return cls.default()
        if not isinstance(overrides, Mapping):
            raise InvalidParameterError("plan", overrides, reason="a dict of overrides is expected")
        normal = _normalise(overrides)
        checked = copy.deepcopy(normal)
        aside = _set_aside(checked)
        plan = tracking_plan(checked)
        for (dest, name), key in aside.items():
            plan[dest]["fields"][name] = key
        _check_paths(plan)
        return cls(plan, normal)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TrackingPlan:
        """A plan from a TOML (``.toml``) or JSON (``.json``) file of overrides.

        Raises
        ------
        LoaderError
            The file is missing, is not valid TOML or JSON, or has another suffix.
        InvalidParameterError
            As :meth:`from_dict`.

        Examples
        --------
        >>> import chatanalytics as ca
        >>> plan = ca.TrackingPlan.from_file("data/tracking-plan.example.toml")  # doctest: +SKIP
        """
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in (".toml", ".json"):
            raise LoaderError(f"{p}: a tracking plan is a .toml or .json file", path=p)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise LoaderError(f"cannot read the tracking plan {p}: {err}", path=p) from err
        try:
            data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
            raise LoaderError(f"{p} is not valid {suffix[1:].upper()}: {err}", path=p) from err
        if not isinstance(data, dict):
            raise LoaderError(f"{p}: a tracking plan is a table (object) of destinations", path=p)
        return cls.from_dict(data)

    # ----------------------------------------------------------------------------- views
    def to_dict(self) -> dict[str, Any]:
        """The whole plan, every destination, as a nested dict (a copy)."""
        return copy.deepcopy(self._plan)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrackingPlan) and self._plan == other._plan

    def __hash__(self) -> int:
        return hash(json.dumps(self._plan, sort_keys=True))

    def _section(self, destination: str) -> dict[str, Any]:
        every = (*DESTINATIONS, *LOADER_DESTINATIONS)
        if destination not in every or "fields" not in self._plan[destination]:
            known = [d for d in every if "fields" in self._plan[d]]
            raise InvalidParameterError("destination", destination, known)
        return self._plan[destination]

    def events(self, destination: str) -> dict[str, str]:
        """Source event name -> event type constant, for names that stand for exactly one constant."""
        names: dict[str, list[str]] = {}
        for constant, name in self._section(destination)["events"].items():
            if name is not None:
                names.setdefault(name, []).append(constant)
        return {name: cs[0] for name, cs in names.items() if len(cs) == 1}

    def columns(self, destination: str) -> dict[str, str]:
        """Canonical column -> source key, for the fields the destination carries (not ``event``)."""
        fields = self._section(destination)["fields"]
        every = {**FIELD_COLUMNS, **UA_FIELDS}
        return {every[f]: key for f, key in fields.items() if key is not None and f != "event"}

    def field_keys(self, destination: str) -> dict[str, str]:
        """Plan field -> source key, for every field the destination maps (``event`` included)."""
        return {f: key for f, key in self._section(destination)["fields"].items() if key is not None}

    def explicit(self, destination: str) -> dict[str, str]:
        """Plan field -> source key, for the fields the site's overrides name (not the defaults)."""
        fields = (self.overrides.get(destination) or {}).get("fields") or {}
        return {f: key for f, key in fields.items() if isinstance(key, str) and key}

    def action_key(self, destination: str) -> str | None:
        """The key of the action parameter (its value names the event type), or None."""
        return self._section(destination)["fields"].get("event")

    def action_values(self, destination: str) -> dict[str, str]:
        """Accepted action values (upper case) -> constant: the constants and the event names."""
        values = {c: c for c in EVENT_TYPES}
        for name, constant in self.events(destination).items():
            values.setdefault(name.strip().upper(), constant)
        return values

    def __repr__(self) -> str:
        changed = ", ".join(sorted(self.overrides)) or "none"
        return f"TrackingPlan(overrides for: {changed})"


def _normalise(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical column names become plan fields and ``""`` becomes None; unknown fields are named."""
    out: dict[str, Any] = {}
    for dest, section in overrides.items():
        if not isinstance(section, Mapping):
            out[dest] = section
            continue
        sec: dict[str, Any] = {}
        for key, value in section.items():
            if key == "fields" and isinstance(value, Mapping):
                fields: dict[str, Any] = {}
                for name, src in value.items():
                    f = _COLUMN_FIELDS.get(name, name)
                    extra = UA_FIELDS if dest == "universal_analytics" else {}
                    if f not in FIELDS and f not in extra:
                        raise InvalidParameterError(
                            f"plan[{dest!r}]['fields']",
                            name,
                            [*FIELDS, *_COLUMN_FIELDS, *extra],
                            reason="unknown field",
                        )
                    fields[f] = None if src == "" else src
                sec[key] = fields
            elif key in ("events", "link_names") and isinstance(value, Mapping):
                sec[key] = {c: (None if n == "" else n) for c, n in value.items()}
            else:
                sec[key] = value
        out[dest] = sec
    return out


def _set_aside(normal: dict[str, Any]) -> dict[tuple[str, str], str]:
    """Take out of ``normal`` the keys the capture plan's checks do not know, to be put back after them:
    the ``universal_analytics`` report fields (:data:`UA_FIELDS`) and GA4 report columns named by their
    header text (a display name such as ``Chat session ID``, or ``customEvent:chat_session_id``).

    Raises
    ------
    InvalidParameterError
        A GA4 key is a dotted path (event parameters are flat), or neither a parameter name nor a
        display name.
    """
    aside: dict[tuple[str, str], str] = {}
    ua = (normal.get("universal_analytics") or {}).get("fields")
    if isinstance(ua, dict):
        for name in [n for n in ua if n in UA_FIELDS]:
            key = ua.pop(name)
            if key is not None:
                aside[("universal_analytics", name)] = _text(
                    key, f"plan['universal_analytics']['fields'][{name!r}]"
                )
    ga4 = (normal.get("ga4") or {}).get("fields")
    if isinstance(ga4, dict):
        for name, key in list(ga4.items()):
            if not isinstance(key, str):
                continue
            where = f"plan['ga4']['fields'][{name!r}]"
            if "." in key:
                raise InvalidParameterError(
                    where,
                    key,
                    reason="a dotted path cannot apply to GA4: its event parameters are flat; name the "
                    "parameter (chat_sid) or the report column (Chat session ID). Dotted paths address "
                    f"nested objects in the {', '.join(JSON_DESTINATIONS)} sections",
                )
            param = key[len(_GA4_PREFIX) :] if key.lower().startswith(_GA4_PREFIX) else None
            if param is None and _GA4_PARAM.fullmatch(key):
                continue  # a parameter name: checked with the capture plan
            if not (_GA4_PARAM.fullmatch(param) if param is not None else _GA4_DISPLAY.fullmatch(key)):
                raise InvalidParameterError(
                    where,
                    key,
                    reason="a GA4 parameter name, customEvent:<parameter>, or a custom dimension's display "
                    "name (up to 82 letters, digits, spaces and underscores, starting with a letter)",
                )
            aside[("ga4", name)] = ga4.pop(name)
    return aside


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(where, value, reason="a non-empty text, or None to switch it off")
    return value


def _check_paths(plan: dict[str, Any]) -> None:
    """In a JSON section, no field's dotted path may run through another field's key (``chat`` and
    ``chat.sid``): one would have to be a value and an object at once.
    """
    for dest in JSON_DESTINATIONS:
        fields = {f: k for f, k in plan[dest]["fields"].items() if isinstance(k, str)}
        for name, key in fields.items():
            for other, prefix in fields.items():
                if other != name and key.startswith(prefix + "."):
                    raise InvalidParameterError(
                        f"plan[{dest!r}]['fields'][{name!r}]",
                        key,
                        reason=f"its path runs through {prefix!r}, the key of {other!r}",
                    )
