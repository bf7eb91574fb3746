"""Analyses of a pandas frame run SQL compiled once per shape: a cached query must never answer a
different question. Each analysis is run over many shapes with a warm cache, in an order that makes a
key that forgets a parameter reuse the wrong SQL, and compared with the Ibis path, which compiles
every call afresh.
"""

from __future__ import annotations

import random
import threading

import ibis
import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.analysis import _engine


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return ca.simulate(1_500, seed=23)  # synthetic


def _funnel_cases() -> list[dict]:
    two = ["triggered", "engaged"]
    three = ["triggered", "engaged", "completed"]
    return [
        {"steps": three},
        {"steps": three, "window": "5min"},
        {"steps": three, "window": "1D"},
        {"steps": two},
        {"steps": three, "order": "strict"},
        {"steps": three, "order": "any"},
        {"steps": three, "unit": "session"},
        {"steps": three, "by": "ui_type"},
        {"steps": three, "by": "conversation_name", "top": 2},
        {"steps": three, "by": "agent_name", "attribution": "first_value"},
        {"steps": three, "start": "2026-10-20"},
        {"steps": three, "start": "2026-10-25"},
        {"steps": three, "end": "2026-10-25"},
        {"steps": three, "max_gap": "2min"},
        {"steps": ["triggered", "engaged", ["email_input", "phone_input"], "completed"]},
        {"steps": ["triggered", "engaged", ca.optional("email_input"), "completed"]},
        {"steps": ["triggered", "engaged", "completed"], "exclude": ["closed"]},
    ]


def test_compiled_once_per_key():
    calls = []

    def build() -> dict:
        calls.append(1)
        return {"n": ibis.table({"x": "int64"}, name="ca_t").count().as_table()}

    key = ("test.once", object())
    first = _engine.compiled(key, build)
    assert _engine.compiled(key, build) is first
    assert len(calls) == 1
    _engine.compiled(("test.once", object()), build)
    assert len(calls) == 2


def test_funnels_with_a_warm_cache_match_the_ibis_path(events):
    cases = _funnel_cases()
    table = ibis.memtable(events)
    expected = [ca.funnel(table, **kw).frame() for kw in cases]
    _engine._COMPILED.clear()
    order = list(range(len(cases))) * 2
    random.Random(5).shuffle(order)  # each shape compiled once, then reused out of order
    for i in order:
        got = ca.funnel(events, **cases[i]).frame()
        pd.testing.assert_frame_equal(got, expected[i], obj=str(cases[i]))


def test_requests_with_a_warm_cache_match_the_ibis_path(events):
    table = ibis.memtable(events)
    cases = [
        ("agents", {}),
        ("agents", {"freq": "week"}),
        ("timeouts", {}),
        ("timeouts", {"by": "ui_type"}),
        ("timeouts", {"by": "conversation_name"}),
    ]
    run = {"agents": ca.agent_performance, "timeouts": ca.timeouts}
    expected = [run[name](table, **kw).frame() for name, kw in cases]
    _engine._COMPILED.clear()
    for _ in range(2):
        for (name, kw), want in zip(cases, expected, strict=True):
            pd.testing.assert_frame_equal(run[name](events, **kw).frame(), want, obj=f"{name} {kw}")


def test_a_column_of_missing_values_reads_as_text(events):
    # a text column with no value at all: the SQL compiled for it and for the full one must agree
    nameless = events.assign(agent_name=pd.Series(pd.NA, index=events.index, dtype="str"))
    for frame in (events, nameless, events):
        got = ca.agent_performance(frame).frame()
        pd.testing.assert_frame_equal(got, ca.agent_performance(ibis.memtable(frame)).frame())
        got = ca.funnel(
            frame, steps=["triggered", "engaged"], by="agent_name", attribution="first_value"
        ).frame()
        want = ca.funnel(
            ibis.memtable(frame), steps=["triggered", "engaged"], by="agent_name", attribution="first_value"
        )
        pd.testing.assert_frame_equal(got, want.frame())
    shown = set(ca.agent_performance(nameless).frame()["agent_name"])
    assert not shown & set(events["agent_name"].dropna())


def test_threads_share_the_connection_safely(events):
    cases = _funnel_cases()[:6]
    expected = [ca.funnel(events, **kw).frame() for kw in cases]
    failures: list[str] = []

    def work(i: int) -> None:
        for j in range(len(cases)):
            k = (i + j) % len(cases)
            got = ca.funnel(events, **cases[k]).frame()
            if not got.equals(expected[k]):
                failures.append(str(cases[k]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
