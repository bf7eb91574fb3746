"""Change figures: pure functions from the tables of a change digest to plotly Figures.

Nothing here computes a metric or a test: every value, interval, p-value and contribution drawn is read
from the ``metrics`` and ``drivers`` tables given (their columns are documented with
:func:`chatanalytics.changes`). These functions pick rows, convert rates to percentage points for
display and format them. The titles state the finding in plain words; the one subtitle line says which
period is compared with which, and in which time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InvalidParameterError
from ._definitions import CHANGES_DRIVERS, CHANGES_METRICS
from ._format import escape, wrap
from ._layout import empty_note, finish
from ._tables import check_columns
from ._theme import COLORS, GRID, INK, MUTED

__all__ = ["changes_overview_figure", "changes_waterfall_figure"]

# the metrics table's columns the figures read (the counts behind each rate, the test's name and its
# statistic are for the tables only)
_TABLE_ONLY = ("definition", "numerator_", "denominator_", "relative_change_", "test", "statistic")
_METRIC_COLUMNS = [c for c in CHANGES_METRICS if not c.startswith(_TABLE_ONLY)]
_DRIVER_COLUMNS = list(CHANGES_DRIVERS)
# the panels of the overview: kind -> (x-axis title, unit word)
_PANELS = {
    "rate": "Change in the rate, percentage points (after − before)",
    "count": "Change in the count, % of the baseline",
    "median": "Change in the median, seconds (after − before)",
}
_SIGNIFICANT = COLORS[0]
_RATE_PART = COLORS[0]
_MIX_PART = COLORS[1]
_ENDS = COLORS[9]
_MINUS = "\u2212"
_OTHER = "other groups"
# tick labels and title names longer than this are cut, with the full name on hover
_NAME_CHARS = 34
_TITLE_NAME_CHARS = 28
_ROW_PX = 26


# --------------------------------------------------------------------------------------------------
# Words and numbers
# --------------------------------------------------------------------------------------------------


def _minus(text: str) -> str:
    return text.replace("-", _MINUS)


def _pct(x: float, other: float = 1.0) -> str:
    """A rate as a percentage: whole percent from 10% up, one decimal below (as the headlines)."""
    if not np.isfinite(x):
        return "–"
    return f"{x:.1%}" if min(abs(x), abs(other)) < 0.1 else f"{x:.0%}"


def _pts(x: float) -> str:
    """A change of a rate (a fraction) in signed percentage points."""
    if not np.isfinite(x):
        return "–"
    p = x * 100
    if p == 0:
        return "0.0 pts"
    if abs(p) < 0.005:
        return "≈0 pts"
    digits = 2 if abs(p) < 0.05 else 1
    return _minus(f"{p:+.{digits}f} pts")


def _signed(x: float, unit: str = "", digits: int = 0) -> str:
    if not np.isfinite(x):
        return "–"
    if x == 0:
        return f"{x:,.{digits}f}{unit}"
    return _minus(f"{x:+,.{digits}f}{unit}")


def _short(name: str, n: int) -> str:
    return name if len(name) <= n else name[: n - 1].rstrip() + "…"


def _verb(change: float) -> str:
    return "rose" if change > 0 else "fell" if change < 0 else "did not change"


def _noise(row: Mapping[str, Any]) -> str:
    return "significant" if bool(row["significant"]) else "within noise"


def finding(row: Mapping[str, Any]) -> str:
    """One metric's change in plain words, as a figure title says it.

    Parameters
    ----------
    row : mapping
        A row of the ``metrics`` table.

    Returns
    -------
    str

    Examples
    --------
    >>> finding({"label": "Engagement", "kind": "rate", "before": 0.36, "after": 0.309,
    ...          "change": -0.051, "significant": True, "comparable": True})
    'Engagement fell from 36% to 31% (−5.1 pts, significant)'
    """
    label = str(row["label"])
    if not bool(row["comparable"]):
        return f"{label}: not compared"
    b, a, ch = float(row["before"]), float(row["after"]), float(row["change"])
    if ch == 0:
        shown = {"count": f"{b:,.0f} to {a:,.0f}", "median": f"{b:.0f} s to {a:.0f} s"}
        values = shown.get(str(row["kind"]), f"{_pct(b, a)} to {_pct(a, b)}")
        return f"{label} did not change ({values}, {_noise(row)})"
    if row["kind"] == "count":
        rel = float(row["relative_change"])
        size = f"{abs(rel):.0%}" if abs(rel) >= 0.1 else f"{abs(rel):.1%}"
        return f"{label} {_verb(ch)} {size} ({b:,.0f} to {a:,.0f}, {_noise(row)})"
    if row["kind"] == "median":
        return f"{label} {_verb(ch)} from {b:.0f} s to {a:.0f} s ({_signed(ch, ' s')}, {_noise(row)})"
    return f"{label} {_verb(ch)} from {_pct(b, a)} to {_pct(a, b)} ({_pts(ch)}, {_noise(row)})"


def _by_list(params: Mapping[str, Any]) -> list[str]:
    by = params.get("by") or []
    if isinstance(by, str):
        return [b.strip() for b in by.split(",") if b.strip()]
    return [str(b) for b in by]


def _first_day(label: str) -> str:
    return label.split(";")[0].split(" to ")[0].strip()


def compared_clause(params: Mapping[str, Any]) -> str:
    """The subtitle: the compared period against its baseline, and the time zone, on one line.

    Parameters
    ----------
    params : mapping
        ``current`` and ``baseline_label`` (the result's labels of the two periods), ``period``,
        ``baseline`` (how many periods the baseline pools) and ``tz``.

    Returns
    -------
    str

    Examples
    --------
    >>> compared_clause({"current": "week of 2026-10-19", "baseline_label": "week of 2026-10-12",
    ...                  "period": "week", "baseline": 1, "tz": "America/New_York"})
    'week of 2026-10-19 vs the week before (week of 2026-10-12); times in America/New_York'
    >>> compared_clause({"current": "2026-10-25", "baseline_label": "mean of 7 days before",
    ...                  "period": "day", "baseline": 7, "tz": "UTC"})
    '2026-10-25 vs the mean of 7 days before; times in UTC'
    """
    current = str(params.get("current", "")) or "the compared period"
    base = str(params.get("baseline_label", "")) or "the baseline"
    if int(params.get("baseline", 1)) == 1:
        base = f"the {params.get('period', 'period')} before ({base})"
    elif base.startswith("mean of"):
        base = "the " + base
    return f"{current} vs {base}; times in {params.get('tz', 'UTC')}"


# --------------------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------------------


def _value_text(kind: str, x: float) -> str:
    if kind == "rate":
        return _pct(x)
    if kind == "median":
        return "–" if not np.isfinite(x) else f"{x:.0f} s"
    return "–" if not np.isfinite(x) else f"{x:,.0f}"


def _interval_text(kind: str, low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no interval"
    if kind == "rate":
        return f"95% CI {_pct(low, 0)}–{_pct(high, 0)}"
    if kind == "median":
        return f"95% CI {low:.0f}–{high:.0f} s"
    return f"95% CI {low:,.0f}–{high:,.0f}"


def _shown_change(row: pd.Series) -> tuple[float, float, float, str]:
    """The change as drawn in its panel (points, %, seconds), its bounds and its printed text."""
    kind = row["kind"]
    if kind == "rate":
        return (
            row["change"] * 100,
            row["change_low"] * 100,
            row["change_high"] * 100,
            _pts(row["change"]),
        )
    if kind == "count":
        rel = row["relative_change"]
        low = row.get("relative_change_low", np.nan)
        high = row.get("relative_change_high", np.nan)
        return rel * 100, low * 100, high * 100, _signed(rel * 100, "%", 1)
    return row["change"], row["change_low"], row["change_high"], _signed(row["change"], " s", 1)


def _overview_hover(row: pd.Series) -> str:
    kind = row["kind"]
    _, _, _, text = _shown_change(row)
    if kind == "rate":
        low, high = row["change_low"], row["change_high"]
        interval = f"95% CI {_pts(low)} to {_pts(high)}" if np.isfinite(low) and np.isfinite(high) else ""
    elif kind == "count":
        lo, hi = row.get("relative_change_low", np.nan), row.get("relative_change_high", np.nan)
        interval = (
            f"95% CI {_signed(lo * 100, '%', 1)} to {_signed(hi * 100, '%', 1)}"
            if np.isfinite(lo) and np.isfinite(hi)
            else ""
        )
    else:
        interval = "no interval for a difference of medians: see each median's interval"
    lines = [
        f"<b>{escape(row['label'])}</b>",
        f"before: {_value_text(kind, row['before'])} "
        f"({_interval_text(kind, row['before_low'], row['before_high'])})",
        f"after: {_value_text(kind, row['after'])} "
        f"({_interval_text(kind, row['after_low'], row['after_high'])})",
        f"change: {text}" + (f" ({interval})" if interval else ""),
        f"p = {row['p_value']:.2g}; Holm-adjusted p = {row['p_adjusted']:.2g}: {_noise(row)}",
    ]
    if "test" in row.index and row["test"]:
        lines.append(escape(wrap(f"test: {row['test']}", 80)))
    if "definition" in row.index and row["definition"]:
        lines.append(escape(wrap(f"definition: {row['definition']}", 80)))
    if row["basis"]:
        lines.append(f"share of {escape(row['basis'])}")
    return "<br>".join(lines)


def _tick(row: pd.Series) -> str:
    kind = row["kind"]
    values = f"{_value_text(kind, row['before'])} → {_value_text(kind, row['after'])}"
    return f"{escape(row['label'])}<br><span style='font-size:11px;color:{MUTED}'>{values}</span>"


def _axis_range(low: np.ndarray, high: np.ndarray, x: np.ndarray) -> list[float]:
    values = np.concatenate([[0.0], x, low, high])
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return [lo - 0.18 * span, hi + 0.18 * span]


def _overview_title(m: pd.DataFrame) -> str:
    shown = m[m["comparable"].astype(bool)]
    if len(shown) == 0:
        return "Nothing compared: the compared period is not complete"
    sig = shown[shown["significant"].astype(bool)].sort_values("p_adjusted", kind="stable")
    if len(sig) == 0:
        return f"No metric moved beyond noise ({len(shown)} compared)"
    title = finding(sig.iloc[0])
    if len(sig) > 1:
        more = [f"{r['label']} ({_shown_change(r)[3]})" for _, r in sig.iloc[1:4].iterrows()]
        extra = f" and {len(sig) - 4} more" if len(sig) > 4 else ""
        title += "<br>Also significant: " + ", ".join(more) + extra
    return title


def changes_overview_figure(
    metrics: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """Every compared metric's change with its 95% interval, the significant ones marked.

    Rates are drawn in percentage points, the count in % of the baseline, the median wait in seconds,
    each kind in its own panel. A filled marker is significant after Holm's adjustment across the
    metrics; an open marker is within noise. Each row's label carries the values before and after,
    the marker the change (printed); the hover gives the intervals, the test and the definition.
    Metrics that were not compared are listed under the plot with their reason.

    Parameters
    ----------
    metrics : pandas.DataFrame
        The digest's ``metrics`` table (one row per metric).
    params : mapping
        The digest's parameters: ``period``, ``tz``, ``baseline``, ``current``, ``baseline_label``
        make the subtitle; ``alpha`` (default 0.05) is named in the legend.
    title : str, optional
        Replaces the finding.
    height, width : int, optional
        Figure size in pixels; by default the height grows with the number of metrics.

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace per panel and significance (``"significant"`` / ``"within noise"``).

    Raises
    ------
    InvalidParameterError
        When ``metrics`` lacks a column.

    Examples
    --------
    >>> import pandas as pd
    >>> row = {"metric": "engagement_rate", "label": "Engagement", "kind": "rate",
    ...        "basis": "triggered conversations", "before": 0.36, "before_low": 0.34,
    ...        "before_high": 0.38, "after": 0.309, "after_low": 0.29, "after_high": 0.33,
    ...        "change": -0.051, "change_low": -0.079, "change_high": -0.023,
    ...        "relative_change": -0.14, "p_value": 0.0001, "p_adjusted": 0.0009,
    ...        "significant": True, "comparable": True, "reason": ""}
    >>> params = {"period": "week", "tz": "UTC", "baseline": 1, "current": "2026-10-19 to 2026-10-25",
    ...           "baseline_label": "2026-10-12 to 2026-10-18"}
    >>> fig = changes_overview_figure(pd.DataFrame([row]), params)
    >>> fig.layout.title.text
    'Engagement fell from 36% to 31% (−5.1 pts, significant)'
    >>> fig.data[0].text
    ('<b>−5.1 pts</b>',)
    """
    check_columns(metrics, _METRIC_COLUMNS, "metrics")
    m = metrics.reset_index(drop=True)
    comparable = m["comparable"].astype(bool)
    shown = m[comparable]
    skipped = m[~comparable]
    kinds = [k for k in _PANELS if (shown["kind"] == k).any()]
    alpha = float(params.get("alpha", 0.05))
    n_rows = [int((shown["kind"] == k).sum()) for k in kinds]

    if kinds:
        fig = make_subplots(
            rows=len(kinds),
            cols=1,
            row_heights=[n + 0.9 for n in n_rows],
            vertical_spacing=min(0.5 / max(len(kinds), 1), 90 / (60 * sum(n_rows) + 120 * len(kinds))),
        )
    else:
        fig = go.Figure()
    legend_done = {True: False, False: False}
    for i, kind in enumerate(kinds, start=1):
        rows = shown[shown["kind"] == kind]
        x_all = []
        lo_all = []
        hi_all = []
        for sig in (True, False):
            part = rows[rows["significant"].astype(bool) == sig]
            if len(part) == 0:
                continue
            drawn = [_shown_change(r) for _, r in part.iterrows()]
            x = np.array([d[0] for d in drawn], dtype=float)
            low = np.array([d[1] for d in drawn], dtype=float)
            high = np.array([d[2] for d in drawn], dtype=float)
            x_all.append(x)
            lo_all.append(low)
            hi_all.append(high)
            text = [f"<b>{d[3]}</b>" if sig else d[3] for d in drawn]
            color = _SIGNIFICANT if sig else MUTED
            name = f"significant (Holm-adjusted p < {alpha:g})" if sig else "within noise"
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[_tick(r) for _, r in part.iterrows()],
                    mode="markers+text",
                    name=name,
                    legendgroup=name,
                    showlegend=not legend_done[sig],
                    text=text,
                    textposition="top center",
                    textfont={"color": INK if sig else MUTED, "size": 12},
                    cliponaxis=False,
                    marker={
                        "size": 11,
                        "symbol": "circle" if sig else "circle-open",
                        "color": color,
                        "line": {"width": 2, "color": color},
                    },
                    error_x={
                        "type": "data",
                        "visible": True,
                        "array": np.nan_to_num(high - x),
                        "arrayminus": np.nan_to_num(x - low),
                        "thickness": 1.6,
                        "width": 4,
                        "color": color,
                    },
                    customdata=[[r["metric"]] for _, r in part.iterrows()],
                    hovertext=[_overview_hover(r) for _, r in part.iterrows()],
                    hovertemplate="%{hovertext}<extra></extra>",
                ),
                row=i,
                col=1,
            )
            legend_done[sig] = True
        order = [_tick(r) for _, r in rows.iterrows()]
        fig.update_yaxes(
            categoryorder="array",
            categoryarray=order[::-1],
            showgrid=False,
            row=i,
            col=1,
        )
        fig.update_xaxes(
            title={"text": _PANELS[kind], "standoff": 6},
            ticksuffix="%" if kind == "count" else "",
            range=_axis_range(np.concatenate(lo_all), np.concatenate(hi_all), np.concatenate(x_all)),
            showgrid=True,
            gridcolor=GRID,
            zeroline=True,
            zerolinecolor=INK,
            zerolinewidth=1.2,
            row=i,
            col=1,
        )

    note = ""
    if len(skipped):
        reasons = list(dict.fromkeys(skipped["reason"].astype(str)))
        if len(shown) == 0 and len(reasons) == 1:
            note = f"None of the {len(m)} metrics compared: {escape(reasons[0])}"
        else:
            by_reason = skipped.groupby("reason", sort=False)["label"].agg(list)
            note = "; ".join(
                f"Not compared ({escape(reason)}): {', '.join(escape(x) for x in labels)}"
                for reason, labels in by_reason.items()
            )
    note_lines = wrap(note, 80) if note else ""
    n_note = note_lines.count("<br>") + 1 if note else 0
    if not kinds:
        fig.update_layout(
            annotations=empty_note(note_lines or "No metric to draw"),
            xaxis={"visible": False},
            yaxis={"visible": False},
        )
    elif note:
        fig.add_annotation(
            text=note_lines,
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            xanchor="left",
            yanchor="top",
            yshift=-48,
            align="left",
            showarrow=False,
            font={"size": 11.5, "color": MUTED},
        )
    n_drawn = sum(n_rows)
    title_text = title if title is not None else _overview_title(m)
    if height is None:
        height = max(320, 150 + 56 * n_drawn + 90 * len(kinds) + 17 * n_note + 22 * title_text.count("<br>"))
    fig.update_layout(showlegend=bool(kinds), hovermode="closest")
    return finish(
        fig,
        title_text,
        compared_clause(params),
        [
            "each row: a metric's change from the baseline to the compared period, with its 95% interval",
            "rates in percentage points, the count in % of the baseline, the median wait in seconds",
            f"filled marker: significant after Holm's adjustment across the metrics (p < {alpha:g}); "
            "open marker: within noise",
        ],
        height=height,
        width=width,
        bottom=100 + 17 * n_note if kinds else 60,
        legend_below=bool(kinds),
        title_from="figure",
    )


# --------------------------------------------------------------------------------------------------
# Waterfall
# --------------------------------------------------------------------------------------------------


def _group_name(group: str, status: str) -> str:
    tag = {"new": " (new)", "vanished": " (vanished)"}.get(status, "")
    return group + tag


def _part_hover(row: Mapping[str, Any], kind: str, part: str) -> str:
    """Hover text of one group's bar: its parts, the total with its interval, and the group's counts."""
    name = escape(row["name"])
    if kind == "count":
        lines = [
            f"<b>{name}</b>",
            f"before {row['units_before']:,.0f}, after {row['units_after']:,.0f}",
            f"change {_signed(row['total'])}" + _total_interval(row, kind),
        ]
    else:
        lines = [
            f"<b>{name}</b>: {part}",
            f"rate part {_pts(row['rate'])}, mix part {_pts(row['mix'])}, "
            f"together {_pts(row['total'])}" + _total_interval(row, kind),
            f"its rate: {_pct(row['rate_before'], 0)} → {_pct(row['rate_after'], 0)}",
            f"its share: {_pct(row['share_before'], 0)} → {_pct(row['share_after'], 0)} "
            f"({row['units_before']:,.0f} → {row['units_after']:,.0f})",
        ]
    status = row["status"]
    if status == "new":
        lines.append("new group: none in the baseline")
    elif status == "vanished":
        lines.append("vanished group: none in the compared period")
    return "<br>".join(lines)


def _total_interval(row: Mapping[str, Any], kind: str) -> str:
    low, high = row["total_low"], row["total_high"]
    if not (np.isfinite(low) and np.isfinite(high)):
        return " (no interval for a sum of groups)" if row["group"] is None else ""
    if kind == "count":
        return f" (95% CI {_signed(low)} to {_signed(high)})"
    return f" (95% CI {_pts(low)} to {_pts(high)})"


def _waterfall_title(row: pd.Series, steps: list[dict[str, Any]]) -> str:
    title = finding(row)
    groups = [s for s in steps if s["group"] is not None]
    if not groups:
        return title
    big = max(groups, key=lambda s: abs(s["value"]))
    if big["value"] == 0:
        return title
    name = _short(big["row"]["name"], _TITLE_NAME_CHARS)
    if row["kind"] == "count":
        return f"{title}<br>Largest part: {escape(name)} ({_signed(big['value'])})"
    what = "own rate" if big["part"] == "rate" else "share of traffic"
    return f"{title}<br>Largest part: {escape(name)}, its {what} ({_pts(big['value'])})"


def changes_waterfall_figure(
    drivers: pd.DataFrame,
    metrics: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    metric: str = "engagement_rate",
    by: str | None = None,
    top: int = 8,
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """How one metric went from its baseline value to its current value, group by group.

    For a rate, each of the ``top`` groups with the largest contribution gets two bars: its **rate**
    part (its own rate changed) and its **mix** part (its share of the traffic changed), Kitagawa's
    decomposition as read from ``drivers``; the other groups are summed. The bars start at the
    baseline value and end at the current one; the parts add up exactly to the change. For the count
    (``triggered``), each group gets one bar, its own change. New and vanished groups are named so and
    hatched. Values are printed on the bars, intervals and counts are on hover.

    Parameters
    ----------
    drivers : pandas.DataFrame
        The digest's ``drivers`` table.
    metrics : pandas.DataFrame
        The digest's ``metrics`` table (the baseline and current values, the finding).
    params : mapping
        The digest's parameters: ``by`` (the breakdowns; the first is the default), and ``period``,
        ``tz``, ``baseline``, ``current``, ``baseline_label`` for the subtitle.
    metric : str, default "engagement_rate"
        A metric with drivers (every rate, and ``triggered``).
    by : str, optional
        The breakdown column; the first of ``params["by"]`` by default.
    top : int, default 8
        Groups drawn one by one, by decreasing ``|total|``; the rest are summed as "other groups".
    title : str, optional
        Replaces the finding.
    height, width : int, optional
        Figure size in pixels; by default the height grows with the number of bars.

    Returns
    -------
    plotly.graph_objects.Figure
        Horizontal bars drawn from a ``base`` (a waterfall): traces ``"before / after"``, then
        ``"rate"`` and ``"mix"`` (or ``"change"`` for the count), and a ``"connector"`` line. Each
        group bar's ``customdata`` starts with the group's name (``None`` for "other groups" and the
        ends), so a click maps back to a row of ``drivers``.

    Raises
    ------
    InvalidParameterError
        For a metric without drivers, a ``by`` not in the table, a ``top`` below 1, or a missing column.

    Examples
    --------
    >>> import pandas as pd
    >>> metrics = pd.DataFrame([{"metric": "triggered", "label": "Triggered conversations",
    ...     "kind": "count", "basis": "", "before": 10.0, "before_low": 4.0, "before_high": 16.0,
    ...     "after": 13.0, "after_low": 6.0, "after_high": 20.0, "change": 3.0, "change_low": -6.0,
    ...     "change_high": 12.0, "relative_change": 0.3, "p_value": 0.5, "p_adjusted": 1.0,
    ...     "significant": False, "comparable": True, "reason": ""}])
    >>> drivers = pd.DataFrame([{"metric": "triggered", "by": "ui_type", "group": g, "rank": i + 1,
    ...     "units_before": b, "units_after": a, "share_before": b / 10, "share_after": a / 13,
    ...     "rate_before": float("nan"), "rate_after": float("nan"), "mix": float("nan"),
    ...     "rate": float("nan"), "total": a - b, "total_low": a - b - 5.0, "total_high": a - b + 5.0,
    ...     "status": "both"} for i, (g, b, a) in enumerate([("popup", 4, 8), ("inline", 6, 5)])])
    >>> fig = changes_waterfall_figure(drivers, metrics, {"by": ["ui_type"]}, metric="triggered")
    >>> [list(t.text) for t in fig.data[:2]]
    [['10', '13'], ['+4', '−1']]
    """
    check_columns(drivers, _DRIVER_COLUMNS, "drivers")
    check_columns(metrics, _METRIC_COLUMNS, "metrics")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise InvalidParameterError("top", top, reason="a whole number of groups, 1 or more")
    with_drivers = list(dict.fromkeys(drivers["metric"].astype(str)))
    if metric not in with_drivers:
        raise InvalidParameterError(
            "metric", metric, with_drivers, reason="no breakdown of this metric into groups"
        )
    mine = drivers[drivers["metric"].astype(str) == metric]
    columns = list(dict.fromkeys(mine["by"].astype(str)))
    if by is None:
        given = [b for b in _by_list(params) if b in columns]
        by = given[0] if given else columns[0]
    if by not in columns:
        raise InvalidParameterError("by", by, columns)
    m_rows = metrics[metrics["metric"].astype(str) == metric]
    if len(m_rows) == 0:
        raise InvalidParameterError("metric", metric, list(metrics["metric"].astype(str)))
    mrow = m_rows.iloc[0]
    kind = str(mrow["kind"])
    scale = 1.0 if kind == "count" else 100.0

    d = mine[mine["by"].astype(str) == by].copy()
    d["_abs"] = -d["total"].abs()
    d = d.sort_values(["_abs", "rank"], kind="stable").reset_index(drop=True)
    d["name"] = [_group_name(str(g), str(s)) for g, s in zip(d["group"], d["status"], strict=True)]
    kept = d.head(int(top))
    rest = d.iloc[int(top) :]

    steps: list[dict[str, Any]] = []
    parts = ("change",) if kind == "count" else ("rate", "mix")
    for _, r in kept.iterrows():
        row = r.to_dict()
        for part in parts:
            value = float(row["total"] if part == "change" else row[part])
            steps.append(
                {
                    "group": str(row["group"]),
                    "name": row["name"],
                    "part": part,
                    "value": value,
                    "row": row,
                    "status": row["status"],
                }
            )
    if len(rest):
        n_rest = len(rest)
        summed: dict[str, Any] = {
            "group": None,
            "name": f"{_OTHER} ({n_rest})",
            "status": "both",
            "units_before": float(rest["units_before"].sum()),
            "units_after": float(rest["units_after"].sum()),
            "mix": float(rest["mix"].sum()),
            "rate": float(rest["rate"].sum()),
            "total": float(rest["total"].sum()),
            "total_low": np.nan,
            "total_high": np.nan,
            "share_before": float(rest["share_before"].sum()),
            "share_after": float(rest["share_after"].sum()),
            "rate_before": np.nan,
            "rate_after": np.nan,
        }
        for part in parts:
            value = float(summed["total"] if part == "change" else summed[part])
            steps.append(
                {
                    "group": None,
                    "name": summed["name"],
                    "part": part,
                    "value": value,
                    "row": summed,
                    "status": "both",
                }
            )

    before, after = float(mrow["before"]), float(mrow["after"])
    current = str(params.get("current", "")) or "compared period"
    base_label = str(params.get("baseline_label", "")) or "baseline"
    n_base = int(params.get("baseline", 1))
    tick_before = "before" + (f" (mean of {n_base})" if n_base > 1 else "")
    ticks = [f"<b>{tick_before}</b>"]
    for s in steps:
        name = escape(_short(s["name"], _NAME_CHARS))
        ticks.append(name if kind == "count" else f"{name} · {s['part']}")
    ticks.append("<b>after</b>")
    y_after = len(steps) + 1

    def value_text(v: float) -> str:
        return f"{v:,.0f}" if kind == "count" else f"{v:.1%}"

    def step_text(v: float) -> str:
        return _signed(v) if kind == "count" else _pts(v)

    end_hover = [
        f"<b>before</b>: {escape(base_label)}<br>{escape(mrow['label'])} {value_text(before)} "
        f"({_interval_text(kind, mrow['before_low'], mrow['before_high'])})",
        f"<b>after</b>: {escape(current)}<br>{escape(mrow['label'])} {value_text(after)} "
        f"({_interval_text(kind, mrow['after_low'], mrow['after_high'])})",
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            name="before / after",
            orientation="h",
            y=[0, y_after],
            x=[before * scale, after * scale],
            base=[0.0, 0.0],
            text=[value_text(before), value_text(after)],
            textposition="outside",
            cliponaxis=False,
            constraintext="none",
            marker={"color": _ENDS},
            width=0.62,
            customdata=[[None, "before"], [None, "after"]],
            hovertext=end_hover,
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    running = before * scale
    ends: list[float] = [running]
    by_part: dict[str, dict[str, list[Any]]] = {
        p: {k: [] for k in ("y", "x", "base", "text", "custom", "hover", "pattern")} for p in parts
    }
    for i, s in enumerate(steps, start=1):
        v = s["value"] * scale
        t = by_part[s["part"]]
        t["y"].append(i)
        t["x"].append(v)
        t["base"].append(running)
        tag = {"new": " new", "vanished": " vanished"}.get(s["status"], "")
        t["text"].append(step_text(s["value"]) + tag)
        t["custom"].append([s["group"], s["part"]])
        t["hover"].append(_part_hover(s["row"], kind, s["part"]))
        t["pattern"].append("/" if s["status"] in ("new", "vanished") else "")
        running += v
        ends.append(running)
    names = {
        "change": "change: the group's own change",
        "rate": "rate: the group's own rate changed",
        "mix": "mix: the group's share of the traffic changed",
    }
    colors = {"change": _RATE_PART, "rate": _RATE_PART, "mix": _MIX_PART}
    for part in parts:
        t = by_part[part]
        fig.add_trace(
            go.Bar(
                name=names[part],
                orientation="h",
                y=t["y"],
                x=t["x"],
                base=t["base"],
                text=t["text"],
                textposition="outside",
                cliponaxis=False,
                constraintext="none",
                marker={"color": colors[part], "pattern": {"shape": t["pattern"], "fgcolor": "white"}},
                width=0.62,
                customdata=t["custom"],
                hovertext=t["hover"],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    # the dotted connectors: from each bar's end to the next bar
    cx: list[float | None] = []
    cy: list[float | None] = []
    for i, end in enumerate(ends):
        cx += [end, end, None]
        cy += [i + 0.31, i + 0.69, None]
    fig.add_trace(
        go.Scatter(
            x=cx,
            y=cy,
            mode="lines",
            line={"color": MUTED, "width": 1, "dash": "dot"},
            name="connector",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    lo, hi = min([*ends, after * scale]), max([*ends, after * scale])
    span = hi - lo if hi > lo else max(abs(hi) * 0.1, 1.0)
    by_word = by.replace("_", " ")
    unit = "" if kind == "count" else " (%)"
    axis_title = f"{mrow['label']}{unit} by {by_word}; the axis does not start at 0"
    fig.update_layout(
        barmode="overlay",
        showlegend=True,
        xaxis={
            "range": [lo - 0.35 * span, hi + 0.35 * span],
            "title": {"text": wrap(escape(axis_title), 55)},
            "showgrid": True,
            "gridcolor": GRID,
            "ticksuffix": "" if kind == "count" else "%",
        },
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(len(ticks))),
            "ticktext": ticks,
            # reversed: the baseline on top, the current value at the bottom
            "range": [len(ticks) - 0.5, -0.5],
            "showgrid": False,
            "ticks": "",
        },
    )
    clauses = [
        "from the baseline value (top) to the compared one (bottom), group by group",
        "for a rate, each group's rate part (its own rate changed) and mix part (its share of the traffic "
        "changed), Kitagawa's decomposition; the parts add up to the change",
        f"the {top} groups with the largest change one by one, the rest summed",
        "new and vanished groups hatched",
    ]
    title_text = title if title is not None else _waterfall_title(mrow, steps)
    if not bool(mrow["comparable"]):
        title_text += f"<br>{escape(_short(str(mrow['reason']), 90))}"
    if height is None:
        height = max(360, 190 + _ROW_PX * len(ticks) + 22 * title_text.count("<br>"))
    # long group names widen the left margin: the title starts at the figure's edge, not the plot's
    return finish(
        fig,
        title_text,
        compared_clause(params),
        clauses,
        height=height,
        width=width,
        legend_below=True,
        title_from="figure",
        bottom=110 + 18 * wrap(axis_title, 55).count("<br>"),
    )
