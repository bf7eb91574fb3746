"""The funnel widget, headless: change a control, read the new state."""

from __future__ import annotations

import datetime as dt
import types

import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics as ca
from chatanalytics.errors import InvalidParameterError
from chatanalytics.widgets import FunnelWidget, format_steps, parse_steps
from chatanalytics.widgets.funnel import NO_BREAKDOWN

STEPS = ["triggered", "engaged", ["email_input", "phone_input"], "completed"]


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return ca.simulate(300, seed=1)


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """Record the keyword arguments of every funnel the widget computes."""
    seen: list[dict] = []
    real = FunnelWidget.compute

    def counting(self, kwargs):
        seen.append(kwargs)
        return real(self, kwargs)

    monkeypatch.setattr(FunnelWidget, "compute", counting)
    return seen


@pytest.fixture
def widget(events, calls) -> FunnelWidget:
    return FunnelWidget(events, steps=STEPS, by="conversation_name", top=4)


def groups_of(result) -> list[str]:
    return list(dict.fromkeys(result.frame()["group"]))


def test_builds_from_funnel_kwargs(widget, calls):
    assert len(calls) == 1 and widget.n_computes == 1
    assert isinstance(widget.figure, go.FigureWidget)
    assert [t.name for t in widget.figure.data] == groups_of(widget.result)
    assert widget.controls["steps"].value == "triggered, engaged, email_input|phone_input, completed"
    assert widget.controls["by"].value == "conversation_name"
    assert widget.controls["window"].value == "30min"
    assert set(widget.controls) >= {"steps", "window", "order", "unit", "by", "start", "end", "value"}
    assert widget.figure in widget.container.children
    assert "conversation session" in widget.caption


def test_breakdown_change_recomputes_and_redraws_in_place(widget, calls):
    fw = widget.figure
    widget.controls["by"].value = "ui_type"
    assert widget.result.params["by"] == "ui_type"
    assert len(calls) == 2 and calls[-1]["by"] == "ui_type"
    assert widget.figure is fw  # the same FigureWidget, updated in place
    assert [t.name for t in fw.data] == groups_of(widget.result)
    assert set(groups_of(widget.result)) <= {"chatbot", "popup", "inline", "(none)", "Other"}
    assert fw.layout.legend.title.text == "ui_type"
    # the snapshot saved with the notebook follows the figure (stack recipe, section 4)
    assert [t["name"] for t in fw._widget_data] == groups_of(widget.result)
    # a breakdown with the same number of groups updates the traces' data
    widget.controls["by"].value = NO_BREAKDOWN
    assert widget.controls["by"].label == "no breakdown" and widget.message.value == ""
    assert [t.name for t in fw.data] == ["All"]
    assert list(fw.data[0].y) == widget.result.frame()["converted"].tolist()


def test_order_window_unit_recompute(widget, calls):
    widget.controls["order"].value = "strict"
    assert widget.result.params["order"] == "strict"
    assert "no other chat event between" in widget.figure.layout.meta["about"]  # "About this chart"
    widget.controls["window"].value = "5min"
    assert widget.result.params["window"] == "5min"
    widget.controls["unit"].value = "session"
    assert widget.result.params["unit"] == "session"
    assert len(calls) == 4
    expected = ca.funnel(
        ca.simulate(300, seed=1),
        steps=STEPS,
        by="conversation_name",
        top=4,
        order="strict",
        window="5min",
        unit="session",
    )
    pd.testing.assert_frame_equal(widget.result.frame(), expected.frame())


def test_style_toggle_redraws_without_recomputing(widget, calls):
    before = widget.result
    widget.controls["value"].value = "overall_rate"
    assert len(calls) == 1 and widget.result is before
    assert widget.figure.layout.yaxis.tickformat == ".0%"
    first = widget.result.frame().query("group == @widget.figure.data[0].name")
    assert list(widget.figure.data[0].y) == first["overall_rate"].tolist()
    assert widget.figure.data[0].error_y.visible is True
    widget.controls["value"].value = "converted"
    assert len(calls) == 1
    # counts: the axis starts at 0 and leaves room above the tallest bar for its label
    assert widget.figure.layout.yaxis.tickformat == ",d" and widget.figure.layout.yaxis.range[0] == 0
    assert widget.figure.data[0].error_y.visible is False


def test_invalid_steps_show_the_error_and_keep_the_result(widget, calls):
    before = widget.result
    names = [t.name for t in widget.figure.data]
    widget.controls["steps"].value = "triggered, engagd"
    assert widget.result is before
    assert "engagd" in widget.message.value and "Did you mean" in widget.message.value
    assert [t.name for t in widget.figure.data] == names
    widget.controls["steps"].value = "triggered, , completed"
    assert "step 2 is empty" in widget.message.value
    widget.controls["steps"].value = "triggered, engaged"
    assert widget.message.value == ""
    assert widget.result.params["steps"] == ["triggered", "engaged"]
    assert list(widget.figure.data[0].x) == ["triggered", "engaged"]


