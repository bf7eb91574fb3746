"""What changed between two periods: decomposition, tests, planted changes, engines and errors.

Expected numbers are worked by hand in the docstrings, or come from an independent computation
(scipy for p-values, the funnel and timeout analyses for the per-period counts).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import chatanalytics as ca
from chatanalytics.analysis._changes import change_headlines, compute_changes
from chatanalytics.analysis._changes_stats import (
    binomial_two_sided_p,
    count_contributions,
    kitagawa,
    poisson_change,
    two_proportions,
)
from chatanalytics.datasets import PlantedChange
from chatanalytics.errors import EmptyDataError, InvalidParameterError

TZ = "America/New_York"
START = "2026-06-01"  # a Monday, no DST change in the next 15 days
CHANGE_DAY = "2026-06-08"  # the second week
PRICING = "Pricing page dialogue"


def arr(*x: float) -> np.ndarray:
    return np.array(x, dtype=float)


# --------------------------------------------------------------------------- decomposition by hand


def test_pure_mix_change() -> None:
    """Rates 0.1 and 0.2 in both periods; shares 50/50 -> 20/80.

    R0 = 0.15, R1 = 0.02 + 0.16 = 0.18, change 0.03; Rm = 0.165. Mix: A (0.2 - 0.5)(0.1 - 0.165) =
    0.0195, B (0.8 - 0.5)(0.2 - 0.165) = 0.0105; rate parts 0."""
    d = kitagawa(arr(5, 10), arr(50, 50), arr(2, 16), arr(20, 80))
    assert d["mix"] == pytest.approx([0.0195, 0.0105], abs=1e-15)
    assert d["rate"] == pytest.approx([0.0, 0.0], abs=1e-15)
    assert abs(d["total"].sum() - 0.03) < 1e-12
    assert list(d["status"]) == ["both", "both"]


def test_pure_rate_change() -> None:
    """Shares 50/50 in both; A's rate 0.1 -> 0.3, B's stays 0.2.

    R0 = 0.15, R1 = 0.25, change 0.10, all of it A's rate: (0.3 - 0.1) * 0.5 = 0.1; mix 0."""
    d = kitagawa(arr(5, 10), arr(50, 50), arr(15, 10), arr(50, 50))
    assert d["rate"] == pytest.approx([0.1, 0.0], abs=1e-15)
    assert d["mix"] == pytest.approx([0.0, 0.0], abs=1e-15)
    assert abs(d["total"].sum() - 0.10) < 1e-12


def test_mix_and_rate_change() -> None:
    """Shares 50/50 -> 20/80; A's rate 0.1 -> 0.3, B's 0.2 -> 0.25.

    R0 = 0.15, R1 = 0.2 * 0.3 + 0.8 * 0.25 = 0.26, change 0.11; Rm = 0.205.
    Mix A: (0.2 - 0.5)(0.2 - 0.205) = 0.0015; mix B: (0.3)(0.225 - 0.205) = 0.006.
    Rate A: 0.2 * (0.5 + 0.2) / 2 = 0.07; rate B: 0.05 * 0.65 = 0.0325.
    Sum 0.0015 + 0.006 + 0.07 + 0.0325 = 0.11."""
    d = kitagawa(arr(5, 10), arr(50, 50), arr(6, 20), arr(20, 80))
    assert d["mix"] == pytest.approx([0.0015, 0.006], abs=1e-14)
    assert d["rate"] == pytest.approx([0.07, 0.0325], abs=1e-14)
    assert abs((d["mix"] + d["rate"]).sum() - 0.11) < 1e-12
    assert np.all(d["total_low"] <= d["total"]) and np.all(d["total"] <= d["total_high"])


def test_new_and_vanished_groups_are_all_mix() -> None:
    """A (50 units, rate 0.1) vanishes; B stays at 50 units, rate 0.2; C (50, rate 0.4) is new.

    R0 = 0.15, R1 = 0.3, change 0.15, Rm = 0.225. A: -0.5 * (0.1 - 0.225) = 0.0625, all mix; C:
    0.5 * (0.4 - 0.225) = 0.0875, all mix; B: share 0.5 both times, rate unchanged: 0."""
    d = kitagawa(arr(5, 10, 0), arr(50, 50, 0), arr(0, 10, 20), arr(0, 50, 50))
    assert list(d["status"]) == ["vanished", "both", "new"]
    assert d["mix"] == pytest.approx([0.0625, 0.0, 0.0875], abs=1e-14)
    assert d["rate"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-14)
    assert abs(d["total"].sum() - 0.15) < 1e-12
    assert np.isnan(d["rate_before"][2]) and np.isnan(d["rate_after"][0])


