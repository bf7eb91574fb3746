"""Data-borne text in every figure: plotly reads names, labels and hover text as a subset of HTML, so a
conversation or agent named with markup must show as text, never as a link or a tag.

Every figure kind of every registered analysis is drawn on one live-chat session whose conversation,
agent and UI type names are markup; the figure's JSON is walked, and every string plotly renders
(everything but ids such as ``legendgroup`` and the ``customdata`` that hover text does not show) must
hold no raw ``<a``, ``<img`` or ``<b>`` from the data. Hover templates are followed into the
``customdata`` columns they show.
"""

from __future__ import annotations

import json
import re

import pytest

import chatanalytics as ca
from chatanalytics.analysis import ANALYSES, ReportOptions

LINK = '<a href="https://evil.example">Pricing</a>'
IMG = "<img src=x onerror=alert(1)>"
BOLD = "<b>Ada</b>"
RAW = ("<a href", "<img", "<b>Ada")
NOT_SHOWN = {"legendgroup", "customdata", "uid", "ids", "meta"}


@pytest.fixture(scope="module")
def events():
    base = {"conversation_id": "c1", "conversation_name": LINK, "ui_type": IMG, "visitor_id": "v1"}
    agent = {"agent_id": "a1", "agent_name": BOLD}
    rows = []
    for day in range(1, 22):  # three weeks, so the digest has a compared week and a baseline
        for k, (minute, kind, extra) in enumerate(
            [(0, "triggered", {}), (1, "engaged", {}), (2, "live_chat_requested", agent),
             (3, "live_chat_initiated", agent), (6, "live_chat_ended", agent), (7, "completed", {})]
        ):  # fmt: skip
            rows.append(
                {
                    "event_time_utc": f"2026-11-{day:02d} 10:{minute:02d}:{k:02d}",
                    "event_type": kind,
                    "session_id": f"s{day}",
                    **base,
                    **extra,
                }
            )
    return ca.make_events(rows)


def _shown_strings(obj, key=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in NOT_SHOWN:
                yield from _shown_strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _shown_strings(v, key)
    elif isinstance(obj, str):
        yield key, obj


def _hover_customdata(fig_json):
    """The customdata cells that some hover template shows."""
    for trace in fig_json.get("data", []):
        template = trace.get("hovertemplate") or ""
        if isinstance(template, list):
            template = " ".join(template)
        shown = {int(i) for i in re.findall(r"customdata\[(\d+)\]", template)}
        for row in trace.get("customdata") or []:
            row = row if isinstance(row, list) else [row]
            for i in shown:
                if i < len(row) and isinstance(row[i], str):
                    yield f"customdata[{i}]", row[i]


def test_the_check_sees_raw_markup():
    fig = {"data": [{"name": LINK, "customdata": [[IMG]], "hovertemplate": "%{customdata[0]}"}]}
    assert [k for k, v in _shown_strings(fig) if any(r in v for r in RAW)] == ["name"]
    assert [k for k, v in _hover_customdata(fig) if any(r in v for r in RAW)] == ["customdata[0]"]


BREAKDOWNS = {
    "funnel by conversation": lambda ev: ca.funnel(
        ev, steps=["triggered", "engaged", "completed"], by="conversation_name"
    ),
    "funnel by UI type": lambda ev: ca.funnel(ev, steps=["triggered", "engaged"], by="ui_type"),
    "timeouts by conversation": lambda ev: ca.timeouts(ev, by="conversation_name"),
    "timeouts by UI type": lambda ev: ca.timeouts(ev, by="ui_type"),
    "changes by UI type": lambda ev: ca.changes(ev, by=["ui_type", "conversation_name"]),
}


def _run(events, name):
    if name in BREAKDOWNS:
        return BREAKDOWNS[name](events)
    return ANALYSES[name].run(events, ReportOptions(tz="UTC"))


@pytest.mark.parametrize("name", [*ANALYSES, *BREAKDOWNS])
def test_every_figure_kind_escapes_data_text(events, name):
    """As the report draws them, and with each breakdown by a column whose values are markup."""
    result = _run(events, name)
    drawn = 0
    for kind in type(result).FIGURES:
        style = {"by": "conversation_name"} if name == "changes" and kind == "waterfall" else {}
        fig = json.loads(result.figure(kind, **style).to_json())
        raw = [
            (kind, k, v[:80])
            for k, v in [*_shown_strings(fig), *_hover_customdata(fig)]
            if any(r in v for r in RAW)
        ]
        assert raw == []
        drawn += 1
    assert drawn == len(type(result).FIGURES) > 0
