"""Commit protocols for a dataset folder: Delta Lake (deltalake) against Parquet parts published by rename
with a commit record (chatanalytics.io.write_dataset), on one canonical events table.

Each step runs in a fresh process, so its peak RSS is its own:

    python benchmarks/bench_commit.py --table events.parquet --engine rename   # the project's venv
    python benchmarks/bench_commit.py --table events.parquet --engine delta    # a venv with deltalake

``--table`` is a canonical events Parquet file (``chatanalytics convert export.jsonl --out events.parquet``).
Three appends of the table into a new dataset are timed, then two DuckDB scans of the result: a count
and a grouped count by day and event type. The scan must count every row appended.

``--smoke`` needs no ``--table``: it appends a tiny synthetic table (made on the fly) twice and scans it
once. The project's dev venv has no ``deltalake``, so the smoke test runs the ``rename`` engine only.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import disagree, parser, record, row, smoke_events

QUERY = "SELECT event_date, event_type, count(*) AS n FROM ds GROUP BY ALL"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _append(engine: str, table_path: str, folder: str) -> dict:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(table_path)
    start = time.perf_counter()
    if engine == "delta":
        from deltalake import write_deltalake

        day = pc.cast(pc.cast(table.column("event_time_utc"), "timestamp[us]"), "date32")
        write_deltalake(
            folder, table.append_column("event_date", day), mode="append", partition_by=["event_date"]
        )
    else:
        from chatanalytics.io import write_dataset

        write_dataset(table.to_pandas(), folder, append=True, force=True)
    return {"seconds": time.perf_counter() - start, "peak_rss_mb": _peak_mb()}


def _read(engine: str, folder: str) -> dict:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    if engine == "delta":
        from deltalake import DeltaTable

        ds = DeltaTable(folder).to_pyarrow_dataset()  # noqa: F841 (DuckDB scans the local by name)
    else:
        con.execute(
            f"CREATE VIEW ds AS SELECT * FROM read_parquet('{folder}/**/*.parquet', hive_partitioning=true)"
        )
    rows = con.sql("SELECT count(*) FROM ds").fetchall()[0][0]
    groups = len(con.sql(QUERY).fetchall())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "groups": groups, "peak_rss_mb": _peak_mb()}


def _child(args: list[str], here: bool = False) -> dict:
    """Run a step in a fresh process (its peak RSS is its own), or in this one (``here``: smoke mode)."""
    if here:
        engine, step, table, folder = (
            args[args.index(k) + 1] for k in ("--engine", "--step", "--table", "--folder")
        )
        return _append(engine, table, folder) if step == "append" else _read(engine, folder)
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--table", default=None, help="a canonical events Parquet file (required unless --smoke)")
    p.add_argument("--engine", choices=["delta", "rename"], default="rename")
    p.add_argument("--step", choices=["append", "read"], default=None)
    p.add_argument("--folder", default=None)
    p.add_argument("--appends", type=int, default=3)
    args = p.parse_args()
    if args.step == "append":
        return print(json.dumps(_append(args.engine, args.table, args.folder)))
    if args.step == "read":
        return print(json.dumps(_read(args.engine, args.folder)))
    if args.smoke:
        args.table, args.appends = str(smoke_events()[1]), 2
    elif args.table is None:
        p.error("--table is required (or --smoke)")
    import pyarrow.parquet as pq

    table_rows = pq.ParquetFile(args.table).metadata.num_rows
    folder = tempfile.mkdtemp(prefix=f"bench-{args.engine}-", dir="/tmp")
    shutil.rmtree(folder)
    appends, reads = [], []
    try:
        for i in range(args.appends):
            r = _child(
                ["--table", args.table, "--engine", args.engine, "--step", "append", "--folder", folder],
                here=args.smoke,
            )
            appends.append(r["seconds"])
            print(f"{args.engine} append {i + 1}: {r['seconds']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
        files = sum(1 for _ in Path(folder).rglob("*.parquet"))
        print(f"{args.engine} folder: {size / 1e6:.1f} MB in {files} Parquet files")
        for i in range(1 if args.smoke else 2):
            r = _child(
                ["--table", args.table, "--engine", args.engine, "--step", "read", "--folder", folder],
                here=args.smoke,
            )
            reads.append(r["seconds"])
            print(
                f"{args.engine} DuckDB read {i + 1}: {r['seconds']:.2f} s ({r['rows']:,} rows, "
                f"{r['groups']} groups), peak RSS {r['peak_rss_mb']:.0f} MB"
            )
            if r["rows"] != args.appends * table_rows:
                disagree("rows scanned against rows appended", r["rows"], args.appends * table_rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    events = "smoke" if args.smoke else f"{table_rows / 1e6:.2f}M"
    rows = [
        row(f"append_{args.engine}", events, min(appends), None, None, None, True),
        row(f"scan_{args.engine}", events, min(reads), None, None, None, True),
    ]
    record("bench_commit", rows, args.smoke)


if __name__ == "__main__":
    main()
