"""Timeout figures: pure functions from the tables of a timeout result to plotly Figures.

Nothing here computes a metric: every number drawn is read from the table given (see the data contracts
of :class:`chatanalytics.TimeoutResult`); these functions only pick rows and format them. The one lookup
done here is the at-risk row under the time-to-accept curves: the number at risk at a time is read from
the table's ``at_risk`` column. Every figure carries its definition as its subtitle: the denominator,
the censoring rule, the time basis and time zone, and the slice of requests shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InvalidParameterError
from ._definitions import (
    ACCEPT_WINDOW_SECONDS,
    AGENT_CHAT_CAP,
    CAUSES,
    IDLE_TIMEOUT_SECONDS,
    TIMEOUT_CAUSES,
    TIMEOUT_CURVES,
    TIMEOUT_OUTCOMES,
    TIMEOUT_SERVICE_LEVEL,
)
from ._format import (
    escape,
    percent,
    period_text,
    range_clause,
    seconds_text,
    short_names,
    shorten,
    whole_percent,
)
from ._grid import DAY_AXIS, count_ticks, hour_axis, weekday_hour_grid
from ._layout import empty_note, error_bars, figure_doc, finish, level_ticks, line, spaced_ticks
from ._tables import check_columns, group_order, group_rows
from ._theme import ALERT, COLORS, GRID, HEAT_SCALE, INK, MISS_SCALE, REFERENCE_LINE, group_color, rgba

__all__ = [
    "AT_RISK_SECONDS",
    "ESTIMATES",
    "causes_figure",
    "curves_figure",
    "heatmap_figure",
    "outcomes_figure",
    "service_level_figure",
]

#: Times (seconds since the first offer) at which the at-risk row under the curves gives its numbers.
AT_RISK_SECONDS: tuple[int, ...] = (0, 20, 40, 60, 80, 100, 150, 200)
#: What :func:`curves_figure` can draw.
ESTIMATES: dict[str, str] = {
    "km": "share of requests accepted by a given wait (Kaplan-Meier), one curve per group",
    "cif": "cumulative incidence of accepted, missed and left (Aalen-Johansen), one group",
}

_REQUEST_OUTCOMES = ("accepted", "missed", "left", "open")
_IDLE = "idle_timeout"
_OUTCOME_LABELS = {
    "accepted": "accepted",
    "missed": "missed",
    "left": "visitor left",
    "open": "still open",
    _IDLE: "ended by idle timeout",
}
_OUTCOME_COLORS = {
    "accepted": COLORS[2],
    "missed": COLORS[7],
    "left": COLORS[1],
    "open": COLORS[9],
    _IDLE: COLORS[6],
}
# staffing: no agent could take the request; response: the offered agent could and did not
_CAUSE_KIND = {"no_agent": "staffing", "agent_at_cap": "staffing", "not_accepted": "response"}
_CAUSE_LABELS = {
    "no_agent": "no agent offered",
    "agent_at_cap": f"agent at the {AGENT_CHAT_CAP}-chat cap",
    "not_accepted": "agent had room, no accept",
}
_KIND_COLORS = {"staffing": COLORS[1], "response": COLORS[0]}
_OUTCOME_COLUMNS = list(TIMEOUT_OUTCOMES)
# the curves table's columns each estimate reads: the Kaplan-Meier share, or the competing outcomes
_KM_COLUMNS = [c for c in TIMEOUT_CURVES if c in ("group", "seconds", "at_risk") or c.startswith("accepted_")]
_CIF_COLUMNS = [c for c in TIMEOUT_CURVES if c not in ("censored",) and not c.startswith("accepted_")]
_SL_COLUMNS = list(TIMEOUT_SERVICE_LEVEL)
_CAUSE_COLUMNS = list(TIMEOUT_CAUSES)


# --------------------------------------------------------------------------------------------------
# Shared pieces: the scope clauses, layout, small formatters
# --------------------------------------------------------------------------------------------------


def _window(params: Mapping[str, Any]) -> int:
    return params.get("accept_window_seconds", ACCEPT_WINDOW_SECONDS)


def _missed_words(params: Mapping[str, Any]) -> str:
    return (
        f"missed: no agent accepted within Adobe's {_window(params)} s window "
        "(after Team routing's second agent when there is one)"
    )


def _where_part(params: Mapping[str, Any]) -> list[str]:
    where = params.get("where") or {}
    if not where:
        return []
    shown = []
    for col, value in where.items():
        if isinstance(value, (list, tuple, set)):
            shown.append(f"{col} in ({', '.join(escape(v) for v in value)})")
        else:
            shown.append(f"{col} = {escape(value)}")
    return ["slice: requests whose first offer has " + " and ".join(shown)]


def _scope(params: Mapping[str, Any]) -> list[str]:
    """Which requests are drawn: the ``where`` slice and the date range."""
    return [*_where_part(params), *range_clause(params, "requests made")]


def _finish(
    fig: go.Figure,
    title: str,
    params: Mapping[str, Any],
    parts: Sequence[str],
    size: tuple[int | None, int | None],
    *,
    group: str = "All",
    what: str = "",
    **options: Any,
) -> go.Figure:
    """Title, the subtitle line (:func:`_sub`, naming ``group`` unless it is All) and the definition."""
    counted = " ".join(w for w in (what, "live-chat requests") if w)
    if group != "All":
        counted += f" of {escape(shorten(group, 30))}"
    legend = bool(fig.layout.showlegend)
    return finish(
        fig,
        title,
        _sub(params, counted),
        parts,
        height=size[0],
        width=size[1],
        title_from="figure",
        legend_below=legend,
        **options,
    )


def _sub(params: Mapping[str, Any], what: str = "live-chat requests") -> str:
    """The subtitle line: what is counted, the slice, the period and the time zone."""
    where = params.get("where") or {}
    sliced = ", ".join(
        f"{col} in ({', '.join(escape(v) for v in value)})"
        if isinstance(value, (list, tuple, set))
        else f"{col} = {escape(value)}"
        for col, value in where.items()
    )
    return line(
        [
            what,
            sliced,
            period_text(params) if params.get("start") is not None or params.get("end") is not None else "",
            f"first offer time, {params.get('tz', 'UTC')}",
        ]
    )


def _groups_part(params: Mapping[str, Any]) -> str:
    by = params.get("by")
    if not by:
        return ""
    top = params.get("top")
    rest = f" (the top {top}, the rest as Other)" if top is not None else ""
    return f"groups: {by} of the request's first offer{rest}"


def _step(values: pd.Series) -> np.ndarray:
    """A curve column with the start of every curve, 0 at 0 s, put in front."""
    return np.concatenate([[0.0], values.to_numpy(dtype=float)])


def _band(
    x: np.ndarray, low: np.ndarray, high: np.ndarray, color: str, name: str, group: str
) -> list[go.Scatter]:
    """A 95% band: the lower bound, then the upper bound filled down to it, both stepped."""
    common = {
        "x": x,
        "mode": "lines",
        "line": {"shape": "hv", "width": 0, "color": color},
        "legendgroup": group,
        "showlegend": False,
        "hoverinfo": "skip",
    }
    return [
        go.Scatter(y=low, name=f"{name} 95% band (low)", **common),
        go.Scatter(y=high, name=f"{name} 95% band", fill="tonexty", fillcolor=rgba(color, 0.15), **common),
    ]


def _x_end(last_event: float) -> float:
    """The time axis ends a little after the later of the at-risk row's last time and the last event."""
    end = max(float(AT_RISK_SECONDS[-1]), last_event if np.isfinite(last_event) else 0.0)
    return end * 1.04


