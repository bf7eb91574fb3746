"""What every analysis result is: computed tables plus the parameters that produced them.

A result class declares its tables (name -> documented columns), its figure kinds (kind -> the name of a
function in :mod:`chatanalytics.viz`, looked up only when a figure is drawn), its CSV tables, its
definitions and its headline; :class:`Result` turns that into ``frame`` / ``tables`` / ``figure`` /
``widget`` / ``save`` / ``summary`` / ``describe`` and the notebook display. The report and the command
line know results only through this class.
"""

from __future__ import annotations

import html
import importlib
import re
import warnings
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, overload

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

__all__ = ["FigureKind", "Result", "StoredTable", "TableView", "header", "is_share", "styled"]


@dataclass(frozen=True)
class FigureKind:
    """One kind of figure a result draws.

    Parameters
    ----------
    function : str
        Name of the figure function exported by :mod:`chatanalytics.viz`, or ``"module:function"`` for
        one elsewhere; it is imported when a figure is drawn and called as
        ``function(*tables, params, **style)``.
    tables : tuple of str
        The result's tables passed to it, in order.
    prepare : str, optional
        Name of a result method ``(style: dict) -> (args, style)`` for figures whose data depend on a
        style argument (a period length, an agent): it returns the positional arguments and the style
        arguments left for the figure function. ``tables`` is not used then.
    caption : str
        What the figure shows, in plain words (under the figure in the report, and in ``describe()``).
    report : bool, default True
        Drawn in the report.
    report_style : tuple of str
        Report options (``"tz"``) passed to the figure as style arguments of the same name.
    """

    function: str
    tables: tuple[str, ...] = ()
    prepare: str | None = None
    caption: str = ""
    report: bool = True
    report_style: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableView:
    """A table as shown in the report: a heading, the frame and a caption."""

    heading: str
    frame: pd.DataFrame
    caption: str = ""


class StoredTable:
    """A read-only attribute of a result: one of its tables as stored, not copied.

    For figure functions and drill-downs, which only read; ``frame(name)`` gives a copy.

    Parameters
    ----------
    name : str
        The table, one of the result's ``TABLES``.
    doc : str
        The attribute's docstring.
    """

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> StoredTable: ...

    @overload
    def __get__(self, obj: Result, owner: type | None = None) -> pd.DataFrame: ...

    def __get__(self, obj: Result | None, owner: type | None = None) -> StoredTable | pd.DataFrame:
        if obj is None:
            return self
        return obj.data[self.name]

    def __set__(self, obj: Result, value: Any) -> None:
        raise AttributeError(f"{self.name!r} is read only")


def _num(x: float) -> str:
    if not np.isfinite(x):
        return ""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"


def _cell(x: Any) -> str:
    if x is None or x is pd.NA or x is pd.NaT:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        return _num(float(x))
    return str(x)


# columns holding shares in [0, 1] (rates, shares, service levels, cumulative incidences, with bounds)
_SHARE = re.compile(r"(^|_)(rate|share|service_level|cif_\w+)(_low|_high)?$")
# header words: a unit suffix and the interval's bounds
_HEADER_WORDS = (("_seconds", " (s)"), ("_low", " (95% low)"), ("_high", " (95% high)"))


def is_share(frame: pd.DataFrame, column: Any) -> bool:
    """True when ``column`` of ``frame`` holds shares in [0, 1] by its name (``*_rate``, ``share``,
    ``service_level``, ``cif_*``, and their ``_low`` / ``_high`` bounds) and is numeric.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"acceptance_rate_low": [0.2], "offers": [3], "share": ["x"]})
    >>> [is_share(t, c) for c in t.columns]
    [True, False, False]
    """
    return (
        isinstance(column, str)
        and bool(_SHARE.search(column))
        and pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    )


