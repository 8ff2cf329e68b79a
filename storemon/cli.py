"""
The ``storemon`` command line: ingest, report, explain, prune, sample (and serve, from the
server).

How every command behaves:

- It checks what it can before it works: options that do not go together, files it must
  read (they exist and are readable), files and folders it must write (their folder
  exists, they are not a folder), the database of a command that only reads (it exists:
  ``report --db`` and ``explain --db`` never create one). A mistake is one line on standard
  error, ``storemon COMMAND: error: ...`` naming the option, and no traceback.
- Exit statuses: 0 done; 1 failed, nothing was done or written (an input cannot be read,
  an output cannot be written, the database is missing or refused, a source was refused);
  2 the command line is wrong; 3 done, but some input rows were rejected, or (``report
  --db``) some stores were left out because their stored rows cannot be read (both are
  listed on standard error). Ctrl-C exits 130.
- Standard output carries the result only (the report, the explanation, the JSON), so it
  can be redirected; notes, warnings, rejected rows and progress go to standard error.
  Progress is drawn only when standard error is a terminal. ``--quiet`` leaves only
  errors on standard error; ``--json`` (``--format json`` for ``report``) prints the result
  for programs, warnings included.

Adding an option to a command: add it in that command's ``_add_<command>`` function (a
block of ``add_argument`` calls; options shared by several commands have their own
``_add_*`` helper), check its value in ``_check_<command>`` if it names a path or
conflicts with another option (checks do no work and raise ``CommandError``), and use it
in ``_run_<command>``. A new command is a ``_add_<command>`` called from ``build_parser``
with ``set_defaults(run=_run_<command>, check=_check_<command>)``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime as dt
import io
import json
import os
import sys
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import attrs

from storemon import __version__
from storemon.errors import StoremonError
from storemon.fetch import is_url
from storemon.lines import MAX_LINE_BYTES, SourceProgress
from storemon.model import DEFAULT_ZONE_KEY, Rejected, SkippedStore, from_epoch_us
from storemon.parsing import AS_OF_FORMS, parse_as_of_us, parse_duration_us
from storemon.sources import DEFAULT_FUTURE_TOLERANCE

if TYPE_CHECKING:
    from storemon.dataset import Dataset

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_INTERRUPTED = 130

#: At most this many rejected rows are listed on standard error; the count is always given.
_REJECTS_SHOWN = 20

_EXIT_STATUSES = """\
exit status:
  0  done
  1  nothing was done: an input cannot be read, the output cannot be written, the
     database is missing or refused, or there is no poll to date the report
  2  the command line is wrong
  3  done, but some input rows were rejected (listed on standard error)
     or, with --db, some stores were left out: their stored rows cannot be read"""

_EXPLAIN_EXIT_STATUSES = """\
exit status:
  0  done
  1  nothing was done: an input cannot be read, the database is missing or refused,
     or the store has no poll by --as-of
  2  the command line is wrong"""

_AS_OF_HELP = f"""\
--as-of takes ISO 8601 or the data's own spelling, in UTC unless it has an offset:
  {AS_OF_FORMS.replace(", ", chr(10) + "  ").replace(" or ", chr(10) + "  ")}
A time outside the data's range is allowed, with a warning."""