# --------------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------------


def _outcome_custom(rows: pd.DataFrame) -> np.ndarray:
    custom = np.empty((len(rows), 7), dtype=object)
    custom[:, 0] = [_OUTCOME_LABELS.get(o, o) for o in rows["outcome"].astype(str)]
    custom[:, 1] = [escape(g) for g in rows["group"].astype(str)]
    custom[:, 2] = [f"{int(v):,}" for v in rows["count"]]
    custom[:, 3] = [f"{int(v):,}" for v in rows["denominator"]]
    custom[:, 4] = rows["basis"].astype(str).to_numpy()
    custom[:, 5] = [percent(v) for v in rows["share"]]
    custom[:, 6] = [
        f"{percent(lo)}–{percent(hi)}" for lo, hi in zip(rows["share_low"], rows["share_high"], strict=True)
    ]
    return custom


_OUTCOME_HOVER = (
    "<b>%{customdata[0]}</b> (%{customdata[1]})<br>%{customdata[2]} of %{customdata[3]} %{customdata[4]}"
    "<br>share %{customdata[5]} (95% CI %{customdata[6]})<extra></extra>"
)


def _share_bars(rows: pd.DataFrame) -> dict[str, Any]:
    return error_bars(
        rows["share"].to_numpy(dtype=float),
        rows["share_low"].to_numpy(dtype=float),
        rows["share_high"].to_numpy(dtype=float),
    )


def _n_text(rows: pd.DataFrame) -> list[str]:
    return [f"{int(k):,} / {int(n):,}" for k, n in zip(rows["count"], rows["denominator"], strict=True)]


def _slice_words(slice: str, tz: str) -> tuple[str, str]:
    """The x-axis title of a slice and the words for one of its groups."""
    if slice == "hour":
        return f"Hour of the first offer ({tz})", "hour"
    if slice == "weekday":
        return f"Weekday of the first offer ({tz})", "weekday"
    if slice == "day":
        return f"Day of the first offer ({tz})", "day"
    return f"{slice} of the first offer", slice


