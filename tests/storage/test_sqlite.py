"""
SQLite specifics: URLs, migrations from the first released schema, pragmas, error translation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon.errors import BackendUnavailable, StorageError
from storemon.model import Rejected, ReportStatus
from storemon.service import build_csv_report, build_report
from storemon.storage import default_url, open_repository, scheme_of, sqlite_path
from storemon.storage import sqlite as sqlite_backend
from storemon.storage.memory import InMemoryRepository
from storemon.storage.sqlite import SQL, SQLiteRepository, split_statements

from .conftest import at_us, hours, utc

V1_SCHEMA = Path(__file__).parent / "data" / "sqlite_schema_v1.sql"
V2_SCHEMA = Path(__file__).parent / "data" / "sqlite_schema_v2.sql"


def _frozen_database(path: Path, schema: Path, version: int) -> sqlite3.Connection:
    """
    A new database made by a frozen schema file, at its version, open for rows.
    """
    connection = sqlite3.connect(path)
    for statement in split_statements(schema.read_text(encoding="utf-8")):
        connection.execute(statement)
    connection.execute(f"PRAGMA user_version = {version:d}")
    return connection


def _make_v1_database(path: Path) -> None:
    connection = _frozen_database(path, V1_SCHEMA, 1)
    with connection:
        connection.executemany(
            "INSERT INTO polls VALUES (?, ?, ?)",
            [("s1", at_us("2024-01-01T10:00"), 1), ("s1", at_us("2024-01-01T11:00"), 0)],
        )
        connection.execute("INSERT INTO hours VALUES ('s1', 0, 32400000000, 86400000000)")
        connection.execute("INSERT INTO zones VALUES ('s1', 'Asia/Kolkata')")
        connection.execute(
            "INSERT INTO reports VALUES ('r1', 'Complete', NULL, 1, 2, 'store_id\n', NULL)"
        )
    connection.close()


def _user_version(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])
    finally:
        connection.close()


async def test_version_1_database_opens_and_upgrades(tmp_path: Path) -> None:
    """A database of the first released schema opens, upgrades, and keeps its data."""
    path = tmp_path / "old.db"
    _make_v1_database(path)
    async with open_repository(f"sqlite:///{path}") as repo:
        assert (await repo.get_report("r1")).csv == "store_id\n"
        assert await repo.hours_rows() == [("s1", hours(0, "09:00", "24:00"))]
        assert await repo.source_state("status", "x") is None  # version 2 tables exist
        await repo.add_rejects([], ingested_at=utc("2024-01-01T00:00"))
        report = await build_report(repo)
    memory = InMemoryRepository()
    await memory.add_polls([("s1", at_us("2024-01-01T10:00"), True)])
    await memory.add_polls([("s1", at_us("2024-01-01T11:00"), False)])
    await memory.replace_hours([("s1", hours(0, "09:00", "24:00"))])
    await memory.replace_zones([("s1", "Asia/Kolkata")])
    assert report == await build_report(memory)
    assert _user_version(path) == SQL.version >= 3


def _make_v2_database(path: Path) -> None:
    connection = _frozen_database(path, V2_SCHEMA, 2)
    with connection:
        connection.execute("INSERT INTO polls VALUES ('s1', ?, 1)", (at_us("2024-01-01T10:00"),))
        connection.executemany(
            "INSERT INTO reports (report_id, status, as_of, created_at, finished_at, csv)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("done", "Complete", 5, 1, 2, "store_id,uptime\na,1\nb,2\n"),
                ("running", "Running", 5, 3, None, None),
                ("pending", "Pending", 5, 4, None, None),
            ],
        )
        connection.execute(
            "INSERT INTO rejects VALUES ('a.csv', 3, 'status', 'bad status', 'x,y,z', 7)"
        )
        connection.execute(
            "INSERT INTO source_state (kind, source, size, content_hash, offset_bytes,"
            " prefix_hash, lines, ingested_at) VALUES ('status', 'a.csv', 9, 'c', 9, 'p', 2, 7)"
        )
    connection.close()


async def test_version_2_database_opens_and_upgrades(tmp_path: Path) -> None:
    """A database of version 2 upgrades to the queue's schema and keeps jobs, rows and state."""
    path = tmp_path / "v2.db"
    _make_v2_database(path)
    async with open_repository(f"sqlite:///{path}") as repo:
        assert _user_version(path) == SQL.version >= 3
        assert await repo.latest_poll_at() == utc("2024-01-01T10:00")
        assert await repo.rejects() == [Rejected("a.csv", 3, "status", "bad status", "x,y,z")]
        assert (await repo.source_state("status", "a.csv")).size == 9  # type: ignore[union-attr]
        listed = await repo.list_reports(10)
        assert [(job.report_id, job.rows) for job in listed] == [
            ("pending", None),
            ("running", None),
            ("done", 2),  # counted by the migration from the stored CSV
        ]
        # A job Running before leases existed has no holder: it is claimed at once.
        lease = dt.timedelta(seconds=60)
        assert (await repo.claim_report("w", lease=lease)).report_id == "running"  # type: ignore[union-attr]
        assert (await repo.claim_report("w", lease=lease)).report_id == "pending"  # type: ignore[union-attr]
        assert await repo.claim_report("w", lease=lease) is None
        assert (await repo.get_report("done")).status == ReportStatus.COMPLETE
        assert await repo.claim_refresh(dt.timedelta(hours=1))


