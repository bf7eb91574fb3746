"""The ``chatanalytics`` command line (also ``python -m chatanalytics``).

Exit codes: 0 when the job was done, 1 on bad input or a file that cannot be read or written (the reason
on stderr, one line), 2 on a usage error (unknown command or option, bad option value), 3 on an
unexpected error (a bug: one line asking for a report; ``--debug`` shows the traceback); ``digest`` exits
4 when a metric moved significantly, so that a scheduled job can alert.
"""

from __future__ import annotations

import argparse
import errno
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ChatAnalyticsError, DataQualityWarning, InvalidParameterError

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_BUG, EXIT_CHANGED = 0, 1, 2, 3, 4


def _say(args: argparse.Namespace, text: str) -> None:
    """A summary line on stdout, unless --quiet."""
    if not args.quiet:
        print(text)


@contextmanager
def _bar(args: argparse.Namespace, **options: Any) -> Iterator[Any]:
    """A tqdm progress bar on stderr, or a silent stand-in with --quiet."""
    from tqdm import tqdm

    with tqdm(disable=args.quiet, file=sys.stderr, **options) as bar:
        yield bar


def _size(nbytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if nbytes < 1000 or unit == "GB":
            return f"{nbytes:,.0f} {unit}" if unit == "B" else f"{nbytes:,.1f} {unit}"
        nbytes /= 1000
    return f"{nbytes:,.1f} GB"  # pragma: no cover


def _read(args: argparse.Namespace):
    """Read the inputs, with a progress bar over their bytes advanced file by file (not with --quiet)."""
    from .io import TrackingPlan, read_events

    plan = TrackingPlan.from_file(args.plan) if args.plan else None
    key = Path(args.pseudonym_key_file).read_bytes().strip() if args.pseudonym_key_file else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the load report says it, in full
        return read_events(
            args.paths,
            format=args.format,
            progress=not args.quiet,
            plan=plan,
            timezone=args.source_tz,
            pseudonym_key=key,
        )


def _types():
    from .schema import EVENT_TYPES

    return EVENT_TYPES


# ---------------------------------------------------------------------------------------------- report
def cmd_report(args: argparse.Namespace) -> int:
    """Read exports and write the HTML report; with an --out directory, also the tables as CSV."""
    from ._csv import write_csv
    from ._report import build
    from .analysis import event_counts
    from .export import save_all
    from .io import load_report

    events = _read(args)
    rep = load_report(events)
    out = Path(args.out)
    to_file = out.suffix.lower() in (".html", ".htm")
    html_path = out if to_file else out / "report.html"
    contents = build(events, tz=args.tz, title=args.title, progress=not args.quiet)
    contents.write(html_path)  # to a temporary name, then renamed
    lines = [repr(rep)]
    lines.append(f"wrote {html_path} ({_size(html_path.stat().st_size)}, {len(contents.figures)} charts)")
    for name, reason in contents.unavailable.items():
        lines.append(f"{name}: not available: {reason}")

    if not to_file:
        (out / "load_report.txt").write_text(repr(rep) + "\n", encoding="utf-8")
        safe = not args.raw_csv
        write_csv(rep.files, out / "load_report_files.csv", safe=safe)
        write_csv(rep.rejected.drop(columns=["raw"]), out / "rejected.csv", safe=safe)
        write_csv(rep.ignored_names(), out / "ignored_event_names.csv", safe=safe)
        written = ["load_report.txt", "load_report_files.csv", "rejected.csv", "ignored_event_names.csv"]
        if len(rep.rejected):
            rep.write_rejected(out / "rejected_records.jsonl")
            written.append("rejected_records.jsonl")
        write_csv(event_counts(events), out / "events_by_type.csv", safe=safe)
        by_day = event_counts(events, freq="day", tz=args.tz)
        pivot = by_day.pivot(index="period", columns="event_type", values="events")[list(_types())]
        write_csv(pivot.rename_axis(f"day ({args.tz})"), out / "events_by_day.csv", safe=safe, index=True)
        written += ["events_by_type.csv", "events_by_day.csv"]
        for result in contents.results.values():  # each result names its CSV tables
            if result is None:
                continue
            for stem, table in result.CSV.items():
                write_csv(result.frame(table), out / f"{stem}.csv", safe=safe)
                written.append(f"{stem}.csv")
        lines.append(f"wrote {out}/: {', '.join(written)}")

    if args.png:
        png_dir = Path(args.png)
        paths: list[Path] = []
        # one call per chart for the progress bar; the kaleido browser started by the first is reused
        with _bar(args, total=len(contents.figures), desc="charts", unit="chart") as bar:
            for name, fig in contents.figures.items():
                paths += save_all({name: fig}, png_dir, formats=["png"], scale=args.scale)
                bar.update(1)
        lines.append(f"wrote {len(paths)} charts to {png_dir}/: {', '.join(p.name for p in paths)}")
    for line in lines:
        _say(args, line)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- digest
def cmd_digest(args: argparse.Namespace) -> int:
    """Read exports and print what changed (one headline line per line); exit 4 when a metric moved
    significantly.
    """
    from ._csv import write_csv
    from .analysis import changes

    events = _read(args)
    by = list(dict.fromkeys(args.by)) if args.by else ["conversation_name", "ui_type"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the headline lines say why, in full
        try:
            result = changes(
                events, period=args.period, tz=args.tz, by=by, baseline=args.baseline, at=args.at
            )
        except InvalidParameterError as err:
            if err.param != "at":
                raise
            # an --at outside the data is a wrong option value, told as argparse tells the others
            print(f"chatanalytics digest: error: argument --at: {err}", file=sys.stderr)
            return EXIT_USAGE
    for line in result.headlines():
        print(line)
    if args.csv:
        out = Path(args.csv)
        out.mkdir(parents=True, exist_ok=True)
        for stem, table in result.CSV.items():
            write_csv(result.frame(table), out / f"{stem}.csv", safe=not args.raw_csv)
        if not args.quiet:  # stdout holds only the headline lines
            print(f"wrote {out}/: {', '.join(f'{stem}.csv' for stem in result.CSV)}", file=sys.stderr)
    return EXIT_CHANGED if result.summary()["significant"] else EXIT_OK


# ---------------------------------------------------------------------------------------------- others
def cmd_inspect(args: argparse.Namespace) -> int:
    """Read exports and print the load report and a summary; write nothing."""
    from ._report import overview
    from .analysis import event_counts
    from .io import load_report

    events = _read(args)
    print(repr(load_report(events)))
    o = overview(events, args.tz)
    if not o["rows"]:
        print("no events")
        return EXIT_OK
    print(
        f"{o['events']:,} events from {o['first']} to {o['last']} ({args.tz}): {o['sessions']:,} sessions, "
        f"{o['conversations']:,} conversations, {o['visitors']:,} visitors, {o['agents']:,} live-chat agents"
    )
    counts = event_counts(events)
    width = max(len(str(t)) for t in counts["event_type"])
    for row in counts.itertuples(index=False):
        print(f"  {row.event_type!s:<{width}}  {row.events:>10,}")
    return EXIT_OK


def cmd_convert(args: argparse.Namespace) -> int:
    """Read exports and write the canonical events as Parquet: one file, or a dataset partitioned by day."""
    from .io import load_report, write_dataset
    from .io._atomic import replacing
    from .io._dataset import already_written, holds_data
    from .io._files import expand_paths

    out = Path(args.out)
    dataset = not args.out.lower().endswith(".parquet")
    if not dataset and (args.append or args.force):
        flag = "--append" if args.append else "--force"
        raise InvalidParameterError(flag, True, reason="only with a dataset folder as --out")
    if args.force and not args.append:
        raise InvalidParameterError("--force", True, reason="only with --append")
    if dataset and not args.append and holds_data(out):  # the writer checks again, under its lock
        raise InvalidParameterError(
            "--out", args.out, reason="the folder is not empty: pass --append to add files to it"
        )
    if args.append and not args.force:  # exports already in the dataset are not read again
        files, _ = expand_paths(args.paths)
        seen = already_written(out, [str(f) for f in files])
        for line in seen.values():
            print(f"chatanalytics convert: skipped: {line}; --force appends it again", file=sys.stderr)
        if len(seen) == len(files):
            _say(args, f"nothing to append to {out}/: every input is already in it")
            return EXIT_OK
        args.paths = [str(f) for f in files if str(f) not in seen]
    events = _read(args)
    if dataset:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataQualityWarning)
            files_written = write_dataset(events, out, append=args.append, force=args.force)
        for w in caught:
            print(f"chatanalytics convert: {w.message}", file=sys.stderr)
        if not files_written:
            _say(args, f"appended nothing to {out}/: every event read is already in it")
            return EXIT_OK
        where = f"{out}/ ({files_written:,} file(s) partitioned by UTC day)"
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        with replacing(out) as temp:
            events.to_parquet(temp, index=False)
        where = str(out)
    c = load_report(events).counts()
    _say(
        args,
        f"wrote {len(events):,} events to {where} ({c['rejected']:,} rejected, {c['duplicates']:,} "
        f"duplicates, {c['ignored']:,} ignored" + (f"; {c['derived']:,} derived)" if c["derived"] else ")"),
    )
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write synthetic capture-format events."""
    from .datasets import simulate

    events = simulate(
        args.sessions, seed=args.seed, start=args.start, days=args.days, tz=args.tz, path=args.out
    )
    _say(args, f"wrote SYNTHETIC events of {args.sessions:,} sessions to {args.out} ({len(events):,} events)")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- parser
def _time_zone(value: str) -> str:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"not a time zone: {value!r} (e.g. UTC, Europe/Berlin)") from None
    return value


def _parquet_or_folder(value: str) -> str:
    path = Path(value)
    if value.lower().endswith(".parquet") or not path.suffix:
        return value
    try:
        if path.is_dir():
            return value
    except OSError as err:  # a folder inside one this user cannot open: the writer says so, with exit 1
        if err.errno not in (errno.EACCES, errno.EPERM):
            raise argparse.ArgumentTypeError(f"cannot look at {value!r}: {err.strerror}") from None
        return value
    raise argparse.ArgumentTypeError(f"must be a .parquet file or a folder: {value!r}")


def _positive(kind: type) -> Any:
    def check(value: str) -> Any:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if number <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {value!r}")
        return number

    check.__name__ = kind.__name__
    return check


def _date(value: str) -> str:
    import pandas as pd

    try:
        when = pd.Timestamp(value)
    except (TypeError, ValueError):
        when = None
    if when is None or pd.isna(when):
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (e.g. 2026-03-09)")
    return value


class _Command(NamedTuple):
    """One subcommand: its name, the function it runs, what adds its options, and its help texts."""

    name: str
    run: Callable[[argparse.Namespace], int]
    options: Callable[[argparse.ArgumentParser], None]
    help: str
    description: str | None = None
    epilog: str | None = None


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: ``report``, ``digest``, ``inspect``, ``convert``, ``simulate`` and their
    options.
    """
    from .io import FORMATS

    parser = argparse.ArgumentParser(
        prog="chatanalytics",
        description="Analyse Adobe Marketo Engage Dynamic Chat events.",
        epilog="exit codes: 0 done, 1 bad input or a file that cannot be read or written (reason on "
        "stderr), 2 usage error, 3 unexpected error (please report it; --debug shows the traceback); "
        "digest: 4 when a metric moved significantly",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (for a bug report)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars and no summary lines")
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,  # keeps a --debug given before the command
        help="show the traceback of an error (for a bug report)",
    )

    def inputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="+", help="files, globs or directories of exported events")
        p.add_argument("--format", default=None, choices=list(FORMATS), help="input format (default: detect)")
        p.add_argument(
            "--plan", default=None, help="tracking plan (.toml or .json): the site's names for chat events"
        )
        p.add_argument(
            "--source-tz",
            default=None,
            type=_time_zone,
            help="time zone of the GA4 property / UA view / report suite, for exports with local dates",
        )
        p.add_argument(
            "--pseudonym-key-file",
            metavar="FILE",
            default=None,
            help="file holding the key of the pseudonyms that replace ids holding an email address or a "
            "phone number (default: $CHATANALYTICS_PSEUDONYM_KEY, else a key generated once in "
            "$XDG_CONFIG_HOME/chatanalytics/pseudonym.key)",
        )

    def raw_csv(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--raw-csv",
            action="store_true",
            help="write CSV text cells as they are (default: a cell starting with =, +, -, @, tab or CR gets "
            "a leading ' so that spreadsheets do not run it as a formula)",
        )

    def report_options(p: argparse.ArgumentParser) -> None:
        inputs(p)
        p.add_argument(
            "--out",
            default="out",
            help="a .html file to write the report to, or a directory that receives report.html and the "
            "tables as CSV (default: out)",
        )
        p.add_argument(
            "--tz", default="UTC", type=_time_zone, help="time zone of days and hours (default: UTC)"
        )
        p.add_argument("--png", metavar="DIR", default=None, help="also write each chart as PNG into DIR")
        p.add_argument(
            "--scale", type=_positive(float), default=1.0, help="pixel scale of the PNGs (default: 1)"
        )
        p.add_argument("--title", default=None, help="heading of the report")
        raw_csv(p)

    def digest_options(p: argparse.ArgumentParser) -> None:
        inputs(p)
        p.add_argument(
            "--period", default="week", choices=["day", "week"], help="calendar weeks (from Monday) or days"
        )
        p.add_argument("--tz", default="UTC", type=_time_zone, help="time zone of the periods (default: UTC)")
        p.add_argument(
            "--by",
            action="append",
            default=None,
            choices=["conversation_name", "conversation_id", "conversation_type", "ui_type", "page_url"],
            help="break the changes down by this column (repeat for several; default: conversation_name "
            "and ui_type)",
        )
        p.add_argument(
            "--baseline",
            type=_positive(int),
            default=1,
            help="number of periods before the compared one that form the baseline (default: 1)",
        )
        p.add_argument(
            "--at",
            type=_date,
            default=None,
            metavar="DATE",
            help="a date in the period to compare (default: the last complete period)",
        )
        p.add_argument("--csv", metavar="DIR", default=None, help="also write the tables as CSV into DIR")
        raw_csv(p)

    def inspect_options(p: argparse.ArgumentParser) -> None:
        inputs(p)
        p.add_argument(
            "--tz", default="UTC", type=_time_zone, help="time zone of the data span (default: UTC)"
        )

    def convert_options(p: argparse.ArgumentParser) -> None:
        inputs(p)
        p.add_argument(
            "--out",
            required=True,
            type=_parquet_or_folder,
            help="a .parquet file, or a folder that receives the partitioned dataset",
        )
        p.add_argument(
            "--append",
            action="store_true",
            help="add to an existing dataset folder (new files beside the old); an input file the dataset "
            "already holds (same size and SHA-256) is skipped, with a message",
        )
        p.add_argument(
            "--force", action="store_true", help="with --append: append inputs the dataset already holds too"
        )

    def simulate_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--sessions", type=_positive(int), default=5000)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--start", default="2026-10-05")
        p.add_argument("--days", type=_positive(int), default=28)
        p.add_argument("--tz", default="America/New_York", type=_time_zone)
        p.add_argument("--out", required=True, help="file to write (.jsonl or .jsonl.gz)")

    # One row per subcommand, in the order of `chatanalytics --help`.
    commands = (
        _Command(
            "report",
            cmd_report,
            report_options,
            "the HTML report (and CSV tables, PNG charts) of exported events",
            "Read exported events and write a self-contained HTML report: the load report, the funnel, "
            "live-chat agents and timeouts, with their figures, tables and definitions.",
        ),
        _Command(
            "digest",
            cmd_digest,
            digest_options,
            "print what changed between the last complete week (or day) and the one before",
            "Read exported events and print the digest of what changed: each metric's move between the "
            "last complete period and its baseline, whether it is beyond noise (Holm-adjusted, 5%%) and "
            "what drove it, one line each. Exit code 4 when any metric moved significantly, 0 when none did.",
            "exit codes: 0 nothing moved beyond noise, 4 a metric moved significantly, 1 bad input (reason "
            "on stderr), 2 usage error",
        ),
        _Command(
            "inspect",
            cmd_inspect,
            inspect_options,
            "print the load report and a summary of exported events; write nothing",
        ),
        _Command(
            "convert",
            cmd_convert,
            convert_options,
            "write canonical events as Parquet: one file, or a dataset partitioned by day",
            "Read exports and write their canonical events as one .parquet file (fast reloads with "
            "read_events) or, when --out is a folder, as a dataset of Parquet files partitioned by UTC "
            "day (event_date=YYYY-MM-DD/), which ca.open_events analyses in DuckDB without loading it into "
            "memory.",
        ),
        _Command("simulate", cmd_simulate, simulate_options, "write synthetic capture-format events"),
    )
    for c in commands:
        p = sub.add_parser(c.name, parents=[common], help=c.help, description=c.description, epilog=c.epilog)
        c.options(p)
        p.set_defaults(func=c.run)
    return parser


def _one_line(err: BaseException) -> str:
    """An error as one line: an OSError as "what: file", any message with its line breaks folded."""
    if isinstance(err, OSError) and err.strerror:
        names = [str(n) for n in (err.filename, err.filename2) if n is not None]
        text = f"{err.strerror}: {' -> '.join(names)}" if names else err.strerror
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 done, 1 bad input or a file that cannot be read or
    written, 2 usage error, 3 unexpected error, 4 the digest found a significant change).

    Never shows a traceback, except with ``--debug``: an error is one line on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[: argv.index("--") if "--" in argv else len(argv)]
    command = "chatanalytics"
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse has printed the usage and the problem
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        command = f"chatanalytics {args.command}"
        return int(args.func(args))
    except (ChatAnalyticsError, OSError) as err:
        if debug:
            traceback.print_exc()
        print(f"{command}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if debug:
            traceback.print_exc()
        how = "with the traceback above" if debug else "with the output of the same command run with --debug"
        print(
            f"{command}: unexpected error ({type(err).__name__}: {_one_line(err)}): this is a bug, "
            f"please report it {how}",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":
    raise SystemExit(main())
