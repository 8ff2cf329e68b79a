"""
``snapshot(store_id, ...)`` reads one store as ``snapshots`` yields it, with every poll, on
every backend.
"""

from __future__ import annotations

from storemon.repository import Repository

from .conftest import assert_thinned, at_us, hours, utc


async def test_one_store_equals_its_item_of_snapshots(repo: Repository) -> None:
    """Each store's snapshot is the one snapshots() yields (zone, hours) with every poll."""
    times = ["2024-01-01T00:00", "2024-01-02T00:00", "2024-01-03T00:00", "2024-01-09T00:00"]
    # Three polls of one status in a row: the middle one may be left out of snapshots().
    statuses = [True, False, False, False]
    await repo.add_polls([(s, at_us(t), statuses[i]) for s in "abc" for i, t in enumerate(times)])
    await repo.replace_hours([("b", hours(0, "09:00", "17:00")), ("c", hours(1, "22:00", "02:00"))])
    await repo.replace_zones([("a", "Asia/Kolkata"), ("c", "America/New_York")])
    since, as_of = utc("2024-01-01T12:00"), utc("2024-01-10T00:00")
    streamed = {s.store_id: s async for s in repo.snapshots(since=since, as_of=as_of)}
    for store_id, expected in streamed.items():
        got = await repo.snapshot(store_id, since=since, as_of=as_of)
        assert got is not None
        assert_thinned(expected, got)
        assert list(got.poll_at_us) == [at_us(t) for t in times]
        assert list(got.poll_active) == statuses
    assert set(streamed) == {"a", "b", "c"}


async def test_unknown_or_later_store_has_no_snapshot(repo: Repository) -> None:
    """A store with no poll at or before as_of, or no poll at all, has no snapshot."""
    await repo.add_polls([("late", at_us("2024-01-05T00:00"), True)])
    await repo.replace_zones([("ghost", "Europe/Berlin")])
    as_of = utc("2024-01-02T00:00")
    for store_id in ("late", "ghost", "nobody"):
        assert await repo.snapshot(store_id, since=utc("2023-12-26T00:00"), as_of=as_of) is None
