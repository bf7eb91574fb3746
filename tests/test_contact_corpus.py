"""No contact detail of the corpus survives anywhere the project writes it.

Every variant of ``tests/data/privacy/contact_corpus.json`` is put in every text field of a capture
export (conversation name, id, type, UI type, session, agent id and name, meeting info, visitor id,
event id, the page URL's path, query and fragment), in an ignored record's event name and in a rejected
line. Then nothing of it may be found in the frame (events and duplicates), the load report, the
Parquet file ``convert`` writes, the CSVs and ``load_report.txt`` of ``report --out``, or the HTML
report. Only ``rejected_records.jsonl`` (``write_rejected``) keeps the bytes as read, as documented.
The capture snippet's destinations get the same corpus in ``tests/capture/test_snippet.py``.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import pandas as pd
import pyarrow.parquet as pq
import pytest

import chatanalytics as ca
from chatanalytics.cli import main
from tests.contact_corpus import CONTACTS, leaks

EVENTS = [
    "CONVERSATION_TRIGGERED",
    "CONVERSATION_ENGAGED",
    "CONVERSATION_LIVE_CHAT_REQUESTED",
    "CONVERSATION_LIVE_CHAT_INITIATED",
    "CONVERSATION_LIVE_CHAT_ENDED",
    "CONVERSATION_MEETING_BOOKED",
]


def assert_clean(texts, where: str) -> None:
    for text in texts:
        if not isinstance(text, str):
            continue
        for case in CONTACTS:
            assert not leaks(text, case), (where, case["text"], text[:300])


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    lines = []
    for i, case in enumerate(CONTACTS):
        text = case["text"]
        enc = quote(text, safe="")
        url = f"https://shop.example.com/contact/{enc}/x?q={quote_plus(text)}&p={enc}#/c/{enc}"
        payload = {
            "name": text,
            "id": text,
            "type": text,
            "uiType": text,
            "sid": text,
            "agentID": text,
            "agentName": text,
            "meetingInfo": {"note": f"call {text}", "attendee": {"contact": text}, "list": [text]},
        }
        for j, event in enumerate(EVENTS):
            ts = f"2026-10-{5 + i % 20:02d}T{10 + j:02d}:00:00Z"
            record = {"ts": ts, "event": event, "payload": payload, "page_url": url}
            lines.append(json.dumps(record | {"visitor_id": text, "event_id": f"{text} #{j}"}))
        lines.append(lines[-1])  # the same event again: a duplicate, listed in the load report
        lines.append(json.dumps({"ts": ts, "event": f"Chat {text}", "payload": payload}))  # ignored
        lines.append('{"ts": broken, "name": ' + json.dumps(text) + f', "url": "{url}"')  # rejected
    path = tmp_path_factory.mktemp("corpus") / "capture.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def events(export) -> pd.DataFrame:
    return ca.read_events(export, warn=False)


def test_the_export_holds_every_variant(export):
    raw = export.read_text(encoding="utf-8")
    assert all(leaks(raw, case) for case in CONTACTS)


def test_frame_and_load_report(events):
    rep = ca.load_report(events)
    n = len(CONTACTS)
    assert rep.counts() == {
        "records": n * (len(EVENTS) + 3),
        "events": n * len(EVENTS),
        "rejected": n,
        "duplicates": n,
        "ignored": n,
        "derived": 0,
    }
    for column in events.columns:
        if events[column].dtype == "str" or isinstance(events[column].dtype, pd.StringDtype):
            assert_clean(events[column].dropna().unique(), column)
    for frame, name in ((rep.duplicates, "duplicates"), (rep.rejected, "rejected"), (rep.ignored, "ignored")):
        for column in frame.columns:
            assert_clean(frame[column].dropna().astype(str).unique(), f"{name}.{column}")
    assert_clean([repr(rep), rep._repr_html_()], "load report")
    # ids stay distinct: one visitor, session and conversation per case, one event id per event
    assert events["visitor_id"].nunique() == events["session_id"].nunique() == n
    assert events["event_id"].nunique() == len(events)


def test_convert_parquet(export, tmp_path):
    out = tmp_path / "events.parquet"
    assert main(["convert", str(export), "--out", str(out), "--quiet"]) == 0
    table = pq.read_table(out)
    for name in table.column_names:
        column = table.column(name)
        if str(column.type) in ("string", "large_string"):
            assert_clean(set(column.to_pylist()), f"parquet {name}")


def _without_libraries(html: str) -> str:
    """The report without the scripts of bundled libraries (plotly.js is megabytes of minified
    code whose digits mean nothing); the figures' data scripts stay."""
    return re.sub(r"<script[^>]*>(?:(?!</script>).){200000,}</script>", "", html, flags=re.S)


def test_report_folder_and_html(export, tmp_path):
    out = tmp_path / "out"
    assert main(["report", str(export), "--out", str(out), "--quiet"]) == 0
    written = {p.name for p in out.iterdir()}
    assert {"report.html", "load_report.txt", "ignored_event_names.csv", "rejected.csv"} <= written
    for path in sorted(out.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            assert_clean([cell for row in csv.reader(fh) for cell in row], path.name)
    assert_clean([(out / "load_report.txt").read_text(encoding="utf-8")], "load_report.txt")
    html = _without_libraries((out / "report.html").read_text(encoding="utf-8"))
    assert "[redacted]" in html
    assert_clean([html], "report.html")
    # write_rejected keeps the records as read, as the README says
    raw = (out / "rejected_records.jsonl").read_text(encoding="utf-8")
    assert all(leaks(raw, case) for case in CONTACTS)
