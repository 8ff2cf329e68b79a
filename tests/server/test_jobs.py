"""
The job runner on the database's queue, on memory and SQLite: wake-ups, hand-backs,
take-overs, the queue limit, and the database failing while a job's state is recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storemon.errors import ReportNotFound, StorageError
from storemon.model import ReportJob, ReportStatus
from storemon.repository import Repository
from storemon.storage import open_repository
from storemon_server.errors import QueueFull
from storemon_server.jobs import JobRunner
from tests.server.conftest import wait_for

AT = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
LONG = dt.timedelta(seconds=60)


@pytest.fixture(params=["memory", "sqlite"])
async def repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Repository]:
    """
    An open repository of each backend in turn, holding one poll.
    """
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/jobs.db"
    async with open_repository(url) as repo:
        await repo.add_polls([("s1", 1_700_000_000_000_000, True)])
        yield repo


async def _compute(job: ReportJob) -> str:
    return f"report of {job.report_id}\n"


async def _wait_status(repository: Repository, report_id: str, status: str) -> ReportJob:
    for _ in range(1000):
        job = await repository.get_report(report_id)
        if job.status == status:
            return job
        await asyncio.sleep(0.01)
    raise AssertionError(f"report {report_id} never reached {status}")


def _failing_finish(
    monkeypatch: pytest.MonkeyPatch, repository: Repository, error: Exception, times: int
) -> list[int]:
    """
    Make the next ``times`` calls of ``finish_report`` raise ``error``; return the count left.
    """
    left = [times]
    finish = repository.finish_report

    async def finish_report(report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        if left[0]:
            left[0] -= 1
            raise error
        await finish(report_id, csv=csv, finished_at=finished_at)

    monkeypatch.setattr(repository, "finish_report", finish_report)
    return left


async def test_a_job_whose_end_could_not_be_recorded_is_run_again(
    repository: Repository, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two failed attempts to record Complete, then the database answers: the job completes."""
    left = _failing_finish(monkeypatch, repository, StorageError("database is locked"), 2)
    runner = JobRunner(
        repository, _compute, workers=1, max_queue=10, retry_after=0.05, poll_every=0.01
    )
    await runner.start()
    try:
        with caplog.at_level(logging.WARNING, logger="storemon_server.jobs"):
            job = await runner.trigger()
            done = await _wait_status(repository, job.report_id, ReportStatus.COMPLETE)
        assert left == [0]
        assert done.csv == f"report of {job.report_id}\n"
        records = [record for record in caplog.records if "report.retry" in record.getMessage()]
        retries = [record.getMessage() for record in records]
        assert len(retries) == 2
        assert "attempt=1 seconds=0.05" in retries[0]
        assert "attempt=2 seconds=0.1" in retries[1]
        # A database away is expected: one warning line with its reason, no traceback.
        assert all("database is locked" in message for message in retries)
        assert all(record.levelno == logging.WARNING for record in records)
        assert all(record.exc_info is None for record in records)
    finally:
        await runner.stop()


