"""Titles state the finding, the subtitle is one line, and ``describe(kind)`` holds the rest.

The expected titles are worked out by hand from tiny tables (or read from the result's table with
pandas), never taken from the figure code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chatanalytics as ca
from chatanalytics.columns import GLOSSARY
from chatanalytics.viz._format import short_names
from chatanalytics.viz._grid import count_ticks
from chatanalytics.viz.funnel import funnel_finding


def test_funnel_title_one_group_and_several():
    # 200 triggered, 72 engaged (36%), 38 completed (19%)
    one = pd.DataFrame({"group": "All", "step": [1, 2, 3], "step_name": ["triggered", "engaged", "completed"],
                        "converted": [200, 72, 38], "overall_rate": [1.0, 0.36, 0.19]})  # fmt: skip
    assert (
        funnel_finding(one, {"unit": "conversation"})
        == "36% of triggered conversation sessions engaged; 19% completed"
    )
    assert funnel_finding(one, {"unit": "visitor"}).startswith("36% of triggered visitors engaged")
    # a step that is not a past-tense event is "reached"
    two = one.assign(step_name=["triggered", "engaged", "email_input | phone_input"])
    assert funnel_finding(two, {}).endswith("; 19% reached email_input | phone_input")
    # several groups: the last step's overall rate, highest group then lowest
    many = pd.concat([one.assign(group="popup"), one.assign(group="inline", overall_rate=[1.0, 0.5, 0.25])])
    found = funnel_finding(many, {})
    assert found == "25% of triggered conversation sessions completed in inline, 19% in popup"


def test_every_figure_title_of_the_sample_states_a_number_and_the_subtitle_is_one_line():
    sample = ca.load_sample()
    results = [ca.funnel(sample, steps=["triggered", "engaged", "completed"]), ca.agent_performance(sample),
               ca.timeouts(sample)]  # fmt: skip
    for r in results:
        for kind in r.FIGURES:
            fig = r.figure(kind)
            title, sub = fig.layout.title.text, fig.layout.title.subtitle.text
            assert any(ch.isdigit() for ch in title), (kind, title)
            assert "<br>" not in sub and len(sub) <= 130, (kind, sub)
            assert fig.layout.meta["about"], kind


def test_titles_read_the_tables():
    sample = ca.load_sample()
    t = ca.timeouts(sample)
    o = t.frame("outcomes").query("slice == 'all' and basis == 'requests'").set_index("outcome")
    n = int(o.loc["accepted", "denominator"])
    accepted, missed = o.loc["accepted", "share"], o.loc["missed", "share"]
    expected = f"{accepted:.0%} of {n:,} live-chat requests accepted; {missed:.0%} missed"
    assert t.figure("outcomes").layout.title.text == expected
    sl = t.frame("service_level").query("group == 'All'").sort_values("seconds")
    first, last = sl.iloc[0], sl.iloc[-1]
    assert t.figure("service_level").layout.title.text == (
        f"{last['service_level']:.0%} of requests accepted within {int(last['seconds'])} s; "
        f"{first['service_level']:.0%} within {int(first['seconds'])} s"
    )
    causes = t.frame("causes").query("group == 'All'")
    top = causes.loc[causes["missed"].idxmax()]
    assert (
        f"({int(top['missed']):,} of {int(causes['missed'].sum()):,}," in t.figure("causes").layout.title.text
    )
    a = ca.agent_performance(sample)
    cells = a.hour_weekday()
    busiest = cells.sort_values(["offers", "weekday", "hour"], ascending=[False, True, True]).iloc[0]
    cell = f"{busiest['weekday_name']} {int(busiest['hour']):02d}:00"
    offers = int(busiest["offers"])
    assert a.figure("heatmap").layout.title.text == f"Busiest hour: {cell} ({offers:,} offers)"


def test_describe_a_figure_kind():
    f = ca.funnel(ca.load_sample(), steps=["triggered", "engaged", "completed"])
    text = f.describe("time")
    lines = text.splitlines()
    assert lines[0] == f.figure("time").layout.title.text.replace("<br>", " ")
    assert f.FIGURES["time"].caption in text
    unit = "unit: conversation session (one conversation, Dialogue or Flow, in one session)"
    assert f"About this chart: {unit}; window 30min" in text
    # the statistical terms it uses are explained in plain words
    assert f"Kaplan-Meier: {GLOSSARY['Kaplan-Meier']}" in text and f"censored: {GLOSSARY['censored']}" in text
    assert "Greenwood" not in text  # a term the figure does not use is not listed
    # the style decides what is described
    a = ca.agent_performance(ca.load_sample())
    assert "offers: every routing attempt" not in a.describe("leaderboard")
    assert "accepted_offers" not in a.describe("leaderboard", metric="offers")
    with pytest.raises(ca.InvalidParameterError, match="Did you mean 'funnel'"):
        f.describe("funel")


def test_describe_the_whole_result_has_a_glossary():
    t = ca.timeouts(ca.load_sample())
    text = t.describe()
    assert "\nGlossary:\n" in text and f"Aalen-Johansen: {GLOSSARY['Aalen-Johansen']}" in text
    assert text.index("Glossary:") < text.index("Parameters:")


def test_short_names_stay_distinct():
    urls = [f"https://www.example.com/campaigns/2026/webinar-{k}-october" for k in range(12)]
    shown = short_names(urls, 24)
    assert len(set(shown.values())) == 12
    assert all(len(v) <= len(k) for k, v in shown.items())
    assert short_names(["short", "names"], 24) == {"short": "short", "names": "names"}


@pytest.mark.parametrize(("top", "step"), [(0, 1), (2, 1), (5, 1), (9, 2), (30, 5), (230, 50), (1200, 200)])
def test_count_colour_bars_step_by_whole_numbers(top, step):
    """A bar from 0 to 2 printed "0, 1, 1, 2, 2": ticks now fall on whole numbers, at most 7 of them."""
    got = count_ticks(np.array([0.0, float(top), np.nan]))
    assert got["dtick"] == step and got["tickformat"] == ",d"
    assert top / got["dtick"] <= 6
