"""A widget builds what its analysis needs from the events alone once, and every result it computes from
that is the result of a fresh analysis call.

The agents and timeouts widgets recompute on every data-control change, and so does the digest's; their
events never change, so the live-chat requests rebuilt from them (per set of carried columns) and the
digest's per-period counts (per breakdown, period, time zone and window) are kept and shared by the
results. Here each widget's ``compute`` runs a sequence of settings on the bundled (synthetic) sample,
and every table must equal the one of a plain ``ca.agent_performance`` / ``ca.timeouts`` /
``ca.changes`` call: a result that changed what it shares would make a later table differ.
"""

from __future__ import annotations

import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.analysis import _changes, _engine, _requests
from chatanalytics.widgets import AgentWidget, ChangesWidget, TimeoutWidget

START, END = pd.Timestamp("2026-10-12", tz="UTC"), pd.Timestamp("2026-10-26", tz="UTC")

AGENTS = [{}, {"freq": "week", "tz": "America/New_York", "start": START, "end": END}, {"shrink": False}]
# two shapes kept (of carried columns), the oldest dropped first: ui_type joins the widget's own ();
# conversation_name pushes () out; by=None brings it back and the derived hour finds it; ui_type with a
# where on conversation_type is a new shape
TIMEOUTS = [
    {"by": "ui_type"},
    {"by": "conversation_name", "top": 3},
    {"by": None, "start": START, "end": END},
    {"by": "hour", "tz": "Asia/Kolkata"},
    {"by": "ui_type", "where": {"conversation_type": ["dialogue"]}},
]


@pytest.fixture(scope="module")
def events():
    return ca.load_sample()


@pytest.fixture
def rebuilds(monkeypatch):
    """The shapes of carried columns each real rebuild was asked for, in order."""
    calls: list[tuple[str, ...]] = []
    real = _requests._rebuild

    def counted(events, columns=()):
        calls.append(tuple(columns))
        return real(events, columns)

    monkeypatch.setattr(_requests, "_rebuild", counted)
    return calls


def _same_tables(mine, fresh) -> None:
    assert mine.TABLES == fresh.TABLES
    for name in mine.TABLES:
        pd.testing.assert_frame_equal(mine.frame(name), fresh.frame(name), obj=name)


def test_the_agents_widget_rebuilds_once_and_every_result_equals_a_fresh_one(events, rebuilds):
    widget = AgentWidget(events)
    for kwargs in AGENTS:
        _same_tables(widget.compute(kwargs), ca.agent_performance(events, **kwargs))
    # the widget's own first computation, then one fresh call per setting; the widget rebuilt once
    assert rebuilds == [()] * (1 + len(AGENTS))


def test_the_timeouts_widget_rebuilds_once_per_carried_columns_kept(events, rebuilds, monkeypatch):
    monkeypatch.setattr(_engine, "REUSE_KEEP", 2)
    widget = TimeoutWidget(events)
    assert rebuilds == [()]  # the widget's first computation: nothing carried
    by_widget = []
    for kwargs in TIMEOUTS:
        n = len(rebuilds)
        mine = widget.compute(kwargs)
        by_widget.append(rebuilds[n:])  # what the widget rebuilt for this setting
        _same_tables(mine, ca.timeouts(events, **kwargs))
    assert by_widget == [
        [("ui_type",)],
        [("conversation_name",)],
        [()],
        [],  # the hour is derived from the request time: nothing carried, () is kept
        [("ui_type", "conversation_type")],
    ]


def test_outside_a_widget_every_call_rebuilds(events, rebuilds):
    ca.timeouts(events, by="ui_type")
    ca.timeouts(events, by="ui_type")
    assert rebuilds == [("ui_type",), ("ui_type",)]


CHANGES = [
    {"baseline": 2},
    {"at": "2026-10-19"},
    {"by": ["ui_type"]},
    {"by": ["ui_type"], "baseline": 2},
    {"period": "day"},
]


def test_the_digest_widget_counts_periods_once_per_breakdown_and_period(events, monkeypatch):
    built: list[tuple] = []
    real = _changes._aggregates

    def counted(events, by, period, tz, win_us):
        built.append((tuple(by), period))
        return real(events, by, period, tz, win_us)

    monkeypatch.setattr(_changes, "_aggregates", counted)
    widget = ChangesWidget(events)
    opened = list(built)
    by_widget = []
    for kwargs in CHANGES:
        n = len(built)
        mine = widget.compute(kwargs)
        by_widget.append(built[n:])
        _same_tables(mine, ca.changes(events, **kwargs))
    # the widget opens with its default breakdown by week; a new baseline or compared week reuses the
    # counts, a new breakdown or period counts again
    by = opened[0][0]
    assert opened == [(by, "week")]
    assert by_widget == [[], [], [(("ui_type",), "week")], [], [(by, "day")]]
