"""Benchmark the funnel against a hand-written DuckDB query of the same funnel.

On the cached 10M synthetic events (see bench_read.py), each child process reads the canonical Parquet
into the events frame, then times a three-step ordered funnel with a 30-minute window, either with
``ca.funnel`` or with hand-written DuckDB SQL over the same frame, and reports the time (best of 3 in
the process) and the peak memory added by the funnel against the size of the frame.

Targets: at most 1.5x the hand-written query; peak memory under 2x the events frame.
Usage: ``python benchmarks/bench_funnel.py [--size 10M]``.
"""

from __future__ import annotations

from _harness import FUNNEL_SQL, cached_input, run_child

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import duckdb, pyarrow as pa, chatanalytics as ca
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
events = ca.read_events(sys.argv[2])
frame_mb = events.memory_usage(deep=True).sum() / 2**20
base = hwm()
SQL = sys.argv[3].format(events='frame_events')
best = None
for _ in range(3):
    t = time.perf_counter()
    if sys.argv[1] == "funnel":
        out = ca.funnel(events, steps=["triggered", "engaged", "completed"], window="30min").frame()
        counts = out["converted"].tolist()
    else:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        cols = ["event_time_utc", "event_type", "session_id", "conversation_id"]
        table = pa.Table.from_pandas(events[cols], preserve_index=False)
        table = table.set_column(1, "event_type", table.column(1).cast(pa.string()))
        con.register("frame_events", table)
        row = con.sql(SQL).fetchall()[0]
        counts = list(row[:3])
    s = time.perf_counter() - t
    best = s if best is None else min(best, s)
print(json.dumps({"seconds": best, "counts": counts, "frame_mb": frame_mb, "peak_mb": hwm() - base}))
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


def main() -> None:
    size, path = cached_input(__doc__.splitlines()[0])
    ours = run_child(CHILD, "funnel", str(path), FUNNEL_SQL)
    sql = run_child(CHILD, "duckdb_sql", str(path), FUNNEL_SQL)
    if ours["counts"] != sql["counts"]:
        raise SystemExit(f"the two disagree: funnel {ours['counts']} vs SQL {sql['counts']}")
    print("| events | funnel | hand-written DuckDB SQL | ratio | frame | funnel peak | peak/frame |")
    print("|---|---|---|---|---|---|---|")
    ratio = ours["seconds"] / sql["seconds"]
    peak = ours["peak_mb"] / ours["frame_mb"]
    print(
        f"| {size} | {ours['seconds']:.2f} s | {sql['seconds']:.2f} s | {ratio:.2f}x "
        f"| {ours['frame_mb']:,.0f} MiB | {ours['peak_mb']:,.0f} MiB | {peak:.2f}x |"
    )
    print(f"counts (triggered, engaged, completed): {ours['counts']}")
    w = run_child(WIDGET)
    median, worst = w["median_update_s"] * 1000, w["max_update_s"] * 1000
    print(
        f"widget: one data-control change on {w['events']:,} events: median {median:.0f} ms, "
        f"max {worst:.0f} ms (target < 300 ms)"
    )


if __name__ == "__main__":
    main()
