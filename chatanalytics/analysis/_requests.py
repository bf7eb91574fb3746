"""Live-chat requests rebuilt from the callback events: who was offered each request, what became of it.

Shared by the agent-performance and timeout analyses. The per-event work (ordering each conversation's
events, cutting them into requests, pairing each request and each offer with its outcome) is one Ibis
expression; what comes back is one row per request and one row per offer.

Rules (Adobe's live-chat rules are in the project's ``dynamic-chat.md`` section 2.4)
------------------------------------------------------------------------------------
* Events are read per conversation in a session (``session_id`` + ``conversation_id``), ordered by time;
  events at the same instant are taken in lifecycle order: ``LIVE_CHAT_REQUESTED``, ``LIVE_CHAT_INITIATED``,
  email / phone input and meeting booked, ``LIVE_CHAT_ENDED`` and ``LIVE_CHAT_REQUEST_TIMEOUT``, then
  ``CLOSED`` and ``COMPLETED`` (then by event type and agent id), so row order never matters.
* A ``LIVE_CHAT_REQUESTED`` starts a new request unless the conversation's previous lifecycle event is also
  a ``LIVE_CHAT_REQUESTED``: then it is a second offer within the same request (Team routing tries one
  more agent when the first does not accept within the 100-second window, and no timeout fires between).
* The first lifecycle event after a request's offers decides its outcome: ``LIVE_CHAT_INITIATED``:
  **accepted** (by that event's agent); ``LIVE_CHAT_REQUEST_TIMEOUT``: **missed** (no agent accepted in
  time); ``CLOSED`` or ``COMPLETED``: **left** (the visitor left while waiting); nothing: **open** at the
  end of the data. A ``LIVE_CHAT_ENDED`` there means the accept was not recorded: the request counts as
  accepted with an unknown accept time and is reported as an anomaly.
* Each offer's outcome is the next lifecycle event after it: the accept (**accepted**), another offer or
  a timeout (**missed**), the visitor leaving (**left**) or nothing (**open**). The offered agent is
  credited with it.
* After an accept, the chat ends at the first ``LIVE_CHAT_ENDED`` (**ended**), ``LIVE_CHAT_REQUEST_TIMEOUT``
  (**idle_timeout**: neither side was active for 10 minutes), ``CLOSED`` or ``COMPLETED`` (**closed**). A
  chat with none of them has an **unobserved** end: by Adobe's idle rule it was over at most 10 minutes
  after the conversation's last recorded event, so for agent load it is taken to end then (or at the end
  of the data, if sooner); it has no handle time.
* Email, phone and meeting events between the accept and the chat's end happened in the chat.

Sequences that break these rules are counted in :func:`anomalies`, never dropped: two accepts in one
request, an accept after the request's outcome, a chat ended with no accept, an accept by an agent
other than the one offered, and live-chat events with no request before them in their conversation or
without a session or conversation id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..columns import ACCEPT_WINDOW_SECONDS, AGENT_CHAT_CAP, IDLE_TIMEOUT_SECONDS
from ..errors import EmptyDataError
from ._engine import as_table, frame_arrow, query_arrow, reused

__all__ = [
    "ACCEPT_WINDOW_SECONDS",
    "AGENT_CHAT_CAP",
    "IDLE_TIMEOUT_SECONDS",
    "OFFER_OUTCOMES",
    "REQUEST_OUTCOMES",
    "Requests",
    "concurrency_points",
    "rebuild_requests",
]

REQUEST_OUTCOMES: tuple[str, ...] = ("accepted", "missed", "left", "open")
OFFER_OUTCOMES: tuple[str, ...] = ("accepted", "missed", "left", "open")
CHAT_ENDS: tuple[str, ...] = ("ended", "idle_timeout", "closed", "unobserved")

#: Glossary entries (term, definition) of a request and its first outcomes, for the ``DEFINITIONS`` of
#: the results built on these requests (agent performance, timeouts).
REQUEST_TERMS: tuple[tuple[str, str], ...] = (
    (
        "Request",
        "A live-chat request: the LIVE_CHAT_REQUESTED events of a conversation in a session up to its "
        "outcome; each is an offer to the agent it names, and a second one before any outcome is Team "
        "routing's retry.",
    ),
    ("Accepted", "LIVE_CHAT_INITIATED by the offered agent."),
    (
        "Missed",
        "No agent accepted within Adobe's 100-second window (LIVE_CHAT_REQUEST_TIMEOUT), after Team "
        "routing's second agent when there is one.",
    ),
)
#: The glossary entry of an accepted chat's idle timeout.
IDLE_TIMEOUT_TERM: tuple[str, str] = (
    "Idle timeout",
    "An accepted chat ended by the 10-minute idle LIVE_CHAT_REQUEST_TIMEOUT.",
)

_T = "event_time_utc"
_REQ = "CONVERSATION_LIVE_CHAT_REQUESTED"
_INIT = "CONVERSATION_LIVE_CHAT_INITIATED"
_ENDED = "CONVERSATION_LIVE_CHAT_ENDED"
_TIMEOUT = "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"
_CLOSED = "CONVERSATION_CLOSED"
_COMPLETED = "CONVERSATION_COMPLETED"
_EMAIL = "CONVERSATION_INPUT_EMAIL"
_PHONE = "CONVERSATION_INPUT_PHONE"
_MEETING = "CONVERSATION_MEETING_BOOKED"
_LIVE = (_REQ, _INIT, _ENDED, _TIMEOUT)
_LIFECYCLE = (*_LIVE, _CLOSED, _COMPLETED)
_ACTIVITY = (_EMAIL, _PHONE, _MEETING)
_RANK = {
    _REQ: 0,
    _INIT: 1,
    _EMAIL: 2,
    _PHONE: 2,
    _MEETING: 2,
    _ENDED: 3,
    _TIMEOUT: 3,
    _CLOSED: 4,
    _COMPLETED: 4,
}
_KEYS = ["session_id", "conversation_id"]
_REQUEST_OUTCOME_OF = {
    _INIT: "accepted",
    _ENDED: "accepted",
    _TIMEOUT: "missed",
    _CLOSED: "left",
    _COMPLETED: "left",
}
_OFFER_OUTCOME_OF = {**_REQUEST_OUTCOME_OF, _REQ: "missed"}
_END_OF = {_ENDED: "ended", _TIMEOUT: "idle_timeout", _CLOSED: "closed", _COMPLETED: "closed"}
ANOMALIES: dict[str, str] = {
    "two_accepts": "a request with more than one LIVE_CHAT_INITIATED (the first counts)",
    "accept_after_outcome": "a LIVE_CHAT_INITIATED after the request had timed out or the visitor had left",
    "ended_without_accept": "answered by LIVE_CHAT_ENDED with no LIVE_CHAT_INITIATED (accept time unknown)",
    "accepted_by_other_agent": "an accept by an agent other than the one last offered the request",
    "live_chat_without_request": "INITIATED, ENDED or TIMEOUT with no earlier request in its conversation",
    "live_chat_without_ids": "a live-chat event without a session or conversation id (cannot be paired)",
}


@dataclass(frozen=True)
class Requests:
    """The reconstruction: one row per request, one row per offer, and the anomalies found.

    Times are ``datetime64[us, UTC]``; durations are float seconds.
    """

    requests: pd.DataFrame
    offers: pd.DataFrame
    anomalies: pd.DataFrame
    data_end: pd.Timestamp
    agent_names: dict[str, str] = field(default_factory=dict)  # agent id -> latest name recorded
    meetings: pd.DataFrame | None = None  # every meeting booked with an agent: at, agent_id


def rebuild_requests(events: Any, columns: tuple[str, ...] = ()) -> Requests:
    """The live-chat requests of ``events`` (see :func:`_rebuild`); inside :func:`reusing`, rebuilt once
    per events object and carried columns.
    """
    return reused(events, ("requests", tuple(columns)), lambda: _rebuild(events, columns))


def _rebuild(events: Any, columns: tuple[str, ...] = ()) -> Requests:
    """Rebuild live-chat requests and offers from canonical events (a pandas frame or an Ibis table).

    ``requests`` columns: ``session_id``, ``conversation_id``, ``request`` (1-based within the
    conversation), ``requested_at`` (first offer), ``offers``, ``first_agent_id``, ``last_agent_id``
    (offered agents; null when the request named none), ``last_offered_at``, ``outcome`` (``accepted`` /
    ``missed`` / ``left`` / ``open``), ``outcome_at``, ``wait_seconds`` (request to outcome; for ``open``,
    to the end of the data), ``agent_id`` (the accepting agent), ``accepted_at``, ``accept_seconds``,
    ``chat_end`` (``ended`` / ``idle_timeout`` / ``closed`` / ``unobserved``), ``ended_at``,
    ``handle_seconds`` (accept to end; null when unobserved), ``released_at`` (when the chat stopped
    holding its agent, see the module rules), ``last_event_at``, ``emails_in_chat``, ``phones_in_chat``,
    ``meetings_in_chat``.

    ``offers`` columns: ``session_id``, ``conversation_id``, ``request``, ``offer`` (1-based),
    ``offered_at``, ``agent_id``, ``outcome``, ``outcome_at``, ``accepted_by``, ``accept_seconds``.

    ``anomalies`` columns: ``anomaly``, ``count``, ``description``; one row per kind, zeros included.

    ``columns`` names other canonical columns to carry, as text, from each request's first
    ``LIVE_CHAT_REQUESTED`` event into ``requests`` (and from each offer's event into ``offers``).
    """
    extra = [c for c in dict.fromkeys(columns) if c not in _OWN]
    if isinstance(events, pd.DataFrame):
        found = _run_in_process(events, extra)
        data_end = events[_T].max()
        if pd.isna(data_end):
            raise EmptyDataError("no events with a time")
    else:
        table = as_table(events, [*_OWN, *extra], micros=True)
        base = _base_query(table, extra)
        queries = _result_queries(base, _life_query(base), extra)
        found = {name: q.to_pyarrow() for name, q in queries.items()}
        micros = table[_T].max().to_pyarrow().as_py()
        if micros is None:
            raise EmptyDataError("no events with a time")
        data_end = pd.Timestamp(micros, unit="us", tz="UTC")
    req_df = found["requests"].to_pandas()
    off_df = found["offers"].to_pandas()
    counts = found["counts"]
    kinds = dict(zip(counts.column("kind").to_pylist(), counts.column("n").to_pylist(), strict=True))
    n_orphan, n_keyless = int(kinds["orphan"]), int(kinds["keyless"])
    names_df = found["names"].to_pandas()
    names = {
        a: n for a, n in zip(names_df["agent_id"], names_df["agent_name"], strict=True) if isinstance(n, str)
    }
    mdf = found["meetings"].to_pandas()
    meeting_frame = pd.DataFrame({"at": _times(mdf["at"]), "agent_id": mdf["agent_id"].astype("str")})
    data_end = pd.Timestamp(data_end)
    out = _finish(req_df, off_df, n_orphan, n_keyless, data_end, extra)
    return Requests(out.requests, out.offers, out.anomalies, data_end, names, meeting_frame)


_OWN = [_T, "event_type", *_KEYS, "agent_id", "agent_name"]


def _run_in_process(events: pd.DataFrame, extra: list[str]) -> dict[str, Any]:
    """The result queries on a pandas frame: compiled once per shape (the carried columns) and run on
    DuckDB in three stages, each over the rows the previous one kept, as Arrow tables.
    """
    arrow = frame_arrow(events, [*_OWN, *extra], micros=True)
    shape = tuple(extra)
    base = query_arrow(
        ("requests.base", shape), lambda ca_events: {"base": _base_query(ca_events, extra)}, ca_events=arrow
    )["base"]
    life = query_arrow(("requests.life",), lambda ca_base: {"life": _life_query(ca_base)}, ca_base=base)[
        "life"
    ]
    return query_arrow(
        ("requests.results", shape),
        lambda ca_base, ca_life: _result_queries(ca_base, ca_life, extra),
        ca_base=base,
        ca_life=life,
    )


def _base_query(table: Any, extra: list[str]) -> Any:
    """The rows the reconstruction reads, in one pass over the events: the chat events of the
    conversations with a request, live-chat events anywhere (elsewhere they are orphans, without ids
    they cannot be paired) and meetings anywhere (for the agents); ``has_request`` marks the first.
    """
    keyed = table.session_id.notnull() & table.conversation_id.notnull()
    reqs = table.filter(table.event_type == _REQ, keyed)
    with_request = reqs.select(*_KEYS).distinct().mutate(has_request=True)
    t = table.filter(table.event_type.isin([*_LIFECYCLE, *_ACTIVITY]))
    j = t.left_join(with_request, _KEYS)
    j = j.filter(j.has_request.notnull() | j.event_type.isin([*_LIVE, _MEETING]))
    return j.select(
        _T,
        "event_type",
        *_KEYS,
        agent_id=j.agent_id.cast("string"),
        agent_name=j.agent_name.cast("string"),
        has_request=j.has_request.notnull(),
        **{c: j[c].cast("string") for c in extra},
    )


def _paired(base: Any) -> Any:
    """The rows of :func:`_base_query` that belong to a conversation's requests."""
    return base.filter(
        base.session_id.notnull(),
        base.conversation_id.notnull(),
        base.has_request | (base.event_type != _MEETING),
    )


def _life_query(base: Any) -> Any:
    """The lifecycle events of each conversation in order (``seq``), numbered by request (``request``:
    0 before the first request).
    """
    import ibis

    life = _paired(base)
    life = life.filter(life.event_type.isin(list(_LIFECYCLE)))
    rank = ibis.cases(*[(life.event_type == k, v) for k, v in _RANK.items()], else_=9)
    life = life.mutate(rank=rank)
    w = ibis.window(group_by=_KEYS, order_by=[life[_T], life.rank, life.event_type, life.agent_id])
    life = life.mutate(seq=ibis.row_number().over(w), prev=life.event_type.lag().over(w))
    start = (life.event_type == _REQ) & (life.prev.isnull() | (life.prev != _REQ))
    # a running count: the frame must be spelled out (Ibis' default frame is the whole partition)
    w_run = ibis.window(group_by=_KEYS, order_by=life.seq, rows=(None, 0))
    return life.mutate(request=start.cast("int64").sum().over(w_run)).drop("prev", "rank")


def _result_queries(base: Any, life: Any, extra: list[str]) -> dict[str, Any]:
    """The queries whose results come back: ``requests`` and ``offers`` (one row each), ``counts``
    (orphan and keyless live-chat events), ``names`` (each agent's latest name) and ``meetings``.
    """
    import ibis

    keyless = base.filter(
        base.event_type.isin(list(_LIVE)), base.session_id.isnull() | base.conversation_id.isnull()
    )
    agents = base.filter(base.agent_id.notnull())
    named = agents.group_by("agent_id").agg(
        agent_name=agents.agent_name.argmax(agents[_T], where=agents.agent_name.notnull())
    )
    meetings = agents.filter(agents.event_type == _MEETING).select(at=agents[_T], agent_id=agents.agent_id)
    base = _paired(base)
    before = life.filter((life.request == 0) & life.event_type.isin([_INIT, _ENDED, _TIMEOUT]))
    r = life.filter(life.request > 0)
    # per request: when it was made, its offers, and its outcome event (never null: safe for argmin)
    is_req = r.event_type == _REQ
    not_req = r.event_type != _REQ
    keys = [*_KEYS, "request"]
    agg = r.group_by(keys).agg(
        requested_at=r[_T].min(where=is_req),
        offers=is_req.sum(),
        first_seq=r.seq.min(where=is_req),
        last_seq=r.seq.max(where=is_req),
        out_seq=r.seq.min(where=not_req),
        out_type=r.event_type.argmin(r.seq, where=not_req),
        outcome_at=r[_T].argmin(r.seq, where=not_req),
        accepts=(r.event_type == _INIT).sum(),
        last_life_at=r[_T].max(),
    )
    # each offer with the lifecycle event right after it: self-joins on the position (arg_min would
    # skip null agent ids). A request's offers are consecutive, so its n-th offer is at first_seq + n - 1.
    o = r.filter(is_req)
    o = o.inner_join(agg.select(*keys, "first_seq", "last_seq"), keys)
    nxt = r.select(*_KEYS, n_seq=r.seq - 1, next_life=r.event_type, outcome_at=r[_T], next_agent=r.agent_id)
    oj = o.left_join(
        nxt, [o.session_id == nxt.session_id, o.conversation_id == nxt.conversation_id, o.seq == nxt.n_seq]
    )
    offers = oj.select(
        o.session_id,
        o.conversation_id,
        o.request,
        offer=o.seq - o.first_seq + 1,
        last=o.seq == o.last_seq,
        offered_at=o[_T],
        agent_id=o.agent_id,
        next_life=oj.next_life,
        outcome_at=oj.outcome_at,
        next_agent=oj.next_agent,
        **{c: o[c] for c in extra},
    )
    # after an accept, the first end event
    e = r.inner_join(agg.select(*keys, "out_seq", "out_type"), keys)
    e = e.filter(
        e.out_type == _INIT, e.seq > e.out_seq, e.event_type.isin([_ENDED, _TIMEOUT, _CLOSED, _COMPLETED])
    )
    ends = e.group_by(keys).agg(end_type=e.event_type.argmin(e.seq), ended_at=e[_T].argmin(e.seq))
    req = agg.left_join(ends, keys).select(*agg.columns, "end_type", "ended_at")
    # the next request of the conversation bounds this one
    follow = req.select(*_KEYS, p_request=req.request - 1, next_request_at=req.requested_at)
    req = req.left_join(
        follow,
        [
            req.session_id == follow.session_id,
            req.conversation_id == follow.conversation_id,
            req.request == follow.p_request,
        ],
    ).select(*req.columns, "next_request_at")
    # email, phone and meeting events: in the request's span, and in its chat (ties: an activity at
    # the accept's instant is after it, one at the end's instant before it)
    act = base.filter(base.event_type.isin(list(_ACTIVITY)))
    aj = req.inner_join(
        act.select(*_KEYS, a_type=act.event_type, a_at=act[_T]),
        [req.session_id == act.session_id, req.conversation_id == act.conversation_id],
    )
    aj = aj.filter(aj.a_at >= aj.requested_at, aj.next_request_at.isnull() | (aj.a_at < aj.next_request_at))
    in_chat = (
        (aj.out_type == _INIT)
        & (aj.a_at >= aj.outcome_at)
        & (aj.ended_at.isnull() | (aj.a_at <= aj.ended_at))
    )
    acts = aj.group_by(keys).agg(
        last_activity_at=aj.a_at.max(),
        emails_in_chat=(in_chat & (aj.a_type == _EMAIL)).sum(),
        phones_in_chat=(in_chat & (aj.a_type == _PHONE)).sum(),
        meetings_in_chat=(in_chat & (aj.a_type == _MEETING)).sum(),
    )
    req = req.left_join(acts, keys).select(
        *req.columns, "last_activity_at", "emails_in_chat", "phones_in_chat", "meetings_in_chat"
    )
    counts = ibis.union(
        before.aggregate(kind=ibis.literal("orphan"), n=before.count()),
        keyless.aggregate(kind=ibis.literal("keyless"), n=keyless.count()),
    )
    return {
        "requests": req.order_by(keys),
        "offers": offers.order_by([*keys, "offer"]),
        "counts": counts,
        "names": named,
        "meetings": meetings,
    }


def _times(micros: pd.Series) -> pd.Series:
    return pd.to_datetime(micros.astype("Int64").astype("float64"), unit="us", utc=True).astype(
        "datetime64[us, UTC]"
    )


def _finish(
    req: pd.DataFrame,
    off: pd.DataFrame,
    n_orphan: int,
    n_keyless: int,
    data_end: pd.Timestamp,
    extra: list[str] = (),  # type: ignore[assignment]
) -> Requests:
    end_us = data_end.value // 1000
    # both come ordered by conversation and request from the queries, and every request has a first
    # and a last offer: the offered agents and the agent of the outcome line up by position
    first = off[off["offer"] == 1]
    last_offer = off[off["last"].astype(bool)]
    if not (len(first) == len(last_offer) == len(req)) or not (
        (first["request"].to_numpy() == req["request"].to_numpy()).all()
        and (first["session_id"].to_numpy() == req["session_id"].to_numpy()).all()
    ):
        raise AssertionError("offers and requests do not line up")  # pragma: no cover
    req["first_agent_id"] = first["agent_id"].to_numpy()
    req["last_agent_id"] = last_offer["agent_id"].to_numpy()
    req["out_agent"] = last_offer["next_agent"].to_numpy()
    req["last_offered_at"] = last_offer["offered_at"].to_numpy()
    for c in extra:
        req[c] = first[c].to_numpy()
    last_act = req["last_activity_at"].astype("float64")
    req["last_event_at"] = np.fmax(req["last_life_at"].astype("float64"), last_act)
    for c in ("emails_in_chat", "phones_in_chat", "meetings_in_chat"):
        req[c] = req[c].fillna(0)

    out_type = req["out_type"]
    outcome = out_type.map(_REQUEST_OUTCOME_OF).fillna("open")
    accepted = outcome == "accepted"
    acc_init = out_type == _INIT
    requested = req["requested_at"].astype("float64")
    outcome_at = req["outcome_at"].astype("float64")
    wait_end = np.where(outcome == "open", float(end_us), outcome_at)
    accepted_at = outcome_at.where(acc_init)
    end_type = req["end_type"]
    chat_end = pd.Series(
        np.where(
            ~accepted,
            np.array(None, dtype=object),
            np.where(acc_init, end_type.map(_END_OF).fillna("unobserved").to_numpy(object), "ended"),
        ),
        index=req.index,
        dtype="object",
    )
    ended_at = req["ended_at"].astype("float64").where(acc_init, outcome_at.where(accepted))
    last = req["last_event_at"].astype("float64")
    assumed = np.minimum(last + IDLE_TIMEOUT_SECONDS * 1e6, float(end_us))
    released = np.where(chat_end == "unobserved", assumed, ended_at)
    released = np.where(accepted & acc_init, released, np.nan)

    out = pd.DataFrame(
        {
            "session_id": req["session_id"],
            "conversation_id": req["conversation_id"],
            "request": req["request"].astype("int64"),
            "requested_at": _times(requested),
            "offers": req["offers"].astype("int64"),
            "first_agent_id": req["first_agent_id"],
            "last_agent_id": req["last_agent_id"],
            "last_offered_at": _times(req["last_offered_at"].astype("float64")),
            "outcome": pd.Categorical(outcome, categories=list(REQUEST_OUTCOMES)),
            "outcome_at": _times(pd.Series(wait_end).where(outcome != "open")),
            "wait_seconds": (wait_end - requested) / 1e6,
            "agent_id": req["out_agent"].where(accepted),
            "accepted_at": _times(accepted_at),
            "accept_seconds": (accepted_at - requested) / 1e6,
            "chat_end": pd.Categorical(chat_end, categories=list(CHAT_ENDS)),
            "ended_at": _times(ended_at.where(chat_end != "unobserved")),
            "handle_seconds": ((ended_at - accepted_at) / 1e6).where(chat_end != "unobserved"),
            "released_at": _times(pd.Series(released, index=req.index)),
            "last_event_at": _times(last),
            "emails_in_chat": req["emails_in_chat"].astype("int64"),
            "phones_in_chat": req["phones_in_chat"].astype("int64"),
            "meetings_in_chat": req["meetings_in_chat"].astype("int64"),
            **{c: req[c].astype("str") for c in extra},
        }
    )
    for c in ("session_id", "conversation_id", "first_agent_id", "last_agent_id", "agent_id"):
        out[c] = out[c].astype("str")

    o_out = off["next_life"].map(_OFFER_OUTCOME_OF).fillna("open")
    o_at = off["outcome_at"].astype("float64").where(o_out != "open")
    o_acc = o_out == "accepted"
    offers = pd.DataFrame(
        {
            "session_id": off["session_id"].astype("str"),
            "conversation_id": off["conversation_id"].astype("str"),
            "request": off["request"].astype("int64"),
            "offer": off["offer"].astype("int64"),
            "offered_at": _times(off["offered_at"]),
            "agent_id": off["agent_id"].astype("str"),
            "outcome": pd.Categorical(o_out, categories=list(OFFER_OUTCOMES)),
            "outcome_at": _times(o_at),
            "accepted_by": off["next_agent"].where(o_acc).astype("str"),
            "accept_seconds": ((o_at - off["offered_at"].astype("float64")) / 1e6).where(
                off["next_life"] == _INIT
            ),
            **{c: off[c].astype("str") for c in extra},
        }
    )

    other = (
        o_acc
        & offers["agent_id"].notna()
        & offers["accepted_by"].notna()
        & (offers["agent_id"] != offers["accepted_by"])
    )
    counts = {
        "two_accepts": int((req["accepts"] > 1).sum()),
        "accept_after_outcome": int(((req["accepts"] > 0) & ~acc_init).sum()),
        "ended_without_accept": int((out_type == _ENDED).sum()),
        "accepted_by_other_agent": int(other.sum()),
        "live_chat_without_request": n_orphan,
        "live_chat_without_ids": n_keyless,
    }
    anomalies = pd.DataFrame(
        {
            "anomaly": list(counts),
            "count": np.array(list(counts.values()), dtype="int64"),
            "description": [ANOMALIES[k] for k in counts],
        }
    )
    return Requests(requests=out, offers=offers, anomalies=anomalies, data_end=data_end)


def concurrency_points(
    requests: pd.DataFrame, boundaries: np.ndarray | None = None, *, by_agent: bool = True
) -> pd.DataFrame:
    """Concurrent accepted chats over time, from the chats' ``[accepted_at, released_at)`` intervals.

    Returns one row per change point (``agent_id`` when ``by_agent``, ``at``, ``chats``: the number of
    chats held from ``at`` until the next row of the same agent, ``seconds``: that span; the last row of
    an agent has 0 chats and no span). ``boundaries`` (UTC microseconds) adds points where nothing
    changes, so spans can be cut at period edges. Half-open intervals: a chat ending at the instant
    another starts does not overlap it. Vectorised: one sort and one cumulative sum.
    """
    chats = requests[requests["accepted_at"].notna() & requests["released_at"].notna()]
    agents = chats["agent_id"].astype("object").fillna("") if by_agent else pd.Series("", index=chats.index)
    start = chats["accepted_at"].dt.as_unit("us").astype("int64").to_numpy()
    stop = chats["released_at"].dt.as_unit("us").astype("int64").to_numpy()
    codes, names = pd.factorize(agents, sort=True)
    if len(names) == 0:
        return pd.DataFrame(
            {
                "agent_id": pd.Series([], dtype="str"),
                "at": pd.Series([], dtype="datetime64[us, UTC]"),
                "chats": pd.Series([], dtype="int64"),
                "seconds": pd.Series([], dtype="float64"),
            }
        )
    a = np.concatenate([codes, codes])
    t = np.concatenate([start, stop])
    d = np.concatenate([np.ones(len(start), np.int64), -np.ones(len(stop), np.int64)])
    if boundaries is not None and len(boundaries):
        b = np.asarray(boundaries, dtype=np.int64)
        lo = np.full(len(names), np.iinfo(np.int64).max)
        hi = np.full(len(names), np.iinfo(np.int64).min)
        np.minimum.at(lo, codes, start)
        np.maximum.at(hi, codes, stop)
        ga, gb = np.meshgrid(np.arange(len(names)), b, indexing="ij")
        keep = (gb > lo[ga]) & (gb < hi[ga])
        a = np.concatenate([a, ga[keep]])
        t = np.concatenate([t, gb[keep]])
        d = np.concatenate([d, np.zeros(int(keep.sum()), np.int64)])
    # by agent, then time; at one instant ends (-1) before boundaries (0) before starts (+1)
    order = np.lexsort((d, t, a))
    a, t, d = a[order], t[order], d[order]
    level = np.cumsum(d)  # each agent's deltas sum to zero, so the running sum restarts per agent
    same_next = np.append(a[1:] == a[:-1], False)
    span = np.where(same_next, np.append(t[1:], 0) - t, 0) / 1e6
    out = pd.DataFrame(
        {
            "agent_id": pd.Series(np.asarray(names, dtype=object)[a], dtype="str").replace("", np.nan),
            "at": pd.to_datetime(t, unit="us", utc=True).astype("datetime64[us, UTC]"),
            "chats": level.astype("int64"),
            "seconds": np.where(same_next, span, np.nan),
        }
    )
    if not by_agent:
        out = out.drop(columns="agent_id")
    return out
