"""
SQLite's ``snapshots``: the thin stream (one string per range of stores from SQL), which
leaves out only polls the contract permits and gives the same report as every poll.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from storemon.model import WEEK_US, from_epoch_us
from storemon.report import compute_report
from storemon.service import build_report
from storemon.storage import polldays, sqlite
from storemon.storage.memory import InMemoryRepository
from storemon.storage.sqlite import SQL, SQLiteRepository

from .conftest import assert_thinned, at_us, hours


async def test_thin_snapshots_give_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thinned snapshots (odd ids, a store polled before 1970) report what every poll does."""
    monkeypatch.setattr(sqlite, "CHANGE_STORES", 7)  # several ranges
    rng = random.Random(5)
    start = at_us("2024-01-01T00:00")
    polls = []
    for store in range(30):
        at = start - rng.randrange(3 * WEEK_US)
        for _ in range(rng.randrange(1, 80)):
            at += rng.randrange(1, 4 * 3_600_000_000)
            polls.append((f"s{store:02d}:1:{store}", at, rng.random() < 0.8))
    polls.append(("old", -5_000_000, True))  # 1969: a negative instant, two's complement
    rng.shuffle(polls)
    as_of = from_epoch_us(max(at for _, at, _ in polls))
    since = from_epoch_us(max(at for _, at, _ in polls) - WEEK_US)
    memory = InMemoryRepository()
    async with SQLiteRepository(str(tmp_path / "r.db")) as repo:
        for backend in (memory, repo):
            await backend.add_polls(polls)
            await backend.replace_hours([("s01:1:1", hours(0, "09:00", "17:00"))])
        full = {s.store_id: s async for s in memory.snapshots(since=since, as_of=as_of)}
        thin = [s async for s in repo.snapshots(since=since, as_of=as_of)]
        assert [s.store_id for s in thin] == sorted(full)
        for snapshot in thin:
            assert_thinned(snapshot, full[snapshot.store_id])
        assert sum(len(s.poll_at_us) for s in thin) < sum(len(s.poll_at_us) for s in full.values())
        expected = compute_report(list(full.values()), as_of=as_of)
        assert compute_report(thin, as_of=as_of) == expected
        assert await build_report(repo, as_of=as_of) == expected


def _plan(sql: str, parameters: dict[str, object], tmp_path: Path) -> list[str]:
    """
    The query plan of ``sql`` on an empty database of the current schema.
    """
    connection = sqlite3.connect(tmp_path / "plan.db")
    try:
        for migration in SQL.migrations:
            for statement in sqlite.split_statements(migration.script):
                connection.execute(statement)
        return [row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, parameters)]
    finally:
        connection.close()


@pytest.mark.parametrize("name", ["snapshot_changes", "store_polls"])
def test_snapshot_changes_scans_the_primary_key_in_order(name: str, tmp_path: Path) -> None:
    """The per-store strings rely on ranges of the primary key read in order, without a sort."""
    parameters = {"since_day": 0, "as_of_day": 1, "first": "a", "last": "b", "store_id": "a"}
    plan = _plan(SQL.queries[name], parameters, tmp_path)
    assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize("name", ["claimable_report", "claim_report", "queued_reports"])
def test_the_queue_reads_its_partial_index(name: str, tmp_path: Path) -> None:
    """Looking for work reads the index of unfinished jobs, never the reports themselves."""
    parameters = {"now": 0, "until": 1, "worker_id": "w"}
    plan = _plan(SQL.queries[name], parameters, tmp_path)
    assert any("reports_unfinished" in step for step in plan), plan
    assert not any(step.startswith("SCAN reports") and "INDEX" not in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize(
    "before", [(None, None), (1, "hrQlJkJC7pYW0rGeLEZaTA")], ids=["first page", "next page"]
)
def test_the_list_of_reports_reads_only_its_covering_index(
    before: tuple[int | None, str | None], tmp_path: Path
) -> None:
    """Listing reports never reads a report's row (and so never its CSV), nor sorts."""
    parameters = {"before_at": before[0], "before_id": before[1], "limit": 10}
    plan = _plan(SQL.queries["list_reports"], parameters, tmp_path)
    assert any("COVERING INDEX reports_listed" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


def _steps(connection: sqlite3.Connection, sql: str, parameters: dict[str, object]) -> int:
    """
    How many virtual-machine steps SQLite takes to run ``sql`` to its end (about one
    progress call per step): a measure of the rows it reads that no clock disturbs.
    """
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    connection.set_progress_handler(count, 1)
    try:
        connection.execute(sql, parameters).fetchall()
    finally:
        connection.set_progress_handler(None, 1)
    return steps


def _insert_polls(connection: sqlite3.Connection, polls: list[tuple[str, int, bool]]) -> None:
    """
    Store polls as day rows, as an ingest does (each instant once).
    """
    buffer = polldays.PollBuffer()
    buffer.take(iter(polls), len(polls))
    for store_id, day, times, statuses, _last_us, distinct in buffer.drain():
        assert distinct
        stored = connection.execute(
            "SELECT times, statuses, last_us FROM poll_days WHERE store_id = ? AND day = ?",
            (store_id, day),
        ).fetchone()
        _count, row = polldays.merge_day(stored, [(times, statuses, distinct)])
        assert row is not None
        connection.execute(SQL.queries["write_poll_day"], (store_id, day, *row))


@pytest.mark.parametrize("name", ["snapshot_changes", "store_polls"])
def test_snapshot_reads_never_touch_polls_before_the_week(name: str, tmp_path: Path) -> None:
    """Eleven more weeks of polls before the week cost the report's queries no step."""
    hour = 3_600_000_000
    since = at_us("2024-03-04T00:00")
    parameters = {"since_day": since // polldays.DAY_US, "first": "s00", "last": "s19"}
    parameters["as_of_day"] = (since + WEEK_US) // polldays.DAY_US
    parameters["store_id"] = "s07"
    stores = [f"s{store:02d}" for store in range(20)]
    connection = sqlite3.connect(tmp_path / "steps.db")
    try:
        for migration in SQL.migrations:
            for statement in sqlite.split_statements(migration.script):
                connection.execute(statement)
        # The week, and the last hour before it.
        _insert_polls(
            connection,
            [(s, since + h * hour, h % 5 != 0) for s in stores for h in range(-1, 7 * 24)],
        )
        connection.commit()
        one_week = _steps(connection, SQL.queries[name], parameters)
        history = [(s, since - h * hour, h % 3 != 0) for s in stores for h in range(2, 11 * 168)]
        _insert_polls(connection, history)
        connection.commit()
        twelve_weeks = _steps(connection, SQL.queries[name], parameters)
        result = connection.execute(SQL.queries[name], parameters).fetchall()
    finally:
        connection.close()
    assert twelve_weeks <= one_week * 1.02, (one_week, twelve_weeks)
    assert result  # the week was read
