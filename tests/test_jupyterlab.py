"""The quickstart notebook and the four widgets in the real JupyterLab, driven in headless Chromium
through Playwright.

Starts JupyterLab on a free local port over a copy of the quickstart notebook with the four widgets on
the bundled sample added after its cells, and runs all cells. The quickstart: its Plotly figures are
drawn by JupyterLab's renderer and its funnel widget shows its groups. The widgets: a few interactions
(the funnel's breakdown changed, a bar clicked and its drill-down list shown, a picture of each widget),
then every option of every control of each widget in turn, set as a user would (select, click, type);
after each the test waits until the figure in the page is the one the same widget, driven headless in
this process, draws (trace kinds and names, title, caption); no error text may show, a recompute must
show the busy indicator, and the page's console must stay free of errors. The headless twin is checked
after each value too (``tests/widget_walk.py``: what the figure shows follows the choice). The timeouts
widget is walked compared (its group control under the views that use it) and alone. Screenshots go to
``test-artifacts/`` (the README's pictures are copies in ``docs/img/``). Waits are conditions, never
sleeps. The server is stopped by its process id. Runs in CI (``.ci/run`` installs Chromium) and is
never skipped there; without Chromium elsewhere it skips and says why.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import widget_choices
from tests.widget_walk import check_step

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
TZ = "America/New_York"
# each widget as the widgets notebook builds it (the same call builds its headless twin here)
WIDGETS = {
    "FunnelWidget": {"tz": TZ, "steps": ["triggered", "engaged", "completed"]},
    "AgentWidget": {"tz": TZ, "freq": "week"},
    "TimeoutWidget": {"tz": TZ},
    "ChangesWidget": {"tz": TZ},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _lab_notebook(path: Path) -> None:
    """The quickstart notebook with the four widgets of :data:`WIDGETS` after its cells."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "01-quickstart.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("from chatanalytics.widgets import *"))
    nb.cells += [
        nbformat.v4.new_code_cell(f"{name}(events, **{kwargs!r})") for name, kwargs in WIDGETS.items()
    ]
    nbformat.write(nb, path)


@pytest.fixture
def lab(tmp_path):
    _lab_notebook(tmp_path / "quickstart-and-widgets.ipynb")
    port = _free_port()
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root",
        f"--ServerApp.root_dir={tmp_path}", f"--LabApp.app_settings_dir={ROOT / 'tests' / 'lab-settings'}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # a workspace of its own: a shared one reopens the notebooks of earlier runs, with their kernels
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
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


def _wait_single_kernel(base: str, timeout: float = 120) -> None:
    """The first open can start two kernels and shut one down; wait until exactly one is left."""
    deadline = time.monotonic() + timeout
    seen: object = None
    while time.monotonic() < deadline:
        try:
            seen = (_get(f"{base}/api/kernels"), _get(f"{base}/api/sessions"))
            if len(seen[0]) == 1 and len(seen[1]) == 1:
                return
        except OSError as err:  # HTTP 500 while a kernel starts or stops under load: asked again
            seen = err
        time.sleep(0.3)
    raise AssertionError(f"JupyterLab did not settle on one kernel: {seen}")


def _run_all(page, lab: str, name: str) -> None:
    """Open a notebook, run all its cells, and wait until the last code cell has its execution count."""
    page.goto(f"{lab}/lab/tree/{name}")
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
    assert (
        page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        .filter(has_text="Traceback")
        .count()
        == 0
    )


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _wait_plot(page, root, condition: str, timeout: float = 120_000) -> None:
    """Wait until ``condition`` holds of the widget's plot element ``el`` (looked up on every poll)."""
    page.wait_for_function(
        f"""root => {{ const el = root.querySelector('.js-plotly-plot');
            return !!(el && el.data && ({condition})); }}""",
        arg=root.element_handle(),
        timeout=timeout,
    )


def _click_bar(page, plot, n: int) -> None:
    bar = plot.locator(".bars .point path").nth(n)
    box = bar.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


# ------------------------------------------------------------------------------------------------------
# every option of every control of every widget
# ------------------------------------------------------------------------------------------------------

# what the page's figure shows, read the same way from the twin's FigureWidget and from the plot element
_PAGE_STATE = """el => JSON.stringify({
    traces: el.data.map(t => [t.type || 'scatter', t.name === undefined ? null : t.name]),
    title: el.layout.title && el.layout.title.text !== undefined ? el.layout.title.text : null,
    notes: (el.layout.annotations || []).map(a => a.text === undefined ? null : a.text),
})"""


