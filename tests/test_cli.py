import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

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


def test_convert_round_trips_the_sample_exactly(tmp_path, capsys):
    from chatanalytics.datasets import SAMPLE_PATH

    dst = tmp_path / "deep" / "events.parquet"
    assert main(["convert", str(SAMPLE_PATH), "--out", str(dst)]) == 0
    assert f"to {dst} (0 rejected, 30 duplicates, 0 ignored)" in capsys.readouterr().out
    original = ca.read_events(SAMPLE_PATH, warn=False)
    back = ca.read_events(dst)
    assert back.dtypes.to_dict() == original.dtypes.to_dict()
    pd.testing.assert_frame_equal(back, original)  # values, dtypes, categories and provenance
    assert ca.load_report(back).counts()["events"] == len(original)


def test_bad_input_exits_1_with_the_reason_and_no_traceback(write, tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "chatanalytics report: error: file not found" in err and "Traceback" not in err
    garbage = write("notes.txt", ["hello, world"])
    assert main(["inspect", str(garbage)]) == 1
    assert "cannot tell the format" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_empty_input(write, tmp_path, capsys):
    empty = write("empty.jsonl", [])
    for command in (
        ["inspect"],
        ["convert", "--out", str(tmp_path / "e.parquet")],
        ["report", "--out", str(tmp_path / "o")],
    ):
        assert main([command[0], str(empty), *command[1:]]) == 1
        assert f"chatanalytics {command[0]}: error: no records in" in capsys.readouterr().err
    broken = write("broken.jsonl", [b"{broken", b"not json"])
    assert main(["report", str(broken), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert "of the 2 records read, 2 were rejected" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "e.parquet").exists()
    assert main(["inspect", str(broken)]) == 0  # the load report says why
    out = capsys.readouterr().out
    assert "2 records from 1 file(s): 0 events, 2 rejected" in out and "malformed JSON: 2" in out
    assert out.rstrip().endswith("no events")


def test_usage_errors_exit_2(write, tmp_path, capsys):
    src = write("a.jsonl", [line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1")])
    for argv in (
        [],
        ["frobnicate"],
        ["report"],
        ["report", str(src), "--tz", "Mars/Base"],
        ["report", str(src), "--format", "xml"],
        ["report", str(src), "--scale", "0"],
        ["convert", str(src), "--out", str(tmp_path / "events.csv")],
        ["simulate", "--sessions", "ten", "--out", str(tmp_path / "s.jsonl")],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "usage: chatanalytics" in err and "error:" in err, argv
    assert (
        "not a time zone: 'Mars/Base'"
        in (main(["inspect", str(src), "--tz", "Mars/Base"]), capsys.readouterr().err)[1]
    )
    assert main(["--help"]) == 0
    assert "inspect" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl"]


def test_inspect_prints_the_load_report_and_writes_nothing(write, tmp_path, monkeypatch, capsys):
    src = write(
        "logs/a.jsonl",
        [
            line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1", id=7),
            line("2026-11-02T14:00:05Z", "CONVERSATION_ENGAGED", sid="s1", id=7),
            line("2026-11-02T14:00:05Z", "CONVERSATION_ENGAGED", sid="s1", id=7),
            line("2026-11-02T14:01:00Z", "CONVERSATION_ENGAGD", sid="s1", id=7),
            b"{broken",
        ],
    )
    monkeypatch.chdir(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["inspect", str(src), "--tz", "Europe/Berlin"]) == 0
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    captured = capsys.readouterr()
    out = captured.out
    assert "5 records from 1 file(s): 2 events, 1 rejected, 1 duplicates, 1 ignored" in out
    assert "event CONVERSATION_ENGAGD: 1" in out
    assert (
        "2 events from 2026-11-02 15:00 to 2026-11-02 15:00 (Europe/Berlin): 1 sessions, 1 conversations"
        in out
    )
    assert re.search(r"CONVERSATION_ENGAGED +1\n", out)
    assert "reading 1 file(s)" in captured.err  # the progress bar
    assert main(["inspect", str(src), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_quiet_report_prints_nothing(write, tmp_path, capsys):
    src = write(
        "a.jsonl",
        [
            line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1", id=7, name="<b>Pricing</b>"),
            line("2026-11-02T14:00:05Z", "CONVERSATION_ENGAGED", sid="s1", id=7, name="<b>Pricing</b>"),
        ],
    )
    html = tmp_path / "site" / "report.html"
    assert main(["report", str(src), "--out", str(html), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert sorted(p.name for p in html.parent.iterdir()) == ["report.html"]  # no CSV beside a named file
    text = html.read_text(encoding="utf-8")
    assert re.search(r"<td[^>]*>&lt;b&gt;Pricing&lt;/b&gt;</td>", text) and "<b>Pricing</b>" not in text
    assert "Agent performance is not available" in text
    assert main(["report", str(src), "--out", str(tmp_path / "loud.html")]) == 0
    captured = capsys.readouterr()
    assert f"wrote {tmp_path / 'loud.html'}" in captured.out
    assert "agents: not available: no live-chat requests" in captured.out
    assert "reading 1 file(s)" in captured.err and "report" in captured.err


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
    # the report's funnel: the three conversation steps with a contact detail left (email or phone) between
    assert funnel["step_name"].tolist() == ["triggered", "engaged", "email_input | phone_input", "completed"]
    steps = ["triggered", "engaged", ("email_input", "phone_input"), "completed"]
    direct_funnel = ca.funnel(ca.load_sample(), steps=steps).frame()
    assert funnel["converted"].tolist() == direct_funnel["converted"].tolist()
    outcomes = pd.read_csv(out / "timeouts.csv")
    overall = outcomes[(outcomes["slice"] == "all") & (outcomes["basis"] == "requests")]
    assert int(overall["count"].sum()) == ca.timeouts(ca.load_sample()).summary()["requests"]


def test_python_dash_m_exit_codes(tmp_path):
    def run(*argv):
        return subprocess.run(
            [sys.executable, "-m", "chatanalytics", *argv], capture_output=True, text=True, timeout=120
        )

    usage = run("report")
    assert usage.returncode == 2 and "usage:" in usage.stderr
    bad = run("inspect", str(tmp_path / "missing.jsonl"))
    assert bad.returncode == 1 and "file not found" in bad.stderr and "Traceback" not in bad.stderr
    assert bad.stdout == ""


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.slow
@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason=f"PNG export needs Chromium and {CHROMIUM} is missing (apt-get install chromium); "
    "this test always runs when CI is set",
)
def test_report_html_and_png_charts(tmp_path, capsys):
    from chatanalytics.analysis import ANALYSES
    from chatanalytics.datasets import SAMPLE_PATH

    html, charts = tmp_path / "report.html", tmp_path / "charts"
    argv = ["report", str(SAMPLE_PATH), "--tz", "Europe/Berlin", "--out", str(html), "--png", str(charts)]
    assert main([*argv, "--scale", "0.5"]) == 0
    names = sorted(p.name for p in charts.iterdir())
    assert len(names) == sum(len(a.report_figures()) for a in ANALYSES.values()) == 13
    assert "funnel.png" in names and "timeouts_service_level.png" in names
    assert "changes_overview.png" in names and "changes_waterfall.png" in names
    text = html.read_text(encoding="utf-8")
    assert text.count('class="plotly-graph-div"') == len(names)
    for name in names:
        data = Path(charts / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(data[16:20], "big") == 350  # plotly's default 700 px wide, at scale 0.5
    out = capsys.readouterr().out
    assert f"wrote {html}" in out and f"wrote 13 charts to {charts}/: changes_overview.png" in out


def test_report_on_an_aggregated_export_counts_and_explains(tmp_path, capsys):
    explore = Path(__file__).parent / "data" / "ga4_reports" / "explore_dynamic_chat_20261101-20261102.csv"
    out = tmp_path / "out"
    assert main(["report", str(explore), "--out", str(out), "-q"]) == 1  # local dates need the zone
    assert "timezone" in capsys.readouterr().err
    assert main(["report", str(explore), "--source-tz", "America/New_York", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "funnel: not available: 4 of 4 rows are aggregated counts per day from ga4_explore_csv" in said
    counts = pd.read_csv(out / "events_by_type.csv").set_index("event_type")["events"]
    # by hand from the file: 1,204 + 27 triggered, 310 engaged, 1 completed; the zero count is ignored
    assert counts["CONVERSATION_TRIGGERED"] == 1231
    assert counts["CONVERSATION_ENGAGED"] == 310
    assert counts["CONVERSATION_COMPLETED"] == 1
    assert counts.sum() == 1542
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "The funnel is not available: 4 of 4 rows are aggregated" in html


# ---------------------------------------------------------------------------------------------- digest
@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    """Two SYNTHETIC capture exports of 8,000 sessions over 15 days from Monday 2026-06-01 (New York),
    the same seed: one with the Pricing page dialogue's engagement cut to 30% of its rate from the
    second week, one without."""
    from chatanalytics.datasets import PlantedChange

    d = tmp_path_factory.mktemp("digest")
    drop = PlantedChange("2026-06-08", conversation="Pricing page dialogue", engage_factor=0.3)
    common = {"seed": 21, "start": "2026-06-01", "days": 15, "tz": "America/New_York"}
    ca.simulate(8000, **common, changes=[drop], path=d / "planted.jsonl.gz")
    ca.simulate(8000, **common, path=d / "flat.jsonl.gz")
    return d / "planted.jsonl.gz", d / "flat.jsonl.gz"


def _events(path):
    with pytest.warns(ca.DataQualityWarning, match="duplicate"):  # the simulator's dirt: duplicates
        return ca.read_events(path)


def test_digest_exits_4_on_a_planted_change(histories, tmp_path, capsys):
    planted, _ = histories
    argv = ["digest", str(planted), "--tz", "America/New_York", "--csv", str(tmp_path / "t"), "-q"]
    assert main(argv) == 4
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("Engagement fell from") and "significant" in lines[0]
    assert "Pricing page dialogue's own rate" in lines[0]
    assert lines[-1].startswith("Compared: week of 2026-06-08 against week of 2026-06-01 (America/New_York)")
    assert len(lines) == 10 and err == ""  # nine metrics and what was compared; -q: nothing on stderr
    direct = ca.changes(_events(planted), tz="America/New_York")
    assert lines == direct.headlines()
    written = pd.read_csv(tmp_path / "t" / "changes.csv")
    assert written["metric"].tolist() == direct.frame()["metric"].tolist()
    assert written["significant"].tolist() == direct.frame()["significant"].tolist()
    assert len(pd.read_csv(tmp_path / "t" / "change_drivers.csv")) == len(direct.frame("drivers"))


def test_digest_exits_0_when_nothing_moved(histories, capsys):
    _, flat = histories
    assert main(["digest", str(flat), "--tz", "America/New_York", "--by", "ui_type"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "Nothing moved beyond noise: week of 2026-06-08 against week of 2026-06-01 (Holm-adjusted, 5%)."
    )
    assert len(lines) == 10 and all("within noise" in line for line in lines[1:])


def test_digest_by_day_with_a_baseline_and_at(histories, capsys):
    _, flat = histories
    argv = ["digest", str(flat), "--tz", "America/New_York", "--period", "day", "--baseline", "3"]
    assert main([*argv, "--at", "2026-06-10", "--by", "ui_type", "--by", "page_url"]) in (0, 4)
    lines = capsys.readouterr().out.splitlines()
    r = ca.changes(_events(flat), tz="America/New_York", period="day", baseline=3, at="2026-06-10",
                   by=["ui_type", "page_url"])  # fmt: skip
    assert lines == r.headlines() and r.params["baseline_label"] == "mean of 3 days before"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--period", "month"], "--period"),
        (["--baseline", "0"], "--baseline"),
        (["--baseline", "two"], "--baseline"),
        (["--by", "agent_id"], "--by"),
        (["--at", "not-a-date"], "--at"),
        (["--at", "2031-01-01"], "--at"),  # a date, but outside the data
        (["--tz", "Mars/Base"], "--tz"),
    ],
)
def test_digest_bad_options_exit_2_naming_the_option(histories, capsys, options, named):
    _, flat = histories
    assert main(["digest", str(flat), *options]) == 2
    err = capsys.readouterr().err
    assert f"argument {named}" in err and options[1] in err


def test_digest_without_enough_data_exits_1(histories, capsys):
    _, flat = histories
    assert main(["digest", str(flat), "--tz", "America/New_York", "--baseline", "2", "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("chatanalytics digest: error: baseline=2 needs 2 week(s)")
    assert "Traceback" not in err


# ------------------------------------------------------------------------------- never a traceback
def test_an_unexpected_error_exits_3_with_one_line_and_debug_shows_the_traceback(write, monkeypatch, capsys):
    import chatanalytics.cli as cli

    src = write("a.jsonl", [line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1")])

    def broken(args):  # a defect inside a command, as a bug would raise it
        raise KeyError("overview")

    monkeypatch.setattr(cli, "cmd_inspect", broken)
    assert main(["inspect", str(src)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unexpected error (KeyError: 'overview')" in err and "bug" in err and "--debug" in err
    for argv in (["inspect", str(src), "--debug"], ["--debug", "inspect", str(src)]):
        assert main(argv) == 3
        err = capsys.readouterr().err
        assert "Traceback" in err and "in broken" in err
        assert err.rstrip().splitlines()[-1].startswith("chatanalytics inspect: unexpected error")


def test_an_os_error_exits_1_with_one_line_naming_the_file(write, tmp_path, capsys):
    src = write("a.jsonl", [line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1")])
    (tmp_path / "file").write_text("x")
    assert main(["convert", str(src), "-q", "--out", str(tmp_path / "file" / "events.parquet")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("chatanalytics convert: error: ") and str(tmp_path / "file") in err


def _unprivileged(argv: list[str]) -> subprocess.CompletedProcess:
    """The command line run by a user without the right to read others' folders: as root, root without
    the capabilities that override file permissions (setpriv); otherwise the user running the tests.
    """
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop the right to read any folder")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "chatanalytics.cli", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=120,
    )


@contextlib.contextmanager
def _locked(folder: Path):
    """A folder nobody but its owner (another user, when the tests run as root) may open."""
    owner = folder.stat()
    if os.geteuid() == 0:
        os.chown(folder, 65534, 65534)  # nobody
    folder.chmod(0o000)
    try:
        yield folder
    finally:
        folder.chmod(0o700)
        if os.geteuid() == 0:
            os.chown(folder, owner.st_uid, owner.st_gid)


def test_a_folder_one_may_not_open_is_reported_as_such(write, tmp_path):
    src = write("ok.jsonl", [line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1")])
    locked = tmp_path / "locked"
    (locked / "logs").mkdir(parents=True)
    (locked / "logs" / "a.jsonl").write_bytes(src.read_bytes())
    with _locked(locked):
        for out in (locked / "ds", locked / "ds.v2", locked / "events.parquet"):  # folder, odd name, file
            res = _unprivileged(["convert", str(src), "-q", "--out", str(out)])
            assert res.returncode == 1, res.stderr
            assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
            assert "Permission denied" in res.stderr and str(locked) in res.stderr
        res = _unprivileged(["inspect", str(locked)])
        assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
        assert "Permission denied" in res.stderr and "holds no event files" not in res.stderr
    # a folder inside a readable one: its files would be missed without a word
    with _locked(locked / "logs"):
        res = _unprivileged(["inspect", str(locked)])
        assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
        assert f"cannot read the directory '{locked / 'logs'}': Permission denied" in res.stderr


def test_a_folder_is_read_through_links_once_and_a_link_loop_ends(write, tmp_path, capsys):
    src = write("in/logs/a.jsonl", [line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1")])
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "b.jsonl").write_bytes(src.read_bytes().replace(b"s1", b"s2"))
    (tmp_path / "in" / "linked").symlink_to(tmp_path / "other", target_is_directory=True)
    (tmp_path / "in" / "logs" / "loop").symlink_to(tmp_path / "in", target_is_directory=True)
    events = ca.read_events(tmp_path / "in", warn=False)
    assert sorted(events["session_id"]) == ["s1", "s2"]
    assert ca.load_report(events).counts()["records"] == 2
