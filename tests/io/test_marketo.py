"""Marketo Engage Bulk Activity Extract (CSV, TSV, SSV) into canonical events.

The fixtures in tests/data/marketo_bulk/ (see its README) follow the documented export layout, with the
activity types of activities/types.json (ids 1, 2 and 100401-100409, synthetic):

===============================  ================  =======================================  ===========
file:line                        marketoGUID       activity                                 outcome
===============================  ================  =======================================  ===========
export-2026-11-01.csv:2          783960001         Visit Webpage                            ignored
export-2026-11-01.csv:3 (a)      783960002         Engaged with a Dialogue                  event (+1)
export-2026-11-01.csv:4 (b)      783960003         Engaged with an Agent in Dialogue        event
export-2026-11-01.csv:5 (c)      783960004         Scheduled Meeting in Dialogue            event
export-2026-11-01.csv:6          783960005         Reached Dialogue Goal                    ignored
export-2026-11-01.csv:7 (d)      783960006         Engaged with a Conversational Flow       event
export-2026-11-01.csv:8          783960007         (activityDate 2026-11-31)                rejected
export-2026-11-01.csv:9          783960008         Interacted with Document in Dialogue     ignored
export-2026-11-02.csv:2          783960006         (the same activity, overlapping window)  duplicate
export-2026-11-02.csv:3 (e)      783960009         Engaged with an Agent in Conv. Flow      event
export-2026-11-02.csv:4 (f)      783960010         Scheduled Meeting in Conv. Flow          event
export-2026-11-02.csv:5          783960011         Fill Out Form                            ignored
===============================  ================  =======================================  ===========

(a) lead 5414087, dialogue 7701 "Pricing page dialogue" (primaryAttributeValueId / attribute Dialogue
Name); its Conversation Status "Completed" also gives a derived CONVERSATION_COMPLETED (event_id
``marketo:783960002:status``, record 3), which follows the first file's events in the frame. (b) agent
9001 Dana Agent; its Page URL carries the visitor's email address, its Agent Email the agent's: neither
reaches the frame. (c) Scheduled For 2026-11-04T15:00:00Z, status Scheduled. (d) lead
6120033, flow 8802 "Demo request flow" (attribute Conversational Flow ID), UI Type Chatbot, 23:59:58 on
Nov 2; (e) and (f) follow after midnight. The second file has list-form attributes, ``+0000`` offsets and
an ``actionResult`` column.

12 records = 6 events + 1 rejected + 1 duplicate + 4 ignored; the frame holds 6 + 1 derived rows.

The Conversation Status fixture, status/export-2026-11-20.csv (headers renamed by the site, the
attribute spelt three ways; types.json from the parent's activities/), all on 2026-11-20:

====  =========  =======  ===================================  ============================  ===========
line  GUID       lead     activity (time)                      Conversation Status           outcome
====  =========  =======  ===================================  ============================  ===========
2     783960201  5500101  Engaged with a Dialogue (10:00)      ``conversationStatus``        event + COMPLETED
                                                               " completed "
3     783960202  5500102  Engaged with a Conv. Flow (10:05)    ``Conversation_Status``       event + CLOSED
                                                               "DROPPED"
4     783960203  5500103  Engaged with a Dialogue (10:10)      "Initiated"                   event
5     783960204  5500104  Engaged with a Dialogue (10:15)      none (only ``Status``)        event
6     783960205  5500105  Engaged with a Dialogue (10:20)      "Abandoned"                   event, noted
7     783960206  5500101  Scheduled Meeting in Dialogue        "Completed" (not engaged)     event
                          (10:25)
8     783960207  5500106  Engaged with a Dialogue (10:30)      "" (empty)                    event
9     783960208  5500107  Engaged with a Dialogue (10:35)      "Abandoned"                   event, noted
10    783960209  5500101  Visit Webpage (10:40)                                              ignored
11    783960210  5500108  Engaged with a Dialogue (Nov 31)     "Completed"                   rejected
====  =========  =======  ===================================  ============================  ===========

10 records = 8 events + 1 rejected + 0 duplicates + 1 ignored, and 2 derived events (lines 2 and 3):
the frame holds 10 rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from chatanalytics.io import _marketo

DATA = Path(__file__).resolve().parents[1] / "data" / "marketo_bulk"
FIRST = DATA / "export-2026-11-01.csv"
SECOND = DATA / "export-2026-11-02.csv"
TSV = DATA / "tsv" / "export-2026-11-01.tsv"
RENAMED = DATA / "renamed" / "export-2026-11-10.csv"
TYPES = DATA / "activities" / "types.json"
HEADER = (
    "marketoGUID,leadId,activityDate,activityTypeId,campaignId,primaryAttributeValueId,"
    "primaryAttributeValue,attributes"
)
PRICING = "Pricing page dialogue"
DEMO = "Demo request flow"

EXPECTED = pd.DataFrame(
    {
        "event_time_utc": pd.to_datetime(
            [
                "2026-11-01 09:16:40",
                "2026-11-01 09:18:05",
                "2026-11-01 09:25:30",
                "2026-11-02 23:59:58",
                "2026-11-01 09:16:40",
                "2026-11-03 00:00:40",
                "2026-11-03 00:05:12",
            ],
            utc=True,
        ).as_unit("us"),
        "event_type": [
            "CONVERSATION_ENGAGED",
            "CONVERSATION_LIVE_CHAT_INITIATED",
            "CONVERSATION_MEETING_BOOKED",
            "CONVERSATION_ENGAGED",
            "CONVERSATION_COMPLETED",
            "CONVERSATION_LIVE_CHAT_INITIATED",
            "CONVERSATION_MEETING_BOOKED",
        ],
        "session_id": [None] * 7,
        "conversation_id": ["7701"] * 3 + ["8802", "7701", "8802", "8802"],
        "conversation_name": [PRICING] * 3 + [DEMO, PRICING, DEMO, DEMO],
        "conversation_type": ["dialogue"] * 3
        + ["conversational_flow", "dialogue"]
        + ["conversational_flow"] * 2,
        "ui_type": [None, None, None, "chatbot", None, None, None],
        "agent_id": [None, "9001", None, None, None, "9002", None],
        "agent_name": [None, "Dana Agent", "Dana Agent", None, None, "Sam Rivera", "Sam Rivera"],
        "meeting_info": [
            None,
            None,
            '{"scheduledFor":"2026-11-04T15:00:00Z","status":"Scheduled"}',
            None,
            None,
            None,
            '{"scheduledFor":"2026-11-05T10:30:00Z"}',
        ],
        "visitor_id": ["5414087"] * 3 + ["6120033", "5414087", "6120033", "6120033"],
        "page_url": [
            "https://www.example.com/pricing?utm_source=ads",
            "https://www.example.com/pricing?email=[redacted]",
            "https://www.example.com/pricing",
            "https://www.example.com/demo",
            "https://www.example.com/pricing?utm_source=ads",
            "https://www.example.com/demo",
            None,
        ],
        "analytics_session_id": [None] * 7,
        "event_id": [
            "marketo:783960002",
            "marketo:783960003",
            "marketo:783960004",
            "marketo:783960006",
            "marketo:783960002:status",
            "marketo:783960009",
            "marketo:783960010",
        ],
        "event_count": [1] * 7,
        "time_granularity": ["second"] * 7,
        "source_record": [3, 4, 5, 7, 3, 3, 4],
    }
)


def read(paths, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(paths, warn=False, **kw)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    for c in out.columns:
        if c not in ("event_time_utc", "source_record", "event_count"):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    for c in ("source_record", "event_count"):
        if c in out:
            out[c] = out[c].astype(int)
    return out


def _check(events: pd.DataFrame, want: pd.DataFrame) -> None:
    ca.validate_events(events)
    pd.testing.assert_frame_equal(_plain(events[list(want.columns)]), _plain(want), check_dtype=False)


def _write(folder: Path, name: str, lines: list[str], *, types: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if types:
        (folder / "activities").mkdir(exist_ok=True)
        shutil.copy(TYPES, folder / "activities" / "types.json")
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(guid, date, type_id, attrs="null", lead="5414087", pav_id="7701", pav=PRICING) -> str:
    attr = attrs if attrs == "null" else '"' + json.dumps(attrs).replace('"', '""') + '"'
    return f"{guid},{lead},{date},{type_id},null,{pav_id},{pav},{attr}"


# ------------------------------------------------------------------------------------ fixtures
def test_fixture_rows_worked_out_by_hand():
    events = read([FIRST, SECOND])
    _check(events, EXPECTED)
    assert set(events["source_format"].astype(str)) == {"marketo_bulk"}
    assert events["source_file"].str.endswith(("export-2026-11-01.csv", "export-2026-11-02.csv")).all()


def test_load_report_accounts_for_every_record():
    report = ca.load_report(read([FIRST, SECOND]))
    assert report.counts() == {
        "records": 12,
        "events": 6,
        "rejected": 1,
        "duplicates": 1,
        "ignored": 4,
        "derived": 1,
    }
    files = report.files
    assert files["records"].tolist() == [8, 4]
    assert files["derived"].tolist() == [1, 0]
    assert (files["events"] + files["rejected"] + files["duplicates"] + files["ignored"]).tolist() == [8, 4]
    rej = report.rejected
    assert list(zip(rej["source_record"], rej["reason"], strict=True)) == [(8, "unparseable time")]
    assert rej["raw"].iloc[0].startswith("783960007,6120033,2026-11-31T10:00:00Z,100404,")
    ign = report.ignored
    assert ign["event_name"].tolist() == [
        "Visit Webpage",
        "Reached Dialogue Goal",
        "Interacted with Document in Dialogue",
        "Fill Out Form",
    ]
    assert ign["source_record"].tolist() == [2, 6, 9, 5]
    dup = report.duplicates
    assert dup["source_file"].str.endswith("export-2026-11-02.csv").all()
    assert dup["source_record"].tolist() == [2]
    assert dup["duplicate_of_file"].str.endswith("export-2026-11-01.csv").all()
    assert dup["duplicate_of_record"].tolist() == [7]
    assert dup["reason"].tolist() == ["same event_id"]
    assert dup["event_id"].tolist() == ["marketo:783960006"]
    assert any(str(TYPES) in n for n in report.notes)


def test_tsv_export_reads_like_the_csv_and_repeats_it():
    tsv = read(TSV)
    _check(tsv, EXPECTED.iloc[:5])
    both = ca.load_report(read([FIRST, TSV]))
    # the TSV holds the same activities: its 4 events are duplicates, the rest is reported again; its
    # derived CONVERSATION_COMPLETED repeats the first file's and is dropped, counted nowhere
    assert both.files["duplicates"].tolist() == [0, 4]
    assert both.files["derived"].tolist() == [1, 0]
    assert both.counts() == {
        "records": 16,
        "events": 4,
        "rejected": 2,
        "duplicates": 4,
        "ignored": 6,
        "derived": 1,
    }


def test_renamed_header_and_semicolon_delimiter():
    """columnHeaderNames gave "Activity GUID", "Lead ID", ...; fields left out campaignId; SSV with ';'
    (a primary attribute value holding ';' is quoted)."""
    events = read(RENAMED)
    want = pd.DataFrame(
        {
            "event_time_utc": pd.to_datetime(["2026-11-10 14:00:00", "2026-11-10 14:02:30"], utc=True),
            "event_type": ["CONVERSATION_ENGAGED", "CONVERSATION_LIVE_CHAT_INITIATED"],
            "conversation_id": ["8803", "8803"],
            "conversation_name": ["Pricing; EMEA flow"] * 2,
            "conversation_type": ["conversational_flow"] * 2,
            "ui_type": ["inline", None],
            "agent_id": [None, "9003"],
            "agent_name": [None, "Ana Lima"],
            "visitor_id": ["8800777"] * 2,
            "page_url": ["https://www.example.com/de/pricing", None],
            "event_id": ["marketo:783960101", "marketo:783960102"],
            "source_record": [2, 3],
        }
    )
    _check(events, want)
    assert ca.load_report(events).ignored["event_name"].tolist() == ["Reached Goal in Conversational Flow"]


def test_a_folder_reads_types_json_as_a_file_without_records():
    report = ca.load_report(read(DATA))
    files = report.files.set_index(report.files["source_file"].str.replace(str(DATA) + "/", ""))
    assert files.loc["activities/types.json", "records"] == 0
    assert files.loc["activities/types.json", "source_format"] == "marketo_bulk"
    assert files["records"].sum() == 8 + 4 + 3 + 10 + 8
    assert report.counts()["events"] == 4 + 2 + 2 + 8 + 0
    # the first export's Completed and the status export's Completed and Dropped; the TSV's copy is dropped
    assert report.counts()["derived"] == 1 + 2


# ------------------------------------------------------------------------------------ Conversation Status
STATUS = DATA / "status" / "export-2026-11-20.csv"
STATUS_NAME = "Conversation Status"
COMPLETED_FROM = f"CONVERSATION_COMPLETED from {STATUS_NAME}"
CLOSED_FROM = f"CONVERSATION_CLOSED from {STATUS_NAME}"


def _status_expected() -> pd.DataFrame:
    """The rows of status/export-2026-11-20.csv (module docstring): its 8 events in file order, then the
    derived events of lines 2 (Completed) and 3 (Dropped), copies of their engaged events."""
    pricing, demo = "https://www.example.com/pricing", "https://www.example.com/demo"
    times = ["10:00", "10:05", "10:10", "10:15", "10:20", "10:25", "10:30", "10:35", "10:00", "10:05"]
    engaged = "CONVERSATION_ENGAGED"
    return pd.DataFrame(
        {
            "event_time_utc": pd.to_datetime([f"2026-11-20 {t}:00" for t in times], utc=True).as_unit("us"),
            "event_type": [engaged] * 5
            + [
                "CONVERSATION_MEETING_BOOKED",
                engaged,
                engaged,
                "CONVERSATION_COMPLETED",
                "CONVERSATION_CLOSED",
            ],
            "session_id": [None] * 10,
            "conversation_id": ["7701", "8802"] + ["7701"] * 6 + ["7701", "8802"],
            "conversation_name": [PRICING, DEMO] + [PRICING] * 6 + [PRICING, DEMO],
            "conversation_type": ["dialogue", "conversational_flow"]
            + ["dialogue"] * 6
            + ["dialogue", "conversational_flow"],
            "ui_type": [None, "chatbot"] + [None] * 6 + [None, "chatbot"],
            "agent_id": [None] * 10,
            "agent_name": [None] * 10,
            "meeting_info": [None] * 5
            + ['{"scheduledFor":"2026-11-23T09:00:00Z","status":"Scheduled"}']
            + [None] * 4,
            "visitor_id": [
                "5500101",
                "5500102",
                "5500103",
                "5500104",
                "5500105",
                "5500101",
                "5500106",
                "5500107",
                "5500101",
                "5500102",
            ],
            "page_url": [pricing, demo] + [None] * 6 + [pricing, demo],
            "event_id": [f"marketo:78396020{k}" for k in range(1, 9)]
            + ["marketo:783960201:status", "marketo:783960202:status"],
            "event_count": [1] * 10,
            "time_granularity": ["second"] * 10,
            "source_record": [2, 3, 4, 5, 6, 7, 8, 9, 2, 3],
        }
    )


def _adds_up(report) -> None:
    files = report.files
    assert (
        files["records"] == files["events"] + files["rejected"] + files["duplicates"] + files["ignored"]
    ).all()
    assert int(report.derived["events"].sum()) == report.counts()["derived"]
    assert len(report.duplicates) == report.counts()["duplicates"]


def test_conversation_status_gives_completed_and_closed_events():
    events = read(STATUS)
    _check(events, _status_expected())
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 10,
        "events": 8,
        "rejected": 1,
        "duplicates": 0,
        "ignored": 1,
        "derived": 2,
    }
    assert len(events) == 8 + 2
    _adds_up(report)
    assert report.files["derived"].tolist() == [2]
    assert report.derived["reason"].tolist() == [COMPLETED_FROM, CLOSED_FROM]
    assert report.derived["events"].tolist() == [1, 1]
    # the engaged activity of line 11 has no date that exists: rejected, and it derives nothing
    assert list(zip(report.rejected["source_record"], report.rejected["reason"], strict=True)) == [
        (11, "unparseable time")
    ]
    assert report.ignored["source_record"].tolist() == [10]
    assert f"{STATUS}: 2 {STATUS_NAME} value(s) not read: 'Abandoned' (2)" in report.notes
    summary = report.summary()
    assert summary["outcome"].tolist() == ["event", "rejected", "duplicate", "ignored", "derived"]
    derived = summary.iloc[-1]
    assert derived["records"] == 2 and pd.isna(derived["share"])
    assert derived["detail"] == f"{COMPLETED_FROM}: 1; {CLOSED_FROM}: 1"
    text = repr(report)
    assert "\n  derived" + " " * 14 + "2" + " " * 11 + f"{COMPLETED_FROM}: 1; {CLOSED_FROM}: 1" in text
    assert "nan" not in text


def test_no_derived_line_without_derived_events():
    report = ca.load_report(read(RENAMED))
    assert report.counts()["derived"] == 0
    assert "derived" not in report.summary()["outcome"].tolist()
    assert "derived" not in repr(report)


def test_an_export_read_twice_drops_the_derived_copies_as_no_records(tmp_path):
    """The same export under two paths: the second copy's 8 events are duplicates (records), its 2
    derived events are dropped too but, being no records, are counted in neither derived nor duplicates."""
    (tmp_path / "activities").mkdir()
    shutil.copy(TYPES, tmp_path / "activities" / "types.json")
    paths = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        paths.append(shutil.copy(STATUS, tmp_path / name / STATUS.name))
    events = read(paths)
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 20,
        "events": 8,
        "rejected": 2,
        "duplicates": 8,
        "ignored": 2,
        "derived": 2,
    }
    files = report.files
    assert files["records"].tolist() == [10, 10]
    assert files["events"].tolist() == [8, 0]
    assert files["duplicates"].tolist() == [0, 8]
    assert files["derived"].tolist() == [2, 0]
    _adds_up(report)
    assert len(events) == 10
    _check(events, _status_expected())
    dup = report.duplicates
    assert dup["source_record"].tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    assert dup["duplicate_of_record"].tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    assert not dup["event_id"].str.endswith(":status").any()
    assert report.derived["source_file"].str.endswith(f"a/{STATUS.name}").all()


def test_status_from_list_attributes_without_guid(tmp_path):
    """No marketoGUID column: the derived event's id is the engaged event's natural id + ":status"; the
    older list form of attributes is read alike; a failed activity is ignored and derives nothing."""
    attrs = '"[{""name"":""Conversation Status"",""value"":""Dropped""}]"'
    path = _write(
        tmp_path,
        "e.csv",
        [
            "leadId,activityDate,activityTypeId,primaryAttributeValueId,attributes,actionResult",
            f"5414087,2026-11-01T09:00:00Z,100401,7701,{attrs},succeeded",
            f"5414088,2026-11-01T09:01:00Z,100401,7701,{attrs},failed",
        ],
    )
    events = read(path)
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_ENGAGED", "CONVERSATION_CLOSED"]
    natural = "marketo:5414087|2026-11-01T09:00:00Z|100401|7701"
    assert events["event_id"].tolist() == [natural, natural + ":status"]
    assert events["source_record"].tolist() == [2, 2]
    c = ca.load_report(events).counts()
    assert (c["records"], c["events"], c["ignored"], c["derived"]) == (2, 1, 1, 1)


def test_funnel_counts_the_completed_conversation():
    """Marketo has no session id, so a conversation (session + conversation, the default unit) has no key
    and the funnel leaves every event out; per visitor (the lead): the 7 leads with an engaged activity
    (lines 2, 3, 4, 5, 6, 8, 9) entered, and 5500101 completed (line 2, at the same instant)."""
    events = read(STATUS)
    frame = ca.funnel(events, steps=["engaged", "completed"], unit="visitor").frame()
    assert frame["converted"].tolist() == [7, 1]
    assert frame["median_seconds"].tolist()[1:] == pytest.approx([0.0])


# ------------------------------------------------------------------------------------ detection
def test_detection_is_specific():
    head = FIRST.read_bytes()[:4096]
    assert _marketo.sniff(FIRST, head) == "marketo_bulk"
    assert _marketo.sniff(TSV, TSV.read_bytes()[:4096]) == "marketo_bulk"
    assert _marketo.sniff(RENAMED, RENAMED.read_bytes()[:4096]) == "marketo_bulk"
    assert _marketo.sniff(TYPES, TYPES.read_bytes()[:4096]) == "marketo_bulk"
    others = [
        b"Date,Event name,Event count\n20261102,page_view,3\n",
        b'{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_ENGAGED", "payload": {}}\n',
        b'[{"event": "gtm.js", "gtm.start": 1}]',
        b"Event Category,Event Action,Event Label,Total Events\nDynamic Chat,Engaged,4471902,3\n",
        (DATA.parent / "snowplow" / "part-00000.tsv").read_bytes()[:4096],
    ]
    for other in others:
        assert _marketo.sniff(Path("x.csv"), other) is None
    assert read([FIRST])["source_format"].astype(str).unique().tolist() == ["marketo_bulk"]


def test_header_matching_is_tolerant():
    lay = _marketo.layout("Marketo_GUID\tLEAD ID\tactivity-date\tActivity Type Name\tAttributes")
    assert lay is not None
    assert lay.delimiter == "\t"
    assert lay.fields == {"guid": 0, "lead": 1, "date": 2, "type_name": 3, "attributes": 4}
    assert _marketo.layout("leadId activityDate activityTypeId").fields == {  # SSV with spaces
        "lead": 0,
        "date": 1,
        "type_id": 2,
    }
    assert _marketo.layout("activityDate,activityTypeId,campaignId") is None  # neither GUID nor lead


# ------------------------------------------------------------------------------------ mapping
@pytest.mark.parametrize(
    ("name", "constant", "kind"),
    [
        ("Engaged with a Dialogue", "CONVERSATION_ENGAGED", "dialogue"),
        ("Engages with a Dialog", "CONVERSATION_ENGAGED", "dialogue"),
        ("engaged  dialogue", "CONVERSATION_ENGAGED", "dialogue"),
        ("Engaged with a Conversational Flow", "CONVERSATION_ENGAGED", "conversational_flow"),
        ("Engaged with Conversational Form", "CONVERSATION_ENGAGED", "conversational_flow"),
        (
            "Engaged with an Agent in Conversation Flow",
            "CONVERSATION_LIVE_CHAT_INITIATED",
            "conversational_flow",
        ),
        ("ENGAGES WITH AN AGENT IN DIALOGUE", "CONVERSATION_LIVE_CHAT_INITIATED", "dialogue"),
        ("Schedules Meeting in Dialogue", "CONVERSATION_MEETING_BOOKED", "dialogue"),
        ("Scheduled Meeting in Conversational Flow", "CONVERSATION_MEETING_BOOKED", "conversational_flow"),
        ("Reached Goal in Conversational Flow", None, None),
        ("Reached Conversational Flow Goal", None, None),
        ("Interacted with Document in Conversational Flow", None, None),
        ("Clicked Link in Chat in Dialogue", None, None),
    ],
)
def test_activity_names_without_types_json(tmp_path, name, constant, kind):
    """No types.json: the file's own activity type name column names the activities."""
    path = _write(
        tmp_path,
        "e.csv",
        ["marketoGUID,leadId,activityDate,activityTypeName", f"g1,77,2026-11-02T09:00:00Z,{name}"],
        types=False,
    )
    events = read(path)
    if constant is None:
        assert len(events) == 0
        assert ca.load_report(events).ignored["event_name"].tolist() == [name]
    else:
        assert events["event_type"].astype(str).tolist() == [constant]
        assert events["conversation_type"].tolist() == [kind]
        assert events["event_time_utc"].tolist() == [pd.Timestamp("2026-11-02 09:00:00", tz="UTC")]


