"""One self-contained HTML report of every analysis: :func:`report`.

The file opens offline in any browser: plotly.js is embedded once, in the head, and every figure is a
``<div>`` drawn by it. Text that comes from the data (conversation and agent names, page URLs, file
names, rejected records) is HTML-escaped, in tables, headings and captions alike.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import AggregatedDataError, ChatAnalyticsError, EmptyDataError, InvalidParameterError

__all__ = ["DEFAULT_STEPS", "FIGURES", "Contents", "Section", "build", "overview", "report"]

#: The funnel of the report unless ``steps`` is given.
DEFAULT_STEPS: tuple[str, ...] = ("triggered", "engaged", "completed")
#: The figure kinds drawn for each analysis, in report order.
FIGURES: dict[str, tuple[str, ...]] = {
    "funnel": ("funnel", "over_time", "time"),
    "agents": ("leaderboard", "accept_time", "heatmap"),
    "timeouts": ("outcomes", "curves", "service_level", "heatmap", "causes"),
}
_TOP = 10  # rows of the conversation and page tables
_REJECTED_SHOWN = 20
_RAW_CHARS = 200

_FIGCAPTIONS: dict[tuple[str, str], str] = {
    ("funnel", "funnel"): "Units reaching each step; the caption under the title gives the unit, window, "
    "order and denominator.",
    ("funnel", "over_time"): "Overall conversion by the day units entered the funnel, with 95% Wilson "
    "bands; days whose last entrants were still inside their window when the data end are marked "
    "immature, as their rates may still rise.",
    ("funnel", "time"): "Share of units that reached each step by the time since the previous step "
    "(Kaplan-Meier: units still inside their window are censored, so recent data do not hide slow "
    "converters).",
    ("agents", "leaderboard"): "Acceptance rate per agent, offers to the agent as the denominator, with "
    "95% Wilson intervals; a Team-routing retry is a second offer.",
    ("agents", "accept_time"): "Time from each offer to the agent's accept, accepted offers only; "
    "Adobe's accept window is 100 s.",
    ("agents", "heatmap"): "Offers and missed offers by local weekday and hour of the offer.",
    ("timeouts", "outcomes"): "What became of each live-chat request: accepted, missed, the visitor "
    "left, or still open at the end of the data; 95% Wilson intervals.",
    ("timeouts", "curves"): "Share of requests accepted by each wait since the request's first offer "
    "(Kaplan-Meier), with its band and the number at risk; the censoring rule is in the figure's "
    "caption and in the parameters below.",
    ("timeouts", "service_level"): "Share of all requests accepted within T seconds; visitors who left "
    "and missed requests count against, requests still open are censored (Aalen-Johansen).",
    ("timeouts", "heatmap"): "Miss rate (missed / requests) beside request volume, by local weekday and "
    "hour of the request's first offer.",
    ("timeouts", "causes"): "Why missed requests were missed: no agent offered (staffing), the offered "
    "agent at the 10-chat cap (staffing), or the offered agent not accepting (response).",
}

_DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Event",
        "One Dynamic Chat callback (conversation triggered, engaged, completed, closed; phone and "
        "email input; meeting booked; live chat requested, initiated, ended, request timeout).",
    ),
    ("Session", "A Dynamic Chat session id (payload sid)."),
    (
        "Conversation",
        "A Dialogue or Conversational Flow (payload id); the funnel counts a conversation "
        "in a session once, from its first step.",
    ),
    (
        "Funnel window",
        "Every step must fall within the window of the unit's first step event; an event "
        "exactly at the end counts.",
    ),
    (
        "Request",
        "A live-chat request: the LIVE_CHAT_REQUESTED events of a conversation in a session up "
        "to its outcome; each is an offer to the agent it names, and a second one before any outcome is "
        "Team routing's retry.",
    ),
    ("Accepted", "LIVE_CHAT_INITIATED by the offered agent."),
    (
        "Missed",
        "No agent accepted within Adobe's 100-second window (LIVE_CHAT_REQUEST_TIMEOUT), after "
        "Team routing's second agent when there is one.",
    ),
    ("Left", "The visitor closed or completed the conversation before any accept."),
    ("Open", "Nothing followed the request before the end of the data."),
    ("Idle timeout", "An accepted chat ended by the 10-minute idle LIVE_CHAT_REQUEST_TIMEOUT."),
    (
        "Service level",
        "P(accepted within T): accepted within T seconds / all requests; left and missed "
        "requests count against, open requests are censored.",
    ),
    (
        "Censoring",
        "A wait whose end was not observed (the visitor left first, or the request was still open "
        "at the end of the data) is censored: it counts as lasting at least that long, never as a wait "
        "to accept. The timeout parameters below state the rule of each curve.",
    ),
    (
        "95% interval",
        "Wilson score interval for rates; Greenwood (log-log) bands for Kaplan-Meier "
        "curves; Aalen-Johansen bands for cumulative incidence.",
    ),
    (
        "Time basis",
        "Hours, weekdays and days are local to the report's time zone; funnel periods are "
        "those of the unit's first step.",
    ),
)

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;
background:#fff}
main{max-width:1120px;margin:0 auto;padding:24px 28px 64px}
h1{font-size:28px;margin:8px 0 4px}h2{font-size:22px;margin:40px 0 8px;padding-top:12px;
border-top:1px solid #d0d7de}h3{font-size:17px;margin:24px 0 6px}
.meta,.caption,figcaption{color:#57606a;font-size:13px}.headline{font-weight:600}
nav ol{columns:2;margin:8px 0}nav a{text-decoration:none}
figure{margin:16px 0 28px}.table-wrap{overflow-x:auto;margin:8px 0 16px}
table.data{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
table.data th,table.data td{padding:3px 8px;border-bottom:1px solid #eaeef2;text-align:left;
white-space:nowrap}table.data th{background:#f6f8fa;position:sticky;top:0}
table.data tr:nth-child(even) td{background:#fbfcfd}
.unavailable{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px}
dl.defs dt{font-weight:600;margin-top:8px}dl.defs dd{margin:0 0 0 16px}
table.params th{text-align:left;padding:2px 16px 2px 0;font-weight:600;vertical-align:top}
table.params td{padding:2px 0}
"""


