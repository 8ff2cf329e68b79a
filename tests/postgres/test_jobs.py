"""
The server's job runner on a shared PostgreSQL queue, in one process: two runners stand
for two servers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest

pytest.importorskip("asyncpg", reason="the [postgres] extra is not installed")

from storemon.model import ReportJob, ReportStatus
from storemon.storage.postgres import PostgresRepository
from storemon_server.jobs import IngestLoop, JobRunner

pytestmark = pytest.mark.postgres

LEASE = dt.timedelta(seconds=3)


async def _wait_complete(repo: PostgresRepository, report_id: str) -> ReportJob:
    for _ in range(500):
        job = await repo.get_report(report_id)
        if job.status == ReportStatus.COMPLETE:
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"report {report_id} did not complete")


async def test_runners_share_the_queue_and_hand_back_on_stop(pg_url: str) -> None:
    """Jobs triggered on either runner are computed once; a stopped runner's job moves on."""
    calls: Counter[str] = Counter()
    gate, entered = asyncio.Event(), asyncio.Event()

    async def compute(job: ReportJob) -> str:
        calls[job.report_id] += 1
        if job.report_id == blocked:
            entered.set()
            await gate.wait()
        return f"csv of {job.report_id}\n"

    async with PostgresRepository(pg_url) as one, PostgresRepository(pg_url) as two:
        await one.add_polls([("s", 1_700_000_000_000_000, True)])
        first = JobRunner(one, compute, workers=2, max_queue=50, lease=LEASE, poll_every=0.1)
        second = JobRunner(two, compute, workers=2, max_queue=50, lease=LEASE, poll_every=0.1)
        await first.start()
        blocked = (await first.trigger()).report_id
        await asyncio.wait_for(entered.wait(), 10)
        await second.start()
        try:
            ids = [(await (first, second)[n % 2].trigger()).report_id for n in range(10)]
            for report_id in ids:
                await _wait_complete(one, report_id)
            # Stopping the runner that holds the blocked job hands it back at once.
            await first.stop()
            gate.set()
            done = await _wait_complete(two, blocked)
        finally:
            await first.stop()
            await second.stop()
        assert all(calls[report_id] == 1 for report_id in ids)
        assert calls[blocked] == 2  # cut short once, then computed by the other runner
        assert done.csv == f"csv of {blocked}\n"


async def test_one_refresh_per_interval_over_two_loops(pg_url: str) -> None:
    """Two refresh loops on one schema: the first refreshes, the second skips its tick."""
    ingested: list[str] = []
    async with PostgresRepository(pg_url) as one, PostgresRepository(pg_url) as two:
        loops = []
        for name, repo in (("one", one), ("two", two)):

            async def ingest(name: str = name) -> dict[str, object]:
                ingested.append(name)
                return {}

            every = dt.timedelta(hours=1)
            loops.append(IngestLoop(ingest, claim=repo.claim_refresh, every=every))
        for loop in loops:
            await loop.refresh()
        assert ingested == ["one"]
        assert loops[1].last is None
