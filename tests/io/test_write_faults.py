"""Faults injected while datasets and files are written: kills at random moments and at every step of a
commit, a full disk, and two writers at once.

After each fault, a dataset holds exactly the events of the writes that committed (the events before an
append, or before and after it, never part of it), and running the interrupted command again gives
exactly the expected count: nothing lost, nothing doubled.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import chatanalytics as ca
from chatanalytics.datasets import simulate
from chatanalytics.io import write_dataset

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}

# A writer process: reads canonical events, says "ready", waits for "go", then writes them to a dataset.
# With a step given, it kills itself just before that call of os.replace (the moves of the parts into
# place, then the commit record), or just after the commit record ("after").
WORKER = """
import os, shutil, signal, sys
import pyarrow.parquet as pq
from chatanalytics.io import write_dataset

table, folder, append, step = sys.argv[1], sys.argv[2], sys.argv[3] == "append", sys.argv[4]
events = pq.read_table(table).to_pandas()
if step != "none":
    calls = [0]
    replace, rmtree = os.replace, shutil.rmtree

    def kill_at(n):
        calls[0] += 1
        if calls[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)

    def counted_replace(a, b):
        if step != "after":
            kill_at(int(step))
        return replace(a, b)

    def counted_rmtree(path, *args, **kwargs):
        if step == "after" and "staging-" in str(path):
            os.kill(os.getpid(), signal.SIGKILL)
        return rmtree(path, *args, **kwargs)

    os.replace, shutil.rmtree = counted_replace, counted_rmtree
print("ready", flush=True)
sys.stdin.readline()
write_dataset(events, folder, append=append)
print("done", flush=True)
"""


def _count(folder: Path) -> int:
    """The events a reader sees: 0 for a dataset with no commit yet."""
    if not folder.exists():  # killed before it made the folder
        return 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ca.DataQualityWarning)  # files a killed write left: not read
            table = ca.open_events(folder)
        return int(table.count().execute())
    except ca.LoaderError as err:
        assert "no committed files" in str(err) or "holds no .parquet" in str(err)
        return 0


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Two SYNTHETIC capture exports (about 5k and 50k events), their canonical tables, their counts, the
    second's events, and a dataset holding the first.
    """
    d = tmp_path_factory.mktemp("faults")
    base, new = d / "base.jsonl", d / "new.jsonl"
    simulate(2000, seed=11, start="2026-09-01", days=10, path=base)
    simulate(21000, seed=12, start="2026-10-01", days=28, path=new)
    counts = {}
    for path in (base, new):
        events = ca.read_events(path, warn=False)
        events.to_parquet(path.with_suffix(".parquet"), index=False)
        counts[path.stem] = len(events)
    template = d / "template"
    write_dataset(pq.read_table(base.with_suffix(".parquet")).to_pandas(), template)
    assert _count(template) == counts["base"]
    frame = pq.read_table(new.with_suffix(".parquet")).to_pandas()
    return {"dir": d, "base": base, "new": new, "counts": counts, "template": template, "frame": frame}


class Workers:
    """Writer processes started one ahead, so the next one imports while the current one is killed."""

    def __init__(self, table: Path):
        self.table = table
        self.next: subprocess.Popen | None = None

    def start(self, folder: Path, append: bool, step: str = "none") -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(self.table), str(folder), "append" if append else "new", step],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=ENV,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc


def _go(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


def _check_and_rerun(exports, folder: Path, before: int, *, read_events: bool = False) -> int:
    """The count after the fault is before or before + new; a re-run (an append, as a user would) gives
    exactly before + new. Returns the count seen after the fault.
    """
    n = exports["counts"]["new"]
    seen = _count(folder)
    assert seen in (before, before + n), f"partial write: {seen} events, expected {before} or {before + n}"
    if read_events and seen:  # a reader through read_events sees the same records
        assert ca.load_report(ca.read_events(folder, warn=False)).counts()["records"] == seen
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)  # the skip, when the write had committed
        # the same command again: what a killed first convert left does not make the folder "not empty"
        write_dataset(exports["frame"], folder, append=bool(before or seen))
    assert _count(folder) == before + n
    assert not list(folder.glob("_chatanalytics/staging-*"))
    return seen