@figure_doc
def outcomes_figure(
    outcomes: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    slice: str = "all",
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """What became of the live-chat requests: the share of each outcome, with 95% intervals.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        ``TimeoutResult.frame("outcomes")``: ``slice``, ``group``, ``outcome``, ``count``,
        ``denominator``, ``basis``, ``share``, ``share_low``, ``share_high``.
    params : dict
        ``TimeoutResult.params``: ``tz``, ``accept_window_seconds``, ``by``, ``top``, ``where``,
        ``start``, ``end`` go into the subtitle.
    slice : str, default "all"
        ``"all"``: one bar per outcome of all requests, and the share of accepted chats ended by the
        idle timeout as a separate, hatched bar (its denominator is accepted chats, not requests).
        ``"hour"``, ``"weekday"``, ``"day"`` or the ``by`` column: grouped bars of the four request
        outcomes per group, groups in the table's order.
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        ``"all"``: a ``Bar`` of the request outcomes (accepted, missed, left, open), a ``Bar`` of the
        idle timeout and a text ``Scatter`` with the share and ``count / denominator`` above each bar.
        Other slices: one ``Bar`` per request outcome, ``x`` the groups, ``text`` the
        ``count / denominator``. Error bars are the table's 95% Wilson bounds.

    Raises
    ------
    InvalidParameterError
        When ``slice`` is not one of the table's slices.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import outcomes_figure
    >>> t = ca.timeouts(ca.load_sample(), tz="America/New_York")
    >>> fig = outcomes_figure(t.frame("outcomes"), t.params)
    >>> [tr.type for tr in fig.data], list(fig.data[0].x)
    (['bar', 'bar', 'scatter'], ['accepted', 'missed', 'left', 'open'])
    """
    check_columns(outcomes, _OUTCOME_COLUMNS, "outcomes")
    allowed = list(dict.fromkeys(outcomes["slice"].astype(str)))
    if slice not in allowed:
        raise InvalidParameterError("slice", slice, allowed)
    tz = params.get("tz", "UTC")
    rows = outcomes[outcomes["slice"].astype(str) == slice]
    requests = rows[rows["basis"].astype(str) == "requests"]
    requests = requests[requests["outcome"].astype(str).isin(_REQUEST_OUTCOMES)]
    fig = go.Figure()
    parts: list[str] = []
    if slice == "all":
        chats = rows[rows["outcome"].astype(str) == _IDLE]
        n_requests = int(requests["denominator"].iloc[0]) if len(requests) else 0
        for sub, name in (
            (requests, f"share of requests (n = {n_requests:,})"),
            (
                chats,
                "share of accepted chats"
                + (f" (n = {int(chats['denominator'].iloc[0]):,})" if len(chats) else ""),
            ),
        ):
            outcome = sub["outcome"].astype(str).tolist()
            is_idle = sub is chats
            fig.add_trace(
                go.Bar(
                    x=outcome,
                    y=sub["share"].to_numpy(dtype=float),
                    name=name,
                    marker={
                        "color": [_OUTCOME_COLORS.get(o, COLORS[0]) for o in outcome],
                        "pattern": {"shape": "/" if is_idle else "", "fgcolor": "white", "solidity": 0.25},
                    },
                    text=[f"{percent(s)}<br>{n}" for s, n in zip(sub["share"], _n_text(sub), strict=True)],
                    textposition="none",  # shown by the text trace, above the error bars
                    customdata=_outcome_custom(sub),
                    error_y=_share_bars(sub),
                    hovertemplate=_OUTCOME_HOVER,
                )
            )
        both = pd.concat([requests, chats])
        fig.add_trace(
            go.Scatter(
                x=both["outcome"].astype(str).tolist(),
                y=both["share_high"].to_numpy(dtype=float),
                mode="text",
                text=[f"{percent(s)}<br>{n}" for s, n in zip(both["share"], _n_text(both), strict=True)],
                textposition="top center",
                textfont={"size": 12},
                name="share and n",
                showlegend=False,
                hoverinfo="skip",
                cliponaxis=False,
            )
        )
        labels = [
            _OUTCOME_LABELS.get(o, o) + ("<br>(of accepted chats)" if o == _IDLE else "")
            for o in both["outcome"].astype(str)
        ]
        if len(chats) and len(requests):
            fig.add_vline(x=len(requests) - 0.5, line={"dash": "dot", "color": "#BDBDBD", "width": 1})
        top = float(np.nanmax(both["share_high"].to_numpy(dtype=float))) if len(both) else 1.0
        fig.update_layout(
            xaxis={
                "title": {"text": ""},
                "type": "category",
                "tickmode": "array",
                "tickvals": both["outcome"].astype(str).tolist(),
                "ticktext": labels,
            },
            yaxis={"title": {"text": "Share"}, "tickformat": ".0%", "range": [0, min(1.2, top + 0.16)]},
            showlegend=True,
            barmode="overlay",
        )
        parts += [
            f"share of requests; denominator: all requests (n = {n_requests:,}), each counted once, "
            "at its first offer",
            f"{_OUTCOME_LABELS[_IDLE]}: share of accepted chats (not of requests) that ended by the "
            f"{IDLE_TIMEOUT_SECONDS // 60}-minute idle timeout",
        ]
        default_title = _outcomes_finding(requests, n_requests)
    else:
        axis_title, word = _slice_words(slice, tz)
        groups = group_order(requests)
        labelled = len(groups) <= 8
        cut = short_names(groups, 24)
        angle, bottom = level_ticks(list(cut.values()))
        for outcome in _REQUEST_OUTCOMES:
            sub = requests[requests["outcome"].astype(str) == outcome]
            fig.add_trace(
                go.Bar(
                    x=[escape(cut[g]) for g in sub["group"].astype(str)],
                    y=sub["share"].to_numpy(dtype=float),
                    name=_OUTCOME_LABELS[outcome],
                    marker={"color": _OUTCOME_COLORS[outcome]},
                    # up to 8 groups, each bar carries its count / denominator (above it, upright);
                    # more make bars too narrow for a label: the counts are in the hover
                    text=_n_text(sub) if labelled else None,
                    textposition="outside" if labelled else "none",
                    textangle=-90,
                    textfont={"size": 10},
                    constraintext="none",
                    cliponaxis=False,
                    customdata=_outcome_custom(sub),
                    error_y=_share_bars(sub),
                    hovertemplate=_OUTCOME_HOVER,
                )
            )
        fig.update_layout(
            barmode="group",
            xaxis={
                "title": {"text": axis_title, "standoff": 10},  # below upright labels, not among them
                "type": "category",
                "categoryorder": "array",
                "categoryarray": [escape(cut[g]) for g in groups],
                "tickangle": angle,
            },
            # room above a full bar for its upright count label
            yaxis={
                "title": {"text": "Share of requests"},
                "tickformat": ".0%",
                "range": [0, 1.3 if labelled else 1.05],
                "tickvals": [
                    0,
                    0.2,
                    0.4,
                    0.6,
                    0.8,
                    1.0,
                ],  # a share ends at 100%, the room above is for labels
            },
            showlegend=True,
        )
        parts += [
            f"share of requests in each {word}; denominator: the requests whose first offer falls in the "
            f"{word} (count / denominator "
            + ("on the bars and in the hover)" if labelled else "in the hover)"),
            _groups_part(params) if slice == params.get("by") else "",
        ]
        default_title = _slice_finding(requests, word)
    parts += [
        _missed_words(params),
        "left: the visitor left while waiting; open: no outcome before the end of the data",
        "bars: 95% Wilson intervals",
        *_scope(params),
        f"time basis: the request's first offer, {tz}",
    ]
    return _finish(
        fig, title or default_title, params, parts, (height, width), bottom=80 if slice == "all" else bottom
    )


def _outcomes_finding(requests: pd.DataFrame, n: int) -> str:
    """The shares of all requests accepted and missed, e.g. "72% of 98 requests accepted; 20% missed"."""
    share = dict(zip(requests["outcome"].astype(str), requests["share"].astype(float), strict=False))
    if not n:
        return "No live-chat request"
    return (
        f"{whole_percent(share.get('accepted', np.nan))} of {n:,} live-chat requests accepted; "
        f"{whole_percent(share.get('missed', np.nan))} missed"
    )


def _slice_finding(requests: pd.DataFrame, word: str) -> str:
    """The group with the highest share of missed requests."""
    missed = requests[requests["outcome"].astype(str) == "missed"].dropna(subset=["share"])
    if missed.empty:
        return f"Missed requests by {word}: none"
    row = missed.iloc[int(np.argmax(missed["share"].to_numpy(dtype=float)))]
    return (
        f"Most missed: {whole_percent(float(row['share']))} of requests in "
        f"{escape(shorten(row['group'], 28))} "
        f"({int(row['count']):,} of {int(row['denominator']):,}); by {word}"
    )


# --------------------------------------------------------------------------------------------------
# Waits: time to accept and the competing outcomes
# --------------------------------------------------------------------------------------------------


def _pick_groups(groups: str | Sequence[str] | None, present: list[str], estimate: str) -> list[str]:
    if groups is None:
        if estimate == "km":
            return present
        return ["All"] if "All" in present else present[:1]
    wanted = [groups] if isinstance(groups, str) else [str(g) for g in groups]
    unknown = [g for g in wanted if g not in present]
    if unknown:
        raise InvalidParameterError("groups", unknown if len(unknown) > 1 else unknown[0], present)
    if estimate == "cif" and len(wanted) != 1:
        raise InvalidParameterError(
            "groups", groups, present, reason='estimate="cif" draws the competing outcomes of one group'
        )
    return wanted


def _at_risk_numbers(sub: pd.DataFrame) -> list[int]:
    """At-risk at each of :data:`AT_RISK_SECONDS`: ``at_risk`` of the first row at or after it, else 0."""
    seconds = sub["seconds"].to_numpy(dtype=float)
    at_risk = sub["at_risk"].to_numpy()
    idx = np.searchsorted(seconds, np.asarray(AT_RISK_SECONDS, dtype=float), side="left")
    return [int(at_risk[i]) if i < len(seconds) else 0 for i in idx]


def _curve_hover(label: str) -> str:
    return (
        f"<b>{label}</b><br>within %{{x:,.1f}} s: %{{y:.1%}}<br>"
        "95% CI %{customdata[0]:.1%}–%{customdata[1]:.1%}<br>at risk: %{customdata[2]:,}<extra></extra>"
    )


def _curve_custom(sub: pd.DataFrame, column: str) -> np.ndarray:
    n0 = int(sub["at_risk"].iloc[0]) if len(sub) else 0
    custom = np.empty((len(sub) + 1, 3), dtype=object)
    custom[:, 0] = _step(sub[f"{column}_low"])
    custom[:, 1] = _step(sub[f"{column}_high"])
    custom[:, 2] = [n0, *(int(v) for v in sub["at_risk"])]
    return custom


def _add_curve(
    fig: go.Figure, sub: pd.DataFrame, column: str, color: str, name: str, legendgroup: str, label: str
) -> None:
    x = _step(sub["seconds"])
    for band in _band(x, _step(sub[f"{column}_low"]), _step(sub[f"{column}_high"]), color, name, legendgroup):
        fig.add_trace(band, row=1, col=1)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_step(sub[column]),
            mode="lines",
            line={"shape": "hv", "color": color, "width": 2},
            name=name,
            legendgroup=legendgroup,
            customdata=_curve_custom(sub, column),
            hovertemplate=_curve_hover(label),
        ),
        row=1,
        col=1,
    )


