"""
Sharded reports through the job runner on memory and SQLite (one process): whatever the
shard size, the report equals the one computed in one piece, byte for byte, and leaves out
the same stores; a shard whose holder stopped is computed again by another worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon.errors import DataError
from storemon.model import ReportShard, ReportStatus, ShardResult
from storemon.repository import Repository
from storemon.service import CsvReport, build_csv_report
from storemon.storage import open_repository
from storemon_server.jobs import JobRunner
from storemon_server.worker import compute_shard_in_thread
from tests.server.support import holey_data

STORES = 30
LONG = dt.timedelta(seconds=60)
#: Stores the report leaves out, because of their rows: an id a spreadsheet would read as
#: a formula, and an unknown zone; and one whose id CSV must quote.
ODD_POLLS = [("=1+1", True), ("zoneless", False), ('quoted,"id"', True)]


async def _fill(url: str) -> None:
    async with open_repository(url) as repository:
        await _fill_repository(repository)


async def _fill_repository(repository: Repository) -> None:
    # Holes in the polls of every other store (unknown time with a maximum gap), and
    # special days: every input a shard must read for its stores only.
    polls, hours_rows, zones, special = holey_data(STORES, seed=3)
    last = max(at for _, at, _ in polls)
    polls += [(store_id, last - 3_600_000_000, active) for store_id, active in ODD_POLLS]
    await repository.add_polls(polls)
    await repository.replace_hours(hours_rows)
    await repository.replace_zones([*zones, ("zoneless", "Mars/Olympus_Mons")])
    await repository.replace_special_hours(special)


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """
    A database of each one-process backend, filled once (memory: filled per example).
    """
    if request.param == "memory":
        return "memory://"
    path = tmp_path_factory.mktemp("shards") / "shards.db"
    asyncio.run(_fill(f"sqlite:///{path}"))
    return f"sqlite:///{path}"


async def _sharded(
    repository: Repository,
    shard_stores: int,
    workers: int,
    max_gap: dt.timedelta | None = None,
) -> tuple[str, str]:
    runner = JobRunner(
        repository,
        workers=workers,
        max_queue=10,
        compute_shard=lambda shard: compute_shard_in_thread(repository, shard),
        shard_stores=shard_stores,
        poll_every=0.01,
    )
    await runner.start()
    try:
        job = await runner.trigger(max_gap=max_gap)
        await runner.join()
    finally:
        await runner.stop()
    done = await repository.get_report(job.report_id)
    assert done.status == ReportStatus.COMPLETE, done.error
    assert done.csv is not None
    assert job.as_of is not None
    expected = await build_csv_report(repository, as_of=job.as_of, max_gap=max_gap)
    return done.csv, expected.csv


async def _compare(url: str, shard_stores: int, workers: int, max_gap: dt.timedelta | None) -> None:
    async with open_repository(url) as repository:
        if url == "memory://":
            await _fill_repository(repository)
        sharded, whole = await _sharded(repository, shard_stores, workers, max_gap)
    assert sharded == whole
    assert whole.count("\n") == 1 + STORES + 1  # header, the stores, the quoted id
    assert ("unknown" in whole.split("\n", 1)[0]) == (max_gap is not None)


@given(
    shard_stores=st.integers(1, STORES + 5),
    workers=st.integers(1, 3),
    max_gap=st.sampled_from([None, dt.timedelta(hours=2), dt.timedelta(minutes=90)]),
)
def test_a_sharded_report_equals_the_whole_one(
    url: str, shard_stores: int, workers: int, max_gap: dt.timedelta | None
) -> None:
    """Whatever the shard size, the workers and the maximum gap, the sharded report is
    the one-piece report byte for byte (special days and holes in the polls included)."""
    asyncio.run(_compare(url, shard_stores, workers, max_gap))


async def _skipped_by_shards(repository: Repository, shard_stores: int) -> tuple[list[str], str]:
    whole: CsvReport = await build_csv_report(repository)
    as_of = await repository.latest_poll_at()
    await repository.create_report("r", as_of=as_of, created_at=dt.datetime.now(dt.UTC))
    await repository.plan_shards("r", max_stores=shard_stores)
    results: list[ShardResult] = []
    while (shard := await repository.claim_shard("w", lease=dt.timedelta(minutes=1))) is not None:
        results.append(await compute_shard_in_thread(repository, shard))
    results.sort(key=lambda result: result.number)
    await repository.finish_report("r", csv=whole.csv, finished_at=dt.datetime.now(dt.UTC))
    assert [str(item) for item in whole.skipped]
    assert whole.csv == "".join(
        [whole.csv.split("\n", 1)[0] + "\n", *(result.lines for result in results)]
    )
    return [item for result in results for item in result.skipped], whole.csv


@pytest.mark.parametrize("shard_stores", [1, 2, 7, 100])
async def test_shards_leave_out_the_stores_the_whole_report_leaves_out(
    tmp_path: Path, shard_stores: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The stores whose rows cannot be read are left out by the shards holding them, with
    the reasons of the one-piece report; the runner logs their count."""
    url = f"sqlite:///{tmp_path}/skipped.db"
    await _fill(url)
    async with open_repository(url) as repository:
        skipped, _ = await _skipped_by_shards(repository, shard_stores)
        whole = await build_csv_report(repository)
        assert skipped == [str(item) for item in whole.skipped]
        assert len(skipped) == 2
        caplog.set_level(logging.WARNING, "storemon_server")
        await _sharded(repository, shard_stores, workers=2)
    # Logged by the worker that assembles the report (rarely two, when its job's holder
    # assembles too while that worker stores it).
    logged = [r.getMessage() for r in caplog.records if "stores_left_out" in r.getMessage()]
    assert logged
    assert all(re.search(r"\bcount=2\b", message) for message in logged)


