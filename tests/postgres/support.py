"""
The PostgreSQL the tests use: its URL, whether it answers, and throwaway schemas in it.

``STOREMON_TEST_POSTGRES_URL`` names the server (default: the local one, database
``test``). Each test gets a schema of its own with a random name and drops only that.
When the server does not answer, the tests skip with the reason, or fail when
``STOREMON_REQUIRE_POSTGRES`` is set (as ``.ci/run`` does).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

TEST_URL_ENV = "STOREMON_TEST_POSTGRES_URL"
DEFAULT_TEST_URL = "postgresql://postgres@127.0.0.1:5432/test"
REQUIRE_ENV = "STOREMON_REQUIRE_POSTGRES"

T = TypeVar("T")


def base_url() -> str:
    """
    The URL of the test server's database, without a schema.
    """
    return os.environ.get(TEST_URL_ENV) or DEFAULT_TEST_URL


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """
    Run a coroutine to completion in a thread of its own (callable from async tests too).
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()  # type: ignore[arg-type]


async def _execute(url: str, sql: str, *args: Any) -> Any:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=5)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


@functools.cache
def unavailable_reason() -> str | None:
    """
    Why the test server cannot be used, or ``None`` when it answers.
    """
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[postgres]')"
    try:
        run_sync(lambda: _execute(base_url(), "SELECT 1"))
    except Exception as error:
        return f"no PostgreSQL at {base_url()} (set {TEST_URL_ENV}): {error}"
    return None


def require_postgres() -> None:
    """
    Skip the test without a server, or fail it when ``STOREMON_REQUIRE_POSTGRES`` is set.
    """
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{REQUIRE_ENV} is set but {reason}")
    pytest.skip(reason)


def new_schema() -> str:
    """
    A fresh schema name nobody else uses.
    """
    return f"storemon_test_{secrets.token_hex(6)}"


def schema_url(schema: str, url: str | None = None) -> str:
    """
    The URL of ``schema`` in the test database.
    """
    url = url or base_url()
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def fresh_url() -> str:
    """
    The URL of a new schema (created on first open); skip or fail without a server.
    """
    require_postgres()
    return schema_url(new_schema())


def drop_schema(url: str) -> None:
    """
    Drop the schema named in ``url`` (one this run created), and nothing else.
    """
    schema = url.rsplit("schema=", 1)[1]
    assert schema.startswith("storemon_test_"), schema
    run_sync(lambda: _execute(base_url(), f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
