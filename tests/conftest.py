"""Shared helpers for the tests: writing small capture files by hand, and the browser."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

# The longest files start first: ``make test`` hands whole files to two workers in collection order
# (``--no-loadscope-reorder``; by default xdist starts the files with the most tests first), so a long
# file collected last would run alone at the end.
_LONG_FILES = (
    "test_jupyterlab.py",
    "test_spark.py",
    "test_notebooks.py",
    "test_layout_browser.py",
    "test_write_faults.py",
    "test_changes_calibration.py",
    "test_benchmarks.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Collect the long files first (a stable sort: tests keep their order within a file)."""
    rank = {name: i for i, name in enumerate(_LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def capture_line(ts: str, event: str, **payload: object) -> str:
    """One capture-format record as a JSON line."""
    extra = {k[4:]: payload.pop(k) for k in list(payload) if k.startswith("top_")}
    return json.dumps({"ts": ts, "event": event, "payload": payload, **extra})


def _require(reason: str) -> None:
    """Fail when ``CI`` is set (CI installs everything the browser tests need), else skip with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it (.ci/run installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_path() -> str:
    """The Chromium or Chrome executable, found as the exports find it.

    :func:`chatanalytics.export.find_browser`: ``BROWSER_PATH``, then the ``PATH``, then the usual
    install locations.
    """
    from chatanalytics.errors import ExportError
    from chatanalytics.export import find_browser

    try:
        return find_browser()
    except ExportError as err:
        _require(str(err))
        raise


@pytest.fixture(scope="module")
def playwright_browser(browser_path: str):
    """A headless Chromium driven by Playwright, shared by the tests of a module.

    Module scope: Playwright's sync API holds an event loop while it runs, which must not outlive the
    browser tests into the notebook tests.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("the playwright package is not installed (pip install -e '.[dev]')")
        raise
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=browser_path,
            headless=True,
            # the machine's network is closed: no background connections, updates or sync
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def write(tmp_path: Path):
    """Write lines (text or bytes, joined by newlines) under tmp_path; gzip when the name ends in .gz."""

    def _write(name: str, lines: list[str | bytes] | bytes, *, newline_at_end: bool = True) -> Path:
        if isinstance(lines, bytes):
            data = lines
        else:
            data = b"\n".join(x if isinstance(x, bytes) else x.encode("utf-8") for x in lines)
            if newline_at_end and lines:
                data += b"\n"
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return _write


def write_ga4_raw_parquet(path: Path, sessions: int = 300, seed: int = 5) -> Path:
    """A GA4 BigQuery export (Parquet form, typed) of simulated **synthetic** events, with quirks.

    Every chat event is a row named as the capture snippet names it, its fields in ``event_params``
    (numeric ids as ``int_value``); then: the first row's conversation id is a ``double_value``; the
    first 40 rows come again as an intraday copy; a ``page_view`` row; some conversation types spelled
    ``Conversation Flow``; an email address in one conversation name and one page URL.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    import chatanalytics as ca

    events = ca.simulate(sessions, seed=seed)
    plan = ca.TrackingPlan.default()
    names = {c: n for n, c in plan.events("ga4").items()}
    keys = {c: k for c, k in plan.columns("ga4").items() if c not in ("event_time_utc", "event_id")}
    rows = []

    def add(params, key, value, *, number=False):
        if value is None or value != value:
            return
        v = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
        if number:
            v["double_value"] = float(value)
        elif str(value).isdigit():
            v["int_value"] = int(value)
        else:
            v["string_value"] = str(value)
        params.append({"key": key, "value": v})

    for i, ev in enumerate(events.itertuples(index=False)):
        params: list[dict] = []
        for column, key in keys.items():
            value = getattr(ev, column)
            if column == "conversation_type" and value == "conversational_flow" and i % 3 == 0:
                value = "Conversation Flow"
            if column == "conversation_name" and i == 7:
                value = "Pricing for jane.doe@example.com"
            add(params, key, value, number=column == "conversation_id" and i == 0)
        page = "https://www.example.com/p?email=jane.doe%40example.com" if i == 9 else ev.page_url
        add(params, "page_location", page)
        add(params, "dc_event", str(ev.event_type))
        us = int(ev.event_time_utc.value // 1000)
        add(params, "ga_session_id", str(us // 1_000_000 // 1800 * 1800))
        rows.append(
            {
                "event_date": ev.event_time_utc.strftime("%Y%m%d"),
                "event_timestamp": us,
                "event_name": names[str(ev.event_type)],
                "event_params": params,
                "user_pseudo_id": ev.visitor_id,
                "batch_event_index": i % 5,
                "batch_page_id": 1793681849512 + i // 5,
                "batch_ordering_id": 1,
            }
        )
    rows += rows[:40]  # the intraday table's copies of the same events
    page_view = [p for p in rows[0]["event_params"] if p["key"] != "dc_event"]
    rows.append({**rows[0], "event_name": "page_view", "event_params": page_view, "batch_event_index": 9})
    value = pa.struct(
        [("string_value", pa.string()), ("int_value", pa.int64()), ("float_value", pa.float64()),
         ("double_value", pa.float64())]
    )  # fmt: skip
    schema = pa.schema(
        [
            ("event_date", pa.string()),
            ("event_timestamp", pa.int64()),
            ("event_name", pa.string()),
            ("event_params", pa.list_(pa.struct([("key", pa.string()), ("value", value)]))),
            ("user_pseudo_id", pa.string()),
            ("batch_event_index", pa.int64()),
            ("batch_page_id", pa.int64()),
            ("batch_ordering_id", pa.int64()),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


@pytest.fixture(autouse=True, scope="session")
def _own_config_folder(tmp_path_factory):
    """Pseudonym keys generated by the tests go to a folder of the test run, never the user's own."""
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    yield
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old


def record_lines(data: bytes) -> list[bytes]:
    r"""The non-blank lines of a JSON-lines file as the loaders cut it, worked out independently: lines
    end in ``\n`` (a ``\r`` before it is white space), except in a file with no ``\n`` at all whose
    ``\r`` (not as its last byte) marks old Mac line ends. A leading byte-order mark is not a record.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    cr = data.find(b"\r")
    if b"\n" not in data and 0 <= cr < len(data) - 1:
        data = data.replace(b"\r", b"\n")
    return [line for line in data.split(b"\n") if line.strip()]


# the steps texts a widget walk types: plain, alternatives, optional
WALK_STEPS = (
    "triggered, engaged",
    "triggered, engaged, email_input|phone_input, completed",
    "triggered, engaged, email_input?, completed",
)


def widget_choices(control, events, tz: str) -> list:
    """Every value a user can give a widget's control (the list the browser walk sets in turn).

    Selections: every option (each alone, all, none for a multiple selection); dates: the first and the
    middle day of the data in ``tz`` (each leaves data on both sides) and no date; a steps text: one of
    each kind of step. A control of another kind fails, so that it is not skipped unnoticed.
    """
    import ipywidgets as widgets

    if isinstance(control, widgets.SelectMultiple):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return [(v,) for v in values] + [tuple(values), ()]
    if isinstance(control, (widgets.Dropdown, widgets.ToggleButtons)):
        return [o[1] if isinstance(o, tuple) else o for o in control.options]
    if isinstance(control, widgets.DatePicker):
        local = events["event_time_utc"].dt.tz_convert(tz)
        middle = local.min() + (local.max() - local.min()) / 2
        return [local.min().date(), middle.date(), None]
    if isinstance(control, widgets.Text):
        return list(WALK_STEPS)
    raise AssertionError(f"no walk for a {type(control).__name__}: add one here")
