"""Tests of the synthetic event simulator (chatanalytics/datasets/_simulate.py).

Expected values come from the module constants (the configured model), never from the simulator's own
intermediate arrays; invariants (sequences, the concurrency cap) are re-computed here from the events.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from chatanalytics.datasets import _simulate as sim
from chatanalytics.datasets._simulate import _simulate, simulate_raw
from chatanalytics.errors import InvalidParameterError
from chatanalytics.schema import COLUMNS, STRING, validate_events

TZ = "America/New_York"
REQ = "CONVERSATION_LIVE_CHAT_REQUESTED"
INIT = "CONVERSATION_LIVE_CHAT_INITIATED"
ENDED = "CONVERSATION_LIVE_CHAT_ENDED"
TIMEOUT = "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"
TRIG = "CONVERSATION_TRIGGERED"
ENG = "CONVERSATION_ENGAGED"
COMP = "CONVERSATION_COMPLETED"
CLOSED = "CONVERSATION_CLOSED"
MEET = "CONVERSATION_MEETING_BOOKED"
EMAIL = "CONVERSATION_INPUT_EMAIL"
PHONE = "CONVERSATION_INPUT_PHONE"
AGENT_TYPES = {MEET, REQ, INIT, ENDED, TIMEOUT}
S = pd.Timedelta(seconds=1)
CONV = {c.id: c for c in sim.CONVERSATIONS}


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return _simulate(20_000, seed=11, dirt=False)


@pytest.fixture(scope="module")
def dirty() -> pd.DataFrame:
    return simulate_raw(20_000, seed=11)


@pytest.fixture(scope="module")
def busy() -> pd.DataFrame:
    """One very busy Wednesday: enough live-chat requests to push agents to the cap."""
    return _simulate(300_000, seed=5, start="2026-10-07", days=1, dirt=False)


def tol(p: float, n: int) -> float:
    """Loose tolerance for a rate: 4 binomial standard errors plus a little slack."""
    return 4 * math.sqrt(p * (1 - p) / max(n, 1)) + 0.005


def instances(ev: pd.DataFrame) -> pd.DataFrame:
    """One row per (session, conversation) with a flag per event type present."""
    flags = pd.crosstab([ev["session_id"], ev["conversation_id"]], ev["event_type"]) > 0
    return flags.reset_index()


def within(x: float, target: float, tolerance: float) -> bool:
    return abs(x - target) <= tolerance


# --------------------------------------------------------------------------- frame and determinism


def test_frame_is_canonical(dirty: pd.DataFrame) -> None:
    validate_events(dirty)
    assert list(dirty.columns) == list(COLUMNS)
    assert not any(pd.api.types.is_object_dtype(dt) for dt in dirty.dtypes)
    for col, dtype in COLUMNS.items():
        if dtype is STRING:
            assert dirty[col].dtype == STRING, col
    assert list(dirty["source_format"].cat.categories) == ["simulated"]
    assert (dirty["source_format"] == "simulated").all()
    assert (dirty["event_count"] == 1).all()
    assert (dirty["time_granularity"] == "exact").all()
    for col in ("event_id", "source_file", "source_record", "analytics_session_id"):
        assert dirty[col].isna().all(), col
    t = dirty["event_time_utc"]
    assert t.is_monotonic_increasing
    us = t.astype("int64")
    assert (us % 1000 == 0).all()  # whole milliseconds
    assert dirty["session_id"].notna().all() and dirty["visitor_id"].notna().all()


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    a = simulate_raw(3000, seed=7)
    b = simulate_raw(3000, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = simulate_raw(3000, seed=8)
    assert not a.equals(c)
    assert set(a["session_id"]).isdisjoint(set(c["session_id"]))


def test_zero_sessions_gives_an_empty_canonical_frame() -> None:
    ev = simulate_raw(0)
    validate_events(ev)
    assert len(ev) == 0


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"n_sessions": -1}, "n_sessions"),
        ({"n_sessions": 2.5}, "n_sessions"),
        ({"days": 0}, "days"),
        ({"seed": -3}, "seed"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"start": "not a date"}, "start"),
    ],
)
def test_bad_parameters_raise(kwargs: dict, param: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        simulate_raw(**{"n_sessions": 10, **kwargs})
    assert info.value.param == param


# --------------------------------------------------------------------------- catalogue and payload


def test_values_come_from_the_catalogue(dirty: pd.DataFrame) -> None:
    convs = dirty[["conversation_id", "conversation_name", "conversation_type", "ui_type"]].drop_duplicates()
    expected = {(c.id, c.name, c.type, c.ui_type) for c in sim.CONVERSATIONS}
    assert set(map(tuple, convs.to_numpy().tolist())) == expected
    assert "4471902" in set(dirty["conversation_id"])  # numeric-looking ids stay strings
    assert set(dirty["conversation_type"]) == {"dialogue", "conversational_flow"}
    assert set(dirty["ui_type"]) == {"popup", "chatbot", "inline"}

    agents = dirty[["agent_id", "agent_name"]].dropna().drop_duplicates()
    assert set(map(tuple, agents.to_numpy().tolist())) <= {(a.id, a.name) for a in sim.AGENTS}
    has_agent = dirty["agent_id"].notna()
    assert (dirty["agent_name"].notna() == has_agent).all()
    assert set(dirty.loc[has_agent, "event_type"].astype(str)) <= AGENT_TYPES
    for etype in (MEET, INIT, ENDED):
        assert has_agent[dirty["event_type"] == etype].all(), etype

    assert dirty["page_url"].str.startswith(sim.SITE + "/").all()
    utm = dirty.drop_duplicates(["session_id", "conversation_id"])["page_url"].str.contains("utm_source=")
    assert within(utm.mean(), sim.UTM_RATE, tol(sim.UTM_RATE, len(utm)))


def test_meeting_info_is_small_json_without_personal_data(dirty: pd.DataFrame) -> None:
    meeting = dirty["event_type"] == MEET
    assert (dirty["meeting_info"].notna() == meeting).all()
    for text in dirty.loc[meeting, "meeting_info"]:
        info = json.loads(text)
        assert set(info) == {"meetingId", "startTime", "durationMinutes"}
        assert info["durationMinutes"] in sim.MEETING_DURATIONS_MINUTES
        start = pd.Timestamp(info["startTime"])
        local = start.tz_convert(TZ)
        assert local.day_of_week < 5 and 9 <= local.hour < 17
    strings = [c for c, d in COLUMNS.items() if d is STRING]
    for col in strings:
        assert not dirty[col].str.contains("@", regex=False).any(), col


# --------------------------------------------------------------------------- sequences


def test_conversation_sequences_are_consistent(clean: pd.DataFrame) -> None:
    key = ["session_id", "conversation_id"]
    first = clean.groupby(key)["event_time_utc"].min()
    trig = clean[clean["event_type"] == TRIG].groupby(key)["event_time_utc"].min()
    assert trig.reindex(first.index).eq(first).all()  # nothing before the trigger
    counts = pd.crosstab([clean["session_id"], clean["conversation_id"]], clean["event_type"])
    assert (counts[TRIG] == 1).all() and (counts[ENG] <= 1).all()
    assert (counts[COMP] + counts[CLOSED] <= 1).all()
    eng = clean[clean["event_type"] == ENG].groupby(key)["event_time_utc"].min()
    for etype in (EMAIL, PHONE, MEET, REQ, COMP, INIT):
        t = clean[clean["event_type"] == etype].groupby(key)["event_time_utc"].min()
        e = eng.reindex(t.index)
        assert e.notna().all(), etype  # needs an engagement
        assert (t > e).all(), etype


def test_live_chat_requests_play_out_consistently(clean: pd.DataFrame) -> None:
    live = clean[clean["event_type"].isin([REQ, INIT, ENDED, TIMEOUT]) | (clean["event_type"] == CLOSED)]
    live = live[
        live.set_index(["session_id", "conversation_id"]).index.isin(
            clean.loc[clean["event_type"] == REQ].set_index(["session_id", "conversation_id"]).index
        )
    ]
    n_checked = 0
    outcomes = defaultdict(int)
    for (_, cid), g in live.groupby(["session_id", "conversation_id"], sort=False):
        types = g["event_type"].astype(str).tolist()
        times = g["event_time_utc"].tolist()
        agents = g["agent_id"].tolist()
        reqs = [i for i, t in enumerate(types) if t == REQ]
        assert len(reqs) in (1, 2)
        if len(reqs) == 2:  # team routing: one more agent exactly 100 s later
            assert CONV[cid].team_routing
            assert times[reqs[1]] - times[reqs[0]] == 100 * S
            assert isinstance(agents[reqs[0]], str) and isinstance(agents[reqs[1]], str)
            assert agents[reqs[0]] != agents[reqs[1]]
        last = reqs[-1]
        after = types[last + 1 :]
        if INIT in types:
            i = types.index(INIT)
            assert i > last  # an INITIATED is preceded by its REQUESTED
            assert pd.Timedelta(0) < times[i] - times[last] < 100 * S  # accepted within the window
            assert agents[i] == agents[last]
            ends = [j for j in range(i + 1, len(types)) if types[j] in (ENDED, TIMEOUT)]
            assert len(ends) == 1 and agents[ends[0]] == agents[i]
            assert types.count(ENDED) + types.count(TIMEOUT) == 1
            if types[ends[0]] == TIMEOUT:  # idle: 10 minutes after the last activity
                assert times[ends[0]] - times[i] > 600 * S
                outcomes["idle"] += 1
            else:
                outcomes["ended"] += 1
            assert CLOSED not in types
        elif TIMEOUT in types:  # missed: timeout at +100 s after the last offer, same agent
            j = types.index(TIMEOUT)
            assert times[j] - times[last] == 100 * S
            assert agents[j] == agents[last] or (pd.isna(agents[j]) and pd.isna(agents[last]))
            assert types.count(TIMEOUT) == 1
            outcomes["missed"] += 1
        else:  # gave up while waiting: closed before the timeout
            assert after == [CLOSED]
            j = types.index(CLOSED)
            assert times[j] >= times[last]
            assert times[j] - times[0] < 200 * S if len(reqs) == 2 else times[j] - times[0] < 100 * S
            outcomes["gave_up"] += 1
        assert ENDED not in types or INIT in types
        n_checked += 1
    assert n_checked > 300
    assert set(outcomes) == {"ended", "idle", "missed", "gave_up"}


def test_live_chat_only_in_conversations_that_offer_it(clean: pd.DataFrame) -> None:
    ids = set(clean.loc[clean["event_type"] == REQ, "conversation_id"])
    assert ids == {c.id for c in sim.CONVERSATIONS if c.live_chat}


# --------------------------------------------------------------------------- concurrency cap


def chat_intervals(ev: pd.DataFrame) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """(agent, INITIATED time, ENDED or idle-timeout time) for every accepted chat."""
    live = ev[ev["event_type"].isin([INIT, ENDED, TIMEOUT])]
    out = []
    for _, g in live.groupby(["session_id", "conversation_id"], sort=False):
        types = g["event_type"].astype(str).tolist()
        if INIT not in types:
            continue
        i = types.index(INIT)
        j = next(k for k in range(i + 1, len(types)) if types[k] in (ENDED, TIMEOUT))
        out.append((g["agent_id"].iloc[i], g["event_time_utc"].iloc[i], g["event_time_utc"].iloc[j]))
    return out


def max_concurrency(intervals: list[tuple[str, pd.Timestamp, pd.Timestamp]]) -> dict[str, int]:
    """Plain sweep per agent over half-open intervals [start, end): an end at t frees the slot first."""
    points: dict[str, list[tuple[pd.Timestamp, int]]] = defaultdict(list)
    for agent, start, end in intervals:
        points[agent] += [(start, 1), (end, 0)]
    peak = {}
    for agent, pts in points.items():
        level = top = 0
        for _, kind in sorted(pts):
            level += 1 if kind else -1
            top = max(top, level)
        peak[agent] = top
    return peak


def test_no_agent_holds_more_than_ten_chats(clean: pd.DataFrame, busy: pd.DataFrame) -> None:
    assert max(max_concurrency(chat_intervals(clean)).values()) <= sim.AGENT_CHAT_CAP
    peak = max_concurrency(chat_intervals(busy))
    assert max(peak.values()) == sim.AGENT_CHAT_CAP  # the cap is reached on the busy day, never passed
    # with every on-shift agent at the cap, some requests find nobody: offered to no agent, timed out
    req = busy[busy["event_type"] == REQ]
    local_hour = req["event_time_utc"].dt.tz_convert(TZ).dt.hour
    on_shift_hours = (local_hour >= 8) & (local_hour < 19)
    assert (req["agent_id"].isna() & on_shift_hours).sum() > 0


def test_routing_under_overload_respects_the_cap() -> None:
    rng = np.random.default_rng(0)
    n, n_agents = 3000, 3
    t_req = np.sort(rng.integers(0, 1_800_000, n)).astype(np.int64)  # 3000 requests in 30 minutes
    on = np.ones((n, n_agents), dtype=bool)
    r = sim._route_requests(t_req, np.zeros(n, dtype=bool), on, on, np.random.default_rng(1))
    acc = np.flatnonzero(r.accepted)
    intervals = [(str(r.agent[i]), int(r.t_accept[i]), int(r.t_release[i])) for i in acc]
    peak = max_concurrency(intervals)
    assert max(peak.values()) == sim.AGENT_CHAT_CAP
    assert len(acc) < 0.5 * n
    unrouted = r.agent1 < 0
    assert unrouted.sum() > 0 and r.missed[unrouted & ~r.gave_up].all()
    assert (r.t_accept[acc] - t_req[acc] < sim.ACCEPT_WINDOW_SECONDS * 1000).all()


# --------------------------------------------------------------------------- arrivals


def test_arrivals_follow_the_business_hours_profile(clean: pd.DataFrame) -> None:
    trig = clean.loc[clean["event_type"] == TRIG, "event_time_utc"].dt.tz_convert(TZ)
    weekday = trig.dt.day_of_week < 5
    hour = trig.dt.hour
    days = pd.date_range("2026-10-05", periods=28, freq="D")
    n_weekdays, n_weekend = int((days.day_of_week < 5).sum()), int((days.day_of_week >= 5).sum())
    per_hour_business = (weekday & hour.between(9, 16)).sum() / (n_weekdays * 8)
    per_hour_night = hour.between(0, 5).sum() / (28 * 6)
    assert per_hour_business > 8 * per_hour_night
    per_weekday = weekday.sum() / n_weekdays
    per_weekend_day = (~weekday).sum() / n_weekend
    assert per_weekend_day < 0.5 * per_weekday
    # share of sessions in weekday 09-17 from the configured profile (day and hour drawn independently)
    dw = np.asarray(sim.WEEKDAY_WEIGHTS)[days.day_of_week]
    hw = np.asarray(sim.HOURLY_WEIGHTS)
    expected = dw[days.day_of_week < 5].sum() / dw.sum() * hw[9:17].sum() / hw.sum()
    observed = (weekday & hour.between(9, 16)).mean()
    assert within(observed, expected, 0.02)


def test_local_profile_survives_the_dst_change() -> None:
    """Local hours keep their profile on both sides of the US DST end (2026-11-01)."""
    ev = _simulate(20_000, seed=3, start="2026-10-26", days=14, dirt=False)
    trig = ev.loc[ev["event_type"] == TRIG, "event_time_utc"].dt.tz_convert(TZ)
    local_hour = trig.dt.hour + trig.dt.minute / 60
    before = trig.dt.tz_localize(None) < pd.Timestamp("2026-11-01")
    after = trig.dt.tz_localize(None) >= pd.Timestamp("2026-11-02")
    assert abs(local_hour[before].mean() - local_hour[after].mean()) < 0.3  # a fixed offset would give ~1 h
    assert set(trig.dt.strftime("%z")) == {"-0400", "-0500"}


def test_spring_forward_gap_is_handled() -> None:
    ev = _simulate(5000, seed=4, start="2027-03-12", days=5, dirt=False)
    validate_events(ev)
    local = ev["event_time_utc"].dt.tz_convert(TZ)
    wall = local.dt.tz_localize(None)
    gap = (wall >= pd.Timestamp("2027-03-14 02:00")) & (wall < pd.Timestamp("2027-03-14 03:00"))
    assert not gap.any()


# --------------------------------------------------------------------------- rates


def test_rates_match_the_configured_probabilities(clean: pd.DataFrame) -> None:
    inst = instances(clean)
    conv = inst["conversation_id"].map(CONV)
    for cid, g in inst.groupby("conversation_id"):
        p = CONV[cid].engagement_rate
        assert within(g[ENG].mean(), p, tol(p, len(g))), cid
    overall = sum(c.weight * c.engagement_rate for c in sim.CONVERSATIONS) / sum(
        c.weight for c in sim.CONVERSATIONS
    )
    assert within(inst[ENG].mean(), overall, 0.03)

    eng = inst[inst[ENG]]
    for col, p in ((EMAIL, sim.EMAIL_INPUT_RATE), (PHONE, sim.PHONE_INPUT_RATE)):
        assert within(eng[col].mean(), p, tol(p, len(eng))), col
    no_chat = eng[~eng[INIT]]
    assert within(no_chat[MEET].mean(), sim.MEETING_BOOKED_RATE, tol(sim.MEETING_BOOKED_RATE, len(no_chat)))
    bot_only = eng[~eng[REQ]]
    assert within(bot_only[COMP].mean(), sim.COMPLETION_RATE, tol(sim.COMPLETION_RATE, len(bot_only)))
    assert (bot_only[COMP] ^ bot_only[CLOSED]).all()  # exactly one end
    offers = conv.loc[eng.index].map(lambda c: c.live_chat).astype(bool)
    p = sim.LIVE_CHAT_REQUEST_RATE
    assert within(eng.loc[offers, REQ].mean(), p, tol(p, int(offers.sum())))
    assert not eng.loc[~offers, REQ].any()
    unengaged = inst[~inst[ENG]]
    p = sim.UNENGAGED_CLOSE_RATE
    assert within(unengaged[CLOSED].mean(), p, tol(p, len(unengaged)))

    per_session = inst.groupby("session_id").size()
    assert set(per_session.unique()) <= {1, 2}
    p = sim.SECOND_CONVERSATION_RATE
    assert within((per_session == 2).mean(), p, tol(p, len(per_session)))


def test_live_chat_timings(clean: pd.DataFrame) -> None:
    key = ["session_id", "conversation_id"]
    t = clean.pivot_table(
        index=key, columns="event_type", values="event_time_utc", aggfunc="max", observed=True
    )
    t0 = clean[clean["event_type"] == INIT].set_index(key)["event_time_utc"]
    last_req = t.loc[t0.index, REQ]
    delay = (t0 - last_req).dt.total_seconds()
    assert 10 < delay.median() < 30  # lognormal median 25 s, cut at 100 s and by patience
    chat = (t.loc[t0.index, ENDED] - t0).dt.total_seconds().dropna()
    assert within(chat.median(), sim.CHAT_DURATION.median_seconds, 0.2 * sim.CHAT_DURATION.median_seconds)
    idle = t.loc[t0.index, TIMEOUT].notna()
    assert within(idle.mean(), sim.IDLE_CHAT_RATE, tol(sim.IDLE_CHAT_RATE, len(idle)))


def test_returning_visitors(clean: pd.DataFrame) -> None:
    sessions = clean.groupby("session_id")["visitor_id"].nunique()
    assert (sessions == 1).all()  # one visitor per session
    per_visitor = clean.drop_duplicates("session_id").groupby("visitor_id").size()
    p = sim.RETURN_VISIT_RATE  # geometric: P(at least 2 sessions) = return rate
    assert within((per_visitor >= 2).mean(), p, tol(p, len(per_visitor)))
    assert per_visitor.max() >= 3


# --------------------------------------------------------------------------- dirt


def test_dirt_is_present_at_the_configured_rates(clean: pd.DataFrame, dirty: pd.DataFrame) -> None:
    assert not clean.duplicated().any()
    dup = dirty.duplicated()
    p = sim.DUPLICATE_EVENT_RATE
    assert within(dup.mean(), p, tol(p, len(dirty)))

    # a conversation that loses its only event (an unanswered trigger) leaves no trace in the dirty
    # frame, so lost triggers are counted against the clean run of the same seed
    def keys(ev: pd.DataFrame) -> set:
        return set(zip(ev["session_id"], ev["conversation_id"], strict=True))

    all_conversations = keys(clean)
    lost = all_conversations - keys(dirty[dirty["event_type"] == TRIG])
    p = sim.LOST_TRIGGER_RATE
    assert within(len(lost) / len(all_conversations), p, tol(p, len(all_conversations)))
    # the dirty frame is the clean one, minus lost triggers, plus duplicates
    assert len(dirty) - int(dup.sum()) == len(clean) - len(lost)

    # clock skew: compare each session's first non-trigger event with the clean run of the same seed
    def first(ev: pd.DataFrame) -> pd.Series:
        return ev[ev["event_type"] != TRIG].groupby("session_id")["event_time_utc"].min()

    shift = (first(dirty) - first(clean)).dt.total_seconds()
    skewed = shift[shift != 0]
    p = sim.CLOCK_SKEW_SESSION_RATE
    assert within(len(skewed) / len(shift), p, tol(p, len(shift)))
    lo, hi = sim.CLOCK_SKEW_SECONDS
    assert skewed.abs().between(lo, hi).all()
    assert (skewed > 0).any() and (skewed < 0).any()


# --------------------------------------------------------------------------- planted changes


def test_no_planted_change_leaves_the_output_unchanged() -> None:
    pd.testing.assert_frame_equal(simulate_raw(2000, seed=7), simulate_raw(2000, seed=7, changes=()))


def _first_triggers(ev: pd.DataFrame) -> pd.DataFrame:
    trig = ev[ev["event_type"] == TRIG]
    return trig.groupby(["session_id", "conversation_id"], as_index=False).agg(
        t0=("event_time_utc", "min"), name=("conversation_name", "first"), ui=("ui_type", "first")
    )


def test_planted_engagement_drop_matches_the_factor() -> None:
    """Pricing page dialogue: engagement 0.30, times 0.6 from 2026-10-19 (local) on: 0.18 after.

    40,000 sessions over 28 days give about 4,600 Pricing conversations on each side of the date, so
    a rate is known to about 0.007 (4 standard errors plus slack: ``tol``); the other conversations
    keep their catalogue rates on both sides."""
    change = sim.PlantedChange("2026-10-19", conversation="Pricing page dialogue", engage_factor=0.6)
    ev = _simulate(40_000, seed=3, dirt=False, changes=[change])
    units = _first_triggers(ev)
    engaged = ev[ev["event_type"] == ENG][["session_id", "conversation_id"]].drop_duplicates()
    units = units.merge(engaged.assign(engaged=True), how="left").fillna({"engaged": False})
    units["after"] = units["t0"] >= pd.Timestamp("2026-10-19", tz=TZ)
    rates = units.groupby(["name", "after"])["engaged"].agg(["mean", "size"])
    for c in sim.CONVERSATIONS:
        for after in (False, True):
            p = c.engagement_rate * (0.6 if after and c.name == "Pricing page dialogue" else 1.0)
            got, n = rates.loc[(c.name, after)]
            assert within(got, p, tol(p, n)), (c.name, after, got, p)


def test_planted_ui_type_shift_moves_sessions_not_rates() -> None:
    """Popups' trigger weights doubled from 2026-10-19: a session's first conversation is a popup with
    probability 0.28 before (0.20 + 0.08) and 0.56 / 1.28 = 0.4375 after; popups still engage at
    (0.20 * 0.30 + 0.08 * 0.26) / 0.28 = 0.2886."""
    change = sim.PlantedChange("2026-10-19", ui_type_factor={"popup": 2.0})
    ev = _simulate(40_000, seed=4, dirt=False, changes=[change])
    trig = ev[ev["event_type"] == TRIG].sort_values("event_time_utc", kind="stable")
    first = trig.groupby("session_id").first()
    after = first["event_time_utc"] >= pd.Timestamp("2026-10-19", tz=TZ)
    for flag, p in ((False, 0.28), (True, 0.4375)):
        share = (first.loc[after == flag, "ui_type"] == "popup").mean()
        assert within(share, p, tol(p, int((after == flag).sum())))
    units = _first_triggers(ev)
    engaged = ev[ev["event_type"] == ENG][["session_id", "conversation_id"]].drop_duplicates()
    units = units.merge(engaged.assign(engaged=True), how="left").fillna({"engaged": False})
    popup = units[units["ui"] == "popup"]
    late = popup["t0"] >= pd.Timestamp("2026-10-19", tz=TZ)
    for flag in (False, True):
        part = popup.loc[late == flag, "engaged"]
        assert within(part.mean(), 0.2886, tol(0.2886, len(part)))


def test_planted_change_is_checked() -> None:
    with pytest.raises(InvalidParameterError, match="conversation"):
        sim.PlantedChange("2026-10-19", conversation="Pricing dialog")
    with pytest.raises(InvalidParameterError, match="engage_factor"):
        sim.PlantedChange("2026-10-19", engage_factor=-1)
    with pytest.raises(InvalidParameterError, match="ui_type_factor"):
        sim.PlantedChange("2026-10-19", ui_type_factor={"banner": 2.0})
    with pytest.raises(InvalidParameterError, match="start"):
        sim.PlantedChange("someday")
    with pytest.raises(InvalidParameterError, match="changes"):
        simulate_raw(10, changes=["engagement down"])
