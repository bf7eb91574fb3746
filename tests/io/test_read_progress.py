"""read_events(progress=True): a progress bar over the files' bytes, the same frame as without."""

from __future__ import annotations

import pandas as pd

import chatanalytics as ca


def test_progress_bar_counts_every_byte_and_changes_nothing(write, capsys):
    from tests.conftest import capture_line as line

    a = write("a.jsonl", [line("2026-11-02T14:00:00Z", "CONVERSATION_TRIGGERED", sid="s1", id=1)])
    b = write("b.jsonl.gz", [line("2026-11-02T14:00:05Z", "CONVERSATION_ENGAGED", sid="s1", id=1)])
    plain = ca.read_events([a, b])
    shown = ca.read_events([a, b], progress=True)
    pd.testing.assert_frame_equal(plain, shown)
    err = capsys.readouterr().err
    total = a.stat().st_size + b.stat().st_size
    assert "reading 2 file(s)" in err and "100%" in err and f"{total}" in err.replace(",", "")
