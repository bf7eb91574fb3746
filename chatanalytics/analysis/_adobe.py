"""Adobe Dynamic Chat's own dashboard metrics, to reconcile with the Global Performance dashboard."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ..schema import STRING
from ._engine import as_table
from ._stats import wilson

_COUNTED = {
    "triggered": "CONVERSATION_TRIGGERED",
    "engaged": "CONVERSATION_ENGAGED",
    "completed": "CONVERSATION_COMPLETED",
    "people_acquired": "CONVERSATION_INPUT_EMAIL",
    "live_chats": "CONVERSATION_LIVE_CHAT_INITIATED",
}
_BY = ("conversation_name", "conversation_id", "conversation_type", "ui_type", "page_url")


def adobe_metrics(events: Any, *, by: str | None = None) -> pd.DataFrame:
    """The Dynamic Chat dashboard's numbers, computed from callback events with Adobe's definitions.

    Triggered, engaged, completed, people acquired (an email given) and live chats (an agent engaged)
    are each counted **once per session** (Adobe: "one per visitor per session"); meetings booked are
    counted every time (Adobe lets them repeat). **Engagement rate** = engaged / triggered and
    **conversion rate** = people acquired / engaged, as on Adobe's Global Performance dashboard, with
    95% Wilson intervals.

    Where these differ from :func:`funnel`: Adobe counts each event on its own, with no order and no
    window, so a session that engaged counts as engaged even when its trigger was lost or came from an
    earlier page view; the funnel follows each conversation in order within a window. Adobe's "People
    Acquired" counts only *new* people (a first email for the person), which the callbacks cannot
    tell, so ``people_acquired`` here counts every session in which an email was given and may exceed
    Adobe's figure for returning known visitors. Adobe's dashboards can lag by up to 24 hours and keep
    90 days.

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        Canonical events; events without a ``session_id`` are left out.
    by : {None, "conversation_name", "conversation_id", "conversation_type", "ui_type", "page_url"}
        Split by the value on each event (Adobe's dashboards filter by Dialogue or Conversational Flow).

    Returns
    -------
    pandas.DataFrame
        ``group`` and the counts ``triggered``, ``engaged``, ``completed``, ``people_acquired``,
        ``live_chats``, ``meetings_booked``, then ``engagement_rate`` and ``conversion_rate`` with their
        ``_low`` / ``_high`` bounds.

    Examples
    --------
    >>> import chatanalytics as ca
    >>> m = ca.adobe_metrics(ca.load_sample())
    >>> int(m["triggered"].iloc[0]) >= int(m["engaged"].iloc[0])
    True
    """
    if by is not None and by not in _BY:
        raise InvalidParameterError("by", by, list(_BY))
    import ibis

    cols = ["event_type", "session_id", *([by] if by else [])]
    t = as_table(events, cols)
    t = t.filter(t.session_id.notnull())
    group = t[by].cast("string").fill_null("(none)") if by else ibis.literal("All")
    aggs = {
        name: ibis.ifelse(t.event_type == kind, t.session_id, ibis.null()).nunique()
        for name, kind in _COUNTED.items()
    }
    aggs["meetings_booked"] = (t.event_type == "CONVERSATION_MEETING_BOOKED").sum()
    out = t.mutate(group=group).group_by("group").agg(**aggs).to_pyarrow().to_pandas()
    out = out.sort_values(["triggered", "group"], ascending=[False, True]).reset_index(drop=True)
    out["group"] = out["group"].astype(STRING)
    for c in [*_COUNTED, "meetings_booked"]:
        out[c] = out[c].fillna(0).astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["engagement_rate"] = out["engaged"] / out["triggered"].where(out["triggered"] > 0)
        out["conversion_rate"] = out["people_acquired"] / out["engaged"].where(out["engaged"] > 0)
    out["engagement_rate_low"], out["engagement_rate_high"] = wilson(out["engaged"], out["triggered"])
    out["conversion_rate_low"], out["conversion_rate_high"] = wilson(out["people_acquired"], out["engaged"])
    return out
