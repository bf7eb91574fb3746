"""The load report: an account of every record a loader read."""

from __future__ import annotations

import html
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InvalidParameterError
from ..schema import STRING
from ._plan import FIELD_COLUMNS, UA_FIELDS
from ._privacy import scrub_column

#: Plan field -> the canonical column it fills (the action parameter ``event`` fills none).
PLAN_FIELD_COLUMNS = {f: c for f, c in {**FIELD_COLUMNS, **UA_FIELDS}.items() if f != "event"}

ATTRS_KEY = "chatanalytics.load_report"
_HELD = 256
_REPORTS: OrderedDict[str, LoadReport] = OrderedDict()


def attach_report(events: pd.DataFrame, report: LoadReport) -> None:
    """Attach ``report`` to ``events``.

    ``DataFrame.attrs`` holds a short token rather than the report itself, so the frame still writes
    to Parquet (pandas stores attrs as JSON) and copies cheaply; the last 256 reports are held here.
    """
    token = f"load-report-{uuid.uuid4().hex}"
    _REPORTS[token] = report
    while len(_REPORTS) > _HELD:
        _REPORTS.popitem(last=False)
    events.attrs[ATTRS_KEY] = token


#: The reasons a record can be rejected, in the order the checks run.
REJECT_REASONS: tuple[str, ...] = (
    "non-UTF-8 bytes",
    "malformed JSON",
    "not a JSON object",
    "missing time",
    "unparseable time",
    "missing event name",
    "unreadable compressed data",
    "missing event type",
)

OUTCOMES = ("event", "rejected", "duplicate", "ignored")


def _empty(columns: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in columns.items()})


REJECTED_COLUMNS = {"source_file": STRING, "source_record": "Int64", "reason": STRING, "raw": STRING}
IGNORED_COLUMNS = {"source_file": STRING, "source_record": "Int64", "event_name": STRING}
FILES_COLUMNS = {
    "source_file": STRING,
    "source_format": STRING,
    "records": "int64",
    "events": "int64",
    "rejected": "int64",
    "duplicates": "int64",
    "ignored": "int64",
    "derived": "int64",
}
DERIVED_COLUMNS = {"source_file": STRING, "reason": STRING, "events": "int64"}


COVERAGE_COLUMNS = {
    "field": STRING,
    "column": STRING,
    "keys": STRING,
    "events": "int64",
    "filled": "int64",
    "share": "float64",
}


def coverage_frame(events: pd.DataFrame, plan_keys: dict[str, set[str]]) -> pd.DataFrame:
    """Per plan field (those with a column), the events it filled: see :meth:`LoadReport.plan_coverage`."""
    rows = []
    for name, keys in plan_keys.items():
        column = PLAN_FIELD_COLUMNS.get(name)
        if column is None or column not in events.columns:
            continue
        filled = int(events[column].notna().sum())
        rows.append(
            (name, column, "; ".join(sorted(keys)), len(events), filled, filled / max(len(events), 1))
        )
    frame = pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))
    return frame.astype(COVERAGE_COLUMNS)


def unfilled_note(coverage: pd.DataFrame, unmatched: Sequence[str]) -> list[str]:
    """One note naming the plan fields that filled no event, other than those already named by a note of
    a key that matched nothing (a column a report does not have, a parameter a site never sends).
    """
    if len(coverage) == 0 or int(coverage["events"].iloc[0]) == 0:
        return []
    named = " ".join(unmatched)
    empty = [
        f"{row.field} ({row.keys})"
        for row in coverage.itertuples(index=False)
        if row.filled == 0 and f"(field {row.field!r})" not in named
    ]
    if not empty:
        return []
    return [f"plan fields that filled no event: {', '.join(empty)} (see plan_coverage())"]


