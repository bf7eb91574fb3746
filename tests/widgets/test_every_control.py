"""The list of values the widget walks give a control (``tests/test_jupyterlab.py`` walks every option of
every control of every widget in JupyterLab and checks its headless twin after each; see
``tests/widget_walk.py``).
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as widgets
import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.widgets import FunnelWidget
from tests.conftest import WALK_STEPS, widget_choices
from tests.widget_walk import check_step

TZ = "America/New_York"


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return ca.load_sample()


def test_the_walk_knows_every_kind_of_control(events):
    """A control of a kind the walk cannot set fails here, so it is not skipped unnoticed."""
    with pytest.raises(AssertionError, match="no walk for a Button"):
        widget_choices(widgets.Button(), events, TZ)
    local = events["event_time_utc"].dt.tz_convert(TZ)
    days = widget_choices(widgets.DatePicker(value=dt.date(2026, 10, 5)), events, TZ)
    assert days[0] == local.min().date() < days[1] < local.max().date() and days[2] is None
    assert widget_choices(widgets.SelectMultiple(options=["a", "b"]), events, TZ) == [
        ("a",),
        ("b",),
        ("a", "b"),
        (),
    ]
    assert widget_choices(widgets.Text(value="triggered"), events, TZ) == list(WALK_STEPS)


def test_a_step_that_draws_another_figure_than_the_widget_would_fails(events):
    """The check after each step compares the figure shown with the one the widget draws afresh."""
    w = FunnelWidget(events, tz=TZ, steps=["triggered", "engaged"])
    computes = w.n_computes
    w.controls["value"].value = "overall_rate"
    check_step(w, "value", "overall_rate", computes, changed=True)
    w.figure.data[0].y = [0] * len(w.figure.data[0].y)
    with pytest.raises(AssertionError):
        check_step(w, "value", "overall_rate", computes, changed=True)
