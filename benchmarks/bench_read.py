"""Benchmark read_events against the fastest raw reader of the same file.

For 1M and 10M simulated (synthetic) events, written once to a git-ignored cache as capture JSONL and as
canonical Parquet, this times

- ``ca.read_events(jsonl)`` against DuckDB ``read_json`` of the same file to Arrow, and
- ``ca.read_events(parquet)`` against ``pyarrow.parquet.read_table``,

each in a fresh process after warming up the machine's memory, best of a few runs, and prints
events/s, the ratio to the raw reader, the peak memory (resident set size above the process's size
after imports) against the size of the resulting frame, and the memory the process holds after the read
("held": resident set size above its size after imports, the frame alive) and once the frame is dropped
("kept"). Targets: ratio <= 1.3 (JSONL) and 1.5 (Parquet),
peak memory at most 1.5x the frame.

Both sides must agree: the raw reader's rows are the records read_events accounts for (events,
rejected, duplicates, ignored), and its events are the rows of its frame.
Usage: ``python benchmarks/bench_read.py [--sizes 1000000 10000000] [--repeat 3] [--smoke]``.
"""

from __future__ import annotations

import time
from pathlib import Path

from _harness import (
    CACHE,
    EVENTS_PER_SESSION,
    parser,
    record,
    row,
    run_child,
    smoke_events,
    warm_memory,
    write_events,
)

CHILD = r"""
import gc, json, resource, sys, time, warnings
warnings.simplefilter("ignore")
kind, path = sys.argv[1], sys.argv[2]
import duckdb, pyarrow.parquet as pq, chatanalytics as ca
def rss_kb():
    with open("/proc/self/status") as fh:  # VmHWM: the peak resident set size so far
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def now_kb():
    with open("/proc/self/status") as fh:  # VmRSS: the resident set size now
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
base, base_now = rss_kb(), now_kb()
t = time.perf_counter()
if kind == "read_events":
    out = ca.read_events(path)
    rows, nbytes = len(out), int(out.memory_usage(deep=True).sum())
elif kind == "duckdb_read_json":
    out = duckdb.sql(f"select * from read_json('{path}', format='newline_delimited')").to_arrow_table()
    rows, nbytes = out.num_rows, out.nbytes
elif kind == "pyarrow_read_table":
    out = pq.read_table(path)
    rows, nbytes = out.num_rows, out.nbytes
seconds = time.perf_counter() - t
records = ca.load_report(out).counts()["records"] if kind == "read_events" else None
peak, held = rss_kb() - base, now_kb() - base_now
del out
gc.collect()
print(json.dumps({"seconds": seconds, "rows": rows, "records": records, "bytes": nbytes,
                  "peak_kb": peak, "held_kb": held, "kept_kb": now_kb() - base_now}))
"""


def _tag(n_events: int) -> str:
    """``1M``, ``10M``, or the number itself below a million: the name of a size in files and results."""
    return f"{n_events // 1_000_000}M" if n_events >= 1_000_000 else str(n_events)


def ensure_data(n_events: int) -> tuple[Path, Path]:
    """The cached JSONL and Parquet files of about ``n_events`` synthetic events."""
    tag = _tag(n_events)
    jsonl, parquet = CACHE / f"synthetic-{tag}.jsonl", CACHE / f"synthetic-{tag}.parquet"
    if not jsonl.exists() or not parquet.exists():
        t = time.perf_counter()
        write_events(CACHE, tag, int(n_events / EVENTS_PER_SESSION))
        print(f"generated {jsonl.name} and {parquet.name} in {time.perf_counter() - t:.1f} s", flush=True)
    return jsonl, parquet


def run(kind: str, path: Path, repeat: int, smoke: bool) -> dict[str, float]:
    best: dict[str, float] | None = None
    peak = held = kept = 0
    for _ in range(repeat):
        got = run_child(CHILD, kind, str(path), here=smoke)
        peak = max(peak, got["peak_kb"])
        held = max(held, got["held_kb"])
        kept = max(kept, got["kept_kb"])
        if best is None or got["seconds"] < best["seconds"]:
            best = got
    assert best is not None
    best["peak_kb"], best["held_kb"], best["kept_kb"] = peak, held, kept
    return best


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--warm-gib", type=float, default=12.0, help="memory to touch once before timing")
    args = p.parse_args()
    rows, measured = [], []
    for n in [0] if args.smoke else args.sizes:
        jsonl, parquet = smoke_events() if args.smoke else ensure_data(n)
        if not args.smoke:
            warm_memory(args.warm_gib)
        for fmt, path, raw in (
            ("jsonl", jsonl, "duckdb_read_json"),
            ("parquet", parquet, "pyarrow_read_table"),
        ):
            repeat = 1 if args.smoke else args.repeat
            ours = run("read_events", path, repeat, args.smoke)
            base = run(raw, path, repeat, args.smoke)
            # every record the raw reader returns is accounted for; the canonical Parquet holds events only
            if base["rows"] != ours["records"] or (fmt == "parquet" and base["rows"] != ours["rows"]):
                raise SystemExit(
                    f"{path.name}: the two disagree: read_events accounts for {ours['records']:,} records "
                    f"({ours['rows']:,} events), {raw} returned {base['rows']:,} rows"
                )
            size = "smoke" if args.smoke else _tag(n)
            measured.append(
                row(
                    f"read_events_{fmt}",
                    size,
                    ours["seconds"],
                    raw,
                    base["seconds"],
                    1.3 if fmt == "jsonl" else 1.5,
                    True,
                )
            )
            frame_mb = ours["bytes"] / 2**20
            peak_mb = ours["peak_kb"] / 1024
            rows.append(
                (
                    f"{ours['rows'] / 1e6:.1f}M",
                    fmt,
                    f"{path.stat().st_size / 2**20:,.0f} MiB",
                    f"{ours['seconds']:.2f} s",
                    f"{ours['rows'] / ours['seconds'] / 1e6:.2f} M/s",
                    f"{raw} {base['seconds']:.2f} s",
                    f"{ours['seconds'] / base['seconds']:.2f}x",
                    f"{frame_mb:,.0f} MiB",
                    f"{peak_mb:,.0f} MiB",
                    f"{peak_mb / frame_mb:.2f}x",
                    f"{ours['held_kb'] / 1024:,.0f} MiB",
                    f"{ours['kept_kb'] / 1024:,.0f} MiB",
                    f"{base['peak_kb'] / 1024:,.0f} MiB / {base['bytes'] / 2**20:,.0f} MiB",
                )
            )
            print(" | ".join(rows[-1]), flush=True)
    record("bench_read", measured, args.smoke)
    header = (
        "events",
        "file",
        "size",
        "read_events",
        "events/s",
        "raw reader",
        "ratio",
        "frame",
        "peak",
        "peak/frame",
        "held",
        "kept",
        "raw peak / raw output",
    )
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
