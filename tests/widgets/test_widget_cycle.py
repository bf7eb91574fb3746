"""The update / redraw cycle every widget shares, driven headless through every option of every control.

Each widget is built on a tiny hand-written frame, so the numbers drawn are worked out by hand here:

Funnel (conversations; steps triggered → engaged → completed; ``ui_type`` / ``conversation_name``):

====  =========  =====  ============================================  ===========
conv  ui_type    name   events (minutes after triggered)              day (UTC)
====  =========  =====  ============================================  ===========
s1    chatbot    A      triggered 0, engaged 0.2, completed 1         2026-11-02
s2    chatbot    A      triggered 0, engaged 0.3                      2026-11-03
s3    popup      B      triggered 0                                   2026-11-04
s4    popup      B      triggered 0, engaged 45                       2026-11-05
====  =========  =====  ============================================  ===========

With a 30-minute window (also 5 and 15 minutes) 4 are triggered, 2 engaged (s1, s2), 1 completed (s1);
with 1 hour or 1 day s4's engagement counts too: 4, 3, 1. By ``ui_type`` (30 minutes) chatbot is 2, 2, 1
and popup 2, 0, 0 (the same split by ``conversation_name``: A and B). From 2026-11-03: s2, s3, s4 give 3,
1, 0; from 2026-11-03 to 2026-11-03 only s2: 1, 1, 0. Overall rates at 30 minutes: 1, 0.5, 0.25.

Agents (``freq="week"``): Ada (a1) is offered s1 on Monday 2026-11-02 and accepts after 20 s, and s2 on
Monday 2026-11-09 and accepts after 40 s; Bo (a2) is offered s3 on 2026-11-09 and does not accept. Week
of 11-09: offers Ada 1, Bo 1; accepted Ada 1, Bo 0; acceptance rate 1 and 0; Ada's median time to accept
40 s. Week of 11-02: Ada alone, 1 offer. The whole range (where the widget opens): offers Ada 2, Bo 1;
accepted Ada 2, Bo 0; Ada's median time to accept 30 s. From 2026-11-09 only that week is left.

Timeouts: the same three requests; s1 and s2 come from a chatbot (conversation A), s3 from a popup
(conversation B). All: 3 requests, 2 accepted. Chatbot: 2 requests; popup: 1.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pandas as pd
import pytest
from plotly.io.json import to_json_plotly

import chatanalytics as ca
from chatanalytics.widgets import AgentWidget, FunnelWidget, TimeoutWidget
from chatanalytics.widgets._base import widget_layout
from chatanalytics.widgets.agents import ALL_AGENTS, WHOLE_RANGE
from chatanalytics.widgets.funnel import NO_BREAKDOWN
from chatanalytics.widgets.timeouts import ALL_VALUES, NO_COMPARISON


def traces(fig) -> list[dict]:
    """The traces of a figure or FigureWidget as plain JSON, without plotly's generated ids."""
    data = json.loads(to_json_plotly([t.to_plotly_json() for t in fig.data]))
    for t in data:
        t.pop("uid", None)
    return data


def counting(monkeypatch, cls) -> list[dict]:
    """Record the keyword arguments of every compute of ``cls``, and the busy state seen inside it."""
    seen: list[dict] = []
    real = cls.compute

    def compute(self, kwargs):
        seen.append({**kwargs, "_busy": self.busy, "_message": self.message.value})
        return real(self, kwargs)

    monkeypatch.setattr(cls, "compute", compute)
    return seen


# --------------------------------------------------------------------------------------------------
# Funnel
# --------------------------------------------------------------------------------------------------


def _conv(sid: str, day: str, ui: str, name: str, steps: list[tuple[str, float]]) -> list[dict]:
    t0 = pd.Timestamp(f"{day} 09:00:00")
    return [
        {
            "event_time_utc": str(t0 + pd.Timedelta(minutes=m)),
            "event_type": kind,
            "session_id": sid,
            "visitor_id": f"v-{sid}",
            "conversation_id": name,
            "conversation_name": name,
            "ui_type": ui,
        }
        for kind, m in steps
    ]


@pytest.fixture(scope="module")
def funnel_events() -> pd.DataFrame:
    return ca.make_events(
        [
            *_conv(
                "s1", "2026-11-02", "chatbot", "A", [("triggered", 0), ("engaged", 0.2), ("completed", 1)]
            ),
            *_conv("s2", "2026-11-03", "chatbot", "A", [("triggered", 0), ("engaged", 0.3)]),
            *_conv("s3", "2026-11-04", "popup", "B", [("triggered", 0)]),
            *_conv("s4", "2026-11-05", "popup", "B", [("triggered", 0), ("engaged", 45)]),
        ]
    )