async def test_a_shard_whose_worker_stopped_is_computed_by_another(tmp_path: Path) -> None:
    """A worker that dies holding a shard loses that shard only: once its lease runs out
    another worker computes it, and the report is still the one-piece report."""
    url = f"sqlite:///{tmp_path}/takeover.db"
    await _fill(url)
    async with open_repository(url) as repository:
        as_of = await repository.latest_poll_at()
        job = await repository.create_report("r", as_of=as_of, created_at=dt.datetime.now(dt.UTC))
        await repository.plan_shards("r", max_stores=8)
        # A worker of a process that died: it claimed shard 0 and will never store it.
        dead = await repository.claim_shard("dead", lease=dt.timedelta(seconds=1))
        assert dead is not None
        assert dead.number == 0
        computed: list[int] = []

        async def compute(shard: ReportShard) -> ShardResult:
            computed.append(shard.number)
            return await compute_shard_in_thread(repository, shard)

        runner = JobRunner(
            repository,
            workers=2,
            max_queue=10,
            compute_shard=compute,
            shard_stores=8,
            poll_every=0.05,
        )
        await runner.start()
        try:
            async with asyncio.timeout(30):
                while (await repository.get_report("r")).status != ReportStatus.COMPLETE:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            await runner.stop()
        assert sorted(computed) == [0, 1, 2, 3, 4]
        assert computed[-1] == 0  # taken over once its lease ran out, after the others
        assert job.as_of is not None
        expected = await build_csv_report(repository, as_of=job.as_of)
        assert (await repository.get_report("r")).csv == expected.csv


async def test_a_failing_shard_fails_the_report(tmp_path: Path) -> None:
    """A shard whose computation fails fails the report with its reason, and the report's
    shards are deleted; the runner goes on with the next report."""
    url = f"sqlite:///{tmp_path}/failing.db"
    await _fill(url)
    async with open_repository(url) as repository:

        async def compute(shard: ReportShard) -> ShardResult:
            if shard.number == 2 and shard.report_id == failing:
                raise DataError("shard 2 cannot be read")
            return await compute_shard_in_thread(repository, shard)

        runner = JobRunner(
            repository,
            workers=2,
            max_queue=10,
            compute_shard=compute,
            shard_stores=8,
            poll_every=0.01,
        )
        await runner.start()
        try:
            failing = (await runner.trigger()).report_id
            await runner.join()
            fine = await runner.trigger()
            await runner.join()
        finally:
            await runner.stop()
        failed = await repository.get_report(failing)
        assert (failed.status, failed.error) == (ReportStatus.FAILED, "shard 2 cannot be read")
        assert await repository.shard_results(failing) == []
        done = await repository.get_report(fine.report_id)
        assert done.status == ReportStatus.COMPLETE
        assert fine.as_of is not None
        assert done.csv == (await build_csv_report(repository, as_of=fine.as_of)).csv


async def test_stop_hands_a_shard_back(tmp_path: Path) -> None:
    """A runner stopped while it computes shards hands them back at once: another runner
    claims them without waiting for a lease, and completes the report."""
    url = f"sqlite:///{tmp_path}/handback.db"
    await _fill(url)
    async with open_repository(url) as repository:
        entered = asyncio.Event()

        async def stuck(shard: ReportShard) -> ShardResult:
            entered.set()
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

        first = JobRunner(
            repository, workers=1, max_queue=10, compute_shard=stuck, shard_stores=8, lease=LONG
        )
        await first.start()
        job = await first.trigger()
        await asyncio.wait_for(entered.wait(), 10)
        await first.stop()
        assert (await repository.get_report(job.report_id)).status == ReportStatus.PENDING
        shard = await repository.claim_shard("other", lease=LONG)
        assert shard is not None
        assert (shard.report_id, shard.number) == (job.report_id, 0)
        await repository.release_shard(job.report_id, 0, "other")

        second = JobRunner(
            repository,
            workers=1,
            max_queue=10,
            compute_shard=lambda shard: compute_shard_in_thread(repository, shard),
            shard_stores=8,
            lease=LONG,
            poll_every=0.01,
        )
        await second.start()
        try:
            await second.join()
        finally:
            await second.stop()
        done = await repository.get_report(job.report_id)
        assert done.status == ReportStatus.COMPLETE
        assert job.as_of is not None
        assert done.csv == (await build_csv_report(repository, as_of=job.as_of)).csv