@figure_doc
def curves_figure(
    curves: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    estimate: str = "km",
    groups: str | Sequence[str] | None = None,
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """How long visitors wait: step curves over the seconds since the first offer, with an at-risk row.

    Parameters
    ----------
    curves : pandas.DataFrame
        ``TimeoutResult.frame("curves")``: per ``group`` and wait ``seconds`` (ascending), ``at_risk``,
        the event counts, ``accepted_share`` (1 - Kaplan-Meier survival of the time to accept) and the
        cumulative incidences ``cif_accepted``, ``cif_missed``, ``cif_left``, each with ``_low`` /
        ``_high``.
    params : dict
        ``TimeoutResult.params``: ``censoring`` (the censoring rule and time basis, in the subtitle),
        ``accept_window_seconds`` (the dashed line), ``by``, ``where``, ``start``, ``end``.
    estimate : {"km", "cif"}, default "km"
        ``"km"``: the share accepted by each wait, one curve per group. ``"cif"``: the cumulative
        incidence of each competing outcome (accepted, missed, left) of one group.
    groups : str or list of str, optional
        The groups drawn, in the table's order by default; for ``"cif"``, one group (``"All"`` by
        default).
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        Two rows. The top row has, per curve, a band (a lower-bound trace and an upper-bound trace
        filled down to it, ``fill="tonexty"``) and a ``line_shape="hv"`` line starting at (0, 0), then
        the table's rows; a dashed vertical line marks Adobe's accept window. The bottom row has one
        text ``Scatter`` per group: the number at risk at each of :data:`AT_RISK_SECONDS` (``at_risk``
        of the first row at or after that time, 0 past the last row).

    Raises
    ------
    InvalidParameterError
        For an unknown ``estimate`` or group, or several groups with ``"cif"``.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import curves_figure
    >>> t = ca.timeouts(ca.load_sample())
    >>> fig = curves_figure(t.frame("curves"), t.params)
    >>> line = fig.data[2]
    >>> line.line.shape, float(line.x[0]), float(line.y[0]), fig.layout.shapes[0].x0
    ('hv', 0.0, 0.0, 100)
    """
    if estimate not in ESTIMATES:
        raise InvalidParameterError("estimate", estimate, list(ESTIMATES))
    check_columns(curves, _KM_COLUMNS if estimate == "km" else _CIF_COLUMNS, "curves")
    present = group_order(curves)
    chosen = _pick_groups(groups, present, estimate)
    cut = short_names(chosen, 24)
    n_rows = len(chosen)
    plot_px, risk_px = 360, 34 + 22 * n_rows
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1 if n_rows < 4 else 0.07,
        row_heights=[plot_px / (plot_px + risk_px), risk_px / (plot_px + risk_px)],
    )
    last_event = 0.0
    risk_rows: list[tuple[str, str, list[int]]] = []
    for i, g in enumerate(chosen):
        sub = curves[curves["group"].astype(str) == g].sort_values("seconds", kind="stable")
        label = escape(g)
        short = escape(cut[g])
        color = group_color(i, g) if estimate == "km" else INK
        if estimate == "km":
            _add_curve(fig, sub, "accepted_share", color, short, label, f"{label}: accepted")
            events = sub["seconds"][sub["accepted"] > 0] if "accepted" in sub else sub["seconds"]
        else:
            for outcome in ("accepted", "missed", "left"):
                name = _OUTCOME_LABELS[outcome]
                _add_curve(
                    fig, sub, f"cif_{outcome}", _OUTCOME_COLORS[outcome], name, name, f"{label}: {name}"
                )
            events = sub["seconds"][(sub[["accepted", "missed", "left"]] > 0).any(axis=1)]
        if len(events):
            last_event = max(last_event, float(events.max()))
        risk_rows.append((short, color, _at_risk_numbers(sub)))
    for label, color, numbers in risk_rows:
        fig.add_trace(
            go.Scatter(
                x=list(AT_RISK_SECONDS),
                y=[label] * len(AT_RISK_SECONDS),
                mode="text",
                text=[f"{n:,}" for n in numbers],
                customdata=numbers,
                textfont={"color": color, "size": 11},
                name=f"at risk: {label}",
                showlegend=False,
                hovertemplate=f"<b>{label}</b><br>%{{customdata:,}} still waiting at %{{x}} s<extra></extra>",
                cliponaxis=False,
            ),
            row=2,
            col=1,
        )
    window = _window(params)
    fig.add_vline(
        x=window,
        line=REFERENCE_LINE,
        row=1,
        col=1,
        annotation={
            "text": f"accept window {window} s",
            "font": {"size": 11, "color": ALERT},
            "xanchor": "left",
            "yanchor": "top",
        },
        annotation_position="top right",
    )
    end = _x_end(last_event)
    is_km = estimate == "km"
    fig.update_layout(
        # a little room left of 0 s, for the at-risk numbers centred there
        xaxis={"range": [-0.03 * end, end], "showgrid": True, "gridcolor": GRID},
        xaxis2={
            "range": [-0.03 * end, end],
            "title": {"text": "Seconds since the request's first offer"},
            "tickmode": "array",
            "tickvals": list(AT_RISK_SECONDS),
        },
        yaxis={
            "title": {"text": "Share of requests accepted" if is_km else "Cumulative share of requests"},
            "tickformat": ".0%",
            "range": [0, 1.02],
        },
        yaxis2={
            "title": {"text": "At risk"},
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [r[0] for r in risk_rows],
            "autorange": "reversed",  # the first group on top, as in the legend
            "showgrid": False,
            "ticks": "",
            "showline": False,
            "fixedrange": True,
        },
        showlegend=not is_km or n_rows > 1,
        legend={"title": {"text": (params.get("by") or "") if is_km else escape(shorten(chosen[0], 24))}},
        hovermode="closest",
    )
    if is_km:
        parts = [
            "curve: share of requests accepted by each wait = 1 - Kaplan-Meier survival of the time "
            "to accept",
            f"censoring: {params.get('censoring', '')}",
            "band: 95% pointwise (Greenwood, log-log)",
        ]
        default_title = _km_finding(curves, chosen, window)
    else:
        parts = [
            f"group: {escape(chosen[0])}",
            "curves: cumulative incidence of each outcome (Aalen-Johansen, ties exact)",
            str(params.get("competing", "")),
            "band: 95% pointwise",
        ]
        default_title = _cif_finding(curves, chosen[0], window)
    parts += [
        f"dashed line: Adobe's {window} s accept window (Team routing's second agent can accept later)",
        "at risk: requests still waiting at that time (the table's at_risk at the first wait at or after it)",
        _groups_part(params) if is_km else "",
        *_scope(params),
    ]
    return _finish(fig, title or default_title, params, parts, (height, width), plot_px=plot_px + risk_px)


