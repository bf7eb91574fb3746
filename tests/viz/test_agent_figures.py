"""Agent figures, tested by structure (traces, data, error bars, reference lines, captions), not pixels.

The hand-built frame (all times 2026-11-02, a Monday, UTC; one conversation ``c1`` per session):

* s1: offered to Ada (a1) 09:00:00, accepted 09:00:20, email 09:01, ended 09:05
* s2: offered to Ada 09:02:00, timed out 09:03:40 (missed)
* s5: offered to Ada 09:04:00, accepted 09:04:30, meeting with Ada 09:06, ended 09:10
* s3: offered to Bo (b2) 09:10:00, passed to Cy (c3) 09:11:40 (Bo missed), Cy accepted 09:12:00, closed 09:20
* s4: offered to nobody 10:00:00, timed out 10:01:40 (the "(no agent)" row, missed)

So: Ada 3 offers, 2 accepted (2/3), accept times 20 s and 30 s, 2 chats held at once 09:04:30-09:05:00;
Bo 1 offer, 0 accepted; Cy 1 offer, 1 accepted (20 s); (no agent) 1 offer, missed. Offers in the Monday
09:00 cell: 5 (2 missed); in the 10:00 cell: 1 (missed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics as ca
from chatanalytics.viz import (
    TEMPLATE,
    accept_time_figure,
    concurrency_figure,
    hour_weekday_figure,
    leaderboard_figure,
)
from chatanalytics.viz._definitions import METRICS
from chatanalytics.viz._theme import COLORS


def _event(t: str, kind: str, session: str, agent: str | None = None, name: str | None = None) -> dict:
    return {
        "event_time_utc": f"2026-11-02 {t}",
        "event_type": kind,
        "session_id": session,
        "conversation_id": "c1",
        "agent_id": agent,
        "agent_name": name,
    }


def tiny_events() -> pd.DataFrame:
    return ca.make_events(
        [
            _event("09:00:00", "live_chat_requested", "s1", "a1", "Ada"),
            _event("09:00:20", "live_chat_initiated", "s1", "a1", "Ada"),
            _event("09:01:00", "email_input", "s1"),
            _event("09:05:00", "live_chat_ended", "s1", "a1", "Ada"),
            _event("09:02:00", "live_chat_requested", "s2", "a1", "Ada"),
            _event("09:03:40", "live_chat_timeout", "s2"),
            _event("09:04:00", "live_chat_requested", "s5", "a1", "Ada"),
            _event("09:04:30", "live_chat_initiated", "s5", "a1", "Ada"),
            _event("09:06:00", "meeting_booked", "s5", "a1", "Ada"),
            _event("09:10:00", "live_chat_ended", "s5", "a1", "Ada"),
            _event("09:10:00", "live_chat_requested", "s3", "b2", "Bo"),
            _event("09:11:40", "live_chat_requested", "s3", "c3", "Cy"),
            _event("09:12:00", "live_chat_initiated", "s3", "c3", "Cy"),
            _event("09:20:00", "closed", "s3"),
            _event("10:00:00", "live_chat_requested", "s4"),
            _event("10:01:40", "live_chat_timeout", "s4"),
        ]
    )


@pytest.fixture(scope="module")
def tiny():
    return ca.agent_performance(tiny_events(), shrink=False)


@pytest.fixture(scope="module")
def weekly():
    return ca.agent_performance(ca.load_sample(), freq="week", tz="America/New_York", shrink=False)


def subtitle(fig: go.Figure) -> str:
    """The words a reader gets: the subtitle line, then the definition behind "About this chart"."""
    return (fig.layout.title.subtitle.text + " " + fig.layout.meta["about"]).replace("<br>", " ")


# --------------------------------------------------------------------------------------------------
# leaderboard
# --------------------------------------------------------------------------------------------------


def test_rate_leaderboard_on_the_hand_built_frame(tiny):
    fig = leaderboard_figure(tiny.frame(), tiny.params)
    bar = fig.data[0]
    assert bar.type == "bar" and bar.orientation == "h"
    assert fig.layout.template == go.Figure(layout={"template": TEMPLATE}).layout.template
    # Cy 1/1, Ada 2/3, Bo 0/1; the (no agent) row is not an agent's rate. Unshrunk, the rank goes by the
    # Wilson lower bound (z = 1.96): 1/1 gives 1 / (1 + z²) = 0.2065, 2/3 gives 0.2077, 0/1 gives 0, so
    # Ada's 2 of 3 ranks above Cy's 1 of 1. All three rest on fewer than 5 offers.
    assert [c[0] for c in bar.customdata] == ["a1", "c3", "b2"]
    assert list(bar.y) == ["Ada", "Cy", "Bo"]
    assert list(bar.x) == pytest.approx([2 / 3, 1.0, 0.0])
    assert fig.layout.yaxis.autorange == "reversed"  # the first row, the best, at the top
    t = tiny.frame().set_index("agent_id").loc[["a1", "c3", "b2"]]
    assert t["acceptance_rate_low"].tolist() == pytest.approx([0.20766, 0.20654, 0.0], abs=1e-5)
    assert bar.error_x.visible is True
    assert np.asarray(bar.x) + np.asarray(bar.error_x.array) == pytest.approx(t["acceptance_rate_high"])
    assert np.asarray(bar.x) - np.asarray(bar.error_x.arrayminus) == pytest.approx(t["acceptance_rate_low"])
    assert fig.layout.xaxis.tickformat == ".0%"
    values = fig.data[1]  # the value column beside the bars
    assert list(values.text) == ["67%   n=3", "100%   n=1", "0%   n=1"]
    assert "n = offers" in fig.layout.title.subtitle.text  # what n counts, once, in the subtitle line
    assert all("n=" in str(c[3]) for c in bar.customdata)  # n in the hover too
    text = subtitle(fig)
    assert METRICS["acceptance_rate"] in text and "denominator and n: offers" in text
    assert "period: the whole range" in text and "UTC" in text and "shrink: off" in text
    assert "not shown: (no agent)" in text
    assert (
        "ranked by the lower bound of the 95% interval, highest first; fewer than 5 offers: ranked last "
        "(paler bars)" in text
    )
    # below the minimum, paler bars
    assert list(bar.marker.color) == ["rgba(59,111,182,0.45)"] * 3


def test_rate_leaderboard_ranks_small_counts_last_and_shrunk_rates_by_value(tiny):
    # with a minimum of 3 offers, Ada (3 offers) stands alone above the two agents with 1 offer
    fig = leaderboard_figure(tiny.frame(), tiny.params, min_n=3)
    assert [c[0] for c in fig.data[0].customdata] == ["a1", "c3", "b2"]
    assert list(fig.data[0].marker.color) == [COLORS[0], "rgba(59,111,182,0.45)", "rgba(59,111,182,0.45)"]
    assert "fewer than 3 offers: ranked last" in subtitle(fig)
    # with a minimum of 1 nobody is below it, and the lower bounds alone decide: Ada, Cy, Bo
    fig = leaderboard_figure(tiny.frame(), tiny.params, min_n=1)
    assert [c[0] for c in fig.data[0].customdata] == ["a1", "c3", "b2"]
    assert "paler" not in subtitle(fig)
    # shrunk: the rank goes by the shrunk rate, and the raw rate stays printed beside it with n
    shrunk = ca.agent_performance(tiny_events(), shrink=True)
    t = shrunk.frame().set_index("agent_id")
    fig = leaderboard_figure(shrunk.frame(), shrunk.params, min_n=1)
    ids = [c[0] for c in fig.data[0].customdata]
    assert ids == t.loc[ids].sort_values("acceptance_rate", ascending=False).index.tolist()
    raw = {"a1": "67%", "c3": "100%", "b2": "0%"}
    n = {"a1": 3, "c3": 1, "b2": 1}
    for i, text in zip(ids, fig.data[1].text, strict=True):
        assert f"(raw {raw[i]})" in text and text.endswith(f"n={n[i]}")
    assert "ranked by the shrunk rate" in subtitle(fig)


def test_count_leaderboards_keep_the_no_agent_row(tiny):
    fig = leaderboard_figure(tiny.frame(), tiny.params, metric="offers")
    bar = fig.data[0]
    assert list(bar.y) == ["Ada", "(no agent)", "Bo", "Cy"]  # ties by name
    assert list(bar.x) == [3, 1, 1, 1]
    assert bar.error_x.visible is False
    assert fig.layout.xaxis.tickformat == ",d"
    missed = leaderboard_figure(tiny.frame(), tiny.params, metric="missed").data[0]
    assert missed.y[0] == "Cy" and list(missed.x) == [0, 1, 1, 1]  # fewest misses first
    assert "(no agent)" in list(missed.y)
    # an agent metric: no (no agent) bar, and agents without a value are left out and named
    median = leaderboard_figure(tiny.frame(), tiny.params, metric="accept_median_seconds")
    assert list(median.data[0].y) == ["Cy", "Ada"] and list(median.data[0].x) == [20.0, 25.0]
    assert "1 agent without accepted offers" in subtitle(median)


@pytest.mark.parametrize("metric", list(METRICS))
def test_every_metric_draws_its_column(weekly, metric):
    t = weekly.frame()
    fig = leaderboard_figure(t, weekly.params, metric=metric)
    bar = fig.data[0]
    latest = t[t["period"] == t["period"].max()]
    by_id = latest.set_index(latest["agent_id"].astype("object").fillna("(no agent)"))[metric]
    ids = [c[0] for c in bar.customdata]
    expected = [by_id["(no agent)" if i is None else i] for i in ids]
    assert list(bar.x) == pytest.approx(expected)
    assert len(bar.x) == len(bar.y) == len(fig.data[1].text)
    assert METRICS[metric] in subtitle(fig)


def test_periods_latest_by_default_or_picked(weekly):
    t = weekly.frame()
    fig = leaderboard_figure(t, weekly.params, metric="offers")
    text = subtitle(fig)
    assert "week of 2026-10-26, the latest of 4" in text and "America/New_York" in text
    for period in ("2026-10-12", pd.Timestamp("2026-10-12")):
        picked = leaderboard_figure(t, weekly.params, metric="offers", period=period)
        rows = t[t["period"] == pd.Timestamp("2026-10-12")]
        assert len(picked.data[0].x) == len(rows)
        assert sorted(picked.data[0].x) == sorted(rows["offers"])
        assert "week of 2026-10-12" in subtitle(picked)
    with pytest.raises(ca.InvalidParameterError) as err:
        leaderboard_figure(t, weekly.params, period="2026-10-13")
    assert err.value.param == "period" and "2026-10-12" in err.value.allowed


def test_agents_filter_keeps_only_those(weekly):
    keep = ["agent-1042", "318842"]
    fig = leaderboard_figure(weekly.frame(), weekly.params, period="2026-10-12", agents=keep)
    assert sorted(c[0] for c in fig.data[0].customdata) == sorted(keep)
    with pytest.raises(ca.InvalidParameterError, match="agents"):
        leaderboard_figure(weekly.frame(), weekly.params, agents=["nobody"])


def test_unknown_metric_is_an_invalid_parameter(tiny):
    with pytest.raises(ca.InvalidParameterError) as err:
        leaderboard_figure(tiny.frame(), tiny.params, metric="acceptance")
    assert err.value.param == "metric" and err.value.value == "acceptance"
    assert err.value.allowed == list(METRICS)
    assert "Did you mean 'acceptance_rate'" in str(err.value)
    with pytest.raises(ca.InvalidParameterError):
        tiny.figure(metric="speed")


def test_shrunk_rates_say_so():
    a = ca.agent_performance(ca.load_sample(), shrink=True)
    fig = a.figure(metric="meeting_rate")
    text = subtitle(fig)
    assert "shrink: on" in text and "accepted chats" in text
    assert all("observed" in str(c[5]) for c in fig.data[0].customdata)
    assert "shrink: off" in subtitle(ca.agent_performance(ca.load_sample(), shrink=False).figure())


def test_date_range_in_the_caption_and_an_empty_leaderboard():
    events = tiny_events()
    a = ca.agent_performance(events, start="2026-11-02 09:30", end="2026-11-03", shrink=False)
    fig = a.figure()
    assert len(fig.data[0].x) == 0 and fig.layout.annotations[0].text == "no agent to show"
    assert "offers and chats in [2026-11-02 09:30, 2026-11-03) UTC" in subtitle(fig)
    counts = a.figure(metric="offers")
    assert list(counts.data[0].y) == ["(no agent)"] and list(counts.data[0].x) == [1]


# --------------------------------------------------------------------------------------------------
# time to accept
# --------------------------------------------------------------------------------------------------


def test_accept_time_boxes_and_the_100_second_line(tiny):
    fig = accept_time_figure(tiny.accept_times(), tiny.params)
    assert [t.type for t in fig.data] == ["box", "box"]
    assert [t.name for t in fig.data] == ["Ada (n=2)", "Cy (n=1)"]
    assert sorted(fig.data[0].y) == [20.0, 30.0] and list(fig.data[1].y) == [20.0]
    (line,) = fig.layout.shapes
    assert line.y0 == line.y1 == 100 and line.line.dash == "dash"
    assert (
        "time from the offer to the agent's accept, accepted offers only; Adobe's accept window is 100 s"
        in subtitle(fig)
    )
    violins = tiny.figure("accept_time", style="violin")
    assert [t.type for t in violins.data] == ["violin", "violin"]
    with pytest.raises(ca.InvalidParameterError, match="style"):
        accept_time_figure(tiny.accept_times(), tiny.params, style="strip")


def test_accept_times_of_the_sample_one_box_per_agent(weekly):
    times = weekly.accept_times()
    fig = weekly.figure("accept_time")
    assert len(fig.data) == times["agent_id"].nunique()
    assert sum(len(t.y) for t in fig.data) == len(times)


# --------------------------------------------------------------------------------------------------
# hour by weekday
# --------------------------------------------------------------------------------------------------


def test_heatmap_is_the_cells_table(weekly):
    cells = weekly.hour_weekday()
    for value in ("offers", "missed", "miss_rate"):
        fig = hour_weekday_figure(cells, weekly.params, value=value)
        (heat,) = fig.data
        assert heat.type == "heatmap"
        z = np.asarray(heat.z, dtype=float)
        assert z.shape == (7, 24)
        expected = cells.sort_values(["weekday", "hour"])[value].to_numpy(float).reshape(7, 24)
        np.testing.assert_array_equal(z, expected)
    assert heat.y[0] == "Monday" and fig.layout.yaxis.autorange == "reversed"
    assert list(heat.x) == list(range(24))
    text = subtitle(fig)
    assert "America/New_York" in text and "missed offers / offers in the cell" in text
    with pytest.raises(ca.InvalidParameterError, match="value"):
        hour_weekday_figure(cells, weekly.params, value="accepted")
    with pytest.raises(ca.InvalidParameterError, match="168"):
        hour_weekday_figure(cells.head(100), weekly.params)


def test_heatmap_cells_of_the_hand_built_frame(tiny):
    z = np.asarray(tiny.figure("heatmap").data[0].z, dtype=float)
    assert z[0, 9] == 5 and z[0, 10] == 1 and z.sum() == 6
    rate = np.asarray(tiny.figure("heatmap", value="miss_rate").data[0].z, dtype=float)
    assert rate[0, 9] == pytest.approx(0.4) and rate[0, 10] == 1.0 and np.isnan(rate[1, 9])


# --------------------------------------------------------------------------------------------------
# concurrency
# --------------------------------------------------------------------------------------------------


def test_concurrency_step_line_and_the_cap(tiny):
    fig = concurrency_figure(tiny.concurrency("a1"), tiny.params, agent_id="a1")
    (line,) = fig.data
    assert line.type == "scatter" and line.line.shape == "hv"
    assert list(line.y) == [1, 2, 1, 0]
    assert [pd.Timestamp(x) for x in line.x] == [
        pd.Timestamp(f"2026-11-02 {t}") for t in ("09:00:20", "09:04:30", "09:05:00", "09:10:00")
    ]
    (cap,) = fig.layout.shapes
    assert cap.y0 == cap.y1 == tiny.params["cap"] == 10 and cap.line.dash == "dash"
    text = subtitle(fig)
    assert "counted from the accept to the chat's end" in text
    assert "10 min after the conversation's last event" in text
    together = tiny.figure("concurrency")
    assert list(together.data[0].y) == [1, 2, 1, 0, 1, 0] and not together.layout.shapes


def test_concurrency_in_local_time(weekly):
    points = weekly.concurrency("agent-1042")
    fig = weekly.figure("concurrency", agent_id="agent-1042")
    local = points["at"].dt.tz_convert("America/New_York").dt.tz_localize(None)
    assert [pd.Timestamp(x) for x in fig.data[0].x] == list(local)
    assert fig.layout.xaxis.title.text == "Time (America/New_York)"
