"""Benchmark timeouts() against a hand-written DuckDB query that pairs requests with their outcomes.

On the cached synthetic events (see bench_read.py), each child process reads the canonical Parquet into
the events frame, then times either ``ca.timeouts`` (everything: requests rebuilt, outcome tables by
hour, weekday and day, Kaplan-Meier and Aalen-Johansen curves with bands, service levels, waits, causes
of misses from agent load, the heatmap) or hand-written DuckDB SQL that orders each conversation's
lifecycle events, takes each request's last offer and the event after it, and counts the outcomes and
the median wait of the accepted requests. Best of 3 in the process; both must give the same counts.

Target: at most 1.2x the hand-written query at 10M events, and at 1M a fixed cost at most 0.15 s above
the query's time.
Usage: ``python benchmarks/bench_timeouts.py [--size 10M] [--smoke]``.
"""

from __future__ import annotations

from _harness import cached_input, disagree, parser, record, repeats, row, run_child

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import duckdb, pyarrow as pa, chatanalytics as ca
events = ca.read_events(sys.argv[2])
SQL = '''
WITH lc AS (
  SELECT session_id, conversation_id, agent_id, event_type, event_time_utc,
         CASE event_type WHEN 'CONVERSATION_LIVE_CHAT_REQUESTED' THEN 0
                         WHEN 'CONVERSATION_LIVE_CHAT_INITIATED' THEN 1
                         WHEN 'CONVERSATION_LIVE_CHAT_ENDED' THEN 3
                         WHEN 'CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT' THEN 3 ELSE 4 END AS rk
  FROM ev
  WHERE event_type IN ('CONVERSATION_LIVE_CHAT_REQUESTED', 'CONVERSATION_LIVE_CHAT_INITIATED',
                       'CONVERSATION_LIVE_CHAT_ENDED', 'CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT',
                       'CONVERSATION_CLOSED', 'CONVERSATION_COMPLETED')
    AND session_id IS NOT NULL AND conversation_id IS NOT NULL),
nx AS (
  SELECT *, lag(event_type) OVER w AS pt, lag(event_time_utc) OVER w AS ptime,
         lead(event_type) OVER w AS nt, lead(event_time_utc) OVER w AS ntime FROM lc
  WINDOW w AS (PARTITION BY session_id, conversation_id ORDER BY event_time_utc, rk, event_type, agent_id)),
last_offers AS (
  SELECT CASE WHEN pt = 'CONVERSATION_LIVE_CHAT_REQUESTED' THEN ptime ELSE event_time_utc END AS asked,
         CASE WHEN nt IN ('CONVERSATION_LIVE_CHAT_INITIATED', 'CONVERSATION_LIVE_CHAT_ENDED') THEN 'accepted'
              WHEN nt = 'CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT' THEN 'missed'
              WHEN nt IS NULL THEN 'open' ELSE 'left' END AS outcome, nt, ntime
  FROM nx
  WHERE event_type = 'CONVERSATION_LIVE_CHAT_REQUESTED'
    AND (nt IS NULL OR nt <> 'CONVERSATION_LIVE_CHAT_REQUESTED'))
SELECT outcome, count(*) AS requests,
       median(date_diff('microsecond', asked, ntime) / 1e6)
         FILTER (WHERE nt = 'CONVERSATION_LIVE_CHAT_INITIATED') AS median_wait_s
FROM last_offers GROUP BY outcome ORDER BY outcome
'''
best = None
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    if sys.argv[1] == "timeouts":
        res = ca.timeouts(events, tz="America/New_York")
        o = res.frame("outcomes")
        o = o[(o["slice"] == "all") & (o["basis"] == "requests") & (o["count"] > 0)]
        counts = sorted([str(a), int(b)] for a, b in zip(o["outcome"], o["count"]))
    else:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        cols = ["event_time_utc", "event_type", "session_id", "conversation_id", "agent_id"]
        table = pa.Table.from_pandas(events[cols], preserve_index=False)
        table = table.set_column(1, "event_type", table.column(1).cast(pa.string()))
        con.register("ev", table)
        counts = sorted([a, int(b)] for a, b, _ in con.sql(SQL).fetchall())
    s = time.perf_counter() - t
    best = s if best is None else min(best, s)
print(json.dumps({"seconds": best, "counts": counts}))
"""


def main() -> None:
    size, path, args = cached_input(parser(__doc__.splitlines()[0]))
    n, smoke = str(repeats(args.smoke)), args.smoke
    ours = run_child(CHILD, "timeouts", str(path), n, here=smoke)
    sql = run_child(CHILD, "duckdb_sql", str(path), n, here=smoke)
    if ours["counts"] != sql["counts"]:
        disagree("timeouts against hand-written DuckDB SQL", ours["counts"], sql["counts"])
    target = 1.2 if size == "10M" else None
    anchor = "hand-written DuckDB SQL"
    record(
        "bench_timeouts",
        [row("timeouts", size, ours["seconds"], anchor, sql["seconds"], target, True)],
        smoke,
    )
    print("| events | timeouts | hand-written DuckDB SQL | ratio |")
    print("|---|---|---|---|")
    ratio = ours["seconds"] / sql["seconds"]
    print(f"| {size} | {ours['seconds']:.2f} s | {sql['seconds']:.2f} s | {ratio:.2f}x |")
    print(f"requests by outcome: {ours['counts']}")


if __name__ == "__main__":
    main()
