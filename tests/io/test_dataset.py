"""Partitioned Parquet datasets: written by day, read back whole, and analysed lazily in DuckDB."""

from __future__ import annotations

import json
import shutil
import warnings

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


def test_rows_out_of_time_order_land_in_their_day_in_the_order_given(tmp_path):
    """A frame not sorted by time (days interleaved): each day's file holds that day's rows, in the
    frame's order, and the partition column is in the folder name, not in the file.
    """
    events = _events().iloc[[4, 0, 3, 5, 1, 2]].reset_index(drop=True)
    root = tmp_path / "events"
    assert write_dataset(events, root) == 3
    sessions = {}
    for d in sorted(root.glob(f"{PARTITION}=*")):
        t = pq.read_table(next(d.glob("*.parquet")))
        pairs = zip(t.column("session_id").to_pylist(), t.column("event_type").to_pylist(), strict=True)
        sessions[d.name] = list(pairs)
    # by hand from _events(): rows 4 and 5 are s3 on 11-04, row 0 is s1 on 11-02, rows 3, 1, 2 are
    # s2, s1, s1 on 11-03 in that order here
    t, e, c = "CONVERSATION_TRIGGERED", "CONVERSATION_ENGAGED", "CONVERSATION_COMPLETED"
    assert sessions == {
        "event_date=2026-11-02": [("s1", t)],
        "event_date=2026-11-03": [("s2", t), ("s1", e), ("s1", c)],
        "event_date=2026-11-04": [("s3", t), ("s3", e)],
    }
    names = pq.read_schema(next(root.glob(f"{PARTITION}=*/*.parquet"))).names
    assert PARTITION not in names and names == list(ca.COLUMNS)


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


# ------------------------------------------------------------------------------- commits
def _count(root):
    return int(ca.open_events(root).count().execute())


def _export(path, first_session, n_sessions):
    """A capture export of ``n_sessions`` sessions, each triggered then engaged (2 events each)."""
    rows = []
    for i in range(first_session, first_session + n_sessions):
        rows.append(
            {
                "event_time_utc": f"2026-11-0{1 + i % 3} 10:00:00",
                "event_type": "triggered",
                "session_id": f"s{i}",
            }
        )
        rows.append(
            {
                "event_time_utc": f"2026-11-0{1 + i % 3} 10:00:05",
                "event_type": "engaged",
                "session_id": f"s{i}",
            }
        )
    from chatanalytics.io._capture_write import write_capture

    write_capture(ca.make_events(rows), path)
    return path


def test_a_commit_record_lists_exactly_the_files_written(tmp_path):
    root = tmp_path / "events"
    assert write_dataset(_events(), root) == 3
    records = sorted((root / "_chatanalytics" / "commits").iterdir())
    assert [r.name for r in records] == ["00000001.commit"]
    record = json.loads(records[0].read_text())
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))
    assert sorted(f["path"] for f in record["files"]) == on_disk
    assert record["events"] == 6
    assert [f["bytes"] for f in record["files"]] == [
        (root / f["path"]).stat().st_size for f in record["files"]
    ]


def test_readers_skip_files_no_commit_lists_and_the_next_write_removes_them(tmp_path):
    root = tmp_path / "events"
    write_dataset(_events(), root)
    # what a write killed between moving its files into place and writing its record leaves behind
    part = next(root.glob(f"{PARTITION}=2026-11-03/*.parquet"))
    orphan = part.with_name("part-orphan-0.parquet")
    shutil.copy(part, orphan)
    staging = root / "_chatanalytics" / "staging-x" / f"{PARTITION}=2026-11-03"
    staging.mkdir(parents=True)
    shutil.copy(part, staging / "part-y-0.staged")
    with warnings.catch_warnings(record=True) as caught:  # pytest.warns would re-raise Ibis's own warnings
        warnings.simplefilter("always", ca.DataQualityWarning)
        table = ca.open_events(root)
    assert [type(w.message) for w in caught] == [ca.DataQualityWarning]
    assert "1 part file(s) and 1 staging folder(s)" in str(caught[0].message)
    assert int(table.count().execute()) == 6
    back = ca.read_events(root, warn=False)
    assert len(back) == 6
    assert any("1 part file(s)" in note for note in ca.load_report(back).notes)
    # a write (an append of other events) tidies up first
    write_dataset(_events().assign(session_id="t"), root, append=True)
    assert not orphan.exists() and not (root / "_chatanalytics" / "staging-x").exists()
    assert _count(root) == 12


