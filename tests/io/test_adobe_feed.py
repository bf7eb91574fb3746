"""Adobe Analytics Data Feed deliveries into canonical events.

The fixtures in tests/data/adobe_feed/ (see its README for every row) are one report suite, acmeprod, in
America/New_York (EST, UTC-5 in November 2026), written with the default tracking plan's appmeasurement
names (event1..event11, ``Dynamic Chat ...`` link names, eVar1..eVar10):

==========================================  ====================================  ===================
file:record                                 hit                                   outcome
==========================================  ====================================  ===================
folder/hit_data.tsv:1                       B page view                           ignored
folder:2                                    B event1 (200), eVar10 19:00:05.120Z  TRIGGERED, exact
folder:3                                    C chat hit, exclude_hit 4             ignored
folder:4                                    hit_source 5 (data source)            ignored
folder:5                                    B event2 (201), hit_time_gmt          ENGAGED, second
folder:6                                    B custom link "Pricing calculator..."  ignored
folder:7                                    cut after 12 of 40 fields             rejected
folder:8                                    B event6, no time                     rejected
folder:9                                    A page view, escaped LF in pagename   ignored
folder:10                                   A event1, eVar10 04:58:00.250Z        TRIGGERED, exact
folder:11 (a)                               A event2, eVar10 04:59:10.500Z        ENGAGED, exact
archive/acmeprod_2026-11-02.tar.gz          the same 11 rows, lookups nested      (same)
multifile/01-acmeprod_2026-11-03.tsv.gz:1   folder:11 again (same hit id)         duplicate of (a)
01:2                                        A page view 00:00:20 EST, persisted   ignored
01:3                                        A event6 (205), 05:00:40Z             INPUT_EMAIL, exact
01:4 (b)                                    A event7 + event3 (206,202), 05:01:05Z  MEETING_BOOKED, COMPLETED
02-acmeprod_2026-11-03.tsv.gz:1             D link name only, 15:14:59.950Z       TRIGGERED, exact
02:2                                        D event8 (207), eVar10 without offset  LIVE_CHAT_REQUESTED, second
02:3                                        D exit link                           ignored
==========================================  ====================================  ===================

(b) one event per chat event id, each a record with the row's number: 01 has 4 rows and 5 records.
folder + multifile: 19 records = 9 events + 2 rejected + 1 duplicate + 7 ignored.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import tarfile
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from chatanalytics.io import _adobe_feed
from chatanalytics.io._files import expand_paths

DATA = Path(__file__).resolve().parents[1] / "data" / "adobe_feed"
FOLDER = DATA / "folder"
ARCHIVE = DATA / "archive" / "acmeprod_2026-11-02.tar.gz"
MULTI = DATA / "multifile"
GA4 = Path(__file__).resolve().parents[1] / "data" / "ga4_bigquery" / "events_20261102.json"

B = "3028478104218357210:6917529034517852712"
A = "2951012451840315678:4611686022148903537"
D = "8842107733016529946:1152921508901814349"
TARIFS = "https://www.acme.example/fr/tarifs"
PRICING = "https://www.acme.example/pricing?utm_source=newsletter"
MEETING = '{"start":"2026-11-03T15:00:00Z","duration":30,"title":"Q\\u0026A"}'

DAY1 = pd.DataFrame(
    {
        "event_time_utc": pd.to_datetime(
            [
                "2026-11-02 19:00:05.120",  # eVar10
                "2026-11-02 19:00:41",  # hit_time_gmt 1793646041
                "2026-11-03 04:58:00.250",  # 23:58:00.250 EST
                "2026-11-03 04:59:10.500",
            ],
            utc=True,
            format="ISO8601",
        ).as_unit("us"),
        "event_type": [
            "CONVERSATION_TRIGGERED",
            "CONVERSATION_ENGAGED",
            "CONVERSATION_TRIGGERED",
            "CONVERSATION_ENGAGED",
        ],
        "session_id": ["sid-b1", "sid-b1", "sid-a1", "sid-a1"],
        "conversation_id": ["4473088", "4473088", "4471902", "4471902"],
        "conversation_name": ["Réserver une démo\tFR"] * 2 + ["Pricing page dialogue"] * 2,
        "conversation_type": ["conversational_flow"] * 2 + ["dialogue"] * 2,
        "ui_type": ["chatbot", "chatbot", "popup", "popup"],
        "agent_id": [None] * 4,
        "agent_name": [None] * 4,
        "meeting_info": [None] * 4,
        "visitor_id": [B, B, A, A],
        "page_url": [TARIFS, TARIFS, PRICING, PRICING],
        "analytics_session_id": [f"{B}:1:1793646000"] * 2 + [f"{A}:3:1793681849"] * 2,
        "event_id": [
            "adobe:4215078123409512368:7214598001234567302",
            "adobe:4215078123409512368:7214598001234567303",
            "adobe:2207713380091235677:5120379113280944102",
            "adobe:2207713380091235677:5120379113280944103",
        ],
        "time_granularity": ["exact", "second", "exact", "exact"],
        "event_count": [1, 1, 1, 1],
        "source_record": [2, 5, 10, 11],
    }
)

DAY2 = pd.DataFrame(
    {
        "event_time_utc": pd.to_datetime(
            [
                "2026-11-03 04:59:10.500",
                "2026-11-03 05:00:40",
                "2026-11-03 05:01:05",
                "2026-11-03 05:01:05",
                "2026-11-03 15:14:59.950",
                "2026-11-03 15:16:01",  # hit_time_gmt 1793718961: eVar10 has no offset
            ],
            utc=True,
            format="ISO8601",
        ).as_unit("us"),
        "event_type": [
            "CONVERSATION_ENGAGED",
            "CONVERSATION_INPUT_EMAIL",
            "CONVERSATION_MEETING_BOOKED",
            "CONVERSATION_COMPLETED",
            "CONVERSATION_TRIGGERED",
            "CONVERSATION_LIVE_CHAT_REQUESTED",
        ],
        "session_id": ["sid-a1"] * 4 + ["sid-d1"] * 2,
        "conversation_id": ["4471902"] * 4 + ["4473088"] * 2,
        "conversation_name": ["Pricing page dialogue"] * 4 + ["Book a demo"] * 2,
        "conversation_type": ["dialogue"] * 4 + ["conversational_flow"] * 2,
        "ui_type": ["popup"] * 4 + ["inline"] * 2,
        "agent_id": [None, None, "9001", "9001", None, None],
        "agent_name": [None, None, "Dana Agent <[redacted]>", "Dana Agent <[redacted]>", None, None],
        "meeting_info": [None, None, MEETING, MEETING, None, None],
        "visitor_id": [A] * 4 + [D] * 2,
        "page_url": [PRICING] + [PRICING + "&step=2"] * 3 + ["https://www.acme.example/demo"] * 2,
        "analytics_session_id": [f"{A}:3:1793681849"] * 4 + [f"{D}:1:1793718900"] * 2,
        "event_id": [
            "adobe:2207713380091235677:5120379113280944103",
            "adobe:2207713380091235677:5120379113280944105",
            "adobe:2207713380091235677:5120379113280944106:206",
            "adobe:2207713380091235677:5120379113280944106:202",
            "adobe:6011830026549197346:2899137410755332017",
            "adobe:6011830026549197346:2899137410755332018",
        ],
        "time_granularity": ["exact", "exact", "exact", "exact", "exact", "second"],
        "event_count": [1] * 6,
        "source_record": [1, 3, 4, 4, 1, 2],
    }
)


def read(paths, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(paths, **kw)


def check_frame(events: pd.DataFrame, want: pd.DataFrame) -> None:
    ca.validate_events(events)
    got = events[list(want.columns)].reset_index(drop=True)
    want = want.copy()
    for frame in (got, want):
        for c in frame.columns:
            if c not in ("event_time_utc", "source_record", "event_count"):
                frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
        frame["source_record"] = frame["source_record"].astype(int)
        frame["event_count"] = frame["event_count"].astype(int)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def pairs(frame: pd.DataFrame, column: str) -> list[tuple[int, str]]:
    return list(zip(frame["source_record"].astype(int), frame[column], strict=True))


# ----------------------------------------------------------------------------------------- fixtures
def test_folder_delivery():
    events = read(FOLDER)
    check_frame(events, DAY1)
    assert set(events["source_format"].astype(str)) == {"adobe_feed"}
    assert events["source_file"].str.endswith("folder/hit_data.tsv").all()
    report = ca.load_report(events)
    assert report.files["records"].tolist() == [11]
    assert report.counts() == {
        "records": 11,
        "events": 4,
        "rejected": 2,
        "duplicates": 0,
        "ignored": 5,
        "derived": 0,
    }
    assert pairs(report.rejected, "reason") == [
        (7, "wrong number of fields (expected 40, found 12)"),
        (8, "missing time"),
    ]
    assert report.rejected["raw"].iloc[0].startswith("fr-FR,fr;q=0.9\t1182\t71\t2026-11-02 14:03:10\t")
    assert report.rejected["raw"].iloc[1] == (  # the columns read, for a row rejected on its content
        "hit_time_gmt=\thitid_high=4215078123409512368\thitid_low=7214598001234567306\t"
        "post_event_list=205,100,101,102,103,104,105\tpage_event_var2=Dynamic Chat Email Input"
    )
    assert pairs(report.ignored, "event_name") == [
        (1, "page view"),
        (3, "exclude_hit=4"),
        (4, "data source hit (hit_source=5)"),
        (6, "Pricing calculator: open"),
        (9, "page view"),
    ]


def test_archive_holds_the_same_day():
    events = read(ARCHIVE)
    check_frame(events, DAY1)
    assert events["source_file"].str.endswith("acmeprod_2026-11-02.tar.gz").all()
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 11,
        "events": 4,
        "rejected": 2,
        "duplicates": 0,
        "ignored": 5,
        "derived": 0,
    }
    assert pairs(report.rejected, "reason") == [
        (7, "wrong number of fields (expected 40, found 12)"),
        (8, "missing time"),
    ]
    assert not any("Record-Count" in n for n in report.notes)  # the manifest's 11 rows were read


def test_multifile_delivery_with_its_lookup_archive():
    events = read(MULTI)
    check_frame(events, DAY2)
    report = ca.load_report(events)
    files = report.files
    assert [Path(f).name for f in files["source_file"]] == [
        "01-acmeprod_2026-11-03.tsv.gz",
        "02-acmeprod_2026-11-03.tsv.gz",
    ]
    assert files["records"].tolist() == [5, 3]  # 4 + 3 rows; 01:4 holds two chat events
    assert files["events"].tolist() == [4, 2]
    assert files["ignored"].tolist() == [1, 1]
    assert report.ignored["event_name"].tolist() == ["page view", "exit link"]
    assert any("1 row(s) carried several chat events" in n for n in report.notes)


def test_redelivered_hit_is_a_duplicate_and_every_record_is_accounted_for():
    events = read([FOLDER, MULTI])
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 19,
        "events": 9,
        "rejected": 2,
        "duplicates": 1,
        "ignored": 7,
        "derived": 0,
    }
    for row in report.files.itertuples():
        assert row.records == row.events + row.rejected + row.duplicates + row.ignored
    dup = report.duplicates
    assert dup["source_file"].str.endswith("01-acmeprod_2026-11-03.tsv.gz").tolist() == [True]
    assert dup["source_record"].tolist() == [1]
    assert dup["duplicate_of_file"].str.endswith("folder/hit_data.tsv").tolist() == [True]
    assert dup["duplicate_of_record"].tolist() == [11]
    assert dup["reason"].tolist() == ["same event_id"]
    expected = pd.concat([DAY1, DAY2.iloc[1:]], ignore_index=True)
    check_frame(events, expected)


def test_a_folder_of_deliveries_reads_hit_data_only():
    files, _ = expand_paths(DATA)
    assert [p.relative_to(DATA).as_posix() for p in files] == [
        "archive/acmeprod_2026-11-02.tar.gz",
        "folder/hit_data.tsv",
        "multifile/01-acmeprod_2026-11-03.tsv.gz",
        "multifile/02-acmeprod_2026-11-03.tsv.gz",
    ]
    report = ca.load_report(read(DATA))
    assert set(report.files["source_format"]) == {"adobe_feed"}
    # the archive is read first, so the folder's four events repeat it
    assert report.files["duplicates"].tolist() == [0, 4, 1, 0]
    assert report.counts()["events"] == 4 + 5


def test_directories_without_a_feed_are_listed_as_before(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n")
    (tmp_path / "b.tsv").write_text("x\ty\n")
    (tmp_path / "c.tar.gz").write_bytes(b"")
    files, _ = expand_paths(tmp_path)
    assert [p.name for p in files] == ["a.jsonl", "b.tsv", "c.tar.gz"]


def test_privacy_no_email_reaches_the_frame():
    events = read([FOLDER, MULTI])
    for column in events.columns:
        if events[column].dtype == "string":
            assert not events[column].str.contains("@", regex=False).fillna(False).any(), column
    assert ca.load_report(events).notes[-1] == "agent_name: contact details redacted in 2 row(s)"


# ----------------------------------------------------------------------------------------- mapping
def test_event_tsv_names_the_ids(tmp_path):
    """event.tsv says 201 is Custom Event 9 (event9, LIVE_CHAT_INITIATED): it wins over the numbering."""
    for f in FOLDER.iterdir():
        shutil.copy(f, tmp_path / f.name)
    lookup = (tmp_path / "event.tsv").read_text().replace("201\tCustom Event 2", "201\tCustom Event 9")
    (tmp_path / "event.tsv").write_text(lookup)
    events = read(tmp_path)
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_TRIGGERED",
        "CONVERSATION_LIVE_CHAT_INITIATED",
        "CONVERSATION_TRIGGERED",
        "CONVERSATION_LIVE_CHAT_INITIATED",
    ]
    (tmp_path / "event.tsv").unlink()  # no lookup: Adobe's numbering, 201 is event2
    assert read(tmp_path)["event_type"].astype(str).tolist() == DAY1["event_type"].tolist()


def test_event_numbering():
    assert [_adobe_feed.documented_event_id(n) for n in (1, 11, 100, 101, 1000)] == [
        200,
        210,
        299,
        20100,
        20999,
    ]
    assert [
        _adobe_feed.custom_event_number(n)
        for n in ("Custom Event 1", "event12", "Chat engaged (event2)", "Instance of eVar1", "Purchase")
    ] == [1, 12, 2, None, None]


MINIMAL_HEADERS = (
    "hitid_high\thitid_low\tpost_page_event\tpage_event_var2\tpost_evar1\tpost_evar3\thit_time_gmt\n"
)


def minimal_feed(folder: Path, rows: list[str]) -> Path:
    """A feed with only a few columns (no post_event_list: link names decide)."""
    folder.mkdir()
    (folder / "column_headers.tsv").write_text(MINIMAL_HEADERS)
    (folder / "hit_data.tsv").write_bytes("".join(r + "\n" for r in rows).encode("latin-1"))
    return folder


def test_shared_link_name_is_decided_by_the_action_evar(tmp_path):
    """All 11 callbacks sent with the link name "Dynamic Chat": eVar1 names the event type."""
    plan = ca.TrackingPlan.from_dict(
        {"appmeasurement": {"link_names": dict.fromkeys(ca.EVENT_TYPES, "Dynamic Chat")}}
    )
    folder = minimal_feed(
        tmp_path / "f",
        [
            "1\t1\t100\tDynamic Chat\tCONVERSATION_ENGAGED\tDemo\rflow\t1793646000",
            "1\t2\t100\tdynamic chat\tconversation_triggered\tDemo\t1793646001",
            "1\t3\t100\tDynamic Chat\t\tDemo\t1793646002",
            "1\t4\t100\tDynamic Chat\tchat_minimised\tDemo\t1793646003",
            "1\t5\t0\t\tCONVERSATION_ENGAGED\tDemo\t1793646004",
        ],
    )
    events = read(folder, plan=plan)
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED", "CONVERSATION_TRIGGERED"]
    assert events["conversation_name"].tolist() == ["Demo\rflow", "Demo"]  # a raw CR stays in its value
    assert events["event_id"].tolist() == ["adobe:1:1", "adobe:1:2"]
    assert events["visitor_id"].isna().all() and events["page_url"].isna().all()
    report = ca.load_report(events)
    assert pairs(report.ignored, "event_name") == [
        (3, "Dynamic Chat"),
        (4, "Dynamic Chat (eVar1=chat_minimised)"),
        (5, "page view"),
    ]
    assert report.notes[0].endswith(
        "hit_data.tsv: the feed has no column for eVar2, eVar4, eVar5, eVar6, eVar7, eVar8, eVar9, eVar10 "
        "(tracking plan 'appmeasurement' fields); those values are empty"
    )


def test_times_and_rejections(tmp_path):
    folder = minimal_feed(
        tmp_path / "f",
        [
            "1\t1\t100\tDynamic Chat Conversation Closed\t\t\t1793646000",
            "1\t2\t100\tDynamic Chat Conversation Closed\t\t\tsoon",
            "1\t3\t100\tDynamic Chat Conversation Closed\t\t\t",
            "1\t4\t100\tDynamic Chat Conversation Closed\t\t\t-5",
            "1\t5\t0\t\t\t\t",
            "",
            "1\t6\t100\tDynamic Chat Conversation Closed\t\t\t1793646009\textra",
            "1\t7\t100",
        ],
    )
    events = read(folder)
    assert events["event_time_utc"].tolist() == [pd.Timestamp("2026-11-02 19:00:00", tz="UTC")]
    assert events["time_granularity"].astype(str).tolist() == ["second"]
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 7,
        "events": 1,
        "rejected": 6,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }
    assert pairs(report.rejected, "reason") == [
        (2, "unparseable time"),
        (3, "missing time"),
        (4, "unparseable time"),
        (5, "missing time"),
        (6, "wrong number of fields (expected 7, found 8)"),
        (7, "wrong number of fields (expected 7, found 3)"),
    ]


def test_manifest_record_count_is_checked(tmp_path):
    for f in MULTI.iterdir():
        shutil.copy(f, tmp_path / f.name)
    manifest = tmp_path / "acmeprod_2026-11-03.txt"
    manifest.write_text(manifest.read_text().replace("Record-Count: 3", "Record-Count: 5"))
    notes = ca.load_report(read(tmp_path)).notes
    mismatched = [n for n in notes if "Record-Count" in n]
    assert len(mismatched) == 1
    assert "02-acmeprod_2026-11-03.tsv.gz" in mismatched[0] and "Record-Count 5" in mismatched[0]


# ----------------------------------------------------------------------------------------- detection
def test_detection():
    assert _adobe_feed.sniff(FOLDER / "hit_data.tsv", b"x\ty\n") == "adobe_feed"
    assert _adobe_feed.sniff(MULTI / "02-acmeprod_2026-11-03.tsv.gz", b"") == "adobe_feed"
    head = gzip.decompress(ARCHIVE.read_bytes())[:4096]
    assert _adobe_feed.sniff(ARCHIVE, head) == "adobe_feed"
    lookup = MULTI / "acmeprod_2026-11-03-lookup_data.tar.gz"
    assert _adobe_feed.sniff(lookup, gzip.decompress(lookup.read_bytes())[:4096]) is None
    # any other .tsv is a Data Feed only beside column_headers.tsv and with as many fields
    assert _adobe_feed.sniff(FOLDER / "part-0001.tsv", b"a\t" * 39 + b"b\n") == "adobe_feed"
    assert _adobe_feed.sniff(FOLDER / "part-0001.tsv", b"a\tb\tc\n") is None
    assert _adobe_feed.sniff(FOLDER / "event.tsv", b"200\tCustom Event 1\n") is None
    assert _adobe_feed.sniff(DATA.parent / "ga4_bigquery" / "x.tsv", b"a\t" * 39 + b"b\n") is None
    assert _adobe_feed.sniff(GA4, GA4.read_bytes()[:4096]) is None


def test_renamed_hit_data_beside_its_headers(tmp_path):
    for f in FOLDER.iterdir():
        shutil.copy(f, tmp_path / f.name)
    renamed = tmp_path / "day-2026-11-02.tsv"
    (tmp_path / "hit_data.tsv").rename(renamed)
    check_frame(read(renamed), DAY1)  # named explicitly: a folder read takes hit_data*.tsv only
    with pytest.raises(ca.LoaderError, match="holds no event files"):
        read(tmp_path)


# ----------------------------------------------------------------------------------------- bad input
def test_hit_data_without_column_headers(tmp_path):
    shutil.copy(FOLDER / "hit_data.tsv", tmp_path / "hit_data.tsv")
    with pytest.raises(ca.LoaderError, match=r"column_headers\.tsv") as err:
        ca.read_events(tmp_path)
    assert err.value.path == str(tmp_path / "hit_data.tsv")
    assert "no header row" in str(err.value)


def test_truncated_archive(tmp_path):
    data = ARCHIVE.read_bytes()
    cut = tmp_path / "acmeprod_2026-11-02.tar.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ca.LoaderError, match=r"acmeprod_2026-11-02\.tar\.gz.*truncated") as err:
        ca.read_events(cut)
    assert err.value.path == str(cut)
    with pytest.raises(ca.LoaderError, match=r"acmeprod_2026-11-02\.tar\.gz"):
        ca.read_events(cut, format="adobe_feed")
    cut.write_bytes(gzip.decompress(data)[:3000])  # an uncompressed tar cut inside hit_data.tsv
    with pytest.raises(ca.LoaderError, match=r"acmeprod_2026-11-02\.tar\.gz"):
        ca.read_events(cut)


def test_archives_that_are_not_deliveries(tmp_path):
    lookup = MULTI / "acmeprod_2026-11-03-lookup_data.tar.gz"
    with pytest.raises(ca.LoaderError, match=r"holds no hit_data\.tsv"):
        ca.read_events(lookup, format="adobe_feed")
    with pytest.raises(ca.LoaderError, match="cannot tell the format"):
        ca.read_events(lookup)
    bare = tmp_path / "acmeprod_2026-11-02.tar.gz"  # hit data without any column headers
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("hit_data.tsv")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"a\tb\n"))
    bare.write_bytes(buf.getvalue())
    with pytest.raises(ca.LoaderError, match="column_headers"):
        ca.read_events(bare)


def test_garbage_wrong_format_and_empty_file(tmp_path):
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\xff\xfe garbage\n{{{\n\xc3\x28\n")
    with pytest.raises(ca.LoaderError, match=r"garbage\.bin"):
        ca.read_events(garbage, format="adobe_feed")
    with pytest.raises(ca.LoaderError, match=r"events_20261102\.json"):
        ca.read_events(GA4, format="adobe_feed")
    corrupt = tmp_path / "01-acmeprod_2026-11-03.tsv.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00garbage after the gzip magic")
    shutil.copy(FOLDER / "column_headers.tsv", tmp_path / "column_headers.tsv")
    with pytest.raises(ca.LoaderError, match=r"01-acmeprod_2026-11-03\.tsv\.gz"):
        ca.read_events(corrupt)
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(FOLDER / "column_headers.tsv", empty / "column_headers.tsv")
    (empty / "hit_data.tsv").write_bytes(b"")
    with pytest.raises(ca.EmptyDataError):
        ca.read_events(empty)
    report = ca.load_report(read([empty, MULTI]))
    assert report.files["records"].tolist() == [0, 5, 3]
    # garbage rows beside real column headers are rejected one by one, never fatal
    rows = tmp_path / "rows"
    rows.mkdir()
    shutil.copy(FOLDER / "column_headers.tsv", rows / "column_headers.tsv")
    (rows / "hit_data.tsv").write_bytes(garbage.read_bytes())
    report = ca.load_report(read(rows))
    assert report.counts()["rejected"] == report.counts()["records"] == 3


# ----------------------------------------------------------------------------------------- property
HEADERS = (FOLDER / "column_headers.tsv").read_bytes()
EVENTS = (FOLDER / "event.tsv").read_bytes()
ROWS = re.split(rb"(?<!\\)\n", (FOLDER / "hit_data.tsv").read_bytes())[:-1]  # rows, not lines
NOISE = st.binary(max_size=6) | st.sampled_from([b"\t", b"\\", b"\\\t", b"\r", b"\n", b"\xe9", b",", b"\\\\"])


@st.composite
def hit_rows(draw):
    row = draw(st.sampled_from(ROWS))
    kind = draw(st.sampled_from(["keep", "keep", "cut", "insert", "garbage"]))
    if kind == "cut":
        row = row[: draw(st.integers(0, len(row)))]
    elif kind == "insert":
        at = draw(st.integers(0, len(row)))
        row = row[:at] + draw(NOISE) + row[at:]
    elif kind == "garbage":
        row = draw(st.binary(max_size=60))
    return row


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(hit_rows(), max_size=14), gz=st.booleans(), tail=st.booleans())
def test_mutated_hit_data_is_accounted_for(tmp_path_factory, rows, gz, tail):
    folder = tmp_path_factory.mktemp("feed")
    (folder / "column_headers.tsv").write_bytes(HEADERS)
    (folder / "event.tsv").write_bytes(EVENTS)
    data = b"\n".join(rows) + (b"\n" if tail and rows else b"")
    name = "hit_data.tsv.gz" if gz else "hit_data.tsv"
    (folder / name).write_bytes(gzip.compress(data) if gz else data)
    try:
        events = read(folder)
    except ca.EmptyDataError:
        assert not data.replace(b"\n", b"")  # only empty rows
        return
    except ca.ChatAnalyticsError:
        return
    ca.validate_events(events)
    report = ca.load_report(events)
    for row in report.files.itertuples():
        assert row.records == row.events + row.rejected + row.duplicates + row.ignored
    lines = data.count(b"\n") + 1
    assert report.rejected["source_record"].between(1, lines).all()
    assert events["source_record"].between(1, lines).all()
    assert report.files["source_format"].tolist() == ["adobe_feed"]


# ----------------------------------------------------------------------------------------- zip deliveries
def _zip(path: Path, members: list[str]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in members:
            zf.write(FOLDER / name, name)
    return path


def test_zip_delivery_holds_the_same_day(tmp_path):
    """A delivery compressed as zip (hit data and lookups in one .zip) reads as the folder does: the same
    4 events, 2 rejected and 5 ignored of 11 records, numbered by their row in the hit data.
    """
    path = _zip(
        tmp_path / "acmeprod_2026-11-02.zip",
        ["hit_data.tsv", "column_headers.tsv", "event.tsv", "browser.tsv"],
    )
    events = read(path)  # detected from the content
    check_frame(events, DAY1)
    report = ca.load_report(events)
    assert report.files["source_format"].tolist() == ["adobe_feed"]
    assert report.counts() == {
        "records": 11,
        "events": 4,
        "rejected": 2,
        "duplicates": 0,
        "ignored": 5,
        "derived": 0,
    }
    assert pairs(report.rejected, "reason") == [
        (7, "wrong number of fields (expected 40, found 12)"),
        (8, "missing time"),
    ]


def test_zip_with_lookups_beside_it_and_broken_zips(tmp_path):
    """Hit data alone in the zip takes the lookups beside it; a zip without them, one without hit data and
    a truncated one raise LoaderErrors that say so."""
    alone = tmp_path / "alone"
    alone.mkdir()
    with pytest.raises(ca.LoaderError, match="column_headers"):
        read(_zip(alone / "acmeprod_2026-11-02.zip", ["hit_data.tsv"]), format="adobe_feed")
    for name in ("column_headers.tsv", "event.tsv"):
        (alone / name).write_bytes((FOLDER / name).read_bytes())
    check_frame(read(alone / "acmeprod_2026-11-02.zip"), DAY1)
    with pytest.raises(ca.LoaderError, match=r"holds no hit_data\.tsv"):
        read(_zip(tmp_path / "lookups.zip", ["column_headers.tsv"]), format="adobe_feed")
    whole = _zip(tmp_path / "whole.zip", ["hit_data.tsv", "column_headers.tsv", "event.tsv"]).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ca.LoaderError, match="truncated or corrupt"):
        read(cut, format="adobe_feed")


def test_a_folder_reads_its_zip_deliveries_and_notes_other_zips(tmp_path):
    """A zip delivery in a folder is read as when named alone; a zip without hit data is skipped with a
    note naming it, and a damaged zip is handed to the reader, which says what is wrong with it."""
    import zipfile

    folder = tmp_path / "feeds"
    folder.mkdir()
    _zip(
        folder / "acmeprod_2026-11-02.ZIP", ["hit_data.tsv", "column_headers.tsv", "event.tsv", "browser.tsv"]
    )
    with zipfile.ZipFile(folder / "screenshots.zip", "w") as zf:
        zf.writestr("dashboard.png", b"\x89PNG not an export")
    events = read(folder)
    check_frame(events, DAY1)
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 11,
        "events": 4,
        "rejected": 2,
        "duplicates": 0,
        "ignored": 5,
        "derived": 0,
    }
    skipped = [n for n in report.notes if "screenshots.zip" in n]
    assert len(skipped) == 1 and "without hit_data.tsv" in skipped[0]
    whole = (folder / "acmeprod_2026-11-02.ZIP").read_bytes()
    (folder / "acmeprod_2026-11-03.zip").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ca.LoaderError, match="truncated or corrupt"):
        read(folder)
