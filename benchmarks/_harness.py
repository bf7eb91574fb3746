"""What the benchmarks share: their input, the smoke mode, running a measurement in a child process, and
recording the measured rows in ``benchmarks/results.json``.

Every benchmark takes ``--smoke``: a tiny **synthetic** input made on the fly with ``ca.simulate`` in a
temporary folder, one repeat, no memory warming and nothing recorded. It still checks that both sides give
the same numbers and exits non-zero when they do not; ``tests/test_benchmarks.py`` runs it for each one.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
RESULTS = Path(__file__).resolve().parent / "results.json"
EVENTS_PER_SESSION = 2.4  # events per simulated session at the simulator's default rates (measured)
SMOKE_SESSIONS = 2_000  # about 5,000 synthetic events: enough for every step, agent and outcome to occur
SMOKE_HELP = (
    "tiny synthetic input made on the fly, 1 repeat, no memory warming, nothing recorded: "
    "checks only that both sides run and agree"
)


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the ``--smoke`` flag every benchmark takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    return p


def repeats(smoke: bool) -> int:
    """Runs of a measurement in its process (the best counts): 3, or 1 in smoke mode."""
    return 1 if smoke else 3


def temp_dir(prefix: str) -> Path:
    """A temporary folder removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def write_events(folder: Path, tag: str, sessions: int) -> tuple[Path, Path]:
    """Synthetic capture JSONL of ``sessions`` simulated sessions and its canonical Parquet, in ``folder``."""
    import chatanalytics as ca

    jsonl, parquet = folder / f"synthetic-{tag}.jsonl", folder / f"synthetic-{tag}.parquet"
    if not jsonl.exists() or not parquet.exists():
        folder.mkdir(parents=True, exist_ok=True)
        ca.simulate(sessions, seed=7, days=28, path=jsonl)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ca.read_events(jsonl).to_parquet(parquet, index=False)
    return jsonl, parquet


def smoke_events() -> tuple[Path, Path]:
    """The smoke input: synthetic JSONL and Parquet of ``SMOKE_SESSIONS`` sessions in a temporary folder."""
    return write_events(temp_dir("bench-smoke-"), "smoke", SMOKE_SESSIONS)


def cached_input(p: argparse.ArgumentParser) -> tuple[str, Path, argparse.Namespace]:
    """Add ``--size`` to ``p`` (made by :func:`parser`), parse, and return the size, its canonical Parquet
    and the arguments.

    In smoke mode the size is ``smoke`` and the Parquet a fresh tiny one; otherwise it is the cached one of
    that size (``make bench`` creates it) and memory is warmed before returning.
    """
    p.add_argument("--size", default="10M", help="which cached file: 1M or 10M (make bench creates them)")
    args = p.parse_args()
    if args.smoke:
        return "smoke", smoke_events()[1], args
    path = CACHE / f"synthetic-{args.size}.parquet"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `make bench` (benchmarks/bench_read.py) first")
    warm_memory()
    return args.size, path, args


