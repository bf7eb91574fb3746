"""Benchmark the funnel against a hand-written DuckDB query of the same funnel, and against retentioneering's.

On the cached synthetic events (see bench_read.py), each child process reads the canonical Parquet
into the events frame, then times a three-step ordered funnel with a 30-minute window, either with
``ca.funnel`` or with hand-written DuckDB SQL over the same frame, and reports the time (best of 3 in
the process) and the peak memory added by the funnel against the size of the frame.

The peer: retentioneering's funnel (``Eventstream(...).funnel_data``) on the same events, in its own
throw-away virtual environment under ``benchmarks/.cache/venv-retentioneering`` (created on the first
run; retentioneering is not a dependency of the project) with its usage telemetry switched off
(``RETENTIONEERING_NO_TRACK``) and every network connection the child attempts recorded, which must be
none. Its funnel counts paths that pass the steps in order with no time limit, so it is compared with
``ca.funnel`` over a window longer than the data (365 days): the same definition, so the counts must be
equal. A path is one conversation in a session, as ``ca.funnel``'s default unit.

Targets: at most 1.5x the hand-written query; peak memory under 2x the events frame.
Usage: ``python benchmarks/bench_funnel.py [--size 10M] [--no-peer] [--smoke]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _harness import (
    CACHE,
    FUNNEL_SQL,
    cached_input,
    disagree,
    parser,
    record,
    repeats,
    row,
    run_child,
)

PEER = "retentioneering==5.2.4"
PEER_VENV = CACHE / "venv-retentioneering"
STEPS = ["CONVERSATION_TRIGGERED", "CONVERSATION_ENGAGED", "CONVERSATION_COMPLETED"]
#: retentioneering's funnel has no time limit: a window longer than the data makes ca.funnel's the same
UNBOUNDED = "365D"

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import duckdb, pyarrow as pa, chatanalytics as ca
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
mode, path, SQL, n = sys.argv[1], sys.argv[2], sys.argv[3].format(events="frame_events"), int(sys.argv[4])
events = ca.read_events(path)
frame_mb = events.memory_usage(deep=True).sum() / 2**20
base = hwm()
best = None
for _ in range(n):
    t = time.perf_counter()
    if mode == "duckdb_sql":
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        cols = ["event_time_utc", "event_type", "session_id", "conversation_id"]
        table = pa.Table.from_pandas(events[cols], preserve_index=False)
        table = table.set_column(1, "event_type", table.column(1).cast(pa.string()))
        con.register("frame_events", table)
        row = con.sql(SQL).fetchall()[0]
        counts = list(row[:3])
    else:
        window = sys.argv[5]
        out = ca.funnel(events, steps=["triggered", "engaged", "completed"], window=window).frame()
        counts = [int(c) for c in out["converted"]]
    s = time.perf_counter() - t
    best = s if best is None else min(best, s)
print(json.dumps({"seconds": best, "counts": counts, "frame_mb": frame_mb, "peak_mb": hwm() - base}))
"""

#: Runs with the throw-away environment's Python: pyarrow and pandas come with retentioneering.
PEER_CHILD = r"""
import json, os, sys, time, warnings
os.environ["RETENTIONEERING_NO_TRACK"] = "1"  # retentioneering's own switch for its PostHog telemetry
network = []
def audit(event, args):
    # name lookups and connections; urllib3 binds a socket to ::1 at import to probe IPv6, which is local
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto",
                 "socket.sendmsg", "http.client.connect"):
        network.append(f"{event} {args!r}"[:200])
sys.addaudithook(audit)
warnings.simplefilter("ignore")
import pyarrow.parquet as pq
path, n, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
# Input, not timed: the events with both keys, one integer path id per (session, conversation)
cols = ["event_time_utc", "event_type", "session_id", "conversation_id"]
df = pq.read_table(path, columns=cols).to_pandas().dropna(subset=["session_id", "conversation_id"])
df["path_id"] = df.groupby(["session_id", "conversation_id"], sort=False).ngroup()
df = df.rename(columns={"event_type": "event", "event_time_utc": "timestamp"})
df = df[["path_id", "event", "timestamp"]]
import retentioneering as rete
from retentioneering import _tracking
assert _tracking._no_track_requested()
schema = {"path_cols": ["path_id"], "event_col": "event", "timestamp_col": "timestamp"}
base = hwm()
best = best_funnel = None
for _ in range(n):
    t = time.perf_counter()
    stream = rete.Eventstream(df, schema=schema)
    t1 = time.perf_counter()
    out = stream.funnel_data(steps=steps)
    t2 = time.perf_counter()
    best = t2 - t if best is None else min(best, t2 - t)
    best_funnel = t2 - t1 if best_funnel is None else min(best_funnel, t2 - t1)
counts = [int(s["unique_paths"]) for s in out["steps"]]
print(json.dumps({"seconds": best, "funnel_s": best_funnel, "counts": counts, "events": len(df),
                  "version": rete.__version__, "peak_mb": hwm() - base, "network": network}))
"""


