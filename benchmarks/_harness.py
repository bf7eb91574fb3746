"""What the analysis benchmarks share: the cached input file and running a measurement in a child process."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def cached_input(description: str) -> tuple[str, Path]:
    """Parse ``--size`` and return it with the cached canonical Parquet of that size."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--size", default="10M", help="which cached file: 1M or 10M (make bench creates them)"
    )
    size = parser.parse_args().size
    path = CACHE / f"synthetic-{size}.parquet"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `make bench` (benchmarks/bench_read.py) first")
    return size, path


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python process and return the JSON object on its last line of output."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])
