"""Conversation funnels: how many units reach each step, how fast, and where they drop off."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import columns
from ..columns import FRAME_COLUMNS, ORDERS, UNITS
from ..errors import DataQualityWarning, InvalidParameterError
from ..schema import COLUMNS, STRING, EventType
from ._engine import as_table, duration, frame_arrow, query_arrow, timestamp
from ._result import FigureKind, Result, StoredTable, TableView
from ._stats import kaplan_meier, km_quantile, wilson

__all__ = ["ATTRIBUTIONS", "ORDERS", "UNITS", "UNIT_WORDS", "FunnelResult", "Step", "funnel", "optional"]

_T = "event_time_utc"
_US = pd.Timedelta(microseconds=1)
OTHER, NONE = "Other", "(none)"
#: Where a breakdown value comes from: the unit's first step event (``"first_step"``), or the first
#: value any of the unit's events sets within its window (``"first_value"``).
ATTRIBUTIONS: tuple[str, ...] = ("first_step", "first_value")
#: The funnel's unit in words, one and many: a conversation (the Dialogue or Flow) in one session is a
#: "conversation session", so that "conversation" always means the Dialogue or Flow itself.
UNIT_WORDS: dict[str, tuple[str, str]] = {
    "conversation": ("conversation session", "conversation sessions"),
    "session": ("session", "sessions"),
    "visitor": ("visitor", "visitors"),
}
# the share of units without a breakdown value above which the funnel warns
_MOSTLY_EMPTY = 0.5


@dataclass(frozen=True)
class Step:
    """One funnel step: one event type, or several alternatives (``email_input | phone_input``)."""

    types: tuple[str, ...]
    optional: bool = False

    @property
    def name(self) -> str:
        return " | ".join(EventType(t).alias for t in self.types) + (" (optional)" if self.optional else "")


@dataclass(frozen=True)
class _Timing:
    """What times the units of a funnel and ends their chances: the steps and their order, the window,
    the maximum gap before each step after the first, and the end of the data.
    """

    steps: list[Step]
    order: str
    window: pd.Timedelta
    gaps: list[pd.Timedelta | None]
    data_end: pd.Timestamp | None


@dataclass(frozen=True)
class _Optional:
    step: Any


def optional(step: Any) -> _Optional:
    """Mark a funnel step as optional: units may skip it.

    An optional step counts the units that did it after the previous required step (and before the
    next required step, when they reach it); the steps after it follow on from the previous required
    step, so skipping it costs nothing. Not for the first or last step, nor with ``order="strict"``.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> steps = ["triggered", "engaged", ca.optional("email_input"), "completed"]
    >>> ca.funnel(ca.load_sample(), steps=steps).frame()["step_name"].tolist()[2]
    'email_input (optional)'
    """
    return _Optional(step)


_OPTIONAL_SUFFIX = " (optional)"


def _steps_from_names(names: Sequence[str]) -> list[Step]:
    """The steps back from their names in ``params["steps"]`` (``email_input | phone_input (optional)``)."""
    out = []
    for name in names:
        is_optional = name.endswith(_OPTIONAL_SUFFIX)
        aliases = name.removesuffix(_OPTIONAL_SUFFIX).split(" | ")
        out.append(Step(tuple(EventType.parse(a).value for a in aliases), optional=is_optional))
    return out


def _step_arguments(names: Sequence[str]) -> list[Any]:
    """The ``steps`` argument of :func:`funnel` that gives these step names again."""
    out: list[Any] = []
    for step in _steps_from_names(names):
        aliases = [EventType(t).alias for t in step.types]
        arg: Any = aliases[0] if len(aliases) == 1 else aliases
        out.append(optional(arg) if step.optional else arg)
    return out


def _anchors(steps: list[Step]) -> list[int]:
    """For each step (1-based position), the position of the last required step before it (0: none)."""
    out, last = [0], 0
    for i, s in enumerate(steps, start=1):
        out.append(last)
        if not s.optional:
            last = i
    return out


def _parse_steps(steps: Any) -> list[Step]:
    if isinstance(steps, (str, EventType)) or not isinstance(steps, Sequence) or len(steps) == 0:
        raise InvalidParameterError(
            "steps", steps, reason='give a list of steps, e.g. ["triggered", "engaged", "completed"]'
        )
    out: list[Step] = []
    for i, step in enumerate(steps):
        is_optional = isinstance(step, _Optional)
        if is_optional:
            if i in (0, len(steps) - 1):
                raise InvalidParameterError(
                    "steps", step.step, reason="the first and last steps cannot be optional"
                )
            step = step.step
        alternatives = [step] if isinstance(step, (str, EventType)) else list(step)
        if not alternatives:
            raise InvalidParameterError("steps", step, reason="an empty list of alternatives")
        types = tuple(dict.fromkeys(EventType.parse(a, param="steps").value for a in alternatives))
        out.append(Step(types, optional=is_optional))
    seen: dict[str, int] = {}
    for i, s in enumerate(out):
        for t in s.types:
            if t in seen:
                raise InvalidParameterError(
                    "steps",
                    EventType(t).alias,
                    reason=f"names the same event in steps {seen[t] + 1} and {i + 1}",
                )
            seen[t] = i
    return out


class FunnelResult(Result):
    """A computed funnel.

    ``frame()`` has one row per group and step:

    ============================  ==========================================================================
    ``group``                     breakdown value at the unit's first step (``All`` without ``by``)
    ``step``, ``step_name``       1-based position and name (``email_input | phone_input``)
    ``entered``                   units that reached the previous step (step 1: all units)
    ``converted``                 units that reached this step
    ``dropped``                   ``entered - converted``
    ``still_open``                dropped units whose window had not ended when the data end: they may
                                  still convert, so recent data understate conversion
    ``conversion_rate``           ``converted / entered``, with ``_low`` / ``_high`` 95% Wilson bounds
    ``overall_rate``              ``converted / units at step 1``, with ``_low`` / ``_high``
    ``median_seconds``            time from the previous required step (``any``: from the first step
                                  event) by which half of the converting units converted, read off a
                                  Kaplan-Meier curve in which units still inside their window, or whose
                                  window or gap ran out, are censored: recent data do not hide slow
                                  converters
    ``p90_seconds``               the same for nine tenths
    ============================  ==========================================================================

    ``frame("curves")`` holds the Kaplan-Meier curves (:meth:`time_curves`) and ``frame("units")`` one
    row per unit with its step times (:data:`chatanalytics.columns.FUNNEL_UNITS`). On Spark and
    BigQuery the per-unit rows stay in the warehouse as an Ibis expression, run on the first drill-down.
    ``units(step, group, outcome)`` lists the units behind a cell; ``summary()`` gives the headline.
    """

    NAME: ClassVar[str] = "funnel"
    TITLE: ClassVar[str] = "Conversation funnel"
    TABLES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "funnel": columns.FUNNEL,
        "curves": columns.FUNNEL_CURVES,
        "units": columns.FUNNEL_UNITS,
    }
    FIGURES: ClassVar[Mapping[str, FigureKind]] = {
        "funnel": FigureKind(
            "funnel_figure",
            ("funnel",),
            caption="Units reaching each step, each bar labelled with its % of the previous step and its % "
            "of the units entering step 1; 'About this chart' gives the unit, window, order and "
            "denominator.",
            report_style=("tz",),
        ),
        "over_time": FigureKind(
            "over_time_figure",
            prepare="_over_time_input",
            caption="Overall conversion by the day units entered the funnel, with 95% Wilson bands; days "
            "whose last entrants were still inside their window when the data end are marked immature, "
            "as their rates may still rise.",
            report_style=("tz",),
        ),
        "time": FigureKind(
            "time_figure",
            ("curves",),
            caption="Share of units that reached each step by the time since the previous step "
            "(Kaplan-Meier: units still inside their window are censored, so recent data do not hide "
            "slow converters).",
            report_style=("tz",),
        ),
    }
    CSV: ClassVar[Mapping[str, str]] = {"funnel": "funnel"}
    WIDGET: ClassVar[str | None] = "FunnelWidget"
    DEFINITIONS: ClassVar[tuple[tuple[str, str], ...]] = (
        (
            "Conversation",
            "A Dialogue or Conversational Flow, the chat asset marketers build (payload id).",
        ),
        (
            "Conversation session",
            "The funnel's default unit: one conversation in one session, counted once from its first "
            "step however often it was shown. With unit='session' or 'visitor' the unit is a session "
            "or a visitor.",
        ),
        (
            "Funnel window",
            "Every step must fall within the window of the unit's first step event; an event exactly at "
            "the end counts.",
        ),
        (
            "Entered, converted",
            "A unit enters a step when it reached the previous required step (step 1: every unit); "
            "conversion rate = converted / entered, overall rate = converted / units at step 1.",
        ),
        (
            "Still open",
            "Dropped units whose window had not ended when the data end: they may still convert, so "
            "recent data understate conversion.",
        ),
        (
            "Time to convert",
            "Median and 90th percentile read off a Kaplan-Meier curve of the time from the previous "
            "required step; units still inside their window, or whose window or gap ran out, are "
            "censored.",
        ),
        ("95% interval", "Wilson score interval for rates."),
    )

    @classmethod
    def _load(cls, tables: dict[str, Any]) -> dict[str, Any]:
        out = super()._load(tables)
        if isinstance(out["units"], pd.DataFrame):
            out["units"] = pa.Table.from_pandas(out["units"], preserve_index=False)
        return out

    def _frame(self, name: str) -> pd.DataFrame:
        if name == "units":
            units = self.units_arrow
            return (units if isinstance(units, pa.Table) else units.to_pyarrow()).to_pandas()
        return super()._frame(name)

    # ------------------------------------------------------------------ stored data
    table = StoredTable("funnel", "The funnel table as stored (read only; :meth:`frame` gives a copy).")
    curves = StoredTable(
        "curves", "The Kaplan-Meier curves as stored (read only; :meth:`time_curves` gives a copy)."
    )

    @property
    def units_arrow(self) -> Any:
        """Per unit: keys, ``t1``, ``group`` and step times: a pyarrow Table, or for a warehouse table
        the Ibis expression that computes them there.
        """
        return self.data["units"]

    @property
    def data_end(self) -> pd.Timestamp | None:
        """The time of the last event in the data (``params["data_end"]``)."""
        return self.params.get("data_end")

    @property
    def kept_groups(self) -> list[str] | None:
        """The breakdown values kept as groups (the others are ``Other``); ``None`` without ``by``."""
        if self.params["by"] is None:
            return None
        return [g for g in dict.fromkeys(self.table["group"]) if g != OTHER]

    @property
    def unit_table(self) -> pd.DataFrame:
        """One row per unit: keys, group, first-step time and ``entered_k`` / ``reached_k`` flags, built
        from the per-unit rows on each call (for the drill-down and the periods of :meth:`over_time`).
        """
        return self._unit_flags(with_keys=True)

    def _unit_flags(self, *, with_keys: bool) -> pd.DataFrame:
        steps = _steps_from_names(self.params["steps"])
        keys = list(UNITS[self.params["unit"]])
        units = self.units_arrow
        if not isinstance(units, pa.Table):
            units = units.to_pyarrow()
        if not with_keys:
            units = units.select([c for c in units.column_names if c not in keys])
        u = _reached(units.to_pandas(), steps, keys if with_keys else [])
        u["group"] = _grouped(u["group"], self.kept_groups)
        return u

    def widget_arguments(self) -> dict[str, Any]:
        """The arguments of :func:`funnel` (and ``FunnelWidget``) that give this result again."""
        p = self.params
        return {
            "steps": _step_arguments(self.params["steps"]),
            "order": p["order"],
            "unit": p["unit"],
            "window": p["window"],
            "max_gap": p["max_gap"],
            "exclude": list(p["exclude"]) or None,
            "by": p["by"],
            "attribution": p.get("attribution", "first_step"),
            "top": p["top"],
            "start": p["start"],
            "end": p["end"],
        }

    def _over_time_input(self, style: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        freq, tz = style.pop("freq", "day"), style.get("tz", "UTC")
        return (self.over_time(freq, tz=tz),), style

    def figure(self, kind: str | None = "funnel", **style: Any) -> Any:
        """A plotly Figure: ``"funnel"`` (bars per step and group), ``"over_time"`` or ``"time"``.

        Style arguments (``value="overall_rate"``, ``title``, ``height``, ``width``; for ``over_time``
        also ``freq`` and ``tz``) change the drawing, never the numbers. Every figure states its unit,
        window, order and time basis in its subtitle.
        """
        return super().figure(kind, **style)

    def time_curves(self) -> pd.DataFrame:
        """Kaplan-Meier share of units that reached each step by a given time since the previous step.

        Columns ``group``, ``step`` (from 2; from 1 for ``any`` order, timed from the first step event),
        ``step_name``, ``seconds`` and ``converted_share``: one row per distinct conversion time.
        Units still inside their window, or whose window or gap ran out, are censored at that moment,
        so slow converters are not hidden by recent data.
        """
        return self.frame("curves")

    def over_time(self, freq: str = "day", tz: str = "UTC") -> pd.DataFrame:
        """Conversion by the period in which units entered the funnel.

        Parameters
        ----------
        freq : {"day", "week"}
            Calendar day, or week starting Monday, of the unit's first step, in ``tz``.
        tz : str
            Time zone of the periods.

        Returns
        -------
        pandas.DataFrame
            ``group``, ``period`` (local start), ``step``, ``step_name``, ``entered`` (units entering step 1
            in the period), ``converted``, ``overall_rate`` with ``_low`` / ``_high`` 95% Wilson bounds, and
            ``immature``: the period's last entrants were still inside their window when the data end,
            so its rates may still rise.
        """
        freqs = {"day": "D", "week": "W-SUN"}  # weeks ending on Sunday, so starting on Monday
        if freq not in freqs:
            raise InvalidParameterError("freq", freq, list(freqs))
        u = self._unit_flags(with_keys=False)
        try:
            local = _datetimes(u["t1"]).dt.tz_convert(tz)
        except Exception:
            raise InvalidParameterError("tz", tz, reason="not a time zone") from None
        periods = local.dt.tz_localize(None).dt.to_period(freqs[freq])
        n = len(self.params["steps"])
        names = self.params["steps"]
        frames = []
        for k in range(1, n + 1):
            part = pd.DataFrame({"group": u["group"], "period": periods, "converted": u[f"reached_{k}"]})
            agg = part.groupby(["group", "period"], sort=True, observed=True).agg(
                entered=("converted", "size"), converted=("converted", "sum")
            )
            agg["step"] = k
            frames.append(agg.reset_index())
        columns = ["group", "period", "step", "step_name", "entered", "converted", "overall_rate"]
        if not frames or all(len(f) == 0 for f in frames):
            return pd.DataFrame(columns=[*columns, "overall_rate_low", "overall_rate_high", "immature"])
        out = pd.concat(frames, ignore_index=True)
        ends = out["period"].dt.end_time.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        window = pd.Timedelta(self.params["window"])
        out["immature"] = (ends + window > self.data_end).to_numpy() if self.data_end is not None else False
        out["period"] = out["period"].dt.start_time
        out["step_name"] = out["step"].map({i + 1: s for i, s in enumerate(names)}).astype(STRING)
        out["group"] = out["group"].astype(STRING)
        out["overall_rate"] = out["converted"] / out["entered"]
        out["overall_rate_low"], out["overall_rate_high"] = wilson(out["converted"], out["entered"])
        out["converted"] = out["converted"].astype("int64")
        out["entered"] = out["entered"].astype("int64")
        order = {g: i for i, g in enumerate(dict.fromkeys(self.table["group"]))}
        out = out.sort_values(
            ["group", "period", "step"], key=lambda c: c.map(order) if c.name == "group" else c
        )
        return out[[*columns, "overall_rate_low", "overall_rate_high", "immature"]].reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        """Headline numbers: units, last-step conversions, overall rate and interval, biggest drop."""
        total = self.table.groupby("step", sort=True)[["entered", "converted", "dropped"]].sum()
        units = int(total["entered"].iloc[0])
        last = int(total["converted"].iloc[-1])
        lo, hi = wilson(np.array([last]), np.array([units]))
        worst = int(total["dropped"].iloc[1:].idxmax()) if len(total) > 1 else 1
        names = dict(zip(self.table["step"], self.table["step_name"], strict=False))
        return {
            "units": units,
            "converted": last,
            "overall_rate": last / units if units else float("nan"),
            "overall_rate_low": float(lo[0]),
            "overall_rate_high": float(hi[0]),
            "biggest_drop_step": names[worst],
        }

    def units(self, step: int, group: str | None = None, outcome: str = "converted") -> pd.DataFrame:
        """The units behind one cell: those that ``converted`` at ``step`` or ``dropped`` there."""
        n = len(self.params["steps"])
        if not isinstance(step, (int, np.integer)) or not 1 <= step <= n:
            raise InvalidParameterError("step", step, list(range(1, n + 1)))
        if outcome not in ("converted", "dropped"):
            raise InvalidParameterError("outcome", outcome, ["converted", "dropped"])
        u = self.unit_table
        if group is not None:
            groups = list(dict.fromkeys(self.table["group"]))
            if group not in groups:
                raise InvalidParameterError("group", group, groups)
            u = u[u["group"] == group]
        reached = u[f"reached_{step}"]
        mask = reached if outcome == "converted" else u[f"entered_{step}"] & ~reached
        keys = list(UNITS[self.params["unit"]])
        listed = u.loc[mask, [*keys, "group"]].assign(entered_at=_datetimes(u.loc[mask, "t1"]))
        return listed.sort_values([*keys], kind="stable").reset_index(drop=True)

    def headline(self) -> str:
        """The funnel in one line: units, last-step conversions with the interval and their denominator
        (the units that entered), the biggest drop.
        """
        s = self.summary()
        p = self.params
        one, many = UNIT_WORDS.get(p["unit"], (p["unit"], f"{p['unit']}s"))
        return (
            f"Funnel ({p['order']}, per {one}, window {p['window']}): of {s['units']:,} {many} that "
            f"entered, {s['converted']:,} reached '{self.table['step_name'].iloc[-1]}' "
            f"({s['overall_rate']:.1%}, 95% CI {s['overall_rate_low']:.1%}-{s['overall_rate_high']:.1%}); "
            f"biggest drop before '{s['biggest_drop_step']}'"
        )

    def report_tables(self, tz: str = "UTC") -> list[TableView]:
        """The steps table, captioned with the funnel's definition line (entry times in ``tz``)."""
        from ..viz import caption

        return [TableView("Steps", self.frame(), caption(self.params, tz=tz))]

    def _preview(self) -> pd.DataFrame:
        cols = ["group", "step", "step_name", "entered", "converted", "conversion_rate", "overall_rate"]
        return self.table[cols]