@pytest.fixture
def funnel_calls(monkeypatch) -> list[dict]:
    return counting(monkeypatch, FunnelWidget)


@pytest.fixture
def fw(funnel_events, funnel_calls) -> FunnelWidget:
    return FunnelWidget(funnel_events, steps=["triggered", "engaged", "completed"])


def values(control) -> list:
    """The values of a selection control's options (given as values or as (label, value) pairs)."""
    return [o[1] if isinstance(o, tuple) else o for o in control.options]


def bars(w) -> dict[str, list[float]]:
    return {t.name: [float(v) for v in t.y] for t in w.figure.data}


def test_funnel_builds_with_one_compute_shown_busy(fw, funnel_calls):
    assert len(funnel_calls) == 1 and fw.n_computes == 1
    assert funnel_calls[0]["_busy"] is True and "Computing…" in funnel_calls[0]["_message"]
    assert fw.busy is False and fw.message.value == ""
    assert bars(fw) == {"All": [4, 2, 1]}


def test_funnel_every_window(fw, funnel_calls):
    expected = {"5min": [4, 2, 1], "15min": [4, 2, 1], "30min": [4, 2, 1], "1h": [4, 3, 1], "1D": [4, 3, 1]}
    assert fw.controls["window"].value == "30min"
    assert fw.controls["window"].options == tuple(expected)
    for n, window in enumerate(expected, start=2):  # from 30min, each option is a change
        fw.controls["window"].value = window
        assert funnel_calls[-1]["window"] == window and fw.result.params["window"] == window
        assert bars(fw) == {"All": expected[window]}
        assert fw.n_computes == n and not fw.busy and fw.message.value == ""


def test_funnel_every_breakdown(fw, funnel_calls):
    expected = {
        "ui_type": {"chatbot": [2, 2, 1], "popup": [2, 0, 0]},
        "conversation_name": {"A": [2, 2, 1], "B": [2, 0, 0]},
    }
    options = values(fw.controls["by"])
    assert options == [
        NO_BREAKDOWN,
        "conversation_name",
        "conversation_type",
        "ui_type",
        "page_url",
        "agent_name",
    ]
    assert fw.controls["by"].label == "no breakdown"
    for n, by in enumerate([*options[1:], NO_BREAKDOWN], start=2):
        fw.controls["by"].value = by
        assert fw.controls["by"].label == ("no breakdown" if by == NO_BREAKDOWN else by)
        if by in expected or by == NO_BREAKDOWN:
            assert fw.message.value == ""
        else:  # a column never set: the note says so, and the figure is drawn
            assert "Not updated" not in fw.message.value
            note = html.unescape(fw.message.value)
            assert f"by={by!r} is empty at the first step (triggered) for 4 of 4 units" in note
        assert fw.n_computes == n and funnel_calls[-1]["by"] == (None if by == NO_BREAKDOWN else by)
        drawn = bars(fw)
        if by in expected:
            assert drawn == expected[by]
        elif by == NO_BREAKDOWN:
            assert drawn == {"All": [4, 2, 1]}
        else:  # a column with no values: one group of them all
            assert list(drawn.values()) == [[4, 2, 1]]
        assert traces(fw.figure) == traces(fw.result.figure("funnel", value="converted", height=480))


def test_funnel_every_order_and_unit(fw, funnel_calls):
    # no other chat event falls between the steps, and each session is its own visitor: nothing changes
    assert fw.controls["order"].options == ("ordered", "strict", "any")
    assert fw.controls["unit"].options == ("conversation", "session", "visitor")
    for name in ("order", "unit"):
        for value in fw.controls[name].options[1:]:
            before = fw.n_computes
            fw.controls[name].value = value
            assert fw.result.params[name] == value and fw.n_computes == before + 1
            assert bars(fw) == {"All": [4, 2, 1]}
    assert funnel_calls[-1]["order"] == "any" and funnel_calls[-1]["unit"] == "visitor"
    assert "unit: visitor" in fw.caption


