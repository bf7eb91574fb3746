"""Which rows an agent leaderboard draws, and in what order.

:func:`leaderboard_rows` is shared by :func:`chatanalytics.viz.leaderboard_figure`, which draws the
rows, and the agent widget, which lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..errors import InvalidParameterError
from ._definitions import METRICS, NO_AGENT, RATES
from ._tables import check_columns

__all__ = ["BASIS", "LOWER_FIRST", "MIN_N", "leaderboard_rows", "rank_clause"]

#: The column each metric rests on (shown as n), with its words; the rates' own denominators come from RATES.
BASIS: dict[str, tuple[str, str]] = {
    "acceptance_rate": (RATES["acceptance_rate"][1], "offers"),
    "meeting_rate": (RATES["meeting_rate"][1], "accepted chats"),
    "email_rate": (RATES["email_rate"][1], "accepted chats"),
    "accept_median_seconds": ("accepted_offers", "accepted offers"),
    "accept_p90_seconds": ("accepted_offers", "accepted offers"),
    "handle_median_seconds": ("chats_ended", "chats with an observed end"),
    "handle_total_seconds": ("chats_ended", "chats with an observed end"),
    "mean_concurrent_chats": ("busy_seconds", "time with at least one chat"),
    "at_cap_rate": ("busy_seconds", "time with at least one chat"),
}
#: Fewer is better: these leaderboards put the lowest value at the top.
LOWER_FIRST = frozenset({"missed", "accept_median_seconds", "accept_p90_seconds", "idle_timeouts"})
#: A rate resting on fewer observations (offers, or accepted chats) than this ranks after every rate that
#: rests on enough: a rate of 1 of 1 is no evidence of a better agent.
MIN_N = 5
# the "(no agent)" row (offers that named no agent) is an agent's row only for these offer counts
_NO_AGENT_METRICS = frozenset({"offers", "missed"})


def _period_value(value: Any, tz: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz).tz_localize(None)
    return ts


def _period_label(period: pd.Timestamp, freq: str | None) -> str:
    if freq == "month":
        return f"month {period.strftime('%Y-%m')}"
    if freq == "week":
        return f"week of {period.strftime('%Y-%m-%d')}"
    return f"day {period.strftime('%Y-%m-%d')}"


def rank_clause(params: Mapping[str, Any], metric: str, min_n: int = MIN_N) -> str:
    """The caption clause saying how a leaderboard of ``metric`` is ranked.

    Parameters
    ----------
    params : dict
        The result's ``params`` (``shrink``).
    metric : str
    min_n : int, default :data:`MIN_N`

    Returns
    -------
    str

    Examples
    --------
    >>> rank_clause({"shrink": False}, "acceptance_rate")
    'ranked by the lower bound of the 95% interval, highest first; fewer than 5 offers: ranked last'
    """
    if metric in RATES:
        key = "the shrunk rate" if params.get("shrink") else "the lower bound of the 95% interval"
        basis = BASIS.get(metric, (None, "observations"))[1]
        return f"ranked by {key}, highest first; fewer than {min_n} {basis}: ranked last"
    return "lowest first" if metric in LOWER_FIRST else "highest first"


def leaderboard_rows(
    table: pd.DataFrame,
    params: Mapping[str, Any],
    metric: str,
    period: Any = None,
    agents: Sequence[Any] | None = None,
    *,
    min_n: int = MIN_N,
) -> tuple[pd.DataFrame, list[str]]:
    """The rows a leaderboard draws, best first, and the caption clauses saying which rows these are.

    Parameters
    ----------
    table : pandas.DataFrame
        ``AgentPerformanceResult.frame()``.
    params : dict
        ``AgentPerformanceResult.params`` (``tz``, ``freq``).
    metric : str
        A key of the agent metrics. A rate ranks by its shrunk value when ``params["shrink"]`` is true,
        else by the lower bound of its 95% interval, and rates resting on fewer than ``min_n``
        observations rank after the others. Other metrics: lower values come first for the metrics in
        :data:`LOWER_FIRST`, higher values for the others. Ties go by the count the metric rests on
        (:data:`BASIS`), then by name.
    period : Timestamp or str, optional
        With periods in the table, the one to keep (its local start); the latest by default.
    agents : list of agent ids, optional
        Keep only these agents.
    min_n : int, default :data:`MIN_N`
        For rates: the fewest observations (the :data:`BASIS` count) a rate needs to rank among the
        others.

    Returns
    -------
    rows : pandas.DataFrame
        The table's rows drawn, best first. The ``(no agent)`` row is kept only for ``offers`` and
        ``missed``; rows without a value are left out.
    clauses : list of str
        The period drawn and what was left out, for the caption.

    Raises
    ------
    InvalidParameterError
        For an unknown ``metric``, ``period`` or agent id, or a table without the metric's columns.
    """
    if metric not in METRICS:
        raise InvalidParameterError("metric", metric, list(METRICS))
    check_columns(table, ["agent_id", "agent_name", metric], "table")
    is_rate = metric in RATES
    if is_rate:
        check_columns(table, [f"{metric}_low", f"{metric}_high"], "table")
    basis = BASIS.get(metric)
    if basis is not None:
        check_columns(table, [basis[0]], "table")
    tz = params.get("tz", "UTC")
    freq = params.get("freq")
    parts: list[str] = []
    rows = table
    if "period" in table.columns:
        periods = sorted(pd.to_datetime(table["period"]).dropna().unique())
        allowed = [pd.Timestamp(p).strftime("%Y-%m-%d") for p in periods]
        if period is None:
            chosen = pd.Timestamp(periods[-1]) if periods else None
            which = "the latest" if len(periods) > 1 else "the only"
            shown = f"{_period_label(chosen, freq)}, {which} of {len(periods)}" if chosen is not None else "-"
        else:
            try:
                chosen = _period_value(period, tz)
            except (TypeError, ValueError):
                raise InvalidParameterError("period", period, allowed) from None
            if chosen not in [pd.Timestamp(p) for p in periods]:
                raise InvalidParameterError("period", period, allowed)
            shown = _period_label(chosen, freq)
        rows = rows[pd.to_datetime(rows["period"]) == chosen] if chosen is not None else rows.iloc[:0]
        parts.append(f"period: {shown} ({tz})")
    else:
        if period is not None:
            raise InvalidParameterError("period", period, reason="the table has no periods (no freq)")
        parts.append("period: the whole range")
    if agents is not None:
        wanted = list(agents)
        known = table["agent_id"].dropna().unique().tolist()
        unknown = [a for a in wanted if a not in known]
        if unknown:
            raise InvalidParameterError("agents", unknown, sorted(known), reason="unknown agent ids")
        rows = rows[rows["agent_id"].isin(wanted)]
    left_out: list[str] = []
    if metric not in _NO_AGENT_METRICS and rows["agent_id"].isna().any():
        rows = rows[rows["agent_id"].notna()]
        left_out.append(f"{NO_AGENT} (offers that named no agent)")
    missing = rows[metric].isna()
    if missing.any():
        why = f"without {basis[1]}" if basis is not None else "without a value"
        n = int(missing.sum())
        left_out.append(f"{n} agent{'s' if n != 1 else ''} {why}")
        rows = rows[~missing]
    rows = rows.assign(_name=rows["agent_name"].astype("object").fillna(NO_AGENT).astype(str))
    if is_rate and basis is not None:
        key = metric if params.get("shrink") else f"{metric}_low"
        rows = rows.assign(_few=rows[basis[0]] < min_n, _key=rows[key])
        by, ascending = ["_few", "_key", basis[0], metric], [True, False, False, False]
    else:
        by = [metric, basis[0]] if basis is not None else [metric]
        ascending = [metric in LOWER_FIRST, False][: len(by)]
    rows = rows.sort_values([*by, "_name"], ascending=[*ascending, True], kind="stable")
    rows = rows.drop(columns=[c for c in ("_name", "_few", "_key") if c in rows.columns])
    rows = rows.reset_index(drop=True)
    if left_out:
        parts.append("not shown: " + ", ".join(left_out))
    return rows, parts