class CommandError(Exception):
    """
    A mistake a command found: one line for standard error, and the exit status.
    """

    def __init__(self, message: str, status: int = EXIT_FAILED, *, prog: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        #: The command that found it, when it is not the one being run (argparse's).
        self.prog = prog


class _HelpFormatter(argparse.HelpFormatter):
    """
    Wrap descriptions as usual, but keep the lines of an epilog (formats, exit statuses).
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _Parser(argparse.ArgumentParser):
    """
    An argument parser whose usage errors are one line (``CommandError``), not usage text.
    """

    def error(self, message: str) -> NoReturn:
        raise CommandError(f"{message} (see '{self.prog} --help')", EXIT_USAGE, prog=self.prog)


@attrs.frozen
class Console:
    """
    Where a command writes: its result (``out``) and everything else (``err``).
    """

    out: TextIO
    err: TextIO
    #: ``--quiet``: nothing on ``err`` but errors.
    quiet: bool = False

    def note(self, text: str) -> None:
        """
        Say something that is not the result on standard error, unless quiet.
        """
        if not self.quiet:
            print(text, file=self.err)

    @contextlib.contextmanager
    def progress(self) -> Iterator[SourceProgress | None]:
        """
        Give a progress display while the block reads, when standard error is a terminal
        (and not quiet), else ``None``; its line is erased when the block ends.
        """
        if self.quiet or not _is_terminal(self.err):
            yield None
            return
        from storemon.progress import TerminalProgress

        display = TerminalProgress(self.err)
        try:
            yield display
        finally:
            display.clear()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# Value parsers (argparse ``type=``): a value that cannot be read is a usage error.


def _as_of(text: str) -> dt.datetime:
    try:
        return from_epoch_us(parse_as_of_us(text))
    except StoremonError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _duration(text: str) -> dt.timedelta:
    try:
        return dt.timedelta(microseconds=parse_duration_us(text))
    except StoremonError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


# Checks made before any work: each raises ``CommandError`` naming the option.


def check_readable(option: str, path: Path) -> None:
    """
    Refuse an input file that is missing, a folder or unreadable.
    """
    if not path.exists():
        raise CommandError(f"{option} {path}: no such file")
    if path.is_dir():
        raise CommandError(f"{option} {path}: is a folder, not a CSV file")
    if not os.access(path, os.R_OK):
        raise CommandError(f"{option} {path}: permission denied (cannot read it)")


def check_writable_file(option: str, path: Path) -> None:
    """
    Refuse an output file that cannot be written: a folder, or in a folder that is
    missing or closed to this user. (A full disk shows only when writing.)
    """
    if path.is_dir():
        raise CommandError(f"{option} {path}: is a folder; give a file name")
    folder = path.parent
    if not folder.exists():
        raise CommandError(f"{option} {path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise CommandError(f"{option} {path}: {folder} is not a folder")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise CommandError(f"{option} {path}: permission denied (cannot write it)")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"{option} {path}: permission denied (cannot create files in {folder})")


def check_writable_folder(option: str, path: Path) -> None:
    """
    Refuse an output folder that is a file, or that cannot be created or written in.
    """
    if path.exists():
        if not path.is_dir():
            raise CommandError(f"{option} {path}: is not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise CommandError(f"{option} {path}: permission denied (cannot write in it)")
        return
    ancestor = path.parent
    while not ancestor.exists():  # the folders that will be created
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise CommandError(f"{option} {path}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise CommandError(f"{option} {path}: permission denied (cannot create {ancestor}/...)")


def shown_url(url: str) -> str:
    """
    Return a database URL without its password, to name it in a message.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _check_url(url: str) -> None:
    from storemon.storage import scheme_of

    try:
        scheme_of(url)
    except StoremonError as error:
        raise CommandError(f"--db: {error}") from None


def _check_sources(args: argparse.Namespace) -> None:
    for option, value in (
        ("--status", args.status),
        ("--business-hours", args.business_hours),
        ("--timezones", args.timezones),
        ("--special-hours", args.special_hours),
    ):
        if value is not None and not is_url(str(value)):
            check_readable(option, Path(value))


# Writing the result.


def write_result(text: str, output: Path | None, console: Console) -> None:
    """
    Write a command's result to ``output``, or to standard output; a failure (a full
    disk) is a ``CommandError``.
    """
    if output is None:
        try:
            console.out.write(text)
            console.out.flush()
        except BrokenPipeError:
            raise  # the reader went away (``| head``): not an error, see ``main``
        except OSError as error:
            raise CommandError(f"cannot write to standard output: {error.strerror}") from None
        return
    try:
        with output.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise CommandError(f"--output {output}: cannot write: {error.strerror}") from None


def _print_skipped(skipped: Sequence[SkippedStore], console: Console) -> None:
    for item in skipped[:_REJECTS_SHOWN]:
        console.note(f"skipped: {item}")
    if len(skipped) > _REJECTS_SHOWN:
        console.note(f"... and {len(skipped) - _REJECTS_SHOWN} more stores left out")
    if skipped:
        console.note(
            f"{len(skipped)} stores left out of the report: their stored rows cannot be read"
        )


def _print_rejects(
    rejected: Sequence[Rejected],
    console: Console,
    *,
    outcome: str = "the report uses the other rows",
) -> None:
    for item in rejected[:_REJECTS_SHOWN]:
        console.note(f"rejected: {item}")
    if len(rejected) > _REJECTS_SHOWN:
        console.note(f"... and {len(rejected) - _REJECTS_SHOWN} more rejected rows")
    if rejected:
        console.note(f"{len(rejected)} rows rejected; {outcome}")


# Options shared by several commands.


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing on standard error but errors (no progress, notes or warnings)",
    )


def _add_read_guards(parser: argparse.ArgumentParser) -> None:
    """
    Add the options that guard what is read from files: --future-tolerance and
    --max-line-bytes (``ingest``, and ``report`` and ``explain`` with --status).
    """
    parser.add_argument(
        "--future-tolerance",
        type=_duration,
        default=DEFAULT_FUTURE_TOLERANCE,
        metavar="DURATION",
        help="reject polls later than this machine's clock plus DURATION (default 1h; "
        "e.g. 90m, 2h, PT2H)",
    )
    parser.add_argument(
        "--max-line-bytes",
        type=_positive_int,
        default=MAX_LINE_BYTES,
        metavar="N",
        help=f"reject lines longer than N bytes, never holding them (default {MAX_LINE_BYTES})",
    )


