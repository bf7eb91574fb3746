"""Export: HTML, JSON, static images through kaleido and the system Chromium, and tables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import chatanalytics as ca
from chatanalytics import export
from chatanalytics.errors import ExportError, InvalidParameterError
from chatanalytics.viz import funnel_figure

CHROMIUM = "/usr/bin/chromium"
# CI installs Debian's chromium: there, a missing browser is a failure, never a skip
needs_browser = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason=f"static export needs Chromium and {CHROMIUM} is missing (apt-get install chromium); "
    "these tests always run when CI is set",
)
TITLE = "Sample funnel for export"


class Report:
    """Anything with .figure() and .frame(), like a result object."""

    def __init__(self, result) -> None:
        self.result = result

    def figure(self):
        return funnel_figure(self.result.frame(), self.result.params, title=TITLE)

    def frame(self) -> pd.DataFrame:
        return self.result.frame()


@pytest.fixture(scope="module")
def report() -> Report:
    result = ca.funnel(ca.load_sample(), steps=["triggered", "engaged", "completed"], by="ui_type")
    return Report(result)


def test_html_is_self_contained(report, tmp_path):
    path = export.save(report, tmp_path / "funnel.html")
    text = path.read_text(encoding="utf-8")
    assert "plotly" in text and TITLE in text
    assert not re.search(r"<script[^>]*src=", text)  # plotly.js embedded, nothing loaded: renders offline
    assert len(text) > 1_000_000
    assert "conversation session" in text


def test_json_round_trips(report, tmp_path):
    fig = report.figure()
    path = export.save(fig, tmp_path / "funnel.json", width=640, height=400)
    back = pio.from_json(path.read_text(encoding="utf-8"))
    assert back.layout.title.text == TITLE
    assert (back.layout.width, back.layout.height) == (640, 400)
    sized = go.Figure(fig).update_layout(width=640, height=400)
    assert json.loads(pio.to_json(back)) == json.loads(pio.to_json(sized))
    assert fig.layout.width is None  # the caller's figure is not changed


def test_tables(report, tmp_path):
    frame = report.frame()
    pd.testing.assert_frame_equal(pd.read_parquet(export.save(report, tmp_path / "f.parquet")), frame)
    csv = pd.read_csv(export.save(report, tmp_path / "f.csv"))
    pd.testing.assert_frame_equal(csv, frame, check_dtype=False)


def test_unknown_suffix_lists_the_formats(report, tmp_path):
    with pytest.raises(InvalidParameterError, match=r"\.xlsx.*'\.html'.*'\.png'.*'\.parquet'"):
        export.save(report, tmp_path / "f.xlsx")
    with pytest.raises(InvalidParameterError, match="no suffix"):
        export.save(report, tmp_path / "funnel")
    assert not list(tmp_path.iterdir())


def test_tables_need_a_frame(report, tmp_path):
    with pytest.raises(InvalidParameterError, match=r"\.frame\(\)"):
        export.save(report.figure(), tmp_path / "f.csv")
    with pytest.raises(InvalidParameterError, match=r"\.figure\(\)"):
        export.save(object(), tmp_path / "f.html")


def test_no_browser_is_an_export_error(monkeypatch):
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setattr(export.shutil, "which", lambda name: None)
    monkeypatch.setattr(export, "_BROWSER_PATHS", ())
    with pytest.raises(ExportError, match="apt-get install chromium") as info:
        export.find_browser()
    assert "BROWSER_PATH" in str(info.value)


def test_bad_browser_path_fails_saving_png_in_a_fresh_process(tmp_path):
    code = textwrap.dedent(
        f"""
        import plotly.graph_objects as go
        from chatanalytics.errors import ExportError
        from chatanalytics.export import save
        try:
            save(go.Figure(go.Bar(y=[1])), {str(tmp_path / "x.png")!r})
        except ExportError as exc:
            assert "apt-get install chromium" in str(exc) and "BROWSER_PATH" in str(exc), exc
        else:
            raise SystemExit("no ExportError")
        """
    )
    env = {**os.environ, "BROWSER_PATH": str(tmp_path / "no-such-browser")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "x.png").exists()


@needs_browser
def test_static_images(report, tmp_path):
    png = export.save(report, tmp_path / "f.png", scale=2, width=600, height=400)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 800)  # 600 x 400 px at scale 2
    svg = export.save(report, tmp_path / "f.svg", width=640, height=360)
    root = ElementTree.parse(svg).getroot()  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("640", "360")
    assert TITLE in "".join(root.itertext())
    pdf = export.save(report, tmp_path / "f.pdf", width=600, height=400)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/MediaBox\s*\[0 0 450 300\]", data)  # 600 x 400 px in points (3/4 pt a px)
    assert export._server["running"]  # one persistent browser, reused


def _browsers_started_here() -> set[int]:
    """The Chromium browser processes (not its renderers or helpers) descending from this process."""
    parent: dict[int, int] = {}
    argv: dict[int, list[bytes]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def ours(pid: int) -> bool:
        while pid > 1:
            pid = parent.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    return {
        pid
        for pid, args in argv.items()
        if b"chrom" in args[0].rsplit(b"/", 1)[-1].lower()
        and not any(a.startswith(b"--type=") for a in args)
        and ours(pid)
    }


@pytest.mark.slow
@needs_browser
def test_twenty_charts_share_one_browser(report, tmp_path):
    """Twenty PNGs are drawn by the one Chromium started for the first: no browser process starts or
    stops while they are written (the process list is sampled throughout)."""
    fig = report.figure()
    export.save(fig, tmp_path / "warm.png")  # the browser is running from here on
    before = _browsers_started_here()
    assert before, "no Chromium child process after the first PNG"
    seen: set[int] = set()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen.update(_browsers_started_here())
            done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        paths = export.save_all([fig] * 20, tmp_path / "deck", formats=["png"], width=500, height=300)
    finally:
        done.set()
        sampler.join()
    assert len(paths) == 20 and all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    assert seen == before and _browsers_started_here() == before


@needs_browser
def test_save_all_shares_one_browser(report, tmp_path):
    paths = export.save_all({"a": report, "b": report.figure()}, tmp_path / "out", formats=["png", ".svg"])
    assert [p.name for p in paths] == ["a.png", "a.svg", "b.png", "b.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    unnamed = export.save_all([report], tmp_path / "more", formats=["html", "csv"])
    assert [p.name for p in unnamed] == ["figure-1.html", "figure-1.csv"]
    with pytest.raises(InvalidParameterError, match="formats"):
        export.save_all([report], tmp_path, formats=["gif"])


def test_save_all_tables_and_html_need_no_browser(report, tmp_path, monkeypatch):
    def fail():
        raise AssertionError("no browser needed")

    monkeypatch.setattr(export, "_start_server", fail)
    paths = export.save_all({"r": report}, tmp_path, formats=["html", "json", "parquet"])
    assert all(Path(p).exists() for p in paths)
