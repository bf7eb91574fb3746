"""Hover text has WCAG AA contrast: a ratio of at least 4.5 between its colour and its background.

The ratio is computed with the WCAG 2 formula from the colours every figure's hover label resolves to:
a trace's own ``hoverlabel`` first, then the layout's, then the theme's. plotly's own default, without a
font colour, writes on the trace's colour and can fall below the mark; the theme must set both.
"""

from __future__ import annotations

from typing import Any

import pytest
from figure_cases import cases

import chatanalytics as ca
from chatanalytics.viz import template
from chatanalytics.viz._theme import COLORS


def luminance(color: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB`` or ``white``."""
    named = {"white": "#FFFFFF", "black": "#000000"}
    h = named.get(color.lower(), color).lstrip("#")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_formula_on_known_pairs():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    # #767676 on white is the classic lightest grey that passes AA (4.54)
    assert contrast("#767676", "white") == pytest.approx(4.54, abs=0.01)
    # the light grey once used as hover text fails it
    assert contrast("#BDBDBD", "white") < 4.5


def test_the_theme_sets_hover_text_and_background_with_aa_contrast():
    hover = template().layout.hoverlabel
    assert hover.font.color and hover.bgcolor
    assert contrast(hover.font.color, hover.bgcolor) >= 4.5


def _resolved(fig: Any) -> list[tuple[str, str, str]]:
    """(trace name, font colour, background) of every hover label the figure can show."""
    theme = template().layout.hoverlabel
    layout = fig.layout.hoverlabel
    out = []
    for trace in fig.data:
        if trace.hoverinfo == "skip":
            continue
        own = trace.hoverlabel
        font = (own.font.color if own and own.font else None) or layout.font.color or theme.font.color
        bg = (own.bgcolor if own else None) or layout.bgcolor or theme.bgcolor
        out.append((str(trace.name), font, bg))
    return out


def test_every_figure_kind_keeps_the_contrast():
    checked = 0
    for case in cases(ca.load_sample(), group_counts=(8,)):
        for name, font, bg in _resolved(case.build()):
            assert isinstance(font, str) and isinstance(bg, str), (case.id, name)
            assert contrast(font, bg) >= 4.5, (case.id, name, font, bg)
            checked += 1
    assert checked > 50


def test_the_palette_on_white_is_not_what_hover_text_uses():
    """Most palette colours fail AA as text on white: hover text must not take a trace's colour."""
    assert any(contrast(c, "white") < 4.5 for c in COLORS)
