"""GA4 BigQuery export (NDJSON and Parquet) into canonical events.

The fixtures in tests/data/ga4_bigquery/ follow the documented export schema: one property in
America/New_York (EST, UTC-5, in November 2026), INT64 values written as strings, absent NULL columns.

Visitor 1480213712.1789000000, GA4 session 1793681849 (started 2026-11-02 23:57:29 EST), Dynamic Chat
session sid-a1, conversation 4471902 "Pricing page dialogue" (dialogue, popup):

========================================  =========================  ================  ==========
file:line                                 event_name                 event_timestamp   outcome
========================================  =========================  ================  ==========
events_20261102.json:1                    session_start              04:57:30.000001   ignored
events_20261102.json:2                    page_view                  04:57:30.100000   ignored
events_20261102.json:3                    dc_conversation_triggered  04:58:00.250001   event
events_20261102.json:4                    dc_conversation_engaged    04:59:10.500000   event
events_20261103.json:1 (a)                dc_email_input             05:00:40.000123   event
events_20261103.json:2 (b)                dc_meeting_booked          05:01:05          event
events_20261103.json:3 (c)                dc_conversation_completed  05:01:30          event
events_20261103.json:4                    user_engagement            05:01:31          ignored
events_intraday_20261103.json:1           dc_meeting_booked          (same batch key)  duplicate of (b)
events_intraday_20261103.json:2           dc_conversation_completed  (same batch key)  duplicate of (c)
events_intraday_20261103.json:3 (d)       dc_conversation_triggered  15:15:00.000009   event
events_intraday_20261103.json:4           (truncated line)                             rejected
========================================  =========================  ================  ==========

(a) event_date 20261103: the session crosses local midnight. (b) agent 9001, meeting info cut at 100
characters. (c) conversation id written as the double 4471902.0. (d) visitor 88231.1793718850, sid-b2,
flow 4473088, event_timestamp a JSON number, its own dc_event_id e-77.

12 records = 6 events + 1 rejected + 2 duplicates + 3 ignored.
"""

from __future__ import annotations

import gzip
import json
import shutil
import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from tests.conftest import record_lines

DATA = Path(__file__).resolve().parents[1] / "data" / "ga4_bigquery"
GLOB = str(DATA / "events_*.json")
MEETING = (
    '{"start":"2026-11-03T15:00:00Z","duration":30,"host":"Dana Agent","location":"https://meet.example.c'
)
A = "1480213712.1789000000"

EXPECTED = pd.DataFrame(
    {
        "event_time_utc": pd.to_datetime(
            [
                "2026-11-03 04:58:00.250001",
                "2026-11-03 04:59:10.500000",
                "2026-11-03 05:00:40.000123",
                "2026-11-03 05:01:05.000000",
                "2026-11-03 05:01:30.000000",
                "2026-11-03 15:15:00.000009",
            ],
            utc=True,
        ).as_unit("us"),
        "event_type": [
            "CONVERSATION_TRIGGERED",
            "CONVERSATION_ENGAGED",
            "CONVERSATION_INPUT_EMAIL",
            "CONVERSATION_MEETING_BOOKED",
            "CONVERSATION_COMPLETED",
            "CONVERSATION_TRIGGERED",
        ],
        "session_id": ["sid-a1"] * 5 + ["sid-b2"],
        "conversation_id": ["4471902"] * 5 + ["4473088"],
        "conversation_name": ["Pricing page dialogue"] * 5 + ["Demo request flow"],
        "conversation_type": ["dialogue"] * 5 + ["conversational_flow"],
        "ui_type": ["popup"] * 5 + ["chatbot"],
        "agent_id": [None, None, None, "9001", None, None],
        "agent_name": [None, None, None, "Dana Agent", None, None],
        "meeting_info": [None, None, None, MEETING, None, None],
        "visitor_id": [A] * 5 + ["88231.1793718850"],
        "page_url": ["https://www.example.com/pricing"] * 5
        + ["https://www.example.com/demo?email=[redacted]&utm_source=ads"],
        "analytics_session_id": [f"{A}:1793681849"] * 5 + ["88231.1793718850:1793718850"],
        "event_id": [
            f"ga4:{A}|1793681880250001|dc_conversation_triggered|1793681849512|2|0",
            f"ga4:{A}|1793681950500000|dc_conversation_engaged|1793681849512|3|0",
            f"ga4:{A}|1793682040000123|dc_email_input|1793681849512|4|0",
            f"ga4:{A}|1793682065000000|dc_meeting_booked|1793681849512|5|0",
            f"ga4:{A}|1793682090000000|dc_conversation_completed|1793681849512|6|0",
            "e-77",
        ],
        "source_record": [3, 4, 1, 2, 3, 3],
    }
)


