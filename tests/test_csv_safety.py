"""Every CSV written for people is safe to open in a spreadsheet, and stays one row per row.

Agent and conversation names come from visitors' browsers. A cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is run as a formula by spreadsheets, so it must get a leading ``'``
(OWASP), and a bare ``\\r`` must be quoted so that it does not split the row. Each file is read back
with the csv module, which is how a spreadsheet splits it: the number of cells per row and the cells
themselves are checked. Negative numbers are numbers, not formulas: they are written as they are.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics._csv import spreadsheet_safe, write_csv
from chatanalytics.cli import main

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-x", "@x", "a\rb", "\tTab", "\rCR"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_safe(path: Path) -> list[list[str]]:
    """Every row as wide as the header, and no text cell that a spreadsheet would run."""
    rows = rows_of(path)
    assert rows, path
    width = len(rows[0])
    for row in rows:
        assert len(row) == width, (path.name, row)
        for cell in row:
            assert not cell.startswith(FORMULA) or is_number(cell), (path.name, cell)
    return rows


def test_write_csv_neutralises_text_cells_only(tmp_path):
    frame = pd.DataFrame(
        {
            "name": pd.Series([*HOSTILE, "plain", None], dtype="str"),
            "delta": [-1.5, 2.0, -3.0, 4.0, -5.0, 6.0, -7.0, 8.0, 9.0],
            "count": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
            "kind": pd.Categorical(["-a", "b", "b", "b", "b", "b", "b", "b", "b"]),
        }
    )
    write_csv(frame, tmp_path / "safe.csv")
    rows = assert_safe(tmp_path / "safe.csv")
    assert rows[0] == ["name", "delta", "count", "kind"]
    shown = ["'" + h if h.startswith(FORMULA) else h for h in HOSTILE]
    assert shown[4] == "a\rb"  # not a formula: kept, and quoted so that its row stays whole
    assert [r[0] for r in rows[1:]] == [*shown, "plain", ""]
    assert [r[1] for r in rows[1:]] == ["-1.5", "2.0", "-3.0", "4.0", "-5.0", "6.0", "-7.0", "8.0", "9.0"]
    assert rows[1][2] == "-1" and rows[1][3] == "'-a"
    # raw: the text as it was, a bare CR still inside its quoted cell
    write_csv(frame, tmp_path / "raw.csv", safe=False)
    raw = rows_of(tmp_path / "raw.csv")
    assert [r[0] for r in raw[1:]] == [*HOSTILE, "plain", ""]
    assert all(len(r) == 4 for r in raw)


def test_header_and_index_labels_are_cells_too(tmp_path):
    frame = pd.DataFrame({"=cmd": [1], "ok": [2]}, index=pd.Index(["@x"], name="-name"))
    write_csv(frame, tmp_path / "t.csv", index=True)
    assert rows_of(tmp_path / "t.csv") == [["'-name", "'=cmd", "ok"], ["'@x", "1", "2"]]
    assert list(frame.columns) == ["=cmd", "ok"]  # the caller's frame is left alone
    assert spreadsheet_safe(frame).index.tolist() == ["'@x"]


def _line(ts: str, event: str, **payload: object) -> str:
    return json.dumps({"ts": ts, "event": event, "payload": payload})


@pytest.fixture(scope="module")
def hostile_export(tmp_path_factory) -> Path:
    """Three weeks of live chats in which every conversation and agent name is hostile, and one record
    whose event name is hostile (ignored)."""
    lines = []
    names = [*HOSTILE, "Pricing page dialogue"]
    for day in range(21):
        for i, name in enumerate(names):
            sid, t = f"s{day}-{i}", f"2026-10-{5 + day:02d}T{10 + i:02d}:00"
            conv = {"sid": sid, "id": f"c{i}", "name": name, "type": "dialogue", "uiType": "popup"}
            agent = {"agentID": f"a{i}", "agentName": name}
            lines += [
                _line(f"{t}:00Z", "CONVERSATION_TRIGGERED", **conv),
                _line(f"{t}:05Z", "CONVERSATION_ENGAGED", **conv),
                _line(f"{t}:10Z", "CONVERSATION_LIVE_CHAT_REQUESTED", **conv),
                _line(f"{t}:20Z", "CONVERSATION_LIVE_CHAT_INITIATED", **conv, **agent),
                _line(f"{t}:50Z", "CONVERSATION_LIVE_CHAT_ENDED", **conv, **agent),
            ]
            if (day + i) % 2:
                lines.append(_line(f"{t}:55Z", "CONVERSATION_COMPLETED", **conv))
    lines.append(_line("2026-10-06T09:00:00Z", '=HYPERLINK("http://x","y")', sid="s-x"))
    path = tmp_path_factory.mktemp("hostile") / "capture.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_events(hostile_export) -> pd.DataFrame:
    return ca.read_events(hostile_export, warn=False)


def test_the_names_reach_the_frame_as_written(hostile_events):
    assert set(hostile_events["agent_name"].dropna()) == {*HOSTILE, "Pricing page dialogue"}


def test_result_save_csv(hostile_events, tmp_path):
    result = ca.agent_performance(hostile_events)
    expected = result.frame()
    path = result.save(tmp_path / "agents.csv")
    rows = assert_safe(path)
    assert len(rows) == len(expected) + 1
    names = [r[rows[0].index("agent_name")] for r in rows[1:]]
    shown = ["'" + n if n.startswith(FORMULA) else n for n in expected["agent_name"]]
    assert names == shown
    raw = rows_of(result.save(tmp_path / "raw.csv", safe=False))
    assert [r[raw[0].index("agent_name")] for r in raw[1:]] == expected["agent_name"].tolist()
    # Parquet stays raw
    back = pd.read_parquet(result.save(tmp_path / "agents.parquet"))
    assert back["agent_name"].tolist() == expected["agent_name"].tolist()


def test_save_refuses_a_safe_that_is_not_a_boolean(hostile_events, tmp_path):
    with pytest.raises(ca.InvalidParameterError, match="safe"):
        ca.agent_performance(hostile_events).save(tmp_path / "a.csv", safe="no")


def test_cli_report_folder_csvs(hostile_export, tmp_path):
    out = tmp_path / "out"
    assert main(["report", str(hostile_export), "--out", str(out), "--quiet"]) == 0
    csvs = sorted(out.glob("*.csv"))
    assert {"agents.csv", "ignored_event_names.csv", "events_by_day.csv"} <= {p.name for p in csvs}
    for path in csvs:
        assert_safe(path)
    ignored = rows_of(out / "ignored_event_names.csv")
    assert ignored[1] == ['\'=HYPERLINK("http://x","y")', "1"]
    agents = rows_of(out / "agents.csv")
    names = {r[agents[0].index("agent_name")] for r in agents[1:]}
    assert {"'" + h for h in HOSTILE if h.startswith(FORMULA)} | {"a\rb"} <= names

    raw = tmp_path / "raw"
    assert main(["report", str(hostile_export), "--out", str(raw), "--quiet", "--raw-csv"]) == 0
    agents = rows_of(raw / "agents.csv")
    assert set(HOSTILE) <= {r[agents[0].index("agent_name")] for r in agents[1:]}
    assert all(len(r) == len(agents[0]) for r in agents)


def test_cli_digest_csvs(hostile_export, tmp_path, capsys):
    out = tmp_path / "digest"
    code = main(["digest", str(hostile_export), "--csv", str(out), "--by", "conversation_name", "--quiet"])
    assert code in (0, 4)
    csvs = sorted(out.glob("*.csv"))
    assert csvs
    cells = set()
    for path in csvs:
        cells |= {c for row in assert_safe(path) for c in row}
    assert '\'=HYPERLINK("http://x","y")' in cells and "'-x" in cells