def test_sigkill_at_random_moments_and_at_every_step_of_a_commit(exports, tmp_path):
    rng = random.Random(19)
    n_base, table = exports["counts"]["base"], exports["new"].with_suffix(".parquet")
    workers = Workers(table)

    # one uninterrupted append, to time a write
    folder = tmp_path / "timed"
    shutil.copytree(exports["template"], folder)
    proc = workers.start(folder, append=True)
    started = time.perf_counter()
    _go(proc)
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    duration = time.perf_counter() - started
    assert _count(folder) == n_base + exports["counts"]["new"]

    runs: list[tuple[str, bool, str, float]] = []
    runs += [(f"append-{i}", True, "none", rng.uniform(0, 1.3 * duration)) for i in range(10)]
    runs += [(f"new-{i}", False, "none", rng.uniform(0, 1.3 * duration)) for i in range(4)]
    # every step: before the first move of a part into place, in the middle, before the last, before the
    # commit record, and just after it
    days = pq.read_table(table, columns=["event_time_utc"]).column(0).cast("timestamp[us]").cast("date32")
    parts = len(days.unique())
    steps = ["1", str(parts // 2), str(parts), str(parts + 1), "after"]
    runs += [(f"step-{s}", True, s, 0.0) for s in steps]

    def prepare(run: tuple[str, bool, str, float]) -> subprocess.Popen:
        name, append, step, _ = run
        if append:
            shutil.copytree(exports["template"], tmp_path / name)
        return workers.start(tmp_path / name, append, step)

    seen = {}
    procs = [prepare(runs[0])]
    try:
        for i, (name, append, step, delay) in enumerate(runs):
            proc = procs[-1]
            if i + 1 < len(runs):
                procs.append(prepare(runs[i + 1]))  # it imports while this one writes
            _go(proc)
            if step == "none":
                time.sleep(delay)
                proc.kill()
            assert proc.wait(timeout=120) in (0, -signal.SIGKILL)
            before = n_base if append else 0
            folder = tmp_path / name
            seen[name] = _check_and_rerun(exports, folder, before, read_events=i % 4 == 0) - before
    finally:
        for proc in procs:
            proc.kill()
            proc.communicate()
    # the steps are deterministic: killed before the record is renamed into place, nothing is seen;
    # after it, everything
    assert [seen[f"step-{s}"] for s in steps] == [0, 0, 0, 0, exports["counts"]["new"]]
    assert len(seen) == 19


def test_sigkill_of_the_command_line_during_convert_and_append(exports, tmp_path):
    rng = random.Random(23)
    n_base, new = exports["counts"]["base"], exports["new"]
    command = [sys.executable, "-m", "chatanalytics.cli", "convert", str(new), "-q", "--out"]
    started = time.perf_counter()
    subprocess.run([*command, str(tmp_path / "timed")], env=ENV, check=True)
    duration = time.perf_counter() - started
    for i in range(4):
        append = i % 2 == 0
        folder = tmp_path / f"cli-{i}"
        if append:
            shutil.copytree(exports["template"], folder)
        proc = subprocess.Popen([*command, str(folder), *(["--append"] if append else [])], env=ENV)
        time.sleep(rng.uniform(0.5 * duration, 1.1 * duration))  # most of the first half is imports
        proc.kill()
        proc.wait(timeout=60)
        _check_and_rerun(exports, folder, n_base if append else 0)


# ------------------------------------------------------------------------------- a full disk
@contextlib.contextmanager
def _small_disk(folder: Path, size: str):
    """A tmpfs of ``size`` at ``folder`` (as root), or None where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        os.geteuid() == 0
        and shutil.which("mount") is not None
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


def _limit_file_size(limit: int):
    """For a child: files may not grow beyond ``limit`` bytes (EFBIG), the fallback for a full disk."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _cli(args: list[str], limit: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chatanalytics.cli", *args],
        env=ENV,
        capture_output=True,
        text=True,
        preexec_fn=None if limit is None else _limit_file_size(limit),
        timeout=300,
    )


