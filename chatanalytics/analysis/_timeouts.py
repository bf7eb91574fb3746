"""Live-chat timeouts: when and why requests go unanswered, with waits treated as time-to-event data."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .. import columns
from ..columns import CAUSES, SERVICE_LEVEL_SECONDS
from ..errors import EmptyDataError, InvalidParameterError
from ..schema import COLUMNS
from ._engine import timestamp
from ._grid import WEEKDAYS, weekday_hour
from ._requests import (
    ACCEPT_WINDOW_SECONDS,
    AGENT_CHAT_CAP,
    IDLE_TIMEOUT_TERM,
    REQUEST_TERMS,
    Requests,
    rebuild_requests,
)
from ._result import FigureKind, Result, StoredTable, TableView
from ._stats import (
    aalen_johansen,
    chi2_sf,
    curve_quantile,
    holm,
    kaplan_meier_ci,
    logrank,
    step_value,
    wilson,
)

__all__ = ["CAUSES", "KINDS", "SERVICE_LEVEL_SECONDS", "TimeoutResult", "timeouts"]

#: The tables of :meth:`TimeoutResult.frame`.
KINDS: tuple[str, ...] = ("outcomes", "curves", "service_level", "waits", "causes", "heatmap", "logrank")
OUTCOMES = ("accepted", "missed", "left", "open")
ALL, OTHER, NONE = "All", "Other", "(none)"
SERVICE_LEVEL_VARIANT = (
    "offered: accepted within T / all requests; visitors who left and missed requests count against, "
    "requests still open are censored (Aalen-Johansen)"
)
CENSORING = (
    "time from the request's first offer; visitors who left are censored when they left and requests "
    "still open at the end of the data; missed requests were never accepted and stay in the curve's "
    "denominator"
)
COMPETING = (
    "time from the request's first offer; accepted, missed and left compete, each ending the wait; "
    "requests still open are censored at the end of the data"
)


class TimeoutResult(Result):
    """Live-chat request outcomes and waits.

    ``frame(name)`` returns one of these tables (a copy):

    ``"outcomes"``
        ``slice`` (``all``, the ``by`` column, ``hour``, ``weekday``, ``day``), ``group``, ``outcome``
        (``accepted`` / ``missed`` / ``left`` / ``open``, and ``idle_timeout``), ``count``,
        ``denominator``, ``basis`` (``requests``; for ``idle_timeout``, ``accepted chats``: accepted chats
        that later ended by the 10-minute idle timeout), ``share`` with ``share_low`` / ``share_high``
        95% Wilson bounds. Hours, weekdays and days are local to ``tz``, of the request's first offer.
    ``"curves"``
        Per ``group`` and distinct wait ``seconds``: ``at_risk``, ``accepted``, ``missed``, ``left``,
        ``censored``; ``accepted_share`` = 1 - Kaplan-Meier survival of time to accept (visitors who left
        and open requests censored when last seen; missed requests never accepted, so they stay in the
        denominator) with ``_low`` / ``_high`` (Greenwood, log-log); ``cif_accepted``,
        ``cif_missed``, ``cif_left``: cumulative incidence of each competing outcome (Aalen-Johansen,
        ties exact) with ``_low`` / ``_high``.
    ``"service_level"``
        ``group``, ``seconds`` (10, 20, 30, 45, 60, 100), ``service_level`` = P(accepted within T) with
        ``_low`` / ``_high``, the "offered" variant: visitors who left and missed requests count against;
        ``answered_within`` and ``requests`` give the raw count for comparison.
    ``"waits"``
        ``group``, ``requests``, ``accepted``, ``median_seconds`` and ``p90_seconds`` of time to accept
        (from the Kaplan-Meier curve above) with ``_low`` / ``_high`` bounds (where the curve's bounds
        reach the quantile; ``nan`` when they never do).
    ``"causes"``
        ``group``, ``cause`` (see :data:`CAUSES`), ``missed``, ``share`` of the group's missed requests.
    ``"heatmap"``
        ``weekday`` (0 = Monday), ``weekday_name``, ``hour``, ``requests``, ``missed``, ``miss_rate``
        (``missed / requests``, ``nan`` without requests): all 168 cells, local to ``tz``.
    ``"logrank"``
        Time to accept compared between the ``by`` groups: ``comparison`` (``all groups`` and each pair),
        ``chi2``, ``df``, ``p_value`` and ``p_adjusted`` (Holm, over the pairs); empty without ``by``.
    ``"requests"``, ``"anomalies"``
        The requests behind the tables (:data:`chatanalytics.columns.TIMEOUT_REQUESTS`) and the
        live-chat sequences that break the request rules.

    ``requests()`` lists the requests (with ``group``, ``cause`` for missed ones, and the load of the
    offered agent), ``summary()`` gives the headline.
    """

    NAME: ClassVar[str] = "timeouts"
    TITLE: ClassVar[str] = "Live-chat timeouts"
    TABLES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "outcomes": columns.TIMEOUT_OUTCOMES,
        "curves": columns.TIMEOUT_CURVES,
        "service_level": columns.TIMEOUT_SERVICE_LEVEL,
        "waits": columns.TIMEOUT_WAITS,
        "causes": columns.TIMEOUT_CAUSES,
        "heatmap": columns.TIMEOUT_HEATMAP,
        "logrank": columns.TIMEOUT_LOGRANK,
        "requests": columns.TIMEOUT_REQUESTS,
        "anomalies": columns.ANOMALIES,
    }
    FIGURES: ClassVar[Mapping[str, FigureKind]] = {
        "outcomes": FigureKind(
            "outcomes_figure",
            ("outcomes",),
            caption="What became of each live-chat request: accepted, missed, the visitor left, or still "
            "open at the end of the data; 95% Wilson intervals.",
        ),
        "curves": FigureKind(
            "curves_figure",
            ("curves",),
            caption="Share of requests accepted by each wait since the request's first offer "
            "(Kaplan-Meier), with its band and the number still waiting; the censoring rule is in "
            "'About this chart' and in the parameters below.",
        ),
        "service_level": FigureKind(
            "service_level_figure",
            ("curves", "service_level"),
            caption="Share of all requests accepted within T seconds; visitors who left and missed "
            "requests count against, requests still open are censored (Aalen-Johansen).",
        ),
        "heatmap": FigureKind(
            "heatmap_figure",
            ("heatmap",),
            caption="Miss rate (missed / requests) beside request volume, by local weekday and hour of "
            "the request's first offer.",
        ),
        "causes": FigureKind(
            "causes_figure",
            ("causes",),
            caption="Why missed requests were missed: no agent offered (staffing), the offered agent at "
            "the 10-chat cap (staffing), or the offered agent not accepting (response).",
        ),
    }
    CSV: ClassVar[Mapping[str, str]] = {"timeouts": "outcomes", "service_level": "service_level"}
    WIDGET: ClassVar[str | None] = "TimeoutWidget"
    DEFINITIONS: ClassVar[tuple[tuple[str, str], ...]] = (
        *REQUEST_TERMS,
        ("Left", "The visitor closed or completed the conversation before any accept."),
        ("Open", "Nothing followed the request before the end of the data."),
        IDLE_TIMEOUT_TERM,
        (
            "Service level",
            "P(accepted within T): accepted within T seconds / all requests; left and missed requests "
            "count against, open requests are censored.",
        ),
        (
            "Censoring",
            "A wait whose end was not observed (the visitor left first, or the request was still open at "
            "the end of the data) is censored: it counts as lasting at least that long, never as a wait to "
            "accept. The timeout parameters state the rule of each curve.",
        ),
        (
            "95% interval",
            "Wilson score interval for rates; Greenwood (log-log) bands for Kaplan-Meier curves; "
            "Aalen-Johansen bands for cumulative incidence.",
        ),
        *((f"Cause: {cause}", text) for cause, text in CAUSES.items()),
    )

    request_table = StoredTable(
        "requests", 'The requests as stored (read only; ``frame("requests")`` gives a copy).'
    )

    @property
    def reconstruction(self) -> Requests:
        """Deprecated: use ``frame("requests")`` and :attr:`anomalies`."""
        warnings.warn(
            'result.reconstruction is deprecated: use result.frame("requests") and result.anomalies',
            FutureWarning,
            stacklevel=2,
        )
        return Requests(
            requests=self.frame("requests"),
            offers=pd.DataFrame(),
            anomalies=self.frame("anomalies"),
            data_end=self.params["data_end"],
        )

    def frame(self, name: str | None = "outcomes", *, kind: str | None = None) -> pd.DataFrame:
        """One of the tables listed in the class docstring, as a copy (``"outcomes"`` by default)."""
        if kind is not None:
            warnings.warn(
                f"frame(kind={kind!r}) is deprecated: use frame({kind!r})", FutureWarning, stacklevel=2
            )
            name = kind
        return super().frame(name)

    @property
    def anomalies(self) -> pd.DataFrame:
        """Live-chat sequences that break the request rules, counted by kind."""
        return self.frame("anomalies")

    def requests(self, outcome: str | None = None, group: str | None = None) -> pd.DataFrame:
        """The requests behind the tables: all, or those with one ``outcome`` and/or in one ``group``."""
        r = self.request_table
        if outcome is not None:
            if outcome not in OUTCOMES:
                raise InvalidParameterError("outcome", outcome, list(OUTCOMES))
            r = r[r["outcome"] == outcome]
        if group is not None:
            groups = list(dict.fromkeys(self.request_table["group"]))
            if group not in groups:
                raise InvalidParameterError("group", group, groups)
            r = r[r["group"] == group]
        return r.reset_index(drop=True).copy()

    def summary(self) -> dict[str, Any]:
        """Headline numbers: requests, the share missed with its interval, visitors who left, the median
        wait to accept, the service level at 60 s, and the largest cause of misses.
        """
        out = self.data["outcomes"]
        overall = out[(out["slice"] == "all") & (out["basis"] == "requests")].set_index("outcome")
        waits = self.data["waits"]
        w = waits[waits["group"] == ALL].iloc[0]
        sl = self.data["service_level"]
        sl60 = sl[(sl["group"] == ALL) & (sl["seconds"] == 60)]
        causes = self.data["causes"]
        c = causes[causes["group"] == ALL]
        top = c.sort_values("missed", ascending=False, kind="stable")
        return {
            "requests": int(overall["denominator"].iloc[0]),
            "missed": int(overall.loc["missed", "count"]),
            "missed_rate": float(overall.loc["missed", "share"]),
            "missed_rate_low": float(overall.loc["missed", "share_low"]),
            "missed_rate_high": float(overall.loc["missed", "share_high"]),
            "left": int(overall.loc["left", "count"]),
            "median_wait_seconds": float(w["median_seconds"]),
            "service_level_60s": float(sl60["service_level"].iloc[0]) if len(sl60) else float("nan"),
            "main_cause": str(top["cause"].iloc[0]) if len(top) and top["missed"].iloc[0] > 0 else None,
        }

    def headline(self) -> str:
        """Requests, misses with the interval, visitors who left, the median wait and the service level;
        every share names its denominator (requests), and the main cause of misses is in words.
        """
        s = self.summary()
        short = {"no_agent": "no agent offered", "agent_at_cap": "agents at the chat cap"}
        short["not_accepted"] = "offers not accepted"
        cause = f"; most misses: {short.get(s['main_cause'], s['main_cause'])}" if s["main_cause"] else ""
        return (
            f"Live-chat timeouts: of {s['requests']:,} requests, {s['missed']:,} missed "
            f"({s['missed_rate']:.1%} of requests, 95% CI {s['missed_rate_low']:.1%}-"
            f"{s['missed_rate_high']:.1%}) and {s['left']:,} left by the visitor; "
            f"{s['service_level_60s']:.0%} of requests accepted within 60 s, median wait to accept "
            f"{s['median_wait_seconds']:.0f} s{cause}"
        )

    def figure(self, kind: str | None = "outcomes", **style: Any) -> Any:
        """A plotly Figure: ``"outcomes"`` (bars with intervals; ``slice=`` ``"all"``, ``"hour"``,
        ``"weekday"``, ``"day"`` or the ``by`` column), ``"curves"`` (time to accept with bands and an
        at-risk row; ``estimate="cif"`` for the competing outcomes), ``"service_level"``, ``"heatmap"``
        (miss rate beside request volume) or ``"causes"``. Style arguments change the drawing, never the
        numbers; captions state the censoring rule and the time basis.
        """
        return super().figure(kind, **style)

    def report_tables(self, tz: str = "UTC") -> list[TableView]:
        """Outcomes overall, waits, the service level and the causes of misses."""
        outcomes = self.frame("outcomes")
        causes = self.frame("causes")
        causes["meaning"] = causes["cause"].map(CAUSES)
        return [
            TableView(
                "Outcomes",
                outcomes[outcomes["slice"] == "all"],
                "Share of requests (idle timeout: share of accepted chats), with 95% Wilson bounds.",
            ),
            TableView(
                "Waits",
                self.frame("waits"),
                f"Time to accept from the Kaplan-Meier curve; {self.params['censoring']}.",
            ),
            TableView(
                "Service level",
                self.frame("service_level"),
                f"Service level: {self.params['service_level_variant']}.",
            ),
            TableView("Causes of misses", causes),
        ]

    def widget_arguments(self) -> dict[str, Any]:
        """The arguments of :func:`timeouts` (and ``TimeoutWidget``) that give this result again."""
        p = self.params
        return {
            "by": p["by"],
            "tz": p["tz"],
            "top": p["top"],
            "where": dict(p["where"]) or None,
            "start": p["start"],
            "end": p["end"],
        }

    def _preview(self) -> pd.DataFrame:
        out = self.data["outcomes"]
        return out[out["slice"] == "all"][
            ["outcome", "count", "denominator", "share", "share_low", "share_high"]
        ]


def timeouts(
    events: Any,
    *,
    by: str | None = None,
    tz: str = "UTC",
    top: int = 8,
    where: dict[str, Any] | None = None,
    start: Any = None,
    end: Any = None,
) -> TimeoutResult:
    """When and why live-chat requests go unanswered, and how long visitors wait.

    Requests are rebuilt from the callbacks (rules in ``chatanalytics.analysis._requests``): each ends
    **accepted**, **missed** (``LIVE_CHAT_REQUEST_TIMEOUT`` before any accept: no agent accepted within
    Adobe's 100-second window, after Team routing's second agent when there is one), **left** (the
    visitor closed or completed the conversation first) or **open** (nothing followed before the end of
    the data). Waits are time-to-event data: in the time-to-accept curve a visitor who left is censored
    when they left, a missed request at its timeout and an open request at the end of the data, so
    recent data and impatient visitors do not bias the waits; the competing outcomes get
    cumulative-incidence curves (Aalen-Johansen). Ties are handled exactly: the same data give the same
    numbers on every run, whatever the row order.

    Why misses happen: each missed request is put in one of :data:`CAUSES` from what the data show: no
    agent named on any offer (Adobe found no available agent: **staffing**), the last offered agent
    already holding 10 accepted chats at the offer (**staffing**), or that agent holding fewer and not
    accepting (**response**). Agent load is rebuilt from accepted chats (accept to end, see the request
    rules). The data cannot show agents' online status, chats in other tools, or whether an agent who
    was never offered the request was free: an agent is visible only through the chats and offers
    that name them.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    by : str, optional
        Compare groups: a canonical column taken from the request's first ``LIVE_CHAT_REQUESTED`` event
        (``"agent_id"`` is the first offered agent), or ``"hour"`` / ``"weekday"`` of the request in
        ``tz``. The ``top`` largest groups of a column are kept, the rest summed as ``Other``.
    tz : str, default "UTC"
        Time zone of hours, weekdays and days.
    top : int, default 8
        Number of ``by`` groups kept (hours and weekdays are always kept whole).
    where : dict, optional
        Keep only requests whose first offer has these values: ``{"ui_type": "popup"}`` or a list of
        values per column (a slice); ``"hour"`` and ``"weekday"`` (0 = Monday) are allowed too.
    start, end : date or time, optional
        Requests made in ``[start, end)`` (UTC unless an offset is given).

    Returns
    -------
    TimeoutResult

    Examples
    --------
    >>> import chatanalytics as ca
    >>> t = ca.timeouts(ca.load_sample(), tz="America/New_York")
    >>> o = t.frame("outcomes")
    >>> overall = o[(o["slice"] == "all") & (o["basis"] == "requests")]
    >>> int(overall["count"].sum()) == t.summary()["requests"]
    True
    """
    derived = ("hour", "weekday")
    allowed = [*COLUMNS, *derived]
    if by is not None and by not in allowed:
        raise InvalidParameterError("by", by, allowed)
    try:
        pd.Timestamp("2026-01-01", tz=tz)
    except Exception:
        raise InvalidParameterError("tz", tz, reason="not a time zone") from None
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 1:
        raise InvalidParameterError("top", top, reason="a positive whole number")
    where = dict(where or {})
    for col in where:
        if col not in allowed:
            raise InvalidParameterError("where", col, allowed)
    t_start, t_end = timestamp("start", start), timestamp("end", end)
    if t_start is not None and t_end is not None and t_end <= t_start:
        raise InvalidParameterError("end", end, reason=f"must be after start ({start})")

    carried = tuple(c for c in dict.fromkeys([by, *where]) if c is not None and c not in derived)
    carried = tuple(c for c in carried if c not in ("agent_id", "session_id", "conversation_id"))
    rec = rebuild_requests(events, carried)
    r = rec.requests
    if len(r) == 0:
        raise EmptyDataError(
            "no live-chat requests (CONVERSATION_LIVE_CHAT_REQUESTED) with a session and conversation id: "
            "the timeout analysis needs live chat"
        )
    local = r["requested_at"].dt.tz_convert(tz)
    r = r.assign(
        hour=local.dt.hour.astype("int64"),
        weekday=local.dt.day_of_week.astype("int64"),
        day=local.dt.tz_localize(None).dt.normalize(),
    )
    if "agent_id" in (by, *where):
        r["agent_id"] = r["first_agent_id"]
    keep = pd.Series(True, index=r.index)
    if t_start is not None:
        keep &= r["requested_at"] >= t_start
    if t_end is not None:
        keep &= r["requested_at"] < t_end
    for col, value in where.items():
        values = value if isinstance(value, (list, tuple, set)) else [value]
        keep &= r[col].isin(list(values))
    r = r[keep].reset_index(drop=True)
    if len(r) == 0:
        raise EmptyDataError("no live-chat requests left after start, end and where")

    if by is None:
        r["group"] = pd.Series(ALL, index=r.index, dtype="str")
    else:
        raw = r[by].astype("str") if by not in derived else r[by].astype("int64").astype("str")
        if by == "weekday":
            raw = r[by].map(dict(enumerate(WEEKDAYS))).astype("str")
        raw = raw.fillna(NONE)
        sizes = raw.value_counts(sort=False)
        # hours and weekdays are kept whole (24 and 7 ordered groups); other columns keep the top ones
        kept = list(sizes.index) if by in derived else sorted(sizes.index, key=lambda g: (-sizes[g], g))[:top]
        r["group"] = raw.where(raw.isin(kept), OTHER).astype("str")
    r["cause"] = _causes(r, rec.requests)

    groups = [ALL] if by is None else [ALL, *_group_order(r, by)]
    tables: dict[str, pd.DataFrame] = {
        "outcomes": _outcomes(r, by),
        "curves": _curves(r, groups),
        "causes": _cause_table(r, groups),
        "heatmap": _heatmap(r),
        "logrank": _logrank(r, by) if by is not None else _empty_logrank(),
    }
    tables["service_level"] = _service_level(r, tables["curves"], groups)
    tables["waits"] = _waits(r, tables["curves"], groups)
    params = {
        "by": by,
        "tz": tz,
        "top": top,
        "where": where,
        "start": t_start,
        "end": t_end,
        "accept_window_seconds": ACCEPT_WINDOW_SECONDS,
        "censoring": CENSORING,
        "competing": COMPETING,
        "service_level_variant": SERVICE_LEVEL_VARIANT,
        "data_end": rec.data_end,
    }
    tables["requests"] = r
    tables["anomalies"] = rec.anomalies
    return TimeoutResult._make(tables, params, events)


# --------------------------------------------------------------------------- pieces


def _group_order(r: pd.DataFrame, by: str) -> list[str]:
    present = list(dict.fromkeys(r["group"]))
    if by == "hour":
        return sorted(present, key=lambda g: (g == OTHER, int(g) if g.isdigit() else 99))
    if by == "weekday":
        return sorted(present, key=lambda g: (g == OTHER, WEEKDAYS.index(g) if g in WEEKDAYS else 9))
    sizes = r["group"].value_counts()
    return sorted(present, key=lambda g: (g == OTHER, -sizes[g], g))


def _causes(r: pd.DataFrame, all_requests: pd.DataFrame) -> pd.Series:
    """Cause of each missed request (null for the others), from the load of the last offered agent."""
    missed = (r["outcome"] == "missed").to_numpy()
    cause = np.full(len(r), None, dtype=object)
    agent = r["last_agent_id"]
    cause[missed & agent.isna().to_numpy()] = "no_agent"
    check = missed & agent.notna().to_numpy()
    if check.any():
        # the offered agent's load when the last offer was made
        load = _load_at(all_requests, agent.where(check), r["last_offered_at"].where(check))
        cause[check] = np.where(load[check] >= AGENT_CHAT_CAP, "agent_at_cap", "not_accepted")
    return pd.Series(cause, index=r.index, dtype="object")


def _load_at(chats_from: pd.DataFrame, agent: pd.Series, at: pd.Series) -> np.ndarray:
    """Chats each ``agent`` held at ``at`` (accepted at or before, released after), vectorised."""
    chats = chats_from[chats_from["accepted_at"].notna() & chats_from["released_at"].notna()]
    out = np.zeros(len(agent), dtype=np.int64)
    ok = agent.notna().to_numpy() & at.notna().to_numpy()
    if not ok.any() or len(chats) == 0:
        return out
    codes, _ = pd.factorize(pd.concat([chats["agent_id"], agent[ok]], ignore_index=True))
    chat_code, query_code = codes[: len(chats)], codes[len(chats) :]
    acc = chats["accepted_at"].dt.as_unit("us").astype("int64").to_numpy()
    rel = chats["released_at"].dt.as_unit("us").astype("int64").to_numpy()
    ask = at[ok].dt.as_unit("us").astype("int64").to_numpy()
    base = min(acc.min(), ask.min())
    # one sorted key per chat: agent code times the time span, plus microseconds since the start
    big = np.int64(max(rel.max(), ask.max()) - base + 1)
    start = chat_code * big + (acc - base)
    stop = chat_code * big + (rel - base)
    q = query_code * big + (ask - base)
    valid = chat_code >= 0
    start, stop = np.sort(start[valid]), np.sort(stop[valid])
    held = np.searchsorted(start, q, side="right") - np.searchsorted(stop, q, side="right")
    out[ok] = np.where(query_code >= 0, held, 0)
    return out


def _share_rows(counts: pd.DataFrame, denominators: pd.Series, basis: str) -> pd.DataFrame:
    out = counts.copy()
    out["denominator"] = out.set_index(["slice", "group"]).index.map(denominators).to_numpy()
    out["basis"] = basis
    k = out["count"].to_numpy(float)
    n = out["denominator"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    out["share_low"], out["share_high"] = wilson(k, n)
    return out


def _outcomes(r: pd.DataFrame, by: str | None) -> pd.DataFrame:
    slices = {"all": pd.Series(ALL, index=r.index, dtype="object")}
    if by is not None and by not in ("hour", "weekday"):  # those two are slices of their own below
        slices[by] = r["group"].astype("object")
    slices["hour"] = r["hour"].astype("str").astype("object")
    slices["weekday"] = r["weekday"].map(dict(enumerate(WEEKDAYS))).astype("object")
    slices["day"] = r["day"].dt.strftime("%Y-%m-%d").astype("object")
    frames = []
    for name, groups in slices.items():  # a handful of slices, not rows
        frames.append(
            pd.DataFrame(
                {
                    "slice": name,
                    "group": groups,
                    "outcome": r["outcome"].astype("object"),
                    "idle": (r["chat_end"] == "idle_timeout").to_numpy(),
                }
            )
        )
    long = pd.concat(frames, ignore_index=True)
    order = {name: i for i, name in enumerate(slices)}
    requests = long.groupby(["slice", "group"], sort=False).size()
    grid = pd.MultiIndex.from_tuples(
        [(s, g, o) for (s, g) in requests.index for o in OUTCOMES], names=["slice", "group", "outcome"]
    )
    counts = long.groupby(["slice", "group", "outcome"], sort=False).size().reindex(grid, fill_value=0)
    out = _share_rows(counts.rename("count").reset_index(), requests, "requests")
    accepted = long[long["outcome"] == "accepted"]
    chats = accepted.groupby(["slice", "group"], sort=False).size().reindex(requests.index, fill_value=0)
    idle = (
        accepted.groupby(["slice", "group"], sort=False)["idle"].sum().reindex(requests.index, fill_value=0)
    )
    idle_rows = idle.rename("count").reset_index().assign(outcome="idle_timeout")
    out = pd.concat([out, _share_rows(idle_rows, chats, "accepted chats")], ignore_index=True)
    rank = {o: i for i, o in enumerate([*OUTCOMES, "idle_timeout"])}
    day_or_hour = out["group"].where(out["slice"] != "hour", out["group"].str.zfill(2))
    weekday_rank = out["group"].map({w: f"{i}" for i, w in enumerate(WEEKDAYS)})
    sort_group = day_or_hour.where(out["slice"] != "weekday", weekday_rank)
    out = out.assign(_s=out["slice"].map(order), _g=sort_group, _o=out["outcome"].map(rank))
    if by is not None and by not in ("hour", "weekday"):
        rank_of = {g: f"{i:06d}" for i, g in enumerate(_group_order(r, by))}
        out["_g"] = out["_g"].where(out["slice"] != by, out["group"].map(rank_of))
    out = out.sort_values(["_s", "_g", "_o"], kind="stable").drop(columns=["_s", "_g", "_o"])
    out["count"] = out["count"].astype("int64")
    out["denominator"] = out["denominator"].astype("int64")
    for c in ("slice", "group", "outcome", "basis"):
        out[c] = out[c].astype("str")
    cols = ["slice", "group", "outcome", "count", "denominator", "basis", "share", "share_low", "share_high"]
    return out[cols].reset_index(drop=True)


def _wait_data(r: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per request with a known wait: seconds and cause (0 censored, 1 accepted, 2 missed, 3 left)."""
    known = ~((r["outcome"] == "accepted") & r["accept_seconds"].isna())  # accept time not recorded
    sub = r[known]
    times = np.where(sub["outcome"] == "accepted", sub["accept_seconds"], sub["wait_seconds"])
    code = sub["outcome"].map({"open": 0, "accepted": 1, "missed": 2, "left": 3}).to_numpy(np.int64)
    return np.asarray(times, dtype=float), code