def _twin_state(twin) -> str:
    fig = twin.figure
    state = {
        "traces": [[t.type or "scatter", t.name] for t in fig.data],
        "title": fig.layout.title.text,
        "notes": [a.text for a in fig.layout.annotations],
    }
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False)  # as JSON.stringify writes it


def _set_in_page(root, name: str, control, value) -> None:
    """Set ``value`` on the control as a user does: select, click or type."""
    import ipywidgets as widgets

    here = root.locator(f".chatanalytics-control-{name}")
    values = [o[1] if isinstance(o, tuple) else o for o in getattr(control, "options", ())]
    if isinstance(control, widgets.SelectMultiple):
        here.locator("select").select_option(index=[values.index(v) for v in value])
    elif isinstance(control, widgets.Dropdown):
        here.locator("select").select_option(index=values.index(value))
    elif isinstance(control, widgets.ToggleButtons):
        here.locator("button").nth(values.index(value)).click()
    elif isinstance(control, widgets.DatePicker):
        here.locator("input").fill("" if value is None else value.isoformat())
    else:
        box = here.locator("input")
        box.fill(value)
        box.press("Enter")


def _watch_busy(root) -> None:
    """Record in the widget's element whether the busy line was added since the flag was last reset."""
    # the busy line may come and go within one batch of DOM changes: read the nodes added, not the DOM
    root.evaluate(
        """el => { el.__sawBusy = false; new MutationObserver(records => {
            for (const r of records) for (const n of r.addedNodes) {
                const busy = '.chatanalytics-busy';
                if (n.nodeType === 1 && (n.matches(busy) || n.querySelector(busy))) el.__sawBusy = true;
            }
        }).observe(el, {subtree: true, childList: true}); }"""
    )


def _step(page, root, twin, name: str, value, errors: list[str]) -> None:
    """Set ``value`` on the twin and in the page, wait until the page shows what the twin draws, and
    check the twin (:func:`widget_walk.check_step`).
    """
    control = twin.controls[name]
    root.evaluate("el => { el.__sawBusy = false; }")
    computes, changed = twin.n_computes, value != control.value
    control.value = value  # the twin first: what the page must come to show
    _set_in_page(root, name, control, value)
    expected = _twin_state(twin)
    # a recompute has shown the busy line before the page settles (the figure may come out the same,
    # as for "latest complete" when that is the week picked before)
    busy = twin.n_computes > computes
    try:
        # the plot element is looked up on every poll: a redraw may replace it
        page.wait_for_function(
            f"""([root, want, busy]) => {{
                const el = root.querySelector('.js-plotly-plot');
                return el && el.data && !root.querySelector('.chatanalytics-busy')
                    && (!busy || root.__sawBusy) && ({_PAGE_STATE})(el) === want;
            }}""",
            arg=[root.element_handle(), expected, busy],
            timeout=120_000,
        )
    except Exception as err:
        shown = root.locator(".js-plotly-plot").first.evaluate(_PAGE_STATE)
        saw = root.evaluate("el => el.__sawBusy")
        raise AssertionError(
            f"{name}={value!r}: the page shows {shown} (busy seen: {saw}), not {expected} "
            f"(a recompute: {busy}); console: {errors}"
        ) from err
    message = root.locator(".chatanalytics-message").first.inner_text()
    assert "Not updated" not in message and "Not drawn" not in message, (name, value, message)
    check_step(twin, name, value, computes, changed)


def _walk(page, root, twin, events, errors: list[str], only: tuple[str, ...] | None = None) -> int:
    """Set every value of every enabled control (or of those named in ``only``), each control's value
    at the start last, so that the next control is walked from the same state; return how many values
    were set.
    """
    steps = 0
    for name, control in twin.controls.items():
        if control.disabled or (only is not None and name not in only):
            continue
        start = control.value
        for value in [*(v for v in widget_choices(control, events, TZ) if v != start), start]:
            if value == control.value:
                continue
            _step(page, root, twin, name, value, errors)
            steps += 1
        assert control.value == start
    return steps


