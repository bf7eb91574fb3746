"""FunnelResult's figure(), widget(), save() and notebook display, wired to viz/, widgets/ and export."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics as ca

STEPS = ["triggered", "engaged", ["email_input", "phone_input"], "completed"]


@pytest.fixture(scope="module")
def events():
    return ca.simulate(400, seed=3)


@pytest.fixture(scope="module")
def result(events):
    return ca.funnel(events, steps=STEPS, by="ui_type", window="30min")


def test_figure_kinds(result):
    fig = result.figure()
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == list(dict.fromkeys(result.frame()["group"]))
    assert "conversation session" in fig.layout.title.subtitle.text
    rate = result.figure(value="overall_rate")
    assert list(rate.data[0].y) == pytest.approx(
        result.frame().query("group == @rate.data[0].name")["overall_rate"]
    )
    assert isinstance(result.figure("over_time", freq="week"), go.Figure)
    assert all(t.line.shape == "hv" for t in result.figure("time").data if t.mode and "lines" in t.mode)
    with pytest.raises(ca.InvalidParameterError, match="Did you mean 'funnel'"):
        result.figure("funel")


def test_widget_starts_from_the_same_funnel(result, events):
    w = result.widget(events)
    pd.testing.assert_frame_equal(w.result.frame(), result.frame())
    w.controls["order"].value = "strict"
    assert w.result.params["order"] == "strict"


def test_widget_without_events_uses_the_live_frame_with_a_warning(result, events):
    with pytest.warns(FutureWarning, match=r"pass the events: result.widget\(events\)"):
        w = result.widget()
    pd.testing.assert_frame_equal(w.result.frame(), result.frame())


def test_widget_without_events_once_they_are_gone():
    import gc

    gone = ca.funnel(ca.simulate(60, seed=4), steps=["triggered", "engaged"])  # the frame is not kept
    gc.collect()
    with pytest.raises(ca.InvalidParameterError, match=r"pass the events: result.widget\(events\)"):
        gone.widget()


def test_save_writes_the_figure_or_the_table(result, tmp_path):
    html = result.save(tmp_path / "f.html")
    assert "plotly" in html.read_text()[:100000].lower()
    csv = result.save(tmp_path / "f.csv")
    back = pd.read_csv(csv)
    assert back["converted"].tolist() == result.frame()["converted"].tolist()