def test_funnel_steps_and_dates(fw, funnel_calls):
    fw.controls["steps"].value = "triggered, engaged"
    assert bars(fw) == {"All": [4, 2]} and list(fw.figure.data[0].x) == ["triggered", "engaged"]
    fw.controls["steps"].value = "triggered, engaged, completed"
    fw.controls["start"].value = dt.date(2026, 11, 3)
    assert funnel_calls[-1]["start"] == pd.Timestamp("2026-11-03", tz="UTC")
    assert bars(fw) == {"All": [3, 1, 0]}
    fw.controls["end"].value = dt.date(2026, 11, 3)
    assert funnel_calls[-1]["end"] == pd.Timestamp("2026-11-04", tz="UTC")  # "to" is inclusive
    assert bars(fw) == {"All": [1, 1, 0]}
    fw.controls["start"].value = None
    fw.controls["end"].value = None
    assert bars(fw) == {"All": [4, 2, 1]} and fw.n_computes == 7


def test_funnel_style_redraws_without_recomputing(fw, funnel_calls):
    for value, expected in (("overall_rate", [1.0, 0.5, 0.25]), ("converted", [4, 2, 1])):
        fw.controls["value"].value = value
        assert len(funnel_calls) == 1 and fw.n_computes == 1
        assert bars(fw) == {"All": expected}
        assert traces(fw.figure) == traces(fw.result.figure("funnel", value=value, height=480))


def test_funnel_invalid_values_show_the_error_and_keep_the_figure(fw, funnel_calls):
    before, drawn = fw.result, traces(fw.figure)
    fw.controls["steps"].value = "triggered, engagd"
    assert fw.message.value.startswith('<div style="color:#B00020">Not updated: ')
    assert "engagd" in fw.message.value and "Did you mean" in fw.message.value
    assert fw.result is before and traces(fw.figure) == drawn and not fw.busy
    # a style change meanwhile redraws the kept result and leaves the message up
    fw.controls["value"].value = "overall_rate"
    assert "engagd" in fw.message.value and bars(fw) == {"All": [1.0, 0.5, 0.25]}
    fw.controls["start"].value = dt.date(2026, 11, 5)
    fw.controls["end"].value = dt.date(2026, 11, 4)
    assert "ends before it starts" in fw.message.value and fw.result is before
    fw.controls["steps"].value = "triggered, engaged, completed"
    fw.controls["end"].value = None
    assert fw.message.value == "" and bars(fw) == {"All": [1.0, 0.0, 0.0]}  # s4 alone from 11-05


# --------------------------------------------------------------------------------------------------
# Agents
# --------------------------------------------------------------------------------------------------


def _request(sid: str, at: str, agent: str, name: str, accept_after: float | None, ui: str, conv: str):
    t0 = pd.Timestamp(at)
    common = {"session_id": sid, "conversation_id": conv, "conversation_name": conv, "ui_type": ui}
    rows = [
        {
            "event_time_utc": str(t0),
            "event_type": "live_chat_requested",
            "agent_id": agent,
            "agent_name": name,
        }
    ]
    if accept_after is not None:
        accepted = t0 + pd.Timedelta(seconds=accept_after)
        rows += [
            {"event_time_utc": str(accepted), "event_type": "live_chat_initiated", "agent_id": agent},
            {"event_time_utc": str(accepted + pd.Timedelta(minutes=5)), "event_type": "live_chat_ended"},
        ]
    return [{**common, **r} for r in rows]


@pytest.fixture(scope="module")
def chat_events() -> pd.DataFrame:
    return ca.make_events(
        [
            *_request("s1", "2026-11-02 09:00:00", "a1", "Ada", 20, "chatbot", "A"),
            *_request("s2", "2026-11-09 10:00:00", "a1", "Ada", 40, "chatbot", "A"),
            *_request("s3", "2026-11-09 11:00:00", "a2", "Bo", None, "popup", "B"),
        ]
    )


@pytest.fixture
def agent_calls(monkeypatch) -> list[dict]:
    return counting(monkeypatch, AgentWidget)


@pytest.fixture
def aw(chat_events, agent_calls) -> AgentWidget:
    return AgentWidget(chat_events, freq="week", metric="offers", shrink=False)


def by_agent(w) -> dict[str, float]:
    return {str(y): float(x) for y, x in zip(w.figure.data[0].y, w.figure.data[0].x, strict=True)}


def test_agents_every_metric_redraws_without_recomputing(aw, agent_calls):
    # the whole range
    expected = {"offers": {"Ada": 2, "Bo": 1}, "accepted": {"Ada": 2, "Bo": 0}}
    expected["acceptance_rate"] = {"Ada": 1.0, "Bo": 0.0}
    expected["accept_median_seconds"] = {"Ada": 30.0}
    assert by_agent(aw) == expected["offers"]
    whole = ca.agent_performance(aw._events, shrink=False)
    for metric in aw.controls["metric"].options:
        aw.controls["metric"].value = metric
        assert len(agent_calls) == 1 and aw.n_computes == 1
        assert traces(aw.figure) == traces(whole.figure("leaderboard", metric=metric))
        assert list(aw.figure.data[0].x) == pytest.approx(aw.leaderboard[metric].tolist())
        if metric in expected:
            assert by_agent(aw) == expected[metric]
    assert aw.message.value == ""


