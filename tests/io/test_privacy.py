import hashlib
import json
import os
import re
import stat
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

import chatanalytics as ca
from chatanalytics.errors import InvalidParameterError
from chatanalytics.io._privacy import (
    KEY_ENV,
    SNIPPET_RULES,
    key_path,
    looks_like_email,
    looks_like_phone,
    pseudonym_key,
    pseudonymise_id,
    scrub_json_text,
    scrub_record_text,
    scrub_text,
    scrub_url,
)
from tests.contact_corpus import CONTACTS, KEEP, forms, leaks


@pytest.mark.parametrize("case", CONTACTS, ids=[c["text"] for c in CONTACTS])
def test_every_contact_variant_is_redacted_in_every_form(case):
    for form, value in forms(case["text"]).items():
        assert leaks(value, case), (form, value)  # the check itself finds the detail before scrubbing
        outs = {"record": scrub_record_text(value)}  # rejected lines and event names: any text
        if form.startswith("json"):
            outs["json"] = scrub_json_text(value)
        elif form != "record":
            outs["text"] = scrub_text(value)  # names: text, which may hold URLs
        if form in ("query", "query_percent", "path", "fragment"):
            outs["url"] = scrub_url(value)
        for rule, out in outs.items():
            assert not leaks(out, case), (form, rule, out)
            assert "[redacted]" in out


@pytest.mark.parametrize("value", KEEP)
def test_look_alikes_are_kept_in_every_form(value):
    assert scrub_text(value) == value
    assert scrub_text(f"Notes: {value} (before Friday)") == f"Notes: {value} (before Friday)"
    url = "https://shop.example/p?q=" + quote_plus(value)
    assert scrub_url(url) == url
    path = "https://shop.example/c/" + quote(value, safe="") + "/x"
    assert scrub_url(path) == path
    assert scrub_json_text(json.dumps({"n": value})) == json.dumps({"n": value})
    assert pseudonymise_id(value, b"k") == value


def test_the_snippet_embeds_the_same_rules():
    code = (Path(ca.__file__).parent / "capture" / "snippet.js").read_text(encoding="utf-8")
    found = re.search(r"^  var RULES = (\{.*\});$", code, flags=re.M)
    assert found, "snippet.js has no 'var RULES = {...};' line"
    assert json.loads(found.group(1)) == json.loads(json.dumps(SNIPPET_RULES)), (
        "capture/snippet.js holds other rules than chatanalytics.io._privacy.SNIPPET_RULES: "
        "copy json.dumps(SNIPPET_RULES, separators=(',', ':')) into its 'var RULES = ...;' line"
    )


@pytest.mark.parametrize(
    "value", ["+1 555 010 0123", "(555) 010-0123", "555-010-0123", "0044 20 7946 0958", "+4915112345678"]
)
def test_phone_numbers_are_recognised(value):
    assert looks_like_phone(value)


@pytest.mark.parametrize(
    "value",
    ["4471902", "1730000000000", "2026-11-02", "10/05/2026", "192.168.100.200", "123-45", "v1.2.3", ""],
)
def test_ids_dates_and_addresses_are_not_phone_numbers(value):
    assert not looks_like_phone(value)


def test_email_recognition_includes_url_encoding():
    assert looks_like_email("jane.doe@example.com")
    assert looks_like_email("jane.doe%40example.co.uk")
    assert not looks_like_email("@handle") and not looks_like_email("a@b")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://x.example/p?utm_source=mail&email=jane%40x.com&id=4471902",
            "https://x.example/p?utm_source=mail&email=[redacted]&id=4471902",
        ),
        ("https://x.example/p?contact=jane@x.com", "https://x.example/p?contact=[redacted]"),
        ("https://x.example/p?Phone=12345", "https://x.example/p?Phone=[redacted]"),
        ("https://x.example/p?q=%2B1%20555%20010%200123", "https://x.example/p?q=[redacted]"),
        (
            "https://x.example/p?ts=1730000000000&d=2026-11-02",
            "https://x.example/p?ts=1730000000000&d=2026-11-02",
        ),
        ("https://x.example/u/jane@x.com/", "https://x.example/u/[redacted]/"),
        ("https://x.example/p#tel=555-010-0123", "https://x.example/p#tel=[redacted]"),
        ("https://x.example/p?utm_medium=email", "https://x.example/p?utm_medium=email"),
    ],
)
def test_scrub_url(url, expected):
    assert scrub_url(url) == expected


def test_scrub_json_text_keeps_structure_and_other_values():
    text = (
        '{"id":"m1","Email":"a@b.io","mobile":5550100,"note":"ring 555-010-0123",'
        '"start":"2026-11-03T10:00:00Z"}'
    )
    assert scrub_json_text(text) == (
        '{"id":"m1","Email":"[redacted]","mobile":"[redacted]","note":"ring [redacted]",'
        '"start":"2026-11-03T10:00:00Z"}'
    )


