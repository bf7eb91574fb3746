"""Live-chat request reconstruction and agent_performance(): a hand-worked log, properties, an oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from chatanalytics.analysis._requests import concurrency_points, rebuild_requests

D = "2026-11-02 "


def ev(rows):
    """rows: (time "HH:MM:SS", alias, session, conversation, agent_id or None, agent_name or None)"""
    recs = []
    for time, kind, sid, cid, agent, name in rows:
        recs.append(
            {
                "event_time_utc": D + time,
                "event_type": kind,
                "session_id": sid,
                "conversation_id": cid,
                "agent_id": agent,
                "agent_name": name,
            }
        )
    return ca.make_events(recs)


# The worked log. Agents: A (renamed from "Alice" to "Alice Smith"), B, C.
LOG = [
    # s1: offered to A, accepted after 20 s; an email and a meeting in the chat; ended after 600 s
    ("09:00:00", "live_chat_requested", "s1", "c1", "A", "Alice"),
    ("09:00:20", "live_chat_initiated", "s1", "c1", "A", "Alice"),
    ("09:02:00", "email_input", "s1", "c1", None, None),
    ("09:03:00", "meeting_booked", "s1", "c1", "A", "Alice"),
    ("09:10:20", "live_chat_ended", "s1", "c1", "A", "Alice"),
    # s2: Team routing; B does not accept in 100 s, the retry goes to A, who accepts 30 s later; the chat
    # goes idle and times out 660 s after the accept; an email after the chat is not in it
    ("09:05:00", "live_chat_requested", "s2", "c1", "B", "Bob"),
    ("09:06:40", "live_chat_requested", "s2", "c1", "A", "Alice Smith"),
    ("09:07:10", "live_chat_initiated", "s2", "c1", "A", "Alice Smith"),
    ("09:18:10", "live_chat_timeout", "s2", "c1", "A", "Alice Smith"),
    ("09:20:00", "email_input", "s2", "c1", None, None),
    # s3: offered to B, times out after 100 s; the visitor closes the fallback message later
    ("10:00:00", "live_chat_requested", "s3", "c2", "B", "Bob"),
    ("10:01:40", "live_chat_timeout", "s3", "c2", "B", "Bob"),
    ("10:02:10", "closed", "s3", "c2", None, None),
    # s4: offered to C (a single offer), the visitor leaves after 45 s
    ("11:00:00", "live_chat_requested", "s4", "c2", "C", "Cleo"),
    ("11:00:45", "closed", "s4", "c2", None, None),
    # s5: offered to A, nothing follows: still open when the data end (13:00:00)
    ("12:00:00", "live_chat_requested", "s5", "c1", "A", "Alice Smith"),
    # s6: a meeting booked with A by the bot, not in a chat
    ("08:00:00", "meeting_booked", "s6", "c4", "A", "Alice"),
    # s7: an ENDED with no request before it
    ("12:30:00", "live_chat_ended", "s7", "c3", "B", "Bob"),
    # s8: the last event of the data
    ("13:00:00", "triggered", "s8", "c1", None, None),
]


@pytest.fixture(scope="module")
def log():
    return ev(LOG)


def by_agent(result):
    t = result.frame()
    return t.set_index(t["agent_id"].fillna("-"))


def test_requests_worked_by_hand(log):
    rec = rebuild_requests(log)
    r = rec.requests.set_index("session_id")
    assert r["outcome"].to_dict() == {
        "s1": "accepted",
        "s2": "accepted",
        "s3": "missed",
        "s4": "left",
        "s5": "open",
    }
    assert r["offers"].to_dict() == {"s1": 1, "s2": 2, "s3": 1, "s4": 1, "s5": 1}
    assert r.loc["s2", "first_agent_id"] == "B" and r.loc["s2", "last_agent_id"] == "A"
    assert r.loc["s2", "agent_id"] == "A"
    # request-level time to accept runs from the first offer
    assert r.loc["s1", "accept_seconds"] == 20 and r.loc["s2", "accept_seconds"] == 130
    assert r["wait_seconds"].to_dict() == {"s1": 20, "s2": 130, "s3": 100, "s4": 45, "s5": 3600}
    assert r.loc["s1", "chat_end"] == "ended" and r.loc["s2", "chat_end"] == "idle_timeout"
    assert r.loc["s1", "handle_seconds"] == 600 and r.loc["s2", "handle_seconds"] == 660
    assert r["emails_in_chat"].to_dict() == {"s1": 1, "s2": 0, "s3": 0, "s4": 0, "s5": 0}
    assert r["meetings_in_chat"].to_dict() == {"s1": 1, "s2": 0, "s3": 0, "s4": 0, "s5": 0}
    assert rec.data_end == pd.Timestamp(D + "13:00:00", tz="UTC")

    o = rec.offers.set_index(["session_id", "offer"])
    assert o["outcome"].to_dict() == {
        ("s1", 1): "accepted",
        ("s2", 1): "missed",
        ("s2", 2): "accepted",
        ("s3", 1): "missed",
        ("s4", 1): "left",
        ("s5", 1): "open",
    }
    # offer-level time to accept runs from that offer
    assert o.loc[("s2", 2), "accept_seconds"] == 30
    a = rec.anomalies.set_index("anomaly")["count"]
    assert a["live_chat_without_request"] == 1
    assert a.drop("live_chat_without_request").sum() == 0


def test_agent_table_worked_by_hand(log):
    t = by_agent(ca.agent_performance(log, shrink=False))
    a, b, c = t.loc["A"], t.loc["B"], t.loc["C"]
    assert list(t.index) == ["A", "B", "C"]  # no offer went unassigned, so no "(no agent)" row
    assert a["agent_name"] == "Alice Smith"  # the latest name of a renamed agent
    assert (a["offers"], a["accepted_offers"], a["missed"], a["left"], a["open"], a["accepted"]) == (
        3,
        2,
        0,
        0,
        1,
        2,
    )
    assert a["acceptance_rate"] == pytest.approx(2 / 3)
    # Wilson 95% for 2/3, worked by hand: centre 0.5731, half-width 0.3654
    assert a["acceptance_rate_low"] == pytest.approx(0.20766, abs=1e-5)
    assert a["acceptance_rate_high"] == pytest.approx(0.93851, abs=1e-5)
    assert a["accept_median_seconds"] == 25 and a["accept_p90_seconds"] == pytest.approx(29)
    assert a["chats_ended"] == 2 and a["idle_timeouts"] == 1
    assert a["handle_median_seconds"] == 630 and a["handle_total_seconds"] == 1260
    # chats [09:00:20, 09:10:20) and [09:07:10, 09:18:10): two at once for 190 s; busy 1070 s
    assert a["peak_concurrent_chats"] == 2
    assert a["busy_seconds"] == 1070
    assert a["mean_concurrent_chats"] == pytest.approx(1260 / 1070)
    assert a["at_cap_rate"] == 0
    assert (a["meetings_booked"], a["meetings_in_chats"], a["chats_with_meeting"]) == (2, 1, 1)
    assert a["meeting_rate"] == 0.5 and a["chats_with_email"] == 1 and a["email_rate"] == 0.5

    assert (b["offers"], b["accepted_offers"], b["missed"], b["accepted"]) == (2, 0, 2, 0)
    assert b["acceptance_rate"] == 0 and np.isnan(b["accept_median_seconds"])
    assert np.isnan(b["meeting_rate"]) and b["busy_seconds"] == 0 and np.isnan(b["mean_concurrent_chats"])
    assert (c["offers"], c["left"], c["acceptance_rate"], c["agent_name"]) == (1, 1, 0, "Cleo")


def test_summary_and_team_rollup(log):
    res = ca.agent_performance(log, teams={"A": "North", "B": "North"}, shrink=False)
    s = res.summary()
    assert (s["agents"], s["offers"], s["missed"], s["accept_median_seconds"]) == (3, 6, 2, 25)
    assert s["acceptance_rate"] == pytest.approx(2 / 6)
    team = res.frame("team").set_index("team")
    assert list(team.index) == ["(no team)", "North"]
    assert team.loc["North", "offers"] == 5 and team.loc["North", "accepted_offers"] == 2
    assert team.loc["(no team)", "offers"] == 1
    # a team's load: the highest agent peak, seconds summed over its agents
    assert team.loc["North", "peak_concurrent_chats"] == 2 and team.loc["North", "busy_seconds"] == 1070
    assert res.frame()["team"].tolist() == ["North", "North", "(no team)"]
    with pytest.raises(ca.InvalidParameterError):
        res.frame("floor")


def test_unassigned_offers_get_their_own_row():
    e = ev(
        [
            ("09:00:00", "live_chat_requested", "s1", "c1", None, None),
            ("09:01:40", "live_chat_timeout", "s1", "c1", None, None),
            ("09:05:00", "live_chat_requested", "s2", "c1", "A", "Ann"),
            ("09:05:05", "live_chat_initiated", "s2", "c1", "A", "Ann"),
        ]
    )
    t = ca.agent_performance(e, shrink=False).frame()
    none = t[t["agent_id"].isna()].iloc[0]
    assert none["agent_name"] == "(no agent)" and none["offers"] == 1 and none["missed"] == 1
    assert int(t["offers"].sum()) == 2
    # the accepted chat never ended: it holds A until 10 minutes after its last event, capped at the
    # data end (09:05:05 here), so no load and no handle time
    r = rebuild_requests(e).requests.set_index("session_id")
    assert r.loc["s2", "chat_end"] == "unobserved" and np.isnan(r.loc["s2", "handle_seconds"])


def test_unobserved_end_holds_the_agent_for_the_idle_timeout():
    e = ev(
        [
            ("09:00:00", "live_chat_requested", "s1", "c1", "A", "Ann"),
            ("09:00:10", "live_chat_initiated", "s1", "c1", "A", "Ann"),
            ("09:02:00", "email_input", "s1", "c1", None, None),
            ("11:00:00", "triggered", "s9", "c1", None, None),
        ]
    )
    r = rebuild_requests(e).requests.iloc[0]
    assert r["released_at"] == pd.Timestamp(D + "09:12:00", tz="UTC")
    a = ca.agent_performance(e, shrink=False).frame().iloc[0]
    assert a["busy_seconds"] == 710 and a["chats_ended"] == 0 and a["accepted"] == 1


def test_ties_take_the_lifecycle_order():
    e = ev(
        [
            # accept at the very instant of the request: accepted in 0 s
            ("09:00:00", "live_chat_initiated", "s1", "c1", "A", "Ann"),
            ("09:00:00", "live_chat_requested", "s1", "c1", "A", "Ann"),
            # closed at the instant of the request: the visitor left after 0 s
            ("09:00:00", "closed", "s2", "c1", None, None),
            ("09:00:00", "live_chat_requested", "s2", "c1", "A", "Ann"),
        ]
    )
    r = rebuild_requests(e).requests.set_index("session_id")
    assert r.loc["s1", "outcome"] == "accepted" and r.loc["s1", "accept_seconds"] == 0
    assert r.loc["s2", "outcome"] == "left" and r.loc["s2", "wait_seconds"] == 0


def test_broken_sequences_are_counted():
    e = ev(
        [
            # two accepts
            ("09:00:00", "live_chat_requested", "s1", "c1", "A", "Ann"),
            ("09:00:10", "live_chat_initiated", "s1", "c1", "A", "Ann"),
            ("09:00:11", "live_chat_initiated", "s1", "c1", "A", "Ann"),
            # accepted by someone else than offered
            ("09:00:00", "live_chat_requested", "s2", "c1", "A", "Ann"),
            ("09:00:10", "live_chat_initiated", "s2", "c1", "B", "Ben"),
            # an accept after the timeout
            ("09:00:00", "live_chat_requested", "s3", "c1", "A", "Ann"),
            ("09:01:40", "live_chat_timeout", "s3", "c1", "A", "Ann"),
            ("09:01:50", "live_chat_initiated", "s3", "c1", "A", "Ann"),
            # ended with no accept
            ("09:00:00", "live_chat_requested", "s4", "c1", "A", "Ann"),
            ("09:03:00", "live_chat_ended", "s4", "c1", "A", "Ann"),
            # no session id
            ("09:00:00", "live_chat_initiated", None, "c1", "A", "Ann"),
        ]
    )
    rec = rebuild_requests(e)
    a = rec.anomalies.set_index("anomaly")["count"].to_dict()
    assert a == {
        "two_accepts": 1,
        "accept_after_outcome": 1,
        "ended_without_accept": 1,
        "accepted_by_other_agent": 1,
        "live_chat_without_request": 0,
        "live_chat_without_ids": 1,
    }
    r = rec.requests.set_index("session_id")
    assert r.loc["s3", "outcome"] == "missed"
    assert r.loc["s4", "outcome"] == "accepted" and np.isnan(r.loc["s4", "accept_seconds"])
    assert r.loc["s2", "agent_id"] == "B"


def test_a_new_request_after_an_ended_chat():
    e = ev(
        [
            ("09:00:00", "live_chat_requested", "s1", "c1", "A", "Ann"),
            ("09:00:10", "live_chat_initiated", "s1", "c1", "A", "Ann"),
            ("09:05:00", "live_chat_ended", "s1", "c1", "A", "Ann"),
            ("09:06:00", "live_chat_requested", "s1", "c1", "B", "Ben"),
            ("09:07:40", "live_chat_timeout", "s1", "c1", "B", "Ben"),
        ]
    )
    r = rebuild_requests(e).requests
    assert r["request"].tolist() == [1, 2] and r["outcome"].tolist() == ["accepted", "missed"]


def test_periods_split_offers_and_load_in_the_time_zone():
    # 23:59:50 on Sunday 1 Nov in New York is Monday 04:59:50 UTC; the chat runs past local midnight
    e = ev(
        [
            ("04:59:50", "live_chat_requested", "s1", "c1", "A", "Ann"),
            ("04:59:55", "live_chat_initiated", "s1", "c1", "A", "Ann"),
            ("05:00:15", "live_chat_ended", "s1", "c1", "A", "Ann"),
        ]
    )
    t = ca.agent_performance(e, freq="day", tz="America/New_York", shrink=False).frame()
    assert t["period"].tolist() == [pd.Timestamp("2026-11-01"), pd.Timestamp("2026-11-02")]
    assert t["offers"].tolist() == [1, 0] and t["accepted"].tolist() == [1, 0]
    assert t["busy_seconds"].tolist() == [5, 15]
    w = ca.agent_performance(e, freq="week", tz="America/New_York", shrink=False).frame()
    assert w["period"].tolist() == [pd.Timestamp("2026-10-26"), pd.Timestamp("2026-11-02")]  # Mondays


def test_start_end_filter_offers(log):
    t = by_agent(ca.agent_performance(log, start=D + "09:30:00", end=D + "11:30:00", shrink=False))
    assert int(t["offers"].sum()) == 2  # s3 (B) and s4 (C)
    assert t.loc["B", "offers"] == 1 and t.loc["C", "offers"] == 1


def test_shrinkage_pulls_toward_the_team_rate(log):
    raw = by_agent(ca.agent_performance(log, shrink=False))
    shrunk = by_agent(ca.agent_performance(log, shrink=True))
    team = 2 / 6
    for agent in ["A", "B", "C"]:
        observed, pulled = raw.loc[agent, "acceptance_rate"], shrunk.loc[agent, "acceptance_rate"]
        assert shrunk.loc[agent, "observed_acceptance_rate"] == observed
        assert min(observed, team) - 1e-12 <= pulled <= max(observed, team) + 1e-12
    # the agent with one offer moves further (relative to its distance) than the one with three
    dist = {a: abs(shrunk.loc[a, "acceptance_rate"] - raw.loc[a, "acceptance_rate"]) for a in "AC"}
    span = {a: abs(team - raw.loc[a, "acceptance_rate"]) for a in "AC"}
    assert dist["C"] / span["C"] >= dist["A"] / span["A"]


def test_no_live_chat_is_a_clear_error():
    e = ev([("09:00:00", "triggered", "s1", "c1", None, None)])
    with pytest.raises(ca.EmptyDataError, match="live-chat"):
        ca.agent_performance(e, shrink=False)


def test_bad_parameters():
    e = ev(LOG)
    with pytest.raises(ca.InvalidParameterError, match="freq"):
        ca.agent_performance(e, freq="fortnight", shrink=False)
    with pytest.raises(ca.InvalidParameterError, match="tz"):
        ca.agent_performance(e, tz="Mars/Olympus", shrink=False)


def test_ibis_table_input_gives_the_same_table(log):
    import ibis

    expected = ca.agent_performance(log, shrink=False).frame()
    got = ca.agent_performance(ibis.memtable(log), shrink=False).frame()
    pd.testing.assert_frame_equal(got, expected)


def test_concurrency_points_half_open():
    req = pd.DataFrame(
        {
            "agent_id": pd.Series(["A", "A", "A"], dtype="str"),
            "accepted_at": pd.to_datetime([D + "09:00", D + "09:10", D + "09:05"], utc=True),
            "released_at": pd.to_datetime([D + "09:10", D + "09:20", D + "09:15"], utc=True),
        }
    )
    p = concurrency_points(req)
    # 09:00 1, 09:05 2, 09:10 (one ends as one starts) 2, 09:15 1, 09:20 0
    spans = p[p["seconds"] > 0]
    assert spans["chats"].tolist() == [1, 2, 2, 1]
    assert spans["seconds"].tolist() == [300, 300, 300, 300]
    assert p["chats"].max() == 2 and p["chats"].iloc[-1] == 0


# --------------------------------------------------------------------------- properties

KINDS = ["live_chat_requested", "live_chat_initiated", "live_chat_ended", "live_chat_timeout", "closed"]


@st.composite
def live_logs(draw):
    n = draw(st.integers(1, 40))
    rows = []
    for _ in range(n):
        rows.append(
            (
                f"09:{draw(st.integers(0, 5)):02d}:{draw(st.integers(0, 59)):02d}",
                draw(st.sampled_from(KINDS)),
                draw(st.sampled_from(["s1", "s2", "s3"])),
                draw(st.sampled_from(["c1", "c2"])),
                draw(st.sampled_from(["A", "B", None])),
                None,
            )
        )
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live_logs(), st.randoms(use_true_random=False))
def test_properties(rows, rnd):
    e = ev(rows)
    requested = int((e["event_type"] == "CONVERSATION_LIVE_CHAT_REQUESTED").sum())
    if requested == 0:
        with pytest.raises(ca.EmptyDataError):
            ca.agent_performance(e, shrink=False)
        return
    res = ca.agent_performance(e, shrink=False)
    t = res.frame()
    # every offer is counted once, for one agent (or the no-agent row)
    assert int(t["offers"].sum()) == requested
    assert (t["accepted_offers"] + t["missed"] + t["left"] + t["open"] == t["offers"]).all()
    req = res.frame("requests")
    assert req["outcome"].value_counts().sum() == len(req)
    assert int(req["offers"].sum()) == requested
    for col in [
        c for c in t.columns if c.endswith("_rate") or c.endswith("_rate_low") or c.endswith("_high")
    ]:
        v = t[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    # shuffling rows changes nothing
    order = list(range(len(e)))
    rnd.shuffle(order)
    again = ca.agent_performance(e.iloc[order].reset_index(drop=True), shrink=False).frame()
    pd.testing.assert_frame_equal(again, t)


# --------------------------------------------------------------------------- oracle


def _oracle(events: pd.DataFrame) -> pd.DataFrame:
    """Request outcomes recomputed with pandas alone, by a different route: sort, then shift."""
    life = [
        "CONVERSATION_LIVE_CHAT_REQUESTED",
        "CONVERSATION_LIVE_CHAT_INITIATED",
        "CONVERSATION_LIVE_CHAT_ENDED",
        "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT",
        "CONVERSATION_CLOSED",
        "CONVERSATION_COMPLETED",
    ]
    rank = {life[0]: 0, life[1]: 1, life[2]: 3, life[3]: 3, life[4]: 4, life[5]: 4}
    e = events[events["event_type"].isin(life)].copy()
    e = e.dropna(subset=["session_id", "conversation_id"])
    e["type"] = e["event_type"].astype(str)
    e["rank"] = e["type"].map(rank)
    e = e.sort_values(["session_id", "conversation_id", "event_time_utc", "rank", "type", "agent_id"])
    key = e["session_id"] + "|" + e["conversation_id"]
    same_key_prev = key.eq(key.shift())
    is_req = e["type"].eq(life[0])
    start = is_req & ~(same_key_prev & e["type"].shift().eq(life[0]))
    e["request"] = start.groupby(key).cumsum()
    e = e[e["request"] > 0]
    rkey = key[e.index] + "|" + e["request"].astype(str)
    first_req = e[is_req[e.index]].groupby(rkey[is_req[e.index]])["event_time_utc"].min()
    after = e[~is_req[e.index]]
    outcome_evt = after.groupby(rkey[after.index]).head(1)
    names = {life[1]: "accepted", life[2]: "accepted", life[3]: "missed", life[4]: "left", life[5]: "left"}
    out = pd.DataFrame({"requested_at": first_req})
    out["outcome"] = (
        pd.Series(outcome_evt["type"].map(names).to_numpy(), index=rkey[outcome_evt.index].to_numpy())
        .reindex(out.index)
        .fillna("open")
    )
    acc = outcome_evt[outcome_evt["type"] == life[1]]
    acc_times = pd.Series(acc["event_time_utc"].to_numpy(), index=rkey[acc.index].to_numpy())
    out["accept_seconds"] = (acc_times.reindex(out.index) - out["requested_at"]).dt.total_seconds()
    return out


def test_agrees_with_an_independent_recomputation():
    events = ca.simulate(20_000, seed=11)
    rec = rebuild_requests(events).requests
    mine = rec.set_index(rec["session_id"] + "|" + rec["conversation_id"] + "|" + rec["request"].astype(str))
    oracle = _oracle(events)
    assert len(mine) == len(oracle) > 300
    mine = mine.loc[oracle.index]
    assert (mine["outcome"].astype(str) == oracle["outcome"]).all()
    np.testing.assert_allclose(mine["accept_seconds"], oracle["accept_seconds"], equal_nan=True)
    # every outcome occurs, including Team-routing retries
    assert set(oracle["outcome"]) >= {"accepted", "missed", "left"}
    assert (mine["offers"] == 2).any()
    # per-agent offers add up to all offers
    t = ca.agent_performance(events, shrink=False).frame()
    assert int(t["offers"].sum()) == int(rec["offers"].sum())


def test_a_first_offer_to_no_agent_keeps_its_null():
    # arg_min-style shortcuts skip null values; the first offered agent here really is nobody
    e = ev(
        [
            ("09:00:00", "live_chat_requested", "s1", "c1", None, None),
            ("09:01:40", "live_chat_requested", "s1", "c1", "B", "Ben"),
            ("09:02:00", "live_chat_initiated", "s1", "c1", None, None),
        ]
    )
    r = rebuild_requests(e).requests.iloc[0]
    assert pd.isna(r["first_agent_id"]) and r["last_agent_id"] == "B"
    assert pd.isna(r["agent_id"]) and r["outcome"] == "accepted"


def test_shrinkage_without_spread_is_no_more_certain_than_all_the_data():
    # three agents at 5/10 each: no spread beyond noise, so all are pulled to 0.5; the prior weighs
    # as much as the 30 offers together, so each interval is Wilson's for 20 of 40
    rows = []
    for agent in "ABC":
        for i in range(10):
            sid = f"{agent}{i}"
            rows.append(("09:00:00", "live_chat_requested", sid, "c1", agent, agent))
            kind = "live_chat_initiated" if i < 5 else "live_chat_timeout"
            rows.append(("09:00:30", kind, sid, "c1", agent, agent))
    t = ca.agent_performance(ev(rows), shrink=True).frame()
    lo, hi = ca.analysis._stats.wilson(np.array([20.0]), np.array([40.0]))
    assert np.allclose(t["acceptance_rate"], 0.5)
    assert np.allclose(t["acceptance_rate_low"], lo[0]) and np.allclose(t["acceptance_rate_high"], hi[0])


def test_offers_to_nobody_are_not_shrunk_and_can_be_listed():
    e = ev(
        [
            ("09:00:00", "live_chat_requested", "s1", "c1", None, None),
            ("09:01:40", "live_chat_timeout", "s1", "c1", None, None),
            ("09:05:00", "live_chat_requested", "s2", "c1", "A", "Ann"),
            ("09:05:05", "live_chat_initiated", "s2", "c1", "A", "Ann"),
            ("09:06:00", "live_chat_requested", "s3", "c1", "B", "Ben"),
            ("09:07:40", "live_chat_timeout", "s3", "c1", "B", "Ben"),
        ]
    )
    res = ca.agent_performance(e, shrink=True)
    t = res.frame()
    assert t.loc[t["agent_id"].isna(), "acceptance_rate"].tolist() == [0.0]
    assert res.requests("(no agent)")["session_id"].tolist() == ["s1"]
    assert len(res.requests("A")) == 1


def test_end_before_start_is_refused(log):
    with pytest.raises(ca.InvalidParameterError, match="end"):
        ca.agent_performance(log, start=D + "12:00", end=D + "09:00", shrink=False)


def test_wilson_ends_are_exact():
    from chatanalytics.analysis._stats import wilson

    lo, hi = wilson(np.array([0.0, 7.0]), np.array([7.0, 7.0]))
    assert lo[0] == 0.0 and hi[1] == 1.0
