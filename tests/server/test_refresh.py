"""
The refresh loop: start-up ingest, ticks on a fixed grid, failures retried, never fatal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import pytest

from storemon.errors import SourceError
from storemon.model import from_epoch_us, to_epoch_us
from storemon.testing import InMemoryRepository, ManualClock
from storemon_server.jobs import IngestLoop
from storemon_server.keys import INGEST
from storemon_server.schedule import next_run
from tests.server.conftest import wait_for

T0 = dt.datetime(2024, 3, 10, 7, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def test_next_run_is_the_next_tick_on_the_grid() -> None:
    """next_run returns the first anchor + k*every strictly after the given instant."""
    assert next_run(T0, HOUR, anchor=T0) == T0 + HOUR
    assert next_run(T0 + dt.timedelta(minutes=59), HOUR, anchor=T0) == T0 + HOUR
    assert next_run(T0 + HOUR, HOUR, anchor=T0) == T0 + 2 * HOUR
    # A run that overran two ticks skips them instead of running back to back.
    assert next_run(T0 + dt.timedelta(hours=2, minutes=5), HOUR, anchor=T0) == T0 + 3 * HOUR
    assert next_run(T0 - dt.timedelta(days=1), HOUR, anchor=T0) == T0 + HOUR


def test_next_run_refuses_a_non_positive_interval() -> None:
    """A zero or negative interval is refused."""
    with pytest.raises(ValueError, match="positive"):
        next_run(T0, dt.timedelta(0), anchor=T0)


class Driver:
    """
    An injected sleep that advances a manual clock and lets the test step the loop.
    """

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []
        self.step = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await self.step.wait()
        self.step.clear()
        self.clock.advance(dt.timedelta(seconds=seconds))


async def test_failed_refresh_is_recorded_and_retried_next_tick() -> None:
    """A failing ingest is recorded in last, the loop goes on, and the next tick succeeds."""
    clock = ManualClock(T0)
    driver = Driver(clock)
    outcomes: list[Any] = [SourceError("store_status.csv: cannot open"), {"status": {"rows": 5}}]

    async def ingest() -> dict[str, Any]:
        clock.advance(dt.timedelta(minutes=10))  # an ingest takes time
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return dict(outcome)

    claim = InMemoryRepository(clock=clock).claim_refresh
    loop = IngestLoop(ingest, claim=claim, every=HOUR, clock=clock, sleep=driver)
    assert not loop.ready.is_set()
    loop.start()
    await asyncio.wait_for(loop.ready.wait(), 5)
    assert loop.last is not None
    assert loop.last["ok"] is False
    assert loop.last["error"] == "store_status.csv: cannot open"
    assert driver.sleeps == [50 * 60]  # the next tick is T0 + 1h, not 1h after the end

    driver.step.set()
    await wait_for(lambda: len(driver.sleeps) == 2)
    assert loop.last["ok"] is True
    assert loop.last["sources"] == {"status": {"rows": 5}}
    assert loop.last["started_at"] == (T0 + HOUR).isoformat()
    assert driver.sleeps[1] == 50 * 60
    await loop.stop()


async def test_unexpected_ingest_error_does_not_stop_the_loop() -> None:
    """A non-storemon exception in an ingest is logged, recorded generically, and survived."""
    clock = ManualClock(T0)
    driver = Driver(clock)

    async def ingest() -> dict[str, Any]:
        raise RuntimeError("/private/detail")

    claim = InMemoryRepository(clock=clock).claim_refresh
    loop = IngestLoop(ingest, claim=claim, every=HOUR, clock=clock, sleep=driver)
    loop.start()
    await asyncio.wait_for(loop.ready.wait(), 5)
    assert loop.last is not None
    assert "RuntimeError" in loop.last["error"]
    assert "private" not in loop.last["error"]
    driver.step.set()
    await wait_for(lambda: len(driver.sleeps) == 2)
    await loop.stop()


async def test_without_sources_the_server_is_ready_at_once() -> None:
    """With nothing to ingest the loop is ready immediately and starts no task."""
    loop = IngestLoop(None, claim=InMemoryRepository().claim_refresh, every=HOUR)
    assert loop.ready.is_set()
    loop.start()
    await loop.stop()
    assert loop.last is None


async def test_a_tick_within_the_interval_of_another_refresh_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A loop whose database saw a refresh less than an interval ago skips its tick."""
    clock = ManualClock(T0)
    repository = InMemoryRepository(clock=clock)
    ingested: list[dt.datetime] = []

    async def ingest() -> dict[str, Any]:
        ingested.append(clock.now)
        return {}

    # Another process on the same database refreshed 40 minutes ago.
    assert await repository.claim_refresh(HOUR)
    clock.advance(dt.timedelta(minutes=40))
    loop = IngestLoop(ingest, claim=repository.claim_refresh, every=HOUR, clock=clock)
    with caplog.at_level(logging.INFO, logger="storemon_server.jobs"):
        await loop.refresh()
    assert ingested == []
    assert loop.last is None
    assert any("ingest.skipped" in record.getMessage() for record in caplog.records)
    # Timers fire a little early: 59 minutes after the last refresh is within the tolerance
    # (a tenth of the interval, at most a minute), and counts as due; 58 is not.
    clock.advance(dt.timedelta(minutes=18))
    await loop.refresh()
    assert ingested == []
    clock.advance(dt.timedelta(minutes=1))
    await loop.refresh()
    assert ingested == [T0 + dt.timedelta(minutes=59)]
    assert loop.last is not None
    assert loop.last["ok"] is True


