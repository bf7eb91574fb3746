"""funnel(): hand-built logs with expectations worked out by hand, an independent oracle, properties."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatanalytics as ca
from chatanalytics.errors import DataQualityWarning

D = "2026-11-02 "


def ev(rows):
    """rows: (time "HH:MM:SS[.ffffff]", alias, session, conversation, extra dict)"""
    recs = []
    for r in rows:
        time, kind, sid, cid, *extra = r
        rec = {"event_time_utc": D + time, "event_type": kind, "session_id": sid, "conversation_id": cid}
        if extra:
            rec.update(extra[0])
        recs.append(rec)
    return ca.make_events(recs)


def counts(f, group="All"):
    t = f.frame()
    return t.loc[t["group"] == group, "converted"].tolist()


ORDERED = [
    # A: engaged at the same instant as the trigger, completed exactly at the window's end -> 3 steps
    ("09:00:00", "triggered", "A", "c1"),
    ("09:00:00", "engaged", "A", "c1"),
    ("09:30:00", "completed", "A", "c1"),
    # B: completed one microsecond after the window -> 2 steps
    ("09:00:00", "triggered", "B", "c1"),
    ("09:10:00", "engaged", "B", "c1"),
    ("09:30:00.000001", "completed", "B", "c1"),
    # C: engaged before the trigger does not count; the re-entry at 10:00 is not counted again -> 1 step
    ("08:59:00", "engaged", "C", "c1"),
    ("09:00:00", "triggered", "C", "c1"),
    ("10:00:00", "triggered", "C", "c1"),
    ("10:05:00", "engaged", "C", "c1"),
    # D: completed without engaging -> 1 step
    ("09:00:00", "triggered", "D", "c2"),
    ("09:05:00", "completed", "D", "c2"),
]
STEPS = ["triggered", "engaged", "completed"]


def test_ordered_funnel_worked_by_hand():
    f = ca.funnel(ev(ORDERED), steps=STEPS, window="30min")
    t = f.frame()
    assert t["entered"].tolist() == [4, 4, 2]
    assert t["converted"].tolist() == [4, 2, 1]
    assert t["dropped"].tolist() == [0, 2, 1]
    assert t["conversion_rate"].tolist() == [1.0, 0.5, 0.5]
    assert t["overall_rate"].tolist() == [1.0, 0.5, 0.25]
    # time to engage: A 0 s and B 600 s convert; C and D are censored at their window's end (1800 s).
    # Kaplan-Meier share converted: 0.25 at 0 s, 0.5 at 600 s, so half of the final 0.5 is reached at 0 s
    # and nine tenths at 600 s. Time to complete: B is censored at 1200 s (09:10 to 09:30), A converts at
    # 1800 s, so both quantiles are 1800 s.
    assert t["median_seconds"].tolist() == pytest.approx([np.nan, 0.0, 1800.0], nan_ok=True)
    assert t["p90_seconds"].tolist() == pytest.approx([np.nan, 600.0, 1800.0], nan_ok=True)
    # Wilson interval for 2 of 4 (z = 1.96): 0.15003 .. 0.84997
    assert t["conversion_rate_low"].iloc[1] == pytest.approx(0.150035, abs=1e-5)
    assert t["conversion_rate_high"].iloc[1] == pytest.approx(0.849965, abs=1e-5)
    assert f.units(2, outcome="dropped")["session_id"].tolist() == ["C", "D"]
    assert f.units(3)["session_id"].tolist() == ["A"]
    s = f.summary()
    assert (s["units"], s["converted"], s["biggest_drop_step"]) == (4, 1, "engaged")


def test_row_order_never_changes_the_result():
    base = ev(ORDERED)
    expected = ca.funnel(base, steps=STEPS).frame()
    for seed in range(3):
        shuffled = base.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(ca.funnel(shuffled, steps=STEPS).frame(), expected)


def test_strict_order_forbids_other_events_between_steps():
    rows = [
        ("09:00:00", "triggered", "A", "c"),  # a close between trigger and engagement breaks strict
        ("09:01:00", "closed", "A", "c"),
        ("09:02:00", "engaged", "A", "c"),
        ("09:00:00", "triggered", "B", "c"),  # nothing between
        ("09:01:00", "engaged", "B", "c"),
        ("09:00:00", "triggered", "C", "c"),  # a repeated trigger is another event between
        ("09:00:30", "triggered", "C", "c"),
        ("09:01:00", "engaged", "C", "c"),
        ("09:00:00", "triggered", "D", "c"),  # an email at the trigger's instant is not between
        ("09:00:00", "email_input", "D", "c"),
        ("09:00:10", "engaged", "D", "c"),
    ]
    e = ev(rows)
    assert counts(ca.funnel(e, steps=["triggered", "engaged"], order="ordered")) == [4, 4]
    strict = ca.funnel(e, steps=["triggered", "engaged"], order="strict")
    assert counts(strict) == [4, 2]
    assert strict.units(2)["session_id"].tolist() == ["B", "D"]


def test_any_order_counts_steps_done_in_any_order_within_the_window():
    rows = [
        ("09:00:00", "email_input", "A", "c"),  # email first, then trigger: both within 30 min
        ("09:10:00", "triggered", "A", "c"),
        ("09:00:00", "email_input", "B", "c"),  # trigger 31 min after the first step event
        ("09:31:00", "triggered", "B", "c"),
        ("09:00:00", "triggered", "C", "c"),
    ]
    f = ca.funnel(ev(rows), steps=["triggered", "email_input"], order="any")
    t = f.frame()
    assert t["entered"].tolist() == [3, 2]
    assert t["converted"].tolist() == [2, 1]
    # time to reach step 2 counts from the first step event: A reached both by 09:10
    assert t["median_seconds"].iloc[1] == 600.0
    ordered = ca.funnel(ev(rows), steps=["triggered", "email_input"])
    assert counts(ordered) == [3, 0]


def test_alternatives_and_exclusion():
    rows = [
        ("09:00:00", "triggered", "A", "c"),
        ("09:01:00", "phone_input", "A", "c"),
        ("09:00:00", "triggered", "B", "c"),
        ("09:02:00", "email_input", "B", "c"),
        ("09:00:00", "triggered", "C", "c"),
    ]
    f = ca.funnel(ev(rows), steps=["triggered", ["email_input", "phone_input"]])
    assert counts(f) == [3, 2]
    assert f.frame()["step_name"].tolist() == ["triggered", "email_input | phone_input"]  # as given

    rows = [
        ("09:00", "triggered", "A", "c"),
        ("09:01", "engaged", "A", "c"),
        ("09:02", "closed", "A", "c"),
        ("09:03", "completed", "A", "c"),  # closed between 2 and 3: 2 steps
        ("09:00", "triggered", "B", "c"),
        ("09:01", "closed", "B", "c"),
        ("09:02", "engaged", "B", "c"),
        ("09:03", "completed", "B", "c"),  # closed between 1 and 2: 1 step
        ("09:00", "triggered", "C", "c"),
        ("09:01", "engaged", "C", "c"),
        ("09:02", "completed", "C", "c"),
        ("09:03", "closed", "C", "c"),  # closed after the end: 3 steps
    ]
    f = ca.funnel(ev(rows), steps=STEPS, exclude=["closed"])
    assert counts(f) == [3, 2, 1]
    assert f.units(3)["session_id"].tolist() == ["C"]


def test_max_gap_single_and_per_step():
    rows = [
        ("09:00", "triggered", "A", "c"),
        ("09:04", "engaged", "A", "c"),
        ("09:10", "completed", "A", "c"),  # 6 min after engaging
    ]
    e = ev(rows)
    assert counts(ca.funnel(e, steps=STEPS, max_gap="5min")) == [1, 1, 0]
    assert counts(ca.funnel(e, steps=STEPS, max_gap=["5min", None])) == [1, 1, 1]
    assert counts(ca.funnel(e, steps=STEPS, max_gap=["3min", None])) == [1, 0, 0]


def test_units_session_and_visitor():
    rows = [
        ("09:00", "triggered", "s1", "c1", {"visitor_id": "v1"}),
        ("09:05", "engaged", "s1", "c2", {"visitor_id": "v1"}),  # another conversation of the same session
        ("10:00", "triggered", "s2", "c1", {"visitor_id": "v1"}),  # the same visitor, a later session
        ("10:01", "engaged", "s2", "c1", {"visitor_id": "v1"}),
    ]
    e = ev(rows)
    assert counts(ca.funnel(e, steps=["triggered", "engaged"])) == [2, 1]  # (s1,c1) no; (s2,c1) yes
    assert counts(ca.funnel(e, steps=["triggered", "engaged"], unit="session")) == [2, 2]
    # per visitor the first entry is 09:00 and engagement 09:05 is within 30 min
    v = ca.funnel(e, steps=["triggered", "engaged"], unit="visitor")
    assert counts(v) == [1, 1] and v.units(2)["visitor_id"].tolist() == ["v1"]


def test_breakdown_by_first_step_value_with_top_n_and_other():
    def unit(sid, name, engaged, later_name=None):
        rows = [("09:00", "triggered", sid, "c", {"conversation_name": name})]
        if engaged:
            rows.append(("09:01", "engaged", sid, "c", {"conversation_name": later_name or name}))
        return rows

    rows = (
        unit("a1", "Alpha", True)
        + unit("a2", "Alpha", False)
        + unit("a3", "Alpha", True, "Renamed")
        + unit("b1", "Beta", True)
        + unit("b2", "Beta", False)
        + unit("g1", "Gamma", True)
        + unit("n1", None, False)
    )
    f = ca.funnel(ev(rows), steps=["triggered", "engaged"], by="conversation_name", top=2)
    t = f.frame()
    assert list(dict.fromkeys(t["group"])) == ["Alpha", "Beta", "Other"]  # Other last
    assert counts(f, "Alpha") == [3, 2]  # a3 is attributed to its first step's name
    assert counts(f, "Beta") == [2, 1]
    assert counts(f, "Other") == [2, 1]  # Gamma and (none)
    total = ca.funnel(ev(rows), steps=["triggered", "engaged"]).frame()
    assert t.groupby("step")["converted"].sum().tolist() == total["converted"].tolist()
    everything = ca.funnel(ev(rows), steps=["triggered", "engaged"], by="conversation_name", top=10)
    assert "(none)" in set(everything.frame()["group"])


def test_start_and_end_select_units_by_their_entry():
    rows = [
        ("09:00", "triggered", "A", "c"),
        ("09:20", "engaged", "A", "c"),
        ("09:50", "triggered", "B", "c"),
        ("10:10", "engaged", "B", "c"),  # after `end`, still counted for a unit that entered before it
        ("10:05", "triggered", "C", "c"),
    ]
    f = ca.funnel(ev(rows), steps=["triggered", "engaged"], start=D + "09:30", end=D + "10:00")
    assert counts(f) == [1, 1]
    assert f.units(1)["session_id"].tolist() == ["B"]


def test_still_open_counts_units_whose_window_runs_past_the_data():
    rows = [
        ("09:00", "triggered", "A", "c"),
        ("11:50", "triggered", "B", "c"),  # data end 11:55, window to 12:20: may still engage
        ("11:55", "closed", "Z", "z"),
    ]
    t = ca.funnel(ev(rows), steps=["triggered", "engaged"]).frame()
    assert t["dropped"].tolist() == [0, 2]
    assert t["still_open"].tolist() == [0, 1]


def test_empty_result_has_one_zero_row_per_step():
    t = ca.funnel(ev([("09:00", "closed", "A", "c")]), steps=STEPS).frame()
    assert t["step_name"].tolist() == STEPS
    assert t["converted"].tolist() == [0, 0, 0]
    assert t["conversion_rate"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"steps": "triggered"}, "steps"),
        ({"steps": ["triggered", "engagd"]}, "steps"),
        ({"steps": ["triggered", ["engaged", "engaged"], "engaged"]}, "steps"),
        ({"steps": STEPS, "order": "sequential"}, "order"),
        ({"steps": STEPS, "unit": "person"}, "unit"),
        ({"steps": STEPS, "window": 30}, "window"),
        ({"steps": STEPS, "window": "soon"}, "window"),
        ({"steps": STEPS, "by": "conversation"}, "by"),
        ({"steps": STEPS, "exclude": ["engaged"]}, "exclude"),
        ({"steps": STEPS, "order": "any", "max_gap": "5min"}, "order"),
        ({"steps": STEPS, "max_gap": ["5min"]}, "max_gap"),
        ({"steps": STEPS, "top": 0}, "top"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, param):
    with pytest.raises(ca.InvalidParameterError) as err:
        ca.funnel(ev(ORDERED), **kwargs)
    assert err.value.param == param


def test_typos_get_a_suggestion():
    with pytest.raises(ca.InvalidParameterError, match="Did you mean 'engaged'"):
        ca.funnel(ev(ORDERED), steps=["triggered", "engagd"])
    with pytest.raises(ca.InvalidParameterError, match="Did you mean 'strict'"):
        ca.funnel(ev(ORDERED), steps=STEPS, order="strikt")


# ----------------------------------------------------------------------------- independent oracle


def oracle(events: pd.DataFrame, steps: list[list[str]], order: str, window: pd.Timedelta) -> list[int]:
    """Units (session, conversation) reaching each step, one unit at a time in plain Python."""
    e = events.dropna(subset=["session_id", "conversation_id"])
    reached = [0] * len(steps)
    for _, g in e.groupby(["session_id", "conversation_id"]):
        g = g.sort_values("event_time_utc", kind="stable")
        times = list(g["event_time_utc"])
        kinds = list(g["event_type"].astype(str))
        if order == "any":
            idx = [i for i, k in enumerate(kinds) if any(k in s for s in steps)]
            if not idx:
                continue
            t0 = times[idx[0]]
            for n in range(len(steps)):
                if all(
                    any(k in s2 and t0 <= t <= t0 + window for k, t in zip(kinds, times, strict=True))
                    for s2 in steps[: n + 1]
                ):
                    reached[n] += 1
            continue
        first = [t for k, t in zip(kinds, times, strict=True) if k in steps[0]]
        if not first:
            continue
        t1 = prev = first[0]
        reached[0] += 1
        for n, s in enumerate(steps[1:], start=1):
            hit = None
            for k, t in zip(kinds, times, strict=True):
                if not (prev <= t <= t1 + window):
                    continue
                if k in s:
                    hit = t
                    break
                if order == "strict" and t > prev:
                    break
            if hit is None:
                break
            # strict: another event strictly between prev and the hit breaks it, whatever the row order
            if order == "strict" and any(
                prev < t < hit and k not in s for k, t in zip(kinds, times, strict=True)
            ):
                break
            reached[n] += 1
            prev = hit
    return reached


@pytest.fixture(scope="module")
def simulated():
    return ca.simulate(1500, seed=4, days=3)


@pytest.mark.parametrize("order", ["ordered", "strict", "any"])
def test_agrees_with_a_plain_python_oracle_on_simulated_data(simulated, order):
    steps = [
        ["CONVERSATION_TRIGGERED"],
        ["CONVERSATION_ENGAGED"],
        ["CONVERSATION_INPUT_EMAIL", "CONVERSATION_INPUT_PHONE"],
        ["CONVERSATION_COMPLETED"],
    ]
    window = pd.Timedelta("10min")
    f = ca.funnel(simulated, steps=steps, order=order, window=window)
    assert counts(f) == oracle(simulated, steps, order, window)


# ----------------------------------------------------------------------------- properties

KINDS = ["triggered", "engaged", "completed", "closed", "email_input"]


@st.composite
def logs(draw):
    n = draw(st.integers(1, 25))
    rows = []
    for _ in range(n):
        second = draw(st.integers(0, 3600))
        rows.append(
            {
                "event_time_utc": pd.Timestamp("2026-11-02 09:00", tz="UTC") + pd.Timedelta(seconds=second),
                "event_type": draw(st.sampled_from(KINDS)),
                "session_id": draw(st.sampled_from(["s1", "s2", "s3"])),
                "conversation_id": draw(st.sampled_from(["c1", "c2"])),
                "conversation_name": draw(st.sampled_from(["A", "B", None])),
            }
        )
    return ca.make_events(rows)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=logs(), order=st.sampled_from(["ordered", "strict", "any"]), seed=st.integers(0, 99))
def test_properties(events, order, seed):
    steps = ["triggered", "engaged", "completed"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        f = ca.funnel(events, steps=steps, order=order, window="20min", by="conversation_name")
    t = f.frame()
    first = t[t["step"] == t["step"].min()]
    unnamed = first.loc[first["group"] == "(none)", "entered"].sum()
    # warned exactly when more than half of the units that entered have no name at their first step
    warned = [w for w in caught if w.category is DataQualityWarning and "is empty at" in str(w.message)]
    assert bool(warned) == (first["entered"].sum() > 0 and unnamed / first["entered"].sum() > 0.5)
    for _, g in t.groupby("group"):
        assert (np.diff(g["converted"].to_numpy()) <= 0).all()  # never rises along the steps
    rates = t[[c for c in t.columns if c.endswith("_rate") or "_rate_" in c]].to_numpy()
    assert np.nanmin(rates, initial=0) >= 0 and np.nanmax(rates, initial=1) <= 1
    total = ca.funnel(events, steps=steps, order=order, window="20min").frame()
    assert t.groupby("step")["converted"].sum().tolist() == total["converted"].tolist()
    shuffled = events.sample(frac=1, random_state=seed).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        again = ca.funnel(shuffled, steps=steps, order=order, window="20min", by="conversation_name").frame()
    pd.testing.assert_frame_equal(again, t)


def test_optional_steps_can_be_skipped():
    rows = [
        ("09:00", "triggered", "A", "c"),
        ("09:01", "engaged", "A", "c"),
        ("09:02", "email_input", "A", "c"),
        ("09:03", "completed", "A", "c"),  # every step
        ("09:00", "triggered", "B", "c"),
        ("09:01", "engaged", "B", "c"),
        ("09:03", "completed", "B", "c"),  # skips the email
        ("09:00", "triggered", "C", "c"),
        ("09:01", "engaged", "C", "c"),
        ("09:03", "completed", "C", "c"),
        ("09:05", "email_input", "C", "c"),  # email after the end
        ("09:00", "triggered", "D", "c"),
    ]
    steps = ["triggered", "engaged", ca.optional("email_input"), "completed"]
    f = ca.funnel(ev(rows), steps=steps)
    t = f.frame()
    assert t["step_name"].tolist() == ["triggered", "engaged", "email_input (optional)", "completed"]
    assert t["entered"].tolist() == [4, 4, 3, 3]
    assert t["converted"].tolist() == [4, 3, 1, 3]
    assert f.units(3, outcome="dropped")["session_id"].tolist() == ["B", "C"]
    # completed is timed from engaged (the last required step): 120 s for each
    assert t["median_seconds"].iloc[3] == 120.0
    anyorder = ca.funnel(ev(rows), steps=steps, order="any")
    assert anyorder.frame()["converted"].tolist() == [4, 3, 2, 3]  # in any order C's late email counts
    with pytest.raises(ca.InvalidParameterError, match="first and last"):
        ca.funnel(ev(rows), steps=[ca.optional("triggered"), "engaged"])
    with pytest.raises(ca.InvalidParameterError, match="optional"):
        ca.funnel(ev(rows), steps=steps, order="strict")


def test_an_ibis_table_gives_the_same_funnel_as_the_pandas_frame():
    import ibis
    import pyarrow as pa

    events = ca.simulate(300, seed=9)
    table = ibis.memtable(pa.Table.from_pandas(events, preserve_index=False))
    steps = ["triggered", "engaged", "completed"]
    for order in ("ordered", "any"):
        a = ca.funnel(events, steps=steps, order=order, by="ui_type").frame()
        b = ca.funnel(table, steps=steps, order=order, by="ui_type").frame()
        pd.testing.assert_frame_equal(a, b)
