"""Print one table of every ratio recorded in ``benchmarks/results.json`` (the last step of ``make bench``).

Each row: the benchmark and its measurement, the input size, our time, the anchor (what it is compared
with) and its time, the ratio (ours over the anchor), the target ratio and whether it is met, whether both
sides gave the same numbers, and the date of the run.
Usage: ``python benchmarks/report.py [--results benchmarks/results.json]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _harness import RESULTS

HEADER = (
    "benchmark",
    "measurement",
    "size",
    "ours",
    "anchor",
    "anchor time",
    "ratio",
    "target",
    "agree",
    "date",
)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f} s"


def _target(ratio: float | None, target: float | None) -> str:
    if target is None:
        return "-"
    if ratio is None:
        return f"<= {target:g}x"
    return f"<= {target:g}x ({'met' if ratio <= target else 'missed'})"


def _agree(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[value]


def table(rows: list[dict]) -> str:
    """The rows as one Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        cells = (
            r["benchmark"],
            r["name"],
            r["size"],
            _seconds(r["ours_s"]),
            r["anchor"] or "-",
            _seconds(r["anchor_s"]),
            "-" if r["ratio"] is None else f"{r['ratio']:.2f}x",
            _target(r["ratio"], r["target"]),
            _agree(r["agree"]),
            r["date"],
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", type=Path, default=RESULTS)
    path = p.parse_args().results
    if not path.exists():
        raise SystemExit(f"{path} does not exist yet: run a benchmark (make bench) first")
    print(table(json.loads(path.read_text(encoding="utf-8"))["rows"]))


if __name__ == "__main__":
    main()
