"""Timeout figures, tested by structure (traces, data, bands, reference lines, captions), not pixels.

The hand-built frame (all times 2026-11-02, a Monday, UTC; one conversation ``c1`` per session):

* s1 (popup): offered to Ada (a1) 09:00:00, accepted 09:00:20 (20 s), ended 09:05
* s2 (popup): offered to Ada 09:02:00, timed out 09:03:40: missed at 100 s; Ada held 1 chat (s1), so
  the cause is ``not_accepted``
* s3 (inline): offered to nobody 09:10:00, timed out 09:11:40: missed at 100 s, cause ``no_agent``
* s4 (inline): offered to Bo (b2) 09:20:00, visitor closed 09:20:30: left at 30 s
* s5 (inline): offered to Ada 10:00:00, accepted 10:00:50 (50 s), idle timeout 10:11:00
* s6 (popup): offered to Bo 10:05:00, nothing after: open until the data end (10:11:00), 360 s

So, of 6 requests: accepted 2, missed 2, left 1, open 1; 1 of the 2 accepted chats ended by the idle
timeout. Time to accept (missed, left, open censored), all requests: waits 20 (accept), 30 (censored),
50 (accept), 100 (2 censored), 360 (censored); at risk 6, 5, 4, 3, 1; share accepted 1/6 from 20 s,
1 - 5/6 * 3/4 = 3/8 from 50 s. At risk at 0, 20, 40, 60, 80, 100, 150, 200 s: 6, 6, 4, 3, 3, 3, 1, 1
(inline: 3, 3, 2, 1, 1, 1, 0, 0; popup: 3, 3, 2, 2, 2, 2, 1, 1). Competing outcomes: accepted 1/6 at
20 s and 1/3 from 50 s, left 1/6 from 30 s, missed 1/3 from 100 s. Service level at 10, 20, 30, 45, 60,
100 s: 0, 1/6, 1/6, 1/6, 1/3, 1/3. Monday 09:00 cell: 4 requests, 2 missed; 10:00: 2 requests, none
missed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics as ca
from chatanalytics.viz import (
    AT_RISK_SECONDS,
    TEMPLATE,
    causes_figure,
    curves_figure,
    heatmap_figure,
    outcomes_figure,
    service_level_figure,
)
from chatanalytics.viz._definitions import CAUSES, SERVICE_LEVEL_SECONDS

TZ = "America/New_York"


def _event(t: str, kind: str, session: str, ui: str, agent: str | None = None, name: str | None = None):
    return {
        "event_time_utc": f"2026-11-02 {t}",
        "event_type": kind,
        "session_id": session,
        "conversation_id": "c1",
        "agent_id": agent,
        "agent_name": name,
        "ui_type": ui,
    }


def tiny_events() -> pd.DataFrame:
    return ca.make_events(
        [
            _event("09:00:00", "live_chat_requested", "s1", "popup", "a1", "Ada"),
            _event("09:00:20", "live_chat_initiated", "s1", "popup", "a1", "Ada"),
            _event("09:05:00", "live_chat_ended", "s1", "popup", "a1", "Ada"),
            _event("09:02:00", "live_chat_requested", "s2", "popup", "a1", "Ada"),
            _event("09:03:40", "live_chat_timeout", "s2", "popup"),
            _event("09:10:00", "live_chat_requested", "s3", "inline"),
            _event("09:11:40", "live_chat_timeout", "s3", "inline"),
            _event("09:20:00", "live_chat_requested", "s4", "inline", "b2", "Bo"),
            _event("09:20:30", "closed", "s4", "inline"),
            _event("10:00:00", "live_chat_requested", "s5", "inline", "a1", "Ada"),
            _event("10:00:50", "live_chat_initiated", "s5", "inline", "a1", "Ada"),
            _event("10:11:00", "live_chat_timeout", "s5", "inline"),
            _event("10:05:00", "live_chat_requested", "s6", "popup", "b2", "Bo"),
        ]
    )


@pytest.fixture(scope="module")
def tiny():
    return ca.timeouts(tiny_events(), by="ui_type")


@pytest.fixture(scope="module")
def sim():
    return ca.timeouts(ca.simulate(20000, seed=3), tz=TZ, by="ui_type")


def subtitle(fig: go.Figure) -> str:
    """The words a reader gets: the subtitle line, then the definition behind "About this chart"."""
    return (fig.layout.title.subtitle.text + " " + fig.layout.meta["about"]).replace("<br>", " ")


def by_name(fig: go.Figure) -> dict[str, object]:
    return {t.name: t for t in fig.data}


# --------------------------------------------------------------------------------------------------
# outcomes
# --------------------------------------------------------------------------------------------------


def test_outcomes_of_all_requests_on_the_hand_built_frame(tiny):
    fig = outcomes_figure(tiny.frame("outcomes"), tiny.params)
    assert [t.type for t in fig.data] == ["bar", "bar", "scatter"]
    assert fig.layout.template == go.Figure(layout={"template": TEMPLATE}).layout.template
    requests, idle, text = fig.data
    assert list(requests.x) == ["accepted", "missed", "left", "open"]
    assert list(requests.y) == pytest.approx([2 / 6, 2 / 6, 1 / 6, 1 / 6])
    assert list(idle.x) == ["idle_timeout"] and list(idle.y) == [0.5]
    assert idle.marker.pattern.shape == "/"  # drawn apart: its basis is accepted chats
    assert requests.name == "share of requests (n = 6)" and idle.name == "share of accepted chats (n = 2)"
    o = tiny.frame("outcomes").query("slice == 'all'")
    for bar, rows in ((requests, o[o["basis"] == "requests"]), (idle, o[o["outcome"] == "idle_timeout"])):
        y = np.asarray(bar.y)
        assert y + np.asarray(bar.error_y.array) == pytest.approx(rows["share_high"].to_numpy())
        assert y - np.asarray(bar.error_y.arrayminus) == pytest.approx(rows["share_low"].to_numpy())
    # n in the text above the bars and in the hover
    assert list(text.text) == [
        "33.3%<br>2 / 6",
        "33.3%<br>2 / 6",
        "16.7%<br>1 / 6",
        "16.7%<br>1 / 6",
        "50.0%<br>1 / 2",
    ]
    assert list(text.y) == pytest.approx(o["share_high"].tolist())
    assert [tuple(c[2:5]) for c in idle.customdata] == [("1", "2", "accepted chats")]
    assert tuple(requests.customdata[0][2:4]) == ("2", "6")
    caption = subtitle(fig)
    assert "denominator: all requests (n = 6)" in caption
    assert "share of accepted chats (not of requests)" in caption
    assert "no agent accepted within Adobe's 100 s window" in caption
    assert "time basis: the request's first offer, UTC" in caption
    assert "95% Wilson intervals" in caption


@pytest.mark.parametrize("slice", ["ui_type", "hour", "weekday", "day"])
def test_outcomes_by_slice_are_grouped_bars_of_the_table(sim, slice):
    o = sim.frame("outcomes")
    rows = o[(o["slice"] == slice) & (o["basis"] == "requests")]
    fig = sim.figure("outcomes", slice=slice)
    assert [t.type for t in fig.data] == ["bar"] * 4
    assert [t.name for t in fig.data] == ["accepted", "missed", "visitor left", "still open"]
    groups = list(dict.fromkeys(rows["group"]))
    assert list(fig.layout.xaxis.categoryarray) == groups and fig.layout.barmode == "group"
    for bar, outcome in zip(fig.data, ["accepted", "missed", "left", "open"], strict=True):
        sub = rows[rows["outcome"] == outcome]
        assert list(bar.x) == groups
        assert list(bar.y) == pytest.approx(sub["share"].tolist())
        assert np.asarray(bar.y) + np.asarray(bar.error_y.array) == pytest.approx(sub["share_high"])
        if len(groups) <= 8:
            assert list(bar.text) == [
                f"{k:,} / {n:,}" for k, n in zip(sub["count"], sub["denominator"], strict=True)
            ]
        else:  # bars too narrow for a label: the counts are in the hover only
            assert bar.text is None and bar.textposition == "none"
            assert "%{customdata[2]} of %{customdata[3]}" in bar.hovertemplate
    caption = subtitle(fig)
    assert "denominator: the requests whose first offer falls in the" in caption and TZ in caption
    assert ("groups: ui_type of the request's first offer" in caption) == (slice == "ui_type")


def test_an_unknown_slice_is_an_invalid_parameter(sim):
    with pytest.raises(ca.InvalidParameterError) as err:
        outcomes_figure(sim.frame("outcomes"), sim.params, slice="hours")
    assert err.value.param == "slice" and err.value.value == "hours"
    assert err.value.allowed == ["all", "ui_type", "hour", "weekday", "day"]
    assert "Did you mean 'hour'" in str(err.value)
    with pytest.raises(ca.InvalidParameterError, match="slice"):
        sim.figure(slice="agent_id")


# --------------------------------------------------------------------------------------------------
# curves
# --------------------------------------------------------------------------------------------------


def risk_rows(fig: go.Figure) -> dict[str, list[int]]:
    return {t.name.removeprefix("at risk: "): list(t.customdata) for t in fig.data if t.mode == "text"}


def test_time_to_accept_on_the_hand_built_frame(tiny):
    fig = curves_figure(tiny.frame("curves"), tiny.params)
    traces = by_name(fig)
    line = traces["All"]
    assert line.line.shape == "hv" and line.xaxis == "x" and line.yaxis == "y"
    assert list(line.x) == [0, 20, 30, 50, 100, 360]
    assert list(line.y) == pytest.approx([0, 1 / 6, 1 / 6, 3 / 8, 3 / 8, 3 / 8])
    c = tiny.frame("curves").query("group == 'All'")
    low, high = traces["All 95% band (low)"], traces["All 95% band"]
    assert high.fill == "tonexty" and low.line.shape == high.line.shape == "hv"
    assert list(low.y) == pytest.approx([0, *c["accepted_share_low"]])
    assert list(high.y) == pytest.approx([0, *c["accepted_share_high"]])
    lines = [t.name for t in fig.data if t.mode == "lines" and "band" not in t.name]
    assert lines == ["All", "inline", "popup"]  # one curve per group, in the table's order
    assert risk_rows(fig) == {
        "All": [6, 6, 4, 3, 3, 3, 1, 1],
        "inline": [3, 3, 2, 1, 1, 1, 0, 0],
        "popup": [3, 3, 2, 2, 2, 2, 1, 1],
    }
    at_risk = next(t for t in fig.data if t.name == "at risk: All")
    assert list(at_risk.x) == list(AT_RISK_SECONDS) and at_risk.yaxis == "y2"
    assert list(at_risk.text) == ["6", "6", "4", "3", "3", "3", "1", "1"]
    (window,) = fig.layout.shapes
    assert window.x0 == window.x1 == 100 and window.line.dash == "dash"
    caption = subtitle(fig)
    assert tiny.params["censoring"] in caption
    assert "1 - Kaplan-Meier survival" in caption and "Adobe's 100 s accept window" in caption


def test_km_curves_and_at_risk_of_every_group(sim):
    curves = sim.frame("curves")
    fig = sim.figure("curves")
    traces = by_name(fig)
    groups = list(dict.fromkeys(curves["group"]))
    assert groups == ["All", "inline", "chatbot", "popup"]
    rows = risk_rows(fig)
    assert list(rows) == groups
    for g in groups:
        c = curves[curves["group"] == g]
        assert list(traces[g].x) == [0.0, *c["seconds"]]
        assert list(traces[g].y) == pytest.approx([0.0, *c["accepted_share"]])
        assert traces[f"{g} 95% band"].fill == "tonexty"
        # by hand: at_risk of the first row at or after each time, 0 past the last row
        expected = []
        for x in AT_RISK_SECONDS:
            later = c[c["seconds"] >= x]
            expected.append(int(later["at_risk"].iloc[0]) if len(later) else 0)
        assert rows[g] == expected
    assert list(fig.layout.yaxis2.categoryarray) == groups
    only = curves_figure(curves, sim.params, groups="popup")
    assert [t.name for t in only.data if t.mode == "lines"] == [
        "popup 95% band (low)",
        "popup 95% band",
        "popup",
    ]


def test_competing_outcomes(tiny, sim):
    fig = tiny.figure("curves", estimate="cif")
    lines = [t for t in fig.data if t.mode == "lines" and "band" not in t.name]
    assert [t.name for t in lines] == ["accepted", "missed", "visitor left"]
    assert all(t.line.shape == "hv" for t in lines)
    assert list(lines[0].y) == pytest.approx([0, 1 / 6, 1 / 6, 1 / 3, 1 / 3, 1 / 3])
    assert list(lines[1].y) == pytest.approx([0, 0, 0, 0, 1 / 3, 1 / 3])
    assert list(lines[2].y) == pytest.approx([0, 0, 1 / 6, 1 / 6, 1 / 6, 1 / 6])
    assert sum(t.fill == "tonexty" for t in fig.data) == 3
    assert risk_rows(fig) == {"All": [6, 6, 4, 3, 3, 3, 1, 1]}
    assert "Aalen-Johansen" in subtitle(fig) and "still open are censored" in subtitle(fig)
    curves = sim.frame("curves")
    popup = curves[curves["group"] == "popup"]
    one = curves_figure(curves, sim.params, estimate="cif", groups=["popup"])
    assert list(by_name(one)["missed"].y) == pytest.approx([0.0, *popup["cif_missed"]])
    with pytest.raises(ca.InvalidParameterError, match="one group"):
        curves_figure(curves, sim.params, estimate="cif", groups=["All", "popup"])
    with pytest.raises(ca.InvalidParameterError) as err:
        curves_figure(curves, sim.params, groups="banner")
    assert err.value.param == "groups" and err.value.allowed == ["All", "inline", "chatbot", "popup"]
    with pytest.raises(ca.InvalidParameterError, match="estimate"):
        curves_figure(curves, sim.params, estimate="kaplan")


# --------------------------------------------------------------------------------------------------
# service level
# --------------------------------------------------------------------------------------------------


def test_service_level_markers_are_the_table(tiny, sim):
    fig = service_level_figure(tiny.frame("curves"), tiny.frame("service_level"), tiny.params)
    curve, marks = fig.data[2], fig.data[3]
    assert fig.data[1].fill == "tonexty" and curve.line.shape == "hv"
    assert list(curve.x) == [0, 20, 30, 50, 100, 360]
    assert list(curve.y) == pytest.approx([0, 1 / 6, 1 / 6, 1 / 3, 1 / 3, 1 / 3])
    assert list(marks.x) == list(SERVICE_LEVEL_SECONDS)
    assert list(marks.y) == pytest.approx([0, 1 / 6, 1 / 6, 1 / 6, 1 / 3, 1 / 3])
    assert list(marks.text) == ["0%", "17%", "17%", "17%", "33%", "33%"]
    assert marks.mode == "markers+text"
    assert tiny.params["service_level_variant"] in subtitle(fig)
    sl = sim.frame("service_level").query("group == 'chatbot'")
    fig = sim.figure("service_level", group="chatbot")
    assert list(fig.data[3].y) == pytest.approx(sl["service_level"].tolist())
    y = np.asarray(fig.data[3].y)
    assert y - np.asarray(fig.data[3].error_y.arrayminus) == pytest.approx(sl["service_level_low"])
    assert [tuple(c[2:]) for c in fig.data[3].customdata] == [
        (f"{a:,}", f"{n:,}") for a, n in zip(sl["answered_within"], sl["requests"], strict=True)
    ]
    assert "group: chatbot" in subtitle(fig)
    with pytest.raises(ca.InvalidParameterError, match="group"):
        sim.figure("service_level", group="banner")


# --------------------------------------------------------------------------------------------------
# heatmap
# --------------------------------------------------------------------------------------------------


def test_heatmap_is_miss_rate_beside_volume(sim, tiny):
    cells = sim.frame("heatmap")
    fig = heatmap_figure(cells, sim.params)
    rate, volume = fig.data
    assert rate.type == volume.type == "heatmap"
    assert rate.xaxis == "x" and volume.xaxis == "x2"
    for trace, column in ((rate, "miss_rate"), (volume, "requests")):
        z = np.asarray(trace.z, dtype=float)
        assert z.shape == (7, 24)
        np.testing.assert_array_equal(z, cells[column].to_numpy(float).reshape(7, 24))
        assert list(trace.x) == list(range(24)) and trace.y[0] == "Monday"
    assert fig.layout.yaxis.autorange == "reversed"
    caption = subtitle(fig)
    assert TZ in caption and "miss rate = missed / requests in the cell" in caption
    assert "empty cells had no requests" in caption
    rate, volume = tiny.figure("heatmap").data
    z = np.asarray(rate.z, dtype=float)
    assert z[0, 9] == 0.5 and z[0, 10] == 0 and np.isnan(z[0, 8]) and np.isnan(z[1, 9])
    assert np.asarray(volume.z)[0, 9] == 4 and np.asarray(volume.z).sum() == 6
    with pytest.raises(ca.InvalidParameterError, match="168"):
        heatmap_figure(cells.head(100), sim.params)


# --------------------------------------------------------------------------------------------------
# causes
# --------------------------------------------------------------------------------------------------


def test_causes_bars_are_the_counts(tiny, sim):
    fig = causes_figure(tiny.frame("causes"), tiny.params)
    (bar,) = fig.data
    assert bar.type == "bar" and bar.orientation == "h"
    assert list(bar.y) == list(CAUSES) and list(bar.x) == [1, 0, 1]
    assert [c[0] for c in bar.customdata] == list(CAUSES.values())
    assert [c[1] for c in bar.customdata] == ["staffing", "staffing", "response"]
    caption = subtitle(fig)
    assert "missed requests of All (n = 2)" in caption and "online status" in caption
    assert "staffing:" in caption and "response:" in caption
    causes = sim.frame("causes")
    for group in ("All", "popup"):
        rows = causes[causes["group"] == group]
        bar = sim.figure("causes", group=group).data[0]
        assert list(bar.x) == rows["missed"].tolist() and list(bar.y) == rows["cause"].tolist()
    with pytest.raises(ca.InvalidParameterError, match="group"):
        causes_figure(causes, sim.params, group="banner")


def test_no_missed_requests_says_so():
    t = ca.timeouts(tiny_events(), where={"ui_type": "popup"}, end="2026-11-02 09:01")
    fig = t.figure("causes")
    assert list(fig.data[0].x) == [0, 0, 0] and fig.layout.annotations[0].text == "no missed requests"
    assert "slice: requests whose first offer has ui_type = popup" in subtitle(fig)
    assert "requests made in […, 2026-11-02 09:01) UTC" in subtitle(fig)


# --------------------------------------------------------------------------------------------------
# through the result
# --------------------------------------------------------------------------------------------------


def test_every_kind_through_the_result_with_style(sim):
    kinds = {"outcomes": "bar", "curves": "scatter", "service_level": "scatter", "heatmap": "heatmap"}
    kinds["causes"] = "bar"
    for kind, trace_type in kinds.items():
        fig = sim.figure(kind, title="Custom", height=500, width=900)
        assert isinstance(fig, go.Figure) and fig.data[0].type == trace_type
        assert fig.layout.title.text == "Custom" and fig.layout.height == 500 and fig.layout.width == 900
        assert fig.layout.title.xref == "container" and fig.layout.title.subtitle.text
    with pytest.raises(ca.InvalidParameterError, match="kind"):
        sim.figure("waits")
