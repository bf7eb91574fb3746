"""The contract every registered result keeps: tables, figure kinds, describe, save, reprs, rebuild."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

import chatanalytics as ca
from chatanalytics import columns
from chatanalytics.analysis import ANALYSES, ReportOptions, Result

NAMES = list(ANALYSES)


@pytest.fixture(scope="module")
def events():
    return ca.load_sample()


@pytest.fixture(scope="module")
def results(events):
    options = ReportOptions(tz="America/New_York")
    return {name: ANALYSES[name].run(events, options) for name in NAMES}


def _check_columns(frame: pd.DataFrame, declared: tuple[str, ...], extra: tuple[str, ...] = ()) -> None:
    """Every column is declared, and the declared ones come in the declared order."""
    allowed = (*declared, *extra)
    assert set(frame.columns) <= set(allowed), set(frame.columns) - set(allowed)
    positions = [allowed.index(c) for c in frame.columns if c in declared]
    assert positions == sorted(positions)


@pytest.mark.parametrize("name", NAMES)
def test_tables_match_the_declared_columns(results, name):
    r = results[name]
    assert isinstance(r, Result) and name == r.NAME
    tables = r.tables()
    assert list(tables) == list(r.TABLES)
    for table, frame in tables.items():
        extra: tuple[str, ...] = ()
        if (name, table) == ("funnel", "units"):
            extra = columns.unit_step_columns(len(r.params["steps"]))
        if (name, table) == ("timeouts", "requests"):
            extra = tuple(ca.COLUMNS)
        _check_columns(frame, r.TABLES[table], extra)
    pd.testing.assert_frame_equal(r.frame(), tables[next(iter(r.TABLES))])
    for stem, table in r.CSV.items():
        assert table in r.TABLES and stem


def test_agent_columns_with_every_option(events):
    a = ca.agent_performance(events, freq="week", teams={"a1": "north"}, shrink=True)
    assert {"period", "team", "observed_acceptance_rate"} <= set(a.frame().columns)
    _check_columns(a.frame(), columns.AGENTS)
    _check_columns(a.frame("team"), columns.AGENT_TEAMS)
    _check_columns(a.frame("offers"), columns.AGENT_OFFERS)
    _check_columns(a.hour_weekday(), columns.HOUR_WEEKDAY)


def test_timeout_requests_carry_the_by_column(events):
    t = ca.timeouts(events, by="ui_type")
    assert "ui_type" in t.frame("requests").columns
    _check_columns(t.frame("requests"), columns.TIMEOUT_REQUESTS, tuple(ca.COLUMNS))


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_kind_is_a_figure(results, name):
    r = results[name]
    for kind in r.FIGURES:
        fig = r.figure(kind)
        assert isinstance(fig, go.Figure) and len(fig.data) > 0, kind
    assert r.figure().to_json() == r.figure(next(iter(r.FIGURES))).to_json()
    with pytest.raises(ca.InvalidParameterError, match="no_such_kind"):
        r.figure("no_such_kind")


@pytest.mark.parametrize("name", NAMES)
def test_describe_is_plain_text_with_every_definition(results, name):
    r = results[name]
    text = r.describe()
    assert text.startswith(r.TITLE) and "<" not in text
    for term, definition in r.DEFINITIONS:
        assert f"{term}: {definition}" in text
    for kind in r.FIGURES.values():
        assert kind.caption in text


@pytest.mark.parametrize("name", NAMES)
def test_headline_and_reprs(results, name, monkeypatch):
    import plotly.io as pio

    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")  # as in JupyterLab
    r = results[name]
    line = r.headline()
    assert "\n" not in line and len(line) > 20
    assert repr(r).splitlines()[0] == line
    html = r._repr_html_()
    assert html.startswith("<p>") and 'class="dataframe data"' in html
    bundle = r._repr_mimebundle_()
    assert bundle["text/plain"] == line
    assert "application/vnd.plotly.v1+json" in bundle
    with pytest.warns(DeprecationWarning, match=r"headline\(\)"):
        assert r._line() == line


@pytest.mark.parametrize("name", NAMES)
def test_rebuilt_from_its_tables_alone(results, name):
    r = results[name]
    again = type(r).from_tables(r.tables(), r.params)
    for table, frame in r.tables().items():
        pd.testing.assert_frame_equal(again.frame(table), frame)
    assert str(again.summary()) == str(r.summary())  # str: NaN equals NaN
    assert again.headline() == r.headline()
    for kind in r.FIGURES:
        assert again.figure(kind).to_json() == r.figure(kind).to_json(), kind
    assert again.widget_arguments() == r.widget_arguments()
    # frame() gives a copy: changing it changes nothing inside
    given = again.frame()
    # a count column, or any number column for a table of floats only (the digest's metrics)
    numbers = [c for c in given.columns if pd.api.types.is_integer_dtype(given[c])] or [
        c for c in given.columns if pd.api.types.is_float_dtype(given[c])
    ]
    given.loc[given.index[0], numbers[0]] = -1
    pd.testing.assert_frame_equal(again.frame(), r.frame())


def test_rebuild_needs_every_stored_table(results):
    f = results["funnel"]
    tables = f.tables()
    del tables["curves"]
    with pytest.raises(ca.InvalidParameterError, match="curves"):
        type(f).from_tables(tables, f.params)


@pytest.mark.parametrize("name", NAMES)
def test_save_csv_html_png(results, name, tmp_path):
    r = results[name]
    csv = r.save(tmp_path / f"{name}.csv")
    back = pd.read_csv(csv)
    assert list(back.columns) == list(r.frame().columns) and len(back) == len(r.frame())
    html = r.save(tmp_path / f"{name}.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot(" in html
    png = r.save(tmp_path / f"{name}.png", scale=0.5).read_bytes()  # kaleido with the system Chromium
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == (r.figure().layout.width or 700) // 2


def test_tables_indexing_is_deprecated(results):
    t = results["timeouts"]
    with pytest.warns(FutureWarning, match=r"frame\(.outcomes.\)"):
        outcomes = t.tables["outcomes"]
    pd.testing.assert_frame_equal(outcomes, t.frame("outcomes"))


@pytest.mark.parametrize(
    ("path", "home"),
    [
        ("chatanalytics.report", "chatanalytics"),
        ("chatanalytics.analysis.funnel", "chatanalytics.analysis"),
        ("chatanalytics.analysis.agents", "chatanalytics.analysis"),
        ("chatanalytics.analysis.timeouts", "chatanalytics.analysis"),
        ("chatanalytics.analysis.adobe", "chatanalytics.analysis"),
    ],
)
def test_private_module_paths_fail_naming_the_public_home(path, home):
    """``import chatanalytics.analysis.funnel as f`` never quietly gives the function ``funnel``."""
    import importlib

    with pytest.raises(ModuleNotFoundError, match=rf"{path} is not a module.*from {home} import"):
        importlib.import_module(path)
    with pytest.raises(ModuleNotFoundError):
        exec(f"import {path} as f")
    assert callable(ca.report) and callable(ca.analysis.funnel)