def test_parts_add_up_on_random_tables() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        g = int(rng.integers(1, 9))
        n0, n1 = rng.integers(0, 500, g), rng.integers(0, 500, g)
        n0[0], n1[0] = max(n0[0], 1), max(n1[0], 1)
        k0, k1 = rng.binomial(n0, rng.random(g)), rng.binomial(n1, rng.random(g))
        d = kitagawa(k0, n0, k1, n1)
        keep = (n0 > 0) | (n1 > 0)
        change = k1.sum() / n1.sum() - k0.sum() / n0.sum()
        assert abs(np.nansum((d["mix"] + d["rate"])[keep]) - change) < 1e-12


def test_delta_method_interval_matches_simulation() -> None:
    """The spread of a group's part over many redraws of the counts matches its delta-method bound."""
    rng = np.random.default_rng(1)
    n0, n1 = 4000, 4000
    w0, w1, r0, r1 = arr(0.5, 0.3, 0.2), arr(0.4, 0.3, 0.3), arr(0.3, 0.4, 0.2), arr(0.2, 0.4, 0.25)
    parts = []
    for _ in range(2000):
        m0, m1 = rng.multinomial(n0, w0), rng.multinomial(n1, w1)
        parts.append(kitagawa(rng.binomial(m0, r0), m0, rng.binomial(m1, r1), m1)["total"])
    sd = np.std(parts, axis=0)
    d = kitagawa(w0 * r0 * n0, w0 * n0, w1 * r1 * n1, w1 * n1)
    half = (d["total_high"] - d["total_low"]) / 2 / 1.959964
    assert half == pytest.approx(sd, rel=0.1)


def test_count_contributions_add_up_and_scale_by_length() -> None:
    """Before 70 and 30 over 2 weeks (336 h), after 40 and 20 over 168 h: before scaled to one week is
    35 and 15, so the parts are +5 and +5."""
    c = count_contributions(arr(70, 30), arr(40, 20), 336.0, 168.0)
    assert c["total"] == pytest.approx([5.0, 5.0])
    assert c["share_before"] == pytest.approx([0.7, 0.3])


# --------------------------------------------------------------------------- tests against scipy


def test_two_proportions_against_scipy() -> None:
    r = two_proportions(310, 1000, 360, 1000)
    table = np.array([[310, 690], [360, 640]])
    chi2 = stats.chi2_contingency(table, correction=False)[1]
    assert r["p_value"] == pytest.approx(chi2, rel=1e-9)  # the pooled z-test is the 2x2 chi-squared
    assert r["change"] == pytest.approx(-0.05)
    assert r["low"] < -0.05 < r["high"]


def test_newcombe_interval_by_hand() -> None:
    """Newcombe (1998) example: 56/70 vs 48/80 gives 0.2 with hybrid score interval 0.0524 to 0.3339."""
    r = two_proportions(56, 70, 48, 80)
    assert (round(r["low"], 4), round(r["high"], 4)) == (0.0524, 0.3339)


def test_poisson_exact_against_scipy() -> None:
    for x1, x0, l1, l0 in [(120, 100, 7, 7), (30, 90, 168, 336), (5, 0, 24, 24), (200, 180, 169, 168)]:
        r = poisson_change(x1, l1, x0, l0)
        expected = stats.binomtest(x1, x1 + x0, l1 / (l1 + l0)).pvalue
        assert r["p_value"] == pytest.approx(expected, rel=1e-6)
    assert binomial_two_sided_p(7, 10, 0.5) == pytest.approx(stats.binomtest(7, 10, 0.5).pvalue)


# --------------------------------------------------------------------------- on data


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return ca.load_sample()


