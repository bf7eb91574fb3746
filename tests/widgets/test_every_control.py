"""Every option of every control of every widget, set in turn, headless (the browser walk's twin).

The controls are read from each widget (``widget.controls``), so a control added later is walked too.
For each value set: no error text in the message line, the figure is the one the widget's current
result and style draw, and what it shows follows the choice: the funnel has one bar trace per group of
the breakdown and one bar per step, the agents' bars are the leaderboard's rows, each timeouts view
draws its own kind of figure (with the groups of the comparison where the view splits by it), and the
digest's views draw their kinds. Each control is set back to where it started before the next one is
walked, so every choice is seen from the widget's opening state; the timeouts widget is walked again
with a comparison, where its "Group" control is in use. The data are the bundled sample.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ipywidgets as widgets
import pandas as pd
import pytest
from plotly.io.json import to_json_plotly

import chatanalytics as ca
from chatanalytics.viz._format import escape, short_names
from chatanalytics.widgets import AgentWidget, ChangesWidget, FunnelWidget, TimeoutWidget
from tests.conftest import widget_choices

TZ = "America/New_York"
TRACE_KINDS = {
    "outcomes": {"bar", "scatter"},
    "curves": {"scatter"},
    "cif": {"scatter"},
    "service_level": {"scatter"},
    "heatmap": {"heatmap"},
    "causes": {"bar"},
    "overview": {"scatter"},
    "waterfall": {"bar", "scatter"},
}


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return ca.load_sample()


def traces(fig: Any) -> list[dict]:
    data = json.loads(to_json_plotly([t.to_plotly_json() for t in fig.data]))
    for t in data:
        t.pop("uid", None)
    return data


def choices(control: Any, events: pd.DataFrame) -> list[Any]:
    """Every value a user can give a control."""
    return widget_choices(control, events, TZ)


def walk(w: Any, events: pd.DataFrame, check: Any, only: tuple[str, ...] | None = None) -> int:
    """Set every value of every enabled control (or of those named in ``only``), each control back to
    its start after; return how many values were set.
    """
    seen = 0
    for name, control in w.controls.items():
        if control.disabled or (only is not None and name not in only):
            continue
        start = control.value
        for value in [*choices(control, events), start]:
            before, changed = w.n_computes, value != control.value
            control.value = value
            # a data control recomputes once when its value changes; any other control only redraws
            assert w.n_computes - before == (1 if changed and name in w.data_controls else 0), (name, value)
            assert "Not updated" not in w.message.value, (name, value, w.message.value)
            assert "Not drawn" not in w.message.value, (name, value, w.message.value)
            assert not w.busy
            assert traces(w.figure) == traces(w.draw()), (name, value)
            check(w, name, value)
            seen += 1
        assert control.value == start
    return seen


def test_funnel_every_control(events):
    w = FunnelWidget(events, tz=TZ, steps=["triggered", "engaged", "completed"])

    def check(w, name, value):
        table = w.result.frame()
        groups = list(dict.fromkeys(table["group"]))
        # legends show long names cut (the full name is on hover), in the table's order
        shown = short_names(groups)
        assert [t.name for t in w.figure.data] == [escape(shown[g]) for g in groups]
        n_steps = len(w.result.params["steps"])
        column = w.controls["value"].value
        for g, t in zip(groups, w.figure.data, strict=True):
            rows = table[table["group"] == g]
            assert len(t.y) == n_steps
            assert [float(y) for y in t.y] == pytest.approx(rows[column].astype(float).tolist())
        if name == "by":
            assert w.result.params["by"] == (None if value == "(no breakdown)" else value)
            if value == "ui_type":
                assert sorted(groups) == ["chatbot", "inline", "popup"]
        if name in ("window", "order", "unit", "attribution"):
            assert w.result.params[name] == value
        if name == "steps":
            assert n_steps == value.count(",") + 1

    assert walk(w, events, check) > 20


def test_agents_every_control(events):
    w = AgentWidget(events, tz=TZ, freq="week")

    def check(w, name, value):
        rows = w.leaderboard
        metric = w.controls["metric"].value
        bars = w.figure.data[0]
        assert len(bars.y) == len(rows)
        assert [float(x) for x in bars.x] == pytest.approx(rows[metric].astype(float).tolist(), nan_ok=True)
        if name == "agents" and value:
            assert set(rows["agent_id"]) <= set(value)
        if name == "drill":
            listed = w.selected_requests
            if value == "(all agents)":
                assert listed is None
            else:  # the offers listed are those the agent's bar counts in the period drawn
                offers = w._source().frame()
                if w.period is not None:
                    offers = offers[pd.to_datetime(offers["period"]) == w.period]
                assert len(listed) == int(offers.loc[offers["agent_id"] == value, "offers"].sum())

    assert walk(w, events, check) > 20


@pytest.mark.parametrize("context", [{}, {"compare": "ui_type"}], ids=["alone", "compared"])
def test_timeouts_every_control(events, context):
    w = TimeoutWidget(events, tz=TZ)
    for name, value in context.items():
        w.controls[name].value = value

    def check(w, name, value):
        view = w.view
        assert {t.type for t in w.figure.data} <= TRACE_KINDS[view] and len(w.figure.data)
        by = w.result.params["by"]
        groups = [g for g in dict.fromkeys(w.result.frame("service_level")["group"]) if g != "All"]
        if by is not None and view == "outcomes":
            assert [str(x) for x in w.figure.data[0].x] == groups
        if by is not None and view in ("curves", "cif"):
            assert "groups differ" in w.summary_output.value
        else:
            assert "log-rank" not in w.summary_output.value
        if view == "heatmap" and by is not None:
            assert "does not split by" in w.notice.value
        if view in ("service_level", "causes"):
            assert traces(w.figure) == traces(w.result.figure(view, group=w.group))
            assert w.controls["group"].disabled is (by is None)
        if name == "group":
            assert w.group == value

    if not context:
        assert walk(w, events, check) > 20
        return
    # compared: the views, then the group control, in use under the service level and causes views
    assert walk(w, events, check, only=w.style_controls) == 7
    for view in ("service_level", "causes"):
        w.controls["view"].value = view
        assert walk(w, events, check, only=w.style_controls) == 7 + 5


def test_changes_every_control(events):
    w = ChangesWidget(events, tz=TZ)

    def check(w, name, value):
        assert {t.type for t in w.figure.data} <= TRACE_KINDS[w.view]
        if name in ("period", "baseline"):
            assert w.result.params[name] == value
        if name == "breakdown":
            assert w.result.params["by"][0] == value

    assert walk(w, events, check) > 15


def test_the_walk_knows_every_kind_of_control(events):
    """A control of a kind the walk cannot set fails here, so it is not skipped unnoticed."""
    with pytest.raises(AssertionError, match="no walk for a Button"):
        choices(widgets.Button(), events)
    assert choices(widgets.DatePicker(value=dt.date(2026, 10, 5)), events)[-1] is None