@dataclass
class Section:
    """One section of the report: an anchor id, a heading and its body (HTML fragments, escaped)."""

    id: str
    title: str
    body: list[str] = field(default_factory=list)


@dataclass
class Contents:
    """Everything a report holds before it is written: sections, figures and the analysis results.

    ``results`` maps ``"funnel"``, ``"agents"`` and ``"timeouts"`` to their result object, or to ``None``
    when the analysis was not available (its reason in ``unavailable``).
    """

    title: str
    sections: list[Section]
    figures: dict[str, Any]
    results: dict[str, Any]
    unavailable: dict[str, str]
    generated: str

    def html(self) -> str:
        """The whole report as one HTML document (plotly.js embedded once)."""
        from plotly.offline import get_plotlyjs

        toc = "".join(f'<li><a href="#{s.id}">{html.escape(s.title)}</a></li>' for s in self.sections)
        body = "".join(
            f'<section id="{s.id}"><h2>{html.escape(s.title)}</h2>{"".join(s.body)}</section>'
            for s in self.sections
        )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head>'
            f"<body><main><header><h1>{html.escape(self.title)}</h1>"
            f'<p class="meta">{html.escape(self.generated)}</p></header>'
            f'<nav id="contents"><h2>Contents</h2><ol>{toc}</ol></nav>{body}</main></body></html>\n'
        )

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`html` to ``path`` (its folder is created when missing)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.html(), encoding="utf-8")
        return target