async def test_rows_an_older_version_stored_never_fail_a_report(tmp_path: Path) -> None:
    """A NUL id, a 'localtime' zone and a day-9 row of a v2 database skip their stores only."""
    path = tmp_path / "v2.db"
    connection = _frozen_database(path, V2_SCHEMA, 2)
    instant = at_us("2024-01-01T10:00")
    with connection:
        connection.executemany(
            "INSERT INTO polls VALUES (?, ?, 1)",
            [(store_id, instant) for store_id in ("adv\x00nul", "good", "hand", "host", "zz")],
        )
        connection.execute("INSERT INTO zones VALUES ('host', 'localtime')")
        connection.execute("INSERT INTO hours VALUES ('hand', 9, 0, 3600000000)")
    connection.close()
    async with open_repository(f"sqlite:///{path}") as repo:
        report = await build_csv_report(repo)
    assert [line.split(",")[0] for line in report.csv.splitlines()] == ["store_id", "good", "zz"]
    assert [item.store_id for item in report.skipped] == ["adv\x00nul", "hand", "host"]


async def test_new_database_is_at_the_latest_version_in_wal_mode(tmp_path: Path) -> None:
    """A new database gets the latest schema version and WAL journaling."""
    path = tmp_path / "new.db"
    async with open_repository(f"sqlite:///{path}"):
        pass
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()
    assert _user_version(path) == SQL.version
    async with open_repository(f"sqlite:///{path}"):  # opening again migrates nothing
        pass
    assert _user_version(path) == SQL.version


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database from a newer storemon is refused with a clear message, untouched."""
    path = tmp_path / "future.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(StorageError, match="schema version 99, newer"):
        async with open_repository(f"sqlite:///{path}"):
            pass
    assert _user_version(path) == 99


async def test_driver_errors_become_storage_errors(tmp_path: Path) -> None:
    """A file that is not a database fails with StorageError naming it, the cause chained."""
    path = tmp_path / "not.db"
    path.write_bytes(b"this is not a database, just some text" * 100)
    with pytest.raises(StorageError, match="not a database") as caught:
        async with open_repository(f"sqlite:///{path}"):
            pass
    assert isinstance(caught.value.__cause__, sqlite3.Error)


async def test_missing_folder_is_a_storage_error(tmp_path: Path) -> None:
    """A database path in a folder that does not exist fails with StorageError."""
    with pytest.raises(StorageError, match="open"):
        async with open_repository(f"sqlite:///{tmp_path}/no/such/dir/x.db"):
            pass


async def test_using_a_closed_repository_is_an_error(tmp_path: Path) -> None:
    """Calls on a repository outside its 'async with' fail with StorageError."""
    repo = SQLiteRepository(str(tmp_path / "x.db"))
    with pytest.raises(StorageError, match="not open"):
        await repo.add_polls([("a", 1, True)])


async def test_report_reads_one_snapshot_while_a_write_commits(tmp_path: Path) -> None:
    """A snapshot stream keeps seeing the data as of its start while another write commits."""
    async with open_repository(f"sqlite:///{tmp_path}/x.db") as repo:
        stores = [f"s{index:05d}" for index in range(3000)]
        await repo.add_polls([(store, at_us("2024-01-01T00:00"), True) for store in stores])
        stream = repo.snapshots(since=utc("2023-12-25T00:00"), as_of=utc("2024-01-02T00:00"))
        first = await anext(stream)
        await repo.add_polls([(store, at_us("2024-01-01T01:00"), False) for store in stores])
        await repo.add_polls([("zzz-new", at_us("2024-01-01T00:00"), True)])
        rest = [snapshot async for snapshot in stream]
        assert first.store_id == "s00000"
        assert len(rest) == len(stores) - 1
        assert all(list(snapshot.poll_active) == [True] for snapshot in rest)
        after = [s async for s in repo.snapshots(since=utc("2023-12-25"), as_of=utc("2024-01-02"))]
        assert len(after) == len(stores) + 1


async def test_open_and_report_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    """Opening an up-to-date database and reading from it never wait for a writer."""
    url = f"sqlite:///{tmp_path}/x.db"
    async with open_repository(url) as repo:
        await repo.add_polls([("a", at_us("2024-01-01T00:00"), True)])
    writer = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO poll_days VALUES ('uncommitted', 0, '0000000000000001', '1', 1)")
    try:
        async with asyncio.timeout(5), open_repository(url) as repo:
            report = await build_report(repo)
            assert await repo.latest_poll_at() == utc("2024-01-01T00:00")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert [row.store_id for row in report.rows] == ["a"]


def test_database_urls() -> None:
    """URLs name their backend; SQLite paths are relative with three slashes, absolute with four."""
    assert sqlite_path("sqlite:///data/x.db") == "data/x.db"
    assert sqlite_path("sqlite:////tmp/x.db") == "/tmp/x.db"
    assert scheme_of("PostgreSQL://h/db") == "postgresql"
    assert default_url({}) == "sqlite:///storemon.db"
    assert default_url({"STOREMON_DB": "memory://"}) == "memory://"
    for bad in ("sqlite://", "sqlite:///", "sqlite:///:memory:", "nonsense"):
        with pytest.raises(BackendUnavailable):
            sqlite_path(bad) if bad.startswith("sqlite") else scheme_of(bad)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://localhost/x", "no storage backend for mysql://"),
        ("postgresql://localhost/x?schema=Not-A-Name", "PostgreSQL schema"),
        ("just-a-path.db", "not a database URL"),
    ],
)
async def test_unavailable_backends_are_refused(url: str, message: str) -> None:
    """Unknown schemes, non-URLs and a malformed PostgreSQL URL raise BackendUnavailable."""
    with pytest.raises(BackendUnavailable, match=message):
        async with open_repository(url):
            pass


async def test_default_url_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without a URL, open_repository uses STOREMON_DB."""
    monkeypatch.setenv("STOREMON_DB", f"sqlite:///{tmp_path}/env.db")
    async with open_repository() as repo:
        await repo.add_polls([("a", 1, True)])
    assert (tmp_path / "env.db").is_file()


