"""
The contract of a report's shards on every backend: snapshots of a range of stores, and
planning, claiming, holding, storing and reading the shards of a job.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from storemon.errors import ReportNotFound
from storemon.model import (
    ReportStatus,
    ShardResult,
    SpecialHoursRow,
    StoreRange,
    StoreSnapshot,
    store_ranges,
)
from storemon.repository import Repository
from storemon.storage.sqlite import SQLiteRepository

from .conftest import at_us, hours, utc

LONG = dt.timedelta(seconds=60)
AS_OF = utc("2024-01-08T00:00")
SINCE = utc("2024-01-01T00:00")
#: Ids in code point order, which is neither numeric nor any locale's order: "10" < "9",
#: "Z" < "a", and "é" after every ASCII character.
IDS = ["10", "9", "Z", "a", 'b"q,', "é"]


async def _fill(repo: Repository) -> None:
    polls = []
    for number, store_id in enumerate(IDS):
        polls.append((store_id, at_us("2023-12-31T23:00"), number % 2 == 0))
        polls.append((store_id, at_us("2024-01-05T10:00"), True))
        polls.append((store_id, at_us(f"2024-01-07T1{number}:00"), False))
    await repo.add_polls(polls)
    await repo.replace_hours([(store_id, hours(1, "09:00", "17:00")) for store_id in IDS[::2]])
    await repo.replace_zones([(store_id, "Europe/Paris") for store_id in IDS[1::2]])
    closed = SpecialHoursRow(dt.date(2024, 1, 5))
    short = SpecialHoursRow(dt.date(2024, 1, 6), dt.time(10), dt.time(12))
    await repo.replace_special_hours(
        [(store_id, closed) for store_id in IDS[::3]] + [(store_id, short) for store_id in IDS[1:4]]
    )


async def _snapshots(repo: Repository, stores: StoreRange | None) -> dict[str, StoreSnapshot]:
    return {
        snapshot.store_id: snapshot
        async for snapshot in repo.snapshots(since=SINCE, as_of=AS_OF, stores=stores)
    }


@pytest.mark.parametrize(
    "stores",
    [
        StoreRange(),
        StoreRange(None, "a"),
        StoreRange("9", "a"),
        StoreRange("a", None),
        StoreRange("9", "9"),
        StoreRange("99", "Z0"),
        StoreRange("é", None),
    ],
)
async def test_snapshots_of_a_range_are_its_stores_only(
    repo: Repository, stores: StoreRange
) -> None:
    """Snapshots of a range are those of every store whose id is in it, polls, hours and
    zone alike, in code point order on every backend."""
    await _fill(repo)
    every = await _snapshots(repo, None)
    assert sorted(every) == sorted(IDS)
    assert sum(bool(snapshot.special) for snapshot in every.values()) == 4
    expected = {store_id: snapshot for store_id, snapshot in every.items() if store_id in stores}
    assert await _snapshots(repo, stores) == expected


async def test_the_stores_split_into_nearly_equal_ranges_in_code_point_order(
    repo: Repository,
) -> None:
    """``split_stores`` cuts the stores with polls, in the order every backend streams
    them, into ranges whose snapshots together are the whole report's."""
    assert await repo.split_stores(3) == [StoreRange()]  # no store yet
    await _fill(repo)
    await repo.replace_zones([("no polls", "UTC")])  # a store without polls is no store
    every = await _snapshots(repo, None)
    for parts, min_stores, sizes in [(1, 1, [6]), (2, 1, [3, 3]), (4, 1, [1, 2, 1, 2]),
                                     (9, 1, [1] * 6), (3, 3, [3, 3]), (2, 4, [6])]:  # fmt: skip
        ranges = await repo.split_stores(parts, min_stores=min_stores)
        assert ranges[0].first is None
        assert ranges[-1].end is None
        parts_seen = [await _snapshots(repo, stores) for stores in ranges]
        assert [len(seen) for seen in parts_seen] == sizes
        assert [store for seen in parts_seen for store in sorted(seen)] == IDS  # in order
        assert {k: v for seen in parts_seen for k, v in seen.items()} == every


