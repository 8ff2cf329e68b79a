"""
The contract every storage backend keeps: every repository method, on memory, SQLite and
PostgreSQL (``BACKENDS`` in conftest.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt

import attrs
import pytest

from storemon.errors import ReportNotFound, StorageBusy
from storemon.model import (
    Rejected,
    ReportPosition,
    ReportStatus,
    ReportSummary,
    SourceState,
    StoreSnapshot,
)
from storemon.repository import Repository

from .conftest import assert_thinned, at_us, hours, utc

BIG_ID = "9222367421889482050"  # beyond 2**53: must stay a string
UUID_ID = "982bc638-5a9c-4a2b-9f3e-2f0f2c1b7e11"


async def _snapshots(repo: Repository, since: str, as_of: str) -> dict[str, StoreSnapshot]:
    return {
        snapshot.store_id: snapshot
        async for snapshot in repo.snapshots(since=utc(since), as_of=utc(as_of))
    }


async def test_empty_repository_has_no_latest_poll(repo: Repository) -> None:
    """An empty repository has no latest poll and no snapshots."""
    assert await repo.latest_poll_at() is None
    assert await _snapshots(repo, "2024-01-01T00:00", "2024-01-08T00:00") == {}


async def test_add_polls_counts_new_and_changed_rows(repo: Repository) -> None:
    """add_polls counts rows new or changed; the same rows again count nothing."""
    rows = [("s1", at_us("2024-01-01T10:00"), True), ("s1", at_us("2024-01-01T11:00"), False)]
    assert await repo.add_polls(rows) == 2
    assert await repo.add_polls(rows) == 0
    assert await repo.add_polls([("s1", at_us("2024-01-01T11:00"), True)]) == 1
    assert await repo.latest_poll_at() == utc("2024-01-01T11:00")


async def test_later_row_for_an_instant_wins(repo: Repository) -> None:
    """A later row for the same instant replaces the status, even within one call."""
    instant = at_us("2024-01-01T10:00")
    await repo.add_polls([("s1", instant, True), ("s1", instant, False)])
    snapshot = (await _snapshots(repo, "2024-01-01T00:00", "2024-01-02T00:00"))["s1"]
    assert list(snapshot.poll_at_us) == [instant]
    assert list(snapshot.poll_active) == [False]


async def test_snapshot_holds_window_polls_and_the_latest_before(repo: Repository) -> None:
    """A snapshot holds the polls in [since, as_of] plus the latest one before since."""
    times = ["2024-01-01T00:00", "2024-01-02T00:00", "2024-01-03T00:00", "2024-01-04T00:00"]
    await repo.add_polls([("s1", at_us(t), i % 2 == 0) for i, t in enumerate(reversed(times))])
    snapshots = await _snapshots(repo, "2024-01-02T12:00", "2024-01-03T00:00")
    snapshot = snapshots["s1"]
    assert list(snapshot.poll_at_us) == [at_us(times[1]), at_us(times[2])]
    assert list(snapshot.poll_active) == [True, False]


async def test_stores_without_polls_up_to_as_of_are_left_out(repo: Repository) -> None:
    """A store whose polls all come after as_of has no snapshot."""
    await repo.add_polls([("early", at_us("2024-01-01T00:00"), True)])
    await repo.add_polls([("late", at_us("2024-01-05T00:00"), True)])
    snapshots = await _snapshots(repo, "2023-12-25T00:00", "2024-01-02T00:00")
    assert set(snapshots) == {"early"}


async def test_snapshot_carries_zone_and_hours(repo: Repository) -> None:
    """Each snapshot carries its own store's zone key and hours rows, or none."""
    await repo.add_polls([(s, at_us("2024-01-01T00:00"), True) for s in ("a", "b", "c")])
    await repo.replace_hours([("b", hours(0, "09:00", "17:00")), ("c", hours(1, "22:00", "02:00"))])
    await repo.replace_zones([("a", "Asia/Kolkata"), ("c", "America/New_York")])
    snapshots = await _snapshots(repo, "2023-12-25T00:00", "2024-01-02T00:00")
    assert [(s.zone_key, s.hours) for _, s in sorted(snapshots.items())] == [
        ("Asia/Kolkata", ()),
        (None, (hours(0, "09:00", "17:00"),)),
        ("America/New_York", (hours(1, "22:00", "02:00"),)),
    ]


