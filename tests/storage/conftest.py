"""
Storage fixtures: every backend the contract suite runs against, and small data builders.

Adding a backend to the contract suite is one entry in ``BACKENDS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from storemon.model import HoursRow, StoreSnapshot
from storemon.repository import Repository
from storemon.storage import open_repository
from tests.postgres import support as postgres

#: Backend name -> function of a fresh temporary folder returning a database URL.
BACKENDS: dict[str, Callable[[Path], str]] = {
    "memory": lambda _tmp: "memory://",
    "sqlite": lambda tmp: f"sqlite:///{tmp}/storemon.db",
    # A fresh schema per test in $STOREMON_TEST_POSTGRES_URL (tests/postgres/support.py);
    # skips without a server, fails then when STOREMON_REQUIRE_POSTGRES is set.
    "postgres": lambda _tmp: postgres.fresh_url(),
}
#: Cleanup after a test, per backend (only what the test created).
DROP: dict[str, Callable[[str], None]] = {"postgres": postgres.drop_schema}


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [])
        for name in sorted(BACKENDS)
    ]
)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """
    The URL of a fresh database of each backend in turn.
    """
    url = BACKENDS[request.param](tmp_path)
    yield url
    if request.param in DROP:
        DROP[request.param](url)


@pytest.fixture
async def repo(backend_url: str) -> AsyncIterator[Repository]:
    """
    An open, empty repository of each backend in turn.
    """
    async with open_repository(backend_url) as repository:
        yield repository


def at_us(text: str) -> int:
    """
    Microseconds since the epoch of an ISO 8601 UTC instant such as ``2024-01-01T12:00``.
    """
    instant = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return (instant - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def utc(text: str) -> dt.datetime:
    """
    The aware UTC datetime of an ISO 8601 text without offset.
    """
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def hours(day: int, start: str, end: str) -> HoursRow:
    """
    A business-hours row from ``HH:MM[:SS]`` texts; ``24:00`` ends at midnight.
    """
    if end.startswith("24"):
        return HoursRow(day, dt.time.fromisoformat(start), dt.time(0), end_is_midnight=True)
    return HoursRow(day, dt.time.fromisoformat(start), dt.time.fromisoformat(end))


def assert_thinned(thin: StoreSnapshot, full: StoreSnapshot) -> None:
    """
    Check that ``thin`` is ``full`` with at most the polls left out that the contract of
    ``snapshots`` permits: never the first or last, only one whose status equals both
    neighbours' in ``full``.
    """
    assert (thin.store_id, thin.zone_key) == (full.store_id, full.zone_key)
    assert sorted(thin.hours) == sorted(full.hours)
    times, statuses = list(full.poll_at_us), list(full.poll_active)
    kept = dict(zip(thin.poll_at_us, thin.poll_active, strict=True))
    assert list(kept) == sorted(set(kept) & set(times)), "polls out of order or invented"
    assert times[0] in kept
    assert times[-1] in kept
    for index, at in enumerate(times):
        if at in kept:
            assert kept[at] is statuses[index]
        else:
            assert statuses[index - 1] is statuses[index] is statuses[index + 1], at


def upsert(stored: dict[tuple[str, int], bool], batch: list[tuple[str, int, bool]]) -> int:
    """
    The rule of a row per poll: rows in order, the later wins, a row counts when its
    instant is new or its status changes.
    """
    changed = 0
    for store_id, at, active in batch:
        if stored.get((store_id, at)) is not active:
            stored[(store_id, at)] = active
            changed += 1
    return changed
