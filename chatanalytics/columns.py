"""The documented columns of every result table, in order, and the definitions they rest on.

This module imports nothing but the standard library, so figures, widgets and user code can name a
result's columns without importing pandas or the analyses. A column that appears only with some
parameters (``period`` with ``freq``, ``team`` with ``teams``, ``observed_<rate>`` with ``shrink``) is
listed in its place; a table holds the listed columns that apply, in this order.

Examples
--------
>>> from chatanalytics import columns
>>> columns.FUNNEL[:4]
('group', 'step', 'step_name', 'entered')
"""

from __future__ import annotations

__all__ = [
    "ACCEPT_WINDOW_SECONDS",
    "AGENTS",
    "AGENT_CHAT_CAP",
    "AGENT_MEETINGS",
    "AGENT_OFFERS",
    "AGENT_TEAMS",
    "ANOMALIES",
    "CAUSES",
    "CHANGES_DRIVERS",
    "CHANGES_METRICS",
    "CHANGES_PARAMS",
    "CHANGES_PERIODS",
    "CHANGES_REQUESTS",
    "CHANGES_UNITS",
    "CONCURRENCY_POINTS",
    "FRAME_COLUMNS",
    "FUNNEL",
    "FUNNEL_CURVES",
    "FUNNEL_OVER_TIME",
    "FUNNEL_UNITS",
    "GLOSSARY",
    "HOUR_WEEKDAY",
    "IDLE_TIMEOUT_SECONDS",
    "METRICS",
    "NO_AGENT",
    "ORDERS",
    "RATES",
    "REQUESTS",
    "SERVICE_LEVEL_SECONDS",
    "TIMEOUT_CAUSES",
    "TIMEOUT_CURVES",
    "TIMEOUT_HEATMAP",
    "TIMEOUT_LOGRANK",
    "TIMEOUT_OUTCOMES",
    "TIMEOUT_REQUESTS",
    "TIMEOUT_SERVICE_LEVEL",
    "TIMEOUT_WAITS",
    "UNITS",
    "unit_step_columns",
]


# ------------------------------------------------------------------------- definitions the tables use
#: Adobe: an agent has 100 seconds to accept a live-chat request before it times out.
ACCEPT_WINDOW_SECONDS = 100
#: Adobe: at most 10 concurrent live chats per agent.
AGENT_CHAT_CAP = 10
#: Adobe: a live chat with no activity from either side for 10 minutes times out.
IDLE_TIMEOUT_SECONDS = 600

#: What is counted once: a conversation session (a conversation in a session), a session, or a visitor.
UNITS: dict[str, tuple[str, ...]] = {
    "conversation": ("session_id", "conversation_id"),
    "session": ("session_id",),
    "visitor": ("visitor_id",),
}
#: ``ordered``: steps in order, other events may come between; ``strict``: no other chat event of the
#: unit between consecutive steps; ``any``: the steps in any order.
ORDERS: tuple[str, ...] = ("ordered", "strict", "any")
#: The agent named in rows of requests offered to no agent.
NO_AGENT = "(no agent)"
#: Rates with their success and trial columns (the trial column is the number the rate rests on).
RATES: dict[str, tuple[str, str]] = {
    "acceptance_rate": ("accepted_offers", "offers"),
    "meeting_rate": ("chats_with_meeting", "accepted"),
    "email_rate": ("chats_with_email", "accepted"),
}
#: Metrics a leaderboard can rank by, with what they count and their denominator (for captions).
METRICS: dict[str, str] = {
    "offers": "requests offered to the agent (each routing attempt is one offer)",
    "accepted": "chats the agent accepted (LIVE_CHAT_INITIATED)",
    "acceptance_rate": "offers the agent accepted / offers to the agent",
    "missed": "offers that timed out or were passed to another agent",
    "accept_median_seconds": "median time from the offer to the agent's accept, accepted offers",
    "accept_p90_seconds": "90th percentile time from the offer to the accept, accepted offers",
    "handle_median_seconds": "median time from accept to the chat's end, chats with an observed end",
    "handle_total_seconds": "total time from accept to end, chats with an observed end",
    "idle_timeouts": "accepted chats ended by the 10-minute idle timeout",
    "peak_concurrent_chats": f"most chats held at once (cap {AGENT_CHAT_CAP})",
    "mean_concurrent_chats": "chat-seconds / seconds with at least one chat",
    "at_cap_rate": f"seconds at {AGENT_CHAT_CAP} chats / seconds with at least one chat",
    "meetings_booked": "meetings booked with the agent, in chats or not",
    "meeting_rate": "accepted chats with a meeting booked / accepted chats",
    "email_rate": "accepted chats in which an email was captured / accepted chats",
}
#: Thresholds of the service level ``P(accepted within T)``, in seconds.
SERVICE_LEVEL_SECONDS: tuple[int, ...] = (10, 20, 30, 45, 60, 100)