def _at(sub: pd.DataFrame, column: str, seconds: float) -> float:
    """A stepped curve's value at ``seconds``: its last row at or before it (0 before the first)."""
    rows = sub[sub["seconds"].astype(float) <= seconds]
    return float(rows[column].iloc[-1]) if len(rows) else 0.0


def _km_finding(curves: pd.DataFrame, chosen: list[str], window: int) -> str:
    """The first group's share accepted within the window, and the wait by which half were accepted."""
    g = chosen[0]
    sub = curves[curves["group"].astype(str) == g].sort_values("seconds", kind="stable")
    who = "" if len(chosen) == 1 else f" ({escape(shorten(g, 24))})"
    within = _at(sub, "accepted_share", window)
    half = sub[sub["accepted_share"].astype(float) >= 0.5]
    text = f"{whole_percent(within)} of requests accepted within the {window} s window{who}"
    if len(half):
        text += f"; half within {seconds_text(round(float(half['seconds'].iloc[0])))}"
    return text


def _cif_finding(curves: pd.DataFrame, group: str, window: int) -> str:
    sub = curves[curves["group"].astype(str) == group].sort_values("seconds", kind="stable")
    shares = [
        f"{whole_percent(_at(sub, f'cif_{o}', window))} {_OUTCOME_LABELS[o]}"
        for o in ("accepted", "missed", "left")
    ]
    return f"By {window} s: " + ", ".join(shares)