def test_date_range_maps_to_start_and_end(widget, calls):
    widget.controls["start"].value = dt.date(2026, 10, 10)
    widget.controls["end"].value = dt.date(2026, 10, 20)
    assert widget.result.params["start"] == pd.Timestamp("2026-10-10", tz="UTC")
    assert widget.result.params["end"] == pd.Timestamp("2026-10-21", tz="UTC")  # "to" is inclusive
    assert "2026-10-10 to 2026-10-20" in widget.caption
    assert "entries in [2026-10-10, 2026-10-21)" in widget.figure.layout.meta["about"]


def test_show_units_lists_the_dropped_units(widget):
    group = widget.figure.data[0].name
    expected = widget.result.units(2, group, "dropped")
    assert len(expected) > 0
    got = widget.show_units(group, 2)
    pd.testing.assert_frame_equal(got, expected)
    text = widget.units_output.value
    assert f"{len(expected):,} conversation sessions" in text and "dropped at step 2" in text
    shown = expected.sort_values("entered_at").head(200)
    assert all(sid in text for sid in shown["session_id"])
    assert "+00:00" in text  # the widget's time zone: UTC, as none was given


def test_show_units_lists_entry_times_in_the_widget_time_zone(events):
    ny = FunnelWidget(events, steps=STEPS, by="conversation_name", top=4, tz="America/New_York")
    units = ny.show_units(ny.figure.data[0].name, 2)
    text = ny.units_output.value
    # October's entries are on Eastern Daylight Time, November's first day too (EST from 11-01 02:00)
    assert "+00:00" not in text and "-04:00" in text
    assert len(units) and str(units["entered_at"].dt.tz) == "UTC"  # the table returned stays in UTC


def test_bar_click_calls_show_units(widget):
    points = types.SimpleNamespace(point_inds=[2])  # what plotly passes to an on_click handler
    trace = widget.figure.data[1]
    widget._on_click(trace, points, None)
    group = trace.name
    pd.testing.assert_frame_equal(widget.selected_units, widget.result.units(3, group, "dropped"))
    # the click handler is attached to the traces, also after they are replaced
    widget.controls["by"].value = "ui_type"
    assert all(t._click_callbacks for t in widget.figure.data)


def test_displays_as_its_container(widget):
    bundle = widget._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.container.model_id


def test_parse_and_format_steps_round_trip():
    assert parse_steps(format_steps(["triggered", "email_input | phone_input"])) == [
        "triggered",
        ["email_input", "phone_input"],
    ]
    with pytest.raises(InvalidParameterError):
        parse_steps("  ")
    with pytest.raises(InvalidParameterError):
        parse_steps("triggered, engaged|")


@pytest.mark.slow
def test_saved_notebook_state_follows_the_controls():
    """In a real kernel: the widget displays, and the state saved with the notebook shows the last update."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import chatanalytics as ca\n"
            "from chatanalytics.widgets import FunnelWidget\n"
            'w = FunnelWidget(ca.simulate(300, seed=1), steps=["triggered", "engaged", "completed"])\n'
            "w"
        ),
        nbformat.v4.new_code_cell(
            'w.controls["by"].value = "ui_type"\nw.controls["value"].value = "overall_rate"'
        ),
    ]
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", extra_arguments=["--InteractiveShell.colors=nocolor"]
    ).execute()
    assert "application/vnd.jupyter.widget-view+json" in nb.cells[0].outputs[0]["data"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    figures = [m["state"] for m in state.values() if m["model_module"] == "anywidget"]
    assert len(figures) == 1
    assert [t["name"] for t in figures[0]["_widget_data"]] == ["chatbot", "popup", "inline"]
    assert figures[0]["_widget_layout"]["yaxis"]["tickformat"] == ".0%"


def test_the_time_zone_given_is_used_by_the_pickers_and_the_caption(events):
    ny = "America/New_York"
    w = FunnelWidget(events, steps=["triggered", "engaged"], tz=ny)
    assert w.controls["start"].description == f"From ({ny})"
    assert "entry time, America/New_York" in w.caption
    assert "time basis: entry time, America/New_York" in w.figure.layout.meta["about"]
    assert "UTC" not in w.caption
    w.controls["start"].value = dt.date(2026, 10, 10)
    w.controls["end"].value = dt.date(2026, 10, 20)
    # New York midnights: 04:00 UTC in October; the "to" date is included
    assert w.result.params["start"] == pd.Timestamp("2026-10-10 04:00", tz="UTC")
    assert w.result.params["end"] == pd.Timestamp("2026-10-21 04:00", tz="UTC")
    assert f"entries in [2026-10-10, 2026-10-21) {ny}" in w.figure.layout.meta["about"]
