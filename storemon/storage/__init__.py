"""
Storage backends, chosen by URL and imported only when asked for.

Every backend implements the whole ``storemon.repository.Repository``; what the two SQL
backends share is written once, in ``sqlfiles`` (named queries, migrations) and ``rows``
(rows to model values).

=============================  ==========================================================
``memory://``                  ``storemon.storage.memory`` (nothing persists)
``sqlite:///relative/path.db``  SQLite file, path relative to the working directory
``sqlite:////abs/path.db``      SQLite file, absolute path
``postgresql://...``           PostgreSQL (``storemon.storage.postgres``, the [postgres] extra)
=============================  ==========================================================

``open_repository(url)`` is an async context manager yielding a ``Repository``; without a
URL it reads ``STOREMON_DB`` and falls back to ``sqlite:///storemon.db``. Commands that
only read (``storemon report --db``) open with ``create=False``: a database that is not
there is refused (``DatabaseNotFound``) instead of created empty.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from storemon.errors import BackendUnavailable

if TYPE_CHECKING:
    from storemon.repository import Repository

#: The database when neither ``--db`` nor ``STOREMON_DB`` names one.
DEFAULT_URL = "sqlite:///storemon.db"

#: The environment variable naming the database URL.
URL_ENV = "STOREMON_DB"


def default_url(environ: Mapping[str, str] | None = None) -> str:
    """
    Return ``STOREMON_DB`` from ``environ`` (default ``os.environ``), else ``DEFAULT_URL``.
    """
    environ = os.environ if environ is None else environ
    return environ.get(URL_ENV) or DEFAULT_URL


def scheme_of(url: str) -> str:
    """
    Return the lower-case scheme of a database URL.

    Raises:
        BackendUnavailable: the URL has no ``scheme://``.
    """
    scheme, separator, _ = url.partition("://")
    if not separator or not scheme:
        raise BackendUnavailable(
            f"{url!r} is not a database URL; expected memory://, sqlite:///PATH or postgresql://..."
        )
    return scheme.lower()


def sqlite_path(url: str) -> str:
    """
    Return the file path of a ``sqlite:///PATH`` URL (``sqlite:////abs`` for absolute).

    Raises:
        BackendUnavailable: the URL has no path or is not a SQLite URL.
    """
    prefix = "sqlite:///"
    if not url.lower().startswith(prefix) or len(url) == len(prefix):
        raise BackendUnavailable(
            f"{url!r}: a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    path = url[len(prefix) :]
    if path == ":memory:" or path.startswith("file:"):
        raise BackendUnavailable(
            f"{url!r}: SQLite needs a file (readers use their own connections); "
            "use memory:// for a database in memory"
        )
    return path


def _postgres_module() -> object:
    if importlib.util.find_spec("storemon.storage.postgres") is None:
        raise BackendUnavailable(
            "the PostgreSQL backend is not part of this version of storemon; "
            "use sqlite:///PATH or memory://"
        )
    if importlib.util.find_spec("asyncpg") is None:
        raise BackendUnavailable(
            "the PostgreSQL backend needs asyncpg: pip install 'storemon[postgres]'"
        )
    return importlib.import_module("storemon.storage.postgres")


@contextlib.asynccontextmanager
async def open_repository(
    url: str | None = None, *, create: bool = True
) -> AsyncIterator[Repository]:
    """
    Open the backend that serves ``url`` and close it on exit.

    Args:
        url: The database URL; by default ``STOREMON_DB`` or ``DEFAULT_URL``.
        create: Create the database (a SQLite file, a PostgreSQL schema) when it is not
            there. With ``False`` a missing database is refused and nothing is created;
            ``memory://`` is new and empty either way.

    Raises:
        BackendUnavailable: unknown scheme, malformed URL, or the backend's extra missing.
        DatabaseNotFound: ``create`` is false and there is no storemon database at ``url``.
        StorageError: the database cannot be opened or migrated.
    """
    url = default_url() if url is None else url
    scheme = scheme_of(url)
    if scheme == "memory":
        from storemon.storage.memory import InMemoryRepository

        async with InMemoryRepository() as memory:
            yield memory
    elif scheme == "sqlite":
        from storemon.storage.sqlite import SQLiteRepository

        async with SQLiteRepository(sqlite_path(url), create=create) as sqlite:
            yield sqlite
    elif scheme in ("postgresql", "postgres"):
        module = _postgres_module()
        async with module.open_repository(url, create=create) as postgres:  # type: ignore[attr-defined]
            yield postgres
    else:
        raise BackendUnavailable(
            f"no storage backend for {scheme}:// URLs; use memory://, sqlite:///PATH "
            "or postgresql://..."
        )