@pytest.mark.slow
def test_every_control_of_every_widget_in_jupyterlab(lab, playwright_browser):
    import chatanalytics as ca
    from chatanalytics import widgets as cw
    from chatanalytics.widgets.timeouts import NO_COMPARISON, VIEWS

    events = ca.load_sample()
    ARTIFACTS.mkdir(exist_ok=True)
    context = playwright_browser.new_context(viewport={"width": 1300, "height": 1100})
    try:
        page = context.new_page()
        errors = _console_errors(page)
        _run_all(page, lab, "quickstart-and-widgets.ipynb")
        # the quickstart's figures, drawn by JupyterLab's Plotly renderer, and its funnel widget
        static = """() => [...document.querySelectorAll('.jp-OutputArea .js-plotly-plot')]
            .filter(el => !el.closest('[class*="chatanalytics-"]'))
            .map(el => (el.querySelector('.main-svg') && el.data ? el.data.length : 0))"""
        page.wait_for_function(f"() => ({static})().length >= 3", timeout=60_000)
        assert all(n > 0 for n in page.evaluate(static)), page.evaluate(static)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-quickstart.png"))
        quick = page.locator(".chatanalytics-funnelwidget").first
        quick.scroll_into_view_if_needed()
        _wait_plot(page, quick, "el.data.length > 0")
        names = quick.locator(".js-plotly-plot").first.evaluate("el => el.data.map(t => t.name)")
        assert sorted(names) == ["chatbot", "inline", "popup"]
        # then the four widgets (after the quickstart's cells): a few interactions and a picture of each
        funnel = page.locator(".chatanalytics-funnelwidget").last
        funnel.scroll_into_view_if_needed()
        funnel.locator(".chatanalytics-control-by select").select_option(label="ui_type")
        _wait_plot(page, funnel, "el.data.length === 3")
        _click_bar(page, funnel.locator(".js-plotly-plot").first, 1)
        funnel.locator(".widget-html", has_text="dropped at step").first.wait_for(timeout=30_000)
        funnel.screenshot(path=str(ARTIFACTS / "widget-funnel.png"))
        about = ".jupyter-widget-Collapse-header, .p-Collapse-header, .lm-Collapse-header"
        funnel.locator(about).first.click()
        funnel.get_by_text("Funnel window").first.wait_for(timeout=30_000)
        funnel.locator(about).first.click()  # closed again

        agents = page.locator(".chatanalytics-agentwidget").last
        agents.scroll_into_view_if_needed()
        agents.locator(".chatanalytics-control-drill select").select_option(index=1)
        agents.locator(".widget-html", has_text="with their request's outcome").first.wait_for(timeout=30_000)
        agents.screenshot(path=str(ARTIFACTS / "widget-agents.png"))

        timeouts = page.locator(".chatanalytics-timeoutwidget").last
        timeouts.scroll_into_view_if_needed()
        timeouts.locator(".chatanalytics-control-compare select").select_option(label="ui_type")
        timeouts.locator(".chatanalytics-control-view button", has_text="curves").first.click()
        timeouts.get_by_text("groups differ").first.wait_for(timeout=120_000)
        timeouts.screenshot(path=str(ARTIFACTS / "widget-timeouts.png"))

        changes = page.locator(".chatanalytics-changeswidget").last
        changes.scroll_into_view_if_needed()
        changes.locator(".chatanalytics-control-view button", has_text="waterfall").first.click()
        _wait_plot(page, changes, "el.data.some(t => t.type === 'bar')")
        changes.screenshot(path=str(ARTIFACTS / "widget-changes.png"))
        # then every option of every control, each widget against its headless twin, which is first
        # set as the interactions above left the page
        done = {
            "FunnelWidget": {"by": "ui_type"},
            "AgentWidget": {"drill": 1},
            "TimeoutWidget": {"compare": "ui_type", "view": "curves"},
            "ChangesWidget": {"view": "waterfall"},
        }
        walked = {}
        for name, kwargs in WIDGETS.items():
            twin = getattr(cw, name)(events, **kwargs)
            for control, value in done[name].items():
                options = twin.controls[control].options
                twin.controls[control].value = options[value][1] if isinstance(value, int) else value
            root = page.locator(f".chatanalytics-{name.lower()}").last
            root.scroll_into_view_if_needed()
            root.locator(".js-plotly-plot .main-svg").first.wait_for(state="visible")
            _watch_busy(root)
            walked[name] = _walk(page, root, twin, events, errors)
            if name == "TimeoutWidget":
                # compared: the group control is in use under the service level and causes views; each
                # walk sets every value but the one shown, then the one shown again
                for view in ("service_level", "causes"):
                    _step(page, root, twin, "view", view, errors)
                    n = _walk(page, root, twin, events, errors, only=("group",))
                    assert n == len(twin.controls["group"].options) > 2, (view, n)
                    walked[name] += 1 + n
                # and alone: every view without a comparison, the group control out of use
                _step(page, root, twin, "compare", NO_COMPARISON, errors)
                assert twin.controls["group"].disabled
                n = _walk(page, root, twin, events, errors, only=twin.style_controls)
                assert n == len(VIEWS) > 5, n
                walked[name] += 1 + n
        assert all(n > 10 for n in walked.values()), walked
    finally:
        context.close()
    assert not [e for e in errors if "favicon" not in e], errors
