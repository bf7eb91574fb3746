"""Funnel figures, tested by structure (traces, labels, captions, customdata), not pixels.

The over-time and time-curve tables are built by hand following the data contracts of
``FunnelResult.over_time()`` and ``FunnelResult.time_curves()``.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from chatanalytics.errors import InvalidParameterError
from chatanalytics.viz import TEMPLATE, caption, funnel_figure, over_time_figure, time_figure

PARAMS = {
    "steps": ["triggered", "engaged", "email_input | phone_input"],
    "order": "ordered",
    "unit": "conversation",
    "window": "30min",
    "max_gap": None,
    "exclude": ["closed"],
    "by": "ui_type",
    "top": 10,
    "start": None,
    "end": None,
}
STEPS = PARAMS["steps"]


def wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain 95% Wilson bounds, only to fill the hand-built tables with plausible values."""
    z = 1.959963984540054
    k, n = np.asarray(k, float), np.asarray(n, float)
    p = k / n
    d = 1 + z**2 / n
    c = (p + z**2 / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / d
    return c - h, c + h


def funnel_table() -> pd.DataFrame:
    """Two groups, three steps: popup 100 -> 40 -> 10, chatbot 50 -> 30 -> 15 (chatbot shown second)."""
    rows = []
    for group, counts in (("popup", [100, 40, 10]), ("chatbot", [50, 30, 15])):
        for i, conv in enumerate(counts):
            entered = counts[i - 1] if i else counts[0]
            rows.append(
                {
                    "group": group,
                    "step": i + 1,
                    "step_name": STEPS[i],
                    "entered": entered,
                    "converted": conv,
                    "dropped": entered - conv,
                    "still_open": 1 if i else 0,
                    "median_seconds": 10.0 * i,
                    "p90_seconds": 30.0 * i,
                }
            )
    t = pd.DataFrame(rows)
    units = t.groupby("group", sort=False)["entered"].transform("first")
    t["conversion_rate"] = t["converted"] / t["entered"]
    t["conversion_rate_low"], t["conversion_rate_high"] = wilson(t["converted"], t["entered"])
    t["overall_rate"] = t["converted"] / units
    t["overall_rate_low"], t["overall_rate_high"] = wilson(t["converted"], units)
    return t


def over_time_table() -> pd.DataFrame:
    """Four days for "popup", three for "chatbot"; the last day of each is immature."""
    rows = []
    days = pd.date_range("2026-10-05", periods=4, freq="D", unit="us")
    for group, n_days in (("popup", 4), ("chatbot", 3)):
        for d, day in enumerate(days[:n_days]):
            entered = 20 + d
            for step, name in enumerate(STEPS, start=1):
                converted = entered if step == 1 else max(entered // (2 * step), 1)
                lo, hi = wilson([converted], [entered])
                rows.append(
                    {
                        "group": group,
                        "period": day,
                        "step": step,
                        "step_name": name,
                        "entered": entered,
                        "converted": converted,
                        "overall_rate": converted / entered,
                        "overall_rate_low": lo[0],
                        "overall_rate_high": hi[0],
                        "immature": d == n_days - 1,
                    }
                )
    return pd.DataFrame(rows)


def curves_table() -> pd.DataFrame:
    """Kaplan-Meier-like curves for steps 2 and 3 of two groups, ascending in seconds."""
    rows = []
    for group in ("popup", "chatbot"):
        for step in (2, 3):
            for i, s in enumerate([2.0, 8.0, 30.0, 95.0, 600.0]):
                rows.append(
                    {
                        "group": group,
                        "step": step,
                        "step_name": STEPS[step - 1],
                        "seconds": s,
                        "converted_share": (i + 1) / (10 * step),
                    }
                )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# caption
# ------------------------------------------------------------------------------------------------


def test_caption_states_the_definition():
    text = caption(PARAMS)
    for part in (
        "conversation session",
        "window 30min measured from step 1",
        "steps in order, other events allowed between",
        "progress ends at closed",
        "by ui_type at the first step",
        "entry time, UTC",
        "conversion from the previous step; overall = of units entering step 1",
    ):
        assert part in text


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"unit": "session"}, "unit: session"),
        ({"unit": "visitor"}, "unit: visitor"),
        ({"order": "strict"}, "no other chat event between"),
        ({"order": "any"}, "steps in any order"),
        ({"order": "any"}, "measured from the unit's first step event"),
        ({"exclude": []}, "no exclusions"),
        ({"max_gap": "5min"}, "max gap between steps 5min"),
        ({"start": pd.Timestamp("2026-10-01", tz="UTC")}, "entries in [2026-10-01, …)"),
    ],
)
def test_caption_follows_params(changes, expected):
    assert expected in caption({**PARAMS, **changes})


