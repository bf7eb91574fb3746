"""Change figures, tested by structure (traces, titles, printed values, hover, sums), not pixels.

The hand-built frame (synthetic; times UTC; one trigger per unit, an engaged event a minute later for
the engaged ones; periods are days):

* 2026-10-12 (the baseline): conversation A (popup) 200 units, 100 engaged (50%); B (inline) 200
  units, 20 engaged (10%). Overall 120 / 400 = 30%.
* 2026-10-13 (compared): A 100 units, 20 engaged (20%); B 300 units, 60 engaged (20%). Overall
  80 / 400 = 20%: engagement fell 10 points. Two-proportion z = -0.1 / sqrt(0.25 * 0.75 * 2 / 400)
  = -3.27, p = 0.0011; five metrics are comparable (no live-chat requests: the four request metrics
  are not), so Holm multiplies the smallest p by 5: 0.0055, significant.
* 2026-10-14: one more trigger of A, so that the 13th is complete.

Kitagawa's parts (``_changes_stats.kitagawa``): shares A 0.5 -> 0.25, B 0.5 -> 0.75; rates A 0.5 ->
0.2, B 0.1 -> 0.2; Rm = (0.3 + 0.2) / 2 = 0.25.
A: rate (0.2 - 0.5) * (0.5 + 0.25) / 2 = -0.1125; mix (0.25 - 0.5) * ((0.5 + 0.2) / 2 - 0.25) = -0.025.
B: rate (0.2 - 0.1) * (0.5 + 0.75) / 2 = 0.0625; mix (0.75 - 0.5) * ((0.1 + 0.2) / 2 - 0.25) = -0.025.
Total -0.1375 + 0.0375 = -0.1. Triggered: 400 -> 400; A -100, B +100.

So the waterfall of engagement by conversation starts at 30, steps -11.25 (A rate), -2.5 (A mix),
+6.25 (B rate), -2.5 (B mix) and ends at 20.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics as ca
from chatanalytics.datasets import PlantedChange
from chatanalytics.errors import InvalidParameterError
from chatanalytics.viz import changes_overview_figure, changes_waterfall_figure

LONG = "A conversation name that keeps going for sixty characters, o"
assert len(LONG) == 60


def units(day: int, name: str, ui: str, n: int, engaged: int) -> list[dict]:
    """``n`` units of conversation ``name`` triggered on 2026-10-``day`` from 09:00 UTC, one a minute."""
    rows = []
    for i in range(n):
        session = f"{name}-{day}-{i}"
        t = pd.Timestamp(f"2026-10-{day} 09:00", tz="UTC") + pd.Timedelta(minutes=i)
        common = {"session_id": session, "conversation_id": name, "conversation_name": name, "ui_type": ui}
        rows.append({"event_time_utc": t, "event_type": "triggered", **common})
        if i < engaged:
            rows.append({"event_time_utc": t + pd.Timedelta(minutes=1), "event_type": "engaged", **common})
    return rows


def tiny_events() -> pd.DataFrame:
    return ca.make_events(
        units(12, "A", "popup", 200, 100)
        + units(12, "B", "inline", 200, 20)
        + units(13, "A", "popup", 100, 20)
        + units(13, "B", "inline", 300, 60)
        + units(14, "A", "popup", 1, 0)
    )


def digest(events: pd.DataFrame, **kwargs) -> tuple[dict[str, pd.DataFrame], dict]:
    """The digest's tables and parameters, as the result hands them to its figures."""
    result = ca.changes(events, **kwargs)
    return result.tables(), dict(result.params)


@pytest.fixture(scope="module")
def tiny():
    return digest(tiny_events(), period="day", tz="UTC", by=["conversation_name", "ui_type"])


@pytest.fixture(scope="module")
def planted():
    """Synthetic: the Pricing page dialogue's engagement halved from the compared week on."""
    events = ca.simulate(
        20000,
        seed=5,
        changes=[PlantedChange("2026-10-19", conversation="Pricing page dialogue", engage_factor=0.5)],
    )
    return digest(events, tz="America/New_York")


def waterfall_path(fig: go.Figure) -> tuple[float, list[float], float]:
    """The first bar's value, the steps in drawing order (y), and the last bar's value."""
    ends = fig.data[0]
    steps = sorted((y, x) for t in fig.data[1:] if t.type == "bar" for y, x in zip(t.y, t.x, strict=True))
    return float(ends.x[0]), [x for _, x in steps], float(ends.x[1])


