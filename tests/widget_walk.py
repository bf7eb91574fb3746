"""What must hold of a widget after each value a user gives one of its controls.

The browser walk (``tests/test_jupyterlab.py``) sets every option of every control of each widget in
the page and, in the same order, on a headless twin of the widget; after each value, :func:`check_step`
checks the twin: no error text in the message line, a data control recomputed once (any other control
only redrew), the figure is the one the widget's current result and style draw, and what it shows
follows the choice: the funnel has one bar trace per group of the breakdown and one bar per step, the
agents' bars are the leaderboard's rows, each timeouts view draws its own kind of figure (with the
groups of the comparison where the view splits by it), and the digest's views draw their kinds.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from plotly.io.json import to_json_plotly

from chatanalytics.viz._format import escape, short_names

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


def traces(fig: Any) -> list[dict]:
    """A figure's traces as plotly.js receives them, without their generated ids."""
    data = json.loads(to_json_plotly([t.to_plotly_json() for t in fig.data]))
    for t in data:
        t.pop("uid", None)
    return data


def check_step(w: Any, name: str, value: Any, computes: int, changed: bool) -> None:
    """Check widget ``w`` after ``value`` was set on its control ``name``.

    ``computes`` is the widget's ``n_computes`` before the value was set and ``changed`` whether the
    value differed from the control's.
    """
    # a data control recomputes once when its value changes; any other control only redraws
    assert w.n_computes - computes == (1 if changed and name in w.data_controls else 0), (name, value)
    assert "Not updated" not in w.message.value, (name, value, w.message.value)
    assert "Not drawn" not in w.message.value, (name, value, w.message.value)
    assert not w.busy
    assert traces(w.figure) == traces(w.draw()), (name, value)
    CHECKS[type(w).__name__](w, name, value)


def _funnel(w: Any, name: str, value: Any) -> None:
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


def _agents(w: Any, name: str, value: Any) -> None:
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


def _timeouts(w: Any, name: str, value: Any) -> None:
    view = w.view
    assert {t.type for t in w.figure.data} <= TRACE_KINDS[view] and len(w.figure.data)
    by = w.result.params["by"]
    groups = [g for g in dict.fromkeys(w.result.frame("service_level")["group"]) if g != "All"]
    if by is not None and view == "outcomes":
        assert [str(x) for x in w.figure.data[0].x] == groups
    if len(groups) > 1 and view in ("curves", "cif"):  # a slice can leave one group of the comparison
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


def _changes(w: Any, name: str, value: Any) -> None:
    assert {t.type for t in w.figure.data} <= TRACE_KINDS[w.view]
    if name in ("period", "baseline"):
        assert w.result.params[name] == value
    if name == "breakdown":
        assert w.result.params["by"][0] == value


CHECKS = {
    "FunnelWidget": _funnel,
    "AgentWidget": _agents,
    "TimeoutWidget": _timeouts,
    "ChangesWidget": _changes,
}