def header(column: Any) -> str:
    """A column name in words: ``"conversion_rate_low"`` -> ``"Conversion rate (95% low)"``.

    Examples
    --------
    >>> header("p90_seconds"), header("overall_rate_high"), header("agent_id")
    ('P90 (s)', 'Overall rate (95% high)', 'Agent id')
    """
    text = str(column)
    suffix = ""
    for end, words in _HEADER_WORDS:
        if text.endswith(end):
            text, suffix = text[: -len(end)], words
            break
    text = text.replace("_", " ").strip()
    return (text[:1].upper() + text[1:] + suffix) if text else suffix.strip()


def _percent(x: Any) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and not np.isfinite(x)):
        return ""
    return f"{float(x):.1%}"


def styled(frame: pd.DataFrame, *, max_rows: int | None = None, human: bool = True) -> Any:
    """A frame as a pandas ``Styler`` that escapes every cell and header as HTML.

    Counts get thousands separators, shares (rates, with their bounds) are percentages, other numbers
    three significant places at most, missing values stay empty; headers are words ("Conversion
    rate (95% low)"); the index is hidden. The table carries the classes ``dataframe data``. The frame
    itself is not changed: ``result.frame()`` stays raw for code.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    max_rows : int, optional
        Show at most this many rows.
    human : bool, default True
        Percentages and headers in words; ``False`` keeps the column names and shares as numbers.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> import pandas as pd
    >>> html = styled(pd.DataFrame({"name": ["<b>x</b>"], "n": [1234], "overall_rate": [0.359736]})).to_html()
    >>> "&lt;b&gt;x&lt;/b&gt;" in html and "1,234" in html and "<b>x</b>" not in html
    True
    >>> "36.0%" in html and "Overall rate" in html and "0.359736" not in html
    True
    """
    shown = frame if max_rows is None else frame.head(max_rows)
    shown = shown.reset_index(drop=True)
    # columns of mixed or odd types are shown as text; the Styler formats each cell
    out = shown.style.format(_cell, escape="html", na_rep="")
    if human:
        shares = [c for c in shown.columns if is_share(shown, c)]
        if shares:
            out = out.format(_percent, subset=shares, na_rep="")
        out = out.format_index(lambda c: html.escape(header(c)), axis=1)
    else:
        out = out.format_index(escape="html", axis=1)
    return out.hide(axis="index").set_table_attributes('class="dataframe data"')


class _Tables(Mapping[str, pd.DataFrame]):
    """``result.tables``: call it for every table by name (copies); indexing it is deprecated."""

    def __init__(self, result: Result) -> None:
        self._result = result

    def __call__(self) -> dict[str, pd.DataFrame]:
        return {name: self._result.frame(name) for name in self._result.TABLES}

    def __getitem__(self, name: str) -> pd.DataFrame:
        warnings.warn(
            f"result.tables[{name!r}] is deprecated: use result.frame({name!r}) (a copy) or result.tables()",
            FutureWarning,
            stacklevel=2,
        )
        return self._result.frame(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._result.TABLES)

    def __len__(self) -> int:
        return len(self._result.TABLES)