def funnel(
    events: Any,
    *,
    steps: Sequence[Any],
    order: str = "ordered",
    unit: str = "conversation",
    window: Any = "30min",
    max_gap: Any = None,
    exclude: Sequence[Any] | None = None,
    by: str | None = None,
    attribution: str = "first_step",
    top: int = 10,
    start: Any = None,
    end: Any = None,
) -> FunnelResult:
    """How many units reach each step of a Dynamic Chat funnel, how fast, and where they drop off.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events.
    steps : list
        Event names (constants or aliases such as ``"engaged"``); a step may be a list of alternatives
        (``["email_input", "phone_input"]``: either one). An event may appear in one step only.
    order : {"ordered", "strict", "any"}
        ``ordered`` (default): each step at or after the previous one, other events may come between.
        ``strict``: no other chat event of the unit strictly between consecutive steps. ``any``: the
        steps in any order, all within the window of the unit's first step event.
    unit : {"conversation", "session", "visitor"}
        What is counted once: a conversation in a session (``session_id`` + ``conversation_id``, the
        default), a session, or a visitor. Events without the unit's key are left out.
    window : str or Timedelta, default "30min"
        The whole funnel must complete within it, measured from the unit's first step event; an event
        exactly at the window's end counts. The unit's first entry is used: a later re-entry is not
        counted again.
    max_gap : str, Timedelta, or list of them, optional
        Longest time allowed between consecutive steps: one value for every gap, or one per gap
        (``None`` for no limit). Not with ``order="any"``.
    exclude : list, optional
        Events that end a unit's progress: a unit with an excluded event strictly between two steps
        drops out from that point (it still counts for the steps before). Not with ``order="any"``.
    by : str, optional
        Break down by a canonical column, taking the value ``attribution`` says; missing values are
        ``(none)``. When most units have no value (``agent_name`` is set on live-chat events, not on
        a conversation's first step), a :class:`DataQualityWarning` names the events and the step
        that set it, and the attribution that fits.
    attribution : {"first_step", "first_value"}, default "first_step"
        Where the breakdown value comes from: the unit's first step event (the smallest value if
        several events share that instant), or the first value that any of the unit's events sets
        within its window (for a column set later, such as the agent of a live chat).
    top : int, default 10
        Keep the ``top`` groups with the most units; the rest are summed as ``Other``.
    start, end : date or time, optional
        Count units whose first step falls in ``[start, end)`` (UTC unless an offset is given); their
        later steps may fall after ``end``.

    Returns
    -------
    FunnelResult

    Notes
    -----
    Ties: events at the same instant are in order in both directions (a step at the same microsecond
    as the previous step counts, and no event at that instant is "between" them in ``strict`` mode),
    so the order of rows in the input never changes a result.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> f = ca.funnel(ca.load_sample(), steps=["triggered", "engaged", "completed"], window="30min")
    >>> t = f.frame()
    >>> bool((t["converted"].diff().dropna() <= 0).all())
    True
    """
    step_list = _parse_steps(steps)
    if order not in ORDERS:
        raise InvalidParameterError("order", order, ORDERS)
    if order == "strict" and any(s.optional for s in step_list):
        raise InvalidParameterError("order", order, reason="optional steps need order='ordered' or 'any'")
    if unit not in UNITS:
        raise InvalidParameterError("unit", unit, list(UNITS))
    win = duration("window", window)
    assert win is not None
    gaps = _gaps(max_gap, len(step_list))
    excluded = [EventType.parse(x, param="exclude").value for x in (exclude or [])]
    if order == "any" and (any(g is not None for g in gaps) or excluded):
        raise InvalidParameterError("order", order, reason="max_gap and exclude need an ordered funnel")
    overlap = {t for s in step_list for t in s.types} & set(excluded)
    if overlap:
        raise InvalidParameterError("exclude", EventType(overlap.pop()).alias, reason="is also a step")
    if by is not None and by not in COLUMNS:
        raise InvalidParameterError("by", by, list(COLUMNS))
    if attribution not in ATTRIBUTIONS:
        raise InvalidParameterError("attribution", attribution, list(ATTRIBUTIONS))
    if not isinstance(top, (int, np.integer)) or top < 1:
        raise InvalidParameterError("top", top, reason="a positive whole number")
    t_start, t_end = timestamp("start", start), timestamp("end", end)
    keys = list(UNITS[unit])
    columns = list(dict.fromkeys([_T, "event_type", *keys, *([by] if by else [])]))
    import ibis

    pandas_input = isinstance(events, pd.DataFrame)
    arrow = frame_arrow(events, columns, micros=True) if pandas_input else None
    table = ibis.memtable(arrow) if pandas_input else as_table(events, columns, micros=True)
    params = {
        "steps": [s.name for s in step_list],
        "order": order,
        "unit": unit,
        "window": str(window),
        "max_gap": max_gap,
        "exclude": [EventType(x).alias for x in excluded],
        "by": by,
        "attribution": attribution,
        "top": top,
        "start": t_start,
        "end": t_end,
    }
    # In process (a frame, or DuckDB over files) the per-unit rows are collected once and aggregated
    # from memory: measured on 50M events, that beats aggregating them where they are, which makes
    # DuckDB compute the unit joins again for every step. On another engine (Spark, BigQuery) they stay
    # there: only the aggregates of _summarise_remote come back, and the units on a drill-down.
    local = pandas_input or _backend_name(table) == "duckdb"
    shape = (keys, order, win, gaps, excluded, (by, attribution), t_start, t_end)
    if arrow is not None:
        # compiled once per shape of funnel (every argument of _unit_times in the key), then run on
        # the frame's Arrow columns
        key = ("funnel.units", tuple(step_list), tuple(keys), order, win, tuple(gaps), tuple(excluded))
        units = query_arrow(
            (*key, by, attribution, t_start, t_end),
            lambda ca_events: {"units": _unit_times(ca_events, step_list, *shape, collect=False)},
            ca_events=arrow,
        )["units"]
    else:
        units = _unit_times(table, step_list, *shape, collect=local)
    if by is not None and attribution == "first_step":
        _warn_mostly_empty(table, units, step_list, by)
    # the end of the data (read off the frame, or one more query on a database table)
    if pandas_input:
        last = events[_T].max()
    else:
        micros = table[_T].max().to_pyarrow().as_py()
        last = None if micros is None else pd.Timestamp(micros, unit="us", tz="UTC")
    data_end = None if last is None or pd.isna(last) else pd.Timestamp(last)
    timing = _Timing(step_list, order, win, gaps, data_end)
    if local:
        kept = _top(units, top) if by else None
        out, curves = _summarise(units, timing, kept)
    else:
        kept, out, curves = _summarise_remote(units, timing, by, top)
    params["data_end"] = data_end
    return FunnelResult._make({"funnel": out, "curves": curves, "units": units}, params, events)