def subtitle(fig: go.Figure) -> str:
    return fig.layout.title.subtitle.text


# --------------------------------------------------------------------------------------------------
# overview
# --------------------------------------------------------------------------------------------------


def test_overview_states_the_finding_and_prints_every_change(tiny):
    tables, params = tiny
    fig = changes_overview_figure(tables["metrics"], params)
    assert fig.layout.title.text == "Engagement fell from 30% to 20% (−10.0 pts, significant)"
    assert subtitle(fig) == "2026-10-13 vs the day before (2026-10-12); times in UTC"
    assert "<br>" not in subtitle(fig)
    assert {t.type for t in fig.data} == {"scatter"}
    # rates panel: engagement significant; lead capture, completion, meetings within noise (0 -> 0)
    sig, noise, count = fig.data
    assert sig.name == "significant (Holm-adjusted p < 0.05)" and sig.marker.symbol == "circle"
    assert list(sig.text) == ["<b>−10.0 pts</b>"] and sig.x[0] == pytest.approx(-10.0)
    assert "30% → 20%" in sig.y[0] and sig.y[0].startswith("Engagement")
    assert noise.name == "within noise" and noise.marker.symbol == "circle-open"
    assert list(noise.text) == ["0.0 pts"] * 3
    assert [y.split("<br>")[0] for y in noise.y] == ["Lead capture", "Completion", "Meetings booked"]
    # the interval is the error bar: from the change to its bounds, in points
    m = tables["metrics"].set_index("metric")
    assert sig.error_x.array[0] == pytest.approx(m.loc["engagement_rate", "change_high"] * 100 + 10)
    assert sig.error_x.arrayminus[0] == pytest.approx(-10 - m.loc["engagement_rate", "change_low"] * 100)
    # the count in its own panel, in % of the baseline: 400 -> 400
    assert count.xaxis == "x2" and list(count.text) == ["0.0%"] and "400 → 400" in count.y[0]
    assert fig.layout.xaxis.title.text.startswith("Change in the rate, percentage points")
    assert fig.layout.xaxis2.title.text == "Change in the count, % of the baseline"
    assert fig.layout.xaxis2.ticksuffix == "%"
    # intervals and the test on hover
    low, high = m.loc["engagement_rate", ["change_low", "change_high"]] * 100
    ci = f"95% CI −{abs(low):.1f} pts to −{abs(high):.1f} pts"
    assert ci in sig.hovertext[0] and "Holm-adjusted p = 0.0055" in sig.hovertext[0]
    assert "before: 30% (95% CI" in sig.hovertext[0]
    # the request metrics are listed with their reason
    note = fig.layout.annotations[-1].text.replace("<br>", " ")
    assert note == (
        "Not compared (no live-chat requests in the baseline): Live-chat acceptance, Missed live chats, "
        "Service level (30 s), Median wait to accept"
    )


def test_overview_title_without_significant_change(tiny):
    tables, params = tiny
    metrics = tables["metrics"].assign(significant=False)
    fig = changes_overview_figure(metrics, params)
    assert fig.layout.title.text == "No metric moved beyond noise (5 compared)"
    assert [t.name for t in fig.data] == ["within noise", "within noise"]
    assert changes_overview_figure(metrics, params, title="Mine").layout.title.text == "Mine"


def test_overview_when_nothing_is_comparable(tiny):
    tables, params = tiny
    metrics = tables["metrics"].assign(comparable=False, reason="the compared day is immature")
    fig = changes_overview_figure(metrics, params)
    assert fig.layout.title.text == "Nothing compared: the compared period is not complete"
    assert len(fig.data) == 0
    assert fig.layout.annotations[0].text == "None of the 9 metrics compared: the compared day is immature"


def test_overview_of_a_planted_change_marks_it(planted):
    tables, params = planted
    fig = changes_overview_figure(tables["metrics"], params)
    assert fig.layout.title.text.startswith("Engagement fell from ")
    assert "significant" in fig.layout.title.text.split("<br>")[0]
    assert subtitle(fig) == (
        "week of 2026-10-19 vs the week before (week of 2026-10-12); times in America/New_York"
    )
    panels = {t.xaxis for t in fig.data}
    assert panels == {"x", "x2", "x3"}  # rates, the count, the median wait
    median = next(t for t in fig.data if t.xaxis == "x3")
    assert median.text[0].endswith(" s") and "no interval for a difference of medians" in median.hovertext[0]


