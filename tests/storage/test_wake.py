"""
The contract of ``ReportStore.wait_for_work`` on every backend: queuing report work (a job
created, shards planned, a job or shard handed back) wakes a waiter at once, a wake that
came while nobody waited is kept for the next wait, and without work the wait runs out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable

import pytest

from storemon.repository import Repository

from .conftest import at_us, utc

LONG = dt.timedelta(seconds=60)
AS_OF = utc("2024-01-08T00:00")
CREATED = utc("2024-01-07T00:00")
#: Seconds a waiter is given: far longer than a wake takes, far shorter than the wait.
PROMPT_S = 5.0
WAIT_S = 30.0


async def _drain(repo: Repository) -> None:
    """
    Consume the wakes so far (queuing in the set-up, and PostgreSQL's first listener, whose
    start wakes its waiters): the next wait is woken by what the test does only.
    """
    while await repo.wait_for_work(0.05):
        pass


async def _create(repo: Repository) -> None:
    await repo.create_report("new", as_of=AS_OF, created_at=CREATED)


async def _plan(repo: Repository) -> None:
    await repo.plan_shards("r", max_stores=1)


async def _release_report(repo: Repository) -> None:
    await repo.release_report("r", "w")


async def _release_shard(repo: Repository) -> None:
    await repo.release_shard("r", 0, "w")


async def _set_up(repo: Repository, action: str) -> None:
    await repo.add_polls([("a", at_us("2024-01-07T10:00"), True)])
    await repo.add_polls([("b", at_us("2024-01-07T10:00"), False)])
    await repo.create_report("r", as_of=AS_OF, created_at=CREATED)
    if action == "release_report":
        assert await repo.claim_report("w", lease=LONG) is not None
    if action == "release_shard":
        await repo.plan_shards("r", max_stores=1)
        assert await repo.claim_shard("w", lease=LONG) is not None


ACTIONS: dict[str, Callable[[Repository], Awaitable[None]]] = {
    "create_report": _create,
    "plan_shards": _plan,
    "release_report": _release_report,
    "release_shard": _release_shard,
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_queuing_work_wakes_a_waiter_at_once(repo: Repository, action: str) -> None:
    """A worker waiting (for 30 s) is woken within seconds by work this process queues."""
    await _set_up(repo, action)
    await _drain(repo)
    waiter = asyncio.ensure_future(repo.wait_for_work(WAIT_S))
    await asyncio.sleep(0.05)  # the waiter is waiting
    assert not waiter.done()
    started = time.monotonic()
    await ACTIONS[action](repo)
    assert await asyncio.wait_for(waiter, PROMPT_S) is True
    assert time.monotonic() - started < PROMPT_S


async def test_a_wake_with_no_waiter_is_kept_for_the_next_wait(repo: Repository) -> None:
    """Work queued while no one waits (the workers were busy) wakes the next wait at once."""
    await _set_up(repo, "create_report")
    await _drain(repo)
    await _create(repo)
    assert await asyncio.wait_for(repo.wait_for_work(WAIT_S), PROMPT_S) is True


async def test_without_work_the_wait_runs_out(repo: Repository) -> None:
    """No work queued: the wait returns False after its time, not before; so do
    claims and renewals, which queue nothing."""
    await _set_up(repo, "release_shard")
    await repo.renew_shard("r", 0, "w", lease=LONG)
    await _drain(repo)
    started = time.monotonic()
    assert await repo.wait_for_work(0.3) is False
    assert time.monotonic() - started >= 0.29
