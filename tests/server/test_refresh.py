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
from storemon.testing import InMemoryRepository, ManualClock
from storemon_server.jobs import IngestLoop
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
