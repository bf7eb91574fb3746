"""The change widget, headless: set every option of every control, read the new state.

The data are synthetic: 8,000 simulated sessions over four weeks from 2026-10-05 (America/New_York),
with the Pricing page dialogue's engagement halved from 2026-10-19 on. Complete weeks: 10-05, 10-12,
10-19 (10-26 ends after the data); so the latest complete week is 10-19, a baseline of three
weeks before it does not exist, and the week of 10-05 has no week before it: neither is offered.
"""

from __future__ import annotations

import types

import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics
import chatanalytics as ca
from chatanalytics.datasets import PlantedChange
from chatanalytics.widgets import ChangesWidget
from chatanalytics.widgets.changes import BASELINES, BREAKDOWNS

TZ = "America/New_York"


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return ca.simulate(
        8000,
        seed=5,
        changes=[PlantedChange("2026-10-19", conversation="Pricing page dialogue", engage_factor=0.5)],
    )


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """The arguments of every ``chatanalytics.changes`` call the widget makes (the real function runs)."""
    calls: list[dict] = []
    real = chatanalytics.changes

    def changes(events, **kwargs):
        calls.append(kwargs)
        return real(events, **kwargs)

    monkeypatch.setattr(chatanalytics, "changes", changes)
    return calls


@pytest.fixture
def widget(events, calls) -> ChangesWidget:
    return ChangesWidget(events, tz=TZ)


def titles(w: ChangesWidget) -> str:
    return w.figure.layout.title.text


def test_builds_from_one_computation(widget, calls):
    assert len(calls) == 1 and widget.n_computes == 1
    assert calls[0] == {"tz": TZ}  # the analysis' own defaults for the rest
    assert widget.result.widget_arguments() == {
        "period": "week",
        "tz": TZ,
        "by": ["conversation_name", "ui_type"],
        "baseline": 1,
        "at": None,
        "window": "30min",
    }
    assert isinstance(widget.figure, go.FigureWidget) and widget.figure in widget.container.children
    assert set(widget.controls) == {"period", "baseline", "breakdown", "at", "metric", "view"}
    c = widget.controls
    assert c["view"].value == "overview" and c["metric"].value == "engagement_rate"
    assert [v for _, v in c["at"].options] == [None, "2026-10-12", "2026-10-19"]
    assert c["at"].options[2][0] == "2026-10-19 to 2026-10-25"
    assert len(c["metric"].options) == 8  # every metric but the median wait
    assert {t.type for t in widget.figure.data} == {"scatter"}
    assert "week of 2026-10-19" in widget.caption
    assert "Engagement fell" in widget.headline_output.value


def test_every_style_option_redraws_without_computing(widget, calls):
    c = widget.controls
    c["view"].value = "waterfall"
    assert [t.type for t in widget.figure.data] == ["bar", "bar", "bar", "scatter"]
    assert titles(widget).startswith("Engagement fell")
    # no waterfall of a median (it has no split by group): not offered
    assert "median_wait_seconds" not in [v for _, v in c["metric"].options]
    for label, metric in c["metric"].options:
        c["metric"].value = metric
        assert widget.message.value == ""
        assert titles(widget).startswith(label), (label, titles(widget))
    c["view"].value = "overview"
    assert widget.message.value == "" and {t.type for t in widget.figure.data} == {"scatter"}
    assert len(calls) == 1 and widget.n_computes == 1


def test_period_recomputes_once_and_resets_the_compared_period(widget, calls):
    c = widget.controls
    c["at"].value = "2026-10-12"
    assert len(calls) == 2 and calls[-1]["at"] == "2026-10-12"
    assert "week of 2026-10-12" in widget.caption
    c["period"].value = "day"
    assert len(calls) == 3 and calls[-1]["period"] == "day" and calls[-1]["at"] is None
    assert c["at"].value is None and len(c["at"].options) > 20  # the complete days
    assert "vs the day before" in widget.caption
    c["period"].value = "week"
    assert len(calls) == 4 and widget.n_computes == 4 and calls[-1]["period"] == "week"


def test_every_compared_period(widget, calls):
    c = widget.controls
    # the week of 10-05 has no week before it to compare with: not offered
    assert [v for _, v in c["at"].options] == [None, "2026-10-12", "2026-10-19"]
    for _, value in list(c["at"].options)[1:]:
        n = len(calls)
        c["at"].value = value
        assert len(calls) == n + 1
        assert widget.message.value == ""
        assert f"week of {value}" in widget.caption
        # compared with 10-12, only the week of 10-05 is before it: a baseline of 2 is not offered
        assert [v for _, v in c["baseline"].options] == ([1] if value == "2026-10-12" else [1, 2])


def test_every_baseline(widget, calls):
    c = widget.controls
    # only two complete weeks before 2026-10-19: 3, 4, 7 and 14 weeks are not offered
    assert [v for _, v in c["baseline"].options] == [1, 2]
    assert not [b for b in BASELINES if b > 2 and b in [v for _, v in c["baseline"].options]]
    before = len(calls)
    c["baseline"].value = 2
    assert len(calls) == before + 1 and calls[-1]["baseline"] == 2
    assert widget.message.value == "" and "vs the mean of 2 weeks before" in widget.caption
    # with two weeks of baseline, only 10-19 has two complete weeks before it
    assert [v for _, v in c["at"].options] == [None, "2026-10-19"]


def test_every_breakdown(widget, calls):
    c = widget.controls
    c["view"].value = "waterfall"
    for by in BREAKDOWNS:
        if by == c["breakdown"].value:
            continue
        before = len(calls)
        c["breakdown"].value = by
        assert len(calls) == before + 1 and calls[-1]["by"][0] == by
        assert widget.message.value == ""
        expected = by.replace("_", " ")
        assert f"by {expected}" in widget.figure.layout.xaxis.title.text.replace("<br>", " ")
    # the other breakdown stays after the chosen one
    assert calls[-1]["by"] == ["page_url", "conversation_name", "ui_type"]


def test_clicking_a_group_lists_its_conversations(widget, events):
    widget.controls["view"].value = "waterfall"
    rate = widget.figure.data[1]
    group = rate.customdata[0][0]
    widget._on_click(rate, types.SimpleNamespace(point_inds=[0]), None)
    units = widget.selected_units
    # an independent count: the group's triggered conversations in both weeks, from the digest
    d = widget.result.frame("drivers")
    row = d[(d["metric"] == "engagement_rate") & (d["by"] == "conversation_name") & (d["group"] == group)]
    assert len(units) == int(row["units_before"].iloc[0] + row["units_after"].iloc[0])
    assert set(units["role"]) == {"baseline", "current"}
    assert f"{len(units):,} conversations</b> of <b>{group}" in widget.units_output.value
    assert widget.units_output.value.count("<tr") == 51  # the header and the first 50
    # the ends and "other groups" are not one group
    widget._on_click(widget.figure.data[0], types.SimpleNamespace(point_inds=[0]), None)
    assert "not one group" in widget.units_output.value
    # the handlers follow the redrawn traces, and a recompute clears the list
    assert all(t._click_callbacks for t in widget.figure.data if t.type == "bar")
    widget.controls["baseline"].value = 2
    assert widget.selected_units is None and "Click a group" in widget.units_output.value
