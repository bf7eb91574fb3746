"""The timeout widget, headless: change a control, read the new state."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import scipy.stats

import chatanalytics as ca
from chatanalytics.widgets import TimeoutWidget
from chatanalytics.widgets._base import widget_layout
from chatanalytics.widgets.timeouts import ALL_VALUES, NO_COMPARISON

TZ = "America/New_York"


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return ca.simulate(20000, seed=3)


@pytest.fixture(scope="module")
def overall(events):
    return ca.timeouts(events, tz=TZ)


@pytest.fixture
def widget(events) -> TimeoutWidget:
    return TimeoutWidget(events, tz=TZ)


def test_builds_like_the_analysis(widget, overall):
    assert widget.n_computes == 1
    assert isinstance(widget.figure, go.FigureWidget)
    assert widget.figure in widget.container.children
    assert set(widget.controls) == {
        "compare", "ui_type", "conversation_name", "start", "end", "view", "group",
    }  # fmt: skip
    assert widget.controls["group"].disabled and widget.controls["group"].label == "all requests"
    c = widget.controls
    # every "none" / "all" choice is an option the dropdown shows, with words
    assert c["compare"].value == NO_COMPARISON and c["compare"].label == "no comparison"
    assert c["view"].value == "outcomes"
    assert list(c["ui_type"].options) == [
        ("all UI types", ALL_VALUES),
        *((v, v) for v in ("chatbot", "inline", "popup")),
    ]
    assert c["ui_type"].label == "all UI types" and c["conversation_name"].label == "all conversations"
    assert c["conversation_name"].options[0] == ("all conversations", ALL_VALUES)
    assert len(c["conversation_name"].options) > 2
    # the descriptions are shown whole, and the dates are New York dates
    assert c["conversation_name"].style.description_width == "initial"
    assert c["start"].description == f"From ({TZ})"
    for kind in ("outcomes", "curves", "causes"):
        pd.testing.assert_frame_equal(widget.result.frame(kind), overall.frame(kind))
    assert [t.type for t in widget.figure.data] == ["bar", "bar", "scatter"]
    assert repr(overall).split("\n")[0].split(";")[0] in widget.summary_output.value
    assert "log-rank" not in widget.summary_output.value


def test_compare_recomputes_and_the_log_rank_test_is_read_under_the_curves(widget):
    fw = widget.figure
    before = [list(t.x) for t in fw.data]
    widget.controls["compare"].value = "ui_type"
    assert widget.n_computes == 2 and widget.result.params["by"] == "ui_type"
    assert widget.figure is fw
    # the outcomes view follows the comparison: one bar per outcome, x the ui_type groups
    assert [t.type for t in fw.data] == ["bar"] * 4
    assert [list(t.x) for t in fw.data] != before
    assert list(fw.data[0].x) == ["inline", "chatbot", "popup"]
    # the log-rank test is about the curves: not under the outcomes
    assert "log-rank" not in widget.summary_output.value
    widget.controls["view"].value = "curves"
    # the test of all three groups, its p-value checked against scipy's chi-squared tail
    overall = widget.result.frame("logrank").set_index("comparison").loc["all groups"]
    assert overall["df"] == 2
    assert overall["p_value"] == pytest.approx(scipy.stats.chi2.sf(overall["chi2"], 2))
    text = widget.summary_output.value
    assert overall["p_value"] > 0.05  # 0.61 on these data
    assert "No evidence the ui_type groups differ</b> in time to accept" in text
    assert f"χ² = {overall['chi2']:.2f}, df = 2, " in text and "<table" not in text
    assert {t.name for t in fw.data if t.mode == "lines" and "band" not in t.name} == {
        "All",
        "inline",
        "chatbot",
        "popup",
    }
    # "no comparison" removes the breakdown
    widget.controls["compare"].value = NO_COMPARISON
    assert widget.message.value == "" and widget.controls["compare"].label == "no comparison"
    assert widget.n_computes == 3 and widget.result.params["by"] is None
    assert [t.name for t in fw.data if t.mode == "lines" and "band" not in t.name] == ["All"]
    assert "log-rank" not in widget.summary_output.value


def test_slice_controls_recompute_with_where(widget, events):
    widget.controls["ui_type"].value = "popup"
    assert widget.n_computes == 2 and widget.result.params["where"] == {"ui_type": "popup"}
    direct = ca.timeouts(events, tz=TZ, where={"ui_type": "popup"})
    assert widget.result.summary()["requests"] == direct.summary()["requests"] == 148
    pd.testing.assert_frame_equal(widget.result.frame("outcomes"), direct.frame("outcomes"))
    assert list(widget.figure.data[0].y) == pytest.approx(
        direct.frame("outcomes").query("slice == 'all' and basis == 'requests'")["share"].tolist()
    )
    assert "ui_type = popup" in widget.caption.replace("<br>", " ")
    # the simulated conversations each open in one UI type: pick one that opens as a popup
    names = ca.timeouts(events, by="conversation_name", where={"ui_type": "popup"}).frame("waits")
    name = names["group"].iloc[1]
    widget.controls["conversation_name"].value = name
    where = {"ui_type": "popup", "conversation_name": name}
    assert widget.n_computes == 3 and widget.result.params["where"] == where
    both = ca.timeouts(events, tz=TZ, where=where)
    assert widget.result.summary()["requests"] == both.summary()["requests"] == names["requests"].iloc[1]
    widget.controls["ui_type"].value = ALL_VALUES
    assert widget.controls["ui_type"].label == "all UI types"
    assert widget.n_computes == 4 and widget.result.params["where"] == {"conversation_name": name}
    # a slice without requests: a message, and the result is kept
    other = next(
        v for _, v in widget.controls["conversation_name"].options[1:] if v not in set(names["group"])
    )
    widget.controls["ui_type"].value = "popup"
    widget.controls["conversation_name"].value = other
    assert "no live-chat requests left" in widget.message.value
    assert widget.result.params["where"] == where


def test_view_redraws_in_place_without_recomputing(widget):
    fw = widget.figure
    r = widget.result
    seen = {}
    for view in ("curves", "cif", "service_level", "heatmap", "causes", "outcomes"):
        widget.controls["view"].value = view
        assert widget.figure is fw and widget.n_computes == 1 and widget.result is r
        seen[view] = [t.type for t in fw.data]
        # nothing of the previous view is left: the layout is the new figure's
        assert fw.layout.to_plotly_json() == widget_layout(widget.draw().layout.to_plotly_json())
    assert seen["heatmap"] == ["heatmap", "heatmap"]
    assert seen["causes"] == ["bar"] and seen["outcomes"] == ["bar", "bar", "scatter"]
    assert set(seen["curves"]) == {"scatter"} and len(seen["cif"]) > len(seen["curves"])
    widget.controls["view"].value = "heatmap"
    z = np.asarray(fw.data[0].z, dtype=float)
    np.testing.assert_array_equal(z, r.frame("heatmap")["miss_rate"].to_numpy(float).reshape(7, 24))
    widget.controls["view"].value = "causes"
    assert "xaxis2" not in fw.layout.to_plotly_json()  # the heatmap's second panel is gone
    assert list(fw.data[0].x) == r.frame("causes").query("group == 'All'")["missed"].tolist()
    # the snapshot saved with the notebook follows the figure
    assert list(fw._widget_data[0]["x"]) == list(fw.data[0].x)


def test_dates_recompute_and_an_inverted_range_shows_a_message(widget, events):
    widget.controls["start"].value = dt.date(2026, 10, 12)
    widget.controls["end"].value = dt.date(2026, 10, 20)
    assert widget.n_computes == 3
    # New York dates: midnight there is 04:00 UTC in October
    assert widget.result.params["start"] == pd.Timestamp("2026-10-12 04:00", tz="UTC")
    assert widget.result.params["end"] == pd.Timestamp("2026-10-21 04:00", tz="UTC")  # "to" is inclusive
    direct = ca.timeouts(events, tz=TZ, start="2026-10-12 00:00-04:00", end="2026-10-21 00:00-04:00")
    assert widget.result.summary() == direct.summary()
    assert f"2026-10-12 to 2026-10-20 · first offer time, {TZ}" in widget.caption
    assert f"requests made in [2026-10-12, 2026-10-21) {TZ}" in widget.figure.layout.meta["about"]
    before, x = widget.result, list(widget.figure.data[0].y)
    widget.controls["end"].value = dt.date(2026, 10, 1)
    assert "ends before it starts" in widget.message.value
    assert widget.n_computes == 3 and widget.result is before and list(widget.figure.data[0].y) == x
    widget.controls["end"].value = dt.date(2026, 10, 25)
    assert widget.message.value == "" and widget.n_computes == 4


def test_a_slice_without_requests_shows_a_message():
    events = ca.make_events(
        [
            {
                "event_time_utc": f"2026-11-02 09:00:{s:02d}",
                "event_type": kind,
                "session_id": "s1",
                "conversation_id": "c1",
                "agent_id": "a1",
                "ui_type": "popup",
            }
            for s, kind in ((0, "live_chat_requested"), (20, "live_chat_initiated"), (40, "live_chat_ended"))
        ]
    )
    w = TimeoutWidget(events)
    assert w.controls["conversation_name"].disabled is True
    w.controls["start"].value = dt.date(2026, 11, 3)
    assert "no live-chat requests left" in w.message.value and w.n_computes == 1
    assert w.result.summary()["requests"] == 1


def test_result_widget_starts_from_the_same_result(events):
    t = ca.timeouts(events, tz=TZ, by="weekday", where={"ui_type": "inline"}, start="2026-10-12 00:00-04:00")
    w = t.widget(events)
    pd.testing.assert_frame_equal(w.result.frame("outcomes"), t.frame("outcomes"))
    c = w.controls
    assert c["compare"].value == "weekday" and c["ui_type"].value == "inline"
    assert c["start"].value == dt.date(2026, 10, 12) and c["end"].value is None
    assert list(w.figure.data[0].x) == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    bundle = w._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == w.container.model_id
    assert repr(w).startswith("TimeoutWidget(Live-chat timeouts:")


def test_importing_the_widget_module_imports_neither_plotly_nor_ipywidgets():
    code = (
        "import sys, chatanalytics.widgets.timeouts; "
        "print('plotly' in sys.modules, 'ipywidgets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_logrank_words_say_which_groups_differ():
    """A hand-made table: all groups differ (p 0.002); of the pairs, only a vs c once Holm-adjusted."""
    from chatanalytics.widgets.timeouts import logrank_words

    t = pd.DataFrame(
        {
            "comparison": ["all groups", "a vs b", "a vs c", "b vs c"],
            "chi2": [12.5, 1.2, 11.0, 3.9],
            "df": [2, 1, 1, 1],
            "p_value": [0.0019, 0.27, 0.0009, 0.048],
            "p_adjusted": [np.nan, 0.27, 0.0027, 0.096],
        }
    )
    text = logrank_words(t, "ui_type")
    assert text.startswith("<b>The ui_type groups differ</b> in time to accept")
    assert "χ² = 12.50, df = 2, p = 0.0019" in text
    assert "Pairs that differ, adjusted for the number of pairs (Holm): a vs c (p = 0.0027 adjusted)." in text
    assert "a vs b" not in text and "b vs c" not in text
    assert "nothing to compare" in logrank_words(t.iloc[:0], "ui_type")
