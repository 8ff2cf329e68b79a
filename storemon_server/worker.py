"""
Report and ingest work, run outside the server's event loop.

Two ways, chosen by the database URL (``docs/server.md``, "Where reports are computed"):

- A database in a file (``sqlite:///...``): each report, and each refresh, runs in a child
  process, ``python -m storemon_server.worker report|ingest ...``, that opens its own
  connection, reads one consistent snapshot and prints the CSV (or the ingest summary as
  JSON). The child has its own interpreter, so a CPU-bound full-size report never holds
  the server's GIL, and cancelling it is ``kill()``: nothing is left half-written, because
  only the server writes a report's state.
- ``memory://``: the data lives in the server process, so the snapshots are read on the
  loop (in memory, fast) and the pure computation runs in a thread (``asyncio.to_thread``).

This module imports no aiohttp: the children start fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from storemon.errors import DataError, StoremonError, bounded
from storemon.model import (
    ReportJob,
    ReportShard,
    ShardResult,
    SkippedStore,
    StoreRange,
    StoreSnapshot,
    from_epoch_us,
)
from storemon.parsing import parse_instant_us
from storemon.report import ReportBuilder, report_line, window_start
from storemon.repository import StoreSource
from storemon.service import CsvReport, build_csv_report
from storemon.storage import open_repository
from storemon_server.ingest import Guards, PartialIngest, Sources, ingest
from storemon_server.logs import kv

logger = logging.getLogger(__name__)

#: The prefix of the one line a failing child writes last on standard error.
ERROR_PREFIX = "error: "
#: The child reads the database URL from here, not from its command line, which every
#: user of the machine can read (``ps``) and which may one day hold a password.
DB_ENV = "STOREMON_DB"
#: And the sources (JSON), which may hold a user and password or a signed query string.
SOURCES_ENV = "STOREMON_WORKER_SOURCES"
#: The prefix of each line a report child writes on standard error for a store it left out.
SKIPPED_PREFIX = "skipped: "
#: Stores left out of a report that are named in the server log (the count is always given).
SKIPPED_LOGGED = 5


class WorkerFailed(StoremonError):
    """The report or ingest process failed."""


def job_as_of(job: ReportJob | ReportShard) -> dt.datetime:
    """
    Return the job's fixed "now".

    Raises:
        DataError: the job has none (there were no polls when it was triggered).
    """
    if job.as_of is None:
        raise DataError("the report has no 'now': there were no polls when it was triggered")
    return job.as_of


def log_skipped(report_id: str, skipped: Sequence[str]) -> None:
    """
    Log the stores a report left out because their stored rows cannot be read: their
    count and the first few reasons. The report itself completes without them.
    """
    if skipped:
        logger.warning(
            kv(
                "report.stores_left_out",
                report_id=report_id,
                count=len(skipped),
                first="; ".join(skipped[:SKIPPED_LOGGED]),
            )
        )


async def compute_in_thread(source: StoreSource, job: ReportJob) -> str:
    """
    Read the job's snapshots from an in-process repository, compute in a thread, with the
    job's maximum gap.
    """
    as_of = job_as_of(job)
    builder = ReportBuilder(as_of, keep=report_line, max_gap=job.max_gap)
    snapshots = [
        item
        async for item in source.snapshots(
            since=window_start(as_of), as_of=as_of, max_gap_us=builder.max_gap_us
        )
    ]
    csv = await asyncio.to_thread(lambda: builder.extend(snapshots).csv())
    log_skipped(job.report_id, [str(item) for item in builder.skipped])
    return csv


async def compute_shard_in_thread(source: StoreSource, shard: ReportShard) -> ShardResult:
    """
    Read a shard's snapshots from an in-process repository, compute in a thread.
    """
    as_of = job_as_of(shard)
    builder = ReportBuilder(as_of, keep=report_line, max_gap=shard.max_gap)
    snapshots = [
        item
        async for item in source.snapshots(
            since=window_start(as_of),
            as_of=as_of,
            max_gap_us=builder.max_gap_us,
            stores=shard.stores,
        )
    ]
    return await asyncio.to_thread(shard_result, shard.number, builder, snapshots)


def shard_result(
    number: int, builder: ReportBuilder[str], snapshots: Iterable[StoreSnapshot]
) -> ShardResult:
    """
    Return a shard's report lines (in store order, each ended by ``\n``) and the stores
    it left out, computed by a new ``builder`` (``keep=report_line``) as the whole report
    computes them.
    """
    lines = "".join(line + "\n" for line in builder.extend(snapshots).kept())
    return ShardResult(number, lines, tuple(str(item) for item in builder.skipped))


async def compute_shard_in_child(url: str, shard: ReportShard) -> ShardResult:
    """
    Compute a shard in a child process reading the database at ``url``.
    """
    args = ["shard", f"--as-of={job_as_of(shard).isoformat()}"]
    if shard.stores.first is not None:
        args.append(f"--first={shard.stores.first}")
    if shard.stores.end is not None:
        args.append(f"--end={shard.stores.end}")
    if shard.max_gap is not None:
        args.append(f"--max-gap-us={shard.max_gap // dt.timedelta(microseconds=1)}")
    lines, stderr = await run_child(url, args)
    skipped = tuple(
        line[len(SKIPPED_PREFIX) :]
        for line in stderr.splitlines()
        if line.startswith(SKIPPED_PREFIX)
    )
    return ShardResult(shard.number, lines, skipped)


async def run_child(
    url: str, args: Sequence[str], *, env: dict[str, str] | None = None
) -> tuple[str, str]:
    """
    Run ``python -m storemon_server.worker ARGS`` on the database at ``url``; return its
    standard output and standard error.

    Cancelling the call kills the child and waits for it.

    Raises:
        WorkerFailed: the child exited with a failure; the message is its last error line.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storemon_server.worker",
        "--parent-pid",
        str(os.getpid()),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, DB_ENV: url, **(env or {})},
        # Its own session: a Ctrl-C in the server's terminal reaches the server only, which
        # then hands the job back, instead of also killing the child and failing the job.
        start_new_session=True,
    )
    try:
        out, err = await process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    stderr = err.decode("utf-8", "replace")
    if process.returncode != 0:
        # The end of a traceback says most; the log keeps a bounded tail of it.
        logger.warning(kv("worker.failed", args=" ".join(args[:1]), stderr=stderr[-400:]))
        raise WorkerFailed(_child_error(stderr, process.returncode))
    return out.decode("utf-8"), stderr


