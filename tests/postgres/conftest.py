"""
PostgreSQL fixtures: a fresh schema per test in the test server, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from .support import drop_schema, fresh_url

if TYPE_CHECKING:
    from storemon.storage.postgres import PostgresRepository

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    """
    The URL of a new schema of its own (skips, or fails in CI, without a server).
    """
    url = fresh_url()
    yield url
    drop_schema(url)


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[PostgresRepository]:
    """
    An open repository on a new schema.
    """
    from storemon.storage.postgres import PostgresRepository  # needs asyncpg

    async with PostgresRepository(pg_url) as repository:
        yield repository
