"""timeouts(): hand-worked outcomes and survival curves, lifelines as the oracle, determinism, causes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.analysis._stats import chi2_sf, holm

D = "2026-11-02 "


def ev(rows):
    """rows: (time "HH:MM:SS", alias, session, conversation, agent_id or None, extra dict or None)"""
    recs = []
    for time, kind, sid, cid, agent, extra in rows:
        rec = {
            "event_time_utc": D + time,
            "event_type": kind,
            "session_id": sid,
            "conversation_id": cid,
            "agent_id": agent,
        }
        rec.update(extra or {})
        recs.append(rec)
    return ca.make_events(recs)


POPUP, INLINE = {"ui_type": "popup"}, {"ui_type": "inline"}
# Six requests, all made at 09:00:00; the data end at 09:11:00 (r5's idle timeout).
LOG = [
    # r1: accepted after 10 s, ended
    ("09:00:00", "live_chat_requested", "s1", "c1", "A", POPUP),
    ("09:00:10", "live_chat_initiated", "s1", "c1", "A", None),
    ("09:05:00", "live_chat_ended", "s1", "c1", "A", None),
    # r2: accepted after 10 s (a tie with r1), no end recorded
    ("09:00:00", "live_chat_requested", "s2", "c1", "B", POPUP),
    ("09:00:10", "live_chat_initiated", "s2", "c1", "B", None),
    # r3: the visitor left after 10 s (censored at 10 s, just after the accepts at 10 s)
    ("09:00:00", "live_chat_requested", "s3", "c1", "A", INLINE),
    ("09:00:10", "closed", "s3", "c1", None, None),
    # r4: missed: the 100-second timeout; C held no chat, so the cause is the response
    ("09:00:00", "live_chat_requested", "s4", "c1", "C", INLINE),
    ("09:01:40", "live_chat_timeout", "s4", "c1", "C", None),
    # r5: accepted after 30 s, ended by the idle timeout
    ("09:00:00", "live_chat_requested", "s5", "c1", "A", INLINE),
    ("09:00:30", "live_chat_initiated", "s5", "c1", "A", None),
    ("09:11:00", "live_chat_timeout", "s5", "c1", "A", None),
    # r6: still open at the end of the data: censored at 660 s
    ("09:00:00", "live_chat_requested", "s6", "c1", "A", INLINE),
]


@pytest.fixture(scope="module")
def log():
    return ev(LOG)


def test_outcomes_worked_by_hand(log):
    t = ca.timeouts(log)
    o = t.frame("outcomes")
    overall = o[o["slice"] == "all"].set_index("outcome")
    assert overall["count"].to_dict() == {"accepted": 3, "missed": 1, "left": 1, "open": 1, "idle_timeout": 1}
    assert overall["denominator"].to_dict() == {
        "accepted": 6,
        "missed": 6,
        "left": 6,
        "open": 6,
        "idle_timeout": 3,  # accepted chats
    }
    assert overall.loc["idle_timeout", "basis"] == "accepted chats"
    assert overall.loc["accepted", "share"] == 0.5
    # Wilson 95% for 3 of 6, by hand: centre 0.5, half-width 0.3338
    assert overall.loc["accepted", "share_low"] == pytest.approx(0.18761, abs=1e-5)
    assert overall.loc["accepted", "share_high"] == pytest.approx(0.81239, abs=1e-5)
    hours = o[(o["slice"] == "hour") & (o["basis"] == "requests")]
    assert set(hours["group"]) == {"9"} and hours["denominator"].unique().tolist() == [6]
    days = o[o["slice"] == "day"]
    assert set(days["group"]) == {"2026-11-02"}
    weekday = o[o["slice"] == "weekday"]
    assert set(weekday["group"]) == {"Monday"}


def test_curves_worked_by_hand(log):
    c = ca.timeouts(log).frame("curves").set_index("seconds")
    assert c.index.tolist() == [10, 30, 100, 660]
    assert c["at_risk"].tolist() == [6, 3, 2, 1]
    assert c["accepted"].tolist() == [2, 1, 0, 0] and c["left"].tolist() == [1, 0, 0, 0]
    assert c["missed"].tolist() == [0, 0, 1, 0] and c["censored"].tolist() == [0, 0, 0, 1]
    # Kaplan-Meier of time to accept (left, missed, open censored): S(10) = 4/6, S(30) = 4/6 * 2/3
    np.testing.assert_allclose(c["accepted_share"], [1 / 3, 5 / 9, 5 / 9, 5 / 9])
    # Aalen-Johansen: at 10 s all 3 events leave together (S = 1/2); at 30 s 1 of 3 accepts (S = 1/3);
    # at 100 s 1 of 2 is missed
    np.testing.assert_allclose(c["cif_accepted"], [1 / 3, 1 / 2, 1 / 2, 1 / 2])
    np.testing.assert_allclose(c["cif_left"], [1 / 6, 1 / 6, 1 / 6, 1 / 6])
    np.testing.assert_allclose(c["cif_missed"], [0, 0, 1 / 6, 1 / 6])
    assert (c["accepted_share_low"] <= c["accepted_share"]).all()
    assert (c["accepted_share"] <= c["accepted_share_high"]).all()


def test_service_level_and_waits_by_hand(log):
    t = ca.timeouts(log)
    sl = t.frame("service_level").set_index("seconds")
    np.testing.assert_allclose(sl["service_level"], [1 / 3, 1 / 3, 1 / 2, 1 / 2, 1 / 2, 1 / 2])
    assert sl["answered_within"].tolist() == [2, 2, 3, 3, 3, 3] and sl["requests"].unique().tolist() == [6]
    w = t.frame("waits").iloc[0]
    assert (w["requests"], w["accepted"], w["median_seconds"]) == (6, 3, 30)
    assert np.isnan(w["p90_seconds"])  # the curve never reaches 90%


def test_causes_and_summary(log):
    t = ca.timeouts(log)
    causes = t.frame("causes").set_index("cause")["missed"].to_dict()
    assert causes == {"no_agent": 0, "agent_at_cap": 0, "not_accepted": 1}
    s = t.summary()
    assert (s["requests"], s["missed"], s["left"], s["median_wait_seconds"]) == (6, 1, 1, 30)
    assert s["main_cause"] == "not_accepted"
    assert s["service_level_60s"] == pytest.approx(0.5)
    missed = t.requests("missed")
    assert missed["session_id"].tolist() == ["s4"] and missed["cause"].tolist() == ["not_accepted"]


def test_causes_staffing_versus_response():
    rows = []
    # agent D accepts ten chats at 10:00 that last an hour: D is at the cap
    for i in range(10):
        rows.append(("10:00:00", "live_chat_requested", f"d{i}", "c1", "D", None))
        rows.append(("10:00:05", "live_chat_initiated", f"d{i}", "c1", "D", None))
        rows.append(("11:00:00", "live_chat_ended", f"d{i}", "c1", "D", None))
    rows += [
        # offered to D at its cap: staffing
        ("10:30:00", "live_chat_requested", "x1", "c1", "D", None),
        ("10:31:40", "live_chat_timeout", "x1", "c1", "D", None),
        # offered to nobody: staffing
        ("10:30:00", "live_chat_requested", "x2", "c1", None, None),
        ("10:31:40", "live_chat_timeout", "x2", "c1", None, None),
        # offered to E, who held nothing: response
        ("10:30:00", "live_chat_requested", "x3", "c1", "E", None),
        ("10:31:40", "live_chat_timeout", "x3", "c1", "E", None),
        # Team routing: nobody, then D (at the cap): the last offered agent decides
        ("10:40:00", "live_chat_requested", "x4", "c1", None, None),
        ("10:41:40", "live_chat_requested", "x4", "c1", "D", None),
        ("10:43:20", "live_chat_timeout", "x4", "c1", "D", None),
        # offered to D after its chats ended (half-open: an end at 11:00 frees the slot at 11:00)
        ("11:00:00", "live_chat_requested", "x5", "c1", "D", None),
        ("11:01:40", "live_chat_timeout", "x5", "c1", "D", None),
    ]
    t = ca.timeouts(ev(rows))
    got = t.requests("missed").set_index("session_id")["cause"].to_dict()
    assert got == {
        "x1": "agent_at_cap",
        "x2": "no_agent",
        "x3": "not_accepted",
        "x4": "agent_at_cap",
        "x5": "not_accepted",
    }


def test_by_groups_slices_and_logrank(log):
    t = ca.timeouts(log, by="ui_type")
    o = t.frame("outcomes")
    by = o[(o["slice"] == "ui_type") & (o["basis"] == "requests")]
    assert list(dict.fromkeys(by["group"])) == ["inline", "popup"]  # the larger group first
    assert by.groupby("group")["denominator"].first().to_dict() == {"inline": 4, "popup": 2}
    popup = by[by["group"] == "popup"].set_index("outcome")["count"].to_dict()
    assert popup == {"accepted": 2, "missed": 0, "left": 0, "open": 0}
    curves = t.frame("curves")
    assert set(curves["group"]) == {"All", "inline", "popup"}
    lr = t.frame("logrank")
    assert lr["comparison"].tolist() == ["all groups", "inline vs popup"]
    assert lr["df"].tolist() == [1, 1]
    assert lr["chi2"].iloc[0] == pytest.approx(lr["chi2"].iloc[1])  # two groups: the same test
    only_inline = ca.timeouts(log, where={"ui_type": "inline"})
    assert only_inline.summary()["requests"] == 4


def test_chi2_and_holm_against_scipy_and_by_hand():
    from scipy.stats import chi2

    for x in (0.01, 0.5, 3.0, 12.0, 80.0):
        for df in (1, 2, 3, 7):
            assert chi2_sf(x, df) == pytest.approx(chi2.sf(x, df), rel=1e-10, abs=1e-15)
    # Holm by hand: sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04 -> running max
    assert holm(np.array([0.04, 0.01, 0.03])).tolist() == pytest.approx([0.06, 0.03, 0.06])


@pytest.fixture(scope="module")
def simulated():
    return ca.simulate(20_000, seed=5)


NEVER = 1e12  # a missed request is never accepted: it stays at risk beyond any wait in the data


def _waits(result, missed_never_accepted=False):
    r = result.requests()
    r = r[~((r["outcome"] == "accepted") & r["accept_seconds"].isna())]
    times = np.where(r["outcome"] == "accepted", r["accept_seconds"], r["wait_seconds"])
    if missed_never_accepted:
        times = np.where(r["outcome"] == "missed", NEVER, times)
    code = r["outcome"].map({"open": 0, "accepted": 1, "missed": 2, "left": 3}).to_numpy()
    return times.astype(float), code


def test_kaplan_meier_agrees_with_lifelines(simulated):
    from lifelines import KaplanMeierFitter

    t = ca.timeouts(simulated)
    times, code = _waits(t, missed_never_accepted=True)
    km = KaplanMeierFitter().fit(times, code == 1)
    c = t.frame("curves")
    c = c[c["group"] == "All"]
    # lifelines' curve at each of our times (the grid also holds the timeouts, where nothing changes)
    at = km.survival_function_.index.searchsorted(c["seconds"].to_numpy(), side="right") - 1
    sf = km.survival_function_.iloc[:, 0].to_numpy()
    expected = 1 - sf[at]
    np.testing.assert_allclose(c["accepted_share"].to_numpy(), expected, atol=1e-9, rtol=0)
    ci = km.confidence_interval_.to_numpy()[at]
    np.testing.assert_allclose(c["accepted_share_high"], 1 - ci[:, 0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(c["accepted_share_low"], 1 - ci[:, 1], atol=1e-9, rtol=0)
    # missed requests are never accepted: the curve levels off below 1
    assert c["accepted_share"].iloc[-1] < 0.9


def test_aalen_johansen_agrees_with_lifelines_on_tie_free_data(simulated):
    from lifelines import AalenJohansenFitter

    from chatanalytics.analysis._stats import aalen_johansen

    times, code = _waits(ca.timeouts(simulated))
    # break the ties (every missed request waits exactly 100 s) the same way for both estimators
    order = np.lexsort((code, times))
    tie_free = np.empty(len(times))
    tie_free[order] = times[order] + np.arange(len(times)) * 1e-6
    ours = aalen_johansen(tie_free, code, 3)
    for cause in (1, 2, 3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # lifelines would jitter ties and say so
            aj = AalenJohansenFitter(calculate_variance=True).fit(tie_free, code, event_of_interest=cause)
        theirs = aj.cumulative_density_.iloc[:, 0].reindex(ours["time"]).to_numpy()
        np.testing.assert_allclose(ours["cif"][cause - 1], theirs, atol=1e-9, rtol=0)
        bounds = aj.confidence_interval_.reindex(ours["time"]).to_numpy()
        lo, hi = np.fmin(bounds[:, 0], bounds[:, 1]), np.fmax(bounds[:, 0], bounds[:, 1])
        ok = ~np.isnan(lo)
        np.testing.assert_allclose(ours["low"][cause - 1][ok], lo[ok], atol=1e-9, rtol=0)
        np.testing.assert_allclose(ours["high"][cause - 1][ok], hi[ok], atol=1e-9, rtol=0)


def test_logrank_agrees_with_lifelines(simulated):
    from lifelines.statistics import multivariate_logrank_test

    t = ca.timeouts(simulated, by="ui_type")
    r = t.requests()
    r = r[~((r["outcome"] == "accepted") & r["accept_seconds"].isna())]
    times = np.where(r["outcome"] == "accepted", r["accept_seconds"], r["wait_seconds"])
    times = np.where(r["outcome"] == "missed", NEVER, times)
    theirs = multivariate_logrank_test(times, r["group"].to_numpy(), (r["outcome"] == "accepted").to_numpy())
    ours = t.frame("logrank").iloc[0]
    assert ours["chi2"] == pytest.approx(theirs.test_statistic, rel=1e-9)
    assert ours["p_value"] == pytest.approx(theirs.p_value, rel=1e-6)


def test_same_numbers_whatever_the_row_order(simulated):
    first = ca.timeouts(simulated, by="conversation_name", tz="Europe/Berlin")
    shuffled = simulated.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = ca.timeouts(shuffled, by="conversation_name", tz="Europe/Berlin")
    for kind in ("outcomes", "curves", "service_level", "waits", "causes", "heatmap", "logrank"):
        pd.testing.assert_frame_equal(first.frame(kind), again.frame(kind), check_exact=True)


def test_outcome_totals_add_up(simulated):
    t = ca.timeouts(simulated, by="hour", tz="America/New_York")
    o = t.frame("outcomes")
    req = o[o["basis"] == "requests"]
    per = req.groupby(["slice", "group"])
    assert (per["count"].sum() == per["denominator"].first()).all()
    totals = req.groupby("slice")["count"].sum()
    assert (totals == t.summary()["requests"]).all()
    heat = t.frame("heatmap")
    assert heat["requests"].sum() == t.summary()["requests"] and len(heat) == 168


def test_no_live_chat_is_a_clear_message():
    e = ev(
        [("09:00:00", "triggered", "s1", "c1", None, None), ("09:00:05", "engaged", "s1", "c1", None, None)]
    )
    with pytest.raises(ca.EmptyDataError, match="needs live chat"):
        ca.timeouts(e)


def test_bad_parameters(log):
    with pytest.raises(ca.InvalidParameterError, match="by"):
        ca.timeouts(log, by="colour")
    with pytest.raises(ca.InvalidParameterError, match="where"):
        ca.timeouts(log, where={"colour": "red"})
    with pytest.raises(ca.InvalidParameterError, match="pies"):
        ca.timeouts(log).frame("pies")
    with pytest.raises(ca.InvalidParameterError, match="end"):
        ca.timeouts(log, start=D + "10:00", end=D + "09:00")
    with pytest.raises(ca.EmptyDataError):
        ca.timeouts(log, where={"ui_type": "chatbot"})


def test_ibis_table_input_gives_the_same_tables(log):
    import ibis

    expected = ca.timeouts(log, by="ui_type")
    got = ca.timeouts(ibis.memtable(log), by="ui_type")
    for kind in ("outcomes", "curves", "service_level", "waits", "causes"):
        pd.testing.assert_frame_equal(got.frame(kind), expected.frame(kind))
