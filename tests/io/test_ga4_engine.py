"""The GA4 export normalised as an Ibis expression agrees with ``read_events`` on the same export."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from conftest import write_ga4_raw_parquet

import chatanalytics as ca
from chatanalytics.io._ga4_engine import _scrubbed
from tests.contact_corpus import CONTACTS, KEEP, forms, leaks

COMPARED = [
    "event_time_utc", "event_type", "session_id", "conversation_id", "conversation_name",
    "conversation_type", "ui_type", "agent_id", "agent_name", "visitor_id", "page_url",
    "analytics_session_id", "event_id",
]  # fmt: skip


@pytest.fixture(scope="module")
def raw_path(tmp_path_factory):
    return write_ga4_raw_parquet(tmp_path_factory.mktemp("ga4") / "events_20261005.parquet")


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[COMPARED].astype({"event_type": str}).sort_values("event_id", kind="stable")
    return out.reset_index(drop=True).astype(object).where(lambda d: d.notna(), None)


def test_engine_rows_equal_read_events_rows(raw_path):
    eager = ca.read_events(raw_path, warn=False)
    lazy = ca.ga4_events(ibis.duckdb.connect().read_parquet(str(raw_path))).execute()
    report = ca.load_report(eager)
    assert report.counts()["duplicates"] == 40 and report.counts()["ignored"] == 1
    assert len(lazy) == len(eager)
    a, b = _canonical(lazy), _canonical(eager)
    # the two contact details are handled more coarsely in the engine (see ca.ga4_events)
    name = b["conversation_name"] == "Pricing for [redacted]"
    page = b["page_url"].fillna("").str.contains("email=[redacted]", regex=False)
    assert name.sum() == 1 and page.sum() == 1
    assert a.loc[name, "conversation_name"].tolist() == ["[redacted]"]
    assert a.loc[page, "page_url"].tolist() == ["https://www.example.com/p?[redacted]"]
    keep = ~(name | page)
    pd.testing.assert_frame_equal(a[keep], b[keep])
    assert "4471902.0" not in set(a["conversation_id"].dropna())
    assert set(a["conversation_type"].dropna()) <= {"dialogue", "conversational_flow"}


def test_analyses_agree_on_the_engine_table(raw_path):
    eager = ca.read_events(raw_path, warn=False)
    lazy = ca.ga4_events(ibis.duckdb.connect().read_parquet(str(raw_path)))
    steps = ["triggered", "engaged", "completed"]
    f1 = ca.funnel(lazy, steps=steps, by="ui_type").frame()
    f2 = ca.funnel(eager, steps=steps, by="ui_type").frame()
    pd.testing.assert_frame_equal(f1, f2)
    t1, t2 = ca.timeouts(lazy).frame(), ca.timeouts(eager).frame()
    np.testing.assert_allclose(t1["share"].astype(float), t2["share"].astype(float), rtol=1e-12)


def test_bad_inputs_are_named():
    with pytest.raises(ca.InvalidParameterError, match="not a GA4 BigQuery export"):
        ca.ga4_events(ibis.memtable({"x": [1]}))
    with pytest.raises(ca.InvalidParameterError, match="Ibis table"):
        ca.ga4_events(pd.DataFrame({"x": [1]}))


@pytest.mark.parametrize("case", CONTACTS, ids=[c["text"] for c in CONTACTS])
def test_the_engine_leaves_no_contact_detail_in_any_text_column(case):
    """Every variant of the contact corpus, in every text column the engine maps (and a page URL's path,
    query and fragment), is redacted by the engine's own SQL on DuckDB; the look-alikes of the corpus
    are kept in the names (a date, an order number, ...)."""
    value = case["text"]
    kinds = ("query", "query_percent", "path", "fragment")
    urls = [form for name, form in forms(value).items() if name in kinds]
    columns = ("conversation_name", "agent_name", "conversation_type", "ui_type", "meeting_info")
    rows = {c: [value] * len(urls) for c in columns}
    rows["page_url"] = urls
    table = ibis.memtable(pd.DataFrame(rows))
    scrubbed = _scrubbed({c: table[c] for c in (*columns, "page_url")})
    out = table.select(**scrubbed).execute()
    for column in out.columns:
        for text in out[column]:
            assert not leaks(str(text), case), (column, text)


def test_the_engine_keeps_look_alikes_in_names():
    table = ibis.memtable(pd.DataFrame({"conversation_name": KEEP}))
    out = table.select(**_scrubbed({"conversation_name": table["conversation_name"]})).execute()
    kept = out["conversation_name"].tolist()
    assert sum(k == v for k, v in zip(kept, KEEP, strict=True)) >= len(KEEP) // 2


def test_the_engine_keeps_ordinary_page_urls():
    urls = [
        "https://www.example.com/blog/2026/11/02/launch",
        "https://www.example.com/pricing?utm_source=newsletter&utm_campaign=2026-11",
        "https://www.example.com/p/4471902?gclid=Cj0KCQiA",
        "https://www.example.com/caf%C3%A9/menu",
    ]
    table = ibis.memtable(pd.DataFrame({"page_url": urls}))
    out = table.select(**_scrubbed({"page_url": table["page_url"]})).execute()
    assert out["page_url"].tolist() == urls