def _curves(r: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    parts = []
    for g in groups:  # one estimator run per group (a handful), each vectorised
        sub = r if g == ALL else r[r["group"] == g]
        times, code = _wait_data(sub)
        if len(times) == 0:
            continue
        # time to accept: a missed request was never accepted, so it stays at risk for good (an
        # infinite time); visitors who left and open requests are censored when last seen
        km = kaplan_meier_ci(np.where(code == 2, np.inf, times), code == 1)
        aj = aalen_johansen(times, code, 3)
        grid = aj["time"]
        finite = np.isfinite(km["time"])
        km_grid = {
            k: step_value(km["time"][finite], km[k][finite], grid, before=1.0)
            for k in ("survival", "low", "high")
        }
        part = pd.DataFrame(
            {
                "group": g,
                "seconds": grid,
                "at_risk": aj["at_risk"].astype("int64"),
                "accepted": aj["events"][0].astype("int64"),
                "missed": aj["events"][1].astype("int64"),
                "left": aj["events"][2].astype("int64"),
                "censored": aj["censored"].astype("int64"),
                "accepted_share": 1 - km_grid["survival"],
                "accepted_share_low": 1 - km_grid["high"],
                "accepted_share_high": 1 - km_grid["low"],
            }
        )
        for i, name in enumerate(("accepted", "missed", "left")):
            part[f"cif_{name}"] = aj["cif"][i]
            part[f"cif_{name}_low"] = aj["low"][i]
            part[f"cif_{name}_high"] = aj["high"][i]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["group"] = out["group"].astype("str")
    return out


def _service_level(r: pd.DataFrame, curves: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    rows = []
    thresholds = np.array(SERVICE_LEVEL_SECONDS, dtype=float)
    for g in groups:
        c = curves[curves["group"] == g]
        sub = r if g == ALL else r[r["group"] == g]
        t = c["seconds"].to_numpy()
        within = np.array(
            [int(((sub["accept_seconds"] <= s) & (sub["outcome"] == "accepted")).sum()) for s in thresholds]
        )
        rows.append(
            pd.DataFrame(
                {
                    "group": g,
                    "seconds": thresholds.astype("int64"),
                    "service_level": step_value(t, c["cif_accepted"].to_numpy(), thresholds),
                    "service_level_low": step_value(t, c["cif_accepted_low"].to_numpy(), thresholds),
                    "service_level_high": step_value(t, c["cif_accepted_high"].to_numpy(), thresholds),
                    "answered_within": within.astype("int64"),
                    "requests": len(sub),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["group"] = out["group"].astype("str")
    return out


def _waits(r: pd.DataFrame, curves: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    rows = []
    for g in groups:
        c = curves[curves["group"] == g]
        sub = r if g == ALL else r[r["group"] == g]
        t = c["seconds"].to_numpy()
        row: dict[str, Any] = {
            "group": g,
            "requests": len(sub),
            "accepted": int((sub["outcome"] == "accepted").sum()),
        }
        for name, q in (("median", 0.5), ("p90", 0.9)):
            row[f"{name}_seconds"] = curve_quantile(t, c["accepted_share"].to_numpy(), q)
            # the upper band reaches q first (the earliest time), the lower band last
            row[f"{name}_seconds_low"] = curve_quantile(t, c["accepted_share_high"].to_numpy(), q)
            row[f"{name}_seconds_high"] = curve_quantile(t, c["accepted_share_low"].to_numpy(), q)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["group"] = out["group"].astype("str")
    return out


def _cause_table(r: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    missed = r[r["outcome"] == "missed"]
    parts = []
    for g in groups:
        sub = missed if g == ALL else missed[missed["group"] == g]
        counts = sub["cause"].value_counts().reindex(list(CAUSES), fill_value=0)
        total = counts.sum()
        parts.append(
            pd.DataFrame(
                {
                    "group": g,
                    "cause": list(CAUSES),
                    "missed": counts.to_numpy().astype("int64"),
                    "share": counts.to_numpy() / total if total else np.nan,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["group"] = out["group"].astype("str")
    out["cause"] = out["cause"].astype("str")
    return out


def _heatmap(r: pd.DataFrame) -> pd.DataFrame:
    missed = (r["outcome"] == "missed").to_numpy()
    return weekday_hour(r["weekday"].to_numpy(), r["hour"].to_numpy(), missed, total="requests")


def _empty_logrank() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "comparison": pd.Series([], dtype="str"),
            "chi2": pd.Series([], dtype="float64"),
            "df": pd.Series([], dtype="int64"),
            "p_value": pd.Series([], dtype="float64"),
            "p_adjusted": pd.Series([], dtype="float64"),
        }
    )


def _logrank(r: pd.DataFrame, by: str) -> pd.DataFrame:
    known = ~((r["outcome"] == "accepted") & r["accept_seconds"].isna())
    sub = r[known]
    times, code = _wait_data(r)
    times = np.where(code == 2, np.inf, times)  # as in the curve: a missed request is never accepted
    names = list(_group_order(sub, by))
    codes = sub["group"].map({g: i for i, g in enumerate(names)}).to_numpy(np.int64)
    if len(names) < 2:
        return _empty_logrank()
    rows = []
    chi2, df = logrank(times, code == 1, codes)
    rows.append(("all groups", chi2, df, chi2_sf(chi2, df), np.nan))
    pairs = []
    for i in range(len(names)):  # pairs of groups: at most top + 1 choose 2
        for j in range(i + 1, len(names)):
            m = (codes == i) | (codes == j)
            x, d = logrank(times[m], code[m] == 1, (codes[m] == j).astype(np.int64))
            pairs.append((f"{names[i]} vs {names[j]}", x, d, chi2_sf(x, d) if d else np.nan))
    adjusted = holm(np.array([p[3] for p in pairs])) if pairs else np.array([])
    rows.extend((*p, a) for p, a in zip(pairs, adjusted, strict=True))
    out = pd.DataFrame(rows, columns=["comparison", "chi2", "df", "p_value", "p_adjusted"])
    out["comparison"] = out["comparison"].astype("str")
    out["df"] = out["df"].astype("int64")
    return out
