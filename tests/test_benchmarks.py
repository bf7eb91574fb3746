"""Every benchmark's smoke mode finishes, and both of its sides give the same numbers.

``python benchmarks/bench_<name>.py --smoke`` makes a tiny **synthetic** input with ``ca.simulate`` in a
temporary folder, runs each side once and exits non-zero when they disagree (see benchmarks/_harness.py).
No time is asserted: timings are not tests. The runs start together when the module's first test asks for
them, two at a time (the machines have 2 cores), the Spark one first since it is the longest.

Not covered here: ``phonenumbers`` (bench_phones) and ``deltalake`` (bench_commit's delta engine) are not
in the dev install, so those smoke runs cover the rules and the rename engine only; retentioneering
(bench_funnel's peer) lives in a throw-away environment under benchmarks/.cache, so the funnel's smoke
run compares with it only where a full run has made that environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
#: the longest first, so that the two workers finish together
NAMES = ("engines", "ga4", "dataset", "funnel", "widgets", "commit", "agents", "timeouts", "read", "phones")


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install 'chatanalytics[spark]')"
    if shutil.which("java") is None:
        return "Java is not installed (apt-get install default-jre-headless)"
    return None


def _smoke(name: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / f"bench_{name}.py"), "--smoke"],
        capture_output=True,
        text=True,
        cwd=BENCHMARKS,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def runs():
    skip = {"engines"} if _spark_missing() else set()
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {name: pool.submit(_smoke, name) for name in NAMES if name not in skip}


def _check(runs: dict[str, Future], name: str) -> str:
    out = runs[name].result()
    assert out.returncode == 0, f"bench_{name}.py --smoke failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


@pytest.mark.parametrize("name", [n for n in NAMES if n != "engines"])
def test_smoke_agrees(runs, name):
    _check(runs, name)


def test_engines_smoke_agrees(runs):
    why = _spark_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI installs it (see .ci/run and the Makefile)")
        pytest.skip(why)
    stdout = _check(runs, "engines")
    assert "| spark | smoke |" in stdout


def test_funnel_smoke_compares_with_retentioneering_where_installed(runs):
    stdout = _check(runs, "funnel")
    if (BENCHMARKS / ".cache" / "venv-retentioneering" / "bin" / "python").exists():
        assert "no network call attempted" in stdout
    else:
        assert "retentioneering: skipped" in stdout