def _latest_at(args: argparse.Namespace) -> dt.datetime:
    """
    The latest believable poll instant: this machine's clock plus --future-tolerance.
    """
    tolerance: dt.timedelta = args.future_tolerance
    return dt.datetime.now(dt.UTC) + tolerance


def _add_csv_inputs(parser: argparse.ArgumentParser, origin: argparse._ActionsContainer) -> None:
    origin.add_argument("--status", type=Path, metavar="FILE", help="store status CSV file")
    origin.add_argument(
        "--db",
        metavar="URL",
        help="database filled by 'storemon ingest', e.g. sqlite:///storemon.db",
    )
    parser.add_argument(
        "--business-hours",
        type=Path,
        metavar="FILE",
        help="business hours CSV file (with --status; without it every store is open 24x7)",
    )
    parser.add_argument(
        "--timezones",
        type=Path,
        metavar="FILE",
        help="time zones CSV file (with --status; without it every store is in "
        f"{DEFAULT_ZONE_KEY})",
    )
    parser.add_argument(
        "--special-hours",
        type=Path,
        metavar="FILE",
        help="special hours CSV file: store_id,date,start_time_local,end_time_local, both "
        "times empty for closed that date (with --status; without it no special days)",
    )
    parser.add_argument(
        "--max-gap",
        type=_duration,
        metavar="DURATION",
        help="time further than half of DURATION from every poll is unknown, reported in "
        "three more columns (unknown_last_hour,unknown_last_day,unknown_last_week), never "
        "as up or down; e.g. 90m, 2h, 1h30m, 45s, PT2H (default: none, six columns)",
    )
    parser.add_argument(
        "--as-of",
        type=_as_of,
        metavar="TIME",
        help="the report's 'now' (default: the latest poll); formats below",
    )


def _check_csv_inputs(args: argparse.Namespace) -> None:
    if args.db is not None:
        if (
            args.business_hours is not None
            or args.timezones is not None
            or args.special_hours is not None
        ):
            raise CommandError(
                "--business-hours, --timezones and --special-hours go with --status; with "
                "--db they come from the database",
                EXIT_USAGE,
            )
        _check_url(args.db)
    _check_sources(args)


# ingest


def _add_ingest(commands: Any) -> None:
    ingest = commands.add_parser(
        "ingest",
        help="store CSV sources (files or URLs) in a database",
        description="Store the CSV sources in the database: polls are upserted, business "
        "hours, time zones and special hours replace what was stored. Unchanged sources are "
        "skipped and a status file that only grew is read from where the last ingest "
        "stopped. A business-hours, time-zone or special-hours file that would remove more "
        "than half of the stored rows of its kind is refused unless --allow-shrink.",
        epilog="""\
exit status:
  0  every row stored or already present
  1  nothing was done (a file cannot be read, --rejects cannot be written, the database
     is refused), or a source was refused (nothing of it is stored; the others are;
     the database keeps what it held of its kind)
  2  the command line is wrong
  3  stored, but some rows were rejected (listed on standard error, and in --rejects)""",
        formatter_class=_HelpFormatter,
    )
    ingest.add_argument(
        "--db", metavar="URL", help="database URL (default: $STOREMON_DB or sqlite:///storemon.db)"
    )
    ingest.add_argument("--status", metavar="SRC", help="store status CSV: a file or http(s) URL")
    ingest.add_argument("--business-hours", metavar="SRC", help="business hours CSV: file or URL")
    ingest.add_argument("--timezones", metavar="SRC", help="time zones CSV: file or URL")
    ingest.add_argument(
        "--special-hours",
        metavar="SRC",
        help="special hours CSV (store_id,date,start_time_local,end_time_local): file or URL",
    )
    ingest.add_argument(
        "--rejects",
        type=Path,
        metavar="FILE",
        help="write the rejected rows here as CSV (source,line,column,reason,text)",
    )
    ingest.add_argument(
        "--allow-shrink",
        action="store_true",
        help="store a business-hours, time-zone or special-hours file even when it removes "
        "more than half of the stored rows of its kind (refused otherwise)",
    )
    ingest.add_argument(
        "--full",
        action="store_true",
        help="read every source whole, even one that looks unchanged or only grown (that "
        "check samples the bytes read before: docs/ingestion.md)",
    )
    _add_read_guards(ingest)
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    _add_quiet(ingest)
    ingest.set_defaults(run=_run_ingest, check=_check_ingest)


