"""
SQLite's ``report_snapshots``: one row per store from SQL, the same report as ``snapshots``.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from storemon.model import WEEK_US, from_epoch_us
from storemon.report import compute_report
from storemon.service import build_report
from storemon.storage import sqlite
from storemon.storage.sqlite import SQLiteRepository, queries

from .conftest import at_us, hours


async def test_report_snapshots_give_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thinned snapshots (odd ids, a store polled before 1970) report what full ones do."""
    monkeypatch.setattr(sqlite, "CHANGE_STORES", 7)  # several ranges
    rng = random.Random(5)
    start = at_us("2024-01-01T00:00")
    polls = []
    for store in range(30):
        at = start - rng.randrange(3 * WEEK_US)
        for _ in range(rng.randrange(1, 80)):
            at += rng.randrange(1, 4 * 3_600_000_000)
            polls.append((f"s{store:02d}:1:{store}", at, rng.random() < 0.8))
    polls.append(("old", -5_000_000, True))  # 1969: not 19 digits wide, read row by row
    rng.shuffle(polls)
    as_of = from_epoch_us(max(at for _, at, _ in polls))
    since = from_epoch_us(max(at for _, at, _ in polls) - WEEK_US)
    async with SQLiteRepository(str(tmp_path / "r.db")) as repo:
        await repo.add_polls(polls)
        await repo.replace_hours([("s01:1:1", hours(0, "09:00", "17:00"))])
        full = [s async for s in repo.snapshots(since=since, as_of=as_of)]
        thin = [s async for s in repo.report_snapshots(since=since, as_of=as_of)]
        assert [s.store_id for s in thin] == [s.store_id for s in full]
        assert "old" in {s.store_id for s in thin}
        assert sum(len(s.poll_at_us) for s in thin) < sum(len(s.poll_at_us) for s in full)
        expected = compute_report(full, as_of=as_of)
        assert compute_report(thin, as_of=as_of) == expected
        assert await build_report(repo, as_of=as_of) == expected


def test_snapshot_changes_scans_the_primary_key_in_order(tmp_path: Path) -> None:
    """The per-store strings rely on a GROUP BY read in key order, without a sort."""
    connection = sqlite3.connect(tmp_path / "plan.db")
    connection.execute(
        "CREATE TABLE polls (store_id TEXT NOT NULL, at_us INTEGER NOT NULL,"
        " active INTEGER NOT NULL, PRIMARY KEY (store_id, at_us)) WITHOUT ROWID"
    )
    plan = [
        row[3]
        for row in connection.execute(
            "EXPLAIN QUERY PLAN " + queries()["snapshot_changes"],
            {"since": 0, "as_of": 1, "first": "a", "last": "b"},
        )
    ]
    connection.close()
    assert not any("TEMP B-TREE" in step for step in plan), plan
