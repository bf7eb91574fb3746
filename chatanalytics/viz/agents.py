"""Agent figures: pure functions from the tables of an agent-performance result to plotly Figures.

Nothing here computes a metric: every number drawn is read from the table given (see the data contracts
of :class:`chatanalytics.AgentPerformanceResult`); these functions only pick rows, sort and format them.
Every figure carries its definition as its subtitle: what is counted, the denominator, the period, the
time zone and, for rates, whether they were shrunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..errors import InvalidParameterError
from ._definitions import (
    ACCEPT_WINDOW_SECONDS,
    AGENT_CHAT_CAP,
    IDLE_TIMEOUT_SECONDS,
    METRICS,
    NO_AGENT,
    RATES,
)
from ._format import escape, period_text, range_clause, seconds_text, short_names, shorten
from ._grid import DAY_AXIS, count_ticks, hour_axis, weekday_hour_grid
from ._layout import empty_note, figure_doc, finish, level_ticks, line, mark_level
from ._leaderboard import BASIS, MIN_N, leaderboard_rows, rank_clause
from ._tables import check_columns
from ._theme import COLORS, ERROR_BARS, HEAT_SCALE, rgba

__all__ = [
    "HEATMAP_VALUES",
    "accept_time_figure",
    "concurrency_figure",
    "hour_weekday_figure",
    "leaderboard_figure",
]

#: What the hour-by-weekday heatmap can show.
HEATMAP_VALUES: dict[str, str] = {
    "offers": "Offers",
    "missed": "Missed offers",
    "miss_rate": "Miss rate",
}
_LABELS = {
    "offers": "Offers",
    "accepted": "Accepted chats",
    "acceptance_rate": "Acceptance rate",
    "missed": "Missed offers",
    "accept_median_seconds": "Median time to accept",
    "accept_p90_seconds": "90th percentile time to accept",
    "handle_median_seconds": "Median handle time",
    "handle_total_seconds": "Total handle time",
    "idle_timeouts": "Chats ended by the idle timeout",
    "peak_concurrent_chats": "Peak concurrent chats",
    "mean_concurrent_chats": "Mean concurrent chats (while busy)",
    "at_cap_rate": "Share of busy time at the cap",
    "meetings_booked": "Meetings booked",
    "meeting_rate": "Meeting rate",
    "email_rate": "Email rate",
}
_ACCEPT_COLUMNS = ["agent_id", "agent_name", "accept_seconds"]
# agent names longer than this are cut in the middle on axes (whole on hover); in titles, shorter
_NAME_CHARS = 30
_TITLE_CHARS = 24
_POINT_COLUMNS = ["at", "chats"]


# --------------------------------------------------------------------------------------------------
# Caption clauses and labels
# --------------------------------------------------------------------------------------------------


def _shrink_part(params: Mapping[str, Any], is_rate: bool) -> str:
    if not params.get("shrink"):
        return "shrink: off (observed rates)" if is_rate else "shrink: off"
    if is_rate:
        return (
            "shrink: on (each rate pulled toward all agents' rate by a fitted beta prior; "
            "the raw rate is printed beside it)"
        )
    return "shrink: on (rates only; this metric is not shrunk)"


def _labels(ids: pd.Series, names: pd.Series, short: int | None = None) -> list[str]:
    """One label per row: the agent's name, with the id when two ids share a name.

    ``<``, ``>`` and ``&`` are escaped: plotly reads labels as a subset of HTML. With ``short``, names
    are cut in the middle to that many characters (the hover shows them whole).
    """
    ids = ids.astype("object")
    names = names.astype("object")
    base = [
        NO_AGENT if pd.isna(i) else (str(n) if pd.notna(n) else str(i))
        for i, n in zip(ids, names, strict=True)
    ]
    ids_of: dict[str, set[Any]] = {}
    for label, i in zip(base, ids, strict=True):
        ids_of.setdefault(label, set()).add(None if pd.isna(i) else i)
    full = [
        f"{label} ({i})" if len(ids_of[label]) > 1 and not pd.isna(i) else label
        for label, i in zip(base, ids, strict=True)
    ]
    shown = short_names(full, short) if short is not None else {t: t for t in full}
    return [escape(shown[text]) for text in full]


# --------------------------------------------------------------------------------------------------
# Leaderboard
# --------------------------------------------------------------------------------------------------


def _value_text(metric: str, values: np.ndarray) -> list[str]:
    if metric.endswith("_rate"):
        return ["" if np.isnan(v) else f"{v:.0%}" for v in values]
    if metric.endswith("_seconds"):
        return ["" if np.isnan(v) else seconds_text(round(float(v), 1)) for v in values]
    if metric == "mean_concurrent_chats":
        return ["" if np.isnan(v) else f"{v:.2f}" for v in values]
    return ["" if np.isnan(v) else f"{int(v):,}" for v in values]


def _basis_text(metric: str, rows: pd.DataFrame, *, short: bool = False) -> list[str]:
    """What each row's value is based on: ``"n=12 offers"`` in the hover, ``"n=12"`` (``short``) beside
    a bar; the time with a chat for the concurrency metrics.
    """
    basis = BASIS.get(metric)
    if basis is None:
        return [""] * len(rows)
    col, words = basis
    if col == "busy_seconds":
        busy = "busy" if short else "with a chat"
        return [f"{seconds_text(round(float(v)))} {busy}" for v in rows[col]]
    what = "" if short else f" {words}"
    return [f"n={int(v):,}{what}" for v in rows[col]]


def leaderboard_figure(
    table: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    metric: str = "acceptance_rate",
    period: Any = None,
    agents: Sequence[Any] | None = None,
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
    min_n: int = MIN_N,
) -> go.Figure:
    """Horizontal bars, one per agent, ordered by a metric with the best agent at the top.

    Parameters
    ----------
    table : pandas.DataFrame
        ``AgentPerformanceResult.frame()``: one row per agent (and ``period`` with ``freq``).
    params : dict
        ``AgentPerformanceResult.params`` (``freq``, ``tz``, ``shrink``, ``start``, ``end``); drawn as
        the subtitle.
    metric : str, default "acceptance_rate"
        A key of :data:`chatanalytics.analysis.agents.METRICS`. Rates are drawn as percentages with
        their 95% interval (the table's ``<metric>_low`` / ``<metric>_high``) and the count they rest on
        (``offers`` or ``accepted``) as ``n``; with shrunk rates the observed rate is printed beside. A
        rate ranks by its shrunk value (``params["shrink"]``) or else by its interval's lower bound, and
        rates resting on fewer than ``min_n`` observations rank last, in a paler bar
        (:func:`chatanalytics.viz._leaderboard.leaderboard_rows`). Lower is better for ``missed``,
        ``idle_timeouts`` and the times to accept, which put the lowest value at the top; every other
        metric puts the highest there. Ties are ordered by the count the metric rests on, then by name.
    period : Timestamp or str, optional
        With periods in the table, the one to draw (its local start, e.g. ``"2026-10-26"``); the latest
        by default. The caption names the period drawn.
    agents : list of agent ids, optional
        Keep only these agents.
    title : str, optional
        Defaults to ``"Agents by <metric>"``.
    height, width : int, optional
        Figure size in pixels; the height grows with the number of agents by default.
    min_n : int, default 5
        For rates: the fewest observations a rate needs to rank among the others (the caption says it).

    Returns
    -------
    plotly.graph_objects.Figure
        Two traces: the bars (a ``Bar``, ``orientation="h"``; each bar's ``customdata`` starts with the
        agent id) and the values with their ``n`` as a text column beside them (a ``Scatter``). The
        ``(no agent)`` row, offers that named no agent, is drawn only for ``offers`` and ``missed``;
        agents without a value (a rate with no denominator, a median with nothing to take it of) are
        left out, and the caption says so.

    Raises
    ------
    InvalidParameterError
        For an unknown ``metric``, ``period`` or agent id.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import leaderboard_figure
    >>> a = ca.agent_performance(ca.load_sample())
    >>> fig = leaderboard_figure(a.frame(), a.params, metric="offers")
    >>> fig.data[0].type, fig.data[0].orientation, len(fig.data[0].x) == len(a.frame())
    ('bar', 'h', True)
    """
    rows, parts = leaderboard_rows(table, params, metric, period, agents, min_n=min_n)
    is_rate = metric in RATES
    values = rows[metric].to_numpy(dtype=float)
    ids = rows["agent_id"].astype("object")
    labels = _labels(rows["agent_id"], rows["agent_name"], short=_NAME_CHARS)
    full = _labels(rows["agent_id"], rows["agent_name"])
    basis = _basis_text(metric, rows)
    value_text = _value_text(metric, values)
    custom = np.empty((len(rows), 7), dtype=object)
    custom[:, 6] = full
    custom[:, 0] = [None if pd.isna(i) else i for i in ids]
    custom[:, 1] = [NO_AGENT if pd.isna(i) else escape(i) for i in ids]
    custom[:, 2] = value_text
    custom[:, 3] = basis
    if is_rate:
        low = rows[f"{metric}_low"].to_numpy(dtype=float)
        high = rows[f"{metric}_high"].to_numpy(dtype=float)
        custom[:, 4] = [f" (95% CI {lo:.1%}–{hi:.1%})" for lo, hi in zip(low, high, strict=True)]
        observed = f"observed_{metric}"
        if observed in rows.columns:
            custom[:, 5] = [
                "" if np.isnan(v) else f"<br>observed {v:.1%} before shrinking"
                for v in rows[observed].to_numpy(dtype=float)
            ]
        else:
            custom[:, 5] = ""
        error_x: dict[str, Any] = {
            **ERROR_BARS,
            "symmetric": False,
            "array": np.clip(high - values, 0, None),
            "arrayminus": np.clip(values - low, 0, None),
        }
    else:
        custom[:, 4] = ""
        custom[:, 5] = ""
        error_x = {"visible": False}
    shown = value_text
    observed_col = f"observed_{metric}"
    if is_rate and observed_col in rows.columns:
        # the raw rate stays visible beside the shrunk one
        shown = [
            v if np.isnan(o) else f"{v} (raw {o:.0%})"
            for v, o in zip(value_text, rows[observed_col].to_numpy(dtype=float), strict=True)
        ]
    # the value and its n; what n counts is in the subtitle
    text = [
        f"{v}   {b}" if b else v for v, b in zip(shown, _basis_text(metric, rows, short=True), strict=True)
    ]
    basis_pair = BASIS.get(metric)
    few = (
        (rows[basis_pair[0]] < min_n).to_numpy()
        if is_rate and basis_pair is not None
        else np.zeros(len(rows), dtype=bool)
    )
    colors = [
        COLORS[-1] if pd.isna(i) else rgba(COLORS[0], 0.45) if f else COLORS[0]
        for i, f in zip(ids, few, strict=True)
    ]
    fig = go.Figure(
        [
            go.Bar(
                x=values,
                y=labels,
                orientation="h",
                name=_LABELS[metric],
                marker={"color": colors},
                customdata=custom,
                error_x=error_x,
                hovertemplate=(
                    "<b>%{customdata[6]}</b> (id %{customdata[1]})<br>"
                    + _LABELS[metric]
                    + ": %{customdata[2]}%{customdata[4]}%{customdata[5]}<br>%{customdata[3]}"
                    "<extra></extra>"
                ),
            ),
            # the values as a column on the right, clear of the bars and their error bars
            go.Scatter(
                x=[0.0] * len(rows),
                y=labels,
                mode="text",
                text=text,
                textposition="middle right",
                xaxis="x2",
                name="value",
                hoverinfo="skip",
                cliponaxis=False,
            ),
        ]
    )
    xaxis: dict[str, Any] = {"title": {"text": _LABELS[metric]}, "domain": [0, 0.66], "rangemode": "tozero"}
    if metric.endswith("_rate"):
        xaxis.update(tickformat=".0%", range=[0, 1.02], autorange=False)
    else:
        xaxis.update(
            tickformat=".1f" if metric == "mean_concurrent_chats" else ",d", range=None, autorange=True
        )
        if metric.endswith("_seconds"):
            xaxis["title"]["text"] += " (seconds)"
    fig.update_layout(
        xaxis=xaxis,
        xaxis2={"domain": [0.68, 1], "range": [0, 1], "visible": False, "fixedrange": True},
        yaxis={
            "title": {"text": ""},
            "autorange": "reversed",  # rows are best first: the first at the top
            "type": "category",
            "showgrid": False,
        },
        showlegend=False,
        clickmode="event",
        annotations=[] if len(rows) else empty_note("no agent to show"),
    )
    definition = f"{metric}: {METRICS[metric]}"
    clauses = [definition]
    if is_rate:
        clauses.append(f"denominator and n: {basis_pair[1]}" if basis_pair else "")
        clauses.append("bars: 95% Wilson intervals")
    elif basis_pair is not None:
        clauses.append(f"n: {basis_pair[1]}")
    clauses.extend(parts)
    clauses.extend(range_clause(params, "offers and chats"))
    tz = params.get("tz", "UTC")
    clauses.append(f"time basis: offer time (chats: accept time), {tz}")
    clauses.append(_shrink_part(params, is_rate))
    clauses.append(rank_clause(params, metric, min_n) + (" (paler bars)" if few.any() else ""))
    n_what = f"n = {basis_pair[1]}" if basis_pair is not None else ""
    period = parts[0]
    if period == "period: the whole range" and _range_words(params):
        period = f"period: {_range_words(params)[0]}"
    sub = line([period, n_what, f"offer time, {tz}"])
    return finish(
        fig,
        title or _leader_finding(metric, labels, value_text),
        sub,
        clauses,
        height=height,
        width=width,
        title_from="figure",
        plot_px=max(120, 28 * len(rows) + 30),
    )


def _leader_finding(metric: str, labels: list[str], value_text: list[str]) -> str:
    """The first and the last of the ranking, with their values."""
    what = _LABELS[metric]
    if not labels:
        return f"{what}: no agent to show"
    first = f"{value_text[0]} for {shorten(labels[0], _TITLE_CHARS)}"
    if len(labels) == 1:
        return f"{what}: {first}"
    return f"{what}: {first} (first) to {value_text[-1]} for {shorten(labels[-1], _TITLE_CHARS)} (last)"


def _range_words(params: Mapping[str, Any]) -> list[str]:
    """The date range as a subtitle part (empty without one)."""
    if params.get("start") is None and params.get("end") is None:
        return []
    return [period_text(params)]


# --------------------------------------------------------------------------------------------------
# Time to accept
# --------------------------------------------------------------------------------------------------


@figure_doc
def accept_time_figure(
    times: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    style: str = "box",
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """The time each agent took to accept, one box (or violin) per agent, against the 100 s window.

    Parameters
    ----------
    times : pandas.DataFrame
        ``AgentPerformanceResult.accept_times()``: ``agent_id``, ``agent_name``, ``accept_seconds``, one
        row per accepted offer.
    params : dict
        ``AgentPerformanceResult.params``; the date range and time zone go into the subtitle.
    style : {"box", "violin"}, default "box"
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Box`` (or ``Violin``) trace per agent, named by the agent, ordered by name; every accept
        drawn as a point. A dashed horizontal line marks Adobe's accept window.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import accept_time_figure
    >>> a = ca.agent_performance(ca.load_sample())
    >>> fig = accept_time_figure(a.accept_times(), a.params)
    >>> {t.type for t in fig.data}, fig.layout.shapes[0].y0
    ({'box'}, 100)
    """
    if style not in ("box", "violin"):
        raise InvalidParameterError("style", style, ["box", "violin"])
    check_columns(times, _ACCEPT_COLUMNS, "times")
    data = times.assign(
        _label=_labels(times["agent_id"], times["agent_name"]) if len(times) else pd.Series(dtype=str)
    )
    labels = sorted(data["_label"].unique().tolist(), key=lambda s: (s == NO_AGENT, s.casefold()))
    cut = short_names(labels, 24)
    fig = go.Figure()
    for label in labels:
        sub = data[data["_label"] == label]
        y = sub["accept_seconds"].to_numpy(dtype=float)
        agent = sub["agent_id"].iloc[0]
        common: dict[str, Any] = {
            "y": y,
            "x": [f"{cut[label]} (n={len(sub)})"] * len(sub),
            "name": f"{label} (n={len(sub)})",
            "customdata": np.array([[None if pd.isna(agent) else agent]] * len(sub), dtype=object),
            "marker": {"color": COLORS[-1] if label == NO_AGENT else COLORS[0], "size": 4},
            "line": {"width": 1.5},
            "hovertemplate": f"<b>{label}</b><br>%{{y:.1f}} s to accept<extra></extra>",
            "showlegend": False,
        }
        if style == "box":
            fig.add_trace(go.Box(boxpoints="all", jitter=0.35, pointpos=0, **common))
        else:
            fig.add_trace(
                go.Violin(
                    points="all", jitter=0.35, pointpos=0, box={"visible": True}, spanmode="hard", **common
                )
            )
    window = ACCEPT_WINDOW_SECONDS
    mark_level(fig, window, f"accept window {window} s")
    top = float(np.nanmax(data["accept_seconds"])) if len(data) else float(window)
    ticks = [f"{cut[label]} (n={int((data['_label'] == label).sum())})" for label in labels]
    angle, bottom = level_ticks(ticks)
    fig.update_layout(
        xaxis={
            # an explicit standoff: plotly places the title by the unrotated labels otherwise, among them
            "title": {"text": "Agent (n = accepted offers)", "standoff": 10},
            "tickangle": angle,
            "type": "category",
            "categoryorder": "array",
            "categoryarray": ticks,
        },
        yaxis={
            "title": {"text": "Seconds from the offer to the accept"},
            "range": [0, max(top, window) * 1.08],
        },
        showlegend=False,
        violinmode="overlay",
        boxmode="overlay",
    )
    tz = params.get("tz", "UTC")
    clauses = [
        f"time from the offer to the agent's accept, accepted offers only; "
        f"Adobe's accept window is {window} s",
        "each point an accepted offer",
        "box: median and quartiles, whiskers to 1.5 IQR" if style == "box" else "violin: density, box inside",
        *range_clause(params, "offers"),
        f"all periods together ({tz})" if params.get("freq") else "",
    ]
    return finish(
        fig,
        title or _accept_finding(data, window),
        line(["accepted offers", *_range_words(params), f"offer time, {tz}"]),
        clauses,
        height=height,
        width=width,
        title_from="figure",
        bottom=bottom,
    )


def _accept_finding(data: pd.DataFrame, window: int) -> str:
    """How many accepts came after half the window, and the slowest agent by median."""
    if data.empty:
        return "Time to accept: no accepted offer"
    secs = data["accept_seconds"].astype(float)
    medians = secs.groupby(data["_label"]).median()
    slow = str(medians.idxmax())
    return (
        f"Half of all accepts within {seconds_text(round(float(secs.median()), 1))}; "
        f"slowest median: {shorten(slow, _TITLE_CHARS)} ({seconds_text(round(float(medians.max()), 1))})"
    )


# --------------------------------------------------------------------------------------------------
# Hour by weekday
# --------------------------------------------------------------------------------------------------


@figure_doc
def hour_weekday_figure(
    cells: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    value: str = "offers",
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """A weekday-by-hour heatmap of offers, missed offers or the miss rate (local time of the offer).

    Parameters
    ----------
    cells : pandas.DataFrame
        ``AgentPerformanceResult.hour_weekday()``: ``weekday`` (0 = Monday), ``weekday_name``, ``hour``,
        ``offers``, ``missed``, ``miss_rate``; all 168 cells.
    params : dict
        ``AgentPerformanceResult.params``; ``tz`` is the time zone of the cells.
    value : {"offers", "missed", "miss_rate"}, default "offers"
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` with ``z`` of shape 7 x 24: rows Monday (top) to Sunday, columns hours 0 to 23.
        A miss rate with no offers in the cell is empty.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import hour_weekday_figure
    >>> a = ca.agent_performance(ca.load_sample(), tz="America/New_York")
    >>> fig = hour_weekday_figure(a.hour_weekday(), a.params, value="miss_rate")
    >>> fig.data[0].type, len(fig.data[0].z), len(fig.data[0].z[0])
    ('heatmap', 7, 24)
    """
    if value not in HEATMAP_VALUES:
        raise InvalidParameterError("value", value, list(HEATMAP_VALUES))
    grid = weekday_hour_grid(cells, "offers", "cells")
    is_rate = value == "miss_rate"
    tz = params.get("tz", "UTC")
    fig = go.Figure(
        go.Heatmap(
            z=grid.z(value),
            colorscale=HEAT_SCALE,
            zmin=0,
            zmax=1 if is_rate else None,
            colorbar={"title": {"text": HEATMAP_VALUES[value]}, **count_ticks(grid.z(value), is_rate)},
            **grid.heatmap_props(),
        )
    )
    fig.update_layout(xaxis=hour_axis(f"Hour of the offer ({tz})", 2), yaxis=DAY_AXIS)
    clauses = [
        f"cells: local weekday and hour of the offer, {tz}",
        "offers: every routing attempt is one offer",
        "missed: timed out (100 s) or passed to another agent",
        "miss rate: missed offers / offers in the cell; empty cells had no offers" if is_rate else "",
        *range_clause(params, "offers"),
        "all agents, (no agent) included",
    ]
    return finish(
        fig,
        title or grid.finding(value, "offers"),
        line(["all agents", *_range_words(params), f"local weekday and hour of the offer, {tz}"]),
        clauses,
        height=height,
        width=width,
        title_from="figure",
        plot_px=260,
    )


# --------------------------------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------------------------------


@figure_doc
def concurrency_figure(
    points: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    agent_id: Any = None,
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """Chats held over time, as a step line: one agent's (with Adobe's cap) or all agents' together.

    Parameters
    ----------
    points : pandas.DataFrame
        ``AgentPerformanceResult.concurrency(agent_id)``: ``at`` (UTC) and ``chats``, the number of chats
        held from ``at`` until the next row.
    params : dict
        ``AgentPerformanceResult.params``: ``tz`` (the time axis is in local time), ``cap``, ``start``,
        ``end``.
    agent_id : optional
        The agent the points are of; ``None`` when they are all agents' together. With an agent, a dashed
        line marks the per-agent cap (``params["cap"]``).
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` with ``line_shape="hv"``, x the local times of the change points.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import concurrency_figure
    >>> a = ca.agent_performance(ca.load_sample())
    >>> fig = concurrency_figure(a.concurrency("agent-1042"), a.params, agent_id="agent-1042")
    >>> fig.data[0].line.shape, fig.layout.shapes[0].y0
    ('hv', 10)
    """
    check_columns(points, _POINT_COLUMNS, "points")
    tz = params.get("tz", "UTC")
    at = pd.to_datetime(points["at"])
    local = (at.dt.tz_localize("UTC") if at.dt.tz is None else at).dt.tz_convert(tz).dt.tz_localize(None)
    chats = points["chats"].to_numpy(dtype=float)
    shown_id = escape(agent_id)
    who = "all agents together" if agent_id is None else f"one agent: {shown_id}"
    fig = go.Figure(
        go.Scatter(
            x=local.to_numpy(),
            y=chats,
            mode="lines",
            line={"shape": "hv", "color": COLORS[0], "width": 1.6},
            name=who,
            hovertemplate="%{x|%Y-%m-%d %H:%M:%S}<br>%{y:.0f} chats held from here<extra></extra>",
        )
    )
    cap = params.get("cap", AGENT_CHAT_CAP)
    top = float(np.nanmax(chats)) if len(chats) else 0.0
    top_chats = top
    if agent_id is not None:
        mark_level(fig, cap, f"cap {cap} chats")
        top = max(top, float(cap))
    fig.update_layout(
        xaxis={"title": {"text": f"Time ({tz})"}},
        yaxis={"title": {"text": "Chats held"}, "range": [0, top + 1], "tickformat": ",d"},
        showlegend=False,
        hovermode="closest",
    )
    clauses = [
        "chats held, counted from the accept to the chat's end (an unobserved end is taken as "
        f"{IDLE_TIMEOUT_SECONDS // 60} min after the conversation's last event, or the data end if sooner)",
        who,
        f"Adobe's cap: {cap} chats per agent" if agent_id is not None else "",
        *range_clause(params, "chats accepted"),
        f"time: {tz}",
    ]
    peak = f"{top_chats:.0f} chat{'s' if top_chats != 1 else ''} held at once at the peak"
    default = f"All agents together: {peak}" if agent_id is None else f"{shown_id}: {peak} (cap {cap})"
    if not len(chats):
        default = "No chat held" if agent_id is None else f"{shown_id}: no chat held"
    return finish(
        fig,
        title or default,
        line([who, *_range_words(params), f"time: {tz}"]),
        clauses,
        height=height,
        width=width,
        title_from="figure",
    )