#: The statistical terms figures and definitions use, each in plain words: ``result.describe()`` lists
#: those its text uses, and the report and the README link to them.
GLOSSARY: dict[str, str] = {
    "95% interval": "The range the true value lies in, 19 times out of 20, given how many units were "
    "counted; narrow with many units, wide with few.",
    "Wilson interval": "The 95% interval of a share (k out of n), which stays sensible for small n and for "
    "shares near 0% or 100%.",
    "censored": "A unit whose outcome is not known yet when the data end (still waiting, window not over). "
    "It counts while it was seen and then leaves the denominator instead of counting as a failure.",
    "Kaplan-Meier": "The share that reached an outcome by each time, counting censored units for as long "
    "as they were seen.",
    "Greenwood": "The usual formula for the 95% band around a Kaplan-Meier curve.",
    "cumulative incidence": "With outcomes that exclude each other (accepted, missed, left), the share "
    "that ended in one outcome by each time.",
    "Aalen-Johansen": "The estimate of cumulative incidence: Kaplan-Meier for several competing outcomes.",
    "at risk": "Units still waiting at a given time: neither finished nor censored.",
    "shrunk rate": "A rate pulled toward the overall rate, strongly when it rests on few observations and "
    "barely when on many, so 1 of 1 does not rank first.",
    "beta prior": "How strongly rates are shrunk: fitted to all agents' rates together.",
    "Holm": "An adjustment of p-values when many metrics are tested at once, so that chance alone rarely "
    "marks one as significant.",
    "significant": "Unlikely to be chance alone (adjusted p-value under 0.05).",
    "p-value": "How often a change this large would appear by chance if nothing had changed.",
    "IQR": "Interquartile range: the middle half of the values, from the 25th to the 75th percentile.",
    "median": "The middle value: half are below it, half above.",
    "Kitagawa": "Splitting a change in a rate into the groups' own rates changing and the mix of groups "
    "changing; the two parts add up to the change.",
}
#: Why a missed request was missed (see :func:`timeouts`).
CAUSES: dict[str, str] = {
    "no_agent": "no agent was offered the request: none was available (all offline or at the cap)",
    "agent_at_cap": f"the offered agent already held {AGENT_CHAT_CAP} chats (staffing)",
    "not_accepted": "the offered agent had room and did not accept within 100 s (response)",
}


# ------------------------------------------------------------------------------------------- funnel
#: ``FunnelResult.frame()``: one row per group and step.
FUNNEL: tuple[str, ...] = (
    "group",
    "step",
    "step_name",
    "entered",
    "converted",
    "dropped",
    "still_open",
    "conversion_rate",
    "conversion_rate_low",
    "conversion_rate_high",
    "overall_rate",
    "overall_rate_low",
    "overall_rate_high",
    "median_seconds",
    "p90_seconds",
)
#: ``FunnelResult.frame("curves")``: Kaplan-Meier share converted by time since the previous step.
#: The columns of ``FunnelResult.frame()`` as a list (the funnel widget's table).
FRAME_COLUMNS: list[str] = list(FUNNEL)

FUNNEL_CURVES: tuple[str, ...] = ("group", "step", "step_name", "seconds", "converted_share")
#: ``FunnelResult.over_time()``: conversion by the period units entered the funnel.
FUNNEL_OVER_TIME: tuple[str, ...] = (
    "group",
    "period",
    "step",
    "step_name",
    "entered",
    "converted",
    "overall_rate",
    "overall_rate_low",
    "overall_rate_high",
    "immature",
)
#: ``FunnelResult.frame("units")``: the unit's key columns (those of its ``unit``), ``t1`` and the
#: breakdown value ``group``, then one time column per step (see :func:`unit_step_columns`). Times are
#: integer microseconds since the epoch, null when the step was not reached.
FUNNEL_UNITS: tuple[str, ...] = ("session_id", "conversation_id", "visitor_id", "t1", "group")


