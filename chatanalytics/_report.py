"""One self-contained HTML report of every analysis: :func:`report`.

The file opens offline in any browser: plotly.js is embedded once, in the head, and every figure is a
``<div>`` drawn by it. Text that comes from the data (conversation and agent names, page URLs, file
names, rejected records) is HTML-escaped, in tables, headings and captions alike.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import AggregatedDataError, ChatAnalyticsError, EmptyDataError, InvalidParameterError

__all__ = ["DEFAULT_STEPS", "Contents", "Section", "build", "overview", "report"]

#: The funnel of the report unless ``steps`` is given: triggered, engaged, the lead captured (an email
#: or a phone number given), completed.
DEFAULT_STEPS: tuple[Any, ...] = ("triggered", "engaged", ("email_input", "phone_input"), "completed")
_TOP = 10  # rows of the conversation and page tables
_REJECTED_SHOWN = 20
_RAW_CHARS = 200

#: Terms every report defines; each analysis adds the definitions of its result.
_DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Event",
        "One Dynamic Chat callback (conversation triggered, engaged, completed, closed; phone and "
        "email input; meeting booked; live chat requested, initiated, ended, request timeout).",
    ),
    ("Session", "A Dynamic Chat session id (payload sid)."),
    (
        "Time basis",
        "Hours, weekdays and days are local to the report's time zone; funnel periods are "
        "those of the unit's first step.",
    ),
    (
        "Offer, request",
        "A live-chat request is one visitor asking for an agent; an offer is the request offered to one "
        "agent. A request can be offered to several agents in turn, or to none: agent figures count "
        "offers, timeout figures count requests.",
    ),
)
# said under the headlines when both the agents' (per offer) and the timeouts' (per request) are shown
_DENOMINATORS = (
    "The agents' rates are shares of offers, the timeouts' shares of requests: a request can be offered "
    "to several agents in turn, or to none."
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
details.about{margin:4px 0 8px;font-size:13px}details.about summary{cursor:pointer;color:#0969da}
"""


Block = dict[str, Any]


