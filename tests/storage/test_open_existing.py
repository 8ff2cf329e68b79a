"""
Opening a database only to read it (``open_repository(url, create=False)``) never creates
one: a missing SQLite file or PostgreSQL schema is refused and stays missing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storemon.errors import DatabaseNotFound
from storemon.storage import open_repository
from tests.postgres import support as postgres


def files_in(folder: Path) -> list[str]:
    return sorted(item.name for item in folder.iterdir())


def read(path: Path) -> bytes:
    return path.read_bytes()


async def test_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path) -> None:
    """A SQLite URL naming no file is DatabaseNotFound, and no file (nor WAL) appears."""
    with pytest.raises(DatabaseNotFound, match="no such database file"):
        async with open_repository(f"sqlite:///{tmp_path}/missing.db", create=False):
            pass
    assert files_in(tmp_path) == []


async def test_sqlite_file_without_tables_is_refused_unchanged(tmp_path: Path) -> None:
    """A SQLite file that is not a storemon database is refused and left as it was."""
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (text)")
    connection.commit()
    connection.close()
    before = read(path)
    with pytest.raises(DatabaseNotFound, match="not a storemon database"):
        async with open_repository(f"sqlite:///{path}", create=False):
            pass
    assert files_in(tmp_path) == ["other.db"]
    assert read(path) == before


async def test_existing_sqlite_database_opens_for_reading(tmp_path: Path) -> None:
    """A database made by an earlier open is read with create=False."""
    url = f"sqlite:///{tmp_path}/made.db"
    async with open_repository(url) as repository:
        await repository.add_polls([("s", 1_000_000, True)])
    async with open_repository(url, create=False) as repository:
        assert await repository.latest_poll_at() is not None


async def test_memory_opens_either_way() -> None:
    """memory:// is a new, empty database whether or not it may be created."""
    async with open_repository("memory://", create=False) as repository:
        assert await repository.latest_poll_at() is None


@pytest.mark.postgres
async def test_missing_postgres_schema_is_refused_and_not_created() -> None:
    """A PostgreSQL schema without storemon's tables is refused and still does not exist."""
    postgres.require_postgres()
    url = postgres.fresh_url()
    try:
        with pytest.raises(DatabaseNotFound, match="has no storemon tables"):
            async with open_repository(url, create=False):
                pass
        schema = url.rpartition("schema=")[2]
        found = await postgres._execute(
            postgres.base_url(),
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            schema,
        )
        assert found[0][0] == 0
        async with open_repository(url):
            pass
        async with open_repository(url, create=False) as repository:
            assert await repository.latest_poll_at() is None
    finally:
        postgres.drop_schema(url)