def unit_step_columns(steps: int) -> tuple[str, ...]:
    """The step time columns of ``FunnelResult.frame("units")``: ``s1`` ... ``s<steps>``.

    Examples
    --------
    >>> unit_step_columns(3)
    ('s1', 's2', 's3')
    """
    return tuple(f"s{k}" for k in range(1, steps + 1))


# ------------------------------------------------------------------------------------------- agents
_AGENT_METRICS: tuple[str, ...] = (
    "offers",
    "accepted_offers",
    "acceptance_rate",
    "acceptance_rate_low",
    "acceptance_rate_high",
    "observed_acceptance_rate",
    "missed",
    "left",
    "open",
    "accepted",
    "accept_median_seconds",
    "accept_p90_seconds",
    "chats_ended",
    "handle_median_seconds",
    "handle_total_seconds",
    "idle_timeouts",
    "peak_concurrent_chats",
    "mean_concurrent_chats",
    "busy_seconds",
    "at_cap_rate",
    "meetings_booked",
    "meetings_in_chats",
    "chats_with_meeting",
    "meeting_rate",
    "meeting_rate_low",
    "meeting_rate_high",
    "observed_meeting_rate",
    "chats_with_email",
    "email_rate",
    "email_rate_low",
    "email_rate_high",
    "observed_email_rate",
)
#: ``AgentPerformanceResult.frame()``: one row per agent (and period).
AGENTS: tuple[str, ...] = ("period", "agent_id", "agent_name", "team", *_AGENT_METRICS)
#: ``AgentPerformanceResult.frame("team")``: the same metrics per team (and period).
AGENT_TEAMS: tuple[str, ...] = ("period", "team", *_AGENT_METRICS)
#: ``AgentPerformanceResult.frame("offers")``: one row per offer counted.
AGENT_OFFERS: tuple[str, ...] = (
    "session_id",
    "conversation_id",
    "request",
    "offer",
    "offered_at",
    "agent_id",
    "outcome",
    "outcome_at",
    "accepted_by",
    "accept_seconds",
    "agent_name",
    "team",
    "period",
)
#: ``AgentPerformanceResult.frame("meetings")``: every meeting booked with an agent.
AGENT_MEETINGS: tuple[str, ...] = ("at", "agent_id")
#: ``AgentPerformanceResult.frame("points")``: chats held per agent from ``at`` for ``seconds``.
CONCURRENCY_POINTS: tuple[str, ...] = ("agent_id", "at", "chats", "seconds")
#: ``frame("requests")`` of the agent result: one row per rebuilt live-chat request.
REQUESTS: tuple[str, ...] = (
    "session_id",
    "conversation_id",
    "request",
    "requested_at",
    "offers",
    "first_agent_id",
    "last_agent_id",
    "last_offered_at",
    "outcome",
    "outcome_at",
    "wait_seconds",
    "agent_id",
    "accepted_at",
    "accept_seconds",
    "chat_end",
    "ended_at",
    "handle_seconds",
    "released_at",
    "last_event_at",
    "emails_in_chat",
    "phones_in_chat",
    "meetings_in_chat",
)
#: ``frame("anomalies")``: live-chat sequences that break the request rules, one row per kind.
ANOMALIES: tuple[str, ...] = ("anomaly", "count", "description")
#: ``AgentPerformanceResult.hour_weekday()``: offers by local weekday and hour, all 168 cells.
HOUR_WEEKDAY: tuple[str, ...] = ("weekday", "weekday_name", "hour", "offers", "missed", "miss_rate")

