"""Funnel figures: pure functions from a funnel table (and its ``params``) to a plotly Figure.

Nothing here computes a metric: every number drawn is read from the table given (see the data contracts
of :class:`chatanalytics.FunnelResult`). Style arguments (``value``, ``title``, sizes) only change how the
table is shown. Every figure carries its definition, :func:`caption`, as its subtitle.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..errors import InvalidParameterError
from ._definitions import FRAME_COLUMNS, FUNNEL_CURVES, FUNNEL_OVER_TIME
from ._format import (
    escape,
    period_text,
    range_clause,
    seconds_text,
    short_names,
    shorten,
    whole_percent,
    wrap,
)
from ._layout import LEGEND_BELOW, NARROWEST_PX, error_bars, figure_doc, finish, line
from ._tables import check_columns, group_order
from ._theme import COLORS, group_color, rgba

__all__ = [
    "BAR_LABELS",
    "VALUES",
    "bar_text",
    "caption",
    "funnel_figure",
    "funnel_finding",
    "over_time_figure",
    "time_figure",
]

#: What a funnel bar can show: the count of units that reached the step, or a rate.
VALUES: dict[str, str] = {
    "converted": "Units that reached the step",
    "conversion_rate": "Conversion from the previous step",
    "overall_rate": "Overall conversion (of units entering step 1)",
}
# the unit in the words of the result's headline and the README's glossary: the subtitle's, the
# definition's and the title's
_UNIT_WORDS = {
    "conversation": ("conversation session", "conversation sessions"),
    "session": ("session", "sessions"),
    "visitor": ("visitor", "visitors"),
}
_UNIT_DEFINITIONS = {
    "conversation": "conversation session (one conversation, Dialogue or Flow, in one session)",
    "session": "session (one visit, all its conversations)",
    "visitor": "visitor (all of one browser's sessions)",
}
_ORDER_WORDS = {
    "ordered": "steps in order, other events allowed between",
    "strict": "steps in order, no other chat event between",
    "any": "steps in any order",
}
# the columns this figure draws: the funnel table without the times
_FUNNEL_COLUMNS = [c for c in FRAME_COLUMNS if not c.endswith("_seconds")]
_OVER_TIME_COLUMNS = list(FUNNEL_OVER_TIME)
_CURVE_COLUMNS = list(FUNNEL_CURVES)
_IMMATURE_NOTE = "open markers, dotted: the period's funnel window had not ended when the data end"


# --------------------------------------------------------------------------------------------------
# The definition line
# --------------------------------------------------------------------------------------------------


def _parts(params: Mapping[str, Any], tz: str = "UTC") -> list[str]:
    unit = params.get("unit", "conversation")
    unit_text = _UNIT_DEFINITIONS.get(unit, str(unit))
    order = params.get("order", "ordered")
    first = "the unit's first step event" if order == "any" else "step 1"
    parts = [
        f"unit: {unit_text}",
        f"window {params.get('window', '?')} measured from {first}",
        _ORDER_WORDS.get(order, f"order {order}"),
    ]
    gap = params.get("max_gap")
    if gap is not None:
        shown = ", ".join("no limit" if g is None else str(g) for g in gap) if isinstance(gap, list) else gap
        parts.append(f"max gap between steps {shown}")
    exclude = list(params.get("exclude") or [])
    parts.append(f"progress ends at {', '.join(exclude)}" if exclude else "no exclusions")
    by = params.get("by")
    if by:
        top = params.get("top")
        rest = f" (top {top}, the rest as Other)" if top is not None else ""
        parts.append(f"by {by} at the first step{rest}")
    parts.extend(range_clause({**params, "tz": tz}, "entries"))
    parts.append(f"time basis: entry time, {tz}")
    if any(str(s).endswith("(optional)") for s in params.get("steps") or []):
        parts.append(
            "optional steps may be skipped: conversion from the previous required step; "
            "overall = of units entering step 1"
        )
    else:
        parts.append("conversion from the previous step; overall = of units entering step 1")
    return parts


def caption(params: Mapping[str, Any], tz: str = "UTC") -> str:
    """The definition line of a funnel: what is counted, over what window, in what order, and of what.

    Parameters
    ----------
    params : dict
        ``FunnelResult.params``: ``steps``, ``order``, ``unit``, ``window``, ``max_gap``, ``exclude``,
        ``by``, ``top``, ``start``, ``end``.
    tz : str, default "UTC"
        The time zone the figure uses: named in the time basis, and the date range is written in it when
        it falls on its midnights.

    Returns
    -------
    str
        Clauses separated by ``"; "``: counting unit, window, order mode, exclusions, breakdown
        attribution, date range (when set), time basis and denominator.

    Examples
    --------
    >>> from chatanalytics.viz import caption
    >>> caption({"steps": ["triggered", "engaged"], "order": "ordered", "unit": "session",
    ...          "window": "30min", "exclude": [], "by": None})
    'unit: session (one visit, all its conversations); window 30min measured from step 1; ...'
    """
    return "; ".join(_parts(params, tz))


def _finish(
    fig: go.Figure,
    params: Mapping[str, Any],
    title: str,
    extra: Sequence[str],
    height: int | None,
    width: int | None,
    tz: str = "UTC",
) -> go.Figure:
    """Title, the subtitle line (unit, window, period, time zone) and the definition (then ``extra``)."""
    unit = params.get("unit", "conversation")
    sub = line(
        [
            f"unit: {_UNIT_WORDS.get(unit, (str(unit), str(unit)))[0]}",
            f"window {params.get('window', '?')}",
            period_text(params, tz),
            f"entry time, {tz}",
        ]
    )
    legend_below = bool(fig.layout.showlegend) and fig.layout.legend.orientation == "h"
    return finish(
        fig, title, sub, [*_parts(params, tz), *extra], height=height, width=width, legend_below=legend_below
    )


def _units(params: Mapping[str, Any]) -> str:
    unit = params.get("unit", "conversation")
    return _UNIT_WORDS.get(unit, (str(unit), f"{unit}s"))[1]


def _reached(step_name: str) -> str:
    """A step as a verb: "engaged" for the event ``engaged``, else "reached <step>"."""
    if re.fullmatch(r"[a-z_]+ed", step_name):
        return step_name.replace("_", " ")
    return f"reached {escape(step_name)}"


def funnel_finding(table: pd.DataFrame, params: Mapping[str, Any]) -> str:
    """The title of a funnel figure: the share of units entering step 1 that reached the later steps.

    One group: the second step and the last, e.g. "36% of triggered conversation sessions engaged; 19%
    completed". Several: the range of the last step's overall rate across the groups.

    Parameters
    ----------
    table : pandas.DataFrame
        ``FunnelResult.frame()``.
    params : dict
        ``FunnelResult.params`` (``unit``).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"group": "All", "step": [1, 2, 3], "step_name": ["triggered", "engaged",
    ...     "completed"], "converted": [100, 36, 19], "overall_rate": [1.0, 0.36, 0.19]})
    >>> funnel_finding(t, {"unit": "conversation"})
    '36% of triggered conversation sessions engaged; 19% completed'
    """
    rows = table.sort_values("step", kind="stable")
    names = list(dict.fromkeys(rows["step_name"].astype(str)))
    if not names:
        return "Funnel: no step"
    first = f"{escape(names[0])} {_units(params)}"
    groups = group_order(rows)
    if len(names) == 1:
        return f"{int(rows['converted'].sum()):,} {first}"
    if len(groups) == 1:
        rate = dict(zip(rows["step_name"].astype(str), rows["overall_rate"].astype(float), strict=False))
        text = f"{whole_percent(rate[names[1]])} of {first} {_reached(names[1])}"
        if len(names) > 2:
            text += f"; {whole_percent(rate[names[-1]])} {_reached(names[-1])}"
        return text
    last = rows[rows["step_name"].astype(str) == names[-1]].dropna(subset=["overall_rate"])
    if last.empty:
        return f"No {first} entered the funnel"
    rates = last["overall_rate"].to_numpy(dtype=float)
    lo, hi = last.iloc[int(np.argmin(rates))], last.iloc[int(np.argmax(rates))]
    return (
        f"{whole_percent(float(hi['overall_rate']))} of {first} {_reached(names[-1])} in "
        f"{escape(shorten(hi['group'], 24))}, {whole_percent(float(lo['overall_rate']))} in "
        f"{escape(shorten(lo['group'], 24))}"
    )


# --------------------------------------------------------------------------------------------------
# Funnel bars
# --------------------------------------------------------------------------------------------------

#: The caption clause saying what the labels on the funnel bars are.
BAR_LABELS = "on the bars: % of the previous step, then % of units entering step 1 (overall)"


def bar_text(step: int, conversion_rate: float, overall_rate: float, *, compact: bool = False) -> str:
    """The label printed on a funnel bar: the step's conversion and its overall conversion.

    Parameters
    ----------
    step : int
        1-based step.
    conversion_rate, overall_rate : float
        The row's ``conversion_rate`` (from the previous step) and ``overall_rate`` (of units entering
        step 1); NaN when no unit entered.
    compact : bool, default False
        One line, ``"51% · 18%"``, for narrow bars (many groups).

    Returns
    -------
    str
        ``"100%"`` for step 1 (both rates are 100% there), else two lines such as
        ``"51% step<br>18% overall"``; empty when nothing entered.

    Examples
    --------
    >>> bar_text(1, 1.0, 1.0), bar_text(3, 0.513761, 0.184818)
    ('100%', '51% step<br>18% overall')
    """
    if math.isnan(conversion_rate) or math.isnan(overall_rate):
        return ""
    if step == 1:
        return f"{overall_rate:.0%}"
    if compact:
        return f"{conversion_rate:.0%} · {overall_rate:.0%}"
    return f"{conversion_rate:.0%} step<br>{overall_rate:.0%} overall"


def funnel_figure(
    table: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    value: str = "converted",
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
    tz: str = "UTC",
) -> go.Figure:
    """Grouped bars of a funnel table: one trace per group, one bar per step.

    Parameters
    ----------
    table : pandas.DataFrame
        ``FunnelResult.frame()``: ``group``, ``step``, ``step_name``, ``entered``, ``converted``,
        ``dropped``, ``still_open`` and the rates with their ``_low`` / ``_high`` bounds, ordered by group
        (in the order groups are shown) then step.
    params : dict
        ``FunnelResult.params``; drawn as the subtitle (:func:`caption`).
    value : {"converted", "conversion_rate", "overall_rate"}, default "converted"
        What the bar height shows. Rates get 95% interval error bars from the table's bounds. Whatever
        the height, each bar is labelled with its rates (:func:`bar_text`); the count and the intervals
        are in the hover.
    title : str, optional
        Defaults to ``"Funnel: step → step → ..."``.
    height, width : int, optional
        Figure size in pixels.
    tz : str, default "UTC"
        The time zone the caption names (and writes the date range in); the bars do not depend on it.

    Returns
    -------
    plotly.graph_objects.Figure
        Each bar's ``customdata`` starts with ``(group, step)``, so a click maps back to a table row.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import funnel_figure
    >>> f = ca.funnel(ca.load_sample(), steps=["triggered", "engaged", "completed"])
    >>> fig = funnel_figure(f.frame(), f.params, value="overall_rate")
    >>> [t.type for t in fig.data], list(fig.data[0].x)
    (['bar'], ['triggered', 'engaged', 'completed'])
    """
    if value not in VALUES:
        raise InvalidParameterError("value", value, list(VALUES))
    check_columns(table, _FUNNEL_COLUMNS, "table")
    is_rate = value != "converted"
    step_names = list(dict.fromkeys(table.sort_values("step", kind="stable")["step_name"].astype(str)))
    groups = group_order(table)
    cut = short_names(groups)
    # a bar's share of the plot's width at the narrowest it is drawn: two-line labels ("36% step",
    # "36% overall") need about 80 px, a one-line compact label about 70 px, else it runs upwards
    slot_px = ((width or NARROWEST_PX) - 150) / max(len(step_names) * len(groups), 1)
    compact, upright = slot_px < 80, slot_px < 70
    fig = go.Figure()
    hover = (
        "<b>%{customdata[12]}</b><br>step %{customdata[1]}: %{x}<br>"
        "entered %{customdata[2]:,}, converted %{customdata[3]:,}, dropped %{customdata[4]:,} "
        "(still open %{customdata[5]:,})<br>"
        "conversion from previous %{customdata[6]:.1%} (95% CI %{customdata[7]:.1%}–%{customdata[8]:.1%})<br>"
        "overall %{customdata[9]:.1%} (95% CI %{customdata[10]:.1%}–%{customdata[11]:.1%})<extra></extra>"
    )
    for i, g in enumerate(groups):
        sub = table[table["group"].astype(str) == g]
        y = sub[value].to_numpy(dtype=float)
        custom = np.empty((len(sub), 13), dtype=object)
        custom[:, 0] = g  # the group as in the table: the widget's click reads it
        custom[:, 12] = escape(g)  # the group as shown: plotly reads hover text as HTML
        custom[:, 1] = sub["step"].to_numpy(dtype=int)
        for j, c in enumerate(_FUNNEL_COLUMNS[3:], start=2):
            col = sub[c].to_numpy()
            custom[:, j] = [int(v) for v in col] if j <= 5 else [float(v) for v in col]
        text = [
            bar_text(int(step), conv, overall, compact=compact)
            for step, conv, overall in zip(
                sub["step"],
                sub["conversion_rate"].astype(float),
                sub["overall_rate"].astype(float),
                strict=True,
            )
        ]
        if is_rate:
            low = sub[f"{value}_low"].to_numpy(dtype=float)
            high = sub[f"{value}_high"].to_numpy(dtype=float)
            error_y = error_bars(y, low, high)
        else:
            error_y = {"visible": False}
        fig.add_trace(
            go.Bar(
                x=sub["step_name"].astype(str).tolist(),
                y=y,
                name=escape(cut[g]),
                marker={"color": group_color(i, g)},
                customdata=custom,
                text=text,
                textposition="outside",
                textangle=-90 if upright else 0,
                textfont={"size": 11 if compact else 12},
                constraintext="none",
                cliponaxis=False,
                error_y=error_y,
                hovertemplate=hover,
            )
        )
    by = params.get("by")
    yaxis: dict[str, Any] = {"title": {"text": VALUES[value]}, "rangemode": "tozero"}
    if is_rate:
        # room above a full bar for its two-line label
        yaxis.update(tickformat=".0%", range=[0, 1.16])
    else:
        # room above the tallest bar for its label (plotly's autorange leaves none for outside text)
        top = float(np.nanmax(table["converted"].to_numpy(dtype=float))) if len(table) else 0.0
        yaxis.update(tickformat=",d", range=[0, max(top, 1.0) * 1.18], autorange=False)
    fig.update_layout(
        barmode="group",
        xaxis={
            # one-line labels need their key where they are read
            "title": {"text": "Step (labels: % of the previous step · % overall)" if compact else "Step"},
            "categoryorder": "array",
            "categoryarray": step_names,
            # long step names ("email_input | phone_input (optional)") wrap instead of overlapping
            "tickmode": "array",
            "tickvals": step_names,
            "ticktext": [wrap(n, 16, break_on_hyphens=True) or n for n in step_names],
            "tickangle": 0,
        },
        yaxis=yaxis,
        showlegend=len(groups) > 1,
        legend={"title": {"text": by if by else ""}, **LEGEND_BELOW},
        uniformtext={"minsize": 9, "mode": "hide"},
        clickmode="event",
    )
    extra = [BAR_LABELS, *(["bars: 95% Wilson intervals"] if is_rate else [])]
    return _finish(fig, params, title or funnel_finding(table, params), extra, height, width, tz)


# --------------------------------------------------------------------------------------------------
# Conversion over time
# --------------------------------------------------------------------------------------------------


def _period_word(periods: pd.Series) -> str:
    p = pd.Series(pd.to_datetime(periods).unique()).sort_values()
    if len(p) > 1 and (p.diff().dropna() % pd.Timedelta(days=7) == pd.Timedelta(0)).all():
        return "week"
    return "day"


@figure_doc
def over_time_figure(
    over_time: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    step: int | None = None,
    tz: str = "UTC",
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """Overall conversion by period of entry, one line per group, with its 95% interval as a band.

    Parameters
    ----------
    over_time : pandas.DataFrame
        ``FunnelResult.over_time()``: ``group``, ``period`` (local start of the day or week of entry),
        ``step``, ``step_name``, ``entered``, ``converted``, ``overall_rate`` with ``_low`` / ``_high``,
        and ``immature`` (the period's funnel window had not fully elapsed at the end of the data).
    params : dict
        ``FunnelResult.params``; drawn as the subtitle.
    step : int, optional
        Which step's overall conversion to draw; the last step by default.
    tz : str, default "UTC"
        The time zone the periods are in (the ``tz`` given to ``over_time()``); only labels the axis.
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        Per group: a band trace (``fill="toself"``), a solid line of the mature periods and, when there
        are immature periods, a dotted line with open markers (``name`` ends in ``(immature)``).
    """
    check_columns(over_time, _OVER_TIME_COLUMNS, "over_time")
    steps = sorted(int(s) for s in over_time["step"].unique())
    if not steps:
        raise InvalidParameterError("over_time", "empty table", reason="nothing to draw")
    chosen = steps[-1] if step is None else step
    if chosen not in steps:
        raise InvalidParameterError("step", step, steps)
    data = over_time[over_time["step"] == chosen].sort_values("period", kind="stable")
    step_name = str(data["step_name"].iloc[0]) if len(data) else str(chosen)
    groups = group_order(over_time)
    cut = short_names(groups)
    fig = go.Figure()
    hover = (
        "<b>%{customdata[0]}</b> %{x|%Y-%m-%d}<br>entered step 1: %{customdata[1]:,}, "
        "reached: %{customdata[2]:,}<br>overall %{y:.1%} (95% CI %{customdata[3]:.1%}–%{customdata[4]:.1%})"
        "%{customdata[5]}<extra></extra>"
    )
    for i, g in enumerate(groups):
        sub = data[data["group"].astype(str) == g]
        if sub.empty:
            continue
        color = group_color(i, g)
        x = pd.to_datetime(sub["period"]).to_numpy()
        y = sub["overall_rate"].to_numpy(dtype=float)
        low = sub["overall_rate_low"].to_numpy(dtype=float)
        high = sub["overall_rate_high"].to_numpy(dtype=float)
        imm = sub["immature"].to_numpy(dtype=bool)
        custom = np.empty((len(sub), 6), dtype=object)
        custom[:, 0] = escape(g)
        custom[:, 1] = [int(v) for v in sub["entered"]]
        custom[:, 2] = [int(v) for v in sub["converted"]]
        custom[:, 3] = [float(v) for v in low]
        custom[:, 4] = [float(v) for v in high]
        custom[:, 5] = np.where(imm, "<br><i>immature: window not over at the end of the data</i>", "")
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([x, x[::-1]]),
                y=np.concatenate([high, low[::-1]]),
                fill="toself",
                fillcolor=rgba(color, 0.15),
                line={"width": 0},
                mode="lines",
                name=f"{escape(g)} 95% CI",
                legendgroup=g,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.where(imm, np.nan, y),
                customdata=custom,
                mode="lines+markers",
                name=escape(cut[g]),
                legendgroup=g,
                line={"color": color, "width": 2},
                marker={"color": color, "size": 7, "symbol": "circle"},
                hovertemplate=hover,
                connectgaps=False,
            )
        )
        if imm.any():
            # the dotted segment starts at the last mature period before the first immature one
            idx = np.flatnonzero(imm)
            first = idx[0]
            keep = np.concatenate([[first - 1], idx]) if first > 0 and not imm[first - 1] else idx
            joined = np.isin(keep, idx)
            fig.add_trace(
                go.Scatter(
                    x=x[keep],
                    y=y[keep],
                    customdata=custom[keep],
                    mode="lines+markers",
                    name=f"{escape(cut[g])} (immature)",
                    legendgroup=g,
                    showlegend=False,  # the dotted line and open markers are explained in the definition
                    line={"color": color, "width": 2, "dash": "dot"},
                    marker={
                        "color": color,
                        "size": np.where(joined, 8, 0).tolist(),
                        "symbol": "circle-open",
                        "line": {"width": 2, "color": color},
                    },
                    hovertemplate=hover,
                )
            )
    word = _period_word(data["period"]) if len(data) else "day"
    fig.update_layout(
        xaxis={
            "title": {"text": f"{word.capitalize()} of entry (start, {tz})"},
            "tickformat": "%b %d",
            # weekly periods: one tick per period start (plotly's automatic ticks fall on Sundays)
            **(
                {"tick0": pd.Timestamp(data["period"].min()).isoformat(), "dtick": 7 * 86_400_000}
                if word == "week"
                else {}
            ),
        },
        yaxis={
            "title": {"text": f"Overall conversion to '{step_name}'"},
            "tickformat": ".0%",
            "rangemode": "tozero",
        },
        showlegend=True,
        legend=LEGEND_BELOW,
        hovermode="closest",
    )
    extra = [f"x: the {word} in which units entered step 1", "band: 95% Wilson interval", _IMMATURE_NOTE]
    mature = data[~data["immature"].astype(bool)].dropna(subset=["overall_rate"])
    if len(mature):
        lo, hi = mature["overall_rate"].astype(float).min(), mature["overall_rate"].astype(float).max()
        default = (
            f"{_reached(step_name).capitalize()}: {whole_percent(lo)} to {whole_percent(hi)} "
            f"of each {word}'s "
            f"entering {_units(params)}"
        )
    else:
        default = f"Overall conversion to {escape(step_name)} by {word}: no complete {word} yet"
    return _finish(fig, params, title or default, extra, height, width, tz)


# --------------------------------------------------------------------------------------------------
# Time to convert (Kaplan-Meier)
# --------------------------------------------------------------------------------------------------

_NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


_LOG_SECONDS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 86400, 604800)


def _ticks(max_seconds: float, log: bool, min_seconds: float = 1.0) -> tuple[list[float], list[str]]:
    if not np.isfinite(max_seconds) or max_seconds <= 0:
        return [0.0], ["0s"]
    if log:
        vals = [float(v) for v in _LOG_SECONDS if min_seconds * 0.95 <= v <= max_seconds * 1.05]
    else:
        size = next((v for v in _NICE_SECONDS if max_seconds / v <= 7), 86400.0)
        while max_seconds / size > 7:
            size *= 2
        vals = [float(v) for v in np.arange(0, max_seconds + size, size)]
    return vals, [seconds_text(v) for v in vals]


@figure_doc
def time_figure(
    curves: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    log_x: bool = False,
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
    tz: str = "UTC",
) -> go.Figure:
    """Step curves of the share of units that reached each step by a given time since the previous one.

    Parameters
    ----------
    curves : pandas.DataFrame
        ``FunnelResult.time_curves()``: ``group``, ``step`` (2 or more), ``step_name``, ``seconds`` and
        ``converted_share`` (Kaplan-Meier estimate, censored units counted), one row per event time,
        ascending.
    params : dict
        ``FunnelResult.params``; drawn as the subtitle.
    log_x : bool, default False
        Logarithmic time axis (ticks stay in readable units: 10s, 1min, 5min, ...).
    {figure_options}
    tz : str, default "UTC"
        The time zone the caption names for entry times.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``line_shape="hv"`` trace per step and group, named by the step. With one group, colour marks
        the step; with several, colour marks the group (also the legend group and its title) and the dash
        pattern the step.
    """
    check_columns(curves, _CURVE_COLUMNS, "curves")
    groups = group_order(curves)
    cut = short_names(groups, 24)
    steps = sorted(int(s) for s in curves["step"].unique())
    names = dict(zip(curves["step"].astype(int), curves["step_name"].astype(str), strict=False))
    dashes = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
    fig = go.Figure()
    for gi, g in enumerate(groups):
        for si, s in enumerate(steps):
            sub = curves[(curves["group"].astype(str) == g) & (curves["step"].astype(int) == s)]
            if sub.empty:
                continue
            sub = sub.sort_values("seconds", kind="stable")
            many = len(groups) > 1
            color = group_color(gi, g) if many else COLORS[si % len(COLORS)]
            label = f"{escape(g)}: {names[s]}" if many else names[s]
            fig.add_trace(
                go.Scatter(
                    x=sub["seconds"].to_numpy(dtype=float),
                    y=sub["converted_share"].to_numpy(dtype=float),
                    mode="lines",
                    line={
                        "shape": "hv",
                        "color": color,
                        "width": 2,
                        "dash": dashes[si % len(dashes)] if many else "solid",
                    },
                    name=f"{escape(cut[g])}: {names[s]}" if many else names[s],
                    legendgroup=g if many else label,
                    customdata=np.array([[g, s]] * len(sub), dtype=object),
                    hovertemplate=(
                        f"<b>{label}</b><br>%{{x:,.1f}} s after the previous step<br>"
                        "reached: %{y:.1%}<extra></extra>"
                    ),
                )
            )
    max_s = float(curves["seconds"].max()) if len(curves) else 0.0
    positive = curves.loc[curves["seconds"] > 0, "seconds"]
    vals, text = _ticks(max_s, log_x, float(positive.min()) if len(positive) else 1.0)
    xaxis: dict[str, Any] = {
        "title": {"text": "Time since the previous step"},
        "tickmode": "array",
        "tickvals": vals,
        "ticktext": text,
    }
    if log_x:
        xaxis["type"] = "log"
        if len(positive):
            xaxis["range"] = [math.log10(max(float(positive.min()), 0.1)), math.log10(max_s * 1.05)]
    fig.update_layout(
        xaxis=xaxis,
        yaxis={
            "title": {"text": "Share of units that reached the step"},
            "tickformat": ".0%",
            "range": [0, 1.02],
        },
        showlegend=True,
        # several groups: an entry per group and step, under the plot (the height grows with its rows)
        legend={**LEGEND_BELOW, "groupclick": "toggleitem"},
        hovermode="closest",
    )
    extra = [
        "curves: Kaplan-Meier estimate (see the glossary), units still open counted as censored "
        "(they count until they leave the window, then drop out of the denominator)"
    ]
    return _finish(
        fig, params, title or _time_finding(curves, groups, steps, names), extra, height, width, tz
    )


def _time_finding(curves: pd.DataFrame, groups: list[str], steps: list[int], names: dict[int, str]) -> str:
    """The last step's final share (of the first group) and the time by which half of that was reached."""
    if not steps or not groups:
        return "Time to reach each step: nothing to draw"
    s = steps[-1]
    sub = curves[(curves["group"].astype(str) == groups[0]) & (curves["step"].astype(int) == s)]
    share = sub.sort_values("seconds", kind="stable")["converted_share"].astype(float)
    if share.empty or not np.isfinite(share.max()) or share.max() <= 0:
        return f"No unit {_reached(names[s])} after the previous step"
    final = float(share.max())
    half = float(sub.loc[share.index[share >= final / 2][0], "seconds"])
    who = "" if len(groups) == 1 else f" ({escape(shorten(groups[0], 24))})"
    return (
        f"{whole_percent(final)} of those at the previous step {_reached(names[s])}{who}; "
        f"half of them within {seconds_text(round(half))}"
    )
