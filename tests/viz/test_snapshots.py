"""Snapshots: every figure kind's JSON on fixed simulated data, so a change to a chart is a reviewed change.

Each figure kind of each analysis, drawn with its default style on the same simulated events, is
compared with its stored JSON (``fig.to_plotly_json()``: data arrays and layout, floats rounded to 6
significant digits) under ``tests/viz/snapshots/``. Plotly writes numeric arrays as base64 typed arrays
(``{"dtype": "f8", "bdata": ...}``); they are decoded and rounded like any other number, so a numeric
library that moves the last bits of a float does not change the snapshot. A missing snapshot fails.
To accept a deliberate change, run with ``UPDATE_SNAPSHOTS=1`` and review the diff of the JSON files.
"""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.datasets import simulate

HERE = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
KINDS = [(name, kind) for name, cls in (
    ("funnel", ca.FunnelResult), ("agents", ca.AgentPerformanceResult),
    ("timeouts", ca.TimeoutResult), ("changes", ca.ChangesResult),
) for kind in cls.FIGURES]  # fmt: skip


def plain(value: Any) -> Any:
    """JSON-ready: arrays (typed arrays too) as lists, floats to 6 significant digits, NaN as None,
    times as text."""
    if isinstance(value, dict) and set(value) in ({"dtype", "bdata"}, {"dtype", "bdata", "shape"}):
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return plain(array)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            return None
        return float(f"{x:.6g}")
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if value is None or isinstance(value, str):
        return value
    return str(value)


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    events = simulate(600, seed=21, days=21, tz="America/New_York")
    steps = ["triggered", "engaged", "completed"]
    return {
        "funnel": ca.funnel(events, steps=steps, by="ui_type"),
        "agents": ca.agent_performance(events, tz="America/New_York"),
        "timeouts": ca.timeouts(events, tz="America/New_York"),
        "changes": ca.changes(events, by=["ui_type"], tz="America/New_York"),
    }


def test_plain_rounds_and_keeps_types():
    got = plain(
        {"a": np.array([1.23456789, np.nan]), "b": (np.int64(3), True), "t": pd.Timestamp("2026-10-12")}
    )
    assert got == {"a": [1.23457, None], "b": [3, True], "t": "2026-10-12T00:00:00"}


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode()


def test_plain_decodes_plotly_typed_arrays():
    """Two floats that differ only in their last bits are one snapshot value once decoded."""
    a, b = 0.1 + 0.2, 0.3
    assert a != b
    coded = [{"dtype": "f8", "bdata": _b64(np.array([x, 2.0]))} for x in (a, b)]
    assert plain(coded[0]) == plain(coded[1]) == [0.3, 2.0]
    grid = {"dtype": "i2", "bdata": _b64(np.arange(6, dtype="i2")), "shape": "2, 3"}
    assert plain(grid) == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize(("name", "kind"), KINDS, ids=[f"{n}-{k}" for n, k in KINDS])
def test_figure_matches_its_snapshot(results, name, kind):
    fig = results[name].figure(kind)
    got = plain(fig.to_plotly_json())
    got["layout"].pop("template", None)  # the theme is tested on its own; the snapshot is the chart
    path = HERE / f"{name}-{kind}.json"
    text = json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE:
        HERE.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert json.loads(path.read_text(encoding="utf-8")) == got


def test_every_snapshot_belongs_to_a_figure_kind():
    """A snapshot left behind by a removed or renamed figure kind is an error, not a silent leftover."""
    stored = sorted(p.stem for p in HERE.glob("*.json"))
    assert stored == sorted(f"{n}-{k}" for n, k in KINDS)