def test_caption_without_breakdown_names_no_column():
    assert " by " not in caption({**PARAMS, "by": None})


# ------------------------------------------------------------------------------------------------
# funnel_figure
# ------------------------------------------------------------------------------------------------


def subtitle(fig: go.Figure) -> str:
    """The words a reader gets: the subtitle line, then the definition behind "About this chart"."""
    return (fig.layout.title.subtitle.text + " " + fig.layout.meta["about"]).replace("<br>", " ")


def test_funnel_figure_structure():
    table = funnel_table()
    fig = funnel_figure(table, PARAMS)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert [t.name for t in fig.data] == ["popup", "chatbot"]  # table order, not alphabetical
    for trace in fig.data:
        assert list(trace.x) == STEPS
    assert list(fig.data[0].y) == [100, 40, 10]
    # chatbot: 50, 30, 15 units, so 60% then 50% of the previous step, 60% then 30% overall
    assert list(fig.data[1].text) == ["100%", "60% step<br>60% overall", "50% step<br>30% overall"]
    assert fig.data[1].textposition == "outside"
    assert "on the bars: % of the previous step, then % of units entering step 1" in subtitle(fig)
    # the overall-rate view carries the same labels
    rates = funnel_figure(table, PARAMS, value="overall_rate")
    assert list(rates.data[1].text) == list(fig.data[1].text)
    assert list(rates.data[1].y) == pytest.approx([1.0, 0.6, 0.3])
    # the count and the interval are in the hover
    assert "converted %{customdata[3]:,}" in fig.data[1].hovertemplate
    assert "overall %{customdata[9]:.1%} (95% CI" in fig.data[1].hovertemplate
    assert fig.layout.barmode == "group"
    assert list(fig.layout.xaxis.categoryarray) == STEPS
    # the title states the finding: the last step's overall rate, highest and lowest group
    assert fig.layout.title.text.replace("<br>", " ") == (
        "30% of triggered conversation sessions reached email_input | phone_input in chatbot, 10% in popup"
    )
    assert fig.data[0].error_y.visible is False


def test_funnel_figure_customdata_maps_back_to_rows():
    table = funnel_table()
    fig = funnel_figure(table, PARAMS)
    for trace in fig.data:
        rows = table[table["group"] == trace.name].itertuples()
        for row, custom in zip(rows, trace.customdata, strict=True):
            assert (custom[0], custom[1]) == (row.group, row.step)
            assert (custom[2], custom[3], custom[4]) == (row.entered, row.converted, row.dropped)
    assert "95% CI" in fig.data[0].hovertemplate


def test_funnel_figure_caption_is_the_subtitle():
    fig = funnel_figure(funnel_table(), PARAMS)
    text = subtitle(fig)
    for part in ("conversation session", "window 30min", "steps in order", "entry time, UTC"):
        assert part in text
    # every clause of the caption is there, line breaks aside
    assert all(clause in text for clause in caption(PARAMS).split("; "))


@pytest.mark.parametrize("value", ["overall_rate", "conversion_rate"])
def test_funnel_figure_rates_have_interval_error_bars(value):
    table = funnel_table()
    fig = funnel_figure(table, PARAMS, value=value)
    popup = table[table["group"] == "popup"]
    trace = fig.data[0]
    np.testing.assert_allclose(trace.y, popup[value])
    np.testing.assert_allclose(np.asarray(trace.y) + trace.error_y.array, popup[f"{value}_high"])
    np.testing.assert_allclose(np.asarray(trace.y) - trace.error_y.arrayminus, popup[f"{value}_low"])
    assert trace.error_y.visible is True
    assert fig.layout.yaxis.tickformat == ".0%"
    assert "95% Wilson" in subtitle(fig)


