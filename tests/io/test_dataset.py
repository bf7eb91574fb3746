"""Partitioned Parquet datasets: written by day, read back whole, and analysed lazily in DuckDB."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

import chatanalytics as ca
from chatanalytics.analysis._funnel import OTHER
from chatanalytics.cli import main
from chatanalytics.io import write_dataset
from chatanalytics.io._commits import PARTITION


def _events():
    rows = [
        # s1 crosses UTC midnight: its rows land in two day folders
        ("2026-11-02 23:59:59.999", "triggered", "s1"),
        ("2026-11-03 00:00:00", "engaged", "s1"),
        ("2026-11-03 00:01:00", "completed", "s1"),
        ("2026-11-03 10:00:00", "triggered", "s2"),
        ("2026-11-04 10:00:00", "triggered", "s3"),
        ("2026-11-04 10:00:02", "engaged", "s3"),
    ]
    return ca.make_events(
        {"event_time_utc": t, "event_type": e, "session_id": s, "conversation_id": 4471902}
        for t, e, s in rows
    )


def _rows_per_folder(root):
    return {
        d.name: sum(pq.read_metadata(f).num_rows for f in d.glob("*.parquet"))
        for d in sorted(root.glob(f"{PARTITION}=*"))
    }


def test_one_folder_per_utc_day(tmp_path):
    root = tmp_path / "events"
    assert write_dataset(_events(), root) == 3
    assert _rows_per_folder(root) == {
        "event_date=2026-11-02": 1,
        "event_date=2026-11-03": 3,
        "event_date=2026-11-04": 2,
    }


def test_open_events_gives_the_same_funnel_as_the_frame(tmp_path):
    root = tmp_path / "events"
    write_dataset(_events(), root)
    table = ca.open_events(root)
    assert int(table.count().execute()) == 6
    steps = ["triggered", "engaged", "completed"]
    lazy = ca.funnel(table, steps=steps, window="30min").frame()
    eager = ca.funnel(_events(), steps=steps, window="30min").frame()
    pd.testing.assert_frame_equal(lazy, eager)
    # by hand: 3 sessions triggered; s1 and s3 engaged; s1 completed (across midnight)
    assert lazy["converted"].tolist() == [3, 2, 1]


def test_read_events_reads_a_dataset_back_with_counts_and_provenance(tmp_path):
    events = _events()
    events.loc[5, "event_count"] = 4  # an aggregated row keeps its count through Parquet
    root = tmp_path / "events"
    write_dataset(events, root)
    back = ca.read_events(root, warn=False)
    assert back["event_time_utc"].tolist() == events["event_time_utc"].tolist()
    assert back["event_count"].tolist() == [1, 1, 1, 1, 1, 4]
    assert back["conversation_id"].tolist() == ["4471902"] * 6
    assert ca.load_report(back).files["records"].sum() == 6


def test_append_adds_files_and_a_full_folder_needs_it(tmp_path):
    root = tmp_path / "events"
    write_dataset(_events(), root)
    with pytest.raises(ca.InvalidParameterError, match="append=True"):
        write_dataset(_events(), root)
    assert write_dataset(_events(), root, append=True) == 3
    assert int(ca.open_events(root).count().execute()) == 12
    (tmp_path / "file.parquet").write_bytes(b"x")
    with pytest.raises(ca.InvalidParameterError, match="is a file"):
        write_dataset(_events(), tmp_path / "file.parquet")


def test_open_events_errors_name_the_path(tmp_path):
    with pytest.raises(ca.LoaderError, match="file not found"):
        ca.open_events(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ca.LoaderError, match=r"holds no \.parquet files"):
        ca.open_events(tmp_path / "empty")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "other.parquet")
    with pytest.raises(ca.LoaderError, match="does not hold canonical events"):
        ca.open_events(tmp_path / "other.parquet")


def test_cli_convert_writes_and_appends_a_dataset(tmp_path, capsys):
    src = tmp_path / "events.parquet"
    _events().to_parquet(src, index=False)
    root = tmp_path / "ds"
    assert main(["convert", str(src), "--out", str(root)]) == 0
    assert "3 file(s) partitioned by UTC day" in capsys.readouterr().out
    assert main(["convert", str(src), "--out", str(root), "-q"]) == 1
    assert "--append" in capsys.readouterr().err
    # the same export again: recognised by its fingerprint and skipped, unless --force
    assert main(["convert", str(src), "--out", str(root), "--append", "-q"]) == 0
    assert "skipped: " in capsys.readouterr().err
    assert sum(_rows_per_folder(root).values()) == 6
    assert main(["convert", str(src), "--out", str(root), "--append", "--force", "-q"]) == 0
    assert sum(_rows_per_folder(root).values()) == 12
    assert main(["convert", str(src), "--out", str(tmp_path / "one.parquet"), "--append", "-q"]) == 1


def test_a_lazy_funnel_with_a_breakdown_equals_the_frame_one(tmp_path):
    events = ca.simulate(400, seed=9)  # SYNTHETIC
    root = tmp_path / "events"
    write_dataset(events, root)
    steps = ["triggered", "engaged", "completed"]
    # more conversation names than top: the others merge into one group, as in process
    lazy = ca.funnel(ca.open_events(root), steps=steps, by="conversation_name", top=2)
    eager = ca.funnel(events, steps=steps, by="conversation_name", top=2)
    assert lazy.kept_groups == eager.kept_groups and len(lazy.kept_groups) == 2
    assert set(lazy.frame()["group"]) == {*lazy.kept_groups, OTHER}
    pd.testing.assert_frame_equal(lazy.frame(), eager.frame())
    pd.testing.assert_frame_equal(lazy.curves, eager.curves)
    group = lazy.kept_groups[0]
    a = lazy.units(2, group, "dropped").sort_values(["session_id", "conversation_id"]).reset_index(drop=True)
    b = eager.units(2, group, "dropped").sort_values(["session_id", "conversation_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(lazy.over_time("week"), eager.over_time("week"))