def report(
    events: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    tz: str = "UTC",
    steps: Sequence[Any] | None = None,
    window: Any = "30min",
    title: str | None = None,
    progress: bool = False,
) -> Path:
    """Write one self-contained HTML report of every analysis of ``events``.

    The report has a table of contents; an overview (parameters, data span, counts, the busiest
    conversations and pages); the load report (what was read, rejected, de-duplicated and ignored); the
    funnel, the live-chat agents and the live-chat timeouts, each with its headline, figures, tables and
    parameters; and the definitions behind the numbers. An analysis the data cannot support (no live
    chat, say) gets a short "not available" note with the reason instead. The file works offline:
    plotly.js is embedded once, nothing is fetched.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events, ideally as returned by :func:`read_events` (then the load report is included;
        for other frames the report says that there is none).
    path : str or path-like
        The ``.html`` file to write; its folder is created when missing.
    tz : str, default "UTC"
        Time zone of the data span, the funnel's periods and the hours, weekdays and days of the
        live-chat analyses.
    steps : list, optional
        Funnel steps (see :func:`funnel`); triggered, engaged, completed by default.
    window : str or Timedelta, default "30min"
        Funnel window.
    title : str, optional
        Heading of the report; "Dynamic Chat report" with the data span by default.
    progress : bool, default False
        Show a progress bar (tqdm; a widget in notebooks) while the analyses and figures are computed.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InvalidParameterError
        ``path`` does not end in ``.html``, ``tz`` is not a time zone, or ``steps`` / ``window`` are
        not valid funnel parameters.
    EmptyDataError
        ``events`` holds no events at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import chatanalytics as ca
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = ca.report(ca.load_sample(), pathlib.Path(d) / "report.html", tz="America/New_York")
    ...     text = p.read_text(encoding="utf-8")
    >>> '<section id="load-report">' in text and '<section id="timeouts">' in text
    True
    """
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise InvalidParameterError("path", str(target), [".html"], reason="a report is an .html file")
    contents = build(events, tz=tz, steps=steps, window=window, title=title, progress=progress)
    return contents.write(target)


# ---------------------------------------------------------------------------------------------- building
def build(
    events: pd.DataFrame,
    *,
    tz: str = "UTC",
    steps: Sequence[Any] | None = None,
    window: Any = "30min",
    title: str | None = None,
    progress: bool = False,
) -> Contents:
    """Compute the analyses and figures of :func:`report` and return them, unwritten.

    Parameters are those of :func:`report`. The command line uses the figures (``--png``) and the
    results (its CSV tables) from the same computation.
    """
    from .analysis import agent_performance, event_counts, funnel, timeouts

    if not isinstance(events, pd.DataFrame):
        raise InvalidParameterError(
            "events", type(events).__name__, reason="a report needs a pandas DataFrame of canonical events"
        )
    try:
        pd.Timestamp("2026-01-01", tz=tz)
    except Exception:
        raise InvalidParameterError("tz", tz, reason="not a time zone") from None
    step_list = list(DEFAULT_STEPS if steps is None else steps)
    counts = event_counts(events)  # also checks the frame against the canonical schema
    if len(events) == 0:
        raise EmptyDataError(f"no events to report{_why_empty(events)}")
    span = overview(events, tz)
    dates = f"{span['first'][:10]} to {span['last'][:10]}"
    heading = title if title is not None else f"Dynamic Chat report, {dates}"
    analyses: dict[str, Callable[[], Any]] = {
        "funnel": lambda: funnel(events, steps=step_list, window=window),
        "agents": lambda: agent_performance(events, tz=tz),
        "timeouts": lambda: timeouts(events, tz=tz),
    }
    results: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    figures: dict[str, Any] = {}
    figure_html: dict[str, list[str]] = {}
    total = len(analyses) + sum(len(k) for k in FIGURES.values())
    with _progress(total, "report", progress) as bar:
        for name, run in analyses.items():
            bar.set_postfix_str(name)
            try:
                results[name] = run()
            except (EmptyDataError, AggregatedDataError) as err:
                results[name] = None
                unavailable[name] = str(err)
            bar.update(1)
            figure_html[name] = []
            for kind in FIGURES[name]:
                if results[name] is not None:
                    key = name if kind == name else f"{name}_{kind}"
                    figure_html[name].append(_figure_block(results[name], name, kind, key, tz, figures))
                bar.update(1)

    sections = [
        _overview(events, counts, span, tz, results, unavailable),
        _load_section(events),
        _funnel_section(results["funnel"], unavailable.get("funnel"), figure_html["funnel"]),
        _agents_section(results["agents"], unavailable.get("agents"), figure_html["agents"]),
        _timeouts_section(results["timeouts"], unavailable.get("timeouts"), figure_html["timeouts"]),
        _definitions(),
    ]
    from . import __version__

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    generated = f"Generated {now} by chatanalytics {__version__}; time zone {tz}."
    return Contents(heading, sections, figures, results, unavailable, generated)