async def test_store_ids_stay_exact_strings(repo: Repository) -> None:
    """Store ids beyond 2**53 and UUIDs come back exactly as written."""
    await repo.add_polls([(BIG_ID, at_us("2024-01-01T00:00"), True)])
    await repo.add_polls([(UUID_ID, at_us("2024-01-01T00:00"), True)])
    await repo.replace_zones([(BIG_ID, "America/Denver")])
    snapshots = await _snapshots(repo, "2023-12-25T00:00", "2024-01-02T00:00")
    assert set(snapshots) == {BIG_ID, UUID_ID}
    assert snapshots[BIG_ID].zone_key == "America/Denver"


async def test_hours_round_trip_exactly(repo: Repository) -> None:
    """Hours rows come back equal, including fractions of seconds and a 24:00 end."""
    rows = [
        ("s", hours(0, "00:00", "24:00")),
        ("s", hours(1, "09:30:15.250000", "23:59:59")),
        ("s", hours(2, "22:00", "00:00")),
        ("t", hours(6, "05:00", "05:00")),
    ]
    await repo.replace_hours(rows)
    assert sorted(await repo.hours_rows()) == sorted(rows)


async def test_replace_hours_replaces_every_row(repo: Repository) -> None:
    """Replacing hours drops the rows of stores missing from the new snapshot."""
    await repo.replace_hours([("a", hours(0, "09:00", "17:00")), ("b", hours(0, "10:00", "11:00"))])
    await repo.replace_hours([("b", hours(1, "10:00", "12:00"))])
    assert await repo.hours_rows() == [("b", hours(1, "10:00", "12:00"))]


async def test_replace_zones_later_row_wins(repo: Repository) -> None:
    """Replacing zones keeps one zone per store, the later row's."""
    await repo.replace_zones([("a", "UTC")])
    await repo.replace_zones([("b", "UTC"), ("b", "Asia/Kolkata")])
    assert await repo.zone_rows() == [("b", "Asia/Kolkata")]