@given(
    steps=st.lists(st.integers(min_value=1, max_value=2**40), min_size=0, max_size=60),
    first=st.integers(min_value=-(2**45), max_value=2**60),
    max_gap_us=st.one_of(
        st.integers(min_value=1, max_value=2**41), st.integers(min_value=2**61, max_value=2**63)
    ),
)
def test_gaps_found_on_packed_lanes_are_every_step_over_the_gap(
    steps: list[int], first: int, max_gap_us: int
) -> None:
    """
    The gaps the SQLite reader finds on the instants packed in one integer are exactly
    the consecutive pairs further apart than the gap, counted one by one: instants before
    1970 and huge gaps (the step-by-step fallback) included.
    """
    instants = list(itertools.accumulate(steps, initial=first))
    packed = b"".join(instant.to_bytes(8, "big", signed=True) for instant in instants)
    expected = [i for i in range(len(instants) - 1) if instants[i + 1] - instants[i] > max_gap_us]
    assert sqlite_backend._gaps_over(packed, instants, max_gap_us) == expected


#: Report bounds that take every poll from 1970 to 2286.
_EVERY_INSTANT = {"since": 0, "as_of": 10**16}


@pytest.mark.parametrize("times", ["000000000000000g", "00000000 0000000", "+000000000000001"])
def test_the_gap_reader_refuses_times_that_are_not_hexadecimal(times: str) -> None:
    """
    A store whose times are not 16 hexadecimal digits each is refused (and then read row
    by row), never read as other instants.
    """
    with pytest.raises(ValueError, match=r"hexadecimal|whitespace"):
        sqlite_backend._kept(times, "1", _EVERY_INSTANT, 7_200_000_000)


def test_the_gap_reader_reads_hexadecimal_times() -> None:
    """Two polls three hours apart, one status: both kept, the gap between them."""
    times = f"{3_600_000_000:016x}{3 * 3_600_000_000 + 3_600_000_000:016x}"
    assert sqlite_backend._kept(times, "11", _EVERY_INSTANT, 7_200_000_000) == (
        [3_600_000_000, 14_400_000_000],
        [True, True],
        (0,),
    )