def _backend_name(table: Any) -> str | None:
    """The name of the Ibis backend a table expression runs on (``duckdb``, ``pyspark``, ...)."""
    try:
        return str(table._find_backend(use_default=True).name)
    except Exception:  # an expression Ibis cannot bind to one backend
        return None


def _gaps(max_gap: Any, n: int) -> list[pd.Timedelta | None]:
    if max_gap is None:
        return [None] * (n - 1)
    if isinstance(max_gap, (list, tuple)):
        if len(max_gap) != n - 1:
            raise InvalidParameterError("max_gap", max_gap, reason=f"give one value per gap ({n - 1})")
        return [duration("max_gap", g, allow_none=True) for g in max_gap]
    return [duration("max_gap", max_gap)] * (n - 1)


def _micros_of(td: pd.Timedelta | None) -> int:
    """A duration in whole microseconds (times inside the funnel's queries are integer microseconds)."""
    assert td is not None
    return int(td / _US)


def _unit_times(
    t: Any,
    steps: list[Step],
    keys: list[str],
    order: str,
    window: pd.Timedelta,
    gaps: list[pd.Timedelta | None],
    excluded: list[str],
    breakdown: tuple[str | None, str],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    *,
    collect: bool = True,
) -> Any:
    """Per unit: the time of each step (null when not reached) and the breakdown value (``breakdown``
    is the column and its attribution), as a pyarrow Table, or with ``collect=False`` as the Ibis
    expression that computes it where the events are.
    """
    import ibis

    by, attribution = breakdown
    win = _micros_of(window)
    base = t.filter([t[k].notnull() for k in keys])
    right = {f"r_{k}": base[k] for k in keys}

    def on(left: Any, r: Any) -> list[Any]:
        return [left[k] == r[f"r_{k}"] for k in keys]

    all_types = [x for s in steps for x in s.types]
    first_types = list(steps[0].types) if order != "any" else all_types
    s1 = base.filter(base.event_type.isin(first_types))
    cur = s1.group_by(keys).agg(t1=s1[_T].min())
    if start is not None:
        cur = cur.filter(cur.t1 >= start.value // 1000)
    if end is not None:
        cur = cur.filter(cur.t1 < end.value // 1000)
    if by is not None and attribution == "first_value":
        # the first event of the unit that sets the column, within its window; the smallest value if
        # several share that instant
        src = base.filter(base[by].notnull())
        rv = src.select(**{f"r_{k}": src[k] for k in keys}, te=src[_T], g=src[by].cast("string"))
        j = cur.left_join(rv, [*on(cur, rv), rv.te >= cur.t1, rv.te <= cur.t1 + win])
        first = j.group_by([*keys, "t1"]).agg(tg=j.te.min())
        j = first.left_join(rv, [*on(first, rv), rv.te == first.tg])
        cur = j.group_by([*keys, "t1"]).agg(group=j.g.min())
    elif by is not None:
        r1 = s1.select(**{f"r_{k}": s1[k] for k in keys}, te=s1[_T], g=s1[by].cast("string"))
        j = cur.left_join(r1, [*on(cur, r1), r1.te == cur.t1])
        cur = j.group_by([*keys, "t1"]).agg(group=j.g.min())
    else:
        cur = cur.mutate(group=ibis.null("string"))
    names = [*keys, "t1", "group"]
    if order == "any":
        labelled = base.filter(base.event_type.isin(all_types))
        step_of = ibis.cases(*[(labelled.event_type.isin(list(s.types)), i + 1) for i, s in enumerate(steps)])
        r = labelled.select(**{f"r_{k}": labelled[k] for k in keys}, te=labelled[_T], step=step_of)
        j = cur.left_join(r, [*on(cur, r), r.te <= cur.t1 + win])
        aggs = {f"s{i + 1}": ibis.ifelse(j.step == i + 1, j.te, ibis.null()).min() for i in range(len(steps))}
        cur = j.group_by(names).agg(**aggs)
    else:
        cur = cur.mutate(s1=cur.t1)
        names.append("s1")
        others = base.select(**right, tx=base[_T], kind=base.event_type)
        anchors = _anchors(steps)
        pending: list[str] = []  # optional steps waiting for the next required step
        for i in range(1, len(steps)):
            prev, now = f"s{anchors[i + 1]}", f"s{i + 1}"
            types = list(steps[i].types)
            if order == "strict":
                # the unit's first chat event of another kind strictly after the previous step
                o = others.filter(~others.kind.isin(types))
                jo = cur.left_join(o, [*on(cur, o), o.tx > cur[prev]])
                cur = jo.group_by(names).agg(nxt=jo.tx.min())
            sk = base.filter(base.event_type.isin(types)).select(**right, te=base[_T])
            cond = [*on(cur, sk), sk.te >= cur[prev], sk.te <= cur.t1 + win]
            if gaps[i - 1] is not None:
                cond.append(sk.te <= cur[prev] + _micros_of(gaps[i - 1]))
            if order == "strict":
                cond.append(ibis.or_(cur.nxt.isnull(), sk.te <= cur.nxt))
            j = cur.left_join(sk, cond)
            cur = j.group_by(names).agg(**{now: j.te.min()})
            if excluded:
                x = base.filter(base.event_type.isin(excluded)).select(**right, tx=base[_T])
                jx = cur.left_join(x, [*on(cur, x), x.tx > cur[prev], x.tx < cur[now]])
                cur = jx.group_by([*names, now]).agg(nx=jx.tx.count())
                cur = cur.mutate(**{now: ibis.ifelse(cur.nx > 0, ibis.null(), cur[now])}).drop("nx")
            if steps[i].optional:
                pending.append(now)
            else:
                # an optional step done only after the next required step was not done on the way
                cur = cur.mutate(
                    **{
                        o: ibis.ifelse(cur[now].isnull() | (cur[o] <= cur[now]), cur[o], ibis.null())
                        for o in pending
                    }
                )
                pending = []
            names.append(now)
    if not collect:
        # Spark would compute the unit joins again for each query over them: it caches them instead
        return cur.cache() if _backend_name(cur) == "pyspark" else cur
    frame = cur.to_pyarrow()  # in no particular order; units() sorts what it lists
    return frame


def _warn_mostly_empty(table: Any, units: Any, steps: list[Step], by: str) -> None:
    """Warn when most units have no breakdown value at their first step: name the events that set the
    column, the first step among them, and the attribution that fits.
    """
    import ibis

    if isinstance(units, pa.Table):
        total, empty = units.num_rows, units.column("group").null_count
    else:
        row = units.aggregate(n=units.count(), e=units.group.isnull().sum()).to_pyarrow().to_pylist()[0]
        total, empty = int(row["n"] or 0), int(row["e"] or 0)
    if not total or empty / total <= _MOSTLY_EMPTY:
        return
    src = table.filter(table[by].notnull())
    kinds = src.group_by("event_type").agg(n=ibis._.count()).order_by(ibis.desc("n")).to_pyarrow()
    setters = [str(t) for t in kinds.column("event_type").to_pylist()]
    names = ", ".join(EventType(t).alias if t in set(EventType) else t for t in setters[:4])
    where = f"{by} is set on {names} events" if setters else f"{by} is never set in these events"
    at = next((i for i, s in enumerate(steps) if set(s.types) & set(setters)), None)
    if at is not None:
        where += f"; the first step that sets it is step {at + 1} ({steps[at].name})"
    elif setters:
        where += "; no step of this funnel sets it"
    fix = (
        "; pass attribution='first_value' to take the first value set within the unit's window"
        if setters
        else ""
    )
    warnings.warn(
        f"by={by!r} is empty at the first step ({steps[0].name}) for {empty:,} of {total:,} units "
        f"({empty / total:.0%}), shown as {NONE}: {where}{fix}",
        DataQualityWarning,
        stacklevel=3,
    )


def _reached(units: pd.DataFrame, steps: list[Step], keys: list[str]) -> pd.DataFrame:
    """Add ``entered_k`` / ``reached_k`` flags and ``entered_at`` to the per-unit times.

    A unit enters step k when it reached the last required step before it; it reaches step k when it
    entered it and has the step's time.
    """
    out = units
    anchors = _anchors(steps)
    out["reached_0"] = True
    for k in range(1, len(steps) + 1):
        out[f"s{k}"] = out[f"s{k}"].astype(float)  # microseconds since the epoch, NaN when not reached
        entered = out[f"reached_{anchors[k]}"].to_numpy()
        out[f"entered_{k}"] = entered
        out[f"reached_{k}"] = entered & ~np.isnan(out[f"s{k}"].to_numpy())
    out["t1"] = out["t1"].astype(float)
    for key in keys:
        out[key] = out[key].astype(STRING)
    out["group"] = out["group"].astype(STRING).fillna(NONE)
    return out


def _top(units: Any, top: int) -> list[str]:
    """The ``top`` breakdown values with the most units (ties by name); missing values are ``(none)``."""
    import pyarrow.compute as pc

    counts = pc.value_counts(pc.fill_null(units.column("group"), NONE)).to_pylist()
    ranked = sorted(counts, key=lambda c: (-c["counts"], str(c["values"])))
    return [c["values"] for c in ranked[:top]]


def _grouped(groups: pd.Series, kept: list[str] | None) -> pd.Series:
    if kept is None:
        return pd.Series("All", index=groups.index, dtype=STRING)
    named = groups.astype(STRING).fillna(NONE)
    return named.where(named.isin(kept), OTHER).astype(STRING)


def _summarise(units: Any, timing: _Timing, kept: list[str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and Kaplan-Meier inputs per group and step, aggregated by DuckDB over the per-unit rows.

    Time to step k runs from the last required step before it (``any`` order: from the first step
    event). A unit that entered step k but did not reach it is censored when its chance ended: at the
    end of its window, its maximum gap or the data, whichever comes first.
    """
    import ibis

    n = len(timing.steps)
    # times as integer microseconds since the epoch (a zero-copy cast): integer arithmetic is much
    # cheaper for DuckDB than timestamp functions over millions of units
    times = ["t1", *[f"s{k}" for k in range(1, n + 1)]]
    arrays = {
        c: units.column(c).cast(pa.int64()) if c in times else units.column(c) for c in units.column_names
    }

    def build(ca_units: Any) -> dict[str, Any]:
        if kept is None:
            group = ibis.literal("All")
        else:
            named = ca_units.group.fill_null(NONE)
            group = ibis.ifelse(named.isin(kept), named, ibis.literal(OTHER))
        return {"km": _km_query(ca_units.mutate(g=group), timing)}

    shape = (tuple(timing.steps), timing.order, timing.window, tuple(timing.gaps), timing.data_end)
    key = ("funnel.km", *shape, None if kept is None else tuple(kept))
    km = query_arrow(key, build, ca_units=pa.table(arrays))["km"].to_pandas()
    return _tables(km, timing.steps, timing.order, units.num_rows)


def _summarise_remote(
    units: Any, timing: _Timing, by: str | None, top: int
) -> tuple[list[str] | None, pd.DataFrame, pd.DataFrame]:
    """As :func:`_summarise`, with the per-unit rows left in the database (``units`` is an Ibis
    expression): one query brings back the Kaplan-Meier rows per breakdown value, step and time; the
    top groups are ranked from them (units per value, ties by name, as :func:`_top`) and the others
    merged into one group here.
    """
    import ibis

    group = units.group.fill_null(NONE) if by else ibis.literal("All")
    km = _km_query(units.mutate(g=group), timing).to_pyarrow().to_pandas()
    kept = None
    if by:
        sizes = km[km["step"] == 1].groupby("g")["n"].sum()
        ranked = sorted(sizes.items(), key=lambda item: (-item[1], str(item[0])))
        kept = [str(g) for g, _ in ranked[:top]]
        if len(sizes) > top:
            km["g"] = km["g"].where(km["g"].isin(kept), OTHER)
            km = km.groupby(["g", "step", "d"], as_index=False, sort=False)[["events", "n", "open"]].sum()
    n_units = int(km.loc[km["step"] == 1, "n"].sum())
    out, curves = _tables(km, timing.steps, timing.order, n_units)
    return kept, out, curves


def _km_query(u: Any, timing: _Timing) -> Any:
    """The Kaplan-Meier rows of every step as one Ibis query over per-unit rows with a group ``g``:
    per group and time to the step, the units leaving the risk set, converting, and still open.
    """
    import ibis

    steps, order, gaps, data_end = timing.steps, timing.order, timing.gaps, timing.data_end
    n = len(steps)
    end = ibis.literal(int(data_end.value // 1000), type="int64") if data_end is not None else None
    win = ibis.literal(_micros_of(timing.window), type="int64")
    anchors = _anchors(steps)
    reached: dict[int, Any] = {0: u.t1.notnull()}  # every unit has entered the funnel
    entered: dict[int, Any] = {}
    for k in range(1, n + 1):
        entered[k] = reached[anchors[k]]
        reached[k] = entered[k] & u[f"s{k}"].notnull()
    closes = u.t1 + win if end is None else ibis.least(u.t1 + win, end)
    still = (u.t1 + win > end) if end is not None else ibis.literal(False)
    parts = []
    for k in range(1, n + 1):
        if order == "any":
            origin = u.t1
            required = [j for j in range(1, k) if not steps[j - 1].optional] + [k]
            at = ibis.greatest(*[u[f"s{j}"] for j in required]) if len(required) > 1 else u[f"s{k}"]
        elif k == 1:
            origin = at = u.t1  # the first step of an ordered funnel is not timed
        else:
            origin, at = u[f"s{anchors[k]}"], u[f"s{k}"]
        gap = gaps[k - 2] if k > 1 else None
        limit = closes if gap is None else ibis.least(closes, origin + _micros_of(gap))
        until = ibis.ifelse(reached[k], at, limit) - origin
        # one row per group and time: units leaving the risk set then (n), of which converted (events)
        # and of which still inside their window at the end of the data (open)
        parts.append(
            u.filter(entered[k])
            .group_by(["g", until.name("d")])
            .agg(
                events=reached[k].cast("int64").sum(),
                n=ibis._.count(),
                open=(~reached[k] & still).cast("int64").sum(),
            )
            .mutate(step=ibis.literal(k, type="int64"))
        )
    return ibis.union(*parts)


def _tables(
    km: pd.DataFrame, steps: list[Step], order: str, n_units: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The funnel table and the curves from rows of (group, step, time, leaving, converted, open)."""
    n = len(steps)
    totals = km.groupby(["g", "step"], sort=False)[["n", "events", "open"]].sum()
    if len(totals) == 0:  # nobody entered: one row per step, all zero
        totals = pd.DataFrame(
            {"n": 0, "events": 0, "open": 0},
            index=pd.MultiIndex.from_product([["All"], range(1, n + 1)], names=["g", "step"]),
        )
    sizes = {g: int(totals.loc[(g, 1), "n"]) for g in totals.index.get_level_values("g").unique()}
    groups = sorted(sizes, key=lambda g: (g == OTHER, -sizes[g], str(g)))
    rows = []
    for g in groups:
        for k in range(1, n + 1):
            t = totals.loc[(g, k)] if (g, k) in totals.index else {"n": 0, "events": 0, "open": 0}
            rows.append(
                {
                    "group": g,
                    "step": k,
                    "entered": int(t["n"]),
                    "converted": int(t["events"]),
                    "still_open": int(t["open"]),
                    "median_seconds": np.nan,
                    "p90_seconds": np.nan,
                }
            )
    out = pd.DataFrame(rows)
    curves = []
    timed = km if order == "any" else km[km["step"] > 1]
    if len(timed):
        for (g, k), part in timed.groupby(["g", "step"], sort=False):
            times, survival = kaplan_meier(part["d"].to_numpy() / 1e6, part["events"], part["n"])
            if len(times) == 0:
                continue
            share = 1.0 - survival
            row = (out["group"] == g) & (out["step"] == k)
            out.loc[row, "median_seconds"] = km_quantile(times, share / share[-1], 0.5)
            out.loc[row, "p90_seconds"] = km_quantile(times, share / share[-1], 0.9)
            curves.append(
                pd.DataFrame({"group": g, "step": int(k), "seconds": times, "converted_share": share})
            )
    # in the table's order of groups, then steps, whatever order the engine returned the rows in
    rank = {g: i for i, g in enumerate(groups)}
    curves.sort(key=lambda c: (rank.get(c["group"].iloc[0], len(rank)), int(c["step"].iloc[0])))
    out["units"] = out["group"].map(sizes)
    out["dropped"] = out["entered"] - out["converted"]
    out["step_name"] = out["step"].map({i + 1: s.name for i, s in enumerate(steps)}).astype(STRING)
    out["group"] = out["group"].astype(STRING)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["conversion_rate"] = out["converted"] / out["entered"].where(out["entered"] > 0)
        out["overall_rate"] = out["converted"] / out["units"].where(out["units"] > 0)
    out["conversion_rate_low"], out["conversion_rate_high"] = wilson(out["converted"], out["entered"])
    out["overall_rate_low"], out["overall_rate_high"] = wilson(out["converted"], out["units"])
    out = out[FRAME_COLUMNS].reset_index(drop=True)
    for col in ("entered", "converted", "dropped", "still_open"):
        out[col] = out[col].astype("int64")
    out["step"] = out["step"].astype("int64")
    return out, _curves(curves, steps)


def _datetimes(micros: pd.Series) -> pd.Series:
    """UTC datetimes from microseconds since the epoch."""
    return pd.to_datetime(micros.to_numpy(dtype="int64"), unit="us", utc=True).to_series(index=micros.index)


def _curves(parts: list[pd.DataFrame], steps: list[Step]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(
            {
                "group": pd.Series([], dtype=STRING),
                "step": pd.Series([], dtype="int64"),
                "step_name": pd.Series([], dtype=STRING),
                "seconds": pd.Series([], dtype=float),
                "converted_share": pd.Series([], dtype=float),
            }
        )
    out = pd.concat(parts, ignore_index=True)
    out["group"] = out["group"].astype(STRING)
    out["step_name"] = out["step"].map({i + 1: s.name for i, s in enumerate(steps)}).astype(STRING)
    return out[["group", "step", "step_name", "seconds", "converted_share"]]