@dataclass(frozen=True, eq=False)
class LoadReport:
    r"""What a loader read, kept, rejected, de-duplicated and ignored, and why.

    Every record read is exactly one of: an *event* (a row of the returned frame), *rejected*
    (unreadable: malformed JSON, missing or unparseable time, missing event name, non-UTF-8 bytes),
    a *duplicate* of an earlier event (same ``event_id``, or the same natural key when there is none:
    type, time, session, conversation, agent; the first one read is kept), or *ignored* (a well-formed
    record whose event name is not one of the 11 Dynamic Chat events). The four counts add up to the
    records read. Blank lines are not records.

    A record that is an event may also give *derived* events, read from one of its fields (a Marketo
    engaged activity's ``Conversation Status`` "Completed" gives a ``CONVERSATION_COMPLETED``, "Dropped" a
    ``CONVERSATION_CLOSED``). They are no records, so the frame holds ``events + derived`` rows. A
    derived event is de-duplicated like any other; a repeated copy is dropped and counted in neither
    ``derived`` nor ``duplicates`` (its record is counted, as the duplicate of its own event).

    Reach it with :func:`chatanalytics.load_report`; it prints as a short table in a notebook.

    Attributes
    ----------
    files : pandas.DataFrame
        One row per input file: ``source_file``, ``source_format``, ``records``, ``events``,
        ``rejected``, ``duplicates``, ``ignored``, ``derived`` (records = events + rejected +
        duplicates + ignored; the frame holds events + derived rows).
    rejected : pandas.DataFrame
        ``source_file``, ``source_record`` (1-based line), ``reason``, ``raw`` (the record's text, its
        email addresses and phone numbers redacted; bytes that are not UTF-8 are shown as ``\x..``
        escapes). :meth:`write_rejected` writes the records as they were read.
    duplicates : pandas.DataFrame
        The dropped rows in the canonical schema plus ``duplicate_of_file``, ``duplicate_of_record``
        (the record that was kept) and ``reason``.
    ignored : pandas.DataFrame
        ``source_file``, ``source_record``, ``event_name`` (email addresses and phone numbers redacted).
    notes : tuple of str
        Things worth knowing that are not record outcomes (redacted contact details, times read as
        UTC because they carried no offset, truncated gzip streams, plan keys that matched nothing).
    coverage : pandas.DataFrame
        The events each tracking-plan field filled (see :meth:`plan_coverage`).
    derived : pandas.DataFrame
        The derived events kept, counted by ``source_file`` and ``reason`` (``CONVERSATION_COMPLETED
        from Conversation Status``): ``events``.
    """

    files: pd.DataFrame
    rejected: pd.DataFrame
    duplicates: pd.DataFrame
    ignored: pd.DataFrame
    notes: tuple[str, ...] = ()
    _raw_rejected: tuple[bytes, ...] = field(default=(), repr=False)
    coverage: pd.DataFrame = field(default_factory=lambda: _empty(COVERAGE_COLUMNS), repr=False)
    derived: pd.DataFrame = field(default_factory=lambda: _empty(DERIVED_COLUMNS), repr=False)

    def __post_init__(self) -> None:
        # shown in notebooks, report.html, load_report.txt and the CSVs: never a visitor's contact details
        if "raw" in self.rejected.columns and len(self.rejected):
            self.rejected["raw"] = scrub_column(self.rejected["raw"])
        if "event_name" in self.ignored.columns and len(self.ignored):
            self.ignored["event_name"] = scrub_column(self.ignored["event_name"])

    # immutable: a copy is the report itself
    def __deepcopy__(self, memo: dict[int, Any]) -> LoadReport:
        return self

    def __copy__(self) -> LoadReport:
        return self

    # ------------------------------------------------------------------ counts
    @property
    def records(self) -> int:
        """Records read (blank lines excluded)."""
        return int(self.files["records"].sum())

    def counts(self) -> dict[str, int]:
        """``records``, ``events``, ``rejected``, ``duplicates``, ``ignored`` and ``derived``.

        ``records == events + rejected + duplicates + ignored``; the frame holds ``events + derived``
        rows.
        """
        return {
            "records": self.records,
            "events": int(self.files["events"].sum()),
            "rejected": int(self.files["rejected"].sum()),
            "duplicates": int(self.files["duplicates"].sum()),
            "ignored": int(self.files["ignored"].sum()),
            "derived": int(self.files["derived"].sum()),
        }

    def summary(self) -> pd.DataFrame:
        """One row per outcome (event, rejected, duplicate, ignored) with its count, share and reasons,
        then a ``derived`` row when a record gave derived events (no records: its share is NaN; its
        detail counts them by reason).
        """
        c = self.counts()
        total = max(c["records"], 1)
        reasons = {
            "event": "",
            "rejected": _top(self.rejected["reason"]),
            "duplicate": _top(self.duplicates["reason"]) if len(self.duplicates) else "",
            "ignored": _top(self.ignored["event_name"], prefix="event "),
        }
        rows = [
            ("event", c["events"]),
            ("rejected", c["rejected"]),
            ("duplicate", c["duplicates"]),
            ("ignored", c["ignored"]),
        ]
        if c["derived"]:
            by_reason = self.derived.groupby("reason", sort=False)["events"].sum()
            reasons["derived"] = "; ".join(f"{k}: {v:,}" for k, v in by_reason.items())
            rows.append(("derived", c["derived"]))
        return pd.DataFrame(
            {
                "outcome": pd.Series([r[0] for r in rows], dtype=STRING),
                "records": [r[1] for r in rows],
                "share": [r[1] / total if r[0] != "derived" else float("nan") for r in rows],
                "detail": pd.Series([reasons[r[0]] for r in rows], dtype=STRING),
            }
        )

    def rejected_reasons(self) -> pd.DataFrame:
        """Rejected records counted by reason."""
        return _count(self.rejected["reason"], "reason")

    def ignored_names(self) -> pd.DataFrame:
        """Ignored records counted by event name, most frequent first (typos stand out here)."""
        return _count(self.ignored["event_name"], "event_name")

    def plan_coverage(self) -> pd.DataFrame:
        """How many events each tracking-plan field filled.

        One row per plan field a reader looked for (``field``, the plan's name such as ``sid``; the
        ``event`` action parameter is not a column and is left out): the canonical ``column`` it fills,
        the ``keys`` it was read from (several when files of several formats were read), ``events``
        (the events kept), ``filled`` (those with a value in the column) and ``share``. A field that
        filled no event is worth a look at the plan: the notes name each key of the site's plan that
        matched nothing in a file, with the closest names that were present.

        Examples
        --------
        >>> import chatanalytics as ca
        >>> from chatanalytics.datasets import SAMPLE_PATH
        >>> events = ca.read_events(SAMPLE_PATH, warn=False)
        >>> list(ca.load_report(events).plan_coverage().columns)
        ['field', 'column', 'keys', 'events', 'filled', 'share']
        """
        return self.coverage.copy()

    def write_rejected(self, path: str | Path) -> Path:
        """Write the rejected records, byte for byte as they were read, one per line.

        The file can be fixed by hand and read again with :func:`chatanalytics.read_events`. Unlike
        :attr:`rejected`, it keeps any contact details the records hold: keep it where the exports are.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            for raw in self._raw_rejected:
                fh.write(raw.rstrip(b"\r\n") + b"\n")
        return path

    # ------------------------------------------------------------------ display
    def _title(self) -> str:
        c = self.counts()
        tally = ", ".join(f"{c[k]:,} {k}" for k in ("events", "rejected", "duplicates", "ignored"))
        derived = f" (+{c['derived']:,} derived events)" if c["derived"] else ""
        return f"LoadReport: {c['records']:,} records from {len(self.files)} file(s): {tally}{derived}"

    def __repr__(self) -> str:
        table = self.summary()
        lines = [self._title()]
        for row in table.itertuples(index=False):
            detail = f"  {row.detail}" if isinstance(row.detail, str) and row.detail else ""
            lines.append(f"  {row.outcome:<10}{row.records:>12,}  {share_text(row.share):>7}{detail}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(r.outcome))}</td><td style='text-align:right'>{r.records:,}</td>"
            f"<td style='text-align:right'>{share_text(r.share)}</td>"
            f"<td>{html.escape(r.detail) if isinstance(r.detail, str) else ''}</td></tr>"
            for r in self.summary().itertuples(index=False)
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<div><strong>{html.escape(self._title())}</strong>"
            "<table><thead><tr><th>outcome</th><th>records</th><th>share</th><th>detail</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{f'<ul>{notes}</ul>' if notes else ''}</div>"
        )


def share_text(share: float) -> str:
    """A summary row's share as a percentage (empty for the derived row, which counts no records)."""
    return "" if pd.isna(share) else f"{share:.2%}"