def read(paths=GLOB, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(paths, **kw)


def _check_expected(events: pd.DataFrame) -> None:
    ca.validate_events(events)
    got = events[list(EXPECTED.columns)].reset_index(drop=True)
    want = EXPECTED.copy()
    for frame in (got, want):
        for c in frame.columns:
            if c not in ("event_time_utc", "source_record"):
                frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    got["source_record"] = got["source_record"].astype(int)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_fixture_rows_worked_out_by_hand():
    events = read()
    _check_expected(events)
    assert set(events["source_format"].astype(str)) == {"ga4_bigquery"}
    assert set(events["time_granularity"].astype(str)) == {"exact"}
    assert (
        events["source_file"]
        .str.endswith(("events_20261102.json", "events_20261103.json", "events_intraday_20261103.json"))
        .all()
    )


def test_load_report_accounts_for_every_record():
    report = ca.load_report(read())
    assert report.counts() == {
        "records": 12,
        "events": 6,
        "rejected": 1,
        "duplicates": 2,
        "ignored": 3,
        "derived": 0,
    }
    assert report.files["records"].tolist() == [4, 4, 4]
    rej = report.rejected.iloc[0]
    assert rej["source_file"].endswith("events_intraday_20261103.json")
    assert (rej["source_record"], rej["reason"]) == (4, "malformed JSON")
    assert rej["raw"].endswith('"value":{"int_val')
    ign = report.ignored
    assert ign["event_name"].tolist() == ["session_start", "page_view", "user_engagement"]
    assert ign["source_record"].tolist() == [1, 2, 4]
    assert sorted(report.ignored_names()["event_name"]) == ["page_view", "session_start", "user_engagement"]
    dup = report.duplicates
    assert dup["source_file"].str.endswith("events_intraday_20261103.json").all()
    assert dup["source_record"].tolist() == [1, 2]
    assert dup["duplicate_of_file"].str.endswith("events_20261103.json").all()
    assert dup["duplicate_of_record"].tolist() == [2, 3]
    assert dup["reason"].unique().tolist() == ["same event_id"]
    assert any("100 characters" in n for n in report.notes)


def test_duplicates_warn():
    with pytest.warns(ca.DataQualityWarning, match="dropped 2 duplicate"):
        ca.read_events(GLOB)


def test_funnel_over_the_fixture():
    frame = ca.funnel(read(), steps=["triggered", "engaged", "completed"]).frame()
    # two conversations triggered; only 4471902 was engaged (70.249999 s later) and completed (139.5 s)
    assert frame["converted"].tolist() == [2, 1, 1]
    assert frame["median_seconds"].tolist()[1:] == pytest.approx([70.249999, 139.5])


def test_parquet_export_and_detection():
    path = DATA / "parquet" / "events_20261103.parquet"  # the daily 20261103 table, typed int64/double
    events = read(path)
    _check_expected_subset = EXPECTED.iloc[2:5].reset_index(drop=True).copy()
    _check_expected_subset["source_record"] = [1, 2, 3]
    got = events[list(EXPECTED.columns)].astype(object).where(events[list(EXPECTED.columns)].notna(), None)
    assert got["conversation_id"].tolist() == ["4471902"] * 3  # int64 and double 4471902.0 alike
    assert got["event_id"].tolist() == _check_expected_subset["event_id"].tolist()
    assert got["meeting_info"].tolist() == [None, MEETING, None]
    assert events["source_record"].tolist() == [1, 2, 3]
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 4,
        "events": 3,
        "rejected": 0,
        "duplicates": 0,
        "ignored": 1,
        "derived": 0,
    }
    assert report.files["source_format"].tolist() == ["ga4_bigquery"]


