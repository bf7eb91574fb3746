"""``make demo`` on a machine where no browser can be found: it writes everything but the PNGs, exits 0,
and its last line says how to get the PNGs.

The demo target runs against an environment directory holding two small scripts that run this
interpreter on this checkout (so no virtual environment is built), with ``PATH`` reduced to ``make``
and ``BROWSER_PATH`` pointing at a file that does not exist, which :func:`chatanalytics.export.find_browser`
reports as no browser.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from chatanalytics.errors import ExportError
from chatanalytics.export import find_browser

ROOT = Path(__file__).resolve().parents[1]


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def no_browser_env(tmp_path: Path) -> dict[str, str]:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _script(venv / "bin" / "python", f'exec "{sys.executable}" "$@"')
    _script(venv / "bin" / "chatanalytics", f'exec "{sys.executable}" -m chatanalytics "$@"')
    (venv / ".installed").touch()  # newer than pyproject.toml: make installs nothing
    tools = tmp_path / "tools"
    tools.mkdir()
    make = shutil.which("make")
    assert make is not None, "make is needed to run the demo target"
    (tools / "make").symlink_to(make)
    return {
        "PATH": str(tools),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "BROWSER_PATH": str(tmp_path / "nowhere" / "chromium"),
        "VENV": str(venv),
    }


def test_no_browser_is_found_in_that_environment(no_browser_env: dict[str, str], monkeypatch) -> None:
    for key, value in no_browser_env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ExportError, match="BROWSER_PATH"):
        find_browser()


def test_make_demo_without_a_browser_writes_all_but_the_pngs_and_exits_0(
    no_browser_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        ["make", "--no-print-directory", "demo", f"VENV={no_browser_env['VENV']}", f"OUT={out}"],
        cwd=ROOT,
        env=no_browser_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the report and its CSVs, then the Parquet of the events
    assert (out / "report.html").stat().st_size > 100_000
    for name in ("funnel.csv", "agents.csv", "events_by_type.csv", "load_report.txt"):
        assert (out / name).is_file(), name
    events = pd.read_parquet(out / "events.parquet")
    by_type = pd.read_csv(out / "events_by_type.csv")
    assert len(events) == int(by_type["events"].sum()) > 0
    # no PNG, nothing tried to install a browser, and the last line says how to get the PNGs
    assert not (out / "charts").exists()
    assert "installing chromium" not in proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("PNG charts not written: no Chromium found.")
    assert "apt-get install chromium" in last and "BROWSER_PATH" in last and "make demo" in last
    assert "error" not in proc.stderr.lower()