def test_attribute_forms_ids_and_rejections(tmp_path):
    """Object and list attributes read alike; ids keep their form; the reasons of each rejection."""
    obj = {"Dialog ID": 4471902.0, "Dialog Name": "Pricing", "agent name": "Dana", "AGENT_ID": "9001"}
    lst = [{"name": k, "value": v} for k, v in obj.items()]
    lines = [
        HEADER + ",actionResult",
        _row("g1", "2026-11-02T09:00:00Z", 100403, obj) + ",succeeded",
        _row("g2", "2026-11-02T09:00:01+0000", 100403, lst) + ",succeeded",
        _row("g3", "2026-11-02T04:00:02-0500", "100403.0", "not json") + ",null",
        _row("g4", "2026-11-02 09:00:03", 100401, "null") + ",failed",
        _row("g5", "null", 100401) + ",succeeded",
        _row("g6", "2026-11-02T09:00:05Z", "null") + ",succeeded",
        _row("g7", "2026-11-02T09:00:06Z", 999999) + ",succeeded",
        _row("g8", "2026-11-02T09:00:07", 100401) + ",succeeded",
    ]
    events = read(_write(tmp_path, "e.csv", lines))
    assert events["event_id"].tolist() == ["marketo:g1", "marketo:g2", "marketo:g3", "marketo:g8"]
    assert events["conversation_id"].tolist() == ["4471902", "4471902", "7701", "7701"]
    assert events["conversation_name"].tolist() == ["Pricing", "Pricing", PRICING, PRICING]
    assert events["agent_id"].tolist()[:2] == ["9001", "9001"]
    assert events["agent_name"].tolist()[:2] == ["Dana", "Dana"]
    assert [str(t) for t in events["event_time_utc"]] == [
        "2026-11-02 09:00:00+00:00",
        "2026-11-02 09:00:01+00:00",
        "2026-11-02 09:00:02+00:00",
        "2026-11-02 09:00:07+00:00",
    ]
    report = ca.load_report(events)
    assert list(zip(report.rejected["source_record"], report.rejected["reason"], strict=True)) == [
        (6, "missing time"),
        (7, "missing event type"),
    ]
    assert list(zip(report.ignored["source_record"], report.ignored["event_name"], strict=True)) == [
        (5, "Engaged with a Dialogue (actionResult=failed)"),
        (8, "activityTypeId 999999 (not in types.json)"),
    ]
    assert any("1 activityDate value(s) carried no UTC offset" in n for n in report.notes)


