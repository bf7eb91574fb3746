import pytest

from chatanalytics.io._privacy import (
    looks_like_email,
    looks_like_phone,
    pseudonymise_id,
    scrub_json_text,
    scrub_text,
    scrub_url,
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
    token = pseudonymise_id("jane@x.com")
    assert token.startswith("redacted-") and len(token) == len("redacted-") + 16
    assert token == pseudonymise_id("jane@x.com") != pseudonymise_id("john@x.com")
    assert pseudonymise_id("v-123") == "v-123"


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