WIDGET = r"""
import json, statistics, time, warnings
warnings.simplefilter("ignore")
import chatanalytics as ca
from chatanalytics.widgets import FunnelWidget
events = ca.simulate(40_000, seed=1)  # about 100k synthetic events
w = FunnelWidget(events, steps=["triggered", "engaged", ["email_input", "phone_input"], "completed"])
times = []
for by, order in [("ui_type", "ordered"), ("conversation_name", "strict"), (None, "ordered"),
                  ("conversation_type", "any"), ("ui_type", "ordered"), (None, "strict")]:
    t = time.perf_counter()
    w.controls["by"].value = by
    w.controls["order"].value = order
    times.append((time.perf_counter() - t) / 2)
summary = {"events": len(events), "median_update_s": statistics.median(times), "max_update_s": max(times)}
print(json.dumps(summary))
"""


def peer_python(create: bool) -> Path | None:
    """The Python of the throw-away environment holding retentioneering; made first if ``create``.

    ``None`` (with the reason printed) when it does not exist and may not be made, or cannot be.
    """
    python = PEER_VENV / "bin" / "python"
    if python.exists():
        return python
    if not create:
        print(f"retentioneering: skipped ({PEER_VENV} does not exist; a full run creates it)")
        return None
    print(f"creating {PEER_VENV} with {PEER} (a throw-away environment, not a project dependency)")
    steps = (
        [sys.executable, "-m", "venv", str(PEER_VENV)],
        [str(python), "-m", "pip", "install", "-q", PEER],
    )
    for cmd in steps:
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            print(f"retentioneering: `{' '.join(cmd)}` failed:\n{out.stderr[-2000:]}")
            return None
    return python


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--no-peer", action="store_true", help="leave retentioneering out")
    size, path, args = cached_input(p)
    smoke = args.smoke
    n = str(repeats(smoke))
    ours = run_child(CHILD, "funnel", str(path), FUNNEL_SQL, n, "30min", here=smoke)
    sql = run_child(CHILD, "duckdb_sql", str(path), FUNNEL_SQL, n, here=smoke)
    agree = ours["counts"] == sql["counts"]
    rows = [row("funnel", size, ours["seconds"], "hand-written DuckDB SQL", sql["seconds"], 1.5, agree)]
    if not agree:
        disagree("funnel against hand-written DuckDB SQL", ours["counts"], sql["counts"])
    print("| events | funnel | hand-written DuckDB SQL | ratio | frame | funnel peak | peak/frame |")
    print("|---|---|---|---|---|---|---|")
    ratio = ours["seconds"] / sql["seconds"]
    peak = ours["peak_mb"] / ours["frame_mb"]
    print(
        f"| {size} | {ours['seconds']:.2f} s | {sql['seconds']:.2f} s | {ratio:.2f}x "
        f"| {ours['frame_mb']:,.0f} MiB | {ours['peak_mb']:,.0f} MiB | {peak:.2f}x |"
    )
    print(f"counts (triggered, engaged, completed): {ours['counts']}")

    python = None if args.no_peer else peer_python(create=not smoke)
    if python is not None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"RETENTIONEERING_NO_TRACK": "1"}
        peer = run_child(PEER_CHILD, str(path), n, ",".join(STEPS), python=str(python), env=env)
        if peer["network"]:
            raise SystemExit(f"retentioneering attempted network calls: {peer['network']}")
        open_ = run_child(CHILD, "funnel", str(path), FUNNEL_SQL, n, UNBOUNDED, here=smoke)
        agree = open_["counts"] == peer["counts"]
        if not agree:
            disagree(
                f"ca.funnel (window {UNBOUNDED}) against retentioneering", open_["counts"], peer["counts"]
            )
        name = f"retentioneering {peer['version']}"
        rows += [
            row("funnel_vs_retentioneering", size, open_["seconds"], f"{name} Eventstream + funnel_data",
                peer["seconds"], None, agree),
            row("funnel_vs_retentioneering_funnel_data", size, open_["seconds"],
                f"{name} funnel_data on a built Eventstream", peer["funnel_s"], None, agree),
        ]  # fmt: skip
        print(f"\n| events | ca.funnel (window {UNBOUNDED}) | {name}: Eventstream + funnel_data | ratio "
              "| funnel_data alone | ratio | its peak |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        print(
            f"| {size} | {open_['seconds']:.2f} s | {peer['seconds']:.2f} s "
            f"| {open_['seconds'] / peer['seconds']:.2f}x | {peer['funnel_s']:.2f} s "
            f"| {open_['seconds'] / peer['funnel_s']:.2f}x | {peer['peak_mb']:,.0f} MiB |"
        )
        print(f"both count {peer['counts']} paths; no network call attempted (telemetry off)")

    record("bench_funnel", rows, smoke)
    if smoke:
        return  # the widget's timing has no second side to agree with
    w = run_child(WIDGET)
    median, worst = w["median_update_s"] * 1000, w["max_update_s"] * 1000
    print(
        f"widget: one data-control change on {w['events']:,} events: median {median:.0f} ms, "
        f"max {worst:.0f} ms (target < 300 ms)"
    )


if __name__ == "__main__":
    main()
