import subprocess
import sys

import pandas as pd

import chatanalytics as ca
from chatanalytics.cli import main
from tests.conftest import capture_line as line


def test_report_writes_the_load_report_and_counts(write, tmp_path, capsys):
    src = write(
        "logs/a.jsonl",
        [
            line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1"),
            line("2026-11-02T14:00:05Z", "CONVERSATION_ENGAGD", sid="s1"),
            b"{broken",
        ],
    )
    out = tmp_path / "out"
    assert main(["report", str(src), "--out", str(out), "--tz", "Europe/Berlin"]) == 0
    text = (out / "load_report.txt").read_text()
    assert "3 records from 1 file(s): 1 events, 1 rejected, 0 duplicates, 1 ignored" in text
    assert (out / "rejected_records.jsonl").read_bytes() == b"{broken\n"
    assert pd.read_csv(out / "ignored_event_names.csv").values.tolist() == [["CONVERSATION_ENGAGD", 1]]
    by_day = pd.read_csv(out / "events_by_day.csv")
    assert by_day.columns[0] == "day (Europe/Berlin)"
    assert by_day["CONVERSATION_TRIGGERED"].tolist() == [1]
    assert "wrote" in capsys.readouterr().out


def test_convert_then_read_parquet(write, tmp_path):
    src = write("a.jsonl", [line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1", id=4471902)])
    dst = tmp_path / "events.parquet"
    assert main(["convert", str(src), "--out", str(dst)]) == 0
    back = ca.read_events(dst)
    assert back["conversation_id"].tolist() == ["4471902"]


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli(tmp_path):
    out = tmp_path / "s.jsonl.gz"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatanalytics",
            "simulate",
            "--sessions",
            "50",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "SYNTHETIC" in res.stdout
    assert len(ca.read_events(out, warn=False)) > 50


def test_report_on_the_sample_writes_funnel_and_agents(tmp_path):
    from chatanalytics.datasets import SAMPLE_PATH

    out = tmp_path / "out"
    assert main(["report", str(SAMPLE_PATH), "--out", str(out), "--tz", "America/New_York"]) == 0
    agents = pd.read_csv(out / "agents.csv")
    direct = ca.agent_performance(ca.load_sample(), tz="America/New_York").frame()
    assert agents["offers"].tolist() == direct["offers"].tolist()
    assert agents["agent_name"].tolist() == direct["agent_name"].tolist()
    funnel = pd.read_csv(out / "funnel.csv")
    assert funnel["step_name"].tolist() == ["triggered", "engaged", "completed"]
    outcomes = pd.read_csv(out / "timeouts.csv")
    overall = outcomes[(outcomes["slice"] == "all") & (outcomes["basis"] == "requests")]
    assert int(overall["count"].sum()) == ca.timeouts(ca.load_sample()).summary()["requests"]