def overview(events: pd.DataFrame, tz: str = "UTC") -> dict[str, Any]:
    """Span and distinct counts of a canonical event frame.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events.
    tz : str, default "UTC"
        Time zone of ``first`` and ``last``.

    Returns
    -------
    dict
        ``events`` (the sum of ``event_count``), ``rows``, ``first`` and ``last`` (local times as
        ``YYYY-MM-DD HH:MM``, empty without events), ``sessions``, ``conversations`` (distinct
        conversation ids), ``visitors`` and ``agents``.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> from chatanalytics.report import overview
    >>> ev = ca.make_events([{"event_time_utc": "2026-11-02 23:30", "event_type": "triggered",
    ...                       "session_id": "s1", "conversation_id": 7}])
    >>> o = overview(ev, "America/New_York")
    >>> o["first"], o["sessions"], o["agents"]
    ('2026-11-02 18:30', 1, 0)
    """
    times = events["event_time_utc"]
    if len(times.dropna()):
        local = times.dropna().dt.tz_convert(tz)
        first, last = local.min().strftime("%Y-%m-%d %H:%M"), local.max().strftime("%Y-%m-%d %H:%M")
    else:
        first = last = ""
    return {
        "events": int(events["event_count"].fillna(1).astype("int64").sum()),
        "rows": len(events),
        "first": first,
        "last": last,
        "sessions": int(events["session_id"].nunique()),
        "conversations": int(events["conversation_id"].nunique()),
        "visitors": int(events["visitor_id"].nunique()),
        "agents": int(events["agent_id"].nunique()),
    }


# ---------------------------------------------------------------------------------------------- pieces
def _why_empty(events: pd.DataFrame) -> str:
    from .io import load_report

    try:
        c = load_report(events).counts()
    except InvalidParameterError:
        c = None
    if c is None or c["events"]:  # no report, or a report of other rows than these
        return ": the frame is empty"
    return (
        f": of the {c['records']:,} records read, {c['rejected']:,} were rejected and {c['ignored']:,} "
        "ignored (`chatanalytics inspect` lists why)"
    )


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


@contextmanager
def _progress(total: int, desc: str, enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield _NoBar()
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit="step") as bar:
        yield bar


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _note(text: str) -> str:
    return f'<p class="unavailable">{_esc(text)}</p>'


def _num(x: float) -> str:
    if not np.isfinite(x):
        return ""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"


def _int(x: Any) -> str:
    return f"{int(x):,}"


def _table(frame: pd.DataFrame, caption: str | None = None) -> str:
    """A frame as an escaped HTML table in a scrolling box, with an optional caption above it."""
    ints = [c for c, d in frame.dtypes.items() if pd.api.types.is_integer_dtype(d)]
    frame = frame.assign(**{c: frame[c].map(_int, na_action="ignore") for c in ints})
    table = frame.to_html(
        index=False,
        escape=True,
        classes="data",
        border=0,
        na_rep="",
        float_format=_num,
        justify="left",
    )
    cap = f'<p class="caption">{_esc(caption)}</p>' if caption else ""
    return f'{cap}<div class="table-wrap">{table}</div>'


def _value(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "none"
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={_value(x)}" for k, x in v.items()) if v else "none"
    if isinstance(v, (list, tuple)):
        return " → ".join(_value(x) for x in v) if v else "none"
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def _params(params: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(_value(v))}</td></tr>" for k, v in params.items())
    return f'<h3>Parameters</h3><div class="table-wrap"><table class="params">{rows}</table></div>'


def _figure_block(result: Any, name: str, kind: str, key: str, tz: str, figures: dict[str, Any]) -> str:
    style = {"tz": tz} if (name, kind) == ("funnel", "over_time") else {}
    try:
        fig = result.figure(kind, **style)
    except ChatAnalyticsError as err:  # e.g. no unit entered the funnel: nothing to draw
        return _note(f"The {kind.replace('_', ' ')} figure is not available: {err}")
    figures[key] = fig
    height = fig.layout.height or 480
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"fig-{key}",
        default_width="100%",
        default_height=f"{height}px",
        config={"displaylogo": False, "responsive": True},
    )
    return (
        f'<figure id="figure-{key}">{div}<figcaption>{_esc(_FIGCAPTIONS[(name, kind)])}</figcaption></figure>'
    )


