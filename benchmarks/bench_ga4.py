"""Benchmark reading a GA4 BigQuery NDJSON export against a hand-written DuckDB query of the same file.

The input is made once into ``benchmarks/.cache/ga4-<sessions>-with-page-views.json``: the events of
``ca.simulate`` (synthetic) written as GA4 BigQuery export rows as the capture snippet's gtag calls arrive
(INT64 values as strings, ``event_params`` with typed values, device, geo and batch columns), each after a
``page_view`` row of the same visitor, so half the rows are not chat events. Each child process reads the
file, best of ``--repeats`` (3): either ``ca.read_events`` (canonical frame, load report, de-duplication,
privacy scrub), or a hand-written DuckDB query that reads the file with ``read_json``, unnests
``event_params`` and coalesces the typed values to text (the two the file holds), into Arrow.

Both sides must agree: the rows of the canonical frame are the chat events of the file (the rows that are
not ``page_view``), counted by DuckDB after its timed query.

Target: at most 1.5x the hand-written query.
Usage: ``python benchmarks/bench_ga4.py [--sessions 200000] [--repeats 3] [--smoke]``.
"""

from __future__ import annotations

import json
import time

from _harness import CACHE, SMOKE_SESSIONS, disagree, parser, record, row, run_child, temp_dir, warm_memory

WRITE = r"""
import json, sys, duckdb, pandas as pd, chatanalytics as ca
n, out = int(sys.argv[1]), sys.argv[2]
sim = ca.simulate(n, seed=11)
plan = ca.TrackingPlan.default()
names = {c: k for k, c in plan.events("ga4").items()}
cols = {c: k for c, k in plan.columns("ga4").items() if c != "event_time_utc" and c in sim}
frame = pd.DataFrame({
    "us": sim["event_time_utc"].astype("datetime64[us, UTC]").astype("int64"),
    "name": sim["event_type"].astype(str).map(names), "constant": sim["event_type"].astype(str),
    "row": range(len(sim)), "visitor_id": sim["visitor_id"].astype(object),
    "page_url": sim["page_url"].astype(object),
    **{c: sim[c].astype(object) for c in cols},
})
# as many non-chat rows: a page_view 1 ms before each chat event, without the chat parameters
noise = frame.assign(us=frame["us"] - 1000, name="page_view", constant=None, **{c: None for c in cols})
frame = pd.concat([noise, frame], ignore_index=True).sort_values(["row", "us"], kind="stable")
def param(c, key):
    return (f"{{'key': '{key}', 'value': {{'string_value': CASE WHEN NOT regexp_full_match({c}, '[0-9]+') "
            f"THEN {c} END, 'int_value': CASE WHEN regexp_full_match({c}, '[0-9]+') THEN {c} END}}}}")
params = [param(c, k) for c, k in cols.items()]
params += [param("page_url", "page_location"), param("constant", "dc_event"),
           param("CAST(us // 1000000 - 600 AS VARCHAR)", "ga_session_id"),
           "{'key': 'engagement_time_msec', 'value': {'string_value': NULL, 'int_value': '100'}}"]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.register("frame", frame)
con.execute(f'''
COPY (SELECT strftime(make_timestamp(us), '%Y%m%d') AS event_date, CAST(us AS VARCHAR) AS event_timestamp,
  name AS event_name,
  list_filter([{", ".join(params)}], lambda p: coalesce(p.value.string_value, p.value.int_value) IS NOT NULL)
    AS event_params,
  visitor_id AS user_pseudo_id,
  {{'analytics_storage': 'Yes', 'ads_storage': 'No', 'uses_transient_token': 'No'}} AS privacy_info,
  {{'category': 'desktop', 'operating_system': 'Windows', 'language': 'en-us',
    'web_info': {{'browser': 'Chrome', 'browser_version': '131.0',
                  'hostname': 'www.example.com'}}}} AS device,
  {{'country': 'United States', 'region': 'Massachusetts', 'city': 'Boston'}} AS geo,
  '4178302551' AS stream_id, 'WEB' AS platform, [] AS items,
  CAST(row % 7 AS VARCHAR) AS batch_event_index, CAST(1793681849512 + row // 7 AS VARCHAR) AS batch_page_id,
  '1' AS batch_ordering_id
  FROM frame) TO '{out}' (FORMAT json)''')
print(json.dumps({"events": len(sim)}))
"""

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import duckdb, chatanalytics as ca
path = sys.argv[2]
SQL = f'''
SELECT e.event_timestamp, e.event_name, e.user_pseudo_id, p.key,
       coalesce(p.value.string_value, CAST(p.value.int_value AS VARCHAR)) AS value
FROM read_json('{path}', format = 'newline_delimited') AS e, unnest(e.event_params) AS u(p)
'''
best = None
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    if sys.argv[1] == "read_events":
        rows = len(ca.read_events(path))
    else:
        con = duckdb.connect()
        rows = con.sql(SQL).to_arrow_table().num_rows
        con.close()
    s = time.perf_counter() - t
    best = s if best is None else min(best, s)
chat = None
if sys.argv[1] != "read_events":
    sql = f"SELECT count(*) FROM read_json('{path}', format = 'newline_delimited') " \
          "WHERE event_name <> 'page_view'"
    chat = duckdb.sql(sql).fetchall()[0][0]
print(json.dumps({"seconds": best, "rows": rows, "chat_events": chat}))
"""


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=200_000, help="simulated sessions (~2.4 events each)")
    p.add_argument("--repeats", type=int, default=3, help="runs per reader in its process (best counts)")
    args = p.parse_args()
    smoke = args.smoke
    n, repeats = (SMOKE_SESSIONS, "1") if smoke else (args.sessions, str(args.repeats))
    folder = temp_dir("bench-ga4-") if smoke else CACHE
    folder.mkdir(exist_ok=True)
    path = folder / f"ga4-{n}-with-page-views.json"
    if not path.exists():
        t = time.perf_counter()
        written = run_child(WRITE, str(n), str(path), here=smoke)
        print(f"wrote {path} ({written['events']} events) in {time.perf_counter() - t:.1f} s")
    if not smoke:
        warm_memory()
    size = path.stat().st_size / 2**20
    ours = run_child(CHILD, "read_events", str(path), repeats, here=smoke)
    raw = run_child(CHILD, "duckdb", str(path), repeats, here=smoke)
    if ours["rows"] != raw["chat_events"]:
        disagree("read_events against the file's chat events", ours["rows"], raw["chat_events"])
    events = "smoke" if smoke else f"{ours['rows'] / 1e6:.2f}M"
    anchor = "hand-written DuckDB read_json + unnest"
    record(
        "bench_ga4",
        [row("read_events_ga4", events, ours["seconds"], anchor, raw["seconds"], 1.5, True)],
        smoke,
    )
    result = {
        "file": path.name,
        "MiB": round(size),
        "events": ours["rows"],
        "read_events_s": round(ours["seconds"], 2),
        "duckdb_unnest_s": round(raw["seconds"], 2),
        "param_rows": raw["rows"],
        "ratio": round(ours["seconds"] / raw["seconds"], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
