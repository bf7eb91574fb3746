"""Live-chat agent performance: offers, accepts, misses, speed, handle time, load and outcomes per agent."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .. import columns
from ..columns import METRICS, NO_AGENT, RATES
from ..errors import EmptyDataError, InvalidParameterError
from ._engine import timestamp
from ._grid import weekday_hour
from ._requests import (
    AGENT_CHAT_CAP,
    IDLE_TIMEOUT_TERM,
    OFFER_OUTCOMES,
    REQUEST_TERMS,
    Requests,
    concurrency_points,
    rebuild_requests,
)
from ._result import FigureKind, Result, StoredTable, TableView
from ._stats import beta_binomial_prior, wilson

__all__ = ["FREQS", "METRICS", "AgentPerformanceResult", "agent_performance"]

_T = "event_time_utc"
#: Period lengths: calendar day, week starting Monday, calendar month (in the result's time zone).
FREQS: dict[str, str] = {"day": "D", "week": "W-SUN", "month": "M"}
NO_TEAM = "(no team)"
ALL = "All"
_COUNTS = [
    "offers",
    "accepted_offers",
    "missed",
    "left",
    "open",
    "accepted",
    "chats_ended",
    "idle_timeouts",
    "meetings_booked",
    "meetings_in_chats",
    "chats_with_meeting",
    "chats_with_email",
]


class AgentPerformanceResult(Result):
    """Per-agent live-chat performance (and per period with ``freq``).

    ``frame()`` has one row per agent (and period); ``frame("team")`` the same columns per team:

    ==========================  ==========================================================================
    ``period``                  local start of the period (only with ``freq``); offers count in the
                                period of the offer, chats in the period of their accept
    ``agent_id``, ``agent_name``  the agent and the latest name recorded for the id; offers that named no
                                agent (none available) are the row ``(no agent)`` with a null id
    ``team``                    from the ``teams`` mapping (only with one); ``frame("team")`` has the teams,
                                ``All`` for every agent without a mapping, and ``(no agent)``
    ``offers``                  requests offered to the agent; a Team-routing retry is a second offer
    ``accepted_offers``         offers the agent accepted
    ``acceptance_rate``         ``accepted_offers / offers``, with ``_low`` / ``_high`` 95% Wilson bounds
    ``missed``                  offers that timed out (100 s) or passed to another agent unaccepted
    ``left``, ``open``          offers during which the visitor left; offers still open at the data end
    ``accepted``                chats the agent accepted (``LIVE_CHAT_INITIATED`` with their id)
    ``accept_median_seconds``   median time from offer to accept over accepted offers; also
                                ``accept_p90_seconds`` (linear interpolation between order statistics)
    ``chats_ended``             accepted chats whose end was recorded (ended, idle timeout or closed)
    ``handle_median_seconds``   median accept-to-end time of those chats; ``handle_total_seconds`` their
                                sum. A chat ended by the idle timeout ends at the timeout event, 10
                                minutes after its last activity
    ``idle_timeouts``           accepted chats ended by the 10-minute idle timeout
    ``peak_concurrent_chats``   most accepted chats held at one instant (Adobe's cap is 10)
    ``mean_concurrent_chats``   time-weighted mean chats held while holding at least one
    ``busy_seconds``            seconds with at least one chat
    ``at_cap_rate``             share of ``busy_seconds`` at the cap of 10 chats
    ``meetings_booked``         ``MEETING_BOOKED`` events naming the agent, in a chat or not (Adobe's
                                Meeting Performance count)
    ``meetings_in_chats``       meetings booked during the agent's accepted chats
    ``chats_with_meeting``      accepted chats with at least one meeting; ``meeting_rate`` =
                                ``chats_with_meeting / accepted`` with ``_low`` / ``_high``
    ``chats_with_email``        accepted chats in which an email was captured; ``email_rate`` =
                                ``chats_with_email / accepted`` with ``_low`` / ``_high``
    ==========================  ==========================================================================

    With ``shrink=True`` each ``*_rate`` is the empirical-Bayes estimate (the agent's counts plus a
    beta prior fitted to all agents, so agents with few observations are pulled toward the team rate),
    its bounds are Wilson bounds on those pooled counts, and the raw rate is kept as
    ``observed_<rate>``. A rate rests on the count in its denominator column (``offers`` or
    ``accepted``). Every metric here is derived from the callback events; Adobe documents none of them
    except meetings per agent.

    The other tables (columns in :mod:`chatanalytics.columns`): ``"offers"`` (one row per offer counted),
    ``"requests"`` (every rebuilt request), ``"points"`` (chats held per agent over time),
    ``"meetings"`` and ``"anomalies"``.
    """

    NAME: ClassVar[str] = "agents"
    TITLE: ClassVar[str] = "Live-chat agent performance"
    TABLES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "agents": columns.AGENTS,
        "team": columns.AGENT_TEAMS,
        "offers": columns.AGENT_OFFERS,
        "requests": columns.REQUESTS,
        "points": columns.CONCURRENCY_POINTS,
        "meetings": columns.AGENT_MEETINGS,
        "anomalies": columns.ANOMALIES,
    }
    DERIVED: ClassVar[frozenset[str]] = frozenset({"team"})
    FIGURES: ClassVar[Mapping[str, FigureKind]] = {
        "leaderboard": FigureKind(
            "leaderboard_figure",
            ("agents",),
            caption="Acceptance rate per agent, offers to the agent as the denominator, with 95% Wilson "
            "intervals; a Team-routing retry is a second offer.",
        ),
        "accept_time": FigureKind(
            "accept_time_figure",
            prepare="_accept_time_input",
            caption="Time from each offer to the agent's accept, accepted offers only; Adobe's accept "
            "window is 100 s.",
        ),
        "heatmap": FigureKind(
            "hour_weekday_figure",
            prepare="_heatmap_input",
            caption="Offers and missed offers by local weekday and hour of the offer.",
        ),
        "concurrency": FigureKind(
            "concurrency_figure",
            prepare="_concurrency_input",
            caption="Accepted chats held at once, by one agent or all together.",
            report=False,
        ),
    }
    CSV: ClassVar[Mapping[str, str]] = {"agents": "agents"}
    WIDGET: ClassVar[str | None] = "AgentWidget"
    DEFINITIONS: ClassVar[tuple[tuple[str, str], ...]] = (
        *REQUEST_TERMS,
        ("Acceptance rate", "Offers the agent accepted / offers to the agent."),
        (
            "Handle time",
            "Accept to the chat's end, chats with an observed end; a chat ended by the idle timeout ends "
            "at the timeout event.",
        ),
        IDLE_TIMEOUT_TERM,
        (
            "Concurrency",
            f"Accepted chats held at one instant, accept to release; Adobe's cap is {AGENT_CHAT_CAP}.",
        ),
        (
            "Shrunk rates",
            "With shrink=True a rate is the agent's counts plus a beta prior fitted to all agents, so "
            "agents with few observations are pulled toward the team rate.",
        ),
        ("95% interval", "Wilson score interval for rates."),
    )

    # ------------------------------------------------------------------ tables
    table = StoredTable("agents", "The per-agent table as stored (read only; :meth:`frame` gives a copy).")
    offers = StoredTable(
        "offers", 'The offers counted, as stored (read only; ``frame("offers")`` gives a copy).'
    )
    points = StoredTable("points", "Concurrency change points per agent, as stored (read only).")

    def frame(self, name: str | None = None, *, level: str | None = None) -> pd.DataFrame:
        """One table, as a copy: ``"agents"`` (default), ``"team"``, ``"offers"``, ``"requests"``,
        ``"points"``, ``"meetings"`` or ``"anomalies"``; ``"agent"`` and ``level=`` are accepted for
        the per-agent and per-team tables.
        """
        if level is not None:
            warnings.warn(
                f"frame(level={level!r}) is deprecated: use frame({level!r})", FutureWarning, stacklevel=2
            )
            name = level
        if name == "agent":
            name = "agents"
        return super().frame(name)

    def _derive_team(self) -> pd.DataFrame:
        chats, meetings, spans = _chat_parts(
            self.data["requests"], self.data["meetings"], self.data["points"], self.params
        )
        keys = [*(["period"] if self.params["freq"] else []), "team"]
        return _aggregate(self.data["offers"], chats, meetings, spans, keys, self.params["shrink"])

    @property
    def parts(self) -> dict[str, pd.DataFrame]:
        """Deprecated: the offers, chats, meetings and load spans behind the team roll-up."""
        warnings.warn(
            'result.parts is deprecated: use result.frame("offers"), frame("requests"), frame("meetings") '
            'and frame("points")',
            FutureWarning,
            stacklevel=2,
        )
        chats, meetings, spans = _chat_parts(
            self.data["requests"], self.data["meetings"], self.data["points"], self.params
        )
        return {"offers": self.frame("offers"), "chats": chats, "meetings": meetings, "spans": spans}

    @property
    def reconstruction(self) -> Requests:
        """Deprecated: the rebuilt requests; use ``frame("requests")`` and :attr:`anomalies`."""
        warnings.warn(
            'result.reconstruction is deprecated: use result.frame("requests"), frame("offers") and '
            "result.anomalies",
            FutureWarning,
            stacklevel=2,
        )
        offers = self.frame("offers")
        return Requests(
            requests=self.frame("requests"),
            offers=offers[[c for c in offers.columns if c not in ("agent_name", "team", "period")]],
            anomalies=self.frame("anomalies"),
            data_end=self.params["data_end"],
            meetings=self.frame("meetings"),
        )

    @property
    def anomalies(self) -> pd.DataFrame:
        """Sequences that break the live-chat rules, counted by kind (see the request rules)."""
        return self.frame("anomalies")

    def requests(self, agent_id: Any = None) -> pd.DataFrame:
        """The offers behind the table with their request's outcome: all, those made to one agent, or
        (``"(no agent)"``) those that named no agent.

        Columns: ``offered_at``, ``agent_id``, ``agent_name``, ``offer`` (1 = first routing attempt),
        ``outcome`` of the offer, ``accept_seconds``, the request's ``request_outcome``,
        ``handle_seconds``, ``chat_end``, ``emails_in_chat``, ``meetings_in_chat``, and the keys
        ``session_id``, ``conversation_id``, ``request``. Sorted by time.
        """
        o = self.offers
        if agent_id == NO_AGENT:
            o = o[o["agent_id"].isna()]
        elif agent_id is not None:
            known = sorted(set(self.table["agent_id"].dropna()) | set(o["agent_id"].dropna()))
            if agent_id not in known:
                raise InvalidParameterError("agent_id", agent_id, [*known, NO_AGENT])
            o = o[o["agent_id"] == agent_id]
        keys = ["session_id", "conversation_id", "request"]
        req = self.data["requests"][
            [*keys, "outcome", "handle_seconds", "chat_end", "emails_in_chat", "meetings_in_chat"]
        ].rename(columns={"outcome": "request_outcome"})
        out = o.merge(req, on=keys, how="left", validate="many_to_one")
        cols = [
            "offered_at",
            "agent_id",
            "agent_name",
            "offer",
            "outcome",
            "accept_seconds",
            "request_outcome",
            "handle_seconds",
            "chat_end",
            "emails_in_chat",
            "meetings_in_chat",
            *keys,
        ]
        return out[cols].sort_values(["offered_at", *keys, "offer"], kind="stable").reset_index(drop=True)

    def accept_times(self) -> pd.DataFrame:
        """Time from offer to accept for every accepted offer: ``agent_id``, ``agent_name``,
        ``accept_seconds`` (the data of the box and violin plots).
        """
        o = self.offers
        o = o[o["accept_seconds"].notna()]
        return o[["agent_id", "agent_name", "accept_seconds"]].reset_index(drop=True)

    def hour_weekday(self) -> pd.DataFrame:
        """Offers and missed offers by local weekday and hour of the offer (in the result's ``tz``).

        Columns ``weekday`` (0 = Monday), ``weekday_name``, ``hour``, ``offers``, ``missed`` and
        ``miss_rate`` (``missed / offers``); all 168 cells, empty ones with 0 offers.
        """
        local = self.offers["offered_at"].dt.tz_convert(self.params["tz"])
        missed = (self.offers["outcome"] == "missed").to_numpy()
        return weekday_hour(local.dt.day_of_week.to_numpy(), local.dt.hour.to_numpy(), missed, total="offers")

    def concurrency(self, agent_id: Any = None) -> pd.DataFrame:
        """Chats held over time: one agent's (``agent_id``) or all agents' together (``None``).

        Columns ``at`` and ``chats``: the number of accepted chats held from ``at`` until the next row.
        """
        req = self.data["requests"]
        if agent_id is None:
            pts = concurrency_points(req, by_agent=False)
        else:
            known = self.points["agent_id"].dropna().unique().tolist()
            if agent_id not in known:
                raise InvalidParameterError("agent_id", agent_id, sorted(known))
            pts = self.points[self.points["agent_id"] == agent_id]
        start, end = self.params["start"], self.params["end"]
        if start is not None or end is not None:
            req = req[_in_range(req["accepted_at"], start, end)]
            pts = concurrency_points(req, by_agent=agent_id is not None)
            if agent_id is not None:
                pts = pts[pts["agent_id"] == agent_id]
        pts = pts[pts["seconds"].fillna(1) > 0]  # drop zero-length spans at shared instants
        return pts[["at", "chats"]].reset_index(drop=True)

    # ------------------------------------------------------------------ figures' inputs
    def _accept_time_input(self, style: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (self.accept_times(),), style

    def _heatmap_input(self, style: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (self.hour_weekday(),), style

    def _concurrency_input(self, style: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        agent_id = style.pop("agent_id", None)
        return (self.concurrency(agent_id),), {**style, "agent_id": agent_id}

    def figure(self, kind: str | None = "leaderboard", **style: Any) -> Any:
        """A plotly Figure: ``"leaderboard"`` (``metric=``), ``"accept_time"`` (``style="box"`` or
        ``"violin"``), ``"heatmap"`` (``value="offers"``, ``"missed"`` or ``"miss_rate"``) or
        ``"concurrency"`` (``agent_id=`` one agent, default all). Style arguments change the drawing,
        never the numbers; every caption names the metric's denominator.
        """
        return super().figure(kind, **style)

    # ------------------------------------------------------------------ headline
    def summary(self) -> dict[str, Any]:
        """Headline numbers: agents, offers, acceptance rate with its interval, missed offers, median time
        to accept, and the highest concurrency reached.
        """
        o = self.offers
        n = len(o)
        k = int((o["outcome"] == "accepted").sum())
        lo, hi = wilson(np.array([k]), np.array([n]))
        acc = o["accept_seconds"].dropna()
        peak = self.table["peak_concurrent_chats"].max() if len(self.table) else 0
        return {
            "agents": int(o["agent_id"].dropna().nunique()),
            "offers": n,
            "acceptance_rate": k / n if n else float("nan"),
            "acceptance_rate_low": float(lo[0]),
            "acceptance_rate_high": float(hi[0]),
            "missed": int((o["outcome"] == "missed").sum()),
            "accept_median_seconds": float(acc.median()) if len(acc) else float("nan"),
            "peak_concurrent_chats": int(peak) if pd.notna(peak) else 0,
        }

    def headline(self) -> str:
        """Agents, offers, the acceptance rate with its interval, misses, speed and peak load in one line;
        the rates name their denominator (offers).
        """
        s = self.summary()
        return (
            f"Agent performance: {s['agents']} agents; of {s['offers']:,} offers, "
            f"{s['acceptance_rate']:.1%} accepted (95% CI {s['acceptance_rate_low']:.1%}-"
            f"{s['acceptance_rate_high']:.1%}) and {s['missed']:,} missed; median "
            f"{s['accept_median_seconds']:.0f} s to accept, peak {s['peak_concurrent_chats']} chats at once"
        )

    def report_tables(self, tz: str = "UTC") -> list[TableView]:
        """The agents table and, when there are any, the sequences that break the live-chat rules."""
        views = [
            TableView(
                "Agents",
                self.frame(),
                "One row per agent; acceptance rate = accepted offers / offers, meeting and email rates per "
                "accepted chat, with 95% Wilson bounds; times in seconds.",
            )
        ]
        anomalies = self.anomalies
        anomalies = anomalies[anomalies["count"] > 0]
        if len(anomalies):
            views.append(
                TableView("Sequences that break the live-chat rules", anomalies, "Counted, never dropped.")
            )
        return views

    def widget_arguments(self) -> dict[str, Any]:
        """The arguments of :func:`agent_performance` (and ``AgentWidget``) that give this result again."""
        p = self.params
        return {k: p[k] for k in ("freq", "tz", "teams", "shrink", "start", "end")}

    def _preview(self) -> pd.DataFrame:
        cols = [
            "period",
            "agent_id",
            "agent_name",
            "offers",
            "accepted",
            "acceptance_rate",
            "missed",
            "accept_median_seconds",
        ]
        return self.table[[c for c in cols if c in self.table.columns]]


def agent_performance(
    events: Any,
    *,
    freq: str | None = None,
    tz: str = "UTC",
    teams: dict[str, str] | None = None,
    shrink: bool = True,
    start: Any = None,
    end: Any = None,
) -> AgentPerformanceResult:
    """How each live-chat agent handles the requests offered to them.

    Requests are rebuilt from the callback events (the rules are in ``chatanalytics.analysis._requests``
    and in :class:`AgentPerformanceResult`): each ``LIVE_CHAT_REQUESTED`` is an offer to the agent it
    names, a Team-routing retry is a second offer in the same request, and the next lifecycle event says
    whether the offer was accepted, missed (timed out or passed on), or the visitor left.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    freq : {"day", "week", "month"}, optional
        Also split by period: offers by the time of the offer, chats by the time of the accept, load by
        the time it was carried, in ``tz``.
    tz : str, default "UTC"
        Time zone of the periods and of :meth:`AgentPerformanceResult.hour_weekday`.
    teams : dict, optional
        ``agent_id -> team name``; agents not in it are ``(no team)``. ``frame("team")`` rolls up by it.
    shrink : bool, default True
        Pull small-count agents' rates toward the team rate (empirical Bayes, beta-binomial prior fitted
        by the method of moments across agents), so that an agent with one accepted offer does not top
        the leaderboard; the raw rates stay as ``observed_<rate>``. ``AgentWidget`` uses the same
        default. With ``False`` the rates are the raw shares, and leaderboards rank by the lower bound
        of their 95% interval.
    start, end : date or time, optional
        Count offers, chats and meetings in ``[start, end)`` (UTC unless an offset is given); requests
        are rebuilt from all events, so a chat accepted just before ``start`` still holds its agent.

    Returns
    -------
    AgentPerformanceResult

    Examples
    --------
    >>> import chatanalytics as ca
    >>> a = ca.agent_performance(ca.load_sample())
    >>> t = a.frame()
    >>> int(t["offers"].sum()) == a.summary()["offers"]
    True
    >>> bool(((t["acceptance_rate"] >= 0) & (t["acceptance_rate"] <= 1)).all())
    True
    """
    if freq is not None and freq not in FREQS:
        raise InvalidParameterError("freq", freq, [*FREQS, None])
    try:
        pd.Timestamp("2026-01-01", tz=tz)
    except Exception:
        raise InvalidParameterError("tz", tz, reason="not a time zone") from None
    if teams is not None and not isinstance(teams, dict):
        raise InvalidParameterError("teams", type(teams).__name__, reason="a dict of agent_id -> team name")
    t_start, t_end = timestamp("start", start), timestamp("end", end)
    if t_start is not None and t_end is not None and t_end <= t_start:
        raise InvalidParameterError("end", end, reason=f"must be after start ({start})")

    rec = rebuild_requests(events)
    if len(rec.requests) == 0:
        raise EmptyDataError(
            "no live-chat requests (CONVERSATION_LIVE_CHAT_REQUESTED) with a session and conversation id: "
            "agent performance needs live chat"
        )
    names = rec.agent_names
    params = {
        "freq": freq,
        "tz": tz,
        "teams": None if teams is None else dict(teams),
        "shrink": shrink,
        "start": t_start,
        "end": t_end,
        "cap": AGENT_CHAT_CAP,
        "data_end": rec.data_end,
    }
    offers = rec.offers.copy()
    offers["agent_name"] = offers["agent_id"].map(names).astype("str")
    offers["team"] = _team_of(offers["agent_id"], teams)
    offers = offers[_in_range(offers["offered_at"], t_start, t_end)].reset_index(drop=True)
    if freq is not None:
        offers["period"] = _periods(offers["offered_at"], freq, tz)
    boundaries = _boundaries(rec.requests, freq, tz, t_start, t_end)
    points = concurrency_points(rec.requests, boundaries)
    meetings_all = rec.meetings if rec.meetings is not None else pd.DataFrame(columns=["at", "agent_id"])
    chats, meetings, spans = _chat_parts(rec.requests, meetings_all, points, params)

    per = ["period"] if freq is not None else []
    table = _aggregate(offers, chats, meetings, spans, [*per, "agent_id", "team"], shrink)
    table.insert(len(per) + 1, "agent_name", table["agent_id"].map(names).astype("str").fillna(NO_AGENT))
    if teams is None:
        table = table.drop(columns="team")

    tables = {
        "agents": table,
        "offers": offers,
        "requests": rec.requests,
        "points": points,
        "meetings": meetings_all,
        "anomalies": rec.anomalies,
    }
    return AgentPerformanceResult._make(tables, params, events)


# --------------------------------------------------------------------------- helpers


def _team_of(ids: pd.Series, teams: dict[str, str] | None) -> pd.Series:
    named = ids.map(teams).fillna(NO_TEAM) if teams is not None else pd.Series(ALL, index=ids.index)
    return named.where(ids.notna(), NO_AGENT).astype("str")


def _chat_parts(
    requests: pd.DataFrame, meetings: pd.DataFrame, points: pd.DataFrame, params: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The accepted chats, meetings and load spans counted (in ``[start, end)``), with team and period."""
    teams, freq, tz = params["teams"], params["freq"], params["tz"]
    start, end = params["start"], params["end"]
    chats = requests[requests["outcome"] == "accepted"].copy()
    chats["team"] = _team_of(chats["agent_id"], teams)
    meetings = meetings.copy()
    meetings["team"] = _team_of(meetings["agent_id"], teams)
    chats = chats[_in_range(chats["accepted_at"].fillna(chats["outcome_at"]), start, end)]
    meetings = meetings[_in_range(meetings["at"], start, end)]
    if freq is not None:
        chats["period"] = _periods(chats["accepted_at"].fillna(chats["outcome_at"]), freq, tz)
        meetings["period"] = _periods(meetings["at"], freq, tz)
    spans = points[points["seconds"].notna()].copy()
    spans = spans[_in_range(spans["at"], start, end)]
    spans["team"] = _team_of(spans["agent_id"], teams)
    if freq is not None:
        spans["period"] = _periods(spans["at"], freq, tz)
    return chats, meetings, spans


def _in_range(times: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.Series:
    keep = pd.Series(True, index=times.index)
    if start is not None:
        keep &= times >= start
    if end is not None:
        keep &= times < end
    return keep


def _periods(times: pd.Series, freq: str | None, tz: str) -> pd.Series:
    local = times.dt.tz_convert(tz).dt.tz_localize(None)
    return local.dt.to_period(FREQS[freq or "day"]).dt.start_time


def _boundaries(
    requests: pd.DataFrame, freq: str | None, tz: str, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> np.ndarray:
    """UTC microseconds of the period edges (and of ``start`` / ``end``) across the chats' span."""
    edges: list[int] = [ts.value // 1000 for ts in (start, end) if ts is not None]
    a = requests["accepted_at"].dropna()
    if freq is not None and len(a):
        lo = _periods(pd.Series([a.min()]), freq, tz).iloc[0]
        hi = requests["released_at"].max()
        local_hi = hi.tz_convert(tz).tz_localize(None)
        starts = pd.period_range(lo, local_hi, freq=FREQS[freq]).start_time
        utc = starts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
        edges.extend(utc.as_unit("us").asi8.tolist())
    return np.unique(np.asarray(edges, dtype=np.int64))


def _aggregate(
    offers: pd.DataFrame,
    chats: pd.DataFrame,
    meetings: pd.DataFrame,
    spans: pd.DataFrame,
    keys: list[str],
    shrink: bool,
) -> pd.DataFrame:
    """One row per ``keys`` value: counts from offers, chats and meetings, load from the spans."""

    def grouped(df: pd.DataFrame) -> Any:
        return df.groupby(keys, dropna=False, sort=True, observed=True)

    # the offers of each outcome: a 0/1 column per outcome, summed
    counted = dict(zip(("accepted_offers", "missed", "left", "open"), OFFER_OUTCOMES, strict=True))
    o = offers.assign(**{col: (offers["outcome"] == x).astype("int64") for col, x in counted.items()})
    out = grouped(o).agg(offers=("outcome", "size"), **{col: (col, "sum") for col in counted})
    acc = grouped(o[o["accept_seconds"].notna()])["accept_seconds"]
    out = out.join(acc.median().rename("accept_median_seconds"), how="outer")
    out = out.join(acc.quantile(0.9).rename("accept_p90_seconds"), how="outer")

    c = chats.assign(
        ended_flag=chats["handle_seconds"].notna().astype("int64"),
        idle=(chats["chat_end"] == "idle_timeout").astype("int64"),
        with_meeting=(chats["meetings_in_chat"] > 0).astype("int64"),
        with_email=(chats["emails_in_chat"] > 0).astype("int64"),
    )
    chat_counts = grouped(c).agg(
        accepted=("outcome", "size"),
        chats_ended=("ended_flag", "sum"),
        handle_median_seconds=("handle_seconds", "median"),
        handle_total_seconds=("handle_seconds", "sum"),
        idle_timeouts=("idle", "sum"),
        meetings_in_chats=("meetings_in_chat", "sum"),
        chats_with_meeting=("with_meeting", "sum"),
        chats_with_email=("with_email", "sum"),
    )
    out = out.join(chat_counts, how="outer")
    out = out.join(grouped(meetings).size().rename("meetings_booked"), how="outer")

    s = spans.assign(
        chat_seconds=spans["chats"] * spans["seconds"],
        busy=np.where(spans["chats"] > 0, spans["seconds"], 0.0),
        at_cap=np.where(spans["chats"] >= AGENT_CHAT_CAP, spans["seconds"], 0.0),
    )
    if "agent_id" in keys:
        load = grouped(s).agg(
            peak_concurrent_chats=("chats", "max"),
            chat_seconds=("chat_seconds", "sum"),
            busy_seconds=("busy", "sum"),
            cap_seconds=("at_cap", "sum"),
        )
    else:  # a team's load is its agents' load: the highest agent peak, seconds summed over agents
        per_agent = s.groupby([*keys, "agent_id"], dropna=False, sort=True, observed=True).agg(
            peak=("chats", "max"),
            chat_seconds=("chat_seconds", "sum"),
            busy_seconds=("busy", "sum"),
            cap_seconds=("at_cap", "sum"),
        )
        load = per_agent.groupby(keys, dropna=False, sort=True, observed=True).agg(
            peak_concurrent_chats=("peak", "max"),
            chat_seconds=("chat_seconds", "sum"),
            busy_seconds=("busy_seconds", "sum"),
            cap_seconds=("cap_seconds", "sum"),
        )
    out = out.join(load, how="outer")
    for col in _COUNTS:
        out[col] = out[col].fillna(0).astype("int64")
    out["peak_concurrent_chats"] = out["peak_concurrent_chats"].fillna(0).astype("int64")
    out["busy_seconds"] = out["busy_seconds"].fillna(0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        busy = out["busy_seconds"].to_numpy()
        out["mean_concurrent_chats"] = np.where(busy > 0, out["chat_seconds"].fillna(0) / busy, np.nan)
        out["at_cap_rate"] = np.where(busy > 0, out["cap_seconds"].fillna(0) / busy, np.nan)
    out = out.reset_index()
    if "agent_id" in out.columns:
        out["agent_id"] = out["agent_id"].astype("str")
    # the prior is fitted on the agents (or teams) of each period; offers to nobody are not shrunk
    if "agent_id" in out.columns:
        prior_rows = out["agent_id"].notna().to_numpy()
    else:
        prior_rows = (out["team"] != NO_AGENT).to_numpy()
    fits = out["period"].to_numpy() if "period" in out.columns else np.zeros(len(out))
    for rate, (k_col, n_col) in RATES.items():
        k = out[k_col].to_numpy(float)
        n = out[n_col].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            observed = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        if shrink:
            a = np.zeros(len(out))
            b = np.zeros(len(out))
            for fit in pd.unique(fits):  # one prior per period: a loop over periods, not rows
                rows = (fits == fit) & prior_rows
                a[rows], b[rows] = beta_binomial_prior(k[rows], n[rows])
            k, n = k + a, n + a + b
            out[f"observed_{rate}"] = observed
            with np.errstate(invalid="ignore", divide="ignore"):
                out[rate] = np.where(np.isnan(observed), np.nan, k / n)  # no observations, no rate
            k, n = np.where(np.isnan(observed), 0, k), np.where(np.isnan(observed), 0, n)
        else:
            out[rate] = observed
        out[f"{rate}_low"], out[f"{rate}_high"] = wilson(k, n)
    # the metric columns of columns.AGENTS (after period, agent_id, agent_name, team); the observed
    # (unshrunk) rates only when the rates are shrunk
    metrics = [c for c in columns.AGENTS[4:] if shrink or not c.startswith("observed_")]
    out["handle_total_seconds"] = out["handle_total_seconds"].fillna(0.0)
    return out[[*keys, *metrics]].reset_index(drop=True)
