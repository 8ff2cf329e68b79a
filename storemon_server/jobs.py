"""
Background work: the report job runner and the refresh (ingestion) loop.

The database is the queue, on every backend (``storemon.repository.ReportStore``; the
way procrastinate treats its connectors): a trigger stores the job (Pending, with its
``as_of`` fixed) before answering and wakes a worker of this process at once; every
worker claims the oldest job from the database with a lease, renews the lease while it
computes, and stores Complete with the CSV or Failed with the reason. A job whose holder
died (its lease ran out) is claimed again by any worker of any process sharing the
database; a job held at shutdown is handed back at once. So jobs survive restarts and
kills with no resuming step, and several servers on one database share the queue.

A job is computed in shards, ranges of stores, the same way on every backend: its holder
splits it, and every worker of every process claims its shards, each with a lease of its
own, so that one report is spread over all of them and a worker that dies loses its
shard only (``JobRunner``, and docs/design.md for the flow).

The refresh runs at most once per interval over every process on the database
(``IngestStore.claim_refresh``). Every task is owned (a set, cancelled and awaited on
shutdown): nothing is fire-and-forget.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from storemon.csvformat import csv_text, report_header
from storemon.errors import DataError, ReportNotFound, StoremonError
from storemon.model import ReportJob, ReportShard, ReportStatus, ShardResult
from storemon.repository import (
    Health,
    IngestStore,
    MetadataSink,
    PollSink,
    ReportStore,
    StoreLookup,
    StoreSource,
)
from storemon_server.config import DEFAULT_REPORT_SHARD_STORES
from storemon_server.errors import Busy, NoData, QueueFull
from storemon_server.logs import kv
from storemon_server.schedule import next_run
from storemon_server.worker import log_skipped

logger = logging.getLogger(__name__)

#: A report id's bytes of randomness: 16 bytes are 128 bits, 22 URL-safe characters.
REPORT_ID_BYTES = 16
#: How long a claimed job stays with its worker without a renewal.
DEFAULT_LEASE = dt.timedelta(seconds=30)
#: Seconds between two looks of an idle worker for work it was not woken for: a job whose
#: holder's lease ran out, or queued by another process when no notification came
#: (SQLite, or a lost PostgreSQL listener).
POLL_EVERY_S = 1.0
#: The first pause before a job whose state could not be recorded is claimed again; it
#: doubles at each failure, up to ``MAX_RETRY_AFTER_S``.
RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 60.0
#: Seconds a trigger waits for the triggers before it in this process (each of which
#: waits at most ``storage.sqlite.REQUEST_WAIT_S`` for the database); then it is busy.
ADMISSION_WAIT_S = 0.5
#: How much earlier than a whole interval after the last refresh the next may start: a
#: tenth of the interval, at most this, so that timers firing a little early still count.
MAX_REFRESH_SLACK = dt.timedelta(seconds=60)

#: Seconds between two looks of a job's holder at the shards other workers compute.
SHARD_WAIT_S = 0.05
Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]
#: Computes a job's report; returns the CSV text.
Compute = Callable[[ReportJob], Awaitable[str]]
#: Computes one shard of a job: the report lines of its stores, and those left out.
ComputeShard = Callable[[ReportShard], Awaitable[ShardResult]]
#: Ingests the configured sources; returns a JSON-able summary.
Ingest = Callable[[], Awaitable[dict[str, Any]]]
#: Whether this process should refresh now (``IngestStore.claim_refresh``).
ClaimRefresh = Callable[[dt.timedelta], Awaitable[bool]]
#: Delete what retention allows after a refresh; returns the JSON summary.
Prune = Callable[[], Awaitable[dict[str, Any]]]


class ServerRepository(
    StoreSource,
    StoreLookup,
    PollSink,
    MetadataSink,
    ReportStore,
    IngestStore,
    Health,
    Protocol,
):
    """
    What the server reads and writes: stores for reports (all, a range for a shard, or
    one to explain its row), pushed polls, hours and zones, the report jobs, their shards
    and their queue, the refresh schedule, retention (old polls and reports), and a
    health check.
    """


_Done = TypeVar("_Done")


def _empty_csv(max_gap: dt.timedelta | None) -> str:
    """
    Return the CSV of a report without rows: its header (with the unknown columns when
    it has a maximum gap).
    """
    return csv_text([], header=report_header(unknown=max_gap is not None))


def utc_now() -> dt.datetime:
    """
    Return the current instant, aware UTC.
    """
    return dt.datetime.now(dt.UTC)


def new_report_id() -> str:
    """
    Return a fresh random report id: 128 bits as 22 URL-safe base64 characters.
    """
    return secrets.token_urlsafe(REPORT_ID_BYTES)


def public_error(error: BaseException, *, what: str = "report") -> str:
    """
    Return what a client may read about a failure: our own messages, never internals.
    """
    if isinstance(error, StoremonError):
        return str(error)
    return f"the {what} failed unexpectedly ({type(error).__name__}); see the server log"


class JobRunner:
    """
    A fixed number of workers that claim report jobs and their shards from the database
    and compute them.

    A job's holder splits it into shards (``ReportStore.plan_shards``: at most
    ``shard_stores`` stores each) and computes the ones it can claim. Idle workers claim
    the job's other shards meanwhile, each with its own lease: woken at once by the
    repository (``ReportStore.wait_for_work``: this process's, and on PostgreSQL every
    process's, by notification), else at their look every ``poll_every``. A
    worker that dies loses its shard only, which is claimed again once the lease runs
    out. The worker that stores the last shard assembles the report from their lines in
    store order.
    """

    def __init__(
        self,
        repository: ServerRepository,
        compute: Compute | None = None,
        *,
        workers: int,
        max_queue: int,
        compute_shard: ComputeShard | None = None,
        shard_stores: int = DEFAULT_REPORT_SHARD_STORES,
        clock: Clock = utc_now,
        lease: dt.timedelta = DEFAULT_LEASE,
        poll_every: float = POLL_EVERY_S,
        retry_after: float = RETRY_AFTER_S,
    ) -> None:
        """
        ``compute`` computes a whole job instead of the shards (tests gate it);
        ``compute_shard`` computes one shard (needed unless ``compute`` is given).
        """
        if compute is None and compute_shard is None:
            raise ValueError("JobRunner needs compute or compute_shard")
        self.repository = repository
        self.compute: Compute = compute or self.compute_sharded
        self.compute_shard = compute_shard
        self.shard_stores = shard_stores
        self.workers = workers
        self.max_queue = max_queue
        self.clock = clock
        self.lease = lease
        self.poll_every = poll_every
        #: Seconds before a job whose state could not be recorded is claimed again
        #: (doubling at each failure).
        self.retry_after = retry_after
        #: Who holds a claimed job: host, process and a random suffix.
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[str] = set()
        self._queued = 0
        self._busy = 0
        self._admission = asyncio.Lock()
        self._wake = asyncio.Event()
        self._settled = asyncio.Event()
        self._claims_failing = False
        self._attempts: dict[str, int] = {}

    @property
    def queued(self) -> int:
        """
        Jobs waiting for a worker, over every process on the database, as last seen.
        """
        return self._queued

    @property
    def running(self) -> int:
        """
        Jobs being computed by this process now.
        """
        return len(self._running)

    async def start(self) -> None:
        """
        Start the workers. Jobs an earlier run left are in the queue: they are claimed
        like any other (a Running one once its holder's lease has run out).
        """
        for number in range(self.workers):
            task = asyncio.create_task(self._work(), name=f"storemon-report-worker-{number}")
            self._tasks.add(task)

    async def stop(self) -> None:
        """
        Cancel the workers and wait for them; the jobs they held go back to Pending.
        """
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def join(self) -> None:
        """
        Wait until no job is Pending and every job claimed so far has ended (for tests).
        """
        self._wake.set()  # look now, not at the next poll
        # The queue is the database's: look at it every 10 ms until it is empty.
        while await self.repository.queued_reports():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        # Then every job is held by a worker, busy from before its claim until the job
        # ends: once none is busy, they have all ended.
        while self._busy:
            self._settled.clear()
            await self._settled.wait()

    async def trigger(self, *, max_gap: dt.timedelta | None = None) -> ReportJob:
        """
        Store a new job with ``as_of`` fixed to the latest stored poll, and wake a worker.

        ``max_gap`` is stored with the job, so whoever computes it, after any restart,
        computes the same report.

        Raises:
            QueueFull: ``max_queue`` jobs are already waiting.
            NoData: there is no poll yet.
            Busy: the triggers before it are still waiting for the database.
            StorageBusy: the database's write lock stayed taken (by an ingest).
        """
        # One admission at a time in this process, so that concurrent triggers cannot
        # overfill the queue between the count and the insert. A request never waits
        # long for its turn: when the admissions before it are slow (the database is
        # busy with a writer), it is answered 503 at once.
        try:
            async with asyncio.timeout(ADMISSION_WAIT_S):
                await self._admission.acquire()
        except TimeoutError:
            raise Busy() from None
        try:
            self._queued = await self.repository.queued_reports()
            if self._queued >= self.max_queue:
                raise QueueFull(f"{self._queued} reports are waiting; try again later")
            as_of = await self.repository.latest_poll_at()
            if as_of is None:
                raise NoData()
            job = await self.repository.create_report(
                new_report_id(), as_of=as_of, created_at=self.clock(), max_gap=max_gap
            )
            self._queued += 1
        finally:
            self._admission.release()
        # create_report has woken the idle workers (``wait_for_work``).
        logger.info(
            kv(
                "report.queued",
                report_id=job.report_id,
                as_of=as_of.isoformat(),
                max_gap=None if max_gap is None else max_gap.total_seconds(),
                queued=self._queued,
            )
        )
        return job

    async def _work(self) -> None:
        while True:
            self._busy += 1
            worked = False
            try:
                # Shards of jobs already started first: the oldest report ends first.
                shard = await self._claim_shard()
                if shard is not None:
                    worked = True
                    await self._help(shard)
                else:
                    job = await self._claim()
                    if job is not None:
                        worked = True
                        await self._run(job)
            finally:
                self._busy -= 1
                if not self._busy:
                    self._settled.set()
            if worked:
                # There may be more: idle siblings look too (a wake of the repository
                # that this worker consumed while they were busy is not lost to them).
                self._wake.set()
            else:
                await self._idle()

    async def _idle(self) -> None:
        """
        Wait at most ``poll_every`` for work: queued in the database (the repository's
        ``wait_for_work``: this process's own queuing, or other processes' on
        PostgreSQL), or a look asked for in this process (``join``, a sibling's claim).
        """
        asked = asyncio.ensure_future(self._wake.wait())
        queued = asyncio.ensure_future(self.repository.wait_for_work(self.poll_every))
        try:
            await asyncio.wait(
                {asked, queued}, timeout=self.poll_every, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            asked.cancel()
            queued.cancel()
            await asyncio.gather(asked, queued, return_exceptions=True)
        self._wake.clear()

    async def _claim(self) -> ReportJob | None:
        try:
            job = await self.repository.claim_report(self.worker_id, lease=self.lease)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database is down: look again later
            if not self._claims_failing:  # once per outage, not once a second
                logger.warning(kv("report.claim_failed", error=public_error(error, what="claim")))
            self._claims_failing = True
            return None
        if self._claims_failing:
            logger.info(kv("report.claim_recovered"))
        self._claims_failing = False
        self._queued = 0  # nothing to claim means nothing Pending: no need to count
        if job is not None:
            with contextlib.suppress(Exception):  # only a figure for health; the job is ours
                self._queued = await self.repository.queued_reports()
        return job

    async def _claim_shard(self, report_id: str | None = None) -> ReportShard | None:
        if self.compute_shard is None:
            return None
        try:
            return await self.repository.claim_shard(
                self.worker_id, lease=self.lease, report_id=report_id
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database is down: look again later
            if report_id is not None:  # the job's holder: its job fails or is retried
                raise
            if not self._claims_failing:
                logger.warning(kv("report.claim_failed", error=public_error(error, what="claim")))
            self._claims_failing = True
            return None

    async def _help(self, shard: ReportShard) -> None:
        """
        Compute a shard of another worker's job, and store the report when it was the
        job's last shard. A failed computation fails the job (it would fail again); a
        failure to record it leaves the shard to its lease.
        """
        report_id = shard.report_id
        try:
            computed = await self._compute_shard(shard)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if isinstance(error, StoremonError):
                logger.warning(kv("report.shard_failed", report_id=report_id, error=str(error)))
            else:
                logger.exception(kv("report.shard_failed", report_id=report_id))
            with contextlib.suppress(Exception):  # if this fails too, the job's lease runs out
                await self.repository.fail_report(
                    report_id, error=public_error(error), finished_at=self.clock()
                )
            return
        if computed is None:
            return
        try:
            csv = await self._store_shard(shard, *computed)
            if csv is not None:
                await self.repository.finish_report(report_id, csv=csv, finished_at=self.clock())
                logger.info(kv("report.assembled", report_id=report_id))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database failed: the shard's lease runs out
            logger.warning(
                kv("report.shard_not_stored", report_id=report_id, error=public_error(error))
            )

    async def _run_shard(self, shard: ReportShard) -> str | None:
        """
        Compute a claimed shard and store it; return the report's CSV when it was the
        job's last shard to be Done, else ``None``.
        """
        computed = await self._compute_shard(shard)
        return None if computed is None else await self._store_shard(shard, *computed)

    async def _compute_shard(self, shard: ReportShard) -> tuple[ShardResult, float] | None:
        """
        Compute a claimed shard under its lease; return it and the seconds it took, or
        ``None`` when the lease was lost.
        """
        assert self.compute_shard is not None
        report_id, number = shard.report_id, shard.number
        logger.info(kv("report.shard_started", report_id=report_id, shard=number))
        started = time.perf_counter()
        result = await self._hold(
            self.compute_shard(shard),
            renew=lambda: self.repository.renew_shard(
                report_id, number, self.worker_id, lease=self.lease
            ),
            release=lambda: self.repository.release_shard(report_id, number, self.worker_id),
            what=f"{report_id}/{number}",
        )
        return None if result is None else (result, time.perf_counter() - started)

    async def _store_shard(
        self, shard: ReportShard, result: ShardResult, seconds: float
    ) -> str | None:
        """
        Store a computed shard; return the report's CSV when it was the job's last shard
        to be Done (its worker assembles the report), else ``None``.
        """
        report_id = shard.report_id
        left = await self.repository.finish_shard(result, report_id=report_id)
        logger.info(
            kv("report.shard_done", report_id=report_id, shard=shard.number, seconds=seconds)
        )
        return None if left else await self._assemble(report_id, shard.max_gap)

    async def _assemble(self, report_id: str, max_gap: dt.timedelta | None) -> str | None:
        """
        Return the report's CSV from its shards once every one is Done (its header with
        the unknown columns when the job has a maximum gap), logging the stores they left
        out; ``None`` while one is not, or when the job has ended (its shards are gone).
        """
        results = await self.repository.shard_results(report_id)
        if not results:
            return None
        log_skipped(report_id, [item for result in results for item in result.skipped])
        return _empty_csv(max_gap) + "".join(result.lines for result in results)

    async def compute_sharded(self, job: ReportJob) -> str:
        """
        Compute a job as its holder: split it, compute the shards this worker can claim
        (others claim the rest), and return the CSV once every shard is Done. Whoever
        stores the last shard assembles the report: this worker (the CSV is returned), or
        another, which stores it (then this one returns the stored CSV).
        """
        report_id = job.report_id
        if job.as_of is None:
            raise DataError("the report has no 'now': there were no polls when it was triggered")
        # Planning wakes the idle workers of every process (``wait_for_work``) to help.
        count = await self.repository.plan_shards(report_id, max_stores=self.shard_stores)
        logger.info(kv("report.split", report_id=report_id, shards=count))
        if count == 0:
            return _empty_csv(job.max_gap)
        while True:
            shard = await self._claim_shard(report_id)
            if shard is not None:
                csv = await self._run_shard(shard)
                if csv is not None:
                    return csv
                continue
            # Every shard is claimed: wait for the others to store theirs. The last one's
            # worker stores the report; if it died right after storing its shard, this
            # worker assembles what is there.
            stored = await self.repository.get_report(report_id)
            if stored.status == ReportStatus.COMPLETE and stored.csv is not None:
                return stored.csv
            if stored.status == ReportStatus.FAILED:
                raise StoremonError(stored.error or "the report failed")
            csv = await self._assemble(report_id, job.max_gap)
            if csv is not None:
                return csv
            await asyncio.sleep(SHARD_WAIT_S)

    async def _hold(
        self,
        work: Awaitable[_Done],
        *,
        renew: Callable[[], Awaitable[bool]],
        release: Callable[[], Awaitable[None]],
        what: str,
    ) -> _Done | None:
        """
        Await ``work`` while renewing its lease every third of it; return its result, or
        ``None`` when the lease was lost (the work is cancelled). Cancelled, the work is
        cancelled too and the lease handed back (``release``).
        """
        task = asyncio.ensure_future(work)
        renew_every = self.lease.total_seconds() / 3
        try:
            while not (await asyncio.wait({task}, timeout=renew_every))[0]:
                try:
                    held = await renew()
                except Exception as error:  # keep computing; the lease may still hold
                    logger.warning(kv("report.renew_failed", report_id=what, error=error))
                    continue
                if not held:
                    logger.warning(kv("report.lease_lost", report_id=what))
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    return None
            return task.result()
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            with contextlib.suppress(Exception):
                await release()
            raise

    async def _run(self, job: ReportJob) -> None:
        report_id = job.report_id
        try:
            await self._run_leased(job)
            self._attempts.pop(report_id, None)
        except asyncio.CancelledError:
            raise
        except ReportNotFound:
            self._attempts.pop(report_id, None)
            logger.warning(kv("report.vanished", report_id=report_id))
        except Exception as error:
            # The repository failed while recording the job's state: the job stays as it
            # was (Running). Hold it only for a pause that doubles up to a minute, after
            # which any worker claims it again: a database that comes back finishes it
            # without a restart. If even this fails, the lease as it was does the same.
            attempt = self._attempts.get(report_id, 0) + 1
            self._attempts[report_id] = attempt
            delay = min(self.retry_after * 2 ** (attempt - 1), MAX_RETRY_AFTER_S)
            fields = {"report_id": report_id, "attempt": attempt, "seconds": delay}
            if isinstance(error, StoremonError):
                # Expected (a database away): one line with its bounded reason, like a
                # failed ingest; a traceback only for what is a bug.
                logger.warning(kv("report.retry", **fields, error=public_error(error)))
            else:
                logger.exception(kv("report.retry", **fields))
            with contextlib.suppress(Exception):
                pause = dt.timedelta(seconds=delay)
                await self.repository.renew_lease(report_id, self.worker_id, lease=pause)

    async def _run_leased(self, job: ReportJob) -> None:
        """
        Compute a claimed job, renewing its lease every third of it; stop if it is lost.
        """
        report_id = job.report_id
        await self._hold(
            asyncio.create_task(self._compute(job), name=f"storemon-report-{report_id}"),
            renew=lambda: self.repository.renew_lease(report_id, self.worker_id, lease=self.lease),
            release=lambda: self.repository.release_report(report_id, self.worker_id),
            what=report_id,
        )

    async def _compute(self, job: ReportJob) -> None:
        report_id = job.report_id
        self._running.add(report_id)
        started = time.perf_counter()
        logger.info(kv("report.started", report_id=report_id))
        try:
            csv = await self.compute(job)
        except asyncio.CancelledError:
            logger.info(kv("report.handed_back", report_id=report_id))
            raise
        except Exception as error:
            elapsed = time.perf_counter() - started
            if isinstance(error, StoremonError):
                logger.warning(kv("report.failed", report_id=report_id, error=str(error)))
            else:
                logger.exception(kv("report.failed", report_id=report_id))
            await self.repository.fail_report(
                report_id, error=public_error(error), finished_at=self.clock()
            )
            logger.info(kv("report.finished", report_id=report_id, ok=False, seconds=elapsed))
            return
        finally:
            self._running.discard(report_id)
        await self.repository.finish_report(report_id, csv=csv, finished_at=self.clock())
        logger.info(
            kv(
                "report.finished",
                report_id=report_id,
                ok=True,
                seconds=time.perf_counter() - started,
                rows=max(csv.count("\n") - 1, 0),
            )
        )


class IngestLoop:
    """
    Ingest the sources at start-up, then at every tick of the refresh interval, unless a
    process on the same database refreshed within the interval (``claim``).

    A failed refresh is logged and recorded in ``last``; the next tick tries again. The
    server is ``ready`` once the first ingest has finished, successfully or not: reports
    then read whatever is stored.

    After each refresh ``prune`` runs when given: retention (``storemon.retention``), its
    outcome in ``last_prune``; a failed prune is logged and tried again at the next tick.
    Without sources there is no refresh, and so no prune (``storemon prune`` does it).
    """

    def __init__(
        self,
        ingest: Ingest | None,
        *,
        claim: ClaimRefresh,
        every: dt.timedelta,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        prune: Prune | None = None,
    ) -> None:
        self.ingest = ingest
        self.prune = prune
        #: The outcome of the latest prune (``PruneSummary.to_json`` and ``ok``/``error``).
        self.last_prune: dict[str, Any] | None = None
        #: Whether this process refreshes now; over the processes on one database, one
        #: per interval does, the others skip the tick.
        self.claim = claim
        self.every = every
        self.clock = clock
        self.sleep = sleep
        #: The outcome of the latest ingest, as shown by ``/api/health``.
        self.last: dict[str, Any] | None = None
        #: Set once the start-up ingest has finished (at once without sources).
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        if ingest is None:
            self.ready.set()

    def start(self) -> None:
        """
        Start the loop in an owned task (nothing to do without sources: no refresh, so
        no prune either).
        """
        if self.ingest is not None and self._task is None:
            self._task = asyncio.create_task(self.run(), name="storemon-refresh")

    async def stop(self) -> None:
        """
        Cancel the loop and wait for it.
        """
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run(self) -> None:
        """
        Refresh now, then at every tick of ``every`` after the start, forever.
        """
        anchor = self.clock()
        while True:
            await self.refresh()
            self.ready.set()
            now = self.clock()
            wait = (next_run(now, self.every, anchor=anchor) - now).total_seconds()
            await self.sleep(wait)

    async def refresh(self) -> None:
        """
        Ingest once, then prune; record the outcomes; never raise (but for cancellation).
        """
        assert self.ingest is not None
        slack = min(self.every / 10, MAX_REFRESH_SLACK)
        try:
            claimed = await self.claim(self.every - slack)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database is down; the ingest says so below
            logger.warning(kv("ingest.claim_failed", error=public_error(error, what="claim")))
            claimed = True
        if not claimed:
            logger.info(kv("ingest.skipped", reason="a refresh ran within this interval"))
            return
        await self._ingest(self.ingest)
        if self.prune is not None:
            await self._prune(self.prune)

    async def _ingest(self, ingest: Ingest) -> None:
        started_at = self.clock()
        started = time.perf_counter()
        logger.info(kv("ingest.started"))
        outcome: dict[str, Any] = {"started_at": started_at.isoformat()}
        try:
            summary = await ingest()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if isinstance(error, StoremonError):
                logger.warning(kv("ingest.failed", error=str(error)))
            else:
                logger.exception(kv("ingest.failed"))
            outcome.update(
                ok=False,
                error=public_error(error, what="ingest"),
                sources=getattr(error, "summary", None),
            )
        else:
            outcome.update(ok=True, error=None, sources=summary)
        seconds = time.perf_counter() - started
        outcome.update(finished_at=self.clock().isoformat(), seconds=round(seconds, 3))
        self.last = outcome
        logger.info(kv("ingest.finished", ok=outcome["ok"], seconds=seconds))

    async def _prune(self, prune: Prune) -> None:
        try:
            summary = await prune()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if isinstance(error, StoremonError):
                logger.warning(kv("prune.failed", error=str(error)))
            else:
                logger.exception(kv("prune.failed"))
            self.last_prune = {"ok": False, "error": public_error(error, what="prune")}
            return
        self.last_prune = {"ok": True, "error": None, **summary}
        logger.info(kv("prune.finished", **summary))
