"""Keep visitors' email addresses and phone numbers out of every frame.

Loaders read only the documented payload keys, so a payload field such as ``email`` or ``phone`` is never
read. Every text column that can still carry contact details is scrubbed here:

- ``page_url``: a path segment, or a query-string or fragment value, that holds an email address or a
  phone number once URL-decoded (``%2B`` is ``+``, ``+`` is a space), or a parameter whose name is
  contact-like (``email``, ``phone``, ``tel``, ``mobile``, ``whatsapp``...), becomes ``[redacted]``.
- ``meeting_info`` (raw JSON text): values under contact-like keys become ``"[redacted]"``; email
  addresses and phone numbers anywhere in its strings (JSON escapes decoded first) become ``[redacted]``.
- ``conversation_name``, ``agent_name``, ``conversation_type``, ``ui_type``: email addresses and phone
  numbers become ``[redacted]``.
- ``visitor_id``, ``session_id``, ``analytics_session_id``, ``conversation_id``, ``agent_id``,
  ``event_id``: an id that is, or holds, an email address or a phone number becomes ``redacted-`` and
  16 hex digits of its keyed hash (HMAC-SHA256, see :func:`pseudonym_key`), so visitors (and sessions,
  agents...) stay distinct but cannot be re-identified by hashing a guessed address. Event ids, one per
  event, are looked at only when they hold ``@``, ``+``, ``%``, a space, a parenthesis or a character
  that is not ASCII (:data:`EVENT_ID_NEEDLES`).

Text is first folded, one character for one: every Unicode space (no-break, thin, narrow no-break,
figure space...) and the tab become a space, every dash and minus sign a ``-``, full-width and
Arabic-Indic digits ASCII digits, full-width ``＠`` and ``＋`` their ASCII forms. Then:

- an email address is ``local@domain.tld`` (or ``%40``), where local part and domain may hold any
  letters (``jürgen@bücher.de``) and the top-level domain may be punycode (``xn--p1ai``);
- a phone number is 7 to 15 digits written with a leading ``+`` or ``00`` (``+1 555 0100 123``), with an
  area code in parentheses (``(555) 013-3``), or in three or more groups (``555-010-0123``,
  ``06 12 34 56 78``); or 6 to 15 digits right after a phone word (``call 555 0133``, ``Tel.:
  5550133``, ``WhatsApp +1...``), in English, German, French, Spanish, Portuguese, Italian, Dutch,
  Japanese and Chinese.
- Not phone numbers: a bare run of digits (``4471902``, a timestamp), dates (``2026-10-05``,
  ``05.10.2026``, ``10/05/2026``), times, IPv4 addresses, UUIDs, and thousands written in groups of
  three (``12.345.678``).

The capture snippet applies the same rules in the browser: the patterns below are embedded in
``capture/snippet.js`` (:data:`SNIPPET_RULES`, checked by the tests to be identical).

The work is done once per distinct value, not once per row, and only on the values an RE2 pattern
flags in one vectorised pass.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import unquote, unquote_plus

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidParameterError
from ..schema import STRING
from ._arrow import map_distinct
from ._sql import cursor

REDACTED = "[redacted]"

#: Id columns: an id that is, or holds, a contact detail is pseudonymised.
ID_COLUMNS = ("visitor_id", "session_id", "analytics_session_id", "conversation_id", "agent_id", "event_id")

#: The environment variable that holds the pseudonym key (any text; its UTF-8 bytes are the key).
KEY_ENV = "CHATANALYTICS_PSEUDONYM_KEY"

# ---------------------------------------------------------------- the rules, shared with the snippet
# Patterns are written in the subset that Python's ``re`` (with re.ASCII) and JavaScript's RegExp read
# alike: no lookbehind, ``\uXXXX`` escapes, ASCII ``\d``/``\w``; a boundary before a match is a
# captured prefix group.

_FOLD_TO: dict[str, str] = {
    " ": "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000",
    "-": "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d",
    ".": "\u3002\uff0e\uff61",
    "@": "\uff20\ufe6b",
    "+": "\uff0b\ufe62",
    "(": "\uff08",
    ")": "\uff09",
    "/": "\uff0f",
}
#: The first code point of each run of ten decimal digits folded to 0-9 (full-width, Arabic-Indic,
#: extended Arabic-Indic, Devanagari).
_DIGIT_ZEROS = (0xFF10, 0x0660, 0x06F0, 0x0966)

# letters other than ASCII that may appear in an address (Latin, Greek, Cyrillic... CJK, Hangul)
_U = (
    "\\u00c0-\\u02af\\u0370-\\u1fff\\u2c00-\\u2dff\\u3040-\\ud7ff\\uf900-\\ufdff\\ufe70-\\ufefe"
    "\\uff21-\\uff3a\\uff41-\\uff5a\\uff66-\\uffdc"
)
_LABEL = f"[A-Za-z0-9{_U}-]+"
_EMAIL_PATTERN = (
    f"[A-Za-z0-9{_U}._%+-]+(?:@|%40){_LABEL}(?:\\.{_LABEL})*\\.(?:xn--[A-Za-z0-9-]+|[A-Za-z{_U}]{{2,}})"
)
# replaced, one character for one, by "x" before phone numbers are looked for
_MASK_PATTERN = (
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # UUID
    "|\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}(?:[T ]\\d{1,2}:\\d\\d)?"  # 2026-10-05, 2026-10-05 10:00
    "|\\d{1,2}[-/.]\\d{1,2}[-/.](?:19|20)\\d\\d"  # 05.10.2026, 10/05/2026
    "|\\d{1,2}:\\d\\d(?::\\d\\d)?"  # times
    "|\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}"  # IPv4
)
_SEP = "[ ().\\-/]"
_PHONE_PATTERN = (
    "(^|[^\\w+])("
    f"(?:\\+|00)[ (]{{0,2}}\\d(?:{_SEP}{{0,3}}\\d){{6,14}}"  # international
    f"|\\(\\d{{1,5}}\\){_SEP}{{0,3}}\\d(?:{_SEP}{{0,3}}\\d){{3,13}}"  # (area code) number
    f"|\\d{{2,5}}(?:{_SEP}{{1,3}}\\d{{1,5}}){{2,6}}"  # three or more groups
    ")(?!\\w)"
)
# words that announce a phone number; a non-ASCII letter is written as a class of both cases
_PHONE_WORDS = (
    "call|calling|phone|telephone|tel|mobile|cell|cellphone|whatsapp|sms|fax",
    "telefon|telefonnummer|handy|mobil|mobilnummer|anrufen|rufnummer",
    "t[\\u00e9\\u00c9]l[\\u00e9\\u00c9]phone|t[\\u00e9\\u00c9]l|portable|appeler|appelez|appelle",
    "tel[\\u00e9\\u00c9]fono|llamar|llame|ll[\\u00e1\\u00c1]mame|ll[\\u00e1\\u00c1]menos|m[\\u00f3\\u00d3]vil|movil|celular",
    "telefone|ligue|ligar|telem[\\u00f3\\u00d3]vel|telemovel",
    "telefono|cellulare|chiama|chiamare|chiamami",
    "telefoon|bellen|mobiel",
)
_CJK_PHONE_WORDS = (
    "\\u96fb\\u8a71|\\u7535\\u8bdd|\\u643a\\u5e2f|\\u624b\\u673a|\\u624b\\u6a5f"  # 電話 电话 携帯 手机 手機
)
_WORD_PHONE_PATTERN = (
    f"(?:(^|[^A-Za-z\\u00c0-\\u024f])(?:{'|'.join(_PHONE_WORDS)})(?![A-Za-z\\u00c0-\\u024f])|()(?:{_CJK_PHONE_WORDS}))"
    f"[^\\d\\n]{{0,20}}?(\\+?\\(?\\d(?:{_SEP}{{0,3}}\\d){{5,14}})(?!\\w)"
)
_CONTACT_KEY_PATTERN = (
    "e[-_]?mail|mail|phone|tel|t\\u00e9l|mobile|mobil|cell|fax|sms|whatsapp|handy|portable|m\\u00f3vil|movil"
    f"|celular|{_CJK_PHONE_WORDS}"
)

#: The rules the capture snippet embeds (``var RULES = ...`` in ``capture/snippet.js``).
SNIPPET_RULES: dict[str, object] = {
    "fold": _FOLD_TO,
    "digit_zeros": list(_DIGIT_ZEROS),
    "email": _EMAIL_PATTERN,
    "mask": _MASK_PATTERN,
    "phone": _PHONE_PATTERN,
    "word_phone": _WORD_PHONE_PATTERN,
    "contact_key": _CONTACT_KEY_PATTERN,
}

_FOLD = {ord(c): to for to, chars in _FOLD_TO.items() for c in chars}
_FOLD.update({zero + i: str(i) for zero in _DIGIT_ZEROS for i in range(10)})
_EMAIL = re.compile(_EMAIL_PATTERN, re.I | re.A)
_MASK = re.compile(_MASK_PATTERN, re.I | re.A)
_PHONE = re.compile(_PHONE_PATTERN, re.A)
_WORD_PHONE = re.compile(_WORD_PHONE_PATTERN, re.I | re.A)
_CONTACT_KEY = re.compile(_CONTACT_KEY_PATTERN, re.I | re.A)
_WHOLE_PHONE = re.compile(r"\s*(?:\+|00)?[\d ().\-/]+\s*", re.A)
_URL_IN_TEXT = re.compile(r"(?:https?|ftp)://[^\s\"'<>]+", re.I)
_URL_PARTS = re.compile(r"([a-z][a-z0-9+.\-]*:(?://[^/?#]*)?)?([^?#]*)(\?[^#]*)?(#.*)?", re.I | re.S)
_JSON_KEYED = re.compile(r'"([^"\\]*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+\-]*)')
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def fold(text: str) -> str:
    """Unicode spaces, dashes, digits, ``＠`` and ``＋`` as their ASCII forms, one character for one."""
    return text.translate(_FOLD)


def _digits(text: str) -> int:
    return sum("0" <= ch <= "9" for ch in text)


def _thousands(number: str) -> bool:
    """``12.345.678`` or ``12 345 678``: groups of three after the first, one separator throughout."""
    groups = re.split(r"[ ().\-/]+", number.strip("()"))
    seps = set(re.findall(r"[ ().\-/]+", number))
    return (
        len(groups) >= 3
        and len(groups[0]) <= 3
        and all(len(g) == 3 for g in groups[1:])
        and seps <= {".", " "}
    )


def phone_spans(text: str) -> list[tuple[int, int]]:
    """Where phone numbers are in ``text`` (already folded): (start, end) pairs, sorted."""
    masked = _MASK.sub(lambda m: "x" * len(m.group(0)), text)
    spans = []
    for m in _WORD_PHONE.finditer(masked):
        if 6 <= _digits(m.group(3)) <= 15:
            spans.append(m.span(3))
    pos = 0
    while (found := _PHONE.search(masked, pos)) is not None:
        number = found.group(2)
        if 7 <= _digits(number) <= 15 and (
            number[0] in "+(" or number.startswith("00") or not _thousands(number)
        ):
            spans.append(found.span(2))
            pos = found.end(2)
        else:
            pos = found.start(2) + 1
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _redact_spans(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], REDACTED]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def looks_like_phone(value: str) -> bool:
    """True when the whole value is a phone number: 7-15 digits with a leading ``+``/``00`` or with
    separators, and not a date, a time or an IPv4 address.
    """
    folded = fold(value)
    if not _WHOLE_PHONE.fullmatch(folded) or not 7 <= _digits(folded) <= 15:
        return False
    stripped = folded.strip()
    if stripped.startswith(("+", "00")):
        return True
    return any(ch in stripped for ch in " ().-/") and bool(phone_spans(stripped))


def looks_like_email(value: str) -> bool:
    return _EMAIL.search(fold(value)) is not None


def scrub_text(text: str) -> str:
    """Redact email addresses and phone numbers in free text (and contact details in the URLs in it)."""
    if "://" in text:
        text = _URL_IN_TEXT.sub(lambda m: scrub_url(m.group(0)), text)
    folded = fold(text)
    spans = [m.span() for m in _EMAIL.finditer(folded)] if ("@" in folded or "%40" in folded) else []
    if spans:  # emails first, so that digits inside an address are not also read as a phone number
        text = _redact_spans(text, _merge(spans))
        folded = fold(text)
    return _redact_spans(text, phone_spans(folded))


def _holds_contact(value: str) -> bool:
    return looks_like_email(value) or looks_like_phone(value) or scrub_text(value) != value


def scrub_url(url: str) -> str:
    """Redact contact details from one URL (see the module docstring)."""
    m = _URL_PARTS.fullmatch(url)
    if m is None:  # pragma: no cover - the pattern matches any text
        return url
    head, path, query, fragment = (g or "" for g in m.groups())
    segments = path.split("/")
    path = "/".join(REDACTED if s and _holds_contact(unquote(s)) else s for s in segments)
    out = head + path + _scrub_params(query) + _scrub_params(fragment)
    return _EMAIL.sub(REDACTED, out) if ("@" in out or "%40" in out) else out


def _scrub_params(part: str) -> str:
    """A query string or fragment (with its leading ``?`` or ``#``), piece by piece: ``key=value``
    pairs by their name and decoded value, other pieces (``#/contact/...``) segment by segment.
    """
    if not part:
        return part
    out = []
    for piece in re.split(r"([&;])", part[1:]):
        key, eq, value = piece.partition("=")
        if eq:
            if value and (_CONTACT_KEY.search(unquote_plus(key)) or _holds_contact(unquote_plus(value))):
                piece = f"{key}={REDACTED}"
        elif piece not in ("&", ";"):
            piece = "/".join(
                REDACTED if s and _holds_contact(unquote_plus(s)) else s for s in piece.split("/")
            )
        out.append(piece)
    return part[0] + "".join(out)


def scrub_json_text(text: str) -> str:
    """Redact contact details from raw JSON text such as ``meetingInfo``."""

    def keyed(m: re.Match[str]) -> str:
        if _CONTACT_KEY.search(m.group(1)):
            return f'"{m.group(1)}"{m.group(2)}"{REDACTED}"'
        return m.group(0)

    def string(m: re.Match[str]) -> str:
        inner = m.group(1)
        try:
            decoded = json.loads(f'"{inner}"') if "\\" in inner else inner
        except ValueError:
            decoded = inner
        if looks_like_phone(decoded):
            return f'"{REDACTED}"'
        scrubbed = scrub_text(decoded)
        if scrubbed == decoded:
            return m.group(0)
        return json.dumps(scrubbed, ensure_ascii=False)

    out = _JSON_KEYED.sub(keyed, text)
    out = _JSON_STRING.sub(string, out)
    return scrub_text(out)  # text outside strings: numbers, or text that is not JSON at all


def scrub_record_text(text: str) -> str:
    """Redact contact details from the text of a whole record (a rejected line, an event name)."""
    return scrub_json_text(text)


# ---------------------------------------------------------------- keyed pseudonyms


def key_path() -> Path:
    """Where the generated pseudonym key is kept: ``$XDG_CONFIG_HOME/chatanalytics/pseudonym.key``
    (``~/.config/...`` when ``XDG_CONFIG_HOME`` is not set).
    """
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "chatanalytics" / "pseudonym.key"


_SCOPED_KEY: ContextVar[bytes | None] = ContextVar("chatanalytics_pseudonym_key", default=None)


def _key_bytes(key: object) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes) or len(key) == 0:
        raise InvalidParameterError("pseudonym_key", key, reason="a non-empty str or bytes is expected")
    return key


@contextmanager
def using_pseudonym_key(key: str | bytes | None) -> Iterator[None]:
    """Within the block, pseudonyms are keyed with ``key`` (nothing changes when it is ``None``)."""
    token = _SCOPED_KEY.set(None if key is None else _key_bytes(key))
    try:
        yield
    finally:
        _SCOPED_KEY.reset(token)


def pseudonym_key(key: str | bytes | None = None) -> bytes:
    """The key of the pseudonyms, the first of: ``key``; the ``pseudonym_key`` given to the reader
    (:func:`using_pseudonym_key`); the ``CHATANALYTICS_PSEUDONYM_KEY`` environment variable; a random
    key generated once and kept in :func:`key_path` (mode 0600).

    The same key gives the same pseudonym for the same id on every run and machine.
    """
    if key is None:
        key = _SCOPED_KEY.get() or os.environ.get(KEY_ENV) or None
    if key is not None:
        return _key_bytes(key)
    path = key_path()
    try:
        stored = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        stored = ""
    if stored:
        return stored.encode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = secrets.token_hex(32)
    try:  # created 0600; of two concurrent first runs, the first writer wins and both use its key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode("ascii")
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(fresh + "\n")
    return fresh.encode("ascii")


def pseudonymise_id(value: str, key: bytes | None = None) -> str:
    """An id that is, or holds, an email address or a phone number becomes ``redacted-<16 hex
    digits>`` of its HMAC-SHA256 under ``key`` (:func:`pseudonym_key` when ``None``); others are
    unchanged.
    """
    if not _holds_contact(value):
        return value
    digest = hmac.new(key if key is not None else pseudonym_key(), value.encode("utf-8"), hashlib.sha256)
    return "redacted-" + digest.hexdigest()[:16]


# ---------------------------------------------------------------- whole columns
# Which values can hold contact details, as RE2 patterns run on the whole column in Arrow (supersets:
# the Python rules above decide). Only matching distinct values go through those rules.


def _re2(pattern: str) -> str:
    r"""A pattern of the shared rules in RE2's spelling (``\x{hhhh}`` for ``\uhhhh``)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern)


_AT = r"@|%40|\x{ff20}|\x{fe6b}"
# ASCII classes only: RE2 with Unicode classes (\pN, \pL) was 30 times slower here. A character that is
# not an ASCII letter or digit (so any Unicode space or dash), or %XX, may separate digits.
_GAP = r"(?:[^0-9A-Za-z]|%[0-9A-Fa-f]{2})"
_LETTER = r"A-Za-z\x{c0}-\x{24f}"
_WORDS_RE2 = (
    rf"(?:^|[^{_LETTER}])(?i:{_re2('|'.join(_PHONE_WORDS))})(?:[^{_LETTER}\n][^\n]{{0,21}})?[0-9]"
    rf"|(?:{_re2(_CJK_PHONE_WORDS)})[^\n]{{0,22}}[0-9]"
)
_OTHER_DIGITS = "".join(rf"\x{{{z:04x}}}-\x{{{z + 9:04x}}}" for z in _DIGIT_ZEROS)
_D7 = rf"[0-9](?:{_GAP}{{0,3}}[0-9]){{6}}"  # seven digits, separated or not
#: What every phone number the rules find holds: a ``+`` or a leading ``00`` before seven digits, an
#: area code in parentheses, three groups of digits, a phone word before a digit, or digits of another
#: script (full-width, Arabic-Indic...). Hexadecimal ids and bare runs of digits do not match.
MAY_HOLD_PHONE = (
    rf"(?:[+\x{{ff0b}}\x{{fe62}}]|%2[bB]){_GAP}{{0,3}}{_D7}"
    rf"|(?:^|[^0-9A-Za-z])00{_GAP}{{0,3}}{_D7}"
    rf"|[(\x{{ff08}}][0-9]{{1,5}}[)\x{{ff09}}]{_GAP}{{0,3}}[0-9](?:{_GAP}{{0,3}}[0-9]){{2}}"
    rf"|[0-9]{{2,5}}{_GAP}{{1,3}}[0-9]{{1,5}}{_GAP}{{1,3}}[0-9]"
    rf"|[{_OTHER_DIGITS}]"
    rf"|{_WORDS_RE2}"
)
_CONTACT_WORDS = _re2(_CONTACT_KEY_PATTERN)
_ESCAPED = r"\\u00|\\u20|\\u30|\\uff"  # JSON escapes of the characters folded above
PREFILTERS: dict[str, str] = {
    # (full-width digits and signs, percent-encoded, hold no ASCII digit: %EF%BC%91 is 1)
    "page_url": rf"{_AT}|(?i:{_CONTACT_WORDS})[^=&#;]*=|{MAY_HOLD_PHONE}|(?i:%EF%BC|%EF%BD)",
    "meeting_info": rf"{_AT}|(?i:{_CONTACT_WORDS})|{MAY_HOLD_PHONE}|{_ESCAPED}",
    **dict.fromkeys(
        ("conversation_name", "agent_name", "conversation_type", "ui_type"), rf"{_AT}|{MAY_HOLD_PHONE}"
    ),
}
#: Ids are looked at by Python, once per distinct value, only when they hold an address sign, a ``+``,
#: a phone word, an area code in parentheses or three groups of digits. A bare run of digits is never
#: a phone number in an id.
ID_PREFILTER = rf"{_AT}|{MAY_HOLD_PHONE}"
#: Event ids (one per event, so too many to search with patterns) are looked at when they hold one of
#: these, or a character that is not ASCII: an address sign, a ``+``, a percent-encoding, a space or a
#: parenthesis. An event id written ``555-010-0123`` (ASCII digits, dashes or dots alone) is not looked at.
EVENT_ID_NEEDLES = ("@", "+", "%", " ", "(")
MASK_RE2 = "(?i)" + _re2(_MASK_PATTERN)
_RULES: dict[str, Callable[[str], str]] = {
    "page_url": scrub_url,
    "meeting_info": scrub_json_text,
    "conversation_name": scrub_text,
    "agent_name": scrub_text,
    "conversation_type": scrub_text,
    "ui_type": scrub_text,
}


def scrub_table(
    table: pa.Table,
    *,
    key: str | bytes | None = None,
    distinct: Mapping[str, pa.Array | pa.ChunkedArray] | None = None,
) -> tuple[pa.Table, dict[str, int]]:
    """Scrub every text column of a canonical Arrow table; return it and rows changed per column.

    ``key`` keys the pseudonyms of ids (see :func:`pseudonym_key`); it is looked up only when an id
    needs one. ``distinct`` may give, by column, values that include every value of that column (the
    dictionaries the columns were decoded from), so that they need not be found by hashing every row.
    """
    distinct = distinct or {}
    changed: dict[str, int] = {}
    present = [
        c
        for c in (*_RULES, *ID_COLUMNS)
        if c in table.column_names and table.column(c).null_count < table.num_rows
    ]
    resolved: list[bytes] = []

    def pseudonym(value: str) -> str:
        if not resolved:
            resolved.append(pseudonym_key(key))
        return pseudonymise_id(value, resolved[0])

    for column in present:
        col = table.column(column)
        if column == "event_id":
            if not _event_ids_flagged(table):
                continue
            hits = functools.reduce(
                pc.or_,
                [pc.match_substring(col, needle) for needle in EVENT_ID_NEEDLES]
                + [pc.not_equal(pc.binary_length(col), pc.utf8_length(col))],
            )
            new, n = map_distinct(col, pseudonym, candidates=pc.fill_null(hits, False))
        elif column in ID_COLUMNS:
            new, n = _map_ids(col, pseudonym, distinct.get(column))
        else:
            new, n = _map_flagged(col, _RULES[column], PREFILTERS[column], distinct.get(column))
        if n:
            table = table.set_column(table.column_names.index(column), column, new)
            changed[column] = n
    return table, changed


#: Rows sampled to tell whether an id column is mostly distinct values.
_SAMPLE_ROWS = 65_536
#: Rows per piece of a column that the pattern is run on, two pieces at a time.
_PIECE_ROWS = 65_536


def _map_ids(
    col: pa.ChunkedArray, pseudonym: Callable[[str], str], values: pa.Array | pa.ChunkedArray | None = None
) -> tuple[pa.ChunkedArray, int]:
    """Pseudonymise the ids that match :data:`ID_PREFILTER`.

    The pattern runs once per distinct id (``values``, when the distinct ids are known), unless the ids
    are mostly distinct (session and visitor ids, judged on a sample): then finding the distinct ids
    costs more than running the pattern on every row, on two cores. Either way the same ids reach
    ``pseudonym``.
    """
    if values is not None:
        return map_distinct(col, pseudonym, prefilter=ID_PREFILTER, values=values)
    sample = col.slice(0, _SAMPLE_ROWS).drop_null()
    if len(sample) == 0 or pc.count_distinct(sample).as_py() * 4 < len(sample):
        return map_distinct(col, pseudonym, prefilter=ID_PREFILTER)
    hits = _match_rows(col, ID_PREFILTER)
    if not pc.any(hits).as_py():
        return col, 0
    return map_distinct(col, pseudonym, candidates=hits)


def _match_rows(col: pa.ChunkedArray, pattern: str) -> pa.ChunkedArray:
    """Whether each row matches the RE2 ``pattern`` (false for null), run on two threads: Arrow
    releases the GIL while it matches.
    """
    pieces = [
        chunk.slice(start, _PIECE_ROWS) for chunk in col.chunks for start in range(0, len(chunk), _PIECE_ROWS)
    ]

    def match(piece: pa.Array) -> pa.Array:
        return pc.fill_null(pc.match_substring_regex(piece, pattern), False)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return pa.chunked_array(list(pool.map(match, pieces)), pa.bool_())


def _map_flagged(
    col: pa.ChunkedArray,
    rule: Callable[[str], str],
    prefilter: str,
    values: pa.Array | pa.ChunkedArray | None = None,
) -> tuple[pa.ChunkedArray, int]:
    """``rule`` on the distinct values that match ``prefilter`` once their dates, times, UUIDs and IPv4
    addresses are masked (so that a meeting's start time is not taken for a phone number). ``values``:
    the distinct values, or a superset of them, when known.
    """
    uniques = pc.unique((col if values is None else values).drop_null())
    if len(uniques) == 0:
        return col, 0
    masked = pc.replace_substring_regex(uniques, MASK_RE2, "x")
    flagged = uniques.filter(pc.match_substring_regex(masked, prefilter))
    if len(flagged) == 0:
        return col, 0
    return map_distinct(col, rule, candidates=pc.fill_null(pc.is_in(col, value_set=flagged), False))


def _event_ids_flagged(table: pa.Table) -> bool:
    """Whether some event id holds one of :data:`EVENT_ID_NEEDLES` (one parallel DuckDB scan: event ids
    are as many as the events).
    """
    checks = " OR ".join(
        [f"contains(event_id, '{needle}')" for needle in EVENT_ID_NEEDLES]
        + ["strlen(event_id) <> length(event_id)"]
    )
    con = cursor()
    try:
        con.register("ids", table.select(["event_id"]))
        rows = con.sql(f"SELECT bool_or({checks}) FROM ids").fetchall()
    finally:
        con.close()
    return bool(rows and rows[0][0])


def scrub_frame(df: pd.DataFrame, *, key: str | bytes | None = None) -> dict[str, int]:
    """Scrub a canonical pandas frame in place (see :func:`scrub_table`)."""
    cols = [c for c in (*_RULES, *ID_COLUMNS) if c in df.columns]
    table = pa.Table.from_pandas(df[cols], preserve_index=False)
    table, changed = scrub_table(table, key=key)
    for column in changed:
        df[column] = pd.Series(table.column(column), dtype=STRING, index=df.index)
    return changed


def scrub_column(values: pd.Series) -> pd.Series:
    """A text column of a report (rejected lines, ignored names) with contact details redacted, worked
    out once per distinct value.
    """
    arr = pa.chunked_array([pa.array(values.array, pa.large_string(), from_pandas=True)])
    new, n = map_distinct(arr, scrub_record_text, prefilter=RECORD_PREFILTER)
    if not n:
        return values
    return pd.Series(new.to_pandas(), index=values.index, dtype=values.dtype, name=values.name)


#: Record text (rejected lines, ignored names): anything the text, URL or JSON rules could change.
RECORD_PREFILTER = rf"{_AT}|{MAY_HOLD_PHONE}|(?i:{_CONTACT_WORDS})|{_ESCAPED}"