def test_overview_checks_its_table(tiny):
    tables, params = tiny
    with pytest.raises(InvalidParameterError, match="missing columns"):
        changes_overview_figure(tables["metrics"].drop(columns="p_adjusted"), params)


# --------------------------------------------------------------------------------------------------
# waterfall
# --------------------------------------------------------------------------------------------------


def test_waterfall_worked_by_hand(tiny):
    tables, params = tiny
    fig = changes_waterfall_figure(tables["drivers"], tables["metrics"], params)
    assert [t.type for t in fig.data] == ["bar", "bar", "bar", "scatter"]
    ends, rate, mix, connector = fig.data
    assert [t.name for t in fig.data[1:3]] == [
        "rate: the group's own rate changed",
        "mix: the group's share of the traffic changed",
    ]
    assert list(ends.x) == pytest.approx([30.0, 20.0]) and list(ends.text) == ["30.0%", "20.0%"]
    # A first (|total| 13.75 pts), then B (3.75 pts)
    assert list(rate.y) == [1, 3] and list(rate.x) == pytest.approx([-11.25, 6.25])
    assert list(rate.base) == pytest.approx([30.0, 16.25])
    assert list(mix.y) == [2, 4] and list(mix.x) == pytest.approx([-2.5, -2.5])
    assert list(mix.base) == pytest.approx([18.75, 22.5])
    assert list(mix.text) == ["−2.5 pts", "−2.5 pts"]
    assert rate.text[0].startswith("−11.") and rate.text[1].startswith("+6.")
    assert [c[0] for c in rate.customdata] == ["A", "B"]
    ticks = list(fig.layout.yaxis.ticktext)
    assert ticks == ["<b>before</b>", "A · rate", "A · mix", "B · rate", "B · mix", "<b>after</b>"]
    assert fig.layout.title.text.startswith(
        "Engagement fell from 30% to 20% (−10.0 pts, significant)<br>Largest part: A, its own rate (−11."
    )
    assert subtitle(fig) == "2026-10-13 vs the day before (2026-10-12); times in UTC"
    # interval and counts on hover
    d = (
        tables["drivers"]
        .set_index(["metric", "by", "group"])
        .loc[("engagement_rate", "conversation_name", "A")]
    )
    assert f"95% CI −{abs(d['total_low']) * 100:.1f} pts" in rate.hovertext[0]
    assert "its rate: 50.0% → 20.0%" in rate.hovertext[0] and "(200 → 100)" in rate.hovertext[0]
    # the connectors run from each bar's end to the next bar
    xs = [x for x in connector.x if x is not None]
    assert xs[::2] == pytest.approx([30.0, 18.75, 16.25, 22.5, 20.0])


def test_waterfall_of_the_count_has_one_bar_per_group(tiny):
    tables, params = tiny
    fig = changes_waterfall_figure(
        tables["drivers"], tables["metrics"], params, metric="triggered", by="ui_type"
    )
    ends, change, _ = fig.data
    assert change.name == "change: the group's own change"
    assert list(ends.text) == ["400", "400"] and list(change.text) == ["+100", "−100"]
    assert [c[0] for c in change.customdata] == ["inline", "popup"]
    assert list(fig.layout.yaxis.ticktext) == ["<b>before</b>", "inline", "popup", "<b>after</b>"]
    assert fig.layout.title.text == (
        "Triggered conversations did not change (400 to 400, within noise)<br>Largest part: inline (+100)"
    )


@pytest.mark.parametrize(
    ("metric", "by"),
    [
        ("engagement_rate", "conversation_name"),
        ("engagement_rate", "ui_type"),
        ("completion_rate", "conversation_name"),
        ("lead_capture_rate", "ui_type"),
        ("acceptance_rate", "conversation_name"),
        ("triggered", "conversation_name"),
    ],
)
def test_waterfall_adds_up_from_before_to_after(planted, metric, by):
    tables, params = planted
    for top in (3, 8):
        fig = changes_waterfall_figure(
            tables["drivers"], tables["metrics"], params, metric=metric, by=by, top=top
        )
        before, steps, after = waterfall_path(fig)
        assert before + sum(steps) == pytest.approx(after, abs=1e-9)
        # and each bar starts where the one before it ended
        bases = sorted(
            (y, b) for t in fig.data[1:] if t.type == "bar" for y, b in zip(t.y, t.base, strict=True)
        )
        running = np.cumsum([before, *steps])[:-1]
        assert [b for _, b in bases] == pytest.approx(list(running), abs=1e-9)