async def test_a_refresh_prunes_after_ingesting_and_survives_a_failed_prune() -> None:
    """Each refresh runs the prune after the ingest; a failing prune is recorded and the
    next tick prunes again."""
    clock = ManualClock(T0)
    driver = Driver(clock)
    calls: list[str] = []
    outcomes: list[Any] = [SourceError("the database is busy"), {"polls_deleted": 7}]

    async def ingest() -> dict[str, Any]:
        calls.append("ingest")
        return {}

    async def prune() -> dict[str, Any]:
        calls.append("prune")
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return dict(outcome)

    claim = InMemoryRepository(clock=clock).claim_refresh
    loop = IngestLoop(ingest, claim=claim, every=HOUR, clock=clock, sleep=driver, prune=prune)
    loop.start()
    await wait_for(lambda: len(driver.sleeps) == 1)
    assert calls == ["ingest", "prune"]
    assert loop.last_prune == {"ok": False, "error": "the database is busy"}
    driver.step.set()
    await wait_for(lambda: len(driver.sleeps) == 2)
    assert calls == ["ingest", "prune"] * 2
    assert loop.last_prune == {"ok": True, "error": None, "polls_deleted": 7}
    await loop.stop()


async def test_without_sources_there_is_no_refresh_and_no_prune() -> None:
    """Retention runs after a refresh: a server without sources starts no loop at all."""
    pruned: list[bool] = []

    async def prune() -> dict[str, Any]:
        pruned.append(True)
        return {}

    loop = IngestLoop(None, claim=InMemoryRepository().claim_refresh, every=HOUR, prune=prune)
    assert loop.ready.is_set()
    loop.start()
    await asyncio.sleep(0.05)
    await loop.stop()
    assert pruned == []
    assert loop.last_prune is None


async def test_a_server_with_retention_prunes_after_its_refresh(make_client: Any) -> None:
    """storemon serve --retention 1w --keep-reports 30d: the refresh deletes the polls
    more than a week before the newest (but each store's latest before that) and the
    reports that finished over 30 days ago; the newer ones stay."""
    repository = InMemoryRepository()
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    polls = [
        ("s", to_epoch_us(start + day * dt.timedelta(days=1)), day % 3 != 0) for day in range(21)
    ]
    await repository.add_polls(polls)
    now = dt.datetime.now(dt.UTC)
    for name, age in (("old", 45), ("new", 2)):
        await repository.create_report(name, as_of=None, created_at=now - dt.timedelta(days=age))
        await repository.finish_report(
            name, csv="store_id\n", finished_at=now - dt.timedelta(days=age)
        )

    async def no_sources() -> dict[str, Any]:
        return {}

    client = await make_client(
        repository=repository,
        ingest_sources=no_sources,
        retention=7 * 24 * 3600.0,
        keep_reports=30 * 24 * 3600.0,
    )
    loop = client.app[INGEST]
    await wait_for(lambda: loop.last_prune is not None)
    assert loop.last_prune["ok"] is True
    assert loop.last_prune["polls_deleted"] == 12  # days 0-12 are before day 13; 12 stays
    assert loop.last_prune["reports_deleted"] == 1
    snapshot = await repository.snapshot("s", since=start, as_of=start + dt.timedelta(days=30))
    assert snapshot is not None
    assert [from_epoch_us(at).day for at in snapshot.poll_at_us] == list(range(13, 22))
    assert [job.report_id for job in await repository.list_reports(10)] == ["new"]
