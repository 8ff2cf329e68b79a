"""
The local job queue when the database fails while a job's state is recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from storemon.errors import StorageError
from storemon.model import ReportJob, ReportStatus
from storemon.testing import InMemoryRepository
from storemon_server.jobs import JobRunner
from tests.server.conftest import wait_for


class FlakyFinish(InMemoryRepository):
    """Recording a finished report fails the first ``failures`` times."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        if self.failures:
            self.failures -= 1
            raise StorageError("database is locked")
        await super().finish_report(report_id, csv=csv, finished_at=finished_at)


async def _compute(job: ReportJob) -> str:
    return f"report of {job.report_id}\n"


async def test_a_job_whose_end_could_not_be_recorded_is_run_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two failed attempts to record Complete, then the database answers: the job completes."""
    repository = FlakyFinish(failures=2)
    await repository.add_polls([("s1", 1_700_000_000_000_000, True)])
    runner = JobRunner(repository, _compute, workers=1, max_queue=10, retry_after=0.01)
    await runner.start()
    try:
        with caplog.at_level(logging.ERROR, logger="storemon_server.jobs"):
            job = await runner.trigger()
            await wait_for(lambda: repository.failures == 0)
            for _ in range(500):
                if (await repository.get_report(job.report_id)).status == ReportStatus.COMPLETE:
                    break
                await asyncio.sleep(0.01)
        done = await repository.get_report(job.report_id)
        assert done.status == ReportStatus.COMPLETE
        assert done.csv == f"report of {job.report_id}\n"
        retries = [record for record in caplog.records if "report.retry" in record.getMessage()]
        assert len(retries) == 2
        assert "attempt=2" in retries[-1].getMessage()
    finally:
        await runner.stop()


async def test_a_job_that_vanished_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    """A queued id with no stored job is logged once and dropped."""
    repository = InMemoryRepository()
    runner = JobRunner(repository, _compute, workers=1, max_queue=10, retry_after=0.01)
    await runner.start()
    try:
        with caplog.at_level(logging.WARNING, logger="storemon_server.jobs"):
            runner._queue.put_nowait("no-such-report")
            await asyncio.wait_for(runner.join(), 5)
            await asyncio.sleep(0.05)
        messages = [record.getMessage() for record in caplog.records]
        assert sum("report.vanished" in message for message in messages) == 1
        assert not any("report.retry" in message for message in messages)
    finally:
        await runner.stop()
