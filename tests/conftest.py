"""Shared helpers for the tests: writing small capture files by hand."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest


def capture_line(ts: str, event: str, **payload: object) -> str:
    """One capture-format record as a JSON line."""
    extra = {k[4:]: payload.pop(k) for k in list(payload) if k.startswith("top_")}
    return json.dumps({"ts": ts, "event": event, "payload": payload, **extra})


@pytest.fixture
def write(tmp_path: Path):
    """Write lines (text or bytes, joined by newlines) under tmp_path; gzip when the name ends in .gz."""

    def _write(name: str, lines: list[str | bytes] | bytes, *, newline_at_end: bool = True) -> Path:
        if isinstance(lines, bytes):
            data = lines
        else:
            data = b"\n".join(x if isinstance(x, bytes) else x.encode("utf-8") for x in lines)
            if newline_at_end and lines:
                data += b"\n"
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return _write