async def test_a_failed_end_holds_the_job_for_the_pause_only(
    repository: Repository, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After a failed end the job stays Running for the pause, then any worker may claim it."""
    left = _failing_finish(monkeypatch, repository, StorageError("disk full"), 1)
    runner = JobRunner(repository, _compute, workers=1, max_queue=10, retry_after=0.6)
    await runner.start()
    try:
        with caplog.at_level(logging.CRITICAL, logger="storemon_server.jobs"):
            job = await runner.trigger()
            await wait_for(lambda: left == [0])
            await asyncio.sleep(0.1)
            assert await repository.claim_report("other", lease=LONG) is None
            assert (await repository.get_report(job.report_id)).status == ReportStatus.RUNNING
            await asyncio.sleep(0.6)
            taken = await repository.claim_report("other", lease=LONG)
        assert taken is not None
        assert taken.report_id == job.report_id
    finally:
        await runner.stop()


async def test_a_job_that_vanished_is_not_retried(
    repository: Repository, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A job deleted while it was computed is logged once and dropped, not retried."""
    _failing_finish(monkeypatch, repository, ReportNotFound("no report has id 'x'"), 1000)
    runner = JobRunner(
        repository, _compute, workers=1, max_queue=10, retry_after=0.01, poll_every=0.01
    )
    await runner.start()
    try:
        with caplog.at_level(logging.WARNING, logger="storemon_server.jobs"):
            await runner.trigger()
            await asyncio.wait_for(runner.join(), 5)
            await asyncio.sleep(0.05)
        messages = [record.getMessage() for record in caplog.records]
        assert sum("report.vanished" in message for message in messages) == 1
        assert not any("report.retry" in message for message in messages)
    finally:
        await runner.stop()


async def test_a_trigger_wakes_a_worker_at_once(repository: Repository) -> None:
    """A triggered job starts without waiting for the workers' next look at the queue."""
    started = asyncio.Event()

    async def compute(job: ReportJob) -> str:
        started.set()
        return "store_id\n"

    runner = JobRunner(repository, compute, workers=2, max_queue=10, poll_every=3600)
    await runner.start()
    try:
        await asyncio.sleep(0.05)  # both workers looked, found nothing, and wait
        await runner.trigger()
        await asyncio.wait_for(started.wait(), 2)
    finally:
        await runner.stop()


async def test_jobs_are_computed_in_trigger_order(repository: Repository) -> None:
    """One worker computes the jobs in the order they were triggered, each once."""
    computed: list[str] = []

    async def compute(job: ReportJob) -> str:
        computed.append(job.report_id)
        return "store_id\n"

    runner = JobRunner(repository, compute, workers=1, max_queue=10)
    triggered = [(await runner.trigger()).report_id for _ in range(4)]
    assert runner.queued == 4
    await runner.start()
    try:
        await asyncio.wait_for(runner.join(), 10)
    finally:
        await runner.stop()
    assert computed == triggered


async def test_stop_hands_a_running_job_back(repository: Repository) -> None:
    """A runner that stops puts its running job back to Pending; another runner completes it."""
    entered = asyncio.Event()

    async def stuck(job: ReportJob) -> str:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    first = JobRunner(repository, stuck, workers=1, max_queue=10)
    await first.start()
    job = await first.trigger()
    await asyncio.wait_for(entered.wait(), 5)
    await first.stop()
    assert (await repository.get_report(job.report_id)).status == ReportStatus.PENDING
    second = JobRunner(repository, _compute, workers=1, max_queue=10)
    await second.start()
    try:
        done = await _wait_status(repository, job.report_id, ReportStatus.COMPLETE)
    finally:
        await second.stop()
    assert done.csv == f"report of {job.report_id}\n"


async def test_a_dead_holders_job_is_taken_over(repository: Repository) -> None:
    """A job Running for a process that died is computed once its lease has run out."""
    await repository.create_report("orphan", as_of=AT, created_at=AT)
    assert await repository.claim_report("died", lease=dt.timedelta(seconds=0.3)) is not None
    runner = JobRunner(repository, _compute, workers=1, max_queue=10, poll_every=0.05)
    await runner.start()
    try:
        await asyncio.sleep(0.1)
        assert (await repository.get_report("orphan")).status == ReportStatus.RUNNING
        done = await _wait_status(repository, "orphan", ReportStatus.COMPLETE)
    finally:
        await runner.stop()
    assert done.csv == "report of orphan\n"


async def test_a_lost_lease_stops_the_computation(repository: Repository) -> None:
    """A worker that finds its lease taken over stops computing and records nothing."""
    entered, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(job: ReportJob) -> str:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    lease = dt.timedelta(seconds=0.3)
    runner = JobRunner(repository, slow, workers=1, max_queue=10, lease=lease)
    await runner.start()
    try:
        job = await runner.trigger()
        await asyncio.wait_for(entered.wait(), 5)
        # Another worker takes the job over as if this one had stalled past its lease.
        await repository.release_report(job.report_id, runner.worker_id)
        assert await repository.claim_report("other", lease=LONG) is not None
        await asyncio.wait_for(cancelled.wait(), 5)
    finally:
        await runner.stop()
    assert (await repository.get_report(job.report_id)).status == ReportStatus.RUNNING


async def test_the_queue_limit_counts_every_waiting_job(repository: Repository) -> None:
    """A trigger past max_queue is refused, naming the jobs waiting in the database."""
    for number in range(3):  # waiting jobs another process triggered
        await repository.create_report(f"r{number}", as_of=AT, created_at=AT)
    runner = JobRunner(repository, _compute, workers=1, max_queue=3)
    with pytest.raises(QueueFull, match=r"^3 reports are waiting; try again later$"):
        await runner.trigger()
    assert runner.queued == 3
    assert await repository.queued_reports() == 3