def test_scrub_text_and_ids():
    assert scrub_text("Demo for jane@x.com, call +1 555 010 0123") == "Demo for [redacted], call [redacted]"
    assert scrub_text("Pricing 2026 dialogue") == "Pricing 2026 dialogue"
    token = pseudonymise_id("jane@x.com", b"key")
    assert re.fullmatch(r"redacted-[0-9a-f]{16}", token)
    assert token == pseudonymise_id("jane@x.com", b"key") != pseudonymise_id("john@x.com", b"key")
    assert pseudonymise_id("v-123", b"key") == "v-123"
    assert pseudonymise_id("whatsapp:+14155238886", b"key").startswith("redacted-")


def test_every_id_column_pseudonymises_an_email_address(write):
    from conftest import capture_line

    import chatanalytics as ca

    path = write(
        "ids.jsonl",
        [
            capture_line("2026-11-02T09:00:00Z", "CONVERSATION_LIVE_CHAT_INITIATED", sid="s1",
                         id="jane@x.com", agentID="agent%40x.com", top_event_id="john@x.com"),
            capture_line("2026-11-02T09:00:01Z", "CONVERSATION_LIVE_CHAT_ENDED", sid="s1",
                         id="jane@x.com", agentID="a7", top_event_id="e2"),
        ],
    )  # fmt: skip
    events = ca.read_events(path, warn=False)
    assert events["conversation_id"].tolist() == [pseudonymise_id("jane@x.com")] * 2
    assert events["agent_id"].tolist() == [pseudonymise_id("agent%40x.com"), "a7"]
    assert events["event_id"].tolist() == [pseudonymise_id("john@x.com"), "e2"]
    assert not events.astype(str).apply(lambda c: c.str.contains("@|%40")).any().any()


# ---- keyed pseudonyms ----


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    return tmp_path / "config"


def test_pseudonyms_are_hmac_sha256_of_the_id():
    import hmac

    expected = hmac.new(b"k1", b"jane@x.com", hashlib.sha256).hexdigest()[:16]
    assert pseudonymise_id("jane@x.com", b"k1") == "redacted-" + expected
    assert pseudonymise_id("jane@x.com", b"k1") != pseudonymise_id("jane@x.com", b"k2")


def test_a_guessed_address_hashed_is_not_the_pseudonym(config_home, write):
    from conftest import capture_line

    path = write(
        "ids.jsonl",
        [capture_line("2026-11-02T09:00:00Z", "CONVERSATION_TRIGGERED", sid="jane@x.com", id="c1")],
    )
    events = ca.read_events(path, warn=False)
    guessed = hashlib.sha256(b"jane@x.com").hexdigest()[:16]
    assert guessed not in events.to_csv()
    assert events["session_id"].iloc[0].startswith("redacted-")


def test_the_key_comes_from_the_parameter_then_the_environment(config_home, write, monkeypatch):
    from conftest import capture_line

    path = write("ids.jsonl", [capture_line("2026-11-02T09:00:00Z", "CONVERSATION_TRIGGERED", sid="a@x.io")])

    def sid(**kwargs):
        return ca.read_events(path, warn=False, **kwargs)["session_id"].iloc[0]

    assert sid(pseudonym_key="team key") == pseudonymise_id("a@x.io", b"team key")
    assert sid(pseudonym_key=b"team key") == sid(pseudonym_key="team key")  # same key, same pseudonym
    assert sid(pseudonym_key="other") != sid(pseudonym_key="team key")
    monkeypatch.setenv(KEY_ENV, "env key")
    assert sid() == pseudonymise_id("a@x.io", b"env key")
    assert sid(pseudonym_key="team key") == pseudonymise_id("a@x.io", b"team key")  # the parameter wins
    assert not key_path().exists()  # a key was given: none generated
    with pytest.raises(InvalidParameterError, match="pseudonym_key"):
        ca.read_events(path, warn=False, pseudonym_key="")


def test_without_a_key_one_is_generated_once_stored_0600_and_reused(config_home, write):
    from conftest import capture_line

    path = write("ids.jsonl", [capture_line("2026-11-02T09:00:00Z", "CONVERSATION_TRIGGERED", sid="a@x.io")])
    assert not key_path().exists()
    first = ca.read_events(path, warn=False)["session_id"].iloc[0]
    stored = key_path()
    assert stored == config_home / "chatanalytics" / "pseudonym.key"
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    key = stored.read_text().strip()
    assert len(key) == 64
    assert first == pseudonymise_id("a@x.io", key.encode())
    assert ca.read_events(path, warn=False)["session_id"].iloc[0] == first  # reused, not regenerated
    assert stored.read_text().strip() == key == pseudonym_key().decode()


def test_cli_reads_the_key_from_a_file(config_home, write, tmp_path):
    from conftest import capture_line

    from chatanalytics.cli import main

    path = write("ids.jsonl", [capture_line("2026-11-02T09:00:00Z", "CONVERSATION_TRIGGERED", sid="a@x.io")])
    key_file = tmp_path / "key.txt"
    key_file.write_text("shared team key\n")
    out = tmp_path / "events.parquet"
    assert (
        main(["convert", str(path), "--out", str(out), "--pseudonym-key-file", str(key_file), "--quiet"]) == 0
    )
    assert ca.read_events(out)["session_id"].iloc[0] == pseudonymise_id("a@x.io", b"shared team key")
    assert not key_path().exists()


