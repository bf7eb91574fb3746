"""How figures write numbers, durations, dates and text from the data.

Every figure formats through these functions, so a percentage or a duration reads the same in every
hover, label and caption.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "date_text",
    "escape",
    "local_time",
    "percent",
    "period_text",
    "range_clause",
    "seconds_text",
    "short_names",
    "shorten",
    "whole_percent",
    "wrap",
]


def escape(value: Any) -> str:
    """Text from the data, escaped: plotly reads labels as a subset of HTML.

    Parameters
    ----------
    value : object
        Anything; it is turned into a string first.

    Returns
    -------
    str
        ``<``, ``>`` and ``&`` escaped (quotes kept).

    Examples
    --------
    >>> escape("<b>Ada</b> & co")
    '&lt;b&gt;Ada&lt;/b&gt; &amp; co'
    """
    return html.escape(str(value), quote=False)


def percent(value: float) -> str:
    """A share as a percentage with one decimal, or a dash when it is missing.

    Parameters
    ----------
    value : float
        A share, 0.25 for a quarter; NaN or None when it is missing.

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.1234), percent(float("nan"))
    ('12.3%', '–')
    """
    return "–" if pd.isna(value) else f"{value:.1%}"


def seconds_text(seconds: float) -> str:
    """A duration in the largest whole unit and the next one: ``"45s"``, ``"2min 30s"``, ``"1h 30min"``.

    Parameters
    ----------
    seconds : float
        A duration in seconds, 0 or more.

    Returns
    -------
    str

    Examples
    --------
    >>> seconds_text(45), seconds_text(150), seconds_text(5400), seconds_text(90000)
    ('45s', '2min 30s', '1h 30min', '1d 1h')
    """
    s = float(seconds)
    if s < 60:
        return f"{s:g}s"
    if s < 3600:
        m, r = divmod(s, 60)
        return f"{m:g}min" + (f" {r:g}s" if r else "")
    if s < 86400:
        h, r = divmod(s, 3600)
        return f"{h:g}h" + (f" {r / 60:g}min" if r else "")
    d, r = divmod(s, 86400)
    return f"{d:g}d" + (f" {r / 3600:g}h" if r else "")


def wrap(text: str, width: int, *, break_on_hyphens: bool = False) -> str:
    """Text wrapped at word boundaries into lines of at most ``width`` characters, joined by ``<br>``.

    plotly does not wrap titles, subtitles or tick labels itself.

    Parameters
    ----------
    text : str
    width : int
    break_on_hyphens : bool, default False
        Also break after hyphens.

    Returns
    -------
    str
        Empty for an empty text.

    Examples
    --------
    >>> wrap("time to reach each step", 10)
    'time to<br>reach each<br>step'
    """
    return "<br>".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=break_on_hyphens))


def date_text(ts: Any) -> str:
    """A time as its UTC date, with hours and minutes unless it falls on midnight.

    Parameters
    ----------
    ts : Timestamp or str
        Naive times are read as UTC.

    Returns
    -------
    str

    Examples
    --------
    >>> date_text("2026-10-10"), date_text("2026-10-10 14:30+02:00")
    ('2026-10-10', '2026-10-10 12:30')
    """
    ts = pd.Timestamp(ts)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M")


def local_time(ts: Any, tz: str) -> pd.Timestamp:
    """A time as naive local time in ``tz`` (naive input is read as UTC).

    Parameters
    ----------
    ts : Timestamp or str
    tz : str
        An IANA time zone.

    Returns
    -------
    pandas.Timestamp
        Without a time zone.

    Examples
    --------
    >>> local_time("2026-10-12 04:00", "America/New_York")
    Timestamp('2026-10-12 00:00:00')
    """
    ts = pd.Timestamp(ts)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts).tz_convert(tz).tz_localize(None)


def range_clause(params: Mapping[str, Any], what: str) -> list[str]:
    """The caption clause of a result's date range, in its time zone when it falls on local midnights.

    Parameters
    ----------
    params : dict
        A result's ``params``: ``start``, ``end`` (either may be ``None``) and ``tz``.
    what : str
        What the range selects, e.g. ``"offers"``.

    Returns
    -------
    list of str
        Empty without a range, else one clause such as ``"offers in [2026-10-12, …) UTC"``.

    Examples
    --------
    >>> range_clause({"start": "2026-10-12", "end": None, "tz": "UTC"}, "offers")
    ['offers in [2026-10-12, …) UTC']
    """
    bounds = [params.get("start"), params.get("end")]
    if all(b is None for b in bounds):
        return []
    tz = params.get("tz", "UTC")
    given = [local_time(b, tz) for b in bounds if b is not None]
    shown_tz = tz if all(b == b.normalize() for b in given) else "UTC"
    text = []
    for b in bounds:
        if b is None:
            text.append("…")
            continue
        ts = local_time(b, shown_tz)
        text.append(ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M"))
    return [f"{what} in [{text[0]}, {text[1]}) {shown_tz}"]


def shorten(name: Any, n: int = 30) -> str:
    """A name cut in the middle to at most ``n`` characters, so names alike at the start stay apart.

    Figures show the cut name on axes and legends and the full name on hover.

    Parameters
    ----------
    name : object
        Turned into a string first.
    n : int, default 30

    Returns
    -------
    str

    Examples
    --------
    >>> shorten("Enterprise pricing page chat for returning visitors 11", 24)
    'Enterprise prici…tors 11'
    """
    text = str(name)
    if len(text) <= n:
        return text
    tail = (n - 1) // 3
    return text[: n - 1 - tail].rstrip() + "…" + text[len(text) - tail :]


def period_text(params: Mapping[str, Any], tz: str | None = None) -> str:
    """The period a result covers, for a subtitle: its dates in ``tz``, or "all dates" without a range.

    Parameters
    ----------
    params : dict
        A result's ``params``: ``start`` and ``end`` (either may be ``None``; ``end`` is exclusive).
    tz : str, optional
        The time zone; ``params["tz"]`` (else UTC) by default.

    Returns
    -------
    str

    Examples
    --------
    >>> period_text({"start": "2026-10-12", "end": "2026-10-19"})
    '2026-10-12 to 2026-10-18'
    >>> period_text({"start": None, "end": None})
    'all dates in the data'
    """
    tz = tz or params.get("tz") or "UTC"
    start, end = params.get("start"), params.get("end")
    if start is None and end is None:
        return "all dates in the data"
    first = "…" if start is None else _day(local_time(start, tz), False)
    last = "…" if end is None else _day(local_time(end, tz), True)
    return f"{first} to {last}"


def _day(ts: pd.Timestamp, is_end: bool) -> str:
    if ts == ts.normalize():
        return (ts - pd.Timedelta(days=1) if is_end else ts).strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M")


def short_names(names: Sequence[Any], n: int = 30) -> dict[str, str]:
    """Each distinct name cut to at most ``n`` characters (:func:`shorten`), kept apart.

    Names that would cut to the same text are cut longer, until they differ.

    Parameters
    ----------
    names : sequence
        Turned into strings first.
    n : int, default 30

    Returns
    -------
    dict of str -> str
        Full name -> shown name.

    Examples
    --------
    >>> urls = ["https://example.com/a/webinar-oct", "https://example.com/b/webinar-oct"]
    >>> list(short_names(urls, 20).values())
    ['https://example.com/a…ebinar-oct', 'https://example.com/b…ebinar-oct']
    """
    full = list(dict.fromkeys(str(x) for x in names))
    shown = {x: shorten(x, n) for x in full}
    width = n
    longest = max((len(x) for x in full), default=0)
    while len(set(shown.values())) < len(full) and width < longest:
        width += 4
        seen: dict[str, int] = {}
        for v in shown.values():
            seen[v] = seen.get(v, 0) + 1
        shown = {x: shorten(x, width) if seen[v] > 1 else v for x, v in shown.items()}
    return shown


def whole_percent(value: float) -> str:
    """A share as a whole percentage, for titles, or a dash when it is missing.

    Examples
    --------
    >>> whole_percent(0.771), whole_percent(float("nan"))
    ('77%', '–')
    """
    return "–" if pd.isna(value) else f"{value:.0%}"
