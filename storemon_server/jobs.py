"""
Background work: the report job runner and the refresh (ingestion) loop.

Report jobs are durable: a trigger stores the job (Pending, with its ``as_of`` fixed) before
answering, a worker moves it to Running, then Complete with its CSV or Failed with the
reason. Jobs that were Pending or Running when the process stopped are queued again at
start-up, oldest first. Every task is owned (a set, cancelled and awaited on shutdown):
nothing is fire-and-forget.

When the repository is shared by several processes (``storemon.repository.SharedJobs``,
PostgreSQL), the queue is the database's: a trigger stores the job and wakes a local
worker; every worker claims the next job from the database with a lease, renews it while
it computes, and a job whose holder died is taken over once its lease runs out. The
refresh then runs in one process per interval (``IngestLoop(claim=...)``).
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
from typing import Any, Protocol

from storemon.errors import ReportNotFound, StoremonError
from storemon.model import ReportJob, ReportStatus
from storemon.repository import ReportStore, SharedJobs, StoreLookup, StoreSource
from storemon_server.errors import NoData, QueueFull
from storemon_server.logs import kv
from storemon_server.schedule import next_run

logger = logging.getLogger(__name__)

#: A report id's bytes of randomness: 16 bytes are 128 bits, 22 URL-safe characters.
REPORT_ID_BYTES = 16
#: Shared queue: how long a claimed job stays with its worker without a renewal.
DEFAULT_LEASE = dt.timedelta(seconds=30)
#: Shared queue: seconds between two looks for jobs triggered in other processes.
POLL_EVERY_S = 1.0
#: Local queue: the first pause before a job whose state could not be recorded is run
#: again; it doubles at each failure, up to ``MAX_RETRY_AFTER_S``.
RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 60.0

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]
#: Computes a job's report; returns the CSV text.
Compute = Callable[[ReportJob], Awaitable[str]]
#: Ingests the configured sources; returns a JSON-able summary.
Ingest = Callable[[], Awaitable[dict[str, Any]]]


class ServerRepository(StoreSource, StoreLookup, ReportStore, Protocol):
    """
    What the server reads and writes: stores for reports (all, or one to explain its
    row), and the report jobs.
    """


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
    A FIFO queue of report jobs and a fixed number of workers that compute them.
    """

    def __init__(
        self,
        repository: ServerRepository,
        compute: Compute,
        *,
        workers: int,
        max_queue: int,
        clock: Clock = utc_now,
        lease: dt.timedelta = DEFAULT_LEASE,
        poll_every: float = POLL_EVERY_S,
        retry_after: float = RETRY_AFTER_S,
    ) -> None:
        self.repository = repository
        self.compute = compute
        self.workers = workers
        self.max_queue = max_queue
        self.clock = clock
        #: The database's queue when several processes share it, else ``None``.
        self.shared = repository if isinstance(repository, SharedJobs) else None
        self.lease = lease
        self.poll_every = poll_every
        #: Who holds a claimed job: host, process and a random suffix.
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[str] = set()
        self._admitting = 0
        self._shared_queued = 0
        self._claims_failing = False
        self._wake = asyncio.Event()
        #: Seconds before a job whose state could not be recorded is run again (doubling).
        self.retry_after = retry_after
        self._attempts: dict[str, int] = {}

    @property
    def queued(self) -> int:
        """
        Jobs waiting for a worker (of any process, as last seen, when the queue is shared).
        """
        return self._shared_queued if self.shared else self._queue.qsize()

    @property
    def running(self) -> int:
        """
        Jobs being computed now.
        """
        return len(self._running)

    async def start(self) -> None:
        """
        Queue the unfinished jobs of an earlier run, then start the workers.

        A shared queue needs no resuming: its workers claim what is left.
        """
        if self.shared is None:
            for job in await self.repository.unfinished_reports():
                logger.info(kv("report.resumed", report_id=job.report_id, status=job.status))
                self._queue.put_nowait(job.report_id)
        work = self._work if self.shared is None else self._work_shared
        for number in range(self.workers):
            task = asyncio.create_task(work(), name=f"storemon-report-worker-{number}")
            self._tasks.add(task)

    async def stop(self) -> None:
        """
        Cancel the workers and wait for them; running jobs stay Running, to be resumed.
        """
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def join(self) -> None:
        """
        Wait until every queued job has been computed (for tests).
        """
        await self._queue.join()

    async def trigger(self) -> ReportJob:
        """
        Store a new job with ``as_of`` fixed to the latest stored poll, and queue it.

        Raises:
            QueueFull: ``max_queue`` jobs are already waiting.
            NoData: there is no poll yet.
        """
        # Count triggers still awaiting the database too, so that concurrent triggers
        # cannot overfill the queue between the check and the put.
        if self.shared is not None:
            self._shared_queued = await self.shared.queued_reports()
        if self.queued + self._admitting >= self.max_queue:
            raise QueueFull(f"{self.queued} reports are waiting; try again later")
        self._admitting += 1
        try:
            as_of = await self.repository.latest_poll_at()
            if as_of is None:
                raise NoData()
            job = await self.repository.create_report(
                new_report_id(), as_of=as_of, created_at=self.clock()
            )
            if self.shared is None:
                self._queue.put_nowait(job.report_id)
            else:
                self._shared_queued += 1
                self._wake.set()
        finally:
            self._admitting -= 1
        logger.info(
            kv(
                "report.queued",
                report_id=job.report_id,
                as_of=as_of.isoformat(),
                queued=self.queued,
            )
        )
        return job

    async def _work(self) -> None:
        while True:
            report_id = await self._queue.get()
            try:
                await self._run(report_id)
                self._attempts.pop(report_id, None)
            except asyncio.CancelledError:
                raise
            except ReportNotFound:
                self._attempts.pop(report_id, None)
                logger.warning(kv("report.vanished", report_id=report_id))
            except Exception:
                # The repository failed while recording the job's state: the job stays as
                # it was (Pending or Running). Run it again after a pause that doubles up to
                # a minute, so that a database that comes back finishes it without a restart
                # (and a restart would resume it too).
                attempt = self._attempts.get(report_id, 0) + 1
                self._attempts[report_id] = attempt
                delay = min(self.retry_after * 2 ** (attempt - 1), MAX_RETRY_AFTER_S)
                logger.exception(
                    kv("report.retry", report_id=report_id, attempt=attempt, seconds=delay)
                )
                asyncio.get_running_loop().call_later(delay, self._queue.put_nowait, report_id)
            finally:
                self._queue.task_done()

    async def _work_shared(self) -> None:
        assert self.shared is not None
        while True:
            try:
                job = await self.shared.claim_report(self.worker_id, lease=self.lease)
                self._shared_queued = await self.shared.queued_reports()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is down: look again later
                if not self._claims_failing:  # once per outage, not once a second
                    error_text = public_error(error, what="claim")
                    logger.warning(kv("report.claim_failed", error=error_text))
                self._claims_failing = True
                job = None
            else:
                if self._claims_failing:
                    logger.info(kv("report.claim_recovered"))
                self._claims_failing = False
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_every)
                self._wake.clear()
                continue
            try:
                await self._run_leased(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Recording the job's state failed: its lease runs out and a worker of
                # some process takes it over.
                logger.exception(kv("report.lost", report_id=job.report_id))

    async def _run_leased(self, job: ReportJob) -> None:
        """
        Compute a claimed job, renewing its lease every third of it; stop if it is lost.
        """
        assert self.shared is not None
        task = asyncio.create_task(self._compute(job), name=f"storemon-report-{job.report_id}")
        renew_every = self.lease.total_seconds() / 3
        try:
            while not (await asyncio.wait({task}, timeout=renew_every))[0]:
                try:
                    held = await self.shared.renew_lease(
                        job.report_id, self.worker_id, lease=self.lease
                    )
                except Exception as error:  # keep computing; the lease may still hold
                    logger.warning(kv("report.renew_failed", report_id=job.report_id, error=error))
                    continue
                if not held:
                    logger.warning(kv("report.lease_lost", report_id=job.report_id))
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    return
            task.result()
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.shared.release_report(job.report_id, self.worker_id)
            raise

    async def _run(self, report_id: str) -> None:
        job = await self.repository.get_report(report_id)
        if job.status not in (ReportStatus.PENDING, ReportStatus.RUNNING):
            return
        await self.repository.start_report(report_id)
        await self._compute(job)

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
    Ingest the sources at start-up, then at every tick of the refresh interval.

    A failed refresh is logged and recorded in ``last``; the next tick tries again. The
    server is ``ready`` once the first ingest has finished, successfully or not: reports
    then read whatever is stored.
    """

    def __init__(
        self,
        ingest: Ingest | None,
        *,
        every: dt.timedelta,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        claim: Callable[[dt.timedelta], Awaitable[bool]] | None = None,
    ) -> None:
        self.ingest = ingest
        #: With several processes on one database: whether this one refreshes now
        #: (``SharedJobs.claim_refresh``); the others skip the tick.
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
        Start the loop in an owned task (nothing to do without sources).
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
        Ingest once; record the outcome; never raise (but for cancellation).
        """
        assert self.ingest is not None
        if self.claim is not None:
            try:
                claimed = await self.claim(self.every)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is down; the ingest says so below
                logger.warning(kv("ingest.claim_failed", error=public_error(error, what="claim")))
                claimed = True
            if not claimed:
                logger.info(kv("ingest.skipped", reason="another server refreshed this interval"))
                return
        started_at = self.clock()
        started = time.perf_counter()
        logger.info(kv("ingest.started"))
        outcome: dict[str, Any] = {"started_at": started_at.isoformat()}
        try:
            summary = await self.ingest()
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