# --------------------------------------------------------------------------------------------------
# Service level
# --------------------------------------------------------------------------------------------------


@figure_doc
def service_level_figure(
    curves: pd.DataFrame,
    service_level: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    group: str = "All",
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """The service level P(accepted within T) of one group: its curve, and markers at the thresholds.

    Parameters
    ----------
    curves : pandas.DataFrame
        ``TimeoutResult.frame("curves")``: ``group``, ``seconds``, ``cif_accepted`` with ``_low`` /
        ``_high`` (the cumulative incidence of accept, the curve the service level is read from).
    service_level : pandas.DataFrame
        ``TimeoutResult.frame("service_level")``: ``group``, ``seconds`` (the thresholds),
        ``service_level`` with ``_low`` / ``_high``, ``answered_within``, ``requests``.
    params : dict
        ``TimeoutResult.params``: ``service_level_variant`` (in the subtitle), ``accept_window_seconds``,
        ``where``, ``start``, ``end``.
    group : str, default "All"
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        A band (two traces, the upper one ``fill="tonexty"``), the ``line_shape="hv"`` curve from (0, 0),
        and a ``markers+text`` ``Scatter`` at the thresholds labelled with the percentages, with 95%
        error bars; a dashed line marks Adobe's accept window.

    Raises
    ------
    InvalidParameterError
        When ``group`` is not in the tables.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import service_level_figure
    >>> t = ca.timeouts(ca.load_sample())
    >>> fig = service_level_figure(t.frame("curves"), t.frame("service_level"), t.params)
    >>> list(fig.data[-1].x)
    [10, 20, 30, 45, 60, 100]
    """
    check_columns(
        curves, ["group", "seconds", "cif_accepted", "cif_accepted_low", "cif_accepted_high"], "curves"
    )
    check_columns(service_level, _SL_COLUMNS, "service_level")
    levels = group_rows(service_level, group, "group").sort_values("seconds", kind="stable")
    sub = group_rows(curves, group, "group").sort_values("seconds", kind="stable")
    label = escape(group)
    color = COLORS[0]
    x = _step(sub["seconds"])
    fig = go.Figure(
        _band(x, _step(sub["cif_accepted_low"]), _step(sub["cif_accepted_high"]), color, label, label)
    )
    custom = np.empty((len(sub) + 1, 2), dtype=object)
    custom[:, 0] = _step(sub["cif_accepted_low"])
    custom[:, 1] = _step(sub["cif_accepted_high"])
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_step(sub["cif_accepted"]),
            mode="lines",
            line={"shape": "hv", "color": color, "width": 2},
            name="accepted within t",
            customdata=custom,
            hovertemplate=(
                f"<b>{label}</b><br>accepted within %{{x:,.1f}} s: %{{y:.1%}}<br>"
                "95% CI %{customdata[0]:.1%}–%{customdata[1]:.1%}<extra></extra>"
            ),
        )
    )
    y = levels["service_level"].to_numpy(dtype=float)
    marks = np.empty((len(levels), 4), dtype=object)
    marks[:, 0] = [percent(v) for v in levels["service_level_low"]]
    marks[:, 1] = [percent(v) for v in levels["service_level_high"]]
    marks[:, 2] = [f"{int(v):,}" for v in levels["answered_within"]]
    marks[:, 3] = [f"{int(v):,}" for v in levels["requests"]]
    fig.add_trace(
        go.Scatter(
            x=levels["seconds"].tolist(),
            y=y,
            mode="markers+text",
            marker={"color": color, "size": 9, "line": {"color": "white", "width": 1.5}},
            text=["" if np.isnan(v) else f"{v:.0%}" for v in y],
            textposition="top left",
            textfont={"size": 12, "color": INK},
            error_y=error_bars(
                y,
                levels["service_level_low"].to_numpy(dtype=float),
                levels["service_level_high"].to_numpy(dtype=float),
            ),
            name="service level at T",
            customdata=marks,
            hovertemplate=(
                f"<b>{label}</b>: service level at %{{x}} s %{{y:.1%}}<br>"
                "95% CI %{customdata[0]}–%{customdata[1]}<br>"
                "raw count: %{customdata[2]} of %{customdata[3]} requests accepted within %{x} s"
                "<extra></extra>"
            ),
            cliponaxis=False,
        )
    )
    window = _window(params)
    fig.add_vline(x=window, line=REFERENCE_LINE)
    accepted = sub["seconds"][sub["accepted"] > 0] if "accepted" in sub else sub["seconds"]
    thresholds = ", ".join(str(int(s)) for s in levels["seconds"])
    end = _x_end(float(accepted.max()) if len(accepted) else 0.0)
    fig.update_layout(
        xaxis={
            "title": {"text": "Seconds since the request's first offer"},
            "range": [0, end],
            "tickmode": "array",
            # the thresholds first, then the round times that leave room for their labels
            "tickvals": spaced_ticks(AT_RISK_SECONDS, [int(s) for s in levels["seconds"]], end),
            "tickangle": 0,
            "showgrid": True,
        },
        yaxis={
            "title": {"text": "Share of requests accepted within T"},
            "tickformat": ".0%",
            "range": [0, 1.05],
        },
        showlegend=True,
        hovermode="closest",
    )
    parts = [
        f"group: {label}",
        f"service level at T: {params.get('service_level_variant', '')}",
        f"markers: the service level at {thresholds} s with 95% intervals; the raw count is in the hover",
        "curve: cumulative incidence of accept with its 95% band",
        "time from the request's first offer",
        f"dashed line: Adobe's {window} s accept window",
        *_scope(params),
    ]
    return _finish(fig, title or _sl_finding(levels), params, parts, (height, width), group=group)