def test_records_spanning_lines_blank_lines_and_broken_records(tmp_path):
    """A quoted line break keeps a record on several lines; the record number is its first line."""
    lines = [
        HEADER,
        "",
        'g1,5,2026-11-02T09:00:00Z,100401,null,7701,"Pricing\r\npage",null',
        "g2,5,2026-11-02T09:00:01Z,100401,null,7701",
        "",
        "g3,5,2026-11-02T09:00:02Z,100401,null,7701,x,null,extra",
        "g4,5,2026-11-02T09:00:03Z,100401,null,7701,x,null",
        'g5,5,2026-11-02T09:00:04Z,100401,null,7701,x,"{""open',
    ]
    path = _write(tmp_path, "e.csv", lines)
    events = read(path)
    assert events["event_id"].tolist() == ["marketo:g1", "marketo:g4"]
    assert events["source_record"].tolist() == [3, 8]
    assert events["conversation_name"].tolist() == ["Pricing\r\npage", "x"]
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 5,
        "events": 2,
        "rejected": 3,
        "duplicates": 0,
        "ignored": 0,
        "derived": 0,
    }
    assert list(zip(report.rejected["source_record"], report.rejected["reason"], strict=True)) == [
        (5, "wrong number of columns"),
        (7, "wrong number of columns"),
        (9, "malformed quoting"),
    ]
    assert report.rejected["raw"].tolist()[0] == "g2,5,2026-11-02T09:00:01Z,100401,null,7701"