# ---- the load report ----


def test_rejected_text_and_ignored_names_are_redacted_but_write_rejected_keeps_the_bytes(write, tmp_path):
    from conftest import capture_line

    broken = '{"ts": broken, "name": "j\u00fcrgen@b\u00fccher.de", "note": "call 555 0134"'
    path = write(
        "a.jsonl",
        [
            capture_line("2026-11-02T09:00:00Z", "CONVERSATION_TRIGGERED", sid="s1"),
            capture_line("2026-11-02T09:00:01Z", "WhatsApp +1\u00a0555\u00a0010\u00a00124", sid="s1"),
            broken.encode("utf-8"),
        ],
    )
    rep = ca.load_report(ca.read_events(path, warn=False))
    assert rep.rejected["raw"].tolist() == ['{"ts": broken, "name": "[redacted]", "note": "call [redacted]"']
    assert rep.ignored["event_name"].tolist() == ["WhatsApp [redacted]"]
    assert rep.ignored_names()["event_name"].tolist() == ["WhatsApp [redacted]"]
    assert "555" not in repr(rep) and "555" not in rep._repr_html_()
    assert rep.write_rejected(tmp_path / "r.jsonl").read_bytes() == broken.encode("utf-8") + b"\n"


def test_mostly_distinct_ids_are_scrubbed_as_when_looked_at_once_per_distinct_value():
    """Session and visitor ids are mostly distinct, so the pattern runs on every row instead of on the
    distinct ids: the same ids must change. 100,000 random hex ids (one starting ``00`` and seven
    digits, which the prefilter flags and the rules keep), with contact details after the sampled rows.
    """
    import numpy as np
    import pyarrow as pa

    from chatanalytics.io._arrow import map_distinct
    from chatanalytics.io._privacy import ID_PREFILTER, scrub_table

    rng = np.random.default_rng(5)
    ids = [f"{i:016x}" for i in rng.integers(2**60, 2**63, 100_000)]
    ids[70_000] = "0012345678abcdef"
    ids[80_000] = "jane@x.com"
    ids[90_000] = "whatsapp:+14155238886"
    ids[95_000] = None
    ids[99_999] = "jane@x.com"
    col = pa.chunked_array(
        [pa.array(ids[:60_000], pa.large_string()), pa.array(ids[60_000:], pa.large_string())]
    )
    table, changed = scrub_table(pa.table({"session_id": col}), key=b"key")
    expected, n = map_distinct(col, lambda v: pseudonymise_id(v, b"key"), prefilter=ID_PREFILTER)
    assert changed == {"session_id": n} == {"session_id": 3}
    assert table.column("session_id").to_pylist() == expected.to_pylist()
    got = table.column("session_id").to_pylist()
    assert got[80_000] == got[99_999] == pseudonymise_id("jane@x.com", b"key")
    assert got[90_000].startswith("redacted-")
    assert got[70_000] == "0012345678abcdef"
    assert got[95_000] is None


def test_dictionary_encoded_parquet_columns_are_scrubbed_and_counted_exactly(tmp_path):
    """Canonical Parquet columns read as dictionaries are scrubbed from the dictionary entries. Row 3
    repeats row 1 (same type, time, session, conversation, agent) and is dropped; its page URL, which no
    kept row holds, stays in the dictionary but must not be counted as a redacted row.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = pd.Timestamp("2026-11-02T09:00:00Z").to_pydatetime()
    rows = {
        "event_time_utc": pa.array([t0, t0, t0], pa.timestamp("us", tz="UTC")),
        "event_type": pa.array(["CONVERSATION_ENGAGED", "CONVERSATION_CLOSED", "CONVERSATION_ENGAGED"]),
        "session_id": pa.array(["s1", "s1", "s1"]),
        "conversation_id": pa.array(["jane@x.com", "c2", "jane@x.com"]).dictionary_encode(),
        "page_url": pa.array(
            ["https://x.com/?email=a%40b.com", "https://x.com/", "https://x.com/?phone=%2B15550100123"]
        ).dictionary_encode(),
        "agent_name": pa.array(["call +1 555 010 0123", None, "call +1 555 010 0123"]).dictionary_encode(),
    }
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table(rows), path)
    events = ca.read_events(path, warn=False)
    assert events["conversation_id"].tolist() == [pseudonymise_id("jane@x.com"), "c2"]
    assert events["page_url"].tolist() == ["https://x.com/?email=[redacted]", "https://x.com/"]
    assert events["agent_name"].tolist()[0] == "call [redacted]"
    notes = ca.load_report(events).notes
    for column in ("conversation_id", "page_url", "agent_name"):
        assert f"{column}: contact details redacted in 1 row(s)" in notes