def _child_error(stderr: str, returncode: int | None) -> str:
    for line in reversed(stderr.splitlines()):
        if line.startswith(ERROR_PREFIX):
            return line[len(ERROR_PREFIX) :]
    return f"the worker process ended with status {returncode}"


async def compute_in_child(url: str, job: ReportJob) -> str:
    """
    Compute the job's report in a child process reading the database at ``url``, with
    the job's maximum gap.
    """
    args = ["report", "--as-of", job_as_of(job).isoformat()]
    if job.max_gap is not None:
        args += ["--max-gap-us", str(job.max_gap // dt.timedelta(microseconds=1))]
    csv, stderr = await run_child(url, args)
    skipped = [
        line[len(SKIPPED_PREFIX) :]
        for line in stderr.splitlines()
        if line.startswith(SKIPPED_PREFIX)
    ]
    log_skipped(job.report_id, skipped)
    return csv


async def ingest_in_child(
    url: str, sources: Sources, guards: Guards | None = None
) -> dict[str, Any]:
    """
    Ingest ``sources`` into the database at ``url`` in a child process; return the summary.
    """
    guards = Guards() if guards is None else guards
    output, _ = await run_child(
        url,
        ["ingest", *guards.as_args()],
        env={SOURCES_ENV: json.dumps(attrs.asdict(sources))},
    )
    document = json.loads(output)
    summary: dict[str, Any] = document["sources"]
    if document["error"] is not None:
        raise PartialIngest(document["error"], summary)
    return summary


# The child's side.


async def _report(url: str, as_of: dt.datetime, max_gap: dt.timedelta | None) -> CsvReport:
    async with open_repository(url) as repository:
        return await build_csv_report(repository, as_of=as_of, max_gap=max_gap)


async def _shard(
    url: str, as_of: dt.datetime, stores: StoreRange, max_gap: dt.timedelta | None
) -> ShardResult:
    builder = ReportBuilder(as_of, keep=report_line, max_gap=max_gap)
    async with open_repository(url) as repository:
        # A child does nothing else meanwhile: each store is added as it is read, and the
        # shard's snapshots are never all held at once.
        async for snapshot in repository.snapshots(
            since=window_start(as_of),
            as_of=as_of,
            max_gap_us=builder.max_gap_us,
            stores=stores,
        ):
            builder.add(snapshot)
    return shard_result(0, builder, ())


async def _ingest(url: str, sources: Sources, guards: Guards) -> dict[str, Any]:
    async with open_repository(url) as repository:
        try:
            summary = await ingest(repository, sources, guards)
        except PartialIngest as error:
            return {"sources": error.summary, "error": str(error)}
    return {"sources": summary, "error": None}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m storemon_server.worker")
    parser.add_argument("--parent-pid", type=int)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report")
    report.add_argument("--as-of", required=True)
    report.add_argument("--max-gap-us", type=int)
    shard = commands.add_parser("shard")
    shard.add_argument("--as-of", required=True)
    shard.add_argument("--first")
    shard.add_argument("--end")
    shard.add_argument("--max-gap-us", type=int)
    ingest_ = commands.add_parser("ingest")
    ingest_.add_argument("--allow-shrink", action="store_true")
    ingest_.add_argument("--future-tolerance", type=float, required=True)
    ingest_.add_argument("--max-line-bytes", type=int, required=True)
    return parser


def _die_with_parent(parent_pid: int | None) -> None:
    """
    Ask Linux to kill this child when the server dies, even by ``kill -9``.

    Best effort: elsewhere an orphaned child finishes its work, cannot write its output
    (the pipe is closed) and exits; it never writes a report's state either way.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        # The server died before the request above took effect.
        raise SystemExit(1)


def _write_skipped(skipped: Sequence[SkippedStore]) -> None:
    for item in skipped:
        print(f"{SKIPPED_PREFIX}{bounded(str(item))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run one report or one ingest; print the result; exit 0, or 1 with an error line.
    """
    args = _parser().parse_args(argv)
    _die_with_parent(args.parent_pid)
    url = os.environ.get(DB_ENV, "")
    try:
        if args.command == "report":
            as_of = from_epoch_us(parse_instant_us(args.as_of))
            max_gap = None
            if args.max_gap_us is not None:
                max_gap = dt.timedelta(microseconds=args.max_gap_us)
            report = asyncio.run(_report(url, as_of, max_gap))
            sys.stdout.write(report.csv)
            _write_skipped(report.skipped)
        elif args.command == "shard":
            as_of = from_epoch_us(parse_instant_us(args.as_of))
            max_gap = None
            if args.max_gap_us is not None:
                max_gap = dt.timedelta(microseconds=args.max_gap_us)
            result = asyncio.run(_shard(url, as_of, StoreRange(args.first, args.end), max_gap))
            sys.stdout.write(result.lines)
            for item in result.skipped:
                print(f"{SKIPPED_PREFIX}{bounded(item)}", file=sys.stderr)
        else:
            sources = Sources(**json.loads(os.environ.get(SOURCES_ENV, "{}")))
            guards = Guards(args.allow_shrink, args.future_tolerance, args.max_line_bytes)
            sys.stdout.write(json.dumps(asyncio.run(_ingest(url, sources, guards))))
    except StoremonError as error:
        print(f"{ERROR_PREFIX}{error}", file=sys.stderr)
        return 1
    except Exception as error:
        traceback.print_exc()
        print(
            f"{ERROR_PREFIX}unexpected {type(error).__name__} (see the server log)", file=sys.stderr
        )
        return 1
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