def test_a_dataset_without_commit_records_is_read_whole_and_kept_by_an_append(tmp_path):
    # a dataset as earlier versions wrote it: Hive-partitioned parts and no bookkeeping folder
    root = tmp_path / "events"
    for day, n in (("2026-11-02", 2), ("2026-11-03", 3)):
        (root / f"{PARTITION}={day}").mkdir(parents=True)
        _events().head(n).to_parquet(root / f"{PARTITION}={day}" / "part-old.parquet", index=False)
    assert _count(root) == 5
    write_dataset(_events(), root, append=True)
    assert _count(root) == 11
    # read_events reads all 11 records; the 5 old ones repeat new ones, so they count as duplicates
    assert ca.load_report(ca.read_events(root, warn=False)).counts()["records"] == 11
    record = json.loads((root / "_chatanalytics" / "commits" / "00000001.commit").read_text())
    assert record["adopted"] is True and len(record["files"]) == 2


def test_an_export_already_appended_is_skipped_and_force_appends_it(tmp_path):
    a = _export(tmp_path / "a.jsonl", 0, 5)  # 10 events
    b = _export(tmp_path / "b.jsonl", 100, 4)  # 8 events
    root = tmp_path / "events"
    write_dataset(ca.read_events(a, warn=False), root)
    assert _count(root) == 10
    # a and b read together: a's events are already there, only b's are appended
    both = ca.read_events([a, b], warn=False)
    with pytest.warns(ca.DataQualityWarning, match=r"a\.jsonl is already in the dataset"):
        write_dataset(both, root, append=True)
    assert _count(root) == 18
    with pytest.warns(ca.DataQualityWarning, match="already in the dataset"):
        assert write_dataset(both, root, append=True) == 0
    assert _count(root) == 18
    # the same bytes under another name are the same export
    shutil.copy(b, tmp_path / "b-copy.jsonl")
    with pytest.warns(ca.DataQualityWarning, match="b-copy.jsonl is already in the dataset"):
        write_dataset(ca.read_events(tmp_path / "b-copy.jsonl", warn=False), root, append=True)
    write_dataset(both, root, append=True, force=True)
    assert _count(root) == 36


def test_cli_append_skips_inputs_already_in_the_dataset_without_reading_them(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    a = _export(tmp_path / "in" / "a.jsonl", 0, 5)
    b = _export(tmp_path / "in" / "b.jsonl", 100, 4)
    root = tmp_path / "ds"
    assert main(["convert", str(a), "--out", str(root), "-q"]) == 0
    assert main(["convert", str(a), str(b), "--out", str(root), "--append"]) == 0
    out, err = capsys.readouterr()
    assert "skipped: " in err and "a.jsonl" in err and "--force" in err
    assert "wrote 8 events" in out  # b only
    assert main(["convert", str(tmp_path / "in"), "--out", str(root), "--append"]) == 0
    assert "nothing to append" in capsys.readouterr().out
    assert _count(root) == 18
    assert main(["convert", str(b), "--out", str(root), "--force", "-q"]) == 1
    assert "only with --append" in capsys.readouterr().err


def test_what_a_killed_first_write_left_does_not_make_the_folder_not_empty(tmp_path):
    root = tmp_path / "events"
    (root / "_chatanalytics").mkdir(parents=True)
    (root / "_chatanalytics" / "lock").touch()  # killed after taking the lock
    assert write_dataset(_events(), root) == 3
    # killed after moving a part into place, before its commit record
    other = tmp_path / "other"
    write_dataset(_events(), other)
    for record in (other / "_chatanalytics" / "commits").iterdir():
        record.unlink()
    with (
        pytest.warns(ca.DataQualityWarning, match="3 part file"),
        pytest.raises(ca.LoaderError, match="no committed"),
    ):
        ca.open_events(other)
    assert write_dataset(_events(), other) == 3
    assert _count(other) == 6
    assert len(list(other.rglob("*.parquet"))) == 3  # the uncommitted parts were removed
