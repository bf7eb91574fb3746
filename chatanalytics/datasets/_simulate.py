"""A documented simulator of Dynamic Chat callback events (SYNTHETIC data).

:func:`simulate_raw` returns a canonical event frame (see :mod:`chatanalytics.schema`) that looks like a
browser capture of the 11 Dynamic Chat callbacks on a B2B website, including the kinds of dirt real
captures have. **Every value is synthetic**: the site is the reserved domain ``www.example.com``, the
agents are invented people, and no email address, phone number or other personal data appears anywhere
(``CONVERSATION_INPUT_EMAIL`` / ``_PHONE`` carry only the documented payload keys, never the value).

The model follows what Adobe documents (``docs/dynamic-chat.md`` sections 1.2, 1.3 and 2.4); the
numbers are ours and live in the module constants below, so documentation and tests can refer to them.

Notes
-----
Arrivals
    ``n_sessions`` Dynamic Chat sessions (``sid``) over ``days`` local days from ``start`` in the business
    time zone ``tz``. A session's day is drawn with :data:`WEEKDAY_WEIGHTS` (Monday-Friday high, weekend
    low), its hour with :data:`HOURLY_WEIGHTS` (peak 09-17 local) and its instant uniformly within the
    hour, to the millisecond. Local wall times are converted to UTC with the zone's rules, so a span that
    crosses a DST change (the default one crosses the US DST end on 2026-11-01) keeps its local profile:
    times in the repeated hour take either offset at random, times in a skipped hour move forward.
Visitors
    Sessions per visitor are geometric: after each session a visitor comes back with probability
    :data:`RETURN_VISIT_RATE`, so ``visitor_id`` is shared by several sessions for some visitors.
    ``analytics_session_id`` is left null.
Conversations
    :data:`CONVERSATIONS` is the catalogue: Dialogues and Conversational Flows over the ``popup``,
    ``chatbot`` and ``inline`` UI types, ids that are numeric-looking strings (``"4471902"``) or other
    tokens (``"cf-0b7e21a4"``), each with its trigger weight, engagement rate, pages, whether it offers
    live chat and whether its live-chat requests go to a Team. Each session triggers one conversation
    and, with probability :data:`SECOND_CONVERSATION_RATE`, a second, different one
    :data:`SECOND_CONVERSATION_GAP` later. A conversation fires on one of its pages of
    :data:`SITE` (with a UTM query string with probability :data:`UTM_RATE`); ``page_url`` is that page
    for all of its events.
Automated part
    After ``CONVERSATION_TRIGGERED``: ``CONVERSATION_ENGAGED`` (first response) with the conversation's
    ``engagement_rate`` after :data:`ENGAGE_DELAY`; a visitor who does not engage closes the widget
    (``CONVERSATION_CLOSED``) with probability :data:`UNENGAGED_CLOSE_RATE`. An engaged visitor reaches
    the end (``CONVERSATION_COMPLETED``) with probability :data:`COMPLETION_RATE` after
    :data:`COMPLETE_DURATION`, else closes early (``CONVERSATION_CLOSED``) after :data:`CLOSE_DURATION`.
    Before that end, independently: email input (:data:`EMAIL_INPUT_RATE`), phone input
    (:data:`PHONE_INPUT_RATE`), a meeting booked on an agent's calendar (:data:`MEETING_BOOKED_RATE`, the
    agent drawn from all :data:`AGENTS`). ``meetingInfo`` is a small JSON object
    ``{"meetingId", "startTime" (UTC, a half hour in local business hours on a later weekday),
    "durationMinutes"}``.
Live chat
    In conversations that offer it, an engaged visitor requests live chat with probability
    :data:`LIVE_CHAT_REQUEST_RATE`, part way through the automated conversation (which then stops).
    The request (``CONVERSATION_LIVE_CHAT_REQUESTED``) is routed at random among the agents on shift
    (:data:`SHIFTS`, local time) that can still take a chat. The agent accepts after
    :data:`ACCEPT_DELAY` (median 25 s); Adobe gives the agent :data:`ACCEPT_WINDOW_SECONDS` (100 s), so a
    later accept is a missed request: ``CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT`` at request + 100 s,
    carrying the offered agent. For conversations with ``team_routing`` one more agent is tried: a second
    ``REQUESTED`` with that agent at request + 100 s, then ``INITIATED`` or the timeout at request + 200 s.
    With no agent available (none on shift, or all at the cap) the request carries no agent and times
    out at + 100 s. The visitor waits :data:`PATIENCE`; one who gives up before an accept and before the
    timeout closes the conversation (``CONVERSATION_CLOSED`` at that moment, no timeout event). After a
    timeout the visitor sees the fallback message and completes or closes it after
    :data:`FALLBACK_DURATION`. An accepted chat (``CONVERSATION_LIVE_CHAT_INITIATED``) lasts
    :data:`CHAT_DURATION` (median 6 min) and ends with ``CONVERSATION_LIVE_CHAT_ENDED``, or, with
    probability :data:`IDLE_CHAT_RATE`, goes idle and ends with ``..._REQUEST_TIMEOUT``
    :data:`INACTIVITY_TIMEOUT_SECONDS` (10 min) after its last activity; either way no
    ``COMPLETED``/``CLOSED`` follows. During an accepted chat a meeting is booked with the chat's agent
    with probability :data:`MEETING_IN_CHAT_RATE` (instead of the automated meeting draw), and an email
    the visitor gives is typed during the chat with probability :data:`EMAIL_IN_CHAT_SHARE`.
Concurrency cap
    No agent holds more than :data:`AGENT_CHAT_CAP` (10) accepted chats at once: a chat occupies its
    agent from ``INITIATED`` to its ``ENDED`` or idle-timeout event (half-open interval). An accept
    that would break the cap (given the chats accepted before it) is moved to the next agent in the
    request's random routing order that is on shift and has room at that instant; with none left the
    request is offered to nobody and times out. The fix is repeated until no agent is over the cap, a
    loop over rounds, never over requests.
Planted changes
    :class:`PlantedChange` plants a documented change from a local date (in ``tz``), for testing change
    detection: ``engage_factor`` multiplies the engagement rate of one conversation (or of all) for the
    conversations triggered from that date on (the probability is capped at 1); ``ui_type_factor``
    multiplies the trigger weights of the conversations of the given UI types for sessions arriving
    from that date on (the weights are then normalised again), which moves sessions between UI types
    while every conversation keeps its rates. Several changes multiply. The draws are the same
    uniforms as without a change, so a lower engagement probability turns some engaged conversations
    into unengaged ones and nothing else; with no change planted the output is exactly the default one.
Dirt
    Applied last, from a separate random stream (so the clean events of a seed are the same with and
    without dirt): client clock skew (:data:`CLOCK_SKEW_SESSION_RATE` of sessions have every timestamp
    shifted by a constant between 5 s and 5 min, either sign), lost triggers
    (:data:`LOST_TRIGGER_RATE` of conversations lose their ``TRIGGERED`` event; an unanswered conversation
    then leaves no event at all) and duplicate deliveries (:data:`DUPLICATE_EVENT_RATE` of events
    repeated exactly, same timestamp).

With the default constants a session yields about 2.4 events. Everything is vectorised with numpy (two
``numpy.random.Generator`` streams spawned from the seed: the model and the dirt); the only Python loops
are over catalogue entries, agents, id digit positions and the rounds of the concurrency fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidParameterError
from ..schema import (
    COLUMNS,
    EVENT_TYPE_DTYPE,
    EVENT_TYPES,
    STRING,
    TIME_DTYPE,
    TIME_GRANULARITY_DTYPE,
    validate_events,
)

__all__ = [
    "ACCEPT_DELAY",
    "ACCEPT_WINDOW_SECONDS",
    "AGENTS",
    "AGENT_CHAT_CAP",
    "CHAT_DURATION",
    "CLOCK_SKEW_SECONDS",
    "CLOCK_SKEW_SESSION_RATE",
    "CLOSE_DURATION",
    "COMPLETE_DURATION",
    "COMPLETION_RATE",
    "CONVERSATIONS",
    "DUPLICATE_EVENT_RATE",
    "EMAIL_INPUT_RATE",
    "EMAIL_IN_CHAT_SHARE",
    "ENGAGE_DELAY",
    "FALLBACK_DURATION",
    "HOURLY_WEIGHTS",
    "IDLE_CHAT_RATE",
    "INACTIVITY_TIMEOUT_SECONDS",
    "LIVE_CHAT_REQUEST_RATE",
    "LOST_TRIGGER_RATE",
    "MEETING_BOOKED_RATE",
    "MEETING_DURATIONS_MINUTES",
    "MEETING_IN_CHAT_RATE",
    "PATIENCE",
    "PHONE_INPUT_RATE",
    "RETURN_VISIT_RATE",
    "SECOND_CONVERSATION_GAP",
    "SECOND_CONVERSATION_RATE",
    "SHIFTS",
    "SITE",
    "SOURCE_FORMAT",
    "UNENGAGED_CLOSE_DELAY",
    "UNENGAGED_CLOSE_RATE",
    "UTM_QUERIES",
    "UTM_RATE",
    "WEEKDAY_WEIGHTS",
    "Agent",
    "Conversation",
    "LogNormal",
    "PlantedChange",
    "Shift",
    "simulate_raw",
]

# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class Conversation:
    """One Dialogue or Conversational Flow of the synthetic catalogue.

    Attributes
    ----------
    id, name, type, ui_type : str
        ``payload.id``, ``.name``, ``.type`` (``dialogue`` / ``conversational_flow``) and ``.uiType``.
    weight : float
        Relative share of sessions whose (first) conversation this is.
    engagement_rate : float
        P(ENGAGED | TRIGGERED).
    live_chat : bool
        Whether the conversation offers a live-chat card.
    team_routing : bool
        Whether its live-chat requests go to a Team (one more agent is tried after 100 s).
    pages : tuple of str
        Paths on :data:`SITE` where it fires.
    """

    id: str
    name: str
    type: str
    ui_type: str
    weight: float
    engagement_rate: float
    live_chat: bool
    team_routing: bool
    pages: tuple[str, ...]


@dataclass(frozen=True)
class PlantedChange:
    """A change planted in simulated data from a local date on (see the module notes).

    Attributes
    ----------
    start : str
        First local day (in the simulation's ``tz``) the change applies to, e.g. ``"2026-10-19"``.
    conversation : str, optional
        Name or id of the catalogue conversation whose engagement changes; ``None``: every conversation.
    engage_factor : float, default 1.0
        Multiplies P(ENGAGED | TRIGGERED) of conversations triggered from ``start`` on (capped at 1).
    ui_type_factor : dict, optional
        UI type -> factor multiplying the trigger weights of its conversations for sessions arriving
        from ``start`` on (``{"popup": 2.0}`` doubles the popups' weights, then the weights are
        normalised): traffic moves between UI types, every conversation keeps its rates.

    Examples
    --------
    >>> PlantedChange("2026-10-19", conversation="Pricing page dialogue", engage_factor=0.6).engage_factor
    0.6
    """

    start: str
    conversation: str | None = None
    engage_factor: float = 1.0
    ui_type_factor: dict[str, float] | None = None

    def __post_init__(self) -> None:
        try:
            day = pd.Timestamp(self.start)
        except (TypeError, ValueError):
            raise InvalidParameterError("start", self.start, reason="not a date") from None
        if pd.isna(day):
            raise InvalidParameterError("start", self.start, reason="not a date")
        names = [c.name for c in CONVERSATIONS] + [c.id for c in CONVERSATIONS]
        if self.conversation is not None and self.conversation not in names:
            raise InvalidParameterError("conversation", self.conversation, names)
        f = self.engage_factor
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not np.isfinite(f) or f < 0:
            raise InvalidParameterError("engage_factor", f, reason="a finite number >= 0")
        ui_types = sorted({c.ui_type for c in CONVERSATIONS})
        for ui, factor in (self.ui_type_factor or {}).items():
            if ui not in ui_types:
                raise InvalidParameterError("ui_type_factor", ui, ui_types)
            if (
                isinstance(factor, bool)
                or not isinstance(factor, (int, float))
                or not np.isfinite(factor)
                or factor <= 0
            ):
                raise InvalidParameterError("ui_type_factor", factor, reason=f"{ui}: a finite number > 0")


@dataclass(frozen=True)
class Shift:
    """Working hours in the business time zone: weekdays (0 = Monday) and local hours ``[start, end)``."""

    weekdays: tuple[int, ...]
    start_hour: int
    end_hour: int


@dataclass(frozen=True)
class Agent:
    """A synthetic live-chat agent (invented name) and the name of its shift in :data:`SHIFTS`."""

    id: str
    name: str
    shift: str


@dataclass(frozen=True)
class LogNormal:
    """A log-normal duration in seconds: ``median_seconds * exp(sigma * Z)``."""

    median_seconds: float
    sigma: float


#: Origin of every ``page_url`` (a reserved example domain).
SITE = "https://www.example.com"

#: The synthetic catalogue. Engagement is lowest on popups and highest on inline conversations.
CONVERSATIONS: tuple[Conversation, ...] = (
    Conversation(
        id="4471902",
        name="Pricing page dialogue",
        type="dialogue",
        ui_type="popup",
        weight=0.20,
        engagement_rate=0.30,
        live_chat=True,
        team_routing=False,
        pages=("/pricing",),
    ),
    Conversation(
        id="4471957",
        name="Homepage welcome dialogue",
        type="dialogue",
        ui_type="chatbot",
        weight=0.22,
        engagement_rate=0.34,
        live_chat=False,
        team_routing=False,
        pages=("/",),
    ),
    Conversation(
        id="4472310",
        name="Demo request dialogue",
        type="dialogue",
        ui_type="inline",
        weight=0.10,
        engagement_rate=0.46,
        live_chat=True,
        team_routing=True,
        pages=("/demo",),
    ),
    Conversation(
        id="cf-0b7e21a4",
        name="Product tour flow",
        type="conversational_flow",
        ui_type="chatbot",
        weight=0.14,
        engagement_rate=0.37,
        live_chat=True,
        team_routing=False,
        pages=("/products/dynamic-chat", "/products/analytics"),
    ),
    Conversation(
        id="cf-5d93a40c",
        name="Support triage flow",
        type="conversational_flow",
        ui_type="chatbot",
        weight=0.10,
        engagement_rate=0.42,
        live_chat=True,
        team_routing=True,
        pages=("/support", "/support/billing"),
    ),
    Conversation(
        id="4473088",
        name="Webinar signup dialogue",
        type="dialogue",
        ui_type="popup",
        weight=0.08,
        engagement_rate=0.26,
        live_chat=False,
        team_routing=False,
        pages=("/webinars",),
    ),
    Conversation(
        id="cf-9c1f07e2",
        name="Contact sales flow",
        type="conversational_flow",
        ui_type="inline",
        weight=0.08,
        engagement_rate=0.44,
        live_chat=True,
        team_routing=False,
        pages=("/contact",),
    ),
    Conversation(
        id="4473561",
        name="Blog newsletter dialogue",
        type="dialogue",
        ui_type="inline",
        weight=0.08,
        engagement_rate=0.33,
        live_chat=False,
        team_routing=False,
        pages=("/blog/chat-benchmarks-2026", "/blog/what-is-conversational-marketing"),
    ),
)

#: Query strings appended to a page with probability :data:`UTM_RATE`.
UTM_QUERIES: tuple[str, ...] = (
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand-q4",
    "?utm_source=linkedin&utm_medium=social&utm_campaign=webinar-oct",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=product-update",
)
UTM_RATE = 0.20

#: Agent shifts in the business time zone: early and late weekday shifts and a thin weekend shift.
SHIFTS: dict[str, Shift] = {
    "early": Shift((0, 1, 2, 3, 4), 7, 15),
    "late": Shift((0, 1, 2, 3, 4), 12, 20),
    "weekend": Shift((5, 6), 10, 18),
}

#: The 12 synthetic agents (ids of two styles, invented names).
AGENTS: tuple[Agent, ...] = (
    Agent("agent-1042", "Avery Lindqvist", "early"),
    Agent("agent-1057", "Jordan Okafor", "early"),
    Agent("318842", "Mina Castellanos", "early"),
    Agent("agent-1103", "Theo Marchetti", "early"),
    Agent("318907", "Priya Ramanathan", "early"),
    Agent("agent-1121", "Samir Haddad", "late"),
    Agent("agent-1138", "Lena Vogelsang", "late"),
    Agent("319015", "Noah Whitcombe", "late"),
    Agent("agent-1164", "Keiko Arakawa", "late"),
    Agent("319122", "Diego Fuentealba", "late"),
    Agent("agent-1190", "Ingrid Solheim", "weekend"),
    Agent("319240", "Tomas Brezina", "weekend"),
)

# --------------------------------------------------------------------------- arrivals and visitors

#: Relative session volume by local weekday, Monday first.
WEEKDAY_WEIGHTS: tuple[float, ...] = (1.0, 1.05, 1.05, 1.0, 0.85, 0.30, 0.25)
#: Relative session volume by local hour of day (peak 09-17).
HOURLY_WEIGHTS: tuple[float, ...] = (
    0.12, 0.08, 0.06, 0.05, 0.06, 0.10, 0.25, 0.55,  # 00-07
    1.00, 1.60, 1.90, 2.00, 1.80, 1.85, 1.95, 1.90,  # 08-15
    1.70, 1.20, 0.80, 0.60, 0.50, 0.40, 0.28, 0.18,  # 16-23
)  # fmt: skip
#: After each session the visitor comes back for another one with this probability.
RETURN_VISIT_RATE = 0.25
SECOND_CONVERSATION_RATE = 0.15
SECOND_CONVERSATION_GAP = LogNormal(240.0, 0.8)

# --------------------------------------------------------------------------- automated conversation

ENGAGE_DELAY = LogNormal(8.0, 0.9)
UNENGAGED_CLOSE_RATE = 0.25
UNENGAGED_CLOSE_DELAY = LogNormal(15.0, 1.0)
COMPLETION_RATE = 0.55
COMPLETE_DURATION = LogNormal(95.0, 0.6)
CLOSE_DURATION = LogNormal(40.0, 0.8)
EMAIL_INPUT_RATE = 0.30
PHONE_INPUT_RATE = 0.10
MEETING_BOOKED_RATE = 0.08
MEETING_DURATIONS_MINUTES: tuple[int, ...] = (15, 30, 45)
_MEETING_DURATION_WEIGHTS = (0.2, 0.6, 0.2)

# --------------------------------------------------------------------------- live chat

#: P(live-chat request | engaged) in conversations that offer live chat.
LIVE_CHAT_REQUEST_RATE = 0.12
ACCEPT_WINDOW_SECONDS = 100
ACCEPT_DELAY = LogNormal(25.0, 1.0)
PATIENCE = LogNormal(150.0, 1.0)
FALLBACK_DURATION = LogNormal(30.0, 0.7)
CHAT_DURATION = LogNormal(360.0, 0.7)
IDLE_CHAT_RATE = 0.10
INACTIVITY_TIMEOUT_SECONDS = 600
AGENT_CHAT_CAP = 10
MEETING_IN_CHAT_RATE = 0.15
EMAIL_IN_CHAT_SHARE = 0.5

# --------------------------------------------------------------------------- dirt

DUPLICATE_EVENT_RATE = 0.005
LOST_TRIGGER_RATE = 0.01
CLOCK_SKEW_SESSION_RATE = 0.02
#: Range of the absolute clock skew, in seconds (the sign is random).
CLOCK_SKEW_SECONDS: tuple[float, float] = (5.0, 300.0)

#: ``source_format`` of simulated events.
SOURCE_FORMAT = "simulated"

# event type codes (positions in schema.EVENT_TYPES)
(
    _TRIGGERED,
    _ENGAGED,
    _COMPLETED,
    _CLOSED,
    _INPUT_PHONE,
    _INPUT_EMAIL,
    _MEETING_BOOKED,
    _REQUESTED,
    _INITIATED,
    _ENDED,
    _TIMEOUT,
) = range(len(EVENT_TYPES))

_MS = 1000
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


# --------------------------------------------------------------------------- public entry point


def simulate_raw(
    n_sessions: int = 5000,
    *,
    seed: int = 0,
    start: str = "2026-10-05",
    days: int = 28,
    tz: str = "America/New_York",
    changes: Sequence[PlantedChange] = (),
) -> pd.DataFrame:
    """Simulate SYNTHETIC Dynamic Chat callback events, dirt included.

    See the module docstring for the model and the constants that drive it.

    Parameters
    ----------
    n_sessions : int
        Number of Dynamic Chat sessions (``sid``); each yields one or two conversations.
    seed : int
        Seed of the ``numpy.random.Generator``; the same arguments give the same frame.
    start : str
        First local day (``"2026-10-05"``); the span is ``days`` whole local days from it.
    days : int
        Number of days.
    tz : str
        Business time zone (IANA name) of the arrival profile and the agents' shifts.
    changes : sequence of PlantedChange, optional
        Changes planted from a local date on (see the module notes); none by default.

    Returns
    -------
    pandas.DataFrame
        Canonical events (passes :func:`chatanalytics.schema.validate_events`) sorted by
        ``event_time_utc`` (stable), times to the millisecond, ``source_format`` ``"simulated"``,
        ``time_granularity`` ``"exact"``, ``event_count`` 1 and ``event_id``, ``source_file``,
        ``source_record`` and ``analytics_session_id`` null. Duplicate deliveries, lost triggers and
        skewed client clocks are present (module constants give the rates); a session whose only event
        was a lost trigger leaves no row, so slightly fewer than ``n_sessions`` sessions appear. About
        2.4 events per session.

    Raises
    ------
    InvalidParameterError
        For a negative ``n_sessions``, ``days`` below 1, a negative ``seed``, an unreadable ``start`` or
        an unknown ``tz``.

    Examples
    --------
    >>> ev = simulate_raw(500, seed=1)
    >>> ev["source_format"].unique().tolist()
    ['simulated']
    >>> bool((ev["event_type"] == "CONVERSATION_TRIGGERED").any())
    True
    """
    return _simulate(n_sessions, seed=seed, start=start, days=days, tz=tz, dirt=True, changes=changes)


# --------------------------------------------------------------------------- implementation


def _simulate(
    n_sessions: int,
    *,
    seed: int = 0,
    start: str = "2026-10-05",
    days: int = 28,
    tz: str = "America/New_York",
    dirt: bool = True,
    changes: Sequence[PlantedChange] = (),
) -> pd.DataFrame:
    """:func:`simulate_raw`, with the dirt optional (``dirt=False`` gives the clean events of the seed)."""
    n_sessions, seed, start_day, days, tz = _check_params(n_sessions, seed, start, days, tz)
    changes = _check_changes(changes)
    rng, rng_dirt = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    n = n_sessions
    nconv = len(CONVERSATIONS)

    # ---- sessions: arrival instant (UTC ms) and visitor
    t_session = _arrivals(rng, n, start_day, days, tz)
    visitor = _visitors(rng, n)

    # ---- conversation instances (session x conversation)
    weights = _normalised([c.weight for c in CONVERSATIONS])
    if not changes:
        c1 = rng.choice(nconv, size=n, p=weights)
        second = np.flatnonzero(rng.random(n) < SECOND_CONVERSATION_RATE)
        c2 = rng.choice(nconv, size=len(second), p=weights)
        clash = c2 == c1[second]
        while clash.any():  # redraw until different: the conditional distribution given "not the first"
            c2[clash] = rng.choice(nconv, size=int(clash.sum()), p=weights)
            clash = c2 == c1[second]
    else:
        # per session, the cumulative trigger weights in force when it arrives (inverse-CDF draws)
        cdf = np.cumsum(_planted_weights(changes, t_session, start_day, tz), axis=1)
        cdf /= cdf[:, -1:]
        c1 = _draw_rows(cdf, rng.random(n))
        second = np.flatnonzero(rng.random(n) < SECOND_CONVERSATION_RATE)
        c2 = _draw_rows(cdf[second], rng.random(len(second)))
        clash = c2 == c1[second]
        while clash.any():
            rows = np.flatnonzero(clash)
            c2[rows] = _draw_rows(cdf[second[rows]], rng.random(len(rows)))
            clash = c2 == c1[second]
    inst_sess = np.concatenate([np.arange(n), second])
    inst_conv = np.concatenate([c1, c2])
    t0 = np.concatenate([t_session, t_session[second] + _draw_ms(rng, SECOND_CONVERSATION_GAP, len(second))])
    m = len(inst_sess)
    inst_page = _pages(rng, inst_conv)

    # ---- automated part
    engagement = np.array([c.engagement_rate for c in CONVERSATIONS])
    offers_live = np.array([c.live_chat for c in CONVERSATIONS])
    team = np.array([c.team_routing for c in CONVERSATIONS])
    p_engage = engagement[inst_conv]
    if changes:
        p_engage = p_engage * _planted_engagement(changes, inst_conv, t0, start_day, tz)
    engaged = rng.random(m) < np.minimum(p_engage, 1.0)
    t_eng = t0 + _draw_ms(rng, ENGAGE_DELAY, m)
    completes = rng.random(m) < COMPLETION_RATE
    bot_len = np.where(completes, _draw_ms(rng, COMPLETE_DURATION, m), _draw_ms(rng, CLOSE_DURATION, m))
    t_end = t_eng + bot_len
    email = engaged & (rng.random(m) < EMAIL_INPUT_RATE)
    phone = engaged & (rng.random(m) < PHONE_INPUT_RATE)
    meeting = engaged & (rng.random(m) < MEETING_BOOKED_RATE)
    live = engaged & offers_live[inst_conv] & (rng.random(m) < LIVE_CHAT_REQUEST_RATE)
    t_req = t_eng + np.maximum(1, np.round(rng.uniform(0.3, 0.9, m) * bot_len).astype(np.int64))
    t_stop = np.where(live, t_req, t_end)  # the automated part ends at the request
    closes_unengaged = ~engaged & (rng.random(m) < UNENGAGED_CLOSE_RATE)
    t_close_unengaged = t0 + _draw_ms(rng, UNENGAGED_CLOSE_DELAY, m)
    calendar_agent = rng.integers(0, len(AGENTS), m)
    u_phone, u_email, u_meet = rng.random(m), rng.random(m), rng.random(m)

    # ---- live chat
    req = np.flatnonzero(live)
    treq = t_req[req]
    routing = _route_requests(
        treq,
        team[inst_conv[req]],
        _on_shift(treq, tz),
        _on_shift(treq + ACCEPT_WINDOW_SECONDS * _MS, tz),
        rng,
    )
    accepted = np.zeros(m, dtype=bool)
    accepted[req] = routing.accepted
    chat_meeting = np.zeros(m, dtype=bool)
    chat_meeting[req] = routing.accepted & (rng.random(len(req)) < MEETING_IN_CHAT_RATE)
    email_in_chat = np.zeros(m, dtype=bool)
    email_in_chat[req] = routing.accepted & (rng.random(len(req)) < EMAIL_IN_CHAT_SHARE)
    t_acc = np.zeros(m, dtype=np.int64)
    t_acc[req] = routing.t_accept
    chat_len = np.zeros(m, dtype=np.int64)
    chat_len[req] = routing.duration
    chat_agent = np.full(m, -1)
    chat_agent[req] = routing.agent
    fallback = _draw_ms(rng, FALLBACK_DURATION, len(req))
    meeting_minutes = rng.choice(MEETING_DURATIONS_MINUTES, size=m, p=_normalised(_MEETING_DURATION_WEIGHTS))
    meeting_day = rng.integers(1, 8, m)
    meeting_slot = rng.integers(0, 16, m)  # half hours from 09:00 local

    # ---- events, block by block (block order settles ties at the same millisecond)
    ev = _EventBuilder()
    ev.add(np.arange(m), _TRIGGERED, t0)
    i = np.flatnonzero(closes_unengaged)
    ev.add(i, _CLOSED, t_close_unengaged[i])
    i = np.flatnonzero(engaged)
    ev.add(i, _ENGAGED, t_eng[i])
    i = np.flatnonzero(phone)
    ev.add(i, _INPUT_PHONE, _between(t_eng[i], t_stop[i], u_phone[i]))
    i = np.flatnonzero(email)
    in_chat = email_in_chat[i]
    ev.add(
        i,
        _INPUT_EMAIL,
        np.where(
            in_chat,
            _between(t_acc[i], t_acc[i] + chat_len[i], u_email[i]),
            _between(t_eng[i], t_stop[i], u_email[i]),
        ),
    )
    bot_meeting = meeting & ~accepted
    i = np.flatnonzero(bot_meeting | chat_meeting)
    in_chat = chat_meeting[i]
    ev.add(
        i,
        _MEETING_BOOKED,
        np.where(
            in_chat,
            _between(t_acc[i], t_acc[i] + chat_len[i], u_meet[i]),
            _between(t_eng[i], t_stop[i], u_meet[i]),
        ),
        agent=np.where(in_chat, chat_agent[i], calendar_agent[i]),
        meeting=True,
    )
    # automated end of conversations without a live-chat request
    i = np.flatnonzero(engaged & ~live)
    ev.add(i, np.where(completes[i], _COMPLETED, _CLOSED), t_end[i])
    # live-chat events
    r = routing
    ev.add(req, _REQUESTED, treq, agent=r.agent1)
    k = np.flatnonzero(r.second)
    ev.add(req[k], _REQUESTED, treq[k] + ACCEPT_WINDOW_SECONDS * _MS, agent=r.agent2[k])
    k = np.flatnonzero(r.accepted)
    ev.add(req[k], _INITIATED, r.t_accept[k], agent=r.agent[k])
    k = np.flatnonzero(r.accepted & ~r.idle)
    ev.add(req[k], _ENDED, r.t_release[k], agent=r.agent[k])
    k = np.flatnonzero(r.accepted & r.idle)
    ev.add(req[k], _TIMEOUT, r.t_release[k], agent=r.agent[k])
    k = np.flatnonzero(r.missed)
    ev.add(req[k], _TIMEOUT, r.t_timeout[k], agent=r.timeout_agent[k])
    k = np.flatnonzero(r.gave_up)
    ev.add(req[k], _CLOSED, treq[k] + r.patience[k])
    k = np.flatnonzero(r.missed)
    ev.add(req[k], np.where(completes[req[k]], _COMPLETED, _CLOSED), r.t_timeout[k] + fallback[k])

    e_inst, e_type, e_time, e_agent, e_meet = ev.build()
    booked = np.flatnonzero(e_meet >= 0)
    booked = booked[np.argsort(e_meet[booked])]  # in meeting-number order
    b_inst = e_inst[booked]
    meeting_info = _meeting_info(
        rng, e_time[booked], meeting_minutes[b_inst], meeting_day[b_inst], meeting_slot[b_inst], tz
    )

    # ---- dirt (separate stream)
    if dirt:
        e_sess = inst_sess[e_inst]
        skewed = rng_dirt.random(n) < CLOCK_SKEW_SESSION_RATE
        lo, hi = CLOCK_SKEW_SECONDS
        size = np.round(rng_dirt.uniform(lo * _MS, hi * _MS, n)).astype(np.int64)
        sign = np.where(rng_dirt.random(n) < 0.5, -1, 1)
        e_time = e_time + np.where(skewed, sign * size, 0)[e_sess]
        lost = rng_dirt.random(m) < LOST_TRIGGER_RATE
        keep = ~((e_type == _TRIGGERED) & lost[e_inst])
        e_inst, e_type, e_time, e_agent, e_meet = (a[keep] for a in (e_inst, e_type, e_time, e_agent, e_meet))
        dup = np.flatnonzero(rng_dirt.random(len(e_inst)) < DUPLICATE_EVENT_RATE)
        e_inst, e_type, e_time, e_agent, e_meet = (
            np.concatenate([a, a[dup]]) for a in (e_inst, e_type, e_time, e_agent, e_meet)
        )

    order = np.argsort(e_time, kind="stable")
    e_inst, e_type, e_time, e_agent, e_meet = (a[order] for a in (e_inst, e_type, e_time, e_agent, e_meet))
    return _frame(
        e_inst=e_inst,
        e_type=e_type,
        e_time=e_time,
        e_agent=e_agent,
        e_meet=e_meet,
        inst_sess=inst_sess,
        inst_conv=inst_conv,
        inst_page=inst_page,
        visitor=visitor,
        meeting_info=meeting_info,
        rng=rng,
    )


def _check_params(n_sessions: Any, seed: Any, start: Any, days: Any, tz: Any) -> tuple:
    def _int(name: str, value: Any, low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidParameterError(name, value, reason=f"expected an integer >= {low}")
        return int(value)

    n_sessions = _int("n_sessions", n_sessions, 0)
    seed = _int("seed", seed, 0)
    days = _int("days", days, 1)
    try:
        pd.Timestamp(0, tz=tz)
    except Exception as exc:
        raise InvalidParameterError("tz", tz, reason="not a known time zone (an IANA name)") from exc
    try:
        day = pd.Timestamp(start)
    except Exception as exc:
        raise InvalidParameterError("start", start, reason="not a date") from exc
    if pd.isna(day):
        raise InvalidParameterError("start", start, reason="not a date")
    if day.tzinfo is not None:
        day = day.tz_convert(tz).tz_localize(None)
    return n_sessions, seed, day.normalize(), days, tz


def _check_changes(changes: Any) -> tuple[PlantedChange, ...]:
    if changes is None:
        return ()
    if isinstance(changes, PlantedChange):
        changes = (changes,)
    out = tuple(changes)
    for c in out:
        if not isinstance(c, PlantedChange):
            raise InvalidParameterError("changes", c, reason="give PlantedChange objects")
    return out


def _local_start_ms(day: str, start_day: pd.Timestamp, tz: str) -> int:
    """UTC milliseconds of local midnight of ``day`` in ``tz`` (DST gaps move forward)."""
    local = pd.Timestamp(day)
    local = local.tz_convert(tz).tz_localize(None) if local.tzinfo is not None else local
    utc = local.normalize().tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
    return int(utc.value // 1_000_000)  # Timestamp.value is in nanoseconds


def _planted_weights(
    changes: tuple[PlantedChange, ...], t_session: np.ndarray, start_day: pd.Timestamp, tz: str
) -> np.ndarray:
    """(sessions, conversations): trigger weights in force at each session's arrival."""
    base = np.array([c.weight for c in CONVERSATIONS], dtype=float)
    out = np.broadcast_to(base, (len(t_session), len(base))).copy()
    ui = np.array([c.ui_type for c in CONVERSATIONS])
    for change in changes:  # over planted changes, not rows
        after = t_session >= _local_start_ms(change.start, start_day, tz)
        for ui_type, factor in (change.ui_type_factor or {}).items():
            out[np.ix_(after, ui == ui_type)] *= factor
    return out


def _planted_engagement(
    changes: tuple[PlantedChange, ...], conv: np.ndarray, t0: np.ndarray, start_day: pd.Timestamp, tz: str
) -> np.ndarray:
    """Per conversation instance, the factor on its engagement probability."""
    out = np.ones(len(conv))
    for change in changes:  # over planted changes, not rows
        if change.engage_factor == 1.0:
            continue
        hit = t0 >= _local_start_ms(change.start, start_day, tz)
        if change.conversation is not None:
            which = [i for i, c in enumerate(CONVERSATIONS) if change.conversation in (c.name, c.id)]
            hit &= np.isin(conv, which)
        out[hit] *= change.engage_factor
    return out


def _draw_rows(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row, the category whose cumulative weight first exceeds the uniform ``u`` (inverse CDF)."""
    return np.minimum((cdf <= u[:, None]).sum(axis=1), cdf.shape[1] - 1).astype(np.int64)


def _normalised(w: Any) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w / w.sum()


def _draw_ms(rng: np.random.Generator, dist: LogNormal, size: int) -> np.ndarray:
    """Log-normal durations in whole milliseconds, at least 1 ms."""
    x = dist.median_seconds * _MS * np.exp(dist.sigma * rng.standard_normal(size))
    return np.maximum(1, np.round(x)).astype(np.int64)


def _between(lo: np.ndarray, hi: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A millisecond strictly inside ``(lo, hi)`` where there is one, at fraction ``u`` of the way."""
    span = hi - lo
    inner = np.clip(np.round(u * span).astype(np.int64), 1, np.maximum(span - 1, 1))
    return lo + inner


def _arrivals(rng: np.random.Generator, n: int, start_day: pd.Timestamp, days: int, tz: str) -> np.ndarray:
    """Session instants in UTC milliseconds from the local day and hour profiles."""
    dow = (start_day.day_of_week + np.arange(days)) % 7
    day = rng.choice(days, size=n, p=_normalised(np.asarray(WEEKDAY_WEIGHTS)[dow]))
    hour = rng.choice(24, size=n, p=_normalised(HOURLY_WEIGHTS))
    within = rng.integers(0, 3_600_000, n)
    base = (start_day - pd.Timestamp(0)) // pd.Timedelta(1, "ms")  # naive local midnight, as if UTC
    local_ms = base + day * 86_400_000 + hour * 3_600_000 + within
    ambiguous = rng.random(n) < 0.5  # in a repeated hour, either offset
    local = pd.DatetimeIndex(local_ms.astype("datetime64[ms]"))
    utc = local.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward")
    return utc.as_unit("ms").asi8.astype(np.int64)


def _visitors(rng: np.random.Generator, n: int) -> np.ndarray:
    """Visitor number of each session; visitors have geometric numbers of sessions."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    per_visitor = rng.geometric(1.0 - RETURN_VISIT_RATE, size=n)
    nv = int(np.searchsorted(np.cumsum(per_visitor), n)) + 1
    visitor = np.repeat(np.arange(nv), per_visitor[:nv])[:n]
    return rng.permutation(visitor)


def _page_catalogue() -> tuple[list[str], np.ndarray, np.ndarray]:
    """All page URLs (each path bare and with every UTM query) and, per conversation, its first path."""
    paths: list[str] = []
    first = []
    count = []
    for c in CONVERSATIONS:
        first.append(len(paths))
        count.append(len(c.pages))
        paths.extend(c.pages)
    urls = [SITE + p + q for p in paths for q in ("", *UTM_QUERIES)]
    return urls, np.array(first), np.array(count)


def _pages(rng: np.random.Generator, conv: np.ndarray) -> np.ndarray:
    """Index into the page catalogue for each conversation instance."""
    _, first, count = _page_catalogue()
    m = len(conv)
    path = first[conv] + np.floor(rng.random(m) * count[conv]).astype(np.int64)
    utm = np.where(rng.random(m) < UTM_RATE, 1 + rng.integers(0, len(UTM_QUERIES), m), 0)
    return path * (1 + len(UTM_QUERIES)) + utm


def _shift_table() -> np.ndarray:
    """Boolean (168, n_agents): is agent ``a`` on shift in local weekday-hour slot ``dow * 24 + hour``."""
    table = np.zeros((7 * 24, len(AGENTS)), dtype=bool)
    for a, agent in enumerate(AGENTS):
        shift = SHIFTS[agent.shift]
        for d in shift.weekdays:
            table[d * 24 + shift.start_hour : d * 24 + shift.end_hour, a] = True
    return table


def _on_shift(t_ms: np.ndarray, tz: str) -> np.ndarray:
    """Boolean (len(t_ms), n_agents): agents on shift at each UTC instant."""
    local = pd.DatetimeIndex(np.asarray(t_ms, dtype=np.int64).astype("datetime64[ms]")).tz_localize("UTC")
    local = local.tz_convert(tz)
    slot = np.asarray(local.day_of_week) * 24 + np.asarray(local.hour)
    return _shift_table()[slot]


class _Routing(NamedTuple):
    """Outcome of each live-chat request (arrays aligned with the requests; agent -1 = none)."""

    agent1: np.ndarray  # agent of the first REQUESTED
    second: np.ndarray  # a second REQUESTED at +100 s (team routing)
    agent2: np.ndarray  # its agent
    accepted: np.ndarray
    agent: np.ndarray  # agent who accepted
    t_accept: np.ndarray
    duration: np.ndarray  # active chat length, ms
    idle: np.ndarray  # ends by inactivity timeout
    t_release: np.ndarray  # ENDED or idle-timeout instant: the chat holds its agent until then
    gave_up: np.ndarray  # visitor closed while waiting
    patience: np.ndarray  # ms
    missed: np.ndarray  # REQUEST_TIMEOUT without an accept
    t_timeout: np.ndarray
    timeout_agent: np.ndarray
    iterations: int  # rounds of the concurrency fix


def _pick(eligible: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Per row, the eligible column with the smallest priority, or -1 if none is eligible."""
    key = np.where(eligible, priority, np.inf)
    j = np.argmin(key, axis=1)
    return np.where(eligible.any(axis=1), j, -1)


def _route_requests(
    t_req: np.ndarray,
    team: np.ndarray,
    on_shift_first: np.ndarray,
    on_shift_second: np.ndarray,
    rng: np.random.Generator,
    *,
    cap: int = AGENT_CHAT_CAP,
    max_iterations: int = 100_000,
) -> _Routing:
    """Route live-chat requests to agents and play out accept, give-up, timeout and chat length.

    ``on_shift_first`` / ``on_shift_second`` are boolean (n_requests, n_agents) matrices of the agents
    on shift at the request and 100 s later. Each request has a random order over the agents (round
    robin without memory); it goes to the first agent on shift. An accept that would give its agent
    more than ``cap`` concurrent chats (given the chats accepted before it) is moved to the next agent in
    its order that is on shift and has room at that instant, or left without an agent when none has;
    the loop repeats until no agent exceeds the cap. A request never returns to an agent it was moved
    away from, so the loop ends.
    """
    n, n_agents = on_shift_first.shape
    window = ACCEPT_WINDOW_SECONDS * _MS
    a1 = _draw_ms(rng, ACCEPT_DELAY, n)
    a2 = _draw_ms(rng, ACCEPT_DELAY, n)
    patience = _draw_ms(rng, PATIENCE, n)
    duration = _draw_ms(rng, CHAT_DURATION, n)
    idle = rng.random(n) < IDLE_CHAT_RATE
    priority = rng.random((n, n_agents))
    hold = duration + np.where(idle, INACTIVITY_TIMEOUT_SECONDS * _MS, 0)
    excluded1 = np.zeros((n, n_agents), dtype=bool)  # agents a request was moved away from
    excluded2 = np.zeros((n, n_agents), dtype=bool)

    def second_choice(rows: np.ndarray) -> np.ndarray:
        """Agent of the second attempt: on shift 100 s later, not moved away from, not the first agent."""
        eligible = on_shift_second[rows] & ~excluded2[rows]
        has_first = np.flatnonzero(g1[rows] >= 0)
        eligible[has_first, g1[rows][has_first]] = False
        return _pick(eligible, priority[rows])

    def state(rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """Outcome of the given requests under the current assignment (g1, g2)."""
        r1, r2 = g1[rows], g2[rows]
        acc1 = (r1 >= 0) & (a1[rows] < window) & (a1[rows] < patience[rows])
        gave1 = ~acc1 & (patience[rows] < window)
        second = team[rows] & (r1 >= 0) & ~acc1 & ~gave1 & (r2 >= 0)
        acc2 = second & (a2[rows] < window) & (window + a2[rows] < patience[rows])
        agent = np.where(acc1, r1, np.where(acc2, r2, -1))
        t_accept = t_req[rows] + np.where(acc1, a1[rows], window + a2[rows])
        return acc1, gave1, second, acc2, agent, t_accept, t_accept + hold[rows]

    g1 = _pick(on_shift_first, priority)
    g2 = second_choice(np.arange(n))
    # Requests whose possible chat intervals do not overlap in time never compete for an agent: after
    # the first round only the time-connected groups that still had a violation are looked at again.
    group = _time_groups(t_req, t_req + 2 * window + hold)
    rows = np.arange(n)
    iterations = 0
    while len(rows):
        iterations += 1
        acc1, _, _, acc2, agent, t_accept, t_release = state(rows)
        acc = np.flatnonzero(acc1 | acc2)
        bad_local = acc[_cap_violations(agent[acc], t_accept[acc], t_release[acc], cap)]
        if len(bad_local) == 0:
            break
        if iterations >= max_iterations:  # pragma: no cover - the loop always converges
            raise RuntimeError("live-chat routing did not converge")
        # move each violator to the first agent (in its own random order) with room at its accept time
        staying = acc1 | acc2
        staying[bad_local] = False
        room = _room(
            agent[staying], t_accept[staying], t_release[staying], t_accept[bad_local], n_agents, cap
        )
        first = acc1[bad_local]
        bad = rows[bad_local]
        b1, b2 = bad[first], bad[~first]
        excluded1[b1, g1[b1]] = True
        g1[b1] = _pick(on_shift_first[b1] & ~excluded1[b1] & room[first], priority[b1])
        g2[b1] = second_choice(b1)
        excluded2[b2, g2[b2]] = True
        eligible = on_shift_second[b2] & ~excluded2[b2] & room[~first]
        eligible[np.arange(len(b2)), g1[b2]] = False
        g2[b2] = _pick(eligible, priority[b2])
        rows = np.flatnonzero(np.isin(group, group[bad]))

    acc1, gave1, second, acc2, agent, t_accept, t_release = state(np.arange(n))
    accepted = acc1 | acc2
    gave2 = second & ~acc2 & (patience < 2 * window)
    gave_up = gave1 | gave2
    missed = ~accepted & ~gave_up
    return _Routing(
        agent1=g1,
        second=second,
        agent2=g2,
        accepted=accepted,
        agent=agent,
        t_accept=np.where(accepted, t_accept, 0),
        duration=np.where(accepted, duration, 0),
        idle=accepted & idle,
        t_release=np.where(accepted, t_release, 0),
        gave_up=gave_up,
        patience=patience,
        missed=missed,
        t_timeout=t_req + np.where(second, 2 * window, window),
        timeout_agent=np.where(second, g2, g1),
        iterations=iterations,
    )


def _time_groups(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Label of the time-connected group of each interval (overlapping intervals share a label)."""
    if len(start) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(start, kind="stable")
    reach = np.maximum.accumulate(end[order])
    new = np.ones(len(start), dtype=bool)
    new[1:] = start[order][1:] >= reach[:-1]
    out = np.empty(len(start), dtype=np.int64)
    out[order] = np.cumsum(new)
    return out


def _room(
    agent: np.ndarray, start: np.ndarray, end: np.ndarray, at: np.ndarray, n_agents: int, cap: int
) -> np.ndarray:
    """Boolean (len(at), n_agents): the agent holds fewer than ``cap`` of the given chats at each instant."""
    out = np.zeros((len(at), n_agents), dtype=bool)
    for a in range(n_agents):  # over agents, not rows
        mine = agent == a
        s = np.sort(start[mine])
        e = np.sort(end[mine])
        active = np.searchsorted(s, at, side="right") - np.searchsorted(e, at, side="right")
        out[:, a] = active < cap
    return out


def _concurrency(agent: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Chats each agent holds at each chat's start, counting that chat; intervals are ``[start, end)``."""
    n = len(agent)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ag = np.concatenate([agent, agent]).astype(np.int64)
    tt = np.concatenate([start, end]).astype(np.int64)
    is_start = np.concatenate([np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)])
    # one int64 key ordering by agent, then time, then ends before starts (a chat ending at t frees its
    # slot for one starting at t); time spans below 2**42 ms (139 years) and agents below 2**20 fit
    key = (ag << 43) | ((tt - tt.min()) << 1) | is_start
    order = np.argsort(key)
    level = np.cumsum(np.where(is_start[order] == 1, 1, -1))  # per agent it returns to 0
    out = np.empty(2 * n, dtype=np.int64)
    out[order] = level
    return out[:n]


def _cap_violations(agent: np.ndarray, start: np.ndarray, end: np.ndarray, cap: int) -> np.ndarray:
    """Chats to move off their agent this round: over the cap even if earlier movers are moved too."""
    count = _concurrency(agent, start, end)
    over = np.flatnonzero(count > cap)
    out = np.zeros(len(agent), dtype=bool)
    if len(over) == 0:
        return out
    earlier_over = _concurrency(agent[over], start[over], end[over]) - 1
    out[over[count[over] - earlier_over > cap]] = True
    return out


class _EventBuilder:
    """Collects blocks of events as parallel arrays (instance, type, time, agent, meeting number)."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, ...]] = []
        self.n_meetings = 0

    def add(
        self,
        inst: np.ndarray,
        etype: int | np.ndarray,
        time: np.ndarray,
        *,
        agent: np.ndarray | None = None,
        meeting: bool = False,
    ) -> None:
        k = len(inst)
        etype_arr = np.broadcast_to(np.asarray(etype, dtype=np.int8), (k,))
        agent_arr = np.full(k, -1, dtype=np.int64) if agent is None else np.asarray(agent, dtype=np.int64)
        if meeting:
            meet = np.arange(self.n_meetings, self.n_meetings + k, dtype=np.int64)
            self.n_meetings += k
        else:
            meet = np.full(k, -1, dtype=np.int64)
        self.blocks.append(
            (np.asarray(inst, dtype=np.int64), etype_arr, np.asarray(time, np.int64), agent_arr, meet)
        )

    def build(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate([b[j] for b in self.blocks]) for j in range(5))


def _hex_strings(prefix: str, values: np.ndarray, width: int = 16) -> pa.Array:
    """``prefix`` + the low ``width`` hex digits of each uint64, built as one fixed-width byte matrix."""
    n = len(values)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    size = len(head) + width
    mat = np.empty((n, size), dtype=np.uint8)
    mat[:, : len(head)] = head
    v = values.astype(np.uint64)
    for j in range(width):  # over digit positions, not rows
        shift = np.uint64(4 * (width - 1 - j))
        mat[:, len(head) + j] = _HEX[((v >> shift) & np.uint64(15)).astype(np.intp)]
    offsets = np.arange(n + 1, dtype=np.int64) * size
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat.tobytes()))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64 (distinct inputs give distinct ids)."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _ids(rng: np.random.Generator, prefix: str, n: int) -> pa.Array:
    """``n`` distinct random-looking ids."""
    key = np.uint64(rng.integers(0, 2**63))
    return _hex_strings(prefix, _mix64(np.arange(n, dtype=np.uint64) ^ key))


def _meeting_info(
    rng: np.random.Generator,
    booked_ms: np.ndarray,
    minutes: np.ndarray,
    days_ahead: np.ndarray,
    slot: np.ndarray,
    tz: str,
) -> pa.Array:
    """``{"meetingId", "startTime", "durationMinutes"}`` JSON text for each meeting, in meeting order."""
    k = len(booked_ms)
    ids = _ids(rng, "mtg-", k)
    local = pd.DatetimeIndex(booked_ms.astype("datetime64[ms]")).tz_localize("UTC").tz_convert(tz)
    day = local.tz_localize(None).normalize() + pd.to_timedelta(days_ahead, unit="D")
    dow = np.asarray(day.day_of_week)
    day = day + pd.to_timedelta(np.where(dow >= 5, 7 - dow, 0), unit="D")  # weekend -> Monday
    when = day + pd.to_timedelta(9 * 60 + 30 * slot, unit="min")
    utc = when.tz_localize(tz, ambiguous=np.zeros(k, dtype=bool), nonexistent="shift_forward").tz_convert(
        "UTC"
    )
    stamps = pa.array(utc.as_unit("s").tz_localize(None).asi8, type=pa.int64()).cast(pa.timestamp("s"))
    start = pc.strftime(stamps, format="%Y-%m-%dT%H:%M:%SZ")
    dur = pa.array(minutes.astype(np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(
        '{"meetingId":"',
        ids.cast(pa.string()),
        '","startTime":"',
        start,
        '","durationMinutes":',
        dur,
        "}",
        "",
    )


def _take_strings(dictionary: pa.Array, codes: np.ndarray) -> pd.Series:
    """A STRING series of ``dictionary[codes]``, null where the code is -1."""
    codes = np.asarray(codes, dtype=np.int64)
    missing = codes < 0
    idx = pa.array(codes, mask=missing) if missing.any() else pa.array(codes)
    return pd.Series(pd.array(dictionary.take(idx), dtype=STRING))


def _null_strings(n: int) -> pd.Series:
    return pd.Series(pd.array(pa.nulls(n, pa.large_string()), dtype=STRING))


def _frame(
    *,
    e_inst: np.ndarray,
    e_type: np.ndarray,
    e_time: np.ndarray,
    e_agent: np.ndarray,
    e_meet: np.ndarray,
    inst_sess: np.ndarray,
    inst_conv: np.ndarray,
    inst_page: np.ndarray,
    visitor: np.ndarray,
    meeting_info: pa.Array,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Assemble the canonical frame from the per-event index arrays."""
    n_events = len(e_inst)
    n_sessions = len(visitor)
    sid = _ids(rng, "", n_sessions)
    n_visitors = int(visitor.max()) + 1 if n_sessions else 0
    vid = _ids(rng, "v-", n_visitors)
    e_sess = inst_sess[e_inst]
    e_conv = inst_conv[e_inst]
    conv = {
        field: pa.array([getattr(c, field) for c in CONVERSATIONS], type=pa.large_string())
        for field in ("id", "name", "type", "ui_type")
    }
    urls, _, _ = _page_catalogue()
    time_us = (e_time * _MS).astype("datetime64[us]")
    data = {
        "event_time_utc": pd.Series(pd.DatetimeIndex(time_us).tz_localize("UTC"), dtype=TIME_DTYPE),
        "event_type": pd.Series(pd.Categorical.from_codes(e_type, dtype=EVENT_TYPE_DTYPE)),
        "session_id": _take_strings(sid, e_sess),
        "conversation_id": _take_strings(conv["id"], e_conv),
        "conversation_name": _take_strings(conv["name"], e_conv),
        "conversation_type": _take_strings(conv["type"], e_conv),
        "ui_type": _take_strings(conv["ui_type"], e_conv),
        "agent_id": _take_strings(pa.array([a.id for a in AGENTS], type=pa.large_string()), e_agent),
        "agent_name": _take_strings(pa.array([a.name for a in AGENTS], type=pa.large_string()), e_agent),
        "meeting_info": _take_strings(meeting_info, e_meet),
        "visitor_id": _take_strings(vid, visitor[e_sess]),
        "page_url": _take_strings(pa.array(urls, type=pa.large_string()), inst_page[e_inst]),
        "analytics_session_id": _null_strings(n_events),
        "event_id": _null_strings(n_events),
        "event_count": pd.Series(pd.array(np.ones(n_events, dtype=np.int64), dtype=pd.Int64Dtype())),
        "time_granularity": pd.Series(
            pd.Categorical.from_codes(np.zeros(n_events, dtype=np.int8), dtype=TIME_GRANULARITY_DTYPE)
        ),
        "source_format": pd.Series(
            pd.Categorical.from_codes(np.zeros(n_events, dtype=np.int8), categories=[SOURCE_FORMAT])
        ),
        "source_file": _null_strings(n_events),
        "source_record": pd.Series(
            pd.arrays.IntegerArray(np.zeros(n_events, dtype=np.int64), np.ones(n_events, dtype=bool))
        ),
    }
    frame = pd.DataFrame(data, columns=list(COLUMNS))
    return validate_events(frame)