def _sl_finding(levels: pd.DataFrame) -> str:
    """The service level at the largest threshold and at the smallest."""
    shown = levels.dropna(subset=["service_level"])
    if shown.empty:
        return "Service level: no request"
    last, first = shown.iloc[-1], shown.iloc[0]
    text = (
        f"{whole_percent(float(last['service_level']))} of requests accepted within {int(last['seconds'])} s"
    )
    if len(shown) > 1:
        text += f"; {whole_percent(float(first['service_level']))} within {int(first['seconds'])} s"
    return text


# --------------------------------------------------------------------------------------------------
# Weekday by hour
# --------------------------------------------------------------------------------------------------


@figure_doc
def heatmap_figure(
    heatmap: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """The miss rate by local weekday and hour, beside the request volume of the same cells.

    Parameters
    ----------
    heatmap : pandas.DataFrame
        ``TimeoutResult.frame("heatmap")``: ``weekday`` (0 = Monday), ``weekday_name``, ``hour``,
        ``requests``, ``missed``, ``miss_rate``; all 168 cells.
    params : dict
        ``TimeoutResult.params``; ``tz`` is the time zone of the cells.
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        Two ``Heatmap`` traces side by side, each ``z`` of shape 7 x 24 (rows Monday, on top, to
        Sunday; columns hours 0 to 23): ``miss_rate`` on the left (empty where there were no requests)
        and ``requests`` on the right.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import heatmap_figure
    >>> t = ca.timeouts(ca.load_sample(), tz="America/New_York")
    >>> fig = heatmap_figure(t.frame("heatmap"), t.params)
    >>> [tr.type for tr in fig.data], len(fig.data[0].z), len(fig.data[0].z[0])
    (['heatmap', 'heatmap'], 7, 24)
    """
    grid = weekday_hour_grid(heatmap, "requests", "heatmap")
    tz = params.get("tz", "UTC")
    spacing = 0.12
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=spacing,
        subplot_titles=["Miss rate (missed / requests)", "Requests"],
    )
    left_end = (1 - spacing) / 2
    common = grid.heatmap_props()
    fig.add_trace(
        go.Heatmap(
            z=grid.z("miss_rate"),
            colorscale=MISS_SCALE,
            zmin=0,
            zmax=1,
            colorbar={
                "tickformat": ".0%",
                "x": left_end + 0.005,
                "thickness": 10,
            },
            name="miss rate",
            **common,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            z=grid.z("requests"),
            colorscale=HEAT_SCALE,
            zmin=0,
            colorbar={**count_ticks(grid.z("requests")), "x": 1.005, "thickness": 10},
            name="requests",
            **common,
        ),
        row=1,
        col=2,
    )
    hours = hour_axis(f"Hour of the first offer ({tz})", 3)
    fig.update_layout(
        xaxis=hours,
        xaxis2=hours,
        yaxis=DAY_AXIS,
        yaxis2={"autorange": "reversed", "showgrid": False},
    )
    parts = [
        f"cells: local weekday and hour of the request's first offer, {tz}",
        "miss rate = missed / requests in the cell; empty cells had no requests",
        _missed_words(params),
        "requests: live-chat requests, each counted once",
        "all groups together",
        *_scope(params),
    ]
    return _finish(
        fig, title or grid.finding("miss_rate", "requests"), params, parts, (height, width), plot_px=260
    )