async def test_sqlite_splits_by_the_recent_stores_and_still_holds_every_store(
    tmp_path: Path,
) -> None:
    """SQLite cuts by the stores polled on the newest two days (a sample that costs the
    same on any history); a store polled only long before still falls in one range."""
    async with SQLiteRepository(str(tmp_path / "split.db")) as repo:
        recent = [f"r{number:02d}" for number in range(10)]
        await repo.add_polls(
            [(store_id, at_us("2024-01-07T10:00"), True) for store_id in recent]
            + [(store_id, at_us("2023-06-01T10:00"), False) for store_id in ("a", "r055", "z")]
        )
        ranges = await repo.split_stores(2)
        assert ranges == [StoreRange(None, "r05"), StoreRange("r05", None)]
        every = await _snapshots(repo, None)
        assert sorted(every) == sorted([*recent, "a", "r055", "z"])
        parts = [await _snapshots(repo, stores) for stores in ranges]
        assert sorted(store for part in parts for store in part) == sorted(every)
        assert await repo.split_stores(2, min_stores=6) == [StoreRange()]  # 10 recent


async def test_a_job_is_planned_once_in_ranges_of_at_most_n_stores(repo: Repository) -> None:
    """plan_shards splits the stores into the fewest ranges of at most N, as equal as they
    can be (6 stores at most 4 a shard: 3 and 3), in code point order, open at both ends;
    planning again keeps the shards."""
    await _fill(repo)
    await repo.create_report("r", as_of=AS_OF, created_at=SINCE)
    assert await repo.plan_shards("r", max_stores=4) == 2
    assert await repo.plan_shards("r", max_stores=1) == 2
    claimed = [await repo.claim_shard("w", lease=LONG) for _ in range(3)]
    assert [(shard.number, shard.stores) if shard else None for shard in claimed] == [
        (0, StoreRange(None, "a")),
        (1, StoreRange("a", None)),
        None,
    ]
    assert claimed[0] is not None
    assert (claimed[0].report_id, claimed[0].as_of) == ("r", AS_OF)


async def test_one_store_a_shard_and_no_store_at_all(repo: Repository) -> None:
    """max_stores 1 gives a shard per store; a job with no store gets no shard."""
    await repo.create_report("empty", as_of=AS_OF, created_at=SINCE)
    assert await repo.plan_shards("empty", max_stores=1) == 0
    assert await repo.shard_results("empty") == []
    await _fill(repo)
    await repo.create_report("r", as_of=AS_OF, created_at=SINCE)
    assert await repo.plan_shards("r", max_stores=1) == len(IDS)
    firsts = []
    while (shard := await repo.claim_shard("w", lease=LONG, report_id="r")) is not None:
        firsts.append(shard.stores.first)
    assert firsts == [None, *IDS[1:]]
    with pytest.raises(ReportNotFound):
        await repo.plan_shards("nope", max_stores=1)


async def test_shards_come_oldest_job_first_once_each(repo: Repository) -> None:
    """Claims return the shards of the oldest unfinished job first, lowest number first,
    each once; report_id keeps to one job; a finished job's shards are never claimed."""
    await _fill(repo)
    await repo.create_report("late", as_of=AS_OF, created_at=SINCE + dt.timedelta(minutes=1))
    await repo.create_report("early", as_of=AS_OF, created_at=SINCE)
    await repo.create_report("done", as_of=AS_OF, created_at=SINCE - dt.timedelta(minutes=1))
    for report_id in ("late", "early", "done"):
        assert await repo.plan_shards(report_id, max_stores=3) == 2
    await repo.finish_report("done", csv="store_id\n", finished_at=SINCE)
    only_late = await repo.claim_shard("w", lease=LONG, report_id="late")
    assert only_late is not None
    assert (only_late.report_id, only_late.number) == ("late", 0)
    claimed = [await repo.claim_shard(worker, lease=LONG) for worker in ("w1", "w2", "w1", "w2")]
    assert [(shard.report_id, shard.number) if shard else None for shard in claimed] == [
        ("early", 0),
        ("early", 1),
        ("late", 1),
        None,
    ]


