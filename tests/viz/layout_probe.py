"""Draw a figure with plotly.js in a Chromium page and measure where its text lands.

One page holds plotly.js (the copy bundled with the plotly package, inlined: no network); each figure is
drawn into the same ``<div>`` at a given size, and the bounding boxes of its text are read back:
the title and subtitle, annotations, axis titles, the legend, colour bars, tick labels and the text on
bars and points. :func:`problems` lists what overlaps, what leaves the SVG, and a plot area squeezed under
40% of the figure's height.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: The sizes a figure is measured at: a notebook's output area, the report's column, and a widget's
#: FigureWidget, drawn at plotly's default width.
NOTEBOOK = {"width": 860, "height": 450}
REPORT = {"width": 1064, "height": 480}
WIDGET = {"width": 700, "height": 450}

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><script>{js}</script></head>
<body style="margin:0"><div id="g"></div></body></html>"""

MEASURE = r"""
async (spec) => {
  const gd = document.getElementById('g');
  Plotly.purge(gd);
  const layout = Object.assign({}, spec.fig.layout || {}, {width: spec.width, height: spec.height});
  await Plotly.newPlot(gd, spec.fig.data || [], layout, {displayModeBar: false});
  const svg = gd.querySelector('.main-svg');
  const sb = svg.getBoundingClientRect();
  const items = [];
  const add = (kind, el, group) => {
    const r = el.getBoundingClientRect();
    if (r.width < 0.5 || r.height < 0.5) return;
    for (let e = el; e && e !== gd; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return;
    }
    if (!el.textContent.trim() && kind !== 'legend' && kind !== 'colorbar') return;
    items.push({kind, group: group || kind, text: el.textContent.slice(0, 70),
                x0: r.left - sb.left, y0: r.top - sb.top, x1: r.right - sb.left, y1: r.bottom - sb.top});
  };
  gd.querySelectorAll('.g-gtitle .gtitle').forEach(e => add('title', e));
  gd.querySelectorAll('.gtitle-subtitle').forEach(e => add('subtitle', e));
  gd.querySelectorAll('.infolayer .annotation').forEach((e, i) => add('annotation', e, 'annotation' + i));
  gd.querySelectorAll('.infolayer g[class$="title"] > text').forEach(e => {
    const c = e.parentElement.getAttribute('class');
    if (/^g-[xy]\d*title$/.test(c)) add('axis title', e, c);
  });
  gd.querySelectorAll('.infolayer .legend').forEach(e => add('legend', e.querySelector('.bg') || e));
  gd.querySelectorAll('.infolayer .colorbar').forEach((e, i) => add('colorbar', e, 'colorbar' + i));
  gd.querySelectorAll('g.xtick > text, g.ytick > text').forEach(e => {
    const layer = e.closest('[class*="axislayer"]');
    const sub = e.closest('.subplot');
    const axis = (sub ? sub.getAttribute('class') : '') + ' ' + (layer ? layer.getAttribute('class') : '');
    add('tick', e, 'tick ' + axis);
  });
  gd.querySelectorAll('.bartext').forEach((e, i) => add('bar text', e, 'bar text ' + i));
  gd.querySelectorAll('.textpoint text').forEach((e, i) => add('point text', e, 'point text ' + i));
  const drags = [...gd.querySelectorAll('.nsewdrag')].map(e => {
    const r = e.getBoundingClientRect();
    return [r.top - sb.top, r.bottom - sb.top];
  });
  let barTexts = 0;
  (gd._fullData || []).forEach(t => {
    if (t.type === 'bar' && t.visible !== false && t.textposition !== 'none' && Array.isArray(t.text)) {
      barTexts += t.text.filter(s => s !== '' && s != null).length;
    }
  });
  return {width: sb.width, height: sb.height, items, drags, barTexts};
}
"""


def page_html() -> str:
    """The page: plotly.js inlined, one empty ``<div>``."""
    from plotly.offline import get_plotlyjs

    return PAGE.format(js=get_plotlyjs())


def measure(page: Any, fig: Any, size: dict[str, int]) -> dict[str, Any]:
    """Draw ``fig`` at ``size`` (its own height when it sets one) and read back its text boxes."""
    spec = json.loads(fig.to_json())
    height = spec.get("layout", {}).get("height") or size["height"]
    width = spec.get("layout", {}).get("width") or size["width"]
    return page.evaluate(MEASURE, {"fig": spec, "width": width, "height": height})


def _overlap(a: dict[str, float], b: dict[str, float], tol: float) -> bool:
    return (
        min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > tol
        and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > tol
    )


def _covered(intervals: list[list[float]]) -> float:
    total, end = 0.0, float("-inf")
    for lo, hi in sorted(intervals):
        if hi > end:
            total += hi - max(lo, end)
            end = hi
    return total


def _axis_of(group: str, letter: str) -> str:
    """The ``x``/``y`` axis id of a tick label from its group, e.g. ``"x2"`` in ``"subplot x2y2 ..."``."""
    found = re.search(r"subplot (x\d*)(y\d*) (\w)axislayer", group)
    if not found or found.group(3) != letter:
        return ""
    return found.group(1) if letter == "x" else found.group(2)


def _titles_clear_of_ticks(items: list[dict[str, Any]], tol: float) -> list[str]:
    """An x-axis title lies below all its tick labels, a y-axis title left of them all.

    Boxes alone miss a title drawn between upright tick labels: it touches none of them, yet reads as
    one of them.
    """
    out = []
    for t in items:
        found = re.fullmatch(r"g-([xy])(\d*)title", t["group"])
        if t["kind"] != "axis title" or not found:
            continue
        letter, n = found.groups()
        ticks = [it for it in items if it["kind"] == "tick" and _axis_of(it["group"], letter) == letter + n]
        if not ticks:
            continue
        if letter == "x" and t["y0"] < max(it["y1"] for it in ticks) - tol:
            out.append(f"x-axis title {t['text']!r} runs into its tick labels")
        if letter == "y" and t["x1"] > min(it["x0"] for it in ticks) + tol:
            out.append(f"y-axis title {t['text']!r} runs into its tick labels")
    return out


def problems(m: dict[str, Any], *, tol: float = 1.0, plot_share: float = 0.4) -> list[str]:
    """What is wrong with a measured figure, in words (empty when nothing is).

    Two text boxes intersect (by more than ``tol`` px each way); a box leaves the SVG; the plot area
    covers less than ``plot_share`` of the height; a bar's label was hidden.
    """
    out = []
    items = m["items"]
    w, h = m["width"], m["height"]
    for it in items:
        if it["x0"] < -tol or it["y0"] < -tol or it["x1"] > w + tol or it["y1"] > h + tol:
            box = [round(it[k]) for k in ("x0", "y0", "x1", "y1")]
            out.append(f"{it['kind']} {it['text']!r} leaves the {w:.0f}x{h:.0f} figure: {box}")
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if a["group"] == b["group"] and a["kind"] in ("legend", "colorbar"):
                continue
            if _overlap(a, b, tol):
                out.append(f"{a['kind']} {a['text']!r} overlaps {b['kind']} {b['text']!r}")
    out += _titles_clear_of_ticks(items, tol)
    plot = _covered(m["drags"])
    if m["drags"] and plot < plot_share * h:
        out.append(f"plot area {plot:.0f}px of {h:.0f}px ({plot / h:.0%})")
    shown = sum(1 for it in items if it["kind"] == "bar text")
    if shown < m["barTexts"]:
        out.append(f"{m['barTexts'] - shown} of {m['barTexts']} bar labels hidden")
    return out