def _unavailable(what: str, reason: str | None) -> list[str]:
    return [_note(f"{what} not available: {reason}")]


# ---------------------------------------------------------------------------------------------- sections
def _overview(
    events: pd.DataFrame,
    counts: pd.DataFrame,
    span: dict[str, Any],
    tz: str,
    results: dict[str, Any],
    unavailable: dict[str, str],
) -> Section:
    s = Section("overview", "Overview")
    s.body.append(
        f'<p class="headline">{span["events"]:,} events from {_esc(span["first"])} to {_esc(span["last"])} '
        f"({_esc(tz)}): {span['sessions']:,} sessions, {span['conversations']:,} conversations, "
        f"{span['visitors']:,} visitors, {span['agents']:,} live-chat agents.</p>"
    )
    lines = []
    for name, label in (("funnel", "Funnel"), ("agents", "Agents"), ("timeouts", "Timeouts")):
        r = results.get(name)
        text = r._line() if r is not None else f"{label}: not available: {unavailable.get(name, '')}"
        lines.append(f'<li>{_esc(text)} (<a href="#{name}">{_esc(label.lower())}</a>)</li>')
    s.body.append(f"<h3>Headlines</h3><ul>{''.join(lines)}</ul>")
    params = {"time zone": tz}
    if results.get("funnel") is not None:
        p = results["funnel"].params
        params.update({"funnel steps": p["steps"], "funnel window": p["window"], "funnel unit": p["unit"]})
    s.body.append(_params(params))
    s.body.append("<h3>Events by type</h3>" + _table(counts))
    convs = _top_conversations(events)
    if len(convs):
        s.body.append(
            "<h3>Conversations</h3>"
            + _table(
                convs, f"The {_TOP} conversations seen in the most sessions (name: the latest recorded)."
            )
        )
    pages = _top_pages(events)
    if len(pages):
        s.body.append("<h3>Pages</h3>" + _table(pages, f"The {_TOP} pages with the most sessions."))
    return s


def _top_conversations(events: pd.DataFrame) -> pd.DataFrame:
    ev = events[events["conversation_id"].notna()]
    if not len(ev):
        return pd.DataFrame()
    g = ev.groupby("conversation_id", sort=True)
    out = pd.DataFrame(
        {
            "conversation_name": g["conversation_name"].last(),
            "conversation_type": g["conversation_type"].last(),
            "ui_type": g["ui_type"].last(),
            "sessions": g["session_id"].nunique(),
            "events": g["event_count"].sum().astype("int64"),
        }
    ).reset_index()
    out = out.sort_values(["sessions", "events", "conversation_id"], ascending=[False, False, True])
    return out.head(_TOP).reset_index(drop=True)


def _top_pages(events: pd.DataFrame) -> pd.DataFrame:
    ev = events[events["page_url"].notna()]
    if not len(ev):
        return pd.DataFrame()
    g = ev.groupby("page_url", sort=True)
    out = pd.DataFrame(
        {"sessions": g["session_id"].nunique(), "events": g["event_count"].sum().astype("int64")}
    ).reset_index()
    out = out.sort_values(["sessions", "events", "page_url"], ascending=[False, False, True])
    return out.head(_TOP).reset_index(drop=True)


