"""The contact-detail corpus (``tests/data/privacy/contact_corpus.json``) and how to look for a leak.

One list of cases drives the loader's tests, the capture snippet's tests in Chromium and the end-to-end
test through every output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from chatanalytics.io._privacy import fold

CORPUS = json.loads(
    (Path(__file__).resolve().parent / "data" / "privacy" / "contact_corpus.json").read_text(encoding="utf-8")
)
CONTACTS: list[dict] = CORPUS["contacts"]
KEEP: list[str] = CORPUS["keep"]


def readings(text: str) -> list[str]:
    """The text as a person or a program could read it: as it is, URL-decoded, JSON escapes decoded."""
    simple = {"t": "\t", "n": "\n", "r": "\r", "/": "/", '"': '"', "\\": "\\"}
    unescaped = re.sub(
        r'\\(?:u([0-9a-fA-F]{4})|([tnr/"\\]))',
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else simple[m.group(2)],
        text,
    )
    return [text, unquote(text), unquote_plus(text), unescaped]


def leaks(text: str, case: dict) -> bool:
    """Whether ``text`` still holds the contact detail of ``case``: the phone's digits once spaces,
    dashes, dots, slashes, parentheses, ``+`` and ``:`` are removed, or a part of the address.
    """
    for reading in readings(text):
        folded = fold(reading).lower()
        if "digits" in case and case["digits"] in re.sub(r"[\s().\-/+:]", "", folded):
            return True
        if any(fold(n).lower() in folded for n in case.get("needles", [])):
            return True
    return False


def forms(value: str) -> dict[str, str]:
    """The ways a value reaches a text field: as it is, in a sentence, in URLs and in JSON."""
    return {
        "text": value,
        "sentence": f"Notes: {value} (before Friday)",
        "query": "https://shop.example/p?utm_source=x&q=" + quote_plus(value),
        "query_percent": "https://shop.example/p?q=" + quote(value, safe=""),
        "path": "https://shop.example/contact/" + quote(value, safe="") + "/done",
        "fragment": "https://shop.example/p#/c/" + quote(value, safe=""),
        "json": json.dumps({"note": value}),
        "json_unicode": json.dumps({"note": f"see {value}"}, ensure_ascii=False),
        "record": json.dumps({"ts": "2026-11-02T09:00:00Z", "event": value, "payload": {"name": value}}),
    }
