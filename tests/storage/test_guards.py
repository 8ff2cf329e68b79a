"""
What no stored content may do, on every backend: lose an accepted store id, or make a
report fail. A bad file is refused row by row before it is stored; what an older version
or a hand stored anyway leaves its store out of the report, which goes on.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from storemon.errors import StorageError
from storemon.ingest import ingest
from storemon.repository import Repository
from storemon.service import build_csv_report
from storemon.storage import sqlite_path
from tests.postgres import support as postgres

from .conftest import at_us, hours, utc

NUL_FILE = (
    b"store_id,status,timestamp_utc\n"
    b"adv\x00nul,active,2023-01-25 17:00:00 UTC\n"
    b"good,active,2023-01-25 17:00:00 UTC\n"
)

#: Valid ids that CSV writers, SQL and JSON get wrong when they are careless.
NASTY_IDS = [
    'with "quotes"',
    "with,commas",
    '"a,b",c',
    "unicode é 店 🏪",
    "x" * 128,
    "9222367421889482050",
    "back\\slash",
    "it's",
    "  inner  spaces  ",
]


async def test_a_nul_store_id_is_rejected_and_reports_still_run(
    repo: Repository, tmp_path: Path
) -> None:
    """The NUL row is rejected with file, line and column; the good row stored; reports run."""
    path = tmp_path / "status.csv"
    path.write_bytes(NUL_FILE)
    [summary] = await ingest(repo, status=str(path))
    [rejected] = summary.rejects
    assert (rejected.source, rejected.line, rejected.column) == (str(path), 2, "store_id")
    assert "control character (U+0000 at position 4)" in rejected.reason
    assert summary.stored == 1
    report = await build_csv_report(repo)
    assert report.csv.splitlines()[1:] == ["good,60.00,24.00,168.00,0.00,0.00,0.00"]
    assert report.skipped == ()
    more = tmp_path / "more.csv"
    more.write_bytes(b"store_id,status,timestamp_utc\nlater,active,2023-01-25 18:00:00 UTC\n")
    await ingest(repo, status=str(more))
    assert len((await build_csv_report(repo)).csv.splitlines()) == 3


async def test_nasty_valid_ids_come_back_byte_for_byte(repo: Repository) -> None:
    """Quotes, commas, unicode and 128 characters survive polls, hours, zones and the CSV."""
    instant = at_us("2024-01-01T10:00")
    await repo.add_polls([(store_id, instant, True) for store_id in NASTY_IDS])
    await repo.replace_hours([(store_id, hours(0, "09:00", "17:00")) for store_id in NASTY_IDS])
    await repo.replace_zones([(store_id, "Asia/Kolkata") for store_id in NASTY_IDS])
    snapshots = [
        snapshot
        async for snapshot in repo.snapshots(
            since=utc("2023-12-25T10:00"), as_of=utc("2024-01-01T10:00")
        )
    ]
    assert sorted(snapshot.store_id for snapshot in snapshots) == sorted(NASTY_IDS)
    assert all(snapshot.zone_key == "Asia/Kolkata" for snapshot in snapshots)
    assert all(snapshot.hours == (hours(0, "09:00", "17:00"),) for snapshot in snapshots)
    assert sorted(store_id for store_id, _ in await repo.zone_rows()) == sorted(NASTY_IDS)
    report = await build_csv_report(repo)
    written = [row[0] for row in csv.reader(io.StringIO(report.csv))][1:]
    assert written == sorted(NASTY_IDS)
    snapshot = await repo.snapshot(
        NASTY_IDS[0], since=utc("2023-12-25T10:00"), as_of=utc("2024-01-01T10:00")
    )
    assert snapshot is not None
    assert snapshot.store_id == NASTY_IDS[0]


async def _put_bad_hours_row(url: str, store_id: str) -> None:
    """
    Store a business-hours row no file can hold (day 9), as a hand would.
    """
    values = f"VALUES ('{store_id}', 9, 0, 3600000000)"
    if url.startswith("sqlite"):
        connection = sqlite3.connect(sqlite_path(url))
        with connection:
            connection.execute(f"INSERT INTO hours {values}")
        connection.close()
    else:
        schema = url.rsplit("schema=", 1)[1]
        await postgres._execute(postgres.base_url(), f'INSERT INTO "{schema}".hours {values}')


async def test_unreadable_stored_rows_leave_their_store_out(
    repo: Repository, backend_url: str
) -> None:
    """An unknown zone, a day-9 hours row or a NUL id stored anyway skip one store each."""
    instant = at_us("2024-01-01T10:00")
    await repo.add_polls([(store_id, instant, True) for store_id in ("a", "zone", "hours")])
    await repo.replace_zones([("zone", "Moon/Tranquility"), ("a", "localtime")])
    expected = {"zone": "unknown time zone 'Moon/Tranquility'", "a": "not an IANA zone name"}
    if not backend_url.startswith("memory"):  # memory holds rows as validated values
        await _put_bad_hours_row(backend_url, "hours")
        expected["hours"] = "(day 9, 0, 3600000000)"
    if backend_url.startswith("postgres"):  # PostgreSQL refuses a NUL in text
        with pytest.raises(StorageError):
            await repo.add_polls([("n\x00ul", instant, True)])
    else:
        await repo.add_polls([("n\x00ul", instant, True)])
        expected["n\x00ul"] = "control character (U+0000 at position 2)"
    report = await build_csv_report(repo)
    skipped = {item.store_id: item.reason for item in report.skipped}
    assert sorted(skipped) == sorted(expected)
    for store_id, reason in expected.items():
        assert reason in skipped[store_id]
    reported = [line.split(",")[0] for line in report.csv.splitlines()[1:]]
    assert reported == sorted({"a", "zone", "hours"} - set(expected))
