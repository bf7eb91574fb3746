"""Which engine when: the same funnel on DuckDB and on PySpark (local mode) over one Parquet dataset.

The dataset is ``benchmarks/.cache/dataset-<size>/`` (**synthetic**, made by bench_dataset.py). Each engine
runs in a fresh process, which records: the start-up (imports and the engine ready: DuckDB connection, or
the Spark session with its JVM), the first funnel (three ordered steps, 30-minute window, by UI type) and a
second one (warm), all on the dataset opened in place (``ca.open_events`` for DuckDB, Spark's
``read_parquet`` through ``ibis.pyspark`` for Spark), with the process's peak resident memory (the JVM's
for Spark, which runs in a child process, is not included). Both must give the same counts.
Usage: ``python benchmarks/bench_engines.py [--events 5M] [--smoke]`` (needs the ``spark`` extra and Java;
``--smoke``: the small dataset of ``bench_dataset.py --smoke`` and one funnel per engine).
"""

from __future__ import annotations

from _harness import CACHE, disagree, parser, record, row, run_child, warm_memory
from bench_dataset import smoke_dataset

CHILD = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
warnings.simplefilter("ignore")
import ibis, chatanalytics as ca
engine, folder, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if engine == "duckdb":
    con = ibis.duckdb.connect()
    events = ca.open_events(folder, con=con)
else:
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "4").config("spark.driver.memory", "6g")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    events = ca.events_table(ibis.pyspark.connect(spark).read_parquet(folder))
start = time.perf_counter() - t0
runs = []
for _ in range(n):
    t = time.perf_counter()
    out = ca.funnel(events, steps=["triggered", "engaged", "completed"], window="30min", by="ui_type").frame()
    runs.append(time.perf_counter() - t)
with open("/proc/self/status") as fh:
    peak = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
counts = [int(c) for c in out["converted"]]
print(json.dumps({"start": start, "first": runs[0], "warm": runs[-1], "peak_mb": peak, "counts": counts}))
"""


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--events", default="5M", help="which cached dataset (see bench_dataset.py)")
    args = p.parse_args()
    size = "smoke" if args.smoke else args.events
    folder = smoke_dataset() if args.smoke else CACHE / f"dataset-{size}"
    if not folder.exists():
        make = f"python benchmarks/bench_dataset.py --events {size}"
        raise SystemExit(f"{folder} is missing: run `{make}` first")
    if not args.smoke:
        warm_memory()
    # a fresh process per engine even in smoke mode: Spark's JVM and session must not outlive the run
    n = "1" if args.smoke else "2"
    results = {engine: run_child(CHILD, engine, str(folder), n) for engine in ("duckdb", "spark")}
    if results["duckdb"]["counts"] != results["spark"]["counts"]:
        disagree(
            "the funnel on DuckDB against the funnel on Spark",
            results["duckdb"]["counts"],
            results["spark"]["counts"],
        )
    duck, spark = results["duckdb"], results["spark"]
    anchor = "the same funnel on PySpark local"
    rows = [
        row(f"funnel_duckdb_vs_spark_{run}", size, duck[run], anchor, spark[run], None, True)
        for run in ("first", "warm")
    ]
    record("bench_engines", rows, args.smoke)
    print("| engine | events | start-up | first funnel | warm funnel | Python peak memory |")
    print("|---|---|---|---|---|---|")
    for engine, r in results.items():
        print(
            f"| {engine} | {size} | {r['start']:.1f} s | {r['first']:.1f} s | {r['warm']:.1f} s "
            f"| {r['peak_mb'] / 1024:,.2f} GiB |"
        )


if __name__ == "__main__":
    main()
