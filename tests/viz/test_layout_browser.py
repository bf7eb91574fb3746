"""Layout, measured: every figure kind drawn by plotly.js in Chromium, its text boxes read back.

Each figure kind of each analysis (with its main styles) is drawn at a notebook's output size and at the
report's, and as a widget draws it (:func:`~chatanalytics.widgets._base.widget_layout`) at plotly's
700 px default, on 1, 3, 8 and 12 groups and on 60-character names. The bounding boxes of the title, subtitle,
annotations, axis titles, legend, colour bars, tick labels and bar and point text must not intersect,
must stay inside the SVG, and the plot area must keep at least 40% of the height; no bar label may be
hidden. One page holds plotly.js; each figure is drawn into it in turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from figure_cases import STYLES, Case, cases, changes_cases
from layout_probe import NOTEBOOK, REPORT, WIDGET, measure, page_html, problems

import chatanalytics as ca
from chatanalytics.datasets import simulate
from chatanalytics.widgets._base import widget_layout


@pytest.fixture(scope="module")
def page(playwright_browser: Any) -> Iterator[Any]:
    p = playwright_browser.new_page(viewport={"width": 1200, "height": 900})
    p.set_content(page_html())
    p.wait_for_function("typeof Plotly === 'object'")
    yield p
    p.close()


def _check(page: Any, figure_cases: list[Case]) -> tuple[int, list[str]]:
    import plotly.graph_objects as go

    found: list[str] = []
    drawn = 0
    for case in figure_cases:
        fig = case.build()
        # a widget's FigureWidget has no width: plotly draws it at 700 px, its caption inside the title
        in_widget = go.Figure(data=fig.data, layout=widget_layout(fig.layout.to_plotly_json()))
        for name, shown, size in (
            ("notebook", fig, NOTEBOOK),
            ("report", fig, REPORT),
            ("widget", in_widget, WIDGET),
        ):
            m = measure(page, shown, size)
            drawn += 1
            found += [f"{case.id} at {name} size: {p}" for p in problems(m)]
    return drawn, found


def test_the_probe_sees_overlaps_clipping_a_squeezed_plot_and_hidden_labels(page):
    """The checks fail on figures built to break them, so a clean run means something."""
    import plotly.graph_objects as go

    crowded = go.Figure(go.Bar(x=["a", "b"], y=[1, 2], text=["x" * 40, "y" * 40], textposition="outside"))
    crowded.update_layout(
        title={"text": "A title", "subtitle": {"text": "a subtitle"}},
        annotations=[{"text": "a note far outside", "x": 1.6, "y": 0.5, "xref": "paper", "yref": "paper"}],
        xaxis={"title": {"text": "the x axis"}, "tickvals": [0, 0.02], "ticktext": ["forty", "forty-five"]},
        uniformtext={"minsize": 30, "mode": "hide"},
        margin={"t": 300},
    )
    found = problems(measure(page, crowded, NOTEBOOK))
    assert any("leaves the" in p for p in found)
    assert any("overlaps tick" in p and "tick" in p.split("overlaps")[0] for p in found)
    assert any(p.startswith("plot area") for p in found)
    assert any("bar labels hidden" in p for p in found)


def test_every_figure_kind_of_the_sample_at_notebook_and_report_size(page):
    sample = ca.load_sample()
    every = list(cases(sample))
    drawn, found = _check(page, every)
    styles = sum(len(v) for name, kinds in STYLES.items() if name != "changes" for v in kinds.values())
    assert styles == 20
    # 1, 3, 8 and 12 groups and long names, every style (but a breakdown's slice without groups), three ways
    assert drawn == (5 * styles - 1) * 3
    assert found == []


def test_the_digest_figures_with_8_and_12_groups(page):
    events = simulate(3000, seed=3, days=21)
    drawn, found = _check(page, list(changes_cases(events)))
    assert drawn == 2 * 3 * 3
    assert found == []
