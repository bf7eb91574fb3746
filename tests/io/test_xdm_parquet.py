"""AEP XDM ExperienceEvent datasets exported as Parquet (dataset exports are Parquet or JSON files) read
as their JSON-lines export does.

The Parquet file is written in the test from the records on the first 10 lines of the JSON fixture
(tests/data/aep_xdm/part-00000-5d1c7e2a-c000.json, see its README) by DuckDB, with nested objects as
structs and ``timestamp`` as a TIMESTAMP WITH TIME ZONE column, as an export holds it. Its rows are the
JSON file's lines, so the two reads must agree row for row: the JSON read is the independent oracle.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import chatanalytics as ca

JSON = Path(__file__).resolve().parents[1] / "data" / "aep_xdm" / "part-00000-5d1c7e2a-c000.json"
COLUMNS = [
    "event_time_utc",
    "event_type",
    "session_id",
    "conversation_id",
    "conversation_name",
    "visitor_id",
    "page_url",
    "event_id",
    "source_record",
]


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    lines = [line for line in JSON.read_text(encoding="utf-8").splitlines()[:10] if line.strip()]
    source = tmp_path / "part.json"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parquet = tmp_path / "part-00000.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f'COPY (SELECT * REPLACE (try_cast("timestamp" AS TIMESTAMPTZ) AS "timestamp") '
        f"FROM read_json('{source}', format = 'newline_delimited', union_by_name = true)) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    types = dict(
        con.sql(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{parquet}')").fetchall()
    )
    con.close()
    assert types["timestamp"] == "TIMESTAMP WITH TIME ZONE" and types["web"].startswith("STRUCT")
    return source, parquet


def test_parquet_export_reads_as_its_json_lines(pair):
    source, parquet = pair
    from_json = ca.read_events(source, warn=False)
    from_parquet = ca.read_events(parquet, warn=False)  # detected from the Parquet schema
    report = ca.load_report(from_parquet)
    assert report.files["source_format"].tolist() == ["aep_xdm"]
    assert report.counts() == ca.load_report(from_json).counts()
    assert report.counts()["events"] > 0
    got = from_parquet[COLUMNS].reset_index(drop=True)
    want = from_json[COLUMNS].reset_index(drop=True)
    assert got.equals(want)
    assert (
        report.rejected["source_record"].tolist()
        == ca.load_report(from_json).rejected["source_record"].tolist()
    )


def test_canonical_parquet_is_still_canonical(tmp_path):
    events = ca.load_sample()
    path = tmp_path / "events.parquet"
    events.head(20).to_parquet(path)
    assert ca.load_report(ca.read_events(path, warn=False)).files["source_format"].tolist() == ["parquet"]