def test_funnel_figure_style_arguments_change_only_appearance():
    table = funnel_table()
    before = table.copy()
    fig = funnel_figure(table, PARAMS, title="Mine", height=300, width=500)
    pd.testing.assert_frame_equal(table, before)
    assert (fig.layout.title.text, fig.layout.height, fig.layout.width) == ("Mine", 300, 500)
    assert fig.layout.template.layout.colorway  # the shared template is applied
    import plotly.io as pio

    assert TEMPLATE in pio.templates


def test_funnel_figure_single_group_hides_the_legend():
    table = funnel_table()
    table = table[table["group"] == "popup"].assign(group="All")
    fig = funnel_figure(table, {**PARAMS, "by": None})
    assert len(fig.data) == 1
    assert fig.layout.showlegend is False


def test_funnel_figure_rejects_unknown_value_and_missing_columns():
    with pytest.raises(InvalidParameterError, match="value"):
        funnel_figure(funnel_table(), PARAMS, value="dropped_rate")
    with pytest.raises(InvalidParameterError, match="missing columns"):
        funnel_figure(funnel_table().drop(columns="entered"), PARAMS)


def test_funnel_figure_from_a_real_result():
    import chatanalytics as ca

    f = ca.funnel(
        ca.load_sample(),
        steps=["triggered", "engaged", ["email_input", "phone_input"], "completed"],
        by="conversation_name",
        top=4,
    )
    fig = funnel_figure(f.frame(), f.params, value="overall_rate")
    assert len(fig.data) == f.frame()["group"].nunique() == 5
    assert list(fig.data[0].x) == f.params["steps"]


# ------------------------------------------------------------------------------------------------
# over_time_figure
# ------------------------------------------------------------------------------------------------


def test_over_time_figure_draws_immature_periods_differently():
    table = over_time_table()
    fig = over_time_figure(table, PARAMS)
    lines = [t for t in fig.data if t.mode == "lines+markers" and not t.name.endswith("(immature)")]
    immature = [t for t in fig.data if t.name.endswith("(immature)")]
    bands = [t for t in fig.data if t.fill == "toself"]
    assert [t.name for t in lines] == ["popup", "chatbot"]
    assert len(bands) == 2 and len(immature) == 2
    popup_line = lines[0]
    y = np.asarray(popup_line.y, dtype=float)
    assert np.isnan(y[-1]) and not np.isnan(y[:-1]).any()  # the immature day is not on the solid line
    dotted = immature[0]
    assert dotted.line.dash == "dot"
    assert dotted.marker.symbol == "circle-open"
    # the dotted segment joins the last mature day (marker hidden) to the immature day
    assert list(pd.to_datetime(dotted.x)) == list(pd.to_datetime(["2026-10-07", "2026-10-08"]))
    assert list(dotted.marker.size) == [0, 8]
    assert "immature" in subtitle(fig) or "window had not ended" in subtitle(fig)


def test_over_time_figure_uses_the_last_step_by_default_and_the_table_values():
    table = over_time_table()
    fig = over_time_figure(table, PARAMS)
    last = table[(table["group"] == "popup") & (table["step"] == 3) & ~table["immature"]]
    line = next(t for t in fig.data if t.name == "popup")
    np.testing.assert_allclose(np.asarray(line.y, dtype=float)[:-1], last["overall_rate"])
    band = fig.data[0]
    assert band.name == "popup 95% CI"
    assert "email_input | phone_input" in fig.layout.title.text
    fig2 = over_time_figure(table, PARAMS, step=2)
    assert "engaged" in fig2.layout.title.text.lower()
    with pytest.raises(InvalidParameterError):
        over_time_figure(table, PARAMS, step=7)


