"""GTM dataLayer captures into canonical events.

capture.json (a JSON array, pretty-printed; record = position in the array):

==  ===================================  ==========================================================
 1  gtm.js                               ignored
 2  gtag config command {"0": "config"}  ignored as "gtag:config"
 3  gtm.dom                              ignored
 4  dc_conversation_triggered            event 2026-11-04 11:00:01.500 UTC, ev-1, phone in URL redacted
 5  dc_conversation_engaged              event 12:00:09+01:00 = 11:00:09 UTC, id pushed as a number
 6  the same push again (ev-2)           duplicate of 5 (same event_id)
 7  form_submit                          ignored
 8  dc_live_chat_requested without dc_ts rejected, missing time
 9  dc_live_chat_initiated               event, dc_ts epoch ms 1793790030250 = 11:00:30.250 UTC,
                                         agent id pushed as 9001.0
==  ===================================  ==========================================================

capture.ndjson (one object per line; line 4 is blank and not a record):

==  ===================================  ==========================================================
 1  gtm.js                               ignored
 2  event "chat", dc_event conversation_triggered  event (by the action key) 11:00:00 UTC
 3  dc_conversation_closed 06:00:30-05:00  event 11:00:30 UTC
 5  the same push again, no event id     duplicate of 3 (same type, time, session, conversation)
 6  dc_email_input, dc_ts "not a time"   rejected, unparseable time
 7  truncated last line                  rejected, malformed JSON
==  ===================================  ==========================================================
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import chatanalytics as ca

DATA = Path(__file__).resolve().parents[1] / "data" / "datalayer"


def read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.DataQualityWarning)
        return ca.read_events(path, **kw)


def test_json_array_capture():
    events = read(DATA / "capture.json")
    ca.validate_events(events)
    assert events["event_type"].astype(str).tolist() == [
        "CONVERSATION_TRIGGERED",
        "CONVERSATION_ENGAGED",
        "CONVERSATION_LIVE_CHAT_INITIATED",
    ]
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(
            ["2026-11-04 11:00:01.500", "2026-11-04 11:00:09.000", "2026-11-04 11:00:30.250"], utc=True
        )
    )
    assert events["conversation_id"].tolist() == ["4471902"] * 3
    assert events["session_id"].tolist() == ["sid-d4"] * 3
    assert events["agent_id"].isna().tolist() == [True, True, False]
    assert events["agent_id"].iloc[2] == "9001" and events["agent_name"].iloc[2] == "Dana Agent"
    assert events["event_id"].tolist() == ["ev-1", "ev-2", "ev-4"]
    assert events["page_url"].iloc[0] == "https://www.example.com/pricing?phone=[redacted]"
    assert events["conversation_type"].iloc[0] == "dialogue" and events["ui_type"].iloc[0] == "popup"
    assert events["visitor_id"].isna().all()
    assert events["source_record"].tolist() == [4, 5, 9]
    assert set(events["source_format"].astype(str)) == {"datalayer"}
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 9,
        "events": 3,
        "rejected": 1,
        "duplicates": 1,
        "ignored": 4,
        "derived": 0,
    }
    assert report.ignored["event_name"].tolist() == ["gtm.js", "gtag:config", "gtm.dom", "form_submit"]
    assert report.ignored["source_record"].tolist() == [1, 2, 3, 7]
    assert report.rejected[["source_record", "reason"]].values.tolist() == [[8, "missing time"]]
    assert '"dc_live_chat_requested"' in report.rejected["raw"].iloc[0]
    dup = report.duplicates
    assert (dup["source_record"].tolist(), dup["duplicate_of_record"].tolist()) == ([6], [5])
    assert dup["reason"].tolist() == ["same event_id"]


def test_ndjson_capture():
    events = read(DATA / "capture.ndjson")
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_TRIGGERED", "CONVERSATION_CLOSED"]
    assert events["event_time_utc"].tolist() == list(
        pd.to_datetime(["2026-11-05 11:00:00", "2026-11-05 11:00:30"], utc=True)
    )
    assert events["source_record"].tolist() == [2, 3]
    report = ca.load_report(events)
    assert report.counts() == {
        "records": 6,
        "events": 2,
        "rejected": 2,
        "duplicates": 1,
        "ignored": 1,
        "derived": 0,
    }
    assert report.rejected[["source_record", "reason"]].values.tolist() == [
        [6, "unparseable time"],
        [7, "malformed JSON"],
    ]
    assert report.duplicates["duplicate_of_record"].tolist() == [3]
    assert report.duplicates["reason"].tolist() == ["same type, time, session, conversation and agent"]


def test_detection_and_forcing(tmp_path):
    both = read([DATA / "capture.json", DATA / "capture.ndjson"])
    assert ca.load_report(both).files["source_format"].tolist() == ["datalayer", "datalayer"]
    plain = tmp_path / "push.log"
    plain.write_text('{"event":"my_event","my_key":1}\n')
    assert ca.load_report(read(plain, format="datalayer")).ignored["event_name"].tolist() == ["my_event"]


def test_plan_renames_keys(tmp_path):
    path = tmp_path / "dl.ndjson"
    path.write_text(
        '{"event":"chat_open","chat_time":"2026-11-05T11:00:00Z","chat_conv":"42","gtm.uniqueEventId":3}\n'
    )
    plan = ca.TrackingPlan.from_dict(
        {
            "datalayer": {
                "events": {"CONVERSATION_TRIGGERED": "chat_open"},
                "fields": {"ts": "chat_time", "conversation_id": "chat_conv"},
            }
        }
    )
    events = read(path, plan=plan)
    assert events["event_type"].astype(str).tolist() == ["CONVERSATION_TRIGGERED"]
    assert events["conversation_id"].tolist() == ["42"]
    assert len(read(path)) == 0


def test_bad_input(tmp_path):
    truncated = tmp_path / "dl.json"
    text = (DATA / "capture.json").read_text()
    truncated.write_text(text[: len(text) // 2])
    with pytest.raises(ca.LoaderError, match=r"dl\.json: malformed or truncated JSON") as err:
        ca.read_events(truncated)
    assert err.value.path == str(truncated) and err.value.record is not None
    scalar = tmp_path / "scalar.json"
    scalar.write_text('{"event": "gtm.js"} {"x": 1}')
    report = ca.load_report(read(scalar, format="datalayer"))
    assert report.counts()["rejected"] == 1
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(ca.EmptyDataError):
        ca.read_events(empty, format="datalayer")
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"[\x00\xff\xfe")
    with pytest.raises(ca.LoaderError, match=r"garbage\.json"):
        ca.read_events(garbage, format="datalayer")
    mixed = tmp_path / "mixed.json"
    mixed.write_text('[{"event": "gtm.js"}, 3, "text", null, [1]]')
    report = ca.load_report(read(mixed))
    assert report.counts() == {
        "records": 5,
        "events": 0,
        "rejected": 4,
        "duplicates": 0,
        "ignored": 1,
        "derived": 0,
    }


def test_a_capture_file_starting_with_a_non_chat_event_is_still_capture(tmp_path):
    # a capture line for gtm.js has the capture format's "ts": it is not a dataLayer push
    path = tmp_path / "capture.jsonl"
    path.write_text(
        '{"ts": "2026-11-02T09:00:00Z", "event": "gtm.js"}\n'
        '{"ts": "2026-11-02T09:00:00Z", "event": "CONVERSATION_TRIGGERED",'
        ' "payload": {"sid": "s1", "id": 1}}\n'
    )
    events = ca.read_events(path, warn=False)
    assert events["event_type"].tolist() == ["CONVERSATION_TRIGGERED"]
    assert events["source_format"].tolist() == ["capture"]
    assert ca.load_report(events).ignored_names()["event_name"].tolist() == ["gtm.js"]