def test_space_separated_export_and_gzip(tmp_path):
    with FIRST.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    out = io.StringIO()
    csv.writer(out, delimiter=" ", lineterminator="\n").writerows(rows)
    ssv = _write(tmp_path, "e.csv", out.getvalue().splitlines())
    _check(read(ssv), EXPECTED.iloc[:5])
    gz = tmp_path / "e2.csv.gz"
    gz.write_bytes(gzip.compress(FIRST.read_bytes()))
    _check(read(gz), EXPECTED.iloc[:5])
    assert ca.load_report(read(gz)).counts()["records"] == 8


def test_types_json_forms(tmp_path):
    result = json.loads(TYPES.read_text())["result"]
    for i, content in enumerate([result, [{"result": result[:5]}, {"result": result[5:]}]]):
        folder = tmp_path / f"t{i}"
        path = _write(folder, "e.csv", FIRST.read_text().splitlines(), types=False)
        (folder / "types.json").write_text(json.dumps(content))
        _check(read(path), EXPECTED.iloc[:5])
    (tmp_path / "t0" / "types.json").write_text('{"result": [')
    with pytest.raises(ca.LoaderError, match=r"types\.json"):
        read(tmp_path / "t0" / "e.csv")
    (tmp_path / "t0" / "types.json").write_text('{"success": false, "errors": [{"code": "601"}]}')
    with pytest.raises(ca.LoaderError, match="failed Marketo response"):
        read(tmp_path / "t0" / "e.csv")