def test_over_time_figure_caption_and_period_word():
    fig = over_time_figure(over_time_table(), PARAMS)
    text = subtitle(fig)
    assert "conversation session" in text and "entry time, UTC" in text
    assert "Day of entry" in fig.layout.xaxis.title.text
    weekly = over_time_table()
    weekly["period"] = weekly["period"].map(
        {d: d + pd.Timedelta(days=6 * i) for i, d in enumerate(sorted(weekly["period"].unique()))}
    )
    assert "Week" in over_time_figure(weekly, PARAMS).layout.xaxis.title.text


# ------------------------------------------------------------------------------------------------
# time_figure
# ------------------------------------------------------------------------------------------------


def test_time_figure_step_curves():
    curves = curves_table()
    fig = time_figure(curves, PARAMS)
    assert len(fig.data) == 4  # 2 groups x 2 steps
    assert all(t.type == "scatter" and t.line.shape == "hv" for t in fig.data)
    assert [(t.legendgroup, t.name) for t in fig.data] == [
        ("popup", "popup: engaged"),
        ("popup", "popup: email_input | phone_input"),
        ("chatbot", "chatbot: engaged"),
        ("chatbot", "chatbot: email_input | phone_input"),
    ]
    assert fig.layout.legend.orientation == "h"  # under the plot, where its rows add to the height
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert fig.data[0].line.dash != fig.data[1].line.dash
    np.testing.assert_allclose(fig.data[0].x, [2, 8, 30, 95, 600])
    np.testing.assert_allclose(fig.data[0].y, [0.05, 0.1, 0.15, 0.2, 0.25])
    assert fig.layout.yaxis.tickformat == ".0%"
    assert "Kaplan-Meier" in subtitle(fig) and "window 30min" in subtitle(fig)


def test_time_figure_readable_ticks():
    fig = time_figure(curves_table(), PARAMS)
    assert list(fig.layout.xaxis.ticktext) == ["0s", "2min", "4min", "6min", "8min", "10min"]
    log = time_figure(curves_table(), PARAMS, log_x=True)
    assert log.layout.xaxis.type == "log"
    assert "1min" in log.layout.xaxis.ticktext and "10min" in log.layout.xaxis.ticktext


def test_time_figure_single_group_colours_steps():
    curves = curves_table()
    fig = time_figure(curves[curves["group"] == "popup"], {**PARAMS, "by": None})
    assert [t.name for t in fig.data] == ["engaged", "email_input | phone_input"]
    assert fig.data[0].line.color != fig.data[1].line.color


def test_import_chatanalytics_does_not_import_plotly():
    import subprocess

    code = (
        "import sys, chatanalytics, chatanalytics.widgets; "
        "assert 'plotly' not in sys.modules and 'ipywidgets' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_figures_raise_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        funnel_figure(funnel_table(), PARAMS, value="overall_rate")
        over_time_figure(over_time_table(), PARAMS)
        time_figure(curves_table(), PARAMS, log_x=True)


def _luminance(hex_color: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    channels = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_hover_labels_have_aa_contrast():
    fig = funnel_figure(funnel_table(), PARAMS)
    hover = fig.layout.template.layout.hoverlabel
    colors = {"white": "#FFFFFF"}
    background = colors.get(hover.bgcolor, hover.bgcolor)
    assert hover.font.color is not None
    light, dark = sorted([_luminance(background), _luminance(hover.font.color)], reverse=True)
    ratio = (light + 0.05) / (dark + 0.05)
    # INK #2B2B2B on white: luminance 0.0242 against 1, (1.05) / (0.0742) = 14.1
    assert ratio >= 4.5 and ratio == pytest.approx(14.1, abs=0.1)


def test_the_caption_names_the_time_zone_the_figure_uses():
    ny = "America/New_York"
    assert "time basis: entry time, UTC" in caption(PARAMS)
    assert "time basis: entry time, America/New_York" in caption(PARAMS, tz=ny)
    fig = funnel_figure(funnel_table(), PARAMS, tz=ny)
    assert "entry time, America/New_York" in subtitle(fig) and "UTC" not in subtitle(fig)
    # a range starting on a New York midnight is written as that date in New York
    start = {"start": pd.Timestamp("2026-10-01 04:00", tz="UTC")}
    assert "entries in [2026-10-01, …) America/New_York" in caption({**PARAMS, **start}, tz=ny)
