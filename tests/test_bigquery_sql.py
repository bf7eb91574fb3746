"""Every query the analyses send to their engine also compiles for BigQuery, with functions BigQuery has.

No BigQuery is reachable here, so the SQL is compiled and read, not run. Each analysis runs for real on
DuckDB over an Ibis table, the path a warehouse table takes (a pandas frame runs SQL compiled for DuckDB
once per shape instead); every Ibis expression it executes is also compiled with Ibis's BigQuery
compiler, parsed back with SQLGlot's BigQuery dialect, and each function call in it is checked against
BigQuery's function reference
(https://cloud.google.com/bigquery/docs/reference/standard-sql/functions-and-operators).
"""

from __future__ import annotations

import re

import ibis
import pytest
import sqlglot

import chatanalytics as ca

#: Functions of BigQuery's reference that an analysis may use (aggregate, window, conditional,
#: conversion, math, time and string functions).
BIGQUERY_FUNCTIONS = {
    "ANY_VALUE", "ARRAY_AGG", "AVG", "COUNT", "COUNTIF", "LOGICAL_AND", "LOGICAL_OR", "MAX", "MAX_BY",
    "MIN", "MIN_BY", "SUM", "STRING_AGG", "APPROX_QUANTILES", "APPROX_COUNT_DISTINCT",
    "ROW_NUMBER", "RANK", "DENSE_RANK", "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE",
    "IF", "IFNULL", "NULLIF", "COALESCE", "CAST", "SAFE_CAST",
    "LEAST", "GREATEST", "ABS", "FLOOR", "CEIL", "ROUND", "DIV", "MOD", "SAFE_DIVIDE", "IEEE_DIVIDE",
    "TIMESTAMP_DIFF", "TIMESTAMP_ADD", "TIMESTAMP_SUB", "TIMESTAMP_TRUNC", "TIMESTAMP_MICROS",
    "TIMESTAMP_SECONDS", "UNIX_MICROS", "UNIX_SECONDS", "DATE", "DATETIME", "EXTRACT", "FORMAT_TIMESTAMP",
    "CONCAT", "LOWER", "UPPER", "TRIM", "STARTS_WITH", "ENDS_WITH", "REGEXP_CONTAINS", "REGEXP_EXTRACT",
    "REGEXP_REPLACE", "SUBSTR", "LENGTH", "TRUNC", "TIMESTAMP",
    "ARRAY", "ARRAY_LENGTH", "ARRAY_TO_STRING", "UNNEST", "SAFE_OFFSET", "OFFSET",
}  # fmt: skip

#: Functions that other engines have and BigQuery lacks (or has only in another form), which an Ibis
#: compiler has been seen to emit.
NOT_IN_BIGQUERY = {"MEDIAN", "PERCENTILE_CONT", "TIME_TO_UNIX", "ARG_MIN", "ARG_MAX", "LIST", "EPOCH_US"}