def _one_clear_line(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert lines[0].startswith("chatanalytics convert: error: ")
    return lines[0]


def test_a_full_disk_leaves_no_partial_parquet_file(exports, tmp_path):
    disk = tmp_path / "disk"
    with _small_disk(disk, "256k") as mounted:
        res = _cli(
            ["convert", str(exports["new"]), "-q", "--out", str(disk / "events.parquet")],
            limit=None if mounted else 64_000,
        )
        line = _one_clear_line(res)
        assert ("No space left on device" if mounted else "File too large") in line
        assert list(disk.iterdir()) == []  # neither the file nor its temporary


def test_a_full_disk_during_an_append_leaves_the_dataset_as_it_was(exports, tmp_path):
    disk = tmp_path / "disk"
    small = tmp_path / "small.jsonl"
    simulate(60, seed=3, start="2026-09-01", days=3, path=small)
    n_small = len(ca.read_events(small, warn=False))
    with _small_disk(disk, "512k") as mounted:
        folder = disk / "ds"
        assert _cli(["convert", str(small), "-q", "--out", str(folder)]).returncode == 0
        res = _cli(
            ["convert", str(exports["new"]), "-q", "--append", "--out", str(folder)],
            limit=None if mounted else 16_000,
        )
        line = _one_clear_line(res)
        assert ("No space left on device" if mounted else "File too large") in line
        assert _count(folder) == n_small
        assert not list(folder.glob("_chatanalytics/staging-*"))
        assert sorted(p.name for p in (folder / "_chatanalytics" / "commits").iterdir()) == [
            "00000001.commit"
        ]


def test_a_full_disk_leaves_no_partial_csv(tmp_path):
    """A CSV written for people (here ``save(".csv")`` of a large table) is whole or absent: on a disk
    that fills during the write, the call fails with the system's reason and neither the file nor its
    temporary stays behind."""
    disk = tmp_path / "disk"
    script = (
        "import sys, pandas as pd; from chatanalytics import export\n"
        "frame = pd.DataFrame({'name': ['=x' * 50] * 20000, 'n': range(20000)})\n"
        "class R:\n    def frame(self): return frame\n"
        "try:\n    export.save(R(), sys.argv[1])\nexcept OSError as e:\n    print(e.strerror); sys.exit(1)\n"
    )
    with _small_disk(disk, "256k") as mounted:
        res = subprocess.run(
            [sys.executable, "-c", script, str(disk / "table.csv")],
            env=ENV,
            capture_output=True,
            text=True,
            preexec_fn=None if mounted else _limit_file_size(64_000),
            timeout=300,
        )
        assert res.returncode == 1, res.stderr
        assert ("No space left on device" if mounted else "File too large") in res.stdout
        assert list(disk.iterdir()) == []


# ------------------------------------------------------------------------------- two writers
def test_two_converts_into_one_new_folder_one_wins_the_other_fails_clearly(exports, tmp_path):
    folder = tmp_path / "ds"
    command = [sys.executable, "-m", "chatanalytics.cli", "convert", "-q", "--out", str(folder)]
    procs = [
        subprocess.Popen([*command, str(path)], env=ENV, stderr=subprocess.PIPE, text=True)
        for path in (exports["new"], exports["base"])
    ]
    results = []
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        results.append((proc.returncode, err))
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    winner = next(i for i, (code, _) in enumerate(results) if code == 0)
    loser_err = results[1 - winner][1]
    assert "not empty" in loser_err or "another process is writing" in loser_err
    assert "Traceback" not in loser_err
    assert _count(folder) == exports["counts"]["new" if winner == 0 else "base"]


def test_two_appends_at_once_both_land_whole(exports, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(exports["template"], folder)
    other = tmp_path / "other.jsonl"
    simulate(3000, seed=13, start="2026-12-01", days=5, path=other)
    n_other = len(ca.read_events(other, warn=False))
    command = [sys.executable, "-m", "chatanalytics.cli", "convert", "-q", "--append", "--out", str(folder)]
    procs = [subprocess.Popen([*command, str(path)], env=ENV) for path in (exports["new"], other)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    assert _count(folder) == exports["counts"]["base"] + exports["counts"]["new"] + n_other
    assert len(list((folder / "_chatanalytics" / "commits").iterdir())) == 3


def test_single_file_outputs_are_whole_or_absent_when_the_disk_fills(tmp_path):
    """The capture writer (simulate) and saved figures (HTML, JSON): past a file-size limit, the
    command fails with one line and leaves neither the file nor a temporary beside it.
    """
    out = tmp_path / "out"
    out.mkdir()
    res = _cli(["simulate", "--sessions", "2000", "-q", "--out", str(out / "s.jsonl")], limit=50_000)
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
    assert "File too large" in res.stderr
    code = (
        "import sys, plotly.graph_objects as go\n"
        "from chatanalytics.export import save\n"
        "fig = go.Figure(go.Bar(y=list(range(50_000))))\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        save(fig, path)\n"
        "    except OSError as err:\n"
        "        print(type(err).__name__, err.filename)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(out / "fig.html"), str(out / "fig.json")],
        env=ENV,
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size(50_000),
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [f"OSError {out / 'fig.html'}", f"OSError {out / 'fig.json'}"]
    assert list(out.iterdir()) == []