def warm_memory(gib: float = 12.0) -> None:
    """Touch ``gib`` GiB once in a throw-away process.

    On a virtual machine whose memory is backed lazily, the first touch of each page costs far more
    than later ones (3 GiB: 4.8 s the first time, 0.3 s after, measured here), which would charge
    whichever side happens to run first. Warming up first makes the comparison fair.
    """
    code = f"import numpy as np; a = np.ones(int({gib} * 2**30) // 8); print(a[::4096].sum() > 0)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def run_child(
    code: str, *args: str, here: bool = False, python: str | None = None, env: dict[str, str] | None = None
) -> dict:
    """Run ``code`` in a fresh Python process (``python``, this one's by default) and return the JSON object
    on the last line it prints.

    ``here`` (smoke mode) runs it in this process instead, where the imports are already paid for: a smoke
    run only checks that both sides agree, and a fresh process per side costs seconds of imports each.
    """
    if here:
        buf, argv = io.StringIO(), sys.argv
        sys.argv = ["-c", *args]
        try:
            with contextlib.redirect_stdout(buf), warnings.catch_warnings():
                exec(compile(code, "<child>", "exec"), {"__name__": "__main__"})
        finally:
            sys.argv = argv
        return json.loads(buf.getvalue().strip().splitlines()[-1])
    out = subprocess.run(
        [python or sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(runs: list[dict], same: str) -> dict:
    """The fastest of ``runs`` (each a child's JSON with ``seconds``), after checking that they all give the
    same ``runs[i][same]``; ``peak_mb``, where present, is the highest of all runs."""
    if any(r[same] != runs[0][same] for r in runs):
        raise SystemExit(f"repeated runs gave different {same}: {[r[same] for r in runs]}")
    best = dict(min(runs, key=lambda r: r["seconds"]))
    if "peak_mb" in best:
        best["peak_mb"] = max(r["peak_mb"] for r in runs)
    return best


def disagree(what: str, ours: object, theirs: object) -> None:
    """Exit non-zero: the two sides of a benchmark gave different numbers."""
    raise SystemExit(f"{what}: the two disagree:\n  ours:   {ours}\n  theirs: {theirs}")


def row(
    name: str,
    size: str,
    ours_s: float | None,
    anchor: str | None,
    anchor_s: float | None,
    target: float | None,
    agree: bool | None,
) -> dict:
    """One measured row of results.json; ``ratio`` is ours over the anchor, ``target`` the ratio aimed at
    (``None`` when there is none), ``agree`` whether both sides gave the same numbers (``None`` when the
    benchmark has no second side to agree with)."""
    ratio = ours_s / anchor_s if ours_s is not None and anchor_s else None
    return {
        "name": name,
        "size": size,
        "ours_s": None if ours_s is None else round(ours_s, 4),
        "anchor": anchor,
        "anchor_s": None if anchor_s is None else round(anchor_s, 4),
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "agree": agree,
        "date": dt.date.today().isoformat(),
    }


def record(benchmark: str, rows: list[dict], smoke: bool) -> None:
    """Merge ``rows`` into results.json, replacing the rows of the same benchmark, name and size.

    Smoke runs record nothing: their input is too small for their times to mean anything.
    """
    if smoke or not rows:
        return
    old = json.loads(RESULTS.read_text(encoding="utf-8"))["rows"] if RESULTS.exists() else []
    new = [{"benchmark": benchmark, **r} for r in rows]
    keys = {(r["benchmark"], r["name"], r["size"]) for r in new}
    kept = [r for r in old if (r["benchmark"], r["name"], r["size"]) not in keys]
    merged = sorted(kept + new, key=lambda r: (r["benchmark"], r["name"], _size_key(r["size"])))
    text = json.dumps({"rows": merged}, indent=1) + "\n"
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(RESULTS)


def _size_key(size: str) -> tuple[float, str]:
    """Sort sizes such as ``1M``, ``10M``, ``0.48M`` or ``200000`` by their value."""
    text = size.upper()
    try:
        if text.endswith("M"):
            return float(text[:-1]) * 1e6, size
        if text.endswith("K"):
            return float(text[:-1]) * 1e3, size
        return float(text), size
    except ValueError:
        return float("inf"), size


#: The three-step ordered funnel (triggered, engaged, completed per conversation, 30-minute window) written
#: by hand in DuckDB SQL: the baseline of the funnel benchmarks. ``{events}`` is a query or table of
#: canonical events (at least event_time_utc, event_type, session_id, conversation_id).
FUNNEL_SQL = """
WITH ev AS (SELECT event_time_utc, event_type, session_id, conversation_id FROM {events}),
firsts AS (
  SELECT session_id, conversation_id, min(event_time_utc) AS t1 FROM ev
  WHERE event_type = 'CONVERSATION_TRIGGERED' AND session_id IS NOT NULL AND conversation_id IS NOT NULL
  GROUP BY ALL),
s2 AS (
  SELECT f.session_id, f.conversation_id, f.t1, min(e.event_time_utc) AS t2 FROM firsts f
  LEFT JOIN ev e ON e.session_id = f.session_id AND e.conversation_id = f.conversation_id
   AND e.event_type = 'CONVERSATION_ENGAGED' AND e.event_time_utc >= f.t1
   AND e.event_time_utc <= f.t1 + INTERVAL 30 MINUTE
  GROUP BY ALL),
s3 AS (
  SELECT s.*, min(e.event_time_utc) AS t3 FROM s2 s
  LEFT JOIN ev e ON e.session_id = s.session_id AND e.conversation_id = s.conversation_id
   AND e.event_type = 'CONVERSATION_COMPLETED' AND e.event_time_utc >= s.t2
   AND e.event_time_utc <= s.t1 + INTERVAL 30 MINUTE
  GROUP BY ALL)
SELECT count(*) AS triggered, count(t2) AS engaged, count(t3) AS completed,
       median(date_diff('microsecond', t1, t2) / 1e6) AS median_engage_s,
       median(date_diff('microsecond', t2, t3) / 1e6) AS median_complete_s
FROM s3
"""