_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|`[^`]*`")
_KEYWORDS = {
    "ALL", "AND", "AS", "BY", "ELSE", "EXCEPT", "EXISTS", "FROM", "IN", "JOIN", "NOT", "ON", "OR", "OVER",
    "SELECT", "THEN", "UNION", "USING", "VALUES", "WHEN", "WHERE", "WITH",
}  # fmt: skip


def _functions(sql: str) -> set[str]:
    """The names of the functions called in a query, as written (literals and quoted names removed)."""
    sqlglot.parse_one(sql, read="bigquery")  # the query must at least parse as BigQuery SQL
    text = _QUOTED.sub("x", sql)
    return {name.upper() for name in _CALL.findall(text)} - _KEYWORDS


@pytest.fixture
def compiled(monkeypatch):
    """The BigQuery SQL of every expression executed while the fixture is active."""
    queries: list[str] = []
    run = ibis.expr.types.Expr.to_pyarrow

    def compile_then_run(self, *args, **kwargs):
        queries.append(ibis.to_sql(self, dialect="bigquery"))
        return run(self, *args, **kwargs)

    monkeypatch.setattr(ibis.expr.types.Expr, "to_pyarrow", compile_then_run)
    return queries


ANALYSES = {
    "funnel ordered by ui_type": lambda ev: ca.funnel(
        ev, steps=["triggered", "engaged", ["email_input", "phone_input"], "completed"], by="ui_type"
    ),
    "funnel strict": lambda ev: ca.funnel(ev, steps=["triggered", "engaged", "completed"], order="strict"),
    "funnel any order, per visitor": lambda ev: ca.funnel(
        ev, steps=["triggered", "engaged"], order="any", unit="visitor"
    ),
    "agent performance": lambda ev: ca.agent_performance(ev, tz="America/New_York", freq="week"),
    "timeouts": lambda ev: ca.timeouts(ev, by="conversation_name", tz="America/New_York"),
    "adobe metrics": lambda ev: ca.adobe_metrics(ev, by="ui_type"),
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_the_analysis_compiles_to_bigquery_functions_only(name, compiled):
    ANALYSES[name](ibis.memtable(ca.load_sample()))
    assert compiled, "the analysis executed no Ibis expression"
    used = set().union(*(_functions(q) for q in compiled))
    assert used, "no function calls found: the check would pass vacuously"
    assert not used & NOT_IN_BIGQUERY, sorted(used & NOT_IN_BIGQUERY)
    assert used <= BIGQUERY_FUNCTIONS, sorted(used - BIGQUERY_FUNCTIONS)


def test_the_check_catches_functions_bigquery_lacks():
    t = ibis.table({"x": "float64", "g": "string", "ts": "timestamp('UTC')"}, name="events")
    assert "ARG_MIN" in _functions("SELECT ARG_MIN(a, b) FROM t")
    assert "MEDIAN" in _functions("SELECT MEDIAN(x) FROM t")
    assert _functions(ibis.to_sql(t.group_by("g").agg(n=t.x.count(), m=t.x.max()), dialect="bigquery")) == {
        "COUNT",
        "MAX",
    }
    with pytest.raises(ibis.common.exceptions.OperationNotDefinedError):
        ibis.to_sql(t.x.median(), dialect="bigquery")  # no exact median in BigQuery


def test_the_ga4_normalisation_compiles_for_bigquery():
    value = "struct<string_value: string, int_value: int64, float_value: float64, double_value: float64>"
    raw = ibis.table(
        {
            "event_date": "string",
            "event_timestamp": "int64",
            "event_name": "string",
            "event_params": f"array<struct<key: string, value: {value}>>",
            "user_pseudo_id": "string",
            "batch_event_index": "int64",
            "batch_page_id": "int64",
            "batch_ordering_id": "int64",
        },
        name="events_20261103",
    )
    sql = ibis.to_sql(ca.ga4_events(raw), dialect="bigquery")
    used = _functions(sql)
    assert {"ARRAY_TO_STRING", "REGEXP_CONTAINS", "TIMESTAMP_ADD"} <= used
    assert used <= BIGQUERY_FUNCTIONS, sorted(used - BIGQUERY_FUNCTIONS)
    assert "UNNEST(`t0`.`event_params`)" in sql


@pytest.mark.parametrize("attribution", ["first_step", "first_value"])
def test_the_funnel_aggregates_left_in_bigquery_compile(attribution):
    import pandas as pd

    from chatanalytics.analysis._funnel import _km_query, _parse_steps, _Timing, _unit_times

    events = ibis.table(
        {
            "event_time_utc": "int64",  # microseconds, as the funnel's queries use them
            "event_type": "string",
            "session_id": "string",
            "conversation_id": "string",
            "ui_type": "string",
        },
        name="events",
    )
    steps = _parse_steps(["triggered", "engaged", "completed"])
    window = pd.Timedelta("30min")
    units = _unit_times(
        events, steps, ["session_id", "conversation_id"], "ordered", window, [None, None], [],
        ("ui_type", attribution), None, None, collect=False,
    )  # fmt: skip
    timing = _Timing(steps, "ordered", window, [None] * 2, pd.Timestamp("2026-11-30", tz="UTC"))
    query = _km_query(units.mutate(g=units.group.fill_null("(none)")), timing)
    used = _functions(ibis.to_sql(query, dialect="bigquery"))
    assert {"MIN", "COUNT", "SUM"} <= used
    assert used <= BIGQUERY_FUNCTIONS, sorted(used - BIGQUERY_FUNCTIONS)
