"""Benchmark a funnel over a partitioned Parquet dataset on disk, analysed lazily through DuckDB.

The first run writes about 50M **synthetic** events (``ca.simulate`` in chunks of 500,000 sessions with
different seeds over the same 28 days) with ``chatanalytics.io.write_dataset`` into the git-ignored
``benchmarks/.cache/dataset-50M/`` (one folder per UTC day). Each measurement then runs in a fresh process:
``ca.funnel(ca.open_events(folder), ...)`` (three ordered steps, 30-minute window), against the same
funnel as hand-written DuckDB SQL over ``read_parquet`` of the same files, and records the wall time and the
process's peak resident memory (``VmHWM``), to show that the events never have to fit in memory. Each side
runs 3 times, each in a fresh process after memory is warmed; the best time counts, and the highest peak.

Target: the funnel completes on this 24 GB machine with a peak far below the size of the events in pandas,
within 1.0x of the hand-written query (at most its time), at 20M and 50M events.
Usage: ``python benchmarks/bench_dataset.py [--events 50M] [--smoke]`` (``--smoke``: two chunks of 2,000
sessions, about 10,000 events, in a temporary folder).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from _harness import (
    CACHE,
    FUNNEL_SQL,
    SMOKE_SESSIONS,
    best_of,
    disagree,
    parser,
    record,
    repeats,
    row,
    run_child,
    temp_dir,
    warm_memory,
)

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import duckdb, chatanalytics as ca
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
folder = sys.argv[2]
SQL = sys.argv[3]
base = hwm()
t = time.perf_counter()
if sys.argv[1] == "funnel":
    events = ca.open_events(folder)
    out = ca.funnel(events, steps=["triggered", "engaged", "completed"], window="30min").frame()
    counts = [int(c) for c in out["converted"]]
else:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    source = f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
    counts = list(con.sql(SQL.format(events=source)).fetchall()[0][:3])
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "counts": counts, "base_mb": base, "peak_mb": hwm()}))
"""

COUNT = r"""
import json, sys, duckdb
con = duckdb.connect()
glob = sys.argv[1] + "/**/*.parquet"
sql = f"SELECT count(*), count(DISTINCT filename) FROM read_parquet('{glob}', filename = true)"
n, files = con.sql(sql).fetchall()[0]
print(json.dumps({"events": n, "files": files}))
"""


def _millions(text: str) -> int:
    return int(float(text.rstrip("Mm")) * 1_000_000)


def build(folder: Path, target: int, chunk: int = 500_000, quiet: bool = False) -> None:
    """Write synthetic events in chunks of ``chunk`` sessions until the folder holds at least ``target``
    of them."""
    import warnings

    import chatanalytics as ca
    from chatanalytics.io import write_dataset

    warnings.simplefilter("ignore")
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    written, seed, start = 0, 1000, time.perf_counter()
    while written < target:
        events = ca.simulate(chunk, seed=seed)
        write_dataset(events, tmp, append=True)
        written += len(events)
        seed += 1
        if not quiet:
            print(
                f"  {written / 1e6:,.1f}M synthetic events written ({time.perf_counter() - start:,.0f} s)",
                flush=True,
            )
    tmp.rename(folder)


def smoke_dataset() -> Path:
    """A small synthetic dataset (two chunks of ``SMOKE_SESSIONS`` sessions) in a temporary folder."""
    folder = temp_dir("bench-dataset-") / "dataset-smoke"
    build(folder, 4 * SMOKE_SESSIONS, chunk=SMOKE_SESSIONS, quiet=True)  # 2 chunks of ~5,000 events
    return folder


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--events", default="50M", help="size of the dataset to build and analyse")
    args = p.parse_args()
    smoke = args.smoke
    size = "smoke" if smoke else args.events
    folder = smoke_dataset() if smoke else CACHE / f"dataset-{size}"
    if not folder.exists():
        print(f"building {folder} ...")
        build(folder, _millions(size))
    info = run_child(COUNT, str(folder), here=smoke)
    disk = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 2**30
    if not smoke:
        warm_memory()
    runs = range(repeats(smoke))
    ours = best_of([run_child(CHILD, "funnel", str(folder), FUNNEL_SQL, here=smoke) for _ in runs], "counts")
    sql = best_of(
        [run_child(CHILD, "duckdb_sql", str(folder), FUNNEL_SQL, here=smoke) for _ in runs], "counts"
    )
    if ours["counts"] != sql["counts"]:
        disagree("funnel over the dataset against hand-written DuckDB SQL", ours["counts"], sql["counts"])
    anchor = "hand-written DuckDB SQL on read_parquet"
    record(
        "bench_dataset",
        [row("funnel_dataset", size, ours["seconds"], anchor, sql["seconds"], 1.0, True)],
        smoke,
    )
    print("| events | files | on disk | funnel | peak memory | hand-written DuckDB SQL | its peak | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {info['events'] / 1e6:,.1f}M | {info['files']:,} | {disk:,.2f} GiB | {ours['seconds']:.1f} s "
        f"| {ours['peak_mb'] / 1024:,.2f} GiB | {sql['seconds']:.1f} s | {sql['peak_mb'] / 1024:,.2f} GiB "
        f"| {ours['seconds'] / sql['seconds']:.2f}x |"
    )
    print(f"counts (triggered, engaged, completed): {ours['counts']}")


if __name__ == "__main__":
    main()