# --------------------------------------------------------------------------------------------------
# Causes
# --------------------------------------------------------------------------------------------------


@figure_doc
def causes_figure(
    causes: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    group: str = "All",
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """Why requests were missed, as the data show it: missed requests of one group by cause.

    Parameters
    ----------
    causes : pandas.DataFrame
        ``TimeoutResult.frame("causes")``: ``group``, ``cause`` (see
        :data:`chatanalytics.analysis.timeouts.CAUSES`), ``missed``, ``share`` of the group's missed
        requests.
    params : dict
        ``TimeoutResult.params``; the slice and date range go into the subtitle.
    group : str, default "All"
    {figure_options}

    Returns
    -------
    plotly.graph_objects.Figure
        One horizontal ``Bar``: ``x`` the missed requests, ``y`` the causes in the table's order (first
        on top), coloured by staffing (no agent could take the request) or response (the offered agent
        could and did not); each cause's description is in the hover.

    Raises
    ------
    InvalidParameterError
        When ``group`` is not in the table.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.viz import causes_figure
    >>> t = ca.timeouts(ca.load_sample())
    >>> fig = causes_figure(t.frame("causes"), t.params)
    >>> list(fig.data[0].y)
    ['no_agent', 'agent_at_cap', 'not_accepted']
    """
    check_columns(causes, _CAUSE_COLUMNS, "causes")
    rows = group_rows(causes, group, "group")
    cause = rows["cause"].astype(str).tolist()
    missed = rows["missed"].to_numpy()
    total = int(missed.sum())
    kinds = [_CAUSE_KIND.get(c, "unknown") for c in cause]
    custom = np.empty((len(rows), 4), dtype=object)
    custom[:, 0] = [escape(CAUSES.get(c, c)) for c in cause]
    custom[:, 1] = kinds
    custom[:, 2] = [percent(v) for v in rows["share"]]
    custom[:, 3] = f"{total:,}"
    fig = go.Figure(
        go.Bar(
            x=missed,
            y=cause,
            orientation="h",
            name="missed requests",
            marker={"color": [_KIND_COLORS.get(k, COLORS[-1]) for k in kinds]},
            text=[
                f"{int(m):,}" + ("" if pd.isna(s) else f" ({s:.0%})")
                for m, s in zip(missed, rows["share"], strict=True)
            ],
            textposition="outside",
            cliponaxis=False,
            customdata=custom,
            hovertemplate=(
                "<b>%{y}</b> (%{customdata[1]})<br>%{customdata[0]}<br>"
                "%{x:,} of %{customdata[3]} missed requests (%{customdata[2]})<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        xaxis={
            "title": {"text": "Missed requests"},
            "tickformat": ",d",
            "rangemode": "tozero",
            "range": [0, max(total, 1) * 1.15] if total else [0, 1],
        },
        yaxis={
            "title": {"text": ""},
            "type": "category",
            "autorange": "reversed",
            "tickmode": "array",
            "tickvals": cause,
            "ticktext": [f"{_CAUSE_LABELS.get(c, c)}<br>({k})" for c, k in zip(cause, kinds, strict=True)],
            "showgrid": False,
        },
        showlegend=False,
        annotations=[] if total else empty_note("no missed requests"),
    )
    parts = [
        f"missed requests of {escape(group)} (n = {total:,}) by cause; {_missed_words(params)}",
        "staffing: no agent was offered the request (none available) or the offered agent already held "
        f"{AGENT_CHAT_CAP} chats; response: the offered agent had room and did not accept",
        "agent load rebuilt from accepted chats, from the accept to the chat's end",
        "the data cannot show agents' online status (no agent offered cannot tell offline from at the cap), "
        "chats in other tools, or whether an agent who was never offered the request was free",
        *_scope(params),
    ]
    top_cause = int(np.argmax(missed)) if total else -1
    default = (
        f"Most missed requests: {_CAUSE_LABELS.get(cause[top_cause], cause[top_cause])} "
        f"({int(missed[top_cause]):,} of {total:,}, {kinds[top_cause]})"
        if total
        else "No missed requests"
    )
    return _finish(
        fig, title or default, params, parts, (height, width), group=group, what="missed", plot_px=200
    )