def test_avro_export_reads_like_the_parquet_one(tmp_path):
    avro = DATA / "avro" / "events_20261103.avro"  # the same daily table as the Parquet fixture, as Avro
    from_avro = read(avro)
    from_parquet = read(DATA / "parquet" / "events_20261103.parquet")
    columns = [c for c in ca.COLUMNS if not c.startswith("source_")]
    pd.testing.assert_frame_equal(from_avro[columns], from_parquet[columns])
    files = ca.load_report(from_avro).files
    counts = files[["source_format", "records", "events", "ignored"]].values.tolist()
    assert counts == [["ga4_bigquery", 4, 3, 1]]
    half = tmp_path / "half.avro"
    half.write_bytes(avro.read_bytes()[:900])
    with pytest.raises(ca.LoaderError, match=r"half\.avro"):
        ca.read_events(half)


def test_parquet_and_ndjson_copies_deduplicate_across_formats():
    report = ca.load_report(
        read([DATA / "events_20261103.json", DATA / "parquet" / "events_20261103.parquet"])
    )
    assert report.counts()["duplicates"] == 3


def test_gzip_and_forced_format(tmp_path):
    gz = tmp_path / "events_20261103.json.gz"
    gz.write_bytes(gzip.compress((DATA / "events_20261103.json").read_bytes()))
    events = read(gz, format="ga4_bigquery")
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_INPUT_EMAIL",
        "CONVERSATION_MEETING_BOOKED",
        "CONVERSATION_COMPLETED",
    ]
    assert read(gz)["source_format"].astype(str).unique().tolist() == ["ga4_bigquery"]


def test_action_parameter_plan():
    """One GA4 event, dynamic_chat, whose chat_action parameter names the callback (see the TOML):

    line 1 page_view -> ignored; 2 conversation_triggered (any case) -> event; 3 CONVERSATION_ENGAGED ->
    event; 4 chat_minimised -> ignored as "dynamic_chat (chat_action=chat_minimised)".
    """
    folder = DATA / "action-param"
    plan = ca.TrackingPlan.from_file(folder / "tracking-plan.toml")
    events = read(str(folder / "events_*.json"), plan=plan)
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_TRIGGERED", "CONVERSATION_ENGAGED"]
    assert events["conversation_id"].tolist() == ["4471957"] * 2
    assert events["session_id"].tolist() == ["sid-c3"] * 2
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(["2026-11-04 11:00:01", "2026-11-04 11:00:12"], utc=True)
    )
    assert events["event_id"].str.startswith("ga4:77.1793789990|").all()
    ign = ca.load_report(events).ignored
    assert ign["event_name"].tolist() == ["page_view", "dynamic_chat (chat_action=chat_minimised)"]
    # with the default plan, the same file maps nothing: the report shows the names it missed
    missed = ca.load_report(read(str(folder / "events_*.json")))
    assert missed.counts()["events"] == 0
    assert missed.ignored_names()["event_name"].tolist()[:1] == ["dynamic_chat"]


def test_mapping_by_name_or_by_action_parameter(tmp_path):
    line = {
        "event_timestamp": "1793790001000000",
        "event_name": "chat_engaged",
        "event_params": [{"key": "dc_conversation_id", "value": {"int_value": "4471902"}}],
    }
    path = tmp_path / "e.json"
    path.write_text(json.dumps(line) + "\n")
    assert len(read(path)) == 0  # unknown name, no action parameter
    plan = ca.TrackingPlan.from_dict({"ga4": {"events": {"CONVERSATION_ENGAGED": "chat_engaged"}}})
    assert read(path, plan=plan)["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED"]
    line["event_params"].append({"key": "dc_event", "value": {"string_value": "dc_conversation_closed"}})
    path.write_text(json.dumps(line) + "\n")
    assert read(path)["event_type"].astype(str).tolist() == ["CONVERSATION_CLOSED"]