# ------------------------------------------------------------------------------------------- timeouts
#: ``TimeoutResult.frame("outcomes")``.
TIMEOUT_OUTCOMES: tuple[str, ...] = (
    "slice",
    "group",
    "outcome",
    "count",
    "denominator",
    "basis",
    "share",
    "share_low",
    "share_high",
)
#: ``TimeoutResult.frame("curves")``.
TIMEOUT_CURVES: tuple[str, ...] = (
    "group",
    "seconds",
    "at_risk",
    "accepted",
    "missed",
    "left",
    "censored",
    "accepted_share",
    "accepted_share_low",
    "accepted_share_high",
    "cif_accepted",
    "cif_accepted_low",
    "cif_accepted_high",
    "cif_missed",
    "cif_missed_low",
    "cif_missed_high",
    "cif_left",
    "cif_left_low",
    "cif_left_high",
)
#: ``TimeoutResult.frame("service_level")``.
TIMEOUT_SERVICE_LEVEL: tuple[str, ...] = (
    "group",
    "seconds",
    "service_level",
    "service_level_low",
    "service_level_high",
    "answered_within",
    "requests",
)
#: ``TimeoutResult.frame("waits")``.
TIMEOUT_WAITS: tuple[str, ...] = (
    "group",
    "requests",
    "accepted",
    "median_seconds",
    "median_seconds_low",
    "median_seconds_high",
    "p90_seconds",
    "p90_seconds_low",
    "p90_seconds_high",
)
#: ``TimeoutResult.frame("causes")``.
TIMEOUT_CAUSES: tuple[str, ...] = ("group", "cause", "missed", "share")
#: ``TimeoutResult.frame("heatmap")``: requests by local weekday and hour, all 168 cells.
TIMEOUT_HEATMAP: tuple[str, ...] = ("weekday", "weekday_name", "hour", "requests", "missed", "miss_rate")
#: ``TimeoutResult.frame("logrank")``.
TIMEOUT_LOGRANK: tuple[str, ...] = ("comparison", "chi2", "df", "p_value", "p_adjusted")
#: ``TimeoutResult.frame("requests")``: the requests of :data:`REQUESTS`, then the canonical columns
#: carried for ``by`` and ``where`` (in their place), local ``hour``, ``weekday`` and ``day``, ``group`` and
#: the ``cause`` of missed requests.
TIMEOUT_REQUESTS: tuple[str, ...] = (*REQUESTS, "hour", "weekday", "day", "group", "cause")

# ------------------------------------------------------------------------------------------ changes
#: ``ChangesResult.frame("metrics")``: one row per metric, the baseline (``before``) against the compared
#: period (``after``), with intervals, the test, the Holm-adjusted p-value and whether it was compared.
CHANGES_METRICS: tuple[str, ...] = (
    "metric",
    "label",
    "kind",
    "basis",
    "definition",
    "before",
    "before_low",
    "before_high",
    "after",
    "after_low",
    "after_high",
    "numerator_before",
    "denominator_before",
    "numerator_after",
    "denominator_after",
    "change",
    "change_low",
    "change_high",
    "relative_change",
    "relative_change_low",
    "relative_change_high",
    "test",
    "statistic",
    "p_value",
    "p_adjusted",
    "significant",
    "comparable",
    "reason",
)
#: ``ChangesResult.frame("drivers")``: per metric, breakdown column and group, its part of the change
#: (Kitagawa ``mix`` + ``rate`` = ``total`` for rates; the group's own change for the count).
CHANGES_DRIVERS: tuple[str, ...] = (
    "metric",
    "by",
    "group",
    "rank",
    "units_before",
    "units_after",
    "share_before",
    "share_after",
    "rate_before",
    "rate_after",
    "mix",
    "rate",
    "total",
    "total_low",
    "total_high",
    "status",
)
#: ``ChangesResult.frame("periods")``: every calendar period of the data, its status and its role.
CHANGES_PERIODS: tuple[str, ...] = (
    "period",
    "start",
    "end",
    "hours",
    "units",
    "requests",
    "status",
    "reason",
    "role",
)
#: ``ChangesResult.frame("params")``: the parameters as text.
CHANGES_PARAMS: tuple[str, ...] = ("parameter", "value")
# the leading columns of both kinds of ChangesResult.units(...): the keys, the breakdown and the role
_CHANGES_KEYS: tuple[str, ...] = ("session_id", "conversation_id", "conversation_name", "by", "group", "role")
#: ``ChangesResult.units(...)`` for the conversation metrics: the conversations (units) behind a group.
CHANGES_UNITS: tuple[str, ...] = (
    *_CHANGES_KEYS,
    "triggered_at",
    "reached",
    "engaged",
    "lead_captured",
    "completed",
    "meeting_booked",
)
#: ``ChangesResult.units(...)`` for the live-chat metrics: the requests behind a group.
CHANGES_REQUESTS: tuple[str, ...] = (
    *_CHANGES_KEYS,
    "requested_at",
    "request",
    "reached",
    "outcome",
    "wait_seconds",
    "accepted_within_30s",
)
