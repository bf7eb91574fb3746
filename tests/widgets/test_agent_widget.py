"""The agent widget, headless: change a control, read the new state."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import types

import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics as ca
from chatanalytics.viz._definitions import METRICS
from chatanalytics.widgets import AgentWidget
from chatanalytics.widgets.agents import ALL_AGENTS, WHOLE_RANGE

TZ = "America/New_York"


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return ca.load_sample()


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """Record the keyword arguments of every agent performance the widget computes."""
    seen: list[dict] = []
    real = AgentWidget.compute

    def counting(self, kwargs):
        seen.append(kwargs)
        return real(self, kwargs)

    monkeypatch.setattr(AgentWidget, "compute", counting)
    return seen


@pytest.fixture
def widget(events, calls) -> AgentWidget:
    return AgentWidget(events, freq="week", tz=TZ)


def bar_ids(w: AgentWidget) -> list:
    return [c[0] for c in w.figure.data[0].customdata]


def test_builds_from_agent_performance_kwargs(widget, calls, events):
    assert len(calls) == 1 and widget.n_computes == 1
    assert calls[0]["freq"] == "week" and calls[0]["tz"] == TZ
    assert isinstance(widget.figure, go.FigureWidget)
    assert widget.figure in widget.container.children
    assert set(widget.controls) == {"metric", "period", "agents", "start", "end", "drill"}
    assert list(widget.controls["metric"].options) == list(METRICS)
    periods = [v for _, v in widget.controls["period"].options]
    assert periods[0] == WHOLE_RANGE and periods[1:] == sorted(widget.result.frame()["period"].unique())
    # the widget opens on the whole range, and says so in the dropdown and the caption
    assert widget.controls["period"].label == "whole range" and widget.period is None
    assert widget.controls["period"].disabled is False
    expected = ca.agent_performance(events, freq="week", tz=TZ, shrink=True)
    pd.testing.assert_frame_equal(widget.result.frame(), expected.frame())
    assert "period: the whole range" in widget.caption.replace("<br>", " ")
    assert widget.controls["drill"].value == ALL_AGENTS and widget.controls["drill"].label == "all agents"


def test_metric_control_redraws_in_place_without_recomputing(widget, calls):
    fw = widget.figure
    # the whole range: the per-agent table without periods
    latest = ca.agent_performance(widget._events, tz=TZ, shrink=True).frame().set_index("agent_id")
    for metric in ("offers", "accept_median_seconds", "meeting_rate"):
        widget.controls["metric"].value = metric
        assert widget.figure is fw
        assert list(fw.data[0].x) == pytest.approx(widget.leaderboard[metric].tolist())
        agents = [i for i in bar_ids(widget) if i is not None]
        assert [x for x, i in zip(fw.data[0].x, bar_ids(widget), strict=True) if i is not None] == (
            pytest.approx(latest.loc[agents, metric].tolist())
        )
        assert METRICS[metric] in widget.figure.layout.meta["about"]  # "About this chart"
    assert fw.data[0].error_x.visible is True  # meeting_rate has its interval
    widget.controls["metric"].value = "offers"
    assert fw.data[0].error_x.visible is False and fw.layout.xaxis.tickformat == ",d"
    assert len(calls) == 1
    # the snapshot saved with the notebook follows the figure
    assert list(fw._widget_data[0]["x"]) == list(fw.data[0].x)


def test_period_and_agent_controls_pick_the_bars(widget, calls):
    widget.controls["metric"].value = "offers"
    week = pd.Timestamp("2026-10-12")
    widget.controls["period"].value = week
    rows = widget.result.frame().query("period == @week")
    assert sorted(widget.figure.data[0].x) == sorted(rows["offers"])
    keep = ("agent-1042", "318842")
    widget.controls["agents"].value = keep
    assert sorted(bar_ids(widget)) == sorted(keep)
    assert len(widget.figure.data[0].y) == 2
    assert list(widget.figure.data[0].x) == widget.leaderboard["offers"].tolist()
    widget.controls["agents"].value = ()  # an empty selection keeps every agent
    assert len(widget.figure.data[0].x) == len(rows)
    assert len(calls) == 1


def test_dates_recompute(widget, calls, events):
    offers_before = widget.result.summary()["offers"]
    widget.controls["start"].value = dt.date(2026, 10, 12)
    widget.controls["end"].value = dt.date(2026, 10, 20)
    assert len(calls) == 3 and widget.n_computes == 3
    # the dates are New York dates, as the pickers say
    assert widget.controls["start"].description == f"From ({TZ})"
    assert widget.result.params["start"] == pd.Timestamp("2026-10-12 04:00", tz="UTC")
    assert widget.result.params["end"] == pd.Timestamp("2026-10-21 04:00", tz="UTC")  # "to" is inclusive
    direct = ca.agent_performance(
        events, freq="week", tz=TZ, shrink=True, start="2026-10-12 00:00-04:00", end="2026-10-21 00:00-04:00"
    )
    assert widget.result.summary()["offers"] == direct.summary()["offers"]
    assert widget.result.summary()["offers"] < offers_before
    pd.testing.assert_frame_equal(widget.result.frame(), direct.frame())
    # the period choices follow the new result
    periods = [v for _, v in widget.controls["period"].options][1:]
    assert periods == sorted(direct.frame()["period"].unique())
    assert f"period: 2026-10-12 to 2026-10-20 · n = offers · offer time, {TZ}" == widget.caption
    assert f"offers and chats in [2026-10-12, 2026-10-21) {TZ}" in widget.figure.layout.meta["about"]


def test_an_inverted_range_shows_a_message_and_keeps_the_result(widget, calls):
    widget.controls["start"].value = dt.date(2026, 10, 20)
    before = widget.result
    x = list(widget.figure.data[0].x)
    widget.controls["end"].value = dt.date(2026, 10, 12)
    assert "ends before it starts" in widget.message.value
    assert widget.result is before and list(widget.figure.data[0].x) == x
    widget.controls["end"].value = dt.date(2026, 10, 25)
    assert widget.message.value == "" and widget.result.params["end"] == pd.Timestamp("2026-10-26", tz=TZ)


def test_drill_down_lists_the_agents_offers(widget):
    agent = "agent-1042"
    widget.controls["drill"].value = agent
    expected = widget.result.requests(agent)
    pd.testing.assert_frame_equal(widget.selected_requests, expected)
    text = widget.requests_output.value
    assert text.count("<tr") - 1 == len(expected)  # one header row
    assert f"{len(expected):,} offers" in text and "Avery Lindqvist" in text
    widget.controls["drill"].value = None
    assert widget.selected_requests is None


def test_bar_click_drills_into_the_agent(widget):
    points = types.SimpleNamespace(point_inds=[0])  # what plotly passes to an on_click handler
    widget._on_click(widget.figure.data[0], points, None)
    agent = bar_ids(widget)[0]
    assert widget.controls["drill"].value == agent
    assert len(widget.selected_requests) == len(widget.result.requests(agent))


def test_without_periods_and_escaped_names():
    events = ca.make_events(
        [
            {
                "event_time_utc": "2026-11-02 09:00:00",
                "event_type": "live_chat_requested",
                "session_id": "s1",
                "conversation_id": "c1",
                "agent_id": "a1",
                "agent_name": "<b>Ada</b>",
            },
            {
                "event_time_utc": "2026-11-02 09:00:20",
                "event_type": "live_chat_initiated",
                "session_id": "s1",
                "conversation_id": "c1",
                "agent_id": "a1",
                "agent_name": "<b>Ada</b>",
            },
            {
                "event_time_utc": "2026-11-02 09:05:00",
                "event_type": "live_chat_ended",
                "session_id": "s1",
                "conversation_id": "c1",
                "agent_id": "a1",
            },
        ]
    )
    w = AgentWidget(events)
    assert w.controls["period"].disabled is True and w.controls["period"].options == (
        ("whole range", WHOLE_RANGE),
    )
    assert list(w.figure.data[0].y) == ["&lt;b&gt;Ada&lt;/b&gt;"]
    offers = w.show_requests("a1")
    assert len(offers) == 1 and w.controls["drill"].value == "a1"
    assert "&lt;b&gt;Ada&lt;/b&gt;" in w.requests_output.value and "<b>Ada</b>" not in w.requests_output.value


def test_result_widget_starts_from_the_same_result(events):
    a = ca.agent_performance(events, tz=TZ, start="2026-10-12 00:00-04:00")  # a New York midnight
    w = a.widget(events)
    pd.testing.assert_frame_equal(w.result.frame(), a.frame())
    assert w.controls["start"].value == dt.date(2026, 10, 12) and w.controls["end"].value is None
    bundle = w._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == w.container.model_id


def test_importing_the_widgets_package_imports_neither_plotly_nor_ipywidgets():
    code = "import sys, chatanalytics.widgets; print('plotly' in sys.modules, 'ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_widget_and_the_analysis_shrink_alike(events):
    """The leaderboard a notebook draws and the widget's rank the same shrunk rates by default."""
    direct = ca.agent_performance(events, tz=TZ)
    widget = AgentWidget(events, tz=TZ)
    assert direct.params["shrink"] is True and widget.result.params["shrink"] is True
    pd.testing.assert_frame_equal(widget.result.frame(), direct.frame())
    # the observed rates stay beside the shrunk ones, which are pulled toward each other
    t = direct.frame()
    t = t[t["agent_id"].notna() & (t["offers"] > 0)]
    observed, shrunk = t["observed_acceptance_rate"], t["acceptance_rate"]
    assert observed.tolist() == pytest.approx((t["accepted_offers"] / t["offers"]).tolist())
    assert shrunk.max() <= observed.max() and shrunk.min() >= observed.min()
    assert shrunk.max() - shrunk.min() < observed.max() - observed.min()


def test_the_drill_down_lists_times_in_the_widget_time_zone(events):
    w = AgentWidget(events, tz=TZ)
    agent = w.controls["drill"].options[1][1]
    offers = w.show_requests(agent)
    text = w.requests_output.value
    assert len(offers) and "+00:00" not in text and ("-04:00" in text or "-05:00" in text)
    assert str(offers["offered_at"].dt.tz) == "UTC"  # the table returned stays in UTC, for code