async def test_failed_transaction_leaves_nothing(repo: Repository) -> None:
    """An exception inside a transaction undoes every write made in it."""
    await repo.add_polls([("a", at_us("2024-01-01T00:00"), True)])
    await repo.replace_zones([("a", "UTC")])

    async def write_then_fail() -> None:
        async with repo.transaction():
            await repo.add_polls([("a", at_us("2024-01-01T00:00"), False), ("b", 5, True)])
            await repo.replace_zones([])
            await repo.replace_hours([("a", hours(0, "09:00", "10:00"))])
            await repo.save_source_state(_state("x"))
            await repo.add_rejects([_reject("x", 2)], ingested_at=utc("2024-01-01T00:00"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await write_then_fail()
    snapshots = await _snapshots(repo, "2023-12-25T00:00", "2024-01-02T00:00")
    assert set(snapshots) == {"a"}
    assert list(snapshots["a"].poll_active) == [True]
    assert await repo.zone_rows() == [("a", "UTC")]
    assert await repo.hours_rows() == []
    assert await repo.source_state("status", "x") is None
    assert await repo.rejects() == []


async def test_committed_transaction_keeps_everything(repo: Repository) -> None:
    """Writes inside a transaction that ends normally are all kept."""
    async with repo.transaction():
        assert await repo.add_polls([("a", 1, True)]) == 1
        await repo.save_source_state(_state("x"))
    assert await repo.source_state("status", "x") == _state("x")
    assert await repo.latest_poll_at() is not None


def _state(source: str, **changes: object) -> SourceState:
    values: dict[str, object] = {
        "kind": "status",
        "source": source,
        "size": 100,
        "content_hash": "c" * 64,
        "offset": 90,
        "prefix_hash": "p" * 64,
        "lines": 3,
        "ingested_at": utc("2024-01-01T00:00:00.123456"),
        "mtime_ns": 1_700_000_000_123_456_789,
        "etag": None,
        "last_modified": None,
    }
    values.update(changes)
    return SourceState(**values)  # type: ignore[arg-type]


def _reject(source: str, line: int) -> Rejected:
    return Rejected(source, line, "status", "status must be 'active' or 'inactive'", "a,b,c")


async def test_source_state_round_trips_and_is_replaced(repo: Repository) -> None:
    """A saved source state comes back equal and a later save for the source replaces it."""
    assert await repo.source_state("status", "/data/a.csv") is None
    await repo.save_source_state(_state("/data/a.csv"))
    url_state = _state("http://x/a.csv", mtime_ns=None, etag='"abc"', last_modified="Mon")
    await repo.save_source_state(url_state)
    assert await repo.source_state("status", "/data/a.csv") == _state("/data/a.csv")
    assert await repo.source_state("status", "http://x/a.csv") == url_state
    assert await repo.source_state("timezones", "/data/a.csv") is None
    await repo.save_source_state(_state("/data/a.csv", size=200))
    assert (await repo.source_state("status", "/data/a.csv")).size == 200  # type: ignore[union-attr]


async def test_rejects_are_kept_listed_and_cleared_per_source(repo: Repository) -> None:
    """Rejected rows are kept in source and line order and cleared one source at a time."""
    at = utc("2024-01-01T00:00")
    whole_row = Rejected("b.csv", 4, None, "expected 3 fields, found 2", "x,y")
    assert await repo.add_rejects([_reject("b.csv", 9), whole_row], ingested_at=at) == 2
    assert await repo.add_rejects([_reject("a.csv", 2)], ingested_at=at) == 1
    assert await repo.rejects() == [_reject("a.csv", 2), whole_row, _reject("b.csv", 9)]
    assert await repo.rejects("b.csv") == [whole_row, _reject("b.csv", 9)]
    await repo.clear_rejects("b.csv")
    assert await repo.rejects() == [_reject("a.csv", 2)]


async def test_snapshots_leave_out_only_polls_that_change_no_number(repo: Repository) -> None:
    """A long run of one status may be thinned, but never its ends nor a change of status."""
    statuses = [True] * 6 + [False] * 5 + [True] + [False] * 4
    times = [at_us("2024-01-01T00:00") + minute * 60_000_000 for minute in range(len(statuses))]
    await repo.add_polls(list(zip(["s"] * len(times), times, statuses, strict=True)))
    await repo.replace_zones([("s", "Asia/Kolkata")])
    [thin] = (await _snapshots(repo, "2024-01-01T00:00", "2024-01-02T00:00")).values()
    full = StoreSnapshot(
        store_id="s", zone_key="Asia/Kolkata", hours=(), poll_at_us=times, poll_active=statuses
    )
    assert_thinned(thin, full)
    one = await repo.snapshot("s", since=utc("2024-01-01T00:00"), as_of=utc("2024-01-02T00:00"))
    assert one is not None
    assert (list(one.poll_at_us), list(one.poll_active)) == (times, statuses)


async def test_replace_hours_counts_rows_not_stored_before(repo: Repository) -> None:
    """replace_hours returns the rows (each repeat) that the table did not hold."""
    monday, tuesday = hours(0, "09:00", "17:00"), hours(1, "09:00", "17:00")
    first = [("a", monday), ("a", monday), ("b", tuesday)]
    assert await repo.replace_hours(iter(first)) == 3
    assert await repo.replace_hours(iter(first)) == 0
    assert await repo.replace_hours(iter([("a", monday), ("a", tuesday), ("c", monday)])) == 2
    assert sorted(await repo.hours_rows()) == [("a", monday), ("a", tuesday), ("c", monday)]
    assert await repo.replace_hours(iter([])) == 0
    assert await repo.hours_rows() == []


async def test_replace_zones_counts_rows_that_change_a_zone(repo: Repository) -> None:
    """replace_zones returns the rows (each repeat) whose zone is not the stored one."""
    assert await repo.replace_zones(iter([("a", "UTC"), ("b", "Asia/Kolkata")])) == 2
    assert await repo.replace_zones(iter([("a", "UTC"), ("b", "Asia/Kolkata")])) == 0
    rows = [("a", "UTC"), ("b", "Europe/Berlin"), ("c", "UTC"), ("c", "Asia/Tokyo")]
    assert await repo.replace_zones(iter(rows)) == 3
    assert sorted(await repo.zone_rows()) == [
        ("a", "UTC"),
        ("b", "Europe/Berlin"),
        ("c", "Asia/Tokyo"),
    ]


async def test_ping_answers(repo: Repository) -> None:
    """An open repository answers a ping."""
    assert await repo.ping() is None


async def test_report_jobs_move_through_their_states(repo: Repository) -> None:
    """A report job goes Pending -> Running (claimed) -> Complete and keeps its CSV and times."""
    created = utc("2024-01-01T00:00:00.5")
    job = await repo.create_report("r1", as_of=utc("2023-12-31T23:00"), created_at=created)
    assert (job.status, job.as_of, job.created_at) == (
        ReportStatus.PENDING,
        utc("2023-12-31T23:00"),
        created,
    )
    assert await repo.get_report("r1") == job
    claimed = await repo.claim_report("w", lease=dt.timedelta(seconds=60))
    assert claimed == attrs.evolve(job, status=ReportStatus.RUNNING)
    assert await repo.get_report("r1") == claimed
    finished = created + dt.timedelta(seconds=3)
    await repo.finish_report("r1", csv="store_id\n", finished_at=finished)
    done = await repo.get_report("r1")
    assert (done.status, done.csv, done.finished_at, done.error) == (
        ReportStatus.COMPLETE,
        "store_id\n",
        finished,
        None,
    )


async def test_failed_reports_keep_their_reason(repo: Repository) -> None:
    """A failed job keeps its reason and no CSV; ending it again changes nothing."""
    base = utc("2024-01-01T00:00")
    await repo.create_report("bad", as_of=None, created_at=base)
    await repo.fail_report("bad", error="no polls", finished_at=base + dt.timedelta(minutes=3))
    await repo.finish_report("bad", csv="store_id\n", finished_at=base + dt.timedelta(minutes=4))
    failed = await repo.get_report("bad")
    assert (failed.status, failed.error, failed.as_of, failed.csv, failed.finished_at) == (
        ReportStatus.FAILED,
        "no polls",
        None,
        None,
        base + dt.timedelta(minutes=3),
    )


async def test_unknown_report_is_not_found(repo: Repository) -> None:
    """Reading or ending an unknown report raises ReportNotFound."""
    at = utc("2024-01-01T00:00")
    with pytest.raises(ReportNotFound):
        await repo.get_report("nope")
    with pytest.raises(ReportNotFound):
        await repo.finish_report("nope", csv="store_id\n", finished_at=at)
    with pytest.raises(ReportNotFound):
        await repo.fail_report("nope", error="x", finished_at=at)


async def _create(repo: Repository, *ids_and_minutes: tuple[str, int]) -> None:
    base = utc("2024-01-01T00:00")
    for report_id, minutes in ids_and_minutes:
        created_at = base + dt.timedelta(minutes=minutes)
        await repo.create_report(report_id, as_of=base, created_at=created_at)


LONG = dt.timedelta(seconds=60)


async def test_claims_come_oldest_first_once_each(repo: Repository) -> None:
    """Claims return the Pending jobs oldest first, each once, then None; the count follows."""
    assert await repo.claim_report("w", lease=LONG) is None
    await _create(repo, ("late", 2), ("early", 0), ("middle", 1))
    assert await repo.queued_reports() == 3
    claimed = [await repo.claim_report(worker, lease=LONG) for worker in ("w1", "w2", "w1")]
    assert [(job.report_id, job.status) if job else None for job in claimed] == [
        ("early", ReportStatus.RUNNING),
        ("middle", ReportStatus.RUNNING),
        ("late", ReportStatus.RUNNING),
    ]
    assert await repo.claim_report("w3", lease=LONG) is None
    assert await repo.queued_reports() == 0
    assert (await repo.get_report("middle")).status == ReportStatus.RUNNING


async def test_only_the_holder_renews_or_releases(repo: Repository) -> None:
    """Renewing or releasing a job fails for any worker but its holder; a release requeues it."""
    await _create(repo, ("r", 0))
    assert await repo.claim_report("holder", lease=LONG) is not None
    assert not await repo.renew_lease("r", "other", lease=LONG)
    assert await repo.renew_lease("r", "holder", lease=LONG)
    assert not await repo.renew_lease("nope", "holder", lease=LONG)
    await repo.release_report("r", "other")
    assert (await repo.get_report("r")).status == ReportStatus.RUNNING
    assert await repo.claim_report("other", lease=LONG) is None
    await repo.release_report("r", "holder")
    assert (await repo.get_report("r")).status == ReportStatus.PENDING
    assert await repo.queued_reports() == 1
    assert not await repo.renew_lease("r", "holder", lease=LONG)  # Pending: held by no one
    taken = await repo.claim_report("other", lease=LONG)
    assert taken is not None
    assert taken.report_id == "r"


async def test_a_job_whose_lease_ran_out_is_taken_over(repo: Repository) -> None:
    """After its lease runs out a job goes to another worker; the first can neither renew
    nor overwrite the report the second finished."""
    await _create(repo, ("r", 0), ("next", 1))
    short = dt.timedelta(seconds=0.3)
    assert (await repo.claim_report("dead", lease=short)).report_id == "r"  # type: ignore[union-attr]
    assert (await repo.claim_report("other", lease=LONG)).report_id == "next"  # type: ignore[union-attr]
    assert await repo.claim_report("other", lease=LONG) is None
    await asyncio.sleep(0.4)
    taken = await repo.claim_report("other", lease=LONG)
    assert taken is not None
    assert taken.report_id == "r"
    assert not await repo.renew_lease("r", "dead", lease=LONG)
    finished = utc("2024-01-01T01:00")
    await repo.finish_report("r", csv="store_id\na\n", finished_at=finished)
    await repo.fail_report("r", error="late", finished_at=finished + dt.timedelta(minutes=1))
    await repo.finish_report("r", csv="store_id\n", finished_at=finished + dt.timedelta(minutes=2))
    done = await repo.get_report("r")
    assert (done.status, done.csv, done.error, done.finished_at) == (
        ReportStatus.COMPLETE,
        "store_id\na\n",
        None,
        finished,
    )
    await repo.release_report("r", "other")  # ended: nothing to hand back
    assert (await repo.get_report("r")).status == ReportStatus.COMPLETE


async def test_the_refresh_is_claimed_once_per_interval(repo: Repository) -> None:
    """claim_refresh answers True once per interval: again only after it has passed."""
    hour = dt.timedelta(hours=1)
    assert await repo.claim_refresh(hour)
    assert not await repo.claim_refresh(hour)
    await asyncio.sleep(0.25)
    assert not await repo.claim_refresh(hour)
    assert await repo.claim_refresh(dt.timedelta(seconds=0.2))
    assert not await repo.claim_refresh(dt.timedelta(seconds=0.2))


async def test_reports_are_listed_newest_first_without_their_csv(repo: Repository) -> None:
    """list_reports pages newest first with states, times and row counts, never a CSV."""
    await _create(repo, ("a", 0), ("b", 1), ("c", 2), ("d", 3))
    base = utc("2024-01-01T00:00")
    await repo.finish_report("a", csv="store_id,x\n1,2\n3,4\n", finished_at=base)
    await repo.fail_report("b", error="boom", finished_at=base)
    await repo.claim_report("w", lease=LONG)  # "c", the oldest unfinished one
    await repo.finish_report("c", csv="store_id,x\n", finished_at=base)
    newest = await repo.list_reports(3)
    assert newest == [
        ReportSummary("d", ReportStatus.PENDING, base, base + dt.timedelta(minutes=3), None, None),
        ReportSummary("c", ReportStatus.COMPLETE, base, base + dt.timedelta(minutes=2), base, 0),
        ReportSummary("b", ReportStatus.FAILED, base, base + dt.timedelta(minutes=1), base, None),
    ]
    older = await repo.list_reports(3, before=newest[-1].position)
    assert older == [ReportSummary("a", ReportStatus.COMPLETE, base, base, base, 2)]
    assert await repo.list_reports(0) == []
    assert await repo.list_reports(10, before=ReportPosition(base, "")) == []


async def test_reports_created_at_one_instant_page_exactly(repo: Repository) -> None:
    """Reports created at one instant come in id order, each once, whatever the page size."""
    # Ids whose code point order differs from a locale's ("B" < "a" < "b", "-" < "0").
    await _create(repo, ("a", 1), ("B", 1), ("b", 1), ("-x", 1), ("0x", 1), ("late", 2))
    await _create(repo, ("early", 0))
    expected = ["late", "b", "a", "B", "0x", "-x", "early"]
    assert [job.report_id for job in await repo.list_reports(10)] == expected
    for size in (1, 2, 3):
        seen: list[str] = []
        before = None
        while page := await repo.list_reports(size, before=before):
            assert len(page) <= size
            seen += [job.report_id for job in page]
            before = page[-1].position
        assert seen == expected, size


async def test_listing_before_a_place_skips_it_and_everything_newer(repo: Repository) -> None:
    """Before (instant, id) lists reports created earlier, or at that instant with a lesser id."""
    await _create(repo, ("m", 1), ("c", 1), ("x", 1), ("old", 0), ("new", 2))
    instant = utc("2024-01-01T00:01")

    async def ids(before: ReportPosition) -> list[str]:
        return [job.report_id for job in await repo.list_reports(10, before=before)]

    assert await ids(ReportPosition(instant, "m")) == ["c", "old"]
    assert await ids(ReportPosition(instant, "n")) == ["m", "c", "old"]  # no such report
    assert await ids(ReportPosition(instant, "")) == ["old"]
    assert await ids(ReportPosition(instant + dt.timedelta(microseconds=1), "")) == [
        "x",
        "m",
        "c",
        "old",
    ]


async def test_finished_reports_are_deleted_before_a_cutoff(repo: Repository) -> None:
    """delete_reports removes only Complete and Failed jobs finished before the cutoff."""
    await _create(repo, ("old", 0), ("failed", 1), ("recent", 2), ("running", 3), ("pending", 4))
    base = utc("2024-01-01T00:00")
    await repo.finish_report("old", csv="store_id\n", finished_at=base)
    await repo.fail_report("failed", error="x", finished_at=base + dt.timedelta(minutes=1))
    await repo.finish_report("recent", csv="store_id\n", finished_at=base + dt.timedelta(hours=2))
    assert (await repo.claim_report("w", lease=LONG)).report_id == "running"  # type: ignore[union-attr]
    assert await repo.delete_reports(base + dt.timedelta(hours=1)) == 2
    assert [job.report_id for job in await repo.list_reports(10)] == [
        "pending",
        "running",
        "recent",
    ]
    with pytest.raises(ReportNotFound):
        await repo.get_report("old")
    assert await repo.delete_reports(base + dt.timedelta(hours=1)) == 0


async def test_replace_store_hours_replaces_one_store_only(repo: Repository) -> None:
    """replace_store_hours replaces one store's rows, counts the new ones, leaves the rest."""
    await repo.replace_hours(
        [("s1", hours(0, "09:00", "17:00")), ("s2", hours(1, "10:00", "12:00"))]
    )
    new_rows = [hours(0, "09:00", "17:00"), hours(2, "22:00", "24:00"), hours(2, "22:00", "24:00")]
    # One row was stored before; the repeated new row counts each time.
    assert await repo.replace_store_hours("s1", new_rows) == 2
    stored = sorted(await repo.hours_rows(), key=lambda item: (item[0], item[1].day))
    assert stored == [
        ("s1", hours(0, "09:00", "17:00")),
        ("s1", hours(2, "22:00", "24:00")),
        ("s2", hours(1, "10:00", "12:00")),
    ]
    assert await repo.snapshot_rows("business_hours") == 3
    assert await repo.replace_store_hours("s1", new_rows[:2]) == 0
    # No rows: the store has none left (open 24x7); a store never seen gets its rows.
    assert await repo.replace_store_hours("s1", []) == 0
    assert await repo.replace_store_hours(BIG_ID, [hours(6, "00:00", "01:30")]) == 1
    assert sorted(await repo.hours_rows(), key=lambda item: item[0]) == [
        (BIG_ID, hours(6, "00:00", "01:30")),
        ("s2", hours(1, "10:00", "12:00")),
    ]


async def test_replace_store_zone_sets_one_store_and_says_if_it_changed(repo: Repository) -> None:
    """replace_store_zone sets one store's zone; True when it differs from the stored one."""
    await repo.replace_zones([("s1", "America/Chicago"), ("s2", "Asia/Tokyo")])
    assert await repo.replace_store_zone("s1", "America/New_York") is True
    assert await repo.replace_store_zone("s1", "America/New_York") is False
    assert await repo.replace_store_zone(UUID_ID, "Europe/Berlin") is True
    assert sorted(await repo.zone_rows()) == [
        (UUID_ID, "Europe/Berlin"),
        ("s1", "America/New_York"),
        ("s2", "Asia/Tokyo"),
    ]
    await repo.add_polls([("s1", at_us("2024-01-01T10:00"), True)])
    snapshot = (await _snapshots(repo, "2024-01-01T00:00", "2024-01-02T00:00"))["s1"]
    assert snapshot.zone_key == "America/New_York"


async def test_a_waiting_request_gives_up_on_a_held_write_lock(repo: Repository) -> None:
    """transaction(wait=...) raises StorageBusy while another writer holds the lock, and
    writes as usual once it is free."""
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with repo.transaction():
            await repo.add_polls([("s1", at_us("2024-01-01T10:00"), True)])
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    started = asyncio.get_running_loop().time()
    with pytest.raises(StorageBusy):
        async with repo.transaction(wait=dt.timedelta(seconds=0.2)):
            await repo.add_polls([("s2", at_us("2024-01-01T10:00"), True)])
    waited = asyncio.get_running_loop().time() - started
    assert 0.15 <= waited < 2.0
    release.set()
    await holder
    async with repo.transaction(wait=dt.timedelta(seconds=0.2)):
        assert await repo.add_polls([("s2", at_us("2024-01-01T10:00"), True)]) == 1
    assert sorted(await _snapshots(repo, "2024-01-01T00:00", "2024-01-02T00:00")) == ["s1", "s2"]