def _check_ingest(args: argparse.Namespace) -> None:
    if (
        args.status is None
        and args.business_hours is None
        and args.timezones is None
        and args.special_hours is None
    ):
        raise CommandError(
            "nothing to ingest; give --status, --business-hours, --timezones and/or "
            "--special-hours",
            EXIT_USAGE,
        )
    if args.db is not None:
        _check_url(args.db)
    _check_sources(args)
    if args.rejects is not None:
        check_writable_file("--rejects", args.rejects)


def _run_ingest(args: argparse.Namespace, console: Console) -> int:
    from storemon.storage import default_url

    url = args.db if args.db is not None else default_url()
    with console.progress() as progress:
        summaries = asyncio.run(_ingest(url, args, progress))
    rejects = [item for summary in summaries for item in summary.rejects]
    failed = [summary for summary in summaries if summary.error is not None]
    if args.json:
        document = {"database": shown_url(url), "sources": [s.to_json() for s in summaries]}
        write_result(json.dumps(document, indent=2) + "\n", None, console)
    elif not console.quiet:
        write_result("".join(_describe(summary) + "\n" for summary in summaries), None, console)
    for summary in failed:
        print(f"storemon ingest: error: {summary.error}", file=console.err)
    if failed:
        print(
            f"{len(failed)} source(s) refused; nothing of them was stored, the database "
            "keeps what it held",
            file=console.err,
        )
    _print_rejects(rejects, console, outcome="the other rows were stored")
    if args.rejects is not None:
        try:
            _write_rejects(rejects, args.rejects)
        except OSError as error:
            raise CommandError(
                f"--rejects {args.rejects}: cannot write the rejected rows ({error.strerror}); "
                "the good rows were stored"
            ) from None
    if failed:
        return EXIT_FAILED
    return EXIT_REJECTED if rejects else EXIT_OK


async def _ingest(url: str, args: argparse.Namespace, progress: SourceProgress | None) -> Any:
    from storemon.ingest import ingest
    from storemon.storage import open_repository

    async with open_repository(url) as repository:
        return await ingest(
            repository,
            status=args.status,
            business_hours=args.business_hours,
            timezones=args.timezones,
            special_hours=args.special_hours,
            parse_aside=True,
            allow_shrink=args.allow_shrink,
            future_tolerance=args.future_tolerance,
            max_line=args.max_line_bytes,
            progress=progress,
            full=args.full,
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
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "line", "column", "reason", "text"])
        for item in rejects:
            writer.writerow([item.source, item.line, item.column or "", item.reason, item.text])


# report


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="compute the report from CSV files or a database",
        description="Compute the uptime report straight from the CSV inputs (--status ...) "
        "or from a database filled by 'storemon ingest' (--db URL, which is only read).",
        epilog=f"{_AS_OF_HELP}\n\n{_EXIT_STATUSES}",
        formatter_class=_HelpFormatter,
    )
    _add_csv_inputs(report, report.add_mutually_exclusive_group(required=True))
    report.add_argument(
        "--output", type=Path, metavar="FILE", help="write the report here (default: stdout)"
    )
    report.add_argument(
        "--format",
        choices=("csv", "json"),
        default="csv",
        help="csv (default) or json: as_of, warnings, the stores left out and the rows, "
        "values as the CSV writes them",
    )
    report.add_argument(
        "--processes",
        type=_positive_int,
        metavar="N",
        help="with --db: compute the report in up to N processes at once, each reading its "
        "own range of stores (default: the CPUs this process may use, at most "
        f"{MAX_REPORT_PROCESSES}; 1: in this process only)",
    )
    _add_read_guards(report)
    _add_quiet(report)
    report.set_defaults(run=_run_report, check=_check_report)


def _check_report(args: argparse.Namespace) -> None:
    _check_csv_inputs(args)
    if args.processes is not None and args.db is None:
        raise CommandError(
            "--processes goes with --db (a report from the files uses two processes)",
            EXIT_USAGE,
        )
    if args.output is not None:
        check_writable_file("--output", args.output)