def test_int_and_string_timestamps_and_rejections(tmp_path):
    lines = [
        '{"event_timestamp": 1793790001000001, "event_name": "dc_conversation_closed"}',
        '{"event_timestamp": "1793790001000002", "event_name": "dc_conversation_closed"}',
        '{"event_timestamp": "soon", "event_name": "dc_conversation_closed"}',
        '{"event_name": "dc_conversation_closed"}',
        '{"event_timestamp": null, "event_name": "dc_conversation_closed"}',
        '{"event_timestamp": "1793790001000003"}',
        '["event_timestamp"]',
        "",
        "not json",
    ]
    path = tmp_path / "e.json"
    path.write_text("\n".join(lines))
    events = read(path, format="ga4_bigquery")
    assert [t.value // 1000 for t in events["event_time_utc"]] == [1793790001000001, 1793790001000002]
    rej = ca.load_report(events).rejected
    assert list(zip(rej["source_record"], rej["reason"], strict=True)) == [
        (3, "unparseable time"),
        (4, "missing time"),
        (5, "missing time"),
        (6, "missing event name"),
        (7, "not a JSON object"),
        (9, "malformed JSON"),
    ]


def test_detection_and_unknown_format(tmp_path):
    csv = tmp_path / "export.csv"
    csv.write_text("Country,Users\nFrance,3\n")
    with pytest.raises(ca.LoaderError, match="known formats") as err:
        ca.read_events(csv)
    for name in ca.FORMATS:
        assert name in str(err.value)
    assert err.value.path == str(csv)
    avro = tmp_path / "events_20261102.avro"
    avro.write_bytes(b"Obj\x01\x04\x14avro.codec")
    with pytest.raises(ca.LoaderError, match=r"cannot read .*events_20261102\.avro as Avro") as err:
        ca.read_events(avro)
    assert err.value.path == str(avro)
    with pytest.raises(ca.InvalidParameterError, match="Did you mean 'ga4_bigquery'"):
        ca.read_events(GLOB, format="ga4_bigqery")


def test_bad_input_never_escapes_as_a_bare_error(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(ca.EmptyDataError):
        ca.read_events(empty, format="ga4_bigquery")
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff\xfe garbage\n{{{\n\xc3\x28\n")
    report = ca.load_report(read(garbage, format="ga4_bigquery"))
    assert report.counts()["rejected"] == report.counts()["records"] == 3
    capture = tmp_path / "capture.jsonl"  # the wrong format, forced
    capture.write_text('{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED"}\n')
    assert ca.load_report(read(capture, format="ga4_bigquery")).rejected["reason"].tolist() == [
        "missing time"
    ]
    half = tmp_path / "half.parquet"
    half.write_bytes((DATA / "parquet" / "events_20261103.parquet").read_bytes()[:700])
    with pytest.raises(ca.LoaderError, match=r"half\.parquet") as err:
        ca.read_events(half, format="ga4_bigquery")
    assert err.value.path == str(half)
    canonical = tmp_path / "canonical.parquet"
    read(DATA / "events_20261103.json").to_parquet(canonical)
    with pytest.raises(ca.LoaderError, match="not a GA4 BigQuery export"):
        ca.read_events(canonical, format="ga4_bigquery")


# ------------------------------------------------------------------------------------ round trip
def write_ga4_ndjson(events: pd.DataFrame, path: Path, plan: ca.TrackingPlan | None = None) -> None:
    """Write canonical events as GA4 BigQuery export rows (NDJSON, INT64 as strings), as the capture
    snippet's gtag calls arrive: one event per callback, numeric ids as int_value."""
    plan = plan or ca.TrackingPlan.default()
    names = {c: n for n, c in plan.events("ga4").items()}
    cols = plan.columns("ga4")
    frame = pd.DataFrame(
        {
            "us": events["event_time_utc"].astype("datetime64[us, UTC]").astype("int64"),
            "name": events["event_type"].astype(str).map(names),
            "constant": events["event_type"].astype(str),
            "row": range(len(events)),
            **{c: events[c].astype(object) for c in cols if c in events and c != "event_time_utc"},
            "visitor_id": events["visitor_id"].astype(object),
            "page_url": events["page_url"].astype(object),
        }
    )
    params = [
        f"{{'key': '{key}', 'value': {{'string_value': CASE WHEN NOT regexp_full_match({c}, '[0-9]+') "
        f"THEN {c} END, 'int_value': CASE WHEN regexp_full_match({c}, '[0-9]+') THEN {c} END}}}}"
        for c, key in cols.items()
        if c in frame and c not in ("visitor_id", "page_url")
    ]
    params.append("{'key': 'page_location', 'value': {'string_value': page_url, 'int_value': NULL}}")
    params.append("{'key': 'dc_event', 'value': {'string_value': constant, 'int_value': NULL}}")
    sql = f"""
    COPY (SELECT strftime(make_timestamp(us), '%Y%m%d') AS event_date, CAST(us AS VARCHAR) AS event_timestamp,
                 name AS event_name,
                 list_filter([{", ".join(params)}],
                             lambda p: coalesce(p.value.string_value, p.value.int_value) IS NOT NULL)
                   AS event_params,
                 visitor_id AS user_pseudo_id, CAST(row AS VARCHAR) AS batch_event_index
          FROM frame ORDER BY row)
    TO '{path}' (FORMAT json)"""
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(sql)
    con.close()


CARRIED = [
    "event_time_utc",
    "event_type",
    "session_id",
    "conversation_id",
    "conversation_name",
    "conversation_type",
    "ui_type",
    "agent_id",
    "agent_name",
    "meeting_info",
    "visitor_id",
    "page_url",
]


def test_round_trip_simulated_events(tmp_path):
    sim = ca.simulate(300, seed=3)
    path = tmp_path / "events_20261005.json"
    write_ga4_ndjson(sim, path)
    got = read(path)
    assert ca.load_report(got).counts()["events"] == len(sim)
    left = got[CARRIED].reset_index(drop=True)
    right = sim[CARRIED].reset_index(drop=True)
    right["event_time_utc"] = right["event_time_utc"].astype("datetime64[us, UTC]")
    pd.testing.assert_frame_equal(left, right, check_dtype=False, check_categorical=False)


# ------------------------------------------------------------------------------------ properties
VALID = (DATA / "events_20261103.json").read_text().splitlines()
GARBAGE = st.one_of(
    st.sampled_from(["{", "[1, 2]", "null", '"text"', "{}", '{"event_name": 3}', "\ufeff{", '{"a":']),
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b" ").decode("latin-1")),
    st.sampled_from(VALID).map(lambda s: s[: len(s) // 2]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.sampled_from(VALID), GARBAGE), min_size=1, max_size=12), gz=st.booleans())
def test_garbage_mixed_with_valid_lines_is_accounted_for(tmp_path, lines, gz):
    data = "\n".join(lines).encode("utf-8", "surrogateescape")
    path = tmp_path / ("e.json.gz" if gz else "e.json")
    path.write_bytes(gzip.compress(data) if gz else data)
    try:
        events = read(path, format="ga4_bigquery")
    except ca.EmptyDataError:
        assert not any(line.strip() for line in lines)
        return
    c = ca.load_report(events).counts()
    records = len(record_lines(data))
    assert c["records"] == records == c["events"] + c["rejected"] + c["duplicates"] + c["ignored"]
    valid = {line for line in lines if line in VALID}
    chat = {line for line in valid if '"user_engagement"' not in line}
    assert c["events"] == len(chat)
    ca.validate_events(events)


@pytest.mark.parametrize("first", ["PAR1", "PAR1 and some text"])
def test_an_ndjson_file_whose_first_line_starts_with_the_parquet_magic_is_read_as_ndjson(tmp_path, first):
    """Only a whole Parquet file (the magic number at both ends) not named .parquet is read as Parquet: a
    damaged first line that starts with PAR1 is one rejected record, and the other lines are read."""
    path = tmp_path / "events.json"
    path.write_text(first + "\n" + "\n".join(VALID) + "\n", encoding="utf-8")
    events = read(path, format="ga4_bigquery")
    c = ca.load_report(events).counts()
    expected = ca.load_report(read(DATA / "events_20261103.json", format="ga4_bigquery")).counts()
    assert c["records"] == expected["records"] + 1 and c["rejected"] == expected["rejected"] + 1
    assert c["events"] == expected["events"]


def test_directory_read_keeps_files_apart(tmp_path):
    for f in DATA.glob("events_*.json"):
        shutil.copy(f, tmp_path / f.name)
    assert ca.load_report(read(tmp_path)).counts() == ca.load_report(read()).counts()
