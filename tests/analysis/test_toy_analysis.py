"""An analysis is one result class plus one registry line: a toy one reaches the report and the CLI."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics as ca
from chatanalytics.analysis import ANALYSES, Analysis, FigureKind, Result, register, unregister
from chatanalytics.cli import main


def types_figure(table: pd.DataFrame, params: Mapping[str, Any], **style: Any) -> go.Figure:
    """Bars of events per conversation type."""
    return go.Figure(go.Bar(x=table["conversation_type"], y=table["events"], name="events"), layout=style)


class TypeCountResult(Result):
    """Events and sessions per conversation type."""

    NAME: ClassVar[str] = "types"
    TITLE: ClassVar[str] = "Conversation types"
    TABLES: ClassVar[Mapping[str, tuple[str, ...]]] = {"types": ("conversation_type", "events", "sessions")}
    FIGURES: ClassVar[Mapping[str, FigureKind]] = {
        "bars": FigureKind(f"{__name__}:types_figure", ("types",), caption="Events per conversation type.")
    }
    CSV: ClassVar[Mapping[str, str]] = {"types": "types"}
    DEFINITIONS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("Conversation type", "Dialogue or Conversational Flow, as the event names it."),
    )

    def summary(self) -> dict[str, Any]:
        t = self.frame()
        return {"types": len(t), "events": int(t["events"].sum())}

    def headline(self) -> str:
        s = self.summary()
        return f"Conversation types: {s['types']} types, {s['events']:,} events"

    def widget_arguments(self) -> dict[str, Any]:
        return {}


def type_counts(events: pd.DataFrame) -> TypeCountResult:
    """The toy analysis."""
    g = events.assign(conversation_type=events["conversation_type"].fillna("(none)")).groupby(
        "conversation_type", sort=True
    )
    table = pd.DataFrame({"events": g.size(), "sessions": g["session_id"].nunique()}).reset_index()
    return TypeCountResult.from_tables({"types": table}, {})


@pytest.fixture
def toy():
    analysis = register(
        Analysis("types", "Conversation types", lambda events, o: type_counts(events), TypeCountResult)
    )
    yield analysis
    unregister("types")
    assert "types" not in ANALYSES


def _expected(events: pd.DataFrame) -> dict[str, int]:
    """Events per type counted independently of the analysis: a plain loop over the rows."""
    counts: dict[str, int] = {}
    for value in events["conversation_type"].tolist():
        key = "(none)" if value is None or value is pd.NA or value != value else str(value)
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_the_report_has_the_toy_section_table_and_figure(toy, tmp_path):
    events = ca.load_sample()
    expected = _expected(events)
    text = ca.report(events, tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<section id="types"><h2>Conversation types</h2>' in text
    assert '<li><a href="#types">Conversation types</a></li>' in text
    assert f"Conversation types: {len(expected)} types, {sum(expected.values()):,} events" in text
    assert 'id="figure-types_bars"' in text and "Events per conversation type." in text
    assert "<dt>Conversation type</dt>" in text
    for name, n in expected.items():
        assert re.search(rf"<td[^>]*>{re.escape(name)}</td>\s*<td[^>]*>{n:,}</td>", text), name
    # every declared report figure of every registered analysis, the toy's one included
    drawn = sum(len(a.report_figures()) for a in ANALYSES.values())
    assert drawn == 14 and text.count("Plotly.newPlot(") == drawn  # 13 built in, and the toy's


def test_the_cli_writes_the_toy_csv_and_png(toy, tmp_path):
    from chatanalytics.datasets import SAMPLE_PATH

    out, charts = tmp_path / "out", tmp_path / "charts"
    assert main(["report", str(SAMPLE_PATH), "--out", str(out), "--png", str(charts), "-q"]) == 0
    table = pd.read_csv(out / "types.csv")
    assert dict(zip(table["conversation_type"], table["events"], strict=True)) == _expected(ca.load_sample())
    assert (charts / "types_bars.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "funnel.csv").exists() and (out / "service_level.csv").exists()


def test_a_name_is_registered_once(toy):
    with pytest.raises(ca.InvalidParameterError, match="types"):
        register(toy)
