"""The contract every registered export format keeps, checked on one fixture per format.

For each format registered with ``read_events`` (so a new format is covered as soon as it is registered,
and fails here until it has a fixture):

- content detection names the format of its fixture, and the fixture reads;
- the load report adds up: records = events + rejected + duplicates + ignored, per file and in total,
  and the frame holds the events and the derived events (a Marketo Conversation Status);
- garbage bytes, a truncated copy of the fixture and an empty file are read or raise a
  ``ChatAnalyticsError``, never a raw DuckDB, pyarrow or Python error;
- switching off any field of the format's tracking-plan section (``""``) still reads, or raises a
  ``ChatAnalyticsError`` naming the problem;
- a text fixture saved in UTF-16 or UTF-32 (with its byte-order mark, as Windows PowerShell and Excel's
  "Unicode Text" write them), gzip or not, reads as the UTF-8 one;
- a CSV fixture saved again by Excel, its cells separated by tabs ("Unicode Text", UTF-16) or
  semicolons (where a comma is the decimal mark), reads as the original.

The capture and canonical Parquet fixtures are written by the tests (``capture_file``, ``parquet_file``);
the others are the hand-written files under ``tests/data``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

import chatanalytics as ca

DATA = Path(__file__).resolve().parents[1] / "data"
NY = "America/New_York"

#: Format name -> (fixture under tests/data, or a name of a generated one; read_events arguments;
#: the format's tracking-plan section or None).
FIXTURES: dict[str, tuple[str, dict[str, str], str | None]] = {
    "capture": ("<capture>", {}, None),
    "parquet": ("<parquet>", {}, None),
    "ga4_bigquery": ("ga4_bigquery/events_20261103.json", {}, "ga4"),
    "datalayer": ("datalayer/capture.ndjson", {}, "datalayer"),
    "adobe_feed": ("adobe_feed/folder/hit_data.tsv", {}, "appmeasurement"),
    "marketo_bulk": ("marketo_bulk/export-2026-11-01.csv", {}, None),
    "snowplow": ("snowplow/part-00000.tsv", {}, "snowplow"),
    "ga4_explore_csv": ("ga4_reports/explore_dynamic_chat_20261101-20261102.csv", {"timezone": NY}, "ga4"),
    "ga4_data_api": ("ga4_reports/runreport_page1.json", {"timezone": "UTC"}, "ga4"),
    "ua_csv": ("ua_csv/dynamic_chat_events_20230601-20230630.csv", {"timezone": NY}, "universal_analytics"),
    "segment": (
        "segment/segment-logs/sK7q2LdP0x/1793664000000/1793664000000.4b8e0f7e-2c1d-4e5f-9a8b-7c6d5e4f3a2b.gz",
        {},
        "segment",
    ),
    "aep_xdm": ("aep_xdm/part-00000-5d1c7e2a-c000.json", {}, "websdk"),
}

#: The capture fixture, line by line: 1 event, 2 duplicate of 1, 3 ignored (not a chat event),
#: 4 blank (no record), 5 rejected (malformed JSON), 6 event.
CAPTURE_LINES = [
    '{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_TRIGGERED", "payload": {"sid": "s1", "id": "c1"}}',
    '{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_TRIGGERED", "payload": {"sid": "s1", "id": "c1"}}',
    '{"ts": "2026-11-02T09:00:01Z", "event": "gtm.js", "payload": {"sid": "s1"}}',
    "",
    '{"ts": "2026-11-02T09:00:02Z", "event": ',
    '{"ts": "2026-11-02T09:00:03Z", "event": "CONVERSATION_ENGAGED", "payload": {"sid": "s1", "id": "c1"}}',
]

# every registered format, read from the registry when the tests are collected
REGISTERED = list(ca.FORMATS)


def read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(path, **kw)


def fixture_of(name: str, tmp_path: Path) -> tuple[Path, dict[str, str], str | None]:
    """A copy of the format's fixture in ``tmp_path`` (with the files beside it, which some formats read:
    Adobe lookups, Marketo activity types), its read arguments and its plan section."""
    if name not in FIXTURES:
        pytest.fail(f"format {name!r} is registered but has no fixture in FIXTURES of {__file__}")
    rel, kw, section = FIXTURES[name]
    if rel == "<capture>":
        path = tmp_path / "capture.jsonl"
        path.write_text("\n".join(CAPTURE_LINES) + "\n", encoding="utf-8")
        return path, kw, section
    if rel == "<parquet>":
        source = tmp_path / "source.jsonl"
        source.write_text("\n".join(CAPTURE_LINES) + "\n", encoding="utf-8")
        path = tmp_path / "events.parquet"
        read(source).to_parquet(path)
        source.unlink()
        return path, kw, section
    top = DATA / Path(rel).parts[0]
    shutil.copytree(top, tmp_path / top.name)
    return tmp_path / rel, kw, section


def assert_adds_up(events) -> None:
    report = ca.load_report(events)
    files = report.files
    parts = files["events"] + files["rejected"] + files["duplicates"] + files["ignored"]
    assert (files["records"] == parts).all(), files
    c = report.counts()
    assert c["records"] == c["events"] + c["rejected"] + c["duplicates"] + c["ignored"]
    assert c["records"] == int(files["records"].sum())
    assert (files["derived"] >= 0).all()
    assert len(events) == c["events"] + c["derived"]  # derived events are rows, but no records
    assert int(report.derived["events"].sum()) == c["derived"]
    assert len(report.rejected) == c["rejected"]
    assert len(report.duplicates) == c["duplicates"]
    assert len(report.ignored) == c["ignored"]
    ca.validate_events(events)


def read_or_explain(path: Path, **kw) -> None:
    """Read ``path``: it must either read with a report that adds up or raise a ChatAnalyticsError."""
    try:
        events = read(path, **kw)
    except ca.ChatAnalyticsError as err:
        assert str(err)
        return
    assert_adds_up(events)


@pytest.mark.parametrize("name", REGISTERED)
def test_fixture_is_detected_and_its_report_adds_up(name, tmp_path):
    path, kw, _ = fixture_of(name, tmp_path)
    events = read(path, **kw)  # no format=: detected from the content
    report = ca.load_report(events)
    assert report.files["source_format"].tolist() == [name]
    assert len(events) > 0
    assert_adds_up(events)
    forced = read(path, format=name, **kw)
    assert ca.load_report(forced).counts() == report.counts()


def test_capture_fixture_counts_worked_out_by_hand(tmp_path):
    """Lines 1 and 6 are events, 2 repeats 1, 3 is ignored, 5 is rejected; the blank line 4 is no record."""
    path, _, _ = fixture_of("capture", tmp_path)
    c = ca.load_report(read(path)).counts()
    assert (c["records"], c["events"], c["duplicates"], c["ignored"], c["rejected"]) == (5, 2, 1, 1, 1)
    p, _, _ = fixture_of("parquet", tmp_path)
    c = ca.load_report(read(p)).counts()
    assert (c["records"], c["events"], c["duplicates"], c["ignored"], c["rejected"]) == (2, 2, 0, 0, 0)


def _garbage(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(size))


@pytest.mark.parametrize("name", REGISTERED)
@pytest.mark.parametrize("damage", ["garbage", "garbage lines", "truncated", "empty"])
def test_damaged_input_reads_or_raises_only_chatanalytics_errors(name, damage, tmp_path):
    path, kw, _ = fixture_of(name, tmp_path)
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(_garbage(len(name), 3000))
    elif damage == "garbage lines":  # the fixture's first line, then lines of random bytes
        first = data.split(b"\n", 1)[0] if not data.startswith((b"\x1f\x8b", b"PAR1")) else b""
        path.write_bytes(first + b"\n" + b"\n".join(_garbage(i, 60) for i in range(20)))
    elif damage == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    else:
        path.write_bytes(b"")
    if damage == "empty":  # no records (EmptyDataError), or not even a valid file of its kind (LoaderError)
        with pytest.raises((ca.EmptyDataError, ca.LoaderError)):
            read(path, format=name, **kw)
    else:
        read_or_explain(path, format=name, **kw)


def _plan_fields() -> list[tuple[str, str]]:
    default = ca.TrackingPlan.default().to_dict()
    cases = []
    for name in REGISTERED:
        section = FIXTURES.get(name, ("", {}, None))[2]
        if section is None:
            continue
        cases += [(name, field) for field in default[section]["fields"]]
    return cases


@pytest.mark.parametrize(("name", "field"), _plan_fields())
def test_switching_a_plan_field_off_reads_or_explains(name, field, tmp_path):
    path, kw, section = fixture_of(name, tmp_path)
    assert section is not None
    try:
        plan = ca.TrackingPlan.from_dict({section: {"fields": {field: ""}}})
    except ca.ChatAnalyticsError as err:
        assert field in str(err)
        return
    read_or_explain(path, format=name, plan=plan, **kw)


def test_datalayer_reads_with_its_event_id_field_switched_off():
    """capture.json without ``dc_event_id``: the same 3 events; push 6 still repeats push 5, now by its
    type, time, session and conversation instead of its event id (issue 16: a raw BinderException)."""
    plan = ca.TrackingPlan.from_dict({"datalayer": {"fields": {"event_id": ""}}})
    events = read(DATA / "datalayer" / "capture.json", plan=plan)
    assert events["event_id"].isna().all()
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_TRIGGERED",
        "CONVERSATION_ENGAGED",
        "CONVERSATION_LIVE_CHAT_INITIATED",
    ]
    dup = ca.load_report(events).duplicates
    assert dup["source_record"].tolist() == [6]
    assert dup["duplicate_of_record"].tolist() == [5]
    assert dup["reason"].tolist() == ["same type, time, session, conversation and agent"]


#: Formats whose fixture is not UTF-8 text: canonical Parquet (binary) and the Adobe Data Feed (ISO-8859-1,
#: in which Adobe writes hit data unless a feed is set to UTF-8).
NOT_UTF8 = {"parquet", "adobe_feed"}
_WIDE = [("utf-16-le", False), ("utf-16-be", True), ("utf-32-le", False)]


def _wide_variants() -> list:
    return [
        pytest.param(name, enc, gz, id=f"{name}-{enc}{'-gz' if gz else ''}")
        for name in REGISTERED
        if name not in NOT_UTF8
        for enc, gz in _WIDE
    ]


@pytest.mark.parametrize(("name", "encoding", "gzipped"), _wide_variants())
def test_a_fixture_saved_in_utf16_or_utf32_reads_as_the_utf8_one(name, encoding, gzipped, tmp_path):
    """The fixture re-encoded (byte-order mark first) in place, or gzip-compressed beside it: detected and
    read through a UTF-8 copy, it gives the UTF-8 fixture's frame and counts, and a note that names the
    encoding and the file (never the copy)."""
    path, kw, _ = fixture_of(name, tmp_path)
    expected = read(path, **kw)
    data = path.read_bytes()
    was_gzip = data[:2] == b"\x1f\x8b"
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00"}[encoding]
    wide = bom + (gzip.decompress(data) if was_gzip else data).decode("utf-8").encode(encoding)
    if gzipped and not was_gzip:
        target = path.with_name(path.name + ".gz")
        path.unlink()
    else:
        target = path
    target.write_bytes(gzip.compress(wide) if (gzipped or was_gzip) else wide)
    got = read(target, **kw)
    pd.testing.assert_frame_equal(
        got.drop(columns="source_file"), expected.drop(columns="source_file"), check_categorical=False
    )
    assert set(got["source_file"]) == {str(target)}
    report = ca.load_report(got)
    assert report.counts() == ca.load_report(expected).counts()
    label = {"utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE", "utf-32-le": "UTF-32 LE"}[encoding]
    assert f"{target}: written in {label}" in report.notes[0]
    assert not any("chatanalytics-utf8-" in n for n in report.notes)


#: The CSV fixtures (a new CSV format is covered when its fixture is named *.csv).
CSV_FORMATS = [n for n in REGISTERED if FIXTURES.get(n, ("",))[0].endswith(".csv")]


@pytest.mark.parametrize(
    ("delimiter", "encoding"), [("\t", "utf-16"), (";", "utf-8")], ids=["tab", "semicolon"]
)
@pytest.mark.parametrize("name", CSV_FORMATS)
def test_a_csv_fixture_saved_again_by_excel_reads_as_the_original(name, delimiter, encoding, tmp_path):
    path, kw, _ = fixture_of(name, tmp_path)
    expected = read(path, **kw)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    assert delimiter in path.read_text(encoding=encoding).splitlines()[-1]
    got = read(path, **kw)  # detected
    pd.testing.assert_frame_equal(got, expected, check_categorical=False)
    assert ca.load_report(got).counts() == ca.load_report(expected).counts()


def test_the_csv_contract_covers_the_report_and_marketo_formats():
    assert set(CSV_FORMATS) >= {"ga4_explore_csv", "ua_csv", "marketo_bulk"}


def test_the_formats_left_out_of_the_utf16_contract_have_no_utf8_fixture(tmp_path):
    for name in sorted(NOT_UTF8):
        (tmp_path / name).mkdir()
        path, _, _ = fixture_of(name, tmp_path / name)
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")


def test_every_fixture_is_a_registered_format():
    assert set(FIXTURES) <= set(ca.FORMATS)
    assert json.dumps(list(ca.FORMATS)[:4]) == json.dumps(["capture", "parquet", "ga4_bigquery", "datalayer"])


_KEYS = ("event", "ts", "event_id")  # fields whose loss may change which records are events


@pytest.mark.parametrize(("name", "field"), _plan_fields())
def test_switching_a_plan_field_off_always_reads(name, field, tmp_path):
    """Every field of every format's plan section can be switched off with "": the plan is accepted, the
    fixture reads (no error at all), its report adds up, and a field other than the event, time and
    event id keys changes no record's outcome: the counts equal those of the default plan.
    """
    path, kw, section = fixture_of(name, tmp_path)
    assert section is not None
    plan = ca.TrackingPlan.from_dict({section: {"fields": {field: ""}}})
    assert plan.to_dict()[section]["fields"][field] is None
    events = read(path, format=name, plan=plan, **kw)
    assert_adds_up(events)
    if field not in _KEYS:
        baseline = ca.load_report(read(path, format=name, **kw)).counts()
        assert ca.load_report(events).counts() == baseline


#: The site-shaped fixtures, each with its plan file: (fixture, plan file, plan section, read arguments).
SITE_FIXTURES = [
    ("ga4_reports/action_site_runreport.json", "ga4_reports/action_site_api_plan.toml", "ga4", {}),
    (
        "ga4_reports/action_site_explore_20261103-20261104.csv",
        "ga4_reports/action_site_ui_plan.toml",
        "ga4",
        {"timezone": "Europe/Berlin"},
    ),
    (
        "ua_csv/dynamic_chat_hits_20230601-20230602.csv",
        "ua_csv/event_level_plan.toml",
        "universal_analytics",
        {"timezone": "Europe/Amsterdam"},
    ),
    ("datalayer/nested_chat_payload.json", "datalayer/nested_plan.toml", "datalayer", {}),
]


def _site_fields() -> list[tuple[str, str, str, dict[str, str], str]]:
    import tomllib

    cases = []
    for fixture, plan_file, section, kw in SITE_FIXTURES:
        fields = tomllib.loads((DATA / plan_file).read_text())[section]["fields"]
        cases += [(fixture, plan_file, section, kw, f) for f, key in fields.items() if key]
    return cases


@pytest.mark.parametrize(("fixture", "plan_file", "section", "kw", "field"), _site_fields())
def test_switching_a_site_plan_field_off_reads_or_names_the_dimension(fixture, plan_file, section, kw, field):
    """Each field a site's plan maps, switched off: the file reads with a report that adds up, or (an
    aggregated report left without any event or time dimension) raises a LoaderError saying which
    dimension it needs.
    """
    import tomllib

    overrides = tomllib.loads((DATA / plan_file).read_text())
    overrides[section]["fields"][field] = ""
    plan = ca.TrackingPlan.from_dict(overrides)
    try:
        events = read(DATA / fixture, plan=plan, **kw)
    except ca.LoaderError as err:
        assert field in ("event", "ts") and "dimension" in str(err)
        return
    assert_adds_up(events)


#: Formats whose fixture writes its times as text with a year (GA4's export holds microseconds, and
#: canonical Parquet typed times; tests/io/test_read_faults.py moves those).
_TEXT_TIMES = [n for n in REGISTERED if n not in ("parquet", "ga4_bigquery")]


@pytest.mark.parametrize("name", _TEXT_TIMES)
def test_a_fixture_moved_to_2263_keeps_no_event_outside_the_time_range(name, tmp_path):
    """Every year 2023-2026 in the fixture's text becomes 2263 (after pandas' nanosecond times end):
    the records that were events are rejected as ``time out of range`` (a time a format takes from
    elsewhere, such as Adobe's ``hit_time_gmt`` seconds, may still be kept), no event lies outside
    ``TIME_RANGE``, and the report adds up."""
    import gzip
    import re

    path, kw, _ = fixture_of(name, tmp_path)
    before = read(path, **kw)
    data = path.read_bytes()
    gz = data[:2] == b"\x1f\x8b"
    text = gzip.decompress(data) if gz else data
    moved = re.sub(rb"(?<![0-9])202[3-6](?=[-/]?[01][0-9])", b"2263", text)
    assert moved != text
    path.write_bytes(gzip.compress(moved) if gz else moved)
    events = read(path, **kw)
    report = ca.load_report(events)
    lo, hi = ca.schema.TIME_RANGE
    assert events["event_time_utc"].between(lo, hi).all()
    assert len(events) < len(before)
    assert (report.rejected["reason"] == "time out of range").sum() >= 1
    assert_adds_up(events)
