"""The ``chatanalytics`` command line (also ``python -m chatanalytics``)."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from .errors import ChatAnalyticsError, DataQualityWarning


def _read(args: argparse.Namespace):
    from .io import read_events

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the report says it, in full
        return read_events(args.paths, format=args.format)


def cmd_report(args: argparse.Namespace) -> int:
    """Read exports and write the load report, event counts, funnel, agent and timeout tables under --out."""
    from .analysis import agent_performance, event_counts, funnel, timeouts
    from .errors import EmptyDataError
    from .io import load_report

    events = _read(args)
    rep = load_report(events)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "load_report.txt").write_text(repr(rep) + "\n", encoding="utf-8")
    rep.files.to_csv(out / "load_report_files.csv", index=False)
    rep.rejected.drop(columns=["raw"]).to_csv(out / "rejected.csv", index=False)
    rep.ignored_names().to_csv(out / "ignored_event_names.csv", index=False)
    if len(rep.rejected):
        rep.write_rejected(out / "rejected_records.jsonl")
    event_counts(events).to_csv(out / "events_by_type.csv", index=False)
    by_day = event_counts(events, freq="day", tz=args.tz)
    by_day.pivot(index="period", columns="event_type", values="events")[list(_types())].rename_axis(
        f"day ({args.tz})"
    ).to_csv(out / "events_by_day.csv")
    written = [
        "load_report.txt",
        "load_report_files.csv",
        "rejected.csv",
        "ignored_event_names.csv",
        "events_by_type.csv",
        "events_by_day.csv",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            funnel(events, steps=["triggered", "engaged", "completed"]).frame().to_csv(
                out / "funnel.csv", index=False
            )
            written.append("funnel.csv")
        except EmptyDataError:
            pass
        try:
            agent_performance(events, tz=args.tz).frame().to_csv(out / "agents.csv", index=False)
            written.append("agents.csv")
            waits = timeouts(events, tz=args.tz)
            waits.frame("outcomes").to_csv(out / "timeouts.csv", index=False)
            waits.frame("service_level").to_csv(out / "service_level.csv", index=False)
            written += ["timeouts.csv", "service_level.csv"]
        except EmptyDataError as exc:
            print(f"no agent or timeout tables: {exc}")
    print(repr(rep))
    print(f"wrote {out}/: {', '.join(written)}")
    return 0


def _types():
    from .schema import EVENT_TYPES

    return EVENT_TYPES


def cmd_convert(args: argparse.Namespace) -> int:
    """Read exports and write the canonical events as Parquet, for fast reloads."""
    from .io import load_report

    events = _read(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    events.to_parquet(out, index=False)
    c = load_report(events).counts()
    print(
        f"wrote {len(events):,} events to {out} ({c['rejected']:,} rejected, {c['duplicates']:,} duplicates, "
        f"{c['ignored']:,} ignored)"
    )
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write synthetic capture-format events."""
    from .datasets import simulate

    events = simulate(
        args.sessions, seed=args.seed, start=args.start, days=args.days, tz=args.tz, path=args.out
    )
    print(f"wrote SYNTHETIC events of {args.sessions:,} sessions to {args.out} ({len(events):,} events)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatanalytics", description="Analyse Adobe Marketo Engage Dynamic Chat events."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def inputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="+", help="files, globs or directories of exported events")
        p.add_argument("--format", default=None, help="force an input format (default: detect)")

    p = sub.add_parser("report", help="load report and event counts for exported events")
    inputs(p)
    p.add_argument("--out", default="out", help="output directory (default: out)")
    p.add_argument("--tz", default="UTC", help="time zone of the daily counts (default: UTC)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("convert", help="write canonical events as Parquet")
    inputs(p)
    p.add_argument("--out", required=True, help="the .parquet file to write")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("simulate", help="write synthetic capture-format events")
    p.add_argument("--sessions", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default="2026-10-05")
    p.add_argument("--days", type=int, default=28)
    p.add_argument("--tz", default="America/New_York")
    p.add_argument("--out", required=True, help="file to write (.jsonl or .jsonl.gz)")
    p.set_defaults(func=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ChatAnalyticsError as err:
        print(f"chatanalytics {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