def test_waterfall_marks_new_and_vanished_groups():
    """Synthetic: A 10 units (5 engaged) on both days; B 10 units (1 engaged) only on the 12th; C 10
    units (9 engaged) only on the 13th. Engagement 6/20 = 30% -> 14/20 = 70%: +40 pts.
    """
    events = ca.make_events(
        units(12, "A", "popup", 10, 5)
        + units(12, "B", "inline", 10, 1)
        + units(13, "A", "popup", 10, 5)
        + units(13, "C", "chatbot", 10, 9)
        + units(14, "A", "popup", 1, 0)
    )
    tables, params = digest(events, period="day", tz="UTC", by="conversation_name")
    fig = changes_waterfall_figure(tables["drivers"], tables["metrics"], params)
    before, steps, after = waterfall_path(fig)
    assert (before, after) == pytest.approx((30.0, 70.0))
    assert before + sum(steps) == pytest.approx(after, abs=1e-9)
    ticks = list(fig.layout.yaxis.ticktext)
    assert "B (vanished) · mix" in ticks and "C (new) · mix" in ticks and "A · rate" in ticks
    mix = fig.data[2]
    by_group = dict(zip([c[0] for c in mix.customdata], mix.marker.pattern.shape, strict=True))
    assert by_group == {"A": "", "B": "/", "C": "/"}
    texts = dict(zip([c[0] for c in mix.customdata], mix.text, strict=True))
    assert texts["C"].endswith(" new") and texts["B"].endswith(" vanished")
    hover = dict(zip([c[0] for c in mix.customdata], mix.hovertext, strict=True))
    assert "new group: none in the baseline" in hover["C"]


@pytest.mark.parametrize("n_groups", [1, 8, 12])
def test_many_groups_with_long_names_build(n_groups):
    """Synthetic: group i has 20 + i units on each day, i + 2 engaged on the 12th and i + 5 on the 13th."""
    rows = []
    for i in range(n_groups):
        name = f"{i:02d} {LONG}"[:60]
        rows += units(12, name, "popup", 20 + i, i + 2) + units(13, name, "popup", 20 + i, i + 5)
    rows += units(14, "late", "popup", 1, 0)
    tables, params = digest(ca.make_events(rows), period="day", tz="UTC", by="conversation_name")
    overview = changes_overview_figure(tables["metrics"], params)
    assert overview.layout.height >= 320
    fig = changes_waterfall_figure(tables["drivers"], tables["metrics"], params)
    drawn = min(n_groups, 8)
    other = 2 if n_groups > 8 else 0
    ticks = list(fig.layout.yaxis.ticktext)
    assert len(ticks) == 2 + 2 * drawn + other
    assert all(len(t) <= 34 + len(" · rate") for t in ticks)  # long names cut, full name on hover
    if other:
        assert ticks[-3:-1] == ["other groups (4) · rate", "other groups (4) · mix"]
        assert "no interval for a sum of groups" in fig.data[1].hovertext[-1]
    assert LONG[:30] in fig.data[1].hovertext[0]
    assert fig.layout.height >= 190 + 26 * len(ticks)
    before, steps, after = waterfall_path(fig)
    assert before + sum(steps) == pytest.approx(after, abs=1e-9)


def test_waterfall_rejects_what_it_cannot_draw(tiny):
    tables, params = tiny
    d, m = tables["drivers"], tables["metrics"]
    with pytest.raises(InvalidParameterError, match=r"median_wait_seconds.*no breakdown"):
        changes_waterfall_figure(d, m, params, metric="median_wait_seconds")
    with pytest.raises(InvalidParameterError, match="page_url"):
        changes_waterfall_figure(d, m, params, by="page_url")
    with pytest.raises(InvalidParameterError, match="top"):
        changes_waterfall_figure(d, m, params, top=0)
    with pytest.raises(InvalidParameterError, match="missing columns"):
        changes_waterfall_figure(d.drop(columns="mix"), m, params)