def _load_section(events: pd.DataFrame) -> Section:
    from .io import load_report

    s = Section("load-report", "Load report")
    try:
        rep = load_report(events)
    except InvalidParameterError as err:
        s.body.append(_note(f"No load report for these events: {err}"))
        return s
    c = rep.counts()
    s.body.append(
        f'<p class="headline">{c["records"]:,} records read from {len(rep.files):,} file(s): '
        f"{c['events']:,} events, {c['rejected']:,} rejected, {c['duplicates']:,} duplicates, "
        f"{c['ignored']:,} ignored.</p>"
        '<p class="caption">Every record read is exactly one of: an event; rejected (unreadable); a '
        "duplicate of an event read earlier (same event id, or the same type, time, session, "
        "conversation and agent; the first one read is kept); or ignored (a well-formed record whose "
        "event name is not one of the 11 Dynamic Chat events). The four counts add up to the records "
        "read.</p>"
    )
    summary = rep.summary()
    summary["share"] = summary["share"].map("{:.2%}".format)
    s.body.append(_table(summary))
    s.body.append("<h3>Files</h3>" + _table(rep.files))
    if len(rep.rejected):
        shown = rep.rejected.head(_REJECTED_SHOWN).copy()
        shown["raw"] = shown["raw"].map(
            lambda r: r if not isinstance(r, str) or len(r) <= _RAW_CHARS else r[:_RAW_CHARS] + "…"
        )
        more = len(rep.rejected) - len(shown)
        s.body.append(
            "<h3>Rejected records</h3>"
            + _table(rep.rejected_reasons())
            + _table(
                shown, f"The first {len(shown)} rejected records" + (f" ({more:,} more)." if more else ".")
            )
        )
    if len(rep.duplicates):
        reasons = rep.duplicates["reason"].value_counts().rename_axis("reason").reset_index(name="records")
        s.body.append("<h3>Duplicates</h3>" + _table(reasons))
    if len(rep.ignored):
        s.body.append(
            "<h3>Ignored event names</h3>"
            + _table(rep.ignored_names(), "Most frequent first; a misspelt event name stands out here.")
        )
    if rep.notes:
        s.body.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in rep.notes) + "</ul>")
    return s


def _funnel_section(result: Any, reason: str | None, figs: list[str]) -> Section:
    s = Section("funnel", "Funnel")
    if result is None:
        s.body += _unavailable("The funnel is", reason)
        return s
    from .viz import caption

    s.body.append(f'<p class="headline">{_esc(result._line())}</p>')
    s.body += figs
    s.body.append("<h3>Steps</h3>" + _table(result.frame(), caption(result.params)))
    s.body.append(_params(result.params))
    return s


def _agents_section(result: Any, reason: str | None, figs: list[str]) -> Section:
    s = Section("agents", "Live-chat agents")
    if result is None:
        s.body += _unavailable("Agent performance is", reason)
        return s
    s.body.append(f'<p class="headline">{_esc(result._line())}</p>')
    s.body += figs
    s.body.append(
        "<h3>Agents</h3>"
        + _table(
            result.frame(),
            "One row per agent; acceptance rate = accepted offers / offers, meeting and email rates per "
            "accepted chat, with 95% Wilson bounds; times in seconds.",
        )
    )
    anomalies = result.anomalies
    anomalies = anomalies[anomalies["count"] > 0]
    if len(anomalies):
        s.body.append(
            "<h3>Sequences that break the live-chat rules</h3>" + _table(anomalies, "Counted, never dropped.")
        )
    s.body.append(_params(result.params))
    return s


def _timeouts_section(result: Any, reason: str | None, figs: list[str]) -> Section:
    from .analysis.timeouts import CAUSES

    s = Section("timeouts", "Live-chat timeouts")
    if result is None:
        s.body += _unavailable("The timeout analysis is", reason)
        return s
    s.body.append(f'<p class="headline">{_esc(result._line())}</p>')
    s.body += figs
    outcomes = result.frame("outcomes")
    s.body.append(
        "<h3>Outcomes</h3>"
        + _table(
            outcomes[outcomes["slice"] == "all"],
            "Share of requests (idle timeout: share of accepted chats), with 95% Wilson bounds.",
        )
    )
    s.body.append(
        "<h3>Waits</h3>"
        + _table(
            result.frame("waits"),
            f"Time to accept from the Kaplan-Meier curve; {result.params['censoring']}.",
        )
    )
    s.body.append(
        "<h3>Service level</h3>"
        + _table(result.frame("service_level"), f"Service level: {result.params['service_level_variant']}.")
    )
    causes = result.frame("causes")
    causes["meaning"] = causes["cause"].map(CAUSES)
    s.body.append("<h3>Causes of misses</h3>" + _table(causes))
    s.body.append(_params(result.params))
    return s


def _definitions() -> Section:
    from .analysis.timeouts import CAUSES

    terms = list(_DEFINITIONS) + [(f"Cause: {k}", v) for k, v in CAUSES.items()]
    s = Section("definitions", "Definitions")
    s.body.append(
        '<dl class="defs">' + "".join(f"<dt>{_esc(t)}</dt><dd>{_esc(d)}</dd>" for t, d in terms) + "</dl>"
    )
    return s