@attrs.frozen
class _Computed:
    """
    A report's CSV text and what the command says about it.
    """

    as_of: dt.datetime
    csv: str
    warnings: tuple[str, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    #: Stores left out because their stored rows cannot be read (``--db``).
    skipped: tuple[SkippedStore, ...] = ()


def _run_report(args: argparse.Namespace, console: Console) -> int:
    if args.db is not None:
        processes = args.processes or default_report_processes()
        computed = asyncio.run(_report_from_db(args.db, args.as_of, args.max_gap, processes))
    else:
        computed = _report_from_files(args, console)
    if args.format == "json":
        rows = list(csv.DictReader(io.StringIO(computed.csv)))
        document = {
            "as_of": computed.as_of.isoformat(),
            "warnings": computed.warnings,
            "skipped": [
                {"store_id": item.store_id, "reason": item.reason} for item in computed.skipped
            ],
            "rows": rows,
        }
        text = json.dumps(document, indent=2) + "\n"
    else:
        text = computed.csv
    write_result(text, args.output, console)
    for warning in computed.warnings:
        console.note(f"storemon report: {warning}")
    _print_rejects(computed.rejected, console)
    _print_skipped(computed.skipped, console)
    return EXIT_REJECTED if computed.rejected or computed.skipped else EXIT_OK


def _instant_text(at: dt.datetime) -> str:
    return at.isoformat(sep=" ").replace("+00:00", " UTC")


def range_warnings(
    as_of: dt.datetime, *, first: dt.datetime | None, latest: dt.datetime, rows: int
) -> list[str]:
    """
    Return the warnings about an ``--as-of`` outside the data's polls, which run from
    ``first`` (when known) to ``latest``; ``rows`` is the report's row count.
    """
    given = _instant_text(as_of)
    if first is not None:
        span = f"the polls run from {_instant_text(first)} to {_instant_text(latest)}"
    else:
        span = f"the latest poll is at {_instant_text(latest)}"
    if as_of > latest:
        return [
            f"warning: --as-of {given} is after the data ({span}): each store's last "
            "status is carried forward to it"
        ]
    if rows == 0:
        return [f"warning: --as-of {given} is before the data ({span}): the report is empty"]
    return []


def _load_files(args: argparse.Namespace, console: Console) -> Dataset:
    """
    Read ``--status``, ``--business-hours``, ``--timezones`` and ``--special-hours``,
    showing progress.
    """
    from storemon.dataset import load_csv

    with console.progress() as progress:
        return load_csv(
            args.status,
            args.business_hours,
            args.timezones,
            special_hours=args.special_hours,
            parse_aside=True,
            progress=progress,
            latest_at=_latest_at(args),
            max_line=args.max_line_bytes,
        )


def _report_from_files(args: argparse.Namespace, console: Console) -> _Computed:
    dataset = _load_files(args, console)
    warnings = []
    if args.business_hours is None:
        warnings.append("note: no --business-hours, so every store is open 24 hours, 7 days")
    if args.timezones is None:
        warnings.append(f"note: no --timezones, so every store's hours are in {DEFAULT_ZONE_KEY}")
    packed = [value for polls in dataset.polls.values() for value in (min(polls), max(polls))]
    if not packed:
        if args.as_of is None:
            raise CommandError(
                f"--status {args.status}: no poll in the file, so the report has no 'now'; "
                "give --as-of"
            )
        return _Computed(
            args.as_of,
            dataset.report_csv(args.as_of, max_gap=args.max_gap),
            tuple(warnings),
            tuple(dataset.rejected),
        )
    first, latest = from_epoch_us(min(packed) >> 1), from_epoch_us(max(packed) >> 1)
    as_of = args.as_of or latest
    text = dataset.report_csv(as_of, max_gap=args.max_gap)
    warnings += range_warnings(as_of, first=first, latest=latest, rows=text.count("\n") - 1)
    return _Computed(as_of, text, tuple(warnings), tuple(dataset.rejected))


#: The most processes ``report --db`` uses by default: each costs a start (about 0.15 s)
#: and a read of its own, which more than four do not pay back on a fleet of this size.
MAX_REPORT_PROCESSES = 4

#: The fewest stores a process of ``report --db`` computes: about what its start costs.
MIN_STORES_PER_PROCESS = 2_000

#: The smallest SQLite file whose ``report --db`` starts its helper processes at once:
#: about two processes' worth of stores (a week of polls is about 3 KB a store).
MIN_SPLIT_BYTES = 12_000_000


def default_report_processes() -> int:
    """
    The CPUs this process may run on, at most ``MAX_REPORT_PROCESSES``.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_REPORT_PROCESSES))


async def _report_from_db(
    url: str,
    as_of: dt.datetime | None,
    max_gap: dt.timedelta | None = None,
    processes: int = 1,
) -> _Computed:
    # Returns the CSV text, not a Report: on Python 3.11 ``asyncio.run`` formats the repr
    # of its main task (and so of its result) when it restores the SIGINT handler, which
    # for a full-size Report costs 0.15 s.
    from storemon.parallel import ParseProcess
    from storemon.storage import scheme_of

    with contextlib.ExitStack() as helpers_stack:
        helpers = None
        if processes > 1 and _large_database(url):
            # Started first, importing what a report needs (storemon.service.report_part)
            # while this process does too, so that they are ready when the stores are split.
            imports = ["storemon.service", _BACKEND_MODULES[scheme_of(url)]]
            helpers = [
                helpers_stack.enter_context(ParseProcess(imports=imports))
                for _ in range(processes - 1)
            ]
        return await _report_with(url, as_of, max_gap, processes, helpers)


#: The module of each backend that a report from a database URL may split over.
_BACKEND_MODULES = {
    "sqlite": "storemon.storage.sqlite",
    "postgresql": "storemon.storage.postgres",
    "postgres": "storemon.storage.postgres",
}


def _large_database(url: str) -> bool:
    """
    Whether the database at ``url`` may hold enough stores for ``report --db`` to split
    (``MIN_STORES_PER_PROCESS``): a PostgreSQL one, or a SQLite file of
    ``MIN_SPLIT_BYTES``; a smaller one is reported without waiting for helpers to start.
    """
    from storemon.storage import scheme_of, sqlite_path

    try:
        scheme = scheme_of(url)
        if scheme == "sqlite":
            return os.path.getsize(sqlite_path(url)) >= MIN_SPLIT_BYTES
    except (StoremonError, OSError):
        return False
    return scheme in _BACKEND_MODULES


async def _report_with(
    url: str,
    as_of: dt.datetime | None,
    max_gap: dt.timedelta | None,
    processes: int,
    helpers: list[Any] | None,
) -> _Computed:
    from storemon.bulk import gc_paused
    from storemon.service import build_csv_report, build_csv_report_in_processes

    async with _open_existing(url) as repository:
        latest = await repository.latest_poll_at()
        if as_of is None:
            if latest is None:
                raise CommandError(
                    f"--db {shown_url(url)}: the database has no polls, so the report has "
                    "no 'now'; give --as-of"
                )
            as_of = latest
        # The stream makes a few objects per store and no cycle (storemon.bulk): its
        # collections cost 0.1 s of a report with a maximum gap. Here only, in a process
        # that ends with the report: paused in the server's report, a PostgreSQL restart
        # made asyncpg log an error (docs/design.md).
        with gc_paused():
            if processes > 1:
                report = await build_csv_report_in_processes(
                    repository,
                    url,
                    as_of=as_of,
                    max_gap=max_gap,
                    processes=processes,
                    min_stores=MIN_STORES_PER_PROCESS,
                    helpers=helpers,
                )
            else:
                report = await build_csv_report(repository, as_of=as_of, max_gap=max_gap)
    rows = report.csv.count("\n") - 1
    warnings: list[str] = []
    if latest is not None:
        warnings = range_warnings(as_of, first=None, latest=latest, rows=rows + len(report.skipped))
    return _Computed(as_of, report.csv, tuple(warnings), skipped=report.skipped)


@contextlib.asynccontextmanager
async def _open_existing(url: str) -> AsyncIterator[Any]:
    """
    ``open_repository(url, create=False)``, its refusals named by ``--db``.
    """
    from storemon.storage import open_repository

    async with contextlib.AsyncExitStack() as stack:
        try:
            repository = await stack.enter_async_context(open_repository(url, create=False))
        except StoremonError as error:
            raise CommandError(f"--db {shown_url(url)}: {error}") from None
        yield repository


# explain


def _add_explain(commands: Any) -> None:
    explain = commands.add_parser(
        "explain",
        help="one store's last week: business hours, outages and its numbers",
        description="Explain one store's row of the report: its numbers in each window, "
        "its business hours and outages in the last week, in its local time, computed as "
        "the report computes them, from CSV files (--status ...) or a database (--db URL).",
        epilog=f"{_AS_OF_HELP}\n\n{_EXPLAIN_EXIT_STATUSES}",
        formatter_class=_HelpFormatter,
    )
    explain.add_argument("store_id", metavar="STORE_ID", help="the store, as written in the data")
    _add_csv_inputs(explain, explain.add_mutually_exclusive_group(required=True))
    explain.add_argument(
        "--json", action="store_true", help="print the week as JSON (every span in UTC)"
    )
    _add_read_guards(explain)
    _add_quiet(explain)
    explain.set_defaults(run=_run_explain, check=_check_csv_inputs)


def _run_explain(args: argparse.Namespace, console: Console) -> int:
    from storemon.errors import StoreNotFound

    try:
        if args.db is not None:
            timeline = asyncio.run(
                _explain_from_db(args.db, args.store_id, args.as_of, args.max_gap)
            )
        else:
            from storemon.service import explain

            dataset = _load_files(args, console)
            if args.as_of is None and dataset.latest_poll_at() is None:
                raise CommandError(f"--status {args.status}: no poll in the file; give --as-of")
            timeline = explain(dataset, args.store_id, as_of=args.as_of, max_gap=args.max_gap)
            if dataset.rejected:
                console.note(
                    f"storemon explain: note: {len(dataset.rejected)} input rows were "
                    "rejected ('storemon report' lists them)"
                )
    except StoreNotFound as error:
        raise CommandError(str(error)) from None
    text = (
        json.dumps(_timeline_json(timeline), indent=2) + "\n" if args.json else timeline.to_text()
    )
    write_result(text, None, console)
    return EXIT_OK


async def _explain_from_db(
    url: str, store_id: str, as_of: dt.datetime | None, max_gap: dt.timedelta | None = None
) -> Any:
    from storemon.service import explain

    async with _open_existing(url) as repository:
        if as_of is None and await repository.latest_poll_at() is None:
            raise CommandError(f"--db {shown_url(url)}: the database has no polls; give --as-of")
        return await explain(repository, store_id, as_of=as_of, max_gap=max_gap)


def _special_json(row: Any) -> dict[str, Any]:
    """
    A special-hours row as JSON: its date, and its times as written (``null`` both on a
    closed date).
    """
    end = None if row.end_local is None else row.end_local.isoformat()
    if row.end_is_midnight:
        end = "24:00:00"
    return {
        "date": row.date.isoformat(),
        "closed": row.is_closed,
        "start_time_local": None if row.start_local is None else row.start_local.isoformat(),
        "end_time_local": end,
    }


def _timeline_json(timeline: Any) -> dict[str, Any]:
    from storemon.csvformat import format_value, report_header

    def span(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
        return {"start": start.isoformat(), "end": end.isoformat()}

    return {
        "store_id": timeline.store_id,
        "zone_key": timeline.zone_key,
        "as_of": timeline.as_of.isoformat(),
        "window_start": timeline.window_start.isoformat(),
        "row": {
            "store_id": timeline.store_id,
            **{
                name: format_value(getattr(timeline.row, name))
                for name in report_header(unknown=timeline.max_gap is not None)[1:]
            },
        },
        "business": [span(start, end) for start, end in timeline.business],
        "unknown": [span(start, end) for start, end in timeline.unknown],
        "special_days": [_special_json(row) for row in timeline.special],
        "outages": [span(start, end) for start, end in timeline.outages()],
        "status": [{**span(s.start, s.end), "active": s.active} for s in timeline.status],
        "polls": [{"at": at.isoformat(), "active": active} for at, active in timeline.polls],
        "offset_changes": [
            {
                "at": change.at.isoformat(),
                "offset_before_s": change.offset_before.total_seconds(),
                "offset_after_s": change.offset_after.total_seconds(),
            }
            for change in timeline.offset_changes
        ],
    }


# prune


def _add_prune(commands: Any) -> None:
    prune = commands.add_parser(
        "prune",
        help="delete old polls (and old finished reports) from a database",
        description="Delete the polls older than --keep before the newest stored poll, "
        "except each store's latest poll before that cut, so that every report whose week "
        "starts at or after the cut stays exactly as it was. With --keep-reports, also "
        "delete the finished (Complete or Failed) reports that finished more than that "
        "long ago by this machine's clock; Pending and Running ones are never deleted. "
        "Deletes run a range of stores at a time, in short transactions, so a server "
        "using the database keeps working.",
        epilog="""\
DURATION: whole weeks, days, hours, minutes and seconds in this order, e.g. 8w, 30d,
  1w2d, 36h, 90m, or ISO 8601 P8W, P30D, PT36H

exit status:
  0  done (also when there was nothing to delete)
  1  nothing was done: the database is missing or refused
  2  the command line is wrong""",
        formatter_class=_HelpFormatter,
    )
    prune.add_argument(
        "--db", metavar="URL", required=True, help="database URL (never created by prune)"
    )
    prune.add_argument(
        "--keep",
        type=_duration,
        required=True,
        metavar="DURATION",
        help="keep the polls of this long before the newest poll (e.g. 8w)",
    )
    prune.add_argument(
        "--keep-reports",
        type=_duration,
        metavar="DURATION",
        help="also delete finished reports that finished more than DURATION ago (e.g. 30d; "
        "default: keep every report)",
    )
    prune.add_argument("--json", action="store_true", help="print the summary as JSON")
    _add_quiet(prune)
    prune.set_defaults(run=_run_prune, check=_check_prune)


def _check_prune(args: argparse.Namespace) -> None:
    _check_url(args.db)


def _run_prune(args: argparse.Namespace, console: Console) -> int:
    summary = asyncio.run(_prune(args.db, args.keep, args.keep_reports))
    if args.json:
        document = {"database": shown_url(args.db), **summary.to_json()}
        write_result(json.dumps(document, indent=2) + "\n", None, console)
    if summary.polls_before is None:
        # No poll at all (or a --keep reaching before year 1): nothing to cut from.
        console.note("nothing to cut: the database has no polls; no poll deleted")
    else:
        console.note(
            f"deleted {summary.polls_deleted} polls before {_instant_text(summary.polls_before)} "
            "(each store's latest poll before it kept)"
        )
    if summary.reports_before is not None:
        console.note(
            f"deleted {summary.reports_deleted} finished reports that finished before "
            f"{_instant_text(summary.reports_before)}"
        )
    return EXIT_OK


async def _prune(url: str, keep: dt.timedelta, keep_reports: dt.timedelta | None) -> Any:
    from storemon.retention import prune

    async with _open_existing(url) as repository:
        return await prune(
            repository, keep=keep, keep_reports=keep_reports, now=dt.datetime.now(dt.UTC)
        )


# sample


def _add_sample(commands: Any) -> None:
    sample = commands.add_parser(
        "sample",
        help="write a synthetic data set",
        description="Write store_status.csv, business_hours.csv and timezones.csv "
        "shaped like the real data.",
        epilog="""\
exit status:
  0  written
  1  the folder cannot be created or written
  2  the command line is wrong""",
        formatter_class=_HelpFormatter,
    )
    sample.add_argument(
        "--output", type=Path, required=True, metavar="DIR", help="folder to write to (created)"
    )
    sample.add_argument(
        "--stores", type=_positive_int, default=500, help="number of stores (default 500)"
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument(
        "--order",
        choices=("unordered", "grouped", "store"),
        default="unordered",
        help="order of the status rows: unordered (the whole file shuffled, like the real "
        "export; the default), grouped (shuffled within chunks of 400 stores) or store "
        "(each store's rows together, in time order)",
    )
    sample.add_argument(
        "--weeks",
        type=_positive_int,
        default=1,
        help="weeks of polls (default 1); earlier weeks are copies of the last one shifted "
        "back by whole weeks",
    )
    sample.add_argument("--json", action="store_true", help="print the files and rows as JSON")
    _add_quiet(sample)
    sample.set_defaults(run=_run_sample, check=_check_sample)


def _check_sample(args: argparse.Namespace) -> None:
    check_writable_folder("--output", args.output)


def _run_sample(args: argparse.Namespace, console: Console) -> int:
    from storemon.sample import write_sample

    try:
        counts = write_sample(
            args.output, stores=args.stores, seed=args.seed, order=args.order, weeks=args.weeks
        )
    except OSError as error:
        where = error.filename or args.output
        raise CommandError(
            f"--output {args.output}: cannot write {where}: {error.strerror}"
        ) from None
    if args.json:
        files = {str(args.output / name): rows for name, rows in counts.items()}
        write_result(json.dumps({"files": files}, indent=2) + "\n", None, console)
    for name, rows in counts.items():
        console.note(f"wrote {args.output / name}: {rows} rows")
    return EXIT_OK


# The parser and the entry point.


def build_parser() -> argparse.ArgumentParser:
    """
    Return the argument parser of every subcommand.
    """
    parser = _Parser(
        prog="storemon",
        description="Uptime and downtime of stores within their business hours.",
        epilog=_EXIT_STATUSES,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"storemon {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_ingest(commands)
    _add_report(commands)
    _add_explain(commands)
    _add_prune(commands)
    _add_sample(commands)
    # ``serve`` is parsed by the server package itself (see ``_run_plugin``); it is listed
    # here so that ``storemon --help`` shows it.
    commands.add_parser(
        "serve", help="run the HTTP server (needs the [server] extra)", add_help=False
    )
    return parser


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
    prog = "storemon"
    try:
        try:
            args, unknown = build_parser().parse_known_args(argv)
        except SystemExit as exit_:  # --help, --version
            return int(exit_.code or 0)
        prog = f"storemon {args.command}"
        if unknown:  # argparse would blame the top-level parser; name the command
            raise CommandError(
                f"unrecognized arguments: {' '.join(unknown)} (see '{prog} --help')", EXIT_USAGE
            )
        check: Callable[[argparse.Namespace], None] | None = getattr(args, "check", None)
        if check is not None:
            check(args)
        run: Callable[[argparse.Namespace, Console], int] = args.run
        return run(args, Console(out, err, quiet=getattr(args, "quiet", False)))
    except CommandError as error:
        print(f"{error.prog or prog}: error: {error}", file=err)
        return error.status
    except StoremonError as error:
        print(f"{prog}: error: {error}", file=err)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader of standard output went away (``storemon report | head``); Python
        # would complain again when it flushes at exit, so point stdout at nothing.
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=err)
        return EXIT_INTERRUPTED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