async def test_only_the_holder_renews_or_releases_a_shard(repo: Repository) -> None:
    """Renewing or releasing a shard fails for any worker but its holder; a release puts
    it back for another to claim."""
    await _fill(repo)
    await repo.create_report("r", as_of=AS_OF, created_at=SINCE)
    await repo.plan_shards("r", max_stores=len(IDS))
    assert await repo.claim_shard("holder", lease=LONG) is not None
    assert not await repo.renew_shard("r", 0, "other", lease=LONG)
    assert await repo.renew_shard("r", 0, "holder", lease=LONG)
    assert not await repo.renew_shard("r", 1, "holder", lease=LONG)
    await repo.release_shard("r", 0, "other")
    assert await repo.claim_shard("other", lease=LONG) is None
    await repo.release_shard("r", 0, "holder")
    assert not await repo.renew_shard("r", 0, "holder", lease=LONG)
    taken = await repo.claim_shard("other", lease=LONG)
    assert taken is not None
    assert (taken.report_id, taken.number) == ("r", 0)


async def test_a_shard_whose_lease_ran_out_is_taken_over(repo: Repository) -> None:
    """A shard whose holder stopped renewing goes to another worker after its lease."""
    await _fill(repo)
    await repo.create_report("r", as_of=AS_OF, created_at=SINCE)
    await repo.plan_shards("r", max_stores=len(IDS))
    assert await repo.claim_shard("dead", lease=dt.timedelta(seconds=0.3)) is not None
    assert await repo.claim_shard("other", lease=LONG) is None
    await asyncio.sleep(0.4)
    taken = await repo.claim_shard("other", lease=LONG)
    assert taken is not None
    assert taken.number == 0
    assert not await repo.renew_shard("r", 0, "dead", lease=LONG)


async def test_results_come_once_every_shard_is_done(repo: Repository) -> None:
    """shard_results is None until every shard is Done, then the results in number order;
    a shard stored twice keeps its first result; ending the job deletes its shards."""
    await _fill(repo)
    await repo.create_report("r", as_of=AS_OF, created_at=SINCE)
    assert await repo.plan_shards("r", max_stores=2) == 3
    assert await repo.shard_results("r") is None
    second = ShardResult(1, "Z,1.00\na,2.00\n", ("store a: why", 'with "quotes"\nand a line'))
    assert await repo.finish_shard(second, report_id="r") == 2
    assert await repo.finish_shard(ShardResult(1, "other\n"), report_id="r") == 2
    assert await repo.finish_shard(ShardResult(0, ""), report_id="r") == 1
    assert await repo.shard_results("r") is None
    assert (await repo.claim_shard("w", lease=LONG)).number == 2  # type: ignore[union-attr]
    assert await repo.finish_shard(ShardResult(2, "é,0.00\n"), report_id="r") == 0
    assert await repo.shard_results("r") == [
        ShardResult(0, ""),
        second,
        ShardResult(2, "é,0.00\n"),
    ]
    assert await repo.claim_shard("w", lease=LONG) is None
    await repo.fail_report("r", error="x", finished_at=AS_OF)
    assert await repo.shard_results("r") == []
    assert (await repo.get_report("r")).status == ReportStatus.FAILED
    gone = await repo.finish_shard(ShardResult(0, "late\n"), report_id="r")
    assert gone == 0  # the job's shards are gone: nothing stored, none left
    assert await repo.shard_results("r") == []


async def test_exactly_one_finisher_stores_the_last_shard(repo: Repository) -> None:
    """Shards stored at once by many workers: exactly one of them is told none is left."""
    await _fill(repo)
    await repo.create_report("r", as_of=AS_OF, created_at=SINCE)
    assert await repo.plan_shards("r", max_stores=1) == len(IDS)
    left = await asyncio.gather(
        *(
            repo.finish_shard(ShardResult(number, f"{number}\n"), report_id="r")
            for number in range(len(IDS))
        )
    )
    assert sorted(left)[0] == 0
    assert left.count(0) == 1
    results = await repo.shard_results("r")
    assert results is not None
    assert [result.lines for result in results] == [f"{number}\n" for number in range(len(IDS))]


def test_store_ranges_cover_every_id_once() -> None:
    """The ranges of sorted starts hold every id, each in exactly one range."""
    ranges = store_ranges(["b", "d", "f"])
    assert ranges == [StoreRange(None, "d"), StoreRange("d", "f"), StoreRange("f", None)]
    for store_id in ["", "a", "b", "c", "d", "e", "f", "g", "é"]:
        assert sum(store_id in stores for stores in ranges) == 1
    assert store_ranges([]) == []