# ------------------------------------------------------------------------------------ errors
def test_type_ids_without_types_json_raise(tmp_path):
    path = _write(tmp_path / "a" / "b" / "c" / "d", "e.csv", FIRST.read_text().splitlines(), types=False)
    with pytest.raises(ca.LoaderError, match=r"activities/types\.json") as err:
        read(path)
    assert err.value.path == str(path)


def test_garbage_wrong_format_empty_and_truncated_files(tmp_path):
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe garbage\n,,,\n")
    with pytest.raises(ca.LoaderError, match="not a Marketo Bulk Activity Extract"):
        read(garbage, format="marketo_bulk")
    with pytest.raises(ca.LoaderError, match=r"garbage\.csv"):
        read(garbage)
    snowplow = DATA.parent / "snowplow" / "part-00000.tsv"
    with pytest.raises(ca.LoaderError, match="not a Marketo Bulk Activity Extract"):
        read(snowplow, format="marketo_bulk")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header_only = _write(tmp_path, "header.csv", [HEADER])
    report = ca.load_report(read([empty, header_only, FIRST], format="marketo_bulk"))
    assert report.files["records"].tolist() == [0, 0, 8]
    with pytest.raises(ca.EmptyDataError):
        read(empty, format="marketo_bulk")
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(FIRST.read_bytes() * 20)[:300])
    with pytest.raises(ca.LoaderError, match="truncated"):
        read(cut, format="marketo_bulk")
    stray_row = _row("g1", "2026-11-02T09:00:00Z", 100401, pav='5" screen')
    stray = _write(tmp_path, "stray.csv", [HEADER, stray_row, _row("g2", "2026-11-02T09:00:01Z", 100401)])
    with pytest.raises(ca.LoaderError, match="cannot tell the records"):
        read(stray)


