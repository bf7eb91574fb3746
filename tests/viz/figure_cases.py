"""Figures of every kind of every analysis, on 1, 3, 8 and 12 groups and on 60-character names.

Shared by the layout test (measured in Chromium) and the snapshot test. A case is a figure built the
way a user builds it (``result.figure(kind, **style)``) on the bundled sample or on simulated data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

import chatanalytics as ca

#: Every figure kind with the styles drawn for it (the default first).
STYLES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "funnel": {
        "funnel": [{}, {"value": "overall_rate"}],
        "over_time": [{}],
        "time": [{}],
    },
    "agents": {
        "leaderboard": [{}, {"metric": "offers"}, {"metric": "accept_median_seconds"}],
        "accept_time": [{}, {"style": "violin"}],
        "heatmap": [{}, {"value": "miss_rate"}],
        "concurrency": [{}],
    },
    "timeouts": {
        # "by": the breakdown column of the result (drawn only when it has one)
        "outcomes": [{}, {"slice": "hour"}, {"slice": "by"}],
        "curves": [{}, {"estimate": "cif"}],
        "service_level": [{}],
        "heatmap": [{}],
        "causes": [{}],
    },
    "changes": {"overview": [{}], "waterfall": [{}]},
}

#: A 60-character name: long, and alike at the start so a cut at the end would make two equal.
LONG_PREFIX = "Enterprise pricing page chat for returning visitors, region "


def long_name(value: Any) -> str:
    """``value`` as a 60-character name that keeps the value at its end."""
    tail = f" {value}"
    return (LONG_PREFIX + "x" * 60)[: 60 - len(tail)] + tail


def rename_long(events: pd.DataFrame) -> pd.DataFrame:
    """Conversation, page and agent names of 60 characters each (ids kept)."""
    out = events.copy()
    for col in ("conversation_name", "agent_name", "page_url"):
        codes = {v: long_name(i + 1) for i, v in enumerate(sorted(out[col].dropna().unique()))}
        out[col] = out[col].map(codes).astype(out[col].dtype)
    return out


def keep_agents(events: pd.DataFrame, n: int) -> pd.DataFrame:
    """The events of ``n`` agents' live chats (other agents' events dropped; events without an agent kept)."""
    agents = sorted(events["agent_id"].dropna().unique())[:n]
    return events[events["agent_id"].isna() | events["agent_id"].isin(agents)].reset_index(drop=True)


@dataclass(frozen=True)
class Case:
    """One figure to draw: its id and how to build it."""

    id: str
    build: Callable[[], Any]


def _results(events: pd.DataFrame, groups: int) -> dict[str, Any]:
    """One result per analysis with ``groups`` groups in its breakdown (agents: that many agents)."""
    steps = ["triggered", "engaged", "completed"]
    by: dict[str, Any] = {}
    if groups == 3:
        by = {"by": "ui_type"}
    elif groups == 8:
        by = {"by": "conversation_name"}
    elif groups == 12:
        by = {"by": "page_url", "top": 11}
    out = {
        "funnel": ca.funnel(events, steps=steps, **by),
        "agents": ca.agent_performance(keep_agents(events, groups)),
        "timeouts": ca.timeouts(events, **by),
    }
    return out


def cases(events: pd.DataFrame, *, group_counts: tuple[int, ...] = (1, 3, 8, 12)) -> Iterator[Case]:
    """Every figure kind and style on ``group_counts`` groups, then on 60-character names (8 groups)."""
    variants = [(f"g{n}", events, n) for n in group_counts]
    variants.append(("long", rename_long(events), 8))
    for tag, data, n in variants:
        cache: dict[str, Any] = {}

        def result(name: str, data: pd.DataFrame = data, n: int = n, cache: dict[str, Any] = cache) -> Any:
            if not cache:
                cache.update(_results(data, n))
            return cache[name]

        for name, kinds in STYLES.items():
            if name == "changes":
                continue
            for kind, styles in kinds.items():
                for style in styles:
                    if style.get("slice") == "by" and n == 1:
                        continue
                    suffix = "-".join(f"{v}" for v in style.values())
                    yield Case(
                        f"{tag}-{name}-{kind}" + (f"-{suffix}" if suffix else ""),
                        lambda name=name, kind=kind, style=style, result=result: _draw(
                            result(name), kind, style
                        ),
                    )


def _draw(result: Any, kind: str, style: dict[str, Any]) -> Any:
    if style.get("slice") == "by":
        style = {**style, "slice": result.params["by"]}
    return result.figure(kind, **style)


def changes_cases(events: pd.DataFrame) -> Iterator[Case]:
    """The digest's figures with 8 and 12 groups in the waterfall, on plain and on long names."""
    for tag, data in (("plain", events), ("long", rename_long(events))):
        cache: dict[str, Any] = {}

        def result(data: pd.DataFrame = data, cache: dict[str, Any] = cache) -> Any:
            if not cache:
                cache["r"] = ca.changes(data, by=["conversation_name", "page_url"])
            return cache["r"]

        yield Case(f"{tag}-changes-overview", lambda result=result: result().figure("overview"))
        for by, top in (("conversation_name", 8), ("page_url", 12)):
            yield Case(
                f"{tag}-changes-waterfall-{top}",
                lambda result=result, by=by, top=top: result().figure("waterfall", by=by, top=top),
            )