def _count(values: pd.Series, name: str) -> pd.DataFrame:
    counts = values.value_counts(dropna=False, sort=True)
    return pd.DataFrame(
        {name: pd.Series(counts.index, dtype=STRING), "records": counts.to_numpy(dtype="int64")}
    )


def _top(values: pd.Series, prefix: str = "", n: int = 3) -> str:
    if len(values) == 0:
        return ""
    counts = values.value_counts()
    parts = [f"{prefix}{k!s}: {v:,}" for k, v in counts.head(n).items()]
    if len(counts) > n:
        parts.append(f"{len(counts) - n} more")
    return "; ".join(parts)


def load_report(events: pd.DataFrame) -> LoadReport:
    """The :class:`LoadReport` of a frame returned by :func:`read_events` (or :func:`simulate`).

    Examples
    --------
    >>> import chatanalytics as ca
    >>> events = ca.load_sample()
    >>> rep = ca.load_report(events)
    >>> c = rep.counts()
    >>> c["records"] == c["events"] + c["rejected"] + c["duplicates"] + c["ignored"]
    True
    """
    token = events.attrs.get(ATTRS_KEY) if isinstance(events, pd.DataFrame) else None
    report = _REPORTS.get(token) if isinstance(token, str) else None
    if token is not None and report is None:
        raise InvalidParameterError(
            "events",
            type(events).__name__,
            reason=f"its load report is no longer held (only the last {_HELD} loads are kept); read it again",
        )
    if report is None:
        raise InvalidParameterError(
            "events",
            type(events).__name__,
            reason=(
                "no load report attached: pass the frame returned by read_events() or simulate() "
                "(pd.concat and some other operations drop DataFrame.attrs)"
            ),
        )
    return report
