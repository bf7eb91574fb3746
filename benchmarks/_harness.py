"""What the analysis benchmarks share: the cached input file and running a measurement in a child process."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def cached_input(description: str) -> tuple[str, Path]:
    """Parse ``--size`` and return it with the cached canonical Parquet of that size."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--size", default="10M", help="which cached file: 1M or 10M (make bench creates them)"
    )
    size = parser.parse_args().size
    path = CACHE / f"synthetic-{size}.parquet"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `make bench` (benchmarks/bench_read.py) first")
    return size, path


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python process and return the JSON object on its last line of output."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


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
