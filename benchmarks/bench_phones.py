"""Phone numbers in free text: the hand-written rules against Google's libphonenumber (``phonenumbers``).

A synthetic corpus of distinct values, the way text columns hold them: 10% phone numbers in the forms of
``tests/data/privacy/contact_corpus.json`` (Unicode spaces and dashes, full-width digits, local numbers
after a phone word in eight languages, international and grouped forms) with fresh random digits, and
90% look-alikes that are not phone numbers (order and invoice numbers, prices, dates and times, UUIDs,
epoch timestamps, IPv4 addresses, versions, names with a year). A cheap prefilter (at least 7 digits,
as Arrow would run it) chooses the values each detector looks at; both see the same ones.

Counted per value: found (a phone value redacted / matched), missed, false positives (a look-alike
redacted / matched); and the time per 100,000 distinct values. ``phonenumbers`` runs
``PhoneNumberMatcher`` for one region (US by default) at the leniencies ``POSSIBLE`` and ``VALID``.

The two detectors are meant to differ (the benchmark measures which finds more); the check that must
hold is that the rules find every phone number of the corpus, and the run exits non-zero if they miss one.

Usage: ``python benchmarks/bench_phones.py [--values 100000] [--region US] [--smoke]`` (``phonenumbers``
must be importable; it is not a dependency of the package). ``--smoke``: 2,000 values; the project's dev
venv has no ``phonenumbers``, so there only the rules run.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import time
from pathlib import Path

from _harness import parser, record, row

from chatanalytics.io._privacy import fold, scrub_text

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "privacy" / "contact_corpus.json"


def _fresh_digits(template: str, rng: random.Random) -> str:
    """The template with a real area code for 555, a real exchange for 01x, and fresh last digits, so
    that the numbers are valid ones (libphonenumber's VALID leniency rejects the fictional 555-01xx)."""
    text = template.replace("555", rng.choice(("212", "415", "617", "312", "646")))
    text = re.sub(r"(?<!\d)01(\d)(?!\d)", lambda m: f"{rng.randrange(2, 10)}4{m.group(1)}", text)
    return re.sub(r"\d\d(?=\D*$)", lambda m: f"{rng.randrange(100):02d}", text)


def corpus(n: int, seed: int = 7) -> tuple[list[str], list[bool]]:
    rng = random.Random(seed)
    phones = [c["text"] for c in json.loads(CORPUS.read_text(encoding="utf-8"))["contacts"] if "digits" in c]
    fillers = ["Pricing dialogue: ", "note ", "", "Meeting with Dana, ", "Demo - "]
    look_alikes = [
        lambda: f"Order ORD-{rng.randrange(2020, 2027)}-{rng.randrange(10**5, 10**6)}",
        lambda: f"Invoice {rng.randrange(10**6, 10**9)}",
        lambda: f"{rng.randrange(1_600_000_000_000, 1_800_000_000_000)}",
        lambda: f"price {rng.randrange(1, 999)}.{rng.randrange(100, 999)}.{rng.randrange(100, 999)},00 EUR",
        lambda: (
            f"${rng.randrange(1, 999)},{rng.randrange(100, 999)},"
            f"{rng.randrange(100, 999)}.{rng.randrange(10, 99)}"
        ),
        lambda: f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z",
        lambda: (
            f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} "
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        ),
        lambda: f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.2026 {rng.randrange(24):02d}:30",
        lambda: "-".join("".join(rng.choice("0123456789abcdef") for _ in range(k)) for k in (8, 4, 4, 4, 12)),
        lambda: "-".join("".join(rng.choice("0123456789") for _ in range(k)) for k in (8, 4, 4, 4, 12)),
        lambda: ".".join(str(rng.randrange(256)) for _ in range(4)),
        lambda: f"session {rng.randrange(10**9, 10**10)}.{rng.randrange(10**9, 10**10)}",
        lambda: (
            f"v{rng.randrange(10)}.{rng.randrange(100)}.{rng.randrange(1000)} "
            f"build {rng.randrange(10**6, 10**8)}"
        ),
        lambda: (
            f"Pricing page {rng.randrange(2019, 2027)} ({rng.randrange(1, 99)}% off) "
            f"#{rng.randrange(10**6, 10**7)}"
        ),
        lambda: f"SKU {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}",
    ]
    values: dict[str, bool] = {}
    while len(values) < n:
        if rng.random() < 0.1:
            v = rng.choice(fillers) + _fresh_digits(rng.choice(phones), rng)
            values.setdefault(v, True)
        else:
            values.setdefault(rng.choice(look_alikes)(), False)
    return list(values), list(values.values())


_SEVEN = re.compile(r"(?:\d\D{0,3}){6}\d")


def run(values: list[str], truth: list[bool], detect) -> dict:
    start = time.perf_counter()
    flagged = [bool(_SEVEN.search(fold(v))) and detect(v) for v in values]
    seconds = time.perf_counter() - start
    found = sum(f and t for f, t in zip(flagged, truth, strict=True))
    false_pos = sum(f and not t for f, t in zip(flagged, truth, strict=True))
    return {
        "found": found,
        "missed": sum(truth) - found,
        "false_positives": false_pos,
        "seconds_per_100k": round(seconds * 100_000 / len(values), 2),
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--values", type=int, default=100_000)
    p.add_argument("--region", default="US")
    args = p.parse_args()
    values, truth = corpus(2_000 if args.smoke else args.values)
    out = {"values": len(values), "phones": sum(truth)}
    out["rules"] = run(values, truth, lambda v: scrub_text(v) != v)
    if out["rules"]["missed"]:
        raise SystemExit(f"the rules missed {out['rules']['missed']} phone numbers: {out['rules']}")
    if importlib.util.find_spec("phonenumbers") is None and args.smoke:
        print(json.dumps(out, indent=2))
        return
    import phonenumbers

    for leniency in ("POSSIBLE", "VALID"):
        level = getattr(phonenumbers.Leniency, leniency)

        def matcher(v: str, level=level) -> bool:
            return any(True for _ in phonenumbers.PhoneNumberMatcher(v, args.region, leniency=level))

        out[f"phonenumbers_{leniency.lower()}"] = run(values, truth, matcher)
    print(json.dumps(out, indent=2))
    size = "smoke" if args.smoke else str(len(values))
    rows = [
        row(f"phones_rules_vs_phonenumbers_{level}", size, out["rules"]["seconds_per_100k"],
            f"phonenumbers {level.upper()}", out[f"phonenumbers_{level}"]["seconds_per_100k"], None, None)
        for level in ("possible", "valid")
    ]  # fmt: skip
    record("bench_phones", rows, args.smoke)


if __name__ == "__main__":
    main()
