"""simulate() and load_sample(): what they return agrees with read_events on the files they write."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd

import chatanalytics as ca
from chatanalytics.datasets import SAMPLE_PATH, SAMPLE_SEED, SAMPLE_SESSIONS
from chatanalytics.io._capture_write import write_capture

DATA = [c for c in ca.COLUMNS if c not in ("source_format", "source_file", "source_record")]


def test_simulate_returns_what_read_events_reads_back(tmp_path):
    path = tmp_path / "sim.jsonl.gz"
    events = ca.simulate(400, seed=11, path=path)
    back = ca.read_events(path, warn=False)
    pd.testing.assert_frame_equal(back[DATA], events[DATA])
    assert set(events["source_format"]) == {"simulated"}
    rep_sim, rep_file = ca.load_report(events), ca.load_report(back)
    assert rep_sim.counts() == rep_file.counts()
    assert rep_sim.counts()["duplicates"] > 0  # the simulator delivers some events twice


def test_simulated_files_are_labelled_synthetic(tmp_path):
    path = tmp_path / "sim.jsonl"
    ca.simulate(50, seed=3, path=path)
    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert records and all(r["synthetic"] is True for r in records)


def test_local_offsets_in_capture_files_keep_the_instant(tmp_path):
    """Capture files may carry any UTC offset; reading them gives the same UTC instants."""
    events = ca.simulate(200, seed=5)
    rng = np.random.default_rng(0)
    offsets = pd.Series(rng.choice([-480, -300, 0, 60, 330, 545], size=len(events)), index=events.index)
    path = write_capture(events, tmp_path / "mixed.jsonl", offsets=offsets)
    text = path.read_text()
    assert "+05:30" in text and "-08:00" in text and "+09:05" in text
    back = ca.read_events(path)
    pd.testing.assert_series_equal(back["event_time_utc"], events["event_time_utc"].reset_index(drop=True))


def test_the_bundled_sample_is_small_synthetic_and_reproducible():
    assert SAMPLE_PATH.stat().st_size < 2 * 2**20
    with gzip.open(SAMPLE_PATH, "rt") as fh:
        first = json.loads(fh.readline())
    assert first["synthetic"] is True
    sample = ca.load_sample()
    c = ca.load_report(sample).counts()
    assert c["records"] == c["events"] + c["duplicates"] + c["rejected"] + c["ignored"]
    assert c["rejected"] == c["ignored"] == 0 and c["duplicates"] > 0
    assert sample["session_id"].nunique() > 1000
    regenerated = ca.simulate(SAMPLE_SESSIONS, seed=SAMPLE_SEED)  # `make sample` gives the same file
    pd.testing.assert_frame_equal(sample[DATA], regenerated[DATA])
