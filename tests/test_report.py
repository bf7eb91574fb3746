"""The HTML report: one offline file, every section, escaped data, and a real browser rendering it."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import markupsafe
import pytest
from plotly.offline import get_plotlyjs

import chatanalytics as ca
from chatanalytics._report import build
from chatanalytics.analysis import ANALYSES
from chatanalytics.errors import EmptyDataError, InvalidParameterError

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# CI installs Debian's chromium: there, a missing browser is a failure, never a skip
needs_browser = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason=f"the browser test needs Chromium and {CHROMIUM} is missing (apt-get install chromium); "
    "it always runs when CI is set",
)


def cell(text: str) -> re.Pattern[str]:
    """A table cell (rendered by pandas' Styler, which gives cells ids and classes) holding ``text``
    escaped as HTML."""
    return re.compile(r"<td[^>]*>" + re.escape(str(markupsafe.escape(text))) + "</td>")


N_FIGURES = sum(len(a.report_figures()) for a in ANALYSES.values())
PLOTLY_JS = get_plotlyjs()
BANNER = PLOTLY_JS[:60].split("\n")[1]  # "* plotly.js v4.1.1": once in the bundle
SECTIONS = {
    "overview": "Overview",
    "load-report": "Load report",
    "changes": "What changed",
    "funnel": "Funnel",
    "agents": "Live-chat agents",
    "timeouts": "Live-chat timeouts",
    "definitions": "Definitions",
}
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
URL = 'https://www.example.com/?q="><script>alert(3)</script>'


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    return ca.report(ca.load_sample(), path, tz="America/New_York")


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    """Data text that is markup: a conversation, an agent and a page URL that try to run script.

    One session requests live chat, the agent accepts after 20 s and ends the chat: every analysis
    has something to show, so the names reach tables, headings and figures.
    """
    base = {
        "session_id": "s1",
        "conversation_id": "c1",
        "conversation_name": SCRIPT,
        "page_url": URL,
        "visitor_id": "v1",
    }
    agent = {"agent_id": "a1", "agent_name": IMG}
    rows = [
        ("2026-11-02 09:00:00", "triggered", {}),
        ("2026-11-02 09:00:10", "engaged", {}),
        ("2026-11-02 09:01:00", "live_chat_requested", agent),
        ("2026-11-02 09:01:20", "live_chat_initiated", agent),
        ("2026-11-02 09:05:00", "live_chat_ended", agent),
        ("2026-11-02 09:06:00", "completed", {}),
    ]
    events = ca.make_events([{"event_time_utc": t, "event_type": e, **base, **extra} for t, e, extra in rows])
    path = tmp_path_factory.mktemp("hostile") / "report.html"
    return ca.report(events, path, title=f"Report {SCRIPT}")


def test_one_file_with_plotly_once_and_nothing_fetched(sample_report):
    text = sample_report.read_text(encoding="utf-8")
    assert text.count(BANNER) == 1
    assert text.count("Plotly.newPlot(") == N_FIGURES == 13
    assert text.count(PLOTLY_JS) == 1
    ours = text.replace(PLOTLY_JS, "")
    assert not re.search(r"<script[^>]*\ssrc=", ours)
    assert not re.search(r"<link[^>]*\shref=", ours)
    assert "cdn.plot.ly" not in ours and "mathjax" not in ours.lower()
    assert 4_000_000 < sample_report.stat().st_size < 8_000_000


def test_every_section_in_the_contents(sample_report):
    text = sample_report.read_text(encoding="utf-8")
    assert "<title>Dynamic Chat report, 2026-10-05" in text
    for anchor, heading in SECTIONS.items():
        assert f'<section id="{anchor}"><h2>{heading}</h2>' in text
        assert f'<li><a href="#{anchor}">{heading}</a></li>' in text
    assert "not available" not in text.replace(PLOTLY_JS, "")


def test_tables_parameters_and_load_report(sample_report):
    text = sample_report.read_text(encoding="utf-8")
    rep = ca.load_report(ca.load_sample()).counts()
    assert f"{rep['records']:,} records read from 1 file(s)" in text
    assert f"{rep['duplicates']:,} duplicates" in text
    assert "sample-synthetic.jsonl.gz" in text  # the files table
    assert len(re.findall(r'<table id="T_\w+" class="dataframe data">', text)) >= 10
    # the funnel's table and its definition caption
    assert cell("triggered").search(text) and cell("completed").search(text)
    unit = "unit: conversation session (one conversation, Dialogue or Flow, in one session)"
    assert f"{unit}; window 30min" in text
    # every agent of the leaderboard is in the agents table
    agents = ca.agent_performance(ca.load_sample(), tz="America/New_York").frame()
    for name in agents["agent_name"].dropna():
        assert cell(name).search(text)
    # the parameters used
    assert "<th>time zone</th><td>America/New_York</td>" in text
    assert "<th>accept_window_seconds</th><td>100</td>" in text
    # headlines and definitions
    assert ca.timeouts(ca.load_sample(), tz="America/New_York").headline().split(";")[0] in text
    assert "<dt>Service level</dt>" in text and "<dt>Cause: agent_at_cap</dt>" in text


def test_data_text_is_escaped(hostile_report):
    text = hostile_report.read_text(encoding="utf-8")
    body = text.split("</head>", 1)[1]
    for raw in (SCRIPT, IMG, URL, "alert(1)</script>", "<img src=x"):
        assert raw not in text
    # in the tables, as text (quotes need no escaping in a text node)
    assert cell(SCRIPT).search(body)  # the conversations table
    assert cell(IMG).search(body)  # the agents table
    assert cell(URL).search(body)  # the pages table
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert f"<h1>Report {html.escape(SCRIPT)}</h1>" in body
    # the only scripts are plotly.js and one Plotly.newPlot per figure
    # every script is a figure's, but one: the "About this chart" filler, which sets text only
    assert body.count("<script") == text.count("Plotly.newPlot(") + 1
    assert body.count("textContent = m.about") == 1 and "innerHTML" not in body.split("</main>")[1]


def test_without_live_chat_or_load_report(tmp_path):
    events = ca.make_events(
        [
            {
                "event_time_utc": "2026-11-02 09:00",
                "event_type": "triggered",
                "session_id": "s",
                "conversation_id": 1,
            },
            {
                "event_time_utc": "2026-11-02 09:01",
                "event_type": "engaged",
                "session_id": "s",
                "conversation_id": 1,
            },
        ]
    )
    contents = build(events)
    assert contents.results["agents"] is None and contents.results["timeouts"] is None
    assert "agent performance needs live chat" in contents.unavailable["agents"]
    assert list(contents.figures) == ["funnel", "funnel_over_time", "funnel_time"]
    text = contents.write(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No load report for these events" in text
    assert "Agent performance is not available: no live-chat requests" in text
    assert "The timeout analysis is not available" in text
    assert text.count("Plotly.newPlot(") == 3
    # one day of data holds no complete week to compare: the digest says why, and still comes first
    assert contents.results["changes"] is None
    assert "The digest is not available: no complete period" in text
    assert text.index('<section id="changes">') < text.index('<section id="funnel">')


def test_the_report_opens_with_the_digest(sample_report):
    text = sample_report.read_text(encoding="utf-8")
    digest = ca.changes(ca.load_sample(), tz="America/New_York")
    assert text.index('<section id="changes">') < text.index('<section id="funnel">')
    section = text[text.index('<section id="changes">') : text.index('<section id="funnel">')]
    for line in digest.headlines():
        assert html.escape(line, quote=False) in section
    assert 'id="figure-changes_overview"' in section and 'id="figure-changes_waterfall"' in section
    # the overview's headlines start with the digest's
    overview = text[text.index('<section id="overview">') : text.index('<section id="load-report">')]
    assert overview.index(html.escape(digest.headline(), quote=False)) < overview.index('href="#funnel"')


def test_bad_arguments(tmp_path):
    sample = ca.load_sample()
    with pytest.raises(InvalidParameterError, match="path"):
        ca.report(sample, tmp_path / "report.pdf")
    with pytest.raises(InvalidParameterError, match="tz"):
        ca.report(sample, tmp_path / "r.html", tz="Mars/Base")
    with pytest.raises(InvalidParameterError, match="events"):
        ca.report([1, 2], tmp_path / "r.html")
    with pytest.raises(EmptyDataError, match="no events to report: the frame is empty"):
        ca.report(sample.iloc[:0], tmp_path / "r.html")
    with pytest.raises(InvalidParameterError, match="steps"):
        ca.report(sample, tmp_path / "r.html", steps=["triggered", "nonsense"])
    assert not list(tmp_path.iterdir())


def _open(page, path: Path) -> dict[str, list[str]]:
    """Open a report from disk; wait for every figure to draw; return what the page complained about."""
    seen: dict[str, list[str]] = {"console": [], "pageerror": [], "dialog": [], "request": []}
    page.on("console", lambda m: seen["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["pageerror"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialog"].append(d.message), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith("file:") else seen["request"].append(r.url))
    page.goto(path.as_uri())
    page.wait_for_function(
        "() => { const d = [...document.querySelectorAll('.plotly-graph-div')];"
        " return d.length > 0 && d.every(g => g.querySelector('.main-svg') && g._fullLayout); }",
        timeout=30_000,
    )
    return seen


@pytest.mark.slow
@needs_browser
def test_report_renders_in_headless_chromium(sample_report, hostile_report):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            seen = _open(page, sample_report)
            drawn = page.locator(".plotly-graph-div").count()
            assert drawn == N_FIGURES
            assert page.locator(".plotly-graph-div .main-svg").first.is_visible()
            titles = page.eval_on_selector_all(
                ".plotly-graph-div", "els => els.map(e => e.layout.title.text)"
            )
            # the funnel's title states its finding
            assert any(re.match(r"\d+% of triggered conversation sessions engaged; \d+% ", t) for t in titles)
            # each figure's "About this chart" holds its full definition (the figure's layout.meta)
            about = page.eval_on_selector_all(
                "figure",
                "fs => fs.map(f => [f.querySelector('.about-text').textContent,"
                " f.querySelector('.plotly-graph-div').layout.meta.about])",
            )
            assert len(about) == N_FIGURES and all(shown and shown == meta for shown, meta in about)
            assert any("unit: conversation session" in shown for shown, _ in about)
            page.locator("details.about summary").first.click()
            assert page.locator("details.about").first.get_attribute("open") is not None
            assert seen == {"console": [], "pageerror": [], "dialog": [], "request": []}
            page.click("nav a[href='#timeouts']")
            assert page.evaluate("location.hash") == "#timeouts"
            page.screenshot(path=str(ARTIFACTS / "report-top.png"))
            page.screenshot(path=str(ARTIFACTS / "report-full.png"), full_page=True)

            page = browser.new_page()
            seen = _open(page, hostile_report)
            assert seen == {"console": [], "pageerror": [], "dialog": [], "request": []}
            assert page.locator(".plotly-graph-div").count() == 11
            cells = page.locator("table.data td").all_inner_texts()
            assert SCRIPT in cells and IMG in cells and URL in cells  # shown as text
            assert page.evaluate("document.querySelectorAll('img').length") == 0
            page.screenshot(path=str(ARTIFACTS / "report-escaped.png"), full_page=True)
        finally:
            browser.close()


def test_one_time_zone_everywhere(sample_report):
    """The report was made with tz="America/New_York": no caption, figure, table, parameter or stamp
    names UTC or shows a UTC offset; the times are New York's."""
    text = sample_report.read_text(encoding="utf-8").replace(PLOTLY_JS, "")
    assert "entry time, America/New_York" in text
    assert "UTC" not in text.replace("event_time_utc", "")
    assert "+00:00" not in text
    # the data end at 2026-11-02 03:45:28 UTC, which is 2026-11-01 22:45:28 in New York (EST, -05:00)
    assert "2026-11-01T22:45:28.458000-05:00" in text
    assert "(America/New_York) by chatanalytics" in text


def _overview(text: str) -> str:
    return text[text.index('<section id="overview">') : text.index('<section id="load-report">')]


def test_the_default_funnel_has_the_lead_capture_step(sample_report):
    """triggered → engaged → email or phone → completed: the marketer's main conversion is a step."""
    text = sample_report.read_text(encoding="utf-8")
    assert "<th>funnel steps</th><td>triggered → engaged → email_input | phone_input → completed</td>" in text
    expected = ca.funnel(
        ca.load_sample(), steps=["triggered", "engaged", ["email_input", "phone_input"], "completed"]
    ).frame()
    assert expected["step_name"].tolist()[2] == "email_input | phone_input"
    assert cell("email_input | phone_input").search(text)
    # the third step's count, as the funnel computes it, is in the steps table
    assert cell(f"{int(expected['converted'].iloc[2]):,}").search(text)


def test_each_headline_names_its_denominator(sample_report):
    """Side by side, the agents' rates are per offer and the timeouts' per request: each says so."""
    text = html.unescape(_overview(sample_report.read_text(encoding="utf-8")))
    events = ca.load_sample()
    f = ca.funnel(events, steps=["triggered", "engaged", ["email_input", "phone_input"], "completed"])
    a = ca.agent_performance(events, tz="America/New_York").summary()
    t = ca.timeouts(events, tz="America/New_York").summary()
    assert f"of {f.summary()['units']:,} conversation sessions that entered" in text
    assert f"of {a['offers']:,} offers, {a['acceptance_rate']:.1%} accepted" in text
    missed = f"{t['missed']:,} missed ({t['missed_rate']:.1%} of requests"
    assert f"of {t['requests']:,} requests, {missed}" in text
    assert "The agents' rates are shares of offers, the timeouts' shares of requests" in text
    # the assets and the funnel's unit have different names
    assert "8 conversations (Dialogues or Flows)" in text


def test_each_section_has_about_this_chart(sample_report):
    text = sample_report.read_text(encoding="utf-8")
    for section in ("funnel", "agents", "timeouts"):
        part = text[text.index(f'<section id="{section}">') :]
        part = part[: part.index("</section>")]
        # one "About this chart" under each figure, and the section's definitions once
        assert part.count("<summary>About this chart</summary>") == part.count("<figure") >= 1
        assert part.count("<summary>Definitions</summary>") == 1
    funnel = text[text.index('<section id="funnel">') :]
    assert "<b>Funnel window</b>:" in funnel[: funnel.index("</section>")]