@dataclass
class Section:
    """One section of the report: an anchor id, a heading and its blocks (see the template)."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Contents:
    """Everything a report holds before it is written: sections, figures and the analysis results.

    ``results`` maps each registered analysis (:data:`chatanalytics.analysis.ANALYSES`) to its result,
    or to ``None`` when the analysis was not available (its reason in ``unavailable``).
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

        template = _environment().get_template("report.html.j2")
        page = template.render(
            title=self.title,
            generated=self.generated,
            sections=self.sections,
            css=_markup(_CSS),
            plotlyjs=_markup(get_plotlyjs()),
        )
        return page + "\n"

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`html` to ``path`` (its folder is created when missing)."""
        from .io._atomic import replacing

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with replacing(target) as temp:  # a reader never sees half a report
            temp.write_text(self.html(), encoding="utf-8")
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
        Funnel steps (see :func:`funnel`); by default triggered, engaged, email or phone given (the
        lead captured), completed.
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
    from .analysis import ANALYSES, ReportOptions, event_counts

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
    options = ReportOptions(tz=tz, steps=step_list, window=window)
    analyses = list(ANALYSES.values())
    results: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    figures: dict[str, Any] = {}
    sections = [Section("overview", "Overview"), _load_section(events)]
    total = len(analyses) + sum(len(a.report_figures()) for a in analyses)
    with _progress(total, "report", progress) as bar:
        for analysis in analyses:
            bar.set_postfix_str(analysis.name)
            try:
                results[analysis.name] = analysis.run(events, options)
            except (EmptyDataError, AggregatedDataError) as err:
                results[analysis.name] = None
                unavailable[analysis.name] = str(err)
            bar.update(1)
            sections.append(
                _result_section(analysis, results[analysis.name], unavailable, options, figures, bar)
            )
    sections[0] = _overview(events, counts, span, tz, results, unavailable)
    sections.append(_definitions(results))
    from . import __version__

    now = pd.Timestamp(dt.datetime.now(dt.UTC)).tz_convert(tz).strftime("%Y-%m-%d %H:%M")
    generated = f"Generated {now} ({tz}) by chatanalytics {__version__}; every time here is in {tz}."
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
    >>> from chatanalytics._report import overview
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


def _environment() -> Any:
    """The Jinja2 environment of the report templates (autoescaping on for every template)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("chatanalytics", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _markup(text: str) -> Any:
    """Text that is already HTML (made by plotly or the Styler), so the template inserts it as it is."""
    from markupsafe import Markup

    return Markup(text)


def _note(text: str) -> Block:
    return {"kind": "note", "text": text}


def _table(frame: pd.DataFrame, caption: str | None = None, heading: str | None = None) -> Block:
    """A frame as a table block, rendered through pandas' Styler (cells escaped)."""
    from .analysis import styled

    return {"kind": "table", "html": _markup(styled(frame).to_html()), "caption": caption, "heading": heading}


def _value(v: Any, tz: str = "UTC") -> str:
    """A parameter's value in words; times in the report's time zone ``tz``."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "none"
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={_value(x, tz)}" for k, x in v.items()) if v else "none"
    if isinstance(v, (list, tuple)):
        return " → ".join(_value(x, tz) for x in v) if v else "none"
    if isinstance(v, pd.Timestamp):
        return (v.tz_convert(tz) if v.tzinfo is not None else v).isoformat()
    return str(v)


def _params(params: Mapping[str, Any], tz: str = "UTC") -> Block:
    return {"kind": "params", "rows": [(str(k), _value(v, tz)) for k, v in params.items()]}


def _figure_block(
    result: Any, kind: str, spec: Any, key: str, options: Any, figures: dict[str, Any]
) -> Block:
    style = {name: getattr(options, name) for name in spec.report_style}
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
    meta = fig.layout.meta
    about = meta.get("about") if isinstance(meta, Mapping) else None
    return {"kind": "figure", "key": key, "html": _markup(div), "caption": spec.caption, "about": about}


# ---------------------------------------------------------------------------------------------- sections
def _result_section(
    analysis: Any, result: Any, unavailable: dict[str, str], options: Any, figures: dict[str, Any], bar: Any
) -> Section:
    """An analysis' section: headline, figures, tables and parameters, all declared by its result."""
    s = Section(analysis.name, analysis.title)
    kinds = analysis.report_figures()
    if result is None:
        s.blocks.append(_note(f"{analysis.subject} is not available: {unavailable.get(analysis.name)}"))
        bar.update(len(kinds))
        return s
    s.blocks.append({"kind": "headline", "text": result.headline()})
    from .widgets._base import about_html

    # the definitions behind the section's figures, one click away
    s.blocks.append({"kind": "about", "html": _markup(about_html(result, options.tz))})
    for kind, spec in kinds.items():
        s.blocks.append(_figure_block(result, kind, spec, analysis.figure_key(kind), options, figures))
        bar.update(1)
    for view in result.report_tables(tz=options.tz):
        s.blocks.append(_table(view.frame, view.caption or None, view.heading))
    s.blocks.append(_params(result.params, options.tz))
    return s


def _overview(
    events: pd.DataFrame,
    counts: pd.DataFrame,
    span: dict[str, Any],
    tz: str,
    results: dict[str, Any],
    unavailable: dict[str, str],
) -> Section:
    from .analysis import ANALYSES

    s = Section("overview", "Overview")
    s.blocks.append(
        {
            "kind": "headline",
            "text": f"{span['events']:,} events from {span['first']} to {span['last']} ({tz}): "
            f"{span['sessions']:,} sessions, {span['conversations']:,} conversations (Dialogues or Flows), "
            f"{span['visitors']:,} visitors, {span['agents']:,} live-chat agents.",
        }
    )
    items = []
    params: dict[str, Any] = {"time zone": tz}
    for name, analysis in ANALYSES.items():
        if name not in results:
            continue
        r = results[name]
        label = name.replace("_", " ").capitalize()
        text = r.headline() if r is not None else f"{label}: not available: {unavailable.get(name, '')}"
        items.append({"text": text, "link": name, "label": label.lower()})
        if r is not None:
            params.update({f"{name} {k}": r.params[k] for k in analysis.overview})
    s.blocks.append({"kind": "list", "heading": "Headlines", "items": items})
    if results.get("agents") is not None and results.get("timeouts") is not None:
        s.blocks.append({"kind": "caption", "text": _DENOMINATORS})
    s.blocks.append(_params(params, tz))
    s.blocks.append(_table(counts, heading="Events by type"))
    convs = _top(events, "conversation_id", ("conversation_name", "conversation_type", "ui_type"))
    if len(convs):
        s.blocks.append(
            _table(
                convs,
                f"The {_TOP} conversations seen in the most sessions (name: the latest recorded).",
                "Conversations",
            )
        )
    pages = _top(events, "page_url")
    if len(pages):
        s.blocks.append(_table(pages, f"The {_TOP} pages with the most sessions.", "Pages"))
    return s


def _top(events: pd.DataFrame, key: str, latest: tuple[str, ...] = ()) -> pd.DataFrame:
    """The ``_TOP`` values of ``key`` seen in the most sessions (then events, then by value), with the
    ``latest`` columns' last recorded values, ``sessions`` and ``events``; empty when ``key`` is never set.
    """
    ev = events[events[key].notna()]
    if not len(ev):
        return pd.DataFrame()
    g = ev.groupby(key, sort=True)
    out = pd.DataFrame(
        {
            **{c: g[c].last() for c in latest},
            "sessions": g["session_id"].nunique(),
            "events": g["event_count"].sum().astype("int64"),
        }
    ).reset_index()
    out = out.sort_values(["sessions", "events", key], ascending=[False, False, True])
    return out.head(_TOP).reset_index(drop=True)


def _load_section(events: pd.DataFrame) -> Section:
    from .io import load_report

    s = Section("load-report", "Load report")
    try:
        rep = load_report(events)
    except InvalidParameterError as err:
        s.blocks.append(_note(f"No load report for these events: {err}"))
        return s
    c = rep.counts()
    s.blocks.append(
        {
            "kind": "headline",
            "text": f"{c['records']:,} records read from {len(rep.files):,} file(s): {c['events']:,} events, "
            f"{c['rejected']:,} rejected, {c['duplicates']:,} duplicates, {c['ignored']:,} ignored"
            + (f"; {c['derived']:,} events derived from them." if c["derived"] else "."),
        }
    )
    s.blocks.append(
        {
            "kind": "caption",
            "text": "Every record read is exactly one of: an event; rejected (unreadable); a duplicate of an "
            "event read earlier (same event id, or the same type, time, session, conversation and agent; "
            "the first one read is kept); or ignored (a well-formed record whose event name is not one of "
            "the 11 Dynamic Chat events). The four counts add up to the records read. A derived event "
            "(a Marketo Conversation Status read as a completed or closed conversation) is no record: it "
            "adds a row beside its record's event.",
        }
    )
    summary = rep.summary()
    summary["share"] = summary["share"].map(lambda x: "" if pd.isna(x) else f"{x:.2%}")
    s.blocks.append(_table(summary))
    s.blocks.append(_table(rep.files, heading="Files"))
    if len(rep.rejected):
        shown = rep.rejected.head(_REJECTED_SHOWN).copy()
        shown["raw"] = shown["raw"].map(
            lambda r: r if not isinstance(r, str) or len(r) <= _RAW_CHARS else r[:_RAW_CHARS] + "…"
        )
        more = len(rep.rejected) - len(shown)
        s.blocks.append(_table(rep.rejected_reasons(), heading="Rejected records"))
        s.blocks.append(
            _table(
                shown, f"The first {len(shown)} rejected records" + (f" ({more:,} more)." if more else ".")
            )
        )
    if len(rep.duplicates):
        reasons = rep.duplicates["reason"].value_counts().rename_axis("reason").reset_index(name="records")
        s.blocks.append(_table(reasons, heading="Duplicates"))
    if len(rep.ignored):
        s.blocks.append(
            _table(
                rep.ignored_names(),
                "Most frequent first; a misspelt event name stands out here.",
                "Ignored event names",
            )
        )
    if rep.notes:
        s.blocks.append({"kind": "list", "heading": "Notes", "items": [{"text": n} for n in rep.notes]})
    return s


def _definitions(results: dict[str, Any]) -> Section:
    """The general terms, then each analysis' definitions (a term defined twice is listed once)."""
    from .analysis import ANALYSES

    terms = dict(_DEFINITIONS)
    for name in results:
        for term, text in ANALYSES[name].result.DEFINITIONS:
            terms.setdefault(term, text)
    s = Section("definitions", "Definitions")
    s.blocks.append({"kind": "definitions", "items": list(terms.items())})
    return s