@dataclass(frozen=True, eq=False, repr=False)
class Result:
    """An analysis result: its computed tables and the parameters that produced them.

    Build one with the analysis function (:func:`chatanalytics.funnel`, ...) or rebuild it from its
    tables with :meth:`from_tables`. A subclass declares:

    ``NAME``, ``TITLE``
        The analysis' name (``"funnel"``) and a title for the describe() text.
    ``TABLES``
        Table name -> documented columns (:mod:`chatanalytics.columns`); the first is the default of
        :meth:`frame`. Names in ``DERIVED`` are computed on request from the others by a method
        ``_derive_<name>()``; the others are stored.
    ``FIGURES``
        Figure kind -> :class:`FigureKind`; the first is the default of :meth:`figure`.
    ``CSV``
        File stem -> table name: the tables the command line writes as CSV.
    ``DEFINITIONS``
        ``(term, definition)`` pairs in plain words: denominators, windows, censoring, intervals.
    ``WIDGET``
        Name of the widget class in :mod:`chatanalytics.widgets`.

    and implements :meth:`summary`, :meth:`headline` and :meth:`widget_arguments`; it may override
    :meth:`report_tables` and :meth:`_preview`.

    Attributes
    ----------
    params : dict
        The parameters the result was made with.
    """

    data: Mapping[str, Any]
    params: dict[str, Any]
    events_ref: Any = field(default=None, compare=False)

    NAME: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    TABLES: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    DERIVED: ClassVar[frozenset[str]] = frozenset()
    FIGURES: ClassVar[Mapping[str, FigureKind]] = {}
    CSV: ClassVar[Mapping[str, str]] = {}
    DEFINITIONS: ClassVar[tuple[tuple[str, str], ...]] = ()
    WIDGET: ClassVar[str | None] = None

    # ------------------------------------------------------------------------------ building
    @classmethod
    def from_tables(cls, tables: Mapping[str, Any], params: Mapping[str, Any], *, events: Any = None) -> Any:
        """Rebuild a result from its computed tables and parameters alone.

        Parameters
        ----------
        tables : dict of name -> DataFrame
            At least every stored table (all of :attr:`TABLES` but the derived ones), as returned by
            :meth:`tables`; derived tables given are ignored (they are computed again on request).
        params : dict
            The result's ``params``.
        events : pandas.DataFrame or ibis Table, optional
            The events the tables came from, held by weak reference for :meth:`widget`.

        Returns
        -------
        Result
            Of the class it is called on.

        Raises
        ------
        InvalidParameterError
            A stored table is missing.

        Examples
        --------
        >>> import chatanalytics as ca
        >>> f = ca.funnel(ca.load_sample(), steps=["triggered", "engaged"])
        >>> again = ca.FunnelResult.from_tables(f.tables(), f.params)
        >>> again.frame().equals(f.frame())
        True
        """
        stored = [name for name in cls.TABLES if name not in cls.DERIVED]
        missing = [name for name in stored if name not in tables]
        if missing:
            raise InvalidParameterError("tables", ", ".join(missing), stored, reason="missing table")
        data = cls._load({name: tables[name] for name in stored})
        return cls(MappingProxyType(data), dict(params), _weak(events))

    @classmethod
    def _make(cls, tables: dict[str, Any], params: dict[str, Any], events: Any = None) -> Any:
        """A result of tables just computed by its analysis (held as they are, not copied)."""
        return cls(MappingProxyType(tables), params, _weak(events))

    @classmethod
    def _load(cls, tables: dict[str, Any]) -> dict[str, Any]:
        """The stored form of tables given to :meth:`from_tables` (copies by default)."""
        return {name: t.copy() if isinstance(t, pd.DataFrame) else t for name, t in tables.items()}

    # ------------------------------------------------------------------------------ tables
    def _stored(self, name: str) -> Any:
        """A table as stored (not a copy): for figure functions and drill-downs, which only read."""
        if name in self.DERIVED:
            return getattr(self, f"_derive_{name}")()
        return self.data[name]

    def frame(self, name: str | None = None) -> pd.DataFrame:
        """One table of the result, as a copy.

        Parameters
        ----------
        name : str, optional
            One of :attr:`TABLES`; the first (the table behind the default figure) by default.

        Returns
        -------
        pandas.DataFrame
            Its columns are listed in :mod:`chatanalytics.columns`.
        """
        name = next(iter(self.TABLES)) if name is None else name
        if name not in self.TABLES:
            raise InvalidParameterError("name", name, list(self.TABLES))
        if name in self.DERIVED:
            return self._stored(name)
        return self._frame(name)

    def _frame(self, name: str) -> pd.DataFrame:
        return self.data[name].copy()

    @property
    def tables(self) -> _Tables:
        """Every table by name: ``result.tables()`` returns a dict of copies."""
        return _Tables(self)

    def report_tables(self, tz: str = "UTC") -> list[TableView]:
        """The tables shown in the report, with headings and captions (the default table by default).

        ``tz`` is the report's time zone, for captions that name one.
        """
        name = next(iter(self.TABLES))
        return [TableView(name.replace("_", " ").capitalize(), self.frame(name))]

    # ------------------------------------------------------------------------------ figures
    def figure(self, kind: str | None = None, **style: Any) -> Any:
        """A plotly Figure of one of the result's :attr:`FIGURES` kinds.

        Parameters
        ----------
        kind : str, optional
            The figure kind; the first of :attr:`FIGURES` by default.
        **style
            Passed to the figure function (titles, sizes, which column to draw); they change the
            drawing, never the numbers.

        Returns
        -------
        plotly.graph_objects.Figure
        """
        kinds = list(self.FIGURES)
        kind = kinds[0] if kind is None else kind
        if kind not in self.FIGURES:
            raise InvalidParameterError("kind", kind, kinds)
        spec = self.FIGURES[kind]
        module, _, name = spec.function.rpartition(":")
        make = getattr(importlib.import_module(module or "chatanalytics.viz"), name)
        if spec.prepare is not None:
            args, style = getattr(self, spec.prepare)(dict(style))
        else:
            args = tuple(self._stored(t) for t in spec.tables)
        return make(*args, self.params, **style)

    # ------------------------------------------------------------------------------ views
    def widget_arguments(self) -> dict[str, Any]:  # pragma: no cover - defined by each result
        """The keyword arguments of the analysis (and its widget) that give this result again."""
        raise NotImplementedError

    def widget(self, events: Any = None, **options: Any) -> Any:
        """An interactive widget starting from this result's parameters.

        Parameters
        ----------
        events : pandas.DataFrame or ibis Table
            The events the result was computed from; changing a data control recomputes on them.
        **options
            Passed to the widget over :meth:`widget_arguments`: its time zone (``tz``, for a result
            whose parameters hold none, such as the funnel's), its style (``height``, ``metric``, ...).

        Returns
        -------
        ipywidgets container
        """
        if events is None:
            held = self.events_ref() if self.events_ref is not None else None
            if held is None:
                raise InvalidParameterError("events", None, reason="pass the events: result.widget(events)")
            warnings.warn(
                "result.widget() without events is deprecated: pass the events: result.widget(events)",
                FutureWarning,
                stacklevel=2,
            )
            events = held
        if self.WIDGET is None:
            raise InvalidParameterError("widget", type(self).__name__, reason="this result has no widget")
        make = getattr(importlib.import_module("chatanalytics.widgets"), self.WIDGET)
        return make(events, **{**self.widget_arguments(), **options})

    def save(self, path: Any, **options: Any) -> Any:
        """Write the default figure or the default table to ``path``; the format comes from the suffix.

        ``.png``, ``.svg``, ``.pdf``, ``.html`` and ``.json`` write the figure, ``.csv`` and ``.parquet``
        the table (see :func:`chatanalytics.save` for ``scale``, ``width``, ``height`` and ``safe``:
        CSV text cells that would start a spreadsheet formula get a leading quote unless ``safe=False``).

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from ..export import save

        return save(self, path, **options)

    # ------------------------------------------------------------------------------ words
    def summary(self) -> dict[str, Any]:  # pragma: no cover - defined by each result
        """The headline numbers."""
        raise NotImplementedError

    def headline(self) -> str:  # pragma: no cover - defined by each result
        """The result in one line of plain words."""
        raise NotImplementedError

    def _line(self) -> str:
        warnings.warn("result._line() is deprecated: use result.headline()", DeprecationWarning, stacklevel=2)
        return self.headline()

    def describe(self, kind: str | None = None, **style: Any) -> str:
        """The definitions behind the numbers, in plain words, with the parameters used.

        Parameters
        ----------
        kind : str, optional
            One of :attr:`FIGURES`: describe that figure ("About this chart") instead of the whole
            result.
        **style
            With ``kind``: the figure's style arguments, as given to :meth:`figure` (the definition
            follows what is drawn, e.g. the metric of a leaderboard).

        Returns
        -------
        str
            Without ``kind``: the title, one ``term: definition`` paragraph per definition, what each
            figure shows, the glossary of the statistical terms used, and the parameters. With
            ``kind``: the figure's finding (its title), what it shows, its full definition (what is
            counted, the denominator, windows, censoring, intervals, the slice), then the glossary of
            the terms it uses.

        Examples
        --------
        >>> import chatanalytics as ca
        >>> f = ca.funnel(ca.load_sample(), steps=["triggered", "engaged", "completed"])
        >>> print(f.describe("funnel").splitlines()[0])
        36% of triggered conversation sessions engaged; 19% completed
        """
        if kind is None:
            lines = [self.TITLE, ""]
            lines += [f"{term}: {text}" for term, text in self.DEFINITIONS]
            figures = [(k, f.caption) for k, f in self.FIGURES.items() if f.caption]
            if figures:
                lines += ["", "Figures:"] + [f"  {k}: {text}" for k, text in figures]
            lines += _glossary("\n".join(lines))
            lines += ["", "Parameters: " + "; ".join(f"{k}={v}" for k, v in self.params.items())]
            return "\n".join(lines)
        if kind not in self.FIGURES:
            raise InvalidParameterError("kind", kind, list(self.FIGURES))
        fig = self.figure(kind, **style)
        meta = fig.layout.meta
        about = str(meta.get("about", "")) if isinstance(meta, dict) else ""
        title = _plain(str(fig.layout.title.text or ""))
        sub = _plain(str(fig.layout.title.subtitle.text or ""))
        lines = [title, sub, "", self.FIGURES[kind].caption, "", f"About this chart: {_plain(about)}"]
        lines += _glossary(about)
        return "\n".join(lines)

    def _preview(self) -> pd.DataFrame:
        """The rows and columns shown under the headline in ``repr`` and the notebook."""
        return self.frame()

    def __repr__(self) -> str:
        return self.headline() + "\n" + self._preview().to_string(index=False)

    def _repr_html_(self) -> str:
        from markupsafe import escape

        return f"<p>{escape(self.headline())}</p>" + styled(self._preview()).to_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = dict(self.figure()._repr_mimebundle_(include, exclude))
        bundle["text/plain"] = self.headline()
        return bundle

    # ------------------------------------------------------------------------------ deprecated
    @property
    def events(self) -> Any:
        """Deprecated: a result does not hold its events; pass them to :meth:`widget`."""
        warnings.warn(
            "result.events is deprecated: results do not hold their events; pass them: result.widget(events)",
            FutureWarning,
            stacklevel=2,
        )
        return self.events_ref() if self.events_ref is not None else None

    @property
    def call(self) -> dict[str, Any]:
        """Deprecated: use :meth:`widget_arguments` (the analysis' arguments from ``params``)."""
        warnings.warn("result.call is deprecated: use result.widget_arguments()", FutureWarning, stacklevel=2)
        return self.widget_arguments()


def _plain(text: str) -> str:
    """Figure text as plain text: line breaks as spaces, the escaped ``<``, ``>`` and ``&`` restored."""
    import html

    return html.unescape(text.replace("<br>", " "))


def _glossary(text: str) -> list[str]:
    """The glossary entries of the statistical terms ``text`` uses, as lines (none when it uses none)."""
    from ..columns import GLOSSARY

    low = text.lower()
    used = [(term, words) for term, words in GLOSSARY.items() if term.lower() in low]
    if not used:
        return []
    return ["", "Glossary:"] + [f"  {term}: {words}" for term, words in used]


def _weak(events: Any) -> Any:
    """A weak reference to the events, or None when they cannot be referenced weakly."""
    if events is None:
        return None
    try:
        return weakref.ref(events)
    except TypeError:
        return None
