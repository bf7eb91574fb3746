"""The quickstart notebook in the real JupyterLab, driven in headless Chromium through Playwright.

Starts JupyterLab on a free local port over a copy of the notebook, runs all cells, waits for the Plotly
figures, changes the funnel widget's breakdown and checks that the figure in the page changed, clicks a
funnel bar and checks that the drill-down list appears, and saves screenshots under ``test-artifacts/``.
The server is stopped by its process id. Runs in CI (``.ci/run`` installs Chromium) and is never skipped
there; without Chromium elsewhere it skips and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture
def lab(tmp_path):
    shutil.copy(ROOT / "notebooks" / "01-quickstart.ipynb", tmp_path / "01-quickstart.ipynb")
    port = _free_port()
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root",
        f"--ServerApp.root_dir={tmp_path}", f"--LabApp.app_settings_dir={ROOT / 'tests' / 'lab-settings'}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "lab.log").read_text()[-2000:]) from None
                time.sleep(0.3)
        yield base
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _wait_single_kernel(base: str, timeout: float = 60) -> None:
    """The first open can start two kernels and shut one down; wait until exactly one is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_get(f"{base}/api/kernels")) == 1 and len(_get(f"{base}/api/sessions")) == 1:
            return
        time.sleep(0.3)
    raise AssertionError("JupyterLab did not settle on one kernel")


@pytest.mark.slow
def test_quickstart_in_jupyterlab(lab, playwright_browser):
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{lab}/lab/tree/01-quickstart.ipynb")
        idle = ".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']"
        page.wait_for_selector(idle, timeout=60_000)
        _wait_single_kernel(lab)
        page.wait_for_selector(idle, timeout=60_000)

        first_prompt = page.locator(".jp-InputArea-prompt").first
        for _ in range(3):  # a click during start-up can be lost: check the run began, else retry
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            try:
                page.wait_for_function(
                    "el => /\\[(\\*|\\d+)\\]/.test(el.textContent)",
                    arg=first_prompt.element_handle(),
                    timeout=10_000,
                )
                break
            except Exception:  # retried
                continue
        # the run is over when the last code cell has its execution count
        page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""",
            timeout=240_000,
        )
        page.wait_for_selector(".jp-OutputArea-output .js-plotly-plot .main-svg", state="visible")
        # figures outside the viewport are drawn when scrolled to; no cell shows a traceback
        assert (
            page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            .filter(has_text="Traceback")
            .count()
            == 0
        )

        # the funnel widget: the VBox holding both the "By" dropdown and a plot
        widget = (
            page.locator(".widget-vbox", has=page.locator(".widget-dropdown", has_text="By"))
            .filter(has=page.locator(".js-plotly-plot"))
            .first
        )
        widget.scroll_into_view_if_needed()
        plot = widget.locator(".js-plotly-plot").first
        plot.locator(".main-svg").first.wait_for(state="visible")
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-quickstart.png"))
        names_before = plot.evaluate("el => el.data.map(t => t.name)")
        assert sorted(names_before) == ["chatbot", "inline", "popup"]

        by = widget.locator(".widget-dropdown", has_text="By").locator("select")
        by.select_option(label="conversation_type")
        page.wait_for_function(
            "el => el.data.map(t => t.name).includes('dialogue')",
            arg=plot.element_handle(),
            timeout=30_000,
        )
        names_after = plot.evaluate("el => el.data.map(t => t.name)")
        assert sorted(names_after) == ["conversational_flow", "dialogue"]
        plot.screenshot(path=str(ARTIFACTS / "jupyterlab-funnel-widget.png"))

        # click the second step's bar of the first group: the units that dropped there are listed
        bar = plot.locator(".bars .point path").nth(1)
        box = bar.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        listed = widget.locator(".widget-html", has_text="dropped at step")
        listed.first.wait_for(state="visible", timeout=30_000)
        assert listed.first.locator("table").count() == 1
        widget.screenshot(path=str(ARTIFACTS / "jupyterlab-funnel-drilldown.png"))
    finally:
        context.close()
    assert not [e for e in errors if "favicon" not in e], errors
