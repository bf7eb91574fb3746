"""The same analyses on PySpark through Ibis: every table equals the one computed in process (DuckDB).

One local Spark session (2 cores) reads the canonical Parquet of a simulated (synthetic) sample; each
analysis runs on the pandas frame and on the Spark table, and the tables must agree (floats to 1e-12).
Neither process runs in UTC: Python runs in Asia/Kolkata (a half-hour offset) and the JVM in
America/Los_Angeles, so a time zone leaking into either engine's date or hour arithmetic shows up.
Runs in CI (the dev install includes the Spark extra and ``.ci/run`` installs Java); elsewhere it skips
when PySpark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import chatanalytics as ca

pytestmark = [
    pytest.mark.slow,
    # PySpark's py4j gateway leaves its local sockets to the garbage collector
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI installs it (see .ci/run and the Makefile)")
        pytest.skip(why)


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _need(False, "PySpark is not installed (pip install 'chatanalytics[spark]')")
    _need(shutil.which("java") is not None, "Java is not installed (apt-get install default-jre-headless)")
    from pyspark.sql import SparkSession

    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    session = (
        SparkSession.builder.master("local[2]")
        .appName("chatanalytics-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config(
            "spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -Duser.timezone=America/Los_Angeles"
        )
        .getOrCreate()
    )
    assert session.conf.get("spark.sql.session.timeZone") == "America/Los_Angeles"
    try:
        yield session
    finally:
        session.stop()
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()


@pytest.fixture(scope="module")
def pair(spark, tmp_path_factory):
    import ibis

    events = ca.simulate(3000, seed=2)  # SYNTHETIC
    path = tmp_path_factory.mktemp("spark") / "events.parquet"
    events.to_parquet(path)
    table = ca.events_table(ibis.pyspark.connect(spark).read_parquet(str(path)))
    return events, table


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            np.testing.assert_allclose(x.astype(float), y.astype(float), rtol=1e-12, atol=1e-12, err_msg=c)
        else:
            assert (
                x.astype(object).where(x.notna(), None).tolist()
                == y.astype(object).where(y.notna(), None).tolist()
            ), c


def test_funnel_on_spark(pair):
    events, table = pair
    kwargs = {"steps": ["triggered", "engaged", ["email_input", "phone_input"], "completed"], "by": "ui_type"}
    _same(ca.funnel(events, **kwargs).frame(), ca.funnel(table, **kwargs).frame())
    strict = {"steps": ["triggered", "engaged", "completed"], "order": "strict", "window": "10min"}
    _same(ca.funnel(events, **strict).frame(), ca.funnel(table, **strict).frame())


def test_funnel_on_spark_keeps_the_units_there(pair):
    events, table = pair
    kwargs = {"steps": ["triggered", "engaged", "completed"], "by": "conversation_name", "top": 2}
    mine, theirs = ca.funnel(events, **kwargs), ca.funnel(table, **kwargs)
    assert not isinstance(theirs.units_arrow, pa.Table)  # only the aggregates came back
    assert theirs.kept_groups == mine.kept_groups
    _same(mine.frame(), theirs.frame())
    _same(mine.curves, theirs.curves)
    group = mine.kept_groups[0]
    a = mine.units(2, group, "dropped").sort_values(["session_id", "conversation_id"])
    b = theirs.units(2, group, "dropped").sort_values(["session_id", "conversation_id"])
    _same(a, b)  # the drill-down runs on Spark when asked for


def test_agent_performance_on_spark(pair):
    events, table = pair
    kwargs = {"freq": "week", "tz": "America/New_York"}
    mine, theirs = ca.agent_performance(events, **kwargs), ca.agent_performance(table, **kwargs)
    _same(mine.frame(), theirs.frame())
    _same(mine.anomalies, theirs.anomalies)


def test_timeouts_on_spark(pair):
    events, table = pair
    mine, theirs = ca.timeouts(events, by="ui_type"), ca.timeouts(table, by="ui_type")
    for kind in ("outcomes", "curves", "service_level", "waits", "causes", "heatmap", "logrank"):
        _same(mine.frame(kind), theirs.frame(kind))


def test_changes_on_spark(pair):
    """The digest's per-period counts are computed on Spark; every table and the drill-down agree."""
    events, table = pair
    kwargs = {"tz": "America/New_York", "by": ["conversation_name", "ui_type"]}
    mine, theirs = ca.changes(events, **kwargs), ca.changes(table, **kwargs)
    for name in mine.TABLES:
        _same(mine.frame(name), theirs.frame(name))
    assert mine.params == theirs.params and mine.headlines() == theirs.headlines()
    for metric in ("engagement_rate", "miss_rate"):
        group = mine.drivers(metric, "ui_type")["group"].iloc[0]
        _same(
            mine.units(events, metric=metric, by="ui_type", group=group),
            theirs.units(table, metric=metric, by="ui_type", group=group),
        )


def test_events_table_checks_the_schema(spark):
    import ibis

    con = ibis.pyspark.connect(spark)
    bad = con.create_table(
        "no_time", pd.DataFrame({"event_type": ["CONVERSATION_TRIGGERED"]}), overwrite=True
    )
    with pytest.raises(ca.InvalidParameterError, match="missing canonical column"):
        ca.events_table(bad)


def test_ga4_export_normalised_on_spark(spark, tmp_path):
    """The GA4 normalisation runs on Spark, is kept as a Spark table, and the analyses read that table.

    A Spark table keeps instants as Spark's zone-less ``timestamp``; they come back as UTC wall time
    (as a Parquet file read on Spark does), so the comparison reads them as UTC.
    """
    import ibis
    from conftest import write_ga4_raw_parquet

    raw_path = write_ga4_raw_parquet(tmp_path / "events_20261005.parquet")
    con = ibis.pyspark.connect(spark)
    normalised = ca.ga4_events(con.read_parquet(str(raw_path)))
    assert normalised.schema()["event_time_utc"] == ibis.dtype("timestamp('UTC')")
    on_spark = ca.events_table(con.create_table("ga4_normalised", normalised, overwrite=True))
    on_duckdb = ca.ga4_events(ibis.duckdb.connect().read_parquet(str(raw_path)))
    columns = [c for c in ca.COLUMNS if c not in ("event_count", "time_granularity", "source_record")]
    a = on_spark.execute()[columns].sort_values("event_id").astype({"event_type": str})
    b = on_duckdb.execute()[columns].sort_values("event_id").astype({"event_type": str})
    assert a["event_time_utc"].dt.tz is None
    a["event_time_utc"] = a["event_time_utc"].dt.tz_localize("UTC")
    assert len(a) == len(ca.read_events(raw_path, warn=False))
    _same(a, b)
    steps = {"steps": ["triggered", "engaged", "completed"], "by": "conversation_type"}
    _same(ca.funnel(on_spark, **steps).frame(), ca.funnel(on_duckdb, **steps).frame())
