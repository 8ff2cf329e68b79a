"""
The server's job runner on a shared PostgreSQL queue, in one process: two runners stand
for two servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest

pytest.importorskip("asyncpg", reason="the [postgres] extra is not installed")

import asyncpg  # type: ignore[import-untyped]  # no stubs, no py.typed

from storemon.model import ReportJob, ReportShard, ReportStatus, ShardResult
from storemon.storage.postgres import PostgresRepository
from storemon_server.jobs import IngestLoop, JobRunner
from tests.postgres.support import drop_schema, fresh_url

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


# Waking idle workers: notifications between processes, and the look that remains.

#: An idle worker's look for work it was not woken for: far longer than the tests wait,
#: so that only a notification can explain a claim within the test's time.
SLOW_LOOK_S = 30.0
#: Seconds within which both runners must have started a shard of the report.
BOTH_WITHIN_S = 10.0


async def _one_report_by_two_runners(
    one: PostgresRepository, two: PostgresRepository, poll_every: float
) -> tuple[ReportJob, dict[str, list[int]], float]:
    """
    One report of two one-store shards, triggered on ``one``, with a runner (one worker
    each) on each repository; each shard's computation waits until both runners have
    started one, so the report completes only if both take part. Return the job, the
    shards each runner computed, and the seconds from trigger to Complete.
    """
    await one.add_polls([("a", 1_700_000_000_000_000, True), ("b", 1_700_000_000_000_000, True)])
    computed: dict[str, list[int]] = {"one": [], "two": []}
    both = asyncio.Event()

    def compute_shard(name: str) -> Callable[[ReportShard], Awaitable[ShardResult]]:
        async def compute(shard: ReportShard) -> ShardResult:
            computed[name].append(shard.number)
            if computed["one"] and computed["two"]:
                both.set()
            await asyncio.wait_for(both.wait(), BOTH_WITHIN_S)
            return ShardResult(shard.number, f"line {shard.number}\n")

        return compute

    runners = [
        JobRunner(
            repository,
            workers=1,
            max_queue=5,
            compute_shard=compute_shard(name),
            shard_stores=1,
            lease=LEASE,
            poll_every=poll_every,
        )
        for name, repository in (("one", one), ("two", two))
    ]
    for runner in runners:
        await runner.start()
    try:
        await asyncio.sleep(0.5)  # both workers have had their first look: now idle
        started = time.monotonic()
        job = await runners[0].trigger()
        done = await _wait_complete(one, job.report_id)
        seconds = time.monotonic() - started
    finally:
        for runner in runners:
            await runner.stop()
    return done, computed, seconds


async def test_a_notified_runner_claims_a_shard_at_once(pg_url: str) -> None:
    """With a look every 30 s, the second runner (another process's, on its own
    connections) still claims a shard within seconds: the shards' NOTIFY wakes it."""
    async with PostgresRepository(pg_url) as one, PostgresRepository(pg_url) as two:
        for repository in (one, two):  # listening from now on (its start wakes once)
            assert await repository.wait_for_work(0) is True
        done, computed, seconds = await _one_report_by_two_runners(one, two, SLOW_LOOK_S)
    assert done.csv is not None
    assert done.csv.endswith("line 0\nline 1\n")
    assert sorted(computed["one"] + computed["two"]) == [0, 1], computed
    assert seconds < BOTH_WITHIN_S < SLOW_LOOK_S


async def test_without_notifications_the_look_still_finds_shards(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No listener can connect (notifications lost): the runners' look every 0.2 s finds
    the other process's shards all the same."""

    async def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("no listener in this test")

    async with PostgresRepository(pg_url) as one, PostgresRepository(pg_url) as two:
        monkeypatch.setattr(asyncpg, "connect", refused)  # the pools have their own
        assert await two.wait_for_work(0.05) is False  # no listener, no wake
        done, computed, _ = await _one_report_by_two_runners(one, two, 0.2)
    assert done.csv is not None
    assert computed["one"], computed
    assert computed["two"], computed


async def test_a_lost_listener_is_replaced(pg_url: str) -> None:
    """The listening connection killed by the server: the next wait starts a new one and
    returns at once (notifications were missed), and later notifications arrive again."""
    async with PostgresRepository(pg_url) as one, PostgresRepository(pg_url) as two:
        assert await two.wait_for_work(0) is True
        listener = two._listener
        assert listener is not None
        await one.ping()
        await _terminate(pg_url, listener.get_server_pid())
        for _ in range(100):  # the client sees the connection closed
            if listener.is_closed():
                break
            await asyncio.sleep(0.05)
        assert await asyncio.wait_for(two.wait_for_work(SLOW_LOOK_S), 5) is True
        assert two._listener is not None
        assert two._listener is not listener
        waiter = asyncio.ensure_future(two.wait_for_work(SLOW_LOOK_S))
        await asyncio.sleep(0.1)
        await one.create_report("r", as_of=None, created_at=dt.datetime.now(dt.UTC))
        assert await asyncio.wait_for(waiter, 5) is True


async def test_notifications_are_per_schema_and_on_commit(pg_url: str) -> None:
    """Work queued in another schema of the database wakes no one here; a job created in
    a transaction that rolls back wakes no other process."""
    other_url = fresh_url()
    try:
        async with (
            PostgresRepository(pg_url) as one,
            PostgresRepository(pg_url) as two,
            PostgresRepository(other_url) as elsewhere,
        ):
            assert await two.wait_for_work(0) is True
            now = dt.datetime.now(dt.UTC)
            await elsewhere.create_report("elsewhere", as_of=None, created_at=now)
            assert await two.wait_for_work(0.5) is False
            with contextlib.suppress(RuntimeError):
                async with one.transaction():
                    await one.create_report("rolled back", as_of=None, created_at=now)
                    raise RuntimeError("roll back")
            assert await two.wait_for_work(0.5) is False
            await one.create_report("kept", as_of=None, created_at=now)
            assert await two.wait_for_work(5) is True
    finally:
        drop_schema(other_url)


async def _terminate(url: str, pid: int) -> None:
    connection = await asyncpg.connect(url.split("?", 1)[0])
    try:
        await connection.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()
