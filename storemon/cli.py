"""
The ``storemon`` command line: ingest, report, sample, serve.

Exit statuses: 0 success; 1 a fatal error (nothing was done); 2 a usage error; 3 done,
but some input rows were rejected, or (``report --db``) some stores were left out because
their stored rows cannot be read (both are listed on standard error).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from storemon import __version__
from storemon.errors import StoremonError
from storemon.lines import MAX_LINE_BYTES
from storemon.model import Rejected, from_epoch_us
from storemon.parsing import parse_duration_us, parse_instant_us
from storemon.sources import DEFAULT_FUTURE_TOLERANCE

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3

#: At most this many rejected rows are listed on standard error; the count is always given.
_REJECTS_SHOWN = 20


def _instant(text: str) -> object:
    try:
        return from_epoch_us(parse_instant_us(text))
    except StoremonError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _duration(text: str) -> dt.timedelta:
    try:
        return dt.timedelta(microseconds=parse_duration_us(text))
    except StoremonError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_guard_options(parser: argparse.ArgumentParser, *, snapshots: bool = True) -> None:
    """
    Add the options that guard what is read: --future-tolerance, --max-line-bytes and,
    with ``snapshots``, --allow-shrink (``storemon ingest`` and ``storemon serve``).
    """
    parser.add_argument(
        "--future-tolerance",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="reject polls later than this machine's clock plus DURATION (default 1h; "
        "e.g. 90m, 2h, PT2H)",
    )
    parser.add_argument(
        "--max-line-bytes",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"reject lines longer than N bytes, never holding them (default {MAX_LINE_BYTES})",
    )
    if snapshots:
        parser.add_argument(
            "--allow-shrink",
            action="store_const",
            const=True,
            default=None,
            help="store a business-hours or time-zone file even when it removes more than "
            "half of the stored rows of its kind (refused otherwise)",
        )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """
    Return the argument parser of every subcommand.
    """
    parser = argparse.ArgumentParser(
        prog="storemon",
        description="Uptime and downtime of stores within their business hours.",
    )
    parser.add_argument("--version", action="version", version=f"storemon {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="store CSV sources (files or URLs) in a database",
        description="Store the CSV sources in the database: polls are upserted, business "
        "hours and time zones replace what was stored. Unchanged sources are skipped and a "
        "status file that only grew is read from where the last ingest stopped. A business-"
        "hours or time-zone file that would remove more than half of the stored rows of its "
        "kind is refused unless --allow-shrink. Exit 0 when every row was stored or already "
        "present, 3 when some rows were rejected, 1 when a source was refused (nothing of it "
        "is stored).",
    )
    ingest.add_argument(
        "--db", metavar="URL", help="database URL (default: $STOREMON_DB or sqlite:///storemon.db)"
    )
    ingest.add_argument("--status", metavar="SRC", help="store status CSV: a file or http(s) URL")
    ingest.add_argument("--business-hours", metavar="SRC", help="business hours CSV: file or URL")
    ingest.add_argument("--timezones", metavar="SRC", help="time zones CSV: file or URL")
    ingest.add_argument(
        "--rejects",
        type=Path,
        metavar="FILE",
        help="write the rejected rows here as CSV (source,line,column,reason,text)",
    )
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_guard_options(ingest)
    ingest.set_defaults(run=_run_ingest)

    report = commands.add_parser(
        "report",
        help="compute the report from CSV files or a database",
        description="Compute the uptime report straight from the CSV inputs (--status ...) "
        "or from a database filled by 'storemon ingest' (--db URL).",
    )
    origin = report.add_mutually_exclusive_group(required=True)
    origin.add_argument("--status", type=Path, help="store status CSV file")
    origin.add_argument("--db", metavar="URL", help="database URL, e.g. sqlite:///storemon.db")
    report.add_argument("--business-hours", type=Path, help="business hours CSV file")
    report.add_argument("--timezones", type=Path, help="time zones CSV file")
    report.add_argument(
        "--as-of",
        type=_instant,
        help="the report's 'now' as a UTC timestamp (default: the latest poll)",
    )
    report.add_argument("--output", type=Path, help="write the CSV here (default: stdout)")
    add_guard_options(report, snapshots=False)
    report.set_defaults(run=_run_report)

    sample = commands.add_parser(
        "sample",
        help="write a synthetic data set",
        description="Write store_status.csv, business_hours.csv and timezones.csv "
        "shaped like the real data.",
    )
    sample.add_argument("--output", type=Path, required=True, help="directory to write to")
    sample.add_argument(
        "--stores", type=_positive_int, default=500, help="number of stores (default 500)"
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.set_defaults(run=_run_sample)

    # ``serve`` is parsed by the server package itself (see ``_run_plugin``); it is listed
    # here so that ``storemon --help`` shows it.
    commands.add_parser(
        "serve",
        help="run the HTTP server (needs the [server] extra)",
        add_help=False,
    )
    return parser


def _print_rejects(
    rejected: Sequence[Rejected], err: TextIO, *, outcome: str = "the report uses the other rows"
) -> None:
    for item in rejected[:_REJECTS_SHOWN]:
        print(f"rejected: {item}", file=err)
    if len(rejected) > _REJECTS_SHOWN:
        print(f"... and {len(rejected) - _REJECTS_SHOWN} more rejected rows", file=err)
    if rejected:
        print(f"{len(rejected)} rows rejected; {outcome}", file=err)


def _write_text(text: str, output: Path | None, out: TextIO) -> None:
    if output is None:
        out.write(text)
        out.flush()
    else:
        output.write_text(text, encoding="utf-8", newline="")


def _latest_at(args: argparse.Namespace) -> dt.datetime:
    """
    The latest believable poll instant: this machine's clock plus the tolerance.
    """
    tolerance = args.future_tolerance or DEFAULT_FUTURE_TOLERANCE
    return dt.datetime.now(dt.UTC) + tolerance


def _run_report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from storemon.dataset import load_csv

    if args.db is not None:
        if args.business_hours is not None or args.timezones is not None:
            print(
                "storemon report: error: --business-hours and --timezones go with --status; "
                "with --db they come from the database",
                file=err,
            )
            return EXIT_USAGE
        report = asyncio.run(_report_csv_from_db(args.db, args.as_of))
        _write_text(report.csv, args.output, out)
        _print_skipped(report.skipped, err)
        return EXIT_REJECTED if report.skipped else EXIT_OK
    dataset = load_csv(
        args.status,
        args.business_hours,
        args.timezones,
        parse_aside=True,
        latest_at=_latest_at(args),
        max_line=args.max_line_bytes or MAX_LINE_BYTES,
    )
    _write_text(dataset.report_csv(args.as_of), args.output, out)
    _print_rejects(dataset.rejected, err)
    return EXIT_REJECTED if dataset.rejected else EXIT_OK


def _print_skipped(skipped: Sequence[Any], err: TextIO) -> None:
    for item in skipped[:_REJECTS_SHOWN]:
        print(f"skipped: {item}", file=err)
    if len(skipped) > _REJECTS_SHOWN:
        print(f"... and {len(skipped) - _REJECTS_SHOWN} more stores left out", file=err)
    if skipped:
        print(
            f"{len(skipped)} stores left out of the report: their stored rows cannot be read",
            file=err,
        )


async def _report_csv_from_db(url: str, as_of: object) -> Any:
    # Returns the CSV text, not a Report: on Python 3.11 ``asyncio.run`` formats the repr
    # of its main task (and so of its result) when it restores the SIGINT handler, which
    # for a full-size Report costs 0.15 s.
    from storemon.service import build_csv_report
    from storemon.storage import open_repository

    async with open_repository(url) as repository:
        return await build_csv_report(repository, as_of=as_of)  # type: ignore[arg-type]


def _run_ingest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from storemon.storage import default_url

    if args.status is None and args.business_hours is None and args.timezones is None:
        print(
            "storemon ingest: error: nothing to ingest; "
            "give --status, --business-hours and/or --timezones",
            file=err,
        )
        return EXIT_USAGE
    url = args.db if args.db is not None else default_url()
    summaries = asyncio.run(_ingest(url, args))
    rejects = [item for summary in summaries for item in summary.rejects]
    if args.rejects is not None:
        _write_rejects(rejects, args.rejects)
    failed = [summary for summary in summaries if summary.error is not None]
    if args.json:
        document = {"database": url, "sources": [summary.to_json() for summary in summaries]}
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        for summary in summaries:
            out.write(_describe(summary) + "\n")
    out.flush()
    for summary in failed:
        print(f"storemon: error: {summary.error}", file=err)
    if failed:
        print(
            f"{len(failed)} source(s) refused; nothing of them was stored, the database "
            "keeps what it held",
            file=err,
        )
    _print_rejects(rejects, err, outcome="the other rows were stored")
    if failed:
        return EXIT_FAILED
    return EXIT_REJECTED if rejects else EXIT_OK


async def _ingest(url: str, args: argparse.Namespace) -> Any:
    from storemon.ingest import ingest
    from storemon.storage import open_repository

    async with open_repository(url) as repository:
        return await ingest(
            repository,
            status=args.status,
            business_hours=args.business_hours,
            timezones=args.timezones,
            parse_aside=True,
            allow_shrink=bool(args.allow_shrink),
            future_tolerance=args.future_tolerance or DEFAULT_FUTURE_TOLERANCE,
            max_line=args.max_line_bytes or MAX_LINE_BYTES,
        )


def _describe(summary: Any) -> str:
    head = f"{summary.kind} {summary.source}:"
    if summary.mode == "failed":
        return f"{head} refused ({summary.seconds:.2f} s)"
    if summary.mode == "unchanged":
        return f"{head} unchanged, skipped ({summary.seconds:.2f} s)"
    how = "read in full" if summary.mode == "full" else "read the appended lines"
    return (
        f"{head} {how}: {summary.read} rows read, {summary.stored} stored, "
        f"{summary.present} already present, {summary.rejected} rejected "
        f"({summary.seconds:.2f} s)"
    )


def _write_rejects(rejects: Sequence[Rejected], path: Path) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source", "line", "column", "reason", "text"])
            for item in rejects:
                writer.writerow([item.source, item.line, item.column or "", item.reason, item.text])
    except OSError as error:
        raise StoremonError(f"{path}: cannot write the rejected rows: {error}") from None


def _run_sample(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from storemon.sample import write_sample

    counts = write_sample(args.output, stores=args.stores, seed=args.seed)
    for name, rows in counts.items():
        print(f"wrote {args.output / name}: {rows} rows", file=err)
    return EXIT_OK


#: Entry-point group through which other packages add subcommands. The server registers
#: ``serve`` there, so this library never imports the server package.
COMMANDS_GROUP = "storemon.commands"


def _run_plugin(name: str, argv: list[str], err: TextIO) -> int:
    from importlib.metadata import entry_points

    found = [point for point in entry_points(group=COMMANDS_GROUP) if point.name == name]
    if not found:
        print(
            f"storemon: error: '{name}' is not installed; the server needs the [server] extra "
            "(pip install 'storemon[server]')",
            file=err,
        )
        return EXIT_FAILED
    try:
        command = found[0].load()
    except ImportError as error:
        print(
            f"storemon: error: the server needs the [server] extra "
            f"(pip install 'storemon[server]'): {error}",
            file=err,
        )
        return EXIT_FAILED
    status: int = command(argv)
    return status


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """
    Run the command line; return the exit status.
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return _run_plugin("serve", argv[1:], err)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        status: int = args.run(args, out, err)
    except StoremonError as error:
        print(f"storemon: error: {error}", file=err)
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_OK
    return status