@pytest.fixture(scope="module")
def sample_changes(sample: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return compute_changes(sample, tz=TZ)


def test_tables_have_their_columns(sample_changes: dict[str, pd.DataFrame]) -> None:
    m, d, p = sample_changes["metrics"], sample_changes["drivers"], sample_changes["periods"]
    assert m["metric"].tolist() == [
        "triggered", "engagement_rate", "lead_capture_rate", "completion_rate", "meeting_rate",
        "acceptance_rate", "miss_rate", "service_level_30s", "median_wait_seconds",
    ]  # fmt: skip
    assert {
        "before",
        "after",
        "change",
        "change_low",
        "change_high",
        "p_value",
        "p_adjusted",
        "significant",
    } <= set(m.columns)
    assert list(d.columns) == [
        "metric", "by", "group", "rank", "units_before", "units_after", "share_before", "share_after",
        "rate_before", "rate_after", "mix", "rate", "total", "total_low", "total_high", "status",
    ]  # fmt: skip
    # the sample runs Monday 2026-10-05 to Sunday 2026-11-01 (New York): the last week ends after the
    # last event, so the third week is compared with the second
    assert p["status"].tolist() == ["complete", "complete", "complete", "incomplete"]
    assert p["role"].tolist() == ["", "baseline", "current", ""]
    rates = m[m["kind"] == "rate"]
    assert ((rates["before"] >= 0) & (rates["before"] <= 1) & (rates["after"] <= 1)).all()
    # Holm: adjusted p-values are at least the raw ones
    assert (m["p_adjusted"] >= m["p_value"] - 1e-15).all()


def test_drivers_add_up_to_the_change(sample_changes: dict[str, pd.DataFrame]) -> None:
    m = sample_changes["metrics"].set_index("metric")
    d = sample_changes["drivers"]
    for (metric, _by), part in d.groupby(["metric", "by"]):
        total = m.loc[metric, "change"]
        assert abs(part["total"].sum() - total) < 1e-9 * max(1.0, abs(total)), metric
        if metric != "triggered":
            assert np.allclose(part["mix"] + part["rate"], part["total"], atol=1e-15)
        assert part["rank"].tolist() == list(range(1, len(part) + 1))
        assert (part["total"].abs().diff().dropna() <= 1e-15).all()


def test_counts_agree_with_the_funnel_and_timeouts(sample: pd.DataFrame, sample_changes: dict) -> None:
    """Independent oracles: the funnel's weekly overall rates and the timeout analysis' requests."""
    m = sample_changes["metrics"].set_index("metric")
    p = sample_changes["periods"]
    cur = p[p["role"] == "current"].iloc[0]
    start, end = cur["start"].tz_convert("UTC"), cur["end"].tz_convert("UTC")
    for metric, steps in [
        ("engagement_rate", ["triggered", "engaged"]),
        ("completion_rate", ["triggered", "engaged", "completed"]),
        ("meeting_rate", ["triggered", "meeting_booked"]),
        ("lead_capture_rate", ["triggered", "engaged", ["email_input", "phone_input"]]),
    ]:
        f = ca.funnel(sample, steps=steps, start=start, end=end).frame()
        last = f.iloc[-1]
        if metric == "lead_capture_rate":
            assert (m.loc[metric, "numerator_after"], m.loc[metric, "denominator_after"]) == (
                last["converted"],
                last["entered"],
            )
        else:
            assert m.loc[metric, "numerator_after"] == last["converted"]
            assert m.loc[metric, "denominator_after"] == f["entered"].iloc[0]
    assert m.loc["triggered", "after"] == cur["units"]
    t = ca.timeouts(sample, start=start, end=end)
    out = t.frame("outcomes")
    overall = out[(out["slice"] == "all") & (out["basis"] == "requests")].set_index("outcome")
    assert m.loc["acceptance_rate", "denominator_after"] == overall["denominator"].iloc[0]
    assert m.loc["acceptance_rate", "numerator_after"] == overall.loc["accepted", "count"]
    assert m.loc["miss_rate", "numerator_after"] == overall.loc["missed", "count"]
    sl = t.frame("service_level")
    sl30 = sl[(sl["group"] == "All") & (sl["seconds"] == 30)].iloc[0]
    assert m.loc["service_level_30s", "numerator_after"] == sl30["answered_within"]
    assert m.loc["service_level_30s", "after"] == pytest.approx(sl30["service_level"], abs=1e-12)
    w = t.frame("waits").iloc[0]
    assert m.loc["median_wait_seconds", "after"] == pytest.approx(w["median_seconds"])
    assert m.loc["median_wait_seconds", "after_low"] == pytest.approx(w["median_seconds_low"])


def test_shuffling_rows_changes_nothing(sample: pd.DataFrame, sample_changes: dict) -> None:
    shuffled = sample.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = compute_changes(shuffled, tz=TZ)
    for name in ("metrics", "drivers", "periods"):
        pd.testing.assert_frame_equal(again[name], sample_changes[name])


def test_duckdb_frame_equals_parquet_dataset(sample: pd.DataFrame, sample_changes: dict, tmp_path) -> None:
    path = tmp_path / "events.parquet"
    sample.to_parquet(path)
    from_files = compute_changes(ca.open_events(path), tz=TZ)
    for name in ("metrics", "drivers", "periods", "params"):
        pd.testing.assert_frame_equal(from_files[name], sample_changes[name], check_exact=False, rtol=1e-12)


def test_baseline_pools_periods_and_scales_counts(sample: pd.DataFrame) -> None:
    """baseline=2 on days: the count's before value is the mean of the two days scaled to the compared
    day's length; rates pool the two days' counts."""
    out = compute_changes(sample, tz=TZ, period="day", baseline=2, at="2026-10-21")
    p = out["periods"]
    base = p[p["role"] == "baseline"]
    assert base["start"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-19", "2026-10-20"]
    m = out["metrics"].set_index("metric")
    assert m.loc["triggered", "before"] == pytest.approx(base["units"].sum() / 2)
    assert m.loc["engagement_rate", "denominator_before"] == base["units"].sum()


def test_immature_period_is_flagged_not_compared(sample: pd.DataFrame) -> None:
    with pytest.warns(ca.DataQualityWarning, match="incomplete"):
        out = compute_changes(sample, tz=TZ, at="2026-10-28")
    m = out["metrics"]
    assert not m["comparable"].any()
    assert not m["significant"].any()
    assert m["p_value"].isna().all()
    assert m["reason"].str.contains("ends after the last event").all()
    assert "not compared" in change_headlines(out)[1]


def test_headlines_name_the_planted_driver(planted_drop: dict) -> None:
    lines = change_headlines(planted_drop)
    assert lines[0].startswith("Engagement fell from")
    assert "significant" in lines[0] and f"{PRICING}'s own rate" in lines[0]


# --------------------------------------------------------------------------- planted changes


@pytest.fixture(scope="module")
def planted_drop() -> dict[str, pd.DataFrame]:
    change = PlantedChange(CHANGE_DAY, conversation=PRICING, engage_factor=0.6)
    events = ca.simulate(60_000, seed=21, start=START, days=15, tz=TZ, changes=[change])
    return compute_changes(events, tz=TZ)


def test_planted_engagement_drop_is_found_and_attributed(planted_drop: dict) -> None:
    """Pricing's engagement 0.30 -> 0.18 from the second week. With Pricing's share of units w
    (about 0.19), the overall rate should fall by about 0.12 w, and the Pricing rate part should be
    about -0.12 w: at least 80% of the sum of the rate parts over the conversations."""
    m = planted_drop["metrics"].set_index("metric")
    assert m.loc["engagement_rate", "significant"]
    d = planted_drop["drivers"]
    conv = d[(d["metric"] == "engagement_rate") & (d["by"] == "conversation_name")].set_index("group")
    pricing = conv.loc[PRICING]
    assert conv.index[0] == PRICING  # ranked first
    assert pricing["rate"] / conv["rate"].sum() >= 0.8
    # planted vs recovered
    se0 = math.sqrt(0.3 * 0.7 / pricing["units_before"])
    se1 = math.sqrt(0.18 * 0.82 / pricing["units_after"])
    assert abs(pricing["rate_before"] - 0.30) < 4 * se0
    assert abs(pricing["rate_after"] - 0.18) < 4 * se1
    w = (pricing["share_before"] + pricing["share_after"]) / 2
    assert pricing["rate"] == pytest.approx(-0.12 * w, abs=4 * w * math.hypot(se0, se1))
    change = m.loc["engagement_rate", "change"]
    assert m.loc["engagement_rate", "change_low"] <= -0.12 * w <= m.loc["engagement_rate", "change_high"]
    assert abs(change - (-0.12 * w)) < 0.01
    # nothing else in the funnel was planted: traffic is unchanged
    assert not m.loc["triggered", "significant"]


def test_planted_mix_shift_is_mix_not_rate() -> None:
    """Popups get twice their trigger weight from the second week, every rate unchanged.

    First conversations: popup share 0.28 -> 0.56 / 1.28 = 0.4375. Popups engage less (0.289 against
    about 0.37 overall), so engagement falls through mix; the rate parts are noise."""
    change = PlantedChange(CHANGE_DAY, ui_type_factor={"popup": 2.0})
    events = ca.simulate(60_000, seed=22, start=START, days=15, tz=TZ, changes=[change])
    out = compute_changes(events, tz=TZ)
    d = out["drivers"]
    ui = d[(d["metric"] == "engagement_rate") & (d["by"] == "ui_type")].set_index("group")
    assert ui.loc["popup", "share_after"] - ui.loc["popup", "share_before"] > 0.1
    mix, rate = ui["mix"].sum(), ui["rate"].sum()
    assert mix < 0
    assert abs(rate) < 0.3 * abs(mix)
    # no group's own rate moved beyond noise: each rate part within 3 standard errors of 0 (about 1%
    # over the three UI types; the standard error is that of the group's whole part)
    se = (ui["total_high"] - ui["total_low"]) / 2 / 1.959964
    assert (ui["rate"].abs() < 3 * se).all()
    m = out["metrics"].set_index("metric")
    assert m.loc["engagement_rate", "significant"]
    assert "traffic moving to popup" in change_headlines(out)[0]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"period": "month"}, "period"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"by": ["conversation_nme"]}, "by"),
        ({"baseline": 0}, "baseline"),
        ({"baseline": 1.5}, "baseline"),
        ({"window": 30}, "window"),
        ({"at": "not a date"}, "at"),
        ({"at": "2031-01-01"}, "at"),
    ],
)
def test_bad_parameters(sample: pd.DataFrame, kwargs: dict, param: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        compute_changes(sample, **kwargs)
    assert info.value.param == param
    assert repr(info.value.value)[:10] in str(info.value)


def test_allowed_values_are_named(sample: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="allowed: 'day', 'week'"):
        compute_changes(sample, period="month")
    with pytest.raises(InvalidParameterError, match="Did you mean 'conversation_name'"):
        compute_changes(sample, by="conversation_nme")


def test_too_little_data(sample: pd.DataFrame) -> None:
    with pytest.raises(EmptyDataError, match="needs 3 week"):
        compute_changes(sample, tz=TZ, baseline=3)
    two_days = sample[sample["event_time_utc"] < pd.Timestamp("2026-10-07", tz=TZ)]
    with pytest.raises(EmptyDataError, match="no complete period"):
        compute_changes(two_days, tz=TZ)
    with pytest.raises(EmptyDataError):
        compute_changes(sample.iloc[:0])


# --------------------------------------------------------------------------- the result


@pytest.fixture(scope="module")
def three_days() -> pd.DataFrame:
    """Days in UTC. 1 June: s1 triggers Alpha and engages, s2 triggers Alpha. 2 June: s3 triggers Alpha,
    engages and completes; s4 triggers Beta. 3 June, noon: s5 triggers Beta (the last event, so 3 June
    is incomplete and 2 June, ending 12 hours before it, is the last complete day)."""
    rows = [
        ("2026-06-01 10:00", "triggered", "s1", 1, "Alpha"),
        ("2026-06-01 10:01", "engaged", "s1", 1, "Alpha"),
        ("2026-06-01 11:00", "triggered", "s2", 1, "Alpha"),
        ("2026-06-02 09:00", "triggered", "s3", 1, "Alpha"),
        ("2026-06-02 09:02", "engaged", "s3", 1, "Alpha"),
        ("2026-06-02 09:05", "completed", "s3", 1, "Alpha"),
        ("2026-06-02 12:00", "triggered", "s4", 2, "Beta"),
        ("2026-06-03 12:00", "triggered", "s5", 2, "Beta"),
    ]
    keys = ("event_time_utc", "event_type", "session_id", "conversation_id", "conversation_name")
    return ca.make_events([dict(zip(keys, r, strict=True)) for r in rows])


def test_result_by_hand(three_days: pd.DataFrame) -> None:
    """Engagement 1/2 on both days; completion 0/2 -> 1/2. By conversation: Alpha 2 units (rate 0.5)
    -> 1 unit (rate 1.0), Beta new with 1 unit (rate 0). Shares Alpha 1 -> 0.5, Beta 0 -> 0.5, mean
    rate Rm = 0.5. Alpha: rate part (1.0 - 0.5)(1 + 0.5)/2 = 0.375, mix (0.5 - 1)(0.75 - 0.5) = -0.125,
    total 0.25; Beta (new, all mix): 0.5 (0 - 0.5) = -0.25; the parts add up to the change, 0."""
    r = ca.changes(three_days, period="day", by="conversation_name")
    assert isinstance(r, ca.ChangesResult)
    assert r.params == {
        "period": "day", "tz": "UTC", "by": ["conversation_name"], "baseline": 1, "at": None,
        "window": "30min", "current": "2026-06-02", "baseline_label": "2026-06-01",
        "first_event": "2026-06-01T10:00:00+00:00", "last_event": "2026-06-03T12:00:00+00:00",
        "control": "Holm", "alpha": 0.05,
    }  # fmt: skip
    m = r.frame().set_index("metric")
    assert m.loc["triggered", ["before", "after"]].tolist() == [2.0, 2.0]
    assert m.loc["engagement_rate", ["before", "after", "change"]].tolist() == [0.5, 0.5, 0.0]
    assert m.loc["completion_rate", ["before", "after"]].tolist() == [0.0, 0.5]
    # no live chat: the four live-chat metrics are not compared, and say why
    assert m.loc["acceptance_rate", "reason"] == "no live-chat requests in the baseline"
    assert m["comparable"].sum() == 5
    assert r.summary() == {
        "metrics_compared": 5, "significant": 0, "top_metric": None,
        "top_change": pytest.approx(math.nan, nan_ok=True),
        "top_relative_change": pytest.approx(math.nan, nan_ok=True),
        "top_p_adjusted": pytest.approx(math.nan, nan_ok=True),
    }  # fmt: skip
    assert r.headline() == "Nothing moved beyond noise: 2026-06-02 against 2026-06-01 (Holm-adjusted, 5%)."
    assert r.headlines()[1:3] == [
        "Triggered conversations did not change (2 to 2; within noise).",
        "Engagement stayed at 50% (+0.0 pts, 95% CI " + r.headlines()[2].split("95% CI ")[1],
    ]
    d = r.drivers("engagement_rate").set_index("group")
    assert d.index.tolist() == ["Alpha", "Beta"]
    assert d["rate"].tolist() == pytest.approx([0.375, 0.0], abs=1e-15)
    assert d["mix"].tolist() == pytest.approx([-0.125, -0.25], abs=1e-15)
    assert d["status"].tolist() == ["both", "new"]
    assert r.widget_arguments() == {
        "period": "day", "tz": "UTC", "by": ["conversation_name"], "baseline": 1, "at": None,
        "window": "30min",
    }  # fmt: skip
    params = r.frame("params").set_index("parameter")["value"]
    assert params["by"] == "conversation_name" and params["at"] == "" and params["control"] == "Holm"


def test_units_list_the_conversations_behind_a_group(three_days: pd.DataFrame) -> None:
    r = ca.changes(three_days, period="day", by="conversation_name")
    u = r.units(three_days, metric="engagement_rate", group="Alpha")
    assert list(u.columns) == list(ca.columns.CHANGES_UNITS)
    assert u["session_id"].tolist() == ["s1", "s2", "s3"]
    assert u["role"].tolist() == ["baseline", "baseline", "current"]
    assert u["reached"].tolist() == [True, False, True]
    assert u["completed"].tolist() == [False, False, True]
    assert u["triggered_at"].tolist() == [pd.Timestamp(f"2026-06-0{d} {t}", tz="UTC") for d, t in
                                          [(1, "10:00"), (1, "11:00"), (2, "09:00")]]  # fmt: skip
    assert (u["conversation_name"] == "Alpha").all() and (u["by"] == "conversation_name").all()
    # lead capture counts engaged conversations only; s5 (3 June) is in no compared period
    lead = r.units(three_days, metric="lead_capture_rate", by="conversation_name", group="Alpha")
    assert lead["session_id"].tolist() == ["s1", "s3"] and not lead["reached"].any()
    beta = r.units(three_days, metric="triggered", group="Beta")
    assert beta["session_id"].tolist() == ["s4"] and beta["reached"].all()
    with pytest.raises(InvalidParameterError, match="Gamma") as info:
        r.units(three_days, metric="engagement_rate", group="Gamma")
    assert info.value.param == "group"
    with pytest.raises(InvalidParameterError) as info:
        r.units(three_days, metric="engagement_rate", by="ui_type", group="Alpha")
    assert info.value.param == "by"
    with pytest.raises(InvalidParameterError) as info:
        r.drivers("engagement")
    assert info.value.param == "metric"


def test_units_agree_with_the_drivers(sample: pd.DataFrame) -> None:
    """Per role, the rows listed for a group are its denominator and the reached ones its numerator,
    for a conversation metric and the live-chat ones."""
    r = ca.changes(sample, tz=TZ)
    for metric, by in [("engagement_rate", "conversation_name"), ("lead_capture_rate", "ui_type"),
                       ("miss_rate", "ui_type"), ("service_level_30s", "conversation_name")]:  # fmt: skip
        for _, g in r.drivers(metric, by).iterrows():
            u = r.units(sample, metric=metric, by=by, group=g["group"])
            for role, side in (("baseline", "before"), ("current", "after")):
                mine = u[u["role"] == role]
                assert len(mine) == g[f"units_{side}"], (metric, g["group"], role)
                if len(mine):
                    assert mine["reached"].mean() == pytest.approx(g[f"rate_{side}"], abs=1e-12)
    q = r.units(sample, metric="acceptance_rate", by="ui_type", group="popup")
    assert list(q.columns) == list(ca.columns.CHANGES_REQUESTS)
    assert set(q["outcome"]) <= {"accepted", "missed", "left", "open"}
    assert (q["reached"] == (q["outcome"] == "accepted")).all()
    assert (q.loc[q["accepted_within_30s"], "wait_seconds"] <= 30).all()


def test_result_on_a_parquet_dataset_equals_the_frame(sample: pd.DataFrame, tmp_path) -> None:
    path = tmp_path / "events.parquet"
    sample.to_parquet(path)
    dataset = ca.open_events(path)
    a, b = ca.changes(sample, tz=TZ), ca.changes(dataset, tz=TZ)
    for name in a.TABLES:
        pd.testing.assert_frame_equal(b.frame(name), a.frame(name), check_exact=False, rtol=1e-12)
    assert b.params == a.params and b.headlines() == a.headlines()
    group = a.drivers("completion_rate", "conversation_name")["group"].iloc[0]
    pd.testing.assert_frame_equal(
        b.units(dataset, metric="completion_rate", by="conversation_name", group=group),
        a.units(sample, metric="completion_rate", by="conversation_name", group=group),
    )


def test_result_names_the_planted_change() -> None:
    change = PlantedChange(CHANGE_DAY, conversation=PRICING, engage_factor=0.3)
    events = ca.simulate(8000, seed=21, start=START, days=15, tz=TZ, changes=[change])
    r = ca.changes(events, tz=TZ)
    s = r.summary()
    assert s["top_metric"] == "engagement_rate" and s["significant"] >= 1
    m = r.frame().set_index("metric")
    assert s["top_change"] == m.loc["engagement_rate", "change"] < 0
    assert r.headline().startswith("Engagement fell") and PRICING in r.headline()
    assert r.headlines()[-1].startswith("Compared: week of 2026-06-08 against week of 2026-06-01")
    again = ca.ChangesResult.from_tables(r.tables(), r.params)
    assert again.headlines() == r.headlines() and str(again.summary()) == str(s)


def test_a_period_not_compared_says_so_first(sample: pd.DataFrame) -> None:
    with pytest.warns(ca.DataQualityWarning, match="incomplete"):
        r = ca.changes(sample, tz=TZ, at="2026-10-28", baseline=2)
    assert r.params["baseline_label"] == "mean of 2 weeks before"
    assert r.headline().startswith(
        "Not compared: week of 2026-10-26 against mean of 2 weeks before: the compared week is incomplete"
    )
    assert r.summary()["metrics_compared"] == 0