def test_agents_every_period_and_agent(aw, agent_calls):
    periods = [v for _, v in aw.controls["period"].options]
    assert periods == [WHOLE_RANGE, pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-09")]
    labels = ["whole range", "week of 2026-11-02", "week of 2026-11-09"]
    assert [k for k, _ in aw.controls["period"].options] == labels
    for period, expected in zip(periods, [{"Ada": 2, "Bo": 1}, {"Ada": 1}, {"Ada": 1, "Bo": 1}], strict=True):
        aw.controls["period"].value = period
        assert aw.controls["period"].label == labels[periods.index(period)]
        assert by_agent(aw) == expected
    aw.controls["period"].value = pd.Timestamp("2026-11-09")
    assert [v for _, v in aw.controls["agents"].options] == ["a1", "a2"]
    for agent, name in (("a1", "Ada"), ("a2", "Bo")):
        aw.controls["agents"].value = (agent,)
        assert by_agent(aw) == {name: 1}
    aw.controls["agents"].value = ()
    assert by_agent(aw) == {"Ada": 1, "Bo": 1}
    assert len(agent_calls) == 1


def test_agents_every_drill_choice(aw, agent_calls):
    options = [v for _, v in aw.controls["drill"].options]
    assert options == [ALL_AGENTS, "a1", "a2"] and aw.controls["drill"].label == "all agents"
    for agent, n in (("a1", 2), ("a2", 1), (ALL_AGENTS, None)):
        aw.controls["drill"].value = agent
        if n is None:
            assert aw.selected_requests is None
            assert "3 offers</b> to all agents in the whole range" in aw.requests_output.value
        else:
            assert len(aw.selected_requests) == n and aw.requests_output.value.count("<tr") - 1 == n
    assert len(agent_calls) == 1


def test_agents_drill_down_follows_the_period(aw, agent_calls):
    """The list under the bars counts what the agent's bar counts, in every period."""
    aw.controls["drill"].value = "a1"
    for period, n in ((pd.Timestamp("2026-11-02"), 1), (pd.Timestamp("2026-11-09"), 1), (WHOLE_RANGE, 2)):
        aw.controls["period"].value = period
        assert aw.controls["drill"].value == "a1" and by_agent(aw)["Ada"] == n
        assert (
            len(aw.selected_requests) == n and f"<b>{n} offers</b> to <b>Ada</b>" in aw.requests_output.value
        )
    # Bo had no offer in the week of 11-02: he is not offered there, and picking him then leaves that week
    aw.controls["drill"].value = "a2"
    aw.controls["period"].value = pd.Timestamp("2026-11-02")
    assert [v for _, v in aw.controls["drill"].options] == [ALL_AGENTS, "a1"]
    assert aw.controls["drill"].value == ALL_AGENTS and aw.selected_requests is None
    assert "1 offers</b> to all agents in the week of 2026-11-02" in aw.requests_output.value
    assert len(agent_calls) == 1


def test_agents_dates_recompute_and_refresh_the_choices(aw, agent_calls):
    aw.controls["period"].value = pd.Timestamp("2026-11-02")
    aw.controls["drill"].value = "a1"
    aw.controls["start"].value = dt.date(2026, 11, 9)
    assert len(agent_calls) == 2 and agent_calls[-1]["start"] == pd.Timestamp("2026-11-09", tz="UTC")
    assert agent_calls[-1]["_busy"] is True and not aw.busy
    # the chosen week is gone: back to the whole range; Ada is still drilled into, with her offers left
    assert [v for _, v in aw.controls["period"].options] == [WHOLE_RANGE, pd.Timestamp("2026-11-09")]
    assert aw.controls["period"].value == WHOLE_RANGE and aw.controls["drill"].value == "a1"
    assert len(aw.selected_requests) == 1
    assert by_agent(aw) == {"Ada": 1, "Bo": 1}
    assert len(agent_calls) == 2  # refreshing the choices ran no cycle of its own


def test_agents_an_inverted_range_keeps_the_figure(aw, agent_calls):
    aw.controls["start"].value = dt.date(2026, 11, 9)
    before, drawn = aw.result, traces(aw.figure)
    aw.controls["end"].value = dt.date(2026, 11, 2)
    assert "Not updated: " in aw.message.value and "ends before it starts" in aw.message.value
    assert aw.result is before and traces(aw.figure) == drawn and len(agent_calls) == 2
    aw.controls["end"].value = dt.date(2026, 11, 9)
    assert aw.message.value == "" and len(agent_calls) == 3


# --------------------------------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def timeout_calls(monkeypatch) -> list[dict]:
    return counting(monkeypatch, TimeoutWidget)


@pytest.fixture
def tw(chat_events, timeout_calls) -> TimeoutWidget:
    return TimeoutWidget(chat_events)


def requests_drawn(w) -> int:
    return w.result.summary()["requests"]


def test_timeouts_every_view_redraws_without_recomputing(tw, timeout_calls):
    kinds = {
        "outcomes": ("outcomes", {"slice": "all"}),
        "curves": ("curves", {"estimate": "km"}),
        "cif": ("curves", {"estimate": "cif"}),
        "service_level": ("service_level", {}),
        "heatmap": ("heatmap", {}),
        "causes": ("causes", {}),
    }
    for _, view in [*tw.controls["view"].options[1:], tw.controls["view"].options[0]]:
        tw.controls["view"].value = view
        assert len(timeout_calls) == 1 and tw.n_computes == 1
        kind, style = kinds[view]
        new = tw.result.figure(kind, **style)
        assert traces(tw.figure) == traces(new)
        assert tw.figure.layout.to_plotly_json() == widget_layout(new.layout.to_plotly_json())
    # outcomes of all requests: 3 requests, 2 accepted, 1 not
    shares = dict(zip(tw.figure.data[0].x, tw.figure.data[0].y, strict=True))
    assert shares["accepted"] == pytest.approx(2 / 3)


def test_timeouts_every_slice(tw, timeout_calls):
    expected = {
        "ui_type": {ALL_VALUES: 3, "chatbot": 2, "popup": 1},
        "conversation_name": {ALL_VALUES: 3, "A": 2, "B": 1},
    }
    everything = {"ui_type": "all UI types", "conversation_name": "all conversations"}
    for col, counts in expected.items():
        assert [v for _, v in tw.controls[col].options] == list(counts)
        assert tw.controls[col].label == everything[col]
        for value in [*list(counts)[1:], ALL_VALUES]:
            tw.controls[col].value = value
            assert tw.controls[col].label == everything.get(col) if value == ALL_VALUES else value
            assert timeout_calls[-1]["where"] == (None if value == ALL_VALUES else {col: value})
            assert requests_drawn(tw) == counts[value]
            shown = tw.caption.replace("<br>", " ")
            assert (f"{col} = {value}" in shown) if value != ALL_VALUES else (f"{col} = " not in shown)
    assert tw.n_computes == 7


def test_timeouts_every_comparison(tw, timeout_calls):
    options = values(tw.controls["compare"])
    assert options == [
        NO_COMPARISON,
        "ui_type",
        "conversation_type",
        "conversation_name",
        "agent_id",
        "hour",
        "weekday",
    ]
    groups = {"ui_type": {"chatbot", "popup"}, "conversation_name": {"A", "B"}, "agent_id": {"a1", "a2"}}
    assert tw.controls["compare"].label == "no comparison"
    for n, by in enumerate([*options[1:], NO_COMPARISON], start=2):
        tw.controls["compare"].value = by
        assert tw.message.value == ""
        by = None if by == NO_COMPARISON else by
        assert tw.n_computes == n and tw.result.params["by"] == by
        assert traces(tw.figure) == traces(tw.draw())
        if by in groups:
            assert set(tw.figure.data[0].x) == groups[by]
        if by == "hour":  # requests at 09:00, 10:00 and 11:00 UTC
            assert len(tw.figure.data[0].x) == 3
        if by is None:
            assert list(tw.figure.data[0].x) == ["accepted", "missed", "left", "open"]
            assert "log-rank" not in tw.summary_output.value
        else:
            assert len(tw.figure.data) == 4  # one bar trace per request outcome, x the groups
    assert tw.message.value == ""


def test_timeouts_a_slice_without_requests_keeps_the_figure(tw, timeout_calls):
    tw.controls["ui_type"].value = "popup"
    before, drawn = tw.result, traces(tw.figure)
    tw.controls["conversation_name"].value = "A"  # A opens only in a chatbot
    assert "Not updated: " in tw.message.value and "no live-chat requests left" in tw.message.value
    assert tw.result is before and traces(tw.figure) == drawn and not tw.busy
    assert requests_drawn(tw) == 1
    tw.controls["ui_type"].value = ALL_VALUES
    assert tw.message.value == "" and requests_drawn(tw) == 2


# --------------------------------------------------------------------------------------------------
# The first draw
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", ["funnel", "agents", "timeouts"])
def test_the_first_draw_is_a_redraw_with_the_caption_under_the_title(make, funnel_events, chat_events):
    """plotly.js places a subtitle under the measured title, which measures zero before the output is on
    the page: every widget drew its title over its caption until the first redraw. The caption is lines
    of the title's own text, and the first figure is exactly the redrawn one.
    """
    w = {
        "funnel": lambda: FunnelWidget(funnel_events, steps=["triggered", "engaged", "completed"]),
        "agents": lambda: AgentWidget(chat_events),
        "timeouts": lambda: TimeoutWidget(chat_events),
    }[make]()
    first = w.figure.to_json()
    first_state = (json.dumps(w.figure._widget_layout, sort_keys=True), len(w.figure._widget_data))
    drawn = w.draw()  # the figure the result draws, before the widget moves its caption
    title = w.figure.layout.title
    assert title.subtitle.text is None and w.caption == drawn.layout.title.subtitle.text
    caption_lines = w.caption.split("<br>")
    shown = title.text.split("<br>")
    assert shown[: -len(caption_lines)] == drawn.layout.title.text.split("<br>")
    assert [re.sub(r"<[^>]+>", "", x) for x in shown[-len(caption_lines) :]] == caption_lines
    assert all(x.startswith('<span style="font-size:11.5px;') for x in shown[-len(caption_lines) :])
    # where the result's figure puts its title; each caption line takes a title line's 22 px, 6 more
    assert (title.xref, title.x, title.yref, title.yanchor) == (
        drawn.layout.title.xref,
        drawn.layout.title.x,
        "container",
        "top",
    )
    assert w.figure.layout.margin.t == drawn.layout.margin.t + 6 * len(caption_lines)
    assert title.pad.t == drawn.layout.title.pad.t + 22 * len(caption_lines)
    assert w.redraw()
    assert w.figure.to_json() == first
    assert (json.dumps(w.figure._widget_layout, sort_keys=True), len(w.figure._widget_data)) == first_state


# --------------------------------------------------------------------------------------------------
# Busy, "About this chart", the time zone given to result.widget()
# --------------------------------------------------------------------------------------------------


def test_a_recompute_shows_a_spinner_and_disables_the_data_controls(funnel_events, monkeypatch):
    w = FunnelWidget(funnel_events, steps=["triggered", "engaged", "completed"])
    w.controls["value"].disabled = True  # a style control's own state is left alone
    seen: list[tuple] = []
    real = FunnelWidget.compute

    def compute(self, kwargs):
        data = tuple(self.controls[n].disabled for n in self.data_controls)
        seen.append((self.busy, "<svg" in self.message.value and "Computing…" in self.message.value, data))
        return real(self, kwargs)

    monkeypatch.setattr(FunnelWidget, "compute", compute)
    w.controls["window"].value = "1h"
    assert seen == [(True, True, (True,) * len(w.data_controls))]
    assert not w.busy and w.message.value == ""
    assert not any(w.controls[n].disabled for n in w.data_controls) and w.controls["value"].disabled


def test_about_this_chart_holds_the_definitions_and_follows_the_result(funnel_events):
    w = FunnelWidget(funnel_events, steps=["triggered", "engaged", "completed"])
    assert w.about in w.container.children and w.about.selected_index is None  # collapsed
    assert w.about.get_title(0) == "About this chart"
    text = w.about.children[0].value
    for term, _ in w.result.DEFINITIONS:
        assert f"<b>{term}</b>:" in text
    assert "window=30min" in text
    w.controls["window"].value = "1h"
    assert "window=1h" in w.about.children[0].value and "window=30min" not in w.about.children[0].value


def test_result_widget_takes_the_time_zone(funnel_events):
    """A funnel's parameters hold no time zone: result.widget(events, tz=...) gives the widget one."""
    f = ca.funnel(funnel_events, steps=["triggered", "engaged", "completed"])
    w = f.widget(funnel_events, tz="America/New_York")
    assert w.controls["start"].description == "From (America/New_York)"
    assert "America/New_York" in w.caption and "UTC" not in w.caption