def test_no_contact_detail_reaches_the_frame():
    events = read([FIRST, SECOND, TSV, RENAMED])
    strings = events.select_dtypes(include="string")
    assert not strings.apply(lambda c: c.str.contains("@", regex=False).fillna(False)).any().any()
    assert "dana.agent" not in events.to_string()
    assert any("page_url: contact details redacted" in n for n in ca.load_report(events).notes)


# ------------------------------------------------------------------------------------ property
_DATES = st.sampled_from(
    [
        *("2026-11-02T09:00:00Z", "2026-11-02T09:00:00+0000", "2026-11-02T10:00:00+01:00"),
        *("2026-11-31T00:00:00Z", "2026-11-02 09:00:00", "soon", "null", ""),
    ]
)
_TYPES = st.sampled_from(["1", "100401", "100403", "100405", "100407", "999", "null", "x"])
_TEXT = st.sampled_from(["Pricing", "jo@example.org", "+1 555 0100 123", 'say "hi"', "a,b;c\td", "", "null"])


@st.composite
def _activity(draw):
    attrs = {
        key: draw(st.sampled_from(["7701", "4471902.0", ""]) if key == "Dialogue ID" else _TEXT)
        for key in draw(st.sets(st.sampled_from(["Dialogue ID", "Agent Name", "Page URL", "Scheduled For"])))
    }
    form = draw(st.sampled_from(["object", "list", "null", "broken"]))
    attr = {
        "object": json.dumps(attrs),
        "list": json.dumps([{"name": k, "value": v} for k, v in attrs.items()]),
        "null": "null",
        "broken": '{"Agent Name": ',
    }[form]
    return [
        draw(st.sampled_from(["g1", "g2", "g3", "null"])),
        draw(st.sampled_from(["5414087", "6120033", "jo@example.org"])),
        draw(_DATES),
        draw(_TYPES),
        "null",
        draw(st.sampled_from(["7701", "7701.0", ""])),
        draw(_TEXT),
        attr,
    ]


_LINE = st.one_of(
    _activity().map(lambda row: ("row", row)),
    st.tuples(st.just("cut"), _activity(), st.integers(1, 80)),
    st.tuples(
        st.just("garbage"),
        st.text(st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters='"'), min_size=1),
    ),
    st.just(("latin-1",)),
    st.just(("blank",)),
)


def _render(rows: list, delim: str) -> tuple[bytes, bool]:
    """The file's bytes, and whether each line holds balanced quotes (then lines and records agree)."""
    lines = [delim.join(HEADER.split(",")).encode()]
    for item in rows:
        buf = io.StringIO()
        if item[0] in ("row", "cut"):
            csv.writer(buf, delimiter=delim, lineterminator="").writerow(item[1])
            text = buf.getvalue()
            lines.append((text[: item[2]] if item[0] == "cut" else text).encode())
        elif item[0] == "garbage":
            lines.append(item[1].encode())
        elif item[0] == "latin-1":
            lines.append(
                delim.join(["g9", "5", "2026-11-02T09:00:00Z", "100401", "caf\xe9"]).encode("latin-1")
            )
        else:
            lines.append(b"")
    balanced = all(line.count(b'"') % 2 == 0 for line in lines)
    return b"\n".join(lines) + b"\n", balanced


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_LINE, max_size=12), delim=st.sampled_from([",", "\t", ";"]), gz=st.booleans())
def test_random_exports_are_read_or_refused_and_every_record_counts(tmp_path_factory, rows, delim, gz):
    folder = tmp_path_factory.mktemp("m")
    (folder / "activities").mkdir()
    shutil.copy(TYPES, folder / "activities" / "types.json")
    data, balanced = _render(rows, delim)
    path = folder / ("e.csv.gz" if gz else "e.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    try:
        events = read(path, format="marketo_bulk")
    except ca.EmptyDataError:
        assert all(r[0] == "blank" for r in rows) or not rows
        return
    except ca.LoaderError:
        assert not balanced  # a well-quoted file is always read
        return
    c = ca.load_report(events).counts()
    assert c["events"] + c["rejected"] + c["duplicates"] + c["ignored"] == c["records"]
    if balanced:
        assert c["records"] == sum(1 for r in rows if r[0] != "blank")
    assert len(events) == c["events"] + c["derived"]
    ca.validate_events(events)
    strings = events.select_dtypes(include="string")
    assert not strings.apply(lambda col: col.str.contains("@", regex=False).fillna(False)).any().any()
    assert set(events["time_granularity"].astype(str)) <= {"second"}
